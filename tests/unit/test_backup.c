/*
 * backup: the sealed archive (lib/backup.c) against lib/backup.h.
 *
 * Files written by the writer are read back whole; the writer's bytes are
 * compared with an encoder written here from the header's description alone
 * (its own header layout, nonces, AAD and chunking); and the reader is shown
 * files that are damaged (every byte flipped in turn), cut (at every length),
 * extended, reordered, or authentic but malformed (sealed here with the right
 * key), each of which it must refuse with the documented code and message.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/backup.h"
#include "lib/config.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "check.h"

#define C BACKUP_CHUNK
#define TAG 16
#define FILE_MAX_BYTES ((size_t)1 << 26)
#define NO_FD 9999		/* not an sb_err: a test-side failure shows up in CHECK_RC */

static uint8_t key[BACKUP_KEY_LEN], key2[BACKUP_KEY_LEN];
static char msg[256];

/* ---- helpers ------------------------------------------------------------ */

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
fill(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static void
sample_header(struct backup_header *h)
{
	memset(h, 0, sizeof(*h));
	strcpy(h->appliance, "sbx-01");
	for (int i = 0; i < BACKUP_CEREMONY_LEN; i++)
		h->ceremony[i] = (uint8_t)(0xc0 + i);
	h->threshold = 2;
	h->count = 3;
	for (int i = 0; i < BACKUP_CHECK_LEN; i++)
		h->check[i] = (uint8_t)i;
	h->created = 1700000000;
	for (int i = 0; i < BACKUP_SALT_LEN; i++)
		h->salt[i] = (uint8_t)(0x55 ^ i);
}

/* The header as backup.h lays it out, written here independently. */
static void
hdr_bytes(const struct backup_header *h, uint8_t o[BACKUP_HDR_LEN])
{
	size_t n = strlen(h->appliance);

	memset(o, 0, BACKUP_HDR_LEN);
	memcpy(o, "SBXBAK\r\n", 8);
	o[8] = 1;
	o[9] = (uint8_t)n;
	memcpy(o + 10, h->appliance, n);
	memcpy(o + 42, h->ceremony, 8);
	o[50] = (uint8_t)h->threshold;
	o[51] = (uint8_t)h->count;
	memcpy(o + 52, h->check, 32);
	put_be(o + 84, (uint64_t)h->created, 8);
	memcpy(o + 92, h->salt, 32);
}

/*
 * The format's chunks, sealed here: pt cut into chunks of cuts[] bytes, the
 * chunk numbered last_at flagged last (normally ncuts - 1). 0 or -1.
 */
static int
raw_seal(struct buf *out, const struct backup_header *h, const uint8_t *k,
    const uint8_t *pt, size_t ptlen, const size_t *cuts, size_t ncuts, size_t last_at)
{
	uint8_t hdr[BACKUP_HDR_LEN], hh[32], nonce[12], aad[41], lenf[4], tag[TAG];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t *ct = malloc(C + TAG);
	size_t off = 0;
	int outl, ok = ctx != NULL && ct != NULL;

	hdr_bytes(h, hdr);
	ok = ok && EVP_Digest(hdr, sizeof(hdr), hh, NULL, EVP_sha256(), NULL) == 1 &&
	    buf_append(out, hdr, sizeof(hdr)) == 0;
	for (size_t i = 0; i < ncuts && ok; i++) {
		int last = i == last_at;

		if (cuts[i] > C || off + cuts[i] > ptlen) {
			ok = 0;
			break;
		}
		memset(nonce, 0, sizeof(nonce));
		put_be(nonce + 4, i, 8);
		memcpy(aad, hh, 32);
		put_be(aad + 32, i, 8);
		aad[40] = (uint8_t)last;
		put_be(lenf, cuts[i] | (last ? 0x80000000u : 0), 4);
		ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k, nonce) == 1 &&
		    EVP_EncryptUpdate(ctx, NULL, &outl, aad, sizeof(aad)) == 1 &&
		    (cuts[i] == 0 ||
		     EVP_EncryptUpdate(ctx, ct, &outl, pt + off, (int)cuts[i]) == 1) &&
		    EVP_EncryptFinal_ex(ctx, ct + cuts[i], &outl) == 1 &&
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG, tag) == 1 &&
		    buf_append(out, lenf, 4) == 0 && buf_append(out, ct, cuts[i]) == 0 &&
		    buf_append(out, tag, TAG) == 0;
		off += cuts[i];
	}
	EVP_CIPHER_CTX_free(ctx);
	free(ct);
	return ok && off == ptlen ? 0 : -1;
}

/* Cuts of at most C bytes, as the writer makes them: all full but the last. */
static size_t
full_cuts(size_t ptlen, size_t *cuts, size_t max)
{
	size_t n = 0;

	do {
		if (n == max)
			return 0;
		cuts[n] = ptlen > C ? C : ptlen;
		ptlen -= cuts[n++];
	} while (ptlen > 0);
	return n;
}

static int
seal_std(struct buf *out, const uint8_t *pt, size_t ptlen)
{
	struct backup_header h;
	size_t cuts[256], n = full_cuts(ptlen, cuts, 256);

	sample_header(&h);
	return n == 0 ? -1 : raw_seal(out, &h, key, pt, ptlen, cuts, n, n - 1);
}

/* Plaintext entries, for raw_seal. */
static void
ent_head(struct buf *b, char kind, const char *name, size_t nlen, uint32_t mode, uint64_t size)
{
	uint8_t f[12];

	f[0] = (uint8_t)kind;
	put_be(f + 1, nlen, 2);
	buf_append(b, f, 3);
	buf_append(b, name, nlen);
	put_be(f, mode, 4);
	put_be(f + 4, size, 8);
	buf_append(b, f, 12);
}

static void
ent_file(struct buf *b, const char *name, uint32_t mode, const void *data, size_t n)
{
	ent_head(b, 'F', name, strlen(name), mode, n);
	buf_append(b, data, n);
}

static void
ent_end(struct buf *b)
{
	ent_head(b, 'E', "", 0, 0, 0);
}

