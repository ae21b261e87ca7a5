/*
 * hsm — connection, locking, faults and reconnect, login, token set-up.
 * Keys, signing and certificates are in hsm_key.c.
 *
 * One connection per module per process. PKCS#11 state is per process, not
 * per libp11 context: a second PKCS11_CTX_load of the same module gets
 * CKR_CRYPTOKI_ALREADY_INITIALIZED, and the first PKCS11_CTX_unload then
 * calls C_Finalize under everybody's feet; releasing a libp11 slot list calls
 * C_CloseAllSessions, which logs the token out for every session of the
 * process. So handles do not own a module: every handle on one module path
 * (after realpath) shares one struct hsm_mod (libp11 context, slot list,
 * our own reference to the module's function list), and every handle on one
 * token label shares one struct hsm_tok (slot, login, held PIN, key cache).
 * "Logged in" is a property of the token in this process, as in PKCS#11.
 * hsm_token_init() uses the same connection, so it can run while handles are
 * open (the monitor re-sharing while it signs is the case that needs this).
 *
 * Locks, outermost first:
 *  - hsm_reg_lock: the table of modules and their reference counts.
 *  - mod->rw, a writer-preferring rwlock. Readers: signing, lookups, keygen,
 *    certificates, random, check. Writers: reload/reconnect, login,
 *    PIN change, key destruction, opening and closing handles. A writer
 *    sees no reader, so everything that readers share (libp11's slot list,
 *    cached EVP_PKEYs, tok->pin) is only replaced or freed under it.
 *    hsm_key_borrow() returns holding a read lock and hsm_key_release()
 *    drops it, so a reconnect waits until borrowed keys are given back. A
 *    thread's read holds are counted (hsm_tl_hold) so that a thread holding
 *    a borrowed key can still call hsm_sign (no second rdlock, which a
 *    waiting writer would deadlock) and is refused, not deadlocked, when it
 *    asks for something that needs the write lock.
 *  - mod->p11_lock: libp11's per-slot key list is a realloc'd array with no
 *    lock of its own; key enumeration and cache misses go one at a time.
 *  - mod->mgmt_lock: replacing a certificate (find old, create, destroy old).
 *  - mod->obj_lock, a leaf rwlock: SoftHSM 2.6.1's file store is not safe
 *    when one thread searches objects or reads their attributes while
 *    another creates or destroys them (CKR_GENERAL_ERROR, or a handle gone:
 *    upstream issue 573, fixed after 2.6.1): searches, attribute reads and
 *    libp11's key enumeration share it, keygen and object creation and
 *    destruction take it alone. Signing on a cache hit never takes it.
 *  - tok->cache_lock, mod->state_lock: short, leaf locks.
 * Signing on a cache hit takes the read lock and the cache lock only; the
 * EVP_PKEY signs through libp11's per-slot session pool, which is
 * thread-safe (one EVP_PKEY was measured signing from 2 threads x 10,000).
 *
 * Faults. A CKR that means the module or token is broken (device error,
 * session gone, not initialised, token absent, general error, login lost)
 * marks the module failed and the call returns SB_EHSM. Other CKRs are
 * checked with a probe (C_GetTokenInfo) before being called a request
 * error. The next call on any handle reconnects under the write lock: drop
 * cached keys, release the slot list, C_Finalize and unload, load again,
 * find every open token by label, log each in again with the PIN held in
 * secret memory. At most one attempt per HSM_RETRY_MS; in between, calls
 * fail fast with the last reason. A held PIN that the token refuses at a
 * reconnect is dropped (SB_EHSM_PIN until hsm_login) so that a changed PIN
 * is never retried into a lock-out.
 *
 * What SoftHSM 2.6.1 does (file backend) when its token directory becomes
 * unreadable under a process that has the token open, found by experiment:
 * C_SignInit on a key handle found before fails with
 * CKR_OBJECT_HANDLE_INVALID (so cached EVP_PKEYs stop signing at once);
 * C_GetAttributeValue on old handles likewise; C_GetTokenInfo fails with
 * CKR_GENERAL_ERROR; C_FindObjects succeeds and finds *nothing*;
 * C_OpenSession, C_GenerateRandom, C_GetSlotList succeed; C_Login says
 * CKR_USER_ALREADY_LOGGED_IN. Making the directory readable again cures
 * nothing in that process: the token stays invalid until C_Finalize and
 * C_Initialize. C_Initialize fails with CKR_GENERAL_ERROR while the
 * directory is unreadable and succeeds once it is back, with the token on
 * the same slot id. Hence: an empty find or a stale object handle is only
 * believed after a successful probe, and recovery is a full reload.
 *
 * Caveats of libp11 0.4.12 that shape this file: PKCS11_CTX_unload after a
 * failed PKCS11_CTX_load calls C_Finalize through a dangling pointer (we
 * only free such a context); PKCS11_update_slots frees slot data that other
 * objects still reference (we always release and enumerate afresh);
 * PKCS11_init_token passes a short label where C_InitToken reads 32 bytes,
 * and PKCS11_login keeps a copy of the PIN in ordinary memory and skips the
 * check when the slot is logged in already (we call C_InitToken and C_Login
 * ourselves, on our own sessions, through the module's function list); its
 * session pool waits forever when C_OpenSession fails while it holds no
 * session at all (so each libp11 lookup here follows one of our own
 * sessions on the same slot, which notices a failing module first, and the
 * pool keeps its sessions from then on).
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/secret.h"
#include "hsm_int.h"

static pthread_mutex_t hsm_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hsm_mod *hsm_mods[HSM_MAX_MODULES];

/* The last failure per thread, tagged with the handle it happened on. */
static _Thread_local struct {
	const struct hsm *h;
	char msg[HSM_ERR_MAX];
} hsm_tl_err;

/* Read locks this thread holds, per module. */
static _Thread_local struct {
	const struct hsm_mod *mod;
	unsigned depth;
} hsm_tl_hold[HSM_MAX_MODULES];

/* ---- errors -------------------------------------------------------------- */

/* snprintf for messages, where cutting a long one short is fine. */
void
hsm_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

int
hsm_fail(const struct hsm *h, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(hsm_tl_err.msg, sizeof(hsm_tl_err.msg), fmt, ap);
	va_end(ap);
	hsm_tl_err.h = h;
	return rc;
}

const char *
hsm_error(struct hsm *h)
{
	return hsm_tl_err.h == h ? hsm_tl_err.msg : "";
}

