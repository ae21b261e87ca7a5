/*
 * Usage trajectory and statistics: the filtered ledger listing
 * (GET /v1/ledger/entries?seal=&principal=&from=&to=) and GET /v1/stats,
 * both scoped by the caller's units (docs/ledger.md "Filters",
 * docs/policy.md "Statistics").
 *
 * Scope: a caller that audits the whole appliance (auditor; for statistics
 * also the secadmin), or holds one of the endpoint's roles over the root
 * unit, sees everything. Anyone else sees what belongs to the subtrees of
 * the units it holds the endpoint's roles over: a ledger entry belongs to
 * its seal's unit, and an entry without a seal (an administrator's action)
 * belongs to nobody's subtree, so only a see-all caller gets it.
 *
 * Work is bounded: a listing reads at most MON_SCAN_MAX entries per call
 * and says where to go on; statistics read the sign entries of the current
 * and the previous calendar month (UTC) through the time index, at most
 * MON_STATS_SCAN_MAX of them, and say whether they got them all. Counters
 * kept at signing time would be cheaper, but the ledger commits in its own
 * thread and transaction, so they could not be written in the entry's
 * commit: a scan of what the ledger holds cannot disagree with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/err.h"
#include "mon_int.h"

#define SCOPE_CACHE 64		/* seal -> visible, per call */
#define CUSTODIANS_MAX 16	/* custodians listed per seal */
#define SEAL_ADMINS_MAX 256	/* seal-admins considered for custodians */

struct scope {
	struct mon *mon;
	const struct store_principal *p;
	const char *const *roles;	/* the roles that give sight of a subtree */
	int all;
	size_t n;
	struct {
		char seal[STORE_ID_MAX];
		int visible;
	} cache[SCOPE_CACHE];
	size_t un;
	struct {
		char seal[STORE_ID_MAX];
		int in;			/* in the unit filter's subtree */
	} ucache[SCOPE_CACHE];
};

static const char *const entries_roles[] = { "requester", "business-auditor", NULL };
static const char *const entries_all[] = { "auditor", NULL };
static const char *const stats_roles[] = { "seal-admin", "business-auditor", NULL };
static const char *const stats_all[] = { "auditor", "secadmin", NULL };

/* 1 when p holds one of roles (over any unit). */
static int
holds_any(const struct store_principal *p, const char *const *roles)
{
	for (size_t i = 0; i < p->n_roles; i++)
		for (size_t r = 0; roles[r] != NULL; r++)
			if (strcmp(p->roles[i].role, roles[r]) == 0)
				return 1;
	return 0;
}

static int
scope_unit(struct scope *sc, const char *unit)
{
	if (sc->all)
		return 1;
	for (size_t r = 0; sc->roles[r] != NULL; r++)
		if (policy_holds(sc->mon, sc->p, sc->roles[r], unit))
			return 1;
	return 0;
}

static void
scope_init(struct scope *sc, struct mon *mon, const struct store_principal *p,
    const char *const *roles, const char *const *all_roles)
{
	memset(sc, 0, sizeof(*sc));
	sc->mon = mon;
	sc->p = p;
	sc->roles = roles;
	sc->all = strcmp(p->state, "active") == 0 && holds_any(p, all_roles);
	if (!sc->all)
		sc->all = scope_unit(sc, STORE_ROOT_UNIT);
}

/* 1 when the seal with this id belongs to the caller's scope; an unknown seal does not. */
static int
scope_seal(struct scope *sc, const char *seal)
{
	struct store_seal s;
	int vis;

	if (sc->all)
		return 1;
	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->cache[i].seal, seal) == 0)
			return sc->cache[i].visible;
	vis = 0;
	if (strlen(seal) < STORE_ID_MAX && store_seal_get(sc->mon->store, seal, &s) == 0) {
		vis = scope_unit(sc, s.unit);
		store_seal_clear(&s);
	}
	if (sc->n < SCOPE_CACHE && strlen(seal) < STORE_ID_MAX) {
		snprintf(sc->cache[sc->n].seal, STORE_ID_MAX, "%s", seal);
		sc->cache[sc->n++].visible = vis;
	}
	return vis;
}

