/*
 * req — request validation for the net worker: paths, queries, JSON bodies.
 * See req.h; docs/API.md is the contract for every code used here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "../../lib/err.h"
#include "../../lib/utf8.h"
#include "../formats/pdftsv.h"
#include "req.h"

#define FIELD_MAX 96		/* "items[999].digest.value" and the like */

static int
fail(struct req_err *e, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(struct req_err *e, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return SB_EINVAL;
}

static int
oom(struct req_err *e)
{
	fail(e, 500, "internal", "out of memory in the net worker");
	return SB_ENOMEM;
}

/* A piece of untrusted text fit to quote in a message: short, printable ASCII. */
static const char *
quote(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, j = 0;

	for (i = 0; i < n && j + 4 < outlen; i++)
		out[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < n && j + 4 <= outlen) {
		memcpy(out + j, "...", 3);
		j += 3;
	}
	out[j] = '\0';
	return out;
}

/* ---- small validators ---------------------------------------------------- */

int
req_seal_id_ok(const char *s, size_t n)
{
	if (n < 1 || n > MSG_ID_MAX - 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int
req_document_name_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	uint32_t cp;

	if (n < 1 || n > MSG_NAME_MAX - 1)
		return 0;
	while (i < n) {
		if ((k = utf8_next(p + i, n - i, &cp)) == 0)
			return 0;
		/* C0, DEL and C1 controls: they forge log lines and confuse viewers. */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return 0;
		i += k;
	}
	return 1;
}

/* Plain decimal, 1..20 digits, no sign, within uint64_t. */
static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n < 1 || n > 20)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* ---- routes ------------------------------------------------------------- */

/*
 * Every route of the API, the one list: req_route matches against it and
 * req_route_list hands it out (seald --list-routes), so that the role x
 * endpoint matrix test (tests/integration/matrix.sh) can tell when a route
 * has no row. A pattern is literal text with at most one parameter, "{seal}"
 * (a seal id), "{seq}" (a decimal number) or "{request}" ("r-" and a
 * number from 1), standing for one path segment. A path may appear twice,
 * once per method.
 */
static const struct req_route_def routes[] = {
	{ "/v1/health", REQ_HEALTH, REQ_GET },
	{ "/v1/seals", REQ_SEALS, REQ_GET },
	{ "/v1/seals/{seal}", REQ_SEAL, REQ_GET },
	{ "/v1/seals/{seal}/sign", REQ_SIGN, REQ_POST },
	{ "/v1/seals/{seal}/sign-pdf", REQ_SIGN_PDF, REQ_POST },
	{ "/v1/sign/batch", REQ_BATCH, REQ_POST },
	{ "/v1/verify", REQ_VERIFY, REQ_POST },
	{ "/v1/tsa", REQ_TSA, REQ_POST },
	{ "/v1/ledger/sth", REQ_STH, REQ_GET },
	{ "/v1/ledger/entries", REQ_ENTRIES, REQ_GET },
	{ "/v1/ledger/proof/inclusion", REQ_INCLUSION, REQ_GET },
	{ "/v1/ledger/proof/consistency", REQ_CONSISTENCY, REQ_GET },
	{ "/v1/evidence/{seq}", REQ_EVIDENCE, REQ_GET },
	{ "/v1/units", REQ_UNITS, REQ_GET },
	{ "/v1/principals", REQ_PRINCIPALS, REQ_GET },
	{ "/v1/roles", REQ_ROLES, REQ_GET },
	{ "/v1/requests", REQ_REQUEST_FILE, REQ_POST },
	{ "/v1/requests", REQ_REQUESTS, REQ_GET },
	{ "/v1/requests/{request}", REQ_REQUEST, REQ_GET },
	{ "/v1/requests/{request}/approve", REQ_REQUEST_APPROVE, REQ_POST },
	{ "/v1/requests/{request}/reject", REQ_REQUEST_REJECT, REQ_POST },
	{ "/v1/stats", REQ_STATS, REQ_GET },
	{ "/v1/principals/me/totp", REQ_TOTP_ENROL, REQ_POST },
	{ "/v1/principals/me/totp/confirm", REQ_TOTP_CONFIRM, REQ_POST },
	{ "/v1/principals/me/totp/verify", REQ_TOTP_VERIFY, REQ_POST },
	{ "/v1/grants", REQ_GRANTS, REQ_GET },
	{ "/v1/alerts", REQ_ALERTS, REQ_GET },
};

const struct req_route_def *
req_route_list(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

static int
not_found(struct req_err *e)
{
	return fail(e, 404, "not_found", "no such path");
}

/*
 * Does path match pattern? 1 when it does, with the parameter's segment in
 * *seg (*seglen bytes; 0 when the pattern has none); 0 when not. A segment
 * is never empty and never holds '/'.
 */
static int
route_match(const char *pattern, const char *path, const char **seg, size_t *seglen)
{
	const char *open = strchr(pattern, '{'), *close, *rest;
	size_t pre;

	*seg = NULL;
	*seglen = 0;
	if (open == NULL)
		return strcmp(pattern, path) == 0;
	close = strchr(open, '}');
	pre = (size_t)(open - pattern);
	if (close == NULL || strncmp(pattern, path, pre) != 0)
		return 0;
	*seg = path + pre;
	*seglen = strcspn(*seg, "/");
	rest = *seg + *seglen;
	return *seglen > 0 && strcmp(close + 1, rest) == 0;
}

/* The parameter of a matched route, checked and kept in r. */
static int
route_param(const char *pattern, const char *seg, size_t n, struct req_route *r,
    struct req_err *e)
{
	if (seg == NULL)
		return 0;
	if (strstr(pattern, "{seal}") != NULL) {
		if (!req_seal_id_ok(seg, n))
			return fail(e, 400, "bad_request",
			    "seal id in the path: must be 1-63 characters of A-Z a-z 0-9 . _ -");
		memcpy(r->seal, seg, n);
		r->seal[n] = '\0';
		return 0;
	}
	if (strstr(pattern, "{request}") != NULL) {
		if (n < 3 || memcmp(seg, "r-", 2) != 0 || parse_u64(seg + 2, n - 2, &r->seq) != 0 ||
		    r->seq == 0)
			return fail(e, 400, "bad_request",
			    "request id in the path: must be r- and a number from 1");
		return 0;
	}
	if (parse_u64(seg, n, &r->seq) != 0)
		return fail(e, 400, "bad_request",
		    "sequence number in the path: must be a decimal number");
	return 0;
}

int
req_route(const char *path, enum req_method method, struct req_route *r, struct req_err *e)
{
	const struct req_route_def *d = NULL;
	const char *seg = NULL;
	unsigned methods = 0;
	size_t n = 0, i;
	int rc;

	memset(r, 0, sizeof(*r));
	if (path == NULL || strnlen(path, REQ_PATH_MAX + 1) > REQ_PATH_MAX)
		return not_found(e);
	/* The route of this path and method; else any of this path, for the 405. */
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (route_match(routes[i].pattern, path, &seg, &n)) {
			methods |= routes[i].method;
			if (d == NULL || routes[i].method == method)
				d = &routes[i];
		}
	if (d == NULL)
		return not_found(e);
	(void)route_match(d->pattern, path, &seg, &n);	/* its parameter */
	r->id = d->id;
	r->method = (enum req_method)methods;
	if ((rc = route_param(d->pattern, seg, n, r, e)) != 0)
		return rc;
	if (method != d->method)
		return fail(e, 405, "method_not_allowed", "use %s for this path",
		    req_methods_text(methods));
	return 0;
}

const char *
req_methods_text(unsigned methods)
{
	if (methods == (REQ_GET | REQ_POST))
		return "GET, POST";
	return methods == REQ_GET ? "GET" : "POST";
}

/* ---- query strings ------------------------------------------------------ */

struct qparam {
	const char *name;
	int required;
	uint64_t min, max;
	int seen;
	uint64_t value;
};

/* A parameter whose value is text, left in str/len for its caller to check. */
struct qtext {
	const char *name;
	const char *str;	/* NULL when not given */
	size_t len;
};

static int
query_parse_text(const char *query, struct qparam *ps, size_t nps, struct qtext *ts,
    size_t nts, struct req_err *e);

static int
query_parse(const char *query, struct qparam *ps, size_t nps, struct req_err *e)
{
	return query_parse_text(query, ps, nps, NULL, 0, e);
}

/* query_parse, and the text parameters ts: each at most once, not empty. */
static int
query_parse_text(const char *query, struct qparam *ps, size_t nps, struct qtext *ts,
    size_t nts, struct req_err *e)
{
	const char *p = query;
	char q[48];

	/* Every '&'-separated piece must be a parameter: "a=1&" and "&&" are refused. */
	while (p != NULL && *query != '\0') {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t nlen = eq ? (size_t)(eq - p) : len;
		struct qparam *qp = NULL;

		struct qtext *qt = NULL;

		for (size_t i = 0; i < nps; i++)
			if (strlen(ps[i].name) == nlen && memcmp(ps[i].name, p, nlen) == 0)
				qp = &ps[i];
		for (size_t i = 0; i < nts; i++)
			if (strlen(ts[i].name) == nlen && memcmp(ts[i].name, p, nlen) == 0)
				qt = &ts[i];
		if (qt != NULL) {
			if (qt->str != NULL)
				return fail(e, 400, "bad_query", "%s: given twice", qt->name);
			if (eq == NULL || len == nlen + 1)
				return fail(e, 400, "bad_query", "%s: empty", qt->name);
			qt->str = eq + 1;
			qt->len = len - nlen - 1;
			p = amp ? amp + 1 : NULL;
			continue;
		}
		if (qp == NULL)
			return fail(e, 400, "bad_query", "unknown parameter '%s'",
			    quote(p, nlen, q, sizeof(q)));
		if (qp->seen)
			return fail(e, 400, "bad_query", "%s: given twice", qp->name);
		if (eq == NULL || parse_u64(eq + 1, len - nlen - 1, &qp->value) != 0)
			return fail(e, 400, "bad_query", "%s: must be a decimal number", qp->name);
		if (qp->value < qp->min || qp->value > qp->max)
			return fail(e, 400, "bad_query", "%s: must be between %llu and %llu",
			    qp->name, (unsigned long long)qp->min, (unsigned long long)qp->max);
		qp->seen = 1;
		p = amp ? amp + 1 : NULL;
	}
	for (size_t i = 0; i < nps; i++)
		if (ps[i].required && !ps[i].seen)
			return fail(e, 400, "bad_query", "%s: missing", ps[i].name);
	return 0;
}

int
req_query_none(const char *query, struct req_err *e)
{
	if (query != NULL && *query != '\0')
		return fail(e, 400, "bad_query", "this path takes no parameters");
	return 0;
}

/* Two hex digits at s, as a byte; -1 when they are not. */
static int
hex_byte(const char *s)
{
	int v = 0;

	for (int i = 0; i < 2; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* 0 when the len characters at s are digits of a number (into *v) in [lo, hi]. */
static int
digits(const char *s, size_t len, unsigned lo, unsigned hi, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return *v >= lo && *v <= hi ? 0 : -1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int
req_rfc3339_ms(const char *s, size_t n, uint64_t *ms)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h, mi, sec, frac = 0, oh = 0, om = 0;
	size_t i = 19;
	int64_t t, off = 0;

	/* YYYY-MM-DDTHH:MM:SS: the fixed part (RFC 3339 section 5.6). */
	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':' ||
	    digits(s, 4, 1970, 9999, &y) != 0 || digits(s + 5, 2, 1, 12, &mo) != 0 ||
	    digits(s + 8, 2, 1, mdays[mo - 1], &d) != 0 ||
	    digits(s + 11, 2, 0, 23, &h) != 0 || digits(s + 14, 2, 0, 59, &mi) != 0 ||
	    digits(s + 17, 2, 0, 60, &sec) != 0)
		return SB_EINVAL;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return SB_EINVAL;
	if (sec == 60)		/* a leap second: the ledger's clock never shows one */
		sec = 59;
	if (s[i] == '.') {	/* fraction: 1-9 digits, kept to the millisecond */
		size_t k = 0;

		for (i++; i < n && k < 9 && s[i] >= '0' && s[i] <= '9'; i++, k++)
			if (k < 3)
				frac = frac * 10 + (unsigned)(s[i] - '0');
		if (k == 0 || (i < n && s[i] >= '0' && s[i] <= '9'))
			return SB_EINVAL;
		for (; k < 3; k++)
			frac *= 10;
	}
	if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
		off = 0;
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
	    digits(s + i + 1, 2, 0, 23, &oh) == 0 && digits(s + i + 4, 2, 0, 59, &om) == 0) {
		off = (int64_t)(oh * 60 + om) * 60;
		if (s[i] == '-')
			off = -off;
	} else {
		return SB_EINVAL;
	}
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	if (t < 0)
		return SB_EINVAL;
	*ms = (uint64_t)t * 1000 + frac;
	return 0;
}

/* A from= or to= value (percent-encoding allowed) as unix ms; 0 or SB_EINVAL. */
static int
query_time(const struct qtext *qt, uint64_t *ms, struct req_err *e)
{
	char t[40];
	size_t n = 0;

	for (size_t i = 0; i < qt->len && n < sizeof(t); i++) {
		int b = qt->str[i];

		if (b == '%') {
			if (i + 2 < qt->len && (b = hex_byte(qt->str + i + 1)) >= 0)
				i += 2;
			else
				b = '?';
		}
		t[n++] = (char)b;
	}
	if (n == sizeof(t) || req_rfc3339_ms(t, n, ms) != 0)
		return fail(e, 400, "bad_query", "%s: must be an RFC 3339 time such as "
		    "2026-11-22T08:00:00Z", qt->name);
	return 0;
}

/* A percent-encoded text parameter ('+' a space) into out: UTF-8 text
 * without control characters, shorter than cap. */
static int
query_name(const struct qtext *qt, char *out, size_t cap, struct req_err *e)
{
	char raw[3 * MSG_NAME_MAX], *dec;
	size_t n = 0;
	int ok;

	if (qt->len >= sizeof(raw))
		return fail(e, 400, "bad_query", "%s: too long", qt->name);
	memcpy(raw, qt->str, qt->len);
	raw[qt->len] = '\0';
	if ((dec = evhttp_uridecode(raw, 1, &n)) == NULL)
		return fail(e, 500, "internal", "out of memory in the net worker");
	ok = n > 0 && n < cap && strlen(dec) == n && msg_text_line_ok(dec, n);
	if (ok)
		memcpy(out, dec, n + 1);
	free(dec);
	if (!ok)
		return fail(e, 400, "bad_query", "%s: 1-%zu bytes of UTF-8 text without control "
		    "characters, percent-encoded", qt->name, cap - 1);
	return 0;
}

int
req_query_entries(const char *query, struct msg_ledger_entries *v, struct req_err *e)
{
	struct qparam ps[] = {
		{ "start", 1, 0, UINT64_MAX, 0, 0 },
		{ "count", 1, 1, REQ_ENTRIES_MAX, 0, 0 },
	};
	struct qtext ts[] = {
		{ "seal", NULL, 0 }, { "principal", NULL, 0 }, { "from", NULL, 0 }, { "to", NULL, 0 },
		{ "unit", NULL, 0 }, { "document_name", NULL, 0 },
	};

	memset(v->seal, 0, sizeof(v->seal));
	memset(v->principal, 0, sizeof(v->principal));
	memset(v->unit, 0, sizeof(v->unit));
	memset(v->document_name, 0, sizeof(v->document_name));
	v->from_ms = 0;
	v->to_ms = UINT64_MAX;
	if (query_parse_text(query, ps, 2, ts, 6, e) != 0)
		return SB_EINVAL;
	if (ts[4].str != NULL) {
		if (!req_seal_id_ok(ts[4].str, ts[4].len))
			return fail(e, 400, "bad_query",
			    "unit: must be a unit id, 1-63 characters of A-Z a-z 0-9 . _ -");
		memcpy(v->unit, ts[4].str, ts[4].len);
	}
	if (ts[5].str != NULL && query_name(&ts[5], v->document_name,
	    sizeof(v->document_name), e) != 0)
		return SB_EINVAL;
	v->start = ps[0].value;
	v->count = (uint32_t)ps[1].value;
	if (ts[0].str != NULL) {
		if (!req_seal_id_ok(ts[0].str, ts[0].len))
			return fail(e, 400, "bad_query",
			    "seal: must be a seal id, 1-63 characters of A-Z a-z 0-9 . _ -");
		memcpy(v->seal, ts[0].str, ts[0].len);
	}
	if (ts[1].str != NULL) {
		if (!msg_principal_ok(ts[1].str, ts[1].len))
			return fail(e, 400, "bad_query",
			    "principal: must be a principal name, 1-63 characters of "
			    "A-Z a-z 0-9 . _ - @");
		memcpy(v->principal, ts[1].str, ts[1].len);
	}
	if (ts[2].str != NULL && query_time(&ts[2], &v->from_ms, e) != 0)
		return SB_EINVAL;
	if (ts[3].str != NULL && query_time(&ts[3], &v->to_ms, e) != 0)
		return SB_EINVAL;
	if (v->from_ms >= v->to_ms)
		return fail(e, 400, "bad_query", "to: must be later than from");
	return 0;
}

int
req_query_alerts(const char *query, struct msg_alerts *v, struct req_err *e)
{
	struct qparam ps[] = {
		{ "start", 0, 0, UINT64_MAX, 0, 0 },
		{ "count", 0, 1, REQ_ENTRIES_MAX, 0, 0 },
	};
	struct qtext ts[] = { { "kind", NULL, 0 }, { "from", NULL, 0 }, { "to", NULL, 0 } };

	memset(v->kind, 0, sizeof(v->kind));
	v->from_ms = 0;
	v->to_ms = UINT64_MAX;
	if (query_parse_text(query, ps, 2, ts, 3, e) != 0)
		return SB_EINVAL;
	v->start = ps[0].seen ? ps[0].value : 0;
	v->count = ps[1].seen ? (uint32_t)ps[1].value : 100;
	if (ts[0].str != NULL) {
		if (ts[0].len >= sizeof(v->kind) ||
		    strspn(ts[0].str, "abcdefghijklmnopqrstuvwxyz_") < ts[0].len)
			return fail(e, 400, "bad_query", "kind: must be an alert kind such as "
			    "outside_hours");
		memcpy(v->kind, ts[0].str, ts[0].len);
	}
	if (ts[1].str != NULL && query_time(&ts[1], &v->from_ms, e) != 0)
		return SB_EINVAL;
	if (ts[2].str != NULL && query_time(&ts[2], &v->to_ms, e) != 0)
		return SB_EINVAL;
	if (v->from_ms >= v->to_ms)
		return fail(e, 400, "bad_query", "to: must be later than from");
	return 0;
}

int
req_query_inclusion(const char *query, struct msg_proof *v, struct req_err *e)
{
	struct qparam ps[] = {
		{ "seq", 1, 0, UINT64_MAX, 0, 0 },
		{ "tree_size", 0, 1, UINT64_MAX, 0, 0 },
	};

	if (query_parse(query, ps, 2, e) != 0)
		return SB_EINVAL;
	v->a = ps[0].value;
	v->b = ps[1].seen ? ps[1].value : 0;
	return 0;
}

int
req_query_consistency(const char *query, struct msg_proof *v, struct req_err *e)
{
	struct qparam ps[] = {
		{ "first", 1, 0, UINT64_MAX, 0, 0 },
		{ "second", 1, 0, UINT64_MAX, 0, 0 },
	};

	if (query_parse(query, ps, 2, e) != 0)
		return SB_EINVAL;
	v->a = ps[0].value;
	v->b = ps[1].value;
	return 0;
}

/* ---- Content-Type ------------------------------------------------------- */

static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int
req_content_type(const char *header, const char *want, struct req_err *e)
{
	size_t wl = strlen(want);
	const char *p;

	if (header == NULL)
		return fail(e, 415, "unsupported_media_type", "Content-Type must be %s", want);
	p = skip_ows(header);
	if (strncasecmp(p, want, wl) != 0)
		return fail(e, 415, "unsupported_media_type", "Content-Type must be %s", want);
	p = skip_ows(p + wl);
	/* Parameters: only "charset=utf-8" means anything to us; refuse other charsets. */
	while (*p == ';') {
		const char *end;

		p = skip_ows(p + 1);
		end = strchr(p, ';');
		if (strncasecmp(p, "charset=", 8) == 0) {
			const char *v = p + 8;
			size_t vl = end ? (size_t)(end - v) : strlen(v);

			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"')
				v++, vl -= 2;
			if (!(vl == 5 && strncasecmp(v, "utf-8", 5) == 0))
				return fail(e, 415, "unsupported_media_type",
				    "the only charset accepted is utf-8");
		}
		if (end == NULL)
			return 0;
		p = end;
	}
	if (*p != '\0')
		return fail(e, 415, "unsupported_media_type", "Content-Type must be %s", want);
	return 0;
}

/* ---- base64 ------------------------------------------------------------- */

static int
b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '+' || c == '/';
}

/* Padding count (0..2) of strict RFC 4648 base64 with padding, or -1. */
static int
b64_check(const char *s, size_t n)
{
	int pad = 0;

	if (n == 0 || n % 4 != 0)
		return -1;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < n - (size_t)pad; i++)
		if (!b64_char((unsigned char)s[i]))
			return -1;
	return pad;
}

