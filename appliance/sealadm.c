/*
 * sealadm — the console administrator's tool. This version speaks the
 * monitor's admin socket with one subcommand per action:
 *
 *   sealadm [--config F | --socket S] status
 *   sealadm ... unseal --share-file F|-
 *   sealadm ... seal create --name N --type T --key K --image stamp.png --unit U [--id ID]
 *   sealadm ... principal add --cert client.pem --name N [--may-act-for PERSON]...
 *                 [--kind person|application] [--unit U] [--role ROLE[@UNIT]]...
 *   sealadm ... grant add --seal ID --principal N [--doc-types A,B] [--per-day N]
 *                 [--per-month N] [--from ISO] [--to ISO] [--hours 09-18]
 *                 [--days mon-fri] [--approval K:GROUP] [--confirm none|totp]
 *                 [--apps APP,APP] [--on-sensitive block|approval]
 *   sealadm ... unit add --id ID --name N --parent P
 *   sealadm ... role assign --principal N --role R [--unit U]
 *   sealadm ... role list
 *   sealadm ... words add --word TEXT [--category C]
 *   sealadm ... words list
 *   sealadm ... words remove --id w-N
 *
 *   sealadm ... [menu]            the interactive console menu (no command: the same)
 *   sealadm ... login --user U --passphrase-fd N     prints a session token
 *   sealadm ... logout --session-fd N
 *   sealadm ... admin add --user U --role R --passphrase-fd N [--session-fd M]
 *
 * It never opens LMDB or the HSM: everything goes through the admin socket.
 * A share or a passphrase is read into secret memory and sent in a message
 * whose buffer is wiped; it is never echoed, never in argv. The other
 * subcommands need no login yet (docs/admin-guide.md, "Not there yet").
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../daemon/msg.h"
#include "../lib/config.h"
#include "../lib/err.h"
#include "../lib/secret.h"

#define FILE_MAX (1024 * 1024)

struct opts {
	const char *config, *socket, *share_file, *name, *type, *key, *image, *unit, *id;
	const char *cert, *seal, *principal;
	const char *act_for[MSG_ACT_FOR_MAX];	/* --may-act-for, in order */
	size_t n_act_for;
	int act_for_over;			/* more were given than fit */
	const char *kind, *parent;
	const char *roles[MSG_ROLES_MAX];	/* --role, in order */
	size_t n_roles;
	int roles_over;
	/* grant add's conditions */
	const char *doc_types, *per_day, *per_month, *from, *to, *hours, *days, *approval;
	const char *confirm, *apps;
	/* the sensitive-word library */
	const char *word, *category, *on_sensitive;
	/* console accounts */
	const char *user, *pass_fd, *session_fd;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sealadm [--config FILE | --socket PATH] COMMAND\n"
	    "  status\n"
	    "  unseal --share-file FILE|-\n"
	    "  seal create --name NAME --type TYPE --key KEYTYPE --image PNG --unit UNIT [--id ID]\n"
	    "  principal add --cert PEM --name NAME [--may-act-for PERSON]...\n"
	    "      [--kind person|application] [--unit UNIT] [--role ROLE[@UNIT]]...\n"
	    "      (PERSON: a principal name NAME may sign on behalf of; at most %d.\n"
	    "       ROLE over the subtree of UNIT, default the principal's unit; at most %d;\n"
	    "       no --role: requester. --unit: default the root unit, \"group\")\n"
	    "  grant add --seal ID --principal NAME [--doc-types TYPE,...] [--per-day N]\n"
	    "      [--per-month N] [--from ISO] [--to ISO] [--hours HH-HH[,..]]\n"
	    "      [--days mon-fri[,..]] [--approval K:GROUP] [--confirm none|totp]\n"
	    "      [--apps APP,...] [--on-sensitive block|approval]\n"
	    "      (times and hours in UTC; every condition optional; --on-sensitive: what a\n"
	    "       sensitive word in a text document does, default block)\n"
	    "  unit add --id ID --name NAME --parent UNIT\n"
	    "  role assign --principal NAME --role ROLE [--unit UNIT]\n"
	    "      (ROLE over the subtree of UNIT, default the principal's unit)\n"
	    "  role list\n"
	    "  words add --word TEXT [--category C]   (the sensitive-word library)\n"
	    "  words list\n"
	    "  words remove --id w-N\n"
	    "  menu                      (also: no command) the interactive console menu\n"
	    "  login --user NAME --passphrase-fd N    (prints a session token)\n"
	    "  logout --session-fd N\n"
	    "  admin add --user NAME --role sysadmin|secadmin|auditor --passphrase-fd N\n"
	    "      [--session-fd N]      (no session: only the first account, a secadmin)\n",
	    MSG_ACT_FOR_MAX, MSG_ROLES_MAX);
}

static int
connect_admin(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "sealadm: socket path too long\n");
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "sealadm: cannot reach seald at %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send m, print the reply; the exit status. */
static int
exchange(const char *sock, struct ipc_msg *m, int (*show)(json_t *))
{
	struct msg_reply r;
	struct ipc_msg in;
	json_t *j, *e;
	int fd, rc = 1;

	if ((fd = connect_admin(sock)) < 0)
		return 1;
	if (ipc_send(fd, m) != 0 || ipc_recv(fd, &in) != 0) {
		fprintf(stderr, "sealadm: seald closed the admin connection\n");
		close(fd);
		return 1;
	}
	close(fd);
	if (in.type != MSG_REPLY || msg_reply_dec(&in, &r) != 0) {
		fprintf(stderr, "sealadm: malformed reply from seald\n");
		ipc_msg_free(&in);
		return 1;
	}
	j = json_loadb((const char *)r.body, r.body_len, 0, NULL);
	if (j == NULL)
		fprintf(stderr, "sealadm: reply is not JSON\n");
	else if ((e = json_object_get(j, "error")) != NULL)
		fprintf(stderr, "sealadm: %s: %s\n",
		    json_string_value(json_object_get(e, "code")),
		    json_string_value(json_object_get(e, "message")));
	else
		rc = show(j);
	json_decref(j);
	ipc_msg_free(&in);
	return rc;
}

static int
show_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
	return 0;
}

static int
show_unseal(json_t *j)
{
	const char *st = json_string_value(json_object_get(j, "state"));

	if (st != NULL && strcmp(st, "ready") == 0)
		printf("unsealed: the appliance is ready\n");
	else
		printf("share accepted: %lld of %lld\n",
		    (long long)json_integer_value(json_object_get(j, "have")),
		    (long long)json_integer_value(json_object_get(j, "need")));
	return 0;
}

