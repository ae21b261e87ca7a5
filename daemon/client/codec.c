/*
 * codec — encodings and file chores for sealctl. See codec.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "codec.h"
#include "lib/err.h"

#define READ_CHUNK 65536

int
codec_b64_encode(const uint8_t *p, size_t n, char **out)
{
	size_t olen;
	char *s;

	*out = NULL;
	if (n > (size_t)INT_MAX / 4 * 3 - 3)
		return SB_ELIMIT;
	olen = (n + 2) / 3 * 4;
	if ((s = malloc(olen + 1)) == NULL)
		return SB_ENOMEM;
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	s[olen] = '\0';
	*out = s;
	return 0;
}

static int
b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int
codec_b64_decode(const char *s, size_t slen, size_t max, uint8_t **out, size_t *n)
{
	size_t pad = 0, len, i;
	uint8_t *buf;
	char *again;
	int rc;

	*out = NULL;
	*n = 0;
	if (slen % 4 != 0)
		return SB_EINVAL;
	if (slen > 0 && s[slen - 1] == '=')
		pad = (slen > 1 && s[slen - 2] == '=') ? 2 : 1;
	for (i = 0; i < slen - pad; i++)
		if (!b64_char(s[i]))
			return SB_EINVAL;
	len = slen / 4 * 3 - pad;
	if (len > max || slen > (size_t)INT_MAX)
		return SB_ELIMIT;
	if ((buf = malloc(slen / 4 * 3 + 1)) == NULL)
		return SB_ENOMEM;
	if (slen > 0 && EVP_DecodeBlock(buf, (const unsigned char *)s, (int)slen) < 0) {
		free(buf);
		return SB_EINVAL;
	}
	/* Only one text encodes these bytes: unused bits must be zero. */
	if ((rc = codec_b64_encode(buf, len, &again)) != 0) {
		free(buf);
		return rc;
	}
	rc = memcmp(again, s, slen) == 0 ? 0 : SB_EINVAL;
	free(again);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*out = buf;
	*n = len;
	return 0;
}

void
codec_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
codec_unhex(const char *s, uint8_t *out, size_t want)
{
	if (strlen(s) != 2 * want)
		return SB_EINVAL;
	for (size_t i = 0; i < want; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return SB_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int
ioerr(char *err, size_t errlen, const char *what, const char *path)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return SB_EIO;
}

int
codec_read_file(const char *path, size_t max, uint8_t **out, size_t *n,
    char *err, size_t errlen)
{
	int fd, stdin_ = strcmp(path, "-") == 0;
	size_t len = 0, cap = 0;
	uint8_t *buf = NULL, *nb;
	ssize_t r;

	*out = NULL;
	*n = 0;
	fd = stdin_ ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ioerr(err, errlen, "cannot open", path);
	for (;;) {
		if (cap - len < READ_CHUNK / 2) {
			size_t ncap = cap ? cap * 2 : READ_CHUNK;

			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= len)	/* read max + 1 bytes already */
				break;
			if ((nb = realloc(buf, ncap + 1)) == NULL) {
				free(buf);
				if (!stdin_)
					close(fd);
				return SB_ENOMEM;
			}
			buf = nb;
			cap = ncap;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int rc = ioerr(err, errlen, "cannot read", path);

			free(buf);
			if (!stdin_)
				close(fd);
			return rc;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (!stdin_)
		close(fd);
	if (len > max) {
		free(buf);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s is larger than %zu bytes", path, max);
		return SB_ELIMIT;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		return SB_ENOMEM;
	buf[len] = '\0';
	*out = buf;
	*n = len;
	return 0;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
codec_write_file(const char *path, const void *p, size_t n, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	int fd, saved;

	if (strcmp(path, "-") == 0) {
		if (write_all(STDOUT_FILENO, p, n) != 0)
			return ioerr(err, errlen, "cannot write", "standard output");
		return 0;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return ioerr(err, errlen, "cannot write", path);
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return ioerr(err, errlen, "cannot create a file next to", path);
	{
		mode_t um = umask(0);

		umask(um);
		(void)fchmod(fd, 0644 & ~um);
	}
	if (write_all(fd, p, n) != 0 || fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return ioerr(err, errlen, "cannot write", path);
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return ioerr(err, errlen, "cannot write", path);
	}
	return 0;
}

int
codec_sha256_file(const char *path, uint8_t out[32], char *err, size_t errlen)
{
	int fd, stdin_ = strcmp(path, "-") == 0, rc = 0;
	uint8_t *chunk;
	EVP_MD_CTX *ctx;
	ssize_t r;

	fd = stdin_ ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ioerr(err, errlen, "cannot open", path);
	chunk = malloc(READ_CHUNK);
	ctx = EVP_MD_CTX_new();
	if (chunk == NULL || ctx == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = SB_ENOMEM;
		goto out;
	}
	for (;;) {
		r = read(fd, chunk, READ_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ioerr(err, errlen, "cannot read", path);
			goto out;
		}
		if (r == 0)
			break;
		if (EVP_DigestUpdate(ctx, chunk, (size_t)r) != 1) {
			rc = SB_ENOMEM;
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		rc = SB_ENOMEM;
out:
	EVP_MD_CTX_free(ctx);
	free(chunk);
	if (!stdin_)
		close(fd);
	return rc;
}

char *
codec_safe(char *dst, size_t size, const char *s)
{
	size_t o = 0;

	if (size == 0)
		return dst;
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[5];
		size_t k;

		if (c < 0x20 || c == 0x7f || c == '\\')
			k = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		else {
			tmp[0] = (char)c;
			k = 1;
		}
		if (o + k >= size)
			break;
		memcpy(dst + o, tmp, k);
		o += k;
	}
	dst[o] = '\0';
	return dst;
}

void
codec_print_safe(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}