static int
memfd_with(const void *p, size_t n)
{
	int fd = memfd_create("backup-test", MFD_CLOEXEC);
	const uint8_t *q = p;

	if (fd < 0)
		return -1;
	while (n > 0) {
		ssize_t w = write(fd, q, n);

		if (w <= 0) {
			close(fd);
			return -1;
		}
		q += w;
		n -= (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
slurp(int fd, struct buf *b)
{
	uint8_t tmp[8192];
	ssize_t r;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return -1;
	buf_init(b, FILE_MAX_BYTES);
	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		if (buf_append(b, tmp, (size_t)r) != 0)
			return -1;
	return r == 0 ? 0 : -1;
}

/* What a sink heard. */
#define GOT_MAX 8
struct got {
	size_t n;			/* entries stored */
	unsigned long files, datacalls;	/* calls made */
	uint64_t data_total;
	struct {
		char name[BACKUP_NAME_MAX + 1];
		unsigned mode;
		uint64_t size;
		struct buf data;
	} e[GOT_MAX];
	unsigned long stop_file;	/* file() returns stop_rc on this call (from 1) */
	unsigned long stop_data;	/* data() likewise */
	int stop_rc;
};

static int
got_file(void *arg, const char *name, unsigned mode, uint64_t size)
{
	struct got *g = arg;

	g->files++;
	if (g->files == g->stop_file)
		return g->stop_rc;
	if (g->n < GOT_MAX) {
		snprintf(g->e[g->n].name, sizeof(g->e[g->n].name), "%s", name);
		g->e[g->n].mode = mode;
		g->e[g->n].size = size;
		buf_init(&g->e[g->n].data, FILE_MAX_BYTES);
		g->n++;
	}
	return 0;
}

static int
got_data(void *arg, const uint8_t *p, size_t n)
{
	struct got *g = arg;

	g->datacalls++;
	if (g->datacalls == g->stop_data)
		return g->stop_rc;
	if (n == 0)
		return SB_EINVAL;	/* the reader promised no empty pieces */
	g->data_total += n;
	if (g->files <= GOT_MAX && g->n == g->files)
		return buf_append(&g->e[g->n - 1].data, p, n);
	return 0;
}

static void
got_init(struct got *g, struct backup_sink *s)
{
	memset(g, 0, sizeof(*g));
	s->file = got_file;
	s->data = got_data;
	s->arg = g;
}

static void
got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		buf_free(&g->e[i].data);
	g->n = 0;
}

/* Reads a whole backup from bytes: header, reader, entries. */
static int
open_bytes(const uint8_t *p, size_t n, const uint8_t *k, const struct backup_sink *sink)
{
	struct backup_reader *r = NULL;
	struct backup_header h;
	int fd = memfd_with(p, n), rc;

	msg[0] = '\0';
	if (fd < 0)
		return NO_FD;
	rc = backup_header_read(fd, &h);
	if (rc == 0)
		rc = backup_reader_new(fd, &h, k, &r);
	if (rc == 0)
		rc = backup_read(r, sink, msg, sizeof(msg));
	backup_reader_free(r);
	close(fd);
	return rc;
}

static int
open_buf(const struct buf *b, const uint8_t *k, const struct backup_sink *sink)
{
	return open_bytes(b->data, b->len, k, sink);
}

/* Opens without a sink and without a test-side failure (a 0 from this is
 * the file accepted). */
static int
open_plain(const uint8_t *p, size_t n)
{
	return open_bytes(p, n, key, NULL);
}

/* A small backup: two files and the end, one chunk. */
static int
small_backup(struct buf *out)
{
	struct backup_writer *w = NULL;
	struct backup_header h;
	int fd = memfd_create("backup-test", MFD_CLOEXEC), rc;

	if (fd < 0)
		return NO_FD;
	sample_header(&h);
	if ((rc = backup_writer_new(fd, &h, key, &w)) == 0 &&
	    (rc = backup_add(w, "etc/seald.yaml", 0640, "id: sbx-01\n", 11)) == 0 &&
	    (rc = backup_add(w, "empty", 0600, NULL, 0)) == 0) {
		rc = backup_writer_finish(w);
		w = NULL;
	}
	backup_writer_free(w);
	if (rc == 0 && slurp(fd, out) != 0)
		rc = NO_FD;
	close(fd);
	return rc;
}

/* A backup of one file of n bytes (seeded by seed) under "f". */
static int
one_file_backup(struct buf *out, size_t n, uint32_t seed)
{
	struct backup_writer *w = NULL;
	struct backup_header h;
	uint8_t *d = malloc(n ? n : 1);
	int fd = memfd_create("backup-test", MFD_CLOEXEC), rc = NO_FD;

	sample_header(&h);
	if (fd >= 0 && d != NULL) {
		fill(d, n, seed);
		if ((rc = backup_writer_new(fd, &h, key, &w)) == 0 &&
		    (rc = backup_add(w, "f", 0600, d, n)) == 0) {
			rc = backup_writer_finish(w);
			w = NULL;
		}
		backup_writer_free(w);
		if (rc == 0 && slurp(fd, out) != 0)
			rc = NO_FD;
	}
	if (fd >= 0)
		close(fd);
	free(d);
	return rc;
}

/* Offsets of the chunks in a file; returns how many. */
static size_t
chunk_offsets(const struct buf *f, size_t *off, size_t max)
{
	size_t at = BACKUP_HDR_LEN, n = 0;

	while (at + 4 <= f->len && n < max) {
		off[n++] = at;
		at += 4 + (get_be32(f->data + at) & 0x7fffffffu) + TAG;
	}
	return n;
}

/* ---- round trips -------------------------------------------------------- */

static void
test_header_round_trip(void)
{
	struct backup_header h, back;
	struct backup_writer *w;
	uint8_t want[BACKUP_HDR_LEN];
	struct buf f;
	int fd;

	CHECK(BACKUP_HDR_LEN == 124);
	sample_header(&h);
	memset(h.appliance, 0, sizeof(h.appliance));
	memset(h.appliance, 'z', CONFIG_ID_MAX);	/* the longest appliance.id */
	h.appliance[0] = '0';
	h.appliance[CONFIG_ID_MAX - 1] = '-';
	h.threshold = 16;
	h.count = 16;
	h.created = -2;
	CHECK((fd = memfd_create("backup-test", MFD_CLOEXEC)) >= 0);
	CHECK_RC(backup_writer_new(fd, &h, key, &w), 0);
	CHECK_RC(backup_writer_finish(w), 0);
	CHECK(slurp(fd, &f) == 0);
	hdr_bytes(&h, want);
	CHECK(f.len > BACKUP_HDR_LEN && memcmp(f.data, want, BACKUP_HDR_LEN) == 0);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK_RC(backup_header_read(fd, &back), 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == BACKUP_HDR_LEN);
	CHECK(memcmp(&h, &back, sizeof(h)) == 0);
	close(fd);

	sample_header(&h);
	CHECK((fd = memfd_with(f.data, 0)) >= 0);
	CHECK_RC(backup_writer_new(fd, &h, key, &w), 0);
	CHECK_RC(backup_writer_finish(w), 0);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK_RC(backup_header_read(fd, &back), 0);
	CHECK(memcmp(&h, &back, sizeof(h)) == 0);
	CHECK_STR(back.appliance, "sbx-01");
	CHECK(back.created == 1700000000 && back.threshold == 2 && back.count == 3);
	close(fd);
	buf_free(&f);
}

struct rt_file {
	const char *name;
	unsigned mode;
	size_t size;
	int by_fd;
};

static const struct rt_file rt_files[] = {
	{ "empty", 0600, 0, 0 },
	{ "exact/one-chunk", 0644, C, 0 },
	{ "several/chunks/big.bin", 0640, 3 * C + 12345, 0 },
	{ "from-fd/data.mdb", 0600, 100000, 1 },
	{ "tls/key.pem", 0400, 5, 0 },
	{ "empty-fd", 07777, 0, 1 },
};
#define RT_N (sizeof(rt_files) / sizeof(rt_files[0]))

static void
test_round_trip_files(void)
{
	struct backup_writer *w;
	struct backup_header h;
	struct backup_sink s;
	struct got g;
	struct buf f;
	uint8_t *d[RT_N];
	size_t ptlen = 15, nchunks;
	int fd, ok = 1;

	sample_header(&h);
	CHECK((fd = memfd_create("backup-test", MFD_CLOEXEC)) >= 0);
	CHECK_RC(backup_writer_new(fd, &h, key, &w), 0);
	for (size_t i = 0; i < RT_N; i++) {
		const struct rt_file *rf = &rt_files[i];
		int rc;

		d[i] = malloc(rf->size + 3);
		fill(d[i], rf->size + 3, (uint32_t)i + 1);
		ptlen += 15 + strlen(rf->name) + rf->size;
		if (rf->by_fd) {
			/* From the source's current offset: 3 bytes in. */
			int src = memfd_with(d[i], rf->size + 3);

			ok = ok && src >= 0 && lseek(src, 3, SEEK_SET) == 3;
			rc = backup_add_fd(w, rf->name, rf->mode, src, rf->size);
			if (src >= 0)
				close(src);
			memmove(d[i], d[i] + 3, rf->size);
		} else
			rc = backup_add(w, rf->name, rf->mode, rf->size ? d[i] : NULL, rf->size);
		ok = ok && rc == 0;
	}
	CHECK_RC(backup_writer_finish(w), 0);
	CHECK(ok);
	CHECK(slurp(fd, &f) == 0);
	close(fd);
	/* Every chunk full but the last; each costs 4 + 16 bytes. */
	nchunks = (ptlen + C - 1) / C;
	CHECK(f.len == BACKUP_HDR_LEN + ptlen + nchunks * (4 + TAG));

	got_init(&g, &s);
	CHECK_RC(open_buf(&f, key, &s), 0);
	CHECK_STR(msg, "");
	CHECK(g.n == RT_N && g.files == RT_N);
	for (size_t i = 0; i < RT_N; i++) {
		CHECK_STR(g.e[i].name, rt_files[i].name);
		CHECK(g.e[i].mode == rt_files[i].mode);
		CHECK(g.e[i].size == rt_files[i].size);
		CHECK(g.e[i].data.len == rt_files[i].size);
		CHECK(rt_files[i].size == 0 || memcmp(g.e[i].data.data, d[i], rt_files[i].size) == 0);
		free(d[i]);
	}
	got_free(&g);
	buf_free(&f);
}

/* The writer's file, byte for byte, is the format sealed here with the
 * writer's chunking: all chunks full but the last, the end entry moved into
 * a chunk of its own or split when the buffer is (nearly) full. */
static void
check_writer_bytes(int with_file, size_t fsize, const size_t *cuts, size_t ncuts, int *ok)
{
	struct backup_writer *w;
	struct backup_header h;
	struct buf pt, want, got;
	uint8_t *d = malloc(fsize + 1);
	int fd = memfd_create("backup-test", MFD_CLOEXEC), src = -1;

	*ok = 0;
	fill(d, fsize, (uint32_t)fsize);
	sample_header(&h);
	buf_init(&pt, FILE_MAX_BYTES);
	buf_init(&want, FILE_MAX_BYTES);
	buf_init(&got, FILE_MAX_BYTES);
	if (with_file)
		ent_file(&pt, "a", 0600, d, fsize);
	ent_end(&pt);
	if (raw_seal(&want, &h, key, pt.data, pt.len, cuts, ncuts, ncuts - 1) == 0 &&
	    backup_writer_new(fd, &h, key, &w) == 0) {
		/* Through the fd path, whose reads go straight into the buffer. */
		src = memfd_with(d, fsize);
		if (!with_file || backup_add_fd(w, "a", 0600, src, fsize) == 0)
			*ok = backup_writer_finish(w) == 0;
		else
			backup_writer_free(w);
	}
	*ok = *ok && slurp(fd, &got) == 0 && got.len == want.len &&
	    memcmp(got.data, want.data, want.len) == 0;
	if (src >= 0)
		close(src);
	close(fd);
	buf_free(&got);
	buf_free(&pt);
	buf_free(&want);
	free(d);
}

static void
test_writer_bytes_match_format(void)
{
	static const size_t none[] = { 15 };
	static const size_t fits[] = { C };
	static const size_t alone[] = { C, 15 };
	static const size_t split[] = { C, 10 };
	static const size_t many[] = { C, C, C, 16 + 15 };
	int ok;

	check_writer_bytes(0, 0, none, 1, &ok);		/* no file at all */
	CHECK(ok);
	check_writer_bytes(1, C - 16 - 15, fits, 1, &ok);	/* ends the chunk exactly */
	CHECK(ok);
	check_writer_bytes(1, C - 16, alone, 2, &ok);	/* file fills it: end alone */
	CHECK(ok);
	check_writer_bytes(1, C - 16 - 5, split, 2, &ok);	/* end entry split */
	CHECK(ok);
	check_writer_bytes(1, 3 * C, many, 4, &ok);
	CHECK(ok);
}

/* ---- refusals: key, damage, cuts, extra chunks -------------------------- */

static void
test_wrong_key(void)
{
	struct backup_sink s;
	struct got g;
	struct buf f;

	CHECK_RC(small_backup(&f), 0);
	got_init(&g, &s);
	CHECK_RC(open_buf(&f, key2, &s), SB_ECRYPTO);
	CHECK_STR(msg, "damaged or not made with these shares: chunk 1 fails its check");
	CHECK(g.files == 0 && g.datacalls == 0);	/* nothing unauthenticated handed over */
	CHECK_RC(open_buf(&f, key, &s), 0);
	CHECK(g.files == 2);
	got_free(&g);
	buf_free(&f);
}

static void
test_every_byte_flipped(void)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	struct buf f;
	int rc;

	CHECK_RC(small_backup(&f), 0);
	CHECK_RC(open_plain(f.data, f.len), 0);
	for (size_t i = 0; i < f.len; i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			f.data[i] ^= masks[m];
			rc = open_plain(f.data, f.len);
			f.data[i] ^= masks[m];
			if (i >= BACKUP_HDR_LEN) {
				if (rc != SB_ECRYPTO)
					printf("#   byte %zu ^ 0x%02x: %d (%s)\n", i, masks[m], rc, msg);
				CHECK_RC(rc, SB_ECRYPTO);
			} else {
				if (rc == 0)
					printf("#   header byte %zu ^ 0x%02x accepted\n", i, masks[m]);
				CHECK(rc == SB_EINVAL || rc == SB_EUNSUPPORTED ||
				    rc == SB_ECONFIG || rc == SB_ECRYPTO);
				/* Past magic and version, a header that still parses
				 * is caught by the tag. */
				CHECK(i < 9 || rc == SB_ECONFIG || rc == SB_ECRYPTO);
			}
		}
	}
	buf_free(&f);
}

