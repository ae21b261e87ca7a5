#!/usr/bin/env bash
# A PDF's text through the real seald (issue 7): the net worker's text
# helper runs poppler's pdftotext on each PDF to seal, under limits and out
# of the worker's sandbox. The seal is placed next to a phrase
# (near_text: Chinese, first occurrence, or on a given page; pixels checked
# in a pdftoppm rendering); the words go through the monitor's
# sensitive-word check like a text/plain document's; a PDF without usable
# text (a scan) is "cannot check", never clean: refused while the library
# has words, sealed while it has none; a pdftotext that fails, hangs or is
# missing is reported the same way, and the daemon keeps serving.
. "$(dirname "$0")/lib.sh"

# A pdftotext that nobody may run (the helper drops to net.user): it acts
# as its mode file says, or runs the real one. No fork: NPROC is 0 there.
W=$(mktemp -d /tmp/sbx-pdftotext-XXXXXX)
chmod 755 "$W"
cat >"$W/pdftotext" <<EOS
#!/bin/sh
mode=real
[ -r $W/mode ] && read -r mode <$W/mode
case \$mode in
hang) exec /bin/sleep 60 ;;
fail) exit 1 ;;
probe)
	# Its filter must refuse writing a file (in a directory anyone may
	# write) and signalling (the helper, its parent, same user): exit 3
	# when a signal goes through.
	echo x >$W/open/written
	kill -0 \$PPID 2>/dev/null && exit 3 ;;
esac
exec /usr/bin/pdftotext "\$@"
EOS
chmod 755 "$W/pdftotext"
mkdir "$W/open" && chmod 1777 "$W/open"
echo real >"$W/mode"
chmod 644 "$W/mode"
trap 'cleanup; rm -rf "$W"' EXIT

appliance_up "$T/a" "pdf:
  pdftotext: $W/pdftotext
  text_seconds: 2"
enrol_clients app aud
"$BIN/tools/pdfsign" mkpng "$D/red.png" 200 100 || nok "a test image"
{
	$A principal add --cert "$D/clients/app/client.pem" --name app --kind application \
		--role requester &&
	$A principal add --cert "$D/clients/aud/client.pem" --name aud --role auditor &&
	for s in s-block s-appr; do
		$A seal create --id "$s" --name "Seal $s" --type contract --key ec-p256 \
			--image "$D/red.png" --unit group || exit 1
	done &&
	$A grant add --seal s-block --principal app &&
	$A grant add --seal s-appr --principal app --on-sensitive approval
} >/dev/null || { nok "principals, seals and grants"; exit 1; }

P="$BIN/tools/pdfsign"
"$P" mktext "$T/contract.pdf" 5 '3:100:300:14:甲方（盖章）：' \
	'4:72:500:12:Contract total 机密 amount' '5:300:200:14:甲方（盖章）：' >/dev/null &&
	"$P" mktext "$T/clean.pdf" 2 '2:100:300:14:乙方（盖章）：' >/dev/null &&
	"$P" mkimage "$T/scan.pdf" 2 >/dev/null || nok "test PDFs"

