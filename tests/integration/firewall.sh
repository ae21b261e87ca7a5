#!/bin/bash
# The appliance image's firewall (appliance/image/nftables.conf) and its
# network settings step (appliance/image/network-apply), on this host: the
# ruleset is loaded into a network namespace of the test's own, with a peer
# namespace on a veth pair, and checked with packets. As root.
#
# What it pins down: the file parses with no NTP file (wildcard include);
# network-apply puts the console's networkd/timesyncd files where they are
# read, writes rsyslog's forwarding rules from the syslog targets it reads
# (nothing else of that file gets through), and pins outbound NTP and syslog
# to the servers, transports and ports they name, before the ruleset loads
# (boot) and in the running firewall (a change), all or nothing; NTP or
# syslog to another host or port, and other outbound TCP, are dropped; TCP
# 443 comes in, 22 does not.
. "$(dirname "$0")/lib.sh"

FW=sbx-fw-$$
PEER=sbx-peer-$$
NFT_CONF=$T/nftables.conf
SRC=$T/data/network
RUNDIR=$T/run
NETF=etc/systemd/network/10-sealbox.network
TIMEF=etc/systemd/timesyncd.conf.d/50-sealbox-network.conf
SYSF=etc/rsyslog.d/50-sealbox-forward.conf
fw_cleanup() {
	ip netns pids "$FW" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns pids "$PEER" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$FW" 2>/dev/null
	ip netns del "$PEER" 2>/dev/null
	cleanup
}
trap fw_cleanup EXIT

for t in nft ip socat; do
	command -v "$t" >/dev/null || { nok "$t is installed (make deps)"; exit 1; }
done
if [ "$(id -u)" != 0 ]; then
	ok "# SKIP the firewall test needs root (network namespaces); make check as root runs it"
	exit 0
fi

in_fw() { ip netns exec "$FW" "$@"; }
apply() {	# network-apply inside the firewall's namespace; output in T/apply.out
	in_fw env SEALBOX_NETWORK_ROOT="$SRC" SEALBOX_RUN="$RUNDIR" SEALBOX_NFT_CONF="$NFT_CONF" \
		sh "$TOP/appliance/image/network-apply" >"$T/apply.out" 2>&1
}
ntp_set() {	# ntp_set "ADDRESSES": the timesyncd drop-in the console writes
	mkdir -p "$(dirname "$SRC/$TIMEF")"
	printf '# written by sealadm\n[Time]\nNTP=%s\n' "$1" >"$SRC/$TIMEF"
}
fwd() {	# fwd HOST PORT PROTO: a forwarding rule as the console writes it (lib/netcfg.c)
	printf 'action(type="omfwd" target="%s" port="%s" protocol="%s" template="RSYSLOG_SyslogProtocol23Format" queue.type="LinkedList" queue.size="10000" action.resumeRetryCount="-1" action.resumeInterval="10")\n' "$@"
}
syslog_set() {	# syslog_set "HOST PORT PROTO"...: the console's rsyslog file
	mkdir -p "$(dirname "$SRC/$SYSF")"
	{
		echo "# written by sealadm"
		for t in "$@"; do
			# shellcheck disable=SC2086
			fwd $t
		done
	} >"$SRC/$SYSF"
}
elements() {	# the elements of set $1 in the running firewall, one line
	in_fw nft list set inet sealbox "$1" 2>/dev/null | tr -d '\n\t' | tr -s ' ' |
		sed -n 's/.*elements = { \([^}]*\) }.*/\1/p' | sed 's/, /\n/g' | sort | paste -sd, |
		sed 's/,/, /g'
}
udp_out() {	# udp_out ADDR PORT: 0 when the datagram leaves
	in_fw bash -c "echo x >/dev/udp/$1/$2" 2>/dev/null
}

# The image's file, reading its NTP file from the test's run directory.
sed "s|/run/sealbox-net/|$RUNDIR/sealbox-net/|" "$TOP/appliance/image/nftables.conf" >"$NFT_CONF"
grep -q "include \"$RUNDIR/sealbox-net/\*.nft\"" "$NFT_CONF" ||
	{ nok "nftables.conf includes /run/sealbox-net/*.nft"; exit 1; }

