/*
 * fuzz_backup — the backup reader (lib/backup.c) over arbitrary input.
 *
 * The first byte says what the rest is:
 *
 *   even  a backup file as it lies on disk (header, chunks), opened with
 *         FUZZ_KEY. Nearly all of these stop at the header or the first
 *         tag; the entry parser behind the tag is reached by the other mode.
 *   odd   the plaintext entry stream. The harness seals it itself, as
 *         backup.h describes the format (its own nonces, AAD and chunking,
 *         not the writer's code), under FUZZ_KEY and a fixed header: chunks
 *         of (byte >> 2) bytes, 0 meaning BACKUP_CHUNK; bit 1 adds an empty
 *         last chunk. So malformed streams reach the parser authenticated.
 *
 * Besides crashes, leaks and hangs it checks the promises: only documented
 * codes come back, a refusal comes with a one-line message, the sink hears
 * of each file before its content and gets exactly the size it was told; an
 * authentic file is refused only as malformed (SB_EINVAL); an accepted
 * stream is exactly the encoding of what the sink heard, and the writer,
 * given those entries, writes exactly the file the harness seals with
 * BACKUP_CHUNK chunks.
 *
 * The seed corpus (tests/fuzz/corpus/backup/) holds both kinds: streams to
 * be sealed, and a whole backup made by the writer with FUZZ_KEY.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/backup.h"
#include "lib/fdio.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/log.h"

#define FUZZ_INPUT_MAX (1 << 18)
#define FUZZ_FILE_MAX (4 * FUZZ_INPUT_MAX)
#define TAG_LEN 16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t FUZZ_KEY[BACKUP_KEY_LEN];
static struct backup_header fuzz_hdr;
static EVP_CIPHER *gcm;
static int fd_in, fd_out;

static void
must(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_CRIT);
	for (int i = 0; i < BACKUP_KEY_LEN; i++)
		FUZZ_KEY[i] = (uint8_t)(0x3c ^ (i * 11));
	strcpy(fuzz_hdr.appliance, "sbx-01");
	for (int i = 0; i < BACKUP_CEREMONY_LEN; i++)
		fuzz_hdr.ceremony[i] = (uint8_t)(0x5e + i);
	fuzz_hdr.threshold = 2;
	fuzz_hdr.count = 3;
	for (int i = 0; i < BACKUP_CHECK_LEN; i++)
		fuzz_hdr.check[i] = (uint8_t)(i * 3);
	fuzz_hdr.created = 1700000000;
	for (int i = 0; i < BACKUP_SALT_LEN; i++)
		fuzz_hdr.salt[i] = (uint8_t)(0xa5 ^ i);
	gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	fd_in = memfd_create("fuzz-backup-in", MFD_CLOEXEC);
	fd_out = memfd_create("fuzz-backup-out", MFD_CLOEXEC);
	must(gcm != NULL && fd_in >= 0 && fd_out >= 0);
	return 0;
}

static void
fd_reset(int fd)
{
	must(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0);
}

static void
fd_put(int fd, const uint8_t *p, size_t n)
{
	fd_reset(fd);
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		must(w > 0);
		p += w;
		n -= (size_t)w;
	}
	must(lseek(fd, 0, SEEK_SET) == 0);
}

static void
fd_get(int fd, struct buf *b)
{
	uint8_t tmp[16384];
	ssize_t r;

	must(lseek(fd, 0, SEEK_SET) == 0);
	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		must(buf_append(b, tmp, (size_t)r) == 0);
	must(r == 0);
}

/* The header as backup.h lays it out. */
static void
hdr_bytes(const struct backup_header *h, uint8_t o[BACKUP_HDR_LEN])
{
	size_t n = strlen(h->appliance);

	memset(o, 0, BACKUP_HDR_LEN);
	memcpy(o, BACKUP_MAGIC, 8);
	o[8] = BACKUP_VERSION;
	o[9] = (uint8_t)n;
	memcpy(o + 10, h->appliance, n);
	memcpy(o + 42, h->ceremony, BACKUP_CEREMONY_LEN);
	o[50] = (uint8_t)h->threshold;
	o[51] = (uint8_t)h->count;
	memcpy(o + 52, h->check, BACKUP_CHECK_LEN);
	be_put(o + 84, (uint64_t)h->created, 8);
	memcpy(o + 92, h->salt, BACKUP_SALT_LEN);
}

