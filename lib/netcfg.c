/*
 * netcfg — network settings: checks, the networkd, timesyncd and rsyslog
 * files (netcfg.h).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netcfg.h"

static int
fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * AF_INET or AF_INET6 for a plain unicast address a host can be given or
 * reach (into buf, 16 bytes), else 0: not loopback, unspecified,
 * multicast, IPv4 240/4 and broadcast, nor IPv4-mapped IPv6; no leading
 * zeros, no IPv6 zone (inet_pton refuses both).
 */
static int
family(const char *s, unsigned char buf[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char zero[16];

	if (inet_pton(AF_INET, s, buf) == 1)
		return buf[0] == 0 || buf[0] == 127 || buf[0] >= 224 ? 0 : AF_INET;
	if (inet_pton(AF_INET6, s, buf) != 1 || buf[0] == 0xff ||
	    memcmp(buf, mapped, sizeof(mapped)) == 0 || memcmp(buf, zero, 16) == 0 ||
	    (memcmp(buf, zero, 15) == 0 && buf[15] == 1))
		return 0;
	return AF_INET6;
}

/* ADDRESS/PREFIX: its family (the address into buf, *prefix), else 0. */
static int
cidr_family(const char *s, unsigned char buf[16], unsigned *prefix)
{
	char a[NETCFG_ADDR_MAX], *slash;
	unsigned long p;
	int f;

	if (strlen(s) >= sizeof(a))
		return 0;
	snprintf(a, sizeof(a), "%s", s);
	if ((slash = strchr(a, '/')) == NULL || slash[1] == '\0' || slash[1] == '0' ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1) || strlen(slash + 1) > 3)
		return 0;
	*slash = '\0';
	p = strtoul(slash + 1, NULL, 10);
	if ((f = family(a, buf)) == 0 || p < 1 || p > (f == AF_INET ? 32u : 128u))
		return 0;
	*prefix = (unsigned)p;
	return f;
}

