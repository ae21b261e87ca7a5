/*
 * backup — the sealed archive. See backup.h for the format.
 *
 * Writer: plaintext is gathered in a BACKUP_CHUNK buffer that is sealed only
 * when more data arrives for a full buffer, or at finish; so the last chunk
 * can always be marked as such and no non-last chunk is ever empty.
 *
 * Reader: each chunk is opened (its tag checked) before a byte of it reaches
 * the entry parser, a state machine that carries a partly read entry header
 * across chunk boundaries. Nothing is trusted until the whole file has been
 * read: the sink hears of every entry as it goes, and the caller waits for
 * backup_read's 0 before acting on any of it.
 *
 * The key and every plaintext buffer live in secret memory (the plaintext
 * holds the TLS key and the ledger) and are wiped when done with.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "backup.h"
#include "config.h"
#include "fdio.h"
#include "err.h"
#include "ossl.h"
#include "secret.h"

#define NONCE_LEN 12
#define TAG_LEN 16
#define HASH_LEN 32
#define AAD_LEN (HASH_LEN + 8 + 1)
#define CHUNK_LAST 0x80000000u
#define CHUNK_LEN_MASK 0x7fffffffu
#define ENTRY_HEAD 3			/* kind, name length */
#define ENTRY_META 12			/* mode, size */
#define MODE_MAX 07777
/* CUSTODY_MAX_SHARES; lib/ may not include hsm/custody.h. */
#define SHARES_MAX 16

/* Header field offsets. */
#define H_VERSION 8
#define H_IDLEN 9
#define H_ID 10
#define H_CEREMONY (H_ID + BACKUP_ID_MAX)
#define H_THRESHOLD (H_CEREMONY + BACKUP_CEREMONY_LEN)
#define H_COUNT (H_THRESHOLD + 1)
#define H_CHECK (H_COUNT + 1)
#define H_CREATED (H_CHECK + BACKUP_CHECK_LEN)
#define H_SALT (H_CREATED + 8)

/* ---- small pieces ------------------------------------------------------- */

