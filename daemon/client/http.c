/*
 * http — sealctl's HTTPS client over libevent. See http.h.
 *
 * libevent does the HTTP (evhttp) and the TLS plumbing (bufferevent_openssl);
 * this file sets up OpenSSL strictly, runs the event loop for one request
 * with a deadline, and turns libevent's terse failures into a sentence: the
 * socket error, the certificate verification result, or the TLS alert.
 *
 * A connection whose TLS session has ended cannot be reused by evhttp (its
 * reconnect would reuse the spent SSL object), so each connection is made
 * with a fresh SSL and dropped as soon as it closes or fails; a GET that
 * fails on a reused connection is tried once more on a new one. POSTs are
 * never retried: a seal request might have been carried out.
 *
 * libevent reports a failed connect as a bare SSL_ERROR_SYSCALL and loses
 * errno on the way; when the server never sent a byte, one plain TCP connect
 * is tried to tell "connection refused" or "no route to host" from a server
 * that accepted and hung up.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "clientcfg.h"
#include "http.h"
#include "lib/err.h"

#define HOST_MAX 256
#define DEFAULT_TIMEOUT 30
/* TLS 1.2 suites with forward secrecy and AEAD only; 1.3's are all fine. */
#define CIPHERS_12 "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL"

struct http {
	struct event_base *base;
	SSL_CTX *ctx;
	char host[HOST_MAX];
	unsigned port;
	char shown[HOST_MAX + 16];	/* "host:port" for messages */
	char host_header[HOST_MAX + 16];
	int host_is_ip;
	unsigned timeout;
	size_t max_body;
	/* The connection, NULL between connections. */
	struct evhttp_connection *conn;
	struct bufferevent *bev;	/* owned by conn */
	SSL *ssl;			/* owned by bev */
	int conn_used;			/* a request has completed on it */
	int conn_closed;		/* the server closed it */
	int server_spoke;		/* a TLS record came from the server */
	const char *xname, *xvalue;	/* one more request header (http_set_header) */
};

struct req_state {
	struct http *h;
	struct http_response *resp;
	int done;
	int rc;
	int have_error;
	enum evhttp_request_error error;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 4, 5)))
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* The reason of OpenSSL's most recent error, or "no detail". */
static const char *
ossl_reason(char *buf, size_t n)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (e == 0)
		snprintf(buf, n, "no detail");
	else if (r != NULL)
		snprintf(buf, n, "%s", r);
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

