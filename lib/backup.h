/*
 * backup — the appliance backup file: a sealed archive of named files.
 *
 * The format knows nothing of LMDB, tokens or shares; the monitor fills it
 * (daemon/monitor/mon_backup.c) and sealprov restore empties it. The key
 * (32 bytes) is the caller's: derived from the master secret and the
 * header's salt (keyctl_backup_key), so a backup opens only with a quorum.
 *
 * On disk, all integers big-endian:
 *
 *   header (plain, BACKUP_HDR_LEN bytes; authenticated through every chunk):
 *     magic "SBXBAK\r\n" (8) | version 1 (1) | id length (1) | appliance id (32,
 *     NUL-padded; an appliance.id, so at most 16 characters) | ceremony (8) | threshold (1) | count (1) | check (32) |
 *     created, unix seconds (8) | salt (32)
 *   then chunks, each:
 *     length|flags (4: bit 31 set on the last chunk; the low 31 bits the
 *     plaintext length, 1..BACKUP_CHUNK, 0 allowed only for the last) |
 *     ciphertext (that length) | GCM tag (16)
 *   AES-256-GCM; nonce = 4 zero bytes | chunk number (8, from 0); AAD =
 *   SHA-256(header) | chunk number (8) | last flag (1). Nothing may follow
 *   the last chunk. So a byte changed anywhere, a chunk dropped, moved or
 *   repeated, or a header edited (another appliance id, salt, check value)
 *   fails the tag check; a cut at a chunk boundary is caught as truncated
 *   (no last chunk); bytes after the last chunk as damage. The writer never
 *   makes an empty last chunk; a reader accepts one after a chunk that
 *   ended with the end entry. Messages count chunks and entries from 1.
 *
 *   The plaintext, across chunk boundaries, is a sequence of entries:
 *     kind (1: 'F' a file, 'E' the end) | name length (2) | name |
 *     mode (4, permission bits only) | size (8) | that many bytes
 *   ending with one 'E' entry of empty name, mode 0 and size 0, which must
 *   end the last chunk exactly. Names are relative paths of 1..BACKUP_NAME_MAX
 *   bytes of [A-Za-z0-9._-] and '/', with no empty, "." or ".." component
 *   and no leading '/'; each appears once.
 *
 * The header's custody fields are the custody record the shares must match
 * (public: no secret in them), so a backup can be opened on an appliance
 * that has no record yet.
 */
#ifndef SB_BACKUP_H
#define SB_BACKUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BACKUP_MAGIC "SBXBAK\r\n"
#define BACKUP_VERSION 1
#define BACKUP_ID_MAX 32
#define BACKUP_KEY_LEN 32
#define BACKUP_SALT_LEN 32
#define BACKUP_CHECK_LEN 32
#define BACKUP_CEREMONY_LEN 8
#define BACKUP_HDR_LEN (8 + 1 + 1 + BACKUP_ID_MAX + BACKUP_CEREMONY_LEN + 1 + 1 + \
	BACKUP_CHECK_LEN + 8 + BACKUP_SALT_LEN)
#define BACKUP_CHUNK 65536
#define BACKUP_NAME_MAX 255
#define BACKUP_FILE_MAX (1ULL << 40)	/* one entry's size */
#define BACKUP_FILES_MAX 100000		/* entries in one backup */

struct backup_header {
	char appliance[BACKUP_ID_MAX + 1];
	uint8_t ceremony[BACKUP_CEREMONY_LEN];
	unsigned threshold, count;
	uint8_t check[BACKUP_CHECK_LEN];
	int64_t created;
	uint8_t salt[BACKUP_SALT_LEN];
};

struct backup_writer;
struct backup_reader;

/*
 * Starts a backup on fd (written from its current offset with write(2)):
 * writes the header; h->salt must already be random and key derived from
 * it. SB_EINVAL (bad header fields), SB_EIO, SB_ENOMEM, SB_ECRYPTO.
 */
int backup_writer_new(int fd, const struct backup_header *h,
    const uint8_t key[BACKUP_KEY_LEN], struct backup_writer **out);

/*
 * One file entry from memory. SB_EINVAL for a bad or repeated name or a
 * mode above 07777, SB_ELIMIT past BACKUP_FILE_MAX or BACKUP_FILES_MAX:
 * refusals that write nothing and leave the writer usable. After an
 * SB_EIO, SB_ENOMEM or SB_ECRYPTO the writer is spent: every later call
 * and backup_writer_finish return that error.
 */
int backup_add(struct backup_writer *w, const char *name, unsigned mode,
    const void *data, size_t len);

/* One file entry of size bytes read from src (read(2) from its current
 * offset); SB_EIO when src ends early or fails. */
int backup_add_fd(struct backup_writer *w, const char *name, unsigned mode,
    int src, uint64_t size);

/* Writes the end entry and the last chunk. 0 only when the file is whole
 * (written, not synced: the caller flushes it); the writer is freed either
 * way. */
int backup_writer_finish(struct backup_writer *w);

/* Frees a writer that will not be finished (after an error); the file it
 * wrote is then incomplete and opens as damaged. Accepts NULL. */
void backup_writer_free(struct backup_writer *w);

/*
 * Reads and checks the plain header at fd's current offset. SB_EINVAL when
 * it is not a Sealbox backup (bad magic), SB_EUNSUPPORTED for another
 * version, SB_ECONFIG when a field is invalid (id, threshold/count), SB_EIO
 * when the file is shorter than a header. Nothing in it is trusted until a
 * chunk has been opened with the key.
 */
int backup_header_read(int fd, struct backup_header *h);

/* After backup_header_read on the same fd (same h), with the key. */
int backup_reader_new(int fd, const struct backup_header *h,
    const uint8_t key[BACKUP_KEY_LEN], struct backup_reader **out);

/*
 * Called once per file entry, in order: its name, mode and size, then its
 * content in pieces through data() (several calls, total size; none for an
 * empty file). A non-zero return from either stops backup_read with it.
 * The content handed over is authenticated chunk by chunk: a caller must
 * not act on any of it until backup_read has returned 0.
 */
struct backup_sink {
	int (*file)(void *arg, const char *name, unsigned mode, uint64_t size);
	int (*data)(void *arg, const uint8_t *p, size_t n);
	void *arg;
};

/*
 * Reads every entry to the end, once (again: SB_ESTATE); sink may be NULL,
 * or its callbacks, to check a file only. 0 when the whole file was
 * authentic, well formed and complete; SB_ECRYPTO when a tag fails (damaged, truncated, or
 * not made with this key), SB_EINVAL for a malformed entry (bad name,
 * duplicate name, size past BACKUP_FILE_MAX, bytes after the end), SB_EIO
 * on a read error; or the sink's return. msg gets one line saying what and
 * where (chunk number or entry name).
 */
int backup_read(struct backup_reader *r, const struct backup_sink *sink,
    char *msg, size_t len);

void backup_reader_free(struct backup_reader *r);

/* 1 when name is an allowed entry name (see above). */
int backup_name_ok(const char *name);

#endif
