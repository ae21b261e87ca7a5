#!/usr/bin/env bash
# sealprov end to end against a throwaway SoftHSM token: the key ceremony,
# share checks with every kind of wrong share, key generation of every type,
# what pkcs11-tool (opensc) can see of the keys, and re-share.
. "$(dirname "$0")/lib.sh"

P=$BIN/sealprov
softhsm_store "$T/hsm"
CFG=$T/seald.yaml
write_config "$CFG" sbx-01 "$T/state"
S=$T/shares

# --- ceremony --------------------------------------------------------------
expect "ceremony initialises the token and writes one share file per admin" 0 \
	"share 3 of 3 written" -- "$P" ceremony --config "$CFG" --share-dir "$S"
modes=$(stat -c %a "$S"/sbx-01-share-*.txt | sort -u | tr '\n' ' ')
if [ "$(ls "$S" | wc -l)" = 3 ] && [ "$modes" = "600 " ]; then
	ok "three share files, each mode 0600"
else
	nok "three share files, each mode 0600 (got: $(ls -l "$S"))"
fi
if grep -q '"check"' "$T/state/custody.json" && ! grep -qiE 'pin|secret' "$T/state/custody.json"; then
	ok "the custody record holds a check value and no PIN or secret"
else
	nok "the custody record holds a check value and no PIN or secret"
fi
if pkcs11-tool --module "$MODULE" -L 2>/dev/null | grep -q 'token label *: sealbox'; then
	ok "pkcs11-tool sees the new token by its label"
else
	nok "pkcs11-tool sees the new token by its label"
fi
expect "a second ceremony on the same appliance is refused" 1 "already provisioned" -- \
	"$P" ceremony --config "$CFG" --share-dir "$T/again"
expect "ceremony shows shares only on a terminal, never to a pipe or file" 2 \
	"only on a terminal" -- sh -c "'$P' ceremony --config '$CFG' </dev/null >'$T/shown.txt'; rc=\$?; cat '$T/shown.txt'; exit \$rc"
if [ ! -s "$T/shown.txt" ]; then ok "nothing was written to the non-terminal output"; else nok "nothing was written to the non-terminal output"; fi
if ! grep -rqE "$(sed -n 3p "$S/sbx-01-share-1.txt" | cut -c1-30)" "$T/state" 2>/dev/null; then
	ok "no share is kept in the state directory"
else
	nok "no share is kept in the state directory"
fi

# --- every 2-subset unlocks, no single share does --------------------------
for pair in "1 2" "1 3" "2 3" "1 2 3"; do
	files=()
	for i in $pair; do files+=("$S/sbx-01-share-$i.txt"); done
	expect "shares {$pair} unlock the token" 0 "combine to this appliance's master secret" -- \
		"$P" check-shares --config "$CFG" "${files[@]}"
done
for i in 1 2 3; do
	expect "share $i alone is checked but cannot unlock" 1 "1 of 2 shares: fewer shares than the threshold" -- \
		"$P" keys --config "$CFG" "$S/sbx-01-share-$i.txt"
done
expect "a share read from standard input counts like a file" 0 "combine to" -- \
	sh -c "sed -n '3p' '$S/sbx-01-share-2.txt' | '$P' check-shares --config '$CFG' '$S/sbx-01-share-1.txt' -"

# --- wrong shares, each with its own message ---------------------------------
line=$(grep -v '^#' "$S/sbx-01-share-2.txt")
# Change one character of the base32 body (the last group).
last=${line: -1}
if [ "$last" = A ]; then repl=B; else repl=A; fi
echo "${line%?}$repl" >"$T/typo.txt"
expect "a mistyped share is refused as mistyped, before combining" 1 \
	"mistyped: checksum does not match" -- \
	"$P" check-shares --config "$CFG" "$S/sbx-01-share-1.txt" "$T/typo.txt"
echo "this is not a share" >"$T/junk.txt"
expect "a file that holds no share is refused as not a share" 1 "not a share" -- \
	"$P" check-shares --config "$CFG" "$T/junk.txt"
expect "the same share twice is refused as a duplicate" 1 "entered twice" -- \
	"$P" check-shares --config "$CFG" "$S/sbx-01-share-1.txt" "$S/sbx-01-share-1.txt"