/*
 * Decode checked base64 in bounded chunks: each chunk goes to out (when not
 * NULL, room for n / 4 * 3 bytes) and into md (when not NULL), so that a
 * document is hashed without a copy of it in memory.
 */
static int
b64_decode(const char *s, size_t n, int pad, uint8_t *out, size_t *outlen, EVP_MD_CTX *md)
{
	unsigned char chunk[3 * 1024];
	size_t done = 0, total = 0;

	while (done < n) {
		size_t take = n - done > 4 * 1024 ? 4 * 1024 : n - done;
		int got = EVP_DecodeBlock(chunk, (const unsigned char *)s + done, (int)take);

		if (got < 0 || (size_t)got != take / 4 * 3)
			return -1;
		if (done + take == n)
			got -= pad;	/* EVP_DecodeBlock counts padding as zero bytes */
		if (out != NULL)
			memcpy(out + total, chunk, (size_t)got);
		if (md != NULL && EVP_DigestUpdate(md, chunk, (size_t)got) != 1)
			return -1;
		total += (size_t)got;
		done += take;
	}
	*outlen = total;
	return 0;
}

/* 1 when s (n bytes) is 1..15 bytes of [a-z]: a request's kind or state. */
static int
word_ok(const char *s, size_t n)
{
	if (n < 1 || n > MSG_KIND_MAX - 1)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return 0;
	return 1;
}

