/*
 * custody — the master secret S, its shares and the custody record. Pure: no
 * HSM call, no global state but libgfshare's random source.
 *
 * SHARE TEXT FORMAT (version 1)
 *
 * One line, for a person to copy from paper and type back:
 *
 *   sbx-01 2/3 AEAQ-EAYE-AUDA-OCAC-AMBA-AAIC-AMCA-KBQH-BAEQ-UCYM-BUHA-6EAR-
 *              CIJR-IFIW-C4MB-SGQ3-DQOR-4H6V-YKAH-6KDY
 *
 * (wrapped here; the encoder writes one line. This is share 2 of 3 of
 * appliance sbx-01, ceremony 0102030405060708, threshold 2, with y bytes
 * 00 01 .. 1f: the known answer in tests/unit/test_custody.c.) That is
 *
 *   <appliance id> SP <index>/<count> SP <80 base32 characters as 20
 *   groups of 4 joined by '-'>
 *
 * The appliance id is the configured appliance.id ([a-z0-9-], 1..16
 * characters); index (1..count) and count (2..16) are decimal without
 * leading zeros (the decoder takes one or two digits). The base32 part is RFC 4648 (alphabet A-Z 2-7, upper case,
 * no padding) of a 50-byte payload:
 *
 *   offset  size  field
 *        0     1  format version, 1
 *        1     8  ceremony id (random per ceremony or re-share)
 *        9     1  threshold M (2..count)
 *       10     1  count N (2..16)
 *       11     1  index, the share number (1..N); also its x coordinate
 *       12    32  the share proper: libgfshare's y bytes for that x
 *       44     6  checksum: the first 6 bytes of SHA-256 over
 *                   "sealbox v1 share" (16 bytes, no NUL)
 *                   || len(id) (1 byte) || id (lower case)
 *                   || payload bytes 0..43
 *
 * 50 bytes are exactly 80 base32 characters, so no character carries unused
 * bits: any change to any character changes the payload. The checksum covers
 * the appliance id, so a typo in the id is caught like any other; a share
 * that is well typed but names another appliance passes decoding and is
 * refused by custody_set_add (SB_ESHARE_FOREIGN). The checksum catches
 * mistakes, not forgers: it is no MAC (anyone holding a share can make a
 * well-formed one), which is why the record's check value exists.
 *
 * Decoding forgives: upper or lower case; any amount of white space (space,
 * tab, CR, LF) before, between and after the parts, and spaces instead of
 * '-' or no separators at all in the base32 part; 0, 1 and 8 typed for O, I
 * and B there. It requires at least one white space after the id and one
 * white space or '-' after the count; white space around the '/' is allowed.
 * Texts of CUSTODY_SHARE_TEXT_MAX or more bytes are refused unread.
 *
 * Results, in this order: SB_ESHARE_FORMAT when the text lacks the shape
 * (no id, no index/count, a character outside the alphabet, not exactly 80
 * base32 characters), then SB_ESHARE_CHECKSUM when the checksum does not
 * match or the index/count written in front disagree with the payload, then
 * SB_ESHARE_FORMAT again for a well-checksummed payload of another version
 * or with numbers out of range (made by a newer or broken program, never by
 * a typo). custody_set_add then refuses a decoded share, in this order,
 * as SB_ESHARE_FOREIGN (another appliance id), SB_ESHARE_STALE (the set has
 * a record and the share's ceremony differs from it), SB_ESHARE_MIXED (its
 * ceremony, threshold or count differ from the shares already in the set,
 * or threshold or count from the record), SB_ESHARE_DUP (its number is
 * already in the set). Messages name the share ("share 2 of 3 for sbx-01")
 * and ceremony ids, never a character of the groups.
 *
 * DERIVATIONS: HKDF-SHA256 with ikm = S, salt = the appliance id, and info
 * "sealbox v1 so-pin", "sealbox v1 user-pin" (32 bytes each, written as 64
 * lower-case hex characters) and "sealbox v1 check" (32 bytes, the record's
 * check value).
 *
 * CUSTODY RECORD: state_dir/custody.json, a JSON object with exactly these
 * keys: "appliance" (the id), "ceremony" (16 lower-case hex), "threshold",
 * "count" (integers, 2 <= threshold <= count <= 16), "check" (64 lower-case
 * hex) and "created" (unix time, integer >= 0); duplicate keys and trailing
 * text are refused. At most CUSTODY_RECORD_MAX bytes. Saved by writing a
 * temporary file (mode 0600) in the same directory, fsync, rename over
 * custody.json, fsync of the directory.
 *
 * libgfshare keeps its working copy of the shares and of S in ordinary heap
 * memory for the length of one call; gfshare_ctx_free overwrites it with
 * random bytes (from our RNG) before freeing it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <libgfshare.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/secret.h"
#include "custody.h"

#define SHARE_VERSION 1
#define SHARE_SUM_LABEL "sealbox v1 share"
#define SHARE_SUM_LEN 6
#define SHARE_OFF_VERSION 0
#define SHARE_OFF_CEREMONY 1
#define SHARE_OFF_THRESHOLD (SHARE_OFF_CEREMONY + CUSTODY_CEREMONY_LEN)
#define SHARE_OFF_COUNT (SHARE_OFF_THRESHOLD + 1)
#define SHARE_OFF_INDEX (SHARE_OFF_COUNT + 1)
#define SHARE_OFF_Y (SHARE_OFF_INDEX + 1)
#define SHARE_OFF_SUM (SHARE_OFF_Y + CUSTODY_SECRET_LEN)
#define SHARE_BIN_LEN (SHARE_OFF_SUM + SHARE_SUM_LEN)
#define SHARE_B32_LEN (SHARE_BIN_LEN * 8 / 5)
#define SHARE_GROUP 4

_Static_assert(SHARE_BIN_LEN % 5 == 0, "the payload must fill base32 exactly");
_Static_assert(SHARE_B32_LEN % SHARE_GROUP == 0, "groups must be whole");
/* id, " 16/16 ", the groups and their separators, NUL */
_Static_assert(CONFIG_ID_MAX + 7 + SHARE_B32_LEN + SHARE_B32_LEN / SHARE_GROUP
    <= CUSTODY_SHARE_TEXT_MAX, "the longest share text must fit");
