/*
 * console_network — the sysadmin's network settings (menu item 7 and
 * sealadm network show|set): ledgered by the monitor first (ADM_NETWORK),
 * then written here as systemd-networkd and systemd-timesyncd files under
 * console.network_root, and applied with console.network_command.
 *
 * The files are written whole to a temporary name, synced and renamed, so
 * that a power cut leaves the old settings or the new ones, never half.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "../daemon/client/admsock.h"
#include "../daemon/msg.h"
#include "../lib/fdio.h"
#include "../lib/netcfg.h"
#include "sealadm.h"

#define NET_FILE "etc/systemd/network/10-sealbox.network"
#define TIME_FILE "etc/systemd/timesyncd.conf.d/10-sealbox.conf"

static void
net_path(const struct config *cfg, const char *rel, char *out, size_t cap)
{
	const char *root = cfg->console.network_root;
	size_t n = strlen(root);

	snprintf(out, cap, "%s%s%s", root, n > 0 && root[n - 1] == '/' ? "" : "/", rel);
}

/* The whole small file at path (at most 64 KiB), malloc'd; NULL if none. */
static char *
slurp(const char *path)
{
	char *b = malloc(65536);
	size_t n = 0;
	ssize_t r;
	int fd;

	if (b == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		free(b);
		return NULL;
	}
	while (n < 65535 && (r = read(fd, b + n, 65535 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	return b;
}

void
console_network_read(const struct config *cfg, struct netcfg *cur)
{
	char a[PATH_MAX], b[PATH_MAX];
	char *net, *ts;

	net_path(cfg, NET_FILE, a, sizeof(a));
	net_path(cfg, TIME_FILE, b, sizeof(b));
	net = slurp(a);
	ts = slurp(b);
	netcfg_parse(net, ts, cur);
	free(net);
	free(ts);
}

void
console_network_print(const struct netcfg *n)
{
	printf("address:     %s\n", n->address[0] ? n->address : "(not set here)");
	printf("gateway:     %s\n", n->gateway[0] ? n->gateway : "(none)");
	printf("DNS servers:");
	for (unsigned i = 0; i < n->ndns; i++)
		printf(" %s", n->dns[i]);
	printf("%s\nNTP servers:", n->ndns ? "" : " (none)");
	for (unsigned i = 0; i < n->nntp; i++)
		printf(" %s", n->ntp[i]);
	printf("%s\n", n->nntp ? "" : " (the system's defaults)");
}

/* mkdir -p of path's directory, each new one 0755. */
static int
parents(const char *path)
{
	char d[PATH_MAX];

	snprintf(d, sizeof(d), "%s", path);
	for (char *p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(d, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* text to path: a temporary file, synced, renamed over it (mode 0644). */
static int
write_whole(const char *path, const char *text)
{
	char tmp[PATH_MAX + 16];
	int fd, rc = 0;

	if (parents(path) != 0 || snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0)
		return -1;
	if (fd_write_all(fd, text, strlen(text)) != 0)
		rc = -1;
	if (rc == 0 && (fchmod(fd, 0644) != 0 || fsync(fd) != 0))
		rc = -1;
	if (close(fd) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc != 0)
		(void)unlink(tmp);
	return rc;
}

int
console_network_apply(const char *sock, const char *session, const struct config *cfg,
    const struct netcfg *n, int script)
{
	char why[256], a[PATH_MAX], b[PATH_MAX];
	char *net = NULL, *ts = NULL;
	struct ipc_msg m;
	json_t *j = NULL, *e = NULL;
	int st, rc = -1;

	if (netcfg_check(n, why, sizeof(why)) != 0) {
		printf("input refused: %s\n", why);
		return -1;
	}
	if ((net = netcfg_network_file(n, cfg->console.network_match)) == NULL ||
	    (ts = netcfg_timesyncd_file(n)) == NULL || adm_network_enc(&m, 1, n) != 0) {
		printf("out of memory\n");
		goto out;
	}
	st = admsock_call(sock, session, &m, &j);
	ipc_msg_free(&m);
	if (st != 200) {
		if (st > 0 && (e = json_object_get(j, "error")) != NULL && script)
			fprintf(stderr, "sealadm: %s: %s\n",
			    json_string_value(json_object_get(e, "code")),
			    json_string_value(json_object_get(e, "message")));
		else if (st > 0 && e != NULL)
			printf("refused: %s (%s)\n",
			    json_string_value(json_object_get(e, "message")),
			    json_string_value(json_object_get(e, "code")));
		goto out;
	}
	net_path(cfg, NET_FILE, a, sizeof(a));
	net_path(cfg, TIME_FILE, b, sizeof(b));
	if (write_whole(a, net) != 0 || write_whole(b, ts) != 0) {
		printf("ledgered (entry %lld), but the files could not be written: %s\n",
		    (long long)json_integer_value(json_object_get(j, "seq")), strerror(errno));
		goto out;
	}
	printf("network settings ledgered (entry %lld) and written:\n  %s\n  %s\n",
	    (long long)json_integer_value(json_object_get(j, "seq")), a, b);
	printf("running: %s\n", cfg->console.network_command);
	if ((st = run_command(cfg->console.network_command)) != 0)
		printf("the command failed (status %d): the settings apply at the next boot\n", st);
	rc = 0;
out:
	json_decref(j);
	free(net);
	free(ts);
	return rc;
}

int
cmd_network(const struct opts *o, const struct config *cfg, const char *verb)
{
	struct netcfg n;
	char why[256];

	if (cfg == NULL) {
		fprintf(stderr, "sealadm: network needs the configuration (--config)\n");
		return 2;
	}
	if (strcmp(verb, "show") == 0) {
		console_network_read(cfg, &n);
		console_network_print(&n);
		return 0;
	}
	memset(&n, 0, sizeof(n));
	if (strcmp(verb, "set") != 0 || o->address == NULL) {
		fprintf(stderr, "sealadm: network set needs --address dhcp|ADDRESS/PREFIX\n");
		return 2;
	}
	if (fits(n.address, sizeof(n.address), o->address, "--address") != 0 ||
	    (o->gateway != NULL && fits(n.gateway, sizeof(n.gateway), o->gateway,
	    "--gateway") != 0))
		return 2;
	if ((o->dns != NULL && netcfg_split(o->dns, n.dns[0], sizeof(n.dns[0]), NETCFG_DNS_MAX,
	    &n.ndns, "DNS servers", why, sizeof(why)) != 0) ||
	    (o->ntp != NULL && netcfg_split(o->ntp, n.ntp[0], sizeof(n.ntp[0]), NETCFG_NTP_MAX,
	    &n.nntp, "NTP servers", why, sizeof(why)) != 0)) {
		fprintf(stderr, "sealadm: %s\n", why);
		return 2;
	}
	if (netcfg_check(&n, why, sizeof(why)) != 0) {
		fprintf(stderr, "sealadm: bad_network: %s\n", why);
		return 1;
	}
	return console_network_apply(o->socket, o->session, cfg, &n, 1) == 0 ? 0 : 1;
}
