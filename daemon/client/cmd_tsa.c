/*
 * cmd_tsa — sealctl timestamp: an RFC 3161 query built with OpenSSL's TS
 * API (SHA-256 imprint, a 64-bit random nonce, certReq), POST /v1/tsa, and
 * the reply checked before it is written: status granted, version, the
 * imprint and the nonce ours; with --trust, also the token's signature and
 * the TSA certificate's chain.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "codec.h"
#include "evidence.h"
#include "lib/err.h"
#include "sealctl.h"

#define PATH_BUF 1024
#define TSR_MAX (256 * 1024)

/* The query for digest d, with a fresh nonce; DER in *der (OPENSSL_malloc). */
static TS_REQ *
make_query(const uint8_t d[32], uint8_t **der, int *len)
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = NULL;
	BIGNUM *bn = BN_new();
	int ok;

	*der = NULL;
	ok = req && mi && alg && bn &&
	    X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) &&
	    TS_MSG_IMPRINT_set_algo(mi, alg) &&
	    TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)d, 32) &&
	    TS_REQ_set_version(req, 1) && TS_REQ_set_msg_imprint(req, mi) &&
	    TS_REQ_set_cert_req(req, 1) &&
	    BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
	    (nonce = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
	    TS_REQ_set_nonce(req, nonce) &&
	    (*len = i2d_TS_REQ(req, der)) > 0;
	ASN1_INTEGER_free(nonce);
	BN_free(bn);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	if (!ok) {
		TS_REQ_free(req);
		OPENSSL_free(*der);
		*der = NULL;
		return NULL;
	}
	return req;
}

