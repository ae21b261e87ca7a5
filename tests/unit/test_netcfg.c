/* lib/netcfg: the network settings' checks, lists, files and reading back. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

#include "lib/netcfg.h"
#include "check.h"

static struct netcfg
base(const char *address, const char *gateway)
{
	struct netcfg n;

	memset(&n, 0, sizeof(n));
	snprintf(n.address, sizeof(n.address), "%s", address);
	snprintf(n.gateway, sizeof(n.gateway), "%s", gateway);
	return n;
}

static int
ok(const struct netcfg *n)
{
	char why[256];

	return netcfg_check(n, why, sizeof(why)) == 0;
}

static void
test_addresses(void)
{
	struct netcfg n;
	char why[256];

	CHECK(ok(&(struct netcfg){ .address = "dhcp" }));
	n = base("192.0.2.10/24", "192.0.2.1");
	CHECK(ok(&n));
	n = base("2001:db8::10/64", "2001:db8::1");
	CHECK(ok(&n));
	n = base("192.0.2.10/32", "");
	CHECK(ok(&n));
	n = base("2001:db8::10/128", "");
	CHECK(ok(&n));
	static const char *const bad[] = { "192.0.2.10", "192.0.2.10/", "192.0.2.10/0",
		"192.0.2.10/33", "192.0.2.10/024", "192.0.2.10/2 4", "300.0.2.10/24",
		"2001:db8::10/129", "DHCP", "", "192.0.2.10/24\nDNS=1.1.1.1", "host/24",
		"192.0.2.010/24", "127.0.0.1/8", "0.0.0.0/8", "224.0.0.1/24",
		"255.255.255.255/32", "240.0.0.1/8", "::1/128", "::/64", "::ffff:192.0.2.10/120",
		"ff02::1/64", "fe80::1%eth0/64", "0x7f.1/8" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = base(bad[i], "");
		CHECK(netcfg_check(&n, why, sizeof(why)) == -1);
		CHECK(strncmp(why, "address:", 8) == 0);
	}
	n = base("192.0.2.10/24", "2001:db8::1");
	CHECK(netcfg_check(&n, why, sizeof(why)) == -1);
	CHECK_STR(why, "gateway: a unicast IPv4 address, as the address is (no leading "
	    "zeros, no %zone)");
	n = base("192.0.2.10/24", "192.0.2.01");
	CHECK(!ok(&n));
	n = base("2001:db8::10/64", "fe80::1%eth0");
	CHECK(!ok(&n));
	n = base("192.0.2.10/24", "192.0.2.10");
	CHECK(netcfg_check(&n, why, sizeof(why)) == -1);
	CHECK_STR(why, "gateway: another address than the appliance's own");
	n = base("192.0.2.10/24", "10.9.9.9");
	CHECK(netcfg_check(&n, why, sizeof(why)) == -1);
	CHECK_STR(why, "gateway: in the address's network (192.0.2.10/24)");
	n = base("192.0.2.10/23", "192.0.3.1");	/* the prefix's last bit */
	CHECK(ok(&n));
	n = base("192.0.2.10/24", "192.0.3.1");
	CHECK(!ok(&n));
	n = base("2001:db8::10/64", "2001:db8:0:1::1");
	CHECK(!ok(&n));
	n = base("dhcp", "192.0.2.1");
	CHECK(netcfg_check(&n, why, sizeof(why)) == -1);
	CHECK_STR(why, "gateway: none with dhcp (the DHCP server gives it)");
	n = base("192.0.2.10/24", "192.0.2.1 ");
	CHECK(!ok(&n));
}