const char *
hsm_ckr_name(CK_RV rv)
{
	static _Thread_local char other[32];

	switch (rv) {
#define N(x) case x: return #x
	N(CKR_OK); N(CKR_HOST_MEMORY); N(CKR_SLOT_ID_INVALID);
	N(CKR_GENERAL_ERROR); N(CKR_FUNCTION_FAILED); N(CKR_ARGUMENTS_BAD);
	N(CKR_ATTRIBUTE_SENSITIVE); N(CKR_ATTRIBUTE_TYPE_INVALID);
	N(CKR_ATTRIBUTE_VALUE_INVALID); N(CKR_DATA_LEN_RANGE);
	N(CKR_DEVICE_ERROR); N(CKR_DEVICE_MEMORY); N(CKR_DEVICE_REMOVED);
	N(CKR_KEY_HANDLE_INVALID); N(CKR_KEY_TYPE_INCONSISTENT);
	N(CKR_KEY_FUNCTION_NOT_PERMITTED); N(CKR_MECHANISM_INVALID);
	N(CKR_OBJECT_HANDLE_INVALID); N(CKR_OPERATION_ACTIVE);
	N(CKR_PIN_INCORRECT); N(CKR_PIN_INVALID); N(CKR_PIN_LEN_RANGE);
	N(CKR_PIN_EXPIRED); N(CKR_PIN_LOCKED); N(CKR_SESSION_CLOSED);
	N(CKR_SESSION_COUNT); N(CKR_SESSION_HANDLE_INVALID);
	N(CKR_SESSION_READ_ONLY_EXISTS); N(CKR_TEMPLATE_INCOMPLETE);
	N(CKR_TEMPLATE_INCONSISTENT); N(CKR_TOKEN_NOT_PRESENT);
	N(CKR_TOKEN_NOT_RECOGNIZED); N(CKR_TOKEN_WRITE_PROTECTED);
	N(CKR_USER_ALREADY_LOGGED_IN); N(CKR_USER_NOT_LOGGED_IN);
	N(CKR_USER_PIN_NOT_INITIALIZED); N(CKR_USER_TYPE_INVALID);
	N(CKR_USER_ANOTHER_ALREADY_LOGGED_IN); N(CKR_BUFFER_TOO_SMALL);
	N(CKR_CRYPTOKI_NOT_INITIALIZED); N(CKR_CRYPTOKI_ALREADY_INITIALIZED);
#undef N
	}
	hsm_fmt(other, sizeof(other), "CKR 0x%lx", (unsigned long)rv);
	return other;
}

/* Codes that say the module or token, not the request, is broken. */
static int
hsm_ckr_is_fault(CK_RV rv)
{
	switch (rv) {
	case CKR_GENERAL_ERROR: case CKR_DEVICE_ERROR: case CKR_DEVICE_MEMORY:
	case CKR_DEVICE_REMOVED: case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED: case CKR_CRYPTOKI_NOT_INITIALIZED:
	case CKR_TOKEN_NOT_PRESENT: case CKR_TOKEN_NOT_RECOGNIZED:
	case CKR_SLOT_ID_INVALID:
		return 1;
	}
	return 0;
}

static uint64_t
hsm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
hsm_fault(struct hsm_mod *m, const char *why)
{
	int first;

	pthread_mutex_lock(&m->state_lock);
	first = !m->failed;
	if (first) {
		m->failed = 1;
		hsm_fmt(m->why, sizeof(m->why), "%s", why);
		m->next_try = hsm_now_ms();	/* the first reconnect need not wait */
	}
	pthread_mutex_unlock(&m->state_lock);
	if (first)
		log_err("hsm: %s: %s; will reconnect", m->path, why);
}

static int
hsm_is_failed(struct hsm_mod *m)
{
	int f;

	pthread_mutex_lock(&m->state_lock);
	f = m->failed;
	pthread_mutex_unlock(&m->state_lock);
	return f;
}

static int
hsm_label_eq(const CK_UTF8CHAR field[HSM_TOKEN_LABEL_MAX], const char *label)
{
	size_t n = HSM_TOKEN_LABEL_MAX;

	while (n > 0 && field[n - 1] == ' ')
		n--;
	return strlen(label) == n && memcmp(field, label, n) == 0;
}

/* 0 when the handle's token answers and still carries its label. */
int
hsm_probe(struct hsm *h, char *why, size_t len)
{
	CK_TOKEN_INFO ti;
	CK_RV rv;

	rv = h->mod->fl->C_GetTokenInfo(h->tok->slotid, &ti);
	if (rv != CKR_OK) {
		hsm_fmt(why, len, "C_GetTokenInfo: %s", hsm_ckr_name(rv));
		return SB_EHSM;
	}
	if (!(ti.flags & CKF_TOKEN_INITIALIZED) || !hsm_label_eq(ti.label, h->tok->label)) {
		hsm_fmt(why, len, "token '%s' is no longer in slot %lu", h->tok->label,
		    (unsigned long)h->tok->slotid);
		return SB_EHSM;
	}
	return 0;
}

/*
 * Turn a CKR into our code and this thread's message. Faults (and codes
 * the probe shows to come from a failing token) mark the module failed.
 * h may be NULL (hsm_token_init): then nothing is probed or marked.
 */
int
hsm_ckr(struct hsm *h, const char *what, CK_RV rv)
{
	char why[HSM_ERR_MAX], probe[HSM_ERR_MAX];

	hsm_fmt(why, sizeof(why), "%s: %s", what, hsm_ckr_name(rv));
	switch (rv) {
	case CKR_PIN_INCORRECT: case CKR_PIN_INVALID: case CKR_PIN_LEN_RANGE:
	case CKR_PIN_EXPIRED: case CKR_PIN_LOCKED:
		return hsm_fail(h, SB_EHSM_PIN, "%s", why);
	case CKR_HOST_MEMORY:
		return hsm_fail(h, SB_ENOMEM, "%s", why);
	case CKR_USER_NOT_LOGGED_IN:
		if (h == NULL || h->tok->pin == NULL)
			return hsm_fail(h, SB_EHSM_NOLOGIN, "%s", why);
		break;		/* we were logged in: the login was lost */
	default:
		if (h == NULL || hsm_ckr_is_fault(rv))
			break;
		if (hsm_probe(h, probe, sizeof(probe)) == 0)
			return hsm_fail(h, SB_EHSM, "%s", why);
		hsm_fmt(why, sizeof(why), "%s: %s (%s)", what, hsm_ckr_name(rv), probe);
	}
	if (h != NULL)
		hsm_fault(h->mod, why);
	return hsm_fail(h, SB_EHSM, "%s", why);
}

