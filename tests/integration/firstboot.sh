#!/usr/bin/env bash
# First boot at the console (docs/admin-guide.md, "First boot"): sealadm with
# no configuration offers it; sealprov firstboot takes three administrators,
# hands each a share (typed back), makes the keys, writes seald.yaml last and
# makes the accounts through seald, which a watcher starts once seald.yaml
# appears (as systemd does on the appliance). firstboot.exp drives it on a
# pseudo-terminal and unseals with two of the shares at the login prompt.
. "$(dirname "$0")/lib.sh"
EXP="$(dirname "$0")/firstboot.exp"

D=$T/a
mkdir -p "$D"
softhsm_store "$D/hsm"
PORT=$(free_port)
TPL=$T/seald.yaml.firstboot
seald_yaml "$D" sbx-fb >"$TPL"

# ---- refusals before anything is made ------------------------------------------
sed 's/^appliance:$/quorum:\n  shares: 5\n  threshold: 3\nappliance:/' "$TPL" >"$T/five.yaml"
expect "firstboot refuses a template whose quorum is not one share per administrator" 1 \
	"the template must say quorum.shares: 3" -- \
	"$BIN/sealprov" firstboot --config "$D/seald.yaml" --template "$T/five.yaml"
cp "$T/five.yaml" "$D/seald.yaml.firstboot"
expect "without --template, a site template beside the configuration is used" 1 \
	"the template must say quorum.shares: 3" -- "$BIN/sealprov" firstboot --config "$D/seald.yaml"
rm -f "$D/seald.yaml.firstboot"
expect "firstboot names a template it cannot read" 1 "nope.yaml" -- \
	"$BIN/sealprov" firstboot --config "$D/seald.yaml" --template "$T/nope.yaml"
expect "firstboot refuses a bad --san before asking anything" 1 "--san: DNS:name or IP:address" -- \
	sh -c "'$BIN/sealprov' firstboot --config '$D/seald.yaml' --template '$TPL' --san 'a b' </dev/null"
expect "firstboot checks the TLS names as the CA would, before asking anything (IP:10.0.0.300)" 1 \
	"--san: DNS:name or IP:address items" -- \
	sh -c "'$BIN/sealprov' firstboot --config '$D/seald.yaml' --template '$TPL' --san IP:10.0.0.300 </dev/null"
expect "firstboot ends cleanly at end of input, having made nothing" 1 "Administrator 1 of 3" -- \
	sh -c "'$BIN/sealprov' firstboot --config '$D/seald.yaml' --template '$TPL' </dev/null"
if [ ! -e "$D/state/custody.json" ] && [ -z "$(ls -A "$D/hsm/tokens")" ] && [ ! -e "$D/seald.yaml" ]; then
	ok "nothing was made by the refused and abandoned runs"
else
	nok "refused runs left something behind: $(ls -R "$D" | head -n 20)"
fi
printf 'n\n' | "$BIN/sealadm" --config "$D/seald.yaml" --template "$TPL" >"$T/decline.out" 2>&1
if grep -q "This appliance has not been set up" "$T/decline.out" && grep -q "not now" "$T/decline.out"; then
	ok "sealadm with no configuration offers first boot; n declines it"
else
	nok "first-boot offer: $(cat "$T/decline.out")"
fi

# ---- the ceremony at the console -------------------------------------------------
# The watcher plays systemd's part: seald starts once seald.yaml appears.
(
	for _ in $(seq 1200); do [ -f "$D/seald.yaml" ] && break; sleep 0.1; done
	exec "$BIN/seald" --config "$D/seald.yaml" >>"$D/seald.log" 2>&1
) &
WATCH=$!
if out=$(command expect -f "$EXP" "$BIN/sealadm" "$D/seald.yaml" "$TPL" "$T/shares.txt" 2>&1); then
	ok "first boot at the console: three admins, bad answers refused, each share shown alone and typed back (a mistyped one refused), the keys, the accounts; then two admins unseal at the login prompt"
else
	nok "first boot at the console"
	sed 's/^/#   | /' <<<"$out" | head -n 40
	tail -n 20 "$D/seald.log" 2>/dev/null | sed 's/^/#   seald | /'
fi
SEALD_PID=$WATCH

# Two of the shares shown work with sealprov too: enrol a business system.
for i in 1 3; do sed -n "${i}p" "$T/shares.txt" >"$T/share-$i.txt"; done
"$BIN/sealprov" enrol --config "$D/seald.yaml" --cn erp --out-dir "$D/clients/erp" \
	"$T/share-1.txt" "$T/share-3.txt" >/dev/null 2>&1 &&
	ok "two of the shares shown open the token for sealprov enrol" || nok "sealprov enrol with the shares"
