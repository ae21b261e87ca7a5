#!/usr/bin/env bash
# The net worker against the real seald: its sandbox, the TLS refusals, every
# error it answers by itself, and each limit of the http section past its
# bound; the worker must survive all of it (its pid never changes).
. "$(dirname "$0")/lib.sh"

D=$T/a
mkdir -p "$D"
EXTRA='http:
  max_body: 65536
  max_connections: 6
  idle_timeout: 4
  read_timeout: 2
  queue_max: 4
sign:
  batch_max: 5'
if ! appliance_provision "$D" "$EXTRA"; then
	nok "a development appliance can be provisioned"
	exit 1
fi

# A second client CA for certificates the appliance CA will not issue: expired,
# revoked by that CA's own CRL. The appliance trusts both CAs and both CRLs.
X=$T/xca
mkdir -p "$X/new"
: >"$X/index.txt"
echo 1000 >"$X/serial"
echo 1000 >"$X/crlnumber"
cat >"$X/ca.cnf" <<EOC
[ ca ]
default_ca = xca
[ xca ]
database = $X/index.txt
new_certs_dir = $X/new
serial = $X/serial
crlnumber = $X/crlnumber
default_md = sha256
policy = any
default_crl_days = 30
[ any ]
commonName = supplied
[ client ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
EOC
xca() { openssl ca -batch -config "$X/ca.cnf" -cert "$X/ca.pem" -keyfile "$X/ca.key" "$@" 2>/dev/null; }
xkey() { openssl ecparam -name prime256v1 -genkey -noout -out "$X/$1.key" 2>/dev/null; }
xkey ca
openssl req -x509 -new -key "$X/ca.key" -subj "/CN=Second client CA" -days 30 -out "$X/ca.pem" 2>/dev/null
for c in fresh revoked expired; do
	xkey $c
	openssl req -new -key "$X/$c.key" -subj "/CN=$c" -out "$X/$c.csr" 2>/dev/null
done
xca -in "$X/fresh.csr" -out "$X/fresh.pem" -days 30 -extensions client -notext
xca -in "$X/revoked.csr" -out "$X/revoked.pem" -days 30 -extensions client -notext
xca -in "$X/expired.csr" -out "$X/expired.pem" -startdate 20200101000000Z \
	-enddate 20200102000000Z -extensions client -notext
xca -revoke "$X/revoked.pem"
xca -gencrl -out "$X/crl.pem"
cat "$X/ca.pem" >>"$D/clients-ca.pem"
cat "$D/state/clients.crl" "$X/crl.pem" >"$D/all.crl"
sed -i "s|^  crl: .*|  crl: $D/all.crl|" "$D/seald.yaml"
if [ -s "$X/expired.pem" ] && [ -s "$X/crl.pem" ]; then
	ok "a second client CA with fresh, revoked and expired certificates"
else
	nok "a second client CA with fresh, revoked and expired certificates"
fi

seald_start "$D" || { nok "seald starts"; cat "$D/seald.log"; exit 1; }
appliance_unseal "$D" && appliance_demo_seal "$D" &&
	ok "seald starts, is unsealed, and has a granted demo seal" ||
	nok "seald starts, is unsealed, and has a granted demo seal"
NETPID=$(pgrep -P "$SEALD_PID" -x seald-net)
CA="--cacert $D/state/ca.pem"
DC="--cert $D/clients/demo/client.pem --key $D/clients/demo/client.key"
J=(-H 'Content-Type: application/json')
doc=$T/contract.txt
echo "Contract 42: the parties agree." >"$doc"
sha=$(sha256sum "$doc" | cut -d' ' -f1)

# call WHAT STATUS PATTERN -- CURL_ARGS: the status and a body matching PATTERN.
call() {
	local what=$1 want=$2 pat=$3 got
	shift 4
	got=$(curl $C -o "$T/out" -w '%{http_code}' "$@" 2>&1)
	if [ "$got" = "$want" ] && grep -qE -- "$pat" "$T/out"; then
		ok "$what"
	else
		nok "$what (got $got: $(head -c 300 "$T/out"))"
	fi
}
# refused WHAT CURL_ARGS: the TLS handshake fails.
refused() {
	local what=$1
	shift
	if curl --silent $CA "$@" "$URL/v1/health" >/dev/null 2>&1; then nok "$what"; else ok "$what"; fi
}
# s_client CONNECT_ARGS: openssl's client to the appliance.
s_client() { openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$D/state/ca.pem" "$@"; }

# --- the sandbox -----------------------------------------------------------------
st=/proc/$NETPID/status
if [ -n "$NETPID" ] && grep -qE '^Seccomp:[[:space:]]+2' "$st" && grep -qE '^NoNewPrivs:[[:space:]]+1' "$st"; then
	ok "the net worker runs with no_new_privs and a seccomp filter"
else
	nok "the net worker's sandbox ($(grep -E 'Seccomp|NoNewPrivs' "$st" 2>&1 | tr '\n' ' '))"
fi
if [ "$(id -u)" = 0 ]; then
	uid=$(awk '/^Uid:/ {print $2}' "$st")
	root=$(readlink "/proc/$NETPID/root")
	[ "$uid" = "$(id -u nobody)" ] && [ "$root" = "$D/state/netroot" ] &&
		ok "started as root, the net worker is nobody inside an empty chroot" ||
		nok "net worker uid $uid, root $root"
else
	ok "# SKIP chroot and setuid need root"
fi

# --- TLS ---------------------------------------------------------------------------
refused "no client certificate: the handshake fails"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=stranger \
	-keyout "$T/stranger.key" -out "$T/stranger.pem" -days 30 2>/dev/null
refused "a certificate of an unknown CA: the handshake fails" --cert "$T/stranger.pem" --key "$T/stranger.key"
refused "a revoked certificate (CRL): the handshake fails" --cert "$X/revoked.pem" --key "$X/revoked.key"
refused "an expired certificate: the handshake fails" --cert "$X/expired.pem" --key "$X/expired.key"
refused "TLS 1.1 is refused" $DC --tls-max 1.1
refused "TLS 1.2 without ECDHE is refused" $DC --tls-max 1.2 --ciphers AES128-GCM-SHA256
refused "TLS 1.2 with CBC is refused" $DC --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-SHA256
got=$(curl --silent $CA $DC --tls-max 1.2 "$URL/v1/health")
grep -q '"state"' <<<"$got" && ok "TLS 1.2 with ECDHE and AES-GCM works" || nok "TLS 1.2 ($got)"
code=$(curl --silent $CA --cert "$X/fresh.pem" --key "$X/fresh.key" -o "$T/out" -w '%{http_code}' \
	"${J[@]}" -d "$(sign_body "$sha")" "$URL/v1/seals/demo-seal/sign")
[ "$code" = 403 ] && grep -q '"code":"unknown_principal"' "$T/out" &&
	ok "a valid certificate of the second CA reaches the monitor, which knows no principal for it" ||
	nok "second CA certificate (got $code: $(cat "$T/out"))"
for v in -tls1_2 -tls1_3; do
	rm -f "$T/sess.pem"
	(printf 'GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 0.5) |
		s_client $v $DC -sess_out "$T/sess.pem" >/dev/null 2>&1
	r=$( (printf 'GET /v1/seals HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 0.5) | s_client $v -sess_in "$T/sess.pem" 2>&1)
	grep -q '^Reused' <<<"$r" && grep -q '"id":"demo-seal"' <<<"$r" &&
		ok "a resumed session ($v, no certificate sent) keeps the client's identity" ||
		nok "resumption $v ($(grep -E '^(Reused|New)|HTTP/' <<<"$r" | tr '\n' ' '))"
done

# --- errors the net worker answers itself ------------------------------------------
S=$URL/v1/seals/demo-seal/sign
call "malformed JSON is 400 bad_json" 400 '"code":"bad_json"' -- "${J[@]}" -d '{"digest":' "$S"
call "a body that is not an object is 400 bad_json" 400 '"code":"bad_json"' -- "${J[@]}" -d '["x"]' "$S"
call "duplicate keys are 400 bad_json" 400 '"code":"bad_json"' -- "${J[@]}" \
	-d '{"document_name":"a","document_name":"b"}' "$S"
call "a field of the wrong type is 400 bad_request naming it" 400 '"code":"bad_request".*document_name' -- \
	"${J[@]}" -d "{\"digest\":{\"alg\":\"sha256\",\"value\":\"$sha\"},\"document_name\":42}" "$S"
call "a missing field is 400 bad_request naming it" 400 '"code":"bad_request".*document_name: missing' -- \
	"${J[@]}" -d "{\"digest\":{\"alg\":\"sha256\",\"value\":\"$sha\"}}" "$S"
call "an unknown field is 400 bad_request" 400 "unknown field 'signer'" -- \
	"${J[@]}" -d "{\"digest\":{\"alg\":\"sha256\",\"value\":\"$sha\"},\"document_name\":\"a\",\"signer\":1}" "$S"
call "a digest of the wrong length is 400 bad_digest" 400 '"code":"bad_digest"' -- \
	"${J[@]}" -d "$(sign_body "${sha:0:62}")" "$S"
call "a digest that is not hex is 400 bad_digest" 400 '"code":"bad_digest"' -- \
	"${J[@]}" -d "$(sign_body "${sha:0:63}z")" "$S"
call "md5 is 400 unsupported_alg" 400 '"code":"unsupported_alg"' -- \
	"${J[@]}" -d '{"digest":{"alg":"md5","value":"00"},"document_name":"a"}' "$S"
call "a bad seal id in the path is 400 bad_request" 400 '"code":"bad_request".*seal id' -- \
	"${J[@]}" -d "$(sign_body "$sha")" "$URL/v1/seals/a%2Fb/sign"
call "a malformed query is 400 bad_query" 400 '"code":"bad_query"' -- "$URL/v1/ledger/entries?start=x&count=1"
call "count over 1000 is 400 bad_query" 400 '"code":"bad_query"' -- "$URL/v1/ledger/entries?start=0&count=1001"
call "an unknown path is 404 not_found" 404 '"code":"not_found"' -- "$URL/v1/sealz"
call "a wrong method is 405 method_not_allowed" 405 '"code":"method_not_allowed"' -- -X DELETE "$S"
allow=$(curl $C -D - -o /dev/null -X PUT "$URL/v1/ledger/sth" | tr -d '\r' | grep -i '^Allow:')
[ "$allow" = "Allow: GET" ] && ok "405 names the allowed method in Allow" || nok "Allow header ($allow)"
call "a form body is 415 unsupported_media_type" 415 '"code":"unsupported_media_type"' -- -d "$(sign_body "$sha")" "$S"
call "a JSON body on the TSA is 415" 415 '"code":"unsupported_media_type"' -- "${J[@]}" -d '{}' "$URL/v1/tsa"
items=""
for i in 1 2 3 4 5 6; do items="$items{\"seal\":\"demo-seal\",\"digest\":{\"alg\":\"sha256\",\"value\":\"$sha\"},\"document_name\":\"d$i\"},"; done
call "a batch over sign.batch_max (5) is 413 too_large" 413 '"code":"too_large"' -- \
	"${J[@]}" -d "{\"items\":[${items%,}]}" "$URL/v1/sign/batch"
head -c 70000 /dev/zero | tr '\0' ' ' >"$T/big"
call "a body over http.max_body (64 KiB) is 413" 413 '' -- "${J[@]}" --data-binary @"$T/big" "$S"
call "a chunked body over http.max_body is 413" 413 '' -- "${J[@]}" -H 'Transfer-Encoding: chunked' \
	--data-binary @"$T/big" "$S"
code=$(curl $C -o /dev/null -w '%{http_code}' -H "X-Filler: $(head -c 9000 /dev/zero | tr '\0' a)" "$URL/v1/health")
[ "$code" = 400 ] && ok "headers over http.max_headers are refused (400, from libevent)" ||
	nok "oversized headers (got $code)"

# --- what goes through -----------------------------------------------------------------
call "a document sent whole is sealed over its SHA-256" 200 '"cms"' -- "${J[@]}" \
	-d "{\"document\":\"$(base64 -w0 "$doc")\",\"document_name\":\"contract.txt\"}" "$S"
sed -E 's/.*"cms":"([^"]*)".*/\1/' "$T/out" | base64 -d >"$T/doc.p7s"
expect "the CMS made from a whole document verifies over it" 0 "Verification successful" -- \
	openssl cms -verify -binary -inform DER -in "$T/doc.p7s" -content "$doc" \
	-CAfile "$D/state/ca.pem" -purpose any -out /dev/null
it() { printf '{"seal":"%s","digest":{"alg":"sha256","value":"%s"},"document_name":"%s"}' "$1" "$sha" "$2"; }
call "a batch answers each item in order, a refused one among them" 200 \
	'^\{"results":\[\{"cms":[^}]*"seal":"demo-seal"\},\{"error":\{"code":"unknown_seal"[^}]*\}\},\{"cms":[^}]*"seal":"demo-seal"\}\]\}$' -- \
	"${J[@]}" -d "{\"items\":[$(it demo-seal a),$(it no-such-seal b),$(it demo-seal c)]}" "$URL/v1/sign/batch"
call "a batch larger than the free queue (http.queue_max 4) is 503 busy" 503 '"code":"busy"' -- \
	"${J[@]}" -d "{\"items\":[$(it demo-seal a),$(it demo-seal b),$(it demo-seal c),$(it demo-seal d),$(it demo-seal e)]}" \
	"$URL/v1/sign/batch"
n=$(curl $C -v "$URL/v1/health" "$URL/v1/seals" "$URL/v1/ledger/sth" 2>&1 | grep -c 'Re-using existing connection')
[ "$n" = 2 ] && ok "keep-alive: three requests on one connection" || nok "keep-alive (reused $n times)"

# --- time limits -------------------------------------------------------------------------
t0=$(date +%s%N)
(printf 'GET /v1/health HTTP/1.1\r\nHost: x\r\n'; for _ in $(seq 40); do printf 'X-A: b\r\n'; sleep 0.2; done) |
	timeout 12 openssl s_client -quiet -connect "127.0.0.1:$PORT" -CAfile "$D/state/ca.pem" $DC >/dev/null 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 3500 ] && ok "a client dripping its headers is cut off after http.read_timeout (2 s: ${ms} ms)" ||
	nok "a dripping client lasted ${ms} ms"
t0=$(date +%s%N)
# -ign_eof: s_client stays after its input ends and leaves when the server closes.
printf 'GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n' | timeout 12 openssl s_client -ign_eof -quiet \
	-connect "127.0.0.1:$PORT" -CAfile "$D/state/ca.pem" $DC >"$T/idle" 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
grep -q '"state"' "$T/idle" && [ "$ms" -ge 3500 ] && [ "$ms" -lt 6500 ] &&
	ok "an idle keep-alive connection is closed after http.idle_timeout (4 s: ${ms} ms)" ||
	nok "idle connection lasted ${ms} ms ($(head -c 200 "$T/idle"))"
t0=$(date +%s%N)
timeout 12 openssl s_client -ign_eof -quiet -connect "127.0.0.1:$PORT" -CAfile "$D/state/ca.pem" $DC \
	</dev/null >/dev/null 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 3500 ] && ok "a connection that sends no request is closed after http.read_timeout (${ms} ms)" ||
	nok "a silent connection lasted ${ms} ms"

# --- connections ---------------------------------------------------------------------------
pids=()
for _ in 1 2 3 4 5 6; do
	(printf 'GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 3) |
		openssl s_client -quiet -connect "127.0.0.1:$PORT" -CAfile "$D/state/ca.pem" $DC >/dev/null 2>&1 &
	pids+=($!)
done
sleep 1
t0=$(date +%s%N)
got=$(curl $C --max-time 3 "$URL/v1/health" 2>&1)
ms=$((($(date +%s%N) - t0) / 1000000))
! grep -q '"state"' <<<"$got" && [ "$ms" -lt 1000 ] &&
	ok "a connection over http.max_connections (6) is closed at once (${ms} ms)" ||
	nok "connection over the limit: $got (${ms} ms)"
wait "${pids[@]}" 2>/dev/null
sleep 0.3
call "below the limit again, new connections are served" 200 '"state"' -- "$URL/v1/health"

# --- clients that leave ------------------------------------------------------------------------
for i in 1 2 3; do
	body="{\"items\":[$(it demo-seal x$i),$(it demo-seal y$i)]}"
	printf 'POST /v1/sign/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
		"${#body}" "$body" | openssl s_client -quiet -connect "127.0.0.1:$PORT" -CAfile "$D/state/ca.pem" \
		$DC >/dev/null 2>&1
done
head -c 30000 /dev/urandom | timeout 5 openssl s_client -quiet -connect "127.0.0.1:$PORT" \
	-CAfile "$D/state/ca.pem" $DC >/dev/null 2>&1
sleep 1
call "clients that sent a request and left, or sent garbage, leave the worker serving" 200 '"state"' -- "$URL/v1/health"
now=$(pgrep -P "$SEALD_PID" -x seald-net)
[ -n "$NETPID" ] && [ "$now" = "$NETPID" ] &&
	ok "the same net worker served everything above (it never crashed)" ||
	nok "the net worker changed: $NETPID -> $now ($(grep -i 'net' "$D/seald.log" | tail -3))"
seald_stop "$D"
exit 0
