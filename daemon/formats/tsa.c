/*
 * tsa — RFC 3161 responses with OpenSSL's TS_RESP_CTX and an HSM key.
 *
 * Each call builds its own TS_RESP_CTX: the context holds the request being
 * answered, so one shared context would need a lock around the whole
 * response, HSM signature included. Setting one up costs a few microseconds
 * (tests/bench/cmsbench measures it) against tens for the signature.
 *
 * OpenSSL does the parsing and the checks (version, digest algorithm and
 * length, policy, extensions) and turns every failure into a rejection with
 * a PKIFailureInfo bit. What it cannot tell a client from its own failure
 * (the HSM refusing to sign) it reports as a rejection without one; that is
 * how tsa_answer() tells "send this rejection" from "the TSA is broken".
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../../lib/ossl.h"
#include "sd.h"
#include "tsa.h"

#define TSA_SERIAL_BYTES 16

struct tsa {
	struct hsm *h;
	uint8_t id[HSM_ID_MAX];
	size_t id_len;
	X509 *cert;
	STACK_OF(X509) *chain;		/* may be NULL */
	ASN1_OBJECT *policy;
	const EVP_MD *md;		/* signs the token */
	struct sd_signer sd;		/* tsa_stamp's tokens: constant parts */
	struct sd_tst tst;
	atomic_int require_sync;
	_Atomic(tsa_clock_fn) clock;
};

/* One response being made. */
struct tsa_call {
	struct tsa *t;
	int time_refused;
};

int
tsa_clock_synced(void)
{
	struct timex tx;
	int st;

	memset(&tx, 0, sizeof(tx));	/* modes 0: read only */
	st = adjtimex(&tx);
	return st != -1 && st != TIME_ERROR && !(tx.status & STA_UNSYNC);
}

int
tsa_new(struct hsm *h, const uint8_t *key_id, size_t id_len, X509 *cert,
    STACK_OF(X509) *chain, const char *policy_oid, struct tsa **out)
{
	EVP_PKEY *pub;
	struct tsa *t;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (h == NULL || key_id == NULL || id_len == 0 || id_len > HSM_ID_MAX ||
	    cert == NULL || policy_oid == NULL || out == NULL)
		return SB_EINVAL;
	if (chain != NULL && sk_X509_num(chain) > TSA_CHAIN_MAX)
		return SB_ELIMIT;
	if (X509_check_purpose(cert, X509_PURPOSE_TIMESTAMP_SIGN, 0) != 1) {
		log_err("tsa: the certificate is not for time stamping "
		    "(needs a critical timeStamping EKU)");
		return SB_EINVAL;
	}
	/* That cert is key_id's is checked by sd_signer_init below. */
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return SB_ENOMEM;
	t->h = h;
	memcpy(t->id, key_id, id_len);
	t->id_len = id_len;
	if ((t->policy = OBJ_txt2obj(policy_oid, 1)) == NULL) {
		ERR_clear_error();
		log_err("tsa: policy \"%s\" is not a dotted OID", policy_oid);
		tsa_free(t);
		return SB_EINVAL;
	}
	if (X509_up_ref(cert) != 1 ||
	    (chain != NULL && (t->chain = X509_chain_up_ref(chain)) == NULL)) {
		tsa_free(t);
		return SB_ENOMEM;
	}
	t->cert = cert;
	if ((pub = X509_get0_pubkey(cert)) == NULL) {
		tsa_free(t);
		return SB_EINVAL;
	}
	t->md = EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC && EVP_PKEY_get_bits(pub) == 384 ?
	    EVP_sha384() : EVP_sha256();
	/* RFC 5816: signing-certificate-v2 with SHA-256, without issuerSerial,
	 * as OpenSSL's TS code makes it for tsa_respond. */
	if ((rc = sd_signer_init(&t->sd, h, key_id, id_len, cert, chain,
	    EVP_MD_get_type(t->md), NID_id_smime_ct_TSTInfo, NID_sha256, 0)) != 0 ||
	    (rc = sd_tst_init(&t->tst, t->policy, cert)) != 0) {
		tsa_free(t);
		return rc;
	}
	atomic_init(&t->require_sync, 1);
	atomic_init(&t->clock, tsa_clock_synced);
	*out = t;
	return 0;
}

void
tsa_free(struct tsa *t)
{
	if (t == NULL)
		return;
	X509_free(t->cert);
	sk_X509_pop_free(t->chain, X509_free);
	ASN1_OBJECT_free(t->policy);
	sd_signer_clear(&t->sd);
	sd_tst_clear(&t->tst);
	free(t);
}

void
tsa_set_require_sync(struct tsa *t, int on)
{
	if (t != NULL)
		atomic_store(&t->require_sync, on != 0);
}

