/* tls — server SSL_CTX for mutual TLS and the verified peer identity. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "tls.h"

/* TLS 1.2: forward secrecy and AEAD only. TLS 1.3 suites are all AEAD already. */
#define TLS_CIPHERS_12 "ECDHE+AESGCM:ECDHE+CHACHA20"
#define TLS_GROUPS "X25519:P-256:P-384"
#define TLS_SESSION_CACHE 20480		/* sessions kept for resumption */
#define TLS_SESSION_TIMEOUT 1800	/* seconds */
#define TLS_VERIFY_DEPTH 4
static const unsigned char tls_sid_ctx[] = "sealbox-net";

static int
tls_log_cb(const char *str, size_t len, void *u)
{
	log_err("%s: %.*s", (const char *)u, (int)(len > 0 && str[len - 1] == '\n' ? len - 1 : len),
	    str);
	return 1;
}

void
tls_log_errors(const char *what)
{
	if (ERR_peek_error() == 0)
		log_err("%s", what);
	ERR_print_errors_cb(tls_log_cb, (void *)what);
}

static int
tls_fail(const char *what, const char *path)
{
	char line[600];

	snprintf(line, sizeof(line), "tls: %s %s", what, path);
	tls_log_errors(line);
	return SB_ECONFIG;
}

/* Keys are not encrypted: never prompt on a terminal (there is none). */
static int
tls_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static BIO *
tls_bio(const struct tlsmat *m, enum tlsmat_part p)
{
	return BIO_new_mem_buf(m->part[p], (int)m->len[p]);
}

/* After a loop of PEM reads: 0 when it ended at the end of the data. */
static int
tls_pem_end(void)
{
	unsigned long e = ERR_peek_last_error();

	if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		return 0;
	}
	return -1;
}

/* The leaf, then its chain, as SSL_CTX_use_certificate_chain_file does. */
static int
tls_load_chain(SSL_CTX *ctx, const struct tlsmat *m, const char *path)
{
	BIO *b = tls_bio(m, TLSMAT_CERT);
	X509 *x = b ? PEM_read_bio_X509_AUX(b, NULL, tls_no_passphrase, NULL) : NULL;
	int rc = -1;

	if (x == NULL || SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_clear_chain_certs(ctx) != 1)
		goto out;
	X509_free(x);
	while ((x = PEM_read_bio_X509(b, NULL, tls_no_passphrase, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1)
			goto out;
	rc = tls_pem_end();
out:
	X509_free(x);
	BIO_free(b);
	return rc == 0 ? 0 : tls_fail("cannot load the certificate chain", path);
}

static int
tls_load_key(SSL_CTX *ctx, const struct tlsmat *m, const char *path, const char *cert_path)
{
	BIO *b = tls_bio(m, TLSMAT_KEY);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, tls_no_passphrase, NULL) : NULL;
	int rc = 0;

	BIO_free(b);
	if (k == NULL)
		return tls_fail("cannot load the key (PEM, not encrypted)", path);
	if (X509_check_private_key(SSL_CTX_get0_certificate(ctx), k) != 1) {
		char what[300];

		snprintf(what, sizeof(what), "the key does not match the certificate %.200s: key",
		    cert_path);
		rc = tls_fail(what, path);
	} else if (SSL_CTX_use_PrivateKey(ctx, k) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		rc = tls_fail("cannot use the key", path);
	}
	EVP_PKEY_free(k);
	return rc;
}

/*
 * The client CA bundle: trusted for verification and named in the
 * CertificateRequest (what load_verify_locations and SSL_load_client_CA_file
 * did from the file; CRLs found in it are added too). *cas gets the CA
 * certificates, for checking the CRL's signature.
 */
static int
tls_load_cas(SSL_CTX *ctx, const struct tlsmat *m, const char *path, STACK_OF(X509) **cas)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	BIO *b = tls_bio(m, TLSMAT_CA);
	STACK_OF(X509_INFO) *infos = b ? PEM_X509_INFO_read_bio(b, NULL, tls_no_passphrase, NULL) :
	    NULL;
	int rc = infos != NULL && (*cas = sk_X509_new_null()) != NULL ? 0 : -1;

	for (int i = 0; rc == 0 && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *in = sk_X509_INFO_value(infos, i);

		if (in->x509 != NULL) {
			if (X509_STORE_add_cert(st, in->x509) != 1 ||
			    SSL_CTX_add_client_CA(ctx, in->x509) != 1 ||
			    !sk_X509_push(*cas, in->x509))
				rc = -1;
			else
				X509_up_ref(in->x509);	/* *cas holds a reference too */
		}
		if (rc == 0 && in->crl != NULL && X509_STORE_add_crl(st, in->crl) != 1)
			rc = -1;
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(b);
	if (rc != 0)
		return tls_fail("cannot load the client CA", path);
	if (sk_X509_num(*cas) == 0)
		return tls_fail("no CA certificate in", path);
	return 0;
}

/* DER: exactly one CRL and nothing after it. */
static X509_CRL *
tls_parse_crl_der(const struct tlsmat *m)
{
	const unsigned char *p = m->part[TLSMAT_CRL];
	X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)m->len[TLSMAT_CRL]);

	if (c != NULL && p != m->part[TLSMAT_CRL] + m->len[TLSMAT_CRL]) {
		X509_CRL_free(c);
		return NULL;
	}
	return c;
}

