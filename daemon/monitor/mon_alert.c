/*
 * Alerts (docs/policy.md, "Alerts"): behaviour that deserves a person's
 * attention is written to the ledger as an {"action": "alert"} entry and to
 * syslog, and listed at GET /v1/alerts.
 *
 *  - outside_hours, seal_not_active: a sign request refused with that code;
 *  - burst: more than alerts.burst_max sealings with one seal, or by one
 *    principal, within alerts.burst_window seconds;
 *  - repeated_refusals: alerts.refusals_max refused (4xx) sign requests of
 *    one principal within alerts.refusals_window seconds;
 *  - revoked_certificate: the net worker refused a certificate revoked by
 *    a CRL reload (MSG_ALERT_REVOKED);
 *  - crl_expiring: the appliance CA's CRL could not be renewed and less
 *    than a quarter of tls.crl_days remains (mon_crl.c, at most daily).
 *
 * Counted alerts fire once per window (fixed windows that start with the
 * first event after the previous one ended). Their counters are in memory
 * only, in small tables of bounded size whose slots are reused (the oldest
 * window first) when full; they start again at zero when seald restarts.
 * The alert itself is durable: its ledger entry is committed before the
 * request that raised it is answered.
 *
 * An alert entry never carries more of the business than the entry it is
 * about: no document name or digest, only the seal, the principal, a short
 * detail and the sequence number of the triggering entry.
 *
 * The sign path calls in twice per request (a refusal or a sealing); both
 * take one short mutex around a bounded probe, and the rare ledger append of
 * an alert happens after the mutex is released.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "mon_int.h"

#define ALERT_SLOTS 1024		/* keys counted per table */
#define ALERT_PROBE 8			/* slots looked at for one key */
#define ALERT_KEY_MAX 96		/* "s:" or "p:" and a name; longer keys are cut */
#define ALERT_REVOKED_WINDOW 60		/* one revoked_certificate alert per certificate per minute */
#define ALERT_REVOKED_ALL 60		/* and at most this many a minute in all */
#define ALERT_DETAIL_MAX 320

struct alert_slot {
	char key[ALERT_KEY_MAX];
	long long start;		/* the window's first event (monotonic s); 0: free */
	unsigned count;
	int raised;			/* the alert of this window was raised */
};

struct alert_tab {
	pthread_mutex_t lock;
	struct alert_slot slot[ALERT_SLOTS];
};

/* The thresholds in force: the configuration's until a secadmin sets their
 * own (policy set: then v). */
static struct {
	pthread_mutex_t lock;
	int policy;
	struct store_alert_thresholds v;
} th = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
th_get(const struct mon *mon, struct store_alert_thresholds *v, int *policy)
{
	pthread_mutex_lock(&th.lock);
	if (th.policy) {
		*v = th.v;
	} else {
		v->burst_max = mon->cfg->alerts.burst_max;
		v->burst_window = mon->cfg->alerts.burst_window;
		v->refusals_max = mon->cfg->alerts.refusals_max;
		v->refusals_window = mon->cfg->alerts.refusals_window;
	}
	if (policy != NULL)
		*policy = th.policy;
	pthread_mutex_unlock(&th.lock);
}

static struct alert_tab burst_tab = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct alert_tab refusal_tab = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct alert_tab revoked_tab = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct alert_tab kind_tab = { .lock = PTHREAD_MUTEX_INITIALIZER };	/* outside_hours, seal_not_active */
static struct {
	pthread_mutex_t lock;
	long long start;
	unsigned n;
} revoked_all = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const char *const alert_kinds[] = {
	"outside_hours", "seal_not_active", "burst", "repeated_refusals", "revoked_certificate",
	"crl_expiring", NULL,
};

static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/*
 * Count one event of key at now; 1 when this event is the one that reaches
 * threshold within the window (the alert is then due), else 0. A key not
 * in the table takes a free or expired slot among its ALERT_PROBE, else the
 * one whose window began longest ago: a table full of busy keys forgets
 * the oldest count, never grows.
 */
