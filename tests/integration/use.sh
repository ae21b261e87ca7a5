#!/usr/bin/env bash
# `use` requests (issue 4: one approved sealing of one document), end to end
# against the real seald (throwaway SoftHSM token, real TLS, real LMDB), with
# curl and sealctl: a grant that needs "2 of group board" refuses a sealing
# without an approval; its holder files a use request for one document
# (digest and name); the requester cannot approve it; two distinct approvers
# over unit board (or over an ancestor of it) approve it; the sealing that
# names it succeeds once and executes it; the same approval again, another
# document, another seal, or two concurrent sealings with one approval are
# refused; a PDF sealed under an approval of its original bytes works; a
# sealing refused after its approval was used (the quota) gives it back; and
# the ledger holds the filing, the approvals, the execution and each refusal.
. "$(dirname "$0")/lib.sh"

D=$T/a
mkdir -p "$D"
appliance_provision "$D" || { nok "a development appliance can be provisioned"; exit 1; }
seald_start "$D" || { nok "seald starts"; cat "$D/seald.log"; exit 1; }
appliance_unseal "$D" || { nok "unseal"; exit 1; }
A=sealadm_as
S1=$D/shares/sbx-test-share-1.txt
S2=$D/shares/sbx-test-share-2.txt

# alice: a person who seals with s1 and s2 (her grants need 2 of board), and
# is herself an approver over board; ap1, ap2: approvers over board; hq: an
# approver over the group (board's parent); ap-x: an approver over sub-2 only;
# bob: a requester whose grant on s1 needs no approval; carol: a requester
# without a grant; dave: a requester whose grant on s1 needs 2 of board too;
# aud: the auditor; ops: the sysadmin.
WHO="alice ap1 ap2 hq ap-x bob carol dave aud ops"
for who in $WHO; do
	"$BIN/sealprov" enrol --config "$D/seald.yaml" --cn "$who" --out-dir "$D/clients/$who" \
		"$S1" "$S2" >/dev/null 2>&1 || nok "enrol a certificate for $who"
