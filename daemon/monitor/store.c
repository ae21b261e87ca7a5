/*
 * store — policy records as JSON objects in named LMDB databases:
 *   policy/principals  name -> {"name","cert_sha256","subject","state","may_act_for",
 *                               "kind","unit","roles"}
 *                      (may_act_for: an array of principal names; absent in
 *                      records made before it existed, read as empty. kind,
 *                      unit, roles: absent in records made before units and
 *                      roles existed, read as "person", the root unit and
 *                      [{"role":"requester","unit":root}]: what such a
 *                      principal could do then, sign within its grants)
 *   policy/units       id -> {"id","name","parent"} (parent "" for the root)
 *   policy/exclusive   role NUL role (the two in strcmp order) -> "": the
 *                      pairs no principal may hold together
 *   policy/certs       certificate SHA-256 (32 bytes) -> principal name
 *   policy/seals       id -> {"id","name","type","key_type","unit","state",
 *                             "key_id","cert_sha256","image_sha256","created","certificate"}
 *   policy/grants      seal NUL principal -> the grant's conditions,
 *                      {"doc_types","per_day","per_month","valid_from",
 *                      "valid_to","hours","days","approval":{"k","group"},
 *                      "confirm","apps","on_sensitive"} (on_sensitive
 *                      absent: "block"); "" (a grant made before
 *                      conditions existed) is a grant without any
 *   policy/quota       seal NUL principal NUL "d"YYYYMMDD or "m"YYYYMM ->
 *                      uses counted in that UTC day or month (4 bytes,
 *                      big-endian); a new period is a new key
 *   policy/images      image SHA-256 hex -> PNG bytes
 *   policy/sigs        "c" || seal certificate SHA-256 -> seal id (which seal
 *                      made a signature; the signature-to-entry index is
 *                      the ledger's own, written in the entry's commit)
 *   policy/requests    request number (8 bytes, big-endian, so that key order
 *                      is filing order) -> the request as JSON (its fields
 *                      are mon_req.c's; docs/policy.md lists them)
 *   policy/pending     seal id -> number of its pending request (8 bytes):
 *                      at most one per seal, written with the request
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "store.h"

enum { DB_PRINCIPALS, DB_CERTS, DB_SEALS, DB_GRANTS, DB_IMAGES, DB_SIGS, DB_UNITS,
	DB_EXCLUSIVE, DB_REQUESTS, DB_PENDING, DB_QUOTA, DB_N };

_Static_assert(DB_N == STORE_DBS, "STORE_DBS counts the named databases");

static const char *const store_db_names[DB_N] = {
	"policy/principals", "policy/certs", "policy/seals", "policy/grants",
	"policy/images", "policy/sigs", "policy/units", "policy/exclusive",
	"policy/requests", "policy/pending", "policy/quota",
};

/*
 * Three-member separation (DESIGN invariant 5) and issue 4's defaults, as
 * data: the appliance roles with each other; the sysadmin with every
 * business role (it must not reach business data through one); the secadmin
 * with the roles that seal or approve; both auditors with every role that
 * changes or uses seals. docs/policy.md has the same table.
 */
const char *const store_default_exclusions[][2] = {
	{ "sysadmin", "secadmin" }, { "sysadmin", "auditor" }, { "secadmin", "auditor" },
	{ "sysadmin", "seal-admin" }, { "sysadmin", "approver" }, { "sysadmin", "requester" },
	{ "sysadmin", "template-creator" }, { "sysadmin", "file-admin" },
	{ "sysadmin", "business-auditor" },
	{ "secadmin", "requester" }, { "secadmin", "approver" },
	{ "secadmin", "business-auditor" },
	{ "auditor", "seal-admin" }, { "auditor", "approver" }, { "auditor", "requester" },
	{ "auditor", "template-creator" }, { "auditor", "file-admin" },
	{ "business-auditor", "seal-admin" }, { "business-auditor", "approver" },
	{ "business-auditor", "requester" }, { "business-auditor", "template-creator" },
	{ "business-auditor", "file-admin" },
	{ NULL, NULL },
};

/*
 * Parsed records, kept with the exact bytes they were parsed from. Every
 * read still goes to LMDB; when the stored bytes are the ones of the cached
 * copy the parse is skipped (the sign path reads a principal and a seal per
 * request, and parsing them was ~10% of the monitor's time). Comparing the
 * bytes, not tracking writes, keeps it right whatever wrote the record.
 */
#define STORE_CACHE_SLOTS 64

struct store_cached {
	int db;				/* -1: empty */
	char *raw;			/* malloc'd */
	size_t len;
	union {
		struct store_principal p;
		struct store_seal s;	/* s.cert_pem owned by the slot */
	} v;
};

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB_N];
	MDB_dbi totp_dbi;		/* store_totp_*: opened on first use */
	int totp_open;
	MDB_dbi words_dbi;		/* store_word_*: opened on first use */
	int words_open;
	MDB_dbi admin_dbi;		/* store_admin_*: opened on first use */
	int admin_open;
	MDB_dbi settings_dbi;		/* store_alert_thresholds_*: on first use */
	int settings_open;
	pthread_mutex_t lock;		/* the cache */
	struct store_cached cache[STORE_CACHE_SLOTS];
};

static int
store_rc(int mrc, const char *what)
{
	if (mrc == 0)
		return 0;
	if (mrc == MDB_NOTFOUND)
		return SB_ENOTFOUND;
	if (mrc == MDB_KEYEXIST)
		return SB_EEXIST;
	log_err("store: %s: %s", what, mdb_strerror(mrc));
	return SB_EIO;
}

