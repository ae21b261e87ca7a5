#!/bin/bash
# tests/image/boot.sh — boots the appliance image in QEMU and uses it as a
# business system and two administrators would (make image-test; as root).
#
# 1. A data disk provisioned on the host (tests/image/provision.sh, in a
#    private mount/net/pid namespace): token, ceremony, TLS, a demo client,
#    three console accounts, a demo seal with a grant; then rootfs/mkdata.sh.
# 2. QEMU (TCG: KVM hangs here) boots $BUILD/image/{vmlinuz,initrd.img,
#    root.squashfs} with that disk; the API's port 443 forwarded to loopback;
#    the serial console on a Unix socket, logged to serial.log.
# 3. From the host: health says sealed, a sign request gets 503 sealed.
# 4. At the serial console (expect): two admins log in in turn and unseal.
# 5. From the host: sealctl seals a file; openssl cms -verify accepts it.
# 6. QEMU's monitor sends an ACPI power-button press (system_powerdown: the
#    menu's item is firstboot.sh's); the guest powers off, and its data
#    disk was unmounted cleanly.
# Prints TAP lines; a failed step attaches the tail of serial.log. Leaves no
# process and no mount behind. KEEP_T=1 keeps the work dir.
set -u
BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
case $BUILD in /*) BIN=$BUILD ;; *) BIN=$TOP/$BUILD ;; esac
IMG=$BIN/image
BOOT_TIMEOUT=${BOOT_TIMEOUT:-240}
umask 077
T=$(mktemp -d "${TMPDIR:-/tmp}/sbx-img-XXXXXX")
QEMU_PID=
PASSED=0
FAILED=0

cleanup() {
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill "$QEMU_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$QEMU_PID" 2>/dev/null
	fi
	[ -n "$QEMU_PID" ] && wait "$QEMU_PID" 2>/dev/null
	if [ -n "${KEEP_T:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "ok - $*"; PASSED=$((PASSED + 1)); }
nok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }
serial_tail() {
	echo "#   serial.log (last 30 lines):"
	tr -d '\r' <"$T/serial.log" 2>/dev/null | tail -n 30 | sed 's/^/#   | /'
}
# A failure after which nothing else can be checked.
bail() {
	nok "$*"
	serial_tail
	finish
}
finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ]
	exit
}

for f in vmlinuz initrd.img root.squashfs; do
	[ -s "$IMG/$f" ] || bail "the image exists ($IMG/$f missing: make image)"
done
for t in qemu-system-x86_64 socat expect curl openssl unshare mkfs.ext4 dumpe2fs; do
	command -v "$t" >/dev/null || bail "$t is installed (make deps)"
done
t0=$(date +%s)

# ---- 1. a provisioned data disk ---------------------------------------------
mkdir -p "$T/stage"
if BIN=$BIN unshare --fork --pid --mount-proc --mount --net --propagation private \
	"$TOP/tests/image/provision.sh" "$T" >"$T/provision.log" 2>&1; then
	ok "a data disk's contents are provisioned on the host (ceremony, TLS, accounts, a seal)"
else
	nok "provisioning on the host"
	sed 's/^/#   | /' "$T/provision.log" | tail -n 20
	finish
fi
"$TOP/rootfs/mkdata.sh" "$T/stage" "$T/data.img" 256M >"$T/mkdata.log" 2>&1 ||
	bail "mkfs.ext4 -d makes the data disk"
ok "the data disk is an ext4 image made without a mount"

# ---- 2. boot --------------------------------------------------------------------
PORT=
for _ in $(seq 50); do
	p=$((10000 + RANDOM % 22000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT=$p; break; fi
done
[ -n "$PORT" ] || bail "a free port on loopback"
qemu-system-x86_64 -accel tcg -smp 2 -m 1024 -nographic -no-reboot \
	-kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" \
	-append "$(cat "$TOP/appliance/image/cmdline")" \
	-drive "file=$IMG/root.squashfs,format=raw,if=virtio,readonly=on" \
	-drive "file=$T/data.img,format=raw,if=virtio" \
	-nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$PORT-:443" \
	-chardev "socket,id=s0,path=$T/ser.sock,server=on,wait=off,logfile=$T/serial.log" \
	-serial chardev:s0 \
	-monitor "unix:$T/mon.sock,server=on,wait=off" \
	</dev/null >"$T/qemu.log" 2>&1 &
QEMU_PID=$!

# Ready: the API answers (seald up, firewall open on 443) and the console
# shows its login prompt.
CURL="curl --silent --show-error --max-time 20 --cert $T/clients/demo/client.pem
	--key $T/clients/demo/client.key --cacert $T/ca.pem"
URL=https://127.0.0.1:$PORT
health=
while :; do
	kill -0 "$QEMU_PID" 2>/dev/null || { cat "$T/qemu.log"; bail "QEMU keeps running"; }
	[ $(($(date +%s) - t0)) -lt "$BOOT_TIMEOUT" ] || bail "the guest boots and seald answers within ${BOOT_TIMEOUT}s"
	if grep -q 'login: ' "$T/serial.log" 2>/dev/null &&
		health=$($CURL "$URL/v1/health" 2>/dev/null); then
		break
	fi
	sleep 2
done
ok "the image boots to seald and the serial console in $(($(date +%s) - t0))s (TCG)"

# ---- 3. sealed ------------------------------------------------------------------
if grep -q '"sealed"' <<<"$health"; then
	ok "GET /v1/health over the forwarded port says sealed"
else
	nok "GET /v1/health says sealed"; echo "#   got: $health"; serial_tail
fi
digest=$(printf 'contract 42' | openssl dgst -sha256 -r | cut -d' ' -f1)
body=$(printf '{"digest":{"alg":"sha256","value":"%s"},"document_name":"c42.txt"}' "$digest")
out=$($CURL -o "$T/sign.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data "$body" "$URL/v1/seals/demo-seal/sign" 2>&1)
if [ "$out" = 503 ] && grep -q '"sealed"' "$T/sign.json"; then
	ok "POST /v1/seals/demo-seal/sign on the sealed appliance gets 503 sealed"
else
	nok "sign while sealed gets 503 sealed"; echo "#   got: $out $(cat "$T/sign.json" 2>/dev/null)"
	serial_tail
fi

# ---- 4. unseal at the serial console -----------------------------------------
if expect -f "$TOP/tests/image/console.exp" "$T/ser.sock" "$T" >"$T/console.tap" 2>&1; then
	cat "$T/console.tap"
	PASSED=$((PASSED + $(grep -c '^ok - ' "$T/console.tap")))
else
	cat "$T/console.tap"
	PASSED=$((PASSED + $(grep -c '^ok - ' "$T/console.tap")))
	FAILED=$((FAILED + 1))
	serial_tail
fi

# The passphrases and shares typed were not echoed (patterns from files, not argv).
{
	head -n 1 "$T/secadm.pass"
	head -n 1 "$T/sysadm.pass"
	for n in 1 3; do grep -v '^#' "$T/shares/sbx-img-share-$n.txt" | grep -v '^[[:space:]]*$' | head -n 1; done
} >"$T/secrets.pat"
if [ "$(grep -c . "$T/secrets.pat")" = 4 ] && ! grep -qaF -f "$T/secrets.pat" "$T/serial.log"; then
	ok "no passphrase and no share typed at the console appears in its output"
else
	nok "no passphrase and no share appears in the console's output"
fi
rm -f "$T/secrets.pat"

# ---- 5. seal a file over the API -------------------------------------------------
cat >"$T/client.yaml" <<EOC
server: 127.0.0.1:$PORT
cert: $T/clients/demo/client.pem
key: $T/clients/demo/client.key
ca: $T/ca.pem
timeout: 30
EOC
doc=$T/contract.txt
echo "Contract 42: the parties agree." >"$doc"
if out=$(HOME=$T SEALCTL_CONFIG=$T/client.yaml "$BIN/sealctl" sign --seal demo-seal "$doc" 2>&1) &&
	grep -qE '^sealed .*contract.txt: seq [0-9]+$' <<<"$out"; then
	ok "sealctl seals a file through the forwarded port ($out)"
else
	nok "sealctl seals a file"; echo "#   got: $out"; serial_tail
fi
if openssl cms -verify -binary -inform DER -in "$doc.p7s" -content "$doc" -CAfile "$T/ca.pem" \
	-purpose any -out /dev/null >"$T/verify.log" 2>&1; then
	ok "openssl cms -verify accepts the appliance's seal"
else
	nok "openssl cms -verify accepts the seal"; sed 's/^/#   | /' "$T/verify.log"
fi

# ---- 6. power off -----------------------------------------------------------------
printf 'system_powerdown\n' | socat - "UNIX-CONNECT:$T/mon.sock" >/dev/null 2>&1
for _ in $(seq 120); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 1; done
if kill -0 "$QEMU_PID" 2>/dev/null; then
	nok "the guest powers off on an ACPI power-button press within 120s"; serial_tail
else
	wait "$QEMU_PID" 2>/dev/null
	QEMU_PID=
	ok "the guest powers off on an ACPI power-button press (QEMU system_powerdown)"
	if dumpe2fs -h "$T/data.img" 2>/dev/null | grep -qE '^Filesystem state: +clean$' &&
		! dumpe2fs -h "$T/data.img" 2>/dev/null | grep -q needs_recovery; then
		ok "the data disk was unmounted cleanly"
	else
		nok "the data disk was unmounted cleanly"
		dumpe2fs -h "$T/data.img" 2>&1 | grep -E 'state|features' | sed 's/^/#   | /'
	fi
fi
echo "# image-test took $(($(date +%s) - t0))s"
finish
