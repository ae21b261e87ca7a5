/*
 * hsmbench — raw signing rate through the HSM layer: hsm_sign with ECDSA
 * P-256 over 32-byte digests, 1 and 2 threads on one handle, on a throwaway
 * SoftHSM token. Prints one line per run:
 *
 *   hsm_sign ec-p256 threads=1: 19800 sig/s
 *
 * BENCH_SECONDS (default 3) sets the length of each run. The PINs are fixed
 * strings: the token is thrown away at the end.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/obj_mac.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "tests/unit/fixture.h"
#pragma GCC diagnostic pop
#include "hsm/hsm.h"
#include "lib/err.h"
#include "lib/log.h"

#define MAX_THREADS 8

static struct hsm *H;
static uint8_t key_id[HSM_ID_LEN];
static atomic_int stop;

struct runner {
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

static void *
run(void *arg)
{
	struct runner *r = arg;
	uint8_t dg[32], sig[128];
	size_t slen;

	memset(dg, 0x5a, sizeof(dg));
	while (!atomic_load(&stop)) {
		memcpy(dg, &r->done, sizeof(r->done));
		slen = sizeof(sig);
		if (hsm_sign(H, key_id, HSM_ID_LEN, NID_sha256, dg, sizeof(dg), sig, &slen) != 0)
			r->errors++;
		else
			r->done++;
	}
	return NULL;
}

static int
bench(int threads, double seconds, int quiet)
{
	struct runner r[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	unsigned long total = 0;
	int errors = 0;
	double t0, t1;

	memset(r, 0, sizeof(r));
	atomic_store(&stop, 0);
	t0 = now_s();
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, run, &r[i]);
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
	t1 = now_s();
	if (!quiet)
		printf("hsm_sign ec-p256 threads=%d: %.0f sig/s\n", threads, (double)total / (t1 - t0));
	if (errors > 0)
		printf("hsm_sign ec-p256 threads=%d: %d errors: %s\n", threads, errors, hsm_error(H));
	fflush(stdout);
	return errors;
}

int
main(void)
{
	const char *env = getenv("BENCH_SECONDS");
	double seconds = env != NULL ? atof(env) : 3.0;
	struct fixture fx;
	int rc, errors = 0;

	if (seconds <= 0 || seconds > 600)
		seconds = 3.0;
	log_init("hsmbench", LOG_TO_STDERR);
	log_set_level(LOG_WARNING);
	if (fixture_softhsm_new(&fx) != 0) {
		fprintf(stderr, "hsmbench: cannot make a SoftHSM token directory\n");
		return 1;
	}
	if ((rc = hsm_token_init(FIXTURE_MODULE, "bench", "bench-so", "bench-user")) != 0 ||
	    (rc = hsm_open(FIXTURE_MODULE, "bench", &H)) != 0 ||
	    (rc = hsm_login(H, "bench-user")) != 0 ||
	    (rc = hsm_keygen(H, HSM_KEY_EC_P256, "bench", key_id)) != 0) {
		fprintf(stderr, "hsmbench: setup failed: %s: %s\n", sb_strerror(rc),
		    H != NULL ? hsm_error(H) : hsm_error(NULL));
		hsm_close(H);
		fixture_softhsm_free(&fx);
		return 1;
	}
	errors += bench(1, 0.3, 1);	/* warm-up: caches the key */
	errors += bench(1, seconds, 0);
	errors += bench(2, seconds, 0);
	hsm_close(H);
	fixture_softhsm_free(&fx);
	return errors == 0 ? 0 : 1;
}
