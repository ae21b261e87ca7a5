#!/usr/bin/env bash
# The sysadmin's network settings against the real seald: ledgered by the
# monitor, written as systemd-networkd and systemd-timesyncd files under
# console.network_root (a directory of the test's, so the host is never
# touched), applied with console.network_command; from the console menu and
# from a script; every bad value refused with its message, nothing written.
# The syslog servers become rsyslog's forwarding rules, which the image's
# network-apply reads back (tests/integration/firewall.sh runs it).
. "$(dirname "$0")/lib.sh"

R=$T/root
appliance_up "$T/a" "console:
  network_root: $R
  network_match: eth0
  network_command: touch $T/applied"
ADM=("$BIN/sealadm" --config "$D/seald.yaml")
NET=$R/etc/systemd/network/10-sealbox.network
TS=$R/etc/systemd/timesyncd.conf.d/50-sealbox-network.conf
SL=$R/etc/rsyslog.d/50-sealbox-forward.conf
entries() {
	mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -a "\"action\":\"$1\"" | sed 's/^ //'
}
printf 'sysadmin passphrase %s\n' "$RANDOM$RANDOM" >"$T/sys.p"
sealadm_as admin add --user testsys --role sysadmin --passphrase-fd 3 3<"$T/sys.p" >/dev/null &&
	"${ADM[@]}" login --user testsys --passphrase-fd 3 3<"$T/sys.p" >"$T/sys.tok" ||
	nok "a sysadmin account"
as_sys() { "${ADM[@]}" --session-fd 9 "$@" 9<"$T/sys.tok"; }

expect "network show before any setting" 0 'address: +\(not set here: the image.s own, DHCP for IPv4\)' -- as_sys network show
expect "a secadmin may not change the network settings (403 forbidden_role)" 1 \
	'forbidden_role: the secadmin may not change the network settings' \
	-- sealadm_as network set --address 192.0.2.10/24
[ ! -e "$R/etc/systemd/network/10-sealbox.network" ] && [ -z "$(find "$R" -name '*.new' 2>/dev/null)" ] &&
	ok "and nothing was written for it" || nok "a refused change left files"
expect "the sysadmin sets a static address, gateway, DNS, NTP and syslog" 0 \
	'network settings ledgered \(entry [0-9]+\) and written' \
	-- as_sys network set --address 192.0.2.10/24 --gateway 192.0.2.1 \
	--dns 192.0.2.53,192.0.2.54 --ntp 198.51.100.1,192.0.2.123 \
	--syslog '192.0.2.5 tcp:[2001:db8::5]:6514'
cat >"$T/want.network" <<EON
# Written by sealadm (the sysadmin's Network settings); a change here
# is replaced the next time they are set.
[Match]
Name=eth0

[Network]
Address=192.0.2.10/24
LinkLocalAddressing=no
IPv6AcceptRA=no
Gateway=192.0.2.1
DNS=192.0.2.53
DNS=192.0.2.54
EON
cat >"$T/want.ts" <<EON
# Written by sealadm (the sysadmin's Network settings); a change here
# is replaced the next time they are set.
[Time]
NTP=198.51.100.1 192.0.2.123
EON
diff "$T/want.network" "$NET" >"$T/diff" 2>&1 && ok "the networkd file is exactly what was asked" ||
	{ nok "the networkd file"; sed 's/^/#   /' "$T/diff"; }
diff "$T/want.ts" "$TS" >"$T/diff" 2>&1 && ok "the timesyncd drop-in names the NTP servers" ||
	{ nok "the timesyncd file"; sed 's/^/#   /' "$T/diff"; }
cat >"$T/want.sl" <<'EON'
# Written by sealadm (the sysadmin's Network settings); a change here
# is replaced the next time they are set.
# The journal, every facility and severity, forwarded in RFC 5424 format
# to each syslog server; up to 10000 messages wait in memory while one
# is down. network-apply opens the firewall to the targets of these lines.
action(type="omfwd" target="192.0.2.5" port="514" protocol="udp" template="RSYSLOG_SyslogProtocol23Format" queue.type="LinkedList" queue.size="10000" action.resumeRetryCount="-1" action.resumeInterval="10")
action(type="omfwd" target="2001:db8::5" port="6514" protocol="tcp" template="RSYSLOG_SyslogProtocol23Format" queue.type="LinkedList" queue.size="10000" action.resumeRetryCount="-1" action.resumeInterval="10")
EON
diff "$T/want.sl" "$SL" >"$T/diff" 2>&1 &&
	ok "rsyslog's drop-in forwards to each syslog server, on its transport and port (UDP 514 by default)" ||
	{ nok "the rsyslog file"; sed 's/^/#   /' "$T/diff"; }