/* The first prefix bits of a and b agree. */
static int
same_net(const unsigned char *a, const unsigned char *b, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	return rest == 0 || ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

int
netcfg_syslog_parse(const char *in, struct netcfg_target *t)
{
	unsigned char buf[16];
	const char *p = in, *port = NULL, *colon;
	size_t hl;
	int bracket = 0;

	memset(t, 0, sizeof(*t));
	if (strncmp(p, "tcp:", 4) == 0 || strncmp(p, "udp:", 4) == 0) {
		t->tcp = p[0] == 't';
		p += 4;
	}
	if (*p == '[') {			/* [IPv6] or [IPv6]:PORT */
		const char *end = strchr(p, ']');

		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -1;
		bracket = 1;
		p++;
		hl = (size_t)(end - p);
		port = end[1] == ':' ? end + 2 : NULL;
	} else if ((colon = strchr(p, ':')) != NULL && colon == strrchr(p, ':')) {
		hl = (size_t)(colon - p);	/* IPv4:PORT (IPv6 has two colons) */
		port = colon + 1;
	} else
		hl = strlen(p);			/* IPv4, or IPv6 without a port */
	if (hl == 0 || hl >= sizeof(t->host))
		return -1;
	memcpy(t->host, p, hl);
	t->host[hl] = '\0';
	switch (family(t->host, buf)) {
	case AF_INET:
		if (bracket)
			return -1;
		break;
	case AF_INET6:
		/* One spelling of an address (lower case, zeros compressed),
		 * so that the same server typed twice is seen as one. */
		if (inet_ntop(AF_INET6, buf, t->host, sizeof(t->host)) == NULL)
			return -1;
		break;
	default:
		return -1;
	}
	t->port = NETCFG_SYSLOG_PORT;
	if (port != NULL) {
		unsigned long v;

		if (port[0] < '1' || port[0] > '9' || strlen(port) > 5 ||
		    strspn(port, "0123456789") != strlen(port) ||
		    (v = strtoul(port, NULL, 10)) > 65535)
			return -1;
		t->port = (unsigned)v;
	}
	return 0;
}

void
netcfg_syslog_text(const struct netcfg_target *t, char *out, size_t cap)
{
	int v6 = strchr(t->host, ':') != NULL;

	snprintf(out, cap, "%s:%s%s%s:%u", t->tcp ? "tcp" : "udp", v6 ? "[" : "", t->host,
	    v6 ? "]" : "", t->port);
}

static const char SYSLOG_FORM[] = "a unicast IPv4 or IPv6 address, with an optional "
    "port and transport: 192.0.2.5 (UDP 514), tcp:192.0.2.5:601, udp:[2001:db8::5]:514";

int
netcfg_syslog_canon(struct netcfg *n, char *why, size_t len)
{
	struct netcfg_target t;

	if (n->nsyslog > NETCFG_SYSLOG_MAX)
		return fail(why, len, "syslog servers: at most %d", NETCFG_SYSLOG_MAX);
	for (unsigned i = 0; i < n->nsyslog; i++) {
		if (netcfg_syslog_parse(n->syslog[i], &t) != 0)
			return fail(why, len, "syslog server %u: %s", i + 1, SYSLOG_FORM);
		netcfg_syslog_text(&t, n->syslog[i], sizeof(n->syslog[i]));
	}
	return 0;
}

int
netcfg_check(const struct netcfg *n, char *why, size_t len)
{
	unsigned char addr[16], gw[16], any[16];
	unsigned prefix = 0;
	int f = 0;

	if (strcmp(n->address, "dhcp") != 0 &&
	    (f = cidr_family(n->address, addr, &prefix)) == 0)
		return fail(why, len, "address: \"dhcp\" or a unicast address with its prefix "
		    "length, such as 192.0.2.10/24 or 2001:db8::10/64 (no leading zeros, no "
		    "loopback, multicast or IPv4-mapped address)");
	if (n->gateway[0] != '\0') {
		if (f == 0)
			return fail(why, len, "gateway: none with dhcp (the DHCP server gives it)");
		if (family(n->gateway, gw) != f)
			return fail(why, len, "gateway: a unicast %s address, as the address is "
			    "(no leading zeros, no %%zone)", f == AF_INET ? "IPv4" : "IPv6");
		if (memcmp(gw, addr, f == AF_INET ? 4 : 16) == 0)
			return fail(why, len, "gateway: another address than the appliance's own");
		if (!same_net(gw, addr, prefix))
			return fail(why, len, "gateway: in the address's network (%s)", n->address);
	}
	if (n->ndns > NETCFG_DNS_MAX)
		return fail(why, len, "DNS servers: at most %d", NETCFG_DNS_MAX);
	for (unsigned i = 0; i < n->ndns; i++)
		if (family(n->dns[i], any) == 0)
			return fail(why, len, "DNS server %u: a unicast IPv4 or IPv6 address", i + 1);
	if (n->nntp > NETCFG_NTP_MAX)
		return fail(why, len, "NTP servers: at most %d", NETCFG_NTP_MAX);
	for (unsigned i = 0; i < n->nntp; i++)
		if (family(n->ntp[i], any) == 0)
			return fail(why, len, "NTP server %u: a unicast IPv4 or IPv6 address (the "
			    "appliance resolves no names: its firewall lets no DNS out)", i + 1);
	if (n->nsyslog > NETCFG_SYSLOG_MAX)
		return fail(why, len, "syslog servers: at most %d", NETCFG_SYSLOG_MAX);
	for (unsigned i = 0; i < n->nsyslog; i++) {
		struct netcfg_target t[2];
		char a[NETCFG_ADDR_MAX], b[NETCFG_ADDR_MAX];

		if (netcfg_syslog_parse(n->syslog[i], &t[0]) != 0)
			return fail(why, len, "syslog server %u: %s", i + 1, SYSLOG_FORM);
		netcfg_syslog_text(&t[0], a, sizeof(a));
		for (unsigned k = 0; k < i; k++) {
			if (netcfg_syslog_parse(n->syslog[k], &t[1]) != 0)
				continue;
			netcfg_syslog_text(&t[1], b, sizeof(b));
			if (strcmp(a, b) == 0)
				return fail(why, len, "syslog server %u: the same as server %u (%s): "
				    "each message would go twice", i + 1, k + 1, a);
		}
	}
	return 0;
}

int
netcfg_match_count(const char *match, const char *sysdir, char *names, size_t len)
{
	char pats[256], *save = NULL, *pat;
	struct dirent *e;
	DIR *d;
	int count = 0;

	if (names != NULL && len > 0)
		names[0] = '\0';
	if ((d = opendir(sysdir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(pats, sizeof(pats), "%s", match);
		for (pat = strtok_r(pats, " ", &save); pat != NULL; pat = strtok_r(NULL, " ", &save))
			if (fnmatch(pat, e->d_name, 0) == 0)
				break;
		if (pat == NULL)
			continue;
		if (names != NULL && strlen(names) + strlen(e->d_name) + 2 < len)
			snprintf(names + strlen(names), len - strlen(names), "%s%s",
			    count ? " " : "", e->d_name);
		count++;
	}
	closedir(d);
	return count;
}

int
netcfg_split(const char *text, char *out, size_t cap, unsigned max, unsigned *count,
    const char *what, char *why, size_t len)
{
	const char *p = text;

	*count = 0;
	for (;;) {
		size_t k;

		p += strspn(p, " ,\t");
		if (*p == '\0')
			return 0;
		k = strcspn(p, " ,\t");
		if (*count >= max)
			return fail(why, len, "%s: at most %u", what, max);
		if (k >= cap)
			return fail(why, len, "%s %u: too long", what, *count + 1);
		memcpy(out + (size_t)*count * cap, p, k);
		out[(size_t)*count * cap + k] = '\0';
		(*count)++;
		p += k;
	}
}

/* A growing text; NULL after a failed allocation. */
struct text {
	char *p;
	size_t len, cap;
};

static void
add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->p == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len) {
		free(t->p);
		t->p = NULL;
		return;
	}
	t->len += (size_t)n;
}

#define HEADER "# Written by sealadm (the sysadmin's Network settings); a change here\n" \
	"# is replaced the next time they are set.\n"

char *
netcfg_network_file(const struct netcfg *n, const char *match)
{
	struct text t = { malloc(4096), 0, 4096 };

	add(&t, HEADER "[Match]\nName=%s\n\n[Network]\n", match);
	/* No router advertisement is taken (anyone on the segment could send
	 * one), and no link-local address but for a static IPv6 one. */
	if (strcmp(n->address, "dhcp") == 0)
		add(&t, "DHCP=ipv4\nLinkLocalAddressing=no\n");
	else if (strchr(n->address, ':') != NULL)
		add(&t, "Address=%s\nLinkLocalAddressing=ipv6\n", n->address);
	else
		add(&t, "Address=%s\nLinkLocalAddressing=no\n", n->address);
	add(&t, "IPv6AcceptRA=no\n");
	if (n->gateway[0] != '\0')
		add(&t, "Gateway=%s\n", n->gateway);
	for (unsigned i = 0; i < n->ndns && i < NETCFG_DNS_MAX; i++)
		add(&t, "DNS=%s\n", n->dns[i]);
	return t.p;
}

char *
netcfg_timesyncd_file(const struct netcfg *n)
{
	struct text t = { malloc(2048), 0, 2048 };

	add(&t, HEADER "[Time]\nNTP=");
	for (unsigned i = 0; i < n->nntp && i < NETCFG_NTP_MAX; i++)
		add(&t, "%s%s", i ? " " : "", n->ntp[i]);
	add(&t, "\n");
	return t.p;
}

char *
netcfg_rsyslog_file(const struct netcfg *n)
{
	struct text t = { malloc(4096), 0, 4096 };

	add(&t, HEADER "# The journal, every facility and severity, forwarded in RFC 5424 format\n"
	    "# to each syslog server; up to 10000 messages wait in memory while one\n"
	    "# is down. network-apply opens the firewall to the targets of these lines.\n");
	for (unsigned i = 0; i < n->nsyslog && i < NETCFG_SYSLOG_MAX; i++) {
		struct netcfg_target g;

		if (netcfg_syslog_parse(n->syslog[i], &g) != 0)
			continue;
		add(&t, "action(type=\"omfwd\" target=\"%s\" port=\"%u\" protocol=\"%s\" "
		    "template=\"RSYSLOG_SyslogProtocol23Format\" queue.type=\"LinkedList\" "
		    "queue.size=\"10000\" action.resumeRetryCount=\"-1\" "
		    "action.resumeInterval=\"10\")\n", g.host, g.port, g.tcp ? "tcp" : "udp");
	}
	return t.p;
}

/* The value of attribute key="value" in line (up to its end), copied. */
static int
attr(const char *line, size_t ll, const char *key, char *val, size_t cap)
{
	char pat[32];
	const char *p, *q;

	snprintf(pat, sizeof(pat), " %s=\"", key);
	if ((p = strstr(line, pat)) == NULL || (size_t)(p - line) >= ll)
		return -1;
	p += strlen(pat);
	if ((q = strchr(p, '"')) == NULL || (size_t)(q - line) >= ll || (size_t)(q - p) >= cap)
		return -1;
	memcpy(val, p, (size_t)(q - p));
	val[q - p] = '\0';
	return 0;
}

static void
parse_rsyslog(const char *text, struct netcfg *out)
{
	static const char act[] = "action(type=\"omfwd\" ";

	for (const char *p = text; p != NULL && *p != '\0' && out->nsyslog < NETCFG_SYSLOG_MAX;) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		char host[64], port[8], proto[8], typed[96];
		struct netcfg_target g;

		if (strncmp(p, act, sizeof(act) - 1) == 0 && attr(p, ll, "target", host,
		    sizeof(host)) == 0 && attr(p, ll, "port", port, sizeof(port)) == 0 &&
		    attr(p, ll, "protocol", proto, sizeof(proto)) == 0 &&
		    (strcmp(proto, "udp") == 0 || strcmp(proto, "tcp") == 0)) {
			snprintf(typed, sizeof(typed), "%s:%s%s%s:%s", proto,
			    strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port);
			if (netcfg_syslog_parse(typed, &g) == 0)
				netcfg_syslog_text(&g, out->syslog[out->nsyslog++],
				    sizeof(out->syslog[0]));
		}
		p = eol ? eol + 1 : NULL;
	}
}

