/*
 * ca — X.509 certificates and CRLs signed by an HSM key.
 *
 * Extensions are made with OpenSSL's own v3 configuration code
 * (X509V3_EXT_nconf_nid) from fixed strings per profile; the only caller text
 * that reaches it is the SAN list, which is checked first to be plain
 * "DNS:name" / "IP:address" items (no "@section", "email:copy", "otherName"
 * or anything else the configuration syntax would otherwise accept).
 *
 * Signing: libp11's EVP_PKEY is a legacy key with an RSA_METHOD /
 * EC_KEY_METHOD that calls C_Sign; X509_sign and X509_CRL_sign reach it
 * through EVP_DigestSign like any other key (checked for EC P-256/P-384 and
 * RSA 2048/3072 by tests/unit/test_ca.c). Every signature is checked against
 * the CA's public key before the result is handed out: a faulty HSM must not
 * produce a certificate nobody can verify (or, for RSA-CRT, one that leaks
 * the key).
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/ossl.h"
#include "ca.h"

#define CA_SERIAL_BYTES 16
#define CA_SKEW_SECONDS 60

const char *
ca_profile_name(enum ca_profile p)
{
	switch (p) {
	case CA_PROFILE_SEAL: return "seal";
	case CA_PROFILE_TSA: return "tsa";
	case CA_PROFILE_TLS_SERVER: return "tls-server";
	case CA_PROFILE_TLS_CLIENT: return "tls-client";
	case CA_PROFILE_AUDIT: return "audit";
	}
	return "unknown";
}

/* 1..CA_NAME_MAX bytes, no control characters (UTF-8 otherwise allowed). */
static int
ca_name_ok(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > CA_NAME_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* A DNS name as a certificate may carry: labels of [A-Za-z0-9-], an
 * optional leading "*." wildcard, at most 253 bytes. */
static int
ca_dns_ok(const char *s, size_t n)
{
	size_t label = 0;

	if (n >= 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		n -= 2;
	}
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-') {
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return label > 0;
}

static int
ca_ip_ok(const char *s, size_t n)
{
	char tmp[INET6_ADDRSTRLEN];
	unsigned char addr[16];

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET, tmp, addr) == 1 || inet_pton(AF_INET6, tmp, addr) == 1;
}

int
ca_san_valid(const char *san)
{
	const char *p = san, *end;
	size_t n;

	if (strlen(san) == 0 || strlen(san) > CA_SAN_MAX)
		return 0;
	for (;;) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n > 4 && strncmp(p, "DNS:", 4) == 0) {
			if (!ca_dns_ok(p + 4, n - 4))
				return 0;
		} else if (n > 3 && strncmp(p, "IP:", 3) == 0) {
			if (!ca_ip_ok(p + 3, n - 3))
				return 0;
		} else
			return 0;
		if (end == NULL)
			return 1;
		p = end + 1;
	}
}

/* SHA-384 for P-384 CA keys, SHA-256 otherwise. */
static const EVP_MD *
ca_md_for(EVP_PKEY *pub)
{
	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC && EVP_PKEY_get_bits(pub) == 384)
		return EVP_sha384();
	return EVP_sha256();
}

static int
ca_set_serial(X509 *x)
{
	uint8_t r[CA_SERIAL_BYTES];
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;
	int rc = SB_ECRYPTO;

	do {
		if (RAND_bytes(r, sizeof(r)) != 1)
			return ossl_fail("ca", "random serial number");
		r[0] &= 0x7f;	/* positive */
	} while (r[0] == 0 && r[1] == 0);	/* and not short */
	if ((bn = BN_bin2bn(r, sizeof(r), NULL)) != NULL &&
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
	    X509_set_serialNumber(x, ai) == 1)
		rc = 0;
	else
		rc = ossl_fail("ca", "serial number");
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return rc;
}

