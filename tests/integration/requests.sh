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
	sa1 POST /v1/requests "$(file transfer s1 "x")"
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

seald_stop
