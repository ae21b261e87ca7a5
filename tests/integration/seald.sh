#!/usr/bin/env bash
# seald end to end: a provisioned appliance with a throwaway SoftHSM token,
# the real seald processes, real TLS, real LMDB; driven with curl, openssl and
# sealadm as a business system and its administrators would.
. "$(dirname "$0")/lib.sh"

D=$T/a
mkdir -p "$D"
if ! appliance_provision "$D"; then
	nok "a development appliance can be provisioned"
	exit 1
fi
ok "a development appliance can be provisioned (token, ceremony, CA, TLS, client)"
seald_start "$D" || { nok "seald starts"; cat "$D/seald.log"; exit 1; }
ok "seald starts and listens"

doc=$T/contract.txt
echo "Contract 42: the parties agree." >"$doc"
sha=$(sha256sum "$doc" | cut -d' ' -f1)
post() { curl $C -o "$T/out.json" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }

# --- sealed ------------------------------------------------------------------
st=$(curl $C "$URL/v1/health")
grep -q '"state":"sealed"' <<<"$st" && ok "health says sealed before unseal" || nok "health says sealed before unseal ($st)"
code=$(post -d "$(sign_body "$sha")" "$URL/v1/seals/demo-seal/sign")
if [ "$code" = 503 ] && grep -q '"code":"sealed"' "$T/out.json"; then
	ok "a sealed appliance answers sign requests with 503 sealed"
else
	nok "a sealed appliance answers sign requests with 503 sealed (got $code: $(cat "$T/out.json"))"
fi

# --- unseal at the console, one share at a time ------------------------------
expect "the first share is accepted and progress shows 1 of 2" 0 "share accepted: 1 of 2" -- \
	"$BIN/sealadm" --config "$D/seald.yaml" unseal --share-file "$D/shares/sbx-test-share-1.txt"
expect "the same share again is refused as a duplicate" 1 "entered twice" -- \
	"$BIN/sealadm" --config "$D/seald.yaml" unseal --share-file "$D/shares/sbx-test-share-1.txt"
expect "the second share unseals the appliance" 0 "unsealed" -- \
	sh -c "sed -n 3p '$D/shares/sbx-test-share-2.txt' | '$BIN/sealadm' --config '$D/seald.yaml' unseal --share-file -"
st=$(curl $C "$URL/v1/health")
grep -q '"state":"ready"' <<<"$st" && ok "health says ready after unseal" || nok "health says ready after unseal ($st)"
expect "an admin command without a login is refused: 401 login_required" 1 \
	"login_required: an administrator must log in to create seals" -- \
	"$BIN/sealadm" --config "$D/seald.yaml" seal create --name X --type official --key ec-p256 \
	--image "$D/stamp.png" --unit demo
expect "a session token nobody was given is refused: session_expired" 1 "session_expired" -- \
	sh -c "printf '%064d\n' 7 | '$BIN/sealadm' --config '$D/seald.yaml' --session-fd 0 role list"
appliance_login "$D" && ok "the test's secadmin logs in" || nok "the test's secadmin logs in"
appliance_demo_seal "$D" && ok "an admin registers a principal, a seal and a grant" ||
	nok "an admin registers a principal, a seal and a grant"

# --- seal a digest with curl; verify with openssl -------------------------------
code=$(post -d "$(sign_body "$sha" contract.txt)" "$URL/v1/seals/demo-seal/sign")
if [ "$code" = 200 ] && grep -q '"cms"' "$T/out.json"; then
	ok "curl seals a digest (200 with a CMS, ledger seq and leaf hash)"
else
	nok "curl seals a digest (got $code: $(head -c 300 "$T/out.json"))"
fi
sed -E 's/.*"cms":"([^"]*)".*/\1/' "$T/out.json" | base64 -d >"$T/contract.p7s"
expect "openssl cms -verify accepts the CMS over the document with the appliance CA" 0 \
	"Verification successful" -- openssl cms -verify -binary -inform DER -in "$T/contract.p7s" \
	-content "$doc" -CAfile "$D/state/ca.pem" -purpose any -out /dev/null
echo "Contract 43" >"$T/other.txt"
expect "openssl cms -verify refuses the CMS over another document" 4 "verification failure" -- \
	openssl cms -verify -binary -inform DER -in "$T/contract.p7s" -content "$T/other.txt" \
	-CAfile "$D/state/ca.pem" -purpose any -out /dev/null
