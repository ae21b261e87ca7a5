/*
 * ledger: appends and reads, durability across reopen, stored nodes against
 * a recomputation, proofs, signed tree heads with a real EC key, group
 * commit under threads, the bounds, tamper detection (edits made with LMDB
 * directly, as tests/tools/ledger-tamper does) and recovery from a full map.
 */
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <lmdb.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <valgrind/valgrind.h>

#include "daemon/ledger/ledger.h"
#include "daemon/ledger/merkle.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "check.h"

#define H MERKLE_HASH_LEN

static char tmpdir[256];
static int dir_seq;
static EVP_PKEY *audit_key, *other_key;

/* ---- fixtures ----------------------------------------------------------- */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* A fresh directory name under the run's temporary directory. */
static void
new_dir(char *out, size_t len)
{
	snprintf(out, len, "%s/l%d", tmpdir, dir_seq++);
}

static json_t *
entry(int i, const char *seal)
{
	char name[64], digest[65];

	snprintf(name, sizeof(name), "contract-%d.pdf", i);
	for (int j = 0; j < 64; j++)
		digest[j] = "0123456789abcdef"[(i * 7 + j) % 16];
	digest[64] = '\0';
	return json_pack("{s:s, s:s, s:s, s:s*, s:s, s:s, s:s}", "actor", "erp",
	    "on_behalf_of", "alice", "action", "sign", "seal", seal,
	    "document_name", name, "document_digest", digest, "result", "ok");
}

static int
append(struct ledger *l, int i, const char *seal, uint64_t *seq, uint8_t leaf[H])
{
	json_t *e = entry(i, seal);
	int rc = ledger_append(l, e, seq, leaf);

	json_decref(e);
	return rc;
}

static int
sign_cb(void *arg, const uint8_t *msg, size_t len, uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, arg) == 1 &&
	    EVP_DigestSign(ctx, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : SB_ECRYPTO;
}

/* n entries, seals "A"/"B"/none in turn, and a tree head at each size in heads. */
static int
make_ledger(const char *dir, int n, const int *heads, int nheads)
{
	struct ledger *l;
	struct ledger_sth sth;
	uint64_t seq;
	int rc, h = 0;

	if ((rc = ledger_open(dir, NULL, &l)) != 0)
		return rc;
	for (int i = 0; i < n && rc == 0; i++) {
		if (h < nheads && heads[h] == i && (rc = ledger_sth_make(l, sign_cb,
		    audit_key, &sth)) != 0)
			break;
		h += h < nheads && heads[h] == i;
		rc = append(l, i, i % 3 == 0 ? "A" : i % 3 == 1 ? "B" : NULL, &seq, NULL);
	}
	if (rc == 0 && h < nheads && heads[h] == n)
		rc = ledger_sth_make(l, sign_cb, audit_key, &sth);
	ledger_close(l);
	return rc;
}

/* All stored entries' leaf hashes, read back through the API. */
static int
read_leaves(struct ledger *l, uint8_t *leaves, uint64_t n)
{
	struct buf b;
	int rc = 0;

	buf_init(&b, LEDGER_ENTRY_MAX);
	for (uint64_t i = 0; i < n && rc == 0; i++) {
		buf_reset(&b);
		if ((rc = ledger_entry_get(l, i, &b)) == 0)
			rc = merkle_leaf_hash(b.data, b.len, leaves + i * H);
	}
	buf_free(&b);
	return rc;
}

/* ---- LMDB behind the ledger's back -------------------------------------- */

struct raw {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
};

static int
raw_open(struct raw *r, const char *dir, const char *db)
{
	int rc;

	if ((rc = mdb_env_create(&r->env)) != 0)
		return rc;
	mdb_env_set_maxdbs(r->env, 16);
	if ((rc = mdb_env_open(r->env, dir, 0, 0600)) != 0 ||
	    (rc = mdb_txn_begin(r->env, NULL, 0, &r->txn)) != 0) {
		mdb_env_close(r->env);
		return rc;
	}
	if ((rc = mdb_dbi_open(r->txn, db, 0, &r->dbi)) != 0) {
		mdb_txn_abort(r->txn);
		mdb_env_close(r->env);
	}
	return rc;
}

static int
raw_close(struct raw *r)
{
	int rc = mdb_txn_commit(r->txn);

	mdb_env_close(r->env);
	return rc;
}

static void
key_of(uint8_t k[8], uint64_t seq)
{
	for (int i = 7; i >= 0; i--, seq >>= 8)
		k[i] = (uint8_t)seq;
}

/* Changes the character after `after` (a digit or a letter) to the next
 * one: still canonical JSON, another hash. */
static int
tamper_edit(const char *dir, uint64_t seq, const char *after)
{
	struct raw r;
	uint8_t k[8], buf[LEDGER_ENTRY_MAX];
	MDB_val key = { 8, k }, val;
	char *t;
	int rc;

	if ((rc = raw_open(&r, dir, LEDGER_DB_ENTRIES)) != 0)
		return rc;
	key_of(k, seq);
	if ((rc = mdb_get(r.txn, r.dbi, &key, &val)) == 0) {
		memcpy(buf, val.mv_data, val.mv_size);
		buf[val.mv_size] = '\0';
		t = strstr((char *)buf, after) + strlen(after);
		*t = *t == '9' ? '8' : (char)(*t + 1);
		val.mv_data = buf;
		rc = mdb_put(r.txn, r.dbi, &key, &val, 0);
	}
	return rc != 0 ? rc : raw_close(&r);
}

