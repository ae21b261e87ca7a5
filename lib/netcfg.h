/*
 * netcfg — the appliance's network settings as the sysadmin gives them:
 * checked here (by sealadm, and again by the monitor before it ledgers
 * them), and rendered as the systemd-networkd and systemd-timesyncd files
 * that sealadm writes.
 *
 * An address is "dhcp" or an IPv4/IPv6 address with its prefix length
 * (192.0.2.10/24, 2001:db8::10/64); a gateway, given only with a static
 * address and of its family, is an address; DNS servers are addresses (at
 * most NETCFG_DNS_MAX); NTP servers are addresses or host names (LDH
 * labels, at most NETCFG_NTP_MAX). Nothing else reaches a file: no
 * newline, no space inside a value, no second key.
 */
#ifndef SB_NETCFG_H
#define SB_NETCFG_H

#include <stddef.h>

#define NETCFG_ADDR_MAX 64		/* with its NUL: an IPv6 address and /128 */
#define NETCFG_HOST_MAX 254		/* with its NUL */
#define NETCFG_DNS_MAX 3
#define NETCFG_NTP_MAX 4

struct netcfg {
	char address[NETCFG_ADDR_MAX];	/* "dhcp" or ADDRESS/PREFIX */
	char gateway[NETCFG_ADDR_MAX];	/* "" for none */
	char dns[NETCFG_DNS_MAX][NETCFG_ADDR_MAX];
	unsigned ndns;
	char ntp[NETCFG_NTP_MAX][NETCFG_HOST_MAX];
	unsigned nntp;
};

/* 0, or -1 with one line in why saying which value is wrong and how. */
int netcfg_check(const struct netcfg *n, char *why, size_t len);

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
 * "en* eth*"), and timesyncd's drop-in (NTP=; an empty list leaves the
 * distribution's default servers).
 */
char *netcfg_network_file(const struct netcfg *n, const char *match);
char *netcfg_timesyncd_file(const struct netcfg *n);

/* The settings back from texts netcfg_*_file wrote (either may be NULL);
 * what cannot be read stays empty. */
void netcfg_parse(const char *network, const char *timesyncd, struct netcfg *out);

#endif
