/*
 * The monitor's read side: /v1/verify, /v1/tsa, the ledger, its proofs and
 * evidence bundles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../formats/cms.h"
#include "mon_int.h"

static void
iso_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Which seal, which ledger entry, and was the seal active then. */
static void
verify_locate(struct mon *mon, const struct msg_verify *v, const struct cms_verify_result *r,
    json_t *o)
{
	uint8_t sha[32], cms_sha[32];
	char id[STORE_ID_MAX];
	struct store_seal s;
	uint64_t seq;
	unsigned char *der = NULL;
	int n;

	if (r->signer != NULL && (n = i2d_X509(r->signer, &der)) > 0) {
		SHA256(der, (size_t)n, sha);
		OPENSSL_free(der);
		if (store_seal_by_cert(mon->store, sha, id) == 0 &&
		    store_seal_get(mon->store, id, &s) == 0) {
			json_object_set_new(o, "seal", json_string(s.id));
			/* Seals change state only through governance requests (a later
			 * issue); until then a seal that exists was active since it was
			 * made. */
			json_object_set_new(o, "seal_active_then", json_boolean(
			    r->has_signing_time && (long long)r->signing_time * 1000 + 999 >=
			    s.created_ms && strcmp(s.state, "destroyed") != 0));
			store_seal_clear(&s);
		}
	}
	SHA256(v->cms, v->cms_len, cms_sha);
	if (ledger_find_by_sig(mon->ledger, cms_sha, &seq) == 0)
		json_object_set_new(o, "seq", json_integer((json_int_t)seq));
}

int
mon_verify(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct cms_verify_result r;
	struct store_principal p;
	struct msg_verify v;
	char when[32], *subj;
	json_t *o;
	int rc;

	if (msg_verify_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_require_ready(mon, m->id, reply) != 0)
		return 0;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	memset(&r, 0, sizeof(r));
	rc = cms_verify_digest(v.cms, v.cms_len, v.md_nid, v.digest, v.digest_len,
	    mon->trust, &r);
	if (rc != 0 && rc != SB_ECRYPTO && rc != SB_EINVAL) {
		cms_verify_result_clear(&r);
		return mon_reply_err(reply, m->id, 500, "internal", "verification failed: %s",
		    sb_strerror(rc));
	}
	if (!r.valid) {
		o = json_pack("{s:b,s:s,s:s}", "valid", 0, "reason", cms_reason_code(r.reason),
		    "detail", r.detail);
		cms_verify_result_clear(&r);
		return mon_reply_json(reply, m->id, 200, o);
	}
	o = json_pack("{s:b}", "valid", 1);
	if (r.signer != NULL && (subj = X509_NAME_oneline(X509_get_subject_name(r.signer),
	    NULL, 0)) != NULL) {
		json_object_set_new(o, "signer", json_string(subj));
		OPENSSL_free(subj);
	}
	if (r.has_signing_time) {
		iso_time(r.signing_time, when, sizeof(when));
		json_object_set_new(o, "signing_time", json_string(when));
	}
	if (r.has_timestamp) {
		iso_time(r.timestamp_time, when, sizeof(when));
		json_object_set_new(o, "timestamp_time", json_string(when));
	}
	verify_locate(mon, &v, &r, o);
	cms_verify_result_clear(&r);
	return mon_reply_json(reply, m->id, 200, o);
}

/*
 * The ledger entry of a timestamp reply (der): for a granted one, action
 * "timestamp" with who asked, the message imprint (algorithm and hex), the
 * token's serial and time, and the SHA-256 of the token (its DER). 0 when
 * it is durable or the reply grants nothing; else SB_*.
 */