_Static_assert(CUSTODY_MAX_SHARES <= 255, "share numbers are one byte");

#define LABEL_SO_PIN "sealbox v1 so-pin"
#define LABEL_USER_PIN "sealbox v1 user-pin"
#define LABEL_CHECK "sealbox v1 check"
#define LABEL_BACKUP "sealbox v1 backup "	/* then the salt in hex */

#define CUSTODY_RECORD_FILE "custody.json"
#define CUSTODY_RECORD_MAX 4096		/* a larger custody.json is refused */

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

struct custody_set {
	char appliance[CONFIG_ID_MAX + 1];
	int has_record;
	struct custody_record rec;
	unsigned n;
	struct custody_share shares[CUSTODY_MAX_SHARES];
	struct custody_share scratch;	/* custody_set_add decodes here */
};

/* ---- random source and small helpers ------------------------------------ */

static void
custody_fill_rand(unsigned char *buf, unsigned int n)
{
	/* libgfshare has no way to report failure: a share made from a failed
	 * RNG would be silently weak, so stop. */
	if (n > INT_MAX || RAND_bytes(buf, (int)n) != 1) {
		log_err("custody: the random number generator failed");
		abort();
	}
}

static pthread_once_t custody_rand_once = PTHREAD_ONCE_INIT;

static void
custody_rand_set(void)
{
	gfshare_fill_rand = custody_fill_rand;
}

/* Before any libgfshare call: gfshare_ctx_free uses the random source too. */
static void
custody_rand_init(void)
{
	(void)pthread_once(&custody_rand_once, custody_rand_set);
}

static int
custody_id_valid(const char *id)
{
	size_t n;

	if (id == NULL)
		return 0;
	n = strnlen(id, CONFIG_ID_MAX + 1);
	if (n == 0 || n > CONFIG_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') ||
		    id[i] == '-'))
			return 0;
	return 1;
}

static int
custody_params_valid(unsigned threshold, unsigned count)
{
	return threshold >= 2 && threshold <= count && count <= CUSTODY_MAX_SHARES;
}

static int
custody_share_valid(const struct custody_share *s)
{
	return custody_id_valid(s->appliance) && custody_params_valid(s->threshold, s->count) &&
	    s->index >= 1 && s->index <= s->count;
}

static int
custody_record_valid(const struct custody_record *rec)
{
	return custody_id_valid(rec->appliance) &&
	    custody_params_valid(rec->threshold, rec->count) && rec->created >= 0;
}

static void
hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly 2n lower-case hex characters into n bytes; 0 or -1. */
static int
hex_decode(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* ---- derivations --------------------------------------------------------- */

static int
custody_hkdf(const uint8_t secret[CUSTODY_SECRET_LEN], const char *appliance,
    const char *label, uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[5];
	int rc = SB_ECRYPTO;

	if ((kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL)) == NULL)
		return SB_ECRYPTO;
	ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (ctx == NULL)
		return SB_ECRYPTO;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)secret, CUSTODY_SECRET_LEN);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)appliance, strlen(appliance));
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)label, strlen(label));
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, outlen, params) == 1)
		rc = 0;
	else
		secret_wipe(out, outlen);
	EVP_KDF_CTX_free(ctx);	/* cleanses its copy of the key */
	return rc;
}

