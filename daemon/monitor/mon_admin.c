/*
 * The monitor's admin commands (from sealadm over the admin socket): status,
 * unseal, and the simplest seal, principal and grant registration (a
 * principal's kind, unit and roles are given when it is registered: the
 * bootstrap path until role changes become approved requests). Every
 * change is ledgered. The governance work puts these behind admin logins,
 * roles and approvals; until then the admin socket (mode 0600, peer
 * credentials checked) is the gate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "../../hsm/ca.h"
#include "../../hsm/keyctl.h"
#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../../lib/netcfg.h"
#include "../../lib/secret.h"
#include "../formats/png.h"
#include "mon_int.h"


static const char *const seal_types[] = {
	"official", "contract", "finance", "legal-representative", "personal",
	"invoice", "hr", "bidding", "other",
};

/* [A-Za-z0-9._-], 1..max-1 characters, as the net worker also requires. */
static int
valid_id(const char *s, size_t max, int allow_at)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
		    s[i] == '-' || (allow_at && s[i] == '@')))
			return 0;
	return 1;
}

static json_t *
entry(struct mon *mon, const char *action)
{
	return json_pack("{s:s,s:s,s:s}", "action", action, "actor", mon->admin_actor,
	    "result", "ok");
}

/*
 * Admin changes are ledgered before they take effect, so that no change is
 * ever in force without a trace: e is committed first, then apply() makes
 * the change; if that fails, a second entry records the failure. A crash
 * between the two leaves an entry for a change that was not made, which the
 * next administrator sees and which grants nothing.
 */
int
mon_ledgered_change(struct mon *mon, json_t *e, int (*apply)(void *), void *arg)
{
	return mon_ledgered_change_seq(mon, e, apply, arg, NULL);
}

int
mon_ledgered_change_seq(struct mon *mon, json_t *e, int (*apply)(void *), void *arg,
    uint64_t *change_seq)
{
	uint8_t leaf[32];
	uint64_t seq;
	json_t *fail;
	int rc;

	if (e == NULL)
		return SB_ENOMEM;
	if ((rc = mon_ledger(mon, json_incref(e), &seq, leaf)) != 0) {
		json_decref(e);
		return rc;
	}
	if (change_seq != NULL)
		*change_seq = seq;
	if ((rc = apply(arg)) != 0) {
		char why[64];

		snprintf(why, sizeof(why), "failed:%s", sb_strerror(rc));
		fail = json_deep_copy(e);
		if (fail != NULL) {
			json_object_set_new(fail, "result", json_string(why));
			json_object_set_new(fail, "of_seq", json_integer((json_int_t)seq));
			(void)mon_ledger(mon, fail, &seq, leaf);
		}
	}
	json_decref(e);
	return rc;
}

int
mon_adm_status(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	unsigned have = 0;
	size_t admins = 0;
	json_t *o;

	if (ipc_get_end(m) != 0)
		return SB_EINVAL;
	/* -1: unknown (the store cannot be read); 0 tells the console that
	 * first boot did not finish making the accounts. */
	if (store_admin_count(mon->store, &admins) != 0)
		admins = (size_t)-1;
	pthread_mutex_lock(&mon->lock);
	if (mon->unseal != NULL)
		have = custody_set_count(mon->unseal);
	o = json_pack("{s:s,s:s,s:i,s:i,s:I,s:s,s:s,s:I}", "appliance", mon->cfg->appliance.id,
	    "state", mon->state == MON_READY ? "ready" : "sealed", "have", (int)have,
	    "need", (int)mon->cfg->quorum.threshold,
	    "ledger_size", (json_int_t)ledger_size(mon->ledger),
	    "hsm", mon->hsm_fault[0] ? mon->hsm_fault : "ok",
	    "ledger", mon->ledger_fault[0] ? mon->ledger_fault : "ok",
	    "admins", admins == (size_t)-1 ? (json_int_t)-1 : (json_int_t)admins);
	if (o != NULL && mon->tls_serving[0] != '\0' &&
	    json_object_set_new(o, "tls_serving_sha256", json_string(mon->tls_serving)) != 0) {
		json_decref(o);
		o = NULL;
	}
	pthread_mutex_unlock(&mon->lock);
	return mon_reply_json(reply, m->id, 200, o);
}

/* Finds the appliance key labelled label, with its certificate. */
static int
find_key(struct hsm *h, const struct hsm_key_info *keys, size_t n, const char *label,
    struct mon_key *k)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(keys[i].label, label) != 0)
			continue;
		memcpy(k->id, keys[i].id, keys[i].id_len);
		k->id_len = keys[i].id_len;
		return hsm_cert_get(h, k->id, k->id_len, &k->cert);
	}
	return SB_ENOTFOUND;
}

/* The audit certificate on disk (which verified the ledger at start) must be
 * the token's: otherwise someone replaced both ledger and certificate. */
