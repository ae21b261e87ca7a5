#!/usr/bin/env bash
# PDF sealing through the real seald: POST /v1/seals/{seal}/sign-pdf and
# sealctl sign-pdf, a PAdES-B-T signature by the HSM key with the appliance's
# timestamp, checked by poppler's pdfsig (trusting the appliance CA through an
# NSS database), qpdf --check, openssl ts -verify and the pixels of a
# pdftoppm rendering; the ledger holds the input's and the output's digests;
# bad documents get 422 and the daemon keeps serving.
. "$(dirname "$0")/lib.sh"

appliance_up "$T/a" "pdf:
  location: Head office, Beijing
  max_size: 200000"
# A seal image whose pixels are easy to tell: left quarter transparent, rest red.
"$BIN/tools/pdfsign" mkpng "$D/red.png" 200 100 || nok "a test image"
$A principal add --cert "$D/clients/demo/client.pem" --name demo-erp >/dev/null &&
	$A seal create --id demo-seal --name "Demo Co. contract seal" --type contract \
		--key ec-p256 --image "$D/red.png" --unit demo >/dev/null &&
	$A seal create --id legal-rep --name "Legal representative" --type legal-representative \
		--key rsa-3072 --image "$D/stamp.png" --unit demo >/dev/null &&
	$A seal create --id buyer --name "Buyer Ltd. contract seal" --type contract \
		--key ec-p384 --image "$D/stamp.png" --unit demo >/dev/null &&
	$A grant add --seal demo-seal --principal demo-erp >/dev/null &&
	$A grant add --seal legal-rep --principal demo-erp >/dev/null &&
	$A grant add --seal buyer --principal demo-erp >/dev/null ||
	nok "principal, three seals and grants"
CTL="$BIN/sealctl --server 127.0.0.1:$PORT --cert $D/clients/demo/client.pem --key $D/clients/demo/client.key --ca $D/state/ca.pem"
mkdir -p "$T/nss"
certutil -N -d "sql:$T/nss" --empty-password >/dev/null 2>&1 &&
	certutil -A -d "sql:$T/nss" -n root -t 'C,C,' -i "$D/state/ca.pem" >/dev/null 2>&1 ||
	nok "an NSS database trusting the appliance CA"

# sign_pdf IN OUT OPTIONS_JSON [SEAL]: curl; the HTTP status on stdout, headers in OUT.h.
sign_pdf() {
	curl $C -o "$2" -D "$2.h" -w '%{http_code}' -H 'Content-Type: application/pdf' \
		-H "Sealbox-Options: $3" --data-binary "@$1" "$URL/v1/seals/${4:-demo-seal}/sign-pdf"
}

# pdfsig_ok FILE N: N signatures, each valid and trusted, the last one total.
pdfsig_ok() {
	local out
	out=$(pdfsig -nssdir "sql:$T/nss" "$1" 2>&1)
	[ "$(grep -c 'Signature Validation: Signature is Valid.' <<<"$out")" -eq "$2" ] &&
		[ "$(grep -c 'Certificate Validation: Certificate is Trusted.' <<<"$out")" -eq "$2" ] &&
		grep -A20 "^Signature #$2:" <<<"$out" | grep -q 'Total document signed' &&
		grep -q 'ETSI.CAdES.detached' <<<"$out" || { sed 's/^/#   | /' <<<"$out" | head -40; return 1; }
}

# red_at PDF PAGE X Y: the pixel at (X, Y) points from the lower left of the
# 595x842 page is red in a 72 dpi rendering; white_at the same for white.
pixel() {
	pdftoppm -r 72 -f "$2" -l "$2" "$1" "$T/render" >/dev/null 2>&1 &&
		"$BIN/tools/ppmpix" "$(ls "$T"/render*.ppm | head -n 1)" "$3" $((842 - $4)) &&
		rm -f "$T"/render*.ppm
}
red_at() { [ "$(pixel "$@")" = "255 0 0" ]; }
white_at() { [ "$(pixel "$@")" = "255 255 255" ]; }

