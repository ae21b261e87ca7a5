/*
 * daemon/formats: RFC 3161 (tsa) and CAdES-B-T CMS (cms) with keys in a
 * throwaway SoftHSM token and certificates from hsm/ca.
 *
 * What the code makes is checked with OpenSSL's own verifiers (CMS_verify
 * over the real document, TS_RESP_verify_response against the query) as
 * well as with cms_verify_digest, and the structures are read back through
 * OpenSSL's accessors, not through anything in the code under test. The
 * clock on build machines reports unsynchronised, so the TSA here runs with
 * require_sync off except where the refusal is the point.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <valgrind/valgrind.h>

#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "fixture.h"
#pragma GCC diagnostic pop
#include "check.h"
#include "daemon/formats/cms.h"
#include "daemon/formats/sd.h"
#include "daemon/formats/tsa.h"
#include "hsm/ca.h"
#include "hsm/hsm.h"
#include "lib/err.h"
#include "lib/log.h"

#define LABEL "sbx-formats"
#define POLICY "1.3.6.1.4.1.99999.1.1"
#define DOC "The quick brown fox jumps over the lazy dog.\n"

static struct fixture fx;
static struct hsm *H;
static uint8_t ca_id[HSM_ID_LEN], tsa_id[HSM_ID_LEN], other_id[HSM_ID_LEN];
static X509 *root, *other_root, *tsa_cert;
static X509_STORE *trust, *other_trust;
static struct tsa *T;

static const struct {
	enum hsm_key_type type;
	int md_nid;		/* the digest each seal is tested with */
} seal_types[4] = {
	{ HSM_KEY_EC_P256, NID_sha256 },
	{ HSM_KEY_EC_P384, NID_sha384 },
	{ HSM_KEY_RSA_2048, NID_sha256 },
	{ HSM_KEY_RSA_3072, NID_sha512 },
};
static uint8_t seal_id[4][HSM_ID_LEN];
static X509 *seal_cert[4];

/* ---- helpers ------------------------------------------------------------- */

static int
slow_type(enum hsm_key_type t)
{
	/* SoftHSM RSA key generation takes tens of seconds under valgrind. */
	return RUNNING_ON_VALGRIND && (t == HSM_KEY_RSA_2048 || t == HSM_KEY_RSA_3072);
}

static size_t
hash(int md_nid, const void *data, size_t len, uint8_t *out)
{
	unsigned int n = 0;

	EVP_Digest(data, len, out, &n, EVP_get_digestbynid(md_nid), NULL);
	return n;
}

static X509_STORE *
store_of(X509 *anchor)
{
	X509_STORE *s = X509_STORE_new();

	if (s != NULL && X509_STORE_add_cert(s, anchor) != 1) {
		X509_STORE_free(s);
		return NULL;
	}
	return s;
}

static int
fake_unsynced(void)
{
	return 0;
}

static int
fake_synced(void)
{
	return 1;
}

struct query {
	int md_nid;
	size_t imprint_len;	/* 0: the digest's own length */
	int with_nonce;
	int cert_req;
	const char *policy;	/* NULL: none asked for */
	long version;		/* 0: 1 */
	int with_ext;
};

/* A DER TimeStampReq built with OpenSSL's TS_REQ API; *req keeps it. */
static int
make_query(const struct query *q, TS_REQ **req, uint8_t **der, size_t *len)
{
	uint8_t dg[EVP_MAX_MD_SIZE];
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = NULL;
	ASN1_OBJECT *pol = NULL;
	X509_EXTENSION *ext = NULL;
	BIGNUM *bn = NULL;
	size_t dlen;
	int n, ok;

	*req = TS_REQ_new();
	*der = NULL;
	dlen = hash(q->md_nid, DOC, strlen(DOC), dg);
	if (q->imprint_len)
		dlen = q->imprint_len;
	ok = mi != NULL && alg != NULL && *req != NULL &&
	    X509_ALGOR_set0(alg, OBJ_nid2obj(q->md_nid), V_ASN1_NULL, NULL) == 1 &&
	    TS_MSG_IMPRINT_set_algo(mi, alg) == 1 &&
	    TS_MSG_IMPRINT_set_msg(mi, dg, (int)dlen) == 1 &&
	    TS_REQ_set_version(*req, q->version ? q->version : 1) == 1 &&
	    TS_REQ_set_msg_imprint(*req, mi) == 1 &&
	    TS_REQ_set_cert_req(*req, q->cert_req) == 1;
	if (ok && q->with_nonce) {
		ok = (bn = BN_new()) != NULL && BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
		    (nonce = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
		    TS_REQ_set_nonce(*req, nonce) == 1;
	}
	if (ok && q->policy != NULL)
		ok = (pol = OBJ_txt2obj(q->policy, 1)) != NULL && TS_REQ_set_policy_id(*req, pol) == 1;
	if (ok && q->with_ext) {
		ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();

		ok = v != NULL && ASN1_OCTET_STRING_set(v, (const unsigned char *)"\x05\x00", 2) &&
		    (ext = X509_EXTENSION_create_by_NID(NULL, NID_id_pkix_OCSP_Nonce, 0, v)) != NULL &&
		    TS_REQ_add_ext(*req, ext, -1) == 1;
		ASN1_OCTET_STRING_free(v);
	}
	if (ok && (n = i2d_TS_REQ(*req, der)) > 0)
		*len = (size_t)n;
	else
		ok = 0;
	X509_EXTENSION_free(ext);
	ASN1_OBJECT_free(pol);
	ASN1_INTEGER_free(nonce);
	BN_free(bn);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	if (!ok) {
		TS_REQ_free(*req);
		*req = NULL;
	}
	return ok;
}

/* Respond to der and parse the reply; NULL when tsa_respond failed. */
static TS_RESP *
respond(const uint8_t *der, size_t len)
{
	uint8_t *reply = NULL;
	size_t rlen = 0;
	const unsigned char *p;
	TS_RESP *r = NULL;

	if (tsa_respond(T, der, len, &reply, &rlen) != 0)
		return NULL;
	p = reply;
	r = d2i_TS_RESP(NULL, &p, (long)rlen);
	if (r != NULL && p != reply + rlen) {
		TS_RESP_free(r);
		r = NULL;
	}
	free(reply);
	return r;
}

static long
status_of(TS_RESP *r)
{
	return ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(r)));
}

/* A rejection with exactly this failure bit (and a token-less reply). */
static int
rejected_with(TS_RESP *r, int bit)
{
	const ASN1_BIT_STRING *fi;

	if (r == NULL || status_of(r) != TS_STATUS_REJECTION || TS_RESP_get_token(r) != NULL)
		return 0;
	fi = TS_STATUS_INFO_get0_failure_info(TS_RESP_get_status_info(r));
	if (fi == NULL || ASN1_BIT_STRING_get_bit(fi, bit) != 1)
		return 0;
	for (int i = 0; i < 32; i++)
		if (i != bit && ASN1_BIT_STRING_get_bit(fi, i) == 1)
			return 0;
	return 1;
}

/* OpenSSL's own check of a reply against its query, under trust. */
static int
ts_verify(TS_REQ *req, TS_RESP *resp, X509 *untrusted)
{
	TS_VERIFY_CTX *vc = TS_REQ_to_TS_VERIFY_CTX(req, NULL);
	STACK_OF(X509) *certs = NULL;
	int ok;

	if (vc == NULL)
		return 0;
	X509_STORE_up_ref(trust);
	TS_VERIFY_CTX_set_store(vc, trust);
	if (untrusted != NULL) {
		certs = sk_X509_new_null();
		X509_up_ref(untrusted);
		sk_X509_push(certs, untrusted);
		TS_VERIFY_CTX_set_certs(vc, certs);
	}
	TS_VERIFY_CTX_add_flags(vc, TS_VFY_SIGNATURE);
	ok = TS_RESP_verify_response(vc, resp) == 1;
	ERR_clear_error();
	TS_VERIFY_CTX_free(vc);
	return ok;
}

