/* crl — the revoked list and the CRL made from it (see crl.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "../lib/err.h"
#include "../lib/fdio.h"
#include "../lib/log.h"
#include "crl.h"

#define CRL_WHEN_MAX 253402300799LL	/* 9999-12-31T23:59:59Z, as X.509 times go */

int
crl_serial_norm(const char *in, char out[CRL_SERIAL_MAX])
{
	char digits[CRL_SERIAL_MAX];
	size_t n = 0, k = 0;

	if (strncasecmp(in, "serial=", 7) == 0)	/* as openssl x509 -serial prints it */
		in += 7;
	for (const char *p = in; *p != '\0'; p++) {
		if (*p == ':' && p != in && p[1] != '\0' && p[1] != ':')
			continue;
		if (!isxdigit((unsigned char)*p) || n == CRL_SERIAL_DIGITS)
			return SB_EINVAL;
		digits[n++] = (char)toupper((unsigned char)*p);
	}
	if (n == 0)
		return SB_EINVAL;
	while (k + 1 < n && digits[k] == '0')
		k++;
	memcpy(out, digits + k, n - k);
	out[n - k] = '\0';
	return 0;
}

ASN1_INTEGER *
crl_serial_asn1(const char *s)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *a = NULL;

	if (BN_hex2bn(&bn, s) == (int)strlen(s))
		a = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return a;
}

void
crl_list_free(struct ca_revoked *r, size_t n)
{
	for (size_t i = 0; r != NULL && i < n; i++)
		ASN1_INTEGER_free((ASN1_INTEGER *)r[i].serial);
	free(r);
}

int
crl_list_load(const char *path, struct ca_revoked **out, size_t *n)
{
	struct ca_revoked *r = NULL;
	size_t have = 0, cap = 0, lineno = 0;
	char line[256], hex[CRL_SERIAL_MAX + 8], serial[CRL_SERIAL_MAX], rest;
	long long when;
	FILE *f;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : SB_EIO;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (sscanf(line, "%48s %lld %c", hex, &when, &rest) != 2 || when < 0 ||
		    when > CRL_WHEN_MAX ||
		    crl_serial_norm(hex, serial) != 0) {
			log_err("crl: %s line %zu: not a serial and a time", path, lineno);
			rc = SB_EINVAL;
		} else if (have == CA_CRL_MAX) {
			log_err("crl: %s holds more than %d certificates", path, CA_CRL_MAX);
			rc = SB_ELIMIT;
		} else if (have == cap && (cap = cap ? 2 * cap : 64,
		    (r = reallocarray(*out, cap, sizeof(*r))) == NULL)) {
			rc = SB_ENOMEM;
		} else {
			*out = r;
			if ((r[have].serial = crl_serial_asn1(serial)) == NULL)
				rc = SB_ENOMEM;
			else
				r[have++].when = (time_t)when;
		}
	}
	if (rc == 0 && ferror(f))
		rc = SB_EIO;
	fclose(f);
	if (rc != 0) {
		crl_list_free(*out, have);
		*out = NULL;
		return rc;
	}
	*n = have;
	return 0;
}

int
crl_list_has(const struct ca_revoked *r, size_t n, const char *serial)
{
	ASN1_INTEGER *a = crl_serial_asn1(serial);
	int found = 0;

	for (size_t i = 0; a != NULL && i < n && !found; i++)
		found = ASN1_INTEGER_cmp(a, r[i].serial) == 0;
	ASN1_INTEGER_free(a);
	return found;
}

int
crl_list_append(const char *path, const char *serial, time_t when)
{
	char line[CRL_SERIAL_MAX + 32];
	int fd, len, rc;

	len = snprintf(line, sizeof(line), "%s %lld\n", serial, (long long)when);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
		log_err("crl: cannot open %s: %s", path, strerror(errno));
		return SB_EIO;
	}
	rc = fd_write_all(fd, line, (size_t)len) != 0 || fdatasync(fd) != 0 ? SB_EIO : 0;
	if (rc != 0)
		log_err("crl: cannot write %s: %s", path, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = SB_EIO;
	return rc;
}

int
crl_list_lock(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
	}
	return fd;
}

void
crl_list_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* the lock goes with it */
}

/* ASN.1 time t as seconds since the epoch; -1 when it does not convert. */
static time_t
asn1_secs(const ASN1_TIME *t)
{
	struct tm tm;

	return t != NULL && ASN1_TIME_to_tm(t, &tm) == 1 ? timegm(&tm) : (time_t)-1;
}

/* r (n of cap) grown by one: 0 or SB_ENOMEM. */
static int
grow(struct ca_revoked **r, size_t n, size_t *cap)
{
	struct ca_revoked *more;

	if (n < *cap)
		return 0;
	if ((more = reallocarray(*r, *cap ? 2 * *cap : 64, sizeof(**r))) == NULL)
		return SB_ENOMEM;
	*r = more;
	*cap = *cap ? 2 * *cap : 64;
	return 0;
}

