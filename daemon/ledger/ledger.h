/*
 * ledger — the tamper-evident record of every signature and state change:
 * an append-only sequence of JSON entries in LMDB with an RFC 9162 Merkle
 * tree over them and signed tree heads (STH). docs/ledger.md has the formats.
 *
 * Only the monitor uses it (the one process that opens LMDB). It must never:
 *  - return from ledger_append before the entry is durably committed
 *    (invariant 2: no signature leaves before its entry);
 *  - change, delete or renumber a committed entry: no call here can;
 *  - leave a gap or a half-built tree after a failed commit: the in-memory
 *    state (next sequence number, right edge of the tree) goes back to the
 *    last commit, and the next append simply tries again (invariant 6);
 *  - interpret an entry beyond "seq", "time" (its own) and "seal" (indexed).
 *
 * Appends are group-committed: appenders queue their entry and sleep; one
 * committer thread writes everything queued (up to batch_max) in one LMDB
 * write transaction with one fsync and then wakes them all. So throughput
 * grows with the number of concurrent appenders instead of being one fsync
 * per entry.
 *
 * Threads: every call may be made from any number of threads at once on one
 * handle; ledger_close only once no other call on the handle is running.
 * Callbacks (sign) run without any ledger lock held.
 *
 * Errors: SB_EINVAL (bad argument or entry), SB_ELIMIT (a bound: entry size,
 * queue length, list length), SB_ENOTFOUND (no such entry, size or tree
 * head), SB_EIO (LMDB failed: disk full, I/O error, map full; logged once per
 * outage with LMDB's reason), SB_ESTATE (closing, or a ledger whose stored
 * tree is damaged: run ledger_verify), SB_ECRYPTO (a hash, signature or
 * verification failed), SB_EUNSUPPORTED (a ledger of a newer format),
 * SB_ENOMEM.
 */
#ifndef SB_LEDGER_H
#define SB_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <lmdb.h>
#include <openssl/evp.h>

#include "daemon/ledger/merkle.h"
#include "lib/buf.h"

#define LEDGER_ENTRY_MAX 16384		/* bytes of one serialized entry */
#define LEDGER_SEAL_MAX 128		/* bytes of an entry's "seal" */
#define LEDGER_KEY_MAX 64		/* bytes of a key in an entry */
#define LEDGER_ENTRY_DEPTH 8		/* objects and arrays nested in an entry */
#define LEDGER_LIST_MAX 1000		/* items one listing call returns */
#define LEDGER_SIG_MAX 512		/* bytes of an STH signature */
#define LEDGER_QUEUE_DEFAULT 4096	/* appends waiting for a commit */
#define LEDGER_BATCH_DEFAULT 1024	/* entries in one commit */
#define LEDGER_MAP_SIZE_DEFAULT ((size_t)1 << 30)
#define LEDGER_FORMAT 1			/* meta "version" */
#define LEDGER_WHY_MAX 128		/* bytes of ledger_stats.why */

/* The named databases, for test tools that go behind the ledger's back. */
#define LEDGER_DB_ENTRIES "ledger/entries"	/* seq BE64 -> entry bytes */
#define LEDGER_DB_NODES "ledger/nodes"		/* level u8 || index BE64 -> hash */
#define LEDGER_DB_STH "ledger/sth"		/* tree size BE64 -> tree head */
#define LEDGER_DB_BY_SEAL "ledger/by_seal"	/* len u8 || seal || seq BE64 -> "" */
#define LEDGER_DB_BY_TIME "ledger/by_time"	/* time ms BE64 || seq BE64 -> "" */
#define LEDGER_DB_META "ledger/meta"		/* "version" BE32, "size" BE64 */
#define LEDGER_DB_BY_SIG "ledger/by_sig"	/* signature digest (32) -> seq BE64 */
#define LEDGER_DBS 7

/* "sealbox-sth-v1" || tree_size BE64 || timestamp_ms BE64 || root[32] */
#define LEDGER_STH_LABEL "sealbox-sth-v1"
#define LEDGER_STH_MSG_LEN (14 + 8 + 8 + MERKLE_HASH_LEN)

struct ledger;

