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
 *   sealadm ... role assign|revoke --principal N --role R [--unit U]
 *   sealadm ... principal disable --principal N
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
#include <termios.h>
#include <time.h>
#include <sys/wait.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../daemon/msg.h"
#include "../hsm/ca.h"
#include "../lib/config.h"
#include "../daemon/client/admsock.h"
#include "../daemon/formats/tsa.h"
#include "../lib/err.h"
#include "../lib/secret.h"
#include "sealadm.h"


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
	    "  appliance poweroff|reboot (ledgered, then console.poweroff_command or\n"
	    "                            console.reboot_command runs)\n"
	    "  enrol --name NAME --csr FILE|- [--unit UNIT] [--valid-days N]\n"
	    "      (a business system: the appliance CA issues a client certificate for the\n"
	    "       request's key, printed on stdout, and registers it as an application)\n"
	    "  custody reshare [--share-file F]... [--share-dir DIR]\n"
	    "                            (the secadmin, with M share holders) a new master\n"
	    "                            secret and shares; ledgered; the old shares unlock\n"
	    "                            nothing. The current shares typed (not shown) or\n"
	    "                            from files; the new ones handed to each holder at\n"
	    "                            the console, or written to DIR (new files, 0600)\n"
	    "  cert revoke --serial HEX|--cert FILE --reason TEXT\n"
	    "                            (the sysadmin) revoke a client certificate: ledgered,\n"
	    "                            a fresh CRL at tls.crl, which seald re-reads\n"
	    "  tls show                  seald's TLS server certificate (and a pending request)\n"
	    "  tls issue [--san NAMES] [--valid-days N]\n"
	    "                            (the sysadmin) a new key and a server certificate\n"
	    "                            from the appliance CA, ledgered and installed\n"
	    "  tls request [--san NAMES] a new key (kept beside tls.key as .pending) and its\n"
	    "                            certificate request, printed, for an outside CA\n"
	    "  tls install --cert FILE|- (the sysadmin) that CA's certificate (then its CA\n"
	    "                            certificates) for the pending key, ledgered and\n"
	    "                            installed (NAMES: DNS:name,IP:address,...; default\n"
	    "                            the present certificate's)\n"
	    "  unit add --id ID --name NAME --parent UNIT\n"
	    "  role assign --principal NAME --role ROLE [--unit UNIT]\n"
	    "      (ROLE over the subtree of UNIT, default the principal's unit)\n"
	    "  role revoke --principal NAME --role ROLE [--unit UNIT]   (at once; ledgered)\n"
	    "  role list\n"
	    "  approvers list            (secadmin, auditor) the approver groups: each unit\n"
	    "                            with its approvers and the grants that need it\n"
	    "  principal disable --principal NAME   (its requests refused from now; ledgered)\n"
	    "  principal enable --principal NAME    (a disabled one active again, its roles and\n"
	    "                            grants as they were; ledgered)\n"
	    "  words add --word TEXT [--category C]   (the sensitive-word library)\n"
	    "  words list\n"
	    "  words remove --id w-N\n"
	    "  ledger entries [--seal ID] [--principal NAME] [--unit ID] [--document-name TEXT]\n"
	    "      [--from T] [--to T] [--start SEQ] [--count N]\n"
	    "                            (the auditor; T: YYYY-MM-DD[THH:MM:SSZ])\n"
	    "  ledger export [--start SEQ] --count N [--out FILE]\n"
	    "                            (the auditor) N entries (up to 100000) from SEQ, one\n"
	    "                            JSON a line, to standard output or a new FILE\n"
	    "  alerts list [--kind KIND] [--from T] [--to T] [--start SEQ] [--count N]\n"
	    "  alerts thresholds [--burst-max N] [--burst-window S] [--refusals-max N]\n"
	    "      [--refusals-window S] the thresholds in force (secadmin, auditor); with\n"
	    "                            any option (the secadmin) set, ledgered, in force\n"
	    "                            at once and kept across restarts\n"
	    "  evidence --seq N          (the auditor) a signature's evidence bundle, as\n"
	    "                            sealctl evidence prints it\n"
	    "  network show              the network settings written here\n"
	    "  network set --address dhcp|ADDRESS/PREFIX [--gateway IP] [--dns IP,...]\n"
	    "      [--ntp IP,...] [--syslog [udp:|tcp:]IP[:PORT],...]\n"
	    "                            (the sysadmin) ledgered, written as networkd,\n"
	    "                            timesyncd and rsyslog files under\n"
	    "                            console.network_root, applied with\n"
	    "                            console.network_command\n"
	    "  backup create --out FILE [--share-file F]...\n"
	    "                            (the sysadmin) the appliance into a new, sealed\n"
	    "                            FILE; M shares complete it (typed, not shown, when\n"
	    "                            no --share-file); sealprov restore reads it back\n"
	    "  menu [--template FILE]    (also: no command) the interactive console menu;\n"
	    "                            with no config yet, it offers first boot (sealprov\n"
	    "                            firstboot, with this template)\n"
	    "  login --user NAME --passphrase-fd N [--otp-fd N]   (prints a session token;\n"
	    "                            --otp-fd: the one-time code, once one is confirmed)\n"
	    "  totp enrol [--otp-fd N]   a one-time code secret for my login (an otpauth URI;\n"
	    "                            --otp-fd: a code of the current one, to replace it)\n"
	    "  totp confirm --otp-fd N   confirm it with a first code; logins then need one\n"
	    "  totp reset --user NAME    (a secadmin) remove another admin's code (a lost\n"
	    "                            authenticator); ledgered\n"
	    "  totp recover --user NAME --passphrase-fd N --new-passphrase-fd M\n"
	    "      [--share-file F]...   (no session) remove my own code after losing my\n"
	    "                            authenticator: my passphrase, a new one in its\n"
	    "                            place, and the quorum's shares (typed at a\n"
	    "                            terminal without --share-file)\n"
	    "  logout --session-fd N\n"
	    "  admin add --user NAME --role sysadmin|secadmin|auditor --passphrase-fd N\n"
	    "      [--session-fd N]      (no session: only the first account, a secadmin)\n"
	    "      [--must-change]       (they replace the passphrase before anything else)\n"
	    "\n"
	    "Every command but status, unseal, menu, login, logout, admin add, network\n"
	    "show, tls show and tls request runs as a logged-in administrator:\n"
	    "--session-fd N reads the token `sealadm login` printed.\n",
	    MSG_ACT_FOR_MAX, MSG_ROLES_MAX);
}

