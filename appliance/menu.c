/*
 * menu — sealadm's console: the interactive menu (sealadm with no command)
 * and the script commands login, logout and admin add. docs/admin-guide.md
 * shows the screens.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "../daemon/client/admsock.h"
#include "../daemon/client/tty.h"
#include "../daemon/msg.h"
#include "../hsm/ca.h"
#include "../lib/config.h"
#include "../lib/err.h"
#include "../lib/netcfg.h"
#include "../lib/secret.h"
#include "sealadm.h"

/* ---- console accounts: login, sessions, the interactive menu --------------
 * docs/admin-guide.md shows the screens. The menu is plain numbered lines
 * (80x24, no colour, no cursor keys): it works on a VT100 serial line and
 * under expect. Each request is its own admin-socket connection, so that an
 * admin sitting at the menu never holds up the socket. */

#define LINE_MAX_MENU 64	/* bytes of a menu answer or a field */
#define FIELD_MAX 256

struct con {
	const char *sock;
	const struct config *cfg;	/* NULL: started with --socket, no config */
	unsigned idle;			/* seconds; 0: wait for ever */
	char session[MSG_SESSION_MAX];
	char user[MSG_ADMIN_USER_MAX];
	char role[MSG_ROLE_MAX];
	int must_change;		/* the passphrase was chosen for this admin */
};

/* Say what is wrong with a line that read_line refused; TTY_IDLE and TTY_EOF
 * are passed up (returned), the others become TTY_BAD. */
static int
input_refused(int rc, size_t cap)
{
	if (rc == TTY_LONG)
		printf("input refused: too long (at most %zu characters)\n", cap - 1);
	else if (rc == TTY_BAD)
		printf("input refused: control characters or invalid UTF-8\n");
	return rc == TTY_LONG ? TTY_BAD : rc;
}

/* Prompt and read one answer; TTY_OK, TTY_BAD (said why), TTY_IDLE, TTY_EOF. */
static int
ask(const struct con *c, const char *prompt, char *buf, size_t cap, int hidden)
{
	int rc;

	printf("%s", prompt);
	if ((rc = tty_read_line(STDIN_FILENO, buf, cap, hidden, c->idle)) != TTY_OK)
		return input_refused(rc, cap);
	if (buf[0] == '\0') {
		printf("input refused: empty\n");
		return TTY_BAD;
	}
	return TTY_OK;
}

/* y/N: 1 for yes, 0 for anything else, or TTY_IDLE / TTY_EOF. */
static int
yes_no(const struct con *c, const char *what)
{
	char a[LINE_MAX_MENU];
	int rc;

	printf("%s [y/N]: ", what);
	if ((rc = tty_read_line(STDIN_FILENO, a, sizeof(a), 0, c->idle)) == TTY_IDLE || rc == TTY_EOF)
		return rc;
	return rc == TTY_OK && (strcmp(a, "y") == 0 || strcmp(a, "Y") == 0 || strcmp(a, "yes") == 0);
}

/* As yes_no, saying "cancelled" for no: the question before a change. */
static int
confirm(const struct con *c, const char *what)
{
	int rc = yes_no(c, what);

	if (rc == 0)
		printf("cancelled\n");
	return rc;
}

/* Send m (as c's session, once logged in); its reply's HTTP status and JSON
 * (*j, or NULL), or -1 (said why). */
static int
call(const struct con *c, struct ipc_msg *m, json_t **j)
{
	return admsock_call(c->sock, c->session, m, j);
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
	int st = call(c, m, &j);

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
	json_t *d, *cert;
	size_t i;

	printf("appliance %s: %s", jget(j, "appliance"), jget(j, "state"));
	if (strcmp(jget(j, "state"), "sealed") == 0)
		printf(" (%lld of %lld shares entered)",
		    (long long)json_integer_value(json_object_get(j, "have")),
		    (long long)json_integer_value(json_object_get(j, "need")));
	printf("\nHSM: %s\nledger: %s, %lld entries\n", jget(j, "hsm"), jget(j, "ledger"),
	    (long long)json_integer_value(json_object_get(j, "ledger_size")));
	if (json_object_get(j, "clock") != NULL)
		printf("clock: %s\n", jget(j, "clock"));
	if ((d = json_object_get(j, "disk")) != NULL)
		printf("disk: %lld MiB free of %lld MiB (%s)\n",
		    (long long)(json_integer_value(json_object_get(d, "free_bytes")) >> 20),
		    (long long)(json_integer_value(json_object_get(d, "total_bytes")) >> 20),
		    jget(d, "path"));
	json_array_foreach(json_object_get(j, "certificates"), i, cert) {
		if (json_object_get(cert, "error") != NULL)
			printf("certificate %s: %s (%s)\n", jget(cert, "name"), jget(cert, "error"),
			    jget(cert, "path"));
		else
			printf("certificate %s: %s %s (%lld days)%s\n", jget(cert, "name"),
			    json_is_true(json_object_get(cert, "expired")) ? "EXPIRED" : "expires",
			    jget(cert, "not_after"), (long long)json_integer_value(
			    json_object_get(cert, "days_left")),
			    json_is_true(json_object_get(cert, "expired")) ? "" :
			    json_integer_value(json_object_get(cert, "days_left")) < 30 ?
			    "  RENEW SOON" : "");
	}
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

/* The monitor's status and what this console sees itself, shown by show. */
static void
status(struct con *c, void (*show)(json_t *))
{
	struct ipc_msg m;
	json_t *j = NULL;
	int st;

	ipc_msg_init(&m, ADM_STATUS, 1);
	if ((st = call(c, &m, &j)) == 200) {
		if (c->cfg != NULL)
			json_object_update_missing_new(j, local_status(c->cfg));
		show(j);
	} else if (st > 0)
		say_error(j);
	json_decref(j);
	ipc_msg_free(&m);
}

static int
it_status(struct con *c)
{
	status(c, show_status);
	return 0;
}

static int
it_status_details(struct con *c)
{
	status(c, show_menu_json);
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
		return TTY_EOF;
	rc = ask(c, "share (not shown): ", v->share, sizeof(v->share), 1);
	if (rc == TTY_OK && (rc = confirm(c, "Enter this share?")) == 1 &&
	    adm_unseal_enc(&m, 1, v) == 0)
		(void)menu_send(c, &m, show_unseal_menu);
	secret_free(&v);
	return rc < 0 && rc != TTY_BAD ? rc : 0;
}

/* A new passphrase, twice, checked here first; TTY_OK or as ask. */
static int
ask_new_pass(const struct con *c, char *pass, char *again)
{
	const char *why;
	int rc;

	if ((rc = ask(c, "new passphrase (not shown): ", pass, MSG_PASS_MAX + 1, 1)) != TTY_OK)
		return rc;
	if (msg_passphrase_check(pass, &why) != 0) {
		printf("input refused: %s\n", why);
		return TTY_BAD;
	}
	if ((rc = ask(c, "new passphrase again: ", again, MSG_PASS_MAX + 1, 1)) != TTY_OK)
		return rc;
	if (strcmp(pass, again) != 0) {
		printf("input refused: the two passphrases differ\n");
		return TTY_BAD;
	}
	return TTY_OK;
}

/* Change c's passphrase: 1 when changed, 0 when not (said why), or
 * TTY_IDLE / TTY_EOF. */
static int
passwd_change(struct con *c)
{
	struct adm_passwd *v = secret_alloc(sizeof(*v));
	char *again = secret_alloc(MSG_PASS_MAX + 1);
	struct ipc_msg m;
	int rc = TTY_EOF, done = 0;

	if (v != NULL && again != NULL) {
		snprintf(v->session, sizeof(v->session), "%s", c->session);
		rc = ask(c, "current passphrase (not shown): ", v->old_pass, sizeof(v->old_pass), 1);
		if (rc == TTY_OK)
			rc = ask_new_pass(c, v->new_pass, again);
		if (rc == TTY_OK && (rc = confirm(c, "Change your passphrase?")) == 1 &&
		    adm_passwd_enc(&m, 1, v) == 0 && menu_send(c, &m, NULL) == 0) {
			printf("passphrase changed\n");
			c->must_change = 0;
			done = 1;
		}
	}
	secret_free(&v);
	secret_free(&again);
	return done ? 1 : rc < 0 && rc != TTY_BAD ? rc : 0;
}

static int
it_passwd(struct con *c)
{
	int rc = passwd_change(c);

	return rc == 1 ? 0 : rc;
}

static int
it_admin_add(struct con *c)
{
	struct adm_admin_add *v = secret_alloc(sizeof(*v));
	char *again = secret_alloc(MSG_PASS_MAX + 1), q[160];
	struct ipc_msg m;
	int rc = TTY_EOF;

	if (v != NULL && again != NULL) {
		snprintf(v->session, sizeof(v->session), "%s", c->session);
		if ((rc = ask(c, "username: ", v->user, sizeof(v->user), 0)) == TTY_OK &&
		    !msg_admin_user_ok(v->user)) {
			printf("input refused: a username is a-z, then up to 31 of a-z 0-9 _ -\n");
			rc = TTY_BAD;
		}
		if (rc == TTY_OK && (rc = ask(c, "role (sysadmin, secadmin, auditor): ", v->role,
		    sizeof(v->role), 0)) == TTY_OK && !msg_admin_role_ok(v->role)) {
			printf("input refused: the role is sysadmin, secadmin or auditor\n");
			rc = TTY_BAD;
		}
		if (rc == TTY_OK)
			rc = ask_new_pass(c, v->pass, again);
		/* Not for the first account: its owner is the one typing. */
		if (rc == TTY_OK && c->session[0] != '\0') {
			if ((rc = yes_no(c, "Must they replace this passphrase at their first "
			    "login?")) >= 0) {
				v->must_change = rc == 1;
				rc = TTY_OK;
			}
		}
		snprintf(q, sizeof(q), "Add administrator %s (%s)?", v->user, v->role);
		if (rc == TTY_OK && (rc = confirm(c, q)) == 1 && adm_admin_add_enc(&m, 1, v) == 0 &&
		    menu_send(c, &m, NULL) == 0)
			printf("administrator %s added\n", v->user);
	}
	secret_free(&v);
	secret_free(&again);
	return rc < 0 && rc != TTY_BAD ? rc : 0;
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
		rc = tty_read_line(STDIN_FILENO, f[i].dst, f[i].cap, 0, c->idle);
		if (rc != TTY_OK)
			return input_refused(rc, f[i].cap);
		if (f[i].dst[0] == '\0' && !f[i].optional) {
			printf("input refused: empty\n");
			return TTY_BAD;
		}
	}
	return question ? confirm(c, question) : 1;
}

