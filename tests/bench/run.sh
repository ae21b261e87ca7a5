#!/usr/bin/env bash
# Benchmarks: raw HSM signing rate through the HSM layer (build/bench/hsmbench).
#   BUILD=build BENCH_SECONDS=3 tests/bench/run.sh
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
bin=$BUILD/bench/hsmbench
if [ ! -x "$bin" ]; then
	echo "$bin is missing: run 'make all' first" >&2
	exit 1
fi
echo "# $(nproc) CPUs; SoftHSM $(dpkg-query -W -f='${Version}' softhsm2 2>/dev/null || echo '?')"
"$bin"