/* Read a whole file (at most max bytes) into malloc'd or secret memory. */
static int
read_file(const char *path, size_t max, int secret, uint8_t **out, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *b;
	ssize_t r;
	size_t n = 0;

	if (fd < 0) {
		fprintf(stderr, "sealadm: %s: %s\n", path, strerror(errno));
		return -1;
	}
	b = secret ? secret_alloc(max + 1) : malloc(max + 1);
	while (b != NULL && n < max && (r = read(fd, b + n, max - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (b == NULL || n >= max) {
		fprintf(stderr, "sealadm: %s: unreadable or larger than %zu bytes\n", path, max);
		if (secret)
			secret_free(&b);
		else
			free(b);
		return -1;
	}
	b[n] = 0;
	*out = b;
	*len = n;
	return 0;
}

static int
cmd_unseal(const struct opts *o)
{
	struct adm_unseal *v = secret_alloc(sizeof(*v));
	struct ipc_msg m;
	uint8_t *text = NULL;
	size_t len, i;
	char *line;
	int rc = 1;

	if (o->share_file == NULL || v == NULL) {
		fprintf(stderr, "sealadm: unseal needs --share-file FILE (or - for standard input)\n");
		secret_free(&v);
		return 2;
	}
	if (read_file(o->share_file, 4096, 1, &text, &len) == 0) {
		/* The first line that is neither blank nor a comment. */
		for (line = (char *)text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			for (i = 0; line[i] == ' ' || line[i] == '\t'; i++)
				;
			if (line[i] != '#' && line[i] != '\n' && line[i] != '\0')
				break;
		}
		if (line == NULL || *line == '\0')
			fprintf(stderr, "sealadm: %s: no share in it\n", o->share_file);
		else {
			size_t n = strcspn(line, "\r\n");

			if (n < sizeof(v->share)) {
				memcpy(v->share, line, n);
				if (adm_unseal_enc(&m, 1, v) == 0) {
					rc = exchange(o->socket, &m, show_unseal);
					ipc_msg_free(&m);
				}
			} else
				fprintf(stderr, "sealadm: %s: too long to be a share\n", o->share_file);
		}
		secret_free(&text);
	}
	secret_free(&v);
	return rc;
}

/* Copy s into dst (len bytes) or say that it does not fit. */
static int
fits(char *dst, size_t len, const char *s, const char *what)
{
	if (strlen(s) >= len) {
		fprintf(stderr, "sealadm: %s: at most %zu characters\n", what, len - 1);
		return -1;
	}
	snprintf(dst, len, "%s", s);
	return 0;
}

static int
cmd_seal_create(const struct opts *o)
{
	struct adm_seal_create v;
	struct ipc_msg m;
	uint8_t *img = NULL;
	size_t len = 0;
	int rc;

	memset(&v, 0, sizeof(v));
	if (o->name == NULL || o->type == NULL || o->key == NULL || o->image == NULL ||
	    o->unit == NULL) {
		fprintf(stderr, "sealadm: seal create needs --name, --type, --key, --image and --unit\n");
		return 2;
	}
	if (read_file(o->image, MSG_IMAGE_MAX, 0, &img, &len) != 0)
		return 1;
	/* A value cut short could name another seal or unit: refuse it. */
	if (fits(v.id, sizeof(v.id), o->id ? o->id : "", "--id") != 0 ||
	    fits(v.name, sizeof(v.name), o->name, "--name") != 0 ||
	    fits(v.type, sizeof(v.type), o->type, "--type") != 0 ||
	    fits(v.key_type, sizeof(v.key_type), o->key, "--key") != 0 ||
	    fits(v.unit, sizeof(v.unit), o->unit, "--unit") != 0) {
		free(img);
		return 2;
	}
	v.image = img;
	v.image_len = len;
	rc = adm_seal_create_enc(&m, 1, &v) == 0 ? exchange(o->socket, &m, show_json) : 1;
	ipc_msg_free(&m);
	free(img);
	return rc;
}

/* --kind, --unit and each --role ROLE[@UNIT] into v; the monitor checks their meaning. */
static int
principal_roles(const struct opts *o, struct adm_principal_add *v)
{
	if (o->roles_over) {
		fprintf(stderr, "sealadm: at most %d --role\n", MSG_ROLES_MAX);
		return -1;
	}
	if ((o->kind && fits(v->kind, sizeof(v->kind), o->kind, "--kind") != 0) ||
	    (o->unit && fits(v->unit, sizeof(v->unit), o->unit, "--unit") != 0))
		return -1;
	for (size_t i = 0; i < o->n_roles; i++) {
		const char *at = strchr(o->roles[i], '@');
		size_t n = at ? (size_t)(at - o->roles[i]) : strlen(o->roles[i]);

		if (n == 0 || n >= sizeof(v->roles[i]) || (at && at[1] == '\0')) {
			fprintf(stderr, "sealadm: --role: ROLE or ROLE@UNIT, a role name of 1 to "
			    "%zu characters\n", sizeof(v->roles[i]) - 1);
			return -1;
		}
		memcpy(v->roles[i], o->roles[i], n);
		v->roles[i][n] = '\0';
		if (at && fits(v->role_units[i], sizeof(v->role_units[i]), at + 1, "--role's unit") != 0)
			return -1;
	}
	v->n_roles = (uint16_t)o->n_roles;
	return 0;
}

static int
cmd_principal_add(const struct opts *o)
{
	struct adm_principal_add v;
	struct ipc_msg m;
	uint8_t *pem = NULL;
	size_t len = 0;
	int rc;

	if (o->name == NULL || o->cert == NULL) {
		fprintf(stderr, "sealadm: principal add needs --cert and --name\n");
		return 2;
	}
	if (o->act_for_over) {
		fprintf(stderr, "sealadm: at most %d --may-act-for\n", MSG_ACT_FOR_MAX);
		return 2;
	}
	/* Cut short, a name could become another principal's: refuse instead. */
	if (strlen(o->name) >= sizeof(v.name)) {
		fprintf(stderr, "sealadm: --name: at most %zu characters\n", sizeof(v.name) - 1);
		return 2;
	}
	memset(&v, 0, sizeof(v));
	for (size_t i = 0; i < o->n_act_for; i++) {
		if (strlen(o->act_for[i]) >= sizeof(v.may_act_for[i])) {
			fprintf(stderr, "sealadm: --may-act-for: at most %zu characters\n",
			    sizeof(v.may_act_for[i]) - 1);
			return 2;
		}
		snprintf(v.may_act_for[i], sizeof(v.may_act_for[i]), "%s", o->act_for[i]);
	}
	v.n_may_act_for = (uint16_t)o->n_act_for;
	if (principal_roles(o, &v) != 0)
		return 2;
	if (read_file(o->cert, MSG_CERT_MAX, 0, &pem, &len) != 0)
		return 1;
	snprintf(v.name, sizeof(v.name), "%s", o->name);
	v.cert_pem = pem;
	v.cert_len = len;
	rc = adm_principal_add_enc(&m, 1, &v) == 0 ? exchange(o->socket, &m, show_json) : 1;
	ipc_msg_free(&m);
	free(pem);
	return rc;
}

/* ---- grant add's conditions: the console's words into the message -------- */

/* A comma-separated list into up to MSG_GRANT_LIST_MAX slots of width bytes. */
static int
grant_list(const char *arg, const char *what, char *dst, size_t width, uint16_t *n)
{
	const char *p = arg;

	*n = 0;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");

		if (len == 0 || len >= width || *n == MSG_GRANT_LIST_MAX) {
			fprintf(stderr, "sealadm: %s: at most %d names of 1 to %zu characters, "
			    "comma-separated\n", what, MSG_GRANT_LIST_MAX, width - 1);
			return -1;
		}
		memcpy(dst + *n * width, p, len);
		dst[*n * width + len] = '\0';
		(*n)++;
		p += len;
		if (*p == ',' && *++p == '\0') {
			fprintf(stderr, "sealadm: %s: a trailing comma\n", what);
			return -1;
		}
	}
	return 0;
}

static int
grant_number(const char *arg, const char *what, uint32_t *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 || n > UINT32_MAX) {
		fprintf(stderr, "sealadm: %s: a number 0..%u (0: unlimited)\n", what, UINT32_MAX);
		return -1;
	}
	*v = (uint32_t)n;
	return 0;
}

/* "2026-01-31" (midnight) or "2026-01-31T09:30:00Z", UTC. */
static int
grant_time(const char *arg, const char *what, uint64_t *v)
{
	struct tm tm = { 0 };
	const char *end;
	time_t t;

	end = strptime(arg, "%Y-%m-%d", &tm);
	if (end != NULL && *end == 'T')
		end = strptime(end + 1, "%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0' || (t = timegm(&tm)) <= 0) {
		fprintf(stderr, "sealadm: %s: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)\n", what);
		return -1;
	}
	*v = (uint64_t)t;
	return 0;
}

/* "09-18" (09:00 to 18:00), "22-06", "08-12,13-17": hour bits, UTC. */
static int
grant_hours(const char *arg, uint32_t *mask)
{
	const char *p = arg;
	int a, b, n;

	*mask = 0;
	while (*p != '\0') {
		if (sscanf(p, "%2d-%2d%n", &a, &b, &n) != 2 || a < 0 || a > 23 || b < 1 ||
		    b > 24 || a == b || (p[n] != ',' && p[n] != '\0')) {
			fprintf(stderr, "sealadm: --hours: HH-HH[,HH-HH...], 00..24, UTC "
			    "(09-18 is 09:00 to 18:00)\n");
			return -1;
		}
		for (int h = a; h != b; h = (h + 1) % 24) {
			*mask |= 1u << h;
			if (b == 24 && h == 23)
				break;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

static int
day_index(const char *s, size_t n)
{
	static const char *const names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

	for (int i = 0; i < 7; i++)
		if (n == 3 && strncmp(s, names[i], 3) == 0)
			return i;
	return -1;
}

/* "mon-fri", "sat,sun", "fri-mon": day bits, bit 0 Monday. */
static int
grant_days(const char *arg, uint8_t *mask)
{
	const char *p = arg;

	*mask = 0;
	while (*p != '\0') {
		size_t len = strcspn(p, ","), dash = strcspn(p, "-");
		int a, b;

		if (dash < len) {
			a = day_index(p, dash);
			b = day_index(p + dash + 1, len - dash - 1);
		} else {
			a = b = day_index(p, len);
		}
		if (a < 0 || b < 0 || (p[len] == ',' && p[len + 1] == '\0')) {
			fprintf(stderr, "sealadm: --days: mon..sun, ranges and lists "
			    "(mon-fri, sat,sun)\n");
			return -1;
		}
		for (int d = a;; d = (d + 1) % 7) {
			*mask |= (uint8_t)(1u << d);
			if (d == b)
				break;
		}
		p += len + (p[len] == ',');
	}
	return 0;
}

/* "K:GROUP", "none". */
static int
grant_approval(const char *arg, struct adm_grant_add *v)
{
	char *end;
	unsigned long k;

	if (strcmp(arg, "none") == 0)
		return 0;
	k = strtoul(arg, &end, 10);
	if (arg[0] < '1' || arg[0] > '9' || *end != ':' || k > 255 ||
	    fits(v->approval_group, sizeof(v->approval_group), end + 1, "--approval") != 0 ||
	    end[1] == '\0') {
		fprintf(stderr, "sealadm: --approval: K:GROUP (1 <= K <= 255) or none\n");
		return -1;
	}
	v->approval_k = (uint8_t)k;
	return 0;
}

static int
grant_options(const struct opts *o, struct adm_grant_add *v)
{
	if ((o->doc_types && grant_list(o->doc_types, "--doc-types", &v->doc_types[0][0],
	    MSG_DOCTYPE_MAX, &v->n_doc_types) != 0) ||
	    (o->apps && grant_list(o->apps, "--apps", &v->apps[0][0], MSG_ID_MAX,
	    &v->n_apps) != 0) ||
	    (o->per_day && grant_number(o->per_day, "--per-day", &v->per_day) != 0) ||
	    (o->per_month && grant_number(o->per_month, "--per-month", &v->per_month) != 0) ||
	    (o->from && grant_time(o->from, "--from", &v->valid_from) != 0) ||
	    (o->to && grant_time(o->to, "--to", &v->valid_to) != 0) ||
	    (o->hours && grant_hours(o->hours, &v->hours) != 0) ||
	    (o->days && grant_days(o->days, &v->days) != 0) ||
	    (o->approval && grant_approval(o->approval, v) != 0))
		return -1;
	if (o->confirm && strcmp(o->confirm, "none") != 0 && strcmp(o->confirm, "totp") != 0) {
		fprintf(stderr, "sealadm: --confirm: none or totp\n");
		return -1;
	}
	if (o->confirm)
		snprintf(v->confirm, sizeof(v->confirm), "%s", o->confirm);
	if (o->on_sensitive && strcmp(o->on_sensitive, "block") != 0 &&
	    strcmp(o->on_sensitive, "approval") != 0) {
		fprintf(stderr, "sealadm: --on-sensitive: block or approval\n");
		return -1;
	}
	if (o->on_sensitive)
		snprintf(v->on_sensitive, sizeof(v->on_sensitive), "%s", o->on_sensitive);
	return 0;
}

static int
cmd_grant_add(const struct opts *o)
{
	struct adm_grant_add v;
	struct ipc_msg m;
	int rc;

	if (o->seal == NULL || o->principal == NULL) {
		fprintf(stderr, "sealadm: grant add needs --seal and --principal\n");
		return 2;
	}
	memset(&v, 0, sizeof(v));
	/* A name cut short could grant another principal: refuse it. */
	if (fits(v.seal, sizeof(v.seal), o->seal, "--seal") != 0 ||
	    fits(v.principal, sizeof(v.principal), o->principal, "--principal") != 0 ||
	    grant_options(o, &v) != 0)
		return 2;
	rc = adm_grant_add_enc(&m, 1, &v) == 0 ? exchange(o->socket, &m, show_json) : 1;
	ipc_msg_free(&m);
	return rc;
}

static int
cmd_unit_add(const struct opts *o)
{
	struct adm_unit_add v;
	struct ipc_msg m;
	int rc;

	if (o->id == NULL || o->name == NULL || o->parent == NULL) {
		fprintf(stderr, "sealadm: unit add needs --id, --name and --parent\n");
		return 2;
	}
	memset(&v, 0, sizeof(v));
	if (fits(v.id, sizeof(v.id), o->id, "--id") != 0 ||
	    fits(v.name, sizeof(v.name), o->name, "--name") != 0 ||
	    fits(v.parent, sizeof(v.parent), o->parent, "--parent") != 0)
		return 2;
	rc = adm_unit_add_enc(&m, 1, &v) == 0 ? exchange(o->socket, &m, show_json) : 1;
	ipc_msg_free(&m);
	return rc;
}

static int
cmd_role_assign(const struct opts *o)
{
	struct adm_role_assign v;
	struct ipc_msg m;
	int rc;

	if (o->principal == NULL || o->n_roles != 1) {
		fprintf(stderr, "sealadm: role assign needs --principal and one --role\n");
		return 2;
	}
	memset(&v, 0, sizeof(v));
	if (fits(v.principal, sizeof(v.principal), o->principal, "--principal") != 0 ||
	    fits(v.role, sizeof(v.role), o->roles[0], "--role") != 0 ||
	    (o->unit && fits(v.unit, sizeof(v.unit), o->unit, "--unit") != 0))
		return 2;
	rc = adm_role_assign_enc(&m, 1, &v) == 0 ? exchange(o->socket, &m, show_json) : 1;
	ipc_msg_free(&m);
	return rc;
}

/* ---- the sensitive-word library: the monitor checks and normalises ------- */

static int
cmd_words_add(const struct opts *o)
{
	struct adm_word_add v;
	struct ipc_msg m;
	int rc;

	if (o->word == NULL) {
		fprintf(stderr, "sealadm: words add needs --word\n");
		return 2;
	}
	memset(&v, 0, sizeof(v));
	if (fits(v.word, sizeof(v.word), o->word, "--word") != 0 ||
	    (o->category && fits(v.category, sizeof(v.category), o->category,
	    "--category") != 0))
		return 2;
	rc = adm_word_add_enc(&m, 1, &v) == 0 ? exchange(o->socket, &m, show_json) : 1;
	ipc_msg_free(&m);
	return rc;
}

static int
cmd_words_remove(const struct opts *o)
{
	struct adm_word_remove v;
	struct ipc_msg m;
	int rc;

	if (o->id == NULL) {
		fprintf(stderr, "sealadm: words remove needs --id w-N\n");
		return 2;
	}
	memset(&v, 0, sizeof(v));
	if (fits(v.id, sizeof(v.id), o->id, "--id") != 0)
		return 2;
	rc = adm_word_remove_enc(&m, 1, &v) == 0 ? exchange(o->socket, &m, show_json) : 1;
	ipc_msg_free(&m);
	return rc;
}

static int
cmd_simple(const struct opts *o, uint16_t type)
{
	struct ipc_msg m;
	int rc;

	ipc_msg_init(&m, type, 1);
	rc = exchange(o->socket, &m, show_json);
	ipc_msg_free(&m);
	return rc;
}

static int
cmd_status(const struct opts *o)
{
	struct ipc_msg m;
	int rc;

	ipc_msg_init(&m, ADM_STATUS, 1);
	rc = exchange(o->socket, &m, show_json);
	ipc_msg_free(&m);
	return rc;
}

/* ---- console accounts: login, sessions, the interactive menu --------------
 * docs/admin-guide.md shows the screens. The menu is plain numbered lines
 * (80x24, no colour, no cursor keys): it works on a VT100 serial line and
 * under expect. Each request is its own admin-socket connection, so that an
 * admin sitting at the menu never holds up the socket. */

enum {
	IN_OK = 0,
	IN_EOF = -1,		/* end of input: leave */
	IN_IDLE = -2,		/* no input for the idle time: log out */
	IN_LONG = -3,		/* longer than the buffer */
	IN_BAD = -4,		/* not UTF-8 text, or control characters */
};

#define LINE_MAX_MENU 64	/* bytes of a menu answer or a field */
#define FIELD_MAX 256

struct con {
	const char *sock;
	unsigned idle;			/* seconds; 0: wait for ever */
	char session[MSG_SESSION_MAX];
	char user[MSG_ADMIN_USER_MAX];
	char role[MSG_ROLE_MAX];
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One line from fd into buf (cap bytes with its NUL, without the newline or
 * a trailing CR). hidden: no echo when fd is a terminal. idle: seconds
 * before IN_IDLE (0: none). The line is wiped from buf unless IN_OK.
 */
static int
read_line(int fd, char *buf, size_t cap, int hidden, unsigned idle)
{
	long long deadline = mono_ms() + (long long)idle * 1000;
	struct termios old, quiet;
	int restore = 0, rc = IN_OK, over = 0;
	size_t n = 0;

	if (hidden && isatty(fd) && tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		restore = tcsetattr(fd, TCSANOW, &quiet) == 0;
	}
	fflush(stdout);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = idle ? deadline - mono_ms() : -1;
		char c;
		ssize_t r;
		int pr;

		if (idle && left <= 0) {
			rc = IN_IDLE;
			break;
		}
		if ((pr = poll(&p, 1, idle ? (int)left : -1)) == 0) {
			rc = IN_IDLE;
			break;
		}
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0 || (r = read(fd, &c, 1)) == 0 || (r < 0 && errno != EINTR)) {
			rc = IN_EOF;
			break;
		}
		if (r < 0)
			continue;
		if (c == '\n')
			break;
		if (n + 1 < cap)
			buf[n++] = c;
		else
			over = 1;
	}
	if (restore)
		tcsetattr(fd, TCSANOW, &old);
	if (rc == IN_OK && n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (rc == IN_OK && over)
		rc = IN_LONG;
	else if (rc == IN_OK && !msg_text_line_ok(buf, n))
		rc = IN_BAD;
	if (rc != IN_OK)
		secret_wipe(buf, cap);
	return rc;
}

/* Say what is wrong with a line that read_line refused; IN_IDLE and IN_EOF
 * are passed up (returned), the others become IN_BAD. */
static int
input_refused(int rc, size_t cap)
{
	if (rc == IN_LONG)
		printf("input refused: too long (at most %zu characters)\n", cap - 1);
	else if (rc == IN_BAD)
		printf("input refused: control characters or invalid UTF-8\n");
	return rc == IN_LONG ? IN_BAD : rc;
}

/* Prompt and read one answer; IN_OK, IN_BAD (said why), IN_IDLE, IN_EOF. */
static int
ask(const struct con *c, const char *prompt, char *buf, size_t cap, int hidden)
{
	int rc;

	printf("%s", prompt);
	if ((rc = read_line(STDIN_FILENO, buf, cap, hidden, c->idle)) != IN_OK)
		return input_refused(rc, cap);
	if (buf[0] == '\0') {
		printf("input refused: empty\n");
		return IN_BAD;
	}
	return IN_OK;
}

/* y/N: 1 for yes, 0 for no (said "cancelled"), or IN_IDLE / IN_EOF. */
static int
confirm(const struct con *c, const char *what)
{
	char a[LINE_MAX_MENU];
	int rc;

	printf("%s [y/N]: ", what);
	if ((rc = read_line(STDIN_FILENO, a, sizeof(a), 0, c->idle)) == IN_IDLE || rc == IN_EOF)
		return rc;
	if (rc == IN_OK && (strcmp(a, "y") == 0 || strcmp(a, "Y") == 0 || strcmp(a, "yes") == 0))
		return 1;
	printf("cancelled\n");
	return 0;
}

/* Send m; its reply's HTTP status and JSON (*j, or NULL), or -1 (said why). */
static int
call(const char *sock, struct ipc_msg *m, json_t **j)
{
	struct msg_reply r;
	struct ipc_msg in;
	int fd, status = -1;

	*j = NULL;
	if ((fd = connect_admin(sock)) < 0)
		return -1;
	if (ipc_send(fd, m) != 0 || ipc_recv(fd, &in) != 0) {
		fprintf(stderr, "sealadm: seald closed the admin connection\n");
		close(fd);
		return -1;
	}
	close(fd);
	if (in.type == MSG_REPLY && msg_reply_dec(&in, &r) == 0 &&
	    (*j = json_loadb((const char *)r.body, r.body_len, 0, NULL)) != NULL)
		status = r.status;
	else
		fprintf(stderr, "sealadm: malformed reply from seald\n");
	ipc_msg_free(&in);
	return status;
}

static const char *
jget(json_t *j, const char *k)
{
	const char *v = json_string_value(json_object_get(j, k));

	return v ? v : "";
}

/* Print a refusal on one line: "refused: message (code)". */
static void
say_error(json_t *j)
{
	json_t *e = json_object_get(j, "error");

	printf("refused: %s (%s)\n", jget(e, "message"), jget(e, "code"));
}

/* Send m (consumed) and print the outcome: the reply when ok, with show. */
static int
menu_send(const struct con *c, struct ipc_msg *m, void (*show)(json_t *))
{
	json_t *j = NULL;
	int st = call(c->sock, m, &j);

	ipc_msg_free(m);
	if (st == 200 && show != NULL)
		show(j);
	else if (st > 0 && st != 200)
		say_error(j);
	json_decref(j);
	return st == 200 ? 0 : -1;
}

/* ---- the items --------------------------------------------------------- */

static void
show_status(json_t *j)
{
	printf("appliance %s: %s", jget(j, "appliance"), jget(j, "state"));
	if (strcmp(jget(j, "state"), "sealed") == 0)
		printf(" (%lld of %lld shares entered)",
		    (long long)json_integer_value(json_object_get(j, "have")),
		    (long long)json_integer_value(json_object_get(j, "need")));
	printf("\nHSM: %s\nledger: %s, %lld entries\n", jget(j, "hsm"), jget(j, "ledger"),
	    (long long)json_integer_value(json_object_get(j, "ledger_size")));
}

static void
show_menu_json(json_t *j)
{
	(void)show_json(j);
}

static void
show_done(json_t *j)
{
	(void)j;
	printf("done\n");
}

static int
it_status(struct con *c)
{
	struct ipc_msg m;

	ipc_msg_init(&m, ADM_STATUS, 1);
	(void)menu_send(c, &m, show_status);
	return 0;
}

static int
it_status_details(struct con *c)
{
	struct ipc_msg m;

	ipc_msg_init(&m, ADM_STATUS, 1);
	(void)menu_send(c, &m, show_menu_json);
	return 0;
}

static void
show_unseal_menu(json_t *j)
{
	(void)show_unseal(j);
}

static int
it_unseal(struct con *c)
{
	struct adm_unseal *v = secret_alloc(sizeof(*v));
	struct ipc_msg m;
	int rc;

	if (v == NULL)
		return IN_EOF;
	rc = ask(c, "share (not shown): ", v->share, sizeof(v->share), 1);
	if (rc == IN_OK && (rc = confirm(c, "Enter this share?")) == 1 &&
	    adm_unseal_enc(&m, 1, v) == 0)
		(void)menu_send(c, &m, show_unseal_menu);
	secret_free(&v);
	return rc < 0 && rc != IN_BAD ? rc : 0;
}

/* A new passphrase, twice, checked here first; IN_OK or as ask. */
static int
ask_new_pass(const struct con *c, char *pass, char *again)
{
	const char *why;
	int rc;

	if ((rc = ask(c, "new passphrase (not shown): ", pass, MSG_PASS_MAX + 1, 1)) != IN_OK)
		return rc;
	if (msg_passphrase_check(pass, &why) != 0) {
		printf("input refused: %s\n", why);
		return IN_BAD;
	}
	if ((rc = ask(c, "new passphrase again: ", again, MSG_PASS_MAX + 1, 1)) != IN_OK)
		return rc;
	if (strcmp(pass, again) != 0) {
		printf("input refused: the two passphrases differ\n");
		return IN_BAD;
	}
	return IN_OK;
}

static int
it_passwd(struct con *c)
{
	struct adm_passwd *v = secret_alloc(sizeof(*v));
	char *again = secret_alloc(MSG_PASS_MAX + 1);
	struct ipc_msg m;
	int rc = IN_EOF;

	if (v != NULL && again != NULL) {
		snprintf(v->session, sizeof(v->session), "%s", c->session);
		rc = ask(c, "current passphrase (not shown): ", v->old_pass, sizeof(v->old_pass), 1);
		if (rc == IN_OK)
			rc = ask_new_pass(c, v->new_pass, again);
		if (rc == IN_OK && (rc = confirm(c, "Change your passphrase?")) == 1 &&
		    adm_passwd_enc(&m, 1, v) == 0 && menu_send(c, &m, NULL) == 0)
			printf("passphrase changed\n");
	}
	secret_free(&v);
	secret_free(&again);
	return rc < 0 && rc != IN_BAD ? rc : 0;
}

static int
it_admin_add(struct con *c)
{
	struct adm_admin_add *v = secret_alloc(sizeof(*v));
	char *again = secret_alloc(MSG_PASS_MAX + 1), q[160];
	struct ipc_msg m;
	int rc = IN_EOF;

	if (v != NULL && again != NULL) {
		snprintf(v->session, sizeof(v->session), "%s", c->session);
		if ((rc = ask(c, "username: ", v->user, sizeof(v->user), 0)) == IN_OK &&
		    !msg_admin_user_ok(v->user)) {
			printf("input refused: a username is a-z, then up to 31 of a-z 0-9 _ -\n");
			rc = IN_BAD;
		}
		if (rc == IN_OK && (rc = ask(c, "role (sysadmin, secadmin, auditor): ", v->role,
		    sizeof(v->role), 0)) == IN_OK && !msg_admin_role_ok(v->role)) {
			printf("input refused: the role is sysadmin, secadmin or auditor\n");
			rc = IN_BAD;
		}
		if (rc == IN_OK)
			rc = ask_new_pass(c, v->pass, again);
		snprintf(q, sizeof(q), "Add administrator %s (%s)?", v->user, v->role);
		if (rc == IN_OK && (rc = confirm(c, q)) == 1 && adm_admin_add_enc(&m, 1, v) == 0 &&
		    menu_send(c, &m, NULL) == 0)
			printf("administrator %s added\n", v->user);
	}
	secret_free(&v);
	secret_free(&again);
	return rc < 0 && rc != IN_BAD ? rc : 0;
}

/* Fields asked in turn into the buffers given, then confirmed. */
struct field {
	const char *prompt;
	char *dst;
	size_t cap;
	int optional;		/* an empty answer is "" */
};

static int
ask_fields(const struct con *c, struct field *f, size_t n, const char *question)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		printf("%s", f[i].prompt);
		rc = read_line(STDIN_FILENO, f[i].dst, f[i].cap, 0, c->idle);
		if (rc != IN_OK)
			return input_refused(rc, f[i].cap);
		if (f[i].dst[0] == '\0' && !f[i].optional) {
			printf("input refused: empty\n");
			return IN_BAD;
		}
	}
	return question ? confirm(c, question) : 1;
}

#define ANSWER(rc) ((rc) < 0 && (rc) != IN_BAD ? (rc) : 0)

static int
it_unit_add(struct con *c)
{
	struct adm_unit_add v;
	struct field f[] = {
		{ "unit id: ", v.id, sizeof(v.id), 0 },
		{ "name: ", v.name, sizeof(v.name), 0 },
		{ "parent unit id: ", v.parent, sizeof(v.parent), 0 },
	};
	struct ipc_msg m;
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = ask_fields(c, f, 3, "Add this unit?")) == 1 && adm_unit_add_enc(&m, 1, &v) == 0)
		(void)menu_send(c, &m, show_done);
	return ANSWER(rc);
}

