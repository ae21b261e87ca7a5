/* Small helpers the monitor's handlers share. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "mon_int.h"

int
mon_reply_json(struct ipc_msg *reply, uint32_t id, uint16_t status, json_t *body)
{
	struct msg_reply r = { .status = status, .content_type = "application/json" };
	char *text;
	int rc;

	if (body == NULL)
		return mon_reply_err(reply, id, 500, "internal", "out of memory");
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL)
		return mon_reply_err(reply, id, 500, "internal", "out of memory");
	r.body = (const uint8_t *)text;
	r.body_len = strlen(text);
	rc = msg_reply_enc(reply, id, &r);
	free(text);
	return rc;
}

int
mon_reply_err(struct ipc_msg *reply, uint32_t id, uint16_t status, const char *code,
    const char *fmt, ...)
{
	char text[MSG_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return msg_reply_error(reply, id, status, code, text);
}

char *
mon_b64(const uint8_t *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

void
mon_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

char *
mon_pem(X509 *cert)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (b == NULL)
		return NULL;
	if (PEM_write_bio_X509(b, cert) == 1 && (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return out;
}

void
mon_fault(struct mon *mon, char *slot, const char *reason)
{
	pthread_mutex_lock(&mon->lock);
	if (reason[0] != '\0' && slot[0] == '\0')
		log_err("monitor: fault: %s", reason);
	else if (reason[0] == '\0' && slot[0] != '\0')
		log_info("monitor: recovered from: %s", slot);
	snprintf(slot, MON_REASON_MAX, "%s", reason);
	pthread_mutex_unlock(&mon->lock);
}

int
mon_ledger(struct mon *mon, json_t *entry, uint64_t *seq, uint8_t leaf[32])
{
	int rc = ledger_append(mon->ledger, entry, seq, leaf);
	char why[MON_REASON_MAX] = "";
	struct ledger_stats st;

	/* Consumed, as every caller assumes: ledger_append keeps no reference. */
	json_decref(entry);
	if (rc != 0) {
		/* LMDB's reason ("No space left on device") says more than SB_EIO's. */
		ledger_stats(mon->ledger, &st);
		snprintf(why, sizeof(why), "ledger: %s", st.why[0] ? st.why : sb_strerror(rc));
	}
	mon_fault(mon, mon->ledger_fault, why);
	return rc;
}

int
mon_is_ready(struct mon *mon)
{
	int ready;

	pthread_mutex_lock(&mon->lock);
	ready = mon->state == MON_READY;
	pthread_mutex_unlock(&mon->lock);
	return ready;
}

int
mon_require_ready(struct mon *mon, uint32_t id, struct ipc_msg *reply)
{
	if (mon_is_ready(mon))
		return 0;
	if (mon_reply_err(reply, id, 503, "sealed",
	    "the appliance is sealed: administrators must enter their shares") != 0)
		return SB_ENOMEM;
	return SB_ESTATE;
}

int
mon_sth_sign(void *arg, const uint8_t *msg, size_t len, uint8_t *sig, size_t *siglen)
{
	struct mon *mon = arg;
	uint8_t d[SHA256_DIGEST_LENGTH];
	int rc;

	SHA256(msg, len, d);
	rc = hsm_sign(mon->hsm, mon->audit.id, mon->audit.id_len, NID_sha256, d, sizeof(d),
	    sig, siglen);
	mon_fault(mon, mon->hsm_fault, rc == 0 ? "" : hsm_error(mon->hsm));
	return rc;
}

int
mon_principal(struct mon *mon, const struct msg_ident *who, struct store_principal *p)
{
	return store_principal_by_cert(mon->store, who->cert_sha256, p);
}

int
mon_who(struct mon *mon, const struct msg_ident *who, uint16_t type, uint32_t id,
    struct ipc_msg *reply, struct store_principal *p)
{
	char why[MSG_TEXT_MAX];
	int rc = mon_principal(mon, who, p);

	if (rc == 0 && strcmp(p->state, "active") == 0) {
		if (policy_may_call(mon, p, type, why, sizeof(why)) == 0)
			return 0;
		log_info("monitor: refused %s: %s", p->name, why);
		mon_reply_err(reply, id, 403, "forbidden_role", "%s", why);
		return SB_EPERM;
	}
	if (rc == 0 || rc == SB_ENOTFOUND) {
		log_info("monitor: refused unknown or disabled principal (%s)", who->subject);
		mon_reply_err(reply, id, 403, "unknown_principal",
		    "this client certificate is not registered to an active principal");
		return SB_EPERM;
	}
	mon_reply_err(reply, id, 503, "ledger_unavailable", "policy store: %s", sb_strerror(rc));
	return SB_EIO;
}

/*
 * Seal signers, made once per (seal, certificate, digest algorithm): making
 * one parses the certificate, checks it against the HSM key and encodes the
 * parts every seal repeats (cades_new). A small direct-mapped cache; a
 * collision just makes one again. Each holder has a reference, so a signer
 * evicted while another thread seals with it lives until that seal is done.
 */
#define SIGNER_CACHE_SLOTS 256