[ "$(stat -c %a "$NET")" = 644 ] && [ ! -e "$NET.new" ] && ok "written whole (mode 0644, no temporary left)" ||
	nok "network file mode or leftovers"
[ -e "$T/applied" ] && ok "console.network_command ran after the files were written" ||
	nok "the apply command did not run"
e=$(entries appliance.network | tail -n 1)
grep -q '"actor":"admin:testsys"' <<<"$e" && grep -q '"address":"192.0.2.10/24"' <<<"$e" &&
	grep -q '"dns":\["192.0.2.53","192.0.2.54"\]' <<<"$e" && grep -q '"interfaces":"eth0"' <<<"$e" &&
	grep -q '"syslog":\["udp:192.0.2.5:514","tcp:\[2001:db8::5\]:6514"\]' <<<"$e" &&
	grep -q "\"root\":\"$R\"" <<<"$e" &&
	ok "the change is ledgered with the sysadmin, the settings, the interfaces and where" ||
	nok "ledger entry: $e"
expect "network show reads them back" 0 'NTP servers: 198.51.100.1 192.0.2.123' -- as_sys network show
expect "network show reads the syslog servers back, in their full form" 0 \
	'syslog: +udp:192.0.2.5:514 tcp:\[2001:db8::5\]:6514$' -- as_sys network show

# ---- bad values: refused with the reason, nothing written, nothing ledgered ----
cp "$NET" "$T/net.before"
n_before=$(entries appliance.network | wc -l)
bad() {	# what pattern args...
	local what=$1 pat=$2
	shift 2
	expect "$what" 1 "$pat" -- as_sys network set "$@"
}
bad "an address without its prefix length" 'address: "dhcp" or a unicast address with its prefix' --address 192.0.2.10
bad "an address that is no address" 'address:' --address 300.1.2.3/24
bad "a prefix out of range" 'address:' --address 192.0.2.10/33
bad "a gateway of the other family" 'gateway: a unicast IPv4 address' --address 192.0.2.10/24 --gateway 2001:db8::1
bad "a gateway with dhcp" 'gateway: none with dhcp' --address dhcp --gateway 192.0.2.1
bad "a DNS server that is a name" 'DNS server 1: a unicast IPv4 or IPv6 address' --address dhcp --dns dns.example.org
bad "an NTP server by name (the appliance resolves none)" 'NTP server 2: a unicast IPv4 or IPv6 address .*resolves no names' \
	--address dhcp --ntp '192.0.2.123,ntp.example.org'
bad "a loopback address" 'address:' --address 127.0.0.2/8
bad "an IPv4-mapped IPv6 DNS server" 'DNS server 1:' --address dhcp --dns ::ffff:8.8.8.8
bad "a gateway outside the address's network" "gateway: in the address's network" \
	--address 192.0.2.10/24 --gateway 10.9.9.9
bad "the appliance's own address as gateway" "gateway: another address" \
	--address 192.0.2.10/24 --gateway 192.0.2.10
expect "four DNS servers: at most 3" 2 'DNS servers: at most 3' -- as_sys network set --address dhcp \
	--dns 192.0.2.1,192.0.2.2,192.0.2.3,192.0.2.4
bad "a syslog server by name" 'syslog server 1: a unicast IPv4 or IPv6 address, with an optional port and transport' \
	--address dhcp --syslog logs.example.org
bad "a syslog server on port 0" 'syslog server 2: ' --address dhcp --syslog '192.0.2.5,192.0.2.6:0'
bad "a syslog transport that is not udp or tcp" 'syslog server 1: ' --address dhcp --syslog 'tls:192.0.2.5:6514'
bad "the same syslog server twice, however typed" 'syslog server 2: the same as server 1 \(udp:192.0.2.5:514\)' \
	--address dhcp --syslog '192.0.2.5,udp:192.0.2.5:514'
