/*
 * The monitor's answers to the net worker. Each handler decodes its message
 * (a decode failure is our child misbehaving: SB_EINVAL, and the caller
 * drops the link), checks what the request means, and fills the reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../formats/cms.h"
#include "mon_int.h"

#define MON_ENTRIES_MAX 1000

static const char *
md_name(int nid)
{
	return nid == NID_sha256 ? "sha256" : nid == NID_sha384 ? "sha384" :
	    nid == NID_sha512 ? "sha512" : NULL;
}

static size_t
md_len(int nid)
{
	return nid == NID_sha256 ? 32 : nid == NID_sha384 ? 48 : nid == NID_sha512 ? 64 : 0;
}

int
mon_health(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	unsigned have = 0, need = mon->cfg->quorum.threshold;
	json_t *o;

	if (ipc_get_end(m) != 0)
		return SB_EINVAL;
	pthread_mutex_lock(&mon->lock);
	if (mon->unseal != NULL)
		have = custody_set_count(mon->unseal);
	if (mon->state == MON_SEALED)
		o = json_pack("{s:s,s:s,s:{s:i,s:i}}", "state", "sealed", "version", SB_VERSION,
		    "unseal", "have", (int)have, "need", (int)need);
	else if (mon->hsm_fault[0] || mon->ledger_fault[0])
		o = json_pack("{s:s,s:s,s:s}", "state", "degraded", "version", SB_VERSION,
		    "reason", mon->hsm_fault[0] ? mon->hsm_fault : mon->ledger_fault);
	else
		o = json_pack("{s:s,s:s}", "state", "ready", "version", SB_VERSION);
	pthread_mutex_unlock(&mon->lock);
	return mon_reply_json(reply, m->id, 200, o);
}

static json_t *
seal_json(const struct store_seal *s)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", s->id, "name", s->name,
	    "type", s->type, "state", s->state, "key_type", s->key_type, "unit", s->unit,
	    "certificate", s->cert_pem ? s->cert_pem : "", "image_sha256", s->image_sha256);
}

struct list_ctx {
	struct mon *mon;
	const struct store_principal *p;
	json_t *arr;
};

static int
list_one(void *arg, const struct store_seal *s)
{
	struct list_ctx *c = arg;

	if (policy_may_see(c->mon, c->p, s) == 0)
		json_array_append_new(c->arr, seal_json(s));
	return 0;
}

int
mon_seals_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_ident_only v;
	struct store_principal p;
	struct list_ctx c = { mon, &p, NULL };
	int rc;

	if (msg_ident_only_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	if ((c.arr = json_array()) == NULL)
		return SB_ENOMEM;
	if ((rc = store_seal_each(mon->store, list_one, &c)) != 0) {
		json_decref(c.arr);
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "%s", sb_strerror(rc));
	}
	return mon_reply_json(reply, m->id, 200, json_pack("{s:o}", "seals", c.arr));
}

int
mon_seal_get(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_seal_get v;
	struct store_principal p;
	struct store_seal s;
	int rc;

	if (msg_seal_get_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	rc = store_seal_get(mon->store, v.seal, &s);
	if (rc != 0 || policy_may_see(mon, &p, &s) != 0) {
		if (rc == 0)
			store_seal_clear(&s);
		return mon_reply_err(reply, m->id, 404, "unknown_seal",
		    "no seal '%s' is visible to you", v.seal);
	}
	rc = mon_reply_json(reply, m->id, 200, seal_json(&s));
	store_seal_clear(&s);
	return rc;
}

/* A PAdES seal's entry says so, and where in which PDF it went. */
static int
pdf_entry(json_t *e, const struct msg_sign *v)
{
	char in[65];

	mon_hex(v->pdf.input_sha256, sizeof(v->pdf.input_sha256), in);
	return json_object_set_new(e, "profile", json_string("pades")) != 0 ||
	    json_object_set_new(e, "pdf", json_pack("{s:{s:s,s:s},s:i,s:[f,f,f,f],s:s}",
	    "input_digest", "alg", "sha256", "value", in, "page", (int)v->pdf.page,
	    "rect", v->pdf.x / 100.0, v->pdf.y / 100.0, v->pdf.w / 100.0, v->pdf.h / 100.0,
	    "reason", v->pdf.reason)) != 0 ? SB_ENOMEM : 0;
}

