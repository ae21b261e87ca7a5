#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "fdio.h"
#include "ipc.h"
#include "secret.h"

void
ipc_msg_init(struct ipc_msg *m, uint16_t type, uint32_t id)
{
	m->type = type;
	m->id = id;
	m->rpos = 0;
	buf_init(&m->body, IPC_MAX_BODY);
}

void
ipc_msg_init_secret(struct ipc_msg *m, uint16_t type, uint32_t id)
{
	ipc_msg_init(m, type, id);
	m->body.secret = 1;
}

void
ipc_msg_free(struct ipc_msg *m)
{
	buf_free(&m->body);
	m->rpos = 0;
}

static int
ipc_put_int(struct ipc_msg *m, uint64_t v, int n)
{
	uint8_t b[8];

	be_put(b, v, n);
	return buf_append(&m->body, b, (size_t)n);
}

int ipc_put_u8(struct ipc_msg *m, uint8_t v) { return ipc_put_int(m, v, 1); }
int ipc_put_u16(struct ipc_msg *m, uint16_t v) { return ipc_put_int(m, v, 2); }
int ipc_put_u32(struct ipc_msg *m, uint32_t v) { return ipc_put_int(m, v, 4); }
int ipc_put_u64(struct ipc_msg *m, uint64_t v) { return ipc_put_int(m, v, 8); }

int
ipc_put_bytes(struct ipc_msg *m, const void *p, size_t n)
{
	size_t before = m->body.len;
	int rc;

	if (n > IPC_MAX_BODY)
		return SB_ELIMIT;
	if ((rc = ipc_put_u32(m, (uint32_t)n)) != 0)
		return rc;
	if ((rc = buf_append(&m->body, p, n)) != 0)
		m->body.len = before;	/* all or nothing */
	return rc;
}

int
ipc_put_str(struct ipc_msg *m, const char *s)
{
	return ipc_put_bytes(m, s ? s : "", s ? strlen(s) : 0);
}

static int
ipc_take(struct ipc_msg *m, size_t n, const uint8_t **p)
{
	if (n > m->body.len - m->rpos)
		return SB_EINVAL;
	*p = m->body.data + m->rpos;
	m->rpos += n;
	return 0;
}

static int
ipc_get_int(struct ipc_msg *m, uint64_t *v, int n)
{
	const uint8_t *p;

	if (ipc_take(m, (size_t)n, &p) != 0)
		return SB_EINVAL;
	*v = be_get(p, n);
	return 0;
}

int
ipc_get_u8(struct ipc_msg *m, uint8_t *v)
{
	uint64_t x = 0;
	int rc = ipc_get_int(m, &x, 1);

	*v = (uint8_t)x;
	return rc;
}

int
ipc_get_u16(struct ipc_msg *m, uint16_t *v)
{
	uint64_t x = 0;
	int rc = ipc_get_int(m, &x, 2);

	*v = (uint16_t)x;
	return rc;
}

int
ipc_get_u32(struct ipc_msg *m, uint32_t *v)
{
	uint64_t x = 0;
	int rc = ipc_get_int(m, &x, 4);

	*v = (uint32_t)x;
	return rc;
}

int
ipc_get_u64(struct ipc_msg *m, uint64_t *v)
{
	return ipc_get_int(m, v, 8);
}

int
ipc_get_bytes(struct ipc_msg *m, const uint8_t **p, size_t *n, size_t max)
{
	size_t save = m->rpos;
	uint32_t len;

	*p = NULL;
	*n = 0;
	if (ipc_get_u32(m, &len) != 0 || len > max || ipc_take(m, len, p) != 0) {
		m->rpos = save;
		*p = NULL;
		return SB_EINVAL;
	}
	*n = len;
	return 0;
}

