/*
 * evidence — offline verification of an evidence bundle. See evidence.h.
 *
 * The bundle is parsed whole first (strictly: a bundle with a key we do not
 * know claims something we would not check), then each check runs on its
 * own, so that one tampering shows as the check it breaks and the others
 * still report. The Merkle, tree-head and CMS code is the appliance's own
 * (daemon/ledger, daemon/formats): the client checks with exactly the rules
 * the daemon signs by. Only the timestamp's signer identity is checked here,
 * because cms_verify_digest accepts any TSA the trust store vouches for and
 * the bundle names one.
 */
#include <stdarg.h>
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

#include "codec.h"
#include "daemon/formats/cms.h"
#include "daemon/ledger/ledger.h"
#include "daemon/ledger/merkle.h"
#include "evidence.h"
#include "lib/err.h"

#define ANCHORS_MAX 64
#define PEM_MAX (1024 * 1024)
#define CERT_PEM_MAX 65536

enum { C_SEAL, C_AUDIT, C_TSA, C_CA, NCERTS };
static const char *const cert_names[NCERTS] = { "seal", "audit", "tsa", "ca" };

struct bundle {
	uint64_t seq;
	uint8_t *entry;			/* the stored bytes, decoded; malloc'd */
	size_t entry_len;
	uint64_t entry_time;
	json_t *entry_obj;
	uint8_t leaf[MERKLE_HASH_LEN];
	uint64_t proof_size;
	uint8_t path[MERKLE_MAX_PATH * MERKLE_HASH_LEN];
	size_t npath;
	struct ledger_sth sth;
	uint8_t *cms;
	size_t cms_len;
	X509 *cert[NCERTS];
	int md_nid;
	uint8_t doc_digest[EVP_MAX_MD_SIZE];
	size_t doc_len;
	uint8_t sig_digest[32];
};

const char *
evidence_check_name(enum evidence_check c)
{
	switch (c) {
	case EVIDENCE_FORMAT:		return "bundle";
	case EVIDENCE_CERTS:		return "certificates chain to the trust anchor";
	case EVIDENCE_STH:		return "tree head signature";
	case EVIDENCE_LEAF:		return "leaf hash";
	case EVIDENCE_INCLUSION:	return "inclusion proof";
	case EVIDENCE_SIG_DIGEST:	return "signature digest";
	case EVIDENCE_CMS:		return "CMS signature";
	case EVIDENCE_TIMESTAMP:	return "timestamp token";
	default:			return "unknown check";
	}
}

static void __attribute__((format(printf, 3, 4)))
result(struct evidence_result *r, enum evidence_check c, const char *fmt, ...)
{
	va_list ap;

	r->ran[c] = 1;
	r->ok[c] = fmt == NULL;
	r->detail[c][0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(r->detail[c], sizeof(r->detail[c]), fmt, ap);
		va_end(ap);
	}
}

static void
bundle_clear(struct bundle *b)
{
	for (int i = 0; i < NCERTS; i++)
		X509_free(b->cert[i]);
	free(b->cms);
	free(b->entry);
	json_decref(b->entry_obj);
	memset(b, 0, sizeof(*b));
}

/* Only the keys in allowed (NULL-ended); why names the first other one. */
static int
only_keys(const json_t *o, const char *const *allowed, const char *where,
    char *why, size_t n)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		size_t i;

		(void)v;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			char s[64];

			snprintf(why, n, "%s has an unknown key '%s'", where,
			    codec_safe(s, sizeof(s), k));
			return -1;
		}
	}
	return 0;
}

static int
get_u64(const json_t *o, const char *key, uint64_t *v)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

static const char *
get_str(const json_t *o, const char *key)
{
	json_t *j = json_object_get(o, key);

	return json_is_string(j) ? json_string_value(j) : NULL;
}

