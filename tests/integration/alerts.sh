#!/usr/bin/env bash
# Alerts (issue 4, "Risk controls"), end to end against the real seald: each
# alert is raised by the behaviour that should raise it and not by normal use
# (outside_hours, seal_not_active, burst, repeated_refusals,
# revoked_certificate), ledgered with the sequence number of the entry it is
# about and without document names or digests, written to the log (the
# monitor's syslog line, which the test reads in seald's stderr), and listed
# at GET /v1/alerts for the secadmin and the auditor (a seal-admin sees its
# units' seals; the sysadmin gets 403); counted alerts come once per window,
# and a revoked certificate presented again and again raises one alert a
# minute, whether on a connection opened before the CRL reload or in new
# handshakes. Low limits come from the test's seald.yaml, until the
# secadmin sets their own (sealadm alerts thresholds, and the console's
# item), which take effect at once and outlive a restart.
. "$(dirname "$0")/lib.sh"

appliance_up "$T/a" 'alerts:
  burst_max: 3
  burst_window: 3600
  refusals_max: 4
  refusals_window: 3600
http:
  idle_timeout: 30'
LOG=$D/seald.log

# app: the application of normal use; app2: the one that bursts; bad: a
# requester without any grant (refused again and again); victim: revoked
# later; sa1/sa2: seal-admins of sub-1 (the seals' unit) and sub-2; sec, aud,
# ops: secadmin, auditor, sysadmin.
WHO="app app2 bad victim sa1 sa2 sec aud ops"
enrol_clients $WHO
H=$(date -u +%-H)
away_a=$(( (H + 2) % 24 )); away_b=$(( (H + 3) % 24 )); [ "$away_b" -eq 0 ] && away_b=24
AWAY=$(printf '%02d-%02d' "$away_a" "$away_b")
{
	$A unit add --id sub-1 --name "Subsidiary One" --parent group &&
	$A unit add --id sub-2 --name "Subsidiary Two" --parent group &&
	for a in app app2 bad victim; do
		$A principal add --cert "$(cert $a)" --name $a --kind application --unit sub-1 \
			--role requester || exit 1
	done &&
	$A principal add --cert "$(cert sa1)" --name sa1 --unit sub-1 --role seal-admin &&
	$A principal add --cert "$(cert sa2)" --name sa2 --unit sub-2 --role seal-admin &&
	$A principal add --cert "$(cert sec)" --name sec --role secadmin &&
	$A principal add --cert "$(cert aud)" --name aud --role auditor &&
	$A principal add --cert "$(cert ops)" --name ops --role sysadmin &&
	for s in s-ok s-hours s-frozen s-burst; do
		$A seal create --id "$s" --name "Seal $s" --type contract --key ec-p256 \
			--image "$D/stamp.png" --unit sub-1 || exit 1
	done &&
	$A grant add --seal s-ok --principal app &&
	$A grant add --seal s-hours --principal app --hours "$AWAY" &&
	$A grant add --seal s-frozen --principal app &&
	$A grant add --seal s-burst --principal app2 &&
	$A grant add --seal s-ok --principal victim
} >"$T/setup.out" 2>&1 || { nok "units, principals, seals and grants: $(tail -3 "$T/setup.out")"; exit 1; }

as() {
	echo "--silent --show-error --cert $D/clients/$1/client.pem --key $D/clients/$1/client.key --cacert $D/state/ca.pem"
}
# call WHO METHOD PATH [BODY]: the HTTP status; the answer in $T/out.json.
call() {
	local who=$1 m=$2 path=$3
	shift 3
	# shellcheck disable=SC2046
	curl $(as "$who") -X "$m" -o "$T/out.json" -w '%{http_code}' \
		${1:+-H Content-Type:application/json --data-binary "$1"} "$URL$path"
}
sha=$(printf 'Purchase contract 7' | sha256sum | cut -d' ' -f1)
sign() { call "$1" POST "/v1/seals/$2/sign" "$(sign_body "$sha" secret-plan.pdf)"; }
# alerts WHO [QUERY]: the alerts WHO sees (all of them: one page of 1000), in $T/alerts.json.
alerts() {
	local st
	st=$(call "$1" GET "/v1/alerts?count=1000${2:+&$2}")
	cp "$T/out.json" "$T/alerts.json"
	echo "$st"
}
nalerts() { alerts aud "${1:-}" >/dev/null; jq '.alerts | length' "$T/alerts.json"; }
logged() { grep -c "alert: $1:" "$LOG"; }