/* In a backup of several chunks: the length fields, the first and last
 * ciphertext bytes and the tags of every chunk. */
static void
test_flips_in_every_chunk(void)
{
	struct buf f;
	size_t off[8], n, len, at[8];

	CHECK_RC(one_file_backup(&f, 2 * C + 100, 7), 0);
	CHECK((n = chunk_offsets(&f, off, 8)) == 3);
	for (size_t c = 0; c < n; c++) {
		len = get_be32(f.data + off[c]) & 0x7fffffffu;
		at[0] = off[c];
		at[1] = off[c] + 1;
		at[2] = off[c] + 2;
		at[3] = off[c] + 3;
		at[4] = off[c] + 4;
		at[5] = off[c] + 4 + len - 1;
		at[6] = off[c] + 4 + len;
		at[7] = off[c] + 4 + len + TAG - 1;
		for (size_t i = 0; i < 8; i++) {
			f.data[at[i]] ^= 0x01;
			CHECK_RC(open_plain(f.data, f.len), SB_ECRYPTO);
			f.data[at[i]] ^= 0x81;
			CHECK_RC(open_plain(f.data, f.len), SB_ECRYPTO);
			f.data[at[i]] ^= 0x80;
		}
	}
	CHECK_RC(open_plain(f.data, f.len), 0);
	buf_free(&f);
}