static int
check_audit_pem(struct mon *mon, char *why, size_t len)
{
	char path[4096];
	X509 *disk = NULL;
	FILE *f;
	int same;

	snprintf(path, sizeof(path), "%s/audit.pem", mon->cfg->appliance.state_dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;	/* never made: the ledger was empty at start */
	disk = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	same = disk != NULL && X509_cmp(disk, mon->audit.cert) == 0;
	X509_free(disk);
	if (!same) {
		snprintf(why, len, "%s does not hold the token's audit certificate", path);
		return SB_ESTATE;
	}
	return 0;
}

int
mon_open_appliance(struct mon *mon, struct hsm *h, char *why, size_t len)
{
	struct hsm_key_info *keys = NULL;
	size_t n = 0;
	int rc;

	if ((rc = hsm_key_list(h, &keys, &n)) != 0) {
		snprintf(why, len, "cannot list the token's keys: %s", sb_strerror(rc));
		return rc;
	}
	if (find_key(h, keys, n, MON_LABEL_CA, &mon->ca) != 0 ||
	    find_key(h, keys, n, MON_LABEL_TSA, &mon->tsa_key) != 0 ||
	    find_key(h, keys, n, MON_LABEL_AUDIT, &mon->audit) != 0) {
		free(keys);
		snprintf(why, len, "the token lacks the appliance keys: run "
		    "`sealprov appliance-init` first");
		mon_close_appliance(mon);
		return SB_ESTATE;
	}
	free(keys);
	mon->hsm = h;
	if ((rc = check_audit_pem(mon, why, len)) != 0)
		goto fail;
	rc = SB_ENOMEM;
	if ((mon->chain = sk_X509_new_null()) == NULL || !sk_X509_push(mon->chain, mon->ca.cert) ||
	    !X509_up_ref(mon->ca.cert) || (mon->trust = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(mon->trust, mon->ca.cert) != 1)
		goto fail;
	if ((rc = tsa_new(h, mon->tsa_key.id, mon->tsa_key.id_len, mon->tsa_key.cert,
	    mon->chain, MON_TSA_POLICY, &mon->tsa)) != 0) {
		snprintf(why, len, "cannot start the TSA: %s", sb_strerror(rc));
		goto fail;
	}
	tsa_set_require_sync(mon->tsa, (int)mon->cfg->time.require_sync);
	return 0;
fail:
	if (why[0] == '\0')
		snprintf(why, len, "%s", sb_strerror(rc));
	mon->hsm = NULL;
	mon_close_appliance(mon);
	return rc;
}

void
mon_close_appliance(struct mon *mon)
{
	tsa_free(mon->tsa);
	mon->tsa = NULL;
	X509_STORE_free(mon->trust);
	mon->trust = NULL;
	sk_X509_pop_free(mon->chain, X509_free);
	mon->chain = NULL;
	X509_free(mon->ca.cert);
	X509_free(mon->tsa_key.cert);
	X509_free(mon->audit.cert);
	mon->ca.cert = mon->tsa_key.cert = mon->audit.cert = NULL;
	hsm_close(mon->hsm);
	mon->hsm = NULL;
}

/* With the set complete: unseal, or start over. Called with mon->lock held. */
static int
unseal_finish(struct mon *mon, uint32_t id, struct ipc_msg *reply, enum keyctl_settled *settled)
{
	char err[512] = "", why[512] = "";
	struct hsm *h = NULL;
	int rc;

	if (mon->module_fault[0] != '\0') {
		/* Loading it now would map code under the seccomp filter. */
		custody_set_free(mon->unseal);
		mon->unseal = NULL;
		return mon_reply_err(reply, id, 503, "hsm_unavailable", "%s (at start); "
		    "restart seald once the PKCS#11 module loads", mon->module_fault);
	}
	rc = keyctl_unseal(mon->cfg, mon->unseal, &h, settled, err, sizeof(err));
	custody_set_free(mon->unseal);	/* wipes the shares; S was wiped inside */
	mon->unseal = NULL;
	if (rc != 0)
		return mon_reply_err(reply, id, 400, "unseal_failed", "%s; enter the shares "
		    "again", err);
	if ((rc = mon_open_appliance(mon, h, why, sizeof(why))) != 0) {
		hsm_close(h);
		return mon_reply_err(reply, id, 409, "not_initialised", "%s", why);
	}
	mon->state = MON_READY;
	log_info("monitor: unsealed");
	return 0;
}

int
mon_adm_unseal(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_unseal *v = secret_alloc(sizeof(*v));
	char err[512] = "", detail[256] = "";
	unsigned have = 0, need = mon->cfg->quorum.threshold;
	enum keyctl_settled settled = KEYCTL_SETTLED_NONE;
	uint64_t seq;
	uint8_t leaf[32];
	json_t *e = NULL;
	int rc, ready = 0;

	if (v == NULL)
		return SB_ENOMEM;
	if (adm_unseal_dec(m, v) != 0) {
		secret_free(&v);
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed unseal request");
	}
	pthread_mutex_lock(&mon->lock);
	if (mon->state == MON_READY) {
		pthread_mutex_unlock(&mon->lock);
		secret_free(&v);
		return mon_reply_json(reply, m->id, 200, json_pack("{s:s}", "state", "ready"));
	}
	if (mon->unseal == NULL &&
	    (rc = keyctl_set_new(mon->cfg, &mon->unseal, err, sizeof(err))) != 0) {
		pthread_mutex_unlock(&mon->lock);
		secret_free(&v);
		return mon_reply_err(reply, m->id, 409, "not_provisioned", "%s", err);
	}
	rc = custody_set_add(mon->unseal, v->share, &have, &need, detail, sizeof(detail));
	secret_free(&v);
	if (rc != 0) {
		pthread_mutex_unlock(&mon->lock);
		return mon_reply_err(reply, m->id, 400, "bad_share", "%s%s%s", sb_strerror(rc),
		    detail[0] ? ": " : "", detail);
	}
	if (have >= need) {
		if ((rc = unseal_finish(mon, m->id, reply, &settled)) != 0 || reply->body.len > 0) {
			pthread_mutex_unlock(&mon->lock);
			return rc;
		}
		ready = 1;
	}
	pthread_mutex_unlock(&mon->lock);
	/* An interrupted re-share this unseal settled is said with it. */
	if (ready && (e = entry(mon, "unseal")) != NULL && settled != KEYCTL_SETTLED_NONE &&
	    json_object_set_new(e, "reshare_settled", json_string(settled ==
	    KEYCTL_SETTLED_FINISHED ? "finished" : "discarded")) != 0) {
		json_decref(e);
		e = NULL;
	}
	if (ready)
		(void)mon_ledger(mon, e, &seq, leaf);
	return mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:i,s:i}", "state",
	    ready ? "ready" : "sealed", "have", (int)have, "need", (int)need));
}

static int
valid_png(const uint8_t *p, size_t n)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t *rgba = NULL;
	unsigned w, h;
	int ok;

	/* The whole image decodes (a truncated or corrupt one, e.g. a line lost
	 * in a paste at the console, is refused), as the PDF seal will need. */
	if (n <= sizeof(sig) || memcmp(p, sig, sizeof(sig)) != 0)
		return 0;
	ok = png_decode_rgba(p, n, 0, &rgba, &w, &h) == 0;
	free(rgba);
	return ok;
}

static int
valid_seal_type(const char *t)
{
	for (size_t i = 0; i < sizeof(seal_types) / sizeof(seal_types[0]); i++)
		if (strcmp(t, seal_types[i]) == 0)
			return 1;
	return 0;
}

/* Checks a seal-create request; 0, or the error was put in reply (1). */
static int
seal_create_check(struct mon *mon, struct adm_seal_create *v, enum hsm_key_type *kt,
    uint32_t id, struct ipc_msg *reply)
{
	struct store_seal old;
	uint8_t rnd[6];
	int rc = 1;

	if (v->id[0] == '\0') {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return SB_ECRYPTO;
		memcpy(v->id, "seal-", 5);
		mon_hex(rnd, sizeof(rnd), v->id + 5);
	}
	if (!valid_id(v->id, MSG_ID_MAX, 0))
		mon_reply_err(reply, id, 400, "bad_request", "seal id must be 1 to 63 of "
		    "A-Z a-z 0-9 . _ -");
	else if (v->name[0] == '\0')
		mon_reply_err(reply, id, 400, "bad_request", "the seal needs a name");
	else if (!valid_seal_type(v->type))
		mon_reply_err(reply, id, 400, "bad_request", "unknown seal type '%s'", v->type);
	else if (hsm_key_type_parse(v->key_type, kt) != 0)
		mon_reply_err(reply, id, 400, "bad_request", "key type must be ec-p256, "
		    "ec-p384, rsa-2048 or rsa-3072");
	else if (!valid_id(v->unit, MSG_ID_MAX, 0))
		mon_reply_err(reply, id, 400, "bad_request", "the seal needs a unit");
	else if (!valid_png(v->image, v->image_len))
		mon_reply_err(reply, id, 400, "bad_request", "the seal image must be a PNG that "
		    "decodes whole (at most 4096 pixels a side)");
	else if (store_seal_get(mon->store, v->id, &old) == 0) {
		store_seal_clear(&old);
		mon_reply_err(reply, id, 409, "exists", "seal '%s' already exists", v->id);
	} else
		rc = 0;
	return rc;
}

/* Key pair in the HSM, certificate from the appliance CA, stored with it. */
static int
seal_make_key(struct mon *mon, const struct adm_seal_create *v, enum hsm_key_type kt,
    struct store_seal *s, X509 **cert)
{
	EVP_PKEY *pub = NULL;
	unsigned char *der = NULL;
	int rc, n;

