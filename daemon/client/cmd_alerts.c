/*
 * sealctl alerts — GET /v1/alerts: the alert entries of the ledger the
 * caller may see (docs/API.md, "Alerts"), one a line as compact JSON with
 * every non-ASCII or control character escaped, so that no text from the
 * server reaches the terminal raw. Where to go on is said on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "sealctl.h"

#define ALERTS_PATH_MAX 512
#define ALERTS_PAGE 1000

int
cmd_alerts(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "start", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const fname[3] = { "kind", "from", "to" };
	const char *filter[3] = { NULL, NULL, NULL };
	unsigned long long start = 0, count = 100;
	char path[ALERTS_PATH_MAX];
	json_t *resp, *items, *it, *next;
	size_t i;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's' && ctl_parse_u64(optarg, &start) == 0)
			continue;
		if (ch == 'n' && ctl_parse_u64(optarg, &count) == 0 && count >= 1 &&
		    count <= ALERTS_PAGE)
			continue;
		if (ch == 'k' || ch == 'f' || ch == 't') {
			filter[ch == 'k' ? 0 : ch == 'f' ? 1 : 2] = optarg;
			continue;
		}
		return ctl_usage("alerts: --kind K, --from TIME, --to TIME (RFC 3339), "
		    "--start N, --count M (1 to %d)", ALERTS_PAGE);
	}
	if (optind != argc)
		return ctl_usage("alerts: unexpected argument");
	snprintf(path, sizeof(path), "/v1/alerts?start=%llu&count=%llu", start, count);
	for (int f = 0; f < 3; f++)
		if (filter[f] != NULL &&
		    ctl_query_add(path, sizeof(path), fname[f], filter[f]) != 0)
			return ctl_usage("alerts: --%s is too long", fname[f]);
	if ((rc = ctl_call_json(c, "GET", path, NULL, &resp)) != 0)
		return rc;
	if (!json_is_array(items = json_object_get(resp, "alerts"))) {
		ctl_err("the appliance's answer has no alerts list");
		json_decref(resp);
		return SEALCTL_EXIT_FAIL;
	}
	json_array_foreach(items, i, it) {
		char *line = json_dumps(it, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);

		if (line == NULL) {
			ctl_err("out of memory");
			json_decref(resp);
			return SEALCTL_EXIT_FAIL;
		}
		codec_print_safe(stdout, line);
		putchar('\n');
		free(line);
	}
	next = json_object_get(resp, "next");
	if (json_is_true(json_object_get(resp, "more")) && json_is_integer(next))
		fprintf(stderr, "sealctl: more alerts may match: go on with --start %lld\n",
		    (long long)json_integer_value(next));
	json_decref(resp);
	return SEALCTL_EXIT_OK;
}