int
req_query_requests(const char *query, struct msg_requests_list *v, struct req_err *e)
{
	const char *p = query;
	char q[48];

	memset(v->state, 0, sizeof(v->state));
	memset(v->kind, 0, sizeof(v->kind));
	while (p != NULL && query != NULL && *query != '\0') {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t nlen = eq ? (size_t)(eq - p) : len;
		char *dst;

		if (nlen == 5 && memcmp(p, "state", 5) == 0)
			dst = v->state;
		else if (nlen == 4 && memcmp(p, "kind", 4) == 0)
			dst = v->kind;
		else
			return fail(e, 400, "bad_query", "unknown parameter '%s'",
			    quote(p, nlen, q, sizeof(q)));
		if (dst[0] != '\0')
			return fail(e, 400, "bad_query", "%.*s: given twice", (int)nlen, p);
		if (eq == NULL || !word_ok(eq + 1, len - nlen - 1))
			return fail(e, 400, "bad_query", "%.*s: must be 1-15 letters a-z",
			    (int)nlen, p);
		memcpy(dst, eq + 1, len - nlen - 1);
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

/* ---- JSON helpers ------------------------------------------------------- */

static int
load_object(const void *body, size_t len, json_t **out, struct req_err *e)
{
	json_error_t jerr;
	json_t *j;

	if (len == 0)
		return fail(e, 400, "bad_json", "the body is empty; a JSON object is expected");
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return fail(e, 400, "bad_json", "not valid JSON at byte %d: %s",
		    jerr.position, jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return fail(e, 400, "bad_json", "the body must be a JSON object");
	}
	*out = j;
	return 0;
}

/* Every key of obj is one of allowed (NULL-terminated); path prefixes messages. */
static int
only_keys(json_t *obj, const char *const *allowed, const char *path, struct req_err *e)
{
	const char *key;
	json_t *val;
	char q[48];

	json_object_foreach(obj, key, val) {
		const char *const *a;

		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (*a == NULL)
			return fail(e, 400, "bad_request", "%sunknown field '%s'", path,
			    quote(key, strlen(key), q, sizeof(q)));
	}
	return 0;
}

/* obj[key] as a string; *s NULL (and 0 returned) when absent and optional. */
static int
get_string(json_t *obj, const char *key, int required, const char *path,
    const char **s, size_t *n, struct req_err *e)
{
	json_t *v = json_object_get(obj, key);

	*s = NULL;
	*n = 0;
	if (v == NULL) {
		if (required)
			return fail(e, 400, "bad_request", "%s%s: missing", path, key);
		return 0;
	}
	if (!json_is_string(v))
		return fail(e, 400, "bad_request", "%s%s: must be a string", path, key);
	*s = json_string_value(v);
	*n = json_string_length(v);
	return 0;
}

static int
hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* {"alg": "sha256"|"sha384"|"sha512", "value": hex} */
static int
get_digest(json_t *d, const char *path, uint16_t *nid, uint8_t *dig, size_t *dlen,
    struct req_err *e)
{
	static const char *const keys[] = { "alg", "value", NULL };
	static const struct { const char *name; uint16_t nid; size_t len; } algs[] = {
		{ "sha256", NID_sha256, 32 },
		{ "sha384", NID_sha384, 48 },
		{ "sha512", NID_sha512, 64 },
	};
	char where[FIELD_MAX];
	const char *alg, *val;
	size_t alen, vlen, i, want = 0;

	snprintf(where, sizeof(where), "%sdigest.", path);
	if (!json_is_object(d))
		return fail(e, 400, "bad_request", "%sdigest: must be an object", path);
	if (only_keys(d, keys, where, e) != 0 ||
	    get_string(d, "alg", 1, where, &alg, &alen, e) != 0)
		return SB_EINVAL;
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (strlen(algs[i].name) == alen && memcmp(algs[i].name, alg, alen) == 0) {
			*nid = algs[i].nid;
			want = algs[i].len;
		}
	}
	if (want == 0)
		return fail(e, 400, "unsupported_alg", "%salg: use sha256, sha384 or sha512",
		    where);
	if (get_string(d, "value", 1, where, &val, &vlen, e) != 0)
		return SB_EINVAL;
	if (vlen != 2 * want)
		return fail(e, 400, "bad_digest", "%svalue: %zu hex digits expected for %s",
		    where, 2 * want, alg);
	for (i = 0; i < want; i++) {
		int hi = hex_val((unsigned char)val[2 * i]), lo = hex_val((unsigned char)val[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return fail(e, 400, "bad_digest", "%svalue: not hexadecimal", where);
		dig[i] = (uint8_t)(hi << 4 | lo);
	}
	*dlen = want;
	return 0;
}

/* SHA-256 of the base64 document s, without keeping the document. */
static int
hash_document(const char *s, size_t n, const char *path, struct msg_sign *v, struct req_err *e)
{
	EVP_MD_CTX *md;
	unsigned int mdlen = 0;
	size_t dlen = 0;
	int pad = b64_check(s, n), rc;

	if (pad < 0)
		return fail(e, 400, "bad_request", "%sdocument: %s", path,
		    n == 0 ? "empty" : "not base64 (RFC 4648, with padding)");
	if ((md = EVP_MD_CTX_new()) == NULL)
		return oom(e);
	rc = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    b64_decode(s, n, pad, NULL, &dlen, md) == 0 &&
	    EVP_DigestFinal_ex(md, v->digest, &mdlen) == 1;
	EVP_MD_CTX_free(md);
	if (!rc || mdlen != 32)
		return fail(e, 500, "internal", "hashing the document failed");
	if (dlen == 0)
		return fail(e, 400, "bad_request", "%sdocument: empty", path);
	v->md_nid = NID_sha256;
	v->digest_len = 32;
	return 0;
}

/* The optional on_behalf_of of obj into v->who (the rest of who is the caller's). */
static int
get_behalf(json_t *obj, const char *path, struct msg_sign *v, struct req_err *e)
{
	const char *s;
	size_t n;

	if (get_string(obj, "on_behalf_of", 0, path, &s, &n, e) != 0)
		return SB_EINVAL;
	if (s == NULL)
		return 0;
	if (!msg_principal_ok(s, n))
		return fail(e, 400, "bad_request",
		    "%son_behalf_of: a principal name, 1-63 characters of A-Z a-z 0-9 . _ - @",
		    path);
	memcpy(v->who.on_behalf_of, s, n);
	v->who.on_behalf_of[n] = '\0';
	return 0;
}

/* 1 when s (n bytes) is n_min..n_max characters, each of them in set. */
static int
chars_ok(const char *s, size_t n, size_t n_min, size_t n_max, const char *set)
{
	size_t i;

	if (n < n_min || n > n_max)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return 0;
	return 1;
}

/* The optional document_type and otp of obj into v. */
static int
get_type_otp(json_t *obj, const char *path, struct msg_sign *v, struct req_err *e)
{
	const char *s;
	size_t n;

	if (get_string(obj, "document_type", 0, path, &s, &n, e) != 0)
		return SB_EINVAL;
	if (s != NULL && !chars_ok(s, n, 1, MSG_DOCTYPE_MAX - 1,
	    "abcdefghijklmnopqrstuvwxyz0123456789_-"))
		return fail(e, 400, "bad_request",
		    "%sdocument_type: 1-31 characters of a-z 0-9 _ -", path);
	if (s != NULL)
		memcpy(v->document_type, s, n + 1);
	if (get_string(obj, "otp", 0, path, &s, &n, e) != 0)
		return SB_EINVAL;
	if (s != NULL && !chars_ok(s, n, 6, 8, "0123456789"))
		return fail(e, 400, "bad_request", "%sotp: 6-8 digits", path);
	if (s != NULL)
		memcpy(v->otp, s, n + 1);
	return 0;
}

/* The optional approval of obj into v: the id of an approved use request,
 * "r-" and 1-19 digits. */
static int
get_approval(json_t *obj, const char *path, struct msg_sign *v, struct req_err *e)
{
	const char *s;
	size_t n;

	if (get_string(obj, "approval", 0, path, &s, &n, e) != 0)
		return SB_EINVAL;
	if (s == NULL)
		return 0;
	if (n < 3 || strncmp(s, "r-", 2) != 0 || s[2] == '0' ||
	    !chars_ok(s + 2, n - 2, 1, 19, "0123456789"))
		return fail(e, 400, "bad_request", "%sapproval: a request id, r-1, r-2, ...", path);
	memcpy(v->approval, s, n + 1);
	return 0;
}

/*
 * The optional content_type of obj: "text/plain" keeps the document (doc, dn
 * bytes of checked base64; NULL when obj gave a digest) decoded in v->text
 * for the monitor's sensitive-word check: at most MSG_SIGN_TEXT_MAX bytes
 * (413) of UTF-8 (400). The copy is the caller's: req_sign_text_free.
 */
static int
get_text(json_t *obj, const char *path, const char *doc, size_t dn, struct msg_sign *v,
    struct req_err *e)
{
	const char *ct;
	size_t cn, tl = 0, i, k;
	uint32_t cp;
	uint8_t *t;
	int pad;

	if (get_string(obj, "content_type", 0, path, &ct, &cn, e) != 0)
		return SB_EINVAL;
	if (ct == NULL)
		return 0;
	if (cn != 10 || memcmp(ct, "text/plain", 10) != 0)
		return fail(e, 400, "bad_request", "%scontent_type: only \"text/plain\" (UTF-8); "
		    "leave it out for other documents", path);
	if (doc == NULL)
		return fail(e, 400, "bad_request", "%scontent_type: goes with a document, "
		    "not with a digest", path);
	if ((pad = b64_check(doc, dn)) < 0)
		return fail(e, 400, "bad_request", "%sdocument: not base64", path);
	if (dn / 4 * 3 - (size_t)pad > MSG_SIGN_TEXT_MAX)
		return fail(e, 413, "too_large", "%sdocument: a text/plain document is at most "
		    "%u KiB", path, MSG_SIGN_TEXT_MAX / 1024);
	if ((t = malloc(dn / 4 * 3 + 1)) == NULL)
		return oom(e);
	if (b64_decode(doc, dn, pad, t, &tl, NULL) != 0) {
		free(t);
		return fail(e, 400, "bad_request", "%sdocument: not base64", path);
	}
	for (i = 0; i < tl; i += k)
		if ((k = utf8_next(t + i, tl - i, &cp)) == 0) {
			free(t);
			return fail(e, 400, "bad_request", "%sdocument: a text/plain document "
			    "must be UTF-8 (byte %zu is not)", path, i);
		}
	v->text = t;
	v->text_len = tl;
	return 0;
}

void
req_sign_text_free(struct msg_sign *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++) {
		free((void *)(uintptr_t)v[i].text);
		v[i].text = NULL;
		v[i].text_len = 0;
	}
}

/* The sign fields of obj (a body or a batch item) into v; path prefixes messages. */
static int
sign_fields(json_t *obj, const char *path, struct msg_sign *v, struct req_err *e)
{
	json_t *dig = json_object_get(obj, "digest");
	const char *doc, *name;
	size_t dn, nn;
	int rc;

	if (get_string(obj, "document", 0, path, &doc, &dn, e) != 0)
		return SB_EINVAL;
	if ((dig == NULL) == (doc == NULL))
		return fail(e, 400, "bad_request", "%sdigest, document: give exactly one", path);
	if (get_string(obj, "document_name", 1, path, &name, &nn, e) != 0)
		return SB_EINVAL;
	if (!req_document_name_ok(name, nn))
		return fail(e, 400, "bad_request",
		    "%sdocument_name: 1-255 bytes of UTF-8 without control characters", path);
	memcpy(v->document_name, name, nn);
	v->document_name[nn] = '\0';
	if (get_behalf(obj, path, v, e) != 0 || get_type_otp(obj, path, v, e) != 0 ||
	    get_approval(obj, path, v, e) != 0)
		return SB_EINVAL;
	if ((rc = dig != NULL ? get_digest(dig, path, &v->md_nid, v->digest, &v->digest_len, e) :
	    hash_document(doc, dn, path, v, e)) != 0)
		return rc;
	return get_text(obj, path, doc, dn, v, e);
}

/* ---- bodies ------------------------------------------------------------- */

int
req_sign(const void *body, size_t len, const char *seal, struct msg_sign *v, struct req_err *e)
{
	static const char *const keys[] = { "digest", "document", "document_name",
	    "on_behalf_of", "document_type", "otp", "approval", "content_type", NULL };
	json_t *j;
	int rc;

	memset(v, 0, sizeof(*v));
	if (!req_seal_id_ok(seal, strlen(seal)))
		return fail(e, 400, "bad_request", "seal id: must be 1-63 of A-Z a-z 0-9 . _ -");
	if (load_object(body, len, &j, e) != 0)
		return SB_EINVAL;
	memcpy(v->seal, seal, strlen(seal) + 1);	/* length checked above */
	rc = only_keys(j, keys, "", e);
	if (rc == 0)
		rc = sign_fields(j, "", v, e);
	json_decref(j);
	return rc;
}

/* obj[key] as a number in lo..hi; *d unchanged (and 0) when absent. */
static int
get_coord(json_t *obj, const char *key, double lo, double hi, double *d, struct req_err *e)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi)
		return fail(e, 400, "bad_request", "%s: a number of points from %g to %g", key,
		    lo, hi);
	*d = json_number_value(v);
	return 0;
}