expect "a missing share file is reported by name" 1 "nosuch.txt: No such file" -- \
	"$P" check-shares --config "$CFG" "$T/nosuch.txt"

# A second appliance, and a second ceremony under the same id.
softhsm_store "$T/hsm2"
write_config "$T/other.yaml" sbx-02 "$T/state2"
"$P" ceremony --config "$T/other.yaml" --share-dir "$T/s2" >/dev/null 2>&1
softhsm_store "$T/hsm3"
write_config "$T/same-id.yaml" sbx-01 "$T/state3"
"$P" ceremony --config "$T/same-id.yaml" --share-dir "$T/s3" >/dev/null 2>&1
softhsm_store "$T/hsm"
expect "a share of another appliance is refused as foreign" 1 "belongs to another appliance" -- \
	"$P" check-shares --config "$CFG" "$S/sbx-01-share-1.txt" "$T/s2/sbx-02-share-2.txt"
expect "a share of another ceremony of the same id is refused, never combined" 1 \
	"ceremony that has since been replaced|different ceremonies" -- \
	"$P" keys --config "$CFG" "$S/sbx-01-share-1.txt" "$T/s3/sbx-01-share-2.txt"

# --- keys: every type, never extractable ------------------------------------
for t in ec-p256 ec-p384 rsa-2048 rsa-3072; do
	expect "keygen makes a $t key in the token" 0 "generated $t key 'seal-$t' id [0-9a-f]{32}" -- \
		"$P" keygen --config "$CFG" --type "$t" --label "seal-$t" \
		"$S/sbx-01-share-1.txt" "$S/sbx-01-share-3.txt"
done
expect "keygen refuses an unknown key type" 2 "--type must be" -- \
	"$P" keygen --config "$CFG" --type ed25519 --label x "$S/sbx-01-share-1.txt"
expect "keys lists the four keys with their types" 0 \
	"ec-p256.*seal-ec-p256" -- "$P" keys --config "$CFG" "$S/sbx-01-share-2.txt" "$S/sbx-01-share-3.txt"
count=$("$P" keys --config "$CFG" "$S/sbx-01-share-2.txt" "$S/sbx-01-share-3.txt" 2>/dev/null | grep -c seal-)
[ "$count" = 4 ] && ok "keys lists exactly the four generated keys" || nok "keys lists exactly the four generated keys (got $count)"

SBX_PIN=$("$BIN/tools/derivepin" sbx-01 "$S/sbx-01-share-1.txt" "$S/sbx-01-share-2.txt")
export SBX_PIN
objs=$(pkcs11-tool --module "$MODULE" --token-label sealbox --login --pin env:SBX_PIN \
	--list-objects --type privkey 2>&1)
nkeys=$(grep -c 'Private Key Object' <<<"$objs")
nsafe=$(grep -c 'Access: *sensitive, always sensitive, never extractable, local' <<<"$objs")
if [ "$nkeys" = 4 ] && [ "$nsafe" = 4 ]; then
	ok "pkcs11-tool sees every private key as sensitive, always sensitive, never extractable, local"
else
	nok "pkcs11-tool sees every private key as sensitive and never extractable ($nsafe of $nkeys)"
	sed 's/^/#   | /' <<<"$objs"
fi
ids=$(grep -E '^ *ID:' <<<"$objs" | awk '{print $2}')
leaked=0
for id in $ids; do
	if pkcs11-tool --module "$MODULE" --token-label sealbox --login --pin env:SBX_PIN \
		--read-object --type privkey --id "$id" -o "$T/key.der" >/dev/null 2>&1 && [ -s "$T/key.der" ]; then
		leaked=1
	fi
done
if [ -n "$ids" ] && [ $leaked = 0 ]; then
	ok "pkcs11-tool cannot read the value of any private key"
else
	nok "pkcs11-tool cannot read the value of any private key"
fi
unset SBX_PIN

# --- re-share ---------------------------------------------------------------
cp "$T/state/custody.json" "$T/record-before-reshare.json"
expect "reshare with two shares writes three new shares" 0 "old shares no longer unlock" -- \
	"$P" reshare --config "$CFG" --share-dir "$T/new" "$S/sbx-01-share-1.txt" "$S/sbx-01-share-3.txt"
