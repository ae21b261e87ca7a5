#!/usr/bin/env bash
# The role x endpoint matrix (issue 4, DESIGN invariant 5), end to end: one
# principal per role, a granted requester application and an unregistered
# certificate call every route of the API; each answer must be the status and
# error code that tests/integration/matrix.tsv gives. The table must cover
# every route of the net worker's own route table (`seald --list-routes`) for
# every principal, so a new endpoint cannot land without its rows, and
# docs/policy.md's table must be the rendering of it. Also: role assignment
# through sealadm (kind, unit, roles; exclusive pairs refused, naming both).
#
#   matrix.sh [--render]   --render prints the markdown table and exits
. "$(dirname "$0")/lib.sh"

TSV=$TOP/tests/integration/matrix.tsv
DOC=$TOP/docs/policy.md
PRINCIPALS="sysadmin secadmin auditor seal-admin approver requester template-creator
	file-admin business-auditor application unregistered"

# The markdown table of docs/policy.md: a row per route, a column per principal.
render() {
	awk -F'\t' -v cols="$(echo $PRINCIPALS)" '
	BEGIN { n = split(cols, c, " ") }
	/^#/ || NF == 0 { next }
	{ ep = $2 " `" $3 "`"; if (!(ep in seen)) { seen[ep] = 1; order[++m] = ep }
	  cell[ep, $1] = ($5 == "-") ? $4 : $4 " " $5 }
	END {
		h = "| route |"; s = "| --- |"
		for (i = 1; i <= n; i++) { h = h " " c[i] " |"; s = s " --- |" }
		print h; print s
		for (j = 1; j <= m; j++) {
			l = "| " order[j] " |"
			for (i = 1; i <= n; i++) l = l " " cell[order[j], c[i]] " |"
			print l
		}
	}' "$TSV"
}
if [ "${1:-}" = --render ]; then
	render
	exit 0
fi

# ---- the table against the code and the docs (no appliance needed) ----------
rows=$(grep -v '^#' "$TSV" | grep -c .)
routes=$("$BIN/seald" --list-routes)
missing=$(while read -r m p; do
	for who in $PRINCIPALS; do
		n=$(awk -F'\t' -v w="$who" -v m="$m" -v p="$p" '$1 == w && $2 == m && $3 == p' "$TSV" | wc -l)
		[ "$n" = 1 ] || echo "$who $m $p ($n rows)"
	done
done <<<"$routes")
[ -z "$missing" ] && ok "matrix.tsv has exactly one row per principal for each of the $(wc -l <<<"$routes") routes of seald --list-routes" ||
	nok "matrix.tsv lacks or repeats rows: $(head -n 5 <<<"$missing" | tr '\n' ';')"
extra=$(grep -v '^#' "$TSV" | awk -F'\t' 'NF {print $2 " " $3}' | sort -u |
	grep -vxF -f <(echo "$routes"))
[ -z "$extra" ] && ok "matrix.tsv names no route that the route table does not have" ||
	nok "matrix.tsv rows for routes seald does not serve: $(tr '\n' ';' <<<"$extra")"
bad=$(grep -v '^#' "$TSV" | awk -F'\t' -v cols=" $(echo $PRINCIPALS) " \
	'NF && (NF != 5 || index(cols, " " $1 " ") == 0 || $4 !~ /^[2-5][0-9][0-9]$/)')
[ -z "$bad" ] && ok "every row of matrix.tsv is principal, method, path, status, code" ||
	nok "malformed rows: $(head -n 3 <<<"$bad" | tr '\n' ';')"
if diff <(render) <(sed -n '/<!-- matrix:begin -->/,/<!-- matrix:end -->/p' "$DOC" |
	grep '^|') >"$T/doc.diff"; then
	ok "docs/policy.md's role x endpoint table is the rendering of matrix.tsv"
else
	nok "docs/policy.md's table differs from matrix.tsv (tests/integration/matrix.sh --render)"
	head -n 10 "$T/doc.diff" | sed 's/^/#   /'
fi

