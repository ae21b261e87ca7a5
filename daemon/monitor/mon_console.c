/*
 * mon_console — console admin accounts, logins and sessions (the admin
 * socket's ADM_ADMIN_ADD, ADM_LOGIN, ADM_LOGOUT, ADM_PASSWD, ADM_SESSION and
 * ADM_LEDGER_VERIFY; docs/admin-guide.md).
 *
 * An account is a username, one role (sysadmin, secadmin or auditor) and an
 * argon2id hash (console.argon2_* from the config) in the store's
 * "admin/accounts" database. A login checks the passphrase and answers a
 * session: 32 random bytes as hex, kept here in memory only, with its role,
 * ending console.idle_seconds after its last use. Failed logins are counted
 * and ledgered; at console.max_failures the account locks for
 * console.lockout_seconds, during which even the right passphrase is
 * refused (and only the right one is told why: a wrong one gets the
 * answer an unknown name gets). A successful login is ledgered too. An
 * account added with must_change (its passphrase chosen by a secadmin)
 * gets sessions that may only change it. No passphrase is ever logged,
 * ledgered or kept: the decoded messages live in secret memory and are
 * wiped when answered.
 *
 * The bootstrap rule: ADM_ADMIN_ADD without a session is accepted only while
 * no account exists at all, and only for a secadmin (who then adds the
 * others with a session); every later addition needs a secadmin's session.
 * The peer's uid grants nothing more: on the appliance every console user
 * reaches the socket as root.
 *
 * The admin socket is served by one thread, one connection at a time, apart
 * from the net workers: argon2id's ~0.2 s holds up other admin commands, not
 * signing. argon2 runs single-threaded (console.argon2_p is 1): the monitor's
 * sandbox allows no new threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "../../hsm/keyctl.h"
#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../../lib/secret.h"
#include "mon_int.h"

#define SESSIONS_MAX 16
#define SALT_LEN 16
#define HASH_LEN 32

struct session {
	char token[MSG_SESSION_MAX];	/* "" when the slot is free */
	char user[MSG_ADMIN_USER_MAX];
	char role[MSG_ROLE_MAX];
	long long expires;		/* CLOCK_MONOTONIC seconds */
	int must_change;		/* only the passphrase change (and what needs no
					   login) until it is made */
};

static struct {
	pthread_mutex_t lock;
	struct session s[SESSIONS_MAX];
} sessions = { PTHREAD_MUTEX_INITIALIZER, { { "", "", "", 0, 0 } } };

int
mon_console_locked(const struct store_admin *a, long long now, long long *left)
{
	*left = a->locked_until > now ? a->locked_until - now : 0;
	return *left > 0;
}

int
mon_console_failed(struct store_admin *a, long long now, unsigned max, unsigned lockout)
{
	if (++a->failures < max)
		return 0;
	a->failures = 0;
	a->locked_until = now + (long long)lockout;
	return 1;
}

/* ---- sessions ------------------------------------------------------------- */

/* A new session for user in role into token; the oldest is dropped when the
 * table is full. */
static int
session_new(struct mon *mon, const char *user, const char *role, int must_change,
    char token[MSG_SESSION_MAX])
{
	uint8_t raw[32];
	long long now = mon_mono_now();
	size_t pick = 0;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return SB_ECRYPTO;
	mon_hex(raw, sizeof(raw), token);
	secret_wipe(raw, sizeof(raw));
	pthread_mutex_lock(&sessions.lock);
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		struct session *s = &sessions.s[i];

		if (s->token[0] == '\0' || s->expires <= now) {
			pick = i;
			break;
		}
		if (s->expires < sessions.s[pick].expires)
			pick = i;
	}
	snprintf(sessions.s[pick].token, MSG_SESSION_MAX, "%s", token);
	snprintf(sessions.s[pick].user, MSG_ADMIN_USER_MAX, "%s", user);
	snprintf(sessions.s[pick].role, MSG_ROLE_MAX, "%s", role);
	sessions.s[pick].must_change = must_change;
	sessions.s[pick].expires = now + (long long)mon->cfg->console.idle_seconds;
	pthread_mutex_unlock(&sessions.lock);
	return 0;
}

/* The live session token: refreshed (or ended: end), its user and role
 * copied out. 0, or SB_ENOTFOUND (unknown, expired or ""). */
