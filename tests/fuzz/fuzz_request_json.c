/*
 * fuzz_request_json: the net worker's request validation (daemon/net/req.c)
 * over arbitrary bytes. The first byte picks what the rest is: a sign body,
 * a batch body, a verify body, a ledger query string, a path, a
 * Content-Type value, a request's body (file, reject, approve), the
 * requests list's query string or sign-pdf's options header.
 *
 * Properties: no crash, no leak, no undefined behaviour; a refusal always
 * carries a 4xx status and a code, and its error body builds; an accepted
 * body gives messages that keep the rules the monitor relies on (a seal id of
 * [A-Za-z0-9._-]{1,63}, a document name of valid UTF-8, a digest whose length
 * matches its algorithm, an on_behalf_of that is empty or a principal name,
 * the rest of the identity left to the TLS layer, a batch within its bound)
 * and that survive their msg encode/decode round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/obj_mac.h>

#include "daemon/msg.h"
#include "daemon/net/req.h"
#include "lib/err.h"

#define FUZZ_BATCH_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
refused(const struct req_err *e)
{
	size_t len;
	char *body;

	/* 500 only for running out of memory. */
	if (e->code == NULL || e->status < 400 || e->status > 500 ||
	    (e->status == 500 && strcmp(e->code, "internal") != 0))
		abort();
	if ((body = req_error_body(e->code, e->message, &len)) == NULL || len == 0)
		abort();
	free(body);
}

static void
check_sign(const struct msg_sign *v)
{
	size_t want = v->md_nid == NID_sha256 ? 32 : v->md_nid == NID_sha384 ? 48 :
	    v->md_nid == NID_sha512 ? 64 : 0;
	struct msg_sign d;
	struct ipc_msg m;

	static const uint8_t zero[32];

	if (want == 0 || v->digest_len != want ||
	    !req_seal_id_ok(v->seal, strlen(v->seal)) ||
	    !req_document_name_ok(v->document_name, strlen(v->document_name)))
		abort();
	if (v->who.on_behalf_of[0] != '\0' &&
	    !msg_principal_ok(v->who.on_behalf_of, strlen(v->who.on_behalf_of)))
		abort();
	if (v->who.subject[0] != '\0' || memcmp(v->who.cert_sha256, zero, sizeof(zero)) != 0)
		abort();	/* only the TLS layer says who is asking */
	if (msg_sign_enc(&m, 1, v) != 0)
		abort();
	if (msg_sign_dec(&m, &d) != 0 || d.digest_len != v->digest_len ||
	    memcmp(d.digest, v->digest, want) != 0 || strcmp(d.document_name, v->document_name) != 0 ||
	    strcmp(d.who.on_behalf_of, v->who.on_behalf_of) != 0)
		abort();
	/* A text/plain document's text: bounded, and carried whole. */
	if ((v->text == NULL) != (d.text == NULL) || d.text_len != v->text_len ||
	    v->text_len > MSG_SIGN_TEXT_MAX ||
	    (v->text_len > 0 && memcmp(d.text, v->text, v->text_len) != 0))
		abort();
	ipc_msg_free(&m);
}

static void
fuzz_sign(const uint8_t *p, size_t n)
{
	struct msg_sign v;
	struct req_err e = { 0 };

	if (req_sign(p, n, "demo", &v, &e) == 0) {
		check_sign(&v);
		req_sign_text_free(&v, 1);
	} else {
		refused(&e);
	}
}

static void
fuzz_batch(const uint8_t *p, size_t n)
{
	struct msg_sign *items;
	struct req_err e = { 0 };
	size_t cnt;

	if (req_batch(p, n, FUZZ_BATCH_MAX, &items, &cnt, &e) != 0) {
		refused(&e);
		return;
	}
	if (cnt < 1 || cnt > FUZZ_BATCH_MAX)
		abort();
	for (size_t i = 0; i < cnt; i++)
		check_sign(&items[i]);
	req_sign_text_free(items, cnt);
	free(items);
}

static void
fuzz_verify(const uint8_t *p, size_t n)
{
	struct msg_verify v, d;
	struct req_err e = { 0 };
	struct ipc_msg m;
	uint8_t *cms;

	if (req_verify(p, n, &v, &cms, &e) != 0) {
		refused(&e);
		return;
	}
	if (v.cms != cms || v.cms_len < 1 || v.cms_len > MSG_CMS_MAX)
		abort();
	if (msg_verify_enc(&m, 1, &v) != 0 || msg_verify_dec(&m, &d) != 0 ||
	    d.cms_len != v.cms_len || memcmp(d.cms, cms, v.cms_len) != 0)
		abort();
	ipc_msg_free(&m);
	free(cms);
}

