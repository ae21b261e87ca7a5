/*
 * test_evidence — sealctl verify-evidence's core, evidence_verify(), against
 * bundles made here with OpenSSL alone: a throwaway CA (and a second one),
 * seal, TSA and audit keys, a CMS from CMS_sign over the document with an
 * RFC 3161 token from OpenSSL's TS responder, a ledger of a few entries
 * hashed into a Merkle tree by a naive RFC 9162 implementation written from
 * the RFC (not daemon/ledger/merkle.c), and a tree head signed by the audit
 * key over the documented message. One valid bundle must pass every check;
 * each tampering must fail the check it breaks, with that check's message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "daemon/client/evidence.h"

enum kind { K_CA, K_SEAL, K_TSA, K_AUDIT };

static EVP_PKEY *ca_key, *ca2_key, *seal_key, *seal2_key, *tsa_key, *tsa2_key,
    *audit_key, *audit2_key;
static X509 *ca, *ca2, *seal, *seal2, *tsa, *tsa2, *audit, *audit_other_ca;
static STACK_OF(X509) *anchors, *other_anchors;
static const char doc[] = "contract 42: the parties agree.\n";
static const char other_doc[] = "contract 43: something else.\n";
static long serial = 1;

/* ---- the world: keys and certificates --------------------------------- */

static EVP_PKEY *
new_key(void)
{
	return EVP_EC_gen("P-256");
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static X509 *
make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, enum kind k)
{
	X509 *x = X509_new();
	X509_NAME *n;
	int ok;

	if (x == NULL)
		return NULL;
	n = X509_get_subject_name(x);
	ok = X509_set_version(x, 2) &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) &&
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn,
	    -1, -1, 0) &&
	    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n) &&
	    X509_set_pubkey(x, key);
	if (issuer == NULL)
		issuer = x;
	ok = ok && add_ext(x, issuer, NID_subject_key_identifier, "hash") &&
	    (issuer == x || add_ext(x, issuer, NID_authority_key_identifier, "keyid:always"));
	switch (k) {
	case K_CA:
		ok = ok && add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE") &&
		    add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
		break;
	case K_SEAL:
		ok = ok && add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
		    add_ext(x, issuer, NID_key_usage, "critical,digitalSignature,nonRepudiation");
		break;
	case K_TSA:
		ok = ok && add_ext(x, issuer, NID_key_usage, "critical,digitalSignature") &&
		    add_ext(x, issuer, NID_ext_key_usage, "critical,timeStamping");
		break;
	case K_AUDIT:
		ok = ok && add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
		break;
	}
	if (!ok || X509_sign(x, ikey ? ikey : key, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static void
world_free(void)
{
	EVP_PKEY *keys[] = { ca_key, ca2_key, seal_key, seal2_key, tsa_key, tsa2_key,
	    audit_key, audit2_key };
	X509 *certs[] = { ca, ca2, seal, seal2, tsa, tsa2, audit, audit_other_ca };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		EVP_PKEY_free(keys[i]);
	for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		X509_free(certs[i]);
	sk_X509_pop_free(anchors, X509_free);
	sk_X509_pop_free(other_anchors, X509_free);
}

static int
world_new(void)
{
	if ((ca_key = new_key()) == NULL || (ca2_key = new_key()) == NULL ||
	    (seal_key = new_key()) == NULL || (seal2_key = new_key()) == NULL ||
	    (tsa_key = new_key()) == NULL || (tsa2_key = new_key()) == NULL ||
	    (audit_key = new_key()) == NULL || (audit2_key = new_key()) == NULL)
		return -1;
	ca = make_cert("Test Appliance CA", ca_key, NULL, NULL, K_CA);
	ca2 = make_cert("Another CA", ca2_key, NULL, NULL, K_CA);
	seal = make_cert("Demo seal", seal_key, ca, ca_key, K_SEAL);
	seal2 = make_cert("Demo seal", seal2_key, ca, ca_key, K_SEAL);
	tsa = make_cert("Test TSA", tsa_key, ca, ca_key, K_TSA);
	tsa2 = make_cert("Test TSA 2", tsa2_key, ca, ca_key, K_TSA);
	audit = make_cert("Test audit", audit_key, ca, ca_key, K_AUDIT);
	audit_other_ca = make_cert("Test audit", audit2_key, ca2, ca2_key, K_AUDIT);
	if (!ca || !ca2 || !seal || !seal2 || !tsa || !tsa2 || !audit || !audit_other_ca)
		return -1;
	if ((anchors = sk_X509_new_null()) == NULL || !X509_up_ref(ca) ||
	    sk_X509_push(anchors, ca) <= 0)
		return -1;
	if ((other_anchors = sk_X509_new_null()) == NULL || !X509_up_ref(ca2) ||
	    sk_X509_push(other_anchors, ca2) <= 0)
		return -1;
	return 0;
}

/* ---- encodings -------------------------------------------------------- */

static json_t *
b64(const uint8_t *p, size_t n)
{
	char *s = malloc((n + 2) / 3 * 4 + 1);
	json_t *j;

	if (s == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	j = json_string(s);
	free(s);
	return j;
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static char *
pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s = NULL;
	long n;

	if (b != NULL && PEM_write_bio_X509(b, x) == 1 && (n = BIO_get_mem_data(b, &data)) > 0)
		s = strndup(data, (size_t)n);
	BIO_free(b);
	return s;
}

static void
sha256(const void *p, size_t n, uint8_t out[32])
{
	EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL);
}

/* ---- RFC 9162 §2.1, naively ------------------------------------------- */

static void
leaf_hash(const void *p, size_t n, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	const uint8_t zero = 0;

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, &zero, 1);
	EVP_DigestUpdate(c, p, n);
	EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
}

static void
node_hash(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
	uint8_t buf[65];

	buf[0] = 1;
	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, r, 32);
	sha256(buf, sizeof(buf), out);
}

