/*
 * hsm/ca: certificates and CRLs signed by a CA key in a throwaway SoftHSM
 * token. Results are checked with OpenSSL's own verifier (X509_verify_cert,
 * X509_check_purpose, X509_check_host) and by reading the extensions back,
 * not through anything in ca.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <valgrind/valgrind.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "fixture.h"
#pragma GCC diagnostic pop
#include "check.h"
#include "hsm/ca.h"
#include "hsm/crl.h"
#include "lib/fdio.h"
#include "hsm/hsm.h"
#include "lib/err.h"
#include "lib/log.h"

#define LABEL "sbx-ca"

static struct fixture fx;
static struct hsm *H;
static const enum hsm_key_type types[4] = {
	HSM_KEY_EC_P256, HSM_KEY_EC_P384, HSM_KEY_RSA_2048, HSM_KEY_RSA_3072 };
static uint8_t ca_ids[4][HSM_ID_LEN];	/* a CA key of each type */
static int have[4];
static X509 *roots[4];
static EVP_PKEY *subj;			/* a software subject key (P-256) */

/* ---- helpers ------------------------------------------------------------- */

static int
slow_type(enum hsm_key_type t)
{
	/* SoftHSM RSA key generation takes tens of seconds under valgrind. */
	return RUNNING_ON_VALGRIND && (t == HSM_KEY_RSA_2048 || t == HSM_KEY_RSA_3072);
}

/* X509_verify_cert of leaf against root (with crl if given, CRL checking on). */
static int
verify_chain(X509 *root, X509 *leaf, X509_CRL *crl, int purpose, int *err)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *c = X509_STORE_CTX_new();
	int ok = 0;

	*err = -1;
	if (st != NULL && c != NULL && X509_STORE_add_cert(st, root) == 1 &&
	    (crl == NULL || (X509_STORE_add_crl(st, crl) == 1 &&
	    X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK) == 1)) &&
	    X509_STORE_CTX_init(c, st, leaf, NULL) == 1 &&
	    (purpose == 0 || X509_STORE_CTX_set_purpose(c, purpose) == 1)) {
		ok = X509_verify_cert(c) == 1;
		*err = X509_STORE_CTX_get_error(c);
	}
	X509_STORE_CTX_free(c);
	X509_STORE_free(st);
	return ok;
}

/* The extension nid of x: present (1 or 2 when critical) or 0. */
static int
ext_crit(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	if (i < 0)
		return 0;
	return X509_EXTENSION_get_critical(X509_get_ext(x, i)) ? 2 : 1;
}

static int
eku_has(X509 *x, int nid)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	int found = 0;

	for (int i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == nid)
			found = 1;
	EXTENDED_KEY_USAGE_free(eku);
	return found;
}

static int
eku_count(X509 *x)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	int n = eku ? sk_ASN1_OBJECT_num(eku) : 0;

	EXTENDED_KEY_USAGE_free(eku);
	return n;
}

/* AKI keyid of x equals SKI of issuer. */
static int
aki_matches(X509 *x, X509 *issuer)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
	const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(x);

	return ski != NULL && akid != NULL && ASN1_OCTET_STRING_cmp(ski, akid) == 0;
}

static int
name_is(X509_NAME *n, int nid, const char *want)
{
	char buf[128];

	return X509_NAME_get_text_by_NID(n, nid, buf, sizeof(buf)) > 0 &&
	    strcmp(buf, want) == 0;
}

/* ---- tests --------------------------------------------------------------- */

static void
test_setup(void)
{
	char label[32];

	CHECK(fixture_softhsm_new(&fx) == 0);
	CHECK_RC(hsm_token_init(FIXTURE_MODULE, LABEL, "so-pin-ca", "user-pin-ca"), 0);
	CHECK_RC(hsm_open(FIXTURE_MODULE, LABEL, &H), 0);
	CHECK_RC(hsm_login(H, "user-pin-ca"), 0);
	for (int i = 0; i < 4; i++) {
		if (slow_type(types[i])) {
			printf("# %s CA key skipped under valgrind\n", hsm_key_type_name(types[i]));
			continue;
		}
		snprintf(label, sizeof(label), "ca-%s", hsm_key_type_name(types[i]));
		CHECK_RC(hsm_keygen(H, types[i], label, ca_ids[i]), 0);
		have[i] = 1;
	}
	CHECK((subj = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) != NULL);
}

