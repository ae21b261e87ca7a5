#!/usr/bin/env bash
# The console: admin accounts, logins and the role-filtered menu
# (docs/admin-guide.md). The real sealadm is driven on a pseudo-terminal with
# expect (console.exp): the bootstrap rule, each role's menu exactly, a wrong
# passphrase refused and ledgered, lockout (the right passphrase refused while
# locked), unseal by two admins through the menu, bad input at the prompts,
# a passphrase change, idle logout.
. "$(dirname "$0")/lib.sh"
EXP="$(dirname "$0")/console.exp"

D=$T/a
mkdir -p "$D"
appliance_provision "$D" "console:
  max_failures: 3
  lockout_seconds: 4
  poweroff_command: touch $T/powered-off
  reboot_command: touch $T/rebooted" || { nok "provisioning"; exit 1; }
seald_start "$D" || { nok "seald starts"; exit 1; }
A="$BIN/sealadm --config $D/seald.yaml"

SAM_P='sam secadmin pass 1'
SYS_P='sys admin passphrase'
AUD_P='auditor-passphrase-3'
printf '%s\n' "$SAM_P" >"$T/sam.p"
printf '%s\n' "$SYS_P" >"$T/sys.p"
printf '%s\n' "$AUD_P" >"$T/aud.p"
printf 'too-short\n' >"$T/short.p"

# entries ACTION: the ledger's entries of that action, one JSON a line.
entries() {
	mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -a "\"action\":\"$1\"" | sed 's/^ //'
}

# ---- accounts: the bootstrap rule ----------------------------------------
expect "the first account must be a secadmin (409 bootstrap_secadmin_first)" 1 \
	'bootstrap_secadmin_first' -- $A admin add --user sys --role sysadmin --passphrase-fd 3 3<"$T/sys.p"
expect "a passphrase under 12 bytes is refused" 1 'bad_passphrase: a passphrase is 12 to 256' \
	-- $A admin add --user sam --role secadmin --passphrase-fd 3 3<"$T/short.p"
expect "a username outside [a-z][a-z0-9_-]{0,31} is refused" 1 'bad_username' \
	-- $A admin add --user Sam --role secadmin --passphrase-fd 3 3<"$T/sam.p"
expect "with no account yet, a secadmin is added without a session" 0 '"role": "secadmin"' \
	-- $A admin add --user sam --role secadmin --passphrase-fd 3 3<"$T/sam.p"
expect "once an account exists, adding another without a session is refused (login_required)" 1 \
	'login_required' -- $A admin add --user sys --role sysadmin --passphrase-fd 3 3<"$T/sys.p"
if entries admin.add | grep -q '"bootstrap":true' && ! grep -aq "$SAM_P" "$D/state/ledger/data.mdb"; then
	ok "admin.add is ledgered, and no passphrase is in the database"
else
	nok "admin.add ledger entry / passphrase in the database"
fi

# The other two are added by the secadmin through the menu.
drive "the secadmin adds a sysadmin through the menu" addadmin sam "$SAM_P" sys sysadmin "$SYS_P"
drive "the secadmin adds an auditor through the menu" addadmin sam "$SAM_P" aud auditor "$AUD_P"
$A login --user sys --passphrase-fd 3 3<"$T/sys.p" >"$T/sys.tok" 2>"$T/err"
expect "a sysadmin's session cannot add administrators (403 forbidden_role)" 1 'forbidden_role' \
	-- $A admin add --user bob --role auditor --passphrase-fd 3 --session-fd 4 3<"$T/sam.p" 4<"$T/sys.tok"
expect "logout ends the session" 0 '"user": "sys"' -- $A logout --session-fd 3 3<"$T/sys.tok"
expect "a session that ended is refused (401 session_expired)" 1 'session_expired' \
	-- $A logout --session-fd 3 3<"$T/sys.tok"

# ---- each role sees exactly its items -------------------------------------
cat >"$T/want.secadmin" <<'EOF'
  1) Status
  2) Unseal: enter my share
  3) Change my passphrase
  4) Add an administrator
  5) Add an org unit
  6) Register a person (principal)
  7) List roles
  8) Assign a role
  9) Add a grant
 10) List sensitive words
 11) Add a sensitive word
 12) Remove a sensitive word
 13) Create a seal (its image pasted as base64)
 14) List alerts
 15) Set up my one-time code (TOTP)
 16) Reset an administrator's one-time code
 17) Re-share the master secret (new shares for every holder)
 18) Revoke a role
 19) Disable a principal
 20) Alert thresholds
 21) Enable a disabled principal
 22) List approver groups
