#!/usr/bin/env bash
# TLS reload and revocation against the real seald: SIGHUP to the parent
# re-reads the TLS files (server certificate and key, client CA, CRL) without
# refusing a connection or losing a request; a certificate the new CRL revokes
# fails new handshakes, gets 403 certificate_revoked on a connection opened
# before the reload, and cannot resume an earlier session; files that do not
# load are refused, naming the file, and the worker serves on with what it had.
# No timing assertion: every wait polls for its outcome, bounded.
. "$(dirname "$0")/lib.sh"

D=$T/a
mkdir -p "$D"
if ! appliance_provision "$D" 'http:
  idle_timeout: 30'; then
	nok "a development appliance can be provisioned"
	exit 1
fi
sp() { "$BIN/sealprov" "$1" --config "$D/seald.yaml" "${@:2}"; }
SH=("$D/shares/sbx-test-share-1.txt" "$D/shares/sbx-test-share-2.txt")
CRL=$D/state/clients.crl
CA="--cacert $D/state/ca.pem"
DC="--cert $D/clients/demo/client.pem --key $D/clients/demo/client.key"
VC="--cert $D/clients/victim/client.pem --key $D/clients/victim/client.key"
J=(-H 'Content-Type: application/json')
LOG=$D/seald.log

# A second client, to be revoked; the demo client stays good throughout.
sp enrol --cn victim --out-dir "$D/clients/victim" "${SH[@]}" >/dev/null 2>&1
VSERIAL=$(openssl x509 -in "$D/clients/victim/client.pem" -noout -serial | cut -d= -f2)
seald_start "$D" || { nok "seald starts"; cat "$LOG"; exit 1; }
appliance_unseal "$D" && appliance_demo_seal "$D" &&
	sealadm_as principal add --cert "$D/clients/victim/client.pem" \
		--name victim >/dev/null &&
	ok "seald starts, is unsealed, and knows the demo client and a second one (victim)" ||
	nok "seald starts, is unsealed, and knows the demo client and a second one"
NETPID=$(pgrep -P "$SEALD_PID" -x seald-net)
sha=$(printf 'reload' | sha256sum | cut -d' ' -f1)
SIGN=$URL/v1/seals/demo-seal/sign

count() { grep -c -- "$1" "$LOG" 2>/dev/null; }
# hup: SIGHUP to seald, then wait for its outcome: 0 when the worker took the
# new material, 1 when seald refused it, 2 when neither showed up.
hup() {
	local took refused
	took=$(count 'net: TLS material reloaded')
	refused=$(count 'reload: refused')
	kill -HUP "$SEALD_PID"
	for _ in $(seq 200); do
		[ "$(count 'net: TLS material reloaded')" -gt "$took" ] && return 0
		[ "$(count 'reload: refused')" -gt "$refused" ] && return 1
		sleep 0.05
	done
	return 2
}
# status CURL_ARGS...: the HTTP status of one request ("000" when none).
status() { curl --silent $CA -o "$T/out" -w '%{http_code}' "$@" 2>/dev/null; }
# until_file FILE PATTERN: wait (bounded) for PATTERN in FILE.
until_file() {
	for _ in $(seq 200); do grep -qE -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
	return 1
}
# keepalive NAME LAST CERT_ARGS: one connection sending GET /v1/seals, then,
# once $T/NAME.go exists, the same again with the header line LAST (may be
# empty). Output in $T/NAME.out, s_client's status in $T/NAME.rc. s_client
# stays until the server closes the connection (124: timeout ended it).
keepalive() {
	local name=$1 last=$2
	shift 2
	rm -f "$T/$name.go"
	( printf 'GET /v1/seals HTTP/1.1\r\nHost: x\r\n\r\n'
	  for _ in $(seq 400); do [ -e "$T/$name.go" ] && break; sleep 0.05; done
	  printf 'GET /v1/seals HTTP/1.1\r\nHost: x\r\n%s\r\n' "$last" ) |
		timeout 25 openssl s_client -quiet -ign_eof -connect "127.0.0.1:$PORT" \
			-CAfile "$D/state/ca.pem" "$@" >"$T/$name.out" 2>&1
	echo "${PIPESTATUS[1]}" >"$T/$name.rc"
}

# --- a plain reload ----------------------------------------------------------------
hup; r=$?
code=$(status $DC "$URL/v1/seals")
[ $r = 0 ] && [ "$code" = 200 ] && [ "$(pgrep -P "$SEALD_PID" -x seald-net)" = "$NETPID" ] &&
	ok "SIGHUP: the same net worker takes the TLS files again and serves on" ||
	nok "plain reload (hup $r, status $code; $(grep -E 'reload|net:' "$LOG" | tail -3 | tr '\n' ' '))"

# --- reloads under load ------------------------------------------------------------------
# Closed-loop signing on 8 keep-alive connections, plus a stream of new
# connections, while SIGHUP follows SIGHUP for as long as the load runs.
"$BIN/bench/sealbench" -u "$URL" --cert "$D/clients/demo/client.pem" --key "$D/clients/demo/client.key" \
	--ca "$D/state/ca.pem" --seal demo-seal -c 8 -t 2 -d 4 -w 0 >"$T/bench.out" 2>&1 &