/* j is canonical base64 of exactly want bytes. */
static int
b64_fixed(const json_t *j, uint8_t *out, size_t want)
{
	uint8_t *p;
	size_t n;

	if (!json_is_string(j) || codec_b64_decode(json_string_value(j),
	    json_string_length(j), want, &p, &n) != 0)
		return -1;
	if (n != want) {
		free(p);
		return -1;
	}
	memcpy(out, p, n);
	free(p);
	return 0;
}

/* Exactly one PEM certificate. */
static X509 *
pem_one(const json_t *certs, const char *name)
{
	json_t *j = json_object_get(certs, name);
	X509 *x = NULL, *more;
	BIO *bio;

	if (!json_is_string(j) || json_string_length(j) > CERT_PEM_MAX ||
	    (bio = BIO_new_mem_buf(json_string_value(j), (int)json_string_length(j))) == NULL)
		return NULL;
	if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL &&
	    (more = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		X509_free(more);
		X509_free(x);
		x = NULL;
	}
	BIO_free(bio);
	ERR_clear_error();
	return x;
}

static int
md_of(const char *alg, size_t *len)
{
	if (strcmp(alg, "sha256") == 0)
		return *len = 32, NID_sha256;
	if (strcmp(alg, "sha384") == 0)
		return *len = 48, NID_sha384;
	if (strcmp(alg, "sha512") == 0)
		return *len = 64, NID_sha512;
	return NID_undef;
}

/* The entry: canonical, at the bundle's seq, a successful signature. */
static int
parse_entry(struct bundle *b, char *why, size_t n)
{
	const json_t *dd;
	const char *s, *alg, *val;
	uint64_t seq;

	if (ledger_entry_parse(b->entry, b->entry_len, &seq,
	    &b->entry_time, &b->entry_obj) != 0) {
		snprintf(why, n, "entry is not a canonical ledger entry");
		return -1;
	}
	if (seq != b->seq) {
		snprintf(why, n, "entry is seq %llu, the bundle says %llu",
		    (unsigned long long)seq, (unsigned long long)b->seq);
		return -1;
	}
	if ((s = get_str(b->entry_obj, "action")) == NULL || strcmp(s, "sign") != 0 ||
	    (s = get_str(b->entry_obj, "result")) == NULL || strcmp(s, "ok") != 0) {
		snprintf(why, n, "entry is not a successful signature (action sign, result ok)");
		return -1;
	}
	if (get_str(b->entry_obj, "seal") == NULL || get_str(b->entry_obj, "document_name") == NULL) {
		snprintf(why, n, "entry lacks seal or document_name");
		return -1;
	}
	dd = json_object_get(b->entry_obj, "document_digest");
	if (!json_is_object(dd) || (alg = get_str(dd, "alg")) == NULL ||
	    (val = get_str(dd, "value")) == NULL ||
	    (b->md_nid = md_of(alg, &b->doc_len)) == NID_undef ||
	    codec_unhex(val, b->doc_digest, b->doc_len) != 0) {
		snprintf(why, n, "entry's document_digest is not {alg: sha256|sha384|sha512, value: hex}");
		return -1;
	}
	if ((s = get_str(b->entry_obj, "signature_digest")) == NULL ||
	    codec_unhex(s, b->sig_digest, sizeof(b->sig_digest)) != 0) {
		snprintf(why, n, "entry's signature_digest is not 64 hex digits");
		return -1;
	}
	if (json_object_get(b->entry_obj, "cms") != NULL &&
	    get_str(b->entry_obj, "cms") == NULL) {
		snprintf(why, n, "entry's cms is not a string");
		return -1;
	}
	return 0;
}

static int
parse_proof(const json_t *inc, struct bundle *b, char *why, size_t n)
{
	static const char *const keys[] = { "tree_size", "path", NULL };
	const json_t *path = json_object_get(inc, "path");
	size_t i;

	if (!json_is_object(inc) || only_keys(inc, keys, "inclusion", why, n) != 0 ||
	    get_u64(inc, "tree_size", &b->proof_size) != 0 || !json_is_array(path) ||
	    json_array_size(path) > MERKLE_MAX_PATH) {
		if (why[0] == '\0')
			snprintf(why, n, "inclusion is not {tree_size, path: [at most %d hashes]}",
			    MERKLE_MAX_PATH);
		return -1;
	}
	b->npath = json_array_size(path);
	for (i = 0; i < b->npath; i++) {
		if (b64_fixed(json_array_get(path, i), b->path + i * MERKLE_HASH_LEN,
		    MERKLE_HASH_LEN) != 0) {
			snprintf(why, n, "inclusion path[%zu] is not a base64 SHA-256 hash", i);
			return -1;
		}
	}
	return 0;
}