/* Send m (as o's session, if any), print the reply; the exit status. */
int
exchange(const struct opts *o, struct ipc_msg *m, int (*show)(json_t *))
{
	json_t *j;
	int rc = 1;

	if (admsock_call(o->socket, o->session, m, &j) < 0)
		return 1;
	if (!console_refusal(j))
		rc = show(j);
	json_decref(j);
	return rc;
}

int
console_refusal(json_t *j)
{
	json_t *e = json_object_get(j, "error");
	const char *c = json_string_value(json_object_get(e, "code"));
	const char *t = json_string_value(json_object_get(e, "message"));

	if (e == NULL)
		return 0;
	fprintf(stderr, "sealadm: %s: %s\n", c ? c : "?", t ? t : "");
	return 1;
}

int
show_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
	return 0;
}

int
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
int
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
	int rc = 1;

	if (o->share_file == NULL || v == NULL) {
		fprintf(stderr, "sealadm: unseal needs --share-file FILE (or - for standard input)\n");
		secret_free(&v);
		return 2;
	}
	if (share_from_file(o->share_file, v->share, sizeof(v->share)) == 0 &&
	    adm_unseal_enc(&m, 1, v) == 0) {
		rc = exchange(o, &m, show_unseal);
		ipc_msg_free(&m);
	}
	secret_free(&v);
	return rc;
}

/* Copy s into dst (len bytes) or say that it does not fit. */
int
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
	rc = adm_seal_create_enc(&m, 1, &v) == 0 ? exchange(o, &m, show_json) : 1;
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
	rc = adm_principal_add_enc(&m, 1, &v) == 0 ? exchange(o, &m, show_json) : 1;
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

int
parse_utc(const char *arg, const char *what, uint64_t *v)
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
	    (o->from && parse_utc(o->from, "--from", &v->valid_from) != 0) ||
	    (o->to && parse_utc(o->to, "--to", &v->valid_to) != 0) ||
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
	rc = adm_grant_add_enc(&m, 1, &v) == 0 ? exchange(o, &m, show_json) : 1;
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
	rc = adm_unit_add_enc(&m, 1, &v) == 0 ? exchange(o, &m, show_json) : 1;
	ipc_msg_free(&m);
	return rc;
}

