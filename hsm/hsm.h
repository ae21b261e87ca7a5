/*
 * hsm — the PKCS#11 layer: the only code that talks to the HSM.
 *
 * libp11 loads the module, lists slots and makes the EVP_PKEY that OpenSSL
 * signs with (hsm_sign, hsm_key_borrow). Everything else (login, lookups,
 * key generation, certificates, PINs) goes through the module's own function
 * list on our own sessions, because Debian's libp11 0.4.12 cannot generate
 * EC keys, keeps stale entries of destroyed objects and copies PINs into
 * ordinary memory. Every private key made here has CKA_TOKEN, CKA_PRIVATE,
 * CKA_SENSITIVE true, CKA_EXTRACTABLE false, may sign and nothing else, a
 * label and a random 16-byte CKA_ID (libp11 pairs private and public keys by
 * CKA_ID). Nothing in this module can export a private key: no call reads a
 * private key's secret attributes or wraps a key.
 *
 * Faults: when the module or token fails (CKR_DEVICE_ERROR,
 * CKR_SESSION_HANDLE_INVALID, CKR_CRYPTOKI_NOT_INITIALIZED, CKR_GENERAL_ERROR,
 * a token that is gone, a login that was lost, ...) the call returns SB_EHSM
 * and the connection remembers the fault. A later call on any handle
 * reconnects (unload and reload the module, find the token by label again,
 * log in again with the PIN held in locked memory) and goes on; no restart
 * is needed. Attempts are at most one per 500 ms; in between, calls fail at
 * once with SB_EHSM and the last reason. hsm_error() says what failed.
 *
 * Threads: see hsm.c's opening comment for the model; every function here may
 * be called from several threads at once on one handle.
 *
 * Sharing: all handles on one module in a process share one connection (a
 * PKCS#11 module is initialised once per process, and its login state is per
 * token, not per session), and all handles on one token label share its
 * login, held PIN and key cache: hsm_login on one logs in all of them, and
 * the token is logged out when the last of them is closed. hsm_token_init
 * may run while handles are open.
 *
 * Key and certificate calls need the token logged in (SB_EHSM_NOLOGIN
 * otherwise; SB_EHSM_PIN when a reconnect found the held PIN refused, until
 * hsm_login succeeds again). Every call that talks to the token can return
 * SB_EHSM (failing or reconnecting; hsm_error says which and why) and
 * SB_ENOMEM. A thread that holds a borrowed key gets SB_ESTATE from the
 * calls that need exclusive access (hsm_open, hsm_login, hsm_change_pins,
 * hsm_key_destroy, hsm_token_init) instead of deadlocking. Handles do not
 * survive fork(): open them in the process that uses them.
 */
#ifndef SB_HSM_H
#define SB_HSM_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define HSM_ID_LEN 16		/* CKA_ID of keys generated here */
#define HSM_ID_MAX 64		/* longest CKA_ID accepted from a token */
#define HSM_LABEL_MAX 64	/* longest key label */
#define HSM_MAX_KEYS 4096	/* hsm_key_list refuses tokens holding more */
#define HSM_RANDOM_MAX 65536	/* most bytes one hsm_random call gives */

struct hsm;

enum hsm_key_type {
	HSM_KEY_UNKNOWN = 0,
	HSM_KEY_EC_P256,
	HSM_KEY_EC_P384,
	HSM_KEY_RSA_2048,
	HSM_KEY_RSA_3072,
};

struct hsm_key_info {
	uint8_t id[HSM_ID_MAX];
	size_t id_len;
	char label[HSM_LABEL_MAX + 1];
	enum hsm_key_type type;	/* HSM_KEY_UNKNOWN for other kinds and sizes */
	int has_cert;		/* a certificate object with the same CKA_ID exists */
};

/* "ec-p256", "ec-p384", "rsa-2048", "rsa-3072"; "unknown" otherwise. */
const char *hsm_key_type_name(enum hsm_key_type t);
/* Inverse of hsm_key_type_name; SB_EINVAL for any other name. */
int hsm_key_type_parse(const char *name, enum hsm_key_type *out);

/*
 * Initialise a new token labelled `label` (1..32 bytes, no trailing blank) in
 * the module's first free (uninitialised) slot, with the given SO PIN, then
 * set its user PIN. SB_EEXIST if a token with that label already exists;
 * SB_ENOTFOUND if the module has no free slot; SB_EHSM on module failure;
 * SB_EINVAL for a bad label or an empty PIN. hsm_error(NULL) gives detail.
 */
int hsm_token_init(const char *module, const char *label,
    const char *so_pin, const char *user_pin);

/*
 * Map the module's code (and the libraries it needs) for the rest of the
 * process's life, without initialising it. Later hsm_open calls and every
 * reconnect (which unloads and loads the module again) then find it loaded
 * and never map code: a process that forbids executable mappings (the
 * monitor's seccomp filter) calls this before confining itself. May be
 * called more than once. SB_EHSM when the module cannot be loaded, SB_EINVAL
 * for NULL; hsm_error(NULL) gives detail.
 */
int hsm_module_pin(const char *module);

/*
 * Load the module (or share this process's connection to it) and find the
 * token by label (not slot id). SB_EHSM_NOTOKEN when no token has that label,
 * SB_EHSM when the module cannot be loaded; hsm_error(NULL) gives detail.
 */
int hsm_open(const char *module, const char *label, struct hsm **out);
/* Logs out, unloads, wipes the held PIN. Accepts NULL. */
void hsm_close(struct hsm *h);

