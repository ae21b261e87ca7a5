/*
 * net — the net worker's setup, event loop and connection bookkeeping:
 * TLS bufferevents for evhttp, the connection limit, the whole-request
 * deadline that libevent's inactivity timeout does not give, and TLS
 * reloads (a new SSL_CTX for new connections, open ones checked again).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "net.h"
#include "net_int.h"
#include "pdftext.h"
#include "req.h"
#include "sandbox.h"
#include "tls.h"
#include "tlsmat.h"

#define NET_REJECT_BURST 64	/* accepts per wake-up while full */

static int net_conn_idx = -1;	/* SSL ex_data slot holding the struct conn */

/* ---- connections ------------------------------------------------------ */

static void
net_deadline_arm(struct conn *c)
{
	struct timeval tv = { .tv_sec = (time_t)c->net->cfg->http.read_timeout };

	c->state = CONN_READING;
	evtimer_add(c->deadline, &tv);
}

/*
 * A request (or the handshake and first request) took longer than
 * http.read_timeout: cut the connection. Shutting the socket down lets
 * libevent see an end of stream and free everything through its own paths;
 * we never free evhttp's objects behind its back.
 */
static void
net_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int sock = SSL_get_fd(c->ssl);

	(void)fd;
	(void)what;
	if (c->gone || c->state != CONN_READING || sock < 0)
		return;
	log_info("net: closing a connection: no complete request within %u s",
	    c->net->cfg->http.read_timeout);
	shutdown(sock, SHUT_RDWR);
}

/* Bytes arrived: the first byte of a request starts its deadline. */
static void
net_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	(void)buf;
	if (info->n_added > 0 && c->state == CONN_IDLE && !c->gone)
		net_deadline_arm(c);
}

static void
net_resume(struct net *n)
{
	if (!n->paused || n->stopping || n->conns >= n->cfg->http.max_connections)
		return;
	event_del(n->reject_ev);
	evconnlistener_enable(n->listener);
	n->paused = 0;
	log_info("net: accepting connections again (%lu refused while full)", n->rejected);
	n->rejected = 0;
}

static void
net_pause(struct net *n)
{
	if (n->paused || n->conns < n->cfg->http.max_connections)
		return;
	evconnlistener_disable(n->listener);
	event_add(n->reject_ev, NULL);
	n->paused = 1;
	log_warn("net: %u connections (http.max_connections): refusing new ones",
	    n->conns);
}

/* While full, new connections are accepted and closed at once. */
static void
net_reject_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net *n = arg;

	(void)what;
	for (int i = 0; i < NET_REJECT_BURST; i++) {
		int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (s < 0)
			break;
		close(s);
		n->rejected++;
	}
}

/* SSL ex_data free: the SSL, and so the connection, is gone for good. */
static void
net_conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct conn *c = ptr;

	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (c == NULL)
		return;
	if (c->job != NULL)
		route_orphan(c->job);
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (!c->net->stopping) {
		c->net->conns--;
		net_resume(c->net);
	}
	free(c);
}

/* evhttp is freeing the connection: from now on only c itself is valid. */
static void
net_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;

	(void)evcon;
	c->gone = 1;
	evtimer_del(c->deadline);
	if (c->job != NULL)
		route_orphan(c->job);
}

/* The reply has been written: wait for the next request. */
static void
net_req_done(struct evhttp_request *req, void *arg)
{
	struct conn *c = arg;

	(void)req;
	c->state = CONN_IDLE;
	/* A pipelined request may have arrived while we were busy. */
	if (!c->gone && evbuffer_get_length(c->input) > 0)
		net_deadline_arm(c);
}

