/* lib/: error texts, bounded buffers, secret memory. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/secret.h"
#include "check.h"

static void
test_strerror_every_code(void)
{
	for (int e = 0; e >= -40; e--) {
		const char *s = sb_strerror(e);
		CHECK(s != NULL && s[0] != '\0');
	}
	CHECK_STR(sb_strerror(SB_ESHARE_CHECKSUM), "share mistyped: checksum does not match");
	CHECK_STR(sb_strerror(12345), "unknown error");
}

static void
test_buf_refuses_past_max(void)
{
	struct buf b;

	buf_init(&b, 10);
	CHECK_RC(buf_append(&b, "0123456789", 10), 0);
	CHECK_RC(buf_append(&b, "x", 1), SB_ELIMIT);
	CHECK(b.len == 10);
	CHECK_STR((char *)b.data, "0123456789");
	buf_reset(&b);
	CHECK(b.len == 0);
	CHECK_RC(buf_printf(&b, "%d-%s", 42, "ab"), 0);
	CHECK_STR((char *)b.data, "42-ab");
	CHECK_RC(buf_printf(&b, "%300s", "x"), SB_ELIMIT);
	CHECK(b.len == 5);
	buf_free(&b);
	CHECK(b.data == NULL);
}

static void
test_buf_grows_to_exact_max(void)
{
	struct buf b;
	char chunk[100];

	memset(chunk, 'a', sizeof(chunk));
	buf_init_secret(&b, 1000);
	for (int i = 0; i < 10; i++)
		CHECK_RC(buf_append(&b, chunk, sizeof(chunk)), 0);
	CHECK(b.len == 1000);
	CHECK_RC(buf_append(&b, chunk, 1), SB_ELIMIT);
	CHECK_RC(buf_append(&b, chunk, SIZE_MAX), SB_ELIMIT);
	buf_free(&b);
}

static void
test_secret_alloc_zeroed_and_freed(void)
{
	unsigned char *p = secret_alloc(100);
	char *s;

	CHECK(p != NULL);
	for (int i = 0; i < 100; i++)
		CHECK(p[i] == 0);
	memset(p, 0xAA, 100);
	secret_free(&p);
	CHECK(p == NULL);
	secret_free(&p);	/* NULL is accepted */
	CHECK(secret_alloc(0) == NULL);
	s = secret_strdup("1234");
	CHECK_STR(s, "1234");
	secret_free(&s);
}

int
main(void)
{
	RUN(test_strerror_every_code, "every error code has a text");
	RUN(test_buf_refuses_past_max, "a bounded buffer refuses to grow past its max and stays unchanged");
	RUN(test_buf_grows_to_exact_max, "a bounded buffer fills to exactly its max");
	RUN(test_secret_alloc_zeroed_and_freed, "secret memory starts zeroed and free clears the pointer");
	return check_done();
}