/* The placement keys of the sign-pdf options into pl. */
static int
pdf_place(json_t *j, struct req_pdf *pl, struct req_err *e)
{
	json_t *page = json_object_get(j, "page"), *cross = json_object_get(j, "cross_page");
	json_t *every = json_object_get(j, "near_text_every");
	double x = -1, y = -1, w = -1;
	const char *near;
	size_t nn;

	if (page != NULL && (!json_is_integer(page) || json_integer_value(page) < 1 ||
	    json_integer_value(page) > 100000))
		return fail(e, 400, "bad_request", "page: an integer from 1");
	pl->page = page != NULL ? (unsigned)json_integer_value(page) : 1;
	if (cross != NULL && !json_is_boolean(cross))
		return fail(e, 400, "bad_request", "cross_page: true or false");
	pl->cross_page = cross != NULL && json_is_true(cross);
	if (get_coord(j, "x", 0, REQ_PDF_COORD_MAX, &x, e) != 0 ||
	    get_coord(j, "y", 0, REQ_PDF_COORD_MAX, &y, e) != 0 ||
	    get_coord(j, "width", 1, REQ_PDF_COORD_MAX, &w, e) != 0 ||
	    get_coord(j, "height", 1, REQ_PDF_COORD_MAX, &pl->h, e) != 0 ||
	    get_string(j, "near_text", 0, "", &near, &nn, e) != 0)
		return SB_EINVAL;
	if (every != NULL && (!json_is_boolean(every) || near == NULL))
		return fail(e, 400, "bad_request", "near_text_every: true or false, with near_text");
	if (near != NULL) {
		if (nn > REQ_NEAR_TEXT_MAX || !msg_text_line_ok(near, nn) || !pdftsv_needle_ok(near))
			return fail(e, 400, "bad_request", "near_text: 1-%d bytes of UTF-8 text "
			    "without control characters, not only white space", REQ_NEAR_TEXT_MAX);
		if (pl->cross_page || x >= 0 || y >= 0)
			return fail(e, 400, "bad_request", "near_text: places the seal itself; "
			    "leave out x, y and cross_page");
		if (w < 0)
			return fail(e, 400, "bad_request", "width: required (points)");
		memcpy(pl->near_text, near, nn + 1);
		pl->near_every = every != NULL && json_is_true(every);
		pl->page = page != NULL ? pl->page : 0;
		pl->w = w;
		return 0;
	}
	if ((x < 0 && !pl->cross_page) || y < 0 || w < 0)
		return fail(e, 400, "bad_request", pl->cross_page ? "y, width: required" :
		    "x, y, width: required (points from the page's lower left corner)");
	pl->x = x < 0 ? 0 : x;
	pl->y = y;
	pl->w = w;
	return 0;
}

