#!/usr/bin/env bash
# Grants with conditions and quotas (issue 4, "Grants" and "Quotas"), end to
# end against the real seald (throwaway SoftHSM token, real TLS, real LMDB):
# each refusal reached by the behaviour that should reach it, with its
# message and its ledger entry; a quota of N under 32 concurrent sign
# requests gives exactly N signatures and 429 quota_exceeded for the rest,
# and still holds after a restart; GET /v1/grants (and sealctl grants) shows
# the conditions to those who may see them and 403 to the sysadmin.
. "$(dirname "$0")/lib.sh"

appliance_up "$T/a"

# app, app2: applications that seal (both may act for alice); alice: a person;
# sa1: seal-admin of sub-1 (where the seals are); sa2: seal-admin of sub-2;
# sec, aud, baud, ops: secadmin, auditor, business-auditor, sysadmin.
enrol_clients app app2 alice sa1 sa2 sec aud baud ops
SEALS="s-doc s-hours s-days s-future s-past s-apps s-appr s-otp s-quota s-month s-old"
{
	$A unit add --id sub-1 --name "Subsidiary One" --parent group &&
	$A unit add --id sub-2 --name "Subsidiary Two" --parent group &&
	$A principal add --cert "$(cert alice)" --name alice --unit sub-1 &&
	$A principal add --cert "$(cert app)" --name app --kind application --unit sub-1 \
		--role requester --may-act-for alice &&
	$A principal add --cert "$(cert app2)" --name app2 --kind application --unit sub-1 \
		--role requester --may-act-for alice &&
	$A principal add --cert "$(cert sa1)" --name sa1 --unit sub-1 --role seal-admin &&
	$A principal add --cert "$(cert sa2)" --name sa2 --unit sub-2 --role seal-admin &&
	$A principal add --cert "$(cert sec)" --name sec --role secadmin &&
	$A principal add --cert "$(cert aud)" --name aud --role auditor &&
	$A principal add --cert "$(cert baud)" --name baud --role business-auditor &&
	$A principal add --cert "$(cert ops)" --name ops --role sysadmin &&
	for s in $SEALS; do
		$A seal create --id "$s" --name "Seal $s" --type contract --key ec-p256 \
			--image "$D/stamp.png" --unit sub-1 || exit 1
	done
} >/dev/null || { nok "units, principals and seals"; exit 1; }

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
# check WHAT WANT_STATUS WANT_CODE MESSAGE_REGEX WHO METHOD PATH [BODY]
check() {
	local what=$1 want=$2 wcode=$3 wmsg=$4 got code msg
	shift 4
	got=$(call "$@")
	code=$(jq -r '.error.code // "-"' "$T/out.json" 2>/dev/null)
	msg=$(jq -r '.error.message // ""' "$T/out.json" 2>/dev/null)
	if [ "$got" = "$want" ] && [ "$code" = "$wcode" ] && grep -qE -- "$wmsg" <<<"$msg"; then
		ok "$what"
	else
		nok "$what (wanted $want $wcode /$wmsg/, got $got: $(head -c 400 "$T/out.json"))"
	fi
}
doc=$T/doc.txt
echo "Purchase contract 7" >"$doc"
sha=$(sha256sum "$doc" | cut -d' ' -f1)
# body [EXTRA_JSON_MEMBERS]: a sign body, e.g. body '"document_type":"hr"'.
body() {
	printf '{"digest":{"alg":"sha256","value":"%s"},"document_name":"c7.pdf"%s}' "$sha" "${1:+,$1}"
}
refusals() {	# CODE: how many sign refusals with this code the ledger holds
	call aud GET "/v1/ledger/entries?start=0&count=1000" >/dev/null
	jq "[.entries[].entry | select(.result == \"refused:$1\")] | length" "$T/out.json" 2>/dev/null ||
		echo -1
}
# refused WHAT STATUS CODE MESSAGE_REGEX WHO SEAL [EXTRA]: refused, and ledgered.
refused() {
	local what=$1 st=$2 code=$3 msg=$4 who=$5 seal=$6 extra=${7:-} n0 n1
	n0=$(refusals "$code")
	check "$what: $st $code" "$st" "$code" "$msg" "$who" POST "/v1/seals/$seal/sign" \
		"$(body "$extra")"
	n1=$(refusals "$code")
	[ "$n1" -eq $((n0 + 1)) ] && ok "$what: the refusal is ledgered (refused:$code)" ||
		nok "$what: ledgered refusals $n0 -> $n1"
}

