/*
 * hsm/custody: splitting and combining S, the share text, the checks that
 * must come before libgfshare (which combines garbage without a word), the
 * PIN derivation and the custody record.
 *
 * The share text is checked against an implementation of the documented
 * format written here independently (ref_text), so a change to the format
 * fails a test instead of silently orphaning shares already on paper.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "hsm/custody.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/secret.h"
#include "check.h"

#define ID "sbx-01"
#define B32 "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

static const uint8_t cer_a[CUSTODY_CEREMONY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t cer_b[CUSTODY_CEREMONY_LEN] = { 9, 9, 9, 9, 9, 9, 9, 9 };

/* Everything one test needs in secret memory. */
struct fx {
	uint8_t secret[CUSTODY_SECRET_LEN];
	uint8_t out[CUSTODY_SECRET_LEN];
	struct custody_share sh[CUSTODY_MAX_SHARES];
	struct custody_share other[CUSTODY_MAX_SHARES];
	struct custody_share dec;
	char text[CUSTODY_MAX_SHARES][CUSTODY_SHARE_TEXT_MAX];
	char buf[2 * CUSTODY_SHARE_TEXT_MAX];
};

static struct fx *
fx_new(void)
{
	struct fx *f = secret_alloc(sizeof(*f));

	if (f != NULL && RAND_bytes(f->secret, sizeof(f->secret)) != 1)
		secret_free(&f);
	return f;
}

static void
make_record(struct custody_record *rec, const char *id, const uint8_t *secret,
    const uint8_t *cer, unsigned m, unsigned n)
{
	memset(rec, 0, sizeof(*rec));
	snprintf(rec->appliance, sizeof(rec->appliance), "%s", id);
	memcpy(rec->ceremony, cer, CUSTODY_CEREMONY_LEN);
	rec->threshold = m;
	rec->count = n;
	rec->created = 1700000000;
	if (custody_check_value(secret, id, rec->check) != 0)
		memset(rec->check, 0, sizeof(rec->check));
}

/* ---- an independent implementation of the documented format ------------- */

static void
ref_b32(const uint8_t *bin, size_t n, char *out, int groups)
{
	size_t o = 0, nchar = 0;

	for (size_t i = 0; i + 5 <= n; i += 5) {
		uint64_t v = 0;

		for (int k = 0; k < 5; k++)
			v = v << 8 | bin[i + k];
		for (int k = 7; k >= 0; k--) {
			if (groups && nchar > 0 && nchar % 4 == 0)
				out[o++] = '-';
			out[o++] = B32[(v >> (5 * k)) & 31];
			nchar++;
		}
	}
	out[o] = '\0';
}

static void
ref_text(char *out, size_t len, const char *id, unsigned pi, unsigned pn,
    unsigned version, const uint8_t *cer, unsigned m, unsigned n, unsigned idx,
    const uint8_t *y)
{
	uint8_t bin[50], md[32];
	unsigned char idlen = (unsigned char)strlen(id);
	unsigned mdlen;
	char body[128];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	bin[0] = (uint8_t)version;
	memcpy(bin + 1, cer, 8);
	bin[9] = (uint8_t)m;
	bin[10] = (uint8_t)n;
	bin[11] = (uint8_t)idx;
	memcpy(bin + 12, y, 32);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, "sealbox v1 share", 16);
	EVP_DigestUpdate(ctx, &idlen, 1);
	EVP_DigestUpdate(ctx, id, idlen);
	EVP_DigestUpdate(ctx, bin, 44);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	memcpy(bin + 44, md, 6);
	ref_b32(bin, sizeof(bin), body, 1);
	snprintf(out, len, "%s %u/%u %s", id, pi, pn, body);
}

/* The base32 part of a share text: after the second space. */
static char *
body_of(char *text)
{
	char *p = strchr(text, ' ');

	return p == NULL ? NULL : strchr(p + 1, ' ') + 1;
}

static int
share_eq(const struct custody_share *a, const struct custody_share *b)
{
	return strcmp(a->appliance, b->appliance) == 0 &&
	    memcmp(a->ceremony, b->ceremony, sizeof(a->ceremony)) == 0 &&
	    a->threshold == b->threshold && a->count == b->count &&
	    a->index == b->index && memcmp(a->y, b->y, sizeof(a->y)) == 0;
}

/* detail must not show any group of the share's base32 part. */
static int
leaks_groups(const char *detail, const char *text)
{
	const char *body = strrchr(text, ' ');
	char group[5];

	body = body == NULL ? text : body + 1;
	for (size_t i = 0; body[i] != '\0'; i += 5) {
		memcpy(group, body + i, 4);
		group[4] = '\0';
		if (strlen(group) == 4 && strstr(detail, group) != NULL)
			return 1;
		if (body[i + 4] == '\0')
			break;
	}
	return 0;
}

/* ---- splitting and combining -------------------------------------------- */

/* Every subset of n shares (all sizes) against threshold m, with a record. */
static void
test_every_subset_small(void)
{
	struct fx *f = fx_new();
	struct custody_record rec;
	unsigned tried_ok = 0, tried_few = 0;

	CHECK(f != NULL);
	for (unsigned n = 2; n <= 5; n++) {
		for (unsigned m = 2; m <= n; m++) {
			CHECK_RC(custody_split(f->secret, ID, cer_a, m, n, f->sh), 0);
			make_record(&rec, ID, f->secret, cer_a, m, n);
			for (unsigned mask = 0; mask < (1u << n); mask++) {
				struct custody_set *set = custody_set_new(ID, &rec);
				unsigned k = (unsigned)__builtin_popcount(mask);
				int rc;

				CHECK(set != NULL);
				for (unsigned i = 0; i < n; i++)
					if (mask & (1u << i))
						CHECK_RC(custody_set_add_share(set, &f->sh[i],
						    NULL, NULL, NULL, 0), 0);
				memset(f->out, 0xAA, sizeof(f->out));
				rc = custody_set_combine(set, f->out);
				custody_set_free(set);
				if (k >= m) {
					CHECK_RC(rc, 0);
					CHECK(memcmp(f->out, f->secret, CUSTODY_SECRET_LEN) == 0);
					tried_ok++;
				} else {
					CHECK_RC(rc, SB_ESHARE_TOOFEW);
					tried_few++;
				}
			}
		}
	}
	/* sum over n=2..5, m=2..n of the subsets of size >= m, and < m */
	CHECK(tried_ok == 1 + 4 + 1 + 11 + 5 + 1 + 26 + 16 + 6 + 1);
	CHECK(tried_few == 3 + 4 + 7 + 5 + 11 + 15 + 6 + 16 + 26 + 31);
	secret_free(&f);
}