/* The largest power of two smaller than n (n > 1). */
static size_t
split(size_t n)
{
	size_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

/* MTH(D[n]) over leaf hashes. */
static void
mth(const uint8_t (*leaves)[32], size_t n, uint8_t out[32])
{
	uint8_t l[32], r[32];
	size_t k;

	if (n == 1) {
		memcpy(out, leaves[0], 32);
		return;
	}
	k = split(n);
	mth(leaves, k, l);
	mth(leaves + k, n - k, r);
	node_hash(l, r, out);
}

/* PATH(m, D[n]) appended to path. */
static void
audit_path(size_t m, const uint8_t (*leaves)[32], size_t n, uint8_t (*path)[32],
    size_t *np)
{
	size_t k;

	if (n == 1)
		return;
	k = split(n);
	if (m < k) {
		audit_path(m, leaves, k, path, np);
		mth(leaves + k, n - k, path[(*np)++]);
	} else {
		audit_path(m - k, leaves + k, n - k, path, np);
		mth(leaves, k, path[(*np)++]);
	}
}

/* ---- CMS with a timestamp --------------------------------------------- */

/* An RFC 3161 token over imprint (SHA-256), DER, from OpenSSL's responder. */
static uint8_t *
make_token(const uint8_t imprint[32], X509 *cert, EVP_PKEY *key, int *len)
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	TS_RESP_CTX *ctx = TS_RESP_CTX_new();
	ASN1_OBJECT *policy = OBJ_txt2obj("1.3.6.1.4.1.99999.1.1", 1);
	TS_RESP *resp = NULL;
	uint8_t *out = NULL;
	BIO *bio = NULL;

	if (!req || !mi || !alg || !ctx || !policy ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) ||
	    !TS_MSG_IMPRINT_set_algo(mi, alg) || !TS_MSG_IMPRINT_set_msg(mi,
	    (unsigned char *)imprint, 32) || !TS_REQ_set_version(req, 1) ||
	    !TS_REQ_set_msg_imprint(req, mi) || !TS_REQ_set_cert_req(req, 1))
		goto out;
	if ((bio = BIO_new(BIO_s_mem())) == NULL || i2d_TS_REQ_bio(bio, req) != 1)
		goto out;
	if (!TS_RESP_CTX_set_signer_cert(ctx, cert) || !TS_RESP_CTX_set_signer_key(ctx, key) ||
	    !TS_RESP_CTX_set_def_policy(ctx, policy) || !TS_RESP_CTX_add_md(ctx, EVP_sha256()) ||
	    !TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()) ||
	    !TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256()))
		goto out;
	if ((resp = TS_RESP_create_response(ctx, bio)) == NULL ||
	    ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(
	    TS_RESP_get_status_info(resp))) != TS_STATUS_GRANTED)
		goto out;
	*len = i2d_PKCS7(TS_RESP_get_token(resp), &out);
out:
	TS_RESP_free(resp);
	BIO_free(bio);
	ASN1_OBJECT_free(policy);
	TS_RESP_CTX_free(ctx);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	TS_REQ_free(req);
	return out;
}

/* CMS_sign over the document, detached, CAdES (signing-certificate-v2),
 * with the seal CA in its certificates; then a token from tsa_cert over
 * the signature value as the signature-time-stamp. tsa_cert NULL: none. */