static int
session_use(struct mon *mon, const char *token, int end, struct session *out)
{
	long long now = mon_mono_now();
	int rc = SB_ENOTFOUND;

	if (strlen(token) != MSG_SESSION_MAX - 1)
		return SB_ENOTFOUND;
	pthread_mutex_lock(&sessions.lock);
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		struct session *s = &sessions.s[i];

		if (s->token[0] == '\0' || CRYPTO_memcmp(s->token, token, MSG_SESSION_MAX - 1) != 0)
			continue;
		if (s->expires > now) {
			s->expires = now + (long long)mon->cfg->console.idle_seconds;
			if (out != NULL)
				*out = *s;
			rc = 0;
		}
		if (end || rc != 0)
			memset(s, 0, sizeof(*s));
		break;
	}
	pthread_mutex_unlock(&sessions.lock);
	return rc;
}

int
mon_session_who(struct mon *mon, const char *token, char user[MSG_ADMIN_USER_MAX],
    char role[MSG_ROLE_MAX], int *must_change)
{
	struct session s;

	if (session_use(mon, token, 0, &s) != 0)
		return SB_ENOTFOUND;
	snprintf(user, MSG_ADMIN_USER_MAX, "%s", s.user);
	snprintf(role, MSG_ROLE_MAX, "%s", s.role);
	*must_change = s.must_change;
	secret_wipe(&s, sizeof(s));
	return 0;
}

/* End every session of user (after a passphrase change) but keep, which
 * needs no change any more. */
static void
sessions_end_user(const char *user, const char *keep)
{
	pthread_mutex_lock(&sessions.lock);
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		if (strcmp(sessions.s[i].user, user) != 0)
			continue;
		if (strcmp(sessions.s[i].token, keep) != 0)
			memset(&sessions.s[i], 0, sizeof(sessions.s[i]));
		else
			sessions.s[i].must_change = 0;
	}
	pthread_mutex_unlock(&sessions.lock);
}

int
mon_reply_must_change(struct ipc_msg *reply, uint32_t id)
{
	return mon_reply_err(reply, id, 403, "passphrase_change_required", "the passphrase "
	    "was chosen for this account: change it first (menu item 3, Change my passphrase)");
}

static int
reply_no_session(struct ipc_msg *reply, uint32_t id)
{
	return mon_reply_err(reply, id, 401, "session_expired",
	    "not logged in, or the session ended (idle or logged out): log in again");
}

/* ---- hashing -------------------------------------------------------------- */

static int
hash_make(struct mon *mon, const char *pass, char *out, size_t cap)
{
	const struct config *c = mon->cfg;
	uint8_t salt[SALT_LEN];
	size_t need = argon2_encodedlen(c->console.argon2_t, c->console.argon2_m_kib,
	    c->console.argon2_p, SALT_LEN, HASH_LEN, Argon2_id);
	int arc;

	if (need > cap)
		return SB_ELIMIT;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return SB_ECRYPTO;
	arc = argon2id_hash_encoded(c->console.argon2_t, c->console.argon2_m_kib,
	    c->console.argon2_p, pass, strlen(pass), salt, sizeof(salt), HASH_LEN, out, cap);
	if (arc != ARGON2_OK) {
		log_err("console: argon2id: %s", argon2_error_message(arc));
		return arc == ARGON2_MEMORY_ALLOCATION_ERROR ? SB_ENOMEM : SB_ECRYPTO;
	}
	return 0;
}

/* 0 when pass matches hash, SB_EPERM when not, SB_ECRYPTO when hash is bad. */
static int
hash_check(const char *hash, const char *pass)
{
	int arc = argon2id_verify(hash, pass, strlen(pass));

	if (arc == ARGON2_OK)
		return 0;
	if (arc == ARGON2_VERIFY_MISMATCH)
		return SB_EPERM;
	log_err("console: argon2id_verify: %s", argon2_error_message(arc));
	return arc == ARGON2_MEMORY_ALLOCATION_ERROR ? SB_ENOMEM : SB_ECRYPTO;
}

/* For an unknown user a hash is checked all the same, so that the answer
 * takes as long and says as much as for a wrong passphrase. */
static void
hash_dummy(struct mon *mon, const char *pass)
{
	static char dummy[STORE_ADMIN_HASH_MAX];
	static int made;

	if (!made)
		made = hash_make(mon, "sealbox-no-such-account", dummy, sizeof(dummy)) == 0;
	if (made)
		(void)hash_check(dummy, pass);
}

/* ---- ledger --------------------------------------------------------------- */