#define ANSWER(rc) ((rc) < 0 && (rc) != TTY_BAD ? (rc) : 0)

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
		return TTY_EOF;
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

#define PEM_PASTE_MAX (16 * 1024)

/*
 * PEM blocks of kind (e.g. "CERTIFICATE REQUEST") pasted at the console,
 * into buf: blank lines before the first skipped, then its lines up to its
 * END line (trailing blanks ignored). With many, more blocks of kind may
 * follow, and an empty line ends them. A paste that goes wrong is still read
 * up to its end (the END line, or with many or once gone wrong an empty
 * line), so that its rest is not taken for menu answers. TTY_OK, TTY_BAD
 * (said why), TTY_IDLE or TTY_EOF.
 */
static int
read_pem(const struct con *c, const char *kind, int many, char *buf, size_t cap, size_t *len)
{
	char line[LINE_MAX_MENU + 16], begin[64], end[64], bad[128] = "";
	size_t n;
	int rc, in = 0, blocks = 0;

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", kind);
	snprintf(end, sizeof(end), "-----END %s-----", kind);
	*len = 0;
	for (;;) {
		rc = tty_read_line(STDIN_FILENO, line, sizeof(line), 0, c->idle);
		if (rc == TTY_IDLE || rc == TTY_EOF)
			return rc;
		if (rc != TTY_OK) {
			if (!bad[0])
				snprintf(bad, sizeof(bad), "%s", rc == TTY_LONG ? "a line longer than "
				    "a PEM line" : "control characters or invalid UTF-8");
			continue;
		}
		n = strlen(line);
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		if (n == 0) {
			if (*len == 0 && !bad[0] && !in)
				continue;
			break;		/* the end of many, or of a paste gone wrong */
		}
		if (!in && strcmp(line, begin) != 0 && !bad[0]) {
			int k = snprintf(bad, sizeof(bad), "not a ");

			for (const char *p = kind; *p && k + 1 < (int)sizeof(bad); p++)
				bad[k++] = (char)tolower((unsigned char)*p);
			snprintf(bad + k, sizeof(bad) - (size_t)k, ": it starts with %s", begin);
		}
		in = in || strcmp(line, begin) == 0;
		if (!bad[0] && *len + n + 2 > cap)
			snprintf(bad, sizeof(bad), "too long");
		if (!bad[0])
			*len += (size_t)snprintf(buf + *len, cap - *len, "%s\n", line);
		if (strcmp(line, end) == 0) {
			in = 0;
			blocks++;
			if (!many)
				break;
		}
	}
	if (!bad[0] && blocks == 0 && !in)
		snprintf(bad, sizeof(bad), "nothing pasted");
	else if (!bad[0] && in)
		snprintf(bad, sizeof(bad), "it ends without its END line");
	if (bad[0]) {
		printf("input refused: %s\n", bad);
		return TTY_BAD;
	}
	return TTY_OK;
}

static void
show_issued(json_t *j)
{
	printf("enrolled %s. Its client certificate (copy all the lines between the marks):\n"
	    "8<----------------------------------------------------------------------\n%s"
	    "8<----------------------------------------------------------------------\n",
	    jget(j, "principal"), jget(j, "certificate"));
}

/* A business system sends a certificate request; the appliance CA issues its
 * client certificate, shown here, and registers it (ADM_ENROL). */
static int
it_enrol_csr(struct con *c)
{
	struct adm_enrol v;
	struct field f[] = {
		{ "name: ", v.name, sizeof(v.name), 0 },
		{ "unit (empty: group): ", v.unit, sizeof(v.unit), 1 },
	};
	char *pem = malloc(PEM_PASTE_MAX), q[128];
	struct ipc_msg m;
	size_t len = 0;
	int rc;

	if (pem == NULL)
		return TTY_EOF;
	memset(&v, 0, sizeof(v));
	if ((rc = ask_fields(c, f, 2, NULL)) == 1) {
		printf("paste the system's certificate request (PEM), up to its END line:\n");
		if ((rc = read_pem(c, "CERTIFICATE REQUEST", 0, pem, PEM_PASTE_MAX, &len)) == TTY_OK) {
			snprintf(q, sizeof(q), "Issue a client certificate to %s and register it?",
			    v.name);
			rc = confirm(c, q);
		}
	}
	if (rc == 1) {
		v.csr_pem = (const uint8_t *)pem;
		v.csr_len = len;
		if (adm_enrol_enc(&m, 1, &v) == 0)
			(void)menu_send(c, &m, show_issued);
		else
			printf("input refused: the request does not fit in one command\n");
	}
	free(pem);
	return ANSWER(rc);
}

static void
show_power(json_t *j)
{
	printf("ledgered (entry %lld)\n", (long long)json_integer_value(json_object_get(j, "seq")));
}

/* The sysadmin powers the appliance off or restarts it: ledgered by the
 * monitor first (ADM_POWER), then the configured command runs here. */
static int
it_power(struct con *c)
{
	struct adm_power v;
	struct field f[] = { { "poweroff or reboot: ", v.action, sizeof(v.action), 0 } };
	struct ipc_msg m;
	const char *cmd;
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = ask_fields(c, f, 1, NULL)) != 1)
		return ANSWER(rc);
	if (strcmp(v.action, "poweroff") != 0 && strcmp(v.action, "reboot") != 0) {
		printf("input refused: poweroff or reboot\n");
		return 0;
	}
	cmd = c->cfg == NULL ? NULL : strcmp(v.action, "reboot") == 0 ?
	    c->cfg->console.reboot_command : c->cfg->console.poweroff_command;
	if (cmd == NULL) {
		printf("no console.%s_command: sealadm was started without a configuration\n",
		    v.action);
		return 0;
	}
	if ((rc = confirm(c, strcmp(v.action, "reboot") == 0 ? "Restart the appliance now?" :
	    "Power the appliance off now?")) != 1)
		return ANSWER(rc);
	if (adm_power_enc(&m, 1, &v) == 0 && menu_send(c, &m, show_power) == 0) {
		printf("running: %s\n", cmd);
		if ((rc = run_command(cmd)) != 0)
			printf("the command failed (status %d)\n", rc);
	}
	return 0;
}

/*
 * The sysadmin's TLS server certificate: shown, then replaced by a new key
 * and a certificate from the appliance CA, or a new key and a request for
 * an outside CA, or that CA's certificate installed (console_tls.c).
 */
