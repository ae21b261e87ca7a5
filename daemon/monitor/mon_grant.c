/*
 * mon_grant — grants with conditions as people read them: the text forms of
 * a grant's hours, days and validity (for refusals, the ledger and
 * GET /v1/grants), and GET /v1/grants itself. What the conditions mean when
 * signing is policy.c's (policy_grant_check); the records are store.c's.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../lib/err.h"
#include "mon_int.h"

static const char *const day_names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

void
mon_grant_hours(uint32_t mask, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	if (mask == 0 || mask == (1u << 24) - 1) {
		snprintf(out, len, "any");
		return;
	}
	/* Runs of set bits, "09-18" for 9..17: the end is exclusive, like a clock. */
	for (int h = 0; h < 24; h++) {
		int e = h;

		if (!(mask & (1u << h)))
			continue;
		while (e < 24 && (mask & (1u << e)))
			e++;
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%02d-%02d",
		    n ? "," : "", h, e);
		h = e;
	}
}

void
mon_grant_days(uint8_t mask, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	if (mask == 0 || mask == 127) {
		snprintf(out, len, "any");
		return;
	}
	for (int d = 0; d < 7; d++) {
		int e = d;

		if (!(mask & (1u << d)))
			continue;
		while (e < 7 && (mask & (1u << e)))
			e++;
		if (e - d == 1)
			n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s",
			    n ? "," : "", day_names[d]);
		else
			n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s-%s",
			    n ? "," : "", day_names[d], day_names[e - 1]);
		d = e;
	}
}

void
mon_grant_time(long long t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "%lld", t);
}

static json_t *
list_json(const char *src, size_t width, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_string(src + i * width));
	return a;
}

json_t *
mon_grant_json(const struct store_grant *g)
{
	char hours[128], days[64], from[32], to[32], appr[128];

	mon_grant_hours(g->hours, hours, sizeof(hours));
	mon_grant_days(g->days, days, sizeof(days));
	mon_grant_time(g->valid_from, from, sizeof(from));
	mon_grant_time(g->valid_to, to, sizeof(to));
	if (g->approval_k == 0)
		snprintf(appr, sizeof(appr), "none");
	else
		snprintf(appr, sizeof(appr), "%u of %s", g->approval_k, g->approval_group);
	return json_pack("{s:s,s:s,s:o,s:I,s:I,s:s?,s:s?,s:s,s:s,s:s,s:s,s:o,s:s}",
	    "seal", g->seal, "principal", g->principal,
	    "doc_types", list_json(&g->doc_types[0][0], STORE_DOCTYPE_MAX, g->n_doc_types),
	    "per_day", (json_int_t)g->per_day, "per_month", (json_int_t)g->per_month,
	    "valid_from", g->valid_from ? from : NULL, "valid_to", g->valid_to ? to : NULL,
	    "hours", hours, "days", days, "approval", appr,
	    "confirm", g->confirm[0] ? g->confirm : "none",
	    "apps", list_json(&g->apps[0][0], STORE_ID_MAX, g->n_apps),
	    "on_sensitive", g->on_sensitive[0] ? g->on_sensitive : "block");
}

struct grants_ctx {
	struct mon *mon;
	const struct store_principal *p;
	const char *seal;		/* "" for all */
	json_t *arr;
	long long now;
	int rc;
};

/*
 * Who sees a grant: the secadmin, the auditor and the business-auditor
 * every one; a seal-admin those on seals of the units it is seal-admin over
 * (policy_holds); the call table already keeps everyone else out.
 */
static int
grant_visible(struct mon *mon, const struct store_principal *p, const struct store_seal *s)
{
	return policy_sees_all_requests(p) || policy_holds(mon, p, "seal-admin", s->unit);
}

static int
grants_one(void *arg, const struct store_grant *g)
{
	struct grants_ctx *c = arg;
	struct store_seal s;
	struct store_quota q;
	json_t *o;
	int vis;

	if (c->seal[0] != '\0' && strcmp(g->seal, c->seal) != 0)
		return 0;
	if (store_seal_get(c->mon->store, g->seal, &s) != 0)
		return 0;	/* a grant on a seal that is gone shows with nothing */
	vis = grant_visible(c->mon, c->p, &s);
	store_seal_clear(&s);
	if (!vis)
		return 0;
	if ((o = mon_grant_json(g)) == NULL)
		return SB_ENOMEM;
	if (store_quota_get(c->mon->store, g->seal, g->principal, c->now, &q) == 0)
		json_object_set_new(o, "used", json_pack("{s:I,s:I}", "day", (json_int_t)q.day,
		    "month", (json_int_t)q.month));
	return json_array_append_new(c->arr, o) == 0 ? 0 : SB_ENOMEM;
}

int
mon_grants_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_grants_list v;
	struct store_principal p;
	struct store_seal s;
	struct grants_ctx c = { .mon = mon, .p = &p };
	int rc, vis;

	if (msg_grants_list_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	if (v.seal[0] != '\0') {
		/* A seal the caller may not see is answered as if it did not exist. */
		if (store_seal_get(mon->store, v.seal, &s) != 0)
			return mon_reply_err(reply, m->id, 404, "unknown_seal",
			    "no seal '%s' is visible to you", v.seal);
		vis = grant_visible(mon, &p, &s);
		store_seal_clear(&s);
		if (!vis)
			return mon_reply_err(reply, m->id, 404, "unknown_seal",
			    "no seal '%s' is visible to you", v.seal);
	}
	c.seal = v.seal;
	c.now = (long long)time(NULL);
	if ((c.arr = json_array()) == NULL)
		return SB_ENOMEM;
	if ((rc = store_grant_each(mon->store, grants_one, &c)) != 0) {
		json_decref(c.arr);
		if (rc == SB_ENOMEM)
			return rc;
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "%s", sb_strerror(rc));
	}
	return mon_reply_json(reply, m->id, 200, json_pack("{s:o}", "grants", c.arr));
}
