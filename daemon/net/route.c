/*
 * route — one HTTP request in, one typed message per item to the monitor,
 * and the monitor's answers back out as HTTP. Everything the net worker can
 * refuse by itself (paths, methods, media types, JSON, limits) is refused
 * here without bothering the monitor.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../msg.h"
#include "net_int.h"
#include "pdfjob.h"
#include "pdftext.h"
#include "req.h"
#include "tls.h"

enum job_kind {
	JOB_REPLY,	/* one MSG_REPLY, passed through */
	JOB_SIGN,	/* one MSG_SIGN_RESULT, as JSON */
	JOB_BATCH,	/* n MSG_SIGN_RESULTs, as {"results": [...]} */
	JOB_PDF,	/* MSG_SEAL_IMAGE, MSG_SIGN, MSG_PDF_SEALED in turn: a sealed PDF */
};

struct job_item {
	char seal[MSG_ID_MAX];
	int status;
	json_t *result;
};

/* A request waiting for the monitor. Lives until its last answer is in. */
struct job {
	struct net *net;
	struct evhttp_request *req;	/* NULL once the client is gone */
	struct conn *conn;		/* NULL once the client is gone */
	struct job *prev, *next;	/* net->jobs */
	enum job_kind kind;
	int failed;			/* sending an item failed: answer 500 */
	struct pdfjob *pdf;		/* JOB_PDF's document and state */
	uint64_t pdf_seq;		/* JOB_PDF: the sign entry's sequence number */
	size_t n, left;
	struct job_item items[];
};

static const char *
route_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return NULL;	/* libevent's own phrase */
	}
}

static void
route_send(struct evhttp_request *req, int status, const char *ctype, const void *body,
    size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (len > 0 && evbuffer_add(out, body, len) != 0) {
		log_err("net: out of memory for a reply");
		evbuffer_drain(out, evbuffer_get_length(out));
		status = 500;
	}
	evhttp_send_reply(req, status, route_reason(status), NULL);
}

static void
route_error(struct evhttp_request *req, int status, const char *code, const char *message)
{
	size_t len = 0;
	char *body = req_error_body(code, message, &len);

	if (body == NULL) {
		static const char oom[] =
		    "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";

		route_send(req, 500, "application/json", oom, sizeof(oom) - 1);
		return;
	}
	route_send(req, status, "application/json", body, len);
	free(body);
}

static void
route_req_error(struct evhttp_request *req, const struct req_err *e)
{
	route_error(req, e->status, e->code, e->message);
}

/* ---- jobs --------------------------------------------------------------- */

static struct job *
job_new(struct net *n, struct conn *c, struct evhttp_request *req, enum job_kind kind,
    size_t items)
{
	struct job *j = calloc(1, sizeof(*j) + items * sizeof(j->items[0]));

	if (j == NULL)
		return NULL;
	j->net = n;
	j->req = req;
	j->conn = c;
	j->kind = kind;
	j->n = items;
	j->next = n->jobs;
	if (n->jobs != NULL)
		n->jobs->prev = j;
	n->jobs = j;
	c->job = j;
	return j;
}

static void
job_free(struct job *j)
{
	if (j->conn != NULL && j->conn->job == j)
		j->conn->job = NULL;
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		j->net->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	for (size_t i = 0; i < j->n; i++)
		json_decref(j->items[i].result);
	if (j->pdf != NULL)
		j->net->pdf_jobs--;
	pdfjob_free(j->pdf);
	free(j);
}

void
route_orphan(struct job *j)
{
	j->req = NULL;
	if (j->conn != NULL && j->conn->job == j)
		j->conn->job = NULL;
	j->conn = NULL;
}

void
route_free_all(struct net *n)
{
	while (n->jobs != NULL)
		job_free(n->jobs);
}

/* Detach the request from the job before answering: the job is done with it. */
static struct evhttp_request *
job_take_req(struct job *j)
{
	struct evhttp_request *req = j->req;

	if (j->conn != NULL && j->conn->job == j)
		j->conn->job = NULL;
	j->req = NULL;
	j->conn = NULL;
	return req;
}

static void
job_send_json(struct evhttp_request *req, int status, const json_t *body)
{
	size_t len = 0;
	char *text = body ? req_json_text(body, &len) : NULL;

	if (text == NULL) {
		route_error(req, 500, "internal", "out of memory in the net worker");
		return;
	}
	route_send(req, status, "application/json", text, len);
	free(text);
}

