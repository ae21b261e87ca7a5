/*
 * merkle — RFC 9162 §2.1 hashing and proofs. See merkle.h.
 *
 * The recursive definitions of the RFC (MTH, PATH, SUBPROOF) split a range
 * of k + (n - k) leaves where k is the largest power of two below n. Every
 * range they name starts at a multiple of a power of two at least as large
 * as the range, so it is a run of complete subtrees whose sizes are the bits
 * of its length, largest first; range_hash folds those from the right. That
 * is why an accessor for complete subtrees is all the generators need.
 *
 * The verifiers are the RFC's iterative algorithms (§2.1.3.2, §2.1.4.2),
 * which check the path length implicitly: a path that is too short leaves
 * sn above 0, one that is too long runs sn to 0 before its end.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/err.h"
#include "merkle.h"

static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* One explicit fetch: an implicit one per hash costs a provider lookup each time. */
static void
sha256_fetch(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
md(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256;
}

static int
hash2(uint8_t prefix, const void *a, size_t alen, const void *b, size_t blen,
    uint8_t out[MERKLE_HASH_LEN])
{
	EVP_MD_CTX *ctx;
	int ok;

	if (md() == NULL)
		return SB_ECRYPTO;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return SB_ENOMEM;
	ok = EVP_DigestInit_ex2(ctx, md(), NULL) &&
	    EVP_DigestUpdate(ctx, &prefix, 1) &&
	    (alen == 0 || EVP_DigestUpdate(ctx, a, alen)) &&
	    (blen == 0 || EVP_DigestUpdate(ctx, b, blen)) &&
	    EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : SB_ECRYPTO;
}

int
merkle_leaf_hash(const void *data, size_t len, uint8_t out[MERKLE_HASH_LEN])
{
	if (data == NULL && len != 0)
		return SB_EINVAL;
	return hash2(0x00, data, len, NULL, 0, out);
}

int
merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN],
    const uint8_t right[MERKLE_HASH_LEN], uint8_t out[MERKLE_HASH_LEN])
{
	return hash2(0x01, left, MERKLE_HASH_LEN, right, MERKLE_HASH_LEN, out);
}

int
merkle_empty_root(uint8_t out[MERKLE_HASH_LEN])
{
	if (md() == NULL)
		return SB_ECRYPTO;
	return EVP_Digest("", 0, out, NULL, md(), NULL) ? 0 : SB_ECRYPTO;
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

/* MTH(D[start:start+count]) as a fold of the complete subtrees it is made of. */
static int
range_hash(merkle_node_fn get, void *arg, uint64_t start, uint64_t count,
    uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t part[MERKLE_LEVELS][MERKLE_HASH_LEN];
	size_t nparts = 0;
	uint64_t pos = start;
	int rc;

	if (count == 0 || count > MERKLE_MAX_SIZE)
		return SB_EINVAL;
	for (int bit = MERKLE_LEVELS - 1; bit >= 0; bit--) {
		uint64_t p = UINT64_C(1) << bit;

		if (!(count & p))
			continue;
		if (pos % p != 0)
			return SB_EINVAL;	/* not a range the RFC ever names */
		if ((rc = get(arg, (unsigned)bit, pos >> bit, part[nparts])) != 0)
			return rc;
		nparts++;
		pos += p;
	}
	memcpy(out, part[nparts - 1], MERKLE_HASH_LEN);
	for (size_t i = nparts - 1; i-- > 0;)
		if ((rc = merkle_node_hash(part[i], out, out)) != 0)
			return rc;
	return 0;
}

int
merkle_root(merkle_node_fn get, void *arg, uint64_t size, uint8_t root[MERKLE_HASH_LEN])
{
	if (get == NULL || size > MERKLE_MAX_SIZE)
		return SB_EINVAL;
	if (size == 0)
		return merkle_empty_root(root);
	return range_hash(get, arg, 0, size, root);
}

struct proof {
	merkle_node_fn get;
	void *arg;
	uint8_t *path;
	size_t n;
};

static int
proof_add_range(struct proof *p, uint64_t start, uint64_t count)
{
	int rc;

	if (p->n >= MERKLE_MAX_PATH)
		return SB_EINVAL;
	rc = range_hash(p->get, p->arg, start, count, p->path + p->n * MERKLE_HASH_LEN);
	if (rc == 0)
		p->n++;
	return rc;
}

/* PATH(m, D[start:start+n]); recursion depth is at most 63. */
static int
inclusion_path(struct proof *p, uint64_t m, uint64_t start, uint64_t n)
{
	uint64_t k;
	int rc;

	if (n <= 1)
		return 0;
	k = split_point(n);
	if (m < k) {
		if ((rc = inclusion_path(p, m, start, k)) != 0)
			return rc;
		return proof_add_range(p, start + k, n - k);
	}
	if ((rc = inclusion_path(p, m - k, start + k, n - k)) != 0)
		return rc;
	return proof_add_range(p, start, k);
}

int
merkle_inclusion_proof(merkle_node_fn get, void *arg, uint64_t index, uint64_t size,
    uint8_t *path, size_t *n)
{
	struct proof p = { get, arg, path, 0 };
	int rc;

	*n = 0;
	if (get == NULL || path == NULL || size > MERKLE_MAX_SIZE || index >= size)
		return SB_EINVAL;
	if ((rc = inclusion_path(&p, index, 0, size)) == 0)
		*n = p.n;
	return rc;
}

/* SUBPROOF(m, D[start:start+n], b) */
static int
subproof(struct proof *p, uint64_t m, uint64_t start, uint64_t n, int b)
{
	uint64_t k;
	int rc;

	if (m == n)
		return b ? 0 : proof_add_range(p, start, n);
	k = split_point(n);
	if (m <= k) {
		if ((rc = subproof(p, m, start, k, b)) != 0)
			return rc;
		return proof_add_range(p, start + k, n - k);
	}
	if ((rc = subproof(p, m - k, start + k, n - k, 0)) != 0)
		return rc;
	return proof_add_range(p, start, k);
}

int
merkle_consistency_proof(merkle_node_fn get, void *arg, uint64_t first,
    uint64_t second, uint8_t *path, size_t *n)
{
	struct proof p = { get, arg, path, 0 };
	int rc;

	*n = 0;
	if (get == NULL || path == NULL || second > MERKLE_MAX_SIZE || first > second)
		return SB_EINVAL;
	if (first == 0 || first == second)
		return 0;
	if ((rc = subproof(&p, first, 0, second, 1)) == 0)
		*n = p.n;
	return rc;
}

static int
same(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, MERKLE_HASH_LEN) == 0;
}