static int
tsa_ledger(struct mon *mon, const char *actor, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
	TS_TST_INFO *info = resp != NULL ? TS_RESP_get_tst_info(resp) : NULL;
	PKCS7 *tok = resp != NULL ? TS_RESP_get_token(resp) : NULL;
	unsigned char *td = NULL, md[SHA256_DIGEST_LENGTH];
	char th[2 * SHA256_DIGEST_LENGTH + 1], ih[2 * EVP_MAX_MD_SIZE + 1], serial[80] = "";
	char when[32] = "";
	const ASN1_OCTET_STRING *imprint;
	const ASN1_GENERALIZEDTIME *gt;
	BIGNUM *bn;
	char *sx;
	uint64_t seq;
	uint8_t leaf[32];
	int tl, rc = 0;

	ERR_clear_error();
	if (resp == NULL) {
		log_err("monitor: the TSA's reply does not parse: not sent");
		return SB_EINVAL;
	}
	if (info == NULL || tok == NULL) {	/* a rejection: no signature in it */
		TS_RESP_free(resp);
		return 0;
	}
	imprint = TS_MSG_IMPRINT_get_msg(TS_TST_INFO_get_msg_imprint(info));
	mon_hex(ASN1_STRING_get0_data(imprint), (size_t)ASN1_STRING_length(imprint) <=
	    EVP_MAX_MD_SIZE ? (size_t)ASN1_STRING_length(imprint) : EVP_MAX_MD_SIZE, ih);
	if ((bn = ASN1_INTEGER_to_BN(TS_TST_INFO_get_serial(info), NULL)) != NULL &&
	    (sx = BN_bn2hex(bn)) != NULL) {
		snprintf(serial, sizeof(serial), "%s", sx);
		OPENSSL_free(sx);
	}
	BN_free(bn);
	if ((gt = TS_TST_INFO_get_time(info)) != NULL)
		snprintf(when, sizeof(when), "%.*s", ASN1_STRING_length(gt),
		    (const char *)ASN1_STRING_get0_data(gt));
	if ((tl = i2d_PKCS7(tok, &td)) <= 0)
		rc = SB_ENOMEM;
	else {
		SHA256(td, (size_t)tl, md);
		mon_hex(md, sizeof(md), th);
		rc = mon_ledger(mon, json_pack("{s:s,s:s,s:s,s:{s:s,s:s},s:s,s:s,s:s}", "action",
		    "timestamp", "actor", actor, "result", "ok", "imprint", "alg",
		    OBJ_nid2sn(OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(
		    TS_TST_INFO_get_msg_imprint(info))->algorithm)), "value", ih, "serial", serial,
		    "gen_time", when, "token_sha256", th), &seq, leaf);
	}
	OPENSSL_free(td);
	TS_RESP_free(resp);
	ERR_clear_error();
	return rc;
}

int
mon_tsa(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_reply r = { .status = 200, .content_type = "application/timestamp-reply" };
	struct store_principal p;
	struct msg_tsa v;
	uint8_t *der = NULL;
	size_t len = 0;
	int rc;

	if (msg_tsa_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_require_ready(mon, m->id, reply) != 0)
		return 0;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	/* A bad query or an untrusted clock is answered by a TSA rejection
	 * reply, as RFC 3161 asks; only a failing HSM is an HTTP error. */
	if ((rc = tsa_respond(mon->tsa, v.query, v.query_len, &der, &len)) != 0) {
		mon_fault(mon, mon->hsm_fault, rc == SB_EHSM ? hsm_error(mon->hsm) : "");
		return mon_reply_err(reply, m->id, rc == SB_EHSM ? 503 : 500,
		    rc == SB_EHSM ? "hsm_unavailable" : "internal",
		    "the timestamp could not be made: %s", sb_strerror(rc));
	}
	/* Invariant 2: a granted token is a signature of the TSA key; it
	 * leaves only once its entry is durable. A rejection carries none. */
	if ((rc = tsa_ledger(mon, p.name, der, len)) != 0) {
		OPENSSL_free(der);
		return rc == SB_ENOMEM ? rc : mon_reply_err(reply, m->id, 503,
		    "ledger_unavailable", "the timestamp could not be recorded: %s",
		    sb_strerror(rc));
	}
	r.body = der;
	r.body_len = len;
	rc = msg_reply_enc(reply, m->id, &r);
	OPENSSL_free(der);
	return rc;
}

/* The newest tree head, made now when the tree grew past the newest one or
 * when it must cover entry `need` (UINT64_MAX: any). */
static int
sth_current(struct mon *mon, uint64_t need, struct ledger_sth *sth)
{
	int rc = ledger_sth_latest(mon->ledger, sth);

	if (rc == 0 && (need == UINT64_MAX || sth->tree_size > need))
		return 0;
	if (rc != 0 && rc != SB_ENOTFOUND)
		return rc;
	if (need != UINT64_MAX && need >= ledger_size(mon->ledger))
		return SB_ENOTFOUND;
	if (rc == SB_ENOTFOUND && ledger_size(mon->ledger) == 0)
		return SB_ENOTFOUND;
	return ledger_sth_make(mon->ledger, mon_sth_sign, mon, sth);
}

