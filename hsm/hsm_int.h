/*
 * hsm_int — what hsm.c (connection, locks, faults, login, token set-up) and
 * hsm_key.c (keys, signing, certificates) share. Nothing outside hsm/ may
 * include this file: the public contract is hsm.h.
 *
 * The PKCS#11 header is included last on purpose: p11-kit's compatibility
 * mode renames common words (value, count, params, ...) with macros, and
 * OpenSSL's and libp11's headers must not see those; code here avoids
 * those words as names (hence "slotid", "nobj").
 */
#ifndef SB_HSM_INT_H
#define SB_HSM_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <libp11.h>

#include "hsm.h"

#include <p11-kit-1/p11-kit/pkcs11.h>

#define HSM_MAX_MODULES 4	/* distinct module paths in one process */
#define HSM_TOKEN_LABEL_MAX 32	/* CK_TOKEN_INFO.label is 32 blank-padded bytes */
#define HSM_PIN_MAX 255
#define HSM_ERR_MAX 256
#define HSM_RETRY_MS 500	/* at most one reconnect attempt per this */
#define HSM_CERT_MAX 65536	/* longest certificate (DER) stored or read */
#define HSM_ATTR_SMALL 1024	/* fixed buffer for ids, labels, params, points */
#define HSM_MAX_OBJS 16		/* objects sharing one CKA_ID and class */
#define HSM_MAX_SLOTS 256

/* A private key's EVP_PKEY from libp11, cached by CKA_ID. */
struct hsm_kc {
	struct hsm_kc *next;
	uint8_t id[HSM_ID_MAX];
	size_t id_len;
	EVP_PKEY *pkey;
	int stale;		/* the module no longer knows its object handle */
};

/* One token this process uses; shared by every handle open on its label. */
struct hsm_tok {
	struct hsm_tok *next;
	char label[HSM_TOKEN_LABEL_MAX + 1];
	unsigned refs;			/* handles; under the module's write lock */
	PKCS11_SLOT *slot;		/* into mod->slots; NULL while not found */
	CK_SLOT_ID slotid;
	CK_SESSION_HANDLE anchor;	/* keeps the login; CK_INVALID_HANDLE if none */
	char *pin;			/* secret memory; NULL while not logged in */
	int pin_refused;		/* a reconnect's login was refused */
	pthread_mutex_t cache_lock;	/* the list below */
	struct hsm_kc *cache;
	size_t ncache;
};

/* One loaded PKCS#11 module, shared by every handle on it in this process. */
struct hsm_mod {
	char *path;
	unsigned refs;			/* under hsm_reg_lock */
	pthread_rwlock_t rw;		/* read: operations; write: reload, login */
	pthread_mutex_t p11_lock;	/* libp11's key lists; cache misses */
	pthread_mutex_t mgmt_lock;	/* certificate replacement */
	pthread_rwlock_t obj_lock;	/* SoftHSM 2.6.1: object search vs creation */
	pthread_mutex_t state_lock;	/* failed, why, next_try */
	PKCS11_CTX *ctx;
	int loaded;			/* PKCS11_CTX_load succeeded */
	PKCS11_SLOT *slots;
	unsigned nslots;
	void *dl;			/* our own reference to the module */
	CK_FUNCTION_LIST_PTR fl;	/* the module's function list */
	struct hsm_tok *toks;
	int failed;
	char why[HSM_ERR_MAX];
	uint64_t next_try;		/* monotonic ms; no reconnect before */
	unsigned long gen;		/* reloads so far */
	unsigned attempts;		/* failed reconnects in a row; for log volume */
};

struct hsm {
	struct hsm_mod *mod;
	struct hsm_tok *tok;
};

/* Internal result of a signing attempt whose key handle went stale. */
#define HSM_RETRY 1

/* hsm.c: errors */
void hsm_fmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int hsm_fail(const struct hsm *h, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *hsm_ckr_name(CK_RV rv);
int hsm_ckr(struct hsm *h, const char *what, CK_RV rv);
/* The CKR libp11 left on OpenSSL's error queue (0 if none), other text in text; clears the queue. */
CK_RV hsm_p11_rv(char *text, size_t len);
int hsm_p11_err(struct hsm *h, const char *what);
int hsm_probe(struct hsm *h, char *why, size_t len);
void hsm_fault(struct hsm_mod *m, const char *why);

/* hsm.c: locking */
int hsm_enter(struct hsm *h, int need_login);
int hsm_enter_excl(struct hsm *h, int need_login);
void hsm_leave(struct hsm *h);
void hsm_leave_excl(struct hsm *h);
void hsm_rd_unlock(struct hsm_mod *m);
unsigned hsm_held(const struct hsm_mod *m);

/* hsm.c: sessions and objects */
int hsm_session(struct hsm *h, CK_SESSION_HANDLE *s);
void hsm_session_close(struct hsm *h, CK_SESSION_HANDLE s);
int hsm_find(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
    const uint8_t *id, size_t id_len, CK_OBJECT_HANDLE *objs, size_t max,
    size_t *n);
int hsm_attr(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE type, void *buf, size_t cap, size_t *len);

/* hsm_key.c */
void hsm_cache_flush(struct hsm_tok *tok, const uint8_t *id, size_t id_len);

#endif
