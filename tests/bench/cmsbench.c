/*
 * cmsbench — what a CAdES-B-T seal costs against the HSM's raw signing rate,
 * on a throwaway SoftHSM token with ECDSA P-256 keys (seal, TSA and CA):
 *
 *   hsm_sign ec-p256 threads=1: 19800 sig/s
 *   tsa_stamp threads=1: 9000 tokens/s
 *   cades_sign+tsa threads=1: 8500 seals/s (0.86 of the 2-signature ceiling 9900)
 *   TS_RESP_CTX setup: 3.1 us per response (tsa_respond, POST /v1/tsa)
 *
 * each for 1 and 2 threads on one handle; cades_sign with one struct cades
 * made beforehand, as the daemon keeps one per seal. The ceiling is the raw rate of the
 * same thread count divided by the two HSM signatures a seal needs. The TSA
 * runs with require_sync off (build machines report an unsynchronised clock).
 * BENCH_SECONDS (default 3) sets the length of each run.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/ts.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "tests/unit/fixture.h"
#pragma GCC diagnostic pop
#include "daemon/formats/cms.h"
#include "daemon/formats/tsa.h"
#include "hsm/ca.h"
#include "hsm/hsm.h"
#include "lib/err.h"
#include "lib/log.h"

#define MAX_THREADS 8

enum op { OP_HSM_SIGN, OP_TSA_STAMP, OP_CMS_SIGN };

static struct hsm *H;
static struct tsa *T;
static struct cades *C;
static X509 *seal_cert;
static uint8_t seal_id[HSM_ID_LEN];
static atomic_int stop;

struct runner {
	enum op op;
	unsigned long done;
	int errors;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
one(enum op op, const uint8_t dg[32])
{
	uint8_t sig[128], *der = NULL;
	size_t len = sizeof(sig);
	int rc;

	switch (op) {
	case OP_HSM_SIGN:
		return hsm_sign(H, seal_id, HSM_ID_LEN, NID_sha256, dg, 32, sig, &len);
	case OP_TSA_STAMP:
		rc = tsa_stamp(T, NID_sha256, dg, 32, &der, &len);
		break;
	default:
		rc = cades_sign(C, dg, 32, T, &der, &len);
		break;
	}
	free(der);
	return rc;
}

static void *
run(void *arg)
{
	struct runner *r = arg;
	uint8_t dg[32];

	memset(dg, 0x5a, sizeof(dg));
	while (!atomic_load(&stop)) {
		memcpy(dg, &r->done, sizeof(r->done));
		if (one(r->op, dg) != 0)
			r->errors++;
		else
			r->done++;
	}
	return NULL;
}

/* Operations per second of op in `threads` threads; -1 on errors. */
static double
bench(enum op op, int threads, double seconds)
{
	struct runner r[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	unsigned long total = 0;
	int errors = 0;
	double t0;

	memset(r, 0, sizeof(r));
	atomic_store(&stop, 0);
	t0 = now_s();
	for (int i = 0; i < threads; i++) {
		r[i].op = op;
		pthread_create(&t[i], NULL, run, &r[i]);
	}
	while (now_s() - t0 < seconds) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += r[i].done;
		errors += r[i].errors;
	}
	if (errors > 0) {
		printf("# %d errors in %d threads\n", errors, threads);
		return -1;
	}
	return (double)total / (now_s() - t0);
}

/* What one TS_RESP_CTX set up as tsa.c does costs, without signing. */
static double
ctx_setup_us(X509 *tsa_cert, EVP_PKEY *key)
{
	ASN1_OBJECT *pol = OBJ_txt2obj("1.3.6.1.4.1.99999.1.1", 1);
	enum { N = 20000 };
	double t0 = now_s();

	for (int i = 0; i < N; i++) {
		TS_RESP_CTX *c = TS_RESP_CTX_new();

		TS_RESP_CTX_set_signer_cert(c, tsa_cert);
		TS_RESP_CTX_set_signer_key(c, key);
		TS_RESP_CTX_set_signer_digest(c, EVP_sha256());
		TS_RESP_CTX_set_ess_cert_id_digest(c, EVP_sha256());
		TS_RESP_CTX_set_def_policy(c, pol);
		TS_RESP_CTX_add_md(c, EVP_sha256());
		TS_RESP_CTX_add_md(c, EVP_sha384());
		TS_RESP_CTX_add_md(c, EVP_sha512());
		TS_RESP_CTX_set_clock_precision_digits(c, 3);
		TS_RESP_CTX_free(c);
	}
	ASN1_OBJECT_free(pol);
	return (now_s() - t0) * 1e6 / N;
}

