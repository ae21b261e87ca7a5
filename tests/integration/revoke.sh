#!/usr/bin/env bash
# The appliance CA's CRL kept current by the monitor, and the sysadmin's
# revocation of a client certificate, against the real seald: a CRL with
# less than half its days left is renewed once the appliance is unsealed
# (ledgered as crl.renew, in force without a restart); `sealadm cert revoke`
# is ledgered, writes the list and the CRL, and seald refuses the
# certificate at once; a CRL the appliance CA did not issue is never
# replaced; a revocation whose CRL could not be written is completed by the
# next attempt; every refusal names its cause. No timed assertion: waits
# poll for their outcome, bounded.
. "$(dirname "$0")/lib.sh"
# As seald.service runs it (UMask=0077): files the monitor writes must not
# need a chmod, which its seccomp filter refuses.
umask 077

D=$T/a
mkdir -p "$D"
appliance_provision "$D" || { nok "a development appliance can be provisioned"; exit 1; }
ADM=("$BIN/sealadm" --config "$D/seald.yaml")
SH=("$D/shares/sbx-test-share-1.txt" "$D/shares/sbx-test-share-2.txt")
CRL=$D/state/clients.crl
LIST=$D/state/revoked.txt
LOG=$D/seald.log
CA="--cacert $D/state/ca.pem"
DC="--cert $D/clients/demo/client.pem --key $D/clients/demo/client.key"
for who in victim other third fourth; do
	"$BIN/sealprov" enrol --config "$D/seald.yaml" --cn "$who" --out-dir "$D/clients/$who" "${SH[@]}" \
		>/dev/null 2>&1 || nok "enrol $who"
done
VC="--cert $D/clients/victim/client.pem --key $D/clients/victim/client.key"
OC="--cert $D/clients/other/client.pem --key $D/clients/other/client.key"
TC="--cert $D/clients/third/client.pem --key $D/clients/third/client.key"
FC="--cert $D/clients/fourth/client.pem --key $D/clients/fourth/client.key"
VSERIAL=$(openssl x509 -in "$D/clients/victim/client.pem" -noout -serial | cut -d= -f2)
OSERIAL=$(openssl x509 -in "$D/clients/other/client.pem" -noout -serial | cut -d= -f2)
TSERIAL=$(openssl x509 -in "$D/clients/third/client.pem" -noout -serial | cut -d= -f2)
FSERIAL=$(openssl x509 -in "$D/clients/fourth/client.pem" -noout -serial | cut -d= -f2)