mkpdf "$T/classic.pdf" 3 || nok "a test PDF"
qpdf --object-streams=generate "$T/classic.pdf" "$T/objstm.pdf" &&
	qpdf --linearize "$T/classic.pdf" "$T/linear.pdf" || nok "object-stream and linearized copies"

# --- one seal on each kind of file -------------------------------------------
OPT='{"document_name":"contract.pdf","page":2,"x":300,"y":100,"width":200,"reason":"Purchase contract 2026-114"}'
for kind in classic objstm linear; do
	st=$(sign_pdf "$T/$kind.pdf" "$T/$kind-s.pdf" "$OPT")
	if [ "$st" = 200 ] && pdfsig_ok "$T/$kind-s.pdf" 1; then
		ok "$kind: sealed; pdfsig: Signature is Valid, Certificate is Trusted, Total document signed"
	else
		nok "$kind: sealed and valid (status $st)"; head -c 400 "$T/$kind-s.pdf"; echo
	fi
	qpdf --check "$T/$kind-s.pdf" >/dev/null 2>&1 && ok "$kind: qpdf --check accepts the sealed file" ||
		nok "$kind: qpdf --check accepts the sealed file"
	cmp -n "$(stat -c %s "$T/$kind.pdf")" "$T/$kind.pdf" "$T/$kind-s.pdf" >/dev/null &&
		ok "$kind: the original bytes are kept as they were (incremental update)" ||
		nok "$kind: the original bytes are kept"
	# The seal image: red inside the rectangle (right of its transparent quarter),
	# the page's white outside it, on page 2 only.
	if red_at "$T/$kind-s.pdf" 2 450 150 && white_at "$T/$kind-s.pdf" 2 310 150 &&
		white_at "$T/$kind-s.pdf" 2 450 300 && white_at "$T/$kind-s.pdf" 1 450 150; then
		ok "$kind: the seal is drawn at the requested place on page 2, with its transparency"
	else
		nok "$kind: the seal at its place: $(pixel "$T/$kind-s.pdf" 2 450 150) / $(pixel "$T/$kind-s.pdf" 2 310 150)"
	fi
done

# --- the signature profile -------------------------------------------------------
( cd "$T" && rm -f classic-s.pdf.sig* && pdfsig -dump classic-s.pdf >/dev/null 2>&1 )
SIG=$(ls "$T"/classic-s.pdf.sig* 2>/dev/null | head -n 1)
if [ -n "$SIG" ] && openssl cms -cmsout -print -inform DER -in "$SIG" >"$T/cms.txt" 2>/dev/null; then
	# The signer's own signed attributes (the token's, printed later, have one).
	sed -n '/signedAttrs:/,/unsignedAttrs:/p' "$T/cms.txt" >"$T/signed.txt"
	grep -q 'messageDigest' "$T/signed.txt" && ! grep -q 'signingTime' "$T/signed.txt" &&
		ok "PAdES: no signing-time attribute (the time is /M and the token's)" ||
		nok "PAdES: no signing-time attribute"
	grep -q 'id-smime-aa-signingCertificateV2' "$T/cms.txt" &&
		grep -q 'id-smime-aa-timeStampToken' "$T/cms.txt" &&
		ok "PAdES: signing-certificate-v2 signed, the signature-time-stamp unsigned (B-T)" ||
		nok "PAdES: signing-certificate-v2 and the timestamp token"
	imprint=$("$BIN/tools/fmttool" token "$SIG" "$T/token.der" 2>/dev/null)
	openssl ts -verify -token_in -in "$T/token.der" -digest "$imprint" -CAfile "$D/state/ca.pem" \
		-untrusted "$D/state/tsa.pem" >/dev/null 2>&1 &&
		ok "openssl ts -verify accepts the token, over the signature value" ||
		nok "openssl ts -verify accepts the token"
else
	nok "pdfsig -dump gives the CMS"