done
cert() { echo "$D/clients/$1/client.pem"; }
{
	$A unit add --id sub-1 --name "Subsidiary One" --parent group &&
	$A unit add --id sub-2 --name "Subsidiary Two" --parent group &&
	$A unit add --id board --name "Board" --parent group &&
	$A principal add --cert "$(cert alice)" --name alice --unit sub-1 \
		--role requester@sub-1 --role approver@board &&
	$A principal add --cert "$(cert ap1)" --name ap1 --unit board --role approver &&
	$A principal add --cert "$(cert ap2)" --name ap2 --unit board --role approver &&
	$A principal add --cert "$(cert hq)" --name hq --role approver@group &&
	$A principal add --cert "$(cert ap-x)" --name ap-x --unit sub-2 --role approver &&
	$A principal add --cert "$(cert bob)" --name bob --unit sub-1 --role requester &&
	$A principal add --cert "$(cert carol)" --name carol --unit sub-1 --role requester &&
	$A principal add --cert "$(cert dave)" --name dave --unit sub-1 --role requester &&
	$A principal add --cert "$(cert aud)" --name aud --role auditor &&
	$A principal add --cert "$(cert ops)" --name ops --role sysadmin &&
	for s in s1 s2; do
		$A seal create --id "$s" --name "Seal $s" --type contract --key ec-p256 \
			--image "$D/stamp.png" --unit sub-1 || exit 1
	done &&
	$A grant add --seal s1 --principal alice --approval 2:board &&
	$A grant add --seal s2 --principal alice --approval 2:board &&
	$A grant add --seal s1 --principal dave --approval 2:board &&
	$A grant add --seal s1 --principal bob
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
field() { jq -r "$1" "$T/out.json"; }
ledger() { call aud GET "/v1/ledger/entries?start=0&count=1000" >/dev/null; cp "$T/out.json" "$T/led.json"; }
refusals() {	# CODE: how many sign refusals with this code the ledger holds
	ledger
	jq "[.entries[].entry | select(.action == \"sign\" and .result == \"refused:$1\")] | length" \
		"$T/led.json" 2>/dev/null || echo -1
}

doc=$T/contract.txt
echo "Purchase contract 7, as the board saw it" >"$doc"
sha=$(sha256sum "$doc" | cut -d' ' -f1)
other=$(echo "Purchase contract 7, changed after approval" | sha256sum | cut -d' ' -f1)
# body HEX [EXTRA_JSON_MEMBERS]: a sign body.
body() {
	printf '{"digest":{"alg":"sha256","value":"%s"},"document_name":"c7.txt"%s}' "$1" "${2:+,$2}"
}
# use SEAL HEX [NAME]: the body of a use request.
use() {
	printf '{"kind":"use","seal":"%s","reason":"board minute 12","digest":{"alg":"sha256","value":"%s"},"document_name":"%s"}' \
		"$1" "$2" "${3:-c7.txt}"
}
# approved SEAL HEX: file a use for alice, approved by ap1 and ap2; its id on stdout.
approved() {
	local id
	[ "$(call alice POST /v1/requests "$(use "$1" "$2")")" = 201 ] || return 1
	id=$(field .id)
	[ "$(call ap1 POST "/v1/requests/$id/approve")" = 200 ] &&
		[ "$(call ap2 POST "/v1/requests/$id/approve")" = 200 ] &&
		[ "$(field .state)" = approved ] || return 1
	echo "$id"
}

# ---- without an approval, and who may file -----------------------------------------
n0=$(refusals approval_required)
check "a grant that needs approval refuses a sealing without one" 403 approval_required \
	"approval of 2 of group 'board'" alice POST /v1/seals/s1/sign "$(body "$sha")"
[ "$(refusals approval_required)" -eq $((n0 + 1)) ] &&
	ok "the refusal without an approval is ledgered (refused:approval_required)" ||
	nok "refused:approval_required not ledgered"
check "a use request by a principal without a grant on the seal: 403 not_granted" 403 \
	not_granted "'carol' has no grant to use seal 's1'" carol POST /v1/requests "$(use s1 "$sha")"
check "a use request under a grant that needs no approval: 409 approval_not_needed" 409 \
	approval_not_needed "needs no approval" bob POST /v1/requests "$(use s1 "$sha")"
check "a use request on an unknown seal: 404 unknown_seal" 404 unknown_seal "" \
	alice POST /v1/requests "$(use nope "$sha")"
check "a use request without its document is 400" 400 bad_request "digest" \
	alice POST /v1/requests '{"kind":"use","seal":"s1","reason":"x","document_name":"a"}'
check "a freeze request carrying a document is 400" 400 bad_request "only for kind use" \
	alice POST /v1/requests "$(use s1 "$sha" | sed 's/"use"/"freeze"/')"
check "an approval that is not r-N is 400" 400 bad_request "approval" \
	alice POST /v1/seals/s1/sign "$(body "$sha" '"approval":"7"')"
check "a grant without approval refuses a sealing that names one" 403 approval_not_needed \
	"needs no approval" bob POST /v1/seals/s1/sign "$(body "$sha" '"approval":"r-1"')"
check "an approval that does not exist: approval_unknown" 403 approval_unknown "r-999" \
	alice POST /v1/seals/s1/sign "$(body "$sha" '"approval":"r-999"')"

# ---- filing and deciding ----------------------------------------------------------------
if [ "$(call alice POST /v1/requests "$(use s1 "$sha" "合同 c7.txt")")" = 201 ] &&
	[ "$(field .kind)" = use ] && [ "$(field .state)" = pending ] &&
	[ "$(field .requester)" = alice ] && [ "$(field .payload.digest.value)" = "$sha" ] &&
	[ "$(field .payload.document_name)" = "合同 c7.txt" ] &&
	[ "$(jq -cS .rule "$T/out.json")" = '[{"count":2,"role":"approver","unit":"board"}]' ]; then
	ok "alice files a use request: pending, with the document's digest and name and the rule 2 approvers over board"
else
	nok "use request filed: $(head -c 500 "$T/out.json")"
fi
R1=$(field .id)
check "a pending approval does not seal: approval_not_approved" 403 approval_not_approved \
	"is pending" alice POST /v1/seals/s1/sign "$(body "$sha" "\"approval\":\"$R1\"")"
check "the requester cannot approve her own use request (self_approval)" 403 self_approval \
	"'alice' filed request $R1" alice POST "/v1/requests/$R1/approve"
check "an approver over another unit neither sees nor approves it" 404 unknown_request "" \
	ap-x POST "/v1/requests/$R1/approve"
check "a requester without the approver role may not approve (forbidden_role)" 403 \
	forbidden_role "" bob POST "/v1/requests/$R1/approve"
check "bob does not see alice's request" 404 unknown_request "" bob GET "/v1/requests/$R1"
check "the sysadmin cannot read a use request (business data)" 403 forbidden_role "" \
	ops GET "/v1/requests/$R1"
check "the first approver approves: still pending" 200 - "" ap1 POST "/v1/requests/$R1/approve"
[ "$(field .state)" = pending ] && ok "one approval of two leaves it pending" ||
	nok "after one approval: $(field .state)"
