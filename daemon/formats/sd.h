/*
 * sd — CMS SignedData (RFC 5652) with one signer, written as DER directly,
 * for the signing hot path: the seal (cms.c) and its timestamp token (tsa.c).
 *
 * Why not OpenSSL's CMS/PKCS7/TS objects: OpenSSL 3.0 cannot finish a
 * SignedData from a precomputed digest (CMS_final_digest came in 3.2), and
 * building one through its object model (CMS_sign, CMS_add1_signer, the
 * ESS hash of the certificate, TS_RESP_create_response parsing our own
 * query) cost about 350 us per seal in allocations and re-encoding: more
 * than the two HSM signatures it wraps (tests/bench/cmsbench). Everything
 * that does not change between signatures — algorithm identifiers, the
 * certificate set, the signer identifier, content-type and
 * signing-certificate-v2 — is encoded once by OpenSSL's i2d functions
 * (sd_signer_init); per signature only the signing time, the message digest,
 * the signature and the lengths around them are written, with OpenSSL's TLV
 * primitives (ASN1_put_object). Parsing stays with OpenSSL: cms_verify_digest
 * and `openssl cms/ts -verify` read what this writes, and the unit tests
 * check the output is canonical DER (OpenSSL re-encodes it byte for byte).
 *
 * The signed attributes are exactly: content-type, signing-time,
 * message-digest, signing-certificate-v2, in DER SET OF order.
 *
 * Never: key material (the HSM signs: hsm_sign); untrusted input (every
 * argument comes from our own code).
 *
 * Threads: a struct sd_signer is read-only after sd_signer_init; any number
 * of threads may call sd_sign/sd_encode on one at once.
 */
#ifndef SB_FORMATS_SD_H
#define SB_FORMATS_SD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../../hsm/hsm.h"

#define SD_ATTRS_MAX 4096	/* the signed attributes' DER, whole */
#define SD_SIG_MAX 512		/* the longest signature (RSA-4096) */
#define SD_CERTS_MAX 9		/* the signer's certificate and 8 more */

struct sd_blob {
	uint8_t *p;		/* malloc'd */
	size_t len;
};

/* The parts of a SignedData that are the same for every signature. */
struct sd_signer {
	struct hsm *h;
	uint8_t id[HSM_ID_MAX];
	size_t id_len;
	int md_nid;			/* digest of the attributes and content */
	const EVP_MD *md;
	int content_nid;		/* eContentType: NID_pkcs7_data or
					   NID_id_smime_ct_TSTInfo */
	time_t not_before, not_after;	/* the certificate's validity */
	struct sd_blob digest_algs;	/* SET { digestAlgorithm } */
	struct sd_blob certs;		/* [0] IMPLICIT SET OF Certificate */
	struct sd_blob si_head;		/* version, sid, digestAlgorithm */
	struct sd_blob sig_alg;		/* signatureAlgorithm */
	struct sd_blob attr_ct;		/* content-type attribute */
	struct sd_blob attr_scv2;	/* signing-certificate-v2 attribute */
};

/* One signature over one set of signed attributes. */
struct sd_sig {
	uint8_t attrs[SD_ATTRS_MAX];	/* SET OF Attribute, DER, header included */
	size_t attrs_len;
	size_t attrs_hdr;		/* length of the SET header in attrs */
	uint8_t sig[SD_SIG_MAX];
	size_t sig_len;
};

/*
 * Encode the constant parts for the HSM key key_id whose certificate is
 * cert, with chain (NULL or more certificates; repeats and cert itself are
 * left out) in the certificate set. md_nid: NID_sha256/384/512, for the
 * attributes, the signature and signing-certificate-v2's hash when
 * ess_md_nid is 0 (else ess_md_nid). ess_issuer_serial: 1 to name the
 * issuer and serial in signing-certificate-v2 (CAdES), 0 not to (RFC 5816).
 * Checks that cert's public key is key_id's (one HSM call).
 * Errors: SB_EINVAL (bad argument; an unsupported key type or digest; the
 * certificate is not the key's), SB_ELIMIT (more than SD_CERTS_MAX
 * certificates; constant attributes over SD_ATTRS_MAX), SB_ENOMEM,
 * SB_ECRYPTO (encoding failed; logged), and hsm_key_public's errors. On
 * error s holds nothing to free.
 */