/* Reads up to n bytes, stopping early only at end of file; *got says how many. */
static int
read_full(int fd, uint8_t *p, size_t n, size_t *got)
{
	*got = 0;
	while (*got < n) {
		ssize_t r = read(fd, p + *got, n - *got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return SB_EIO;
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

static int say(char *msg, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Puts one line in msg (if any) and returns rc. */
static int
say(char *msg, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (msg == NULL || len == 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return rc;
}

static int
counts_ok(unsigned threshold, unsigned count)
{
	return threshold >= 2 && threshold <= count && count <= SHARES_MAX;
}

int
backup_name_ok(const char *name)
{
	size_t n, comp = 0;

	if (name == NULL || (n = strlen(name)) == 0 || n > BACKUP_NAME_MAX)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		char c = name[i];

		if (c == '/' || c == '\0') {
			/* comp: the length of the component that ends here */
			if (comp == 0 || (comp == 1 && name[i - 1] == '.') ||
			    (comp == 2 && name[i - 1] == '.' && name[i - 2] == '.'))
				return 0;
			comp = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
		comp++;
	}
	return 1;
}

/* The header is encoded one way only, so a reader can rebuild the bytes it
 * read from the struct it filled. */
static int
header_encode(const struct backup_header *h, uint8_t out[BACKUP_HDR_LEN])
{
	size_t idlen = strnlen(h->appliance, sizeof(h->appliance));

	if (!config_id_ok(h->appliance, idlen) || !counts_ok(h->threshold, h->count))
		return SB_EINVAL;
	memset(out, 0, BACKUP_HDR_LEN);
	memcpy(out, BACKUP_MAGIC, 8);
	out[H_VERSION] = BACKUP_VERSION;
	out[H_IDLEN] = (uint8_t)idlen;
	memcpy(out + H_ID, h->appliance, idlen);
	memcpy(out + H_CEREMONY, h->ceremony, BACKUP_CEREMONY_LEN);
	out[H_THRESHOLD] = (uint8_t)h->threshold;
	out[H_COUNT] = (uint8_t)h->count;
	memcpy(out + H_CHECK, h->check, BACKUP_CHECK_LEN);
	be_put(out + H_CREATED, (uint64_t)h->created, 8);
	memcpy(out + H_SALT, h->salt, BACKUP_SALT_LEN);
	return 0;
}

int
backup_header_read(int fd, struct backup_header *h)
{
	uint8_t b[BACKUP_HDR_LEN];
	size_t got, idlen;
	int rc;

	if (h == NULL)
		return SB_EINVAL;
	memset(h, 0, sizeof(*h));
	if ((rc = read_full(fd, b, sizeof(b), &got)) != 0)
		return rc;
	if (got < sizeof(b))
		return memcmp(b, BACKUP_MAGIC, got < 8 ? got : 8) == 0 ? SB_EIO : SB_EINVAL;
	if (memcmp(b, BACKUP_MAGIC, 8) != 0)
		return SB_EINVAL;
	if (b[H_VERSION] != BACKUP_VERSION)
		return SB_EUNSUPPORTED;
	idlen = b[H_IDLEN];
	if (!config_id_ok((const char *)b + H_ID, idlen) ||
	    !counts_ok(b[H_THRESHOLD], b[H_COUNT]))
		return SB_ECONFIG;
	for (size_t i = idlen; i < BACKUP_ID_MAX; i++)
		if (b[H_ID + i] != 0)
			return SB_ECONFIG;
	memcpy(h->appliance, b + H_ID, idlen);
	memcpy(h->ceremony, b + H_CEREMONY, BACKUP_CEREMONY_LEN);
	h->threshold = b[H_THRESHOLD];
	h->count = b[H_COUNT];
	memcpy(h->check, b + H_CHECK, BACKUP_CHECK_LEN);
	h->created = (int64_t)be_get(b + H_CREATED, 8);
	memcpy(h->salt, b + H_SALT, BACKUP_SALT_LEN);
	return 0;
}

/* What both sides need to seal or open chunks. */
struct backup_crypt {
	EVP_CIPHER_CTX *ctx;
	uint8_t *key;			/* secret */
	uint8_t hdr_hash[HASH_LEN];	/* SHA-256 of the header as written */
	uint64_t chunk;			/* number of the next chunk */
};

static int
crypt_init(struct backup_crypt *c, const struct backup_header *h,
    const uint8_t key[BACKUP_KEY_LEN], int enc, uint8_t hdr[BACKUP_HDR_LEN])
{
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = header_encode(h, hdr)) != 0)
		return rc;
	if (EVP_Digest(hdr, BACKUP_HDR_LEN, c->hdr_hash, NULL, EVP_sha256(), NULL) != 1)
		return ossl_fail("backup", "hashing the header");
	if ((c->key = secret_alloc(BACKUP_KEY_LEN)) == NULL ||
	    (c->ctx = EVP_CIPHER_CTX_new()) == NULL)
		return SB_ENOMEM;
	memcpy(c->key, key, BACKUP_KEY_LEN);
	/* The cipher once here; each chunk then sets only key and nonce. */
	if (EVP_CipherInit_ex(c->ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1)
		return ossl_fail("backup", "setting up AES-256-GCM");
	return 0;
}

static void
crypt_free(struct backup_crypt *c)
{
	EVP_CIPHER_CTX_free(c->ctx);	/* cleanses the key schedule */
	c->ctx = NULL;
	secret_free(&c->key);
}

/* Key, nonce and AAD for the next chunk. */
static int
crypt_start(struct backup_crypt *c, int enc, int last)
{
	uint8_t nonce[NONCE_LEN] = { 0 }, aad[AAD_LEN];
	int outl;

	be_put(nonce + 4, c->chunk, 8);
	memcpy(aad, c->hdr_hash, HASH_LEN);
	be_put(aad + HASH_LEN, c->chunk, 8);
	aad[HASH_LEN + 8] = last ? 1 : 0;
	if (EVP_CipherInit_ex(c->ctx, NULL, NULL, c->key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(c->ctx, NULL, &outl, aad, sizeof(aad)) != 1)
		return ossl_fail("backup", "starting a chunk");
	return 0;
}

/* ---- the set of names seen, for duplicates ------------------------------ */

struct names {
	char **slot;	/* open addressing; cap a power of two, at most half full */
	size_t cap, n;
};

static size_t
names_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	while (*s != '\0')
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ULL;
	return (size_t)(h ^ h >> 32);
}

static char **
names_find(char **slot, size_t cap, const char *name)
{
	size_t i = names_hash(name) & (cap - 1);

	while (slot[i] != NULL && strcmp(slot[i], name) != 0)
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

/* 0, SB_EEXIST or SB_ENOMEM. */
static int
names_add(struct names *t, const char *name)
{
	char **s;

	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **slot = calloc(cap, sizeof(*slot));

		if (slot == NULL)
			return SB_ENOMEM;
		for (size_t i = 0; i < t->cap; i++)
			if (t->slot[i] != NULL)
				*names_find(slot, cap, t->slot[i]) = t->slot[i];
		free(t->slot);
		t->slot = slot;
		t->cap = cap;
	}
	s = names_find(t->slot, t->cap, name);
	if (*s != NULL)
		return SB_EEXIST;
	if ((*s = strdup(name)) == NULL)
		return SB_ENOMEM;
	t->n++;
	return 0;
}

static void
names_free(struct names *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slot[i]);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

/* ---- writer ------------------------------------------------------------- */

struct backup_writer {
	int fd;
	int err;		/* sticky: once a chunk is lost the file cannot be whole */
	struct backup_crypt c;
	uint8_t *pt;		/* secret: plaintext not yet sealed */
	size_t pt_len;
	uint8_t *out;		/* length | ciphertext | tag */
	struct names names;
};

void
backup_writer_free(struct backup_writer *w)
{
	if (w == NULL)
		return;
	crypt_free(&w->c);
	secret_free(&w->pt);
	free(w->out);
	names_free(&w->names);
	free(w);
}

int
backup_writer_new(int fd, const struct backup_header *h,
    const uint8_t key[BACKUP_KEY_LEN], struct backup_writer **out)
{
	uint8_t hdr[BACKUP_HDR_LEN];
	struct backup_writer *w;
	int rc;

	if (out == NULL)
		return SB_EINVAL;
	*out = NULL;
	if (fd < 0 || h == NULL || key == NULL)
		return SB_EINVAL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return SB_ENOMEM;
	w->fd = fd;
	if ((rc = crypt_init(&w->c, h, key, 1, hdr)) != 0)
		goto fail;
	rc = SB_ENOMEM;
	if ((w->pt = secret_alloc(BACKUP_CHUNK)) == NULL ||
	    (w->out = malloc(4 + BACKUP_CHUNK + TAG_LEN)) == NULL)
		goto fail;
	if ((rc = fd_write_all(fd, hdr, sizeof(hdr))) != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	backup_writer_free(w);
	return rc;
}

/* Seals the buffered plaintext as the next chunk and writes it. */
static int
writer_emit(struct backup_writer *w, int last)
{
	size_t n = w->pt_len;
	uint8_t *ct = w->out + 4;
	int outl;

	be_put(w->out, (uint32_t)n | (last ? CHUNK_LAST : 0), 4);
	if ((w->err = crypt_start(&w->c, 1, last)) != 0)
		return w->err;
	if ((n > 0 && EVP_EncryptUpdate(w->c.ctx, ct, &outl, w->pt, (int)n) != 1) ||
	    EVP_EncryptFinal_ex(w->c.ctx, ct + n, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(w->c.ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, ct + n) != 1)
		return w->err = ossl_fail("backup", "sealing a chunk");
	secret_wipe(w->pt, n);
	w->pt_len = 0;
	w->c.chunk++;
	return w->err = fd_write_all(w->fd, w->out, 4 + n + TAG_LEN);
}

/* A full buffer is sealed only once there is more to come, so that the
 * last one can be sealed as last. */
static int
writer_make_room(struct backup_writer *w)
{
	return w->pt_len == BACKUP_CHUNK ? writer_emit(w, 0) : 0;
}

static int
writer_put(struct backup_writer *w, const uint8_t *p, size_t n)
{
	int rc;

	while (n > 0) {
		size_t take;

		if ((rc = writer_make_room(w)) != 0)
			return rc;
		take = BACKUP_CHUNK - w->pt_len;
		if (take > n)
			take = n;
		memcpy(w->pt + w->pt_len, p, take);
		w->pt_len += take;
		p += take;
		n -= take;
	}
	return 0;
}

/* Checks an entry and writes its header; nothing is written when refused. */
static int
writer_entry(struct backup_writer *w, const char *name, unsigned mode, uint64_t size)
{
	uint8_t meta[ENTRY_HEAD + ENTRY_META];
	size_t n;
	int rc;

	if (w == NULL)
		return SB_EINVAL;
	if (w->err != 0)
		return w->err;
	if (!backup_name_ok(name) || mode > MODE_MAX)
		return SB_EINVAL;
	if (size > BACKUP_FILE_MAX || w->names.n >= BACKUP_FILES_MAX)
		return SB_ELIMIT;
	if ((rc = names_add(&w->names, name)) != 0)
		return rc == SB_EEXIST ? SB_EINVAL : rc;
	n = strlen(name);
	meta[0] = 'F';
	be_put(meta + 1, n, 2);
	if ((rc = writer_put(w, meta, ENTRY_HEAD)) != 0 ||
	    (rc = writer_put(w, (const uint8_t *)name, n)) != 0)
		return rc;
	be_put(meta, mode, 4);
	be_put(meta + 4, size, 8);
	return writer_put(w, meta, ENTRY_META);
}

int
backup_add(struct backup_writer *w, const char *name, unsigned mode,
    const void *data, size_t len)
{
	int rc;

	if (data == NULL && len > 0)
		return SB_EINVAL;
	if ((rc = writer_entry(w, name, mode, len)) != 0)
		return rc;
	return writer_put(w, data, len);
}

int
backup_add_fd(struct backup_writer *w, const char *name, unsigned mode,
    int src, uint64_t size)
{
	int rc;

	if (src < 0)
		return SB_EINVAL;
	if ((rc = writer_entry(w, name, mode, size)) != 0)
		return rc;
	/* Straight into the plaintext buffer: no copy of the file elsewhere. */
	while (size > 0) {
		size_t want;
		ssize_t r;

		if ((rc = writer_make_room(w)) != 0)
			return rc;
		want = BACKUP_CHUNK - w->pt_len;
		if (want > size)
			want = (size_t)size;
		r = read(src, w->pt + w->pt_len, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return w->err = SB_EIO;
		w->pt_len += (size_t)r;
		size -= (uint64_t)r;
	}
	return 0;
}

int
backup_writer_finish(struct backup_writer *w)
{
	static const uint8_t end[ENTRY_HEAD + ENTRY_META] = { 'E' };
	int rc;

	if (w == NULL)
		return SB_EINVAL;
	if ((rc = w->err) == 0 && (rc = writer_put(w, end, sizeof(end))) == 0)
		rc = writer_emit(w, 1);
	backup_writer_free(w);
	return rc;
}

/* ---- reader ------------------------------------------------------------- */

enum parse_state {
	P_HEAD,		/* kind, name length */
	P_NAME,
	P_META,		/* mode, size */
	P_DATA,
	P_DONE,		/* the end entry has been read */
};

struct backup_reader {
	int fd;
	int used;		/* backup_read runs once */
	struct backup_crypt c;
	uint8_t *ct;		/* ciphertext | tag */
	uint8_t *pt;		/* secret: the chunk being parsed */
	struct names names;
	/* The entry parser. */
	enum parse_state st;
	uint8_t acc[BACKUP_NAME_MAX];	/* a field being gathered across chunks */
	size_t have, need;
	uint8_t kind;
	char name[BACKUP_NAME_MAX + 1];
	uint64_t left;		/* bytes of content still to come */
	unsigned long entry;	/* which entry, from 1 */
	unsigned long files;
};

void
backup_reader_free(struct backup_reader *r)
{
	if (r == NULL)
		return;
	crypt_free(&r->c);
	secret_free(&r->pt);
	free(r->ct);
	names_free(&r->names);
	free(r);
}

int
backup_reader_new(int fd, const struct backup_header *h,
    const uint8_t key[BACKUP_KEY_LEN], struct backup_reader **out)
{
	uint8_t hdr[BACKUP_HDR_LEN];
	struct backup_reader *r;
	int rc;

	if (out == NULL)
		return SB_EINVAL;
	*out = NULL;
	if (fd < 0 || h == NULL || key == NULL)
		return SB_EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return SB_ENOMEM;
	r->fd = fd;
	if ((rc = crypt_init(&r->c, h, key, 0, hdr)) != 0)
		goto fail;
	rc = SB_ENOMEM;
	if ((r->pt = secret_alloc(BACKUP_CHUNK)) == NULL ||
	    (r->ct = malloc(BACKUP_CHUNK + TAG_LEN)) == NULL)
		goto fail;
	r->st = P_HEAD;
	r->need = ENTRY_HEAD;
	r->entry = 1;
	*out = r;
	return 0;
fail:
	backup_reader_free(r);
	return rc;
}

/* Reads, checks and opens the next chunk into r->pt. */
static int
reader_chunk(struct backup_reader *r, size_t *n, int *last, char *msg, size_t len)
{
	unsigned long long no = (unsigned long long)r->c.chunk + 1;
	uint8_t lb[4], fin[TAG_LEN];
	uint32_t v;
	size_t got;
	int outl;

	if (read_full(r->fd, lb, sizeof(lb), &got) != 0)
		return say(msg, len, SB_EIO, "read error in chunk %llu: %s", no, strerror(errno));
	if (got < sizeof(lb))
		return say(msg, len, SB_ECRYPTO, "truncated: the file ends before its last chunk");
	v = (uint32_t)be_get(lb, 4);
	*last = (v & CHUNK_LAST) != 0;
	*n = v & CHUNK_LEN_MASK;
	if (*n > BACKUP_CHUNK || (*n == 0 && !*last))
		return say(msg, len, SB_ECRYPTO, "damaged: chunk %llu has an impossible length", no);
	if (read_full(r->fd, r->ct, *n + TAG_LEN, &got) != 0)
		return say(msg, len, SB_EIO, "read error in chunk %llu: %s", no, strerror(errno));
	if (got < *n + TAG_LEN)
		return say(msg, len, SB_ECRYPTO, "truncated: the file ends before its last chunk");
	if (crypt_start(&r->c, 0, *last) != 0)
		return say(msg, len, SB_ECRYPTO, "cannot open chunk %llu", no);
	if ((*n > 0 && EVP_DecryptUpdate(r->c.ctx, r->pt, &outl, r->ct, (int)*n) != 1) ||
	    EVP_CIPHER_CTX_ctrl(r->c.ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, r->ct + *n) != 1 ||
	    EVP_DecryptFinal_ex(r->c.ctx, fin, &outl) != 1) {
		secret_wipe(r->pt, *n);
		return say(msg, len, SB_ECRYPTO,
		    "damaged or not made with these shares: chunk %llu fails its check", no);
	}
	r->c.chunk++;
	return 0;
}

static void
parse_expect(struct backup_reader *r, enum parse_state st, size_t need)
{
	r->st = st;
	r->need = need;
	r->have = 0;
}

static void
parse_next_entry(struct backup_reader *r)
{
	r->entry++;
	parse_expect(r, P_HEAD, ENTRY_HEAD);
}

/* An entry header: kind and name length gathered. */
static int
parse_head(struct backup_reader *r, char *msg, size_t len)
{
	size_t n = (size_t)be_get(r->acc + 1, 2);

	r->kind = r->acc[0];
	r->name[0] = '\0';
	if (r->kind == 'E') {
		if (n != 0)
			return say(msg, len, SB_EINVAL, "malformed: the end entry has a name");
		parse_expect(r, P_META, ENTRY_META);
		return 0;
	}
	if (r->kind != 'F')
		return say(msg, len, SB_EINVAL, "malformed: entry %lu has a bad kind", r->entry);
	if (r->files >= BACKUP_FILES_MAX)
		return say(msg, len, SB_EINVAL, "malformed: more than %d files", BACKUP_FILES_MAX);
	if (n == 0 || n > BACKUP_NAME_MAX)
		return say(msg, len, SB_EINVAL, "malformed: entry %lu has a bad name", r->entry);
	parse_expect(r, P_NAME, n);
	return 0;
}

static int
parse_name(struct backup_reader *r, char *msg, size_t len)
{
	int rc;

	memcpy(r->name, r->acc, r->need);
	r->name[r->need] = '\0';
	if (strlen(r->name) != r->need || !backup_name_ok(r->name)) {
		r->name[0] = '\0';
		return say(msg, len, SB_EINVAL, "malformed: entry %lu has a bad name", r->entry);
	}
	if ((rc = names_add(&r->names, r->name)) == SB_EEXIST)
		return say(msg, len, SB_EINVAL, "malformed: entry %lu repeats the name %s",
		    r->entry, r->name);
	if (rc != 0)
		return say(msg, len, rc, "out of memory at entry %lu", r->entry);
	parse_expect(r, P_META, ENTRY_META);
	return 0;
}

static int
parse_meta(struct backup_reader *r, const struct backup_sink *sink, char *msg, size_t len)
{
	uint64_t mode = be_get(r->acc, 4), size = be_get(r->acc + 4, 8);
	int rc;

	if (r->kind == 'E') {
		if (mode != 0 || size != 0)
			return say(msg, len, SB_EINVAL, "malformed: the end entry has a mode or size");
		parse_expect(r, P_DONE, 0);
		return 0;
	}
	if (mode > MODE_MAX)
		return say(msg, len, SB_EINVAL, "malformed: entry %lu (%s) has a bad mode",
		    r->entry, r->name);
	if (size > BACKUP_FILE_MAX)
		return say(msg, len, SB_EINVAL, "malformed: entry %lu (%s) is too large",
		    r->entry, r->name);
	r->files++;
	if (sink != NULL && sink->file != NULL &&
	    (rc = sink->file(sink->arg, r->name, (unsigned)mode, size)) != 0)
		return say(msg, len, rc, "stopped at entry %lu (%s): %s", r->entry, r->name,
		    sb_strerror(rc));
	r->left = size;
	if (size > 0)
		parse_expect(r, P_DATA, 0);
	else
		parse_next_entry(r);
	return 0;
}

/* Feeds one opened chunk through the entry parser. */
static int
parse(struct backup_reader *r, const uint8_t *p, size_t n,
    const struct backup_sink *sink, char *msg, size_t len)
{
	int rc = 0;

	while (n > 0) {
		size_t take;

		if (r->st == P_DONE)
			return say(msg, len, SB_EINVAL, "malformed: bytes follow the end entry");
		if (r->st == P_DATA) {
			take = r->left < n ? (size_t)r->left : n;
			if (sink != NULL && sink->data != NULL &&
			    (rc = sink->data(sink->arg, p, take)) != 0)
				return say(msg, len, rc, "stopped at entry %lu (%s): %s",
				    r->entry, r->name, sb_strerror(rc));
			p += take;
			n -= take;
			if ((r->left -= take) == 0)
				parse_next_entry(r);
			continue;
		}
		take = r->need - r->have;
		if (take > n)
			take = n;
		memcpy(r->acc + r->have, p, take);
		r->have += take;
		p += take;
		n -= take;
		if (r->have < r->need)
			continue;
		if (r->st == P_HEAD)
			rc = parse_head(r, msg, len);
		else if (r->st == P_NAME)
			rc = parse_name(r, msg, len);
		else
			rc = parse_meta(r, sink, msg, len);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
backup_read(struct backup_reader *r, const struct backup_sink *sink,
    char *msg, size_t len)
{
	uint8_t extra;
	size_t n = 0, got;
	int last = 0, rc;

	say(msg, len, 0, "%s", "");
	if (r == NULL)
		return SB_EINVAL;
	if (r->used)
		return say(msg, len, SB_ESTATE, "the backup has already been read");
	r->used = 1;
	while (!last) {
		if ((rc = reader_chunk(r, &n, &last, msg, len)) != 0)
			return rc;
		rc = parse(r, r->pt, n, sink, msg, len);
		secret_wipe(r->pt, n);
		if (rc != 0)
			return rc;
	}
	if (r->st != P_DONE)
		return say(msg, len, SB_EINVAL, "malformed: the last chunk ends inside entry %lu",
		    r->entry);
	if (read_full(r->fd, &extra, 1, &got) != 0)
		return say(msg, len, SB_EIO, "read error after the last chunk: %s", strerror(errno));
	if (got != 0)
		return say(msg, len, SB_ECRYPTO, "damaged: data follows the last chunk");
	return 0;
}
