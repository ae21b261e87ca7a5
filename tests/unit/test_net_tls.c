/*
 * daemon/net/tlsmat and tls: the TLS files as bytes (read, framed, received)
 * and the server context built from them; a certificate checked again
 * against newer material (what a reload does to open connections).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "daemon/net/tls.h"
#include "daemon/net/tlsmat.h"
#include "lib/log.h"
#include "lib/secret.h"
#include "check.h"

/* ---- a small PKI, made once ------------------------------------------------- */

struct ident {
	EVP_PKEY *key;
	X509 *cert;
};

static struct ident ca, ca2, server, client;
static char *pem_server, *pem_server_key, *pem_other_key, *pem_ca, *pem_ca2, *pem_crl_empty,
    *pem_crl_revoked, *pem_crl_foreign;
static uint8_t *der_crl;
static size_t der_crl_len;
static struct config cfg;

static EVP_PKEY *
ec_key(void)
{
	return EVP_EC_gen("P-256");
}

static void
name_cn(X509_NAME *n, const char *cn)
{
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v, nid, value);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

/* A certificate for cn, signed by issuer (itself when NULL). */
static struct ident
issue(const char *cn, const struct ident *issuer, long serial, const char *eku)
{
	struct ident id = { ec_key(), X509_new() };
	X509 *x = id.cert;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	name_cn(X509_get_subject_name(x), cn);
	X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer->cert : x));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, id.key);
	if (issuer == NULL) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer->cert, NID_basic_constraints, "CA:FALSE");
		add_ext(x, issuer->cert, NID_ext_key_usage, eku);
	}
	X509_sign(x, issuer ? issuer->key : id.key, EVP_sha256());
	return id;
}

static X509_CRL *
crl_by(const struct ident *by, X509 *revoke)
{
	X509_CRL *c = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), 0, -60);

	X509_CRL_set_version(c, 1);
	X509_CRL_set_issuer_name(c, X509_get_subject_name(by->cert));
	X509_CRL_set1_lastUpdate(c, t);
	ASN1_TIME_adj(t, time(NULL), 1, 0);
	X509_CRL_set1_nextUpdate(c, t);
	ASN1_TIME_free(t);
	if (revoke != NULL) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_TIME *when = ASN1_TIME_adj(NULL, time(NULL), 0, -30);

		X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoke));
		X509_REVOKED_set_revocationDate(r, when);
		X509_CRL_add0_revoked(c, r);
		ASN1_TIME_free(when);
	}
	X509_CRL_sort(c);
	X509_CRL_sign(c, by->key, EVP_sha256());
	return c;
}

/* What a PEM writer produced, as a NUL-terminated string. */
static char *
bio_text(BIO *b)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);
	char *s = malloc((size_t)n + 1);

	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	BIO_free(b);
	return s;
}

static char *
cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());

	PEM_write_bio_X509(b, x);
	return bio_text(b);
}

static char *
key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());

	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	return bio_text(b);
}

static char *
crl_pem(X509_CRL *c)
{
	BIO *b = BIO_new(BIO_s_mem());

	PEM_write_bio_X509_CRL(b, c);
	X509_CRL_free(c);
	return bio_text(b);
}

static void
pki_make(void)
{
	struct ident other = { ec_key(), NULL };
	X509_CRL *c;
	unsigned char *p;

	ca = issue("Test client CA", NULL, 1, NULL);
	ca2 = issue("Another CA", NULL, 1, NULL);
	server = issue("localhost", &ca, 2, "serverAuth");
	client = issue("client", &ca, 3, "clientAuth");
	pem_server = cert_pem(server.cert);
	pem_server_key = key_pem(server.key);
	pem_other_key = key_pem(other.key);
	EVP_PKEY_free(other.key);
	pem_ca = cert_pem(ca.cert);
	pem_ca2 = cert_pem(ca2.cert);
	pem_crl_empty = crl_pem(crl_by(&ca, NULL));
	pem_crl_revoked = crl_pem(crl_by(&ca, client.cert));
	pem_crl_foreign = crl_pem(crl_by(&ca2, NULL));
	c = crl_by(&ca, client.cert);
	der_crl_len = (size_t)i2d_X509_CRL(c, NULL);
	der_crl = malloc(der_crl_len);
	p = der_crl;
	i2d_X509_CRL(c, &p);
	X509_CRL_free(c);
	cfg.tls.certificate = (char *)"/x/server.pem";
	cfg.tls.key = (char *)"/x/server.key";
	cfg.tls.client_ca = (char *)"/x/ca.pem";
	cfg.tls.crl = (char *)"/x/clients.crl";
}