static void
test_truncated_at_every_length(void)
{
	struct buf f, big;
	size_t off[8], n;

	CHECK_RC(small_backup(&f), 0);
	for (size_t len = 0; len < f.len; len++) {
		int rc = open_plain(f.data, len);

		if (len < BACKUP_HDR_LEN) {
			CHECK_RC(rc, SB_EIO);
		} else {
			CHECK_RC(rc, SB_ECRYPTO);
			CHECK_STR(msg, "truncated: the file ends before its last chunk");
		}
	}
	CHECK_RC(open_plain(f.data, f.len), 0);

	/* A backup of several chunks cut at, just before and after each chunk. */
	CHECK_RC(one_file_backup(&big, 2 * C + 100, 3), 0);
	CHECK((n = chunk_offsets(&big, off, 8)) == 3);
	for (size_t c = 0; c < n; c++)
		for (size_t d = 0; d < 3; d++) {
			size_t len = off[c] + d - 1;

			CHECK_RC(open_plain(big.data, len), len < BACKUP_HDR_LEN ? SB_EIO : SB_ECRYPTO);
			CHECK(len < BACKUP_HDR_LEN ||
			    strcmp(msg, "truncated: the file ends before its last chunk") == 0);
		}
	CHECK_RC(open_plain(big.data, big.len - 1), SB_ECRYPTO);
	CHECK_STR(msg, "truncated: the file ends before its last chunk");
	CHECK_RC(open_plain(big.data, big.len), 0);
	buf_free(&f);
	buf_free(&big);
}

/* f with its chunks in the order given by idx (chunk numbers from 0). */
static void
rebuild(const struct buf *f, const size_t *off, size_t n, const size_t *idx,
    size_t nidx, struct buf *out)
{
	buf_init(out, FILE_MAX_BYTES);
	buf_append(out, f->data, BACKUP_HDR_LEN);
	for (size_t i = 0; i < nidx; i++) {
		size_t c = idx[i], end = c + 1 < n ? off[c + 1] : f->len;

		buf_append(out, f->data + off[c], end - off[c]);
	}
}

static void
test_chunks_added_dropped_moved(void)
{
	static const struct {
		size_t idx[5], n;
		const char *msg;
	} cases[] = {
		{ { 0, 1, 1, 2 }, 4, "damaged or not made with these shares: chunk 3 fails its check" },
		{ { 0, 0, 1, 2 }, 4, "damaged or not made with these shares: chunk 2 fails its check" },
		{ { 0, 1, 2, 2 }, 4, "damaged: data follows the last chunk" },
		{ { 0, 1, 2, 0 }, 4, "damaged: data follows the last chunk" },
		{ { 0, 2 }, 2, "damaged or not made with these shares: chunk 2 fails its check" },
		{ { 1, 0, 2 }, 3, "damaged or not made with these shares: chunk 1 fails its check" },
		{ { 0, 1 }, 2, "truncated: the file ends before its last chunk" },
		{ { 2 }, 1, "damaged or not made with these shares: chunk 1 fails its check" },
	};
	struct buf f, g;
	size_t off[8], n;

	CHECK_RC(one_file_backup(&f, 2 * C + 100, 5), 0);
	CHECK((n = chunk_offsets(&f, off, 8)) == 3);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rebuild(&f, off, n, cases[i].idx, cases[i].n, &g);
		CHECK_RC(open_plain(g.data, g.len), SB_ECRYPTO);
		CHECK_STR(msg, cases[i].msg);
		buf_free(&g);
	}
	buf_free(&f);
}

static void
test_trailing_garbage(void)
{
	uint8_t junk[100] = { 0 };
	struct buf f;

	CHECK_RC(small_backup(&f), 0);
	for (size_t n = 1; n <= sizeof(junk); n += 33) {
		struct buf g;

		buf_init(&g, FILE_MAX_BYTES);
		buf_append(&g, f.data, f.len);
		buf_append(&g, junk, n);
		CHECK_RC(open_plain(g.data, g.len), SB_ECRYPTO);
		CHECK_STR(msg, "damaged: data follows the last chunk");
		buf_free(&g);
	}
	buf_free(&f);
}

static void
test_impossible_chunk_lengths(void)
{
	static const uint32_t bad[] = { C + 1, 0x7fffffffu, 0xffffffffu, 0 };
	struct buf f;

	CHECK_RC(small_backup(&f), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_be(f.data + BACKUP_HDR_LEN, bad[i], 4);
		CHECK_RC(open_plain(f.data, f.len), SB_ECRYPTO);
		CHECK_STR(msg, "damaged: chunk 1 has an impossible length");
	}
	buf_free(&f);
}

