/* daemon/monitor/mon_words: the sensitive words' normal form, their rules and the matcher. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include <openssl/evp.h>

#include "daemon/monitor/mon_int.h"
#include "daemon/net/req.h"
#include "check.h"

static int
norm(const char *in, char *out, size_t cap)
{
	size_t len;

	return mon_words_normalise((const uint8_t *)in, strlen(in), out, cap, &len);
}

static void
test_normal_form(void)
{
	char out[128];

	CHECK_RC(norm("  机 密\n文件\t", out, sizeof(out)), 0);
	CHECK_STR(out, "机密文件");
	/* The ideographic space, a no-break space, a zero-width space, a BOM. */
	CHECK_RC(norm("机\xe3\x80\x80密\xc2\xa0文\xe2\x80\x8b件\xef\xbb\xbf", out, sizeof(out)), 0);
	CHECK_STR(out, "机密文件");
	CHECK_RC(norm("Top SECRET Plan", out, sizeof(out)), 0);
	CHECK_STR(out, "topsecretplan");
	/* Full-width ASCII folds to ASCII; other scripts keep their case. */
	CHECK_RC(norm("\xef\xbc\xa1\xef\xbc\xa2\xef\xbd\x83１", out, sizeof(out)), 0);	/* ＡＢｃ１ */
	CHECK_STR(out, "abc1");
	CHECK_RC(norm("ÉCOLE Ωμέγα", out, sizeof(out)), 0);
	CHECK_STR(out, "ÉcoleΩμέγα");
	/* Not strict UTF-8: refused, whatever follows. */
	CHECK_RC(norm("机\xe5\xaf", out, sizeof(out)), SB_EINVAL);	/* cut short */
	CHECK_RC(norm("\xe5\xaf机", out, sizeof(out)), SB_EINVAL);	/* a lead without its tail */
	CHECK_RC(norm("\xc0\xaf", out, sizeof(out)), SB_EINVAL);	/* overlong "/" */
	CHECK_RC(norm("\xed\xa0\x80", out, sizeof(out)), SB_EINVAL);	/* a surrogate */
	CHECK_RC(norm("\xf4\x90\x80\x80", out, sizeof(out)), SB_EINVAL);	/* past U+10FFFF */
	CHECK_RC(norm("\xff", out, sizeof(out)), SB_EINVAL);
	/* The output is bounded: a full buffer is SB_ELIMIT, not an overflow. */
	CHECK_RC(norm("机密", out, 6), SB_ELIMIT);
	CHECK_RC(norm("机密", out, 7), 0);
}

static void
test_word_rules(void)
{
	char n[STORE_WORD_MAX + 1], why[256], w[128];

	CHECK_RC(mon_words_check("机密", "", n, why, sizeof(why)), 0);
	CHECK_STR(n, "机密");
	CHECK_RC(mon_words_check(" Top Secret ", "政治", n, why, sizeof(why)), 0);
	CHECK_STR(n, "topsecret");
	CHECK_RC(mon_words_check("", "", n, why, sizeof(why)), SB_EINVAL);
	CHECK_CONTAINS(why, "1 to 64 bytes");
	/* 64 bytes are a word; 65 are not. 21 Chinese characters are 63 bytes. */
	memset(w, 'a', 64);
	w[64] = '\0';
	CHECK_RC(mon_words_check(w, "", n, why, sizeof(why)), 0);
	w[64] = 'a';
	w[65] = '\0';
	CHECK_RC(mon_words_check(w, "", n, why, sizeof(why)), SB_EINVAL);
	CHECK_CONTAINS(why, "this one is 65");
	w[0] = '\0';
	for (int i = 0; i < 22; i++)
		strcat(w, "密");
	CHECK_RC(mon_words_check(w, "", n, why, sizeof(why)), SB_EINVAL);
	w[63] = '\0';
	CHECK_RC(mon_words_check(w, "", n, why, sizeof(why)), 0);
	CHECK_RC(mon_words_check("机\xe5\xaf", "", n, why, sizeof(why)), SB_EINVAL);
	CHECK_CONTAINS(why, "not valid UTF-8 (at byte 3)");
	CHECK_RC(mon_words_check("a\x01z", "", n, why, sizeof(why)), SB_EINVAL);
	CHECK_CONTAINS(why, "control character");
	CHECK_RC(mon_words_check("a\xc2\x85z", "", n, why, sizeof(why)), SB_EINVAL);	/* C1 NEL */
	CHECK_RC(mon_words_check(" \xe3\x80\x80 ", "", n, why, sizeof(why)), SB_EINVAL);
	CHECK_CONTAINS(why, "only whitespace");
	CHECK_RC(mon_words_check("x", "bad\ncat", n, why, sizeof(why)), SB_EINVAL);
	CHECK_CONTAINS(why, "category");
	memset(w, 'c', 64);
	w[64] = '\0';
	CHECK_RC(mon_words_check("x", w, n, why, sizeof(why)), SB_EINVAL);
}