/* The CRLs of the file, PEM (one or more) or DER (one); NULL when none. */
static STACK_OF(X509_CRL) *
tls_parse_crls(const struct tlsmat *m)
{
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	BIO *b = tls_bio(m, TLSMAT_CRL);
	X509_CRL *c = NULL;
	int ok = crls != NULL && b != NULL;

	while (ok && (c = PEM_read_bio_X509_CRL(b, NULL, tls_no_passphrase, NULL)) != NULL) {
		if (!(ok = sk_X509_CRL_push(crls, c) > 0))
			X509_CRL_free(c);
	}
	if (ok && tls_pem_end() != 0)
		ok = 0;
	if (ok && sk_X509_CRL_num(crls) == 0) {
		c = tls_parse_crl_der(m);
		if (c == NULL || !sk_X509_CRL_push(crls, c)) {
			X509_CRL_free(c);
			ok = 0;
		}
	}
	BIO_free(b);
	if (!ok) {
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
		return NULL;
	}
	return crls;
}

/* 1 when a CA of cas issued and signed crl. */
static int
tls_crl_signed(X509_CRL *crl, STACK_OF(X509) *cas)
{
	for (int i = 0; i < sk_X509_num(cas); i++) {
		X509 *ca = sk_X509_value(cas, i);
		EVP_PKEY *pk = X509_get0_pubkey(ca);

		if (X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) == 0 &&
		    pk != NULL && X509_CRL_verify(crl, pk) == 1)
			return 1;
	}
	ERR_clear_error();
	return 0;
}

/*
 * Load the CRLs into the store and turn checking on. CRL_CHECK checks the
 * leaf only, which is what a flat client CA issues. A CRL no CA of the
 * bundle signed is refused: OpenSSL would let it fail every handshake of
 * that CA's clients. An expired CRL makes every handshake fail (fail
 * closed), so say so.
 */
static int
tls_load_crl(SSL_CTX *ctx, const struct tlsmat *m, const char *path, STACK_OF(X509) *cas)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	STACK_OF(X509_CRL) *crls = tls_parse_crls(m);
	int rc = 0;

	if (crls == NULL)
		return tls_fail("cannot load the CRL (PEM or DER)", path);
	for (int i = 0; rc == 0 && i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);
		const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);

		if (!tls_crl_signed(crl, cas)) {
			log_err("tls: the CRL %s: not signed by a CA of tls.client_ca", path);
			rc = SB_ECONFIG;
		} else if (X509_STORE_add_crl(st, crl) != 1) {
			rc = tls_fail("cannot add the CRL", path);
		} else if (next != NULL && X509_cmp_current_time(next) < 0) {
			log_warn("tls: the CRL in %s is past its nextUpdate: every client "
			    "certificate will be refused until it is replaced", path);
		}
	}
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	if (rc == 0)
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	return rc;
}

static tls_revoked_fn tls_revoked_hook;
static void *tls_revoked_arg;

void
tls_set_revoked_hook(tls_revoked_fn fn, void *arg)
{
	tls_revoked_hook = fn;
	tls_revoked_arg = arg;
}

/*
 * 1 when cert is signed by the next certificate of sc's chain. OpenSSL
 * checks revocation before the leaf's signature, so a made-up certificate
 * with a revoked serial and the CA's name would otherwise be reported too.
 */
static int
tls_issued(X509_STORE_CTX *sc, X509 *cert)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(sc);
	X509 *issuer = chain != NULL && sk_X509_num(chain) > 1 ? sk_X509_value(chain, 1) : NULL;
	EVP_PKEY *key = issuer != NULL ? X509_get0_pubkey(issuer) : NULL;

	return key != NULL && X509_verify(cert, key) == 1;
}

/* The handshake's verdict stands; a genuine revoked client certificate is reported. */
static int
tls_verify_cb(int ok, X509_STORE_CTX *sc)
{
	X509 *cert;

	if (!ok && tls_revoked_hook != NULL &&
	    X509_STORE_CTX_get_error(sc) == X509_V_ERR_CERT_REVOKED &&
	    X509_STORE_CTX_get_error_depth(sc) == 0 &&
	    (cert = X509_STORE_CTX_get_current_cert(sc)) != NULL && tls_issued(sc, cert))
		tls_revoked_hook(tls_revoked_arg, cert);
	return ok;
}

