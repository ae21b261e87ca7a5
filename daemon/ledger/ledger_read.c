/*
 * ledger_read — entries, indexes, roots and proofs. See ledger.h.
 *
 * Every read is one LMDB read transaction, so it sees one committed state.
 * The committed size is read first, then the transaction begins: a commit is
 * published only after it is durable, so the snapshot always holds at least
 * that many entries and their nodes. Nothing here trusts stored bytes to be
 * well formed: an entry that does not parse is reported, not used.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "ledger_int.h"

int
ledger_node_get(void *arg, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN])
{
	struct ledger_nodes *nc = arg;
	uint8_t k[LEDGER_NODE_KEY_LEN];
	MDB_val key = { sizeof(k), k }, val;
	int rc;

	ledger_node_key(k, level, index);
	if ((rc = mdb_get(nc->txn, nc->l->nodes, &key, &val)) != 0)
		return ledger_mdb_err(rc);
	if (val.mv_size != MERKLE_HASH_LEN)
		return SB_EIO;
	memcpy(out, val.mv_data, MERKLE_HASH_LEN);
	return 0;
}

/* The committed size and, when the stored tree loaded, its right edge. */
static uint64_t
committed(struct ledger *l, struct merkle_edge *edge, int *usable)
{
	uint64_t n;

	pthread_mutex_lock(&l->mu);
	n = l->edge.size;
	if (edge != NULL)
		*edge = l->edge;
	if (usable != NULL)
		*usable = !l->broken;
	pthread_mutex_unlock(&l->mu);
	return n;
}

static int
key_ok(const char *key, size_t len)
{
	if (len == 0 || len > LEDGER_KEY_MAX || strlen(key) != len)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = key[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

static int
value_ok(const json_t *v, int depth)
{
	const char *key;
	size_t i, klen;
	json_t *x;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (depth >= LEDGER_ENTRY_DEPTH)
			return 0;
		json_object_keylen_foreach((json_t *)v, key, klen, x)
			if (!key_ok(key, klen) || !value_ok(x, depth + 1))
				return 0;
		return 1;
	case JSON_ARRAY:
		if (depth >= LEDGER_ENTRY_DEPTH)
			return 0;
		json_array_foreach(v, i, x)
			if (!value_ok(x, depth + 1))
				return 0;
		return 1;
	case JSON_STRING:
		return strlen(json_string_value(v)) == json_string_length(v);
	default:
		return 1;
	}
}

int
ledger_entry_check(const json_t *entry)
{
	return json_is_object(entry) && value_ok(entry, 0) ? 0 : SB_EINVAL;
}

int
ledger_entry_parse(const uint8_t *data, size_t len, uint64_t *seq, uint64_t *time_ms,
    json_t **out)
{
	json_t *j, *s, *t, *seal;
	json_error_t err;
	char *re = NULL;
	int rc = SB_EINVAL;

	if (out != NULL)
		*out = NULL;
	if (data == NULL || len == 0)
		return SB_EINVAL;
	if (len > LEDGER_ENTRY_MAX)
		return SB_ELIMIT;
	if ((j = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &err)) == NULL)
		return SB_EINVAL;
	s = json_object_get(j, "seq");
	t = json_object_get(j, "time");
	seal = json_object_get(j, "seal");
	if (ledger_entry_check(j) != 0 || !json_is_integer(s) || json_integer_value(s) < 0 ||
	    !json_is_integer(t) || json_integer_value(t) < 0)
		goto out;
	if (seal != NULL && (!json_is_string(seal) || json_string_length(seal) == 0 ||
	    json_string_length(seal) > LEDGER_SEAL_MAX))
		goto out;
	/* Canonical: what the ledger itself would write for this object. */
	if ((re = malloc(len)) == NULL) {
		rc = SB_ENOMEM;
		goto out;
	}
	if (json_dumpb(j, re, len, LEDGER_SER_FLAGS) != len || memcmp(re, data, len) != 0)
		goto out;
	if (seq != NULL)
		*seq = (uint64_t)json_integer_value(s);
	if (time_ms != NULL)
		*time_ms = (uint64_t)json_integer_value(t);
	rc = 0;
out:
	free(re);
	if (rc == 0 && out != NULL)
		*out = j;
	else
		json_decref(j);
	return rc;
}

static int
entry_val(struct ledger *l, MDB_txn *txn, uint64_t seq, MDB_val *val)
{
	uint8_t k[8];
	MDB_val key = { sizeof(k), k };
	int rc;

	ledger_be64_put(k, seq);
	if ((rc = mdb_get(txn, l->entries, &key, val)) != 0) {
		if (rc == MDB_NOTFOUND)
			log_err("ledger: committed entry %llu is missing",
			    (unsigned long long)seq);
		return rc == MDB_NOTFOUND ? SB_EIO : ledger_mdb_err(rc);
	}
	return 0;
}

