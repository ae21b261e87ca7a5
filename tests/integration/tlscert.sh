#!/usr/bin/env bash
# seald's TLS server certificate changed by the sysadmin, against the real
# seald: a new key and certificate from the appliance CA (`sealadm tls issue`
# and the menu), or a new key and a request for an outside CA (`tls request`)
# whose certificate is then installed (`tls install`, and the menu's paste);
# ledgered before it is in force, put in place whole, re-read by seald
# without a restart, and seen presented by a real TLS client. Whatever does
# not fit the key, is not a server certificate, is not valid now or names
# nothing is refused with its reason, and nothing changes.
. "$(dirname "$0")/lib.sh"
# As seald.service runs it (UMask=0077): files the monitor writes must not
# need a chmod, which its seccomp filter refuses.
umask 077

appliance_up "$T/a"
appliance_demo_seal "$D" || nok "the demo seal"
ADM=("$BIN/sealadm" --config "$D/seald.yaml")
CERT=$D/tls/server.pem
KEY=$D/tls/server.key
DC="--cert $D/clients/demo/client.pem --key $D/clients/demo/client.key"
entries() {
	mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -a "\"action\":\"$1\"" | sed 's/^ //'
}
# served: the SHA-256 of the certificate seald presents now.
served() {
	openssl s_client -connect "127.0.0.1:$PORT" -servername localhost </dev/null 2>/dev/null |
		openssl x509 -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1
}
filesha() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
# seals CA_FILE [HOST]: the HTTP status of GET /v1/seals as the demo client,
# trusting CA_FILE, seald known as HOST (default localhost).
seals() {
	local host=${2:-localhost}
	curl --silent --cacert "$1" $DC -o /dev/null -w '%{http_code}' "https://$host:$PORT/v1/seals" \
		--resolve "$host:$PORT:127.0.0.1" 2>/dev/null
}
printf 'sysadmin passphrase %s\n' "$RANDOM$RANDOM" >"$T/sys.p"
SYS_P=$(cat "$T/sys.p")
sealadm_as admin add --user testsys --role sysadmin --passphrase-fd 3 3<"$T/sys.p" >/dev/null &&
	"${ADM[@]}" login --user testsys --passphrase-fd 3 3<"$T/sys.p" >"$T/sys.tok" ||
	nok "a sysadmin account"
as_sys() { "${ADM[@]}" --session-fd 9 "$@" 9<"$T/sys.tok"; }

expect "tls show names the present certificate" 0 \
	'names: +DNS:localhost,IP:127.0.0.1' -- "${ADM[@]}" tls show
old=$(served)
[ "$old" = "$(filesha "$CERT")" ] && ok "seald presents the certificate in tls.certificate" ||
	nok "served $old"

# ---- from the appliance CA ----------------------------------------------------------
expect "a secadmin may not issue it (403 forbidden_role)" 1 \
	'forbidden_role: the secadmin may not issue the TLS server certificate' -- \
	sealadm_as tls issue --san DNS:localhost
expect "names that are not DNS:/IP: items are refused before anything is made" 2 \
	'bad_names: names: DNS:name and IP:address items' -- as_sys tls issue --san "localhost"
expect "--valid-days past 825 is refused" 2 'valid-days: 1 to 825' -- \
	as_sys tls issue --san DNS:localhost --valid-days 900
keysha=$(sha256sum <"$KEY")
[ "$(served)" = "$old" ] && [ "$(sha256sum <"$KEY")" = "$keysha" ] && [ -z "$(entries tls.issue)" ] &&
	ok "and nothing changed, nothing was ledgered" || nok "a refused issue changed something"
expect "the sysadmin issues a new one from the appliance CA: installed and presented" 0 \
	'server certificate [0-9A-F]+ \(valid until .*\) ledgered \(entry [0-9]+\), installed, and presented by seald now' -- \
	as_sys tls issue --san DNS:sealbox.test,DNS:localhost,IP:127.0.0.1 --valid-days 90
