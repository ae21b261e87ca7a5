#!/usr/bin/env bash
# Invariant 6 on the real seald, with the monitor's seccomp filter on: real
# faults, not mocks. (a) The ledger's directory is a small tmpfs that is then
# filled: signing stops with 503 ledger_unavailable, health says degraded,
# and once space is freed signing resumes by itself. (b) The SoftHSM token
# directory is moved away: 503 hsm_unavailable, degraded; moved back, health
# turns ready and signing resumes by itself (the monitor reconnects:
# C_Finalize, C_Initialize, login). (c) Both again under four concurrent
# clients. Throughout, the same monitor process serves (no restart, nothing
# killed by its filter); at the end the ledger verifies and holds every
# signature that was handed out. No timing assertions: every wait is a
# bounded poll for an outcome.

# The tmpfs goes in a mount namespace of our own, so that it disappears with
# the script whatever happens (re-exec before lib.sh makes its directory).
if [ -z "${SB_FAULTS_NS:-}" ] && [ "$(id -u)" = 0 ] &&
	unshare --mount --propagation private true 2>/dev/null; then
	SB_FAULTS_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

D=$T/a
LD=$D/state/ledger
mkdir -p "$D"
faults_cleanup() {
	[ -n "${SEALD_PID:-}" ] && kill -9 "$SEALD_PID" 2>/dev/null
	[ -d "$D/hsm/tokens.away" ] && mv "$D/hsm/tokens.away" "$D/hsm/tokens"
	mountpoint -q "$LD" 2>/dev/null && umount -l "$LD"
	cleanup
}
trap faults_cleanup EXIT

appliance_provision "$D" || { nok "a development appliance can be provisioned"; exit 1; }
# The ledger on its own small file system (the monitor makes state/ledger at
# start; here it is made first). 8 MiB: room for what this test writes.
mkdir -p "$LD"
if mount -t tmpfs -o size=8m,mode=0700 sbx-ledger "$LD" 2>/dev/null; then
	TMPFS=1
else
	TMPFS=
fi
seald_start "$D" || { nok "seald starts"; cat "$D/seald.log"; exit 1; }
appliance_unseal "$D" && appliance_demo_seal "$D" || { nok "unseal and demo seal"; exit 1; }
MON=$(pgrep -P "$SEALD_PID" -x seald-monitor)
grep -qE '^Seccomp:[[:space:]]+2$' "/proc/$MON/status" &&
	ok "the monitor runs under its seccomp filter (Seccomp: 2) for all that follows" ||
	nok "the monitor has no seccomp filter ($(grep Seccomp "/proc/$MON/status"))"

mkdir -p "$T/resp"
n=0
# sign_one: one sign request for a fresh digest; its answer in $T/resp/$n.json,
# the HTTP status in $code.
sign_one() {
	local h
	n=$((n + 1))
	h=$(printf 'faults %s' "$n" | sha256sum | cut -d' ' -f1)
	code=$(curl $C -o "$T/resp/$n.json" -w '%{http_code}' -H 'Content-Type: application/json' \
		-d "$(sign_body "$h" "fault-$n.pdf")" "$URL/v1/seals/demo-seal/sign")
	echo "$code" >"$T/resp/$n.code"
}
# sign_until STATUS ERRCODE TRIES: sign until the answer is STATUS with error
# code ERRCODE ("" for none), at most TRIES requests 0.2 s apart.
sign_until() {
	local want=$1 err=$2 i
	for i in $(seq "$3"); do
		sign_one
		if [ "$code" = "$want" ] && { [ -z "$err" ] ||
			grep -q "\"code\":\"$err\"" "$T/resp/$n.json"; }; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}
last() { echo "got $code: $(head -c 300 "$T/resp/$n.json")"; }
health() { curl $C "$URL/v1/health"; }
same_monitor() { [ "$(pgrep -P "$SEALD_PID" -x seald-monitor)" = "$MON" ]; }

sign_until 200 "" 5 && ok "signing works before any fault" || nok "signing before the faults ($(last))"

# --- (a) the disk under the ledger fills up -------------------------------------------
if [ -z "$TMPFS" ]; then
	ok "# SKIP cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): no disk-full test"