/* "a NUL b": the key of a grant (seal, principal) or of a role pair. */
static size_t
two_key(const char *a, const char *b, char *key, size_t len)
{
	int n = snprintf(key, len, "%s%c%s", a, '\0', b);

	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

/* A role pair's key, the same whichever order the two come in. */
static size_t
pair_key(const char *a, const char *b, char *key, size_t len)
{
	return strcmp(a, b) > 0 ? two_key(b, a, key, len) : two_key(a, b, key, len);
}

/*
 * The defaults, at first start only (an empty units database): the root unit
 * and the exclusive pairs. They are part of the software, not a change an
 * administrator made, so they are not ledgered; changing them later is.
 */
static int
store_seed(MDB_txn *txn, struct store *st)
{
	static const char root[] = "{\"id\":\"" STORE_ROOT_UNIT "\",\"name\":\"Group head office\","
	    "\"parent\":\"\"}";
	MDB_val k = { strlen(STORE_ROOT_UNIT), (void *)STORE_ROOT_UNIT }, v;
	char key[2 * STORE_ROLE_MAX + 2];
	int mrc;

	if ((mrc = mdb_get(txn, st->dbi[DB_UNITS], &k, &v)) != MDB_NOTFOUND)
		return mrc;
	v.mv_size = sizeof(root) - 1;
	v.mv_data = (void *)root;
	if ((mrc = mdb_put(txn, st->dbi[DB_UNITS], &k, &v, 0)) != 0)
		return mrc;
	for (size_t i = 0; store_default_exclusions[i][0] != NULL; i++) {
		MDB_val pk, pv = { 0, (void *)"" };

		pk.mv_size = pair_key(store_default_exclusions[i][0],
		    store_default_exclusions[i][1], key, sizeof(key));
		pk.mv_data = key;
		if (pk.mv_size == 0)
			return MDB_BAD_VALSIZE;
		if ((mrc = mdb_put(txn, st->dbi[DB_EXCLUSIVE], &pk, &pv, 0)) != 0)
			return mrc;
	}
	return 0;
}

int
store_open(MDB_env *env, struct store **out)
{
	struct store *st = calloc(1, sizeof(*st));
	MDB_txn *txn;
	int mrc;

	*out = NULL;
	if (st == NULL)
		return SB_ENOMEM;
	st->env = env;
	pthread_mutex_init(&st->lock, NULL);
	for (int i = 0; i < STORE_CACHE_SLOTS; i++)
		st->cache[i].db = -1;
	if ((mrc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		pthread_mutex_destroy(&st->lock);
		free(st);
		return store_rc(mrc, "begin");
	}
	for (int i = 0; i < DB_N && mrc == 0; i++)
		mrc = mdb_dbi_open(txn, store_db_names[i], MDB_CREATE, &st->dbi[i]);
	if (mrc == 0)
		mrc = store_seed(txn, st);
	if (mrc == 0)
		mrc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	if (mrc != 0) {
		pthread_mutex_destroy(&st->lock);
		free(st);
		return store_rc(mrc, "open databases");
	}
	*out = st;
	return 0;
}

static void
cache_slot_clear(struct store_cached *c)
{
	if (c->db == DB_SEALS)
		free(c->v.s.cert_pem);
	free(c->raw);
	memset(c, 0, sizeof(*c));
	c->db = -1;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < STORE_CACHE_SLOTS; i++)
		cache_slot_clear(&st->cache[i]);
	pthread_mutex_destroy(&st->lock);
	free(st);	/* the environment belongs to the ledger */
}

static struct store_cached *
cache_slot(struct store *st, int db, const char *raw, size_t len)
{
	unsigned h = 2166136261u ^ (unsigned)db;

	/* The key is inside the record (name or id): hashing the record's
	 * first bytes spreads records well enough for a cache. */
	for (size_t i = 0; i < len && i < 96; i++)
		h = (h ^ (unsigned char)raw[i]) * 16777619u;
	return &st->cache[h % STORE_CACHE_SLOTS];
}

/* 1 and *out filled when raw was parsed before; the caller holds no lock. */
static int
cache_get(struct store *st, int db, const char *raw, size_t len, void *out)
{
	struct store_cached *c;
	int hit = 0;

	pthread_mutex_lock(&st->lock);
	c = cache_slot(st, db, raw, len);
	if (c->db == db && c->len == len && memcmp(c->raw, raw, len) == 0) {
		if (db == DB_PRINCIPALS) {
			memcpy(out, &c->v.p, sizeof(c->v.p));
			hit = 1;
		} else {
			struct store_seal *s = out;

			*s = c->v.s;
			hit = (s->cert_pem = strdup(c->v.s.cert_pem)) != NULL;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return hit;
}

/* Remember that raw parses to *v (copied; a failure to copy just skips). */
static void
cache_put(struct store *st, int db, const char *raw, size_t len, const void *v)
{
	char *copy = malloc(len), *pem = NULL;
	struct store_cached *c;

	if (copy == NULL)
		return;
	memcpy(copy, raw, len);
	if (db == DB_SEALS && (pem = strdup(((const struct store_seal *)v)->cert_pem)) == NULL) {
		free(copy);
		return;
	}
	pthread_mutex_lock(&st->lock);
	c = cache_slot(st, db, raw, len);
	cache_slot_clear(c);
	c->db = db;
	c->raw = copy;
	c->len = len;
	if (db == DB_PRINCIPALS)
		memcpy(&c->v.p, v, sizeof(c->v.p));
	else {
		c->v.s = *(const struct store_seal *)v;
		c->v.s.cert_pem = pem;
	}
	pthread_mutex_unlock(&st->lock);
}

/* Put key -> val in db; flags MDB_NOOVERWRITE for "add". */
static int
store_put(struct store *st, int db, const void *k, size_t kl, const void *v, size_t vl,
    unsigned flags)
{
	MDB_val key = { kl, (void *)k }, val = { vl, (void *)v };
	MDB_txn *txn;
	int mrc;

	if ((mrc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((mrc = mdb_put(txn, st->dbi[db], &key, &val, flags)) != 0) {
		mdb_txn_abort(txn);
		return store_rc(mrc, store_db_names[db]);
	}
	return store_rc(mdb_txn_commit(txn), "commit");
}

/* Two puts in one transaction: both happen or neither does. */
static int
store_put2(struct store *st, int db1, const void *k1, size_t kl1, const void *v1, size_t vl1,
    unsigned f1, int db2, const void *k2, size_t kl2, const void *v2, size_t vl2, unsigned f2)
{
	MDB_val a = { kl1, (void *)k1 }, av = { vl1, (void *)v1 };
	MDB_val b = { kl2, (void *)k2 }, bv = { vl2, (void *)v2 };
	MDB_txn *txn;
	int mrc;

	if ((mrc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((mrc = mdb_put(txn, st->dbi[db1], &a, &av, f1)) != 0 ||
	    (mrc = mdb_put(txn, st->dbi[db2], &b, &bv, f2)) != 0) {
		mdb_txn_abort(txn);
		return store_rc(mrc, "put");
	}
	return store_rc(mdb_txn_commit(txn), "commit");
}

/* Copy of the value of key in db into a malloc'd NUL-terminated buffer. */
static int
store_get(struct store *st, int db, const void *k, size_t kl, char **v, size_t *vl)
{
	MDB_val key = { kl, (void *)k }, val;
	MDB_txn *txn;
	int mrc;

	*v = NULL;
	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	mrc = mdb_get(txn, st->dbi[db], &key, &val);
	if (mrc == 0) {
		if ((*v = malloc(val.mv_size + 1)) == NULL) {
			mdb_txn_abort(txn);
			return SB_ENOMEM;
		}
		memcpy(*v, val.mv_data, val.mv_size);
		(*v)[val.mv_size] = '\0';
		if (vl != NULL)
			*vl = val.mv_size;
	}
	mdb_txn_abort(txn);
	return store_rc(mrc, store_db_names[db]);
}

/* 0 when key is in db, SB_ENOTFOUND when not: nothing is copied (a grant
 * is looked up on every signature). */
static int
store_has(struct store *st, int db, const void *k, size_t kl)
{
	MDB_val key = { kl, (void *)k }, val;
	MDB_txn *txn;
	int mrc;

	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	mrc = mdb_get(txn, st->dbi[db], &key, &val);
	mdb_txn_abort(txn);
	return store_rc(mrc, store_db_names[db]);
}

static void
hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int
unhex(const char *s, uint8_t *b, size_t n)
{
	if (s == NULL || strlen(s) != 2 * n)
		return SB_EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned x;

		if (sscanf(s + 2 * i, "%2x", &x) != 1)
			return SB_EINVAL;
		b[i] = (uint8_t)x;
	}
	return 0;
}

/* Copies a JSON string member into dst (bounded); "" when absent. */
static void
jstr(const json_t *o, const char *k, char *dst, size_t len)
{
	const char *v = json_string_value(json_object_get(o, k));

	snprintf(dst, len, "%s", v ? v : "");
}

/* ---- principals ------------------------------------------------------- */

/* "may_act_for" of a principal record; a name that does not fit is damage. */
static int
act_for_from_json(const json_t *arr, struct store_principal *p)
{
	size_t i;
	json_t *v;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > STORE_ACT_FOR_MAX)
		return SB_EIO;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || json_string_length(v) >= STORE_ID_MAX)
			return SB_EIO;
		snprintf(p->may_act_for[i], STORE_ID_MAX, "%s", json_string_value(v));
	}
	p->n_may_act_for = json_array_size(arr);
	return 0;
}

/* "roles" of a principal record; absent: what an older record could do. */
static int
roles_from_json(const json_t *arr, struct store_principal *p)
{
	size_t i;
	json_t *v;

	if (arr == NULL) {
		snprintf(p->roles[0].role, sizeof(p->roles[0].role), "requester");
		snprintf(p->roles[0].unit, sizeof(p->roles[0].unit), "%s", STORE_ROOT_UNIT);
		p->n_roles = 1;
		return 0;
	}
	if (!json_is_array(arr) || json_array_size(arr) > STORE_ROLES_MAX)
		return SB_EIO;
	json_array_foreach(arr, i, v) {
		const char *r = json_string_value(json_object_get(v, "role"));
		const char *u = json_string_value(json_object_get(v, "unit"));

		if (r == NULL || u == NULL || strlen(r) >= STORE_ROLE_MAX ||
		    strlen(u) >= STORE_ID_MAX)
			return SB_EIO;
		snprintf(p->roles[i].role, sizeof(p->roles[i].role), "%s", r);
		snprintf(p->roles[i].unit, sizeof(p->roles[i].unit), "%s", u);
	}
	p->n_roles = json_array_size(arr);
	return 0;
}

static int
principal_from_json(const char *text, struct store_principal *p)
{
	json_t *o = json_loads(text, 0, NULL);
	int rc;

	if (o == NULL)
		return SB_EIO;
	memset(p, 0, sizeof(*p));
	jstr(o, "name", p->name, sizeof(p->name));
	jstr(o, "subject", p->subject, sizeof(p->subject));
	jstr(o, "state", p->state, sizeof(p->state));
	jstr(o, "kind", p->kind, sizeof(p->kind));
	jstr(o, "unit", p->unit, sizeof(p->unit));
	if (p->kind[0] == '\0')
		snprintf(p->kind, sizeof(p->kind), "person");
	if (p->unit[0] == '\0')
		snprintf(p->unit, sizeof(p->unit), "%s", STORE_ROOT_UNIT);
	rc = unhex(json_string_value(json_object_get(o, "cert_sha256")), p->cert_sha256, 32);
	if (rc == 0)
		rc = act_for_from_json(json_object_get(o, "may_act_for"), p);
	if (rc == 0)
		rc = roles_from_json(json_object_get(o, "roles"), p);
	json_decref(o);
	return rc == 0 ? 0 : SB_EIO;
}

/* p as its record (malloc'd text), or NULL. */
static char *
principal_text(const struct store_principal *p)
{
	char sha[65], *text;
	json_t *o, *acts, *roles;

	hex(p->cert_sha256, 32, sha);
	if (p->n_may_act_for > STORE_ACT_FOR_MAX || p->n_roles > STORE_ROLES_MAX)
		return NULL;
	acts = json_array();
	roles = json_array();
	for (size_t i = 0; acts != NULL && i < p->n_may_act_for; i++)
		if (json_array_append_new(acts, json_string(p->may_act_for[i])) != 0) {
			json_decref(acts);
			acts = NULL;
		}
	for (size_t i = 0; roles != NULL && i < p->n_roles; i++)
		if (json_array_append_new(roles, json_pack("{s:s,s:s}", "role", p->roles[i].role,
		    "unit", p->roles[i].unit)) != 0) {
			json_decref(roles);
			roles = NULL;
		}
	/* "o" takes acts and roles, also when packing fails; a list that could not be
	 * made (NULL, left out by o*) refuses the record below. */
	o = json_pack("{s:s,s:s,s:s,s:s,s:o*,s:s,s:s,s:o*}", "name", p->name, "cert_sha256", sha,
	    "subject", p->subject, "state", p->state[0] ? p->state : "active",
	    "may_act_for", acts, "kind", p->kind, "unit", p->unit, "roles", roles);
	if (acts == NULL || roles == NULL) {
		json_decref(o);
		o = NULL;
	}
	if (o == NULL || (text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		json_decref(o);
		return NULL;
	}
	json_decref(o);
	return text;
}

int
store_principal_add(struct store *st, const struct store_principal *p)
{
	char *text;
	int rc;

	if (p->n_may_act_for > STORE_ACT_FOR_MAX || p->n_roles > STORE_ROLES_MAX)
		return SB_EINVAL;
	if ((text = principal_text(p)) == NULL)
		return SB_ENOMEM;
	/* One transaction: a refused name must not leave its certificate mapped. */
	rc = store_put2(st, DB_CERTS, p->cert_sha256, 32, p->name, strlen(p->name),
	    MDB_NOOVERWRITE, DB_PRINCIPALS, p->name, strlen(p->name), text, strlen(text),
	    MDB_NOOVERWRITE);
	free(text);
	return rc;
}

int
store_principal_update(struct store *st, const struct store_principal *p)
{
	struct store_principal old;
	char *text;
	int rc;

	if (p->n_may_act_for > STORE_ACT_FOR_MAX || p->n_roles > STORE_ROLES_MAX)
		return SB_EINVAL;
	if ((rc = store_principal_get(st, p->name, &old)) != 0)
		return rc;
	if (memcmp(old.cert_sha256, p->cert_sha256, 32) != 0)
		return SB_EINVAL;	/* the certificate map would lie */
	if ((text = principal_text(p)) == NULL)
		return SB_ENOMEM;
	rc = store_put(st, DB_PRINCIPALS, p->name, strlen(p->name), text, strlen(text), 0);
	free(text);
	return rc;
}

int
store_principal_get(struct store *st, const char *name, struct store_principal *p)
{
	size_t len = 0;
	char *text;
	int rc;

	if ((rc = store_get(st, DB_PRINCIPALS, name, strlen(name), &text, &len)) != 0)
		return rc;
	if (!cache_get(st, DB_PRINCIPALS, text, len, p) &&
	    (rc = principal_from_json(text, p)) == 0)
		cache_put(st, DB_PRINCIPALS, text, len, p);
	free(text);
	return rc;
}

int
store_principal_by_cert(struct store *st, const uint8_t sha[32], struct store_principal *p)
{
	char *name;
	int rc;

	if ((rc = store_get(st, DB_CERTS, sha, 32, &name, NULL)) != 0)
		return rc;
	rc = store_principal_get(st, name, p);
	free(name);
	return rc;
}

/* ---- seals -------------------------------------------------------------- */

static int
seal_from_json(const char *text, struct store_seal *s)
{
	json_t *o = json_loads(text, 0, NULL);
	const char *cert;
	int rc;

	memset(s, 0, sizeof(*s));
	if (o == NULL)
		return SB_EIO;
	jstr(o, "id", s->id, sizeof(s->id));
	jstr(o, "name", s->name, sizeof(s->name));
	jstr(o, "type", s->type, sizeof(s->type));
	jstr(o, "key_type", s->key_type, sizeof(s->key_type));
	jstr(o, "unit", s->unit, sizeof(s->unit));
	jstr(o, "state", s->state, sizeof(s->state));
	jstr(o, "image_sha256", s->image_sha256, sizeof(s->image_sha256));
	s->created_ms = json_integer_value(json_object_get(o, "created"));
	rc = unhex(json_string_value(json_object_get(o, "key_id")), s->key_id, 16);
	if (rc == 0)
		rc = unhex(json_string_value(json_object_get(o, "cert_sha256")), s->cert_sha256, 32);
	cert = json_string_value(json_object_get(o, "certificate"));
	if (rc == 0 && (cert == NULL || (s->cert_pem = strdup(cert)) == NULL))
		rc = SB_EIO;
	json_decref(o);
	if (rc != 0)
		store_seal_clear(s);
	return rc == 0 ? 0 : SB_EIO;
}

int
store_seal_add(struct store *st, const struct store_seal *s)
{
	char kid[33], csha[65], *text;
	json_t *o;
	int rc;

	hex(s->key_id, 16, kid);
	hex(s->cert_sha256, 32, csha);
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s}", "id", s->id,
	    "name", s->name, "type", s->type, "key_type", s->key_type, "unit", s->unit,
	    "state", s->state, "key_id", kid, "cert_sha256", csha,
	    "image_sha256", s->image_sha256, "created", (json_int_t)s->created_ms,
	    "certificate", s->cert_pem ? s->cert_pem : "");
	if (o == NULL || (text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		json_decref(o);
		return SB_ENOMEM;
	}
	json_decref(o);
	{
		uint8_t key[33];

		key[0] = 'c';
		memcpy(key + 1, s->cert_sha256, 32);
		rc = store_put2(st, DB_SEALS, s->id, strlen(s->id), text, strlen(text),
		    MDB_NOOVERWRITE, DB_SIGS, key, sizeof(key), s->id, strlen(s->id), 0);
	}
	free(text);
	return rc;
}

int
store_seal_get(struct store *st, const char *id, struct store_seal *s)
{
	size_t len = 0;
	char *text;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = store_get(st, DB_SEALS, id, strlen(id), &text, &len)) != 0)
		return rc;
	if (!cache_get(st, DB_SEALS, text, len, s) && (rc = seal_from_json(text, s)) == 0)
		cache_put(st, DB_SEALS, text, len, s);
	free(text);
	return rc;
}

int
store_seal_by_cert(struct store *st, const uint8_t sha[32], char id[STORE_ID_MAX])
{
	uint8_t key[33];
	char *v;
	int rc;

	key[0] = 'c';
	memcpy(key + 1, sha, 32);
	if ((rc = store_get(st, DB_SIGS, key, sizeof(key), &v, NULL)) != 0)
		return rc;
	snprintf(id, STORE_ID_MAX, "%s", v);
	free(v);
	return 0;
}

int
store_seal_each(struct store *st, int (*fn)(void *arg, const struct store_seal *s), void *arg)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int mrc, rc = 0, n = 0;

	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((mrc = mdb_cursor_open(txn, st->dbi[DB_SEALS], &cur)) != 0) {
		mdb_txn_abort(txn);
		return store_rc(mrc, "cursor");
	}
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && rc == 0 &&
	    n < STORE_SEALS_MAX; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), n++) {
		struct store_seal s;
		char *text = strndup(v.mv_data, v.mv_size);

		if (text == NULL) {
			rc = SB_ENOMEM;
			break;
		}
		rc = seal_from_json(text, &s);
		free(text);
		if (rc == 0) {
			rc = fn(arg, &s);
			store_seal_clear(&s);
		}
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

void
store_seal_clear(struct store_seal *s)
{
	free(s->cert_pem);
	s->cert_pem = NULL;
}

/* ---- grants and images ---------------------------------------------------- */

int
store_grant_add(struct store *st, const char *seal, const char *principal)
{
	char key[2 * STORE_ID_MAX + 2];
	size_t n = two_key(seal, principal, key, sizeof(key));

	return n == 0 ? SB_EINVAL : store_put(st, DB_GRANTS, key, n, "", 0, MDB_NOOVERWRITE);
}

int
store_grant_has(struct store *st, const char *seal, const char *principal)
{
	char key[2 * STORE_ID_MAX + 2];
	size_t n = two_key(seal, principal, key, sizeof(key));

	return n == 0 ? SB_ENOTFOUND : store_has(st, DB_GRANTS, key, n);
}

/* A list member of a grant record: a JSON array of at most max strings. */
static int
grant_list_from_json(const json_t *arr, char *dst, size_t width, size_t max, size_t *n)
{
	size_t i;
	json_t *x;

	*n = 0;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > max)
		return SB_EINVAL;
	json_array_foreach(arr, i, x) {
		const char *v = json_string_value(x);

		if (v == NULL || strlen(v) == 0 || strlen(v) >= width)
			return SB_EINVAL;
		memcpy(dst + i * width, v, strlen(v) + 1);
	}
	*n = json_array_size(arr);
	return 0;
}

