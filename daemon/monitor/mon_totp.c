/*
 * mon_totp — intent confirmation with a one-time code (RFC 6238 TOTP,
 * liboath): a person enrols a secret, confirms it with a first code, and
 * from then on a code proves that the person is there; each code is
 * accepted once (docs/policy.md, "Intent confirmation (TOTP)").
 *
 * The secret (20 random bytes, HMAC-SHA1, 6 digits, 30 s steps, a window of
 * one step either side) never reaches the disk in clear: its record in
 * STORE_TOTP_DB is sealed with AES-256-GCM by a secret key that lives in the
 * HSM (hsm_aes.h) and is usable only while the appliance is unsealed. The
 * record:
 *
 *   "SBT1" | state (1: 'p' pending, 'a' active) | last counter (8, big-endian)
 *   | iv (12) | ciphertext of the secret (20) | tag (16)
 *
 * The first 13 bytes and the principal's name are the GCM associated data:
 * changing the state or the counter, or moving a record to another
 * principal, makes it fail to open. The counter is the time step of the last
 * code accepted; a code is accepted only when its step is greater, and the
 * new counter is written with a compare-and-swap (store_totp_swap): of two
 * requests presenting one code at once, one wins and the other reads the
 * new record and is refused as a replay.
 *
 * Why an HSM key and not one derived from the master secret at unseal: a
 * re-share makes a new master secret, which would orphan every sealed
 * record; the token key survives it, never leaves the token, and needs no
 * change to the unseal path. The secret is decrypted into secret memory
 * (secret_alloc) for the one HMAC and wiped at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <liboath/oath.h>
#include <openssl/rand.h>

#include "../../hsm/hsm_aes.h"
#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../../lib/secret.h"
#include "mon_int.h"

#define TOTP_MAGIC "SBT1"
#define TOTP_HEAD 13			/* magic, state, counter */
#define TOTP_REC_LEN (TOTP_HEAD + HSM_AES_IV_LEN + MON_TOTP_SECRET_LEN + HSM_AES_TAG_LEN)
#define TOTP_STEP 30
#define TOTP_DIGITS 6
#define TOTP_WINDOW 1
#define TOTP_KEY_LABEL "sealbox-totp"
#define TOTP_TRIES 8			/* compare-and-swap rounds before giving up */
#define TOTP_ACTIVE SB_EUNSUPPORTED	/* internal: confirming a confirmed secret */

static const uint8_t totp_key_id[] = "sealbox-totp-v1";	/* CKA_ID, without the NUL */

/* ---- the sealed record --------------------------------------------------- */

static size_t
totp_aad(const uint8_t head[TOTP_HEAD], const char *principal, uint8_t *aad, size_t cap)
{
	size_t n = strlen(principal);

	if (TOTP_HEAD + n > cap)
		return 0;
	memcpy(aad, head, TOTP_HEAD);
	memcpy(aad + TOTP_HEAD, principal, n);
	return TOTP_HEAD + n;
}

int
mon_totp_seal(struct hsm *h, const char *principal, const struct mon_totp_rec *r,
    uint8_t *out, size_t *len)
{
	uint8_t aad[TOTP_HEAD + STORE_ID_MAX];
	size_t alen, n;
	int rc;

	if (*len < TOTP_REC_LEN || principal[0] == '\0' || strlen(principal) >= STORE_ID_MAX)
		return SB_EINVAL;
	memcpy(out, TOTP_MAGIC, 4);
	out[4] = r->active ? 'a' : 'p';
	for (int i = 0; i < 8; i++)
		out[5 + i] = (uint8_t)(r->last >> (56 - 8 * i));
	if (RAND_bytes(out + TOTP_HEAD, HSM_AES_IV_LEN) != 1)
		return SB_ECRYPTO;
	alen = totp_aad(out, principal, aad, sizeof(aad));
	n = *len - TOTP_HEAD - HSM_AES_IV_LEN;
	rc = hsm_aes_gcm_seal(h, totp_key_id, sizeof(totp_key_id) - 1, out + TOTP_HEAD, aad,
	    alen, r->secret, MON_TOTP_SECRET_LEN, out + TOTP_HEAD + HSM_AES_IV_LEN, &n);
	if (rc != 0)
		return rc;
	*len = TOTP_HEAD + HSM_AES_IV_LEN + n;
	return 0;
}

