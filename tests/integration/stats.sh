#!/usr/bin/env bash
# Usage trajectory and statistics (issue 4, "Ledger and dashboards"), end to
# end against the real seald: GET /v1/ledger/entries with the filters seal,
# principal, from and to (exact results, paging by next/more), and
# GET /v1/stats, both scoped by the caller's units (and so are evidence
# bundles and inclusion proofs by sequence number): two subsidiaries with a
# seal each and signings on both; a subsidiary's business-auditor and
# seal-admin see only their subsidiary, never the other's; the group's
# auditors see both; the sysadmin gets 403 on both; counts match the
# signings made; bad parameters are 400 naming the parameter; sealctl's
# `ledger entries --seal/--principal/--from/--to` and `stats`.
. "$(dirname "$0")/lib.sh"

appliance_up "$T/a"

# app1, app2: the applications that seal with s1 (sub1) and s2 (sub2); alice:
# a person of sub1 app1 seals for; baud1: business-auditor of sub1; sa1, sa2:
# seal-admins of sub1 and sub2; hq: business-auditor of the group; aud:
# auditor; sec: secadmin; ops: sysadmin.
WHO="app1 app2 alice baud1 sa1 sa2 hq aud sec ops"
enrol_clients $WHO
{
	$A unit add --id sub1 --name "Subsidiary One" --parent group &&
	$A unit add --id sub2 --name "Subsidiary Two" --parent group &&
	$A principal add --cert "$(cert alice)" --name alice --unit sub1 --role requester &&
	$A principal add --cert "$(cert app1)" --name app1 --kind application --unit sub1 \
		--role requester --may-act-for alice &&
	$A principal add --cert "$(cert app2)" --name app2 --kind application --unit sub2 \
		--role requester &&
	$A principal add --cert "$(cert baud1)" --name baud1 --unit sub1 --role business-auditor &&
	$A principal add --cert "$(cert sa1)" --name sa1 --unit sub1 --role seal-admin &&
	$A principal add --cert "$(cert sa2)" --name sa2 --unit sub2 --role seal-admin &&
	$A principal add --cert "$(cert hq)" --name hq --role business-auditor@group &&
	$A principal add --cert "$(cert aud)" --name aud --role auditor &&
	$A principal add --cert "$(cert sec)" --name sec --role secadmin &&
	$A principal add --cert "$(cert ops)" --name ops --role sysadmin &&
	$A seal create --id s1 --name "Sub One contract seal" --type contract \
		--key ec-p256 --image "$D/stamp.png" --unit sub1 &&
	$A seal create --id s2 --name "Sub Two finance seal" --type finance \
		--key ec-p256 --image "$D/stamp.png" --unit sub2 &&
	$A grant add --seal s1 --principal app1 &&
	$A grant add --seal s2 --principal app2
} >/dev/null || { nok "units, principals, seals s1 and s2 and their grants"; exit 1; }

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
field() { jq -r "$1" "$T/out.json"; }
# same WHAT GOT WANT
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (got '$2', wanted '$3')"; fi
}
# refused WHAT STATUS CODE MESSAGE_PART WHO PATH
refused() {
	local what=$1 st=$2 code=$3 part=$4 got
	got=$(call "$5" GET "$6")
	if [ "$got" = "$st" ] && [ "$(field .error.code)" = "$code" ] &&
		field .error.message | grep -qF -- "$part"; then
		ok "$what"
	else
		nok "$what (wanted $st $code '$part', got $got: $(head -c 300 "$T/out.json"))"
	fi
}
sha=$(echo "stats document" | sha256sum | cut -d' ' -f1)
# sign APP SEAL NAME [PERSON]
sign() {
	local body
	body=$(sign_body "$sha" "$3")
	[ -n "${4:-}" ] && body=${body%\}},\"on_behalf_of\":\"$4\"}
	[ "$(call "$1" POST "/v1/seals/$2/sign" "$body")" = 200 ] ||
		nok "$1 seals $3 with $2 ($(head -c 200 "$T/out.json"))"
}
# sign_entries WHO QUERY: the seal and actor of each sign entry seen, "s1/app1 s1/app1 ...".
entries() {
	local got
	got=$(call "$1" GET "/v1/ledger/entries?start=0&count=1000${2:+&$2}")
	[ "$got" = 200 ] || { echo "HTTP $got: $(head -c 200 "$T/out.json")"; return; }
	jq -r '[.entries[].entry | select(.action == "sign") | .seal + "/" + .actor] | join(" ")' "$T/out.json"
}