uint32_t
req_centi(double d)
{
	return (uint32_t)(d * 100.0 + 0.5);
}

int
req_sign_pdf(const char *header, const char *seal, struct msg_sign *v, struct req_pdf *pl,
    struct req_err *e)
{
	static const char *const keys[] = { "document_name", "page", "x", "y", "width",
	    "height", "cross_page", "near_text", "near_text_every", "reason", "on_behalf_of",
	    "document_type", "otp", "approval", NULL };
	const char *name, *reason;
	size_t nn, rn;
	json_t *j;
	int rc;

	memset(v, 0, sizeof(*v));
	memset(pl, 0, sizeof(*pl));
	if (!req_seal_id_ok(seal, strlen(seal)))
		return fail(e, 400, "bad_request", "seal id: must be 1-63 of A-Z a-z 0-9 . _ -");
	if (header == NULL)
		return fail(e, 400, "bad_request", "the Sealbox-Options header is missing: a "
		    "JSON object with document_name and where the seal goes");
	if (load_object(header, strlen(header), &j, e) != 0)
		return SB_EINVAL;
	memcpy(v->seal, seal, strlen(seal) + 1);
	rc = only_keys(j, keys, "", e);
	if (rc == 0)
		rc = get_string(j, "document_name", 1, "", &name, &nn, e);
	if (rc == 0 && !req_document_name_ok(name, nn))
		rc = fail(e, 400, "bad_request",
		    "document_name: 1-255 bytes of UTF-8 without control characters");
	if (rc == 0)
		rc = get_string(j, "reason", 0, "", &reason, &rn, e);
	if (rc == 0 && reason != NULL && !req_document_name_ok(reason, rn))
		rc = fail(e, 400, "bad_request",
		    "reason: 1-255 bytes of UTF-8 without control characters");
	if (rc == 0)
		rc = get_behalf(j, "", v, e) != 0 || get_type_otp(j, "", v, e) != 0 ||
		    get_approval(j, "", v, e) != 0 ? SB_EINVAL : pdf_place(j, pl, e);
	if (rc == 0) {
		memcpy(v->document_name, name, nn + 1);
		if (reason != NULL)
			memcpy(v->pdf.reason, reason, rn + 1);
		v->profile = MSG_PROFILE_PADES;
		v->pdf.page = pl->cross_page ? 0 : pl->page;
		v->pdf.x = req_centi(pl->x);
		v->pdf.y = req_centi(pl->y);
		v->pdf.w = req_centi(pl->w);
		v->pdf.h = req_centi(pl->h);
	}
	json_decref(j);
	return rc;
}

