#!/usr/bin/env bash
# Requests and approvals (issue 4, second slice), end to end against the real
# seald (throwaway SoftHSM token, real TLS, real LMDB), with curl and sealctl:
# one seal's lifecycle by requests — frozen by its custodian at once,
# unfrozen and deactivated only with a seal-admin's and a secadmin's
# approval — and every rule: no self-approval, one approval per principal,
# only the roles the rule needs, nothing decided twice, one pending request
# per seal; who sees which requests; and the ledger holding every step, in
# order, before it took effect.
. "$(dirname "$0")/lib.sh"

D=$T/a
mkdir -p "$D"
appliance_provision "$D" || { nok "a development appliance can be provisioned"; exit 1; }
seald_start "$D" || { nok "seald starts"; cat "$D/seald.log"; exit 1; }
appliance_unseal "$D" || { nok "unseal"; exit 1; }
A=sealadm_as
S1=$D/shares/sbx-test-share-1.txt
S2=$D/shares/sbx-test-share-2.txt

# sa1, sa2: custodians of sub-1; hq: seal-admin over the whole group; sa-other:
# custodian of sub-2; sec: secadmin; aud: auditor; ops: sysadmin; appr: an
# approver (not a role seal requests need); app: the application that seals.
WHO="sa1 sa2 hq sa-other sec aud ops appr app"
for who in $WHO; do
	"$BIN/sealprov" enrol --config "$D/seald.yaml" --cn "$who" --out-dir "$D/clients/$who" \
		"$S1" "$S2" >/dev/null 2>&1 || nok "enrol a certificate for $who"
done
cert() { echo "$D/clients/$1/client.pem"; }
{
	$A unit add --id sub-1 --name "Subsidiary One" --parent group &&
	$A unit add --id sub-2 --name "Subsidiary Two" --parent group &&
	$A principal add --cert "$(cert sa1)" --name sa1 --unit sub-1 --role seal-admin &&
	$A principal add --cert "$(cert sa2)" --name sa2 --unit sub-1 --role seal-admin &&
	$A principal add --cert "$(cert hq)" --name hq --role seal-admin@group &&
	$A principal add --cert "$(cert sa-other)" --name sa-other --unit sub-2 --role seal-admin &&
	$A principal add --cert "$(cert sec)" --name sec --role secadmin &&
	$A principal add --cert "$(cert aud)" --name aud --role auditor &&
	$A principal add --cert "$(cert ops)" --name ops --role sysadmin &&
	$A principal add --cert "$(cert appr)" --name appr --unit sub-1 --role approver &&
	$A principal add --cert "$(cert app)" --name app --kind application --unit sub-1 \
		--role requester &&
	$A seal create --id s1 --name "Subsidiary One contract seal" --type contract \
		--key ec-p256 --image "$D/stamp.png" --unit sub-1 &&
	$A grant add --seal s1 --principal app
} >/dev/null || { nok "units, principals, seal s1 and app's grant"; exit 1; }

# as WHO: curl's arguments for that principal's certificate.
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
# check WHAT WANT_STATUS WANT_CODE WHO METHOD PATH [BODY]
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
field() { jq -r "$1" "$T/out.json"; }
doc=$T/doc.txt
echo "Purchase contract 7" >"$doc"
sha=$(sha256sum "$doc" | cut -d' ' -f1)
sign() { call app POST /v1/seals/s1/sign "$(sign_body "$sha" contract.pdf)"; }
file() { printf '{"kind":"%s","seal":"%s","reason":"%s"}' "$1" "$2" "$3"; }

[ "$(sign)" = 200 ] && ok "the active seal s1 seals" || nok "sign on active s1 ($(cat "$T/out.json"))"

# ---- freeze: a loss report, in force at once ------------------------------------
check "a freeze filed by the custodian is executed at once (201)" 201 - \
	sa1 POST /v1/requests "$(file freeze s1 "the seal is lost")"
[ "$(field .id)/$(field .state)/$(field .requester)/$(field '.approvals|length')" = "r-1/executed/sa1/0" ] &&
	ok "the freeze is request r-1, executed, filed by sa1, with no approval needed" ||
	nok "freeze request ($(cat "$T/out.json"))"
check "a frozen seal refuses to seal (409 seal_not_active)" 409 seal_not_active \
	app POST /v1/seals/s1/sign "$(sign_body "$sha" contract.pdf)"
check "a frozen seal cannot be frozen again (409 seal_state)" 409 seal_state \
	sec POST /v1/requests "$(file freeze s1 "again")"
check "a custodian of another unit does not see s1 (404 unknown_seal)" 404 unknown_seal \
	sa-other POST /v1/requests "$(file freeze s1 "not mine")"
check "an approver cannot file seal requests (403 forbidden_role)" 403 forbidden_role \
	appr POST /v1/requests "$(file freeze s1 "x")"

# ---- unfreeze: needs a seal-admin and a secadmin, neither the requester -----------
check "sa2 files an unfreeze (201, pending)" 201 - \
	sa2 POST /v1/requests "$(file unfreeze s1 "found in the safe")"
[ "$(field .id)/$(field .state)" = "r-2/pending" ] && ok "the unfreeze is r-2, pending" ||
	nok "unfreeze request ($(cat "$T/out.json"))"