/* ---- authentic but malformed entry streams ------------------------------ */

/* pt sealed with the right key in chunks of the writer's size. */
static int
open_pt(const struct buf *pt, const struct backup_sink *sink)
{
	struct buf f;
	int rc;

	buf_init(&f, FILE_MAX_BYTES);
	rc = seal_std(&f, pt->data, pt->len) == 0 ? open_buf(&f, key, sink) : NO_FD;
	buf_free(&f);
	return rc;
}

static void
test_entries_straddle_chunks(void)
{
	static const size_t steps[] = { 1, 2, 3, 5, 7, 16, 17 };
	struct backup_header h;
	struct backup_sink s;
	struct buf pt, f;
	struct got g;
	size_t cuts[512], n;
	uint8_t d[40];

	fill(d, sizeof(d), 9);
	buf_init(&pt, FILE_MAX_BYTES);
	ent_file(&pt, "one/two", 0644, d, sizeof(d));
	ent_file(&pt, "z", 0, NULL, 0);
	ent_file(&pt, "three.txt", 0755, d, 3);
	ent_end(&pt);
	sample_header(&h);
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		size_t left = pt.len;

		for (n = 0; left > 0; n++) {
			cuts[n] = left < steps[k] ? left : steps[k];
			left -= cuts[n];
		}
		buf_init(&f, FILE_MAX_BYTES);
		CHECK(raw_seal(&f, &h, key, pt.data, pt.len, cuts, n, n - 1) == 0);
		got_init(&g, &s);
		CHECK_RC(open_buf(&f, key, &s), 0);
		CHECK(g.n == 3);
		CHECK_STR(g.e[0].name, "one/two");
		CHECK(g.e[0].mode == 0644 && g.e[0].data.len == sizeof(d) &&
		    memcmp(g.e[0].data.data, d, sizeof(d)) == 0);
		CHECK_STR(g.e[1].name, "z");
		CHECK(g.e[1].size == 0 && g.e[1].data.len == 0);
		CHECK_STR(g.e[2].name, "three.txt");
		CHECK(g.e[2].mode == 0755 && g.e[2].data.len == 3 &&
		    memcmp(g.e[2].data.data, d, 3) == 0);
		got_free(&g);
		buf_free(&f);
	}
	buf_free(&pt);
}

/* A zero-length chunk is allowed only as the last one. */
static void
test_empty_chunks(void)
{
	struct backup_header h;
	struct buf pt, f;
	size_t end_alone[] = { 0, 0 }, middle[] = { 5, 0, 0 };

	sample_header(&h);
	buf_init(&pt, FILE_MAX_BYTES);
	ent_file(&pt, "a", 0600, "xyz", 3);
	ent_end(&pt);
	end_alone[0] = pt.len;
	buf_init(&f, FILE_MAX_BYTES);
	CHECK(raw_seal(&f, &h, key, pt.data, pt.len, end_alone, 2, 1) == 0);
	CHECK_RC(open_buf(&f, key, NULL), 0);
	buf_free(&f);

	middle[2] = pt.len - 5;
	buf_init(&f, FILE_MAX_BYTES);
	CHECK(raw_seal(&f, &h, key, pt.data, pt.len, middle, 3, 2) == 0);
	CHECK_RC(open_buf(&f, key, NULL), SB_ECRYPTO);
	CHECK_STR(msg, "damaged: chunk 2 has an impossible length");
	buf_free(&f);
	buf_free(&pt);
}

/* A chunk flagged last with more after it. */
static void
test_last_flag_in_the_middle(void)
{
	struct backup_header h;
	struct buf pt, f;
	size_t cuts[2];

	sample_header(&h);
	buf_init(&pt, FILE_MAX_BYTES);
	ent_file(&pt, "a", 0600, "xyz", 3);
	ent_end(&pt);
	/* The end entry closes the flagged chunk: the next chunk is extra. */
	buf_append(&pt, "more", 4);
	cuts[0] = pt.len - 4;
	cuts[1] = 4;
	buf_init(&f, FILE_MAX_BYTES);
	CHECK(raw_seal(&f, &h, key, pt.data, pt.len, cuts, 2, 0) == 0);
	CHECK_RC(open_buf(&f, key, NULL), SB_ECRYPTO);
	CHECK_STR(msg, "damaged: data follows the last chunk");
	buf_free(&f);
	/* The flagged chunk ends inside the file entry. */
	cuts[0] = 10;
	cuts[1] = pt.len - 10;
	buf_init(&f, FILE_MAX_BYTES);
	CHECK(raw_seal(&f, &h, key, pt.data, pt.len, cuts, 2, 0) == 0);
	CHECK_RC(open_buf(&f, key, NULL), SB_EINVAL);
	CHECK_STR(msg, "malformed: the last chunk ends inside entry 1");
	buf_free(&f);
	/* No chunk flagged last at all. */
	cuts[0] = pt.len - 4;
	buf_init(&f, FILE_MAX_BYTES);
	CHECK(raw_seal(&f, &h, key, pt.data, pt.len - 4, cuts, 1, 99) == 0);
	CHECK_RC(open_buf(&f, key, NULL), SB_ECRYPTO);
	CHECK_STR(msg, "truncated: the file ends before its last chunk");
	buf_free(&f);
	buf_free(&pt);
}