/* The rest as a NUL-terminated string (queries, paths and headers are). */
static char *
cstr(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void
fuzz_query(int which, const uint8_t *p, size_t n)
{
	char *q = cstr(p, n);
	struct msg_ledger_entries le;
	struct msg_proof pr;
	struct req_err e = { 0 };
	int rc;

	switch (which) {
	case 0:
		rc = req_query_entries(q, &le, &e);
		if (rc == 0 && (le.count < 1 || le.count > REQ_ENTRIES_MAX))
			abort();
		break;
	case 1:
		rc = req_query_inclusion(q, &pr, &e);
		break;
	case 2:
		rc = req_query_consistency(q, &pr, &e);
		break;
	default:
		rc = req_query_none(q, &e);
		break;
	}
	if (rc != 0)
		refused(&e);
	free(q);
}

static void
fuzz_path(uint8_t sel, const uint8_t *p, size_t n)
{
	char *path = cstr(p, n);
	struct req_route r;
	struct req_err e = { 0 };
	enum req_method m = (sel & 1) ? REQ_POST : (sel & 2) ? REQ_OTHER : REQ_GET;

	if (req_route(path, m, &r, &e) == 0) {
		if ((r.method & m) == 0)
			abort();	/* r.method: every method of the path */
		if ((r.id == REQ_SEAL || r.id == REQ_SIGN) && !req_seal_id_ok(r.seal, strlen(r.seal)))
			abort();
	} else {
		refused(&e);
	}
	free(path);
}

/* Bodies and the query of the requests' routes. */
static void
fuzz_requests(int which, const uint8_t *p, size_t n)
{
	struct msg_request_file f, fd;
	struct msg_request_act a = { 0 }, ad;
	struct msg_requests_list l = { 0 }, ld;
	struct req_err e = { 0 };
	struct ipc_msg m;
	char *q;
	int rc;

	switch (which) {
	case 0:
		if ((rc = req_request_file(p, n, &f, &e)) != 0)
			break;
		if (!req_seal_id_ok(f.seal, strlen(f.seal)) || f.kind[0] == '\0' ||
		    !req_document_name_ok(f.reason, strlen(f.reason)) ||
		    (strcmp(f.kind, "transfer") == 0) != (f.unit[0] != '\0') ||
		    (strcmp(f.kind, "revoke") == 0) != (f.principal[0] != '\0') ||
		    (f.unit[0] != '\0' && !req_seal_id_ok(f.unit, strlen(f.unit))) ||
		    (f.principal[0] != '\0' && !msg_principal_ok(f.principal, strlen(f.principal))))
			abort();
		if (msg_request_file_enc(&m, 1, &f) != 0 || msg_request_file_dec(&m, &fd) != 0 ||
		    strcmp(fd.reason, f.reason) != 0 || strcmp(fd.kind, f.kind) != 0 ||
		    strcmp(fd.unit, f.unit) != 0 || strcmp(fd.principal, f.principal) != 0)
			abort();
		ipc_msg_free(&m);
		break;
	case 1:
		if ((rc = req_request_reject(p, n, &a, &e)) != 0)
			break;
		if (!req_document_name_ok(a.reason, strlen(a.reason)))
			abort();
		if (msg_request_act_enc(&m, MSG_REQUEST_REJECT, 1, &a) != 0 ||
		    msg_request_act_dec(&m, &ad) != 0 || strcmp(ad.reason, a.reason) != 0)
			abort();
		ipc_msg_free(&m);
		break;
	case 2:
		rc = req_request_approve(p, n, &e);
		break;
	default:
		q = cstr(p, n);
		rc = req_query_requests(q, &l, &e);
		free(q);
		if (rc != 0)
			break;
		if (msg_requests_list_enc(&m, 1, &l) != 0 || msg_requests_list_dec(&m, &ld) != 0 ||
		    strcmp(ld.state, l.state) != 0 || strcmp(ld.kind, l.kind) != 0)
			abort();
		ipc_msg_free(&m);
		break;
	}
	if (rc != 0)
		refused(&e);
}

/* The Sealbox-Options header of sign-pdf: bounded placement, a PAdES message. */
static void
fuzz_pdf_opts(const uint8_t *p, size_t n)
{
	char *h = cstr(p, n);
	struct req_err e = { 0 };
	struct msg_sign v, d;
	struct req_pdf pl;
	struct ipc_msg m;

	if (req_sign_pdf(h, "demo", &v, &pl, &e) != 0) {
		refused(&e);
		free(h);
		return;
	}
	if (v.profile != MSG_PROFILE_PADES || pl.page < 1 || pl.x < 0 || pl.y < 0 ||
	    pl.w < 1 || pl.x > REQ_PDF_COORD_MAX || pl.y > REQ_PDF_COORD_MAX ||
	    pl.w > REQ_PDF_COORD_MAX || pl.h > REQ_PDF_COORD_MAX ||
	    !req_document_name_ok(v.document_name, strlen(v.document_name)) ||
	    (v.pdf.reason[0] != '\0' && !req_document_name_ok(v.pdf.reason, strlen(v.pdf.reason))))
		abort();
	v.md_nid = NID_sha256;
	v.digest_len = 32;
	if (msg_sign_enc(&m, 1, &v) != 0 || msg_sign_dec(&m, &d) != 0 ||
	    d.profile != MSG_PROFILE_PADES || d.pdf.x != v.pdf.x || d.pdf.page != v.pdf.page ||
	    strcmp(d.pdf.reason, v.pdf.reason) != 0)
		abort();
	ipc_msg_free(&m);
	free(h);
}

static void
fuzz_ctype(const uint8_t *p, size_t n)
{
	char *h = cstr(p, n);
	struct req_err e = { 0 };

	if (req_content_type(h, "application/json", &e) != 0)
		refused(&e);
	free(h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	switch (sel % 10) {
	case 0: fuzz_sign(data, size); break;
	case 1: fuzz_batch(data, size); break;
	case 2: fuzz_verify(data, size); break;
	case 3: case 4: case 5: case 6: fuzz_query(sel % 10 - 3, data, size); break;
	case 7: case 8: fuzz_path(sel / 10, data, size); break;
	default:	/* 9: a Content-Type; 19, 29, 39, 49: the requests' inputs;
			 * 59: sign-pdf's options header */
		if ((sel / 10) % 6 == 0)
			fuzz_ctype(data, size);
		else if ((sel / 10) % 6 == 5)
			fuzz_pdf_opts(data, size);
		else
			fuzz_requests((sel / 10) % 6 - 1, data, size);
		break;
	}
	return 0;
}