/* An entry for a login, logout or passphrase change; locked: this failure
 * locked the account ("locked": true). 0, or the ledger's error (logged). */
static int
ledger_login_as(struct mon *mon, const char *action, const char *user, const char *result,
    int locked)
{
	uint8_t leaf[32];
	uint64_t seq;
	json_t *e = json_pack("{s:s,s:s,s:s,s:s}", "action", action, "actor", mon->admin_actor,
	    "user", user, "result", result);
	int rc;

	if (e != NULL && locked)
		json_object_set_new(e, "locked", json_true());
	if ((rc = e == NULL ? SB_ENOMEM : mon_ledger(mon, e, &seq, leaf)) != 0)
		log_warn("console: %s of %s (%s) could not be ledgered", action, user, result);
	return rc;
}

static int
ledger_login(struct mon *mon, const char *action, const char *user, const char *result)
{
	return ledger_login_as(mon, action, user, result, 0);
}

/* ---- handlers ------------------------------------------------------------- */

struct add_arg {
	struct mon *mon;
	struct store_admin a;
	int bootstrap;
};

static int
add_apply(void *arg)
{
	struct add_arg *x = arg;

	return store_admin_add(x->mon->store, &x->a, x->bootstrap);
}

/* May this ADM_ADMIN_ADD go on? 0; else a reply was made (1) or SB_*. */
static int
add_allowed(struct mon *mon, const struct adm_admin_add *v, uint32_t id, struct ipc_msg *reply,
    char *actor, size_t actorlen, int *bootstrap)
{
	struct session s;
	size_t n = 0;
	int rc;

	*bootstrap = v->session[0] == '\0';
	if (!*bootstrap) {
		if (session_use(mon, v->session, 0, &s) != 0)
			return reply_no_session(reply, id) == 0 ? 1 : SB_ENOMEM;
		if (s.must_change)
			return mon_reply_must_change(reply, id) == 0 ? 1 : SB_ENOMEM;
		if (strcmp(s.role, "secadmin") != 0)
			return mon_reply_err(reply, id, 403, "forbidden_role",
			    "only a secadmin adds administrators") == 0 ? 1 : SB_ENOMEM;
		snprintf(actor, actorlen, "admin:%s", s.user);
		return 0;
	}
	if ((rc = store_admin_count(mon->store, &n)) != 0)
		return rc;
	if (n > 0)
		return mon_reply_err(reply, id, 403, "login_required", "administrators exist: "
		    "a secadmin must log in to add another") == 0 ? 1 : SB_ENOMEM;
	if (strcmp(v->role, "secadmin") != 0)
		return mon_reply_err(reply, id, 409, "bootstrap_secadmin_first", "the first "
		    "administrator must be a secadmin, who then adds the others") == 0 ? 1 : SB_ENOMEM;
	snprintf(actor, actorlen, "%s", mon->admin_actor);
	return 0;
}

int
mon_adm_admin_add(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_admin_add *v = secret_alloc(sizeof(*v));
	struct add_arg *x = secret_alloc(sizeof(*x));
	char actor[64];
	const char *why;
	int rc;

	if (v == NULL || x == NULL) {
		secret_free(&v);
		secret_free(&x);
		return SB_ENOMEM;
	}
	if (adm_admin_add_dec(m, v) != 0)
		rc = mon_reply_err(reply, m->id, 400, "bad_request", "malformed admin add request");
	else if (!msg_admin_user_ok(v->user))
		rc = mon_reply_err(reply, m->id, 400, "bad_username",
		    "a username is a-z, then up to 31 of a-z 0-9 _ -");
	else if (!msg_admin_role_ok(v->role))
		rc = mon_reply_err(reply, m->id, 400, "bad_role",
		    "the role is sysadmin, secadmin or auditor");
	else if (msg_passphrase_check(v->pass, &why) != 0)
		rc = mon_reply_err(reply, m->id, 400, "bad_passphrase", "%s", why);
	else if ((rc = add_allowed(mon, v, m->id, reply, actor, sizeof(actor), &x->bootstrap)) == 1)
		rc = 0;
	else if (rc == 0 && (rc = hash_make(mon, v->pass, x->a.hash, sizeof(x->a.hash))) == 0) {
		x->mon = mon;
		snprintf(x->a.user, sizeof(x->a.user), "%s", v->user);
		snprintf(x->a.role, sizeof(x->a.role), "%s", v->role);
		x->a.created = (long long)time(NULL);
		x->a.must_change = v->must_change;
		rc = mon_ledgered_change(mon, json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:b}", "action",
		    "admin.add", "actor", actor, "user", v->user, "role", v->role, "result", "ok",
		    "bootstrap", x->bootstrap, "must_change", v->must_change), add_apply, x);
		if (rc == SB_EEXIST)
			rc = mon_reply_err(reply, m->id, 409, "exists", "%s already has an account",
			    v->user);
		else if (rc == SB_EPERM)
			rc = mon_reply_err(reply, m->id, 403, "login_required", "another "
			    "administrator was added first: log in as a secadmin");
		else if (rc == SB_ELIMIT)
			rc = mon_reply_err(reply, m->id, 409, "too_many", "at most %d accounts",
			    STORE_ADMINS_MAX);
		else if (rc == 0)
			rc = mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:s,s:b}", "user",
			    v->user, "role", v->role, "must_change", v->must_change));
	}
	secret_free(&v);
	secret_free(&x);
	return rc;
}

