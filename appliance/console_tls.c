/*
 * console_tls — seald's TLS server certificate from the console: sealadm tls
 * show|issue|request|install and the sysadmin's menu item.
 *
 * The new key is made here, in sealadm, and written only where seald reads
 * it (tls.key, 0600) or, while an outside CA has its request, beside it as
 * tls.key.pending (0600). The monitor never sees it: it issues a
 * certificate from the appliance CA for a request (ADM_TLS_ISSUE), and
 * ledgers the certificate before it is put in place (ADM_TLS_INSTALL).
 * Both files are written aside first (a place that cannot take them is
 * found before anything is ledgered), then renamed over the old ones, and
 * seald re-reads them (ADM_TLS_RELOAD). Last, sealadm connects to seald as a
 * client would and checks that it now presents the new certificate.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "../daemon/client/admsock.h"
#include "../daemon/msg.h"
#include "../hsm/ca.h"
#include "../lib/config.h"
#include "../lib/fdio.h"
#include "sealadm.h"

#define SERVED_WAIT_MS 10000	/* for seald to present the new certificate */
#define CHAIN_MAX 8		/* certificates in the file (as the monitor takes) */

/* tls.key.pending: the key of a request an outside CA has. */
static int
pending_path(const struct config *cfg, char *out, size_t len)
{
	return (size_t)snprintf(out, len, "%s.pending", cfg->tls.key) < len ? 0 : -1;
}

/* A refusal in j, or why, as "sealadm: code: message". */
static void
refused(json_t *j, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
refused(json_t *j, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (console_refusal(j))
		return;
	fprintf(stderr, "sealadm: %s: ", code);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static X509 *
cert_file(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f != NULL)
		fclose(f);
	ERR_clear_error();
	return x;
}

/* SHA-256 of x's DER into md; 0 or -1. */
static int
cert_sha256(X509 *x, unsigned char md[SHA256_DIGEST_LENGTH])
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	if (n <= 0)
		return -1;
	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	return 0;
}

static void
asn1_day(const ASN1_TIME *t, char *out, size_t len)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 || strftime(out, len, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, len, "?");
}

int
console_tls_names(const struct config *cfg, char *out, size_t len)
{
	X509 *x = cert_file(cfg->tls.certificate);

	out[0] = '\0';
	if (x == NULL)
		return -1;
	ca_san_text(x, out, len);
	X509_free(x);
	return 0;
}

int
console_tls_show(const struct config *cfg)
{
	X509 *x = cert_file(cfg->tls.certificate);
	char san[MSG_SAN_MAX], serial[128], from[32], to[32], pend[4096];
	unsigned char md[SHA256_DIGEST_LENGTH];
	char *subj, *iss;
	struct stat st;

	if (x == NULL) {
		printf("no server certificate can be read from %s\n", cfg->tls.certificate);
	} else {
		subj = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
		iss = X509_NAME_oneline(X509_get_issuer_name(x), NULL, 0);
		ca_san_text(x, san, sizeof(san));
		ca_serial_hex(x, serial, sizeof(serial));
		asn1_day(X509_get0_notBefore(x), from, sizeof(from));
		asn1_day(X509_get0_notAfter(x), to, sizeof(to));
		printf("server certificate %s\n  subject: %s\n  names:   %s\n  issuer:  %s\n"
		    "  valid:   %s to %s%s\n  serial:  %s\n", cfg->tls.certificate,
		    subj ? subj : "?", san[0] ? san : "(none)", iss ? iss : "?", from, to,
		    X509_cmp_current_time(X509_get0_notAfter(x)) <= 0 ? " (EXPIRED)" : "", serial);
		if (cert_sha256(x, md) == 0) {
			printf("  sha256:  ");
			for (size_t i = 0; i < sizeof(md); i++)
				printf("%02x", md[i]);
			printf("\n");
		}
		OPENSSL_free(subj);
		OPENSSL_free(iss);
		X509_free(x);
	}
	if (pending_path(cfg, pend, sizeof(pend)) == 0 && stat(pend, &st) == 0) {
		char when[32];
		struct tm tm;

		gmtime_r(&st.st_mtime, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
		printf("a request for an outside CA is pending since %s (its key: %s)\n", when,
		    pend);
	}
	return x == NULL ? 1 : 0;
}

/* A PKCS#10 request for key with these names (CN: the first), PEM, malloc'd. */
static char *
make_csr(EVP_PKEY *key, const char *san)
{
	X509_REQ *r = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *ext = NULL;
	char cn[256], *out = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *mem;

	ca_san_cn(san, cn, sizeof(cn));
	if (r != NULL && exts != NULL && b != NULL &&
	    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(r), "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) == 1 &&
	    X509_REQ_set_pubkey(r, key) == 1 &&
	    (ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san)) != NULL &&
	    sk_X509_EXTENSION_push(exts, ext) > 0 && X509_REQ_add_extensions(r, exts) == 1 &&
	    X509_REQ_sign(r, key, EVP_sha256()) > 0 && PEM_write_bio_X509_REQ(b, r) == 1 &&
	    BIO_get_mem_ptr(b, &mem) == 1)
		out = strndup(mem->data, mem->length);
	else if (ext != NULL && sk_X509_EXTENSION_num(exts) == 0)
		X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(r);
	BIO_free(b);
	ERR_clear_error();
	return out;
}

