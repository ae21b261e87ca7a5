/*
 * merkle — the Merkle tree of RFC 9162 (Certificate Transparency v2) §2.1
 * with SHA-256: leaf and node hashes, tree roots (MTH), inclusion proofs
 * (§2.1.3) and consistency proofs (§2.1.4), their generation and checking.
 *
 * Pure functions: no I/O, no locks, no state but the SHA-256 implementation
 * fetched from OpenSSL once per process. The generators hold no tree: they
 * ask the caller's accessor (merkle_node_fn) for the hash of complete
 * subtrees, so that the ledger answers from its stored nodes in O(log n)
 * reads and a client from an array of leaf hashes.
 *
 * It must never call a proof good that does not prove its claim in full: the
 * verifiers return 0 only when the path has exactly the length the tree shape
 * asks for and every hash matches; any other result is a refusal.
 *
 * Words: a tree of `size` leaves; leaf i (0-based) is the i-th entry. The
 * complete subtree (level L, index i) is the 2^L leaves from i * 2^L; level 0
 * is a leaf hash. Proof paths are flat arrays of n hashes (n * 32 bytes),
 * leaf side first, at most MERKLE_MAX_PATH hashes; a caller passes a buffer
 * of MERKLE_MAX_PATH * MERKLE_HASH_LEN bytes to the generators.
 *
 * Errors: SB_EINVAL for arguments no tree can have (index >= size, size above
 * MERKLE_MAX_SIZE, first > second, a path longer than MERKLE_MAX_PATH),
 * SB_ECRYPTO when a proof does not verify or OpenSSL fails, SB_ENOMEM, or
 * whatever the accessor returned.
 */
#ifndef SB_MERKLE_H
#define SB_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32
#define MERKLE_LEVELS 64		/* levels 0..63 of struct merkle_edge */
#define MERKLE_MAX_SIZE (UINT64_C(1) << 63)	/* most leaves in a tree */
/* An inclusion path has at most 63 hashes, a consistency path 64. */
#define MERKLE_MAX_PATH 64

/*
 * Writes the hash of complete subtree (level, index) to out. Returns 0, or a
 * negative sb_err code that the caller passes on (SB_ENOTFOUND for a node
 * that should exist and does not, SB_EIO, ...). It is only asked for
 * subtrees inside the tree size the caller named.
 */
typedef int (*merkle_node_fn)(void *arg, unsigned level, uint64_t index,
    uint8_t out[MERKLE_HASH_LEN]);

/* Told of each complete subtree as it comes to exist (see merkle_edge_append). */
typedef int (*merkle_emit_fn)(void *arg, unsigned level, uint64_t index,
    const uint8_t hash[MERKLE_HASH_LEN]);

/* SHA-256(0x00 || data). */
int merkle_leaf_hash(const void *data, size_t len, uint8_t out[MERKLE_HASH_LEN]);
/* SHA-256(0x01 || left || right). */
int merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN],
    const uint8_t right[MERKLE_HASH_LEN], uint8_t out[MERKLE_HASH_LEN]);
/* MTH of no leaves: SHA-256 of the empty string. */
int merkle_empty_root(uint8_t out[MERKLE_HASH_LEN]);

/* MTH of the first `size` leaves, from at most 64 accessor calls. */
int merkle_root(merkle_node_fn get, void *arg, uint64_t size,
    uint8_t root[MERKLE_HASH_LEN]);

/*
 * PATH(index, D[size]) of RFC 9162 §2.1.3.1 into path (room for
 * MERKLE_MAX_PATH hashes); *n is the number of hashes. index < size.
 */
int merkle_inclusion_proof(merkle_node_fn get, void *arg, uint64_t index,
    uint64_t size, uint8_t *path, size_t *n);
/* 0 only if path proves that leaf is leaf `index` of the tree of `size` with root. */
int merkle_inclusion_verify(const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index,
    uint64_t size, const uint8_t *path, size_t n, const uint8_t root[MERKLE_HASH_LEN]);

/*
 * PROOF(first, D[second]) of RFC 9162 §2.1.4.1; first <= second. The proof
 * is empty when first is 0 or equal to second.
 */
int merkle_consistency_proof(merkle_node_fn get, void *arg, uint64_t first,
    uint64_t second, uint8_t *path, size_t *n);
/*
 * 0 only if path proves that the tree of `second` leaves with second_root
 * extends the tree of `first` leaves with first_root. With first == second
 * the path must be empty and the roots equal; with first == 0 the path must
 * be empty and first_root the empty root.
 */
int merkle_consistency_verify(uint64_t first, uint64_t second,
    const uint8_t first_root[MERKLE_HASH_LEN],
    const uint8_t second_root[MERKLE_HASH_LEN], const uint8_t *path, size_t n);

/*
 * The right edge of a growing tree: for each bit L set in size, hash[L] is
 * the complete subtree of 2^L leaves ending the tree. That is all an
 * appender needs: the root, and the nodes each new leaf completes.
 */
struct merkle_edge {
	uint64_t size;
	uint8_t hash[MERKLE_LEVELS][MERKLE_HASH_LEN];
};

void merkle_edge_init(struct merkle_edge *e);
/* The edge of a tree of `size` leaves, read through the accessor. */
int merkle_edge_load(struct merkle_edge *e, uint64_t size, merkle_node_fn get,
    void *arg);
/*
 * Adds a leaf. emit (may be NULL) is called for the leaf itself (level 0)
 * and then for every subtree the leaf completes, lowest first. When emit
 * fails, its code is returned and the edge is unchanged.
 */
int merkle_edge_append(struct merkle_edge *e, const uint8_t leaf[MERKLE_HASH_LEN],
    merkle_emit_fn emit, void *arg);
int merkle_edge_root(const struct merkle_edge *e, uint8_t root[MERKLE_HASH_LEN]);

/*
 * An accessor over an array of leaf hashes, for clients and tests: arg is a
 * struct merkle_leaves. It hashes 2^level leaves per call, so it suits small
 * trees; a large one wants stored nodes.
 */
struct merkle_leaves {
	const uint8_t *leaf;	/* count * MERKLE_HASH_LEN bytes */
	uint64_t count;
};
int merkle_leaves_node(void *arg, unsigned level, uint64_t index,
    uint8_t out[MERKLE_HASH_LEN]);

#endif
