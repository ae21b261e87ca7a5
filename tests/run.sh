#!/usr/bin/env bash
# Runs test suites and ends with one line: "N passed, N failed".
#
# Every suite (a unit-test binary, a shell script, a fuzz run) prints one line
# per case, "ok - what it pins down" or "not ok - what broke"; this script
# counts them. A suite that exits non-zero without a "not ok" line counts as
# one failure, so a crash is never a pass. Logs go to $BUILD/test-logs/.
#
#   tests/run.sh [all|layering|unit|asan|valgrind|integration|fuzz|image]
#
# "all" is `make check`: it builds the appliance image (rootfs/build.sh, as
# root) and boots it (tests/image/) in the background while the valgrind
# and fuzz suites run, each side about one core's work, and runs the
# integration suites, which time things, only once the image is done.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
mode=${1:-all}
logs=$BUILD/test-logs
mkdir -p "$logs"
pass=0
fail=0
failed=()

suite() {
	local name=$1 log rc p f
	shift
	log=$logs/$name.log
	mkdir -p "$(dirname "$log")"
	"$@" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc" >>"$log"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name ran no test" >>"$log"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	printf '%-34s %4d passed, %d failed\n' "$name" "$p" "$f"
	if [ "$f" -ne 0 ]; then
		failed+=("$name")
		grep -E '^not ok ' "$log" | head -n 20 | sed 's/^/    /'
		echo "    (log: $log; last lines follow)"
		tail -n 15 "$log" | sed 's/^/    | /'
	fi
}

run_layering() {
	suite layering tests/layering.sh
}

run_unit() {
	local t
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		suite "unit/$(basename "$t")" "$t"
	done
}

run_asan() {
	local t
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
	for t in "$BUILD"/asan/tests/test_*; do
		[ -x "$t" ] || continue
		suite "asan/$(basename "$t")" "$t"
	done
	unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
}

run_valgrind() {
	local t
	# Tests may run fewer iterations under valgrind; they read this.
	export SB_VALGRIND=1
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		suite "valgrind/$(basename "$t")" \
			valgrind -q --error-exitcode=99 --leak-check=full \
			--show-leak-kinds=definite,indirect,possible \
			--errors-for-leak-kinds=definite,indirect,possible \
			--suppressions=tests/valgrind.supp "$t"
	done
	unset SB_VALGRIND
}

run_integration() {
	local t
	for t in tests/integration/*.sh; do
		[ -f "$t" ] || continue
		case $(basename "$t") in lib.sh) continue ;; esac
		suite "integration/$(basename "$t" .sh)" env BUILD="$BUILD" bash "$t"
	done
}

fuzz_one() {
	local bin=$1 name corpus work
	name=$(basename "$bin")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
	if "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 "$work"; then
		echo "ok - $name ran $FUZZ_SECONDS s without a crash, leak or hang"
	else
		echo "not ok - $name found a failing input (see above)"
	fi
	rm -rf "$work"
}

run_fuzz() {
	local f
	for f in "$BUILD"/fuzz/fuzz_*; do
		[ -x "$f" ] || continue
		suite "fuzz/$(basename "$f")" fuzz_one "$f"
	done
}

# The image is built and booted as root (debootstrap, chroot); otherwise
# through sudo, as `make deps` installs packages. exec: the process signalled
# is the command (or sudo, which passes a signal on), not a shell.
as_root() {
	if [ "$(id -u)" = 0 ]; then exec "$@"; else exec sudo -n "$@"; fi
}
root_build() {
	local rc
	# debootstrap and apt have no time limit of their own; a mirror that
	# stops answering must not hold `make check` for ever.
	(as_root env BUILD="$BUILD" timeout 1500 rootfs/build.sh)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "ok - rootfs/build.sh made the image"
	else
		echo "not ok - rootfs/build.sh failed (status $rc$([ "$rc" = 124 ] && echo ': timed out'))"
	fi
	return "$rc"
}
root_test() {
	(as_root env BUILD="$BUILD" "$1")
}

run_image() {
	suite image/build root_build
	suite image/firstboot root_test tests/image/firstboot.sh
	suite image/boot root_test tests/image/boot.sh
}

# For "all": the image suites as a run of their own (tests/run.sh image), in
# a session of their own so that every process of it, QEMU and debootstrap
# included, can be stopped together; its lines and counts are taken over by
# image_collect. Each side is about one core's work.
IMAGE_PID=
# The whole session: timeout(1) puts build.sh in a process group of its own.
trap '[ -z "$IMAGE_PID" ] || pkill -TERM -s "$IMAGE_PID" 2>/dev/null' EXIT
image_start() {
	local out=$logs/image-run.out

	rm -f "$out"
	setsid env BUILD="$BUILD" bash tests/run.sh image >"$out" 2>&1 </dev/null &
	IMAGE_PID=$!
}
image_collect() {
	local out=$logs/image-run.out rc p f line

	wait "$IMAGE_PID"
	rc=$?
	IMAGE_PID=
	line=$(tail -n 1 "$out" 2>/dev/null)
	if [[ "$line" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		p=${BASH_REMATCH[1]}
		f=${BASH_REMATCH[2]}
	else
		p=0
		f=0
	fi
	grep -v -e '^$' -e '^failed suites: ' -e '^[0-9]* passed, [0-9]* failed$' "$out"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - the image run ended with status $rc (log: $out)"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	if [ "$f" -ne 0 ]; then
		line=$(sed -n 's/^failed suites: //p' "$out")
		# shellcheck disable=SC2206
		failed+=(${line:-image})
	fi
}

case $mode in
all)
	run_layering
	run_unit
	run_asan
	image_start
	run_valgrind
	run_fuzz
	image_collect
	run_integration
	;;
layering|unit|asan|valgrind|integration|fuzz|image) "run_$mode" ;;
*) echo "usage: $0 [all|layering|unit|asan|valgrind|integration|fuzz|image]" >&2; exit 2 ;;
esac

echo
if [ ${#failed[@]} -gt 0 ]; then
	echo "failed suites: ${failed[*]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
