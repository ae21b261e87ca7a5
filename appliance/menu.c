/*
 * menu — sealadm's console: the interactive menu (sealadm with no command)
 * and the script commands login, logout and admin add. docs/admin-guide.md
 * shows the screens.
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
#include "sealadm.h"

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

/* Send m (as c's session, once logged in); its reply's HTTP status and JSON
 * (*j, or NULL), or -1 (said why). */
static int
call(const struct con *c, struct ipc_msg *m, json_t **j)
{
	struct msg_reply r;
	struct ipc_msg in;
	int status = -1;

	*j = NULL;
	if (admin_roundtrip(c->sock, c->session, m, &in) != 0)
		return -1;
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
		st = call(c, &m, &j);
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

int
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
	if ((rc = read_line((int)fd, buf, cap, 0, 0)) != IN_OK) {
		fprintf(stderr, "sealadm: %s: %s\n", what, rc == IN_EOF ? "nothing to read" :
		    rc == IN_LONG ? "too long" : "control characters or invalid UTF-8");
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
	if (pass != NULL && read_fd_line(o->pass_fd, "--passphrase-fd", pass,
	    MSG_PASS_MAX + 1) == 0 && login_send(&c, o->user, pass) == 0) {
		printf("%s\n", c.session);
		rc = 0;
	}
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
