#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "secret.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_init_secret(struct buf *b, size_t max)
{
	buf_init(b, max);
	b->secret = 1;
}

static void
buf_release(struct buf *b)
{
	if (b->data == NULL)
		return;
	if (b->secret)
		secret_free(&b->data);
	else {
		free(b->data);
		b->data = NULL;
	}
}

static int
buf_grow(struct buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 64;
	uint8_t *d;

	while (cap < need)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	if (cap > b->max)
		cap = b->max;
	d = b->secret ? secret_alloc(cap + 1) : malloc(cap + 1);
	if (d == NULL)
		return SB_ENOMEM;
	if (b->len > 0)
		memcpy(d, b->data, b->len);
	d[b->len] = 0;
	buf_release(b);
	b->data = d;
	b->cap = cap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	int rc;

	if (n > b->max || b->len > b->max - n)
		return SB_ELIMIT;
	if (b->len + n > b->cap || b->data == NULL) {
		if ((rc = buf_grow(b, b->len + n)) != 0)
			return rc;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int
buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[256], *big = NULL;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return SB_EINVAL;
	if ((size_t)n < sizeof(small)) {
		rc = buf_append(b, small, (size_t)n);
		if (b->secret)
			secret_wipe(small, sizeof(small));
		return rc;
	}
	if (b->secret)
		secret_wipe(small, sizeof(small));
	if ((size_t)n > b->max)
		return SB_ELIMIT;
	if ((big = malloc((size_t)n + 1)) == NULL)
		return SB_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = buf_append(b, big, (size_t)n);
	if (b->secret)
		secret_wipe(big, (size_t)n);
	free(big);
	return rc;
}

void
buf_reset(struct buf *b)
{
	if (b->data != NULL) {
		if (b->secret)
			secret_wipe(b->data, b->len);
		b->data[0] = 0;
	}
	b->len = 0;
}

void
buf_free(struct buf *b)
{
	buf_release(b);
	b->len = b->cap = 0;
}
