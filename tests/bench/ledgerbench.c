/*
 * ledgerbench — durable ledger appends per second with 1 and 16 appending
 * threads on a throwaway ledger under $TMPDIR (or /tmp). Each entry looks
 * like a seal's: actor, seal, document name and digest, signature digest.
 * Prints one line per run:
 *
 *   ledger_append threads=16: 41000 entries/s (5100 commits/s)
 *
 * BENCH_SECONDS (default 3) sets the length of each run; BENCH_THREADS (a
 * comma-separated list, default "1,16") the thread counts. Every append
 * returns only after its commit is on disk, as in the monitor.
 */
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "daemon/ledger/ledger.h"
#include "lib/err.h"
#include "lib/log.h"

#define MAX_THREADS 64

static struct ledger *L;
static atomic_int stop;

struct runner {
	int id;
	unsigned long done;
	int errors;
	double lat_max;
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
	char name[64];
	uint64_t seq;
	double t0, dt;
	json_t *e;

	while (!atomic_load(&stop)) {
		snprintf(name, sizeof(name), "invoice-%d-%lu.pdf", r->id, r->done);
		e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "actor", "erp",
		    "on_behalf_of", "alice", "action", "sign", "seal", "official",
		    "document_name", name, "document_digest",
		    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		    "signature_digest",
		    "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
		    "result", "ok");
		t0 = now_s();
		if (e == NULL || ledger_append(L, e, &seq, NULL) != 0)
			r->errors++;
		else
			r->done++;
		dt = now_s() - t0;
		if (dt > r->lat_max)
			r->lat_max = dt;
		json_decref(e);
	}
	return NULL;
}

static int
bench(int threads, double seconds)
{
	struct runner r[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	struct ledger_stats s0, s1;
	unsigned long total = 0;
	double t0, t1, lat_max = 0;
	int errors = 0;

	memset(r, 0, sizeof(r));
	atomic_store(&stop, 0);
	ledger_stats(L, &s0);
	t0 = now_s();
	for (int i = 0; i < threads; i++) {
		r[i].id = i;
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
		if (r[i].lat_max > lat_max)
			lat_max = r[i].lat_max;
	}
	t1 = now_s();
	ledger_stats(L, &s1);
	printf("ledger_append threads=%d: %.0f entries/s (%.0f commits/s, %.1f entries/commit, "
	    "max latency %.1f ms)%s\n", threads, (double)total / (t1 - t0),
	    (double)(s1.commits - s0.commits) / (t1 - t0),
	    (double)total / (double)(s1.commits - s0.commits ? s1.commits - s0.commits : 1),
	    lat_max * 1000, errors ? " ERRORS" : "");
	fflush(stdout);
	return errors ? 1 : 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR"), *sec = getenv("BENCH_SECONDS");
	const char *list = getenv("BENCH_THREADS");
	char dir[256], spec[128], *tok, *save;
	double seconds = sec ? atof(sec) : 3.0;
	int rc = 0;

	log_init("ledgerbench", LOG_TO_STDERR);
	snprintf(dir, sizeof(dir), "%s/sbx-ledgerbench-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (ledger_open(dir, NULL, &L) != 0) {
		fprintf(stderr, "ledgerbench: cannot open a ledger in %s\n", dir);
		return 1;
	}
	snprintf(spec, sizeof(spec), "%s", list ? list : "1,16");
	for (tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int n = atoi(tok);

		if (n >= 1 && n <= MAX_THREADS)
			rc |= bench(n, seconds);
	}
	ledger_close(L);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