static const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* 1 when the seal belongs to the subtree of unit (an unknown seal does not). */
static int
seal_in_unit(struct scope *sc, const char *seal, const char *unit)
{
	struct store_seal s;
	int in = 0;

	for (size_t i = 0; i < sc->un; i++)
		if (strcmp(sc->ucache[i].seal, seal) == 0)
			return sc->ucache[i].in;
	if (strlen(seal) < STORE_ID_MAX && store_seal_get(sc->mon->store, seal, &s) == 0) {
		in = policy_unit_below(sc->mon, s.unit, unit);
		store_seal_clear(&s);
	}
	if (sc->un < SCOPE_CACHE && strlen(seal) < STORE_ID_MAX) {
		snprintf(sc->ucache[sc->un].seal, STORE_ID_MAX, "%s", seal);
		sc->ucache[sc->un++].in = in;
	}
	return in;
}

/* 1 when item (a ledger_entry_json object) passes v's filters and the scope. */
static int
entry_match(struct scope *sc, const struct msg_ledger_entries *v, const json_t *item)
{
	const json_t *e = json_object_get(item, "entry");
	const char *seal = json_string_value(json_object_get(e, "seal"));
	json_int_t t = json_integer_value(json_object_get(e, "time"));

	if (v->seal[0] != '\0' && (seal == NULL || strcmp(seal, v->seal) != 0))
		return 0;
	if (v->document_name[0] != '\0' &&
	    strstr(jstr(e, "document_name"), v->document_name) == NULL)
		return 0;
	if (v->unit[0] != '\0' && (seal == NULL || !seal_in_unit(sc, seal, v->unit)))
		return 0;
	if (v->principal[0] != '\0' && strcmp(jstr(e, "actor"), v->principal) != 0 &&
	    strcmp(jstr(e, "on_behalf_of"), v->principal) != 0)
		return 0;
	if (t < 0 || (uint64_t)t < v->from_ms || (uint64_t)t >= v->to_ms)
		return 0;
	if (sc->all)
		return 1;
	return seal != NULL && scope_seal(sc, seal);
}