/* The CKR that libp11 put on OpenSSL's error queue, or 0; clears the queue. */
CK_RV
hsm_p11_rv(char *text, size_t len)
{
	unsigned long e;
	CK_RV rv = 0;
	int lib = ERR_get_CKR_code();

	text[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		if (ERR_GET_LIB(e) == lib && rv == 0)
			rv = (CK_RV)ERR_GET_REASON(e);
		else if (text[0] == '\0')
			ERR_error_string_n(e, text, len);
	}
	return rv;
}

/* After a libp11 call failed. */
int
hsm_p11_err(struct hsm *h, const char *what)
{
	char text[HSM_ERR_MAX], why[HSM_ERR_MAX];
	CK_RV rv = hsm_p11_rv(text, sizeof(text));

	if (rv != 0)
		return hsm_ckr(h, what, rv);
	if (hsm_probe(h, why, sizeof(why)) != 0) {
		hsm_fault(h->mod, why);
		return hsm_fail(h, SB_EHSM, "%s failed: %s", what, why);
	}
	return hsm_fail(h, SB_EHSM, "%s failed: %s", what, text[0] ? text : "no detail");
}

/* ---- locks --------------------------------------------------------------- */

static unsigned *
hsm_hold(const struct hsm_mod *m)
{
	unsigned *spare = NULL;

	for (size_t i = 0; i < HSM_MAX_MODULES; i++) {
		if (hsm_tl_hold[i].depth > 0 && hsm_tl_hold[i].mod == m)
			return &hsm_tl_hold[i].depth;
		if (hsm_tl_hold[i].depth == 0 && spare == NULL) {
			hsm_tl_hold[i].mod = m;
			spare = &hsm_tl_hold[i].depth;
		}
	}
	return spare;	/* never NULL: at most HSM_MAX_MODULES modules exist */
}

unsigned
hsm_held(const struct hsm_mod *m)
{
	for (size_t i = 0; i < HSM_MAX_MODULES; i++)
		if (hsm_tl_hold[i].depth > 0 && hsm_tl_hold[i].mod == m)
			return hsm_tl_hold[i].depth;
	return 0;
}

static void
hsm_rd_lock(struct hsm_mod *m)
{
	unsigned *d = hsm_hold(m);

	if ((*d)++ == 0)
		pthread_rwlock_rdlock(&m->rw);
}

void
hsm_rd_unlock(struct hsm_mod *m)
{
	unsigned *d = hsm_hold(m);

	if (*d > 0 && --*d == 0)
		pthread_rwlock_unlock(&m->rw);
}

static int
hsm_wr_lock(struct hsm *h, struct hsm_mod *m)
{
	if (hsm_held(m) > 0)
		return hsm_fail(h, SB_ESTATE, "this thread still holds a borrowed key "
		    "(hsm_key_release first)");
	pthread_rwlock_wrlock(&m->rw);
	return 0;
}

/* ---- loading, reloading -------------------------------------------------- */

static int
hsm_mod_load(struct hsm_mod *m, char *why, size_t len)
{
	CK_C_GetFunctionList get;
	char text[HSM_ERR_MAX];
	void *sym = NULL;
	CK_RV rv;

	if ((m->ctx = PKCS11_CTX_new()) == NULL) {
		hsm_fmt(why, len, "out of memory");
		return SB_ENOMEM;
	}
	if (PKCS11_CTX_load(m->ctx, m->path) != 0) {
		/*
		 * libp11 reports a return value only for C_Initialize (and the
		 * C_GetInfo right after it, which does not fail on its own):
		 * a module that loads but cannot start, as SoftHSM without its
		 * token directory. Say so, naming the call, as every other
		 * fault does.
		 */
		rv = hsm_p11_rv(text, sizeof(text));
		if (rv != 0)
			hsm_fmt(why, len, "cannot start %s: C_Initialize failed: %s",
			    m->path, hsm_ckr_name(rv));
		else
			hsm_fmt(why, len, "cannot load %s: not a loadable PKCS#11 module",
			    m->path);
		/* Never PKCS11_CTX_unload a failed load: see the opening comment. */
		PKCS11_CTX_free(m->ctx);
		m->ctx = NULL;
		return SB_EHSM;
	}
	m->loaded = 1;
	ERR_clear_error();	/* SoftHSM leaves engine-loading noise behind */
	/* Same library instance as libp11's, so the login state is shared. */
	if ((m->dl = dlopen(m->path, RTLD_NOW | RTLD_NOLOAD)) != NULL)
		sym = dlsym(m->dl, "C_GetFunctionList");
	memcpy(&get, &sym, sizeof(get));
	if (sym == NULL || (rv = get(&m->fl)) != CKR_OK) {
		hsm_fmt(why, len, "cannot get the function list of %s", m->path);
		return SB_EHSM;
	}
	if (PKCS11_enumerate_slots(m->ctx, &m->slots, &m->nslots) != 0) {
		rv = hsm_p11_rv(text, sizeof(text));
		hsm_fmt(why, len, "cannot list slots: %s", rv ? hsm_ckr_name(rv) : text);
		m->slots = NULL;
		m->nslots = 0;
		return SB_EHSM;
	}
	return 0;
}

/* Forget every slot (and with full, the module). Under the write lock. */
static void
hsm_mod_drop(struct hsm_mod *m, int full)
{
	for (struct hsm_tok *t = m->toks; t != NULL; t = t->next) {
		/* Before the slots go: libp11 keys point into them. */
		hsm_cache_flush(t, NULL, 0);
		if (t->anchor != CK_INVALID_HANDLE && m->fl != NULL)
			(void)m->fl->C_CloseSession(t->anchor);
		t->anchor = CK_INVALID_HANDLE;
		t->slot = NULL;
	}
	if (m->slots != NULL)
		PKCS11_release_all_slots(m->ctx, m->slots, m->nslots);
	m->slots = NULL;
	m->nslots = 0;
	if (full) {
		m->fl = NULL;
		if (m->dl != NULL)
			dlclose(m->dl);
		m->dl = NULL;
		if (m->ctx != NULL && m->loaded)
			PKCS11_CTX_unload(m->ctx);
		if (m->ctx != NULL)
			PKCS11_CTX_free(m->ctx);
		m->ctx = NULL;
		m->loaded = 0;
	}
	ERR_clear_error();
}

/*
 * Find the token's slot, open the anchor session that keeps its login
 * (SoftHSM logs a token out when its last session closes) and log in
 * again when a PIN is held.
 */