int
mon_totp_open(struct hsm *h, const char *principal, const uint8_t *in, size_t len,
    struct mon_totp_rec *r)
{
	uint8_t aad[TOTP_HEAD + STORE_ID_MAX];
	size_t alen, n = MON_TOTP_SECRET_LEN;
	int rc;

	memset(r, 0, sizeof(*r));
	if (len != TOTP_REC_LEN || memcmp(in, TOTP_MAGIC, 4) != 0 ||
	    (in[4] != 'a' && in[4] != 'p') ||
	    (alen = totp_aad(in, principal, aad, sizeof(aad))) == 0)
		return SB_ECRYPTO;
	rc = hsm_aes_gcm_open(h, totp_key_id, sizeof(totp_key_id) - 1, in + TOTP_HEAD, aad,
	    alen, in + TOTP_HEAD + HSM_AES_IV_LEN, len - TOTP_HEAD - HSM_AES_IV_LEN,
	    r->secret, &n);
	if (rc == 0 && n != MON_TOTP_SECRET_LEN)
		rc = SB_ECRYPTO;
	if (rc != 0) {
		secret_wipe(r, sizeof(*r));
		return rc;
	}
	r->active = in[4] == 'a';
	for (int i = 0; i < 8; i++)
		r->last = (r->last << 8) | in[5 + i];
	return 0;
}

int
mon_totp_key(struct hsm *h)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static const struct hsm *done;
	int rc = 0, made = 0;

	pthread_mutex_lock(&lock);
	if (done != h && (rc = hsm_aes_key_ensure(h, totp_key_id, sizeof(totp_key_id) - 1,
	    TOTP_KEY_LABEL, &made)) == 0)
		done = h;
	pthread_mutex_unlock(&lock);
	if (rc != 0)
		log_err("monitor: the TOTP sealing key is not usable: %s", hsm_error(h));
	return rc;
}

/* ---- codes --------------------------------------------------------------- */

static void
oath_init_once(void)
{
	if (oath_init() != OATH_OK)
		log_err("monitor: liboath did not initialise");
}

static void
oath_once(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, oath_init_once);
}

int
mon_totp_accept(const struct mon_totp_rec *r, const char *otp, time_t now, uint64_t *counter)
{
	uint64_t c = 0;
	int pos = 0, rc;
	size_t n = strlen(otp);

	oath_once();
	if (n != TOTP_DIGITS || strspn(otp, "0123456789") != n)
		return MON_TOTP_INVALID;
	/* Success is rc >= 0 (the window distance), not OATH_OK: FIELD-NOTES. */
	rc = oath_totp_validate3((const char *)r->secret, MON_TOTP_SECRET_LEN, now, TOTP_STEP,
	    OATH_TOTP_DEFAULT_START_TIME, TOTP_WINDOW, &pos, &c, otp);
	if (rc < 0)
		return MON_TOTP_INVALID;
	/* The code's own time step: validate3 gives it; check it against pos. */
	if (c != (uint64_t)(now / TOTP_STEP + pos))
		return MON_TOTP_INVALID;
	if (c <= r->last)
		return MON_TOTP_REPLAYED;
	*counter = c;
	return 0;
}

const char *
mon_totp_code(int rc)
{
	switch (rc) {
	case MON_TOTP_INVALID: return "otp_invalid";
	case MON_TOTP_REPLAYED: return "otp_replayed";
	case MON_TOTP_NOT_ENROLLED: return "otp_not_enrolled";
	default: return "totp_unavailable";
	}
}

/* ---- reading, checking, consuming ---------------------------------------- */

struct totp_cur {
	uint8_t raw[STORE_TOTP_MAX];
	size_t len;
	struct mon_totp_rec *rec;	/* secret memory */
};

/* The principal's record, read and opened; SB_ENOTFOUND when there is none. */
static int
totp_load(struct mon *mon, const char *principal, struct totp_cur *cur)
{
	int rc;

	if ((rc = store_totp_get(mon->store, principal, cur->raw, sizeof(cur->raw),
	    &cur->len)) != 0)
		return rc;
	if ((rc = mon_totp_key(mon->hsm)) != 0)
		return rc;
	rc = mon_totp_open(mon->hsm, principal, cur->raw, cur->len, cur->rec);
	if (rc == SB_ECRYPTO)
		log_err("monitor: the TOTP record of '%s' does not open: altered, or sealed by "
		    "another key", principal);
	return rc;
}

