/* daemon/net/req: paths, queries, media types and JSON bodies to messages; results to JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "daemon/msg.h"
#include "daemon/net/req.h"
#include "check.h"

#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"
#define DIG(alg, val) "{\"alg\":\"" alg "\",\"value\":\"" val "\"}"
#define J(s) (s), strlen(s)

static struct req_err e;

/* The body as given, through req_sign for seal "demo". */
static int
sign(const char *body, struct msg_sign *v)
{
	memset(&e, 0, sizeof(e));
	return req_sign(body, strlen(body), "demo", v, &e);
}

/* req_sign refuses body with this status and code, and the message holds want. */
#define CHECK_SIGN_REFUSED(body, st, cd, want) do { \
	struct msg_sign v_; \
	CHECK_RC(sign(body, &v_), SB_EINVAL); \
	CHECK(e.status == (st)); \
	CHECK_STR(e.code, cd); \
	CHECK_CONTAINS(e.message, want); \
} while (0)

/* ---- routes ------------------------------------------------------------- */

static void
test_route_every_path(void)
{
	static const struct { const char *path; enum req_method m; enum req_route_id id; } ok[] = {
		{ "/v1/health", REQ_GET, REQ_HEALTH },
		{ "/v1/seals", REQ_GET, REQ_SEALS },
		{ "/v1/seals/demo-seal", REQ_GET, REQ_SEAL },
		{ "/v1/seals/demo-seal/sign", REQ_POST, REQ_SIGN },
		{ "/v1/sign/batch", REQ_POST, REQ_BATCH },
		{ "/v1/verify", REQ_POST, REQ_VERIFY },
		{ "/v1/tsa", REQ_POST, REQ_TSA },
		{ "/v1/ledger/sth", REQ_GET, REQ_STH },
		{ "/v1/ledger/entries", REQ_GET, REQ_ENTRIES },
		{ "/v1/ledger/proof/inclusion", REQ_GET, REQ_INCLUSION },
		{ "/v1/ledger/proof/consistency", REQ_GET, REQ_CONSISTENCY },
		{ "/v1/evidence/42", REQ_GET, REQ_EVIDENCE },
		{ "/v1/requests", REQ_POST, REQ_REQUEST_FILE },
		{ "/v1/requests", REQ_GET, REQ_REQUESTS },
		{ "/v1/requests/r-3", REQ_GET, REQ_REQUEST },
		{ "/v1/requests/r-3/approve", REQ_POST, REQ_REQUEST_APPROVE },
		{ "/v1/requests/r-3/reject", REQ_POST, REQ_REQUEST_REJECT },
		{ "/v1/stats", REQ_GET, REQ_STATS },
	};
	struct req_route r;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK_RC(req_route(ok[i].path, ok[i].m, &r, &e), 0);
		CHECK(r.id == ok[i].id);
	}
	CHECK_RC(req_route("/v1/seals/a.b_C-9/sign", REQ_POST, &r, &e), 0);
	CHECK_STR(r.seal, "a.b_C-9");
	CHECK_RC(req_route("/v1/evidence/18446744073709551615", REQ_GET, &r, &e), 0);
	CHECK(r.seq == UINT64_MAX);
}

/* The route list is the table req_route matches: each pattern, its
 * parameter filled in, routes to its own id and method, and the list holds
 * the twenty-seven routes of docs/API.md once each (a path twice only with two
 * methods). */
static void
test_route_list_is_the_table(void)
{
	size_t n, i, j;
	const struct req_route_def *d = req_route_list(&n);
	struct req_route r;
	char path[REQ_PATH_MAX + 1];

	CHECK(n == 27);
	for (i = 0; i < n; i++) {
		const char *open = strchr(d[i].pattern, '{');
		const char *close = open ? strchr(open, '}') : NULL;

		if (open == NULL)
			snprintf(path, sizeof(path), "%s", d[i].pattern);
		else
			snprintf(path, sizeof(path), "%.*s%s%s", (int)(open - d[i].pattern),
			    d[i].pattern, strncmp(open, "{seq}", 5) == 0 ? "7" :
			    strncmp(open, "{request}", 9) == 0 ? "r-1" : "s-1", close + 1);
		CHECK_RC(req_route(path, d[i].method, &r, &e), 0);
		CHECK(r.id == d[i].id && (r.method & d[i].method) != 0);
		for (j = 0; j < i; j++)
			CHECK(d[j].id != d[i].id && (strcmp(d[j].pattern, d[i].pattern) != 0 ||
			    d[j].method != d[i].method));
	}
}

static void
test_route_unknown_paths_are_404(void)
{
	static const char *const bad[] = {
		"/", "", "/v1", "/v1/", "/v1/health/", "/v1/healthz", "/V1/health", "/v1/seals/",
		"/v1/seals//sign", "/v1/seals/x/sign/", "/v1/seals/x/verify", "/v1/evidence/",
		"/v1/evidence/1/2", "/v1/ledger", "/v1/ledger/proof", "//v1/health",
	};
	struct req_route r;
	char longp[REQ_PATH_MAX + 8];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_RC(req_route(bad[i], REQ_GET, &r, &e), SB_EINVAL);
		CHECK(e.status == 404);
		CHECK_STR(e.code, "not_found");
	}
	CHECK_RC(req_route(NULL, REQ_GET, &r, &e), SB_EINVAL);
	CHECK(e.status == 404);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	memcpy(longp, "/v1/seals/", 10);
	CHECK_RC(req_route(longp, REQ_GET, &r, &e), SB_EINVAL);
	CHECK(e.status == 404);
}

static void
test_route_wrong_method_is_405_with_the_allowed_one(void)
{
	struct req_route r;

	CHECK_RC(req_route("/v1/health", REQ_POST, &r, &e), SB_EINVAL);
	CHECK(e.status == 405);
	CHECK_STR(e.code, "method_not_allowed");
	CHECK(r.method == REQ_GET);
	CHECK_RC(req_route("/v1/seals/x/sign", REQ_GET, &r, &e), SB_EINVAL);
	CHECK(e.status == 405 && r.method == REQ_POST);
	CHECK_RC(req_route("/v1/tsa", REQ_OTHER, &r, &e), SB_EINVAL);
	CHECK(e.status == 405 && r.method == REQ_POST);
}

/* The requests' routes: two methods on one path, r-N ids, the list's
 * filters, and the bodies of filing, rejecting and approving. */