void
mon_console_otp_failed(struct mon *mon, const char *user)
{
	const struct config *c = mon->cfg;
	struct store_admin a;
	int locked;

	if (store_admin_get(mon->store, user, &a) != 0)
		return;
	locked = mon_console_failed(&a, (long long)time(NULL), c->console.max_failures,
	    c->console.lockout_seconds);
	if (store_admin_put(mon->store, &a) != 0)
		log_warn("monitor: the failed code of %s could not be counted", user);
	(void)ledger_login_as(mon, "admin.totp", user, "refused:bad_otp", locked);
	if (locked)
		sessions_end_user(user, "");	/* no token is "": every one ends */
}

/*
 * After the right passphrase, an admin with a confirmed one-time code must
 * give it: 0 when it is given and right (or none is enrolled), else the
 * reply is made (1). A missing code, or none that can be checked while
 * sealed, is no failed login (the failure counted in advance is taken back
 * from *before); a wrong or used code is one.
 */
void
mon_console_end_others(struct mon *mon, const char *user)
{
	if (mon->admin_session[0] != '\0')
		sessions_end_user(user, mon->admin_session);
}

static int
login_otp(struct mon *mon, struct store_admin *a, const struct store_admin *before,
    const char *otp, int locked, uint32_t id, struct ipc_msg *reply)
{
	char principal[MSG_ADMIN_USER_MAX + 8], why[MSG_TEXT_MAX] = "";
	int st, rc;

	snprintf(principal, sizeof(principal), "admin:%s", a->user);
	if ((st = mon_totp_state(mon, principal)) == 0 || st == 1)
		return 0;
	if (st == SB_ESTATE || st < 0 || otp[0] == '\0') {
		/* Not a failed login: the count taken in advance goes back. */
		a->failures = before->failures;
		a->locked_until = before->locked_until;
		if (store_admin_put(mon->store, a) != 0)
			log_warn("monitor: the account of %s could not be put back", a->user);
		(void)ledger_login(mon, "admin.login", a->user, otp[0] == '\0' && st >= 0 ?
		    "totp_required" : "refused:totp_unavailable");
		if (st == SB_ESTATE)
			return mon_reply_err(reply, id, 503, "totp_unavailable", "the one-time code "
			    "cannot be checked while the appliance is sealed: unseal it first "
			    "(unseal needs no login)") == 0 ? 1 : SB_ENOMEM;
		if (st < 0)
			return mon_reply_err(reply, id, 503, "totp_unavailable", "the one-time code "
			    "cannot be checked: %s", sb_strerror(st)) == 0 ? 1 : SB_ENOMEM;
		return mon_reply_err(reply, id, 401, "totp_required", "this account needs its "
		    "one-time code (TOTP) as well") == 0 ? 1 : SB_ENOMEM;
	}
	if ((rc = mon_totp_check(mon, principal, otp, why, sizeof(why))) == 0)
		return 0;
	if (rc == MON_TOTP_INVALID || rc == MON_TOTP_REPLAYED) {
		(void)ledger_login_as(mon, "admin.login", a->user, rc == MON_TOTP_REPLAYED ?
		    "refused:otp_replayed" : "refused:bad_otp", locked);
		return mon_reply_err(reply, id, 403, "login_failed", "%s",
		    rc == MON_TOTP_REPLAYED ? "that one-time code was used already; wait for the "
		    "next one" : "wrong one-time code") == 0 ? 1 : SB_ENOMEM;
	}
	a->failures = before->failures;
	a->locked_until = before->locked_until;
	(void)store_admin_put(mon->store, a);
	return mon_reply_err(reply, id, 503, "totp_unavailable", "%s", why) == 0 ? 1 : SB_ENOMEM;
}

