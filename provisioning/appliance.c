/*
 * sealprov's appliance commands: the appliance's own keys (CA, TSA, ledger
 * audit key) made inside the HSM, the TLS server certificate, client
 * enrolment and the client CRL. Each needs a quorum of shares, because the
 * CA key signs and it is in the token.
 *
 * Written to state_dir: ca.pem, tsa.pem, audit.pem (public certificates) and
 * clients.crl with revoked.txt (the serials revoked so far). TLS and client
 * private keys are made by OpenSSL in this process and written mode 0600 to
 * the directory the operator names; they are not seal keys and never enter
 * the HSM (the net worker, which uses the server key, has no HSM).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "hsm/ca.h"
#include "hsm/crl.h"
#include "hsm/hsm.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/fdio.h"
#include "provisioning/prov.h"

#define CA_DAYS 7300
#define LEAF_DAYS 825

static const char *const labels[3] = { "sealbox-ca", "sealbox-tsa", "sealbox-audit" };

/* Write a certificate (or chain) as PEM to path with mode. */
static int
write_pem(const char *path, mode_t mode, X509 *a, X509 *b, X509_CRL *crl, EVP_PKEY *key)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok;

	if (f == NULL) {
		fprintf(stderr, "sealprov: cannot write %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return SB_EIO;
	}
	ok = (a == NULL || PEM_write_X509(f, a)) && (b == NULL || PEM_write_X509(f, b)) &&
	    (crl == NULL || PEM_write_X509_CRL(f, crl)) &&
	    (key == NULL || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	if (!ok)
		fprintf(stderr, "sealprov: cannot write %s\n", path);
	return ok ? 0 : SB_EIO;
}

static int
state_path(const struct config *cfg, const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", cfg->appliance.state_dir, name);

	return n < 0 || (size_t)n >= len ? SB_ELIMIT : 0;
}

/* The id and certificate of the appliance key with this label. */
static int
find_key(struct hsm *h, const char *label, uint8_t *id, size_t *id_len, X509 **cert)
{
	struct hsm_key_info *keys = NULL;
	size_t n = 0;
	int rc;

	if ((rc = hsm_key_list(h, &keys, &n)) != 0)
		return rc;
	rc = SB_ENOTFOUND;
	for (size_t i = 0; i < n && rc == SB_ENOTFOUND; i++) {
		if (strcmp(keys[i].label, label) != 0)
			continue;
		memcpy(id, keys[i].id, keys[i].id_len);
		*id_len = keys[i].id_len;
		rc = cert ? hsm_cert_get(h, id, *id_len, cert) : 0;
	}
	free(keys);
	return rc;
}

/* An appliance key signed by the CA (or the CA itself when ca == NULL). */
static int
make_key(struct hsm *h, const struct config *cfg, const char *label, enum ca_profile prof,
    const uint8_t *ca_id, size_t ca_len, X509 *ca, X509 **out)
{
	uint8_t id[HSM_ID_LEN];
	EVP_PKEY *pub = NULL;
	char cn[CA_NAME_MAX + 1];
	int rc;

	snprintf(cn, sizeof(cn), "Sealbox %s %s", cfg->appliance.id,
	    ca == NULL ? "appliance CA" : prof == CA_PROFILE_TSA ? "TSA" : "ledger audit");
	if ((rc = hsm_keygen(h, HSM_KEY_EC_P256, label, id)) != 0)
		return rc;
	if (ca == NULL)
		rc = ca_make_root(h, id, sizeof(id), cn, "Sealbox", CA_DAYS, out);
	else if ((rc = hsm_key_public(h, id, sizeof(id), &pub)) == 0)
		rc = ca_issue(h, ca_id, ca_len, ca, pub, cn, "Sealbox", prof, NULL, CA_DAYS, out);
	EVP_PKEY_free(pub);
	if (rc == 0)
		rc = hsm_cert_store(h, id, sizeof(id), label, *out);
	if (rc != 0)
		(void)hsm_key_destroy(h, id, sizeof(id));
	return rc;
}

int
prov_appliance_init(const struct config *cfg, struct hsm *h)
{
	uint8_t ca_id[HSM_ID_MAX];
	size_t ca_len = 0;
	X509 *ca = NULL, *tsa = NULL, *audit = NULL;
	char path[4096];
	int rc;

	for (int i = 0; i < 3; i++)
		if (find_key(h, labels[i], ca_id, &ca_len, NULL) == 0) {
			fprintf(stderr, "sealprov: the token already holds '%s': the appliance "
			    "was initialised before\n", labels[i]);
			return SB_EEXIST;
		}
	rc = make_key(h, cfg, labels[0], 0, NULL, 0, NULL, &ca);
	if (rc == 0)
		rc = find_key(h, labels[0], ca_id, &ca_len, NULL);
	if (rc == 0)
		rc = make_key(h, cfg, labels[1], CA_PROFILE_TSA, ca_id, ca_len, ca, &tsa);
	if (rc == 0)
		rc = make_key(h, cfg, labels[2], CA_PROFILE_AUDIT, ca_id, ca_len, ca, &audit);
	if (rc == 0 && (rc = state_path(cfg, "ca.pem", path, sizeof(path))) == 0)
		rc = write_pem(path, 0644, ca, NULL, NULL, NULL);
	if (rc == 0 && (rc = state_path(cfg, "tsa.pem", path, sizeof(path))) == 0)
		rc = write_pem(path, 0644, tsa, NULL, NULL, NULL);
	if (rc == 0 && (rc = state_path(cfg, "audit.pem", path, sizeof(path))) == 0)
		rc = write_pem(path, 0644, audit, NULL, NULL, NULL);
	if (rc == 0)
		printf("appliance CA, TSA and audit keys made in the token; certificates in %s\n",
		    cfg->appliance.state_dir);
	else
		fprintf(stderr, "sealprov: appliance-init failed: %s\n", sb_strerror(rc));
	X509_free(ca);
	X509_free(tsa);
	X509_free(audit);
	return rc;
}

int
prov_mkdir_p(const char *dir, mode_t mode)
{
	char path[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return -1;
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, mode) != 0 && errno != EEXIST ? -1 : 0;
}

/* A leaf key (made here) and its certificate, written to dir/name.{key,pem}
 * with the CA appended to the certificate file, and dir/ca.pem. */
static int
issue_leaf(const struct config *cfg, struct hsm *h, const struct prov_leaf *l,
    enum ca_profile prof)
{
	uint8_t ca_id[HSM_ID_MAX];
	size_t ca_len = 0;
	X509 *ca = NULL, *cert = NULL;
	EVP_PKEY *key = NULL;
	char path[4096];
	int rc;

	if (prov_mkdir_p(l->out_dir, 0700) != 0) {
		fprintf(stderr, "sealprov: cannot create %s: %s\n", l->out_dir, strerror(errno));
		return SB_EIO;
	}
	if ((rc = find_key(h, labels[0], ca_id, &ca_len, &ca)) != 0) {
		fprintf(stderr, "sealprov: no appliance CA in the token: run appliance-init\n");
		return rc;
	}
	if ((key = EVP_EC_gen("P-256")) == NULL)
		rc = SB_ECRYPTO;
	else
		rc = ca_issue(h, ca_id, ca_len, ca, key, l->cn, l->org, prof, l->san,
		    l->days > 0 ? l->days : LEAF_DAYS, &cert);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/%s.key", l->out_dir, l->base);
		rc = write_pem(path, 0600, NULL, NULL, NULL, key);
	}
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/%s.pem", l->out_dir, l->base);
		rc = write_pem(path, 0644, cert, ca, NULL, NULL);
	}
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/ca.pem", l->out_dir);
		rc = write_pem(path, 0644, ca, NULL, NULL, NULL);
	}
	if (rc == 0) {
		char *serial = NULL;
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);

		if (bn != NULL)
			serial = BN_bn2hex(bn);
		printf("issued %s certificate for '%s' (serial %s) in %s/%s.{pem,key}\n",
		    ca_profile_name(prof), l->cn, serial ? serial : "?", l->out_dir, l->base);
		OPENSSL_free(serial);
		BN_free(bn);
	} else
		fprintf(stderr, "sealprov: cannot issue the certificate: %s\n", sb_strerror(rc));
	EVP_PKEY_free(key);
	X509_free(cert);
	X509_free(ca);
	(void)cfg;
	return rc;
}