	if ((rc = hsm_keygen(mon->hsm, kt, v->id, s->key_id)) != 0)
		return rc;
	if ((rc = hsm_key_public(mon->hsm, s->key_id, sizeof(s->key_id), &pub)) == 0)
		rc = ca_issue(mon->hsm, mon->ca.id, mon->ca.id_len, mon->ca.cert, pub, v->name,
		    v->unit, CA_PROFILE_SEAL, NULL, MON_SEAL_CERT_DAYS, cert);
	EVP_PKEY_free(pub);
	if (rc == 0)
		rc = hsm_cert_store(mon->hsm, s->key_id, sizeof(s->key_id), v->id, *cert);
	if (rc == 0 && (n = i2d_X509(*cert, &der)) > 0) {
		SHA256(der, (size_t)n, s->cert_sha256);
		OPENSSL_free(der);
	}
	if (rc != 0) {
		X509_free(*cert);
		*cert = NULL;
		(void)hsm_key_destroy(mon->hsm, s->key_id, sizeof(s->key_id));
	}
	return rc;
}

struct seal_store_arg {
	struct mon *mon;
	struct store_seal *s;
	const struct adm_seal_create *v;
};

static int
seal_store(void *arg)
{
	struct seal_store_arg *a = arg;
	int rc = store_image_put(a->mon->store, a->s->image_sha256, a->v->image,
	    a->v->image_len);

	return rc != 0 ? rc : store_seal_add(a->mon->store, a->s);
}

int
mon_adm_seal_create(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_seal_create v;
	struct seal_store_arg sa;
	struct store_seal s;
	enum hsm_key_type kt;
	uint8_t img[32];
	X509 *cert = NULL;
	json_t *e;
	int rc;

	if (adm_seal_create_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	if (mon_require_ready(mon, m->id, reply) != 0)
		return 0;
	if ((rc = seal_create_check(mon, &v, &kt, m->id, reply)) != 0)
		return rc < 0 ? rc : 0;
	memset(&s, 0, sizeof(s));
	if ((rc = seal_make_key(mon, &v, kt, &s, &cert)) != 0)
		return mon_reply_err(reply, m->id, 503, "hsm_unavailable",
		    "the seal's key or certificate could not be made: %s", sb_strerror(rc));
	snprintf(s.id, sizeof(s.id), "%s", v.id);
	snprintf(s.name, sizeof(s.name), "%s", v.name);
	snprintf(s.type, sizeof(s.type), "%s", v.type);
	snprintf(s.key_type, sizeof(s.key_type), "%s", v.key_type);
	snprintf(s.unit, sizeof(s.unit), "%s", v.unit);
	snprintf(s.state, sizeof(s.state), "active");
	SHA256(v.image, v.image_len, img);
	mon_hex(img, sizeof(img), s.image_sha256);
	s.created_ms = (long long)time(NULL) * 1000;
	s.cert_pem = mon_pem(cert);
	X509_free(cert);
	if ((e = entry(mon, "seal.create")) != NULL) {
		json_object_set_new(e, "seal", json_string(s.id));
		json_object_set_new(e, "seal_name", json_string(s.name));
		json_object_set_new(e, "key_type", json_string(s.key_type));
		json_object_set_new(e, "image_sha256", json_string(s.image_sha256));
	}
	sa.mon = mon;
	sa.s = &s;
	sa.v = &v;
	rc = s.cert_pem == NULL ? SB_ENOMEM : mon_ledgered_change(mon, e, seal_store, &sa);
	if (rc != 0) {
		if (s.cert_pem == NULL)
			json_decref(e);
		(void)hsm_key_destroy(mon->hsm, s.key_id, sizeof(s.key_id));
		store_seal_clear(&s);
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable",
		    "the seal could not be registered: %s", sb_strerror(rc));
	}
	log_info("monitor: seal %s (%s) created by %s", s.id, s.key_type, mon->admin_actor);
	rc = mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:s,s:s}", "id", s.id,
	    "certificate", s.cert_pem, "state", s.state));
	store_seal_clear(&s);
	return rc;
}

/* The certificate must chain to the configured client CA: any other could
 * never authenticate, and registering it would only confuse. */
static int
principal_cert(struct mon *mon, const struct adm_principal_add *v, X509 **out, char *why,
    size_t len)
{
	BIO *b = BIO_new_mem_buf(v->cert_pem, (int)v->cert_len);
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	int ok = 0;

	BIO_free(b);
	if (c == NULL) {
		snprintf(why, len, "not a PEM certificate");
		return SB_EINVAL;
	}
	if (mon->cfg->tls.client_ca == NULL)
		ok = 1;
	else if ((st = X509_STORE_new()) != NULL &&
	    X509_STORE_load_file(st, mon->cfg->tls.client_ca) == 1 &&
	    (ctx = X509_STORE_CTX_new()) != NULL && X509_STORE_CTX_init(ctx, st, c, NULL) == 1)
		ok = X509_verify_cert(ctx) == 1;
	if (!ok)
		snprintf(why, len, "the certificate does not chain to the client CA (%s)",
		    ctx ? X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)) : "no CA");
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	if (!ok) {
		X509_free(c);
		return SB_EINVAL;
	}
	*out = c;
	return 0;
}

_Static_assert(STORE_ACT_FOR_MAX >= MSG_ACT_FOR_MAX && STORE_ID_MAX >= MSG_ID_MAX,
    "a principal record holds every may_act_for name the admin message can carry");

/* The may_act_for names of v into p: principal names, no repeats, not p itself.
 * 0, or the error was put in reply (1). */
static int
principal_act_for(const struct adm_principal_add *v, struct store_principal *p, uint32_t id,
    struct ipc_msg *reply)
{
	for (size_t i = 0; i < v->n_may_act_for; i++) {
		const char *n = v->may_act_for[i];

		if (!valid_id(n, MSG_ID_MAX, 1))
			return mon_reply_err(reply, id, 400, "bad_request", "may_act_for[%zu]: a "
			    "principal name is 1 to 63 of A-Z a-z 0-9 . _ - @", i) ? SB_ENOMEM : 1;
		if (strcmp(n, v->name) == 0)
			return mon_reply_err(reply, id, 400, "bad_request", "may_act_for[%zu]: a "
			    "principal acts for itself without naming itself", i) ? SB_ENOMEM : 1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(n, v->may_act_for[j]) == 0)
				return mon_reply_err(reply, id, 400, "bad_request", "may_act_for[%zu]: "
				    "'%s' is named twice", i, n) ? SB_ENOMEM : 1;
		snprintf(p->may_act_for[i], sizeof(p->may_act_for[i]), "%s", n);
	}
	p->n_may_act_for = v->n_may_act_for;
	return 0;
}

_Static_assert(STORE_ROLES_MAX >= MSG_ROLES_MAX && STORE_ROLE_MAX >= MSG_ROLE_MAX,
    "a principal record holds every role assignment the admin message can carry");

/* A unit the record may name: an existing one. 0, or the error put in reply (1). */
static int
principal_unit_ok(struct mon *mon, const char *unit, const char *what, uint32_t id,
    struct ipc_msg *reply)
{
	struct store_unit u;
	int rc = store_unit_get(mon->store, unit, &u);