struct conn *
net_conn_begin(struct net *n, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	struct conn *c = ssl ? SSL_get_ex_data(ssl, net_conn_idx) : NULL;

	(void)n;
	if (c == NULL)
		return NULL;
	if (!c->closecb_set) {
		evhttp_connection_set_closecb(evcon, net_conn_closed, c);
		c->closecb_set = 1;
	}
	c->state = CONN_HANDLING;
	evtimer_del(c->deadline);
	evhttp_request_set_on_complete_cb(req, net_req_done, c);
	return c;
}

int
net_conn_check(struct net *n, struct conn *c, struct req_err *e)
{
	X509 *cert = SSL_get0_peer_certificate(c->ssl);
	int revoked = 0;

	/*
	 * Sessions never resume across contexts (tls.h), so a connection made
	 * on the current context passed its CA bundle and CRL at its handshake.
	 */
	if (c->tls_gen == n->tls_gen)
		return 0;
	e->status = 403;
	e->code = "unknown_principal";
	if (cert == NULL) {
		snprintf(e->message, sizeof(e->message), "no verified client certificate");
		return SB_EPERM;
	}
	if (tls_recheck(n->ssl_ctx, cert, SSL_get_peer_cert_chain(c->ssl), &revoked,
	    e->message, sizeof(e->message)) != 0) {
		if (revoked)
			e->code = "certificate_revoked";
		log_warn("net: refused a request on a connection made before the TLS reload: %s",
		    e->message);
		return SB_EPERM;
	}
	c->tls_gen = n->tls_gen;
	return 0;
}

/* A fatal error inside evhttp's accept path, where no error can be returned. */
static void
net_die(const char *what)
{
	tls_log_errors(what);
	_exit(1);
}

/*
 * evhttp asks for the bufferevent of a new connection. It must never get
 * NULL: evhttp would then make a plain socket bufferevent and serve HTTP
 * without TLS. Any failure here ends the worker.
 */
static struct bufferevent *
net_bevcb(struct event_base *base, void *arg)
{
	struct net *n = arg;
	struct bufferevent *bev;
	struct conn *c;
	SSL *ssl = NULL;

	if ((c = calloc(1, sizeof(*c))) == NULL || (ssl = SSL_new(n->ssl_ctx)) == NULL)
		net_die("net: out of memory for a connection");
	c->net = n;
	c->ssl = ssl;
	c->tls_gen = n->tls_gen;	/* its handshake runs on n->ssl_ctx */
	if ((c->deadline = evtimer_new(base, net_deadline_cb, c)) == NULL ||
	    SSL_set_ex_data(ssl, net_conn_idx, c) != 1)
		net_die("net: out of memory for a connection");
	/* From here SSL_free frees c (net_conn_free) and the count goes down. */
	n->conns++;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		net_die("net: cannot make a TLS bufferevent");
	/* Clients often close without close_notify; that is an end, not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	c->input = bufferevent_get_input(bev);
	if (evbuffer_add_cb(c->input, net_input_cb, c) == NULL)
		net_die("net: out of memory for a connection");
	net_deadline_arm(c);	/* the handshake and the first request */
	net_pause(n);
	return bev;
}

/* ---- reloads ---------------------------------------------------------- */

/*
 * New TLS material from the parent (it checked it already, in a sandboxed
 * child that did exactly this): new connections get the new context; open
 * ones keep the old one, which lives as long as they do (each SSL holds a
 * reference), and are checked against the new one at their next request.
 */
static void
net_reload(struct net *n, const struct tlsmat *m)
{
	SSL_CTX *ctx;

	if (tls_ctx_new(n->cfg, m, &ctx) != 0) {
		log_err("net: TLS reload refused; still serving with the previous TLS material");
		return;
	}
	SSL_CTX_free(n->ssl_ctx);
	n->ssl_ctx = ctx;
	n->tls_gen++;
	log_info("net: TLS material reloaded (generation %u): new connections use it; "
	    "%u open connections are checked against it at their next request",
	    n->tls_gen, n->conns);
	route_report_serving(n);
}

