/*
 * fmttool — TEST TOOL ONLY, never installed: makes seals, TSA replies,
 * certificates and a CRL with hsm/ca and daemon/formats on a throwaway
 * SoftHSM token, so that tests/integration/formats.sh can check them with
 * the real openssl command line.
 *
 *   fmttool make DIR DOC [QUERY.tsq...]
 *      SOFTHSM2_CONF must point at an empty token store. Makes a token, a CA
 *      (P-256), a TSA and one seal key per type, and writes into DIR:
 *      ca.pem, tsa.pem, seal-TYPE.pem, DOC's seal by each as DOC.TYPE.p7s
 *      (DER), tls-server.pem (SAN DNS:localhost,IP:127.0.0.1), tls-client.pem,
 *      revoked.pem, audit.pem, crl.pem (revoking revoked.pem), ext.pem and
 *      ext.key (a software seal key, for openssl cms -sign), and for each
 *      QUERY.tsq the TSA's answer QUERY.tsr. With FMT_REQUIRE_SYNC=1 the TSA
 *      requires a synchronised clock (then the .p7s files are not made on an
 *      unsynchronised machine; the queries are still answered).
 *   fmttool token P7S OUT.der
 *      Writes the signature-time-stamp token of a CMS to OUT.der and prints
 *      the hex SHA-256 of the signature value (what the token's imprint must
 *      be, for openssl ts -verify -digest).
 *   fmttool verify DOC P7S CA.pem
 *      cms_verify_digest with SHA-256 of DOC; prints "valid ..." or
 *      "invalid REASON: detail"; exit 0 when valid, 1 when not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "daemon/formats/cms.h"
#include "daemon/formats/tsa.h"
#include "hsm/ca.h"
#include "hsm/hsm.h"
#include "lib/err.h"
#include "lib/log.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define LABEL "sbx-fmttool"
#define PIN "fmttool-user"
#define POLICY "1.3.6.1.4.1.99999.1.1"
#define FILE_MAX (4 * 1024 * 1024)

static const char *dir;

static int
fail(const char *what, int rc)
{
	fprintf(stderr, "fmttool: %s: %s\n", what, rc ? sb_strerror(rc) : "failed");
	ERR_print_errors_fp(stderr);
	return 1;
}

static int
read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0;
	uint8_t *b;

	if (f == NULL || (b = malloc(FILE_MAX)) == NULL) {
		if (f)
			fclose(f);
		return -1;
	}
	n = fread(b, 1, FILE_MAX, f);
	fclose(f);
	*data = b;
	*len = n;
	return 0;
}

static int
write_file(const char *name, const uint8_t *data, size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
write_pem(const char *name, X509 *x, X509_CRL *crl, EVP_PKEY *key)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	ok = x ? PEM_write_X509(f, x) : crl ? PEM_write_X509_CRL(f, crl) :
	    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* A key of type t in the HSM and a certificate for it from the CA. */
static int
hsm_leaf(struct hsm *h, const uint8_t *ca_id, X509 *ca, enum hsm_key_type t,
    const char *name, enum ca_profile p, uint8_t id[HSM_ID_LEN], X509 **out)
{
	EVP_PKEY *pub = NULL;
	int rc;

	if ((rc = hsm_keygen(h, t, name, id)) != 0 ||
	    (rc = hsm_key_public(h, id, HSM_ID_LEN, &pub)) != 0)
		return rc;
	rc = ca_issue(h, ca_id, HSM_ID_LEN, ca, pub, name, "Sealbox Test", p, NULL, 30, out);
	EVP_PKEY_free(pub);
	return rc;
}

