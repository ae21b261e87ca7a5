/*
 * cmd_seal — sealctl sign, verify, seals and health: POST
 * /v1/seals/{id}/sign, POST /v1/verify, GET /v1/seals, GET /v1/health.
 *
 * Documents never leave this machine: sign and verify send their SHA-256,
 * computed here.
 */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <openssl/pem.h>	/* before cms.h, which declares PEM_read_bio_CMS */
#include <openssl/cms.h>
#include <openssl/err.h>

#include "codec.h"
#include "lib/err.h"
#include "sealctl.h"

#define NAME_MAX_BYTES 255	/* document_name, docs/API.md */
#define PATH_BUF 1024

/* {"alg": "sha256", "value": hex} of the file, or NULL (error printed). */
static json_t *
digest_of(const char *file)
{
	char err[512], hex[65];
	uint8_t d[32];

	if (codec_sha256_file(file, d, err, sizeof(err)) != 0) {
		ctl_err("%s", err);
		return NULL;
	}
	codec_hex(d, sizeof(d), hex);
	return json_pack("{ss ss}", "alg", "sha256", "value", hex);
}

/* UTF-8 of 1..255 bytes without control characters. */
static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_BYTES)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int
cmd_sign(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seal", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "on-behalf-of", required_argument, NULL, 'b' },
		{ "otp", required_argument, NULL, 'O' },
		{ "document-type", required_argument, NULL, 'T' },
		{ "approval", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	const char *seal = NULL, *name = NULL, *out = NULL, *behalf = NULL, *file, *cms_b64;
	const char *otp = NULL, *dtype = NULL, *approval = NULL;
	char path[PATH_BUF], outbuf[PATH_BUF], err[512], *enc, *base = NULL;
	json_t *body = NULL, *resp = NULL, *dg;
	unsigned long long seq;
	uint8_t *der = NULL;
	size_t der_len;
	int ch, rc = SEALCTL_EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 's': seal = optarg; break;
		case 'n': name = optarg; break;
		case 'o': out = optarg; break;
		case 'b': behalf = optarg; break;
		case 'O': otp = optarg; break;
		case 'T': dtype = optarg; break;
		case 'A': approval = optarg; break;
		default: return ctl_usage("sign: bad option");
		}
	}
	if (optind != argc - 1)
		return ctl_usage("sign: expected one FILE");
	file = argv[optind];
	if (seal == NULL || *seal == '\0')
		return ctl_usage("sign: --seal ID is required");
	/* Its characters are the appliance's to check (400 bad_request). */
	if (behalf != NULL && *behalf == '\0')
		return ctl_usage("sign: --on-behalf-of needs a principal name");
	if (strcmp(file, "-") == 0 && (out == NULL || name == NULL))
		return ctl_usage("sign: a document on standard input needs --name and -o");
	if (name == NULL) {
		if ((base = strdup(file)) == NULL)
			return SEALCTL_EXIT_FAIL;
		name = basename(base);
	}
	if (!name_ok(name)) {
		free(base);
		return ctl_usage("sign: the document name must be 1 to %d bytes without "
		    "control characters", NAME_MAX_BYTES);
	}
	if (out == NULL) {
		if ((size_t)snprintf(outbuf, sizeof(outbuf), "%s.p7s", file) >= sizeof(outbuf)) {
			free(base);
			return ctl_usage("sign: file name too long");
		}
		out = outbuf;
	}
	if ((enc = evhttp_uriencode(seal, -1, 0)) == NULL ||
	    (size_t)snprintf(path, sizeof(path), "/v1/seals/%s/sign", enc) >= sizeof(path)) {
		free(enc);
		free(base);
		return ctl_usage("sign: seal id too long");
	}
	free(enc);
	if ((dg = digest_of(file)) == NULL)
		goto out;
	/* Their characters are the appliance's to check (400 bad_request). */
	body = json_pack("{sO ss s:s* s:s* s:s* s:s*}", "digest", dg, "document_name", name,
	    "on_behalf_of", behalf, "otp", otp, "document_type", dtype, "approval", approval);
	json_decref(dg);
	if (body == NULL)
		goto out;
	if ((rc = ctl_call_json(c, "POST", path, body, &resp)) != 0)
		goto out;
	rc = SEALCTL_EXIT_FAIL;
	cms_b64 = json_string_value(json_object_get(resp, "cms"));
	if (cms_b64 == NULL || !json_is_integer(json_object_get(resp, "seq")) ||
	    json_integer_value(json_object_get(resp, "seq")) < 0 ||
	    codec_b64_decode(cms_b64, strlen(cms_b64), SEALCTL_CMS_MAX, &der, &der_len) != 0 ||
	    der_len == 0) {
		ctl_err("the appliance's answer has no valid cms and seq");
		goto out;
	}
	seq = (unsigned long long)json_integer_value(json_object_get(resp, "seq"));
	if (codec_write_file(out, der, der_len, err, sizeof(err)) != 0) {
		ctl_err("%s (the seal is in the ledger as seq %llu: sealctl evidence %llu "
		    "recovers it)", err, seq, seq);
		goto out;
	}
	printf("sealed ");
	codec_print_safe(stdout, file);
	printf(": seq %llu\n", seq);
	rc = SEALCTL_EXIT_OK;