static void
test_servers(void)
{
	struct netcfg n = base("dhcp", "");
	char why[256];

	n.ndns = 1;
	snprintf(n.dns[0], sizeof(n.dns[0]), "dns.example.org");
	CHECK(netcfg_check(&n, why, sizeof(why)) == -1);
	CHECK_STR(why, "DNS server 1: a unicast IPv4 or IPv6 address");
	snprintf(n.dns[0], sizeof(n.dns[0]), "::ffff:8.8.8.8");
	CHECK(!ok(&n));
	snprintf(n.dns[0], sizeof(n.dns[0]), "127.0.0.53");
	CHECK(!ok(&n));
	snprintf(n.dns[0], sizeof(n.dns[0]), "2001:db8::53");
	CHECK(ok(&n));
	n.ndns = NETCFG_DNS_MAX + 1;
	CHECK(!ok(&n));
	n.ndns = 0;
	n.nntp = 1;
	static const char *const good[] = { "192.0.2.123", "2001:db8::123", "198.51.100.1" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(n.ntp[0], sizeof(n.ntp[0]), "%s", good[i]);
		CHECK(ok(&n));
	}
	static const char *const bad[] = { "ntp.example.org", "ntp_1.example.org", "a", "1.2.3",
		"a b", "a\nNTP=x", "", "0x7f.1", "127.0.0.1", "224.0.1.1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(n.ntp[0], sizeof(n.ntp[0]), "%s", bad[i]);
		CHECK(netcfg_check(&n, why, sizeof(why)) == -1);
		CHECK_STR(why, "NTP server 1: a unicast IPv4 or IPv6 address (the appliance "
		    "resolves no names: its firewall lets no DNS out)");
	}
}

static void
test_match_count(void)
{
	char dir[] = "/tmp/sbx-netcfg-XXXXXX", p[64], names[64];

	CHECK(mkdtemp(dir) != NULL);
	static const char *const ifs[] = { "eno1", "eno2", "lo", "wlp2s0" };
	for (size_t i = 0; i < sizeof(ifs) / sizeof(ifs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, ifs[i]);
		CHECK(mkdir(p, 0700) == 0);
	}
	CHECK(netcfg_match_count("en* eth*", dir, names, sizeof(names)) == 2);
	CHECK(strstr(names, "eno1") != NULL && strstr(names, "eno2") != NULL);
	CHECK(netcfg_match_count("eno2", dir, names, sizeof(names)) == 1);
	CHECK_STR(names, "eno2");
	CHECK(netcfg_match_count("eth*", dir, NULL, 0) == 0);
	CHECK(netcfg_match_count("*", dir, NULL, 0) == 4);
	CHECK(netcfg_match_count("en*", "/nonexistent-sbx", NULL, 0) == -1);
	for (size_t i = 0; i < sizeof(ifs) / sizeof(ifs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, ifs[i]);
		rmdir(p);
	}
	rmdir(dir);
}

static void
test_split(void)
{
	char out[4][64], why[128];
	unsigned k;

	CHECK(netcfg_split(" a, b\tc ,,d ", out[0], sizeof(out[0]), 4, &k, "x", why,
	    sizeof(why)) == 0);
	CHECK(k == 4);
	CHECK_STR(out[0], "a");
	CHECK_STR(out[3], "d");
	CHECK(netcfg_split("", out[0], sizeof(out[0]), 4, &k, "x", why, sizeof(why)) == 0);
	CHECK(k == 0);
	CHECK(netcfg_split("a b c d e", out[0], sizeof(out[0]), 4, &k, "NTP servers", why,
	    sizeof(why)) == -1);
	CHECK_STR(why, "NTP servers: at most 4");
	char longer[100];
	memset(longer, 'z', 80);
	longer[80] = '\0';
	CHECK(netcfg_split(longer, out[0], sizeof(out[0]), 4, &k, "DNS servers", why,
	    sizeof(why)) == -1);
	CHECK_STR(why, "DNS servers 1: too long");
}