int
mon_ledger_sth(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_ident_only v;
	struct store_principal p;
	struct ledger_sth sth;
	json_t *o = NULL;
	int rc;

	if (msg_ident_only_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_require_ready(mon, m->id, reply) != 0)
		return 0;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	if ((rc = sth_current(mon, UINT64_MAX, &sth)) == SB_ENOTFOUND)
		return mon_reply_err(reply, m->id, 404, "not_found", "the ledger is empty");
	if (rc != 0 || ledger_sth_to_json(&sth, &o) != 0)
		return mon_reply_err(reply, m->id, 503, rc == SB_EHSM ? "hsm_unavailable" :
		    "ledger_unavailable", "no tree head could be made: %s", sb_strerror(rc));
	return mon_reply_json(reply, m->id, 200, o);
}

/*
 * A signature's entry holds its CMS, so a page of count entries can be larger
 * than one reply may be. Keep the leading entries that fit MON_PAGE_BYTES:
 * clients page on from the last seq they got (the API says a page may hold
 * fewer entries than asked, never none while entries remain).
 */
static json_t *
entries_within_budget(json_t *arr)
{
	size_t used = 0, keep = 0;

	while (keep < json_array_size(arr)) {
		size_t n = json_dumpb(json_array_get(arr, keep), NULL, 0, JSON_COMPACT);

		if (keep > 0 && used + n + 1 > MON_PAGE_BYTES)
			break;
		used += n + 1;
		keep++;
	}
	while (json_array_size(arr) > keep)
		json_array_remove(arr, json_array_size(arr) - 1);
	return arr;
}

/* A page of entries that v's filters and p's scope let through, as the reply. */
static int
entries_reply(struct mon *mon, const struct store_principal *p,
    const struct msg_ledger_entries *v, uint32_t id, struct ipc_msg *reply)
{
	json_t *arr = NULL, *last;
	uint64_t next;
	size_t got;
	int rc, more;

	if (v->count == 0 || v->count > LEDGER_LIST_MAX)
		return mon_reply_err(reply, id, 400, "bad_query",
		    "count must be 1 to %d", LEDGER_LIST_MAX);
	/* Filters and the caller's scope: mon_stats.c. */
	if ((rc = mon_entries_page(mon, p, v, &arr, &next, &more)) != 0)
		return mon_reply_err(reply, id, 503, "ledger_unavailable", "%s",
		    sb_strerror(rc));
	got = json_array_size(arr);
	arr = entries_within_budget(arr);
	if (json_array_size(arr) < got) {	/* go on after the last entry that fit */
		last = json_array_get(arr, json_array_size(arr) - 1);
		next = (uint64_t)json_integer_value(json_object_get(last, "seq")) + 1;
		more = 1;
	}
	return mon_reply_json(reply, id, 200, json_pack("{s:o,s:I,s:b}", "entries", arr,
	    "next", (json_int_t)next, "more", more));
}

int
mon_ledger_entries(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_ledger_entries v;
	struct store_principal p;

	if (msg_ledger_entries_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_require_ready(mon, m->id, reply) != 0)
		return 0;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	return entries_reply(mon, &p, &v, m->id, reply);
}

void
mon_console_auditor(struct store_principal *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", "console-auditor");
	snprintf(p->kind, sizeof(p->kind), "%s", "person");
	snprintf(p->unit, sizeof(p->unit), "%s", STORE_ROOT_UNIT);
	snprintf(p->state, sizeof(p->state), "%s", "active");
	p->n_roles = 1;
	snprintf(p->roles[0].role, sizeof(p->roles[0].role), "%s", "auditor");
	snprintf(p->roles[0].unit, sizeof(p->roles[0].unit), "%s", STORE_ROOT_UNIT);
}

int
mon_adm_ledger_entries(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_ledger_entries v;
	struct store_principal p;

	if (msg_ledger_entries_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_query", "malformed filters");
	if (mon_require_ready(mon, m->id, reply) != 0)
		return 0;
	mon_console_auditor(&p);
	return entries_reply(mon, &p, &v, m->id, reply);
}

static json_t *
path_json(const uint8_t *path, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++) {
		char *b = mon_b64(path + i * MERKLE_HASH_LEN, MERKLE_HASH_LEN);

		json_array_append_new(arr, json_string(b ? b : ""));
		free(b);
	}
	return arr;
}

