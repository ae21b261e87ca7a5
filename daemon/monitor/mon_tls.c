/*
 * mon_tls — seald's TLS server certificate, changed at the console.
 *
 * sealadm makes the new key (it never reaches the monitor) and writes the
 * files; the monitor
 *  - issues the certificate from the appliance CA for sealadm's request
 *    (ADM_TLS_ISSUE), ledgered as tls.issue before it is handed out;
 *  - ledgers the certificate sealadm is about to put in place, whoever
 *    issued it (ADM_TLS_INSTALL, tls.install), before it is in force;
 *  - asks the parent to re-read the TLS files once they are in place
 *    (ADM_TLS_RELOAD); the parent checks them before the net worker takes
 *    them, and keeps the old ones if they do not build (seald.c).
 * All three are the sysadmin's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "../../hsm/ca.h"
#include "../../lib/err.h"
#include "../../lib/log.h"
#include "mon_int.h"

#define TLS_DAYS_DEFAULT 825
#define TLS_CHAIN_MAX 8		/* certificates in one server certificate file */
#define TLS_SAN_TEXT 1024

/* What the ledger and the answer say of x, into e: serial, subject, issuer,
 * names, validity, SHA-256 of its DER. 0 or SB_ENOMEM. */
static int
tls_describe(json_t *e, X509 *x)
{
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	char serial[128], san[TLS_SAN_TEXT], after[21], hex[2 * SHA256_DIGEST_LENGTH + 1];
	char *subj = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
	char *iss = X509_NAME_oneline(X509_get_issuer_name(x), NULL, 0);
	int len = i2d_X509(x, &der), rc = SB_ENOMEM;

	if (e != NULL && len > 0 && subj != NULL && iss != NULL) {
		SHA256(der, (size_t)len, md);
		mon_hex(md, sizeof(md), hex);
		ca_serial_hex(x, serial, sizeof(serial));
		ca_san_text(x, san, sizeof(san));
		mon_asn1_time(X509_get0_notAfter(x), after);
		rc = json_object_set_new(e, "serial", json_string(serial)) != 0 ||
		    json_object_set_new(e, "subject", json_string(subj)) != 0 ||
		    json_object_set_new(e, "issuer", json_string(iss)) != 0 ||
		    json_object_set_new(e, "san", json_string(san)) != 0 ||
		    json_object_set_new(e, "not_after", json_string(after)) != 0 ||
		    json_object_set_new(e, "cert_sha256", json_string(hex)) != 0 ? SB_ENOMEM : 0;
	}
	OPENSSL_free(der);
	OPENSSL_free(subj);
	OPENSSL_free(iss);
	return rc;
}

/* 400 bad_names: what names ADM_TLS_ISSUE and ADM_TLS_REQUEST take. */
static int
names_refused(struct ipc_msg *reply, uint32_t id)
{
	return mon_reply_err(reply, id, 400, "bad_names", "names: DNS:name and IP:address "
	    "items, separated by commas, no blanks (DNS:sealbox.example.org,IP:192.0.2.10)");
}

int
mon_adm_tls_issue(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_tls_issue v;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char why[256], cn[256], *leaf = NULL, *ca = NULL, *chain = NULL;
	uint64_t seq;
	uint8_t lh[32];
	json_t *e;
	int rc;

	if (adm_tls_issue_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request (names, "
		    "0 to %d days, a request of at most %d bytes)", MSG_TLS_DAYS_MAX, MSG_CERT_MAX);
	if (!ca_san_valid(v.san))
		return names_refused(reply, m->id);
	if ((rc = mon_require_ca(mon, m->id, reply)) != 0)
		return rc == SB_ESTATE ? 0 : rc;
	if ((rc = mon_csr_key(v.csr_pem, v.csr_len, &key, why, sizeof(why))) != 0)
		return rc == SB_EINVAL ? mon_reply_err(reply, m->id, 400, "bad_csr", "%s", why) : rc;
	ca_san_cn(v.san, cn, sizeof(cn));
	rc = ca_issue(mon->hsm, mon->ca.id, mon->ca.id_len, mon->ca.cert, key, cn, "Sealbox",
	    CA_PROFILE_TLS_SERVER, v.san, v.days ? (int)v.days : TLS_DAYS_DEFAULT, &cert);
	EVP_PKEY_free(key);
	if (rc != 0)
		return mon_reply_err(reply, m->id, 503, "hsm_unavailable", "the appliance CA could "
		    "not issue the certificate: %s", sb_strerror(rc));
	e = json_pack("{s:s,s:s,s:s}", "action", "tls.issue", "actor", mon->admin_actor,
	    "result", "ok");
	if ((rc = tls_describe(e, cert)) != 0) {
		json_decref(e);
		X509_free(cert);
		return rc;
	}
	/* Ledgered before anyone has it. */
	if ((rc = mon_ledger(mon, e, &seq, lh)) != 0) {
		X509_free(cert);
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "%s",
		    sb_strerror(rc));
	}
	if ((leaf = mon_pem(cert)) == NULL || (ca = mon_pem(mon->ca.cert)) == NULL ||
	    asprintf(&chain, "%s%s", leaf, ca) < 0) {
		chain = NULL;
		rc = SB_ENOMEM;
	} else
		rc = mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:I}", "certificate",
		    chain, "seq", (json_int_t)seq));
	free(leaf);
	free(ca);
	free(chain);
	X509_free(cert);
	return rc;
}