/* Material from strings (crl may be NULL: no CRL, and cfg says so). */
static struct tlsmat *
mat(const char *cert, const char *key, const char *cas, const void *crl, size_t crl_len)
{
	struct tlsmat *m = calloc(1, sizeof(*m));
	const void *src[TLSMAT_PARTS] = { cert, key, cas, crl };
	size_t len[TLSMAT_PARTS] = { strlen(cert), strlen(key), strlen(cas), crl_len };

	for (int p = 0; p < TLSMAT_PARTS; p++) {
		if (len[p] == 0)
			continue;
		m->part[p] = p == TLSMAT_KEY ? secret_alloc(len[p]) : malloc(len[p]);
		memcpy(m->part[p], src[p], len[p]);
		m->len[p] = len[p];
	}
	cfg.tls.crl = crl ? (char *)"/x/clients.crl" : NULL;
	return m;
}

static int
build(struct tlsmat *m, SSL_CTX **ctx)
{
	int rc = tls_ctx_new(&cfg, m, ctx);

	tlsmat_free(m);
	return rc;
}

/* ---- the frame ------------------------------------------------------------------ */

static void
test_hdr_round_trip(void)
{
	size_t len[TLSMAT_PARTS] = { 1, 2, 70000, TLSMAT_FILE_MAX }, got[TLSMAT_PARTS];
	uint8_t hdr[TLSMAT_HDR_LEN];

	tlsmat_hdr_enc(len, hdr);
	CHECK(memcmp(hdr, "SBTM", 4) == 0);
	CHECK_RC(tlsmat_hdr_dec(hdr, got), 0);
	CHECK(memcmp(len, got, sizeof(len)) == 0);
	len[TLSMAT_CRL] = 0;	/* no CRL configured */
	tlsmat_hdr_enc(len, hdr);
	CHECK_RC(tlsmat_hdr_dec(hdr, got), 0);
}

static void
test_hdr_refusals(void)
{
	size_t ok[TLSMAT_PARTS] = { 1, 1, 1, 1 }, len[TLSMAT_PARTS], got[TLSMAT_PARTS];
	uint8_t hdr[TLSMAT_HDR_LEN];

	tlsmat_hdr_enc(ok, hdr);
	hdr[0] = 'X';
	CHECK_RC(tlsmat_hdr_dec(hdr, got), SB_EINVAL);
	for (int p = 0; p < TLSMAT_PARTS; p++) {
		memcpy(len, ok, sizeof(len));
		len[p] = TLSMAT_FILE_MAX + 1;
		tlsmat_hdr_enc(len, hdr);
		CHECK_RC(tlsmat_hdr_dec(hdr, got), SB_EINVAL);
		if (p == TLSMAT_CRL)
			continue;
		len[p] = 0;	/* certificate, key and CA are never empty */
		tlsmat_hdr_enc(len, hdr);
		CHECK_RC(tlsmat_hdr_dec(hdr, got), SB_EINVAL);
	}
}

static void
test_frame_in_pieces(void)
{
	struct tlsmat *m = mat(pem_server, pem_server_key, pem_ca, pem_crl_empty,
	    strlen(pem_crl_empty)), *got = NULL;
	struct tlsmat_rx rx;
	int sv[2], w[2], rc = 0;
	uint8_t buf[4096];
	ssize_t n;

	memset(&rx, 0, sizeof(rx));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, w) == 0);
	CHECK_RC(tlsmat_send(w[0], m), 0);
	close(w[0]);
	CHECK_RC(tlsmat_rx_read(&rx, sv[1], &got), 0);	/* nothing yet */
	/* Dribble the frame through 7 bytes at a time. */
	while (rc == 0 && (n = read(w[1], buf, 7)) > 0) {
		CHECK(write(sv[0], buf, (size_t)n) == n);
		rc = tlsmat_rx_read(&rx, sv[1], &got);
	}
	CHECK(rc == 1 && got != NULL);
	for (int p = 0; p < TLSMAT_PARTS; p++)
		CHECK(got->len[p] == m->len[p] && memcmp(got->part[p], m->part[p], m->len[p]) == 0);
	CHECK(rx.m == NULL && rx.hdr_got == 0);	/* ready for the next frame */
	tlsmat_free(got);
	/* The parent going away between frames, and in the middle of one. */
	CHECK(write(sv[0], "SBTM", 4) == 4);
	close(sv[0]);
	CHECK_RC(tlsmat_rx_read(&rx, sv[1], &got), SB_EIO);
	CHECK(rx.hdr_got == 4);
	tlsmat_rx_reset(&rx);
	close(sv[1]);
	close(w[1]);
	tlsmat_free(m);
}

