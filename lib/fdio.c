/*
 * fdio — whole writes on a descriptor, and files replaced whole (fdio.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fdio.h"

int
fd_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = 0;
			return SB_EIO;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int
file_write_new(const char *path, const void *p, size_t n, mode_t mode)
{
	char tmp[PATH_MAX + 16];
	struct stat st;
	int fd, rc = 0, e = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (unlink(tmp) != 0 && errno != ENOENT)
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)) < 0)
		return -1;
	/* The mode asked for, whatever the umask; fchmod only when it took
	 * some away (the monitor's filter allows no fchmod: it asks for 0600,
	 * which no umask narrows). */
	if (fd_write_all(fd, p, n) != 0 || fstat(fd, &st) != 0 ||
	    ((st.st_mode & 07777) != mode && fchmod(fd, mode) != 0) || fdatasync(fd) != 0) {
		e = errno;
		rc = -1;
	}
	if (close(fd) != 0 && rc == 0) {
		e = errno;
		rc = -1;
	}
	if (rc != 0) {
		(void)unlink(tmp);
		errno = e;
	}
	return rc;
}

int
file_put_in_place(const char *path)
{
	char tmp[PATH_MAX + 16], dir[PATH_MAX], *slash;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (rename(tmp, path) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if ((fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fdatasync(fd);	/* the rename, durable */
		close(fd);
	}
	return 0;
}

void
file_drop_new(const char *path)
{
	char tmp[PATH_MAX + 16];

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) < (int)sizeof(tmp))
		(void)unlink(tmp);
}
