/*
 * ledger_int — what ledger.c, ledger_read.c, ledger_sth.c and ledger_verify.c
 * share. Not for use outside daemon/ledger/.
 *
 * Locks, in the order they may be taken: env_lock (read side around every
 * LMDB transaction, write side only to change the map size, which LMDB allows
 * only while no transaction is open in the process), then mu (queue and
 * committed state; never held across LMDB I/O or a callback).
 */
#ifndef SB_LEDGER_INT_H
#define SB_LEDGER_INT_H

#include <pthread.h>
#include <stdint.h>

#include <lmdb.h>

#include "daemon/ledger/ledger.h"
#include "daemon/ledger/merkle.h"

#define LEDGER_NODE_KEY_LEN 9
#define LEDGER_SER_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

struct ledger_req;

struct ledger {
	MDB_env *env;
	MDB_dbi entries, nodes, sth, by_seal, by_time, meta, by_sig;
	pthread_rwlock_t env_lock;
	pthread_mutex_t mu;
	pthread_cond_t work_cv;		/* committer waits for requests */
	pthread_cond_t done_cv;		/* appenders wait for their commit */
	struct ledger_req *head, *tail;	/* the queue, oldest first */
	unsigned queued, queue_max, batch_max;
	unsigned committing;		/* requests in the batch being written */
	unsigned last_batch;		/* requests in the previous batch */
	uint64_t last_commit_ns;	/* how long the previous commit took */
	size_t map_size_max;
	int stopping, broken, failing, started;
	pthread_t committer;
	struct merkle_edge edge;	/* of the committed tree; under mu */
	uint64_t commits, failed_commits;
	char why[LEDGER_WHY_MAX];	/* why the last commit failed; "" after a success */
	uint8_t *scratch;		/* committer's LEDGER_ENTRY_MAX buffer */
};

/* A read of stored tree nodes inside one transaction (a merkle_node_fn arg). */
struct ledger_nodes {
	struct ledger *l;
	MDB_txn *txn;
};

void ledger_be64_put(uint8_t *p, uint64_t v);
uint64_t ledger_be64_get(const uint8_t *p);
void ledger_node_key(uint8_t key[LEDGER_NODE_KEY_LEN], unsigned level, uint64_t index);
int ledger_node_get(void *arg, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN]);
/* An sb_err code for an LMDB or errno code. */
int ledger_mdb_err(int rc);
uint64_t ledger_now_ms(void);
/* A read-only transaction under env_lock; rd_end aborts it and unlocks. */
int ledger_rd_begin(struct ledger *l, MDB_txn **txn);
void ledger_rd_end(struct ledger *l, MDB_txn *txn);
/*
 * The shape every entry has: an object whose keys (at every depth) are 1..
 * LEDGER_KEY_MAX characters of [A-Za-z0-9_.-], whose strings hold no NUL,
 * nested at most LEDGER_ENTRY_DEPTH deep. With jansson that is what makes
 * the written bytes read back as the same value: its reader refuses NUL in
 * strings and keys, and its writer garbles keys that are not UTF-8.
 */
int ledger_entry_check(const json_t *entry);
/* A stored tree head (LEDGER_DB_STH key and value); SB_EIO if malformed. */
int ledger_sth_decode(const MDB_val *k, const MDB_val *v, struct ledger_sth *out);
/* Base64 (RFC 4648, padded) as a new JSON string; NULL when out of memory. */
json_t *ledger_b64_json(const uint8_t *p, size_t n);
/* Strict base64 decoding: only canonical text, at most max bytes. */
int ledger_b64_decode(const char *s, uint8_t *out, size_t max, size_t *n);

#endif