static void
test_requests_routes_and_bodies(void)
{
	static const char *const bad_ids[] = { "/v1/requests/7", "/v1/requests/r-",
	    "/v1/requests/r-0", "/v1/requests/r-x", "/v1/requests/R-1",
	    "/v1/requests/r-18446744073709551616", "/v1/requests/r--1" };
	static const char *const bad_q[] = { "state=", "state=Pending", "unit=x",
	    "state=a&state=b", "kind=freeze&", "state=abcdefghijklmnop", "state" };
	static const char *const bad_file[] = {
		"{\"kind\":\"freeze\",\"seal\":\"s1\"}",
		"{\"kind\":\"freeze\",\"seal\":\"s1\",\"reason\":\"\"}",
		"{\"kind\":\"freeze\",\"seal\":\"s 1\",\"reason\":\"x\"}",
		"{\"kind\":\"Freeze\",\"seal\":\"s1\",\"reason\":\"x\"}",
		"{\"kind\":\"freeze\",\"seal\":\"s1\",\"reason\":\"x\",\"at\":1}",
		"{\"kind\":\"freeze\",\"seal\":\"s1\",\"reason\":\"a\\nb\"}",
		"{\"kind\":\"freeze\",\"seal\":\"s1\",\"reason\":7}",
	};
	struct msg_request_file f;
	struct msg_request_act a;
	struct msg_requests_list l;
	struct req_route r;
	char big[400];

	CHECK_RC(req_route("/v1/requests", REQ_OTHER, &r, &e), SB_EINVAL);
	CHECK(e.status == 405 && r.method == (REQ_GET | REQ_POST));
	CHECK_STR(req_methods_text(r.method), "GET, POST");
	CHECK_RC(req_route("/v1/requests/r-42/reject", REQ_POST, &r, &e), 0);
	CHECK(r.id == REQ_REQUEST_REJECT && r.seq == 42);
	CHECK_RC(req_route("/v1/requests/r-42/approve", REQ_GET, &r, &e), SB_EINVAL);
	CHECK(e.status == 405);
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		CHECK_RC(req_route(bad_ids[i], REQ_GET, &r, &e), SB_EINVAL);
		CHECK(e.status == 400);
	}
	CHECK_RC(req_query_requests(NULL, &l, &e), 0);
	CHECK(l.state[0] == '\0' && l.kind[0] == '\0');
	CHECK_RC(req_query_requests("kind=unfreeze&state=pending", &l, &e), 0);
	CHECK_STR(l.state, "pending");
	CHECK_STR(l.kind, "unfreeze");
	for (size_t i = 0; i < sizeof(bad_q) / sizeof(bad_q[0]); i++) {
		CHECK_RC(req_query_requests(bad_q[i], &l, &e), SB_EINVAL);
		CHECK(e.status == 400);
		CHECK_STR(e.code, "bad_query");
	}
	CHECK_RC(req_request_file(J("{\"kind\":\"deactivate\",\"seal\":\"s1\","
	    "\"reason\":\"\u5370 closed\"}"), &f, &e), 0);
	CHECK_STR(f.kind, "deactivate");
	CHECK_STR(f.seal, "s1");
	CHECK_STR(f.reason, "\xe5\x8d\xb0 closed");
	CHECK(f.unit[0] == '\0');
	CHECK_RC(req_request_file(J("{\"kind\":\"transfer\",\"seal\":\"s1\",\"reason\":\"move\","
	    "\"unit\":\"sub-2\"}"), &f, &e), 0);
	CHECK_STR(f.kind, "transfer");
	CHECK_STR(f.unit, "sub-2");
	CHECK_RC(req_request_file(J("{\"kind\":\"transfer\",\"seal\":\"s1\",\"reason\":\"x\"}"),
	    &f, &e), SB_EINVAL);
	CHECK(e.status == 400 && strstr(e.message, "unit: required for kind transfer") != NULL);
	CHECK_RC(req_request_file(J("{\"kind\":\"freeze\",\"seal\":\"s1\",\"reason\":\"x\","
	    "\"unit\":\"sub-2\"}"), &f, &e), SB_EINVAL);
	CHECK(e.status == 400 && strstr(e.message, "unit: only for kind transfer") != NULL);
	CHECK_RC(req_request_file(J("{\"kind\":\"transfer\",\"seal\":\"s1\",\"reason\":\"x\","
	    "\"unit\":\"a b\"}"), &f, &e), SB_EINVAL);
	CHECK(e.status == 400);
	CHECK_RC(req_request_file(J("{\"kind\":\"revoke\",\"seal\":\"s1\",\"reason\":\"left\","
	    "\"principal\":\"erp@hq\"}"), &f, &e), 0);
	CHECK_STR(f.principal, "erp@hq");
	CHECK(f.unit[0] == '\0');
	CHECK_RC(req_request_file(J("{\"kind\":\"revoke\",\"seal\":\"s1\",\"reason\":\"x\"}"),
	    &f, &e), SB_EINVAL);
	CHECK(e.status == 400 && strstr(e.message, "principal: required for kind revoke") != NULL);
	CHECK_RC(req_request_file(J("{\"kind\":\"transfer\",\"seal\":\"s1\",\"reason\":\"x\","
	    "\"unit\":\"sub-2\",\"principal\":\"app\"}"), &f, &e), SB_EINVAL);
	CHECK(e.status == 400 && strstr(e.message, "principal: only for kind revoke") != NULL);
	for (size_t i = 0; i < sizeof(bad_file) / sizeof(bad_file[0]); i++) {
		CHECK_RC(req_request_file(J(bad_file[i]), &f, &e), SB_EINVAL);
		CHECK(e.status == 400);
	}
	snprintf(big, sizeof(big), "{\"reason\":\"%0256d\"}", 0);
	CHECK_RC(req_request_reject(J(big), &a, &e), SB_EINVAL);
	big[strlen(big) - 3] = '\0';
	strcat(big, "\"}");
	CHECK_RC(req_request_reject(J(big), &a, &e), 0);
	CHECK(strlen(a.reason) == 255);
	CHECK_RC(req_request_reject(J("{}"), &a, &e), SB_EINVAL);
	CHECK_RC(req_request_approve(NULL, 0, &e), 0);
	CHECK_RC(req_request_approve(J("{}"), &e), 0);
	CHECK_RC(req_request_approve(J("{\"x\":1}"), &e), SB_EINVAL);
	CHECK_RC(req_request_approve(J("[]"), &e), SB_EINVAL);
}

static void
test_route_bad_seal_id_or_seq_is_400(void)
{
	char id64[80];
	struct req_route r;

	CHECK_RC(req_route("/v1/seals/a%20b/sign", REQ_POST, &r, &e), SB_EINVAL);
	CHECK(e.status == 400);
	CHECK_STR(e.code, "bad_request");
	CHECK_CONTAINS(e.message, "seal id");
	CHECK_RC(req_route("/v1/seals/a+b", REQ_GET, &r, &e), SB_EINVAL);
	CHECK(e.status == 400);
	snprintf(id64, sizeof(id64), "/v1/seals/%0*d", 64, 0);
	CHECK_RC(req_route(id64, REQ_GET, &r, &e), SB_EINVAL);
	CHECK(e.status == 400);
	snprintf(id64, sizeof(id64), "/v1/seals/%0*d", 63, 0);
	CHECK_RC(req_route(id64, REQ_GET, &r, &e), 0);
	CHECK(strlen(r.seal) == 63);
	CHECK_RC(req_route("/v1/evidence/4x2", REQ_GET, &r, &e), SB_EINVAL);
	CHECK(e.status == 400);
	CHECK_CONTAINS(e.message, "sequence number");
	CHECK_RC(req_route("/v1/evidence/18446744073709551616", REQ_GET, &r, &e), SB_EINVAL);
	CHECK(e.status == 400);
	CHECK_RC(req_route("/v1/evidence/-1", REQ_GET, &r, &e), SB_EINVAL);
	CHECK(e.status == 400);
}

static void
test_seal_id_rule(void)
{
	CHECK(req_seal_id_ok("a", 1));
	CHECK(req_seal_id_ok("A-z_0.9", 7));
	CHECK(!req_seal_id_ok("", 0));
	CHECK(!req_seal_id_ok("a b", 3));
	CHECK(!req_seal_id_ok("a/b", 3));
	CHECK(!req_seal_id_ok("\xc3\xa9", 2));
	CHECK(!req_seal_id_ok("a\0b", 3));
	CHECK(req_seal_id_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 63));
	CHECK(!req_seal_id_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 64));
}

/* ---- queries ------------------------------------------------------------ */

#define CHECK_BAD_QUERY(expr, want) do { \
	CHECK_RC(expr, SB_EINVAL); \
	CHECK(e.status == 400); \
	CHECK_STR(e.code, "bad_query"); \
	CHECK_CONTAINS(e.message, want); \
} while (0)

static void
test_query_none(void)
{
	CHECK_RC(req_query_none(NULL, &e), 0);
	CHECK_RC(req_query_none("", &e), 0);
	CHECK_BAD_QUERY(req_query_none("x=1", &e), "no parameters");
}

static void
test_query_entries_bounds(void)
{
	struct msg_ledger_entries v;

	CHECK_RC(req_query_entries("start=5&count=10", &v, &e), 0);
	CHECK(v.start == 5 && v.count == 10);
	CHECK_RC(req_query_entries("count=1000&start=18446744073709551615", &v, &e), 0);
	CHECK(v.start == UINT64_MAX && v.count == 1000);
	CHECK_RC(req_query_entries("start=007&count=1", &v, &e), 0);
	CHECK(v.start == 7);
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1001", &v, &e), "count: must be between 1 and 1000");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=0", &v, &e), "count");
	CHECK_BAD_QUERY(req_query_entries("start=0", &v, &e), "count: missing");
	CHECK_BAD_QUERY(req_query_entries(NULL, &v, &e), "missing");
	CHECK_BAD_QUERY(req_query_entries("start=1&start=2&count=1", &v, &e), "start: given twice");
	CHECK_BAD_QUERY(req_query_entries("start=1&count=1&x=2", &v, &e), "unknown parameter 'x'");
	CHECK_BAD_QUERY(req_query_entries("start=-1&count=1", &v, &e), "start: must be a decimal");
	CHECK_BAD_QUERY(req_query_entries("start=+1&count=1", &v, &e), "start");
	CHECK_BAD_QUERY(req_query_entries("start=&count=1", &v, &e), "start");
	CHECK_BAD_QUERY(req_query_entries("start&count=1", &v, &e), "start");
	CHECK_BAD_QUERY(req_query_entries("start=1 &count=1", &v, &e), "start");
	CHECK_BAD_QUERY(req_query_entries("start=0x10&count=1", &v, &e), "start");
	CHECK_BAD_QUERY(req_query_entries("start=%31&count=1", &v, &e), "start");
	CHECK_BAD_QUERY(req_query_entries("start=18446744073709551616&count=1", &v, &e), "start");
	CHECK_BAD_QUERY(req_query_entries("start=1&count=1&", &v, &e), "unknown parameter ''");
	CHECK_BAD_QUERY(req_query_entries("start=1&count=1&\x01\xff=1", &v, &e), "unknown parameter '?" "?'");
}