[ "$(field '[.rule[]|.role+"@"+.unit]|join(",")')" = "seal-admin@sub-1,secadmin@sub-1" ] &&
	ok "its rule: one seal-admin and one secadmin over the seal's unit" ||
	nok "rule ($(field .rule))"
check "a second request on s1 while r-2 is pending is refused (409 request_pending)" \
	409 request_pending sec POST /v1/requests "$(file deactivate s1 "end it")"
check "the requester cannot approve its own request (403 self_approval)" 403 self_approval \
	sa2 POST /v1/requests/r-2/approve
check "an approver (a role the rule does not need) neither sees nor approves it (404 unknown_request)" \
	404 unknown_request appr POST /v1/requests/r-2/approve
check "a custodian of another unit does not see r-2 (404 unknown_request)" 404 unknown_request \
	sa-other POST /v1/requests/r-2/approve
check "the auditor cannot approve (403 forbidden_role)" 403 forbidden_role \
	aud POST /v1/requests/r-2/approve
check "sa1, custodian of the seal's unit, approves r-2 (200)" 200 - \
	sa1 POST /v1/requests/r-2/approve
[ "$(field .state)/$(field '.approvals[0].principal')/$(field '.approvals[0].role')" = "pending/sa1/seal-admin" ] &&
	ok "after one approval r-2 is still pending, approved by sa1 as seal-admin" ||
	nok "r-2 after sa1 ($(cat "$T/out.json"))"
check "sa1 cannot approve r-2 twice (409 already_approved)" 409 already_approved \
	sa1 POST /v1/requests/r-2/approve
check "a second seal-admin cannot fill the seal-admin's place again (403 cannot_approve)" \
	403 cannot_approve hq POST /v1/requests/r-2/approve
grep -q "still needs an approval by secadmin over sub-1" "$T/out.json" &&
	ok "cannot_approve names what is still needed" || nok "message ($(cat "$T/out.json"))"
[ "$(sign)" = 409 ] && ok "s1 still refuses to seal while r-2 waits" || nok "sign during r-2"
check "the secadmin's approval completes r-2 (200)" 200 - sec POST /v1/requests/r-2/approve
[ "$(field .state)/$(field '.approvals|length')" = "executed/2" ] &&
	ok "r-2 is executed with two approvals" || nok "r-2 ($(cat "$T/out.json"))"
[ "$(sign)" = 200 ] && ok "s1 seals again after the unfreeze" || nok "sign after unfreeze ($(cat "$T/out.json"))"
check "an executed request cannot be approved (409 request_not_pending)" 409 request_not_pending \
	hq POST /v1/requests/r-2/approve

# ---- a rejection ------------------------------------------------------------------
check "the secadmin files a deactivation (201)" 201 - \
	sec POST /v1/requests "$(file deactivate s1 "contract business closed")"
check "the secadmin cannot approve its own deactivation (403 self_approval)" 403 self_approval \
	sec POST /v1/requests/r-3/approve
check "a rejection needs a reason (400 bad_request)" 400 bad_request \
	sa1 POST /v1/requests/r-3/reject '{}'
check "sa1 rejects r-3 with a reason (200)" 200 - \
	sa1 POST /v1/requests/r-3/reject '{"reason":"still in use"}'
[ "$(field .state)/$(field .rejection.principal)/$(field .rejection.reason)" = "rejected/sa1/still in use" ] &&
	ok "r-3 is rejected, by sa1, with its reason" || nok "r-3 ($(cat "$T/out.json"))"
check "a rejected request cannot be approved (409 request_not_pending)" 409 request_not_pending \
	sa2 POST /v1/requests/r-3/approve
check "a rejected request cannot be rejected again (409 request_not_pending)" 409 request_not_pending \
	sa2 POST /v1/requests/r-3/reject '{"reason":"again"}'
[ "$(sign)" = 200 ] && ok "s1 still seals after the rejected deactivation" || nok "sign after r-3"

# ---- deactivation by approvals: final -----------------------------------------------
check "sa2 files a deactivation (201)" 201 - sa2 POST /v1/requests "$(file deactivate s1 "replaced")"
check "hq (seal-admin over the group, so over sub-1) approves r-4" 200 - \
	hq POST /v1/requests/r-4/approve
check "the secadmin approves r-4: executed" 200 - sec POST /v1/requests/r-4/approve
[ "$(field .state)" = executed ] && ok "r-4 is executed" || nok "r-4 ($(cat "$T/out.json"))"
check "a deactivated seal refuses to seal (409 seal_not_active)" 409 seal_not_active \
	app POST /v1/seals/s1/sign "$(sign_body "$sha" contract.pdf)"
check "a deactivated seal cannot be unfrozen (409 seal_state)" 409 seal_state \
	sa1 POST /v1/requests "$(file unfreeze s1 "back")"
check "a deactivated seal cannot be frozen (409 seal_state)" 409 seal_state \
	sa1 POST /v1/requests "$(file freeze s1 "lost")"
[ "$(sign)" = 409 ] && ok "s1 refuses to seal for good" || nok "sign after deactivation"

# ---- bad input ----------------------------------------------------------------------
check "an unknown kind is refused (400 unknown_kind)" 400 unknown_kind \
	sa1 POST /v1/requests "$(file rename s1 "x")"
check "an unknown field is refused (400 bad_request)" 400 bad_request \
	sa1 POST /v1/requests '{"kind":"freeze","seal":"s1","reason":"x","urgent":true}'