# ---- normal use raises nothing ----------------------------------------------------
codes=""
for _ in 1 2 3; do codes="$codes $(sign app s-ok)"; done
[ "$codes" = " 200 200 200" ] && ok "app seals with s-ok three times (burst_max)" ||
	nok "normal sealings: $codes ($(cat "$T/out.json"))"
[ "$(alerts aud)" = 200 ] && [ "$(jq '.alerts | length' "$T/alerts.json")" = 0 ] &&
	[ "$(jq '.more' "$T/alerts.json")" = false ] &&
	[ "$(grep -c 'alert: ' "$LOG")" = 0 ] &&
	ok "normal use (up to burst_max sealings) raises no alert and logs none" ||
	nok "alerts after normal use: $(head -c 400 "$T/alerts.json"); $(grep 'alert: ' "$LOG" | head -3)"

# ---- outside_hours ------------------------------------------------------------------
st=$(sign app s-hours)
code=$(jq -r '.error.code' "$T/out.json")
ref=$(jq -r '.seq // empty' "$T/out.json")
[ "$st/$code" = "403/outside_hours" ] && ok "a sealing outside the grant's hours is refused" ||
	nok "outside hours: $st $(cat "$T/out.json")"
n=$(nalerts kind=outside_hours)
about=$(jq -r '.alerts[0].about_seq' "$T/alerts.json")
[ "$n" = 1 ] && [ "$(jq -r '.alerts[0] | "\(.action) \(.kind) \(.seal) \(.principal) \(.actor)"' \
	"$T/alerts.json")" = "alert outside_hours s-hours app seald" ] &&
	jq -e '.alerts[0].detail | test("allows sealing at hours")' "$T/alerts.json" >/dev/null &&
	ok "outside_hours: one alert for seal s-hours and principal app, with the refusal's text" ||
	nok "outside_hours alert: $(cat "$T/alerts.json")"
call aud GET "/v1/ledger/entries?start=$about&count=1" >/dev/null
[ "$(jq -r '.entries[0].entry | "\(.action) \(.result) \(.seal)"' "$T/out.json")" = \
	"sign refused:outside_hours s-hours" ] && { [ -z "$ref" ] || [ "$ref" = "$about" ]; } &&
	ok "the alert's about_seq is the ledger entry of the refusal" ||
	nok "about_seq $about: $(head -c 300 "$T/out.json")"
[ "$(logged outside_hours)" = 1 ] && grep -q "alert: outside_hours: seal=s-hours principal=app about_seq=$about" "$LOG" &&
	grep -E "alert: outside_hours" "$LOG" | grep -q ': warning: ' &&
	ok "outside_hours: one warning line in the log (the monitor's syslog line)" ||
	nok "outside_hours log: $(grep 'alert: ' "$LOG")"

# ---- seal_not_active ---------------------------------------------------------------------
[ "$(call sa1 POST /v1/requests '{"kind":"freeze","seal":"s-frozen","reason":"lost"}')" = 201 ] &&
	ok "sa1 freezes s-frozen" || nok "freeze s-frozen: $(cat "$T/out.json")"
st=$(sign app s-frozen)
[ "$st/$(jq -r '.error.code' "$T/out.json")" = "409/seal_not_active" ] &&
	ok "a sealing with the frozen seal is refused" || nok "frozen: $st $(cat "$T/out.json")"