status() { curl --silent $CA -o "$T/out" -w '%{http_code}' "$@" "$URL/v1/seals" 2>/dev/null; }
# next_hours: whole hours from now to the CRL's nextUpdate.
next_hours() {
	local n
	n=$(openssl crl -in "$CRL" -noout -nextupdate | cut -d= -f2)
	echo $((($(date -d "$n" +%s) - $(date +%s)) / 3600))
}
entries() {
	mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -a "\"action\":\"$1\"" | sed 's/^ //'
}
# until_log PATTERN COUNT: wait (bounded) until PATTERN is in the log more than COUNT times.
until_log() {
	for _ in $(seq 200); do
		[ "$(grep -c -- "$1" "$LOG" 2>/dev/null)" -gt "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
# refused_now CERT_ARGS: wait (bounded) until a new connection with the certificate fails.
refused_now() {
	for _ in $(seq 100); do
		[ "$(status "$@")" = 000 ] && return 0
		sleep 0.05
	done
	return 1
}

# --- a CRL near its end is renewed at unseal --------------------------------------------
"$BIN/sealprov" revoke --config "$D/seald.yaml" --days 1 "${SH[@]}" >"$T/out.txt" 2>&1 &&
	grep -q "valid 1 days, written to $CRL" "$T/out.txt" && [[ "$(next_hours)" =~ ^2[34]$ ]] &&
	ok "sealprov revoke --days 1 writes a CRL valid one day, to tls.crl" ||
	nok "sealprov revoke --days 1: $(cat "$T/out.txt")"
expect "sealprov revoke --days past 365 is refused" 1 "sealprov: --days for a CRL: 1 to 365" -- \
	"$BIN/sealprov" revoke --config "$D/seald.yaml" --days 400 "${SH[@]}"
expect "sealprov revoke --serial that is not hexadecimal is refused" 1 \
	"sealprov: --serial: 1 to 40 hexadecimal digits" -- \
	"$BIN/sealprov" revoke --config "$D/seald.yaml" --serial 12XY "${SH[@]}"
before=$(sha256sum <"$CRL")
seald_start "$D" || { nok "seald starts"; cat "$LOG"; exit 1; }
sleep 1.5	# sealed: a tick or more, in which nothing may renew it
[ "$(sha256sum <"$CRL")" = "$before" ] && [ -z "$(entries crl.renew)" ] &&
	ok "while sealed the CRL is left as it is (the CA key is in the HSM)" ||
	nok "the CRL changed while sealed"
reloads=$(grep -c 'net: TLS material reloaded' "$LOG")
appliance_unseal "$D" || { nok "unseal"; exit 1; }
until_log 'monitor: CRL renewed (0 revoked' 0 && [[ "$(next_hours)" =~ ^(719|720)$ ]] &&
	ok "once unsealed the monitor renews the CRL with half its day gone: valid 30 days (tls.crl_days)" ||
	nok "no renewal: $(grep -E 'CRL|crl' "$LOG" | tail -3 | tr '\n' ' ') (next in $(next_hours) hours)"
until_log 'net: TLS material reloaded' "$reloads" &&
	ok "and seald takes the renewed CRL without a restart (the monitor asks the parent to reload)" ||
	nok "the renewed CRL was not reloaded: $(grep -E 'reload' "$LOG" | tail -3 | tr '\n' ' ')"
e=$(entries crl.renew)
sha=$(openssl crl -in "$CRL" -outform DER | sha256sum | cut -d' ' -f1)
[ "$(jq -r '.actor' <<<"$e")" = seald ] && [ "$(jq -r '.revoked' <<<"$e")" = 0 ] &&
	[ "$(jq -r '.crl_sha256' <<<"$e")" = "$sha" ] && [ "$(jq -r '.result' <<<"$e")" = ok ] &&
	ok "the renewal is ledgered (crl.renew by seald, with the new CRL's SHA-256)" ||
	nok "crl.renew entry: $e"
[ ! -e "$CRL.new" ] && ok "written whole: no temporary file left" || nok "$CRL.new left behind"
appliance_demo_seal "$D" && sealadm_as principal add --cert "$D/clients/victim/client.pem" --name victim \
	>/dev/null && sealadm_as principal add --cert "$D/clients/other/client.pem" --name other >/dev/null &&
	sealadm_as principal add --cert "$D/clients/third/client.pem" --name third >/dev/null &&
	sealadm_as principal add --cert "$D/clients/fourth/client.pem" --name fourth >/dev/null ||
	nok "the demo seal, the victim and the other as principals"
[ "$(status $DC)" = 200 ] && [ "$(status $VC)" = 200 ] &&
	ok "the demo client and the victim are served" || nok "clients before the revocation"

# --- a sysadmin revokes ------------------------------------------------------------------
printf 'sysadmin passphrase %s\n' "$RANDOM$RANDOM" >"$T/sys.p"
sealadm_as admin add --user testsys --role sysadmin --passphrase-fd 3 3<"$T/sys.p" >/dev/null &&
	"${ADM[@]}" login --user testsys --passphrase-fd 3 3<"$T/sys.p" >"$T/sys.tok" ||
	nok "a sysadmin account"
as_sys() { "${ADM[@]}" --session-fd 9 "$@" 9<"$T/sys.tok"; }

expect "a secadmin may not revoke (403 forbidden_role)" 1 \
	'forbidden_role: the secadmin may not revoke client certificates' -- \
	sealadm_as cert revoke --serial "$VSERIAL" --reason "a test"
expect "cert revoke without a reason is refused before anything is sent" 2 \
	'cert revoke needs --serial HEX or --cert FILE, and --reason TEXT' -- as_sys cert revoke --serial "$VSERIAL"
expect "a reason of two lines is refused" 2 'one line each, not empty' -- \
	as_sys cert revoke --serial "$VSERIAL" --reason $'two\nlines'
expect "a serial that is not hexadecimal: 400 bad_serial" 1 \
	'bad_serial: a serial is 1 to 40 hexadecimal digits' -- \
	as_sys cert revoke --serial 06:9G --reason "a test"
expect "a serial of 41 digits: 400 bad_serial" 1 'bad_serial' -- \
	as_sys cert revoke --serial "$(printf '1%.0s' $(seq 41))" --reason "a test"
[ -z "$(entries certificate.revoke)" ] && [ ! -s "$LIST" ] &&
	ok "refused revocations change nothing and ledger nothing" || nok "a refused revocation left a trace"
reloads=$(grep -c 'net: TLS material reloaded' "$LOG")
lower=$(tr 'A-F' 'a-f' <<<"$VSERIAL" | sed 's/../&:/g; s/:$//')
expect "the sysadmin revokes the victim (serial in lower case with colons, as x509 -text prints it)" 0 \
	"certificate $(sed 's/^0*//' <<<"$VSERIAL") revoked and ledgered; the CRL at $CRL now lists 1, valid until 20" -- \
	as_sys cert revoke --serial "$lower" --reason "laptop stolen"
refused_now $VC && ok "a new connection with the revoked certificate soon fails, with no SIGHUP from the admin" ||
	nok "the victim is still served: $(status $VC)"
[ "$(status $DC)" = 200 ] && [ "$(status $OC)" = 200 ] &&
	ok "the other clients are served on" || nok "other clients after the revocation"
until_log 'net: TLS material reloaded' "$reloads" || nok "no reload after the revocation"
openssl crl -in "$CRL" -noout -text | grep -qi "Serial Number: $VSERIAL" &&
	openssl crl -in "$CRL" -CAfile "$D/state/ca.pem" -noout 2>&1 | grep -q 'verify OK' &&
	ok "the new CRL lists the serial and verifies under the appliance CA" || nok "the CRL: $(openssl crl -in "$CRL" -noout -text | head -20)"
grep -qE "^$(sed 's/^0*//' <<<"$VSERIAL") [0-9]+$" "$LIST" && [ "$(wc -l <"$LIST")" = 1 ] &&
	ok "the revoked list holds the serial and the time" || nok "revoked.txt: $(cat "$LIST")"
e=$(entries certificate.revoke)
[ "$(jq -r '.actor' <<<"$e")" = admin:testsys ] && [ "$(jq -r '.reason' <<<"$e")" = "laptop stolen" ] &&
	[ "$(jq -r '.serial' <<<"$e")" = "$(sed 's/^0*//' <<<"$VSERIAL")" ] && [ "$(jq -r '.revoked' <<<"$e")" = 1 ] &&
	ok "the revocation is ledgered: who, which serial, why, the CRL's count" || nok "certificate.revoke entry: $e"
expect "revoking it again: 409 already_revoked" 1 \
	"already_revoked: the certificate with serial $(sed 's/^0*//' <<<"$VSERIAL") is already revoked" -- \
	as_sys cert revoke --serial "$VSERIAL" --reason "again"
"$BIN/sealprov" revoke --config "$D/seald.yaml" --serial "$VSERIAL" "${SH[@]}" >"$T/out.txt" 2>&1
grep -q "is already revoked; the CRL is made again" "$T/out.txt" && [ "$(wc -l <"$LIST")" = 1 ] &&
	ok "sealprov revoke of a serial on the list says so and does not list it twice" ||
	nok "sealprov revoke again: $(cat "$T/out.txt"); $(cat "$LIST")"

drive "the menu's item 12 revokes by serial (as x509 -serial prints it), asked and confirmed" \
	revoke testsys "$(cat "$T/sys.p")" "serial=$TSERIAL" "left the project" \
	"certificate $(sed 's/^0*//' <<<"$TSERIAL") revoked and ledgered"
refused_now $TC && [ "$(entries certificate.revoke | jq -r 'select(.reason == "left the project") | .actor')" = admin:testsys ] &&
	ok "and the third is refused; the ledger names the sysadmin and the reason" || nok "the menu's revocation"

# --- a CRL that cannot be written ----------------------------------------------------------
OS=$(sed 's/^0*//' <<<"$OSERIAL")
n0=$(entries certificate.revoke | wc -l)
mkdir "$CRL.new"	# where the CRL is written first: now it cannot be
expect "the CRL cannot be written beside tls.crl: 503 crl_unavailable, nothing ledgered" 1 \
	"crl_unavailable: cannot write beside $CRL: .*; nothing was revoked, nothing ledgered" -- \
	as_sys cert revoke --serial "$OSERIAL" --reason "leaving"
[ "$(entries certificate.revoke | wc -l)" = "$n0" ] && [ "$(wc -l <"$LIST")" = 2 ] &&
	[ "$(status $OC)" = 200 ] &&
	ok "and nothing changed: no entry, the list as it was, the other still served" ||
	nok "a CRL that cannot be written left a trace: $(entries certificate.revoke | tail -1)"
rmdir "$CRL.new"
# Written aside but not renamed in (a directory that takes new names but
# lets none be replaced): the entry is committed first, then the failure.
if chattr +a "$D/state" 2>/dev/null; then
	expect "the CRL cannot be put in place: 503 crl_unavailable, said to be ledgered" 1 \
		'crl_unavailable: ledgered, but the revocation could not be completed: .*the same revocation again completes it' -- \
		as_sys cert revoke --serial "$OSERIAL" --reason "leaving"
	chattr -a "$D/state"
	n=$(entries certificate.revoke | jq -r --arg s "$OS" 'select(.serial == $s) | .result' | tr '\n' ' ')
	[[ "$n" == "ok failed:"* ]] && [ "$(status $OC)" = 200 ] &&
		ok "the ledger holds the revocation and its failure ($n); the old CRL stays in force" ||
		nok "ledger after a failed rename: $n"
else
	ok "# skip: this file system has no append-only directories (chattr +a)"
	ok "# skip: (the same)"
fi
expect "revoking it again completes it" 0 "certificate $OS revoked and ledgered" -- \
	as_sys cert revoke --serial "$OSERIAL" --reason "leaving"
refused_now $OC && [ "$(wc -l <"$LIST")" = 3 ] && [ ! -e "$CRL.new" ] &&
	openssl crl -in "$CRL" -noout -text | grep -qi "Serial Number: $OSERIAL" &&
	ok "and the certificate is refused; the list holds it once" || nok "completing the revocation: $(cat "$LIST")"

# --- someone else's CRL ----------------------------------------------------------------------
mkdir -p "$T/ca"
: >"$T/ca/index.txt"
echo 01 >"$T/ca/crlnumber"
cat >"$T/ca/ca.cnf" <<EOC
[ ca ]
default_ca = c
[ c ]
database = $T/ca/index.txt
crlnumber = $T/ca/crlnumber
default_md = sha256
default_crl_days = 30
EOC
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=Other-CA \
	-keyout "$T/ca/key.pem" -out "$T/ca/cert.pem" -days 30 2>/dev/null &&
	openssl ca -gencrl -config "$T/ca/ca.cnf" -keyfile "$T/ca/key.pem" -cert "$T/ca/cert.pem" \
		-out "$T/foreign.crl" 2>/dev/null || nok "a CRL of another CA"
cp "$CRL" "$T/ours.crl"
cp "$T/foreign.crl" "$CRL"
expect "with only another CA's CRL at tls.crl: 409 foreign_crl, naming the file" 1 \
	"foreign_crl: $CRL holds no CRL of the appliance CA: revoke the certificate with the CA" -- \
	as_sys cert revoke --serial 1234 --reason "a test"
cmp -s "$CRL" "$T/foreign.crl" && [ "$(wc -l <"$LIST")" = 3 ] &&
	ok "and it is left as it is" || nok "the foreign CRL was touched"
# Both CAs' CRLs in the file (the other CA trusted for clients too): ours
# is replaced, theirs kept as it was, first.
cat "$T/ca/cert.pem" >>"$D/clients-ca.pem"
cat "$T/foreign.crl" "$T/ours.crl" >"$CRL"
reloads=$(grep -c 'net: TLS material reloaded' "$LOG")
kill -HUP "$SEALD_PID"
until_log 'net: TLS material reloaded' "$reloads" || nok "seald takes the file of two CRLs"
expect "cert revoke takes --serial or --cert, not both" 2 'needs --serial HEX or --cert FILE, and --reason TEXT' -- \
	as_sys cert revoke --serial "$FSERIAL" --cert "$D/clients/fourth/client.pem" --reason "moved"
expect "with the other CA's CRL beside ours, the fourth is revoked by its certificate file" 0 \
	"revoking the certificate of .*CN=fourth, serial $(sed 's/^0*//' <<<"$FSERIAL")\$" -- \
	as_sys cert revoke --cert "$D/clients/fourth/client.pem" --reason "moved"
refused_now $FC && [ "$(status $DC)" = 200 ] && ok "the fourth is refused, the demo client served" ||
	nok "after revoking the fourth beside a foreign CRL"
[ "$(grep -c 'BEGIN X509 CRL' "$CRL")" = 2 ] &&
	[ "$(awk '/BEGIN X509 CRL/{n++} n==1' "$CRL")" = "$(cat "$T/foreign.crl")" ] &&
	openssl crl -in "$CRL" -noout -issuer | grep -q 'Other-CA' &&
	ok "the other CA's CRL is kept as it was, ours replaced beside it" ||
	nok "the file of two CRLs: $(grep -c 'BEGIN X509 CRL' "$CRL") blocks"
rm -f "$CRL"
expect "with no file at tls.crl: 409 no_crl_file" 1 "no_crl_file: there is no file $CRL \\(tls.crl\\)" -- \
	as_sys cert revoke --serial 1234 --reason "a test"
cat "$T/foreign.crl" "$T/ours.crl" >"$CRL"
sealprov_out=$("$BIN/sealprov" revoke --config "$D/seald.yaml" "${SH[@]}" 2>&1)
[ "$(grep -c 'BEGIN X509 CRL' "$CRL")" = 2 ] && openssl crl -in "$CRL" -noout -issuer | grep -q 'Other-CA' &&
	grep -q 'CRL with 4 revoked' <<<"$sealprov_out" &&
	ok "sealprov revoke also replaces only the appliance CA's CRL, keeping every revocation" ||
	nok "sealprov revoke with two CRLs: $sealprov_out"

# --- sealed; a renewal that cannot be written ------------------------------------------------
seald_stop "$D"
"$BIN/sealprov" revoke --config "$D/seald.yaml" --days 1 "${SH[@]}" >/dev/null 2>&1 ||
	nok "a CRL of one day again"
mkdir "$CRL.new"
seald_start "$D" || nok "seald starts again"
"${ADM[@]}" login --user testsys --passphrase-fd 3 3<"$T/sys.p" >"$T/sys.tok" || nok "sysadmin login"
expect "sealed: 503 sealed (the CA key is in the HSM)" 1 'sealed: the appliance CA is in the HSM: unseal first' -- \
	as_sys cert revoke --serial 1234 --reason "a test"
[ "$(status $VC)" = 000 ] && [ "$(status $OC)" = 000 ] && [ "$(status $TC)" = 000 ] &&
	[ "$(status $FC)" = 000 ] &&
	[ "$(status $DC)" != 000 ] &&
	ok "after a restart the revoked certificates are still refused" || nok "after restart"
renewals=$(entries crl.renew | wc -l)
due=$(grep -c 'is due for renewal' "$LOG")
appliance_unseal "$D" || nok "unseal"
until_log "monitor: the CRL in $CRL is due for renewal (.* s left) but cannot write beside $CRL" "$due" &&
	[ "$(entries crl.renew | wc -l)" = "$renewals" ] &&
	ok "a renewal that cannot be written is logged, and nothing is ledgered for it" ||
	nok "failing renewal: $(grep -E 'CRL' "$LOG" | tail -2 | tr '\n' ' '); $(entries crl.renew | wc -l) entries"
a=$(entries alert | jq -c 'select(.kind == "crl_expiring")')
[ "$(jq -r .actor <<<"$a")" = seald ] && grep -q "the CRL in $CRL expires in 2[34] h and cannot be renewed: cannot write beside" <<<"$(jq -r .detail <<<"$a")" &&
	ok "with less than a quarter of its days left, a crl_expiring alert is ledgered, saying why" ||
	nok "crl_expiring alert: $a"
expect "the secadmin sees it in the alerts list (--kind crl_expiring)" 0 '"kind": "crl_expiring"' -- \
	sealadm_as alerts list --kind crl_expiring
seald_stop "$D"
rmdir "$CRL.new"
seald_start "$D" && appliance_unseal "$D" || nok "seald starts and unseals"
until_log "monitor: CRL renewed (4 revoked" 0 && [ "$(entries crl.renew | wc -l)" = $((renewals + 1)) ] &&
	[ "$(grep -c 'BEGIN X509 CRL' "$CRL")" = 2 ] &&
	ok "once it can be written the renewal goes through, every revocation and the other CRL kept" ||
	nok "renewal after the fix: $(grep -E 'CRL' "$LOG" | tail -2 | tr '\n' ' ')"

# --- no tls.crl --------------------------------------------------------------------------------
seald_stop "$D"
sed -i '/^  crl: /d' "$D/seald.yaml"
seald_start "$D" || nok "seald starts without tls.crl"
"${ADM[@]}" login --user testsys --passphrase-fd 3 3<"$T/sys.p" >"$T/sys.tok" || nok "sysadmin login"
expect "no tls.crl: 409 no_crl, saying what to do" 1 \
	'no_crl: tls.crl is not set: seald checks client certificates against no CRL' -- \
	as_sys cert revoke --serial 1234 --reason "a test"
seald_stop "$D"
exit 0
