/*
 * cms — CAdES-B-T over a digest, written by sd.c, verified by OpenSSL.
 *
 * Making a seal: sd_sign over the signed attributes (content-type,
 * signing-time, message-digest, signing-certificate-v2), the timestamp
 * token over the signature value from tsa_stamp as the one unsigned
 * attribute, sd_encode around both. A struct cades holds what is the same
 * for every seal by one key (sd.h explains why this is not OpenSSL's CMS
 * object model). Verifying: OpenSSL's CMS code, below.
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
#include "sd.h"

struct cades {
	struct sd_signer sd;
};

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

int
cades_new(struct hsm *h, const uint8_t *key_id, size_t id_len, X509 *signer,
    STACK_OF(X509) *chain, int md_nid, struct cades **out)
{
	struct cades *c;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (h == NULL || key_id == NULL || signer == NULL || out == NULL ||
	    ossl_sha2(md_nid) == NULL)
		return SB_EINVAL;
	if (chain != NULL && sk_X509_num(chain) > CMS_CHAIN_MAX)
		return SB_ELIMIT;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SB_ENOMEM;
	/* CAdES: signing-certificate-v2 names the issuer and serial too. */
	if ((rc = sd_signer_init(&c->sd, h, key_id, id_len, signer, chain, md_nid,
	    NID_pkcs7_data, 0, 1)) != 0) {
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
cades_free(struct cades *c)
{
	if (c == NULL)
		return;
	sd_signer_clear(&c->sd);
	free(c);
}

int
cades_md(const struct cades *c)
{
	return c != NULL ? c->sd.md_nid : NID_undef;
}

int
cades_sign(const struct cades *c, const uint8_t *digest, size_t dlen,
    struct tsa *tsa, uint8_t **der, size_t *der_len)
{
	return cades_sign_profile(c, CADES_CADES, digest, dlen, tsa, der, der_len);
}

int
cades_sign_profile(const struct cades *c, enum cades_profile profile,
    const uint8_t *digest, size_t dlen, struct tsa *tsa, uint8_t **der, size_t *der_len)
{
	uint8_t imprint[EVP_MAX_MD_SIZE], *token = NULL, *attr = NULL;
	size_t tlen = 0, alen = 0;
	unsigned int ilen = 0;
	struct sd_sig *sig;
	time_t now;
	int rc;

	if (der != NULL)
		*der = NULL;
	if (c == NULL || digest == NULL || der == NULL || der_len == NULL ||
	    (size_t)EVP_MD_get_size(c->sd.md) != dlen)
		return SB_EINVAL;
	/* A refused timestamp or a seal that would not verify costs no
	 * signature. */
	if (tsa != NULL && !tsa_time_ok(tsa))
		return SB_ESTATE;
	now = time(NULL);
	if (!sd_signer_valid_at(&c->sd, now)) {
		log_err("cms: the seal certificate has expired or is not valid yet");
		return SB_ESTATE;
	}
	if ((sig = malloc(sizeof(*sig))) == NULL)
		return SB_ENOMEM;
	if ((rc = sd_sign(&c->sd, profile == CADES_PADES ? SD_NO_SIGNING_TIME : now, digest,
	    dlen, sig)) != 0)
		log_err("cms: signing with the seal key: %s (%s)", sb_strerror(rc),
		    hsm_error(c->sd.h));
	else if (tsa != NULL) {
		if (EVP_Digest(sig->sig, sig->sig_len, imprint, &ilen, c->sd.md, NULL) != 1)
			rc = ossl_fail("cms", "hashing the signature");
		else if ((rc = tsa_stamp(tsa, c->sd.md_nid, imprint, ilen, &token, &tlen)) == 0)
			rc = sd_attribute(NID_id_smime_aa_timeStampToken, token, tlen, &attr, &alen);
	}
	if (rc == 0)
		rc = sd_encode(&c->sd, NULL, 0, sig, attr, alen, der, der_len);
	free(attr);
	free(token);
	free(sig);
	return rc;
}

int
cms_sign_digest(struct hsm *h, const uint8_t *key_id, size_t id_len,
    X509 *signer, STACK_OF(X509) *chain, int md_nid, const uint8_t *digest,
    size_t dlen, struct tsa *tsa, uint8_t **der, size_t *der_len)
{
	const EVP_MD *md = ossl_sha2(md_nid);
	struct cades *c;
	int rc;

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
	if ((rc = cades_new(h, key_id, id_len, signer, chain, md_nid, &c)) != 0)
		return rc;
	rc = cades_sign(c, digest, dlen, tsa, der, der_len);
	cades_free(c);
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
	md = ossl_sha2(OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(
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
	const EVP_MD *md = ossl_sha2(md_nid);
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