/* Seal r and swap it in for cur's record (NULL cur: when there is none). */
static int
totp_swap(struct mon *mon, const char *principal, const struct totp_cur *cur,
    const struct mon_totp_rec *r)
{
	uint8_t rec[STORE_TOTP_MAX];
	size_t n = sizeof(rec);
	int rc;

	if ((rc = mon_totp_key(mon->hsm)) != 0 ||
	    (rc = mon_totp_seal(mon->hsm, principal, r, rec, &n)) != 0)
		return rc;
	return store_totp_swap(mon->store, principal, cur ? cur->raw : NULL, cur ? cur->len : 0,
	    rec, n);
}

/*
 * Accept otp for principal's record in state want_active (else
 * MON_TOTP_NOT_ENROLLED, or TOTP_ACTIVE for confirming an active one), and
 * make it active with the code's step as its counter, atomically.
 */
static int
totp_consume(struct mon *mon, const char *principal, const char *otp, int want_active,
    char *why, size_t whylen)
{
	struct totp_cur *cur = secret_alloc(sizeof(*cur));
	struct mon_totp_rec *next = secret_alloc(sizeof(*next));
	uint64_t counter = 0;
	int rc = SB_ENOMEM;

	if (cur == NULL || next == NULL || (cur->rec = secret_alloc(sizeof(*cur->rec))) == NULL)
		goto out;
	for (int i = 0; i < TOTP_TRIES; i++) {
		if ((rc = totp_load(mon, principal, cur)) == SB_ENOTFOUND) {
			rc = MON_TOTP_NOT_ENROLLED;
			snprintf(why, whylen, "'%s' has no TOTP secret enrolled", principal);
			break;
		}
		if (rc != 0) {
			snprintf(why, whylen, "the TOTP record of '%s' cannot be read: %s",
			    principal, sb_strerror(rc));
			break;
		}
		if (!cur->rec->active && want_active) {
			rc = MON_TOTP_NOT_ENROLLED;
			snprintf(why, whylen, "the TOTP enrolment of '%s' is not confirmed yet: "
			    "confirm it with a first code", principal);
			break;
		}
		if (cur->rec->active && !want_active) {
			rc = TOTP_ACTIVE;
			snprintf(why, whylen, "the TOTP secret of '%s' is already confirmed",
			    principal);
			break;
		}
		if ((rc = mon_totp_accept(cur->rec, otp, time(NULL), &counter)) != 0) {
			snprintf(why, whylen, rc == MON_TOTP_REPLAYED ? "this code (or a later "
			    "one) was already used; wait for the next one" : "the code is not "
			    "valid now for '%s'", principal);
			break;
		}
		memcpy(next, cur->rec, sizeof(*next));
		next->active = 1;
		next->last = counter;
		if ((rc = totp_swap(mon, principal, cur, next)) != SB_ESTATE)
			break;
		/* Changed under us (the same code, another one, a re-enrolment):
		 * read again; the same code is then a replay. */
	}
	if (rc == SB_ESTATE)
		snprintf(why, whylen, "the TOTP record of '%s' kept changing; retry", principal);
	else if (rc != 0 && why[0] == '\0')
		snprintf(why, whylen, "the TOTP record of '%s' cannot be written: %s", principal,
		    sb_strerror(rc));
out:
	if (cur != NULL)
		secret_free(&cur->rec);
	secret_free(&cur);
	secret_free(&next);
	return rc;
}

int
mon_totp_check(struct mon *mon, const char *principal, const char *otp, char *why,
    size_t whylen)
{
	why[0] = '\0';
	if (!mon_is_ready(mon)) {
		snprintf(why, whylen, "the appliance is sealed");
		return SB_ESTATE;
	}
	return totp_consume(mon, principal, otp, 1, why, whylen);
}

/* ---- the handlers -------------------------------------------------------- */

/* Decode, who, ready, a person: 0, or the reply is made (*done 1) or SB_EINVAL. */
static int
totp_begin(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply, struct msg_totp *v,
    struct store_principal *p, int *done)
{
	int rc;