check "the same approver cannot approve twice (already_approved)" 409 already_approved "" \
	ap1 POST "/v1/requests/$R1/approve"
check "an approver over the group (board's parent) gives the second approval" 200 - "" \
	hq POST "/v1/requests/$R1/approve"
[ "$(field .state)" = approved ] && [ "$(jq '.approvals | length' "$T/out.json")" = 2 ] &&
	ok "two distinct approvals approve it (approved, not executed)" ||
	nok "after two approvals: $(head -c 400 "$T/out.json")"
check "an approved request is not approved again" 409 request_not_pending "" \
	ap2 POST "/v1/requests/$R1/approve"
call alice GET "/v1/requests?kind=use&state=approved" >/dev/null
[ "$(jq -c '[.requests[].id]' "$T/out.json")" = "[\"$R1\"]" ] &&
	ok "the requester lists her approved use requests" || nok "list: $(head -c 300 "$T/out.json")"

# ---- sealing with it ------------------------------------------------------------------------
n0=$(refusals document_mismatch)
check "another document under the approval: document_mismatch naming the approved one" 403 \
	document_mismatch "合同 c7.txt" alice POST /v1/seals/s1/sign "$(body "$other" "\"approval\":\"$R1\"")"
[ "$(refusals document_mismatch)" -eq $((n0 + 1)) ] &&
	ok "the mismatch is ledgered (refused:document_mismatch)" || nok "document_mismatch not ledgered"
check "the approval on another seal: approval_other_seal" 403 approval_other_seal "seal 's1'" \
	alice POST /v1/seals/s2/sign "$(body "$sha" "\"approval\":\"$R1\"")"
check "dave cannot use alice's approval: approval_unknown" 403 approval_unknown "of 'dave'" \
	dave POST /v1/seals/s1/sign "$(body "$sha" "\"approval\":\"$R1\"")"
CTL="$BIN/sealctl --server 127.0.0.1:$PORT --cert $(cert alice) --key $D/clients/alice/client.key --ca $D/state/ca.pem"
expect "sealctl sign --approval seals the approved document" 0 "seq" -- \
	$CTL sign --seal s1 --approval "$R1" --name c7.txt -o "$T/c7.p7s" "$doc"
openssl cms -verify -binary -inform DER -in "$T/c7.p7s" -content "$doc" -noverify \
	-out /dev/null 2>/dev/null && ok "the signature verifies over the approved document" ||
	nok "openssl cms -verify of the approved sealing"
call alice GET "/v1/requests/$R1" >/dev/null
[ "$(field .state)" = executed ] && [ "$(field .executed_by)" = alice ] &&
	ok "the sealing executed the request" || nok "request after sealing: $(head -c 300 "$T/out.json")"
n0=$(refusals approval_used)
check "the same approval again: approval_used" 409 approval_used "has been used" \
	alice POST /v1/seals/s1/sign "$(body "$sha" "\"approval\":\"$R1\"")"
[ "$(refusals approval_used)" -eq $((n0 + 1)) ] &&
	ok "the reuse is ledgered (refused:approval_used)" || nok "approval_used not ledgered"

# ---- two sealings at once with one approval ------------------------------------------------
R2=$(approved s1 "$sha") && ok "a second use request is filed and approved ($R2)" ||
	nok "second use request: $(head -c 300 "$T/out.json")"
pids=""
for i in 1 2 3 4; do
	curl $(as alice) -o "$T/race$i.json" -w '%{http_code}\n' -H Content-Type:application/json \
		--data-binary "$(body "$sha" "\"approval\":\"$R2\"")" "$URL/v1/seals/s1/sign" >"$T/race$i.st" &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids	# not seald's
st=$(cat "$T"/race*.st | sort | tr '\n' ' ')
used=$(cat "$T"/race*.json | jq -r '.error.code // empty' | sort | uniq -c | tr -s ' ')
[ "$st" = "200 409 409 409 " ] && [ "$used" = " 3 approval_used" ] &&
	ok "4 concurrent sealings with one approval: exactly one 200, three approval_used" ||
	nok "concurrent sealings: statuses $st; codes $used"

# ---- batches ----------------------------------------------------------------------------------
R3=$(approved s2 "$sha") || nok "third use request"
item() {	# SEAL APPROVAL
	printf '{"seal":"%s","digest":{"alg":"sha256","value":"%s"},"document_name":"c7.txt","approval":"%s"}' \
		"$1" "$sha" "$2"
}
check "two batch items with one approval: 400, naming both (they would race for it)" 400 \
	bad_request "items\[1\].approval: $R3 is already in items\[0\]; an approval seals one document" \
	alice POST /v1/sign/batch "{\"items\":[$(item s2 "$R3"),$(item s2 "$R3")]}"
