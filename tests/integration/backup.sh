#!/usr/bin/env bash
# Backup and restore end to end: the sysadmin backs up a running appliance
# with two admins' shares (sealadm backup create), and sealprov restore puts
# it onto a fresh appliance: another state directory, another token store,
# other TLS paths, another port. The restored appliance unseals with the
# same ceremony's shares, signs with the same seal, verifies the old
# signatures and its whole ledger. Every refusal is checked by its message,
# and a refused restore leaves nothing behind. The console's backup disk
# (console.backup_dir, here a directory its mount command makes) takes the
# menu's backup under a name of its own and gives it back at first boot.
. "$(dirname "$0")/lib.sh"

USB=$T/usb
appliance_up "$T/a" "console:
  backup_dir: $USB
  backup_mount_command: install -d -m 0700 $USB
  backup_umount_command: touch $T/unmounted"
A_DIR=$D
SA=("$D/shares/sbx-test-share-1.txt" "$D/shares/sbx-test-share-2.txt")
S3=$D/shares/sbx-test-share-3.txt
appliance_demo_seal "$D" || nok "the demo seal"
# Twenty more seals: the token's directory then holds well over 128 files
# (6 a seal), past the size where a sorted listing would need a system call
# the monitor's filter forbids.
for i in $(seq 20); do
	sealadm_as seal create --id "extra-$i" --name "Extra seal $i" --type other \
		--key ec-p256 --image "$D/stamp.png" --unit demo >/dev/null || nok "extra seal $i"
done
ADM=("$BIN/sealadm" --config "$D/seald.yaml")

# entries ACTION: appliance A's ledger entries of that action.
entries() {
	mdb_dump -p -s ledger/entries "$A_DIR/state/ledger" | grep -a "\"action\":\"$1\"" |
		sed 's/^ //'
}

# Three documents sealed before the backup.
for i in 1 2 3; do
	echo "contract $i" >"$T/doc$i"
	sha=$(sha256sum "$T/doc$i" | cut -d' ' -f1)
	curl $C -H 'Content-Type: application/json' -d "$(sign_body "$sha" "contract-$i.txt")" \
		-o "$T/sig$i.json" -w '%{http_code}' "$URL/v1/seals/demo-seal/sign" >"$T/code" 2>/dev/null
	[ "$(cat "$T/code")" = 200 ] || nok "sealing document $i before the backup"
done
seq3=$(jq -r .seq "$T/sig3.json")

# A sysadmin and an auditor, next to the test's secadmin.
printf 'sysadmin passphrase %s\n' "$RANDOM$RANDOM" >"$T/sys.p"
sealadm_as admin add --user testsys --role sysadmin --passphrase-fd 3 3<"$T/sys.p" >/dev/null &&
	"${ADM[@]}" login --user testsys --passphrase-fd 3 3<"$T/sys.p" >"$T/sys.tok" ||
	nok "a sysadmin account"
as_sys() { "${ADM[@]}" --session-fd 9 "$@" 9<"$T/sys.tok"; }

# ---- refusals: nothing written, nothing left behind -------------------------
B=$T/backup.sbx
expect "without a session, backup is refused (login_required)" 1 'login_required' \
	-- "${ADM[@]}" backup create --out "$B" --share-file "${SA[0]}" --share-file "${SA[1]}"
expect "a secadmin may not back up the appliance (403 forbidden_role)" 1 \
	'forbidden_role: the secadmin may not back up the appliance' \
	-- sealadm_as backup create --out "$B" --share-file "${SA[0]}" --share-file "${SA[1]}"
expect "one share is not a quorum: refused" 1 'bad_share: fewer shares than the threshold' \
	-- as_sys backup create --out "$B" --share-file "${SA[0]}"
sed 's/ \([A-Z2-7]\)\([A-Z2-7]\)\([A-Z2-7]\)\([A-Z2-7]\)-/ \2\1\3\4-/' "${SA[1]}" >"$T/typo.txt"
expect "a mistyped share is refused, naming it" 1 'bad_share: share 2: share mistyped' \
	-- as_sys backup create --out "$B" --share-file "${SA[0]}" --share-file "$T/typo.txt"
expect "the same share twice is refused" 1 'bad_share: share 2: the same share was entered twice' \
	-- as_sys backup create --out "$B" --share-file "${SA[0]}" --share-file "${SA[0]}"
[ ! -e "$B" ] && ok "no file is left behind by a refused backup" ||
	nok "a refused backup left $B behind"