static void
test_query_alerts(void)
{
	struct msg_alerts v;

	CHECK_RC(req_query_alerts(NULL, &v, &e), 0);
	CHECK(v.start == 0 && v.count == 100 && v.kind[0] == '\0' && v.from_ms == 0 &&
	    v.to_ms == UINT64_MAX);
	CHECK_RC(req_query_alerts("kind=revoked_certificate&start=3&count=1000", &v, &e), 0);
	CHECK(v.start == 3 && v.count == 1000 && strcmp(v.kind, "revoked_certificate") == 0);
	CHECK_RC(req_query_alerts("from=2026-11-22T08:00:00Z&to=2026-11-22T10%3A00%3A00%2B01%3A00",
	    &v, &e), 0);
	CHECK(v.to_ms - v.from_ms == 3600000);
	CHECK_BAD_QUERY(req_query_alerts("from=2026-11-22T08:00:00Z&to=2026-11-22T08:00:00Z",
	    &v, &e), "to: must be later than from");
	CHECK_BAD_QUERY(req_query_alerts("kind=Burst", &v, &e), "kind");
	CHECK_BAD_QUERY(req_query_alerts("kind=burst&kind=burst", &v, &e), "kind: given twice");
	CHECK_BAD_QUERY(req_query_alerts("kind=a_kind_longer_than_23_chars", &v, &e), "kind");
	CHECK_BAD_QUERY(req_query_alerts("count=0", &v, &e), "count");
	CHECK_BAD_QUERY(req_query_alerts("seal=x", &v, &e), "unknown parameter 'seal'");
}

static void
test_query_proofs(void)
{
	struct msg_proof v;

	CHECK_RC(req_query_inclusion("seq=42", &v, &e), 0);
	CHECK(v.a == 42 && v.b == 0);
	CHECK_RC(req_query_inclusion("tree_size=43&seq=42", &v, &e), 0);
	CHECK(v.a == 42 && v.b == 43);
	CHECK_BAD_QUERY(req_query_inclusion("seq=1&tree_size=0", &v, &e), "tree_size");
	CHECK_BAD_QUERY(req_query_inclusion("tree_size=5", &v, &e), "seq: missing");
	CHECK_RC(req_query_consistency("first=10&second=43", &v, &e), 0);
	CHECK(v.a == 10 && v.b == 43);
	CHECK_BAD_QUERY(req_query_consistency("first=10", &v, &e), "second: missing");
	CHECK_BAD_QUERY(req_query_consistency("first=a&second=1", &v, &e), "first");
}

/* ---- media types -------------------------------------------------------- */

static void
test_content_type(void)
{
	CHECK_RC(req_content_type("application/json", "application/json", &e), 0);
	CHECK_RC(req_content_type("Application/JSON", "application/json", &e), 0);
	CHECK_RC(req_content_type("application/json; charset=utf-8", "application/json", &e), 0);
	CHECK_RC(req_content_type("application/json;charset=\"UTF-8\" ", "application/json", &e), 0);
	CHECK_RC(req_content_type("application/json; foo=bar", "application/json", &e), 0);
	CHECK_RC(req_content_type("application/timestamp-query", "application/timestamp-query", &e), 0);
	CHECK_RC(req_content_type(NULL, "application/json", &e), SB_EINVAL);
	CHECK(e.status == 415);
	CHECK_STR(e.code, "unsupported_media_type");
	CHECK_RC(req_content_type("application/x-www-form-urlencoded", "application/json", &e), SB_EINVAL);
	CHECK_RC(req_content_type("application/jsonx", "application/json", &e), SB_EINVAL);
	CHECK_RC(req_content_type("text/plain", "application/json", &e), SB_EINVAL);
	CHECK_RC(req_content_type("application/json; charset=latin1", "application/json", &e), SB_EINVAL);
	CHECK(e.status == 415);
	CHECK_CONTAINS(e.message, "utf-8");
}

/* ---- sign bodies -------------------------------------------------------- */

static void
test_sign_digest_each_alg(void)
{
	struct msg_sign v;
	char body[512];

	CHECK_RC(sign("{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"contract-42.pdf\"}", &v), 0);
	CHECK(v.md_nid == NID_sha256 && v.digest_len == 32);
	CHECK_STR(v.seal, "demo");
	CHECK_STR(v.document_name, "contract-42.pdf");
	snprintf(body, sizeof(body), "{\"digest\":{\"alg\":\"sha384\",\"value\":\"%s\"},"
	    "\"document_name\":\"x\"}", "ABCDEFabcdef0123456789ABCDEFabcdef0123456789ABCDEFabcdef0123456789ABCDEFabcdef0123456789ABCDEFab");
	CHECK_RC(sign(body, &v), 0);
	CHECK(v.md_nid == NID_sha384 && v.digest_len == 48);
	CHECK(v.digest[0] == 0xab && v.digest[1] == 0xcd && v.digest[47] == 0xab);
	snprintf(body, sizeof(body), "{\"document_name\":\"x\",\"digest\":{\"value\":\"%0128d\","
	    "\"alg\":\"sha512\"}}", 7);
	CHECK_RC(sign(body, &v), 0);
	CHECK(v.md_nid == NID_sha512 && v.digest_len == 64 && v.digest[63] == 0x07);
}

static void
test_sign_document_is_hashed_with_sha256(void)
{
	static const char *const docs[] = { "a", "ab", "abc", "hello, world\n" };
	unsigned char want[32], b64[64];
	struct msg_sign v;
	char body[256];
	unsigned int wl;

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		EVP_EncodeBlock(b64, (const unsigned char *)docs[i], (int)strlen(docs[i]));
		snprintf(body, sizeof(body), "{\"document\":\"%s\",\"document_name\":\"d.txt\"}", b64);
		CHECK_RC(sign(body, &v), 0);
		CHECK(EVP_Digest(docs[i], strlen(docs[i]), want, &wl, EVP_sha256(), NULL) == 1);
		CHECK(v.md_nid == NID_sha256 && v.digest_len == 32);
		CHECK(memcmp(v.digest, want, 32) == 0);
	}
}

static void
test_sign_large_document_hashed_in_chunks(void)
{
	size_t n = 100003, bl = (n + 2) / 3 * 4;
	unsigned char *doc = malloc(n), *b64 = malloc(bl + 1), want[32];
	char *body = malloc(bl + 64);
	struct msg_sign v;
	unsigned int wl;
	int rc;

	CHECK(doc != NULL && b64 != NULL && body != NULL);
	for (size_t i = 0; i < n; i++)
		doc[i] = (unsigned char)(i * 7 + 3);
	EVP_EncodeBlock(b64, doc, (int)n);
	snprintf(body, bl + 64, "{\"document\":\"%s\",\"document_name\":\"big\"}", b64);
	rc = sign(body, &v);
	EVP_Digest(doc, n, want, &wl, EVP_sha256(), NULL);
	free(doc);
	free(b64);
	free(body);
	CHECK_RC(rc, 0);
	CHECK(memcmp(v.digest, want, 32) == 0);
}

static void
test_sign_bad_json(void)
{
	CHECK_SIGN_REFUSED("", 400, "bad_json", "empty");
	CHECK_SIGN_REFUSED("{", 400, "bad_json", "not valid JSON");
	CHECK_SIGN_REFUSED("[]", 400, "bad_json", "must be a JSON object");
	CHECK_SIGN_REFUSED("\"x\"", 400, "bad_json", "");
	CHECK_SIGN_REFUSED("42", 400, "bad_json", "");
	CHECK_SIGN_REFUSED("{} {}", 400, "bad_json", "");
	CHECK_SIGN_REFUSED("{\"document_name\":\"a\",\"document_name\":\"b\"}", 400, "bad_json", "");
	CHECK_SIGN_REFUSED("{\"document_name\":\"\xff\"}", 400, "bad_json", "");
	CHECK_SIGN_REFUSED("{\"document_name\":\"a\\u0000b\"}", 400, "bad_json", "");
	CHECK_SIGN_REFUSED("{\"a\":1e999999}", 400, "bad_json", "");
}