int
http_new(const struct http_opts *o, struct http **out, char *err, size_t errlen)
{
	struct in6_addr a6;
	struct in_addr a4;
	char why[160];
	struct http *h;

	*out = NULL;
	if (o == NULL || o->server == NULL || o->ca == NULL)
		return fail(err, errlen, SB_EINVAL, "no server or CA given");
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return SB_ENOMEM;
	if (clientcfg_split_server(o->server, h->host, sizeof(h->host), &h->port) != 0) {
		free(h);
		return fail(err, errlen, SB_EINVAL,
		    "bad server address '%.100s': expected host:port or [v6-address]:port",
		    o->server);
	}
	h->host_is_ip = inet_pton(AF_INET, h->host, &a4) == 1 ||
	    inet_pton(AF_INET6, h->host, &a6) == 1;
	snprintf(h->shown, sizeof(h->shown), strchr(h->host, ':') ? "[%s]:%u" : "%s:%u",
	    h->host, h->port);
	snprintf(h->host_header, sizeof(h->host_header), "%s", h->shown);
	h->timeout = o->timeout ? o->timeout : DEFAULT_TIMEOUT;
	h->max_body = o->max_body ? o->max_body : HTTP_BODY_MAX_DEFAULT;
	if ((h->base = event_base_new()) == NULL || (h->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		http_free(h);
		return SB_ENOMEM;
	}
	SSL_CTX_set_min_proto_version(h->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(h->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_set_cipher_list(h->ctx, CIPHERS_12) != 1) {
		http_free(h);
		return fail(err, errlen, SB_ENOMEM, "TLS setup failed: %s",
		    ossl_reason(why, sizeof(why)));
	}
	SSL_CTX_set_verify(h->ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_file(h->ctx, o->ca) != 1) {
		http_free(h);
		return fail(err, errlen, SB_ECONFIG, "cannot use CA file %s: %s", o->ca,
		    ossl_reason(why, sizeof(why)));
	}
	if (o->cert != NULL && SSL_CTX_use_certificate_chain_file(h->ctx, o->cert) != 1) {
		http_free(h);
		return fail(err, errlen, SB_ECONFIG, "cannot use client certificate %s: %s",
		    o->cert, ossl_reason(why, sizeof(why)));
	}
	/* The key's bytes stay inside OpenSSL; a message names only the file. */
	if (o->key != NULL && (SSL_CTX_use_PrivateKey_file(h->ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(h->ctx) != 1)) {
		http_free(h);
		return fail(err, errlen, SB_ECONFIG, "cannot use client key %s: %s", o->key,
		    ossl_reason(why, sizeof(why)));
	}
	*out = h;
	return 0;
}

static void
drop_conn(struct http *h)
{
	if (h->conn != NULL)
		evhttp_connection_free(h->conn);	/* frees bev, which frees ssl */
	h->conn = NULL;
	h->bev = NULL;
	h->ssl = NULL;
	h->conn_used = 0;
	h->conn_closed = 0;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	drop_conn(h);
	SSL_CTX_free(h->ctx);
	if (h->base != NULL)
		event_base_free(h->base);
	free(h);
}

void
http_response_clear(struct http_response *r)
{
	if (r == NULL)
		return;
	free(r->content_type);
	free(r->ledger_seq);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static void
on_close(struct evhttp_connection *c, void *arg)
{
	struct http *h = arg;

	(void)c;
	h->conn_closed = 1;
}

/* Told of every TLS protocol message; notes that the server sent one. */
static void
on_tls_msg(int write_p, int version, int content_type, const void *buf, size_t len,
    SSL *ssl, void *arg)
{
	struct http *h = arg;

	(void)version;
	(void)content_type;
	(void)buf;
	(void)len;
	(void)ssl;
	if (!write_p)
		h->server_spoke = 1;
}

static int
new_conn(struct http *h, char *err, size_t errlen)
{
	X509_VERIFY_PARAM *vp;
	char why[160];

	if ((h->ssl = SSL_new(h->ctx)) == NULL)
		return SB_ENOMEM;
	h->server_spoke = 0;
	SSL_set_msg_callback(h->ssl, on_tls_msg);
	SSL_set_msg_callback_arg(h->ssl, h);
	vp = SSL_get0_param(h->ssl);
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (h->host_is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, h->host) != 1) {
			SSL_free(h->ssl);
			h->ssl = NULL;
			return fail(err, errlen, SB_EINVAL, "bad IP address %s: %s", h->host,
			    ossl_reason(why, sizeof(why)));
		}
	} else if (X509_VERIFY_PARAM_set1_host(vp, h->host, 0) != 1 ||
	    SSL_set_tlsext_host_name(h->ssl, h->host) != 1) {
		SSL_free(h->ssl);
		h->ssl = NULL;
		return fail(err, errlen, SB_EINVAL, "bad host name %s", h->host);
	}
	h->bev = bufferevent_openssl_socket_new(h->base, -1, h->ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (h->bev == NULL) {
		SSL_free(h->ssl);
		h->ssl = NULL;
		return SB_ENOMEM;
	}
	/* Some servers end a connection without close_notify; the body length
	 * is known from HTTP, so that is not a truncation we would miss. */
	bufferevent_openssl_set_allow_dirty_shutdown(h->bev, 1);
	h->conn = evhttp_connection_base_bufferevent_new(h->base, NULL, h->bev, h->host,
	    (unsigned short)h->port);
	if (h->conn == NULL) {
		bufferevent_free(h->bev);	/* and the SSL */
		h->bev = NULL;
		h->ssl = NULL;
		return SB_ENOMEM;
	}
	evhttp_connection_set_timeout(h->conn, (int)h->timeout);
	evhttp_connection_set_retries(h->conn, 0);
	evhttp_connection_set_max_body_size(h->conn, (ev_ssize_t)h->max_body);
	evhttp_connection_set_max_headers_size(h->conn, HTTP_HEADERS_MAX);
	evhttp_connection_set_closecb(h->conn, on_close, h);
	return 0;
}

/*
 * A plain TCP connect to the server, to learn why libevent's failed: 0 if
 * one of its addresses accepts, else the errno of the last attempt.
 */
static int
probe_connect(const struct http *h)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai, *a;
	char port[8];
	int e = ECONNREFUSED;

	snprintf(port, sizeof(port), "%u", h->port);
	if (getaddrinfo(h->host, port, &hints, &ai) != 0)
		return EHOSTUNREACH;
	for (a = ai; a != NULL; a = a->ai_next) {
		struct pollfd p = { .events = POLLOUT };
		socklen_t sl = sizeof(e);

		if ((p.fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    a->ai_protocol)) < 0) {
			e = errno;
			continue;
		}
		if (connect(p.fd, a->ai_addr, a->ai_addrlen) == 0)
			e = 0;
		else if (errno != EINPROGRESS)
			e = errno;
		else if (poll(&p, 1, (int)(h->timeout < 5 ? h->timeout : 5) * 1000) != 1)
			e = ETIMEDOUT;
		else if (getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &e, &sl) != 0)
			e = errno;
		close(p.fd);
		if (e == 0)
			break;
	}
	freeaddrinfo(ai);
	return e;
}