static void
job_finish_sign(struct job *j)
{
	struct evhttp_request *req = job_take_req(j);
	json_t *arr, *o;

	if (req == NULL)
		return;	/* the client went away: drop */
	if (j->failed) {
		route_error(req, 500, "internal", "the net worker could not queue every item");
		return;
	}
	if (j->kind == JOB_SIGN) {
		job_send_json(req, j->items[0].status, j->items[0].result);
		return;
	}
	arr = json_array();
	o = json_object();
	for (size_t i = 0; arr != NULL && i < j->n; i++)
		if (json_array_append(arr, j->items[i].result) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	if (o != NULL && json_object_set_new(o, "results", arr) != 0) {
		json_decref(o);
		o = NULL;
	}
	job_send_json(req, 200, o);
	json_decref(o);
}

/* A content type we may put in a header: a short printable token, no CR/LF. */
static int
ctype_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

static int
job_on_reply(struct job *j, struct ipc_msg *m)
{
	struct evhttp_request *req;
	struct msg_reply r;

	if (m->type != MSG_REPLY || msg_reply_dec(m, &r) != 0 || !ctype_ok(r.content_type))
		return -1;
	if ((req = job_take_req(j)) != NULL)
		route_send(req, r.status, r.content_type, r.body, r.body_len);
	job_free(j);
	return 0;
}

/*
 * One item's answer. The monitor answers a MSG_SIGN with a MSG_SIGN_RESULT,
 * or, when it could not even try (its queue is full, a handler failed), with
 * an error MSG_REPLY: both are fine, anything else means it is broken.
 */
static int
job_item_answer(struct job *j, struct job_item *it, struct ipc_msg *m)
{
	struct msg_sign_result r;
	struct msg_reply rep;

	if (m->type == MSG_REPLY) {
		if (msg_reply_dec(m, &rep) != 0 || rep.status < 400)
			return -1;
		it->status = rep.status;
		if (j->req != NULL && (it->result = req_reply_error_json(&rep)) == NULL)
			j->failed = 1;
		return 0;
	}
	if (m->type != MSG_SIGN_RESULT || msg_sign_result_dec(m, &r) != 0 ||
	    req_sign_result_check(&r) != 0)
		return -1;
	it->status = r.status;
	if (j->req != NULL && (it->result = req_sign_result_json(&r, it->seal)) == NULL)
		j->failed = 1;
	return 0;
}

static int
job_on_sign_result(struct job *j, size_t tag, struct ipc_msg *m)
{
	struct job_item *it;

	if (tag >= j->n || j->left == 0)
		return -1;
	it = &j->items[tag];
	if (it->status != 0 || job_item_answer(j, it, m) != 0)
		return -1;	/* a second answer for one item, or a malformed one */
	if (--j->left == 0) {
		job_finish_sign(j);
		job_free(j);
	}
	return 0;
}

static int job_cb(void *arg, size_t tag, struct ipc_msg *m);

/* ---- PDF sealing: three messages in turn (daemon/net/pdfjob.h) ------------ */

enum { PDF_IMAGE, PDF_SIGN, PDF_SEALED };

/* The job's next message to the monitor; 0, or the job was answered and freed. */
static int
pdf_next(struct job *j, struct ipc_msg *m, int rc, size_t step)
{
	struct evhttp_request *req;

	if (rc == 0 && mlink_room(j->net->link) == 0)
		rc = SB_ELIMIT;
	if (rc == 0)
		rc = mlink_send(j->net->link, m, job_cb, j, step);
	ipc_msg_free(m);
	if (rc == 0)
		return 0;
	if ((req = job_take_req(j)) != NULL) {
		if (rc == SB_ELIMIT)
			route_error(req, 503, "busy", "the request queue is full; retry later");
		else
			route_error(req, 500, "internal", "the net worker could not queue the request");
	}
	job_free(j);
	return 0;
}

/* Answer the client with err (a refusal of ours) and end the job. */
static int
pdf_refuse(struct job *j, const struct req_err *e)
{
	struct evhttp_request *req = job_take_req(j);

	if (req != NULL)
		route_req_error(req, e);
	job_free(j);
	return 0;
}

/* The monitor's MSG_REPLY for a step: pass a refusal on; 1 if it was one. */
static int
pdf_reply_refused(struct job *j, const struct msg_reply *r)
{
	struct evhttp_request *req;

	if (r->status == 200)
		return 0;
	if ((req = job_take_req(j)) != NULL)
		route_send(req, r->status, r->content_type, r->body, r->body_len);
	job_free(j);
	return 1;
}

static int
pdf_on_image(struct job *j, struct ipc_msg *m)
{
	struct req_err e;
	struct msg_reply r;
	struct ipc_msg out;

	if (m->type != MSG_REPLY || msg_reply_dec(m, &r) != 0 || !ctype_ok(r.content_type))
		return -1;
	if (pdf_reply_refused(j, &r))
		return 0;
	if (j->req == NULL) {		/* the client went away: stop here */
		job_free(j);
		return 0;
	}
	if (pdfjob_prepare(j->pdf, r.body, r.body_len, &e) != 0)
		return pdf_refuse(j, &e);
	return pdf_next(j, &out, msg_sign_enc(&out, mlink_next_id(j->net->link),
	    pdfjob_sign_msg(j->pdf)), PDF_SIGN);
}

static int
pdf_on_sign(struct job *j, struct ipc_msg *m)
{
	struct msg_pdf_sealed s = { .who = pdfjob_sign_msg(j->pdf)->who };
	struct msg_sign_result r;
	struct msg_reply rep;
	struct evhttp_request *req;
	struct req_err e;
	struct ipc_msg out;
	json_t *body;

	if (m->type == MSG_REPLY) {
		if (msg_reply_dec(m, &rep) != 0 || rep.status < 400 || !ctype_ok(rep.content_type))
			return -1;
		(void)pdf_reply_refused(j, &rep);
		return 0;
	}
	if (m->type != MSG_SIGN_RESULT || msg_sign_result_dec(m, &r) != 0 ||
	    req_sign_result_check(&r) != 0)
		return -1;
	if (r.status != 200) {
		if ((req = job_take_req(j)) != NULL) {
			body = req_sign_result_json(&r, pdfjob_sign_msg(j->pdf)->seal);
			job_send_json(req, r.status, body);
			json_decref(body);
		}
		job_free(j);
		return 0;
	}
	if (j->req == NULL) {		/* sealed and ledgered, but nobody to give it to */
		job_free(j);
		return 0;
	}
	j->pdf_seq = r.seq;
	if (pdfjob_splice(j->pdf, &r, &s, &e) != 0)
		return pdf_refuse(j, &e);
	return pdf_next(j, &out, msg_pdf_sealed_enc(&out, mlink_next_id(j->net->link), &s),
	    PDF_SEALED);
}

static int
pdf_on_sealed(struct job *j, struct ipc_msg *m)
{
	struct evhttp_request *req;
	struct msg_reply r;
	const uint8_t *pdf;
	char seq[24];
	size_t len = 0;

	if (m->type != MSG_REPLY || msg_reply_dec(m, &r) != 0 || !ctype_ok(r.content_type))
		return -1;
	if (pdf_reply_refused(j, &r))
		return 0;
	if ((req = job_take_req(j)) != NULL && (pdf = pdfjob_output(j->pdf, &len)) != NULL) {
		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)j->pdf_seq);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Sealbox-Ledger-Seq", seq);
		route_send(req, 200, "application/pdf", pdf, len);
	}
	job_free(j);
	return 0;
}