/* The library from words (normalised here), numbered 1, 2, ... */
static struct mon_words_set *
lib(const char *const *words, size_t n)
{
	char (*norms)[STORE_WORD_MAX + 1] = calloc(n ? n : 1, sizeof(*norms));
	const char **np = calloc(n ? n : 1, sizeof(*np));
	uint64_t *ids = calloc(n ? n : 1, sizeof(*ids));
	struct mon_words_set *ws = NULL;
	size_t len;

	for (size_t i = 0; i < n; i++) {
		if (mon_words_normalise((const uint8_t *)words[i], strlen(words[i]), norms[i],
		    sizeof(norms[i]), &len) != 0)
			goto out;
		np[i] = norms[i];
		ids[i] = i + 1;
	}
	(void)mon_words_build(np, NULL, ids, n, &ws);
out:
	free(norms);
	free(np);
	free(ids);
	return ws;
}

/* The number of the word text matches; 0: none; -1: refused. */
static long
scan(const struct mon_words_set *ws, const char *text)
{
	size_t w;
	int rc = mon_words_scan(ws, (const uint8_t *)text, strlen(text), &w);

	return rc < 0 ? -1 : rc == 0 ? 0 : (long)mon_words_id(ws, w);
}

static void
test_match_chinese_and_case(void)
{
	static const char *const words[] = { "机密", "绝密文件", "Top Secret", "內部" };
	struct mon_words_set *ws = lib(words, 4);

	CHECK(ws != NULL);
	CHECK(scan(ws, "这是一份 机\n密 的材料") == 1);
	CHECK(scan(ws, "绝 密\t文\r\n件，请勿外传") == 2);
	CHECK(scan(ws, "绝\xe3\x80\x80密\xe3\x80\x80文\xe3\x80\x80件") == 2);
	CHECK(scan(ws, "the TOP secret plan") == 3);
	CHECK(scan(ws, "the top-secret plan") == 0);	/* '-' is not whitespace */
	CHECK(scan(ws, "ｔｏｐ ＳＥＣＲＥＴ") == 3);
	CHECK(scan(ws, "內 部") == 4);
	CHECK(scan(ws, "内部") == 0);	/* simplified is not traditional: no folding */
	/* Default-ignorable characters between the two: a bidi isolate (U+2066),
	 * a variation selector (U+FE0F), a Hangul filler (U+3164), a tag
	 * character (U+E0041), the combining grapheme joiner (U+034F). */
	CHECK(scan(ws, "机\xe2\x81\xa6密") == 1);
	CHECK(scan(ws, "机\xef\xb8\x8f密") == 1);
	CHECK(scan(ws, "机\xe3\x85\xa4密") == 1);
	CHECK(scan(ws, "机\xf3\xa0\x81\x81密") == 1);
	CHECK(scan(ws, "机\xcd\x8f密") == 1);
	CHECK(scan(ws, "采购合同第七号：机械设备") == 0);
	CHECK(scan(ws, "") == 0);
	CHECK(scan(ws, "机") == 0);
	CHECK(scan(ws, "密机") == 0);
	/* A text that is not strict UTF-8 is refused, not scanned past. */
	CHECK(scan(ws, "机密\xe5\xaf") == -1);
	mon_words_free(ws);
}

static void
test_match_automaton(void)
{
	/* Aho-Corasick's own cases: a word inside another's path (dictionary
	 * links) and a miss that must fall back (failure links). */
	static const char *const words[] = { "he", "she", "his", "hers", "abcd", "bc" };
	struct mon_words_set *ws = lib(words, 6);

	CHECK(ws != NULL);
	CHECK(scan(ws, "ushers") == 2);		/* "she" ends first */
	CHECK(scan(ws, "xxhixx") == 0);
	CHECK(scan(ws, "abcx") == 6);		/* "bc" inside the path to "abcd" */
	CHECK(scan(ws, "aabcd") == 6);
	CHECK(scan(ws, "ahis") == 3);
	mon_words_free(ws);
	/* An empty library matches nothing, but still checks the text. */
	ws = lib(NULL, 0);
	CHECK(ws != NULL);
	CHECK(scan(ws, "机密") == 0);
	CHECK(scan(ws, "\xff") == -1);
	mon_words_free(ws);
}