static int
batch_item(json_t *it, size_t i, struct msg_sign *v, struct req_err *e)
{
	static const char *const keys[] = { "seal", "digest", "document", "document_name",
	    "on_behalf_of", "document_type", "otp", "approval", "content_type", NULL };
	char path[FIELD_MAX];
	const char *seal;
	size_t sn;

	snprintf(path, sizeof(path), "items[%zu].", i);
	if (!json_is_object(it))
		return fail(e, 400, "bad_request", "items[%zu]: must be an object", i);
	if (only_keys(it, keys, path, e) != 0 ||
	    get_string(it, "seal", 1, path, &seal, &sn, e) != 0)
		return SB_EINVAL;
	if (!req_seal_id_ok(seal, sn))
		return fail(e, 400, "bad_request",
		    "%sseal: must be 1-63 characters of A-Z a-z 0-9 . _ -", path);
	memcpy(v->seal, seal, sn);
	v->seal[sn] = '\0';
	return sign_fields(it, path, v, e);
}

/*
 * An approval seals one document, and the items of a batch are sealed side by
 * side: two items naming the same approval would race for it, and which one
 * won would be chance. The batch is refused instead (at most 1000 items).
 */
static int
batch_approvals_once(const struct msg_sign *v, size_t cnt, struct req_err *e)
{
	for (size_t i = 1; i < cnt; i++) {
		if (v[i].approval[0] == '\0')
			continue;
		for (size_t k = 0; k < i; k++)
			if (strcmp(v[i].approval, v[k].approval) == 0)
				return fail(e, 400, "bad_request", "items[%zu].approval: %s is "
				    "already in items[%zu]; an approval seals one document", i,
				    v[i].approval, k);
	}
	return 0;
}