struct ledger_opts {
	size_t map_size;	/* LMDB map size; 0: LEDGER_MAP_SIZE_DEFAULT */
	size_t map_size_max;	/* on a full map, double up to this; 0: never grow */
	unsigned queue_max;	/* 0: LEDGER_QUEUE_DEFAULT */
	unsigned batch_max;	/* 0: LEDGER_BATCH_DEFAULT */
	unsigned extra_dbs;	/* named databases the caller opens in ledger_env() */
};

struct ledger_sth {
	uint64_t tree_size;
	uint64_t timestamp;	/* unix ms */
	uint8_t root[MERKLE_HASH_LEN];
	uint8_t sig[LEDGER_SIG_MAX];
	size_t sig_len;
};

struct ledger_stats {
	uint64_t size;		/* committed entries */
	uint64_t commits;	/* successful write transactions by the committer */
	uint64_t failed_commits;
	unsigned queued;	/* appends waiting for the committer to take them */
	unsigned committing;	/* appends in the commit being written now */
	int failing;		/* the last commit failed: appends get SB_EIO */
	int broken;		/* the stored tree could not be loaded at open */
	char why[LEDGER_WHY_MAX];	/* while failing: LMDB's reason ("No space
				   left on device", "Input/output error"); else "" */
};

/*
 * Signs msg (LEDGER_STH_MSG_LEN bytes) for a tree head; *siglen is the room
 * in sig on entry (LEDGER_SIG_MAX) and the length written on return. For
 * ECDSA the signature is DER over SHA-256(msg), as EVP_DigestSign makes it.
 * Returns 0 or a negative sb_err code.
 */
typedef int (*ledger_sign_fn)(void *arg, const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *siglen);

/*
 * Opens (creating if needed, mode 0700/0600) the LMDB environment in dir and
 * starts the committer thread. opts may be NULL for the defaults. A ledger
 * whose stored tree cannot be loaded still opens, with appends refused
 * (SB_ESTATE), so that ledger_verify can say what is wrong.
 */
int ledger_open(const char *dir, const struct ledger_opts *opts, struct ledger **out);
/* Commits what is queued, stops the committer, closes LMDB. Accepts NULL.
 * No other call on l may be running or start. */
void ledger_close(struct ledger *l);
/* The environment, for the caller's own named databases (opts.extra_dbs). */
MDB_env *ledger_env(struct ledger *l);

/*
 * Appends an entry: a JSON object of the caller's fields. The ledger sets
 * "seq" and "time" (unix ms) in it, overwriting any given, and stores it as
 * compact JSON with sorted keys; the leaf hash is over exactly those bytes.
 * "seal", if present, must be a string of 1..LEDGER_SEAL_MAX bytes and is
 * indexed. Keys are 1..LEDGER_KEY_MAX characters of [A-Za-z0-9_.-], strings
 * are UTF-8 without NUL, nesting is at most LEDGER_ENTRY_DEPTH. Returns
 * after the commit is durable, with the sequence number in *seq and the
 * leaf hash in leaf (may be NULL). The caller must not touch
 * the object from another thread during the call.
 * SB_EINVAL, SB_ELIMIT (too large, or opts.queue_max appends already
 * waiting), SB_EIO (the commit failed: nothing was stored, try again),
 * SB_ESTATE.
 */
int ledger_append(struct ledger *l, json_t *entry, uint64_t *seq,
    uint8_t leaf[MERKLE_HASH_LEN]);

/* Committed entries: the size of the tree. */
uint64_t ledger_size(struct ledger *l);
void ledger_stats(struct ledger *l, struct ledger_stats *out);
/* Grows (or shrinks) the map; waits for running transactions. */
int ledger_set_map_size(struct ledger *l, size_t bytes);

/* The stored bytes of entry seq, appended to out (out->max >= their length). */
int ledger_entry_get(struct ledger *l, uint64_t seq, struct buf *out);
/* {"seq": n, "leaf_input": base64 of the stored bytes, "entry": {...}} */
int ledger_entry_json(struct ledger *l, uint64_t seq, json_t **out);
/* A new JSON array of ledger_entry_json objects for seq start.., at most
 * min(count, LEDGER_LIST_MAX) and none past the tree; empty past its end. */
