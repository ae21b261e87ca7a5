/*
 * http — sealctl's HTTPS client: libevent's evhttp over an OpenSSL
 * bufferevent, mutual TLS, one request at a time.
 *
 * TLS 1.2 or 1.3 only. The server's certificate must chain to the CA file
 * given and name the host connected to (DNS name, or IP address when the
 * server is given as one); the client presents its certificate and key.
 * The key file is read by OpenSSL and never copied, logged or printed; an
 * encrypted key makes OpenSSL ask for its passphrase on the terminal.
 *
 * Every request has a deadline (the timeout covers connecting, the TLS
 * handshake, sending and the whole response), and the response body and
 * headers a maximum. The connection is kept alive between requests and
 * made again when the server closed it.
 *
 * Errors (err gets one line for the user, e.g. "cannot connect to
 * 127.0.0.1:8443: Connection refused", "TLS handshake with 127.0.0.1:8443
 * failed: server certificate: hostname mismatch"):
 *   SB_EINVAL   bad server address or arguments;
 *   SB_ECONFIG  the certificate, key or CA file cannot be used;
 *   SB_EIO      connection, TLS or protocol failure, or the deadline passed;
 *   SB_ELIMIT   the response is larger than the maximum;
 *   SB_ENOMEM.
 * An HTTP error status is not an error here: the caller reads resp->status.
 */
#ifndef SB_CLIENT_HTTP_H
#define SB_CLIENT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_BODY_MAX_DEFAULT (64 * 1024 * 1024)
#define HTTP_HEADERS_MAX 65536
#define HTTP_ERR_MAX 512

struct http;

struct http_opts {
	const char *server;	/* "host:port" or "[v6]:port" */
	const char *cert;	/* client certificate (chain), PEM */
	const char *key;	/* its private key, PEM */
	const char *ca;		/* CA certificate(s) for the server, PEM */
	unsigned timeout;	/* seconds per request; 0: 30 */
	size_t max_body;	/* response bytes; 0: HTTP_BODY_MAX_DEFAULT */
};

struct http_response {
	int status;		/* HTTP status code */
	char *content_type;	/* NULL when absent */
	uint8_t *body;		/* malloc'd, NUL-ended (NUL not counted) */
	size_t len;
	char *ledger_seq;	/* the Sealbox-Ledger-Seq header; NULL when absent */
};

/* Loads the certificate, key and CA; connects on the first request. */
int http_new(const struct http_opts *o, struct http **out, char *err, size_t errlen);
/* Accepts NULL. */
void http_free(struct http *h);

/*
 * One request. method: "GET" or "POST"; path: starting with '/', already
 * encoded; body (len bytes) with content_type for POST (NULL/0 for GET).
 * On 0, resp holds the answer (free with http_response_clear).
 */
int http_request(struct http *h, const char *method, const char *path,
    const char *content_type, const void *body, size_t len,
    struct http_response *resp, char *err, size_t errlen);

void http_response_clear(struct http_response *r);

/*
 * One more header on the requests that follow (name and value are the
 * caller's and must stay valid: no copy is made); a NULL value removes it.
 * evhttp refuses a value with CR or LF (the request then fails).
 */
void http_set_header(struct http *h, const char *name, const char *value);

#endif
