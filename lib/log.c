#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#include "log.h"

static const char *log_ident = "sealbox";
static int log_dest = LOG_TO_STDERR;
static int log_level = LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_init(const char *ident, int dest)
{
	log_ident = ident;
	log_dest = dest;
	if (dest & LOG_TO_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(int prio)
{
	log_level = prio;
}

static const char *
log_prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return "crit";
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

void
log_msg(int prio, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	if (prio > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One line per call: a newline in a message would let input forge lines. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	pthread_mutex_lock(&log_lock);
	if (log_dest & LOG_TO_STDERR)
		fprintf(stderr, "%s: %s: %s\n", log_ident, log_prio_name(prio), line);
	if (log_dest & LOG_TO_SYSLOG)
		syslog(prio, "%s", line);
	pthread_mutex_unlock(&log_lock);
}