/* A certificate for an HSM key that expired yesterday, signed by a software
 * key (hsm/ca cannot backdate); with the critical timeStamping EKU if tsa. */
static X509 *
expired_cert(const uint8_t *id, int tsa)
{
	EVP_PKEY *pub = NULL, *sw = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_EXTENSION *ext = NULL;
	X509 *x = X509_new();
	X509V3_CTX v3;
	int ok = sw != NULL && x != NULL && hsm_key_public(H, id, HSM_ID_LEN, &pub) == 0 &&
	    X509_set_version(x, X509_VERSION_3) == 1 && X509_set_pubkey(x, pub) == 1 &&
	    X509_set_subject_name(x, X509_get_subject_name(root)) == 1 &&
	    X509_set_issuer_name(x, X509_get_subject_name(root)) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -2 * 86400) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), -86400) != NULL;

	if (ok && tsa) {
		X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
		ok = (ext = X509V3_EXT_nconf_nid(NULL, &v3, NID_ext_key_usage,
		    "critical,timeStamping")) != NULL && X509_add_ext(x, ext, -1) == 1;
	}
	ok = ok && X509_sign(x, sw, EVP_sha256()) > 0;
	X509_EXTENSION_free(ext);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(sw);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static CMS_ContentInfo *
parse_cms(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;

	return d2i_CMS_ContentInfo(NULL, &p, (long)len);
}

static uint8_t *
encode_cms(CMS_ContentInfo *cms, size_t *len)
{
	uint8_t *der = NULL;
	int n = i2d_CMS_ContentInfo(cms, &der);

	*len = n > 0 ? (size_t)n : 0;
	return n > 0 ? der : NULL;
}

/* Sign DOC with seal k (its own md); *der malloc'd. */
static int
seal_doc(int k, struct tsa *tsa, STACK_OF(X509) *chain, uint8_t **der, size_t *len)
{
	uint8_t dg[EVP_MAX_MD_SIZE];
	size_t dlen = hash(seal_types[k].md_nid, DOC, strlen(DOC), dg);

	return cms_sign_digest(H, seal_id[k], HSM_ID_LEN, seal_cert[k], chain,
	    seal_types[k].md_nid, dg, dlen, tsa, der, len);
}

static int
verify_doc(int k, const uint8_t *der, size_t len, X509_STORE *st,
    struct cms_verify_result *res)
{
	uint8_t dg[EVP_MAX_MD_SIZE];
	size_t dlen = hash(seal_types[k].md_nid, DOC, strlen(DOC), dg);

	return cms_verify_digest(der, len, seal_types[k].md_nid, dg, dlen, st, res);
}

/* ---- setup ---------------------------------------------------------------- */

static void
test_setup(void)
{
	EVP_PKEY *pub = NULL;
	char label[32];

	CHECK(fixture_softhsm_new(&fx) == 0);
	CHECK_RC(hsm_token_init(FIXTURE_MODULE, LABEL, "so-pin-f", "user-pin-f"), 0);
	CHECK_RC(hsm_open(FIXTURE_MODULE, LABEL, &H), 0);
	CHECK_RC(hsm_login(H, "user-pin-f"), 0);
	CHECK_RC(hsm_keygen(H, HSM_KEY_EC_P256, "ca", ca_id), 0);
	CHECK_RC(hsm_keygen(H, HSM_KEY_EC_P256, "other-ca", other_id), 0);
	CHECK_RC(hsm_keygen(H, HSM_KEY_EC_P256, "tsa", tsa_id), 0);
	CHECK_RC(ca_make_root(H, ca_id, HSM_ID_LEN, "Formats Root", "Sealbox Test", 30, &root), 0);
	CHECK_RC(ca_make_root(H, other_id, HSM_ID_LEN, "Other Root", NULL, 30, &other_root), 0);
	CHECK_RC(hsm_key_public(H, tsa_id, HSM_ID_LEN, &pub), 0);
	CHECK_RC(ca_issue(H, ca_id, HSM_ID_LEN, root, pub, "Sealbox TSA", "Sealbox Test",
	    CA_PROFILE_TSA, NULL, 30, &tsa_cert), 0);
	EVP_PKEY_free(pub);
	for (int k = 0; k < 4; k++) {
		if (slow_type(seal_types[k].type)) {
			printf("# %s seal skipped under valgrind\n",
			    hsm_key_type_name(seal_types[k].type));
			continue;
		}
		snprintf(label, sizeof(label), "seal-%s", hsm_key_type_name(seal_types[k].type));
		CHECK_RC(hsm_keygen(H, seal_types[k].type, label, seal_id[k]), 0);
		CHECK_RC(hsm_key_public(H, seal_id[k], HSM_ID_LEN, &pub), 0);
		CHECK_RC(ca_issue(H, ca_id, HSM_ID_LEN, root, pub, label, "Sealbox Test",
		    CA_PROFILE_SEAL, NULL, 30, &seal_cert[k]), 0);
		EVP_PKEY_free(pub);
	}
	CHECK((trust = store_of(root)) != NULL);
	CHECK((other_trust = store_of(other_root)) != NULL);
	CHECK_RC(tsa_new(H, tsa_id, HSM_ID_LEN, tsa_cert, NULL, POLICY, &T), 0);
	tsa_set_require_sync(T, 0);
}

/* ---- tsa ------------------------------------------------------------------ */

static void
test_tsa_new_checks(void)
{
	STACK_OF(X509) *longchain;
	struct tsa *t = (struct tsa *)1;
	int rc;

	CHECK(seal_cert[0] != NULL);
	/* A certificate without the timeStamping EKU. */
	CHECK_RC(tsa_new(H, seal_id[0], HSM_ID_LEN, seal_cert[0], NULL, POLICY, &t), SB_EINVAL);
	CHECK(t == NULL);
	/* The TSA certificate with another key. */
	CHECK_RC(tsa_new(H, ca_id, HSM_ID_LEN, tsa_cert, NULL, POLICY, &t), SB_EINVAL);
	CHECK_RC(tsa_new(H, tsa_id, HSM_ID_LEN, tsa_cert, NULL, "not an oid", &t), SB_EINVAL);
	CHECK_RC(tsa_new(H, tsa_id, HSM_ID_LEN, tsa_cert, NULL, NULL, &t), SB_EINVAL);
	CHECK_RC(tsa_new(NULL, tsa_id, HSM_ID_LEN, tsa_cert, NULL, POLICY, &t), SB_EINVAL);
	CHECK((longchain = sk_X509_new_null()) != NULL);
	for (int i = 0; i <= TSA_CHAIN_MAX; i++)
		sk_X509_push(longchain, root);
	rc = tsa_new(H, tsa_id, HSM_ID_LEN, tsa_cert, longchain, POLICY, &t);
	sk_X509_free(longchain);
	CHECK_RC(rc, SB_ELIMIT);
	tsa_free(NULL);
	/* A TSA whose certificate has expired since issues nothing. */
	{
		X509 *old = expired_cert(tsa_id, 1);
		uint8_t dg[32] = { 0 }, *out = NULL;
		size_t olen;
		int r1 = -1, r2 = -1;

		CHECK(old != NULL);
		rc = tsa_new(H, tsa_id, HSM_ID_LEN, old, NULL, POLICY, &t);
		X509_free(old);
		CHECK_RC(rc, 0);
		tsa_set_require_sync(t, 0);
		r1 = tsa_respond(t, dg, sizeof(dg), &out, &olen);
		r2 = tsa_stamp(t, NID_sha256, dg, 32, &out, &olen);
		tsa_free(t);
		CHECK_RC(r1, SB_ESTATE);
		CHECK_RC(r2, SB_ESTATE);
	}
}

