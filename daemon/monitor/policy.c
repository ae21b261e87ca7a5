/*
 * policy — the one place that decides what a principal may do with a seal.
 *
 * This rule is the simplest that is still a rule: a principal may
 * use (and see) a seal when a grant names both, and the principal is active.
 * The governance work replaces the inside of these functions with units,
 * roles, grant conditions, quotas and approvals; their callers stay as they
 * are.
 */
#include <string.h>

#include "../../lib/err.h"
#include "mon_int.h"

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