EOF
cat >"$T/want.sysadmin" <<'EOF'
  1) Status
  2) Unseal: enter my share
  3) Change my passphrase
  4) Status details
  5) Enrol a business system (register its certificate)
  6) Enrol a business system from its certificate request
  7) Network settings
  8) Power off or restart the appliance
  9) TLS server certificate
 10) Back up the appliance to a file
 11) Set up my one-time code (TOTP)
 12) Revoke a client certificate
EOF
cat >"$T/want.auditor" <<'EOF'
  1) Status
  2) Unseal: enter my share
  3) Change my passphrase
  4) Verify the ledger
  5) Browse the ledger
  6) List alerts
  7) Export a signature's evidence bundle (as text)
  8) Set up my one-time code (TOTP)
  9) Export a ledger range (as text)
EOF
for r in secadmin:sam:SAM_P sysadmin:sys:SYS_P auditor:aud:AUD_P; do
	role=${r%%:*} rest=${r#*:}
	user=${rest%%:*} var=${rest#*:}
	drive "$role $user logs in (no echo of the passphrase) and sees a menu" menu "$user" "${!var}" "$T/got.$role"
	if diff "$T/want.$role" "$T/got.$role" >"$T/diff" 2>&1; then
		ok "the $role's menu holds exactly the $role's items"
	else
		nok "the $role's menu"
		sed 's/^/#   /' "$T/diff"
	fi
done
drive "the auditor verifies the ledger from the menu: intact" \
	item aud "$AUD_P" 4 "ledger verified: intact"
$A login --user aud --passphrase-fd 3 3<"$T/aud.p" >"$T/aud.tok" 2>"$T/err"
expect "sealadm ledger entries while sealed: 503 sealed" 1 'sealed' -- \
	$A --session-fd 3 ledger entries 3<"$T/aud.tok"

# ---- a wrong passphrase, lockout -----------------------------------------
drive "a wrong passphrase is refused" refused aud "wrong passphrase 1" "wrong username or passphrase"
drive "an unknown user is refused alike" refused nobodyhere "wrong passphrase 1" "wrong username or passphrase"
if [ "$(entries admin.login | jq -r 'select(.result == "refused:unknown_user") | .user' | sort -u)" = "(unknown)" ] &&
	! entries admin.login | grep -q nobodyhere; then
	ok "an unknown name is ledgered as (unknown), never as typed"
else
	nok "the unknown user's entry: $(entries admin.login | grep unknown_user)"
fi
if entries admin.login | grep '"user":"aud"' | grep -q '"result":"refused:bad_passphrase"' &&
	! mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -aq 'wrong passphrase 1'; then
	ok "the failed login is ledgered (refused:bad_passphrase), without the passphrase"
else
	nok "the failed login's ledger entry"
fi
drive "a second wrong passphrase is refused" refused aud "wrong passphrase 2" "wrong username or passphrase"
drive "the third (console.max_failures: 3) is refused and locks" refused aud "wrong passphrase 3" "wrong username or passphrase"
drive "while locked, a wrong passphrase gets the unknown user's answer (the lock is not told)" \
	refused aud "wrong passphrase 4" "wrong username or passphrase"
drive "while locked, the right passphrase is refused: account locked, with the time left" \
	refused aud "$AUD_P" "account locked after too many failed logins; try again in"
if entries admin.login | grep '"user":"aud"' | grep -q '"result":"refused:locked"'; then
	ok "the refusal while locked is ledgered (refused:locked)"
else
	nok "refused:locked entry"
fi
sleep 4
drive "after console.lockout_seconds the right passphrase works again" menu aud "$AUD_P" "$T/got.again"

# ---- bad input, unseal, passphrase change ---------------------------------
drive "bad input (empty, 9999, 1x, a control character, a non-UTF-8 byte, 300 characters) at the menu and at a prompt: a message and the same menu" \
	badinput sys "$SYS_P"
printf 'sam\n%s\n\xff\n0\n' "$SAM_P" | $A >"$T/pipe.out" 2>&1
if grep -q 'input refused: control characters or invalid UTF-8' "$T/pipe.out" &&
	grep -q 'logged out' "$T/pipe.out"; then
	ok "the menu reads plain lines when stdin is not a terminal"
else
	nok "menu on a pipe: $(tr '\n' '|' <"$T/pipe.out" | head -c 300)"
fi
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=whatever \
	-keyout "$T/erp3.key" -out "$T/erp3.csr" 2>/dev/null
$A login --user sys --passphrase-fd 3 3<"$T/sys.p" >"$T/sys.tok" 2>"$T/err"
expect "enrol on a sealed appliance: 503 sealed (the CA key is in the HSM)" 1 \
	'sealed: the appliance CA is in the HSM: unseal first' -- \
	$A --session-fd 8 enrol --name erp3 --csr "$T/erp3.csr" 8<"$T/sys.tok"
share() { grep -v '^#' "$D/shares/sbx-test-share-$1.txt" | grep -v '^[[:space:]]*$' | head -n 1; }
drive "the secadmin enters a share through the menu: 1 of 2" unseal sam "$SAM_P" "$(share 1)" "share accepted: 1 of 2"
drive "the sysadmin enters another: the appliance is ready" unseal sys "$SYS_P" "$(share 3)" "unsealed: the appliance is ready"

# ---- the auditor: the ledger and its alerts --------------------------------
drive "the auditor browses the ledger ten entries a screen, sees one whole, lists alerts" \
	browse aud "$AUD_P"
$A login --user aud --passphrase-fd 3 3<"$T/aud.p" >"$T/aud.tok" 2>"$T/err"
$A login --user sam --passphrase-fd 3 3<"$T/sam.p" >"$T/sam.tok" 2>"$T/err"
out=$($A --session-fd 3 ledger entries --start 1 --count 2 3<"$T/aud.tok" 2>&1)
if [ "$(jq -r '[.entries[].seq] | join(",")' <<<"$out")" = "1,2" ] &&
	[ "$(jq -r '.more' <<<"$out")" = true ] && [ "$(jq -r '.next' <<<"$out")" = 3 ]; then
	ok "sealadm ledger entries: the auditor reads entries 1 and 2, and where to go on"
else
	nok "sealadm ledger entries --start 1 --count 2: $out"
fi
out=$($A --session-fd 3 ledger entries --from 2020-01-01 --to 2020-01-02 3<"$T/aud.tok" 2>&1)
if [ "$(jq -r '.entries | length' <<<"$out")" = 0 ]; then
	ok "sealadm ledger entries: a time range with nothing in it is empty"
else
	nok "sealadm ledger entries --from --to: $out"
fi
expect "sealadm ledger entries: the secadmin may not browse the ledger (403 forbidden_role)" 1 \
	'forbidden_role.*may not browse the ledger' -- $A --session-fd 3 ledger entries 3<"$T/sam.tok"
expect "sealadm ledger entries: --count past 1000 is refused" 2 '\-\-count: 1 to 1000' -- \
	$A --session-fd 3 ledger entries --count 1001 3<"$T/aud.tok"
expect "sealadm ledger entries: an empty time range is refused" 2 'the time range is empty' -- \
	$A --session-fd 3 ledger entries --from 2026-02-01 --to 2026-01-01 3<"$T/aud.tok"
expect "sealadm alerts list: the secadmin lists alerts (none)" 0 '"alerts": \[\]' -- \
	$A --session-fd 3 alerts list 3<"$T/sam.tok"
expect "sealadm alerts list: an unknown kind is refused" 1 'bad_query' -- \
	$A --session-fd 3 alerts list --kind nonsense 3<"$T/aud.tok"
expect "sealadm ledger entries needs a login" 1 'login_required' -- $A ledger entries

# ---- a ledger range, exported --------------------------------------------------
n_all=$(mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -ac '"action"')
if $A --session-fd 3 ledger export --start 0 --count 100000 --out "$T/range.jsonl" 3<"$T/aud.tok" \
	>"$T/out" 2>&1 && grep -q "exported $n_all entries, from 0" "$T/out" &&
	[ "$(wc -l <"$T/range.jsonl")" = "$n_all" ] && [ "$(stat -c %a "$T/range.jsonl")" = 600 ] &&
	jq -e -s 'map(.seq) == [range(0; length)]' "$T/range.jsonl" >/dev/null &&
	! LC_ALL=C grep -q '[^ -~]' "$T/range.jsonl"; then
	ok "sealadm ledger export: every entry, one ASCII JSON line each, in order, to a new 0600 file"
else
	nok "ledger export: $(cat "$T/out"); $(wc -l <"$T/range.jsonl" 2>/dev/null) of $n_all lines"
fi
first=$(head -n1 "$T/range.jsonl" | jq -r .leaf_input | base64 -d | sha256sum | cut -d' ' -f1)
want=$(mdb_dump -p -s ledger/entries "$D/state/ledger" | grep -a -m1 '"action"' | sed 's/^ //' |
	tr -d '\n' | sha256sum | cut -d' ' -f1)
[ "$first" = "$want" ] && ok "its leaf_input is the entry as stored, byte for byte" ||
	nok "leaf_input of entry 0 differs from the stored bytes"
expect "ledger export never writes over a file" 1 'never written over a file' -- \
	$A --session-fd 3 ledger export --count 5 --out "$T/range.jsonl" 3<"$T/aud.tok"
expect "ledger export: --count is needed, and bounded" 2 'needs --count N, 1 to 100000' -- \
	$A --session-fd 3 ledger export --count 100001 3<"$T/aud.tok"
expect "ledger export: the secadmin may not (403 forbidden_role)" 1 'forbidden_role' -- \
	$A --session-fd 3 ledger export --count 5 --out "$T/sec.jsonl" 3<"$T/sam.tok"
[ ! -e "$T/sec.jsonl" ] && ok "and a refused export leaves no file" || nok "a refused export left a file"
out=$($A --session-fd 3 ledger export --start 2 --count 3 3<"$T/aud.tok" 2>&1)
[ "$(jq -s -c 'map(.seq)' <<<"$out")" = "[2,3,4]" ] &&
	ok "ledger export to standard output: entries 2, 3 and 4" || nok "export 2..4: $out"
drive "the auditor exports a range at the console, between marker lines" \
	export aud "$AUD_P" 9 1 3 "----- END LEDGER RANGE: 3 ENTRIES -----"
drive "at the console, more than 1000 entries are refused" \
	export aud "$AUD_P" 9 0 1001 "input refused: 1 to 1000 entries at the console"

# ---- a passphrase chosen by another admin must be replaced first ----------------
printf 'eve temporary pass 1\n' >"$T/eve.p"
expect "admin add --must-change: the account is made with must_change" 0 '"must_change": true' -- \
	$A admin add --user eve --role auditor --passphrase-fd 3 --session-fd 4 --must-change \
	3<"$T/eve.p" 4<"$T/sam.tok"
if entries admin.add | grep '"user":"eve"' | grep -q '"must_change":true'; then
	ok "the admin.add entry says must_change"
else
	nok "eve's admin.add entry: $(entries admin.add | grep '"user":"eve"')"
fi
$A login --user eve --passphrase-fd 3 3<"$T/eve.p" >"$T/eve.tok" 2>"$T/err"
expect "until she changes it, her session may do nothing else (403 passphrase_change_required)" \
	1 'passphrase_change_required: the passphrase was chosen for this account: change it first' -- \
	$A --session-fd 3 ledger entries --count 1 3<"$T/eve.tok"
drive "at the menu, declining the change logs her out" mustchange eve 'eve temporary pass 1' \
	'eve own passphrase 22' n
drive "at the menu, she must choose her own passphrase before any item" mustchange eve \
	'eve temporary pass 1' 'eve own passphrase 22' y
printf 'eve own passphrase 22\n' >"$T/eve2.p"
$A login --user eve --passphrase-fd 3 3<"$T/eve2.p" >"$T/eve.tok" 2>"$T/err"
expect "with her own passphrase her session works" 0 '"entries"' -- \
	$A --session-fd 3 ledger entries --count 1 3<"$T/eve.tok"
expect "status says ready" 0 '"state": "ready"' -- $A status
$A status >"$T/status.json" 2>&1
if jq -e '.clock == "unsynchronised" and .disk.free_bytes > 0 and .disk.total_bytes >= .disk.free_bytes and
	([.certificates[] | select(.days_left > 0)] | length) == 4 and .admins == 4' "$T/status.json" >/dev/null; then
	ok "status adds what the console sees: the clock, the data disk and the four certificates' expiry"
else
	nok "status details: $(head -c 600 "$T/status.json")"
fi
printf 'aud\n%s\n1\n0\n' "$AUD_P" | $A >"$T/mstatus.out" 2>&1
if grep -q '^clock: unsynchronised' "$T/mstatus.out" && grep -q '^disk: [0-9]* MiB free of' "$T/mstatus.out" &&
	grep -q '^certificate TLS server: expires 20[0-9-]*T[0-9:]*Z ([0-9]* days)' "$T/mstatus.out"; then
	ok "the menu's status shows them as lines"
else
	nok "menu status: $(tr '\n' '|' <"$T/mstatus.out" | head -c 600)"
fi

NEW_P='sys new passphrase 2'
drive "the sysadmin changes their passphrase through the menu" passwd sys "$SYS_P" "$NEW_P"
drive "the old passphrase is refused after the change" refused sys "$SYS_P" "wrong username or passphrase"
drive "the new passphrase logs in" menu sys "$NEW_P" "$T/got.new"
if entries admin.passwd | grep -q '"result":"ok"'; then ok "the change is ledgered"; else nok "admin.passwd entry"; fi

# Items that change something, driven on a pipe (plain lines): confirmed, done.
printf 'sys\n%s\n5\nerp2\n%s\n\ny\n0\n' "$NEW_P" "$D/clients/demo/client.pem" | $A >"$T/enrol.out" 2>&1
if grep -q 'Register this application? \[y/N\]: done' "$T/enrol.out" &&
	entries principal.add | grep -q '"erp2"'; then
	ok "the sysadmin enrols a business system from the menu (confirmed, ledgered)"
else
	nok "enrol from the menu: $(tail -c 400 "$T/enrol.out" | tr '\n' '|')"
fi
printf 'sam\n%s\n5\nsub-1\nSubsidiary One\ngroup\nn\n5\nsub-1\nSubsidiary One\ngroup\ny\n0\n' "$SAM_P" |
	$A >"$T/unit.out" 2>&1
if grep -q 'cancelled' "$T/unit.out" && grep -q 'Add this unit? \[y/N\]: done' "$T/unit.out" &&
	[ "$(entries unit.add | grep -c '"sub-1"')" = 1 ]; then
	ok "the secadmin adds a unit from the menu; answering n cancels, y makes it once"
else
	nok "unit add from the menu: $(tail -c 400 "$T/unit.out" | tr '\n' '|')"
fi

# ---- every admin command runs as a logged-in admin, within the role --------
if entries principal.add | grep '"erp2"' | grep -q '"actor":"admin:sys"' &&
	entries unit.add | grep '"sub-1"' | grep -q '"actor":"admin:sam"'; then
	ok "menu actions are ledgered as the admin who logged in"
else
	nok "menu actions' actor: $(entries principal.add | tail -n 1)"
fi
printf '%s\n' "$NEW_P" >"$T/sys.p"
$A login --user sys --passphrase-fd 3 3<"$T/sys.p" >"$T/sys.tok" 2>"$T/err" &&
	$A login --user aud --passphrase-fd 3 3<<<"$AUD_P" >"$T/aud.tok" 2>>"$T/err" &&
	$A login --user sam --passphrase-fd 3 3<"$T/sam.p" >"$T/sam.tok" 2>>"$T/err" ||
	nok "sys, aud and sam log in for the scripted commands: $(cat "$T/err")"
as() { local who=$1; shift; $A --session-fd 8 "$@" 8<"$T/$who.tok"; }
expect "without a session, grant add is refused (401 login_required)" 1 \
	'login_required: an administrator must log in to add grants' -- \
	$A grant add --seal x --principal erp2
expect "a sysadmin may not add grants (403 forbidden_role)" 1 \
	'forbidden_role: the sysadmin may not add grants' -- as sys grant add --seal x --principal erp2
expect "a sysadmin may not register a person" 1 'a sysadmin registers business systems only' \
	-- as sys principal add --cert "$D/clients/demo/client.pem" --name pat
expect "a sysadmin may not give an application roles" 1 'a sysadmin registers business systems only' \
	-- as sys principal add --cert "$D/clients/demo/client.pem" --name app9 --kind application \
	--role seal-admin
expect "an auditor may list the sensitive words" 0 '"words"' -- as aud words list
expect "an auditor may not change them (403 forbidden_role)" 1 \
	'forbidden_role: the auditor may not change the sensitive words' -- as aud words add --word secret
expect "a secadmin adds a word as herself" 0 '"id"' -- as sam words add --word secret
if entries admin.refused | grep -q '"actor":"admin:sys","command":204,"result":"forbidden_role","role":"sysadmin"' &&
	entries word.add | grep -q '"actor":"admin:sam"'; then
	ok "refusals and changes are ledgered with the admin's name"
else
	nok "admin.refused / word.add entries: $(entries admin.refused | head -n 2)"
fi
expect "a garbled session-fd is refused before seald is asked" 2 \
	'--session-fd: a file descriptor number is needed' -- $A --session-fd x role list

# ---- enrolment from a certificate request ------------------------------------
{ printf 'sys\n%s\n6\nerp3\n\n' "$NEW_P"; cat "$T/erp3.csr"; printf 'y\n0\n'; } | $A >"$T/csr.out" 2>&1
sed -n '/^-----BEGIN CERTIFICATE-----$/,/^-----END CERTIFICATE-----$/p' "$T/csr.out" >"$T/erp3.pem"
if grep -q 'enrolled erp3. Its client certificate' "$T/csr.out" &&
	openssl verify -CAfile "$D/state/ca.pem" -purpose sslclient "$T/erp3.pem" >/dev/null 2>&1 &&
	[ "$(openssl x509 -in "$T/erp3.pem" -noout -subject 2>/dev/null)" = "subject=CN = erp3" ] &&
	[ "$(openssl x509 -in "$T/erp3.pem" -noout -pubkey | sha256sum)" = \
	  "$(openssl pkey -in "$T/erp3.key" -pubout | sha256sum)" ]; then
	ok "the sysadmin pastes a certificate request at the menu and gets a client certificate for its key, named by the appliance"
else
	nok "enrol from a request at the menu: $(tail -c 600 "$T/csr.out" | tr '\n' '|')"
fi
E3="--silent --cacert $D/state/ca.pem --cert $T/erp3.pem --key $T/erp3.key"
code=$(curl $E3 -o "$T/out.json" -w '%{http_code}' "$URL/v1/ledger/entries?start=0&count=5")
if [ "$code" = 403 ] && grep -q '"code":"forbidden_role"' "$T/out.json" &&
	[ "$(curl $E3 -o /dev/null -w '%{http_code}' "$URL/v1/health")" = 200 ]; then
	ok "the enrolled system gets through TLS but holds no role: the sysadmin cannot mint a reader of business data"
else
	nok "a sysadmin-enrolled system's access: $code $(cat "$T/out.json")"
fi
as sam role assign --principal erp3 --role requester >/dev/null 2>&1
code=$(curl $E3 -o "$T/out.json" -w '%{http_code}' "$URL/v1/ledger/entries?start=0&count=5")
[ "$code" = 200 ] && ok "once the secadmin gives it a role, it acts in that role" ||
	nok "erp3 after role assign: $code $(cat "$T/out.json")"
if entries principal.add | grep '"erp3"' | grep -q '"actor":"admin:sys".*"issued":true.*"kind":"application".*"roles":\[\]'; then
	ok "the enrolment is ledgered as an issued certificate, by the sysadmin"
else
	nok "erp3 principal.add entry: $(entries principal.add | grep erp3)"
fi
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -subj /CN=x \
	-keyout "$T/erp4.key" -out "$T/erp4.csr" 2>/dev/null
expect "sealadm enrol prints the certificate on stdout" 0 '^-----BEGIN CERTIFICATE-----' -- \
	as sys enrol --name erp4 --csr "$T/erp4.csr" --valid-days 30
expect "enrol under a taken name: 409 exists" 1 'exists: the name or the certificate is already registered' \
	-- as sys enrol --name erp3 --csr "$T/erp4.csr"
printf 'not a request\n' >"$T/bad.csr"
expect "enrol refuses what is not a certificate request: bad_csr" 1 'bad_csr: not a PEM certificate request' \
	-- as sys enrol --name erp5 --csr "$T/bad.csr"
openssl req -new -newkey rsa:1024 -nodes -subj /CN=x -keyout "$T/weak.key" -out "$T/weak.csr" 2>/dev/null
expect "enrol refuses a weak key: bad_csr naming it" 1 'bad_csr: the key must be EC P-256 or P-384 \(a named curve\), or RSA of 2048 to 8192 bits \(this one: rsaEncryption, 1024 bits\)' \
	-- as sys enrol --name erp5 --csr "$T/weak.csr"
# A request whose signature does not match its key: one byte of the signature changed.
openssl req -in "$T/erp4.csr" -outform DER -out "$T/erp4.der" 2>/dev/null
n=$(stat -c %s "$T/erp4.der")
b=$(od -An -tu1 -j $((n - 3)) -N1 "$T/erp4.der" | tr -d ' ')
printf "\\$(printf '%03o' $((b ^ 1)))" | dd of="$T/erp4.der" bs=1 seek=$((n - 3)) conv=notrunc 2>/dev/null
openssl req -inform DER -in "$T/erp4.der" -out "$T/forged.csr" 2>/dev/null
expect "enrol refuses a request whose signature does not verify: bad_csr" 1 \
	"bad_csr: the request's signature does not verify" -- as sys enrol --name erp5 --csr "$T/forged.csr"
expect "enrol --valid-days past 825 is refused before seald is asked" 2 '--valid-days: 1 to 825' \
	-- as sys enrol --name erp5 --csr "$T/erp4.csr" --valid-days 900
expect "the auditor may not enrol (403 forbidden_role)" 1 'forbidden_role: the auditor may not enrol business systems' \
	-- as aud enrol --name erp5 --csr "$T/erp4.csr"
expect "enrol into a unit that does not exist: 404 unknown_unit, before anything is issued" 1 \
	"unknown_unit: unit: no unit 'nowhere'" -- as sam enrol --name erp6 --csr "$T/erp4.csr" --unit nowhere
[ -z "$(entries principal.add | grep -E '"erp[56]"')" ] &&
	ok "refused enrolments leave no principal and no ledger entry" || nok "a refused enrolment was ledgered"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=x \
	-keyout "$T/erp7.key" -out "$T/erp7.csr" 2>/dev/null
expect "the secadmin may enrol too (into a unit)" 0 '^-----BEGIN CERTIFICATE-----' -- \
	as sam enrol --name erp7 --csr "$T/erp7.csr" --unit sub-1
entries principal.add | grep '"erp7"' | grep -q '"roles":\[{"role":"requester","unit":"sub-1"}\]' &&
	ok "what the secadmin enrols is a requester in its unit" || nok "erp7 entry: $(entries principal.add | grep erp7)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:secp256k1 -nodes -subj /CN=x \
	-keyout "$T/k1.key" -out "$T/k1.csr" 2>/dev/null
expect "a 256-bit curve that is not P-256 is refused: bad_csr" 1 'bad_csr: the key must be EC P-256 or P-384 \(a named curve\)' \
	-- as sys enrol --name erp8 --csr "$T/k1.csr"
{ printf 'sys\n%s\n6\nerp9\n\n' "$NEW_P"; printf 'hello\nworld\n\n'; printf '0\n'; } | $A >"$T/paste.out" 2>&1
if grep -q 'input refused: not a certificate request' "$T/paste.out" &&
	! grep -q 'no such item\|input refused: choose' "$T/paste.out" && grep -q 'logged out' "$T/paste.out"; then
	ok "a bad paste is refused whole, its lines not taken for menu answers"
else
	nok "bad paste: $(tail -c 500 "$T/paste.out" | tr '\n' '|')"
fi

# ---- a seal created at the console --------------------------------------------
{ printf 'sam\n%s\n13\ncon-seal\nConsole seal\nofficial\nec-p256\nsub-1\n' "$SAM_P"
  base64 -w 76 "$D/stamp.png"; printf '\ny\n0\n'; } | $A >"$T/seal.out" 2>&1
if grep -q "seal con-seal created (active)" "$T/seal.out" &&
	entries seal.create | grep '"con-seal"' | grep -q '"actor":"admin:sam"' &&
	[ "$(entries seal.create | grep '"con-seal"' | sed 's/.*"image_sha256":"\([0-9a-f]*\)".*/\1/')" = \
	  "$(sha256sum "$D/stamp.png" | cut -d' ' -f1)" ]; then
	ok "the secadmin creates a seal at the menu, its PNG pasted as base64 and decoded byte for byte"
else
	nok "seal from the menu: $(tail -c 500 "$T/seal.out" | tr '\n' '|')"
fi
{ printf 'sam\n%s\n13\n\nBad seal\nofficial\nec-p256\nsub-1\n' "$SAM_P"
  printf 'iVBORw0KGgo*bad*\nmore\n\n0\n'; } | $A >"$T/badseal.out" 2>&1
if grep -q 'input refused: a line that is not base64' "$T/badseal.out" &&
	! grep -q 'no such item' "$T/badseal.out" && ! entries seal.create | grep -q '"Bad seal"'; then
	ok "a paste that is not base64 is refused whole, and no seal is made"
else
	nok "bad image paste: $(tail -c 500 "$T/badseal.out" | tr '\n' '|')"
fi

base64 -w 76 "$D/stamp.png" | sed 3d >"$T/cut.b64"	# a line lost on the serial line
{ printf 'sam\n%s\n13\n\nCut seal\nofficial\nec-p256\nsub-1\n' "$SAM_P"; cat "$T/cut.b64"
  printf '\ny\n0\n'; } | $A >"$T/cutseal.out" 2>&1
if grep -q 'image: [0-9]* bytes, SHA-256 [0-9a-f]*\.\.\.' "$T/cutseal.out" &&
	grep -q 'the seal image must be a PNG that decodes whole' "$T/cutseal.out" &&
	! entries seal.create | grep -q '"Cut seal"'; then
	ok "a paste that lost a line decodes to a broken PNG: shown by size and hash, refused by seald"
else
	nok "cut paste: $(tail -c 500 "$T/cutseal.out" | tr '\n' '|')"
fi
{ printf 'sam\n%s\n13\n\nPad seal\nofficial\nec-p256\nsub-1\n' "$SAM_P"
  printf 'QQ==QUJD\n\n0\n'; } | $A >"$T/padseal.out" 2>&1
grep -q "input refused: not base64 (its length, or a '=' before the end)" "$T/padseal.out" &&
	ok "padding before the end of the paste is refused" || nok "pad: $(tail -c 300 "$T/padseal.out")"

# ---- power off and restart ---------------------------------------------------
printf 'sys\n%s\n8\nhalt\n8\npoweroff\nn\n8\npoweroff\ny\n0\n' "$NEW_P" | $A >"$T/power.out" 2>&1
if grep -q 'input refused: poweroff or reboot' "$T/power.out" && grep -q 'cancelled' "$T/power.out" &&
	grep -q "running: touch $T/powered-off" "$T/power.out" && [ -e "$T/powered-off" ] &&
	[ "$(entries appliance.poweroff | grep -c '"actor":"admin:sys"')" = 1 ]; then
	ok "the sysadmin powers off from the menu: a bad answer refused, n cancels, y ledgers it once and runs console.poweroff_command"
else
	nok "power off from the menu: $(tail -c 500 "$T/power.out" | tr '\n' '|')"
fi
expect "sealadm appliance reboot ledgers, then runs console.reboot_command" 0 '"action": "reboot"' -- \
	as sys appliance reboot
[ -e "$T/rebooted" ] && entries appliance.reboot | grep -q '"actor":"admin:sys"' &&
	ok "the reboot ran and is ledgered with the sysadmin's name" || nok "reboot command / entry"
rm -f "$T/powered-off"
expect "a secadmin may not power the appliance off (403 forbidden_role)" 1 \
	'forbidden_role: the secadmin may not power the appliance off or restart it' -- as sam appliance poweroff
[ ! -e "$T/powered-off" ] && ok "a refused power-off runs nothing" || nok "a refused power-off ran its command"

# ---- idle logout ------------------------------------------------------------
seald_stop
sed -i 's/^console:$/console:\n  idle_seconds: 2/' "$D/seald.yaml"
seald_start "$D" || { nok "seald restarts with console.idle_seconds: 2"; exit 1; }
drive "with console.idle_seconds: 2, no input logs out (idle) and returns to the login prompt" \
	idle aud "$AUD_P" 2
seald_stop