/* 16 shares: every subset of exactly m and of m-1, for every m. */
static void
test_every_subset_16(void)
{
	struct fx *f = fx_new();
	unsigned tried = 0;

	CHECK(f != NULL);
	for (unsigned m = 2; m <= 16; m++) {
		CHECK_RC(custody_split(f->secret, ID, cer_a, m, 16, f->sh), 0);
		for (unsigned mask = 0; mask < (1u << 16); mask++) {
			unsigned k = (unsigned)__builtin_popcount(mask);
			struct custody_set *set;
			int rc;

			if (k != m && k != m - 1)
				continue;
			CHECK((set = custody_set_new(ID, NULL)) != NULL);
			for (unsigned i = 0; i < 16; i++)
				if (mask & (1u << i))
					CHECK_RC(custody_set_add_share(set, &f->sh[i], NULL,
					    NULL, NULL, 0), 0);
			memset(f->out, 0, sizeof(f->out));
			rc = custody_set_combine(set, f->out);
			custody_set_free(set);
			if (k == m) {
				CHECK_RC(rc, 0);
				CHECK(memcmp(f->out, f->secret, CUSTODY_SECRET_LEN) == 0);
			} else
				CHECK_RC(rc, SB_ESHARE_TOOFEW);
			tried++;
		}
	}
	CHECK(tried == (65536 - 1 - 16) + (65536 - 1 - 1));	/* sizes 2..16, and 1..15 */
	secret_free(&f);
}

static void
test_split_refuses_bad_parameters(void)
{
	struct fx *f = fx_new();

	CHECK(f != NULL);
	CHECK_RC(custody_split(f->secret, ID, cer_a, 1, 3, f->sh), SB_EINVAL);
	CHECK_RC(custody_split(f->secret, ID, cer_a, 4, 3, f->sh), SB_EINVAL);
	CHECK_RC(custody_split(f->secret, ID, cer_a, 2, 17, f->sh), SB_EINVAL);
	CHECK_RC(custody_split(f->secret, ID, cer_a, 0, 0, f->sh), SB_EINVAL);
	CHECK_RC(custody_split(f->secret, "SBX-01", cer_a, 2, 3, f->sh), SB_EINVAL);
	CHECK_RC(custody_split(f->secret, "", cer_a, 2, 3, f->sh), SB_EINVAL);
	CHECK_RC(custody_split(f->secret, "a23456789012345678", cer_a, 2, 3, f->sh),
	    SB_EINVAL);
	CHECK_RC(custody_split(f->secret, "sbx 01", cer_a, 2, 3, f->sh), SB_EINVAL);
	CHECK_RC(custody_split(f->secret, NULL, cer_a, 2, 3, f->sh), SB_EINVAL);
	CHECK_RC(custody_split(f->secret, "abcdefghij-12345", cer_a, 16, 16, f->sh), 0);
	secret_free(&f);
}

static void
test_split_is_random(void)
{
	struct fx *f = fx_new();

	CHECK(f != NULL);
	CHECK_RC(custody_split(f->secret, ID, cer_a, 2, 3, f->sh), 0);
	CHECK_RC(custody_split(f->secret, ID, cer_a, 2, 3, f->other), 0);
	for (unsigned i = 0; i < 3; i++) {
		CHECK(f->sh[i].index == i + 1);
		CHECK(f->sh[i].threshold == 2 && f->sh[i].count == 3);
		CHECK(memcmp(f->sh[i].ceremony, cer_a, sizeof(cer_a)) == 0);
		CHECK_STR(f->sh[i].appliance, ID);
		/* fresh coefficients each time, and no share is S itself */
		CHECK(memcmp(f->sh[i].y, f->other[i].y, CUSTODY_SECRET_LEN) != 0);
		CHECK(memcmp(f->sh[i].y, f->secret, CUSTODY_SECRET_LEN) != 0);
	}
	secret_free(&f);
}

/* ---- share text ---------------------------------------------------------- */

/* A fixed share and its text, worked out by hand from the format. */
#define KAT_TEXT "sbx-01 2/3 AEAQ-EAYE-AUDA-OCAC-AMBA-AAIC-AMCA-KBQH-BAEQ-UCYM-" \
	"BUHA-6EAR-CIJR-IFIW-C4MB-SGQ3-DQOR-4H6V-YKAH-6KDY"

static void
kat_share(struct custody_share *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->appliance, sizeof(s->appliance), "%s", ID);
	memcpy(s->ceremony, cer_a, sizeof(cer_a));
	s->threshold = 2;
	s->count = 3;
	s->index = 2;
	for (unsigned i = 0; i < CUSTODY_SECRET_LEN; i++)
		s->y[i] = (uint8_t)i;
}

static void
test_text_known_answer(void)
{
	struct fx *f = fx_new();

	CHECK(f != NULL);
	kat_share(&f->sh[0]);
	CHECK_RC(custody_share_encode(&f->sh[0], f->text[0], CUSTODY_SHARE_TEXT_MAX), 0);
	ref_text(f->buf, sizeof(f->buf), ID, 2, 3, 1, cer_a, 2, 3, 2, f->sh[0].y);
	CHECK_STR(f->text[0], f->buf);
	CHECK_STR(f->text[0], KAT_TEXT);
	CHECK_RC(custody_share_decode(KAT_TEXT, &f->dec), 0);
	CHECK(share_eq(&f->dec, &f->sh[0]));
	secret_free(&f);
}

static void
test_text_round_trip(void)
{
	static const char *ids[] = { ID, "a", "abcdefghij-12345" };
	struct fx *f = fx_new();
	size_t len;

	CHECK(f != NULL);
	for (unsigned k = 0; k < 3; k++) {
		unsigned n = k == 2 ? 16 : 5, m = k == 2 ? 16 : 3;

		CHECK_RC(custody_split(f->secret, ids[k], cer_b, m, n, f->sh), 0);
		for (unsigned i = 0; i < n; i++) {
			char prefix[40];

			CHECK_RC(custody_share_encode(&f->sh[i], f->text[i],
			    CUSTODY_SHARE_TEXT_MAX), 0);
			snprintf(prefix, sizeof(prefix), "%s %u/%u ", ids[k], i + 1, n);
			CHECK(strncmp(f->text[i], prefix, strlen(prefix)) == 0);
			/* 20 groups of 4 joined by '-' */
			len = strlen(f->text[i]);
			CHECK(len == strlen(prefix) + 99);
			for (size_t j = 0; j < 99; j++) {
				char c = f->text[i][strlen(prefix) + j];

				if (j % 5 == 4)
					CHECK(c == '-');
				else
					CHECK(strchr(B32, c) != NULL && c != '\0');
			}
			CHECK_RC(custody_share_decode(f->text[i], &f->dec), 0);
			CHECK(share_eq(&f->dec, &f->sh[i]));
		}
	}
	/* The longest text fits the documented bound. */
	CHECK(len < CUSTODY_SHARE_TEXT_MAX);
	secret_free(&f);
}