static void
test_root_each_key_type(void)
{
	for (int i = 0; i < 4; i++) {
		BASIC_CONSTRAINTS *bc;
		EVP_PKEY *pub = NULL;
		X509 *r = NULL;
		int sig_nid, err, ca, pathlen;

		if (!have[i])
			continue;
		CHECK_RC(ca_make_root(H, ca_ids[i], HSM_ID_LEN, "Sealbox Test Root",
		    "Sealbox Test", 3650, &r), 0);
		roots[i] = r;
		CHECK_RC(hsm_key_public(H, ca_ids[i], HSM_ID_LEN, &pub), 0);
		CHECK(EVP_PKEY_eq(pub, X509_get0_pubkey(r)) == 1);
		CHECK(X509_verify(r, pub) == 1);
		EVP_PKEY_free(pub);
		CHECK(verify_chain(r, r, NULL, 0, &err));
		CHECK(X509_check_ca(r) == 1);
		CHECK(ext_crit(r, NID_basic_constraints) == 2);
		bc = X509_get_ext_d2i(r, NID_basic_constraints, NULL, NULL);
		CHECK(bc != NULL);
		ca = bc->ca;
		pathlen = bc->pathlen ? (int)ASN1_INTEGER_get(bc->pathlen) : -1;
		BASIC_CONSTRAINTS_free(bc);
		CHECK(ca && pathlen == 0);
		CHECK(ext_crit(r, NID_key_usage) == 2);
		CHECK(X509_get_key_usage(r) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
		CHECK(X509_get0_subject_key_id(r) != NULL);
		CHECK(aki_matches(r, r));
		CHECK(name_is(X509_get_subject_name(r), NID_commonName, "Sealbox Test Root"));
		CHECK(name_is(X509_get_subject_name(r), NID_organizationName, "Sealbox Test"));
		CHECK(X509_NAME_cmp(X509_get_subject_name(r), X509_get_issuer_name(r)) == 0);
		CHECK(X509_get_signature_info(r, NULL, NULL, NULL, NULL) == 1);
		sig_nid = X509_get_signature_nid(r);
		switch (types[i]) {
		case HSM_KEY_EC_P256: CHECK(sig_nid == NID_ecdsa_with_SHA256); break;
		case HSM_KEY_EC_P384: CHECK(sig_nid == NID_ecdsa_with_SHA384); break;
		default: CHECK(sig_nid == NID_sha256WithRSAEncryption); break;
		}
		CHECK(X509_get_version(r) == X509_VERSION_3);
	}
}

static void
test_issue_each_profile(void)
{
	static const struct {
		enum ca_profile p;
		const char *san;
		int ku, purpose, eku_nid, eku_crit;
	} cases[] = {
		{ CA_PROFILE_SEAL, NULL, KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION,
		  X509_PURPOSE_SMIME_SIGN, 0, 0 },
		{ CA_PROFILE_TSA, NULL, KU_DIGITAL_SIGNATURE,
		  X509_PURPOSE_TIMESTAMP_SIGN, NID_time_stamp, 2 },
		{ CA_PROFILE_TLS_SERVER, "DNS:localhost,DNS:sealbox.example,IP:127.0.0.1,IP:::1",
		  KU_DIGITAL_SIGNATURE, X509_PURPOSE_SSL_SERVER, NID_server_auth, 1 },
		{ CA_PROFILE_TLS_CLIENT, NULL, KU_DIGITAL_SIGNATURE,
		  X509_PURPOSE_SSL_CLIENT, NID_client_auth, 1 },
		{ CA_PROFILE_AUDIT, NULL, KU_DIGITAL_SIGNATURE, 0, 0, 0 },
	};

	for (int k = 0; k < 4; k++) {
		if (!have[k])
			continue;
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			X509 *x = NULL;
			int err;

			CHECK_RC(ca_issue(H, ca_ids[k], HSM_ID_LEN, roots[k], subj, "leaf",
			    "Org", cases[i].p, cases[i].san, 365, &x), 0);
			if (!verify_chain(roots[k], x, NULL, cases[i].purpose, &err)) {
				printf("#   %s under %s: %s\n", ca_profile_name(cases[i].p),
				    hsm_key_type_name(types[k]), X509_verify_cert_error_string(err));
				X509_free(x);
				CHECK(0);
			}
			CHECK(X509_check_ca(x) == 0);
			CHECK(ext_crit(x, NID_basic_constraints) == 2);
			CHECK(ext_crit(x, NID_key_usage) == 2);
			CHECK(X509_get_key_usage(x) == (uint32_t)cases[i].ku);
			CHECK(ext_crit(x, NID_ext_key_usage) == cases[i].eku_crit);
			CHECK(eku_count(x) == (cases[i].eku_nid ? 1 : 0));
			CHECK(cases[i].eku_nid == 0 || eku_has(x, cases[i].eku_nid));
			CHECK(ext_crit(x, NID_subject_alt_name) == (cases[i].san ? 1 : 0));
			CHECK(aki_matches(x, roots[k]));
			CHECK(X509_get0_subject_key_id(x) != NULL);
			CHECK(EVP_PKEY_eq(X509_get0_pubkey(x), subj) == 1);
			CHECK(name_is(X509_get_subject_name(x), NID_commonName, "leaf"));
			if (cases[i].p == CA_PROFILE_TLS_SERVER) {
				CHECK(X509_check_host(x, "localhost", 0, 0, NULL) == 1);
				CHECK(X509_check_host(x, "sealbox.example", 0, 0, NULL) == 1);
				CHECK(X509_check_host(x, "other.example", 0, 0, NULL) == 0);
				CHECK(X509_check_ip_asc(x, "127.0.0.1", 0) == 1);
				CHECK(X509_check_ip_asc(x, "::1", 0) == 1);
			}
			/* A profile's certificate is no good for the others' purposes. */
			if (cases[i].p != CA_PROFILE_TSA)
				CHECK(X509_check_purpose(x, X509_PURPOSE_TIMESTAMP_SIGN, 0) != 1);
			if (cases[i].p == CA_PROFILE_TSA || cases[i].p == CA_PROFILE_TLS_CLIENT)
				CHECK(X509_check_purpose(x, X509_PURPOSE_SMIME_SIGN, 0) != 1);
			X509_free(x);
		}
	}
}

