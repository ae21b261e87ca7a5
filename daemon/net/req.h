/*
 * req — the net worker's request validation: paths, query strings and JSON
 * bodies turned into the typed messages of daemon/msg.h, and sign results
 * turned into JSON (docs/API.md is the contract).
 *
 * Pure functions: no I/O, no libevent, no global state, so that the unit
 * tests (tests/unit/test_net_req.c) and the fuzzer
 * (tests/fuzz/fuzz_request_json.c) reach every path.
 *
 * Everything here reads untrusted bytes. A refusal fills a struct req_err
 * with the HTTP status, the stable code of docs/API.md and a message that
 * names the field; a message never echoes more than a short, sanitised piece
 * of the input. Nothing here may trust a length, a count or a nesting depth
 * it has not bounded itself: JSON bodies must be objects whose shape is
 * fixed, so depth is bounded by construction.
 *
 * The `who` (identity) part of the messages is left zeroed, except for a
 * sign request's who.on_behalf_of, which comes from the body: the caller
 * fills the rest from the TLS layer.
 */
#ifndef SB_NET_REQ_H
#define SB_NET_REQ_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../msg.h"

#define REQ_TEXT_MAX 200	/* error messages made here */
#define REQ_PATH_MAX 256	/* a longer path is not one of ours */
#define REQ_ENTRIES_MAX 1000	/* ledger entries per GET */

struct req_err {
	int status;		/* HTTP status */
	const char *code;	/* stable code of docs/API.md (static storage) */
	char message[REQ_TEXT_MAX];
};

enum req_method {
	REQ_GET = 1,
	REQ_POST = 2,
	REQ_OTHER = 4,		/* any other method: always 405 */
};

enum req_route_id {
	REQ_HEALTH = 1,
	REQ_SEALS,
	REQ_SEAL,
	REQ_SIGN,
	REQ_BATCH,
	REQ_VERIFY,
	REQ_TSA,
	REQ_STH,
	REQ_ENTRIES,
	REQ_INCLUSION,
	REQ_CONSISTENCY,
	REQ_EVIDENCE,
	REQ_UNITS,
	REQ_PRINCIPALS,
	REQ_ROLES,
	REQ_REQUEST_FILE,
	REQ_REQUESTS,
	REQ_REQUEST,
	REQ_REQUEST_APPROVE,
	REQ_REQUEST_REJECT,
	REQ_STATS,
	REQ_SIGN_PDF = 64,	/* apart, so that rows added above never move it */
	REQ_TOTP_ENROL,
	REQ_TOTP_CONFIRM,
	REQ_TOTP_VERIFY,
	REQ_GRANTS,
	REQ_ALERTS = 80,	/* apart, as REQ_SIGN_PDF */
};

struct req_route {
	enum req_route_id id;
	enum req_method method;		/* the methods this path accepts (bits) */
	char seal[MSG_ID_MAX];		/* REQ_SEAL, REQ_SIGN: from the path */
	uint64_t seq;			/* REQ_EVIDENCE: from the path; the
					   request's number for REQ_REQUEST* */
};

/* One route of the API: a path pattern ("/v1/seals/{seal}/sign"), its id, its method. */
struct req_route_def {
	const char *pattern;
	enum req_route_id id;
	enum req_method method;
};

/* "GET", "POST" or "GET, POST": for a 405's message and Allow header. */
const char *req_methods_text(unsigned methods);

/* Every route the net worker answers, the one list req_route matches against. */
const struct req_route_def *req_route_list(size_t *n);

/*
 * Which route path (the raw path of the request URI, not decoded) names, for
 * method. Returns 0, or SB_EINVAL with e filled: 404 not_found (no such
 * path), 405 method_not_allowed (r->method then holds the method the path
 * does accept, for the Allow header), 400 bad_request (a seal id or sequence
 * number in the path that cannot be one).
 */
int req_route(const char *path, enum req_method method, struct req_route *r, struct req_err *e);

/*
 * Query strings. query is what follows '?', or NULL when there is none.
 * Parameter values are plain decimal numbers; an unknown, repeated, empty or
 * malformed parameter is 400 bad_query. All return 0 or SB_EINVAL.
 */
