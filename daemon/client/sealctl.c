/*
 * sealctl — the command-line client of the Sealbox appliance, for business
 * systems, scripts and tests. See docs/man/sealctl.1.
 *
 *   sealctl [--server H:P --cert C --key K --ca CA] COMMAND ...
 *
 * Connection settings come from the command line, else from the client
 * config file (--config, $SEALCTL_CONFIG, ~/.config/sealbox/client.yaml),
 * which is only read by commands that talk to the appliance:
 * verify-evidence works offline with nothing but a bundle and an anchor.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "codec.h"
#include "lib/err.h"
#include "sealctl.h"

static const char usage_text[] =
"usage: sealctl [--server HOST:PORT] [--cert FILE] [--key FILE] [--ca FILE]\n"
"               [--timeout SECONDS] [--config FILE] COMMAND [ARGS]\n"
"\n"
"commands:\n"
"  sign --seal ID [--name DOCNAME] [-o OUT] FILE   seal FILE; writes FILE.p7s\n"
"       [--on-behalf-of PERSON]                    ... for PERSON (a principal name)\n"
"       [--otp CODE] [--document-type T]           ... with a one-time code; of type T\n"
"       [--approval r-N]                           ... under approved use request r-N\n"
"  sign-pdf --seal ID --x X --y Y --width W       seal a PDF (PAdES-B-T) with the seal's\n"
"       [--page N] [--height H] [--reason TEXT]    image at (X, Y) points from the page's\n"
"       [--name DOCNAME] [--on-behalf-of PERSON]   lower left; writes FILE-sealed.pdf\n"
"       [--otp CODE] [--document-type T] [-o OUT]\n"
"       [--approval r-N]                           ... under approved use request r-N\n"
"       [--cross-page] FILE.pdf                    ... or cut across every page's right edge\n"
"       [--near-text TEXT] [--every]               ... or right of TEXT's first (every)\n"
"                                                  occurrence, without --x and --y\n"
"  verify FILE SIGNATURE                           ask the appliance to verify\n"
"  seals                                           list the seals you may use\n"
"  health                                          the appliance's state\n"
"  timestamp [--trust PEM] [-o OUT] FILE           RFC 3161 timestamp; FILE.tsr\n"
"  ledger sth                                      the latest signed tree head\n"
"  ledger entries [--start N] [--count M]          ledger entries; filters:\n"
"       [--seal ID] [--principal NAME]             ... of a seal, by or for a principal\n"
"       [--from TIME] [--to TIME]                  ... in [from, to) (RFC 3339, UTC)\n"
"       [--unit ID] [--document-name TEXT]         ... of a unit's seals, names with TEXT\n"
"  ledger verify [--audit-cert PEM | --trust PEM]  recompute and check the ledger\n"
"  evidence SEQ [-o bundle.json]                   evidence bundle of a signature\n"
"  verify-evidence --trust PEM bundle.json         check a bundle offline\n"
"  request file --kind K --seal ID --reason TEXT   file a request (freeze, unfreeze,\n"
"                                                  deactivate, destroy)\n"
"       --kind transfer --unit UNIT                ... or the seal moved to UNIT\n"
"       --kind revoke --principal NAME             ... or NAME's grant on it removed\n"
"       --kind use --document FILE [--name DOC]    ... or one use of the seal for FILE\n"
"                                                  (hashed here; sent by name+digest)\n"
"  request list [--state S] [--kind K]             the requests you may see\n"
"  request show ID                                 one request (ID: r-N)\n"
"  request approve ID                              approve it\n"
"  request reject ID --reason TEXT                 reject it\n"
"  stats                                           seals, uses, custodians, pending\n"
"  grants [--seal ID]                              grants you may see, with conditions\n"
"                                                  requests in your scope\n"
"  alerts [--kind K] [--from TIME] [--to TIME]    alerts you may see (--start N,\n"
"                                                  --count M to page)\n"
"  totp enrol [CODE]                               enrol your TOTP secret (prints the\n"
"                                                  otpauth:// URI once; CODE: a current\n"
"                                                  code, to replace a confirmed secret)\n"
"  totp confirm CODE                               activate it with its first code\n"
"  totp verify CODE                                check (and use up) a code\n"
"\n"
"Settings not given come from $SEALCTL_CONFIG or ~/.config/sealbox/client.yaml.\n"
"Exit status: 0 done or valid, 1 failed or invalid, 2 usage or configuration error.\n";

void
ctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("sealctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
ctl_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("sealctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(sealctl --help shows the commands and options)\n", stderr);
	return SEALCTL_EXIT_USAGE;
}

int
ctl_parse_u64(const char *s, unsigned long long *v)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

const char *
ctl_time_ms(unsigned long long ms, char buf[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(buf, 32, "%llu ms", ms);
	else
		snprintf(buf + strlen(buf), 32 - strlen(buf), ".%03lluZ", ms % 1000);
	return buf;
}

/* The client config: --config, $SEALCTL_CONFIG, or the default if present. */
static int
load_config(struct ctl *c)
{
	char err[CLIENTCFG_ERR_MAX], def[4096];
	const char *path = c->config, *home;
	int must_exist = 1, rc;

	if (path == NULL && (path = getenv("SEALCTL_CONFIG")) != NULL && *path == '\0')
		path = NULL;
	if (path == NULL) {
		if ((home = getenv("HOME")) == NULL || *home == '\0')
			return 0;
		if ((size_t)snprintf(def, sizeof(def), "%s/%s", home, CLIENTCFG_REL_PATH) >=
		    sizeof(def))
			return 0;
		path = def;
		must_exist = 0;
	}
	rc = clientcfg_load(path, &c->cfg, err, sizeof(err));
	if (rc == SB_EIO && errno == ENOENT && !must_exist)
		return 0;
	if (rc != 0) {
		ctl_err("%s", err);
		return rc == SB_ENOMEM ? SEALCTL_EXIT_FAIL : SEALCTL_EXIT_USAGE;
	}
	return 0;
}