static int
job_on_pdf(struct job *j, size_t tag, struct ipc_msg *m)
{
	switch (tag) {
	case PDF_IMAGE: return pdf_on_image(j, m);
	case PDF_SIGN: return pdf_on_sign(j, m);
	case PDF_SEALED: return pdf_on_sealed(j, m);
	default: return -1;
	}
}

/* mlink callback: the monitor answered one message of a job. */
static int
job_cb(void *arg, size_t tag, struct ipc_msg *m)
{
	struct job *j = arg;

	if (j->kind == JOB_REPLY)
		return job_on_reply(j, m);
	if (j->kind == JOB_PDF)
		return job_on_pdf(j, tag, m);
	return job_on_sign_result(j, tag, m);
}

/*
 * Send m as the only message of a new JOB_REPLY job. The message is freed
 * here in every case.
 */
static void
route_forward(struct net *n, struct conn *c, struct evhttp_request *req, struct ipc_msg *m,
    int rc)
{
	struct job *j = NULL;

	if (rc == 0 && mlink_room(n->link) == 0)
		rc = SB_ELIMIT;
	if (rc == 0 && (j = job_new(n, c, req, JOB_REPLY, 0)) == NULL)
		rc = SB_ENOMEM;
	if (rc == 0)
		rc = mlink_send(n->link, m, job_cb, j, 0);
	if (rc == 0)
		j->left = 1;
	ipc_msg_free(m);
	if (rc == 0)
		return;
	if (j != NULL)
		job_free(j);
	if (rc == SB_ELIMIT)
		route_error(req, 503, "busy", "the request queue is full; retry later");
	else
		route_error(req, 500, "internal", "the net worker could not queue the request");
}

