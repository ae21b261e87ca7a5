/*
 * cms — CAdES-B-T over a digest with OpenSSL 3.0's CMS code and an HSM key.
 *
 * OpenSSL 3.0 has no call that finishes a SignedData from a precomputed
 * digest (CMS_final_digest came in 3.2), and CMS_final needs the content.
 * So: CMS_sign(..., CMS_PARTIAL) for an empty detached SignedData,
 * CMS_add1_signer(CMS_CADES | CMS_NOSMIMECAP) for the signer and its
 * signing-certificate-v2, the chain, our own content-type and message-digest
 * attributes (what CMS_final would have added), then CMS_SignerInfo_sign,
 * which adds signing-time and signs the DER of the signed attributes.
 * Nothing else about the structure is hand-made.
 *
 * The signer holds references to the borrowed HSM key (si->pkey and its
 * signing context), so the CMS is freed before the key is released.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../../lib/ossl.h"
#include "cms.h"

static const EVP_MD *
cms_md_of(int md_nid)
{
	switch (md_nid) {
	case NID_sha256: return EVP_sha256();
	case NID_sha384: return EVP_sha384();
	case NID_sha512: return EVP_sha512();
	}
	return NULL;
}

/* The digest md of an octet string. */
static int
cms_hash(const EVP_MD *md, const ASN1_OCTET_STRING *s, uint8_t *out, size_t *len)
{
	unsigned int n = 0;

	if (EVP_Digest(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), out, &n,
	    md, NULL) != 1)
		return 0;
	*len = n;
	return 1;
}

/* Add chain's certificates, leaving out the signer's and repeats (OpenSSL
 * refuses a certificate already present). */
static int
cms_add_chain(CMS_ContentInfo *cms, X509 *signer, STACK_OF(X509) *chain)
{
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		int seen = X509_cmp(x, signer) == 0;

		for (int j = 0; j < i && !seen; j++)
			seen = X509_cmp(x, sk_X509_value(chain, j)) == 0;
		if (!seen && CMS_add1_cert(cms, x) != 1)
			return ossl_fail("cms", "adding the chain");
	}
	return 0;
}

/* Sign and time-stamp; the caller holds the borrowed key and frees cms. */
static int
cms_build(CMS_ContentInfo *cms, X509 *signer, STACK_OF(X509) *chain, EVP_PKEY *key,
    const EVP_MD *md, int md_nid, const uint8_t *digest, size_t dlen, struct tsa *tsa)
{
	uint8_t imprint[EVP_MAX_MD_SIZE], *token = NULL;
	size_t ilen, tlen;
	CMS_SignerInfo *si;
	unsigned long e;
	int rc;

	if ((si = CMS_add1_signer(cms, signer, key, md, CMS_CADES | CMS_NOSMIMECAP)) == NULL) {
		e = ERR_peek_last_error();
		if (ERR_GET_LIB(e) == ERR_LIB_CMS &&
		    ERR_GET_REASON(e) == CMS_R_PRIVATE_KEY_DOES_NOT_MATCH_CERTIFICATE) {
			ERR_clear_error();
			log_err("cms: the certificate is not the HSM key's");
			return SB_EINVAL;
		}
		return ossl_fail("cms", "adding the signer");
	}
	if ((rc = cms_add_chain(cms, signer, chain)) != 0)
		return rc;
	if (CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
	    OBJ_nid2obj(NID_pkcs7_data), -1) != 1 ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING,
	    digest, (int)dlen) != 1)
		return ossl_fail("cms", "signed attributes");
	if (CMS_SignerInfo_sign(si) != 1)
		return ossl_fail("cms", "signing with the seal key in the HSM");
	if (tsa == NULL)
		return 0;
	if (!cms_hash(md, CMS_SignerInfo_get0_signature(si), imprint, &ilen))
		return ossl_fail("cms", "hashing the signature");
	if ((rc = tsa_stamp(tsa, md_nid, imprint, ilen, &token, &tlen)) != 0)
		return rc;
	if (CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken,
	    V_ASN1_SEQUENCE, token, (int)tlen) != 1)
		rc = ossl_fail("cms", "adding the timestamp");
	free(token);
	return rc;
}