# ---- the signings: batch 1, a mark in time, batch 2 -------------------------------
sign app1 s1 a1.pdf
sign app1 s1 a2.pdf alice
sign app1 s1 a3.pdf
sign app2 s2 b1.pdf
sign app2 s2 b2.pdf
sleep 0.2
mark=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 0.2
sign app1 s1 a4.pdf
sign app1 s1 a5.pdf alice
sign app2 s2 b3.pdf
ok "8 signings made: 5 with s1 (sub1), 3 with s2 (sub2), 3 of them after $mark"

# ---- filters, as the auditor -------------------------------------------------------
same "seal=s1 gives exactly s1's five signatures" "$(entries aud seal=s1)" \
	"s1/app1 s1/app1 s1/app1 s1/app1 s1/app1"
call aud GET "/v1/ledger/entries?start=0&count=1000&seal=s1" >/dev/null
same "seal=s1 gives no entry of another seal (the seal's own admin entries aside)" \
	"$(jq -r '[.entries[].entry.seal] | unique | join(",")' "$T/out.json")" "s1"
same "principal=app2 gives app2's three signatures" "$(entries aud principal=app2)" \
	"s2/app2 s2/app2 s2/app2"
same "principal=alice gives the two signatures made on her behalf" \
	"$(entries aud principal=alice)" "s1/app1 s1/app1"
same "unit=sub2 gives the signatures of sub2's seal" "$(entries aud unit=sub2)" \
	"s2/app2 s2/app2 s2/app2"
same "unit=group (the root) gives every signature, of both subsidiaries" \
	"$(entries aud unit=group | tr ' ' '\n' | sort | uniq -c | tr -s ' ' | tr '\n' ';')" \
	" 5 s1/app1; 3 s2/app2;"
same "document_name=a gives the names that hold it (a1..a5 with s1)" \
	"$(entries aud 'document_name=a')" "s1/app1 s1/app1 s1/app1 s1/app1 s1/app1"
same "document_name=b3.pdf and unit=sub2 together: one" \
	"$(entries aud 'document_name=b3.pdf&unit=sub2')" "s2/app2"
refused "a unit that is no id is refused with bad_query" 400 bad_query "unit: must be a unit id" \
	aud "/v1/ledger/entries?start=0&count=1&unit=a%20b"
call aud GET "/v1/ledger/entries?start=0&count=1000&principal=alice" >/dev/null
same "... and they name her in on_behalf_of" \
	"$(jq -r '[.entries[].entry | select(.action == "sign") | .document_name] | join(" ")' "$T/out.json")" \
	"a2.pdf a5.pdf"
same "from=the mark gives the three later signatures and nothing else" \
	"$(call aud GET "/v1/ledger/entries?start=0&count=1000&from=$mark" >/dev/null;
	jq -r '[.entries[].entry | (.action + ":" + .document_name)] | join(" ")' "$T/out.json")" \
	"sign:a4.pdf sign:a5.pdf sign:b3.pdf"
same "to=the mark and seal=s2 gives the two earlier s2 signatures" \
	"$(entries aud "seal=s2&to=$mark")" "s2/app2 s2/app2"
same "seal=s1, principal=alice and from=the mark together (AND) give one" \
	"$(entries aud "seal=s1&principal=alice&from=$mark")" "s1/app1"
enc=$(sed 's/:/%3A/g' <<<"$mark")
same "a percent-encoded time is the same time" "$(entries aud "seal=s1&from=$enc")" \
	"s1/app1 s1/app1"
same "a principal no entry names gives nothing" "$(entries aud principal=nobody)" ""

# Paging: count bounds the matches, next/more lead through the rest.
start=0 pages=0 seen=""
while :; do
	call aud GET "/v1/ledger/entries?start=$start&count=2&seal=s1" >/dev/null
	seen="$seen$(jq -r '[.entries[].entry | select(.action == "sign") | .document_name] | join(" ")' "$T/out.json") "
	pages=$((pages + 1))
	[ "$(field .more)" = true ] && [ "$pages" -lt 10 ] || break
	start=$(field .next)