n=$(nalerts kind=seal_not_active)
[ "$n" = 1 ] && [ "$(jq -r '.alerts[0] | "\(.seal) \(.principal) \(.detail)"' "$T/alerts.json")" = \
	"s-frozen app seal 's-frozen' is frozen" ] && [ "$(logged seal_not_active)" = 1 ] &&
	ok "seal_not_active: one alert (ledger and log) for the attempt on the frozen seal" ||
	nok "seal_not_active alert: $(cat "$T/alerts.json")"
sign app s-frozen >/dev/null	# (not more: app's refusals stay under refusals_max)
[ "$(nalerts kind=seal_not_active)" = 1 ] && [ "$(logged seal_not_active)" = 1 ] &&
	ok "a second attempt on the frozen seal within the window: still one alert" ||
	nok "repeated seal_not_active: $(nalerts kind=seal_not_active) alerts"

# ---- burst ----------------------------------------------------------------------------------
codes=""
for _ in 1 2 3; do codes="$codes $(sign app2 s-burst)"; done
n=$(nalerts kind=burst)
[ "$codes" = " 200 200 200" ] && [ "$n" = 0 ] && ok "burst_max (3) sealings by app2 raise no burst" ||
	nok "before the burst: $codes, $n alerts"
sign app2 s-burst >/dev/null
n=$(nalerts kind=burst)
[ "$n" = 2 ] && jq -e '[.alerts[].detail] | any(test("sealings with seal .s-burst."))' \
	"$T/alerts.json" >/dev/null && jq -e '[.alerts[].detail] | any(test("sealings by .app2."))' \
	"$T/alerts.json" >/dev/null &&
	ok "the 4th sealing within the window raises burst, once per seal and once per principal" ||
	nok "burst: $n alerts: $(cat "$T/alerts.json")"
for _ in 1 2 3; do sign app2 s-burst >/dev/null; done
n=$(nalerts kind=burst)
[ "$n" = 2 ] && [ "$(logged burst)" = 2 ] &&
	ok "more sealings in the same window raise no more burst alerts (one per window)" ||
	nok "burst after 7 sealings: $n alerts, $(logged burst) log lines"

# ---- repeated_refusals -----------------------------------------------------------------------
codes=""
for _ in 1 2 3; do codes="$codes $(sign bad s-ok)"; done
n=$(nalerts kind=repeated_refusals)
[ "$codes" = " 403 403 403" ] && [ "$n" = 0 ] &&
	ok "three refusals of 'bad' (refusals_max 4) raise nothing" || nok "refusals: $codes, $n alerts"
sign bad s-ok >/dev/null
n=$(nalerts kind=repeated_refusals)
[ "$n" = 1 ] && [ "$(jq -r '.alerts[0].principal' "$T/alerts.json")" = bad ] &&
	jq -e '.alerts[0].detail | test("4 sign requests of .bad. refused")' "$T/alerts.json" >/dev/null &&
	ok "the 4th refusal raises repeated_refusals for 'bad'" ||
	nok "repeated_refusals: $(cat "$T/alerts.json")"
for _ in 1 2 3 4; do sign bad s-ok >/dev/null; done
n=$(nalerts kind=repeated_refusals)
[ "$n" = 1 ] && [ "$(logged repeated_refusals)" = 1 ] &&
	ok "eight refusals in one window: still one repeated_refusals alert" ||
	nok "repeated_refusals after 8: $n"

# ---- listing: who sees what --------------------------------------------------------------------
[ "$(alerts sec)" = 200 ] && [ "$(jq '.alerts | length' "$T/alerts.json")" = 5 ] &&
	[ "$(jq -r '[.alerts[].kind] | sort | join(",")' "$T/alerts.json")" = \
	"burst,burst,outside_hours,repeated_refusals,seal_not_active" ] &&
	ok "the secadmin lists all five alerts with their kinds" ||
	nok "secadmin's list: $(head -c 600 "$T/alerts.json")"
jq -e '[.alerts[] | has("document_name") or has("document_digest") or has("cms")] | any | not' \
	"$T/alerts.json" >/dev/null && ! grep -q 'secret-plan' "$T/alerts.json" &&
	ok "no alert carries a document name, digest or signature" ||
	nok "an alert carries business data: $(cat "$T/alerts.json")"