/* The ledger entry of one sign request, refused or not. */
static json_t *
sign_entry(const struct msg_sign *v, const char *actor, const char *result,
    const uint8_t *cms, size_t cms_len)
{
	char dg[2 * MSG_DIGEST_MAX + 1], sg[65];
	uint8_t h[32];
	json_t *e;

	mon_hex(v->digest, v->digest_len, dg);
	e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s},s:s}", "action", "sign",
	    "actor", actor, "on_behalf_of", v->who.on_behalf_of, "seal", v->seal,
	    "document_name", v->document_name, "document_digest",
	    "alg", md_name(v->md_nid) ? md_name(v->md_nid) : "unknown", "value", dg,
	    "result", result);
	if (e != NULL && v->approval[0] != '\0')	/* the use request it executes */
		json_object_set_new(e, "approval", json_string(v->approval));
	if (e != NULL && v->profile == MSG_PROFILE_PADES && pdf_entry(e, v) != 0) {
		json_decref(e);
		return NULL;
	}
	if (e != NULL && cms != NULL) {
		/* The CMS itself goes into the entry: durable in the same commit,
		 * and the evidence bundle is built from the ledger alone. */
		char *b = mon_b64(cms, cms_len);

		SHA256(cms, cms_len, h);
		mon_hex(h, sizeof(h), sg);
		json_object_set_new(e, "signature_digest", json_string(sg));
		if (b == NULL) {
			json_decref(e);
			return NULL;
		}
		json_object_set_new(e, "cms", json_string(b));
		free(b);
	}
	return e;
}

/* Refuse a sign request: ledger the refusal (extra's members added to the
 * entry: consumed, NULL for none), then answer. */
static int
sign_refuse_with(struct mon *mon, const struct msg_sign *v, const char *actor, uint32_t id,
    struct ipc_msg *reply, uint16_t status, const char *code, const char *text, json_t *extra)
{
	struct msg_sign_result r = { .status = status };
	char result[64];
	json_t *e;

	snprintf(result, sizeof(result), "refused:%s", code);
	e = sign_entry(v, actor, result, NULL, 0);
	if (e != NULL && extra != NULL)
		(void)json_object_update(e, extra);
	json_decref(extra);
	/* A refusal that cannot be ledgered is still refused (and raises no alert). */
	if (mon_ledger(mon, e, &r.seq, r.leaf) == 0)
		mon_alert_refusal(mon, v, actor, status, code, text, r.seq);
	snprintf(r.code, sizeof(r.code), "%s", code);
	snprintf(r.message, sizeof(r.message), "%s", text);
	return msg_sign_result_enc(reply, id, &r);
}

static int
sign_refuse(struct mon *mon, const struct msg_sign *v, const char *actor, uint32_t id,
    struct ipc_msg *reply, uint16_t status, const char *code, const char *text)
{
	return sign_refuse_with(mon, v, actor, id, reply, status, code, text, NULL);
}

/* A refusal was answered: 1, or the encoder's error. */
static int
refused(int rc)
{
	return rc != 0 ? rc : 1;
}

int
mon_sign_refuse_extra(struct mon *mon, const struct msg_sign *v, const char *actor,
    uint32_t id, struct ipc_msg *reply, uint16_t status, const char *code, const char *text,
    json_t *extra)
{
	return refused(sign_refuse_with(mon, v, actor, id, reply, status, code, text, extra));
}

/* A person named with on_behalf_of: p must be allowed to act for them. */
static int
sign_check_behalf(struct mon *mon, const struct msg_sign *v, uint32_t id,
    struct ipc_msg *reply, const struct store_principal *p)
{
	const char *person = v->who.on_behalf_of;
	char text[MSG_TEXT_MAX];
	int rc;

	if (person[0] == '\0' || (rc = policy_may_act_for(mon, p, person)) == 0)
		return 0;
	if (rc == SB_EPERM)
		snprintf(text, sizeof(text), "'%s' may not act on behalf of '%s'", p->name, person);
	else if (rc == SB_ENOTFOUND)
		snprintf(text, sizeof(text), "'%s' may act on behalf of '%s', but '%s' is not "
		    "an active principal", p->name, person, person);
	else
		return refused(sign_refuse(mon, v, p->name, id, reply, 503, "ledger_unavailable",
		    "the policy store cannot be read; retry later"));
	return refused(sign_refuse(mon, v, p->name, id, reply, 403, "not_on_behalf", text));
}

/* 1 when v is on behalf of a person who holds a grant on its seal: the
 * application carries the person's grant (policy_grant_check decides). */
static int
sign_person_granted(struct mon *mon, const struct msg_sign *v)
{
	return v->who.on_behalf_of[0] != '\0' &&
	    store_grant_has(mon->store, v->seal, v->who.on_behalf_of) == 0;
}

