/* tlsmat — the TLS files as bytes: read by the parent, framed to the net worker. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../../lib/secret.h"
#include "tlsmat.h"

static const uint8_t tlsmat_magic[4] = { 'S', 'B', 'T', 'M' };

const char *
tlsmat_key_name(enum tlsmat_part p)
{
	static const char *const names[TLSMAT_PARTS] = {
		"tls.certificate", "tls.key", "tls.client_ca", "tls.crl",
	};

	return (unsigned)p < TLSMAT_PARTS ? names[p] : "tls.?";
}

const char *
tlsmat_path(const struct config *cfg, enum tlsmat_part p)
{
	switch (p) {
	case TLSMAT_CERT: return cfg->tls.certificate;
	case TLSMAT_KEY: return cfg->tls.key;
	case TLSMAT_CA: return cfg->tls.client_ca;
	case TLSMAT_CRL: return cfg->tls.crl;
	default: return NULL;
	}
}

/* n bytes for part p: the key in secret memory, the rest on the heap. */
static uint8_t *
tlsmat_part_alloc(enum tlsmat_part p, size_t n)
{
	return p == TLSMAT_KEY ? secret_alloc(n) : malloc(n);
}

void
tlsmat_free(struct tlsmat *m)
{
	if (m == NULL)
		return;
	for (int p = 0; p < TLSMAT_PARTS; p++) {
		if (p == TLSMAT_KEY)
			secret_free(&m->part[p]);
		else
			OPENSSL_clear_free(m->part[p], m->len[p]);
	}
	free(m);
}

/* ---- reading the files (the parent) ------------------------------------- */

static int
tlsmat_read_part(const struct config *cfg, struct tlsmat *m, enum tlsmat_part p)
{
	const char *path = tlsmat_path(cfg, p), *key = tlsmat_key_name(p);
	struct stat st;
	size_t got = 0;
	uint8_t extra;
	int fd, rc = SB_EIO;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		log_err("%s %s: cannot open: %s", key, path, strerror(errno));
		return SB_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_err("%s %s: not a regular file", key, path);
		goto out;
	}
	if (st.st_size <= 0 || (uintmax_t)st.st_size > TLSMAT_FILE_MAX) {
		log_err("%s %s: %s", key, path, st.st_size <= 0 ? "empty" :
		    "larger than 16 MiB");
		goto out;
	}
	m->len[p] = (size_t)st.st_size;
	if ((m->part[p] = tlsmat_part_alloc(p, m->len[p])) == NULL) {
		rc = SB_ENOMEM;
		goto out;
	}
	while (got < m->len[p]) {
		ssize_t r = read(fd, m->part[p] + got, m->len[p] - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			log_err("%s %s: %s", key, path, r < 0 ? strerror(errno) :
			    "changed while being read (shorter); try again");
			goto out;
		}
		got += (size_t)r;
	}
	/* A file replaced in place while read is not half of two files. */
	if (read(fd, &extra, 1) != 0) {
		log_err("%s %s: changed while being read (longer); try again", key, path);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int
tlsmat_read(const struct config *cfg, struct tlsmat **out)
{
	struct tlsmat *m;
	int rc = 0;

	*out = NULL;
	if (cfg->tls.certificate == NULL || cfg->tls.key == NULL || cfg->tls.client_ca == NULL) {
		log_err("tls: tls.certificate, tls.key and tls.client_ca are required");
		return SB_ECONFIG;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return SB_ENOMEM;
	for (int p = 0; p < TLSMAT_PARTS && rc == 0; p++)
		if (tlsmat_path(cfg, p) != NULL)
			rc = tlsmat_read_part(cfg, m, p);
	if (rc != 0) {
		tlsmat_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* ---- the frame -------------------------------------------------------------- */

void
tlsmat_hdr_enc(const size_t len[TLSMAT_PARTS], uint8_t hdr[TLSMAT_HDR_LEN])
{
	memcpy(hdr, tlsmat_magic, sizeof(tlsmat_magic));
	for (int p = 0; p < TLSMAT_PARTS; p++) {
		uint8_t *b = hdr + 4 + 4 * p;
		uint32_t v = (uint32_t)len[p];

		b[0] = (uint8_t)(v >> 24);
		b[1] = (uint8_t)(v >> 16);
		b[2] = (uint8_t)(v >> 8);
		b[3] = (uint8_t)v;
	}
}

int
tlsmat_hdr_dec(const uint8_t hdr[TLSMAT_HDR_LEN], size_t len[TLSMAT_PARTS])
{
	if (memcmp(hdr, tlsmat_magic, sizeof(tlsmat_magic)) != 0)
		return SB_EINVAL;
	for (int p = 0; p < TLSMAT_PARTS; p++) {
		const uint8_t *b = hdr + 4 + 4 * p;

		len[p] = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
		if (len[p] > TLSMAT_FILE_MAX || (len[p] == 0 && p != TLSMAT_CRL))
			return SB_EINVAL;
	}
	return 0;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return SB_EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
tlsmat_send(int fd, const struct tlsmat *m)
{
	uint8_t hdr[TLSMAT_HDR_LEN];

	tlsmat_hdr_enc(m->len, hdr);
	if (write_all(fd, hdr, sizeof(hdr)) != 0)
		return SB_EIO;
	for (int p = 0; p < TLSMAT_PARTS; p++)
		if (m->len[p] > 0 && write_all(fd, m->part[p], m->len[p]) != 0)
			return SB_EIO;
	return 0;
}

void
tlsmat_rx_reset(struct tlsmat_rx *rx)
{
	tlsmat_free(rx->m);
	memset(rx, 0, sizeof(*rx));
}

/* The header is in: make room for every part. */
static int
tlsmat_rx_begin(struct tlsmat_rx *rx)
{
	size_t len[TLSMAT_PARTS];

	if (tlsmat_hdr_dec(rx->hdr, len) != 0)
		return SB_EINVAL;
	if ((rx->m = calloc(1, sizeof(*rx->m))) == NULL)
		return SB_ENOMEM;
	for (int p = 0; p < TLSMAT_PARTS; p++) {
		if (len[p] > 0 && (rx->m->part[p] = tlsmat_part_alloc(p, len[p])) == NULL)
			return SB_ENOMEM;
		rx->m->len[p] = len[p];
	}
	rx->part = 0;
	rx->got = 0;
	return 0;
}

int
tlsmat_rx_read(struct tlsmat_rx *rx, int fd, struct tlsmat **out)
{
	for (;;) {
		uint8_t *dst;
		size_t want;
		ssize_t r;
		int rc;

		if (rx->m == NULL && rx->hdr_got == TLSMAT_HDR_LEN &&
		    (rc = tlsmat_rx_begin(rx)) != 0)
			return rc;
		while (rx->m != NULL && rx->part < TLSMAT_PARTS &&
		    rx->got == rx->m->len[rx->part]) {
			rx->part++;
			rx->got = 0;
		}
		if (rx->m != NULL && rx->part == TLSMAT_PARTS) {
			*out = rx->m;
			rx->m = NULL;
			memset(rx, 0, sizeof(*rx));
			return 1;
		}
		if (rx->m == NULL) {
			dst = rx->hdr + rx->hdr_got;
			want = TLSMAT_HDR_LEN - rx->hdr_got;
		} else {
			dst = rx->m->part[rx->part] + rx->got;
			want = rx->m->len[rx->part] - rx->got;
		}
		r = read(fd, dst, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0)
			return SB_EIO;
		if (rx->m == NULL)
			rx->hdr_got += (size_t)r;
		else
			rx->got += (size_t)r;
	}
}