static int
hsm_tok_attach(struct hsm_mod *m, struct hsm_tok *t, char *why, size_t len)
{
	PKCS11_SLOT *slot = NULL;
	CK_RV rv;

	for (unsigned i = 0; i < m->nslots && slot == NULL; i++) {
		PKCS11_TOKEN *tk = m->slots[i].token;
		if (tk != NULL && tk->initialized && tk->label != NULL &&
		    strcmp(tk->label, t->label) == 0)
			slot = &m->slots[i];
	}
	if (slot == NULL) {
		hsm_fmt(why, len, "no token labelled '%s'", t->label);
		return SB_EHSM_NOTOKEN;
	}
	/* libp11's pool must be read-write: SO login is refused while a
	 * read-only session exists. Done before the anchor is opened, because
	 * changing the pool's mode closes every session on the slot. */
	if (PKCS11_open_session(slot, 1) != 0) {
		ERR_clear_error();
		hsm_fmt(why, len, "cannot open a session on token '%s'", t->label);
		return SB_EHSM;
	}
	t->slotid = PKCS11_get_slotid_from_slot(slot);
	rv = m->fl->C_OpenSession(t->slotid, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, &t->anchor);
	if (rv != CKR_OK) {
		t->anchor = CK_INVALID_HANDLE;
		hsm_fmt(why, len, "C_OpenSession: %s", hsm_ckr_name(rv));
		return SB_EHSM;
	}
	t->slot = slot;
	if (t->pin == NULL)
		return 0;
	rv = m->fl->C_Login(t->anchor, CKU_USER, (CK_UTF8CHAR *)t->pin, strlen(t->pin));
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return 0;
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_EXPIRED ||
	    rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE) {
		/* Never retried: a changed PIN must not walk the token into a lock-out. */
		log_err("hsm: token '%s' refused the held PIN when logging in again (%s); "
		    "it must be logged in again", t->label, hsm_ckr_name(rv));
		secret_free(&t->pin);
		t->pin_refused = 1;
		return 0;
	}
	t->slot = NULL;
	hsm_fmt(why, len, "C_Login: %s", hsm_ckr_name(rv));
	return SB_EHSM;
}

/* Release and enumerate the slots again (with full, unload and load the
 * module too), then attach every open token. Under the write lock. */
static int
hsm_mod_reload(struct hsm_mod *m, int full, char *why, size_t len)
{
	char text[HSM_ERR_MAX];
	int rc = 0, r;

	hsm_mod_drop(m, full);
	if (m->ctx == NULL) {
		if ((rc = hsm_mod_load(m, why, len)) != 0) {
			hsm_mod_drop(m, 1);
			return rc;
		}
	} else if (PKCS11_enumerate_slots(m->ctx, &m->slots, &m->nslots) != 0) {
		CK_RV rv = hsm_p11_rv(text, sizeof(text));
		hsm_fmt(why, len, "cannot list slots: %s", rv ? hsm_ckr_name(rv) : text);
		m->slots = NULL;
		m->nslots = 0;
		return SB_EHSM;
	}
	m->gen++;
	for (struct hsm_tok *t = m->toks; t != NULL; t = t->next) {
		if ((r = hsm_tok_attach(m, t, why, len)) != 0 && rc == 0)
			rc = r;
	}
	return rc == 0 ? 0 : SB_EHSM;	/* a token that went away is a fault */
}

/*
 * Under the write lock: bring a failed module back, at most once per
 * HSM_RETRY_MS. 0 when the module is usable.
 */
static int
hsm_mod_revive(struct hsm_mod *m, char *why, size_t len)
{
	uint64_t now = hsm_now_ms(), wait;
	int rc;

	pthread_mutex_lock(&m->state_lock);
	if (!m->failed && m->ctx != NULL) {
		pthread_mutex_unlock(&m->state_lock);
		return 0;
	}
	wait = now < m->next_try ? m->next_try - now : 0;
	hsm_fmt(why, len, "%s", m->why);
	if (wait == 0)
		m->next_try = now + HSM_RETRY_MS;
	pthread_mutex_unlock(&m->state_lock);
	if (wait > 0) {
		hsm_fmt(why + strlen(why), len - strlen(why),
		    " (next reconnect attempt in %llu ms)", (unsigned long long)wait);
		return SB_EHSM;
	}
	rc = hsm_mod_reload(m, 1, why, len);
	pthread_mutex_lock(&m->state_lock);
	m->failed = rc != 0;
	if (rc != 0)
		hsm_fmt(m->why, sizeof(m->why), "%s", why);
	pthread_mutex_unlock(&m->state_lock);
	if (rc == 0) {
		m->attempts = 0;
		log_info("hsm: %s: reconnected", m->path);
	} else if (++m->attempts, (m->attempts & (m->attempts - 1)) == 0) {
		/* attempts 1, 2, 4, 8, ...: a dead token does not flood the log */
		log_warn("hsm: %s: reconnect attempt %u failed: %s", m->path, m->attempts, why);
	}
	return rc;
}

/* ---- the module table ---------------------------------------------------- */

static void
hsm_mod_free(struct hsm_mod *m)
{
	if (m == NULL)
		return;
	hsm_mod_drop(m, 1);
	pthread_rwlock_destroy(&m->rw);
	pthread_mutex_destroy(&m->p11_lock);
	pthread_mutex_destroy(&m->mgmt_lock);
	pthread_rwlock_destroy(&m->obj_lock);
	pthread_mutex_destroy(&m->state_lock);
	free(m->path);
	free(m);
}

static int
hsm_mod_new(const char *path, struct hsm_mod **out, char *why, size_t len)
{
	pthread_rwlockattr_t ra;
	struct hsm_mod *m;
	int rc;

	if ((m = calloc(1, sizeof(*m))) == NULL || (m->path = strdup(path)) == NULL) {
		free(m);
		hsm_fmt(why, len, "out of memory");
		return SB_ENOMEM;
	}
	/* Writers first: a reconnect must not starve behind a stream of signers. */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&m->rw, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&m->p11_lock, NULL);
	pthread_mutex_init(&m->mgmt_lock, NULL);
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&m->obj_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&m->state_lock, NULL);
	if ((rc = hsm_mod_load(m, why, len)) != 0) {
		hsm_mod_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* The path libp11 is given for module: its realpath, or a bare name as is. */
static int
hsm_mod_path(const char *module, char real[PATH_MAX], const char **path, char *why,
    size_t len)
{
	/* One connection per library: two spellings of a path are one module.
	 * A bare file name is left to dlopen's search. */
	*path = module;
	if (realpath(module, real) != NULL)
		*path = real;
	else if (strchr(module, '/') != NULL) {
		hsm_fmt(why, len, "no PKCS#11 module at %s: %s", module, strerror(errno));
		return SB_EHSM;
	}
	return 0;
}

int
hsm_module_pin(const char *module)
{
	char real[PATH_MAX], why[HSM_ERR_MAX];
	const char *path;

	if (module == NULL)
		return hsm_fail(NULL, SB_EINVAL, "no module");
	if (hsm_mod_path(module, real, &path, why, sizeof(why)) != 0)
		return hsm_fail(NULL, SB_EHSM, "%s", why);
	/* Under the same name libp11 will use, so that its dlopen finds this
	 * object by name without opening the file; the handle is never closed.
	 * Only the code is loaded: C_Initialize waits for hsm_open. */
	if (dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) == NULL) {
		const char *e = dlerror();

		return hsm_fail(NULL, SB_EHSM, "cannot load %s: %s", path, e ? e : "dlopen failed");
	}
	return 0;
}