/* A refusal of policy_grant_check or policy_quota_take, ledgered; or 503. */
static int
sign_grant_refuse(struct mon *mon, const struct msg_sign *v, const char *actor, uint32_t id,
    struct ipc_msg *reply, int rc, const struct policy_grant_result *gr)
{
	if (rc == SB_EPERM)
		return refused(sign_refuse(mon, v, actor, id, reply, gr->status, gr->code,
		    gr->message));
	return refused(sign_refuse(mon, v, actor, id, reply, 503, "ledger_unavailable",
	    "the policy store cannot be read or written; retry later"));
}

/*
 * The grant wants the person's one-time code (confirm: totp): the person on
 * whose behalf an application seals, else the caller. A code is used up
 * here, whatever follows.
 */
static int
sign_check_otp(struct mon *mon, const struct msg_sign *v, const char *actor, uint32_t id,
    struct ipc_msg *reply)
{
	const char *person = v->who.on_behalf_of[0] != '\0' ? v->who.on_behalf_of : actor;
	char why[MSG_TEXT_MAX];
	int rc = mon_totp_check(mon, person, v->otp, why, sizeof(why));

	if (rc == 0)
		return 0;
	if (rc == MON_TOTP_INVALID || rc == MON_TOTP_REPLAYED || rc == MON_TOTP_NOT_ENROLLED)
		return refused(sign_refuse(mon, v, actor, id, reply, 403, mon_totp_code(rc), why));
	return refused(sign_refuse(mon, v, actor, id, reply, 503, mon_totp_code(rc), why));
}

/* Checks before signing; 0 to go on, else the refusal was answered. */
static int
sign_check(struct mon *mon, const struct msg_sign *v, const char *actor, uint32_t id,
    struct ipc_msg *reply, struct store_seal *s, const struct store_principal *p)
{
	struct policy_grant_result gr;
	int need_approval = 0;
	long long now = (long long)time(NULL);
	char text[MSG_TEXT_MAX];
	int rc;

	/* Who is asking comes first: the actor (checked by the caller), then the person. */
	if ((rc = sign_check_behalf(mon, v, id, reply, p)) != 0)
		return rc;
	if (md_len(v->md_nid) == 0 || md_len(v->md_nid) != v->digest_len)
		return refused(sign_refuse(mon, v, actor, id, reply, 400, "bad_digest",
		    "the digest's length does not match its algorithm"));
	if (store_seal_get(mon->store, v->seal, s) != 0) {
		snprintf(text, sizeof(text), "no seal '%s' is visible to you", v->seal);
		return refused(sign_refuse(mon, v, actor, id, reply, 404, "unknown_seal", text));
	}
	if (policy_may_sign(mon, p, s) != 0 && !sign_person_granted(mon, v)) {
		snprintf(text, sizeof(text), "'%s' has no grant to use seal '%s'", p->name, v->seal);
		return refused(sign_refuse(mon, v, actor, id, reply, 403, "not_granted", text));
	}
	/* A text/plain document against the sensitive-word library (mon_words.c). */
	if ((rc = mon_sign_check_words(mon, v, actor, id, reply, &need_approval)) != 0)
		return rc;
	/* The grant's conditions; a one-time code, when gr.need_otp, is checked
	 * last but for the quota. */
	if ((rc = policy_grant_check(mon, p, v, now, need_approval, &gr)) != 0)
		return sign_grant_refuse(mon, v, actor, id, reply, rc, &gr);
	if (strcmp(s->state, "active") != 0) {
		snprintf(text, sizeof(text), "seal '%s' is %s", v->seal, s->state);
		return refused(sign_refuse(mon, v, actor, id, reply, 409, "seal_not_active", text));
	}
	if (!tsa_time_ok(mon->tsa))
		return refused(sign_refuse(mon, v, actor, id, reply, 503, "clock_unsynchronized",
		    "the clock is not synchronised: no seal is made until it is"));
	if (gr.need_otp && (rc = sign_check_otp(mon, v, actor, id, reply)) != 0)
		return rc;
	/* An approved use request: checked and used up (mon_req.c). */
	if (v->approval[0] != '\0' && (rc = mon_request_use(mon, actor, v, &gr)) != 0)
		return sign_grant_refuse(mon, v, actor, id, reply, rc, &gr);
	/* Last: a use is counted only when nothing else refuses it. Checked and
	 * counted in one LMDB write transaction; a signature that then fails
	 * at the HSM still counts (docs/policy.md, "Grants and quotas"). */
	if ((rc = policy_quota_take(mon, &gr, now)) != 0) {
		if (v->approval[0] != '\0')
			mon_request_unuse(mon, actor, v, gr.code[0] ? gr.code : "quota");
		return sign_grant_refuse(mon, v, actor, id, reply, rc, &gr);
	}
	return 0;
}