out:
	free(der);
	free(base);
	json_decref(body);
	json_decref(resp);
	return rc;
}

/* A signature file as DER: DER as is, PEM ("-----BEGIN CMS" or PKCS7) converted. */
static int
read_cms(const char *file, uint8_t **der, size_t *len)
{
	char err[512];
	uint8_t *data;
	size_t n;
	int dn;

	*der = NULL;
	if (codec_read_file(file, SEALCTL_CMS_MAX, &data, &n, err, sizeof(err)) != 0) {
		ctl_err("%s", err);
		return -1;
	}
	if (n >= 11 && memcmp(data, "-----BEGIN ", 11) == 0) {
		BIO *bio = BIO_new_mem_buf(data, (int)n);
		CMS_ContentInfo *cms = bio ? PEM_read_bio_CMS(bio, NULL, NULL, NULL) : NULL;
		unsigned char *p = NULL;

		dn = cms ? i2d_CMS_ContentInfo(cms, &p) : -1;
		CMS_ContentInfo_free(cms);
		BIO_free(bio);
		free(data);
		ERR_clear_error();
		if (dn <= 0) {
			ctl_err("%s: not a PEM CMS", file);
			return -1;
		}
		/* The caller frees with free(), not OPENSSL_free(). */
		data = malloc((size_t)dn);
		if (data != NULL)
			memcpy(data, p, (size_t)dn);
		OPENSSL_free(p);
		if (data == NULL)
			return -1;
		n = (size_t)dn;
	}
	*der = data;
	*len = n;
	return 0;
}

/* key: value, for the fields of a verify answer. */
static void
print_field(const char *key, const json_t *v)
{
	printf("%s: ", key);
	if (json_is_string(v))
		codec_print_safe(stdout, json_string_value(v));
	else if (json_is_true(v))
		printf("yes");
	else if (json_is_false(v))
		printf("no");
	else if (json_is_integer(v))
		printf("%lld", (long long)json_integer_value(v));
	else if (json_is_null(v))
		printf("-");
	else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		codec_print_safe(stdout, s ? s : "?");
		free(s);
	}
	putchar('\n');
}

