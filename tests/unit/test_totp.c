/*
 * TOTP intent confirmation (daemon/monitor/mon_totp.c, hsm/hsm_aes.c,
 * store_totp_*): the sealed record against a throwaway SoftHSM token, the
 * replay rule against liboath's own generator at fixed times, and the
 * store's compare-and-swap against a throwaway LMDB environment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <liboath/oath.h>
#include <lmdb.h>

#include "fixture.h"
#include "check.h"
#include "daemon/monitor/mon_int.h"
#include "hsm/hsm_aes.h"
#include "lib/err.h"
#include "lib/secret.h"

#define LABEL "sbx-totp"

static struct fixture fx;
static struct hsm *H;
/* RFC 6238's test secret (ASCII "12345678901234567890"), 20 bytes. */
static const uint8_t rfc_secret[20] = "12345678901234567890";

static void
code_at(time_t t, char out[8])
{
	if (oath_totp_generate((const char *)rfc_secret, 20, t, 30, 0, 6, out) != OATH_OK)
		strcpy(out, "x");
}

static void
test_token(void)
{
	CHECK(fixture_softhsm_new(&fx) == 0);
	CHECK_RC(hsm_token_init(FIXTURE_MODULE, LABEL, "so-pin-1", "user-pin-1"), 0);
	CHECK_RC(hsm_open(FIXTURE_MODULE, LABEL, &H), 0);
	/* No login: the key is a private object of a logged-in token. */
	CHECK(mon_totp_key(H) != 0);
	CHECK_RC(hsm_login(H, "user-pin-1"), 0);
	CHECK_RC(mon_totp_key(H), 0);
	CHECK_RC(mon_totp_key(H), 0);
}

static void
test_key_made_once(void)
{
	int made = -1;

	CHECK(H != NULL);
	CHECK_RC(hsm_aes_key_ensure(H, (const uint8_t *)"sealbox-totp-v1", 15, "sealbox-totp",
	    &made), 0);
	CHECK(made == 0);
	CHECK_RC(hsm_aes_key_ensure(H, (const uint8_t *)"other-key", 9, "other", &made), 0);
	CHECK(made == 1);
	CHECK_RC(hsm_aes_key_ensure(H, (const uint8_t *)"other-key", 9, "other", &made), 0);
	CHECK(made == 0);
}

static void
test_round_trip(void)
{
	struct mon_totp_rec *r = secret_alloc(sizeof(*r)), *back = secret_alloc(sizeof(*back));
	uint8_t a[STORE_TOTP_MAX], b[STORE_TOTP_MAX];
	size_t na = sizeof(a), nb = sizeof(b);

	CHECK(H != NULL && r != NULL && back != NULL);
	memcpy(r->secret, rfc_secret, 20);
	r->active = 1;
	r->last = 0x0102030405060708ull;
	CHECK_RC(mon_totp_seal(H, "alice", r, a, &na), 0);
	CHECK(na == 61);
	CHECK(memcmp(a, "SBT1a", 5) == 0);
	/* The secret is not in the record in clear. */
	CHECK(memmem(a, na, rfc_secret, 20) == NULL);
	CHECK_RC(mon_totp_open(H, "alice", a, na, back), 0);
	CHECK(back->active == 1 && back->last == r->last);
	CHECK(memcmp(back->secret, rfc_secret, 20) == 0);
	/* A fresh nonce each time: the same record seals differently. */
	CHECK_RC(mon_totp_seal(H, "alice", r, b, &nb), 0);
	CHECK(nb == na && memcmp(a, b, na) != 0);
	CHECK_RC(mon_totp_open(H, "alice", b, nb, back), 0);
	r->active = 0;
	r->last = 0;
	nb = sizeof(b);
	CHECK_RC(mon_totp_seal(H, "alice", r, b, &nb), 0);
	CHECK_RC(mon_totp_open(H, "alice", b, nb, back), 0);
	CHECK(back->active == 0 && back->last == 0);
	nb = 60;
	CHECK_RC(mon_totp_seal(H, "alice", r, b, &nb), SB_EINVAL);
	secret_free(&r);
	secret_free(&back);
}