int req_query_none(const char *query, struct req_err *e);
/* start (required), count (required, 1..REQ_ENTRIES_MAX); optional filters
 * seal (a seal id), principal (a principal name), from and to (RFC 3339,
 * percent-encoding allowed; from < to). Filters not given: "", 0, UINT64_MAX. */
int req_query_entries(const char *query, struct msg_ledger_entries *v, struct req_err *e);
/*
 * An RFC 3339 date-time (section 5.6: YYYY-MM-DDTHH:MM:SS, an optional
 * fraction kept to the millisecond, then Z or +HH:MM / -HH:MM), of n bytes,
 * as unix milliseconds. Years 1970..9999, real calendar days (leap years); a
 * leap second :60 counts as :59. 0, or SB_EINVAL (also before 1970 UTC).
 */
int req_rfc3339_ms(const char *s, size_t n, uint64_t *ms);
/* GET /v1/alerts: start (default 0), count (1..REQ_ENTRIES_MAX, default
 * 100), kind ([a-z_]{1,23}: which kinds exist is the monitor's), from and
 * to as for req_query_entries. Not given: 0, 100, "", 0, UINT64_MAX. */
int req_query_alerts(const char *query, struct msg_alerts *v, struct req_err *e);
/* seq (required), tree_size (optional, >= 1; v->b = 0 when absent). */
int req_query_inclusion(const char *query, struct msg_proof *v, struct req_err *e);
/* first, second (both required). */
int req_query_consistency(const char *query, struct msg_proof *v, struct req_err *e);

/*
 * The Content-Type header value (NULL when absent) names want (a type such
 * as "application/json", compared without case); parameters are allowed,
 * except a charset other than utf-8. 0, or SB_EINVAL with 415
 * unsupported_media_type.
 */
int req_content_type(const char *header, const char *want, struct req_err *e);

/*
 * POST /v1/seals/{seal}/sign: {"digest": {"alg", "value"}, "document_name"}
 * or {"document": base64, "document_name"}, each with an optional
 * "on_behalf_of": a principal name (msg_principal_ok) that goes to
 * v->who.on_behalf_of. A document is hashed with SHA-256 here. With
 * "content_type": "text/plain" (a document only) the decoded document also
 * goes to v->text for the sensitive-word check: at most MSG_SIGN_TEXT_MAX
 * bytes (413 too_large) of UTF-8 (400); free it with req_sign_text_free
 * (also after a batch). 0, or SB_EINVAL with e filled (bad_json,
 * bad_request, bad_digest, unsupported_alg, too_large), or SB_ENOMEM (500
 * internal).
 */
int req_sign(const void *body, size_t len, const char *seal, struct msg_sign *v,
    struct req_err *e);
/* Frees the texts of n messages (and NULLs them); v may be NULL. */
void req_sign_text_free(struct msg_sign *v, size_t n);

/* Where a PDF seal goes, from the Sealbox-Options header (points). */
#define REQ_PDF_COORD_MAX 14400.0	/* 200 inches: PDF's largest page side */
#define REQ_NEAR_TEXT_MAX 255	/* bytes of near_text */

/* Points (0..REQ_PDF_COORD_MAX) as the sign message's centipoints. */
uint32_t req_centi(double d);

struct req_pdf {
	unsigned page;			/* 1-based; default 1 (near_text: 0, any) */
	double x, y, w, h;		/* h 0: the image's aspect ratio */
	int cross_page;			/* slices along every page's right edge */
	char near_text[REQ_NEAR_TEXT_MAX + 1];	/* "": placed by x, y; else right
						   of the first occurrence of this
						   text (on page, if given) */
	int near_every;			/* near_text: right of every occurrence */
};

/*
 * POST /v1/seals/{seal}/sign-pdf: the options of the header Sealbox-Options,
 * a JSON object: "document_name" (required), "page", "x", "y", "width",
 * "height", "cross_page", "near_text", "near_text_every", "reason", and as for req_sign "on_behalf_of",
 * "document_type", "otp". v is filled as for req_sign but for the digest
 * (made later, from the PDF) and v->profile is MSG_PROFILE_PADES with
 * v->pdf's place and reason; *pl gets the placement in points. NULL header:
 * 400 bad_request. Returns as req_sign.
 */
