#!/bin/bash
# rootfs/build.sh — the Sealbox appliance image (docs/appliance.md).
#
#   BUILD=build-img rootfs/build.sh        (or: make BUILD=build-img image)
#
# Builds, as root, a Debian bookworm minbase tree with only what seald needs
# at run time, Sealbox installed into it and the hardening of appliance/image/
# applied, then writes into $BUILD/image/:
#   vmlinuz, initrd.img   the kernel and a MODULES=list initramfs that mounts
#                         root.squashfs read-only (appliance/image/initramfs/)
#   root.squashfs         the root file system, lz4
#   data.img              an empty (unprovisioned) data disk, ext4
#   manifest.txt          every package and version; SHA-256 of every Sealbox file
# The tree itself is kept in $BUILD/image/root for inspection; it is rebuilt
# from scratch on every run. MIRROR and SECURITY_MIRROR override the archives
# (default: the ones apt uses here).
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
OUT=$B/image
R=$OUT/root
IMG=$TOP/appliance/image
SUITE=bookworm
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
PREFIX=/usr/local

say() { printf 'image: %s\n' "$*"; }
die() { printf 'image: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"
for t in debootstrap mksquashfs mkfs.ext4 ldd dpkg-query; do
	command -v "$t" >/dev/null || die "$t missing: make deps"
done

# debootstrap mounts /proc and /sys inside the tree while it configures; a
# build cut short must not leave them (nor ours) behind.
unmount_tree() {
	local m
	for m in "$R/dev/pts" "$R/dev" "$R/sys" "$R/proc"; do
		if mountpoint -q "$m" 2>/dev/null; then umount -l "$m" || true; fi
	done
	for m in "$R/dev/pts" "$R/dev" "$R/sys" "$R/proc"; do
		! mountpoint -q "$m" 2>/dev/null || die "$m is still mounted: not removing $R"
	done
}
trap unmount_tree EXIT

# ---- what the programs link --------------------------------------------

# The packages that ship the shared libraries seald, sealadm, sealprov and
# sealctl load, as this host's dpkg knows them (same release as the image).
runtime_libs() {
	local f lib
	for f in seald sealadm sealprov sealctl; do
		ldd "$B/$f" | awk '/=> \//{print $3}'
	done | sort -u | while read -r lib; do
		dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" ||
			{ echo "no package ships $lib" >&2; echo "MISSING"; }
	done | cut -d: -f1 | sort -u
}

say "building Sealbox into $BUILD"
make -C "$TOP" --no-print-directory BUILD="$BUILD" \
	"$BUILD/seald" "$BUILD/sealadm" "$BUILD/sealprov" "$BUILD/sealctl" >/dev/null
# The binaries are built here and copied into the image: same release only.
. /etc/os-release
[ "${VERSION_CODENAME:-}" = "$SUITE" ] ||
	die "this host is ${VERSION_CODENAME:-unknown}, the image $SUITE: build on $SUITE"
for f in seald sealadm sealprov sealctl; do
	! ldd "$B/$f" | grep -q 'not found' ||
		die "$f loads a library this host does not have: $(ldd "$B/$f" | grep 'not found')"
done
LIBS=$(runtime_libs)
case $LIBS in *MISSING*) die "a library the programs load is in no package" ;; esac
LIBS=$(tr '\n' ',' <<<"$LIBS")
# udev: /dev/disk/by-label for the data disk and module autoloading;
# kmod: modprobe for nf_tables; initramfs-tools only to make initrd.img.
# acpid: the power button (ACPI shutdown) without D-Bus and logind.
# poppler-utils: pdftotext, which seald's text helper runs on each PDF to seal.
# rsyslog: the journal forwarded to the sysadmin's syslog servers.
PKGS="systemd,systemd-sysv,systemd-timesyncd,udev,kmod,softhsm2,nftables,acpid,poppler-utils,rsyslog,initramfs-tools,${LIBS%,}"

# ---- the base tree -------------------------------------------------------

unmount_tree
rm -rf --one-file-system "$R"
mkdir -p "$OUT"
rm -f "$OUT"/{vmlinuz,initrd.img,root.squashfs,data.img,manifest.txt}
say "debootstrap --variant=minbase $SUITE from $MIRROR"
# The archive's Release file must verify against Debian's keys (plain http).
debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
	--include="$PKGS" "$SUITE" "$R" "$MIRROR" \
	>"$OUT/debootstrap.log" 2>&1 || { tail -n 20 "$OUT/debootstrap.log" >&2; die "debootstrap failed"; }

in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"; }

# The initramfs is configured before the kernel arrives, so that the
# kernel's postinst makes the one we want (and only once).
install -d "$R/etc/initramfs-tools/conf.d" "$R/etc/initramfs-tools/scripts/local-bottom"
install -m 0644 "$IMG/initramfs/sealbox.conf" "$R/etc/initramfs-tools/conf.d/sealbox"
install -m 0644 "$IMG/initramfs/modules" "$R/etc/initramfs-tools/modules"
install -m 0755 "$IMG/initramfs/sealbox-var" "$R/etc/initramfs-tools/scripts/local-bottom/sealbox-var"