static void
test_tampered(void)
{
	struct mon_totp_rec *r = secret_alloc(sizeof(*r)), *back = secret_alloc(sizeof(*back));
	uint8_t a[STORE_TOTP_MAX], t[STORE_TOTP_MAX];
	size_t na = sizeof(a);
	static const uint8_t zero[20];

	CHECK(H != NULL && r != NULL && back != NULL);
	memcpy(r->secret, rfc_secret, 20);
	r->active = 1;
	r->last = 55;
	CHECK_RC(mon_totp_seal(H, "alice", r, a, &na), 0);
	/* Every single bit flipped anywhere is refused, and nothing leaks out. */
	for (size_t i = 0; i < na; i++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(t, a, na);
			t[i] ^= (uint8_t)(1u << bit);
			CHECK_RC(mon_totp_open(H, "alice", t, na, back), SB_ECRYPTO);
			CHECK(memcmp(back->secret, zero, 20) == 0);
		}
	/* The counter rolled back (an old replay window reopened) is refused. */
	memcpy(t, a, na);
	t[12] = 0;
	CHECK_RC(mon_totp_open(H, "alice", t, na, back), SB_ECRYPTO);
	/* Pending for active, shorter, longer, or another principal's record. */
	memcpy(t, a, na);
	t[4] = 'p';
	CHECK_RC(mon_totp_open(H, "alice", t, na, back), SB_ECRYPTO);
	CHECK_RC(mon_totp_open(H, "alice", a, na - 1, back), SB_ECRYPTO);
	memcpy(t, a, na);
	t[na] = 0;
	CHECK_RC(mon_totp_open(H, "alice", t, na + 1, back), SB_ECRYPTO);
	CHECK_RC(mon_totp_open(H, "mallory", a, na, back), SB_ECRYPTO);
	CHECK_RC(mon_totp_open(H, "alice", a, na, back), 0);
	secret_free(&r);
	secret_free(&back);
}

static void
test_other_key_refused(void)
{
	struct mon_totp_rec *back = secret_alloc(sizeof(*back));
	uint8_t iv[HSM_AES_IV_LEN] = { 1 }, rec[61], ct[64];
	size_t n = sizeof(ct);

	CHECK(H != NULL && back != NULL);
	/* A well-formed record sealed by another token key does not open. */
	memcpy(rec, "SBT1a\0\0\0\0\0\0\0\1", 13);
	memcpy(rec + 13, iv, sizeof(iv));
	uint8_t aad[13 + 5];
	memcpy(aad, rec, 13);
	memcpy(aad + 13, "alice", 5);
	CHECK_RC(hsm_aes_gcm_seal(H, (const uint8_t *)"other-key", 9, iv, aad, sizeof(aad),
	    rfc_secret, 20, ct, &n), 0);
	CHECK(n == 36);
	memcpy(rec + 25, ct, 36);
	CHECK_RC(mon_totp_open(H, "alice", rec, sizeof(rec), back), SB_ECRYPTO);
	secret_free(&back);
}

static void
test_accept_and_replay(void)
{
	struct mon_totp_rec r = { 1, 0, { 0 } };
	const time_t t = 1700000015;	/* step 56666667 */
	const uint64_t step = (uint64_t)t / 30;
	char c[8], c_next[8], c_prev[8], c_far[8], c_far_past[8];
	uint64_t got = 0;

	memcpy(r.secret, rfc_secret, 20);
	code_at(t, c);
	code_at(t + 30, c_next);
	code_at(t - 30, c_prev);
	code_at(t + 60, c_far);
	code_at(t - 60, c_far_past);
	/* RFC 6238 appendix B, SHA-1, T = 59: 94287082, whose last 6 digits are ours. */
	{
		char rfc[8];

		code_at(59, rfc);
		CHECK_STR(rfc, "287082");
		r.last = 0;
		CHECK_RC(mon_totp_accept(&r, "287082", 59, &got), 0);
		CHECK(got == 1);
	}
	r.last = 0;
	CHECK_RC(mon_totp_accept(&r, c, t, &got), 0);
	CHECK(got == step);
	/* Accepted once: the same step again, or an earlier one, is a replay. */
	r.last = got;
	CHECK_RC(mon_totp_accept(&r, c, t, &got), MON_TOTP_REPLAYED);
	CHECK_RC(mon_totp_accept(&r, c_prev, t, &got), MON_TOTP_REPLAYED);
	/* One step ahead is within the window and later: accepted, its counter. */
	CHECK_RC(mon_totp_accept(&r, c_next, t, &got), 0);
	CHECK(got == step + 1);
	r.last = got;
	CHECK_RC(mon_totp_accept(&r, c_next, t, &got), MON_TOTP_REPLAYED);
	/* The step before, unused, is accepted while nothing later was. */
	r.last = step - 2;
	CHECK_RC(mon_totp_accept(&r, c_prev, t, &got), 0);
	CHECK(got == step - 1);
	/* Beyond the window either side: invalid, whatever the counter. */
	r.last = 0;
	if (strcmp(c_far, c) != 0 && strcmp(c_far, c_next) != 0 && strcmp(c_far, c_prev) != 0)
		CHECK_RC(mon_totp_accept(&r, c_far, t, &got), MON_TOTP_INVALID);
	if (strcmp(c_far_past, c) != 0 && strcmp(c_far_past, c_next) != 0 &&
	    strcmp(c_far_past, c_prev) != 0)
		CHECK_RC(mon_totp_accept(&r, c_far_past, t, &got), MON_TOTP_INVALID);
	/* Malformed codes are invalid, not errors. */
	CHECK_RC(mon_totp_accept(&r, "", t, &got), MON_TOTP_INVALID);
	CHECK_RC(mon_totp_accept(&r, "12345", t, &got), MON_TOTP_INVALID);
	CHECK_RC(mon_totp_accept(&r, "1234567", t, &got), MON_TOTP_INVALID);
	CHECK_RC(mon_totp_accept(&r, "12a456", t, &got), MON_TOTP_INVALID);
	/* Another secret's code. */
	r.secret[0] ^= 1;
	CHECK_RC(mon_totp_accept(&r, c, t, &got), MON_TOTP_INVALID);
	CHECK_STR(mon_totp_code(MON_TOTP_INVALID), "otp_invalid");
	CHECK_STR(mon_totp_code(MON_TOTP_REPLAYED), "otp_replayed");
	CHECK_STR(mon_totp_code(MON_TOTP_NOT_ENROLLED), "otp_not_enrolled");
}