	*done = 1;
	if (msg_totp_dec(m, v) != 0)
		return SB_EINVAL;
	if (mon_who(mon, &v->who, m->type, m->id, reply, p) != 0)
		return 0;
	if ((rc = mon_require_ready(mon, m->id, reply)) != 0)
		return rc == SB_ESTATE ? 0 : rc;
	if (strcmp(p->kind, "person") != 0)
		return mon_reply_err(reply, m->id, 403, "not_a_person", "'%s' is an application: "
		    "only a person enrols and uses a one-time code", p->name);
	*done = 0;
	return 0;
}

static json_t *
totp_entry(const char *action, const char *principal, const char *result)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "action", action, "actor", principal,
	    "principal", principal, "result", result);
}

/* Ledger the outcome of a confirm or verify, then answer it. */
static int
totp_answer(struct mon *mon, uint32_t id, struct ipc_msg *reply, const char *action,
    const char *principal, int rc, const char *why)
{
	char result[64];
	uint64_t seq;
	uint8_t leaf[32];
	int lrc;

	if (rc == 0)
		snprintf(result, sizeof(result), "ok");
	else
		snprintf(result, sizeof(result), "refused:%s", rc == TOTP_ACTIVE ? "totp_active" :
		    mon_totp_code(rc));
	lrc = mon_ledger(mon, totp_entry(action, principal, result), &seq, leaf);
	if (rc == 0 && lrc != 0)
		return mon_reply_err(reply, id, 503, "ledger_unavailable",
		    "the code was used but could not be recorded: %s", sb_strerror(lrc));
	switch (rc) {
	case 0:
		return mon_reply_json(reply, id, 200, json_pack("{s:s,s:I}", "result", "ok",
		    "seq", (json_int_t)seq));
	case MON_TOTP_INVALID:
	case MON_TOTP_REPLAYED:
	case MON_TOTP_NOT_ENROLLED:
		return mon_reply_err(reply, id, 403, mon_totp_code(rc), "%s", why);
	case TOTP_ACTIVE:
		return mon_reply_err(reply, id, 409, "totp_active", "%s", why);
	case SB_ENOMEM:
		return rc;
	default:
		return mon_reply_err(reply, id, 503, "totp_unavailable", "%s", why);
	}
}

static int
totp_verify_like(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply, int confirm)
{
	struct store_principal p;
	struct msg_totp v;
	char why[MSG_TEXT_MAX] = "";
	int rc, done;

	if ((rc = totp_begin(mon, m, reply, &v, &p, &done)) != 0 || done) {
		secret_wipe(&v, sizeof(v));
		return rc;
	}
	if (v.otp[0] == '\0')
		return mon_reply_err(reply, m->id, 400, "bad_request", "otp: 6-8 digits");
	rc = confirm ? totp_consume(mon, p.name, v.otp, 0, why, sizeof(why)) :
	    mon_totp_check(mon, p.name, v.otp, why, sizeof(why));
	secret_wipe(&v, sizeof(v));
	return totp_answer(mon, m->id, reply, confirm ? "totp.confirm" : "totp.verify", p.name,
	    rc, why);
}

int
mon_totp_confirm(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	return totp_verify_like(mon, m, reply, 1);
}

int
mon_totp_verify(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	return totp_verify_like(mon, m, reply, 0);
}

/* ---- enrolment ----------------------------------------------------------- */

struct enrol {
	struct mon *mon;
	const char *principal;
	struct totp_cur *cur;		/* the record replaced; len 0: none */
	struct mon_totp_rec *rec;	/* the new one (secret memory) */
};

static int
enrol_apply(void *arg)
{
	struct enrol *en = arg;

	return totp_swap(en->mon, en->principal, en->cur->len ? en->cur : NULL, en->rec);
}