new=$(served)
[ "$new" = "$(filesha "$CERT")" ] && [ "$new" != "$old" ] &&
	openssl x509 -in "$CERT" -noout -ext subjectAltName | grep -q 'DNS:sealbox.test, DNS:localhost, IP Address:127.0.0.1' &&
	openssl x509 -in "$CERT" -noout -subject | grep -q 'CN = sealbox.test' &&
	[ "$(openssl x509 -in "$CERT" -noout -checkend $((91 * 86400)) >/dev/null; echo $?)" = 1 ] &&
	ok "seald presents it: the names asked, CN the first, 90 days" || nok "the new certificate: $new"
openssl verify -CAfile "$D/state/ca.pem" -purpose sslserver "$CERT" >/dev/null 2>&1 &&
	[ "$(grep -c 'BEGIN CERTIFICATE' "$CERT")" = 2 ] &&
	ok "it chains to the appliance CA for sslserver, the CA sent with it" || nok "the chain"
[ "$(stat -c %a "$KEY")" = 600 ] && [ "$(sha256sum <"$KEY")" != "$keysha" ] && [ ! -e "$KEY.new" ] &&
	[ ! -e "$CERT.new" ] && openssl pkey -in "$KEY" -noout 2>/dev/null &&
	ok "a new key, 0600, written whole (no temporary left)" || nok "the key file"
[ "$(seals "$D/state/ca.pem")" = 200 ] && ok "the demo client signs on over the new certificate" ||
	nok "demo client after the new certificate"
i=$(entries tls.issue) n=$(entries tls.install)
[ "$(jq -r .cert_sha256 <<<"$i")" = "$new" ] && [ "$(jq -r .cert_sha256 <<<"$n")" = "$new" ] &&
	[ "$(jq -r .actor <<<"$n")" = admin:testsys ] && [ "$(jq -r .appliance_ca <<<"$n")" = true ] &&
	[ "$(jq -r .san <<<"$n")" = "DNS:sealbox.test,DNS:localhost,IP:127.0.0.1" ] &&
	[ "$(jq -r .chain <<<"$n")" = 2 ] &&
	ok "ledgered as tls.issue and tls.install (who, the certificate's hash, names, the appliance CA's)" ||
	nok "ledger: $i / $n"
! grep -aq -- "PRIVATE KEY" <(mdb_dump -p -s ledger/entries "$D/state/ledger") &&
	! grep -q -- "PRIVATE KEY" "$D/seald.log" &&
	ok "the key is in neither the ledger nor seald's log" || nok "the key leaked"

# ---- from an outside CA ------------------------------------------------------------------
mkdir -p "$T/ext"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=Outside CA" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	-keyout "$T/ext/ca.key" -out "$T/ext/ca.pem" -days 30 2>/dev/null || nok "an outside CA"
# sign REQ OUT EKU [OPENSSL_X509_ARGS...]: the outside CA signs REQ.
sign() {
	local req=$1 out=$2 eku=$3
	shift 3
	printf 'subjectAltName=DNS:ext.test,IP:127.0.0.1\nextendedKeyUsage=%s\nkeyUsage=digitalSignature\n' \
		"$eku" >"$T/ext/ext.cnf"
	openssl x509 -req -in "$req" -CA "$T/ext/ca.pem" -CAkey "$T/ext/ca.key" -CAcreateserial \
		-extfile "$T/ext/ext.cnf" -out "$out" "$@" 2>/dev/null
}
expect "tls install with no pending request: no_request" 1 \
	'no_request: no request is pending' -- as_sys tls install --cert "$T/ext/ca.pem"
as_sys tls request --san DNS:ext.test,IP:127.0.0.1 >"$T/ext/req.pem" 2>"$T/err" &&
	openssl req -in "$T/ext/req.pem" -noout -verify 2>&1 | grep -q 'verify OK' &&
	openssl req -in "$T/ext/req.pem" -noout -text | grep -q 'DNS:ext.test, IP Address:127.0.0.1' &&
	[ "$(stat -c %a "$KEY.pending")" = 600 ] &&
	ok "tls request: a new key kept beside tls.key (0600), its request with the names on stdout" ||
	nok "tls request: $(cat "$T/err")"
