/*
 * net_int — what net.c (setup, connections, limits) and route.c (HTTP
 * requests to monitor messages and back) share inside the net worker.
 * Nothing outside daemon/net includes this.
 *
 * Lifetimes in libevent 2.1.12, which the code below relies on (read from
 * its http.c and bufferevent_openssl.c, and checked under valgrind):
 * - evhttp frees a connection (evhttp_connection_free) synchronously and
 *   calls its close callback first; the bufferevent, the SSL and so our
 *   struct conn (SSL ex_data) are freed later, by a finaliser. A conn can
 *   therefore outlive its evhttp connection: conn->gone says so.
 * - While a request is with the user (us), evhttp disables reading, so a
 *   client that goes away is not noticed until the reply is written; the
 *   request object stays valid until evhttp_send_reply. The close callback
 *   still orphans a waiting job, so that no path can reply to a freed request.
 * - The socket is closed only when the SSL is freed, so while a conn lives
 *   SSL_get_fd() names this connection's socket and nobody else's.
 */
#ifndef SB_NET_INT_H
#define SB_NET_INT_H

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "../../lib/config.h"
#include "../msg.h"
#include "mlink.h"
#include "tlsmat.h"

struct job;
struct pdftext;
struct req_err;

/* PDF sealings in progress at once in one worker; more get 503 busy. Each
 * holds its document and its sealed copy in memory. */
#define NET_PDF_JOBS_MAX 8

struct net {
	const struct config *cfg;
	struct event_base *base;
	struct evhttp *http;
	struct evconnlistener *listener;	/* owned by http */
	struct event *reject_ev;	/* accepts and closes while full */
	SSL_CTX *ssl_ctx;		/* new connections get this one */
	unsigned tls_gen;		/* bumped by each reload that took */
	struct event *reload_ev;	/* the parent's reload socket */
	struct tlsmat_rx reload_rx;	/* a frame of new TLS material arriving */
	struct mlink *link;
	unsigned conns;			/* live connections */
	int paused;			/* listener off: at http.max_connections */
	int stopping;			/* tearing down: no more accounting */
	unsigned long rejected;		/* connections refused while full */
	struct job *jobs;		/* every live job, for teardown */
	unsigned pdf_jobs;		/* PDF sealings in progress (NET_PDF_JOBS_MAX) */
	int text_fd;			/* the text helper's socket until text takes it */
	struct pdftext *text;		/* the text helper (pdftext.h) */
};

enum conn_state {
	CONN_READING,	/* handshake or a request is arriving: deadline armed */
	CONN_HANDLING,	/* the request is with us (and maybe the monitor) */
	CONN_IDLE,	/* keep-alive, waiting for the next request's first byte */
};

struct conn {
	struct net *net;
	SSL *ssl;
	struct evbuffer *input;		/* the bufferevent's input, for pipelined bytes */
	struct event *deadline;		/* http.read_timeout for a whole request */
	enum conn_state state;
	int gone;			/* evhttp has freed the connection */
	int closecb_set;
	struct job *job;		/* the request waiting for the monitor, or NULL */
	unsigned tls_gen;		/* the material its certificate last passed */
	X509 *who_cert;			/* the certificate who was made from (ssl's) */
	struct msg_ident who;		/* its identity, made once per connection */
};

/* net.c */
/*
 * The conn a request arrived on, now handling it: deadline off, close
 * callback set, back to idle once the reply has been written. NULL only if
 * the request has no TLS connection, which cannot happen.
 */
struct conn *net_conn_begin(struct net *n, struct evhttp_request *req);
/*
 * Whether c's client certificate still passes the TLS material in force:
 * free unless a reload happened since it was last checked, then verified
 * again (tls_recheck). 0, or SB_EPERM with e filled: 403
 * certificate_revoked, or 403 unknown_principal for any other failure
 * (logged). Call it for every request, before anything else.
 */
int net_conn_check(struct net *n, struct conn *c, struct req_err *e);

/* route.c */
/* evhttp's generic callback: every complete request comes here. */
void route_request(struct evhttp_request *req, void *arg);
/* The client of job is gone: drop the monitor's answers when they come. */
void route_orphan(struct job *job);
/* Free every job (teardown: their pending ids die with the link). */
void route_free_all(struct net *n);
/*
 * A revoked certificate was presented: on a connection made before the CRL
 * reload (403 certificate_revoked), or in a handshake (tls.c's hook; arg is
 * the struct net). Tells the monitor (MSG_ALERT_REVOKED), which ledgers a
 * revoked_certificate alert, at most one per certificate a minute. Best
 * effort: a full link or a failure drops the report (logged).
 */
void route_report_revoked(void *arg, X509 *cert);
/* Tell the monitor which server certificate n's context presents
 * (MSG_TLS_SERVING), at start and after each reload, so that the console can
 * see a new one taken. Best effort, as above. */
void route_report_serving(struct net *n);

#endif