else
	# Fill every last block: big writes first, then small ones.
	dd if=/dev/zero of="$LD/filler" bs=64k 2>/dev/null
	dd if=/dev/zero of="$LD/filler2" bs=512 2>/dev/null
	# LMDB may still place a commit or two in pages freed by earlier ones.
	if sign_until 503 ledger_unavailable 40; then
		ok "with the ledger's disk full, signing is refused: 503 ledger_unavailable"
	else
		nok "disk full: no 503 ledger_unavailable ($(last))"
	fi
	sign_one
	[ "$code" = 503 ] && grep -q '"code":"ledger_unavailable"' "$T/resp/$n.json" &&
		ok "and refused again while it stays full" || nok "disk still full ($(last))"
	st=$(health)
	grep -q '"state":"degraded"' <<<"$st" && grep -q '"reason":"ledger:[^"]*No space left' <<<"$st" &&
		ok "GET /v1/health says degraded, and why (the ledger: no space left)" ||
		nok "health while the disk is full: $st"
	rm -f "$LD/filler" "$LD/filler2"
	sign_until 200 "" 25 &&
		ok "space freed: signing resumes by itself, no restart" ||
		nok "signing after freeing space ($(last))"
	st=$(health)
	grep -q '"state":"ready"' <<<"$st" && ok "health is ready again" || nok "health after recovery: $st"
	same_monitor && ok "the same monitor process, under its filter, recovered" ||
		nok "the monitor was replaced ($(grep 'monitor exited' "$D/seald.log"))"
fi

# --- (b) the HSM goes away ----------------------------------------------------------------
# The token's files vanish under the running monitor, as when a device is
# unplugged. Moving the directory works for root too (chmod would not bite).
mv "$D/hsm/tokens" "$D/hsm/tokens.away"
if sign_until 503 hsm_unavailable 25; then
	ok "with the token gone, signing is refused: 503 hsm_unavailable"
else
	nok "token gone: no 503 hsm_unavailable ($(last))"
fi
st=$(health)
grep -q '"state":"degraded"' <<<"$st" && grep -q '"reason":"[^"]*C_[A-Za-z]*' <<<"$st" &&
	ok "GET /v1/health says degraded, and why (the PKCS#11 call that failed)" ||
	nok "health while the token is gone: $st"
sign_one
[ "$code" = 503 ] && grep -q '"code":"hsm_unavailable"' "$T/resp/$n.json" &&
	ok "and refused again while it stays gone (reconnect attempts fail)" ||
	nok "token still gone ($(last))"
mv "$D/hsm/tokens.away" "$D/hsm/tokens"
# No request needed: the monitor probes a failing HSM once a second.
for _ in $(seq 50); do
	st=$(health)
	grep -q '"state":"ready"' <<<"$st" && break
	sleep 0.2
done
grep -q '"state":"ready"' <<<"$st" &&
	ok "token back: health turns ready by itself, before any request (reconnect, log in again)" ||
	nok "health after the HSM came back: $st"
sign_until 200 "" 25 &&
	ok "token back: signing resumes, no restart" ||
	nok "signing after the token came back ($(last))"
same_monitor && grep -qE '^Seccomp:[[:space:]]+2$' "/proc/$MON/status" &&
	ok "the same monitor process, still under its filter, reconnected" ||
	nok "the monitor was replaced or lost its filter ($(grep 'monitor exited' "$D/seald.log"))"

# --- (c) both again, under load ----------------------------------------------------------
# Four clients sign continuously while each fault comes and goes, so that
# faults hit group commits of several entries and a reconnect waits for
# signers holding the key. Every answer must be a signature or the fault's
# 503: nothing else (no 500, no dropped connection).
mkdir -p "$T/load"
echo 0 >"$T/load/phase"
# load_worker W: sign until told to stop; each answer is logged in
# load/wW.log as "PHASE STATUS ERRCODE", PHASE being the one the request was
# sent in. After a refusal it waits a little, so that a failing appliance is
# not hammered by a tight loop.
load_worker() {
	local w=$1 i=0 h c e p
	while [ ! -e "$T/load/stop" ] && [ "$i" -lt 2000 ]; do
		i=$((i + 1))
		h=$(printf 'load %s %s' "$w" "$i" | sha256sum | cut -d' ' -f1)
		p=$(cat "$T/load/phase")
		c=$(curl $C -o "$T/resp/L$w-$i.json" -w '%{http_code}' -H 'Content-Type: application/json' \
			-d "$(sign_body "$h" "load-$w-$i.pdf")" "$URL/v1/seals/demo-seal/sign" 2>/dev/null)
		echo "$c" >"$T/resp/L$w-$i.code"
		e=$(grep -oE '"code":"[a-z_]+"' "$T/resp/L$w-$i.json" 2>/dev/null | head -n1 | cut -d'"' -f4)
		echo "$p $c ${e:--}" >>"$T/load/w$w.log"
		[ "$c" = 200 ] || sleep 0.05
	done
}
# next_phase: later requests belong to a new phase (renamed into place, so
# that a worker never reads a half-written number).
next_phase() {
	echo $(($(cat "$T/load/phase") + 1)) >"$T/load/phase.new" && mv "$T/load/phase.new" "$T/load/phase"
}
# wait_seen "STATUS ERRCODE": poll (at most 15 s) until a request sent in the
# current phase got that answer ("200 -" is a signature).
wait_seen() {
	local p
	p=$(cat "$T/load/phase")
	for _ in $(seq 75); do
		cat "$T"/load/w*.log 2>/dev/null | grep -q "^$p $1\$" && return 0
		sleep 0.2
	done
	return 1
}
workers=
for w in 1 2 3 4; do
	load_worker "$w" &
	workers="$workers $!"