static void
test_malformed_streams(void)
{
	static const char *const bad_names[] = {
		"../x", "/abs", "a//b", ".", "..", "a/", "a/./b", "a/../b", "a b", "a\\b",
	};
	struct buf pt;
	int rc;

#define STREAM(build, want_rc, want_msg) do { \
	buf_init(&pt, FILE_MAX_BYTES); \
	build; \
	rc = open_pt(&pt, NULL); \
	buf_free(&pt); \
	CHECK_RC(rc, want_rc); \
	CHECK_STR(msg, want_msg); \
} while (0)

	STREAM((ent_file(&pt, "a", 0600, "x", 1), ent_end(&pt)), 0, "");
	STREAM((ent_end(&pt)), 0, "");
	STREAM((ent_file(&pt, "a", 0600, "x", 1), ent_end(&pt), buf_append(&pt, "!", 1)),
	    SB_EINVAL, "malformed: bytes follow the end entry");
	STREAM((ent_end(&pt), ent_end(&pt)),
	    SB_EINVAL, "malformed: bytes follow the end entry");
	STREAM((ent_file(&pt, "a", 0600, "x", 1)),
	    SB_EINVAL, "malformed: the last chunk ends inside entry 2");
	STREAM((ent_head(&pt, 'F', "a", 1, 0600, 10), buf_append(&pt, "12345", 5)),
	    SB_EINVAL, "malformed: the last chunk ends inside entry 1");
	STREAM((buf_append(&pt, "E", 1)),
	    SB_EINVAL, "malformed: the last chunk ends inside entry 1");
	STREAM((ent_head(&pt, 'X', "a", 1, 0, 0), ent_end(&pt)),
	    SB_EINVAL, "malformed: entry 1 has a bad kind");
	STREAM((ent_file(&pt, "a", 0600, NULL, 0), ent_head(&pt, 'f', "b", 1, 0, 0), ent_end(&pt)),
	    SB_EINVAL, "malformed: entry 2 has a bad kind");
	STREAM((ent_head(&pt, 'F', "", 0, 0, 0), ent_end(&pt)),
	    SB_EINVAL, "malformed: entry 1 has a bad name");
	STREAM((ent_head(&pt, 'F', "a\0b", 3, 0, 0), ent_end(&pt)),
	    SB_EINVAL, "malformed: entry 1 has a bad name");
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		STREAM((ent_file(&pt, "ok", 0, NULL, 0), ent_file(&pt, bad_names[i], 0, NULL, 0),
		    ent_end(&pt)), SB_EINVAL, "malformed: entry 2 has a bad name");
	STREAM((ent_file(&pt, "a/b", 0, "1", 1), ent_file(&pt, "c", 0, NULL, 0),
	    ent_file(&pt, "a/b", 0, "2", 1), ent_end(&pt)),
	    SB_EINVAL, "malformed: entry 3 repeats the name a/b");
	STREAM((ent_file(&pt, "m", 010000, NULL, 0), ent_end(&pt)),
	    SB_EINVAL, "malformed: entry 1 (m) has a bad mode");
	STREAM((ent_file(&pt, "m", 07777, NULL, 0), ent_end(&pt)), 0, "");
	STREAM((ent_head(&pt, 'F', "big", 3, 0600, BACKUP_FILE_MAX + 1), ent_end(&pt)),
	    SB_EINVAL, "malformed: entry 1 (big) is too large");
	STREAM((ent_head(&pt, 'F', "big", 3, 0600, BACKUP_FILE_MAX), ent_end(&pt)),
	    SB_EINVAL, "malformed: the last chunk ends inside entry 1");
	STREAM((ent_head(&pt, 'E', "x", 1, 0, 0)),
	    SB_EINVAL, "malformed: the end entry has a name");
	STREAM((ent_head(&pt, 'E', "", 0, 0600, 0)),
	    SB_EINVAL, "malformed: the end entry has a mode or size");
	STREAM((ent_head(&pt, 'E', "", 0, 0, 1), buf_append(&pt, "x", 1)),
	    SB_EINVAL, "malformed: the end entry has a mode or size");
#undef STREAM
}

static void
test_file_count_bound(void)
{
	struct backup_writer *w;
	struct backup_header h;
	struct backup_sink s;
	struct buf pt;
	struct got g;
	char name[16];
	int fd, rc = 0;

	buf_init(&pt, FILE_MAX_BYTES);
	for (unsigned i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		ent_file(&pt, name, 0, NULL, 0);
	}
	ent_end(&pt);
	got_init(&g, &s);
	CHECK_RC(open_pt(&pt, &s), 0);
	CHECK(g.files == 100000);
	got_free(&g);
	pt.len -= 15;
	ent_file(&pt, "one-more", 0, NULL, 0);
	ent_end(&pt);
	got_init(&g, &s);
	rc = open_pt(&pt, &s);
	buf_free(&pt);
	got_free(&g);
	CHECK_RC(rc, SB_EINVAL);
	CHECK_STR(msg, "malformed: more than 100000 files");
	CHECK(g.files == 100000);

	/* The writer keeps to the same bound. */
	sample_header(&h);
	CHECK((fd = memfd_create("backup-test", MFD_CLOEXEC)) >= 0);
	CHECK_RC(backup_writer_new(fd, &h, key, &w), 0);
	rc = 0;
	for (unsigned i = 0; i < 100000 && rc == 0; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		rc = backup_add(w, name, 0, NULL, 0);
	}
	if (rc == 0)
		rc = backup_add(w, "one-more", 0, NULL, 0);
	CHECK_RC(backup_writer_finish(w), 0);
	close(fd);
	CHECK_RC(rc, SB_ELIMIT);
}

/* ---- the writer's refusals ---------------------------------------------- */

static const char *const good_names[] = {
	"a", "a/b", "a.b", ".hidden", "a/.b", "...", "..a", "a..", "A-b_c.D9", "x/y/z",
	"tls/key.pem", "ledger/data.mdb",
};
static const char *const bad_names[] = {
	"", "/abs", "../x", "x/..", "a/../b", ".", "..", "a//b", "a/", "/", "a/./b", "./a",
	"a b", "a\\b", "a:b", "caf\xc3\xa9", "a\tb", "a*", "~",
};

static void
test_name_ok(void)
{
	char longest[BACKUP_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof(good_names) / sizeof(good_names[0]); i++) {
		if (!backup_name_ok(good_names[i]))
			printf("#   refused \"%s\"\n", good_names[i]);
		CHECK(backup_name_ok(good_names[i]) == 1);
	}
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		if (backup_name_ok(bad_names[i]))
			printf("#   accepted \"%s\"\n", bad_names[i]);
		CHECK(backup_name_ok(bad_names[i]) == 0);
	}
	CHECK(backup_name_ok(NULL) == 0);
	memset(longest, 'n', sizeof(longest));
	longest[BACKUP_NAME_MAX] = '\0';
	CHECK(backup_name_ok(longest) == 1);
	longest[BACKUP_NAME_MAX] = 'n';
	longest[BACKUP_NAME_MAX + 1] = '\0';
	CHECK(backup_name_ok(longest) == 0);
}

