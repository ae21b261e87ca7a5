/*
 * sd — SignedData as DER, written back to front.
 *
 * DER needs every length before the content it prefixes. Writing from the
 * end of a buffer towards its start turns that around: the content goes in
 * first, then the header that wraps it (dw_wrap), whose length is now known.
 * Headers come from OpenSSL's ASN1_put_object; anything with structure of its
 * own (names, serial numbers, certificates, ESS) from OpenSSL's i2d.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../../lib/ossl.h"
#include "sd.h"

#define SD_SCRATCH (64 * 1024)	/* sd_signer_init's working space */

/* A backward writer: b[pos..cap) holds what was written so far. */
struct dw {
	uint8_t *b;
	size_t pos;
	int err;		/* the first failure: SB_ELIMIT or SB_ECRYPTO */
};

static void
dw_init(struct dw *w, uint8_t *b, size_t cap)
{
	w->b = b;
	w->pos = cap;
	w->err = 0;
}

static void
dw_put(struct dw *w, const void *p, size_t n)
{
	if (w->err != 0)
		return;
	if (n > w->pos) {
		w->err = SB_ELIMIT;
		return;
	}
	w->pos -= n;
	memcpy(w->b + w->pos, p, n);
}

/* A header for n bytes of content. */
static void
dw_hdr(struct dw *w, size_t n, int constructed, int tag, int xclass)
{
	unsigned char h[16], *q = h;

	if (w->err != 0)
		return;
	if (n > INT_MAX) {
		w->err = SB_ELIMIT;
		return;
	}
	ASN1_put_object(&q, constructed, (int)n, tag, xclass);
	dw_put(w, h, (size_t)(q - h));
}

/* Wrap everything written since the writer stood at `end`. */
static void
dw_wrap(struct dw *w, size_t end, int tag, int xclass)
{
	if (w->err == 0)
		dw_hdr(w, end - w->pos, 1, tag, xclass);
}

static void
dw_prim(struct dw *w, int tag, const void *p, size_t n)
{
	dw_put(w, p, n);
	dw_hdr(w, n, 0, tag, V_ASN1_UNIVERSAL);
}

static void
dw_oid(struct dw *w, int nid)
{
	const ASN1_OBJECT *o = OBJ_nid2obj(nid);

	if (o == NULL || OBJ_length(o) == 0) {
		if (w->err == 0)
			w->err = SB_ECRYPTO;
		return;
	}
	dw_prim(w, V_ASN1_OBJECT, OBJ_get0_data(o), OBJ_length(o));
}

/* AlgorithmIdentifier { nid, NULL parameters or none } */
static void
dw_alg(struct dw *w, int nid, int null_params)
{
	size_t end = w->pos;

	if (null_params)
		dw_hdr(w, 0, 0, V_ASN1_NULL, V_ASN1_UNIVERSAL);
	dw_oid(w, nid);
	dw_wrap(w, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
}

/* The DER OpenSSL makes of obj with i2d. */
#define DW_I2D(w, fn, obj) do {						\
	unsigned char *q_ = NULL;					\
	int n_ = fn(obj, &q_);						\
									\
	if (n_ <= 0) {							\
		if ((w)->err == 0)					\
			(w)->err = SB_ECRYPTO;				\
	} else								\
		dw_put(w, q_, (size_t)n_);				\
	OPENSSL_free(q_);						\
} while (0)

static int
blob_take(struct sd_blob *b, const struct dw *w, size_t end)
{
	if (w->err != 0)
		return w->err;
	b->len = end - w->pos;
	if ((b->p = malloc(b->len)) == NULL)
		return SB_ENOMEM;
	memcpy(b->p, w->b + w->pos, b->len);
	return 0;
}