static uint8_t *
make_cms(const char *content, X509 *cert, EVP_PKEY *key, X509 *tsa_cert,
    EVP_PKEY *tsa_pkey, size_t *len)
{
	BIO *in = BIO_new_mem_buf(content, (int)strlen(content));
	STACK_OF(X509) *chain = sk_X509_new_null();
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	const ASN1_OCTET_STRING *sig;
	uint8_t imprint[32], *tok = NULL, *der = NULL;
	int toklen = 0, n;

	*len = 0;
	if (in == NULL || chain == NULL || sk_X509_push(chain, ca) <= 0)
		goto out;
	cms = CMS_sign(cert, key, chain, in, CMS_DETACHED | CMS_BINARY | CMS_CADES |
	    CMS_NOSMIMECAP);
	if (cms == NULL)
		goto out;
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	if (tsa_cert != NULL) {
		sig = CMS_SignerInfo_get0_signature(si);
		sha256(ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig), imprint);
		if ((tok = make_token(imprint, tsa_cert, tsa_pkey, &toklen)) == NULL ||
		    !CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken,
		    V_ASN1_SEQUENCE, tok, toklen))
			goto out;
	}
	if ((n = i2d_CMS_ContentInfo(cms, &der)) > 0)
		*len = (size_t)n;
out:
	OPENSSL_free(tok);
	CMS_ContentInfo_free(cms);
	sk_X509_free(chain);
	BIO_free(in);
	ERR_print_errors_fp(stdout);
	return der;
}

/* ---- bundles ---------------------------------------------------------- */

/* What to build wrong from the start (consistently everywhere else). */
struct spec {
	size_t seq, size;	/* entry seq in a tree of size entries */
	int cms_other_key;	/* CMS by seal2 (same CA, another key) */
	int cms_other_doc;	/* CMS over another document than the entry names */
	int sigdigest_wrong;	/* the entry's signature_digest is of other bytes */
	int audit_other_ca;	/* audit certificate (and its key) from another CA */
	int no_token;		/* CMS without a signature-time-stamp */
	int token_by_tsa2;	/* token from another TSA than the bundle names */
	int entry_no_cms;	/* the entry without its copy of the CMS */
};

static uint64_t
now_ms(void)
{
	return (uint64_t)time(NULL) * 1000;
}

static char *
entry_text(const struct spec *s, size_t seq, const uint8_t *cms, size_t cms_len)
{
	uint8_t d[32];
	char dhex[65], shex[65];
	json_t *e;
	char *text;

	if (seq != s->seq)
		e = json_pack("{ss ss ss ss sI sI}", "action", "sign", "actor", "erp",
		    "result", "refused:not_granted", "seal", "demo-seal",
		    "seq", (json_int_t)seq, "time", (json_int_t)(now_ms() - 1000 + seq));
	else {
		sha256(doc, strlen(doc), d);
		hex(d, 32, dhex);
		if (s->sigdigest_wrong)
			sha256("not the CMS", 11, d);
		else
			sha256(cms, cms_len, d);
		hex(d, 32, shex);
		e = json_pack("{ss ss s{ss ss} ss ss ss ss sI ss sI}", "action", "sign",
		    "actor", "erp", "document_digest", "alg", "sha256", "value", dhex,
		    "document_name", "contract-42.pdf", "on_behalf_of", "", "result", "ok",
		    "seal", "demo-seal", "seq", (json_int_t)seq, "signature_digest", shex,
		    "time", (json_int_t)(now_ms() - 1000 + seq));
		if (e != NULL && !s->entry_no_cms)
			json_object_set_new(e, "cms", b64(cms, cms_len));
	}
	text = e ? json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(e);
	return text;
}

/* "sealbox-sth-v1" || size BE64 || ts BE64 || root, signed with key. */
static json_t *
make_sth(uint64_t size, uint64_t ts, const uint8_t root[32], EVP_PKEY *key)
{
	uint8_t msg[14 + 8 + 8 + 32], sig[256];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	json_t *j = NULL;

	memcpy(msg, "sealbox-sth-v1", 14);
	for (int i = 0; i < 8; i++) {
		msg[14 + i] = (uint8_t)(size >> (56 - 8 * i));
		msg[22 + i] = (uint8_t)(ts >> (56 - 8 * i));
	}
	memcpy(msg + 30, root, 32);
	if (c != NULL && EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(c, sig, &siglen, msg, sizeof(msg)) == 1)
		j = json_pack("{sI sI so so}", "tree_size", (json_int_t)size,
		    "timestamp", (json_int_t)ts, "root_hash", b64(root, 32),
		    "signature", b64(sig, siglen));
	EVP_MD_CTX_free(c);
	return j;
}

