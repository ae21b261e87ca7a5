/*
 * netcfg — the appliance's network settings as the sysadmin gives them:
 * checked here (by sealadm, and again by the monitor before it ledgers
 * them), and rendered as the systemd-networkd and systemd-timesyncd files
 * that sealadm writes.
 *
 * An address is "dhcp" or a unicast IPv4/IPv6 address with its prefix
 * length (192.0.2.10/24, 2001:db8::10/64); a gateway, given only with a
 * static address, is another address of its family in its network; DNS
 * servers (at most NETCFG_DNS_MAX) and NTP servers (at most
 * NETCFG_NTP_MAX) are addresses: the appliance resolves no names (its
 * firewall lets no DNS out). "Unicast" leaves out loopback, unspecified,
 * multicast, IPv4 240/4 and IPv4-mapped IPv6; inet_pton leaves out leading
 * zeros and zone ids. Nothing else reaches a file: no newline, no space
 * inside a value, no second key.
 *
 * A syslog target (at most NETCFG_SYSLOG_MAX) is an address, with an
 * optional port and transport: "192.0.2.5" (UDP 514), "tcp:192.0.2.5:601",
 * "udp:[2001:db8::5]:514", "2001:db8::5". rsyslog on the image forwards the
 * journal to each (RFC 5424 format); the firewall lets out exactly these.
 */
#ifndef SB_NETCFG_H
#define SB_NETCFG_H

#include <stddef.h>

#define NETCFG_ADDR_MAX 64		/* with its NUL: an IPv6 address and /128 */
#define NETCFG_HOST_MAX 254		/* with its NUL */
#define NETCFG_DNS_MAX 3
#define NETCFG_NTP_MAX 4
#define NETCFG_SYSLOG_MAX 2
#define NETCFG_SYSLOG_PORT 514		/* the default port, UDP (RFC 5426) or TCP */

struct netcfg {
	char address[NETCFG_ADDR_MAX];	/* "dhcp" or ADDRESS/PREFIX */
	char gateway[NETCFG_ADDR_MAX];	/* "" for none */
	char dns[NETCFG_DNS_MAX][NETCFG_ADDR_MAX];
	unsigned ndns;
	char ntp[NETCFG_NTP_MAX][NETCFG_HOST_MAX];
	unsigned nntp;
	char syslog[NETCFG_SYSLOG_MAX][NETCFG_ADDR_MAX];	/* as typed, or canonical */
	unsigned nsyslog;
};

/* A syslog target, parsed. */
struct netcfg_target {
	int tcp;			/* 0: UDP */
	char host[46];			/* the address, without brackets */
	unsigned port;
};

/* 0 and *t for a syslog target as typed (see above), else -1. */
int netcfg_syslog_parse(const char *in, struct netcfg_target *t);
/* Its canonical text: "udp:192.0.2.5:514", "tcp:[2001:db8::5]:601". */
void netcfg_syslog_text(const struct netcfg_target *t, char *out, size_t cap);
/* Every target of n rewritten in its canonical form; -1 (why) when one is
 * not a target. */
int netcfg_syslog_canon(struct netcfg *n, char *why, size_t len);

/* 0, or -1 with one line in why saying which value is wrong and how. */
int netcfg_check(const struct netcfg *n, char *why, size_t len);

/*
 * How many interfaces in sysdir (/sys/class/net) the space-separated globs
 * of match name, their names into names (space-separated; may be NULL);
 * -1 when sysdir cannot be listed. A static address must not go onto two
 * interfaces at once.
 */
int netcfg_match_count(const char *match, const char *sysdir, char *names, size_t len);

/*
 * Splits a list typed at the console ("a b", "a,b", "a, b") into out[max];
 * *count the number of items. -1 (why) for more than max items or an item
 * that does not fit cap bytes.
 */
int netcfg_split(const char *text, char *out, size_t cap, unsigned max, unsigned *count,
    const char *what, char *why, size_t len);

/*
 * The files' contents, malloc'd (NULL when out of memory): the .network
 * file for the interfaces matching match (networkd's Name= globs, e.g.
 * "en* eth*"; DHCP for IPv4 only, no router advertisement taken, no
 * link-local address but for a static IPv6 one), and timesyncd's drop-in
 * (NTP=; an empty list resets the servers named before it: timesyncd then
 * uses only what DHCP hands out, or fallback servers if any are set).
 */
char *netcfg_network_file(const struct netcfg *n, const char *match);
char *netcfg_timesyncd_file(const struct netcfg *n);
/*
 * rsyslog's forwarding rules: one omfwd action a target, RFC 5424 format,
 * an in-memory queue that keeps up to 10000 messages while a target is
 * down and retries for ever. No target: a file with comments only.
 * network-apply reads the targets back from these lines to open the
 * firewall to them, so their form is fixed here.
 */
char *netcfg_rsyslog_file(const struct netcfg *n);

/* The settings back from texts netcfg_*_file wrote (any may be NULL);
 * what cannot be read stays empty. */
void netcfg_parse(const char *network, const char *timesyncd, const char *rsyslog,
    struct netcfg *out);

#endif