static int
it_tls(struct con *c)
{
	char choice[8], names[MSG_SAN_MAX], cur[MSG_SAN_MAX], q[MSG_SAN_MAX + 96], *csr = NULL;
	char *pem = NULL, prompt[MSG_SAN_MAX + 64];
	struct field pick = { "choice (1-3; empty: back): ", choice, sizeof(choice), 1 };
	struct field nf = { prompt, names, sizeof(names), 1 };
	size_t len = 0;
	int rc;

	if (c->cfg == NULL || c->cfg->tls.certificate == NULL || c->cfg->tls.key == NULL) {
		printf("no tls.certificate and tls.key: sealadm was started without a "
		    "configuration\n");
		return 0;
	}
	(void)console_tls_show(c->cfg);
	printf("  1) a new key and certificate from the appliance CA\n"
	    "  2) a new key and a certificate request for an outside CA\n"
	    "  3) install the certificate the outside CA issued (for the key of 2)\n");
	if ((rc = ask_fields(c, &pick, 1, NULL)) != 1 || choice[0] == '\0')
		return ANSWER(rc);
	if (strcmp(choice, "1") != 0 && strcmp(choice, "2") != 0 && strcmp(choice, "3") != 0) {
		printf("input refused: 1, 2 or 3\n");
		return 0;
	}
	if (choice[0] != '3') {
		(void)console_tls_names(c->cfg, cur, sizeof(cur));
		snprintf(prompt, sizeof(prompt), "names (empty: %s): ", cur[0] ? cur : "none now");
		if ((rc = ask_fields(c, &nf, 1, NULL)) != 1)
			return ANSWER(rc);
		if (names[0] == '\0')
			snprintf(names, sizeof(names), "%s", cur);
		if (!ca_san_valid(names)) {
			printf("input refused: names are DNS:name and IP:address items, separated "
			    "by commas, no blanks\n");
			return 0;
		}
		snprintf(q, sizeof(q), choice[0] == '1' ? "Issue and install a new server "
		    "certificate for %s?" : "Make a new key and a request for %s (a pending "
		    "one is replaced)?", names);
		if ((rc = confirm(c, q)) != 1)
			return ANSWER(rc);
		if (choice[0] == '1') {
			(void)console_tls_issue(c->sock, c->session, c->cfg, names, 0);
			return 0;
		}
		if (console_tls_request(c->sock, c->session, c->cfg, names, &csr) == 0)
			printf("the new key waits beside %s. Give this request to the outside CA "
			    "(copy all the lines between the marks), then choose 3:\n"
			    "8<----------------------------------------------------------------"
			    "------\n%s8<------------------------------------------------------"
			    "----------------\n", c->cfg->tls.key, csr);
		free(csr);
		return 0;
	}
	if ((pem = malloc(PEM_PASTE_MAX)) == NULL)
		return TTY_EOF;
	printf("paste the certificate (PEM), then the CA certificates that came with it, "
	    "then an empty line:\n");
	if ((rc = read_pem(c, "CERTIFICATE", 1, pem, PEM_PASTE_MAX, &len)) == TTY_OK &&
	    (rc = confirm(c, "Install this certificate for seald?")) == 1)
		(void)console_tls_install(c->sock, c->session, c->cfg, pem, len);
	free(pem);
	return ANSWER(rc);
}

/* The secadmin re-shares the master secret, with M share holders present
 * and every holder of a new share in turn (console_reshare.c). */
static int
it_reshare(struct con *c)
{
	struct opts o;
	char q[256];
	int rc;

	if (c->cfg == NULL) {
		printf("no configuration: sealadm was started without one\n");
		return 0;
	}
	snprintf(q, sizeof(q), "Re-share the master secret? %u holders of the present shares "
	    "type them, then each of the %u holders of a new share gets it alone. The old "
	    "shares then unlock nothing.", c->cfg->quorum.threshold, c->cfg->quorum.shares);
	if ((rc = confirm(c, q)) != 1)
		return ANSWER(rc);
	memset(&o, 0, sizeof(o));
	(void)console_reshare(c->sock, c->session, c->cfg, &o);
	return 0;
}

static void
show_revoked_menu(json_t *j)
{
	(void)show_revoked(j);
}

/* The sysadmin revokes a client certificate by its serial: ledgered, and the
 * CRL the monitor writes is in force at once (ADM_REVOKE). */
static int
it_revoke(struct con *c)
{
	struct adm_revoke v;
	struct field f[] = {
		{ "serial (as openssl x509 -noout -serial prints it): ", v.serial,
		  sizeof(v.serial), 0 },
		{ "reason (for the ledger): ", v.reason, sizeof(v.reason), 0 },
	};
	struct ipc_msg m;
	char q[MSG_SERIAL_MAX + 96];
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = ask_fields(c, f, 2, NULL)) != 1)
		return ANSWER(rc);
	if (strncasecmp(v.serial, "serial=", 7) == 0)
		memmove(v.serial, v.serial + 7, strlen(v.serial + 7) + 1);
	snprintf(q, sizeof(q), "Revoke the certificate %s? The system using it is refused "
	    "at once.", v.serial);
	if ((rc = confirm(c, q)) != 1)
		return ANSWER(rc);
	if (adm_revoke_enc(&m, 1, &v) != 0) {
		printf("input refused: a serial and a reason, one line each\n");
		return 0;
	}
	(void)menu_send(c, &m, show_revoked_menu);
	return 0;
}

/*
 * Every admin: a one-time code secret for the login, shown once, then
 * confirmed with a first code (replacing a confirmed one takes a code of
 * it first).
 */
static int
it_totp(struct con *c)
{
	char otp[MSG_OTP_MAX];
	json_t *j = NULL;
	int rc, st;

	if ((rc = confirm(c, "Make a new one-time code secret for your login?")) != 1)
		return ANSWER(rc);
	st = console_totp(c->sock, c->session, ADM_TOTP_ENROL, "", &j);
	if (st == 409 && strcmp(jget(json_object_get(j, "error"), "code"), "totp_active") == 0) {
		json_decref(j);
		j = NULL;
		if ((rc = ask(c, "a code of your present secret (to replace it): ", otp,
		    sizeof(otp), 1)) != TTY_OK)
			return ANSWER(rc);
		st = console_totp(c->sock, c->session, ADM_TOTP_ENROL, otp, &j);
		secret_wipe(otp, sizeof(otp));
	}
	if (st != 200) {
		if (st > 0)
			say_error(j);
		json_decref(j);
		return 0;
	}
	console_totp_show(j);
	json_decref(j);
	j = NULL;
	if ((rc = ask(c, "the first code it shows (confirms it): ", otp, sizeof(otp), 1)) !=
	    TTY_OK)
		return ANSWER(rc);
	st = console_totp(c->sock, c->session, ADM_TOTP_CONFIRM, otp, &j);
	secret_wipe(otp, sizeof(otp));
	if (st == 200)
		printf("one-time code confirmed: your logins now ask for it\n");
	else if (st > 0)
		say_error(j);
	json_decref(j);
	return 0;
}

/* A secadmin removes another admin's one-time code (a lost authenticator). */
static int
it_totp_reset(struct con *c)
{
	char user[MSG_ADMIN_USER_MAX], q[MSG_ADMIN_USER_MAX + 64];
	json_t *j = NULL;
	int rc, st;

	if ((rc = ask(c, "the administrator (username): ", user, sizeof(user), 0)) != TTY_OK)
		return ANSWER(rc);
	if (!msg_admin_user_ok(user)) {
		printf("input refused: a username is a-z, then up to 31 of a-z 0-9 _ -\n");
		return 0;
	}
	snprintf(q, sizeof(q), "Remove the one-time code of %s?", user);
	if ((rc = confirm(c, q)) != 1)
		return ANSWER(rc);
	if ((st = console_totp_reset(c->sock, c->session, user, &j)) == 200)
		printf("the one-time code of %s is removed: their logins ask for none until they "
		    "set one up again\n", user);
	else if (st > 0)
		say_error(j);
	json_decref(j);
	return 0;
}

/*
 * The sysadmin's network settings: the current ones shown, the new ones
 * asked field by field, checked, confirmed; then ledgered, written and
 * applied (console_network.c).
 */
static int
it_network(struct con *c)
{
	struct netcfg cur, n;
	char dns[FIELD_MAX], ntp[FIELD_MAX], sys[FIELD_MAX], why[256];
	struct field f[] = {
		{ "address (dhcp, or ADDRESS/PREFIX such as 192.0.2.10/24): ", n.address,
		  sizeof(n.address), 0 },
		{ "gateway (empty: none): ", n.gateway, sizeof(n.gateway), 1 },
		{ "DNS servers (up to 3 addresses, separated by spaces; empty: none): ", dns,
		  sizeof(dns), 1 },
		{ "NTP servers (up to 4 addresses; empty: none): ", ntp, sizeof(ntp), 1 },
		{ "syslog servers (up to 2: ADDRESS, or udp:|tcp:ADDRESS:PORT, [IPv6]:PORT; "
		  "empty: none): ", sys, sizeof(sys), 1 },
	};
	int rc;

	if (c->cfg == NULL) {
		printf("sealadm was started without a configuration: no network settings here\n");
		return 0;
	}
	console_network_read(c->cfg, &cur);
	printf("Now:\n");
	console_network_print(&cur);
	memset(&n, 0, sizeof(n));
	dns[0] = ntp[0] = sys[0] = '\0';
	/* Each answer is checked as it comes (with what came before it). */
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if ((rc = ask_fields(c, &f[i], 1, NULL)) != 1)
			return ANSWER(rc);
		if (netcfg_split(dns, n.dns[0], sizeof(n.dns[0]), NETCFG_DNS_MAX, &n.ndns,
		    "DNS servers", why, sizeof(why)) != 0 ||
		    netcfg_split(ntp, n.ntp[0], sizeof(n.ntp[0]), NETCFG_NTP_MAX, &n.nntp,
		    "NTP servers", why, sizeof(why)) != 0 ||
		    netcfg_split(sys, n.syslog[0], sizeof(n.syslog[0]), NETCFG_SYSLOG_MAX,
		    &n.nsyslog, "syslog servers", why, sizeof(why)) != 0 ||
		    netcfg_check(&n, why, sizeof(why)) != 0) {
			printf("input refused: %s\n", why);
			return 0;
		}
	}
	(void)netcfg_syslog_canon(&n, why, sizeof(why));	/* checked: as ledgered */
	printf("New:\n");
	console_network_print(&n);
	if ((rc = confirm(c, "Apply these network settings?")) != 1)
		return ANSWER(rc);
	(void)console_network_apply(c->sock, c->session, c->cfg, &n, 0);
	return 0;
}