static void
test_tsa_grants(void)
{
	static const int mds[3] = { NID_sha256, NID_sha384, NID_sha512 };
	ASN1_OBJECT *policy = OBJ_txt2obj(POLICY, 1);

	for (int i = 0; i < 3; i++) {
		struct query q = { .md_nid = mds[i], .with_nonce = 1, .cert_req = 1 };
		TS_REQ *req = NULL;
		TS_RESP *resp = NULL;
		TS_TST_INFO *tst;
		uint8_t *der = NULL;
		size_t len;
		int ok;

		CHECK(make_query(&q, &req, &der, &len));
		resp = respond(der, len);
		OPENSSL_free(der);
		ok = resp != NULL && status_of(resp) == TS_STATUS_GRANTED &&
		    (tst = TS_RESP_get_tst_info(resp)) != NULL &&
		    ASN1_INTEGER_cmp(TS_TST_INFO_get_nonce(tst), TS_REQ_get_nonce(req)) == 0 &&
		    OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(tst))->algorithm) == mds[i] &&
		    ASN1_OCTET_STRING_cmp(TS_MSG_IMPRINT_get_msg(TS_TST_INFO_get_msg_imprint(tst)),
		    TS_MSG_IMPRINT_get_msg(TS_REQ_get_msg_imprint(req))) == 0 &&
		    OBJ_cmp(TS_TST_INFO_get_policy_id(tst), policy) == 0 &&
		    TS_TST_INFO_get_tsa(tst) != NULL &&
		    /* certReq: the TSA certificate travels in the token. */
		    sk_X509_num(TS_RESP_get_token(resp)->d.sign->cert) == 1 &&
		    X509_cmp(sk_X509_value(TS_RESP_get_token(resp)->d.sign->cert, 0), tsa_cert) == 0 &&
		    ts_verify(req, resp, NULL);
		TS_RESP_free(resp);
		TS_REQ_free(req);
		if (!ok)
			ASN1_OBJECT_free(policy);
		CHECK(ok);
	}
	ASN1_OBJECT_free(policy);
}

static void
test_tsa_policy_and_certreq(void)
{
	struct query q = { .md_nid = NID_sha256, .policy = POLICY };
	ASN1_OBJECT *want = OBJ_txt2obj(POLICY, 1);
	TS_REQ *req = NULL;
	TS_RESP *resp;
	uint8_t *der = NULL;
	size_t len;
	int ok;

	CHECK(want != NULL);
	CHECK(make_query(&q, &req, &der, &len));
	resp = respond(der, len);
	OPENSSL_free(der);
	/* Our policy asked for by name; no certReq: no certificates; the
	 * reply still verifies when the TSA certificate is supplied. */
	ok = resp != NULL && status_of(resp) == TS_STATUS_GRANTED &&
	    OBJ_cmp(TS_TST_INFO_get_policy_id(TS_RESP_get_tst_info(resp)), want) == 0 &&
	    TS_TST_INFO_get_nonce(TS_RESP_get_tst_info(resp)) == NULL &&
	    sk_X509_num(TS_RESP_get_token(resp)->d.sign->cert) <= 0 &&
	    ts_verify(req, resp, tsa_cert) && !ts_verify(req, resp, NULL);
	ERR_clear_error();
	ASN1_OBJECT_free(want);
	TS_RESP_free(resp);
	TS_REQ_free(req);
	CHECK(ok);
}

static void
test_tsa_serials_unique(void)
{
	enum { N = 12 };
	ASN1_INTEGER *serial[N] = { 0 };
	struct query q = { .md_nid = NID_sha256, .with_nonce = 1 };
	int ok = 1;

	for (int i = 0; i < N && ok; i++) {
		TS_REQ *req = NULL;
		TS_RESP *resp;
		uint8_t *der = NULL;
		size_t len;
		BIGNUM *bn = NULL;

		if (!make_query(&q, &req, &der, &len)) {
			ok = 0;
			break;
		}
		resp = respond(der, len);
		OPENSSL_free(der);
		TS_REQ_free(req);
		if (resp == NULL || status_of(resp) != TS_STATUS_GRANTED) {
			TS_RESP_free(resp);
			ok = 0;
			break;
		}
		serial[i] = ASN1_INTEGER_dup(TS_TST_INFO_get_serial(TS_RESP_get_tst_info(resp)));
		TS_RESP_free(resp);
		bn = ASN1_INTEGER_to_BN(serial[i], NULL);
		if (bn == NULL || BN_is_negative(bn) || BN_num_bits(bn) < 96 || BN_num_bits(bn) > 127)
			ok = 0;
		BN_free(bn);
		for (int j = 0; j < i; j++)
			if (ASN1_INTEGER_cmp(serial[i], serial[j]) == 0)
				ok = 0;
	}
	for (int i = 0; i < N; i++)
		ASN1_INTEGER_free(serial[i]);
	CHECK(ok);
}

static void
test_tsa_rejections(void)
{
	static const uint8_t garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x01, 0xff, 0x00 };
	struct query good = { .md_nid = NID_sha256 };
	struct query sha1 = { .md_nid = NID_sha1 };
	struct query md5 = { .md_nid = NID_md5 };
	struct query shortimp = { .md_nid = NID_sha256, .imprint_len = 20 };
	struct query v2 = { .md_nid = NID_sha256, .version = 2 };
	struct query pol = { .md_nid = NID_sha256, .policy = "1.2.3.4" };
	struct query ext = { .md_nid = NID_sha256, .with_ext = 1 };
	const struct {
		const struct query *q;
		int bit;
	} bad[] = {
		{ &sha1, TS_INFO_BAD_ALG }, { &md5, TS_INFO_BAD_ALG },
		{ &shortimp, TS_INFO_BAD_DATA_FORMAT }, { &v2, TS_INFO_BAD_REQUEST },
		{ &pol, TS_INFO_UNACCEPTED_POLICY }, { &ext, TS_INFO_UNACCEPTED_EXTENSION },
	};
	uint8_t *der = NULL, *big;
	TS_REQ *req = NULL;
	TS_RESP *r;
	size_t len;
	int ok;

	/* Not DER at all, empty, a valid query cut short, a valid query with
	 * trailing bytes... */
	r = respond(garbage, sizeof(garbage));
	ok = rejected_with(r, TS_INFO_BAD_DATA_FORMAT);
	TS_RESP_free(r);
	CHECK(ok);
	r = respond((const uint8_t *)"", 0);
	ok = rejected_with(r, TS_INFO_BAD_DATA_FORMAT);
	TS_RESP_free(r);
	CHECK(ok);
	CHECK(make_query(&good, &req, &der, &len));
	TS_REQ_free(req);
	r = respond(der, len - 3);
	ok = rejected_with(r, TS_INFO_BAD_DATA_FORMAT);
	TS_RESP_free(r);
	/* ...and one over TSA_QUERY_MAX (a valid query padded). */
	big = calloc(1, TSA_QUERY_MAX + 1);
	if (ok && big != NULL) {
		memcpy(big, der, len);
		r = respond(big, TSA_QUERY_MAX + 1);
		ok = rejected_with(r, TS_INFO_BAD_DATA_FORMAT);
		TS_RESP_free(r);
	}
	free(big);
	OPENSSL_free(der);
	CHECK(ok);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(make_query(bad[i].q, &req, &der, &len));
		TS_REQ_free(req);
		r = respond(der, len);
		OPENSSL_free(der);
		ok = rejected_with(r, bad[i].bit);
		if (!ok)
			printf("#   case %zu: not rejected with bit %d\n", i, bad[i].bit);
		TS_RESP_free(r);
		CHECK(ok);
	}
	CHECK_RC(tsa_respond(T, NULL, 1, &der, &len), SB_EINVAL);
	CHECK_RC(tsa_respond(NULL, garbage, 1, &der, &len), SB_EINVAL);
}

