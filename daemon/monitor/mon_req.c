/*
 * Requests — DESIGN's workflow objects: a change that takes effect only when
 * the principals its rule names have approved it. This slice has the seal
 * state changes: `freeze` (a loss report: executed as it is filed, by the
 * seal's custodian or a secadmin), `unfreeze`, `deactivate` and `destroy`
 * (each needs a seal-admin over the seal's unit and a secadmin, both other
 * than the requester; a destruction then destroys the key in the HSM); and `use`: one sealing of one document (by its digest) under a
 * grant that needs K approvals of group G, filed by the grant's holder and
 * approved by K approvers over unit G. An approved use is executed by the
 * sealing that names it (mon_request_use), once. docs/policy.md
 * ("Requests") is the reference.
 *
 * Every step (filing, approval, rejection, execution, expiry) is a ledger
 * entry, committed before the record (and the seal) changes: a crash between
 * the two leaves an entry for a step that was not taken, never a step
 * without an entry. Expiry is evaluated whenever a request is read or acted
 * on. One lock orders all request changes: numbering, and a record read,
 * changed and written back, must not interleave.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "../../hsm/ca.h"

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "mon_int.h"

#define REQ_LIST_MAX 200	/* requests in one GET /v1/requests: the newest */
/* A list looks at the newest STORE_SEALS_MAX requests at most (store.h). */

static pthread_mutex_t req_lock = PTHREAD_MUTEX_INITIALIZER;

struct req_kind {
	const char *name;
	const char *from[3];	/* the seal states it applies to */
	const char *to;		/* the seal state it sets; NULL: none */
	int immediate;		/* executed as it is filed */
	int use;		/* one sealing of one document (no seal change) */
	int moves;		/* the seal goes to another unit (payload.to.unit) */
	int ungrants;		/* a principal's grant on the seal goes
				   (payload.principal) */
};

static const struct req_kind kinds[] = {
	{ "freeze", { "active", NULL, NULL }, "frozen", 1, 0, 0, 0 },
	{ "unfreeze", { "frozen", NULL, NULL }, "active", 0, 0, 0, 0 },
	{ "deactivate", { "active", "frozen", NULL }, "deactivated", 0, 0, 0, 0 },
	/* The key is destroyed in the HSM once the state is; the record stays. */
	{ "destroy", { "deactivated", NULL, NULL }, "destroyed", 0, 0, 0, 0 },
	/* To another unit: its custodians change, the seal and its key do not. */
	{ "transfer", { "active", "frozen", NULL }, NULL, 0, 0, 1, 0 },
	/* Less power for someone takes effect at once, as a freeze does. */
	{ "revoke", { "active", "frozen", "deactivated" }, NULL, 1, 0, 0, 1 },
	/* Approved, it waits for the sealing that names it: that executes it. */
	{ "use", { "active", NULL, NULL }, NULL, 0, 1, 0, 0 },
};

static const char *const states[] = { "pending", "approved", "executed", "rejected", "expired" };

static const struct req_kind *
kind_find(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

static int
state_ok(const char *s)
{
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(states[i], s) == 0)
			return 1;
	return 0;
}

static int
kind_applies(const struct req_kind *k, const char *seal_state)
{
	for (size_t i = 0; i < 3 && k->from[i] != NULL; i++)
		if (strcmp(k->from[i], seal_state) == 0)
			return 1;
	return 0;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* ---- the rule ------------------------------------------------------------ */

/* The default rule of a kind over unit: [{"role","unit","count"}, ...]; a
 * use's is its grant's: K approvers over unit G; a transfer's needs the
 * custodians of both units (seal-admins over unit and over target) and a
 * secadmin. */
static json_t *
rule_json(const struct req_kind *k, const char *unit, const char *target,
    const struct store_grant *g)
{
	if (k->immediate)
		return json_array();
	if (k->use)
		return json_pack("[{s:s,s:s,s:i}]", "role", "approver", "unit",
		    g->approval_group, "count", (int)g->approval_k);
	if (k->moves)
		return json_pack("[{s:s,s:s,s:i},{s:s,s:s,s:i},{s:s,s:s,s:i}]",
		    "role", "seal-admin", "unit", unit, "count", 1,
		    "role", "seal-admin", "unit", target, "count", 1,
		    "role", "secadmin", "unit", unit, "count", 1);
	return json_pack("[{s:s,s:s,s:i},{s:s,s:s,s:i}]",
	    "role", "seal-admin", "unit", unit, "count", 1,
	    "role", "secadmin", "unit", unit, "count", 1);
}

/* Approvals of o given under rule slot: its role over its unit (an
 * approval recorded before approvals named their unit: by role alone). */
static json_int_t
slot_filled(const json_t *o, const json_t *slot)
{
	json_t *a;
	size_t i;
	json_int_t n = 0;

	json_array_foreach(json_object_get(o, "approvals"), i, a)
		if (strcmp(str(a, "role"), str(slot, "role")) == 0 &&
		    (json_object_get(a, "unit") == NULL ||
		    strcmp(str(a, "unit"), str(slot, "unit")) == 0))
			n++;
	return n;
}

static int
slot_open(const json_t *o, const json_t *slot)
{
	return slot_filled(o, slot) < json_integer_value(json_object_get(slot, "count"));
}

/* The rule slot p may fill now, or NULL; *holds: p holds a role of any slot. */
static json_t *
slot_for(struct mon *mon, const struct store_principal *p, const json_t *o, int *holds)
{
	json_t *slot, *pick = NULL;
	size_t i;

	*holds = 0;
	json_array_foreach(json_object_get(o, "rule"), i, slot) {
		if (!policy_holds(mon, p, str(slot, "role"), str(slot, "unit")))
			continue;
		*holds = 1;
		if (pick == NULL && slot_open(o, slot))
			pick = slot;
	}
	return pick;
}

/*
 * p fills no open place of o's rule, but may fill one that an earlier
 * approver holds who could move to an open one (the group's seal-admin
 * took the source unit's place of a transfer; the source unit's own
 * seal-admin comes next): that approval moves there, p takes the place it
 * leaves. The place for p, or NULL; *moved: the approval moved (in o).
 */
static json_t *
slot_swap(struct mon *mon, const struct store_principal *p, json_t *o, json_t **moved)
{
	struct store_principal ap;
	json_t *a, *open, *slot, *mine;
	size_t i, j, k;

	*moved = NULL;
	json_array_foreach(json_object_get(o, "approvals"), i, a) {
		if (json_object_get(a, "unit") == NULL ||
		    !policy_holds(mon, p, str(a, "role"), str(a, "unit")) ||
		    store_principal_get(mon->store, str(a, "principal"), &ap) != 0)
			continue;
		mine = NULL;
		json_array_foreach(json_object_get(o, "rule"), k, slot)
			if (strcmp(str(slot, "role"), str(a, "role")) == 0 &&
			    strcmp(str(slot, "unit"), str(a, "unit")) == 0)
				mine = slot;
		json_array_foreach(json_object_get(o, "rule"), j, open) {
			if (mine == NULL || !slot_open(o, open) ||
			    !policy_holds(mon, &ap, str(open, "role"), str(open, "unit")))
				continue;
			json_object_set_new(a, "role", json_string(str(open, "role")));
			json_object_set_new(a, "unit", json_string(str(open, "unit")));
			*moved = a;
			return mine;
		}
	}
	return NULL;
}

/* "seal-admin over sub-1 and secadmin over sub-1": the slots still open. */
static void
still_needed(const json_t *o, char *out, size_t len)
{
	json_t *slot;
	size_t i, n = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(o, "rule"), i, slot) {
		if (!slot_open(o, slot) || n >= len)
			continue;
		n += (size_t)snprintf(out + n, len - n, "%s%s over %s", n ? " and " : "",
		    str(slot, "role"), str(slot, "unit"));
	}
}