static void
test_rsa_subject_tls_server(void)
{
	EVP_PKEY *rsa = NULL;
	X509 *x = NULL;
	int err, ok;

	CHECK(have[0]);
	CHECK((rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)) != NULL);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], rsa, "seald", NULL,
	    CA_PROFILE_TLS_SERVER, "DNS:localhost", 30, &x), 0);
	ok = X509_get_key_usage(x) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT) &&
	    verify_chain(roots[0], x, NULL, X509_PURPOSE_SSL_SERVER, &err);
	X509_free(x);
	EVP_PKEY_free(rsa);
	CHECK(ok);
}

static void
test_hsm_subject_key(void)
{
	uint8_t id[HSM_ID_LEN];
	EVP_PKEY *pub = NULL;
	X509 *x = NULL, *back = NULL;
	int err;

	CHECK(have[0]);
	CHECK_RC(hsm_keygen(H, HSM_KEY_EC_P384, "seal-one", id), 0);
	CHECK_RC(hsm_key_public(H, id, HSM_ID_LEN, &pub), 0);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], pub, "Seal One", "Org",
	    CA_PROFILE_SEAL, NULL, 365, &x), 0);
	EVP_PKEY_free(pub);
	CHECK(verify_chain(roots[0], x, NULL, X509_PURPOSE_SMIME_SIGN, &err));
	/* The token accepts it as the key's certificate. */
	CHECK_RC(hsm_cert_store(H, id, HSM_ID_LEN, "seal-one", x), 0);
	CHECK_RC(hsm_cert_get(H, id, HSM_ID_LEN, &back), 0);
	CHECK(X509_cmp(x, back) == 0);
	X509_free(back);
	/* A leaf is not a CA, even for its own key. */
	CHECK_RC(ca_issue(H, id, HSM_ID_LEN, x, subj, "x", NULL, CA_PROFILE_SEAL, NULL,
	    1, &back), SB_EINVAL);
	X509_free(x);
}

