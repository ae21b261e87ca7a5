/*
 * ledger_verify — recompute the ledger from its entries and compare with
 * everything stored beside them. See ledger.h and docs/ledger.md.
 *
 * One pass in sequence order inside one read transaction. For each entry:
 * its key is the next number (else one was removed), it parses as a
 * canonical entry, its "seq" is its key (else entries were moved), its leaf
 * hash and every tree node it completes equal the stored ones (else it or
 * the tree was changed), its index keys exist. Each stored tree head is
 * checked when the recomputed tree reaches its size: signature and root.
 * The first finding ends the pass.
 *
 * What a finding can name: a changed entry whose stored hashes were left
 * alone, a removed or moved entry, is named exactly. Someone who rewrote an
 * entry and also every stored node above it is caught by the next signed
 * tree head, which cannot say which entry of its range changed: then the
 * first untrusted number is the size of the last tree head that checked out.
 * Entries after the newest tree head are protected only by the stored nodes,
 * which is why the monitor signs a tree head often.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "ledger_int.h"

struct vstate {
	struct ledger *l;
	MDB_txn *txn;
	struct ledger_nodes nc;
	EVP_PKEY *pub;
	struct merkle_edge edge;	/* recomputed from the entries */
	MDB_cursor *sth_cur;
	int sth_pending;		/* sth holds the next tree head to check */
	struct ledger_sth sth;
	uint64_t good_size;		/* size of the newest tree head checked */
	uint64_t sths, sealed;
	int found;
	uint64_t bad;
	char *msg;
	size_t len;
};

typedef unsigned long long ull;

/* Records the first finding; returns SB_ECRYPTO so callers stop. */
__attribute__((format(printf, 3, 4)))
static int
finding(struct vstate *v, uint64_t seq, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (!v->found) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		v->found = 1;
		v->bad = seq;
		if (v->len > 0)
			snprintf(v->msg, v->len, "ledger damaged at sequence number %llu: %s",
			    (ull)seq, why);
	}
	return SB_ECRYPTO;
}

/* Positions on the next stored tree head, if any. */
static int
next_sth(struct vstate *v, MDB_cursor_op op)
{
	MDB_val k, val;
	int rc = mdb_cursor_get(v->sth_cur, &k, &val, op);

	v->sth_pending = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return ledger_mdb_err(rc);
	if (ledger_sth_decode(&k, &val, &v->sth) != 0)
		return finding(v, v->good_size, "a stored tree head after size %llu "
		    "cannot be read", (ull)v->good_size);
	v->sth_pending = 1;
	return 0;
}

/* Every tree head of the size the recomputed tree has now. */
static int
check_sths(struct vstate *v)
{
	uint8_t root[MERKLE_HASH_LEN];
	int rc;

	while (v->sth_pending && v->sth.tree_size == v->edge.size) {
		if ((rc = merkle_edge_root(&v->edge, root)) != 0)
			return rc;
		if (v->pub != NULL && ledger_sth_verify(&v->sth, v->pub) != 0)
			return finding(v, v->good_size, "the tree head for size %llu has a bad "
			    "signature", (ull)v->sth.tree_size);
		if (memcmp(root, v->sth.root, MERKLE_HASH_LEN) != 0)
			return finding(v, v->good_size, "the entries do not hash to the signed "
			    "tree head for size %llu: one of entries %llu..%llu was changed, "
			    "removed or reordered", (ull)v->sth.tree_size, (ull)v->good_size,
			    (ull)v->sth.tree_size - 1);
		v->good_size = v->sth.tree_size;
		v->sths++;
		if ((rc = next_sth(v, MDB_NEXT)) != 0)
			return rc;
	}
	return 0;
}