int req_sign_pdf(const char *header, const char *seal, struct msg_sign *v, struct req_pdf *pl,
    struct req_err *e);

/*
 * POST /v1/sign/batch: {"items": [{"seal", "digest" | "document",
 * "document_name", "on_behalf_of"?}, ...]} with 1..batch_max items. On success *items is a new
 * array of *n messages (free it with free()). An invalid item refuses the
 * whole batch (the message names it: "items[3].digest.value"); more than
 * batch_max items is 413 too_large. Returns as req_sign.
 */
int req_batch(const void *body, size_t len, unsigned batch_max, struct msg_sign **items,
    size_t *n, struct req_err *e);

/*
 * POST /v1/verify: {"digest": {"alg", "value"}, "cms": base64}. On success
 * *cms is the decoded CMS (free it with free()) and v->cms points to it.
 * Returns as req_sign.
 */
int req_verify(const void *body, size_t len, struct msg_verify *v, uint8_t **cms,
    struct req_err *e);

/*
 * GET /v1/requests: state and kind, both optional, each 1..15 bytes of
 * [a-z] (which values exist is the monitor's to say); "" when absent.
 * 400 bad_query otherwise.
 */
int req_query_requests(const char *query, struct msg_requests_list *v, struct req_err *e);

/*
 * POST /v1/requests: {"kind", "seal", "reason"}, all three required strings:
 * kind 1..15 bytes of [a-z], seal a seal id, reason 1..255 bytes of UTF-8
 * without controls. No other key. 400 bad_json / bad_request otherwise.
 */
int req_request_file(const void *body, size_t len, struct msg_request_file *v,
    struct req_err *e);
/* POST /v1/requests/{request}/reject: {"reason"}, as for filing. */
int req_request_reject(const void *body, size_t len, struct msg_request_act *v,
    struct req_err *e);
/* POST /v1/requests/{request}/approve: no body, or the empty object {}. */
int req_request_approve(const void *body, size_t len, struct req_err *e);

/*
 * POST /v1/principals/me/totp (required 0: no body, {} or {"otp"}) and
 * .../totp/confirm, .../totp/verify (required 1: {"otp"}): otp 6-8 digits
 * into v->otp ("" when absent). No other key. 400 bad_json / bad_request.
 */
int req_totp(const void *body, size_t len, int required, struct msg_totp *v,
    struct req_err *e);

/* POST /v1/tsa: a body of 1..MSG_TSQ_MAX bytes (413 too_large above it). */
int req_tsa(size_t len, struct req_err *e);

/* 1 when s (n bytes) is a seal id: [A-Za-z0-9._-]{1,63}. */
int req_seal_id_ok(const char *s, size_t n);
/* 1 when s (n bytes) is a document name: 1..255 bytes of UTF-8 without controls. */
int req_document_name_ok(const char *s, size_t n);

/*
 * 0 when r is a sign result the monitor may send: success (status 200, no
 * code, a CMS, seq within a JSON integer) or a refusal (status 400..599, a
 * code of [a-z0-9_]). SB_EINVAL otherwise: the monitor is broken.
 */
int req_sign_result_check(const struct msg_sign_result *r);
/*
 * The JSON for one checked sign result: {"cms","seq","leaf_hash","seal"} or
 * {"error":{"code","message"}}. New reference, NULL on allocation failure.
 */
json_t *req_sign_result_json(const struct msg_sign_result *r, const char *seal);

/*
 * The error object for a batch item that the monitor refused with a
 * MSG_REPLY instead of a MSG_SIGN_RESULT (it does so for 503 busy and 500
 * internal): the reply's own {"error":{"code","message"}} when its body is
 * one, else a generic "internal" error. r->status must be 400..599 (else
 * NULL: the monitor is broken). New reference; NULL also on allocation
 * failure.
 */
json_t *req_reply_error_json(const struct msg_reply *r);

/*
 * {"error":{"code":code,"message":message}} as compact text (free with
 * free()); *len its length. message may hold any bytes: invalid UTF-8 and
 * controls are replaced. NULL on allocation failure.
 */
char *req_error_body(const char *code, const char *message, size_t *len);
/* j as compact text (free with free()); NULL on allocation failure. */
char *req_json_text(const json_t *j, size_t *len);

#endif
