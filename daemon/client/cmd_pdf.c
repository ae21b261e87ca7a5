/*
 * cmd_pdf — sealctl sign-pdf: POST /v1/seals/{id}/sign-pdf with the PDF as
 * the body and the options in the Sealbox-Options header (docs/pdf.md).
 *
 * Unlike sign, the document goes to the appliance: the seal's image and the
 * signature are written into it there.
 */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "codec.h"
#include "http.h"
#include "lib/err.h"
#include "sealctl.h"

#define PATH_BUF 1024
#define PDF_MAX (256 * 1024 * 1024)	/* the appliance's pdf.max_size ceiling */

struct pdf_args {
	const char *seal, *name, *out, *reason, *behalf, *otp, *dtype, *file, *approval;
	json_t *opts;
};

/* A number option into opts[key]; 0, or a usage error. */
static int
num_opt(json_t *opts, const char *key, const char *s, int integer)
{
	char *end;
	double d = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || d < 0 || d > 100000 || (integer && d != (long)d))
		return ctl_usage("sign-pdf: --%s: expected a number, got '%s'", key, s);
	json_object_set_new(opts, key, integer ? json_integer((json_int_t)d) : json_real(d));
	return 0;
}

static int
pdf_args(int argc, char **argv, struct pdf_args *a)
{
	static const struct option opts[] = {
		{ "seal", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "on-behalf-of", required_argument, NULL, 'b' },
		{ "reason", required_argument, NULL, 'r' },
		{ "page", required_argument, NULL, 'p' },
		{ "x", required_argument, NULL, 'x' },
		{ "y", required_argument, NULL, 'y' },
		{ "width", required_argument, NULL, 'w' },
		{ "height", required_argument, NULL, 'H' },
		{ "cross-page", no_argument, NULL, 'C' },
		{ "near-text", required_argument, NULL, 'N' },
		{ "every", no_argument, NULL, 'E' },
		{ "otp", required_argument, NULL, 'O' },
		{ "document-type", required_argument, NULL, 'T' },
		{ "approval", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, rc = 0;

	while (rc == 0 && (ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 's': a->seal = optarg; break;
		case 'n': a->name = optarg; break;
		case 'o': a->out = optarg; break;
		case 'b': a->behalf = optarg; break;
		case 'r': a->reason = optarg; break;
		case 'p': rc = num_opt(a->opts, "page", optarg, 1); break;
		case 'x': rc = num_opt(a->opts, "x", optarg, 0); break;
		case 'y': rc = num_opt(a->opts, "y", optarg, 0); break;
		case 'w': rc = num_opt(a->opts, "width", optarg, 0); break;
		case 'H': rc = num_opt(a->opts, "height", optarg, 0); break;
		case 'C': json_object_set_new(a->opts, "cross_page", json_true()); break;
		case 'N': json_object_set_new(a->opts, "near_text", json_string(optarg)); break;
		case 'E': json_object_set_new(a->opts, "near_text_every", json_true()); break;
		case 'O': a->otp = optarg; break;
		case 'T': a->dtype = optarg; break;
		case 'A': a->approval = optarg; break;
		default: return ctl_usage("sign-pdf: bad option");
		}
	}
	if (rc != 0)
		return rc;
	if (optind != argc - 1)
		return ctl_usage("sign-pdf: expected one FILE");
	a->file = argv[optind];
	if (a->seal == NULL || *a->seal == '\0')
		return ctl_usage("sign-pdf: --seal ID is required");
	if (strcmp(a->file, "-") == 0 && (a->out == NULL || a->name == NULL))
		return ctl_usage("sign-pdf: a document on standard input needs --name and -o");
	return 0;
}

/* The output path: -o, or FILE without ".pdf" and "-sealed.pdf". */
static int
out_path(const struct pdf_args *a, char *buf, size_t len)
{
	size_t n = strlen(a->file);

	if (a->out != NULL)
		return snprintf(buf, len, "%s", a->out) < (int)len ? 0 : -1;
	if (n > 4 && strcmp(a->file + n - 4, ".pdf") == 0)
		n -= 4;
	return snprintf(buf, len, "%.*s-sealed.pdf", (int)n, a->file) < (int)len ? 0 : -1;
}

/* The request: options as ASCII JSON (non-ASCII escaped) for the header. */
static char *
options_text(struct pdf_args *a, const char *name)
{
	json_object_set_new(a->opts, "document_name", json_string(name));
	if (a->reason != NULL)
		json_object_set_new(a->opts, "reason", json_string(a->reason));
	if (a->behalf != NULL)
		json_object_set_new(a->opts, "on_behalf_of", json_string(a->behalf));
	if (a->otp != NULL)
		json_object_set_new(a->opts, "otp", json_string(a->otp));
	if (a->dtype != NULL)
		json_object_set_new(a->opts, "document_type", json_string(a->dtype));
	if (a->approval != NULL)
		json_object_set_new(a->opts, "approval", json_string(a->approval));
	return json_dumps(a->opts, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_SORT_KEYS);
}

static int
send_pdf(struct ctl *c, const struct pdf_args *a, const char *path, const char *opts,
    const char *out)
{
	struct http_response r;
	char err[512];
	uint8_t *pdf = NULL;
	size_t len = 0;
	int rc;

	if (codec_read_file(a->file, PDF_MAX, &pdf, &len, err, sizeof(err)) != 0) {
		ctl_err("%s", err);
		return SEALCTL_EXIT_FAIL;
	}
	c->xname = "Sealbox-Options";
	c->xvalue = opts;
	rc = ctl_call(c, "POST", path, "application/pdf", pdf, len, &r, 0);
	c->xname = c->xvalue = NULL;
	free(pdf);
	if (rc != 0)
		return rc;
	rc = SEALCTL_EXIT_FAIL;
	if (r.content_type == NULL || strcmp(r.content_type, "application/pdf") != 0)
		ctl_err("the appliance's answer is not a PDF");
	else if (codec_write_file(out, r.body, r.len, err, sizeof(err)) != 0)
		ctl_err("%s (the seal is in the ledger as seq %s)", err,
		    r.ledger_seq ? r.ledger_seq : "?");
	else {
		printf("sealed ");
		codec_print_safe(stdout, a->file);
		printf(" into ");
		codec_print_safe(stdout, out);
		printf(": seq %s\n", r.ledger_seq ? r.ledger_seq : "?");
		rc = SEALCTL_EXIT_OK;
	}
	http_response_clear(&r);
	return rc;
}

int
cmd_sign_pdf(struct ctl *c, int argc, char **argv)
{
	struct pdf_args a = { .opts = json_object() };
	char path[PATH_BUF], out[PATH_BUF], *enc = NULL, *base = NULL, *opts = NULL;
	int rc;

	if (a.opts == NULL)
		return SEALCTL_EXIT_FAIL;
	if ((rc = pdf_args(argc, argv, &a)) != 0)
		goto done;
	if (a.name == NULL && (base = strdup(a.file)) != NULL)
		a.name = basename(base);
	if (a.name == NULL || out_path(&a, out, sizeof(out)) != 0 ||
	    (enc = evhttp_uriencode(a.seal, -1, 0)) == NULL ||
	    (size_t)snprintf(path, sizeof(path), "/v1/seals/%s/sign-pdf", enc) >= sizeof(path)) {
		rc = ctl_usage("sign-pdf: a name or the seal id is too long");
		goto done;
	}
	/* Names, coordinates and the rest are the appliance's to check (400). */
	if ((opts = options_text(&a, a.name)) == NULL) {
		rc = SEALCTL_EXIT_FAIL;
		goto done;
	}
	rc = send_pdf(c, &a, path, opts, out);
done:
	free(opts);
	free(enc);
	free(base);
	json_decref(a.opts);
	return rc;
}