/*
 * An account that is not locked: the attempt is counted as a failure before
 * the passphrase is checked, so that a count that cannot be stored is never
 * a free guess (503, the passphrase unchecked); a right passphrase clears it.
 * A login that cannot be ledgered gets no session.
 */
static int
login_check(struct mon *mon, struct store_admin *a, const char *pass, const char *otp,
    uint32_t id, struct ipc_msg *reply)
{
	const struct config *c = mon->cfg;
	char token[MSG_SESSION_MAX];
	struct store_admin before = *a;
	struct session gone;
	int locked, rc;

	locked = mon_console_failed(a, (long long)time(NULL), c->console.max_failures,
	    c->console.lockout_seconds);
	if (store_admin_put(mon->store, a) != 0)
		return mon_reply_err(reply, id, 503, "console_unavailable", "the account store "
		    "cannot be written: no login until it can");
	if ((rc = hash_check(a->hash, pass)) == SB_EPERM) {
		(void)ledger_login_as(mon, "admin.login", a->user, "refused:bad_passphrase", locked);
		return mon_reply_err(reply, id, 403, "login_failed", "wrong username or passphrase");
	}
	if (rc != 0)
		return rc;
	if ((rc = login_otp(mon, a, &before, otp, locked, id, reply)) != 0)
		return rc == 1 ? 0 : rc;
	a->failures = 0;
	a->locked_until = 0;
	if (store_admin_put(mon->store, a) != 0)
		return mon_reply_err(reply, id, 503, "console_unavailable", "the account store "
		    "cannot be written: no login until it can");
	if ((rc = session_new(mon, a->user, a->role, a->must_change, token)) != 0)
		return rc;
	if (ledger_login(mon, "admin.login", a->user, "ok") != 0) {
		(void)session_use(mon, token, 1, &gone);
		secret_wipe(token, sizeof(token));
		return mon_reply_err(reply, id, 503, "ledger_unavailable", "the login cannot be "
		    "ledgered: no session");
	}
	rc = mon_reply_json(reply, id, 200, json_pack("{s:s,s:s,s:s,s:i,s:b}", "session", token,
	    "user", a->user, "role", a->role, "idle_seconds", (int)c->console.idle_seconds,
	    "must_change", a->must_change));
	secret_wipe(token, sizeof(token));
	return rc;
}

/*
 * The account user names, into a, for an attempt (action: its ledger
 * action) with pass: 0 when it exists and is not locked; else the refusal
 * is ledgered and answered (1), or an SB_* failure.
 */
static int
account_gate(struct mon *mon, const char *action, const char *user, const char *pass,
    struct store_admin *a, uint32_t id, struct ipc_msg *reply)
{
	long long left;
	int rc;

	rc = msg_admin_user_ok(user) ? store_admin_get(mon->store, user, a) : SB_ENOTFOUND;
	if (rc == SB_ENOTFOUND) {
		/* The name typed is not ledgered: it may be a passphrase typed
		 * into the wrong field. */
		hash_dummy(mon, pass);
		(void)ledger_login(mon, action, "(unknown)", "refused:unknown_user");
		return mon_reply_err(reply, id, 403, "login_failed", "wrong username or "
		    "passphrase") == 0 ? 1 : SB_ENOMEM;
	}
	if (rc != 0 || !mon_console_locked(a, (long long)time(NULL), &left))
		return rc;
	/*
	 * Refused either way. Only the right passphrase learns that the
	 * account is locked: a wrong one gets the unknown user's answer, so
	 * that trying a name until it locks does not tell whether it exists.
	 * The lock is not extended.
	 */
	rc = hash_check(a->hash, pass);
	(void)ledger_login(mon, action, a->user, "refused:locked");
	if (rc == 0)
		rc = mon_reply_err(reply, id, 423, "account_locked", "account locked after too "
		    "many failed logins; try again in %lld s", left);
	else if (rc == SB_EPERM)
		rc = mon_reply_err(reply, id, 403, "login_failed", "wrong username or passphrase");
	else
		return rc;
	return rc == 0 ? 1 : SB_ENOMEM;
}