int
crl_make(struct hsm *h, const uint8_t *ca_id, size_t id_len, X509 *ca_cert, const char *path,
    X509_CRL *prev, const char *add, time_t now, int days, X509_CRL **out, size_t *count)
{
	STACK_OF(X509_REVOKED) *old = prev ? X509_CRL_get_REVOKED(prev) : NULL;
	struct ca_revoked *r;
	size_t n, cap;
	int rc;

	*count = 0;
	if ((rc = crl_list_load(path, &r, &n)) != 0)
		return rc;
	cap = n;
	/* What the CRL in force revokes and the list lacks stays revoked. */
	for (int i = 0; rc == 0 && i < sk_X509_REVOKED_num(old); i++) {
		const X509_REVOKED *x = sk_X509_REVOKED_value(old, i);
		const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(x);
		int known = 0;

		for (size_t k = 0; k < n && !known; k++)
			known = ASN1_INTEGER_cmp(sn, r[k].serial) == 0;
		if (known)
			continue;
		if ((rc = grow(&r, n, &cap)) == 0 &&
		    (r[n].serial = ASN1_INTEGER_dup(sn)) == NULL)
			rc = SB_ENOMEM;
		if (rc == 0) {
			r[n].when = asn1_secs(X509_REVOKED_get0_revocationDate(x));
			if (r[n].when < 0)
				r[n].when = now;
			n++;
		}
	}
	if (rc == 0 && add != NULL && !crl_list_has(r, n, add)) {
		if ((rc = grow(&r, n, &cap)) == 0 && (r[n].serial = crl_serial_asn1(add)) == NULL)
			rc = SB_ENOMEM;
		if (rc == 0)
			r[n++].when = now;
	}
	if (rc == 0 && (rc = ca_make_crl(h, ca_id, id_len, ca_cert, r, n, days, out)) == 0)
		*count = n;
	crl_list_free(r, n);
	return rc;
}

int
crl_issued_by(X509_CRL *crl, X509 *ca_cert)
{
	EVP_PKEY *k = X509_get0_pubkey(ca_cert);
	int ok = k != NULL && X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(ca_cert)) == 0 && X509_CRL_verify(crl, k) == 1;

	ERR_clear_error();
	return ok;
}

int
crl_file_read(const char *path, STACK_OF(X509_CRL) **out)
{
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	BIO *b = BIO_new_file(path, "rb");
	X509_CRL *c;
	unsigned long err;
	int rc = 0;

	*out = NULL;
	if (crls == NULL || b == NULL) {
		rc = crls == NULL ? SB_ENOMEM : errno == ENOENT ? SB_ENOTFOUND : SB_EIO;
		goto out;
	}
	ERR_clear_error();
	while (rc == 0 && (c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL)
		if (sk_X509_CRL_push(crls, c) <= 0) {
			X509_CRL_free(c);
			rc = SB_ENOMEM;
		}
	err = ERR_peek_last_error();
	if (rc == 0 && sk_X509_CRL_num(crls) == 0) {
		/* No PEM at all: one DER CRL, and nothing after it. */
		if (BIO_reset(b) == 0 && (c = d2i_X509_CRL_bio(b, NULL)) != NULL) {
			char extra;

			if (BIO_read(b, &extra, 1) > 0 || sk_X509_CRL_push(crls, c) <= 0) {
				X509_CRL_free(c);
				rc = SB_EINVAL;
			}
		} else
			rc = SB_EINVAL;
	} else if (rc == 0 && !(ERR_GET_LIB(err) == ERR_LIB_PEM &&
	    ERR_GET_REASON(err) == PEM_R_NO_START_LINE)) {
		rc = SB_EINVAL;		/* a PEM block that does not parse */
	}
out:
	BIO_free(b);
	ERR_clear_error();
	if (rc != 0) {
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
		return rc;
	}
	*out = crls;
	return 0;
}

int
crl_file_ours(STACK_OF(X509_CRL) *crls, X509 *ca_cert)
{
	for (int i = 0; i < sk_X509_CRL_num(crls); i++)
		if (crl_issued_by(sk_X509_CRL_value(crls, i), ca_cert))
			return i;
	return -1;
}

int
crl_file_write_new(const char *path, STACK_OF(X509_CRL) *crls, mode_t mode)
{
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *mem;
	int ok = b != NULL, rc;

	for (int i = 0; ok && i < sk_X509_CRL_num(crls); i++)
		ok = PEM_write_bio_X509_CRL(b, sk_X509_CRL_value(crls, i)) == 1;
	if (!ok || BIO_get_mem_ptr(b, &mem) != 1) {
		BIO_free(b);
		errno = ENOMEM;
		return -1;
	}
	rc = file_write_new(path, mem->data, mem->length, mode);
	BIO_free(b);
	return rc;
}
