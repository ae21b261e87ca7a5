/* daemon/monitor/store: units, principals' kind/unit/roles, exclusive role pairs, requests. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "daemon/monitor/store.h"
#include "check.h"

static char dir[] = "/tmp/sbx-store-XXXXXX";

static int
env_open(MDB_env **env)
{
	if (mdb_env_create(env) != 0)
		return -1;
	mdb_env_set_maxdbs(*env, STORE_DBS + 4);
	if (mdb_env_open(*env, dir, 0, 0600) != 0) {
		mdb_env_close(*env);
		return -1;
	}
	return 0;
}

/* Put raw bytes under key in a named database, behind the store's back. */
static int
raw_put(MDB_env *env, const char *db, const char *key, const char *val)
{
	MDB_val k = { strlen(key), (void *)key }, v = { strlen(val), (void *)val };
	MDB_txn *txn;
	MDB_dbi dbi;

	if (mdb_txn_begin(env, NULL, 0, &txn) != 0)
		return -1;
	if (mdb_dbi_open(txn, db, 0, &dbi) != 0 || mdb_put(txn, dbi, &k, &v, 0) != 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	return mdb_txn_commit(txn) == 0 ? 0 : -1;
}

static void
test_first_start_defaults(void)
{
	struct store *st;
	struct store_unit u;
	MDB_env *env;

	CHECK(env_open(&env) == 0);
	CHECK_RC(store_open(env, &st), 0);
	CHECK_RC(store_unit_get(st, STORE_ROOT_UNIT, &u), 0);
	CHECK_STR(u.id, "group");
	CHECK_STR(u.parent, "");
	CHECK_RC(store_unit_get(st, "nowhere", &u), SB_ENOTFOUND);
	for (size_t i = 0; store_default_exclusions[i][0] != NULL; i++) {
		CHECK_RC(store_exclusive(st, store_default_exclusions[i][0],
		    store_default_exclusions[i][1]), 0);
		CHECK_RC(store_exclusive(st, store_default_exclusions[i][1],
		    store_default_exclusions[i][0]), 0);
	}
	CHECK_RC(store_exclusive(st, "requester", "approver"), SB_ENOTFOUND);
	CHECK_RC(store_exclusive(st, "seal-admin", "requester"), SB_ENOTFOUND);
	store_close(st);
	/* A second start finds the defaults and writes nothing new. */
	CHECK_RC(store_open(env, &st), 0);
	CHECK_RC(store_exclusive(st, "auditor", "sysadmin"), 0);
	store_close(st);
	mdb_env_close(env);
}

static void
test_principal_roles_round_trip(void)
{
	struct store_principal p, got;
	struct store *st;
	MDB_env *env;

	CHECK(env_open(&env) == 0);
	CHECK_RC(store_open(env, &st), 0);
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "erp");
	memset(p.cert_sha256, 0xab, sizeof(p.cert_sha256));
	snprintf(p.kind, sizeof(p.kind), "application");
	snprintf(p.unit, sizeof(p.unit), "group");
	snprintf(p.roles[0].role, sizeof(p.roles[0].role), "requester");
	snprintf(p.roles[0].unit, sizeof(p.roles[0].unit), "group");
	snprintf(p.roles[1].role, sizeof(p.roles[1].role), "template-creator");
	snprintf(p.roles[1].unit, sizeof(p.roles[1].unit), "sub-1");
	p.n_roles = 2;
	CHECK_RC(store_principal_add(st, &p), 0);
	CHECK_RC(store_principal_get(st, "erp", &got), 0);
	CHECK_STR(got.kind, "application");
	CHECK_STR(got.unit, "group");
	CHECK(got.n_roles == 2);
	CHECK_STR(got.roles[1].role, "template-creator");
	CHECK_STR(got.roles[1].unit, "sub-1");
	p.n_roles = STORE_ROLES_MAX + 1;
	snprintf(p.name, sizeof(p.name), "too-many");
	CHECK_RC(store_principal_add(st, &p), SB_EINVAL);
	store_close(st);
	mdb_env_close(env);
}