static int
hsm_mod_get(const char *module, struct hsm_mod **out, char *why, size_t len)
{
	char real[PATH_MAX];
	const char *path;
	struct hsm_mod **free_slot = NULL;
	int rc;

	if ((rc = hsm_mod_path(module, real, &path, why, len)) != 0)
		return rc;
	pthread_mutex_lock(&hsm_reg_lock);
	for (size_t i = 0; i < HSM_MAX_MODULES; i++) {
		if (hsm_mods[i] != NULL && strcmp(hsm_mods[i]->path, path) == 0) {
			hsm_mods[i]->refs++;
			*out = hsm_mods[i];
			goto out;
		}
		if (hsm_mods[i] == NULL && free_slot == NULL)
			free_slot = &hsm_mods[i];
	}
	if (free_slot == NULL) {
		hsm_fmt(why, len, "more than %d PKCS#11 modules in one process", HSM_MAX_MODULES);
		rc = SB_ELIMIT;
	} else if ((rc = hsm_mod_new(path, out, why, len)) == 0) {
		(*out)->refs = 1;
		*free_slot = *out;
	}
out:
	pthread_mutex_unlock(&hsm_reg_lock);
	return rc;
}

static void
hsm_mod_put(struct hsm_mod *m)
{
	int last = 0;

	pthread_mutex_lock(&hsm_reg_lock);
	if (--m->refs == 0) {
		last = 1;
		for (size_t i = 0; i < HSM_MAX_MODULES; i++)
			if (hsm_mods[i] == m)
				hsm_mods[i] = NULL;
	}
	pthread_mutex_unlock(&hsm_reg_lock);
	if (last)
		hsm_mod_free(m);
}

/* ---- entering an operation ----------------------------------------------- */

static int
hsm_login_state(struct hsm *h)
{
	if (h->tok->pin != NULL)
		return 0;
	if (h->tok->pin_refused)
		return hsm_fail(h, SB_EHSM_PIN, "token '%s' refused the PIN held for it "
		    "when reconnecting; it must be logged in again", h->tok->label);
	return hsm_fail(h, SB_EHSM_NOLOGIN, "not logged in to token '%s'", h->tok->label);
}

/* Under the write lock: revive if needed; the handle's token must be there. */
static int
hsm_ready_locked(struct hsm *h)
{
	char why[HSM_ERR_MAX];

	if (hsm_mod_revive(h->mod, why, sizeof(why)) != 0)
		return hsm_fail(h, SB_EHSM, "HSM unavailable: %s", why);
	if (h->tok->slot == NULL)
		return hsm_fail(h, SB_EHSM, "HSM unavailable: token '%s' not found", h->tok->label);
	return 0;
}

/*
 * Take the read lock for an operation, reconnecting first when the module
 * has failed. On success the caller holds the read lock (hsm_leave).
 */
int
hsm_enter(struct hsm *h, int need_login)
{
	struct hsm_mod *m = h->mod;
	int rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		hsm_rd_lock(m);
		if (!hsm_is_failed(m) && h->tok->slot != NULL) {
			if (need_login && (rc = hsm_login_state(h)) != 0) {
				hsm_rd_unlock(m);
				return rc;
			}
			return 0;
		}
		hsm_rd_unlock(m);
		if (hsm_held(m) > 0) {
			pthread_mutex_lock(&m->state_lock);
			rc = hsm_fail(h, SB_EHSM, "HSM unavailable: %s (no reconnect while this "
			    "thread holds a borrowed key)", m->why);
			pthread_mutex_unlock(&m->state_lock);
			return rc;
		}
		pthread_rwlock_wrlock(&m->rw);
		rc = hsm_ready_locked(h);
		pthread_rwlock_unlock(&m->rw);
		if (rc != 0)
			return rc;
	}
	return hsm_fail(h, SB_EHSM, "HSM unavailable: it failed again while reconnecting");
}

void
hsm_leave(struct hsm *h)
{
	hsm_rd_unlock(h->mod);
}

/* As hsm_enter, with the write lock (hsm_leave_excl). */
int
hsm_enter_excl(struct hsm *h, int need_login)
{
	int rc;

	if ((rc = hsm_wr_lock(h, h->mod)) != 0)
		return rc;
	if ((rc = hsm_ready_locked(h)) == 0 && need_login)
		rc = hsm_login_state(h);
	if (rc != 0)
		pthread_rwlock_unlock(&h->mod->rw);
	return rc;
}

void
hsm_leave_excl(struct hsm *h)
{
	pthread_rwlock_unlock(&h->mod->rw);
}

/* ---- sessions and objects ------------------------------------------------ */

int
hsm_session(struct hsm *h, CK_SESSION_HANDLE *s)
{
	CK_RV rv = h->mod->fl->C_OpenSession(h->tok->slotid,
	    CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, s);

	return rv == CKR_OK ? 0 : hsm_ckr(h, "C_OpenSession", rv);
}

void
hsm_session_close(struct hsm *h, CK_SESSION_HANDLE s)
{
	(void)h->mod->fl->C_CloseSession(s);
}

/* Up to max objects of class cls (and CKA_ID id, when id is not NULL). */
int
hsm_find(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
    const uint8_t *id, size_t id_len, CK_OBJECT_HANDLE *objs, size_t max, size_t *n)
{
	CK_FUNCTION_LIST_PTR fl = h->mod->fl;
	CK_ATTRIBUTE t[2] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_ULONG got = 0;
	CK_RV rv;

	*n = 0;
	pthread_rwlock_rdlock(&h->mod->obj_lock);
	if ((rv = fl->C_FindObjectsInit(s, t, id != NULL ? 2 : 1)) != CKR_OK) {
		pthread_rwlock_unlock(&h->mod->obj_lock);
		return hsm_ckr(h, "C_FindObjectsInit", rv);
	}
	rv = fl->C_FindObjects(s, objs, max, &got);
	(void)fl->C_FindObjectsFinal(s);
	pthread_rwlock_unlock(&h->mod->obj_lock);
	if (rv != CKR_OK)
		return hsm_ckr(h, "C_FindObjects", rv);
	*n = got;
	return 0;
}