int
req_batch(const void *body, size_t len, unsigned batch_max, struct msg_sign **items,
    size_t *n, struct req_err *e)
{
	static const char *const keys[] = { "items", NULL };
	struct msg_sign *v = NULL;
	json_t *j, *arr;
	size_t cnt = 0, i;
	int rc;

	*items = NULL;
	*n = 0;
	if (load_object(body, len, &j, e) != 0)
		return SB_EINVAL;
	arr = json_object_get(j, "items");
	if ((rc = only_keys(j, keys, "", e)) != 0)
		goto out;
	if (arr == NULL || !json_is_array(arr)) {
		rc = fail(e, 400, "bad_request", "items: %s", arr ? "must be an array" : "missing");
		goto out;
	}
	cnt = json_array_size(arr);
	if (cnt == 0) {
		rc = fail(e, 400, "bad_request", "items: must not be empty");
		goto out;
	}
	if (cnt > batch_max) {
		rc = fail(e, 413, "too_large", "items: at most %u in one batch", batch_max);
		goto out;
	}
	if ((v = calloc(cnt, sizeof(*v))) == NULL) {
		rc = oom(e);
		goto out;
	}
	for (i = 0; i < cnt && rc == 0; i++)
		rc = batch_item(json_array_get(arr, i), i, &v[i], e);
	if (rc == 0)
		rc = batch_approvals_once(v, cnt, e);
out:
	json_decref(j);
	if (rc != 0) {
		req_sign_text_free(v, cnt);
		free(v);
		return rc;
	}
	*items = v;
	*n = cnt;
	return 0;
}

int
req_verify(const void *body, size_t len, struct msg_verify *v, uint8_t **cms, struct req_err *e)
{
	static const char *const keys[] = { "digest", "cms", NULL };
	json_t *j, *dig;
	const char *s;
	size_t sn, outlen = 0;
	uint8_t *buf = NULL;
	int rc, pad = 0;

	memset(v, 0, sizeof(*v));
	*cms = NULL;
	if (load_object(body, len, &j, e) != 0)
		return SB_EINVAL;
	dig = json_object_get(j, "digest");
	rc = only_keys(j, keys, "", e);
	if (rc == 0 && dig == NULL)
		rc = fail(e, 400, "bad_request", "digest: missing");
	if (rc == 0)
		rc = get_digest(dig, "", &v->md_nid, v->digest, &v->digest_len, e);
	if (rc == 0)
		rc = get_string(j, "cms", 1, "", &s, &sn, e);
	if (rc == 0 && (pad = b64_check(s, sn)) < 0)
		rc = fail(e, 400, "bad_request", "cms: %s",
		    sn == 0 ? "empty" : "not base64 (RFC 4648, with padding)");
	if (rc == 0 && sn / 4 * 3 - (size_t)pad > MSG_CMS_MAX)
		rc = fail(e, 400, "bad_request", "cms: longer than %d bytes", MSG_CMS_MAX);
	if (rc == 0 && (buf = malloc(sn / 4 * 3)) == NULL)
		rc = oom(e);
	if (rc == 0 && b64_decode(s, sn, pad, buf, &outlen, NULL) != 0)
		rc = fail(e, 400, "bad_request", "cms: not base64");
	json_decref(j);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*cms = buf;
	v->cms = buf;
	v->cms_len = outlen;
	return 0;
}