static X509_NAME *
ca_make_name(const char *cn, const char *org)
{
	X509_NAME *n = X509_NAME_new();

	if (n == NULL ||
	    (org != NULL && X509_NAME_add_entry_by_NID(n, NID_organizationName,
	    MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0) != 1) ||
	    X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1) {
		X509_NAME_free(n);
		return NULL;
	}
	return n;
}

/* Add one extension from its configuration text; ctx names subject/issuer. */
static int
ca_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok = e != NULL && X509_add_ext(x, e, -1) == 1;

	X509_EXTENSION_free(e);
	if (!ok) {
		char what[96];

		snprintf(what, sizeof(what), "extension %s", OBJ_nid2sn(nid));
		return ossl_fail("ca", what);
	}
	return 0;
}

/*
 * Sign x (or crl) with the HSM key and check the result with pub. Exactly
 * one of x, crl is non-NULL.
 */
static int
ca_sign(struct hsm *h, const uint8_t *id, size_t id_len, EVP_PKEY *pub,
    X509 *x, X509_CRL *crl)
{
	const EVP_MD *md = ca_md_for(pub);
	EVP_PKEY *priv;
	int rc, ok;

	if ((rc = hsm_key_borrow(h, id, id_len, &priv)) != 0) {
		log_err("ca: CA key: %s (%s)", sb_strerror(rc), hsm_error(h));
		return rc;
	}
	ERR_clear_error();
	ok = x != NULL ? X509_sign(x, priv, md) > 0 : X509_CRL_sign(crl, priv, md) > 0;
	hsm_key_release(h);
	if (!ok) {
		ossl_fail("ca", "signing with the CA key in the HSM");
		/* OpenSSL cannot tell a failing HSM from any other failure. */
		return hsm_check(h) != 0 ? SB_EHSM : SB_ECRYPTO;
	}
	ok = x != NULL ? X509_verify(x, pub) == 1 : X509_CRL_verify(crl, pub) == 1;
	if (!ok) {
		ERR_clear_error();
		log_err("ca: the HSM's signature does not verify with the CA's public key");
		return SB_ECRYPTO;
	}
	return 0;
}

/* The CA key's public key, checked against ca_cert (when given). */
static int
ca_key_pub(struct hsm *h, const uint8_t *id, size_t id_len, X509 *ca_cert,
    EVP_PKEY **pub)
{
	int rc;

	*pub = NULL;
	if ((rc = hsm_key_public(h, id, id_len, pub)) != 0) {
		log_err("ca: CA key: %s (%s)", sb_strerror(rc), hsm_error(h));
		return rc;
	}
	if (ca_cert == NULL)
		return 0;
	if (X509_get0_pubkey(ca_cert) == NULL ||
	    EVP_PKEY_eq(*pub, X509_get0_pubkey(ca_cert)) != 1) {
		ERR_clear_error();
		log_err("ca: the CA certificate is not for this HSM key");
		rc = SB_EINVAL;
	} else if (X509_check_ca(ca_cert) != 1 ||
	    !(X509_get_key_usage(ca_cert) & KU_KEY_CERT_SIGN)) {
		log_err("ca: the CA certificate is not a CA certificate");
		rc = SB_EINVAL;
	} else if (X509_cmp_current_time(X509_get0_notAfter(ca_cert)) <= 0 ||
	    X509_cmp_current_time(X509_get0_notBefore(ca_cert)) >= 0) {
		log_err("ca: the CA certificate has expired or is not valid yet");
		rc = SB_ESTATE;
	}
	if (rc != 0) {
		EVP_PKEY_free(*pub);
		*pub = NULL;
	}
	return rc;
}

