/*
 * log — messages to stderr and/or syslog.
 *
 * One call, one line. Never pass a secret (PIN, share, master secret,
 * passphrase) to these functions: nothing here can tell a secret from text.
 * Messages are truncated at LOG_LINE_MAX bytes.
 */
#ifndef SB_LOG_H
#define SB_LOG_H

#include <syslog.h>

#define LOG_LINE_MAX 1024

enum log_dest {
	LOG_TO_STDERR = 1,
	LOG_TO_SYSLOG = 2,
};

/* ident: program name shown in each line; dest: LOG_TO_* bits. */
void log_init(const char *ident, int dest);
/* Messages with a priority numerically above this are dropped (LOG_INFO default). */
void log_set_level(int prio);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