int
ipc_get_str(struct ipc_msg *m, char *dst, size_t dstlen)
{
	size_t save = m->rpos, n;
	const uint8_t *p;

	if (dstlen == 0 || ipc_get_bytes(m, &p, &n, dstlen - 1) != 0)
		return SB_EINVAL;
	if (n > 0 && memchr(p, '\0', n) != NULL) {
		m->rpos = save;
		return SB_EINVAL;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

int
ipc_get_fixed(struct ipc_msg *m, void *dst, size_t n)
{
	size_t save = m->rpos, got;
	const uint8_t *p;

	if (ipc_get_bytes(m, &p, &got, n) != 0 || got != n) {
		m->rpos = save;
		return SB_EINVAL;
	}
	memcpy(dst, p, n);
	return 0;
}

int
ipc_get_end(const struct ipc_msg *m)
{
	return m->rpos == m->body.len ? 0 : SB_EINVAL;
}

int
ipc_frame(const struct ipc_msg *m, struct buf *out)
{
	uint8_t h[IPC_HDR_LEN];
	size_t before = out->len;
	int rc;

	be_put(h, m->body.len, 4);
	be_put(h + 4, m->type, 2);
	be_put(h + 6, 0, 2);
	be_put(h + 8, m->id, 4);
	if ((rc = buf_append(out, h, sizeof(h))) != 0)
		return rc;
	if (m->body.len > 0 && (rc = buf_append(out, m->body.data, m->body.len)) != 0)
		out->len = before;
	return rc;
}

int
ipc_parse(const uint8_t *data, size_t len, size_t *used, struct ipc_msg *m)
{
	uint64_t blen;
	int rc;

	*used = 0;
	if (len < IPC_HDR_LEN)
		return SB_ENOTFOUND;
	blen = be_get(data, 4);
	if (blen > IPC_MAX_BODY || be_get(data + 6, 2) != 0)
		return SB_EINVAL;
	if (len - IPC_HDR_LEN < blen)
		return SB_ENOTFOUND;
	ipc_msg_init(m, (uint16_t)be_get(data + 4, 2), (uint32_t)be_get(data + 8, 4));
	if (blen > 0 && (rc = buf_append(&m->body, data + IPC_HDR_LEN, (size_t)blen)) != 0) {
		ipc_msg_free(m);
		return rc;
	}
	*used = IPC_HDR_LEN + (size_t)blen;
	return 0;
}

/* 1 when all n bytes were read, 0 on end of stream before any, <0 otherwise. */
static int
ipc_read_all(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return SB_EIO;
		if (r == 0)
			return got == 0 ? 0 : SB_EIO;
		got += (size_t)r;
	}
	return 1;
}

int
ipc_send(int fd, const struct ipc_msg *m)
{
	struct buf out;
	int rc;

	buf_init(&out, IPC_HDR_LEN + IPC_MAX_BODY);
	out.secret = m->body.secret;
	if ((rc = ipc_frame(m, &out)) == 0)
		rc = fd_write_all(fd, out.data, out.len);
	buf_free(&out);
	return rc;
}

static int ipc_recv_common(int fd, struct ipc_msg *m, int *passfd);

/*
 * The first bytes of a header with recvmsg, keeping a descriptor sent along
 * (*passfd, or -1), then the rest as ipc_read_all. 1, 0 or <0 as that.
 */
static int
ipc_read_head_fd(int sock, uint8_t *h, size_t n, int *passfd)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { h, n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
		.msg_controllen = sizeof(cbuf.buf) };
	struct cmsghdr *c;
	int fds[2], nfd = 0, rc;
	ssize_t r;

	*passfd = -1;
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return SB_EIO;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++, nfd++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nfd < 2)
				fds[nfd] = fd;
			else
				close(fd);
		}
	}
	if (nfd > 1 || (mh.msg_flags & MSG_CTRUNC)) {
		for (int i = 0; i < nfd && i < 2; i++)
			close(fds[i]);
		return SB_EINVAL;
	}
	if (nfd == 1)
		*passfd = fds[0];
	if (r == 0)
		rc = 0;
	else if ((size_t)r == n)
		rc = 1;
	else if ((rc = ipc_read_all(sock, h + r, n - (size_t)r)) == 0)
		rc = SB_EIO;	/* the stream ended inside a header */
	if (rc != 1 && *passfd >= 0) {
		close(*passfd);
		*passfd = -1;
	}
	return rc;
}

int
ipc_send_fd(int sock, const struct ipc_msg *m, int passfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	struct buf out;
	ssize_t w;
	int rc;

	if (passfd < 0)
		return ipc_send(sock, m);
	buf_init(&out, IPC_HDR_LEN + IPC_MAX_BODY);
	out.secret = m->body.secret;
	if ((rc = ipc_frame(m, &out)) != 0) {
		buf_free(&out);
		return rc;
	}
	/* The descriptor rides on the first write; the rest follows plainly. */
	iov.iov_base = out.data;
	iov.iov_len = out.len;
	memset(&cbuf, 0, sizeof(cbuf));
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	do
		w = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w <= 0)
		rc = SB_EIO;
	else if ((size_t)w < out.len)
		rc = fd_write_all(sock, out.data + w, out.len - (size_t)w);
	buf_free(&out);
	return rc;
}

int
ipc_recv_fd(int sock, struct ipc_msg *m, int *passfd)
{
	return ipc_recv_common(sock, m, passfd);
}

int
ipc_recv(int fd, struct ipc_msg *m)
{
	return ipc_recv_common(fd, m, NULL);
}

static int
ipc_recv_common(int fd, struct ipc_msg *m, int *passfd)
{
	uint8_t h[IPC_HDR_LEN], chunk[16384];
	uint64_t blen;
	int rc = 0;

	rc = passfd != NULL ? ipc_read_head_fd(fd, h, sizeof(h), passfd) :
	    ipc_read_all(fd, h, sizeof(h));
	if (rc <= 0)
		return rc == 0 ? SB_ENOTFOUND : rc;
	rc = 0;
	blen = be_get(h, 4);
	if (blen > IPC_MAX_BODY || be_get(h + 6, 2) != 0) {
		rc = SB_EINVAL;
		goto fail;
	}
	/* The body may hold a secret (a share on the admin socket): keep it in
	 * wiped memory, and wipe the bounce buffer. */
	ipc_msg_init_secret(m, (uint16_t)be_get(h + 4, 2), (uint32_t)be_get(h + 8, 4));
	while (m->body.len < blen && rc == 0) {
		size_t want = blen - m->body.len;

		if (want > sizeof(chunk))
			want = sizeof(chunk);
		rc = ipc_read_all(fd, chunk, want);
		rc = rc == 1 ? buf_append(&m->body, chunk, want) : SB_EIO;
	}
	secret_wipe(chunk, sizeof(chunk));
	if (rc != 0)
		ipc_msg_free(m);
fail:
	if (rc != 0 && passfd != NULL && *passfd >= 0) {
		close(*passfd);
		*passfd = -1;
	}
	return rc;
}
