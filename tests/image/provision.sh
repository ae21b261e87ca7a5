#!/bin/bash
# tests/image/provision.sh T — provision a Sealbox data disk's contents on the
# host, for tests/image/boot.sh (which runs this inside
# `unshare --mount --net --pid --fork`: nothing it mounts or starts outlives it).
#
# The guest sees its data disk at /var/lib/sealbox, and seald keeps absolute
# paths (the config's, SoftHSM's token dir). So the staging dir T/stage is
# bind-mounted at /var/lib/sealbox in this private mount namespace (over a
# tmpfs on /var/lib: the host's own /var/lib is neither seen nor touched), and
# every path written here is the one the guest will use. The private network
# namespace lets seald bind 0.0.0.0:443 as in the guest without meeting the
# host's ports; /run is a private tmpfs for the admin socket.
#
# Leaves: T/stage (the future /var/lib/sealbox), T/shares (the three shares,
# never on the data disk), T/clients/demo (the demo client's certificate),
# T/*.pass (the console admins' passphrases).
set -euo pipefail

T=${1:?usage: provision.sh T}
BIN=${BIN:?}
MODULE=/usr/lib/softhsm/libsofthsm2.so
V=/var/lib/sealbox
Y=$V/etc/seald.yaml
P=$BIN/sealprov
ADM=$BIN/sealadm

mount -t tmpfs -o mode=0755 tmpfs /var/lib
mkdir -m 0700 $V
mount --bind "$T/stage" $V
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -m 0700 /run/sealbox
ip link set lo up

install -d -m 0700 $V/hsm/tokens
install -d -m 0755 $V/etc $V/etc/tls
# The guest's /etc/softhsm/softhsm2.conf says the same (appliance/image/etc).
printf 'directories.tokendir = %s/hsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
	$V >"$T/softhsm2.conf"
export SOFTHSM2_CONF=$T/softhsm2.conf

# write_yaml NET_USER: the appliance's configuration; the host run uses the
# host's "nobody", the guest its own sealnet user.
write_yaml() {
	cat >$Y <<EOC
# /etc/sealbox/seald.yaml — provisioned by tests/image/provision.sh
appliance:
  id: sbx-img
  state_dir: $V
hsm:
  module: $MODULE
  token: sealbox
quorum:
  shares: 3
  threshold: 2
listen:
  address: 0.0.0.0
  port: 443
tls:
  certificate: $V/etc/tls/server.pem
  key: $V/etc/tls/server.key
  client_ca: $V/etc/tls/clients-ca.pem
  crl: $V/etc/tls/clients.crl
admin_socket: /run/sealbox/admin.sock
net:
  user: $1
# The test guest has no NTP server (the firewall lets NTP out, but the test
# network reaches none): a development setting, never on a real appliance.
time:
  require_sync: false
EOC
}
write_yaml nobody

S1=$T/shares/sbx-img-share-1.txt
S3=$T/shares/sbx-img-share-3.txt
"$P" ceremony --config $Y --share-dir "$T/shares" >/dev/null
"$P" appliance-init --config $Y "$S1" "$S3" >/dev/null
"$P" tls-server --config $Y --cn localhost --san DNS:localhost,IP:127.0.0.1 \
	--out-dir $V/etc/tls "$S1" "$S3" >/dev/null
"$P" enrol --config $Y --cn demo-erp --out-dir "$T/clients/demo" "$S1" "$S3" >/dev/null
"$P" revoke --config $Y --out $V/etc/tls/clients.crl "$S1" "$S3" >/dev/null
cp $V/ca.pem $V/etc/tls/clients-ca.pem
cp $V/ca.pem "$T/ca.pem"
"$BIN/tools/mkstamp" "$T/stamp.png" 160

# seald, briefly, for what lives in its LMDB: console accounts, the demo
# client as a principal, a seal and a grant.
"$BIN/seald" --config $Y >"$T/provision-seald.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	[ -S /run/sealbox/admin.sock ] && break
	kill -0 $pid 2>/dev/null || { cat "$T/provision-seald.log" >&2; exit 1; }
	sleep 0.1
done
"$ADM" --config $Y unseal --share-file "$S1" >/dev/null
"$ADM" --config $Y unseal --share-file "$S3" >/dev/null
for u in secadm sysadm auditor; do
	printf '%s passphrase %s%s\n' "$u" "$RANDOM$RANDOM" "$RANDOM" >"$T/$u.pass"
done
# The first account needs no session and must be a secadmin.
"$ADM" --config $Y admin add --user secadm --role secadmin --passphrase-fd 3 3<"$T/secadm.pass" >/dev/null
session=$("$ADM" --config $Y login --user secadm --passphrase-fd 3 3<"$T/secadm.pass")
as_sec() { "$ADM" --config $Y --session-fd 9 "$@" 9<<<"$session"; }
"$ADM" --config $Y admin add --user sysadm --role sysadmin --passphrase-fd 3 --session-fd 9 \
	3<"$T/sysadm.pass" 9<<<"$session" >/dev/null
"$ADM" --config $Y admin add --user auditor --role auditor --passphrase-fd 3 --session-fd 9 \
	3<"$T/auditor.pass" 9<<<"$session" >/dev/null
as_sec principal add --cert "$T/clients/demo/client.pem" --name demo-erp >/dev/null
as_sec seal create --id demo-seal --name "Demo Co. official seal" --type official \
	--key ec-p256 --image "$T/stamp.png" --unit demo >/dev/null
as_sec grant add --seal demo-seal --principal demo-erp >/dev/null
"$ADM" --config $Y logout --session-fd 9 9<<<"$session" >/dev/null || true
kill -TERM $pid
for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then echo "seald did not stop" >&2; exit 1; fi
wait $pid || true

write_yaml sealnet
# Nothing of the host run that the guest must not inherit.
rm -f $V/seald.log
echo "provisioned"
