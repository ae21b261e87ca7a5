/*
 * crl — the appliance CA's list of revoked client certificates and the CRL
 * made from it.
 *
 * The list is a text file (state_dir/revoked.txt), one certificate a line:
 * its serial in hexadecimal and the time it was revoked, in seconds since
 * the epoch ("0692AC 1795000000"). It only grows. sealprov revoke and the
 * monitor (ADM_REVOKE, and its renewal of the CRL) both read and append it.
 */
#ifndef SB_CRL_H
#define SB_CRL_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/x509.h>

#include "ca.h"
#include "hsm.h"

#define CRL_SERIAL_DIGITS 40	/* RFC 5280: a serial of at most 20 octets */
#define CRL_SERIAL_MAX (CRL_SERIAL_DIGITS + 1)

/*
 * in as a serial: hexadecimal digits, either case, with or without colons
 * between octets ("06:92:ac" as openssl x509 -text prints it, "0692AC" as
 * -serial does). out gets it in upper case, without colons or leading
 * zeros ("692AC"; "0" for zero). 0, or SB_EINVAL when in is not 1 to
 * CRL_SERIAL_DIGITS hex digits.
 */
int crl_serial_norm(const char *in, char out[CRL_SERIAL_MAX]);

/* The list at path (no file: an empty list). A line that is not a serial
 * and a time is SB_EINVAL, logged with its number; more than CA_CRL_MAX
 * lines, SB_ELIMIT. Free with crl_list_free. */
int crl_list_load(const char *path, struct ca_revoked **out, size_t *n);
void crl_list_free(struct ca_revoked *r, size_t n);

/* 1 when serial (normalised) is in r[0..n), else 0. */
int crl_list_has(const struct ca_revoked *r, size_t n, const char *serial);

/* Append "SERIAL WHEN" to the list at path (made 0644 if missing) and flush
 * it to disk: 0, or SB_EIO. */
int crl_list_append(const char *path, const char *serial, time_t when);

/* The normalised hex serial s as an ASN1_INTEGER; NULL when out of memory. */
ASN1_INTEGER *crl_serial_asn1(const char *s);

/* Hold the list at path against the other writer (sealprov revoke, the
 * monitor) from reading it to writing the CRL: an fd holding an exclusive
 * flock on it (made 0644 if missing), or -1 (errno). Release with
 * crl_list_unlock. */
int crl_list_lock(const char *path);
void crl_list_unlock(int fd);

/*
 * A CRL from ca_cert, valid days from now: everything in the list at path,
 * every entry of prev (the CRL in force, may be NULL) the list lacks, so
 * that no revocation is ever dropped, and add (a normalised serial, may be
 * NULL) revoked at now. *count gets how many it lists. SB_EINVAL: a bad
 * line in the list (logged); SB_ELIMIT: more than CA_CRL_MAX.
 */
int crl_make(struct hsm *h, const uint8_t *ca_id, size_t id_len, X509 *ca_cert,
    const char *path, X509_CRL *prev, const char *add, time_t now, int days,
    X509_CRL **out, size_t *count);

/* 1 when crl was issued by ca_cert (its name) and its signature verifies
 * with ca_cert's key; else 0. */
int crl_issued_by(X509_CRL *crl, X509 *ca_cert);

/* The CRLs in the file at path: PEM (one or more) or DER (one), as seald
 * reads them. 0; SB_ENOTFOUND when there is no file; SB_EINVAL when it
 * holds no CRL or a broken one; SB_EIO. */
int crl_file_read(const char *path, STACK_OF(X509_CRL) **out);

/* The index in crls of the one ca_cert issued, or -1. */
int crl_file_ours(STACK_OF(X509_CRL) *crls, X509 *ca_cert);

/* crls, as PEM in order, to path.new (mode), synced: then file_put_in_place
 * (lib/fdio.h) puts it in force. 0 or -1 (errno). */
int crl_file_write_new(const char *path, STACK_OF(X509_CRL) *crls, mode_t mode);

#endif