static void
test_sign_fields_checked(void)
{
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256", Z64) "}", 400, "bad_request",
	    "document_name: missing");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256", Z64) ",\"document_name\":5}", 400,
	    "bad_request", "document_name: must be a string");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"\"}", 400,
	    "bad_request", "document_name");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"a\\nb\"}", 400,
	    "bad_request", "document_name");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"a\\u0085b\"}",
	    400, "bad_request", "document_name");
	CHECK_SIGN_REFUSED("{\"document_name\":\"a\"}", 400, "bad_request",
	    "digest, document: give exactly one");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256", Z64) ",\"document\":\"YQ==\","
	    "\"document_name\":\"a\"}", 400, "bad_request", "exactly one");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"a\",\"seal\":\"x\"}",
	    400, "bad_request", "unknown field 'seal'");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"a\",\"\\u0001\":1}",
	    400, "bad_request", "unknown field '?'");
	CHECK_SIGN_REFUSED("{\"digest\":\"" Z64 "\",\"document_name\":\"a\"}", 400, "bad_request",
	    "digest: must be an object");
	CHECK_SIGN_REFUSED("{\"digest\":{\"value\":\"" Z64 "\"},\"document_name\":\"a\"}", 400,
	    "bad_request", "digest.alg: missing");
	CHECK_SIGN_REFUSED("{\"digest\":{\"alg\":256,\"value\":\"" Z64 "\"},\"document_name\":\"a\"}",
	    400, "bad_request", "digest.alg: must be a string");
	CHECK_SIGN_REFUSED("{\"digest\":{\"alg\":\"sha256\"},\"document_name\":\"a\"}", 400,
	    "bad_request", "digest.value: missing");
	CHECK_SIGN_REFUSED("{\"digest\":{\"alg\":\"sha256\",\"value\":[]},\"document_name\":\"a\"}",
	    400, "bad_request", "digest.value: must be a string");
	CHECK_SIGN_REFUSED("{\"digest\":{\"alg\":\"sha256\",\"value\":\"" Z64 "\",\"x\":1},"
	    "\"document_name\":\"a\"}", 400, "bad_request", "digest.unknown field 'x'");
	CHECK_SIGN_REFUSED("{\"document\":5,\"document_name\":\"a\"}", 400, "bad_request",
	    "document: must be a string");
}

static void
test_sign_bad_digest_and_alg(void)
{
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("md5", "00") ",\"document_name\":\"a\"}", 400,
	    "unsupported_alg", "use sha256, sha384 or sha512");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("SHA256", Z64) ",\"document_name\":\"a\"}", 400,
	    "unsupported_alg", "");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256\\u0000", Z64) ",\"document_name\":\"a\"}", 400,
	    "bad_json", "");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256", "00") ",\"document_name\":\"a\"}", 400,
	    "bad_digest", "64 hex digits expected for sha256");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256", "") ",\"document_name\":\"a\"}", 400,
	    "bad_digest", "");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha384", Z64) ",\"document_name\":\"a\"}", 400,
	    "bad_digest", "96 hex digits");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256", Z64 "00") ",\"document_name\":\"a\"}", 400,
	    "bad_digest", "");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256",
	    "g000000000000000000000000000000000000000000000000000000000000000")
	    ",\"document_name\":\"a\"}", 400, "bad_digest", "not hexadecimal");
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256",
	    " 000000000000000000000000000000000000000000000000000000000000000")
	    ",\"document_name\":\"a\"}", 400, "bad_digest", "not hexadecimal");
}

static void
test_sign_bad_document_base64(void)
{
	CHECK_SIGN_REFUSED("{\"document\":\"\",\"document_name\":\"a\"}", 400, "bad_request",
	    "document: empty");
	CHECK_SIGN_REFUSED("{\"document\":\"YQ\",\"document_name\":\"a\"}", 400, "bad_request",
	    "not base64");
	CHECK_SIGN_REFUSED("{\"document\":\"Y===\",\"document_name\":\"a\"}", 400, "bad_request",
	    "not base64");
	CHECK_SIGN_REFUSED("{\"document\":\"====\",\"document_name\":\"a\"}", 400, "bad_request",
	    "not base64");
	CHECK_SIGN_REFUSED("{\"document\":\"YQ==YQ==\",\"document_name\":\"a\"}", 400, "bad_request",
	    "not base64");
	CHECK_SIGN_REFUSED("{\"document\":\"YW Jj\",\"document_name\":\"a\"}", 400, "bad_request",
	    "not base64");
	CHECK_SIGN_REFUSED("{\"document\":\"YWJj\\n\",\"document_name\":\"a\"}", 400, "bad_request",
	    "not base64");
	CHECK_SIGN_REFUSED("{\"document\":\"-_8=\",\"document_name\":\"a\"}", 400, "bad_request",
	    "not base64");
}

static void
test_sign_bad_seal_param(void)
{
	struct msg_sign v;

	CHECK_RC(req_sign("{}", 2, "a b", &v, &e), SB_EINVAL);
	CHECK(e.status == 400);
	CHECK_CONTAINS(e.message, "seal id");
}

static void
test_document_name_rule(void)
{
	char n255[256], n256[257];

	memset(n255, 'a', 255);
	memset(n256, 'a', 256);
	CHECK(req_document_name_ok(n255, 255));
	CHECK(!req_document_name_ok(n256, 256));
	CHECK(!req_document_name_ok("", 0));
	CHECK(req_document_name_ok("\xe5\x90\x88\xe5\x90\x8c.pdf", 10));	/* 合同.pdf */
	CHECK(req_document_name_ok("\xf0\x9f\x93\x84", 4));		/* U+1F4C4 */
	CHECK(!req_document_name_ok("a\x01", 2));
	CHECK(!req_document_name_ok("a\x7f", 2));
	CHECK(!req_document_name_ok("\xc2\x85", 2));		/* C1 control NEL */
	CHECK(req_document_name_ok("\xc2\xa0", 2));		/* NBSP is fine */
	CHECK(!req_document_name_ok("\xff", 1));
	CHECK(!req_document_name_ok("\xc0\xaf", 2));		/* overlong '/' */
	CHECK(!req_document_name_ok("\xe0\x80\xaf", 3));	/* overlong */
	CHECK(!req_document_name_ok("\xed\xa0\x80", 3));	/* surrogate */
	CHECK(!req_document_name_ok("\xf4\x90\x80\x80", 4));	/* past U+10FFFF */
	CHECK(!req_document_name_ok("\xe5\x90", 2));		/* cut short */
	CHECK(!req_document_name_ok("a\0b", 3));
}

static void
test_sign_message_round_trip(void)
{
	struct msg_sign v, d;
	struct ipc_msg m;
	char body[600], name[256];

	memset(name, 'n', 255);
	name[255] = '\0';
	snprintf(body, sizeof(body), "{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"%s\"}",
	    name);
	CHECK_RC(sign(body, &v), 0);
	CHECK_RC(msg_sign_enc(&m, 7, &v), 0);
	CHECK_RC(msg_sign_dec(&m, &d), 0);
	ipc_msg_free(&m);
	CHECK_STR(d.document_name, name);
	CHECK_STR(d.seal, "demo");
	CHECK(d.digest_len == 32 && d.md_nid == NID_sha256);
}

/* ---- on_behalf_of ------------------------------------------------------- */

#define OBO_BODY(v) "{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"d\",\"on_behalf_of\":" v "}"

static void
test_sign_on_behalf_of(void)
{
	struct msg_sign v, d;
	struct ipc_msg m;
	char body[256], n63[64];

	CHECK_RC(sign("{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"d\"}", &v), 0);
	CHECK_STR(v.who.on_behalf_of, "");
	CHECK_RC(sign(OBO_BODY("\"alice.w_1-x@example.org\""), &v), 0);
	CHECK_STR(v.who.on_behalf_of, "alice.w_1-x@example.org");
	CHECK(v.who.subject[0] == '\0');	/* the rest of who is the TLS layer's */
	memset(n63, 'p', 63);
	n63[63] = '\0';
	snprintf(body, sizeof(body), OBO_BODY("\"%s\""), n63);
	CHECK_RC(sign(body, &v), 0);
	CHECK_STR(v.who.on_behalf_of, n63);
	CHECK_RC(msg_sign_enc(&m, 3, &v), 0);
	CHECK_RC(msg_sign_dec(&m, &d), 0);
	ipc_msg_free(&m);
	CHECK_STR(d.who.on_behalf_of, n63);
}

static void
test_sign_on_behalf_of_refused(void)
{
	char body[256], n64[65];

	CHECK_SIGN_REFUSED(OBO_BODY("5"), 400, "bad_request", "on_behalf_of: must be a string");
	CHECK_SIGN_REFUSED(OBO_BODY("null"), 400, "bad_request", "on_behalf_of: must be a string");
	CHECK_SIGN_REFUSED(OBO_BODY("[\"alice\"]"), 400, "bad_request", "on_behalf_of: must be");
	CHECK_SIGN_REFUSED(OBO_BODY("\"\""), 400, "bad_request", "on_behalf_of: a principal name");
	CHECK_SIGN_REFUSED(OBO_BODY("\"a b\""), 400, "bad_request", "on_behalf_of");
	CHECK_SIGN_REFUSED(OBO_BODY("\"a/b\""), 400, "bad_request", "on_behalf_of");
	CHECK_SIGN_REFUSED(OBO_BODY("\"alice\\n\""), 400, "bad_request", "on_behalf_of");
	CHECK_SIGN_REFUSED(OBO_BODY("\"\u00e9mile\""), 400, "bad_request", "on_behalf_of");
	memset(n64, 'p', 64);
	n64[64] = '\0';
	snprintf(body, sizeof(body), OBO_BODY("\"%s\""), n64);
	CHECK_SIGN_REFUSED(body, 400, "bad_request", "1-63 characters");
}