/* Code point c as UTF-8 into out (NUL-terminated). */
static void
put(unsigned c, char *out)
{
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		out[2] = '\0';
	} else {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		out[3] = '\0';
	}
}

static void
test_no_match_across_characters(void)
{
	/*
	 * Every word of one character among 128 two- and three-byte ones,
	 * against every text of two of them: a match only when the word is
	 * one of the two characters, never on bytes that straddle them.
	 */
	static const unsigned base[] = { 0x4e00, 0x6587, 0x00c0, 0x0400 };
	const char *words[128];
	char wbuf[128][4], text[16];
	struct mon_words_set *ws;
	unsigned cps[128];

	for (size_t i = 0; i < 128; i++) {
		cps[i] = base[i % 4] + (unsigned)(i / 4) * 3;
		put(cps[i], wbuf[i]);
		words[i] = wbuf[i];
	}
	for (size_t w = 0; w < 128; w++) {
		CHECK((ws = lib(&words[w], 1)) != NULL);
		for (size_t a = 0; a < 128; a++)
			for (size_t b = 0; b < 128; b++) {
				long want = a == w || b == w ? 1 : 0, got;

				snprintf(text, sizeof(text), "%s%s", wbuf[a], wbuf[b]);
				if ((got = scan(ws, text)) != want) {
					printf("#   word U+%04X, text U+%04X U+%04X: %ld\n", cps[w],
					    cps[a], cps[b], got);
					mon_words_free(ws);
					CHECK(0);
				}
			}
		mon_words_free(ws);
	}
	/* A lead byte cut from its character never completes a word. */
	CHECK((ws = lib(&words[1], 1)) != NULL);
	memcpy(text, wbuf[1], 2);		/* two bytes of a three-byte character */
	memcpy(text + 2, wbuf[1], 4);		/* then the whole character */
	CHECK(scan(ws, text) == -1);		/* a cut sequence: refused */
	memcpy(text + 2, wbuf[1] + 2, 2);	/* its last byte: whole again */
	CHECK(scan(ws, text) == 1);
	mon_words_free(ws);
}

static void
test_build_bounds(void)
{
	const char *empty[] = { "" }, *ok[] = { "a" };
	uint64_t id = 1;
	struct mon_words_set *ws;

	CHECK_RC(mon_words_build(empty, NULL, &id, 1, &ws), SB_EINVAL);
	CHECK(ws == NULL);
	CHECK_RC(mon_words_build(ok, NULL, &id, STORE_WORDS_MAX + 1, &ws), SB_ELIMIT);
	mon_words_free(NULL);
}

static unsigned rng = 12345;

