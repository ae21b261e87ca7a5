/*
 * sealctl grants — the grants the caller may see, with their conditions and
 * the uses counted today and this month (docs/API.md, "Grants"). The answer
 * is printed as the appliance's JSON, indented, every non-ASCII or control
 * character escaped, so that no text from the server reaches the terminal raw.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealctl.h"

#define GRANT_SEAL_MAX 63

int
cmd_grants(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seal", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *seal = NULL;
	char path[32 + GRANT_SEAL_MAX];
	json_t *out = NULL;
	size_t n;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's')
			seal = optarg;
		else
			return ctl_usage("grants: bad option");
	}
	if (optind != argc)
		return ctl_usage("grants: expected [--seal ID]");
	if (seal != NULL) {
		/* The id goes into the query as it is: only what an id may hold. */
		n = strlen(seal);
		if (n == 0 || n > GRANT_SEAL_MAX || strspn(seal, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
			return ctl_usage("grants: --seal: 1 to 63 of A-Z a-z 0-9 . _ -");
		snprintf(path, sizeof(path), "/v1/grants?seal=%s", seal);
	} else {
		snprintf(path, sizeof(path), "/v1/grants");
	}
	if ((rc = ctl_call_json(c, "GET", path, NULL, &out)) != 0)
		return rc;
	return ctl_print_json(out);
}
