/*
 * mon_sandbox — confine the monitor once it has started up.
 *
 * The monitor keeps its privileges (it runs as whoever started seald, root on
 * the appliance): it must read and write the LMDB ledger and the SoftHSM
 * token files, and a compromised monitor holds the HSM session anyway. What
 * the filter takes away is everything else a takeover would want: running a
 * program, mapping new code, tracing or signalling other processes, opening
 * network or local sockets, mounting, loading modules, setting the clock.
 *
 * In every mode (root or not), with PR_SET_NO_NEW_PRIVS already set by the
 * caller and every capability given up before the threads started
 * (mon_caps_drop: the TSA reads the clock's sync state with adjtimex, which
 * can also set the clock, and seccomp cannot look inside its argument): the
 * PKCS#11 module's code is loaded for good (hsm_module_pin, so that unseal
 * and every reconnect find it mapped), and a seccomp filter
 * whose default is to kill the process is loaded on every thread at once
 * (SCMP_FLTATR_CTL_TSYNC). The allowlist and why each call is on it are in
 * mon_sandbox.c. Creating sockets and connecting fail with EACCES instead of
 * killing: syslog(3) tries to reconnect by itself after its socket fails.
 *
 * The caller must have done everything that loads code or starts a thread:
 * threads started before are covered (TSYNC); none may be started after,
 * because clone is not allowed.
 *
 * SEALD_SECCOMP=log (as for the net worker) logs forbidden calls (kernel
 * audit log, type 1326) instead of killing, and runs without a filter where
 * seccomp is unavailable (valgrind): for finding a missing call only, never
 * in production; it is announced with a warning. Any other value is an error.
 */
#ifndef SB_MON_SANDBOX_H
#define SB_MON_SANDBOX_H

#include "../../lib/config.h"

/*
 * Give up every capability (effective, permitted, inheritable, ambient and,
 * with CAP_SETPCAP, the bounding set) for good: the monitor needs none (it
 * runs as root for the files root owns), and adjtimex, which its filter
 * allows for reading the clock, would set it with CAP_SYS_TIME. Capabilities
 * are per thread: call it before the monitor starts its threads. 0, or
 * SB_EPERM (logged): the monitor must then exit.
 */
int mon_caps_drop(void);

/*
 * Confine the calling process (all its threads). 0, or SB_ECONFIG (bad
 * SEALD_SECCOMP), SB_EIO (the
 * filter could not be built or loaded); each is logged. After a failure the
 * monitor must exit. A module that cannot be loaded is not a failure here
 * (seald still starts and answers health checks): its reason goes to
 * module_err (len bytes; "" when it was loaded), and unseal must refuse with
 * it rather than try to load the module under the filter, which would kill
 * the monitor at its first executable mapping.
 */
int mon_sandbox_enter(const struct config *cfg, char *module_err, size_t len);

#endif