static int
complete(const json_t *o)
{
	json_t *slot;
	size_t i;

	json_array_foreach(json_object_get(o, "rule"), i, slot)
		if (slot_open(o, slot))
			return 0;
	return 1;
}

/* Requests p sees: its own, those of the seals it is custodian of, those it
 * may decide; the secadmin and both auditors see all. */
static int
visible(struct mon *mon, const struct store_principal *p, const json_t *o)
{
	int holds;

	if (policy_sees_all_requests(p) || strcmp(str(o, "requester"), p->name) == 0 ||
	    policy_holds(mon, p, "seal-admin", str(o, "unit")))
		return 1;
	(void)slot_for(mon, p, o, &holds);
	return holds;
}

/* ---- storing, after the ledger ------------------------------------------- */

/* Request o (number n) as it is to be written; w's seal and pending fields
 * are the caller's to set. */
struct save {
	struct mon *mon;
	const json_t *o;
	struct store_request_write w;
};

static void
save_init(struct save *sv, struct mon *mon, uint64_t n, const json_t *o)
{
	memset(sv, 0, sizeof(*sv));
	sv->mon = mon;
	sv->o = o;
	sv->w.n = n;
}

/* The request leaves pending: drop it from its seal's pending index. */
static void
save_settled(struct save *sv)
{
	sv->w.pending_seal = str(sv->o, "seal");
	sv->w.pending = 0;
}

static int
save_apply(void *arg)
{
	struct save *sv = arg;
	char *text = json_dumps(sv->o, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	if (text == NULL)
		return SB_ENOMEM;
	sv->w.text = text;
	rc = store_request_put(sv->mon->store, &sv->w);
	free(text);
	return rc;
}

/* A ledger entry for request o: action, actor, request id, and more fields. */
static json_t *
entry(const char *action, const char *actor, const json_t *o)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "action", action, "actor", actor,
	    "request", str(o, "id"), "kind", str(o, "kind"), "seal", str(o, "seal"));
}

static int
unavailable(struct ipc_msg *reply, uint32_t id, int rc)
{
	return mon_reply_err(reply, id, 503, "ledger_unavailable",
	    "the request could not be recorded: %s", sb_strerror(rc));
}

/* A refusal was answered: 1, or the encoder's error. */
static int
refused_req(int rc)
{
	return rc != 0 ? rc : 1;
}

/* Expire o (request n) when it is pending past its time, or approved and
 * unused for a use: ledgered, saved. */
static int
expire_due(struct mon *mon, uint64_t n, json_t *o)
{
	json_int_t exp = json_integer_value(json_object_get(o, "expires"));
	struct save sv;

	int approved_use = strcmp(str(o, "kind"), "use") == 0 &&
	    strcmp(str(o, "state"), "approved") == 0;

	if ((strcmp(str(o, "state"), "pending") != 0 && !approved_use) || now_ms() < exp)
		return 0;
	json_object_set_new(o, "state", json_string("expired"));
	save_init(&sv, mon, n, o);
	save_settled(&sv);
	return mon_ledgered_change(mon, entry("request.expire", "monitor", o), save_apply, &sv);
}

/* Request n into *o (new reference); SB_ENOTFOUND, or another SB_*. */
static int
load(struct mon *mon, uint64_t n, json_t **o)
{
	char *text;
	int rc;

	*o = NULL;
	if ((rc = store_request_get(mon->store, n, &text)) != 0)
		return rc;
	*o = json_loads(text, 0, NULL);
	free(text);
	return *o != NULL && json_is_object(*o) ? 0 : SB_EIO;
}

/* ---- filing -------------------------------------------------------------- */

static const char *
md_name(int nid)
{
	return nid == NID_sha256 ? "sha256" : nid == NID_sha384 ? "sha384" :
	    nid == NID_sha512 ? "sha512" : NULL;
}

static size_t
md_len(int nid)
{
	return nid == NID_sha256 ? 32 : nid == NID_sha384 ? 48 : nid == NID_sha512 ? 64 : 0;
}

/* What the request changes: a seal state {"from","to"}, a seal's unit
 * {"from":{"unit"},"to":{"unit"}}, or for a use the document
 * {"document_name","digest":{"alg","value"}}. */
static json_t *
payload_json(const struct req_kind *k, const struct msg_request_file *v,
    const struct store_seal *s)
{
	char hex[2 * MSG_DIGEST_MAX + 1];

	if (k->to != NULL)
		return json_pack("{s:s,s:s}", "from", s->state, "to", k->to);
	if (k->moves)
		return json_pack("{s:{s:s,s:s},s:{s:s}}", "from", "unit", s->unit, "state",
		    s->state, "to", "unit", v->unit);
	if (k->ungrants)
		return json_pack("{s:s}", "principal", v->principal);
	mon_hex(v->digest, v->digest_len, hex);
	return json_pack("{s:s,s:{s:s,s:s}}", "document_name", v->document_name, "digest",
	    "alg", md_name(v->md_nid), "value", hex);
}

