/*
 * policy — the one place that decides what a principal may do.
 *
 * Two questions are answered here. Which API endpoints may a principal call
 * at all (policy_may_call): that is its roles, against the one table below,
 * which docs/policy.md and tests/integration/matrix.tsv repeat and the matrix
 * test checks. And what it may do with one seal (policy_may_see,
 * policy_may_sign): a grant naming both, the principal active. A principal
 * may act on behalf of a person when an administrator named that person in
 * its may_act_for list and the person is an active principal.
 *
 * Role assignments are scoped to a unit subtree; in this slice only the root
 * unit exists to assign over, and no endpoint answers per unit yet, so the
 * call check takes every role a principal holds, wherever. A grant's
 * conditions and its quota (policy_grant_check, policy_quota_take) are
 * checked when signing; approvals and per-unit scoping of seals come with the
 * rest of issue 4.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../lib/err.h"
#include "mon_int.h"

/* The roles, in the order of their bits. */
static const char *const role_names[] = {
	"sysadmin", "secadmin", "auditor",
	"seal-admin", "approver", "requester", "template-creator", "file-admin",
	"business-auditor",
};

enum {
	R_SYSADMIN = 1u << 0, R_SECADMIN = 1u << 1, R_AUDITOR = 1u << 2,
	R_SEAL_ADMIN = 1u << 3, R_APPROVER = 1u << 4, R_REQUESTER = 1u << 5,
	R_TEMPLATE = 1u << 6, R_FILE_ADMIN = 1u << 7, R_BIZ_AUDITOR = 1u << 8,
	R_ALL = (1u << 9) - 1,
	/* The business plane: everyone who works with seals... */
	R_BUSINESS = R_SEAL_ADMIN | R_APPROVER | R_REQUESTER | R_TEMPLATE | R_FILE_ADMIN |
	    R_BIZ_AUDITOR,
	/* ...and those of them who read the ledger. */
	R_READERS = R_AUDITOR | R_BIZ_AUDITOR,
};

_Static_assert(sizeof(role_names) / sizeof(role_names[0]) == 9, "one bit per role");

/*
 * Who may call what, by the message the net worker turns the request into.
 * "routes" is documentation (the routes of daemon/net/req.c that send it);
 * the matrix test holds the two together. A type missing here is refused to
 * everyone: a new endpoint is closed until it gets a row.
 *
 * Why these: the sysadmin runs the box and gets nothing that shows seal
 * business data (no seals, entries, proofs of entries, evidence or verify
 * results); the tree head and consistency proofs are hashes only and let it
 * watch the ledger grow. The auditor reads and verifies, never writes or
 * signs. The secadmin sets roles and policy (through sealadm in this slice)
 * and neither seals nor reads business data. Signing needs `requester` and a
 * grant. Requesters keep reading the ledger, as clients did before roles (a
 * signer fetches its evidence); scoping that to their own entries is a later
 * slice, as is scoping the business-auditor to its subtree: today it reads
 * the whole ledger.
 */