# ---- an appliance with a principal per role ---------------------------------
D=$T/a
mkdir -p "$D"
appliance_provision "$D" || { nok "a development appliance can be provisioned"; exit 1; }
seald_start "$D" || { nok "seald starts"; cat "$D/seald.log"; exit 1; }
appliance_unseal "$D" || { nok "unseal"; exit 1; }
A=sealadm_as
S1=$D/shares/sbx-test-share-1.txt
S2=$D/shares/sbx-test-share-2.txt
for who in $PRINCIPALS; do
	"$BIN/sealprov" enrol --config "$D/seald.yaml" --cn "$who" --out-dir "$D/clients/$who" \
		"$S1" "$S2" >/dev/null 2>&1 || nok "enrol a certificate for $who"
done
cert() { echo "$D/clients/$1/client.pem"; }

# Role assignment: refused before anything is registered, then one principal per role.
expect "an auditor cannot also be a requester: refused naming both roles" 1 \
	"roles_exclusive: the roles 'auditor' and 'requester' are mutually exclusive" -- \
	$A principal add --cert "$(cert auditor)" --name p-auditor --role auditor --role requester
expect "a sysadmin cannot also be a secadmin (three-member separation)" 1 \
	"roles_exclusive: the roles '(sysadmin|secadmin)' and '(sysadmin|secadmin)'" -- \
	$A principal add --cert "$(cert sysadmin)" --name p-sysadmin --role secadmin --role sysadmin
expect "a business-auditor cannot also be a seal-admin, whatever the units" 1 \
	"roles_exclusive: .*'business-auditor'" -- \
	$A principal add --cert "$(cert business-auditor)" --name p-baud \
	--role seal-admin@group --role business-auditor
expect "an unknown role is refused" 1 "unknown_role: roles\\[0\\]: no role 'root'" -- \
	$A principal add --cert "$(cert sysadmin)" --name p-sysadmin --role root
expect "a role over an unknown unit is refused" 1 "unknown_unit: roles\\[0\\]: no unit 'nowhere'" -- \
	$A principal add --cert "$(cert sysadmin)" --name p-sysadmin --role sysadmin@nowhere
expect "a principal in an unknown unit is refused" 1 "unknown_unit: unit: no unit 'nowhere'" -- \
	$A principal add --cert "$(cert sysadmin)" --name p-sysadmin --unit nowhere --role sysadmin
expect "a kind other than person or application is refused" 1 "bad_request: kind" -- \
	$A principal add --cert "$(cert sysadmin)" --name p-sysadmin --kind robot
many=""
for i in $(seq 17); do many="$many --role r$i"; done
expect "sealadm refuses more than 16 --role before asking seald" 2 "at most 16 --role" -- \
	$A principal add --cert "$(cert sysadmin)" --name p-sysadmin $many
for who in sysadmin secadmin auditor seal-admin approver requester template-creator \
	file-admin business-auditor; do
	$A principal add --cert "$(cert "$who")" --name "p-$who" --role "$who" >/dev/null ||
		nok "register p-$who with the role $who"
done
expect "an application is registered with its kind and the requester role" 0 \
	'"kind": "application"' -- $A principal add --cert "$(cert application)" --name app \
	--kind application --unit group --role requester@group
$A seal create --id demo-seal --name "Demo Co. official seal" --type official \
	--key ec-p256 --image "$D/stamp.png" --unit demo >/dev/null &&
	$A grant add --seal demo-seal --principal app >/dev/null || nok "seal and grant for app"

as() { echo "--silent --show-error --cacert $D/state/ca.pem --cert $(cert "$1") --key $D/clients/$1/client.key"; }
curl $(as auditor) -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
got=$(jq -c '[.entries[].entry | select(.action == "principal.add" and .principal == "app") |
	{kind, unit, roles, result}]' "$T/led.json")
[ "$got" = '[{"kind":"application","unit":"group","roles":[{"role":"requester","unit":"group"}],"result":"ok"}]' ] &&
	ok "the ledger records a principal's kind, unit and roles with its registration" ||
	nok "principal.add entry for app: $got"
