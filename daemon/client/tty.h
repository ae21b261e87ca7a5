/*
 * tty — one line of console input, for the programs an administrator runs at
 * the appliance's console (sealadm's menu, sealprov firstboot): plain lines,
 * no cursor keys, no colour; a VT100 serial line, a pipe or expect alike.
 */
#ifndef SB_CLIENT_TTY_H
#define SB_CLIENT_TTY_H

#include <stddef.h>

enum {
	TTY_OK = 0,
	TTY_EOF = -1,		/* end of input: leave */
	TTY_IDLE = -2,		/* no input for the idle time: log out */
	TTY_LONG = -3,		/* longer than the buffer */
	TTY_BAD = -4,		/* not UTF-8 text, or control characters */
};

/*
 * One line from fd into buf (cap bytes with its NUL, without the newline or
 * a trailing CR). hidden: no echo when fd is a terminal. idle: seconds
 * before TTY_IDLE (0: none). The line is wiped from buf unless TTY_OK.
 */
int tty_read_line(int fd, char *buf, size_t cap, int hidden, unsigned idle);

#endif