	if (rc == 0)
		return 0;
	if (rc == SB_ENOTFOUND)
		return mon_reply_err(reply, id, 404, "unknown_unit", "%s: no unit '%s'", what,
		    unit) ? SB_ENOMEM : 1;
	return mon_reply_err(reply, id, 503, "ledger_unavailable", "policy store: %s",
	    sb_strerror(rc)) ? SB_ENOMEM : 1;
}

/*
 * Kind, unit and roles of v into p: a known kind, existing units, known
 * roles, no assignment twice, and no two roles that are an exclusive pair
 * (the message names both). No role given: requester in the principal's
 * unit, what every principal was before roles. 0, or the error put in reply
 * (1), or SB_ENOMEM.
 */
static int
principal_roles(struct mon *mon, const struct adm_principal_add *v, struct store_principal *p,
    uint32_t id, struct ipc_msg *reply)
{
	char a[STORE_ROLE_MAX], b[STORE_ROLE_MAX], what[48];
	int rc;

	snprintf(p->kind, sizeof(p->kind), "%s", v->kind[0] ? v->kind : "person");
	if (strcmp(p->kind, "person") != 0 && strcmp(p->kind, "application") != 0)
		return mon_reply_err(reply, id, 400, "bad_request", "kind: 'person' or "
		    "'application'") ? SB_ENOMEM : 1;
	snprintf(p->unit, sizeof(p->unit), "%s", v->unit[0] ? v->unit : STORE_ROOT_UNIT);
	if ((rc = principal_unit_ok(mon, p->unit, "unit", id, reply)) != 0)
		return rc;
	for (size_t i = 0; i < v->n_roles; i++) {
		struct store_role *r = &p->roles[i];

		snprintf(r->role, sizeof(r->role), "%s", v->roles[i]);
		snprintf(r->unit, sizeof(r->unit), "%s", v->role_units[i][0] ? v->role_units[i] :
		    p->unit);
		if (!policy_role_ok(r->role))
			return mon_reply_err(reply, id, 400, "unknown_role", "roles[%zu]: no role "
			    "'%s' (sealadm role list shows them)", i, r->role) ? SB_ENOMEM : 1;
		snprintf(what, sizeof(what), "roles[%zu]", i);
		if ((rc = principal_unit_ok(mon, r->unit, what, id, reply)) != 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->role, p->roles[j].role) == 0 &&
			    strcmp(r->unit, p->roles[j].unit) == 0)
				return mon_reply_err(reply, id, 400, "bad_request", "roles[%zu]: '%s' "
				    "over '%s' is given twice", i, r->role, r->unit) ? SB_ENOMEM : 1;
	}
	p->n_roles = v->n_roles;
	/* No role given: a requester in its unit; but what a sysadmin registers
	 * (a business system) holds no role at all until the secadmin gives it
	 * one, so that the sysadmin cannot mint a reader of business data. */
	if (p->n_roles == 0 && strcmp(mon->admin_role, "sysadmin") != 0) {
		snprintf(p->roles[0].role, sizeof(p->roles[0].role), "requester");
		snprintf(p->roles[0].unit, sizeof(p->roles[0].unit), "%s", p->unit);
		p->n_roles = 1;
	}
	if ((rc = policy_roles_conflict(mon, p, a, b, sizeof(a))) == SB_EPERM)
		return mon_reply_err(reply, id, 409, "roles_exclusive", "the roles '%s' and '%s' "
		    "are mutually exclusive: no principal may hold both", a, b) ? SB_ENOMEM : 1;
	if (rc != 0)
		return mon_reply_err(reply, id, 503, "ledger_unavailable", "policy store: %s",
		    sb_strerror(rc)) ? SB_ENOMEM : 1;
	return 0;
}

/* p's role assignments as a JSON array of {"role","unit"}. */
static json_t *
roles_json(const struct store_principal *p)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < p->n_roles; i++)
		if (json_array_append_new(a, json_pack("{s:s,s:s}", "role", p->roles[i].role,
		    "unit", p->roles[i].unit)) != 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

/* p's may_act_for as a JSON array (for the ledger entry and the reply). */
static json_t *
act_for_json(const struct store_principal *p)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < p->n_may_act_for; i++)
		if (json_array_append_new(a, json_string(p->may_act_for[i])) != 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

struct principal_store_arg {
	struct mon *mon;
	const struct store_principal *p;
};

static int
principal_store(void *arg)
{
	struct principal_store_arg *a = arg;

	return store_principal_add(a->mon->store, a->p);
}

/*
 * Register v (checked here) as a principal, ledgered first; the answer in
 * reply. issued: the certificate's PEM when the appliance CA has just issued
 * it (ADM_ENROL): ledgered as such and handed back in the answer.
 */
static int
principal_add(struct mon *mon, const struct adm_principal_add *vp, uint32_t id,
    struct ipc_msg *reply, const char *issued)
{
	const struct adm_principal_add v = *vp;
	struct principal_store_arg pa;
	struct store_principal p, old;
	unsigned char *der = NULL;
	char why[256], sha[65], *subj;
	X509 *c = NULL;
	json_t *e, *out;
	int rc, n;

	if (!valid_id(v.name, MSG_ID_MAX, 1))
		return mon_reply_err(reply, id, 400, "bad_request", "principal name must be "
		    "1 to 63 of A-Z a-z 0-9 . _ - @");
	/* A sysadmin enrols business systems; people and roles are policy. */
	if (strcmp(mon->admin_role, "sysadmin") == 0 &&
	    (strcmp(v.kind, "application") != 0 || v.n_roles > 0 || v.n_may_act_for > 0))
		return mon_reply_err(reply, id, 403, "forbidden_role", "a sysadmin registers "
		    "business systems only (--kind application, no roles, no --may-act-for); "
		    "people and roles are the secadmin's");
	memset(&p, 0, sizeof(p));
	if ((rc = principal_act_for(&v, &p, id, reply)) != 0 ||
	    (rc = principal_roles(mon, &v, &p, id, reply)) != 0)
		return rc < 0 ? rc : 0;
	if (principal_cert(mon, &v, &c, why, sizeof(why)) != 0)
		return mon_reply_err(reply, id, 400, "bad_certificate", "%s", why);
	snprintf(p.name, sizeof(p.name), "%s", v.name);
	snprintf(p.state, sizeof(p.state), "active");
	if ((subj = X509_NAME_oneline(X509_get_subject_name(c), NULL, 0)) != NULL) {
		snprintf(p.subject, sizeof(p.subject), "%s", subj);
		OPENSSL_free(subj);
	}
	n = i2d_X509(c, &der);
	X509_free(c);
	if (n <= 0)
		return SB_ENOMEM;
	SHA256(der, (size_t)n, p.cert_sha256);
	OPENSSL_free(der);
	mon_hex(p.cert_sha256, 32, sha);
	if (store_principal_get(mon->store, p.name, &old) == 0 ||
	    store_principal_by_cert(mon->store, p.cert_sha256, &old) == 0)
		return mon_reply_err(reply, id, 409, "exists",
		    "the name or the certificate is already registered");
	/* What the principal may do on others' behalf is part of the change ledgered. */
	if ((e = entry(mon, "principal.add")) != NULL &&
	    ((issued != NULL && json_object_set_new(e, "issued", json_true()) != 0) ||
	    json_object_set_new(e, "principal", json_string(p.name)) != 0 ||
	    json_object_set_new(e, "cert_sha256", json_string(sha)) != 0 ||
	    json_object_set_new(e, "may_act_for", act_for_json(&p)) != 0 ||
	    json_object_set_new(e, "kind", json_string(p.kind)) != 0 ||
	    json_object_set_new(e, "unit", json_string(p.unit)) != 0 ||
	    json_object_set_new(e, "roles", roles_json(&p)) != 0)) {
		json_decref(e);
		e = NULL;	/* ledgered_change answers SB_ENOMEM */
	}
	pa.mon = mon;
	pa.p = &p;
	if ((rc = mon_ledgered_change(mon, e, principal_store, &pa)) == SB_EEXIST)
		return mon_reply_err(reply, id, 409, "exists",
		    "the name or the certificate is already registered");
	if (rc != 0)
		return mon_reply_err(reply, id, 503, "ledger_unavailable", "%s", sb_strerror(rc));
	out = json_pack("{s:s,s:s,s:o*,s:s,s:s,s:o*}", "principal", p.name, "cert_sha256", sha,
	    "may_act_for", act_for_json(&p), "kind", p.kind, "unit", p.unit, "roles",
	    roles_json(&p));
	if (out != NULL && issued != NULL &&
	    json_object_set_new(out, "certificate", json_string(issued)) != 0) {
		json_decref(out);
		out = NULL;
	}
	return mon_reply_json(reply, id, 200, out);
}

int
mon_adm_principal_add(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_principal_add v;

	if (adm_principal_add_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	return principal_add(mon, &v, m->id, reply, NULL);
}

/* 1 when the EC key k is on P-256 or P-384, given by name (not explicit
 * parameters, which could describe a look-alike curve). */
static int
named_curve_ok(const EVP_PKEY *k)
{
	char group[64] = "", enc[32] = "";

	if (EVP_PKEY_get_group_name(k, group, sizeof(group), NULL) != 1 ||
	    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_EC_ENCODING, enc, sizeof(enc),
	    NULL) != 1)
		return 0;
	return strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP) == 0 &&
	    (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0);
}