static const struct policy_endpoint {
	uint16_t type;
	const char *routes;
	unsigned roles;
} endpoints[] = {
	{ MSG_SEALS_LIST, "GET /v1/seals", R_BUSINESS },
	{ MSG_SEAL_GET, "GET /v1/seals/{seal}", R_BUSINESS },
	{ MSG_SIGN, "POST /v1/seals/{seal}/sign, POST /v1/sign/batch, "
	    "POST /v1/seals/{seal}/sign-pdf", R_REQUESTER },
	/* The image is read as the seal is (GET /v1/seals/{seal}); sealing is MSG_SIGN's. */
	{ MSG_SEAL_IMAGE, "POST /v1/seals/{seal}/sign-pdf", R_BUSINESS },
	{ MSG_PDF_SEALED, "POST /v1/seals/{seal}/sign-pdf", R_REQUESTER },
	{ MSG_VERIFY, "POST /v1/verify", R_AUDITOR | R_BUSINESS },
	{ MSG_TSA, "POST /v1/tsa", R_BUSINESS & ~R_BIZ_AUDITOR },
	{ MSG_LEDGER_STH, "GET /v1/ledger/sth", R_ALL },
	{ MSG_LEDGER_ENTRIES, "GET /v1/ledger/entries", R_READERS | R_REQUESTER },
	{ MSG_PROOF_INCLUSION, "GET /v1/ledger/proof/inclusion", R_READERS | R_REQUESTER },
	{ MSG_PROOF_CONSISTENCY, "GET /v1/ledger/proof/consistency", R_ALL },
	{ MSG_EVIDENCE, "GET /v1/evidence/{seq}", R_READERS | R_REQUESTER },
	{ MSG_UNITS_LIST, "GET /v1/units", R_ALL },
	{ MSG_PRINCIPALS_LIST, "GET /v1/principals", R_SYSADMIN | R_SECADMIN | R_AUDITOR |
	    R_SEAL_ADMIN | R_BIZ_AUDITOR },
	{ MSG_ROLES_LIST, "GET /v1/roles", R_ALL },
	/*
	 * Requests (the seal state changes, and `use`). The custodian and the
	 * secadmin file and decide the state changes; a requester files a `use`
	 * (and may withdraw it), approvers decide it; the auditors read them;
	 * the sysadmin gets nothing (their contents are business data). Which
	 * requests a caller sees, and whether it may file or decide one, is
	 * mon_req.c's, through policy_holds below.
	 */
	{ MSG_REQUEST_FILE, "POST /v1/requests", R_SECADMIN | R_SEAL_ADMIN | R_REQUESTER },
	{ MSG_REQUESTS_LIST, "GET /v1/requests", R_SECADMIN | R_AUDITOR | R_SEAL_ADMIN |
	    R_BIZ_AUDITOR | R_APPROVER | R_REQUESTER },
	{ MSG_REQUEST_GET, "GET /v1/requests/{request}", R_SECADMIN | R_AUDITOR |
	    R_SEAL_ADMIN | R_BIZ_AUDITOR | R_APPROVER | R_REQUESTER },
	{ MSG_REQUEST_APPROVE, "POST /v1/requests/{request}/approve", R_SECADMIN |
	    R_SEAL_ADMIN | R_APPROVER },
	{ MSG_REQUEST_REJECT, "POST /v1/requests/{request}/reject", R_SECADMIN | R_SEAL_ADMIN |
	    R_APPROVER | R_REQUESTER },
	/*
	 * Seal statistics: counts, custodians, uses per day and month, pending
	 * requests; no document names or digests. The auditors and seal-admins
	 * see their scope (mon_stats.c); the secadmin, who sets the policy these
	 * counts describe, sees all; the sysadmin gets nothing (invariant 5).
	 */
	{ MSG_STATS, "GET /v1/stats", R_SECADMIN | R_AUDITOR | R_SEAL_ADMIN | R_BIZ_AUDITOR },
	/*
	 * Grants and their conditions are policy, and who may seal with which
	 * seal is business data: the secadmin (who sets it) and the auditors
	 * read them all, a seal-admin those of its units' seals (mon_grant.c);
	 * the sysadmin gets nothing (invariant 5).
	 */
	{ MSG_GRANTS_LIST, "GET /v1/grants", R_SECADMIN | R_AUDITOR | R_SEAL_ADMIN |
	    R_BIZ_AUDITOR },
	/*
	 * Intent confirmation (mon_totp.c): a person's own TOTP secret. The
	 * business roles that change or use seals; the appliance roles and the
	 * business-auditor never seal or approve a use, so they have nothing
	 * to confirm. An application is refused by the handler (not_a_person).
	 */
	{ MSG_TOTP_ENROL, "POST /v1/principals/me/totp", R_BUSINESS & ~R_BIZ_AUDITOR },
	{ MSG_TOTP_CONFIRM, "POST /v1/principals/me/totp/confirm", R_BUSINESS & ~R_BIZ_AUDITOR },
	{ MSG_TOTP_VERIFY, "POST /v1/principals/me/totp/verify", R_BUSINESS & ~R_BIZ_AUDITOR },
	/*
	 * Alerts (mon_alert.c): the auditor and the secadmin see all, a
	 * seal-admin those about its units' seals; no document names or
	 * digests, but who used which seal how: not the sysadmin's (invariant 5).
	 */
	{ MSG_ALERTS, "GET /v1/alerts", R_SECADMIN | R_AUDITOR | R_SEAL_ADMIN },
};

int
policy_role_ok(const char *role)
{
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (strcmp(role, role_names[i]) == 0)
			return 1;
	return 0;
}

static unsigned
role_bits(const struct store_principal *p)
{
	unsigned bits = 0;

	for (size_t i = 0; i < p->n_roles; i++)
		for (size_t r = 0; r < sizeof(role_names) / sizeof(role_names[0]); r++)
			if (strcmp(p->roles[i].role, role_names[r]) == 0)
				bits |= 1u << r;
	return bits;
}