# ---- the administrator's side ----------------------------------------------------
H=$(date -u +%-H)
away_a=$(( (H + 2) % 24 )); away_b=$(( (H + 3) % 24 )); [ "$away_b" -eq 0 ] && away_b=24
AWAY=$(printf '%02d-%02d' "$away_a" "$away_b")
DAYS=(mon tue wed thu fri sat sun)
TODAY=${DAYS[$(( $(date -u +%u) - 1 ))]}
OTHER_DAY=${DAYS[$(( $(date -u +%u) % 7 ))]}
TOMORROW=$(date -u -d tomorrow +%Y-%m-%d)
YESTERDAY=$(date -u -d yesterday +%Y-%m-%d)
{
	$A grant add --seal s-doc --principal app --doc-types contract,invoice &&
	$A grant add --seal s-hours --principal app --hours "$AWAY" &&
	$A grant add --seal s-days --principal app --days "$OTHER_DAY" &&
	$A grant add --seal s-future --principal app --from "$TOMORROW" &&
	$A grant add --seal s-past --principal app --from 2020-01-01 --to "${YESTERDAY}T12:00:00Z" &&
	$A grant add --seal s-apps --principal alice --apps app &&
	$A grant add --seal s-appr --principal app --approval 2:board &&
	$A grant add --seal s-otp --principal app --confirm totp &&
	$A grant add --seal s-quota --principal app --per-day 5 --per-month 100 \
		--hours 00-24 --days mon-sun &&
	$A grant add --seal s-month --principal app --per-month 2 &&
	$A grant add --seal s-old --principal app
} >"$T/grants.out" 2>&1 && ok "sealadm grant add takes every condition" ||
	nok "sealadm grant add with conditions: $(cat "$T/grants.out")"

expect "grant add answers with the conditions it stored" 0 \
	'"hours": "09-18"' -- \
	$A grant add --seal s-old --principal alice --hours 09-18 --days mon-fri
expect "grant add refuses a bad --hours before asking seald" 2 "--hours: HH-HH" -- \
	$A grant add --seal s-old --principal sa1 --hours 9-25
expect "grant add refuses a bad --days before asking seald" 2 "--days: mon..sun" -- \
	$A grant add --seal s-old --principal sa1 --days mon-xyz
expect "grant add refuses a bad --from before asking seald" 2 "--from: YYYY-MM-DD" -- \
	$A grant add --seal s-old --principal sa1 --from 2026-13-45
expect "grant add refuses --approval without a group" 2 "--approval: K:GROUP" -- \
	$A grant add --seal s-old --principal sa1 --approval 2
expect "grant add refuses --confirm other than none or totp" 2 "--confirm: none or totp" -- \
	$A grant add --seal s-old --principal sa1 --confirm sms
expect "seald refuses a validity that ends before it starts" 1 \
	"bad_request: the grant must be valid from a time before it is valid to" -- \
	$A grant add --seal s-old --principal sa1 --from 2027-01-01 --to 2026-01-01
expect "seald refuses a document type outside a-z 0-9 _ -" 1 "bad_request: document type 'Hr'" -- \
	$A grant add --seal s-old --principal sa1 --doc-types Hr
expect "seald refuses an --apps name that is not an application" 1 \
	"unknown_principal: no application 'alice'" -- \
	$A grant add --seal s-old --principal sa1 --apps alice
expect "a second grant for the same seal and principal is refused" 1 "exists" -- \
	$A grant add --seal s-doc --principal app
call aud GET "/v1/ledger/entries?start=0&count=1000" >/dev/null
jq -e '[.entries[].entry | select(.action == "grant.add" and .seal == "s-quota" and .per_day == 5
	and .per_month == 100 and .hours == "any" and .confirm == "none")] | length == 1' \
	"$T/out.json" >/dev/null &&
	ok "grant.add is ledgered with all its conditions" ||
	nok "grant.add entry for s-quota ($(jq -c '[.entries[].entry | select(.action == "grant.add")][8]' "$T/out.json"))"
jq -e '[.entries[].entry | select(.action == "grant.add" and .seal == "s-doc" and
	.doc_types == ["contract","invoice"])] | length == 1' "$T/out.json" >/dev/null &&
	ok "grant.add of s-doc is ledgered with its document types" ||
	nok "grant.add entry for s-doc"

# ---- each refusal, reached by what should reach it --------------------------------
check "a grant made the old way (no conditions) still seals" 200 - "" \
	app POST /v1/seals/s-old/sign "$(body)"