/* A principal from a PEM file on the appliance; kind "person" or "application". */
static int
principal_from_console(struct con *c, const char *kind)
{
	struct adm_principal_add *v = calloc(1, sizeof(*v));
	char path[FIELD_MAX] = "", q[128];
	struct field f[] = {
		{ "name: ", NULL, MSG_ID_MAX, 0 },
		{ "certificate file (PEM): ", path, sizeof(path), 0 },
		{ "unit (empty: group): ", NULL, MSG_ID_MAX, 1 },
	};
	uint8_t *pem = NULL;
	struct ipc_msg m;
	size_t len;
	int rc;

	if (v == NULL)
		return IN_EOF;
	f[0].dst = v->name;
	f[2].dst = v->unit;
	snprintf(v->kind, sizeof(v->kind), "%s", kind);
	snprintf(q, sizeof(q), "Register this %s?", kind);
	if ((rc = ask_fields(c, f, 3, q)) == 1 &&
	    read_file(path, MSG_CERT_MAX, 0, &pem, &len) == 0) {
		v->cert_pem = pem;
		v->cert_len = len;
		if (adm_principal_add_enc(&m, 1, v) == 0)
			(void)menu_send(c, &m, show_done);
		free(pem);
	}
	free(v);
	return ANSWER(rc);
}

