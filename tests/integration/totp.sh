#!/usr/bin/env bash
# Intent confirmation with TOTP (issue 4), end to end against the real seald
# (throwaway SoftHSM token, real TLS, real LMDB), with curl and sealctl: a
# person enrols (an otpauth:// URI with a base32 secret), confirms with a
# first code, and each code is then accepted once: the same code again, or
# an older one, is a replay; a code from beyond the window of one step is
# invalid; of eight requests racing with one code, one wins. Applications
# and the appliance roles are refused; the secret is on disk only sealed by
# the HSM's key (neither the base32 text nor the raw bytes are in the LMDB
# file), survives a restart, and neither it nor a code reaches the ledger.
#
# Codes come from tests/tools/totp (liboath's generator) at an explicit unix
# time. The daemon's clock cannot be set, so the tests stay within its window
# of one 30 s step either side: the code for now+30 is valid and later than
# the code for now; the code for now+120 is not valid.
. "$(dirname "$0")/lib.sh"

TOTP=$BIN/tools/totp
appliance_up "$T/a"

WHO="alice bob carol dave app ops aud baud"
enrol_clients $WHO
{
	$A principal add --cert "$(cert alice)" --name alice --role requester &&
	$A principal add --cert "$(cert bob)" --name bob --role approver &&
	$A principal add --cert "$(cert carol)" --name carol --role requester &&
	$A principal add --cert "$(cert dave)" --name dave --role seal-admin &&
	$A principal add --cert "$(cert app)" --name app --kind application --role requester &&
	$A principal add --cert "$(cert ops)" --name ops --role sysadmin &&
	$A principal add --cert "$(cert aud)" --name aud --role auditor &&
	$A principal add --cert "$(cert baud)" --name baud --role business-auditor
} >/dev/null || { nok "register the principals"; exit 1; }

