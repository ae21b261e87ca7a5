/*
 * policy — the one place that decides what a principal may do with a seal.
 *
 * This rule is the simplest that is still a rule: a principal may
 * use (and see) a seal when a grant names both, and the principal is active;
 * it may act on behalf of a person when an administrator named that person
 * in its may_act_for list and the person is an active principal.
 * The governance work replaces the inside of these functions with units,
 * roles, grant conditions, quotas, approvals and delegations (issue 4); their
 * callers stay as they are.
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