static int
it_enrol(struct con *c)
{
	return principal_from_console(c, "application");
}

static int
it_principal_add(struct con *c)
{
	return principal_from_console(c, "person");
}

static int
it_role_list(struct con *c)
{
	struct ipc_msg m;

	ipc_msg_init(&m, ADM_ROLE_LIST, 1);
	(void)menu_send(c, &m, show_menu_json);
	return 0;
}

static int
it_role_assign(struct con *c)
{
	struct adm_role_assign v;
	struct field f[] = {
		{ "principal: ", v.principal, sizeof(v.principal), 0 },
		{ "role: ", v.role, sizeof(v.role), 0 },
		{ "over unit (empty: the principal's): ", v.unit, sizeof(v.unit), 1 },
	};
	struct ipc_msg m;
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = ask_fields(c, f, 3, "Assign this role?")) == 1 &&
	    adm_role_assign_enc(&m, 1, &v) == 0)
		(void)menu_send(c, &m, show_done);
	return ANSWER(rc);
}

static int
it_grant_add(struct con *c)
{
	struct adm_grant_add v;
	struct field f[] = {
		{ "seal id: ", v.seal, sizeof(v.seal), 0 },
		{ "principal: ", v.principal, sizeof(v.principal), 0 },
	};
	struct ipc_msg m;
	int rc;

	memset(&v, 0, sizeof(v));
	printf("(a grant without conditions; `sealadm grant add` sets them)\n");
	if ((rc = ask_fields(c, f, 2, "Grant this seal to this principal?")) == 1 &&
	    adm_grant_add_enc(&m, 1, &v) == 0)
		(void)menu_send(c, &m, show_done);
	return ANSWER(rc);
}