rm -f "$T/share-1.txt" "$T/share-3.txt"
C="--silent --show-error --cacert $D/state/ca.pem --cert $D/clients/erp/client.pem --key $D/clients/erp/client.key"
st=$(curl $C --resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/v1/health" 2>&1)
grep -q '"state":"ready"' <<<"$st" &&
	ok "seald serves TLS with the certificate firstboot made (its CA, the names given) and is ready" ||
	nok "health after first boot: $st"
cmp -s "$TPL" "$D/seald.yaml" && ok "seald.yaml is the template, written last" ||
	nok "seald.yaml differs from the template"
openssl x509 -in "$D/tls/server.pem" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:localhost, IP Address:127.0.0.1" &&
	ok "the TLS certificate carries the names given" || nok "TLS certificate names"
cmp -s "$D/state/ca.pem" "$D/clients-ca.pem" && [ -s "$D/state/clients.crl" ] &&
	ok "the client CA is where the config wants it, with an empty CRL" ||
	nok "client CA / CRL after first boot"
share1=$(head -n 1 "$T/shares.txt")
if [ "$(wc -l <"$T/shares.txt")" = 3 ] && [ -n "$share1" ] &&
	! grep -rqF -- "${share1##* }" "$D" 2>/dev/null; then
	ok "no share is stored anywhere on the appliance"
else
	nok "a share was found on disk, or not three were shown"
fi
entries() { mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -a "\"action\":\"$1\"" | sed 's/^ //'; }
adds=$(entries admin.add)
if [ "$(grep -c '"result":"ok"' <<<"$adds")" = 3 ] &&
	head -n 1 <<<"$adds" | grep -q '"bootstrap":true,"must_change":false,"result":"ok","role":"secadmin".*"user":"sam"' &&
	grep -q '"actor":"admin:sam","bootstrap":false,"must_change":false,"result":"ok","role":"sysadmin".*"user":"sys"' <<<"$adds"; then
	ok "the three accounts are ledgered: the secadmin first (bootstrap), the others by her, each with their own passphrase"
else
	nok "admin.add entries: $adds"
fi
first=$(mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -a '"seq":0,' | head -n 1)
grep -q '"action":"admin.add"' <<<"$first" && ok "the first account is the ledger's genesis entry" ||
	nok "ledger entry 0: $first"
entries unseal | grep -q '"actor":"admin:aud"' &&
	ok "the unseal at the login prompt is ledgered with the admin's name" ||
	nok "unseal entries: $(entries unseal)"

# ---- first boot that stops after the keys: seald never answers ---------------
D2=$T/b
mkdir -p "$D2"
softhsm_store "$D2/hsm"
PORT1=$PORT
PORT=$(free_port)
seald_yaml "$D2" sbx-fb2 >"$T/tpl2.yaml"
PORT=$PORT1
if out=$(command expect -f "$EXP" "$BIN/sealadm" "$D2/seald.yaml" "$T/tpl2.yaml" "$T/shares2.txt" \
	"$BIN/sealprov" 2>&1); then
	ok "when seald does not answer, first boot stops after the keys and says what the console will offer"
else
	nok "first boot without seald"
	sed 's/^/#   | /' <<<"$out" | head -n 30
fi
if [ -f "$D2/seald.yaml" ] && [ -f "$D2/state/custody.json" ] && [ -s "$D2/tls/server.pem" ]; then
	ok "its keys, certificate and seald.yaml are made"
else
	nok "first boot without seald left: $(ls -R "$D2" | head -n 20)"
fi
"$BIN/seald" --config "$D2/seald.yaml" >>"$D2/seald.log" 2>&1 &
SEALD2=$!
for _ in $(seq 100); do [ -S "$D2/admin.sock" ] && break; sleep 0.1; done
printf 'y\nsam\nsecadmin\nsam secadmin pass 1\nsam secadmin pass 1\ny\n' |
	"$BIN/sealadm" --config "$D2/seald.yaml" >"$T/boot2.out" 2>&1
if grep -q 'No administrator account exists (first boot did not make them)' "$T/boot2.out" &&
	grep -q 'administrator sam added' "$T/boot2.out" && grep -q 'login: ' "$T/boot2.out"; then
	ok "with no account at all, the console offers to make the first secadmin, then its login"
else
	nok "bootstrap offer: $(tr '\n' '|' <"$T/boot2.out" | head -c 600)"
fi
printf '' | "$BIN/sealadm" --config "$D2/seald.yaml" >"$T/boot3.out" 2>&1
! grep -q 'No administrator account exists' "$T/boot3.out" &&
	ok "once an account exists, the console no longer offers it" || nok "bootstrap offered again"
kill "$SEALD2" 2>/dev/null
wait "$SEALD2" 2>/dev/null
mv "$D2/seald.yaml" "$T/moved.yaml"
expect "a data disk that held a ceremony but has no configuration is refused, before any question" 1 \
	"a key ceremony was held on this data disk already" -- \
	sh -c "'$BIN/sealprov' firstboot --config '$D2/seald.yaml' --template '$T/tpl2.yaml' </dev/null"

expect "firstboot refuses to run again on a set-up appliance" 1 "exists: this appliance was set up already" -- \
	"$BIN/sealprov" firstboot --config "$D/seald.yaml" --template "$TPL"
printf '' | "$BIN/sealadm" --config "$D/seald.yaml" --template "$TPL" >"$T/again.out" 2>&1
if ! grep -q "has not been set up" "$T/again.out" && grep -q "login: " "$T/again.out"; then
	ok "once set up, sealadm goes straight to its login prompt"
else
	nok "sealadm after first boot: $(cat "$T/again.out")"
fi
exit 0