static json_t *
request_new(struct mon *mon, uint64_t n, const struct req_kind *k,
    const struct msg_request_file *v, const struct store_principal *p,
    const struct store_seal *s, const struct store_grant *g)
{
	char id[32];
	long long now = now_ms();

	snprintf(id, sizeof(id), "r-%" PRIu64, n);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:[],s:s,s:I,s:I}",
	    "id", id, "kind", k->name, "requester", p->name, "seal", s->id, "unit", s->unit,
	    "reason", v->reason, "payload", payload_json(k, v, s),
	    "rule", rule_json(k, s->unit, v->unit, g), "approvals", "state", "pending",
	    "created", (json_int_t)now,
	    "expires", (json_int_t)(now + (long long)mon->cfg->requests.ttl_hours * 3600000));
}

/* Record o (request n): filed, and for a freeze executed at once. */
static int
file_record(struct mon *mon, uint64_t n, json_t *o, const struct req_kind *k, const char *actor)
{
	json_t *e = entry("request.file", actor, o);
	struct save sv;
	uint64_t seq;
	uint8_t leaf[32];
	int rc;

	if (e != NULL) {
		json_object_set_new(e, "reason", json_string(str(o, "reason")));
		json_object_set(e, "rule", json_object_get(o, "rule"));
		if (k->to == NULL)
			json_object_set(e, "payload", json_object_get(o, "payload"));
		if (k->ungrants)
			json_object_set_new(e, "principal", json_string(str(json_object_get(o,
			    "payload"), "principal")));
	}
	save_init(&sv, mon, n, o);
	sv.w.add = 1;
	if (!k->immediate) {
		/* A use changes no seal: many may be pending on one. */
		if (!k->use) {
			sv.w.pending_seal = str(o, "seal");
			sv.w.pending = 1;
		}
		return mon_ledgered_change(mon, e, save_apply, &sv);
	}
	if (e == NULL)
		return SB_ENOMEM;
	if ((rc = mon_ledger(mon, e, &seq, leaf)) != 0)
		return rc;
	json_object_set_new(o, "state", json_string("executed"));
	json_object_set_new(o, "executed", json_integer((json_int_t)now_ms()));
	if (k->to != NULL) {
		sv.w.seal = str(o, "seal");
		sv.w.seal_state = k->to;
	}
	if (k->ungrants) {
		sv.w.ungrant_seal = str(o, "seal");
		sv.w.ungrant_principal = str(json_object_get(o, "payload"), "principal");
	}
	e = entry("request.execute", actor, o);
	if (e != NULL)
		json_object_set(e, "payload", json_object_get(o, "payload"));
	return mon_ledgered_change(mon, e, save_apply, &sv);
}

/*
 * One pending request per seal: 0 when seal has none (one past its time is
 * expired first); 1 when it has, with the 409 in reply; SB_* on failure.
 */
static int
pending_other(struct mon *mon, const char *seal, uint32_t id, struct ipc_msg *reply)
{
	uint64_t pn;
	json_t *o;
	int rc;

	if ((rc = store_request_pending(mon->store, seal, &pn)) != 0)
		return rc == SB_ENOTFOUND ? 0 : rc;
	if ((rc = load(mon, pn, &o)) != 0)
		return rc;
	if ((rc = expire_due(mon, pn, o)) == 0 && strcmp(str(o, "state"), "pending") == 0)
		rc = mon_reply_err(reply, id, 409, "request_pending", "request r-%" PRIu64
		    " on seal '%s' is pending: decide it first", pn, seal) == 0 ? 1 : SB_ENOMEM;
	json_decref(o);
	return rc;
}

/* The newest use request on seal that may still be used (pending, or
 * approved and not past its time), by id into id[32]. */
struct open_use {
	const char *seal;
	long long now;
	char id[32];
};

static int
open_use_one(void *arg, const char *text, size_t len)
{
	struct open_use *u = arg;
	json_t *o = json_loadb(text, len, 0, NULL);
	int found;

	if (o == NULL)
		return SB_EIO;
	found = strcmp(str(o, "kind"), "use") == 0 && strcmp(str(o, "seal"), u->seal) == 0 &&
	    (strcmp(str(o, "state"), "pending") == 0 || strcmp(str(o, "state"), "approved") == 0) &&
	    json_integer_value(json_object_get(o, "expires")) > u->now;
	if (found)
		snprintf(u->id, sizeof(u->id), "%s", str(o, "id"));
	json_decref(o);
	return found ? 1 : 0;
}

/*
 * A seal moves only with no use of it open: an approved use would seal for
 * the old unit's requester under the new unit's seal, and its approvers are
 * the old unit's. 0 when none is open; 1 when one is, with the 409 in reply;
 * SB_* on failure. Looks at the newest STORE_SEALS_MAX requests.
 */
static int
uses_settled(struct mon *mon, const char *seal, const char *rid, uint32_t id,
    struct ipc_msg *reply)
{
	struct open_use u = { seal, now_ms(), "" };
	int rc = store_request_each(mon->store, open_use_one, &u);

	if (rc == 0)
		return 0;
	if (rc != 1)
		return rc;
	return mon_reply_err(reply, id, 409, "request_pending", "use request %s on seal '%s' "
	    "is still open: it is decided, used or expired before %s moves the seal", u.id,
	    seal, rid[0] ? rid : "a transfer") == 0 ? 1 : SB_ENOMEM;
}

/* A transfer's target: a unit that exists and is not the seal's own. 0, or
 * the refusal answered (1), or an SB_* failure. */
static int
transfer_target(struct mon *mon, const struct msg_request_file *v, const struct store_seal *s,
    uint32_t id, struct ipc_msg *reply)
{
	struct store_unit u;
	int rc;

	if ((rc = store_unit_get(mon->store, v->unit, &u)) == SB_ENOTFOUND)
		return refused_req(mon_reply_err(reply, id, 404, "unknown_unit", "no unit '%s'",
		    v->unit));
	if (rc != 0)
		return refused_req(unavailable(reply, id, rc));
	if (strcmp(v->unit, s->unit) == 0)
		return refused_req(mon_reply_err(reply, id, 409, "same_unit", "seal '%s' is "
		    "in unit '%s' already", s->id, s->unit));
	if ((rc = uses_settled(mon, s->id, "", id, reply)) != 0)
		return rc == 1 ? 1 : refused_req(unavailable(reply, id, rc));
	return 0;
}

