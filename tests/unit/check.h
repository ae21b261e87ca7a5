/*
 * check — the smallest test harness that does the job.
 *
 * A test file defines static void functions and calls RUN(fn, "what it pins
 * down") for each from main(), then returns check_done(). Each RUN prints
 * "ok - ..." or "not ok - ..." (tests/run.sh counts these). A CHECK that fails
 * prints where and why and ends the current test function.
 */
#ifndef SB_TEST_CHECK_H
#define SB_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "lib/err.h"

static int check_failed_now;
static int check_passed_total;
static int check_failed_total;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		check_failed_now = 1; \
		return; \
	} \
} while (0)

/* An sb_err result; prints both texts on mismatch. */
#define CHECK_RC(expr, want) do { \
	int check_rc_ = (expr), check_want_ = (want); \
	if (check_rc_ != check_want_) { \
		printf("#   %s:%d: %s returned %d (%s), wanted %d (%s)\n", __FILE__, \
		    __LINE__, #expr, check_rc_, sb_strerror(check_rc_), \
		    check_want_, sb_strerror(check_want_)); \
		check_failed_now = 1; \
		return; \
	} \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *check_g_ = (got), *check_w_ = (want); \
	if (check_g_ == NULL || strcmp(check_g_, check_w_) != 0) { \
		printf("#   %s:%d: %s is \"%s\", wanted \"%s\"\n", __FILE__, __LINE__, \
		    #got, check_g_ ? check_g_ : "(null)", check_w_); \
		check_failed_now = 1; \
		return; \
	} \
} while (0)

/* got contains the substring want. */
#define CHECK_CONTAINS(got, want) do { \
	const char *check_g_ = (got), *check_w_ = (want); \
	if (check_g_ == NULL || strstr(check_g_, check_w_) == NULL) { \
		printf("#   %s:%d: %s is \"%s\", which lacks \"%s\"\n", __FILE__, __LINE__, \
		    #got, check_g_ ? check_g_ : "(null)", check_w_); \
		check_failed_now = 1; \
		return; \
	} \
} while (0)

#define RUN(fn, what) do { \
	check_failed_now = 0; \
	fn(); \
	if (check_failed_now) { \
		printf("not ok - %s\n", what); \
		check_failed_total++; \
	} else { \
		printf("ok - %s\n", what); \
		check_passed_total++; \
	} \
	fflush(stdout); \
} while (0)

static inline int
check_done(void)
{
	printf("# %d passed, %d failed\n", check_passed_total, check_failed_total);
	return check_failed_total == 0 ? 0 : 1;
}

#endif
