/*
 * ledger — open, close and group-committed appends. See ledger.h. Reads and
 * proofs are in ledger_read.c, tree heads in ledger_sth.c, the full check in
 * ledger_verify.c.
 *
 * GROUP COMMIT. An appender checks its entry in its own thread (so that the
 * committer only numbers and writes), puts a request that lives on its stack
 * on the queue, and sleeps on done_cv. The committer thread takes everything
 * queued (at most batch_max), numbers the entries from the committed size,
 * and writes entries, index keys, the leaf hashes and every tree node they
 * complete in one write transaction; mdb_txn_commit returns after the fsync.
 * Only then does it publish the new right edge and wake the batch. While it
 * writes, the next batch gathers in the queue: the more appenders wait, the
 * more entries share one fsync.
 *
 * FAULTS. A failed transaction (full map, full disk, I/O error) is aborted
 * whole: the committer numbered on a copy of the edge, so nothing in memory
 * moves and every request of the batch gets SB_EIO. The next batch starts
 * from the last committed state again, so the ledger resumes by itself once
 * a write succeeds. A full map is first answered by doubling it, up to
 * opts.map_size_max, and retrying the batch once.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "lib/err.h"
#include "lib/log.h"
#include "ledger_int.h"

/* Longest wait for a batch to fill (see linger). */
#define LINGER_MAX_NS 1000000u

struct ledger_req {
	json_t *entry;
	uint8_t seal[LEDGER_SEAL_MAX];
	uint8_t sig[32];		/* "signature_digest", when has_sig */
	int has_sig;
	size_t seal_len;		/* 0: the entry names no seal */
	uint64_t seq;
	uint8_t leaf[MERKLE_HASH_LEN];
	int rc;				/* the answer, once done */
	int refused;			/* refused by itself; the batch goes on */
	int done;			/* under mu: the appender may return */
	struct ledger_req *next;
};

/* One write transaction of the committer. */
struct commit {
	struct ledger *l;
	MDB_txn *txn;
	struct merkle_edge edge;	/* numbered on this copy */
	uint64_t time;
	int mdb_rc;			/* LMDB's reason when a write failed */
};

/* ---- small helpers shared by the ledger files --------------------------- */

void
ledger_be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t
ledger_be64_get(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void
ledger_node_key(uint8_t key[LEDGER_NODE_KEY_LEN], unsigned level, uint64_t index)
{
	key[0] = (uint8_t)level;
	ledger_be64_put(key + 1, index);
}

int
ledger_mdb_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case ENOMEM:
		return SB_ENOMEM;
	case MDB_NOTFOUND:
		return SB_ENOTFOUND;
	case MDB_READERS_FULL:
		return SB_ELIMIT;
	default:
		return SB_EIO;
	}
}

uint64_t
ledger_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
ledger_rd_begin(struct ledger *l, MDB_txn **txn)
{
	int rc;

	pthread_rwlock_rdlock(&l->env_lock);
	if ((rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, txn)) != 0) {
		pthread_rwlock_unlock(&l->env_lock);
		log_err("ledger: cannot begin a read: %s", mdb_strerror(rc));
		return ledger_mdb_err(rc);
	}
	return 0;
}

void
ledger_rd_end(struct ledger *l, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&l->env_lock);
}

