/*
 * fdio — whole writes on a descriptor, files replaced whole, and big-endian
 * integers in bytes: the few lines that the IPC codec, the backup format and
 * the programs that write files would otherwise each carry.
 */
#ifndef SB_FDIO_H
#define SB_FDIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* All n bytes to fd (write(2), again after EINTR and short writes): 0, or
 * SB_EIO with errno as write left it (0 when it wrote nothing). */
int fd_write_all(int fd, const void *p, size_t n);

/*
 * A file replaced whole, in two steps so that several can change together:
 * file_write_new writes p to path.new (mode; a leftover path.new, or a link
 * someone put there, is removed first, never written through) and syncs it
 * (fdatasync: the calls the monitor's seccomp filter allows);
 * file_put_in_place renames path.new over path and syncs the directory;
 * file_drop_new removes path.new. 0, or -1 with errno.
 */
int file_write_new(const char *path, const void *p, size_t n, mode_t mode);
int file_put_in_place(const char *path);
void file_drop_new(const char *path);

/* n (1..8) bytes of v, most significant first. */
static inline void
be_put(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t
be_get(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

#endif