/* {"otpauth_uri": ...} for the new secret, in reply. */
static int
enrol_reply(struct ipc_msg *reply, uint32_t id, const char *principal,
    const struct mon_totp_rec *r)
{
	char *b32 = NULL, *uri;
	size_t n = 0, cap = 512;
	int rc;

	if (oath_base32_encode((const char *)r->secret, MON_TOTP_SECRET_LEN, &b32, &n) != OATH_OK)
		return SB_ENOMEM;
	if ((uri = secret_alloc(cap)) == NULL) {
		secret_wipe(b32, n);
		free(b32);
		return SB_ENOMEM;
	}
	snprintf(uri, cap, "otpauth://totp/Sealbox:%s?secret=%.*s&issuer=Sealbox&algorithm=SHA1"
	    "&digits=%d&period=%d", principal, (int)n, b32, TOTP_DIGITS, TOTP_STEP);
	secret_wipe(b32, n);
	free(b32);
	rc = mon_reply_json(reply, id, 200, json_pack("{s:s}", "otpauth_uri", uri));
	secret_free(&uri);
	return rc;
}

/* The record there is now: none (cur->len 0), pending, or active. */
static int
enrol_current(struct mon *mon, const char *principal, struct totp_cur *cur)
{
	int rc = totp_load(mon, principal, cur);

	if (rc == SB_ENOTFOUND) {
		cur->len = 0;
		return 0;
	}
	return rc;
}

static int
enrol_run(struct mon *mon, uint32_t id, struct ipc_msg *reply, const char *principal,
    const char *who, const char *otp, struct enrol *en)
{
	char why[MSG_TEXT_MAX] = "";
	uint64_t counter;
	const char *was;
	int rc;

	if ((rc = enrol_current(mon, principal, en->cur)) != 0)
		return mon_reply_err(reply, id, 503, "totp_unavailable",
		    "the TOTP record of '%s' cannot be read: %s", principal, sb_strerror(rc));
	was = en->cur->len == 0 ? "none" : en->cur->rec->active ? "active" : "pending";
	if (en->cur->len != 0 && en->cur->rec->active) {
		/* Replacing a confirmed secret takes a current code of it. */
		if (otp[0] == '\0')
			return mon_reply_err(reply, id, 409, "totp_active", "'%s' has a confirmed "
			    "TOTP secret: send a current code of it as otp to replace it",
			    principal);
		if ((rc = mon_totp_accept(en->cur->rec, otp, time(NULL), &counter)) != 0) {
			snprintf(why, sizeof(why), "the code does not prove the current secret");
			return totp_answer(mon, id, reply, "totp.enrol", principal, rc, why);
		}
	}
	en->rec->active = 0;
	en->rec->last = 0;
	if (RAND_bytes(en->rec->secret, MON_TOTP_SECRET_LEN) != 1)
		return mon_reply_err(reply, id, 503, "totp_unavailable", "no random bytes");
	rc = mon_ledgered_change(mon, json_pack("{s:s,s:s,s:s,s:s,s:s}", "action", "totp.enrol",
	    "actor", who, "principal", who, "replaces", was, "result", "ok"),
	    enrol_apply, en);
	if (rc == SB_ESTATE)
		return mon_reply_err(reply, id, 409, "conflict", "the TOTP record of '%s' changed "
		    "meanwhile; enrol again", principal);
	if (rc == SB_ENOMEM)
		return rc;
	if (rc != 0)
		return mon_reply_err(reply, id, 503, "totp_unavailable", "the enrolment could not "
		    "be recorded: %s", sb_strerror(rc));
	log_info("monitor: '%s' enrolled a TOTP secret (pending confirmation)", principal);
	return enrol_reply(reply, id, who, en->rec);
}

/* A new secret for principal (a person, or "admin:USER"), into reply. */
static int
enrol_as(struct mon *mon, uint32_t id, struct ipc_msg *reply, const char *principal,
    const char *who, const char *otp)
{
	struct enrol en = { mon, principal, NULL, NULL };
	int rc;

	en.cur = secret_alloc(sizeof(*en.cur));
	en.rec = secret_alloc(sizeof(*en.rec));
	if (en.cur == NULL || en.rec == NULL ||
	    (en.cur->rec = secret_alloc(sizeof(*en.cur->rec))) == NULL)
		rc = SB_ENOMEM;
	else
		rc = enrol_run(mon, id, reply, principal, who, otp, &en);
	if (en.cur != NULL)
		secret_free(&en.cur->rec);
	secret_free(&en.cur);
	secret_free(&en.rec);
	return rc;
}

