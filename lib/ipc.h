/*
 * ipc — framed, typed messages between Sealbox's processes.
 *
 * After OpenSMTPD's mproc: a message is a type, a request id and a body of
 * fields written with ipc_put_* and read back with ipc_get_* in the same
 * order. Readers are strict: a field that runs past the end, a string with a
 * NUL or invalid length, or bytes left over after the last field are errors
 * (SB_EINVAL), never guesses. On the privileged side such an error from our
 * own child means the child is compromised or broken: the caller treats it
 * as fatal for that peer.
 *
 * Frame on the wire (all integers big-endian):
 *
 *   u32 body length | u16 type | u16 flags (0) | u32 request id | body
 *
 * The body is at most IPC_MAX_BODY bytes; a longer frame is refused before it
 * is read. Strings are u32 length + bytes (no NUL, at most the caller's
 * bound); byte strings the same.
 */
#ifndef SB_IPC_H
#define SB_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define IPC_HDR_LEN 12
#define IPC_MAX_BODY (4u * 1024 * 1024)

struct ipc_msg {
	uint16_t type;
	uint32_t id;
	struct buf body;	/* bounded by IPC_MAX_BODY */
	size_t rpos;		/* read position for ipc_get_* */
};

/* A new empty message; free its body with ipc_msg_free. */
void ipc_msg_init(struct ipc_msg *m, uint16_t type, uint32_t id);
/* As ipc_msg_init, but the body is wiped when freed (it will hold a secret). */
void ipc_msg_init_secret(struct ipc_msg *m, uint16_t type, uint32_t id);
void ipc_msg_free(struct ipc_msg *m);

/* Writers: 0, SB_ELIMIT (body would pass IPC_MAX_BODY) or SB_ENOMEM. */
int ipc_put_u8(struct ipc_msg *m, uint8_t v);
int ipc_put_u16(struct ipc_msg *m, uint16_t v);
int ipc_put_u32(struct ipc_msg *m, uint32_t v);
int ipc_put_u64(struct ipc_msg *m, uint64_t v);
int ipc_put_bytes(struct ipc_msg *m, const void *p, size_t n);
/* s may be NULL, written as the empty string. */
int ipc_put_str(struct ipc_msg *m, const char *s);

/* Readers: 0 or SB_EINVAL (short, or over the bound). */
int ipc_get_u8(struct ipc_msg *m, uint8_t *v);
int ipc_get_u16(struct ipc_msg *m, uint16_t *v);
int ipc_get_u32(struct ipc_msg *m, uint32_t *v);
int ipc_get_u64(struct ipc_msg *m, uint64_t *v);
/* Points into the message (valid while it lives); *n at most max. */
int ipc_get_bytes(struct ipc_msg *m, const uint8_t **p, size_t *n, size_t max);
/* Copies into dst (NUL-terminated); SB_EINVAL when longer than dstlen - 1
 * or when it holds a NUL byte. */
int ipc_get_str(struct ipc_msg *m, char *dst, size_t dstlen);
/* Copies exactly n bytes; SB_EINVAL unless the field has exactly n bytes. */
int ipc_get_fixed(struct ipc_msg *m, void *dst, size_t n);
/* SB_EINVAL when bytes are left over: every decoder ends with this. */
int ipc_get_end(const struct ipc_msg *m);

/* The frame for m appended to out. */
int ipc_frame(const struct ipc_msg *m, struct buf *out);
/*
 * Parse one frame from the front of data. Returns 0 and sets *used when a
 * whole frame was there (m is filled: free it with ipc_msg_free); SB_ENOTFOUND
 * when more bytes are needed; SB_EINVAL for a bad header (flags set, body
 * over IPC_MAX_BODY): the stream cannot be trusted after that.
 */
int ipc_parse(const uint8_t *data, size_t len, size_t *used, struct ipc_msg *m);

/* Blocking I/O on a stream socket, for threads that own their descriptor. */
int ipc_send(int fd, const struct ipc_msg *m);
/* SB_ENOTFOUND on a clean end of stream before a frame starts. */
int ipc_recv(int fd, struct ipc_msg *m);

/*
 * The same on a UNIX stream socket, with one descriptor riding on the
 * frame (SCM_RIGHTS on its first bytes): the admin socket's way to hand the
 * daemon a file to write (a backup). ipc_send_fd sends passfd along (-1:
 * none, as ipc_send). ipc_recv_fd sets *passfd to the descriptor received
 * (close-on-exec), or -1 when none came; a frame carrying more than one is
 * refused (SB_EINVAL, all of them closed).
 */
int ipc_send_fd(int sock, const struct ipc_msg *m, int passfd);
int ipc_recv_fd(int sock, struct ipc_msg *m, int *passfd);

#endif