done
same "count=2 pages through s1's entries by next until more is false" "$(echo $seen)" \
	"a1.pdf a2.pdf a3.pdf a4.pdf a5.pdf"
call aud GET "/v1/ledger/entries?start=0&count=1&principal=app2" >/dev/null
first=$(field '.entries[0].seq')
same "a page of one: next is right after the entry returned, more is true" \
	"$(field .next)/$(field .more)" "$((first + 1))/true"
size=$(curl $(as aud) "$URL/v1/ledger/sth" | jq -r .tree_size)
call aud GET "/v1/ledger/entries?start=0&count=1000" >/dev/null
same "unfiltered, as before: from start, next is the ledger's size and more false" \
	"$(field '.entries | length')/$(field .next)/$(field .more)" "$size/$size/false"

# ---- scope: a subsidiary sees its own, never the other's ------------------------------
same "sub1's business-auditor sees sub1's signatures only" "$(entries baud1)" \
	"s1/app1 s1/app1 s1/app1 s1/app1 s1/app1"
call baud1 GET "/v1/ledger/entries?start=0&count=1000" >/dev/null
same "... and no entry of another seal nor without a seal (admin actions)" \
	"$(jq -r '[.entries[].entry.seal // "none"] | unique | join(",")' "$T/out.json")" "s1"
same "sub1's business-auditor asking for seal=s2 gets nothing" "$(entries baud1 seal=s2)" ""
same "sub1's business-auditor asking for principal=app2 gets nothing" \
	"$(entries baud1 principal=app2)" ""
same "app2 (a requester of sub2) reads only sub2's signatures" "$(entries app2)" \
	"s2/app2 s2/app2 s2/app2"
same "the group's business-auditor sees both subsidiaries" \
	"$(entries hq | tr ' ' '\n' | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
	"s1/app1=5 s2/app2=3 "
call hq GET "/v1/ledger/entries?start=0&count=1000" >/dev/null
same "... and the entries without a seal" \
	"$(jq '[.entries[].entry | select(.seal == null)] | length > 0' "$T/out.json")" true
# Evidence and inclusion proofs by sequence number show what the listing would.
call aud GET "/v1/ledger/entries?start=0&count=1000" >/dev/null
q1=$(jq -r '[.entries[] | select(.entry.seal == "s1" and .entry.action == "sign")][0].seq' "$T/out.json")
q2=$(jq -r '[.entries[] | select(.entry.seal == "s2" and .entry.action == "sign")][0].seq' "$T/out.json")
q0=$(jq -r '[.entries[] | select(.entry.seal == null)][0].seq' "$T/out.json")
sleep 1.2	# a signed tree head over them
refused "sub1's business-auditor asking for the evidence of an s2 signature: 404, as if it were not there" \
	404 not_found "is not a signature in the ledger that you may see" baud1 "/v1/evidence/$q2"
[ "$(call baud1 GET "/v1/evidence/$q1")" = 200 ] && [ "$(field .seq)" = "$q1" ] &&
	ok "...and gets the evidence of its own unit's signature" || nok "baud1's evidence of $q1: $(head -c 300 "$T/out.json")"
refused "app2 (sub2) asking for the evidence of an s1 signature: 404" 404 not_found \
	"that you may see" app2 "/v1/evidence/$q1"
[ "$(call hq GET "/v1/evidence/$q2")" = 200 ] && ok "the group's business-auditor gets the evidence of both" ||
	nok "hq's evidence of $q2: $(head -c 300 "$T/out.json")"
refused "sub1's business-auditor asking for an inclusion proof of an s2 entry: 404" 404 not_found \
	"no entry $q2 that you may see" baud1 "/v1/ledger/proof/inclusion?seq=$q2"
refused "...or of an administrator's action (no seal): 404" 404 not_found \
	"no entry $q0 that you may see" baud1 "/v1/ledger/proof/inclusion?seq=$q0"
[ "$(call baud1 GET "/v1/ledger/proof/inclusion?seq=$q1")" = 200 ] && [ "$(field .seq)" = "$q1" ] &&
	[ "$(call hq GET "/v1/ledger/proof/inclusion?seq=$q0")" = 200 ] &&
	ok "inclusion proofs of what each may list: sub1's for s1, the group's for an administrator's action" ||
	nok "inclusion proofs in scope: $(head -c 300 "$T/out.json")"
