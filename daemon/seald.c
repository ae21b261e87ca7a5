/*
 * seald — the parent. Reads the configuration, opens the sockets, starts the
 * monitor and the net worker and watches them (after OpenSMTPD's smtpd.c and
 * OpenSSH's privilege separation):
 *
 *   parent ──ctl (SCM_RIGHTS)──▶ monitor ◀──typed IPC──▶ net worker ◀── TLS clients
 *                                   ▲
 *                         admin socket (sealadm)
 *
 * A net worker that dies is restarted with a fresh link to the monitor; the
 * monitor dying stops the service (systemd restarts it, and it comes up
 * sealed). The parent holds no seal key, no PIN and no database handle.
 *
 * The parent reads the TLS files (tls.*) and keeps their bytes (the key's in
 * secret memory): a net worker it forks inherits them, since the worker,
 * chrooted and under seccomp, can open nothing. SIGHUP re-reads them, checks
 * them in a sandboxed throwaway child, and only if they build a TLS context
 * keeps them and sends them to the running net worker, which swaps its
 * context without closing anything (net.h). Material that fails the check
 * is logged, naming the file, and dropped: the worker serves on with the old.
 *
 * Signals are blocked and taken with sigwaitinfo() in one loop, so that a
 * SIGHUP, SIGTERM or child exit is never lost between a check and a wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

#include "../lib/caps.h"
#include "../lib/config.h"
#include "../lib/err.h"
#include "../lib/log.h"
#include "monitor/monitor.h"
#include "net/net.h"
#include "net/req.h"
#include "net/tlsmat.h"

#define RELOAD_SEND_TIMEOUT 10	/* s for a net worker to take new TLS material */

/* The running net worker, as the parent sees it. */
struct netw {
	pid_t pid;		/* 0 while none runs */
	int reload;		/* the parent's end of its reload socket, or -1 */
};

/* The signals the parent waits for; blocked from the start, unblocked in children. */
static sigset_t sigs;