refused "a document type the grant does not list" 403 document_type_not_allowed \
	"allows document types contract, invoice only, not 'hr'" app s-doc '"document_type":"hr"'
refused "no document type where the grant lists some" 403 document_type_not_allowed \
	"names none" app s-doc
check "a document type the grant lists seals" 200 - "" \
	app POST /v1/seals/s-doc/sign "$(body '"document_type":"invoice"')"
refused "outside the grant's hours" 403 outside_hours \
	"allows sealing at hours $AWAY UTC on days any; it is now [0-9]{2}:[0-9]{2} UTC" app s-hours
refused "on a day the grant does not allow" 403 outside_hours \
	"at hours any UTC on days $OTHER_DAY; it is now .* UTC on a $TODAY" app s-days
refused "before the grant is valid" 403 grant_not_yet_valid \
	"is valid from ${TOMORROW}T00:00:00Z" app s-future
refused "after the grant expired" 403 grant_expired \
	"expired at ${YESTERDAY}T12:00:00Z" app s-past
refused "an application the grant does not list, for alice" 403 application_not_allowed \
	"grant of 'alice' on seal 's-apps' may be used only through app, not through 'app2'" \
	app2 s-apps '"on_behalf_of":"alice"'
check "the listed application carries alice's grant" 200 - "" \
	app POST /v1/seals/s-apps/sign "$(body '"on_behalf_of":"alice"')"
refused "a grant that needs approval, without one" 403 approval_required \
	"requires the approval of 2 of group 'board'" app s-appr
refused "a grant with confirm: totp, without a code" 403 otp_required \
	"requires the signer's current one-time code" app s-otp

# ---- the quota under 32 concurrent requests ----------------------------------------
mkdir -p "$T/q"
for i in $(seq 32); do
	# shellcheck disable=SC2046
	curl $(as app) -X POST -H Content-Type:application/json --data-binary "$(body)" \
		-o "$T/q/$i.json" -w '%{http_code}\n' "$URL/v1/seals/s-quota/sign" >"$T/q/$i.st" &
	pids="${pids:-} $!"