static void
test_tsa_clock(void)
{
	struct query q = { .md_nid = NID_sha256, .with_nonce = 1 };
	uint8_t dg[32], *der = NULL, *tok = NULL;
	TS_REQ *req = NULL;
	TS_RESP *r;
	size_t len, tlen;
	int ok;

	printf("# this machine's clock: %s\n", tsa_clock_synced() ? "synchronised" :
	    "unsynchronised");
	memset(dg, 7, sizeof(dg));
	CHECK(make_query(&q, &req, &der, &len));
	TS_REQ_free(req);
	/* Required and unsynced: a timeNotAvailable rejection, no token. */
	tsa_set_clock_fn(T, fake_unsynced);
	tsa_set_require_sync(T, 1);
	r = respond(der, len);
	ok = rejected_with(r, TS_INFO_TIME_NOT_AVAILABLE) && !tsa_time_ok(T) &&
	    tsa_stamp(T, NID_sha256, dg, sizeof(dg), &tok, &tlen) == SB_ESTATE && tok == NULL &&
	    seal_doc(0, T, NULL, &tok, &tlen) == SB_ESTATE && tok == NULL;
	TS_RESP_free(r);
	/* Required and synced; then not required and unsynced: granted. */
	if (ok) {
		tsa_set_clock_fn(T, fake_synced);
		r = respond(der, len);
		ok = r != NULL && status_of(r) == TS_STATUS_GRANTED && tsa_time_ok(T);
		TS_RESP_free(r);
	}
	if (ok) {
		tsa_set_clock_fn(T, fake_unsynced);
		tsa_set_require_sync(T, 0);
		r = respond(der, len);
		ok = r != NULL && status_of(r) == TS_STATUS_GRANTED && tsa_time_ok(T);
		TS_RESP_free(r);
	}
	/* The real clock function, required: follows the machine's state. */
	if (ok) {
		tsa_set_clock_fn(T, NULL);
		tsa_set_require_sync(T, 1);
		r = respond(der, len);
		ok = r != NULL && (tsa_clock_synced() ? status_of(r) == TS_STATUS_GRANTED :
		    rejected_with(r, TS_INFO_TIME_NOT_AVAILABLE));
		TS_RESP_free(r);
	}
	tsa_set_clock_fn(T, NULL);
	tsa_set_require_sync(T, 0);
	OPENSSL_free(der);
	CHECK(ok);
}

static void
test_tsa_stamp(void)
{
	uint8_t dg[48], *tok = NULL;
	const unsigned char *p;
	TS_TST_INFO *tst = NULL;
	PKCS7 *p7 = NULL;
	size_t tlen;
	int ok;

	RAND_bytes(dg, sizeof(dg));
	CHECK_RC(tsa_stamp(T, NID_sha256, dg, 48, &tok, &tlen), SB_EINVAL);
	CHECK_RC(tsa_stamp(T, NID_sha1, dg, 20, &tok, &tlen), SB_EINVAL);
	CHECK_RC(tsa_stamp(T, NID_sha384, dg, 48, &tok, &tlen), 0);
	p = tok;
	ok = (p7 = d2i_PKCS7(NULL, &p, (long)tlen)) != NULL && p == tok + tlen &&
	    (tst = PKCS7_to_TS_TST_INFO(p7)) != NULL &&
	    ASN1_STRING_length(TS_MSG_IMPRINT_get_msg(TS_TST_INFO_get_msg_imprint(tst))) == 48 &&
	    memcmp(ASN1_STRING_get0_data(TS_MSG_IMPRINT_get_msg(
	    TS_TST_INFO_get_msg_imprint(tst))), dg, 48) == 0 &&
	    TS_TST_INFO_get_nonce(tst) == NULL && sk_X509_num(p7->d.sign->cert) == 1;
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	free(tok);
	CHECK(ok);
}

/* ---- cms ------------------------------------------------------------------ */

static int
time_near_now(time_t t)
{
	time_t now = time(NULL);

	return t > now - 120 && t < now + 5;
}

static void
test_cms_each_key_type(void)
{
	for (int k = 0; k < 4; k++) {
		struct cms_verify_result res;
		uint8_t *der = NULL, dg[EVP_MAX_MD_SIZE];
		CMS_ContentInfo *cms;
		BIO *doc;
		size_t len, dlen;
		int ok;

		if (seal_cert[k] == NULL)
			continue;
		CHECK_RC(seal_doc(k, T, NULL, &der, &len), 0);
		/* OpenSSL's own verifier, over the real document. */
		cms = parse_cms(der, len);
		doc = BIO_new_mem_buf(DOC, -1);
		ok = cms != NULL && doc != NULL &&
		    CMS_verify(cms, NULL, trust, doc, NULL, CMS_BINARY | CMS_CADES) == 1;
		if (!ok)
			ERR_print_errors_fp(stdout);
		BIO_free(doc);
		CMS_ContentInfo_free(cms);
		if (ok) {
			ok = verify_doc(k, der, len, trust, &res) == 0 && res.valid &&
			    res.reason == CMS_VERIFY_OK && res.detail[0] == '\0' &&
			    res.signer != NULL && X509_cmp(res.signer, seal_cert[k]) == 0 &&
			    res.has_signing_time && time_near_now(res.signing_time) &&
			    res.has_timestamp && time_near_now(res.timestamp_time) &&
			    res.md_nid == seal_types[k].md_nid;
			if (!ok)
				printf("#   %s: %s\n", cms_reason_code(res.reason), res.detail);
			cms_verify_result_clear(&res);
		}
		/* Another document's digest. */
		dlen = hash(seal_types[k].md_nid, "other", 5, dg);
		ok = ok && cms_verify_digest(der, len, seal_types[k].md_nid, dg, dlen, trust, &res) == 0 &&
		    !res.valid && res.reason == CMS_VERIFY_DIGEST_MISMATCH && res.signer == NULL;
		cms_verify_result_clear(&res);
		/* Another trust anchor. */
		ok = ok && verify_doc(k, der, len, other_trust, &res) == 0 && !res.valid &&
		    res.reason == CMS_VERIFY_UNTRUSTED && res.signer != NULL;
		cms_verify_result_clear(&res);
		free(der);
		if (!ok)
			printf("#   failed for %s\n", hsm_key_type_name(seal_types[k].type));
		CHECK(ok);
	}
}

static int
has_nid(CMS_SignerInfo *si, int signed_attrs, int nid)
{
	return signed_attrs ? CMS_signed_get_attr_by_NID(si, nid, -1) >= 0 :
	    CMS_unsigned_get_attr_by_NID(si, nid, -1) >= 0;
}