static void
test_frame_bad_header(void)
{
	struct tlsmat_rx rx;
	struct tlsmat *got = NULL;
	uint8_t hdr[TLSMAT_HDR_LEN];
	size_t len[TLSMAT_PARTS] = { 1, 0, 1, 0 };
	int sv[2];

	memset(&rx, 0, sizeof(rx));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	tlsmat_hdr_enc(len, hdr);
	CHECK(write(sv[0], hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr));
	CHECK_RC(tlsmat_rx_read(&rx, sv[1], &got), SB_EINVAL);
	tlsmat_rx_reset(&rx);
	close(sv[0]);
	close(sv[1]);
}

/* ---- reading the files ---------------------------------------------------------- */

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void
test_read_files(void)
{
	char dir[] = "/tmp/sb-test-tls-XXXXXX", p[4][300];
	struct config c;
	struct tlsmat *m = NULL;

	CHECK(mkdtemp(dir) != NULL);
	memset(&c, 0, sizeof(c));
	snprintf(p[0], sizeof(p[0]), "%s/server.pem", dir);
	snprintf(p[1], sizeof(p[1]), "%s/server.key", dir);
	snprintf(p[2], sizeof(p[2]), "%s/ca.pem", dir);
	snprintf(p[3], sizeof(p[3]), "%s/clients.crl", dir);
	write_file(p[0], pem_server);
	write_file(p[1], pem_server_key);
	write_file(p[2], pem_ca);
	c.tls.certificate = p[0];
	c.tls.key = p[1];
	c.tls.client_ca = p[2];
	CHECK_RC(tlsmat_read(&c, &m), 0);
	CHECK(m->len[TLSMAT_KEY] == strlen(pem_server_key) && m->len[TLSMAT_CRL] == 0);
	CHECK(memcmp(m->part[TLSMAT_CA], pem_ca, strlen(pem_ca)) == 0);
	tlsmat_free(m);
	c.tls.crl = p[3];	/* configured, not there */
	CHECK_RC(tlsmat_read(&c, &m), SB_EIO);
	CHECK(m == NULL);
	write_file(p[3], "");
	CHECK_RC(tlsmat_read(&c, &m), SB_EIO);	/* empty */
	c.tls.crl = dir;
	CHECK_RC(tlsmat_read(&c, &m), SB_EIO);	/* a directory */
	c.tls.crl = NULL;
	c.tls.key = NULL;
	CHECK_RC(tlsmat_read(&c, &m), SB_ECONFIG);
	for (int i = 0; i < 4; i++)
		unlink(p[i]);
	rmdir(dir);
}

/* ---- the context ---------------------------------------------------------------- */

static void
test_ctx_good(void)
{
	SSL_CTX *ctx = NULL;

	CHECK_RC(build(mat(pem_server, pem_server_key, pem_ca, NULL, 0), &ctx), 0);
	SSL_CTX_free(ctx);
	CHECK_RC(build(mat(pem_server, pem_server_key, pem_ca, pem_crl_revoked,
	    strlen(pem_crl_revoked)), &ctx), 0);
	SSL_CTX_free(ctx);
	CHECK_RC(build(mat(pem_server, pem_server_key, pem_ca, der_crl, der_crl_len), &ctx), 0);
	SSL_CTX_free(ctx);
}