expect "three syslog servers: at most 2" 2 'syslog servers: at most 2' -- as_sys network set --address dhcp \
	--syslog 192.0.2.1,192.0.2.2,192.0.2.3
cmp -s "$NET" "$T/net.before" && [ "$(entries appliance.network | wc -l)" = "$n_before" ] &&
	ok "after every refusal the file and the ledger are as before" || nok "a refusal changed something"

# The monitor checks on its own: a raw ADM_NETWORK inside ADM_AS with a
# newline in the address, as no sealadm would send it.
out=$(python3 - "$D/admin.sock" "$(cat "$T/sys.tok")" <<'EOP'
import socket, struct, sys
s = lambda b: struct.pack('>I', len(b)) + b
inner = s(b"192.0.2.10/24\nDNS=9.9.9.9") + s(b"") + bytes([0]) + bytes([0]) + bytes([0])
body = s(sys.argv[2].encode()) + struct.pack('>H', 253) + s(inner)
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
c.sendall(struct.pack('>IHHI', len(body), 246, 0, 1) + body)
h = b''
while len(h) < 12:
    h += c.recv(12 - len(h))
n = struct.unpack('>I', h[:4])[0]
b = b''
while len(b) < n:
    b += c.recv(n - len(b))
print(b.replace(b'\0', b' ').decode('utf-8', 'replace'))
EOP
)
grep -q 'bad_network' <<<"$out" && [ "$(entries appliance.network | wc -l)" = "$n_before" ] &&
	ok "the monitor refuses settings that skipped sealadm's checks (bad_network), ledgering nothing" ||
	nok "raw ADM_NETWORK: $out"

# A place that cannot take the files: found before anything is ledgered.
sed "s|network_root: .*|network_root: $T/afile/root|" "$D/seald.yaml" >"$T/ro.yaml"
touch "$T/afile"
expect "files that cannot be written: refused before the ledger (cannot_write)" 1 \
	'cannot_write: cannot write under console.network_root .*nothing changed, nothing ledgered' \
	-- "$BIN/sealadm" --config "$T/ro.yaml" --session-fd 9 network set --address dhcp 9<"$T/sys.tok"
[ "$(entries appliance.network | wc -l)" = "$n_before" ] && ok "and the ledger has no entry for it" ||
	nok "an unwritable change was ledgered"

# ---- the console menu --------------------------------------------------------------
P=$(cat "$T/sys.p")
drive "the menu: dhcp, no gateway, one DNS server, no NTP server, a syslog server over TCP" \
	network testsys "$P" dhcp "" "2001:db8::53" "" "tcp:192.0.2.7:601" "network settings ledgered"
grep -qx 'DHCP=ipv4' "$NET" && ! grep -q '^Address=' "$NET" && grep -qx 'DNS=2001:db8::53' "$NET" &&
	grep -qx 'NTP=' "$TS" && [ "$(grep -c '^action(' "$SL")" = 1 ] &&
	grep -q '^action(type="omfwd" target="192.0.2.7" port="601" protocol="tcp" ' "$SL" &&
	ok "and the files say dhcp, that DNS server, no NTP server of ours, that syslog server" ||
	nok "files after the menu: $(cat "$NET" "$TS" "$SL")"
drive "the menu: no syslog server any more" \
	network testsys "$P" dhcp "" "" "" "" "network settings ledgered"
! grep -q '^action(' "$SL" && ok "and rsyslog's file forwards to none" || nok "rsyslog file: $(cat "$SL")"
drive "the menu refuses a bad address at once, with its reason, and shows the menu again" \
	network testsys "$P" "10.0.0.1/0" "" "" "" "" 'input refused: address: "dhcp" or a unicast address'
drive "the menu refuses a gateway of the other family as soon as it is typed" network testsys "$P" \
	"192.0.2.10/24" "2001:db8::1" "" "" "" 'input refused: gateway: a unicast IPv4 address'
drive "the menu refuses five NTP servers" network testsys "$P" dhcp "" "" \
	"192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5" "" "input refused: NTP servers: at most 4"
drive "the menu refuses a syslog server by name" network testsys "$P" dhcp "" "" "" \
	"logs.example.org" "input refused: syslog server 1: a unicast IPv4 or IPv6 address"
seald_stop