static void
test_writer_refuses_bad_entries(void)
{
	struct backup_writer *w;
	struct backup_header h;
	struct backup_sink s;
	struct got g;
	struct buf f;
	char longest[BACKUP_NAME_MAX + 2];
	int fd, src;

	sample_header(&h);
	memset(longest, 'n', sizeof(longest));
	longest[BACKUP_NAME_MAX + 1] = '\0';
	CHECK((fd = memfd_create("backup-test", MFD_CLOEXEC)) >= 0);
	CHECK((src = memfd_with("abc", 3)) >= 0);
	CHECK_RC(backup_writer_new(fd, &h, key, &w), 0);
	CHECK_RC(backup_add(w, "first", 0600, "1", 1), 0);
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		CHECK_RC(backup_add(w, bad_names[i], 0600, "x", 1), SB_EINVAL);
		CHECK_RC(backup_add_fd(w, bad_names[i], 0600, src, 3), SB_EINVAL);
	}
	CHECK_RC(backup_add(w, NULL, 0600, "x", 1), SB_EINVAL);
	CHECK_RC(backup_add(w, longest, 0600, "x", 1), SB_EINVAL);
	CHECK_RC(backup_add(w, "first", 0600, "x", 1), SB_EINVAL);	/* twice */
	CHECK_RC(backup_add_fd(w, "first", 0600, src, 3), SB_EINVAL);
	CHECK_RC(backup_add(w, "mode", 010000, "x", 1), SB_EINVAL);
	CHECK_RC(backup_add(w, "null", 0600, NULL, 1), SB_EINVAL);
	CHECK_RC(backup_add_fd(w, "neg", 0600, -1, 0), SB_EINVAL);
	CHECK_RC(backup_add_fd(w, "huge", 0600, src, BACKUP_FILE_MAX + 1), SB_ELIMIT);
	longest[BACKUP_NAME_MAX] = '\0';
	CHECK_RC(backup_add(w, longest, 0600, "x", 1), 0);
	CHECK_RC(backup_add_fd(w, "second", 0600, src, 3), 0);
	CHECK_RC(backup_writer_finish(w), 0);
	close(src);
	CHECK(slurp(fd, &f) == 0);
	close(fd);

	/* Refused entries left nothing behind. */
	got_init(&g, &s);
	CHECK_RC(open_buf(&f, key, &s), 0);
	CHECK(g.files == 3);
	CHECK_STR(g.e[0].name, "first");
	CHECK(g.e[0].data.len == 1 && g.e[0].data.data[0] == '1');
	CHECK_STR(g.e[1].name, longest);
	CHECK_STR(g.e[2].name, "second");
	CHECK(g.e[2].data.len == 3 && memcmp(g.e[2].data.data, "abc", 3) == 0);
	got_free(&g);
	buf_free(&f);
}

static void
test_writer_refuses_bad_header(void)
{
	struct backup_writer *w = (struct backup_writer *)&w;
	struct backup_header h;
	int fd;

	CHECK((fd = memfd_create("backup-test", MFD_CLOEXEC)) >= 0);
#define BAD(change) do { \
	sample_header(&h); \
	change; \
	CHECK_RC(backup_writer_new(fd, &h, key, &w), SB_EINVAL); \
	CHECK(w == NULL); \
} while (0)
	BAD(h.appliance[0] = '\0');
	BAD(strcpy(h.appliance, "Sbx-01"));
	BAD(strcpy(h.appliance, "sbx_01"));
	BAD(memset(h.appliance, 'a', sizeof(h.appliance)));	/* no NUL */
	BAD(h.threshold = 1);
	BAD(h.threshold = 4);
	BAD((h.threshold = 17, h.count = 17));
	BAD(h.count = 0);
#undef BAD
	sample_header(&h);
	CHECK_RC(backup_writer_new(-1, &h, key, &w), SB_EINVAL);
	CHECK_RC(backup_writer_new(fd, NULL, key, &w), SB_EINVAL);
	CHECK_RC(backup_writer_new(fd, &h, NULL, &w), SB_EINVAL);
	CHECK_RC(backup_writer_new(fd, &h, key, NULL), SB_EINVAL);
	CHECK(lseek(fd, 0, SEEK_END) == 0);	/* nothing written */
	close(fd);
	backup_writer_free(NULL);
	backup_reader_free(NULL);
}

static void
test_header_read_refusals(void)
{
	struct backup_header h;
	uint8_t b[BACKUP_HDR_LEN], good[BACKUP_HDR_LEN];
	int fd, rc;

	sample_header(&h);
	hdr_bytes(&h, good);
#define HDR(change, n, want) do { \
	memcpy(b, good, sizeof(b)); \
	change; \
	CHECK((fd = memfd_with(b, n)) >= 0); \
	rc = backup_header_read(fd, &h); \
	close(fd); \
	CHECK_RC(rc, want); \
} while (0)
	HDR((void)0, sizeof(b), 0);
	HDR((void)0, 0, SB_EIO);
	HDR((void)0, 8, SB_EIO);
	HDR((void)0, sizeof(b) - 1, SB_EIO);
	HDR(memcpy(b, "%PDF-1.7", 8), 8, SB_EINVAL);	/* short, and not ours anyway */
	HDR(b[0] = 's', sizeof(b), SB_EINVAL);
	HDR(b[7] = '\0', sizeof(b), SB_EINVAL);
	HDR(b[8] = 2, sizeof(b), SB_EUNSUPPORTED);
	HDR(b[8] = 0, sizeof(b), SB_EUNSUPPORTED);
	HDR(b[9] = 0, sizeof(b), SB_ECONFIG);
	HDR(b[9] = 33, sizeof(b), SB_ECONFIG);
	HDR(b[9] = 7, sizeof(b), SB_ECONFIG);		/* takes in a NUL */
	HDR(b[9] = 5, sizeof(b), SB_ECONFIG);		/* leaves a byte in the padding */
	HDR(b[10] = 'S', sizeof(b), SB_ECONFIG);
	HDR(b[41] = 'a', sizeof(b), SB_ECONFIG);	/* padding not NUL */
	HDR((b[9] = 32, memset(b + 10, '7', 32)), sizeof(b), SB_ECONFIG);	/* past appliance.id */
	HDR((b[9] = 16, memset(b + 10, '7', 16)), sizeof(b), 0);
	HDR((b[9] = 17, memset(b + 10, '7', 17)), sizeof(b), SB_ECONFIG);
	HDR((b[9] = 6, memcpy(b + 10, "-bx-01", 6)), sizeof(b), SB_ECONFIG);
	HDR(b[50] = 1, sizeof(b), SB_ECONFIG);
	HDR(b[50] = 4, sizeof(b), SB_ECONFIG);
	HDR(b[51] = 17, sizeof(b), SB_ECONFIG);
	HDR((b[50] = 17, b[51] = 17), sizeof(b), SB_ECONFIG);
	HDR((b[50] = 16, b[51] = 16), sizeof(b), 0);
	HDR((b[50] = 2, b[51] = 2), sizeof(b), 0);
#undef HDR
	CHECK_RC(backup_header_read(0, NULL), SB_EINVAL);
}

/* ---- the sink, the fd source, misuse ------------------------------------ */