/* ---- batches ------------------------------------------------------------ */

static int
batch(const char *body, unsigned max, struct msg_sign **items, size_t *n)
{
	memset(&e, 0, sizeof(e));
	return req_batch(body, strlen(body), max, items, n, &e);
}

#define ITEM(seal) "{\"seal\":\"" seal "\",\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"d\"}"

static void
test_batch_items_in_order(void)
{
	struct msg_sign *it;
	size_t n;

	CHECK_RC(batch("{\"items\":[" ITEM("a") "," ITEM("b") ",{\"seal\":\"c\",\"document\":\"YWJj\","
	    "\"document_name\":\"e\"}]}", 3, &it, &n), 0);
	CHECK(n == 3);
	CHECK(strcmp(it[0].seal, "a") == 0 && strcmp(it[1].seal, "b") == 0);
	CHECK(strcmp(it[2].seal, "c") == 0 && strcmp(it[2].document_name, "e") == 0);
	CHECK(it[2].digest[0] == 0xba && it[2].digest[31] == 0xad);	/* sha256("abc") */
	free(it);
}

#define CHECK_BATCH_REFUSED(body, max, st, cd, want) do { \
	struct msg_sign *it_ = (struct msg_sign *)1; \
	size_t n_ = 99; \
	CHECK_RC(batch(body, max, &it_, &n_), SB_EINVAL); \
	CHECK(it_ == NULL && n_ == 0); \
	CHECK(e.status == (st)); \
	CHECK_STR(e.code, cd); \
	CHECK_CONTAINS(e.message, want); \
} while (0)

static void
test_batch_refusals(void)
{
	CHECK_BATCH_REFUSED("{}", 5, 400, "bad_request", "items: missing");
	CHECK_BATCH_REFUSED("[]", 5, 400, "bad_json", "object");
	CHECK_BATCH_REFUSED("{\"items\":{}}", 5, 400, "bad_request", "items: must be an array");
	CHECK_BATCH_REFUSED("{\"items\":[]}", 5, 400, "bad_request", "items: must not be empty");
	CHECK_BATCH_REFUSED("{\"items\":[" ITEM("a") "],\"x\":1}", 5, 400, "bad_request",
	    "unknown field 'x'");
	CHECK_BATCH_REFUSED("{\"items\":[" ITEM("a") ",5]}", 5, 400, "bad_request",
	    "items[1]: must be an object");
	CHECK_BATCH_REFUSED("{\"items\":[{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"d\"}]}",
	    5, 400, "bad_request", "items[0].seal: missing");
	CHECK_BATCH_REFUSED("{\"items\":[" ITEM("a b") "]}", 5, 400, "bad_request", "items[0].seal");
	CHECK_BATCH_REFUSED("{\"items\":[" ITEM("a") "," ITEM("b") ",{\"seal\":\"c\",\"digest\":"
	    DIG("sha256", "00") ",\"document_name\":\"d\"}]}", 5, 400, "bad_digest",
	    "items[2].digest.value");
	CHECK_BATCH_REFUSED("{\"items\":[" ITEM("a") "," ITEM("b") ",{\"seal\":\"c\",\"digest\":"
	    DIG("sha1", "00") ",\"document_name\":\"d\"}]}", 5, 400, "unsupported_alg",
	    "items[2].digest.alg");
	CHECK_BATCH_REFUSED("{\"items\":[{\"seal\":\"a\",\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"d\","
	    "\"extra\":1}]}", 5, 400, "bad_request", "items[0].unknown field 'extra'");
}

static void
test_batch_on_behalf_of(void)
{
	struct msg_sign *it;
	size_t n;

	CHECK_RC(batch("{\"items\":[{\"seal\":\"a\",\"digest\":" DIG("sha256", Z64) ",\"document_name\":"
	    "\"d\",\"on_behalf_of\":\"alice\"}," ITEM("b") "]}", 5, &it, &n), 0);
	CHECK(n == 2);
	CHECK(strcmp(it[0].who.on_behalf_of, "alice") == 0 && it[1].who.on_behalf_of[0] == '\0');
	free(it);
	CHECK_BATCH_REFUSED("{\"items\":[" ITEM("a") ",{\"seal\":\"b\",\"digest\":" DIG("sha256", Z64)
	    ",\"document_name\":\"d\",\"on_behalf_of\":\"a;b\"}]}", 5, 400, "bad_request",
	    "items[1].on_behalf_of");
	CHECK_BATCH_REFUSED("{\"items\":[{\"seal\":\"b\",\"digest\":" DIG("sha256", Z64)
	    ",\"document_name\":\"d\",\"on_behalf_of\":{}}]}", 5, 400, "bad_request",
	    "items[0].on_behalf_of: must be a string");
}

static void
test_batch_size_bound(void)
{
	struct msg_sign *it;
	size_t n;

	CHECK_RC(batch("{\"items\":[" ITEM("a") "," ITEM("b") "]}", 2, &it, &n), 0);
	CHECK(n == 2);
	free(it);
	CHECK_BATCH_REFUSED("{\"items\":[" ITEM("a") "," ITEM("b") "," ITEM("c") "]}", 2, 413,
	    "too_large", "at most 2");
}

/* ---- verify and tsa ----------------------------------------------------- */

static void
test_verify_body(void)
{
	struct msg_verify v;
	uint8_t *cms;
	const char *ok = "{\"digest\":" DIG("sha256", Z64) ",\"cms\":\"AQID\"}";

	CHECK_RC(req_verify(ok, strlen(ok), &v, &cms, &e), 0);
	CHECK(v.cms == cms && v.cms_len == 3 && cms[0] == 1 && cms[2] == 3);
	CHECK(v.md_nid == NID_sha256 && v.digest_len == 32);
	free(cms);
}

#define CHECK_VERIFY_REFUSED(body, cd, want) do { \
	struct msg_verify v_; \
	uint8_t *c_ = (uint8_t *)1; \
	CHECK_RC(req_verify(body, strlen(body), &v_, &c_, &e), SB_EINVAL); \
	CHECK(c_ == NULL); \
	CHECK_STR(e.code, cd); \
	CHECK_CONTAINS(e.message, want); \
} while (0)

static void
test_verify_refusals(void)
{
	size_t big = (MSG_CMS_MAX + 3) / 3 * 4, at;
	char *body = malloc(big + 256);

	CHECK_VERIFY_REFUSED("{\"cms\":\"AQID\"}", "bad_request", "digest: missing");
	CHECK_VERIFY_REFUSED("{\"digest\":" DIG("sha256", Z64) "}", "bad_request", "cms: missing");
	CHECK_VERIFY_REFUSED("{\"digest\":" DIG("sha256", Z64) ",\"cms\":\"\"}", "bad_request", "cms: empty");
	CHECK_VERIFY_REFUSED("{\"digest\":" DIG("sha256", Z64) ",\"cms\":\"A\"}", "bad_request", "not base64");
	CHECK_VERIFY_REFUSED("{\"digest\":" DIG("sha256", Z64) ",\"cms\":\"AQID\",\"x\":0}", "bad_request",
	    "unknown field 'x'");
	CHECK_VERIFY_REFUSED("{\"digest\":" DIG("sha256", "0") ",\"cms\":\"AQID\"}", "bad_digest", "");
	CHECK(body != NULL);
	/* Decodes to two bytes over MSG_CMS_MAX. */
	strcpy(body, "{\"digest\":" DIG("sha256", Z64) ",\"cms\":\"");
	at = strlen(body);
	memset(body + at, 'A', big);
	strcpy(body + at + big, "\"}");
	CHECK_VERIFY_REFUSED(body, "bad_request", "cms: longer than 262144 bytes");
	free(body);
}

static void
test_tsa_size(void)
{
	CHECK_RC(req_tsa(1, &e), 0);
	CHECK_RC(req_tsa(MSG_TSQ_MAX, &e), 0);
	CHECK_RC(req_tsa(0, &e), SB_EINVAL);
	CHECK(e.status == 400);
	CHECK_RC(req_tsa(MSG_TSQ_MAX + 1, &e), SB_EINVAL);
	CHECK(e.status == 413);
	CHECK_STR(e.code, "too_large");
}

/* ---- answers ------------------------------------------------------------ */

