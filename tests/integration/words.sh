#!/usr/bin/env bash
# The sensitive-word library (issue 4, "Risk controls"), end to end against
# the real seald (throwaway SoftHSM token, real TLS, real LMDB): the
# secadmin manages words with sealadm (Chinese included; bad words refused
# with clear messages; every change ledgered); a text/plain document that
# holds one, even split by whitespace, is refused 403 sensitive_word naming
# the word's id, and its ledgered refusal carries the id and never the
# document's text; a clean one seals; a grant with --on-sensitive approval
# answers approval_required; a digest, or a document without content_type,
# is not checked; a removed word no longer matches; words survive a restart.
. "$(dirname "$0")/lib.sh"

appliance_up "$T/a"

enrol_clients app aud
{
	$A principal add --cert "$D/clients/app/client.pem" --name app --kind application \
		--role requester &&
	$A principal add --cert "$D/clients/aud/client.pem" --name aud --role auditor &&
	for s in s-block s-appr s-plain; do
		$A seal create --id "$s" --name "Seal $s" --type contract --key ec-p256 \
			--image "$D/stamp.png" --unit group || exit 1
	done &&
	$A grant add --seal s-block --principal app &&
	$A grant add --seal s-plain --principal app --on-sensitive block
} >/dev/null || { nok "principals, seals and grants"; exit 1; }

expect "grant add --on-sensitive approval is stored and shown" 0 '"on_sensitive": "approval"' -- \
	$A grant add --seal s-appr --principal app --on-sensitive approval
expect "grant add shows on_sensitive block by default" 0 '"on_sensitive": "block"' -- \
	$A grant add --seal s-block --principal aud
expect "grant add refuses --on-sensitive other than block or approval" 2 \
	"--on-sensitive: block or approval" -- \
	$A grant add --seal s-plain --principal aud --on-sensitive warn

# ---- the library: the secadmin's side ----------------------------------------
expect "words add takes a Chinese word with a category and numbers it w-1" 0 '"id": "w-1"' -- \
	$A words add --word "机密" --category "政治"
expect "words add takes an ASCII phrase (w-2)" 0 '"id": "w-2"' -- \
	$A words add --word "Top Secret"
expect "words add takes a word with whitespace inside (w-3)" 0 '"id": "w-3"' -- \
	$A words add --word "绝密 文件" --category "保密"
expect "a duplicate after normalisation is refused, naming the word it repeats" 1 \
	"exists: the library has this word already, as w-1" -- $A words add --word " 机 密 "
expect "an ASCII case variant is a duplicate" 1 "exists: .*as w-2" -- \
	$A words add --word "TOP SECRET"
expect "a word that is not UTF-8 is refused" 1 "bad_word: the word is not valid UTF-8" -- \
	$A words add --word $'ab\xff\xfe'
expect "a cut UTF-8 sequence is refused" 1 "bad_word: the word is not valid UTF-8 \(at byte 3\)" -- \
	$A words add --word $'机\xe5\xaf'
expect "a word over 64 bytes is refused" 1 "bad_word: a word is 1 to 64 bytes of UTF-8 \(this one is 66\)" -- \
	$A words add --word "$(printf '密%.0s' $(seq 22))"
expect "an empty word is refused" 1 "bad_word: a word is 1 to 64 bytes" -- $A words add --word ""
expect "a control character is refused" 1 "bad_word: the word holds a control character" -- \
	$A words add --word $'a\x01b'
expect "words add needs --word" 2 "words add needs --word" -- $A words add --category x
out=$($A words list 2>&1)
if [ "$(jq -r '.count' <<<"$out")" = 3 ] &&
	[ "$(jq -r '.words[0].word + "|" + .words[0].category + "|" + .words[2].id' <<<"$out")" = "机密|政治|w-3" ]; then
	ok "words list shows the three words, their ids and categories"
else
	nok "words list: $out"
fi

as() {
	echo "--silent --show-error --cert $D/clients/$1/client.pem --key $D/clients/$1/client.key --cacert $D/state/ca.pem"
}
# call WHO METHOD PATH [BODY]: the HTTP status; the answer in $T/out.json.
call() {
	local who=$1 m=$2 path=$3
	shift 3
	# shellcheck disable=SC2046
	curl $(as "$who") -X "$m" -o "$T/out.json" -w '%{http_code}' \
		${1:+-H Content-Type:application/json --data-binary "@$1"} "$URL$path"
}
# textbody FILE TEXT [EXTRA]: a sign body in FILE for TEXT as a text/plain document.
textbody() {
	printf '{"document":"%s","document_name":"note.txt","content_type":"text/plain"%s}' \
		"$(printf '%s' "$2" | base64 -w0)" "${3:+,$3}" >"$1"
}
# sign WHAT WANT_STATUS WANT_CODE MESSAGE_REGEX SEAL BODYFILE
sign() {
	local what=$1 want=$2 wcode=$3 wmsg=$4 got code msg
	got=$(call app POST "/v1/seals/$5/sign" "$6")
	code=$(jq -r '.error.code // "-"' "$T/out.json" 2>/dev/null)
	msg=$(jq -r '.error.message // ""' "$T/out.json" 2>/dev/null)
	if [ "$got" = "$want" ] && [ "$code" = "$wcode" ] && grep -qE -- "$wmsg" <<<"$msg"; then
		ok "$what"
	else
		nok "$what (wanted $want $wcode /$wmsg/, got $got: $(head -c 400 "$T/out.json"))"
	fi
}
ledger() {	# the whole ledger's entries into $T/led.json
	curl $(as aud) -o "$T/led.json" "$URL/v1/ledger/entries?start=0&count=1000"
}