static void
test_serials_random_and_unique(void)
{
	enum { N = 16 };
	X509 *x[N] = { 0 };
	int ok = 1;

	CHECK(have[0]);
	for (int i = 0; i < N; i++)
		CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, "s", NULL,
		    CA_PROFILE_AUDIT, NULL, 1, &x[i]), 0);
	for (int i = 0; i < N; i++) {
		const ASN1_INTEGER *a = X509_get0_serialNumber(x[i]);
		BIGNUM *bn = ASN1_INTEGER_to_BN(a, NULL);

		/* Positive, 113..127 bits (top bit cleared, first 16 bits not 0). */
		if (bn == NULL || BN_is_negative(bn) || BN_num_bits(bn) > 127 ||
		    BN_num_bits(bn) < 113)
			ok = 0;
		BN_free(bn);
		for (int j = 0; j < i; j++)
			if (ASN1_INTEGER_cmp(a, X509_get0_serialNumber(x[j])) == 0)
				ok = 0;
	}
	for (int i = 0; i < N; i++)
		X509_free(x[i]);
	CHECK(ok);
}

static void
test_validity(void)
{
	X509 *r = NULL, *x = NULL;
	int ok;
	time_t now = time(NULL);

	CHECK(have[1]);
	CHECK_RC(ca_make_root(H, ca_ids[1], HSM_ID_LEN, "Short Root", NULL, 10, &r), 0);
	/* Exactly days from now, notBefore a minute back. */
	ok = X509_cmp_time(X509_get0_notBefore(r), &now) < 0 &&
	    X509_cmp_time(X509_get0_notAfter(r), &(time_t){ now + 10 * 86400 - 5 }) > 0 &&
	    X509_cmp_time(X509_get0_notAfter(r), &(time_t){ now + 10 * 86400 + 5 }) < 0;
	if (ok)
		ok = ca_issue(H, ca_ids[1], HSM_ID_LEN, r, subj, "long", NULL,
		    CA_PROFILE_SEAL, NULL, 100, &x) == 0 &&
		    ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(r)) == 0;
	X509_free(x);
	X509_free(r);
	CHECK(ok);
}

static void
test_refusals(void)
{
	static const char *bad_san[] = {
		"", "DNS:", "IP:", "DNS:a b", "DNS:a,", ",DNS:a", "email:x@example.org",
		"DNS:a,email:copy", "@section", "URI:http://x", "IP:300.1.1.1",
		"DNS:-bad..", "DNS:a\nb", "otherName:1.2.3;UTF8:x", "dns:lower",
	};
	char longname[CA_NAME_MAX + 2];
	uint8_t nokey[HSM_ID_LEN];
	X509 *x = (X509 *)1;

	CHECK(have[0] && have[1]);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(nokey, 0x42, sizeof(nokey));
	for (size_t i = 0; i < sizeof(bad_san) / sizeof(bad_san[0]); i++)
		CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, "s", NULL,
		    CA_PROFILE_TLS_SERVER, bad_san[i], 1, &x), SB_EINVAL);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, "s", NULL,
	    CA_PROFILE_TLS_SERVER, NULL, 1, &x), SB_EINVAL);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, "s", NULL,
	    (enum ca_profile)0, NULL, 1, &x), SB_EINVAL);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, "s", NULL,
	    (enum ca_profile)99, NULL, 1, &x), SB_EINVAL);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, "", NULL,
	    CA_PROFILE_SEAL, NULL, 1, &x), SB_EINVAL);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, longname, NULL,
	    CA_PROFILE_SEAL, NULL, 1, &x), SB_EINVAL);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, "a\tb", NULL,
	    CA_PROFILE_SEAL, NULL, 1, &x), SB_EINVAL);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, "s", "o\n",
	    CA_PROFILE_SEAL, NULL, 1, &x), SB_EINVAL);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, "s", NULL,
	    CA_PROFILE_SEAL, NULL, 0, &x), SB_EINVAL);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, "s", NULL,
	    CA_PROFILE_SEAL, NULL, CA_DAYS_MAX + 1, &x), SB_EINVAL);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], NULL, "s", NULL,
	    CA_PROFILE_SEAL, NULL, 1, &x), SB_EINVAL);
	/* The CA certificate must be the CA key's. */
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[1], subj, "s", NULL,
	    CA_PROFILE_SEAL, NULL, 1, &x), SB_EINVAL);
	CHECK_RC(ca_issue(H, nokey, HSM_ID_LEN, roots[0], subj, "s", NULL,
	    CA_PROFILE_SEAL, NULL, 1, &x), SB_ENOTFOUND);
	CHECK_RC(ca_make_root(H, nokey, HSM_ID_LEN, "r", NULL, 1, &x), SB_ENOTFOUND);
	CHECK_RC(ca_make_root(H, ca_ids[0], HSM_ID_LEN, NULL, NULL, 1, &x), SB_EINVAL);
	CHECK_RC(ca_make_root(NULL, ca_ids[0], HSM_ID_LEN, "r", NULL, 1, &x), SB_EINVAL);
	CHECK_RC(ca_make_crl(H, ca_ids[0], HSM_ID_LEN, roots[0], NULL, 1, 1,
	    (X509_CRL **)&x), SB_EINVAL);
	CHECK_RC(ca_make_crl(H, ca_ids[0], HSM_ID_LEN, roots[0], &(struct ca_revoked){ 0 },
	    CA_CRL_MAX + 1, 1, (X509_CRL **)&x), SB_ELIMIT);
	CHECK(x == (X509 *)1);	/* untouched on failure */
	CHECK_STR(ca_profile_name(CA_PROFILE_TLS_SERVER), "tls-server");
	CHECK_STR(ca_profile_name((enum ca_profile)42), "unknown");
}