void
tsa_set_clock_fn(struct tsa *t, tsa_clock_fn fn)
{
	if (t != NULL)
		atomic_store(&t->clock, fn != NULL ? fn : tsa_clock_synced);
}

int
tsa_time_ok(struct tsa *t)
{
	if (t == NULL)
		return 0;
	return !atomic_load(&t->require_sync) || atomic_load(&t->clock)() != 0;
}

/* A random positive 128-bit serial number (OpenSSL frees it). */
static ASN1_INTEGER *
tsa_serial_cb(TS_RESP_CTX *ctx, void *data)
{
	uint8_t r[TSA_SERIAL_BYTES];
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn;

	(void)ctx;
	(void)data;
	/* A NULL return becomes a rejection without failure info: ours. */
	if (RAND_bytes(r, sizeof(r)) != 1)
		return NULL;
	r[0] &= 0x7f;
	if ((bn = BN_bin2bn(r, sizeof(r), NULL)) != NULL)
		ai = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return ai;
}

/* The moment the token's time is taken is the moment the clock is judged. */
static int
tsa_time_cb(TS_RESP_CTX *ctx, void *data, long *sec, long *usec)
{
	struct tsa_call *c = data;
	struct timespec ts;

	if (!tsa_time_ok(c->t) || clock_gettime(CLOCK_REALTIME, &ts) != 0) {
		c->time_refused = 1;
		TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION,
		    "Time is not available: the clock is not synchronised.");
		TS_RESP_CTX_add_failure_info(ctx, TS_INFO_TIME_NOT_AVAILABLE);
		return 0;
	}
	*sec = (long)ts.tv_sec;
	*usec = ts.tv_nsec / 1000;
	return 1;
}

static TS_RESP_CTX *
tsa_ctx(struct tsa *t, EVP_PKEY *key, struct tsa_call *call)
{
	TS_RESP_CTX *ctx = TS_RESP_CTX_new();

	if (ctx == NULL || TS_RESP_CTX_set_signer_cert(ctx, t->cert) != 1 ||
	    TS_RESP_CTX_set_signer_key(ctx, key) != 1 ||
	    TS_RESP_CTX_set_signer_digest(ctx, t->md) != 1 ||
	    TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256()) != 1 ||
	    TS_RESP_CTX_set_certs(ctx, t->chain) != 1 ||
	    TS_RESP_CTX_set_def_policy(ctx, t->policy) != 1 ||
	    TS_RESP_CTX_add_md(ctx, EVP_sha256()) != 1 ||
	    TS_RESP_CTX_add_md(ctx, EVP_sha384()) != 1 ||
	    TS_RESP_CTX_add_md(ctx, EVP_sha512()) != 1 ||
	    TS_RESP_CTX_set_clock_precision_digits(ctx, 3) != 1) {
		TS_RESP_CTX_free(ctx);
		return NULL;
	}
	TS_RESP_CTX_add_flags(ctx, TS_TSA_NAME);
	TS_RESP_CTX_set_serial_cb(ctx, tsa_serial_cb, NULL);
	TS_RESP_CTX_set_time_cb(ctx, tsa_time_cb, call);
	return ctx;
}

/*
 * Answer the DER query in `in`. 0 with *out granted or rejected for a
 * reason the client gave (failure info set); an error code when the TSA
 * failed. *time_refused says the clock was the reason.
 */
static int
tsa_answer(struct tsa *t, BIO *in, TS_RESP **out, int *time_refused)
{
	struct tsa_call call = { t, 0 };
	const TS_STATUS_INFO *si;
	TS_RESP_CTX *ctx;
	TS_RESP *resp;
	EVP_PKEY *key;
	int rc;

	*out = NULL;
	if (X509_cmp_current_time(X509_get0_notAfter(t->cert)) <= 0 ||
	    X509_cmp_current_time(X509_get0_notBefore(t->cert)) >= 0) {
		log_err("tsa: the TSA certificate has expired or is not valid yet");
		return SB_ESTATE;
	}
	if ((rc = hsm_key_borrow(t->h, t->id, t->id_len, &key)) != 0) {
		log_err("tsa: key: %s (%s)", sb_strerror(rc), hsm_error(t->h));
		return rc;
	}
	ERR_clear_error();
	if ((ctx = tsa_ctx(t, key, &call)) == NULL) {
		hsm_key_release(t->h);
		return ossl_fail("tsa", "setting up a response");
	}
	resp = TS_RESP_create_response(ctx, in);
	TS_RESP_CTX_free(ctx);	/* drops its reference to the key: before release */
	hsm_key_release(t->h);
	if (resp == NULL)
		return ossl_fail("tsa", "making a response");
	si = TS_RESP_get_status_info(resp);
	if (ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si)) != TS_STATUS_GRANTED &&
	    TS_STATUS_INFO_get0_failure_info(si) == NULL) {
		/* Rejected for no fault of the client's: signing failed. */
		rc = ossl_fail("tsa", "signing the token");
		if (hsm_check(t->h) != 0)
			rc = SB_EHSM;
		TS_RESP_free(resp);
		return rc;
	}
	ERR_clear_error();	/* rejections queue errors too */
	*time_refused = call.time_refused;
	*out = resp;
	return 0;
}

