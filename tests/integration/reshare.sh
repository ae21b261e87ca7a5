#!/usr/bin/env bash
# The secadmin re-shares the master secret at the console, against the real
# seald and token: with M present shares (checked twice: by sealadm and by
# the monitor, which ledgers the re-share before the token's PINs change),
# the new shares handed to each holder alone at the menu and typed back, or
# written to files for a script; seald signs on throughout; afterwards the
# old shares unlock nothing and the new ones unseal and back up. A re-share
# without the quorum, or by another role, changes nothing.
. "$(dirname "$0")/lib.sh"

appliance_up "$T/a"
appliance_demo_seal "$D" || nok "the demo seal"
ADM=("$BIN/sealadm" --config "$D/seald.yaml")
S3=$D/shares/sbx-test-share-3.txt
entries() {
	mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -a "\"action\":\"$1\"" | sed 's/^ //'
}
ceremony() { jq -r .ceremony "$D/state/custody.json"; }
sign_ok() {
	[ "$(curl $C -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		-d "$(sign_body "$(printf %s "$1" | sha256sum | cut -d' ' -f1)")" \
		"$URL/v1/seals/demo-seal/sign")" = 200 ]
}
first=$(ceremony)
[ -n "$first" ] && [ "$first" != null ] || nok "the custody record names its ceremony ($first)"

# ---- refused: nothing changes -------------------------------------------------------------
printf 'sysadmin passphrase %s\n' "$RANDOM$RANDOM" >"$T/sys.p"
sealadm_as admin add --user testsys --role sysadmin --passphrase-fd 3 3<"$T/sys.p" >/dev/null &&
	"${ADM[@]}" login --user testsys --passphrase-fd 3 3<"$T/sys.p" >"$T/sys.tok" ||
	nok "a sysadmin account"
expect "a sysadmin may not re-share (forbidden_role), refused before any share is typed" 1 \
	'forbidden_role: the secadmin re-shares the master secret' -- \
	"${ADM[@]}" --session-fd 9 custody reshare --share-file "$S1" --share-file "$S2" \
	--share-dir "$T/no" 9<"$T/sys.tok"
expect "one share is not a quorum: refused before anything is made" 1 \
	're-share failed: .*(too few|fewer)' -- \
	sealadm_as custody reshare --share-file "$S1" --share-dir "$T/no"
sed 's/-\([A-Z2-9]\)\([A-Z2-9]*\)$/-X\2/' "$S2" >"$T/bad.txt"
expect "a mistyped share is refused, naming it" 1 'share 2: ' -- \
	sealadm_as custody reshare --share-file "$S1" --share-file "$T/bad.txt" --share-dir "$T/no"
# The new shares cannot all be written (share 2's file exists already): nothing
# changes, and the one written is removed.
mkdir -p "$T/dup"
echo "someone else's file" >"$T/dup/sbx-test-share-2.txt"
expect "the new shares cannot all be handed over: nothing changed, the holders keep their old shares" 1 \
	'nothing changed: the holders keep their old shares and destroy the new ones \(the files written are removed\)' -- \
	sealadm_as custody reshare --share-file "$S1" --share-file "$S2" --share-dir "$T/dup"
[ ! -e "$T/dup/sbx-test-share-1.txt" ] && [ "$(cat "$T/dup/sbx-test-share-2.txt")" = "someone else's file" ] &&
	ok "the share file written was removed, the other file left alone" || nok "files after the failure: $(ls "$T/dup")"
[ "$(ceremony)" = "$first" ] && [ ! -e "$T/no" ] && [ -z "$(entries custody.reshare)" ] &&
	ok "after the refusals the ceremony is the same, no share was written, nothing ledgered" ||
	nok "refused re-shares changed something: $(ceremony) $(entries custody.reshare)"