/*
 * At a transfer's last approval: the seal is still where, and as, it was
 * when the request was filed (a freeze in between, a loss report, voids
 * the approvals given for an active seal), the target unit still exists,
 * and no use of the seal is open. 0, or the refusal answered (1), or SB_*.
 */
static int
transfer_still(struct mon *mon, const json_t *o, const struct store_seal *s, uint32_t id,
    struct ipc_msg *reply)
{
	const json_t *pl = json_object_get(o, "payload");
	const json_t *from = json_object_get(pl, "from");
	struct store_unit u;
	int rc;

	if (strcmp(str(from, "unit"), s->unit) != 0 || strcmp(str(from, "state"), s->state) != 0)
		return mon_reply_err(reply, id, 409, "seal_state", "seal '%s' is %s in '%s' now, "
		    "not %s in '%s' as when %s was filed: reject it and file it anew", s->id,
		    s->state, s->unit, str(from, "state"), str(from, "unit"), str(o, "id")) == 0 ?
		    1 : SB_ENOMEM;
	if ((rc = store_unit_get(mon->store, str(json_object_get(pl, "to"), "unit"), &u)) != 0)
		return rc == SB_ENOTFOUND ? (mon_reply_err(reply, id, 409, "unknown_unit", "unit "
		    "'%s' is gone", str(json_object_get(pl, "to"), "unit")) == 0 ? 1 : SB_ENOMEM) :
		    rc;
	return uses_settled(mon, s->id, str(o, "id"), id, reply);
}

static int
file_locked(struct mon *mon, const struct msg_request_file *v, const struct req_kind *k,
    const struct store_principal *p, const struct store_seal *s, const struct store_grant *g,
    uint32_t id, struct ipc_msg *reply)
{
	uint64_t last;
	json_t *o;
	int rc;

	if (!kind_applies(k, s->state))
		return mon_reply_err(reply, id, 409, "seal_state", "seal '%s' is %s: %s applies "
		    "to a seal that is %s%s%s%s%s", s->id, s->state, k->name, k->from[0],
		    k->from[1] ? (k->from[2] ? ", " : " or ") : "", k->from[1] ? k->from[1] : "",
		    k->from[2] ? " or " : "", k->from[2] ? k->from[2] : "");
	if (k->ungrants && (rc = store_grant_has(mon->store, s->id, v->principal)) != 0) {
		if (rc != SB_ENOTFOUND)
			return unavailable(reply, id, rc);
		return mon_reply_err(reply, id, 404, "unknown_grant", "'%s' has no grant on "
		    "seal '%s'", v->principal, s->id);
	}
	if (k->moves && (rc = transfer_target(mon, v, s, id, reply)) != 0)
		return rc > 0 ? 0 : rc;
	if (!k->immediate && !k->use && (rc = pending_other(mon, s->id, id, reply)) != 0)
		return rc > 0 ? 0 : rc == SB_ENOMEM ? rc : unavailable(reply, id, rc);
	if ((rc = store_request_last(mon->store, &last)) != 0)
		return unavailable(reply, id, rc);
	if ((o = request_new(mon, last + 1, k, v, p, s, g)) == NULL)
		return SB_ENOMEM;
	if ((rc = file_record(mon, last + 1, o, k, p->name)) != 0) {
		json_decref(o);
		return unavailable(reply, id, rc);
	}
	log_info("monitor: request %s (%s of seal %s) filed by %s", str(o, "id"), k->name,
	    s->id, p->name);
	return mon_reply_json(reply, id, 201, o);
}

/*
 * A use is filed by a principal whose own grant on the seal needs approval
 * (for every use, or for documents with a sensitive word), for one document: 0 to go on (*g its grant), else the refusal answered
 * (1) or an SB_* failure. seal_rc: store_seal_get's result.
 */
static int
use_may_file(struct mon *mon, const struct msg_request_file *v,
    const struct store_principal *p, int seal_rc, const struct store_seal *s,
    struct store_grant *g, uint32_t id, struct ipc_msg *reply)
{
	struct store_unit u;
	int rc;

	if (md_len(v->md_nid) == 0 || md_len(v->md_nid) != v->digest_len ||
	    v->document_name[0] == '\0')
		return refused_req(mon_reply_err(reply, id, 400, "bad_digest", "a use request "
		    "names its document: document_name, and a digest whose length matches "
		    "its algorithm"));
	if (seal_rc == SB_ENOTFOUND)
		return refused_req(mon_reply_err(reply, id, 404, "unknown_seal",
		    "no seal '%s' is visible to you", v->seal));
	if (seal_rc != 0)
		return refused_req(unavailable(reply, id, seal_rc));
	if ((rc = store_grant_get(mon->store, v->seal, p->name, g)) == SB_ENOTFOUND)
		return refused_req(mon_reply_err(reply, id, 403, "not_granted",
		    "'%s' has no grant to use seal '%s'", p->name, v->seal));
	if (rc != 0)
		return refused_req(unavailable(reply, id, rc));
	/* A grant that wants approval only for documents with a sensitive word:
	 * one approver over the seal's unit. */
	if (g->approval_k == 0 && strcmp(g->on_sensitive, "approval") == 0) {
		g->approval_k = 1;
		snprintf(g->approval_group, sizeof(g->approval_group), "%s", s->unit);
	}
	if (g->approval_k == 0)
		return refused_req(mon_reply_err(reply, id, 409, "approval_not_needed", "the "
		    "grant of '%s' on seal '%s' needs no approval: seal without a use request",
		    p->name, v->seal));
	if ((rc = store_unit_get(mon->store, g->approval_group, &u)) == SB_ENOTFOUND)
		return refused_req(mon_reply_err(reply, id, 409, "unknown_unit", "the grant of "
		    "'%s' on seal '%s' names approval group '%s', which is no unit: no one "
		    "could approve", p->name, v->seal, g->approval_group));
	return rc == 0 ? 0 : refused_req(unavailable(reply, id, rc));
}