check "a reason is required (400 bad_request)" 400 bad_request \
	sa1 POST /v1/requests '{"kind":"freeze","seal":"s1"}'
check "a reason with a control character is refused (400 bad_request)" 400 bad_request \
	sa1 POST /v1/requests '{"kind":"freeze","seal":"s1","reason":"a\u0007b"}'
check "a reason over 255 bytes is refused (400 bad_request)" 400 bad_request \
	sa1 POST /v1/requests "$(file freeze s1 "$(head -c 256 /dev/zero | tr '\0' x)")"
check "a request id must be r- and a number (400 bad_request)" 400 bad_request \
	sa1 GET /v1/requests/7
check "r-0 is not a request id (400 bad_request)" 400 bad_request sa1 GET /v1/requests/r-0
check "an unknown filter is refused (400 bad_query)" 400 bad_query sa1 GET "/v1/requests?unit=sub-1"
check "a state that does not exist is refused (400 bad_query)" 400 bad_query \
	sa1 GET "/v1/requests?state=done"
check "approve takes no fields (400 bad_request)" 400 bad_request \
	hq POST /v1/requests/r-4/approve '{"note":"x"}'
check "PUT /v1/requests is 405" 405 method_not_allowed sa1 PUT /v1/requests
allow=$(curl $(as sa1) -D - -o /dev/null -X PUT "$URL/v1/requests" | tr -d '\r' | grep -i '^Allow:')
[ "$allow" = "Allow: GET, POST" ] && ok "its Allow header names both methods of the path" ||
	nok "Allow header ($allow)"

# ---- who sees what ------------------------------------------------------------------
ids() { jq -r '[.requests[].id]|join(",")' "$T/out.json"; }
call sa1 GET /v1/requests >/dev/null
[ "$(ids)" = "r-4,r-3,r-2,r-1" ] && ok "the custodian sees every request on its unit's seals, newest first" ||
	nok "sa1's list ($(ids))"
call sa-other GET /v1/requests >/dev/null
[ "$(ids)" = "" ] && ok "another unit's custodian sees none of them" || nok "sa-other's list ($(ids))"
call aud GET "/v1/requests?state=executed" >/dev/null
[ "$(ids)" = "r-4,r-2,r-1" ] && ok "the auditor lists every executed request" ||
	nok "auditor, state=executed ($(ids))"
call aud GET "/v1/requests?kind=deactivate&state=rejected" >/dev/null
[ "$(ids)" = "r-3" ] && ok "filters combine (kind=deactivate&state=rejected)" ||
	nok "kind+state filter ($(ids))"
check "the sysadmin may not read requests (403 forbidden_role)" 403 forbidden_role \
	ops GET /v1/requests
check "nor one request (403 forbidden_role)" 403 forbidden_role ops GET /v1/requests/r-1
check "the auditor reads one request" 200 - aud GET /v1/requests/r-3
check "another unit's custodian gets 404 for r-1" 404 unknown_request sa-other GET /v1/requests/r-1

# ---- the ledger: every step, in order ---------------------------------------------
curl $(as aud) -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
steps=$(jq -r '[.entries[].entry | select(.action|startswith("request.")) |
	"\(.action):\(.request):\(.actor)"] | join(" ")' "$T/led.json")
want="request.file:r-1:sa1 request.execute:r-1:sa1 request.file:r-2:sa2 request.approve:r-2:sa1 request.approve:r-2:sec request.execute:r-2:sec request.file:r-3:sec request.reject:r-3:sa1 request.file:r-4:sa2 request.approve:r-4:hq request.approve:r-4:sec request.execute:r-4:sec"
[ "$steps" = "$want" ] && ok "the ledger shows every filing, approval, rejection and execution in order" ||
	nok "ledger steps: $steps"
jq -e '[.entries[].entry | select(.action=="request.execute" and .request=="r-4")][0].payload == {"from":"active","to":"deactivated"}' \
	"$T/led.json" >/dev/null && ok "the execution entry records the state change" ||
	nok "execute entry of r-4"
n_refused=$(jq '[.entries[].entry | select(.action=="sign" and (.result|startswith("refused:seal_not_active")))] | length' "$T/led.json")
[ "$n_refused" -ge 3 ] && ok "signatures refused on the frozen and deactivated seal are ledgered ($n_refused)" ||
	nok "refused signatures in the ledger: $n_refused"

# ---- sealctl --------------------------------------------------------------------------
$A seal create --id s2 --name "Subsidiary One finance seal" --type finance --key ec-p256 \
	--image "$D/stamp.png" --unit sub-1 >/dev/null || nok "seal s2"
ctl() {
	local who=$1
	shift
	"$BIN/sealctl" --server "127.0.0.1:$PORT" --cert "$D/clients/$who/client.pem" \
		--key "$D/clients/$who/client.key" --ca "$D/state/ca.pem" "$@"
}
expect "sealctl request file: a freeze of s2, executed" 0 '"state": "executed"' -- \
	ctl sa1 request file --kind freeze --seal s2 --reason "lost at the fair"
expect "sealctl request file: an unfreeze of s2, pending" 0 '"id": "r-6"' -- \
	ctl sa1 request file --kind unfreeze --seal s2 --reason "found"
expect "sealctl request approve refuses the requester (self_approval)" 1 'self_approval' -- \
	ctl sa1 request approve r-6