/* Shift fn and sn right together until fn is odd or 0 (RFC 9162 step ii). */
static void
shift_to_odd(uint64_t *fn, uint64_t *sn)
{
	while (!(*fn & 1) && *fn != 0) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

int
merkle_inclusion_verify(const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index,
    uint64_t size, const uint8_t *path, size_t n, const uint8_t root[MERKLE_HASH_LEN])
{
	uint8_t r[MERKLE_HASH_LEN];
	uint64_t fn = index, sn;
	int rc;

	if (size > MERKLE_MAX_SIZE || index >= size || n > MERKLE_MAX_PATH ||
	    (n > 0 && path == NULL))
		return SB_EINVAL;
	sn = size - 1;
	memcpy(r, leaf, MERKLE_HASH_LEN);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *c = path + i * MERKLE_HASH_LEN;

		if (sn == 0)
			return SB_ECRYPTO;	/* path longer than the tree is deep */
		if ((fn & 1) || fn == sn) {
			rc = merkle_node_hash(c, r, r);
			if (!(fn & 1))
				shift_to_odd(&fn, &sn);
		} else {
			rc = merkle_node_hash(r, c, r);
		}
		if (rc != 0)
			return rc;
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && same(r, root) ? 0 : SB_ECRYPTO;
}

/* The cases RFC 9162 §2.1.4.2 leaves to the caller; 1 if it decided. */
static int
consistency_trivial(uint64_t first, uint64_t second, const uint8_t *first_root,
    const uint8_t *second_root, size_t n, int *rc)
{
	uint8_t empty[MERKLE_HASH_LEN];

	if (first == second) {
		*rc = n == 0 && same(first_root, second_root) ? 0 : SB_ECRYPTO;
		return 1;
	}
	if (first == 0) {
		*rc = merkle_empty_root(empty);
		if (*rc == 0)
			*rc = n == 0 && same(first_root, empty) ? 0 : SB_ECRYPTO;
		return 1;
	}
	if (n == 0) {
		*rc = SB_ECRYPTO;
		return 1;
	}
	return 0;
}

int
merkle_consistency_verify(uint64_t first, uint64_t second,
    const uint8_t first_root[MERKLE_HASH_LEN],
    const uint8_t second_root[MERKLE_HASH_LEN], const uint8_t *path, size_t n)
{
	uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
	uint64_t fn, sn;
	size_t i = 0;
	int rc = 0;

	if (second > MERKLE_MAX_SIZE || first > second || n > MERKLE_MAX_PATH ||
	    (n > 0 && path == NULL))
		return SB_EINVAL;
	if (consistency_trivial(first, second, first_root, second_root, n, &rc))
		return rc;
	/* A first tree of 2^k leaves is itself a node of the second: the RFC
	 * prepends its root to the path instead of sending it. */
	if ((first & (first - 1)) == 0) {
		memcpy(fr, first_root, MERKLE_HASH_LEN);
	} else {
		memcpy(fr, path, MERKLE_HASH_LEN);
		i = 1;
	}
	memcpy(sr, fr, MERKLE_HASH_LEN);
	fn = first - 1;
	sn = second - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < n; i++) {
		const uint8_t *c = path + i * MERKLE_HASH_LEN;

		if (sn == 0)
			return SB_ECRYPTO;
		if ((fn & 1) || fn == sn) {
			if ((rc = merkle_node_hash(c, fr, fr)) != 0 ||
			    (rc = merkle_node_hash(c, sr, sr)) != 0)
				return rc;
			if (!(fn & 1))
				shift_to_odd(&fn, &sn);
		} else if ((rc = merkle_node_hash(sr, c, sr)) != 0) {
			return rc;
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && same(fr, first_root) && same(sr, second_root) ? 0 : SB_ECRYPTO;
}

void
merkle_edge_init(struct merkle_edge *e)
{
	memset(e, 0, sizeof(*e));
}

int
merkle_edge_load(struct merkle_edge *e, uint64_t size, merkle_node_fn get, void *arg)
{
	struct merkle_edge tmp;
	int rc;

	if (get == NULL || size > MERKLE_MAX_SIZE)
		return SB_EINVAL;
	merkle_edge_init(&tmp);
	tmp.size = size;
	for (unsigned l = 0; l < MERKLE_LEVELS; l++) {
		if (!(size >> l & 1))
			continue;
		if ((rc = get(arg, l, (size >> l) - 1, tmp.hash[l])) != 0)
			return rc;
	}
	*e = tmp;
	return 0;
}

/*
 * Leaf number `size` completes one subtree per trailing 1 bit of size: each
 * merges the edge's subtree of that level with what was carried so far. The
 * edge is written only after emit accepted every node.
 */
int
merkle_edge_append(struct merkle_edge *e, const uint8_t leaf[MERKLE_HASH_LEN],
    merkle_emit_fn emit, void *arg)
{
	uint8_t carry[MERKLE_HASH_LEN];
	uint64_t n = e->size;
	unsigned level = 0;
	int rc;

	if (n >= MERKLE_MAX_SIZE)
		return SB_ELIMIT;
	memcpy(carry, leaf, MERKLE_HASH_LEN);
	if (emit != NULL && (rc = emit(arg, 0, n, carry)) != 0)
		return rc;
	while (n >> level & 1) {
		if ((rc = merkle_node_hash(e->hash[level], carry, carry)) != 0)
			return rc;
		level++;
		if (emit != NULL && (rc = emit(arg, level, n >> level, carry)) != 0)
			return rc;
	}
	memcpy(e->hash[level], carry, MERKLE_HASH_LEN);
	e->size = n + 1;
	return 0;
}

int
merkle_edge_root(const struct merkle_edge *e, uint8_t root[MERKLE_HASH_LEN])
{
	int have = 0, rc;

	if (e->size == 0)
		return merkle_empty_root(root);
	/* The smallest subtree is the rightmost: fold from it towards the left. */
	for (unsigned l = 0; l < MERKLE_LEVELS; l++) {
		if (!(e->size >> l & 1))
			continue;
		if (!have) {
			memcpy(root, e->hash[l], MERKLE_HASH_LEN);
			have = 1;
		} else if ((rc = merkle_node_hash(e->hash[l], root, root)) != 0) {
			return rc;
		}
	}
	return 0;
}

int
merkle_leaves_node(void *arg, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN])
{
	const struct merkle_leaves *t = arg;
	uint8_t l[MERKLE_HASH_LEN], r[MERKLE_HASH_LEN];
	int rc;

	if (level >= MERKLE_LEVELS || index >= t->count >> level ||
	    (index + 1) << level > t->count)
		return SB_EINVAL;
	if (level == 0) {
		memcpy(out, t->leaf + index * MERKLE_HASH_LEN, MERKLE_HASH_LEN);
		return 0;
	}
	if ((rc = merkle_leaves_node(arg, level - 1, 2 * index, l)) != 0 ||
	    (rc = merkle_leaves_node(arg, level - 1, 2 * index + 1, r)) != 0)
		return rc;
	return merkle_node_hash(l, r, out);
}