/* Runs build/tools/ledger-tamper (next to this test's directory). */
static char tool[PATH_MAX];

static int
run_tool(const char *dir, const char *op, const char *a, const char *b)
{
	const char *argv[] = { tool, dir, op, a, b, NULL };
	int status;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		execv(tool, (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int
tool_seq(const char *dir, const char *op, uint64_t a, uint64_t b)
{
	char sa[24], sb[24];

	snprintf(sa, sizeof(sa), "%llu", (unsigned long long)a);
	snprintf(sb, sizeof(sb), "%llu", (unsigned long long)b);
	return run_tool(dir, op, sa, strcmp(op, "swap") == 0 ? sb : NULL);
}

/* The careful forger: edits entry seq and rewrites every leaf and node above
 * it (and the time index), so that only a signed tree head can tell. */
static int
rehash_put(void *arg, unsigned level, uint64_t index, const uint8_t hash[H])
{
	struct raw *r = arg;
	uint8_t k[9];
	MDB_val key = { 9, k }, val = { H, (void *)hash };

	k[0] = (uint8_t)level;
	key_of(k + 1, index);
	return mdb_put(r->txn, r->dbi, &key, &val, 0);
}

static int
tamper_forge(const char *dir, uint64_t seq, uint64_t size)
{
	struct raw r;
	struct ledger *l;
	struct buf b;
	struct merkle_edge e;
	uint8_t leaf[H];
	int rc;

	if ((rc = tamper_edit(dir, seq, "\"document_name\":\"")) != 0)
		return rc;
	/* Leaf hashes read through the ledger, nodes written behind its back. */
	if ((rc = ledger_open(dir, NULL, &l)) != 0)
		return rc;
	if ((rc = raw_open(&r, dir, LEDGER_DB_NODES)) != 0) {
		ledger_close(l);
		return rc;
	}
	buf_init(&b, LEDGER_ENTRY_MAX);
	merkle_edge_init(&e);
	for (uint64_t i = 0; i < size && rc == 0; i++) {
		buf_reset(&b);
		if ((rc = ledger_entry_get(l, i, &b)) == 0 &&
		    (rc = merkle_leaf_hash(b.data, b.len, leaf)) == 0)
			rc = merkle_edge_append(&e, leaf, rehash_put, &r);
	}
	buf_free(&b);
	ledger_close(l);
	if (rc != 0) {
		mdb_txn_abort(r.txn);
		mdb_env_close(r.env);
		return rc;
	}
	return raw_close(&r);
}

/* ---- tests -------------------------------------------------------------- */

static void
test_append_get_round_trip(void)
{
	char dir[300];
	struct ledger *l;
	struct buf b;
	uint64_t seq, s, t;
	uint8_t leaf[H], want[H];
	json_t *e, *got, *j;
	int rc;

	new_dir(dir, sizeof(dir));
	CHECK_RC(ledger_open(dir, NULL, &l), 0);
	CHECK(ledger_size(l) == 0);
	e = entry(1, "official");
	rc = ledger_append(l, e, &seq, leaf);
	CHECK_RC(rc, 0);
	CHECK(seq == 0 && ledger_size(l) == 1);
	/* The ledger's own fields are set in the caller's object too. */
	CHECK(json_integer_value(json_object_get(e, "seq")) == 0);
	CHECK(json_integer_value(json_object_get(e, "time")) > 1600000000000LL);
	buf_init(&b, LEDGER_ENTRY_MAX);
	CHECK_RC(ledger_entry_get(l, 0, &b), 0);
	CHECK_RC(merkle_leaf_hash(b.data, b.len, want), 0);
	CHECK(memcmp(leaf, want, H) == 0);
	/* Compact, sorted keys: exactly what jansson writes for the object. */
	got = json_loadb((char *)b.data, b.len, 0, NULL);
	CHECK(got != NULL && json_equal(got, e));
	CHECK(strncmp((char *)b.data, "{\"action\":\"sign\",\"actor\":\"erp\",", 31) == 0);
	CHECK_RC(ledger_entry_parse(b.data, b.len, &s, &t, NULL), 0);
	CHECK(s == 0 && (json_int_t)t == json_integer_value(json_object_get(e, "time")));
	CHECK_RC(ledger_entry_json(l, 0, &j), 0);
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "entry"), "seal")),
	    "official");
	CHECK(json_integer_value(json_object_get(j, "seq")) == 0);
	CHECK(json_is_string(json_object_get(j, "leaf_input")));
	CHECK_RC(ledger_entry_get(l, 1, &b), SB_ENOTFOUND);
	json_decref(j);
	json_decref(got);
	json_decref(e);
	buf_free(&b);
	ledger_close(l);
}