static int
alert_count(struct alert_tab *t, const char *key, long long now, unsigned window,
    unsigned threshold)
{
	char k[ALERT_KEY_MAX];
	uint32_t h;
	struct alert_slot *s = NULL, *victim = NULL;
	int due = 0;

	snprintf(k, sizeof(k), "%s", key);
	h = fnv1a(k);
	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < ALERT_PROBE; i++) {
		struct alert_slot *c = &t->slot[(h + i) % ALERT_SLOTS];

		if (c->start != 0 && strcmp(c->key, k) == 0) {
			s = c;
			break;
		}
		if (victim == NULL || c->start == 0 ||
		    (victim->start != 0 && c->start < victim->start))
			victim = c;
	}
	if (s == NULL) {
		s = victim;
		memcpy(s->key, k, sizeof(k));
		s->start = 0;
	}
	if (s->start == 0 || now - s->start >= (long long)window) {
		s->start = now;
		s->count = 0;
		s->raised = 0;
	}
	s->count++;
	if (s->count >= threshold && !s->raised) {
		s->raised = 1;
		due = 1;
	}
	pthread_mutex_unlock(&t->lock);
	return due;
}

/* Ledger one alert and log it; failures are logged, never returned: the
 * request that raised it is answered as it would have been. */
static void
alert_raise(struct mon *mon, const char *kind, const char *seal, const char *principal,
    const char *detail, const uint64_t *about_seq)
{
	uint64_t seq = 0;
	json_t *e;
	int rc = SB_ENOMEM;

	e = json_pack("{s:s,s:s,s:s,s:s,s:s}", "action", "alert", "actor", "seald", "kind",
	    kind, "principal", principal, "detail", detail);
	if (e != NULL && seal != NULL && seal[0] != '\0' &&
	    json_object_set_new(e, "seal", json_string(seal)) != 0) {
		json_decref(e);
		e = NULL;
	}
	if (e != NULL && about_seq != NULL &&
	    json_object_set_new(e, "about_seq", json_integer((json_int_t)*about_seq)) != 0) {
		json_decref(e);
		e = NULL;
	}
	/* NULL would be taken as a ledger fault by mon_ledger: it is ours. */
	if (e != NULL)
		rc = mon_ledger(mon, e, &seq, NULL);
	if (rc == 0)
		log_warn("alert: %s: seal=%s principal=%s about_seq=%lld seq=%llu: %s", kind,
		    seal && seal[0] ? seal : "-", principal,
		    about_seq ? (long long)*about_seq : -1LL, (unsigned long long)seq, detail);
	else
		log_warn("alert: %s: seal=%s principal=%s about_seq=%lld (not ledgered: %s): %s",
		    kind, seal && seal[0] ? seal : "-", principal,
		    about_seq ? (long long)*about_seq : -1LL, sb_strerror(rc), detail);
}

void
mon_alert_refusal(struct mon *mon, const struct msg_sign *v, const char *actor,
    uint16_t status, const char *code, const char *text, uint64_t seq)
{
	struct store_alert_thresholds t;
	char key[ALERT_KEY_MAX], detail[ALERT_DETAIL_MAX];

	th_get(mon, &t, NULL);
	/* Once per principal, seal and kind within alerts.refusals_window: a
	 * principal retrying against a frozen seal raises one alert, not one
	 * per try. */
	snprintf(key, sizeof(key), "%c:%s:%s", code[0], actor, v->seal);
	if ((strcmp(code, "outside_hours") == 0 || strcmp(code, "seal_not_active") == 0) &&
	    alert_count(&kind_tab, key, mon_mono_now(), t.refusals_window, 1))
		alert_raise(mon, code, v->seal, actor, text, &seq);
	/* A fault of the appliance (5xx) is not the principal's behaviour. */
	if (status < 400 || status > 499)
		return;
	snprintf(key, sizeof(key), "p:%s", actor);
	if (alert_count(&refusal_tab, key, mon_mono_now(), t.refusals_window,
	    t.refusals_max)) {
		snprintf(detail, sizeof(detail), "%u sign requests of '%.64s' refused within "
		    "%u s (the last: %s)", t.refusals_max, actor, t.refusals_window, code);
		alert_raise(mon, "repeated_refusals", v->seal, actor, detail, &seq);
	}
}

void
mon_alert_sealed(struct mon *mon, const struct msg_sign *v, const char *actor, uint64_t seq)
{
	struct store_alert_thresholds t;
	unsigned max, win;
	char key[ALERT_KEY_MAX], detail[ALERT_DETAIL_MAX];
	long long now = mon_mono_now();
	int by_seal, by_principal;

	th_get(mon, &t, NULL);
	max = t.burst_max;
	win = t.burst_window;

	snprintf(key, sizeof(key), "s:%s", v->seal);
	by_seal = alert_count(&burst_tab, key, now, win, max + 1);
	snprintf(key, sizeof(key), "p:%s", actor);
	by_principal = alert_count(&burst_tab, key, now, win, max + 1);
	if (by_seal) {
		snprintf(detail, sizeof(detail), "more than %u sealings with seal '%s' within %u s",
		    max, v->seal, win);
		alert_raise(mon, "burst", v->seal, actor, detail, &seq);
	}
	if (by_principal) {
		snprintf(detail, sizeof(detail), "more than %u sealings by '%.64s' within %u s",
		    max, actor, win);
		alert_raise(mon, "burst", v->seal, actor, detail, &seq);
	}
}