int
mon_csr_key(const uint8_t *pem, size_t pem_len, EVP_PKEY **out, char *why, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int)pem_len);
	X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = req ? X509_REQ_get0_pubkey(req) : NULL;
	int id = k ? EVP_PKEY_get_base_id(k) : 0, bits = k ? EVP_PKEY_get_bits(k) : 0;
	int rc = SB_EINVAL;

	BIO_free(b);
	if (req == NULL || k == NULL)
		snprintf(why, len, "not a PEM certificate request (-----BEGIN CERTIFICATE "
		    "REQUEST-----)");
	else if (X509_REQ_verify(req, k) != 1)
		snprintf(why, len, "the request's signature does not verify with its own key");
	else if (!(id == EVP_PKEY_EC ? named_curve_ok(k) : id == EVP_PKEY_RSA &&
	    bits >= 2048 && bits <= 8192))
		snprintf(why, len, "the key must be EC P-256 or P-384 (a named curve), or RSA of "
		    "2048 to 8192 bits (this one: %s, %d bits)", OBJ_nid2sn(id), bits);
	else if ((*out = EVP_PKEY_dup(k)) == NULL)
		rc = SB_ENOMEM;
	else
		rc = 0;
	ERR_clear_error();
	X509_REQ_free(req);
	return rc;
}

/*
 * ADM_ENROL: the appliance CA issues a client certificate (CN = the name)
 * for the request's key, and the certificate is registered as an application
 * principal, ledgered ("issued": true); the answer carries its PEM. The
 * request's subject is not used: the appliance names the certificate.
 */