[ "$(alerts aud)" = 200 ] && [ "$(jq '.alerts | length' "$T/alerts.json")" = 5 ] &&
	ok "the auditor lists them too" || nok "auditor's list: $(head -c 300 "$T/alerts.json")"
[ "$(alerts sa1)" = 200 ] && [ "$(jq '.alerts | length' "$T/alerts.json")" = 5 ] &&
	[ "$(alerts sa2)" = 200 ] && [ "$(jq '.alerts | length' "$T/alerts.json")" = 0 ] &&
	ok "a seal-admin sees the alerts of its unit's seals (sa1: 5), not another unit's (sa2: 0)" ||
	nok "seal-admin scope: $(head -c 300 "$T/alerts.json")"
st=$(alerts ops)
[ "$st/$(jq -r '.error.code' "$T/alerts.json")" = "403/forbidden_role" ] &&
	ok "the sysadmin gets 403 forbidden_role" || nok "sysadmin: $st $(cat "$T/alerts.json")"
st=$(alerts app)
[ "$st" = 403 ] && ok "a requester gets 403" || nok "requester: $st"
st=$(alerts sec kind=bogus)
[ "$st/$(jq -r '.error.code' "$T/alerts.json")" = "400/bad_query" ] &&
	ok "an unknown kind is 400 bad_query" || nok "kind=bogus: $st"
st=$(alerts sec 'from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z')
[ "$st" = 200 ] && [ "$(jq '.alerts | length' "$T/alerts.json")" = 0 ] &&
	[ "$(alerts sec "from=$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ)")" = 200 ] &&
	[ "$(jq '.alerts | length' "$T/alerts.json")" = 5 ] &&
	ok "from/to bound the alerts by time" || nok "from/to: $(head -c 300 "$T/alerts.json")"
st=$(call sec GET "/v1/alerts?count=2")
n1=$(jq '.alerts | length' "$T/out.json"); nx=$(jq '.next' "$T/out.json"); more=$(jq '.more' "$T/out.json")
st2=$(call sec GET "/v1/alerts?count=1000&start=$nx")
n2=$(jq '.alerts | length' "$T/out.json")
[ "$st/$st2/$n1/$more/$n2" = "200/200/2/true/3" ] &&
	ok "paging: count=2 gives two and where to go on; the rest from next" ||
	nok "paging: $st/$st2/$n1/$more/$n2"

# sealctl alerts, as the secadmin.
cp "$D/state/ca.pem" "$D/clients/sec/ca.pem"
printf 'server: 127.0.0.1:%s\ncert: client.pem\nkey: client.key\nca: ca.pem\ntimeout: 10\n' "$PORT" \
	>"$D/clients/sec/client.yaml"
out=$(SEALCTL_CONFIG=$D/clients/sec/client.yaml HOME=$T/home "$BIN/sealctl" alerts --kind burst 2>&1)
rc=$?
[ "$rc" = 0 ] && [ "$(grep -c '"kind":"burst"' <<<"$out")" = 2 ] && [ "$(wc -l <<<"$out")" = 2 ] &&
	ok "sealctl alerts --kind burst prints the two burst alerts, one a line" ||
	nok "sealctl alerts: rc $rc: $out"
out=$(SEALCTL_CONFIG=$D/clients/sec/client.yaml HOME=$T/home "$BIN/sealctl" alerts \
	--from 2000-01-01T00:00:00+00:00 --to 2000-01-02T00:00:00Z 2>&1)
rc=$?
[ "$rc" = 0 ] && [ -z "$out" ] && ok "sealctl alerts --from/--to (with a +00:00 offset) prints none for 2000" ||
	nok "sealctl alerts --from/--to: rc $rc: $out"