fi
grep -aqE '/Reason ?\(Purchase contract 2026-114\)' "$T/classic-s.pdf" &&
	grep -aqE '/Location ?\(Head office, Beijing\)' "$T/classic-s.pdf" &&
	grep -aqE '/SubFilter ?/ETSI.CAdES.detached' "$T/classic-s.pdf" &&
	ok "/Reason from the request, /Location from the appliance config" ||
	nok "/Reason and /Location"

# --- the ledger ---------------------------------------------------------------------
seq=$(sed -n 's/^Sealbox-Ledger-Seq: \([0-9]*\).*/\1/p' "$T/classic-s.pdf.h")
curl $C -o "$T/led.json" "$URL/v1/ledger/entries?start=${seq:-0}&count=2"
in_sha=$(sha256sum "$T/classic.pdf" | cut -c1-64)
out_sha=$(sha256sum "$T/classic-s.pdf" | cut -c1-64)
jq -e --arg in "$in_sha" '.entries[0].entry | .action == "sign" and .profile == "pades" and
	.result == "ok" and .pdf.input_digest.value == $in and .pdf.page == 2 and
	.document_name == "contract.pdf" and (.cms | length) > 0' "$T/led.json" >/dev/null &&
	ok "the sign entry holds the profile, the input's SHA-256, the page and the CMS" ||
	nok "the sign entry of a PDF seal: $(head -c 600 "$T/led.json")"
jq -e --arg out "$out_sha" --argjson s "${seq:-0}" '.entries[1].entry |
	.action == "sign-pdf-output" and .sign_seq == $s and .output_digest.value == $out' \
	"$T/led.json" >/dev/null &&
	ok "the next entry holds the sealed PDF's SHA-256, before it was sent" ||
	nok "the output entry: $(head -c 600 "$T/led.json")"

sleep 1.2	# a tree head covering the entry
expect "the PDF seal's evidence bundle verifies offline" 0 "evidence: VALID" -- \
	sh -c "$CTL evidence ${seq:-0} -o $T/bundle.json >/dev/null && \
	$BIN/sealctl verify-evidence --trust $D/state/ca.pem $T/bundle.json"

# --- signatures in turn: earlier ones stay valid ---------------------------------------
st2=$(sign_pdf "$T/classic-s.pdf" "$T/two.pdf" \
	'{"document_name":"contract.pdf","page":3,"x":100,"y":100,"width":150}' legal-rep)
st3=$(sign_pdf "$T/two.pdf" "$T/three.pdf" \
	'{"document_name":"contract.pdf","page":1,"x":350,"y":600,"width":120}' buyer)
if [ "$st2" = 200 ] && [ "$st3" = 200 ] && pdfsig_ok "$T/two.pdf" 2 && pdfsig_ok "$T/three.pdf" 3; then
	ok "a legal representative's (RSA-3072) and a counterparty's (P-384) seal after the first: every earlier signature still valid"
else
	nok "three seals in turn ($st2, $st3)"
fi
qpdf --check "$T/three.pdf" >/dev/null 2>&1 && ok "qpdf --check accepts the thrice-sealed file" ||
	nok "qpdf --check accepts the thrice-sealed file"

# One byte changed inside the signed range: pdfsig says so (its exit code is 0 either way).
cp "$T/classic-s.pdf" "$T/tampered.pdf"
printf 'X' | dd of="$T/tampered.pdf" bs=1 seek=200 conv=notrunc 2>/dev/null
pdfsig -nssdir "sql:$T/nss" "$T/tampered.pdf" 2>&1 | grep -qE 'Digest Mismatch|Signature is Invalid' &&
	ok "one changed byte in a signed range: pdfsig reports the mismatch" ||
	nok "a changed byte is reported by pdfsig"

# --- a cross-page seal (骑缝章) over a 5-page contract ---------------------------------------
mkpdf "$T/five.pdf" 5 || nok "a 5-page PDF"
st=$(sign_pdf "$T/five.pdf" "$T/five-s.pdf" \
	'{"document_name":"five.pdf","cross_page":true,"y":400,"width":100}')