int
ledger_entry_get(struct ledger *l, uint64_t seq, struct buf *out)
{
	MDB_txn *txn;
	MDB_val val;
	int rc;

	if (l == NULL || out == NULL)
		return SB_EINVAL;
	if (seq >= committed(l, NULL, NULL))
		return SB_ENOTFOUND;
	if ((rc = ledger_rd_begin(l, &txn)) != 0)
		return rc;
	if ((rc = entry_val(l, txn, seq, &val)) == 0)
		rc = buf_append(out, val.mv_data, val.mv_size);
	ledger_rd_end(l, txn);
	return rc;
}

static int
entry_json_txn(struct ledger *l, MDB_txn *txn, uint64_t seq, json_t **out)
{
	json_t *o, *entry;
	uint64_t s;
	MDB_val val;
	int rc;

	if ((rc = entry_val(l, txn, seq, &val)) != 0)
		return rc;
	if (ledger_entry_parse(val.mv_data, val.mv_size, &s, NULL, &entry) != 0 || s != seq) {
		json_decref(entry);
		log_err("ledger: entry %llu is damaged: run ledger verify",
		    (unsigned long long)seq);
		return SB_EIO;
	}
	if ((o = json_object()) == NULL) {
		json_decref(entry);
		return SB_ENOMEM;
	}
	/* json_object_set_new takes the value even when it fails. */
	if (json_object_set_new(o, "entry", entry) != 0 ||
	    json_object_set_new(o, "seq", json_integer((json_int_t)seq)) != 0 ||
	    json_object_set_new(o, "leaf_input",
	    ledger_b64_json(val.mv_data, val.mv_size)) != 0) {
		json_decref(o);
		return SB_ENOMEM;
	}
	*out = o;
	return 0;
}

int
ledger_entry_json(struct ledger *l, uint64_t seq, json_t **out)
{
	MDB_txn *txn;
	int rc;

	if (l == NULL || out == NULL)
		return SB_EINVAL;
	*out = NULL;
	if (seq >= committed(l, NULL, NULL))
		return SB_ENOTFOUND;
	if ((rc = ledger_rd_begin(l, &txn)) != 0)
		return rc;
	rc = entry_json_txn(l, txn, seq, out);
	ledger_rd_end(l, txn);
	return rc;
}