int
mon_sign(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_sign_result r = { .status = 200 };
	struct store_principal p;
	struct store_seal s = { 0 };
	struct msg_sign v;
	uint8_t *cms = NULL;
	size_t cms_len = 0;
	struct mon_signer *signer = NULL;
	char why[MSG_TEXT_MAX];
	int rc;

	if (msg_sign_dec(m, &v) != 0)
		return SB_EINVAL;
	if (!mon_is_ready(mon))
		return sign_refuse(mon, &v, v.who.subject, m->id, reply, 503, "sealed",
		    "the appliance is sealed: administrators must enter their shares");
	if ((rc = mon_principal(mon, &v.who, &p)) != 0 && rc != SB_ENOTFOUND)
		return sign_refuse(mon, &v, v.who.subject, m->id, reply, 503,
		    "ledger_unavailable", "the policy store cannot be read; retry later");
	if (rc != 0 || strcmp(p.state, "active") != 0)
		return sign_refuse(mon, &v, v.who.subject, m->id, reply, 403, "unknown_principal",
		    "this client certificate is not registered to an active principal");
	if (policy_may_call(mon, &p, m->type, why, sizeof(why)) != 0)
		return sign_refuse(mon, &v, p.name, m->id, reply, 403, "forbidden_role", why);
	if ((rc = sign_check(mon, &v, p.name, m->id, reply, &s, &p)) != 0) {
		store_seal_clear(&s);
		return rc < 0 ? rc : 0;
	}
	if ((rc = mon_signer_get(mon, &s, v.md_nid, &signer)) == 0)
		rc = cades_sign_profile(mon_signer_cades(signer), v.profile == MSG_PROFILE_PADES ?
		    CADES_PADES : CADES_CADES, v.digest, v.digest_len, mon->tsa, &cms, &cms_len);
	mon_signer_put(signer);
	store_seal_clear(&s);
	if (rc != 0) {
		mon_fault(mon, mon->hsm_fault, rc == SB_EHSM ? hsm_error(mon->hsm) : "");
		if (v.approval[0] != '\0')
			mon_request_unuse(mon, p.name, &v, rc == SB_EHSM ? "hsm_unavailable" :
			    rc == SB_ESTATE ? "not_signable" : "internal");
		if (rc == SB_EHSM)
			return sign_refuse(mon, &v, p.name, m->id, reply, 503, "hsm_unavailable",
			    "the HSM is failing; retry later");
		if (rc == SB_ESTATE && !tsa_time_ok(mon->tsa))
			return sign_refuse(mon, &v, p.name, m->id, reply, 503,
			    "clock_unsynchronized", "the clock is not synchronised");
		if (rc == SB_ESTATE)
			return sign_refuse(mon, &v, p.name, m->id, reply, 409, "seal_not_active",
			    "the seal's certificate or the TSA's has expired");
		log_err("monitor: signing with seal %s failed: %s", v.seal, sb_strerror(rc));
		return sign_refuse(mon, &v, p.name, m->id, reply, 500, "internal",
		    "signing failed; see the appliance log");
	}
	mon_fault(mon, mon->hsm_fault, "");
	/* Invariant 2: the signature leaves only after its entry is durable. */
	rc = mon_ledger(mon, sign_entry(&v, p.name, "ok", cms, cms_len), &r.seq, r.leaf);
	if (rc != 0) {
		free(cms);
		if (v.approval[0] != '\0')	/* kept used if the ledger refuses this too */
			mon_request_unuse(mon, p.name, &v, "ledger_unavailable");
		r.status = 503;
		snprintf(r.code, sizeof(r.code), "ledger_unavailable");
		snprintf(r.message, sizeof(r.message), "the ledger cannot be written (%s); "
		    "nothing was sealed", sb_strerror(rc));
		return msg_sign_result_enc(reply, m->id, &r);
	}
	mon_alert_sealed(mon, &v, p.name, r.seq);
	if (v.profile == MSG_PROFILE_PADES)
		mon_pdf_expect(&v, p.name, r.seq);
	r.cms = cms;
	r.cms_len = cms_len;
	rc = msg_sign_result_enc(reply, m->id, &r);
	free(cms);
	return rc;
}