ip netns add "$FW" && ip netns add "$PEER" &&
	ip link add fw0 netns "$FW" type veth peer name peer0 netns "$PEER" &&
	in_fw ip addr add 192.0.2.1/24 dev fw0 && in_fw ip link set fw0 up && in_fw ip link set lo up &&
	ip netns exec "$PEER" ip addr add 192.0.2.2/24 dev peer0 &&
	ip netns exec "$PEER" ip link set peer0 up && ip netns exec "$PEER" ip link set lo up ||
	{ nok "two network namespaces joined by a veth pair"; exit 1; }

if in_fw nft -c -f "$NFT_CONF" 2>"$T/nft.err"; then
	ok "the image's nftables.conf parses with no NTP file yet (its include is a wildcard)"
else
	nok "nftables.conf parses"; sed 's/^/#   /' "$T/nft.err"
fi

# ---- boot, no settings on the data disk -------------------------------------
mkdir -p "$SRC"
if apply && grep -q 'no NTP server set: the firewall lets no NTP out' "$T/apply.out" &&
	[ ! -e "$RUNDIR/systemd/network/10-sealbox.network" ] &&
	[ ! -e "$RUNDIR/systemd/timesyncd.conf.d/50-sealbox-network.conf" ] &&
	! grep -q 'add element' "$RUNDIR/sealbox-net/hosts.nft" && [ ! -e "$RUNDIR/sealbox-net/rsyslog.conf" ] &&
	grep -q 'no syslog server set: no log leaves the appliance' "$T/apply.out"; then
	ok "no settings on the data disk: no networkd or timesyncd file in /run, no NTP or syslog server in the firewall, no rsyslog rules (rsyslog does not start)"
else
	nok "network-apply with no settings"; sed 's/^/#   /' "$T/apply.out"
fi

# ---- boot with settings: the files in place, the sets filled as it loads ------
mkdir -p "$(dirname "$SRC/$NETF")"
printf '[Match]\nName=en* eth*\n\n[Network]\nAddress=192.0.2.1/24\n' >"$SRC/$NETF"
ntp_set "198.51.100.7 2001:db8::123 ntp.example.org 10.1.2.3"
syslog_set "198.51.100.7 514 udp"
# Lines a changed data disk could hold: none may reach rsyslog as they are.
# The second target carries an omprog action after its own; past the
# second, targets are left out.
{
	echo 'module(load="omprog")'
	echo 'action(type="omprog" binary="/bin/sh")'
	fwd logs.example 514 udp
	fwd 192.0.2.9 0514 udp
	fwd 192.0.2.9 514 relp
	fwd 999.0.2.9 514 udp
	fwd 192.0.2.2 601 tcp | sed 's/)$/) action(type="omprog" binary="\/bin\/sh")/'
	fwd 192.0.2.3 514 udp
} >>"$SRC/$SYSF"
if apply && cmp -s "$SRC/$NETF" "$RUNDIR/systemd/network/10-sealbox.network" &&
	cmp -s "$SRC/$TIMEF" "$RUNDIR/systemd/timesyncd.conf.d/50-sealbox-network.conf" &&
	[ "$(stat -c %a "$RUNDIR/systemd/network/10-sealbox.network")" = 644 ]; then
	ok "boot: the console's .network and timesyncd files are copied (0644) where networkd and timesyncd read them"
else
	nok "boot: the files in /run"; sed 's/^/#   /' "$T/apply.out"
fi
grep -q "NTP server 'ntp.example.org' is not an address: the firewall leaves it out" "$T/apply.out" &&
	ok "a word that is not an address is left out of the firewall, with a message" ||
	{ nok "a name among the NTP servers"; sed 's/^/#   /' "$T/apply.out"; }
{ fwd 198.51.100.7 514 udp; fwd 192.0.2.2 601 tcp; } >"$T/want.rsyslog"
if cmp -s "$T/want.rsyslog" "$RUNDIR/sealbox-net/rsyslog.conf" &&
	[ "$(grep -c 'a syslog line is not a target: left out' "$T/apply.out")" = 4 ] &&
	grep -q 'more than 2 syslog servers: the rest are left out' "$T/apply.out" &&
	grep -q 'rsyslog forwards the journal, and the firewall lets it out, to: udp:198.51.100.7:514, tcp:192.0.2.2:601$' "$T/apply.out"; then
	ok "rsyslog's rules are written from the targets read: one omfwd line each, at most 2, nothing else of the file (no omprog, no module, no name, no bad address, port or transport)"
else
	nok "rsyslog's rules from the data disk's file"
	diff "$T/want.rsyslog" "$RUNDIR/sealbox-net/rsyslog.conf" | sed 's/^/#   /'
	sed 's/^/#   /' "$T/apply.out"