/* ADM_ENROL's answer: the issued certificate, as PEM, alone on stdout. */
static int
show_certificate(json_t *j)
{
	const char *pem = json_string_value(json_object_get(j, "certificate"));
	const char *who = json_string_value(json_object_get(j, "principal"));

	if (pem == NULL || who == NULL) {
		fprintf(stderr, "sealadm: the answer carries no certificate\n");
		return 1;
	}
	fputs(pem, stdout);
	fprintf(stderr, "enrolled %s: an application principal with the certificate above\n",
	    who);
	return 0;
}

static int
cmd_enrol(const struct opts *o)
{
	struct adm_enrol v;
	struct ipc_msg m;
	uint8_t *csr = NULL;
	size_t len = 0;
	char *end;
	int rc;

	if (o->name == NULL || o->csr == NULL) {
		fprintf(stderr, "sealadm: enrol needs --name and --csr\n");
		return 2;
	}
	memset(&v, 0, sizeof(v));
	if (o->valid_days != NULL) {
		unsigned long d = strtoul(o->valid_days, &end, 10);

		if (*end != '\0' || d < 1 || d > MSG_ENROL_DAYS_MAX) {
			fprintf(stderr, "sealadm: --valid-days: 1 to %d\n", MSG_ENROL_DAYS_MAX);
			return 2;
		}
		v.days = (uint32_t)d;
	}
	if (fits(v.name, sizeof(v.name), o->name, "--name") != 0 ||
	    (o->unit && fits(v.unit, sizeof(v.unit), o->unit, "--unit") != 0))
		return 2;
	if (read_file(o->csr, MSG_CERT_MAX, 0, &csr, &len) != 0)
		return 1;
	v.csr_pem = csr;
	v.csr_len = len;
	rc = adm_enrol_enc(&m, 1, &v) == 0 ? exchange(o, &m, show_certificate) : 1;
	ipc_msg_free(&m);
	free(csr);
	return rc;
}

