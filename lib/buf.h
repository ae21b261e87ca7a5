/*
 * buf — growable byte buffers with a hard maximum set at creation.
 *
 * After curl's dynbuf: a buffer never grows past its max; an append that
 * would is refused with SB_ELIMIT and leaves the buffer as it was. The data
 * is always followed by a NUL byte (not counted in len), so text can be used
 * as a C string. A buffer made with buf_new_secret() wipes every byte it has
 * held, on growth and on free.
 */
#ifndef SB_BUF_H
#define SB_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;	/* NULL until the first append */
	size_t len;	/* bytes in use */
	size_t cap;	/* bytes allocated (excluding the NUL) */
	size_t max;	/* never more than this many bytes */
	int secret;
};

void buf_init(struct buf *b, size_t max);
void buf_init_secret(struct buf *b, size_t max);
/* Append n bytes; 0, SB_ELIMIT (over max) or SB_ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forget the contents (wiped if secret) but keep the allocation. */
void buf_reset(struct buf *b);
/* Release the memory (wiped if secret); the buffer can be reused after buf_init. */
void buf_free(struct buf *b);

#endif