int
mon_request_file(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_request_file v;
	struct store_principal p;
	struct store_seal s;
	struct store_grant g;
	const struct req_kind *k;
	int rc;

	if (msg_request_file_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	if ((rc = mon_require_ready(mon, m->id, reply)) != 0)
		return rc == SB_ESTATE ? 0 : rc;
	if ((k = kind_find(v.kind)) == NULL)
		return mon_reply_err(reply, m->id, 400, "unknown_kind", "kind must be freeze, "
		    "unfreeze, deactivate, destroy, transfer, revoke or use");
	if (v.reason[0] == '\0')
		return mon_reply_err(reply, m->id, 400, "bad_request", "reason: missing");
	if (!k->use && (v.digest_len != 0 || v.document_name[0] != '\0'))
		return mon_reply_err(reply, m->id, 400, "bad_request",
		    "digest, document_name: only for kind use");
	if (!k->moves != (v.unit[0] == '\0'))
		return mon_reply_err(reply, m->id, 400, "bad_request", k->moves ?
		    "unit: required for kind transfer (where the seal goes)" :
		    "unit: only for kind transfer");
	if (!k->ungrants != (v.principal[0] == '\0'))
		return mon_reply_err(reply, m->id, 400, "bad_request", k->ungrants ?
		    "principal: required for kind revoke (whose grant goes)" :
		    "principal: only for kind revoke");
	memset(&g, 0, sizeof(g));
	rc = store_seal_get(mon->store, v.seal, &s);
	if (k->use) {
		/* A use is the grant holder's. */
		int u = use_may_file(mon, &v, &p, rc, &s, &g, m->id, reply);

		if (u != 0) {
			if (rc == 0)
				store_seal_clear(&s);
			return u < 0 ? u : 0;
		}
	} else if (rc != 0 && rc != SB_ENOTFOUND) {
		return unavailable(reply, m->id, rc);
	} else if (rc == SB_ENOTFOUND || (!policy_holds(mon, &p, "seal-admin", s.unit) &&
	    !policy_holds(mon, &p, "secadmin", s.unit))) {
		/* Seal requests are the custodian's (seal-admin over the seal's
		 * unit) or a secadmin's; to anyone else the seal does not exist. */
		if (rc == 0)
			store_seal_clear(&s);
		return mon_reply_err(reply, m->id, 404, "unknown_seal",
		    "no seal '%s' is visible to you", v.seal);
	}
	pthread_mutex_lock(&req_lock);
	rc = file_locked(mon, &v, k, &p, &s, &g, m->id, reply);
	pthread_mutex_unlock(&req_lock);
	store_seal_clear(&s);
	return rc;
}

/* ---- listing ------------------------------------------------------------- */

/* The callback only collects (newest first), so that the read transaction
 * stays short; expiry, which writes, and the filters come after. */
struct list_ctx {
	json_t *all;
};

static int
list_one(void *arg, const char *text, size_t len)
{
	struct list_ctx *c = arg;
	json_t *o = json_loadb(text, len, 0, NULL);

	if (o == NULL)
		return SB_EIO;
	return json_array_append_new(c->all, o) == 0 ? 0 : SB_ENOMEM;
}

static int
matches(const json_t *o, const struct msg_requests_list *v)
{
	return (v->state[0] == '\0' || strcmp(str(o, "state"), v->state) == 0) &&
	    (v->kind[0] == '\0' || strcmp(str(o, "kind"), v->kind) == 0);
}

/* The newest REQ_LIST_MAX requests p sees that match v into out; *more: 1
 * when there were more. */
static int
list_locked(struct mon *mon, const struct msg_requests_list *v,
    const struct store_principal *p, json_t *out, int *more)
{
	struct list_ctx c = { json_array() };
	json_t *o;
	size_t i;
	int rc;

	*more = 0;
	if (c.all == NULL)
		return SB_ENOMEM;
	if ((rc = store_request_each(mon->store, list_one, &c)) != 0) {
		json_decref(c.all);
		return rc;
	}
	json_array_foreach(c.all, i, o) {
		const char *id = str(o, "id");

		if (!visible(mon, p, o))
			continue;
		if (strncmp(id, "r-", 2) == 0 &&
		    (rc = expire_due(mon, strtoull(id + 2, NULL, 10), o)) != 0)
			break;
		if (!matches(o, v))
			continue;
		if (json_array_size(out) == REQ_LIST_MAX) {
			*more = 1;
			break;
		}
		if (json_array_append(out, o) != 0) {
			rc = SB_ENOMEM;
			break;
		}
	}
	json_decref(c.all);
	return rc;
}

int
mon_requests_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_requests_list v;
	struct store_principal p;
	json_t *out;
	int more, rc;

	if (msg_requests_list_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	if ((rc = mon_require_ready(mon, m->id, reply)) != 0)
		return rc == SB_ESTATE ? 0 : rc;
	if ((v.state[0] != '\0' && !state_ok(v.state)) ||
	    (v.kind[0] != '\0' && kind_find(v.kind) == NULL))
		return mon_reply_err(reply, m->id, 400, "bad_query",
		    "state or kind: not one of docs/policy.md's");
	if ((out = json_array()) == NULL)
		return SB_ENOMEM;
	pthread_mutex_lock(&req_lock);
	rc = list_locked(mon, &v, &p, out, &more);
	pthread_mutex_unlock(&req_lock);
	if (rc != 0) {
		json_decref(out);
		return rc == SB_ENOMEM ? rc : unavailable(reply, m->id, rc);
	}
	return mon_reply_json(reply, m->id, 200, json_pack("{s:o,s:b}", "requests", out,
	    "more", more));
}

/* ---- deciding ------------------------------------------------------------ */

static int
not_pending(const json_t *o, uint32_t id, struct ipc_msg *reply)
{
	return mon_reply_err(reply, id, 409, "request_not_pending", "request %s is %s",
	    str(o, "id"), str(o, "state"));
}

/*
 * A destroyed seal's key goes from the HSM, after its state is durably
 * "destroyed" (no seal is made with it from then on): the private and
 * public key and the certificate object. The outcome is ledgered
 * (seal.key_destroy); a failure is logged and the record says so, for an
 * administrator to see (the seal stays destroyed either way).
 */
static void
destroy_key(struct mon *mon, const char *actor, const json_t *o)
{
	struct store_seal s;
	char result[96];
	uint8_t leaf[32];
	uint64_t seq;
	json_t *e;
	int rc;

	if ((rc = store_seal_get(mon->store, str(o, "seal"), &s)) == 0) {
		rc = hsm_key_destroy(mon->hsm, s.key_id, sizeof(s.key_id));
		store_seal_clear(&s);
	}
	if (rc != 0)
		log_err("monitor: the key of destroyed seal %s was not destroyed: %s (%s)",
		    str(o, "seal"), sb_strerror(rc), rc == SB_EHSM ? hsm_error(mon->hsm) : "");
	snprintf(result, sizeof(result), rc == 0 ? "ok" : "failed:%s", sb_strerror(rc));
	e = json_pack("{s:s,s:s,s:s,s:s,s:s}", "action", "seal.key_destroy", "actor", actor,
	    "seal", str(o, "seal"), "request", str(o, "id"), "result", result);
	if (e == NULL || mon_ledger(mon, e, &seq, leaf) != 0)
		log_err("monitor: the key destruction of seal %s could not be ledgered",
		    str(o, "seal"));
}

/* A transferred seal's certificate, issued anew for the same key with the
 * new unit as its organisation (the old one named the old unit). */
struct transfer_cert {
	X509 *cert;
	char *pem;
	uint8_t sha[32], old_sha[32], key_id[16];
};

static void
transfer_cert_free(struct transfer_cert *tc)
{
	X509_free(tc->cert);
	free(tc->pem);
	memset(tc, 0, sizeof(*tc));
}

static int
transfer_cert(struct mon *mon, const struct store_seal *s, const char *unit,
    struct transfer_cert *tc)
{
	BIO *b = BIO_new_mem_buf(s->cert_pem, -1);
	X509 *old = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pub = old != NULL ? X509_get_pubkey(old) : NULL;
	unsigned char *der = NULL;
	int rc, len;

	BIO_free(b);
	X509_free(old);
	ERR_clear_error();
	if (pub == NULL)
		return SB_EINVAL;
	memcpy(tc->old_sha, s->cert_sha256, sizeof(tc->old_sha));
	memcpy(tc->key_id, s->key_id, sizeof(tc->key_id));
	rc = ca_issue(mon->hsm, mon->ca.id, mon->ca.id_len, mon->ca.cert, pub, s->name, unit,
	    CA_PROFILE_SEAL, NULL, MON_SEAL_CERT_DAYS, &tc->cert);
	EVP_PKEY_free(pub);
	if (rc != 0)
		return rc;
	if ((len = i2d_X509(tc->cert, &der)) <= 0 || (tc->pem = mon_pem(tc->cert)) == NULL) {
		OPENSSL_free(der);
		return SB_ENOMEM;
	}
	SHA256(der, (size_t)len, tc->sha);
	OPENSSL_free(der);
	return 0;
}

/* Approved whole: ledgered, then the change made (in one store write with
 * the request's record); for a transfer with the certificate tc issued. */
static int
execute(struct mon *mon, uint64_t n, json_t *o, const struct req_kind *k,
    const struct store_principal *p, json_t *e, const struct transfer_cert *tc, uint32_t id,
    struct ipc_msg *reply)
{
	char hex[65];
	struct save sv;
	uint64_t seq;
	uint8_t leaf[32];
	int rc;

	if (e == NULL)
		return SB_ENOMEM;
	json_object_set_new(e, "state", json_string("approved"));
	if ((rc = mon_ledger(mon, e, &seq, leaf)) != 0)
		return unavailable(reply, id, rc);
	json_object_set_new(o, "state", json_string("executed"));
	json_object_set_new(o, "executed", json_integer((json_int_t)now_ms()));
	save_init(&sv, mon, n, o);
	sv.w.seal = str(o, "seal");
	sv.w.seal_state = k->to;
	if (k->moves) {
		sv.w.seal_unit = str(json_object_get(json_object_get(o, "payload"), "to"), "unit");
		sv.w.seal_cert_pem = tc->pem;
		sv.w.seal_cert_sha256 = tc->sha;
	}
	save_settled(&sv);
	e = entry("request.execute", p->name, o);
	if (e != NULL) {
		json_object_set(e, "payload", json_object_get(o, "payload"));
		if (k->moves) {
			mon_hex(tc->sha, sizeof(tc->sha), hex);
			json_object_set_new(e, "cert_sha256", json_string(hex));
			mon_hex(tc->old_sha, sizeof(tc->old_sha), hex);
			json_object_set_new(e, "previous_cert_sha256", json_string(hex));
		}
	}
	if ((rc = mon_ledgered_change(mon, e, save_apply, &sv)) != 0)
		return unavailable(reply, id, rc);
	if (k->moves) {
		log_info("monitor: request %s executed: seal %s is in unit %s, with a new "
		    "certificate", str(o, "id"), str(o, "seal"), sv.w.seal_unit);
		/* The token's certificate object beside the key is replaced, as
		 * at creation; the seal's record, which signing uses, has it. */
		if (hsm_cert_store(mon->hsm, tc->key_id, sizeof(tc->key_id), str(o, "seal"),
		    tc->cert) != 0)
			log_warn("monitor: seal %s: its new certificate could not be stored in "
			    "the token: %s", str(o, "seal"), hsm_error(mon->hsm));
	} else
		log_info("monitor: request %s executed: seal %s is %s", str(o, "id"),
		    str(o, "seal"), k->to);
	if (k->to != NULL && strcmp(k->to, "destroyed") == 0)
		destroy_key(mon, p->name, o);
	return mon_reply_json(reply, id, 200, json_incref(o));
}

static int
approve(struct mon *mon, uint64_t n, json_t *o, const struct store_principal *p, uint32_t id,
    struct ipc_msg *reply)
{
	const struct req_kind *k = kind_find(str(o, "kind"));
	struct transfer_cert tc = { 0 };
	struct save sv;
	struct store_seal s;
	json_t *slot, *a, *e, *moved = NULL;
	char need[256];
	size_t i;
	int holds, rc;

	if (strcmp(str(o, "state"), "pending") != 0)
		return not_pending(o, id, reply);
	if (strcmp(str(o, "requester"), p->name) == 0)
		return mon_reply_err(reply, id, 403, "self_approval",
		    "'%s' filed request %s and cannot approve it", p->name, str(o, "id"));
	json_array_foreach(json_object_get(o, "approvals"), i, a)
		if (strcmp(str(a, "principal"), p->name) == 0)
			return mon_reply_err(reply, id, 409, "already_approved",
			    "'%s' has already approved request %s", p->name, str(o, "id"));
	if (k == NULL)
		return mon_reply_err(reply, id, 500, "internal", "request of an unknown kind");
	if ((slot = slot_for(mon, p, o, &holds)) == NULL &&
	    (slot = slot_swap(mon, p, o, &moved)) == NULL) {
		still_needed(o, need, sizeof(need));
		return mon_reply_err(reply, id, 403, "cannot_approve", "request %s still needs "
		    "an approval by %s; '%s' holds none of those roles", str(o, "id"), need,
		    p->name);
	}
	if (json_array_append_new(json_object_get(o, "approvals"), json_pack("{s:s,s:s,s:s,s:I}",
	    "principal", p->name, "role", str(slot, "role"), "unit", str(slot, "unit"),
	    "time", (json_int_t)now_ms())) != 0)
		return SB_ENOMEM;
	e = entry("request.approve", p->name, o);
	if (e != NULL) {
		json_object_set_new(e, "role", json_string(str(slot, "role")));
		json_object_set_new(e, "unit", json_string(str(slot, "unit")));
		if (moved != NULL)
			json_object_set_new(e, "moved", json_pack("{s:s,s:s,s:s}", "principal",
			    str(moved, "principal"), "role", str(moved, "role"), "unit",
			    str(moved, "unit")));
	}
	save_init(&sv, mon, n, o);
	if (!complete(o)) {
		if ((rc = mon_ledgered_change(mon, e, save_apply, &sv)) != 0)
			return unavailable(reply, id, rc);
		return mon_reply_json(reply, id, 200, json_incref(o));
	}
	if (k->use) {
		/* A use is approved, not executed: the sealing that names it is. */
		json_object_set_new(o, "state", json_string("approved"));
		json_object_set_new(o, "approved", json_integer((json_int_t)now_ms()));
		if (e != NULL)
			json_object_set_new(e, "state", json_string("approved"));
		if ((rc = mon_ledgered_change(mon, e, save_apply, &sv)) != 0)
			return unavailable(reply, id, rc);
		log_info("monitor: request %s approved: one use of seal %s", str(o, "id"),
		    str(o, "seal"));
		return mon_reply_json(reply, id, 200, json_incref(o));
	}
	/* The last approval: the change is made now, if the seal still allows it. */
	if ((rc = store_seal_get(mon->store, str(o, "seal"), &s)) != 0) {
		json_decref(e);
		return unavailable(reply, id, rc);
	}
	rc = kind_applies(k, s.state);
	if (!rc) {
		store_seal_clear(&s);
		json_decref(e);
		return mon_reply_err(reply, id, 409, "seal_state", "seal '%s' is no longer in a "
		    "state %s applies to", str(o, "seal"), k->name);
	}
	rc = k->moves ? transfer_still(mon, o, &s, id, reply) : 0;
	if (rc == 0 && k->moves && (rc = transfer_cert(mon, &s, str(json_object_get(
	    json_object_get(o, "payload"), "to"), "unit"), &tc)) != 0) {
		transfer_cert_free(&tc);
		store_seal_clear(&s);
		json_decref(e);
		if (rc != SB_EHSM) {
			log_err("monitor: request %s: the seal's new certificate: %s",
			    str(o, "id"), sb_strerror(rc));
			return rc == SB_ENOMEM ? rc : mon_reply_err(reply, id, 500, "internal",
			    "the seal's certificate for its new unit could not be made; see "
			    "the appliance log");
		}
		mon_fault(mon, mon->hsm_fault, hsm_error(mon->hsm));
		return mon_reply_err(reply, id, 503, "hsm_unavailable", "the seal's certificate "
		    "for its new unit could not be issued: %s", hsm_error(mon->hsm));
	}
	store_seal_clear(&s);
	if (rc != 0) {
		json_decref(e);
		return rc == 1 ? 0 : unavailable(reply, id, rc);
	}
	rc = execute(mon, n, o, k, p, e, &tc, id, reply);
	transfer_cert_free(&tc);
	return rc;
}

static int
reject(struct mon *mon, uint64_t n, json_t *o, const struct store_principal *p,
    const char *reason, uint32_t id, struct ipc_msg *reply)
{
	struct save sv;
	json_t *e;
	int holds, rc;

	if (strcmp(str(o, "state"), "pending") != 0)
		return not_pending(o, id, reply);
	(void)slot_for(mon, p, o, &holds);
	if (!holds && strcmp(str(o, "requester"), p->name) != 0)
		return mon_reply_err(reply, id, 403, "cannot_approve", "only its requester or a "
		    "principal who may approve it may reject request %s", str(o, "id"));
	if (reason[0] == '\0')
		return mon_reply_err(reply, id, 400, "bad_request", "reason: missing");
	json_object_set_new(o, "state", json_string("rejected"));
	json_object_set_new(o, "rejection", json_pack("{s:s,s:s,s:I}", "principal", p->name,
	    "reason", reason, "time", (json_int_t)now_ms()));
	e = entry("request.reject", p->name, o);
	if (e != NULL)
		json_object_set_new(e, "reason", json_string(reason));
	save_init(&sv, mon, n, o);
	save_settled(&sv);
	if ((rc = mon_ledgered_change(mon, e, save_apply, &sv)) != 0)
		return unavailable(reply, id, rc);
	return mon_reply_json(reply, id, 200, json_incref(o));
}

static int
act_locked(struct mon *mon, uint16_t type, const struct msg_request_act *v,
    const struct store_principal *p, uint32_t id, struct ipc_msg *reply)
{
	json_t *o;
	int rc;

	rc = v->request == 0 ? SB_ENOTFOUND : load(mon, v->request, &o);
	if (rc == 0 && !visible(mon, p, o)) {
		json_decref(o);
		rc = SB_ENOTFOUND;
	}
	if (rc == SB_ENOTFOUND)
		return mon_reply_err(reply, id, 404, "unknown_request",
		    "no request r-%" PRIu64 " is visible to you", v->request);
	if (rc != 0 || (rc = expire_due(mon, v->request, o)) != 0) {
		json_decref(o);
		return unavailable(reply, id, rc);
	}
	if (type == MSG_REQUEST_APPROVE)
		rc = approve(mon, v->request, o, p, id, reply);
	else if (type == MSG_REQUEST_REJECT)
		rc = reject(mon, v->request, o, p, v->reason, id, reply);
	else
		rc = mon_reply_json(reply, id, 200, json_incref(o));
	json_decref(o);
	return rc;
}

int
mon_request_act(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_request_act v;
	struct store_principal p;
	int rc;

	if (msg_request_act_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	if ((rc = mon_require_ready(mon, m->id, reply)) != 0)
		return rc == SB_ESTATE ? 0 : rc;
	pthread_mutex_lock(&req_lock);
	rc = act_locked(mon, m->type, &v, &p, m->id, reply);
	pthread_mutex_unlock(&req_lock);
	return rc;
}

/* ---- using an approved use ----------------------------------------------- */

/* 1 when v presents the document of use request o: for a PDF, the PDF as it
 * was submitted (its SHA-256); else the digest v is to seal. */
static int
same_document(const json_t *o, const struct msg_sign *v)
{
	const json_t *d = json_object_get(json_object_get(o, "payload"), "digest");
	char hex[2 * MSG_DIGEST_MAX + 1];

	if (v->profile == MSG_PROFILE_PADES) {
		mon_hex(v->pdf.input_sha256, sizeof(v->pdf.input_sha256), hex);
		return strcmp(str(d, "alg"), "sha256") == 0 && strcmp(str(d, "value"), hex) == 0;
	}
	if (md_name(v->md_nid) == NULL || v->digest_len > MSG_DIGEST_MAX)
		return 0;
	mon_hex(v->digest, v->digest_len, hex);
	return strcmp(str(d, "alg"), md_name(v->md_nid)) == 0 &&
	    strcmp(str(d, "value"), hex) == 0;
}

/* Check o (request n) for v under r->g and execute it; under req_lock. */
static int
use_locked(struct mon *mon, const char *actor, const struct msg_sign *v, uint64_t n,
    json_t *o, struct policy_grant_result *r)
{
	const char *state;
	struct save sv;
	json_t *e;
	int rc;

	/* Someone else's request, or not a use, is as if it did not exist. */
	if (strcmp(str(o, "kind"), "use") != 0 || strcmp(str(o, "requester"), r->g.principal) != 0)
		return policy_refuse(r, 403, "approval_unknown", "no use request %s of '%s' exists",
		    v->approval, r->g.principal);
	if ((rc = expire_due(mon, n, o)) != 0)
		return rc;
	state = str(o, "state");
	if (strcmp(state, "executed") == 0)
		return policy_refuse(r, 409, "approval_used", "request %s has been used: it approved "
		    "one sealing, of '%s'", v->approval,
		    str(json_object_get(o, "payload"), "document_name"));
	if (strcmp(state, "approved") != 0)
		return policy_refuse(r, 403, "approval_not_approved", "request %s is %s, not "
		    "approved", v->approval, state);
	if (strcmp(str(o, "seal"), v->seal) != 0)
		return policy_refuse(r, 403, "approval_other_seal", "request %s approves a use of "
		    "seal '%s', not of '%s'", v->approval, str(o, "seal"), v->seal);
	if (!same_document(o, v))
		return policy_refuse(r, 403, "document_mismatch", "request %s approves sealing "
		    "the document '%s' (by its digest); this is another document", v->approval,
		    str(json_object_get(o, "payload"), "document_name"));
	json_object_set_new(o, "state", json_string("executed"));
	json_object_set_new(o, "executed", json_integer((json_int_t)now_ms()));
	json_object_set_new(o, "executed_by", json_string(actor));
	e = entry("request.execute", actor, o);
	if (e != NULL) {
		json_object_set(e, "payload", json_object_get(o, "payload"));
		json_object_set_new(e, "document_name", json_string(v->document_name));
	}
	save_init(&sv, mon, n, o);
	if ((rc = mon_ledgered_change(mon, e, save_apply, &sv)) != 0)
		return rc;
	log_info("monitor: request %s executed: one use of seal %s by %s", v->approval,
	    v->seal, actor);
	return 0;
}

/* The number of request id s ("r-N"), or 0 when s is not one. */
static uint64_t
request_number(const char *s)
{
	char *end = NULL;
	uint64_t n = 0;

	if (strncmp(s, "r-", 2) == 0 && s[2] >= '1' && s[2] <= '9')
		n = strtoull(s + 2, &end, 10);
	return end != NULL && *end == '\0' ? n : 0;
}

int
mon_request_use(struct mon *mon, const char *actor, const struct msg_sign *v,
    struct policy_grant_result *r)
{
	uint64_t n = request_number(v->approval);
	json_t *o = NULL;
	int rc;

	if (n == 0)
		return policy_refuse(r, 403, "approval_unknown", "'%s' is not a request id",
		    v->approval);
	pthread_mutex_lock(&req_lock);
	rc = load(mon, n, &o);
	if (rc == SB_ENOTFOUND)
		rc = policy_refuse(r, 403, "approval_unknown", "no use request %s of '%s' exists",
		    v->approval, r->g.principal);
	else if (rc == 0)
		rc = use_locked(mon, actor, v, n, o, r);
	pthread_mutex_unlock(&req_lock);
	json_decref(o);
	return rc;
}

/*
 * The sealing that used v->approval was not made after all (the quota, the
 * HSM, the clock): the request goes back to approved, ledgered as
 * request.release with why, so that its requester may seal that document
 * with it again. Only a request this sealing used (executed by actor, for
 * this seal and document) is touched. When the ledger cannot take the
 * entry, the request stays used: an approval never serves twice.
 */
void
mon_request_unuse(struct mon *mon, const char *actor, const struct msg_sign *v,
    const char *why)
{
	uint64_t n = request_number(v->approval);
	struct save sv;
	json_t *o = NULL, *e;
	int rc;

	if (n == 0)
		return;
	pthread_mutex_lock(&req_lock);
	if (load(mon, n, &o) == 0 && strcmp(str(o, "kind"), "use") == 0 &&
	    strcmp(str(o, "state"), "executed") == 0 &&
	    strcmp(str(o, "executed_by"), actor) == 0 && strcmp(str(o, "seal"), v->seal) == 0 &&
	    same_document(o, v)) {
		json_object_set_new(o, "state", json_string("approved"));
		json_object_del(o, "executed");
		json_object_del(o, "executed_by");
		if ((e = entry("request.release", actor, o)) != NULL)
			json_object_set_new(e, "reason", json_string(why));
		save_init(&sv, mon, n, o);
		if ((rc = mon_ledgered_change(mon, e, save_apply, &sv)) != 0)
			log_warn("monitor: request %s stays used (its sealing failed: %s), as the "
			    "release could not be ledgered: %s", v->approval, why, sb_strerror(rc));
		else
			log_info("monitor: request %s released: its sealing failed (%s)",
			    v->approval, why);
	}
	pthread_mutex_unlock(&req_lock);
	json_decref(o);
}