echo "keep me" >"$T/exists.sbx"
expect "a backup is never written over an existing file" 1 'never written over a file' \
	-- as_sys backup create --out "$T/exists.sbx" --share-file "${SA[0]}" --share-file "${SA[1]}"
[ "$(cat "$T/exists.sbx")" = "keep me" ] && ok "and that file is untouched" ||
	nok "the existing file was changed"
expect "without any share, and no terminal to type them, backup says what it needs" 2 \
	'needs the shares' -- as_sys backup create --out "$B" </dev/null
[ "$(entries backup.create | grep -c '"result":"bad_share"')" -ge 3 ] &&
	ok "refused backups are ledgered (backup.create, bad_share)" ||
	nok "refused backups in the ledger: $(entries backup.create)"

# ---- the backup ---------------------------------------------------------------
expect "the sysadmin backs up the appliance with two shares" 0 \
	'backup written: .*backup.sbx' \
	-- as_sys backup create --out "$B" --share-file "${SA[0]}" --share-file "${SA[1]}"
[ "$(stat -c %a "$B" 2>/dev/null)" = 600 ] && ok "the backup file is mode 0600" ||
	nok "backup file mode $(stat -c %a "$B" 2>/dev/null)"
[ "$(head -c 8 "$B" | od -An -c | tr -d ' ')" = 'SBXBAK\r\n' ] &&
	ok "it starts with the Sealbox backup magic" || nok "backup magic"
leak=
for s in "BEGIN" "contract-1.txt" "demo-seal" "Demo Co." "custody" "testsys" "token.object"; do
	grep -aqF "$s" "$B" && leak="$leak $s"
done
[ -z "$leak" ] && ok "nothing in it is readable: no PEM, document name, seal, admin or file name" ||
	nok "the backup shows in clear:$leak"
entries backup.create | grep '"actor":"admin:testsys"' | grep -q '"result":"ok"' &&
	ok "the backup is ledgered (backup.create, by the sysadmin)" ||
	nok "backup.create ok entry: $(entries backup.create | tail -n1)"
# A's entries up to the backup (its last one, backup.create, came after the copy).
mdb_dump -p -s ledger/entries "$A_DIR/state/ledger" | grep -a '"action"' | head -n -1 >"$T/entries-a"
size_a=$(wc -l <"$T/entries-a")

# The same from the console menu, as the sysadmin at the serial line.
share_text() { grep -v '^#' "$1" | grep -m1 .; }
# Without a backup disk (the configuration without its console section).
sed '/^console:/,$d' "$D/seald.yaml" >"$T/nodisk.yaml"
DRIVE_CONFIG=$T/nodisk.yaml \
drive "the console menu backs up with two shares typed, not shown" backup testsys "$(cat "$T/sys.p")" \
	"$T/menu.sbx" "$(share_text "${SA[0]}")" "$(share_text "$S3")" "backup written: $T/menu.sbx"
[ -s "$T/menu.sbx" ] && ok "and the file is there" || nok "menu backup file"
DRIVE_CONFIG=$T/nodisk.yaml \
drive "a mistyped share at the menu: refused, and the menu again" backup testsys \
	"$(cat "$T/sys.p")" "$T/menu2.sbx" "$(share_text "${SA[0]}")" "$(share_text "$T/typo.txt")" \
	"refused: share 2: share mistyped"
[ ! -e "$T/menu2.sbx" ] && ok "and no file is left" || nok "a refused menu backup left a file"
drive "with a backup disk: mounted, the backup named there by default, the disk unmounted after" \
	backupdisk testsys "$(cat "$T/sys.p")" "$(share_text "${SA[0]}")" "$(share_text "$S3")" \
	"backup written: $USB/sbx-test-"
n=$(find "$USB" -name 'sbx-test-*.sbx' -size +1k | wc -l)
[ "$n" = 1 ] && [ -e "$T/unmounted" ] && ok "the backup is on the disk (sbx-test-DATE-TIMEZ.sbx), and the unmount command ran" ||
	nok "backup disk: $n files, unmounted: $([ -e "$T/unmounted" ] && echo yes || echo no)"
sed 's|^  backup_mount_command: .*|  backup_mount_command: false|' "$D/seald.yaml" >"$T/nousb.yaml"
DRIVE_CONFIG=$T/nousb.yaml drive "no backup disk: refused at once, saying what to check, and the menu again" \
	nodisk testsys "$(cat "$T/sys.p")" \
	"refused: the backup disk could not be mounted (status 1): is it plugged in"

