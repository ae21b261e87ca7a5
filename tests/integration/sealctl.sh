#!/usr/bin/env bash
# sealctl end to end: the client against a real seald (throwaway SoftHSM token,
# real TLS, real LMDB), its results checked with openssl, and verify-evidence
# run offline on what it fetched, as a business system and an auditor would.
. "$(dirname "$0")/lib.sh"

D=$T/a
mkdir -p "$D"
if ! appliance_provision "$D"; then
	nok "a development appliance can be provisioned"
	exit 1
fi
seald_start "$D" || { nok "seald starts"; cat "$D/seald.log"; exit 1; }
S=$BIN/sealctl
CA=$D/state/ca.pem

# The demo client's settings in a config file, with relative paths.
cp "$CA" "$D/clients/demo/ca.pem"
cat >"$D/clients/demo/client.yaml" <<EOC
# sealctl settings for the demo ERP
server: 127.0.0.1:$PORT
cert: client.pem
key: client.key
ca: ca.pem
timeout: 10
EOC
export SEALCTL_CONFIG=$D/clients/demo/client.yaml
export HOME=$T/home	# no ~/.config/sealbox here

doc=$T/contract.txt
echo "Contract 42: the parties agree." >"$doc"

# --- before unseal --------------------------------------------------------------
expect "health reports a sealed appliance and exits 1" 1 "state: sealed" -- "$S" health
expect "sign on a sealed appliance prints the API error code and exits 1" 1 \
	"^sealctl: sealed: " -- "$S" sign --seal demo-seal "$doc"
appliance_unseal "$D" && appliance_demo_seal "$D" || nok "unseal and demo seal"
expect "health reports ready and exits 0" 0 "state: ready" -- "$S" health

# --- configuration ------------------------------------------------------------
printf 'server: 127.0.0.1:%s\ncolour: red\n' "$PORT" >"$T/bad.yaml"
expect "an unknown key in the client config is an error naming file and line (exit 2)" 2 \
	"bad.yaml:2: colour: unknown key" -- env SEALCTL_CONFIG="$T/bad.yaml" "$S" seals
expect "a missing \$SEALCTL_CONFIG file is an error (exit 2)" 2 "nope.yaml: cannot open" -- \
	env SEALCTL_CONFIG="$T/nope.yaml" "$S" seals
expect "command-line flags work without any config file" 0 "demo-seal" -- \
	env -u SEALCTL_CONFIG "$S" --server "127.0.0.1:$PORT" --cert "$D/clients/demo/client.pem" \
	--key "$D/clients/demo/client.key" --ca "$CA" seals
expect "a flag overrides the config file (--server)" 1 "Connection refused" -- \
	"$S" --server "127.0.0.1:$(free_port)" seals

# --- seals, sign, verify ------------------------------------------------------------
expect "seals prints a table of id, type, state, name" 0 \
	"demo-seal +official +active +Demo Co. official seal" -- "$S" seals
expect "sign writes FILE.p7s and prints the ledger sequence number" 0 \
	"^sealed .*contract.txt: seq [0-9]+$" -- "$S" sign --seal demo-seal "$doc"
seq=$("$S" ledger entries --start 0 --count 1000 | grep '"document_name":"contract.txt"' |
	grep '"result":"ok"' | tail -n 1 | cut -f1)
expect "openssl cms -verify accepts sealctl's signature over the document" 0 \
	"Verification successful" -- openssl cms -verify -binary -inform DER -in "$doc.p7s" \
	-content "$doc" -CAfile "$CA" -purpose any -out /dev/null
expect "sign -o and --name choose the output file and the ledgered name" 0 "seq [0-9]+" -- \
	"$S" sign --seal demo-seal --name "Contract 42 (final).pdf" -o "$T/c42.der" "$doc"
expect "the ledger records the name given with --name" 0 "Contract 42 \\(final\\)\\.pdf" -- \
	"$S" ledger entries --start 0 --count 1000
expect "verify: a valid signature prints valid: yes, the seal and seq, exits 0" 0 \
	"valid: yes" -- "$S" verify "$doc" "$doc.p7s"
expect "verify names the seal" 0 "^seal: demo-seal" -- "$S" verify "$doc" "$doc.p7s"
echo "Contract 43" >"$T/other.txt"
expect "verify: the signature over another document is not valid (exit 1)" 1 "valid: no" -- \
	"$S" verify "$T/other.txt" "$doc.p7s"