/*
 * The sysadmin backs the appliance up into a new file (on the backup disk);
 * M share holders, one after the other, type their shares to complete it.
 * Restore is sealprov restore, on a freshly installed appliance.
 */
static int
it_backup(struct con *c)
{
	unsigned need = c->cfg != NULL ? c->cfg->quorum.threshold : 2;
	int disk = c->cfg != NULL && c->cfg->console.backup_dir != NULL;
	char out[FIELD_MAX], prompt[FIELD_MAX + 64], q[FIELD_MAX + 64], def[FIELD_MAX] = "";
	struct adm_backup *v;
	json_t *j = NULL;
	int rc, st;

	/* With a backup disk: mounted first, the file named on it by default,
	 * and unmounted whatever came of it. */
	if (disk && console_backup_disk_mount(c->cfg) != 0)
		return 0;
	if (disk) {
		if (console_backup_default(c->cfg, def, sizeof(def)) != 0)
			printf("(console.backup_dir is too long for a name on it: give a full path)\n");
		snprintf(prompt, sizeof(prompt), "file to write (a new file; empty: %s): ",
		    def[0] ? def : "none");
	} else
		snprintf(prompt, sizeof(prompt), "file to write (a new file): ");
	rc = ask_fields(c, &(struct field){ prompt, out, sizeof(out), disk }, 1, NULL);
	if (rc == 1 && out[0] == '\0')
		snprintf(out, sizeof(out), "%s", def);
	if (rc == 1 && out[0] != '/') {
		printf("input refused: a full path, starting with /\n");
		rc = TTY_BAD;
	}
	if (rc != 1 || (v = secret_alloc(sizeof(*v))) == NULL) {
		if (disk)
			console_backup_disk_umount(c->cfg);
		return rc == 1 ? TTY_EOF : ANSWER(rc);
	}
	printf("The backup needs %u shares. Each share holder in turn: step forward and\n"
	    "type your share; it is not shown.\n", need);
	for (unsigned i = 0; i < need && i < MSG_BACKUP_SHARES_MAX; i++) {
		snprintf(prompt, sizeof(prompt), "share %u of %u (not shown): ", i + 1, need);
		if ((rc = ask(c, prompt, v->share[i], sizeof(v->share[i]), 1)) != TTY_OK)
			break;
		v->n = i + 1;
	}
	snprintf(q, sizeof(q), "Write the backup to %s now?", out);
	if (rc == TTY_OK && (rc = confirm(c, q)) == 1) {
		st = console_backup_send(c->sock, c->session, out, v, &j);
		if (st == 200)
			console_backup_show(out, j);
		else if (st > 0)
			say_error(j);
		json_decref(j);
	}
	secret_free(&v);
	if (disk)
		console_backup_disk_umount(c->cfg);
	return rc == 1 || rc == TTY_OK ? 0 : ANSWER(rc);
}

#define IMAGE_PASTE_MAX (256 * 1024)	/* base64 bytes: a PNG of up to 192 KiB */

/*
 * A seal image pasted as base64 lines (`base64 -w 76 stamp.png`) up to an
 * empty line, decoded into *png (malloc'd). TTY_OK, TTY_BAD (said why; the
 * paste is still read up to its empty line), TTY_IDLE or TTY_EOF.
 */
static int
read_base64(const struct con *c, uint8_t **png, size_t *len)
{
	char line[LINE_MAX_MENU + 64], *text = malloc(IMAGE_PASTE_MAX + 1);
	const char *bad = NULL;
	size_t n = 0, k, pad;
	int rc, out = 0;

	*png = NULL;
	*len = 0;
	if (text == NULL)
		return TTY_EOF;
	for (;;) {
		rc = tty_read_line(STDIN_FILENO, line, sizeof(line), 0, c->idle);
		if (rc == TTY_IDLE || rc == TTY_EOF) {
			free(text);
			return rc;
		}
		if (rc != TTY_OK) {
			bad = rc == TTY_LONG ? "a line longer than 127 characters (base64 -w 76)" :
			    "a line that is not base64";
			continue;
		}
		if ((k = strlen(line)) == 0) {
			if (n == 0 && bad == NULL)
				continue;
			break;
		}
		if (strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
		    != k)
			bad = "a line that is not base64";
		else if (n + k > IMAGE_PASTE_MAX)
			bad = "longer than 256 KiB of base64";
		else if (bad == NULL) {
			memcpy(text + n, line, k);
			n += k;
		}
	}
	/* Padding only at the very end: "=" or "==" (EVP_DecodeBlock would
	 * decode a "=" anywhere as zero bits). */
	pad = bad == NULL && n >= 2 ? (size_t)(text[n - 1] == '=') + (text[n - 2] == '=') : 0;
	if (bad == NULL && (n % 4 != 0 || (pad == 1 && text[n - 2] == '=') ||
	    memchr(text, '=', n - pad) != NULL))
		bad = "not base64 (its length, or a '=' before the end)";
	else if (bad == NULL && ((*png = malloc(n / 4 * 3 + 1)) == NULL ||
	    (out = EVP_DecodeBlock(*png, (const unsigned char *)text, (int)n)) < 0))
		bad = "not base64";
	if (bad == NULL)
		*len = (size_t)out - pad;	/* the padding decoded as zero bytes */
	free(text);
	if (bad != NULL) {
		free(*png);
		*png = NULL;
		printf("input refused: %s\n", bad);
		return TTY_BAD;
	}
	return TTY_OK;
}

static void
show_seal(json_t *j)
{
	printf("seal %s created (%s): its key in the HSM, its certificate from the appliance "
	    "CA\n", jget(j, "id"), jget(j, "state"));
}

/* The secadmin creates a seal at the console: its key in the HSM, its
 * certificate from the appliance CA, its image pasted as base64. */
static int
it_seal_create(struct con *c)
{
	struct adm_seal_create v;
	struct field f[] = {
		{ "id (empty: the appliance picks one): ", v.id, sizeof(v.id), 1 },
		{ "name: ", v.name, sizeof(v.name), 0 },
		{ "type (e.g. official, contract, finance): ", v.type, sizeof(v.type), 0 },
		{ "key (ec-p256, ec-p384, rsa-2048, rsa-3072): ", v.key_type, sizeof(v.key_type), 0 },
		{ "unit: ", v.unit, sizeof(v.unit), 0 },
	};
	struct ipc_msg m;
	uint8_t *png = NULL;
	size_t len = 0;
	char q[MSG_NAME_MAX + 2 * MSG_ID_MAX + 64], hex[17];
	uint8_t dg[SHA256_DIGEST_LENGTH];
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = ask_fields(c, f, 5, NULL)) != 1)
		return ANSWER(rc);
	printf("paste the seal's image, a PNG in base64 (base64 -w 76 stamp.png), then an "
	    "empty line:\n");
	if ((rc = read_base64(c, &png, &len)) != TTY_OK)
		return ANSWER(rc);
	/* What arrived, to compare with `sha256sum stamp.png` where it was made. */
	SHA256(png, len, dg);
	for (size_t i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", dg[i]);
	printf("image: %zu bytes, SHA-256 %s...\n", len, hex);
	snprintf(q, sizeof(q), "Create the seal '%s' (%s, unit %s)?", v.name, v.key_type, v.unit);
	if ((rc = confirm(c, q)) == 1) {
		v.image = png;
		v.image_len = len;
		if (adm_seal_create_enc(&m, 1, &v) == 0)
			(void)menu_send(c, &m, show_seal);
		else
			printf("input refused: the image does not fit in one command\n");
	}
	free(png);
	return ANSWER(rc);
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

/*
 * The approver groups, a line each: a group is a unit its approvers are
 * assigned over (approver role, docs/policy.md "Use requests"); one that a
 * grant names and no active approver holds is flagged, since the use
 * requests of that grant cannot be approved.
 */
static void
show_groups(json_t *j)
{
	json_t *arr = json_object_get(j, "groups"), *g, *a;
	size_t i, k;

	if (json_array_size(arr) == 0)
		printf("no approver group: no principal holds the approver role, and no grant "
		    "asks for approvals\n");
	json_array_foreach(arr, i, g) {
		const char *name = jget(g, "name");
		json_int_t grants = json_integer_value(json_object_get(g, "grants"));
		unsigned active = 0;

		printf("%s%s%s%s: ", jget(g, "unit"), name[0] ? " (" : " (no such unit",
		    name, ")");
		json_array_foreach(json_object_get(g, "approvers"), k, a) {
			int on = strcmp(jget(a, "state"), "active") == 0;

			printf("%s%s%s", k ? ", " : "", jget(a, "principal"), on ? "" : " (disabled)");
			active += on;
		}
		printf("%s; %lld grant%s ask%s for its approvals%s\n",
		    json_array_size(json_object_get(g, "approvers")) ? "" : "no approver",
		    (long long)grants, grants == 1 ? "" : "s", grants == 1 ? "s" : "",
		    grants > 0 && active == 0 ? " -- NO ACTIVE APPROVER: their use requests "
		    "cannot be approved" : "");
	}
}

static int
it_approver_groups(struct con *c)
{
	struct ipc_msg m;

	ipc_msg_init(&m, ADM_APPROVER_GROUPS, 1);
	(void)menu_send(c, &m, show_groups);
	return 0;
}

/* A role assigned, or revoked (at once). */
static int
role_item(struct con *c, int revoke)
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
	if ((rc = ask_fields(c, f, 3, revoke ? "Revoke this role now?" : "Assign this role?")) ==
	    1 && (revoke ? adm_role_revoke_enc(&m, 1, &v) : adm_role_assign_enc(&m, 1, &v)) == 0)
		(void)menu_send(c, &m, show_done);
	return ANSWER(rc);
}