static json_t *
make_bundle(const struct spec *s)
{
	uint8_t (*leaves)[32] = calloc(s->size, 32), path[64][32], root[32];
	char **texts = calloc(s->size, sizeof(char *));
	X509 *seal_cert = s->cms_other_key ? seal2 : seal;
	EVP_PKEY *sk = s->cms_other_key ? seal2_key : seal_key;
	X509 *a = s->audit_other_ca ? audit_other_ca : audit;
	EVP_PKEY *ak = s->audit_other_ca ? audit2_key : audit_key;
	uint8_t *cms = NULL;
	size_t cms_len = 0, np = 0;
	json_t *jpath = json_array(), *b = NULL, *sth;
	char *pems[4] = { pem(seal), pem(a), pem(tsa), pem(ca) };

	if (leaves == NULL || texts == NULL || jpath == NULL || !pems[0] || !pems[1] ||
	    !pems[2] || !pems[3])
		goto out;
	cms = make_cms(s->cms_other_doc ? other_doc : doc, seal_cert, sk,
	    s->no_token ? NULL : s->token_by_tsa2 ? tsa2 : tsa,
	    s->token_by_tsa2 ? tsa2_key : tsa_key, &cms_len);
	if (cms == NULL)
		goto out;
	for (size_t i = 0; i < s->size; i++) {
		if ((texts[i] = entry_text(s, i, cms, cms_len)) == NULL)
			goto out;
		leaf_hash(texts[i], strlen(texts[i]), leaves[i]);
	}
	mth((const uint8_t (*)[32])leaves, s->size, root);
	audit_path(s->seq, (const uint8_t (*)[32])leaves, s->size, path, &np);
	for (size_t i = 0; i < np; i++)
		json_array_append_new(jpath, b64(path[i], 32));
	if ((sth = make_sth(s->size, now_ms(), root, ak)) == NULL)
		goto out;
	b = json_pack("{sI sI so so s{sI sO} so so s{ss ss ss ss}}",
	    "version", (json_int_t)1, "seq", (json_int_t)s->seq,
	    "entry", b64((const uint8_t *)texts[s->seq], strlen(texts[s->seq])),
	    "leaf_hash", b64(leaves[s->seq], 32),
	    "inclusion", "tree_size", (json_int_t)s->size, "path", jpath,
	    "sth", sth, "cms", b64(cms, cms_len),
	    "certificates", "seal", pems[0], "audit", pems[1], "tsa", pems[2], "ca", pems[3]);
out:
	for (size_t i = 0; texts != NULL && i < s->size; i++)
		free(texts[i]);
	for (int i = 0; i < 4; i++)
		free(pems[i]);
	free(texts);
	free(leaves);
	json_decref(jpath);
	OPENSSL_free(cms);
	return b;
}

static struct evidence_result res;

/* Prints what failed, for a reader of the log. */
static void
show(void)
{
	for (int i = 0; i < EVIDENCE_NCHECKS; i++)
		if (res.ran[i] && !res.ok[i])
			printf("#     %s: FAILED: %s\n", evidence_check_name(i), res.detail[i]);
}

/* Verifies bundle b (consumed) against anchors; 0 if the checks ran. */
static int
verify_with(json_t *b, STACK_OF(X509) *trust)
{
	char *text;
	int rc;

	if (b == NULL)
		return -100;
	text = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	if (text == NULL)
		return -101;
	rc = evidence_verify(text, strlen(text), trust, &res);
	free(text);
	show();
	return rc;
}

static int
verify(json_t *b)
{
	return verify_with(b, anchors);
}

static const struct spec base = { .seq = 5, .size = 7 };

/* Exactly the check c failed, with a message containing want. */
#define CHECK_ONLY(c, want) do { \
	CHECK(!res.all_ok); \
	for (int i_ = 0; i_ < EVIDENCE_NCHECKS; i_++) \
		CHECK(res.ran[i_] && res.ok[i_] == (i_ != (c))); \
	CHECK_CONTAINS(res.detail[c], want); \
} while (0)

/* Check c failed with want (others may have failed too). */
#define CHECK_FAILED(c, want) do { \
	CHECK(!res.all_ok); \
	CHECK(res.ran[c] && !res.ok[c]); \
	CHECK_CONTAINS(res.detail[c], want); \
} while (0)

/* Replaces base64 string member key of o by the same bytes with byte off
 * (the last one if off is past the end) xor mask. */