# Tampered copies, for later.
python3 - "$B" "$T" <<'EOF'
import sys
src, t = sys.argv[1], sys.argv[2]
b = bytearray(open(src, 'rb').read())
m = bytearray(b); m[len(b) // 2] ^= 0x01; open(t + '/flip.sbx', 'wb').write(m)
open(t + '/cut.sbx', 'wb').write(b[:len(b) - 100])
open(t + '/tail.sbx', 'wb').write(b + b'\0')
# Header: the appliance id, then the ceremony id, then the salt.
f = bytearray(b); f[10:18] = b'sbx-othr'; open(t + '/foreign.sbx', 'wb').write(f)
c = bytearray(b); c[42] ^= 0xff; open(t + '/ceremony.sbx', 'wb').write(c)
s = bytearray(b); s[8 + 1 + 1 + 32 + 8 + 1 + 1 + 32 + 8] ^= 0x01
open(t + '/salt.sbx', 'wb').write(s)
open(t + '/notone.sbx', 'wb').write(b'%PDF-1.7\n' + bytes(200))
EOF

# ---- a sealed appliance makes no backup -----------------------------------------
seald_stop
if seald_start "$A_DIR"; then
	"${ADM[@]}" login --user testsys --passphrase-fd 3 3<"$T/sys.p" >"$T/sys.tok"
	expect "a sealed appliance refuses a backup (sealed), and leaves no file" 1 'sealed' \
		-- as_sys backup create --out "$T/sealed.sbx" --share-file "${SA[0]}" --share-file "${SA[1]}"
	[ ! -e "$T/sealed.sbx" ] && entries backup.create | tail -n 1 | grep -q '"result":"sealed"' &&
		ok "and the refusal is ledgered" || nok "sealed refusal: file or ledger"
	seald_stop
else
	nok "seald restarts sealed"
fi

# ---- the new appliance: nothing of A's but the backup and the shares --------
E=$T/b
mkdir -p "$E"
softhsm_store "$E/hsm"
PORT_A=$PORT
PORT=$(free_port)
seald_yaml "$E" >"$E/seald.yaml"
sed -i "s|token_dir: .*|token_dir: $E/hsm/tokens|" "$E/seald.yaml"
P=("$BIN/sealprov" restore --config "$E/seald.yaml")
# untouched: the new appliance still holds nothing
untouched() {
	[ ! -e "$E/state" ] && [ -z "$(ls -A "$E/hsm/tokens")" ] && [ ! -e "$E/tls" ] &&
		[ ! -e "$E/clients-ca.pem" ] && [ -z "$(ls -A "$E" | grep -v '^hsm$\|^seald.yaml$')" ]
}

expect "restore needs --backup and shares" 2 'needs --backup FILE' -- "${P[@]}" "${SA[@]}"
expect "a file that is no backup is refused" 1 'not a Sealbox backup' \
	-- "${P[@]}" --backup "$T/notone.sbx" "${SA[@]}"
expect "a backup of another appliance is refused, naming both" 1 \
	'is a backup of appliance sbx-othr, and this one is sbx-test' \
	-- "${P[@]}" --backup "$T/foreign.sbx" "${SA[@]}"
expect "shares of another ceremony than the backup's are refused" 1 \
	'ceremony that has since been replaced' -- "${P[@]}" --backup "$T/ceremony.sbx" "${SA[@]}"
expect "one share does not open a backup" 1 'do not open it: fewer shares than the threshold' \
	-- "${P[@]}" --backup "$B" "${SA[0]}"
expect "a byte changed in the middle: refused, nothing changed" 1 \
	'refused, nothing changed: damaged or not made with these shares: chunk [0-9]+ fails its check' \
	-- "${P[@]}" --backup "$T/flip.sbx" "${SA[@]}"
expect "a header edited (its salt): refused, as not made with these shares" 1 \
	'refused, nothing changed: damaged or not made with these shares' \
	-- "${P[@]}" --backup "$T/salt.sbx" "${SA[@]}"
expect "a backup cut short: refused, nothing changed" 1 'refused, nothing changed: .*(truncated|fails its check)' \
	-- "${P[@]}" --backup "$T/cut.sbx" "${SA[@]}"
expect "a byte after its end: refused, nothing changed" 1 'refused, nothing changed' \
	-- "${P[@]}" --backup "$T/tail.sbx" "${SA[@]}"
untouched && ok "after every refusal the new appliance holds nothing: no state, token, TLS file or staging directory" ||
	nok "a refused restore left: $(ls -AR "$E" | head -20)"

# ---- the restore -------------------------------------------------------------
expect "two other admins' shares (1 and 3) restore it onto the new appliance" 0 \
	'the ledger, [0-9]+ entries, verified' \
	-- "${P[@]}" --backup "$B" "${SA[0]}" "$S3"
[ -f "$E/state/custody.json" ] && [ -f "$E/tls/server.key" ] && [ -f "$E/clients-ca.pem" ] &&
	[ -f "$E/state/seald.yaml.from-backup" ] && [ "$(ls "$E/hsm/tokens" | wc -l)" = 1 ] &&
	ok "state, TLS files, the client CA, the token and a copy of the old config are in place" ||
	nok "restored files: $(ls -R "$E" | head -30)"
[ "$(stat -c %a "$E/tls/server.key")" = 600 ] && ok "the TLS key is restored mode 0600" ||
	nok "TLS key mode $(stat -c %a "$E/tls/server.key")"
[ -z "$(ls -A "$T" | grep '^\.sealbox-restore')" ] && [ -z "$(ls -A "$E" | grep '^\.sealbox-restore')" ] &&
	ok "no staging directory is left" || nok "staging left behind"
expect "restoring again is refused: the appliance is provisioned" 1 'provisioned already' \
	-- "${P[@]}" --backup "$B" "${SA[@]}"
expect "restore onto the old appliance is refused too" 1 'provisioned already' \
	-- "$BIN/sealprov" restore --config "$A_DIR/seald.yaml" --backup "$B" "${SA[@]}"

# ---- the restored appliance works ------------------------------------------------
D=$E
URL=https://127.0.0.1:$PORT
C="--silent --show-error --cert $A_DIR/clients/demo/client.pem --key $A_DIR/clients/demo/client.key --cacert $E/state/ca.pem"
seald_start "$E" || { nok "the restored seald starts"; tail "$E/seald.log"; exit 1; }
"$BIN/sealadm" --config "$E/seald.yaml" unseal --share-file "$S3" >/dev/null &&
	"$BIN/sealadm" --config "$E/seald.yaml" unseal --share-file "${SA[1]}" >"$T/unseal" 2>&1
grep -q 'unsealed' "$T/unseal" && ok "it unseals with shares 3 and 2 of the same ceremony" ||
	nok "unseal of the restored appliance: $(cat "$T/unseal")"
echo "after the restore" >"$T/doc4"
sha=$(sha256sum "$T/doc4" | cut -d' ' -f1)
code=$(curl $C -H 'Content-Type: application/json' -d "$(sign_body "$sha" "after.txt")" \
	-o "$T/sig4.json" -w '%{http_code}' "$URL/v1/seals/demo-seal/sign" 2>/dev/null)
seq4=$(jq -r .seq "$T/sig4.json" 2>/dev/null)
[ "$code" = 200 ] && [ "$seq4" -gt "$seq3" ] &&
	ok "the same client seals with the same seal, the ledger going on from where it was" ||
	nok "sign after the restore: $code $(cat "$T/sig4.json")"
jq -r .cms "$T/sig4.json" | base64 -d >"$T/sig4.der" 2>/dev/null
jq -r .cms "$T/sig1.json" | base64 -d >"$T/sig1.der" 2>/dev/null
openssl x509 -in "$A_DIR/state/ca.pem" -noout -pubkey >"$T/ca-a.pub" 2>/dev/null
openssl x509 -in "$E/state/ca.pem" -noout -pubkey >"$T/ca-e.pub" 2>/dev/null
cmp -s "$T/ca-a.pub" "$T/ca-e.pub" &&
	openssl cms -verify -binary -inform DER -in "$T/sig4.der" -content "$T/doc4" \
		-CAfile "$A_DIR/state/ca.pem" -purpose any -out /dev/null 2>/dev/null &&
	ok "its signature verifies under the old appliance's CA (same keys)" ||
	nok "signature after restore under the old CA"
body=$(jq -n --arg d "$(sha256sum "$T/doc1" | cut -d' ' -f1)" --arg c "$(jq -r .cms "$T/sig1.json")" \
	'{digest:{alg:"sha256",value:$d},cms:$c}')
out=$(curl $C -H 'Content-Type: application/json' -d "$body" "$URL/v1/verify" 2>/dev/null)
[ "$(jq -r .valid <<<"$out")" = true ] && [ "$(jq -r .seq <<<"$out")" = "$(jq -r .seq "$T/sig1.json")" ] &&
	ok "a signature made before the backup verifies on the restored appliance, at its ledger entry" ||
	nok "verify an old signature: $out"
cp "$E/state/ca.pem" "$T/ca-e.pem"
cat >"$T/client.yaml" <<EOC
server: 127.0.0.1:$PORT
cert: $A_DIR/clients/demo/client.pem
key: $A_DIR/clients/demo/client.key
ca: $T/ca-e.pem
EOC
expect "sealctl ledger verify: the restored ledger is VALID, tree heads and all" 0 'ledger: VALID' \
	-- env SEALCTL_CONFIG="$T/client.yaml" HOME="$T/home" "$BIN/sealctl" ledger verify \
	--audit-cert "$E/state/audit.pem"
mdb_dump -p -s ledger/entries "$E/state/ledger" | grep -a '"action"' >"$T/entries-e"
head -n "$size_a" "$T/entries-e" | cmp -s - "$T/entries-a" &&
	[ "$(wc -l <"$T/entries-e")" -gt "$size_a" ] &&
	ok "the restored ledger starts with A's $size_a entries, byte for byte, and goes on" ||
	nok "ledger entries: A $size_a, restored $(wc -l <"$T/entries-e")"
[ "$(ls "$E/hsm/tokens/"*/ | wc -l)" -ge 128 ] &&
	[ "$(curl $C -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		-d "$(sign_body "$sha" x.txt)" "$URL/v1/seals/demo-seal/sign" 2>/dev/null)" = 200 ] &&
	ok "the token's directory came over whole ($(ls "$E/hsm/tokens/"*/ | wc -l) files)" ||
	nok "token files: $(ls "$E/hsm/tokens/"*/ | wc -l)"
a_bytes=$(stat -c %s "$A_DIR/state/ledger/data.mdb")
e_bytes=$(stat -c %s "$E/state/ledger/data.mdb")
[ "$e_bytes" -le "$a_bytes" ] && ok "the restored LMDB file is no larger than the original ($e_bytes bytes, was $a_bytes)" ||
	nok "restored LMDB $e_bytes bytes, original $a_bytes"

# ---- a backup of the restored appliance, onto a third with another TLS layout ----
# The restored appliance knows the sysadmin (the accounts came in its
# ledger); its backup carries no leftovers of the restore. The third
# appliance keeps its CRL and client CA under tls/, not in its state
# directory, and its key elsewhere again.
"$BIN/sealadm" --config "$E/seald.yaml" login --user testsys --passphrase-fd 3 3<"$T/sys.p" \
	>"$T/sys-e.tok" &&
	"$BIN/sealadm" --config "$E/seald.yaml" --session-fd 9 backup create --out "$T/e.sbx" \
	--share-file "${SA[1]}" --share-file "$S3" 9<"$T/sys-e.tok" >/dev/null &&
	ok "the restored appliance is backed up in turn" || nok "backup of the restored appliance"
seald_stop
F=$T/f
mkdir -p "$F"
softhsm_store "$F/hsm"
PORT=$(free_port)
seald_yaml "$F" | sed -e "s|token_dir: .*|token_dir: $F/hsm/tokens|" \
	-e "s|client_ca: .*|client_ca: $F/tls/clients/ca.pem|" -e "s|crl: .*|crl: $F/tls/clients/crl.pem|" \
	-e "s|key: $F/tls/server.key|key: $F/keys/server.key|" >"$F/seald.yaml"
expect "restored onto a third appliance with another TLS layout" 0 'the ledger, [0-9]+ entries, verified' \
	-- "$BIN/sealprov" restore --config "$F/seald.yaml" --backup "$T/e.sbx" "${SA[0]}" "$S3"
[ -f "$F/tls/clients/crl.pem" ] && [ -f "$F/tls/clients/ca.pem" ] && [ -f "$F/keys/server.key" ] &&
	[ ! -e "$F/state/seald.yaml.from-backup.1" ] && [ ! -e "$F/state/clients.crl" ] &&
	ok "each TLS file went where this configuration puts it" ||
	nok "TLS layout: $(cd "$F" && find . -name '*.pem' -o -name '*.key' -o -name '*.crl' | sort | tr '\n' ' ')"
URL=https://127.0.0.1:$PORT
C="--silent --show-error --cert $A_DIR/clients/demo/client.pem --key $A_DIR/clients/demo/client.key --cacert $F/state/ca.pem"
D=$F
if seald_start "$F" && "$BIN/sealadm" --config "$F/seald.yaml" unseal --share-file "$S3" >/dev/null &&
	"$BIN/sealadm" --config "$F/seald.yaml" unseal --share-file "${SA[0]}" | grep -q unsealed; then
	code=$(curl $C -H 'Content-Type: application/json' -d "$(sign_body "$sha" "third.txt")" \
		-o /dev/null -w '%{http_code}' "$URL/v1/seals/demo-seal/sign" 2>/dev/null)
	[ "$code" = 200 ] && ok "the third appliance serves TLS from its own layout and seals" ||
		nok "sign on the third appliance: $code"
else
	nok "the third appliance starts and unseals ($(tail -n 3 "$F/seald.log"))"
fi
seald_stop

# ---- a replacement appliance: no configuration at all, restored at its console ----
# The old box is gone; the new one has an empty token store where the old
# one had its own, and no seald.yaml: sealadm offers first boot or restore,
# and the restore installs the backup's own configuration.
mv "$A_DIR" "$T/a-old"
O=$T/a-old
mkdir -p "$A_DIR"
softhsm_store "$A_DIR/hsm"
# The new box's own first-boot template (beside its configuration): the
# module and commands a restored configuration must keep.
cp "$O/seald.yaml" "$A_DIR/seald.yaml.firstboot"
sed 's|^console:|console:\n  poweroff_command: /bin/sh /tmp/evil|' "$O/seald.yaml" >"$T/evil.yaml"
expect "a backup's configuration that names other programs than this box's template is refused" 1 \
	'sets console.poweroff_command to "systemctl poweroff", and this appliance.s template .* to "/bin/sh /tmp/evil"' \
	-- "$BIN/sealprov" restore --config "$A_DIR/seald.yaml" --template "$T/evil.yaml" --backup "$B" \
	"$O/shares/sbx-test-share-1.txt" "$O/shares/sbx-test-share-2.txt"
[ ! -e "$A_DIR/seald.yaml" ] && [ ! -e "$A_DIR/state" ] && ok "and nothing was installed" ||
	nok "a refused restore installed something"
expect "restore with no share files and no terminal says what it needs" 2 'or a terminal to type them' \
	-- "$BIN/sealprov" restore --config "$A_DIR/seald.yaml" --backup "$B" </dev/null
# The backup on the disk, newest by its name; the template names the disk.
cp "$B" "$USB/sbx-test-99991231-235959Z.sbx"
rm -f "$T/unmounted"
DRIVE_CONFIG=$A_DIR/seald.yaml drive \
	"at the console of a box with no configuration: restore from the backup disk (its newest backup), two shares typed unseen" \
	restoredisk sbx-test-99991231-235959Z.sbx "$(share_text "$O/shares/sbx-test-share-2.txt")" \
	"$(share_text "$O/shares/sbx-test-share-3.txt")"
[ -e "$T/unmounted" ] && ok "and the backup disk was unmounted after" || nok "no unmount after the restore"
cmp -s "$A_DIR/seald.yaml" "$O/seald.yaml" && ok "the backup's own configuration is installed as seald.yaml" ||
	nok "the installed configuration differs from the old one"
D=$A_DIR
PORT=$PORT_A
URL=https://127.0.0.1:$PORT
C="--silent --show-error --cert $O/clients/demo/client.pem --key $O/clients/demo/client.key --cacert $A_DIR/state/ca.pem"
if seald_start "$A_DIR" &&
	"$BIN/sealadm" --config "$A_DIR/seald.yaml" unseal --share-file "$O/shares/sbx-test-share-1.txt" >/dev/null &&
	"$BIN/sealadm" --config "$A_DIR/seald.yaml" unseal --share-file "$O/shares/sbx-test-share-2.txt" |
	grep -q unsealed; then
	code=$(curl $C -H 'Content-Type: application/json' -d "$(sign_body "$sha" "replacement.txt")" \
		-o "$T/sig5.json" -w '%{http_code}' "$URL/v1/seals/demo-seal/sign" 2>/dev/null)
	[ "$code" = 200 ] && ok "the replacement appliance starts, unseals and seals as the old one did" ||
		nok "sign on the replacement: $code $(cat "$T/sig5.json")"
else
	nok "the replacement appliance starts and unseals ($(tail -n 3 "$A_DIR/seald.log"))"
fi
seald_stop