/* tsa_der_TYPE(obj, &der, &len): DER of obj into malloc'd memory. */
#define TSA_DER_FN(type)						\
static int								\
tsa_der_##type(const type *obj, uint8_t **der, size_t *len)		\
{									\
	unsigned char *p;						\
	int n = i2d_##type(obj, NULL);					\
									\
	if (n <= 0)							\
		return ossl_fail("tsa", "encoding " #type);			\
	if ((*der = p = malloc((size_t)n)) == NULL)			\
		return SB_ENOMEM;					\
	if (i2d_##type(obj, &p) != n) {					\
		free(*der);						\
		*der = NULL;						\
		return ossl_fail("tsa", "encoding " #type);			\
	}								\
	*len = (size_t)n;						\
	return 0;							\
}
TSA_DER_FN(TS_RESP)

int
tsa_respond(struct tsa *t, const uint8_t *query_der, size_t len,
    uint8_t **reply_der, size_t *reply_len)
{
	TS_RESP *resp = NULL;
	int rc, refused;
	BIO *in;

	if (reply_der != NULL)
		*reply_der = NULL;
	if (t == NULL || (query_der == NULL && len > 0) || reply_der == NULL ||
	    reply_len == NULL)
		return SB_EINVAL;
	/* Too long: answered like any unparseable query (badDataFormat), by
	 * giving OpenSSL nothing to parse. */
	if (len > TSA_QUERY_MAX)
		len = 0;
	if ((in = BIO_new_mem_buf(len > 0 ? query_der : (const uint8_t *)"", (int)len)) == NULL)
		return SB_ENOMEM;
	rc = tsa_answer(t, in, &resp, &refused);
	BIO_free(in);
	if (rc == 0)
		rc = tsa_der_TS_RESP(resp, reply_der, reply_len);
	TS_RESP_free(resp);
	return rc;
}

/*
 * Our own tokens (for CAdES-B-T) do not go through TS_RESP_create_response:
 * it would parse a query we wrote ourselves and rebuild the constant parts
 * each time. The token is what OpenSSL makes for a query with certReq and no
 * nonce; the unit tests check that `openssl ts -verify` accepts it.
 */
int
tsa_stamp(struct tsa *t, int md_nid, const uint8_t *imprint, size_t len,
    uint8_t **token_der, size_t *token_len)
{
	const EVP_MD *md = ossl_sha2(md_nid);
	uint8_t serial[TSA_SERIAL_BYTES], dg[EVP_MAX_MD_SIZE], *tst = NULL;
	struct sd_sig *sig = NULL;
	struct timespec now;
	unsigned int dn = 0;
	size_t tst_len = 0;
	int rc;

	if (token_der != NULL)
		*token_der = NULL;
	if (t == NULL || imprint == NULL || token_der == NULL || token_len == NULL ||
	    md == NULL || (size_t)EVP_MD_get_size(md) != len)
		return SB_EINVAL;
	/* The moment the token's time is taken is the moment the clock is
	 * judged. */
	if (!tsa_time_ok(t) || clock_gettime(CLOCK_REALTIME, &now) != 0)
		return SB_ESTATE;
	if (!sd_signer_valid_at(&t->sd, now.tv_sec)) {
		log_err("tsa: the TSA certificate has expired or is not valid yet");
		return SB_ESTATE;
	}
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		return ossl_fail("tsa", "a serial number");
	serial[0] &= 0x7f;
	serial[0] |= 0x01;	/* 121 to 128 bits, never zero */
	if ((rc = sd_tstinfo(&t->tst, md_nid, imprint, len, serial, sizeof(serial),
	    now.tv_sec, (int)(now.tv_nsec / 1000000), &tst, &tst_len)) != 0)
		return rc;
	if (EVP_Digest(tst, tst_len, dg, &dn, t->md, NULL) != 1)
		rc = ossl_fail("tsa", "hashing the TSTInfo");
	else if ((sig = malloc(sizeof(*sig))) == NULL)
		rc = SB_ENOMEM;
	else if ((rc = sd_sign(&t->sd, now.tv_sec, dg, dn, sig)) != 0)
		log_err("tsa: signing the token: %s (%s)", sb_strerror(rc), hsm_error(t->h));
	else
		rc = sd_encode(&t->sd, tst, tst_len, sig, NULL, 0, token_der, token_len);
	free(sig);
	free(tst);
	return rc;
}