expect "an unknown seal prints 'sealctl: unknown_seal: ...' and exits 1" 1 \
	"^sealctl: unknown_seal: " -- "$S" sign --seal no-such-seal "$doc"

# --- timestamp ------------------------------------------------------------------------
expect "timestamp writes FILE.tsr after checking status, nonce and imprint" 0 \
	"^timestamped .*contract.txt: time " -- "$S" timestamp "$doc"
expect "openssl ts -verify accepts sealctl's timestamp reply" 0 "Verification: OK" -- \
	openssl ts -verify -data "$doc" -in "$doc.tsr" -CAfile "$CA"
expect "timestamp --trust also checks the token's signature and chain" 0 "timestamped" -- \
	"$S" timestamp --trust "$CA" -o "$T/t2.tsr" "$doc"

# --- ledger -----------------------------------------------------------------------------
expect "ledger sth prints the signed tree head" 0 "^root_hash: " -- "$S" ledger sth
expect "ledger entries lists entries with their sequence numbers" 0 '^0	\{' -- \
	"$S" ledger entries --count 5
expect "ledger verify with the audit certificate recomputes the root and checks the STH" 0 \
	"ledger: VALID" -- "$S" ledger verify --audit-cert "$D/state/audit.pem"
# --trust needs a signature under the newest tree head (made once a second).
for _ in $(seq 50); do
	[ "$("$S" ledger sth | sed -n 's/^tree_size: //p')" -gt "${seq:-0}" ] 2>/dev/null && break
	sleep 0.1
done
expect "ledger verify --trust takes the audit certificate from evidence, chained to the CA" 0 \
	"tree head signature: ok .*from evidence" -- "$S" ledger verify --trust "$CA"
expect "ledger verify with another key than the audit key fails (exit 1)" 1 \
	"tree head signature: FAILED" -- "$S" ledger verify --audit-cert "$D/tls/server.pem"

# --- evidence, checked offline -----------------------------------------------------------
expect "evidence SEQ -o writes the bundle" 0 "evidence for seq $seq" -- \
	"$S" evidence "$seq" -o "$T/bundle.json"
# Offline: no server, and a config file that would not even load.
expect "verify-evidence passes every check offline, without any config" 0 "evidence: VALID" -- \
	env SEALCTL_CONFIG="$T/bad.yaml" "$S" verify-evidence --trust "$CA" "$T/bundle.json"
out=$("$S" verify-evidence --trust "$CA" "$T/bundle.json")
n=$(grep -cE ': ok$' <<<"$out")
[ "$n" -eq 8 ] && ok "verify-evidence prints each of its 8 checks as ok" ||
	{ nok "verify-evidence prints each of its 8 checks as ok (got $n)"; sed 's/^/#   | /' <<<"$out"; }
# Tamper: another leaf hash (its first base64 character changed).
lh=$(sed -E 's/.*"leaf_hash": ?"([^"]*)".*/\1/' "$T/bundle.json")
if [ "${lh:0:1}" = A ]; then nlh=B${lh:1}; else nlh=A${lh:1}; fi
sed "s|$lh|$nlh|" "$T/bundle.json" >"$T/bad-leaf.json"
expect "verify-evidence finds a changed leaf hash (exit 1)" 1 "leaf hash: FAILED" -- \
	"$S" verify-evidence --trust "$CA" "$T/bad-leaf.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=stranger \
	-keyout "$T/stranger.key" -out "$T/stranger.pem" -days 30 2>/dev/null
expect "verify-evidence against another trust anchor fails the certificate checks" 1 \
	"certificates chain to the trust anchor: FAILED" -- \
	"$S" verify-evidence --trust "$T/stranger.pem" "$T/bundle.json"
expect "evidence of a refusal is not found (exit 1 with the API's code)" 1 "not_found" -- \
	"$S" evidence 0 -o "$T/none.json"

# --- the same bundle from the console's auditor (sealadm evidence) ----------------------
printf 'console auditor pass 7\n' >"$T/aud.p"
sealadm_as admin add --user testaud --role auditor --passphrase-fd 3 3<"$T/aud.p" >/dev/null &&
	"$BIN/sealadm" --config "$D/seald.yaml" login --user testaud --passphrase-fd 3 \
	3<"$T/aud.p" >"$T/aud.tok" || nok "a console auditor logs in"