expect "sealctl request approve by sa2" 0 '"state": "pending"' -- ctl sa2 request approve r-6
expect "sealctl request list --state pending shows r-6" 0 '"id": "r-6"' -- \
	ctl sec request list --state pending
expect "sealctl request show r-6" 0 '"kind": "unfreeze"' -- ctl sec request show r-6
expect "sealctl request reject needs --reason" 2 'reason' -- ctl sec request reject r-6
expect "sealctl request reject r-6" 0 '"state": "rejected"' -- \
	ctl sec request reject r-6 --reason "wait for the inventory"
expect "sealctl request list as the sysadmin: forbidden_role" 1 'forbidden_role' -- \
	ctl ops request list

# ---- expiry ---------------------------------------------------------------------------
# A request filed "long ago": its expiry time is moved into the past in the
# policy store while seald is stopped (requests.ttl_hours is at least an hour).
check "sa1 files an unfreeze of s2 (r-7, pending)" 201 - \
	sa1 POST /v1/requests "$(file unfreeze s2 "found again")"
[ "$(field .id)/$(field .state)" = r-7/pending ] && ok "the unfreeze is r-7, pending" ||
	nok "the unfreeze is r-7 ($(cat "$T/out.json"))"
seald_stop
mdb_dump -p -s policy/requests "$D/state/ledger" >"$T/req.dump" &&
	sed -i -E '/"id":"r-7"/s/"expires":[0-9]+/"expires":1/' "$T/req.dump" &&
	mdb_load -s policy/requests -f "$T/req.dump" "$D/state/ledger" 2>"$T/mdb.err" ||
	nok "move r-7's expiry into the past"
seald_start "$D" && appliance_unseal "$D" || nok "seald starts again"
# Filing on its seal acts on it first: expired, it no longer holds the seal.
check "a pending request past its time does not hold back a new one on its seal" 201 - \
	sa2 POST /v1/requests "$(file unfreeze s2 "found, again")"
[ "$(field .id)" = r-8 ] && ok "the new request is r-8" || nok "new request ($(field .id))"
check "the old one reads as expired" 200 - sec GET /v1/requests/r-7
[ "$(field .state)" = expired ] && ok "r-7 is expired" || nok "r-7 ($(cat "$T/out.json"))"
check "an expired request cannot be approved (409 request_not_pending)" 409 request_not_pending \
	sec POST /v1/requests/r-7/approve
call aud GET "/v1/requests?state=expired" >/dev/null
[ "$(ids)" = r-7 ] && ok "state=expired lists it" || nok "expired list ($(ids))"
curl $(as aud) -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
n=$(jq '[.entries[].entry | select(.action=="request.expire" and .request=="r-7" and .actor=="monitor")] | length' "$T/led.json")
[ "$n" = 1 ] && ok "the expiry is ledgered once, by the monitor" || nok "request.expire entries for r-7: $n"

# ---- destruction: the last state, the key gone from the HSM, the record kept ---------
check "an active seal cannot be destroyed (409 seal_state)" 409 seal_state \
	sa1 POST /v1/requests "$(file destroy s2 "no longer used")"
check "sa2 files the destruction of the deactivated s1 (201)" 201 - \
	sa2 POST /v1/requests "$(file destroy s1 "replaced, to be destroyed")"
rd=$(field .id)
check "the requester cannot approve it (403 self_approval)" 403 self_approval \
	sa2 POST "/v1/requests/$rd/approve"
check "hq approves the destruction" 200 - hq POST "/v1/requests/$rd/approve"
check "the secadmin approves it: executed" 200 - sec POST "/v1/requests/$rd/approve"
[ "$(field .state)" = executed ] && ok "the destruction is executed" || nok "$rd ($(cat "$T/out.json"))"
check "the record stays: s1 reads as destroyed" 200 - app GET /v1/seals/s1
[ "$(field .state)" = destroyed ] && ok "s1's state is destroyed" || nok "s1 ($(cat "$T/out.json"))"
[ "$(sign)" = 409 ] && [ "$(field .error.code)" = seal_not_active ] &&
	ok "a destroyed seal refuses to seal (409 seal_not_active)" || nok "sign after destruction"
pin=$("$BIN/tools/derivepin" sbx-test "$S1" "$S2" 2>/dev/null)
keys=$(pkcs11-tool --module "$MODULE" --token-label sealbox --login --pin "$pin" -O 2>/dev/null)
if grep -q "label: *s2" <<<"$keys" && ! grep -q "label: *s1\b" <<<"$keys"; then
	ok "s1's key and certificate are gone from the token (s2's are there)"
else
	nok "token objects after the destruction: $(grep label <<<"$keys" | tr '\n' ' ')"
fi
curl $(as aud) -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
jq -e --arg r "$rd" '[.entries[].entry | select(.action=="seal.key_destroy" and .seal=="s1" and
	.request==$r and .result=="ok")] | length == 1' "$T/led.json" >/dev/null &&
	ok "the key's destruction is ledgered (seal.key_destroy ok)" || nok "no seal.key_destroy entry"
states=$(jq -r '[.entries[].entry | select(.action=="request.execute" and .seal=="s1") |
	.payload.to] | join(" ")' "$T/led.json")
[ "$states" = "frozen active deactivated destroyed" ] &&
	ok "s1's whole lifecycle is in the ledger: frozen, active, deactivated, destroyed" ||
	nok "s1's lifecycle in the ledger: $states"