/* One attribute into buf; SB_ENOTFOUND when the object has none (or it is
 * sensitive), SB_ELIMIT when it is longer than cap. */
int
hsm_attr(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE type, void *buf, size_t cap, size_t *len)
{
	CK_ATTRIBUTE a = { type, buf, cap };
	CK_RV rv;

	pthread_rwlock_rdlock(&h->mod->obj_lock);
	rv = h->mod->fl->C_GetAttributeValue(s, o, &a, 1);
	pthread_rwlock_unlock(&h->mod->obj_lock);

	*len = 0;
	if (rv == CKR_BUFFER_TOO_SMALL)
		return hsm_fail(h, SB_ELIMIT, "attribute 0x%lx longer than %zu bytes",
		    (unsigned long)type, cap);
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE ||
	    (rv == CKR_OK && a.ulValueLen == CK_UNAVAILABLE_INFORMATION))
		return hsm_fail(h, SB_ENOTFOUND, "object has no attribute 0x%lx",
		    (unsigned long)type);
	if (rv != CKR_OK)
		return hsm_ckr(h, "C_GetAttributeValue", rv);
	*len = a.ulValueLen;
	return 0;
}

/* ---- token set-up -------------------------------------------------------- */

static int
hsm_pin_ok(const char *pin)
{
	return pin != NULL && pin[0] != '\0' && strlen(pin) <= HSM_PIN_MAX;
}

static int
hsm_token_label_ok(const char *label)
{
	size_t n = label != NULL ? strlen(label) : 0;

	return n > 0 && n <= HSM_TOKEN_LABEL_MAX && label[n - 1] != ' ';
}

/*
 * Scan the slots: SB_EEXIST when an initialised token has this label,
 * else *found the first slot with an uninitialised token (*have 0 if none).
 */
static int
hsm_scan(CK_FUNCTION_LIST_PTR fl, const char *label, CK_SLOT_ID *found, int *have,
    int want_initialised)
{
	CK_SLOT_ID ids[HSM_MAX_SLOTS];
	CK_ULONG n = HSM_MAX_SLOTS;
	CK_TOKEN_INFO ti;
	CK_RV rv;

	*have = 0;
	if ((rv = fl->C_GetSlotList(CK_TRUE, ids, &n)) != CKR_OK)
		return rv == CKR_BUFFER_TOO_SMALL ? hsm_fail(NULL, SB_ELIMIT,
		    "more than %d slots", HSM_MAX_SLOTS) : hsm_ckr(NULL, "C_GetSlotList", rv);
	for (CK_ULONG i = 0; i < n; i++) {
		if (fl->C_GetTokenInfo(ids[i], &ti) != CKR_OK)
			continue;
		if ((ti.flags & CKF_TOKEN_INITIALIZED) && hsm_label_eq(ti.label, label)) {
			if (!want_initialised)
				return hsm_fail(NULL, SB_EEXIST, "a token labelled '%s' exists", label);
			*found = ids[i];
			*have = 1;
			return 0;
		}
		if (!want_initialised && !(ti.flags & CKF_TOKEN_INITIALIZED) && !*have) {
			*found = ids[i];
			*have = 1;
		}
	}
	return 0;
}

/* SO login on the new token, C_InitPIN, logout. */
static int
hsm_init_user_pin(CK_FUNCTION_LIST_PTR fl, CK_SLOT_ID slot, const char *so_pin,
    const char *user_pin)
{
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int rc = 0;

	rv = fl->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		return hsm_ckr(NULL, "C_OpenSession", rv);
	if ((rv = fl->C_Login(s, CKU_SO, (CK_UTF8CHAR *)so_pin, strlen(so_pin))) != CKR_OK)
		rc = hsm_ckr(NULL, "C_Login(SO)", rv);
	else {
		rv = fl->C_InitPIN(s, (CK_UTF8CHAR *)user_pin, strlen(user_pin));
		if (rv != CKR_OK)
			rc = hsm_ckr(NULL, "C_InitPIN", rv);
		(void)fl->C_Logout(s);
	}
	(void)fl->C_CloseSession(s);
	return rc;
}

static int
hsm_token_init_locked(struct hsm_mod *m, const char *label, const char *so_pin,
    const char *user_pin)
{
	CK_UTF8CHAR padded[HSM_TOKEN_LABEL_MAX];
	CK_SLOT_ID slot;
	int have, rc;
	CK_RV rv;

	if ((rc = hsm_scan(m->fl, label, &slot, &have, 0)) != 0)
		return rc;
	if (!have)
		return hsm_fail(NULL, SB_ENOTFOUND, "the module has no free slot");
	/* C_InitToken reads exactly 32 blank-padded bytes. */
	memset(padded, ' ', sizeof(padded));
	memcpy(padded, label, strlen(label));
	rv = m->fl->C_InitToken(slot, (CK_UTF8CHAR *)so_pin, strlen(so_pin), padded);
	if (rv != CKR_OK)
		return hsm_ckr(NULL, "C_InitToken", rv);
	/* SoftHSM gives the new token a new slot id: look it up by label. */
	if ((rc = hsm_scan(m->fl, label, &slot, &have, 1)) != 0)
		return rc;
	if (!have)
		return hsm_fail(NULL, SB_EHSM, "token '%s' not found after initialising it", label);
	if ((rc = hsm_init_user_pin(m->fl, slot, so_pin, user_pin)) != 0)
		return rc;
	log_info("hsm: initialised token '%s'", label);
	return 0;
}

int
hsm_token_init(const char *module, const char *label, const char *so_pin,
    const char *user_pin)
{
	char why[HSM_ERR_MAX];
	struct hsm_mod *m;
	int rc;

	if (module == NULL || !hsm_token_label_ok(label) || !hsm_pin_ok(so_pin) ||
	    !hsm_pin_ok(user_pin))
		return hsm_fail(NULL, SB_EINVAL, "bad module, token label (1..%d characters) "
		    "or PIN", HSM_TOKEN_LABEL_MAX);
	if ((rc = hsm_mod_get(module, &m, why, sizeof(why))) != 0)
		return hsm_fail(NULL, rc, "%s", why);
	if (hsm_held(m) > 0)
		rc = hsm_fail(NULL, SB_ESTATE, "this thread still holds a borrowed key");
	else {
		pthread_rwlock_wrlock(&m->rw);
		if ((rc = hsm_mod_revive(m, why, sizeof(why))) != 0)
			rc = hsm_fail(NULL, SB_EHSM, "HSM unavailable: %s", why);
		else
			rc = hsm_token_init_locked(m, label, so_pin, user_pin);
		pthread_rwlock_unlock(&m->rw);
	}
	hsm_mod_put(m);
	return rc;
}