/* Send one MSG_SIGN per item; the job answers when the last result is in. */
static void
route_sign_items(struct net *n, struct conn *c, struct evhttp_request *req,
    struct msg_sign *items, size_t cnt, enum job_kind kind)
{
	struct job *j;
	size_t i;

	if (mlink_room(n->link) < cnt) {
		route_error(req, 503, "busy", "the request queue is full; retry later");
		return;
	}
	if ((j = job_new(n, c, req, kind, cnt)) == NULL) {
		route_error(req, 500, "internal", "out of memory in the net worker");
		return;
	}
	for (i = 0; i < cnt; i++) {
		struct ipc_msg m;
		int rc;

		memcpy(j->items[i].seal, items[i].seal, sizeof(j->items[i].seal));
		rc = msg_sign_enc(&m, mlink_next_id(n->link), &items[i]);
		if (rc == 0) {
			rc = mlink_send(n->link, &m, job_cb, j, i);
			ipc_msg_free(&m);
		}
		if (rc != 0) {
			log_err("net: queueing sign item %zu: %s", i, sb_strerror(rc));
			j->failed = 1;
			break;
		}
		j->left++;
	}
	if (j->left == 0) {
		job_finish_sign(j);	/* nothing went out: answer now */
		job_free(j);
	}
}

/* ---- handlers ----------------------------------------------------------- */

struct route_ctx {
	struct net *n;
	struct conn *c;
	struct evhttp_request *req;
	struct req_route r;
	const char *query;
	struct msg_ident who;
	const uint8_t *body;
	size_t body_len;
};

/* Checked on every request; computed once per connection. */
static int
route_ident(struct route_ctx *x)
{
	struct conn *c = x->c;
	const char *why = "";
	X509 *cert;

	if (tls_peer_cert(c->ssl, &cert, &why) != 0) {
		route_error(x->req, 403, "unknown_principal", why);
		return -1;
	}
	if (cert != c->who_cert) {
		c->who_cert = NULL;
		if (tls_cert_ident(cert, &c->who) != 0) {
			route_error(x->req, 500, "internal", "cannot fingerprint the client certificate");
			return -1;
		}
		c->who_cert = cert;
	}
	x->who = c->who;
	return 0;
}

/* The body as one contiguous block (evhttp bounded it by http.max_body). */
static int
route_body(struct route_ctx *x, const char *ctype)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(x->req);
	struct req_err e;

	if (req_content_type(evhttp_find_header(evhttp_request_get_input_headers(x->req),
	    "Content-Type"), ctype, &e) != 0) {
		route_req_error(x->req, &e);
		return -1;
	}
	x->body_len = evbuffer_get_length(in);
	/* evhttp bounds bodies by the larger of http.max_body and pdf.max_size. */
	if (strcmp(ctype, "application/pdf") != 0 && x->body_len > x->n->cfg->http.max_body) {
		route_error(x->req, 413, "too_large", "the body is larger than http.max_body");
		return -1;
	}
	x->body = x->body_len ? evbuffer_pullup(in, -1) : (const uint8_t *)"";
	if (x->body == NULL) {
		route_error(x->req, 500, "internal", "out of memory in the net worker");
		return -1;
	}
	return 0;
}

static void
route_health(struct route_ctx *x)
{
	struct ipc_msg m;

	ipc_msg_init(&m, MSG_HEALTH, mlink_next_id(x->n->link));
	route_forward(x->n, x->c, x->req, &m, 0);
}

