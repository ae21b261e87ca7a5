/*
 * sandbox — confine the net worker once it has opened everything it needs.
 *
 * As root: chroot to net.chroot (default state_dir/netroot: a directory
 * owned by root and writable by nobody else, made by the parent) and drop to
 * net.user (never uid 0) with its primary group only. In every mode:
 * PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE 0 (the worker holds the TLS key) and
 * a kill-by-default seccomp allowlist of the system calls a TLS + HTTP event
 * loop needs; opening files and making sockets fail with EACCES instead, so
 * that a library's lazy attempt (syslog reconnecting, a time zone file) is
 * an error, not a crash. No mapping may become executable.
 *
 * The caller must first have done everything that opens a file or a socket
 * or starts a thread: load TLS material, create the event base, call tzset()
 * and json_object_seed().
 *
 * SEALD_SECCOMP=log in the environment logs forbidden calls (kernel audit
 * log, type 1326) instead of killing, and runs without a filter where seccomp
 * is unavailable (valgrind): for finding a missing call only, never in
 * production; it is announced with a warning. Any other value is an error.
 */
#ifndef SB_NET_SANDBOX_H
#define SB_NET_SANDBOX_H

#include "../../lib/config.h"

/*
 * Enter the sandbox. 0, or SB_ECONFIG (unknown net.user, user is root, bad
 * chroot directory, bad SEALD_SECCOMP), SB_EPERM (a privilege drop or prctl
 * failed), SB_EIO (the filter could not be built or loaded); each is logged.
 * After a failure the worker must exit.
 */
int sandbox_enter(const struct config *cfg);

#endif