static void
test_old_record_reads_as_requester(void)
{
	struct store_principal got;
	struct store *st;
	MDB_env *env;
	char sha[65];

	memset(sha, 'c', 64);
	sha[64] = '\0';
	CHECK(env_open(&env) == 0);
	CHECK_RC(store_open(env, &st), 0);
	{
		char rec[256];

		/* As store.c wrote it before kind, unit and roles existed. */
		snprintf(rec, sizeof(rec), "{\"cert_sha256\":\"%s\",\"may_act_for\":[],"
		    "\"name\":\"old\",\"state\":\"active\",\"subject\":\"/CN=old\"}", sha);
		CHECK(raw_put(env, "policy/principals", "old", rec) == 0);
		snprintf(rec, sizeof(rec), "{\"cert_sha256\":\"%s\",\"name\":\"bad\","
		    "\"roles\":{\"role\":\"x\"},\"state\":\"active\"}", sha);
		CHECK(raw_put(env, "policy/principals", "bad", rec) == 0);
	}
	CHECK_RC(store_principal_get(st, "old", &got), 0);
	CHECK_STR(got.kind, "person");
	CHECK_STR(got.unit, STORE_ROOT_UNIT);
	CHECK(got.n_roles == 1);
	CHECK_STR(got.roles[0].role, "requester");
	CHECK_STR(got.roles[0].unit, STORE_ROOT_UNIT);
	/* A roles member that is not a list is damage, not "no roles". */
	CHECK_RC(store_principal_get(st, "bad", &got), SB_EIO);
	store_close(st);
	mdb_env_close(env);
}

struct collect {
	char ids[64];
};

static int
collect_one(void *arg, const char *text, size_t len)
{
	struct collect *c = arg;

	strncat(c->ids, text, len < 8 ? len : 8);
	return 0;
}

/* store_request_put with the record only, or with a pending index change. */
static int
put(struct store *st, uint64_t n, const char *text, int add, const char *pending_seal,
    int pending)
{
	struct store_request_write w = { .n = n, .text = text, .add = add,
	    .pending_seal = pending_seal, .pending = pending };

	return store_request_put(st, &w);
}

static void
test_requests(void)
{
	struct store_seal s = { .id = "s1", .name = "n", .type = "official", .key_type = "ec-p256",
	    .unit = "group", .state = "frozen" }, got;
	struct store_request_write w = { .n = 10, .text = "{done}", .seal = "s1",
	    .seal_state = "active", .pending_seal = "s1", .pending = 0 };
	struct collect c = { "" };
	struct store *st;
	MDB_env *env;
	uint64_t n;
	char *text;

	CHECK(env_open(&env) == 0);
	CHECK_RC(store_open(env, &st), 0);
	s.cert_pem = strdup("PEM");
	CHECK_RC(store_seal_add(st, &s), 0);
	CHECK_RC(store_request_last(st, &n), 0);
	CHECK(n == 0);
	CHECK_RC(store_request_get(st, 1, &text), SB_ENOTFOUND);
	/* Numbered keys sort numerically; each lists newest first. */
	CHECK_RC(put(st, 256, "{r-256}", 1, NULL, 0), 0);
	CHECK_RC(put(st, 2, "{r-2}...", 1, NULL, 0), 0);
	CHECK_RC(put(st, 10, "{r-10}..", 1, "s1", 1), 0);
	CHECK_RC(put(st, 10, "{again}", 1, NULL, 0), SB_EEXIST);
	CHECK_RC(store_request_last(st, &n), 0);
	CHECK(n == 256);
	CHECK_RC(store_request_each(st, collect_one, &c), 0);
	CHECK_STR(c.ids, "{r-256}{r-10}..{r-2}...");
	/* One pending request per seal; settling another one leaves it. */
	CHECK_RC(store_request_pending(st, "s1", &n), 0);
	CHECK(n == 10);
	CHECK_RC(put(st, 11, "{r-11}", 1, "s1", 1), SB_EEXIST);
	CHECK_RC(store_request_get(st, 11, &text), SB_ENOTFOUND);
	CHECK_RC(put(st, 2, "{r-2}", 0, "s1", 0), 0);
	CHECK_RC(store_request_pending(st, "s1", &n), 0);
	CHECK(n == 10);
	/* The record, the seal's new state and the index change together... */
	CHECK_RC(store_request_put(st, &w), 0);
	CHECK_RC(store_request_get(st, 10, &text), 0);
	CHECK_STR(text, "{done}");
	free(text);
	CHECK_RC(store_request_pending(st, "s1", &n), SB_ENOTFOUND);
	CHECK_RC(store_seal_get(st, "s1", &got), 0);
	CHECK_STR(got.state, "active");
	CHECK_STR(got.cert_pem, "PEM");
	store_seal_clear(&got);
	/* ...or not at all: a seal that is not there leaves the record as it was. */
	w.text = "{lost}";
	w.seal = "nope";
	CHECK_RC(store_request_put(st, &w), SB_ENOTFOUND);
	CHECK_RC(store_request_get(st, 10, &text), 0);
	CHECK_STR(text, "{done}");
	free(text);
	store_seal_clear(&s);
	store_close(st);
	mdb_env_close(env);
}