int
mon_proof(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	uint8_t path[MERKLE_MAX_PATH * MERKLE_HASH_LEN];
	struct store_principal p;
	struct msg_proof v;
	size_t n = 0;
	uint64_t size;
	int rc, incl = m->type == MSG_PROOF_INCLUSION;

	if (msg_proof_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_require_ready(mon, m->id, reply) != 0)
		return 0;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	size = ledger_size(mon->ledger);
	if (incl) {
		uint64_t ts = v.b ? v.b : size;
		json_t *e = NULL;

		/* The path is hashes only, but it confirms a guess of the
		 * entry's text: the entry must be one the caller may list. */
		if (v.a < ts && ts <= size) {
			if ((rc = ledger_entry_json(mon->ledger, v.a, &e)) != 0)
				return mon_reply_err(reply, m->id, 503, "ledger_unavailable",
				    "%s", sb_strerror(rc));
			if (!mon_entry_visible(mon, &p, json_object_get(e, "entry")))
				ts = 0;
			json_decref(e);
		}
		if (v.a >= ts || ts > size)
			return mon_reply_err(reply, m->id, 404, "not_found",
			    "no entry %llu that you may see in a tree of %llu",
			    (unsigned long long)v.a, (unsigned long long)(v.b ? v.b : size));
		rc = ledger_inclusion_proof(mon->ledger, v.a, ts, path, &n);
		if (rc == 0)
			return mon_reply_json(reply, m->id, 200, json_pack("{s:I,s:I,s:o}",
			    "seq", (json_int_t)v.a, "tree_size", (json_int_t)ts,
			    "path", path_json(path, n)));
	} else {
		if (v.a == 0 || v.a > v.b || v.b > size)
			return mon_reply_err(reply, m->id, 404, "not_found",
			    "need 0 < first <= second <= %llu", (unsigned long long)size);
		rc = ledger_consistency_proof(mon->ledger, v.a, v.b, path, &n);
		if (rc == 0)
			return mon_reply_json(reply, m->id, 200, json_pack("{s:I,s:I,s:o}",
			    "first", (json_int_t)v.a, "second", (json_int_t)v.b,
			    "path", path_json(path, n)));
	}
	return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "%s", sb_strerror(rc));
}

/*
 * The seal certificate that made the signature cms64 (the entry's CMS,
 * base64): the one among its certificates whose SHA-256 the store maps to
 * seal, as PEM; NULL when none does. A seal transferred to another unit has
 * a new certificate since; a bundle for a sealing made before must carry
 * the certificate that made it.
 */
static char *
evidence_signer(struct mon *mon, const char *seal, const char *cms64)
{
	size_t len = cms64 != NULL ? strlen(cms64) : 0;
	const unsigned char *p;
	unsigned char *der;
	CMS_ContentInfo *ci = NULL;
	STACK_OF(X509) *certs = NULL;
	char id[STORE_ID_MAX], *pem = NULL;
	int n;

	if (seal == NULL || len == 0 || len % 4 != 0 || (der = malloc(len / 4 * 3)) == NULL)
		return NULL;
	if ((n = EVP_DecodeBlock(der, (const unsigned char *)cms64, (int)len)) > 0) {
		p = der;
		ci = d2i_CMS_ContentInfo(NULL, &p, n);
	}
	if (ci != NULL)
		certs = CMS_get1_certs(ci);
	for (int i = 0; pem == NULL && i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		unsigned char *xd = NULL;
		uint8_t sha[32];
		int xl = i2d_X509(x, &xd);

		if (xl > 0) {
			SHA256(xd, (size_t)xl, sha);
			if (store_seal_by_cert(mon->store, sha, id) == 0 && strcmp(id, seal) == 0)
				pem = mon_pem(x);
		}
		OPENSSL_free(xd);
	}
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(ci);
	free(der);
	ERR_clear_error();
	return pem;
}

/* The certificates a bundle for a sealing by seal (its CMS: cms64) carries,
 * as PEM. */