attrs=$(openssl cms -cmsout -print -inform DER -in "$T/contract.p7s")
if grep -q 'signingTime' <<<"$attrs" && grep -q 'messageDigest' <<<"$attrs" &&
	grep -q 'contentType' <<<"$attrs" && grep -qi 'signingCertificateV2\|id-smime-aa-signingCertificateV2' <<<"$attrs" &&
	grep -qi 'timeStampToken' <<<"$attrs"; then
	ok "the CMS is CAdES-B-T: content-type, message-digest, signing-time, signing-certificate-v2, timestamp"
else
	nok "the CMS is CAdES-B-T (attributes missing)"
fi
imprint=$("$BIN/tools/fmttool" token "$T/contract.p7s" "$T/token.der" 2>/dev/null | tail -n1)
expect "openssl ts -verify accepts the embedded timestamp token" 0 "Verification: OK" -- \
	openssl ts -verify -token_in -in "$T/token.der" -digest "$imprint" \
	-CAfile "$D/state/ca.pem" -untrusted "$D/state/tsa.pem"
seq=$(sed -E 's/.*"seq":([0-9]+).*/\1/' "$T/out.json")
cp "$T/out.json" "$T/first-sign.json"

# --- verify through the API -----------------------------------------------------
cms64=$(base64 -w0 "$T/contract.p7s")
code=$(post -d "{\"digest\":{\"alg\":\"sha256\",\"value\":\"$sha\"},\"cms\":\"$cms64\"}" "$URL/v1/verify")
if [ "$code" = 200 ] && grep -q '"valid":true' "$T/out.json" && grep -q '"seal":"demo-seal"' "$T/out.json" &&
	grep -q "\"seq\":$seq" "$T/out.json" && grep -q '"seal_active_then":true' "$T/out.json"; then
	ok "POST /v1/verify: valid, which seal, its ledger seq, the seal was active"
else
	nok "POST /v1/verify (got $code: $(cat "$T/out.json"))"
fi
other=$(sha256sum "$T/other.txt" | cut -d' ' -f1)
code=$(post -d "{\"digest\":{\"alg\":\"sha256\",\"value\":\"$other\"},\"cms\":\"$cms64\"}" "$URL/v1/verify")
grep -q '"valid":false' "$T/out.json" && ok "POST /v1/verify: a CMS over another digest is not valid" ||
	nok "POST /v1/verify of another digest (got $code: $(cat "$T/out.json"))"

# --- the TSA ----------------------------------------------------------------------
openssl ts -query -data "$doc" -sha256 -cert -out "$T/q.tsq" 2>/dev/null
code=$(curl $C -o "$T/r.tsr" -w '%{http_code}' -H 'Content-Type: application/timestamp-query' \
	--data-binary @"$T/q.tsq" "$URL/v1/tsa")
[ "$code" = 200 ] && ok "POST /v1/tsa answers an RFC 3161 query" || nok "POST /v1/tsa answers (got $code)"
expect "openssl ts -verify accepts the TSA's reply for the document" 0 "Verification: OK" -- \
	openssl ts -verify -data "$doc" -in "$T/r.tsr" -CAfile "$D/state/ca.pem"
openssl ts -reply -in "$T/r.tsr" -token_out -out "$T/tok.der" 2>/dev/null
tok_sha=$(sha256sum "$T/tok.der" | cut -d' ' -f1)
code=$(curl $C -o "$T/out.json" -w '%{http_code}' "$URL/v1/ledger/entries?start=0&count=100")
if jq -e --arg d "$(sha256sum "$doc" | cut -d' ' -f1)" --arg t "$tok_sha" \
	'[.entries[].entry | select(.action=="timestamp")] | length == 1 and .[0].imprint.value == $d and
	.[0].imprint.alg == "SHA256" and .[0].token_sha256 == $t and (.[0].serial | length) > 0' \
	"$T/out.json" >/dev/null; then
	ok "the timestamp is ledgered before it is answered (who, the imprint, serial, the token's SHA-256)"
else
	nok "timestamp entry: $(jq -c '[.entries[].entry | select(.action=="timestamp")]' "$T/out.json")"
fi

# --- ledger, proofs, evidence --------------------------------------------------------
sleep 1.2	# a tree head is made each second the ledger grew
code=$(curl $C -o "$T/sth.json" -w '%{http_code}' "$URL/v1/ledger/sth")
grep -q '"tree_size"' "$T/sth.json" && ok "GET /v1/ledger/sth returns a signed tree head" ||
	nok "GET /v1/ledger/sth (got $code: $(cat "$T/sth.json"))"