static void
test_encode_bounds(void)
{
	struct fx *f = fx_new();
	size_t need;

	CHECK(f != NULL);
	kat_share(&f->sh[0]);
	need = strlen(KAT_TEXT) + 1;
	CHECK_RC(custody_share_encode(&f->sh[0], f->text[0], need), 0);
	CHECK_STR(f->text[0], KAT_TEXT);
	CHECK_RC(custody_share_encode(&f->sh[0], f->text[1], need - 1), SB_ELIMIT);
	CHECK(f->text[1][0] == '\0');
	f->sh[0].index = 0;
	CHECK_RC(custody_share_encode(&f->sh[0], f->text[0], CUSTODY_SHARE_TEXT_MAX),
	    SB_EINVAL);
	f->sh[0].index = 4;
	CHECK_RC(custody_share_encode(&f->sh[0], f->text[0], CUSTODY_SHARE_TEXT_MAX),
	    SB_EINVAL);
	secret_free(&f);
}

static void
test_every_substitution_caught(void)
{
	struct fx *f = fx_new();
	unsigned tried = 0;

	CHECK(f != NULL);
	for (unsigned k = 0; k < 2; k++) {
		if (k == 0)
			kat_share(&f->sh[0]);
		else
			CHECK_RC(custody_split(f->secret, ID, cer_a, 2, 3, f->sh), 0);
		CHECK_RC(custody_share_encode(&f->sh[0], f->text[0], CUSTODY_SHARE_TEXT_MAX), 0);
		for (char *p = body_of(f->text[0]); *p != '\0'; p++) {
			char orig = *p;

			if (orig == '-')
				continue;
			for (const char *c = B32; *c != '\0'; c++) {
				if (*c == orig)
					continue;
				*p = *c;
				CHECK_RC(custody_share_decode(f->text[0], &f->dec),
				    SB_ESHARE_CHECKSUM);
				tried++;
			}
			*p = orig;
		}
		CHECK_RC(custody_share_decode(f->text[0], &f->dec), 0);
	}
	CHECK(tried == 2 * 80 * 31);
	secret_free(&f);
}

static void
test_every_transposition_caught(void)
{
	struct fx *f = fx_new();
	unsigned tried = 0;

	CHECK(f != NULL);
	for (unsigned k = 0; k < 4; k++) {
		char *pos[80];
		unsigned n = 0;

		if (k == 0)
			kat_share(&f->sh[0]);
		else
			CHECK_RC(custody_split(f->secret, ID, cer_a, 2, 3, f->sh), 0);
		CHECK_RC(custody_share_encode(&f->sh[0], f->text[0], CUSTODY_SHARE_TEXT_MAX), 0);
		for (char *p = body_of(f->text[0]); *p != '\0'; p++)
			if (*p != '-')
				pos[n++] = p;
		CHECK(n == 80);
		/* neighbours in the base32 string, also across a '-' */
		for (unsigned i = 0; i + 1 < n; i++) {
			char a = *pos[i], b = *pos[i + 1];

			if (a == b)
				continue;
			*pos[i] = b;
			*pos[i + 1] = a;
			CHECK_RC(custody_share_decode(f->text[0], &f->dec), SB_ESHARE_CHECKSUM);
			*pos[i] = a;
			*pos[i + 1] = b;
			tried++;
		}
		CHECK_RC(custody_share_decode(f->text[0], &f->dec), 0);
	}
	CHECK(tried > 200);
	secret_free(&f);
}

static void
test_prefix_typos_caught(void)
{
	struct fx *f = fx_new();

	CHECK(f != NULL);
	kat_share(&f->sh[0]);
	/* a typo in the id: checksummed */
	snprintf(f->buf, sizeof(f->buf), "%s", KAT_TEXT);
	f->buf[4] = '2';	/* sbx-21 */
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_CHECKSUM);
	f->buf[4] = '0';
	f->buf[1] = 'x';	/* sxx-01 */
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_CHECKSUM);
	/* a typo in the number: must agree with the groups */
	snprintf(f->buf, sizeof(f->buf), "%s", KAT_TEXT);
	f->buf[7] = '3';	/* 3/3 */
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_CHECKSUM);
	f->buf[7] = '2';
	f->buf[9] = '4';	/* 2/4 */
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_CHECKSUM);
	snprintf(f->buf, sizeof(f->buf), "sbx-01 3/2 %s", body_of((char *)KAT_TEXT ""));
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_CHECKSUM);
	snprintf(f->buf, sizeof(f->buf), "sbx-01 12/3 %s", body_of((char *)KAT_TEXT ""));
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_CHECKSUM);
	/* the reference with a wrong number in front, otherwise perfect */
	ref_text(f->buf, sizeof(f->buf), ID, 1, 3, 1, cer_a, 2, 3, 2, f->sh[0].y);
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_CHECKSUM);
	secret_free(&f);
}

/* Apply fn to KAT_TEXT and expect it to decode to the KAT share. */
static int
forgiven(struct fx *f, const char *typed)
{
	return custody_share_decode(typed, &f->dec) == 0 && share_eq(&f->dec, &f->sh[0]);
}