static void
test_sign_result_check(void)
{
	uint8_t cms[3] = { 1, 2, 3 };
	struct msg_sign_result ok = { .status = 200, .seq = 42, .cms = cms, .cms_len = 3 };
	struct msg_sign_result r;

	CHECK_RC(req_sign_result_check(&ok), 0);
	r = ok;
	r.cms_len = 0;
	CHECK_RC(req_sign_result_check(&r), SB_EINVAL);	/* success without a CMS */
	r = ok;
	strcpy(r.code, "x");
	CHECK_RC(req_sign_result_check(&r), SB_EINVAL);	/* success with a code */
	r = ok;
	r.seq = (uint64_t)INT64_MAX + 1;
	CHECK_RC(req_sign_result_check(&r), SB_EINVAL);	/* not a JSON integer */
	memset(&r, 0, sizeof(r));
	r.status = 404;
	strcpy(r.code, "unknown_seal");
	CHECK_RC(req_sign_result_check(&r), 0);
	r.code[0] = '\0';
	CHECK_RC(req_sign_result_check(&r), SB_EINVAL);	/* refusal without a code */
	strcpy(r.code, "Bad-Code");
	CHECK_RC(req_sign_result_check(&r), SB_EINVAL);
	strcpy(r.code, "sealed");
	r.status = 302;
	CHECK_RC(req_sign_result_check(&r), SB_EINVAL);
	r.status = 201;
	CHECK_RC(req_sign_result_check(&r), SB_EINVAL);
}

static void
test_sign_result_json(void)
{
	uint8_t cms[4] = { 0xde, 0xad, 0xbe, 0xef };
	struct msg_sign_result r = { .status = 200, .seq = 43, .cms = cms, .cms_len = 4 };
	json_t *j;
	char *s;
	size_t len;

	memset(r.leaf, 0xab, sizeof(r.leaf));
	CHECK((j = req_sign_result_json(&r, "demo-seal")) != NULL);
	s = req_json_text(j, &len);
	json_decref(j);
	CHECK(s != NULL);
	CHECK(strcmp(s, "{\"cms\":\"3q2+7w==\",\"seq\":43,\"leaf_hash\":"
	    "\"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\",\"seal\":\"demo-seal\"}") == 0);
	CHECK(len == strlen(s));
	free(s);
	memset(&r, 0, sizeof(r));
	r.status = 409;
	strcpy(r.code, "seal_not_active");
	strcpy(r.message, "seal is frozen");
	CHECK((j = req_sign_result_json(&r, "x")) != NULL);
	s = req_json_text(j, &len);
	json_decref(j);
	CHECK(s != NULL);
	CHECK(strcmp(s, "{\"error\":{\"code\":\"seal_not_active\",\"message\":\"seal is frozen\"}}") == 0);
	free(s);
}

static char *
reply_error_text(int status, const char *body)
{
	struct msg_reply r = { .status = (uint16_t)status, .content_type = "application/json",
		.body = (const uint8_t *)body, .body_len = strlen(body) };
	json_t *j = req_reply_error_json(&r);
	size_t len;
	char *s;

	if (j == NULL)
		return NULL;
	s = req_json_text(j, &len);
	json_decref(j);
	return s;
}

static void
test_reply_error_for_a_batch_item(void)
{
	char *s;

	s = reply_error_text(503, "{\"error\":{\"code\":\"busy\",\"message\":\"retry later\"}}");
	CHECK(s != NULL);
	CHECK(strcmp(s, "{\"error\":{\"code\":\"busy\",\"message\":\"retry later\"}}") == 0);
	free(s);
	s = reply_error_text(500, "<html>");
	CHECK(s != NULL);
	CHECK_CONTAINS(s, "\"code\":\"internal\"");
	free(s);
	s = reply_error_text(500, "{\"error\":{\"code\":\"Bad Code\",\"message\":\"x\"}}");
	CHECK(s != NULL);
	CHECK_CONTAINS(s, "\"code\":\"internal\"");
	free(s);
	CHECK(reply_error_text(200, "{}") == NULL);	/* a success must be a sign result */
}

static void
test_error_body_cleans_the_message(void)
{
	size_t len;
	char *s = req_error_body("bad_request", "a\"b\\c\n\x01\xff\xe5\x90\x88", &len);

	CHECK(s != NULL);
	CHECK(strcmp(s, "{\"error\":{\"code\":\"bad_request\",\"message\":\"a\\\"b\\\\c??\?\xe5\x90\x88\"}}") == 0);
	free(s);
}

/* ---- ledger filters and RFC 3339 times (GET /v1/ledger/entries, GET /v1/stats) ---- */

static int
t3339(const char *s, uint64_t *ms)
{
	return req_rfc3339_ms(s, strlen(s), ms);
}

static void
test_rfc3339_times(void)
{
	uint64_t ms;

	CHECK_RC(t3339("1970-01-01T00:00:00Z", &ms), 0);
	CHECK(ms == 0);
	CHECK_RC(t3339("2026-11-22T08:00:00Z", &ms), 0);
	CHECK(ms == 1795334400000ULL);
	CHECK_RC(t3339("2026-11-22t08:00:00.5z", &ms), 0);
	CHECK(ms == 1795334400500ULL);
	CHECK_RC(t3339("2026-11-22T08:00:00.123456789Z", &ms), 0);
	CHECK(ms == 1795334400123ULL);
	CHECK_RC(t3339("2026-11-22T16:00:00+08:00", &ms), 0);
	CHECK(ms == 1795334400000ULL);
	CHECK_RC(t3339("2026-11-22T03:30:00-04:30", &ms), 0);
	CHECK(ms == 1795334400000ULL);
	CHECK_RC(t3339("2024-02-29T00:00:00Z", &ms), 0);
	CHECK(ms == 1709164800000ULL);
	CHECK_RC(t3339("2000-02-29T00:00:00Z", &ms), 0);
	CHECK_RC(t3339("2016-12-31T23:59:60Z", &ms), 0);	/* leap second: :59 */
	CHECK(ms == 1483228799000ULL);
	CHECK_RC(t3339("9999-12-31T23:59:59Z", &ms), 0);
	CHECK(ms == 253402300799000ULL);
}

static void
test_rfc3339_refusals(void)
{
	static const char *const bad[] = {
		"", "2026", "2026-11-22", "2026-11-22T08:00Z", "2026-11-22T08:00:00",
		"2026-11-22 08:00:00Z", "2026-11-22T08:00:00ZZ", "2026-11-22T08:00:00.Z",
		"2026-11-22T08:00:00.1234567890Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
		"2026-11-31T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
		"2026-11-00T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T08:60:00Z",
		"2026-11-22T08:00:61Z", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00+00:01",
		"+2026-11-22T08:00:00Z", "2026-11-22T08:00:00+0800", "2026-11-22T08:00:00+24:00",
		"2026-1-22T08:00:00Z", "2026-11-22T08:00:00 Z", "2026-11-22T08:00:0aZ",
		"10000-01-01T00:00:00Z", "2026-11-22T08:00:00+08:00x",
	};
	uint64_t ms = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (t3339(bad[i], &ms) != SB_EINVAL) {
			printf("#   accepted \"%s\"\n", bad[i]);
			CHECK(0);
		}
	}
	CHECK(ms == 42);
	/* n bounds the text: no NUL needed, nothing read past it. */
	CHECK_RC(req_rfc3339_ms("2026-11-22T08:00:00Zjunk", 20, &ms), 0);
	CHECK_RC(req_rfc3339_ms("2026-11-22T08:00:00Z", 19, &ms), SB_EINVAL);
}

static void
test_query_entries_filters(void)
{
	struct msg_ledger_entries v;

	CHECK_RC(req_query_entries("start=0&count=5", &v, &e), 0);
	CHECK(v.seal[0] == '\0' && v.principal[0] == '\0' && v.from_ms == 0 &&
	    v.to_ms == UINT64_MAX);
	CHECK_RC(req_query_entries("seal=s-1&start=3&principal=alice@sub1&count=7"
	    "&from=2026-11-22T08:00:00Z&to=2026-11-22T09:00:00.250Z", &v, &e), 0);
	CHECK(v.start == 3 && v.count == 7);
	CHECK_STR(v.seal, "s-1");
	CHECK_STR(v.principal, "alice@sub1");
	CHECK(v.from_ms == 1795334400000ULL && v.to_ms == 1795338000250ULL);
	/* Percent-encoded colons and offset sign, as form encoders send them. */
	CHECK_RC(req_query_entries("start=0&count=1&from=2026-11-22T16%3A00%3A00%2B08%3a00", &v,
	    &e), 0);
	CHECK(v.from_ms == 1795334400000ULL);
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&seal=a/b", &v, &e), "seal: must be a seal id");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&seal=%41", &v, &e), "seal: must be a seal id");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&seal="
	    "0123456789012345678901234567890123456789012345678901234567890123", &v, &e), "seal");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&seal=", &v, &e), "seal: empty");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&seal", &v, &e), "seal: empty");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&seal=a&seal=b", &v, &e), "seal: given twice");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&principal=a%20b", &v, &e),
	    "principal: must be a principal name");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&principal=a&principal=a", &v, &e),
	    "principal: given twice");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&from=yesterday", &v, &e),
	    "from: must be an RFC 3339 time");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&to=2026-11-22", &v, &e),
	    "to: must be an RFC 3339 time");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&to=2026-11-22T08:00:00Z%", &v, &e),
	    "to: must be an RFC 3339 time");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&from="
	    "2026-11-22T08:00:00.000000000000000000000000000000Z", &v, &e), "from");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&from=2026-11-22T09:00:00Z"
	    "&to=2026-11-22T09:00:00Z", &v, &e), "to: must be later than from");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&to=1970-01-01T00:00:00Z", &v, &e),
	    "to: must be later than from");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&units=x", &v, &e),
	    "unknown parameter 'units'");
	/* unit: an id; document_name: percent-encoded UTF-8 text, '+' a space */
	CHECK_RC(req_query_entries("start=0&count=1&unit=sub-1&document_name="
	    "%E9%87%87%E8%B4%AD+contract", &v, &e), 0);
	CHECK_STR(v.unit, "sub-1");
	CHECK_STR(v.document_name, "采购 contract");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&unit=a%2Fb", &v, &e), "unit: must be");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&document_name=a%0Ab", &v, &e),
	    "document_name: 1-255 bytes of UTF-8 text");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&document_name=%FF", &v, &e),
	    "document_name: 1-255 bytes");
	CHECK_BAD_QUERY(req_query_entries("start=0&count=1&document_name=%00x", &v, &e),
	    "document_name: 1-255 bytes");
	CHECK_BAD_QUERY(req_query_entries("seal=s-1&count=1", &v, &e), "start: missing");
}

