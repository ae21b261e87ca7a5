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
 * call check takes every role a principal holds, wherever. Grant conditions,
 * quotas, approvals and per-unit scoping come with the rest of issue 4;
 * callers stay as they are.
 */
#include <stdio.h>
#include <string.h>

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
	{ MSG_SIGN, "POST /v1/seals/{seal}/sign, POST /v1/sign/batch", R_REQUESTER },
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
	 * Requests (this slice: the seal state changes). The custodian and the
	 * secadmin file and decide them; the auditors read them; the sysadmin
	 * gets nothing (their contents are business data). Which requests a
	 * caller sees, and whether it may decide one, is mon_req.c's, through
	 * policy_holds below.
	 */
	{ MSG_REQUEST_FILE, "POST /v1/requests", R_SECADMIN | R_SEAL_ADMIN },
	{ MSG_REQUESTS_LIST, "GET /v1/requests", R_SECADMIN | R_AUDITOR | R_SEAL_ADMIN |
	    R_BIZ_AUDITOR },
	{ MSG_REQUEST_GET, "GET /v1/requests/{request}", R_SECADMIN | R_AUDITOR |
	    R_SEAL_ADMIN | R_BIZ_AUDITOR },
	{ MSG_REQUEST_APPROVE, "POST /v1/requests/{request}/approve", R_SECADMIN | R_SEAL_ADMIN },
	{ MSG_REQUEST_REJECT, "POST /v1/requests/{request}/reject", R_SECADMIN | R_SEAL_ADMIN },
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
static int
unit_below(struct mon *mon, const char *unit, const char *root)
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
		if (strcmp(p->roles[i].role, role) == 0 && unit_below(mon, unit, p->roles[i].unit))
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
		if (unit_below(mon, unit, p->roles[i].unit))
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
