#!/usr/bin/env bash
# `make run`: a development appliance under ./run/, provisioned on first use.
#
# DEVELOPMENT ONLY. The shares are written to ./run/shares/ so that one person
# can unseal; on a real appliance each share goes to a different admin and is
# never stored on the box.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUN=$PWD/run
P=$PWD/$BUILD/sealprov

mkdir -p "$RUN/hsm/tokens"
chmod 700 "$RUN"
export SOFTHSM2_CONF=$RUN/hsm/softhsm2.conf
if [ ! -f "$SOFTHSM2_CONF" ]; then
	printf 'directories.tokendir = %s/hsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$RUN" >"$SOFTHSM2_CONF"
fi
if [ ! -f "$RUN/seald.yaml" ]; then
	cat >"$RUN/seald.yaml" <<EOC
# Development appliance made by \`make run\`.
appliance:
  id: sbx-dev
  state_dir: $RUN/state
hsm:
  module: /usr/lib/softhsm/libsofthsm2.so
  token: sealbox-dev
quorum:
  shares: 3
  threshold: 2
listen:
  address: 127.0.0.1
  port: 8443
admin_socket: $RUN/admin.sock
EOC
fi
if [ ! -f "$RUN/state/custody.json" ]; then
	echo "== provisioning a development appliance in ./run (first use)"
	"$P" ceremony --config "$RUN/seald.yaml" --share-dir "$RUN/shares"
	"$P" keygen --config "$RUN/seald.yaml" --type ec-p256 --label demo-seal \
		"$RUN/shares/sbx-dev-share-1.txt" "$RUN/shares/sbx-dev-share-2.txt"
fi
echo "== development appliance sbx-dev (config ./run/seald.yaml, SOFTHSM2_CONF=./run/hsm/softhsm2.conf)"
echo "== unsealing with shares 1 and 2 of 3 and listing the token's keys"
"$P" keys --config "$RUN/seald.yaml" "$RUN/shares/sbx-dev-share-1.txt" "$RUN/shares/sbx-dev-share-2.txt"
