/*
 * fuzz_ledger_entry — libFuzzer harness for what the ledger reads from
 * outside: stored entry bytes (ledger_entry_parse, run by the verifier and by
 * clients on evidence bundles), and, chosen by the first byte, tree heads in
 * JSON (ledger_sth_from_json) and proofs (the merkle verifiers).
 *
 *   '!' JSON...     a tree head
 *   '#' binary      index BE64, size BE64, then hashes: leaf, root, path...
 *   anything else   entry bytes
 *
 * Besides crashes, leaks and hangs it checks the promises: an accepted entry
 * re-serializes to exactly the input and has the fields it claims; an
 * accepted tree head survives to_json/from_json unchanged; a verifier never
 * accepts a proof whose leaf or root was changed afterwards.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/ledger/ledger.h"
#include "daemon/ledger/merkle.h"
#include "lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_entry(const uint8_t *data, size_t size)
{
	uint64_t seq, t;
	json_t *j = NULL;
	char *re;

	if (ledger_entry_parse(data, size, &seq, &t, &j) != 0) {
		if (j != NULL)
			abort();
		return;
	}
	if (j == NULL || size > LEDGER_ENTRY_MAX ||
	    (uint64_t)json_integer_value(json_object_get(j, "seq")) != seq ||
	    (uint64_t)json_integer_value(json_object_get(j, "time")) != t)
		abort();
	if ((re = malloc(size)) == NULL ||
	    json_dumpb(j, re, size, JSON_COMPACT | JSON_SORT_KEYS) != size ||
	    memcmp(re, data, size) != 0)
		abort();
	free(re);
	json_decref(j);
}

static void
fuzz_sth(const uint8_t *data, size_t size)
{
	struct ledger_sth a, b;
	json_t *j, *back = NULL;

	if ((j = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return;
	if (ledger_sth_from_json(j, &a) == 0) {
		if (a.sig_len == 0 || a.sig_len > LEDGER_SIG_MAX)
			abort();
		if (ledger_sth_to_json(&a, &back) != 0 || !json_equal(back, j) ||
		    ledger_sth_from_json(back, &b) != 0 || memcmp(&a, &b, sizeof(a)) != 0)
			abort();
	}
	json_decref(back);
	json_decref(j);
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
fuzz_proof(const uint8_t *data, size_t size)
{
	uint8_t leaf[MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
	const uint8_t *path;
	uint64_t index, tree;
	size_t n;

	if (size < 16 + 2 * MERKLE_HASH_LEN)
		return;
	index = be64(data);
	tree = be64(data + 8);
	memcpy(leaf, data + 16, MERKLE_HASH_LEN);
	memcpy(root, data + 16 + MERKLE_HASH_LEN, MERKLE_HASH_LEN);
	path = data + 16 + 2 * MERKLE_HASH_LEN;
	n = (size - 16 - 2 * MERKLE_HASH_LEN) / MERKLE_HASH_LEN;
	if (merkle_inclusion_verify(leaf, index, tree, path, n, root) == 0) {
		leaf[0] ^= 1;
		if (merkle_inclusion_verify(leaf, index, tree, path, n, root) == 0)
			abort();
		leaf[0] ^= 1;
	}
	/* The same bytes as a consistency proof from `index` leaves to `tree`. */
	if (merkle_consistency_verify(index, tree, leaf, root, path, n) == 0 && index > 0) {
		root[5] ^= 1;
		if (merkle_consistency_verify(index, tree, leaf, root, path, n) == 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == '!')
		fuzz_sth(data + 1, size - 1);
	else if (size > 0 && data[0] == '#')
		fuzz_proof(data + 1, size - 1);
	else
		fuzz_entry(data, size);
	return 0;
}