static void
test_sink_stops_reading(void)
{
	struct backup_sink s;
	struct got g;
	struct buf f;

	CHECK_RC(small_backup(&f), 0);
	got_init(&g, &s);
	g.stop_file = 2;
	g.stop_rc = -1234;
	CHECK_RC(open_buf(&f, key, &s), -1234);
	CHECK_STR(msg, "stopped at entry 2 (empty): unknown error");
	CHECK(g.files == 2 && g.datacalls == 1);
	got_free(&g);

	got_init(&g, &s);
	g.stop_data = 1;
	g.stop_rc = SB_EPERM;
	CHECK_RC(open_buf(&f, key, &s), SB_EPERM);
	CHECK_STR(msg, "stopped at entry 1 (etc/seald.yaml): not permitted");
	CHECK(g.files == 1 && g.datacalls == 1);	/* nothing after the stop */
	got_free(&g);

	/* Without a sink, or with empty slots, the file is only checked. */
	CHECK_RC(open_buf(&f, key, NULL), 0);
	s.file = NULL;
	s.data = NULL;
	CHECK_RC(open_buf(&f, key, &s), 0);
	buf_free(&f);
}

static void
test_add_fd_short_source(void)
{
	struct backup_writer *w;
	struct backup_header h;
	struct buf f;
	uint8_t *d = malloc(100000);
	int fd, src;

	fill(d, 100000, 4);
	sample_header(&h);
	/* Short inside the first chunk. */
	CHECK((fd = memfd_create("backup-test", MFD_CLOEXEC)) >= 0);
	CHECK((src = memfd_with(d, 10)) >= 0);
	CHECK_RC(backup_writer_new(fd, &h, key, &w), 0);
	CHECK_RC(backup_add_fd(w, "short", 0600, src, 20), SB_EIO);
	CHECK_RC(backup_add(w, "after", 0600, "x", 1), SB_EIO);	/* the writer is spent */
	CHECK_RC(backup_writer_finish(w), SB_EIO);
	close(src);
	CHECK(slurp(fd, &f) == 0);
	close(fd);
	CHECK_RC(open_buf(&f, key, NULL), SB_ECRYPTO);
	buf_free(&f);

	/* Short after a chunk has gone out: what was written opens as damaged. */
	CHECK((fd = memfd_create("backup-test", MFD_CLOEXEC)) >= 0);
	CHECK((src = memfd_with(d, 100000)) >= 0);
	CHECK_RC(backup_writer_new(fd, &h, key, &w), 0);
	CHECK_RC(backup_add_fd(w, "short", 0600, src, 200000), SB_EIO);
	backup_writer_free(w);
	close(src);
	CHECK(slurp(fd, &f) == 0);
	close(fd);
	CHECK(f.len > BACKUP_HDR_LEN + C);
	CHECK_RC(open_buf(&f, key, NULL), SB_ECRYPTO);
	CHECK_STR(msg, "truncated: the file ends before its last chunk");
	buf_free(&f);

	/* A source that cannot be read. */
	CHECK((fd = memfd_create("backup-test", MFD_CLOEXEC)) >= 0);
	CHECK((src = open("/dev/null", O_WRONLY)) >= 0);
	CHECK_RC(backup_writer_new(fd, &h, key, &w), 0);
	CHECK_RC(backup_add_fd(w, "unreadable", 0600, src, 1), SB_EIO);
	CHECK_RC(backup_writer_finish(w), SB_EIO);
	close(src);
	close(fd);
	free(d);
}

static void
test_write_failure(void)
{
	struct backup_writer *w = NULL;
	struct backup_header h;
	int fd;

	sample_header(&h);
	CHECK((fd = open("/dev/null", O_RDONLY)) >= 0);
	CHECK_RC(backup_writer_new(fd, &h, key, &w), SB_EIO);
	CHECK(w == NULL);
	close(fd);
}

static void
test_read_once(void)
{
	struct backup_reader *r;
	struct backup_header h;
	struct buf f;
	int fd;

	CHECK_RC(small_backup(&f), 0);
	CHECK((fd = memfd_with(f.data, f.len)) >= 0);
	CHECK_RC(backup_header_read(fd, &h), 0);
	CHECK_RC(backup_reader_new(fd, &h, key, &r), 0);
	CHECK_RC(backup_read(r, NULL, msg, sizeof(msg)), 0);
	CHECK_RC(backup_read(r, NULL, msg, sizeof(msg)), SB_ESTATE);
	CHECK_RC(backup_read(r, NULL, NULL, 0), SB_ESTATE);
	backup_reader_free(r);
	close(fd);
	buf_free(&f);
}

int
main(void)
{
	for (int i = 0; i < BACKUP_KEY_LEN; i++)
		key[i] = key2[i] = (uint8_t)(i * 13 + 7);
	key2[BACKUP_KEY_LEN - 1] ^= 1;

	RUN(test_header_round_trip, "the header reads back as written, in the documented layout");
	RUN(test_round_trip_files, "files of every size, from memory and from an fd, read back whole and in order");
	RUN(test_writer_bytes_match_format, "the writer's bytes are the documented format with full chunks and a marked last one");
	RUN(test_wrong_key, "another key is refused before any content reaches the sink");
	RUN(test_every_byte_flipped, "a backup with any one byte changed is refused");
	RUN(test_flips_in_every_chunk, "a change in any chunk of a long backup is refused");
	RUN(test_truncated_at_every_length, "a backup cut at any length is refused as truncated");
	RUN(test_chunks_added_dropped_moved, "chunks repeated, appended, dropped or swapped are refused");
	RUN(test_trailing_garbage, "bytes after the last chunk are refused");
	RUN(test_impossible_chunk_lengths, "a chunk length past BACKUP_CHUNK, or empty and not last, is refused");
	RUN(test_entries_straddle_chunks, "entries split anywhere across chunks are read");
	RUN(test_empty_chunks, "an empty chunk is allowed only as the last");
	RUN(test_last_flag_in_the_middle, "a chunk marked last must end the file and the entries");
	RUN(test_malformed_streams, "authentic but malformed entries are refused with what and where");
	RUN(test_file_count_bound, "more than 100000 files is refused by the reader and the writer");
	RUN(test_name_ok, "entry names are relative paths of [A-Za-z0-9._-] without . or .. or empty parts");
	RUN(test_writer_refuses_bad_entries, "the writer refuses bad and repeated names and modes and stays usable");
	RUN(test_writer_refuses_bad_header, "the writer refuses a bad header and writes nothing");
	RUN(test_header_read_refusals, "the header reader refuses bad magic, version, id and quorum");
	RUN(test_sink_stops_reading, "a sink's non-zero return stops the reading with its code");
	RUN(test_add_fd_short_source, "a source shorter than its size fails the entry and the file");
	RUN(test_write_failure, "a failing write is SB_EIO");
	RUN(test_read_once, "a reader reads once");
	return check_done();
}