# ---- transfer: to another unit, by both units' custodians and a secadmin ----------
# app2 (a requester over sub-1) holds a grant on s3 that needs one approver.
"$BIN/sealprov" enrol --config "$D/seald.yaml" --cn app2 --out-dir "$D/clients/app2" \
	"$S1" "$S2" >/dev/null 2>&1 || nok "enrol app2"
$A seal create --id s3 --name "Subsidiary One HR seal" --type hr --key ec-p256 \
	--image "$D/stamp.png" --unit sub-1 >/dev/null && $A grant add --seal s3 --principal app \
	>/dev/null && $A principal add --cert "$(cert app2)" --name app2 --kind application \
	--unit sub-1 --role requester >/dev/null &&
	$A grant add --seal s3 --principal app2 --approval 1:sub-1 >/dev/null ||
	nok "seal s3, app's grant, app2 and its grant needing approval"
tr_body() { printf '{"kind":"transfer","seal":"s3","reason":"%s","unit":"%s"}' "$1" "$2"; }
use_body() {
	printf '{"kind":"use","seal":"s3","reason":"%s","digest":{"alg":"sha256","value":"%s"},"document_name":"hr.pdf"}' \
		"$1" "$sha"
}
check "a transfer names the unit the seal goes to (400 bad_request)" 400 bad_request \
	sa1 POST /v1/requests "$(file transfer s3 "reorganisation")"
grep -q 'unit: required for kind transfer' "$T/out.json" && ok "and says so" || nok "($(cat "$T/out.json"))"
check "a unit is for a transfer only (400 bad_request)" 400 bad_request \
	sa1 POST /v1/requests '{"kind":"freeze","seal":"s3","reason":"x","unit":"sub-2"}'
check "to a unit that does not exist (404 unknown_unit)" 404 unknown_unit \
	sa1 POST /v1/requests "$(tr_body "reorganisation" sub-9)"
check "to the unit it is in (409 same_unit)" 409 same_unit \
	sa1 POST /v1/requests "$(tr_body "reorganisation" sub-1)"
check "the target unit's custodian cannot file it: the seal is not theirs yet (404 unknown_seal)" \
	404 unknown_seal sa-other POST /v1/requests "$(tr_body "we take it" sub-2)"
check "app2 files a use of s3 (201, pending)" 201 - app2 POST /v1/requests "$(use_body "payroll")"
ru=$(field .id)
check "no transfer while a use of the seal is open (409 request_pending)" 409 request_pending \
	sa1 POST /v1/requests "$(tr_body "reorganisation" sub-2)"
grep -q "use request $ru on seal 's3' is still open" "$T/out.json" && ok "naming the use request" ||
	nok "($(cat "$T/out.json"))"
check "appr rejects the use" 200 - appr POST "/v1/requests/$ru/reject" '{"reason":"wrong month"}'
check "sa1 files the transfer of s3 to sub-2 (201, pending)" 201 - \
	sa1 POST /v1/requests "$(tr_body "HR moves to Subsidiary Two" sub-2)"
rt=$(field .id)
[ "$(field '[.rule[]|.role+"@"+.unit]|join(",")')" = "seal-admin@sub-1,seal-admin@sub-2,secadmin@sub-1" ] &&
	[ "$(field '.payload.from.unit+"/"+.payload.from.state+">"+.payload.to.unit')" = "sub-1/active>sub-2" ] &&
	ok "its rule: a seal-admin over each unit and a secadmin; its payload: sub-1 (active) to sub-2" ||
	nok "transfer request ($(cat "$T/out.json"))"
check "the target unit's custodian sees it, to approve it" 200 - sa-other GET "/v1/requests/$rt"
check "hq (seal-admin over the whole group) approves: one place, the first open" 200 - \
	hq POST "/v1/requests/$rt/approve"
[ "$(field '.approvals[0].role+"@"+.approvals[0].unit')" = "seal-admin@sub-1" ] &&
	ok "hq's approval fills the seal-admin place over sub-1" || nok "hq's approval ($(field .approvals))"
check "sa2, custodian of sub-1 only, approves too: hq's approval moves to sub-2's place" 200 - \
	sa2 POST "/v1/requests/$rt/approve"
[ "$(field '[.approvals[]|.principal+":"+.unit]|join(",")')" = "hq:sub-2,sa2:sub-1" ] &&
	ok "the order of approvals does not matter: hq over sub-2, sa2 over sub-1" ||
	nok "after sa2 ($(field .approvals))"
check "sa-other finds no place left (403 cannot_approve)" 403 cannot_approve \
	sa-other POST "/v1/requests/$rt/approve"
grep -q "still needs an approval by secadmin over sub-1" "$T/out.json" &&
	ok "cannot_approve names the place still open" || nok "message ($(cat "$T/out.json"))"
check "s3 still seals from sub-1 meanwhile" 200 - app POST /v1/seals/s3/sign "$(sign_body "$sha" hr.pdf)"
cms_before=$(jq -r .cms "$T/out.json")
seq_before=$(jq -r .seq "$T/out.json")
call app GET /v1/seals/s3 >/dev/null && jq -r .certificate "$T/out.json" >"$T/s3-before.pem"
check "a second request on s3 while the transfer is pending (409 request_pending)" 409 request_pending \
	sa1 POST /v1/requests "$(file deactivate s3 "not needed")"