static int
flip_b64(json_t *o, const char *key, size_t off, uint8_t mask)
{
	const char *s = json_string_value(json_object_get(o, key));
	uint8_t buf[512];
	size_t len, slen;
	int n;

	if (s == NULL || (slen = strlen(s)) > 600 || slen < 4 ||
	    (n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)slen)) < 0)
		return -1;
	/* DecodeBlock counts padding as zero bytes. */
	len = (size_t)n - (s[slen - 1] == '=') - (s[slen - 2] == '=');
	if (off >= len)
		off = len - 1;
	buf[off] ^= mask;
	return json_object_set_new(o, key, b64(buf, len));
}

/* The bundle's entry as text (malloc'd), and back. */
static char *
entry_get(json_t *b)
{
	const char *s = json_string_value(json_object_get(b, "entry"));
	size_t n = s ? strlen(s) : 0;
	char *out = malloc(n / 4 * 3 + 1);
	int len;

	if (s == NULL || out == NULL ||
	    (len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n)) < 0) {
		free(out);
		return NULL;
	}
	len -= (n > 0 && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
	out[len] = '\0';
	return out;
}

static void
entry_set(json_t *b, const char *text)
{
	json_object_set_new(b, "entry", b64((const uint8_t *)text, strlen(text)));
}

/* ---- the tests -------------------------------------------------------- */

static void
test_valid(void)
{
	CHECK_RC(verify(make_bundle(&base)), 0);
	CHECK(res.all_ok);
	for (int i = 0; i < EVIDENCE_NCHECKS; i++)
		CHECK(res.ran[i] && res.ok[i] && res.detail[i][0] == '\0');
	CHECK(res.seq == 5 && res.tree_size == 7);
	CHECK_STR(res.seal, "demo-seal");
	CHECK_STR(res.document_name, "contract-42.pdf");
	CHECK(strncmp(res.document_digest, "sha256:", 7) == 0);
}

static void
test_valid_shapes(void)
{
	static const size_t shapes[][2] = { {0, 1}, {0, 2}, {1, 2}, {2, 3}, {0, 8},
	    {7, 8}, {8, 9}, {12, 13}, {5, 16}, {16, 33} };

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct spec s = base;

		s.seq = shapes[i][0];
		s.size = shapes[i][1];
		CHECK_RC(verify(make_bundle(&s)), 0);
		if (!res.all_ok)
			printf("#   seq %zu of %zu\n", s.seq, s.size);
		CHECK(res.all_ok);
	}
}

static void
test_entry_byte_changed(void)
{
	json_t *b = make_bundle(&base);
	char *e;
	char *p;

	CHECK(b != NULL);
	e = entry_get(b);
	CHECK(e != NULL && (p = strstr(e, "contract-42")) != NULL);
	p[9] = '3';	/* contract-43.pdf: still canonical, another document name */
	entry_set(b, e);
	free(e);
	CHECK_RC(verify(b), 0);
	CHECK_FAILED(EVIDENCE_LEAF, "leaf_hash is not SHA-256(0x00 || entry)");
	CHECK_FAILED(EVIDENCE_INCLUSION, "does not lead from entry 5");
	CHECK(res.ok[EVIDENCE_STH] && res.ok[EVIDENCE_CMS] && res.ok[EVIDENCE_SIG_DIGEST]);
}

static void
test_wrong_leaf_hash(void)
{
	json_t *b = make_bundle(&base);

	CHECK(b != NULL && flip_b64(b, "leaf_hash", 0, 0x01) == 0);
	CHECK_RC(verify(b), 0);
	CHECK_ONLY(EVIDENCE_LEAF, "leaf_hash is not SHA-256(0x00 || entry)");
}

static void
test_proof_element_flipped(void)
{
	json_t *b = make_bundle(&base), *path, *box;

	CHECK(b != NULL);
	path = json_object_get(json_object_get(b, "inclusion"), "path");
	CHECK(json_array_size(path) == 3);
	box = json_pack("{sO}", "h", json_array_get(path, 1));
	CHECK(box != NULL && flip_b64(box, "h", 31, 0x80) == 0);
	json_array_set(path, 1, json_object_get(box, "h"));
	json_decref(box);
	CHECK_RC(verify(b), 0);
	CHECK_ONLY(EVIDENCE_INCLUSION, "the proof does not lead from entry 5 to the root "
	    "of the tree head (size 7)");
}

static void
test_proof_wrong_length(void)
{
	json_t *b = make_bundle(&base), *path;

	CHECK(b != NULL);
	path = json_object_get(json_object_get(b, "inclusion"), "path");
	json_array_remove(path, 2);
	CHECK_RC(verify(b), 0);
	CHECK_ONLY(EVIDENCE_INCLUSION, "does not lead");
}