/*
 * Log in as the user. On success the PIN is kept (copied into secret memory)
 * for reconnecting; the caller wipes its own copy. SB_EHSM_PIN if refused,
 * or if the token is logged in already (through another handle) with a
 * different PIN; 0 if with the same one.
 */
int hsm_login(struct hsm *h, const char *pin);

/*
 * Another process changed the token's user PIN (a re-share at the console):
 * the PIN held for reconnecting becomes pin. The session stays logged in
 * as it is. When the held PIN was already refused at a reconnect (none is
 * held), this logs in with pin instead (hsm_login). 0, or why.
 */
int hsm_pin_replace(struct hsm *h, const char *pin);

/*
 * Change both PINs (re-share). Needs no prior login. The SO PIN is changed
 * first; if the user PIN change then fails the SO PIN is put back. On success
 * a logged-in handle holds user_new for reconnecting. A logged-in token is
 * logged out for the change (other threads wait) and in again after it.
 * SB_EHSM_PIN when an old PIN is refused (nothing changed).
 */
int hsm_change_pins(struct hsm *h, const char *so_old, const char *so_new,
    const char *user_old, const char *user_new);

/*
 * Generate a key pair; id receives its new random CKA_ID (HSM_ID_LEN bytes).
 * label: 1..HSM_LABEL_MAX bytes without control characters (SB_EINVAL).
 */
int hsm_keygen(struct hsm *h, enum hsm_key_type type, const char *label,
    uint8_t id[HSM_ID_LEN]);

/* All private keys on the token. *keys is malloc'd (free()); *n may be 0.
 * SB_ELIMIT when the token holds more than HSM_MAX_KEYS; keys whose CKA_ID is
 * longer than HSM_ID_MAX are left out. */
int hsm_key_list(struct hsm *h, struct hsm_key_info **keys, size_t *n);
/* SB_ENOTFOUND when no private key has this id. */
int hsm_key_find(struct hsm *h, const uint8_t *id, size_t id_len,
    struct hsm_key_info *info);
/* The public key (the caller frees it with EVP_PKEY_free). */
int hsm_key_public(struct hsm *h, const uint8_t *id, size_t id_len, EVP_PKEY **pub);

/*
 * Sign a digest made with md_nid (NID_sha256, NID_sha384, NID_sha512) whose
 * length must match it (SB_EINVAL otherwise). ECDSA gives a DER
 * ECDSA-Sig-Value; RSA gives PKCS#1 v1.5 over the DigestInfo. *siglen holds
 * the room in sig on entry and the signature's length on return; SB_ELIMIT
 * when the room is less than the key's largest signature (72 bytes for
 * P-256, 104 for P-384, the modulus size for RSA). SB_ENOTFOUND when no
 * private key has this id.
 */
int hsm_sign(struct hsm *h, const uint8_t *id, size_t id_len, int md_nid,
    const uint8_t *dgst, size_t dlen, uint8_t *sig, size_t *siglen);

/*
 * Borrow the private key as an EVP_PKEY for OpenSSL's own signing code (CMS,
 * RFC 3161). The key stays valid until hsm_key_release(); a reconnect waits
 * until every borrowed key is released. Do not free the EVP_PKEY. Each
 * successful borrow needs one hsm_key_release, from the same thread; keep
 * the borrow short (it holds the handle's read lock).
 */
int hsm_key_borrow(struct hsm *h, const uint8_t *id, size_t id_len, EVP_PKEY **priv);
void hsm_key_release(struct hsm *h);

/* Destroy the private key, its public key and certificate with this id. */
int hsm_key_destroy(struct hsm *h, const uint8_t *id, size_t id_len);

/*
 * Store a certificate object with this CKA_ID (replacing an existing one,
 * which is destroyed only after the new one exists). SB_ENOTFOUND when no
 * private key has this id; SB_EINVAL when the certificate's public key is
 * not that key's, or the label is bad (as for hsm_keygen).
 */
int hsm_cert_store(struct hsm *h, const uint8_t *id, size_t id_len,
    const char *label, X509 *cert);
/* The certificate with this id (the caller frees it); SB_ENOTFOUND if none. */
int hsm_cert_get(struct hsm *h, const uint8_t *id, size_t id_len, X509 **cert);

/* n random bytes from the token's generator (no login needed);
 * SB_ELIMIT when n > HSM_RANDOM_MAX. */
int hsm_random(struct hsm *h, uint8_t *buf, size_t n);

/*
 * Probe the token (and reconnect if it had failed). 0 when usable, SB_EHSM
 * while the module or token is failing, SB_EHSM_NOLOGIN when never logged in.
 */
int hsm_check(struct hsm *h);

#define HSM_SERIAL_MAX 16

/*
 * The token's serial number (CK_TOKEN_INFO serialNumber, trailing spaces
 * dropped) into serial. SB_EHSM when the token does not answer.
 */
int hsm_token_serial(struct hsm *h, char serial[HSM_SERIAL_MAX + 1]);

/*
 * Runs fn(arg) while every other use of the module in this process waits
 * (its write lock): no key is made, used or destroyed meanwhile, so that
 * the token's files can be copied whole. fn must not call into this
 * module. fn's return, or SB_EHSM when the module is failing.
 */
int hsm_quiesce(struct hsm *h, int (*fn)(void *), void *arg);

/* Text of the last failure seen on this handle by this thread; "" if none.
 * hsm_error(NULL): the last failure of hsm_open or hsm_token_init. Never
 * contains a PIN. */
const char *hsm_error(struct hsm *h);

#endif