/*
 * pt sealed as a whole backup into out: chunks of step bytes (the last one
 * shorter), one empty last chunk when pt is empty or extra_empty is set.
 */
static void
seal(struct buf *out, const uint8_t *pt, size_t len, size_t step, int extra_empty)
{
	static uint8_t ct[BACKUP_CHUNK + TAG_LEN];
	uint8_t hdr[BACKUP_HDR_LEN], hh[32], nonce[12], aad[41], lenf[4];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint64_t no = 0;
	size_t off = 0;
	int outl;

	must(ctx != NULL);
	hdr_bytes(&fuzz_hdr, hdr);
	must(EVP_Digest(hdr, sizeof(hdr), hh, NULL, EVP_sha256(), NULL) == 1);
	must(buf_append(out, hdr, sizeof(hdr)) == 0);
	for (;;) {
		size_t n = len - off < step ? len - off : step;
		int last = off + n == len && !(extra_empty && n > 0);

		memset(nonce, 0, sizeof(nonce));
		be_put(nonce + 4, no, 8);
		memcpy(aad, hh, 32);
		be_put(aad + 32, no, 8);
		aad[40] = (uint8_t)last;
		be_put(lenf, n | (last ? 0x80000000u : 0), 4);
		must(EVP_EncryptInit_ex(ctx, gcm, NULL, FUZZ_KEY, nonce) == 1);
		must(EVP_EncryptUpdate(ctx, NULL, &outl, aad, sizeof(aad)) == 1);
		must(n == 0 || EVP_EncryptUpdate(ctx, ct, &outl, pt + off, (int)n) == 1);
		must(EVP_EncryptFinal_ex(ctx, ct + n, &outl) == 1);
		must(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, ct + n) == 1);
		must(buf_append(out, lenf, 4) == 0 && buf_append(out, ct, n + TAG_LEN) == 0);
		off += n;
		no++;
		if (last)
			break;
	}
	EVP_CIPHER_CTX_free(ctx);
}

/* What the sink heard, encoded again as the format's entry stream. */
struct heard {
	struct buf canon;
	uint64_t left;		/* content still owed to the last file */
	int files;
};

static int
heard_file(void *arg, const char *name, unsigned mode, uint64_t size)
{
	struct heard *h = arg;
	uint8_t f[12];
	size_t n = strlen(name);

	must(h->left == 0);
	must(backup_name_ok(name) && mode <= 07777 && size <= BACKUP_FILE_MAX);
	f[0] = 'F';
	be_put(f + 1, n, 2);
	must(buf_append(&h->canon, f, 3) == 0 && buf_append(&h->canon, name, n) == 0);
	be_put(f, mode, 4);
	be_put(f + 4, size, 8);
	must(buf_append(&h->canon, f, 12) == 0);
	h->left = size;
	h->files++;
	return 0;
}

static int
heard_data(void *arg, const uint8_t *p, size_t n)
{
	struct heard *h = arg;

	must(n > 0 && n <= h->left);
	must(buf_append(&h->canon, p, n) == 0);
	h->left -= n;
	return 0;
}