call alice POST /v1/sign/batch "{\"items\":[$(item s2 "$R3"),$(item s1 "$R1")]}" >/dev/null
[ "$(jq -c '[.results[] | (.error.code // "ok")]' "$T/out.json")" = '["ok","approval_used"]' ] &&
	ok "a batch item carries its approval: a fresh one seals, a used one is refused" ||
	nok "batch: $(head -c 400 "$T/out.json")"

# ---- a rejected request ----------------------------------------------------------------------
call alice POST /v1/requests "$(use s1 "$sha")" >/dev/null
R4=$(field .id)
check "an approver rejects a use request" 200 - "" ap2 POST "/v1/requests/$R4/reject" '{"reason":"not this one"}'
check "a rejected approval does not seal: approval_not_approved" 403 approval_not_approved \
	"rejected" alice POST /v1/seals/s1/sign "$(body "$sha" "\"approval\":\"$R4\"")"

# ---- a PDF, by the digest of its original bytes ---------------------------------------------
mkpdf "$T/c.pdf" 1 || nok "a PDF"
CTL_ALICE=$CTL
expect "sealctl request file --kind use --document hashes the PDF and files it" 0 '"state": "pending"' -- \
	$CTL_ALICE request file --kind use --seal s1 --reason "board minute 13" --document "$T/c.pdf"
call alice GET "/v1/requests?kind=use&state=pending" >/dev/null
R5=$(jq -r '.requests[0].id' "$T/out.json")
[ "$(jq -r '.requests[0].payload.digest.value' "$T/out.json")" = "$(sha256sum "$T/c.pdf" | cut -d' ' -f1)" ] &&
	[ "$(jq -r '.requests[0].payload.document_name' "$T/out.json")" = c.pdf ] &&
	ok "the request holds the PDF's SHA-256 and its file name" || nok "PDF use request: $(head -c 400 "$T/out.json")"
CTL_AP1="$BIN/sealctl --server 127.0.0.1:$PORT --cert $(cert ap1) --key $D/clients/ap1/client.key --ca $D/state/ca.pem"
CTL_AP2="$BIN/sealctl --server 127.0.0.1:$PORT --cert $(cert ap2) --key $D/clients/ap2/client.key --ca $D/state/ca.pem"
$CTL_AP1 request approve "$R5" >/dev/null 2>&1
expect "sealctl request approve: the second approval approves it" 0 '"state": "approved"' -- \
	$CTL_AP2 request approve "$R5"
code=$(curl $(as alice) -o "$T/c-sealed.pdf" -w '%{http_code}' -H 'Content-Type: application/pdf' \
	-H "Sealbox-Options: {\"document_name\":\"c.pdf\",\"x\":50,\"y\":50,\"width\":100,\"approval\":\"$R5\"}" \
	--data-binary "@$T/c.pdf" "$URL/v1/seals/s1/sign-pdf")
[ "$code" = 200 ] && head -c 5 "$T/c-sealed.pdf" | grep -q '%PDF' &&
	ok "sign-pdf with the approval in Sealbox-Options: 200 and a sealed PDF" ||
	nok "sign-pdf under approval: $code $(head -c 300 "$T/c-sealed.pdf")"
qpdf --check "$T/c-sealed.pdf" >/dev/null 2>&1 && ok "the sealed PDF passes qpdf --check" ||
	nok "qpdf --check of the sealed PDF"
mkpdf "$T/d.pdf" 2 || nok "a second PDF"
R6=$(approved s1 "$(sha256sum "$T/c.pdf" | cut -d' ' -f1)") || nok "a PDF use request approved"
code=$(curl $(as alice) -o "$T/d-sealed.out" -w '%{http_code}' -H 'Content-Type: application/pdf' \
	-H "Sealbox-Options: {\"document_name\":\"d.pdf\",\"x\":50,\"y\":50,\"width\":100,\"approval\":\"$R6\"}" \
	--data-binary "@$T/d.pdf" "$URL/v1/seals/s1/sign-pdf")
[ "$code" = 403 ] && [ "$(jq -r .error.code "$T/d-sealed.out")" = document_mismatch ] &&
	ok "another PDF under an approval of c.pdf: 403 document_mismatch" ||
	nok "sign-pdf of another PDF: $code $(head -c 300 "$T/d-sealed.out")"