# ---- from a script: the new shares to files -------------------------------------------------
expect "the secadmin re-shares with two present shares; the new ones to files" 0 \
	're-share done: the 3 new shares \(any 2\) unlock the appliance; the old ones unlock nothing' -- \
	sealadm_as custody reshare --share-file "$S1" --share-file "$S3" --share-dir "$T/new"
second=$(ceremony)
cp "$D/state/custody.json" "$T/record2.json"
[ "$second" != "$first" ] && [ "$(ls "$T/new" | wc -l)" = 3 ] &&
	[ "$(stat -c %a "$T/new/sbx-test-share-1.txt")" = 600 ] &&
	ok "a new ceremony ($second); three new share files, 0600" || nok "after the re-share: $(ls -l "$T/new")"
e=$(entries custody.reshare | head -1)
[ "$(jq -r .result <<<"$e")" = ok ] && [ "$(jq -r .actor <<<"$e")" = admin:testsec ] &&
	[ "$(jq -r .ceremony <<<"$e")" = "$second" ] && [ "$(jq -r .previous_ceremony <<<"$e")" = "$first" ] &&
	[ "$(jq -r .shares <<<"$e")" = 3 ] && [ "$(jq -r .threshold <<<"$e")" = 2 ] &&
	ok "ledgered as custody.reshare: who, the old and new ceremonies, 3 shares, any 2" || nok "ledger: $e"