/* tls-server, tls-client, revoked, audit, crl, ext (software key). */
static int
make_certs(struct hsm *h, const uint8_t *ca_id, X509 *ca)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *srv = NULL, *cli = NULL, *rev = NULL, *aud = NULL, *ext = NULL;
	X509_CRL *crl = NULL;
	struct ca_revoked r;
	int rc;

	if (k == NULL)
		return SB_ECRYPTO;
	if ((rc = ca_issue(h, ca_id, HSM_ID_LEN, ca, k, "localhost", NULL, CA_PROFILE_TLS_SERVER,
	    "DNS:localhost,IP:127.0.0.1", 30, &srv)) == 0 &&
	    (rc = ca_issue(h, ca_id, HSM_ID_LEN, ca, k, "client", NULL, CA_PROFILE_TLS_CLIENT,
	    NULL, 30, &cli)) == 0 &&
	    (rc = ca_issue(h, ca_id, HSM_ID_LEN, ca, k, "revoked client", NULL,
	    CA_PROFILE_TLS_CLIENT, NULL, 30, &rev)) == 0 &&
	    (rc = ca_issue(h, ca_id, HSM_ID_LEN, ca, k, "ledger audit", NULL, CA_PROFILE_AUDIT,
	    NULL, 30, &aud)) == 0 &&
	    (rc = ca_issue(h, ca_id, HSM_ID_LEN, ca, k, "external seal", NULL, CA_PROFILE_SEAL,
	    NULL, 30, &ext)) == 0) {
		r.serial = X509_get0_serialNumber(rev);
		r.when = time(NULL);
		rc = ca_make_crl(h, ca_id, HSM_ID_LEN, ca, &r, 1, 7, &crl);
	}
	if (rc == 0 && (write_pem("tls-server.pem", srv, NULL, NULL) != 0 ||
	    write_pem("tls-client.pem", cli, NULL, NULL) != 0 ||
	    write_pem("revoked.pem", rev, NULL, NULL) != 0 ||
	    write_pem("audit.pem", aud, NULL, NULL) != 0 ||
	    write_pem("ext.pem", ext, NULL, NULL) != 0 ||
	    write_pem("ext.key", NULL, NULL, k) != 0 ||
	    write_pem("crl.pem", NULL, crl, NULL) != 0))
		rc = SB_EIO;
	X509_CRL_free(crl);
	X509_free(srv);
	X509_free(cli);
	X509_free(rev);
	X509_free(aud);
	X509_free(ext);
	EVP_PKEY_free(k);
	return rc;
}

static int
answer_queries(struct tsa *t, int n, char **queries)
{
	for (int i = 0; i < n; i++) {
		uint8_t *q = NULL, *r = NULL;
		size_t qlen, rlen;
		char out[4096];
		const char *base = strrchr(queries[i], '/');
		int rc;

		if (read_file(queries[i], &q, &qlen) != 0)
			return fail(queries[i], SB_EIO);
		rc = tsa_respond(t, q, qlen, &r, &rlen);
		free(q);
		if (rc != 0)
			return fail("tsa_respond", rc);
		snprintf(out, sizeof(out), "%.*s.tsr",
		    (int)(strlen(base ? base + 1 : queries[i]) - 4), base ? base + 1 : queries[i]);
		rc = write_file(out, r, rlen);
		free(r);
		if (rc != 0)
			return fail(out, SB_EIO);
	}
	return 0;
}

static int
cmd_make(const char *doc_path, int nq, char **queries)
{
	static const enum hsm_key_type types[4] = {
		HSM_KEY_EC_P256, HSM_KEY_EC_P384, HSM_KEY_RSA_2048, HSM_KEY_RSA_3072 };
	uint8_t ca_id[HSM_ID_LEN], tsa_id[HSM_ID_LEN], id[HSM_ID_LEN], dg[32];
	uint8_t *doc = NULL, *der = NULL;
	struct hsm *h = NULL;
	struct tsa *t = NULL;
	X509 *ca = NULL, *tsa_cert = NULL, *seal = NULL;
	size_t dlen, len;
	const char *req = getenv("FMT_REQUIRE_SYNC");
	char name[128];
	int rc;

	if (read_file(doc_path, &doc, &dlen) != 0)
		return fail(doc_path, SB_EIO);
	EVP_Digest(doc, dlen, dg, NULL, EVP_sha256(), NULL);
	free(doc);
	if ((rc = hsm_token_init(MODULE, LABEL, "fmttool-so", PIN)) != 0 ||
	    (rc = hsm_open(MODULE, LABEL, &h)) != 0 || (rc = hsm_login(h, PIN)) != 0)
		return fail("token", rc);
	if ((rc = hsm_keygen(h, HSM_KEY_EC_P256, "ca", ca_id)) != 0 ||
	    (rc = ca_make_root(h, ca_id, HSM_ID_LEN, "Sealbox Test CA", "Sealbox Test", 30, &ca)) != 0 ||
	    (rc = hsm_leaf(h, ca_id, ca, HSM_KEY_EC_P256, "Sealbox TSA", CA_PROFILE_TSA,
	    tsa_id, &tsa_cert)) != 0 ||
	    (rc = tsa_new(h, tsa_id, HSM_ID_LEN, tsa_cert, NULL, POLICY, &t)) != 0)
		goto out;
	tsa_set_require_sync(t, req != NULL && strcmp(req, "1") == 0);
	if (write_pem("ca.pem", ca, NULL, NULL) != 0 || write_pem("tsa.pem", tsa_cert, NULL, NULL) != 0) {
		rc = SB_EIO;
		goto out;
	}
	if ((rc = make_certs(h, ca_id, ca)) != 0 || (rc = answer_queries(t, nq, queries)) != 0)
		goto out;
	for (int i = 0; i < 4 && tsa_time_ok(t); i++) {
		const char *tn = hsm_key_type_name(types[i]);

		snprintf(name, sizeof(name), "seal %s", tn);
		if ((rc = hsm_leaf(h, ca_id, ca, types[i], name, CA_PROFILE_SEAL, id, &seal)) != 0)
			goto out;
		snprintf(name, sizeof(name), "seal-%s.pem", tn);
		if (write_pem(name, seal, NULL, NULL) != 0) {
			rc = SB_EIO;
			goto out;
		}
		rc = cms_sign_digest(h, id, HSM_ID_LEN, seal, NULL, NID_sha256, dg, 32, t, &der, &len);
		X509_free(seal);
		seal = NULL;
		if (rc != 0)
			goto out;
		snprintf(name, sizeof(name), "%s.%s.p7s", strrchr(doc_path, '/') ?
		    strrchr(doc_path, '/') + 1 : doc_path, tn);
		rc = write_file(name, der, len) == 0 ? 0 : SB_EIO;
		free(der);
		if (rc != 0)
			goto out;
	}
	if (!tsa_time_ok(t))
		printf("seals refused: the clock is not trusted\n");
	printf("clock %s\n", tsa_clock_synced() ? "synchronised" : "unsynchronised");
out:
	if (rc != 0)
		fail("make", rc);
	tsa_free(t);
	X509_free(seal);
	X509_free(tsa_cert);
	X509_free(ca);
	hsm_close(h);
	return rc != 0;
}