/*
 * A new TLS key and its request for an outside CA: ledgered (tls.request:
 * the names and the SHA-256 of the key's SubjectPublicKeyInfo, which the
 * certificate installed later must carry) before sealadm keeps the key, so
 * that no key for the appliance's name exists without a trace. The request
 * must be signed by its key.
 */
int
mon_adm_tls_request(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_tls_issue v;
	EVP_PKEY *key = NULL;
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	char why[256], hex[2 * SHA256_DIGEST_LENGTH + 1];
	uint64_t seq;
	uint8_t lh[32];
	int rc, n;

	if (adm_tls_issue_dec(m, &v) != 0 || v.days != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request (names "
		    "and a request of at most %d bytes)", MSG_CERT_MAX);
	if (!ca_san_valid(v.san))
		return names_refused(reply, m->id);
	if ((rc = mon_csr_key(v.csr_pem, v.csr_len, &key, why, sizeof(why))) != 0)
		return rc == SB_EINVAL ? mon_reply_err(reply, m->id, 400, "bad_csr", "%s", why) : rc;
	n = i2d_PUBKEY(key, &der);
	EVP_PKEY_free(key);
	if (n <= 0)
		return SB_ENOMEM;
	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	mon_hex(md, sizeof(md), hex);
	if ((rc = mon_ledger(mon, json_pack("{s:s,s:s,s:s,s:s,s:s}", "action", "tls.request",
	    "actor", mon->admin_actor, "result", "ok", "san", v.san, "key_sha256", hex), &seq,
	    lh)) != 0)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "not ledgered, so "
		    "no key is kept: %s", sb_strerror(rc));
	log_info("monitor: %s made a TLS key and request for an outside CA (%s), ledgered as %llu",
	    mon->admin_actor, v.san, (unsigned long long)seq);
	return mon_reply_json(reply, m->id, 200, json_pack("{s:I,s:s}", "seq", (json_int_t)seq,
	    "key_sha256", hex));
}

/* The PEM certificates of v, in order, into out (at most TLS_CHAIN_MAX):
 * their count, or 0 when there is none, one does not parse, or there are
 * more. (Text between or around them is skipped, as PEM readers do.) */