static void
test_files_round_trip(void)
{
	struct netcfg n = base("192.0.2.10/24", "192.0.2.1"), back;
	char *net, *ts;

	n.ndns = 2;
	snprintf(n.dns[0], sizeof(n.dns[0]), "192.0.2.53");
	snprintf(n.dns[1], sizeof(n.dns[1]), "2001:db8::53");
	n.nntp = 2;
	snprintf(n.ntp[0], sizeof(n.ntp[0]), "198.51.100.1");
	snprintf(n.ntp[1], sizeof(n.ntp[1]), "192.0.2.123");
	net = netcfg_network_file(&n, "en*");
	ts = netcfg_timesyncd_file(&n);
	CHECK(net != NULL && ts != NULL);
	CHECK(strstr(net, "[Match]\nName=en*\n\n[Network]\nAddress=192.0.2.10/24\n"
	    "LinkLocalAddressing=no\nIPv6AcceptRA=no\n"
	    "Gateway=192.0.2.1\nDNS=192.0.2.53\nDNS=2001:db8::53\n") != NULL);
	CHECK(strstr(net, "DHCP") == NULL);
	CHECK(strstr(ts, "[Time]\nNTP=198.51.100.1 192.0.2.123\n") != NULL);
	netcfg_parse(net, ts, NULL, &back);
	CHECK(memcmp(&back, &n, sizeof(n)) == 0);
	free(net);
	free(ts);
	n = base("dhcp", "");
	net = netcfg_network_file(&n, "en* eth*");
	ts = netcfg_timesyncd_file(&n);
	CHECK(strstr(net, "DHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n") != NULL &&
	    strstr(net, "\nAddress=") == NULL);
	free(net);
	n = base("2001:db8::10/64", "");
	net = netcfg_network_file(&n, "eno1");
	CHECK(strstr(net, "Address=2001:db8::10/64\nLinkLocalAddressing=ipv6\nIPv6AcceptRA=no\n")
	    != NULL);
	free(net);
	n = base("dhcp", "");
	net = netcfg_network_file(&n, "en* eth*");
	CHECK(strstr(ts, "NTP=\n") != NULL);
	netcfg_parse(net, ts, NULL, &back);
	CHECK_STR(back.address, "dhcp");
	CHECK(back.ndns == 0 && back.nntp == 0);
	free(net);
	free(ts);
	netcfg_parse(NULL, NULL, NULL, &back);
	CHECK(back.address[0] == '\0');
}