int
cms_sign_digest(struct hsm *h, const uint8_t *key_id, size_t id_len,
    X509 *signer, STACK_OF(X509) *chain, int md_nid, const uint8_t *digest,
    size_t dlen, struct tsa *tsa, uint8_t **der, size_t *der_len)
{
	const EVP_MD *md = cms_md_of(md_nid);
	CMS_ContentInfo *cms;
	unsigned char *p;
	EVP_PKEY *key;
	int rc, n;

	if (der != NULL)
		*der = NULL;
	if (h == NULL || key_id == NULL || signer == NULL || digest == NULL ||
	    der == NULL || der_len == NULL || md == NULL ||
	    (size_t)EVP_MD_get_size(md) != dlen)
		return SB_EINVAL;
	if (chain != NULL && sk_X509_num(chain) > CMS_CHAIN_MAX)
		return SB_ELIMIT;
	if (tsa != NULL && !tsa_time_ok(tsa))
		return SB_ESTATE;
	if (X509_cmp_current_time(X509_get0_notAfter(signer)) <= 0 ||
	    X509_cmp_current_time(X509_get0_notBefore(signer)) >= 0) {
		log_err("cms: the seal certificate has expired or is not valid yet");
		return SB_ESTATE;
	}
	if ((rc = hsm_key_borrow(h, key_id, id_len, &key)) != 0) {
		log_err("cms: seal key: %s (%s)", sb_strerror(rc), hsm_error(h));
		return rc;
	}
	ERR_clear_error();
	if ((cms = CMS_sign(NULL, NULL, NULL, NULL,
	    CMS_DETACHED | CMS_BINARY | CMS_PARTIAL)) == NULL)
		rc = ossl_fail("cms", "a new SignedData");
	else
		rc = cms_build(cms, signer, chain, key, md, md_nid, digest, dlen, tsa);
	if (rc == 0) {
		if ((n = i2d_CMS_ContentInfo(cms, NULL)) <= 0)
			rc = ossl_fail("cms", "encoding");
		else if ((*der = p = malloc((size_t)n)) == NULL)
			rc = SB_ENOMEM;
		else if (i2d_CMS_ContentInfo(cms, &p) != n) {
			rc = ossl_fail("cms", "encoding");
			free(*der);
			*der = NULL;
		} else
			*der_len = (size_t)n;
	}
	CMS_ContentInfo_free(cms);	/* holds references to the key */
	hsm_key_release(h);
	/* OpenSSL cannot tell a failing HSM from any other failure; ask it. */
	if (rc == SB_ECRYPTO && hsm_check(h) != 0)
		rc = SB_EHSM;
	return rc;
}

/* ---- verification -------------------------------------------------------- */

const char *
cms_reason_code(enum cms_reason r)
{
	switch (r) {
	case CMS_VERIFY_OK: return "ok";
	case CMS_VERIFY_MALFORMED: return "malformed";
	case CMS_VERIFY_DIGEST_ALG: return "digest_algorithm";
	case CMS_VERIFY_DIGEST_MISMATCH: return "digest_mismatch";
	case CMS_VERIFY_SIGNER_CERT: return "signer_certificate";
	case CMS_VERIFY_BAD_SIGNATURE: return "bad_signature";
	case CMS_VERIFY_BAD_TIMESTAMP: return "bad_timestamp";
	case CMS_VERIFY_UNTRUSTED: return "untrusted";
	}
	return "unknown";
}

void
cms_verify_result_clear(struct cms_verify_result *out)
{
	if (out == NULL)
		return;
	X509_free(out->signer);
	memset(out, 0, sizeof(*out));
}