# ---- revoked_certificate -----------------------------------------------------------------------
VSERIAL=$(openssl x509 -in "$(cert victim)" -noout -serial | cut -d= -f2)
VC="-cert $D/clients/victim/client.pem -key $D/clients/victim/client.key"
count() { grep -c -- "$1" "$LOG" 2>/dev/null; }
hup() {
	local took
	took=$(count 'net: TLS material reloaded')
	kill -HUP "$SEALD_PID"
	for _ in $(seq 200); do
		[ "$(count 'net: TLS material reloaded')" -gt "$took" ] && return 0
		sleep 0.05
	done
	return 1
}
# conn I: one keep-alive connection of the victim: a request now, another once $T/go exists.
conn() {
	( printf 'GET /v1/seals HTTP/1.1\r\nHost: x\r\n\r\n'
	  for _ in $(seq 400); do [ -e "$T/go" ] && break; sleep 0.05; done
	  printf 'GET /v1/seals HTTP/1.1\r\nHost: x\r\n\r\n' ) |
		timeout 25 openssl s_client -quiet -ign_eof -connect "127.0.0.1:$PORT" \
			-CAfile "$D/state/ca.pem" $VC >"$T/conn$1.out" 2>&1
}
rm -f "$T/go"
pids=""
for i in 1 2 3 4 5 6; do conn $i & pids="$pids $!"; done
for i in 1 2 3 4 5 6; do
	for _ in $(seq 200); do grep -q 'HTTP/1.1 200' "$T/conn$i.out" 2>/dev/null && break; sleep 0.05; done
done
"$BIN/sealprov" revoke --config "$D/seald.yaml" --serial "$VSERIAL" "$S1" "$S2" >/dev/null 2>&1 &&
	hup && ok "the victim's certificate is revoked and the CRL reloaded" ||
	nok "revoke and reload"
touch "$T/go"
# shellcheck disable=SC2086
wait $pids
got=$(cat "$T"/conn*.out | grep -c '"code":"certificate_revoked"')
[ "$got" = 6 ] && ok "six kept-alive connections of the victim each get 403 certificate_revoked" ||
	nok "revoked answers: $got of 6 ($(head -c 300 "$T/conn1.out"))"
for _ in $(seq 100); do [ "$(logged revoked_certificate)" -ge 1 ] && break; sleep 0.05; done
sleep 0.5	# let any further report reach the monitor
n=$(nalerts kind=revoked_certificate)
[ "$n" = 1 ] && [ "$(jq -r '.alerts[0].principal' "$T/alerts.json")" = victim ] &&
	jq -e --arg s "$(sed 's/^0*//' <<<"$VSERIAL")" '.alerts[0].detail | test("revoked client certificate")' \
	"$T/alerts.json" >/dev/null && [ "$(logged revoked_certificate)" = 1 ] &&
	ok "six presentations of the revoked certificate within a minute: one revoked_certificate alert (ledger and log)" ||
	nok "revoked_certificate: $n alerts, $(logged revoked_certificate) log lines: $(cat "$T/alerts.json")"
# hammer WHO N: N new connections with WHO's certificate; their statuses, space separated.
hammer() {
	local i out=""
	for i in $(seq "$2"); do
		out="$out $(curl --silent --cacert "$D/state/ca.pem" --cert "$(cert "$1")" \
			--key "$D/clients/$1/client.key" -o /dev/null -w '%{http_code}' "$URL/v1/seals")"
	done
	echo "$out"
}
st=$(hammer victim 10)
sleep 0.5
n=$(nalerts kind=revoked_certificate)
[ "$st" = "$(printf ' 000%.0s' $(seq 10))" ] && [ "$n" = 1 ] && [ "$(logged revoked_certificate)" = 1 ] &&
	ok "ten new connections with the revoked certificate fail the handshake and raise no second alert within the minute" ||
	nok "hammering: statuses$st, $n alerts, $(logged revoked_certificate) log lines"