static void
test_crl(void)
{
	X509 *a = NULL, *b = NULL, *c = NULL;
	X509_CRL *crl = NULL, *empty = NULL;
	X509_REVOKED *rev = NULL;
	struct ca_revoked list[2];
	ASN1_INTEGER *num = NULL;
	EVP_PKEY *pub = NULL;
	int err, ok;

	CHECK(have[0]);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, "client-a", NULL,
	    CA_PROFILE_TLS_CLIENT, NULL, 30, &a), 0);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, "client-b", NULL,
	    CA_PROFILE_TLS_CLIENT, NULL, 30, &b), 0);
	CHECK_RC(ca_issue(H, ca_ids[0], HSM_ID_LEN, roots[0], subj, "client-c", NULL,
	    CA_PROFILE_TLS_CLIENT, NULL, 30, &c), 0);
	list[0].serial = X509_get0_serialNumber(a);
	list[0].when = time(NULL) - 3600;
	list[1].serial = X509_get0_serialNumber(b);
	list[1].when = time(NULL);
	ok = ca_make_crl(H, ca_ids[0], HSM_ID_LEN, roots[0], list, 2, 7, &crl) == 0 &&
	    ca_make_crl(H, ca_ids[0], HSM_ID_LEN, roots[0], NULL, 0, 7, &empty) == 0 &&
	    hsm_key_public(H, ca_ids[0], HSM_ID_LEN, &pub) == 0;
	if (ok) {
		int step = 0;

		num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
		if (++step, X509_CRL_verify(crl, pub) != 1 || X509_CRL_verify(empty, pub) != 1)
			ok = 0;
		else if (++step, X509_CRL_get_version(crl) != X509_CRL_VERSION_2)
			ok = 0;
		else if (++step, sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) != 2 ||
		    sk_X509_REVOKED_num(X509_CRL_get_REVOKED(empty)) > 0)
			ok = 0;
		else if (++step, X509_CRL_get0_by_serial(crl, &rev, list[0].serial) != 1 ||
		    X509_CRL_get0_by_serial(crl, &rev, list[1].serial) != 1 ||
		    X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(c)) != 0)
			ok = 0;
		else if (++step, X509_NAME_cmp(X509_CRL_get_issuer(crl),
		    X509_get_subject_name(roots[0])) != 0)
			ok = 0;
		else if (++step, X509_CRL_get_ext_by_NID(crl, NID_authority_key_identifier, -1) < 0)
			ok = 0;
		else if (++step, num == NULL || ASN1_INTEGER_get(num) < 1700000000)
			ok = 0;
		if (!ok)
			printf("#   CRL check %d failed\n", step);
	}
	/* Verification with CRL checking: a and b are revoked, c is not. */
	if (ok) {
		ok = !verify_chain(roots[0], a, crl, X509_PURPOSE_SSL_CLIENT, &err) &&
		    err == X509_V_ERR_CERT_REVOKED &&
		    !verify_chain(roots[0], b, crl, X509_PURPOSE_SSL_CLIENT, &err) &&
		    err == X509_V_ERR_CERT_REVOKED &&
		    verify_chain(roots[0], c, crl, X509_PURPOSE_SSL_CLIENT, &err) &&
		    verify_chain(roots[0], a, empty, X509_PURPOSE_SSL_CLIENT, &err);
	}
	ASN1_INTEGER_free(num);
	EVP_PKEY_free(pub);
	X509_CRL_free(crl);
	X509_CRL_free(empty);
	X509_free(a);
	X509_free(b);
	X509_free(c);
	CHECK(ok);
}

