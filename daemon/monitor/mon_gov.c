/*
 * The governance model read back over the API: the unit tree, the
 * principals and their roles, the role names and exclusive pairs. What a
 * caller sees is scoped by policy_may_see_unit (policy.c); who may call each
 * at all is policy_may_call's table, checked by mon_who.
 */
#include <string.h>

#include "../../lib/err.h"
#include "mon_int.h"

struct list_ctx {
	struct mon *mon;
	const struct store_principal *who;
	json_t *arr;
};

/*
 * The callbacks only collect, so that the store's read transaction stays
 * short; list() filters by scope afterwards (each check walks the unit's
 * parents).
 */
static int
unit_one(void *arg, const struct store_unit *u)
{
	struct list_ctx *c = arg;

	return json_array_append_new(c->arr, json_pack("{s:s,s:s,s:s}", "id", u->id,
	    "name", u->name, "parent", u->parent)) == 0 ? 0 : SB_ENOMEM;
}

static json_t *
roles_json(const struct store_principal *p)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < p->n_roles; i++)
		if (json_array_append_new(a, json_pack("{s:s,s:s}", "role", p->roles[i].role,
		    "unit", p->roles[i].unit)) != 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

static int
principal_one(void *arg, const struct store_principal *p)
{
	struct list_ctx *c = arg;
	json_t *roles;

	if ((roles = roles_json(p)) == NULL)
		return SB_ENOMEM;
	return json_array_append_new(c->arr, json_pack("{s:s,s:s,s:s,s:s,s:o}", "name", p->name,
	    "kind", p->kind, "unit", p->unit, "state", p->state, "roles", roles)) == 0 ?
	    0 : SB_ENOMEM;
}

/* Drop the records of arr whose member field names a unit p may not see. */
static void
scope(struct mon *mon, const struct store_principal *p, json_t *arr, const char *field)
{
	for (size_t i = json_array_size(arr); i-- > 0;) {
		const char *u = json_string_value(json_object_get(json_array_get(arr, i), field));

		if (u == NULL || policy_may_see_unit(mon, p, u) != 0)
			json_array_remove(arr, i);
	}
}

/* The list handlers: who, then every record through one, as {key: [...]}. */
static int
list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply, const char *key, int units)
{
	struct msg_ident_only v;
	struct store_principal p;
	struct list_ctx c = { mon, &p, NULL };
	int rc;

	if (msg_ident_only_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	if ((c.arr = json_array()) == NULL)
		return SB_ENOMEM;
	rc = units ? store_unit_each(mon->store, unit_one, &c) :
	    store_principal_each(mon->store, principal_one, &c);
	if (rc != 0) {
		json_decref(c.arr);
		return rc == SB_ENOMEM ? rc : mon_reply_err(reply, m->id, 503,
		    "ledger_unavailable", "policy store: %s", sb_strerror(rc));
	}
	scope(mon, &p, c.arr, units ? "id" : "unit");
	return mon_reply_json(reply, m->id, 200, json_pack("{s:o}", key, c.arr));
}

int
mon_units_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	return list(mon, m, reply, "units", 1);
}

int
mon_principals_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	return list(mon, m, reply, "principals", 0);
}

int
mon_roles_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_ident_only v;
	struct store_principal p;
	json_t *o;
	int rc;

	if (msg_ident_only_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	if ((o = policy_roles_json(mon, &rc)) == NULL)
		return rc == SB_ENOMEM ? rc : mon_reply_err(reply, m->id, 503,
		    "ledger_unavailable", "policy store: %s", sb_strerror(rc));
	return mon_reply_json(reply, m->id, 200, o);
}