static void
test_syslog(void)
{
	static const struct {
		const char *in, *canon;
	} good[] = {
		{ "192.0.2.5", "udp:192.0.2.5:514" },
		{ "192.0.2.5:601", "udp:192.0.2.5:601" },
		{ "tcp:192.0.2.5:601", "tcp:192.0.2.5:601" },
		{ "tcp:192.0.2.5", "tcp:192.0.2.5:514" },
		{ "udp:192.0.2.5:65535", "udp:192.0.2.5:65535" },
		{ "2001:db8::5", "udp:[2001:db8::5]:514" },
		{ "[2001:db8::5]", "udp:[2001:db8::5]:514" },
		{ "tcp:[2001:db8::5]:6514", "tcp:[2001:db8::5]:6514" },
		{ "udp:[2001:db8:1:2:3:4:5:6]:1", "udp:[2001:db8:1:2:3:4:5:6]:1" },
		{ "[2001:DB8:0:0::5]:601", "udp:[2001:db8::5]:601" },	/* one spelling */
	};
	static const char *const bad[] = { "", "udp:", "tcp:", "host.example", "192.0.2.5:0",
		"192.0.2.5:65536", "192.0.2.5:0514", "192.0.2.5:", "192.0.2.5:5 14",
		"[192.0.2.5]:514", "[2001:db8::5", "[2001:db8::5]514", "[2001:db8::5]:",
		"TCP:192.0.2.5", "tls:192.0.2.5", "127.0.0.1", "224.0.0.1", "::1",
		"[fe80::1%eth0]:514", "192.0.2.5:514\naction(type=\"omfile\")",
		"192.0.2.5\" port=\"22", "[]:514", "192.0.2.5:123456" };
	struct netcfg_target t;
	struct netcfg n = base("dhcp", ""), back;
	char text[NETCFG_ADDR_MAX], why[256], *f;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(netcfg_syslog_parse(good[i].in, &t) == 0);
		netcfg_syslog_text(&t, text, sizeof(text));
		CHECK_STR(text, good[i].canon);
		CHECK(netcfg_syslog_parse(text, &t) == 0);	/* the canonical form reads back */
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(netcfg_syslog_parse(bad[i], &t) == -1);

	/* The checks and the canonical form, as the console and the monitor
	 * use them; a third target is one too many. */
	n.nsyslog = 2;
	snprintf(n.syslog[0], sizeof(n.syslog[0]), "192.0.2.5");
	snprintf(n.syslog[1], sizeof(n.syslog[1]), "tcp:[2001:db8::5]:601");
	CHECK(ok(&n));
	CHECK(netcfg_syslog_canon(&n, why, sizeof(why)) == 0);
	CHECK_STR(n.syslog[0], "udp:192.0.2.5:514");
	snprintf(n.syslog[1], sizeof(n.syslog[1]), "logs.example:514");
	CHECK(netcfg_check(&n, why, sizeof(why)) == -1);
	CHECK(strncmp(why, "syslog server 2: a unicast IPv4 or IPv6 address", 47) == 0);
	CHECK(netcfg_syslog_canon(&n, why, sizeof(why)) == -1);
	n.nsyslog = 3;
	CHECK(netcfg_check(&n, why, sizeof(why)) == -1);
	CHECK_STR(why, "syslog servers: at most 2");
	/* The same server twice, however typed, would get every message twice. */
	n.nsyslog = 2;
	snprintf(n.syslog[0], sizeof(n.syslog[0]), "192.0.2.5");
	snprintf(n.syslog[1], sizeof(n.syslog[1]), "udp:192.0.2.5:514");
	CHECK(netcfg_check(&n, why, sizeof(why)) == -1);
	CHECK_STR(why, "syslog server 2: the same as server 1 (udp:192.0.2.5:514): each message "
	    "would go twice");
	snprintf(n.syslog[0], sizeof(n.syslog[0]), "tcp:[2001:DB8::5]:601");
	snprintf(n.syslog[1], sizeof(n.syslog[1]), "tcp:[2001:db8:0::5]:601");
	CHECK(netcfg_check(&n, why, sizeof(why)) == -1);
	snprintf(n.syslog[1], sizeof(n.syslog[1]), "udp:[2001:db8::5]:601");	/* another transport */
	CHECK(ok(&n));

	/* The rsyslog file: one forwarding rule a target, read back. */
	n.nsyslog = 2;
	snprintf(n.syslog[0], sizeof(n.syslog[0]), "udp:192.0.2.5:514");
	snprintf(n.syslog[1], sizeof(n.syslog[1]), "tcp:[2001:db8::5]:601");
	f = netcfg_rsyslog_file(&n);
	CHECK(f != NULL);
	CHECK(strstr(f, "\naction(type=\"omfwd\" target=\"192.0.2.5\" port=\"514\" "
	    "protocol=\"udp\" template=\"RSYSLOG_SyslogProtocol23Format\" ") != NULL);
	CHECK(strstr(f, "\naction(type=\"omfwd\" target=\"2001:db8::5\" port=\"601\" "
	    "protocol=\"tcp\" ") != NULL);
	netcfg_parse(NULL, NULL, f, &back);
	CHECK(back.nsyslog == 2);
	CHECK_STR(back.syslog[0], "udp:192.0.2.5:514");
	CHECK_STR(back.syslog[1], "tcp:[2001:db8::5]:601");
	free(f);
	n.nsyslog = 0;
	f = netcfg_rsyslog_file(&n);
	CHECK(f != NULL && strstr(f, "action(") == NULL);
	netcfg_parse(NULL, NULL, f, &back);
	CHECK(back.nsyslog == 0);
	free(f);
	/* A line changed by hand into something else is not read as a target. */
	netcfg_parse(NULL, NULL, "action(type=\"omfwd\" target=\"host.example\" port=\"514\" "
	    "protocol=\"udp\")\naction(type=\"omfwd\" target=\"192.0.2.9\" port=\"514\" "
	    "protocol=\"relp\")\n", &back);
	CHECK(back.nsyslog == 0);
}

int
main(void)
{
	RUN(test_addresses, "addresses: dhcp or ADDRESS/PREFIX of either family; gateways of its family");
	RUN(test_servers, "DNS and NTP servers are unicast addresses, never names");
	RUN(test_match_count, "the interfaces a Name= glob list names are counted");
	RUN(test_split, "lists split at spaces and commas, bounded in count and length");
	RUN(test_files_round_trip, "the networkd and timesyncd files say what was set and read back");
	RUN(test_syslog, "syslog targets: an address, an optional transport and port; one canonical "
	    "form; the rsyslog file says what was set and reads back");
	return check_done();
}