static void
route_ident_only(struct route_ctx *x, uint16_t type)
{
	struct msg_ident_only v = { .who = x->who };
	struct ipc_msg m;
	int rc = msg_ident_only_enc(&m, type, mlink_next_id(x->n->link), &v);

	route_forward(x->n, x->c, x->req, &m, rc);
}

static void
route_seal_get(struct route_ctx *x)
{
	struct msg_seal_get v = { .who = x->who };
	struct ipc_msg m;
	int rc;

	memcpy(v.seal, x->r.seal, sizeof(v.seal));
	rc = msg_seal_get_enc(&m, mlink_next_id(x->n->link), &v);
	route_forward(x->n, x->c, x->req, &m, rc);
}

/* The TLS identity into a sign message; its on_behalf_of came with the body. */
static void
route_sign_who(struct msg_sign *v, const struct msg_ident *tls)
{
	memcpy(v->who.cert_sha256, tls->cert_sha256, sizeof(v->who.cert_sha256));
	memcpy(v->who.subject, tls->subject, sizeof(v->who.subject));
}

static void
route_sign(struct route_ctx *x)
{
	struct msg_sign v;
	struct req_err e;

	if (route_body(x, "application/json") != 0)
		return;
	if (req_sign(x->body, x->body_len, x->r.seal, &v, &e) != 0) {
		route_req_error(x->req, &e);
		return;
	}
	route_sign_who(&v, &x->who);
	route_sign_items(x->n, x->c, x->req, &v, 1, JOB_SIGN);
	req_sign_text_free(&v, 1);	/* encoded into the message, or refused */
}

/*
 * The text helper's answer: the text and placement into the job, then the
 * first of its three messages to the monitor. The job may be orphaned.
 */
static void
pdf_on_text(void *arg, const struct pdftext_result *r)
{
	struct job *j = arg;
	struct msg_seal_get v;
	struct req_err e;
	struct ipc_msg m;
	const struct msg_sign *s = pdfjob_sign_msg(j->pdf);

	if (j->req == NULL) {		/* the client went away */
		job_free(j);
		return;
	}
	if (pdfjob_text(j->pdf, r, &e) != 0) {
		(void)pdf_refuse(j, &e);
		return;
	}
	memset(&v, 0, sizeof(v));
	v.who = s->who;			/* with the person it acts for, if any */
	memcpy(v.seal, s->seal, sizeof(v.seal));
	(void)pdf_next(j, &m, msg_seal_image_enc(&m, mlink_next_id(j->net->link), &v), PDF_IMAGE);
}

/* POST /v1/seals/{seal}/sign-pdf: the PDF to the text helper (pdf_on_text). */
static void
route_sign_pdf(struct route_ctx *x)
{
	const uint8_t *in;
	struct pdfjob *pj;
	struct req_err e;
	struct job *j;
	size_t len;
	int rc;

	if (route_body(x, "application/pdf") != 0)
		return;
	if (x->n->pdf_jobs >= NET_PDF_JOBS_MAX) {
		route_error(x->req, 503, "busy", "too many PDFs are being sealed; retry later");
		return;
	}
	if (pdfjob_new(x->n->cfg, x->body, x->body_len, evhttp_find_header(
	    evhttp_request_get_input_headers(x->req), "Sealbox-Options"), x->r.seal, &pj,
	    &e) != 0) {
		route_req_error(x->req, &e);
		return;
	}
	route_sign_who(pdfjob_sign_msg(pj), &x->who);
	if ((j = job_new(x->n, x->c, x->req, JOB_PDF, 0)) == NULL) {
		pdfjob_free(pj);
		route_error(x->req, 500, "internal", "out of memory in the net worker");
		return;
	}
	j->pdf = pj;
	x->n->pdf_jobs++;
	in = pdfjob_input(pj, &len);
	if ((rc = pdftext_submit(x->n->text, in, len, pdf_on_text, j)) != 0) {
		route_error(x->req, rc == SB_ELIMIT ? 503 : 500, rc == SB_ELIMIT ? "busy" :
		    "internal", rc == SB_ELIMIT ? "too many PDFs are being read; retry later" :
		    "the net worker could not hand the PDF to its text reader");
		job_free(j);
	}
}