/* merkle_emit_fn: the recomputed leaf or node against the stored one. */
static int
compare_node(void *arg, unsigned level, uint64_t index, const uint8_t hash[MERKLE_HASH_LEN])
{
	struct vstate *v = arg;
	uint8_t stored[MERKLE_HASH_LEN];
	uint64_t first = index << level, last = first + ((uint64_t)1 << level) - 1;
	int rc = ledger_node_get(&v->nc, level, index, stored);

	if (rc != 0 && rc != SB_ENOTFOUND)
		return rc;
	if (level == 0 && rc != 0)
		return finding(v, index, "entry %llu has no stored leaf hash", (ull)index);
	if (level == 0 && memcmp(stored, hash, MERKLE_HASH_LEN) != 0)
		return finding(v, index, "entry %llu does not match its leaf hash (changed)",
		    (ull)index);
	if (rc != 0 || memcmp(stored, hash, MERKLE_HASH_LEN) != 0)
		return finding(v, first, "the stored tree node over entries %llu..%llu is %s",
		    (ull)first, (ull)last, rc != 0 ? "missing" : "wrong");
	return 0;
}

static int
index_has(struct vstate *v, MDB_dbi dbi, uint8_t *key, size_t len)
{
	MDB_val k = { len, key }, val;
	int rc = mdb_get(v->txn, dbi, &k, &val);

	return rc == MDB_NOTFOUND ? 0 : rc == 0 ? 1 : ledger_mdb_err(rc);
}

static int
check_indexes(struct vstate *v, uint64_t seq, uint64_t time, const json_t *entry)
{
	uint8_t key[1 + LEDGER_SEAL_MAX + 8];
	const json_t *seal = json_object_get(entry, "seal");
	size_t n;
	int rc;

	ledger_be64_put(key, time);
	ledger_be64_put(key + 8, seq);
	if ((rc = index_has(v, v->l->by_time, key, 16)) <= 0)
		return rc < 0 ? rc : finding(v, seq, "entry %llu is missing from the time "
		    "index", (ull)seq);
	if (seal == NULL)
		return 0;
	n = json_string_length(seal);	/* 1..LEDGER_SEAL_MAX: parsed */
	key[0] = (uint8_t)n;
	memcpy(key + 1, json_string_value(seal), n);
	ledger_be64_put(key + 1 + n, seq);
	if ((rc = index_has(v, v->l->by_seal, key, 1 + n + 8)) <= 0)
		return rc < 0 ? rc : finding(v, seq, "entry %llu is missing from the seal "
		    "index", (ull)seq);
	v->sealed++;
	return 0;
}

static int
check_entry(struct vstate *v, uint64_t seq, const MDB_val *val)
{
	uint8_t leaf[MERKLE_HASH_LEN];
	uint64_t s, t;
	json_t *e;
	int rc;

	if (ledger_entry_parse(val->mv_data, val->mv_size, &s, &t, &e) != 0)
		return finding(v, seq, "entry %llu is not a well-formed ledger entry "
		    "(changed)", (ull)seq);
	if (s != seq) {
		json_decref(e);
		return finding(v, seq, "entry %llu holds entry %llu (reordered)", (ull)seq,
		    (ull)s);
	}
	rc = merkle_leaf_hash(val->mv_data, val->mv_size, leaf);
	if (rc == 0)
		rc = merkle_edge_append(&v->edge, leaf, compare_node, v);
	if (rc == 0)
		rc = check_indexes(v, seq, t, e);
	json_decref(e);
	if (rc == 0)
		rc = check_sths(v);
	return rc;
}

/* Entries must be 0, 1, 2, ... with nothing missing in between. */
static int
walk_entries(struct vstate *v)
{
	MDB_cursor *cur;
	MDB_val k, val;
	int mrc, rc = 0, op = MDB_FIRST;

	if ((mrc = mdb_cursor_open(v->txn, v->l->entries, &cur)) != 0)
		return ledger_mdb_err(mrc);
	while (rc == 0 && (mrc = mdb_cursor_get(cur, &k, &val, op)) == 0) {
		uint64_t expect = v->edge.size;

		op = MDB_NEXT;
		if (k.mv_size != 8)
			rc = finding(v, expect, "a key of %zu bytes is among the entries",
			    k.mv_size);
		else if (ledger_be64_get(k.mv_data) != expect)
			rc = finding(v, expect, "entry %llu is missing (removed)", (ull)expect);
		else
			rc = check_entry(v, expect, &val);
	}
	mdb_cursor_close(cur);
	if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = ledger_mdb_err(mrc);
	return rc;
}