/* ---- handles ------------------------------------------------------------- */

static void
hsm_tok_free(struct hsm_mod *m, struct hsm_tok *t)
{
	hsm_cache_flush(t, NULL, 0);
	if (t->anchor != CK_INVALID_HANDLE && m->fl != NULL) {
		if (t->pin != NULL)
			(void)m->fl->C_Logout(t->anchor);
		(void)m->fl->C_CloseSession(t->anchor);
	}
	secret_free(&t->pin);
	pthread_mutex_destroy(&t->cache_lock);
	free(t);
}

/* Under the write lock: the token record for label, new or shared. */
static int
hsm_tok_get(struct hsm_mod *m, const char *label, struct hsm_tok **out, char *why,
    size_t len)
{
	struct hsm_tok *t;
	int rc;

	for (t = m->toks; t != NULL; t = t->next) {
		if (strcmp(t->label, label) == 0) {
			t->refs++;
			*out = t;
			return 0;
		}
	}
	if ((rc = hsm_mod_revive(m, why, len)) != 0)
		return SB_EHSM;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return SB_ENOMEM;
	hsm_fmt(t->label, sizeof(t->label), "%s", label);
	t->anchor = CK_INVALID_HANDLE;
	pthread_mutex_init(&t->cache_lock, NULL);
	rc = hsm_tok_attach(m, t, why, len);
	if (rc == SB_EHSM_NOTOKEN) {
		/* Made after the module was loaded (hsm_token_init): libp11's
		 * slot list predates it. Enumerate again, re-attaching the rest. */
		if ((rc = hsm_mod_reload(m, 0, why, len)) != 0)
			hsm_fault(m, why);
		else
			rc = hsm_tok_attach(m, t, why, len);
	}
	if (rc != 0) {
		hsm_tok_free(m, t);
		return rc;
	}
	t->refs = 1;
	t->next = m->toks;
	m->toks = t;
	*out = t;
	return 0;
}