/* Through the seal index: only that seal's entries are read. */
static int
page_by_seal(struct mon *mon, struct scope *sc, const struct msg_ledger_entries *v,
    uint64_t size, json_t *arr, uint64_t *cur)
{
	uint64_t seqs[LEDGER_LIST_MAX];
	size_t scanned = 0, n;
	json_t *item;
	int rc;

	while (json_array_size(arr) < v->count && scanned < MON_SCAN_MAX && *cur < size) {
		size_t want = MON_SCAN_MAX - scanned;

		if ((rc = ledger_find_by_seal(mon->ledger, v->seal, *cur, seqs,
		    want < LEDGER_LIST_MAX ? want : LEDGER_LIST_MAX, &n)) != 0)
			return rc;
		if (n == 0 || seqs[0] >= size) {
			*cur = size;	/* nothing more of this seal in the tree read */
			break;
		}
		for (size_t i = 0; i < n && json_array_size(arr) < v->count; i++) {
			if (seqs[i] >= size) {
				*cur = size;
				break;
			}
			scanned++;
			*cur = seqs[i] + 1;
			if ((rc = ledger_entry_json(mon->ledger, seqs[i], &item)) != 0)
				return rc;
			if (entry_match(sc, v, item))
				rc = json_array_append(arr, item) != 0 ? SB_ENOMEM : 0;
			json_decref(item);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* In sequence order: mon_ledger_scan's step. */
struct seq_page {
	struct scope *sc;
	const struct msg_ledger_entries *v;
	json_t *arr;
};

static int
seq_one(void *arg, json_t *item)
{
	struct seq_page *pg = arg;

	if (entry_match(pg->sc, pg->v, item) && json_array_append(pg->arr, item) != 0)
		return SB_ENOMEM;
	return json_array_size(pg->arr) == pg->v->count ? MON_SCAN_LAST : MON_SCAN_NEXT;
}

static int
page_by_seq(struct mon *mon, struct scope *sc, const struct msg_ledger_entries *v,
    uint64_t size, json_t *arr, uint64_t *cur)
{
	struct seq_page pg = { sc, v, arr };

	if (json_array_size(arr) >= v->count)
		return 0;
	return mon_ledger_scan(mon, cur, size, seq_one, &pg);
}

int
mon_entries_page(struct mon *mon, const struct store_principal *p,
    const struct msg_ledger_entries *v, json_t **arr, uint64_t *next, int *more)
{
	uint64_t size = ledger_size(mon->ledger), cur = v->start;
	struct scope *sc;
	int rc;

	*arr = NULL;
	if ((sc = malloc(sizeof(*sc))) == NULL)
		return SB_ENOMEM;
	scope_init(sc, mon, p, entries_roles, entries_all);
	if ((*arr = json_array()) == NULL) {
		free(sc);
		return SB_ENOMEM;
	}
	if (v->seal[0] != '\0')
		rc = page_by_seal(mon, sc, v, size, *arr, &cur);
	else
		rc = page_by_seq(mon, sc, v, size, *arr, &cur);
	free(sc);
	if (rc != 0) {
		json_decref(*arr);
		*arr = NULL;
		return rc;
	}
	*next = cur;
	*more = cur < size;
	return 0;
}

int
mon_entry_visible(struct mon *mon, const struct store_principal *p, const json_t *entry)
{
	const char *seal = json_string_value(json_object_get(entry, "seal"));
	struct scope *sc;
	int vis;

	if ((sc = malloc(sizeof(*sc))) == NULL)
		return 0;
	scope_init(sc, mon, p, entries_roles, entries_all);
	vis = sc->all || (seal != NULL && scope_seal(sc, seal));
	free(sc);
	return vis;
}

/* ---- GET /v1/stats ---------------------------------------------------------- */

struct stats {
	struct mon *mon;
	struct scope sc;
	json_t *by_unit, *by_type, *by_state, *custodians, *seals;	/* seals: id -> unit */
	json_t *uses, *pending_kind;
	json_int_t total, pending;
	struct store_principal *admins;	/* the seal-admins, for custodians */
	size_t n_admins;
	long long now_ms;
	int rc;
};

static int
bump(json_t *o, const char *key, json_int_t by)
{
	json_int_t n = json_integer_value(json_object_get(o, key));

	return json_object_set_new(o, key, json_integer(n + by)) == 0 ? 0 : SB_ENOMEM;
}

static int
admin_one(void *arg, const struct store_principal *p)
{
	struct stats *st = arg;

	if (st->n_admins == SEAL_ADMINS_MAX || strcmp(p->state, "active") != 0)
		return 0;
	for (size_t i = 0; i < p->n_roles; i++)
		if (strcmp(p->roles[i].role, "seal-admin") == 0) {
			st->admins[st->n_admins++] = *p;
			break;
		}
	return 0;
}

/* The seal-admins over the seal's unit whose assignment the caller may see. */
static json_t *
custodians_of(struct stats *st, const struct store_seal *s)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < st->n_admins; i++) {
		const struct store_principal *a = &st->admins[i];

		for (size_t r = 0; r < a->n_roles && json_array_size(arr) < CUSTODIANS_MAX; r++) {
			const struct store_role *ro = &a->roles[r];
			struct store_principal one = *a;

			if (strcmp(ro->role, "seal-admin") != 0 || !scope_unit(&st->sc, ro->unit))
				continue;
			one.n_roles = 1;
			one.roles[0] = *ro;
			if (!policy_holds(st->mon, &one, "seal-admin", s->unit))
				continue;
			json_array_append_new(arr, json_pack("{s:s,s:s}", "principal", a->name,
			    "unit", ro->unit));
			break;
		}
	}
	return arr;
}

static int
seal_one(void *arg, const struct store_seal *s)
{
	struct stats *st = arg;
	json_t *c;

	if (!scope_unit(&st->sc, s->unit))
		return 0;
	st->total++;
	if (bump(st->by_unit, s->unit, 1) != 0 || bump(st->by_type, s->type, 1) != 0 ||
	    bump(st->by_state, s->state, 1) != 0 ||
	    json_object_set_new(st->seals, s->id, json_string(s->unit)) != 0 ||
	    (c = custodians_of(st, s)) == NULL ||
	    json_object_set_new(st->custodians, s->id, c) != 0)
		return st->rc = SB_ENOMEM;
	return 0;
}

static int
pending_one(void *arg, const char *text, size_t len)
{
	struct stats *st = arg;
	json_t *o = json_loadb(text, len, 0, NULL);
	json_int_t expires;
	int rc = 0;

	if (o == NULL)
		return 0;	/* mon_req.c's to complain about */
	expires = json_integer_value(json_object_get(o, "expires"));
	if (strcmp(jstr(o, "state"), "pending") == 0 && expires > st->now_ms &&
	    json_object_get(st->seals, jstr(o, "seal")) != NULL) {
		st->pending++;
		rc = bump(st->pending_kind, jstr(o, "kind"), 1);
	}
	json_decref(o);
	return rc;
}

/* One successful signature by seal, day and month. */
static int
count_use(struct stats *st, const char *seal, uint64_t time_ms)
{
	time_t t = (time_t)(time_ms / 1000);
	char day[16], month[16];
	json_t *u, *d, *mo;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	strftime(month, sizeof(month), "%Y-%m", &tm);
	if ((u = json_object_get(st->uses, seal)) == NULL) {
		u = json_pack("{s:I,s:{},s:{}}", "total", (json_int_t)0, "days", "months");
		if (u == NULL || json_object_set_new(st->uses, seal, u) != 0)
			return SB_ENOMEM;
	}
	d = json_object_get(u, "days");
	mo = json_object_get(u, "months");
	if (bump(u, "total", 1) != 0 || bump(d, day, 1) != 0 || bump(mo, month, 1) != 0)
		return SB_ENOMEM;
	return 0;
}

/* The first instant of the previous calendar month (UTC), in unix ms. */
static uint64_t
since_ms(long long now_ms)
{
	time_t now = (time_t)(now_ms / 1000);
	struct tm tm;

	gmtime_r(&now, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	if (--tm.tm_mon < 0) {
		tm.tm_mon = 11;
		tm.tm_year--;
	}
	return (uint64_t)timegm(&tm) * 1000;
}

/* The uses since `since`, through the time index; *complete 0 when the bound cut it. */
static int
scan_uses(struct stats *st, uint64_t since, size_t *scanned, int *complete)
{
	uint64_t seqs[LEDGER_LIST_MAX], t = since, s = 0;
	size_t n;
	json_t *item;
	int rc;

	*scanned = 0;
	*complete = 0;
	while (*scanned < MON_STATS_SCAN_MAX) {
		size_t want = MON_STATS_SCAN_MAX - *scanned;

		if ((rc = ledger_find_by_time(st->mon->ledger, t, s, UINT64_MAX, seqs,
		    want < LEDGER_LIST_MAX ? want : LEDGER_LIST_MAX, &n)) != 0)
			return rc;
		if (n == 0) {
			*complete = 1;
			return 0;
		}
		for (size_t i = 0; i < n; i++) {
			const json_t *e;
			const char *seal;

			if ((rc = ledger_entry_json(st->mon->ledger, seqs[i], &item)) != 0) {
				/* Indexed by a commit not yet published: the end. */
				*complete = rc == SB_ENOTFOUND;
				return rc == SB_ENOTFOUND ? 0 : rc;
			}
			(*scanned)++;
			e = json_object_get(item, "entry");
			t = (uint64_t)json_integer_value(json_object_get(e, "time"));
			s = seqs[i] + 1;
			seal = json_string_value(json_object_get(e, "seal"));
			rc = 0;
			if (seal != NULL && strcmp(jstr(e, "action"), "sign") == 0 &&
			    strcmp(jstr(e, "result"), "ok") == 0 &&
			    json_object_get(st->seals, seal) != NULL)
				rc = count_use(st, seal, t);
			json_decref(item);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static json_t *
iso_ms(uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	char out[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(out);
}

/* "all", or the units the caller holds a statistics role over. */
static json_t *
scope_json(const struct scope *sc)
{
	json_t *arr;

	if (sc->all)
		return json_string("all");
	arr = json_array();
	for (size_t i = 0; arr != NULL && i < sc->p->n_roles; i++)
		for (size_t r = 0; sc->roles[r] != NULL; r++)
			if (strcmp(sc->p->roles[i].role, sc->roles[r]) == 0)
				json_array_append_new(arr, json_string(sc->p->roles[i].unit));
	return arr;
}

static int
stats_fill(struct stats *st, json_t **out)
{
	struct timespec ts;
	uint64_t since;
	size_t scanned;
	int rc, complete;

	clock_gettime(CLOCK_REALTIME, &ts);
	st->now_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if ((st->admins = calloc(SEAL_ADMINS_MAX, sizeof(*st->admins))) == NULL)
		return SB_ENOMEM;
	if ((rc = store_principal_each(st->mon->store, admin_one, st)) != 0 ||
	    (rc = store_seal_each(st->mon->store, seal_one, st)) != 0 || (rc = st->rc) != 0 ||
	    (rc = store_request_each(st->mon->store, pending_one, st)) != 0)
		return rc;
	since = since_ms(st->now_ms);
	if ((rc = scan_uses(st, since, &scanned, &complete)) != 0)
		return rc;
	*out = json_pack("{s:o,s:{s:I,s:O,s:O,s:O},s:O,s:{s:o,s:I,s:b,s:O},s:{s:I,s:O}}",
	    "scope", scope_json(&st->sc),
	    "seals", "total", st->total, "by_unit", st->by_unit, "by_type", st->by_type,
	    "by_state", st->by_state,
	    "custodians", st->custodians,
	    "uses", "since", iso_ms(since), "entries_scanned", (json_int_t)scanned,
	    "complete", complete, "by_seal", st->uses,
	    "pending_requests", "total", st->pending, "by_kind", st->pending_kind);
	return *out != NULL ? 0 : SB_ENOMEM;
}

int
mon_stats(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_ident_only v;
	struct store_principal p;
	struct stats *st;
	json_t *o = NULL;
	int rc;

	if (msg_ident_only_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_require_ready(mon, m->id, reply) != 0)
		return 0;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return SB_ENOMEM;
	st->mon = mon;
	scope_init(&st->sc, mon, &p, stats_roles, stats_all);
	st->by_unit = json_object();
	st->by_type = json_object();
	st->by_state = json_object();
	st->custodians = json_object();
	st->seals = json_object();
	st->uses = json_object();
	st->pending_kind = json_object();
	if (st->by_unit == NULL || st->by_type == NULL || st->by_state == NULL ||
	    st->custodians == NULL || st->seals == NULL || st->uses == NULL ||
	    st->pending_kind == NULL)
		rc = SB_ENOMEM;
	else
		rc = stats_fill(st, &o);
	json_decref(st->by_unit);
	json_decref(st->by_type);
	json_decref(st->by_state);
	json_decref(st->custodians);
	json_decref(st->seals);
	json_decref(st->uses);
	json_decref(st->pending_kind);
	free(st->admins);
	free(st);
	if (rc == SB_ENOMEM)
		return rc;
	if (rc != 0)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "statistics: %s",
		    sb_strerror(rc));
	return mon_reply_json(reply, m->id, 200, o);
}
