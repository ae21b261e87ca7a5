/*
 * mon_crl — the appliance CA's CRL at tls.crl, kept current by the monitor.
 *
 * seald checks every client certificate against tls.crl, and a CRL past its
 * nextUpdate makes OpenSSL refuse them all: left alone, the CRL made at first
 * boot would stop every business system after tls.crl_days. The monitor,
 * which alone holds the appliance CA's key, makes a new one:
 *  - while unsealed, when less than half of tls.crl_days remains (checked
 *    once the appliance is unsealed, then hourly by the monotonic clock),
 *    ledgered as crl.renew;
 *  - when the sysadmin revokes a client certificate (ADM_REVOKE), ledgered
 *    as certificate.revoke.
 * The new CRL lists everything in state_dir/revoked.txt and everything the
 * CRL in force lists (hsm/crl.h: no revocation is ever dropped). In the file
 * it takes the place of the appliance CA's CRL only; CRLs of other CAs
 * there stay as they are, and a file with none of ours is never replaced.
 * The file is written whole beside tls.crl first, so that a place that
 * cannot take it is found before anything is ledgered; then the entry is
 * committed, the list appended, the file renamed over tls.crl, and the
 * parent sent SIGHUP: it re-reads the TLS files, checks them and hands them
 * to the net worker (seald.c). The list is held (flock) against sealprov
 * revoke from reading it to the rename.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/sha.h>

#include "../../hsm/crl.h"
#include "../../lib/err.h"
#include "../../lib/fdio.h"
#include "../../lib/log.h"
#include "mon_int.h"

#define MCRL_CHECK_EVERY 3600	/* s between checks while unsealed */
#define MCRL_RETRY 300		/* s after a renewal that failed */
#define MCRL_ALERT_EVERY 86400	/* s between crl_expiring alerts */

/* One writer of tls.crl and revoked.txt in this process at a time (the
 * admin and the tree-head threads); the flock keeps out sealprov. */
static pthread_mutex_t mcrl_lock = PTHREAD_MUTEX_INITIALIZER;
/* The tree-head thread's: when to look next (monotonic seconds), and what
 * it last said of a file it cannot renew, so that it says it once. */
static long long mcrl_next_check;
static int mcrl_told;
static long long mcrl_alerted;	/* when the last crl_expiring alert was raised */

static void
mcrl_list_path(const struct mon *mon, char *out, size_t len)
{
	snprintf(out, len, "%s/revoked.txt", mon->cfg->appliance.state_dir);
}

/* What a ledger entry says of crl: its nextUpdate, its count, its hash. */
static int
mcrl_describe(json_t *e, X509_CRL *crl, size_t n)
{
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	char next[21], hex[2 * SHA256_DIGEST_LENGTH + 1];
	int len = i2d_X509_CRL(crl, &der);

	if (e == NULL || len <= 0) {
		OPENSSL_free(der);
		return SB_ENOMEM;
	}
	SHA256(der, (size_t)len, md);
	OPENSSL_free(der);
	mon_hex(md, sizeof(md), hex);
	mon_asn1_time(X509_CRL_get0_nextUpdate(crl), next);
	return json_object_set_new(e, "revoked", json_integer((json_int_t)n)) != 0 ||
	    json_object_set_new(e, "next_update", json_string(next)) != 0 ||
	    json_object_set_new(e, "crl_sha256", json_string(hex)) != 0 ? SB_ENOMEM : 0;
}

/* A change in the making: the file as read, the new CRL, the list. */
struct mcrl_change {
	struct mon *mon;
	STACK_OF(X509_CRL) *crls;	/* tls.crl's CRLs; ours replaced by the new one */
	int ours;			/* its index */
	X509_CRL *crl;			/* the new one (owned by crls once placed) */
	size_t n;			/* how many it lists */
	char list[PATH_MAX];
	const char *add;		/* a serial to append to the list, or NULL */
	time_t now;			/* its revocation time, in the list and the CRL */
	int applied;			/* the entry was committed; mcrl_apply ran */
};

/*
 * Under the locks: tls.crl read and our CRL in it found (0); else why not
 * into why, and SB_ENOTFOUND (no file), SB_EINVAL (not readable as CRLs)
 * or SB_ESTATE (none of the appliance CA's in it).
 */