/* "rejection (timeNotAvailable): text" for a reply that is not granted. */
static void
print_status(TS_RESP *resp)
{
	static const struct { int bit; const char *name; } fails[] = {
		{ TS_INFO_BAD_ALG, "badAlg" }, { TS_INFO_BAD_REQUEST, "badRequest" },
		{ TS_INFO_BAD_DATA_FORMAT, "badDataFormat" },
		{ TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable" },
		{ TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy" },
		{ TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension" },
		{ TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable" },
		{ TS_INFO_SYSTEM_FAILURE, "systemFailure" },
	};
	static const char *const names[] = { "granted", "grantedWithMods", "rejection",
	    "waiting", "revocationWarning", "revocationNotification" };
	TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
	const ASN1_BIT_STRING *fi = TS_STATUS_INFO_get0_failure_info(si);
	const STACK_OF(ASN1_UTF8STRING) *text = TS_STATUS_INFO_get0_text(si);
	long st = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
	char why[128] = "";
	size_t o = 0;

	for (size_t i = 0; fi != NULL && i < sizeof(fails) / sizeof(fails[0]); i++)
		if (ASN1_BIT_STRING_get_bit(fi, fails[i].bit) && o < sizeof(why))
			o += (size_t)snprintf(why + o, sizeof(why) - o, "%s%s", o ? "," : "",
			    fails[i].name);
	fprintf(stderr, "sealctl: the TSA did not grant a timestamp: %s%s%s%s",
	    st >= 0 && st <= 5 ? names[st] : "unknown status", o ? " (" : "", why, o ? ")" : "");
	if (text != NULL && sk_ASN1_UTF8STRING_num(text) > 0) {
		char *t = (char *)ASN1_STRING_get0_data(sk_ASN1_UTF8STRING_value(text, 0));
		char safe[256];

		fprintf(stderr, ": %s", codec_safe(safe, sizeof(safe), t));
	}
	fputc('\n', stderr);
}

/* Checks resp against req; with trust, the signature and chain too. */
static int
check_reply(TS_REQ *req, TS_RESP *resp, const char *trust)
{
	TS_VERIFY_CTX *vc = TS_REQ_to_TS_VERIFY_CTX(req, NULL);
	STACK_OF(X509) *anchors = NULL;
	X509_STORE *st = NULL;
	char err[512];
	int ok = 0;

	if (vc == NULL)
		return -1;
	/* TS_REQ_to_TS_VERIFY_CTX copied the imprint and nonce; what is checked
	 * is set here (its own default differs between OpenSSL releases). */
	TS_VERIFY_CTX_set_flags(vc, TS_VFY_VERSION | TS_VFY_IMPRINT | TS_VFY_NONCE);
	if (trust != NULL) {
		if (evidence_load_pem_certs(trust, &anchors, err, sizeof(err)) != 0) {
			ctl_err("%s", err);
			goto out;
		}
		if ((st = X509_STORE_new()) == NULL)
			goto out;
		for (int i = 0; i < sk_X509_num(anchors); i++)
			X509_STORE_add_cert(st, sk_X509_value(anchors, i));
		X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
		TS_VERIFY_CTX_add_flags(vc, TS_VFY_SIGNATURE);
		TS_VERIFY_CTX_set_store(vc, st);	/* takes it */
		st = NULL;
	}
	if (TS_RESP_verify_response(vc, resp) != 1) {
		const char *data = NULL;
		int fl = 0;
		unsigned long e = ERR_peek_last_error_data(&data, &fl);
		const char *r = e ? ERR_reason_error_string(e) : NULL;

		ctl_err("the timestamp reply does not match the query%s: %s%s%s",
		    trust ? " or does not verify" : "", r ? r : "no detail",
		    data && (fl & ERR_TXT_STRING) && *data ? ": " : "",
		    data && (fl & ERR_TXT_STRING) ? data : "");
		goto out;
	}
	ok = 1;
out:
	ERR_clear_error();
	X509_STORE_free(st);
	sk_X509_pop_free(anchors, X509_free);
	TS_VERIFY_CTX_free(vc);
	return ok ? 0 : -1;
}

static void
print_token(const char *file, const char *out, TS_RESP *resp)
{
	TS_TST_INFO *tst = TS_RESP_get_tst_info(resp);
	const ASN1_GENERALIZEDTIME *t = TS_TST_INFO_get_time(tst);
	BIGNUM *bn = ASN1_INTEGER_to_BN(TS_TST_INFO_get_serial(tst), NULL);
	char *serial = bn ? BN_bn2hex(bn) : NULL;
	char oid[80], when[32] = "?";
	struct tm tm;

	if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	OBJ_obj2txt(oid, sizeof(oid), TS_TST_INFO_get_policy_id(tst), 1);
	printf("timestamped ");
	codec_print_safe(stdout, file);
	printf(": time %s, serial %s, policy %s, reply in ", when, serial ? serial : "?", oid);
	codec_print_safe(stdout, out);
	putchar('\n');
	OPENSSL_free(serial);
	BN_free(bn);
}

int
cmd_timestamp(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "trust", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *trust = NULL, *file;
	char outbuf[PATH_BUF], err[512];
	struct http_response r = { 0 };
	const unsigned char *p;
	TS_REQ *req = NULL;
	TS_RESP *resp = NULL;
	uint8_t d[32], *der = NULL;
	int ch, len = 0, rc = SEALCTL_EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 'T': trust = optarg; break;
		default: return ctl_usage("timestamp: bad option");
		}
	}
	if (optind != argc - 1)
		return ctl_usage("timestamp: expected one FILE");
	file = argv[optind];
	if (out == NULL) {
		if (strcmp(file, "-") == 0)
			return ctl_usage("timestamp: standard input needs -o");
		if ((size_t)snprintf(outbuf, sizeof(outbuf), "%s.tsr", file) >= sizeof(outbuf))
			return ctl_usage("timestamp: file name too long");
		out = outbuf;
	}
	if (codec_sha256_file(file, d, err, sizeof(err)) != 0) {
		ctl_err("%s", err);
		return SEALCTL_EXIT_FAIL;
	}
	if ((req = make_query(d, &der, &len)) == NULL) {
		ctl_err("cannot build the timestamp query");
		goto out;
	}
	if ((rc = ctl_call(c, "POST", "/v1/tsa", "application/timestamp-query", der,
	    (size_t)len, &r, 0)) != 0)
		goto out;
	rc = SEALCTL_EXIT_FAIL;
	p = r.body;
	if (r.len > TSR_MAX || (resp = d2i_TS_RESP(NULL, &p, (long)r.len)) == NULL ||
	    p != r.body + r.len) {
		ctl_err("the appliance's answer is not a timestamp reply");
		goto out;
	}
	if (TS_RESP_get_token(resp) == NULL) {
		print_status(resp);
		goto out;
	}
	if (check_reply(req, resp, trust) != 0)
		goto out;
	if (codec_write_file(out, r.body, r.len, err, sizeof(err)) != 0) {
		ctl_err("%s", err);
		goto out;
	}
	print_token(file, out, resp);
	rc = SEALCTL_EXIT_OK;
out:
	ERR_clear_error();
	TS_RESP_free(resp);
	TS_REQ_free(req);
	OPENSSL_free(der);
	http_response_clear(&r);
	return rc;
}