int ledger_entries(struct ledger *l, uint64_t start, size_t count, json_t **out);
/* Sequence numbers >= start of entries with this "seal", ascending; at most
 * min(max, LEDGER_LIST_MAX) of them in *n. */
int ledger_find_by_seal(struct ledger *l, const char *seal, uint64_t start,
    uint64_t *seqs, size_t max, size_t *n);
/* Sequence numbers of entries whose time is in [from_ms, to_ms), ordered by
 * (time, seq), starting at (from_ms, from_seq); to page on, pass the last
 * entry's time and seq + 1. */
/* The entry whose "signature_digest" (64 hex, the SHA-256 of a CMS) is sha;
 * SB_ENOTFOUND if none. The index is written in the entry's own commit. */
int ledger_find_by_sig(struct ledger *l, const uint8_t sha[32], uint64_t *seq);
int ledger_find_by_time(struct ledger *l, uint64_t from_ms, uint64_t from_seq,
    uint64_t to_ms, uint64_t *seqs, size_t max, size_t *n);

/*
 * Parses stored entry bytes: a JSON object in canonical form (what the
 * ledger writes: compact, sorted keys, no duplicates, re-serializing gives
 * the same bytes, keys and nesting as ledger_append takes them) with
 * integers "seq" and "time" >= 0 and, if present, a "seal" of
 * 1..LEDGER_SEAL_MAX bytes. *out (may be NULL) gets the object.
 * Untrusted input is fine: this is what the verifier and clients run.
 */
int ledger_entry_parse(const uint8_t *data, size_t len, uint64_t *seq,
    uint64_t *time_ms, json_t **out);

/* Root of the tree of the first `size` entries (size <= ledger_size). */
int ledger_root(struct ledger *l, uint64_t size, uint8_t root[MERKLE_HASH_LEN]);
/* Inclusion proof of entry seq in the tree of tree_size entries; path has
 * room for MERKLE_MAX_PATH hashes, *n gets their number. */
int ledger_inclusion_proof(struct ledger *l, uint64_t seq, uint64_t tree_size,
    uint8_t *path, size_t *n);
/* Consistency proof between trees of first <= second <= ledger_size entries. */
int ledger_consistency_proof(struct ledger *l, uint64_t first, uint64_t second,
    uint8_t *path, size_t *n);

/* Signs the current tree (size, root, now) with sign and stores the tree
 * head, replacing one of the same size. */
int ledger_sth_make(struct ledger *l, ledger_sign_fn sign, void *arg,
    struct ledger_sth *out);
/* The stored tree head of the largest size; SB_ENOTFOUND if none. */
int ledger_sth_latest(struct ledger *l, struct ledger_sth *out);
int ledger_sth_get(struct ledger *l, uint64_t tree_size, struct ledger_sth *out);
/* The signed message, LEDGER_STH_MSG_LEN bytes. */
void ledger_sth_message(const struct ledger_sth *sth, uint8_t msg[LEDGER_STH_MSG_LEN]);
/* 0 if sth's signature is pub's over its message (ECDSA or RSA, SHA-256). */
int ledger_sth_verify(const struct ledger_sth *sth, EVP_PKEY *pub);
/* {"tree_size", "timestamp", "root_hash" (base64), "signature" (base64)} */
int ledger_sth_to_json(const struct ledger_sth *sth, json_t **out);
/* The reverse, strict: exactly those four keys, canonical base64, 32-byte
 * root, 1..LEDGER_SIG_MAX signature bytes. For untrusted input. */
int ledger_sth_from_json(const json_t *j, struct ledger_sth *out);

/*
 * Checks the whole ledger from its stored entries: every entry is canonical
 * and at its own sequence number, none is missing, each stored leaf hash and
 * tree node equals its recomputation, the indexes name every entry, and
 * every stored tree head has a valid signature by audit_pub (NULL: skip the
 * signatures) and the recomputed root of its size. Returns 0 if all holds
 * (*first_bad = the tree size), SB_ECRYPTO if not, with *first_bad = the
 * first sequence number that cannot be trusted and a one-line reason in msg
 * that names it; or SB_EIO/SB_ENOMEM if it could not read.
 */
int ledger_verify(struct ledger *l, EVP_PKEY *audit_pub, uint64_t *first_bad,
    char *msg, size_t len);

#endif