int
prov_tls_server(const struct config *cfg, struct hsm *h, const struct prov_leaf *l)
{
	return issue_leaf(cfg, h, l, CA_PROFILE_TLS_SERVER);
}

int
prov_enrol(const struct config *cfg, struct hsm *h, const struct prov_leaf *l)
{
	return issue_leaf(cfg, h, l, CA_PROFILE_TLS_CLIENT);
}

/*
 * Add serial (hex, when not NULL) to state_dir/revoked.txt and write a fresh
 * CRL, valid for days (0: tls.crl_days), to out (default: tls.crl, else
 * state_dir/clients.crl), in place of the appliance CA's CRL there (others'
 * stay). The list is held against seald's monitor meanwhile (crl_list_lock).
 * seald, if it runs, takes the file on SIGHUP; while unsealed its monitor
 * renews it (mon_crl.c).
 */
int
prov_revoke(const struct config *cfg, struct hsm *h, const char *serial_hex, int days,
    const char *out)
{
	STACK_OF(X509_CRL) *crls = NULL;
	struct ca_revoked *rev = NULL;
	uint8_t ca_id[HSM_ID_MAX];
	size_t ca_len = 0, n = 0, nrev = 0;
	char list[4096], crlpath[4096], serial[CRL_SERIAL_MAX];
	X509 *ca = NULL;
	X509_CRL *crl = NULL;
	int rc, lock = -1, ours;

	if (days == 0)
		days = (int)cfg->tls.crl_days;
	if (days < 1 || days > 365) {
		fprintf(stderr, "sealprov: --days for a CRL: 1 to 365\n");
		return SB_EINVAL;
	}
	if (state_path(cfg, "revoked.txt", list, sizeof(list)) != 0)
		return SB_ENOMEM;
	if (out == NULL && cfg->tls.crl != NULL)
		out = cfg->tls.crl;
	if (out == NULL && state_path(cfg, "clients.crl", crlpath, sizeof(crlpath)) == 0)
		out = crlpath;
	if (serial_hex != NULL && crl_serial_norm(serial_hex, serial) != 0) {
		fprintf(stderr, "sealprov: --serial: 1 to %d hexadecimal digits\n",
		    CRL_SERIAL_DIGITS);
		return SB_EINVAL;
	}
	if ((rc = find_key(h, labels[0], ca_id, &ca_len, &ca)) != 0) {
		fprintf(stderr, "sealprov: no appliance CA on the token: %s\n", sb_strerror(rc));
		return rc;
	}
	if ((lock = crl_list_lock(list)) < 0) {
		fprintf(stderr, "sealprov: cannot open %s: %s\n", list, strerror(errno));
		rc = SB_EIO;
		goto out;
	}
	if (serial_hex != NULL) {
		if ((rc = crl_list_load(list, &rev, &nrev)) != 0) {
			fprintf(stderr, "sealprov: cannot read %s: %s\n", list, sb_strerror(rc));
			goto out;
		}
		if (crl_list_has(rev, nrev, serial)) {
			fprintf(stderr, "sealprov: serial %s is already revoked; the CRL is made "
			    "again\n", serial);
		} else if ((rc = crl_list_append(list, serial, time(NULL))) != 0) {
			fprintf(stderr, "sealprov: cannot write %s\n", list);
			goto out;
		}
	}
	if ((rc = crl_file_read(out, &crls)) == SB_EINVAL)
		fprintf(stderr, "sealprov: %s holds no CRL that can be read: it is replaced\n", out);
	if (rc != 0 && (crls = sk_X509_CRL_new_null()) == NULL) {
		rc = SB_ENOMEM;
		goto out;
	}
	ours = crl_file_ours(crls, ca);
	if ((rc = crl_make(h, ca_id, ca_len, ca, list, ours >= 0 ? sk_X509_CRL_value(crls, ours) :
	    NULL, NULL, time(NULL), days, &crl, &n)) != 0) {
		fprintf(stderr, "sealprov: cannot make the CRL: %s\n", sb_strerror(rc));
		goto out;
	}
	if (ours >= 0) {
		/* sk_set answers the new element, not the one it replaced. */
		X509_CRL_free(sk_X509_CRL_value(crls, ours));
		(void)sk_X509_CRL_set(crls, ours, crl);
		crl = NULL;
	} else if (sk_X509_CRL_push(crls, crl) > 0) {
		crl = NULL;
	} else {
		rc = SB_ENOMEM;
		goto out;
	}
	if (crl_file_write_new(out, crls, 0644) != 0 || file_put_in_place(out) != 0) {
		fprintf(stderr, "sealprov: cannot write %s: %s\n", out, strerror(errno));
		file_drop_new(out);
		rc = SB_EIO;
		goto out;
	}
	printf("CRL with %zu revoked certificate(s), valid %d days, written to %s\n", n, days,
	    out);
out:
	crl_list_unlock(lock);
	crl_list_free(rev, nrev);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	X509_CRL_free(crl);
	X509_free(ca);
	return rc;
}