bench=$!
rm -f "$T/fresh.stop" "$T/fresh.codes"
( while [ ! -e "$T/fresh.stop" ]; do
	curl --silent $CA $DC "${J[@]}" -d "$(sign_body "$sha")" -o /dev/null -w '%{http_code}\n' "$SIGN" \
		>>"$T/fresh.codes" 2>/dev/null
  done ) &
fresh=$!
n=0 bad=0
while kill -0 "$bench" 2>/dev/null; do
	hup || bad=$((bad + 1))
	n=$((n + 1))
done
wait "$bench"
brc=$?
touch "$T/fresh.stop"
wait "$fresh"
got=$(grep -c '^200$' "$T/fresh.codes")
all=$(wc -l <"$T/fresh.codes")
errs=$(sed -n 's/^errors: \([0-9]*\).*/\1/p' "$T/bench.out")
done200=$(sed -n 's/^status 200: //p' "$T/bench.out")
[ "$brc" = 0 ] && [ "$errs" = 0 ] && [ "${done200:-0}" -gt 0 ] && [ "$n" -ge 3 ] && [ "$bad" = 0 ] &&
	ok "$n reloads under load: $done200 keep-alive signatures and $got new connections, none lost" ||
	nok "reloads under load: bench status $brc, errors '$errs', $n reloads ($bad failed); $(tr '\n' ' ' <"$T/bench.out")"
[ "$all" -gt 0 ] && [ "$got" = "$all" ] &&
	ok "every new connection made during the reloads was served ($got of $all)" ||
	nok "new connections during reloads: $got of $all got 200 ($(sort "$T/fresh.codes" | uniq -c | tr '\n' ' '))"