/* The connection settings, flags over the file; then the HTTP client. */
static int
ctl_connect(struct ctl *c)
{
	struct http_opts o = { 0 };
	char err[HTTP_ERR_MAX];
	int rc;

	if (c->http != NULL)
		return 0;
	if ((rc = load_config(c)) != 0)
		return rc;
	o.server = c->server ? c->server : c->cfg ? c->cfg->server : NULL;
	o.cert = c->cert ? c->cert : c->cfg ? c->cfg->cert : NULL;
	o.key = c->key ? c->key : c->cfg ? c->cfg->key : NULL;
	o.ca = c->ca ? c->ca : c->cfg ? c->cfg->ca : NULL;
	o.timeout = c->timeout ? c->timeout : c->cfg ? c->cfg->timeout :
	    CLIENTCFG_TIMEOUT_DEFAULT;
	{
		const struct { const char *v, *what, *key; } need[] = {
			{ o.server, "server", "server" },
			{ o.cert, "client certificate", "cert" },
			{ o.key, "client key", "key" },
			{ o.ca, "CA", "ca" },
		};

		for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
			if (need[i].v == NULL)
				return ctl_usage("no %s: give --%s or set '%s:' in the client "
				    "config ($SEALCTL_CONFIG or ~/" CLIENTCFG_REL_PATH ")",
				    need[i].what, need[i].key, need[i].key);
	}
	if ((rc = http_new(&o, &c->http, err, sizeof(err))) != 0) {
		if (rc == SB_ENOMEM)
			ctl_err("out of memory");
		else
			ctl_err("%s", err);
		return rc == SB_ECONFIG || rc == SB_EINVAL ? SEALCTL_EXIT_USAGE :
		    SEALCTL_EXIT_FAIL;
	}
	return 0;
}