int
custody_derive_pin(const uint8_t secret[CUSTODY_SECRET_LEN], const char *appliance,
    int so, char pin[CUSTODY_PIN_LEN + 1])
{
	uint8_t raw[CUSTODY_PIN_LEN / 2];
	int rc;

	if (secret == NULL || pin == NULL || !custody_id_valid(appliance))
		return SB_EINVAL;
	rc = custody_hkdf(secret, appliance, so ? LABEL_SO_PIN : LABEL_USER_PIN,
	    raw, sizeof(raw));
	if (rc == 0)
		hex_encode(raw, sizeof(raw), pin);
	else
		pin[0] = '\0';
	secret_wipe(raw, sizeof(raw));
	return rc;
}

int
custody_backup_key(const uint8_t secret[CUSTODY_SECRET_LEN], const char *appliance,
    const uint8_t salt[CUSTODY_BACKUP_SALT_LEN], uint8_t key[CUSTODY_BACKUP_KEY_LEN])
{
	char label[sizeof(LABEL_BACKUP) + 2 * CUSTODY_BACKUP_SALT_LEN + 1];

	if (secret == NULL || salt == NULL || key == NULL || !custody_id_valid(appliance))
		return SB_EINVAL;
	memcpy(label, LABEL_BACKUP, sizeof(LABEL_BACKUP) - 1);
	hex_encode(salt, CUSTODY_BACKUP_SALT_LEN, label + sizeof(LABEL_BACKUP) - 1);
	return custody_hkdf(secret, appliance, label, key, CUSTODY_BACKUP_KEY_LEN);
}

int
custody_check_value(const uint8_t secret[CUSTODY_SECRET_LEN], const char *appliance,
    uint8_t check[CUSTODY_CHECK_LEN])
{
	if (secret == NULL || check == NULL || !custody_id_valid(appliance))
		return SB_EINVAL;
	return custody_hkdf(secret, appliance, LABEL_CHECK, check, CUSTODY_CHECK_LEN);
}

/* ---- splitting ----------------------------------------------------------- */

int
custody_split(const uint8_t secret[CUSTODY_SECRET_LEN], const char *appliance,
    const uint8_t ceremony[CUSTODY_CEREMONY_LEN], unsigned threshold,
    unsigned count, struct custody_share *shares)
{
	unsigned char nrs[CUSTODY_MAX_SHARES];
	gfshare_ctx *ctx;

	if (secret == NULL || ceremony == NULL || shares == NULL ||
	    !custody_id_valid(appliance) || !custody_params_valid(threshold, count))
		return SB_EINVAL;
	custody_rand_init();
	for (unsigned i = 0; i < count; i++)
		nrs[i] = (unsigned char)(i + 1);
	ctx = gfshare_ctx_init_enc(nrs, count, (unsigned char)threshold, CUSTODY_SECRET_LEN);
	if (ctx == NULL)
		return SB_ENOMEM;
	/* Only read: libgfshare copies it and draws the other coefficients. */
	gfshare_ctx_enc_setsecret(ctx, (unsigned char *)secret);
	for (unsigned i = 0; i < count; i++) {
		struct custody_share *s = &shares[i];

		memset(s, 0, sizeof(*s));
		memcpy(s->appliance, appliance, strlen(appliance) + 1);
		memcpy(s->ceremony, ceremony, CUSTODY_CEREMONY_LEN);
		s->threshold = (uint8_t)threshold;
		s->count = (uint8_t)count;
		s->index = nrs[i];
		gfshare_ctx_enc_getshare(ctx, (unsigned char)i, s->y);
	}
	gfshare_ctx_free(ctx);
	return 0;
}

/* ---- share text ---------------------------------------------------------- */

static void
share_checksum(const char *appliance, const uint8_t bin[SHARE_BIN_LEN],
    uint8_t sum[SHARE_SUM_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	unsigned char idlen = (unsigned char)strlen(appliance);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, SHARE_SUM_LABEL, strlen(SHARE_SUM_LABEL)) != 1 ||
	    EVP_DigestUpdate(ctx, &idlen, 1) != 1 ||
	    EVP_DigestUpdate(ctx, appliance, idlen) != 1 ||
	    EVP_DigestUpdate(ctx, bin, SHARE_OFF_SUM) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < SHARE_SUM_LEN) {
		/* SHA-256 over memory cannot fail short of a broken library. */
		log_err("custody: SHA-256 failed");
		abort();
	}
	EVP_MD_CTX_free(ctx);
	memcpy(sum, md, SHARE_SUM_LEN);
	secret_wipe(md, sizeof(md));
}

