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
	netcfg_parse(net, ts, &back);
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
	netcfg_parse(net, ts, &back);
	CHECK_STR(back.address, "dhcp");
	CHECK(back.ndns == 0 && back.nntp == 0);
	free(net);
	free(ts);
	netcfg_parse(NULL, NULL, &back);
	CHECK(back.address[0] == '\0');
}

int
main(void)
{
	RUN(test_addresses, "addresses: dhcp or ADDRESS/PREFIX of either family; gateways of its family");
	RUN(test_servers, "DNS and NTP servers are unicast addresses, never names");
	RUN(test_match_count, "the interfaces a Name= glob list names are counted");
	RUN(test_split, "lists split at spaces and commas, bounded in count and length");
	RUN(test_files_round_trip, "the networkd and timesyncd files say what was set and read back");
	return check_done();
}
