/*
 * ca — the appliance's certificate authority: X.509 certificates and CRLs
 * signed by a CA key that lives in the HSM.
 *
 * The daemon (seal and TSA certificates, client CRLs) and the provisioning
 * tool (root, TLS server and client certificates) both issue, so this lives
 * in hsm/. Every signature is made by the HSM key (hsm_key_borrow and
 * OpenSSL's X509_sign / X509_CRL_sign); this module never sees private key
 * material and never writes anything to the token. What it issues is fixed by
 * a small set of profiles (docs/formats.md); callers choose a profile, never
 * individual extensions, so a seal certificate cannot be made into a CA or a
 * TLS certificate by a caller's mistake.
 *
 * Every certificate gets a random positive 128-bit serial number, a subject
 * of CN (and O when given), SKI and AKI, and is signed with SHA-256 (SHA-384
 * when the CA key is EC P-384). notBefore is now (1 minute back, for clock
 * skew between machines), notAfter is now + days, cut back to the CA's own
 * notAfter.
 *
 * Errors, for every function: SB_EINVAL (a NULL argument, a name that is
 * empty or too long or contains control characters, days out of 1..CA_DAYS_MAX,
 * a SAN string that is not "DNS:name" / "IP:address" items, a CA certificate
 * that is not a CA or whose key is not the HSM key with ca_key_id); SB_ESTATE
 * (the CA certificate has expired or is not valid yet); SB_ENOMEM;
 * SB_ECRYPTO (OpenSSL refused; logged); and from the HSM layer SB_ENOTFOUND
 * (no key with that id), SB_EHSM, SB_EHSM_NOLOGIN. *out is set only on
 * success; the caller frees it (X509_free / X509_CRL_free).
 *
 * Threads: every call may run from several threads at once.
 */
#ifndef SB_CA_H
#define SB_CA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "hsm.h"

#define CA_NAME_MAX 64		/* longest CN or O (ub-common-name) */
#define CA_DAYS_MAX 36500	/* longest validity accepted */
#define CA_SAN_MAX 1024		/* longest SAN string */
#define CA_CRL_MAX 100000	/* most revoked serials in one CRL */

enum ca_profile {
	/* Seal keys: KU digitalSignature + nonRepudiation (critical), no EKU
	 * (so OpenSSL's default smime_sign purpose accepts it). */
	CA_PROFILE_SEAL = 1,
	/* The TSA key: KU digitalSignature, EKU timeStamping, both critical
	 * (RFC 3161 2.3; `openssl ts -verify` insists on the critical EKU). */
	CA_PROFILE_TSA,
	/* seald's TLS server key: KU digitalSignature (+ keyEncipherment for
	 * RSA), EKU serverAuth; SAN required. */
	CA_PROFILE_TLS_SERVER,
	/* Business systems' client certificates: KU digitalSignature, EKU
	 * clientAuth. */
	CA_PROFILE_TLS_CLIENT,
	/* The ledger's audit key (signed tree heads): KU digitalSignature. */
	CA_PROFILE_AUDIT,
};

/* A revoked certificate for ca_make_crl. */
struct ca_revoked {
	const ASN1_INTEGER *serial;
	time_t when;		/* revocation date */
};

/* "seal", "tsa", "tls-server", "tls-client", "audit"; "unknown" otherwise. */
const char *ca_profile_name(enum ca_profile p);

/*
 * A self-signed root certificate for the HSM key key_id: subject and issuer
 * CN=cn[,O=org] (org may be NULL), basicConstraints CA:TRUE (critical),
 * keyUsage keyCertSign + cRLSign (critical), SKI, AKI.
 */
int ca_make_root(struct hsm *h, const uint8_t *key_id, size_t id_len,
    const char *cn, const char *org, int days, X509 **out);

/*
 * Issue a certificate for subject_pub (a public key; a key with private parts
 * is fine, only the public part is used) under ca_cert, signed by the HSM key
 * ca_key_id, with the given profile (see enum ca_profile): basicConstraints
 * CA:FALSE (critical) and the profile's KU/EKU. san: NULL or a comma-separated
 * list of "DNS:name" and "IP:address" items ("DNS:localhost,IP:127.0.0.1"),
 * at most CA_SAN_MAX bytes; required for CA_PROFILE_TLS_SERVER, allowed for
 * the others. ca_cert must be a CA certificate (basicConstraints CA:TRUE,
 * keyCertSign) whose public key is ca_key_id's.
 */
int ca_issue(struct hsm *h, const uint8_t *ca_key_id, size_t id_len,
    X509 *ca_cert, EVP_PKEY *subject_pub, const char *cn, const char *org,
    enum ca_profile profile, const char *san, int days, X509 **out);

/* 1 when san is what ca_issue takes: "DNS:name" (RFC 1035 labels) and
 * "IP:address" (IPv4 or IPv6) items, comma-separated, no blanks, no empty
 * items, at most CA_SAN_MAX bytes. */
int ca_san_valid(const char *san);

/*
 * A v2 CRL from ca_cert, signed by the HSM key ca_key_id: thisUpdate now,
 * nextUpdate now + days, AKI, cRLNumber = thisUpdate in seconds since the
 * epoch (so later CRLs have larger numbers as long as they are made at least
 * a second apart and the clock does not go back), and the n revoked entries
 * (n may be 0, revoked then may be NULL; at most CA_CRL_MAX: SB_ELIMIT).
 * ca_cert must also carry cRLSign.
 */
int ca_make_crl(struct hsm *h, const uint8_t *ca_key_id, size_t id_len,
    X509 *ca_cert, const struct ca_revoked *revoked, size_t n, int days,
    X509_CRL **out);

/* The DNS and IP names of x's subjectAltName as "DNS:a,IP:b" into out
 * (cut at the last whole name that fits); "" if none. */
void ca_san_text(X509 *x, char *out, size_t len);
/* The subject CN for a certificate with names san (ca_san_valid): its first
 * DNS name that fits a CN (64 characters), else its first IP address, else
 * "sealbox". */
void ca_san_cn(const char *san, char *cn, size_t len);
/* 1 when every PEM block in text is a CERTIFICATE (a private key pasted
 * with a chain, for one, is not: PEM readers would skip it silently). */
int ca_pem_only_certs(const char *text, size_t len);
/* x's serial in upper-case hex, without leading zeros (the form of the CRL
 * code and the ledger), into out ("?" if it does not convert). */
void ca_serial_hex(X509 *x, char *out, size_t len);

#endif