static int
count_of(struct vstate *v, MDB_dbi dbi, uint64_t *n)
{
	MDB_stat st;
	int rc = mdb_stat(v->txn, dbi, &st);

	*n = st.ms_entries;
	return ledger_mdb_err(rc);
}

/* After the walk: the meta size, tree heads beyond the entries, leftovers. */
static int
check_tail(struct vstate *v, uint64_t size)
{
	uint64_t n = v->edge.size, nodes = 0, want = 0, times, seals;
	int rc;

	if (n < size)
		return finding(v, n, "entries %llu..%llu are missing (removed)", (ull)n,
		    (ull)size - 1);
	if (n > size)
		return finding(v, size, "entry %llu is beyond the committed size (added "
		    "behind the ledger's back)", (ull)size);
	if (v->sth_pending)
		return finding(v, n, "the tree head for size %llu covers entries that are "
		    "missing (removed)", (ull)v->sth.tree_size);
	for (unsigned l = 0; l < MERKLE_LEVELS; l++)
		want += n >> l;
	if ((rc = count_of(v, v->l->nodes, &nodes)) != 0 ||
	    (rc = count_of(v, v->l->by_time, &times)) != 0 ||
	    (rc = count_of(v, v->l->by_seal, &seals)) != 0)
		return rc;
	if (nodes != want)
		return finding(v, n, "%llu stored tree nodes are not part of the tree",
		    (ull)(nodes - want));
	if (times != n || seals != v->sealed)
		return finding(v, n, "the %s index has keys that name no entry",
		    times != n ? "time" : "seal");
	return 0;
}

static int
verify_txn(struct vstate *v)
{
	uint8_t b[8];
	MDB_val k = { 4, "size" }, val;
	uint64_t size = 0;
	int rc;

	rc = mdb_get(v->txn, v->l->meta, &k, &val);
	if (rc == 0 && val.mv_size == 8) {
		memcpy(b, val.mv_data, 8);
		size = ledger_be64_get(b);
	} else if (rc == 0) {
		return finding(v, 0, "the stored size is unreadable");
	} else if (rc != MDB_NOTFOUND) {
		return ledger_mdb_err(rc);
	}
	if ((rc = mdb_cursor_open(v->txn, v->l->sth, &v->sth_cur)) != 0)
		return ledger_mdb_err(rc);
	if ((rc = next_sth(v, MDB_FIRST)) == 0 && (rc = check_sths(v)) == 0 &&
	    (rc = walk_entries(v)) == 0)
		rc = check_tail(v, size);
	mdb_cursor_close(v->sth_cur);
	return rc;
}

int
ledger_verify(struct ledger *l, EVP_PKEY *audit_pub, uint64_t *first_bad, char *msg,
    size_t len)
{
	struct vstate v;
	int rc;

	if (l == NULL || first_bad == NULL || (msg == NULL && len > 0))
		return SB_EINVAL;
	memset(&v, 0, sizeof(v));
	v.l = l;
	v.pub = audit_pub;
	v.msg = msg;
	v.len = len;
	if (len > 0)
		msg[0] = '\0';
	merkle_edge_init(&v.edge);
	if ((rc = ledger_rd_begin(l, &v.txn)) != 0)
		return rc;
	v.nc.l = l;
	v.nc.txn = v.txn;
	rc = verify_txn(&v);
	ledger_rd_end(l, v.txn);
	if (v.found) {
		*first_bad = v.bad;
		log_err("%s", msg != NULL ? msg : "ledger damaged");
		return SB_ECRYPTO;
	}
	if (rc != 0) {
		if (len > 0)
			snprintf(msg, len, "ledger could not be read: %s", sb_strerror(rc));
		return rc;
	}
	*first_bad = v.edge.size;
	if (len > 0)
		snprintf(msg, len, "ledger verified: %llu entries, %llu tree heads%s, the "
		    "newest covering %llu entries", (ull)v.edge.size, (ull)v.sths,
		    audit_pub != NULL ? "" : " (signatures not checked)", (ull)v.good_size);
	return 0;
}