int
ledger_entries(struct ledger *l, uint64_t start, size_t count, json_t **out)
{
	uint64_t size, end;
	MDB_txn *txn;
	json_t *arr, *e;
	int rc;

	if (l == NULL || out == NULL)
		return SB_EINVAL;
	*out = NULL;
	if ((arr = json_array()) == NULL)
		return SB_ENOMEM;
	size = committed(l, NULL, NULL);
	if (count > LEDGER_LIST_MAX)
		count = LEDGER_LIST_MAX;
	end = start < size ? (size - start < count ? size : start + count) : start;
	if (start >= end) {
		*out = arr;
		return 0;
	}
	if ((rc = ledger_rd_begin(l, &txn)) != 0) {
		json_decref(arr);
		return rc;
	}
	for (uint64_t s = start; s < end && rc == 0; s++) {
		if ((rc = entry_json_txn(l, txn, s, &e)) == 0 && json_array_append_new(arr, e) != 0)
			rc = SB_ENOMEM;
	}
	ledger_rd_end(l, txn);
	if (rc != 0)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

/*
 * Collects up to max sequence numbers from index keys >= from (seq_off + 8
 * bytes, the sequence number last) that share from's first prefix_len
 * bytes and are below to (if given).
 */
static int
scan_index(struct ledger *l, MDB_dbi dbi, const uint8_t *from, size_t seq_off,
    size_t prefix_len, const uint8_t *to, uint64_t *seqs, size_t max, size_t *n)
{
	size_t from_len = seq_off + 8;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = { from_len, (void *)from }, v;
	int rc, op = MDB_SET_RANGE;

	*n = 0;
	if (max > LEDGER_LIST_MAX)
		max = LEDGER_LIST_MAX;
	if ((rc = ledger_rd_begin(l, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		ledger_rd_end(l, txn);
		return ledger_mdb_err(rc);
	}
	while (*n < max && (rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size != from_len || memcmp(k.mv_data, from, prefix_len) != 0)
			break;
		if (to != NULL && memcmp(k.mv_data, to, from_len) >= 0)
			break;
		seqs[(*n)++] = ledger_be64_get((uint8_t *)k.mv_data + seq_off);
	}
	mdb_cursor_close(cur);
	ledger_rd_end(l, txn);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : ledger_mdb_err(rc);
}

int
ledger_find_by_seal(struct ledger *l, const char *seal, uint64_t start, uint64_t *seqs,
    size_t max, size_t *n)
{
	uint8_t key[1 + LEDGER_SEAL_MAX + 8];
	size_t len;

	if (n != NULL)
		*n = 0;
	if (l == NULL || seal == NULL || seqs == NULL || n == NULL)
		return SB_EINVAL;
	len = strnlen(seal, LEDGER_SEAL_MAX + 1);
	if (len == 0 || len > LEDGER_SEAL_MAX)
		return SB_EINVAL;
	key[0] = (uint8_t)len;
	memcpy(key + 1, seal, len);
	ledger_be64_put(key + 1 + len, start);
	return scan_index(l, l->by_seal, key, 1 + len, 1 + len, NULL, seqs, max, n);
}

int
ledger_find_by_sig(struct ledger *l, const uint8_t sha[32], uint64_t *seq)
{
	MDB_val k = { 32, (void *)sha }, v;
	MDB_txn *txn;
	int rc;

	if (l == NULL || sha == NULL || seq == NULL)
		return SB_EINVAL;
	if ((rc = ledger_rd_begin(l, &txn)) != 0)
		return rc;
	rc = mdb_get(txn, l->by_sig, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		*seq = ledger_be64_get(v.mv_data);
	ledger_rd_end(l, txn);
	if (rc == MDB_NOTFOUND)
		return SB_ENOTFOUND;
	return rc == 0 ? (v.mv_size == 8 ? 0 : SB_EIO) : ledger_mdb_err(rc);
}

/* The time index has no common prefix: the upper bound ends the scan. */
int
ledger_find_by_time(struct ledger *l, uint64_t from_ms, uint64_t from_seq, uint64_t to_ms,
    uint64_t *seqs, size_t max, size_t *n)
{
	uint8_t from[16], to[16];

	if (n != NULL)
		*n = 0;
	if (l == NULL || seqs == NULL || n == NULL)
		return SB_EINVAL;
	if (from_ms >= to_ms)
		return 0;
	ledger_be64_put(from, from_ms);
	ledger_be64_put(from + 8, from_seq);
	ledger_be64_put(to, to_ms);
	ledger_be64_put(to + 8, 0);
	return scan_index(l, l->by_time, from, 8, 0, to, seqs, max, n);
}

int
ledger_root(struct ledger *l, uint64_t size, uint8_t root[MERKLE_HASH_LEN])
{
	struct merkle_edge edge;
	struct ledger_nodes nc = { l, NULL };
	int usable, rc;

	if (l == NULL || root == NULL)
		return SB_EINVAL;
	if (size > committed(l, &edge, &usable))
		return SB_ENOTFOUND;
	if (size == edge.size && usable)
		return merkle_edge_root(&edge, root);
	if ((rc = ledger_rd_begin(l, &nc.txn)) != 0)
		return rc;
	rc = merkle_root(ledger_node_get, &nc, size, root);
	ledger_rd_end(l, nc.txn);
	return rc;
}

int
ledger_inclusion_proof(struct ledger *l, uint64_t seq, uint64_t tree_size, uint8_t *path,
    size_t *n)
{
	struct ledger_nodes nc = { l, NULL };
	int rc;

	if (n != NULL)
		*n = 0;
	if (l == NULL || path == NULL || n == NULL || seq >= tree_size)
		return SB_EINVAL;
	if (tree_size > committed(l, NULL, NULL))
		return SB_ENOTFOUND;
	if ((rc = ledger_rd_begin(l, &nc.txn)) != 0)
		return rc;
	rc = merkle_inclusion_proof(ledger_node_get, &nc, seq, tree_size, path, n);
	ledger_rd_end(l, nc.txn);
	return rc;
}

int
ledger_consistency_proof(struct ledger *l, uint64_t first, uint64_t second, uint8_t *path,
    size_t *n)
{
	struct ledger_nodes nc = { l, NULL };
	int rc;

	if (n != NULL)
		*n = 0;
	if (l == NULL || path == NULL || n == NULL || first > second)
		return SB_EINVAL;
	if (second > committed(l, NULL, NULL))
		return SB_ENOTFOUND;
	if ((rc = ledger_rd_begin(l, &nc.txn)) != 0)
		return rc;
	rc = merkle_consistency_proof(ledger_node_get, &nc, first, second, path, n);
	ledger_rd_end(l, nc.txn);
	return rc;
}