static void
test_typing_forgiven(void)
{
	struct fx *f = fx_new();
	char *p;
	size_t o = 0;
	unsigned swapped = 0;

	CHECK(f != NULL);
	kat_share(&f->sh[0]);
	CHECK(forgiven(f, KAT_TEXT));
	/* lower case, and the id in upper case */
	snprintf(f->buf, sizeof(f->buf), "%s", KAT_TEXT);
	for (p = f->buf; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	CHECK(forgiven(f, f->buf));
	for (p = f->buf; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	CHECK(strncmp(f->buf, "SBX-01", 6) == 0);
	CHECK(forgiven(f, f->buf));
	/* no separators at all */
	for (p = (char *)KAT_TEXT; *p; p++)
		if (p < body_of((char *)KAT_TEXT "") || *p != '-')
			f->buf[o++] = *p;
	f->buf[o] = '\0';
	CHECK(strlen(f->buf) == strlen(KAT_TEXT) - 19);
	CHECK(forgiven(f, f->buf));
	/* spaces for dashes, doubled spaces, tabs, line breaks, spaces round '/' */
	snprintf(f->buf, sizeof(f->buf), "%s", KAT_TEXT);
	for (p = body_of(f->buf); *p; p++)
		if (*p == '-')
			*p = ' ';
	CHECK(forgiven(f, f->buf));
	CHECK(forgiven(f, "  sbx-01\t 2 / 3  AEAQ EAYE  AUDA-OCAC-AMBA\n"
	    "AAIC AMCA KBQH BAEQ UCYM\r\nBUHA 6EAR CIJR IFIW C4MB\n"
	    "SGQ3 DQOR 4H6V YKAH 6KDY \n"));
	CHECK(forgiven(f, "sbx-01 2/3-AEAQEAYEAUDAOCACAMBAAAICAMCAKBQHBAEQUCYMBUHA6EAR"
	    "CIJRIFIWC4MBSGQ3DQOR4H6VYKAH6KDY"));
	/* 0, 1 and 8 typed for O, I and B */
	snprintf(f->buf, sizeof(f->buf), "%s", KAT_TEXT);
	for (p = body_of(f->buf); *p; p++) {
		char *to = strchr("OIB", *p);

		if (to != NULL) {
			*p = "018"[to - "OIB"];
			swapped++;
		}
	}
	CHECK(swapped >= 3);
	CHECK(forgiven(f, f->buf));
	/* trailing white space up to the bound is still a share */
	o = strlen(KAT_TEXT);
	snprintf(f->buf, sizeof(f->buf), "%s", KAT_TEXT);
	memset(f->buf + o, ' ', CUSTODY_SHARE_TEXT_MAX - 1 - o);
	f->buf[CUSTODY_SHARE_TEXT_MAX - 1] = '\0';
	CHECK(forgiven(f, f->buf));
	secret_free(&f);
}

static void
test_not_a_share(void)
{
	static const char *bad[] = {
		"", " ", "\n", "hello", "sbx-01", "sbx-01 ", "sbx-01 2/3", "sbx-01 2/3 ",
		"sbx-01 2/3 ----", "2/3 AEAQ", "sbx_01 2/3 AEAQ", "sbx-01 x/3 AEAQ",
		"sbx-01 2-3 AEAQ", "sbx-01 2/ AEAQ", "sbx-01 /3 AEAQ", "sbx-01 123/3 AEAQ",
		"sbx-01 2/3AEAQ", "abcdefghij-123456 2/3 AEAQ", "\xff\xfe 2/3 AEAQ",
		"sbx-01 2/3 \xc3\xa9", "{\"share\": 1}",
	};
	struct fx *f = fx_new();
	char *body;
	size_t n;

	CHECK(f != NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&f->dec, 0x55, sizeof(f->dec));
		CHECK_RC(custody_share_decode(bad[i], &f->dec), SB_ESHARE_FORMAT);
		CHECK(f->dec.index == 0 && f->dec.y[0] == 0);	/* wiped */
	}
	CHECK_RC(custody_share_decode(NULL, &f->dec), SB_EINVAL);
	/* a character outside the alphabet (9, punctuation) */
	snprintf(f->buf, sizeof(f->buf), "%s", KAT_TEXT);
	body = body_of(f->buf);
	body[7] = '9';
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_FORMAT);
	body[7] = '!';
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_FORMAT);
	/* one character missing, one too many */
	snprintf(f->buf, sizeof(f->buf), "%s", KAT_TEXT);
	f->buf[strlen(f->buf) - 1] = '\0';
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_FORMAT);
	snprintf(f->buf, sizeof(f->buf), "%sA", KAT_TEXT);
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_FORMAT);
	/* a valid share made one byte too long with white space */
	n = strlen(KAT_TEXT);
	snprintf(f->buf, sizeof(f->buf), "%s", KAT_TEXT);
	memset(f->buf + n, ' ', CUSTODY_SHARE_TEXT_MAX - n);
	f->buf[CUSTODY_SHARE_TEXT_MAX] = '\0';
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_FORMAT);
	/* very long input */
	memset(f->buf, 'A', sizeof(f->buf) - 1);
	f->buf[sizeof(f->buf) - 1] = '\0';
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_FORMAT);
	secret_free(&f);
}

/* Checksummed payloads no typo can make: unknown version, numbers out of range. */
static void
test_bad_payload_is_format(void)
{
	struct fx *f = fx_new();

	CHECK(f != NULL);
	kat_share(&f->sh[0]);
	ref_text(f->buf, sizeof(f->buf), ID, 2, 3, 1, cer_a, 2, 3, 2, f->sh[0].y);
	CHECK_RC(custody_share_decode(f->buf, &f->dec), 0);
	ref_text(f->buf, sizeof(f->buf), ID, 2, 3, 2, cer_a, 2, 3, 2, f->sh[0].y);
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_FORMAT);
	ref_text(f->buf, sizeof(f->buf), ID, 2, 3, 1, cer_a, 1, 3, 2, f->sh[0].y);
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_FORMAT);
	ref_text(f->buf, sizeof(f->buf), ID, 2, 3, 1, cer_a, 4, 3, 2, f->sh[0].y);
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_FORMAT);
	ref_text(f->buf, sizeof(f->buf), ID, 0, 3, 1, cer_a, 2, 3, 0, f->sh[0].y);
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_FORMAT);
	ref_text(f->buf, sizeof(f->buf), ID, 4, 3, 1, cer_a, 2, 3, 4, f->sh[0].y);
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_FORMAT);
	ref_text(f->buf, sizeof(f->buf), ID, 2, 17, 1, cer_a, 2, 17, 2, f->sh[0].y);
	CHECK_RC(custody_share_decode(f->buf, &f->dec), SB_ESHARE_FORMAT);
	secret_free(&f);
}

/* ---- the share set ------------------------------------------------------- */

static void
test_set_foreign(void)
{
	struct fx *f = fx_new();
	struct custody_set *set;
	char detail[256];

	CHECK(f != NULL);
	CHECK_RC(custody_split(f->secret, "sbx-02", cer_a, 2, 3, f->sh), 0);
	CHECK_RC(custody_share_encode(&f->sh[1], f->text[0], CUSTODY_SHARE_TEXT_MAX), 0);
	CHECK((set = custody_set_new(ID, NULL)) != NULL);
	CHECK_RC(custody_set_add(set, f->text[0], NULL, NULL, detail, sizeof(detail)),
	    SB_ESHARE_FOREIGN);
	CHECK_CONTAINS(detail, "share 2 of 3 for sbx-02");
	CHECK_CONTAINS(detail, "another appliance");
	CHECK(!leaks_groups(detail, f->text[0]));
	CHECK(custody_set_count(set) == 0);
	custody_set_free(set);
	secret_free(&f);
}

static void
test_set_dup(void)
{
	struct fx *f = fx_new();
	struct custody_set *set;
	char detail[256];
	unsigned have = 9, need = 9;

	CHECK(f != NULL);
	CHECK_RC(custody_split(f->secret, ID, cer_a, 2, 3, f->sh), 0);
	CHECK_RC(custody_share_encode(&f->sh[1], f->text[0], CUSTODY_SHARE_TEXT_MAX), 0);
	CHECK((set = custody_set_new(ID, NULL)) != NULL);
	CHECK_RC(custody_set_add(set, f->text[0], &have, &need, detail, sizeof(detail)), 0);
	CHECK(have == 1 && need == 2);
	CHECK_CONTAINS(detail, "share 2 of 3 for sbx-01 accepted");
	CHECK(!leaks_groups(detail, f->text[0]));
	/* the very same text again */
	CHECK_RC(custody_set_add(set, f->text[0], &have, &need, detail, sizeof(detail)),
	    SB_ESHARE_DUP);
	CHECK(have == 1 && need == 2);
	CHECK_CONTAINS(detail, "share 2 of 3 for sbx-01");
	CHECK_CONTAINS(detail, "already entered");
	CHECK(!leaks_groups(detail, f->text[0]));
	/* the same number with other bytes */
	f->other[0] = f->sh[1];
	f->other[0].y[0] ^= 1;
	CHECK_RC(custody_set_add_share(set, &f->other[0], NULL, NULL, NULL, 0), SB_ESHARE_DUP);
	CHECK(custody_set_count(set) == 1);
	/* the set is unchanged: one more good share unlocks it */
	CHECK_RC(custody_set_add_share(set, &f->sh[2], &have, &need, NULL, 0), 0);
	CHECK(have == 2 && need == 2);
	CHECK_RC(custody_set_combine(set, f->out), 0);
	CHECK(memcmp(f->out, f->secret, CUSTODY_SECRET_LEN) == 0);
	custody_set_free(set);
	secret_free(&f);
}

