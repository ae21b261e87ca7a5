/* lib/ipc: framing and strict typed fields. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/ipc.h"
#include "check.h"

static void
test_round_trip_every_field(void)
{
	struct ipc_msg m, r;
	struct buf wire;
	size_t used, n;
	const uint8_t *p;
	uint8_t u8, fixed[4];
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	char s[16];

	ipc_msg_init(&m, 7, 0xdeadbeef);
	CHECK_RC(ipc_put_u8(&m, 0xab), 0);
	CHECK_RC(ipc_put_u16(&m, 0x1234), 0);
	CHECK_RC(ipc_put_u32(&m, 0x89abcdef), 0);
	CHECK_RC(ipc_put_u64(&m, 0x0123456789abcdefULL), 0);
	CHECK_RC(ipc_put_bytes(&m, "\x00\x01\x02", 3), 0);
	CHECK_RC(ipc_put_str(&m, "seal-1"), 0);
	CHECK_RC(ipc_put_str(&m, NULL), 0);
	CHECK_RC(ipc_put_bytes(&m, "abcd", 4), 0);
	buf_init(&wire, 1 << 20);
	CHECK_RC(ipc_frame(&m, &wire), 0);
	ipc_msg_free(&m);
	CHECK_RC(ipc_parse(wire.data, wire.len, &used, &r), 0);
	CHECK(used == wire.len);
	CHECK(r.type == 7 && r.id == 0xdeadbeef);
	CHECK_RC(ipc_get_u8(&r, &u8), 0);
	CHECK(u8 == 0xab);
	CHECK_RC(ipc_get_u16(&r, &u16), 0);
	CHECK(u16 == 0x1234);
	CHECK_RC(ipc_get_u32(&r, &u32), 0);
	CHECK(u32 == 0x89abcdef);
	CHECK_RC(ipc_get_u64(&r, &u64), 0);
	CHECK(u64 == 0x0123456789abcdefULL);
	CHECK_RC(ipc_get_bytes(&r, &p, &n, 3), 0);
	CHECK(n == 3 && memcmp(p, "\x00\x01\x02", 3) == 0);
	CHECK_RC(ipc_get_str(&r, s, sizeof(s)), 0);
	CHECK_STR(s, "seal-1");
	CHECK_RC(ipc_get_end(&r), SB_EINVAL);	/* fields remain */
	CHECK_RC(ipc_get_str(&r, s, sizeof(s)), 0);
	CHECK_STR(s, "");
	CHECK_RC(ipc_get_fixed(&r, fixed, 4), 0);
	CHECK(memcmp(fixed, "abcd", 4) == 0);
	CHECK_RC(ipc_get_end(&r), 0);
	CHECK_RC(ipc_get_u8(&r, &u8), SB_EINVAL);	/* nothing left */
	ipc_msg_free(&r);
	buf_free(&wire);
}

static void
test_strict_reader_refuses(void)
{
	struct ipc_msg m;
	const uint8_t *p;
	size_t n;
	char s[4];
	uint8_t f[3];

	ipc_msg_init(&m, 1, 1);
	CHECK_RC(ipc_put_str(&m, "toolong"), 0);
	CHECK_RC(ipc_get_str(&m, s, sizeof(s)), SB_EINVAL);	/* over the bound */
	CHECK(m.rpos == 0);					/* unchanged */
	CHECK_RC(ipc_get_bytes(&m, &p, &n, 6), SB_EINVAL);
	CHECK_RC(ipc_get_fixed(&m, f, 3), SB_EINVAL);		/* not exactly 3 */
	ipc_msg_free(&m);

	ipc_msg_init(&m, 1, 1);
	CHECK_RC(ipc_put_bytes(&m, "a\0b", 3), 0);
	CHECK_RC(ipc_get_str(&m, s, sizeof(s)), SB_EINVAL);	/* NUL inside */
	ipc_msg_free(&m);

	ipc_msg_init(&m, 1, 1);
	CHECK_RC(ipc_put_u32(&m, 1000), 0);			/* length beyond the body */
	CHECK_RC(ipc_get_bytes(&m, &p, &n, 2000), SB_EINVAL);
	ipc_msg_free(&m);
}

static void
test_parse_partial_and_bad_headers(void)
{
	struct ipc_msg m, r;
	struct buf wire;
	size_t used;
	uint8_t bad[IPC_HDR_LEN] = { 0xff, 0xff, 0xff, 0xff };

	ipc_msg_init(&m, 2, 3);
	CHECK_RC(ipc_put_str(&m, "hello"), 0);
	buf_init(&wire, 1 << 20);
	CHECK_RC(ipc_frame(&m, &wire), 0);
	CHECK_RC(ipc_frame(&m, &wire), 0);
	ipc_msg_free(&m);
	for (size_t cut = 0; cut < wire.len / 2; cut++)
		CHECK_RC(ipc_parse(wire.data, cut, &used, &r), SB_ENOTFOUND);
	CHECK_RC(ipc_parse(wire.data, wire.len, &used, &r), 0);
	CHECK(used == wire.len / 2);
	ipc_msg_free(&r);
	CHECK_RC(ipc_parse(bad, sizeof(bad), &used, &r), SB_EINVAL);	/* over IPC_MAX_BODY */
	memset(bad, 0, sizeof(bad));
	bad[7] = 1;							/* flags must be 0 */
	CHECK_RC(ipc_parse(bad, sizeof(bad), &used, &r), SB_EINVAL);
	buf_free(&wire);
}

