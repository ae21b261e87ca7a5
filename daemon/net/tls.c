/* tls — server SSL_CTX for mutual TLS and the verified peer identity. */
#include <string.h>

#include <openssl/err.h>
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

/*
 * Load the CRL into the store and turn checking on. CRL_CHECK checks the
 * leaf only, which is what a flat client CA issues; an expired CRL makes
 * every handshake fail (fail closed), so say so at start.
 */
static int
tls_load_crl(SSL_CTX *ctx, const char *path)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	X509_LOOKUP *lu = X509_STORE_add_lookup(st, X509_LOOKUP_file());
	STACK_OF(X509_OBJECT) *objs;
	int n;

	if (lu == NULL)
		return tls_fail("cannot add a lookup for", path);
	n = X509_load_crl_file(lu, path, X509_FILETYPE_PEM);
	if (n <= 0) {
		ERR_clear_error();
		n = X509_load_crl_file(lu, path, X509_FILETYPE_ASN1);
	}
	if (n <= 0)
		return tls_fail("cannot load the CRL", path);
	X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	objs = X509_STORE_get0_objects(st);
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509_CRL *crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, i));
		const ASN1_TIME *next = crl ? X509_CRL_get0_nextUpdate(crl) : NULL;

		if (next != NULL && X509_cmp_current_time(next) < 0)
			log_warn("tls: the CRL in %s is past its nextUpdate: every client "
			    "certificate will be refused until it is replaced", path);
	}
	return 0;
}

static int
tls_ctx_setup(SSL_CTX *ctx, const struct config *cfg)
{
	STACK_OF(X509_NAME) *names;

	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1)
		return tls_fail("cannot set protocol options", "");
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls.certificate) != 1)
		return tls_fail("cannot load the certificate chain", cfg->tls.certificate);
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls.key, SSL_FILETYPE_PEM) != 1)
		return tls_fail("cannot load the key", cfg->tls.key);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return tls_fail("the key does not match the certificate", cfg->tls.key);
	if (SSL_CTX_load_verify_locations(ctx, cfg->tls.client_ca, NULL) != 1)
		return tls_fail("cannot load the client CA", cfg->tls.client_ca);
	if ((names = SSL_load_client_CA_file(cfg->tls.client_ca)) == NULL)
		return tls_fail("no CA names in", cfg->tls.client_ca);
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);
	if (cfg->tls.crl != NULL && tls_load_crl(ctx, cfg->tls.crl) != 0)
		return SB_ECONFIG;
	/* Without a session id context every resumption fails ("internal error"). */
	if (SSL_CTX_set_session_id_context(ctx, tls_sid_ctx, sizeof(tls_sid_ctx) - 1) != 1)
		return tls_fail("cannot set the session id context", "");
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, TLS_SESSION_CACHE);
	SSL_CTX_set_timeout(ctx, TLS_SESSION_TIMEOUT);
	return 0;
}

int
tls_ctx_new(const struct config *cfg, SSL_CTX **out)
{
	SSL_CTX *ctx;
	int rc;

	*out = NULL;
	if (cfg->tls.certificate == NULL || cfg->tls.key == NULL || cfg->tls.client_ca == NULL) {
		log_err("tls: tls.certificate, tls.key and tls.client_ca are required");
		return SB_ECONFIG;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_log_errors("tls: SSL_CTX_new");
		return SB_ENOMEM;
	}
	if ((rc = tls_ctx_setup(ctx, cfg)) != 0) {
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