# --- revocation ----------------------------------------------------------------------------
code=$(status $VC "$URL/v1/seals")
[ "$code" = 200 ] && ok "before revocation the victim is served" || nok "victim before revocation ($code)"
for v in tls1_2 tls1_3; do
	(printf 'GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 0.5) |
		openssl s_client -$v -connect "127.0.0.1:$PORT" -CAfile "$D/state/ca.pem" $VC \
			-sess_out "$T/victim-$v.sess" >/dev/null 2>&1
done
keepalive victim "" $VC &
kv=$!
keepalive demo $'Connection: close\r\n' $DC &
kd=$!
until_file "$T/victim.out" 'HTTP/1.1 200' && until_file "$T/demo.out" 'HTTP/1.1 200' ||
	nok "the kept-alive connections got their first answer ($(head -c 200 "$T/victim.out"))"
sp revoke --serial "$VSERIAL" "${SH[@]}" >/dev/null 2>&1 &&
	openssl crl -in "$CRL" -noout -text 2>/dev/null | grep -qi "Serial Number: $VSERIAL" &&
	ok "sealprov revoke adds the victim's serial to the CRL" || nok "sealprov revoke"
code=$(status $VC "$URL/v1/seals")
[ "$code" = 200 ] && ok "until SIGHUP the new CRL is not in force (victim still served)" ||
	nok "victim before SIGHUP ($code)"
hup; r=$?
[ $r = 0 ] && ok "SIGHUP applies the new CRL" || nok "SIGHUP with the new CRL ($r)"
code=$(status $VC "$URL/v1/seals")
[ "$code" = 000 ] && ok "after SIGHUP a new connection with the revoked certificate fails the handshake" ||
	nok "revoked certificate on a new connection got $code"
code=$(status $DC "$URL/v1/seals")
[ "$code" = 200 ] && ok "after SIGHUP the demo client is served" || nok "demo after revocation ($code)"
touch "$T/victim.go" "$T/demo.go"
wait "$kv" "$kd"
first=$(grep -m1 -o 'HTTP/1.1 [0-9]*' "$T/victim.out")
second=$(grep -o 'HTTP/1.1 [0-9]*' "$T/victim.out" | sed -n 2p)
if [ "$first" = "HTTP/1.1 200" ] && [ "$second" = "HTTP/1.1 403" ] &&
	grep -q '"code":"certificate_revoked"' "$T/victim.out" &&
	grep -qiE "serial 0x0*$(sed 's/^0*//' <<<"$VSERIAL")\)" "$T/victim.out"; then
	ok "a connection kept alive across the reload gets 403 certificate_revoked (naming the serial) on its next request"
else
	nok "kept-alive revoked connection: first '$first', second '$second': $(tr '\r\n' '  ' <"$T/victim.out" | head -c 600)"
fi
[ "$(cat "$T/victim.rc")" != 124 ] && grep -qi '^Connection: close' "$T/victim.out" &&
	ok "the server closes the revoked client's connection after the 403" ||
	nok "revoked connection not closed (s_client status $(cat "$T/victim.rc"))"
[ "$(grep -c 'HTTP/1.1 200' "$T/demo.out")" = 2 ] && [ "$(cat "$T/demo.rc")" != 124 ] &&
	ok "a good client's connection kept alive across the reload is served on" ||
	nok "demo kept-alive across the reload: $(grep -o 'HTTP/1.1 [0-9]*' "$T/demo.out" | tr '\n' ' ')"
for v in tls1_2 tls1_3; do
	out=$( (printf 'GET /v1/seals HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 1) |
		openssl s_client -$v -connect "127.0.0.1:$PORT" -CAfile "$D/state/ca.pem" \
			-sess_in "$T/victim-$v.sess" 2>&1)
	! grep -q '^Reused' <<<"$out" && ! grep -q 'HTTP/1.1 200' <<<"$out" &&
		ok "a session the revoked client made before the reload does not resume ($v)" ||
		nok "resumption after revocation ($v): $(grep -E '^(Reused|New)|HTTP/' <<<"$out" | tr '\n' ' ')"
done
grep -q 'refused a request on a connection made before the TLS reload: the client certificate (serial' "$LOG" &&
	ok "the refusal is logged with the certificate's serial" || nok "no log line for the refusal"

# --- files that do not load ----------------------------------------------------------------
cp "$CRL" "$T/good.crl"
echo "this is not a CRL" >"$CRL"
pid_before=$(pgrep -P "$SEALD_PID" -x seald-net)
hup; r=$?
[ $r = 1 ] && grep -q "cannot load the CRL (PEM or DER) $CRL" "$LOG" &&
	ok "a CRL that does not parse is refused on reload, naming the file" ||
	nok "broken CRL reload ($r; $(grep -E 'reload|CRL' "$LOG" | tail -3 | tr '\n' ' '))"
code=$(status $DC "$URL/v1/seals")
vcode=$(status $VC "$URL/v1/seals")
[ "$code" = 200 ] && [ "$vcode" = 000 ] && [ "$(pgrep -P "$SEALD_PID" -x seald-net)" = "$pid_before" ] &&
	ok "after the refused reload the same worker serves with the CRL it had (victim still refused)" ||
	nok "after a broken CRL: demo $code, victim $vcode"
kill -9 "$pid_before"
back=0
for _ in $(seq 100); do
	now=$(pgrep -P "$SEALD_PID" -x seald-net)
	if [ -n "$now" ] && [ "$now" != "$pid_before" ] && [ "$(status $DC "$URL/v1/seals")" = 200 ]; then
		back=1
		break
	fi
	sleep 0.1
done
vcode=$(status $VC "$URL/v1/seals")
[ $back = 1 ] && [ "$vcode" = 000 ] &&
	ok "a net worker restarted while the file is broken starts with the last good material" ||
	nok "restart with a broken CRL on disk (back $back, victim $vcode)"
openssl ecparam -name prime256v1 -genkey -noout -out "$T/other.key" 2>/dev/null
cp "$D/tls/server.key" "$T/server.key.good"
cp "$T/good.crl" "$CRL"
cp "$T/other.key" "$D/tls/server.key"
hup; r=$?
[ $r = 1 ] && grep -q "the key does not match the certificate $D/tls/server.pem: key $D/tls/server.key" "$LOG" &&
	[ "$(status $DC "$URL/v1/seals")" = 200 ] &&
	ok "a key that does not match the certificate is refused on reload, naming both files; serving goes on" ||
	nok "mismatched key reload ($r; $(grep -E 'reload|key' "$LOG" | tail -3 | tr '\n' ' '))"
cp "$T/server.key.good" "$D/tls/server.key"

# --- a new server certificate --------------------------------------------------------------
old=$(openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$D/state/ca.pem" $DC </dev/null 2>/dev/null |
	openssl x509 -noout -serial 2>/dev/null)
sp tls-server --cn localhost --san DNS:localhost,IP:127.0.0.1 --out-dir "$D/tls" "${SH[@]}" \
	>/dev/null 2>&1
hup; r=$?
new=$(openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$D/state/ca.pem" $DC </dev/null 2>/dev/null |
	openssl x509 -noout -serial 2>/dev/null)
want=$(openssl x509 -in "$D/tls/server.pem" -noout -serial)
[ $r = 0 ] && [ -n "$old" ] && [ "$new" = "$want" ] && [ "$new" != "$old" ] &&
	[ "$(status $DC "$URL/v1/seals")" = 200 ] &&
	ok "a new server certificate and key are served after SIGHUP" ||
	nok "new server certificate (hup $r; old $old, served $new, file $want)"

# --- at start --------------------------------------------------------------------------------
seald_stop "$D"
echo "this is not a CRL" >"$CRL"
out=$(timeout 20 "$BIN/seald" --config "$D/seald.yaml" 2>&1)
rc=$?
[ $rc = 1 ] && grep -q "cannot load the CRL (PEM or DER) $CRL" <<<"$out" && grep -q "not starting" <<<"$out" &&
	ok "seald does not start with a CRL that does not parse, and says which file" ||
	nok "start with a broken CRL: status $rc: $(tail -3 <<<"$out" | tr '\n' ' ')"
exit 0