static int
it_words_list(struct con *c)
{
	struct ipc_msg m;

	ipc_msg_init(&m, ADM_WORD_LIST, 1);
	(void)menu_send(c, &m, show_menu_json);
	return 0;
}

static int
it_words_add(struct con *c)
{
	struct adm_word_add v;
	struct field f[] = {
		{ "word: ", v.word, sizeof(v.word), 0 },
		{ "category (may be empty): ", v.category, sizeof(v.category), 1 },
	};
	struct ipc_msg m;
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = ask_fields(c, f, 2, "Add this word?")) == 1 && adm_word_add_enc(&m, 1, &v) == 0)
		(void)menu_send(c, &m, show_menu_json);
	return ANSWER(rc);
}

static int
it_words_remove(struct con *c)
{
	struct adm_word_remove v;
	struct field f[] = { { "word id (w-N): ", v.id, sizeof(v.id), 0 } };
	struct ipc_msg m;
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = ask_fields(c, f, 1, "Remove this word?")) == 1 &&
	    adm_word_remove_enc(&m, 1, &v) == 0)
		(void)menu_send(c, &m, show_done);
	return ANSWER(rc);
}

static void
show_verdict(json_t *j)
{
	if (strcmp(jget(j, "verdict"), "intact") == 0)
		printf("ledger verified: intact, %lld entries%s\n",
		    (long long)json_integer_value(json_object_get(j, "entries")),
		    json_is_true(json_object_get(j, "signatures_checked")) ?
		    ", tree head signatures checked" : "");
	else
		printf("LEDGER DAMAGED: %s\n", jget(j, "message"));
}

