/* mon_sandbox — the monitor's seccomp allowlist and what it needs first. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <seccomp.h>

#include "../../hsm/hsm.h"
#include "../../lib/caps.h"
#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../filter.h"
#include "mon_sandbox.h"

/*
 * What the monitor calls once it serves, measured with strace -f over every
 * integration suite (seald, net, sealctl, formats, monitor, faults:
 * signing, unseal, seal creation, a full disk, an HSM that goes away and
 * comes back, under load) on glibc 2.36, LMDB 0.9.24, OpenSSL 3.0, SoftHSM
 * 2.6.1 with its file backend; the few calls on paths those runs do not
 * take are named as such. Names missing on an architecture are skipped.
 * Calls with argument checks are in rule_args. Not here, so they kill:
 * execve/execveat, clone/clone3/fork/vfork (no thread is started after the
 * filter), ptrace, process_vm_*, kill and signals to others (but SIGHUP to
 * the parent), bind/listen, mount, pivot_root, chroot, setuid and friends,
 * capset, prctl, init_module, bpf, perf_event_open, keyctl, chmod/chown,
 * link/symlink, mkdir,
 * io_uring, settimeofday/clock_settime, reboot, ...
 */
static const char *const mon_allow[] = {
	/* The links it already has (net worker, parent, admin connections):
	 * ipc frames, the parent's new-socket message (SCM_RIGHTS), accepting
	 * on the admin socket, closing a misbehaving net worker's link
	 * (shutdown: not taken by the suites). */
	"read", "write", "writev", "close", "recvmsg", "accept4", "shutdown",
	/* LMDB: page writes at an offset (pwrite64, and lseek + writev for
	 * runs of pages), the durable group commit (fdatasync; the meta page
	 * goes through its O_DSYNC descriptor). The map was made at start. */
	"pwrite64", "lseek", "fdatasync",
	/* SoftHSM's file backend, on every operation and again at C_Initialize
	 * after a reconnect: it reads softhsm2.conf, lists the token
	 * directory, reopens "generation" and each object file to see whether
	 * another process changed it, rewrites objects (O_CREAT, ftruncate)
	 * and deletes a destroyed key's .object and .lock (unlink: seal
	 * creation failing after keygen; seen in test_hsm); the realpath of
	 * the module at hsm_open (readlink). Also OpenSSL loading the client
	 * CA at principal add, the custody record at unseal, and glibc's
	 * malloc reading /sys/devices/system/cpu/online for a new arena. */
	"openat", "newfstatat", "getdents64", "ftruncate", "readlink", "unlink",
	/* The CRL (mon_crl.c): the revoked list held against sealprov revoke
	 * (flock), the CRL written beside tls.crl, then renamed over it (rename
	 * on x86-64; renameat or renameat2 where that is missing). */
	"flock", "rename", "renameat", "renameat2",
	/* A backup (mon_backup.c): LMDB's copy (mdb_env_copyfd2) sizes the
	 * database with fstat, which Debian's liblmdb, built against an older
	 * glibc, makes as the fstat system call itself (__fxstat64), not
	 * newfstatat; seen killing the monitor in backup.sh. The copy is read
	 * back with lseek and read, the file flushed with fdatasync. */
	"fstat",
	/* memory (mmap, mprotect, madvise: below); secret memory is mlocked;
	 * realloc of a large block (a 2 MiB entries page) is mremap */
	"brk", "munmap", "mremap", "mlock", "munlock",
	/* threads already running: locks (and LMDB's process-shared, robust
	 * reader-table mutexes), a thread's first calls when TSYNC finds it
	 * still starting, a thread returning as the monitor stops */
	"futex", "rseq", "set_robust_list", "exit", "exit_group",
	/* ids: OpenSSL and SoftHSM ask for the pid constantly; the admin
	 * socket compares a non-root peer's uid with ours; abort(3) signals
	 * its own thread (gettid, then tgkill: below) */
	"getpid", "gettid", "geteuid",
	/* time: the clock (the vDSO; the calls when it falls back), sleeping
	 * (tree-head thread, admin accept back-off), the TSA's sync check:
	 * glibc's adjtimex is clock_adjtime(CLOCK_REALTIME) with modes 0;
	 * setting the clock needs CAP_SYS_TIME, given up (mon_caps_drop) */
	"clock_gettime", "clock_gettime64", "gettimeofday", "clock_nanosleep",
	"clock_adjtime",
	/* OpenSSL's and SoftHSM's random generators */
	"getrandom",
	/* signals: none is caught. A new thread unblocks its mask; a call
	 * interrupted by a stop (SIGSTOP, a debugger) is restarted. */
	"rt_sigprocmask", "restart_syscall",
	NULL
};

/*
 * syslog(3) reopens its socket when a send fails (no /dev/log, syslogd
 * restarted); a new socket could reach any local daemon, so it is refused
 * and logging goes on to stderr only.
 */