static void
net_reload_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net *n = arg;
	struct tlsmat *m = NULL;
	int rc;

	(void)what;
	if ((rc = tlsmat_rx_read(&n->reload_rx, fd, &m)) == 0)
		return;
	if (rc == 1) {
		net_reload(n, m);
		tlsmat_free(m);
		return;
	}
	if (rc == SB_EIO && n->reload_rx.hdr_got == 0) {
		/* The parent is gone; the monitor's end of the link follows. */
		event_del(n->reload_ev);
		return;
	}
	/* Our own parent sent a broken frame: a bug, and the stream is lost. */
	log_err("net: the reload socket failed: %s", sb_strerror(rc));
	_exit(1);
}

/* ---- setup ------------------------------------------------------------ */

static int
net_http_setup(struct net *n, int listen_fd)
{
	const struct config *cfg = n->cfg;
	struct evhttp_bound_socket *bound;
	int fl = fcntl(listen_fd, F_GETFL), one = 1;

	if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		log_err("net: listening socket: %s", strerror(errno));
		return SB_EIO;
	}
	/*
	 * An answer leaves as several TLS records; with Nagle the second waits
	 * for the client's delayed ACK (40 ms a request). Accepted sockets
	 * inherit this on Linux.
	 */
	if (setsockopt(listen_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		log_warn("net: TCP_NODELAY: %s", strerror(errno));
	if ((n->http = evhttp_new(n->base)) == NULL)
		return SB_ENOMEM;
	evhttp_set_bevcb(n->http, net_bevcb, n);
	evhttp_set_gencb(n->http, route_request, n);
	/* PDFs may be larger than JSON bodies: route.c holds the others to max_body. */
	evhttp_set_max_body_size(n->http, (ev_ssize_t)(cfg->pdf.max_size > cfg->http.max_body ?
	    cfg->pdf.max_size : cfg->http.max_body));
	evhttp_set_max_headers_size(n->http, (ev_ssize_t)cfg->http.max_headers);
	evhttp_set_timeout(n->http, (int)cfg->http.idle_timeout);
	/* Methods evhttp does not know get 400 from it; known ones get our 405. */
	evhttp_set_allowed_methods(n->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	/* Without lingering close a client still sending gets a reset, not the 413. */
	evhttp_set_flags(n->http, EVHTTP_SERVER_LINGERING_CLOSE);
	if ((bound = evhttp_accept_socket_with_handle(n->http, listen_fd)) == NULL) {
		log_err("net: cannot accept on the listening socket");
		return SB_EIO;
	}
	n->listener = evhttp_bound_socket_get_listener(bound);
	n->reject_ev = event_new(n->base, listen_fd, EV_READ | EV_PERSIST, net_reject_cb, n);
	return n->reject_ev != NULL ? 0 : SB_ENOMEM;
}

/*
 * What must happen before the sandbox in every process that builds TLS
 * contexts: OpenSSL reads its configuration and seeds its generators, glibc
 * reads the time zone, once, here.
 */
static int
net_preinit(void)
{
	SSL_CTX *probe;

	signal(SIGPIPE, SIG_IGN);
	tzset();
	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1 ||
	    (probe = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_log_errors("net: OpenSSL initialisation");
		return SB_ENOMEM;
	}
	SSL_CTX_free(probe);
	return 0;
}

/*
 * Everything that opens a file, a socket or a device happens here, before
 * the sandbox: OpenSSL's configuration, the time zone, jansson's hash seed
 * (read from /dev/urandom on first use), the event base. The TLS files were
 * read by the parent.
 */
static int
net_setup(struct net *n, struct tlsmat *tls, int listen_fd, int monitor_fd)
{
	int rc;

	if ((rc = net_preinit()) != 0)
		return rc;
	json_object_seed(0);
	if (evthread_use_pthreads() != 0)
		return SB_ENOMEM;
	net_conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, net_conn_free);
	if (net_conn_idx < 0)
		return SB_ENOMEM;
	if ((rc = tls_ctx_new(n->cfg, tls, &n->ssl_ctx)) != 0)
		return rc;
	if ((n->base = event_base_new()) == NULL)
		return SB_ENOMEM;
	if ((rc = mlink_new(n->base, monitor_fd, n->cfg->http.queue_max, &n->link)) != 0)
		return rc;
	rc = pdftext_new(n->base, n->text_fd, &n->text);
	n->text_fd = -1;	/* taken either way */
	if (rc != 0)
		return rc;
	tls_set_revoked_hook(route_report_revoked, n);
	if ((rc = net_http_setup(n, listen_fd)) == 0)
		route_report_serving(n);
	return rc;
}

/* The parent's reload socket, watched by the loop. */
static int
net_reload_setup(struct net *n, int reload_fd)
{
	int fl = fcntl(reload_fd, F_GETFL);

	if (fl < 0 || fcntl(reload_fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return SB_EIO;
	n->reload_ev = event_new(n->base, reload_fd, EV_READ | EV_PERSIST, net_reload_cb, n);
	if (n->reload_ev == NULL || event_add(n->reload_ev, NULL) != 0)
		return SB_ENOMEM;
	return 0;
}

static void
net_teardown(struct net *n)
{
	n->stopping = 1;
	route_free_all(n);
	if (n->reject_ev != NULL)
		event_free(n->reject_ev);
	if (n->reload_ev != NULL)
		event_free(n->reload_ev);
	tlsmat_rx_reset(&n->reload_rx);
	if (n->http != NULL)
		evhttp_free(n->http);	/* closes the listening socket too */
	mlink_free(n->link);
	pdftext_free(n->text);
	if (n->text_fd >= 0)
		close(n->text_fd);
	if (n->base != NULL)
		event_base_free(n->base);	/* runs the finalisers: conns are freed */
	SSL_CTX_free(n->ssl_ctx);
}

int
net_main(const struct config *cfg, struct tlsmat *tls, int listen_fd, int monitor_fd,
    int reload_fd)
{
	struct net n = { .cfg = cfg, .text_fd = -1 };
	int rc, status = 1;

	signal(SIGHUP, SIG_IGN);	/* reloads come from the parent, as material */
	/* The text helper first: a fork before the worker holds more than it must. */
	if (pdftext_spawn(cfg, tls, &n.text_fd) != 0) {
		tlsmat_free(tls);
		close(monitor_fd);
		close(listen_fd);
		close(reload_fd);
		return 1;
	}
	rc = net_setup(&n, tls, listen_fd, monitor_fd);
	tlsmat_free(tls);	/* the context holds what it needs; the key bytes go */
	if (rc == 0)
		rc = net_reload_setup(&n, reload_fd);
	if (rc != 0) {
		log_err("net: setup failed: %s", sb_strerror(rc));
		goto out;
	}
	if ((rc = sandbox_enter(cfg)) != 0) {
		log_err("net: cannot enter the sandbox: %s", sb_strerror(rc));
		goto out;
	}
	log_info("net: serving (pid %d, uid %u)", (int)getpid(), (unsigned)getuid());
	rc = event_base_dispatch(n.base);
	if (rc != 0 || mlink_failed(n.link) || !mlink_closed(n.link))
		log_err("net: event loop ended unexpectedly");
	else
		status = 0;
out:
	/* The fds are ours either way; close those no object took over. */
	if (n.link == NULL)
		close(monitor_fd);
	if (n.listener == NULL)
		close(listen_fd);
	net_teardown(&n);
	close(reload_fd);
	return status;
}

int
net_check_tls(const struct config *cfg, const struct tlsmat *tls)
{
	SSL_CTX *ctx = NULL;

	if (net_preinit() != 0 || sandbox_enter(cfg) != 0 || tls_ctx_new(cfg, tls, &ctx) != 0)
		return 1;
	SSL_CTX_free(ctx);
	return 0;
}