/* Version, serial, names, validity and key: everything but extensions. */
static int
ca_base(X509 *x, X509 *issuer, EVP_PKEY *subject_pub, const char *cn,
    const char *org, int days)
{
	X509_NAME *name;
	int rc;

	if (X509_set_version(x, X509_VERSION_3) != 1)
		return ossl_fail("ca", "certificate version");
	if ((rc = ca_set_serial(x)) != 0)
		return rc;
	if ((name = ca_make_name(cn, org)) == NULL)
		return ossl_fail("ca", "subject name");
	rc = X509_set_subject_name(x, name) == 1 &&
	    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) == 1;
	X509_NAME_free(name);
	if (!rc)
		return ossl_fail("ca", "names");
	if (X509_gmtime_adj(X509_getm_notBefore(x), -CA_SKEW_SECONDS) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL)
		return ossl_fail("ca", "validity");
	if (issuer != NULL &&
	    ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(issuer)) > 0 &&
	    X509_set1_notAfter(x, X509_get0_notAfter(issuer)) != 1)
		return ossl_fail("ca", "validity");
	if (X509_set_pubkey(x, subject_pub) != 1)
		return ossl_fail("ca", "public key");
	return 0;
}

int
ca_make_root(struct hsm *h, const uint8_t *key_id, size_t id_len,
    const char *cn, const char *org, int days, X509 **out)
{
	EVP_PKEY *pub = NULL;
	X509V3_CTX v3;
	X509 *x = NULL;
	int rc;

	if (h == NULL || key_id == NULL || out == NULL || !ca_name_ok(cn) ||
	    (org != NULL && !ca_name_ok(org)) || days < 1 || days > CA_DAYS_MAX)
		return SB_EINVAL;
	if ((rc = ca_key_pub(h, key_id, id_len, NULL, &pub)) != 0)
		return rc;
	if ((x = X509_new()) == NULL) {
		rc = SB_ENOMEM;
		goto out;
	}
	if ((rc = ca_base(x, NULL, pub, cn, org, days)) != 0)
		goto out;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	/* pathlen:0 — this CA issues end-entity certificates only. SKI before
	 * AKI: a self-signed AKI copies the certificate's own SKI. */
	if ((rc = ca_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")) != 0 ||
	    (rc = ca_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign")) != 0 ||
	    (rc = ca_ext(x, &v3, NID_subject_key_identifier, "hash")) != 0 ||
	    (rc = ca_ext(x, &v3, NID_authority_key_identifier, "keyid:always")) != 0)
		goto out;
	if ((rc = ca_sign(h, key_id, id_len, pub, x, NULL)) != 0)
		goto out;
	*out = x;
	x = NULL;
out:
	X509_free(x);
	EVP_PKEY_free(pub);
	return rc;
}

/* The profile's keyUsage and extendedKeyUsage values (eku may be NULL). */
static int
ca_profile_usage(enum ca_profile p, EVP_PKEY *subject_pub, const char **ku,
    const char **eku)
{
	*eku = NULL;
	switch (p) {
	case CA_PROFILE_SEAL:
		*ku = "critical,digitalSignature,nonRepudiation";
		return 0;
	case CA_PROFILE_TSA:
		*ku = "critical,digitalSignature";
		*eku = "critical,timeStamping";
		return 0;
	case CA_PROFILE_TLS_SERVER:
		/* keyEncipherment for TLS 1.2 RSA key transport. */
		*ku = EVP_PKEY_get_base_id(subject_pub) == EVP_PKEY_RSA ?
		    "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature";
		*eku = "serverAuth";
		return 0;
	case CA_PROFILE_TLS_CLIENT:
		*ku = "critical,digitalSignature";
		*eku = "clientAuth";
		return 0;
	case CA_PROFILE_AUDIT:
		*ku = "critical,digitalSignature";
		return 0;
	}
	return SB_EINVAL;
}

int
ca_issue(struct hsm *h, const uint8_t *ca_key_id, size_t id_len,
    X509 *ca_cert, EVP_PKEY *subject_pub, const char *cn, const char *org,
    enum ca_profile profile, const char *san, int days, X509 **out)
{
	const char *ku = NULL, *eku = NULL;
	EVP_PKEY *pub = NULL;
	X509V3_CTX v3;
	X509 *x = NULL;
	int rc;

	if (h == NULL || ca_key_id == NULL || ca_cert == NULL || subject_pub == NULL ||
	    out == NULL || !ca_name_ok(cn) || (org != NULL && !ca_name_ok(org)) ||
	    days < 1 || days > CA_DAYS_MAX ||
	    ca_profile_usage(profile, subject_pub, &ku, &eku) != 0)
		return SB_EINVAL;
	if ((san == NULL && profile == CA_PROFILE_TLS_SERVER) ||
	    (san != NULL && !ca_san_valid(san))) {
		log_err("ca: subjectAltName must be DNS:name / IP:address items");
		return SB_EINVAL;
	}
	if ((rc = ca_key_pub(h, ca_key_id, id_len, ca_cert, &pub)) != 0)
		return rc;
	if ((x = X509_new()) == NULL) {
		rc = SB_ENOMEM;
		goto out;
	}
	if ((rc = ca_base(x, ca_cert, subject_pub, cn, org, days)) != 0)
		goto out;
	X509V3_set_ctx(&v3, ca_cert, x, NULL, NULL, 0);
	if ((rc = ca_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE")) != 0 ||
	    (rc = ca_ext(x, &v3, NID_key_usage, ku)) != 0 ||
	    (eku != NULL && (rc = ca_ext(x, &v3, NID_ext_key_usage, eku)) != 0) ||
	    (san != NULL && (rc = ca_ext(x, &v3, NID_subject_alt_name, san)) != 0) ||
	    (rc = ca_ext(x, &v3, NID_subject_key_identifier, "hash")) != 0 ||
	    (rc = ca_ext(x, &v3, NID_authority_key_identifier, "keyid:always")) != 0)
		goto out;
	if ((rc = ca_sign(h, ca_key_id, id_len, pub, x, NULL)) != 0)
		goto out;
	*out = x;
	x = NULL;
out:
	X509_free(x);
	EVP_PKEY_free(pub);
	return rc;
}

static int
ca_crl_add(X509_CRL *crl, const struct ca_revoked *r)
{
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_TIME *when = ASN1_TIME_set(NULL, r->when);
	int ok = rev != NULL && when != NULL &&
	    X509_REVOKED_set_serialNumber(rev, (ASN1_INTEGER *)r->serial) == 1 &&
	    X509_REVOKED_set_revocationDate(rev, when) == 1 &&
	    X509_CRL_add0_revoked(crl, rev) == 1;

	ASN1_TIME_free(when);
	if (!ok) {
		X509_REVOKED_free(rev);
		return ossl_fail("ca", "revoked entry");
	}
	return 0;
}

int
ca_make_crl(struct hsm *h, const uint8_t *ca_key_id, size_t id_len,
    X509 *ca_cert, const struct ca_revoked *revoked, size_t n, int days,
    X509_CRL **out)
{
	ASN1_INTEGER *number = NULL;
	X509_EXTENSION *aki = NULL;
	EVP_PKEY *pub = NULL;
	X509_CRL *crl = NULL;
	ASN1_TIME *t = NULL;
	X509V3_CTX v3;
	time_t now = time(NULL);
	int rc;

	if (h == NULL || ca_key_id == NULL || ca_cert == NULL || out == NULL ||
	    (n > 0 && revoked == NULL) || days < 1 || days > CA_DAYS_MAX)
		return SB_EINVAL;
	if (n > CA_CRL_MAX)
		return SB_ELIMIT;
	for (size_t i = 0; i < n; i++)
		if (revoked[i].serial == NULL)
			return SB_EINVAL;
	if ((rc = ca_key_pub(h, ca_key_id, id_len, ca_cert, &pub)) != 0)
		return rc;
	if (!(X509_get_key_usage(ca_cert) & KU_CRL_SIGN)) {
		log_err("ca: the CA certificate lacks cRLSign");
		rc = SB_EINVAL;
		goto out;
	}
	if ((crl = X509_CRL_new()) == NULL) {
		rc = SB_ENOMEM;
		goto out;
	}
	rc = SB_ECRYPTO;
	if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca_cert)) != 1 ||
	    (t = ASN1_TIME_set(NULL, now)) == NULL || X509_CRL_set1_lastUpdate(crl, t) != 1 ||
	    ASN1_TIME_adj(t, now, days, 0) == NULL || X509_CRL_set1_nextUpdate(crl, t) != 1) {
		rc = ossl_fail("ca", "CRL fields");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = ca_crl_add(crl, &revoked[i])) != 0)
			goto out;
	X509V3_set_ctx(&v3, ca_cert, NULL, NULL, crl, 0);
	if ((number = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_int64(number, (int64_t)now) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) != 1 ||
	    (aki = X509V3_EXT_nconf_nid(NULL, &v3, NID_authority_key_identifier,
	    "keyid:always")) == NULL || X509_CRL_add_ext(crl, aki, -1) != 1 ||
	    X509_CRL_sort(crl) != 1) {
		rc = ossl_fail("ca", "CRL extensions");
		goto out;
	}
	if ((rc = ca_sign(h, ca_key_id, id_len, pub, NULL, crl)) != 0)
		goto out;
	*out = crl;
	crl = NULL;
