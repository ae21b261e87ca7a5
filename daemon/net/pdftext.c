/*
 * pdftext — the text helper and the net worker's side of it (pdftext.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "../../lib/caps.h"
#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../filter.h"
#include "pdftext.h"
#include "tlsmat.h"

#define HELPER_FD 3

/* What the helper and pdftotext may not do (the rest of what a program
 * linked with poppler needs is too much to list, and changes with it). */
static const char *const helper_deny[] = {
	"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"mount", "umount2", "pivot_root", "chroot", "setns", "unshare", "move_mount",
	"open_tree", "fsopen", "fsmount", "keyctl", "add_key", "request_key", "bpf",
	"perf_event_open", "userfaultfd", "kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff",
	"io_uring_setup", "personality", "acct", "settimeofday", "clock_settime",
	"adjtimex", "clock_adjtime", "sethostname", "setdomainname", "iopl", "ioperm",
	"quotactl", "lookup_dcookie", "name_to_handle_at", "open_by_handle_at",
	NULL
};

/*
 * And what pdftotext alone may not do, on top: change a file or send a
 * signal. Whatever user it runs as, it can then only read, and write to
 * the descriptors it was given.
 */
static const char *const child_deny[] = {
	"kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal", "rt_sigqueueinfo",
	"rt_tgsigqueueinfo", "openat2", "creat", "unlink", "unlinkat", "rename", "renameat",
	"renameat2", "mkdir", "mkdirat", "rmdir", "link", "linkat", "symlink", "symlinkat",
	"chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat", "truncate",
	"mknod", "mknodat", "utime", "utimes", "utimensat", "futimesat", "setxattr",
	"lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
	NULL
};

/* ---- the helper ------------------------------------------------------------ */

/* Opens for writing, creating or truncating, refused. */
static int
deny_write_opens(scmp_filter_ctx f, uint32_t deny)
{
	static const unsigned long bits[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND };
	int rc = 0;

	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		const struct scmp_arg_cmp open_flags = { .arg = 1, .op = SCMP_CMP_MASKED_EQ,
			.datum_a = bits[i], .datum_b = bits[i] };
		const struct scmp_arg_cmp openat_flags = { .arg = 2, .op = SCMP_CMP_MASKED_EQ,
			.datum_a = bits[i], .datum_b = bits[i] };
		int nr = seccomp_syscall_resolve_name("open");

		if (nr != __NR_SCMP_ERROR)
			rc |= seccomp_rule_add(f, deny, nr, 1, open_flags);
		rc |= seccomp_rule_add(f, deny, SCMP_SYS(openat), 1, openat_flags);
	}
	return rc != 0 ? -1 : 0;
}