static int
it_ledger_verify(struct con *c)
{
	struct adm_session v;
	struct ipc_msg m;

	snprintf(v.session, sizeof(v.session), "%s", c->session);
	if (adm_session_enc(&m, ADM_LEDGER_VERIFY, 1, &v) == 0)
		(void)menu_send(c, &m, show_verdict);
	return 0;
}

/* The menu: an item for a role ("*": everyone); fn NULL: not built yet,
 * shown as such and never as working. */
struct item {
	const char *label;
	const char *role;
	int (*fn)(struct con *c);
};

static const struct item items[] = {
	{ "Status", "*", it_status },
	{ "Unseal: enter my share", "*", it_unseal },
	{ "Change my passphrase", "*", it_passwd },
	{ "Status details", "sysadmin", it_status_details },
	{ "Enrol a business system (register its certificate)", "sysadmin", it_enrol },
	{ "Network settings (not available yet)", "sysadmin", NULL },
	{ "TLS server certificate (not available yet)", "sysadmin", NULL },
	{ "Backup and restore (not available yet)", "sysadmin", NULL },
	{ "Add an administrator", "secadmin", it_admin_add },
	{ "Add an org unit", "secadmin", it_unit_add },
	{ "Register a person (principal)", "secadmin", it_principal_add },
	{ "List roles", "secadmin", it_role_list },
	{ "Assign a role", "secadmin", it_role_assign },
	{ "Add a grant", "secadmin", it_grant_add },
	{ "List sensitive words", "secadmin", it_words_list },
	{ "Add a sensitive word", "secadmin", it_words_add },
	{ "Remove a sensitive word", "secadmin", it_words_remove },
	{ "Verify the ledger", "auditor", it_ledger_verify },
	{ "Browse the ledger (not available yet)", "auditor", NULL },
	{ "List alerts (not available yet)", "auditor", NULL },
};
#define ITEMS_N (sizeof(items) / sizeof(items[0]))

/* The items of role, in order, into mine; their count. */
static size_t
items_of(const char *role, const struct item **mine)
{
	size_t n = 0;

	for (size_t i = 0; i < ITEMS_N; i++)
		if (strcmp(items[i].role, "*") == 0 || strcmp(items[i].role, role) == 0)
			mine[n++] = &items[i];
	return n;
}

/* 0 while c's session lives (and refreshes it), else -1. */
static int
session_alive(struct con *c)
{
	struct adm_session v;
	struct ipc_msg m;
	json_t *j = NULL;
	int st;

	snprintf(v.session, sizeof(v.session), "%s", c->session);
	if (adm_session_enc(&m, ADM_SESSION, 1, &v) != 0)
		return -1;
	st = call(c->sock, &m, &j);
	ipc_msg_free(&m);
	json_decref(j);
	return st == 200 ? 0 : -1;
}

