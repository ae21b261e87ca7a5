/*
 * mon_pdf — the monitor's two PDF-only messages. The PDF itself never comes
 * here: the net worker parses and rewrites it (daemon/formats/pdf.c) and
 * sends a digest in a PAdES MSG_SIGN (mon_net.c). Around that:
 *
 * MSG_SEAL_IMAGE  the seal's appearance (PNG) for the caller to place, to a
 *                 caller who may see the seal (as GET /v1/seals/{seal}: a
 *                 read, not ledgered), or who acts for a person with a
 *                 grant on it. Whether it may seal, now, is the
 *                 PAdES MSG_SIGN's question, checked and ledgered there.
 * MSG_PDF_SEALED  the SHA-256 of the sealed PDF made with the CMS of a
 *                 PAdES sign entry, ledgered before the PDF leaves: only for
 *                 a PAdES seal this monitor has just made for the same
 *                 principal (mon_pdf_expect), and only once; the seal and
 *                 the person come from that seal, not from the message.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "mon_int.h"

/* An application acting for a person who holds a grant on the seal (as
 * MSG_SIGN allows it) may see the seal's image. */
static int
person_sees(struct mon *mon, const struct store_principal *p, const struct msg_seal_get *v)
{
	const char *person = v->who.on_behalf_of;

	return person[0] != '\0' && policy_may_act_for(mon, p, person) == 0 &&
	    store_grant_has(mon->store, v->seal, person) == 0;
}

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
	    (policy_may_see(mon, &p, &s) != 0 && !person_sees(mon, &p, &v))) {
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

/*
 * The PAdES seals whose output has not been ledgered yet: a small table,
 * the oldest overwritten when full (its PDF then cannot leave: a client
 * that slow has long given up). In memory: a monitor restart forgets them,
 * and the net worker, restarted with it, has dropped their jobs anyway.
 */
#define PDF_EXPECT_MAX 1024
#define PDF_EXPECT_SECONDS 600

static struct {
	pthread_mutex_t lock;
	struct pdf_expect {
		uint64_t seq;		/* 0: free */
		time_t made;
		char actor[MSG_ID_MAX];
		char behalf[MSG_ID_MAX];
		char seal[MSG_ID_MAX];
	} e[PDF_EXPECT_MAX];
	size_t next;
} expect = { .lock = PTHREAD_MUTEX_INITIALIZER };

void
mon_pdf_expect(const struct msg_sign *v, const char *actor, uint64_t seq)
{
	struct pdf_expect *x;

	pthread_mutex_lock(&expect.lock);
	x = &expect.e[expect.next];
	expect.next = (expect.next + 1) % PDF_EXPECT_MAX;
	x->seq = seq;
	x->made = time(NULL);
	snprintf(x->actor, sizeof(x->actor), "%s", actor);
	snprintf(x->behalf, sizeof(x->behalf), "%s", v->who.on_behalf_of);
	snprintf(x->seal, sizeof(x->seal), "%s", v->seal);
	pthread_mutex_unlock(&expect.lock);
}

/* Take the expected seal seq of actor into out; 0, or SB_ENOTFOUND. */
static int
expect_take(uint64_t seq, const char *actor, struct pdf_expect *out)
{
	time_t now = time(NULL);
	int rc = SB_ENOTFOUND;

	pthread_mutex_lock(&expect.lock);
	for (size_t i = 0; i < PDF_EXPECT_MAX; i++) {
		struct pdf_expect *x = &expect.e[i];

		if (x->seq != seq || seq == 0 || strcmp(x->actor, actor) != 0)
			continue;
		if (now - x->made <= PDF_EXPECT_SECONDS) {
			*out = *x;
			rc = 0;
		}
		x->seq = 0;
		break;
	}
	pthread_mutex_unlock(&expect.lock);
	return rc;
}

int
mon_pdf_sealed(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct store_principal p;
	struct msg_pdf_sealed v;
	struct pdf_expect x;
	char hex[65];
	uint8_t leaf[32];
	uint64_t seq = 0;
	json_t *out;
	int rc;

	if (msg_pdf_sealed_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	if (expect_take(v.seq, p.name, &x) != 0) {
		log_err("monitor: %s's PDF names seal %llu, which is not a recent PDF seal of "
		    "theirs awaiting its output", p.name, (unsigned long long)v.seq);
		return mon_reply_err(reply, m->id, 409, "pdf_output_unexpected",
		    "entry %llu is not a PDF seal awaiting its output; nothing was ledgered",
		    (unsigned long long)v.seq);
	}
	mon_hex(v.output_sha256, sizeof(v.output_sha256), hex);
	out = json_pack("{s:s,s:s,s:s,s:s,s:I,s:{s:s,s:s},s:I}", "action", "sign-pdf-output",
	    "actor", p.name, "on_behalf_of", x.behalf, "seal", x.seal,
	    "sign_seq", (json_int_t)v.seq, "output_digest", "alg", "sha256", "value", hex,
	    "output_length", (json_int_t)v.output_len);
	if ((rc = mon_ledger(mon, out, &seq, leaf)) != 0)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable",
		    "the ledger cannot be written (%s); the sealed PDF is withheld",
		    sb_strerror(rc));
	return mon_reply_json(reply, m->id, 200, json_pack("{s:I}", "seq", (json_int_t)seq));
}