/* "a, b or c": the role names of bits, for a refusal's message. */
static void
role_list(unsigned bits, char *out, size_t len)
{
	size_t n = 0, left = (size_t)__builtin_popcount(bits);

	out[0] = '\0';
	for (size_t r = 0; r < sizeof(role_names) / sizeof(role_names[0]); r++) {
		if (!(bits & (1u << r)))
			continue;
		left--;
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s",
		    role_names[r], left == 0 ? "" : left == 1 ? " or " : ", ");
		if (n >= len)
			return;
	}
}

int
policy_may_call(struct mon *mon, const struct store_principal *p, uint16_t type,
    char *why, size_t len)
{
	const struct policy_endpoint *e = NULL;
	char need[256];

	(void)mon;
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
		if (endpoints[i].type == type)
			e = &endpoints[i];
	if (e == NULL) {
		snprintf(why, len, "no role may call this endpoint");
		return SB_EPERM;
	}
	if (strcmp(p->state, "active") == 0 && (role_bits(p) & e->roles) != 0)
		return 0;
	role_list(e->roles, need, sizeof(need));
	snprintf(why, len, "%s needs %s %s, which '%s' does not hold", e->routes,
	    __builtin_popcount(e->roles) == 1 ? "the role" : "one of the roles", need, p->name);
	return SB_EPERM;
}

/*
 * Scope: the appliance roles see every unit (the sysadmin and the secadmin
 * administer the whole box, the auditor audits it); anyone else sees the
 * subtrees of the units its roles are assigned over.
 */
static int
sees_all(const struct store_principal *p)
{
	return (role_bits(p) & (R_SYSADMIN | R_SECADMIN | R_AUDITOR)) != 0;
}

/* 1 when unit is root or below it (a parent chain longer than 64 is damage: no). */
int
policy_unit_below(struct mon *mon, const char *unit, const char *root)
{
	struct store_unit u;
	char cur[STORE_ID_MAX];

	snprintf(cur, sizeof(cur), "%s", unit);
	for (int depth = 0; depth < 64 && cur[0] != '\0'; depth++) {
		if (strcmp(cur, root) == 0)
			return 1;
		if (store_unit_get(mon->store, cur, &u) != 0)
			return 0;
		snprintf(cur, sizeof(cur), "%s", u.parent);
	}
	return 0;
}

int
policy_holds(struct mon *mon, const struct store_principal *p, const char *role,
    const char *unit)
{
	if (strcmp(p->state, "active") != 0)
		return 0;
	for (size_t i = 0; i < p->n_roles; i++)
		if (strcmp(p->roles[i].role, role) == 0 &&
		    policy_unit_below(mon, unit, p->roles[i].unit))
			return 1;
	return 0;
}

int
policy_sees_all_requests(const struct store_principal *p)
{
	return strcmp(p->state, "active") == 0 &&
	    (role_bits(p) & (R_SECADMIN | R_AUDITOR | R_BIZ_AUDITOR)) != 0;
}

int
policy_may_see_unit(struct mon *mon, const struct store_principal *p, const char *unit)
{
	if (strcmp(p->state, "active") != 0)
		return SB_EPERM;
	if (sees_all(p))
		return 0;
	for (size_t i = 0; i < p->n_roles; i++)
		if (policy_unit_below(mon, unit, p->roles[i].unit))
			return 0;
	return SB_EPERM;
}

static int
pair_json(void *arg, const char *a, const char *b)
{
	return json_array_append_new(arg, json_pack("[s,s]", a, b)) == 0 ? 0 : SB_ENOMEM;
}

json_t *
policy_roles_json(struct mon *mon, int *rc)
{
	json_t *names = json_array(), *pairs = json_array();

	*rc = 0;
	for (size_t r = 0; names != NULL && r < sizeof(role_names) / sizeof(role_names[0]); r++)
		if (json_array_append_new(names, json_string(role_names[r])) != 0) {
			json_decref(names);
			names = NULL;
		}
	if (pairs != NULL && (*rc = store_exclusion_each(mon->store, pair_json, pairs)) != 0) {
		json_decref(pairs);
		pairs = NULL;
	}
	if (names == NULL || pairs == NULL) {
		json_decref(names);
		json_decref(pairs);
		if (*rc == 0)
			*rc = SB_ENOMEM;
		return NULL;
	}
	return json_pack("{s:o,s:o}", "roles", names, "exclusive", pairs);
}