expect "after re-share the old shares unlock nothing" 1 "since been replaced" -- \
	"$P" keys --config "$CFG" "$S/sbx-01-share-1.txt" "$S/sbx-01-share-2.txt"
expect "after re-share the new shares unlock the same keys" 0 "seal-rsa-3072" -- \
	"$P" keys --config "$CFG" "$T/new/sbx-01-share-2.txt" "$T/new/sbx-01-share-3.txt"
expect "reshare refuses to overwrite existing share files" 1 "cannot create .*File exists" -- \
	"$P" reshare --config "$CFG" --share-dir "$T/new" "$T/new/sbx-01-share-1.txt" "$T/new/sbx-01-share-2.txt"
expect "a refused re-share changed nothing: the new shares still unlock" 0 "combine to" -- \
	"$P" check-shares --config "$CFG" "$T/new/sbx-01-share-1.txt" "$T/new/sbx-01-share-3.txt"
expect "reshare without --share-dir is a usage error" 2 "needs --share-dir" -- \
	"$P" reshare --config "$CFG" "$T/new/sbx-01-share-1.txt" "$T/new/sbx-01-share-2.txt"

# --- an interrupted re-share is settled by the next unseal -------------------
# The state a crash leaves after the PINs changed but before the record did:
# the new record still pending, the old one current.
cp "$T/state/custody.json" "$T/record-after-reshare.json"
mkdir -p "$T/state/reshare-pending"
cp "$T/record-after-reshare.json" "$T/state/reshare-pending/custody.json"
cp "$T/record-before-reshare.json" "$T/state/custody.json"
expect "after a crash past the PIN change, the new shares unlock and finish the re-share" 0 \
	"interrupted re-share was finished" -- \
	"$P" keys --config "$CFG" "$T/new/sbx-01-share-1.txt" "$T/new/sbx-01-share-2.txt"
if cmp -s "$T/state/custody.json" "$T/record-after-reshare.json" && [ ! -e "$T/state/reshare-pending/custody.json" ]; then
	ok "finishing the re-share installs the new record and removes the pending one"
else
	nok "finishing the re-share installs the new record and removes the pending one"
fi
expect "once settled, the old shares unlock nothing" 1 "since been replaced" -- \
	"$P" keys --config "$CFG" "$S/sbx-01-share-1.txt" "$S/sbx-01-share-3.txt"
# The state a crash leaves before the PIN change: a pending record (here the
# record of another ceremony under the same id), the token's PINs unchanged.
mkdir -p "$T/state/reshare-pending"
cp "$T/state3/custody.json" "$T/state/reshare-pending/custody.json"
expect "with the PINs unchanged, the pending ceremony's shares are refused by the token" 1 \
	"refused the PIN" -- \
	"$P" keys --config "$CFG" "$T/s3/sbx-01-share-1.txt" "$T/s3/sbx-01-share-2.txt"
expect "with the PINs unchanged, the current shares unlock and discard the pending re-share" 0 \
	"interrupted re-share was discarded" -- \
	"$P" keys --config "$CFG" "$T/new/sbx-01-share-2.txt" "$T/new/sbx-01-share-3.txt"
if cmp -s "$T/state/custody.json" "$T/record-after-reshare.json" && [ ! -e "$T/state/reshare-pending/custody.json" ]; then
	ok "discarding the re-share keeps the current record and removes the pending one"
else
	nok "discarding the re-share keeps the current record and removes the pending one"
fi

# --- config errors reach the user with file, line and key --------------------
printf 'appliance:\n  id: sbx-01\n  colour: red\n' >"$T/bad.yaml"
expect "a config error names the file, line and key" 1 "bad.yaml:3: appliance.colour" -- \
	"$P" keys --config "$T/bad.yaml" "$S/sbx-01-share-1.txt"
expect "an unreadable config path is named" 1 "nope.yaml" -- \
	"$P" keys --config "$T/nope.yaml" "$S/sbx-01-share-1.txt"
expect "an unknown command prints usage" 2 "usage: sealprov" -- "$P" frobnicate
exit 0