# A second certificate, revoked with no connection open: the handshake itself reports it.
"$BIN/sealprov" enrol --config "$D/seald.yaml" --cn victim2 --out-dir "$D/clients/victim2" \
	"$S1" "$S2" >/dev/null 2>&1 &&
	$A principal add --cert "$(cert victim2)" --name victim2 --kind application --unit sub-1 \
		--role requester >/dev/null &&
	[ "$(hammer victim2 1)" = " 200" ] &&
	"$BIN/sealprov" revoke --config "$D/seald.yaml" \
		--serial "$(openssl x509 -in "$(cert victim2)" -noout -serial | cut -d= -f2)" \
		"$S1" "$S2" >/dev/null 2>&1 && hup &&
	ok "a second certificate (victim2) is served, then revoked and the CRL reloaded" ||
	nok "victim2 setup"
st=$(hammer victim2 5)
for _ in $(seq 100); do [ "$(logged revoked_certificate)" -ge 2 ] && break; sleep 0.05; done
sleep 0.5
n=$(nalerts kind=revoked_certificate)
[ "$st" = " 000 000 000 000 000" ] && [ "$n" = 2 ] &&
	[ "$(jq -r '.alerts[1].principal' "$T/alerts.json")" = victim2 ] &&
	[ "$(logged revoked_certificate)" = 2 ] &&
	ok "five handshakes with victim2's revoked certificate: one revoked_certificate alert, from the handshake" ||
	nok "handshake alerts: statuses$st, $n alerts: $(cat "$T/alerts.json")"

# A forged certificate with the CA's name and victim2's revoked serial, signed
# by another key: refused at the handshake, and no alert (only a certificate
# the CA really issued is reported as revoked).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj "$(openssl x509 -in "$D/state/ca.pem" -noout -subject -nameopt compat | sed 's/^subject=//')" \
	-keyout "$T/fake-ca.key" -out "$T/fake-ca.pem" >/dev/null 2>&1 &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=victim2 \
		-keyout "$T/forged.key" -out "$T/forged.csr" >/dev/null 2>&1 &&
	openssl x509 -req -in "$T/forged.csr" -CA "$T/fake-ca.pem" -CAkey "$T/fake-ca.key" -days 1 \
		-set_serial "0x$(openssl x509 -in "$(cert victim2)" -noout -serial | cut -d= -f2)" \
		-out "$T/forged.pem" >/dev/null 2>&1 || nok "a forged certificate"
before=$(nalerts kind=revoked_certificate)
for _ in 1 2 3; do
	curl --silent --cacert "$D/state/ca.pem" --cert "$T/forged.pem" --key "$T/forged.key" \
		-o /dev/null "$URL/v1/seals"
done
sleep 1
[ "$(nalerts kind=revoked_certificate)" = "$before" ] &&
	ok "a forged certificate with a revoked serial raises no revoked_certificate alert" ||
	nok "forged certificates raised alerts: $(cat "$T/alerts.json")"

# ---- the secadmin's thresholds -------------------------------------------------------------------
# In force at once, ledgered with what they replace, kept across a restart;
# the auditor reads them, the sysadmin does not; out of range refused.
TH=("$BIN/sealadm" --config "$D/seald.yaml")
for u in testaud:auditor testsys:sysadmin; do
	printf '%s passphrase %s\n' "${u%%:*}" "$RANDOM$RANDOM" >"$T/${u%%:*}.p"
	$A admin add --user "${u%%:*}" --role "${u#*:}" --passphrase-fd 3 3<"$T/${u%%:*}.p" >/dev/null &&
		"${TH[@]}" login --user "${u%%:*}" --passphrase-fd 3 3<"$T/${u%%:*}.p" >"$T/${u%%:*}.tok" ||
		nok "a console account $u"
done
as_tok() { local t=$1; shift; "${TH[@]}" --session-fd 9 "$@" 9<"$T/$t.tok"; }
expect "alerts thresholds: those of the configuration until a secadmin sets them" 0 \
	'burst: +more than 3 sealings with one seal, or by one principal, within 3600 s' -- $A alerts thresholds
expect "...and it says where they come from" 0 'set by: +the configuration' -- $A alerts thresholds
expect "the auditor reads them" 0 'repeated refusals: +4 refused sign requests of one principal within 3600 s' \
	-- as_tok testaud alerts thresholds