static void
test_seq_increments_and_survives_reopen(void)
{
	char dir[300];
	struct ledger *l;
	uint64_t seq;
	uint8_t root[H], root2[H];
	json_t *arr;

	new_dir(dir, sizeof(dir));
	CHECK_RC(ledger_open(dir, NULL, &l), 0);
	for (int i = 0; i < 10; i++) {
		CHECK_RC(append(l, i, "A", &seq, NULL), 0);
		CHECK(seq == (uint64_t)i);
	}
	CHECK_RC(ledger_root(l, 10, root), 0);
	ledger_close(l);
	CHECK_RC(ledger_open(dir, NULL, &l), 0);
	CHECK(ledger_size(l) == 10);
	CHECK_RC(ledger_root(l, 10, root2), 0);
	CHECK(memcmp(root, root2, H) == 0);
	CHECK_RC(append(l, 10, NULL, &seq, NULL), 0);
	CHECK(seq == 10);
	CHECK_RC(ledger_entries(l, 8, 5, &arr), 0);
	CHECK(json_array_size(arr) == 3);
	CHECK(json_integer_value(json_object_get(json_array_get(arr, 2), "seq")) == 10);
	json_decref(arr);
	CHECK_RC(ledger_entries(l, 11, 5, &arr), 0);
	CHECK(json_array_size(arr) == 0);
	json_decref(arr);
	CHECK_RC(ledger_entries(l, UINT64_MAX, SIZE_MAX, &arr), 0);
	CHECK(json_array_size(arr) == 0);
	json_decref(arr);
	ledger_close(l);
	struct stat st;
	char path[400];
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
}

static void
test_stored_nodes_give_naive_roots(void)
{
	char dir[300];
	struct ledger *l;
	uint8_t leaves[70 * H], want[H], got[H];
	struct merkle_leaves t = { leaves, 0 };
	uint64_t seq;

	new_dir(dir, sizeof(dir));
	CHECK_RC(ledger_open(dir, NULL, &l), 0);
	for (int i = 0; i < 70; i++)
		CHECK_RC(append(l, i, NULL, &seq, NULL), 0);
	ledger_close(l);
	CHECK_RC(ledger_open(dir, NULL, &l), 0);
	CHECK_RC(read_leaves(l, leaves, 70), 0);
	for (uint64_t n = 0; n <= 70; n++) {
		t.count = n;
		CHECK_RC(merkle_root(merkle_leaves_node, &t, n, want), 0);
		CHECK_RC(ledger_root(l, n, got), 0);
		CHECK(memcmp(got, want, H) == 0);
	}
	CHECK_RC(ledger_root(l, 71, got), SB_ENOTFOUND);
	ledger_close(l);
}

static void
test_proofs_from_ledger_verify(void)
{
	char dir[300];
	struct ledger *l;
	uint8_t leaves[40 * H], roots[41][H], path[MERKLE_MAX_PATH * H];
	uint64_t seq;
	size_t n;
	int bad = 0;

	new_dir(dir, sizeof(dir));
	CHECK_RC(ledger_open(dir, NULL, &l), 0);
	for (int i = 0; i < 40; i++)
		CHECK_RC(append(l, i, "A", &seq, NULL), 0);
	CHECK_RC(read_leaves(l, leaves, 40), 0);
	for (uint64_t s = 0; s <= 40; s++)
		CHECK_RC(ledger_root(l, s, roots[s]), 0);
	for (uint64_t s = 1; s <= 40; s++) {
		for (uint64_t i = 0; i < s; i++) {
			CHECK_RC(ledger_inclusion_proof(l, i, s, path, &n), 0);
			bad += merkle_inclusion_verify(leaves + i * H, i, s, path, n, roots[s]) != 0;
			if (i + 1 < s)	/* another leaf's proof does not do */
				bad += merkle_inclusion_verify(leaves + (i + 1) * H, i, s, path, n,
				    roots[s]) == 0;
		}
		for (uint64_t m = 0; m <= s; m++) {
			CHECK_RC(ledger_consistency_proof(l, m, s, path, &n), 0);
			bad += merkle_consistency_verify(m, s, roots[m], roots[s], path, n) != 0;
		}
	}
	CHECK(bad == 0);
	CHECK_RC(ledger_inclusion_proof(l, 40, 40, path, &n), SB_EINVAL);
	CHECK_RC(ledger_inclusion_proof(l, 0, 41, path, &n), SB_ENOTFOUND);
	CHECK_RC(ledger_consistency_proof(l, 5, 4, path, &n), SB_EINVAL);
	CHECK_RC(ledger_consistency_proof(l, 5, 41, path, &n), SB_ENOTFOUND);
	ledger_close(l);
}