static int
grant_count(void *arg, const struct store_grant *g)
{
	(void)g;
	(*(int *)arg)++;
	return 0;
}

static void
test_grant_records(void)
{
	struct store_grant g, r;
	struct store *st;
	MDB_env *env;
	char *text;
	int n = 0;

	memset(&g, 0, sizeof(g));
	snprintf(g.seal, sizeof(g.seal), "s1");
	snprintf(g.principal, sizeof(g.principal), "alice");
	g.n_doc_types = 2;
	snprintf(g.doc_types[0], sizeof(g.doc_types[0]), "contract");
	snprintf(g.doc_types[1], sizeof(g.doc_types[1]), "invoice");
	g.per_day = 5;
	g.per_month = 4000000000u;
	g.valid_from = 1767225600;	/* 2026-01-01 */
	g.valid_to = 1798761600;
	g.hours = 0x3fe00;		/* 09-18 */
	g.days = 0x1f;			/* mon-fri */
	g.approval_k = 2;
	snprintf(g.approval_group, sizeof(g.approval_group), "board");
	snprintf(g.confirm, sizeof(g.confirm), "totp");
	g.n_apps = STORE_GRANT_LIST_MAX;
	for (size_t i = 0; i < g.n_apps; i++)
		snprintf(g.apps[i], sizeof(g.apps[i]), "app-%zu", i);
	snprintf(g.on_sensitive, sizeof(g.on_sensitive), "approval");
	/* Encode and decode: every condition comes back. */
	CHECK((text = store_grant_text(&g)) != NULL);
	/* Every condition is overwritten; seal and principal are left alone. */
	memset(&r, 0, sizeof(r));
	memset(&r.n_doc_types, 0x55, sizeof(r) - offsetof(struct store_grant, n_doc_types));
	snprintf(r.seal, sizeof(r.seal), "s1");
	snprintf(r.principal, sizeof(r.principal), "alice");
	CHECK_RC(store_grant_parse(text, strlen(text), &r), 0);
	free(text);
	CHECK(memcmp(&g, &r, sizeof(g)) == 0);
	/* A record made before conditions existed is a grant without any. */
	CHECK_RC(store_grant_parse("", 0, &r), 0);
	CHECK(r.n_doc_types == 0 && r.per_day == 0 && r.per_month == 0 && r.valid_from == 0 &&
	    r.valid_to == 0 && r.hours == 0 && r.days == 0 && r.approval_k == 0 &&
	    r.n_apps == 0);
	CHECK_STR(r.confirm, "none");
	CHECK_STR(r.on_sensitive, "block");
	CHECK_STR(r.seal, "s1");
	/* Damage is an error, not a grant without limits. */
	CHECK_RC(store_grant_parse("{\"per_day\":-1}", 14, &r), SB_EINVAL);
	CHECK_RC(store_grant_parse("{\"hours\":16777216}", 18, &r), SB_EINVAL);
	CHECK_RC(store_grant_parse("{\"confirm\":\"sms\"}", 17, &r), SB_EINVAL);
	CHECK_RC(store_grant_parse("{\"on_sensitive\":\"warn\"}", 23, &r), SB_EINVAL);
	CHECK_RC(store_grant_parse("{\"apps\":[1]}", 12, &r), SB_EINVAL);
	CHECK_RC(store_grant_parse("[", 1, &r), SB_EINVAL);
	/* Through LMDB, next to an old bare record. */
	CHECK(env_open(&env) == 0);
	CHECK_RC(store_open(env, &st), 0);
	CHECK_RC(store_grant_put(st, &g), 0);
	CHECK_RC(store_grant_put(st, &g), SB_EEXIST);
	CHECK_RC(store_grant_add(st, "s1", "bob"), 0);
	CHECK_RC(store_grant_get(st, "s1", "alice", &r), 0);
	CHECK(memcmp(&g, &r, sizeof(g)) == 0);
	CHECK_RC(store_grant_get(st, "s1", "bob", &r), 0);
	CHECK(r.per_day == 0 && r.n_apps == 0);
	CHECK_STR(r.principal, "bob");
	CHECK_RC(store_grant_has(st, "s1", "alice"), 0);
	CHECK_RC(store_grant_get(st, "s1", "carol", &r), SB_ENOTFOUND);
	CHECK_RC(store_grant_each(st, grant_count, &n), 0);
	CHECK(n == 2);
	CHECK(raw_put(env, "policy/grants", "s2", "{\"per_day\":\"x\"}") == 0);
	CHECK_RC(store_grant_each(st, grant_count, &n), SB_EIO);
	store_close(st);
	mdb_env_close(env);
}

