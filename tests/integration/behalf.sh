#!/usr/bin/env bash
# on_behalf_of end to end: an application signs on behalf of a person, as an
# administrator allowed with `sealadm principal add --may-act-for`; the real
# seald (throwaway SoftHSM token, real TLS, real LMDB) decides, the ledger and
# the evidence bundle record the person, and every refusal is ledgered too.
. "$(dirname "$0")/lib.sh"

D=$T/a
mkdir -p "$D"
if ! appliance_provision "$D"; then
	nok "a development appliance can be provisioned"
	exit 1
fi
seald_start "$D" || { nok "seald starts"; cat "$D/seald.log"; exit 1; }
appliance_unseal "$D" || { nok "unseal"; exit 1; }
A=sealadm_as
S1=$D/shares/sbx-test-share-1.txt
S2=$D/shares/sbx-test-share-2.txt
for who in alice bob; do
	"$BIN/sealprov" enrol --config "$D/seald.yaml" --cn "$who" --out-dir "$D/clients/$who" \
		"$S1" "$S2" >/dev/null 2>&1
done

# --- the administrator's side ---------------------------------------------------
# alice and bob are persons with certificates; zed is named but never registered.
$A principal add --cert "$D/clients/alice/client.pem" --name alice >/dev/null &&
	$A principal add --cert "$D/clients/bob/client.pem" --name bob >/dev/null ||
	nok "persons alice and bob are registered"
expect "principal add refuses a --may-act-for that is not a principal name" 1 \
	"bad_request: may_act_for\\[1\\]: a principal name" -- \
	$A principal add --cert "$D/clients/demo/client.pem" --name demo-erp \
	--may-act-for alice --may-act-for "bad name"
expect "principal add refuses a person named twice" 1 "'alice' is named twice" -- \
	$A principal add --cert "$D/clients/demo/client.pem" --name demo-erp \
	--may-act-for alice --may-act-for alice
expect "principal add refuses a principal naming itself" 1 "acts for itself" -- \
	$A principal add --cert "$D/clients/demo/client.pem" --name demo-erp --may-act-for demo-erp
many=""
for i in $(seq 33); do many="$many --may-act-for p$i"; done
expect "sealadm refuses more than 32 --may-act-for before asking seald" 2 "at most 32" -- \
	$A principal add --cert "$D/clients/demo/client.pem" --name demo-erp $many
expect "principal add with --may-act-for answers with the list" 0 \
	'"may_act_for": \[' -- $A principal add --cert "$D/clients/demo/client.pem" \
	--name demo-erp --may-act-for alice --may-act-for zed
$A seal create --id demo-seal --name "Demo Co. official seal" --type official \
	--key ec-p256 --image "$D/stamp.png" --unit demo >/dev/null &&
	$A grant add --seal demo-seal --principal demo-erp >/dev/null &&
	$A grant add --seal demo-seal --principal bob >/dev/null ||
	nok "seal and grants for demo-erp and bob"
# A name cut to fit would name another principal: sealadm refuses it instead.
long=demo-erp$(printf 'x%.0s' $(seq 60))
expect "grant add refuses a --principal longer than a name can be, before asking seald" 2 \
	"^sealadm: --principal: at most 63 characters" -- \
	$A grant add --seal demo-seal --principal "$long"
expect "seal create refuses a --unit longer than a unit id can be" 2 \
	"^sealadm: --unit: at most 63 characters" -- \
	$A seal create --name N --type official --key ec-p256 --image "$D/stamp.png" --unit "$long"
curl $C -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
grep -qE '"action":"principal.add","actor":"admin:testsec","cert_sha256":"[0-9a-f]+","kind":"person","may_act_for":\["alice","zed"\],"principal":"demo-erp"' "$T/led.json" &&
	ok "the ledger records whom a principal may act for, with its registration" ||
	nok "principal.add entry with may_act_for ($(grep -o '"action":"principal.add"[^}]*' "$T/led.json"))"
n=$(grep -o '"action":"principal.add"' "$T/led.json" | wc -l)
[ "$n" = 3 ] && ok "refused principal adds leave no ledger entry (alice, bob, demo-erp only)" ||
	nok "$n principal.add entries in the ledger, wanted 3"