static void
test_set_mixed(void)
{
	struct fx *f = fx_new();
	struct custody_set *set;
	char detail[256];

	CHECK(f != NULL);
	CHECK_RC(custody_split(f->secret, ID, cer_a, 2, 3, f->sh), 0);
	CHECK_RC(custody_split(f->secret, ID, cer_b, 2, 3, f->other), 0);
	CHECK_RC(custody_share_encode(&f->other[1], f->text[0], CUSTODY_SHARE_TEXT_MAX), 0);
	CHECK((set = custody_set_new(ID, NULL)) != NULL);
	CHECK_RC(custody_set_add_share(set, &f->sh[0], NULL, NULL, NULL, 0), 0);
	CHECK_RC(custody_set_add(set, f->text[0], NULL, NULL, detail, sizeof(detail)),
	    SB_ESHARE_MIXED);
	CHECK_CONTAINS(detail, "share 2 of 3 for sbx-01");
	CHECK_CONTAINS(detail, "0909090909090909");
	CHECK_CONTAINS(detail, "0102030405060708");
	CHECK(!leaks_groups(detail, f->text[0]));
	/* another ceremony's share with a number already held: MIXED before DUP */
	CHECK_RC(custody_set_add_share(set, &f->other[0], NULL, NULL, NULL, 0),
	    SB_ESHARE_MIXED);
	/* same ceremony id but other numbers: also not of this set */
	f->other[2] = f->sh[2];
	f->other[2].count = 4;
	CHECK_RC(custody_set_add_share(set, &f->other[2], NULL, NULL, NULL, 0),
	    SB_ESHARE_MIXED);
	CHECK(custody_set_count(set) == 1);
	CHECK_RC(custody_set_add_share(set, &f->sh[2], NULL, NULL, NULL, 0), 0);
	CHECK_RC(custody_set_combine(set, f->out), 0);
	CHECK(memcmp(f->out, f->secret, CUSTODY_SECRET_LEN) == 0);
	custody_set_free(set);
	secret_free(&f);
}

static void
test_set_stale(void)
{
	struct fx *f = fx_new();
	struct custody_record rec;
	struct custody_set *set;
	char detail[256];

	CHECK(f != NULL);
	CHECK_RC(custody_split(f->secret, ID, cer_a, 2, 3, f->other), 0);	/* old */
	CHECK_RC(RAND_bytes(f->secret, sizeof(f->secret)), 1);
	CHECK_RC(custody_split(f->secret, ID, cer_b, 2, 3, f->sh), 0);	/* in force */
	make_record(&rec, ID, f->secret, cer_b, 2, 3);
	CHECK_RC(custody_share_encode(&f->other[0], f->text[0], CUSTODY_SHARE_TEXT_MAX), 0);
	CHECK((set = custody_set_new(ID, &rec)) != NULL);
	CHECK_RC(custody_set_add(set, f->text[0], NULL, NULL, detail, sizeof(detail)),
	    SB_ESHARE_STALE);
	CHECK_CONTAINS(detail, "share 1 of 3 for sbx-01");
	CHECK_CONTAINS(detail, "0102030405060708");
	CHECK(!leaks_groups(detail, f->text[0]));
	/* STALE comes before DUP, FOREIGN before STALE */
	CHECK_RC(custody_set_add_share(set, &f->sh[0], NULL, NULL, NULL, 0), 0);
	CHECK_RC(custody_set_add_share(set, &f->other[0], NULL, NULL, NULL, 0),
	    SB_ESHARE_STALE);
	snprintf(f->other[1].appliance, sizeof(f->other[1].appliance), "sbx-02");
	CHECK_RC(custody_set_add_share(set, &f->other[1], NULL, NULL, NULL, 0),
	    SB_ESHARE_FOREIGN);
	/* the record's ceremony with other numbers */
	f->other[2] = f->sh[2];
	f->other[2].threshold = 3;
	CHECK_RC(custody_set_add_share(set, &f->other[2], NULL, NULL, NULL, 0),
	    SB_ESHARE_MIXED);
	CHECK(custody_set_count(set) == 1);
	CHECK_RC(custody_set_add_share(set, &f->sh[2], NULL, NULL, NULL, 0), 0);
	CHECK_RC(custody_set_combine(set, f->out), 0);
	CHECK(memcmp(f->out, f->secret, CUSTODY_SECRET_LEN) == 0);
	custody_set_free(set);
	secret_free(&f);
}

static void
test_set_wrong_and_toofew(void)
{
	struct fx *f = fx_new();
	struct custody_record rec;
	struct custody_set *set;
	uint8_t other[CUSTODY_SECRET_LEN];
	unsigned have, need;

	CHECK(f != NULL);
	CHECK_RC(custody_split(f->secret, ID, cer_a, 2, 3, f->sh), 0);
	CHECK_RC(RAND_bytes(other, sizeof(other)), 1);
	make_record(&rec, ID, other, cer_a, 2, 3);	/* S' with the same ceremony id */
	CHECK((set = custody_set_new(ID, &rec)) != NULL);
	CHECK_RC(custody_set_combine(set, f->out), SB_ESHARE_TOOFEW);
	CHECK_RC(custody_set_add_share(set, &f->sh[0], &have, &need, NULL, 0), 0);
	CHECK(have == 1 && need == 2);
	CHECK_RC(custody_set_combine(set, f->out), SB_ESHARE_TOOFEW);
	CHECK_RC(custody_set_add_share(set, &f->sh[1], NULL, NULL, NULL, 0), 0);
	memset(f->out, 0x77, sizeof(f->out));
	CHECK_RC(custody_set_combine(set, f->out), SB_ESHARE_WRONG);
	for (unsigned i = 0; i < CUSTODY_SECRET_LEN; i++)
		CHECK(f->out[i] == 0);	/* the wrong secret is wiped, not handed out */
	custody_set_free(set);
	/* the same shares against the right record */
	make_record(&rec, ID, f->secret, cer_a, 2, 3);
	CHECK((set = custody_set_new(ID, &rec)) != NULL);
	CHECK_RC(custody_set_add_share(set, &f->sh[0], NULL, NULL, NULL, 0), 0);
	CHECK_RC(custody_set_add_share(set, &f->sh[1], NULL, NULL, NULL, 0), 0);
	CHECK_RC(custody_set_combine(set, f->out), 0);
	CHECK(memcmp(f->out, f->secret, CUSTODY_SECRET_LEN) == 0);
	custody_set_free(set);
	secret_free(&f);
}

