/*
 * filter — how an allowlist becomes a loaded seccomp filter, for both
 * children: the net worker (net/sandbox.c) and the monitor
 * (monitor/mon_sandbox.c); and a deny list, for the PDF text helper
 * (net/pdftext.c). Each keeps its own lists and argument rules;
 * only the plumbing is here, so the two cannot drift apart in how they
 * treat SEALD_SECCOMP, a missing seccomp or a failed rule.
 *
 * SEALD_SECCOMP=log (debugging only) makes forbidden calls logged instead
 * of fatal; any other non-empty value is refused.
 */
#ifndef SB_FILTER_H
#define SB_FILTER_H

#include <stdint.h>

#include <seccomp.h>

struct filter_spec {
	const char *who;			/* log prefix: "net", "monitor" */
	const char *const *allow;		/* NULL-terminated syscall names */
	const char *const *eacces;		/* answered EACCES instead (may be NULL) */
	int (*args)(scmp_filter_ctx f);		/* rules with argument checks; 0 or -1 */
	int tsync;				/* load on every thread of the process */
};

/* Add one rule per name with action (names unknown on this architecture
 * are skipped). 0, or -1 (logged, with who as prefix). */
int filter_rule_names(scmp_filter_ctx f, const char *who, uint32_t action,
    const char *const *names);

/*
 * Build and load the filter: kill the process on anything not allowed
 * (or log it with SEALD_SECCOMP=log), no new privileges. 0 when loaded,
 * or in log mode when seccomp is missing (valgrind: log mode enforces
 * nothing anyway); SB_ECONFIG for a bad SEALD_SECCOMP; SB_EIO otherwise.
 */
int filter_load(const struct filter_spec *spec);

/*
 * A deny list instead, for a process that execs a program whose calls
 * cannot be listed (the PDF text helper): everything is allowed but the
 * calls named (answered EPERM) and what args adds with the action it is
 * given; SEALD_SECCOMP=log makes them logged instead, as above. No new
 * privileges. 0, SB_ECONFIG or SB_EIO.
 */
int filter_load_deny(const char *who, const char *const *deny,
    int (*args)(scmp_filter_ctx f, uint32_t action));

#endif