as() {
	echo "--silent --show-error --cert $D/clients/$1/client.pem --key $D/clients/$1/client.key --cacert $D/state/ca.pem"
}
# seal WHAT WANT_STATUS WANT_CODE MESSAGE_REGEX SEAL PDF OPTIONS: the output in $T/out.
seal() {
	local what=$1 want=$2 wcode=$3 wmsg=$4 got code msg
	# shellcheck disable=SC2046
	got=$(curl $(as app) -o "$T/out" -w '%{http_code}' -H 'Content-Type: application/pdf' \
		-H "Sealbox-Options: $7" --data-binary "@$6" "$URL/v1/seals/$5/sign-pdf")
	code=$(jq -r '.error.code // "-"' "$T/out" 2>/dev/null || echo -)
	msg=$(jq -r '.error.message // ""' "$T/out" 2>/dev/null)
	if [ "$got" = "$want" ] && [ "$code" = "$wcode" ] && grep -qE -- "$wmsg" <<<"$msg"; then
		ok "$what"
	else
		nok "$what (wanted $want $wcode /$wmsg/, got $got: $(head -c 300 "$T/out"))"
	fi
}
ledger_last_sign() {	# the last sign entry of the ledger, as JSON
	# shellcheck disable=SC2046
	curl $(as aud) "$URL/v1/ledger/entries?start=0&count=1000" |
		jq -c '[.entries[].entry | select(.action == "sign")] | last'
}
# (pdfsig lists one signature once per widget: one field name means one signature.)
# pixel PDF PAGE X Y: the colour at (X, Y) points from the lower left of an A4 page.
pixel() {
	pdftoppm -r 72 -f "$2" -l "$2" "$1" "$T/render" >/dev/null 2>&1 &&
		"$BIN/tools/ppmpix" "$(ls "$T"/render*.ppm | head -n 1)" "$3" $((842 - $4)) &&
		rm -f "$T"/render*.ppm
}
# red_at PDF PAGE X Y: that pixel is the seal's red (give or take rounding).
red_at() {
	local r g b
	read -r r g b <<<"$(pixel "$@")"
	[ -n "$b" ] && [ "$r" -ge 240 ] && [ "$g" -le 15 ] && [ "$b" -le 15 ]
}

# ---- the helper ----------------------------------------------------------------------
# our_helper: this appliance's text helper (other tests may run seald beside us).
our_helper() {
	local net
	net=$(pgrep -P "$SEALD_PID" -x seald-net | head -n 1)
	[ -n "$net" ] && pgrep -P "$net" -x seald-pdftext | head -n 1
}
helper=$(our_helper)
if [ -n "$helper" ] && grep -qE '^NoNewPrivs:\s+1' "/proc/$helper/status" &&
	grep -qE '^Seccomp:\s+2' "/proc/$helper/status" &&
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$helper/status")" = "$(id -u nobody)" ] &&
	[ "$(ls "/proc/$helper/fd" | sort -n | tr '\n' ' ')" = "0 1 2 3 " ] &&
	[ "$(readlink "/proc/$helper/cwd")" = / ]; then
	ok "the text helper runs as net.user, no new privileges, under seccomp, in /, with fds 0-3 only"
else
	nok "the text helper's confinement: pid '$helper' $(grep -E '^(Uid|NoNewPrivs|Seccomp)' "/proc/$helper/status" 2>&1 | tr '\n' ' ') fds $(ls "/proc/$helper/fd" 2>&1 | tr '\n' ' ')"
fi
pp=$(ps -o ppid= -p "$helper" | tr -d ' ')
if [ -n "$helper" ] && [ "$(awk '/^Uid:/ {print $2}' "/proc/$pp/status")" = "$(id -u nobody)" ] &&
	grep -q "seald" "/proc/$pp/cmdline"; then
	ok "the text helper is the (sandboxed) net worker's child"
else
	nok "the text helper's parent: $(ps -o pid=,uid=,comm= -p "$pp")"
fi

# ---- placement by text ------------------------------------------------------------
# 甲方（盖章）： is 7 glyphs of 14 pt from x 100 on page 3, baseline 300: the
# phrase without its colon ends at x 184 and its line's middle is at y 305.
seal "near_text: a Chinese phrase inside a longer word places the seal (200)" 200 - "" \
	s-block "$T/contract.pdf" '{"document_name":"c.pdf","near_text":"甲方（盖章）","width":60}'
cp "$T/out" "$T/near.pdf"
e=$(ledger_last_sign)
if [ "$(jq -r '.pdf.page' <<<"$e")" = 3 ]; then
	ok "the seal goes to the first occurrence: page 3, ledgered"
else
	nok "the first occurrence's page: $e"
fi
# The seal is 60 x 30 (the image is 2:1) from x 184, centred on y 305;
# its left quarter is transparent.
if red_at "$T/near.pdf" 3 230 305 && red_at "$T/near.pdf" 3 240 316 && ! red_at "$T/near.pdf" 3 250 325 &&
	! red_at "$T/near.pdf" 3 230 285 && ! red_at "$T/near.pdf" 3 250 305 &&
	! red_at "$T/near.pdf" 5 420 205; then
	ok "the seal is drawn right of the phrase, centred on its line (pixels on page 3)"