expect "sealctl sign-pdf --approval seals the approved PDF" 0 "" -- \
	$CTL_ALICE sign-pdf --seal s1 --x 50 --y 50 --width 100 --approval "$R6" -o "$T/c2.pdf" "$T/c.pdf"

# ---- a sealing that fails after its approval gives the approval back --------------------------
# dave's grant on s2: 2 of board, and one sealing a day.
$A grant add --seal s2 --principal dave --approval 2:board --per-day 1 >/dev/null 2>&1 ||
	nok "a grant with an approval and a daily quota"
dapproved() {
	local id
	[ "$(call dave POST /v1/requests "$(use s2 "$1")")" = 201 ] || return 1
	id=$(field .id)
	[ "$(call ap1 POST "/v1/requests/$id/approve")" = 200 ] &&
		[ "$(call ap2 POST "/v1/requests/$id/approve")" = 200 ] || return 1
	echo "$id"
}
shx=$(printf 'dave x' | sha256sum | cut -d' ' -f1)
shy=$(printf 'dave y' | sha256sum | cut -d' ' -f1)
RX=$(dapproved "$shx") && RY=$(dapproved "$shy") || nok "dave's two use requests approved"
check "dave seals x under its approval (the day's one sealing)" 200 - "" \
	dave POST /v1/seals/s2/sign "$(body "$shx" "\"approval\":\"$RX\"")"
check "y under its approval is over the daily quota: 429 quota_exceeded" 429 quota_exceeded "" \
	dave POST /v1/seals/s2/sign "$(body "$shy" "\"approval\":\"$RY\"")"
call dave GET "/v1/requests/$RY" >/dev/null
[ "$(field .state)" = approved ] &&
	ok "the approval of a sealing the quota refused is given back: $RY is approved again, not used" ||
	nok "$RY after a refused sealing: $(head -c 300 "$T/out.json")"

# ---- the ledger --------------------------------------------------------------------------------
ledger
got=$(jq -c --arg r "$R1" '[.entries[].entry | select(.request == $r) |
	[.action, .actor, (.state // "")]]' "$T/led.json")
want="[[\"request.file\",\"alice\",\"\"],[\"request.approve\",\"ap1\",\"\"],[\"request.approve\",\"hq\",\"approved\"],[\"request.execute\",\"alice\",\"\"]]"
[ "$got" = "$want" ] && ok "the ledger holds $R1's filing, both approvals and its execution, in order" ||
	nok "ledger of $R1: $got"
jq -e --arg r "$R1" --arg sha "$sha" '[.entries[].entry | select(.action == "request.file" and .request == $r)][0] |
	.payload.digest.value == $sha and .reason == "board minute 12"' "$T/led.json" >/dev/null &&
	ok "the filing is ledgered with the reason and the document's digest" || nok "request.file entry of $R1"
n=$(jq --arg r "$R1" '[.entries[].entry | select(.action == "sign" and .approval == $r and .result == "ok")] | length' "$T/led.json")
[ "$n" = 1 ] && ok "exactly one sign entry under $R1 succeeded, and it names the approval" ||
	nok "$n successful sign entries name $R1"
n=$(jq --arg r "$R2" '[.entries[].entry | select(.action == "sign" and .approval == $r) | .result] | sort' -c "$T/led.json")
[ "$n" = '["ok","refused:approval_used","refused:approval_used","refused:approval_used"]' ] &&
	ok "the race is ledgered: one ok, three refused:approval_used" || nok "race in the ledger: $n"
jq -e '[.entries[].entry | select(.action == "sign" and .result == "refused:approval_other_seal")] | length == 1' \
	"$T/led.json" >/dev/null && ok "the other-seal refusal is ledgered" || nok "approval_other_seal not ledgered"
jq -e --arg r "$R4" '[.entries[].entry | select(.request == $r and .action == "request.reject")] | length == 1' \
	"$T/led.json" >/dev/null && ok "the rejection is ledgered" || nok "rejection of $R4 not ledgered"
n=$(jq '[.entries[].entry | select(.action == "request.execute" and .kind == "use")] | length' "$T/led.json")
[ "$n" = 7 ] && ok "seven use requests were executed, each once ($R1, $R2, $R3, $R5, $R6, $RX; $RY before its release)" ||
	nok "$n request.execute entries for uses, wanted 7"
got=$(jq -c --arg r "$RY" '[.entries[].entry | select(.request == $r) | [.action, (.reason // "")]] | .[-2:]' "$T/led.json")
[ "$got" = '[["request.execute",""],["request.release","quota_exceeded"]]' ] &&
	ok "its use and its release are ledgered, with the reason" || nok "ledger of $RY: $got"

seald_stop