static int
parse_certs(const json_t *certs, struct bundle *b, char *why, size_t n)
{
	static const char *const keys[] = { "seal", "audit", "tsa", "ca", NULL };

	if (!json_is_object(certs) || only_keys(certs, keys, "certificates", why, n) != 0) {
		if (why[0] == '\0')
			snprintf(why, n, "certificates is not an object");
		return -1;
	}
	for (int i = 0; i < NCERTS; i++)
		if ((b->cert[i] = pem_one(certs, cert_names[i])) == NULL) {
			snprintf(why, n, "certificates.%s is not one PEM certificate",
			    cert_names[i]);
			return -1;
		}
	return 0;
}

/* Everything the checks need, or why not. */
static int
bundle_parse(const char *json, size_t len, struct bundle *b, char *why, size_t n)
{
	static const char *const keys[] = { "version", "seq", "entry", "leaf_hash",
	    "inclusion", "sth", "cms", "certificates", NULL };
	json_error_t jerr;
	json_t *root, *j;
	uint64_t version;
	int rc = -1;

	why[0] = '\0';
	if (len > EVIDENCE_MAX_BYTES) {
		snprintf(why, n, "larger than %d bytes", EVIDENCE_MAX_BYTES);
		return -1;
	}
	if ((root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(why, n, "not JSON: line %d: %s", jerr.line, jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(why, n, "not a JSON object");
		goto out;
	}
	if (only_keys(root, keys, "the bundle", why, n) != 0)
		goto out;
	if (get_u64(root, "version", &version) != 0 || version != 1) {
		snprintf(why, n, "version is not 1");
		goto out;
	}
	if (get_u64(root, "seq", &b->seq) != 0) {
		snprintf(why, n, "seq is not an integer");
		goto out;
	}
	j = json_object_get(root, "entry");
	if (!json_is_string(j) || codec_b64_decode(json_string_value(j), json_string_length(j),
	    LEDGER_ENTRY_MAX, &b->entry, &b->entry_len) != 0 || b->entry_len == 0) {
		snprintf(why, n, "entry is not base64 of 1 to %d bytes", LEDGER_ENTRY_MAX);
		goto out;
	}
	if (b64_fixed(json_object_get(root, "leaf_hash"), b->leaf, MERKLE_HASH_LEN) != 0) {
		snprintf(why, n, "leaf_hash is not a base64 SHA-256 hash");
		goto out;
	}
	if (parse_proof(json_object_get(root, "inclusion"), b, why, n) != 0)
		goto out;
	if (ledger_sth_from_json(json_object_get(root, "sth"), &b->sth) != 0) {
		snprintf(why, n, "sth is not {tree_size, timestamp, root_hash, signature}");
		goto out;
	}
	j = json_object_get(root, "cms");
	if (!json_is_string(j) || codec_b64_decode(json_string_value(j),
	    json_string_length(j), CMS_DER_MAX, &b->cms, &b->cms_len) != 0 || b->cms_len == 0) {
		snprintf(why, n, "cms is not base64 of at most %d bytes", CMS_DER_MAX);
		goto out;
	}
	if (parse_certs(json_object_get(root, "certificates"), b, why, n) != 0)
		goto out;
	if (b->proof_size != b->sth.tree_size) {
		snprintf(why, n, "the proof is for tree size %llu, the tree head is size %llu",
		    (unsigned long long)b->proof_size, (unsigned long long)b->sth.tree_size);
		goto out;
	}
	if (b->seq >= b->sth.tree_size) {
		snprintf(why, n, "seq %llu is not in a tree of %llu entries",
		    (unsigned long long)b->seq, (unsigned long long)b->sth.tree_size);
		goto out;
	}
	if (parse_entry(b, why, n) != 0)
		goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static X509_STORE *
store_of(STACK_OF(X509) *anchors, time_t at)
{
	X509_STORE *st = X509_STORE_new();

	if (st == NULL)
		return NULL;
	for (int i = 0; i < sk_X509_num(anchors); i++)
		if (X509_STORE_add_cert(st, sk_X509_value(anchors, i)) != 1) {
			X509_STORE_free(st);
			return NULL;
		}
	/* Any certificate the user hands us is an anchor, root or not. */
	X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
	if (at != 0)
		X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(st), at);
	return st;
}

static int
check_certs(const struct bundle *b, STACK_OF(X509) *anchors, struct evidence_result *r)
{
	X509_STORE *st = store_of(anchors, (time_t)(b->entry_time / 1000));
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	char bad[EVIDENCE_DETAIL_MAX] = "";
	size_t o = 0;
	int rc = 0;

	if (st == NULL || untrusted == NULL || sk_X509_push(untrusted, b->cert[C_CA]) <= 0) {
		rc = SB_ENOMEM;
		goto out;
	}
	for (int i = 0; i < NCERTS; i++) {
		X509_STORE_CTX *c = X509_STORE_CTX_new();
		int ok, err = X509_V_ERR_UNSPECIFIED;

		if (c == NULL || X509_STORE_CTX_init(c, st, b->cert[i], untrusted) != 1) {
			X509_STORE_CTX_free(c);
			rc = SB_ENOMEM;
			goto out;
		}
		ok = X509_verify_cert(c) == 1;
		if (!ok)
			err = X509_STORE_CTX_get_error(c);
		X509_STORE_CTX_free(c);
		if (!ok && o < sizeof(bad))
			o += (size_t)snprintf(bad + o, sizeof(bad) - o, "%s%s: %s",
			    o ? "; " : "", cert_names[i], X509_verify_cert_error_string(err));
	}
	if (bad[0] != '\0')
		result(r, EVIDENCE_CERTS, "%s", bad);
	else
		result(r, EVIDENCE_CERTS, NULL);
out:
	sk_X509_free(untrusted);
	X509_STORE_free(st);
	ERR_clear_error();
	return rc;
}

static void
check_sth(const struct bundle *b, struct evidence_result *r)
{
	EVP_PKEY *pub = X509_get0_pubkey(b->cert[C_AUDIT]);

	if (pub == NULL || ledger_sth_verify(&b->sth, pub) != 0)
		result(r, EVIDENCE_STH,
		    "the tree head's signature does not verify with the audit certificate's key");
	else
		result(r, EVIDENCE_STH, NULL);
	ERR_clear_error();
}

static int
check_merkle(const struct bundle *b, struct evidence_result *r)
{
	uint8_t leaf[MERKLE_HASH_LEN];
	int rc;

	if ((rc = merkle_leaf_hash(b->entry, b->entry_len, leaf)) != 0)
		return rc;
	if (memcmp(leaf, b->leaf, sizeof(leaf)) != 0)
		result(r, EVIDENCE_LEAF, "leaf_hash is not SHA-256(0x00 || entry)");
	else
		result(r, EVIDENCE_LEAF, NULL);
	/* From the entry itself: the bundle's leaf_hash proves nothing. */
	if (merkle_inclusion_verify(leaf, b->seq, b->sth.tree_size, b->path, b->npath,
	    b->sth.root) != 0)
		result(r, EVIDENCE_INCLUSION, "the proof does not lead from entry %llu "
		    "to the root of the tree head (size %llu)", (unsigned long long)b->seq,
		    (unsigned long long)b->sth.tree_size);
	else
		result(r, EVIDENCE_INCLUSION, NULL);
	return 0;
}

static int
check_sig_digest(const struct bundle *b, struct evidence_result *r)
{
	uint8_t d[32];
	char hex[65], want[65];

	const char *ecms = get_str(b->entry_obj, "cms");
	uint8_t *e = NULL;
	size_t en = 0;
	int same;

	if (EVP_Digest(b->cms, b->cms_len, d, NULL, EVP_sha256(), NULL) != 1)
		return SB_ENOMEM;
	/* The ledger keeps the CMS in the entry too: it must be this one. */
	if (ecms != NULL) {
		int rc = codec_b64_decode(ecms, strlen(ecms), CMS_DER_MAX, &e, &en);

		if (rc == SB_ENOMEM)
			return rc;
		same = rc == 0 && en == b->cms_len && memcmp(e, b->cms, en) == 0;
		free(e);
		if (!same) {
			result(r, EVIDENCE_SIG_DIGEST, "the entry's cms is not the bundle's cms");
			return 0;
		}
	}
	if (memcmp(d, b->sig_digest, sizeof(d)) != 0) {
		codec_hex(d, sizeof(d), hex);
		codec_hex(b->sig_digest, sizeof(d), want);
		result(r, EVIDENCE_SIG_DIGEST, "SHA-256 of the CMS is %.16s..., "
		    "the entry's signature_digest is %.16s...", hex, want);
	} else {
		result(r, EVIDENCE_SIG_DIGEST, NULL);
	}
	return 0;
}

static int
check_cms(const struct bundle *b, STACK_OF(X509) *anchors, struct evidence_result *r)
{
	X509_STORE *st = store_of(anchors, 0);
	struct cms_verify_result v;
	int rc;

	if (st == NULL)
		return SB_ENOMEM;
	rc = cms_verify_digest(b->cms, b->cms_len, b->md_nid, b->doc_digest, b->doc_len,
	    st, &v);
	X509_STORE_free(st);
	if (rc == SB_ENOMEM)
		return rc;
	if (rc != 0) {
		result(r, EVIDENCE_CMS, "not a DER CMS ContentInfo (%s)", sb_strerror(rc));
		return 0;
	}
	if (!v.valid)
		result(r, EVIDENCE_CMS, "%s: %s", cms_reason_code(v.reason), v.detail);
	else if (v.signer == NULL || X509_cmp(v.signer, b->cert[C_SEAL]) != 0)
		result(r, EVIDENCE_CMS, "signed by a certificate other than the bundle's "
		    "seal certificate");
	else
		result(r, EVIDENCE_CMS, NULL);
	cms_verify_result_clear(&v);
	return 0;
}

/* The token of the CMS's only signer, with the signature value it stamps. */
static PKCS7 *
token_of(const struct bundle *b, CMS_ContentInfo **cmsp, CMS_SignerInfo **sip,
    const char **why)
{
	const unsigned char *p = b->cms;
	STACK_OF(CMS_SignerInfo) *sis;
	X509_ATTRIBUTE *a;
	ASN1_STRING *seq;
	PKCS7 *p7;
	int i;

	*why = "the CMS cannot be parsed";
	if ((*cmsp = d2i_CMS_ContentInfo(NULL, &p, (long)b->cms_len)) == NULL)
		return NULL;
	*why = "the CMS has not exactly one signer";
	if ((sis = CMS_get0_SignerInfos(*cmsp)) == NULL || sk_CMS_SignerInfo_num(sis) != 1)
		return NULL;
	*sip = sk_CMS_SignerInfo_value(sis, 0);
	*why = "the CMS has no signature-time-stamp token";
	if ((i = CMS_unsigned_get_attr_by_NID(*sip, NID_id_smime_aa_timeStampToken, -1)) < 0)
		return NULL;
	*why = "the CMS's signature-time-stamp attribute is malformed";
	if (CMS_unsigned_get_attr_by_NID(*sip, NID_id_smime_aa_timeStampToken, i) >= 0 ||
	    (a = CMS_unsigned_get_attr(*sip, i)) == NULL || X509_ATTRIBUTE_count(a) != 1 ||
	    (seq = X509_ATTRIBUTE_get0_data(a, 0, V_ASN1_SEQUENCE, NULL)) == NULL)
		return NULL;
	p = ASN1_STRING_get0_data(seq);
	if ((p7 = d2i_PKCS7(NULL, &p, ASN1_STRING_length(seq))) == NULL)
		return NULL;
	return p7;
}

/* A verify context: imprint over the signature value, store, TSA's certs. */
static TS_VERIFY_CTX *
token_ctx(const struct bundle *b, CMS_SignerInfo *si, const TS_TST_INFO *tst,
    STACK_OF(X509) *anchors)
{
	const X509_ALGOR *alg = TS_MSG_IMPRINT_get_algo(
	    TS_TST_INFO_get_msg_imprint((TS_TST_INFO *)tst));
	const EVP_MD *md = EVP_get_digestbyobj(alg->algorithm);
	const ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
	struct tm tm;
	TS_VERIFY_CTX *vc = NULL;
	STACK_OF(X509) *certs = NULL;
	X509_STORE *st = NULL;
	unsigned char *imp = NULL;
	unsigned int ilen;
	time_t at = 0;

	if (md == NULL || (imp = OPENSSL_malloc(EVP_MAX_MD_SIZE)) == NULL ||
	    EVP_Digest(ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig), imp,
	    &ilen, md, NULL) != 1)
		goto fail;
	/* The TSA certificate must have been valid when it stamped. */
	if (ASN1_TIME_to_tm(TS_TST_INFO_get_time(tst), &tm) == 1)
		at = timegm(&tm);
	if ((st = store_of(anchors, at)) == NULL || (certs = sk_X509_new_null()) == NULL ||
	    (vc = TS_VERIFY_CTX_new()) == NULL)
		goto fail;
	for (int i = C_TSA; i <= C_CA; i++)
		if (X509_up_ref(b->cert[i]) != 1 || sk_X509_push(certs, b->cert[i]) <= 0)
			goto fail;
	TS_VERIFY_CTX_set_flags(vc, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT);
	/* OpenSSL 3.0's setters take ownership. */
	TS_VERIFY_CTX_set_imprint(vc, imp, (long)ilen);
	TS_VERIFY_CTX_set_store(vc, st);
	TS_VERIFY_CTX_set_certs(vc, certs);
	return vc;
fail:
	OPENSSL_free(imp);
	X509_STORE_free(st);
	sk_X509_pop_free(certs, X509_free);
	TS_VERIFY_CTX_free(vc);
	return NULL;
}

static int
check_timestamp(const struct bundle *b, STACK_OF(X509) *anchors, struct evidence_result *r)
{
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si = NULL;
	STACK_OF(X509) *tsa = NULL, *signers = NULL;
	TS_VERIFY_CTX *vc = NULL;
	TS_TST_INFO *tst = NULL;
	const char *why;
	PKCS7 *p7;

	if ((p7 = token_of(b, &cms, &si, &why)) == NULL ||
	    (tst = PKCS7_to_TS_TST_INFO(p7)) == NULL) {
		result(r, EVIDENCE_TIMESTAMP, "%s", p7 ? "the token holds no TSTInfo" : why);
		goto out;
	}
	/* Signed by the bundle's TSA certificate, not merely by some TSA. */
	if ((tsa = sk_X509_new_null()) == NULL || sk_X509_push(tsa, b->cert[C_TSA]) <= 0)
		goto out;
	signers = PKCS7_get0_signers(p7, tsa, 0);
	if (signers == NULL || sk_X509_num(signers) != 1 ||
	    X509_cmp(sk_X509_value(signers, 0), b->cert[C_TSA]) != 0) {
		result(r, EVIDENCE_TIMESTAMP, "the token is not signed by the bundle's TSA certificate");
		goto out;
	}
	if ((vc = token_ctx(b, si, tst, anchors)) == NULL)
		goto out;
	if (TS_RESP_verify_token(vc, p7) != 1) {
		const char *data = NULL, *reason;
		int fl = 0;
		unsigned long code = ERR_peek_last_error_data(&data, &fl);

		reason = code ? ERR_reason_error_string(code) : NULL;
		if (!(fl & ERR_TXT_STRING) || data == NULL)
			data = "";
		result(r, EVIDENCE_TIMESTAMP, "the token does not verify: %s%s%s",
		    reason ? reason : "no detail", *data ? ": " : "", data);
		goto out;
	}
	result(r, EVIDENCE_TIMESTAMP, NULL);
out:
	if (!r->ran[EVIDENCE_TIMESTAMP])
		result(r, EVIDENCE_TIMESTAMP, "cannot check the token (out of memory?)");
	sk_X509_free(signers);
	sk_X509_free(tsa);
	TS_VERIFY_CTX_free(vc);
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return 0;
}

static void
summarize(const struct bundle *b, struct evidence_result *r)
{
	const json_t *dd = json_object_get(b->entry_obj, "document_digest");
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	r->seq = b->seq;
	r->tree_size = b->sth.tree_size;
	r->sth_timestamp = b->sth.timestamp;
	r->entry_time = b->entry_time;
	codec_safe(r->seal, sizeof(r->seal), get_str(b->entry_obj, "seal"));
	codec_safe(r->document_name, sizeof(r->document_name),
	    get_str(b->entry_obj, "document_name"));
	codec_hex(b->doc_digest, b->doc_len, hex);
	snprintf(r->document_digest, sizeof(r->document_digest), "%s:%s",
	    get_str(dd, "alg"), hex);
}

int
evidence_verify(const char *json, size_t len, STACK_OF(X509) *anchors,
    struct evidence_result *out)
{
	struct bundle *b;
	char why[EVIDENCE_DETAIL_MAX];
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (json == NULL || out == NULL || anchors == NULL || sk_X509_num(anchors) < 1)
		return SB_EINVAL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return SB_ENOMEM;
	if (bundle_parse(json, len, b, why, sizeof(why)) != 0) {
		result(out, EVIDENCE_FORMAT, "%s", why);
		bundle_clear(b);
		free(b);
		return 0;
	}
	result(out, EVIDENCE_FORMAT, NULL);
	summarize(b, out);
	if ((rc = check_certs(b, anchors, out)) == 0) {
		check_sth(b, out);
		if ((rc = check_merkle(b, out)) == 0 && (rc = check_sig_digest(b, out)) == 0 &&
		    (rc = check_cms(b, anchors, out)) == 0)
			rc = check_timestamp(b, anchors, out);
	}
	bundle_clear(b);
	free(b);
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	out->all_ok = 1;
	for (int i = 0; i < EVIDENCE_NCHECKS; i++)
		if (!out->ran[i] || !out->ok[i])
			out->all_ok = 0;
	return 0;
}

int
evidence_load_pem_certs(const char *path, STACK_OF(X509) **out, char *err, size_t errlen)
{
	STACK_OF(X509) *sk;
	uint8_t *data;
	size_t n;
	BIO *bio;
	X509 *x;
	int rc;

	*out = NULL;
	if ((rc = codec_read_file(path, PEM_MAX, &data, &n, err, errlen)) != 0)
		return rc;
	if ((sk = sk_X509_new_null()) == NULL ||
	    (bio = BIO_new_mem_buf(data, (int)n)) == NULL) {
		sk_X509_free(sk);
		free(data);
		return SB_ENOMEM;
	}
	while (sk_X509_num(sk) <= ANCHORS_MAX &&
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			rc = SB_ENOMEM;
			break;
		}
	BIO_free(bio);
	free(data);
	ERR_clear_error();
	if (rc == 0 && (sk_X509_num(sk) == 0 || sk_X509_num(sk) > ANCHORS_MAX)) {
		snprintf(err, errlen, "%s: %s", path, sk_X509_num(sk) == 0 ?
		    "no PEM certificate in it" : "more than 64 certificates");
		rc = SB_EINVAL;
	}
	if (rc != 0) {
		sk_X509_pop_free(sk, X509_free);
		return rc;
	}
	*out = sk;
	return 0;
}