static int
cmd_token(const char *p7s, const char *out)
{
	uint8_t *der = NULL, dg[32];
	const unsigned char *p;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	ASN1_OCTET_STRING *sig;
	ASN1_STRING *tok;
	FILE *f;
	size_t len;
	int i, ok = 0;

	if (read_file(p7s, &der, &len) != 0)
		return fail(p7s, SB_EIO);
	p = der;
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) != NULL &&
	    (si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0)) != NULL &&
	    (i = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1)) >= 0 &&
	    (tok = X509_ATTRIBUTE_get0_data(CMS_unsigned_get_attr(si, i), 0,
	    V_ASN1_SEQUENCE, NULL)) != NULL && (f = fopen(out, "wb")) != NULL) {
		ok = fwrite(ASN1_STRING_get0_data(tok), 1, (size_t)ASN1_STRING_length(tok), f) ==
		    (size_t)ASN1_STRING_length(tok);
		ok = fclose(f) == 0 && ok;
		sig = CMS_SignerInfo_get0_signature(si);
		EVP_Digest(ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig), dg, NULL,
		    EVP_sha256(), NULL);
		for (size_t j = 0; j < sizeof(dg); j++)
			printf("%02x", dg[j]);
		printf("\n");
	}
	CMS_ContentInfo_free(cms);
	free(der);
	return ok ? 0 : fail("no signature-time-stamp", 0);
}

static int
cmd_verify(const char *doc_path, const char *p7s, const char *ca_path)
{
	struct cms_verify_result res;
	uint8_t *doc = NULL, *der = NULL, dg[32];
	X509_STORE *st = X509_STORE_new();
	size_t dlen, len;
	int rc;

	if (st == NULL || X509_STORE_load_file(st, ca_path) != 1 ||
	    read_file(doc_path, &doc, &dlen) != 0 || read_file(p7s, &der, &len) != 0) {
		X509_STORE_free(st);
		free(doc);
		return fail("reading the inputs", SB_EIO);
	}
	EVP_Digest(doc, dlen, dg, NULL, EVP_sha256(), NULL);
	rc = cms_verify_digest(der, len, NID_sha256, dg, 32, st, &res);
	if (rc != 0)
		printf("error %s\n", sb_strerror(rc));
	else if (res.valid)
		printf("valid signer=%s timestamp=%s\n",
		    X509_NAME_oneline(X509_get_subject_name(res.signer), (char[256]){0}, 256),
		    res.has_timestamp ? "yes" : "no");
	else
		printf("invalid %s: %s\n", cms_reason_code(res.reason), res.detail);
	rc = rc == 0 && res.valid ? 0 : 1;
	cms_verify_result_clear(&res);
	X509_STORE_free(st);
	free(doc);
	free(der);
	return rc;
}

int
main(int argc, char **argv)
{
	log_init("fmttool", LOG_TO_STDERR);
	log_set_level(LOG_WARNING);
	if (argc >= 4 && strcmp(argv[1], "make") == 0) {
		dir = argv[2];
		return cmd_make(argv[3], argc - 4, argv + 4);
	}
	if (argc == 4 && strcmp(argv[1], "token") == 0)
		return cmd_token(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "verify") == 0)
		return cmd_verify(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: fmttool make DIR DOC [QUERY.tsq...] | token P7S OUT.der | "
	    "verify DOC P7S CA.pem\n");
	return 2;
}