out=$(pdfsig -nssdir "sql:$T/nss" "$T/five-s.pdf" 2>&1)
if [ "$st" = 200 ] && grep -q 'Signature is Valid.' <<<"$out" && ! grep -q 'Invalid\|Mismatch' <<<"$out" &&
	qpdf --check "$T/five-s.pdf" >/dev/null 2>&1; then
	ok "a cross-page seal on 5 pages: one signature, valid, and qpdf --check accepts it"
else
	nok "a cross-page seal ($st): $(head -c 300 <<<"$out")"
fi
# The image (200 x 100 px, its left quarter transparent) is cut in 5 slices of
# 20 pt along the right edge at y 400-450: page 1's slice is all transparent.
if white_at "$T/five-s.pdf" 1 585 425 && red_at "$T/five-s.pdf" 3 585 425 &&
	red_at "$T/five-s.pdf" 4 585 425 && red_at "$T/five-s.pdf" 5 585 425 &&
	white_at "$T/five-s.pdf" 5 560 425 && white_at "$T/five-s.pdf" 5 585 470; then
	ok "a cross-page seal: one slice at the right edge of each page, in order"
else
	nok "cross-page slices: p1 $(pixel "$T/five-s.pdf" 1 585 425), p5 $(pixel "$T/five-s.pdf" 5 585 425)"
fi

# --- sealctl ------------------------------------------------------------------------------
expect "sealctl sign-pdf writes FILE-sealed.pdf and prints the ledger seq" 0 \
	"^sealed .*objstm.pdf into .*objstm-sealed.pdf: seq [0-9]+" -- \
	$CTL sign-pdf --seal demo-seal --page 1 --x 50 --y 50 --width 100 --reason "合同盖章" \
	"$T/objstm.pdf"
pdfsig_ok "$T/objstm-sealed.pdf" 1 && pdfsig -nssdir "sql:$T/nss" "$T/objstm-sealed.pdf" 2>&1 |
	grep -q 'Signer full Distinguished Name' && ok "sealctl's sealed PDF verifies" ||
	nok "sealctl's sealed PDF verifies"
expect "sealctl sign-pdf: an option out of range is the appliance's 400" 1 \
	"bad_request: width: a number of points" -- \
	$CTL sign-pdf --seal demo-seal --x 50 --y 50 --width 0 -o "$T/x.pdf" "$T/classic.pdf"
expect "sealctl sign-pdf: a page past the end is refused with the page count" 1 \
	"pdf_bad_page: .*3 page" -- \
	$CTL sign-pdf --seal demo-seal --page 9 --x 50 --y 50 --width 100 -o "$T/x.pdf" "$T/classic.pdf"