static int
setup(X509 **tsa_cert)
{
	uint8_t ca_id[HSM_ID_LEN], tsa_id[HSM_ID_LEN];
	EVP_PKEY *pub = NULL;
	X509 *ca = NULL;
	int rc;

	if ((rc = hsm_token_init(FIXTURE_MODULE, "bench", "bench-so", "bench-user")) != 0 ||
	    (rc = hsm_open(FIXTURE_MODULE, "bench", &H)) != 0 ||
	    (rc = hsm_login(H, "bench-user")) != 0 ||
	    (rc = hsm_keygen(H, HSM_KEY_EC_P256, "ca", ca_id)) != 0 ||
	    (rc = hsm_keygen(H, HSM_KEY_EC_P256, "tsa", tsa_id)) != 0 ||
	    (rc = hsm_keygen(H, HSM_KEY_EC_P256, "seal", seal_id)) != 0 ||
	    (rc = ca_make_root(H, ca_id, HSM_ID_LEN, "Bench CA", NULL, 1, &ca)) != 0 ||
	    (rc = hsm_key_public(H, tsa_id, HSM_ID_LEN, &pub)) != 0 ||
	    (rc = ca_issue(H, ca_id, HSM_ID_LEN, ca, pub, "Bench TSA", NULL, CA_PROFILE_TSA,
	    NULL, 1, tsa_cert)) != 0)
		goto out;
	EVP_PKEY_free(pub);
	pub = NULL;
	if ((rc = hsm_key_public(H, seal_id, HSM_ID_LEN, &pub)) != 0 ||
	    (rc = ca_issue(H, ca_id, HSM_ID_LEN, ca, pub, "Bench Seal", NULL, CA_PROFILE_SEAL,
	    NULL, 1, &seal_cert)) != 0 ||
	    (rc = tsa_new(H, tsa_id, HSM_ID_LEN, *tsa_cert, NULL, "1.3.6.1.4.1.99999.1.1", &T)) != 0)
		goto out;
	tsa_set_require_sync(T, 0);
out:
	EVP_PKEY_free(pub);
	X509_free(ca);
	return rc;
}

int
main(void)
{
	const char *env = getenv("BENCH_SECONDS");
	double seconds = env != NULL ? atof(env) : 3.0;
	double raw[3] = { 0 }, r;
	X509 *tsa_cert = NULL;
	EVP_PKEY *key = NULL;
	struct fixture fx;
	int rc, errors = 0;

	if (seconds <= 0 || seconds > 600)
		seconds = 3.0;
	log_init("cmsbench", LOG_TO_STDERR);
	log_set_level(LOG_WARNING);
	if (fixture_softhsm_new(&fx) != 0) {
		fprintf(stderr, "cmsbench: cannot make a SoftHSM token directory\n");
		return 1;
	}
	if ((rc = setup(&tsa_cert)) != 0) {
		fprintf(stderr, "cmsbench: setup failed: %s: %s\n", sb_strerror(rc),
		    H != NULL ? hsm_error(H) : hsm_error(NULL));
		goto out;
	}
	if ((rc = cades_new(H, seal_id, HSM_ID_LEN, seal_cert, NULL, NID_sha256, &C)) != 0) {
		fprintf(stderr, "cmsbench: cades_new: %s: %s\n", sb_strerror(rc), hsm_error(H));
		goto out;
	}
	bench(OP_CMS_SIGN, 1, 0.3);	/* warm-up: caches the keys */
	for (int th = 1; th <= 2; th++) {
		if ((raw[th] = bench(OP_HSM_SIGN, th, seconds)) < 0)
			errors++;
		printf("hsm_sign ec-p256 threads=%d: %.0f sig/s\n", th, raw[th]);
		if ((r = bench(OP_TSA_STAMP, th, seconds)) < 0)
			errors++;
		printf("tsa_stamp ec-p256 threads=%d: %.0f tokens/s\n", th, r);
		if ((r = bench(OP_CMS_SIGN, th, seconds)) < 0)
			errors++;
		printf("cades_sign+tsa ec-p256 threads=%d: %.0f seals/s "
		    "(%.2f of the 2-signature ceiling %.0f)\n", th, r, r / (raw[th] / 2), raw[th] / 2);
		fflush(stdout);
	}
	if (hsm_key_borrow(H, seal_id, HSM_ID_LEN, &key) == 0) {
		/* The seal key stands in for the TSA's: same type, never used to sign here. */
		X509 *c = tsa_cert;

		printf("TS_RESP_CTX setup (per response, no signing): %.1f us\n",
		    ctx_setup_us(c, key));
		hsm_key_release(H);
	}
out:
	cades_free(C);
	tsa_free(T);
	X509_free(seal_cert);
	X509_free(tsa_cert);
	hsm_close(H);
	fixture_softhsm_free(&fx);
	return rc == 0 && errors == 0 ? 0 : 1;
}
