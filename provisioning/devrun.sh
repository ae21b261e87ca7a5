#!/usr/bin/env bash
# `make run`: a development appliance under ./run/, provisioned on first use,
# then seald in the foreground on 127.0.0.1:8443, unsealed with two shares.
#
# DEVELOPMENT ONLY. The shares are written to ./run/shares/ so that one person
# can unseal; on a real appliance each share goes to a different admin and is
# never stored on the box. Likewise the three console admins' passphrases are
# written to ./run/admins/. The development config also trusts an
# unsynchronised clock (time.require_sync: false), which production must not.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUN=$PWD/run
B=$PWD/$BUILD
CFG=$RUN/seald.yaml
S1=$RUN/shares/sbx-dev-share-1.txt
S2=$RUN/shares/sbx-dev-share-2.txt

mkdir -p "$RUN/hsm/tokens"
chmod 700 "$RUN"
export SOFTHSM2_CONF=$RUN/hsm/softhsm2.conf
if [ ! -f "$SOFTHSM2_CONF" ]; then
	printf 'directories.tokendir = %s/hsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$RUN" >"$SOFTHSM2_CONF"
fi
if [ ! -f "$CFG" ]; then
	cat >"$CFG" <<EOC
# Development appliance made by \`make run\`.
appliance:
  id: sbx-dev
  state_dir: $RUN/state
hsm:
  module: /usr/lib/softhsm/libsofthsm2.so
  token: sealbox-dev
  token_dir: $RUN/hsm/tokens
quorum:
  shares: 3
  threshold: 2
listen:
  address: 127.0.0.1
  port: 8443
tls:
  certificate: $RUN/tls/server.pem
  key: $RUN/tls/server.key
  client_ca: $RUN/state/ca.pem
  crl: $RUN/state/clients.crl
admin_socket: $RUN/admin.sock
time:
  require_sync: false    # development only: these machines' clocks report unsynchronised
EOC
fi

first=0
if [ ! -f "$RUN/state/custody.json" ]; then
	first=1
	echo "== provisioning a development appliance in ./run (first use)"
	"$B/sealprov" ceremony --config "$CFG" --share-dir "$RUN/shares"
	"$B/sealprov" appliance-init --config "$CFG" "$S1" "$S2"
	"$B/sealprov" tls-server --config "$CFG" --cn localhost --san DNS:localhost,IP:127.0.0.1 \
		--out-dir "$RUN/tls" "$S1" "$S2"
	"$B/sealprov" enrol --config "$CFG" --cn demo-erp --org "Demo Co." \
		--out-dir "$RUN/clients/demo" "$S1" "$S2"
	"$B/sealprov" revoke --config "$CFG" "$S1" "$S2"
	"$B/tools/mkstamp" "$RUN/stamp.png" 240
	# A one-page contract to try PDF sealing on (qpdf writes its xref).
	s="BT /F1 18 Tf 72 760 Td (Demo contract) Tj 0 -30 Td (Signed for Demo Co.:) Tj ET"
	printf '%s\n' "%PDF-1.7" "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj" \
		"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj" \
		"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >> endobj" \
		"4 0 obj << /Length ${#s} >> stream" "$s" "endstream endobj" \
		"5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj" \
		"trailer << /Root 1 0 R /Size 6 >>" "%%EOF" >"$RUN/contract.raw"
	qpdf "$RUN/contract.raw" "$RUN/contract.pdf" 2>/dev/null || [ -s "$RUN/contract.pdf" ]
	rm -f "$RUN/contract.raw"
	cp "$RUN/state/ca.pem" "$RUN/ca.pem"
	cat >"$RUN/client.yaml" <<EOC
server: 127.0.0.1:8443
cert: $RUN/clients/demo/client.pem
key: $RUN/clients/demo/client.key
ca: $RUN/ca.pem
EOC
fi

"$B/seald" --config "$CFG" &
SEALD=$!
trap 'kill $SEALD 2>/dev/null; wait $SEALD 2>/dev/null' EXIT INT TERM
for _ in $(seq 100); do
	[ -S "$RUN/admin.sock" ] && break
	kill -0 $SEALD 2>/dev/null || exit 1
	sleep 0.1
done
echo "== unsealing: two administrators enter their shares"
"$B/sealadm" --config "$CFG" unseal --share-file "$S1"
"$B/sealadm" --config "$CFG" unseal --share-file "$S2"
if [ $first = 1 ]; then
	echo "== the three console administrators (passphrases in ./run/admins/)"
	mkdir -p -m 700 "$RUN/admins"
	for a in dev-sec:secadmin dev-sys:sysadmin dev-aud:auditor; do
		u=${a%%:*}
		(umask 077 && openssl rand -base64 18 >"$RUN/admins/$u.pass")
		if [ "$u" = dev-sec ]; then
			"$B/sealadm" --config "$CFG" admin add --user "$u" --role "${a#*:}" \
				--passphrase-fd 3 3<"$RUN/admins/$u.pass" >/dev/null
			SESSION=$("$B/sealadm" --config "$CFG" login --user dev-sec \
				--passphrase-fd 3 3<"$RUN/admins/dev-sec.pass")
		else
			"$B/sealadm" --config "$CFG" admin add --user "$u" --role "${a#*:}" \
				--passphrase-fd 3 --session-fd 4 3<"$RUN/admins/$u.pass" 4<<<"$SESSION" >/dev/null
		fi
	done
	echo "== registering the demo business system and the demo seal (as dev-sec)"
	as_sec() { "$B/sealadm" --config "$CFG" --session-fd 4 "$@" 4<<<"$SESSION"; }
	as_sec principal add --cert "$RUN/clients/demo/client.pem" --name demo-erp
	as_sec seal create --id demo-seal --name "Demo Co. official seal" \
		--type official --key ec-p256 --image "$RUN/stamp.png" --unit demo
	as_sec grant add --seal demo-seal --principal demo-erp
	"$B/sealadm" --config "$CFG" logout --session-fd 4 4<<<"$SESSION" >/dev/null
	unset SESSION
fi

cat <<EOM

== seald is running on https://127.0.0.1:8443 (Ctrl-C stops it)

Seal a file with sealctl:
    export SEALCTL_CONFIG=$RUN/client.yaml
    $B/sealctl sign --seal demo-seal README.md        # writes README.md.p7s
    $B/sealctl verify README.md README.md.p7s
    $B/sealctl sign-pdf --seal demo-seal --x 380 --y 620 --width 120 $RUN/contract.pdf
    pdfsig $RUN/contract-sealed.pdf                  # trust the CA: docs/pdf.md

Seal a file with curl:
    cd $RUN
    C="--cert clients/demo/client.pem --key clients/demo/client.key --cacert ca.pem"
    sha=\$(sha256sum ../README.md | cut -d' ' -f1)
    curl \$C -H 'Content-Type: application/json' \\
      -d "{\"digest\":{\"alg\":\"sha256\",\"value\":\"\$sha\"},\"document_name\":\"README.md\"}" \\
      https://127.0.0.1:8443/v1/seals/demo-seal/sign
    curl \$C -H 'Content-Type: application/pdf' --data-binary @contract.pdf -o sealed.pdf \\
      -H 'Sealbox-Options: {"document_name":"contract.pdf","x":380,"y":620,"width":120}' \\
      https://127.0.0.1:8443/v1/seals/demo-seal/sign-pdf

Check the appliance: $B/sealadm --config $CFG status
The console menu:    $B/sealadm --config $CFG
    (admins dev-sec, dev-sys, dev-aud; their passphrases are in $RUN/admins/)
EOM
wait $SEALD