expect "the sysadmin may not read them (403 forbidden_role)" 1 'forbidden_role' -- as_tok testsys alerts thresholds
expect "the auditor may not set them (403 forbidden_role)" 1 'forbidden_role' \
	-- as_tok testaud alerts thresholds --burst-max 50
n_before=$(mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -ac '"action":"alerts.thresholds"')
expect "a threshold over its bound is refused, saying the range" 1 \
	'bad_thresholds: burst_max: 1 to 1000000 \(1000001 given\)' -- $A alerts thresholds --burst-max 1000001
expect "a window of 0 is refused before it is sent" 2 '--burst-window: at least 1' \
	-- $A alerts thresholds --burst-window 0
expect "a window that is not a number is refused" 2 '--refusals-window: a number' \
	-- $A alerts thresholds --refusals-window 10m
[ "$(mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -ac '"action":"alerts.thresholds"')" = "$n_before" ] &&
	ok "nothing refused is ledgered" || nok "a refused change was ledgered"
n=$(nalerts kind=burst)
expect "the secadmin sets the burst threshold to 1 in 600 s" 0 \
	'alert thresholds ledgered \(entry [0-9]+\) and in force' -- $A alerts thresholds --burst-max 1 --burst-window 600
e=$(mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -a '"action":"alerts.thresholds"' | tail -n 1)
jq -e '.actor == "admin:testsec" and .before.burst_max == 3 and .before.burst_window == 3600 and
	.after.burst_max == 1 and .after.burst_window == 600 and .after.refusals_max == 4 and
	.after.refusals_window == 3600' <<<"$(sed 's/^ //' <<<"$e")" >/dev/null &&
	ok "ledgered as alerts.thresholds with the secadmin, what was in force and what is now" ||
	nok "alerts.thresholds entry: $e"
sign app s-ok >/dev/null
[ "$(nalerts kind=burst)" = $((n + 2)) ] &&
	ok "in force at once: app's next sealing with s-ok (its 4th in the window) raises burst, by seal and by principal" ||
	nok "no burst after the new threshold: $(nalerts kind=burst) (was $n)"
grep -q 'monitor: alert thresholds set by admin:testsec' "$LOG" &&
	ok "the monitor logs the change" || nok "no log line for the thresholds"
drive "at the console the secadmin sees them and sets repeated refusals to 2 in 120 s" thresholds \
	testsec "$(cat "$D/testsec.pass")" "more than 1 sealings" "" "" 2 120 \
	"repeated refusals:  2 refused sign requests of one principal within 120 s"
drive "the console refuses a threshold out of range at once" thresholds \
	testsec "$(cat "$D/testsec.pass")" "set by:" 0 "" "" "" "input refused: a number from 1 to 1000000"
seald_stop
seald_start "$D" && appliance_unseal "$D" || nok "seald restarts"
expect "after a restart the secadmin's thresholds are in force" 0 \
	'burst: +more than 1 sealings .* within 600 s' -- $A alerts thresholds
expect "...said to be a secadmin's" 0 'set by: +a secadmin' -- $A alerts thresholds
n=$(nalerts kind=burst)
sign app2 s-burst >/dev/null
sign app2 s-burst >/dev/null
[ "$(nalerts kind=burst)" = $((n + 2)) ] &&
	ok "after the restart the second sealing in a fresh window raises burst (burst_max 1)" ||
	nok "burst after the restart: $(nalerts kind=burst) (was $n)"

# ---- the whole ledger still verifies ------------------------------------------------------------
sleep 1.2	# a signed tree head over the last entries
expect "sealctl ledger verify: the ledger with its alert entries is VALID" 0 "ledger: VALID" -- \
	"$BIN/sealctl" --server "127.0.0.1:$PORT" --cert "$(cert aud)" \
	--key "$D/clients/aud/client.key" --ca "$D/state/ca.pem" ledger verify \
	--audit-cert "$D/state/audit.pem"
seald_stop