static void
route_batch(struct route_ctx *x)
{
	struct msg_sign *items;
	struct req_err e;
	size_t cnt;

	if (route_body(x, "application/json") != 0)
		return;
	if (req_batch(x->body, x->body_len, x->n->cfg->sign.batch_max, &items, &cnt, &e) != 0) {
		route_req_error(x->req, &e);
		return;
	}
	for (size_t i = 0; i < cnt; i++)
		route_sign_who(&items[i], &x->who);
	route_sign_items(x->n, x->c, x->req, items, cnt, JOB_BATCH);
	req_sign_text_free(items, cnt);
	free(items);
}

static void
route_verify(struct route_ctx *x)
{
	struct msg_verify v;
	struct req_err e;
	struct ipc_msg m;
	uint8_t *cms;
	int rc;

	if (route_body(x, "application/json") != 0)
		return;
	if (req_verify(x->body, x->body_len, &v, &cms, &e) != 0) {
		route_req_error(x->req, &e);
		return;
	}
	v.who = x->who;
	rc = msg_verify_enc(&m, mlink_next_id(x->n->link), &v);
	free(cms);
	route_forward(x->n, x->c, x->req, &m, rc);
}

static void
route_tsa(struct route_ctx *x)
{
	struct msg_tsa v = { .who = x->who };
	struct req_err e;
	struct ipc_msg m;
	int rc;

	if (route_body(x, "application/timestamp-query") != 0)
		return;
	if (req_tsa(x->body_len, &e) != 0) {
		route_req_error(x->req, &e);
		return;
	}
	v.query = x->body;
	v.query_len = x->body_len;
	rc = msg_tsa_enc(&m, mlink_next_id(x->n->link), &v);
	route_forward(x->n, x->c, x->req, &m, rc);
}

/* The ledger query parameters into their message; 0 or SB_EINVAL with e filled. */
static int
route_ledger_msg(struct route_ctx *x, uint32_t id, struct ipc_msg *m, int *enc,
    struct req_err *e)
{
	struct msg_ledger_entries le = { .who = x->who };
	struct msg_proof pr = { .who = x->who };
	struct msg_evidence ev = { .who = x->who };

	switch (x->r.id) {
	case REQ_ENTRIES:
		if (req_query_entries(x->query, &le, e) != 0)
			return SB_EINVAL;
		*enc = msg_ledger_entries_enc(m, id, &le);
		return 0;
	case REQ_INCLUSION:
		if (req_query_inclusion(x->query, &pr, e) != 0)
			return SB_EINVAL;
		*enc = msg_proof_enc(m, MSG_PROOF_INCLUSION, id, &pr);
		return 0;
	case REQ_CONSISTENCY:
		if (req_query_consistency(x->query, &pr, e) != 0)
			return SB_EINVAL;
		*enc = msg_proof_enc(m, MSG_PROOF_CONSISTENCY, id, &pr);
		return 0;
	default:	/* REQ_EVIDENCE: the sequence number came with the path */
		ev.seq = x->r.seq;
		*enc = msg_evidence_enc(m, id, &ev);
		return 0;
	}
}

static void
route_ledger(struct route_ctx *x)
{
	struct req_err e;
	struct ipc_msg m;
	int enc = 0;

	if (route_ledger_msg(x, mlink_next_id(x->n->link), &m, &enc, &e) != 0) {
		route_req_error(x->req, &e);
		return;
	}
	route_forward(x->n, x->c, x->req, &m, enc);
}

/* The requests' routes (docs/API.md, "Requests"): each into its message. */
static void
route_requests(struct route_ctx *x)
{
	struct msg_request_file f;
	struct msg_requests_list l = { .who = x->who };
	struct msg_request_act a = { .who = x->who, .request = x->r.seq };
	uint32_t id = mlink_next_id(x->n->link);
	struct req_err e;
	struct ipc_msg m;
	int rc = 0;

	switch (x->r.id) {
	case REQ_REQUESTS:
		if (req_query_requests(x->query, &l, &e) != 0)
			goto bad;
		rc = msg_requests_list_enc(&m, id, &l);
		break;
	case REQ_REQUEST:
		rc = msg_request_act_enc(&m, MSG_REQUEST_GET, id, &a);
		break;
	case REQ_REQUEST_APPROVE:
		/* No body needed: then no Content-Type either. */
		if (evbuffer_get_length(evhttp_request_get_input_buffer(x->req)) != 0 &&
		    route_body(x, "application/json") != 0)
			return;
		if (req_request_approve(x->body, x->body_len, &e) != 0)
			goto bad;
		rc = msg_request_act_enc(&m, MSG_REQUEST_APPROVE, id, &a);
		break;
	case REQ_REQUEST_REJECT:
		if (route_body(x, "application/json") != 0)
			return;
		if (req_request_reject(x->body, x->body_len, &a, &e) != 0)
			goto bad;
		rc = msg_request_act_enc(&m, MSG_REQUEST_REJECT, id, &a);
		break;
	default:	/* REQ_REQUEST_FILE */
		if (route_body(x, "application/json") != 0)
			return;
		if (req_request_file(x->body, x->body_len, &f, &e) != 0)
			goto bad;
		f.who = x->who;
		rc = msg_request_file_enc(&m, id, &f);
		break;
	}
	route_forward(x->n, x->c, x->req, &m, rc);
	return;
bad:
	route_req_error(x->req, &e);
}