code=$(curl $C -o "$T/out.json" -w '%{http_code}' "$URL/v1/ledger/entries?start=0&count=100")
grep -q '"action":"sign"' "$T/out.json" && grep -q '"action":"unseal"' "$T/out.json" &&
	grep -q '"result":"refused:sealed"' "$T/out.json" &&
	ok "the ledger holds the unseal, the refusal while sealed, and the signature" ||
	nok "ledger entries (got $code: $(head -c 400 "$T/out.json"))"
code=$(curl $C -o "$T/out.json" -w '%{http_code}' "$URL/v1/ledger/proof/inclusion?seq=$seq")
grep -q '"path"' "$T/out.json" && ok "GET /v1/ledger/proof/inclusion returns a path" ||
	nok "inclusion proof (got $code: $(cat "$T/out.json"))"
code=$(curl $C -o "$T/out.json" -w '%{http_code}' "$URL/v1/ledger/proof/consistency?first=1&second=$((seq + 1))")
grep -q '"path"' "$T/out.json" && ok "GET /v1/ledger/proof/consistency returns a path" ||
	nok "consistency proof (got $code: $(cat "$T/out.json"))"
code=$(curl $C -o "$T/bundle.json" -w '%{http_code}' "$URL/v1/evidence/$seq")
grep -q '"inclusion"' "$T/bundle.json" && grep -q '"certificates"' "$T/bundle.json" &&
	ok "GET /v1/evidence returns a bundle" || nok "evidence (got $code: $(head -c 300 "$T/bundle.json"))"

# --- who may seal ----------------------------------------------------------------
P="$BIN/sealprov"
"$P" enrol --config "$D/seald.yaml" --cn other-sys --out-dir "$D/clients/other" \
	"$D/shares/sbx-test-share-1.txt" "$D/shares/sbx-test-share-2.txt" >/dev/null 2>&1