refused "the sysadmin gets 403 on filtered ledger entries" 403 forbidden_role \
	"needs one of the roles" ops "/v1/ledger/entries?start=0&count=10&seal=s1"
refused "a seal-admin still gets 403 on ledger entries (unchanged)" 403 forbidden_role \
	"needs one of the roles" sa1 "/v1/ledger/entries?start=0&count=10"

# ---- GET /v1/stats -------------------------------------------------------------------
today=$(date -u +%Y-%m-%d)
month=$(date -u +%Y-%m)
[ "$(call sa1 POST /v1/requests '{"kind":"freeze","seal":"s1","reason":"lost"}')" = 201 ] &&
	[ "$(call sa1 POST /v1/requests '{"kind":"unfreeze","seal":"s1","reason":"found"}')" = 201 ] ||
	nok "sa1 freezes s1 and files its unfreeze ($(cat "$T/out.json"))"

[ "$(call aud GET /v1/stats)" = 200 ] || nok "the auditor gets stats ($(cat "$T/out.json"))"
same "auditor: scope all, 2 seals, one per unit" \
	"$(field '.scope')/$(field '.seals.total')/$(jq -cS .seals.by_unit "$T/out.json")" \
	'all/2/{"sub1":1,"sub2":1}'
same "auditor: seals by type and by state (s1 frozen)" \
	"$(jq -cS '[.seals.by_type, .seals.by_state]' "$T/out.json")" \
	'[{"contract":1,"finance":1},{"active":1,"frozen":1}]'
same "auditor: uses match the signings: s1 5, s2 3, all today and this month" \
	"$(jq -r --arg d "$today" --arg m "$month" '[.uses.by_seal.s1 | .total, .days[$d], .months[$m]] + [.uses.by_seal.s2 | .total, .days[$d], .months[$m]] | join(",")' "$T/out.json")" \
	"5,5,5,3,3,3"
same "auditor: the scan of uses was complete" "$(field .uses.complete)" true
same "auditor: custodians are the seal-admins over each seal's unit" \
	"$(jq -cS '[.custodians.s1[].principal, .custodians.s2[].principal]' "$T/out.json")" \
	'["sa1","sa2"]'
same "auditor: one pending request, an unfreeze" \
	"$(field .pending_requests.total)/$(jq -cS .pending_requests.by_kind "$T/out.json")" \
	'1/{"unfreeze":1}'

[ "$(call sa1 GET /v1/stats)" = 200 ] || nok "sub1's seal-admin gets stats ($(cat "$T/out.json"))"
same "sub1's seal-admin: scope sub1, one seal, s1 only" \
	"$(jq -cS '[.scope, .seals.total, .seals.by_unit, (.custodians | keys), (.uses.by_seal | keys)]' "$T/out.json")" \
	'[["sub1"],1,{"sub1":1},["s1"],["s1"]]'
same "sub1's seal-admin: s1's 5 uses, and the pending unfreeze of its seal" \
	"$(field .uses.by_seal.s1.total)/$(field .pending_requests.total)" "5/1"
grep -q 's2\|sub2\|sa2' "$T/out.json" && nok "sub1's seal-admin's stats mention sub2, s2 or sa2: $(cat "$T/out.json")" ||
	ok "sub1's seal-admin's stats never mention sub2, its seal or its custodian"
[ "$(call sa2 GET /v1/stats)" = 200 ] || nok "sub2's seal-admin gets stats"
same "sub2's seal-admin sees s2 only: 3 uses, no pending request" \
	"$(jq -cS '[.seals.total, (.uses.by_seal | keys), .uses.by_seal.s2.total, .pending_requests.total]' "$T/out.json")" \
	'[1,["s2"],3,0]'
[ "$(call baud1 GET /v1/stats)" = 200 ] &&
	same "sub1's business-auditor's stats: s1 only" \
		"$(jq -cS '[.seals.total, (.uses.by_seal | keys)]' "$T/out.json")" '[1,["s1"]]' ||
	nok "sub1's business-auditor gets stats ($(cat "$T/out.json"))"
