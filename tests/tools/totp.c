/*
 * totp — TEST TOOL ONLY, never installed: prints the 6-digit RFC 6238 code
 * (HMAC-SHA1, 30 s steps) of a base32 secret at a unix time (default: now),
 * with liboath's own generator, so that the tests do not trust the code
 * they check. oathtool is not installed here.
 *
 *   totp BASE32SECRET [UNIX-TIME]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <liboath/oath.h>

int
main(int argc, char **argv)
{
	char *secret = NULL, otp[16];
	size_t len = 0;
	time_t t = time(NULL);
	char *end;
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: totp BASE32SECRET [UNIX-TIME]\n");
		return 2;
	}
	if (argc == 3) {
		long long v = strtoll(argv[2], &end, 10);

		if (*argv[2] == '\0' || *end != '\0' || v < 0) {
			fprintf(stderr, "totp: bad unix time '%s'\n", argv[2]);
			return 2;
		}
		t = (time_t)v;
	}
	if (oath_init() != OATH_OK)
		return 1;
	if ((rc = oath_base32_decode(argv[1], strlen(argv[1]), &secret, &len)) != OATH_OK) {
		fprintf(stderr, "totp: bad base32 secret: %s\n", oath_strerror(rc));
		return 2;
	}
	rc = oath_totp_generate(secret, len, t, OATH_TOTP_DEFAULT_TIME_STEP_SIZE,
	    OATH_TOTP_DEFAULT_START_TIME, 6, otp);
	free(secret);
	oath_done();
	if (rc != OATH_OK) {
		fprintf(stderr, "totp: %s\n", oath_strerror(rc));
		return 1;
	}
	puts(otp);
	return 0;
}