int
mon_totp_enrol(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct store_principal p;
	struct msg_totp v;
	int rc, done;

	if ((rc = totp_begin(mon, m, reply, &v, &p, &done)) == 0 && !done)
		rc = enrol_as(mon, m->id, reply, p.name, p.name, v.otp);
	secret_wipe(&v, sizeof(v));
	return rc;
}

/* ---- console administrators ---------------------------------------------- */

/*
 * A console admin's confirmed secret is kept like a person's, under the
 * name "admin:USER" (the actor the gate sets; no principal name holds a
 * ':'); a new one waits under "admin:USER#next" until its first code
 * confirms it, and only then replaces the confirmed one. So a record
 * under the first name always means "logins need a code": enrolling anew
 * never lets a login through on the passphrase alone. Enrolling needs the
 * appliance unsealed (the HSM key seals the record); replacing a confirmed
 * secret takes a current code of it, and a wrong one counts as a failed
 * login (mon_console_otp_failed).
 */
#define ADMIN_NEXT "#next"

int
mon_totp_state(struct mon *mon, const char *principal)
{
	struct totp_cur *cur;
	uint8_t raw[STORE_TOTP_MAX];
	size_t len;
	int rc;

	if ((rc = store_totp_get(mon->store, principal, raw, sizeof(raw), &len)) != 0)
		return rc == SB_ENOTFOUND ? 0 : rc;
	if (!mon_is_ready(mon))
		return SB_ESTATE;	/* there is a record; it opens only unsealed */
	if ((cur = secret_alloc(sizeof(*cur))) == NULL ||
	    (cur->rec = secret_alloc(sizeof(*cur->rec))) == NULL) {
		secret_free(&cur);
		return SB_ENOMEM;
	}
	rc = totp_load(mon, principal, cur);
	if (rc == 0)
		rc = cur->rec->active ? 2 : 1;
	else if (rc == SB_ENOTFOUND)
		rc = 0;
	secret_free(&cur->rec);
	secret_free(&cur);
	return rc;
}

int
mon_adm_totp_enrol(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	char next[sizeof(((struct mon *)0)->admin_actor) + 8], why[MSG_TEXT_MAX] = "";
	const char *user = mon->admin_actor + 6;	/* past "admin:" */
	struct adm_otp v;
	int rc, st;

	if (adm_otp_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "otp: \"\" or 6-8 digits");
	if ((rc = mon_require_ready(mon, m->id, reply)) != 0) {
		secret_wipe(&v, sizeof(v));
		return rc == SB_ESTATE ? 0 : rc;
	}
	if ((st = mon_totp_state(mon, mon->admin_actor)) < 0) {
		secret_wipe(&v, sizeof(v));
		return mon_reply_err(reply, m->id, 503, "totp_unavailable", "the one-time code "
		    "record cannot be read: %s", sb_strerror(st));
	}
	if (st == 2) {
		/* Replacing: prove the present secret. A wrong code is a failed
		 * login, so that a session left open is no way to guess one. */
		if (v.otp[0] == '\0') {
			secret_wipe(&v, sizeof(v));
			return mon_reply_err(reply, m->id, 409, "totp_active", "a confirmed one-time "
			    "code is in force: send a current code of it to replace it");
		}
		rc = mon_totp_check(mon, mon->admin_actor, v.otp, why, sizeof(why));
		secret_wipe(&v, sizeof(v));
		if (rc == MON_TOTP_INVALID || rc == MON_TOTP_REPLAYED) {
			mon_console_otp_failed(mon, user);
			return totp_answer(mon, m->id, reply, "totp.enrol", mon->admin_actor, rc,
			    why);
		}
		if (rc != 0)
			return totp_answer(mon, m->id, reply, "totp.enrol", mon->admin_actor, rc,
			    why);
	}
	secret_wipe(&v, sizeof(v));
	snprintf(next, sizeof(next), "%s" ADMIN_NEXT, mon->admin_actor);
	return enrol_as(mon, m->id, reply, next, mon->admin_actor, "");
}

/* The confirmed candidate (under next) sealed anew as principal's, then
 * the candidate removed. */