static int
mcrl_read(struct mcrl_change *c, char *why, size_t len)
{
	const char *path = c->mon->cfg->tls.crl;
	int rc = crl_file_read(path, &c->crls);

	if (rc == SB_ENOTFOUND)
		snprintf(why, len, "there is no file %s (tls.crl)", path);
	else if (rc != 0)
		snprintf(why, len, "%s (tls.crl) cannot be read as CRLs: %s", path,
		    sb_strerror(rc));
	else if ((c->ours = crl_file_ours(c->crls, c->mon->ca.cert)) < 0) {
		snprintf(why, len, "%s holds no CRL of the appliance CA", path);
		rc = SB_ESTATE;
	}
	return rc;
}

/* The new CRL made and written beside tls.crl (not yet in force). */
static int
mcrl_prepare(struct mcrl_change *c, char *why, size_t len)
{
	struct mon *mon = c->mon;
	int rc;

	rc = crl_make(mon->hsm, mon->ca.id, mon->ca.id_len, mon->ca.cert, c->list,
	    sk_X509_CRL_value(c->crls, c->ours), c->add, c->now, (int)mon->cfg->tls.crl_days,
	    &c->crl, &c->n);
	if (rc == SB_EINVAL)
		snprintf(why, len, "the revoked list %s has a line that is not a serial and a "
		    "time (see seald's log)", c->list);
	else if (rc == SB_ELIMIT)
		snprintf(why, len, "a CRL lists at most %d certificates", CA_CRL_MAX);
	else if (rc != 0)
		snprintf(why, len, "the appliance CA could not sign it: %s", sb_strerror(rc));
	if (rc != 0)
		return rc;
	/* sk_set answers the new element, not the one it replaced. */
	X509_CRL_free(sk_X509_CRL_value(c->crls, c->ours));
	(void)sk_X509_CRL_set(c->crls, c->ours, c->crl);
	/* 0600: the parent reads it as the same user. Not 0644, which under
	 * the service's UMask=0077 would take an fchmod the filter refuses. */
	if (crl_file_write_new(mon->cfg->tls.crl, c->crls, 0600) != 0) {
		snprintf(why, len, "cannot write beside %s: %s", mon->cfg->tls.crl, strerror(errno));
		file_drop_new(mon->cfg->tls.crl);
		return SB_EIO;
	}
	return 0;
}

/* After the entry: the list appended, the new file in force, seald asked
 * to re-read it. */
static int
mcrl_apply(void *arg)
{
	struct mcrl_change *c = arg;
	const char *path = c->mon->cfg->tls.crl;
	int rc;

	c->applied = 1;
	if (c->add != NULL && (rc = crl_list_append(c->list, c->add, c->now)) != 0) {
		file_drop_new(path);
		return rc;
	}
	if (file_put_in_place(path) != 0) {
		log_err("monitor: cannot put the new CRL in place of %s: %s", path,
		    strerror(errno));
		file_drop_new(path);
		return SB_EIO;
	}
	(void)mon_reload_parent(c->mon);
	return 0;
}

static void
mcrl_done(struct mcrl_change *c)
{
	sk_X509_CRL_pop_free(c->crls, X509_CRL_free);	/* the new CRL with them */
}

/* A renewal failed with left seconds to go: once a quarter of the CRL's
 * days or less remain, an alert (at most daily), for someone to act before
 * every client certificate is refused. */
static void
mcrl_alert(struct mon *mon, long long left, const char *why)
{
	long long now = mon_mono_now();
	char detail[PATH_MAX + 512];

	if (left > (long long)mon->cfg->tls.crl_days * 86400 / 4 ||
	    (mcrl_alerted != 0 && now - mcrl_alerted < MCRL_ALERT_EVERY))
		return;
	mcrl_alerted = now;
	if (left > 0)
		snprintf(detail, sizeof(detail), "the CRL in %s expires in %lld h and cannot be "
		    "renewed: %s; when it does, every client certificate is refused",
		    mon->cfg->tls.crl, left / 3600, why);
	else
		snprintf(detail, sizeof(detail), "the CRL in %s has expired and cannot be "
		    "renewed: %s; every client certificate is refused", mon->cfg->tls.crl, why);
	mon_alert_crl(mon, detail);
}