/* Why the request failed, in one line. */
static int
explain(struct req_state *st)
{
	struct http *h = st->h;
	char why[200] = "";
	unsigned long e;
	long vr;
	int dns, pe;

	if (st->have_error && st->error == EVREQ_HTTP_DATA_TOO_LONG)
		return fail(st->err, st->errlen, SB_ELIMIT,
		    "the response from %s is larger than %zu bytes", h->shown, h->max_body);
	if (st->have_error && st->error == EVREQ_HTTP_INVALID_HEADER)
		return fail(st->err, st->errlen, SB_EIO,
		    "%s sent a malformed HTTP response (or headers over %d bytes)",
		    h->shown, HTTP_HEADERS_MAX);
	if (st->have_error && st->error == EVREQ_HTTP_TIMEOUT)
		return fail(st->err, st->errlen, SB_EIO, "%s did not answer within %u s",
		    h->shown, h->timeout);
	if (h->bev != NULL && (dns = bufferevent_socket_get_dns_error(h->bev)) != 0)
		return fail(st->err, st->errlen, SB_EIO, "cannot resolve %s: %s", h->host,
		    evutil_gai_strerror(dns));
	/* A certificate the TLS layer refused says most. */
	if (h->ssl != NULL && (vr = SSL_get_verify_result(h->ssl)) != X509_V_OK)
		return fail(st->err, st->errlen, SB_EIO,
		    "TLS handshake with %s failed: server certificate: %s", h->shown,
		    X509_verify_cert_error_string(vr));
	/* libevent queues OpenSSL's errors, and bare SSL_get_error() codes
	 * (library 0) for I/O failures: only the former explain anything. */
	while (h->bev != NULL && (e = bufferevent_get_openssl_error(h->bev)) != 0) {
		const char *r;

		if (ERR_GET_LIB(e) == 0 || why[0] != '\0')
			continue;
		if ((r = ERR_reason_error_string(e)) != NULL)
			snprintf(why, sizeof(why), "%s", r);
		else
			ERR_error_string_n(e, why, sizeof(why));
	}
	if (why[0] != '\0')
		return fail(st->err, st->errlen, SB_EIO, "TLS with %s failed: %s", h->shown, why);
	if (!h->server_spoke) {
		if ((pe = probe_connect(h)) != 0)
			return fail(st->err, st->errlen, SB_EIO, "cannot connect to %s: %s",
			    h->shown, strerror(pe));
		return fail(st->err, st->errlen, SB_EIO,
		    "%s accepted the connection but closed it before the TLS handshake",
		    h->shown);
	}
	if (h->ssl != NULL && !SSL_is_init_finished(h->ssl))
		return fail(st->err, st->errlen, SB_EIO,
		    "%s closed the connection during the TLS handshake", h->shown);
	/* With TLS 1.3 a refused client certificate shows only after the
	 * handshake, and the alert is often lost to a reset. */
	return fail(st->err, st->errlen, SB_EIO,
	    "%s closed the connection without an answer (the appliance may have refused "
	    "this client certificate)", h->shown);
}
static void
on_error(enum evhttp_request_error e, void *arg)
{
	struct req_state *st = arg;

	st->have_error = 1;
	st->error = e;
}