static void
session_end(struct con *c)
{
	struct adm_session v;
	struct ipc_msg m;
	json_t *j = NULL;

	snprintf(v.session, sizeof(v.session), "%s", c->session);
	if (adm_session_enc(&m, ADM_LOGOUT, 1, &v) == 0) {
		(void)call(c->sock, &m, &j);
		ipc_msg_free(&m);
	}
	json_decref(j);
	secret_wipe(c->session, sizeof(c->session));
}

/* A menu answer: 0..n into *pick, or IN_BAD (said why), IN_IDLE, IN_EOF. */
static int
menu_pick(const struct con *c, size_t n, size_t *pick)
{
	char a[LINE_MAX_MENU], *end;
	unsigned long v;
	int rc;

	if ((rc = read_line(STDIN_FILENO, a, sizeof(a), 0, c->idle)) != IN_OK)
		return input_refused(rc, sizeof(a));
	if (a[0] == '\0') {
		printf("input refused: empty; enter a number from 0 to %zu\n", n);
		return IN_BAD;
	}
	errno = 0;
	v = strtoul(a, &end, 10);
	if (a[0] < '0' || a[0] > '9' || *end != '\0' || errno != 0 || v > n) {
		printf("no such item: enter a number from 0 to %zu\n", n);
		return IN_BAD;
	}
	*pick = (size_t)v;
	return IN_OK;
}

/* The logged-in admin's menu until logout (0), idle (IN_IDLE) or EOF. */
static int
menu_loop(struct con *c)
{
	const struct item *mine[ITEMS_N];
	size_t n = items_of(c->role, mine), pick;
	int rc;

	for (;;) {
		printf("\n== Sealbox console == %s (%s)\n", c->user, c->role);
		for (size_t i = 0; i < n; i++)
			printf("%3zu) %s\n", i + 1, mine[i]->label);
		printf("  0) Log out\nchoose 0-%zu: ", n);
		if ((rc = menu_pick(c, n, &pick)) == IN_BAD)
			continue;
		if (rc != IN_OK)
			return rc;
		if (pick == 0)
			return 0;
		if (session_alive(c) != 0) {
			printf("logged out (the session ended)\n");
			return 0;
		}
		if (mine[pick - 1]->fn == NULL) {
			printf("not available yet: this comes in a later release\n");
			continue;
		}
		if ((rc = mine[pick - 1]->fn(c)) != 0)
			return rc;
	}
}

/* Log in with user and pass: fills c; 0, or -1 (said why). */
static int
login_send(struct con *c, const char *user, const char *pass)
{
	struct adm_login *v = secret_alloc(sizeof(*v));
	struct ipc_msg m;
	json_t *j = NULL;
	int st = -1;

	if (v == NULL)
		return -1;
	snprintf(v->user, sizeof(v->user), "%s", user);
	snprintf(v->pass, sizeof(v->pass), "%s", pass);
	if (adm_login_enc(&m, 1, v) == 0) {
		st = call(c->sock, &m, &j);
		ipc_msg_free(&m);
	}
	secret_free(&v);
	if (st == 200) {
		snprintf(c->session, sizeof(c->session), "%s", jget(j, "session"));
		snprintf(c->user, sizeof(c->user), "%s", jget(j, "user"));
		snprintf(c->role, sizeof(c->role), "%s", jget(j, "role"));
		c->idle = (unsigned)json_integer_value(json_object_get(j, "idle_seconds"));
	} else if (st > 0)
		printf("login refused: %s\n", jget(json_object_get(j, "error"), "message"));
	json_decref(j);
	return st == 200 && strlen(c->session) == MSG_SESSION_MAX - 1 ? 0 : -1;
}

/* The login prompt; 0 logged in, IN_EOF. Bad input asks again. */
static int
login_prompt(struct con *c)
{
	char user[LINE_MAX_MENU], *pass = secret_alloc(MSG_PASS_MAX + 1);
	int rc;

	if (pass == NULL)
		return IN_EOF;
	for (;;) {
		printf("\nSealbox console\nlogin: ");
		if ((rc = read_line(STDIN_FILENO, user, sizeof(user), 0, 0)) == IN_EOF)
			break;
		if (rc != IN_OK || user[0] == '\0') {
			if (rc == IN_OK)
				printf("input refused: empty\n");
			(void)input_refused(rc, sizeof(user));
			continue;
		}
		if (!msg_admin_user_ok(user)) {
			printf("input refused: a username is a-z, then up to 31 of a-z 0-9 _ -\n");
			continue;
		}
		printf("passphrase: ");
		if ((rc = read_line(STDIN_FILENO, pass, MSG_PASS_MAX + 1, 1, 0)) == IN_EOF)
			break;
		if (rc != IN_OK) {
			(void)input_refused(rc, MSG_PASS_MAX + 1);
			continue;
		}
		rc = login_send(c, user, pass);
		secret_wipe(pass, MSG_PASS_MAX + 1);
		if (rc == 0)
			break;
	}
	secret_free(&pass);
	return rc == 0 ? 0 : IN_EOF;
}

