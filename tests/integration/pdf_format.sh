#!/usr/bin/env bash
# PAdES sealing by daemon/formats/pdf.c (through the test tool pdfsign, with a
# software key), checked by other people's readers: poppler's pdfsig (against
# an NSS db trusting our test CA), qpdf --check, and pdftoppm (the seal is
# drawn where it was asked for, its transparent part shows the page). Inputs
# with a classic xref table, with object streams and an xref stream, and
# linearized; each sealed once, twice and three times. And a cross-page seal.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C

P=$BIN/tools/pdfsign
PIX=$BIN/tools/ppmpix
D=$T/pdf
mkdir -p "$D"

# mkpdf OUT NPAGES: NPAGES pages of 300 x 400 pt, classic xref, offsets counted.
mkpdf() {
	local out=$1 n=$2 doc off=() i kids="" nobj x p c s
	nobj=$((2 + 2 * n))
	doc=$'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'
	for ((i = 0; i < n; i++)); do kids="$kids $((3 + 2 * i)) 0 R"; done
	off[1]=${#doc}
	doc+=$'1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n'
	off[2]=${#doc}
	doc+=$'2 0 obj\n'"<< /Type /Pages /Kids [$kids ] /Count $n /MediaBox [0 0 300 400] >>"$'\nendobj\n'
	for ((i = 0; i < n; i++)); do
		p=$((3 + 2 * i)) c=$((4 + 2 * i))
		s="BT /F1 12 Tf 20 370 Td (Page $((i + 1))) Tj ET"
		off[p]=${#doc}
		doc+="$p 0 obj"$'\n'"<< /Type /Page /Parent 2 0 R /Contents $c 0 R /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"$'\nendobj\n'
		off[c]=${#doc}
		doc+="$c 0 obj"$'\n'"<< /Length ${#s} >>"$'\nstream\n'"$s"$'\nendstream\nendobj\n'
	done
	x=${#doc}
	doc+="xref"$'\n'"0 $((nobj + 1))"$'\n'"0000000000 65535 f "$'\n'
	for ((i = 1; i <= nobj; i++)); do doc+=$(printf '%010d 00000 n ' "${off[i]}")$'\n'; done
	doc+="trailer"$'\n'"<< /Size $((nobj + 1)) /Root 1 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>] >>"
	doc+=$'\nstartxref\n'"$x"$'\n%%EOF\n'
	printf '%s' "$doc" >"$out"
}

# A CA, a seal certificate under it, and an NSS db that trusts the CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/ca.key" \
	-out "$D/ca.pem" -days 30 -subj "/CN=Sealbox Test CA" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/seal.key" \
	-out "$D/seal.csr" -subj "/O=Sealbox Test/CN=Contract Seal" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' >"$D/ext.cnf"
openssl x509 -req -in "$D/seal.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial \
	-days 30 -out "$D/seal.pem" -extfile "$D/ext.cnf" 2>/dev/null
mkdir -p "$D/nss"
certutil -N -d "sql:$D/nss" --empty-password >/dev/null 2>&1
certutil -A -d "sql:$D/nss" -n root -t 'C,C,' -i "$D/ca.pem" >/dev/null 2>&1
if [ -s "$D/seal.pem" ] && certutil -L -d "sql:$D/nss" -n root >/dev/null 2>&1; then
	ok "a test CA, a seal certificate and an NSS db trusting the CA are made"
else
	nok "could not make the test CA, seal certificate or NSS db"
fi
"$P" mkpng "$D/seal.png" 120 80
SIGNER=("$D/seal.key" "$D/seal.pem" -c "$D/ca.pem" -i "$D/seal.png")

mkpdf "$D/table.pdf" 3
qpdf --object-streams=generate "$D/table.pdf" "$D/objstm.pdf"
qpdf --linearize "$D/table.pdf" "$D/linear.pdf"
qpdf --linearize --object-streams=generate "$D/table.pdf" "$D/linear-objstm.pdf"
for f in table objstm linear linear-objstm; do
	expect "qpdf --check accepts the $f input" 0 "No syntax or stream encoding errors" -- \
		qpdf --check "$D/$f.pdf"
done

# pixel FILE X Y: "R G B" at X,Y (top left origin) of a PPM.
pixel() { "$PIX" "$1" "$2" "$3" 2>&1; }

# check_render PDF PAGE X Y W H WHAT: the page rendered at 72 dpi (1 px =
# 1 pt, 400 px high) is seal red in the opaque part of the rect, white in its
# transparent left quarter and white just outside the rect.
check_render() {
	local pdf=$1 pg=$2 x=$3 y=$4 w=$5 h=$6 what=$7 ppm top in left out
	rm -f "$D"/render-*.ppm
	pdftoppm -r 72 -f "$pg" -l "$pg" "$pdf" "$D/render" 2>/dev/null
	ppm=$(ls "$D"/render-*.ppm 2>/dev/null | head -n 1)
	top=$((400 - y - h))
	in=$(pixel "$ppm" $((x + w * 3 / 4)) $((top + h / 2)))
	left=$(pixel "$ppm" $((x + w / 8)) $((top + h / 2)))
	out=$(pixel "$ppm" $((x + w + 5)) $((top + h / 2)))
	if [ "$in" = "255 0 0" ] && [ "$left" = "255 255 255" ] && [ "$out" = "255 255 255" ]; then
		ok "$what: the seal is drawn red inside its rectangle, see-through where transparent, not outside"
	else
		nok "$what: rendered seal wrong (inside '$in', transparent part '$left', outside '$out')"
	fi
}

# check_sigs PDF N WHAT: pdfsig sees N signatures, all valid and trusted, and
# only the last one covers the whole document; qpdf --check is clean.
check_sigs() {
	local pdf=$1 n=$2 what=$3 out valid trusted total last
	out=$(pdfsig -nssdir "sql:$D/nss" "$pdf" 2>&1)
	valid=$(grep -c "Signature is Valid." <<<"$out")
	trusted=$(grep -c "Certificate is Trusted." <<<"$out")
	total=$(grep -c "Total document signed" <<<"$out")
	last=$(awk -v n="$n" '/^Signature #/ { s = $2 } /Total document signed/ { print s }' <<<"$out")
	if [ "$valid" -eq "$n" ] && [ "$trusted" -eq "$n" ] && [ "$total" -eq 1 ] &&
		[ "$last" = "#$n:" ]; then
		ok "$what: pdfsig finds $n valid, trusted signatures, only the last covering the whole document"
	else
		nok "$what: pdfsig: $valid valid, $trusted trusted, $total total (last: '$last'), wanted $n, $n, 1 (#$n)"
		sed 's/^/#   | /' <<<"$out" | head -n 40
	fi
	expect "$what: qpdf --check exits 0" 0 "No syntax or stream encoding errors" -- qpdf --check "$pdf"
}

for f in table objstm linear linear-objstm; do
	in=$D/$f.pdf
	expect "pdfsign seals page 2 of the $f PDF" 0 "" -- \
		"$P" sign "$in" "$D/$f-1.pdf" "${SIGNER[@]}" -p 2 -x 50 -y 100 -w 120 -h 80 -r "Approved"
	check_sigs "$D/$f-1.pdf" 1 "$f, sealed once"
	check_render "$D/$f-1.pdf" 2 50 100 120 80 "$f, sealed once, page 2"
	if cmp -s -n "$(stat -c %s "$in")" "$in" "$D/$f-1.pdf"; then
		ok "$f: the sealed file starts with the original, byte for byte"
	else
		nok "$f: the sealed file changed the original's bytes"
	fi
	expect "pdfsign seals the sealed $f PDF again, on page 1" 0 "" -- \
		"$P" sign "$D/$f-1.pdf" "$D/$f-2.pdf" "${SIGNER[@]}" -p 1 -x 150 -y 20 -w 100 -h 40 \
		-r "Zweite Prüfung" -l "北京"
	check_sigs "$D/$f-2.pdf" 2 "$f, sealed twice"
	expect "pdfsign seals the $f PDF a third time, on page 3" 0 "" -- \
		"$P" sign "$D/$f-2.pdf" "$D/$f-3.pdf" "${SIGNER[@]}" -p 3 -x 20 -y 300 -w 80 -h 40
	check_sigs "$D/$f-3.pdf" 3 "$f, sealed three times"
	check_render "$D/$f-3.pdf" 1 150 20 100 40 "$f, sealed three times, page 1"
	check_render "$D/$f-3.pdf" 3 20 300 80 40 "$f, sealed three times, page 3"
done

# The xref style of the input is kept.
if tail -c 400 "$D/table-1.pdf" | grep -aq '^trailer' &&
	tail -c 400 "$D/objstm-1.pdf" | grep -aq '/Type/XRef'; then
	ok "a table input gets an xref table and trailer, an xref-stream input an xref stream"
else
	nok "the update's xref style does not follow the input's"
fi

# One byte changed inside the first signed range of a sealed file.
tampered=$D/table-tampered.pdf
cp "$D/table-1.pdf" "$tampered"
off=$(grep -abo "Page 1" "$tampered" | head -n 1 | cut -d: -f1)
printf 'X' | dd of="$tampered" bs=1 seek="$off" conv=notrunc 2>/dev/null
out=$(pdfsig -nssdir "sql:$D/nss" "$tampered" 2>&1)
if grep -qE "Digest Mismatch|Signature is Invalid" <<<"$out" && ! grep -q "Signature is Valid." <<<"$out"; then
	ok "a byte changed inside the signed range: pdfsig reports the digest mismatch"
else
	nok "a byte changed inside the signed range is not reported"
	sed 's/^/#   | /' <<<"$out" | head -n 20
fi

# Refusals, as the caller sees them.
qpdf --encrypt "" owner 256 -- "$D/table.pdf" "$D/encrypted.pdf"
expect "an encrypted PDF is refused with pdf_encrypted" 1 "422 pdf_encrypted" -- \
	"$P" sign "$D/encrypted.pdf" "$D/x.pdf" "${SIGNER[@]}"
head -c 700 "$D/table.pdf" >"$D/truncated.pdf"
expect "a truncated PDF is refused with pdf_damaged" 1 "422 pdf_damaged" -- \
	"$P" sign "$D/truncated.pdf" "$D/x.pdf" "${SIGNER[@]}"
expect "page 4 of 3 is refused with pdf_bad_page, naming the page count" 1 \
	"400 pdf_bad_page: .*has 3 pages" -- "$P" sign "$D/table.pdf" "$D/x.pdf" "${SIGNER[@]}" -p 4
expect "a rectangle off the page is refused with pdf_bad_placement" 1 "400 pdf_bad_placement" -- \
	"$P" sign "$D/table.pdf" "$D/x.pdf" "${SIGNER[@]}" -x 250 -w 100
expect "a CMS larger than the reserved /Contents is refused" 1 "does not fit" -- \
	"$P" sign "$D/table.pdf" "$D/x.pdf" "${SIGNER[@]}" -m 200

# A cross-page seal over the 3 pages, then a normal seal on top of it.
expect "pdfsign makes a cross-page seal over the 3 pages of the objstm PDF" 0 "" -- \
	"$P" sign "$D/objstm.pdf" "$D/cross.pdf" "${SIGNER[@]}" -X -y 150 -w 120 -h 80
out=$(pdfsig -nssdir "sql:$D/nss" "$D/cross.pdf" 2>&1)
# poppler lists a field once per widget: 3 entries, one signature.
if [ "$(grep -c 'Signature is Valid.' <<<"$out")" -eq 3 ] &&
	[ "$(grep -c 'Certificate is Trusted.' <<<"$out")" -eq 3 ] &&
	[ "$(grep 'Signed Ranges' <<<"$out" | sort -u | wc -l)" -eq 1 ] &&
	[ "$(grep 'Field Name' <<<"$out" | sort -u | wc -l)" -eq 1 ]; then
	ok "cross-page: pdfsig finds one valid, trusted signature (listed once per page's widget)"
else
	nok "cross-page: pdfsig does not find one valid signature"
	sed 's/^/#   | /' <<<"$out" | head -n 40
fi
expect "cross-page: qpdf --check exits 0" 0 "No syntax or stream encoding errors" -- \
	qpdf --check "$D/cross.pdf"
# The image is 120 px in 3 slices of 40 px = 40 pt, at x 260..300, y 150..230
# (rows 170..250). Slice 1 holds the transparent quarter (30 px: x 260..290).
bad=""
for pg in 1 2 3; do
	rm -f "$D"/render-*.ppm
	pdftoppm -r 72 -f "$pg" -l "$pg" "$D/cross.pdf" "$D/render" 2>/dev/null
	ppm=$(ls "$D"/render-*.ppm 2>/dev/null | head -n 1)
	[ "$(pixel "$ppm" 295 210)" = "255 0 0" ] || bad="$bad [page $pg: no red at the edge]"
	[ "$(pixel "$ppm" 255 210)" = "255 255 255" ] || bad="$bad [page $pg: drawn left of its slice]"
	if [ "$pg" = 1 ]; then want="255 255 255"; else want="255 0 0"; fi
	[ "$(pixel "$ppm" 265 210)" = "$want" ] || bad="$bad [page $pg: at 265,210 not $want]"
done
if [ -z "$bad" ]; then
	ok "cross-page: each page shows its slice of the seal at the right edge"
else
	nok "cross-page: slices drawn wrong:$bad"
fi
expect "a normal seal goes on top of the cross-page seal" 0 "" -- \
	"$P" sign "$D/cross.pdf" "$D/cross-2.pdf" "${SIGNER[@]}" -p 1 -x 20 -y 20 -w 60
out=$(pdfsig -nssdir "sql:$D/nss" "$D/cross-2.pdf" 2>&1)
if [ "$(grep -c 'Signature is Valid.' <<<"$out")" -eq 4 ] &&
	[ "$(grep -c 'Total document signed' <<<"$out")" -eq 1 ] &&
	grep -q "Field Name: Seal2" <<<"$out"; then
	ok "cross-page then normal: every signature valid, Seal2 the only one covering the whole document"
else
	nok "cross-page then normal: pdfsig disagrees"
	sed 's/^/#   | /' <<<"$out" | head -n 50
fi
mkpdf "$D/one.pdf" 1
expect "a cross-page seal of a 1-page document is refused with pdf_bad_page" 1 \
	"400 pdf_bad_page: .*has 1" -- "$P" sign "$D/one.pdf" "$D/x.pdf" "${SIGNER[@]}" -X