# ---- the check on a text document -----------------------------------------------
SECRET_DOC=$'采购合同第七号\n本文件为机\n 密资料，请勿外传'
textbody "$T/b1.json" "$SECRET_DOC"
sign "a text/plain document with 机密 split by a newline and a space is refused 403 sensitive_word w-1" \
	403 sensitive_word "sensitive word w-1 \(政治\)" s-block "$T/b1.json"
if grep -q "采购合同\|请勿外传\|资料" "$T/out.json"; then
	nok "the refusal does not echo the document's text"
else
	ok "the refusal does not echo the document's text"
fi
ledger
last=$(jq -c '[.entries[].entry | select(.action == "sign")] | last' "$T/led.json")
if [ "$(jq -r '.result + "|" + .sensitive_word' <<<"$last")" = "refused:sensitive_word|w-1" ]; then
	ok "the refusal is ledgered with \"sensitive_word\": \"w-1\""
else
	nok "the refusal's ledger entry: $last"
fi
if grep -q "采购合同\|请勿外传\|资料" "$T/led.json"; then
	nok "the ledger holds none of the document's text"
else
	ok "the ledger holds none of the document's text"
fi
textbody "$T/b2.json" "the plan is TOP   secret, tell nobody"
sign "an ASCII word matches whatever its case and spacing (w-2)" 403 sensitive_word "w-2" \
	s-block "$T/b2.json"
textbody "$T/b3.json" $'绝\t密\r\n文\xe3\x80\x80件'
sign "a word with a space matches the text with tabs, CRLF and an ideographic space (w-3)" \
	403 sensitive_word "w-3 \(保密\)" s-block "$T/b3.json"
textbody "$T/clean.json" $'采购合同第七号\n甲方：某某有限公司\n乙方：某某科技'
sign "a clean text/plain document seals" 200 - "" s-block "$T/clean.json"
[ -n "$(jq -r '.cms // empty' "$T/out.json")" ] && ok "the clean document's answer carries a CMS" ||
	nok "no CMS for the clean document: $(head -c 300 "$T/out.json")"
sign "a grant with --on-sensitive approval answers approval_required, naming the word" \
	403 approval_required "w-1.*needs an approved use request" s-appr "$T/b1.json"
ledger
last=$(jq -c '[.entries[].entry | select(.action == "sign")] | last' "$T/led.json")
[ "$(jq -r '.result + "|" + .sensitive_word' <<<"$last")" = "refused:approval_required|w-1" ] &&
	ok "the approval_required refusal is ledgered with the word's id" ||
	nok "the approval_required entry: $last"

# With an approved use request for that very document, it seals: one
# approver over the seal's unit (the grant asks for none for other uses).
enrol_clients boss
$A principal add --cert "$D/clients/boss/client.pem" --name boss --role approver@group >/dev/null ||
	nok "boss, an approver over the group"
sha1=$(printf '%s' "$SECRET_DOC" | sha256sum | cut -d' ' -f1)
printf '{"kind":"use","seal":"s-appr","reason":"contract 7","digest":{"alg":"sha256","value":"%s"},"document_name":"note.txt"}' \
	"$sha1" >"$T/use.json"
got=$(call app POST /v1/requests "$T/use.json")
rid=$(jq -r '.id // empty' "$T/out.json")
[ "$got" = 201 ] && [ -n "$rid" ] && ok "a use request for the document with the sensitive word is filed" ||
	nok "filing the use request: $got $(head -c 300 "$T/out.json")"
got=$(call boss POST "/v1/requests/$rid/approve")
[ "$got" = 200 ] && [ "$(jq -r .state "$T/out.json")" = approved ] &&
	ok "one approver over the seal's unit approves it" ||
	nok "approving the use request: $got $(head -c 300 "$T/out.json")"