check "app2 files another use of s3 while the transfer waits" 201 - app2 POST /v1/requests "$(use_body "bonus")"
ru=$(field .id)
check "the secadmin's approval cannot execute it while that use is open (409 request_pending)" 409 \
	request_pending sec POST "/v1/requests/$rt/approve"
check "app2 withdraws its use" 200 - app2 POST "/v1/requests/$ru/reject" '{"reason":"not needed"}'
check "sa1 reports s3 lost: frozen at once, the transfer still pending" 201 - \
	sa1 POST /v1/requests "$(file freeze s3 "lost in the move")"
check "approvals given for an active seal do not move a frozen one (409 seal_state)" 409 seal_state \
	sec POST "/v1/requests/$rt/approve"
grep -q "reject it and file it anew" "$T/out.json" && ok "and says what to do" || nok "($(cat "$T/out.json"))"
check "sa1 rejects it" 200 - sa1 POST "/v1/requests/$rt/reject" '{"reason":"the seal was lost"}'
check "sa1 files the transfer of the frozen s3 anew" 201 - \
	sa1 POST /v1/requests "$(tr_body "HR moves, seal still missing" sub-2)"
rt=$(field .id)
for who in hq sa-other sec; do
	check "$who approves the new transfer" 200 - "$who" POST "/v1/requests/$rt/approve"
done
[ "$(field .state)/$(field '.approvals|length')" = "executed/3" ] && ok "executed with three approvals" ||
	nok "transfer ($(cat "$T/out.json"))"
check "the grant holder still reads s3" 200 - app GET /v1/seals/s3
[ "$(field .unit)/$(field .state)" = sub-2/frozen ] && ok "GET /v1/seals/s3 says unit sub-2, frozen" ||
	nok "s3 ($(cat "$T/out.json"))"
jq -r .certificate "$T/out.json" >"$T/s3-after.pem"
if openssl x509 -in "$T/s3-after.pem" -noout -subject 2>/dev/null | grep -q 'O *= *sub-2' &&
	openssl x509 -in "$T/s3-before.pem" -noout -subject 2>/dev/null | grep -q 'O *= *sub-1' &&
	[ "$(openssl x509 -in "$T/s3-after.pem" -noout -pubkey | sha256sum)" = \
	  "$(openssl x509 -in "$T/s3-before.pem" -noout -pubkey | sha256sum)" ] &&
	openssl verify -CAfile "$D/state/ca.pem" "$T/s3-after.pem" >/dev/null 2>&1; then
	ok "the seal has a new certificate from the appliance CA for the same key, naming sub-2 (O=)"
else
	nok "s3's certificate after the move: $(openssl x509 -in "$T/s3-after.pem" -noout -subject 2>&1)"
fi
check "a sealing made before the move still verifies, as s3's" 200 - aud POST /v1/verify \
	"$(printf '{"digest":{"alg":"sha256","value":"%s"},"cms":"%s"}' "$sha" "$cms_before")"
[ "$(field .valid)/$(field .seal)" = true/s3 ] && ok "valid, seal s3 (its old certificate still maps to it)" ||
	nok "verify of the old sealing ($(cat "$T/out.json"))"
check "its old custodian no longer sees it (404 unknown_seal)" 404 unknown_seal \
	sa1 POST /v1/requests "$(file unfreeze s3 "found")"
check "its new custodian files its unfreeze (201, pending)" 201 - \
	sa-other POST /v1/requests "$(file unfreeze s3 "found in Subsidiary Two's safe")"
ruf=$(field .id)
check "hq approves it (seal-admin over sub-2, through the group)" 200 - hq POST "/v1/requests/$ruf/approve"
check "the secadmin's approval unfreezes s3" 200 - sec POST "/v1/requests/$ruf/approve"
check "app seals with s3 in its new unit" 200 - app POST /v1/seals/s3/sign "$(sign_body "$sha" hr2.pdf)"
jq -r .cms "$T/out.json" | base64 -d >"$T/after.p7s"
seq_after=$(jq -r .seq "$T/out.json")
if openssl cms -verify -inform DER -in "$T/after.p7s" -content "$doc" -binary -purpose any \
	-CAfile "$D/state/ca.pem" -signer "$T/after-signer.pem" -out /dev/null 2>"$T/cmsv.err" &&
	[ "$(openssl x509 -in "$T/after-signer.pem" -noout -fingerprint -sha256)" = \
	  "$(openssl x509 -in "$T/s3-after.pem" -noout -fingerprint -sha256)" ]; then
	ok "the sealing after the move verifies (openssl cms) and is signed under the new certificate"
else
	nok "the sealing after the move: $(cat "$T/cmsv.err")"
fi
check "POST /v1/verify names s3 for it (the new certificate is indexed)" 200 - aud POST /v1/verify \
	"$(printf '{"digest":{"alg":"sha256","value":"%s"},"cms":"%s"}' "$sha" "$(base64 -w0 "$T/after.p7s")")"
[ "$(field .valid)/$(field .seal)" = true/s3 ] && ok "valid, seal s3" || nok "verify ($(cat "$T/out.json"))"
for s in "$seq_before" "$seq_after"; do
	if ctl aud evidence "$s" -o "$T/ev-$s.json" >/dev/null 2>"$T/ev.err" &&
		"$BIN/sealctl" verify-evidence --trust "$D/state/ca.pem" "$T/ev-$s.json" >"$T/ev.out" 2>&1; then
		ok "the evidence bundle of entry $s (before, then after the move) verifies offline"
	else
		nok "evidence of $s: $(cat "$T/ev.err" "$T/ev.out" | head -5)"
	fi