static void
test_cms_attributes_exact(void)
{
	uint8_t *der = NULL, imp[EVP_MAX_MD_SIZE], chash[32];
	STACK_OF(X509) *chain = sk_X509_new_null(), *certs = NULL;
	ESS_SIGNING_CERT_V2 *ess = NULL;
	CMS_SignerInfo *si;
	CMS_ContentInfo *cms = NULL;
	TS_TST_INFO *tst = NULL;
	PKCS7 *p7 = NULL;
	ASN1_STRING *s;
	const unsigned char *p;
	size_t len, ilen;
	unsigned int hl;
	int ok;

	CHECK(chain != NULL && seal_cert[1] != NULL);
	/* The signer's own certificate and a repeat in the chain are left out. */
	sk_X509_push(chain, root);
	sk_X509_push(chain, seal_cert[1]);
	sk_X509_push(chain, root);
	CHECK_RC(seal_doc(1, T, chain, &der, &len), 0);	/* P-384, SHA-384 */
	sk_X509_free(chain);
	CHECK((cms = parse_cms(der, len)) != NULL);
	free(der);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	ok = CMS_is_detached(cms) == 1 && sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) == 1 &&
	    OBJ_obj2nid(CMS_get0_eContentType(cms)) == NID_pkcs7_data &&
	    CMS_signed_get_attr_count(si) == 4 &&
	    has_nid(si, 1, NID_pkcs9_contentType) && has_nid(si, 1, NID_pkcs9_messageDigest) &&
	    has_nid(si, 1, NID_pkcs9_signingTime) &&
	    has_nid(si, 1, NID_id_smime_aa_signingCertificateV2) &&
	    CMS_unsigned_get_attr_count(si) == 1 &&
	    has_nid(si, 0, NID_id_smime_aa_timeStampToken);
	if (!ok)
		printf("#   attribute set: %d signed, %d unsigned\n", CMS_signed_get_attr_count(si),
		    CMS_unsigned_get_attr_count(si));
	/* Certificates: the signer and the chain given. */
	if (ok) {
		certs = CMS_get1_certs(cms);
		/* A SET OF in DER: sorted by encoding, not in the order given. */
		ok = sk_X509_num(certs) == 2 && X509_find_by_subject(certs,
		    X509_get_subject_name(seal_cert[1])) != NULL &&
		    X509_cmp(X509_find_by_subject(certs, X509_get_subject_name(seal_cert[1])),
		    seal_cert[1]) == 0 &&
		    X509_find_by_subject(certs, X509_get_subject_name(root)) != NULL &&
		    X509_cmp(X509_find_by_subject(certs, X509_get_subject_name(root)), root) == 0;
		sk_X509_pop_free(certs, X509_free);
		if (!ok)
			printf("#   certificates wrong\n");
	}
	/* signing-certificate-v2 holds the SHA-256 of the seal certificate. */
	if (ok) {
		s = X509_ATTRIBUTE_get0_data(CMS_signed_get_attr(si,
		    CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1)),
		    0, V_ASN1_SEQUENCE, NULL);
		p = s ? ASN1_STRING_get0_data(s) : NULL;
		ok = p != NULL && (ess = d2i_ESS_SIGNING_CERT_V2(NULL, &p, ASN1_STRING_length(s))) != NULL &&
		    X509_digest(seal_cert[1], EVP_sha256(), chash, &hl) == 1;
		if (ok) {
			STACK_OF(X509) *one = sk_X509_new_null();

			sk_X509_push(one, seal_cert[1]);
			ok = OSSL_ESS_check_signing_certs(NULL, ess, one, 1) > 0;
			sk_X509_free(one);
		}
		ESS_SIGNING_CERT_V2_free(ess);
		if (!ok)
			printf("#   signing-certificate-v2 wrong\n");
	}
	/* The token: over SHA-384(signature value), and it verifies. */
	if (ok) {
		TS_VERIFY_CTX *vc = TS_VERIFY_CTX_new();

		s = X509_ATTRIBUTE_get0_data(CMS_unsigned_get_attr(si, 0), 0, V_ASN1_SEQUENCE, NULL);
		p = s ? ASN1_STRING_get0_data(s) : NULL;
		ilen = hash(NID_sha384, ASN1_STRING_get0_data(CMS_SignerInfo_get0_signature(si)),
		    (size_t)ASN1_STRING_length(CMS_SignerInfo_get0_signature(si)), imp);
		ok = p != NULL && vc != NULL &&
		    (p7 = d2i_PKCS7(NULL, &p, ASN1_STRING_length(s))) != NULL &&
		    (tst = PKCS7_to_TS_TST_INFO(p7)) != NULL &&
		    OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(tst))->algorithm) == NID_sha384;
		if (ok) {
			X509_STORE_up_ref(trust);
			TS_VERIFY_CTX_set_store(vc, trust);
			TS_VERIFY_CTX_set_imprint(vc, OPENSSL_memdup(imp, ilen), (long)ilen);
			TS_VERIFY_CTX_set_flags(vc, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT);
			ok = TS_RESP_verify_token(vc, p7) == 1;
		}
		TS_VERIFY_CTX_free(vc);
	}
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	CMS_ContentInfo_free(cms);
	CHECK(ok);
}

/* OpenSSL re-encodes der byte for byte: it is canonical DER (SET OF
 * order, minimal lengths and integers), as sd.c must write it. */
static int
reencodes(const uint8_t *der, size_t len, int (*i2d)(const void *, unsigned char **),
    void *obj)
{
	unsigned char *out = NULL;
	int n = obj != NULL ? i2d(obj, &out) : -1;
	int same = n > 0 && (size_t)n == len && memcmp(out, der, len) == 0;

	OPENSSL_free(out);
	return same;
}

static int
i2d_cms(const void *o, unsigned char **out)
{
	return i2d_CMS_ContentInfo((CMS_ContentInfo *)o, out);
}

static int
i2d_p7(const void *o, unsigned char **out)
{
	return i2d_PKCS7((PKCS7 *)o, out);
}

static int
i2d_tst(const void *o, unsigned char **out)
{
	return i2d_TS_TST_INFO((TS_TST_INFO *)o, out);
}

/* PAdES: the same seal without signing-time, for each key type. */
static void
test_cms_pades_profile(void)
{
	for (int k = 0; k < 4; k++) {
		struct cms_verify_result res;
		struct cades *c = NULL;
		uint8_t *der = NULL, dg[EVP_MAX_MD_SIZE];
		CMS_ContentInfo *cms = NULL;
		CMS_SignerInfo *si;
		size_t len = 0, dlen = hash(seal_types[k].md_nid, DOC, strlen(DOC), dg);
		int ok;

		if (seal_cert[k] == NULL)
			continue;
		CHECK_RC(cades_new(H, seal_id[k], HSM_ID_LEN, seal_cert[k], NULL,
		    seal_types[k].md_nid, &c), 0);
		ok = cades_sign_profile(c, CADES_PADES, dg, dlen, T, &der, &len) == 0 &&
		    (cms = parse_cms(der, len)) != NULL;
		si = ok ? sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0) : NULL;
		ok = ok && si != NULL && CMS_signed_get_attr_count(si) == 3 &&
		    has_nid(si, 1, NID_pkcs9_contentType) &&
		    has_nid(si, 1, NID_pkcs9_messageDigest) &&
		    !has_nid(si, 1, NID_pkcs9_signingTime) &&
		    has_nid(si, 1, NID_id_smime_aa_signingCertificateV2) &&
		    CMS_unsigned_get_attr_count(si) == 1 &&
		    has_nid(si, 0, NID_id_smime_aa_timeStampToken);
		/* Our verifier and OpenSSL's accept it; the time is the token's. */
		ok = ok && verify_doc(k, der, len, trust, &res) == 0 && res.valid &&
		    !res.has_signing_time && res.has_timestamp && time_near_now(res.timestamp_time);
		if (ok)
			cms_verify_result_clear(&res);
		ok = ok && reencodes(der, len, i2d_cms, cms);
		CMS_ContentInfo_free(cms);
		free(der);
		cades_free(c);
		if (!ok)
			printf("#   failed for %s\n", hsm_key_type_name(seal_types[k].type));
		CHECK(ok);
	}
}