/* In a new child: default signal handling, SIGHUP ignored (reloads are the parent's). */
static void
child_signals(void)
{
	sigset_t none;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int
listen_tcp(const struct config *cfg)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char port[8];
	int fd = -1, one = 1, rc;

	snprintf(port, sizeof(port), "%u", cfg->listen.port);
	if ((rc = getaddrinfo(cfg->listen.address, port, &hints, &ai)) != 0) {
		log_err("listen.address %s: %s", cfg->listen.address, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* TCP_NODELAY is inherited by accepted sockets: without it every reply
	 * (headers and body in two TLS records) waits ~40 ms for a delayed ACK. */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		log_err("cannot listen on %s:%s: %s", cfg->listen.address, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* The admin socket: mode 0600, replacing a stale socket but never a file. */
static int
listen_admin(const struct config *cfg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", cfg->admin_socket);
	if (lstat(sa.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("admin_socket %s exists and is not a socket", sa.sun_path);
			return -1;
		}
		unlink(sa.sun_path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0 ||
	    chmod(sa.sun_path, 0600) != 0) {
		log_err("cannot listen on %s: %s", sa.sun_path, strerror(errno));
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	return fd;
}

static int
send_fd(int ctl, int fd)
{
	char byte = 'n', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
		.msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	memset(cbuf, 0, sizeof(cbuf));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(ctl, &mh, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/*
 * Fork a net worker on one end of a new link (the monitor gets the other)
 * and a reload socket (the parent keeps its end in w->reload). tls is the
 * material it starts with. 0 or -1 (errno set).
 */
static int
spawn_net(const struct config *cfg, struct tlsmat *tls, int listen_fd, int ctl, int first_link,
    struct netw *w)
{
	struct timeval tv = { .tv_sec = RELOAD_SEND_TIMEOUT };
	int sv[2], rl[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rl) != 0)
		return -1;
	/* A worker that does not read cannot hold the parent for long. */
	if (setsockopt(rl[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		goto fail_rl;
	if (first_link >= 0) {
		sv[1] = first_link;
		sv[0] = -1;
	} else {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
			goto fail_rl;
		if (send_fd(ctl, sv[0]) != 0) {
			close(sv[0]);
			close(sv[1]);
			goto fail_rl;
		}
		close(sv[0]);
	}
	if ((pid = fork()) == 0) {
		child_signals();
		close(ctl);
		close(rl[0]);
		prctl(PR_SET_NAME, "seald-net", 0, 0, 0);
		log_init("seald-net", LOG_TO_STDERR | LOG_TO_SYSLOG);
		_exit(net_main(cfg, tls, listen_fd, sv[1], rl[1]));
	}
	close(sv[1]);
	close(rl[1]);
	if (pid < 0) {
		close(rl[0]);
		return -1;
	}
	w->pid = pid;
	w->reload = rl[0];
	return 0;
fail_rl:
	close(rl[0]);
	close(rl[1]);
	return -1;
}

/*
 * Check TLS material in a throwaway child that builds the context as a
 * reloading net worker would (in the sandbox). 0 when it builds; -1 when not
 * (the child logged why, naming the file) or the child could not run.
 */
static int
check_tls(const struct config *cfg, const struct tlsmat *tls)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		child_signals();
		prctl(PR_SET_NAME, "seald-check", 0, 0, 0);
		log_init("seald-check", LOG_TO_STDERR | LOG_TO_SYSLOG);
		_exit(net_check_tls(cfg, tls));
	}
	if (pid < 0) {
		log_err("cannot fork to check the TLS material: %s", strerror(errno));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(st))
		log_err("the TLS material check was killed by signal %d", WTERMSIG(st));
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Read the TLS files and check them: the new material in *out, or -1 (logged). */
static int
load_tls(const struct config *cfg, struct tlsmat **out)
{
	struct tlsmat *m = NULL;

	*out = NULL;
	if (tlsmat_read(cfg, &m) != 0 || check_tls(cfg, m) != 0) {
		tlsmat_free(m);
		return -1;
	}
	*out = m;
	return 0;
}

/*
 * SIGHUP: re-read the TLS files; if they are good, keep them (for workers
 * started from now on) and send them to the running worker. If they are not,
 * nothing changes.
 */
static void
reload(const struct config *cfg, struct tlsmat **tls, struct netw *w)
{
	struct tlsmat *m;

	log_info("reload: re-reading the TLS files (tls.*)");
	if (load_tls(cfg, &m) != 0) {
		log_err("reload: refused, nothing changed: the net worker keeps serving with the "
		    "TLS material it has (fix the file named above and send SIGHUP again)");
		return;
	}
	tlsmat_free(*tls);
	*tls = m;
	if (w->pid <= 0) {
		log_info("reload: TLS material checked; the next net worker starts with it");
		return;
	}
	if (tlsmat_send(w->reload, m) != 0) {
		/* It cannot be left with the old material (or half a frame): start anew. */
		log_err("reload: the net worker (pid %d) did not take the TLS material (%s); "
		    "restarting it with the new material", (int)w->pid, strerror(errno));
		kill(w->pid, SIGKILL);
		return;
	}
	log_info("reload: TLS material checked and sent to the net worker (pid %d)", (int)w->pid);
}

static int
check_config(const struct config *cfg)
{
	if (cfg->tls.certificate == NULL || cfg->tls.key == NULL || cfg->tls.client_ca == NULL) {
		log_err("%s: seald needs tls.certificate, tls.key and tls.client_ca", cfg->path);
		return -1;
	}
	if (mkdir(cfg->appliance.state_dir, 0700) != 0 && errno != EEXIST) {
		log_err("cannot create %s: %s", cfg->appliance.state_dir, strerror(errno));
		return -1;
	}
	if (geteuid() == 0 && cfg->net.chroot == NULL) {
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s/netroot", cfg->appliance.state_dir);
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			log_err("cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Start the monitor; on return *ctl and *link are the parent's ends. Its
 * copy of the TLS material is wiped at once: the monitor has no use for it.
 */
static pid_t
spawn_monitor(const struct config *cfg, struct tlsmat *tls, int listen_fd, int admin_fd, int *ctl,
    int *link)
{
	int c[2], l[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, l) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		child_signals();
		tlsmat_free(tls);
		close(listen_fd);
		close(c[0]);
		close(l[1]);
		prctl(PR_SET_NAME, "seald-monitor", 0, 0, 0);
		log_init("seald-monitor", LOG_TO_STDERR | LOG_TO_SYSLOG);
		_exit(monitor_main(cfg, l[0], c[1], admin_fd));
	}
	close(c[1]);
	close(l[0]);
	close(admin_fd);
	*ctl = c[0];
	*link = l[1];
	return pid;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: seald [--config FILE] | --list-routes\n"
	    "Runs in the foreground. SIGHUP re-reads the TLS files; SIGTERM stops.\n"
	    "--list-routes prints every route of the API (METHOD PATTERN) and exits.\n"
	    "See seald(8) and docs/architecture.md.\n");
}

/* The net worker's route table, one "METHOD PATTERN" a line (for the role x
 * endpoint matrix test and docs/policy.md). */
static void
list_routes(void)
{
	size_t n;
	const struct req_route_def *r = req_route_list(&n);

	for (size_t i = 0; i < n; i++)
		printf("%s %s\n", r[i].method == REQ_GET ? "GET" : "POST", r[i].pattern);
}

/* What the parent watches. */
struct sup {
	const struct config *cfg;
	struct tlsmat *tls;	/* the material workers start with */
	struct netw net;
	pid_t mon;
	int listen_fd, ctl;
	time_t last_start;	/* of the net worker */
	int stopping, reload_wanted;
};

/* Take one signal (waiting at most *timeout when not NULL) into s's flags. */
static void
take_signal(struct sup *s, const struct timespec *timeout)
{
	siginfo_t si;
	int sig = timeout ? sigtimedwait(&sigs, &si, timeout) : sigwaitinfo(&sigs, &si);

	if (sig == SIGTERM || sig == SIGINT)
		s->stopping = 1;
	else if (sig == SIGHUP)
		s->reload_wanted = 1;
	/* SIGCHLD: the loop reaps; a timeout or EINTR: nothing. */
}

/* Wait about a second, still answering SIGTERM (a worker restart's pause). */
static void
pause_second(struct sup *s)
{
	const struct timespec one = { .tv_sec = 1 };

	take_signal(s, &one);
}

static void
net_restart(struct sup *s, int st)
{
	log_warn("the net worker exited (%s %d): restarting it",
	    WIFSIGNALED(st) ? "signal" : "status",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	close(s->net.reload);
	s->net.reload = -1;
	s->net.pid = 0;
	if (time(NULL) - s->last_start < 1)
		pause_second(s);	/* a worker that dies at once is not restarted hot */
	/* Until a net worker runs the API is down: keep trying. */
	while (!s->stopping && spawn_net(s->cfg, s->tls, s->listen_fd, s->ctl, -1, &s->net) != 0) {
		log_err("cannot start a net worker: %s; retrying", strerror(errno));
		pause_second(s);
	}
	s->last_start = time(NULL);
}

/* Watch the children until SIGTERM or the monitor's end; the exit status. */
static int
supervise(struct sup *s)
{
	int st;

	for (;;) {
		pid_t pid;

		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			if (pid == s->mon) {
				log_err("the monitor exited (%s %d): stopping; restart comes up sealed",
				    WIFSIGNALED(st) ? "signal" : "status",
				    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
				if (s->net.pid > 0)
					kill(s->net.pid, SIGTERM);
				return 1;
			}
			if (pid == s->net.pid)
				net_restart(s, st);
		}
		if (s->stopping || (pid < 0 && errno == ECHILD)) {
			if (s->net.pid > 0)
				kill(s->net.pid, SIGTERM);
			close(s->ctl);	/* the monitor stops when its control link closes */
			while (waitpid(-1, &st, 0) > 0 || errno == EINTR)
				;
			log_info("stopped");
			return 0;
		}
		if (s->reload_wanted) {
			s->reload_wanted = 0;
			reload(s->cfg, &s->tls, &s->net);
		}
		take_signal(s, NULL);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "list-routes", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	struct sup s = { .net = { 0, -1 } };
	const char *path = NULL;
	struct config *cfg = NULL;
	char err[CONFIG_ERR_MAX];
	int c, admin_fd, link, rc;

	while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("seald %s\n", SB_VERSION); return 0;
		case 'L': list_routes(); return 0;
		default: usage(stderr); return 2;
		}
	}
	log_init("seald", LOG_TO_STDERR | LOG_TO_SYSLOG);
	if (config_load(path, &cfg, err, sizeof(err)) != 0) {
		log_err("%s", err);
		return 1;
	}
	/* From here every child is forked with these blocked, and unblocks them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGCHLD, SIG_DFL);	/* an inherited SIG_IGN would reap children for us */
	signal(SIGPIPE, SIG_IGN);
	/* It will hold the TLS key: no core file, and no reading of its memory
	 * by a process of the same user (the PDF text reader, when seald does
	 * not start as root). Its children inherit this until they exec. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		log_err("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
		return 1;
	}
	if (check_config(cfg) != 0)
		return 1;
	if (load_tls(cfg, &s.tls) != 0) {
		log_err("the TLS material is not usable (see above): not starting");
		return 1;
	}
	s.cfg = cfg;
	if ((s.listen_fd = listen_tcp(cfg)) < 0 || (admin_fd = listen_admin(cfg)) < 0)
		return 1;
	/* Bound: the port is not needed again (a new net worker inherits the
	 * socket). The parent keeps what restarting a net worker takes. */
	if (caps_drop_one(CAP_NET_BIND_SERVICE) != 0) {
		log_err("cannot give up CAP_NET_BIND_SERVICE: %s", strerror(errno));
		return 1;
	}
	if ((s.mon = spawn_monitor(cfg, s.tls, s.listen_fd, admin_fd, &s.ctl, &link)) < 0 ||
	    spawn_net(cfg, s.tls, s.listen_fd, s.ctl, link, &s.net) != 0) {
		log_err("cannot start the processes: %s", strerror(errno));
		return 1;
	}
	s.last_start = time(NULL);
	log_info("listening on %s:%u; admin socket %s", cfg->listen.address, cfg->listen.port,
	    cfg->admin_socket);
	rc = supervise(&s);
	unlink(cfg->admin_socket);
	tlsmat_free(s.tls);
	config_free(cfg);
	return rc;
}