static void
test_body_bound(void)
{
	struct ipc_msg m;
	uint8_t *big = calloc(1, IPC_MAX_BODY);

	CHECK(big != NULL);
	ipc_msg_init(&m, 1, 1);
	CHECK_RC(ipc_put_bytes(&m, big, IPC_MAX_BODY - 4), 0);
	CHECK_RC(ipc_put_u8(&m, 1), SB_ELIMIT);
	CHECK(m.body.len == IPC_MAX_BODY);
	ipc_msg_free(&m);
	ipc_msg_init(&m, 1, 1);
	CHECK_RC(ipc_put_bytes(&m, big, IPC_MAX_BODY), SB_ELIMIT);
	CHECK(m.body.len == 0);					/* all or nothing */
	ipc_msg_free(&m);
	free(big);
}

static void
test_send_recv_over_socketpair(void)
{
	struct ipc_msg m, r;
	int sv[2];
	char s[64];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	ipc_msg_init(&m, 9, 42);
	CHECK_RC(ipc_put_str(&m, "over the wire"), 0);
	CHECK_RC(ipc_send(sv[0], &m), 0);
	ipc_msg_free(&m);
	CHECK_RC(ipc_recv(sv[1], &r), 0);
	CHECK(r.type == 9 && r.id == 42);
	CHECK_RC(ipc_get_str(&r, s, sizeof(s)), 0);
	CHECK_STR(s, "over the wire");
	CHECK_RC(ipc_get_end(&r), 0);
	ipc_msg_free(&r);
	close(sv[0]);
	CHECK_RC(ipc_recv(sv[1], &r), SB_ENOTFOUND);		/* clean end of stream */
	close(sv[1]);
}

/* A descriptor that rides on a frame arrives with it, and only with it. */
static void
test_descriptor_on_a_frame(void)
{
	struct ipc_msg m, r;
	struct stat a, b;
	int sv[2], pipefd[2], got = -2;
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *c;
	struct buf wire;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(pipe(pipefd) == 0);
	ipc_msg_init(&m, 252, 7);
	CHECK_RC(ipc_put_str(&m, "with a file"), 0);
	CHECK_RC(ipc_send_fd(sv[0], &m, pipefd[1]), 0);
	CHECK_RC(ipc_recv_fd(sv[1], &r, &got), 0);
	CHECK(r.type == 252 && r.id == 7 && r.body.len == m.body.len);
	CHECK(got >= 0 && got != pipefd[1]);
	CHECK(fstat(got, &a) == 0 && fstat(pipefd[1], &b) == 0 && a.st_ino == b.st_ino);
	CHECK(write(got, "x", 1) == 1);		/* the same pipe */
	close(got);
	ipc_msg_free(&r);
	/* Without one: -1; two frames in a row stay apart. */
	CHECK_RC(ipc_send_fd(sv[0], &m, -1), 0);
	CHECK_RC(ipc_send_fd(sv[0], &m, pipefd[1]), 0);
	CHECK_RC(ipc_recv_fd(sv[1], &r, &got), 0);
	CHECK(got == -1);
	ipc_msg_free(&r);
	CHECK_RC(ipc_recv_fd(sv[1], &r, &got), 0);
	CHECK(got >= 0);
	close(got);
	ipc_msg_free(&r);
	/* Two descriptors on one frame: refused, both closed. */
	buf_init(&wire, IPC_HDR_LEN + IPC_MAX_BODY);
	CHECK_RC(ipc_frame(&m, &wire), 0);
	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = wire.data;
	iov.iov_len = wire.len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(c), pipefd, sizeof(pipefd));
	CHECK(sendmsg(sv[0], &mh, 0) == (ssize_t)wire.len);
	CHECK_RC(ipc_recv_fd(sv[1], &r, &got), SB_EINVAL);
	CHECK(got == -1);
	buf_free(&wire);
	ipc_msg_free(&m);
	close(pipefd[0]);
	close(pipefd[1]);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	RUN(test_round_trip_every_field, "every field type survives a frame round trip");
	RUN(test_strict_reader_refuses, "readers refuse over-bound, NUL-bearing, short and wrong-size fields without moving");
	RUN(test_parse_partial_and_bad_headers, "a partial frame asks for more; a bad header is refused");
	RUN(test_body_bound, "a body never grows past IPC_MAX_BODY, and a refused field leaves no trace");
	RUN(test_send_recv_over_socketpair, "frames cross a socket; end of stream is reported as such");
	RUN(test_descriptor_on_a_frame, "a descriptor rides on its frame only; two on one frame are refused");
	return check_done();
}