n=$(grep -o '"action":"principal.add"' "$T/led.json" | wc -l)
[ "$n" = 10 ] && ok "refused role assignments leave no ledger entry (10 registrations)" ||
	nok "$n principal.add entries in the ledger, wanted 10"

# ---- what every request of the matrix needs -------------------------------
doc=$T/doc.txt
echo "Matrix document" >"$doc"
sha=$(sha256sum "$doc" | cut -d' ' -f1)
code=$(curl $(as application) -o "$T/signed.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	-d "$(sign_body "$sha" matrix.txt)" "$URL/v1/seals/demo-seal/sign")
[ "$code" = 200 ] || { nok "the granted application signs (got $code: $(cat "$T/signed.json"))"; exit 1; }
seq=$(jq -r .seq "$T/signed.json")
cms=$(jq -r .cms "$T/signed.json")
printf '{"digest":{"alg":"sha256","value":"%s"},"cms":"%s"}' "$sha" "$cms" >"$T/verify.json"
printf '{"items":[{"seal":"demo-seal","digest":{"alg":"sha256","value":"%s"},"document_name":"b.txt"}]}' \
	"$sha" >"$T/batch.json"
sign_body "$sha" matrix.txt >"$T/sign.json"
mkpdf "$T/m.pdf" 1 || nok "a PDF for the sign-pdf rows"
echo '{"kind":"freeze","seal":"no-such-seal","reason":"matrix"}' >"$T/file.json"
echo '{"reason":"matrix"}' >"$T/reject.json"
echo '{"otp":"0000000"}' >"$T/otp.json"
openssl ts -query -data "$doc" -sha256 -cert -out "$T/q.tsq" 2>/dev/null
sleep 1.2	# a tree head covering the signature

# request METHOD PATTERN: the curl arguments (after the URL's host) for one route.
request() {
	case "$1 $2" in
	"GET /v1/health") echo "/v1/health" ;;
	"GET /v1/seals") echo "/v1/seals" ;;
	"GET /v1/seals/{seal}") echo "/v1/seals/demo-seal" ;;
	"POST /v1/seals/{seal}/sign") echo "/v1/seals/demo-seal/sign -H Content-Type:application/json --data-binary @$T/sign.json" ;;
	"POST /v1/seals/{seal}/sign-pdf") echo "/v1/seals/demo-seal/sign-pdf -H Content-Type:application/pdf -H Sealbox-Options:{\"document_name\":\"m.pdf\",\"x\":10,\"y\":10,\"width\":50} --data-binary @$T/m.pdf" ;;
	"POST /v1/sign/batch") echo "/v1/sign/batch -H Content-Type:application/json --data-binary @$T/batch.json" ;;
	"POST /v1/verify") echo "/v1/verify -H Content-Type:application/json --data-binary @$T/verify.json" ;;
	"POST /v1/tsa") echo "/v1/tsa -H Content-Type:application/timestamp-query --data-binary @$T/q.tsq" ;;
	"GET /v1/ledger/sth") echo "/v1/ledger/sth" ;;
	"GET /v1/ledger/entries") echo "/v1/ledger/entries?start=0&count=2" ;;
	"GET /v1/ledger/proof/inclusion") echo "/v1/ledger/proof/inclusion?seq=$seq" ;;
	"GET /v1/ledger/proof/consistency") echo "/v1/ledger/proof/consistency?first=1&second=$((seq + 1))" ;;
	"GET /v1/evidence/{seq}") echo "/v1/evidence/$seq" ;;
	"GET /v1/units") echo "/v1/units" ;;
	"GET /v1/principals") echo "/v1/principals" ;;
	"GET /v1/roles") echo "/v1/roles" ;;
	"GET /v1/stats") echo "/v1/stats" ;;
	"GET /v1/grants") echo "/v1/grants" ;;
	"GET /v1/alerts") echo "/v1/alerts?count=5" ;;
	# Requests: a seal and a request no one can see, so that no row changes anything.
	"POST /v1/requests") echo "/v1/requests -H Content-Type:application/json --data-binary @$T/file.json" ;;
	"GET /v1/requests") echo "/v1/requests" ;;
	"GET /v1/requests/{request}") echo "/v1/requests/r-999999" ;;
	"POST /v1/requests/{request}/approve") echo "/v1/requests/r-999999/approve" ;;
	"POST /v1/requests/{request}/reject") echo "/v1/requests/r-999999/reject -H Content-Type:application/json --data-binary @$T/reject.json" ;;
	# TOTP: each person enrols (pending); confirm then fails on the code, verify on the state.
	"POST /v1/principals/me/totp") echo "/v1/principals/me/totp" ;;
	"POST /v1/principals/me/totp/confirm") echo "/v1/principals/me/totp/confirm -H Content-Type:application/json --data-binary @$T/otp.json" ;;
	"POST /v1/principals/me/totp/verify") echo "/v1/principals/me/totp/verify -H Content-Type:application/json --data-binary @$T/otp.json" ;;
	*) return 1 ;;
	esac
}