done
next_phase
wait_seen "200 -" && ok "under load: four clients are being served" || nok "under load: no signature"
if [ -n "$TMPFS" ]; then
	dd if=/dev/zero of="$LD/filler" bs=64k 2>/dev/null
	dd if=/dev/zero of="$LD/filler2" bs=512 2>/dev/null
	next_phase
	wait_seen "503 ledger_unavailable" && ok "under load, a full disk: 503 ledger_unavailable" ||
		nok "under load, disk full: no ledger_unavailable"
	rm -f "$LD/filler" "$LD/filler2"
	next_phase
	wait_seen "200 -" && ok "under load, space freed: signatures flow again" ||
		nok "under load, after freeing space: no signature"
fi
mv "$D/hsm/tokens" "$D/hsm/tokens.away"
next_phase
wait_seen "503 hsm_unavailable" && ok "under load, the token gone: 503 hsm_unavailable" ||
	nok "under load, token gone: no hsm_unavailable"
mv "$D/hsm/tokens.away" "$D/hsm/tokens"
next_phase
wait_seen "200 -" && ok "under load, the token back: signatures flow again" ||
	nok "under load, token back: no signature"
touch "$T/load/stop"
wait $workers
others=$(cat "$T"/load/w*.log | grep -vE '^[0-9]+ (200 -|503 ledger_unavailable|503 hsm_unavailable)$')
nload=$(cat "$T"/load/w*.log | wc -l)
[ -z "$others" ] && ok "under load, each of $nload answers was a signature or the fault's 503" ||
	nok "under load, other answers: $(head -5 <<<"$others")"
same_monitor && ok "the same monitor process served the whole load" ||
	nok "the monitor was replaced ($(grep 'monitor exited' "$D/seald.log"))"

# --- what was handed out is in the ledger -------------------------------------------------
# The ledger's signature entries as "seq signature_digest" lines, page by page
# (a page stops at 2 MiB). An entry's keys are stored sorted, so its own
# "seq" comes right before its "signature_digest".
start=0
: >"$T/ledger.txt"
for _ in $(seq 1000); do
	curl $C -o "$T/page.json" "$URL/v1/ledger/entries?start=$start&count=1000"
	grep -oE '"seq":[0-9]+|"signature_digest":"[0-9a-f]{64}"' "$T/page.json" >"$T/page.txt"
	[ -s "$T/page.txt" ] || break
	awk -F'[:"]+' '/^"seq/ { s = $3 } /^"signature_digest/ { print s, $3 }' \
		"$T/page.txt" >>"$T/ledger.txt"
	start=$(($(grep -oE '"seq":[0-9]+' "$T/page.txt" | tail -n1 | cut -d: -f2) + 1))
done
max=-1 got=0 missing=
for f in "$T"/resp/*.code; do
	[ "$(cat "$f")" = 200 ] || continue
	j=${f%.code}.json
	s=$(sed -E 's/.*"seq":([0-9]+).*/\1/' "$j")
	dg=$(sed -E 's/.*"cms":"([^"]*)".*/\1/' "$j" | base64 -d | sha256sum | cut -d' ' -f1)
	grep -qx "$s $dg" "$T/ledger.txt" || missing="$missing $(basename "$j" .json)"
	got=$((got + 1))
	[ "$s" -gt "$max" ] && max=$s
done
[ "$got" -gt 0 ] && [ -z "$missing" ] &&
	ok "each of the $got signatures handed out is in the ledger at its seq, with its digest" ||
	nok "signatures handed out: $got; not in the ledger:$missing"
# A tree head over all of them (made once a second while the ledger grows).
for _ in $(seq 50); do
	size=$(curl $C "$URL/v1/ledger/sth" | sed -E 's/.*"tree_size":([0-9]+).*/\1/')
	[ "${size:-0}" -gt "$max" ] 2>/dev/null && break
	sleep 0.2
done
expect "sealctl ledger verify: the ledger written through both faults is VALID" 0 "ledger: VALID" -- \
	"$BIN/sealctl" --server "127.0.0.1:$PORT" --cert "$D/clients/demo/client.pem" \
	--key "$D/clients/demo/client.key" --ca "$D/state/ca.pem" ledger verify \
	--audit-cert "$D/state/audit.pem"
! grep -q 'monitor exited' "$D/seald.log" && kill -0 "$SEALD_PID" 2>/dev/null &&
	ok "seald ran through both faults without losing a process" ||
	nok "seald: $(grep -E 'exited|fatal' "$D/seald.log" | head -3)"
exit 0
