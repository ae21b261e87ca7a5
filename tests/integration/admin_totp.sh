#!/usr/bin/env bash
# A console administrator's one-time code (TOTP) at login, against the real
# seald: enrolled and confirmed by the admin (script and menu), then asked
# for at every login, from scripts and at the console; a missing code is no
# failed login, a wrong or used one is (and locks the account like a wrong
# passphrase); while sealed a code cannot be checked, so such an account
# waits for the unseal while others log in. Codes come from tests/tools/totp
# at explicit times within the monitor's window of one 30 s step either side.
. "$(dirname "$0")/lib.sh"

TOTP=$BIN/tools/totp
appliance_up "$T/a" "console:
  max_failures: 3"
ADM=("$BIN/sealadm" --config "$D/seald.yaml")
entries() {
	mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -a "\"action\":\"$1\"" | sed 's/^ //'
}
printf 'sysadmin passphrase %s\n' "$RANDOM$RANDOM" >"$T/sys.p"
sealadm_as admin add --user testsys --role sysadmin --passphrase-fd 3 3<"$T/sys.p" >/dev/null ||
	nok "a sysadmin account"
login() {	# login [CODE]: the sysadmin's session into $T/sys.tok
	if [ $# -gt 0 ]; then
		"${ADM[@]}" login --user testsys --passphrase-fd 3 --otp-fd 4 3<"$T/sys.p" 4<<<"$1"
	else
		"${ADM[@]}" login --user testsys --passphrase-fd 3 3<"$T/sys.p"
	fi
}
login >"$T/sys.tok" && ok "without a code enrolled, the login is as before" || nok "first login"
as_sys() { "${ADM[@]}" --session-fd 9 "$@" 9<"$T/sys.tok"; }

out=$(as_sys totp enrol 2>&1)
secret=$(grep -o 'secret=[A-Z2-7]*' <<<"$out" | head -n1 | cut -d= -f2)
if [[ "$secret" =~ ^[A-Z2-7]{32}$ ]] && grep -q 'otpauth://totp/Sealbox:admin:testsys?secret=' <<<"$out"; then
	ok "totp enrol shows the secret once, as text and as an otpauth URI"
else
	nok "totp enrol: $out"
fi
! entries totp.enrol | grep -q "$secret" && entries totp.enrol | grep -q '"actor":"admin:testsys"' &&
	ok "the enrolment is ledgered as the admin's, without the secret" || nok "totp.enrol entry"
login >/dev/null && ok "an enrolment not yet confirmed asks for no code" || nok "login while pending"
# Codes are accepted one step either side of the present: each group of
# codes is made from a fresh $now, taken at least 8 s before its 30-s step
# ends, so that a slow machine does not carry the group out of the window.
fresh() {
	local t
	t=$(date +%s)
	[ $((30 - t % 30)) -ge 8 ] || sleep $((30 - t % 30))
	now=$(date +%s)
}
fresh
expect "a wrong first code does not confirm it" 1 'otp_invalid' \
	-- as_sys totp confirm --otp-fd 4 4<<<"$("$TOTP" "$secret" $((now + 3600)))"
expect "the first code confirms it" 0 'one-time code confirmed' \
	-- as_sys totp confirm --otp-fd 4 4<<<"$("$TOTP" "$secret" $((now - 30)))"

# ---- logins now need it ---------------------------------------------------------
expect "without the code: refused, and told what is missing" 1 \
	'needs its one-time code \(TOTP\) as well' -- login
expect "with a wrong code: refused" 1 'login refused: wrong one-time code' \
	-- login "$("$TOTP" "$secret" $((now + 3600)))"
c0=$("$TOTP" "$secret" "$now")
login "$c0" >"$T/sys.tok" && [ "$(wc -c <"$T/sys.tok")" -ge 64 ] &&
	ok "with the right code: a session" || nok "login with the code"
expect "the same code again: refused as used" 1 'was used already' -- login "$c0"
e=$(entries admin.login | tail -n 4)
grep -q '"result":"totp_required"' <<<"$e" && grep -q '"result":"refused:bad_otp"' <<<"$e" &&
	grep -q '"result":"refused:otp_replayed"' <<<"$e" && ! grep -q "$c0" <<<"$e" &&
	ok "each attempt is ledgered with its reason, never with the code" ||
	nok "admin.login entries: $e"

# A missing code is no failed login; wrong codes are, and lock the account.
# One failure stands (the replay); as many attempts without a code as lock
# an account would lock it now, if they counted.
login >/dev/null 2>&1
login >/dev/null 2>&1
login >/dev/null 2>&1
login "$("$TOTP" "$secret" $((now + 30)))" >/dev/null && ok "attempts without a code count no failure" ||
	nok "missing codes counted as failures"

# ---- replacing a code, and a secadmin's reset -------------------------------
printf 'second sysadmin passphrase %s\n' "$RANDOM$RANDOM" >"$T/ops.p"
sealadm_as admin add --user testops --role sysadmin --passphrase-fd 3 3<"$T/ops.p" >/dev/null ||
	nok "a second sysadmin"
ops() {	# ops [CODE]: log testops in
	if [ $# -gt 0 ]; then
		"${ADM[@]}" login --user testops --passphrase-fd 3 --otp-fd 4 3<"$T/ops.p" 4<<<"$1"
	else
		"${ADM[@]}" login --user testops --passphrase-fd 3 3<"$T/ops.p"
	fi
}
ops >"$T/ops.tok"
ops >"$T/ops2.tok"
as_ops() { "${ADM[@]}" --session-fd 9 "$@" 9<"$T/ops.tok"; }
sa=$(as_ops totp enrol 2>&1 | grep -o 'secret=[A-Z2-7]*' | head -n1 | cut -d= -f2)
fresh
as_ops totp confirm --otp-fd 4 4<<<"$("$TOTP" "$sa" $((now - 30)))" >/dev/null ||
	nok "testops's first code"
expect "confirming a code ends the admin's other sessions (opened without it)" 1 'session_expired' \
	-- "${ADM[@]}" --session-fd 9 totp enrol 9<"$T/ops2.tok"
expect "and keeps the one that confirmed it" 1 'totp_active' -- as_ops totp enrol
ops "$("$TOTP" "$sa" "$now")" >"$T/ops.tok" || nok "testops's login with the code"
expect "replacing a confirmed code without a current one is refused (totp_active)" 1 'totp_active' \
	-- as_ops totp enrol
sb=$(as_ops totp enrol --otp-fd 4 4<<<"$("$TOTP" "$sa" $((now + 30)))" 2>&1 |
	grep -o 'secret=[A-Z2-7]*' | head -n1 | cut -d= -f2)
[[ "$sb" =~ ^[A-Z2-7]{32}$ ]] && [ "$sb" != "$sa" ] && ok "with a current code, a new secret is made" ||
	nok "replacing enrol"
expect "until the new one is confirmed, the old one stays in force: no login without a code" 1 \
	'needs its one-time code' -- ops
expect "a wrong code for the present secret when replacing is refused" 1 'otp_invalid' \
	-- as_ops totp enrol --otp-fd 4 4<<<"$("$TOTP" "$sb" $((now + 3600)))"
entries admin.totp | grep '"user":"testops"' | grep -q '"result":"refused:bad_otp"' &&
	ok "and counts as a failed login (admin.totp refused:bad_otp)" || nok "admin.totp entry"
fresh
expect "the new secret's first code confirms it, in place of the old" 0 'one-time code confirmed' \
	-- as_ops totp confirm --otp-fd 4 4<<<"$("$TOTP" "$sb" $((now - 30)))"
ops "$("$TOTP" "$sb" "$now")" >/dev/null && ok "the login now takes the new secret's code" ||
	nok "login with the new secret"
expect "a secadmin may not reset their own code" 1 'own_account' -- sealadm_as totp reset --user testsec
expect "resetting an unknown admin: 404" 1 'unknown_admin' -- sealadm_as totp reset --user nobody
expect "a sysadmin may not reset codes (403 forbidden_role)" 1 'forbidden_role' \
	-- as_ops totp reset --user testsys
expect "a secadmin resets another admin's code (a lost authenticator)" 0 'is removed' \
	-- sealadm_as totp reset --user testops
ops >/dev/null && entries totp.reset | grep -q '"principal":"admin:testops"' &&
	ok "their login asks for no code again, and the reset is ledgered" || nok "after the reset"
for i in 1 2 3; do login "$("$TOTP" "$secret" $((now + 7200 + i * 60)))" >/dev/null 2>&1; done
expect "three wrong codes lock the account (console.max_failures 3)" 1 'account locked' \
	-- login "$("$TOTP" "$secret" $((now + 60)))"

# ---- a lost authenticator: the passphrase and the quorum's shares ----------------
# testops sets up a code again; then loses it.
ops >"$T/ops.tok"
sc=$(as_ops totp enrol 2>&1 | grep -o 'secret=[A-Z2-7]*' | head -n1 | cut -d= -f2)
fresh
as_ops totp confirm --otp-fd 4 4<<<"$("$TOTP" "$sc" $((now - 30)))" >/dev/null ||
	nok "testops's code, again"
ops "$("$TOTP" "$sc" "$now")" >"$T/ops.tok" || nok "testops's login with it"
S1=$D/shares/sbx-test-share-1.txt S2=$D/shares/sbx-test-share-2.txt S3=$D/shares/sbx-test-share-3.txt
printf 'ops passphrase after the loss %s\n' "$RANDOM$RANDOM" >"$T/ops.new"
NEWP=$T/ops.new
recover() {	# recover USER PASSFILE SHAREFILE...: the new passphrase from $NEWP
	local u=$1 p=$2
	shift 2
	local a=()
	for f in "$@"; do a+=(--share-file "$f"); done
	"${ADM[@]}" totp recover --user "$u" --passphrase-fd 3 --new-passphrase-fd 4 "${a[@]}" \
		3<"$p" 4<"$NEWP"
}
printf 'not the passphrase\n' >"$T/wrong.p"
NEWP=$T/ops.p expect "a new passphrase that is the old one: refused (bad_passphrase)" 1 \
	'bad_passphrase.*it is the old one' -- recover testops "$T/ops.p" "$S1" "$S2"
printf 'short\n' >"$T/short.p"
NEWP=$T/short.p expect "a new passphrase too short: refused, with the rule" 1 'bad_passphrase' \
	-- recover testops "$T/ops.p" "$S1" "$S2"
expect "without --new-passphrase-fd: told what is needed" 2 'new-passphrase-fd' \
	-- "${ADM[@]}" totp recover --user testops --passphrase-fd 3 --share-file "$S1" 3<"$T/ops.p"
expect "recover with a wrong passphrase: refused as a login is" 1 'wrong username or passphrase' \
	-- recover testops "$T/wrong.p" "$S1" "$S2"
expect "recover for an unknown account: the same answer" 1 'wrong username or passphrase' \
	-- recover nobody "$T/ops.p" "$S1" "$S2"
expect "recover with one share of two: refused (bad_share)" 1 'bad_share' \
	-- recover testops "$T/ops.p" "$S1"
expect "recover with the same share twice: refused" 1 'bad_share' \
	-- recover testops "$T/ops.p" "$S1" "$S1"
expect "recover for an account with no code in force: 409 no_totp" 1 'no_totp' \
	-- recover testsec "$D/testsec.pass" "$S1" "$S2"
expect "recover with no share at all (no terminal): told how to give them" 1 'needs the shares' \
	-- recover testops "$T/ops.p" </dev/null
expect "until then the account still needs its code" 1 'needs its one-time code' -- ops
e=$(entries totp.recover)
grep -q '"result":"refused:bad_passphrase"' <<<"$e" && grep -q '"result":"refused:bad_share"' <<<"$e" &&
	grep -q '"result":"refused:no_totp"' <<<"$e" && grep -q '"user":"(unknown)"' <<<"$e" &&
	ok "each refused recovery is ledgered with its reason" || nok "totp.recover refusals: $e"
expect "the passphrase and two shares remove the admin's own code and replace the passphrase" 0 \
	'your one-time code is removed and your passphrase replaced' -- recover testops "$T/ops.p" "$S2" "$S3"
e=$(entries totp.recover | grep '"result":"ok"')
share_text=$(grep -v '^#' "$S2" | head -n1)
grep -q '"user":"testops"' <<<"$e" && grep -q '"by":"passphrase and quorum"' <<<"$e" &&
	grep -q '"shares":2' <<<"$e" && grep -q '"passphrase_replaced":true' <<<"$e" &&
	! mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -qF "$share_text" &&
	! mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -qF "$(cat "$NEWP")" &&
	ok "the recovery is ledgered (by passphrase and quorum, 2 shares), never with a share" ||
	nok "totp.recover entry: $e"
expect "the session opened with the lost authenticator is ended" 1 'session_expired' -- as_ops totp enrol
expect "the old passphrase opens nothing any more" 1 'wrong username or passphrase' -- ops
cp "$NEWP" "$T/ops.p"
ops >"$T/ops.tok" && ok "the new passphrase alone logs in; a new code is set up from there" ||
	nok "login after the recovery"

# ---- at the console ------------------------------------------------------------
printf 'auditor passphrase %s\n' "$RANDOM$RANDOM" >"$T/aud.p"
sealadm_as admin add --user testaud --role auditor --passphrase-fd 3 3<"$T/aud.p" >/dev/null ||
	nok "an auditor account"
drive "at the console: the auditor sets up a code (item 8), and the next login asks for it, unseen" \
	totpenrol testaud "$(cat "$T/aud.p")" 8 "$TOTP" "$T/aud.secret"

# ---- sealed: a code cannot be checked ------------------------------------------
seald_stop
seald_start "$D" || nok "seald restarts"
expect "while sealed, an account with a code waits for the unseal (totp_unavailable)" 1 \
	'cannot be checked while the appliance is sealed' \
	-- "${ADM[@]}" login --user testaud --passphrase-fd 3 --otp-fd 4 3<"$T/aud.p" 4<<<"123456"
"${ADM[@]}" login --user testsec --passphrase-fd 3 3<"$D/testsec.pass" >/dev/null &&
	ok "while sealed, an account without a code logs in as before" || nok "sealed login without TOTP"
expect "while sealed, no recovery either (503 sealed): the shares unseal first" 1 'sealed' \
	-- recover testaud "$T/aud.p" "$S1" "$S2"
appliance_unseal "$D" >/dev/null
expect "once unsealed, the auditor's login asks for the code again" 1 'needs its one-time code' \
	-- "${ADM[@]}" login --user testaud --passphrase-fd 3 3<"$T/aud.p"
# The next step's code: the console login used this step's.
expect "once unsealed, the code is checked again" 0 '^[0-9a-f]{64}$' \
	-- "${ADM[@]}" login --user testaud --passphrase-fd 3 --otp-fd 4 3<"$T/aud.p" \
	4<<<"$("$TOTP" "$(cat "$T/aud.secret")" $(($(date +%s) + 30)))"
drive "at the console: the auditor answers \"lost\" at the code prompt, gives a new passphrase; two share holders type their shares, unseen; the new passphrase alone logs in after" \
	totplost testaud "$(cat "$T/aud.p")" "auditor passphrase anew $RANDOM$RANDOM" "$S1" "$S3"
seald_stop