/* The value of each line "key=value" of text, in turn (value copied). */
static const char *
next_value(const char *text, const char *key, const char *from, char *val, size_t cap)
{
	size_t kl = strlen(key);
	const char *p = from ? from : text;

	while (p != NULL && *p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);

		if (ll > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t vl = ll - kl - 1;

			if (vl >= cap)
				vl = cap - 1;
			memcpy(val, p + kl + 1, vl);
			val[vl] = '\0';
			return eol ? eol + 1 : p + ll;
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

void
netcfg_parse(const char *network, const char *timesyncd, const char *rsyslog,
    struct netcfg *out)
{
	char line[1024], why[128];
	const char *p = NULL;

	memset(out, 0, sizeof(*out));
	if (network != NULL) {
		if (next_value(network, "DHCP", NULL, line, sizeof(line)) != NULL &&
		    (strcmp(line, "ipv4") == 0 || strcmp(line, "yes") == 0))
			snprintf(out->address, sizeof(out->address), "dhcp");
		else
			(void)next_value(network, "Address", NULL, out->address,
			    sizeof(out->address));
		(void)next_value(network, "Gateway", NULL, out->gateway, sizeof(out->gateway));
		while (out->ndns < NETCFG_DNS_MAX &&
		    (p = next_value(network, "DNS", p, out->dns[out->ndns],
		    sizeof(out->dns[0]))) != NULL)
			out->ndns++;
	}
	if (timesyncd != NULL && next_value(timesyncd, "NTP", NULL, line, sizeof(line)) != NULL &&
	    netcfg_split(line, out->ntp[0], sizeof(out->ntp[0]), NETCFG_NTP_MAX, &out->nntp,
	    "NTP", why, sizeof(why)) != 0)
		out->nntp = 0;
	if (rsyslog != NULL)
		parse_rsyslog(rsyslog, out);
}