/* Under mcrl_lock: a fresh CRL when less than half of its days remain. */
static int
mcrl_renew_if_due(struct mon *mon)
{
	struct mcrl_change c = { .mon = mon, .now = time(NULL) };
	char why[PATH_MAX + 256];
	int days = 0, secs = 0, rc, lock;
	long long left;
	json_t *e;

	mcrl_list_path(mon, c.list, sizeof(c.list));
	if ((lock = crl_list_lock(c.list)) < 0) {
		log_err("monitor: cannot open %s to renew the CRL: %s", c.list, strerror(errno));
		return SB_EIO;
	}
	if ((rc = mcrl_read(&c, why, sizeof(why))) != 0) {
		/* Someone else's file, or none: not ours to renew; said once. */
		if (!mcrl_told)
			log_warn("monitor: the CRL is not renewed here: %s", why);
		mcrl_told = 1;
		rc = 0;
		goto out;
	}
	mcrl_told = 0;
	left = 0;
	if (X509_CRL_get0_nextUpdate(sk_X509_CRL_value(c.crls, c.ours)) != NULL &&
	    ASN1_TIME_diff(&days, &secs, NULL,
	    X509_CRL_get0_nextUpdate(sk_X509_CRL_value(c.crls, c.ours))) == 1)
		left = (long long)days * 86400 + secs;
	if (left > (long long)mon->cfg->tls.crl_days * 86400 / 2)
		goto out;
	/* Nothing is ledgered for a CRL that cannot be made or written. */
	if ((rc = mcrl_prepare(&c, why, sizeof(why))) != 0) {
		log_err("monitor: the CRL in %s is due for renewal (%lld s left) but %s; trying "
		    "again in %d s", mon->cfg->tls.crl, left, why, MCRL_RETRY);
		mcrl_alert(mon, left, why);
		goto out;
	}
	e = json_pack("{s:s,s:s,s:s}", "action", "crl.renew", "actor", "seald", "result", "ok");
	if ((rc = mcrl_describe(e, c.crl, c.n)) != 0)
		json_decref(e);
	else
		rc = mon_ledgered_change(mon, e, mcrl_apply, &c);
	if (rc == 0)
		log_info("monitor: CRL renewed (%zu revoked, %lld s were left): %s", c.n, left,
		    mon->cfg->tls.crl);
	else {
		file_drop_new(mon->cfg->tls.crl);
		log_err("monitor: the CRL could not be renewed: %s", sb_strerror(rc));
		mcrl_alert(mon, left, sb_strerror(rc));
	}
out:
	crl_list_unlock(lock);
	mcrl_done(&c);
	return rc;
}

void
mon_crl_tick(struct mon *mon)
{
	long long now = mon_mono_now();
	int rc;

	if (mon->cfg->tls.crl == NULL || now < mcrl_next_check)
		return;
	pthread_mutex_lock(&mcrl_lock);
	rc = mcrl_renew_if_due(mon);
	pthread_mutex_unlock(&mcrl_lock);
	mcrl_next_check = now + (rc == 0 ? MCRL_CHECK_EVERY : MCRL_RETRY);
}

/* 1 when crl lists the normalised hex serial. */
static int
mcrl_lists(X509_CRL *crl, const char *serial)
{
	ASN1_INTEGER *a = crl_serial_asn1(serial);
	X509_REVOKED *rev = NULL;
	int found = a != NULL && X509_CRL_get0_by_serial(crl, &rev, a) == 1;

	ASN1_INTEGER_free(a);
	return found;
}

/* Under mcrl_lock and the list's flock: ADM_REVOKE's checks and change. */
static int
mcrl_revoke(struct mcrl_change *c, const struct adm_revoke *v, const char *serial, uint32_t id,
    struct ipc_msg *reply)
{
	struct mon *mon = c->mon;
	struct ca_revoked *r;
	char why[PATH_MAX + 256], next[21];
	size_t n;
	json_t *e;
	int rc, had, listed;