static void
test_der_canonical(void)
{
	/* Three certificates in the set: their SET OF order is checked too. */
	STACK_OF(X509) *chain = sk_X509_new_null();

	CHECK(chain != NULL && sk_X509_push(chain, root) > 0 && sk_X509_push(chain, tsa_cert) > 0);
	for (int k = 0; k < 4; k++) {
		const ASN1_STRING *tok, *ec;
		const unsigned char *p;
		CMS_ContentInfo *cms = NULL;
		TS_TST_INFO *tst = NULL;
		CMS_SignerInfo *si;
		uint8_t *der = NULL;
		PKCS7 *p7 = NULL;
		size_t len;
		int ok;

		if (seal_cert[k] == NULL)
			continue;
		ok = seal_doc(k, T, chain, &der, &len) == 0 &&
		    (cms = parse_cms(der, len)) != NULL && reencodes(der, len, i2d_cms, cms);
		si = ok ? sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0) : NULL;
		tok = si ? X509_ATTRIBUTE_get0_data(CMS_unsigned_get_attr(si, 0), 0,
		    V_ASN1_SEQUENCE, NULL) : NULL;
		p = tok ? ASN1_STRING_get0_data(tok) : NULL;
		ok = ok && p != NULL &&
		    (p7 = d2i_PKCS7(NULL, &p, ASN1_STRING_length(tok))) != NULL &&
		    reencodes(ASN1_STRING_get0_data(tok), (size_t)ASN1_STRING_length(tok),
		    i2d_p7, p7);
		ec = ok ? p7->d.sign->contents->d.other->value.octet_string : NULL;
		p = ec ? ASN1_STRING_get0_data(ec) : NULL;
		ok = ok && p != NULL &&
		    (tst = d2i_TS_TST_INFO(NULL, &p, ASN1_STRING_length(ec))) != NULL &&
		    reencodes(ASN1_STRING_get0_data(ec), (size_t)ASN1_STRING_length(ec),
		    i2d_tst, tst);
		if (!ok)
			printf("#   not canonical for %s\n", hsm_key_type_name(seal_types[k].type));
		TS_TST_INFO_free(tst);
		PKCS7_free(p7);
		CMS_ContentInfo_free(cms);
		free(der);
		CHECK(ok);
	}
	sk_X509_free(chain);
}

/* sd_time against OpenSSL's own choice of UTCTime or GeneralizedTime. */
static void
test_sd_time(void)
{
	static const time_t at[] = { 0, -631152000 /* 1950 */, -631152001,
	    2524607999 /* 2049-12-31 23:59:59 */, 2524608000, 1795000000 };
	static const struct { int ms; const char *text; } frac[] = {
		{ 0, "20261122053307Z" }, { 500, "20261122053307.5Z" },
		{ 120, "20261122053307.12Z" }, { 7, "20261122053307.007Z" },
		{ 999, "20261122053307.999Z" },
	};
	uint8_t out[24];
	size_t n;

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		ASN1_TIME *t = ASN1_TIME_set(NULL, at[i]);
		unsigned char *ref = NULL;
		int rn = t != NULL ? i2d_ASN1_TIME(t, &ref) : -1;

		n = sd_time(at[i], -1, out);
		CHECK(rn > 0 && n == (size_t)rn && memcmp(out, ref, n) == 0);
		OPENSSL_free(ref);
		ASN1_TIME_free(t);
	}
	for (size_t i = 0; i < sizeof(frac) / sizeof(frac[0]); i++) {
		n = sd_time(1795325587, frac[i].ms, out);	/* 2026-11-22 05:33:07 */
		CHECK(n == strlen(frac[i].text) + 2 && out[0] == V_ASN1_GENERALIZEDTIME &&
		    memcmp(out + 2, frac[i].text, n - 2) == 0);
	}
	CHECK(sd_time(0, 1000, out) == 0);
}

/* Replace the signature-time-stamp of der by a token over other bytes. */
static uint8_t *
swap_token(const uint8_t *der, size_t len, size_t *olen)
{
	CMS_ContentInfo *cms = parse_cms(der, len);
	uint8_t dg[32], *tok = NULL, *out = NULL;
	CMS_SignerInfo *si;
	X509_ATTRIBUTE *a;
	size_t tlen;

	memset(dg, 0x11, sizeof(dg));
	if (cms != NULL && tsa_stamp(T, NID_sha256, dg, sizeof(dg), &tok, &tlen) == 0) {
		si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
		a = CMS_unsigned_delete_attr(si, 0);
		X509_ATTRIBUTE_free(a);
		if (CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken,
		    V_ASN1_SEQUENCE, tok, (int)tlen) == 1)
			out = encode_cms(cms, olen);
	}
	free(tok);
	CMS_ContentInfo_free(cms);
	return out;
}

/* Flip a bit of the signature value of der. */
static uint8_t *
flip_signature(const uint8_t *der, size_t len, size_t *olen)
{
	CMS_ContentInfo *cms = parse_cms(der, len);
	ASN1_OCTET_STRING *sig;
	uint8_t *out = NULL, *copy;
	int n;

	if (cms == NULL)
		return NULL;
	sig = CMS_SignerInfo_get0_signature(sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0));
	n = ASN1_STRING_length(sig);
	if ((copy = OPENSSL_memdup(ASN1_STRING_get0_data(sig), (size_t)n)) != NULL) {
		copy[n / 2] ^= 0x01;
		if (ASN1_OCTET_STRING_set(sig, copy, n) == 1)
			out = encode_cms(cms, olen);
		OPENSSL_free(copy);
	}
	CMS_ContentInfo_free(cms);
	return out;
}