static const char *const mon_deny_eacces[] = {
	"socket", "connect", NULL
};

/* One rule "allow nr when argument arg == value". */
static int
allow_eq(scmp_filter_ctx f, int nr, unsigned arg, uint64_t value)
{
	/* Spelled out rather than SCMP_A1() and friends, whose compound
	 * literals leave datum_b to default (clang's -Wextra objects). */
	const struct scmp_arg_cmp c = { .arg = arg, .op = SCMP_CMP_EQ, .datum_a = value,
		.datum_b = 0 };

	return seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 1, c);
}

static int
rule_args(scmp_filter_ctx f)
{
	static const int fcntl_cmds[] = { F_GETFL, F_GETLK, F_SETLK, F_SETLKW };
	static const int advice[] = { MADV_DONTNEED, MADV_FREE, MADV_DONTDUMP };
	const struct scmp_arg_cmp no_exec = { .arg = 2, .op = SCMP_CMP_MASKED_EQ,
		.datum_a = PROT_EXEC, .datum_b = 0 };
	const struct scmp_arg_cmp sol_socket = { .arg = 1, .op = SCMP_CMP_EQ,
		.datum_a = SOL_SOCKET, .datum_b = 0 };
	const struct scmp_arg_cmp peercred = { .arg = 2, .op = SCMP_CMP_EQ,
		.datum_a = SO_PEERCRED, .datum_b = 0 };
	const struct scmp_arg_cmp rcvtimeo = { .arg = 2, .op = SCMP_CMP_EQ,
		.datum_a = SO_RCVTIMEO, .datum_b = 0 };
	const struct scmp_arg_cmp parent = { .arg = 0, .op = SCMP_CMP_EQ,
		.datum_a = (uint64_t)getppid(), .datum_b = 0 };
	const struct scmp_arg_cmp sighup = { .arg = 1, .op = SCMP_CMP_EQ,
		.datum_a = SIGHUP, .datum_b = 0 };
	int rc = 0;

	/* Data mappings only: no page may be made executable. The module's
	 * code was mapped before (hsm_module_pin). */
	rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, no_exec);
	rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, no_exec);
	/* malloc giving memory back; secret memory kept out of core dumps */
	for (size_t i = 0; i < sizeof(advice) / sizeof(advice[0]); i++)
		rc |= allow_eq(f, SCMP_SYS(madvise), 2, (uint64_t)advice[i]);
	/* SoftHSM locks each file it reads or writes (F_SETLK(W)) and asks
	 * for its flags; LMDB checks a dead reader's lock (F_GETLK). */
	for (size_t i = 0; i < sizeof(fcntl_cmds) / sizeof(fcntl_cmds[0]); i++)
		rc |= allow_eq(f, SCMP_SYS(fcntl), 1, (uint64_t)fcntl_cmds[i]);
	/* The admin socket: the peer's credentials and a receive timeout. */
	rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt), 2, sol_socket, peercred);
	rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2, sol_socket, rcvtimeo);
	/* send(2) on syslog's already connected socket: no address given. */
	rc |= allow_eq(f, SCMP_SYS(sendto), 4, 0);
	/* abort(3) signals this process itself, so a crash stays a SIGABRT. */
	rc |= allow_eq(f, SCMP_SYS(tgkill), 0, (uint64_t)getpid());
	/* A fresh CRL written (mon_crl.c): SIGHUP to the parent, which re-reads
	 * the TLS files. No other signal, no other process. */
	rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(kill), 2, parent, sighup);
	if (rc != 0)
		log_err("monitor: seccomp: cannot add the argument rules");
	return rc != 0 ? -1 : 0;
}

int
mon_caps_drop(void)
{
	int kept;

	if (caps_drop_all(&kept) != 0) {
		log_err("monitor: cannot give up its capabilities: %s", strerror(errno));
		return SB_EPERM;
	}
	if (kept && geteuid() == 0)
		log_info("monitor: no capability left, but the bounding set stays as it was "
		    "(no CAP_SETPCAP to empty it; no_new_privs keeps an exec from using it)");
	return 0;
}

int
mon_sandbox_enter(const struct config *cfg, char *module_err, size_t len)
{
	/* Every thread at once: the workers, reader, admin, tree-head and the
	 * ledger's committer all exist by now. */
	static const struct filter_spec spec = {
		"monitor", mon_allow, mon_deny_eacces, rule_args, 1
	};

	module_err[0] = '\0';
	if (hsm_module_pin(cfg->hsm.module) != 0) {
		snprintf(module_err, len, "%s", hsm_error(NULL));
		log_err("monitor: %s; unseal is refused until seald is restarted with a "
		    "loadable module", module_err);
	}
	return filter_load(&spec);
}