static int
it_role_assign(struct con *c)
{
	return role_item(c, 0);
}

static int
it_role_revoke(struct con *c)
{
	return role_item(c, 1);
}

/* A principal disabled at once, or (enable) enabled again. */
static int
principal_item(struct con *c, int enable)
{
	struct adm_principal_name v;
	struct field f[] = {
		{ "principal: ", v.principal, sizeof(v.principal), 0 },
	};
	struct ipc_msg m;
	int rc;

	memset(&v, 0, sizeof(v));
	rc = ask_fields(c, f, 1, enable ? "Enable this principal again? Its roles and grants "
	    "apply again at once." : "Disable this principal now? Its requests are refused "
	    "from then on.");
	if (rc == 1 && (enable ? adm_principal_enable_enc(&m, 1, &v) :
	    adm_principal_name_enc(&m, 1, &v)) == 0)
		(void)menu_send(c, &m, show_done);
	return ANSWER(rc);
}

static int
it_principal_disable(struct con *c)
{
	return principal_item(c, 0);
}

static int
it_principal_enable(struct con *c)
{
	return principal_item(c, 1);
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

static void
show_thresholds_menu(json_t *j)
{
	(void)show_thresholds(j);
}

/*
 * The secadmin's alert thresholds (docs/policy.md, "Alerts"): those in
 * force shown; each new one asked (empty keeps it, else 1 up to its bound);
 * confirmed; then ledgered and in force at once.
 */
static int
it_thresholds(struct con *c)
{
	static const struct {
		const char *prompt;
		uint32_t hi;
	} q[4] = {
		{ "burst: sealings with one seal, or by one principal, before an alert",
		  CFG_ALERT_BURST_MAX_HI },
		{ "burst: within how many seconds", CFG_ALERT_WINDOW_HI },
		{ "repeated refusals: refused sign requests of one principal before an alert",
		  CFG_ALERT_REFUSALS_MAX_HI },
		{ "repeated refusals: within how many seconds", CFG_ALERT_WINDOW_HI },
	};
	struct adm_alert_thresholds v;
	uint32_t *f[4] = { &v.burst_max, &v.burst_window, &v.refusals_max, &v.refusals_window };
	char prompt[160], ans[16];
	struct ipc_msg m;
	int rc, any = 0;

	ipc_msg_init(&m, ADM_ALERT_THRESHOLDS, 1);
	if (menu_send(c, &m, show_thresholds_menu) != 0)
		return 0;
	memset(&v, 0, sizeof(v));
	for (int i = 0; i < 4; i++) {
		unsigned long long n;
		char *end;

		struct field fd = { prompt, ans, sizeof(ans), 1 };

		snprintf(prompt, sizeof(prompt), "%s (1-%u; empty: keep): ", q[i].prompt, q[i].hi);
		if ((rc = ask_fields(c, &fd, 1, NULL)) != 1)
			return ANSWER(rc);
		if (ans[0] == '\0')
			continue;
		n = strtoull(ans, &end, 10);
		if (ans[0] < '1' || ans[0] > '9' || *end != '\0' || n > q[i].hi) {
			printf("input refused: a number from 1 to %u\n", q[i].hi);
			return 0;
		}
		*f[i] = (uint32_t)n;
		any = 1;
	}
	if (!any) {
		printf("nothing changed\n");
		return 0;
	}
	if ((rc = confirm(c, "Set these alert thresholds?")) != 1)
		return ANSWER(rc);
	if (adm_alert_thresholds_enc(&m, 1, &v) == 0)
		(void)menu_send(c, &m, show_thresholds_menu);
	return 0;
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

/* ---- the auditor: the ledger and its alerts, a screen at a time ---------- */

#define PAGE_ROWS 10		/* entries a screen: with the prompts, 80x24 */

/* s printed in at most cols bytes, control characters as '?', cut on a
 * UTF-8 character boundary: ledger text never drives the terminal. */
static void
put_clean(const char *s, size_t cols)
{
	size_t n = strlen(s);

	if (n > cols) {
		n = cols;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++)
		putchar((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
}

/* Unix milliseconds as "YYYY-MM-DD HH:MM:SS" (UTC). */
static void
utc_text(json_int_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms < 0 || gmtime_r(&t, &tm) == NULL || strftime(out, cap, "%Y-%m-%d %H:%M:%S",
	    &tm) == 0)
		snprintf(out, cap, "%s", "?");
}

/* A ledger entry (an item of ADM_LEDGER_ENTRIES) on one line. */
static void
entry_line(json_t *item)
{
	json_t *e = json_object_get(item, "entry");
	char when[32], line[256];

	utc_text(json_integer_value(json_object_get(e, "time")), when, sizeof(when));
	snprintf(line, sizeof(line), "%6lld %s %-16.16s %-12.12s %-12.12s %s",
	    (long long)json_integer_value(json_object_get(item, "seq")), when,
	    jget(e, "action"), jget(e, "actor"), jget(e, "seal"), jget(e, "result"));
	put_clean(line, 79);
	putchar('\n');
}

/* Every field of a ledger entry, one a line; the CMS by its size only. */
static void
entry_whole(json_t *item)
{
	json_t *e = json_object_get(item, "entry"), *v;
	const char *k;
	char *t;

	printf("entry %lld:\n", (long long)json_integer_value(json_object_get(item, "seq")));
	json_object_foreach(e, k, v) {
		printf("  %s: ", k);
		if (strcmp(k, "cms") == 0 && json_is_string(v)) {
			printf("(%zu characters of base64)\n", strlen(json_string_value(v)));
			continue;
		}
		if (json_is_string(v))
			put_clean(json_string_value(v), 70);
		else if ((t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) != NULL) {
			put_clean(t, 70);
			free(t);
		}
		putchar('\n');
	}
}

/* An alert (an item of ADM_ALERTS) on two lines: when, what, and its sentence. */
static void
alert_lines(json_t *a)
{
	char when[32], line[256];

	utc_text(json_integer_value(json_object_get(a, "time")), when, sizeof(when));
	snprintf(line, sizeof(line), "%s %-18.18s seal %-12.12s by %s (entry %lld)", when,
	    jget(a, "kind"), jget(a, "seal")[0] ? jget(a, "seal") : "-", jget(a, "principal"),
	    (long long)json_integer_value(json_object_get(a, "about_seq")));
	put_clean(line, 79);
	printf("\n    ");
	put_clean(jget(a, "detail"), 75);
	putchar('\n');
}

/* Ask the time range: 0 and *from, *to (0: no bound), or TTY_* / TTY_BAD. */
static int
ask_range(const struct con *c, uint64_t *from, uint64_t *to)
{
	char f[LINE_MAX_MENU], t[LINE_MAX_MENU];
	struct field fl[] = {
		{ "from YYYY-MM-DD[THH:MM:SSZ] (empty: the beginning): ", f, sizeof(f), 1 },
		{ "to, not included (empty: now): ", t, sizeof(t), 1 },
	};
	int rc;

	*from = *to = 0;
	if ((rc = ask_fields(c, fl, 2, NULL)) != 1)
		return rc;
	if ((f[0] && parse_utc(f, "from", from) != 0) || (t[0] && parse_utc(t, "to", to) != 0))
		return TTY_BAD;
	return 1;
}

/* After a page: 1 for the next one, 0 to stop, or TTY_IDLE / TTY_EOF; a
 * number shows that entry of page (when entries) and asks again. */
static int
page_next(const struct con *c, json_t *page, int more, int entries)
{
	char a[LINE_MAX_MENU];
	json_t *it;
	size_t i;
	int rc;

	for (;;) {
		printf("%s%sq: back: ", more ? "n: next page, " : "(the end) ",
		    entries ? "a seq: that entry whole, " : "");
		if ((rc = tty_read_line(STDIN_FILENO, a, sizeof(a), 0, c->idle)) == TTY_IDLE ||
		    rc == TTY_EOF)
			return rc;
		if (rc != TTY_OK || strcmp(a, "q") == 0 || (!more && strcmp(a, "n") == 0))
			return 0;
		if (more && strcmp(a, "n") == 0)
			return 1;
		i = json_array_size(page);
		if (entries && a[0] != '\0' && strspn(a, "0123456789") == strlen(a))
			json_array_foreach(page, i, it)
				if (strtoll(a, NULL, 10) == json_integer_value(json_object_get(it,
				    "seq")))
					break;
		if (i < json_array_size(page))
			entry_whole(json_array_get(page, i));
		else
			printf("input refused: n, q%s\n", entries ? " or a seq shown above" : "");
	}
}

/* Pages of entries matching f (entries) or alerts of kind in f's range,
 * shown until q. */
static int
browse(struct con *c, int entries, const struct audit_filter *f, const char *kind)
{
	uint64_t start = 0;
	struct ipc_msg m;
	json_t *j = NULL, *arr, *it;
	size_t i;
	int st, rc, more;

	for (;;) {
		if ((entries ? audit_entries_msg(&m, start, PAGE_ROWS, f) :
		    audit_alerts_msg(&m, start, PAGE_ROWS, kind, f->from, f->to)) != 0)
			return 0;
		st = call(c, &m, &j);
		ipc_msg_free(&m);
		if (st != 200) {
			if (st > 0)
				say_error(j);
			json_decref(j);
			return 0;
		}
		arr = json_object_get(j, entries ? "entries" : "alerts");
		more = json_is_true(json_object_get(j, "more"));
		if (entries && json_array_size(arr) > 0)
			printf("   seq time (UTC)          action           actor        seal"
			    "         result\n");
		json_array_foreach(arr, i, it)
			entries ? entry_line(it) : alert_lines(it);
		if (json_array_size(arr) == 0)
			printf("%s\n", more ? "(none on this page)" : entries ? "no entries" :
			    "no alerts");
		start = (uint64_t)json_integer_value(json_object_get(j, "next"));
		rc = page_next(c, arr, more, entries);
		json_decref(j);
		j = NULL;
		if (rc != 1)
			return ANSWER(rc);
	}
}

static int
it_ledger_browse(struct con *c)
{
	char seal[MSG_ID_MAX], who[MSG_ID_MAX], unit[MSG_ID_MAX], name[MSG_NAME_MAX];
	struct field fl[] = {
		{ "seal id (empty: any): ", seal, sizeof(seal), 1 },
		{ "person or application (empty: anyone): ", who, sizeof(who), 1 },
		{ "org unit, with its subunits (empty: all): ", unit, sizeof(unit), 1 },
		{ "document name contains (empty: any): ", name, sizeof(name), 1 },
	};
	struct audit_filter f = { seal, who, unit, name, 0, 0 };
	int rc;

	if ((rc = ask_fields(c, fl, 4, NULL)) != 1 || (rc = ask_range(c, &f.from, &f.to)) != 1)
		return ANSWER(rc);
	return browse(c, 1, &f, "");
}

static void
show_bundle(json_t *j)
{
	char *t = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);

	/* JSON escapes control characters and (ENSURE_ASCII) all non-ASCII: the
	 * text cannot drive the terminal. Long lines (the CMS) wrap. */
	printf("----- BEGIN EVIDENCE BUNDLE -----\n%s\n----- END EVIDENCE BUNDLE -----\n"
	    "(save the lines between the markers as bundle.json; check it with "
	    "sealctl verify-evidence)\n", t ? t : "{}");
	free(t);
}

static int
it_evidence(struct con *c)
{
	char seq[24];
	struct field f[] = {
		{ "the signature's ledger entry (seq): ", seq, sizeof(seq), 0 },
	};
	struct ipc_msg m;
	int rc;

	if ((rc = ask_fields(c, f, 1, NULL)) == 1 && audit_evidence_msg(&m, seq) == 0)
		(void)menu_send(c, &m, show_bundle);
	return ANSWER(rc);
}

/* The auditor: entries FROM.. (COUNT of them, at most 1000 here) between
 * marker lines, for the serial console's log (sealadm ledger export takes
 * more, to a file). */
static int
it_ledger_export(struct con *c)
{
	char from[24], count[24], *end;
	struct field f[] = {
		{ "first entry (seq): ", from, sizeof(from), 0 },
		{ "how many (1 to 1000): ", count, sizeof(count), 0 },
	};
	unsigned long long a, n;
	uint64_t written = 0;
	int rc;

	if ((rc = ask_fields(c, f, 2, NULL)) != 1)
		return ANSWER(rc);
	errno = 0;
	a = strtoull(from, &end, 10);
	if (from[0] < '0' || from[0] > '9' || *end != '\0' || errno == ERANGE) {
		printf("input refused: the first entry is a sequence number, from 0\n");
		return 0;
	}
	n = strtoull(count, &end, 10);
	if (count[0] < '0' || count[0] > '9' || *end != '\0' || n < 1 || n > 1000) {
		printf("input refused: 1 to 1000 entries at the console (sealadm ledger export "
		    "writes more to a file)\n");
		return 0;
	}
	printf("----- BEGIN LEDGER RANGE FROM %llu -----\n", a);
	rc = console_ledger_export(c->sock, c->session, a, n, stdout, &written);
	printf("----- END LEDGER RANGE: %llu ENTRIES -----\n", (unsigned long long)written);
	if (rc != 0)
		printf("the export stopped early (see above)\n");
	return 0;
}

static int
it_alerts(struct con *c)
{
	char kind[MSG_ALERT_KIND_MAX];
	struct field f[] = {
		{ "kind (outside_hours, seal_not_active, burst, repeated_refusals,\n"
		  "      revoked_certificate, crl_expiring; empty: all): ", kind, sizeof(kind), 1 },
	};
	struct audit_filter af = { "", "", "", "", 0, 0 };
	int rc;

	if ((rc = ask_fields(c, f, 1, NULL)) != 1 || (rc = ask_range(c, &af.from, &af.to)) != 1)
		return ANSWER(rc);
	return browse(c, 0, &af, kind);
}

/* The menu: an item for a role ("*": everyone). */
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
	{ "Enrol a business system from its certificate request", "sysadmin", it_enrol_csr },
	{ "Network settings", "sysadmin", it_network },
	{ "Power off or restart the appliance", "sysadmin", it_power },
	{ "TLS server certificate", "sysadmin", it_tls },
	{ "Back up the appliance to a file", "sysadmin", it_backup },
	{ "Add an administrator", "secadmin", it_admin_add },
	{ "Add an org unit", "secadmin", it_unit_add },
	{ "Register a person (principal)", "secadmin", it_principal_add },
	{ "List roles", "secadmin", it_role_list },
	{ "Assign a role", "secadmin", it_role_assign },
	{ "Add a grant", "secadmin", it_grant_add },
	{ "List sensitive words", "secadmin", it_words_list },
	{ "Add a sensitive word", "secadmin", it_words_add },
	{ "Remove a sensitive word", "secadmin", it_words_remove },
	{ "Create a seal (its image pasted as base64)", "secadmin", it_seal_create },
	{ "List alerts", "secadmin", it_alerts },
	{ "Verify the ledger", "auditor", it_ledger_verify },
	{ "Browse the ledger", "auditor", it_ledger_browse },
	{ "List alerts", "auditor", it_alerts },
	{ "Export a signature's evidence bundle (as text)", "auditor", it_evidence },
	/* Last, so that no role's numbers move. */
	{ "Set up my one-time code (TOTP)", "*", it_totp },
	{ "Export a ledger range (as text)", "auditor", it_ledger_export },
	{ "Reset an administrator's one-time code", "secadmin", it_totp_reset },
	{ "Revoke a client certificate", "sysadmin", it_revoke },
	{ "Re-share the master secret (new shares for every holder)", "secadmin", it_reshare },
	{ "Revoke a role", "secadmin", it_role_revoke },
	{ "Disable a principal", "secadmin", it_principal_disable },
	{ "Alert thresholds", "secadmin", it_thresholds },
	{ "Enable a disabled principal", "secadmin", it_principal_enable },
	{ "List approver groups", "secadmin", it_approver_groups },
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
	st = call(c, &m, &j);
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
		(void)call(c, &m, &j);
		ipc_msg_free(&m);
	}
	json_decref(j);
	secret_wipe(c->session, sizeof(c->session));
}