static int
tls_chain(const struct adm_tls_install *v, X509 **out)
{
	BIO *b = BIO_new_mem_buf(v->chain_pem, (int)v->chain_len);
	X509 *extra = NULL;
	unsigned long err;
	int n = 0, ok;

	ERR_clear_error();
	if (!ca_pem_only_certs((const char *)v->chain_pem, v->chain_len)) {
		BIO_free(b);
		return 0;
	}
	while (b != NULL && n < TLS_CHAIN_MAX &&
	    (out[n] = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		n++;
	if (b != NULL && n == TLS_CHAIN_MAX)
		extra = PEM_read_bio_X509(b, NULL, NULL, NULL);
	err = ERR_peek_last_error();
	/* The reading ended where the text did, not on a block that is broken. */
	ok = extra == NULL && ERR_GET_LIB(err) == ERR_LIB_PEM &&
	    ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
	X509_free(extra);
	BIO_free(b);
	ERR_clear_error();
	if (!ok)
		while (n > 0)
			X509_free(out[--n]);
	return n;
}

/*
 * ADM_TLS_INSTALL: the server certificate file sealadm is about to put in
 * place, checked (a server certificate, in its validity period, with names)
 * and ledgered as tls.install before it is. Whether the appliance CA
 * issued it is said ("appliance_ca"), so that an auditor sees when an outside
 * CA came in.
 */
int
mon_adm_tls_install(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_tls_install v;
	X509 *chain[TLS_CHAIN_MAX];
	char san[TLS_SAN_TEXT];
	uint64_t seq;
	uint8_t lh[32];
	json_t *e;
	int n, rc, ours;

	if (adm_tls_install_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request (a "
		    "certificate file of at most %d bytes)", MSG_CERT_MAX);
	if ((n = tls_chain(&v, chain)) == 0)
		return mon_reply_err(reply, m->id, 400, "bad_certificate", "not PEM certificates "
		    "only (the server certificate first, then its CA certificates; at most %d; "
		    "no key or other block)", TLS_CHAIN_MAX);
	ca_san_text(chain[0], san, sizeof(san));
	if (X509_check_purpose(chain[0], X509_PURPOSE_SSL_SERVER, 0) != 1)
		rc = mon_reply_err(reply, m->id, 400, "bad_certificate", "the first certificate "
		    "is not for a TLS server (its key usage or extended key usage says otherwise)");
	else if (X509_cmp_current_time(X509_get0_notAfter(chain[0])) <= 0 ||
	    X509_cmp_current_time(X509_get0_notBefore(chain[0])) >= 0)
		rc = mon_reply_err(reply, m->id, 400, "bad_certificate", "the certificate is not "
		    "valid now (see its notBefore and notAfter; is the clock right?)");
	else if (san[0] == '\0')
		rc = mon_reply_err(reply, m->id, 400, "bad_certificate", "the certificate names no "
		    "DNS name or IP address (subjectAltName): clients could not check it");
	else
		rc = 1;
	if (rc != 1)
		goto out;
	ours = mon_is_ready(mon) && X509_check_issued(mon->ca.cert, chain[0]) == X509_V_OK &&
	    X509_verify(chain[0], X509_get0_pubkey(mon->ca.cert)) == 1;
	ERR_clear_error();
	e = json_pack("{s:s,s:s,s:s,s:b,s:i}", "action", "tls.install", "actor",
	    mon->admin_actor, "result", "ok", "appliance_ca", ours, "chain", n);
	if ((rc = tls_describe(e, chain[0])) != 0) {
		json_decref(e);
		goto out;
	}
	if ((rc = mon_ledger(mon, json_incref(e), &seq, lh)) != 0) {
		json_decref(e);
		rc = mon_reply_err(reply, m->id, 503, "ledger_unavailable", "%s", sb_strerror(rc));
		goto out;
	}
	json_object_del(e, "action");
	json_object_del(e, "actor");
	json_object_del(e, "result");
	json_object_set_new(e, "seq", json_integer((json_int_t)seq));
	log_info("monitor: %s installs a TLS server certificate (%s), ledgered as %llu",
	    mon->admin_actor, san, (unsigned long long)seq);
	rc = mon_reply_json(reply, m->id, 200, e);
out:
	while (n > 0)
		X509_free(chain[--n]);
	return rc;
}

int
mon_adm_tls_reload(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	if (ipc_get_end(m) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "a reload takes no body");
	if (mon_reload_parent(mon) != 0)
		return mon_reply_err(reply, m->id, 503, "reload_failed", "seald's parent could not "
		    "be asked to re-read the TLS files; restart seald");
	return mon_reply_json(reply, m->id, 200, json_pack("{s:s}", "result", "ok"));
}

/*
 * MSG_TLS_SERVING: the net worker presents this server certificate now (at
 * its start and after each reload). Kept for ADM_STATUS, where the console
 * sees a certificate it installed taken.
 */
int
mon_tls_serving(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_ident_only v;

	if (msg_ident_only_dec(m, &v) != 0)
		return SB_EINVAL;
	pthread_mutex_lock(&mon->lock);
	mon_hex(v.who.cert_sha256, sizeof(v.who.cert_sha256), mon->tls_serving);
	pthread_mutex_unlock(&mon->lock);
	return mon_reply_json(reply, m->id, 200, json_pack("{s:s}", "result", "ok"));
}