int
mon_adm_login(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_login *v = secret_alloc(sizeof(*v));
	struct store_admin a;
	int rc;

	if (v == NULL)
		return SB_ENOMEM;
	if (adm_login_dec(m, v) != 0) {
		secret_free(&v);
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed login request");
	}
	if ((rc = account_gate(mon, "admin.login", v->user, v->pass, &a, m->id, reply)) == 0)
		rc = login_check(mon, &a, v->pass, v->otp, m->id, reply);
	secret_free(&v);
	return rc == 1 ? 0 : rc;
}

/*
 * The quorum's shares and the admin's passphrase, checked for a recovery:
 * 0 when the appliance is unsealed, the account has a code in force and
 * the shares rebuild the master secret's check value; else the refusal is
 * answered and ledgered (1), or an SB_* failure. None of these is a failed
 * login: the passphrase was right.
 */
static int
recover_check(struct mon *mon, const struct adm_totp_recover *v, const char *who,
    uint32_t id, struct ipc_msg *reply)
{
	struct custody_record rec;
	struct custody_set *set = NULL;
	char why[256] = "";
	int rc, st;

	if ((rc = mon_require_ready(mon, id, reply)) != 0) {
		(void)ledger_login(mon, "totp.recover", v->user, "refused:sealed");
		return rc == SB_ESTATE ? 1 : rc;
	}
	if ((st = mon_totp_state(mon, who)) < 0) {
		(void)ledger_login(mon, "totp.recover", v->user, "refused:totp_unavailable");
		return mon_reply_err(reply, id, 503, "totp_unavailable", "the one-time code "
		    "cannot be read: %s", sb_strerror(st)) == 0 ? 1 : SB_ENOMEM;
	}
	if (st != 2) {
		(void)ledger_login(mon, "totp.recover", v->user, "refused:no_totp");
		return mon_reply_err(reply, id, 409, "no_totp", "'%s' has no one-time code in "
		    "force: log in with the passphrase alone", v->user) == 0 ? 1 : SB_ENOMEM;
	}
	if ((rc = mon_share_set(mon, &v->shares, &rec, &set, why, sizeof(why))) == 0)
		rc = keyctl_check_quorum(&rec, set, why, sizeof(why));
	custody_set_free(set);	/* wipes the shares */
	if (rc == 0 || rc == SB_ENOMEM)
		return rc;
	if (rc == SB_ECONFIG || rc == SB_ENOTFOUND) {
		(void)ledger_login(mon, "totp.recover", v->user, "refused:not_provisioned");
		return mon_reply_err(reply, id, 409, "not_provisioned", "%s", why) == 0 ?
		    1 : SB_ENOMEM;
	}
	(void)ledger_login(mon, "totp.recover", v->user, "refused:bad_share");
	return mon_reply_err(reply, id, 400, "bad_share", "%s", why) == 0 ? 1 : SB_ENOMEM;
}

/*
 * ADM_TOTP_RECOVER: an admin who lost their authenticator cannot log in,
 * and the only other secadmin who could reset the code may be themselves.
 * Their passphrase (checked and counted as a login is) and the quorum's
 * shares (so that no one admin alone, and no share holders without the
 * passphrase, can turn the second factor off) remove the code, and the
 * new passphrase replaces the old one in the same step: whoever holds the
 * lost authenticator and knows the old passphrase gets in neither way. It
 * is ledgered first, and every session of the account ends.
 */