static int
menu_main(const char *sock)
{
	struct con c = { .sock = sock };
	int rc;

	/* The login program of a console: ^C, ^\ and ^Z neither kill it (with
	 * echo left off) nor leave a shell behind it. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		if (login_prompt(&c) != 0)
			return 0;
		rc = menu_loop(&c);
		if (rc == IN_IDLE)
			printf("\nlogged out (idle)\n");
		else if (rc == 0)
			printf("logged out\n");
		session_end(&c);
		if (rc == IN_EOF)
			return 0;
	}
}

/* ---- the same for scripts -------------------------------------------- */

/* The first line read from descriptor text (a number) into buf. */
static int
read_fd_line(const char *fdtext, const char *what, char *buf, size_t cap)
{
	char *end;
	long fd = fdtext ? strtol(fdtext, &end, 10) : -1;
	int rc;

	if (fdtext == NULL || *end != '\0' || fd < 0 || fd > 1024) {
		fprintf(stderr, "sealadm: %s: a file descriptor number is needed\n", what);
		return -1;
	}
	if ((rc = read_line((int)fd, buf, cap, 0, 0)) != IN_OK) {
		fprintf(stderr, "sealadm: %s: %s\n", what, rc == IN_EOF ? "nothing to read" :
		    rc == IN_LONG ? "too long" : "control characters or invalid UTF-8");
		return -1;
	}
	return 0;
}

static int
cmd_login(const struct opts *o)
{
	struct con c = { .sock = o->socket };
	char *pass = secret_alloc(MSG_PASS_MAX + 1);
	int rc = 1;

	if (o->user == NULL || o->pass_fd == NULL) {
		fprintf(stderr, "sealadm: login needs --user and --passphrase-fd\n");
		secret_free(&pass);
		return 2;
	}
	if (pass != NULL && read_fd_line(o->pass_fd, "--passphrase-fd", pass,
	    MSG_PASS_MAX + 1) == 0 && login_send(&c, o->user, pass) == 0) {
		printf("%s\n", c.session);
		rc = 0;
	}
	secret_free(&pass);
	secret_wipe(c.session, sizeof(c.session));
	return rc;
}

static int
cmd_logout(const struct opts *o)
{
	struct adm_session v;
	struct ipc_msg m;
	int rc;

	if (read_fd_line(o->session_fd, "--session-fd", v.session, sizeof(v.session)) != 0)
		return 2;
	if (adm_session_enc(&m, ADM_LOGOUT, 1, &v) != 0) {
		fprintf(stderr, "sealadm: --session-fd: not a session token\n");
		return 2;
	}
	rc = exchange(o->socket, &m, show_json);
	ipc_msg_free(&m);
	return rc;
}

static int
cmd_admin_add(const struct opts *o)
{
	struct adm_admin_add *v = secret_alloc(sizeof(*v));
	struct ipc_msg m;
	int rc = 2;

	if (v == NULL)
		return 1;
	if (o->user == NULL || o->n_roles != 1 || o->pass_fd == NULL)
		fprintf(stderr, "sealadm: admin add needs --user, one --role and --passphrase-fd\n");
	else if (fits(v->user, sizeof(v->user), o->user, "--user") == 0 &&
	    fits(v->role, sizeof(v->role), o->roles[0], "--role") == 0 &&
	    read_fd_line(o->pass_fd, "--passphrase-fd", v->pass, sizeof(v->pass)) == 0 &&
	    (o->session_fd == NULL || read_fd_line(o->session_fd, "--session-fd", v->session,
	    sizeof(v->session)) == 0)) {
		if (adm_admin_add_enc(&m, 1, v) == 0) {
			rc = exchange(o->socket, &m, show_json);
			ipc_msg_free(&m);
		} else
			fprintf(stderr, "sealadm: --session-fd: not a session token\n");
	}
	secret_free(&v);
	return rc;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", 1, NULL, 'c' }, { "socket", 1, NULL, 's' },
		{ "share-file", 1, NULL, 'f' }, { "name", 1, NULL, 'n' },
		{ "type", 1, NULL, 't' }, { "key", 1, NULL, 'k' }, { "image", 1, NULL, 'i' },
		{ "unit", 1, NULL, 'u' }, { "id", 1, NULL, 'I' }, { "cert", 1, NULL, 'C' },
		{ "seal", 1, NULL, 'S' }, { "principal", 1, NULL, 'p' },
		{ "may-act-for", 1, NULL, 'A' }, { "kind", 1, NULL, 'K' },
		{ "role", 1, NULL, 'R' }, { "parent", 1, NULL, 'P' },
		{ "doc-types", 1, NULL, 1001 }, { "per-day", 1, NULL, 1002 },
		{ "per-month", 1, NULL, 1003 }, { "from", 1, NULL, 1004 },
		{ "to", 1, NULL, 1005 }, { "hours", 1, NULL, 1006 }, { "days", 1, NULL, 1007 },
		{ "approval", 1, NULL, 1008 }, { "confirm", 1, NULL, 1009 },
		{ "apps", 1, NULL, 1010 },
		{ "word", 1, NULL, 1011 }, { "category", 1, NULL, 1012 },
		{ "on-sensitive", 1, NULL, 1013 },
		{ "user", 1, NULL, 1014 }, { "passphrase-fd", 1, NULL, 1015 },
		{ "session-fd", 1, NULL, 1016 },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+c:s:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 's': o->socket = optarg; break;
		case 'f': o->share_file = optarg; break;
		case 'n': o->name = optarg; break;
		case 't': o->type = optarg; break;
		case 'k': o->key = optarg; break;
		case 'i': o->image = optarg; break;
		case 'u': o->unit = optarg; break;
		case 'I': o->id = optarg; break;
		case 'C': o->cert = optarg; break;
		case 'S': o->seal = optarg; break;
		case 'p': o->principal = optarg; break;
		case 'A':
			if (o->n_act_for < MSG_ACT_FOR_MAX)
				o->act_for[o->n_act_for++] = optarg;
			else
				o->act_for_over = 1;
			break;
		case 'K': o->kind = optarg; break;
		case 'P': o->parent = optarg; break;
		case 'R':
			if (o->n_roles < MSG_ROLES_MAX)
				o->roles[o->n_roles++] = optarg;
			else
				o->roles_over = 1;
			break;
		case 1001: o->doc_types = optarg; break;
		case 1002: o->per_day = optarg; break;
		case 1003: o->per_month = optarg; break;
		case 1004: o->from = optarg; break;
		case 1005: o->to = optarg; break;
		case 1006: o->hours = optarg; break;
		case 1007: o->days = optarg; break;
		case 1008: o->approval = optarg; break;
		case 1009: o->confirm = optarg; break;
		case 1010: o->apps = optarg; break;
		case 1011: o->word = optarg; break;
		case 1012: o->category = optarg; break;
		case 1013: o->on_sensitive = optarg; break;
		case 1014: o->user = optarg; break;
		case 1015: o->pass_fd = optarg; break;
		case 1016: o->session_fd = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct config *cfg = NULL;
	char err[CONFIG_ERR_MAX];
	struct opts o = { 0 };
	const char *verb, *noun;
	int rc, first;

	(void)secret_harden_process();
	/* Options may come before the command or after it. */
	if (parse(argc, argv, &o) != 0) {
		usage(stderr);
		return 2;
	}
	if (optind >= argc) {
		noun = "menu";
		verb = "";
	} else {
		first = optind;
		noun = argv[first];
		verb = first + 1 < argc && argv[first + 1][0] != '-' ? argv[first + 1] : "";
		optind = first + (verb[0] ? 2 : 1);
		if (parse(argc, argv, &o) != 0 || optind != argc) {
			usage(stderr);
			return 2;
		}
	}
	if (o.socket == NULL) {
		if (config_load(o.config, &cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "sealadm: %s\n", err);
			return 1;
		}
		o.socket = cfg->admin_socket;
	}
	if (strcmp(noun, "status") == 0 && !verb[0])
		rc = cmd_status(&o);
	else if (strcmp(noun, "unseal") == 0 && !verb[0])
		rc = cmd_unseal(&o);
	else if (strcmp(noun, "seal") == 0 && strcmp(verb, "create") == 0)
		rc = cmd_seal_create(&o);
	else if (strcmp(noun, "principal") == 0 && strcmp(verb, "add") == 0)
		rc = cmd_principal_add(&o);
	else if (strcmp(noun, "grant") == 0 && strcmp(verb, "add") == 0)
		rc = cmd_grant_add(&o);
	else if (strcmp(noun, "unit") == 0 && strcmp(verb, "add") == 0)
		rc = cmd_unit_add(&o);
	else if (strcmp(noun, "role") == 0 && strcmp(verb, "assign") == 0)
		rc = cmd_role_assign(&o);
	else if (strcmp(noun, "role") == 0 && strcmp(verb, "list") == 0)
		rc = cmd_simple(&o, ADM_ROLE_LIST);
	else if (strcmp(noun, "words") == 0 && strcmp(verb, "add") == 0)
		rc = cmd_words_add(&o);
	else if (strcmp(noun, "words") == 0 && strcmp(verb, "list") == 0)
		rc = cmd_simple(&o, ADM_WORD_LIST);
	else if (strcmp(noun, "words") == 0 && strcmp(verb, "remove") == 0)
		rc = cmd_words_remove(&o);
	else if (strcmp(noun, "menu") == 0 && !verb[0])
		rc = menu_main(o.socket);
	else if (strcmp(noun, "login") == 0 && !verb[0])
		rc = cmd_login(&o);
	else if (strcmp(noun, "logout") == 0 && !verb[0])
		rc = cmd_logout(&o);
	else if (strcmp(noun, "admin") == 0 && strcmp(verb, "add") == 0)
		rc = cmd_admin_add(&o);
	else {
		usage(stderr);
		rc = 2;
	}
	config_free(cfg);
	return rc;
}