/* An error answer: the API's {"error": {"code", "message"}} if it is one. */
static void
print_http_error(const struct http_response *r)
{
	json_t *j = json_loadb((const char *)r->body, r->len, 0, NULL);
	json_t *e = json_object_get(j, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	char sc[128], sm[512];

	if (code != NULL)
		ctl_err("%s: %s", codec_safe(sc, sizeof(sc), code),
		    codec_safe(sm, sizeof(sm), msg ? msg : "(no message)"));
	else
		ctl_err("HTTP %d from the appliance (no error body)", r->status);
	json_decref(j);
}

int
ctl_call(struct ctl *c, const char *method, const char *path,
    const char *content_type, const void *body, size_t len,
    struct http_response *resp, int accept_any)
{
	char err[HTTP_ERR_MAX];
	int rc;

	memset(resp, 0, sizeof(*resp));
	if ((rc = ctl_connect(c)) != 0)
		return rc;
	http_set_header(c->http, c->xname, c->xvalue);
	rc = http_request(c->http, method, path, content_type, body, len, resp, err,
	    sizeof(err));
	if (rc != 0) {
		ctl_err("%s", rc == SB_ENOMEM ? "out of memory" : err);
		return SEALCTL_EXIT_FAIL;
	}
	if ((resp->status >= 200 && resp->status < 300) || (accept_any && resp->len > 0))
		return SEALCTL_EXIT_OK;
	print_http_error(resp);
	http_response_clear(resp);
	return SEALCTL_EXIT_FAIL;
}

int
ctl_call_json(struct ctl *c, const char *method, const char *path, json_t *body,
    json_t **out)
{
	struct http_response r;
	json_error_t jerr;
	char *text = NULL;
	int rc;

	*out = NULL;
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		ctl_err("out of memory");
		return SEALCTL_EXIT_FAIL;
	}
	rc = ctl_call(c, method, path, text ? "application/json" : NULL, text,
	    text ? strlen(text) : 0, &r, 0);
	free(text);
	if (rc != 0)
		return rc;
	*out = json_loadb((const char *)r.body, r.len, JSON_REJECT_DUPLICATES, &jerr);
	http_response_clear(&r);
	if (*out == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		ctl_err("the appliance's answer to %s %s is not a JSON object", method, path);
		return SEALCTL_EXIT_FAIL;
	}
	return SEALCTL_EXIT_OK;
}

int
ctl_query_add(char *path, size_t len, const char *name, const char *value)
{
	size_t n = strlen(path);

	n += (size_t)snprintf(path + n, n < len ? len - n : 0, "&%s=", name);
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0' && n < len; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~')
			n += (size_t)snprintf(path + n, len - n, "%c", *p);
		else
			n += (size_t)snprintf(path + n, len - n, "%%%02X", *p);
	}
	return n < len ? 0 : -1;
}

int
ctl_print_json(json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);

	json_decref(j);
	if (text == NULL) {
		ctl_err("out of memory");
		return SEALCTL_EXIT_FAIL;
	}
	puts(text);
	free(text);
	return SEALCTL_EXIT_OK;
}

static const struct {
	const char *name;
	int (*fn)(struct ctl *, int, char **);
} commands[] = {
	{ "sign", cmd_sign },
	{ "sign-pdf", cmd_sign_pdf },
	{ "verify", cmd_verify },
	{ "seals", cmd_seals },
	{ "health", cmd_health },
	{ "timestamp", cmd_timestamp },
	{ "ledger", cmd_ledger },
	{ "evidence", cmd_evidence },
	{ "verify-evidence", cmd_verify_evidence },
	{ "request", cmd_request },
	{ "stats", cmd_stats },
	{ "grants", cmd_grants },
	{ "totp", cmd_totp },
	{ "alerts", cmd_alerts },
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "ca", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { 0 };
	unsigned long long v;
	int ch, rc = -1;

	/* "+": options after the command are the command's. */
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 's': c.server = optarg; break;
		case 'c': c.cert = optarg; break;
		case 'k': c.key = optarg; break;
		case 'a': c.ca = optarg; break;
		case 'f': c.config = optarg; break;
		case 't':
			if (ctl_parse_u64(optarg, &v) != 0 || v < 1 || v > 3600)
				return ctl_usage("--timeout: expected 1 to 3600 seconds, got '%s'",
				    optarg);
			c.timeout = (unsigned)v;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return SEALCTL_EXIT_OK;
		case 'V':
			puts("sealctl " SB_VERSION);
			return SEALCTL_EXIT_OK;
		default:
			return ctl_usage("bad option");
		}
	}
	if (optind >= argc)
		return ctl_usage("no command");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0) {
			char **sub = argv + optind;
			int subc = argc - optind;

			optind = 0;	/* glibc: start over on the command's arguments */
			rc = commands[i].fn(&c, subc, sub);
			break;
		}
	if (rc < 0) {
		char s[64];

		return ctl_usage("unknown command '%s'", codec_safe(s, sizeof(s), argv[optind]));
	}
	http_free(c.http);
	clientcfg_free(c.cfg);
	fflush(stdout);
	if (ferror(stdout)) {
		ctl_err("cannot write to standard output");
		return SEALCTL_EXIT_FAIL;
	}
	return rc;
}