	if ((rc = mcrl_read(c, why, sizeof(why))) != 0)
		return mon_reply_err(reply, id, 409, rc == SB_ESTATE ? "foreign_crl" : "no_crl_file",
		    "%s%s", why, rc == SB_ESTATE ? ": revoke the certificate with the CA that "
		    "issued the CRL there" : "; seald cannot have started with it: see its log");
	listed = mcrl_lists(sk_X509_CRL_value(c->crls, c->ours), serial);
	if ((rc = crl_list_load(c->list, &r, &n)) != 0)
		return mon_reply_err(reply, id, 500, "internal", "the revoked list %s cannot be "
		    "read: %s", c->list, sb_strerror(rc));
	had = crl_list_has(r, n, serial);
	crl_list_free(r, n);
	if (listed)
		return mon_reply_err(reply, id, 409, "already_revoked", "the certificate with "
		    "serial %s is already revoked", serial);
	/* On the list but not in the CRL in force (a revocation whose CRL could
	 * not be put in place): the CRL is made again, the list left as it is. */
	c->add = had ? NULL : serial;
	if ((rc = mcrl_prepare(c, why, sizeof(why))) != 0)
		return mon_reply_err(reply, id, rc == SB_ELIMIT ? 409 : rc == SB_EINVAL ? 500 : 503,
		    rc == SB_EIO ? "crl_unavailable" : rc == SB_ELIMIT ? "too_many" :
		    rc == SB_EINVAL ? "internal" : "hsm_unavailable", "%s; nothing was revoked, "
		    "nothing ledgered", why);
	e = json_pack("{s:s,s:s,s:s,s:s,s:s}", "action", "certificate.revoke", "actor",
	    mon->admin_actor, "result", "ok", "serial", serial, "reason", v->reason);
	if ((rc = mcrl_describe(e, c->crl, c->n)) != 0) {
		json_decref(e);
		return rc;
	}
	if ((rc = mon_ledgered_change(mon, e, mcrl_apply, c)) != 0) {
		file_drop_new(mon->cfg->tls.crl);
		if (c->applied)
			return mon_reply_err(reply, id, 503, "crl_unavailable", "ledgered, but the "
			    "revocation could not be completed: %s (see seald's log; the failure "
			    "is ledgered too); the same revocation again completes it",
			    sb_strerror(rc));
		return mon_reply_err(reply, id, 503, "ledger_unavailable", "%s; nothing was "
		    "revoked", sb_strerror(rc));
	}
	mon_asn1_time(X509_CRL_get0_nextUpdate(c->crl), next);
	log_info("monitor: certificate %s revoked by %s; CRL of %zu written to %s", serial,
	    mon->admin_actor, c->n, mon->cfg->tls.crl);
	return mon_reply_json(reply, id, 200, json_pack("{s:s,s:I,s:s,s:s}", "serial", serial,
	    "revoked", (json_int_t)c->n, "next_update", next, "crl", mon->cfg->tls.crl));
}

int
mon_adm_revoke(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct mcrl_change c = { .mon = mon, .now = time(NULL) };
	struct adm_revoke v;
	char serial[CRL_SERIAL_MAX];
	int rc, lock;

	if (adm_revoke_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "a revocation names the "
		    "certificate's serial and gives a reason of one line");
	if (crl_serial_norm(v.serial, serial) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_serial", "a serial is 1 to %d "
		    "hexadecimal digits (openssl x509 -noout -serial), colons between octets "
		    "allowed", CRL_SERIAL_DIGITS);
	if (mon->cfg->tls.crl == NULL)
		return mon_reply_err(reply, m->id, 409, "no_crl", "tls.crl is not set: seald "
		    "checks client certificates against no CRL, so a revocation would change "
		    "nothing; set it in the configuration and restart seald first");
	if ((rc = mon_require_ca(mon, m->id, reply)) != 0)
		return rc == SB_ESTATE ? 0 : rc;
	mcrl_list_path(mon, c.list, sizeof(c.list));
	pthread_mutex_lock(&mcrl_lock);
	if ((lock = crl_list_lock(c.list)) < 0)
		rc = mon_reply_err(reply, m->id, 500, "internal", "cannot open the revoked list "
		    "%s: %s", c.list, strerror(errno));
	else
		rc = mcrl_revoke(&c, &v, serial, m->id, reply);
	crl_list_unlock(lock);
	pthread_mutex_unlock(&mcrl_lock);
	mcrl_done(&c);
	return rc;
}
