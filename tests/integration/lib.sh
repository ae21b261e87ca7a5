# Shared helpers for the integration tests (sourced, not run).
#
# Each test case prints "ok - what it pins down" or "not ok - ..." (counted by
# tests/run.sh). Every script gets its own throwaway directory with a fresh
# SoftHSM token store, removed on exit.
set -u
BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$TOP/$BUILD
MODULE=/usr/lib/softhsm/libsofthsm2.so
T=$(mktemp -d "${TMPDIR:-/tmp}/sbx-it-XXXXXX")
SEALD_PID=
cleanup() {
	if [ -n "${SEALD_PID:-}" ]; then kill -9 "$SEALD_PID" 2>/dev/null; fi
	pkill -9 -f "seald --config $T/" 2>/dev/null
	chmod -R u+rwX "$T" 2>/dev/null
	[ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; }

# softhsm_store DIR: a token store in DIR, selected through SOFTHSM2_CONF.
softhsm_store() {
	mkdir -p "$1/tokens"
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$1" >"$1/softhsm2.conf"
	export SOFTHSM2_CONF=$1/softhsm2.conf
}

# write_config FILE ID STATE_DIR [TOKEN] [SHARES] [THRESHOLD]
write_config() {
	cat >"$1" <<EOC
appliance:
  id: $2
  state_dir: $3
hsm:
  module: $MODULE
  token: ${4:-sealbox}
quorum:
  shares: ${5:-3}
  threshold: ${6:-2}
EOC
}

# expect WHAT STATUS PATTERN -- CMD...: CMD exits with STATUS and its output
# (stdout and stderr) matches the extended regex PATTERN.
expect() {
	local what=$1 want=$2 pat=$3 out rc
	shift 4
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -qE -- "$pat" <<<"$out"; then
		ok "$what"
	else
		nok "$what"
		echo "#   command: $*"
		echo "#   status $rc (wanted $want); output:"
		sed 's/^/#   | /' <<<"$out" | head -n 20
		echo "#   wanted a match for: $pat"
	fi
}

# ---- a whole appliance ---------------------------------------------------

# A port on loopback that nothing listens on: below Linux's ephemeral range
# (32768 up), where a client's source port (curl's, sealctl's) could already
# hold it when seald binds.
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((10000 + RANDOM % 22000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	echo 28443
}

# seald_yaml DIR [ID]: a test appliance's seald.yaml, everything under DIR,
# listening on 127.0.0.1:$PORT.
seald_yaml() {
	local D=$1
	cat <<EOC
appliance:
  id: ${2:-sbx-test}
  state_dir: $D/state
hsm:
  module: $MODULE
  token: sealbox
  token_dir: $D/hsm/tokens
listen:
  address: 127.0.0.1
  port: $PORT
tls:
  certificate: $D/tls/server.pem
  key: $D/tls/server.key
  client_ca: $D/clients-ca.pem
  crl: $D/state/clients.crl
admin_socket: $D/admin.sock
time:
  require_sync: false
EOC
}

# appliance_provision DIR [YAML_EXTRA]: token, ceremony, appliance keys, TLS
# server certificate, a demo client; DIR/seald.yaml and DIR/env (PORT, C).
appliance_provision() {
	local D=$1 extra=${2:-} P=$BIN/sealprov
	softhsm_store "$D/hsm"
	PORT=$(free_port)
	{ seald_yaml "$D"; printf '%s\n' "$extra"; } >"$D/seald.yaml"
	local S1=$D/shares/sbx-test-share-1.txt S2=$D/shares/sbx-test-share-2.txt
	"$P" ceremony --config "$D/seald.yaml" --share-dir "$D/shares" >/dev/null &&
	"$P" appliance-init --config "$D/seald.yaml" "$S1" "$S2" >/dev/null &&
	"$P" tls-server --config "$D/seald.yaml" --cn localhost --san DNS:localhost,IP:127.0.0.1 \
		--out-dir "$D/tls" "$S1" "$S2" >/dev/null &&
	"$P" enrol --config "$D/seald.yaml" --cn demo-erp --out-dir "$D/clients/demo" "$S1" "$S2" >/dev/null &&
	"$P" revoke --config "$D/seald.yaml" "$S1" "$S2" >/dev/null &&
	cp "$D/state/ca.pem" "$D/clients-ca.pem" &&
	"$BIN/tools/mkstamp" "$D/stamp.png" 160 || return 1
	C="--silent --show-error --cert $D/clients/demo/client.pem --key $D/clients/demo/client.key --cacert $D/state/ca.pem"
	URL=https://127.0.0.1:$PORT
}

# seald_start DIR: start seald in the background; wait for its sockets.
seald_start() {
	local D=$1 before
	before=$(grep -c 'listening on' "$D/seald.log" 2>/dev/null)
	"$BIN/seald" --config "$D/seald.yaml" >>"$D/seald.log" 2>&1 &
	SEALD_PID=$!
	# Wait for this instance's own word, not for sockets an earlier one left.
	for _ in $(seq 100); do
		if [ "$(grep -c 'listening on' "$D/seald.log" 2>/dev/null)" -gt "${before:-0}" ] &&
			(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
			return 0
		fi
		kill -0 "$SEALD_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

seald_stop() {
	[ -n "${SEALD_PID:-}" ] || return 0
	kill "$SEALD_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$SEALD_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$SEALD_PID" 2>/dev/null
	wait "$SEALD_PID" 2>/dev/null
	SEALD_PID=
}

# appliance_unseal DIR: two admins enter their shares; then, unless
# TEST_ADMIN=0, the test's secadmin logs in (appliance_login).
appliance_unseal() {
	local D=$1
	"$BIN/sealadm" --config "$D/seald.yaml" unseal --share-file "$D/shares/sbx-test-share-1.txt" >/dev/null &&
	"$BIN/sealadm" --config "$D/seald.yaml" unseal --share-file "$D/shares/sbx-test-share-3.txt" >/dev/null &&
	if [ "${TEST_ADMIN:-1}" = 1 ]; then appliance_login "$D"; fi
}

# appliance_login DIR: the test's secadmin "testsec" (the first account,
# made on first use) logs in; sets ADM_CONFIG and ADM_SESSION for sealadm_as.
# Sessions live in the monitor's memory: log in again after every start.
appliance_login() {
	local D=$1 out
	ADM_CONFIG=$D/seald.yaml
	[ -f "$D/testsec.pass" ] || printf 'testsec passphrase %s\n' "$RANDOM$RANDOM" >"$D/testsec.pass"
	out=$("$BIN/sealadm" --config "$ADM_CONFIG" admin add --user testsec --role secadmin \
		--passphrase-fd 3 3<"$D/testsec.pass" 2>&1) ||
		grep -qE 'exists|login_required' <<<"$out" || { echo "$out" >&2; return 1; }
	ADM_SESSION=$("$BIN/sealadm" --config "$ADM_CONFIG" login --user testsec \
		--passphrase-fd 3 3<"$D/testsec.pass") || return 1
}

# sealadm_as ARGS...: sealadm ARGS as the logged-in test secadmin.
sealadm_as() {
	"$BIN/sealadm" --config "$ADM_CONFIG" --session-fd 9 "$@" 9<<<"$ADM_SESSION"
}

# appliance_demo_seal DIR: the demo client as a principal with a grant on demo-seal.
appliance_demo_seal() {
	local D=$1 A=sealadm_as
	$A principal add --cert "$D/clients/demo/client.pem" --name demo-erp >/dev/null &&
	$A seal create --id demo-seal --name "Demo Co. official seal" --type official \
		--key ec-p256 --image "$D/stamp.png" --unit demo >/dev/null &&
	$A grant add --seal demo-seal --principal demo-erp >/dev/null
}

# appliance_up DIR [YAML_EXTRA]: an appliance provisioned, started and
# unsealed in DIR; sets A (sealadm as the test secadmin), S1 and S2 (two admins' share files).
# Ends the script when that fails.
appliance_up() {
	D=$1
	mkdir -p "$D"
	appliance_provision "$D" "${2:-}" || { nok "a development appliance can be provisioned"; exit 1; }
	seald_start "$D" || { nok "seald starts"; cat "$D/seald.log"; exit 1; }
	appliance_unseal "$D" || { nok "unseal"; exit 1; }
	A=sealadm_as
	S1=$D/shares/sbx-test-share-1.txt
	S2=$D/shares/sbx-test-share-2.txt
}

# enrol_clients WHO...: a client certificate for each WHO in $D/clients/WHO.
enrol_clients() {
	local who
	for who in "$@"; do
		"$BIN/sealprov" enrol --config "$D/seald.yaml" --cn "$who" --out-dir "$D/clients/$who" \
			"$D/shares/sbx-test-share-1.txt" "$D/shares/sbx-test-share-2.txt" >/dev/null 2>&1 ||
			nok "enrol a certificate for $who"
	done
}

# drive WHAT SCENARIO ARGS...: the real sealadm of $D's appliance on a
# pseudo-terminal, driven by console.exp's SCENARIO; ok when it passes.
drive() {
	local what=$1 out
	shift
	if out=$(command expect -f "$TOP/tests/integration/console.exp" "$BIN/sealadm" \
		"${DRIVE_CONFIG:-$D/seald.yaml}" "$@" 2>&1); then
		ok "$what"
	else
		nok "$what"
		sed 's/^/#   /' <<<"$out" | head -20
	fi
}

# cert WHO: the client certificate of WHO (enrol_clients).
cert() { echo "$D/clients/$1/client.pem"; }

# sign_body HEX [NAME]: the JSON body of a sign request for a sha256 digest.
sign_body() {
	printf '{"digest":{"alg":"sha256","value":"%s"},"document_name":"%s"}' "$1" "${2:-doc.pdf}"
}

# mkpdf OUT PAGES: a plain PDF of PAGES A4 pages with a line of text each,
# written by qpdf (so its cross-reference table is right) with a classic xref.
mkpdf() {
	local out=$1 n=$2 i p c kids="" font=$((3 + $2 * 2))
	{
		echo "%PDF-1.7"
		echo "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj"
		for i in $(seq "$n"); do kids="$kids $((3 + (i - 1) * 2)) 0 R"; done
		echo "2 0 obj << /Type /Pages /Kids [$kids ] /Count $n >> endobj"
		for i in $(seq "$n"); do
			p=$((3 + (i - 1) * 2)); c=$((p + 1))
			echo "$p 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]" \
				"/Resources << /Font << /F1 $font 0 R >> >> /Contents $c 0 R >> endobj"
			s="BT /F1 24 Tf 72 700 Td (Contract page $i) Tj ET"
			echo "$c 0 obj << /Length ${#s} >> stream"
			echo "$s"
			echo "endstream endobj"
		done
		echo "$font 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj"
		echo "trailer << /Root 1 0 R /Size $((font + 1)) >>"
		echo "%%EOF"
	} >"$out.raw"
	qpdf --object-streams=disable "$out.raw" "$out" 2>/dev/null
	rm -f "$out.raw"
	[ -s "$out" ]
}
