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
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT

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
