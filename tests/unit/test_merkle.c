/*
 * merkle: RFC 9162 roots and proofs against a naive recursive implementation
 * written here from the RFC's definitions (its own SHA-256 calls, no code
 * shared with daemon/ledger/merkle.c), and against the RFC 6962 test vectors
 * used by the Certificate Transparency implementations.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "daemon/ledger/merkle.h"
#include "check.h"

#define MAXN 70
#define NLEAVES (MAXN + 1)	/* one more, for the root of a "size + 1" lie */
#define H MERKLE_HASH_LEN

/* Leaf data d_i: distinct lengths and bytes. */
static uint8_t data[NLEAVES][8];
static size_t data_len[NLEAVES];
static uint8_t leaves[NLEAVES * H];
/* table[l][i]: complete subtree (l, i) of the leaves, for a fast accessor. */
static uint8_t table[7][NLEAVES][H];
/* roots[n]: naive MTH of the first n leaves. */
static uint8_t roots[NLEAVES + 1][H];

/* ---- the naive side: RFC 9162 §2.1 as written --------------------------- */

static EVP_MD *n_md;	/* fetched once: an implicit fetch per hash is slow under valgrind */

static void
n_sha(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    const uint8_t *c, size_t clen, uint8_t out[H])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, n_md, NULL);
	EVP_DigestUpdate(ctx, a, alen);
	EVP_DigestUpdate(ctx, b, blen);
	EVP_DigestUpdate(ctx, c, clen);
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
}