say "installing the kernel (and making the initramfs)"
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
# debootstrap takes one suite; the point releases' updates and the security
# archive come now, before the kernel, so that the image has their fixes.
{
	printf 'deb %s %s main\n' "$MIRROR" "$SUITE"
	printf 'deb %s %s-updates main\n' "$MIRROR" "$SUITE"
	printf 'deb %s %s-security main\n' "$SECURITY_MIRROR" "$SUITE"
} >"$R/etc/apt/sources.list"
{
	in_root apt-get update -qq &&
	in_root env DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq &&
	in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		linux-image-amd64
} >"$OUT/kernel.log" 2>&1 || { tail -n 20 "$OUT/kernel.log" >&2; die "kernel install failed"; }
KVER=$(basename "$(ls -d "$R"/lib/modules/*)")
cp "$R/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
cp "$R/boot/initrd.img-$KVER" "$OUT/initrd.img"

# ---- Sealbox and its hardening --------------------------------------------

say "installing Sealbox ($PREFIX)"
make -C "$TOP" --no-print-directory install DESTDIR="$R" BUILD="$BUILD" PREFIX="$PREFIX" >/dev/null
"$TOP/rootfs/install-appliance.sh" "$R"

# ---- what an appliance does not carry -------------------------------------

say "removing what the appliance does not need"
# initramfs-tools did its job; the kernel package depends on it, which is why
# --force-depends (nothing in the image runs apt or dpkg).
in_root dpkg --purge --force-depends initramfs-tools initramfs-tools-core \
	klibc-utils libklibc busybox cpio zstd >>"$OUT/kernel.log" 2>&1 ||
	die "cannot remove initramfs-tools and its helpers (see $OUT/kernel.log)"
# Kernel modules an appliance never loads: sound, graphics, video capture,
# radios. Less to load by accident or by an attacker, a smaller image.
M=$R/lib/modules/$KVER/kernel
rm -rf "$M/sound" "$M/drivers/gpu" "$M/drivers/media" "$M/drivers/net/wireless" \
	"$M/drivers/bluetooth" "$M/drivers/staging" "$M/drivers/infiniband" "$M/drivers/iio" \
	"$M/drivers/input/joystick" "$M/drivers/input/touchscreen" "$M/drivers/video/fbdev" \
	"$M/net/wireless" "$M/net/mac80211" "$M/net/bluetooth" "$M/net/nfc" "$M/drivers/nfc"
in_root depmod -a "$KVER"
rm -f "$R"/boot/vmlinuz-* "$R"/boot/initrd.img-* "$R"/boot/System.map-* "$R"/boot/config-*
rm -f "$R"/vmlinuz* "$R"/initrd.img*
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/* "$R"/var/cache/debconf/*-old \
	"$R"/var/log/* "$R"/usr/share/doc "$R"/usr/share/man "$R"/usr/share/info \
	"$R"/usr/local/share/man "$R"/etc/initramfs-tools "$R"/usr/share/lintian "$R"/usr/share/linda "$R"/usr/share/bug "$R"/usr/lib/locale/* \
	"$R"/var/lib/dpkg/*-old "$R"/tmp/* "$R"/var/tmp/* "$R"/etc/resolv.conf
find "$R/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
rm -f "$R/etc/apt/sources.list"
# A transient machine id, made at every boot (the root is read-only).
: >"$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"

# Nothing the image must not have.
for bad in gcc cc cpp make sshd ssh dropbear busybox nc socat python3 wget curl; do
	if in_root sh -c "command -v $bad" >/dev/null 2>&1; then die "the image has $bad"; fi
done

# ---- outputs --------------------------------------------------------------

say "manifest"
{
	echo "# Sealbox appliance image manifest"
	echo "# built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $SUITE, $SUITE-updates ($MIRROR) and $SUITE-security ($SECURITY_MIRROR); kernel $KVER"
	echo "# packages (dpkg-query)"
	dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' |
		awk '$1 ~ /^i/ {print "package", $2, $3}'
	echo "# Sealbox files (sha256)"
	(cd "$R" && find ./usr/local ./etc/sealbox ./etc/systemd/system ./etc/nftables.conf ./etc/rsyslog.conf \
		./etc/sysctl.d ./etc/systemd/coredump.conf.d ./etc/systemd/journald.conf.d \
		./etc/systemd/network ./etc/systemd/logind.conf.d ./etc/systemd/timesyncd.conf.d \
		./etc/security/limits.d ./etc/fstab ./etc/softhsm ./etc/acpi/events \
		-type f 2>/dev/null | sort | sed 's|^\./|/|' |
		while read -r f; do printf 'sha256 %s  %s\n' "$(sha256sum <".$f" | cut -d' ' -f1)" "$f"; done)
	echo "# boot files (sha256)"
	for f in vmlinuz initrd.img; do
		printf 'sha256 %s  %s\n' "$(sha256sum <"$OUT/$f" | cut -d' ' -f1)" "$f"
	done
	echo "# kernel command line"
	echo "cmdline $(cat "$IMG/cmdline")"
} >"$OUT/manifest.txt"

say "root.squashfs (lz4)"
mksquashfs "$R" "$OUT/root.squashfs" -comp lz4 -noappend -quiet -no-progress >/dev/null

say "data.img (empty, unprovisioned)"
EMPTY=$OUT/data-empty
rm -rf "$EMPTY"
"$TOP/rootfs/mkdata.sh" --empty "$EMPTY" "$OUT/data.img"
rm -rf "$EMPTY"

say "done: $(cd "$OUT" && ls -sh vmlinuz initrd.img root.squashfs data.img manifest.txt | tr '\n' ' ')"