r=$(entries tls.request)
kh=$(openssl pkey -in "$KEY.pending" -pubout -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
grep -q '"actor":"admin:testsys"' <<<"$r" && grep -q '"san":"DNS:ext.test,IP:127.0.0.1"' <<<"$r" &&
	grep -q "\"key_sha256\":\"$kh\"" <<<"$r" && grep -q 'the request is ledgered (entry [0-9]*)' "$T/err" &&
	ok "the request is ledgered first (tls.request: who, the names, the new key's SHA-256)" ||
	nok "tls.request entry: $r / $(cat "$T/err")"
rm -f "$T/pend.before"; cp "$KEY.pending" "$T/pend.before"
expect "a secadmin may not make a request (403 forbidden_role), and no key is kept" 1 'forbidden_role' \
	-- sealadm_as tls request --san DNS:x.test
cmp -s "$KEY.pending" "$T/pend.before" && ok "the pending key stays the sysadmin's" ||
	nok "a refused request changed the pending key"
expect "tls show says a request is pending" 0 'a request for an outside CA is pending since' -- \
	"${ADM[@]}" tls show
[ "$(served)" = "$new" ] && ok "a request changes nothing seald presents" || nok "the request changed the served certificate"
# A certificate for another key, a client certificate, one no longer valid: refused.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=x -keyout "$T/ext/x.key" \
	-out "$T/ext/x.req" 2>/dev/null
sign "$T/ext/x.req" "$T/ext/other.pem" serverAuth -days 10
expect "a certificate for another key: wrong_key, nothing ledgered" 1 \
	'wrong_key: the certificate is not for the key of the pending request' -- \
	as_sys tls install --cert "$T/ext/other.pem"
sign "$T/ext/req.pem" "$T/ext/client.pem" clientAuth -days 10
expect "a client certificate: the monitor refuses it (bad_certificate)" 1 \
	'bad_certificate: the first certificate is not for a TLS server' -- \
	as_sys tls install --cert "$T/ext/client.pem"
cat >"$T/ext/ca.cnf" <<EOC
[ ca ]
default_ca = c
[ c ]
database = $T/ext/index.txt
new_certs_dir = $T/ext
serial = $T/ext/serial
default_md = sha256
policy = p
copy_extensions = copy
[ p ]
commonName = supplied
[ v3 ]
extendedKeyUsage = serverAuth
EOC
: >"$T/ext/index.txt"
echo 1000 >"$T/ext/serial"
openssl ca -batch -config "$T/ext/ca.cnf" -extensions v3 -cert "$T/ext/ca.pem" -keyfile "$T/ext/ca.key" \
	-startdate 20200101000000Z -enddate 20210101000000Z -in "$T/ext/req.pem" -out "$T/ext/old.pem" \
	>/dev/null 2>&1 || nok "an expired certificate"
expect "a certificate no longer valid: bad_certificate, naming the dates" 1 \
	'bad_certificate: the certificate is not valid now' -- as_sys tls install --cert "$T/ext/old.pem"
[ "$(served)" = "$new" ] && [ -e "$KEY.pending" ] && [ "$(entries tls.install | wc -l)" = 1 ] &&
	[ ! -e "$KEY.new" ] && [ ! -e "$CERT.new" ] &&
	ok "after the refusals nothing changed: served, pending key, ledger, no temporaries" ||
	nok "refused installs changed something"
sign "$T/ext/req.pem" "$T/ext/good.pem" serverAuth -days 10
cat "$T/ext/good.pem" "$T/ext/x.key" "$T/ext/ca.pem" >"$T/ext/withkey.pem"
expect "a certificate file with a private key in it is refused, the key never copied" 1 \
	'bad_certificate: the file holds a PEM block that is not a certificate \(a private key\?\)' -- \
	as_sys tls install --cert "$T/ext/withkey.pem"
! grep -q "PRIVATE KEY" "$CERT" && ok "and the certificate file holds no key" || nok "a key in $CERT"
# The menu: the request from item 9 (choice 2), then its certificate pasted (choice 3).
drive "the menu's item 9 makes a new request (choice 2)" tlsrequest testsys "$SYS_P" \
	"DNS:ext.test,IP:127.0.0.1" "$T/ext/req2.pem"
openssl req -in "$T/ext/req2.pem" -noout -verify 2>&1 | grep -q 'verify OK' &&
	! cmp -s "$T/ext/req.pem" "$T/ext/req2.pem" &&
	ok "the request shown between the marks is whole, for a new key" || nok "the menu's request"
sign "$T/ext/req.pem" "$T/ext/stale.pem" serverAuth -days 10
drive "a certificate for the replaced request is refused at the menu" tlsinstall testsys "$SYS_P" \
	"$T/ext/stale.pem" "wrong_key: the certificate is not for the key of the pending request"
sign "$T/ext/req2.pem" "$T/ext/ext.pem" serverAuth -days 10
cat "$T/ext/ext.pem" "$T/ext/ca.pem" >"$T/ext/chain.pem"
drive "the outside CA's certificate pasted at item 9 (choice 3) is installed and presented" \
	tlsinstall testsys "$SYS_P" "$T/ext/chain.pem" "installed, and presented by seald now"
[ "$(served)" = "$(filesha "$T/ext/ext.pem")" ] && [ ! -e "$KEY.pending" ] &&
	[ "$(seals "$T/ext/ca.pem" ext.test)" = 200 ] &&
	ok "seald presents the outside CA's certificate; clients trusting that CA sign on" ||
	nok "after installing the outside certificate ($(served))"
n=$(entries tls.install | tail -1)
[ "$(jq -r .appliance_ca <<<"$n")" = false ] && [ "$(jq -r .chain <<<"$n")" = 2 ] &&
	jq -r .issuer <<<"$n" | grep -q 'Outside CA' &&
	ok "ledgered as an outside CA's (appliance_ca false, its issuer named)" || nok "ledger: $n"

# ---- a reload seald refuses: the previous files put back ---------------------------------
cp "$D/clients-ca.pem" "$T/clients-ca.good"
echo "not a certificate" >"$D/clients-ca.pem"	# the next reload is refused for it
before=$(served) keysha=$(sha256sum <"$KEY") certsha=$(sha256sum <"$CERT")
n0=$(entries tls.install | wc -l)
expect "a new certificate seald does not take: not_presented, the previous files put back" 1 \
	'not_presented: seald did not take the new certificate within 10 s .*the previous key and certificate are put back' -- \
	as_sys tls issue --san DNS:localhost,IP:127.0.0.1
cp "$T/clients-ca.good" "$D/clients-ca.pem"
[ "$(sha256sum <"$KEY")" = "$keysha" ] && [ "$(sha256sum <"$CERT")" = "$certsha" ] &&
	[ "$(served)" = "$before" ] && [ ! -e "$KEY.old" ] && [ ! -e "$CERT.old" ] && [ ! -e "$KEY.new" ] &&
	ok "the key and certificate are the previous ones, no .old or .new left, seald serves on" ||
	nok "after the refused reload"
[ "$(entries tls.install | wc -l)" = $((n0 + 2)) ] &&
	[ "$(entries tls.install | tail -1 | jq -r .cert_sha256)" = "$before" ] &&
	ok "both are ledgered: the install, then the previous certificate's return" ||
	nok "ledger after the put-back: $(entries tls.install | tail -2)"

# ---- back to the appliance CA from the menu; sealed --------------------------------------
drive "item 9, choice 1, keeping the present names: installed and presented" \
	tlsissue testsys "$SYS_P" "" "installed, and presented by seald now"
openssl x509 -in "$CERT" -noout -ext subjectAltName | grep -q 'DNS:ext.test, IP Address:127.0.0.1' &&
	[ "$(served)" = "$(filesha "$CERT")" ] && [ "$(seals "$D/state/ca.pem" ext.test)" = 200 ] &&
	ok "the names kept are the present certificate's" || nok "names kept"
seald_stop "$D"
seald_start "$D" || nok "seald starts again"
[ "$(served)" = "$(filesha "$CERT")" ] && ok "after a restart seald presents the installed certificate" ||
	nok "after restart"
"${ADM[@]}" login --user testsys --passphrase-fd 3 3<"$T/sys.p" >"$T/sys.tok" || nok "sysadmin login"
expect "sealed: issue is refused (503 sealed)" 1 'sealed: the appliance CA is in the HSM: unseal first' -- \
	as_sys tls issue --san DNS:localhost
[ ! -e "$KEY.new" ] && [ ! -e "$CERT.new" ] && ok "and leaves nothing behind" || nok "temporaries after a refusal"
seald_stop "$D"
exit 0