/* Record why the CMS is not valid; returns 0 (the checks ran). */
static int __attribute__((format(printf, 3, 4)))
cms_invalid(struct cms_verify_result *out, enum cms_reason r, const char *fmt, ...)
{
	va_list ap;

	out->valid = 0;
	out->reason = r;
	va_start(ap, fmt);
	vsnprintf(out->detail, sizeof(out->detail), fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return 0;
}

/* First OpenSSL error text, for a detail line. */
static const char *
cms_errtext(char *buf, size_t n)
{
	unsigned long e = ERR_peek_error();

	if (e == 0)
		snprintf(buf, n, "no detail");
	else
		ERR_error_string_n(e, buf, n);
	return buf;
}

static int
cms_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	*out = timegm(&tm);
	return 1;
}

/* The single value of signed attribute nid with ASN.1 type; NULL otherwise. */
static void *
cms_signed_value(CMS_SignerInfo *si, int nid, int type)
{
	int i = CMS_signed_get_attr_by_NID(si, nid, -1);
	X509_ATTRIBUTE *a;

	if (i < 0 || CMS_signed_get_attr_by_NID(si, nid, i) >= 0 ||
	    (a = CMS_signed_get_attr(si, i)) == NULL || X509_ATTRIBUTE_count(a) != 1)
		return NULL;
	return X509_ATTRIBUTE_get0_data(a, 0, type, NULL);
}

/* signing-certificate-v2 names signer (first in a chain of one). */
static int
cms_check_ess(CMS_SignerInfo *si, X509 *signer)
{
	ASN1_STRING *seq = cms_signed_value(si, NID_id_smime_aa_signingCertificateV2,
	    V_ASN1_SEQUENCE);
	const unsigned char *p;
	ESS_SIGNING_CERT_V2 *ss;
	STACK_OF(X509) *one;
	int ok = 0;

	if (seq == NULL)
		return 0;
	p = ASN1_STRING_get0_data(seq);
	if ((ss = d2i_ESS_SIGNING_CERT_V2(NULL, &p, ASN1_STRING_length(seq))) == NULL)
		return 0;
	if ((one = sk_X509_new_null()) != NULL && sk_X509_push(one, signer) > 0)
		ok = OSSL_ESS_check_signing_certs(NULL, ss, one, 1) > 0;
	sk_X509_free(one);
	ESS_SIGNING_CERT_V2_free(ss);
	return ok;
}

/* The signature-time-stamp attribute, parsed but not yet verified. */
struct cms_token {
	PKCS7 *p7;
	TS_TST_INFO *tst;
	time_t when;		/* genTime as the token claims it */
};

static void
cms_token_free(struct cms_token *t)
{
	TS_TST_INFO_free(t->tst);
	PKCS7_free(t->p7);
	memset(t, 0, sizeof(*t));
}

/* 0: no token; 1: one token, parsed; -1: malformed or more than one. */
static int
cms_token_parse(CMS_SignerInfo *si, struct cms_token *t)
{
	int i = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
	const unsigned char *p;
	ASN1_STRING *seq;
	X509_ATTRIBUTE *a;

	memset(t, 0, sizeof(*t));
	if (i < 0)
		return 0;
	if (CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, i) >= 0 ||
	    (a = CMS_unsigned_get_attr(si, i)) == NULL || X509_ATTRIBUTE_count(a) != 1 ||
	    (seq = X509_ATTRIBUTE_get0_data(a, 0, V_ASN1_SEQUENCE, NULL)) == NULL)
		return -1;
	p = ASN1_STRING_get0_data(seq);
	if ((t->p7 = d2i_PKCS7(NULL, &p, ASN1_STRING_length(seq))) == NULL ||
	    p != ASN1_STRING_get0_data(seq) + ASN1_STRING_length(seq) ||
	    (t->tst = PKCS7_to_TS_TST_INFO(t->p7)) == NULL ||
	    !cms_time(TS_TST_INFO_get_time(t->tst), &t->when)) {
		ERR_clear_error();
		cms_token_free(t);
		return -1;
	}
	return 1;
}

/*
 * The token is over this signature value and verifies under trust (TSA
 * certificate with the timeStamping purpose). 1 yes; 0 no, why in err.
 */