int
run_command(const char *command)
{
	char buf[256], *argv[16], *save = NULL, *w;
	int n = 0, st;
	pid_t pid;

	if (snprintf(buf, sizeof(buf), "%s", command) >= (int)sizeof(buf))
		return -1;
	for (w = strtok_r(buf, " ", &save); w != NULL && n < 15; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	if (n == 0 || w != NULL)
		return -1;
	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "sealadm: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* sealadm appliance poweroff|reboot: ledgered by the monitor, then run. */
static int
cmd_power(const struct opts *o, const struct config *cfg, const char *action)
{
	struct adm_power v;
	struct ipc_msg m;
	const char *cmd;
	int rc;

	if (cfg == NULL) {
		fprintf(stderr, "sealadm: appliance %s needs the configuration (--config), "
		    "for console.%s_command\n", action, action);
		return 2;
	}
	cmd = strcmp(action, "reboot") == 0 ? cfg->console.reboot_command :
	    cfg->console.poweroff_command;
	memset(&v, 0, sizeof(v));
	snprintf(v.action, sizeof(v.action), "%s", action);
	rc = adm_power_enc(&m, 1, &v) == 0 ? exchange(o, &m, show_json) : 1;
	ipc_msg_free(&m);
	if (rc == 0 && (rc = run_command(cmd)) != 0) {
		fprintf(stderr, "sealadm: %s failed (status %d)\n", cmd, rc);
		rc = 1;
	}
	return rc;
}

/* role assign|revoke */
static int
cmd_role(const struct opts *o, const char *verb)
{
	struct adm_role_assign v;
	struct ipc_msg m;
	int rc, revoke = strcmp(verb, "revoke") == 0;

	if (o->principal == NULL || o->n_roles != 1) {
		fprintf(stderr, "sealadm: role %s needs --principal and one --role\n", verb);
		return 2;
	}
	memset(&v, 0, sizeof(v));
	if (fits(v.principal, sizeof(v.principal), o->principal, "--principal") != 0 ||
	    fits(v.role, sizeof(v.role), o->roles[0], "--role") != 0 ||
	    (o->unit && fits(v.unit, sizeof(v.unit), o->unit, "--unit") != 0))
		return 2;
	rc = (revoke ? adm_role_revoke_enc(&m, 1, &v) : adm_role_assign_enc(&m, 1, &v)) == 0 ?
	    exchange(o, &m, show_json) : 1;
	ipc_msg_free(&m);
	return rc;
}

static int
cmd_principal_state(const struct opts *o, const char *verb)
{
	struct adm_principal_name v;
	struct ipc_msg m;
	int rc, enable = strcmp(verb, "enable") == 0;

	memset(&v, 0, sizeof(v));
	if (o->principal == NULL) {
		fprintf(stderr, "sealadm: principal %s needs --principal NAME\n", verb);
		return 2;
	}
	if (fits(v.principal, sizeof(v.principal), o->principal, "--principal") != 0)
		return 2;
	rc = (enable ? adm_principal_enable_enc(&m, 1, &v) : adm_principal_name_enc(&m, 1, &v)) ==
	    0 ? exchange(o, &m, show_json) : 1;
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
	rc = adm_word_add_enc(&m, 1, &v) == 0 ? exchange(o, &m, show_json) : 1;
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
	rc = adm_word_remove_enc(&m, 1, &v) == 0 ? exchange(o, &m, show_json) : 1;
	ipc_msg_free(&m);
	return rc;
}

static const char *
jtext(json_t *j, const char *k)
{
	const char *v = json_string_value(json_object_get(j, k));

	return v ? v : "?";
}

int
show_revoked(json_t *j)
{
	printf("certificate %s revoked and ledgered; the CRL at %s now lists %lld, valid "
	    "until %s, and seald was asked to re-read it (its log says if it refuses)\n",
	    jtext(j, "serial"), jtext(j, "crl"),
	    (long long)json_integer_value(json_object_get(j, "revoked")), jtext(j, "next_update"));
	return 0;
}

static int
cmd_revoke(const struct opts *o)
{
	struct adm_revoke v;
	struct ipc_msg m;
	int rc;

	if ((o->serial == NULL) == (o->cert == NULL) || o->reason == NULL) {
		fprintf(stderr, "sealadm: cert revoke needs --serial HEX or --cert FILE, and "
		    "--reason TEXT\n");
		return 2;
	}
	memset(&v, 0, sizeof(v));
	if (o->cert != NULL) {
		/* The serial of the certificate in the file (PEM), named as well. */
		FILE *f = fopen(o->cert, "re");
		X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
		char *subj;

		if (f != NULL)
			fclose(f);
		if (x == NULL) {
			fprintf(stderr, "sealadm: %s: not a PEM certificate\n", o->cert);
			return 2;
		}
		ca_serial_hex(x, v.serial, sizeof(v.serial));
		subj = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
		printf("revoking the certificate of %s, serial %s\n", subj ? subj : "?", v.serial);
		OPENSSL_free(subj);
		X509_free(x);
	} else if (fits(v.serial, sizeof(v.serial), o->serial, "--serial") != 0)
		return 2;
	if (fits(v.reason, sizeof(v.reason), o->reason, "--reason") != 0)
		return 2;
	if (adm_revoke_enc(&m, 1, &v) != 0) {
		fprintf(stderr, "sealadm: --serial and --reason: one line each, not empty\n");
		return 2;
	}
	rc = exchange(o, &m, show_revoked);
	ipc_msg_free(&m);
	return rc;
}

/* ---- the auditor's reads: the ledger and its alerts ----------------------- */

int
audit_entries_msg(struct ipc_msg *m, uint64_t start, uint32_t count,
    const struct audit_filter *f)
{
	struct msg_ledger_entries v;

	memset(&v, 0, sizeof(v));
	v.start = start;
	v.count = count;
	v.from_ms = f->from * 1000;
	v.to_ms = f->to ? f->to * 1000 : UINT64_MAX;
	if (fits(v.seal, sizeof(v.seal), f->seal, "seal") != 0 ||
	    fits(v.principal, sizeof(v.principal), f->principal, "principal") != 0 ||
	    fits(v.unit, sizeof(v.unit), f->unit, "unit") != 0 ||
	    fits(v.document_name, sizeof(v.document_name), f->document_name,
	    "document name") != 0)
		return -1;
	if (v.from_ms >= v.to_ms) {
		fprintf(stderr, "sealadm: the time range is empty (from is not before to)\n");
		return -1;
	}
	if (msg_ledger_entries_enc(m, 1, &v) != 0) {
		fprintf(stderr, "sealadm: a filter is not valid (a seal, principal or unit id: "
		    "A-Z a-z 0-9 . _ -; a document name: text without control characters)\n");
		return -1;
	}
	m->type = ADM_LEDGER_ENTRIES;
	return 0;
}

int
audit_alerts_msg(struct ipc_msg *m, uint64_t start, uint32_t count, const char *kind,
    uint64_t from, uint64_t to)
{
	struct msg_alerts v;

	memset(&v, 0, sizeof(v));
	v.start = start;
	v.count = count;
	v.from_ms = from * 1000;
	v.to_ms = to ? to * 1000 : UINT64_MAX;
	if (fits(v.kind, sizeof(v.kind), kind, "kind") != 0)
		return -1;
	if (v.from_ms >= v.to_ms) {
		fprintf(stderr, "sealadm: the time range is empty (from is not before to)\n");
		return -1;
	}
	if (msg_alerts_enc(m, 1, &v) != 0) {
		fprintf(stderr, "sealadm: a filter is not valid\n");
		return -1;
	}
	m->type = ADM_ALERTS;
	return 0;
}

int
audit_evidence_msg(struct ipc_msg *m, const char *text)
{
	struct msg_evidence v;
	char *end;

	memset(&v, 0, sizeof(v));
	errno = 0;
	v.seq = strtoull(text, &end, 10);
	if (*text < '0' || *text > '9' || *end != '\0' || errno != 0) {
		fprintf(stderr, "sealadm: a ledger sequence number is digits, from 0\n");
		return -1;
	}
	if (msg_evidence_enc(m, 1, &v) != 0)
		return -1;
	m->type = ADM_EVIDENCE;
	return 0;
}

/* --start and --count (default 0 and 100), and --from, --to. */
static int
paging(const struct opts *o, uint64_t *start, uint32_t *count, uint64_t *from, uint64_t *to)
{
	char *end;
	unsigned long long v;

	*start = 0;
	*count = 100;
	*from = *to = 0;
	if (o->start != NULL) {
		v = strtoull(o->start, &end, 10);
		if (*o->start < '0' || *o->start > '9' || *end != '\0') {
			fprintf(stderr, "sealadm: --start: a ledger sequence number, from 0\n");
			return -1;
		}
		*start = v;
	}
	if (o->count != NULL) {
		v = strtoull(o->count, &end, 10);
		if (*o->count < '0' || *o->count > '9' || *end != '\0' || v < 1 || v > 1000) {
			fprintf(stderr, "sealadm: --count: 1 to 1000\n");
			return -1;
		}
		*count = (uint32_t)v;
	}
	if ((o->from && parse_utc(o->from, "--from", from) != 0) ||
	    (o->to && parse_utc(o->to, "--to", to) != 0))
		return -1;
	return 0;
}

static int
cmd_ledger_entries(const struct opts *o)
{
	struct audit_filter f = { o->seal ? o->seal : "", o->principal ? o->principal : "",
	    o->unit ? o->unit : "", o->document_name ? o->document_name : "", 0, 0 };
	uint64_t start;
	uint32_t count;
	struct ipc_msg m;
	int rc;

	if (paging(o, &start, &count, &f.from, &f.to) != 0 ||
	    audit_entries_msg(&m, start, count, &f) != 0)
		return 2;
	rc = exchange(o, &m, show_json);
	ipc_msg_free(&m);
	return rc;
}

static int
cmd_alerts(const struct opts *o)
{
	uint64_t start, from, to;
	uint32_t count;
	struct ipc_msg m;
	int rc;

	if (paging(o, &start, &count, &from, &to) != 0 ||
	    audit_alerts_msg(&m, start, count, o->kind ? o->kind : "", from, to) != 0)
		return 2;
	rc = exchange(o, &m, show_json);
	ipc_msg_free(&m);
	return rc;
}

int
show_thresholds(json_t *j)
{
	json_t *seq = json_object_get(j, "seq");

	if (seq != NULL)
		printf("alert thresholds ledgered (entry %lld) and in force:\n",
		    (long long)json_integer_value(seq));
	printf("burst:              more than %lld sealings with one seal, or by one principal, "
	    "within %lld s\n", (long long)json_integer_value(json_object_get(j, "burst_max")),
	    (long long)json_integer_value(json_object_get(j, "burst_window")));
	printf("repeated refusals:  %lld refused sign requests of one principal within %lld s\n",
	    (long long)json_integer_value(json_object_get(j, "refusals_max")),
	    (long long)json_integer_value(json_object_get(j, "refusals_window")));
	printf("set by:             %s\n", strcmp(jtext(j, "source"), "policy") == 0 ?
	    "a secadmin (the policy store)" : "the configuration (alerts.*; no secadmin has "
	    "set them)");
	return 0;
}

/* alerts thresholds: shown, or set with any of the four options. */
static int
cmd_thresholds(const struct opts *o)
{
	struct adm_alert_thresholds v;
	const char *arg[4] = { o->burst_max, o->burst_window, o->refusals_max,
		o->refusals_window };
	static const char *const name[4] = { "--burst-max", "--burst-window",
		"--refusals-max", "--refusals-window" };
	uint32_t *f[4] = { &v.burst_max, &v.burst_window, &v.refusals_max, &v.refusals_window };
	struct ipc_msg m;
	int rc, any = 0;

	memset(&v, 0, sizeof(v));
	for (int i = 0; i < 4; i++) {
		if (arg[i] == NULL)
			continue;
		if (grant_number(arg[i], name[i], f[i]) != 0)
			return 2;
		if (*f[i] == 0) {
			fprintf(stderr, "sealadm: %s: at least 1\n", name[i]);
			return 2;
		}
		any = 1;
	}
	if (!any)
		ipc_msg_init(&m, ADM_ALERT_THRESHOLDS, 1);
	else if (adm_alert_thresholds_enc(&m, 1, &v) != 0)
		return 2;
	rc = exchange(o, &m, show_thresholds);
	ipc_msg_free(&m);
	return rc;
}

static int
cmd_evidence(const struct opts *o)
{
	struct ipc_msg m;
	int rc;

	if (o->seq == NULL) {
		fprintf(stderr, "sealadm: evidence needs --seq N (a signature's ledger entry)\n");
		return 2;
	}
	if (audit_evidence_msg(&m, o->seq) != 0)
		return 2;
	rc = exchange(o, &m, show_json);
	ipc_msg_free(&m);
	return rc;
}

static int
cmd_simple(const struct opts *o, uint16_t type)
{
	struct ipc_msg m;
	int rc;

	ipc_msg_init(&m, type, 1);
	rc = exchange(o, &m, show_json);
	ipc_msg_free(&m);
	return rc;
}

/* One certificate's expiry as {"name", "path", "not_after", "days_left",
 * "expired"};
 * {"name", "path", "error"} when it cannot be read. */
static json_t *
cert_expiry(const char *name, const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	const ASN1_TIME *na = c ? X509_get0_notAfter(c) : NULL;
	struct tm tm;
	char when[32];
	int days = 0, secs = 0;
	json_t *o;

	if (f != NULL)
		fclose(f);
	if (na == NULL || ASN1_TIME_to_tm(na, &tm) != 1 ||
	    ASN1_TIME_diff(&days, &secs, NULL, na) != 1 ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		o = json_pack("{s:s,s:s,s:s}", "name", name, "path", path, "error",
		    f == NULL ? "cannot be read" : "not a PEM certificate");
	else
		o = json_pack("{s:s,s:s,s:s,s:i,s:b}", "name", name, "path", path, "not_after", when,
		    "days_left", days, "expired", days < 0 || (days == 0 && secs < 0));
	X509_free(c);
	ERR_clear_error();
	return o;
}

json_t *
local_status(const struct config *cfg)
{
	static const char *const certs[][2] = {
		{ "appliance CA", "ca.pem" }, { "TSA", "tsa.pem" }, { "ledger audit", "audit.pem" },
	};
	char path[4096];
	struct statvfs vfs;
	json_t *o = json_object(), *a = json_array();

	if (o == NULL || a == NULL) {
		json_decref(o);
		json_decref(a);
		return NULL;
	}
	json_object_set_new(o, "clock", json_string(tsa_clock_synced() ? "synchronised" :
	    "unsynchronised"));
	if (statvfs(cfg->appliance.state_dir, &vfs) == 0)
		json_object_set_new(o, "disk", json_pack("{s:s,s:I,s:I}", "path",
		    cfg->appliance.state_dir, "free_bytes", (json_int_t)vfs.f_bavail *
		    (json_int_t)vfs.f_frsize, "total_bytes", (json_int_t)vfs.f_blocks *
		    (json_int_t)vfs.f_frsize));
	if (cfg->tls.certificate != NULL)
		json_array_append_new(a, cert_expiry("TLS server", cfg->tls.certificate));
	for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->appliance.state_dir, certs[i][1]);
		json_array_append_new(a, cert_expiry(certs[i][0], path));
	}
	json_object_set_new(o, "certificates", a);
	return o;
}

/* The monitor's status, with what this console sees itself (local_status). */
static int
cmd_status(const struct opts *o, const struct config *cfg)
{
	struct ipc_msg m;
	json_t *j = NULL;
	int rc = 1;

	ipc_msg_init(&m, ADM_STATUS, 1);
	if (admsock_call(o->socket, o->session, &m, &j) == 200) {
		if (cfg != NULL)
			json_object_update_missing_new(j, local_status(cfg));
		rc = show_json(j);
	} else
		(void)console_refusal(j);
	json_decref(j);
	ipc_msg_free(&m);
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
		{ "session-fd", 1, NULL, 1016 }, { "template", 1, NULL, 1017 },
		{ "csr", 1, NULL, 1018 }, { "valid-days", 1, NULL, 1019 },
		{ "start", 1, NULL, 1020 }, { "count", 1, NULL, 1021 },
		{ "seq", 1, NULL, 1022 }, { "must-change", 0, NULL, 1023 },
		{ "document-name", 1, NULL, 1024 }, { "out", 1, NULL, 1025 },
		{ "address", 1, NULL, 1026 }, { "gateway", 1, NULL, 1027 },
		{ "dns", 1, NULL, 1028 }, { "ntp", 1, NULL, 1029 },
		{ "otp-fd", 1, NULL, 1030 }, { "serial", 1, NULL, 1031 },
		{ "reason", 1, NULL, 1032 }, { "san", 1, NULL, 1033 },
		{ "share-dir", 1, NULL, 1034 }, { "new-passphrase-fd", 1, NULL, 1035 },
		{ "syslog", 1, NULL, 1036 }, { "burst-max", 1, NULL, 1037 },
		{ "burst-window", 1, NULL, 1038 }, { "refusals-max", 1, NULL, 1039 },
		{ "refusals-window", 1, NULL, 1040 },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+c:s:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 's': o->socket = optarg; break;
		case 'f':
			if (o->share_file == NULL)
				o->share_file = optarg;
			if (o->n_share_files < MSG_BACKUP_SHARES_MAX)
				o->share_files[o->n_share_files++] = optarg;
			else
				o->share_files_over = 1;
			break;
		case 1025: o->out = optarg; break;
		case 1026: o->address = optarg; break;
		case 1027: o->gateway = optarg; break;
		case 1028: o->dns = optarg; break;
		case 1029: o->ntp = optarg; break;
		case 1036: o->syslog = optarg; break;
		case 1037: o->burst_max = optarg; break;
		case 1038: o->burst_window = optarg; break;
		case 1039: o->refusals_max = optarg; break;
		case 1040: o->refusals_window = optarg; break;
		case 1030: o->otp_fd = optarg; break;
		case 1031: o->serial = optarg; break;
		case 1032: o->reason = optarg; break;
		case 1033: o->san = optarg; break;
		case 1034: o->share_dir = optarg; break;
		case 1035: o->new_pass_fd = optarg; break;
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
		case 1017: o->template = optarg; break;
		case 1018: o->csr = optarg; break;
		case 1019: o->valid_days = optarg; break;
		case 1020: o->start = optarg; break;
		case 1021: o->count = optarg; break;
		case 1022: o->seq = optarg; break;
		case 1023: o->must_change = 1; break;
		case 1024: o->document_name = optarg; break;
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
	if (o.socket == NULL && strcmp(noun, "menu") == 0 && !verb[0] &&
	    access(o.config ? o.config : CONFIG_DEFAULT_PATH, F_OK) != 0 && errno == ENOENT) {
		/* Never set up: the console offers first boot, then its login. */
		if ((rc = menu_firstboot(o.config ? o.config : CONFIG_DEFAULT_PATH,
		    o.template)) != 0)
			return rc < 0 ? 1 : rc;
	}
	if (o.socket == NULL) {
		if (config_load(o.config, &cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "sealadm: %s\n", err);
			return 1;
		}
		o.socket = cfg->admin_socket;
	}
	/* The account commands take --session-fd for their own use; status and
	 * unseal need none; every other command runs under the session given. */
	if (o.session_fd != NULL && strcmp(noun, "login") != 0 && strcmp(noun, "logout") != 0 &&
	    strcmp(noun, "admin") != 0 && strcmp(noun, "menu") != 0) {
		if (read_fd_line(o.session_fd, "--session-fd", o.session, sizeof(o.session)) != 0) {
			config_free(cfg);
			return 2;
		}
	}
	if (strcmp(noun, "status") == 0 && !verb[0])
		rc = cmd_status(&o, cfg);
	else if (strcmp(noun, "unseal") == 0 && !verb[0])
		rc = cmd_unseal(&o);
	else if (strcmp(noun, "seal") == 0 && strcmp(verb, "create") == 0)
		rc = cmd_seal_create(&o);
	else if (strcmp(noun, "principal") == 0 && strcmp(verb, "add") == 0)
		rc = cmd_principal_add(&o);
	else if (strcmp(noun, "principal") == 0 &&
	    (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0))
		rc = cmd_principal_state(&o, verb);
	else if (strcmp(noun, "grant") == 0 && strcmp(verb, "add") == 0)
		rc = cmd_grant_add(&o);
	else if (strcmp(noun, "appliance") == 0 &&
	    (strcmp(verb, "poweroff") == 0 || strcmp(verb, "reboot") == 0))
		rc = cmd_power(&o, cfg, verb);
	else if (strcmp(noun, "enrol") == 0 && !verb[0])
		rc = cmd_enrol(&o);
	else if (strcmp(noun, "cert") == 0 && strcmp(verb, "revoke") == 0)
		rc = cmd_revoke(&o);
	else if (strcmp(noun, "custody") == 0 && strcmp(verb, "reshare") == 0) {
		if (cfg == NULL) {
			fprintf(stderr, "sealadm: custody reshare needs the configuration (--config)\n");
			rc = 2;
		} else if (o.share_files_over) {
			fprintf(stderr, "sealadm: at most %d --share-file\n", MSG_BACKUP_SHARES_MAX);
			rc = 2;
		} else
			rc = console_reshare(o.socket, o.session, cfg, &o);
	} else if (strcmp(noun, "tls") == 0 && (strcmp(verb, "show") == 0 ||
	    strcmp(verb, "issue") == 0 || strcmp(verb, "request") == 0 ||
	    strcmp(verb, "install") == 0))
		rc = cmd_tls(&o, cfg, verb);
	else if (strcmp(noun, "unit") == 0 && strcmp(verb, "add") == 0)
		rc = cmd_unit_add(&o);
	else if (strcmp(noun, "role") == 0 &&
	    (strcmp(verb, "assign") == 0 || strcmp(verb, "revoke") == 0))
		rc = cmd_role(&o, verb);
	else if (strcmp(noun, "role") == 0 && strcmp(verb, "list") == 0)
		rc = cmd_simple(&o, ADM_ROLE_LIST);
	else if (strcmp(noun, "approvers") == 0 && strcmp(verb, "list") == 0)
		rc = cmd_simple(&o, ADM_APPROVER_GROUPS);
	else if (strcmp(noun, "words") == 0 && strcmp(verb, "add") == 0)
		rc = cmd_words_add(&o);
	else if (strcmp(noun, "words") == 0 && strcmp(verb, "list") == 0)
		rc = cmd_simple(&o, ADM_WORD_LIST);
	else if (strcmp(noun, "words") == 0 && strcmp(verb, "remove") == 0)
		rc = cmd_words_remove(&o);
	else if (strcmp(noun, "ledger") == 0 && strcmp(verb, "entries") == 0)
		rc = cmd_ledger_entries(&o);
	else if (strcmp(noun, "ledger") == 0 && strcmp(verb, "export") == 0)
		rc = cmd_ledger_export(&o);
	else if (strcmp(noun, "alerts") == 0 && (strcmp(verb, "list") == 0 || !verb[0]))
		rc = cmd_alerts(&o);
	else if (strcmp(noun, "alerts") == 0 && strcmp(verb, "thresholds") == 0)
		rc = cmd_thresholds(&o);
	else if (strcmp(noun, "evidence") == 0 && !verb[0])
		rc = cmd_evidence(&o);
	else if (strcmp(noun, "totp") == 0 && (strcmp(verb, "enrol") == 0 ||
	    strcmp(verb, "confirm") == 0 || strcmp(verb, "reset") == 0 ||
	    strcmp(verb, "recover") == 0)) {
		if (o.share_files_over) {
			fprintf(stderr, "sealadm: at most %d --share-file\n", MSG_BACKUP_SHARES_MAX);
			rc = 2;
		} else
			rc = cmd_totp(&o, cfg, verb);
	}
	else if (strcmp(noun, "network") == 0 &&
	    (strcmp(verb, "show") == 0 || strcmp(verb, "set") == 0))
		rc = cmd_network(&o, cfg, verb);
	else if (strcmp(noun, "backup") == 0 && strcmp(verb, "create") == 0) {
		if (o.share_files_over) {
			fprintf(stderr, "sealadm: at most %d --share-file\n", MSG_BACKUP_SHARES_MAX);
			rc = 2;
		} else
			rc = cmd_backup(&o, cfg);
	} else if (strcmp(noun, "menu") == 0 && !verb[0])
		rc = menu_main(o.socket, cfg);
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
	secret_wipe(o.session, sizeof(o.session));
	config_free(cfg);
	return rc;
}
