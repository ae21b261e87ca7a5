/*
 * tsa — the appliance's RFC 3161 time-stamping authority, its key in the HSM.
 *
 * Two callers: POST /v1/tsa (tsa_respond: a DER TimeStampReq from anyone in,
 * a DER TimeStampResp out) and the CMS code (tsa_stamp: a token over a
 * signature value, for CAdES-B-T). The profile is in docs/formats.md.
 *
 * Time trust: a timestamp says "this existed at that time", so it must never
 * be issued from a clock nobody vouches for. With require_sync on (the
 * production setting) every token is refused while the kernel reports the
 * clock unsynchronised (adjtimex: TIME_ERROR or STA_UNSYNC, i.e. NTP has not
 * disciplined it). The check is made for each token, at the moment its time
 * is taken.
 *
 * This module never writes to the token and never sees key material:
 * tsa_respond borrows the TSA key (hsm_key_borrow) for the length of one
 * signature by OpenSSL's TS code; tsa_stamp writes its token with sd.h and
 * has the HSM sign it (hsm_sign).
 *
 * Threads: tsa_respond, tsa_stamp and tsa_time_ok may be called from any
 * number of threads at once on one struct tsa (each call has its own
 * TS_RESP_CTX; the struct is read-only after tsa_new but for the two
 * settings below, which are atomic). The struct hsm must outlive the tsa.
 */
#ifndef SB_FORMATS_TSA_H
#define SB_FORMATS_TSA_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "../../hsm/hsm.h"

#define TSA_QUERY_MAX 4096	/* longest TimeStampReq accepted (DER bytes) */
#define TSA_CHAIN_MAX 8		/* most extra certificates in a reply */

struct tsa;

/* 1 when the clock may be trusted, 0 when not. */
typedef int (*tsa_clock_fn)(void);

/*
 * The kernel's view (adjtimex, read only): 0 when adjtimex fails, returns
 * TIME_ERROR, or has STA_UNSYNC set; 1 otherwise. Needs the adjtimex (or
 * clock_adjtime) system call, which a seccomp filter must allow.
 */
int tsa_clock_synced(void);

/*
 * A TSA signing with the HSM key key_id, whose certificate is cert (up-ref'd;
 * it must carry the critical timeStamping EKU and be key_id's: SB_EINVAL
 * otherwise). chain: NULL or up to TSA_CHAIN_MAX certificates sent with the
 * TSA certificate when a query asks for certificates (copied; SB_ELIMIT when
 * longer). policy_oid: the TSA policy in dotted form ("1.3.6.1.4.1..."; a
 * query naming another policy is rejected). Tokens are signed with SHA-256
 * (SHA-384 for a P-384 key). require_sync starts ON; the clock function
 * starts as tsa_clock_synced.
 * Errors: SB_EINVAL, SB_ELIMIT, SB_ENOMEM, and hsm_key_public's (SB_ENOTFOUND,
 * SB_EHSM, SB_EHSM_NOLOGIN).
 */
int tsa_new(struct hsm *h, const uint8_t *key_id, size_t id_len, X509 *cert,
    STACK_OF(X509) *chain, const char *policy_oid, struct tsa **out);
/* Accepts NULL. */
void tsa_free(struct tsa *t);

/* Refuse every token while the clock is not synchronised (on by default). */
void tsa_set_require_sync(struct tsa *t, int on);
/* Replace the clock check (tests); NULL restores tsa_clock_synced. */
void tsa_set_clock_fn(struct tsa *t, tsa_clock_fn fn);
/* 1 when a token may be issued now (sync not required, or the clock synced). */
int tsa_time_ok(struct tsa *t);

/*
 * Answer one RFC 3161 query. Whatever the query — malformed, too long (over
 * TSA_QUERY_MAX), an unknown digest algorithm (only SHA-256/384/512 are
 * accepted), a digest of the wrong length, another policy, any extension —
 * the answer is a DER TimeStampResp: granted with a token (the nonce echoed,
 * the TSA certificate and chain included when certReq is set), or rejection
 * with PKIFailureInfo badDataFormat, badRequest, badAlg, unacceptedPolicy,
 * unacceptedExtension or (clock not trusted) timeNotAvailable. Those all
 * return 0. *reply_der is malloc'd (free()).
 * Errors, with no reply, when the TSA itself failed: SB_EHSM (the HSM is
 * failing; also SB_EHSM_NOLOGIN, SB_ENOTFOUND from the key lookup),
 * SB_ECRYPTO (signing failed otherwise; logged), SB_ESTATE (the TSA
 * certificate has expired or is not valid yet), SB_ENOMEM, SB_EINVAL (NULL
 * arguments). The daemon answers those with HTTP 503.
 */
int tsa_respond(struct tsa *t, const uint8_t *query_der, size_t len,
    uint8_t **reply_der, size_t *reply_len);

/*
 * A token (DER ContentInfo SignedData holding a TSTInfo, with the TSA
 * certificate and chain included) over imprint, a digest made with md_nid
 * (NID_sha256/384/512; SB_EINVAL when the length does not match). No nonce.
 * *token_der is malloc'd (free()). SB_ESTATE when the clock is not trusted
 * (see tsa_time_ok) or the TSA certificate is not valid now; otherwise as
 * tsa_respond's errors.
 */
int tsa_stamp(struct tsa *t, int md_nid, const uint8_t *imprint, size_t len,
    uint8_t **token_der, size_t *token_len);

#endif