int
mon_adm_enrol(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_enrol v;
	struct adm_principal_add *pa = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	BIO *b = NULL;
	BUF_MEM *pem;
	char why[256], *text = NULL;
	int rc;

	if (adm_enrol_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed enrol request "
		    "(a name, a unit, 0 to %d days, a request of at most %d bytes)",
		    MSG_ENROL_DAYS_MAX, MSG_CERT_MAX);
	if (!valid_id(v.name, MSG_ID_MAX, 1))
		return mon_reply_err(reply, m->id, 400, "bad_request", "principal name must be "
		    "1 to 63 of A-Z a-z 0-9 . _ - @");
	if ((rc = mon_require_ca(mon, m->id, reply)) != 0)
		return rc == SB_ESTATE ? 0 : rc;
	/* What principal_add would refuse, before the CA signs anything. */
	{
		struct store_principal old;

		if (store_principal_get(mon->store, v.name, &old) == 0)
			return mon_reply_err(reply, m->id, 409, "exists",
			    "the name or the certificate is already registered");
		if ((rc = principal_unit_ok(mon, v.unit[0] ? v.unit : STORE_ROOT_UNIT, "unit",
		    m->id, reply)) != 0)
			return rc < 0 ? rc : 0;
	}
	if ((rc = mon_csr_key(v.csr_pem, v.csr_len, &key, why, sizeof(why))) != 0)
		return rc == SB_EINVAL ? mon_reply_err(reply, m->id, 400, "bad_csr", "%s", why) : rc;
	if ((rc = ca_issue(mon->hsm, mon->ca.id, mon->ca.id_len, mon->ca.cert, key, v.name, NULL,
	    CA_PROFILE_TLS_CLIENT, NULL, v.days ? (int)v.days : 365, &cert)) != 0) {
		EVP_PKEY_free(key);
		return mon_reply_err(reply, m->id, 503, "hsm_unavailable", "the appliance CA could "
		    "not issue the certificate: %s", sb_strerror(rc));
	}
	EVP_PKEY_free(key);
	if ((b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(b, cert) != 1 ||
	    BIO_get_mem_ptr(b, &pem) != 1 || (text = strndup(pem->data, pem->length)) == NULL ||
	    (pa = calloc(1, sizeof(*pa))) == NULL)
		rc = SB_ENOMEM;
	else {
		snprintf(pa->name, sizeof(pa->name), "%s", v.name);
		snprintf(pa->kind, sizeof(pa->kind), "application");
		snprintf(pa->unit, sizeof(pa->unit), "%s", v.unit);
		pa->cert_pem = (const uint8_t *)text;
		pa->cert_len = strlen(text);
		rc = principal_add(mon, pa, m->id, reply, text);
	}
	free(pa);
	free(text);
	BIO_free(b);
	X509_free(cert);
	return rc;
}

/* An answered refusal: 1, or the encoder's error. */
static int
refused_adm(int rc)
{
	return rc != 0 ? rc : 1;
}

struct grant_store_arg {
	struct mon *mon;
	const struct store_grant *g;
};

static int
grant_store(void *arg)
{
	struct grant_store_arg *a = arg;

	return store_grant_put(a->mon->store, a->g);
}

/* 1 when s is a document type: [a-z0-9_-]{1,31}, as the net worker requires. */
static int
doc_type_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < STORE_DOCTYPE_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* v's conditions into g, checked; 0, or the refusal was answered (1). */
static int
grant_conditions(struct mon *mon, const struct adm_grant_add *v, struct store_grant *g,
    uint32_t id, struct ipc_msg *reply)
{
	struct store_principal a;
	int rc;

	memset(g, 0, sizeof(*g));
	snprintf(g->seal, sizeof(g->seal), "%s", v->seal);
	snprintf(g->principal, sizeof(g->principal), "%s", v->principal);
	for (size_t i = 0; i < v->n_doc_types; i++) {
		if (!doc_type_ok(v->doc_types[i]))
			return refused_adm(mon_reply_err(reply, id, 400, "bad_request", "document "
			    "type '%s': 1-31 characters of a-z 0-9 _ -", v->doc_types[i]));
		snprintf(g->doc_types[i], sizeof(g->doc_types[i]), "%s", v->doc_types[i]);
	}
	g->n_doc_types = v->n_doc_types;
	for (size_t i = 0; i < v->n_apps; i++) {
		if (!valid_id(v->apps[i], MSG_ID_MAX, 1))
			return refused_adm(mon_reply_err(reply, id, 400, "bad_request",
			    "application names are 1 to 63 of A-Z a-z 0-9 . _ - @"));
		if ((rc = store_principal_get(mon->store, v->apps[i], &a)) != 0 ||
		    strcmp(a.kind, "application") != 0)
			return refused_adm(mon_reply_err(reply, id, 404, "unknown_principal",
			    "no application '%s'", v->apps[i]));
		snprintf(g->apps[i], sizeof(g->apps[i]), "%s", v->apps[i]);
	}
	g->n_apps = v->n_apps;
	if (v->valid_from > INT64_MAX || v->valid_to > INT64_MAX ||
	    (v->valid_from != 0 && v->valid_to != 0 && v->valid_from >= v->valid_to))
		return refused_adm(mon_reply_err(reply, id, 400, "bad_request",
		    "the grant must be valid from a time before it is valid to"));
	if (v->hours >= (1u << 24) || v->days >= 128)
		return refused_adm(mon_reply_err(reply, id, 400, "bad_request",
		    "hours are 0-23 and days mon-sun"));
	if ((v->approval_k == 0) != (v->approval_group[0] == '\0') ||
	    (v->approval_group[0] != '\0' && !valid_id(v->approval_group, MSG_ID_MAX, 0)))
		return refused_adm(mon_reply_err(reply, id, 400, "bad_request", "approval is "
		    "K (1-255) of a group named with 1 to 63 of A-Z a-z 0-9 . _ -"));
	if (v->confirm[0] != '\0' && strcmp(v->confirm, "none") != 0 &&
	    strcmp(v->confirm, "totp") != 0)
		return refused_adm(mon_reply_err(reply, id, 400, "bad_request",
		    "confirm is none or totp"));
	if (v->on_sensitive[0] != '\0' && strcmp(v->on_sensitive, "block") != 0 &&
	    strcmp(v->on_sensitive, "approval") != 0)
		return refused_adm(mon_reply_err(reply, id, 400, "bad_request",
		    "on_sensitive is block or approval"));
	snprintf(g->on_sensitive, sizeof(g->on_sensitive), "%s",
	    strcmp(v->on_sensitive, "approval") == 0 ? "approval" : "block");
	g->per_day = v->per_day;
	g->per_month = v->per_month;
	g->valid_from = (long long)v->valid_from;
	g->valid_to = (long long)v->valid_to;
	g->hours = v->hours;
	g->days = v->days;
	g->approval_k = v->approval_k;
	snprintf(g->approval_group, sizeof(g->approval_group), "%s", v->approval_group);
	snprintf(g->confirm, sizeof(g->confirm), "%s",
	    strcmp(v->confirm, "totp") == 0 ? "totp" : "none");
	return 0;
}

int
mon_adm_grant_add(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_grant_add v;
	struct grant_store_arg ga;
	struct store_principal p;
	struct store_seal s;
	struct store_grant g;
	json_t *e, *cond;
	const char *k;
	json_t *x;
	int rc;

	if (adm_grant_add_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	if (store_seal_get(mon->store, v.seal, &s) != 0)
		return mon_reply_err(reply, m->id, 404, "unknown_seal", "no seal '%s'", v.seal);
	store_seal_clear(&s);
	if (store_principal_get(mon->store, v.principal, &p) != 0)
		return mon_reply_err(reply, m->id, 404, "unknown_principal", "no principal '%s'",
		    v.principal);
	if (store_grant_has(mon->store, v.seal, v.principal) == 0)
		return mon_reply_err(reply, m->id, 409, "exists", "'%s' already has a grant "
		    "for '%s'", v.principal, v.seal);
	if ((rc = grant_conditions(mon, &v, &g, m->id, reply)) != 0)
		return rc < 0 ? rc : 0;
	/* The grant as GET /v1/grants shows it, every condition, is the entry. */
	if ((cond = mon_grant_json(&g)) == NULL)
		return SB_ENOMEM;
	if ((e = entry(mon, "grant.add")) != NULL)
		json_object_foreach(cond, k, x)
			json_object_set(e, k, x);
	ga.mon = mon;
	ga.g = &g;
	if ((rc = mon_ledgered_change(mon, e, grant_store, &ga)) != 0) {
		json_decref(cond);
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "%s", sb_strerror(rc));
	}
	return mon_reply_json(reply, m->id, 200, cond);
}

/* ---- units and roles ------------------------------------------------------ */

struct unit_store_arg {
	struct mon *mon;
	const struct store_unit *u;
};

static int
unit_store(void *arg)
{
	struct unit_store_arg *a = arg;

	return store_unit_add(a->mon->store, a->u);
}

int
mon_adm_unit_add(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_unit_add v;
	struct unit_store_arg ua;
	struct store_unit u, parent;
	json_t *e;
	int rc;

	if (adm_unit_add_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	if (!valid_id(v.id, MSG_ID_MAX, 0))
		return mon_reply_err(reply, m->id, 400, "bad_request", "unit id must be 1 to 63 "
		    "of A-Z a-z 0-9 . _ -");
	if (v.name[0] == '\0')
		return mon_reply_err(reply, m->id, 400, "bad_request", "a unit needs a name");
	if (v.parent[0] == '\0')
		return mon_reply_err(reply, m->id, 400, "bad_request", "a unit needs a parent "
		    "(the root, '%s', is made at first start)", STORE_ROOT_UNIT);
	if ((rc = store_unit_get(mon->store, v.parent, &parent)) == SB_ENOTFOUND)
		return mon_reply_err(reply, m->id, 404, "unknown_unit", "parent: no unit '%s'",
		    v.parent);
	if (rc == 0 && (rc = store_unit_get(mon->store, v.id, &u)) == 0)
		return mon_reply_err(reply, m->id, 409, "exists", "unit '%s' exists", v.id);
	if (rc != SB_ENOTFOUND)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "policy store: %s",
		    sb_strerror(rc));
	memset(&u, 0, sizeof(u));
	snprintf(u.id, sizeof(u.id), "%s", v.id);
	snprintf(u.name, sizeof(u.name), "%s", v.name);
	snprintf(u.parent, sizeof(u.parent), "%s", v.parent);
	if ((e = entry(mon, "unit.add")) != NULL) {
		json_object_set_new(e, "unit", json_string(u.id));
		json_object_set_new(e, "name", json_string(u.name));
		json_object_set_new(e, "parent", json_string(u.parent));
	}
	ua.mon = mon;
	ua.u = &u;
	if ((rc = mon_ledgered_change(mon, e, unit_store, &ua)) == SB_EEXIST)
		return mon_reply_err(reply, m->id, 409, "exists", "unit '%s' exists", v.id);
	if (rc != 0)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "%s", sb_strerror(rc));
	return mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:s,s:s}", "id", u.id,
	    "name", u.name, "parent", u.parent));
}