/* A menu answer: 0..n into *pick, or TTY_BAD (said why), TTY_IDLE, TTY_EOF. */
static int
menu_pick(const struct con *c, size_t n, size_t *pick)
{
	char a[LINE_MAX_MENU], *end;
	unsigned long v;
	int rc;

	if ((rc = tty_read_line(STDIN_FILENO, a, sizeof(a), 0, c->idle)) != TTY_OK)
		return input_refused(rc, sizeof(a));
	if (a[0] == '\0') {
		printf("input refused: empty; enter a number from 0 to %zu\n", n);
		return TTY_BAD;
	}
	errno = 0;
	v = strtoul(a, &end, 10);
	if (a[0] < '0' || a[0] > '9' || *end != '\0' || errno != 0 || v > n) {
		printf("no such item: enter a number from 0 to %zu\n", n);
		return TTY_BAD;
	}
	*pick = (size_t)v;
	return TTY_OK;
}

/* The logged-in admin's menu until logout (0), idle (TTY_IDLE) or EOF. */
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
		if ((rc = menu_pick(c, n, &pick)) == TTY_BAD)
			continue;
		if (rc != TTY_OK)
			return rc;
		if (pick == 0)
			return 0;
		if (session_alive(c) != 0) {
			printf("logged out (the session ended)\n");
			return 0;
		}
		if ((rc = mine[pick - 1]->fn(c)) != 0)
			return rc;
	}
}