fi
if in_fw nft -f "$NFT_CONF" 2>"$T/nft.err" && [ "$(elements ntp4)" = "10.1.2.3, 198.51.100.7" ] &&
	[ "$(elements ntp6)" = "2001:db8::123" ] &&
	[ "$(elements syslog4)" = "192.0.2.2 . tcp . 601, 198.51.100.7 . udp . 514" ] &&
	[ -z "$(elements syslog6)" ]; then
	ok "boot: the ruleset loads with the set servers in ntp4/ntp6 and syslog4/syslog6 (network-apply ran first)"
else
	nok "boot: the sets as the ruleset loads: ntp4 '$(elements ntp4)' ntp6 '$(elements ntp6)' syslog4 '$(elements syslog4)' syslog6 '$(elements syslog6)'"
	sed 's/^/#   /' "$T/nft.err"
fi

# ---- packets ---------------------------------------------------------------------
in_fw ip route add default via 192.0.2.2 dev fw0 2>/dev/null
udp_out 198.51.100.7 123 && ok "NTP goes out to a server the sysadmin set" ||
	nok "NTP to a set server goes out"
! udp_out 198.51.100.8 123 && ok "NTP to any other host is dropped" || nok "NTP to another host is dropped"
udp_out 198.51.100.7 514 && ok "syslog goes out to a server the sysadmin set, on its transport and port" ||
	nok "syslog to a set server goes out"
! udp_out 198.51.100.7 515 && ! udp_out 198.51.100.8 514 && ! udp_out 192.0.2.2 601 &&
	ok "syslog to another port, another host, or on another transport is dropped" ||
	nok "syslog elsewhere is dropped"
! udp_out 198.51.100.7 53 && ok "DNS is dropped (the appliance resolves no names)" || nok "DNS is dropped"
# Listeners on both sides: a connection refused by a closed port must not
# pass for one the firewall dropped.
in_peer() { ip netns exec "$PEER" "$@"; }
in_peer socat -u TCP-LISTEN:443,reuseaddr,fork OPEN:/dev/null >/dev/null 2>&1 &
in_fw socat -u TCP-LISTEN:443,reuseaddr,fork OPEN:/dev/null >/dev/null 2>&1 &
in_fw socat -u TCP-LISTEN:22,reuseaddr,fork OPEN:/dev/null >/dev/null 2>&1 &
in_peer socat -u TCP-LISTEN:601,reuseaddr,fork OPEN:/dev/null >/dev/null 2>&1 &
in_peer socat -u TCP-LISTEN:603,reuseaddr,fork OPEN:/dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do
	in_fw ss -ltn 2>/dev/null | grep -q ':22 ' && in_fw ss -ltn | grep -q ':443 ' &&
		in_peer ss -ltn | grep -q ':443 ' && in_peer ss -ltn | grep -q ':601 ' &&
		in_peer ss -ltn | grep -q ':603 ' && break
	sleep 0.1
done
in_fw timeout 5 bash -c 'exec 3<>/dev/tcp/192.0.2.2/601' 2>/dev/null &&
	ok "syslog over TCP connects to the server and port the sysadmin set" ||
	nok "TCP syslog to a set server and port"
! in_fw timeout 5 bash -c 'exec 3<>/dev/tcp/192.0.2.2/603' 2>/dev/null &&
	ok "TCP to another port of that server is dropped (a listener there is unreachable)" ||
	nok "TCP to an unset port is dropped"
in_peer timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/443' 2>/dev/null ||
	nok "the peer's own listener on 443 answers (the check below needs it)"
if ! in_fw timeout 5 bash -c 'exec 3<>/dev/tcp/192.0.2.2/443' 2>/dev/null; then
	ok "no TCP connection goes out, not even to 443 on a host that listens"
else
	nok "outbound TCP is dropped"
fi
ip netns exec "$PEER" timeout 5 bash -c 'exec 3<>/dev/tcp/192.0.2.1/443' 2>/dev/null &&
	ok "TCP 443 (the API) comes in" || nok "TCP 443 comes in"
! ip netns exec "$PEER" timeout 3 bash -c 'exec 3<>/dev/tcp/192.0.2.1/22' 2>/dev/null &&
	ok "TCP 22 does not come in (a listener there is unreachable)" || nok "TCP 22 is dropped"