static json_t *
grant_list_json(const char *src, size_t width, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(src + i * width)) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

char *
store_grant_text(const struct store_grant *g)
{
	json_t *o = json_pack("{s:o*,s:I,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:s},s:s,s:o*,s:s}",
	    "doc_types", grant_list_json(&g->doc_types[0][0], STORE_DOCTYPE_MAX, g->n_doc_types),
	    "per_day", (json_int_t)g->per_day, "per_month", (json_int_t)g->per_month,
	    "valid_from", (json_int_t)g->valid_from, "valid_to", (json_int_t)g->valid_to,
	    "hours", (json_int_t)g->hours, "days", (json_int_t)g->days,
	    "approval", "k", (json_int_t)g->approval_k, "group", g->approval_group,
	    "confirm", g->confirm[0] ? g->confirm : "none",
	    "apps", grant_list_json(&g->apps[0][0], STORE_ID_MAX, g->n_apps),
	    "on_sensitive", g->on_sensitive[0] ? g->on_sensitive : "block");
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(o);
	return text;
}

/* A non-negative integer member no greater than max; 0 when absent. */
static int
jnum(const json_t *o, const char *k, long long max, long long *v)
{
	const json_t *x = json_object_get(o, k);

	*v = 0;
	if (x == NULL)
		return 0;
	if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > max)
		return SB_EINVAL;
	*v = json_integer_value(x);
	return 0;
}