/* Log in with user and pass: fills c; 0, or -1 (said why). */
static int
login_send(struct con *c, const char *user, const char *pass, const char *otp)
{
	struct adm_login *v = secret_alloc(sizeof(*v));
	struct ipc_msg m;
	json_t *j = NULL;
	int st = -1;

	if (v == NULL)
		return -1;
	snprintf(v->user, sizeof(v->user), "%s", user);
	snprintf(v->pass, sizeof(v->pass), "%s", pass);
	snprintf(v->otp, sizeof(v->otp), "%s", otp);
	if (adm_login_enc(&m, 1, v) == 0) {
		st = call(c, &m, &j);
		ipc_msg_free(&m);
	}
	secret_free(&v);
	if (st == 200) {
		snprintf(c->session, sizeof(c->session), "%s", jget(j, "session"));
		snprintf(c->user, sizeof(c->user), "%s", jget(j, "user"));
		snprintf(c->role, sizeof(c->role), "%s", jget(j, "role"));
		c->idle = (unsigned)json_integer_value(json_object_get(j, "idle_seconds"));
		c->must_change = json_is_true(json_object_get(j, "must_change"));
	} else if (st == 401 && otp[0] == '\0' &&
	    strcmp(jget(json_object_get(j, "error"), "code"), "totp_required") == 0) {
		json_decref(j);
		return 1;	/* the passphrase was right: now the code */
	} else if (st > 0)
		printf("login refused: %s\n", jget(json_object_get(j, "error"), "message"));
	json_decref(j);
	return st == 200 && strlen(c->session) == MSG_SESSION_MAX - 1 ? 0 : -1;
}

/*
 * "lost" at the one-time code prompt: the passphrase just typed and the
 * quorum's shares, typed by their holders, remove the admin's own code and
 * put a new passphrase in place of the old (ADM_TOTP_RECOVER). Says what
 * happened.
 */
static void
login_recover(struct con *c, const char *user, const char *pass)
{
	struct opts o;
	struct adm_backup *sh = secret_alloc(sizeof(*sh));
	char *np = secret_alloc(MSG_PASS_MAX + 1), *again = secret_alloc(MSG_PASS_MAX + 1);
	json_t *j = NULL;

	if (sh == NULL || np == NULL || again == NULL)
		goto out;
	printf("A lost authenticator: your one-time code is removed, and your passphrase\n"
	    "replaced, with your passphrase and the shares of a quorum of share holders;\n"
	    "it is ledgered.\n");
	if (confirm(c, "Remove your one-time code now?") != 1 ||
	    ask_new_pass(c, np, again) != TTY_OK)
		goto out;
	memset(&o, 0, sizeof(o));
	if (console_gather_shares(&o, c->cfg != NULL ? c->cfg->quorum.threshold : 2,
	    "recovery of a one-time code", sh) != 0)
		goto out;
	if (console_totp_recover(c->sock, user, pass, np, sh, &j) == 200)
		console_totp_recovered(j);
	else if (j != NULL)
		say_error(j);
out:
	json_decref(j);
	secret_free(&sh);
	secret_free(&np);
	secret_free(&again);
}

/* The login prompt; 0 logged in, TTY_EOF. Bad input asks again. */
static int
login_prompt(struct con *c)
{
	char user[LINE_MAX_MENU], *pass = secret_alloc(MSG_PASS_MAX + 1);
	int rc;

	if (pass == NULL)
		return TTY_EOF;
	for (;;) {
		printf("\nSealbox console\nlogin: ");
		if ((rc = tty_read_line(STDIN_FILENO, user, sizeof(user), 0, 0)) == TTY_EOF)
			break;
		if (rc != TTY_OK || user[0] == '\0') {
			if (rc == TTY_OK)
				printf("input refused: empty\n");
			(void)input_refused(rc, sizeof(user));
			continue;
		}
		if (!msg_admin_user_ok(user)) {
			printf("input refused: a username is a-z, then up to 31 of a-z 0-9 _ -\n");
			continue;
		}
		printf("passphrase: ");
		if ((rc = tty_read_line(STDIN_FILENO, pass, MSG_PASS_MAX + 1, 1, 0)) == TTY_EOF)
			break;
		if (rc != TTY_OK) {
			(void)input_refused(rc, MSG_PASS_MAX + 1);
			continue;
		}
		rc = login_send(c, user, pass, "");
		if (rc == 1) {
			char otp[MSG_OTP_MAX];

			printf("(a lost authenticator: answer \"lost\")\none-time code: ");
			if ((rc = tty_read_line(STDIN_FILENO, otp, sizeof(otp), 1, 0)) == TTY_EOF) {
				secret_wipe(pass, MSG_PASS_MAX + 1);
				break;
			}
			if (rc == TTY_OK && strcmp(otp, "lost") == 0) {
				/* Back to the login prompt either way: the
				 * admin logs in anew, by the new passphrase. */
				login_recover(c, user, pass);
				rc = -1;
			} else if (rc != TTY_OK || otp[0] == '\0' || !msg_otp_ok(otp)) {
				printf("login refused: a one-time code is 6 digits\n");
				rc = -1;
			} else
				rc = login_send(c, user, pass, otp);
			if (rc != 0)
				rc = -1;
			secret_wipe(otp, sizeof(otp));
		}
		secret_wipe(pass, MSG_PASS_MAX + 1);
		if (rc == 0)
			break;
	}
	secret_free(&pass);
	return rc == 0 ? 0 : TTY_EOF;
}

/*
 * No console account at all (first boot stopped before making them): offer
 * to make the first, a secadmin, under the bootstrap rule; she then adds the
 * others from her menu. Nothing else could ever log in.
 */
static int
bootstrap_offer(struct con *c)
{
	struct ipc_msg m;
	json_t *j = NULL, *n;
	int rc = 0;

	ipc_msg_init(&m, ADM_STATUS, 1);
	if (call(c, &m, &j) == 200 && (n = json_object_get(j, "admins")) != NULL &&
	    json_integer_value(n) == 0) {
		printf("\nNo administrator account exists (first boot did not make them).\n");
		if ((rc = confirm(c, "Make the first one, a secadmin, now?")) == 1)
			rc = it_admin_add(c);
	}
	ipc_msg_free(&m);
	json_decref(j);
	return rc < 0 && rc != TTY_BAD ? rc : 0;
}

int
menu_main(const char *sock, const struct config *cfg)
{
	struct con c = { .sock = sock, .cfg = cfg };
	int rc;

	/* The login program of a console: ^C, ^\ and ^Z neither kill it (with
	 * echo left off) nor leave a shell behind it. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		if (bootstrap_offer(&c) == TTY_EOF || login_prompt(&c) != 0)
			return 0;
		if (c.must_change) {
			/* Nothing else until the admin's own passphrase replaces it. */
			printf("Your passphrase was chosen by another administrator: choose "
			    "your own now.\n");
			if ((rc = passwd_change(&c)) == 1)	/* not changed: logged out */
				rc = menu_loop(&c);
		} else {
			rc = menu_loop(&c);
		}
		if (rc == TTY_IDLE)
			printf("\nlogged out (idle)\n");
		else if (rc == 0)
			printf("logged out\n");
		session_end(&c);
		if (rc == TTY_EOF)
			return 0;
	}
}