static int
cms_token_verify(CMS_SignerInfo *si, CMS_ContentInfo *cms, X509_STORE *trust,
    struct cms_token *t, char *err, size_t errlen)
{
	uint8_t imprint[EVP_MAX_MD_SIZE], *imp;
	TS_VERIFY_CTX *vc = NULL;
	STACK_OF(X509) *certs;
	const EVP_MD *md;
	size_t ilen;
	int ok = 0;

	snprintf(err, errlen, "cannot check the signature-time-stamp");
	md = cms_md_of(OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(
	    TS_TST_INFO_get_msg_imprint(t->tst))->algorithm));
	if (md == NULL) {
		snprintf(err, errlen, "timestamp imprint algorithm is not SHA-256/384/512");
		return 0;
	}
	if (!cms_hash(md, CMS_SignerInfo_get0_signature(si), imprint, &ilen) ||
	    (vc = TS_VERIFY_CTX_new()) == NULL ||
	    (imp = OPENSSL_memdup(imprint, ilen)) == NULL)
		goto out;
	TS_VERIFY_CTX_set_flags(vc, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT);
	/* OpenSSL 3.0's setters take ownership (3.4 adds set1 variants). */
	TS_VERIFY_CTX_set_imprint(vc, imp, (long)ilen);
	if (X509_STORE_up_ref(trust) != 1)
		goto out;
	TS_VERIFY_CTX_set_store(vc, trust);
	if ((certs = CMS_get1_certs(cms)) != NULL)
		TS_VERIFY_CTX_set_certs(vc, certs);
	if (TS_RESP_verify_token(vc, t->p7) != 1) {
		char e[128];

		snprintf(err, errlen, "timestamp: %s", cms_errtext(e, sizeof(e)));
		goto out;
	}
	ok = 1;
out:
	ERR_clear_error();
	TS_VERIFY_CTX_free(vc);
	return ok;
}

/* signer chains to trust for S/MIME signing, at time `at` (0: now). */
static int
cms_check_chain(CMS_ContentInfo *cms, X509 *signer, X509_STORE *trust, time_t at,
    char *err, size_t errlen)
{
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	X509_STORE_CTX *c = X509_STORE_CTX_new();
	int ok = 0;

	snprintf(err, errlen, "cannot check the certificate chain");
	if (c != NULL && X509_STORE_CTX_init(c, trust, signer, certs) == 1 &&
	    X509_STORE_CTX_set_purpose(c, X509_PURPOSE_SMIME_SIGN) == 1) {
		if (at != 0)
			X509_STORE_CTX_set_time(c, 0, at);
		ok = X509_verify_cert(c) == 1;
		if (!ok)
			snprintf(err, errlen, "signer certificate: %s",
			    X509_verify_cert_error_string(X509_STORE_CTX_get_error(c)));
	}
	X509_STORE_CTX_free(c);
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return ok;
}