static int
admin_promote(struct mon *mon, const char *principal, const char *next)
{
	struct totp_cur *cand = secret_alloc(sizeof(*cand)), *cur = secret_alloc(sizeof(*cur));
	int rc = SB_ENOMEM, have;

	if (cand == NULL || cur == NULL || (cand->rec = secret_alloc(sizeof(*cand->rec))) == NULL ||
	    (cur->rec = secret_alloc(sizeof(*cur->rec))) == NULL)
		goto out;
	if ((rc = totp_load(mon, next, cand)) != 0)
		goto out;
	have = (rc = totp_load(mon, principal, cur)) == 0;
	if (rc != 0 && rc != SB_ENOTFOUND)
		goto out;
	if ((rc = totp_swap(mon, principal, have ? cur : NULL, cand->rec)) == 0)
		rc = store_totp_delete(mon->store, next);
out:
	if (cand != NULL)
		secret_free(&cand->rec);
	if (cur != NULL)
		secret_free(&cur->rec);
	secret_free(&cand);
	secret_free(&cur);
	return rc;
}

int
mon_adm_totp_confirm(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	char why[MSG_TEXT_MAX] = "", next[sizeof(((struct mon *)0)->admin_actor) + 8];
	struct adm_otp v;
	int rc;

	if (adm_otp_dec(m, &v) != 0 || v.otp[0] == '\0') {
		secret_wipe(&v, sizeof(v));
		return mon_reply_err(reply, m->id, 400, "bad_request", "otp: 6 digits");
	}
	if ((rc = mon_require_ready(mon, m->id, reply)) != 0) {
		secret_wipe(&v, sizeof(v));
		return rc == SB_ESTATE ? 0 : rc;
	}
	snprintf(next, sizeof(next), "%s" ADMIN_NEXT, mon->admin_actor);
	rc = totp_consume(mon, next, v.otp, 0, why, sizeof(why));
	secret_wipe(&v, sizeof(v));
	if (rc == MON_TOTP_NOT_ENROLLED)
		snprintf(why, sizeof(why), "no new one-time code is waiting: set one up first");
	if (rc == 0 && (rc = admin_promote(mon, mon->admin_actor, next)) != 0)
		snprintf(why, sizeof(why), "the new one-time code could not be put in force: %s",
		    sb_strerror(rc));
	if (rc == 0)	/* a session opened without this code ends */
		mon_console_end_others(mon, mon->admin_actor + 6);
	return totp_answer(mon, m->id, reply, "totp.confirm", mon->admin_actor, rc, why);
}

int
mon_totp_admin_remove(struct mon *mon, const char *who)
{
	char next[MSG_ADMIN_USER_MAX + 16];
	int rc;

	snprintf(next, sizeof(next), "%s" ADMIN_NEXT, who);
	if ((rc = store_totp_delete(mon->store, who)) != 0)
		return rc;
	return store_totp_delete(mon->store, next);
}

int
mon_adm_totp_reset(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	char who[MSG_ADMIN_USER_MAX + 8];
	struct adm_user v;
	struct store_admin a;
	uint8_t leaf[32];
	uint64_t seq;
	int rc;

	if (adm_user_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "a username");
	if (strcmp(v.user, mon->admin_actor + 6) == 0)
		return mon_reply_err(reply, m->id, 403, "own_account", "another secadmin resets "
		    "your one-time code: no admin removes their own second factor");
	if ((rc = store_admin_get(mon->store, v.user, &a)) != 0)
		return rc == SB_ENOTFOUND ? mon_reply_err(reply, m->id, 404, "unknown_admin",
		    "no administrator '%s'", v.user) : rc;
	snprintf(who, sizeof(who), "admin:%s", v.user);
	if ((rc = mon_ledger(mon, json_pack("{s:s,s:s,s:s,s:s}", "action", "totp.reset", "actor",
	    mon->admin_actor, "principal", who, "result", "ok"), &seq, leaf)) != 0)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "not ledgered, so "
		    "not done: %s", sb_strerror(rc));
	if ((rc = mon_totp_admin_remove(mon, who)) != 0)
		return mon_reply_err(reply, m->id, 503, "totp_unavailable", "ledgered (entry "
		    "%llu) but not done: %s", (unsigned long long)seq, sb_strerror(rc));
	log_info("monitor: %s reset the one-time code of %s", mon->admin_actor, who);
	return mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:I}", "user", v.user, "seq",
	    (json_int_t)seq));
}