/* ---- first boot ---------------------------------------------------------- */

/* Run sealprov (beside this program) with argv on this console; its exit
 * status as menu_firstboot returns it. */
static int
run_sealprov(char *const argv[])
{
	char self[4096], prov[4200];
	ssize_t n;
	pid_t pid;
	int st;
	char *slash;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return -1;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(prov, sizeof(prov), "%s/sealprov", self);
	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execv(prov, argv);
		fprintf(stderr, "sealadm: cannot run %s: %s\n", prov, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : WIFEXITED(st) &&
	    WEXITSTATUS(st) == 127 ? -1 : 1;
}

/*
 * No configuration at path: the appliance was never set up. Offer the
 * first-boot ceremony (sealprov firstboot) or, answering "restore", a
 * backup of the appliance this one replaces (sealprov restore, which
 * installs the backup's configuration at path), and run it on this console.
 * 0 when it ran to the end, 1 when it failed or was declined, -1 when
 * sealprov could not be started.
 */
/* The part of a backup's name that orders it by time: its ending
 * "YYYYMMDD-HHMMSSZ.sbx" (console_backup_default), else the whole name. */
static const char *
backup_when(const char *name)
{
	size_t l = strlen(name);

	return l >= 20 ? name + l - 20 : name;
}

/*
 * The backups on the mounted backup disk: each listed (at most 20; a name
 * with a control character is not printed, as anyone can bring the disk),
 * the newest by the time in its name into newest; "" when none.
 */
static void
backups_on_disk(const char *dir, char *newest, size_t cap)
{
	char best[256] = "";
	struct dirent *e;
	unsigned n = 0;
	DIR *d;
	int w;

	newest[0] = '\0';
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		int plain = 1;

		if (l < 5 || l >= sizeof(best) || strcmp(e->d_name + l - 4, ".sbx") != 0)
			continue;
		for (size_t i = 0; i < l; i++)
			if ((unsigned char)e->d_name[i] < 0x20 || e->d_name[i] == 0x7f)
				plain = 0;
		if (!plain)
			continue;
		if (n++ < 20)
			printf("  on the backup disk: %s\n", e->d_name);
		if (best[0] == '\0' || strcmp(backup_when(e->d_name), backup_when(best)) > 0)
			snprintf(best, sizeof(best), "%s", e->d_name);
	}
	closedir(d);
	if (n == 0)
		printf("  the backup disk holds no backup (*.sbx)\n");
	else if ((w = snprintf(newest, cap, "%s/%s", dir, best)) < 0 || (size_t)w >= cap)
		newest[0] = '\0';
}

/* The restore: the backup disk mounted when the first-boot template names
 * one (console.backup_dir), the file asked (empty: the newest there), then
 * sealprov restore; the disk unmounted after. */
static int
firstboot_restore(const char *path, const char *template)
{
	char file[FIELD_MAX], tpath[4200], err[256], def[FIELD_MAX] = "";
	struct config *tc = NULL;
	int rc, disk;

	config_firstboot_template(path, template, tpath, sizeof(tpath));
	if (config_load(tpath, &tc, err, sizeof(err)) != 0)
		tc = NULL;
	disk = tc != NULL && tc->console.backup_dir != NULL;
	if (disk && console_backup_disk_mount(tc) != 0) {
		config_free(tc);
		return 1;
	}
	if (disk)
		backups_on_disk(tc->console.backup_dir, def, sizeof(def));
	printf("backup file (its full path%s%s): ", def[0] ? "; empty: " : ", e.g. on the "
	    "mounted backup disk", def);
	fflush(stdout);
	rc = tty_read_line(STDIN_FILENO, file, sizeof(file), 0, 0);
	if (rc == TTY_OK && file[0] == '\0' && def[0] != '\0')
		snprintf(file, sizeof(file), "%s", def);
	if (rc != TTY_OK || file[0] != '/') {
		printf("%snot now\n", rc == TTY_EOF ? "\n" : "not a full path; ");
		rc = 1;
	} else if (template != NULL)
		rc = run_sealprov((char *const[]){ "sealprov", "restore", "--config",
		    (char *)path, "--template", (char *)template, "--backup", file, NULL });
	else
		rc = run_sealprov((char *const[]){ "sealprov", "restore", "--config",
		    (char *)path, "--backup", file, NULL });
	if (disk)
		console_backup_disk_umount(tc);
	config_free(tc);
	return rc;
}

int
menu_firstboot(const char *path, const char *template)
{
	char a[LINE_MAX_MENU];
	int rc;

	printf("This appliance has not been set up: %s does not exist.\n"
	    "(To restore a backup of the appliance it replaces instead, answer: restore)\n"
	    "Start the first-boot ceremony (three administrators, the key ceremony)? [y/N]: ",
	    path);
	/* As at the login prompt: ^C, ^\ and ^Z neither stop first boot half-way
	 * nor hang this console (sealprov ignores them too). */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	if ((rc = tty_read_line(STDIN_FILENO, a, sizeof(a), 0, 0)) == TTY_OK &&
	    strcmp(a, "restore") == 0)
		return firstboot_restore(path, template);
	if (rc != TTY_OK || (strcmp(a, "y") != 0 && strcmp(a, "Y") != 0 && strcmp(a, "yes") != 0)) {
		printf("%snot now\n", rc == TTY_EOF ? "\n" : "");
		return 1;
	}
	if (template != NULL)
		return run_sealprov((char *const[]){ "sealprov", "firstboot", "--config",
		    (char *)path, "--template", (char *)template, NULL });
	return run_sealprov((char *const[]){ "sealprov", "firstboot", "--config", (char *)path,
	    NULL });
}

/* ---- the same for scripts -------------------------------------------- */

/* The first line read from descriptor text (a number) into buf. */
int
read_fd_line(const char *fdtext, const char *what, char *buf, size_t cap)
{
	char *end;
	long fd = fdtext ? strtol(fdtext, &end, 10) : -1;
	int rc;

	if (fdtext == NULL || *end != '\0' || fd < 0 || fd > 1024) {
		fprintf(stderr, "sealadm: %s: a file descriptor number is needed\n", what);
		return -1;
	}
	if ((rc = tty_read_line((int)fd, buf, cap, 0, 0)) != TTY_OK) {
		fprintf(stderr, "sealadm: %s: %s\n", what, rc == TTY_EOF ? "nothing to read" :
		    rc == TTY_LONG ? "too long" : "control characters or invalid UTF-8");
		return -1;
	}
	return 0;
}

int
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
	char otp[MSG_OTP_MAX] = "";

	if (o->otp_fd != NULL && (read_fd_line(o->otp_fd, "--otp-fd", otp, sizeof(otp)) != 0 ||
	    !msg_otp_ok(otp))) {
		if (msg_otp_ok(otp) == 0)
			fprintf(stderr, "sealadm: --otp-fd: a one-time code is 6 digits\n");
		secret_wipe(otp, sizeof(otp));
		secret_free(&pass);
		return 2;
	}
	if (pass != NULL && read_fd_line(o->pass_fd, "--passphrase-fd", pass,
	    MSG_PASS_MAX + 1) == 0) {
		if ((rc = login_send(&c, o->user, pass, otp)) == 1)
			printf("login refused: this account needs its one-time code (TOTP) as well: "
			    "--otp-fd N\n");
		else if (rc == 0)
			printf("%s\n", c.session);
		rc = rc == 0 ? 0 : 1;
	}
	secret_wipe(otp, sizeof(otp));
	secret_free(&pass);
	secret_wipe(c.session, sizeof(c.session));
	return rc;
}

int
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
	rc = exchange(o, &m, show_json);
	ipc_msg_free(&m);
	return rc;
}

int
cmd_admin_add(const struct opts *o)
{
	struct adm_admin_add *v = secret_alloc(sizeof(*v));
	struct ipc_msg m;
	int rc = 2;

	if (v == NULL)
		return 1;
	v->must_change = o->must_change;
	if (o->user == NULL || o->n_roles != 1 || o->pass_fd == NULL)
		fprintf(stderr, "sealadm: admin add needs --user, one --role and --passphrase-fd\n");
	else if (fits(v->user, sizeof(v->user), o->user, "--user") == 0 &&
	    fits(v->role, sizeof(v->role), o->roles[0], "--role") == 0 &&
	    read_fd_line(o->pass_fd, "--passphrase-fd", v->pass, sizeof(v->pass)) == 0 &&
	    (o->session_fd == NULL || read_fd_line(o->session_fd, "--session-fd", v->session,
	    sizeof(v->session)) == 0)) {
		if (adm_admin_add_enc(&m, 1, v) == 0) {
			rc = exchange(o, &m, show_json);
			ipc_msg_free(&m);
		} else
			fprintf(stderr, "sealadm: --session-fd: not a session token\n");
	}
	secret_free(&v);
	return rc;
}