else
	nok "the seal's pixels near the phrase: $(pixel "$T/near.pdf" 3 230 305) $(pixel "$T/near.pdf" 3 250 305)"
fi
if qpdf --check "$T/near.pdf" >/dev/null 2>&1 &&
	pdfsig "$T/near.pdf" 2>&1 | grep -q 'Total document signed'; then
	ok "the sealed PDF passes qpdf --check and pdfsig reads its one signature"
else
	nok "qpdf --check or pdfsig on the PDF sealed by text"
fi
seal "near_text with page: the occurrence on that page (200)" 200 - "" \
	s-block "$T/contract.pdf" '{"document_name":"c.pdf","near_text":"甲方 （盖章）","page":5,"width":60}'
e=$(ledger_last_sign)
if [ "$(jq -r '.pdf.page' <<<"$e")" = 5 ] && red_at "$T/out" 5 420 205; then
	ok "the seal is on page 5, right of the phrase there; white space in near_text is ignored"
else
	nok "near_text on page 5: $e $(pixel "$T/out" 5 420 205)"
fi
seal "near_text_every: one signature, the seal right of every occurrence (200)" 200 - "" \
	s-block "$T/contract.pdf" '{"document_name":"c.pdf","near_text":"甲方（盖章）","near_text_every":true,"width":60}'
cp "$T/out" "$T/every.pdf"
if red_at "$T/every.pdf" 3 230 305 && red_at "$T/every.pdf" 5 420 205 &&
	[ "$(pdfsig "$T/every.pdf" 2>&1 | grep 'Signature Field Name' | sort -u | tr -d ' ')" = "-SignatureFieldName:Seal1" ] &&
	qpdf --check "$T/every.pdf" >/dev/null 2>&1; then
	ok "near_text_every: the seal is drawn on pages 3 and 5 under one signature; qpdf --check passes"
else
	nok "near_text_every: $(pixel "$T/every.pdf" 3 230 305) $(pixel "$T/every.pdf" 5 420 205) $(pdfsig "$T/every.pdf" 2>&1 | head -5)"
fi
"$P" mktext "$T/many.pdf" 1 $(for i in $(seq 0 64); do echo "1:$((20 + (i % 5) * 110)):$((30 + (i / 5) * 55)):10:签章"; done) >/dev/null ||
	nok "a PDF with 65 occurrences"
seal "near_text_every with 65 occurrences: 400 pdf_bad_placement, at most 64" 400 \
	pdf_bad_placement "occurs more than 64 times" s-block "$T/many.pdf" \
	'{"document_name":"m.pdf","near_text":"签章","near_text_every":true,"width":20}'
seal "near_text_every without near_text: 400 bad_request" 400 bad_request \
	"near_text_every: true or false, with near_text" s-block "$T/contract.pdf" \
	'{"document_name":"c.pdf","x":10,"y":10,"near_text_every":true,"width":60}'
seal "near_text that is not in the document: 422 pdf_text_not_found" 422 pdf_text_not_found \
	"not in the document" s-block "$T/contract.pdf" \
	'{"document_name":"c.pdf","near_text":"丙方（盖章）","width":60}'
seal "near_text that is not on the given page: 422 pdf_text_not_found naming the page" 422 \
	pdf_text_not_found "not on page 4" s-block "$T/contract.pdf" \
	'{"document_name":"c.pdf","near_text":"甲方（盖章）","page":4,"width":60}'
seal "near_text in a PDF without text: 422 pdf_text_unreadable" 422 pdf_text_unreadable \
	"it has no text" s-block "$T/scan.pdf" '{"document_name":"s.pdf","near_text":"甲方","width":60}'
seal "near_text with x and y: 400 bad_request" 400 bad_request "leave out x, y" s-block \
	"$T/contract.pdf" '{"document_name":"c.pdf","near_text":"甲方","x":10,"y":10,"width":60}'
seal "near_text that is only white space: 400 bad_request" 400 bad_request "not only white space" \
	s-block "$T/contract.pdf" '{"document_name":"c.pdf","near_text":"　 ","width":60}'