/* Through the text interface: every subset of a 3-of-5. */
static void
test_set_from_text(void)
{
	struct fx *f = fx_new();
	struct custody_record rec;
	char detail[256];

	CHECK(f != NULL);
	CHECK_RC(custody_split(f->secret, ID, cer_a, 3, 5, f->sh), 0);
	make_record(&rec, ID, f->secret, cer_a, 3, 5);
	for (unsigned i = 0; i < 5; i++)
		CHECK_RC(custody_share_encode(&f->sh[i], f->text[i], CUSTODY_SHARE_TEXT_MAX), 0);
	for (unsigned mask = 1; mask < 32; mask++) {
		struct custody_set *set = custody_set_new(ID, &rec);
		unsigned have = 0, need = 0;
		int rc;

		CHECK(set != NULL);
		for (unsigned i = 0; i < 5; i++)
			if (mask & (1u << i))
				CHECK_RC(custody_set_add(set, f->text[i], &have, &need,
				    detail, sizeof(detail)), 0);
		CHECK(have == (unsigned)__builtin_popcount(mask) && need == 3);
		rc = custody_set_combine(set, f->out);
		custody_set_free(set);
		CHECK_RC(rc, have >= 3 ? 0 : SB_ESHARE_TOOFEW);
		if (rc == 0)
			CHECK(memcmp(f->out, f->secret, CUSTODY_SECRET_LEN) == 0);
	}
	secret_free(&f);
}

static void
test_set_errors_leave_set_unchanged(void)
{
	struct fx *f = fx_new();
	struct custody_set *set;
	char detail[256];
	unsigned have = 9, need = 9;

	CHECK(f != NULL);
	CHECK_RC(custody_split(f->secret, ID, cer_a, 2, 3, f->sh), 0);
	CHECK_RC(custody_share_encode(&f->sh[0], f->text[0], CUSTODY_SHARE_TEXT_MAX), 0);
	CHECK((set = custody_set_new(ID, NULL)) != NULL);
	CHECK_RC(custody_set_add(set, "not a share", &have, &need, detail, sizeof(detail)),
	    SB_ESHARE_FORMAT);
	CHECK(have == 0 && need == 0);
	CHECK_CONTAINS(detail, "not a share");
	/* a mistyped share: named from its visible prefix */
	snprintf(f->buf, sizeof(f->buf), "%s", f->text[0]);
	{
		char *p = body_of(f->buf) + 10;

		*p = *p == 'Q' ? 'R' : 'Q';
	}
	CHECK_RC(custody_set_add(set, f->buf, &have, &need, detail, sizeof(detail)),
	    SB_ESHARE_CHECKSUM);
	CHECK_CONTAINS(detail, "share 1 of 3 for sbx-01");
	CHECK_CONTAINS(detail, "mistyped");
	CHECK(!leaks_groups(detail, f->buf));
	CHECK(!leaks_groups(detail, f->text[0]));
	/* a missing character: the detail says so */
	snprintf(f->buf, sizeof(f->buf), "%s", f->text[0]);
	f->buf[strlen(f->buf) - 1] = '\0';
	CHECK_RC(custody_set_add(set, f->buf, &have, &need, detail, sizeof(detail)),
	    SB_ESHARE_FORMAT);
	CHECK_CONTAINS(detail, "share 1 of 3 for sbx-01");
	CHECK_CONTAINS(detail, "79 characters");
	CHECK(custody_set_count(set) == 0);
	/* a tiny detail buffer is cut, not overrun */
	CHECK_RC(custody_set_add(set, f->text[0], NULL, NULL, detail, 6), 0);
	CHECK_STR(detail, "share");
	CHECK_RC(custody_set_add(NULL, f->text[0], NULL, NULL, NULL, 0), SB_EINVAL);
	CHECK_RC(custody_set_add(set, NULL, NULL, NULL, NULL, 0), SB_EINVAL);
	custody_set_free(set);
	custody_set_free(NULL);
	secret_free(&f);
}

static void
test_set_new_and_info(void)
{
	struct fx *f = fx_new();
	struct custody_record rec;
	struct custody_set *set;
	uint8_t cer[CUSTODY_CEREMONY_LEN];
	unsigned m = 9, n = 9;

	CHECK(f != NULL);
	CHECK(custody_set_new("SBX", NULL) == NULL);
	CHECK(custody_set_new("", NULL) == NULL);
	CHECK(custody_set_new(NULL, NULL) == NULL);
	make_record(&rec, "sbx-02", f->secret, cer_a, 2, 3);
	CHECK(custody_set_new(ID, &rec) == NULL);	/* a record of another appliance */
	make_record(&rec, ID, f->secret, cer_a, 3, 2);
	CHECK(custody_set_new(ID, &rec) == NULL);	/* a record that makes no sense */
	CHECK((set = custody_set_new(ID, NULL)) != NULL);
	memset(cer, 0xff, sizeof(cer));
	CHECK_RC(custody_set_info(set, cer, &m, &n), 0);
	CHECK(m == 0 && n == 0 && cer[0] == 0 && cer[7] == 0);
	CHECK_RC(custody_split(f->secret, ID, cer_b, 3, 4, f->sh), 0);
	CHECK_RC(custody_set_add_share(set, &f->sh[3], NULL, NULL, NULL, 0), 0);
	CHECK_RC(custody_set_info(set, cer, &m, &n), 0);
	CHECK(m == 3 && n == 4 && memcmp(cer, cer_b, sizeof(cer)) == 0);
	CHECK(custody_set_count(set) == 1);
	CHECK(custody_set_count(NULL) == 0);
	custody_set_free(set);
	secret_free(&f);
}

/* ---- derivations --------------------------------------------------------- */

static int
ref_hkdf(const uint8_t *secret, const char *salt, const char *info, uint8_t out[32])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t len = 32;
	int ok;

	ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set1_hkdf_salt(ctx, (const unsigned char *)salt,
	    (int)strlen(salt)) == 1 &&
	    EVP_PKEY_CTX_set1_hkdf_key(ctx, secret, 32) == 1 &&
	    EVP_PKEY_CTX_add1_hkdf_info(ctx, (const unsigned char *)info,
	    (int)strlen(info)) == 1 &&
	    EVP_PKEY_derive(ctx, out, &len) == 1 && len == 32;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static void