static void
test_ctx_refusals(void)
{
	static const char junk[] = "this is not a CRL\n";
	char *two;
	SSL_CTX *ctx = NULL;
	size_t n;

	CHECK_RC(build(mat(pem_server, pem_server_key, pem_ca, junk, strlen(junk)), &ctx),
	    SB_ECONFIG);
	CHECK(ctx == NULL);
	/* DER with bytes after it. */
	two = malloc(der_crl_len + strlen(pem_crl_empty) + 1);
	memcpy(two, der_crl, der_crl_len);
	two[der_crl_len] = 0;
	CHECK_RC(build(mat(pem_server, pem_server_key, pem_ca, two, der_crl_len + 1), &ctx),
	    SB_ECONFIG);
	/* A PEM CRL cut short. */
	n = strlen(pem_crl_empty) / 2;
	memcpy(two, pem_crl_empty, n);
	CHECK_RC(build(mat(pem_server, pem_server_key, pem_ca, two, n), &ctx), SB_ECONFIG);
	free(two);
	CHECK_RC(build(mat(pem_server, pem_server_key, pem_ca, pem_crl_foreign,
	    strlen(pem_crl_foreign)), &ctx), SB_ECONFIG);
	CHECK_RC(build(mat(pem_server, pem_other_key, pem_ca, NULL, 0), &ctx), SB_ECONFIG);
	CHECK_RC(build(mat(pem_server, "not a key", pem_ca, NULL, 0), &ctx), SB_ECONFIG);
	CHECK_RC(build(mat("not a certificate", pem_server_key, pem_ca, NULL, 0), &ctx),
	    SB_ECONFIG);
	CHECK_RC(build(mat(pem_server, pem_server_key, "no CA here", NULL, 0), &ctx), SB_ECONFIG);
}

/* ---- a certificate against newer material ---------------------------------------- */

static void
test_recheck(void)
{
	SSL_CTX *plain = NULL, *revoking = NULL, *other_ca = NULL;
	char why[200];
	int revoked = -1;

	CHECK_RC(build(mat(pem_server, pem_server_key, pem_ca, pem_crl_empty,
	    strlen(pem_crl_empty)), &plain), 0);
	CHECK_RC(build(mat(pem_server, pem_server_key, pem_ca, pem_crl_revoked,
	    strlen(pem_crl_revoked)), &revoking), 0);
	CHECK_RC(build(mat(pem_server, pem_server_key, pem_ca2, NULL, 0), &other_ca), 0);
	CHECK_RC(tls_recheck(plain, client.cert, NULL, &revoked, why, sizeof(why)), 0);
	CHECK(revoked == 0);
	CHECK_RC(tls_recheck(revoking, client.cert, NULL, &revoked, why, sizeof(why)), SB_EPERM);
	CHECK(revoked == 1);
	CHECK_CONTAINS(why, "serial 0x03) has been revoked");
	CHECK_RC(tls_recheck(other_ca, client.cert, NULL, &revoked, why, sizeof(why)), SB_EPERM);
	CHECK(revoked == 0);
	CHECK_CONTAINS(why, "no longer verifies");
	/* A server certificate is not a client certificate (purpose, as at the handshake). */
	CHECK_RC(tls_recheck(plain, server.cert, NULL, &revoked, why, sizeof(why)), SB_EPERM);
	SSL_CTX_free(plain);
	SSL_CTX_free(revoking);
	SSL_CTX_free(other_ca);
}

int
main(void)
{
	log_init("test_net_tls", 0);	/* the refusals log; keep the output to results */
	pki_make();
	RUN(test_hdr_round_trip, "tlsmat: a frame header carries the four lengths");
	RUN(test_hdr_refusals, "tlsmat: a header with a bad magic, a length over 16 MiB or an "
	    "empty certificate, key or CA is refused");
	RUN(test_frame_in_pieces, "tlsmat: a frame arriving a few bytes at a time is received "
	    "whole; the sender leaving mid-frame is an end of stream");
	RUN(test_frame_bad_header, "tlsmat: a broken header is refused before any allocation");
	RUN(test_read_files, "tlsmat: the files are read whole; a missing, empty or "
	    "non-regular file, or a missing required key, is refused");
	RUN(test_ctx_good, "tls: a context builds from bytes, with no CRL, a PEM CRL or a DER CRL");
	RUN(test_ctx_refusals, "tls: a CRL that does not parse, has trailing bytes, is cut short "
	    "or is signed by no CA of the bundle, a key that does not match, no certificate or "
	    "no CA: refused");
	RUN(test_recheck, "tls: a certificate checked again against newer material: revoked "
	    "(naming the serial), no longer chaining, or not a client certificate");
	return check_done();
}
