/* sandbox — chroot, privilege drop, no new privileges, seccomp allowlist. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include "../../lib/caps.h"
#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../filter.h"
#include "sandbox.h"

/*
 * What an epoll loop serving TLS needs (measured with strace on OpenSSL 3.0
 * and libevent 2.1.12; FIELD-NOTES "libseccomp"). Names missing on an
 * architecture are skipped. Calls with argument checks come below.
 */
static const char *const sandbox_allow[] = {
	/* sockets the loop already has */
	"read", "readv", "write", "writev", "close", "shutdown", "accept", "accept4",
	"epoll_wait", "epoll_pwait", "epoll_ctl",
	/* memory (mmap and mprotect: below); mlock for a reloaded key's bytes */
	"brk", "munmap", "mremap", "madvise", "mlock", "munlock",
	/* threads, time, randomness, signals, exit */
	"futex", "getpid", "gettid", "getuid", "geteuid", "getrandom",
	"clock_gettime", "clock_gettime64", "gettimeofday",
	"rt_sigreturn", "rt_sigprocmask", "restart_syscall",
	"rseq", "set_robust_list", "exit", "exit_group",
	/* stdio on stderr */
	"fstat", "newfstatat",
	/* the text helper (pdftext.h): a PDF and its text pass as memfds on
	 * the helper's socket; no socket can be made, so sendmsg reaches only
	 * those the worker was given */
	"memfd_create", "sendmsg", "recvmsg", "pread64",
	NULL
};

/* Lazy opens fail instead of killing: nothing in the chroot to open anyway. */
static const char *const sandbox_deny_eacces[] = {
	"open", "openat", "openat2", "socket", "connect", NULL
};

static int
rule_args(scmp_filter_ctx f)
{
	int rc = 0;

	/* Data mappings only: no page may be made executable. */
	/* Spelled out rather than SCMP_A2() and friends, whose compound
	 * literals leave datum_b to default (clang's -Wextra objects). */
	const struct scmp_arg_cmp no_exec = { .arg = 2, .op = SCMP_CMP_MASKED_EQ,
		.datum_a = PROT_EXEC, .datum_b = 0 };
	const struct scmp_arg_cmp fionread = { .arg = 1, .op = SCMP_CMP_EQ,
		.datum_a = FIONREAD, .datum_b = 0 };
	const struct scmp_arg_cmp no_addr = { .arg = 4, .op = SCMP_CMP_EQ,
		.datum_a = 0, .datum_b = 0 };

	rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, no_exec);
	rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, no_exec);
	/* libevent asks how much a socket has to read; nothing else. */
	rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, fionread);
	/* send(2) on the already connected syslog socket: no address given. */
	rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1, no_addr);
	if (rc != 0)
		log_err("net: seccomp: cannot add the argument rules");
	return rc != 0 ? -1 : 0;
}

static int
sandbox_seccomp(void)
{
	static const struct filter_spec spec = {
		"net", sandbox_allow, sandbox_deny_eacces, rule_args, 0
	};

	return filter_load(&spec);
}

/* The chroot must not be changeable by the user we become (OpenSSH's rule). */
static int
sandbox_check_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		log_err("net: chroot %s: %s", dir, strerror(errno));
		return SB_ECONFIG;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0) {
		log_err("net: chroot %s: must be a directory owned by root, not group- or "
		    "world-writable", dir);
		return SB_ECONFIG;
	}
	return 0;
}

static int
sandbox_drop_root(const struct config *cfg)
{
	char dir[PATH_MAX];
	struct passwd *pw;
	uid_t uid;
	gid_t gid;
	int rc, kept;

	if (cfg->net.chroot != NULL)
		snprintf(dir, sizeof(dir), "%s", cfg->net.chroot);
	else if (snprintf(dir, sizeof(dir), "%s/netroot", cfg->appliance.state_dir) >=
	    (int)sizeof(dir))
		return SB_ECONFIG;
	/* Look the user up before chroot: /etc/passwd is not inside. */
	if ((pw = getpwnam(cfg->net.user ? cfg->net.user : "nobody")) == NULL) {
		log_err("net: net.user %s: no such user", cfg->net.user ? cfg->net.user : "nobody");
		return SB_ECONFIG;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0 || gid == 0) {
		log_err("net: net.user must not be root or in group root");
		return SB_ECONFIG;
	}
	if ((rc = sandbox_check_dir(dir)) != 0)
		return rc;
	/* The bounding set emptied while root (CAP_SETPCAP): the uid change
	 * below empties the others. */
	if (caps_drop_bounding(&kept) != 0) {
		log_err("net: cannot drop the capability bounding set: %s", strerror(errno));
		return SB_EPERM;
	}
	if (chroot(dir) != 0 || chdir("/") != 0) {
		log_err("net: chroot %s: %s", dir, strerror(errno));
		return SB_EPERM;
	}
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0) {
		log_err("net: dropping to uid %u gid %u: %s", (unsigned)uid, (unsigned)gid,
		    strerror(errno));
		return SB_EPERM;
	}
	/* Make sure the drop cannot be undone. */
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != uid || geteuid() != uid) {
		log_err("net: privileges could be regained after dropping them");
		return SB_EPERM;
	}
	return 0;
}

int
sandbox_enter(const struct config *cfg)
{
	int rc;

	if (geteuid() == 0 && (rc = sandbox_drop_root(cfg)) != 0)
		return rc;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		log_err("net: prctl: %s", strerror(errno));
		return SB_EPERM;
	}
	return sandbox_seccomp();
}