static json_t *
evidence_certs(struct mon *mon, const char *seal, const char *cms64)
{
	struct store_seal s;
	json_t *o = json_object();
	char *pem;

	if (o == NULL)
		return NULL;
	if ((pem = evidence_signer(mon, seal, cms64)) != NULL)
		json_object_set_new(o, "seal", json_string(pem));
	else if (seal != NULL && store_seal_get(mon->store, seal, &s) == 0) {
		json_object_set_new(o, "seal", json_string(s.cert_pem));
		store_seal_clear(&s);
	}
	free(pem);
	if ((pem = mon_pem(mon->audit.cert)) != NULL)
		json_object_set_new(o, "audit", json_string(pem));
	free(pem);
	if ((pem = mon_pem(mon->tsa_key.cert)) != NULL)
		json_object_set_new(o, "tsa", json_string(pem));
	free(pem);
	if ((pem = mon_pem(mon->ca.cert)) != NULL)
		json_object_set_new(o, "ca", json_string(pem));
	free(pem);
	return o;
}

/* Bundle of entry seq (a signature) under tree head sth. */
static json_t *
evidence_bundle(struct mon *mon, uint64_t seq, const struct buf *entry,
    const struct ledger_sth *sth, const uint8_t *path, size_t n, json_t *parsed)
{
	uint8_t leaf[MERKLE_HASH_LEN];
	json_t *sthj = NULL, *o;
	char *e64, *l64;

	merkle_leaf_hash(entry->data, entry->len, leaf);
	if (ledger_sth_to_json(sth, &sthj) != 0)
		return NULL;
	e64 = mon_b64(entry->data, entry->len);
	l64 = mon_b64(leaf, sizeof(leaf));
	o = json_pack("{s:i,s:I,s:s?,s:s?,s:{s:I,s:o},s:o,s:O,s:o}", "version", 1,
	    "seq", (json_int_t)seq, "entry", e64, "leaf_hash", l64, "inclusion",
	    "tree_size", (json_int_t)sth->tree_size, "path", path_json(path, n),
	    "sth", sthj, "cms", json_object_get(parsed, "cms"),
	    "certificates", evidence_certs(mon, json_string_value(json_object_get(parsed, "seal")),
	    json_string_value(json_object_get(parsed, "cms"))));
	free(e64);
	free(l64);
	return o;
}

/* The evidence bundle of signature entry seq, as the reply; p the caller
 * (NULL: the console's auditor, who sees all). An entry p may not see is
 * answered as one that is not there. */
static int
evidence_reply(struct mon *mon, const struct store_principal *p, uint64_t seq, uint32_t id,
    struct ipc_msg *reply)
{
	uint8_t path[MERKLE_MAX_PATH * MERKLE_HASH_LEN];
	struct ledger_sth sth;
	struct buf entry;
	json_t *parsed = NULL, *o;
	size_t n = 0;
	int rc;

	buf_init(&entry, LEDGER_ENTRY_MAX);
	rc = ledger_entry_get(mon->ledger, seq, &entry);
	if (rc == 0 && ((parsed = json_loadb((const char *)entry.data, entry.len, 0, NULL)) == NULL ||
	    !json_is_string(json_object_get(parsed, "cms")) ||
	    (p != NULL && !mon_entry_visible(mon, p, parsed))))
		rc = SB_ENOTFOUND;
	if (rc != 0) {
		json_decref(parsed);
		buf_free(&entry);
		return mon_reply_err(reply, id, 404, "not_found", "entry %llu is not a signature "
		    "in the ledger that you may see", (unsigned long long)seq);
	}
	if ((rc = sth_current(mon, seq, &sth)) == 0)
		rc = ledger_inclusion_proof(mon->ledger, seq, sth.tree_size, path, &n);
	if (rc != 0) {
		json_decref(parsed);
		buf_free(&entry);
		return mon_reply_err(reply, id, 503, rc == SB_EHSM ? "hsm_unavailable" :
		    "ledger_unavailable", "no tree head covers this entry yet: %s",
		    sb_strerror(rc));
	}
	o = evidence_bundle(mon, seq, &entry, &sth, path, n, parsed);
	json_decref(parsed);
	buf_free(&entry);
	return mon_reply_json(reply, id, 200, o);
}

int
mon_evidence(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct store_principal p;
	struct msg_evidence v;

	if (msg_evidence_dec(m, &v) != 0)
		return SB_EINVAL;
	if (mon_require_ready(mon, m->id, reply) != 0)
		return 0;
	if (mon_who(mon, &v.who, m->type, m->id, reply, &p) != 0)
		return 0;
	return evidence_reply(mon, &p, v.seq, m->id, reply);
}

int
mon_adm_evidence(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct msg_evidence v;

	if (msg_evidence_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	if (mon_require_ready(mon, m->id, reply) != 0)
		return 0;
	return evidence_reply(mon, NULL, v.seq, m->id, reply);
}