static int
principal_update(void *arg)
{
	struct principal_store_arg *a = arg;

	return store_principal_update(a->mon->store, a->p);
}

/* p as it now is, after e is ledgered (mon_ledgered_change). */
static int
principal_save(struct mon *mon, struct store_principal *p, json_t *e)
{
	struct principal_store_arg pa = { .mon = mon, .p = p };

	return mon_ledgered_change(mon, e, principal_update, &pa);
}

/* p's new roles, after e is ledgered, and the answer {"principal","roles"}. */
static int
roles_saved(struct mon *mon, struct store_principal *p, json_t *e, uint32_t id,
    struct ipc_msg *reply)
{
	int rc;

	if ((rc = principal_save(mon, p, e)) != 0)
		return mon_reply_err(reply, id, 503, "ledger_unavailable", "%s", sb_strerror(rc));
	return mon_reply_json(reply, id, 200, json_pack("{s:s,s:o*}", "principal", p->name,
	    "roles", roles_json(p)));
}

/* The principal named (into p): 0, or the refusal answered (1), or SB_*. */
static int
principal_named(struct mon *mon, const char *name, struct store_principal *p, uint32_t id,
    struct ipc_msg *reply)
{
	int rc = store_principal_get(mon->store, name, p);

	if (rc == SB_ENOTFOUND)
		return mon_reply_err(reply, id, 404, "unknown_principal", "no principal '%s'",
		    name) ? SB_ENOMEM : 1;
	if (rc != 0)
		return mon_reply_err(reply, id, 503, "ledger_unavailable", "policy store: %s",
		    sb_strerror(rc)) ? SB_ENOMEM : 1;
	return 0;
}

/* The checks of one new assignment r for p; 0, or the error put in reply (1). */
static int
role_assign_check(struct mon *mon, const struct store_principal *p,
    const struct store_role *r, uint32_t id, struct ipc_msg *reply)
{
	char a[STORE_ROLE_MAX], b[STORE_ROLE_MAX];
	struct store_principal with = *p;
	int rc;

	if (!policy_role_ok(r->role))
		return mon_reply_err(reply, id, 400, "unknown_role", "no role '%s' (sealadm role "
		    "list shows them)", r->role) ? SB_ENOMEM : 1;
	if ((rc = principal_unit_ok(mon, r->unit, "unit", id, reply)) != 0)
		return rc;
	for (size_t i = 0; i < p->n_roles; i++)
		if (strcmp(p->roles[i].role, r->role) == 0 && strcmp(p->roles[i].unit, r->unit) == 0)
			return mon_reply_err(reply, id, 409, "exists", "'%s' already holds '%s' "
			    "over '%s'", p->name, r->role, r->unit) ? SB_ENOMEM : 1;
	if (p->n_roles >= STORE_ROLES_MAX)
		return mon_reply_err(reply, id, 409, "too_many_roles", "'%s' holds %d roles, "
		    "the most one principal may", p->name, STORE_ROLES_MAX) ? SB_ENOMEM : 1;
	with.roles[with.n_roles++] = *r;
	if ((rc = policy_roles_conflict(mon, &with, a, b, sizeof(a))) == SB_EPERM)
		return mon_reply_err(reply, id, 409, "roles_exclusive", "the roles '%s' and '%s' "
		    "are mutually exclusive: no principal may hold both", a, b) ? SB_ENOMEM : 1;
	if (rc != 0)
		return mon_reply_err(reply, id, 503, "ledger_unavailable", "policy store: %s",
		    sb_strerror(rc)) ? SB_ENOMEM : 1;
	return 0;
}

int
mon_adm_role_assign(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_role_assign v;
	struct store_principal p;
	struct store_role r;
	json_t *e;
	int rc;

	if (adm_role_assign_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	if ((rc = principal_named(mon, v.principal, &p, m->id, reply)) != 0)
		return rc < 0 ? rc : 0;
	memset(&r, 0, sizeof(r));
	snprintf(r.role, sizeof(r.role), "%s", v.role);
	snprintf(r.unit, sizeof(r.unit), "%s", v.unit[0] ? v.unit : p.unit);
	if ((rc = role_assign_check(mon, &p, &r, m->id, reply)) != 0)
		return rc < 0 ? rc : 0;
	p.roles[p.n_roles++] = r;
	if ((e = entry(mon, "role.assign")) != NULL) {
		json_object_set_new(e, "principal", json_string(p.name));
		json_object_set_new(e, "role", json_string(r.role));
		json_object_set_new(e, "unit", json_string(r.unit));
	}
	return roles_saved(mon, &p, e, m->id, reply);
}

/*
 * A role taken away: less power, so one secadmin does it at once, as a
 * freeze or a grant's revoke takes effect at once; ledgered before the
 * record changes. A principal left with no role can do nothing but see
 * /v1/health (a record with an empty role list is not read as the old
 * default, "requester").
 */
int
mon_adm_role_revoke(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_role_assign v;
	struct store_principal p;
	const char *unit;
	size_t i;
	json_t *e;
	int rc;

	if (adm_role_assign_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	if ((rc = principal_named(mon, v.principal, &p, m->id, reply)) != 0)
		return rc < 0 ? rc : 0;
	unit = v.unit[0] ? v.unit : p.unit;
	for (i = 0; i < p.n_roles; i++)
		if (strcmp(p.roles[i].role, v.role) == 0 && strcmp(p.roles[i].unit, unit) == 0)
			break;
	if (i == p.n_roles)
		return mon_reply_err(reply, m->id, 404, "role_not_held", "'%s' does not hold "
		    "'%s' over '%s'", p.name, v.role, unit);
	if ((e = entry(mon, "role.revoke")) != NULL) {
		json_object_set_new(e, "principal", json_string(p.name));
		json_object_set_new(e, "role", json_string(v.role));
		json_object_set_new(e, "unit", json_string(unit));
	}
	memmove(&p.roles[i], &p.roles[i + 1], (p.n_roles - i - 1) * sizeof(p.roles[0]));
	p.n_roles--;
	return roles_saved(mon, &p, e, m->id, reply);
}

/*
 * A principal disabled (enable 0): every request it makes from now on is
 * refused as from an unknown principal (403 unknown_principal), whichever
 * of its certificates it presents; its record, roles and grants stay for
 * the record. Or enabled again (enable 1): active, with them as they were.
 * At once, by one secadmin; ledgered before the record changes.
 */
static int
principal_state(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply, int enable)
{
	const char *from = enable ? "disabled" : "active", *to = enable ? "active" : "disabled";
	struct adm_principal_name v;
	struct store_principal p;
	json_t *e;
	int rc;

	if (adm_principal_name_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	if ((rc = principal_named(mon, v.principal, &p, m->id, reply)) != 0)
		return rc < 0 ? rc : 0;
	if (strcmp(p.state, from) != 0)
		return enable ? mon_reply_err(reply, m->id, 409, "principal_not_disabled",
		    "'%s' is %s, not disabled", p.name, p.state) : mon_reply_err(reply, m->id,
		    409, "principal_disabled", "'%s' is %s already", p.name, p.state);
	if ((e = entry(mon, enable ? "principal.enable" : "principal.disable")) != NULL)
		json_object_set_new(e, "principal", json_string(p.name));
	snprintf(p.state, sizeof(p.state), "%s", to);
	if ((rc = principal_save(mon, &p, e)) != 0)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "%s", sb_strerror(rc));
	log_info("monitor: %s %s principal %s", mon->admin_actor, enable ? "enabled" :
	    "disabled", p.name);
	return mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:s}", "principal", p.name,
	    "state", p.state));
}