static void
test_sth_signature_wrong(void)
{
	json_t *b = make_bundle(&base);

	CHECK(b != NULL && flip_b64(json_object_get(b, "sth"), "signature", 1000, 0x01) == 0);
	CHECK_RC(verify(b), 0);
	CHECK_ONLY(EVIDENCE_STH, "the tree head's signature does not verify with the "
	    "audit certificate's key");
}

static void
test_sth_signed_by_other_key(void)
{
	struct spec s = base;
	json_t *b;

	/* A tree head signed by the seal key, with a certificate that chains. */
	b = make_bundle(&s);
	CHECK(b != NULL);
	{
		json_t *sth = json_object_get(b, "sth"), *forged;
		uint8_t root[32];
		uint8_t *r;
		int n;
		const char *rs = json_string_value(json_object_get(sth, "root_hash"));

		r = malloc(48);
		CHECK(r != NULL);
		n = EVP_DecodeBlock(r, (const unsigned char *)rs, (int)strlen(rs));
		CHECK(n >= 32);
		memcpy(root, r, 32);
		free(r);
		forged = make_sth(7, (uint64_t)json_integer_value(json_object_get(sth,
		    "timestamp")), root, seal_key);
		CHECK(forged != NULL);
		json_object_set_new(b, "sth", forged);
	}
	CHECK_RC(verify(b), 0);
	CHECK_ONLY(EVIDENCE_STH, "does not verify with the audit certificate's key");
}

static void
test_sth_root_wrong(void)
{
	json_t *b = make_bundle(&base);

	CHECK(b != NULL && flip_b64(json_object_get(b, "sth"), "root_hash", 0, 0x01) == 0);
	CHECK_RC(verify(b), 0);
	CHECK_FAILED(EVIDENCE_STH, "does not verify with the audit certificate's key");
	CHECK_FAILED(EVIDENCE_INCLUSION, "to the root of the tree head");
	CHECK(res.ok[EVIDENCE_LEAF] && res.ok[EVIDENCE_CMS] && res.ok[EVIDENCE_CERTS]);
}

static void
test_cms_other_key(void)
{
	struct spec s = base;

	s.cms_other_key = 1;
	CHECK_RC(verify(make_bundle(&s)), 0);
	CHECK_ONLY(EVIDENCE_CMS, "signed by a certificate other than the bundle's seal "
	    "certificate");
}

static void
test_cms_other_document(void)
{
	struct spec s = base;

	s.cms_other_doc = 1;
	CHECK_RC(verify(make_bundle(&s)), 0);
	CHECK_ONLY(EVIDENCE_CMS, "digest_mismatch: the signature is over another document");
}

static void
test_cms_replaced(void)
{
	struct spec s = base;
	json_t *b = make_bundle(&base), *other;

	/* The CMS of another bundle: the entry's signature_digest no longer fits. */
	s.cms_other_key = 1;
	other = make_bundle(&s);
	CHECK(b != NULL && other != NULL);
	json_object_set(b, "cms", json_object_get(other, "cms"));
	json_decref(other);
	CHECK_RC(verify(b), 0);
	CHECK_FAILED(EVIDENCE_SIG_DIGEST, "the entry's cms is not the bundle's cms");
	CHECK_FAILED(EVIDENCE_CMS, "other than the bundle's seal certificate");
}

static void
test_cms_replaced_entry_without_cms(void)
{
	struct spec s = base;
	json_t *b, *other;

	s.entry_no_cms = 1;
	b = make_bundle(&s);
	CHECK_RC(verify(json_deep_copy(b)), 0);
	CHECK(res.all_ok);
	s.cms_other_key = 1;
	other = make_bundle(&s);
	CHECK(b != NULL && other != NULL);
	json_object_set(b, "cms", json_object_get(other, "cms"));
	json_decref(other);
	CHECK_RC(verify(b), 0);
	CHECK_FAILED(EVIDENCE_SIG_DIGEST, "the entry's signature_digest is");
}

static void
test_audit_cert_other_ca(void)
{
	struct spec s = base;

	s.audit_other_ca = 1;
	CHECK_RC(verify(make_bundle(&s)), 0);
	CHECK_ONLY(EVIDENCE_CERTS, "audit: unable to get local issuer certificate");
}

static void
test_seal_cert_other_ca(void)
{
	json_t *b = make_bundle(&base);
	X509 *x = make_cert("Demo seal", seal_key, ca2, ca2_key, K_SEAL);
	char *p = x ? pem(x) : NULL;

	/* The right key, certified by someone else. */
	CHECK(b != NULL && p != NULL);
	json_object_set_new(json_object_get(b, "certificates"), "seal", json_string(p));
	free(p);
	X509_free(x);
	CHECK_RC(verify(b), 0);
	CHECK_FAILED(EVIDENCE_CERTS, "seal: unable to get local issuer certificate");
	CHECK_FAILED(EVIDENCE_CMS, "other than the bundle's seal certificate");
}

