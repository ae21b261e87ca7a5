#!/bin/bash
# rootfs/mkdata.sh [--empty] DIR OUT [SIZE] — the appliance's data disk.
#
# DIR is the future /var/lib/sealbox: the state (LMDB ledger and policy), the
# SoftHSM token store hsm/tokens, and etc/ (seen as /etc/sealbox in the
# image: seald.yaml, the TLS files). OUT gets an ext4 file system labelled
# sealbox-data (what /etc/fstab mounts) of SIZE (default 256M) holding DIR,
# made by mkfs.ext4 -d: no mount, no loop device. Owners and modes are kept.
# --empty first makes DIR an unprovisioned layout (an empty etc/).
set -euo pipefail

empty=0
if [ "${1:-}" = --empty ]; then empty=1; shift; fi
DIR=${1:?usage: mkdata.sh [--empty] DIR OUT [SIZE]}
OUT=${2:?usage: mkdata.sh [--empty] DIR OUT [SIZE]}
SIZE=${3:-256M}

if [ "$empty" = 1 ]; then
	install -d -m 0700 "$DIR" "$DIR/hsm" "$DIR/hsm/tokens"
	install -d -m 0755 "$DIR/etc"
fi
[ -d "$DIR" ] || { echo "mkdata: $DIR: no such directory" >&2; exit 1; }
chmod 0700 "$DIR"
rm -f "$OUT"
mkfs.ext4 -q -F -L sealbox-data -m 0 -d "$DIR" "$OUT" "$SIZE"