int
cmd_verify(struct ctl *c, int argc, char **argv)
{
	static const char *const order[] = { "valid", "reason", "seal", "signer",
	    "signing_time", "timestamp_time", "seq", "seal_active_then", NULL };
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	json_t *body = NULL, *resp = NULL, *dg, *v;
	char *b64 = NULL;
	const char *k;
	uint8_t *der = NULL;
	size_t len;
	int rc = SEALCTL_EXIT_FAIL;

	if (getopt_long(argc, argv, "", opts, NULL) != -1)
		return ctl_usage("verify: bad option");
	if (optind != argc - 2)
		return ctl_usage("verify: expected FILE and SIGNATURE");
	if ((dg = digest_of(argv[optind])) == NULL)
		return SEALCTL_EXIT_FAIL;
	if (read_cms(argv[optind + 1], &der, &len) == 0 &&
	    codec_b64_encode(der, len, &b64) == 0)
		body = json_pack("{sO ss}", "digest", dg, "cms", b64);
	json_decref(dg);
	if (body == NULL)
		goto out;
	if ((rc = ctl_call_json(c, "POST", "/v1/verify", body, &resp)) != 0)
		goto out;
	for (size_t i = 0; order[i] != NULL; i++)
		if ((v = json_object_get(resp, order[i])) != NULL)
			print_field(order[i], v);
	json_object_foreach(resp, k, v) {
		size_t i;

		for (i = 0; order[i] != NULL && strcmp(order[i], k) != 0; i++)
			;
		if (order[i] == NULL) {
			char sk[64];

			print_field(codec_safe(sk, sizeof(sk), k), v);
		}
	}
	rc = json_is_true(json_object_get(resp, "valid")) ? SEALCTL_EXIT_OK : SEALCTL_EXIT_FAIL;
out:
	free(b64);
	free(der);
	json_decref(body);
	json_decref(resp);
	return rc;
}

#define SEAL_COLS 4

int
cmd_seals(struct ctl *c, int argc, char **argv)
{
	static const char *const cols[SEAL_COLS] = { "id", "type", "state", "name" };
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	size_t width[SEAL_COLS], i, j;
	json_t *resp = NULL, *seals, *s;
	char cell[256];
	int rc;

	if (getopt_long(argc, argv, "", opts, NULL) != -1 || optind != argc)
		return ctl_usage("seals: takes no arguments");
	if ((rc = ctl_call_json(c, "GET", "/v1/seals", NULL, &resp)) != 0)
		return rc;
	if (!json_is_array(seals = json_object_get(resp, "seals"))) {
		ctl_err("the appliance's answer has no seals list");
		json_decref(resp);
		return SEALCTL_EXIT_FAIL;
	}
	for (j = 0; j < SEAL_COLS; j++)
		width[j] = strlen(cols[j]);
	json_array_foreach(seals, i, s)
		for (j = 0; j + 1 < SEAL_COLS; j++) {
			size_t n = strlen(codec_safe(cell, sizeof(cell),
			    json_string_value(json_object_get(s, cols[j]))));

			if (n > width[j])
				width[j] = n;
		}
	printf("%-*s  %-*s  %-*s  %s\n", (int)width[0], "ID", (int)width[1], "TYPE",
	    (int)width[2], "STATE", "NAME");
	json_array_foreach(seals, i, s) {
		for (j = 0; j < SEAL_COLS; j++) {
			const char *v = json_string_value(json_object_get(s, cols[j]));

			codec_safe(cell, sizeof(cell), v ? v : "-");
			if (j + 1 < SEAL_COLS)
				printf("%-*s  ", (int)width[j], cell);
			else
				printf("%s\n", cell);
		}
	}
	json_decref(resp);
	return SEALCTL_EXIT_OK;
}

int
cmd_health(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	struct http_response r;
	const char *k, *state;
	json_t *j, *v;
	int rc;

	if (getopt_long(argc, argv, "", opts, NULL) != -1 || optind != argc)
		return ctl_usage("health: takes no arguments");
	/* A sealed or degraded appliance may answer 503 with its state. */
	if ((rc = ctl_call(c, "GET", "/v1/health", NULL, NULL, 0, &r, 1)) != 0)
		return rc;
	j = json_loadb((const char *)r.body, r.len, 0, NULL);
	state = json_string_value(json_object_get(j, "state"));
	if (state == NULL) {
		if (r.status >= 300)
			ctl_err("HTTP %d from the appliance", r.status);
		else
			ctl_err("the appliance's answer has no state");
		json_decref(j);
		http_response_clear(&r);
		return SEALCTL_EXIT_FAIL;
	}
	http_response_clear(&r);
	json_object_foreach(j, k, v) {
		char sk[64];

		print_field(codec_safe(sk, sizeof(sk), k), v);
	}
	rc = strcmp(state, "ready") == 0 ? SEALCTL_EXIT_OK : SEALCTL_EXIT_FAIL;
	json_decref(j);
	return rc;
}
