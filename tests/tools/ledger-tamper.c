/*
 * ledger-tamper — TEST TOOL ONLY, never installed: changes a ledger behind
 * its back with the LMDB API, as an intruder with write access to the state
 * directory could, so that tests can check the ledger notices.
 *
 *   ledger-tamper DIR flip SEQ [OFFSET]   change one byte of entry SEQ
 *   ledger-tamper DIR delete SEQ          remove entry SEQ
 *   ledger-tamper DIR swap SEQ SEQ2       exchange the values of two entries
 *   ledger-tamper DIR hold                hold LMDB's writer lock until a
 *                                         line or EOF on stdin (a stalled disk)
 *
 * flip without OFFSET changes the first digit of the "time" value to the
 * next one, so the entry stays a well-formed, canonical entry and only its
 * hash tells; with OFFSET it flips the low bit of that byte. hold prints
 * "held" once it has the lock. Exit status 0, or 1 with a message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "daemon/ledger/ledger.h"

struct raw {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
};

static int
fail(const char *what, int rc)
{
	fprintf(stderr, "ledger-tamper: %s: %s\n", what, rc > 0 || rc < -1 ?
	    mdb_strerror(rc) : "bad argument");
	return 1;
}

static int
parse_seq(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	*out = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static void
key_of(uint8_t k[8], uint64_t seq)
{
	for (int i = 7; i >= 0; i--, seq >>= 8)
		k[i] = (uint8_t)seq;
}

static int
raw_open(struct raw *r, const char *dir, int open_db)
{
	int rc;

	if ((rc = mdb_env_create(&r->env)) != 0)
		return rc;
	mdb_env_set_maxdbs(r->env, 64);
	if ((rc = mdb_env_open(r->env, dir, 0, 0600)) != 0 ||
	    (rc = mdb_txn_begin(r->env, NULL, 0, &r->txn)) != 0) {
		mdb_env_close(r->env);
		return rc;
	}
	if (open_db && (rc = mdb_dbi_open(r->txn, LEDGER_DB_ENTRIES, 0, &r->dbi)) != 0) {
		mdb_txn_abort(r->txn);
		mdb_env_close(r->env);
	}
	return rc;
}

static int
flip(struct raw *r, uint64_t seq, const char *offset)
{
	static uint8_t buf[LEDGER_ENTRY_MAX * 4];
	uint8_t k[8];
	MDB_val key = { 8, k }, val;
	uint64_t off;
	char *t;
	int rc;

	key_of(k, seq);
	if ((rc = mdb_get(r->txn, r->dbi, &key, &val)) != 0)
		return rc;
	if (val.mv_size >= sizeof(buf))
		return -1;
	memcpy(buf, val.mv_data, val.mv_size);
	buf[val.mv_size] = '\0';
	if (offset != NULL) {
		if (parse_seq(offset, &off) != 0 || off >= val.mv_size)
			return -1;
		buf[off] ^= 0x01;
	} else {
		if ((t = strstr((char *)buf, "\"time\":")) == NULL)
			return -1;
		t += 7;
		*t = *t == '9' ? '1' : (char)(*t + 1);
	}
	val.mv_data = buf;
	return mdb_put(r->txn, r->dbi, &key, &val, 0);
}

static int
swap(struct raw *r, uint64_t a, uint64_t b)
{
	static uint8_t va[LEDGER_ENTRY_MAX * 4], vb[LEDGER_ENTRY_MAX * 4];
	uint8_t ka[8], kb[8];
	MDB_val keya = { 8, ka }, keyb = { 8, kb }, v;
	size_t la, lb;
	int rc;

	key_of(ka, a);
	key_of(kb, b);
	if ((rc = mdb_get(r->txn, r->dbi, &keya, &v)) != 0)
		return rc;
	if ((la = v.mv_size) > sizeof(va))
		return -1;
	memcpy(va, v.mv_data, la);
	if ((rc = mdb_get(r->txn, r->dbi, &keyb, &v)) != 0)
		return rc;
	if ((lb = v.mv_size) > sizeof(vb))
		return -1;
	memcpy(vb, v.mv_data, lb);
	v = (MDB_val){ lb, vb };
	if ((rc = mdb_put(r->txn, r->dbi, &keya, &v, 0)) != 0)
		return rc;
	v = (MDB_val){ la, va };
	return mdb_put(r->txn, r->dbi, &keyb, &v, 0);
}

static int
hold(struct raw *r)
{
	char line[16];

	printf("held\n");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL && ferror(stdin))
		return EIO;
	mdb_txn_abort(r->txn);
	mdb_env_close(r->env);
	return 0;
}

int
main(int argc, char **argv)
{
	struct raw r;
	uint64_t a = 0, b = 0;
	const char *op = argc > 2 ? argv[2] : "";
	int rc;

	if (argc < 3 || (strcmp(op, "hold") != 0 && parse_seq(argv[3], &a) != 0) ||
	    (strcmp(op, "swap") == 0 && (argc != 5 || parse_seq(argv[4], &b) != 0))) {
		fprintf(stderr, "usage: ledger-tamper DIR flip SEQ [OFFSET] | delete SEQ | "
		    "swap SEQ SEQ2 | hold\n");
		return 2;
	}
	if ((rc = raw_open(&r, argv[1], strcmp(op, "hold") != 0)) != 0)
		return fail(argv[1], rc);
	if (strcmp(op, "hold") == 0)
		return hold(&r) == 0 ? 0 : fail("stdin", EIO);
	if (strcmp(op, "flip") == 0) {
		rc = flip(&r, a, argc > 4 ? argv[4] : NULL);
	} else if (strcmp(op, "delete") == 0) {
		uint8_t k[8];
		MDB_val key = { 8, k };

		key_of(k, a);
		rc = mdb_del(r.txn, r.dbi, &key, NULL);
	} else if (strcmp(op, "swap") == 0) {
		rc = swap(&r, a, b);
	} else {
		rc = -1;
	}
	if (rc != 0) {
		mdb_txn_abort(r.txn);
		mdb_env_close(r.env);
		return fail(op, rc);
	}
	rc = mdb_txn_commit(r.txn);
	mdb_env_close(r.env);
	return rc != 0 ? fail("commit", rc) : 0;
}