done
curl $(as aud) -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
jq -e --arg r "$rt" '[.entries[].entry | select(.action=="request.execute" and .request==$r)][0].payload ==
	{"from":{"unit":"sub-1","state":"frozen"},"to":{"unit":"sub-2"}}' "$T/led.json" >/dev/null &&
	jq -e --arg r "$rt" '[.entries[].entry | select(.action=="request.approve" and .request==$r) |
	"\(.actor):\(.role)@\(.unit)"] == ["hq:seal-admin@sub-1","sa-other:seal-admin@sub-2","sec:secadmin@sub-1"]' \
	"$T/led.json" >/dev/null &&
	jq -e '[.entries[].entry | select(.action=="request.approve" and .actor=="sa2")][-1].moved ==
	{"principal":"hq","role":"seal-admin","unit":"sub-2"}' "$T/led.json" >/dev/null &&
	jq -e --arg r "$rt" --arg new "$(openssl x509 -in "$T/s3-after.pem" -outform DER | sha256sum | cut -d' ' -f1)" \
	--arg old "$(openssl x509 -in "$T/s3-before.pem" -outform DER | sha256sum | cut -d' ' -f1)" \
	'[.entries[].entry | select(.action=="request.execute" and .request==$r)][0] |
	.cert_sha256 == $new and .previous_cert_sha256 == $old' "$T/led.json" >/dev/null &&
	ok "the ledger has each approval with its place (and a moved one), and the execution with the move" ||
	nok "transfer entries: $(jq -c --arg r "$rt" '[.entries[].entry | select(.request==$r)]' "$T/led.json")"

# ---- revoke: a grant taken away, at once --------------------------------------------
$A seal create --id s4 --name "Subsidiary One invoice seal" --type invoice --key ec-p256 \
	--image "$D/stamp.png" --unit sub-1 >/dev/null && $A grant add --seal s4 --principal app \
	>/dev/null || nok "seal s4 with app's grant"
rv_body() { printf '{"kind":"revoke","seal":"%s","reason":"%s","principal":"%s"}' "$1" "$2" "$3"; }
check "app seals with s4 while it holds the grant" 200 - app POST /v1/seals/s4/sign "$(sign_body "$sha" inv.pdf)"
check "a revoke names whose grant goes (400 bad_request)" 400 bad_request \
	sa1 POST /v1/requests "$(file revoke s4 "contract ended")"
grep -q 'principal: required for kind revoke' "$T/out.json" && ok "and says so" || nok "($(cat "$T/out.json"))"
check "a principal is for a revoke only (400 bad_request)" 400 bad_request \
	sa1 POST /v1/requests '{"kind":"freeze","seal":"s4","reason":"x","principal":"app"}'
check "a grant that does not exist (404 unknown_grant)" 404 unknown_grant \
	sa1 POST /v1/requests "$(rv_body s4 "never had one" appr)"
check "another unit's custodian cannot revoke on s4 (404 unknown_seal)" 404 unknown_seal \
	sa-other POST /v1/requests "$(rv_body s4 "not mine" app)"
check "an approver cannot file it (403 forbidden_role)" 403 forbidden_role \
	appr POST /v1/requests "$(rv_body s4 "x" app)"
check "the custodian revokes app's grant on s4: executed at once (201)" 201 - \
	sa1 POST /v1/requests "$(rv_body s4 "the integration contract ended" app)"
rr=$(field .id)
[ "$(field .state)/$(field .payload.principal)/$(field '.rule|length')" = "executed/app/0" ] &&
	ok "the revoke is executed as filed, payload {principal: app}, no approval needed" ||
	nok "revoke request ($(cat "$T/out.json"))"
check "app no longer seals with s4 (403 not_granted)" 403 not_granted \
	app POST /v1/seals/s4/sign "$(sign_body "$sha" inv.pdf)"
check "nor sees it (404 unknown_seal)" 404 unknown_seal app GET /v1/seals/s4
call sec GET /v1/grants >/dev/null
jq -e '[.grants[] | select(.seal=="s4")] | length == 0' "$T/out.json" >/dev/null &&
	ok "GET /v1/grants no longer lists it" || nok "grants after the revoke ($(cat "$T/out.json"))"
check "revoking it again (404 unknown_grant)" 404 unknown_grant \
	sec POST /v1/requests "$(rv_body s4 "again" app)"
check "its new custodian revokes app's grant on s3" 201 - \
	sa-other POST /v1/requests "$(rv_body s3 "moved away from app's unit" app)"
curl $(as aud) -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
jq -e --arg r "$rr" '[.entries[].entry | select(.request==$r) | .action] == ["request.file","request.execute"]' \
	"$T/led.json" >/dev/null &&
	jq -e --arg r "$rr" '[.entries[].entry | select(.action=="request.execute" and .request==$r)][0].payload ==
	{"principal":"app"}' "$T/led.json" >/dev/null &&
	ok "the ledger has the revoke's filing and execution, naming the principal" ||
	nok "revoke entries: $(jq -c --arg r "$rr" '[.entries[].entry | select(.request==$r)]' "$T/led.json")"
expect "sealctl request file --kind revoke needs --principal" 2 'principal' -- \
	ctl sa1 request file --kind revoke --seal s4 --reason x