int
policy_roles_conflict(struct mon *mon, const struct store_principal *p, char *a, char *b,
    size_t len)
{
	int rc;

	for (size_t i = 0; i < p->n_roles; i++)
		for (size_t j = i + 1; j < p->n_roles; j++) {
			rc = store_exclusive(mon->store, p->roles[i].role, p->roles[j].role);
			if (rc == SB_ENOTFOUND)
				continue;
			if (rc == 0) {
				snprintf(a, len, "%s", p->roles[i].role);
				snprintf(b, len, "%s", p->roles[j].role);
				return SB_EPERM;
			}
			return rc;
		}
	return 0;
}

int
policy_may_see(struct mon *mon, const struct store_principal *p, const struct store_seal *s)
{
	if (strcmp(p->state, "active") != 0)
		return SB_EPERM;
	return store_grant_has(mon->store, s->id, p->name) == 0 ? 0 : SB_EPERM;
}

int
policy_may_sign(struct mon *mon, const struct store_principal *p, const struct store_seal *s)
{
	return policy_may_see(mon, p, s);
}

int
policy_may_act_for(struct mon *mon, const struct store_principal *actor, const char *person)
{
	struct store_principal p;
	size_t i;
	int rc;

	if (strcmp(actor->state, "active") != 0)
		return SB_EPERM;
	for (i = 0; i < actor->n_may_act_for; i++)
		if (strcmp(actor->may_act_for[i], person) == 0)
			break;
	if (i == actor->n_may_act_for)
		return SB_EPERM;
	/* Named by an administrator, but it must still be someone, and in office. */
	if ((rc = store_principal_get(mon->store, person, &p)) != 0)
		return rc;
	return strcmp(p.state, "active") == 0 ? 0 : SB_ENOTFOUND;
}

/* ---- grant conditions and quotas (docs/policy.md, "Grants and quotas") ---- */

int
policy_refuse(struct policy_grant_result *r, uint16_t status, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	r->status = status;
	snprintf(r->code, sizeof(r->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
	return SB_EPERM;
}

/* "a, b, c" of a grant's list. */
static void
grant_list(const char *src, size_t width, size_t n, char *out, size_t len)
{
	size_t k = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && k < len; i++)
		k += (size_t)snprintf(out + k, len - k, "%s%s", i ? ", " : "", src + i * width);
}

static int
in_list(const char *src, size_t width, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(src + i * width, s) == 0)
			return 1;
	return 0;
}

/* The grant that applies: the person's when an application acts on behalf
 * of one who holds a grant on the seal (the application carries it), else
 * the caller's own. */
static int
grant_find(struct mon *mon, const struct store_principal *actor, const struct msg_sign *v,
    struct store_grant *g)
{
	int rc;

	if (v->who.on_behalf_of[0] != '\0') {
		rc = store_grant_get(mon->store, v->seal, v->who.on_behalf_of, g);
		if (rc != SB_ENOTFOUND)
			return rc;
	}
	return store_grant_get(mon->store, v->seal, actor->name, g);
}

/* Validity, then the hours of day and days of week, at now (UTC). */
static int
grant_when(const struct store_grant *g, long long now, struct policy_grant_result *r)
{
	char t[32], hours[128], days[64];
	time_t tt = (time_t)now;
	struct tm tm;
	int wd;

	if (g->valid_from != 0 && now < g->valid_from) {
		mon_grant_time(g->valid_from, t, sizeof(t));
		return policy_refuse(r, 403, "grant_not_yet_valid", "the grant of '%s' on seal "
		    "'%s' is valid from %s", g->principal, g->seal, t);
	}
	if (g->valid_to != 0 && now >= g->valid_to) {
		mon_grant_time(g->valid_to, t, sizeof(t));
		return policy_refuse(r, 403, "grant_expired", "the grant of '%s' on seal '%s' "
		    "expired at %s", g->principal, g->seal, t);
	}
	if (gmtime_r(&tt, &tm) == NULL)
		return SB_EINVAL;
	wd = (tm.tm_wday + 6) % 7;	/* bit 0 is Monday */
	if ((g->hours == 0 || (g->hours & (1u << tm.tm_hour))) &&
	    (g->days == 0 || (g->days & (1u << wd))))
		return 0;
	mon_grant_hours(g->hours, hours, sizeof(hours));
	mon_grant_days(g->days, days, sizeof(days));
	return policy_refuse(r, 403, "outside_hours", "the grant of '%s' on seal '%s' allows "
	    "sealing at hours %s UTC on days %s; it is now %02d:%02d UTC on a %s", g->principal,
	    g->seal, hours, days, tm.tm_hour, tm.tm_min,
	    (const char *[]){ "mon", "tue", "wed", "thu", "fri", "sat", "sun" }[wd]);
}

