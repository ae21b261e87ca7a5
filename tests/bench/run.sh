#!/usr/bin/env bash
# Benchmarks (what `make bench` runs), all on this machine in one run:
#  1. raw HSM signing rate through the HSM layer (hsmbench, 1 and 2 threads);
#  2. durable ledger appends (ledgerbench, 1 and 16 threads);
#  3. seald end to end: a throwaway appliance (tests/integration/lib.sh), the
#     real daemon, and sealbench, an mTLS load generator with keep-alive
#     connections: the plumbing alone (GET /v1/health), a short sweep of
#     monitor.workers, a closed loop at the best setting, then an open loop
#     at 80% of that rate for its p99;
#  4. a summary: the ceiling is the raw rate / 2, because a CAdES-B-T seal
#     costs two HSM signatures (the seal and its timestamp token).
#
#   BUILD=build tests/bench/run.sh
# Knobs (environment): BENCH_SECONDS (micro benchmarks, 3), BENCH_SEAL_SECONDS
# (closed and open loop, 10), BENCH_SWEEP_SECONDS (4), BENCH_WORKERS (the
# monitor.workers values to sweep, "8 16 32 64"), BENCH_CONNS (32),
# BENCH_THREADS (sealbench threads, 2). Takes about 90 s with the defaults.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
S=${BENCH_SECONDS:-3}
SEAL_S=${BENCH_SEAL_SECONDS:-10}
SWEEP_S=${BENCH_SWEEP_SECONDS:-4}
WORKERS=${BENCH_WORKERS:-8 16 32 64}
CONNS=${BENCH_CONNS:-32}
THREADS=${BENCH_THREADS:-2}

for b in bench/hsmbench bench/ledgerbench bench/sealbench seald sealadm sealprov tools/mkstamp; do
	if [ ! -x "$BUILD/$b" ]; then
		echo "$BUILD/$b is missing: run 'make all' first" >&2
		exit 1
	fi
done

# field LABEL TEXT: the first word after LABEL at the start of a line of TEXT.
field() { awk -v k="$1" 'index($0, k) == 1 { split(substr($0, length(k) + 1), a, " "); print a[1]; exit }' <<<"$2"; }

echo "# machine: $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1));" \
	"SoftHSM $(dpkg-query -W -f='${Version}' softhsm2 2>/dev/null || echo '?');" \
	"$(openssl version | cut -d' ' -f1-2); load average $(cut -d' ' -f1-3 /proc/loadavg)"

echo "## raw HSM signing rate: PKCS#11 C_Sign through the HSM layer, ECDSA P-256"
hsm=$(BENCH_SECONDS=$S "$BUILD/bench/hsmbench")
echo "$hsm"
raw=$(awk '/sig\/s/ { v = $(NF - 1) + 0; if (v > m) m = v } END { print m + 0 }' <<<"$hsm")

echo "## ledger: durable appends (group commit)"
BENCH_SECONDS=$S BENCH_THREADS=1,16 "$BUILD/bench/ledgerbench"

echo "## seald end to end: keep-alive mTLS clients, 32-byte digests, ECDSA P-256 seal"
. tests/integration/lib.sh	# $T (removed on exit), appliance_* and seald_*
# lib.sh's clean-up was not written for errexit (its pkill finds nothing).
trap 'set +e; cleanup' EXIT
D=$T/bench
mkdir -p "$D"
if ! appliance_provision "$D" >"$T/provision.log" 2>&1; then
	echo "cannot provision a throwaway appliance:" >&2
	cat "$T/provision.log" >&2
	exit 1
fi
# The knobs go last in seald.yaml, so that they can be cut off and rewritten.
knobs() {
	sed -i '/^# bench knobs/,$d' "$D/seald.yaml"
	printf '# bench knobs\nmonitor:\n  workers: %s\n' "$1" >>"$D/seald.yaml"
}
# restart WORKERS: seald with monitor.workers=WORKERS, unsealed.
restart() {
	seald_stop || true
	knobs "$1"
	if ! seald_start "$D" || ! appliance_unseal "$D"; then
		echo "seald did not start and unseal (monitor.workers=$1):" >&2
		tail -n 20 "$D/seald.log" >&2
		exit 1
	fi
}
restart 8
if ! appliance_demo_seal "$D"; then
	echo "cannot create the demo seal and grant" >&2
	exit 1
fi
SB=("$BUILD/bench/sealbench" -u "https://127.0.0.1:$PORT" --cert "$D/clients/demo/client.pem"
	--key "$D/clients/demo/client.key" --ca "$D/state/ca.pem" -t "$THREADS")

echo "### plumbing alone: GET /v1/health (TLS, HTTP, IPC; no HSM, no ledger), $CONNS connections"
out=$("${SB[@]}" -c "$CONNS" -d 3 --get /v1/health) || true
echo "$out"
plumbing=$(field "requests/s:" "$out")

echo "### monitor.workers sweep: closed loop, $CONNS connections, ${SWEEP_S} s each"
best_w=8
best=0
for w in $WORKERS; do
	restart "$w"
	out=$("${SB[@]}" -c "$CONNS" -d "$SWEEP_S" --seal demo-seal) || true
	r=$(field "requests/s:" "$out")
	echo "monitor.workers=$w: ${r:-?} seals/s, $(grep '^latency' <<<"$out"), $(grep '^errors' <<<"$out")"
	if [ "${r:-0}" -gt "$best" ]; then
		best=$r
		best_w=$w
	fi
done

echo "### closed loop: monitor.workers=$best_w, $CONNS connections, $THREADS threads, $SEAL_S s"
restart "$best_w"
closed=$("${SB[@]}" -c "$CONNS" -d "$SEAL_S" --seal demo-seal) || true
echo "$closed"
rate=$(field "requests/s:" "$closed")
rate=${rate:-0}

target=$(awk -v r="$rate" 'BEGIN { printf "%d", r * 0.8 }')
oconns=$((CONNS * 2))
echo "### open loop at 80% of that: $target seals/s offered, $oconns connections, $SEAL_S s"
if [ "$target" -ge 1 ]; then
	open=$("${SB[@]}" -c "$oconns" -d "$SEAL_S" -r "$target" --seal demo-seal) || true
	echo "$open"
else
	open=
fi
seald_stop || true

echo "## summary"
ceiling=$(awk -v r="$raw" 'BEGIN { printf "%d", r / 2 }')
echo "raw HSM rate: $raw sig/s (best of 1 and 2 threads)"
echo "ceiling: $ceiling seals/s (raw rate / 2 HSM signatures per CAdES-B-T seal)"
echo "plumbing (GET /v1/health): ${plumbing:-?} requests/s"
echo "seal requests/s through seald: $rate (monitor.workers=$best_w, $CONNS keep-alive connections)"
echo "closed-loop latency ms: $(sed -n 's/^latency ms: //p' <<<"$closed")"
awk -v r="$rate" -v c="$ceiling" 'BEGIN { printf "ratio seals/ceiling: %.2f (target 0.85)\n", (c > 0 ? r / c : 0) }'
echo "p99 at 80% load: $(sed -n 's/^latency ms: .*p99 \([0-9.]*\).*/\1/p' <<<"$open") ms at $target seals/s offered, $(field "requests/s:" "$open") done (target < 10 ms)"