static unsigned
next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void
test_scale(void)
{
	/* 10000 Chinese words of 2-6 characters; a 256 KiB text of Hangul
	 * (none of them can match: the time of a full scan), then with the
	 * first word at its end. */
	enum { N = STORE_WORDS_MAX };
	char (*wb)[STORE_WORD_MAX + 1] = calloc(N, sizeof(*wb));
	const char **np = calloc(N, sizeof(*np));
	uint64_t *ids = calloc(N, sizeof(*ids));
	size_t tl = MSG_SIGN_TEXT_MAX, w;
	uint8_t *text = malloc(tl);
	struct mon_words_set *ws = NULL;
	struct timespec t0, t1;
	char first[STORE_WORD_MAX + 1];
	double ms;
	int rc;

	CHECK(wb != NULL && np != NULL && ids != NULL && text != NULL);
	for (size_t i = 0; i < N; i++) {
		size_t k = 2 + next_rand() % 5, o = 0;

		for (size_t j = 0; j < k; j++) {
			put(0x4e00 + next_rand() % 2000, wb[i] + o);
			o += 3;
		}
		np[i] = wb[i];
		ids[i] = i + 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = mon_words_build(np, NULL, ids, N, &ws);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	memcpy(first, wb[0], sizeof(first));
	free(wb);
	free(np);
	free(ids);
	if (rc != 0 || ws == NULL) {
		free(text);
		CHECK(0);
	}
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("#   built 10000 words in %.1f ms\n", ms);
	/* Text from another block (Hangul syllables): no word can match. */
	for (size_t o = 0; o + 3 <= tl; o += 3)
		put(0xac00 + next_rand() % 2000, (char *)text + o);
	tl -= tl % 3;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = mon_words_scan(ws, text, tl, &w);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("#   scanned 256 KiB against 10000 words in %.1f ms\n", ms);
	if (rc != 0 || ms > 500) {
		mon_words_free(ws);
		free(text);
		CHECK(0);
	}
	memcpy(text + tl - strlen(first), first, strlen(first));
	rc = mon_words_scan(ws, text, tl, &w);
	mon_words_free(ws);
	free(text);
	CHECK(rc == 1);
}

static int
count_one(void *arg, const struct store_word *w)
{
	(void)w;
	++*(size_t *)arg;
	return 0;
}

static void
rm_env(const char *dir)
{
	char p[64];

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

static void
test_store_words(void)
{
	char dir[] = "/tmp/sbx-words-XXXXXX";
	struct store_word w = { .n = 1, .word = "机 密", .norm = "机密", .category = "政治" }, r;
	struct store *st = NULL;
	MDB_env *env = NULL;
	size_t count = 0, seen = 0;
	uint64_t next = 0, n = 0;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(mdb_env_create(&env) == 0);
	mdb_env_set_maxdbs(env, STORE_DBS + STORE_TOTP_DBS + STORE_WORDS_DBS);
	if (mdb_env_open(env, dir, 0, 0600) != 0 || store_open(env, &st) != 0) {
		mdb_env_close(env);
		rm_env(dir);
		CHECK(0);
	}
	CHECK_RC(store_word_next(st, &next, &count), 0);
	CHECK(next == 1 && count == 0);
	CHECK_RC(store_word_add(st, &w), 0);
	/* Another add with the same number lost a race: SB_ESTATE. */
	snprintf(w.norm, sizeof(w.norm), "绝密");
	CHECK_RC(store_word_add(st, &w), SB_ESTATE);
	w.n = 2;
	CHECK_RC(store_word_add(st, &w), 0);
	/* The same normal form twice: SB_EEXIST, nothing written. */
	w.n = 3;
	CHECK_RC(store_word_add(st, &w), SB_EEXIST);
	CHECK_RC(store_word_next(st, &next, &count), 0);
	CHECK(next == 3 && count == 2);
	CHECK_RC(store_word_find(st, "机密", &n), 0);
	CHECK(n == 1);
	CHECK_RC(store_word_get(st, 1, &r), 0);
	CHECK_STR(r.word, "机 密");
	CHECK_STR(r.category, "政治");
	CHECK_RC(store_word_remove(st, 1), 0);
	CHECK_RC(store_word_remove(st, 1), SB_ENOTFOUND);
	CHECK_RC(store_word_find(st, "机密", &n), SB_ENOTFOUND);
	/* Numbers are not reused: the next is still 3. */
	CHECK_RC(store_word_next(st, &next, &count), 0);
	CHECK(next == 3 && count == 1);
	CHECK_RC(store_word_each(st, count_one, &seen), 0);
	CHECK(seen == 1);
	store_close(st);
	mdb_env_close(env);
	rm_env(dir);
}

/* A sign body whose document is text (n bytes), base64'd, with extra members. */
static char *
text_body(const char *text, size_t n, const char *extra)
{
	size_t b64 = 4 * ((n + 2) / 3);
	char *enc = malloc(b64 + 1), *body = malloc(b64 + 256);

	if (enc == NULL || body == NULL) {
		free(enc);
		free(body);
		return NULL;
	}
	EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)text, (int)n);
	snprintf(body, b64 + 256, "{\"document\":\"%s\",\"document_name\":\"c.txt\"%s}", enc,
	    extra);
	free(enc);
	return body;
}

static int
sign_body(const char *body, struct msg_sign *v, struct req_err *e)
{
	return req_sign(body, strlen(body), "s1", v, e);
}