/* The caller's own TOTP (docs/API.md, "TOTP"): enrol, confirm, verify. */
static void
route_totp(struct route_ctx *x)
{
	struct msg_totp v = { .who = x->who };
	int required = x->r.id != REQ_TOTP_ENROL;
	uint16_t type = x->r.id == REQ_TOTP_ENROL ? MSG_TOTP_ENROL :
	    x->r.id == REQ_TOTP_CONFIRM ? MSG_TOTP_CONFIRM : MSG_TOTP_VERIFY;
	struct req_err e;
	struct ipc_msg m;
	int rc;

	/* Enrolment needs no body: then no Content-Type either. */
	if ((required || evbuffer_get_length(evhttp_request_get_input_buffer(x->req)) != 0) &&
	    route_body(x, "application/json") != 0)
		return;
	if (req_totp(x->body, x->body_len, required, &v, &e) != 0) {
		route_req_error(x->req, &e);
		return;
	}
	rc = msg_totp_enc(&m, type, mlink_next_id(x->n->link), &v);
	explicit_bzero(v.otp, sizeof(v.otp));
	route_forward(x->n, x->c, x->req, &m, rc);
}

static int
route_takes_query(enum req_route_id id)
{
	return id == REQ_ENTRIES || id == REQ_INCLUSION || id == REQ_CONSISTENCY ||
	    id == REQ_REQUESTS || id == REQ_GRANTS || id == REQ_ALERTS;
}

/* GET /v1/alerts?start=&count=&kind=&from=&to= (all optional). */
static void
route_alerts(struct route_ctx *x)
{
	struct msg_alerts v = { .who = x->who };
	struct ipc_msg m;
	struct req_err e;

	if (req_query_alerts(x->query, &v, &e) != 0) {
		route_req_error(x->req, &e);
		return;
	}
	route_forward(x->n, x->c, x->req, &m, msg_alerts_enc(&m, mlink_next_id(x->n->link), &v));
}

/* The monitor's answer to MSG_ALERT_REVOKED or MSG_TLS_SERVING: nothing to do with it. */
static int
route_revoked_cb(void *arg, size_t tag, struct ipc_msg *m)
{
	(void)arg;
	(void)tag;
	(void)m;
	return 0;
}

void
route_report_serving(struct net *n)
{
	struct msg_ident_only v;
	struct ipc_msg m;
	X509 *cert = SSL_CTX_get0_certificate(n->ssl_ctx);

	memset(&v, 0, sizeof(v));
	if (cert == NULL || tls_cert_ident(cert, &v.who) != 0)
		return;
	if (msg_ident_only_enc(&m, MSG_TLS_SERVING, mlink_next_id(n->link), &v) != 0)
		return;
	if (mlink_send(n->link, &m, route_revoked_cb, NULL, 0) != 0)
		log_warn("net: could not tell the monitor which server certificate it presents");
	ipc_msg_free(&m);
}

void
route_report_revoked(void *arg, X509 *cert)
{
	struct net *n = arg;
	struct msg_ident_only v;
	struct ipc_msg m;

	memset(&v, 0, sizeof(v));
	if (cert == NULL || tls_cert_ident(cert, &v.who) != 0)
		return;
	if (msg_ident_only_enc(&m, MSG_ALERT_REVOKED, mlink_next_id(n->link), &v) != 0)
		return;
	if (mlink_send(n->link, &m, route_revoked_cb, NULL, 0) != 0)
		log_warn("net: could not report a revoked certificate to the monitor");
	ipc_msg_free(&m);
}