[ "$(call hq GET /v1/stats)" = 200 ] &&
	same "the group's business-auditor's stats: both seals, 8 uses" \
		"$(jq -cS '[.scope, .seals.total, ([.uses.by_seal[].total] | add)]' "$T/out.json")" '["all",2,8]' ||
	nok "the group's business-auditor gets stats"
[ "$(call sec GET /v1/stats)" = 200 ] && same "the secadmin's stats: all seals" "$(field .seals.total)" 2 ||
	nok "the secadmin gets stats ($(cat "$T/out.json"))"
refused "the sysadmin gets 403 on stats" 403 forbidden_role "GET /v1/stats needs one of the roles" ops /v1/stats
refused "a requester application gets 403 on stats" 403 forbidden_role "needs one of the roles" app1 /v1/stats

# ---- bad parameters ----------------------------------------------------------------
refused "seal=a/b is 400 naming seal" 400 bad_query "seal: must be a seal id" aud \
	"/v1/ledger/entries?start=0&count=1&seal=a/b"
refused "principal with a space is 400 naming principal" 400 bad_query \
	"principal: must be a principal name" aud "/v1/ledger/entries?start=0&count=1&principal=a%20b"
refused "from=yesterday is 400 naming from" 400 bad_query "from: must be an RFC 3339 time" aud \
	"/v1/ledger/entries?start=0&count=1&from=yesterday"
refused "to=2026-02-30T00:00:00Z (no such day) is 400 naming to" 400 bad_query \
	"to: must be an RFC 3339 time" aud "/v1/ledger/entries?start=0&count=1&to=2026-02-30T00:00:00Z"
refused "to not after from is 400" 400 bad_query "to: must be later than from" aud \
	"/v1/ledger/entries?start=0&count=1&from=$mark&to=$mark"
refused "an empty seal= is 400" 400 bad_query "seal: empty" aud "/v1/ledger/entries?start=0&count=1&seal="
refused "seal given twice is 400" 400 bad_query "seal: given twice" aud \
	"/v1/ledger/entries?start=0&count=1&seal=s1&seal=s2"
refused "an unknown parameter is 400, as before" 400 bad_query "unknown parameter 'units'" aud \
	"/v1/ledger/entries?start=0&count=1&units=sub1"
refused "filters do not make start optional" 400 bad_query "start: missing" aud \
	"/v1/ledger/entries?count=1&seal=s1"
refused "stats takes no parameters" 400 bad_query "this path takes no parameters" aud "/v1/stats?unit=sub1"

# ---- sealctl -------------------------------------------------------------------------
cp "$D/state/ca.pem" "$D/ca.pem"
sc() {
	local who=$1
	shift
	"$BIN/sealctl" --server "127.0.0.1:$PORT" --cert "$D/clients/$who/client.pem" \
		--key "$D/clients/$who/client.key" --ca "$D/ca.pem" "$@"
}
export HOME=$T/home
out=$(sc aud ledger entries --seal s1 --from "$mark" 2>&1)
same "sealctl ledger entries --seal s1 --from MARK prints the two later s1 entries" \
	"$(grep -o '"document_name":"[^"]*"' <<<"$out" | tr '\n' ' ')" \
	'"document_name":"a4.pdf" "document_name":"a5.pdf" '
out=$(sc aud ledger entries --principal alice --to "$mark" 2>&1)
same "sealctl ledger entries --principal alice --to MARK prints the one earlier entry" \
	"$(grep -c '"on_behalf_of":"alice"' <<<"$out")" 1
out=$(sc aud ledger entries --seal s1 --count 1 2>&1)
grep -q "more entries may match: go on with --start [0-9]" <<<"$out" &&
	ok "sealctl says where to go on when more entries may match" ||
	nok "sealctl paging hint: $out"
expect "sealctl passes the appliance's 400 on a bad --from" 1 "bad_query: from: must be an RFC 3339" -- \
	sc aud ledger entries --from "last week"
expect "sealctl stats shows sub1's seal-admin its one seal" 0 '"total": 1' -- sc sa1 stats
expect "sealctl stats as the sysadmin fails with forbidden_role" 1 "forbidden_role" -- sc ops stats
expect "sealctl stats takes no arguments" 2 "stats: takes no arguments" -- sc aud stats --unit sub1

seald_stop