# A piece of each share's text: none may be in the ledger or the log.
leaks=0
for f in "$S1" "$S3" "$T"/new/*.txt; do
	piece=$(tail -1 "$f" | cut -c12-35)
	mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -aqF -- "$piece" && leaks=$((leaks + 1))
	grep -qF -- "$piece" "$D/seald.log" && leaks=$((leaks + 1))
done
[ "$leaks" = 0 ] && ok "no share, old or new, is in the ledger or seald's log" || nok "$leaks shares leaked"
sign_ok "after the re-share" && ok "seald signs on without a new unseal" || nok "signing after the re-share"
[ "$(entries custody.reshare | jq -r .result | tr '\n' ' ')" = "ok done " ] &&
	[ "$(entries custody.reshare | tail -1 | jq -r .ceremony)" = "$second" ] &&
	ok "once in force it is ledgered done (M new shares gave seald the new PIN)" ||
	nok "custody.reshare entries: $(entries custody.reshare | jq -r .result | tr '\n' ' ')"
# The token goes away and comes back: seald reconnects and logs in again with
# the PIN it now holds, the new one.
health() { curl $C "$URL/v1/health" 2>/dev/null; }
mv "$D/hsm/tokens" "$D/hsm/tokens.away"
for _ in $(seq 100); do grep -q '"state":"degraded"' <<<"$(health)" && break; sleep 0.1; done
sign_ok "while the token is away" && nok "signing while the token is away"
mv "$D/hsm/tokens.away" "$D/hsm/tokens"
for _ in $(seq 100); do grep -q '"state":"ready"' <<<"$(health)" && break; sleep 0.1; done
grep -q '"state":"ready"' <<<"$(health)" && sign_ok "after the reconnect" &&
	ok "after the re-share an HSM reconnect logs in with the new PIN: seald signs on" ||
	nok "after a reconnect: $(health); $(grep -E 'hsm|PIN' "$D/seald.log" | tail -2 | tr '\n' ' ')"

# ---- the old shares unlock nothing; the new ones do ------------------------------------------
seald_stop "$D"
seald_start "$D" || nok "seald starts again"
expect "an old share is refused at unseal" 1 'replaced|stale|another ceremony' -- \
	"${ADM[@]}" unseal --share-file "$S1"
"${ADM[@]}" unseal --share-file "$T/new/sbx-test-share-2.txt" >/dev/null &&
	"${ADM[@]}" unseal --share-file "$T/new/sbx-test-share-3.txt" >"$T/out.txt" 2>&1 &&
	grep -q 'unsealed' "$T/out.txt" && sign_ok "with the new shares" &&
	ok "two new shares unseal, and seald signs" || nok "unseal with the new shares: $(cat "$T/out.txt")"
appliance_login "$D" || nok "secadmin login"
"${ADM[@]}" login --user testsys --passphrase-fd 3 3<"$T/sys.p" >"$T/sys.tok" || nok "sysadmin login"
expect "a backup takes the new shares" 0 'backup written' -- \
	"${ADM[@]}" --session-fd 9 backup create --out "$T/b.sbx" --share-file "$T/new/sbx-test-share-1.txt" \
	--share-file "$T/new/sbx-test-share-3.txt" 9<"$T/sys.tok"

# ---- at the menu: each new share to its holder alone ------------------------------------------
printf 'secadmin two passphrase %s\n' "$RANDOM$RANDOM" >"$T/sec2.p"
sealadm_as admin add --user sec --role secadmin --passphrase-fd 3 3<"$T/sec2.p" >/dev/null ||
	nok "a second secadmin account"
drive "the secadmin's item 17: two shares typed, three new ones handed over and typed back" \
	reshare sec "$(cat "$T/sec2.p")" 17 "$(tail -1 "$T/new/sbx-test-share-1.txt")" \
	"$(tail -1 "$T/new/sbx-test-share-2.txt")" "$T/menu-shares.txt"
third=$(ceremony)
[ "$third" != "$second" ] && [ "$(wc -l <"$T/menu-shares.txt")" = 3 ] &&
	[ "$(entries custody.reshare | tail -1 | jq -r .actor)" = admin:sec ] &&
	[ "$(entries custody.reshare | tail -1 | jq -r .result)" = done ] &&
	ok "a new ceremony again, ledgered by the secadmin at the console" || nok "menu re-share: $third"
seald_stop "$D"
seald_start "$D" || nok "seald starts again"
sed -n 1p "$T/menu-shares.txt" >"$T/m1.txt"
sed -n 3p "$T/menu-shares.txt" >"$T/m3.txt"
expect "a share of the replaced ceremony is refused" 1 'replaced|stale|another ceremony' -- \
	"${ADM[@]}" unseal --share-file "$T/new/sbx-test-share-1.txt"
"${ADM[@]}" unseal --share-file "$T/m1.txt" >/dev/null &&
	"${ADM[@]}" unseal --share-file "$T/m3.txt" 2>&1 | grep -q unsealed &&
	ok "the shares the menu handed over unseal" || nok "unseal with the menu's shares"

# ---- an interrupted re-share settled by seald's unseal -----------------------------------------
# What a crash leaves after the PINs changed and before the custody record did:
# the new record pending, the old one current. The monitor settles it at unseal
# (inside its seccomp filter).
seald_stop "$D"
mkdir -p "$D/state/reshare-pending"
cp "$D/state/custody.json" "$D/state/reshare-pending/custody.json"
cp "$T/record2.json" "$D/state/custody.json"
seald_start "$D" || nok "seald starts with a re-share pending"
"${ADM[@]}" unseal --share-file "$T/m1.txt" >/dev/null &&
	"${ADM[@]}" unseal --share-file "$T/m3.txt" 2>&1 | grep -q unsealed &&
	grep -q 'an interrupted re-share was finished' "$D/seald.log" &&
	[ "$(ceremony)" = "$third" ] && [ ! -e "$D/state/reshare-pending/custody.json" ] &&
	sign_ok "after the settle" &&
	ok "the new shares unseal seald and finish the interrupted re-share; seald signs" ||
	nok "settling at unseal: $(grep -E 'monitor|re-share' "$D/seald.log" | tail -3 | tr '\n' ' ')"
[ "$(entries unseal | tail -1 | jq -r .reshare_settled)" = finished ] &&
	ok "the unseal's ledger entry says it finished the interrupted re-share" ||
	nok "unseal entry: $(entries unseal | tail -1)"
seald_stop "$D"
exit 0