# ---- approver groups: each unit with its approvers and the grants that need it --------
$A approvers list >"$T/groups.json" 2>&1
jq -e '[.groups[] | select(.unit == "sub-1")][0] | .approvers == [{"principal":"appr","state":"active"}]
	and .grants == 1 and .name == "Subsidiary One"' "$T/groups.json" >/dev/null &&
	ok "approvers list: sub-1 with appr as its approver and app2's grant needing it" ||
	nok "approvers list: $(head -c 400 "$T/groups.json")"
printf 'sysadmin passphrase %s\n' "$RANDOM$RANDOM" >"$T/sys.p"
$A admin add --user testsys --role sysadmin --passphrase-fd 3 3<"$T/sys.p" >/dev/null &&
	"$BIN/sealadm" --config "$D/seald.yaml" login --user testsys --passphrase-fd 3 3<"$T/sys.p" \
	>"$T/sys.tok" || nok "a console sysadmin"
expect "the sysadmin may not list them (403 forbidden_role)" 1 'forbidden_role' \
	-- "$BIN/sealadm" --config "$D/seald.yaml" --session-fd 9 approvers list 9<"$T/sys.tok"
drive "at the console (item 22) the secadmin sees the group" item testsec "$(cat "$D/testsec.pass")" 22 \
	"sub-1 (Subsidiary One): appr; 1 grant asks for its approvals"

# ---- roles revoked and principals disabled: at once, by a secadmin -----------------
check "appr, an approver over sub-1, lists requests" 200 - appr GET /v1/requests
expect "sealadm role revoke: a role the principal does not hold (404 role_not_held)" 1 'role_not_held' \
	-- $A role revoke --principal appr --role approver --unit sub-2
expect "sealadm role revoke: an unknown principal (404)" 1 'unknown_principal' \
	-- $A role revoke --principal nobody --role approver
expect "the secadmin revokes appr's approver role over sub-1" 0 '"roles": \[\]' \
	-- $A role revoke --principal appr --role approver --unit sub-1
check "appr, with no role left, may list no requests (403 forbidden_role)" 403 forbidden_role \
	appr GET /v1/requests
check "and no role is read as the old default (requester): no seal list either" 403 forbidden_role \
	appr GET /v1/seals
drive "with appr's role gone, the console flags sub-1: no active approver for the grant that needs one" \
	item testsec "$(cat "$D/testsec.pass")" 22 \
	"sub-1 (Subsidiary One): no approver; 1 grant asks for its approvals -- NO ACTIVE APPROVER"
drive "at the console the secadmin revokes sa2's seal-admin role (item 18)" \
	answer testsec "$(cat "$D/testsec.pass")" 18 done sa2 seal-admin sub-1
check "sa2 may file no seal request any more (403 forbidden_role)" 403 forbidden_role \
	sa2 POST /v1/requests "$(file freeze s2 "x")"
check "hq lists requests" 200 - hq GET /v1/requests
expect "the secadmin disables hq" 0 '"state": "disabled"' -- $A principal disable --principal hq
check "a disabled principal's requests are refused as an unknown one's (403 unknown_principal)" \
	403 unknown_principal hq GET /v1/requests
expect "disabling it again: 409 principal_disabled" 1 'principal_disabled' \
	-- $A principal disable --principal hq
drive "at the console the secadmin disables sa-other (item 19)" \
	answer testsec "$(cat "$D/testsec.pass")" 19 done sa-other
check "sa-other is refused from then on (403 unknown_principal)" 403 unknown_principal \
	sa-other GET /v1/requests
curl $(as aud) -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
jq -e '[.entries[].entry | select(.action=="role.revoke") | "\(.principal):\(.role)@\(.unit)"] ==
	["appr:approver@sub-1","sa2:seal-admin@sub-1"]' "$T/led.json" >/dev/null &&
	jq -e '[.entries[].entry | select(.action=="principal.disable") | .principal] == ["hq","sa-other"]' \
	"$T/led.json" >/dev/null && ok "each revoke and disable is ledgered, by the secadmin" ||
	nok "role.revoke / principal.disable entries: $(jq -c '[.entries[].entry | select(.action=="role.revoke" or .action=="principal.disable")]' "$T/led.json")"

# ---- and back: a disabled principal enabled again ------------------------------------
expect "enabling an unknown principal: 404 unknown_principal" 1 'unknown_principal' \
	-- $A principal enable --principal nobody
expect "enabling one that is active: 409 principal_not_disabled" 1 "principal_not_disabled: 'sa1' is active" \
	-- $A principal enable --principal sa1
expect "the secadmin enables hq again" 0 '"state": "active"' -- $A principal enable --principal hq
check "hq's requests are served again, with its roles as they were" 200 - hq GET /v1/requests
drive "at the console the secadmin enables sa-other again (item 21)" \
	answer testsec "$(cat "$D/testsec.pass")" 21 done sa-other
check "sa-other is served again" 200 - sa-other GET /v1/requests
curl $(as aud) -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
jq -e '[.entries[].entry | select(.action=="principal.enable") | "\(.actor):\(.principal)"] ==
	["admin:testsec:hq","admin:testsec:sa-other"]' "$T/led.json" >/dev/null &&
	ok "each enable is ledgered as principal.enable, by the secadmin" ||
	nok "principal.enable entries: $(jq -c '[.entries[].entry | select(.action=="principal.enable")]' "$T/led.json")"

seald_stop
