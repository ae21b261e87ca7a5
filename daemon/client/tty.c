/*
 * tty — one line of console input (tty.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "daemon/msg.h"
#include "lib/secret.h"
#include "tty.h"

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
tty_read_line(int fd, char *buf, size_t cap, int hidden, unsigned idle)
{
	long long deadline = mono_ms() + (long long)idle * 1000;
	struct termios old, quiet;
	int restore = 0, rc = TTY_OK, over = 0;
	size_t n = 0;

	if (hidden && isatty(fd) && tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		restore = tcsetattr(fd, TCSANOW, &quiet) == 0;
	}
	fflush(stdout);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = idle ? deadline - mono_ms() : -1;
		char c;
		ssize_t r;
		int pr;

		if (idle && left <= 0) {
			rc = TTY_IDLE;
			break;
		}
		if ((pr = poll(&p, 1, idle ? (int)left : -1)) == 0) {
			rc = TTY_IDLE;
			break;
		}
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0 || (r = read(fd, &c, 1)) == 0 || (r < 0 && errno != EINTR)) {
			rc = TTY_EOF;
			break;
		}
		if (r < 0)
			continue;
		if (c == '\n')
			break;
		if (n + 1 < cap)
			buf[n++] = c;
		else
			over = 1;
	}
	if (restore)
		tcsetattr(fd, TCSANOW, &old);
	if (rc == TTY_OK && n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (rc == TTY_OK && over)
		rc = TTY_LONG;
	else if (rc == TTY_OK && !msg_text_line_ok(buf, n))
		rc = TTY_BAD;
	if (rc != TTY_OK)
		secret_wipe(buf, cap);
	return rc;
}