# --- signing on behalf of a person ------------------------------------------------
doc=$T/contract.txt
echo "Contract 42: the parties agree." >"$doc"
sha=$(sha256sum "$doc" | cut -d' ' -f1)
post() { curl $C -o "$T/out.json" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
# obo_body HEX NAME BEHALF_JSON: a sign body with an on_behalf_of value (raw JSON).
obo_body() {
	printf '{"digest":{"alg":"sha256","value":"%s"},"document_name":"%s","on_behalf_of":%s}' "$1" "$2" "$3"
}
code=$(post -d "$(obo_body "$sha" for-alice.pdf '"alice"')" "$URL/v1/seals/demo-seal/sign")
if [ "$code" = 200 ] && grep -q '"cms"' "$T/out.json"; then
	ok "an application allowed to act for alice seals on her behalf (200)"
else
	nok "sign on behalf of alice (got $code: $(head -c 300 "$T/out.json"))"
fi
seq=$(sed -E 's/.*"seq":([0-9]+).*/\1/' "$T/out.json")
curl $C -o "$T/led.json" "$URL/v1/ledger/entries?start=$seq&count=1"
grep -q '"actor":"demo-erp"' "$T/led.json" && grep -q '"on_behalf_of":"alice"' "$T/led.json" &&
	grep -q '"result":"ok"' "$T/led.json" &&
	ok "GET /v1/ledger/entries shows the signature's actor and on_behalf_of alice" ||
	nok "ledger entry $seq ($(head -c 400 "$T/led.json"))"
curl $C -o "$T/bundle.json" "$URL/v1/evidence/$seq"
entry=$(sed -E 's/.*"entry": ?"([^"]*)".*/\1/' "$T/bundle.json" | base64 -d 2>/dev/null)
grep -q '"on_behalf_of":"alice"' <<<"$entry" && grep -q '"actor":"demo-erp"' <<<"$entry" &&
	ok "the evidence bundle's entry records on_behalf_of alice" ||
	nok "evidence entry ($entry)"
sleep 1.2	# a tree head that covers the entry
expect "the bundle with on_behalf_of verifies offline" 0 "evidence: VALID" -- \
	"$BIN/sealctl" verify-evidence --trust "$D/state/ca.pem" "$T/bundle.json"

# refused: each is 403 not_on_behalf naming both, and ledgered as a refusal.
refusals() {	# PERSON: how many refusals not_on_behalf for PERSON the ledger holds
	curl $C -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
	grep -o "\"on_behalf_of\":\"$1\",\"result\":\"refused:not_on_behalf\"" "$T/led.json" | wc -l
}
refused_obo() {	# what BEHALF_JSON PERSON [CERT_ARGS]
	local what=$1 val=$2 person=$3 code n0 n1
	shift 3
	n0=$(refusals "$person")
	code=$(curl ${1:-$C} -o "$T/out.json" -w '%{http_code}' -H 'Content-Type: application/json' \
		-d "$(obo_body "$sha" refused.pdf "$val")" "$URL/v1/seals/demo-seal/sign")
	if [ "$code" = 403 ] && grep -q '"code":"not_on_behalf"' "$T/out.json" &&
		grep -q "'$person'" "$T/out.json"; then
		ok "$what: 403 not_on_behalf naming the person"
	else
		nok "$what (got $code: $(head -c 300 "$T/out.json"))"
		return
	fi
	n1=$(refusals "$person")
	[ "$n1" -eq $((n0 + 1)) ] && ok "$what: the refusal is ledgered with on_behalf_of $person" ||
		nok "$what: ledgered refusals for $person went from $n0 to $n1"
}
refused_obo "a registered person not on the application's list (bob)" '"bob"' bob
grep -q "'demo-erp' may not act on behalf of 'bob'" "$T/out.json" &&
	ok "the refusal message names the application and the person" ||
	nok "refusal message ($(head -c 300 "$T/out.json"))"
refused_obo "a person on the list but never registered (zed)" '"zed"' zed
refused_obo "a person neither on the list nor registered" '"nobody"' nobody
CB="--silent --show-error --cert $D/clients/bob/client.pem --key $D/clients/bob/client.key --cacert $D/state/ca.pem"
refused_obo "a principal with a grant but no may_act_for list (bob for alice)" '"alice"' alice "$CB"
code=$(curl $CB -o "$T/out.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	-d "$(sign_body "$sha" bob-own.pdf)" "$URL/v1/seals/demo-seal/sign")
[ "$code" = 200 ] && ok "without on_behalf_of, signing is as before (bob for himself: 200)" ||
	nok "bob signing for himself (got $code: $(head -c 300 "$T/out.json"))"

# malformed: 400 bad_request from the net worker; nothing reaches the ledger.
sleep 1.2	# the tree head has caught up with the ledger
size1=$(curl $C "$URL/v1/ledger/sth" | sed -E 's/.*"tree_size":([0-9]+).*/\1/')
for bad in 5 null true '["alice"]' '""' '"a b"' '"alice/x"' '"al\nice"' \
	"\"$(printf 'p%.0s' $(seq 64))\""; do
	code=$(post -d "$(obo_body "$sha" bad.pdf "$bad")" "$URL/v1/seals/demo-seal/sign")
	if [ "$code" = 400 ] && grep -q '"code":"bad_request"' "$T/out.json" &&
		grep -q 'on_behalf_of' "$T/out.json"; then
		ok "on_behalf_of $bad: 400 bad_request naming the field"
	else
		nok "on_behalf_of $bad (got $code: $(head -c 300 "$T/out.json"))"
	fi
done
sleep 1.2
size2=$(curl $C "$URL/v1/ledger/sth" | sed -E 's/.*"tree_size":([0-9]+).*/\1/')
[ -n "$size1" ] && [ "$size1" = "$size2" ] &&
	ok "malformed on_behalf_of requests change nothing (the ledger did not grow)" ||
	nok "ledger size before $size1, after $size2"

# --- batches ---------------------------------------------------------------------------
item() {	# NAME BEHALF_JSON (empty: none)
	printf '{"seal":"demo-seal","digest":{"alg":"sha256","value":"%s"},"document_name":"%s"%s}' \
		"$sha" "$1" "${2:+,\"on_behalf_of\":$2}"
}
code=$(post -d "{\"items\":[$(item b-alice.pdf '"alice"'),$(item b-bob.pdf '"bob"'),$(item b-none.pdf)]}" \
	"$URL/v1/sign/batch")
if [ "$code" = 200 ] && [ "$(grep -o '"cms"' "$T/out.json" | wc -l)" = 2 ] &&
	grep -q '"code":"not_on_behalf"' "$T/out.json"; then
	ok "batch: each item is decided for its own on_behalf_of (alice ok, bob refused, none ok)"
else
	nok "batch with on_behalf_of (got $code: $(head -c 400 "$T/out.json"))"
fi
curl $C -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
grep -q '"document_name":"b-alice.pdf","on_behalf_of":"alice","result":"ok"' "$T/led.json" &&
	grep -q '"document_name":"b-none.pdf","on_behalf_of":"","result":"ok"' "$T/led.json" &&
	ok "batch: the ledger records each item's on_behalf_of" ||
	nok "batch ledger entries"
code=$(post -d "{\"items\":[$(item b1.pdf '"alice"'),$(item b2.pdf '"a;b"')]}" "$URL/v1/sign/batch")
[ "$code" = 400 ] && grep -q 'items\[1\].on_behalf_of' "$T/out.json" &&
	ok "batch: a malformed on_behalf_of refuses the whole batch, naming the item" ||
	nok "batch malformed on_behalf_of (got $code: $(head -c 300 "$T/out.json"))"

# --- sealctl ----------------------------------------------------------------------------
SC="$BIN/sealctl --server 127.0.0.1:$PORT --cert $D/clients/demo/client.pem --key $D/clients/demo/client.key --ca $D/state/ca.pem"
expect "sealctl sign --on-behalf-of alice seals on her behalf" 0 "^sealed .*contract.txt: seq [0-9]+$" -- \
	$SC sign --seal demo-seal --on-behalf-of alice --name ctl-alice.pdf -o "$T/ctl.p7s" "$doc"
expect "the ledger records sealctl's on_behalf_of" 0 \
	'"document_name":"ctl-alice.pdf","on_behalf_of":"alice","result":"ok"' -- \
	$SC ledger entries --start 0 --count 1000
expect "sealctl sign --on-behalf-of bob prints the refusal's code and exits 1" 1 \
	"^sealctl: not_on_behalf: 'demo-erp' may not act on behalf of 'bob'" -- \
	$SC sign --seal demo-seal --on-behalf-of bob -o "$T/ctl2.p7s" "$doc"
expect "sealctl sign --on-behalf-of with bad characters gets the appliance's 400" 1 \
	"^sealctl: bad_request: on_behalf_of" -- \
	$SC sign --seal demo-seal --on-behalf-of "a b" -o "$T/ctl3.p7s" "$doc"
expect "sealctl sign --on-behalf-of '' is a usage error" 2 "on-behalf-of" -- \
	$SC sign --seal demo-seal --on-behalf-of "" -o "$T/ctl4.p7s" "$doc"

# --- the record survives a restart ------------------------------------------------------
seald_stop
seald_start "$D" && appliance_unseal "$D" || nok "restart"
code=$(post -d "$(obo_body "$sha" after-restart.pdf '"alice"')" "$URL/v1/seals/demo-seal/sign")
[ "$code" = 200 ] && ok "after a restart the stored may_act_for still allows alice" ||
	nok "after restart (got $code: $(head -c 300 "$T/out.json"))"
refused_obo "after a restart bob is still refused" '"bob"' bob
seald_stop
exit 0