int
mon_adm_totp_recover(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_totp_recover *v = secret_alloc(sizeof(*v));
	const struct config *c = mon->cfg;
	const char *bad = "";
	char who[MSG_ADMIN_USER_MAX + 8];
	struct store_admin a, before;
	uint8_t leaf[32];
	uint64_t seq;
	int rc, locked;

	if (v == NULL)
		return SB_ENOMEM;
	if (adm_totp_recover_dec(m, v) != 0) {
		rc = mon_reply_err(reply, m->id, 400, "bad_request", "malformed recovery request: "
		    "a username, two passphrases and 1 to %d shares", MSG_BACKUP_SHARES_MAX);
		goto out;
	}
	/* The new passphrase first: checking it tells nothing of the account. */
	if (msg_passphrase_check(v->new_pass, &bad) != 0 || strcmp(v->new_pass, v->pass) == 0) {
		rc = mon_reply_err(reply, m->id, 400, "bad_passphrase", "the new passphrase: %s",
		    strcmp(v->new_pass, v->pass) == 0 ? "it is the old one" : bad);
		goto out;
	}
	if ((rc = account_gate(mon, "totp.recover", v->user, v->pass, &a, m->id, reply)) != 0) {
		rc = rc == 1 ? 0 : rc;
		goto out;
	}
	/* Counted before the passphrase is checked, as a login is. */
	before = a;
	locked = mon_console_failed(&a, (long long)time(NULL), c->console.max_failures,
	    c->console.lockout_seconds);
	if (store_admin_put(mon->store, &a) != 0) {
		rc = mon_reply_err(reply, m->id, 503, "console_unavailable", "the account store "
		    "cannot be written: no recovery until it can");
		goto out;
	}
	if ((rc = hash_check(a.hash, v->pass)) == SB_EPERM) {
		(void)ledger_login_as(mon, "totp.recover", a.user, "refused:bad_passphrase", locked);
		rc = mon_reply_err(reply, m->id, 403, "login_failed", "wrong username or passphrase");
		goto out;
	}
	if (rc != 0)
		goto out;
	a.failures = before.failures;
	a.locked_until = before.locked_until;
	if (store_admin_put(mon->store, &a) != 0)
		log_warn("monitor: the account of %s could not be put back", a.user);
	snprintf(who, sizeof(who), "admin:%s", a.user);
	if ((rc = recover_check(mon, v, who, m->id, reply)) != 0) {
		rc = rc == 1 ? 0 : rc;
		goto out;
	}
	if ((rc = hash_make(mon, v->new_pass, a.hash, sizeof(a.hash))) != 0)
		goto out;
	if ((rc = mon_ledger(mon, json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:b,s:s}", "action",
	    "totp.recover", "actor", mon->admin_actor, "user", a.user, "principal", who, "by",
	    "passphrase and quorum", "shares", (int)v->shares.n, "passphrase_replaced", 1,
	    "result", "ok"), &seq, leaf)) != 0) {
		rc = mon_reply_err(reply, m->id, 503, "ledger_unavailable", "not ledgered, so not "
		    "done: %s", sb_strerror(rc));
		goto out;
	}
	/* The new passphrase first: if the code then cannot be removed, the
	 * old passphrase opens nothing, and the code still guards the login. */
	a.failures = 0;
	a.locked_until = 0;
	a.must_change = 0;
	if (store_admin_put(mon->store, &a) != 0) {
		rc = mon_reply_err(reply, m->id, 503, "console_unavailable", "ledgered (entry "
		    "%llu) but not done: the account store cannot be written",
		    (unsigned long long)seq);
		goto out;
	}
	/* Every session ends: one opened with the lost authenticator too. */
	sessions_end_user(a.user, "");
	if ((rc = mon_totp_admin_remove(mon, who)) != 0) {
		rc = mon_reply_err(reply, m->id, 503, "totp_unavailable", "ledgered (entry %llu) "
		    "and the passphrase replaced, but the one-time code could not be removed: %s",
		    (unsigned long long)seq, sb_strerror(rc));
		goto out;
	}
	log_info("monitor: %s removed their one-time code with the quorum's shares and "
	    "replaced their passphrase", who);
	rc = mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:I}", "user", a.user, "seq",
	    (json_int_t)seq));
out:
	secret_free(&v);
	return rc;
}

int
mon_adm_logout(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_session v;
	struct session s;

	if (adm_session_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed logout request");
	if (session_use(mon, v.session, 1, &s) != 0)
		return reply_no_session(reply, m->id);
	secret_wipe(&v, sizeof(v));
	ledger_login(mon, "admin.logout", s.user, "ok");
	return mon_reply_json(reply, m->id, 200, json_pack("{s:s}", "user", s.user));
}

int
mon_adm_session(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_session v;
	struct session s;

	if (adm_session_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed session request");
	if (session_use(mon, v.session, 0, &s) != 0)
		return reply_no_session(reply, m->id);
	secret_wipe(&v, sizeof(v));
	return mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:s,s:i,s:b}", "user", s.user,
	    "role", s.role, "idle_seconds", (int)mon->cfg->console.idle_seconds,
	    "must_change", s.must_change));
}

/* The checks of a passphrase change before the hash; 0 or a reply (1). */
static int
passwd_check(struct mon *mon, const struct adm_passwd *v, struct session *s,
    struct store_admin *a, uint32_t id, struct ipc_msg *reply)
{
	const char *why;
	long long left;
	int rc;