done
# shellcheck disable=SC2086
wait $pids		# the curls only: seald runs in the background too
n200=$(cat "$T"/q/*.st | grep -c '^200$')
n429=$(cat "$T"/q/*.st | grep -c '^429$')
nq=$(grep -l '"code":"quota_exceeded"' "$T"/q/*.json | wc -l)
[ "$n200" -eq 5 ] && [ "$n429" -eq 27 ] && [ "$nq" -eq 27 ] &&
	ok "a quota of 5 a day under 32 concurrent requests: exactly 5 sealed, 27 are 429 quota_exceeded" ||
	nok "quota under concurrency: $n200 x 200, $n429 x 429, $nq quota_exceeded ($(cat "$T"/q/*.st | sort | uniq -c | tr '\n' ' '))"
NEXT_DAY="$(date -u -d tomorrow +%Y-%m-%d)T00:00:00Z"
check "the quota refusal names the limit and when it resets" 429 quota_exceeded \
	"allows 5 uses per day \\(UTC\\) and 5 are used; it resets at $NEXT_DAY" \
	app POST /v1/seals/s-quota/sign "$(body)"
check "a monthly quota: the first of 2 seals" 200 - "" app POST /v1/seals/s-month/sign "$(body)"
check "a monthly quota: the second of 2 seals" 200 - "" app POST /v1/seals/s-month/sign "$(body)"
NEXT_MONTH="$(date -u -d "$(date -u +%Y-%m-01) +1 month" +%Y-%m-%d)T00:00:00Z"
check "a monthly quota: the third is refused until the month ends" 429 quota_exceeded \
	"allows 2 uses per month \\(UTC\\) and 2 are used; it resets at $NEXT_MONTH" \
	app POST /v1/seals/s-month/sign "$(body)"
n=$(refusals quota_exceeded)
[ "$n" -eq 29 ] && ok "every quota refusal is ledgered (29)" || nok "quota refusals ledgered: $n, wanted 29"
nsig=$(call aud GET "/v1/ledger/entries?start=0&count=1000" >/dev/null;
	jq '[.entries[].entry | select(.action == "sign" and .seal == "s-quota" and .result == "ok")] | length' "$T/out.json")
[ "$nsig" -eq 5 ] && ok "the ledger holds exactly 5 signatures with s-quota" ||
	nok "signatures with s-quota in the ledger: $nsig"

# ---- the count survives a restart -----------------------------------------------------
seald_stop
seald_start "$D" || { nok "seald starts again"; exit 1; }
appliance_unseal "$D" || { nok "unseal after the restart"; exit 1; }
check "after a restart the day's quota is still used up" 429 quota_exceeded \
	"allows 5 uses per day" app POST /v1/seals/s-quota/sign "$(body)"
check "after a restart other grants still seal" 200 - "" app POST /v1/seals/s-old/sign "$(body)"

# ---- GET /v1/grants ------------------------------------------------------------------
st=$(call sec GET "/v1/grants?seal=s-doc")
[ "$st" = 200 ] && jq -e '.grants | length == 1 and .[0].principal == "app" and
	.[0].doc_types == ["contract","invoice"] and .[0].per_day == 0 and .[0].hours == "any" and
	.[0].approval == "none" and .[0].confirm == "none" and .[0].apps == []' "$T/out.json" >/dev/null &&
	ok "GET /v1/grants?seal=s-doc (secadmin) shows the document types" ||
	nok "GET /v1/grants?seal=s-doc: $st $(head -c 400 "$T/out.json")"
st=$(call aud GET "/v1/grants?seal=s-quota")
[ "$st" = 200 ] && jq -e '.grants[0] | .per_day == 5 and .per_month == 100 and
	.used.day == 5 and .used.month == 5' "$T/out.json" >/dev/null &&
	ok "GET /v1/grants?seal=s-quota (auditor) shows the limits and the uses counted" ||
	nok "GET /v1/grants?seal=s-quota: $st $(head -c 400 "$T/out.json")"
st=$(call baud GET "/v1/grants")
[ "$st" = 200 ] && jq -e --arg h "$AWAY" --arg d "$OTHER_DAY" --arg f "${TOMORROW}T00:00:00Z" '
	(.grants | length) == 12 and
	(.grants[] | select(.seal == "s-hours") | .hours == $h) and
	(.grants[] | select(.seal == "s-days") | .days == $d) and
	(.grants[] | select(.seal == "s-future") | .valid_from == $f and .valid_to == null) and
	(.grants[] | select(.seal == "s-apps") | .principal == "alice" and .apps == ["app"]) and
	(.grants[] | select(.seal == "s-appr") | .approval == "2 of board") and
	(.grants[] | select(.seal == "s-otp") | .confirm == "totp")' "$T/out.json" >/dev/null &&
	ok "GET /v1/grants (business-auditor) lists every grant with its conditions" ||
	nok "GET /v1/grants as baud: $st $(head -c 600 "$T/out.json")"
st=$(call sa1 GET "/v1/grants")
[ "$st" = 200 ] && jq -e '.grants | length == 12' "$T/out.json" >/dev/null &&
	ok "the seal-admin of the seals' unit sees their grants" ||
	nok "GET /v1/grants as sa1: $st $(head -c 300 "$T/out.json")"
st=$(call sa2 GET "/v1/grants")
[ "$st" = 200 ] && jq -e '.grants | length == 0' "$T/out.json" >/dev/null &&
	ok "a seal-admin of another unit sees none of them" ||
	nok "GET /v1/grants as sa2: $st $(head -c 300 "$T/out.json")"
check "a seal-admin of another unit: ?seal= is 404 unknown_seal" 404 unknown_seal "s-doc" \
	sa2 GET "/v1/grants?seal=s-doc"
check "the sysadmin gets 403 on GET /v1/grants" 403 forbidden_role \
	"GET /v1/grants needs one of the roles" ops GET /v1/grants
check "a requester gets 403 on GET /v1/grants" 403 forbidden_role "" app GET /v1/grants
check "an unknown query parameter is 400 bad_query" 400 bad_query "seal=ID" \
	sec GET "/v1/grants?principal=app"
check "a malformed seal id is 400 bad_query" 400 bad_query "seal:" \
	sec GET "/v1/grants?seal=a/b"
ctl() {
	local who=$1
	shift
	"$BIN/sealctl" --server "127.0.0.1:$PORT" --cert "$D/clients/$who/client.pem" \
		--key "$D/clients/$who/client.key" --ca "$D/state/ca.pem" "$@"
}
expect "sealctl grants --seal s-quota shows the quota" 0 '"per_day": 5' -- \
	ctl aud grants --seal s-quota
expect "sealctl grants as the sysadmin fails with forbidden_role" 1 "forbidden_role" -- \
	ctl ops grants
expect "sealctl grants refuses a bad --seal before asking" 2 "--seal" -- \
	ctl aud grants --seal "a b"