static void
test_entries_filters_round_trip(void)
{
	struct msg_ledger_entries v, w;
	struct ipc_msg m;

	memset(&v, 0, sizeof(v));	/* the ident: the net worker fills it */
	CHECK_RC(req_query_entries("start=9&count=1000&seal=official&principal=erp"
	    "&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", &v, &e), 0);
	CHECK_RC(msg_ledger_entries_enc(&m, 1, &v), 0);
	CHECK_RC(msg_ledger_entries_dec(&m, &w), 0);
	ipc_msg_free(&m);
	CHECK(w.start == 9 && w.count == 1000 && w.from_ms == v.from_ms && w.to_ms == v.to_ms);
	CHECK_STR(w.seal, "official");
	CHECK_STR(w.principal, "erp");
}

static void
test_totp_routes_and_bodies(void)
{
	struct msg_totp v;
	struct req_route r;

	CHECK_RC(req_route("/v1/principals/me/totp", REQ_POST, &r, &e), 0);
	CHECK(r.id == REQ_TOTP_ENROL);
	CHECK_RC(req_route("/v1/principals/me/totp/confirm", REQ_POST, &r, &e), 0);
	CHECK(r.id == REQ_TOTP_CONFIRM);
	CHECK_RC(req_route("/v1/principals/me/totp/verify", REQ_POST, &r, &e), 0);
	CHECK(r.id == REQ_TOTP_VERIFY);
	CHECK_RC(req_route("/v1/principals/me/totp", REQ_GET, &r, &e), SB_EINVAL);
	CHECK(e.status == 405);
	CHECK_RC(req_route("/v1/principals/bob/totp", REQ_POST, &r, &e), SB_EINVAL);
	CHECK(e.status == 404);
	/* Enrolment: no body, {} or a code; confirm and verify need a code. */
	memset(v.otp, 'x', sizeof(v.otp));
	CHECK_RC(req_totp(NULL, 0, 0, &v, &e), 0);
	CHECK_STR(v.otp, "");
	CHECK_RC(req_totp(J("{}"), 0, &v, &e), 0);
	CHECK_RC(req_totp(J("{\"otp\":\"123456\"}"), 0, &v, &e), 0);
	CHECK_STR(v.otp, "123456");
	CHECK_RC(req_totp(J("{\"otp\":\"12345678\"}"), 1, &v, &e), 0);
	CHECK_STR(v.otp, "12345678");
	CHECK_RC(req_totp(NULL, 0, 1, &v, &e), SB_EINVAL);
	CHECK(e.status == 400);
	CHECK_RC(req_totp(J("{}"), 1, &v, &e), SB_EINVAL);
	CHECK_STR(e.code, "bad_request");
	CHECK_CONTAINS(e.message, "otp");
	CHECK_RC(req_totp(J("{\"otp\":\"12345\"}"), 1, &v, &e), SB_EINVAL);
	CHECK_RC(req_totp(J("{\"otp\":\"123456789\"}"), 1, &v, &e), SB_EINVAL);
	CHECK_RC(req_totp(J("{\"otp\":\"12a456\"}"), 1, &v, &e), SB_EINVAL);
	CHECK_RC(req_totp(J("{\"otp\":123456}"), 1, &v, &e), SB_EINVAL);
	CHECK_RC(req_totp(J("{\"otp\":\"123\\u0000456\"}"), 1, &v, &e), SB_EINVAL);
	CHECK_RC(req_totp(J("{\"otp\":\"123456\",\"x\":1}"), 1, &v, &e), SB_EINVAL);
	CHECK_RC(req_totp(J("[]"), 0, &v, &e), SB_EINVAL);
	CHECK_RC(req_totp(J("{"), 0, &v, &e), SB_EINVAL);
	CHECK_STR(v.otp, "");
}

/* ---- use requests and approvals (docs/policy.md, "Requests") ---------- */

static void
test_request_file_use(void)
{
	static const char *const bad[] = {
		/* a use names its document: digest and name */
		"{\"kind\":\"use\",\"seal\":\"s1\",\"reason\":\"x\",\"document_name\":\"a.pdf\"}",
		"{\"kind\":\"use\",\"seal\":\"s1\",\"reason\":\"x\",\"digest\":" DIG("sha256", Z64) "}",
		"{\"kind\":\"use\",\"seal\":\"s1\",\"reason\":\"x\",\"digest\":" DIG("md5", Z64)
		    ",\"document_name\":\"a\"}",
		"{\"kind\":\"use\",\"seal\":\"s1\",\"reason\":\"x\",\"digest\":" DIG("sha256", "00")
		    ",\"document_name\":\"a\"}",
		"{\"kind\":\"use\",\"seal\":\"s1\",\"reason\":\"x\",\"digest\":" DIG("sha256", Z64)
		    ",\"document_name\":\"\"}",
		"{\"kind\":\"use\",\"seal\":\"s1\",\"reason\":\"x\",\"digest\":" DIG("sha256", Z64)
		    ",\"document_name\":\"a\\u0001\"}",
		"{\"kind\":\"use\",\"seal\":\"s1\",\"reason\":\"x\",\"digest\":\"00\","
		    "\"document_name\":\"a\"}",
		/* and only a use does */
		"{\"kind\":\"freeze\",\"seal\":\"s1\",\"reason\":\"x\",\"digest\":" DIG("sha256", Z64) "}",
		"{\"kind\":\"freeze\",\"seal\":\"s1\",\"reason\":\"x\",\"document_name\":\"a\"}",
	};
	struct msg_request_file f;
	struct ipc_msg m;
	struct msg_request_file d;

	CHECK_RC(req_request_file(J("{\"kind\":\"use\",\"seal\":\"s1\",\"reason\":\"board minute 7\","
	    "\"digest\":" DIG("sha256", "ABababababababababababababababababababababababababababababababab")
	    ",\"document_name\":\"\u5408\u540c.pdf\"}"), &f, &e), 0);
	CHECK_STR(f.kind, "use");
	CHECK(f.md_nid == NID_sha256 && f.digest_len == 32 && f.digest[0] == 0xab && f.digest[31] == 0xab);
	CHECK_STR(f.document_name, "\xe5\x90\x88\xe5\x90\x8c.pdf");
	CHECK_RC(req_request_file(J("{\"kind\":\"use\",\"seal\":\"s1\",\"reason\":\"x\",\"digest\":"
	    DIG("sha512", Z64 Z64) ",\"document_name\":\"a\"}"), &f, &e), 0);
	CHECK(f.md_nid == NID_sha512 && f.digest_len == 64);
	/* Through the message and back. */
	f.who.on_behalf_of[0] = '\0';
	CHECK_RC(msg_request_file_enc(&m, 1, &f), 0);
	CHECK_RC(msg_request_file_dec(&m, &d), 0);
	ipc_msg_free(&m);
	CHECK(d.md_nid == NID_sha512 && d.digest_len == 64);
	CHECK_STR(d.document_name, "a");
	/* Another kind carries none of it. */
	CHECK_RC(req_request_file(J("{\"kind\":\"freeze\",\"seal\":\"s1\",\"reason\":\"x\"}"), &f, &e), 0);
	CHECK(f.digest_len == 0 && f.md_nid == 0 && f.document_name[0] == '\0');
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		if (req_request_file(J(bad[i]), &f, &e) != SB_EINVAL || e.status != 400) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			CHECK(0);
		}
	}
	CHECK_RC(req_request_file(J("{\"kind\":\"freeze\",\"seal\":\"s1\",\"reason\":\"x\","
	    "\"document_name\":\"a\"}"), &f, &e), SB_EINVAL);
	CHECK_CONTAINS(e.message, "only for kind use");
}