/* Every check after parsing; fills out. */
static int
cms_check(CMS_ContentInfo *cms, int md_nid, const uint8_t *digest, size_t dlen,
    X509_STORE *trust, struct cms_verify_result *out)
{
	STACK_OF(CMS_SignerInfo) *sis;
	ASN1_OCTET_STRING *md_attr;
	ASN1_OBJECT *ct_attr;
	const ASN1_OBJECT *ect;
	X509_ALGOR *dig;
	CMS_SignerInfo *si;
	struct cms_token tok;
	X509 *signer = NULL;
	char err[160];
	int ts, ok;

	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
		return cms_invalid(out, CMS_VERIFY_MALFORMED, "not a SignedData");
	if ((ect = CMS_get0_eContentType(cms)) == NULL || OBJ_obj2nid(ect) != NID_pkcs7_data ||
	    CMS_is_detached(cms) != 1)
		return cms_invalid(out, CMS_VERIFY_MALFORMED, "not a detached signature of data");
	if ((sis = CMS_get0_SignerInfos(cms)) == NULL || sk_CMS_SignerInfo_num(sis) != 1)
		return cms_invalid(out, CMS_VERIFY_MALFORMED, "not exactly one signer");
	si = sk_CMS_SignerInfo_value(sis, 0);
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
	out->md_nid = OBJ_obj2nid(dig->algorithm);
	if ((ct_attr = cms_signed_value(si, NID_pkcs9_contentType, V_ASN1_OBJECT)) == NULL ||
	    OBJ_obj2nid(ct_attr) != NID_pkcs7_data ||
	    (md_attr = cms_signed_value(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING)) == NULL)
		return cms_invalid(out, CMS_VERIFY_MALFORMED,
		    "content-type or message-digest attribute missing or wrong");
	if (cms_time(cms_signed_value(si, NID_pkcs9_signingTime, V_ASN1_UTCTIME), &out->signing_time) ||
	    cms_time(cms_signed_value(si, NID_pkcs9_signingTime, V_ASN1_GENERALIZEDTIME),
	    &out->signing_time))
		out->has_signing_time = 1;
	if (out->md_nid != md_nid)
		return cms_invalid(out, CMS_VERIFY_DIGEST_ALG, "signed with %s, not %s",
		    OBJ_nid2sn(out->md_nid), OBJ_nid2sn(md_nid));
	if ((size_t)ASN1_STRING_length(md_attr) != dlen ||
	    memcmp(ASN1_STRING_get0_data(md_attr), digest, dlen) != 0)
		return cms_invalid(out, CMS_VERIFY_DIGEST_MISMATCH,
		    "the signature is over another document");
	if (CMS_set1_signers_certs(cms, NULL, 0) < 0)
		ERR_clear_error();
	CMS_SignerInfo_get0_algs(si, NULL, &signer, NULL, NULL);
	if (signer == NULL)
		return cms_invalid(out, CMS_VERIFY_SIGNER_CERT, "no signer certificate in the CMS");
	if (X509_up_ref(signer) != 1)
		return SB_ENOMEM;
	out->signer = signer;
	if (CMS_SignerInfo_verify(si) != 1)
		return cms_invalid(out, CMS_VERIFY_BAD_SIGNATURE, "signature: %s",
		    cms_errtext(err, sizeof(err)));
	if (!cms_check_ess(si, signer))
		return cms_invalid(out, CMS_VERIFY_SIGNER_CERT,
		    "signing-certificate-v2 missing or naming another certificate");
	/* The chain first, at the time the token claims (the token itself
	 * is checked next): a wrong trust anchor is reported as such, not as
	 * a bad timestamp. */
	if ((ts = cms_token_parse(si, &tok)) < 0)
		return cms_invalid(out, CMS_VERIFY_BAD_TIMESTAMP, "malformed signature-time-stamp");
	if (!cms_check_chain(cms, signer, trust, ts == 1 ? tok.when : 0, err, sizeof(err))) {
		cms_token_free(&tok);
		return cms_invalid(out, CMS_VERIFY_UNTRUSTED, "%s", err);
	}
	if (ts == 1) {
		ok = cms_token_verify(si, cms, trust, &tok, err, sizeof(err));
		out->timestamp_time = tok.when;
		cms_token_free(&tok);
		if (!ok)
			return cms_invalid(out, CMS_VERIFY_BAD_TIMESTAMP, "%s", err);
		out->has_timestamp = 1;
	}
	out->valid = 1;
	out->reason = CMS_VERIFY_OK;
	return 0;
}

int
cms_verify_digest(const uint8_t *der, size_t len, int md_nid,
    const uint8_t *digest, size_t dlen, X509_STORE *trust,
    struct cms_verify_result *out)
{
	const EVP_MD *md = cms_md_of(md_nid);
	const unsigned char *p = der;
	CMS_ContentInfo *cms;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (der == NULL || digest == NULL || trust == NULL || out == NULL || md == NULL ||
	    (size_t)EVP_MD_get_size(md) != dlen)
		return SB_EINVAL;
	if (len > CMS_DER_MAX)
		return SB_ELIMIT;
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL || p != der + len) {
		CMS_ContentInfo_free(cms);
		ERR_clear_error();
		return SB_EINVAL;
	}
	rc = cms_check(cms, md_nid, digest, dlen, trust, out);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	if (rc != 0)
		cms_verify_result_clear(out);
	return rc;
}