static int
tls_ctx_setup(SSL_CTX *ctx, const struct config *cfg, const struct tlsmat *m)
{
	STACK_OF(X509) *cas = NULL;
	int rc;

	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1)
		return tls_fail("cannot set protocol options", "");
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION);
	if ((rc = tls_load_chain(ctx, m, cfg->tls.certificate)) != 0 ||
	    (rc = tls_load_key(ctx, m, cfg->tls.key, cfg->tls.certificate)) != 0 ||
	    (rc = tls_load_cas(ctx, m, cfg->tls.client_ca, &cas)) != 0)
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, tls_verify_cb);
	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);
	if (m->len[TLSMAT_CRL] > 0 && (rc = tls_load_crl(ctx, m, cfg->tls.crl, cas)) != 0)
		goto out;
	/* Without a session id context every resumption fails ("internal error"). */
	if (SSL_CTX_set_session_id_context(ctx, tls_sid_ctx, sizeof(tls_sid_ctx) - 1) != 1) {
		rc = tls_fail("cannot set the session id context", "");
		goto out;
	}
	/*
	 * Each context has its own session cache and ticket keys: a session
	 * never resumes across a reload, so a connection made on a context was
	 * verified against that context's CA bundle and CRL (net.c relies on it).
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, TLS_SESSION_CACHE);
	SSL_CTX_set_timeout(ctx, TLS_SESSION_TIMEOUT);
out:
	sk_X509_pop_free(cas, X509_free);
	return rc;
}

int
tls_ctx_new(const struct config *cfg, const struct tlsmat *m, SSL_CTX **out)
{
	SSL_CTX *ctx;
	int rc;

	*out = NULL;
	if (cfg->tls.certificate == NULL || cfg->tls.key == NULL || cfg->tls.client_ca == NULL) {
		log_err("tls: tls.certificate, tls.key and tls.client_ca are required");
		return SB_ECONFIG;
	}
	if ((m->len[TLSMAT_CRL] > 0) != (cfg->tls.crl != NULL)) {
		log_err("tls: the CRL bytes do not match tls.crl");
		return SB_ECONFIG;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_log_errors("tls: SSL_CTX_new");
		return SB_ENOMEM;
	}
	if ((rc = tls_ctx_setup(ctx, cfg, m)) != 0) {
		SSL_CTX_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

static void
tls_subject(X509 *cert, char *out, size_t outlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	out[0] = '\0';
	if (b == NULL)
		return;
	/* RFC 2253 escapes controls and non-ASCII: safe in logs and in the message. */
	if (X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0)
		n = BIO_read(b, out, (int)outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

int
tls_peer_cert(SSL *ssl, X509 **cert, const char **why)
{
	X509 *c = SSL_get0_peer_certificate(ssl);

	*cert = NULL;
	if (c == NULL || SSL_get_verify_result(ssl) != X509_V_OK) {
		*why = "no verified client certificate";
		return SB_EPERM;
	}
	/* The handshake checked validity; a resumed session did not check it again. */
	if (X509_cmp_current_time(X509_get0_notAfter(c)) < 0 ||
	    X509_cmp_current_time(X509_get0_notBefore(c)) > 0) {
		*why = "the client certificate is outside its validity period";
		return SB_EPERM;
	}
	*cert = c;
	return 0;
}

int
tls_cert_ident(X509 *cert, struct msg_ident *who)
{
	unsigned int len = 0;

	memset(who, 0, sizeof(*who));
	if (X509_digest(cert, EVP_sha256(), who->cert_sha256, &len) != 1 || len != 32) {
		ERR_clear_error();
		return SB_ECRYPTO;
	}
	tls_subject(cert, who->subject, sizeof(who->subject));
	return 0;
}

/* "the client certificate (serial 0x...)" into out. */
static void
tls_cert_label(X509 *cert, char *out, size_t n)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(out, n, "the client certificate (serial 0x%s)", hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

int
tls_recheck(SSL_CTX *ctx, X509 *cert, STACK_OF(X509) *chain, int *revoked, char *why,
    size_t n)
{
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	char label[120];
	int ok = 0, err = X509_V_ERR_UNSPECIFIED;

	*revoked = 0;
	/* The handshake's checks: the store's flags (CRL_CHECK) and depth, purpose sslclient. */
	if (sc != NULL && X509_STORE_CTX_init(sc, SSL_CTX_get_cert_store(ctx), cert, chain) == 1 &&
	    X509_STORE_CTX_set_default(sc, "ssl_client") == 1 &&
	    X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(sc), SSL_CTX_get0_param(ctx)) == 1) {
		ok = X509_verify_cert(sc) == 1;
		err = X509_STORE_CTX_get_error(sc);
	}
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
	if (ok)
		return 0;
	tls_cert_label(cert, label, sizeof(label));
	if (err == X509_V_ERR_CERT_REVOKED) {
		*revoked = 1;
		snprintf(why, n, "%s has been revoked", label);
	} else {
		snprintf(why, n, "%s no longer verifies against the client CA and CRL: %s", label,
		    X509_verify_cert_error_string(err));
	}
	return SB_EPERM;
}