json_t *
ledger_b64_json(const uint8_t *p, size_t n)
{
	char *s;
	json_t *j;

	if (n > LEDGER_ENTRY_MAX || (s = malloc(4 * ((n + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	j = json_string(s);
	free(s);
	return j;
}

/* EVP_DecodeBlock skips white space and counts padding as zero bytes, so the
 * result is only taken when it encodes back to exactly the text given. */
int
ledger_b64_decode(const char *s, uint8_t *out, size_t max, size_t *n)
{
	size_t slen = strnlen(s, 4 * (max / 3 + 2) + 1), pad = 0;
	unsigned char *tmp, *re;
	int dlen, rc = SB_EINVAL;

	*n = 0;
	if (slen == 0 || slen % 4 != 0 || slen / 4 * 3 > max + 2)
		return SB_EINVAL;
	pad = (s[slen - 1] == '=') + (s[slen - 2] == '=');
	tmp = malloc(slen / 4 * 3);
	re = malloc(slen + 1);
	if (tmp == NULL || re == NULL) {
		rc = SB_ENOMEM;
		goto out;
	}
	dlen = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)slen);
	if (dlen < (int)pad || (size_t)dlen - pad > max)
		goto out;
	dlen -= (int)pad;
	EVP_EncodeBlock(re, tmp, dlen);
	if (memcmp(re, s, slen) == 0 && re[slen] == '\0') {
		memcpy(out, tmp, (size_t)dlen);
		*n = (size_t)dlen;
		rc = 0;
	}
out:
	free(tmp);
	free(re);
	return rc;
}

/* ---- open and close ----------------------------------------------------- */

static int
open_dbs(struct ledger *l, MDB_txn *txn)
{
	static const struct {
		const char *name;
		size_t off;
	} dbs[LEDGER_DBS] = {
		{ LEDGER_DB_ENTRIES, offsetof(struct ledger, entries) },
		{ LEDGER_DB_NODES, offsetof(struct ledger, nodes) },
		{ LEDGER_DB_STH, offsetof(struct ledger, sth) },
		{ LEDGER_DB_BY_SEAL, offsetof(struct ledger, by_seal) },
		{ LEDGER_DB_BY_TIME, offsetof(struct ledger, by_time) },
		{ LEDGER_DB_META, offsetof(struct ledger, meta) },
		{ LEDGER_DB_BY_SIG, offsetof(struct ledger, by_sig) },
	};
	int rc;

	for (size_t i = 0; i < LEDGER_DBS; i++) {
		rc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE,
		    (MDB_dbi *)(void *)((char *)l + dbs[i].off));
		if (rc != 0) {
			log_err("ledger: cannot open database %s: %s", dbs[i].name,
			    mdb_strerror(rc));
			return ledger_mdb_err(rc);
		}
	}
	return 0;
}

static int
meta_get(MDB_txn *txn, MDB_dbi dbi, const char *name, uint8_t *out, size_t len)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(txn, dbi, &k, &v);

	if (rc != 0)
		return ledger_mdb_err(rc);
	if (v.mv_size != len)
		return SB_EIO;
	memcpy(out, v.mv_data, len);
	return 0;
}

static int
meta_put(MDB_txn *txn, MDB_dbi dbi, const char *name, const uint8_t *p, size_t len)
{
	MDB_val k = { strlen(name), (void *)name }, v = { len, (void *)p };

	return mdb_put(txn, dbi, &k, &v, 0);
}

/* The format version: written into a new ledger, checked in an old one. */
static int
check_version(struct ledger *l, MDB_txn *txn)
{
	uint8_t v[4] = { 0, 0, 0, LEDGER_FORMAT };
	uint32_t have;
	int rc;

	rc = meta_get(txn, l->meta, "version", v, 4);
	if (rc == SB_ENOTFOUND)
		return ledger_mdb_err(meta_put(txn, l->meta, "version", v, 4));
	if (rc != 0)
		return rc;
	have = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
	if (have != LEDGER_FORMAT) {
		log_err("ledger: format %u is not %d", have, LEDGER_FORMAT);
		return SB_EUNSUPPORTED;
	}
	return 0;
}

/* Size from meta, right edge from stored nodes, and the last entry where it
 * should be; anything else makes the ledger read-only until verified. */
static int
load_state(struct ledger *l, MDB_txn *txn)
{
	struct ledger_nodes nc = { l, txn };
	uint8_t b[8];
	uint64_t size = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, last;

	if ((rc = meta_get(txn, l->meta, "size", b, 8)) == 0)
		size = ledger_be64_get(b);
	else if (rc != SB_ENOTFOUND)
		return rc;
	if ((rc = mdb_cursor_open(txn, l->entries, &cur)) != 0)
		return ledger_mdb_err(rc);
	last = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (last != 0 && last != MDB_NOTFOUND)
		return ledger_mdb_err(last);
	if ((size == 0) != (last == MDB_NOTFOUND) || (last == 0 &&
	    (k.mv_size != 8 || ledger_be64_get(k.mv_data) != size - 1))) {
		log_err("ledger: the last entry is not number %llu: refusing appends "
		    "until the ledger is verified", (unsigned long long)size - 1);
		l->broken = 1;
	}
	if ((rc = merkle_edge_load(&l->edge, size, ledger_node_get, &nc)) != 0) {
		log_err("ledger: the tree of %llu entries cannot be loaded (%s): "
		    "refusing appends until the ledger is verified",
		    (unsigned long long)size, sb_strerror(rc));
		merkle_edge_init(&l->edge);
		l->edge.size = size;
		l->broken = 1;
	}
	return 0;
}

static int
env_open(struct ledger *l, const char *dir, const struct ledger_opts *o)
{
	MDB_txn *txn;
	int rc, dead;

	if ((rc = mdb_env_create(&l->env)) != 0) {
		l->env = NULL;
		return ledger_mdb_err(rc);
	}
	if ((rc = mdb_env_set_mapsize(l->env, o->map_size)) != 0 ||
	    (rc = mdb_env_set_maxdbs(l->env, LEDGER_DBS + o->extra_dbs)) != 0 ||
	    (rc = mdb_env_open(l->env, dir, MDB_NOTLS, 0600)) != 0) {
		log_err("ledger: cannot open %s: %s", dir, mdb_strerror(rc));
		return rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ?
		    SB_EUNSUPPORTED : ledger_mdb_err(rc);
	}
	/* Reader slots of a monitor that died would pin old pages forever. */
	mdb_reader_check(l->env, &dead);
	if ((rc = mdb_txn_begin(l->env, NULL, 0, &txn)) != 0) {
		log_err("ledger: cannot write to %s: %s", dir, mdb_strerror(rc));
		return ledger_mdb_err(rc);
	}
	if ((rc = open_dbs(l, txn)) != 0 || (rc = check_version(l, txn)) != 0 ||
	    (rc = load_state(l, txn)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		log_err("ledger: cannot write to %s: %s", dir, mdb_strerror(rc));
		return ledger_mdb_err(rc);
	}
	return 0;
}

static void *committer_main(void *arg);

static int
sync_init(struct ledger *l)
{
	pthread_rwlockattr_t a;
	pthread_condattr_t ca;
	int rc;

	/* Readers never pause, so a writer-preferring lock is what lets a map
	 * resize through at all. */
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	rc = pthread_rwlock_init(&l->env_lock, &a);
	pthread_rwlockattr_destroy(&a);
	if (rc != 0)
		return SB_ENOMEM;
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		pthread_rwlock_destroy(&l->env_lock);
		return SB_ENOMEM;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->work_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&l->done_cv, NULL);
	return 0;
}

int
ledger_open(const char *dir, const struct ledger_opts *opts, struct ledger **out)
{
	struct ledger_opts o = { 0 };
	struct ledger *l;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (dir == NULL || out == NULL)
		return SB_EINVAL;
	if (opts != NULL)
		o = *opts;
	if (o.map_size == 0)
		o.map_size = LEDGER_MAP_SIZE_DEFAULT;
	if (o.queue_max == 0)
		o.queue_max = LEDGER_QUEUE_DEFAULT;
	if (o.batch_max == 0)
		o.batch_max = LEDGER_BATCH_DEFAULT;
	if (o.extra_dbs > 1000)
		return SB_EINVAL;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_err("ledger: cannot make %s: %s", dir, strerror(errno));
		return SB_EIO;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return SB_ENOMEM;
	if ((rc = sync_init(l)) != 0) {
		free(l);
		return rc;
	}
	l->queue_max = o.queue_max;
	l->batch_max = o.batch_max;
	l->map_size_max = o.map_size_max;
	if ((l->scratch = malloc(LEDGER_ENTRY_MAX)) == NULL)
		rc = SB_ENOMEM;
	if (rc == 0)
		rc = env_open(l, dir, &o);
	if (rc == 0 && pthread_create(&l->committer, NULL, committer_main, l) != 0)
		rc = SB_ENOMEM;
	if (rc != 0) {
		ledger_close(l);
		return rc;
	}
	l->started = 1;
	*out = l;
	return 0;
}

void
ledger_close(struct ledger *l)
{
	if (l == NULL)
		return;
	if (l->started) {
		pthread_mutex_lock(&l->mu);
		l->stopping = 1;
		pthread_cond_broadcast(&l->work_cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->committer, NULL);
	}
	if (l->env != NULL)
		mdb_env_close(l->env);
	pthread_cond_destroy(&l->work_cv);
	pthread_cond_destroy(&l->done_cv);
	pthread_mutex_destroy(&l->mu);
	pthread_rwlock_destroy(&l->env_lock);
	free(l->scratch);
	free(l);
}

MDB_env *
ledger_env(struct ledger *l)
{
	return l->env;
}

uint64_t
ledger_size(struct ledger *l)
{
	uint64_t n;

	pthread_mutex_lock(&l->mu);
	n = l->edge.size;
	pthread_mutex_unlock(&l->mu);
	return n;
}

void
ledger_stats(struct ledger *l, struct ledger_stats *out)
{
	pthread_mutex_lock(&l->mu);
	out->size = l->edge.size;
	out->commits = l->commits;
	out->failed_commits = l->failed_commits;
	out->queued = l->queued;
	out->committing = l->committing;
	out->failing = l->failing;
	out->broken = l->broken;
	snprintf(out->why, sizeof(out->why), "%s", l->why);
	pthread_mutex_unlock(&l->mu);
}

int
ledger_set_map_size(struct ledger *l, size_t bytes)
{
	int rc;

	if (l == NULL || bytes == 0)
		return SB_EINVAL;
	pthread_rwlock_wrlock(&l->env_lock);
	rc = mdb_env_set_mapsize(l->env, bytes);
	pthread_rwlock_unlock(&l->env_lock);
	if (rc != 0) {
		log_err("ledger: cannot set the map size to %zu: %s", bytes, mdb_strerror(rc));
		return ledger_mdb_err(rc);
	}
	log_info("ledger: map size set to %zu bytes", bytes);
	return 0;
}

/* Doubles the map, at most to map_size_max; SB_ELIMIT when already there. */
static int
grow_map(struct ledger *l)
{
	MDB_envinfo info;
	size_t want;
	int rc;

	pthread_rwlock_wrlock(&l->env_lock);
	mdb_env_info(l->env, &info);
	if (info.me_mapsize >= l->map_size_max) {
		pthread_rwlock_unlock(&l->env_lock);
		return SB_ELIMIT;
	}
	want = info.me_mapsize > l->map_size_max / 2 ? l->map_size_max : info.me_mapsize * 2;
	rc = mdb_env_set_mapsize(l->env, want);
	pthread_rwlock_unlock(&l->env_lock);
	if (rc != 0) {
		log_err("ledger: cannot grow the map to %zu: %s", want, mdb_strerror(rc));
		return ledger_mdb_err(rc);
	}
	log_info("ledger: map grown from %zu to %zu bytes", info.me_mapsize, want);
	return 0;
}

/* ---- appending ---------------------------------------------------------- */

/*
 * Everything about an entry that can be checked before it has a number, in
 * the appender's thread: the shape (ledger_entry_check: what would not read
 * back as written) and the seal. Only the size needs the final bytes; the
 * committer checks that.
 */
/* 64 lower- or upper-case hex characters into 32 bytes. */
static int
hex32(const char *h, uint8_t out[32])
{
	for (int i = 0; i < 64; i++) {
		char c = h[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (v < 0)
			return 0;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return 1;
}

static int
req_prepare(struct ledger_req *r, json_t *entry)
{
	json_t *seal, *sig;
	int rc;

	if (!json_is_object(entry))
		return SB_EINVAL;
	if ((rc = ledger_entry_check(entry)) != 0)
		return rc;
	r->entry = entry;
	if ((seal = json_object_get(entry, "seal")) != NULL) {
		if (!json_is_string(seal) || json_string_length(seal) == 0 ||
		    json_string_length(seal) > LEDGER_SEAL_MAX)
			return SB_EINVAL;
		r->seal_len = json_string_length(seal);
		memcpy(r->seal, json_string_value(seal), r->seal_len);
	}
	if ((sig = json_object_get(entry, "signature_digest")) != NULL) {
		const char *h = json_string_value(sig);

		if (h == NULL || json_string_length(sig) != 64 || !hex32(h, r->sig))
			return SB_EINVAL;
		r->has_sig = 1;
	}
	return 0;
}

static int
put(struct commit *c, MDB_dbi dbi, void *k, size_t klen, const void *v, size_t vlen,
    unsigned flags)
{
	MDB_val key = { klen, k }, val = { vlen, (void *)v };
	int rc = mdb_put(c->txn, dbi, &key, &val, flags);

	if (rc != 0) {
		c->mdb_rc = rc;
		return ledger_mdb_err(rc);
	}
	return 0;
}

/* merkle_emit_fn: each leaf and completed node is stored once, never replaced. */
static int
put_node(void *arg, unsigned level, uint64_t index, const uint8_t hash[MERKLE_HASH_LEN])
{
	struct commit *c = arg;
	uint8_t key[LEDGER_NODE_KEY_LEN];

	ledger_node_key(key, level, index);
	return put(c, c->l->nodes, key, sizeof(key), hash, MERKLE_HASH_LEN, MDB_NOOVERWRITE);
}

/* Refuses one request without failing the batch. */
static int
refuse(struct ledger_req *r, int rc)
{
	r->refused = 1;
	r->rc = rc;
	return 0;
}

static int
write_entry(struct commit *c, struct ledger_req *r)
{
	struct ledger *l = c->l;
	uint64_t seq = c->edge.size;
	uint8_t key[16], skey[1 + LEDGER_SEAL_MAX + 8];
	size_t len;
	int rc;

	if (r->refused)
		return 0;
	if (json_object_set_new(r->entry, "seq", json_integer((json_int_t)seq)) != 0 ||
	    json_object_set_new(r->entry, "time", json_integer((json_int_t)c->time)) != 0)
		return refuse(r, SB_ENOMEM);
	/* jansson refuses to write a string that is not UTF-8 (made with a
	 * _nocheck call): then len is 0. */
	len = json_dumpb(r->entry, (char *)l->scratch, LEDGER_ENTRY_MAX, LEDGER_SER_FLAGS);
	if (len == 0 || len > LEDGER_ENTRY_MAX)
		return refuse(r, len == 0 ? SB_EINVAL : SB_ELIMIT);
	if ((rc = merkle_leaf_hash(l->scratch, len, r->leaf)) != 0)
		return rc;
	ledger_be64_put(key, seq);
	/* MDB_APPEND: a key at or below the last one is refused, never replaced. */
	if ((rc = put(c, l->entries, key, 8, l->scratch, len, MDB_APPEND)) != 0)
		return rc;
	ledger_be64_put(key, c->time);
	ledger_be64_put(key + 8, seq);
	if ((rc = put(c, l->by_time, key, 16, "", 0, MDB_NOOVERWRITE)) != 0)
		return rc;
	if (r->seal_len > 0) {
		skey[0] = (uint8_t)r->seal_len;
		memcpy(skey + 1, r->seal, r->seal_len);
		ledger_be64_put(skey + 1 + r->seal_len, seq);
		if ((rc = put(c, l->by_seal, skey, 1 + r->seal_len + 8, "", 0,
		    MDB_NOOVERWRITE)) != 0)
			return rc;
	}
	if (r->has_sig) {
		ledger_be64_put(key, seq);
		if ((rc = put(c, l->by_sig, r->sig, sizeof(r->sig), key, 8, 0)) != 0)
			return rc;
	}
	if ((rc = merkle_edge_append(&c->edge, r->leaf, put_node, c)) != 0)
		return rc;
	r->seq = seq;
	return 0;
}

/* One write transaction for the whole batch; c->edge advances on a copy. */
static int
commit_batch(struct commit *c, struct ledger_req *batch)
{
	struct ledger *l = c->l;
	uint64_t start = c->edge.size;
	uint8_t size[8];
	int rc;

	c->mdb_rc = 0;
	c->time = ledger_now_ms();
	pthread_rwlock_rdlock(&l->env_lock);
	if ((rc = mdb_txn_begin(l->env, NULL, 0, &c->txn)) != 0) {
		pthread_rwlock_unlock(&l->env_lock);
		c->mdb_rc = rc;
		return ledger_mdb_err(rc);
	}
	for (struct ledger_req *r = batch; r != NULL && rc == 0; r = r->next)
		rc = write_entry(c, r);
	if (rc == 0 && c->edge.size == start) {
		mdb_txn_abort(c->txn);	/* every request refused: nothing to sync */
	} else if (rc == 0) {
		ledger_be64_put(size, c->edge.size);
		if ((rc = meta_put(c->txn, l->meta, "size", size, 8)) != 0) {
			c->mdb_rc = rc;
			rc = ledger_mdb_err(rc);
			mdb_txn_abort(c->txn);
		} else if ((rc = mdb_txn_commit(c->txn)) != 0) {
			c->mdb_rc = rc;	/* the transaction is freed all the same */
			rc = ledger_mdb_err(rc);
		}
	} else {
		mdb_txn_abort(c->txn);
	}
	pthread_rwlock_unlock(&l->env_lock);
	return rc;
}

static int
commit_with_retry(struct commit *c, struct ledger_req *batch)
{
	struct merkle_edge start = c->edge;
	int rc;

	rc = commit_batch(c, batch);
	if (rc != 0 && c->mdb_rc == MDB_MAP_FULL && grow_map(c->l) == 0) {
		c->edge = start;
		rc = commit_batch(c, batch);
	}
	return rc;
}

static struct ledger_req *
take_batch(struct ledger *l)
{
	struct ledger_req *first = l->head, *last = first;
	unsigned n = 1;

	while (last->next != NULL && n < l->batch_max) {
		last = last->next;
		n++;
	}
	l->head = last->next;
	if (l->head == NULL)
		l->tail = NULL;
	last->next = NULL;
	l->queued -= n;
	l->committing = n;
	return first;
}

/* Under mu: publish the commit (or not) and wake the batch. */
static void
finish_batch(struct ledger *l, struct ledger_req *batch, int rc, const struct commit *c)
{
	struct ledger_req *r, *next;

	if (rc == 0) {
		l->edge = c->edge;
		l->commits++;
		if (l->failing)
			log_warn("ledger: writing again after %llu failed commits",
			    (unsigned long long)l->failed_commits);
		l->failing = 0;
		l->why[0] = '\0';
	} else {
		snprintf(l->why, sizeof(l->why), "%s",
		    c->mdb_rc ? mdb_strerror(c->mdb_rc) : sb_strerror(rc));
		if (!l->failing)
			log_err("ledger: commit failed, appends refused until a write "
			    "succeeds: %s", l->why);
		l->failing = 1;
		l->failed_commits++;
	}
	for (r = batch; r != NULL; r = next) {
		next = r->next;		/* r may be gone once done is set */
		if (!r->refused)
			r->rc = rc == 0 ? 0 : SB_EIO;
		r->done = 1;
	}
	l->committing = 0;
	pthread_cond_broadcast(&l->done_cv);
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Under mu, with something queued. The appenders of the last batch were just
 * woken and are coming back; starting the next commit before they have
 * queued again splits them into two cohorts that take turns, each fsync
 * carrying half of them. So while fewer are queued than last time, wait for
 * the rest, at most LINGER_MAX_NS and at most as long as the last commit
 * took (which is what a late one would otherwise wait). A lone appender
 * finds its own request enough and never waits.
 */
static void
linger(struct ledger *l)
{
	uint64_t wait = l->last_commit_ns < LINGER_MAX_NS ? l->last_commit_ns : LINGER_MAX_NS;
	uint64_t until = mono_ns() + wait;
	struct timespec ts = { (time_t)(until / 1000000000u), (long)(until % 1000000000u) };

	while (l->queued < l->last_batch && l->queued < l->batch_max && !l->stopping)
		if (pthread_cond_timedwait(&l->work_cv, &l->mu, &ts) != 0)
			break;
}

static void *
committer_main(void *arg)
{
	struct ledger *l = arg;
	struct ledger_req *batch;
	struct commit c = { .l = l };
	uint64_t t0;
	int rc;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		while (l->head == NULL && !l->stopping)
			pthread_cond_wait(&l->work_cv, &l->mu);
		if (l->head == NULL)
			break;
		linger(l);
		batch = take_batch(l);
		l->last_batch = l->committing;
		c.edge = l->edge;
		pthread_mutex_unlock(&l->mu);
		t0 = mono_ns();
		rc = commit_with_retry(&c, batch);
		pthread_mutex_lock(&l->mu);
		l->last_commit_ns = mono_ns() - t0;
		finish_batch(l, batch, rc, &c);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int
ledger_append(struct ledger *l, json_t *entry, uint64_t *seq, uint8_t leaf[MERKLE_HASH_LEN])
{
	struct ledger_req r;
	int rc;

	if (l == NULL || seq == NULL)
		return SB_EINVAL;
	memset(&r, 0, sizeof(r));
	if ((rc = req_prepare(&r, entry)) != 0)
		return rc;
	pthread_mutex_lock(&l->mu);
	if (l->stopping || l->broken) {
		rc = SB_ESTATE;
	} else if (l->queued >= l->queue_max) {
		rc = SB_ELIMIT;
	} else {
		if (l->tail != NULL)
			l->tail->next = &r;
		else
			l->head = &r;
		l->tail = &r;
		l->queued++;
		pthread_cond_signal(&l->work_cv);
		while (!r.done)
			pthread_cond_wait(&l->done_cv, &l->mu);
		rc = r.rc;
	}
	pthread_mutex_unlock(&l->mu);
	if (rc == 0) {
		*seq = r.seq;
		if (leaf != NULL)
			memcpy(leaf, r.leaf, MERKLE_HASH_LEN);
	}
	return rc;
}