/* The total bound on revoked_certificate alerts: a net worker that reports
 * made-up certificates cannot flood the ledger either. */
static int
revoked_all_ok(long long now)
{
	int ok;

	pthread_mutex_lock(&revoked_all.lock);
	if (revoked_all.start == 0 || now - revoked_all.start >= ALERT_REVOKED_WINDOW) {
		revoked_all.start = now;
		revoked_all.n = 0;
	}
	ok = revoked_all.n < ALERT_REVOKED_ALL;
	if (ok)
		revoked_all.n++;
	pthread_mutex_unlock(&revoked_all.lock);
	return ok;
}

int
mon_alert_revoked(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_ident_only v;
	struct store_principal p;
	char key[ALERT_KEY_MAX], hex[65], detail[ALERT_DETAIL_MAX];
	long long now = mon_mono_now();

	if (msg_ident_only_dec(m, &v) != 0)
		return SB_EINVAL;
	mon_hex(v.who.cert_sha256, sizeof(v.who.cert_sha256), hex);
	snprintf(key, sizeof(key), "c:%s", hex);
	if (alert_count(&revoked_tab, key, now, ALERT_REVOKED_WINDOW, 1) && revoked_all_ok(now)) {
		snprintf(detail, sizeof(detail), "a revoked client certificate was presented "
		    "(SHA-256 %s, subject %.160s)", hex, v.who.subject);
		alert_raise(mon, "revoked_certificate", NULL,
		    mon_principal(mon, &v.who, &p) == 0 ? p.name : v.who.subject, detail, NULL);
	}
	return mon_reply_json(reply, m->id, 200, json_pack("{s:s}", "result", "ok"));
}

/* ---- GET /v1/alerts ------------------------------------------------------ */

#define ALERT_SCOPE_CACHE 32

/* Who sees which alerts: secadmin and auditor all of them; a seal-admin
 * those about the seals of its units' subtrees. */
struct alert_scope {
	struct mon *mon;
	const struct store_principal *p;
	int all;
	size_t n;
	struct {
		char seal[STORE_ID_MAX];
		int visible;
	} cache[ALERT_SCOPE_CACHE];
};

static int
scope_seal(struct alert_scope *sc, const char *seal)
{
	struct store_seal s;
	int vis = 0;

	if (sc->all)
		return 1;
	if (seal == NULL || strlen(seal) >= STORE_ID_MAX)
		return 0;
	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->cache[i].seal, seal) == 0)
			return sc->cache[i].visible;
	if (store_seal_get(sc->mon->store, seal, &s) == 0) {
		vis = policy_holds(sc->mon, sc->p, "seal-admin", s.unit);
		store_seal_clear(&s);
	}
	if (sc->n < ALERT_SCOPE_CACHE) {
		snprintf(sc->cache[sc->n].seal, STORE_ID_MAX, "%s", seal);
		sc->cache[sc->n++].visible = vis;
	}
	return vis;
}

static int
alert_match(struct alert_scope *sc, const struct msg_alerts *v, const json_t *e)
{
	const char *action = json_string_value(json_object_get(e, "action"));
	const char *kind = json_string_value(json_object_get(e, "kind"));
	json_int_t t = json_integer_value(json_object_get(e, "time"));

	if (action == NULL || strcmp(action, "alert") != 0 || kind == NULL)
		return 0;
	if (v->kind[0] != '\0' && strcmp(kind, v->kind) != 0)
		return 0;
	if (t < 0 || (uint64_t)t < v->from_ms || (uint64_t)t >= v->to_ms)
		return 0;
	return scope_seal(sc, json_string_value(json_object_get(e, "seal")));
}

/* Alert entries from *cur on, in sequence order, reading at most
 * MON_SCAN_MAX entries (as GET /v1/ledger/entries does) and keeping at most
 * MON_PAGE_BYTES of them (always at least one). */
struct alerts_pg {
	struct alert_scope *sc;
	const struct msg_alerts *v;
	json_t *arr;
	size_t used;
};