/* Opens the backup in fd_in; the codes are checked here, the rest by the caller. */
static int
open_in(struct heard *heard, int *hdr_rc)
{
	struct backup_sink sink = { heard_file, heard_data, heard };
	struct backup_reader *r = NULL;
	struct backup_header h;
	char msg[256];
	int rc;

	buf_init(&heard->canon, FUZZ_FILE_MAX);
	heard->left = 0;
	heard->files = 0;
	*hdr_rc = backup_header_read(fd_in, &h);
	must(*hdr_rc == 0 || *hdr_rc == SB_EINVAL || *hdr_rc == SB_EUNSUPPORTED ||
	    *hdr_rc == SB_ECONFIG || *hdr_rc == SB_EIO);
	if (*hdr_rc != 0)
		return *hdr_rc;
	must(strlen(h.appliance) >= 1 && h.threshold >= 2 && h.threshold <= h.count &&
	    h.count <= 16);
	must(backup_reader_new(fd_in, &h, FUZZ_KEY, &r) == 0);
	memset(msg, 'x', sizeof(msg));
	rc = backup_read(r, &sink, msg, sizeof(msg));
	must(rc == 0 || rc == SB_ECRYPTO || rc == SB_EINVAL);
	must(memchr(msg, '\0', sizeof(msg)) != NULL && strchr(msg, '\n') == NULL);
	must((rc == 0) == (msg[0] == '\0'));
	must(rc != 0 || heard->left == 0);
	backup_reader_free(r);
	return rc;
}

/* The writer, given what was heard, writes the file the harness seals. */
static void
check_writer(const struct buf *canon)
{
	struct backup_writer *w;
	struct buf want, got;
	char name[BACKUP_NAME_MAX + 1];
	size_t at = 0;

	fd_reset(fd_out);
	must(backup_writer_new(fd_out, &fuzz_hdr, FUZZ_KEY, &w) == 0);
	while (canon->data[at] == 'F') {
		size_t n = (size_t)be_get(canon->data + at + 1, 2);
		uint64_t size;
		unsigned mode;

		memcpy(name, canon->data + at + 3, n);
		name[n] = '\0';
		at += 3 + n;
		mode = (unsigned)be_get(canon->data + at, 4);
		size = be_get(canon->data + at + 4, 8);
		at += 12;
		must(backup_add(w, name, mode, canon->data + at, (size_t)size) == 0);
		at += (size_t)size;
	}
	must(backup_writer_finish(w) == 0);
	buf_init(&want, FUZZ_FILE_MAX);
	buf_init(&got, FUZZ_FILE_MAX);
	seal(&want, canon->data, canon->len, BACKUP_CHUNK, 0);
	fd_get(fd_out, &got);
	must(got.len == want.len && memcmp(got.data, want.data, got.len) == 0);
	buf_free(&want);
	buf_free(&got);
}

static void
fuzz_stream(uint8_t mode, const uint8_t *pt, size_t len)
{
	static const uint8_t end[15] = { 'E' };
	size_t step = mode >> 2 ? mode >> 2 : BACKUP_CHUNK;
	struct heard heard;
	struct buf file;
	int rc, hdr_rc;

	buf_init(&file, FUZZ_FILE_MAX);
	seal(&file, pt, len, step, mode & 2);
	fd_put(fd_in, file.data, file.len);
	buf_free(&file);
	rc = open_in(&heard, &hdr_rc);
	must(hdr_rc == 0);
	must(rc == 0 || rc == SB_EINVAL);	/* it is authentic */
	if (rc == 0) {
		must(buf_append(&heard.canon, end, sizeof(end)) == 0);
		must(heard.canon.len == len && memcmp(heard.canon.data, pt, len) == 0);
		check_writer(&heard.canon);
	}
	buf_free(&heard.canon);
}

static void
fuzz_file(const uint8_t *data, size_t size)
{
	struct heard heard;
	int hdr_rc;

	fd_put(fd_in, data, size);
	(void)open_in(&heard, &hdr_rc);
	buf_free(&heard.canon);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > FUZZ_INPUT_MAX)
		return 0;
	if (data[0] & 1)
		fuzz_stream(data[0], data + 1, size - 1);
	else
		fuzz_file(data + 1, size - 1);
	return 0;
}
