/* daemon/monitor/store: units, principals' kind/unit/roles, exclusive role pairs. */
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

int
main(void)
{
	char cmd[64];

	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_first_start_defaults, "store: the root unit and the default exclusive pairs exist from first start, in either order");
	RUN(test_principal_roles_round_trip, "store: a principal's kind, unit and roles are kept; more than 16 roles are refused");
	RUN(test_old_record_reads_as_requester, "store: a record made before roles reads as a person in the root unit holding requester; a malformed roles member is an error");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return check_done();
}