to_hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void
test_pin_derivation(void)
{
	struct fx *f = fx_new();
	char so[CUSTODY_PIN_LEN + 1], user[CUSTODY_PIN_LEN + 1], again[CUSTODY_PIN_LEN + 1];
	char other[CUSTODY_PIN_LEN + 1], want[CUSTODY_PIN_LEN + 1];
	uint8_t raw[32];

	CHECK(f != NULL);
	CHECK_RC(custody_derive_pin(f->secret, ID, 1, so), 0);
	CHECK_RC(custody_derive_pin(f->secret, ID, 0, user), 0);
	CHECK_RC(custody_derive_pin(f->secret, ID, 0, again), 0);
	CHECK(strlen(user) == CUSTODY_PIN_LEN && strlen(so) == CUSTODY_PIN_LEN);
	CHECK(strspn(user, "0123456789abcdef") == CUSTODY_PIN_LEN);
	CHECK(strspn(so, "0123456789abcdef") == CUSTODY_PIN_LEN);
	CHECK_STR(again, user);
	CHECK(strcmp(so, user) != 0);
	CHECK_RC(custody_derive_pin(f->secret, "sbx-02", 0, other), 0);
	CHECK(strcmp(other, user) != 0);
	CHECK_RC(custody_derive_pin(f->secret, "sbx-02", 1, other), 0);
	CHECK(strcmp(other, so) != 0);
	/* the documented labels, computed with OpenSSL's other HKDF interface */
	CHECK(ref_hkdf(f->secret, ID, "sealbox v1 user-pin", raw));
	to_hex(raw, 32, want);
	CHECK_STR(user, want);
	CHECK(ref_hkdf(f->secret, ID, "sealbox v1 so-pin", raw));
	to_hex(raw, 32, want);
	CHECK_STR(so, want);
	f->secret[31] ^= 1;
	CHECK_RC(custody_derive_pin(f->secret, ID, 0, again), 0);
	CHECK(strcmp(again, user) != 0);
	CHECK_RC(custody_derive_pin(f->secret, "Not An Id", 0, again), SB_EINVAL);
	secret_free(&f);
}

static void
test_check_value(void)
{
	struct fx *f = fx_new();
	uint8_t check[CUSTODY_CHECK_LEN], raw[32], other[CUSTODY_CHECK_LEN];

	CHECK(f != NULL);
	CHECK_RC(custody_check_value(f->secret, ID, check), 0);
	CHECK(ref_hkdf(f->secret, ID, "sealbox v1 check", raw));
	CHECK(memcmp(check, raw, 32) == 0);
	CHECK_RC(custody_check_value(f->secret, "sbx-02", other), 0);
	CHECK(memcmp(check, other, sizeof(check)) != 0);
	CHECK(ref_hkdf(f->secret, ID, "sealbox v1 user-pin", raw));
	CHECK(memcmp(check, raw, 32) != 0);
	secret_free(&f);
}

/* ---- the custody record -------------------------------------------------- */

static char tmpdir[256];

static int
make_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/sbx-custody-XXXXXX", t ? t : "/tmp");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static void
rm_tmpdir(void)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(tmpdir);

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		if (remove(path) != 0)
			(void)rmdir(path);
	}
	if (d != NULL)
		closedir(d);
	(void)rmdir(tmpdir);
}