# ---- a change: the running firewall takes the new servers ---------------------
ntp_set "203.0.113.9"
syslog_set "203.0.113.5 1514 udp" "2001:db8::514 6514 tcp"
if apply && [ "$(elements ntp4)" = "203.0.113.9" ] && [ -z "$(elements ntp6)" ] &&
	udp_out 203.0.113.9 123 && ! udp_out 198.51.100.7 123 &&
	grep -q 'the firewall lets NTP out to: 203.0.113.9$' "$T/apply.out"; then
	ok "a change: the running firewall lets NTP out to the new server only"
else
	nok "a change of NTP servers: ntp4 '$(elements ntp4)' ntp6 '$(elements ntp6)'"
	sed 's/^/#   /' "$T/apply.out"
fi
if [ "$(elements syslog4)" = "203.0.113.5 . udp . 1514" ] &&
	[ "$(elements syslog6)" = "2001:db8::514 . tcp . 6514" ] &&
	udp_out 203.0.113.5 1514 && ! udp_out 198.51.100.7 514 &&
	[ "$(cat "$RUNDIR/sealbox-net/rsyslog.conf")" = "$(fwd 203.0.113.5 1514 udp; fwd 2001:db8::514 6514 tcp)" ]; then
	ok "a change: rsyslog's rules and the running firewall name the new syslog servers only (IPv4 and IPv6)"
else
	nok "a change of syslog servers: syslog4 '$(elements syslog4)'"
	sed 's/^/#   /' "$T/apply.out" "$RUNDIR/sealbox-net/rsyslog.conf"
fi

# An element nft refuses (never one the console writes) changes nothing live.
cp "$RUNDIR/sealbox-net/hosts.nft" "$T/hosts.before"
cp "$RUNDIR/systemd/timesyncd.conf.d/50-sealbox-network.conf" "$T/ts.before"
cp "$RUNDIR/sealbox-net/rsyslog.conf" "$T/rsyslog.before"
ntp_set "203.0.113.10 1.2.3.4.5"
syslog_set "203.0.113.6 514 udp"
if ! apply && [ "$(elements ntp4)" = "203.0.113.9" ] && cmp -s "$T/hosts.before" "$RUNDIR/sealbox-net/hosts.nft" &&
	cmp -s "$T/ts.before" "$RUNDIR/systemd/timesyncd.conf.d/50-sealbox-network.conf" &&
	cmp -s "$T/rsyslog.before" "$RUNDIR/sealbox-net/rsyslog.conf" &&
	[ "$(elements syslog4)" = "203.0.113.5 . udp . 1514" ]; then
	ok "a change nft refuses is refused whole: the running sets, the boot file, timesyncd's file and rsyslog's rules stay as they were"
else
	nok "a refused change: ntp4 '$(elements ntp4)'"; sed 's/^/#   /' "$T/apply.out"
fi

# The same at boot: the firewall must still load, with no NTP out.
in_fw nft flush ruleset
if ! apply && grep -q 'nft refuses these NTP or syslog servers: the firewall lets no NTP and no syslog out' "$T/apply.out" &&
	in_fw nft -f "$NFT_CONF" 2>"$T/nft.err" && [ -z "$(elements ntp4)" ] && [ -z "$(elements syslog4)" ] &&
	[ ! -e "$RUNDIR/sealbox-net/rsyslog.conf" ]; then
	ok "boot with an element nft refuses: the unit fails, the firewall still loads, with no NTP or syslog out and no rsyslog rules"
else
	nok "boot with a refused element: ntp4 '$(elements ntp4)' syslog4 '$(elements syslog4)'"; sed 's/^/#   /' "$T/apply.out" "$T/nft.err"
fi

# ---- settings removed: back to the image's own ---------------------------------
rm -f "$SRC/$NETF" "$SRC/$TIMEF" "$SRC/$SYSF"
if apply && [ ! -e "$RUNDIR/systemd/network/10-sealbox.network" ] &&
	[ ! -e "$RUNDIR/systemd/timesyncd.conf.d/50-sealbox-network.conf" ] && [ -z "$(elements ntp4)" ] &&
	[ -z "$(elements syslog4)" ] && [ -z "$(elements syslog6)" ] && [ ! -e "$RUNDIR/sealbox-net/rsyslog.conf" ] &&
	! udp_out 198.51.100.7 514; then
	ok "settings gone from the data disk: their files leave /run, rsyslog's rules go, and no NTP or syslog goes out"
else
	nok "settings removed"; sed 's/^/#   /' "$T/apply.out"
fi
