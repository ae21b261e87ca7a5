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
 * sealed). The parent holds no key, no PIN and no database handle.
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

#include "../lib/config.h"
#include "../lib/err.h"
#include "../lib/log.h"
#include "monitor/monitor.h"
#include "net/net.h"

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
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

/* Fork a net worker on one end of a new link; the monitor gets the other. */
static pid_t
spawn_net(const struct config *cfg, int listen_fd, int ctl, int first_link)
{
	int sv[2];
	pid_t pid;

	if (first_link >= 0) {
		sv[1] = first_link;
		sv[0] = -1;
	} else {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
			return -1;
		if (send_fd(ctl, sv[0]) != 0) {
			close(sv[0]);
			close(sv[1]);
			return -1;
		}
		close(sv[0]);
	}
	if ((pid = fork()) == 0) {
		signal(SIGTERM, SIG_DFL);	/* the parent's handler only sets a flag */
		signal(SIGINT, SIG_DFL);
		close(ctl);
		prctl(PR_SET_NAME, "seald-net", 0, 0, 0);
		log_init("seald-net", LOG_TO_STDERR | LOG_TO_SYSLOG);
		_exit(net_main(cfg, listen_fd, sv[1]));
	}
	close(sv[1]);
	return pid;
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

/* Start the monitor; on return *ctl and *link are the parent's ends. */
static pid_t
spawn_monitor(const struct config *cfg, int listen_fd, int admin_fd, int *ctl, int *link)
{
	int c[2], l[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, l) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
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
	fprintf(f, "usage: seald [--config FILE]\n"
	    "Runs in the foreground; see docs/architecture.md.\n");
}

/* Watch the children until a signal or the monitor's end; the exit status. */
static int
supervise(const struct config *cfg, pid_t mon, pid_t net, int listen_fd, int ctl)
{
	time_t last = 0;
	int st;

	for (;;) {
		pid_t pid = waitpid(-1, &st, 0);

		if (pid < 0 && errno == EINTR && !stopping)
			continue;
		if (stopping || pid < 0) {
			if (net > 0)
				kill(net, SIGTERM);
			close(ctl);	/* the monitor stops when its control link closes */
			while (waitpid(-1, &st, 0) > 0 || errno == EINTR)
				;
			log_info("stopped");
			return 0;
		}
		if (pid == mon) {
			log_err("the monitor exited (%s %d): stopping; restart comes up sealed",
			    WIFSIGNALED(st) ? "signal" : "status",
			    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			if (net > 0)
				kill(net, SIGTERM);
			return 1;
		}
		if (pid == net) {
			log_warn("the net worker exited (%s %d): restarting it",
			    WIFSIGNALED(st) ? "signal" : "status",
			    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			if (time(NULL) - last < 1)
				sleep(1);	/* a worker that dies at once is not restarted hot */
			last = time(NULL);
			/* Until a net worker runs the API is down: keep trying. */
			while ((net = spawn_net(cfg, listen_fd, ctl, -1)) < 0 && !stopping) {
				log_err("cannot start a net worker: %s; retrying",
				    strerror(errno));
				sleep(1);
			}
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	const char *path = NULL;
	struct config *cfg = NULL;
	char err[CONFIG_ERR_MAX];
	int c, listen_fd, admin_fd, ctl, link, rc;
	pid_t mon, net;

	while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("seald %s\n", SB_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	log_init("seald", LOG_TO_STDERR | LOG_TO_SYSLOG);
	if (config_load(path, &cfg, err, sizeof(err)) != 0) {
		log_err("%s", err);
		return 1;
	}
	if (check_config(cfg) != 0 || (listen_fd = listen_tcp(cfg)) < 0 ||
	    (admin_fd = listen_admin(cfg)) < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((mon = spawn_monitor(cfg, listen_fd, admin_fd, &ctl, &link)) < 0 ||
	    (net = spawn_net(cfg, listen_fd, ctl, link)) < 0) {
		log_err("cannot start the processes: %s", strerror(errno));
		return 1;
	}
	log_info("listening on %s:%u; admin socket %s", cfg->listen.address, cfg->listen.port,
	    cfg->admin_socket);
	rc = supervise(cfg, mon, net, listen_fd, ctl);
	unlink(cfg->admin_socket);
	config_free(cfg);
	return rc;
}