static int
helper_drop(const struct config *cfg)
{
	const char *user = cfg->net.user != NULL ? cfg->net.user : "nobody";
	struct passwd *pw;
	int kept;

	if (geteuid() == 0) {
		if ((pw = getpwnam(user)) == NULL || pw->pw_uid == 0 || pw->pw_gid == 0) {
			log_err("pdftext: net.user %s: no such user, or root", user);
			return -1;
		}
		if (caps_drop_bounding(&kept) != 0) {
			log_err("pdftext: cannot drop the capability bounding set: %s",
			    strerror(errno));
			return -1;
		}
		if (setgroups(1, &pw->pw_gid) != 0 || setresgid(pw->pw_gid, pw->pw_gid,
		    pw->pw_gid) != 0 || setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0 ||
		    setuid(0) == 0) {
			log_err("pdftext: cannot drop to %s: %s", user, strerror(errno));
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		log_err("pdftext: prctl: %s", strerror(errno));
		return -1;
	}
	return filter_load_deny("pdftext", helper_deny, NULL) == 0 ? 0 : -1;
}

/* pdftotext's own filter, stacked on the helper's. 0 or -1. */
static int
child_filter(void)
{
	return filter_load_deny("pdftext", child_deny, deny_write_opens) == 0 ? 0 : -1;
}

/* The child: pdftotext with pdf as input and out as output, under limits. */
static void __attribute__((noreturn))
helper_exec(const struct config *cfg, pid_t helper, int pdf, int out)
{
	static char *const envp[] = { NULL };
	char *const argv[] = { "pdftotext", "-q", "-tsv", "-enc", "UTF-8", "-cropbox", "-", "-",
	    NULL };
	struct rlimit as = { (rlim_t)cfg->pdf.text_memory_mb << 20,
	    (rlim_t)cfg->pdf.text_memory_mb << 20 };
	struct rlimit cpu = { cfg->pdf.text_seconds, cfg->pdf.text_seconds + 1 };
	struct rlimit fsize = { PDFTEXT_OUT_MAX, PDFTEXT_OUT_MAX };
	struct rlimit zero = { 0, 0 }, nofile = { 64, 64 };
	sigset_t none;
	int null;

	/* Dies with the helper (and was not orphaned before it could say so). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != helper)
		_exit(126);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0 || dup2(pdf, 0) != 0 ||
	    lseek(0, 0, SEEK_SET) != 0 || dup2(out, 1) != 1 || dup2(null, 2) != 2)
		_exit(126);
	close_range(3, ~0U, 0);
	if (setrlimit(RLIMIT_AS, &as) != 0 || setrlimit(RLIMIT_CPU, &cpu) != 0 ||
	    setrlimit(RLIMIT_FSIZE, &fsize) != 0 || setrlimit(RLIMIT_CORE, &zero) != 0 ||
	    setrlimit(RLIMIT_NPROC, &zero) != 0 || setrlimit(RLIMIT_NOFILE, &nofile) != 0 ||
	    child_filter() != 0)
		_exit(126);
	execve(cfg->pdf.pdftotext, argv, envp);
	_exit(127);
}

/* Run pdftotext on pdf; status, detail, and *out (its output) when OK. */
static enum pdftext_status
helper_run(const struct config *cfg, int pdf, int *out, int *detail)
{
	struct timespec deadline, now, left;
	sigset_t chld;
	pid_t pid, self = getpid(), r;
	int st = 0, timed_out = 0;

	*out = -1;
	*detail = 0;
	if (access(cfg->pdf.pdftotext, X_OK) != 0) {
		*detail = errno;
		return PDFTEXT_UNAVAILABLE;
	}
	if ((*out = memfd_create("pdftext-out", MFD_CLOEXEC)) < 0) {
		*detail = errno;
		return PDFTEXT_UNAVAILABLE;
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if ((pid = fork()) == 0)
		helper_exec(cfg, self, pdf, *out);
	if (pid < 0) {
		*detail = errno;
		close(*out);
		*out = -1;
		return PDFTEXT_UNAVAILABLE;
	}
	/* SIGCHLD is blocked: wait for it until the deadline, then kill. */
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += cfg->pdf.text_seconds;
	while ((r = waitpid(pid, &st, WNOHANG)) != pid) {
		if (r < 0 && errno != EINTR) {
			log_err("pdftext: waitpid: %s", strerror(errno));
			_exit(1);	/* cannot happen: the child is ours */
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = deadline.tv_sec - now.tv_sec;
		left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_nsec += 1000000000L;
			left.tv_sec--;
		}
		if (left.tv_sec < 0) {
			timed_out = 1;
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			break;
		}
		(void)sigtimedwait(&chld, NULL, &left);	/* a SIGCHLD, or time's up */
	}
	if (!timed_out && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return PDFTEXT_OK;
	close(*out);
	*out = -1;
	if (timed_out)
		return PDFTEXT_TIMEOUT;
	if (WIFSIGNALED(st)) {
		*detail = WTERMSIG(st);
		return PDFTEXT_KILLED;
	}
	*detail = WEXITSTATUS(st);
	return *detail == 126 || *detail == 127 ? PDFTEXT_NOEXEC : PDFTEXT_FAILED;
}

/* Send (id, status, detail) and fd if >= 0. */
static int
send_with_fd(int sock, const void *p, size_t n, int fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { (void *)(uintptr_t)p, n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t w;

	memset(&cm, 0, sizeof(cm));
	if (fd >= 0) {
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.h), &fd, sizeof(int));
	}
	while ((w = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return w == (ssize_t)n ? 0 : -1;
}

/* Every descriptor of an SCM_RIGHTS message: the first one in *fd when it
 * is the only one; all closed and -1 otherwise. */
static int
take_fds(struct msghdr *mh, int *fd)
{
	struct cmsghdr *c;
	int n = 0, bad = 0, v;

	*fd = -1;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		for (size_t k = 0; CMSG_LEN((k + 1) * sizeof(int)) <= c->cmsg_len; k++) {
			memcpy(&v, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (n++ == 0)
				*fd = v;
			else
				close(v);
		}
	}
	if (n > 1 || bad) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

/* One message: its n bytes (exactly want) and the fd it carries (-1: none).
 * 0, 1 at end of file, 2 when nothing is there (EAGAIN), -1 on error or a
 * malformed message (its descriptors closed). */
static int
recv_with_fd(int sock, void *p, size_t want, int *fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct iovec iov = { p, want };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
	    .msg_controllen = sizeof(cm.b) };
	ssize_t r;

	*fd = -1;
	while ((r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (r == 0)
		return 1;
	if (r < 0)
		return errno == EAGAIN ? 2 : -1;
	if (take_fds(&mh, fd) != 0)
		return -1;
	if ((size_t)r != want || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int __attribute__((noreturn))
helper_main(const struct config *cfg, pid_t worker, int sock)
{
	uint8_t req[4], rep[9];
	sigset_t chld;
	int pdf, out, detail, rc;
	enum pdftext_status st;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	signal(SIGCHLD, SIG_DFL);
	if (chdir("/") != 0 || helper_drop(cfg) != 0)
		_exit(1);
	/* After the drop: a change of uid clears the death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != worker)
		_exit(1);
	for (;;) {
		if ((rc = recv_with_fd(sock, req, sizeof(req), &pdf)) == 1)
			_exit(0);	/* the worker ended */
		if (rc != 0 || pdf < 0) {
			log_err("pdftext: a malformed request from the net worker: stopping");
			_exit(1);
		}
		st = helper_run(cfg, pdf, &out, &detail);
		close(pdf);
		memcpy(rep, req, 4);
		rep[4] = (uint8_t)st;
		put32(rep + 5, (uint32_t)detail);
		rc = send_with_fd(sock, rep, sizeof(rep), out);
		if (out >= 0)
			close(out);
		if (rc != 0) {
			log_err("pdftext: cannot answer the net worker: %s", strerror(errno));
			_exit(1);
		}
	}
}

int
pdftext_spawn(const struct config *cfg, struct tlsmat *tls, int *fd)
{
	int sv[2];
	pid_t pid, worker;

	*fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_err("net: pdftext: socketpair: %s", strerror(errno));
		return -1;
	}
	worker = getpid();
	if ((pid = fork()) == 0) {
		tlsmat_free(tls);	/* the TLS key does not stay here */
		prctl(PR_SET_NAME, "seald-pdftext", 0, 0, 0);
		log_init("seald-pdftext", LOG_TO_STDERR);
		if (dup2(sv[1], HELPER_FD) != HELPER_FD)
			_exit(1);
		close_range(HELPER_FD + 1, ~0U, 0);
		helper_main(cfg, worker, HELPER_FD);
	}
	close(sv[1]);
	if (pid < 0) {
		log_err("net: pdftext: fork: %s", strerror(errno));
		close(sv[0]);
		return -1;
	}
	*fd = sv[0];
	return 0;
}

/* ---- the net worker's side -------------------------------------------------- */

struct pending {
	uint32_t id;
	pdftext_cb cb;
	void *arg;
};

struct pdftext {
	struct event_base *base;
	int fd;
	struct event *rd;		/* replies */
	struct event *gone_ev;		/* answers the waiting with PDFTEXT_GONE */
	int gone;
	uint32_t next_id;
	struct pending pend[PDFTEXT_PENDING_MAX];
	size_t npend;
};

static void
pdftext_fail_all(struct pdftext *t)
{
	const struct pdftext_result r = { .status = PDFTEXT_GONE };

	while (t->npend > 0) {
		struct pending p = t->pend[0];

		memmove(t->pend, t->pend + 1, --t->npend * sizeof(t->pend[0]));
		p.cb(p.arg, &r);
	}
}

/*
 * The helper is gone: the waiting are answered PDFTEXT_GONE, and the
 * worker stops a second later (having answered them), so that the parent
 * starts a new worker with a new helper. The sandboxed worker cannot fork
 * one itself.
 */
static void
pdftext_set_gone(struct pdftext *t, const char *why)
{
	const struct timeval grace = { 1, 0 };

	if (!t->gone) {
		log_err("net: the PDF text helper %s: the net worker stops to be restarted "
		    "with a new one", why);
		event_base_loopexit(t->base, &grace);
	}
	t->gone = 1;
	if (t->rd != NULL)
		event_del(t->rd);
	event_active(t->gone_ev, EV_TIMEOUT, 0);
}

static void
gone_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pdftext_fail_all(arg);
}

/* Read the output memfd whole (at most PDFTEXT_OUT_MAX bytes). */
static int
read_out(int fd, uint8_t **out, size_t *len)
{
	struct stat st;
	size_t got = 0;
	ssize_t r;

	*out = NULL;
	*len = 0;
	if (fstat(fd, &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > PDFTEXT_OUT_MAX)
		return -1;
	if ((*out = malloc((size_t)st.st_size + 1)) == NULL)
		return -1;
	while (got < (size_t)st.st_size) {
		r = pread(fd, *out + got, (size_t)st.st_size - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got != (size_t)st.st_size) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*len = got;
	return 0;
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pdftext *t = arg;
	struct pdftext_result r = { 0 };
	struct pending p;
	uint8_t rep[9], *text = NULL;
	uint32_t id;
	size_t i;
	int ofd, rc;

	(void)what;
	if ((rc = recv_with_fd(fd, rep, sizeof(rep), &ofd)) == 2)
		return;
	if (rc != 0) {
		pdftext_set_gone(t, rc == 1 ? "ended" : "sent a malformed answer");
		return;
	}
	id = get32(rep);
	for (i = 0; i < t->npend && t->pend[i].id != id; i++)
		;
	if (i == t->npend || rep[4] > PDFTEXT_NOEXEC || (rep[4] == PDFTEXT_OK) != (ofd >= 0)) {
		if (ofd >= 0)
			close(ofd);
		pdftext_set_gone(t, "sent a malformed answer");
		return;
	}
	p = t->pend[i];
	memmove(t->pend + i, t->pend + i + 1, (--t->npend - i) * sizeof(t->pend[0]));
	r.status = (enum pdftext_status)rep[4];
	r.detail = (int)get32(rep + 5);
	if (ofd >= 0) {
		if (read_out(ofd, &text, &r.text_len) != 0) {
			r.status = PDFTEXT_UNAVAILABLE;
			r.detail = EIO;
		}
		r.text = text;
		close(ofd);
	}
	p.cb(p.arg, &r);
	free(text);
}

int
pdftext_new(struct event_base *base, int fd, struct pdftext **out)
{
	struct pdftext *t;
	int fl;

	*out = NULL;
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		close(fd);
		return SB_EIO;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		close(fd);
		return SB_ENOMEM;
	}
	t->base = base;
	t->fd = fd;
	t->next_id = 1;
	t->rd = event_new(base, fd, EV_READ | EV_PERSIST, read_cb, t);
	t->gone_ev = event_new(base, -1, 0, gone_cb, t);
	if (t->rd == NULL || t->gone_ev == NULL || event_add(t->rd, NULL) != 0) {
		pdftext_free(t);
		return SB_ENOMEM;
	}
	*out = t;
	return 0;
}

void
pdftext_free(struct pdftext *t)
{
	if (t == NULL)
		return;
	if (t->rd != NULL)
		event_free(t->rd);
	if (t->gone_ev != NULL)
		event_free(t->gone_ev);
	close(t->fd);
	free(t);
}

static int
waiting(const struct pdftext *t, uint32_t id)
{
	for (size_t i = 0; i < t->npend; i++)
		if (t->pend[i].id == id)
			return 1;
	return 0;
}

/* A memfd holding pdf: -1 when it cannot be made (errno). */
static int
pdf_memfd(const uint8_t *pdf, size_t len)
{
	size_t done = 0;
	ssize_t w;
	int fd = memfd_create("pdftext-in", MFD_CLOEXEC);

	while (fd >= 0 && done < len) {
		if ((w = write(fd, pdf + done, len - done)) < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	return fd;
}

int
pdftext_submit(struct pdftext *t, const uint8_t *pdf, size_t len, pdftext_cb cb, void *arg)
{
	uint8_t req[4];
	int fd, rc;

	if (t->npend == PDFTEXT_PENDING_MAX)
		return SB_ELIMIT;
	if (!t->gone) {
		if ((fd = pdf_memfd(pdf, len)) < 0) {
			log_err("net: a memfd for a PDF's text: %s", strerror(errno));
			return errno == ENOMEM ? SB_ENOMEM : SB_EIO;
		}
		while (t->next_id == 0 || waiting(t, t->next_id))
			t->next_id++;
		put32(req, t->next_id);
		rc = send_with_fd(t->fd, req, sizeof(req), fd);
		close(fd);
		if (rc != 0)
			pdftext_set_gone(t, errno == EAGAIN ? "does not keep up" : "cannot be reached");
	}
	t->pend[t->npend].id = t->gone ? 0 : t->next_id++;
	t->pend[t->npend].cb = cb;
	t->pend[t->npend].arg = arg;
	t->npend++;
	if (t->gone)
		event_active(t->gone_ev, EV_TIMEOUT, 0);
	return 0;
}

void
pdftext_why(const struct pdftext_result *r, const struct config *cfg, char *out, size_t outlen)
{
	switch (r->status) {
	case PDFTEXT_OK:
		snprintf(out, outlen, "%s", "");
		break;
	case PDFTEXT_FAILED:
		snprintf(out, outlen, "pdftotext could not read it (exit status %d)", r->detail);
		break;
	case PDFTEXT_KILLED:
		snprintf(out, outlen, "reading it passed a limit (%s)",
		    r->detail == SIGXCPU ? "pdf.text_seconds of CPU time" :
		    r->detail == SIGXFSZ ? "16 MiB of text" :
		    r->detail == SIGKILL ? "killed" : "pdftotext crashed or ran out of memory");
		break;
	case PDFTEXT_TIMEOUT:
		snprintf(out, outlen, "reading it took longer than pdf.text_seconds (%u s)",
		    cfg->pdf.text_seconds);
		break;
	case PDFTEXT_UNAVAILABLE:
		snprintf(out, outlen, "the text reader (pdf.pdftotext) cannot be run: %s",
		    strerror(r->detail));
		break;
	case PDFTEXT_NOEXEC:
		snprintf(out, outlen, "the text reader (pdf.pdftotext) could not be started "
		    "(exit status %d)", r->detail);
		break;
	default:
		snprintf(out, outlen, "%s", "the text reader is not running");
		break;
	}
}