/* obj's key: a reason, 1..255 bytes of UTF-8 without controls, into dst. */
static int
get_reason(json_t *obj, char *dst, struct req_err *e)
{
	const char *s;
	size_t n;

	if (get_string(obj, "reason", 1, "", &s, &n, e) != 0)
		return SB_EINVAL;
	if (!req_document_name_ok(s, n))
		return fail(e, 400, "bad_request",
		    "reason: must be 1-255 bytes of UTF-8 without control characters");
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* A use request's document (digest and name): required for kind use,
 * refused for any other kind. */
static int
use_fields(json_t *j, struct msg_request_file *v, struct req_err *e)
{
	json_t *dig = json_object_get(j, "digest");
	const char *name;
	size_t nn;

	if (strcmp(v->kind, "use") != 0) {
		if (dig != NULL || json_object_get(j, "document_name") != NULL)
			return fail(e, 400, "bad_request", "digest, document_name: only for "
			    "kind use");
		return 0;
	}
	if (dig == NULL)
		return fail(e, 400, "bad_request", "digest: required for kind use (the "
		    "document to be sealed)");
	if (get_string(j, "document_name", 1, "", &name, &nn, e) != 0)
		return SB_EINVAL;
	if (!req_document_name_ok(name, nn))
		return fail(e, 400, "bad_request",
		    "document_name: 1-255 bytes of UTF-8 without control characters");
	memcpy(v->document_name, name, nn);
	v->document_name[nn] = '\0';
	return get_digest(dig, "", &v->md_nid, v->digest, &v->digest_len, e);
}

/*
 * The id field key that only kind takes (a transfer's unit, where the seal
 * goes; a revoke's principal, whose grant goes): required for it, refused
 * for any other kind; what into dst (MSG_ID_MAX).
 */
static int
kind_id_field(json_t *j, const char *kind, const char *key, const char *what,
    const char *v_kind, char *dst, struct req_err *e)
{
	const char *s;
	size_t n;

	if (strcmp(v_kind, kind) != 0)
		return json_object_get(j, key) == NULL ? 0 :
		    fail(e, 400, "bad_request", "%s: only for kind %s", key, kind);
	if (json_object_get(j, key) == NULL)
		return fail(e, 400, "bad_request", "%s: required for kind %s (%s)", key, kind,
		    what);
	if (get_string(j, key, 1, "", &s, &n, e) != 0)
		return SB_EINVAL;
	if (strcmp(key, "principal") == 0 ? !msg_principal_ok(s, n) : !req_seal_id_ok(s, n))
		return fail(e, 400, "bad_request", "%s: 1-63 characters of A-Z a-z 0-9 . _ -%s",
		    key, strcmp(key, "principal") == 0 ? " @" : "");
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int
req_request_file(const void *body, size_t len, struct msg_request_file *v, struct req_err *e)
{
	static const char *const keys[] = { "kind", "seal", "reason", "digest",
	    "document_name", "unit", "principal", NULL };
	const char *s;
	size_t n;
	json_t *j;
	int rc;

	memset(v, 0, sizeof(*v));
	if (load_object(body, len, &j, e) != 0)
		return SB_EINVAL;
	rc = only_keys(j, keys, "", e);
	if (rc == 0 && (rc = get_string(j, "kind", 1, "", &s, &n, e)) == 0) {
		if (word_ok(s, n))
			memcpy(v->kind, s, n);
		else
			rc = fail(e, 400, "bad_request", "kind: must be 1-15 letters a-z");
	}
	if (rc == 0 && (rc = get_string(j, "seal", 1, "", &s, &n, e)) == 0) {
		if (req_seal_id_ok(s, n))
			memcpy(v->seal, s, n);
		else
			rc = fail(e, 400, "bad_request",
			    "seal: must be 1-63 characters of A-Z a-z 0-9 . _ -");
	}
	if (rc == 0)
		rc = get_reason(j, v->reason, e);
	if (rc == 0)
		rc = use_fields(j, v, e);
	if (rc == 0)
		rc = kind_id_field(j, "transfer", "unit", "the unit the seal goes to", v->kind,
		    v->unit, e);
	if (rc == 0)
		rc = kind_id_field(j, "revoke", "principal", "whose grant on the seal goes",
		    v->kind, v->principal, e);
	json_decref(j);
	return rc == 0 ? 0 : SB_EINVAL;
}

int
req_request_reject(const void *body, size_t len, struct msg_request_act *v, struct req_err *e)
{
	static const char *const keys[] = { "reason", NULL };
	json_t *j;
	int rc;

	memset(v->reason, 0, sizeof(v->reason));
	if (load_object(body, len, &j, e) != 0)
		return SB_EINVAL;
	rc = only_keys(j, keys, "", e);
	if (rc == 0)
		rc = get_reason(j, v->reason, e);
	json_decref(j);
	return rc == 0 ? 0 : SB_EINVAL;
}

int
req_totp(const void *body, size_t len, int required, struct msg_totp *v, struct req_err *e)
{
	static const char *const keys[] = { "otp", NULL };
	const char *s = NULL;
	json_t *j;
	size_t n = 0;
	int rc;

	memset(v->otp, 0, sizeof(v->otp));
	if (len == 0 && !required)
		return 0;
	if (load_object(body, len, &j, e) != 0)
		return SB_EINVAL;
	rc = only_keys(j, keys, "", e);
	if (rc == 0)
		rc = get_string(j, "otp", required, "", &s, &n, e);
	if (rc == 0 && s != NULL && !chars_ok(s, n, 6, 8, "0123456789"))
		rc = fail(e, 400, "bad_request", "otp: 6-8 digits");
	if (rc == 0 && s != NULL)
		memcpy(v->otp, s, n + 1);
	json_decref(j);
	return rc == 0 ? 0 : SB_EINVAL;
}

int
req_request_approve(const void *body, size_t len, struct req_err *e)
{
	static const char *const keys[] = { NULL };
	json_t *j;
	int rc;

	if (len == 0)
		return 0;
	if (load_object(body, len, &j, e) != 0)
		return SB_EINVAL;
	rc = only_keys(j, keys, "", e);
	json_decref(j);
	return rc == 0 ? 0 : SB_EINVAL;
}

int
req_tsa(size_t len, struct req_err *e)
{
	if (len == 0)
		return fail(e, 400, "bad_request", "the body must be a DER TimeStampReq");
	if (len > MSG_TSQ_MAX)
		return fail(e, 413, "too_large", "a timestamp query is at most %d bytes",
		    MSG_TSQ_MAX);
	return 0;
}

/* ---- answers ------------------------------------------------------------ */

static int
code_ok(const char *c)
{
	if (*c == '\0')
		return 0;
	for (; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
			return 0;
	return 1;
}

int
req_sign_result_check(const struct msg_sign_result *r)
{
	if (r->status == 200)
		return (r->code[0] == '\0' && r->cms_len > 0 && r->seq <= (uint64_t)INT64_MAX) ?
		    0 : SB_EINVAL;
	if (r->status >= 400 && r->status <= 599 && code_ok(r->code))
		return 0;
	return SB_EINVAL;
}

static json_t *
b64_json(const uint8_t *p, size_t n)
{
	size_t cap = (n + 2) / 3 * 4 + 1;
	char *s;
	json_t *j;

	if (n > INT32_MAX / 2 || (s = malloc(cap)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	j = json_string_nocheck(s);
	free(s);
	return j;
}

/* s with invalid UTF-8 and controls replaced, as a JSON string. */
static json_t *
clean_string(const char *s)
{
	size_t n = strlen(s), i = 0, j = 0, k;
	uint32_t cp;
	char *out = malloc(n + 1);
	json_t *v;

	if (out == NULL)
		return NULL;
	while (i < n) {
		k = utf8_next((const uint8_t *)s + i, n - i, &cp);
		if (k == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			out[j++] = '?';
			i += k ? k : 1;
			continue;
		}
		memcpy(out + j, s + i, k);
		i += k;
		j += k;
	}
	v = json_stringn_nocheck(out, j);
	free(out);
	return v;
}

static json_t *
error_json(const char *code, const char *message)
{
	json_t *inner = json_object(), *outer = json_object();

	/* json_object_set_new takes its value even when it fails, and NULL fails. */
	if (inner == NULL || outer == NULL ||
	    json_object_set_new(inner, "code", json_string(code)) != 0 ||
	    json_object_set_new(inner, "message", clean_string(message)) != 0 ||
	    json_object_set_new(outer, "error", json_incref(inner)) != 0) {
		json_decref(inner);
		json_decref(outer);
		return NULL;
	}
	json_decref(inner);
	return outer;
}

json_t *
req_sign_result_json(const struct msg_sign_result *r, const char *seal)
{
	json_t *o;

	if (r->status != 200)
		return error_json(r->code, r->message);
	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "cms", b64_json(r->cms, r->cms_len)) != 0 ||
	    json_object_set_new(o, "seq", json_integer((json_int_t)r->seq)) != 0 ||
	    json_object_set_new(o, "leaf_hash", b64_json(r->leaf, sizeof(r->leaf))) != 0 ||
	    json_object_set_new(o, "seal", json_string(seal)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
req_reply_error_json(const struct msg_reply *r)
{
	json_t *j, *err, *code, *msg, *out = NULL;

	if (r->status < 400 || r->status > 599)
		return NULL;
	j = json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	err = json_object_get(j, "error");
	code = json_object_get(err, "code");
	msg = json_object_get(err, "message");
	/* Rebuilt, not passed on: only a clean code and message reach the client. */
	if (json_is_string(code) && code_ok(json_string_value(code)) && json_is_string(msg))
		out = error_json(json_string_value(code), json_string_value(msg));
	else
		out = error_json("internal", "the monitor gave an answer the net worker cannot read");
	json_decref(j);
	return out;
}

char *
req_json_text(const json_t *j, size_t *len)
{
	char *s = json_dumps(j, JSON_COMPACT);

	if (s != NULL)
		*len = strlen(s);
	return s;
}

char *
req_error_body(const char *code, const char *message, size_t *len)
{
	json_t *j = error_json(code, message);
	char *s;

	if (j == NULL)
		return NULL;
	s = req_json_text(j, len);
	json_decref(j);
	return s;
}