int
mon_adm_principal_disable(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	return principal_state(mon, m, reply, 0);
}

int
mon_adm_principal_enable(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	return principal_state(mon, m, reply, 1);
}

/* The approver groups being gathered: unit id -> {"unit", "name",
 * "approvers": [...], "grants": N}. */
struct groups {
	struct mon *mon;
	json_t *by_unit;
};

static json_t *
group_of(struct groups *g, const char *unit)
{
	struct store_unit u;
	json_t *o = json_object_get(g->by_unit, unit);

	if (o != NULL)
		return o;
	o = json_pack("{s:s,s:s,s:[],s:i}", "unit", unit, "name",
	    store_unit_get(g->mon->store, unit, &u) == 0 ? u.name : "", "approvers", "grants", 0);
	if (o == NULL || json_object_set_new(g->by_unit, unit, o) != 0)
		return NULL;
	return o;
}

static int
group_principal(void *arg, const struct store_principal *p)
{
	struct groups *g = arg;
	json_t *o;

	for (size_t i = 0; i < p->n_roles; i++) {
		if (strcmp(p->roles[i].role, "approver") != 0)
			continue;
		if ((o = group_of(g, p->roles[i].unit)) == NULL)
			return SB_ENOMEM;
		json_array_append_new(json_object_get(o, "approvers"), json_pack("{s:s,s:s}",
		    "principal", p->name, "state", p->state));
	}
	return 0;
}

static int
group_grant(void *arg, const struct store_grant *gr)
{
	struct groups *g = arg;
	json_t *o;

	if (gr->approval_k == 0)
		return 0;
	if ((o = group_of(g, gr->approval_group)) == NULL)
		return SB_ENOMEM;
	json_object_set_new(o, "grants", json_integer(json_integer_value(json_object_get(o,
	    "grants")) + 1));
	return 0;
}

static int
unit_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
mon_adm_approver_groups(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct groups g = { mon, json_object() };
	const char *keys[1024], *k;
	json_t *arr, *v;
	size_t n = 0;
	int rc;

	if (ipc_get_end(m) != 0) {
		json_decref(g.by_unit);
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	}
	if (g.by_unit == NULL)
		return SB_ENOMEM;
	if ((rc = store_principal_each(mon->store, group_principal, &g)) != 0 ||
	    (rc = store_grant_each(mon->store, group_grant, &g)) != 0) {
		json_decref(g.by_unit);
		return rc == SB_ENOMEM ? rc : mon_reply_err(reply, m->id, 503,
		    "ledger_unavailable", "policy store: %s", sb_strerror(rc));
	}
	/* In the order of their unit ids. */
	json_object_foreach(g.by_unit, k, v)
		if (n < sizeof(keys) / sizeof(keys[0]))
			keys[n++] = k;
	qsort(keys, n, sizeof(keys[0]), unit_cmp);
	if ((arr = json_array()) == NULL) {
		json_decref(g.by_unit);
		return SB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		json_array_append(arr, json_object_get(g.by_unit, keys[i]));
	json_decref(g.by_unit);
	return mon_reply_json(reply, m->id, 200, json_pack("{s:o}", "groups", arr));
}

int
mon_adm_role_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	json_t *o;
	int rc;

	if (ipc_get_end(m) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	if ((o = policy_roles_json(mon, &rc)) == NULL)
		return rc == SB_ENOMEM ? rc : mon_reply_err(reply, m->id, 503,
		    "ledger_unavailable", "policy store: %s", sb_strerror(rc));
	return mon_reply_json(reply, m->id, 200, o);
}

/*
 * ADM_POWER: the sysadmin powers the appliance off or restarts it. The
 * monitor cannot run commands (its sandbox): it ledgers the action
 * (appliance.poweroff / appliance.reboot) and sealadm runs the configured
 * command once this answers 200, so that no shutdown goes unrecorded.
 */
int
mon_adm_power(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_power v;
	uint8_t leaf[32];
	uint64_t seq;
	json_t *e;
	int rc;

	if (adm_power_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request",
		    "the action is poweroff or reboot");
	e = json_pack("{s:s,s:s,s:s}", "action", strcmp(v.action, "reboot") == 0 ?
	    "appliance.reboot" : "appliance.poweroff", "actor", mon->admin_actor, "result", "ok");
	if (e == NULL)
		return SB_ENOMEM;
	if ((rc = mon_ledger(mon, e, &seq, leaf)) != 0)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "not ledgered, so not "
		    "done: %s", sb_strerror(rc));
	log_info("monitor: %s by %s (ledger %llu)", v.action, mon->admin_actor,
	    (unsigned long long)seq);
	return mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:I}", "action", v.action,
	    "seq", (json_int_t)seq));
}

/*
 * The sysadmin's network settings: checked, then ledgered with what they
 * are (they are no business data) before sealadm writes the files, as
 * power-off is. The monitor writes nothing outside its state.
 */
int
mon_adm_network(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct netcfg v;
	char why[256];
	uint8_t leaf[32];
	uint64_t seq;
	json_t *e, *dns, *ntp, *sys;
	int rc;

	if (adm_network_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed network settings");
	if (netcfg_check(&v, why, sizeof(why)) != 0 || netcfg_syslog_canon(&v, why,
	    sizeof(why)) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_network", "%s", why);
	dns = json_array();
	ntp = json_array();
	sys = json_array();
	for (unsigned i = 0; i < v.nsyslog; i++)
		json_array_append_new(sys, json_string(v.syslog[i]));
	for (unsigned i = 0; i < v.ndns; i++)
		json_array_append_new(dns, json_string(v.dns[i]));
	for (unsigned i = 0; i < v.nntp; i++)
		json_array_append_new(ntp, json_string(v.ntp[i]));
	/* What the console writes, where, for which interfaces: as seald's
	 * own configuration says (a console with another one is not the
	 * appliance's). */
	e = json_pack("{s:s,s:s,s:s,s:s?,s:o,s:o,s:o,s:s,s:s,s:s}", "action",
	    "appliance.network", "actor", mon->admin_actor, "address", v.address, "gateway",
	    v.gateway[0] ? v.gateway : NULL, "dns", dns, "ntp", ntp, "syslog", sys, "interfaces",
	    mon->cfg->console.network_match, "root", mon->cfg->console.network_root,
	    "result", "ok");
	if (e == NULL)
		return SB_ENOMEM;
	if ((rc = mon_ledger(mon, e, &seq, leaf)) != 0)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "not ledgered, so not "
		    "done: %s", sb_strerror(rc));
	log_info("monitor: network settings by %s (ledger %llu)", mon->admin_actor,
	    (unsigned long long)seq);
	return mon_reply_json(reply, m->id, 200, json_pack("{s:I}", "seq", (json_int_t)seq));
}