int
store_grant_parse(const char *text, size_t len, struct store_grant *g)
{
	long long pd, pm, from, to, hours, days, k;
	json_t *o, *ap;
	int rc;

	memset(&g->n_doc_types, 0, sizeof(*g) - offsetof(struct store_grant, n_doc_types));
	snprintf(g->confirm, sizeof(g->confirm), "none");
	snprintf(g->on_sensitive, sizeof(g->on_sensitive), "block");
	if (len == 0)
		return 0;	/* made before conditions existed: none */
	if ((o = json_loadb(text, len, 0, NULL)) == NULL || !json_is_object(o)) {
		json_decref(o);
		return SB_EINVAL;
	}
	ap = json_object_get(o, "approval");
	rc = grant_list_from_json(json_object_get(o, "doc_types"), &g->doc_types[0][0],
	    STORE_DOCTYPE_MAX, STORE_GRANT_LIST_MAX, &g->n_doc_types);
	if (rc == 0)
		rc = grant_list_from_json(json_object_get(o, "apps"), &g->apps[0][0],
		    STORE_ID_MAX, STORE_GRANT_LIST_MAX, &g->n_apps);
	if (rc == 0 && (jnum(o, "per_day", UINT32_MAX, &pd) != 0 ||
	    jnum(o, "per_month", UINT32_MAX, &pm) != 0 ||
	    jnum(o, "valid_from", INT64_MAX, &from) != 0 ||
	    jnum(o, "valid_to", INT64_MAX, &to) != 0 ||
	    jnum(o, "hours", (1 << 24) - 1, &hours) != 0 || jnum(o, "days", 127, &days) != 0 ||
	    (ap != NULL && jnum(ap, "k", 255, &k) != 0)))
		rc = SB_EINVAL;
	if (rc == 0) {
		g->per_day = (uint32_t)pd;
		g->per_month = (uint32_t)pm;
		g->valid_from = from;
		g->valid_to = to;
		g->hours = (uint32_t)hours;
		g->days = (uint8_t)days;
		g->approval_k = ap != NULL ? (unsigned)k : 0;
		if (ap != NULL)
			jstr(ap, "group", g->approval_group, sizeof(g->approval_group));
		if (json_object_get(o, "confirm") != NULL)
			jstr(o, "confirm", g->confirm, sizeof(g->confirm));
		if (strcmp(g->confirm, "none") != 0 && strcmp(g->confirm, "totp") != 0)
			rc = SB_EINVAL;
		if (json_object_get(o, "on_sensitive") != NULL)
			jstr(o, "on_sensitive", g->on_sensitive, sizeof(g->on_sensitive));
		if (strcmp(g->on_sensitive, "block") != 0 &&
		    strcmp(g->on_sensitive, "approval") != 0)
			rc = SB_EINVAL;
	}
	json_decref(o);
	return rc;
}

int
store_grant_put(struct store *st, const struct store_grant *g)
{
	char key[2 * STORE_ID_MAX + 2], *text;
	size_t n = two_key(g->seal, g->principal, key, sizeof(key));
	int rc;

	if (n == 0)
		return SB_EINVAL;
	if ((text = store_grant_text(g)) == NULL)
		return SB_ENOMEM;
	rc = store_put(st, DB_GRANTS, key, n, text, strlen(text), MDB_NOOVERWRITE);
	free(text);
	return rc;
}

int
store_grant_get(struct store *st, const char *seal, const char *principal,
    struct store_grant *g)
{
	char key[2 * STORE_ID_MAX + 2], *text;
	size_t n = two_key(seal, principal, key, sizeof(key)), len = 0;
	int rc;

	memset(g, 0, sizeof(*g));
	if (n == 0)
		return SB_ENOTFOUND;
	if ((rc = store_get(st, DB_GRANTS, key, n, &text, &len)) != 0)
		return rc;
	snprintf(g->seal, sizeof(g->seal), "%s", seal);
	snprintf(g->principal, sizeof(g->principal), "%s", principal);
	rc = store_grant_parse(text, len, g);
	free(text);
	if (rc != 0)
		log_err("store: the grant of %s on %s is damaged", principal, seal);
	return rc != 0 ? SB_EIO : 0;
}

/* ---- quota counters ------------------------------------------------------- */