static void
test_cms_tampering(void)
{
	struct cms_verify_result res;
	uint8_t *der = NULL, *bad = NULL, dg[32];
	size_t len, blen;
	int ok;

	CHECK(seal_cert[0] != NULL);
	CHECK_RC(seal_doc(0, T, NULL, &der, &len), 0);
	/* A token over something else. */
	ok = (bad = swap_token(der, len, &blen)) != NULL &&
	    verify_doc(0, bad, blen, trust, &res) == 0 && !res.valid &&
	    res.reason == CMS_VERIFY_BAD_TIMESTAMP;
	if (!ok)
		printf("#   swapped token: %s %s\n", cms_reason_code(res.reason), res.detail);
	cms_verify_result_clear(&res);
	OPENSSL_free(bad);
	bad = NULL;	/* the next case may not run: no second free */
	/* A changed signature value. */
	ok = ok && (bad = flip_signature(der, len, &blen)) != NULL &&
	    verify_doc(0, bad, blen, trust, &res) == 0 && !res.valid &&
	    res.reason == CMS_VERIFY_BAD_SIGNATURE;
	cms_verify_result_clear(&res);
	OPENSSL_free(bad);
	bad = NULL;
	/* The right bytes under another digest algorithm. */
	hash(NID_sha256, DOC, strlen(DOC), dg);
	ok = ok && cms_verify_digest(der, len, NID_sha512, dg, 32, trust, &res) == SB_EINVAL;
	if (ok) {
		uint8_t dg384[48];

		hash(NID_sha384, DOC, strlen(DOC), dg384);
		ok = cms_verify_digest(der, len, NID_sha384, dg384, 48, trust, &res) == 0 &&
		    !res.valid && res.reason == CMS_VERIFY_DIGEST_ALG;
		cms_verify_result_clear(&res);
	}
	/* Trailing bytes, truncation, garbage, oversize. */
	if (ok) {
		uint8_t *longer = malloc(len + 1);

		if (longer != NULL) {
			memcpy(longer, der, len);
			longer[len] = 0;
		}
		ok = longer != NULL &&
		    verify_doc(0, longer, len + 1, trust, &res) == SB_EINVAL &&
		    verify_doc(0, der, len - 1, trust, &res) == SB_EINVAL &&
		    verify_doc(0, (const uint8_t *)"\x30\x00", 2, trust, &res) == SB_EINVAL &&
		    verify_doc(0, der, CMS_DER_MAX + 1, trust, &res) == SB_ELIMIT &&
		    res.signer == NULL;
		free(longer);
	}
	free(der);
	CHECK(ok);
}

static void
test_cms_without_tsa(void)
{
	struct cms_verify_result res;
	CMS_ContentInfo *cms;
	uint8_t *der = NULL;
	size_t len;
	int ok;

	CHECK(seal_cert[0] != NULL);
	CHECK_RC(seal_doc(0, NULL, NULL, &der, &len), 0);
	ok = verify_doc(0, der, len, trust, &res) == 0 && res.valid && !res.has_timestamp &&
	    (cms = parse_cms(der, len)) != NULL;
	if (ok) {
		ok = CMS_unsigned_get_attr_count(sk_CMS_SignerInfo_value(
		    CMS_get0_SignerInfos(cms), 0)) <= 0;
		CMS_ContentInfo_free(cms);
	}
	cms_verify_result_clear(&res);
	free(der);
	CHECK(ok);
}

/* A CMS from OpenSSL alone (software key, attached content) is refused as
 * malformed; one detached from a foreign CA is untrusted. */
static void
test_cms_foreign(void)
{
	struct cms_verify_result res;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	CMS_ContentInfo *cms = NULL;
	X509 *x = NULL;
	uint8_t *der = NULL, dg[32];
	BIO *doc = BIO_new_mem_buf(DOC, -1);
	size_t len;
	int ok;

	hash(NID_sha256, DOC, strlen(DOC), dg);
	ok = k != NULL && doc != NULL &&
	    ca_issue(H, other_id, HSM_ID_LEN, other_root, k, "foreign", NULL,
	    CA_PROFILE_SEAL, NULL, 1, &x) == 0 &&
	    (cms = CMS_sign(x, k, NULL, doc, CMS_BINARY | CMS_CADES)) != NULL &&
	    (der = encode_cms(cms, &len)) != NULL &&
	    cms_verify_digest(der, len, NID_sha256, dg, 32, trust, &res) == 0 &&
	    !res.valid && res.reason == CMS_VERIFY_MALFORMED;
	cms_verify_result_clear(&res);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(der);
	cms = NULL;
	der = NULL;
	BIO_reset(doc);
	ok = ok && (cms = CMS_sign(x, k, NULL, doc, CMS_BINARY | CMS_CADES | CMS_DETACHED)) != NULL &&
	    (der = encode_cms(cms, &len)) != NULL &&
	    cms_verify_digest(der, len, NID_sha256, dg, 32, trust, &res) == 0 &&
	    !res.valid && res.reason == CMS_VERIFY_UNTRUSTED;
	cms_verify_result_clear(&res);
	ok = ok && cms_verify_digest(der, len, NID_sha256, dg, 32, other_trust, &res) == 0 &&
	    res.valid && !res.has_timestamp;
	cms_verify_result_clear(&res);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(der);
	BIO_free(doc);
	X509_free(x);
	EVP_PKEY_free(k);
	CHECK(ok);
}

static void
test_cms_refusals(void)
{
	uint8_t dg[64], nokey[HSM_ID_LEN], *der = (uint8_t *)1;
	STACK_OF(X509) *longchain = sk_X509_new_null();
	size_t len;
	int rc;

	CHECK(seal_cert[0] != NULL && longchain != NULL);
	memset(dg, 3, sizeof(dg));
	memset(nokey, 0x42, sizeof(nokey));
	CHECK_RC(cms_sign_digest(H, seal_id[0], HSM_ID_LEN, seal_cert[0], NULL, NID_sha256,
	    dg, 33, T, &der, &len), SB_EINVAL);
	CHECK(der == NULL);
	CHECK_RC(cms_sign_digest(H, seal_id[0], HSM_ID_LEN, seal_cert[0], NULL, NID_sha1,
	    dg, 20, T, &der, &len), SB_EINVAL);
	/* A certificate for another key. */
	CHECK_RC(cms_sign_digest(H, tsa_id, HSM_ID_LEN, seal_cert[0], NULL, NID_sha256,
	    dg, 32, T, &der, &len), SB_EINVAL);
	CHECK_RC(cms_sign_digest(H, nokey, HSM_ID_LEN, seal_cert[0], NULL, NID_sha256,
	    dg, 32, T, &der, &len), SB_ENOTFOUND);
	CHECK_RC(cms_sign_digest(H, seal_id[0], HSM_ID_LEN, NULL, NULL, NID_sha256,
	    dg, 32, T, &der, &len), SB_EINVAL);
	for (int i = 0; i <= CMS_CHAIN_MAX; i++)
		sk_X509_push(longchain, root);
	rc = cms_sign_digest(H, seal_id[0], HSM_ID_LEN, seal_cert[0], longchain, NID_sha256,
	    dg, 32, T, &der, &len);
	sk_X509_free(longchain);
	CHECK_RC(rc, SB_ELIMIT);
	/* An expired certificate for the seal key. */
	{
		X509 *old = expired_cert(seal_id[0], 0);

		CHECK(old != NULL);
		rc = cms_sign_digest(H, seal_id[0], HSM_ID_LEN, old, NULL, NID_sha256, dg, 32,
		    T, &der, &len);
		X509_free(old);
		CHECK_RC(rc, SB_ESTATE);
	}
	CHECK_STR(cms_reason_code(CMS_VERIFY_DIGEST_MISMATCH), "digest_mismatch");
	CHECK_STR(cms_reason_code((enum cms_reason)99), "unknown");
	cms_verify_result_clear(NULL);
}

/* ---- threads -------------------------------------------------------------- */

struct worker {
	int n;
	int failures;
};

static void *
work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < w->n; i++) {
		struct query q = { .md_nid = NID_sha256, .with_nonce = 1, .cert_req = i & 1 };
		struct cms_verify_result res;
		uint8_t *der = NULL;
		TS_REQ *req = NULL;
		TS_RESP *r;
		size_t len;

		if (seal_doc(0, T, NULL, &der, &len) != 0 ||
		    verify_doc(0, der, len, trust, &res) != 0 || !res.valid)
			w->failures++;
		cms_verify_result_clear(&res);
		free(der);
		der = NULL;
		if (!make_query(&q, &req, &der, &len)) {
			w->failures++;
			continue;
		}
		r = respond(der, len);
		if (r == NULL || status_of(r) != TS_STATUS_GRANTED ||
		    ASN1_INTEGER_cmp(TS_TST_INFO_get_nonce(TS_RESP_get_tst_info(r)),
		    TS_REQ_get_nonce(req)) != 0)
			w->failures++;
		TS_RESP_free(r);
		TS_REQ_free(req);
		OPENSSL_free(der);
	}
	return NULL;
}