static uint64_t
n_k(uint64_t n)
{
	uint64_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

/* MTH(D[lo:lo+n]) over the leaf data. */
static void
n_mth(size_t lo, size_t n, uint8_t out[H])
{
	static const uint8_t z = 0x00, one = 0x01;
	uint8_t l[H], r[H];
	size_t k;

	if (n == 0) {
		n_sha(NULL, 0, NULL, 0, NULL, 0, out);
		return;
	}
	if (n == 1) {
		n_sha(&z, 1, data[lo], data_len[lo], NULL, 0, out);
		return;
	}
	k = n_k(n);
	n_mth(lo, k, l);
	n_mth(lo + k, n - k, r);
	n_sha(&one, 1, l, H, r, H, out);
}

/* PATH(m, D[lo:lo+n]) appended to path. */
static void
n_path(size_t m, size_t lo, size_t n, uint8_t *path, size_t *cnt)
{
	size_t k;

	if (n <= 1)
		return;
	k = n_k(n);
	if (m < k) {
		n_path(m, lo, k, path, cnt);
		n_mth(lo + k, n - k, path + (*cnt)++ * H);
	} else {
		n_path(m - k, lo + k, n - k, path, cnt);
		n_mth(lo, k, path + (*cnt)++ * H);
	}
}

static void
n_subproof(size_t m, size_t lo, size_t n, int b, uint8_t *path, size_t *cnt)
{
	size_t k;

	if (m == n) {
		if (!b)
			n_mth(lo, n, path + (*cnt)++ * H);
		return;
	}
	k = n_k(n);
	if (m <= k) {
		n_subproof(m, lo, k, b, path, cnt);
		n_mth(lo + k, n - k, path + (*cnt)++ * H);
	} else {
		n_subproof(m - k, lo + k, n - k, 0, path, cnt);
		n_mth(lo, k, path + (*cnt)++ * H);
	}
}

/* ---- fixtures ----------------------------------------------------------- */

static int
table_node(void *arg, unsigned level, uint64_t index, uint8_t out[H])
{
	uint64_t size = *(uint64_t *)arg;

	if (level > 6 || (index + 1) << level > size)
		return SB_EINVAL;	/* asked outside the tree it was told */
	memcpy(out, table[level][index], H);
	return 0;
}

static void
setup(void)
{
	for (size_t i = 0; i < NLEAVES; i++) {
		data_len[i] = i % 8;
		for (size_t j = 0; j < data_len[i]; j++)
			data[i][j] = (uint8_t)(i * 31 + j);
		n_mth(i, 1, leaves + i * H);
		memcpy(table[0][i], leaves + i * H, H);
	}
	for (unsigned l = 1; l < 7; l++)
		for (size_t i = 0; (i + 1) << l <= NLEAVES; i++)
			n_mth(i << l, (size_t)1 << l, table[l][i]);
	for (size_t n = 0; n <= NLEAVES; n++)
		n_mth(0, n, roots[n]);
}

static void
hex(const char *s, uint8_t *out)
{
	for (size_t i = 0; s[2 * i] != '\0'; i++) {
		unsigned v;

		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* ---- tests -------------------------------------------------------------- */

static void
test_hashes_have_prefixes(void)
{
	static const uint8_t z = 0, one = 1;
	uint8_t a[H], b[H], l[H], r[H];

	CHECK_RC(merkle_leaf_hash("abc", 3, a), 0);
	n_sha(&z, 1, (const uint8_t *)"abc", 3, NULL, 0, b);
	CHECK(memcmp(a, b, H) == 0);
	memset(l, 0x11, H);
	memset(r, 0x22, H);
	CHECK_RC(merkle_node_hash(l, r, a), 0);
	n_sha(&one, 1, l, H, r, H, b);
	CHECK(memcmp(a, b, H) == 0);
	CHECK_RC(merkle_empty_root(a), 0);
	hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", b);
	CHECK(memcmp(a, b, H) == 0);
}

/* The RFC 6962 vectors of the CT implementations (certificate-transparency-go,
 * Trillian): eight leaves and the roots of each prefix of them. */
static void
test_rfc6962_known_answers(void)
{
	static const char *in[8] = { "", "00", "10", "2021", "3031", "40414243",
	    "5051525354555657", "606162636465666768696a6b6c6d6e6f" };
	static const char *root[8] = {
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	};
	static const char *path0[3] = {
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	};
	uint8_t lv[8 * H], want[H], got[H], path[MERKLE_MAX_PATH * H], p0[3 * H];
	struct merkle_leaves t = { lv, 0 };
	struct merkle_edge e;
	size_t n;

	merkle_edge_init(&e);
	for (int i = 0; i < 8; i++) {
		uint8_t d[16];
		size_t len = strlen(in[i]) / 2;

		hex(in[i], d);
		CHECK_RC(merkle_leaf_hash(d, len, lv + i * H), 0);
		CHECK_RC(merkle_edge_append(&e, lv + i * H, NULL, NULL), 0);
		t.count = (uint64_t)i + 1;
		hex(root[i], want);
		CHECK_RC(merkle_root(merkle_leaves_node, &t, t.count, got), 0);
		CHECK(memcmp(got, want, H) == 0);
		CHECK_RC(merkle_edge_root(&e, got), 0);
		CHECK(memcmp(got, want, H) == 0);
	}
	for (int i = 0; i < 3; i++)
		hex(path0[i], p0 + i * H);
	CHECK_RC(merkle_inclusion_proof(merkle_leaves_node, &t, 0, 8, path, &n), 0);
	CHECK(n == 3 && memcmp(path, p0, sizeof(p0)) == 0);
	CHECK_RC(merkle_inclusion_verify(lv, 0, 8, p0, 3, want), 0);
}

static void
test_roots_match_naive_1_to_70(void)
{
	struct merkle_leaves t = { leaves, MAXN };
	struct merkle_edge e;
	uint8_t want[H], got[H];

	merkle_edge_init(&e);
	for (uint64_t n = 0; n <= MAXN; n++) {
		n_mth(0, n, want);
		CHECK_RC(merkle_root(table_node, &n, n, got), 0);
		CHECK(memcmp(got, want, H) == 0);
		t.count = n;
		CHECK_RC(merkle_root(merkle_leaves_node, &t, n, got), 0);
		CHECK(memcmp(got, want, H) == 0);
		CHECK(e.size == n);
		CHECK_RC(merkle_edge_root(&e, got), 0);
		CHECK(memcmp(got, want, H) == 0);
		if (n < MAXN)
			CHECK_RC(merkle_edge_append(&e, leaves + n * H, NULL, NULL), 0);
	}
}

struct emitted {
	int count;
	int bad;
};

static int
check_emit(void *arg, unsigned level, uint64_t index, const uint8_t hash[H])
{
	struct emitted *em = arg;

	em->count++;
	if (level > 6 || memcmp(hash, table[level][index], H) != 0)
		em->bad++;
	return 0;
}

static int
refuse_emit(void *arg, unsigned level, uint64_t index, const uint8_t hash[H])
{
	(void)arg; (void)hash;
	return level == 2 && index == 0 ? SB_EIO : 0;
}

static void
test_edge_emits_each_complete_subtree_once(void)
{
	struct emitted em = { 0, 0 };
	struct merkle_edge e, copy, loaded;
	uint64_t size;

	merkle_edge_init(&e);
	for (size_t i = 0; i < MAXN; i++)
		CHECK_RC(merkle_edge_append(&e, leaves + i * H, check_emit, &em), 0);
	/* 70 leaves + 35 + 17 + 8 + 4 + 2 + 1 nodes */
	CHECK(em.count == 70 + 35 + 17 + 8 + 4 + 2 + 1);
	CHECK(em.bad == 0);
	/* Loading the edge from stored nodes gives the same edge. */
	size = MAXN;
	CHECK_RC(merkle_edge_load(&loaded, MAXN, table_node, &size), 0);
	CHECK(loaded.size == e.size);
	for (unsigned l = 0; l < 7; l++)
		if (MAXN >> l & 1)
			CHECK(memcmp(loaded.hash[l], e.hash[l], H) == 0);
	/* A refusing emitter leaves the edge as it was. */
	merkle_edge_init(&e);
	for (size_t i = 0; i < 3; i++)
		CHECK_RC(merkle_edge_append(&e, leaves + i * H, refuse_emit, NULL), 0);
	copy = e;
	CHECK_RC(merkle_edge_append(&e, leaves + 3 * H, refuse_emit, NULL), SB_EIO);
	CHECK(memcmp(&copy, &e, sizeof(e)) == 0);
}

/* Every way a checker can be lied to about one inclusion proof. */
static void
inclusion_refusals(uint64_t m, uint64_t n, const uint8_t *path, size_t cnt,
    const uint8_t *root, int *bad)
{
	uint8_t tmp[(MERKLE_MAX_PATH + 1) * H], wrong[H], wrong_root[H];
	const uint8_t *leaf = leaves + m * H;

	memcpy(wrong, leaf, H);
	wrong[0] ^= 1;
	memcpy(wrong_root, root, H);
	wrong_root[H - 1] ^= 1;
	*bad += merkle_inclusion_verify(wrong, m, n, path, cnt, root) == 0;
	*bad += merkle_inclusion_verify(leaf, m, n, path, cnt, wrong_root) == 0;
	if (m + 1 < n)
		*bad += merkle_inclusion_verify(leaf, m + 1, n, path, cnt, root) == 0;
	if (m > 0)
		*bad += merkle_inclusion_verify(leaf, m - 1, n, path, cnt, root) == 0;
	/* A size and its root come together (from a tree head): lie about both. */
	*bad += merkle_inclusion_verify(leaf, m, n + 1, path, cnt, roots[n + 1]) == 0;
	if (m < n - 1)
		*bad += merkle_inclusion_verify(leaf, m, n - 1, path, cnt, roots[n - 1]) == 0;
	*bad += merkle_inclusion_verify(leaf, n, n, path, cnt, root) != SB_EINVAL;
	if (cnt > 0)	/* truncated */
		*bad += merkle_inclusion_verify(leaf, m, n, path, cnt - 1, root) == 0;
	memcpy(tmp, path, cnt * H);	/* extended */
	memcpy(tmp + cnt * H, leaves, H);
	*bad += merkle_inclusion_verify(leaf, m, n, tmp, cnt + 1, root) == 0;
	for (size_t i = 0; i < cnt; i++) {	/* any hash changed */
		memcpy(tmp, path, cnt * H);
		tmp[i * H + 7] ^= 0x80;
		*bad += merkle_inclusion_verify(leaf, m, n, tmp, cnt, root) == 0;
	}
}

static void
test_inclusion_all_leaves_1_to_70(void)
{
	uint8_t path[MERKLE_MAX_PATH * H], want[MERKLE_MAX_PATH * H], root[H];
	size_t cnt, wcnt;
	int bad = 0;

	for (uint64_t n = 1; n <= MAXN; n++) {
		memcpy(root, roots[n], H);
		for (uint64_t m = 0; m < n; m++) {
			CHECK_RC(merkle_inclusion_proof(table_node, &n, m, n, path, &cnt), 0);
			wcnt = 0;
			n_path(m, 0, n, want, &wcnt);
			CHECK(cnt == wcnt && memcmp(path, want, cnt * H) == 0);
			CHECK_RC(merkle_inclusion_verify(leaves + m * H, m, n, path, cnt, root), 0);
			inclusion_refusals(m, n, path, cnt, root, &bad);
		}
	}
	CHECK(bad == 0);
}

static void
consistency_refusals(uint64_t m, uint64_t n, const uint8_t *r1, const uint8_t *r2,
    const uint8_t *path, size_t cnt, int *bad)
{
	uint8_t tmp[(MERKLE_MAX_PATH + 1) * H], r1x[H], r2x[H];

	memcpy(r1x, r1, H);
	r1x[3] ^= 1;
	memcpy(r2x, r2, H);
	r2x[3] ^= 1;
	*bad += merkle_consistency_verify(m, n, r1x, r2, path, cnt) == 0;
	/* From the empty tree every tree is consistent: only the first root counts. */
	if (m > 0)
		*bad += merkle_consistency_verify(m, n, r1, r2x, path, cnt) == 0;
	if (m > 0 && m < n) {
		if (m + 1 < n)
			*bad += merkle_consistency_verify(m + 1, n, roots[m + 1], r2, path,
			    cnt) == 0;
		*bad += merkle_consistency_verify(m - 1, n, roots[m - 1], r2, path, cnt) == 0;
		*bad += merkle_consistency_verify(m, n + 1, r1, roots[n + 1], path, cnt) == 0;
		*bad += merkle_consistency_verify(n, m, r2, r1, path, cnt) != SB_EINVAL;
	}
	if (cnt > 0)
		*bad += merkle_consistency_verify(m, n, r1, r2, path, cnt - 1) == 0;
	memcpy(tmp, path, cnt * H);
	memcpy(tmp + cnt * H, r1, H);
	*bad += merkle_consistency_verify(m, n, r1, r2, tmp, cnt + 1) == 0;
	for (size_t i = 0; i < cnt; i++) {
		memcpy(tmp, path, cnt * H);
		tmp[i * H + 31] ^= 0x01;
		*bad += merkle_consistency_verify(m, n, r1, r2, tmp, cnt) == 0;
	}
}

static void
test_consistency_all_pairs_to_70(void)
{
	uint8_t path[MERKLE_MAX_PATH * H], want[MERKLE_MAX_PATH * H];
	size_t cnt, wcnt;
	int bad = 0;

	for (uint64_t n = 0; n <= MAXN; n++) {
		for (uint64_t m = 0; m <= n; m++) {
			CHECK_RC(merkle_consistency_proof(table_node, &n, m, n, path, &cnt), 0);
			wcnt = 0;
			if (m > 0 && m < n)
				n_subproof(m, 0, n, 1, want, &wcnt);
			CHECK(cnt == wcnt && memcmp(path, want, cnt * H) == 0);
			CHECK_RC(merkle_consistency_verify(m, n, roots[m], roots[n], path, cnt), 0);
			consistency_refusals(m, n, roots[m], roots[n], path, cnt, &bad);
		}
	}
	CHECK(bad == 0);
}

static void
test_bad_arguments_refused(void)
{
	uint8_t path[MERKLE_MAX_PATH * H], root[H];
	uint64_t n = 5;
	size_t cnt = 99;

	memset(root, 0, H);
	CHECK_RC(merkle_inclusion_proof(table_node, &n, 5, 5, path, &cnt), SB_EINVAL);
	CHECK(cnt == 0);
	CHECK_RC(merkle_inclusion_proof(table_node, &n, 0, 0, path, &cnt), SB_EINVAL);
	CHECK_RC(merkle_consistency_proof(table_node, &n, 6, 5, path, &cnt), SB_EINVAL);
	CHECK_RC(merkle_inclusion_verify(leaves, 0, 0, path, 0, root), SB_EINVAL);
	CHECK_RC(merkle_inclusion_verify(leaves, 0, 5, path, MERKLE_MAX_PATH + 1, root),
	    SB_EINVAL);
	CHECK_RC(merkle_consistency_verify(3, 5, root, root, path, MERKLE_MAX_PATH + 1),
	    SB_EINVAL);
	/* A one-leaf tree's root is its leaf, with an empty path. */
	CHECK_RC(merkle_inclusion_verify(leaves, 0, 1, path, 0, leaves), 0);
	/* An accessor's error comes back unchanged. */
	n = 3;
	CHECK_RC(merkle_root(table_node, &n, 4, root), SB_EINVAL);
	/* Huge trees: the path of the last leaf of 2^63 leaves has 63 hashes. */
	memset(path, 0, sizeof(path));
	CHECK(merkle_inclusion_verify(root, MERKLE_MAX_SIZE - 1, MERKLE_MAX_SIZE,
	    path, 63, root) == SB_ECRYPTO);
	CHECK_RC(merkle_inclusion_verify(root, 0, MERKLE_MAX_SIZE + 1, path, 63, root),
	    SB_EINVAL);
}

int
main(void)
{
	int rc;

	n_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	setup();
	RUN(test_hashes_have_prefixes, "leaf and node hashes are SHA-256 with 0x00/0x01 prefixes; empty root is SHA-256(\"\")");
	RUN(test_rfc6962_known_answers, "roots of the RFC 6962 test leaves and one inclusion path match the published vectors");
	RUN(test_roots_match_naive_1_to_70, "roots from an accessor, an array and the right edge match naive MTH for 0..70 leaves");
	RUN(test_edge_emits_each_complete_subtree_once, "the right edge reports each complete subtree once, reloads from nodes, and is unchanged when emit fails");
	RUN(test_inclusion_all_leaves_1_to_70, "inclusion proofs for every leaf of trees of 1..70 equal PATH, verify, and fail for a wrong leaf, index, size, root or path");
	RUN(test_consistency_all_pairs_to_70, "consistency proofs for all 0 <= m <= n <= 70 equal PROOF, verify, and fail when roots, sizes or path are tampered");
	RUN(test_bad_arguments_refused, "impossible indexes, sizes and over-long paths are refused, accessor errors pass through");
	rc = check_done();
	EVP_MD_free(n_md);
	return rc;
}