/* The counter keys of (seal, principal) at now: its UTC day and month. */
static int
quota_keys(const char *seal, const char *principal, long long now, char day[160],
    size_t *dl, char month[160], size_t *ml)
{
	time_t t = (time_t)now;
	struct tm tm;
	int n;

	if (gmtime_r(&t, &tm) == NULL)
		return SB_EINVAL;
	n = snprintf(day, 160, "%s%c%s%cd%04d%02d%02d", seal, '\0', principal, '\0',
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	if (n < 0 || n >= 160)
		return SB_EINVAL;
	*dl = (size_t)n;
	memcpy(month, day, *dl);
	month[*dl - 9] = 'm';		/* "dYYYYMMDD" -> "mYYYYMM" */
	*ml = *dl - 2;
	return 0;
}

static uint32_t
quota_count(MDB_txn *txn, MDB_dbi dbi, const char *k, size_t kl, int *mrc)
{
	MDB_val key = { kl, (void *)k }, val;
	const uint8_t *b;

	*mrc = mdb_get(txn, dbi, &key, &val);
	if (*mrc == MDB_NOTFOUND) {
		*mrc = 0;
		return 0;
	}
	if (*mrc != 0)
		return 0;
	if (val.mv_size != 4) {
		*mrc = MDB_CORRUPTED;
		return 0;
	}
	b = val.mv_data;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int
quota_put(MDB_txn *txn, MDB_dbi dbi, const char *k, size_t kl, uint32_t n)
{
	uint8_t b[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	MDB_val key = { kl, (void *)k }, val = { 4, b };

	return mdb_put(txn, dbi, &key, &val, 0);
}

/* Read (and, when take, check and count) in txn; SB_ELIMIT when over. */
static int
quota_in(MDB_txn *txn, struct store *st, const char *seal, const char *principal,
    long long now, const uint32_t lim[2], int take, struct store_quota *q)
{
	char dk[160], mk[160];
	size_t dl, ml;
	int mrc = 0;

	memset(q, 0, sizeof(*q));
	if (quota_keys(seal, principal, now, dk, &dl, mk, &ml) != 0)
		return SB_EINVAL;
	q->day = quota_count(txn, st->dbi[DB_QUOTA], dk, dl, &mrc);
	if (mrc == 0)
		q->month = quota_count(txn, st->dbi[DB_QUOTA], mk, ml, &mrc);
	if (mrc != 0)
		return store_rc(mrc, "policy/quota");
	if (!take)
		return 0;
	if (lim[0] != 0 && q->day >= lim[0])
		q->over = 'd';
	else if (lim[1] != 0 && q->month >= lim[1])
		q->over = 'm';
	if (q->over)
		return SB_ELIMIT;
	if ((mrc = quota_put(txn, st->dbi[DB_QUOTA], dk, dl, q->day + 1)) != 0 ||
	    (mrc = quota_put(txn, st->dbi[DB_QUOTA], mk, ml, q->month + 1)) != 0)
		return store_rc(mrc, "policy/quota");
	q->day++;
	q->month++;
	return 0;
}

int
store_quota_take(struct store *st, const char *seal, const char *principal,
    long long now, uint32_t per_day, uint32_t per_month, struct store_quota *q)
{
	const uint32_t lim[2] = { per_day, per_month };
	MDB_txn *txn;
	int mrc, rc;

	memset(q, 0, sizeof(*q));
	if (per_day == 0 && per_month == 0)
		return 0;
	/* The check and the count are one write transaction: LMDB lets one
	 * writer in at a time, so no two takes see the same count. */
	if ((mrc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((rc = quota_in(txn, st, seal, principal, now, lim, 1, q)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return store_rc(mdb_txn_commit(txn), "commit");
}

int
store_quota_get(struct store *st, const char *seal, const char *principal,
    long long now, struct store_quota *q)
{
	const uint32_t lim[2] = { 0, 0 };
	MDB_txn *txn;
	int mrc, rc;

	memset(q, 0, sizeof(*q));
	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	rc = quota_in(txn, st, seal, principal, now, lim, 0, q);
	mdb_txn_abort(txn);
	return rc;
}

/* ---- units and exclusive role pairs -------------------------------------- */

int
store_unit_get(struct store *st, const char *id, struct store_unit *u)
{
	char *text;
	json_t *o;
	int rc;

	memset(u, 0, sizeof(*u));
	if ((rc = store_get(st, DB_UNITS, id, strlen(id), &text, NULL)) != 0)
		return rc;
	o = json_loads(text, 0, NULL);
	free(text);
	if (o == NULL)
		return SB_EIO;
	jstr(o, "id", u->id, sizeof(u->id));
	jstr(o, "name", u->name, sizeof(u->name));
	jstr(o, "parent", u->parent, sizeof(u->parent));
	json_decref(o);
	return 0;
}

int
store_unit_add(struct store *st, const struct store_unit *u)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "id", u->id, "name", u->name, "parent", u->parent);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int rc;

	json_decref(o);
	if (text == NULL)
		return SB_ENOMEM;
	rc = store_put(st, DB_UNITS, u->id, strlen(u->id), text, strlen(text), MDB_NOOVERWRITE);
	free(text);
	return rc;
}

/* Calls fn(arg, key, value) for each record of db in key order (newest
 * first when reverse), at most STORE_SEALS_MAX, until it returns non-zero
 * (returned). */
static int
store_walk(struct store *st, int db, int reverse,
    int (*fn)(void *, const MDB_val *, const MDB_val *), void *arg)
{
	MDB_cursor_op first = reverse ? MDB_LAST : MDB_FIRST, next = reverse ? MDB_PREV : MDB_NEXT;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int mrc, rc = 0, n = 0;

	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((mrc = mdb_cursor_open(txn, st->dbi[db], &cur)) != 0) {
		mdb_txn_abort(txn);
		return store_rc(mrc, "cursor");
	}
	for (mrc = mdb_cursor_get(cur, &k, &v, first); mrc == 0 && rc == 0 &&
	    n < STORE_SEALS_MAX; mrc = mdb_cursor_get(cur, &k, &v, next), n++)
		rc = fn(arg, &k, &v);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

static int
store_each(struct store *st, int db, int (*fn)(void *, const MDB_val *, const MDB_val *),
    void *arg)
{
	return store_walk(st, db, 0, fn, arg);
}

struct each_arg {
	int (*unit)(void *arg, const struct store_unit *u);
	int (*principal)(void *arg, const struct store_principal *p);
	int (*pair)(void *arg, const char *a, const char *b);
	int (*grant)(void *arg, const struct store_grant *g);
	void *arg;
};

static int
unit_one(void *a, const MDB_val *k, const MDB_val *v)
{
	struct each_arg *e = a;
	struct store_unit u;
	char *text = strndup(v->mv_data, v->mv_size);
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;

	(void)k;
	free(text);
	if (o == NULL)
		return SB_EIO;
	memset(&u, 0, sizeof(u));
	jstr(o, "id", u.id, sizeof(u.id));
	jstr(o, "name", u.name, sizeof(u.name));
	jstr(o, "parent", u.parent, sizeof(u.parent));
	json_decref(o);
	return e->unit(e->arg, &u);
}

int
store_unit_each(struct store *st, int (*fn)(void *arg, const struct store_unit *u), void *arg)
{
	struct each_arg e = { .unit = fn, .arg = arg };

	return store_each(st, DB_UNITS, unit_one, &e);
}

static int
principal_one(void *a, const MDB_val *k, const MDB_val *v)
{
	struct each_arg *e = a;
	struct store_principal p;
	char *text = strndup(v->mv_data, v->mv_size);
	int rc;

	(void)k;
	if (text == NULL)
		return SB_ENOMEM;
	rc = principal_from_json(text, &p);
	free(text);
	return rc != 0 ? rc : e->principal(e->arg, &p);
}

int
store_principal_each(struct store *st, int (*fn)(void *arg, const struct store_principal *p),
    void *arg)
{
	struct each_arg e = { .principal = fn, .arg = arg };

	return store_each(st, DB_PRINCIPALS, principal_one, &e);
}

static int
grant_one(void *a, const MDB_val *k, const MDB_val *v)
{
	struct each_arg *e = a;
	struct store_grant g;
	const char *key = k->mv_data, *nul;
	size_t sl;

	memset(&g, 0, sizeof(g));
	nul = memchr(key, '\0', k->mv_size);
	if (nul == NULL || (sl = (size_t)(nul - key)) >= sizeof(g.seal) ||
	    k->mv_size - sl - 1 >= sizeof(g.principal))
		return SB_EIO;
	memcpy(g.seal, key, sl);
	memcpy(g.principal, nul + 1, k->mv_size - sl - 1);
	if (store_grant_parse(v->mv_data, v->mv_size, &g) != 0) {
		log_err("store: the grant of %s on %s is damaged", g.principal, g.seal);
		return SB_EIO;
	}
	return e->grant(e->arg, &g);
}

int
store_grant_each(struct store *st, int (*fn)(void *arg, const struct store_grant *g),
    void *arg)
{
	struct each_arg e = { .grant = fn, .arg = arg };

	return store_each(st, DB_GRANTS, grant_one, &e);
}

static int
pair_one(void *a, const MDB_val *k, const MDB_val *v)
{
	struct each_arg *e = a;
	char key[2 * STORE_ROLE_MAX + 2];
	size_t n = k->mv_size;

	(void)v;
	if (n >= sizeof(key) || memchr(k->mv_data, '\0', n) == NULL)
		return SB_EIO;
	memcpy(key, k->mv_data, n);
	key[n] = '\0';
	return e->pair(e->arg, key, key + strlen(key) + 1);
}

int
store_exclusion_each(struct store *st, int (*fn)(void *arg, const char *a, const char *b),
    void *arg)
{
	struct each_arg e = { .pair = fn, .arg = arg };

	return store_each(st, DB_EXCLUSIVE, pair_one, &e);
}

int
store_exclusive(struct store *st, const char *a, const char *b)
{
	char key[2 * STORE_ROLE_MAX + 2];
	size_t n = pair_key(a, b, key, sizeof(key));

	return n == 0 ? SB_ENOTFOUND : store_has(st, DB_EXCLUSIVE, key, n);
}

int
store_image_put(struct store *st, const char *sha_hex, const uint8_t *png, size_t len)
{
	return store_put(st, DB_IMAGES, sha_hex, strlen(sha_hex), png, len, 0);
}

int
store_image_get(struct store *st, const char *sha_hex, uint8_t **png, size_t *len)
{
	char *v = NULL;
	int rc = store_get(st, DB_IMAGES, sha_hex, strlen(sha_hex), &v, len);

	*png = (uint8_t *)v;
	return rc;
}

/* ---- requests ----------------------------------------------------------- */

static void
request_key(uint64_t n, uint8_t key[8])
{
	for (int i = 7; i >= 0; i--, n >>= 8)
		key[i] = (uint8_t)n;
}

int
store_request_last(struct store *st, uint64_t *n)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int mrc;

	*n = 0;
	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((mrc = mdb_cursor_open(txn, st->dbi[DB_REQUESTS], &cur)) != 0) {
		mdb_txn_abort(txn);
		return store_rc(mrc, "cursor");
	}
	mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (mrc == 0 && k.mv_size == 8)
		for (size_t i = 0; i < 8; i++)
			*n = (*n << 8) | ((const uint8_t *)k.mv_data)[i];
	else if (mrc == 0)
		mrc = MDB_CORRUPTED;
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return mrc == MDB_NOTFOUND ? 0 : store_rc(mrc, "policy/requests");
}

int
store_request_get(struct store *st, uint64_t n, char **text)
{
	uint8_t key[8];

	request_key(n, key);
	return store_get(st, DB_REQUESTS, key, sizeof(key), text, NULL);
}

/* The seal record of w->seal with the state, unit and certificate w sets
 * (each when not NULL), as new text. */
static int
seal_restate(MDB_txn *txn, struct store *st, const struct store_request_write *w, char **out)
{
	const char *id = w->seal, *state = w->seal_state, *unit = w->seal_unit;
	char csha[65];
	MDB_val k = { strlen(id), (void *)id }, v;
	json_t *o;
	int mrc;

	*out = NULL;
	if ((mrc = mdb_get(txn, st->dbi[DB_SEALS], &k, &v)) != 0)
		return store_rc(mrc, "policy/seals");
	if ((o = json_loadb(v.mv_data, v.mv_size, 0, NULL)) == NULL || !json_is_object(o)) {
		json_decref(o);
		return SB_EIO;
	}
	if (w->seal_cert_pem != NULL)
		hex(w->seal_cert_sha256, 32, csha);
	if ((state == NULL || json_object_set_new(o, "state", json_string(state)) == 0) &&
	    (unit == NULL || json_object_set_new(o, "unit", json_string(unit)) == 0) &&
	    (w->seal_cert_pem == NULL || (json_object_set_new(o, "certificate",
	    json_string(w->seal_cert_pem)) == 0 && json_object_set_new(o, "cert_sha256",
	    json_string(csha)) == 0)))
		*out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return *out == NULL ? SB_ENOMEM : 0;
}

int
store_request_pending(struct store *st, const char *seal, uint64_t *n)
{
	size_t len = 0;
	char *v;
	int rc;

	*n = 0;
	if ((rc = store_get(st, DB_PENDING, seal, strlen(seal), &v, &len)) != 0)
		return rc;
	if (len != 8)
		rc = SB_EIO;
	for (size_t i = 0; rc == 0 && i < 8; i++)
		*n = (*n << 8) | (uint8_t)v[i];
	free(v);
	return rc;
}

int
store_request_put(struct store *st, const struct store_request_write *w)
{
	MDB_val k, v;
	MDB_txn *txn;
	uint8_t key[8];
	char *sealtext = NULL;
	int mrc, rc;

	request_key(w->n, key);
	if ((mrc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return store_rc(mrc, "begin");
	if (w->seal != NULL && (rc = seal_restate(txn, st, w, &sealtext)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	k.mv_size = sizeof(key);
	k.mv_data = key;
	v.mv_size = strlen(w->text);
	v.mv_data = (void *)w->text;
	mrc = mdb_put(txn, st->dbi[DB_REQUESTS], &k, &v, w->add ? MDB_NOOVERWRITE : 0);
	if (mrc == 0 && sealtext != NULL) {
		k.mv_size = strlen(w->seal);
		k.mv_data = (void *)w->seal;
		v.mv_size = strlen(sealtext);
		v.mv_data = sealtext;
		mrc = mdb_put(txn, st->dbi[DB_SEALS], &k, &v, 0);
	}
	if (mrc == 0 && w->seal_cert_pem != NULL) {
		uint8_t ck[33];

		ck[0] = 'c';
		memcpy(ck + 1, w->seal_cert_sha256, 32);
		k.mv_size = sizeof(ck);
		k.mv_data = ck;
		v.mv_size = strlen(w->seal);
		v.mv_data = (void *)w->seal;
		mrc = mdb_put(txn, st->dbi[DB_SIGS], &k, &v, 0);
	}
	if (mrc == 0 && w->ungrant_seal != NULL) {
		char gk[2 * STORE_ID_MAX + 2];

		k.mv_size = two_key(w->ungrant_seal, w->ungrant_principal, gk, sizeof(gk));
		k.mv_data = gk;
		mrc = k.mv_size == 0 ? MDB_NOTFOUND : mdb_del(txn, st->dbi[DB_GRANTS], &k, NULL);
	}
	if (mrc == 0 && w->pending_seal != NULL) {
		k.mv_size = strlen(w->pending_seal);
		k.mv_data = (void *)w->pending_seal;
		v.mv_size = sizeof(key);
		v.mv_data = key;
		if (w->pending)
			mrc = mdb_put(txn, st->dbi[DB_PENDING], &k, &v, MDB_NOOVERWRITE);
		else if ((mrc = mdb_get(txn, st->dbi[DB_PENDING], &k, &v)) == MDB_NOTFOUND)
			mrc = 0;	/* the seal has no pending request */
		else if (mrc == 0 && v.mv_size == sizeof(key) && memcmp(v.mv_data, key, 8) == 0)
			mrc = mdb_del(txn, st->dbi[DB_PENDING], &k, NULL);
		/* else another request is the seal's pending one: leave it */
	}
	free(sealtext);
	if (mrc != 0) {
		mdb_txn_abort(txn);
		return store_rc(mrc, "policy/requests");
	}
	return store_rc(mdb_txn_commit(txn), "commit");
}

struct request_each_arg {
	int (*fn)(void *arg, const char *text, size_t len);
	void *arg;
};

static int
request_one(void *a, const MDB_val *k, const MDB_val *v)
{
	struct request_each_arg *r = a;

	(void)k;
	return r->fn(r->arg, v->mv_data, v->mv_size);
}

int
store_request_each(struct store *st, int (*fn)(void *arg, const char *text, size_t len),
    void *arg)
{
	struct request_each_arg r = { fn, arg };

	return store_walk(st, DB_REQUESTS, 1, request_one, &r);
}

/* ---- databases opened on first use ---------------------------------------
 * TOTP records, sensitive words and admin accounts each have a database of
 * their own, outside STORE_DBS, opened the first time they are needed. */

static pthread_mutex_t lazy_open_lock = PTHREAD_MUTEX_INITIALIZER;

static int
lazy_dbi(struct store *st, const char *name, int *opened, MDB_dbi *slot, MDB_dbi *dbi)
{
	MDB_txn *txn;
	int mrc = 0;

	pthread_mutex_lock(&lazy_open_lock);
	if (!*opened) {
		if ((mrc = mdb_txn_begin(st->env, NULL, 0, &txn)) == 0) {
			mrc = mdb_dbi_open(txn, name, MDB_CREATE, slot);
			mrc = mrc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), mrc);
		}
		*opened = mrc == 0;
	}
	*dbi = *slot;
	pthread_mutex_unlock(&lazy_open_lock);
	return store_rc(mrc, name);
}

/* ---- TOTP records (daemon/monitor/mon_totp.c) ------------------------------
 * A database of its own, "policy/totp", opened on first use (its room is
 * STORE_TOTP_DBS, outside STORE_DBS). The values are sealed by the caller;
 * the store only keeps bytes and swaps them atomically. */

static int
totp_dbi(struct store *st, MDB_dbi *dbi)
{
	return lazy_dbi(st, STORE_TOTP_DB, &st->totp_open, &st->totp_dbi, dbi);
}

int
store_totp_get(struct store *st, const char *name, uint8_t *buf, size_t cap, size_t *len)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	MDB_txn *txn;
	MDB_dbi dbi;
	int mrc, rc;

	*len = 0;
	if ((rc = totp_dbi(st, &dbi)) != 0)
		return rc;
	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((mrc = mdb_get(txn, dbi, &k, &v)) == 0) {
		if (v.mv_size > cap) {
			mdb_txn_abort(txn);
			return SB_ELIMIT;
		}
		memcpy(buf, v.mv_data, v.mv_size);
		*len = v.mv_size;
	}
	mdb_txn_abort(txn);
	return store_rc(mrc, STORE_TOTP_DB);
}

int
store_totp_swap(struct store *st, const char *name, const uint8_t *old, size_t oldlen,
    const uint8_t *rec, size_t len)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	MDB_txn *txn;
	MDB_dbi dbi;
	int mrc, rc;

	if (len == 0 || len > STORE_TOTP_MAX || k.mv_size == 0 || k.mv_size >= STORE_ID_MAX)
		return SB_EINVAL;
	if ((rc = totp_dbi(st, &dbi)) != 0)
		return rc;
	if ((mrc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return store_rc(mrc, "begin");
	mrc = mdb_get(txn, dbi, &k, &v);
	if (mrc != 0 && mrc != MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return store_rc(mrc, STORE_TOTP_DB);
	}
	/* The record must still be what the caller read (or still absent). */
	if (old == NULL ? mrc == 0 : mrc != 0 || v.mv_size != oldlen ||
	    memcmp(v.mv_data, old, oldlen) != 0) {
		mdb_txn_abort(txn);
		return SB_ESTATE;
	}
	v.mv_size = len;
	v.mv_data = (void *)rec;
	if ((mrc = mdb_put(txn, dbi, &k, &v, 0)) != 0) {
		mdb_txn_abort(txn);
		return store_rc(mrc, STORE_TOTP_DB);
	}
	return store_rc(mdb_txn_commit(txn), "commit");
}

int
store_totp_delete(struct store *st, const char *name)
{
	MDB_val k = { strlen(name), (void *)name };
	MDB_txn *txn;
	MDB_dbi dbi;
	int mrc, rc;

	if (k.mv_size == 0 || k.mv_size >= STORE_ID_MAX)
		return SB_EINVAL;
	if ((rc = totp_dbi(st, &dbi)) != 0)
		return rc;
	if ((mrc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((mrc = mdb_del(txn, dbi, &k, NULL)) != 0 && mrc != MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return store_rc(mrc, STORE_TOTP_DB);
	}
	return store_rc(mdb_txn_commit(txn), "commit");
}

/* ---- the sensitive-word library (daemon/monitor/mon_words.c) ----------------
 * A database of its own, "policy/words", opened on first use (its room is
 * STORE_WORDS_DBS, outside STORE_DBS):
 *   "i" || n (8 bytes, big-endian)  -> {"id":"w-n","word","norm","category","created"}
 *   "n" || normal form              -> n (8 bytes): no two words alike
 *   "c"                             -> the next n (8 bytes): numbers are never reused
 */

static int
words_dbi(struct store *st, MDB_dbi *dbi)
{
	return lazy_dbi(st, STORE_WORDS_DB, &st->words_open, &st->words_dbi, dbi);
}

static void
word_be(uint64_t n, uint8_t out[8])
{
	for (int i = 7; i >= 0; i--, n >>= 8)
		out[i] = (uint8_t)n;
}

static uint64_t
word_unbe(const uint8_t in[8])
{
	uint64_t n = 0;

	for (int i = 0; i < 8; i++)
		n = n << 8 | in[i];
	return n;
}

/* The next number and the count, inside txn. */
static int
words_next_txn(MDB_txn *txn, MDB_dbi dbi, uint64_t *next, size_t *count)
{
	MDB_val k = { 1, (void *)"c" }, v;
	MDB_stat ms;
	int mrc, have;

	if ((mrc = mdb_get(txn, dbi, &k, &v)) != 0 && mrc != MDB_NOTFOUND)
		return store_rc(mrc, STORE_WORDS_DB);
	have = mrc == 0;
	if (have && v.mv_size != 8)
		return SB_EIO;
	*next = have ? word_unbe(v.mv_data) : 1;
	if ((mrc = mdb_stat(txn, dbi, &ms)) != 0)
		return store_rc(mrc, STORE_WORDS_DB);
	*count = (ms.ms_entries - (size_t)have) / 2;
	return 0;
}

int
store_word_next(struct store *st, uint64_t *next, size_t *count)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	int mrc, rc;

	if ((rc = words_dbi(st, &dbi)) != 0)
		return rc;
	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	rc = words_next_txn(txn, dbi, next, count);
	mdb_txn_abort(txn);
	return rc;
}

static char *
word_text(const struct store_word *w)
{
	char id[32];
	json_t *o;
	char *t;

	snprintf(id, sizeof(id), "w-%llu", (unsigned long long)w->n);
	o = json_pack("{s:s,s:s,s:s,s:s,s:I}", "id", id, "word", w->word, "norm", w->norm,
	    "category", w->category, "created", (json_int_t)w->created_ms);
	t = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return t;
}

static int
word_parse(uint64_t n, const void *text, size_t len, struct store_word *w)
{
	json_t *o = json_loadb(text, len, 0, NULL);
	const char *word, *norm, *cat;
	int rc = SB_EIO;

	memset(w, 0, sizeof(*w));
	w->n = n;
	word = json_string_value(json_object_get(o, "word"));
	norm = json_string_value(json_object_get(o, "norm"));
	cat = json_string_value(json_object_get(o, "category"));
	if (word != NULL && norm != NULL && cat != NULL && strlen(word) <= STORE_WORD_MAX &&
	    strlen(norm) <= STORE_WORD_MAX && strlen(cat) < STORE_WORD_CAT_MAX) {
		memcpy(w->word, word, strlen(word) + 1);
		memcpy(w->norm, norm, strlen(norm) + 1);
		memcpy(w->category, cat, strlen(cat) + 1);
		w->created_ms = json_integer_value(json_object_get(o, "created"));
		rc = 0;
	}
	json_decref(o);
	if (rc != 0)
		log_err("store: word w-%llu is damaged", (unsigned long long)n);
	return rc;
}

int
store_word_add(struct store *st, const struct store_word *w)
{
	uint8_t ik[9] = { 'i' }, nk[1 + STORE_WORD_MAX] = { 'n' }, nb[8], cb[8];
	size_t nl = strlen(w->norm), count;
	MDB_val k, v;
	uint64_t next;
	MDB_txn *txn;
	MDB_dbi dbi;
	char *text;
	int mrc, rc;

	if (nl == 0 || nl > STORE_WORD_MAX || w->n == 0 || w->n == UINT64_MAX)
		return SB_EINVAL;
	if ((rc = words_dbi(st, &dbi)) != 0)
		return rc;
	if ((text = word_text(w)) == NULL)
		return SB_ENOMEM;
	if ((mrc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0) {
		free(text);
		return store_rc(mrc, "begin");
	}
	rc = words_next_txn(txn, dbi, &next, &count);
	if (rc == 0 && next != w->n)
		rc = SB_ESTATE;
	if (rc == 0 && count >= STORE_WORDS_MAX)
		rc = SB_ELIMIT;
	word_be(w->n, ik + 1);
	word_be(w->n, nb);
	word_be(w->n + 1, cb);
	memcpy(nk + 1, w->norm, nl);
	if (rc == 0) {
		k = (MDB_val){ 1 + nl, nk };
		v = (MDB_val){ 8, nb };
		mrc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
		if (mrc == 0) {
			k = (MDB_val){ 9, ik };
			v = (MDB_val){ strlen(text), text };
			mrc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
		}
		if (mrc == 0) {
			k = (MDB_val){ 1, (void *)"c" };
			v = (MDB_val){ 8, cb };
			mrc = mdb_put(txn, dbi, &k, &v, 0);
		}
		rc = store_rc(mrc, STORE_WORDS_DB);
	}
	free(text);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return store_rc(mdb_txn_commit(txn), "commit");
}

int
store_word_get(struct store *st, uint64_t n, struct store_word *w)
{
	uint8_t ik[9] = { 'i' };
	MDB_val k = { 9, ik }, v;
	MDB_txn *txn;
	MDB_dbi dbi;
	int mrc, rc;

	word_be(n, ik + 1);
	if ((rc = words_dbi(st, &dbi)) != 0)
		return rc;
	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((mrc = mdb_get(txn, dbi, &k, &v)) == 0)
		rc = word_parse(n, v.mv_data, v.mv_size, w);
	else
		rc = store_rc(mrc, STORE_WORDS_DB);
	mdb_txn_abort(txn);
	return rc;
}

int
store_word_find(struct store *st, const char *norm, uint64_t *n)
{
	uint8_t nk[1 + STORE_WORD_MAX] = { 'n' };
	size_t nl = strlen(norm);
	MDB_val k = { 1 + nl, nk }, v;
	MDB_txn *txn;
	MDB_dbi dbi;
	int mrc, rc;

	if (nl == 0 || nl > STORE_WORD_MAX)
		return SB_ENOTFOUND;
	memcpy(nk + 1, norm, nl);
	if ((rc = words_dbi(st, &dbi)) != 0)
		return rc;
	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((mrc = mdb_get(txn, dbi, &k, &v)) == 0 && v.mv_size != 8)
		rc = SB_EIO;
	else if (mrc == 0)
		*n = word_unbe(v.mv_data);
	else
		rc = store_rc(mrc, STORE_WORDS_DB);
	mdb_txn_abort(txn);
	return rc;
}

int
store_word_remove(struct store *st, uint64_t n)
{
	uint8_t ik[9] = { 'i' }, nk[1 + STORE_WORD_MAX] = { 'n' };
	MDB_val k = { 9, ik }, v;
	struct store_word w;
	MDB_txn *txn;
	MDB_dbi dbi;
	int mrc, rc;

	word_be(n, ik + 1);
	if ((rc = words_dbi(st, &dbi)) != 0)
		return rc;
	if ((mrc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((mrc = mdb_get(txn, dbi, &k, &v)) != 0)
		rc = store_rc(mrc, STORE_WORDS_DB);
	else
		rc = word_parse(n, v.mv_data, v.mv_size, &w);
	if (rc == 0) {
		size_t nl = strlen(w.norm);
		MDB_val kn = { 1 + nl, nk };

		memcpy(nk + 1, w.norm, nl);
		if ((mrc = mdb_del(txn, dbi, &k, NULL)) == 0)
			mrc = mdb_del(txn, dbi, &kn, NULL);
		rc = store_rc(mrc, STORE_WORDS_DB);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return store_rc(mdb_txn_commit(txn), "commit");
}

int
store_word_each(struct store *st, int (*fn)(void *arg, const struct store_word *w), void *arg)
{
	uint8_t first[9] = { 'i' };
	MDB_val k = { 9, first }, v;
	struct store_word w;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_dbi dbi;
	size_t seen = 0;
	int mrc, rc;

	if ((rc = words_dbi(st, &dbi)) != 0)
		return rc;
	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((mrc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		mdb_txn_abort(txn);
		return store_rc(mrc, STORE_WORDS_DB);
	}
	mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && mrc == 0 && seen < STORE_WORDS_MAX) {
		if (k.mv_size != 9 || ((const uint8_t *)k.mv_data)[0] != 'i')
			break;
		if ((rc = word_parse(word_unbe((const uint8_t *)k.mv_data + 1), v.mv_data,
		    v.mv_size, &w)) == 0)
			rc = fn(arg, &w);
		seen++;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = store_rc(mrc, STORE_WORDS_DB);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

/* ---- console admin accounts (daemon/monitor/mon_console.c) ------------------
 * A database of its own, "admin/accounts", opened on first use (its room is
 * STORE_ADMIN_DBS, outside STORE_DBS): username -> {"user","role","hash",
 * "failures","locked_until","created","must_change"} ("must_change" absent:
 * false, as records made before it read). */

static int
admin_dbi(struct store *st, MDB_dbi *dbi)
{
	return lazy_dbi(st, STORE_ADMIN_DB, &st->admin_open, &st->admin_dbi, dbi);
}

static int
admin_parse(const void *data, size_t len, struct store_admin *a)
{
	json_t *o = json_loadb(data, len, 0, NULL);
	json_int_t f;

	memset(a, 0, sizeof(*a));
	if (o == NULL)
		return SB_EIO;
	jstr(o, "user", a->user, sizeof(a->user));
	jstr(o, "role", a->role, sizeof(a->role));
	jstr(o, "hash", a->hash, sizeof(a->hash));
	f = json_integer_value(json_object_get(o, "failures"));
	a->failures = f < 0 || f > UINT32_MAX ? 0 : (uint32_t)f;
	a->locked_until = (long long)json_integer_value(json_object_get(o, "locked_until"));
	a->created = (long long)json_integer_value(json_object_get(o, "created"));
	a->must_change = json_is_true(json_object_get(o, "must_change"));
	json_decref(o);
	return a->user[0] && a->hash[0] ? 0 : SB_EIO;
}

/* Write a's record in txn; mdb flags as mdb_put's. */
static int
admin_write(MDB_txn *txn, MDB_dbi dbi, const struct store_admin *a, unsigned flags)
{
	MDB_val k = { strlen(a->user), (void *)a->user }, v;
	json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:b}", "user", a->user, "role", a->role,
	    "hash", a->hash, "failures", (json_int_t)a->failures,
	    "locked_until", (json_int_t)a->locked_until, "created", (json_int_t)a->created,
	    "must_change", a->must_change);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int mrc;

	json_decref(o);
	if (text == NULL)
		return SB_ENOMEM;
	v.mv_size = strlen(text);
	v.mv_data = text;
	mrc = mdb_put(txn, dbi, &k, &v, flags);
	free(text);
	return store_rc(mrc, STORE_ADMIN_DB);
}

int
store_admin_get(struct store *st, const char *user, struct store_admin *a)
{
	MDB_val k = { strlen(user), (void *)user }, v;
	MDB_txn *txn;
	MDB_dbi dbi;
	int mrc, rc;

	if (k.mv_size == 0 || k.mv_size >= sizeof(a->user))
		return SB_ENOTFOUND;
	if ((rc = admin_dbi(st, &dbi)) != 0)
		return rc;
	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((mrc = mdb_get(txn, dbi, &k, &v)) == 0)
		rc = admin_parse(v.mv_data, v.mv_size, a);
	else
		rc = store_rc(mrc, STORE_ADMIN_DB);
	mdb_txn_abort(txn);
	return rc;
}

static int
admin_count_txn(MDB_txn *txn, MDB_dbi dbi, size_t *n)
{
	MDB_stat s;
	int mrc = mdb_stat(txn, dbi, &s);

	*n = mrc == 0 ? s.ms_entries : 0;
	return store_rc(mrc, STORE_ADMIN_DB);
}

int
store_admin_count(struct store *st, size_t *n)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	int mrc, rc;

	*n = 0;
	if ((rc = admin_dbi(st, &dbi)) != 0)
		return rc;
	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	rc = admin_count_txn(txn, dbi, n);
	mdb_txn_abort(txn);
	return rc;
}

/* Add (new: 1) or replace (new: 0) a's record in one write transaction. */
static int
admin_store(struct store *st, const struct store_admin *a, int is_new, int only_if_none)
{
	MDB_val k = { strlen(a->user), (void *)a->user }, v;
	MDB_txn *txn;
	MDB_dbi dbi;
	size_t n = 0;
	int mrc, rc;

	if (k.mv_size == 0 || k.mv_size >= sizeof(a->user) || a->hash[0] == '\0')
		return SB_EINVAL;
	if ((rc = admin_dbi(st, &dbi)) != 0)
		return rc;
	if ((mrc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return store_rc(mrc, "begin");
	if (is_new) {
		if ((rc = admin_count_txn(txn, dbi, &n)) == 0 && only_if_none && n > 0)
			rc = SB_EPERM;
		else if (rc == 0 && n >= STORE_ADMINS_MAX)
			rc = SB_ELIMIT;
		if (rc == 0)
			rc = admin_write(txn, dbi, a, MDB_NOOVERWRITE);
	} else {
		if ((rc = store_rc(mdb_get(txn, dbi, &k, &v), STORE_ADMIN_DB)) == 0)
			rc = admin_write(txn, dbi, a, 0);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return store_rc(mdb_txn_commit(txn), "commit");
}

int
store_admin_add(struct store *st, const struct store_admin *a, int only_if_none)
{
	return admin_store(st, a, 1, only_if_none);
}

int
store_admin_put(struct store *st, const struct store_admin *a)
{
	return admin_store(st, a, 0, 0);
}

/* ---- the secadmin's settings (STORE_SETTINGS_DB) ------------------------- */

#define ALERT_TH_KEY "alert_thresholds"

int
store_alert_thresholds_get(struct store *st, struct store_alert_thresholds *t)
{
	static const char *const keys[4] = { "burst_max", "burst_window", "refusals_max",
		"refusals_window" };
	uint32_t *f[4] = { &t->burst_max, &t->burst_window, &t->refusals_max,
		&t->refusals_window };
	MDB_val k = { sizeof(ALERT_TH_KEY) - 1, (void *)ALERT_TH_KEY }, v;
	MDB_txn *txn;
	MDB_dbi dbi;
	json_t *o = NULL;
	int mrc, rc;

	memset(t, 0, sizeof(*t));
	if ((rc = lazy_dbi(st, STORE_SETTINGS_DB, &st->settings_open, &st->settings_dbi,
	    &dbi)) != 0)
		return rc;
	if ((mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_rc(mrc, "begin");
	if ((mrc = mdb_get(txn, dbi, &k, &v)) == 0)
		o = json_loadb(v.mv_data, v.mv_size, 0, NULL);
	mdb_txn_abort(txn);
	if (mrc != 0)
		return store_rc(mrc, STORE_SETTINGS_DB);
	rc = o == NULL ? SB_EIO : 0;
	for (int i = 0; rc == 0 && i < 4; i++) {
		json_t *n = json_object_get(o, keys[i]);

		if (!json_is_integer(n) || json_integer_value(n) < 1 ||
		    json_integer_value(n) > UINT32_MAX)
			rc = SB_EIO;
		else
			*f[i] = (uint32_t)json_integer_value(n);
	}
	json_decref(o);
	if (rc != 0)
		log_err("store: the alert thresholds record is damaged");
	return rc;
}

int
store_alert_thresholds_put(struct store *st, const struct store_alert_thresholds *t)
{
	MDB_val k = { sizeof(ALERT_TH_KEY) - 1, (void *)ALERT_TH_KEY }, v;
	MDB_txn *txn;
	MDB_dbi dbi;
	json_t *o;
	char *text;
	int mrc, rc;

	if ((rc = lazy_dbi(st, STORE_SETTINGS_DB, &st->settings_open, &st->settings_dbi,
	    &dbi)) != 0)
		return rc;
	o = json_pack("{s:I,s:I,s:I,s:I}", "burst_max", (json_int_t)t->burst_max,
	    "burst_window", (json_int_t)t->burst_window, "refusals_max",
	    (json_int_t)t->refusals_max, "refusals_window", (json_int_t)t->refusals_window);
	text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (text == NULL)
		return SB_ENOMEM;
	v = (MDB_val){ strlen(text), text };
	if ((mrc = mdb_txn_begin(st->env, NULL, 0, &txn)) == 0) {
		mrc = mdb_put(txn, dbi, &k, &v, 0);
		mrc = mrc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), mrc);
	}
	free(text);
	return store_rc(mrc, STORE_SETTINGS_DB);
}