static int
alerts_one(void *arg, json_t *item)
{
	struct alerts_pg *pg = arg;
	json_t *e = json_object_get(item, "entry");
	size_t n;

	if (!alert_match(pg->sc, pg->v, e))
		return MON_SCAN_NEXT;
	n = json_dumpb(e, NULL, 0, JSON_COMPACT) + 1;
	if (pg->used > 0 && pg->used + n > MON_PAGE_BYTES)
		return MON_SCAN_STOP;	/* this one starts the next page */
	pg->used += n;
	if (json_array_append(pg->arr, e) != 0)
		return SB_ENOMEM;
	return json_array_size(pg->arr) == pg->v->count ? MON_SCAN_LAST : MON_SCAN_NEXT;
}

static int
alerts_page(struct mon *mon, struct alert_scope *sc, const struct msg_alerts *v,
    uint64_t size, json_t *arr, uint64_t *cur)
{
	struct alerts_pg pg = { sc, v, arr, 0 };

	if (json_array_size(arr) >= v->count)
		return 0;
	return mon_ledger_scan(mon, cur, size, alerts_one, &pg);
}

static int
kind_known(const char *k)
{
	for (size_t i = 0; alert_kinds[i] != NULL; i++)
		if (strcmp(alert_kinds[i], k) == 0)
			return 1;
	return 0;
}

/* A page of the alerts v's filters and p's scope let through, as the reply. */
static int
alerts_reply(struct mon *mon, const struct store_principal *p, const struct msg_alerts *v,
    uint32_t id, struct ipc_msg *reply)
{
	struct alert_scope *sc;
	uint64_t size, cur;
	json_t *arr;
	int rc;

	if (v->kind[0] != '\0' && !kind_known(v->kind))
		return mon_reply_err(reply, id, 400, "bad_query", "kind: one of outside_hours, "
		    "seal_not_active, burst, repeated_refusals, revoked_certificate, crl_expiring");
	if ((sc = calloc(1, sizeof(*sc))) == NULL || (arr = json_array()) == NULL) {
		free(sc);
		return SB_ENOMEM;
	}
	sc->mon = mon;
	sc->p = p;
	for (size_t i = 0; i < p->n_roles && !sc->all; i++)
		sc->all = strcmp(p->roles[i].role, "secadmin") == 0 ||
		    strcmp(p->roles[i].role, "auditor") == 0;
	size = ledger_size(mon->ledger);
	cur = v->start;
	rc = alerts_page(mon, sc, v, size, arr, &cur);
	free(sc);
	if (rc != 0) {
		json_decref(arr);
		return mon_reply_err(reply, id, 503, "ledger_unavailable", "%s",
		    sb_strerror(rc));
	}
	return mon_reply_json(reply, id, 200, json_pack("{s:o,s:I,s:b}", "alerts", arr,
	    "next", (json_int_t)(cur > size ? size : cur), "more", cur < size));
}

int
mon_alerts_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_alerts v;
	struct store_principal p;

	if (msg_alerts_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_require_ready(mon, m->id, reply) != 0)
		return 0;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	return alerts_reply(mon, &p, &v, m->id, reply);
}

/* The console's secadmin and auditor see every alert. */
int
mon_adm_alerts(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_alerts v;
	struct store_principal p;

	if (msg_alerts_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_query", "malformed filters");
	if (mon_require_ready(mon, m->id, reply) != 0)
		return 0;
	mon_console_auditor(&p);
	return alerts_reply(mon, &p, &v, m->id, reply);
}

void
mon_alert_crl(struct mon *mon, const char *detail)
{
	alert_raise(mon, "crl_expiring", NULL, "seald", detail, NULL);
}

/* ---- the thresholds: the secadmin's policy ------------------------------- */

int
mon_alert_thresholds_load(struct mon *mon)
{
	struct store_alert_thresholds v;
	int rc = store_alert_thresholds_get(mon->store, &v);

	if (rc == SB_ENOTFOUND)
		return 0;
	if (rc == 0 && (v.burst_max > CFG_ALERT_BURST_MAX_HI || v.burst_window >
	    CFG_ALERT_WINDOW_HI || v.refusals_max > CFG_ALERT_REFUSALS_MAX_HI ||
	    v.refusals_window > CFG_ALERT_WINDOW_HI))
		rc = SB_EIO;
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&th.lock);
	th.v = v;
	th.policy = 1;
	pthread_mutex_unlock(&th.lock);
	log_info("monitor: alert thresholds from the policy store (a secadmin's): burst %u in "
	    "%u s, refusals %u in %u s", v.burst_max, v.burst_window, v.refusals_max,
	    v.refusals_window);
	return 0;
}

static json_t *
th_json(const struct store_alert_thresholds *v)
{
	return json_pack("{s:I,s:I,s:I,s:I}", "burst_max", (json_int_t)v->burst_max,
	    "burst_window", (json_int_t)v->burst_window, "refusals_max",
	    (json_int_t)v->refusals_max, "refusals_window", (json_int_t)v->refusals_window);
}