AUD="$BIN/sealadm --config $D/seald.yaml --session-fd 3"
if $AUD evidence --seq "$seq" 3<"$T/aud.tok" >"$T/adm-bundle.json" 2>"$T/err" &&
	"$S" verify-evidence --trust "$CA" "$T/adm-bundle.json" | grep -q "evidence: VALID"; then
	ok "sealadm evidence: the console auditor's bundle passes verify-evidence offline"
else
	nok "sealadm evidence --seq $seq: $(head -c 300 "$T/adm-bundle.json") $(cat "$T/err")"
fi
# --- searching by document name and by unit -------------------------------------------
out=$("$S" ledger entries --count 1000 --document-name "42 (final)" 2>/dev/null)
if [ "$(grep -c . <<<"$out")" -ge 1 ] && ! grep -v 'Contract 42 (final)\.pdf' <<<"$out" | grep -q .; then
	ok "sealctl ledger entries --document-name: only entries whose name holds the text"
else
	nok "sealctl ledger entries --document-name: $out"
fi
expect "sealctl ledger entries --document-name that nothing holds: no entries" 0 '^$' -- \
	"$S" ledger entries --count 1000 --document-name "no such 名字"
out=$($AUD ledger entries --count 1000 --document-name "contract.txt" 3<"$T/aud.tok")
if [ "$(jq '.entries | length' <<<"$out")" -ge 1 ] &&
	[ "$(jq '[.entries[].entry.document_name | select(. != "contract.txt")] | length' <<<"$out")" = 0 ]; then
	ok "sealadm ledger entries --document-name: the console auditor finds them too"
else
	nok "sealadm ledger entries --document-name: $(head -c 300 <<<"$out")"
fi
out=$($AUD ledger entries --count 1000 --unit demo 3<"$T/aud.tok")
all=$($AUD ledger entries --count 1000 3<"$T/aud.tok")
if [ "$(jq '.entries | length' <<<"$out")" -ge 1 ] &&
	[ "$(jq '[.entries[].entry | select(.seal == null)] | length' <<<"$out")" = 0 ] &&
	[ "$(jq '.entries | length' <<<"$out")" = "$(jq '[.entries[].entry | select(.seal == "demo-seal")] | length' <<<"$all")" ]; then
	ok "sealadm ledger entries --unit demo: every entry about its seal (demo-seal), no other"
else
	nok "sealadm ledger entries --unit demo: $(jq -c '[.entries[].entry.action]' <<<"$out" | head -c 300)"
fi
expect "sealadm ledger entries --unit of no seal: none" 0 '"entries": \[\]' -- \
	$AUD ledger entries --unit no-such-unit 3<"$T/aud.tok"
expect "sealadm ledger entries --unit that is no unit id: refused" 2 'filter is not valid' -- \
	$AUD ledger entries --unit "a b" 3<"$T/aud.tok"
expect "sealadm evidence of a refusal is not found" 1 "not_found" -- \
	$AUD evidence --seq 0 3<"$T/aud.tok"
expect "sealadm evidence: a seq that is not a number is refused" 2 "digits, from 0" -- \
	$AUD evidence --seq 12x 3<"$T/aud.tok"
expect "sealadm evidence: the secadmin may not export evidence (403 forbidden_role)" 1 \
	"forbidden_role" -- sealadm_as evidence --seq "$seq"

# --- transport errors ------------------------------------------------------------------
expect "a server certificate from another CA fails the TLS handshake with the reason" 1 \
	"server certificate: (unable to get local issuer certificate|self-signed)" -- \
	"$S" --ca "$T/stranger.pem" seals
expect "a client certificate of another CA is refused by the appliance" 1 \
	"^sealctl: (TLS with .* failed: .*alert|.*closed the connection)" -- \
	"$S" --cert "$T/stranger.pem" --key "$T/stranger.key" seals
expect "a key that does not match the certificate is a usage error (exit 2)" 2 \
	"cannot use client key" -- "$S" --key "$T/stranger.key" seals
"$BIN/sealprov" enrol --config "$D/seald.yaml" --cn other-sys --out-dir "$D/clients/other" \
	"$D/shares/sbx-test-share-1.txt" "$D/shares/sbx-test-share-2.txt" >/dev/null 2>&1
expect "an unregistered client gets 'sealctl: unknown_principal: ...'" 1 \
	"^sealctl: unknown_principal: " -- "$S" --cert "$D/clients/other/client.pem" \
	--key "$D/clients/other/client.key" sign --seal demo-seal "$doc"
seald_stop
expect "a stopped appliance: connection refused, exit 1" 1 \
	"cannot connect to 127.0.0.1:$PORT: Connection refused" -- "$S" seals