static void
test_quota_take(void)
{
	const long long t = 1795685400;		/* 2026-11-26T09:30:00Z, a Thursday */
	struct store_quota q;
	struct store *st;
	MDB_env *env;

	CHECK(env_open(&env) == 0);
	CHECK_RC(store_open(env, &st), 0);
	/* Unlimited: nothing is counted. */
	CHECK_RC(store_quota_take(st, "s1", "q", t, 0, 0, &q), 0);
	CHECK_RC(store_quota_get(st, "s1", "q", t, &q), 0);
	CHECK(q.day == 0 && q.month == 0);
	/* Three a day: the fourth is refused and not counted. */
	for (unsigned i = 1; i <= 3; i++) {
		CHECK_RC(store_quota_take(st, "s1", "q", t + i, 3, 10, &q), 0);
		CHECK(q.day == i && q.month == i);
	}
	CHECK_RC(store_quota_take(st, "s1", "q", t + 60, 3, 10, &q), SB_ELIMIT);
	CHECK(q.over == 'd' && q.day == 3 && q.month == 3);
	CHECK_RC(store_quota_get(st, "s1", "q", t, &q), 0);
	CHECK(q.day == 3 && q.month == 3);
	/* Another grant has counters of its own. */
	CHECK_RC(store_quota_take(st, "s1", "other", t, 3, 10, &q), 0);
	CHECK(q.day == 1);
	/* The last second of the day still counts in it; the next day starts at 0. */
	CHECK_RC(store_quota_take(st, "s1", "q", t + 52199, 3, 10, &q), SB_ELIMIT);
	CHECK_RC(store_quota_take(st, "s1", "q", t + 52200, 3, 10, &q), 0);
	CHECK(q.day == 1 && q.month == 4);
	/* The month's limit: 10 in November over several days... */
	for (int d = 2; d <= 4; d++)
		for (int i = 0; i < 3 && q.month < 10; i++)
			CHECK_RC(store_quota_take(st, "s1", "q", t + d * 86400LL, 3, 10, &q), 0);
	CHECK(q.month == 10);
	CHECK_RC(store_quota_take(st, "s1", "q", t + 4 * 86400LL + 3600, 3, 10, &q),
	    SB_ELIMIT);
	CHECK(q.over == 'm' && q.month == 10);
	/* ...and December starts again (2026-12-01T00:00:00Z). */
	CHECK_RC(store_quota_take(st, "s1", "q", 1796083200, 3, 10, &q), 0);
	CHECK(q.day == 1 && q.month == 1);
	/* The counters are in LMDB: a new store over the environment sees them. */
	store_close(st);
	CHECK_RC(store_open(env, &st), 0);
	CHECK_RC(store_quota_take(st, "s1", "q", t + 60, 3, 10, &q), SB_ELIMIT);
	store_close(st);
	mdb_env_close(env);
}

int
main(void)
{
	char cmd[64];

	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_first_start_defaults, "store: the root unit and the default exclusive pairs exist from first start, in either order");
	RUN(test_principal_roles_round_trip, "store: a principal's kind, unit and roles are kept; more than 16 roles are refused");
	RUN(test_old_record_reads_as_requester, "store: a record made before roles reads as a person in the root unit holding requester; a malformed roles member is an error");
	RUN(test_grant_records, "store: a grant's conditions round-trip through its record and LMDB; an old bare record is a grant without conditions; a damaged one is an error");
	RUN(test_quota_take, "store: a quota is checked and counted in one transaction, refused at the limit without counting, per grant, and starts again with the next UTC day and month");
	RUN(test_requests, "store: requests listed newest first; one pending per seal; a record, its seal's new state and the pending index are written together or not at all");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return check_done();
}