static void
test_other_trust_anchor(void)
{
	CHECK_RC(verify_with(make_bundle(&base), other_anchors), 0);
	CHECK_FAILED(EVIDENCE_CERTS, "seal: self-signed certificate in certificate chain");
	CHECK_FAILED(EVIDENCE_CERTS, "; ca: self-signed certificate");
	CHECK_FAILED(EVIDENCE_CMS, "untrusted");
	CHECK_FAILED(EVIDENCE_TIMESTAMP, "does not verify");
	CHECK(res.ok[EVIDENCE_STH] && res.ok[EVIDENCE_INCLUSION]);
}

static void
test_signature_digest_mismatch(void)
{
	struct spec s = base;

	s.sigdigest_wrong = 1;
	CHECK_RC(verify(make_bundle(&s)), 0);
	CHECK_ONLY(EVIDENCE_SIG_DIGEST, "SHA-256 of the CMS is");
}

static void
test_no_timestamp(void)
{
	struct spec s = base;

	s.no_token = 1;
	CHECK_RC(verify(make_bundle(&s)), 0);
	CHECK_ONLY(EVIDENCE_TIMESTAMP, "the CMS has no signature-time-stamp token");
}

static void
test_timestamp_other_tsa(void)
{
	struct spec s = base;

	s.token_by_tsa2 = 1;
	CHECK_RC(verify(make_bundle(&s)), 0);
	CHECK_ONLY(EVIDENCE_TIMESTAMP, "the token is not signed by the bundle's TSA certificate");
}

/* A malformed bundle fails the format check and nothing else runs. */
static void
expect_format(json_t *b, const char *want)
{
	CHECK_RC(verify(b), 0);
	CHECK(!res.all_ok && res.ran[EVIDENCE_FORMAT] && !res.ok[EVIDENCE_FORMAT]);
	for (int i = 1; i < EVIDENCE_NCHECKS; i++)
		CHECK(!res.ran[i]);
	CHECK_CONTAINS(res.detail[EVIDENCE_FORMAT], want);
}