static int
write_record(const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/custody.json", tmpdir);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

static unsigned
count_entries(void)
{
	unsigned n = 0;
	DIR *d = opendir(tmpdir);

	while (d != NULL && readdir(d) != NULL)
		n++;
	if (d != NULL)
		closedir(d);
	return n - 2;
}

static void
test_record_round_trip(void)
{
	static const uint8_t secret[CUSTODY_SECRET_LEN] = { 42 };
	struct custody_record rec, got;
	char path[512];
	struct stat st;

	CHECK(make_tmpdir() == 0);
	CHECK_RC(custody_record_load(tmpdir, &got), SB_ENOTFOUND);
	make_record(&rec, ID, secret, cer_a, 2, 3);
	CHECK_RC(custody_record_save(tmpdir, &rec), 0);
	snprintf(path, sizeof(path), "%s/custody.json", tmpdir);
	CHECK(stat(path, &st) == 0);
	CHECK((st.st_mode & 0777) == 0600);
	CHECK(count_entries() == 1);	/* no temporary file left behind */
	memset(&got, 0xee, sizeof(got));
	CHECK_RC(custody_record_load(tmpdir, &got), 0);
	CHECK_STR(got.appliance, rec.appliance);
	CHECK(memcmp(got.ceremony, rec.ceremony, sizeof(rec.ceremony)) == 0);
	CHECK(memcmp(got.check, rec.check, sizeof(rec.check)) == 0);
	CHECK(got.threshold == 2 && got.count == 3 && got.created == 1700000000);
	/* replaced in place by the next save */
	memcpy(rec.ceremony, cer_b, sizeof(cer_b));
	rec.threshold = 3;
	rec.count = 5;
	CHECK_RC(custody_record_save(tmpdir, &rec), 0);
	CHECK_RC(custody_record_load(tmpdir, &got), 0);
	CHECK(memcmp(got.ceremony, cer_b, sizeof(cer_b)) == 0);
	CHECK(got.threshold == 3 && got.count == 5);
	CHECK(count_entries() == 1);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	/* invalid records are not written */
	rec.threshold = 6;
	CHECK_RC(custody_record_save(tmpdir, &rec), SB_EINVAL);
	rec.threshold = 3;
	snprintf(rec.appliance, sizeof(rec.appliance), "Bad Id");
	CHECK_RC(custody_record_save(tmpdir, &rec), SB_EINVAL);
	snprintf(rec.appliance, sizeof(rec.appliance), "%s", ID);
	CHECK_RC(custody_record_save("/nonexistent/sealbox", &rec), SB_EIO);
	CHECK_RC(custody_record_load("/nonexistent/sealbox", &got), SB_ENOTFOUND);
	rm_tmpdir();
}

#define GOOD_CER "\"ceremony\": \"0102030405060708\""
#define GOOD_CHECK "\"check\": \"00112233445566778899aabbccddeeff" \
	"00112233445566778899aabbccddeeff\""

static void
test_record_bad_files(void)
{
	static const char *bad[] = {
		"",
		"not json",
		"[]",
		"{}",
		"{\"appliance\": \"sbx-01\", " GOOD_CER ", \"threshold\": 2, \"count\": 3, "
		    GOOD_CHECK "}",	/* created missing */
		"{\"appliance\": \"sbx-01\", " GOOD_CER ", \"threshold\": 2, \"count\": 3, "
		    GOOD_CHECK ", \"created\": 1, \"extra\": 1}",
		"{\"appliance\": \"SBX-01\", " GOOD_CER ", \"threshold\": 2, \"count\": 3, "
		    GOOD_CHECK ", \"created\": 1}",
		"{\"appliance\": 7, " GOOD_CER ", \"threshold\": 2, \"count\": 3, "
		    GOOD_CHECK ", \"created\": 1}",
		"{\"appliance\": \"sbx-01\", \"ceremony\": \"01020304050607\", "
		    "\"threshold\": 2, \"count\": 3, " GOOD_CHECK ", \"created\": 1}",
		"{\"appliance\": \"sbx-01\", \"ceremony\": \"010203040506070G\", "
		    "\"threshold\": 2, \"count\": 3, " GOOD_CHECK ", \"created\": 1}",
		"{\"appliance\": \"sbx-01\", \"ceremony\": \"01020304050607AB\", "
		    "\"threshold\": 2, \"count\": 3, " GOOD_CHECK ", \"created\": 1}",
		"{\"appliance\": \"sbx-01\", " GOOD_CER ", \"threshold\": 2, \"count\": 3, "
		    "\"check\": \"0011\", \"created\": 1}",
		"{\"appliance\": \"sbx-01\", " GOOD_CER ", \"threshold\": \"2\", \"count\": 3, "
		    GOOD_CHECK ", \"created\": 1}",
		"{\"appliance\": \"sbx-01\", " GOOD_CER ", \"threshold\": 2.0, \"count\": 3, "
		    GOOD_CHECK ", \"created\": 1}",
		"{\"appliance\": \"sbx-01\", " GOOD_CER ", \"threshold\": 1, \"count\": 3, "
		    GOOD_CHECK ", \"created\": 1}",
		"{\"appliance\": \"sbx-01\", " GOOD_CER ", \"threshold\": 4, \"count\": 3, "
		    GOOD_CHECK ", \"created\": 1}",
		"{\"appliance\": \"sbx-01\", " GOOD_CER ", \"threshold\": 2, \"count\": 17, "
		    GOOD_CHECK ", \"created\": 1}",
		"{\"appliance\": \"sbx-01\", " GOOD_CER ", \"threshold\": 2, \"count\": 3, "
		    GOOD_CHECK ", \"created\": -1}",
		"{\"appliance\": \"sbx-01\", " GOOD_CER ", \"threshold\": 2, \"count\": 3, "
		    GOOD_CHECK ", \"created\": 1, \"created\": 2}",
		"{\"appliance\": \"sbx-01\", " GOOD_CER ", \"threshold\": 2, \"count\": 3, "
		    GOOD_CHECK ", \"created\": 1} trailing",
		"{\"appliance\": \"sbx-01\", " GOOD_CER ", \"threshold\": 2, \"count\": 3, "
		    GOOD_CHECK ", \"created\": 1",
	};
	static const char good[] = "{\"appliance\": \"sbx-01\", " GOOD_CER ", "
	    "\"threshold\": 2, \"count\": 3, " GOOD_CHECK ", \"created\": 1}";
	struct custody_record got;
	char *big;
	char path[512];

	CHECK(make_tmpdir() == 0);
	CHECK(write_record(good) == 0);
	CHECK_RC(custody_record_load(tmpdir, &got), 0);
	CHECK(got.check[15] == 0xff && got.created == 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(write_record(bad[i]) == 0);
		CHECK_RC(custody_record_load(tmpdir, &got), SB_ECONFIG);
	}
	/* a good record padded past the size bound */
	CHECK((big = malloc(8192)) != NULL);
	memset(big, ' ', 8191);
	memcpy(big + 8191 - strlen(good), good, strlen(good));
	big[8191] = '\0';
	CHECK(write_record(big) == 0);
	free(big);
	CHECK_RC(custody_record_load(tmpdir, &got), SB_ECONFIG);
	/* not a regular file */
	snprintf(path, sizeof(path), "%s/custody.json", tmpdir);
	CHECK(remove(path) == 0 && mkdir(path, 0700) == 0);
	CHECK_RC(custody_record_load(tmpdir, &got), SB_ECONFIG);
	rm_tmpdir();
}

int
main(void)
{
	/* Record errors are logged; keep the test output to the results. */
	log_set_level(LOG_CRIT);
	RUN(test_every_subset_small, "n=2..5, every m: every subset of >= m shares gives S, "
	    "every smaller one is refused as too few");
	RUN(test_every_subset_16, "n=16, every m: every m-subset gives S, every "
	    "(m-1)-subset is refused as too few");
	RUN(test_split_refuses_bad_parameters, "split refuses threshold < 2, threshold > "
	    "count, count > 16 and invalid appliance ids");
	RUN(test_split_is_random, "split numbers shares 1..n and draws fresh coefficients "
	    "each time");
	RUN(test_text_known_answer, "a fixed share encodes to the documented text, "
	    "checked against an independent implementation");
	RUN(test_text_round_trip, "encode then decode gives the same share, as "
	    "'<id> <i>/<n> ' and 20 groups of 4");
	RUN(test_encode_bounds, "encode refuses a buffer one byte short and invalid shares");
	RUN(test_every_substitution_caught, "every single-character substitution in the "
	    "groups is caught as mistyped");
	RUN(test_every_transposition_caught, "every adjacent transposition in the groups "
	    "is caught as mistyped");
	RUN(test_prefix_typos_caught, "a typo in the appliance id or share number in "
	    "front is caught as mistyped");
	RUN(test_typing_forgiven, "case, white space, missing or other separators and "
	    "0/1/8 for O/I/B are forgiven");
	RUN(test_not_a_share, "garbage, empty, truncated, overlong and foreign-character "
	    "input is not a share");
	RUN(test_bad_payload_is_format, "a well-checksummed share of another version or "
	    "with numbers out of range is not a share");
	RUN(test_set_foreign, "a share of another appliance is refused as foreign");
	RUN(test_set_dup, "the same share twice, or the same number twice, is refused as "
	    "a duplicate");
	RUN(test_set_mixed, "without a record, shares of two ceremonies are refused as "
	    "mixed");
	RUN(test_set_stale, "with a record, a share of an earlier ceremony is refused as "
	    "stale (after foreign, before duplicate)");
	RUN(test_set_wrong_and_toofew, "too few shares are refused; shares that do not "
	    "match the record's check value give WRONG and no secret");
	RUN(test_set_from_text, "every subset of a 3-of-5 entered as text unseals iff it "
	    "has 3 shares or more");
	RUN(test_set_errors_leave_set_unchanged, "refused shares leave the set unchanged "
	    "and the detail names the share, never its groups");
	RUN(test_set_new_and_info, "a set needs a valid id and a matching record; info "
	    "reports the shares' ceremony");
	RUN(test_pin_derivation, "PINs are HKDF-SHA256 with the documented labels: "
	    "deterministic, SO != user, per appliance");
	RUN(test_check_value, "the check value is HKDF-SHA256 with its own label");
	RUN(test_record_round_trip, "the custody record saves (mode 0600, no temporary "
	    "left) and loads back; missing is not found");
	RUN(test_record_bad_files, "a custody record with any wrong, missing, extra or "
	    "duplicate field, or too long, is refused");
	return check_done();
}