struct mon_signer {
	struct cades *c;
	int refs;			/* under signer_cache.lock */
	char id[STORE_ID_MAX];
	uint8_t sha[32];
	int md_nid;
};

static struct {
	pthread_mutex_t lock;
	struct mon_signer *slot[SIGNER_CACHE_SLOTS];
} signer_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
signer_unref_locked(struct mon_signer *g)
{
	if (g != NULL && --g->refs == 0) {
		cades_free(g->c);
		free(g);
	}
}

void
mon_signer_put(struct mon_signer *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&signer_cache.lock);
	signer_unref_locked(g);
	pthread_mutex_unlock(&signer_cache.lock);
}

const struct cades *
mon_signer_cades(const struct mon_signer *g)
{
	return g->c;
}

/* A new signer with one reference (the caller's). */
static int
signer_make(struct mon *mon, const struct store_seal *s, int md_nid, struct mon_signer **out)
{
	struct mon_signer *g;
	X509 *cert;
	BIO *b;
	int rc;

	if ((b = BIO_new_mem_buf(s->cert_pem, -1)) == NULL)
		return SB_ENOMEM;
	cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (cert == NULL) {
		ERR_clear_error();
		log_err("monitor: seal %s: its certificate does not parse", s->id);
		return SB_EINVAL;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL)
		rc = SB_ENOMEM;
	else if ((rc = cades_new(mon->hsm, s->key_id, sizeof(s->key_id), cert, mon->chain,
	    md_nid, &g->c)) != 0) {
		free(g);
		g = NULL;
	}
	X509_free(cert);
	if (g == NULL)
		return rc;
	g->refs = 1;
	snprintf(g->id, sizeof(g->id), "%s", s->id);
	memcpy(g->sha, s->cert_sha256, sizeof(g->sha));
	g->md_nid = md_nid;
	*out = g;
	return 0;
}

int
mon_signer_get(struct mon *mon, const struct store_seal *s, int md_nid, struct mon_signer **out)
{
	unsigned h = 2166136261u;
	struct mon_signer *g = NULL;
	int rc;

	for (const char *p = s->id; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ (unsigned)md_nid) * 16777619u % SIGNER_CACHE_SLOTS;
	pthread_mutex_lock(&signer_cache.lock);
	g = signer_cache.slot[h];
	if (g != NULL && g->md_nid == md_nid && strcmp(g->id, s->id) == 0 &&
	    memcmp(g->sha, s->cert_sha256, sizeof(g->sha)) == 0)
		g->refs++;
	else
		g = NULL;
	pthread_mutex_unlock(&signer_cache.lock);
	if (g != NULL) {
		*out = g;
		return 0;
	}
	if ((rc = signer_make(mon, s, md_nid, &g)) != 0)
		return rc;
	pthread_mutex_lock(&signer_cache.lock);
	signer_unref_locked(signer_cache.slot[h]);
	g->refs++;			/* the cache's reference */
	signer_cache.slot[h] = g;
	pthread_mutex_unlock(&signer_cache.lock);
	*out = g;
	return 0;
}

int
mon_ledger_scan(struct mon *mon, uint64_t *cur, uint64_t size,
    int (*fn)(void *arg, json_t *item), void *arg)
{
	size_t scanned = 0, i;
	json_t *page, *item;
	int rc = MON_SCAN_NEXT;

	while (rc == MON_SCAN_NEXT && scanned < MON_SCAN_MAX && *cur < size) {
		uint64_t chunk = size - *cur;

		if (chunk > LEDGER_LIST_MAX)
			chunk = LEDGER_LIST_MAX;
		if (chunk > MON_SCAN_MAX - scanned)
			chunk = MON_SCAN_MAX - scanned;
		if ((rc = ledger_entries(mon->ledger, *cur, (size_t)chunk, &page)) != 0)
			return rc;
		if (json_array_size(page) == 0) {
			json_decref(page);
			return SB_EIO;	/* below the committed size: cannot be */
		}
		json_array_foreach(page, i, item) {
			if ((rc = fn(arg, item)) < 0 || rc == MON_SCAN_STOP)
				break;
			scanned++;
			*cur = (uint64_t)json_integer_value(json_object_get(item, "seq")) + 1;
			if (rc == MON_SCAN_LAST)
				break;
		}
		json_decref(page);
	}
	return rc < 0 ? rc : 0;
}

int
mon_reload_parent(struct mon *mon)
{
	if (kill(mon->parent, SIGHUP) == 0)
		return 0;
	log_err("monitor: seald's parent (pid %d) could not be asked to re-read the TLS "
	    "files: %s; send seald SIGHUP", (int)mon->parent, strerror(errno));
	return SB_EIO;
}

void
mon_asn1_time(const ASN1_TIME *t, char out[21])
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 21, "?");
}

long long
mon_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec + 1;	/* never 0: callers mark "never" with 0 */
}

int
mon_require_ca(struct mon *mon, uint32_t id, struct ipc_msg *reply)
{
	if (mon_is_ready(mon))
		return 0;
	if (mon_reply_err(reply, id, 503, "sealed", "the appliance CA is in the HSM: unseal "
	    "first") != 0)
		return SB_ENOMEM;
	return SB_ESTATE;
}
