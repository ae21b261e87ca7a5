/*
 * sealctl request — file, list, show, approve and reject requests
 * (docs/API.md, "Requests"). Answers are printed as the appliance's JSON,
 * indented, with every non-ASCII or control character escaped, so that no
 * text from the server reaches the terminal raw.
 */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "sealctl.h"

#define REQ_PATH 96

/* "r-N" into path: fmt with the number; 0 or -1 (not a request id). */
static int
request_path(const char *id, const char *suffix, char path[REQ_PATH])
{
	unsigned long long n;

	if (strncmp(id, "r-", 2) != 0 || ctl_parse_u64(id + 2, &n) != 0 || n == 0)
		return -1;
	snprintf(path, REQ_PATH, "/v1/requests/r-%llu%s", n, suffix);
	return 0;
}

static int
call_print(struct ctl *c, const char *method, const char *path, json_t *body)
{
	json_t *out = NULL;
	int rc = ctl_call_json(c, method, path, body, &out);

	json_decref(body);
	return rc != 0 ? rc : ctl_print_json(out);
}

/* A use request's document: its name (--name, else FILE's base name) and
 * SHA-256, hashed here; the document itself is not sent. */
static int
use_document(json_t *body, const char *file, const char *name)
{
	char err[512], hex[65], *copy = NULL;
	uint8_t d[32];
	int rc;

	if (codec_sha256_file(file, d, err, sizeof(err)) != 0) {
		ctl_err("%s", err);
		return SEALCTL_EXIT_FAIL;
	}
	codec_hex(d, sizeof(d), hex);
	if (name == NULL && (copy = strdup(file)) != NULL)
		name = basename(copy);
	rc = name == NULL || json_object_set_new(body, "document_name", json_string(name)) != 0 ||
	    json_object_set_new(body, "digest", json_pack("{s:s,s:s}", "alg", "sha256",
	    "value", hex)) != 0;
	free(copy);
	return rc ? ctl_usage("request file: --name must be UTF-8") : 0;
}

static int
request_file(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "seal", required_argument, NULL, 's' },
		{ "reason", required_argument, NULL, 'r' },
		{ "document", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "unit", required_argument, NULL, 'u' },
		{ "principal", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kind = NULL, *seal = NULL, *reason = NULL, *doc = NULL, *name = NULL;
	const char *unit = NULL, *principal = NULL;
	json_t *body;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'k')
			kind = optarg;
		else if (ch == 's')
			seal = optarg;
		else if (ch == 'r')
			reason = optarg;
		else if (ch == 'd')
			doc = optarg;
		else if (ch == 'n')
			name = optarg;
		else if (ch == 'u')
			unit = optarg;
		else if (ch == 'p')
			principal = optarg;
		else
			return ctl_usage("request file: bad option");
	}
	if (optind != argc || kind == NULL || seal == NULL || reason == NULL)
		return ctl_usage("request file: expected --kind K --seal ID --reason TEXT");
	if ((strcmp(kind, "use") == 0) != (doc != NULL) || (name != NULL && doc == NULL))
		return ctl_usage("request file: --document FILE [--name DOCNAME] is for "
		    "--kind use, and needed there");
	if ((strcmp(kind, "transfer") == 0) != (unit != NULL))
		return ctl_usage("request file: --unit UNIT (where the seal goes) is for "
		    "--kind transfer, and needed there");
	if ((body = json_pack("{s:s,s:s,s:s}", "kind", kind, "seal", seal, "reason",
	    reason)) == NULL)
		return ctl_usage("request file: --kind, --seal and --reason must be UTF-8");
	if ((strcmp(kind, "revoke") == 0) != (principal != NULL)) {
		json_decref(body);
		return ctl_usage("request file: --principal NAME (whose grant goes) is for "
		    "--kind revoke, and needed there");
	}
	if ((unit != NULL && json_object_set_new(body, "unit", json_string(unit)) != 0) ||
	    (principal != NULL && json_object_set_new(body, "principal",
	    json_string(principal)) != 0)) {
		json_decref(body);
		return ctl_usage("request file: --unit and --principal must be UTF-8");
	}
	if (doc != NULL && (rc = use_document(body, doc, name)) != 0) {
		json_decref(body);
		return rc;
	}
	return call_print(c, "POST", "/v1/requests", body);
}

/* A filter value: 1..15 letters a-z, as the API takes it. */
static int
word_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 15 && strspn(s, "abcdefghijklmnopqrstuvwxyz") == n;
}

static int
request_list(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "kind", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = NULL, *kind = NULL;
	char path[REQ_PATH];
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's')
			state = optarg;
		else if (ch == 'k')
			kind = optarg;
		else
			return ctl_usage("request list: bad option");
	}
	if (optind != argc || (state != NULL && !word_ok(state)) ||
	    (kind != NULL && !word_ok(kind)))
		return ctl_usage("request list: expected [--state S] [--kind K], each 1-15 "
		    "letters a-z");
	snprintf(path, sizeof(path), "/v1/requests%s%s%s%s%s", state || kind ? "?" : "",
	    state ? "state=" : "", state ? state : "", state && kind ? "&" : "",
	    kind ? "kind=" : "");
	if (kind != NULL)
		strncat(path, kind, sizeof(path) - strlen(path) - 1);
	return call_print(c, "GET", path, NULL);
}

/* show, approve, reject: one request id, and for reject --reason. */
static int
request_one(struct ctl *c, int argc, char **argv, const char *what)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int reject = strcmp(what, "reject") == 0;
	const char *reason = NULL;
	char path[REQ_PATH];
	json_t *body = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'r' || !reject)
			return ctl_usage("request %s: bad option", what);
		reason = optarg;
	}
	if (optind != argc - 1 || request_path(argv[optind], strcmp(what, "show") == 0 ? "" :
	    reject ? "/reject" : "/approve", path) != 0)
		return ctl_usage("request %s: expected one request id (r-N)", what);
	if (reject && reason == NULL)
		return ctl_usage("request reject: --reason is required");
	if (reject && (body = json_pack("{s:s}", "reason", reason)) == NULL)
		return ctl_usage("request reject: --reason must be UTF-8");
	return call_print(c, strcmp(what, "show") == 0 ? "GET" : "POST", path, body);
}

int
cmd_request(struct ctl *c, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage("request: expected file, list, show, approve or reject");
	if (strcmp(argv[1], "file") == 0)
		return request_file(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return request_list(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "approve") == 0 ||
	    strcmp(argv[1], "reject") == 0)
		return request_one(c, argc - 1, argv + 1, argv[1]);
	return ctl_usage("request: expected file, list, show, approve or reject");
}