CO="--silent --show-error --cert $D/clients/other/client.pem --key $D/clients/other/client.key --cacert $D/state/ca.pem"
code=$(curl $CO -o "$T/out.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	-d "$(sign_body "$sha")" "$URL/v1/seals/demo-seal/sign")
[ "$code" = 403 ] && grep -q '"code":"unknown_principal"' "$T/out.json" &&
	ok "a valid certificate of no registered principal gets 403 unknown_principal" ||
	nok "unregistered certificate (got $code: $(cat "$T/out.json"))"
sealadm_as principal add --cert "$D/clients/other/client.pem" \
	--name other-sys >/dev/null
code=$(curl $CO -o "$T/out.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	-d "$(sign_body "$sha")" "$URL/v1/seals/demo-seal/sign")
[ "$code" = 403 ] && grep -q '"code":"not_granted"' "$T/out.json" &&
	ok "a registered principal without a grant gets 403 not_granted" ||
	nok "ungranted principal (got $code: $(cat "$T/out.json"))"
code=$(curl $CO -o "$T/out.json" -w '%{http_code}' "$URL/v1/seals")
[ "$code" = 200 ] && ! grep -q demo-seal "$T/out.json" &&
	ok "GET /v1/seals lists only the seals a principal may use" ||
	nok "seal listing for an ungranted principal (got $code: $(cat "$T/out.json"))"
"$P" enrol --config "$D/seald.yaml" --cn intruder --out-dir "$D/clients/third" \
	"$D/shares/sbx-test-share-1.txt" "$D/shares/sbx-test-share-2.txt" >/dev/null 2>&1
expect "principal add under a taken name is refused" 1 "exists" -- \
	sealadm_as principal add --cert "$D/clients/third/client.pem" \
	--name demo-erp
code=$(curl --silent --cert "$D/clients/third/client.pem" --key "$D/clients/third/client.key" \
	--cacert "$D/state/ca.pem" -o "$T/out.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	-d "$(sign_body "$sha")" "$URL/v1/seals/demo-seal/sign")
[ "$code" = 403 ] && grep -q unknown_principal "$T/out.json" &&
	ok "a refused principal add leaves its certificate unable to act as the existing principal" ||
	nok "refused principal add (the certificate got $code: $(cat "$T/out.json"))"
code=$(post -d "$(sign_body "$sha")" "$URL/v1/seals/no-such-seal/sign")
[ "$code" = 404 ] && grep -q '"code":"unknown_seal"' "$T/out.json" &&
	ok "an unknown seal gets 404 unknown_seal" || nok "unknown seal (got $code)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=stranger \
	-keyout "$T/stranger.key" -out "$T/stranger.pem" -days 30 2>/dev/null
expect "principal add refuses a certificate of another CA" 1 "bad_certificate" -- \
	sealadm_as principal add --cert "$T/stranger.pem" --name x
expect "seal create refuses an image that is not a PNG" 1 "must be a PNG" -- \
	sealadm_as seal create --name X --type official --key ec-p256 \
	--image "$doc" --unit demo

# --- the net worker is restarted when it dies ------------------------------------
netpid=$(pgrep -P "$SEALD_PID" -x seald-net)
kill -9 $netpid 2>/dev/null
back=0
for _ in $(seq 50); do
	sleep 0.2
	if curl $C "$URL/v1/health" 2>/dev/null | grep -q '"state":"ready"'; then back=1; break; fi
done
newpid=$(pgrep -P "$SEALD_PID" -x seald-net)
[ $back = 1 ] && [ -n "$newpid" ] && [ "$newpid" != "$netpid" ] &&
	ok "a killed net worker is restarted and serving continues, still unsealed" ||
	nok "net worker restart (old $netpid new $newpid)"

# --- a clock that is not trusted ----------------------------------------------------
seald_stop "$D"
sed -i 's/require_sync: false/require_sync: true/' "$D/seald.yaml"
seald_start "$D" && appliance_unseal "$D"
clock=$("$BIN/tools/clocksync")
code=$(post -d "$(sign_body "$sha")" "$URL/v1/seals/demo-seal/sign")
if [ "$clock" = unsynced ]; then
	[ "$code" = 503 ] && grep -q '"code":"clock_unsynchronized"' "$T/out.json" &&
		ok "with time.require_sync and an unsynchronised clock, sealing is refused (503)" ||
		nok "clock refusal (got $code: $(cat "$T/out.json"))"
	curl $C -o "$T/r2.tsr" -H 'Content-Type: application/timestamp-query' \
		--data-binary @"$T/q.tsq" "$URL/v1/tsa"
	openssl ts -reply -in "$T/r2.tsr" -text 2>/dev/null | grep -qi 'rejection\|time is not available\|timeNotAvailable' &&
		ok "with an unsynchronised clock the TSA answers with a rejection, not a token" ||
		nok "TSA rejection ($(openssl ts -reply -in "$T/r2.tsr" -text 2>&1 | head -5))"
else
	[ "$code" = 200 ] && ok "with time.require_sync and a synchronised clock, sealing works" ||
		nok "synchronised clock (got $code)"
fi
seald_stop "$D"
sed -i 's/require_sync: true/require_sync: false/' "$D/seald.yaml"

# --- crash safety: kill the monitor under load ------------------------------------
seald_start "$D" && appliance_unseal "$D"
st=$(curl $C "$URL/v1/health")
mkdir -p "$T/load"
for w in 1 2 3 4; do
	(
		for i in $(seq 40); do
			h=$(printf 'load %s %s' "$w" "$i" | sha256sum | cut -d' ' -f1)
			curl $C -o "$T/load/$w-$i.json" -w '%{http_code}\n' -H 'Content-Type: application/json' \
				-d "$(sign_body "$h" "load-$w-$i")" "$URL/v1/seals/demo-seal/sign" \
				>"$T/load/$w-$i.code" 2>/dev/null || true
		done
	) &
done
# Kill while signatures are flowing: once 20 have been answered.
for _ in $(seq 100); do
	[ "$(cat "$T"/load/*.code 2>/dev/null | grep -c 200)" -ge 20 ] && break
	sleep 0.1
done
monpid=$(pgrep -P "$SEALD_PID" -x seald-monitor)
kill -9 "$monpid"
wait "$SEALD_PID" 2>/dev/null
rc=$?
wait 2>/dev/null
SEALD_PID=
[ "$rc" -ne 0 ] && ok "seald stops (non-zero) when its monitor is killed" || nok "seald after monitor kill (status $rc)"
seald_start "$D"
st=$(curl $C "$URL/v1/health")
grep -q '"state":"sealed"' <<<"$st" && ok "after a monitor crash seald comes back sealed" || nok "restart state ($st)"
appliance_unseal "$D"
got=0 missing=0
curl $C -o "$T/all.json" "$URL/v1/ledger/entries?start=0&count=1000"
for f in "$T"/load/*.json; do
	[ "$(cat "${f%.json}.code" 2>/dev/null)" = 200 ] || continue
	got=$((got + 1))
	s=$(sed -E 's/.*"seq":([0-9]+).*/\1/' "$f")
	dg=$(sed -E 's/.*"cms":"([^"]*)".*/\1/' "$f" | base64 -d | sha256sum | cut -d' ' -f1)
	grep -q "\"signature_digest\":\"$dg\"" "$T/all.json" && grep -q "\"seq\":$s[,}]" "$T/all.json" ||
		missing=$((missing + 1))
done
[ "$got" -gt 0 ] && [ "$missing" = 0 ] &&
	ok "every one of the $got signatures clients received before the crash is in the ledger" ||
	nok "signatures received before the crash: $got, missing from the ledger: $missing"
sleep 1.2	# a tree head over the whole ledger
expect "after the crash and restart, sealctl ledger verify recomputes the tree and checks its head" 0 \
	"ledger: VALID" -- "$BIN/sealctl" --server "127.0.0.1:$PORT" --cert "$D/clients/demo/client.pem" \
	--key "$D/clients/demo/client.key" --ca "$D/state/ca.pem" ledger verify \
	--audit-cert "$D/state/audit.pem"

# --- a ledger larger than one page ------------------------------------------------
items=""
for i in $(seq 100); do
	h=$(printf 'batch %s' "$i" | sha256sum | cut -d' ' -f1)
	items="$items${items:+,}{\"seal\":\"demo-seal\",\"digest\":{\"alg\":\"sha256\",\"value\":\"$h\"},\"document_name\":\"b$i.pdf\"}"
done
for b in 1 2 3 4; do
	post -d "{\"items\":[$items]}" "$URL/v1/sign/batch" >"$T/batch.code"
done
nres=$(grep -o '"cms"' "$T/out.json" | wc -l)
[ "$(cat "$T/batch.code")" = 200 ] && [ "$nres" = 100 ] &&
	ok "POST /v1/sign/batch seals 100 items in one call" || nok "batch (got $(cat "$T/batch.code"), $nres results)"
code=$(curl $C -o "$T/page.json" -w '%{http_code}' "$URL/v1/ledger/entries?start=0&count=1000")
npage=$(grep -o '"leaf_input"' "$T/page.json" | wc -l)
[ "$code" = 200 ] && [ "$npage" -gt 0 ] && [ "$npage" -lt 500 ] &&
	ok "a page of 1000 entries with CMSes is cut to what fits one reply ($npage entries)" ||
	nok "large page (got $code with $npage entries)"
sleep 1.2
expect "sealctl ledger verify pages through a ledger larger than one reply" 0 "ledger: VALID" -- \
	"$BIN/sealctl" --server "127.0.0.1:$PORT" --cert "$D/clients/demo/client.pem" \
	--key "$D/clients/demo/client.key" --ca "$D/state/ca.pem" ledger verify \
	--audit-cert "$D/state/audit.pem"

# --- the admin socket's peer check ----------------------------------------------
# The socket is 0600 root's; its own check of the peer's uid (SO_PEERCRED) is
# the second line: opened up here for one try by another user, it must hold.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod o+x "$T" "$D" && chmod 0666 "$D/admin.sock"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/sealadm" \
		--socket "$D/admin.sock" status 2>&1)
	rc=$?
	chmod 0600 "$D/admin.sock"
	chmod o-x "$T" "$D"
	if [ "$rc" -ne 0 ] && ! grep -q '"state"' <<<"$out" &&
		grep -q 'admin socket: refused uid 65534' "$D/seald.log"; then
		ok "another uid that reaches the admin socket is refused by its peer check, and logged"
	else
		nok "admin socket peer check (status $rc: $out)"
	fi
else
	ok "# SKIP the admin socket's peer check needs root and setpriv"
fi

# --- tamper: change one entry behind seald's back --------------------------------
seald_stop "$D"
expect "ledger-tamper changes entry 3 in the LMDB file" 0 "" -- \
	"$BIN/tools/ledger-tamper" "$D/state/ledger" flip 3
"$BIN/seald" --config "$D/seald.yaml" >"$T/tamper.log" 2>&1 &
tp=$!
for _ in $(seq 50); do kill -0 $tp 2>/dev/null || break; sleep 0.1; done
if ! kill -0 $tp 2>/dev/null && grep -q 'sequence number 3' "$T/tamper.log"; then
	ok "seald refuses to start on a tampered ledger, naming sequence number 3"
else
	nok "tampered ledger start ($(tail -3 "$T/tamper.log"))"
	kill -9 $tp 2>/dev/null
fi
exit 0