static void
test_crl_other_key_types(void)
{
	for (int k = 1; k < 4; k++) {
		X509_CRL *crl = NULL;
		struct ca_revoked r = { X509_get0_serialNumber(roots[k] ? roots[k] : roots[0]), 0 };
		EVP_PKEY *pub = NULL;
		int ok;

		if (!have[k])
			continue;
		r.when = time(NULL);
		CHECK_RC(ca_make_crl(H, ca_ids[k], HSM_ID_LEN, roots[k], &r, 1, 1, &crl), 0);
		ok = hsm_key_public(H, ca_ids[k], HSM_ID_LEN, &pub) == 0 &&
		    X509_CRL_verify(crl, pub) == 1;
		EVP_PKEY_free(pub);
		X509_CRL_free(crl);
		CHECK(ok);
	}
}

static void
test_crl_list(void)
{
	char s[CRL_SERIAL_MAX], path[sizeof(fx.dir) + 16];
	struct ca_revoked *r = NULL;
	X509_CRL *crl = NULL;
	size_t n = 99;
	FILE *f;
	int ok;

	CHECK_RC(crl_serial_norm("06:92:ac", s), 0);
	CHECK_STR(s, "692AC");
	{
		/* A serial whose first byte is below 0x10: printed as the CRL
		 * code writes it, so that one certificate has one serial. */
		X509 *x = X509_new();
		char hex[64];

		CHECK(x != NULL && ASN1_INTEGER_set(X509_get_serialNumber(x), 0x084A) == 1);
		ca_serial_hex(x, hex, sizeof(hex));
		CHECK_RC(crl_serial_norm("084A", s), 0);
		CHECK_STR(hex, s);
		CHECK_STR(hex, "84A");
		X509_free(x);
	}
	CHECK_RC(crl_serial_norm("000", s), 0);
	CHECK_STR(s, "0");
	CHECK_RC(crl_serial_norm("1234567890123456789012345678901234567890", s), 0);
	CHECK_RC(crl_serial_norm("12345678901234567890123456789012345678901", s), SB_EINVAL);
	CHECK_RC(crl_serial_norm("", s), SB_EINVAL);
	CHECK_RC(crl_serial_norm("0x12", s), SB_EINVAL);
	CHECK_RC(crl_serial_norm(":12", s), SB_EINVAL);
	CHECK_RC(crl_serial_norm("12:", s), SB_EINVAL);
	CHECK_RC(crl_serial_norm("12::34", s), SB_EINVAL);
	CHECK_RC(crl_serial_norm("12 34", s), SB_EINVAL);
	snprintf(path, sizeof(path), "%s/revoked.txt", fx.dir);
	/* No file yet: an empty list. */
	CHECK_RC(crl_list_load(path, &r, &n), 0);
	CHECK(r == NULL && n == 0);
	CHECK_RC(crl_list_append(path, "692AC", 1795000000), 0);
	CHECK_RC(crl_list_append(path, "1F", 1795000001), 0);
	CHECK_RC(crl_list_load(path, &r, &n), 0);
	ok = n == 2 && r[1].when == 1795000001 && crl_list_has(r, n, "692AC") &&
	    crl_list_has(r, n, "1F") && !crl_list_has(r, n, "20");
	crl_list_free(r, n);
	CHECK(ok);
	CHECK_RC(crl_serial_norm("serial=0692AC", s), 0);
	CHECK_STR(s, "692AC");
	/* The CRL made of it lists both and is the CA's, not another root's. */
	CHECK_RC(crl_make(H, ca_ids[0], HSM_ID_LEN, roots[0], path, NULL, NULL, time(NULL), 3,
	    &crl, &n), 0);
	ok = n == 2 && sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) == 2 &&
	    crl_issued_by(crl, roots[0]) && (!have[1] || !crl_issued_by(crl, roots[1]));
	CHECK(ok);
	/* Made again from a list that lost 1F, with this CRL in force and 77
	 * added: 1F stays (with its date), 77 comes in; nothing is dropped. */
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("692AC 1795000000\n", f);
	fclose(f);
	{
		X509_CRL *again = NULL;
		ASN1_INTEGER *a = crl_serial_asn1("1F"), *b = crl_serial_asn1("77");
		X509_REVOKED *rv = NULL;

		ok = crl_make(H, ca_ids[0], HSM_ID_LEN, roots[0], path, crl, "77", 1795000500, 3,
		    &again, &n) == 0 && n == 3 && X509_CRL_get0_by_serial(again, &rv, a) == 1 &&
		    ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(rv), 1795000001) == 0 &&
		    X509_CRL_get0_by_serial(again, &rv, b) == 1 &&
		    ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(rv), 1795000500) == 0;
		ASN1_INTEGER_free(a);
		ASN1_INTEGER_free(b);
		X509_CRL_free(again);
	}
	X509_CRL_free(crl);
	crl = NULL;
	CHECK(ok);
	/* Past the first growth of the list (64 entries). */
	for (int i = 0; i < 70; i++) {
		char hex[16];

		snprintf(hex, sizeof(hex), "%X", 0x1000 + i);
		CHECK_RC(crl_list_append(path, hex, 1795000000 + i), 0);
	}
	CHECK_RC(crl_list_load(path, &r, &n), 0);
	ok = n == 71 && r[0].when == 1795000000 && r[70].when == 1795000069 &&
	    crl_list_has(r, n, "1045") && !crl_list_has(r, n, "1046");
	crl_list_free(r, n);
	CHECK(ok);
	/* A time past the year 9999 is not a time. */
	CHECK((f = fopen(path, "a")) != NULL);
	fputs("AB 253402300800\n", f);
	fclose(f);
	CHECK_RC(crl_list_load(path, &r, &n), SB_EINVAL);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("692AC 1795000000\n1F 1795000001\n", f);
	fclose(f);
	/* A line that is not a serial and a time fails the whole list. */
	CHECK((f = fopen(path, "a")) != NULL);
	fputs("zz 12\n", f);
	fclose(f);
	CHECK_RC(crl_list_load(path, &r, &n), SB_EINVAL);
	CHECK(r == NULL && n == 0);
	CHECK_RC(crl_make(H, ca_ids[0], HSM_ID_LEN, roots[0], path, NULL, NULL, time(NULL), 3,
	    &crl, &n), SB_EINVAL);
	unlink(path);
}