# --- bad requests and bad documents -------------------------------------------------------
bad() {	# bad WHAT STATUS CODE IN [OPTIONS] [CTYPE]
	local st
	st=$(curl $C -o "$T/err.json" -w '%{http_code}' -H "Content-Type: ${6:-application/pdf}" \
		${5:+-H "Sealbox-Options: $5"} --data-binary "@$4" "$URL/v1/seals/demo-seal/sign-pdf")
	if [ "$st" = "$2" ] && jq -e --arg c "$3" '.error.code == $c and (.error.message | length) > 10' \
		"$T/err.json" >/dev/null; then
		ok "$1: $2 $3"
	else
		nok "$1: wanted $2 $3, got $st $(head -c 300 "$T/err.json")"
	fi
}
O='{"document_name":"x.pdf","x":10,"y":10,"width":50}'
echo "just some text, not a PDF" >"$T/text.pdf"
head -c $(($(stat -c %s "$T/classic.pdf") / 2)) "$T/classic.pdf" >"$T/cut.pdf"
qpdf --encrypt user owner 256 -- "$T/classic.pdf" "$T/enc.pdf"
sed 's/startxref/startxerf/' "$T/classic.pdf" >"$T/badxref.pdf"
head -c 250000 /dev/zero >"$T/big.pdf"
bad "not a PDF" 422 pdf_not_pdf "$T/text.pdf" "$O"
bad "a truncated PDF" 422 pdf_damaged "$T/cut.pdf" "$O"
bad "an encrypted PDF" 422 pdf_encrypted "$T/enc.pdf" "$O"
bad "a PDF whose xref qpdf would have to rebuild" 422 pdf_damaged "$T/badxref.pdf" "$O"
bad "a PDF over pdf.max_size" 413 too_large "$T/big.pdf" "$O"
bad "no Sealbox-Options header" 400 bad_request "$T/classic.pdf" ""
bad "options that are not JSON" 400 bad_json "$T/classic.pdf" "{nope"
bad "an unknown option" 400 bad_request "$T/classic.pdf" '{"document_name":"x.pdf","x":1,"y":1,"width":9,"colour":"red"}'
bad "no width" 400 bad_request "$T/classic.pdf" '{"document_name":"x.pdf","x":1,"y":1}'
bad "a rectangle off the page" 400 pdf_bad_placement "$T/classic.pdf" '{"document_name":"x.pdf","x":590,"y":10,"width":100}'
bad "JSON where a PDF is expected" 415 unsupported_media_type "$T/classic.pdf" "$O" application/json
st=$(sign_pdf "$T/classic.pdf" "$T/x.pdf" "$O" nope-seal)
[ "$st" = 404 ] && jq -e '.error.code == "unknown_seal"' "$T/x.pdf" >/dev/null &&
	ok "an unknown seal: 404 unknown_seal" || nok "an unknown seal: $st $(head -c 200 "$T/x.pdf")"
st=$(sign_pdf "$T/classic.pdf" "$T/ok.pdf" "$O")
[ "$st" = 200 ] && pdfsig_ok "$T/ok.pdf" 1 && ok "after every bad document the daemon still seals PDFs" ||
	nok "sealing after the bad documents ($st)"

# A principal without a grant on the seal does not see it: 404, as GET /v1/seals/{seal}.
enrol_clients carol
$A principal add --cert "$D/clients/carol/client.pem" --name carol >/dev/null ||
	nok "carol is a principal"
st=$(curl --silent --cert "$D/clients/carol/client.pem" --key "$D/clients/carol/client.key" \
	--cacert "$D/state/ca.pem" -o "$T/x.json" -w '%{http_code}' -H 'Content-Type: application/pdf' \
	-H "Sealbox-Options: $O" --data-binary "@$T/classic.pdf" "$URL/v1/seals/demo-seal/sign-pdf")
[ "$st" = 404 ] && jq -e '.error.code == "unknown_seal"' "$T/x.json" >/dev/null &&
	ok "a principal without a grant: 404 unknown_seal" || nok "no grant: $st $(head -c 200 "$T/x.json")"
# An application with no grant of its own seals a PDF for a person who has one.
enrol_clients dan oa
$A principal add --cert "$D/clients/dan/client.pem" --name dan >/dev/null &&
	$A principal add --cert "$D/clients/oa/client.pem" --name oa --kind application \
		--may-act-for dan >/dev/null &&
	$A grant add --seal demo-seal --principal dan >/dev/null || nok "dan, oa and dan's grant"
st=$(curl --silent --cert "$D/clients/oa/client.pem" --key "$D/clients/oa/client.key" \
	--cacert "$D/state/ca.pem" -o "$T/oa.pdf" -w '%{http_code}' -H 'Content-Type: application/pdf' \
	-H 'Sealbox-Options: {"document_name":"leave.pdf","x":10,"y":10,"width":50,"on_behalf_of":"dan"}' \
	--data-binary "@$T/classic.pdf" "$URL/v1/seals/demo-seal/sign-pdf")
[ "$st" = 200 ] && pdfsig_ok "$T/oa.pdf" 1 &&
	ok "an application seals a PDF on behalf of a person who holds the grant" ||
	nok "on behalf of dan: $st $(head -c 200 "$T/oa.pdf")"
exit 0