static void
test_sign_approval(void)
{
	static const char *const bad[] = { "", "r-", "r-0", "r-01", "R-1", "r-1x", "r--1",
	    "1", "r-12345678901234567890", "r-1 " };
	struct msg_sign v, *items = NULL;
	struct req_pdf pl;
	struct ipc_msg m;
	struct msg_sign d;
	char body[256];
	size_t n = 0;

	CHECK_RC(sign("{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"a\","
	    "\"approval\":\"r-17\"}", &v), 0);
	CHECK_STR(v.approval, "r-17");
	CHECK_RC(msg_sign_enc(&m, 1, &v), 0);
	CHECK_RC(msg_sign_dec(&m, &d), 0);
	ipc_msg_free(&m);
	CHECK_STR(d.approval, "r-17");
	CHECK_RC(sign("{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"a\","
	    "\"approval\":\"r-1234567890123456789\"}", &v), 0);
	CHECK_STR(v.approval, "r-1234567890123456789");
	CHECK_RC(sign("{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"a\"}", &v), 0);
	CHECK_STR(v.approval, "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"digest\":" DIG("sha256", Z64) ",\"document_name\":"
		    "\"a\",\"approval\":\"%s\"}", bad[i]);
		CHECK_SIGN_REFUSED(body, 400, "bad_request", "approval");
	}
	CHECK_SIGN_REFUSED("{\"digest\":" DIG("sha256", Z64) ",\"document_name\":\"a\","
	    "\"approval\":7}", 400, "bad_request", "approval");
	/* A batch item, and the sign-pdf options. */
	memset(&e, 0, sizeof(e));
	CHECK_RC(req_batch(J("{\"items\":[{\"seal\":\"s1\",\"digest\":" DIG("sha256", Z64)
	    ",\"document_name\":\"a\",\"approval\":\"r-3\"},{\"seal\":\"s2\",\"digest\":"
	    DIG("sha256", Z64) ",\"document_name\":\"b\"}]}"), 8, &items, &n, &e), 0);
	CHECK(n == 2);
	if (n == 2) {
		CHECK_STR(items[0].approval, "r-3");
		CHECK_STR(items[1].approval, "");
	}
	free(items);
	items = NULL;
	CHECK_RC(req_batch(J("{\"items\":[{\"seal\":\"s1\",\"digest\":" DIG("sha256", Z64)
	    ",\"document_name\":\"a\",\"approval\":\"r-0\"}]}"), 8, &items, &n, &e), SB_EINVAL);
	CHECK_CONTAINS(e.message, "items[0].approval");
	free(items);
	items = NULL;
	/* Two items naming one approval would race for it: refused, naming both. */
	CHECK_RC(req_batch(J("{\"items\":[{\"seal\":\"s1\",\"digest\":" DIG("sha256", Z64)
	    ",\"document_name\":\"a\",\"approval\":\"r-3\"},{\"seal\":\"s2\",\"digest\":"
	    DIG("sha256", Z64) ",\"document_name\":\"b\"},{\"seal\":\"s1\",\"digest\":"
	    DIG("sha256", Z64) ",\"document_name\":\"c\",\"approval\":\"r-3\"}]}"), 8,
	    &items, &n, &e), SB_EINVAL);
	CHECK_STR(e.code, "bad_request");
	CHECK_STR(e.message, "items[2].approval: r-3 is already in items[0]; an approval seals "
	    "one document");
	CHECK(items == NULL);
	CHECK_RC(req_sign_pdf("{\"document_name\":\"c.pdf\",\"x\":1,\"y\":1,\"width\":9,"
	    "\"approval\":\"r-9\"}", "demo", &v, &pl, &e), 0);
	CHECK_STR(v.approval, "r-9");
	CHECK(v.profile == MSG_PROFILE_PADES);
	CHECK_RC(req_sign_pdf("{\"document_name\":\"c.pdf\",\"x\":1,\"y\":1,\"width\":9,"
	    "\"approval\":\"9\"}", "demo", &v, &pl, &e), SB_EINVAL);
	CHECK_STR(e.code, "bad_request");
}

int
main(void)
{
	RUN(test_route_every_path, "route: every API path and method maps to its route");
	RUN(test_route_list_is_the_table, "route: seald --list-routes' list is the table paths are matched against, each route once");
	RUN(test_route_unknown_paths_are_404, "route: unknown, trailing-slash and over-long paths are 404 not_found");
	RUN(test_route_wrong_method_is_405_with_the_allowed_one, "route: a wrong method is 405 and names the allowed one");
	RUN(test_requests_routes_and_bodies, "requests: GET and POST on one path, r-N ids, strict filters and bodies");
	RUN(test_route_bad_seal_id_or_seq_is_400, "route: a bad seal id or sequence number in the path is 400");
	RUN(test_seal_id_rule, "seal ids are [A-Za-z0-9._-]{1,63}");
	RUN(test_query_none, "query: paths without parameters refuse any");
	RUN(test_query_alerts, "query: GET /v1/alerts takes start, count, kind, from, to, all optional, strictly");
	RUN(test_query_entries_bounds, "query: entries start/count parsed strictly; count 1..1000");
	RUN(test_query_proofs, "query: inclusion (tree_size optional, >= 1) and consistency");
	RUN(test_content_type, "Content-Type: type matched without case; only utf-8 charset; else 415");
	RUN(test_sign_digest_each_alg, "sign: sha256/384/512 digests in either hex case");
	RUN(test_sign_document_is_hashed_with_sha256, "sign: a base64 document reaches the monitor as its SHA-256");
	RUN(test_sign_large_document_hashed_in_chunks, "sign: a 100 kB document is hashed across decode chunks");
	RUN(test_sign_bad_json, "sign: empty, malformed, non-object, duplicate-key, NUL and invalid UTF-8 bodies are bad_json");
	RUN(test_sign_fields_checked, "sign: missing, mistyped and unknown fields are bad_request naming the field");
	RUN(test_sign_bad_digest_and_alg, "sign: unsupported algorithms and malformed digests");
	RUN(test_sign_bad_document_base64, "sign: documents must be strict padded base64, non-empty");
	RUN(test_sign_bad_seal_param, "sign: the seal id is checked again");
	RUN(test_document_name_rule, "document_name: 1..255 bytes of well-formed UTF-8 without controls");
	RUN(test_sign_message_round_trip, "sign: the longest document name survives msg encode/decode");
	RUN(test_sign_on_behalf_of, "sign: on_behalf_of (optional, up to 63 characters) reaches who.on_behalf_of and survives msg encode/decode");
	RUN(test_sign_on_behalf_of_refused, "sign: an on_behalf_of of another type, empty, too long or with other characters is bad_request");
	RUN(test_batch_items_in_order, "batch: items keep their order, each with its seal");
	RUN(test_batch_on_behalf_of, "batch: each item has its own on_behalf_of; a bad one refuses the batch, named by index");
	RUN(test_batch_refusals, "batch: a bad item refuses the batch and is named by index");
	RUN(test_batch_size_bound, "batch: sign.batch_max items pass, one more is 413 too_large");
	RUN(test_verify_body, "verify: digest and base64 CMS into the message");
	RUN(test_verify_refusals, "verify: missing, bad and over-long CMS refused");
	RUN(test_tsa_size, "tsa: 1..16 KiB queries; empty is 400, larger 413");
	RUN(test_sign_result_check, "sign results: the monitor's malformed answers are caught");
	RUN(test_sign_result_json, "sign results: success and refusal JSON as docs/API.md shows");
	RUN(test_reply_error_for_a_batch_item, "batch items the monitor refused with an error reply keep its code");
	RUN(test_error_body_cleans_the_message, "error bodies: escaped JSON, controls and invalid UTF-8 replaced");
	RUN(test_rfc3339_times, "RFC 3339: Z and numeric offsets, fractions to the ms, leap years and seconds");
	RUN(test_rfc3339_refusals, "RFC 3339: partial, out-of-range, pre-1970 and malformed times are refused");
	RUN(test_query_entries_filters, "query: entries filters seal, principal, from, to, unit, document_name checked, each named in its 400");
	RUN(test_entries_filters_round_trip, "query: the filters survive msg encode/decode");
	RUN(test_totp_routes_and_bodies, "totp: the three routes are POST only; enrol takes no body, {} or a code, confirm and verify a code of 6-8 digits, nothing else");
	RUN(test_request_file_use, "requests: a use names its document (digest, document_name), which no other kind may carry");
	RUN(test_sign_approval, "sign, batch, sign-pdf: approval is an optional r-N (N >= 1, no leading zero), carried to the monitor");
	return check_done();
}