static void
test_crl_file(void)
{
	char path[sizeof(fx.dir) + 16];
	STACK_OF(X509_CRL) *crls = NULL, *back = NULL;
	X509_CRL *mine = NULL, *other = NULL;
	unsigned char *der = NULL;
	int len, ok;
	FILE *f;

	CHECK(have[0] && have[1]);
	snprintf(path, sizeof(path), "%s/clients.crl", fx.dir);
	CHECK_RC(crl_file_read(path, &crls), SB_ENOTFOUND);
	CHECK_RC(ca_make_crl(H, ca_ids[0], HSM_ID_LEN, roots[0], NULL, 0, 3, &mine), 0);
	CHECK_RC(ca_make_crl(H, ca_ids[1], HSM_ID_LEN, roots[1], NULL, 0, 3, &other), 0);
	CHECK((crls = sk_X509_CRL_new_null()) != NULL);
	ok = sk_X509_CRL_push(crls, other) > 0;
	other = ok ? NULL : other;
	ok = ok && sk_X509_CRL_push(crls, mine) > 0;
	mine = ok ? NULL : mine;
	ok = ok && crl_file_write_new(path, crls, 0644) == 0 && file_put_in_place(path) == 0 &&
	    crl_file_read(path, &back) == 0 && sk_X509_CRL_num(back) == 2 &&
	    crl_file_ours(back, roots[0]) == 1 && crl_file_ours(back, roots[1]) == 0 &&
	    (!have[2] || crl_file_ours(back, roots[2]) == -1);
	sk_X509_CRL_pop_free(back, X509_CRL_free);
	back = NULL;
	/* DER, one CRL: read; DER with a byte after it, or text: refused. */
	if (ok && (len = i2d_X509_CRL(sk_X509_CRL_value(crls, 1), &der)) > 0 &&
	    (f = fopen(path, "wb")) != NULL) {
		fwrite(der, 1, (size_t)len, f);
		fclose(f);
		ok = crl_file_read(path, &back) == 0 && sk_X509_CRL_num(back) == 1 &&
		    crl_file_ours(back, roots[0]) == 0;
		sk_X509_CRL_pop_free(back, X509_CRL_free);
		back = NULL;
		f = fopen(path, "ab");
		if (f != NULL) {
			fputc(0, f);
			fclose(f);
		}
		ok = ok && crl_file_read(path, &back) == SB_EINVAL && back == NULL;
	} else
		ok = 0;
	OPENSSL_free(der);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	X509_CRL_free(mine);
	X509_CRL_free(other);
	CHECK(ok);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("-----BEGIN X509 CRL-----\nnot base64 at all\n-----END X509 CRL-----\n", f);
	fclose(f);
	CHECK_RC(crl_file_read(path, &back), SB_EINVAL);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("hello\n", f);
	fclose(f);
	CHECK_RC(crl_file_read(path, &back), SB_EINVAL);
	unlink(path);
}