static void
test_store_swap(void)
{
	char dir[] = "/tmp/sbx-totp-XXXXXX", cmd[64];
	uint8_t buf[STORE_TOTP_MAX], big[STORE_TOTP_MAX + 1] = { 0 };
	struct store *st = NULL;
	MDB_env *env = NULL;
	size_t n = 0;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(mdb_env_create(&env) == 0);
	CHECK(mdb_env_set_maxdbs(env, STORE_DBS + STORE_TOTP_DBS) == 0);
	CHECK(mdb_env_open(env, dir, 0, 0600) == 0);
	CHECK_RC(store_open(env, &st), 0);
	CHECK_RC(store_totp_get(st, "alice", buf, sizeof(buf), &n), SB_ENOTFOUND);
	/* Created only when there is none. */
	CHECK_RC(store_totp_swap(st, "alice", NULL, 0, (const uint8_t *)"one", 3), 0);
	CHECK_RC(store_totp_swap(st, "alice", NULL, 0, (const uint8_t *)"two", 3), SB_ESTATE);
	CHECK_RC(store_totp_get(st, "alice", buf, sizeof(buf), &n), 0);
	CHECK(n == 3 && memcmp(buf, "one", 3) == 0);
	/* Two readers of "one": the first swap wins, the second finds it changed. */
	CHECK_RC(store_totp_swap(st, "alice", (const uint8_t *)"one", 3,
	    (const uint8_t *)"two", 3), 0);
	CHECK_RC(store_totp_swap(st, "alice", (const uint8_t *)"one", 3,
	    (const uint8_t *)"three", 5), SB_ESTATE);
	CHECK_RC(store_totp_get(st, "alice", buf, sizeof(buf), &n), 0);
	CHECK(n == 3 && memcmp(buf, "two", 3) == 0);
	CHECK_RC(store_totp_get(st, "alice", buf, 2, &n), SB_ELIMIT);
	CHECK_RC(store_totp_swap(st, "alice", (const uint8_t *)"two", 3, big, sizeof(big)),
	    SB_EINVAL);
	CHECK_RC(store_totp_swap(st, "", NULL, 0, (const uint8_t *)"x", 1), SB_EINVAL);
	CHECK_RC(store_totp_get(st, "bob", buf, sizeof(buf), &n), SB_ENOTFOUND);
	store_close(st);
	mdb_env_close(env);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

int
main(void)
{
	RUN(test_token, "totp: the sealing key is made in a logged-in token, once, and not without a login");
	RUN(test_key_made_once, "hsm_aes: an existing secret key is found, not made again; a new id makes one");
	RUN(test_round_trip, "totp: a record seals and opens (state, counter, secret), never holds the secret in clear, and seals with a fresh nonce each time");
	RUN(test_tampered, "totp: a record with any bit flipped, its counter rolled back, its state changed, cut, lengthened or read as another principal's is refused and yields nothing");
	RUN(test_other_key_refused, "totp: a record sealed by another token key is refused");
	RUN(test_accept_and_replay, "totp: a code is valid within one step either side (RFC 6238 vector), accepted only when its step is later than the last one, and malformed codes are invalid");
	RUN(test_store_swap, "store: a TOTP record is created once and replaced only by a caller that read its current bytes (compare-and-swap)");
	hsm_close(H);
	fixture_softhsm_free(&fx);
	return check_done();
}
