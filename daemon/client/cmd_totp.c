/*
 * sealctl totp — the caller's own one-time-code secret (docs/API.md,
 * "TOTP"): enrol (prints the otpauth:// URI, once: put it in an
 * authenticator app, or a QR code, and do not keep it), confirm it with a
 * first code, verify a code (which uses it up, as a sealing would).
 * Answers are printed as the appliance's JSON, ASCII-escaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealctl.h"

/* 6-8 ASCII digits. */
static int
code_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 6 && n <= 8 && strspn(s, "0123456789") == n;
}

static int
totp_call(struct ctl *c, const char *path, const char *code)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if (code != NULL && (body = json_pack("{s:s}", "otp", code)) == NULL) {
		ctl_err("out of memory");
		return SEALCTL_EXIT_FAIL;
	}
	rc = ctl_call_json(c, "POST", path, body, &out);
	json_decref(body);
	if (rc != 0)
		return rc;
	return ctl_print_json(out);
}

int
cmd_totp(struct ctl *c, int argc, char **argv)
{
	static const char usage[] = "totp: expected enrol [CODE], confirm CODE or verify CODE "
	    "(CODE: 6-8 digits)";
	const char *code = argc == 3 ? argv[2] : NULL;

	if (argc < 2 || argc > 3 || (code != NULL && !code_ok(code)))
		return ctl_usage("%s", usage);
	if (strcmp(argv[1], "enrol") == 0 || strcmp(argv[1], "enroll") == 0)
		return totp_call(c, "/v1/principals/me/totp", code);
	if (code == NULL)
		return ctl_usage("%s", usage);
	if (strcmp(argv[1], "confirm") == 0)
		return totp_call(c, "/v1/principals/me/totp/confirm", code);
	if (strcmp(argv[1], "verify") == 0)
		return totp_call(c, "/v1/principals/me/totp/verify", code);
	return ctl_usage("%s", usage);
}