while read -r m p; do
	request "$m" "$p" >/dev/null || nok "matrix.sh knows how to call $m $p"
done <<<"$routes"

fails=0
checked=0
while IFS=$'\t' read -r who m p want_status want_code; do
	case "$who" in ''|'#'*) continue ;; esac
	args=$(request "$m" "$p") || continue
	path=${args%% *}
	rest=${args#"$path"}
	# shellcheck disable=SC2086
	got=$(curl $(as "$who") -X "$m" -o "$T/r.out" -w '%{http_code}' "$URL$path" $rest)
	got_code=$(jq -r '(.error.code // .results[0].error.code // "-")' "$T/r.out" 2>/dev/null) || got_code=-
	[ -n "$got_code" ] || got_code=-
	checked=$((checked + 1))
	if [ "$got" = "$want_status" ] && [ "$got_code" = "$want_code" ]; then
		ok "$who: $m $p -> $want_status $want_code"
	else
		nok "$who: $m $p -> wanted $want_status $want_code, got $got $got_code ($(head -c 200 "$T/r.out" | tr -cd '[:print:]'))"
		fails=$((fails + 1))
	fi
done <"$TSV"
[ "$checked" = "$rows" ] && ok "all $rows rows of matrix.tsv were called" ||
	nok "$checked of $rows rows called"

# The refusal names the role needed.
curl $(as sysadmin) -o "$T/r.out" "$URL/v1/ledger/entries?start=0&count=1"
grep -q 'needs one of the roles auditor, requester or business-auditor' "$T/r.out" &&
	ok "a 403 forbidden_role names the roles the endpoint needs" ||
	nok "forbidden_role message ($(cat "$T/r.out"))"
# A refused sign is ledgered as a refusal with the role code.
curl $(as auditor) -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
grep -q '"actor":"p-auditor",.*"result":"refused:forbidden_role"' "$T/led.json" &&
	ok "a sign refused for want of a role is ledgered (refused:forbidden_role)" ||
	nok "no refused:forbidden_role entry for p-auditor"

# ---- units, role assignment after registration, and scoped reads ------------
expect "unit add makes a subsidiary under the root" 0 '"parent": "group"' -- \
	$A unit add --id sub-1 --name "Subsidiary One" --parent group
$A unit add --id sub-1-hr --name "Sub One HR" --parent sub-1 >/dev/null &&
	$A unit add --id sub-2 --name "Subsidiary Two" --parent group >/dev/null ||
	nok "units sub-1-hr and sub-2"
expect "unit add refuses an unknown parent" 1 "unknown_unit: parent: no unit 'nowhere'" -- \
	$A unit add --id x --name X --parent nowhere
expect "unit add refuses an id that exists" 1 "exists: unit 'sub-1' exists" -- \
	$A unit add --id sub-1 --name again --parent group
for who in sub1-admin sub2-user; do
	"$BIN/sealprov" enrol --config "$D/seald.yaml" --cn "$who" --out-dir "$D/clients/$who" \
		"$S1" "$S2" >/dev/null 2>&1
done
$A principal add --cert "$(cert sub1-admin)" --name sub1-admin --unit sub-1 --role seal-admin >/dev/null &&
	$A principal add --cert "$(cert sub2-user)" --name sub2-user --unit sub-2 \
	--role template-creator >/dev/null || nok "principals in sub-1 and sub-2"
expect "role assign refuses a role exclusive with one held, naming both" 1 \
	"roles_exclusive: the roles '(seal-admin|business-auditor)' and '(seal-admin|business-auditor)'" -- \
	$A role assign --principal sub1-admin --role business-auditor
expect "role assign refuses an unknown principal" 1 "unknown_principal: no principal 'zed'" -- \
	$A role assign --principal zed --role approver
expect "role assign gives a second role over another subtree" 0 '"role": "approver"' -- \
	$A role assign --principal sub1-admin --role approver --unit sub-1-hr
expect "role assign refuses a role already held over that unit" 1 "exists: 'sub1-admin' already holds" -- \
	$A role assign --principal sub1-admin --role approver --unit sub-1-hr
$A role list >"$T/rl.json" 2>&1
jq -e '(.roles | length) == 9 and any(.exclusive[]; . == ["sysadmin", "secadmin"] or . == ["secadmin", "sysadmin"])' \
	"$T/rl.json" >/dev/null && ok "role list shows the roles and the exclusive pairs" ||
	nok "role list: $(head -c 300 "$T/rl.json")"
curl $(as auditor) -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
got=$(jq -c '[.entries[].entry | select(.action == "role.assign" or .action == "unit.add") |
	.action] | group_by(.) | map({(.[0]): length}) | add' "$T/led.json")
[ "$got" = '{"role.assign":1,"unit.add":3}' ] &&
	ok "each unit added and role assigned is ledgered once; refusals are not" ||
	nok "unit.add/role.assign entries: $got"
curl $(as sub1-admin) -o "$T/u.json" "$URL/v1/units"
[ "$(jq -c '[.units[].id]' "$T/u.json")" = '["sub-1","sub-1-hr"]' ] &&
	ok "a subsidiary's seal-admin sees its subtree of units, not the group or another subsidiary" ||
	nok "units seen by sub1-admin: $(cat "$T/u.json")"
curl $(as sub1-admin) -o "$T/p.json" "$URL/v1/principals"
[ "$(jq -c '[.principals[].name]' "$T/p.json")" = '["sub1-admin"]' ] &&
	ok "a subsidiary's seal-admin sees only its subtree's principals" ||
	nok "principals seen by sub1-admin: $(cat "$T/p.json")"
curl $(as secadmin) -o "$T/p.json" "$URL/v1/principals"
[ "$(jq '.principals | length' "$T/p.json")" = 12 ] &&
	jq -e '.principals[] | select(.name == "sub1-admin") | .roles == [{"role":"seal-admin","unit":"sub-1"},{"role":"approver","unit":"sub-1-hr"}] and .kind == "person" and .unit == "sub-1"' "$T/p.json" >/dev/null &&
	ok "the secadmin sees every principal with its kind, unit and roles" ||
	nok "principals seen by secadmin: $(head -c 400 "$T/p.json")"
curl $(as secadmin) -o "$T/u.json" "$URL/v1/units"
[ "$(jq -c '[.units[].id]' "$T/u.json")" = '["group","sub-1","sub-1-hr","sub-2"]' ] &&
	ok "the secadmin sees the whole unit tree" || nok "units seen by secadmin: $(cat "$T/u.json")"
curl $(as requester) -o "$T/r.json" "$URL/v1/roles"
jq -e '(.roles | length) == 9 and any(.exclusive[]; . == ["auditor", "requester"])' "$T/r.json" >/dev/null &&
	ok "GET /v1/roles lists the nine roles and the exclusive pairs" ||
	nok "roles: $(head -c 300 "$T/r.json")"
seald_stop