static void
share_pack(const struct custody_share *s, uint8_t bin[SHARE_BIN_LEN])
{
	bin[SHARE_OFF_VERSION] = SHARE_VERSION;
	memcpy(bin + SHARE_OFF_CEREMONY, s->ceremony, CUSTODY_CEREMONY_LEN);
	bin[SHARE_OFF_THRESHOLD] = s->threshold;
	bin[SHARE_OFF_COUNT] = s->count;
	bin[SHARE_OFF_INDEX] = s->index;
	memcpy(bin + SHARE_OFF_Y, s->y, CUSTODY_SECRET_LEN);
	share_checksum(s->appliance, bin, bin + SHARE_OFF_SUM);
}

int
custody_share_encode(const struct custody_share *s, char *text, size_t len)
{
	uint8_t bin[SHARE_BIN_LEN];
	char prefix[CONFIG_ID_MAX + 16];
	size_t plen, need, o;
	unsigned acc = 0, bits = 0, nchar = 0;

	if (s == NULL || text == NULL || !custody_share_valid(s))
		return SB_EINVAL;
	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s %u/%u ", s->appliance,
	    s->index, s->count);
	need = plen + SHARE_B32_LEN + SHARE_B32_LEN / SHARE_GROUP;	/* + NUL - 1 '-' */
	if (len < need) {
		if (len > 0)
			text[0] = '\0';
		return SB_ELIMIT;
	}
	share_pack(s, bin);
	memcpy(text, prefix, plen);
	o = plen;
	for (size_t i = 0; i < SHARE_BIN_LEN; i++) {
		acc = (acc << 8 | bin[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			if (nchar > 0 && nchar % SHARE_GROUP == 0)
				text[o++] = '-';
			text[o++] = b32_alphabet[(acc >> bits) & 0x1f];
			nchar++;
		}
	}
	text[o] = '\0';
	secret_wipe(bin, sizeof(bin));
	return 0;
}

/* What the decoder could read of the visible prefix, for messages. */
struct share_prefix {
	int ok;
	char appliance[CONFIG_ID_MAX + 1];
	unsigned index, count;
};

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The 5-bit value of a typed base32 character, forgiving case and 0/1/8. */
static int
b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c == '0')
		c = 'O';
	else if (c == '1')
		c = 'I';
	else if (c == '8')
		c = 'B';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* 1 or 2 decimal digits at *pp; advances *pp. */
static int
parse_small(const char **pp, unsigned *out)
{
	const char *p = *pp;
	unsigned v = 0, n = 0;

	while (*p >= '0' && *p <= '9' && n < 3) {
		v = v * 10 + (unsigned)(*p - '0');
		p++;
		n++;
	}
	if (n == 0 || n > 2)
		return -1;
	*out = v;
	*pp = p;
	return 0;
}