static void
test_malformed(void)
{
	json_t *b;

	CHECK_RC(evidence_verify("{\"version\":", 11, anchors, &res), 0);
	CHECK(!res.all_ok && !res.ok[EVIDENCE_FORMAT]);
	CHECK_CONTAINS(res.detail[EVIDENCE_FORMAT], "not JSON");
	CHECK_RC(evidence_verify("[]", 2, anchors, &res), 0);
	CHECK_CONTAINS(res.detail[EVIDENCE_FORMAT], "not a JSON object");
	CHECK_RC(evidence_verify("{\"a\":1,\"a\":2}", 13, anchors, &res), 0);
	CHECK_CONTAINS(res.detail[EVIDENCE_FORMAT], "not JSON");

	b = make_bundle(&base);
	CHECK(b != NULL);
	json_object_set_new(b, "note", json_string("trust me"));
	expect_format(b, "the bundle has an unknown key 'note'");

	b = make_bundle(&base);
	json_object_set_new(b, "version", json_integer(2));
	expect_format(b, "version is not 1");

	b = make_bundle(&base);
	json_object_set_new(json_object_get(b, "inclusion"), "tree_size", json_integer(8));
	expect_format(b, "the proof is for tree size 8, the tree head is size 7");

	b = make_bundle(&base);
	json_object_set_new(b, "seq", json_integer(4));
	expect_format(b, "entry is seq 5, the bundle says 4");

	b = make_bundle(&base);
	json_object_set_new(b, "seq", json_integer(7));
	expect_format(b, "seq 7 is not in a tree of 7 entries");

	/* Non-canonical base64: a padding bit set. */
	b = make_bundle(&base);
	{
		char *s = strdup(json_string_value(json_object_get(b, "leaf_hash")));
		size_t n = strlen(s);

		static const char abc[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

		CHECK(s[n - 1] == '=' && s[n - 2] != '=');
		s[n - 2] = abc[(strchr(abc, s[n - 2]) - abc) ^ 1];
		json_object_set_new(b, "leaf_hash", json_string(s));
		free(s);
	}
	expect_format(b, "leaf_hash is not a base64 SHA-256 hash");

	/* An entry that is not canonical JSON (a space added). */
	b = make_bundle(&base);
	{
		char *e = entry_get(b);
		char *s = e ? malloc(strlen(e) + 2) : NULL;

		CHECK(s != NULL);
		s[0] = '{';
		s[1] = ' ';
		strcpy(s + 2, e + 1);
		entry_set(b, s);
		free(s);
		free(e);
	}
	expect_format(b, "entry is not a canonical ledger entry");

	/* The entry as text, not base64 of it. */
	b = make_bundle(&base);
	{
		char *e = entry_get(b);

		CHECK(e != NULL);
		json_object_set_new(b, "entry", json_string(e));
		free(e);
	}
	expect_format(b, "entry is not base64");

	b = make_bundle(&base);
	json_object_set_new(json_object_get(b, "certificates"), "tsa", json_string("nope"));
	expect_format(b, "certificates.tsa is not one PEM certificate");

	b = make_bundle(&base);
	json_object_del(json_object_get(b, "sth"), "signature");
	expect_format(b, "sth is not");
}

static void
test_refusal_entry(void)
{
	struct spec s = base;
	json_t *b = make_bundle(&s);
	char *copy, *p;

	CHECK(b != NULL);
	copy = entry_get(b);
	CHECK(copy != NULL && (p = strstr(copy, "\"result\":\"ok\"")) != NULL);
	memcpy(p + 10, "no", 2);
	entry_set(b, copy);
	free(copy);
	expect_format(b, "not a successful signature");
}

static void
test_arguments(void)
{
	STACK_OF(X509) *none = sk_X509_new_null();

	CHECK_RC(evidence_verify(NULL, 0, anchors, &res), SB_EINVAL);
	CHECK_RC(evidence_verify("{}", 2, NULL, &res), SB_EINVAL);
	CHECK_RC(evidence_verify("{}", 2, none, &res), SB_EINVAL);
	sk_X509_free(none);
	CHECK_RC(evidence_verify("{}", 2, anchors, NULL), SB_EINVAL);
}

int
main(void)
{
	if (world_new() != 0) {
		ERR_print_errors_fp(stdout);
		printf("not ok - test setup: keys and certificates\n");
		return 1;
	}
	RUN(test_valid, "a bundle made as the API describes passes every check");
	RUN(test_valid_shapes, "inclusion proofs from the naive RFC 9162 tree verify "
	    "at the first, last and middle leaves of trees of 1 to 33 entries");
	RUN(test_entry_byte_changed, "an entry with one byte changed fails the leaf hash "
	    "and the inclusion proof");
	RUN(test_wrong_leaf_hash, "a wrong leaf_hash fails only the leaf hash check");
	RUN(test_proof_element_flipped, "a flipped bit in a proof element fails only the "
	    "inclusion proof");
	RUN(test_proof_wrong_length, "a proof one element short fails the inclusion proof");
	RUN(test_sth_signature_wrong, "a tree head signature with one bit flipped fails "
	    "the tree head check");
	RUN(test_sth_signed_by_other_key, "a tree head signed by another key than the "
	    "audit certificate's fails the tree head check");
	RUN(test_sth_root_wrong, "a changed tree head root fails its signature and the "
	    "inclusion proof");
	RUN(test_cms_other_key, "a CMS by another key (a certificate of the same CA) "
	    "fails the CMS check");
	RUN(test_cms_other_document, "a CMS over another document than the entry's "
	    "digest fails the CMS check with digest_mismatch");
	RUN(test_cms_replaced, "a CMS swapped in from elsewhere fails the signature "
	    "digest check");
	RUN(test_cms_replaced_entry_without_cms, "with no CMS in the entry, a swapped CMS "
	    "fails the signature digest check");
	RUN(test_audit_cert_other_ca, "an audit certificate from another CA fails the "
	    "certificate check naming it");
	RUN(test_seal_cert_other_ca, "a seal certificate for the right key from another "
	    "CA fails the certificate and CMS checks");
	RUN(test_other_trust_anchor, "against another trust anchor the certificates, "
	    "CMS and timestamp fail");
	RUN(test_signature_digest_mismatch, "an entry whose signature_digest is not the "
	    "CMS's fails only that check");
	RUN(test_no_timestamp, "a CMS without a timestamp token fails the timestamp check");
	RUN(test_timestamp_other_tsa, "a token from another TSA than the bundle names "
	    "fails the timestamp check");
	RUN(test_malformed, "malformed bundles fail the format check and nothing else runs");
	RUN(test_refusal_entry, "an entry of a refusal is not evidence of a signature");
	RUN(test_arguments, "NULL arguments and an empty anchor list are SB_EINVAL");
	world_free();
	return check_done();
}