int
hsm_open(const char *module, const char *label, struct hsm **out)
{
	char why[HSM_ERR_MAX];
	struct hsm *h;
	int rc;

	if (out == NULL)
		return SB_EINVAL;
	*out = NULL;
	if (module == NULL || !hsm_token_label_ok(label))
		return hsm_fail(NULL, SB_EINVAL, "bad module or token label");
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return hsm_fail(NULL, SB_ENOMEM, "out of memory");
	if ((rc = hsm_mod_get(module, &h->mod, why, sizeof(why))) != 0) {
		free(h);
		return hsm_fail(NULL, rc, "%s", why);
	}
	if ((rc = hsm_wr_lock(NULL, h->mod)) == 0) {
		rc = hsm_tok_get(h->mod, label, &h->tok, why, sizeof(why));
		pthread_rwlock_unlock(&h->mod->rw);
		if (rc != 0)
			rc = hsm_fail(NULL, rc, "%s", why);
	}
	if (rc != 0) {
		hsm_mod_put(h->mod);
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void
hsm_close(struct hsm *h)
{
	struct hsm_mod *m;

	if (h == NULL)
		return;
	m = h->mod;
	if (hsm_held(m) > 0) {
		/* A programming error; dropping the holds beats deadlocking. */
		log_err("hsm: hsm_close with borrowed keys still held");
		while (hsm_held(m) > 0)
			hsm_rd_unlock(m);
	}
	pthread_rwlock_wrlock(&m->rw);
	if (--h->tok->refs == 0) {
		for (struct hsm_tok **pp = &m->toks; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == h->tok) {
				*pp = h->tok->next;
				break;
			}
		}
		hsm_tok_free(m, h->tok);
	}
	pthread_rwlock_unlock(&m->rw);
	if (hsm_tl_err.h == h)
		hsm_tl_err.h = NULL;
	hsm_mod_put(m);
	free(h);
}

/* ---- login and PINs ------------------------------------------------------ */

static int
hsm_pin_eq(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

int
hsm_login(struct hsm *h, const char *pin)
{
	CK_FUNCTION_LIST_PTR fl;
	struct hsm_tok *t;
	CK_RV rv;
	int rc;

	if (h == NULL || !hsm_pin_ok(pin))
		return hsm_fail(h, SB_EINVAL, "no PIN, or a PIN longer than %d", HSM_PIN_MAX);
	if ((rc = hsm_enter_excl(h, 0)) != 0)
		return rc;
	t = h->tok;
	fl = h->mod->fl;
	if (t->pin != NULL) {
		/* Logged in already (by another handle): the PIN must be the same. */
		rc = hsm_pin_eq(t->pin, pin) ? 0 : hsm_fail(h, SB_EHSM_PIN,
		    "token '%s' is logged in with another PIN", t->label);
		goto out;
	}
	rv = fl->C_Login(t->anchor, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
	if (rv == CKR_USER_ALREADY_LOGGED_IN) {
		/* Not by us: make the token check this PIN. */
		(void)fl->C_Logout(t->anchor);
		rv = fl->C_Login(t->anchor, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
	}
	if (rv != CKR_OK) {
		rc = hsm_ckr(h, "C_Login", rv);
		goto out;
	}
	if ((t->pin = secret_strdup(pin)) == NULL) {
		(void)fl->C_Logout(t->anchor);
		rc = hsm_fail(h, SB_ENOMEM, "out of memory");
		goto out;
	}
	t->pin_refused = 0;
out:
	hsm_leave_excl(h);
	return rc;
}

int
hsm_pin_replace(struct hsm *h, const char *pin)
{
	char *held;
	int rc, none;

	if (h == NULL || !hsm_pin_ok(pin))
		return hsm_fail(h, SB_EINVAL, "no PIN, or a PIN longer than %d", HSM_PIN_MAX);
	if ((rc = hsm_enter_excl(h, 0)) != 0)
		return rc;
	if (!(none = h->tok->pin == NULL)) {
		if ((held = secret_strdup(pin)) == NULL)
			rc = hsm_fail(h, SB_ENOMEM, "out of memory");
		else {
			secret_free(&h->tok->pin);
			h->tok->pin = held;
		}
	}
	hsm_leave_excl(h);
	return none ? hsm_login(h, pin) : rc;
}

static int
hsm_set_so_pin(struct hsm *h, CK_SESSION_HANDLE s, const char *old, const char *new)
{
	CK_FUNCTION_LIST_PTR fl = h->mod->fl;
	CK_RV rv;

	if ((rv = fl->C_Login(s, CKU_SO, (CK_UTF8CHAR *)old, strlen(old))) != CKR_OK)
		return hsm_ckr(h, "C_Login(SO)", rv);
	rv = fl->C_SetPIN(s, (CK_UTF8CHAR *)old, strlen(old), (CK_UTF8CHAR *)new, strlen(new));
	(void)fl->C_Logout(s);
	return rv == CKR_OK ? 0 : hsm_ckr(h, "C_SetPIN(SO)", rv);
}

/* Both PINs, SO first; the SO PIN is put back if the user PIN is refused. */
static int
hsm_change_both(struct hsm *h, CK_SESSION_HANDLE s, const char *so_old,
    const char *so_new, const char *user_old, const char *user_new)
{
	char keep[HSM_ERR_MAX];
	CK_RV rv;
	int rc;

	if ((rc = hsm_set_so_pin(h, s, so_old, so_new)) != 0)
		return rc;
	/* In a public read-write session C_SetPIN changes the user's PIN. */
	rv = h->mod->fl->C_SetPIN(s, (CK_UTF8CHAR *)user_old, strlen(user_old),
	    (CK_UTF8CHAR *)user_new, strlen(user_new));
	if (rv == CKR_OK)
		return 0;
	rc = hsm_ckr(h, "C_SetPIN(user)", rv);
	hsm_fmt(keep, sizeof(keep), "%s", hsm_tl_err.msg);
	if (hsm_set_so_pin(h, s, so_new, so_old) != 0)
		log_err("hsm: token '%s': the user PIN change failed and the SO PIN "
		    "could not be put back: %s", h->tok->label, hsm_tl_err.msg);
	hsm_fail(h, rc, "%s (the SO PIN was put back)", keep);
	return rc;
}

int
hsm_change_pins(struct hsm *h, const char *so_old, const char *so_new,
    const char *user_old, const char *user_new)
{
	char why[HSM_ERR_MAX], *held;
	struct hsm_tok *t;
	int rc, was_in;

	if (h == NULL || !hsm_pin_ok(so_old) || !hsm_pin_ok(so_new) ||
	    !hsm_pin_ok(user_old) || !hsm_pin_ok(user_new))
		return hsm_fail(h, SB_EINVAL, "a PIN is empty or longer than %d", HSM_PIN_MAX);
	if ((rc = hsm_enter_excl(h, 0)) != 0)
		return rc;
	t = h->tok;
	/* The SO cannot log in while the user is: log out (every handle on this
	 * token waits on the write lock meanwhile) and in again afterwards. */
	was_in = t->pin != NULL;
	if (was_in)
		(void)h->mod->fl->C_Logout(t->anchor);
	rc = hsm_change_both(h, t->anchor, so_old, so_new, user_old, user_new);
	if (was_in && rc == 0) {
		if ((held = secret_strdup(user_new)) == NULL)
			rc = hsm_fail(h, SB_ENOMEM, "PINs changed, but out of memory to hold "
			    "the new one: log in again");
		secret_free(&t->pin);
		t->pin = held;
	}
	if (was_in) {
		/* The logout invalidated private key handles in libp11's lists and
		 * our cache: enumerate afresh, which also logs in again. */
		if (hsm_mod_reload(h->mod, 0, why, sizeof(why)) != 0)
			hsm_fault(h->mod, why);
	}
	if (rc == 0)
		log_info("hsm: token '%s': SO and user PINs changed", t->label);
	hsm_leave_excl(h);
	return rc;
}

/* ---- probing, random ----------------------------------------------------- */

int
hsm_token_serial(struct hsm *h, char serial[HSM_SERIAL_MAX + 1])
{
	CK_TOKEN_INFO ti;
	size_t n = sizeof(ti.serialNumber);
	CK_RV rv;
	int rc;

	serial[0] = '\0';
	if (h == NULL)
		return SB_EINVAL;
	if ((rc = hsm_enter(h, 0)) != 0)
		return rc;
	rv = h->mod->fl->C_GetTokenInfo(h->tok->slotid, &ti);
	if (rv != CKR_OK)
		rc = hsm_ckr(h, "C_GetTokenInfo", rv);
	hsm_leave(h);
	if (rc != 0)
		return rc;
	while (n > 0 && ti.serialNumber[n - 1] == ' ')
		n--;
	memcpy(serial, ti.serialNumber, n);
	serial[n] = '\0';
	return 0;
}

int
hsm_quiesce(struct hsm *h, int (*fn)(void *), void *arg)
{
	int rc;

	if (h == NULL || fn == NULL)
		return SB_EINVAL;
	if ((rc = hsm_enter_excl(h, 0)) != 0)
		return rc;
	rc = fn(arg);
	hsm_leave_excl(h);
	return rc;
}

int
hsm_check(struct hsm *h)
{
	char why[HSM_ERR_MAX];
	CK_SESSION_INFO si;
	CK_RV rv;
	int rc;

	if (h == NULL)
		return SB_EINVAL;
	if ((rc = hsm_enter(h, 0)) != 0)
		return rc;
	if (hsm_probe(h, why, sizeof(why)) != 0) {
		hsm_fault(h->mod, why);
		rc = hsm_fail(h, SB_EHSM, "HSM failing: %s", why);
	} else if ((rc = hsm_login_state(h)) == 0) {
		rv = h->mod->fl->C_GetSessionInfo(h->tok->anchor, &si);
		if (rv != CKR_OK)
			rc = hsm_ckr(h, "C_GetSessionInfo", rv);
		else if (si.state != CKS_RW_USER_FUNCTIONS && si.state != CKS_RO_USER_FUNCTIONS) {
			hsm_fmt(why, sizeof(why), "token '%s' is no longer logged in", h->tok->label);
			hsm_fault(h->mod, why);
			rc = hsm_fail(h, SB_EHSM, "HSM failing: %s", why);
		}
	}
	hsm_leave(h);
	return rc;
}

int
hsm_random(struct hsm *h, uint8_t *buf, size_t n)
{
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int rc;

	if (h == NULL || (buf == NULL && n > 0))
		return hsm_fail(h, SB_EINVAL, "no buffer");
	if (n > HSM_RANDOM_MAX)
		return hsm_fail(h, SB_ELIMIT, "more than %d random bytes asked", HSM_RANDOM_MAX);
	if (n == 0)
		return 0;
	if ((rc = hsm_enter(h, 0)) != 0)
		return rc;
	if ((rc = hsm_session(h, &s)) == 0) {
		if ((rv = h->mod->fl->C_GenerateRandom(s, buf, n)) != CKR_OK)
			rc = hsm_ckr(h, "C_GenerateRandom", rv);
		hsm_session_close(h, s);
	}
	hsm_leave(h);
	return rc;
}