/* "<id> <index>/<count>" and the separator after it; *pp at the base32 part. */
static int
parse_prefix(const char **pp, struct share_prefix *pfx, char *why, size_t whylen)
{
	const char *p = *pp;
	size_t n = 0;

	while (is_space(*p))
		p++;
	while (*p != '\0' && !is_space(*p)) {
		char c = *p++;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (n == CONFIG_ID_MAX || !((c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-')) {
			snprintf(why, whylen, "it does not start with an appliance id "
			    "(such as sbx-01)");
			return SB_ESHARE_FORMAT;
		}
		pfx->appliance[n++] = c;
	}
	pfx->appliance[n] = '\0';
	if (n == 0) {
		snprintf(why, whylen, "it is empty");
		return SB_ESHARE_FORMAT;
	}
	while (is_space(*p))
		p++;
	if (parse_small(&p, &pfx->index) != 0)
		goto nonumber;
	while (is_space(*p))
		p++;
	if (*p++ != '/')
		goto nonumber;
	while (is_space(*p))
		p++;
	if (parse_small(&p, &pfx->count) != 0 || !(is_space(*p) || *p == '-'))
		goto nonumber;
	pfx->ok = 1;
	*pp = p;
	return 0;
nonumber:
	snprintf(why, whylen, "the appliance id is not followed by the share number "
	    "(such as 2/3) and a space");
	return SB_ESHARE_FORMAT;
}

/* The base32 part into bin; separators skipped. */
static int
parse_body(const char *p, uint8_t bin[SHARE_BIN_LEN], char *why, size_t whylen)
{
	unsigned acc = 0, bits = 0, nchar = 0;
	size_t o = 0;
	int rc = 0;

	for (; *p != '\0'; p++) {
		int v;

		if (is_space(*p) || *p == '-')
			continue;
		if ((v = b32_value(*p)) < 0) {
			snprintf(why, whylen, "character %u of the share's groups is not one "
			    "used in shares (A-Z, 2-7)", nchar + 1);
			rc = SB_ESHARE_FORMAT;
			goto out;
		}
		if (nchar++ >= SHARE_B32_LEN)
			continue;	/* counted for the message only */
		acc = (acc << 5 | (unsigned)v) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			bin[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (nchar != SHARE_B32_LEN) {
		snprintf(why, whylen, "it has %u characters in its groups where a share "
		    "has %u", nchar, (unsigned)SHARE_B32_LEN);
		rc = SB_ESHARE_FORMAT;
	}
out:
	return rc;
}

/*
 * The decoder proper. why receives the problem (never share content); pfx
 * what was read of the visible prefix. out is zeroed unless it succeeds.
 */
static int
share_decode(const char *text, struct custody_share *out, struct share_prefix *pfx,
    char *why, size_t whylen)
{
	uint8_t bin[SHARE_BIN_LEN], sum[SHARE_SUM_LEN];
	const char *p = text;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(pfx, 0, sizeof(*pfx));
	if (strnlen(text, CUSTODY_SHARE_TEXT_MAX) >= CUSTODY_SHARE_TEXT_MAX) {
		snprintf(why, whylen, "it is longer than %u characters",
		    (unsigned)CUSTODY_SHARE_TEXT_MAX - 1);
		return SB_ESHARE_FORMAT;
	}
	if ((rc = parse_prefix(&p, pfx, why, whylen)) != 0)
		return rc;
	if ((rc = parse_body(p, bin, why, whylen)) != 0)
		goto out;
	share_checksum(pfx->appliance, bin, sum);
	if (CRYPTO_memcmp(sum, bin + SHARE_OFF_SUM, SHARE_SUM_LEN) != 0) {
		snprintf(why, whylen, "mistyped: the checksum does not match (check "
		    "every group and the appliance id)");
		rc = SB_ESHARE_CHECKSUM;
		goto out;
	}
	if (bin[SHARE_OFF_INDEX] != pfx->index || bin[SHARE_OFF_COUNT] != pfx->count) {
		snprintf(why, whylen, "mistyped: the share number in front does not "
		    "match its groups");
		rc = SB_ESHARE_CHECKSUM;
		goto out;
	}
	memcpy(out->appliance, pfx->appliance, sizeof(out->appliance));
	memcpy(out->ceremony, bin + SHARE_OFF_CEREMONY, CUSTODY_CEREMONY_LEN);
	out->threshold = bin[SHARE_OFF_THRESHOLD];
	out->count = bin[SHARE_OFF_COUNT];
	out->index = bin[SHARE_OFF_INDEX];
	memcpy(out->y, bin + SHARE_OFF_Y, CUSTODY_SECRET_LEN);
	if (bin[SHARE_OFF_VERSION] != SHARE_VERSION) {
		snprintf(why, whylen, "its format version %u is not supported",
		    bin[SHARE_OFF_VERSION]);
		rc = SB_ESHARE_FORMAT;
	} else if (!custody_share_valid(out)) {
		snprintf(why, whylen, "its threshold, count or number is out of range");
		rc = SB_ESHARE_FORMAT;
	}
out:
	if (rc != 0)
		secret_wipe(out, sizeof(*out));
	secret_wipe(bin, sizeof(bin));
	return rc;
}

int
custody_share_decode(const char *text, struct custody_share *out)
{
	struct share_prefix pfx;
	char why[160];

	if (text == NULL || out == NULL)
		return SB_EINVAL;
	return share_decode(text, out, &pfx, why, sizeof(why));
}

/* ---- gathering shares ---------------------------------------------------- */

struct custody_set *
custody_set_new(const char *appliance, const struct custody_record *rec)
{
	struct custody_set *set;

	if (!custody_id_valid(appliance))
		return NULL;
	if (rec != NULL && !custody_record_valid(rec)) {
		log_err("custody: invalid custody record given for %s", appliance);
		return NULL;
	}
	if (rec != NULL && strcmp(rec->appliance, appliance) != 0) {
		log_err("custody: the custody record is for appliance %s, not %s",
		    rec->appliance, appliance);
		return NULL;
	}
	if ((set = secret_alloc(sizeof(*set))) == NULL)
		return NULL;
	memcpy(set->appliance, appliance, strlen(appliance) + 1);
	if (rec != NULL) {
		set->has_record = 1;
		set->rec = *rec;
	}
	return set;
}

void
custody_set_free(struct custody_set *set)
{
	secret_free(&set);
}

unsigned
custody_set_count(const struct custody_set *set)
{
	return set == NULL ? 0 : set->n;
}

int
custody_set_info(const struct custody_set *set, uint8_t ceremony[CUSTODY_CEREMONY_LEN],
    unsigned *threshold, unsigned *count)
{
	if (set == NULL)
		return SB_EINVAL;
	if (ceremony != NULL) {
		if (set->n > 0)
			memcpy(ceremony, set->shares[0].ceremony, CUSTODY_CEREMONY_LEN);
		else
			memset(ceremony, 0, CUSTODY_CEREMONY_LEN);
	}
	if (threshold != NULL)
		*threshold = set->n > 0 ? set->shares[0].threshold : 0;
	if (count != NULL)
		*count = set->n > 0 ? set->shares[0].count : 0;
	return 0;
}

static void say(char *detail, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *detail, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (detail == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, len, fmt, ap);
	va_end(ap);
}

/* Which error a valid share gets in this set, and why; 0 if it fits. */
static int
set_refusal(const struct custody_set *set, const struct custody_share *s,
    char *why, size_t whylen)
{
	const struct custody_share *first = set->n > 0 ? &set->shares[0] : NULL;
	char have[2 * CUSTODY_CEREMONY_LEN + 1], want[2 * CUSTODY_CEREMONY_LEN + 1];

	hex_encode(s->ceremony, CUSTODY_CEREMONY_LEN, have);
	if (strcmp(s->appliance, set->appliance) != 0) {
		snprintf(why, whylen, "belongs to another appliance; this is %s",
		    set->appliance);
		return SB_ESHARE_FOREIGN;
	}
	if (set->has_record) {
		hex_encode(set->rec.ceremony, CUSTODY_CEREMONY_LEN, want);
		if (memcmp(s->ceremony, set->rec.ceremony, CUSTODY_CEREMONY_LEN) != 0) {
			snprintf(why, whylen, "is from ceremony %s, which a re-share has "
			    "replaced (the shares in force are of ceremony %s)", have, want);
			return SB_ESHARE_STALE;
		}
		if (s->threshold != set->rec.threshold || s->count != set->rec.count) {
			snprintf(why, whylen, "says %u of %u are needed, but ceremony %s "
			    "has %u of %u", s->threshold, s->count, want,
			    set->rec.threshold, set->rec.count);
			return SB_ESHARE_MIXED;
		}
	}
	if (first != NULL) {
		hex_encode(first->ceremony, CUSTODY_CEREMONY_LEN, want);
		if (memcmp(s->ceremony, first->ceremony, CUSTODY_CEREMONY_LEN) != 0 ||
		    s->threshold != first->threshold || s->count != first->count) {
			snprintf(why, whylen, "is from ceremony %s (%u of %u), but the "
			    "shares already entered are from ceremony %s (%u of %u)", have,
			    s->threshold, s->count, want, first->threshold, first->count);
			return SB_ESHARE_MIXED;
		}
	}
	for (unsigned i = 0; i < set->n; i++)
		if (set->shares[i].index == s->index) {
			snprintf(why, whylen, "was already entered");
			return SB_ESHARE_DUP;
		}
	if (set->n >= CUSTODY_MAX_SHARES) {	/* cannot happen: numbers are unique */
		snprintf(why, whylen, "is one share too many");
		return SB_ELIMIT;
	}
	return 0;
}

static void
set_report(const struct custody_set *set, unsigned *have, unsigned *need)
{
	if (have != NULL)
		*have = set->n;
	if (need != NULL)
		*need = set->n > 0 ? set->shares[0].threshold :
		    set->has_record ? set->rec.threshold : 0;
}

int
custody_set_add_share(struct custody_set *set, const struct custody_share *s,
    unsigned *have, unsigned *need, char *detail, size_t detail_len)
{
	char why[200];
	int rc;

	say(detail, detail_len, "%s", "");
	if (set == NULL || s == NULL)
		return SB_EINVAL;
	set_report(set, have, need);
	if (!custody_share_valid(s)) {
		say(detail, detail_len, "not a share: its appliance id, threshold, count "
		    "or number is out of range");
		return SB_ESHARE_FORMAT;
	}
	if ((rc = set_refusal(set, s, why, sizeof(why))) != 0) {
		say(detail, detail_len, "share %u of %u for %s %s", s->index, s->count,
		    s->appliance, why);
		return rc;
	}
	set->shares[set->n++] = *s;
	set_report(set, have, need);
	say(detail, detail_len, "share %u of %u for %s accepted: %u of the %u needed "
	    "entered", s->index, s->count, s->appliance, set->n, s->threshold);
	return 0;
}

int
custody_set_add(struct custody_set *set, const char *text,
    unsigned *have, unsigned *need, char *detail, size_t detail_len)
{
	struct share_prefix pfx;
	char why[160];
	int rc;

	say(detail, detail_len, "%s", "");
	if (set == NULL || text == NULL)
		return SB_EINVAL;
	set_report(set, have, need);
	rc = share_decode(text, &set->scratch, &pfx, why, sizeof(why));
	if (rc == 0)
		rc = custody_set_add_share(set, &set->scratch, have, need, detail,
		    detail_len);
	else if (pfx.ok)
		say(detail, detail_len, "share %u of %u for %s: %s",
		    pfx.index, pfx.count, pfx.appliance, why);
	else
		say(detail, detail_len, "not a share: %s", why);
	secret_wipe(&set->scratch, sizeof(set->scratch));
	return rc;
}

int
custody_set_combine(const struct custody_set *set, uint8_t secret[CUSTODY_SECRET_LEN])
{
	unsigned char nrs[CUSTODY_MAX_SHARES];
	uint8_t check[CUSTODY_CHECK_LEN];
	gfshare_ctx *ctx;
	int rc = 0;

	if (set == NULL || secret == NULL)
		return SB_EINVAL;
	if (set->n == 0 || set->n < set->shares[0].threshold)
		return SB_ESHARE_TOOFEW;
	custody_rand_init();
	for (unsigned i = 0; i < set->n; i++)
		nrs[i] = set->shares[i].index;
	if ((ctx = gfshare_ctx_init_dec(nrs, set->n, CUSTODY_SECRET_LEN)) == NULL)
		return SB_ENOMEM;
	/* giveshare only reads the share: it copies it into the context. */
	for (unsigned i = 0; i < set->n; i++)
		gfshare_ctx_dec_giveshare(ctx, (unsigned char)i,
		    (unsigned char *)set->shares[i].y);
	gfshare_ctx_dec_extract(ctx, secret);
	gfshare_ctx_free(ctx);
	if (set->has_record) {
		rc = custody_check_value(secret, set->appliance, check);
		if (rc == 0 && CRYPTO_memcmp(check, set->rec.check, CUSTODY_CHECK_LEN) != 0)
			rc = SB_ESHARE_WRONG;
		secret_wipe(check, sizeof(check));
	}
	if (rc != 0)
		secret_wipe(secret, CUSTODY_SECRET_LEN);
	return rc;
}

/* ---- the custody record -------------------------------------------------- */

static int
record_path(const char *state_dir, char *path, size_t len)
{
	int n;

	if (state_dir == NULL || state_dir[0] == '\0')
		return SB_EINVAL;
	n = snprintf(path, len, "%s/%s", state_dir, CUSTODY_RECORD_FILE);
	return n < 0 || (size_t)n >= len ? SB_ELIMIT : 0;
}

/* The whole file, at most CUSTODY_RECORD_MAX bytes, into buf. */
static int
record_read(const char *path, char *buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return SB_ENOTFOUND;
		log_err("%s: cannot open: %s", path, strerror(errno));
		return SB_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_err("%s: not a regular file", path);
		rc = SB_ECONFIG;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + got, CUSTODY_RECORD_MAX + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			log_err("%s: cannot read: %s", path, strerror(errno));
			rc = SB_EIO;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > CUSTODY_RECORD_MAX) {
			log_err("%s: longer than %u bytes", path, CUSTODY_RECORD_MAX);
			rc = SB_ECONFIG;
			goto out;
		}
	}
	*len = got;
out:
	close(fd);
	return rc;
}

static const char *
record_parse(json_t *root, struct custody_record *rec)
{
	static const char *const keys[] = {
		"appliance", "ceremony", "threshold", "count", "check", "created",
	};
	const char *key, *s;
	json_t *v;

	if (!json_is_object(root))
		return "not a JSON object";
	json_object_foreach(root, key, v) {
		size_t i;

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0]))
			return "unknown key";
	}
	if (json_object_size(root) != sizeof(keys) / sizeof(keys[0]))
		return "a key is missing";
	s = json_string_value(json_object_get(root, "appliance"));
	if (s == NULL || !custody_id_valid(s))
		return "\"appliance\" is not an appliance id";
	memcpy(rec->appliance, s, strlen(s) + 1);
	s = json_string_value(json_object_get(root, "ceremony"));
	if (s == NULL || hex_decode(s, rec->ceremony, CUSTODY_CEREMONY_LEN) != 0)
		return "\"ceremony\" is not 16 lower-case hex digits";
	s = json_string_value(json_object_get(root, "check"));
	if (s == NULL || hex_decode(s, rec->check, CUSTODY_CHECK_LEN) != 0)
		return "\"check\" is not 64 lower-case hex digits";
	v = json_object_get(root, "threshold");
	if (!json_is_integer(v) || json_integer_value(v) < 2 ||
	    json_integer_value(v) > CUSTODY_MAX_SHARES)
		return "\"threshold\" is not an integer from 2 to 16";
	rec->threshold = (unsigned)json_integer_value(v);
	v = json_object_get(root, "count");
	if (!json_is_integer(v) || json_integer_value(v) < rec->threshold ||
	    json_integer_value(v) > CUSTODY_MAX_SHARES)
		return "\"count\" is not an integer from the threshold to 16";
	rec->count = (unsigned)json_integer_value(v);
	v = json_object_get(root, "created");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return "\"created\" is not a unix time";
	rec->created = (long long)json_integer_value(v);
	return NULL;
}

