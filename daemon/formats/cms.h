/*
 * cms — detached CMS SignedData (RFC 5652), CAdES-B-T, over a digest.
 *
 * The appliance is handed a document's digest, never the document: the CMS
 * is built around that digest (messageDigest) and the HSM signs the signed
 * attributes. Each seal carries exactly these signed attributes:
 * content-type (id-data), message-digest, signing-time,
 * signing-certificate-v2; and one unsigned attribute, signature-time-stamp
 * (id-aa-timeStampToken), an RFC 3161 token from the appliance's TSA over
 * the signature value. The profile is in docs/formats.md; `openssl cms
 * -verify -binary -content doc` checks the result.
 *
 * Verification (for POST /v1/verify) takes the same digest and a trust
 * store, and says valid or not with a stable reason code. Input is
 * untrusted: bounded (CMS_DER_MAX), parsed by OpenSSL only.
 *
 * Threads: both calls may run from several threads at once, also on one
 * struct tsa and one X509_STORE (neither is modified).
 */
#ifndef SB_FORMATS_CMS_H
#define SB_FORMATS_CMS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "../../hsm/hsm.h"
#include "tsa.h"

#define CMS_DER_MAX (1024 * 1024)	/* largest CMS cms_verify_digest reads */
#define CMS_CHAIN_MAX 8			/* most extra certificates in a seal */

/*
 * Seal a digest: the detached CAdES-B-T SignedData described above, signed
 * by the HSM key key_id whose certificate is signer, with chain (NULL or at
 * most CMS_CHAIN_MAX certificates, e.g. the seal CA) in its certificate set
 * besides signer (a repeat, or signer itself, is left out). md_nid: NID_sha256, NID_sha384 or NID_sha512, the digest's
 * algorithm and also the one used for the signature and the timestamp's
 * imprint. tsa: the time-stamping authority for the signature-time-stamp;
 * NULL leaves it out (CAdES-B-B; the daemon always passes one).
 * *der is malloc'd (free()).
 *
 * Two HSM signatures per call: the seal's and the token's. The clock is
 * checked first (tsa_time_ok), so a refused timestamp costs no signature.
 * Errors: SB_EINVAL (a NULL argument, digest length not md_nid's, the
 * certificate not key_id's), SB_ELIMIT (chain too long), SB_ESTATE (the TSA
 * will not issue: clock not trusted; or the seal certificate has expired or
 * is not valid yet: no seal that would not verify is made; tsa_time_ok()
 * tells the two apart), SB_ENOMEM, SB_ECRYPTO (OpenSSL
 * failed; logged), and the HSM layer's SB_ENOTFOUND, SB_EHSM,
 * SB_EHSM_NOLOGIN, for either key.
 */
int cms_sign_digest(struct hsm *h, const uint8_t *key_id, size_t id_len,
    X509 *signer, STACK_OF(X509) *chain, int md_nid, const uint8_t *digest,
    size_t dlen, struct tsa *tsa, uint8_t **der, size_t *der_len);

/*
 * The same, in two steps for a signer that seals many times: cades_new
 * encodes once what every seal by key_id with md_nid repeats (certificate
 * set, signer identifier, signing-certificate-v2; one HSM call to check
 * signer is key_id's public key), cades_sign makes one seal (two HSM
 * signatures). A struct cades is read-only after cades_new: any number of
 * threads may call cades_sign on one at once. The struct hsm must outlive it.
 * cades_new's errors: SB_EINVAL (NULL argument, md_nid not SHA-2, the
 * certificate not key_id's, a key neither EC nor RSA), SB_ELIMIT (chain
 * over CMS_CHAIN_MAX), SB_ENOMEM, SB_ECRYPTO, and hsm_key_public's.
 * cades_sign's: as cms_sign_digest's.
 */
struct cades;
int cades_new(struct hsm *h, const uint8_t *key_id, size_t id_len, X509 *signer,
    STACK_OF(X509) *chain, int md_nid, struct cades **out);