int
policy_grant_check(struct mon *mon, const struct store_principal *actor,
    const struct msg_sign *v, long long now, int need_approval, struct policy_grant_result *r)
{
	struct store_grant *g = &r->g;
	char list[STORE_GRANT_LIST_MAX * STORE_ID_MAX];
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = grant_find(mon, actor, v, g)) == SB_ENOTFOUND)
		return policy_refuse(r, 403, "not_granted", "'%s' has no grant to use seal '%s'",
		    actor->name, v->seal);
	if (rc != 0)
		return rc;
	if ((rc = grant_when(g, now, r)) != 0)
		return rc;
	if (g->n_apps > 0 && !in_list(&g->apps[0][0], STORE_ID_MAX, g->n_apps, actor->name)) {
		grant_list(&g->apps[0][0], STORE_ID_MAX, g->n_apps, list, sizeof(list));
		return policy_refuse(r, 403, "application_not_allowed", "the grant of '%s' on "
		    "seal '%s' may be used only through %s, not through '%s'", g->principal,
		    g->seal, list, actor->name);
	}
	if (g->n_doc_types > 0 && !in_list(&g->doc_types[0][0], STORE_DOCTYPE_MAX,
	    g->n_doc_types, v->document_type)) {
		grant_list(&g->doc_types[0][0], STORE_DOCTYPE_MAX, g->n_doc_types, list,
		    sizeof(list));
		if (v->document_type[0] == '\0')
			return policy_refuse(r, 403, "document_type_not_allowed", "the grant of "
			    "'%s' on seal '%s' allows document types %s only, and the request "
			    "names none (\"document_type\")", g->principal, g->seal, list);
		return policy_refuse(r, 403, "document_type_not_allowed", "the grant of '%s' on "
		    "seal '%s' allows document types %s only, not '%s'", g->principal, g->seal,
		    list, v->document_type);
	}
	/* Each use under a grant that needs approval names an approved `use`
	 * request ("approval": "r-N"); group G is a unit: K approvers over it. */
	if ((g->approval_k > 0 || need_approval) && v->approval[0] == '\0')
		return policy_refuse(r, 403, "approval_required", "the grant of '%s' on seal '%s' "
		    "requires the approval of %u of group '%s' for each use: file a use "
		    "request and seal with its id (\"approval\")", g->principal, g->seal,
		    g->approval_k, g->approval_group);
	if (g->approval_k == 0 && !need_approval && v->approval[0] != '\0')
		return policy_refuse(r, 403, "approval_not_needed", "the grant of '%s' on seal "
		    "'%s' needs no approval; the request names %s", g->principal, g->seal,
		    v->approval);
	r->need_otp = strcmp(g->confirm, "totp") == 0;
	if (r->need_otp && v->otp[0] == '\0')
		return policy_refuse(r, 403, "otp_required", "the grant of '%s' on seal '%s' "
		    "requires the signer's current one-time code (\"otp\") with each use",
		    g->principal, g->seal);
	/* The approval itself is checked and used up by sign_check, last but
	 * for the quota (mon_request_use). */
	return 0;
}

int
policy_quota_take(struct mon *mon, struct policy_grant_result *r, long long now)
{
	const struct store_grant *g = &r->g;
	struct store_quota q;
	char t[32];
	time_t tt = (time_t)now, reset;
	struct tm tm;
	int rc;

	rc = store_quota_take(mon->store, g->seal, g->principal, now, g->per_day, g->per_month, &q);
	if (rc != SB_ELIMIT)
		return rc;
	if (gmtime_r(&tt, &tm) == NULL)
		return SB_EINVAL;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	if (q.over == 'd') {
		tm.tm_mday++;
	} else {
		tm.tm_mday = 1;
		tm.tm_mon++;
	}
	reset = timegm(&tm);	/* normalises the day or month that ran over */
	mon_grant_time((long long)reset, t, sizeof(t));
	if (q.over == 'd')
		return policy_refuse(r, 429, "quota_exceeded", "the grant of '%s' on seal '%s' "
		    "allows %u uses per day (UTC) and %u are used; it resets at %s",
		    g->principal, g->seal, g->per_day, q.day, t);
	return policy_refuse(r, 429, "quota_exceeded", "the grant of '%s' on seal '%s' allows "
	    "%u uses per month (UTC) and %u are used; it resets at %s", g->principal, g->seal,
	    g->per_month, q.month, t);
}
