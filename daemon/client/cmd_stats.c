/*
 * sealctl stats — GET /v1/stats: the seals in the caller's scope by unit,
 * type and state, their custodians, uses per seal by day and month, and
 * pending requests (docs/API.md, "Statistics"). Printed as the appliance's
 * JSON, indented, with every non-ASCII or control character escaped, so
 * that no text from the server reaches the terminal raw.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sealctl.h"

int
cmd_stats(struct ctl *c, int argc, char **argv)
{
	json_t *out = NULL;
	int rc;

	(void)argv;
	if (argc != 1)
		return ctl_usage("stats: takes no arguments");
	if ((rc = ctl_call_json(c, "GET", "/v1/stats", NULL, &out)) != 0)
		return rc;
	return ctl_print_json(out);
}