static void
test_net_content_type(void)
{
	static char big[MSG_SIGN_TEXT_MAX + 2];
	const char *t = "采购合同\n机 密";
	struct req_err e;
	struct msg_sign v;
	char *b;
	int rc;

	/* text/plain: the decoded document rides along, and is the caller's. */
	CHECK((b = text_body(t, strlen(t), ",\"content_type\":\"text/plain\"")) != NULL);
	rc = sign_body(b, &v, &e);
	free(b);
	CHECK_RC(rc, 0);
	CHECK(v.text != NULL && v.text_len == strlen(t) && memcmp(v.text, t, v.text_len) == 0);
	CHECK(v.digest_len == 32);
	req_sign_text_free(&v, 1);
	CHECK(v.text == NULL);
	/* Without content_type the document is only hashed. */
	CHECK((b = text_body(t, strlen(t), "")) != NULL);
	rc = sign_body(b, &v, &e);
	free(b);
	CHECK_RC(rc, 0);
	CHECK(v.text == NULL);
	/* Not UTF-8: 400. */
	CHECK((b = text_body("ab\xe6\x9c", 4, ",\"content_type\":\"text/plain\"")) != NULL);
	rc = sign_body(b, &v, &e);
	free(b);
	CHECK(rc != 0 && e.status == 400);
	CHECK_CONTAINS(e.message, "must be UTF-8");
	/* 256 KiB is the most; one byte more is 413. */
	memset(big, 'a', sizeof(big));
	CHECK((b = text_body(big, MSG_SIGN_TEXT_MAX, ",\"content_type\":\"text/plain\"")) != NULL);
	rc = sign_body(b, &v, &e);
	free(b);
	CHECK_RC(rc, 0);
	CHECK(v.text_len == MSG_SIGN_TEXT_MAX);
	req_sign_text_free(&v, 1);
	CHECK((b = text_body(big, MSG_SIGN_TEXT_MAX + 1, ",\"content_type\":\"text/plain\"")) != NULL);
	rc = sign_body(b, &v, &e);
	free(b);
	CHECK(rc != 0 && e.status == 413);
	CHECK_STR(e.code, "too_large");
	/* Another type, or text/plain with a digest: 400. */
	CHECK((b = text_body(t, strlen(t), ",\"content_type\":\"application/pdf\"")) != NULL);
	rc = sign_body(b, &v, &e);
	free(b);
	CHECK(rc != 0 && e.status == 400);
	CHECK_CONTAINS(e.message, "content_type");
	rc = sign_body("{\"digest\":{\"alg\":\"sha256\",\"value\":\"00000000000000000000000000"
	    "00000000000000000000000000000000000000\"},\"document_name\":\"c\","
	    "\"content_type\":\"text/plain\"}", &v, &e);
	CHECK(rc != 0 && e.status == 400);
	CHECK_CONTAINS(e.message, "not with a digest");
}

static void
test_net_batch_text(void)
{
	const char *body = "{\"items\":[{\"seal\":\"s1\",\"document\":\"5py65a+G\","
	    "\"document_name\":\"a\",\"content_type\":\"text/plain\"},{\"seal\":\"s2\","
	    "\"document\":\"YQ==\",\"document_name\":\"b\"}]}";
	const char *bad = "{\"items\":[{\"seal\":\"s1\",\"document\":\"5py65a+G\","
	    "\"document_name\":\"a\",\"content_type\":\"text/plain\"},{\"seal\":\"s2\","
	    "\"document\":\"/w==\",\"document_name\":\"b\",\"content_type\":\"text/plain\"}]}";
	struct msg_sign *items = NULL;
	struct req_err e;
	size_t n = 0;

	CHECK_RC(req_batch(body, strlen(body), 10, &items, &n, &e), 0);
	CHECK(n == 2 && items[0].text_len == 6 && memcmp(items[0].text, "机密", 6) == 0 &&
	    items[1].text == NULL);
	req_sign_text_free(items, n);
	free(items);
	/* The second item is not UTF-8: the whole batch is refused (the first
	 * item's text freed with it: the ASan run would tell). */
	CHECK(req_batch(bad, strlen(bad), 10, &items, &n, &e) != 0);
	CHECK(e.status == 400);
	CHECK_CONTAINS(e.message, "items[1].document");
}

int
main(void)
{
	RUN(test_normal_form, "the normal form drops whitespace (ASCII, U+3000, no-break, zero-width, BOM) and folds ASCII and full-width ASCII to lower case; bad UTF-8 and a full buffer are refused");
	RUN(test_word_rules, "a word is 1-64 bytes of UTF-8 without controls, not only whitespace; a category likewise, up to 63 bytes");
	RUN(test_match_chinese_and_case, "Chinese words match across spaces, tabs, newlines and ideographic spaces; ASCII case does not matter; a text that is not UTF-8 is refused");
	RUN(test_match_automaton, "the matcher follows failure and dictionary links (he/she/his/hers, bc inside abcd); an empty library matches nothing");
	RUN(test_no_match_across_characters, "a one-character word never matches bytes straddling two characters (128 x 128 x 128 texts); a cut sequence is refused");
	RUN(test_build_bounds, "the matcher refuses an empty word and more than 10000 words");
	RUN(test_net_content_type, "the net worker passes a text/plain document's text (up to 256 KiB, else 413; UTF-8, else 400), and refuses another content_type or one with a digest");
	RUN(test_net_batch_text, "batch items carry their own text; a bad one refuses the batch");
	RUN(test_store_words, "the store numbers words w-1, w-2... never reusing one, refuses a duplicate normal form and a lost race, removes both keys");
	RUN(test_scale, "10000 words build and scan 256 KiB in well under a second");
	return check_done();
}