/*
 * GET /v1/grants[?seal=ID]: the one parameter, a seal id (1 to 63 of
 * A-Z a-z 0-9 . _ -, as in a path); which grants the caller sees is the
 * monitor's to say.
 */
static void
route_grants(struct route_ctx *x)
{
	struct msg_grants_list v = { .who = x->who };
	const char *q = x->query, *val;
	struct ipc_msg m;
	size_t n;

	if (q != NULL && *q != '\0') {
		val = strncmp(q, "seal=", 5) == 0 ? q + 5 : NULL;
		n = val ? strlen(val) : 0;
		if (val == NULL) {
			route_error(x->req, 400, "bad_query", "GET /v1/grants takes only seal=ID");
			return;
		}
		if (n == 0 || n >= sizeof(v.seal) || strspn(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789._-") != n) {
			route_error(x->req, 400, "bad_query",
			    "seal: 1 to 63 of A-Z a-z 0-9 . _ -");
			return;
		}
		memcpy(v.seal, val, n + 1);
	}
	route_forward(x->n, x->c, x->req, &m, msg_grants_list_enc(&m,
	    mlink_next_id(x->n->link), &v));
}

static void
route_dispatch(struct route_ctx *x)
{
	struct req_err e;

	if (!route_takes_query(x->r.id) && req_query_none(x->query, &e) != 0) {
		route_req_error(x->req, &e);
		return;
	}
	if (x->r.id == REQ_HEALTH) {
		route_health(x);	/* no identity: anyone past the handshake */
		return;
	}
	if (route_ident(x) != 0)
		return;
	switch (x->r.id) {
	case REQ_SEALS: route_ident_only(x, MSG_SEALS_LIST); break;
	case REQ_STH: route_ident_only(x, MSG_LEDGER_STH); break;
	case REQ_UNITS: route_ident_only(x, MSG_UNITS_LIST); break;
	case REQ_PRINCIPALS: route_ident_only(x, MSG_PRINCIPALS_LIST); break;
	case REQ_ROLES: route_ident_only(x, MSG_ROLES_LIST); break;
	case REQ_STATS: route_ident_only(x, MSG_STATS); break;
	case REQ_SEAL: route_seal_get(x); break;
	case REQ_SIGN: route_sign(x); break;
	case REQ_SIGN_PDF: route_sign_pdf(x); break;
	case REQ_BATCH: route_batch(x); break;
	case REQ_VERIFY: route_verify(x); break;
	case REQ_TSA: route_tsa(x); break;
	case REQ_REQUEST_FILE:
	case REQ_REQUESTS:
	case REQ_REQUEST:
	case REQ_REQUEST_APPROVE:
	case REQ_REQUEST_REJECT: route_requests(x); break;
	case REQ_TOTP_ENROL:
	case REQ_TOTP_CONFIRM:
	case REQ_TOTP_VERIFY: route_totp(x); break;
	case REQ_GRANTS: route_grants(x); break;
	case REQ_ALERTS: route_alerts(x); break;
	default: route_ledger(x); break;
	}
}

static enum req_method
route_method(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET: return REQ_GET;
	case EVHTTP_REQ_POST: return REQ_POST;
	default: return REQ_OTHER;
	}
}

void
route_request(struct evhttp_request *req, void *arg)
{
	struct route_ctx x = { .n = arg, .req = req };
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct req_err e;

	if ((x.c = net_conn_begin(x.n, req)) == NULL) {
		route_error(req, 500, "internal", "request without a TLS connection");
		return;
	}
	if (mlink_closed(x.n->link)) {
		route_error(req, 503, "busy", "the net worker is restarting; retry");
		return;
	}
	/* Before anything else: a certificate revoked by a TLS reload gets nothing. */
	if (net_conn_check(x.n, x.c, &e) != 0) {
		if (strcmp(e.code, "certificate_revoked") == 0)
			route_report_revoked(x.n, SSL_get0_peer_certificate(x.c->ssl));
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		route_req_error(req, &e);
		return;
	}
	x.query = uri ? evhttp_uri_get_query(uri) : NULL;
	if (req_route(uri ? evhttp_uri_get_path(uri) : NULL, route_method(req), &x.r, &e) != 0) {
		if (e.status == 405)
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
			    req_methods_text(x.r.method));
		route_req_error(req, &e);
		return;
	}
	route_dispatch(&x);
}