static void
on_done(struct evhttp_request *req, void *arg)
{
	struct req_state *st = arg;
	struct evbuffer *in;
	const char *ct;
	size_t n;

	st->done = 1;
	event_base_loopbreak(st->h->base);
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		st->rc = explain(st);
		return;
	}
	st->resp->status = evhttp_request_get_response_code(req);
	ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	if (ct != NULL && (st->resp->content_type = strdup(ct)) == NULL) {
		st->rc = SB_ENOMEM;
		return;
	}
	ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Sealbox-Ledger-Seq");
	if (ct != NULL && (st->resp->ledger_seq = strdup(ct)) == NULL) {
		st->rc = SB_ENOMEM;
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(in);
	if (n > st->h->max_body) {
		st->rc = fail(st->err, st->errlen, SB_ELIMIT,
		    "the response from %s is larger than %zu bytes", st->h->shown, st->h->max_body);
		return;
	}
	if ((st->resp->body = malloc(n + 1)) == NULL) {
		st->rc = SB_ENOMEM;
		return;
	}
	if (evbuffer_remove(in, st->resp->body, n) != (int)n) {
		st->rc = fail(st->err, st->errlen, SB_EIO, "cannot read the response");
		return;
	}
	st->resp->body[n] = '\0';
	st->resp->len = n;
	st->h->conn_used = 1;
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct req_state *st = arg;

	(void)fd;
	(void)what;
	st->rc = fail(st->err, st->errlen, SB_EIO, "%s did not answer within %u s",
	    st->h->shown, st->h->timeout);
	event_base_loopbreak(st->h->base);
}

static int
request_once(struct http *h, enum evhttp_cmd_type cmd, const char *path,
    const char *content_type, const void *body, size_t len,
    struct http_response *resp, char *err, size_t errlen)
{
	struct req_state st = { .h = h, .resp = resp, .err = err, .errlen = errlen };
	struct timeval tv = { .tv_sec = h->timeout };
	struct evhttp_request *req;
	struct evkeyvalq *hdr;
	struct event *deadline;
	int rc;

	if (h->conn != NULL && h->conn_closed)
		drop_conn(h);
	if (h->conn == NULL && (rc = new_conn(h, err, errlen)) != 0)
		return rc;
	if ((req = evhttp_request_new(on_done, &st)) == NULL)
		return SB_ENOMEM;
	evhttp_request_set_error_cb(req, on_error);
	hdr = evhttp_request_get_output_headers(req);
	if (evhttp_add_header(hdr, "Host", h->host_header) != 0 ||
	    evhttp_add_header(hdr, "User-Agent", "sealctl/" SB_VERSION) != 0 ||
	    evhttp_add_header(hdr, "Accept", "application/json") != 0 ||
	    (content_type != NULL && evhttp_add_header(hdr, "Content-Type", content_type) != 0) ||
	    (h->xname != NULL && evhttp_add_header(hdr, h->xname, h->xvalue) != 0) ||
	    (len > 0 && evbuffer_add(evhttp_request_get_output_buffer(req), body, len) != 0)) {
		evhttp_request_free(req);
		return SB_ENOMEM;
	}
	if ((deadline = evtimer_new(h->base, on_deadline, &st)) == NULL ||
	    evtimer_add(deadline, &tv) != 0) {
		if (deadline != NULL)
			event_free(deadline);
		evhttp_request_free(req);
		return SB_ENOMEM;
	}
	/* On failure evhttp_make_request has freed req. */
	if (evhttp_make_request(h->conn, req, cmd, path) != 0) {
		event_free(deadline);
		drop_conn(h);
		return fail(err, errlen, SB_EIO, "cannot send a request to %s", h->shown);
	}
	while (!st.done && st.rc == 0)
		if (event_base_dispatch(h->base) < 0) {
			st.rc = fail(err, errlen, SB_EIO, "event loop failed");
			break;
		}
	event_free(deadline);
	if (!st.done || st.rc != 0) {
		/* Unfinished (deadline) or failed: this connection is spent. The
		 * pending request, if any, goes with it, without its callback. */
		drop_conn(h);
		http_response_clear(resp);
	}
	return st.rc;
}

void
http_set_header(struct http *h, const char *name, const char *value)
{
	h->xname = value != NULL ? name : NULL;
	h->xvalue = value;
}

int
http_request(struct http *h, const char *method, const char *path,
    const char *content_type, const void *body, size_t len,
    struct http_response *resp, char *err, size_t errlen)
{
	enum evhttp_cmd_type cmd;
	int rc, reused;

	if (h == NULL || method == NULL || path == NULL || path[0] != '/' || resp == NULL)
		return SB_EINVAL;
	memset(resp, 0, sizeof(*resp));
	if (strcmp(method, "GET") == 0)
		cmd = EVHTTP_REQ_GET;
	else if (strcmp(method, "POST") == 0)
		cmd = EVHTTP_REQ_POST;
	else
		return SB_EINVAL;
	reused = h->conn != NULL && h->conn_used && !h->conn_closed;
	rc = request_once(h, cmd, path, content_type, body, len, resp, err, errlen);
	if (rc == SB_EIO && reused && cmd == EVHTTP_REQ_GET)
		rc = request_once(h, cmd, path, content_type, body, len, resp, err, errlen);
	return rc;
}