/* Accepts NULL. */
void cades_free(struct cades *c);
/* The md_nid it was made for; NID_undef for NULL. */
int cades_md(const struct cades *c);
int cades_sign(const struct cades *c, const uint8_t *digest, size_t dlen,
    struct tsa *tsa, uint8_t **der, size_t *der_len);
/*
 * cades_sign with a profile: CADES_PADES leaves signing-time out of the
 * signed attributes (PAdES baseline, ETSI EN 319 142-1: the time is the
 * PDF's /M and the signature-time-stamp); CADES_CADES is cades_sign.
 */
enum cades_profile { CADES_CADES = 0, CADES_PADES = 1 };
int cades_sign_profile(const struct cades *c, enum cades_profile profile,
    const uint8_t *digest, size_t dlen, struct tsa *tsa, uint8_t **der, size_t *der_len);

/* Why a CMS is not valid; cms_reason_code() gives the API's stable text. */
enum cms_reason {
	CMS_VERIFY_OK = 0,
	CMS_VERIFY_MALFORMED,		/* not a detached SignedData with one signer
					   and the attributes this profile needs */
	CMS_VERIFY_DIGEST_ALG,		/* signed with another digest algorithm */
	CMS_VERIFY_DIGEST_MISMATCH,	/* signed a different document */
	CMS_VERIFY_SIGNER_CERT,		/* signer certificate missing, or not the
					   one signing-certificate-v2 names */
	CMS_VERIFY_BAD_SIGNATURE,	/* signature does not verify */
	CMS_VERIFY_BAD_TIMESTAMP,	/* the token does not verify, or is not
					   over this signature */
	CMS_VERIFY_UNTRUSTED,		/* signer certificate not valid under the
					   trust store (at the timestamp's time) */
};

struct cms_verify_result {
	int valid;			/* 1: every check passed */
	enum cms_reason reason;		/* CMS_VERIFY_OK when valid */
	char detail[192];		/* one line for humans; "" when valid */
	X509 *signer;			/* the signer's certificate when found,
					   even if invalid; owned (see _clear) */
	int has_signing_time;
	time_t signing_time;		/* signed attribute: the signer's claim */
	int has_timestamp;
	time_t timestamp_time;		/* genTime of a token that verified */
	int md_nid;			/* the signer's digest algorithm */
};

/* "ok", "malformed", "digest_algorithm", "digest_mismatch",
 * "signer_certificate", "bad_signature", "bad_timestamp", "untrusted". */
const char *cms_reason_code(enum cms_reason r);

/*
 * Verify a detached CMS (DER) against a document digest made with md_nid.
 * Checks, in this order: the structure (SignedData, detached, id-data, one
 * signer, content-type and message-digest attributes); the digest algorithm
 * is md_nid; message-digest equals digest; the signer certificate is in the
 * CMS; the signature over the signed attributes; signing-certificate-v2 is
 * present and names that certificate; the signature-time-stamp, when
 * present, verifies under trust (TSA certificate with the timeStamping
 * purpose) and its imprint is the hash of the signature value; the signer
 * certificate chains to trust with the S/MIME signing purpose, at the
 * timestamp's time when there is one (so a seal certificate that has since
 * expired still verifies), at the present time otherwise. No revocation
 * check. A CMS without a timestamp can be valid (has_timestamp 0).
 *
 * Returns 0 when the checks ran: out->valid and out->reason say how they
 * came out. Errors (out then holds nothing): SB_EINVAL (NULL arguments,
 * digest length not md_nid's, der not DER of a CMS ContentInfo), SB_ELIMIT
 * (len over CMS_DER_MAX), SB_ENOMEM. Call cms_verify_result_clear on out
 * after a 0 return.
 */
int cms_verify_digest(const uint8_t *der, size_t len, int md_nid,
    const uint8_t *digest, size_t dlen, X509_STORE *trust,
    struct cms_verify_result *out);

/* Frees out->signer and zeroes out; accepts NULL. */
void cms_verify_result_clear(struct cms_verify_result *out);

#endif