int
sd_attribute(int nid, const uint8_t *value, size_t vlen, uint8_t **der, size_t *der_len)
{
	size_t cap = vlen + 64;
	uint8_t *b;
	struct dw w;
	size_t n;

	if (der == NULL || der_len == NULL || value == NULL)
		return SB_EINVAL;
	*der = NULL;
	if ((b = malloc(cap)) == NULL)
		return SB_ENOMEM;
	dw_init(&w, b, cap);
	dw_put(&w, value, vlen);
	dw_wrap(&w, cap, V_ASN1_SET, V_ASN1_UNIVERSAL);
	dw_oid(&w, nid);
	dw_wrap(&w, cap, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	if (w.err != 0) {
		free(b);
		return w.err == SB_ELIMIT ? SB_ECRYPTO : w.err;
	}
	n = cap - w.pos;
	memmove(b, b + w.pos, n);
	*der = b;
	*der_len = n;
	return 0;
}

size_t
sd_time(time_t t, int millis, uint8_t out[24])
{
	char s[24], f[8];
	struct tm tm;
	int n, year, gen;

	if (gmtime_r(&t, &tm) == NULL || millis > 999)
		return 0;
	year = tm.tm_year + 1900;
	if (year < 0 || year > 9999)
		return 0;
	gen = millis >= 0 || year < 1950 || year >= 2050;
	if (!gen)
		n = snprintf(s, sizeof(s), "%02d%02d%02d%02d%02d%02dZ", year % 100,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else {
		f[0] = '\0';
		if (millis > 0) {
			/* DER: no trailing zeros in the fraction, no empty one */
			snprintf(f, sizeof(f), ".%03d", millis);
			for (size_t k = strlen(f); f[k - 1] == '0'; k--)
				f[k - 1] = '\0';
		}
		n = snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02d%sZ", year, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, f);
	}
	if (n <= 0 || (size_t)n >= sizeof(s) - 2)
		return 0;
	out[0] = gen ? V_ASN1_GENERALIZEDTIME : V_ASN1_UTCTIME;
	out[1] = (uint8_t)n;
	memcpy(out + 2, s, (size_t)n);
	return (size_t)n + 2;
}

/* DER order of SET OF elements: as octet strings, a prefix first. */
static int
blob_cmp(const void *a, const void *b)
{
	const struct sd_blob *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);

	if (c != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* Seconds since the epoch of an ASN1_TIME. */
static int
sd_epoch(const ASN1_TIME *t, time_t *out)
{
	ASN1_TIME *zero = ASN1_TIME_set(NULL, 0);
	int days, secs, ok;

	ok = zero != NULL && t != NULL && ASN1_TIME_diff(&days, &secs, zero, t) == 1;
	ASN1_TIME_free(zero);
	if (ok)
		*out = (time_t)days * 86400 + secs;
	return ok;
}

/* [0] IMPLICIT SET OF Certificate: cert and chain, no repeats, DER order. */
static int
sd_certs(struct sd_signer *s, struct dw *w, X509 *cert, STACK_OF(X509) *chain)
{
	struct sd_blob der[SD_CERTS_MAX];
	int more = chain != NULL ? sk_X509_num(chain) : 0;	/* -1 for NULL */
	size_t n = 0, end = w->pos;
	int rc = 0;

	for (int i = -1; i < more && rc == 0; i++) {
		X509 *x = i < 0 ? cert : sk_X509_value(chain, i);
		unsigned char *q = NULL;
		int len, seen = 0;

		if ((len = i2d_X509(x, &q)) <= 0) {
			rc = ossl_fail("sd", "encoding a certificate");
			break;
		}
		for (size_t k = 0; k < n && !seen; k++)
			seen = der[k].len == (size_t)len && memcmp(der[k].p, q, (size_t)len) == 0;
		if (seen) {
			OPENSSL_free(q);
			continue;
		}
		if (n == SD_CERTS_MAX) {
			OPENSSL_free(q);
			rc = SB_ELIMIT;
			break;
		}
		der[n].p = q;
		der[n++].len = (size_t)len;
	}
	if (rc == 0) {
		qsort(der, n, sizeof(der[0]), blob_cmp);
		for (size_t k = n; k > 0; k--)
			dw_put(w, der[k - 1].p, der[k - 1].len);
		dw_wrap(w, end, 0, V_ASN1_CONTEXT_SPECIFIC);
		rc = blob_take(&s->certs, w, end);
	}
	for (size_t k = 0; k < n; k++)
		OPENSSL_free(der[k].p);
	return rc;
}

/* version 1, IssuerAndSerialNumber, digestAlgorithm; and the algorithms. */
static int
sd_ids(struct sd_signer *s, struct dw *w, X509 *cert)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	int type = pub != NULL ? EVP_PKEY_get_base_id(pub) : NID_undef;
	size_t end = w->pos, sid;
	int snid = NID_undef, rc;

	dw_alg(w, s->md_nid, 0);
	sid = w->pos;
	DW_I2D(w, i2d_ASN1_INTEGER, X509_get0_serialNumber(cert));
	DW_I2D(w, i2d_X509_NAME, X509_get_issuer_name(cert));
	dw_wrap(w, sid, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	dw_prim(w, V_ASN1_INTEGER, "\x01", 1);
	if ((rc = blob_take(&s->si_head, w, end)) != 0)
		return rc;

	end = w->pos;
	dw_alg(w, s->md_nid, 0);
	dw_wrap(w, end, V_ASN1_SET, V_ASN1_UNIVERSAL);
	if ((rc = blob_take(&s->digest_algs, w, end)) != 0)
		return rc;

	/* What OpenSSL's CMS writes: ecdsa-with-SHAn; rsaEncryption, NULL. */
	end = w->pos;
	if (type == EVP_PKEY_EC && OBJ_find_sigid_by_algs(&snid, s->md_nid, type) == 1)
		dw_alg(w, snid, 0);
	else if (type == EVP_PKEY_RSA)
		dw_alg(w, NID_rsaEncryption, 1);
	else {
		log_err("sd: the certificate's key is neither EC nor RSA");
		return SB_EINVAL;
	}
	return blob_take(&s->sig_alg, w, end);
}

/* content-type and signing-certificate-v2: the constant signed attributes. */
static int
sd_const_attrs(struct sd_signer *s, struct dw *w, X509 *cert, const EVP_MD *ess_md,
    int ess_issuer_serial)
{
	ESS_SIGNING_CERT_V2 *sc;
	unsigned char *q = NULL;
	size_t end = w->pos;
	int rc, n;

	dw_oid(w, s->content_nid);
	if (w->err != 0)
		return w->err;
	rc = sd_attribute(NID_pkcs9_contentType, w->b + w->pos, end - w->pos,
	    &s->attr_ct.p, &s->attr_ct.len);
	w->pos = end;
	if (rc != 0)
		return rc;
	if ((sc = OSSL_ESS_signing_cert_v2_new_init(ess_md, cert, NULL,
	    ess_issuer_serial)) == NULL)
		return ossl_fail("sd", "signing-certificate-v2");
	n = i2d_ESS_SIGNING_CERT_V2(sc, &q);
	ESS_SIGNING_CERT_V2_free(sc);
	if (n <= 0)
		return ossl_fail("sd", "encoding signing-certificate-v2");
	rc = sd_attribute(NID_id_smime_aa_signingCertificateV2, q, (size_t)n,
	    &s->attr_scv2.p, &s->attr_scv2.len);
	OPENSSL_free(q);
	if (rc == 0 && s->attr_ct.len + s->attr_scv2.len > SD_ATTRS_MAX / 2)
		rc = SB_ELIMIT;
	return rc;
}

/* The certificate is the key's: one HSM call. */
static int
sd_key_matches(struct hsm *h, const uint8_t *id, size_t id_len, X509 *cert)
{
	EVP_PKEY *pub = NULL;
	int rc, eq;

	if ((rc = hsm_key_public(h, id, id_len, &pub)) != 0) {
		log_err("sd: key: %s (%s)", sb_strerror(rc), hsm_error(h));
		return rc;
	}
	eq = X509_get0_pubkey(cert) != NULL && EVP_PKEY_eq(pub, X509_get0_pubkey(cert)) == 1;
	EVP_PKEY_free(pub);
	ERR_clear_error();
	if (!eq) {
		log_err("sd: the certificate is not the HSM key's");
		return SB_EINVAL;
	}
	return 0;
}

int
sd_signer_init(struct sd_signer *s, struct hsm *h, const uint8_t *key_id,
    size_t id_len, X509 *cert, STACK_OF(X509) *chain, int md_nid,
    int content_nid, int ess_md_nid, int ess_issuer_serial)
{
	const EVP_MD *ess_md = ossl_sha2(ess_md_nid != 0 ? ess_md_nid : md_nid);
	uint8_t *scratch;
	struct dw w;
	int rc;

	if (s == NULL)
		return SB_EINVAL;
	memset(s, 0, sizeof(*s));
	if (h == NULL || key_id == NULL || id_len == 0 || id_len > HSM_ID_MAX ||
	    cert == NULL || ossl_sha2(md_nid) == NULL || ess_md == NULL ||
	    OBJ_nid2obj(content_nid) == NULL)
		return SB_EINVAL;
	if (sk_X509_num(chain) >= SD_CERTS_MAX)
		return SB_ELIMIT;
	if ((rc = sd_key_matches(h, key_id, id_len, cert)) != 0)
		return rc;
	s->h = h;
	memcpy(s->id, key_id, id_len);
	s->id_len = id_len;
	s->md_nid = md_nid;
	s->md = ossl_sha2(md_nid);
	s->content_nid = content_nid;
	if (!sd_epoch(X509_get0_notBefore(cert), &s->not_before) ||
	    !sd_epoch(X509_get0_notAfter(cert), &s->not_after)) {
		ERR_clear_error();
		log_err("sd: the certificate's validity cannot be read");
		return SB_EINVAL;
	}
	if ((scratch = malloc(SD_SCRATCH)) == NULL)
		return SB_ENOMEM;
	dw_init(&w, scratch, SD_SCRATCH);
	rc = sd_certs(s, &w, cert, chain);
	if (rc == 0)
		rc = sd_ids(s, &w, cert);
	if (rc == 0)
		rc = sd_const_attrs(s, &w, cert, ess_md, ess_issuer_serial);
	free(scratch);
	if (rc != 0)
		sd_signer_clear(s);
	return rc;
}

void
sd_signer_clear(struct sd_signer *s)
{
	if (s == NULL)
		return;
	free(s->digest_algs.p);
	free(s->certs.p);
	free(s->si_head.p);
	free(s->sig_alg.p);
	free(s->attr_ct.p);
	free(s->attr_scv2.p);
	memset(s, 0, sizeof(*s));
}

int
sd_signer_valid_at(const struct sd_signer *s, time_t t)
{
	return s != NULL && t >= s->not_before && t <= s->not_after;
}

/* Attribute { nid, SET { TLV } } written into b (cap bytes); its length. */
static size_t
sd_attr_tlv(uint8_t *b, size_t cap, int nid, int tag, const uint8_t *v, size_t n)
{
	struct dw w;

	dw_init(&w, b, cap);
	if (tag >= 0)
		dw_prim(&w, tag, v, n);
	else
		dw_put(&w, v, n);	/* v is a whole TLV already */
	dw_wrap(&w, cap, V_ASN1_SET, V_ASN1_UNIVERSAL);
	dw_oid(&w, nid);
	dw_wrap(&w, cap, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	if (w.err != 0)
		return 0;
	memmove(b, b + w.pos, cap - w.pos);
	return cap - w.pos;
}

int
sd_sign(const struct sd_signer *s, time_t signing_time, const uint8_t *content_digest,
    size_t len, struct sd_sig *out)
{
	uint8_t a_time[64], a_md[128], tv[24], dg[EVP_MAX_MD_SIZE];
	struct sd_blob part[4];
	size_t total = 0, tlen, n = 0;
	unsigned char *q;
	unsigned int dn = 0;

	if (s == NULL || s->md == NULL || content_digest == NULL || out == NULL ||
	    len != (size_t)EVP_MD_get_size(s->md) || len > sizeof(a_md) - 32)
		return SB_EINVAL;
	part[n++] = s->attr_ct;
	if (signing_time != SD_NO_SIGNING_TIME) {
		if ((tlen = sd_time(signing_time, -1, tv)) == 0)
			return SB_EINVAL;
		part[n].p = a_time;
		part[n].len = sd_attr_tlv(a_time, sizeof(a_time), NID_pkcs9_signingTime, -1,
		    tv, tlen);
		if (part[n++].len == 0)
			return SB_ECRYPTO;
	}
	part[n].p = a_md;
	part[n].len = sd_attr_tlv(a_md, sizeof(a_md), NID_pkcs9_messageDigest,
	    V_ASN1_OCTET_STRING, content_digest, len);
	if (part[n++].len == 0)
		return SB_ECRYPTO;
	part[n++] = s->attr_scv2;
	qsort(part, n, sizeof(part[0]), blob_cmp);
	for (size_t i = 0; i < n; i++)
		total += part[i].len;
	if (total + 8 > sizeof(out->attrs))
		return SB_ELIMIT;
	q = out->attrs;
	ASN1_put_object(&q, 1, (int)total, V_ASN1_SET, V_ASN1_UNIVERSAL);
	out->attrs_hdr = (size_t)(q - out->attrs);
	for (size_t i = 0; i < n; i++) {
		memcpy(q, part[i].p, part[i].len);
		q += part[i].len;
	}
	out->attrs_len = (size_t)(q - out->attrs);
	/* The signature is over the attributes' DER with the SET tag. */
	if (EVP_Digest(out->attrs, out->attrs_len, dg, &dn, s->md, NULL) != 1)
		return ossl_fail("sd", "hashing the signed attributes");
	out->sig_len = sizeof(out->sig);
	return hsm_sign(s->h, s->id, s->id_len, s->md_nid, dg, dn, out->sig, &out->sig_len);
}

int
sd_encode(const struct sd_signer *s, const uint8_t *econtent, size_t elen,
    const struct sd_sig *sig, const uint8_t *unsigned_attr, size_t ulen,
    uint8_t **der, size_t *der_len)
{
	uint8_t version = s != NULL && s->content_nid == NID_pkcs7_data ? 1 : 3;
	size_t cap, end, mark;
	struct dw w;
	uint8_t *b;

	if (der != NULL)
		*der = NULL;
	if (s == NULL || sig == NULL || der == NULL || der_len == NULL ||
	    (econtent == NULL && elen > 0) || (unsigned_attr == NULL && ulen > 0) ||
	    sig->attrs_hdr > sig->attrs_len)
		return SB_EINVAL;
	/* Room for the content and at most 16 headers of 6 bytes. */
	cap = s->digest_algs.len + s->certs.len + s->si_head.len + s->sig_alg.len +
	    sig->attrs_len + sig->sig_len + elen + ulen + 128;
	if ((b = malloc(cap)) == NULL)
		return SB_ENOMEM;
	dw_init(&w, b, cap);
	end = cap;

	/* signerInfos: SET { SignerInfo } */
	if (unsigned_attr != NULL) {
		dw_put(&w, unsigned_attr, ulen);
		dw_wrap(&w, end, 1, V_ASN1_CONTEXT_SPECIFIC);
	}
	dw_prim(&w, V_ASN1_OCTET_STRING, sig->sig, sig->sig_len);
	dw_put(&w, s->sig_alg.p, s->sig_alg.len);
	mark = w.pos;
	dw_put(&w, sig->attrs + sig->attrs_hdr, sig->attrs_len - sig->attrs_hdr);
	dw_wrap(&w, mark, 0, V_ASN1_CONTEXT_SPECIFIC);
	dw_put(&w, s->si_head.p, s->si_head.len);
	dw_wrap(&w, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	dw_wrap(&w, end, V_ASN1_SET, V_ASN1_UNIVERSAL);
	dw_put(&w, s->certs.p, s->certs.len);
	/* encapContentInfo */
	mark = w.pos;
	if (econtent != NULL) {
		dw_prim(&w, V_ASN1_OCTET_STRING, econtent, elen);
		dw_wrap(&w, mark, 0, V_ASN1_CONTEXT_SPECIFIC);
	}
	dw_oid(&w, s->content_nid);
	dw_wrap(&w, mark, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	dw_put(&w, s->digest_algs.p, s->digest_algs.len);
	dw_prim(&w, V_ASN1_INTEGER, &version, 1);
	/* ContentInfo { signedData, [0] EXPLICIT SignedData } */
	dw_wrap(&w, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	dw_wrap(&w, end, 0, V_ASN1_CONTEXT_SPECIFIC);
	dw_oid(&w, NID_pkcs7_signed);
	dw_wrap(&w, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	if (w.err != 0) {
		free(b);
		log_err("sd: encoding a SignedData failed");
		return SB_ECRYPTO;
	}
	*der_len = cap - w.pos;
	memmove(b, b + w.pos, *der_len);
	*der = b;
	return 0;
}

/* ---- RFC 3161 TSTInfo ---------------------------------------------------- */

int
sd_tst_init(struct sd_tst *t, const ASN1_OBJECT *policy, X509 *cert)
{
	uint8_t b[4096];
	struct dw w;
	int rc;

	if (t == NULL)
		return SB_EINVAL;
	memset(t, 0, sizeof(*t));
	if (policy == NULL || cert == NULL || OBJ_length(policy) == 0)
		return SB_EINVAL;
	dw_init(&w, b, sizeof(b));
	dw_prim(&w, V_ASN1_OBJECT, OBJ_get0_data(policy), OBJ_length(policy));
	if ((rc = blob_take(&t->policy, &w, sizeof(b))) != 0)
		return rc == SB_ELIMIT ? SB_EINVAL : rc;
	/* tsa [0] EXPLICIT GeneralName, directoryName [4] EXPLICIT Name */
	dw_init(&w, b, sizeof(b));
	DW_I2D(&w, i2d_X509_NAME, X509_get_subject_name(cert));
	dw_wrap(&w, sizeof(b), 4, V_ASN1_CONTEXT_SPECIFIC);
	dw_wrap(&w, sizeof(b), 0, V_ASN1_CONTEXT_SPECIFIC);
	if ((rc = blob_take(&t->name, &w, sizeof(b))) != 0) {
		sd_tst_clear(t);
		return rc == SB_ELIMIT ? SB_EINVAL : rc;
	}
	return 0;
}

void
sd_tst_clear(struct sd_tst *t)
{
	if (t == NULL)
		return;
	free(t->policy.p);
	free(t->name.p);
	memset(t, 0, sizeof(*t));
}

int
sd_tstinfo(const struct sd_tst *t, int md_nid, const uint8_t *imprint,
    size_t len, const uint8_t *serial, size_t serial_len, time_t sec, int millis,
    uint8_t **der, size_t *der_len)
{
	const EVP_MD *md = ossl_sha2(md_nid);
	uint8_t tv[24], *b;
	size_t cap, tlen, mark;
	struct dw w;

	if (der != NULL)
		*der = NULL;
	if (t == NULL || t->policy.p == NULL || md == NULL || imprint == NULL ||
	    len != (size_t)EVP_MD_get_size(md) || serial == NULL || serial_len == 0 ||
	    serial_len > 32 || millis < 0 || der == NULL || der_len == NULL)
		return SB_EINVAL;
	if ((tlen = sd_time(sec, millis, tv)) == 0)
		return SB_EINVAL;
	/* DER INTEGER: no leading zero bytes, and a zero byte before a high bit */
	while (serial_len > 1 && serial[0] == 0) {
		serial++;
		serial_len--;
	}
	cap = t->policy.len + t->name.len + len + serial_len + tlen + 96;
	if ((b = malloc(cap)) == NULL)
		return SB_ENOMEM;
	dw_init(&w, b, cap);
	dw_put(&w, t->name.p, t->name.len);
	dw_put(&w, tv, tlen);
	dw_put(&w, serial, serial_len);
	if (serial[0] & 0x80)
		dw_put(&w, "", 1);
	dw_hdr(&w, serial_len + (serial[0] >> 7), 0, V_ASN1_INTEGER, V_ASN1_UNIVERSAL);
	mark = w.pos;
	dw_prim(&w, V_ASN1_OCTET_STRING, imprint, len);
	dw_alg(&w, md_nid, 1);	/* as in a query from openssl ts */
	dw_wrap(&w, mark, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	dw_put(&w, t->policy.p, t->policy.len);
	dw_prim(&w, V_ASN1_INTEGER, "\x01", 1);
	dw_wrap(&w, cap, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	if (w.err != 0) {
		free(b);
		log_err("sd: encoding a TSTInfo failed");
		return SB_ECRYPTO;
	}
	*der_len = cap - w.pos;
	memmove(b, b + w.pos, *der_len);
	*der = b;
	return 0;
}