int sd_signer_init(struct sd_signer *s, struct hsm *h, const uint8_t *key_id,
    size_t id_len, X509 *cert, STACK_OF(X509) *chain, int md_nid,
    int content_nid, int ess_md_nid, int ess_issuer_serial);
/* Frees what sd_signer_init made and zeroes s; accepts NULL and a zeroed s. */
void sd_signer_clear(struct sd_signer *s);

/* 1 when the certificate is valid at t. */
int sd_signer_valid_at(const struct sd_signer *s, time_t t);

/*
 * Sign: the signed attributes with signing_time (SD_NO_SIGNING_TIME leaves
 * the attribute out, as PAdES baseline requires) and content_digest (the
 * message-digest, s->md's length: SB_EINVAL otherwise) into out, and the
 * HSM's signature over them. Errors: SB_EINVAL, SB_ELIMIT, and hsm_sign's
 * (SB_EHSM, SB_EHSM_NOLOGIN, SB_ENOTFOUND, SB_ECRYPTO).
 */
#define SD_NO_SIGNING_TIME ((time_t)-1)
int sd_sign(const struct sd_signer *s, time_t signing_time,
    const uint8_t *content_digest, size_t len, struct sd_sig *out);

/*
 * The ContentInfo of a SignedData around sig: econtent (the eContent's
 * octets, e.g. a TSTInfo's DER) or NULL for a detached signature;
 * unsigned_attr: NULL, or the DER of one Attribute for unsignedAttrs (the
 * signature-time-stamp). *der is malloc'd (free()).
 * Errors: SB_EINVAL, SB_ENOMEM, SB_ECRYPTO (encoding failed).
 */
int sd_encode(const struct sd_signer *s, const uint8_t *econtent, size_t elen,
    const struct sd_sig *sig, const uint8_t *unsigned_attr, size_t ulen,
    uint8_t **der, size_t *der_len);

/*
 * An Attribute { type nid, SET { value } } where value is DER, into
 * malloc'd *der. Errors: SB_EINVAL, SB_ENOMEM, SB_ECRYPTO.
 */
int sd_attribute(int nid, const uint8_t *value, size_t vlen, uint8_t **der,
    size_t *der_len);

/* The DER time for t: UTCTime from 1950 to 2049, GeneralizedTime otherwise
 * (RFC 5652 signing-time, RFC 5280); with a fraction `millis` (0..999, or
 * -1 for none) always GeneralizedTime with the fraction's trailing zeros
 * dropped (RFC 3161 genTime). Writes the whole TLV into out (room for 24
 * bytes); returns its length, 0 on error. */
size_t sd_time(time_t t, int millis, uint8_t out[24]);

/* The constant parts of an RFC 3161 TSTInfo. */
struct sd_tst {
	struct sd_blob policy;		/* TSAPolicyId */
	struct sd_blob name;		/* tsa [0] GeneralName: the TSA's subject */
};

/* Errors: SB_EINVAL, SB_ENOMEM, SB_ECRYPTO. On error t holds nothing. */
int sd_tst_init(struct sd_tst *t, const ASN1_OBJECT *policy, X509 *cert);
/* Accepts NULL and a zeroed t. */
void sd_tst_clear(struct sd_tst *t);

/*
 * A TSTInfo: version 1, the policy, messageImprint (md_nid: NID_sha256/384/
 * 512, imprint of its length), serialNumber (serial: big-endian, positive,
 * 1..32 bytes), genTime (sec and millis, 0..999), no accuracy, ordering or
 * nonce, tsa. *der is malloc'd (free()). Errors: SB_EINVAL, SB_ENOMEM,
 * SB_ECRYPTO.
 */
int sd_tstinfo(const struct sd_tst *t, int md_nid, const uint8_t *imprint,
    size_t len, const uint8_t *serial, size_t serial_len, time_t sec, int millis,
    uint8_t **der, size_t *der_len);

#endif
