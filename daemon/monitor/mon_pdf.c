/*
 * mon_pdf — the monitor's two PDF-only messages. The PDF itself never comes
 * here: the net worker parses and rewrites it (daemon/formats/pdf.c) and
 * sends a digest in a PAdES MSG_SIGN (mon_net.c). Around that:
 *
 * MSG_SEAL_IMAGE  the seal's appearance (PNG) for the caller to place, to a
 *                 caller who may see the seal (as GET /v1/seals/{seal}: a
 *                 read, not ledgered). Whether it may seal, now, is the
 *                 PAdES MSG_SIGN's question, checked and ledgered there.
 * MSG_PDF_SEALED  the SHA-256 of the sealed PDF made with the CMS of a
 *                 PAdES sign entry, ledgered before the PDF leaves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../ledger/ledger.h"
#include "mon_int.h"

int
mon_seal_image(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_reply r = { .status = 200, .content_type = "image/png" };
	struct store_principal p;
	struct store_seal s;
	struct msg_seal_get v;
	uint8_t *png = NULL;
	size_t len = 0;
	int rc;

	if (msg_seal_get_dec(m, &v) != 0)
		return SB_EINVAL;
	if (!mon_is_ready(mon))
		return mon_reply_err(reply, m->id, 503, "sealed",
		    "the appliance is sealed: administrators must enter their shares");
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	if ((rc = store_seal_get(mon->store, v.seal, &s)) != 0 ||
	    policy_may_see(mon, &p, &s) != 0) {
		if (rc == 0)
			store_seal_clear(&s);
		return mon_reply_err(reply, m->id, 404, "unknown_seal",
		    "no seal '%s' is visible to you", v.seal);
	}
	if ((rc = store_image_get(mon->store, s.image_sha256, &png, &len)) == SB_ENOTFOUND)
		rc = mon_reply_err(reply, m->id, 409, "no_seal_image",
		    "seal '%s' has no appearance image", v.seal);
	else if (rc != 0)
		rc = mon_reply_err(reply, m->id, 503, "ledger_unavailable",
		    "the policy store cannot be read (%s); retry later", sb_strerror(rc));
	else {
		r.body = png;
		r.body_len = len;
		rc = msg_reply_enc(reply, m->id, &r);
	}
	free(png);
	store_seal_clear(&s);
	return rc;
}

/* 1 when entry is a PAdES seal made by actor that worked. */
static int
pades_entry_of(const json_t *e, const char *actor, char *seal, size_t seal_len)
{
	const char *a = json_string_value(json_object_get(e, "action"));
	const char *who = json_string_value(json_object_get(e, "actor"));
	const char *res = json_string_value(json_object_get(e, "result"));
	const char *prof = json_string_value(json_object_get(e, "profile"));
	const char *s = json_string_value(json_object_get(e, "seal"));

	if (a == NULL || who == NULL || res == NULL || prof == NULL || s == NULL ||
	    strcmp(a, "sign") != 0 || strcmp(res, "ok") != 0 || strcmp(prof, "pades") != 0 ||
	    strcmp(who, actor) != 0)
		return 0;
	snprintf(seal, seal_len, "%s", s);
	return 1;
}

int
mon_pdf_sealed(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct store_principal p;
	struct msg_pdf_sealed v;
	char hex[65], seal[MSG_ID_MAX];
	uint8_t leaf[32];
	uint64_t seq = 0;
	json_t *e = NULL, *out;
	int rc, ok;

	if (msg_pdf_sealed_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	if ((rc = ledger_entry_json(mon->ledger, v.seq, &e)) != 0 && rc != SB_ENOTFOUND)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable",
		    "the ledger cannot be read (%s)", sb_strerror(rc));
	ok = rc == 0 && pades_entry_of(json_object_get(e, "entry"), p.name, seal, sizeof(seal));
	json_decref(e);
	if (!ok) {
		log_err("monitor: the net worker named entry %llu as %s's PDF seal, and it "
		    "is not", (unsigned long long)v.seq, p.name);
		return SB_EINVAL;	/* the net worker is broken: drop the link */
	}
	mon_hex(v.output_sha256, sizeof(v.output_sha256), hex);
	out = json_pack("{s:s,s:s,s:s,s:s,s:I,s:{s:s,s:s},s:I}", "action", "sign-pdf-output",
	    "actor", p.name, "on_behalf_of", v.who.on_behalf_of, "seal", seal,
	    "sign_seq", (json_int_t)v.seq, "output_digest", "alg", "sha256", "value", hex,
	    "output_length", (json_int_t)v.output_len);
	if ((rc = mon_ledger(mon, out, &seq, leaf)) != 0)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable",
		    "the ledger cannot be written (%s); the sealed PDF is withheld",
		    sb_strerror(rc));
	return mon_reply_json(reply, m->id, 200, json_pack("{s:I}", "seq", (json_int_t)seq));
}