int
custody_record_load(const char *state_dir, struct custody_record *rec)
{
	char path[PATH_MAX], *buf;
	const char *bad;
	json_error_t jerr;
	json_t *root;
	size_t len = 0;
	int rc;

	if (rec == NULL)
		return SB_EINVAL;
	memset(rec, 0, sizeof(*rec));
	if ((rc = record_path(state_dir, path, sizeof(path))) != 0)
		return rc;
	if ((buf = malloc(CUSTODY_RECORD_MAX + 1)) == NULL)
		return SB_ENOMEM;
	if ((rc = record_read(path, buf, &len)) != 0) {
		free(buf);
		return rc;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (root == NULL) {
		log_err("%s:%d: not valid JSON: %s", path, jerr.line, jerr.text);
		return SB_ECONFIG;
	}
	bad = record_parse(root, rec);
	json_decref(root);
	if (bad != NULL) {
		log_err("%s: bad custody record: %s", path, bad);
		memset(rec, 0, sizeof(*rec));
		return SB_ECONFIG;
	}
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fdatasync(fd);
	close(fd);
	return rc;
}

static char *
record_json(const struct custody_record *rec)
{
	char ceremony[2 * CUSTODY_CEREMONY_LEN + 1], check[2 * CUSTODY_CHECK_LEN + 1];
	json_t *root;
	char *text;

	hex_encode(rec->ceremony, CUSTODY_CEREMONY_LEN, ceremony);
	hex_encode(rec->check, CUSTODY_CHECK_LEN, check);
	root = json_pack("{s:s, s:s, s:i, s:i, s:s, s:I}", "appliance", rec->appliance,
	    "ceremony", ceremony, "threshold", (int)rec->threshold,
	    "count", (int)rec->count, "check", check, "created", (json_int_t)rec->created);
	if (root == NULL)
		return NULL;
	text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	return text;
}

int
custody_record_save(const char *state_dir, const struct custody_record *rec)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16], *text;
	int fd, rc;

	if (rec == NULL || !custody_record_valid(rec))
		return SB_EINVAL;
	if ((rc = record_path(state_dir, path, sizeof(path))) != 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if ((text = record_json(rec)) == NULL)
		return SB_ENOMEM;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		log_err("%s: cannot create: %s", tmp, strerror(errno));
		free(text);
		return SB_EIO;
	}
	/* mkostemp made it 0600. fdatasync, not fsync, and no fchmod: the
	 * monitor saves the record when an unseal settles an interrupted
	 * re-share, and its seccomp filter allows neither. */
	if (write_all(fd, text, strlen(text)) != 0 || write_all(fd, "\n", 1) != 0 ||
	    fdatasync(fd) != 0) {
		log_err("%s: cannot write: %s", tmp, strerror(errno));
		rc = SB_EIO;
	}
	free(text);
	if (close(fd) != 0 && rc == 0) {
		log_err("%s: cannot write: %s", tmp, strerror(errno));
		rc = SB_EIO;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		log_err("%s: cannot replace: %s", path, strerror(errno));
		rc = SB_EIO;
	}
	if (rc != 0) {
		(void)unlink(tmp);
		return rc;
	}
	if (fsync_dir(state_dir) != 0) {
		log_err("%s: cannot sync the directory: %s", state_dir, strerror(errno));
		return SB_EIO;
	}
	return 0;
}