static void
test_threads(void)
{
	enum { THREADS = 4 };
	struct worker w[THREADS];
	pthread_t t[THREADS];
	int failures = 0;

	CHECK(seal_cert[0] != NULL);
	for (int i = 0; i < THREADS; i++) {
		w[i].n = RUNNING_ON_VALGRIND ? 4 : 50;
		w[i].failures = 0;
		CHECK(pthread_create(&t[i], NULL, work, &w[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		failures += w[i].failures;
	}
	CHECK(failures == 0);
}

/* ---- a failing HSM ------------------------------------------------------- */

static int
tokendir_unreadable(void)
{
	DIR *d;

	if (chmod(fx.tokens, 0) != 0)
		return 0;
	if ((d = opendir(fx.tokens)) != NULL) {
		closedir(d);
		chmod(fx.tokens, 0700);
		return 0;
	}
	return errno == EACCES;
}

/* One of the three signing paths; 0 or an sb_err. */
static int
sign_one(int which, const uint8_t *query, size_t qlen, EVP_PKEY *k)
{
	uint8_t *out = (uint8_t *)1;
	X509 *x = NULL;
	size_t olen;
	int rc;

	switch (which) {
	case 0:
		rc = tsa_respond(T, query, qlen, &out, &olen);
		break;
	case 1:
		rc = seal_doc(0, T, NULL, &out, &olen);
		break;
	default:
		out = NULL;
		rc = ca_issue(H, ca_id, HSM_ID_LEN, root, k, "x", NULL, CA_PROFILE_SEAL, NULL, 1, &x);
		X509_free(x);
		break;
	}
	if (rc != 0 && out != NULL)
		return -1000;	/* output touched on failure */
	free(out);
	return rc;
}

static void
test_hsm_failure(void)
{
	static const char *names[3] = { "tsa_respond", "cms_sign_digest", "ca_issue" };
	struct query q = { .md_nid = NID_sha256, .with_nonce = 1 };
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	uint8_t *der = NULL;
	TS_REQ *req = NULL;
	size_t len;
	int rc = 0;

	CHECK(k != NULL && seal_cert[0] != NULL);
	CHECK(make_query(&q, &req, &der, &len));
	TS_REQ_free(req);
	/* Each path in turn meets the failure first, inside OpenSSL's signing
	 * with a cached key: it must say SB_EHSM, not SB_ECRYPTO, and never
	 * answer with a rejection reply. */
	for (int first = 0; first < 3 && rc == 0; first++) {
		for (int i = 0; i < 3 && rc == 0; i++)
			rc = sign_one(i, der, len, k);	/* all keys cached */
		if (rc != 0 || !tokendir_unreadable()) {
			printf("# %s\n", rc ? "setup failed" : "cannot make the token directory "
			    "unreadable here");
			rc = rc ? rc : -1;
			break;
		}
		for (int i = 0; i < 3 && rc == 0; i++) {
			int which = (first + i) % 3;

			if ((rc = sign_one(which, der, len, k)) == SB_EHSM)
				rc = 0;
			else
				printf("#   %s (%s) returned %d with the HSM failing\n",
				    names[which], i == 0 ? "first" : "later", rc);
		}
		chmod(fx.tokens, 0700);
		/* Back: the HSM layer reconnects (at most every 500 ms). */
		for (int i = 0; i < 60 && hsm_check(H) != 0; i++)
			nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	for (int i = 0; i < 3 && rc == 0; i++)
		rc = sign_one(i, der, len, k);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	CHECK_RC(rc, 0);
}

int
main(void)
{
	log_init("test_formats", LOG_TO_STDERR);
	if (fixture_drop_dac_caps() != 0)
		printf("# could not drop CAP_DAC_*: %s\n", strerror(errno));
	RUN(test_setup, "a throwaway token: CA, TSA and seal keys of each type with "
	    "certificates from hsm/ca");
	RUN(test_tsa_new_checks, "tsa_new refuses a certificate without the timeStamping "
	    "EKU or for another key, a bad policy, a long chain; one whose certificate has "
	    "expired issues nothing");
	RUN(test_tsa_grants, "SHA-256/384/512 queries are granted: nonce echoed, imprint "
	    "and policy kept, TSA certificate included on certReq, reply verifies");
	RUN(test_tsa_policy_and_certreq, "our policy by name is granted; without certReq "
	    "no certificate is sent");
	RUN(test_tsa_serials_unique, "token serial numbers are random, positive and unique");
	RUN(test_tsa_rejections, "malformed, truncated, oversized, SHA-1/MD5, wrong length, "
	    "v2, other policy, extension: a rejection reply with the right failure bit");
	RUN(test_tsa_clock, "require_sync with an unsynced clock: timeNotAvailable "
	    "replies, tsa_stamp and cms_sign_digest refuse with SB_ESTATE; otherwise granted");
	RUN(test_tsa_stamp, "tsa_stamp gives a token over the imprint with the TSA "
	    "certificate and no nonce; checks digest length");
	RUN(test_cms_each_key_type, "P-256/SHA-256, P-384/SHA-384, RSA-2048/SHA-256, "
	    "RSA-3072/SHA-512 seals verify with CMS_verify over the document and with "
	    "cms_verify_digest; another digest or trust anchor is invalid");
	RUN(test_cms_pades_profile, "the PAdES profile: content-type, message-digest and "
	    "signing-certificate-v2 without signing-time, the token, canonical DER, valid, for "
	    "each key type");
	RUN(test_der_canonical, "seals, their tokens and TSTInfos are canonical DER: "
	    "OpenSSL re-encodes each byte for byte, for every key type");
	RUN(test_sd_time, "signing-time is UTCTime from 1950 to 2049 and GeneralizedTime "
	    "otherwise, as OpenSSL encodes it; genTime fractions drop trailing zeros");
	RUN(test_cms_attributes_exact, "signed attributes are exactly content-type, "
	    "message-digest, signing-time, signing-certificate-v2; the one unsigned "
	    "attribute is a token over the signature value; certificates: the signer's and "
	    "the chain's, each once");
	RUN(test_cms_tampering, "a foreign token, a changed signature, another digest "
	    "algorithm, trailing bytes, truncation and oversize are caught");
	RUN(test_cms_without_tsa, "without a TSA the CMS has no unsigned attribute and "
	    "verifies without a timestamp");
	RUN(test_cms_foreign, "an attached CMS is malformed; a detached one from another "
	    "CA is untrusted here and valid under its own root");
	RUN(test_cms_refusals, "bad digest lengths and algorithms, a certificate for "
	    "another key, an expired certificate, unknown keys and long chains are refused");
	RUN(test_threads, "4 threads seal, verify and answer TSA queries on one tsa and "
	    "one store");
	RUN(test_hsm_failure, "a failing HSM makes tsa_respond, cms_sign_digest (and its tsa_stamp) "
	    "and ca_issue return SB_EHSM (no rejection reply); after it recovers they work");
	tsa_free(T);
	X509_STORE_free(trust);
	X509_STORE_free(other_trust);
	for (int k = 0; k < 4; k++)
		X509_free(seal_cert[k]);
	X509_free(tsa_cert);
	X509_free(root);
	X509_free(other_root);
	hsm_close(H);
	fixture_softhsm_free(&fx);
	return check_done();
}