as() {
	echo "--silent --show-error --cert $D/clients/$1/client.pem --key $D/clients/$1/client.key --cacert $D/state/ca.pem"
}
# call WHO PATH [BODY]: POST; the HTTP status; the answer in $T/out.json.
call() {
	local who=$1 path=$2
	shift 2
	# shellcheck disable=SC2046
	curl $(as "$who") -X POST -o "$T/out.json" -w '%{http_code}' \
		${1:+-H Content-Type:application/json --data-binary "$1"} "$URL$path"
}
# check WHAT WANT_STATUS WANT_CODE WHO PATH [BODY]
check() {
	local what=$1 want=$2 wcode=$3 got code
	shift 3
	got=$(call "$@")
	code=$(jq -r '.error.code // "-"' "$T/out.json" 2>/dev/null)
	if [ "$got" = "$want" ] && [ "$code" = "$wcode" ]; then
		ok "$what"
	else
		nok "$what (wanted $want $wcode, got $got: $(head -c 300 "$T/out.json"))"
	fi
}
otp() { printf '{"otp":"%s"}' "$1"; }
E=/v1/principals/me/totp
# enrol WHO [BODY]: the base32 secret of a fresh enrolment, or "".
enrol() {
	local got
	got=$(call "$1" "$E" "${2:-}")
	[ "$got" = 200 ] || { echo ""; return; }
	jq -r .otpauth_uri "$T/out.json" | sed -n 's/^.*[?&]secret=\([A-Z2-7]*\)&.*$/\1/p'
}
# A six-digit code that is none of the secret's codes around now.
wrong_code() {
	local now c bad
	now=$(date +%s)
	c=$(( (10#$("$TOTP" "$1" "$now") + 500000) % 1000000 ))
	bad=$(printf '%06d' "$c")
	for dt in -60 -30 0 30 60; do
		[ "$bad" != "$("$TOTP" "$1" $((now + dt)))" ] || bad=$(printf '%06d' $(( (c + 1) % 1000000 )))
	done
	echo "$bad"
}

# ---- before enrolment; who may enrol -----------------------------------------
check "verify before any enrolment is 403 otp_not_enrolled" 403 otp_not_enrolled \
	alice "$E/verify" "$(otp 123456)"
check "confirm before any enrolment is 403 otp_not_enrolled" 403 otp_not_enrolled \
	alice "$E/confirm" "$(otp 123456)"
check "an application cannot enrol: 403 not_a_person" 403 not_a_person app "$E"
check "an application cannot verify: 403 not_a_person" 403 not_a_person app "$E/verify" \
	"$(otp 123456)"
check "the sysadmin cannot enrol (it never seals): 403 forbidden_role" 403 forbidden_role ops "$E"
check "the auditor cannot enrol (it only reads): 403 forbidden_role" 403 forbidden_role aud "$E"
check "the business-auditor cannot enrol: 403 forbidden_role" 403 forbidden_role baud "$E"
check "confirm without otp is 400 bad_request" 400 bad_request alice "$E/confirm" '{}'
check "an otp of letters is 400 bad_request" 400 bad_request alice "$E/verify" '{"otp":"12ab56"}'
check "an unknown key is 400 bad_request" 400 bad_request alice "$E" '{"otp":"123456","x":1}'
got=$(curl $(as alice) -o "$T/out.json" -w '%{http_code}' "$URL$E")
[ "$got" = 405 ] && ok "GET on the enrolment path is 405" || nok "GET $E gave $got"

# ---- enrolment ---------------------------------------------------------------
got=$(call alice "$E")
uri=$(jq -r .otpauth_uri "$T/out.json" 2>/dev/null)
if [ "$got" = 200 ] && [[ "$uri" =~ ^otpauth://totp/Sealbox:alice\?secret=[A-Z2-7]{32}\&issuer=Sealbox\&algorithm=SHA1\&digits=6\&period=30$ ]]; then
	ok "enrolment answers an otpauth:// URI with a 32-character base32 secret"
else
	nok "enrolment: $got $(cat "$T/out.json")"
fi
old=$(sed -n 's/^.*secret=\([A-Z2-7]*\)&.*$/\1/p' <<<"$uri")
check "verify while the enrolment is unconfirmed is 403 otp_not_enrolled" 403 otp_not_enrolled \
	alice "$E/verify" "$(otp "$("$TOTP" "$old")")"
sec=$(enrol alice '{}')
[ -n "$sec" ] && [ "$sec" != "$old" ] && ok "enrolling again replaces a pending secret with a new one" ||
	nok "re-enrolment of a pending secret: $(cat "$T/out.json")"
check "the replaced secret's code no longer confirms: 403 otp_invalid" 403 otp_invalid \
	alice "$E/confirm" "$(otp "$("$TOTP" "$old")")"
check "confirm with a wrong code is 403 otp_invalid" 403 otp_invalid \
	alice "$E/confirm" "$(otp "$(wrong_code "$sec")")"

# ---- confirm, then each code once ---------------------------------------------
now=$(date +%s)
c0=$("$TOTP" "$sec" "$now")
c1=$("$TOTP" "$sec" $((now + 30)))
c4=$("$TOTP" "$sec" $((now + 120)))
check "confirm with the current code is 200" 200 - alice "$E/confirm" "$(otp "$c0")"
check "confirming again is 409 totp_active" 409 totp_active alice "$E/confirm" "$(otp "$c1")"
check "verify with the code that confirmed is 403 otp_replayed" 403 otp_replayed \
	alice "$E/verify" "$(otp "$c0")"
[ "$c4" != "$c1" ] && check "a code from beyond the window (now+120 s) is 403 otp_invalid" 403 otp_invalid \
	alice "$E/verify" "$(otp "$c4")"
check "verify with the next step's code (within the window, later) is 200" 200 - \
	alice "$E/verify" "$(otp "$c1")"
check "the same code again is 403 otp_replayed" 403 otp_replayed alice "$E/verify" "$(otp "$c1")"
check "an older code, unused but earlier than the last accepted, is 403 otp_replayed" 403 otp_replayed \
	alice "$E/verify" "$(otp "$c0")"
check "a wrong code after confirmation is 403 otp_invalid" 403 otp_invalid \
	alice "$E/verify" "$(otp "$(wrong_code "$sec")")"
check "another person's code is not alice's: bob has none, 403 otp_not_enrolled" 403 otp_not_enrolled \
	bob "$E/verify" "$(otp "$c1")"

# ---- replacing an active secret ------------------------------------------------
check "replacing a confirmed secret without a code is 409 totp_active" 409 totp_active alice "$E"
check "replacing it with a wrong code is 403 otp_invalid" 403 otp_invalid alice "$E" \
	"$(otp "$(wrong_code "$sec")")"
check "replacing it with a used code is 403 otp_replayed" 403 otp_replayed alice "$E" "$(otp "$c1")"
bsec=$(enrol bob)
now=$(date +%s)
check "bob confirms" 200 - bob "$E/confirm" "$(otp "$("$TOTP" "$bsec" "$now")")"
nsec=$(enrol bob "$(otp "$("$TOTP" "$bsec" $((now + 30)))")")
[ -n "$nsec" ] && [ "$nsec" != "$bsec" ] && ok "a current code of the confirmed secret replaces it (new secret, pending)" ||
	nok "replace bob's confirmed secret: $(cat "$T/out.json")"
check "the new secret waits for its confirmation: verify is 403 otp_not_enrolled" 403 otp_not_enrolled \
	bob "$E/verify" "$(otp "$("$TOTP" "$nsec" "$now")")"

# ---- one code, eight requests at once ----------------------------------------
dsec=$(enrol dave)
now=$(date +%s)
check "dave confirms" 200 - dave "$E/confirm" "$(otp "$("$TOTP" "$dsec" "$now")")"
d1=$(otp "$("$TOTP" "$dsec" $((now + 30)))")
pids=
for i in $(seq 8); do
	# shellcheck disable=SC2046
	curl $(as dave) -o "$T/race.$i" -w '%{http_code}\n' -H Content-Type:application/json \
		--data-binary "$d1" "$URL$E/verify" >"$T/race.$i.status" &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
won=$(cat "$T"/race.*.status | grep -c '^200$')
lost=$(cat "$T"/race.[1-8] | grep -o '"otp_replayed"' | wc -l)
[ "$won" = 1 ] && [ "$lost" = 7 ] && ok "of 8 concurrent verifies with one code, exactly 1 is accepted and 7 are otp_replayed" ||
	nok "concurrent verifies: $won accepted, $lost replayed"

# ---- sealctl ------------------------------------------------------------------
S="$BIN/sealctl --server 127.0.0.1:$PORT --cert $(cert carol) --key $D/clients/carol/client.key --ca $D/state/ca.pem"
csec=$($S totp enrol 2>"$T/err" | jq -r .otpauth_uri | sed -n 's/^.*secret=\([A-Z2-7]*\)&.*$/\1/p')
[ -n "$csec" ] && ok "sealctl totp enrol prints the otpauth:// URI" || nok "sealctl totp enrol: $(cat "$T/err")"
cc=$("$TOTP" "$csec")
expect "sealctl totp confirm CODE confirms the enrolment" 0 '"result": "ok"' -- $S totp confirm "$cc"
expect "sealctl totp verify with the used code fails with otp_replayed" 1 \
	"^sealctl: otp_replayed: " -- $S totp verify "$cc"
expect "sealctl totp verify with a code of letters is a usage error" 2 "totp: expected" -- \
	$S totp verify abcdef

# ---- what is on disk and in the ledger ---------------------------------------
db=$D/state/ledger/data.mdb
hexsec=$(printf '%s' "$sec" | base32 -d 2>/dev/null | od -An -tx1 | tr -d ' \n')
[ ${#hexsec} = 40 ] || nok "decode alice's secret for the disk check (${#hexsec} hex digits)"
mdb_dump -s policy/totp "$D/state/ledger" >"$T/totp.dump" 2>&1
n=$(grep -c '^ ' "$T/totp.dump")
[ "$n" = 8 ] && ok "the TOTP database holds a record for each of the 4 enrolled persons" ||
	nok "policy/totp dump: $n lines ($(head -c 300 "$T/totp.dump"))"
if grep -qF "$sec" "$db" || grep -qF "$csec" "$db"; then
	nok "a base32 secret is in the LMDB file in clear"
else
	ok "no base32 secret is in the LMDB file"
fi
od -An -tx1 -v "$db" | tr -d ' \n' >"$T/db.hex"
grep -q "53425431" "$T/db.hex" && ok "the byte scan finds the sealed records' magic SBT1 (it can fail)" ||
	nok "the byte scan does not even find the records' magic"
if grep -q "$hexsec" "$T/db.hex"; then
	nok "alice's raw secret bytes are in the LMDB file"
else
	ok "alice's raw secret bytes are not in the LMDB file"
fi
grep -qi "$hexsec" "$T/totp.dump" && nok "the raw secret is in policy/totp's values" ||
	ok "policy/totp's values do not contain the raw secret"
curl $(as aud) -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
acts=$(jq -r '[.entries[].entry | select(.action | startswith("totp.")) | .action] | unique | join(",")' "$T/led.json")
[ "$acts" = "totp.confirm,totp.enrol,totp.verify" ] && ok "enrolments, confirmations and verifications are ledgered" ||
	nok "totp ledger actions: $acts"
jq -c '.entries[].entry | select(.action | startswith("totp."))' "$T/led.json" >"$T/totp-entries"
if grep -qE "$sec|$csec|$hexsec|otpauth|\"otp\"|$c0|$c1" "$T/totp-entries"; then
	nok "a TOTP ledger entry holds a secret or a code"
else
	ok "no TOTP ledger entry holds a secret, a URI or a code"
fi
r=$(jq -r 'select(.action == "totp.verify" and .principal == "alice") | .result' "$T/totp-entries" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
[[ "$r" == *"1 ok;"* && "$r" == *"refused:otp_replayed"* ]] && ok "refused verifications are ledgered with their code" ||
	nok "alice's verify results in the ledger: $r"
# pkcs11-tool needs the user PIN for private objects; the derivepin tool gives it.
pin=$("$BIN/tools/derivepin" sbx-test "$S1" "$S2" 2>/dev/null)
n=$(pkcs11-tool --module "$MODULE" --token-label sealbox --login --pin "$pin" -O --type secrkey 2>/dev/null |
	grep -c 'label: *sealbox-totp')
pkcs11-tool --module "$MODULE" --token-label sealbox --login --pin "$pin" -O --type secrkey \
	2>/dev/null >"$T/secrkey"
[ "$n" = 1 ] && grep -q 'never extractable' "$T/secrkey" && grep -qi 'sensitive' "$T/secrkey" &&
	ok "the sealing key is one AES secret key in the token, sensitive and never extractable" ||
	nok "the TOTP key in the token: $n ($(tr '\n' ' ' <"$T/secrkey" | head -c 300))"

# ---- a restart: the key and the counters persist -------------------------------
seald_stop
seald_start "$D" || { nok "seald starts again"; exit 1; }
check "sealed after a restart: verify is 503 sealed" 503 sealed alice "$E/verify" "$(otp "$c1")"
appliance_unseal "$D" || nok "unseal again"
check "after a restart the last accepted code is still a replay" 403 otp_replayed \
	alice "$E/verify" "$(otp "$c1")"
# carol confirmed with the code of her step, sealctl's: the next step's is fresh.
check "after a restart the records open with the token's key: carol's next code is 200" 200 - \
	carol "$E/verify" "$(otp "$("$TOTP" "$csec" $(($(date +%s) + 30)))")"

# ---- sealing under a grant with confirm: totp ---------------------------------
# erin, a requester with a grant that wants her code with each sealing; the
# application app seals on her behalf with the code she gives it.
enrol_clients erin
$A principal add --cert "$(cert erin)" --name erin --role requester >/dev/null &&
	$A principal add --cert "$D/clients/demo/client.pem" --name demo-erp --kind application \
		--role requester --may-act-for erin >/dev/null &&
	$A seal create --id otp-seal --name "Confirmed seal" --type finance --key ec-p256 \
		--image "$D/stamp.png" --unit demo >/dev/null &&
	$A grant add --seal otp-seal --principal erin --confirm totp >/dev/null ||
	nok "erin, a seal and a grant with --confirm totp"
esec=$(enrol erin '{}')
check "erin confirms her enrolment" 200 - erin "$E/confirm" "$(otp "$("$TOTP" "$esec")")"
sign() {	# sign WHO [OTP] [BEHALF]: sign a digest with otp-seal
	local body
	body=$(printf '{"digest":{"alg":"sha256","value":"%064d"},"document_name":"pay.pdf"%s%s}' 7 \
		"${2:+,\"otp\":\"$2\"}" "${3:+,\"on_behalf_of\":\"$3\"}")
	curl $(as "$1") -o "$T/out.json" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "$body" "$URL/v1/seals/otp-seal/sign"
}
expect_sign() {	# expect_sign WHAT STATUS CODE WHO [OTP] [BEHALF]
	local what=$1 want=$2 wcode=$3 got code
	shift 3
	got=$(sign "$@")
	code=$(jq -r '.error.code // "-"' "$T/out.json" 2>/dev/null)
	[ "$got" = "$want" ] && [ "$code" = "$wcode" ] && ok "$what" ||
		nok "$what (wanted $want $wcode, got $got: $(head -c 300 "$T/out.json"))"
}
next=$("$TOTP" "$esec" $(($(date +%s) + 30)))
expect_sign "a sealing under confirm: totp without a code is 403 otp_required" 403 otp_required erin
expect_sign "with a wrong code it is 403 otp_invalid" 403 otp_invalid erin "$(wrong_code "$esec")"
expect_sign "with her fresh code it is sealed" 200 - erin "$next"
expect_sign "the same code again is 403 otp_replayed: a code seals once" 403 otp_replayed erin "$next"
got=$(curl $C -o "$T/out.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "$(printf '{"digest":{"alg":"sha256","value":"%064d"},"document_name":"pay.pdf","on_behalf_of":"erin","otp":"%s"}' 8 "$next")" \
	"$URL/v1/seals/otp-seal/sign")
[ "$got" = 403 ] && jq -e '.error.code == "otp_replayed"' "$T/out.json" >/dev/null &&
	ok "an application sealing for erin with her used code: 403 otp_replayed" ||
	nok "on behalf with a used code: $got $(head -c 200 "$T/out.json")"
curl $(as aud) -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
n=$(jq '[.entries[].entry | select(.action == "sign" and .seal == "otp-seal" and .result == "ok")] | length' "$T/led.json")
r=$(jq '[.entries[].entry | select(.seal == "otp-seal" and (.result | startswith("refused:otp")))] | length' "$T/led.json")
[ "$n" = 1 ] && [ "$r" = 4 ] && ! grep -q "\"$next\"" "$T/led.json" &&
	ok "the ledger: one sealing, four otp refusals, and no code in it" ||
	nok "ledger of the confirmed seal: $n sealed, $r refused"
echo "pay" >"$T/pay.txt"
expect "sealctl sign --otp passes the code (a used one: otp_replayed)" 1 "otp_replayed" -- \
	"$BIN/sealctl" --server "127.0.0.1:$PORT" --cert "$(cert erin)" --key "$D/clients/erin/client.key" \
	--ca "$D/state/ca.pem" sign --seal otp-seal --otp "$next" --document-type invoice "$T/pay.txt"