seal "near_text without width: 400 bad_request" 400 bad_request "width: required" s-block \
	"$T/contract.pdf" '{"document_name":"c.pdf","near_text":"甲方"}'

CTL="$BIN/sealctl --server 127.0.0.1:$PORT --cert $D/clients/app/client.pem --key $D/clients/app/client.key --ca $D/state/ca.pem"
if $CTL sign-pdf --seal s-block --near-text "甲方（盖章）" --width 60 -o "$T/ctl.pdf" \
	"$T/contract.pdf" >"$T/ctl.out" 2>&1 && red_at "$T/ctl.pdf" 3 230 305; then
	ok "sealctl sign-pdf --near-text places the seal right of the phrase"
else
	nok "sealctl sign-pdf --near-text: $(cat "$T/ctl.out")"
fi
if ! $CTL sign-pdf --seal s-block --near-text "丙方" --width 60 -o "$T/ctl2.pdf" \
	"$T/contract.pdf" >"$T/ctl.out" 2>&1 && grep -q "pdf_text_not_found" "$T/ctl.out"; then
	ok "sealctl sign-pdf --near-text: a missing phrase is the appliance's pdf_text_not_found"
else
	nok "sealctl sign-pdf --near-text missing phrase: $(cat "$T/ctl.out")"
fi

# ---- the sensitive-word check of a PDF's text -------------------------------------
seal "with no word in the library, a scan (no text) seals: nothing to look for" 200 - "" \
	s-block "$T/scan.pdf" '{"document_name":"s.pdf","page":1,"x":10,"y":10,"width":60}'
$A words add --word "机密" --category "保密" >/dev/null || nok "words add"
seal "a PDF whose page 4 holds 机密 is refused 403 sensitive_word w-1" 403 sensitive_word \
	"sensitive word w-1 \(保密\)" s-block "$T/contract.pdf" \
	'{"document_name":"c.pdf","page":1,"x":10,"y":10,"width":60}'
e=$(ledger_last_sign)
if [ "$(jq -r '.sensitive_word' <<<"$e")" = w-1 ] && ! grep -q "Contract\|amount" <<<"$e"; then
	ok "the refusal is ledgered with the word's id and none of the PDF's text"
else
	nok "the refusal's ledger entry: $e"
fi
seal "under a grant with --on-sensitive approval: 403 approval_required" 403 approval_required \
	"w-1.*approved use request" s-appr "$T/contract.pdf" \
	'{"document_name":"c.pdf","page":1,"x":10,"y":10,"width":60}'
seal "a PDF without the word seals" 200 - "" s-block "$T/clean.pdf" \
	'{"document_name":"clean.pdf","near_text":"乙方（盖章）","width":60}'
seal "a scan (no text) is never clean: 403 cannot_check" 403 cannot_check \
	"cannot be checked for sensitive words \(it has no text" s-block "$T/scan.pdf" \
	'{"document_name":"s.pdf","page":1,"x":10,"y":10,"width":60}'
e=$(ledger_last_sign)
if [ "$(jq -r '.text_check + "|" + .result' <<<"$e")" = "cannot_check|refused:cannot_check" ]; then
	ok "the refusal is ledgered with \"text_check\": \"cannot_check\""
else
	nok "the cannot_check refusal's ledger entry: $e"
fi
seal "a scan under an approval grant: 403 approval_required" 403 approval_required \
	"cannot be checked.*approved use request" s-appr "$T/scan.pdf" \
	'{"document_name":"s.pdf","page":1,"x":10,"y":10,"width":60}'

# ---- pdftotext failing, hanging, missing ------------------------------------------
echo fail >"$W/mode"
seal "pdftotext failing: 403 cannot_check with its exit status" 403 cannot_check \
	"pdftotext could not read it \(exit status 1\)" s-block "$T/clean.pdf" \
	'{"document_name":"clean.pdf","page":1,"x":10,"y":10,"width":60}'