int
mon_adm_alert_thresholds(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct store_alert_thresholds v;
	json_t *o;
	int policy;

	if (ipc_get_end(m) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "this command has no body");
	th_get(mon, &v, &policy);
	if ((o = th_json(&v)) == NULL || json_object_set_new(o, "source",
	    json_string(policy ? "policy" : "configuration")) != 0) {
		json_decref(o);
		return SB_ENOMEM;
	}
	return mon_reply_json(reply, m->id, 200, o);
}

struct th_apply {
	struct mon *mon;
	struct store_alert_thresholds v;
};

/* Saved, then in force (mon_ledgered_change's step after the entry). */
static int
th_apply(void *arg)
{
	struct th_apply *a = arg;
	int rc;

	if ((rc = store_alert_thresholds_put(a->mon->store, &a->v)) != 0)
		return rc;
	pthread_mutex_lock(&th.lock);
	th.v = a->v;
	th.policy = 1;
	pthread_mutex_unlock(&th.lock);
	return 0;
}

/* One threshold out of its range: the refusal's text into why. */
static int
th_range(const char *name, uint32_t v, uint32_t hi, char *why, size_t len)
{
	if (v >= 1 && v <= hi)
		return 0;
	snprintf(why, len, "%s: 1 to %u (%u given)", name, hi, v);
	return -1;
}

int
mon_adm_alert_thresholds_set(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct store_alert_thresholds before, after;
	struct adm_alert_thresholds a;
	struct th_apply ap;
	char why[128];
	uint64_t seq = UINT64_MAX;	/* stays so unless the change is ledgered */
	json_t *e, *o;
	int rc;

	if (adm_alert_thresholds_dec(m, &a) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed alert "
		    "thresholds: four numbers, 0 for one kept, not all 0");
	th_get(mon, &before, NULL);
	after = before;
	if (a.burst_max != 0)
		after.burst_max = a.burst_max;
	if (a.burst_window != 0)
		after.burst_window = a.burst_window;
	if (a.refusals_max != 0)
		after.refusals_max = a.refusals_max;
	if (a.refusals_window != 0)
		after.refusals_window = a.refusals_window;
	if (th_range("burst_max", after.burst_max, CFG_ALERT_BURST_MAX_HI, why, sizeof(why)) ||
	    th_range("burst_window", after.burst_window, CFG_ALERT_WINDOW_HI, why,
	    sizeof(why)) || th_range("refusals_max", after.refusals_max,
	    CFG_ALERT_REFUSALS_MAX_HI, why, sizeof(why)) || th_range("refusals_window",
	    after.refusals_window, CFG_ALERT_WINDOW_HI, why, sizeof(why)))
		return mon_reply_err(reply, m->id, 400, "bad_thresholds", "%s", why);
	/* Ledgered first, with what was in force and what will be; a save
	 * that then fails is ledgered too (result failed:..., of_seq). */
	e = json_pack("{s:s,s:s,s:o,s:o,s:s}", "action", "alerts.thresholds", "actor",
	    mon->admin_actor, "before", th_json(&before), "after", th_json(&after), "result",
	    "ok");
	ap.mon = mon;
	ap.v = after;
	if ((rc = mon_ledgered_change_seq(mon, e, th_apply, &ap, &seq)) != 0 &&
	    seq == UINT64_MAX)
		return rc == SB_ENOMEM ? rc : mon_reply_err(reply, m->id, 503,
		    "ledger_unavailable", "not ledgered, so not done: %s", sb_strerror(rc));
	if (rc != 0) {
		log_err("monitor: alert thresholds ledgered (entry %llu) but not saved: %s",
		    (unsigned long long)seq, sb_strerror(rc));
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "ledgered (entry "
		    "%llu) but not saved: %s (ledgered as failed too); the thresholds in force "
		    "are unchanged", (unsigned long long)seq, sb_strerror(rc));
	}
	log_info("monitor: alert thresholds set by %s (ledger %llu): burst %u in %u s, "
	    "refusals %u in %u s", mon->admin_actor, (unsigned long long)seq, after.burst_max,
	    after.burst_window, after.refusals_max, after.refusals_window);
	if ((o = th_json(&after)) == NULL || json_object_set_new(o, "seq",
	    json_integer((json_int_t)seq)) != 0 || json_object_set_new(o, "source",
	    json_string("policy")) != 0) {
		json_decref(o);
		return SB_ENOMEM;
	}
	return mon_reply_json(reply, m->id, 200, o);
}