/* key as PEM (PKCS#8) to path.new, mode 0600; its text only ever in
 * OpenSSL's secure memory BIO, cleared when freed. 0 or -1 (errno). */
static int
key_write_new(const char *path, EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_secmem());
	BUF_MEM *mem;
	int rc = -1;

	if (b != NULL && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1 &&
	    BIO_get_mem_ptr(b, &mem) == 1)
		rc = file_write_new(path, mem->data, mem->length, 0600);
	else
		errno = ENOMEM;
	BIO_free(b);
	return rc;
}

/* The certificates of text, re-encoded (only CERTIFICATE blocks, at most
 * CHAIN_MAX, each parsing): malloc'd PEM with *leaf its first; NULL, said why. */
static char *
chain_clean(const char *text, size_t len, X509 **leaf)
{
	BIO *in = BIO_new_mem_buf(text, (int)len), *out = BIO_new(BIO_s_mem());
	BUF_MEM *mem;
	X509 *x;
	unsigned long err;
	char *pem = NULL;
	int n = 0, ok = in != NULL && out != NULL;

	*leaf = NULL;
	if (!ca_pem_only_certs(text, len)) {
		refused(NULL, "bad_certificate", "the file holds a PEM block that is not a "
		    "certificate (a private key?): give the certificate and its CA certificates "
		    "only");
		ok = 0;
	}
	ERR_clear_error();
	while (ok && (x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		ok = ++n <= CHAIN_MAX && PEM_write_bio_X509(out, x) == 1;
		if (n == 1)
			*leaf = x;
		else
			X509_free(x);
	}
	err = ERR_peek_last_error();
	if (ok && (n == 0 || ERR_GET_LIB(err) != ERR_LIB_PEM ||
	    ERR_GET_REASON(err) != PEM_R_NO_START_LINE)) {
		refused(NULL, "bad_certificate", "not PEM certificates (-----BEGIN CERTIFICATE-----"
		    "), or one that does not parse");
		ok = 0;
	} else if (!ok && n > CHAIN_MAX)
		refused(NULL, "bad_certificate", "more than %d certificates", CHAIN_MAX);
	if (ok && BIO_get_mem_ptr(out, &mem) == 1)
		pem = strndup(mem->data, mem->length);
	BIO_free(in);
	BIO_free(out);
	ERR_clear_error();
	if (pem == NULL) {
		X509_free(*leaf);
		*leaf = NULL;
	}
	return pem;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait (SERVED_WAIT_MS at most) until the net worker says it presents the
 * certificate of SHA-256 md (ADM_STATUS's tls_serving_sha256): 1 then, else 0. */
static int
served_wait(const char *sock, const unsigned char md[SHA256_DIGEST_LENGTH])
{
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	long long until = mono_ms() + SERVED_WAIT_MS;
	struct ipc_msg m;
	json_t *j;
	int seen = 0;

	for (size_t i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	while (!seen && mono_ms() < until) {
		j = NULL;
		ipc_msg_init(&m, ADM_STATUS, 1);
		if (admsock_call(sock, "", &m, &j) == 200)
			seen = strcmp(json_string_value(json_object_get(j, "tls_serving_sha256")) ?
			    json_string_value(json_object_get(j, "tls_serving_sha256")) : "", hex) == 0;
		ipc_msg_free(&m);
		json_decref(j);
		if (!seen)
			usleep(100 * 1000);
	}
	return seen;
}

/* path.old: a second name for path as it is, so that it can be put back. */
static int
keep_old(const char *path)
{
	char old[PATH_MAX + 8];

	snprintf(old, sizeof(old), "%s.old", path);
	if (unlink(old) != 0 && errno != ENOENT)
		return -1;
	return link(path, old);
}

/* path.old back over path (restore), or removed (done). */
static int
old_back(const char *path, int restore)
{
	char old[PATH_MAX + 8];

	snprintf(old, sizeof(old), "%s.old", path);
	return restore ? rename(old, path) : unlink(old);
}

/* The directory of tls.key held (flock) against another console's install. */
static int
tls_lock(const struct config *cfg)
{
	char dir[PATH_MAX], *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", cfg->tls.key);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		errno = EWOULDBLOCK;
		return -1;
	}
	return fd;
}

/* Ledger the certificate file chain (ADM_TLS_INSTALL): its entry, or -1 said why. */
static long long
ledger_install(const char *sock, const char *session, const char *chain)
{
	struct adm_tls_install v = { (const uint8_t *)chain, strlen(chain) };
	struct ipc_msg m;
	json_t *j = NULL;
	long long seq = -1;

	if (adm_tls_install_enc(&m, 1, &v) != 0) {
		refused(NULL, "too_large", "the certificate file is over %d bytes", MSG_CERT_MAX);
		return -1;
	}
	if (admsock_call(sock, session, &m, &j) == 200)
		seq = (long long)json_integer_value(json_object_get(j, "seq"));
	else
		refused(j, "refused", "seald did not answer");
	ipc_msg_free(&m);
	json_decref(j);
	return seq;
}

/* Ask seald to re-read its TLS files (ADM_TLS_RELOAD): 0, or -1 (said when
 * say). */
static int
ask_reload(const char *sock, const char *session, int say)
{
	struct ipc_msg m;
	json_t *j = NULL;
	int st;

	ipc_msg_init(&m, ADM_TLS_RELOAD, 1);
	st = admsock_call(sock, session, &m, &j);
	ipc_msg_free(&m);
	if (st != 200 && say)
		refused(j, "reload_failed", "seald did not answer");
	json_decref(j);
	return st == 200 ? 0 : -1;
}

/*
 * The certificate file text (the certificate for key first, then its CA
 * certificates) and key put in place of tls.certificate and tls.key:
 * written aside, ledgered (ADM_TLS_INSTALL), the old files kept as .old,
 * renamed in, re-read by seald (ADM_TLS_RELOAD), then seen presented (the
 * net worker says so; ADM_STATUS). Anything that fails once the new files
 * are in place puts the old ones back (and ledgers that). pending: a
 * pending key file to remove once the new one is in force, or NULL.
 * 0, or 1 with why said.
 */
static int
install(const char *sock, const char *session, const struct config *cfg, const char *text,
    size_t text_len, EVP_PKEY *key, const char *pending)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	X509 *leaf = NULL;
	char serial[128], to[32], *chain, *oldchain = NULL;
	long long seq;
	uint8_t *old = NULL;
	size_t oldlen;
	int rc = 1, lock = -1, kept = 0, placed = 0;

	if ((chain = chain_clean(text, text_len, &leaf)) == NULL)
		return 1;
	if (X509_check_private_key(leaf, key) != 1) {
		ERR_clear_error();
		refused(NULL, "wrong_key", "the certificate is not for the key of the pending "
		    "request (it was issued for another one)");
		goto out;
	}
	ca_serial_hex(leaf, serial, sizeof(serial));
	asn1_day(X509_get0_notAfter(leaf), to, sizeof(to));
	if (cert_sha256(leaf, md) != 0)
		goto out;
	if ((lock = tls_lock(cfg)) < 0) {
		refused(NULL, "busy", "another console is changing the TLS files (%s)",
		    strerror(errno));
		goto out;
	}
	/* Written aside first: a place that cannot take them is found before
	 * anything is ledgered. */
	if (key_write_new(cfg->tls.key, key) != 0 ||
	    file_write_new(cfg->tls.certificate, chain, strlen(chain), 0644) != 0) {
		refused(NULL, "cannot_write", "cannot write beside %s and %s: %s; nothing changed, "
		    "nothing ledgered", cfg->tls.key, cfg->tls.certificate, strerror(errno));
		goto drop;
	}
	if ((seq = ledger_install(sock, session, chain)) < 0)
		goto drop;
	if (keep_old(cfg->tls.key) != 0 || (kept = 1, keep_old(cfg->tls.certificate)) != 0) {
		refused(NULL, "cannot_write", "ledgered (entry %lld), but the present files could "
		    "not be kept aside: %s; nothing changed in force", seq, strerror(errno));
		goto back;
	}
	kept = 2;
	if (file_put_in_place(cfg->tls.key) != 0 || (placed = 1,
	    file_put_in_place(cfg->tls.certificate)) != 0) {
		refused(NULL, "cannot_write", "ledgered (entry %lld), but the files could not be "
		    "put in place: %s; the present ones are kept", seq, strerror(errno));
		goto back;
	}
	placed = 2;
	if (ask_reload(sock, session, 1) != 0)
		goto back;
	if (!served_wait(sock, md)) {
		refused(NULL, "not_presented", "seald did not take the new certificate within %d s "
		    "(see its log: a reload it refuses names the file); the previous key and "
		    "certificate are put back", SERVED_WAIT_MS / 1000);
		goto back;
	}
	(void)old_back(cfg->tls.key, 0);
	(void)old_back(cfg->tls.certificate, 0);
	if (pending != NULL && unlink(pending) != 0)
		fprintf(stderr, "sealadm: the pending key %s could not be removed: %s; remove "
		    "it\n", pending, strerror(errno));
	printf("server certificate %s (valid until %s) ledgered (entry %lld), installed, and "
	    "presented by seald now\n", serial, to, seq);
	rc = 0;
	goto out;
back:
	/* What was replaced back in force, re-read, and ledgered as installed
	 * again (the files first: a mismatched pair would keep seald from
	 * starting). */
	if (placed >= 1) {
		char oldpath[PATH_MAX + 8];
		int bad = 0;

		/* The previous certificate: still in place when only the key moved. */
		snprintf(oldpath, sizeof(oldpath), placed == 2 ? "%s.old" : "%s",
		    cfg->tls.certificate);
		if (read_file(oldpath, MSG_CERT_MAX, 0, &old, &oldlen) != 0 ||
		    (oldchain = strndup((const char *)old, oldlen)) == NULL)
			bad = 1;
		if (old_back(cfg->tls.key, 1) != 0 ||
		    old_back(cfg->tls.certificate, placed == 2) != 0) {
			fprintf(stderr, "sealadm: the previous files could not be put back (%s.old, "
			    "%s.old): %s; seald may not start again until they are\n",
			    cfg->tls.key, cfg->tls.certificate, strerror(errno));
		} else {
			if (bad || ledger_install(sock, session, oldchain) < 0)
				fprintf(stderr, "sealadm: the previous files are back in place but "
				    "their return could not be ledgered\n");
			(void)ask_reload(sock, session, 0);
		}
		kept = 0;
	}
	if (kept >= 1)
		(void)old_back(cfg->tls.key, 0);
	if (kept >= 2)
		(void)old_back(cfg->tls.certificate, 0);
drop:
	file_drop_new(cfg->tls.key);
	file_drop_new(cfg->tls.certificate);
out:
	if (lock >= 0)
		close(lock);
	free(old);
	free(oldchain);
	free(chain);
	X509_free(leaf);
	return rc;
}

/* The names refused: what issue and request take. */
static void
refuse_names(void)
{
	refused(NULL, "bad_names", "names: DNS:name and IP:address items, separated by "
	    "commas, no blanks (DNS:sealbox.example.org,IP:192.0.2.10)");
}

int
console_tls_issue(const char *sock, const char *session, const struct config *cfg,
    const char *san, unsigned days)
{
	struct adm_tls_issue v;
	EVP_PKEY *key = NULL;
	const char *chain;
	struct ipc_msg m;
	json_t *j = NULL;
	char *csr = NULL;
	int st, rc = 1;

	memset(&v, 0, sizeof(v));
	if (!ca_san_valid(san) || (size_t)snprintf(v.san, sizeof(v.san), "%s", san) >= sizeof(v.san)) {
		refuse_names();
		return 2;
	}
	if (days > MSG_TLS_DAYS_MAX) {
		refused(NULL, "bad_days", "--valid-days: 1 to %d", MSG_TLS_DAYS_MAX);
		return 2;
	}
	v.days = days;
	if ((key = EVP_EC_gen("P-256")) == NULL || (csr = make_csr(key, san)) == NULL) {
		refused(NULL, "internal", "cannot make a key and its request");
		goto out;
	}
	v.csr_pem = (const uint8_t *)csr;
	v.csr_len = strlen(csr);
	if (adm_tls_issue_enc(&m, 1, &v) != 0)
		goto out;
	st = admsock_call(sock, session, &m, &j);
	ipc_msg_free(&m);
	if (st != 200 || (chain = json_string_value(json_object_get(j, "certificate"))) == NULL) {
		refused(j, "refused", "seald did not answer");
		goto out;
	}
	printf("the appliance CA issued it (ledgered as entry %lld)\n",
	    (long long)json_integer_value(json_object_get(j, "seq")));
	rc = install(sock, session, cfg, chain, strlen(chain), key, NULL);
out:
	json_decref(j);
	free(csr);
	EVP_PKEY_free(key);
	return rc;
}

/* Ledger the request (ADM_TLS_REQUEST) before its key is kept: 0, or 1
 * (refused, said why). */
static int
request_ledger(const char *sock, const char *session, const char *san, const char *csr)
{
	struct adm_tls_issue v;
	struct ipc_msg m;
	json_t *j = NULL;
	int st = -1;

	memset(&v, 0, sizeof(v));
	snprintf(v.san, sizeof(v.san), "%s", san);
	v.csr_pem = (const uint8_t *)csr;
	v.csr_len = strlen(csr);
	if (adm_tls_request_enc(&m, 1, &v) == 0) {
		st = admsock_call(sock, session, &m, &j);
		ipc_msg_free(&m);
	}
	/* stderr: a script takes the request itself from stdout. */
	if (st == 200)
		fprintf(stderr, "the request is ledgered (entry %lld)\n",
		    (long long)json_integer_value(json_object_get(j, "seq")));
	else if (!console_refusal(j))
		refused(NULL, "internal", "the request could not be ledgered: no key is kept");
	json_decref(j);
	return st == 200 ? 0 : 1;
}

int
console_tls_request(const char *sock, const char *session, const struct config *cfg,
    const char *san, char **csr_out)
{
	char pend[4096];
	EVP_PKEY *key = NULL;
	char *csr = NULL;
	int rc = 1;

	*csr_out = NULL;
	if (!ca_san_valid(san)) {
		refuse_names();
		return 2;
	}
	if (pending_path(cfg, pend, sizeof(pend)) != 0)
		return 1;
	if ((key = EVP_EC_gen("P-256")) == NULL || (csr = make_csr(key, san)) == NULL) {
		refused(NULL, "internal", "cannot make a key and its request");
		goto out;
	}
	if (request_ledger(sock, session, san, csr) != 0)
		goto out;
	if (key_write_new(pend, key) != 0 || file_put_in_place(pend) != 0) {
		refused(NULL, "cannot_write", "cannot write the key %s: %s", pend, strerror(errno));
		file_drop_new(pend);
		goto out;
	}
	*csr_out = csr;
	csr = NULL;
	rc = 0;
out:
	free(csr);
	EVP_PKEY_free(key);
	return rc;
}

int
console_tls_install(const char *sock, const char *session, const struct config *cfg,
    const char *chain, size_t len)
{
	char pend[4096];
	EVP_PKEY *key = NULL;
	FILE *f;
	int rc;

	if (pending_path(cfg, pend, sizeof(pend)) != 0)
		return 1;
	if ((f = fopen(pend, "re")) == NULL) {
		refused(NULL, "no_request", "no request is pending (%s: %s): make one first "
		    "(sealadm tls request)", pend, strerror(errno));
		return 1;
	}
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (key == NULL) {
		refused(NULL, "no_request", "the pending key %s cannot be read", pend);
		return 1;
	}
	rc = install(sock, session, cfg, chain, len, key, pend);
	EVP_PKEY_free(key);
	return rc;
}

int
cmd_tls(const struct opts *o, const struct config *cfg, const char *verb)
{
	char names[MSG_SAN_MAX], *csr = NULL, *end;
	unsigned long days = 0;
	uint8_t *pem = NULL;
	size_t len;
	int rc;

	if (cfg == NULL || cfg->tls.certificate == NULL || cfg->tls.key == NULL) {
		fprintf(stderr, "sealadm: tls needs the configuration (--config) with "
		    "tls.certificate and tls.key\n");
		return 2;
	}
	if (strcmp(verb, "show") == 0)
		return console_tls_show(cfg);
	if (strcmp(verb, "install") == 0) {
		if (o->cert == NULL) {
			fprintf(stderr, "sealadm: tls install needs --cert FILE|- (the outside CA's "
			    "certificate, then its CA certificates)\n");
			return 2;
		}
		if (read_file(o->cert, MSG_CERT_MAX, 0, &pem, &len) != 0)
			return 2;
		rc = console_tls_install(o->socket, o->session, cfg, (const char *)pem, len);
		free(pem);
		return rc;
	}
	/* issue and request: the names given, or the present certificate's. */
	if (o->san != NULL) {
		if (fits(names, sizeof(names), o->san, "--san") != 0)
			return 2;
	} else if (console_tls_names(cfg, names, sizeof(names)) != 0 || names[0] == '\0') {
		fprintf(stderr, "sealadm: tls %s needs --san DNS:name,IP:address (the present "
		    "certificate names none)\n", verb);
		return 2;
	}
	if (strcmp(verb, "issue") == 0) {
		if (o->valid_days != NULL && ((days = strtoul(o->valid_days, &end, 10)) < 1 ||
		    *end != '\0' || days > MSG_TLS_DAYS_MAX)) {
			fprintf(stderr, "sealadm: --valid-days: 1 to %d\n", MSG_TLS_DAYS_MAX);
			return 2;
		}
		return console_tls_issue(o->socket, o->session, cfg, names, (unsigned)days);
	}
	if ((rc = console_tls_request(o->socket, o->session, cfg, names, &csr)) == 0) {
		fprintf(stderr, "sealadm: a new key is waiting beside %s (.pending); give this "
		    "request to the CA, then: sealadm tls install --cert FILE\n", cfg->tls.key);
		fputs(csr, stdout);
	}
	free(csr);
	return rc;
}