static void
test_sth_make_verify_json(void)
{
	char dir[300];
	struct ledger *l;
	struct ledger_sth sth, got, bad;
	uint8_t root[H];
	uint64_t seq;
	json_t *j;

	new_dir(dir, sizeof(dir));
	CHECK_RC(ledger_open(dir, NULL, &l), 0);
	CHECK_RC(ledger_sth_latest(l, &got), SB_ENOTFOUND);
	CHECK_RC(ledger_sth_make(l, sign_cb, audit_key, &sth), 0);	/* empty tree */
	CHECK(sth.tree_size == 0);
	CHECK_RC(ledger_sth_verify(&sth, audit_key), 0);
	for (int i = 0; i < 5; i++)
		CHECK_RC(append(l, i, NULL, &seq, NULL), 0);
	CHECK_RC(ledger_sth_make(l, sign_cb, audit_key, &sth), 0);
	CHECK(sth.tree_size == 5);
	CHECK_RC(ledger_root(l, 5, root), 0);
	CHECK(memcmp(sth.root, root, H) == 0);
	CHECK_RC(ledger_sth_verify(&sth, audit_key), 0);
	CHECK_RC(ledger_sth_verify(&sth, other_key), SB_ECRYPTO);
	bad = sth;
	bad.tree_size = 4;
	CHECK_RC(ledger_sth_verify(&bad, audit_key), SB_ECRYPTO);
	bad = sth;
	bad.root[0] ^= 1;
	CHECK_RC(ledger_sth_verify(&bad, audit_key), SB_ECRYPTO);
	bad = sth;
	bad.sig_len = 0;
	CHECK_RC(ledger_sth_verify(&bad, audit_key), SB_ECRYPTO);
	CHECK_RC(ledger_sth_latest(l, &got), 0);
	CHECK(memcmp(&got, &sth, sizeof(sth)) == 0);
	CHECK_RC(ledger_sth_get(l, 0, &got), 0);
	CHECK(got.tree_size == 0);
	CHECK_RC(ledger_sth_get(l, 3, &got), SB_ENOTFOUND);
	/* JSON both ways, and the strict reader. */
	CHECK_RC(ledger_sth_to_json(&sth, &j), 0);
	CHECK(json_object_size(j) == 4);
	memset(&got, 0, sizeof(got));
	CHECK_RC(ledger_sth_from_json(j, &got), 0);
	CHECK(memcmp(&got, &sth, sizeof(sth)) == 0);
	json_object_set_new(j, "root_hash", json_string("AAAA"));
	CHECK_RC(ledger_sth_from_json(j, &got), SB_EINVAL);
	json_object_set_new(j, "root_hash", json_string(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA A="));
	CHECK_RC(ledger_sth_from_json(j, &got), SB_EINVAL);
	json_object_set_new(j, "root_hash", json_string(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="));	/* non-zero pad bits */
	CHECK_RC(ledger_sth_from_json(j, &got), SB_EINVAL);
	json_object_set_new(j, "root_hash", json_string(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
	CHECK_RC(ledger_sth_from_json(j, &got), 0);
	json_object_set_new(j, "extra", json_true());
	CHECK_RC(ledger_sth_from_json(j, &got), SB_EINVAL);
	json_object_del(j, "extra");
	json_object_set_new(j, "tree_size", json_integer(-1));
	CHECK_RC(ledger_sth_from_json(j, &got), SB_EINVAL);
	json_object_set_new(j, "tree_size", json_integer(5));
	json_object_set_new(j, "signature", json_string(""));
	CHECK_RC(ledger_sth_from_json(j, &got), SB_EINVAL);
	json_decref(j);
	ledger_close(l);
}

#define THREADS 8

struct worker {
	struct ledger *l;
	int n, id, errors;
	uint64_t *seqs;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < w->n; i++)
		if (append(w->l, w->id * 100000 + i, i % 2 ? "A" : "B", &w->seqs[i], NULL) != 0)
			w->errors++;
	return NULL;
}

static void
test_concurrent_appends_group_commit(void)
{
	char dir[300], msg[256];
	struct ledger *l;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct ledger_stats st;
	int per = RUNNING_ON_VALGRIND ? 100 : 500, total = THREADS * per, errors = 0;
	uint8_t *seen = calloc((size_t)total, 1);
	uint64_t first_bad, seqs[LEDGER_LIST_MAX + 1];
	size_t n;
	json_t *arr;

	new_dir(dir, sizeof(dir));
	CHECK(seen != NULL);
	CHECK_RC(ledger_open(dir, NULL, &l), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ l, per, i, 0, calloc((size_t)per, sizeof(uint64_t)) };
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		errors += w[i].errors;
		for (int j = 0; j < per; j++)
			if (w[i].seqs[j] < (uint64_t)total)
				seen[w[i].seqs[j]]++;
		free(w[i].seqs);
	}
	CHECK(errors == 0);
	for (int i = 0; i < total; i++)
		CHECK(seen[i] == 1);
	free(seen);
	ledger_stats(l, &st);
	CHECK(st.size == (uint64_t)total && st.failed_commits == 0);
	CHECK(st.commits >= 1 && st.commits <= (uint64_t)total);
	printf("# %d entries in %llu commits\n", total, (unsigned long long)st.commits);
	CHECK_RC(ledger_verify(l, NULL, &first_bad, msg, sizeof(msg)), 0);
	CHECK(first_bad == (uint64_t)total);
	/* Listings are bounded. */
	CHECK_RC(ledger_entries(l, 0, 5000, &arr), 0);
	CHECK(json_array_size(arr) == (size_t)(total < LEDGER_LIST_MAX ? total : LEDGER_LIST_MAX));
	json_decref(arr);
	CHECK_RC(ledger_find_by_seal(l, "A", 0, seqs, LEDGER_LIST_MAX + 1, &n), 0);
	CHECK(n == (size_t)(total / 2 < LEDGER_LIST_MAX ? total / 2 : LEDGER_LIST_MAX));
	ledger_close(l);
}

static void
test_find_by_seal_and_time(void)
{
	char dir[300];
	struct ledger *l;
	uint64_t seq, seqs[50];
	size_t n;
	int bad = 0;

	new_dir(dir, sizeof(dir));
	CHECK_RC(ledger_open(dir, NULL, &l), 0);
	for (int i = 0; i < 30; i++)
		CHECK_RC(append(l, i, i % 3 == 0 ? "A" : i % 3 == 1 ? "AB" : NULL, &seq, NULL), 0);
	CHECK_RC(ledger_find_by_seal(l, "A", 0, seqs, 50, &n), 0);
	CHECK(n == 10);
	for (size_t i = 0; i < n; i++)
		bad += seqs[i] != 3 * i;
	CHECK_RC(ledger_find_by_seal(l, "A", 10, seqs, 3, &n), 0);
	CHECK(n == 3 && seqs[0] == 12 && seqs[2] == 18);
	CHECK_RC(ledger_find_by_seal(l, "AB", 0, seqs, 50, &n), 0);
	CHECK(n == 10 && seqs[0] == 1 && seqs[9] == 28);
	CHECK_RC(ledger_find_by_seal(l, "X", 0, seqs, 50, &n), 0);
	CHECK(n == 0);
	CHECK_RC(ledger_find_by_seal(l, "", 0, seqs, 50, &n), SB_EINVAL);
	CHECK_RC(ledger_find_by_time(l, 0, 0, UINT64_MAX, seqs, 50, &n), 0);
	CHECK(n == 30);
	for (size_t i = 1; i < n; i++)	/* (time, seq) order is seq order here */
		bad += seqs[i] <= seqs[i - 1];
	CHECK_RC(ledger_find_by_time(l, 0, 0, 1000, seqs, 50, &n), 0);
	CHECK(n == 0);
	CHECK(bad == 0);
	ledger_close(l);
}

static void
test_find_by_sig(void)
{
	static const char hex[] = "0123456789abcdef";
	char dir[300], dg[65];
	uint8_t sha[32], leaf[32];
	struct ledger *l;
	uint64_t seq, got;
	json_t *e;

	new_dir(dir, sizeof(dir));
	CHECK_RC(ledger_open(dir, NULL, &l), 0);
	for (int i = 0; i < 5; i++) {
		for (int j = 0; j < 32; j++) {
			sha[j] = (uint8_t)(i * 31 + j);
			dg[2 * j] = hex[sha[j] >> 4];
			dg[2 * j + 1] = hex[sha[j] & 15];
		}
		dg[64] = '\0';
		e = json_pack("{s:s,s:s}", "action", "sign", "signature_digest", dg);
		CHECK_RC(ledger_append(l, e, &seq, leaf), 0);
		json_decref(e);
		CHECK_RC(ledger_find_by_sig(l, sha, &got), 0);
		CHECK(got == seq);
	}
	sha[0] ^= 1;
	CHECK_RC(ledger_find_by_sig(l, sha, &got), SB_ENOTFOUND);
	e = json_pack("{s:s}", "signature_digest", "not hex");
	CHECK_RC(ledger_append(l, e, &seq, leaf), SB_EINVAL);	/* a malformed digest is refused */
	json_decref(e);
	ledger_close(l);
	CHECK_RC(ledger_open(dir, NULL, &l), 0);		/* the index is durable */
	sha[0] ^= 1;
	CHECK_RC(ledger_find_by_sig(l, sha, &got), 0);
	CHECK(got == 4);
	ledger_close(l);
}

static void
test_entry_bounds_and_bad_entries(void)
{
	char dir[300], *big, seal[LEDGER_SEAL_MAX + 2];
	struct ledger *l;
	uint64_t seq;
	json_t *e;

	new_dir(dir, sizeof(dir));
	CHECK_RC(ledger_open(dir, NULL, &l), 0);
	big = malloc(LEDGER_ENTRY_MAX + 1);
	memset(big, 'x', LEDGER_ENTRY_MAX);
	big[LEDGER_ENTRY_MAX] = '\0';
	e = json_pack("{s:s}", "document_name", big);
	CHECK_RC(ledger_append(l, e, &seq, NULL), SB_ELIMIT);
	json_decref(e);
	big[LEDGER_ENTRY_MAX - 100] = '\0';	/* fits, with "seq" and "time" */
	e = json_pack("{s:s}", "document_name", big);
	CHECK_RC(ledger_append(l, e, &seq, NULL), 0);
	json_decref(e);
	free(big);
	e = json_array();
	CHECK_RC(ledger_append(l, e, &seq, NULL), SB_EINVAL);
	json_decref(e);
	CHECK_RC(ledger_append(l, NULL, &seq, NULL), SB_EINVAL);
	e = json_pack("{s:i}", "seal", 5);
	CHECK_RC(ledger_append(l, e, &seq, NULL), SB_EINVAL);
	json_decref(e);
	memset(seal, 's', sizeof(seal) - 1);
	seal[sizeof(seal) - 1] = '\0';
	e = json_pack("{s:s}", "seal", seal);
	CHECK_RC(ledger_append(l, e, &seq, NULL), SB_EINVAL);
	json_decref(e);
	seal[LEDGER_SEAL_MAX] = '\0';
	e = json_pack("{s:s}", "seal", seal);
	CHECK_RC(ledger_append(l, e, &seq, NULL), 0);
	json_decref(e);
	/* What would not read back as written is refused before writing: NUL in
	 * a string or key, a key outside [A-Za-z0-9_.-], a value that is not
	 * UTF-8, nesting past LEDGER_ENTRY_DEPTH. */
	e = json_pack("{s:s#}", "document_name", "a\0b", 3);
	CHECK_RC(ledger_append(l, e, &seq, NULL), SB_EINVAL);
	json_decref(e);
	e = json_object();
	json_object_setn_new(e, "k\0z", 3, json_true());
	CHECK_RC(ledger_append(l, e, &seq, NULL), SB_EINVAL);
	json_decref(e);
	e = json_pack("{s:b}", "two words", 1);
	CHECK_RC(ledger_append(l, e, &seq, NULL), SB_EINVAL);
	json_decref(e);
	e = json_pack("{s:{s:[i]}}", "nested.ok", "list_1", 7);
	CHECK_RC(ledger_append(l, e, &seq, NULL), 0);
	json_decref(e);
	e = json_object();
	json_object_set_new(e, "name", json_string_nocheck("\xff\xfe"));
	CHECK_RC(ledger_append(l, e, &seq, NULL), SB_EINVAL);
	json_decref(e);
	e = json_object();
	for (int i = 0; i < LEDGER_ENTRY_DEPTH; i++)
		e = json_pack("{s:o}", "d", e);
	CHECK_RC(ledger_append(l, e, &seq, NULL), SB_EINVAL);
	json_decref(e);
	/* The caller's "seq" and "time" are the ledger's to set. */
	e = json_pack("{s:i, s:s}", "seq", 999, "time", "yesterday");
	CHECK_RC(ledger_append(l, e, &seq, NULL), 0);
	CHECK(seq == 3 && json_integer_value(json_object_get(e, "seq")) == 3);
	json_decref(e);
	CHECK(ledger_size(l) == 4);
	ledger_close(l);
}

static void
test_entry_parse_refuses_noncanonical(void)
{
	static const char *bad[] = {
		"", "[]", "{}", "{\"seq\":1}", "{\"seq\":1,\"time\":-2}",
		"{\"time\":2,\"seq\":1}",			/* keys unsorted */
		"{\"seq\": 1,\"time\":2}",			/* white space */
		"{\"seq\":1,\"seq\":1,\"time\":2}",		/* duplicate */
		"{\"seq\":1.0,\"time\":2}", "{\"seq\":\"1\",\"time\":2}",
		"{\"seq\":1,\"time\":2}x", "{\"seal\":\"\",\"seq\":1,\"time\":2}",
		"{\"seal\":7,\"seq\":1,\"time\":2}", "{\"a\":\"\\u0000\",\"seq\":1,\"time\":2}",
		"{\"a\":\"\\u00e9\",\"seq\":1,\"time\":2}",	/* escaped where raw UTF-8 is written */
		"{\"a b\":1,\"seq\":1,\"time\":2}",		/* key outside the alphabet */
	};
	const char *good = "{\"a\":\"\xc3\xa9\",\"seal\":\"S\",\"seq\":1,\"time\":2}";
	uint64_t s, t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ledger_entry_parse((const uint8_t *)bad[i], strlen(bad[i]), &s, &t, NULL) == 0) {
			printf("#   accepted %s\n", bad[i]);
			CHECK(0);
		}
	}
	CHECK_RC(ledger_entry_parse((const uint8_t *)good, strlen(good), &s, &t, NULL), 0);
	CHECK(s == 1 && t == 2);
}

static const int heads[] = { 10, 20 };

/* Builds a 20-entry ledger with tree heads at 10 and 20, tampers, verifies. */
static int
tamper_case(int (*tamper)(const char *, uint64_t, uint64_t), uint64_t a, uint64_t b,
    EVP_PKEY *key, uint64_t *first_bad, char *msg, size_t len, int *appendable)
{
	char dir[300];
	struct ledger *l;
	uint64_t seq;
	int rc;

	new_dir(dir, sizeof(dir));
	if ((rc = make_ledger(dir, 20, heads, 2)) != 0)
		return rc;
	if (tamper != NULL && (rc = tamper(dir, a, b)) != 0)
		return rc;
	if ((rc = ledger_open(dir, NULL, &l)) != 0)
		return rc;
	rc = ledger_verify(l, key, first_bad, msg, len);
	if (appendable != NULL)
		*appendable = append(l, 99, NULL, &seq, NULL);
	ledger_close(l);
	return rc;
}

static int t_flip(const char *d, uint64_t a, uint64_t b) { return tool_seq(d, "flip", a, b); }
static int t_delete(const char *d, uint64_t a, uint64_t b) { return tool_seq(d, "delete", a, b); }
static int t_swap(const char *d, uint64_t a, uint64_t b) { return tool_seq(d, "swap", a, b); }
static int t_forge(const char *d, uint64_t a, uint64_t b) { return tamper_forge(d, a, b); }

static void
test_tamper_tool_refuses_bad_use(void)
{
	char dir[300];

	new_dir(dir, sizeof(dir));
	CHECK(access(tool, X_OK) == 0);
	CHECK_RC(make_ledger(dir, 3, NULL, 0), 0);
	CHECK(run_tool(dir, "flip", "x", NULL) == 2);
	CHECK(run_tool(dir, "swap", "1", NULL) == 2);
	CHECK(run_tool(dir, "nothing", "1", NULL) == 1);
	CHECK(run_tool(dir, "delete", "3", NULL) == 1);
	CHECK(run_tool(dir, "flip", "0", "100000") == 1);
	CHECK(run_tool(dir, "flip", "0", "3") == 0);
}

static void
test_tamper_names_first_bad_seq(void)
{
	char msg[256];
	uint64_t bad;
	int app;

	CHECK_RC(tamper_case(NULL, 0, 0, audit_key, &bad, msg, sizeof(msg), NULL), 0);
	CHECK(bad == 20);
	CHECK_CONTAINS(msg, "ledger verified: 20 entries, 2 tree heads");
	CHECK_RC(tamper_case(t_flip, 7, 0, audit_key, &bad, msg, sizeof(msg), NULL),
	    SB_ECRYPTO);
	CHECK(bad == 7);
	CHECK_CONTAINS(msg, "sequence number 7:");
	CHECK_RC(tamper_case(t_delete, 7, 0, audit_key, &bad, msg, sizeof(msg), NULL),
	    SB_ECRYPTO);
	CHECK(bad == 7);
	CHECK_CONTAINS(msg, "entry 7 is missing");
	CHECK_RC(tamper_case(t_swap, 5, 12, audit_key, &bad, msg, sizeof(msg), NULL),
	    SB_ECRYPTO);
	CHECK(bad == 5);
	CHECK_CONTAINS(msg, "reordered");
	/* The last entry removed: verify names it, and appends are refused. */
	CHECK_RC(tamper_case(t_delete, 19, 0, audit_key, &bad, msg, sizeof(msg), &app),
	    SB_ECRYPTO);
	CHECK(bad == 19);
	CHECK_RC(app, SB_ESTATE);
	/* Entry and all stored hashes rewritten: the tree head at 20 catches it. */
	CHECK_RC(tamper_case(t_forge, 13, 20, audit_key, &bad, msg, sizeof(msg), NULL),
	    SB_ECRYPTO);
	CHECK(bad == 10);
	CHECK_CONTAINS(msg, "tree head for size 20");
	/* Tree heads signed by someone else. */
	CHECK_RC(tamper_case(NULL, 0, 0, other_key, &bad, msg, sizeof(msg), NULL),
	    SB_ECRYPTO);
	CHECK(bad == 0);
	CHECK_CONTAINS(msg, "bad signature");
}

static void
test_map_full_fails_then_recovers(void)
{
	char dir[300], msg[256], pad[900];
	struct ledger_opts o = { .map_size = 256 * 1024 };
	struct ledger *l;
	struct ledger_stats st;
	uint64_t seq, size, bad;
	json_t *e;
	int rc = 0, i;

	new_dir(dir, sizeof(dir));
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	CHECK_RC(ledger_open(dir, &o, &l), 0);
	for (i = 0; i < 2000 && rc == 0; i++) {
		e = json_pack("{s:s, s:i}", "pad", pad, "i", i);
		rc = ledger_append(l, e, &seq, NULL);
		json_decref(e);
	}
	CHECK_RC(rc, SB_EIO);
	size = ledger_size(l);
	CHECK(size == (uint64_t)i - 1);
	ledger_stats(l, &st);
	CHECK(st.failing == 1 && st.failed_commits >= 1);
	CHECK_CONTAINS(st.why, "MDB_MAP_FULL");	/* LMDB's own reason, for health */
	/* Still full: refused again, nothing moved. */
	e = json_pack("{s:s}", "pad", pad);
	CHECK_RC(ledger_append(l, e, &seq, NULL), SB_EIO);
	CHECK(ledger_size(l) == size);
	/* Room again: the next append goes on from where the ledger was. */
	CHECK_RC(ledger_set_map_size(l, 4 * 1024 * 1024), 0);
	CHECK_RC(ledger_append(l, e, &seq, NULL), 0);
	json_decref(e);
	CHECK(seq == size && ledger_size(l) == size + 1);
	ledger_stats(l, &st);
	CHECK(st.failing == 0);
	CHECK_STR(st.why, "");
	CHECK_RC(ledger_verify(l, NULL, &bad, msg, sizeof(msg)), 0);
	CHECK(bad == size + 1);
	ledger_close(l);
	/* A map that may grow by itself never fails. */
	new_dir(dir, sizeof(dir));
	o.map_size_max = 64 * 1024 * 1024;
	CHECK_RC(ledger_open(dir, &o, &l), 0);
	for (i = 0; i < 600; i++) {
		e = json_pack("{s:s, s:i}", "pad", pad, "i", i);
		rc = ledger_append(l, e, &seq, NULL);
		json_decref(e);
		CHECK_RC(rc, 0);
	}
	ledger_stats(l, &st);
	CHECK(st.failed_commits == 0);
	CHECK_RC(ledger_verify(l, NULL, &bad, msg, sizeof(msg)), 0);
	ledger_close(l);
}

/* The writer lock held by another process stalls the committer, so the queue
 * fills deterministically. */
struct blocked {
	struct ledger *l;
	int rc;
};

static void *
blocked_append(void *arg)
{
	struct blocked *b = arg;
	uint64_t seq;

	b->rc = append(b->l, 1, NULL, &seq, NULL);
	return NULL;
}

/* ledger-tamper hold, with pipes to its stdin and stdout. */
static pid_t
spawn_hold(const char *dir, int *to_child, int *from_child)
{
	const char *argv[] = { tool, dir, "hold", NULL };
	int in[2], out[2];
	pid_t pid;

	if (pipe(in) != 0 || pipe(out) != 0)
		return -1;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execv(tool, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*to_child = in[1];
	*from_child = out[0];
	return pid;
}

static void
test_queue_is_bounded(void)
{
	char dir[300];
	struct ledger_opts o = { .queue_max = 2 };
	struct ledger *l;
	struct ledger_stats st;
	struct blocked b[3];
	pthread_t t[3];
	int to_child, from_child, status, waited = 0;
	uint64_t seq;
	pid_t pid;
	char held[8] = "";

	new_dir(dir, sizeof(dir));
	CHECK_RC(ledger_open(dir, &o, &l), 0);
	pid = spawn_hold(dir, &to_child, &from_child);
	CHECK(pid > 0);
	CHECK(read(from_child, held, 5) == 5 && memcmp(held, "held\n", 5) == 0);
	/* One append stuck in the committer, two waiting: the queue is full. */
	for (int i = 0; i < 3; i++) {
		b[i] = (struct blocked){ l, 1 };
		pthread_create(&t[i], NULL, blocked_append, &b[i]);
		do {
			usleep(2000);
			ledger_stats(l, &st);
		} while ((i == 0 ? st.committing < 1 : st.queued < (unsigned)i) &&
		    ++waited < 5000);
	}
	CHECK(st.committing == 1 && st.queued == 2);
	CHECK_RC(append(l, 4, NULL, &seq, NULL), SB_ELIMIT);
	close(to_child);	/* EOF: the holder lets go */
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		CHECK_RC(b[i].rc, 0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
	CHECK(ledger_size(l) == 3);
	close(from_child);
	ledger_close(l);
}

static void
test_open_refuses_bad_arguments(void)
{
	struct ledger *l = (struct ledger *)1;

	CHECK_RC(ledger_open(NULL, NULL, &l), SB_EINVAL);
	CHECK(l == NULL);
	CHECK_RC(ledger_open("/proc/no/such/dir", NULL, &l), SB_EIO);
	ledger_close(NULL);
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	char *slash;
	int rc;

	/* build/tests/test_ledger -> build/tools/ledger-tamper */
	snprintf(tool, sizeof(tool), "%s", argc > 0 ? argv[0] : "");
	if ((slash = strrchr(tool, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(tool, sizeof(tool), ".");
	strncat(tool, "/../tools/ledger-tamper", sizeof(tool) - strlen(tool) - 1);
	log_init("test_ledger", LOG_TO_STDERR);
	snprintf(tmpdir, sizeof(tmpdir), "%s/sbx-ledger-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	audit_key = EVP_EC_gen("P-256");
	other_key = EVP_EC_gen("P-256");
	RUN(test_append_get_round_trip, "an appended entry reads back as the canonical bytes its leaf hash covers, with seq and time set");
	RUN(test_seq_increments_and_survives_reopen, "sequence numbers count up from 0 and survive close and reopen; listings stop at the tree; files are 0600");
	RUN(test_stored_nodes_give_naive_roots, "roots from stored nodes equal roots recomputed from the entries, for every size 0..70");
	RUN(test_proofs_from_ledger_verify, "inclusion and consistency proofs from the ledger verify against its roots for all sizes to 40");
	RUN(test_sth_make_verify_json, "tree heads are signed with an EC key, verify, fail when altered, and round-trip through strict JSON");
	RUN(test_concurrent_appends_group_commit, "8 threads appending at once get distinct consecutive numbers in shared commits; the tree verifies");
	RUN(test_find_by_seal_and_time, "the seal and time indexes find exactly the entries of a seal (not of a longer one) and of a time range");
	RUN(test_find_by_sig, "an entry's signature_digest finds it, in the same commit, after reopen; a malformed one is refused");
	RUN(test_entry_bounds_and_bad_entries, "oversize, non-object, bad-seal and non-round-tripping entries are refused; seq and time are the ledger's");
	RUN(test_entry_parse_refuses_noncanonical, "the entry parser takes only canonical JSON objects with integer seq and time");
	RUN(test_tamper_tool_refuses_bad_use, "ledger-tamper refuses bad arguments and missing entries");
	RUN(test_tamper_names_first_bad_seq, "a changed, deleted, swapped or forged entry (ledger-tamper), or a foreign signature, is reported with the first bad seq");
	RUN(test_map_full_fails_then_recovers, "a full map fails the append with SB_EIO and no gap; after growth appends resume from the same seq");
	RUN(test_queue_is_bounded, "appends beyond the queue bound are refused with SB_ELIMIT while the committer is stalled");
	RUN(test_open_refuses_bad_arguments, "open refuses a missing path or an unmakeable directory");
	EVP_PKEY_free(audit_key);
	EVP_PKEY_free(other_key);
	rc = check_done();
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
