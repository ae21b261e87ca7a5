/*
 * console_network — the sysadmin's network settings (menu item 7 and
 * sealadm network show|set): ledgered by the monitor first (ADM_NETWORK),
 * then written here as systemd-networkd, systemd-timesyncd and rsyslog
 * files under console.network_root, and applied with
 * console.network_command.
 *
 * The files are written whole to a temporary name, synced and renamed, so
 * that a power cut leaves the old settings or the new ones, never half.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
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
#define TIME_FILE "etc/systemd/timesyncd.conf.d/50-sealbox-network.conf"
#define SYSLOG_FILE "etc/rsyslog.d/50-sealbox-forward.conf"

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
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];
	char *net, *ts, *sl;

	net_path(cfg, NET_FILE, a, sizeof(a));
	net_path(cfg, TIME_FILE, b, sizeof(b));
	net_path(cfg, SYSLOG_FILE, c, sizeof(c));
	net = slurp(a);
	ts = slurp(b);
	sl = slurp(c);
	netcfg_parse(net, ts, sl, cur);
	free(net);
	free(ts);
	free(sl);
}

void
console_network_print(const struct netcfg *n)
{
	printf("address:     %s\n", n->address[0] ? n->address :
	    "(not set here: the image's own, DHCP for IPv4)");
	printf("gateway:     %s\n", n->gateway[0] ? n->gateway : "(none)");
	printf("DNS servers:");
	for (unsigned i = 0; i < n->ndns; i++)
		printf(" %s", n->dns[i]);
	printf("%s\nNTP servers:", n->ndns ? "" : " (none)");
	for (unsigned i = 0; i < n->nntp; i++)
		printf(" %s", n->ntp[i]);
	printf("%s\nsyslog:     ", n->nntp ? "" : " (none)");
	for (unsigned i = 0; i < n->nsyslog; i++)
		printf(" %s", n->syslog[i]);
	printf("%s\n", n->nsyslog ? "" : " (none: the journal stays on the appliance)");
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

static void
say(int script, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A refusal: "sealadm: code: ..." on stderr for a script, "input refused:
 * ..." or "refused: ... (code)" at the menu. */
static void
say(int script, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (script)
		fprintf(stderr, "sealadm: %s: %s\n", code, msg);
	else if (strcmp(code, "bad_network") == 0)
		printf("input refused: %s\n", msg);
	else
		printf("refused: %s (%s)\n", msg, code);
}

int
console_network_apply(const char *sock, const char *session, const struct config *cfg,
    const struct netcfg *n, int script)
{
	char why[256], a[PATH_MAX], b[PATH_MAX], c[PATH_MAX], names[256];
	char *net = NULL, *ts = NULL, *sl = NULL;
	const char *code, *text;
	struct ipc_msg m;
	struct netcfg v;
	json_t *j = NULL, *e;
	int st, rc = -1, count;

	if (netcfg_check(n, why, sizeof(why)) != 0) {
		say(script, "bad_network", "%s", why);
		return -1;
	}
	/* The syslog servers in their one form, as shown and ledgered. */
	v = *n;
	(void)netcfg_syslog_canon(&v, why, sizeof(why));
	n = &v;
	if (strcmp(n->address, "dhcp") != 0 &&
	    (count = netcfg_match_count(cfg->console.network_match, "/sys/class/net", names,
	    sizeof(names))) > 1) {
		say(script, "bad_network", "console.network_match \"%s\" names %d interfaces "
		    "here (%s): a static address goes on one; set console.network_match to it",
		    cfg->console.network_match, count, names);
		return -1;
	}
	net_path(cfg, NET_FILE, a, sizeof(a));
	net_path(cfg, TIME_FILE, b, sizeof(b));
	net_path(cfg, SYSLOG_FILE, c, sizeof(c));
	if ((net = netcfg_network_file(n, cfg->console.network_match)) == NULL ||
	    (ts = netcfg_timesyncd_file(n)) == NULL || (sl = netcfg_rsyslog_file(n)) == NULL ||
	    adm_network_enc(&m, 1, n) != 0) {
		say(script, "internal", "out of memory");
		goto out;
	}
	/* Written aside first: a place that cannot take them (a read-only
	 * root) is found before anything is ledgered. */
	if (parents(a) != 0 || parents(b) != 0 || parents(c) != 0 ||
	    file_write_new(a, net, strlen(net), 0644) != 0 ||
	    file_write_new(b, ts, strlen(ts), 0644) != 0 ||
	    file_write_new(c, sl, strlen(sl), 0644) != 0) {
		say(script, "cannot_write", "cannot write under console.network_root %s: %s; "
		    "nothing changed, nothing ledgered", cfg->console.network_root, strerror(errno));
		ipc_msg_free(&m);
		goto drop;
	}
	st = admsock_call(sock, session, &m, &j);
	ipc_msg_free(&m);
	if (st != 200) {
		if (st > 0 && (e = json_object_get(j, "error")) != NULL) {
			code = json_string_value(json_object_get(e, "code"));
			text = json_string_value(json_object_get(e, "message"));
			say(script, code ? code : "?", "%s", text ? text : "");
		}
		goto drop;
	}
	if (file_put_in_place(a) != 0 || file_put_in_place(b) != 0 ||
	    file_put_in_place(c) != 0) {
		say(script, "cannot_write", "ledgered (entry %lld), but the files could not be "
		    "put in place: %s", (long long)json_integer_value(json_object_get(j, "seq")),
		    strerror(errno));
		goto drop;
	}
	printf("network settings ledgered (entry %lld) and written:\n  %s\n  %s\n  %s\n",
	    (long long)json_integer_value(json_object_get(j, "seq")), a, b, c);
	printf("running: %s\n", cfg->console.network_command);
	if ((st = run_command(cfg->console.network_command)) != 0) {
		say(script, "apply_failed", "the command failed (status %d): the settings apply "
		    "at the next boot", st);
		goto out;
	}
	rc = 0;
	goto out;
drop:
	file_drop_new(a);
	file_drop_new(b);
	file_drop_new(c);
out:
	json_decref(j);
	free(net);
	free(ts);
	free(sl);
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
	    &n.nntp, "NTP servers", why, sizeof(why)) != 0) ||
	    (o->syslog != NULL && netcfg_split(o->syslog, n.syslog[0], sizeof(n.syslog[0]),
	    NETCFG_SYSLOG_MAX, &n.nsyslog, "syslog servers", why, sizeof(why)) != 0)) {
		fprintf(stderr, "sealadm: %s\n", why);
		return 2;
	}
	return console_network_apply(o->socket, o->session, cfg, &n, 1) == 0 ? 0 : 1;
}
