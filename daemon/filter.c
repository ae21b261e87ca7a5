/* filter — see filter.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/err.h"
#include "../lib/log.h"
#include "filter.h"

int
filter_rule_names(scmp_filter_ctx f, const char *who, uint32_t action,
    const char *const *names)
{
	for (; names != NULL && *names != NULL; names++) {
		int nr = seccomp_syscall_resolve_name(*names);

		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		if (seccomp_rule_add(f, action, nr, 0) != 0) {
			log_err("%s: seccomp: cannot add a rule for %s", who, *names);
			return -1;
		}
	}
	return 0;
}

/* SEALD_SECCOMP: *log set for "log" (said so), 0 for unset; else
 * SB_ECONFIG (logged). */
static int
filter_mode(const char *who, int *log)
{
	const char *mode = getenv("SEALD_SECCOMP");

	*log = 0;
	if (mode != NULL && strcmp(mode, "log") == 0) {
		*log = 1;
		log_warn("%s: SEALD_SECCOMP=log: forbidden system calls are only logged; "
		    "for debugging, never in production", who);
	} else if (mode != NULL && *mode != '\0') {
		log_err("%s: SEALD_SECCOMP=%.16s: the only value is 'log'", who, mode);
		return SB_ECONFIG;
	}
	return 0;
}

int
filter_load_deny(const char *who, const char *const *deny,
    int (*args)(scmp_filter_ctx f, uint32_t action))
{
	uint32_t action = SCMP_ACT_ERRNO(EPERM);
	scmp_filter_ctx f;
	int rc, log;

	if ((rc = filter_mode(who, &log)) != 0)
		return rc;
	if (log)
		action = SCMP_ACT_LOG;
	if ((f = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		log_err("%s: seccomp_init failed", who);
		return SB_EIO;
	}
	rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 1);
	if (rc == 0)
		rc = filter_rule_names(f, who, action, deny);
	if (rc == 0 && args != NULL)
		rc = args(f, action);
	if (rc == 0 && (rc = seccomp_load(f)) != 0)
		log_err("%s: seccomp_load: %s", who, strerror(-rc));
	seccomp_release(f);
	return rc == 0 ? 0 : SB_EIO;
}

int
filter_load(const struct filter_spec *spec)
{
	uint32_t deflt = SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx f;
	int rc, log;

	if ((rc = filter_mode(spec->who, &log)) != 0)
		return rc;
	if (log)
		deflt = SCMP_ACT_LOG;
	if ((f = seccomp_init(deflt)) == NULL) {
		/* Log mode enforces nothing, so a missing seccomp (valgrind) costs nothing. */
		if (deflt == SCMP_ACT_LOG) {
			log_warn("%s: seccomp is not available here; running without a filter",
			    spec->who);
			return 0;
		}
		log_err("%s: seccomp_init failed", spec->who);
		return SB_EIO;
	}
	rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 1);
	if (rc == 0 && spec->tsync)
		rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = filter_rule_names(f, spec->who, SCMP_ACT_ALLOW, spec->allow);
	if (rc == 0)
		rc = filter_rule_names(f, spec->who, SCMP_ACT_ERRNO(EACCES), spec->eacces);
	if (rc == 0 && spec->args != NULL)
		rc = spec->args(f);
	if (rc == 0 && (rc = seccomp_load(f)) != 0)
		log_err("%s: seccomp_load: %s", spec->who, strerror(-rc));
	seccomp_release(f);
	return rc == 0 ? 0 : SB_EIO;
}