textbody "$T/b1a.json" "$SECRET_DOC" "\"approval\":\"$rid\""
sign "with the approval, the document with the sensitive word seals" 200 - "" s-appr "$T/b1a.json"
sign "the approval is used up: the same again is refused" 409 approval_used "" s-appr "$T/b1a.json"

# Not checked: a digest, or a document sent without content_type.
sha=$(printf '%s' "$SECRET_DOC" | sha256sum | cut -d' ' -f1)
printf '{"digest":{"alg":"sha256","value":"%s"},"document_name":"note.txt"}' "$sha" >"$T/dg.json"
sign "a digest-only request is not checked (it seals)" 200 - "" s-block "$T/dg.json"
printf '{"document":"%s","document_name":"note.txt"}' "$(printf '%s' "$SECRET_DOC" | base64 -w0)" \
	>"$T/nct.json"
sign "a document without content_type is only hashed, not checked" 200 - "" s-block "$T/nct.json"

# Bad text documents are refused by the net worker, before the monitor.
printf '{"document":"%s","document_name":"n.txt","content_type":"text/plain"}' \
	"$(printf 'ab\xff\xfe' | base64 -w0)" >"$T/bad.json"
sign "a text/plain document that is not UTF-8 is 400" 400 bad_request "must be UTF-8" \
	s-block "$T/bad.json"
head -c $((256 * 1024 + 1)) /dev/zero | tr '\0' 'a' >"$T/big.txt"
printf '{"document":"%s","document_name":"n.txt","content_type":"text/plain"}' \
	"$(base64 -w0 "$T/big.txt")" >"$T/big.json"
sign "a text/plain document over 256 KiB is 413" 413 too_large "at most 256 KiB" s-block "$T/big.json"
printf '{"digest":{"alg":"sha256","value":"%s"},"document_name":"n","content_type":"text/plain"}' \
	"$sha" >"$T/dgct.json"
sign "content_type with a digest is 400" 400 bad_request "not with a digest" s-block "$T/dgct.json"

# A batch: each item is checked on its own.
printf '{"items":[{"seal":"s-block","document":"%s","document_name":"a.txt","content_type":"text/plain"},{"seal":"s-block","document":"%s","document_name":"b.txt","content_type":"text/plain"}]}' \
	"$(printf '%s' "$SECRET_DOC" | base64 -w0)" "$(printf 'clean text' | base64 -w0)" >"$T/batch.json"
got=$(call app POST /v1/sign/batch "$T/batch.json")
r=$(jq -r '(.results[0].error.code // "-") + "|" + (if .results[1].cms then "cms" else "-" end)' \
	"$T/out.json" 2>/dev/null)
[ "$got" = 200 ] && [ "$r" = "sensitive_word|cms" ] &&
	ok "in a batch the item with a word is refused and the clean one seals" ||
	nok "batch: $got $r $(head -c 300 "$T/out.json")"

# ---- removal, ledger, restart -------------------------------------------------------
expect "words remove refuses an id that is not w-N" 1 "bad_request: a word's id is w-N" -- \
	$A words remove --id 1
expect "words remove of an unknown word is 404" 1 "unknown_word: no word w-99" -- \
	$A words remove --id w-99
expect "words remove removes w-1" 0 '"removed": true' -- $A words remove --id w-1
sign "after w-1 is removed the same document seals (the cache was dropped)" 200 - "" \
	s-block "$T/b1.json"
ledger
adds=$(jq -c '[.entries[].entry | select(.action == "word.add")]' "$T/led.json")
rem=$(jq -c '[.entries[].entry | select(.action == "word.remove")] | last' "$T/led.json")
if [ "$(jq -r 'length' <<<"$adds")" = 3 ] &&
	[ "$(jq -r '.[0].word_id + "|" + .[0].word + "|" + .[0].category' <<<"$adds")" = "w-1|机密|政治" ]; then
	ok "each word added is ledgered (word.add with its id, the word and its category)"
else
	nok "word.add entries: $adds"
fi
[ "$(jq -r '.word_id + "|" + .category + "|" + .result' <<<"$rem")" = "w-1|政治|ok" ] &&
	ok "the removal is ledgered (word.remove with the id)" || nok "word.remove entry: $rem"
expect "a word added after a removal gets a new number (w-4), ids are never reused" 0 '"id": "w-4"' -- \
	$A words add --word "机密"

seald_stop
seald_start "$D" || { nok "seald restarts"; exit 1; }
appliance_unseal "$D" || { nok "unseal after restart"; exit 1; }
out=$($A words list 2>&1)
[ "$(jq -r '[.words[].id] | join(",")' <<<"$out")" = "w-2,w-3,w-4" ] &&
	ok "the library survives a restart" || nok "words list after restart: $out"
sign "after a restart the library is loaded again and matches (w-4)" 403 sensitive_word "w-4" \
	s-block "$T/b1.json"