out:
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(number);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	EVP_PKEY_free(pub);
	return rc;
}

void
ca_san_text(X509 *x, char *out, size_t len)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char ip[INET6_ADDRSTRLEN] = "";
		int n = 0, fam;

		if (g->type == GEN_DNS) {
			n = snprintf(out + used, len - used, "%sDNS:%.*s", used ? "," : "",
			    ASN1_STRING_length(g->d.dNSName),
			    (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		} else if (g->type == GEN_IPADD) {
			fam = ASN1_STRING_length(g->d.iPAddress) == 4 ? AF_INET :
			    ASN1_STRING_length(g->d.iPAddress) == 16 ? AF_INET6 : 0;
			if (fam != 0 && inet_ntop(fam, ASN1_STRING_get0_data(g->d.iPAddress), ip,
			    sizeof(ip)) != NULL)
				n = snprintf(out + used, len - used, "%sIP:%s", used ? "," : "", ip);
		}
		if (n < 0 || (size_t)n >= len - used) {
			out[used] = '\0';
			break;
		}
		used += (size_t)n;
	}
	GENERAL_NAMES_free(gens);
}

void
ca_serial_hex(X509 *x, char *out, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	const char *h = hex;

	/* BN_bn2hex writes whole bytes ("084A..."); the form everywhere else
	 * (CRL, ledger, answers) has no leading zero: crl_serial_norm. */
	while (h != NULL && h[0] == '0' && h[1] != '\0')
		h++;
	snprintf(out, len, "%s", h ? h : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

void
ca_san_cn(const char *san, char *cn, size_t len)
{
	const char *ip = NULL;

	for (const char *p = san; *p != '\0'; p += strcspn(p, ","), p += *p == ',') {
		size_t n = strcspn(p, ",");

		if (strncmp(p, "DNS:", 4) == 0 && n - 4 <= 64) {
			snprintf(cn, len, "%.*s", (int)(n - 4), p + 4);
			return;
		}
		if (ip == NULL && strncmp(p, "IP:", 3) == 0)
			ip = p + 3;
	}
	if (ip != NULL)
		snprintf(cn, len, "%.*s", (int)strcspn(ip, ","), ip);
	else
		snprintf(cn, len, "sealbox");
}

int
ca_pem_only_certs(const char *text, size_t len)
{
	static const char begin[] = "-----BEGIN ", cert[] = "CERTIFICATE-----";
	const char *p = text, *end = text + len, *hit;

	while ((hit = memmem(p, (size_t)(end - p), begin, sizeof(begin) - 1)) != NULL) {
		hit += sizeof(begin) - 1;
		if ((size_t)(end - hit) < sizeof(cert) - 1 || memcmp(hit, cert, sizeof(cert) - 1) != 0)
			return 0;
		p = hit;
	}
	return 1;
}