int
main(void)
{
	log_init("test_ca", LOG_TO_STDERR);
	RUN(test_setup, "a throwaway token with a CA key of each type");
	RUN(test_root_each_key_type, "roots for P-256, P-384, RSA-2048, RSA-3072: "
	    "self-signed by the HSM key, CA:TRUE pathlen 0 and keyCertSign|cRLSign "
	    "critical, SKI = AKI, SHA-384 for P-384");
	RUN(test_issue_each_profile, "each profile under each root verifies for its "
	    "purpose and carries exactly its KU/EKU (TSA's EKU critical), SAN, AKI");
	RUN(test_rsa_subject_tls_server, "an RSA TLS server key also gets keyEncipherment");
	RUN(test_hsm_subject_key, "a seal certificate for an HSM key is accepted by the "
	    "token as that key's certificate; a leaf cannot act as CA");
	RUN(test_serials_random_and_unique, "serial numbers are positive, ~127 random "
	    "bits, unique");
	RUN(test_validity, "validity is days from now (a minute's skew back) and never "
	    "outlives the CA");
	RUN(test_refusals, "bad SANs, names, days, profiles, a CA cert for another key, "
	    "an unknown key: refused with the right code, output untouched");
	RUN(test_crl, "a CRL lists the revoked serials, verifies, and makes "
	    "X509_verify_cert refuse exactly those certificates");
	RUN(test_crl_other_key_types, "CRLs signed by P-384 and RSA CA keys verify");
	RUN(test_crl_list, "the revoked list: serials normalised (serial=, colons, case, "
	    "zeros), appended, read back past its first growth, its CRL the CA's and "
	    "never dropping what the CRL in force lists; a bad line or time refused");
	RUN(test_crl_file, "a CRL file read as seald does (PEM, several; DER, one); ours "
	    "found among others; written back whole; broken files refused");
	for (int i = 0; i < 4; i++)
		X509_free(roots[i]);
	EVP_PKEY_free(subj);
	hsm_close(H);
	fixture_softhsm_free(&fx);
	return check_done();
}