echo hang >"$W/mode"
(
	for _ in $(seq 50); do
		pid=$(pgrep -P "$(our_helper)" -f "^/bin/sleep 60" | head -n 1)
		[ -n "$pid" ] && break
		sleep 0.1
	done
	{ cat "/proc/$pid/limits"; grep -E '^(Uid|NoNewPrivs|Seccomp):' "/proc/$pid/status"
		ls "/proc/$pid/fd"; tr '\0' '\n' <"/proc/$pid/environ"; } >"$T/limits" 2>&1
) &
watcher=$!
seal "pdftotext hanging: killed after pdf.text_seconds, 403 cannot_check" 403 cannot_check \
	"took longer than pdf.text_seconds \(2 s\)" s-block "$T/clean.pdf" \
	'{"document_name":"clean.pdf","page":1,"x":10,"y":10,"width":60}'
wait "$watcher"
L=$T/limits
if grep -qE '^Max cpu time +2 +3 ' "$L" && grep -qE '^Max file size +16777216 ' "$L" &&
	grep -qE '^Max processes +0 +0 ' "$L" && grep -qE '^Max core file size +0 +0 ' "$L" &&
	grep -qE '^Max address space +1073741824 ' "$L" && grep -qE '^Max open files +64 ' "$L"; then
	ok "pdftotext runs with limits: 2 s CPU, 16 MiB output, 1 GiB address space, no process, no core"
else
	nok "pdftotext's limits: $(cat "$L")"
fi
if grep -qE '^NoNewPrivs:\s+1' "$L" && grep -qE '^Seccomp:\s+2' "$L" &&
	! grep -qE '^Uid:\s+0\s' "$L" && [ "$(grep -cE '^[0-9]+$' "$L")" = 3 ] &&
	[ "$(grep '=' "$L")" = "PWD=/" ]; then
	# (The wrapper's sh adds PWD; pdftotext itself gets an empty environment.)
	ok "pdftotext runs as net.user, no new privileges, under seccomp, fds 0-2 only, in /, no environment"
else
	nok "pdftotext's confinement: $(grep -E '^(Uid|NoNewPrivs|Seccomp)|^[0-9]+$|=' "$L")"
fi
if pgrep -P "$(our_helper)" -f "/bin/sleep 60" >/dev/null; then
	nok "the hanging pdftotext was killed"
else
	ok "the hanging pdftotext was killed"
fi
echo probe >"$W/mode"
seal "pdftotext may neither write a file nor signal a process: it runs on (200)" 200 - "" \
	s-block "$T/clean.pdf" '{"document_name":"clean.pdf","near_text":"乙方（盖章）","width":60}'
if [ ! -e "$W/open/written" ]; then
	ok "pdftotext could not create a file in a directory anyone may write"
else
	nok "pdftotext created $W/open/written"
fi
echo real >"$W/mode"
chmod 700 "$W/pdftotext"
seal "a pdftotext net.user may not run: 403 cannot_check, it cannot be run" 403 cannot_check \
	"pdf.pdftotext\) cannot be run" s-block "$T/clean.pdf" \
	'{"document_name":"clean.pdf","page":1,"x":10,"y":10,"width":60}'
chmod 755 "$W/pdftotext"
seal "after all that the daemon still seals PDFs by their text" 200 - "" s-block "$T/clean.pdf" \
	'{"document_name":"clean.pdf","near_text":"乙方（盖章）","width":60}'

# ---- the helper killed: the net worker is restarted with a new one ----------------
old=$(our_helper)
kill -9 "$old"
new=
for _ in $(seq 100); do
	new=$(our_helper)
	[ -n "$new" ] && [ "$new" != "$old" ] && break
	sleep 0.1
done
if [ -n "$new" ] && [ "$new" != "$old" ] &&
	grep -q "the PDF text helper ended: the net worker stops to be restarted" "$D/seald.log"; then
	ok "a killed text helper is logged and the net worker restarts with a new one"
else
	nok "after the text helper was killed: old $old new '$new'; $(tail -n 5 "$D/seald.log")"
fi
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	sleep 0.1
done
seal "after that, PDFs are sealed by their text again" 200 - "" s-block "$T/clean.pdf" \
	'{"document_name":"clean.pdf","near_text":"乙方（盖章）","width":60}'