	if (session_use(mon, v->session, 0, s) != 0)
		return reply_no_session(reply, id) == 0 ? 1 : SB_ENOMEM;
	if (msg_passphrase_check(v->new_pass, &why) != 0)
		return mon_reply_err(reply, id, 400, "bad_passphrase", "the new passphrase: %s",
		    why) == 0 ? 1 : SB_ENOMEM;
	if (strcmp(v->new_pass, v->old_pass) == 0)
		return mon_reply_err(reply, id, 400, "bad_passphrase", "the new passphrase is "
		    "the old one") == 0 ? 1 : SB_ENOMEM;
	if ((rc = store_admin_get(mon->store, s->user, a)) != 0)
		return rc;
	if (mon_console_locked(a, (long long)time(NULL), &left)) {
		ledger_login(mon, "admin.passwd", a->user, "refused:locked");
		return mon_reply_err(reply, id, 423, "account_locked", "account locked after too "
		    "many failed logins; try again in %lld s", left) == 0 ? 1 : SB_ENOMEM;
	}
	if ((rc = hash_check(a->hash, v->old_pass)) == SB_EPERM) {
		/* A wrong old passphrase counts as a failed login: a session left
		 * open must not be a way to guess it without limit. */
		(void)mon_console_failed(a, (long long)time(NULL), mon->cfg->console.max_failures,
		    mon->cfg->console.lockout_seconds);
		(void)store_admin_put(mon->store, a);
		ledger_login(mon, "admin.passwd", a->user, "refused:bad_passphrase");
		return mon_reply_err(reply, id, 403, "login_failed", "the old passphrase is "
		    "wrong") == 0 ? 1 : SB_ENOMEM;
	}
	return rc;
}

struct passwd_arg {
	struct mon *mon;
	struct store_admin a;
};

static int
passwd_apply(void *arg)
{
	struct passwd_arg *x = arg;

	return store_admin_put(x->mon->store, &x->a);
}

int
mon_adm_passwd(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_passwd *v = secret_alloc(sizeof(*v));
	struct passwd_arg *x = secret_alloc(sizeof(*x));
	struct session s;
	char actor[64];
	int rc;

	if (v == NULL || x == NULL) {
		secret_free(&v);
		secret_free(&x);
		return SB_ENOMEM;
	}
	if (adm_passwd_dec(m, v) != 0)
		rc = mon_reply_err(reply, m->id, 400, "bad_request", "malformed passphrase change");
	else if ((rc = passwd_check(mon, v, &s, &x->a, m->id, reply)) == 1)
		rc = 0;
	else if (rc == 0 && (rc = hash_make(mon, v->new_pass, x->a.hash, sizeof(x->a.hash))) == 0) {
		x->mon = mon;
		x->a.failures = 0;
		x->a.must_change = 0;
		snprintf(actor, sizeof(actor), "admin:%s", s.user);
		rc = mon_ledgered_change(mon, json_pack("{s:s,s:s,s:s,s:s}", "action",
		    "admin.passwd", "actor", actor, "user", s.user, "result", "ok"),
		    passwd_apply, x);
		if (rc == 0) {
			sessions_end_user(s.user, v->session);
			rc = mon_reply_json(reply, m->id, 200, json_pack("{s:s}", "user", s.user));
		}
	}
	secret_free(&v);
	secret_free(&x);
	return rc;
}

/* The auditor's verdict on the whole ledger (ledger_verify, as at start). */
int
mon_adm_ledger_verify(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_session v;
	struct session s;
	char msg[512] = "";
	uint64_t bad = 0;
	int rc;

	if (adm_session_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	if (session_use(mon, v.session, 0, &s) != 0)
		return reply_no_session(reply, m->id);
	secret_wipe(&v, sizeof(v));
	if (s.must_change)
		return mon_reply_must_change(reply, m->id);
	if (strcmp(s.role, "auditor") != 0)
		return mon_reply_err(reply, m->id, 403, "forbidden_role",
		    "only the auditor verifies the ledger here");
	rc = ledger_verify(mon->ledger, mon->audit_pub, &bad, msg, sizeof(msg));
	if (rc != 0 && rc != SB_ECRYPTO)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable",
		    "the ledger could not be read: %s", sb_strerror(rc));
	return mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:I,s:I,s:s,s:b}", "verdict",
	    rc == 0 ? "intact" : "damaged", "entries", (json_int_t)ledger_size(mon->ledger),
	    rc == 0 ? "verified" : "first_bad", (json_int_t)bad, "message", msg,
	    "signatures_checked", mon->audit_pub != NULL));
}
