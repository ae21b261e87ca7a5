/*
 * sealbench — an mTLS load generator for seald's sign endpoint.
 *
 *   sealbench -u https://127.0.0.1:8443 --cert c.pem --key c.key --ca ca.pem \
 *       --seal demo-seal [-c 32] [-t 2] [-d 10] [-w 1] [-r RATE] [--get PATH]
 *
 * N keep-alive HTTP/1.1 connections (-c), shared out over T threads (-t).
 * Each request POSTs {"digest":{"alg":"sha256","value":<random 32 bytes>},
 * "document_name":"sealbench.bin"} to /v1/seals/ID/sign (or, with --get, a
 * plain GET of PATH: a trivial endpoint shows what the generator and the
 * TLS/HTTP layer alone can do). Closed loop by default: every connection
 * sends its next request as soon as the last answer is in. With -r RATE the
 * load is open loop: requests are due at a fixed rate whether or not the
 * server keeps up, and a request's latency runs from when it was due, not
 * from when a connection was free to send it (no coordinated omission).
 *
 * Connections and handshakes are made before the clock starts; the first -w
 * seconds (default 1) warm up and are not counted. Each thread drives its
 * connections with non-blocking sockets, OpenSSL and poll(2); one request at
 * a time per connection, no pipelining.
 *
 * The response reader is strict and bounded because it only needs to read
 * our own server: "HTTP/1.1 NNN", a Content-Length (no chunked encoding),
 * headers up to HDR_MAX, a body up to BODY_MAX, and nothing after the body.
 * Anything else counts as a transport error and the connection is made anew.
 *
 * Prints (one fact per line, for tests/bench/run.sh to pick up):
 *   requests/s: 8123
 *   latency ms: p50 3.21 p90 4.02 p99 6.50 max 19.7
 *   status 200: 81230
 *   errors: 0 (transport 0, timeouts 0, 200 without cms 0)
 *   client cpu: 11.2 us/request (9% of one core)
 * Exit status: 0, 1 (bad usage or setup: nothing measured), 3 (some
 * requests failed).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define CONNS_MAX 4096
#define THREADS_MAX 64
#define HDR_MAX (16 * 1024)
#define BODY_MAX (1024 * 1024)
#define RBUF_START (16 * 1024)
#define REQ_MAX 1024
#define LAT_MAX_PER_THREAD (16u * 1024 * 1024)	/* recorded latencies */
#define STATUS_MAX 600
#define HOST_MAX 256
#define POLL_MS_MAX 20

enum cstate { C_IDLE, C_WRITING, C_READING };

struct conn {
	int fd;
	SSL *ssl;
	SSL_SESSION *sess;	/* for resumption when made anew */
	enum cstate st;
	short want;		/* POLLIN or POLLOUT: what OpenSSL waits for */
	char req[REQ_MAX];
	size_t wlen, woff;
	char *rbuf;
	size_t rcap, rlen;
	size_t hdr_len, body_len, scanned;
	int status;		/* of the response being read, once its head is in */
	int close_after;	/* "Connection: close" */
	double t_due;		/* latency origin: due time (open loop) or send time */
};

struct worker {
	int id;
	pthread_t th;
	struct conn *conns;
	int nconn;
	double interval;	/* open loop: seconds between this thread's requests */
	double next_due;
	/* results, counted only inside the measuring window */
	unsigned long ok, bad200, transport, timeouts, reconnects, late;
	unsigned long status[STATUS_MAX];
	uint32_t *lat;		/* microseconds */
	size_t nlat, latcap;
	int setup_failed;
};

static struct {
	const char *url, *cert, *key, *ca, *seal, *get_path;
	char host[HOST_MAX];
	char port[8];
	int conns, threads;
	double seconds, warmup, rate, timeout;
} opt = { .conns = 32, .threads = 2, .seconds = 10, .warmup = 1, .timeout = 10 };

static SSL_CTX *ctx;
static struct addrinfo *addr;
static char req_head[512];	/* request line and headers */
static char req_body[256];	/* the JSON template, digest zeroed */
static size_t hex_off;		/* where the digest's hex goes in the whole request */
static pthread_barrier_t ready;
static atomic_int stop;
static atomic_int said;		/* a setup error has been printed: one is enough */
static double t_measure, t_end;	/* set before the barrier opens */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
ossl_err(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	fprintf(stderr, "sealbench: %s: %s\n", what, e != 0 ? buf : strerror(errno));
	ERR_clear_error();
}

/* ---- setup ---------------------------------------------------------------- */

/* "https://HOST:PORT" with an optional trailing '/'; IPv6 as "[::1]:PORT". */
static int
parse_url(const char *u)
{
	const char *h, *colon, *end;
	size_t hl, pl;

	if (strncmp(u, "https://", 8) != 0)
		return -1;
	h = u + 8;
	end = h + strlen(h);
	if (end > h && end[-1] == '/')
		end--;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (rb == NULL || rb + 1 >= end || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - h - 1);
		if (hl >= HOST_MAX)
			return -1;
		memcpy(opt.host, h + 1, hl);
		colon = rb + 1;
	} else {
		colon = memrchr(h, ':', (size_t)(end - h));
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - h);
		if (hl >= HOST_MAX)
			return -1;
		memcpy(opt.host, h, hl);
	}
	if (hl == 0 || hl >= HOST_MAX)
		return -1;
	opt.host[hl] = '\0';
	pl = (size_t)(end - colon - 1);
	if (pl == 0 || pl >= sizeof(opt.port) || strspn(colon + 1, "0123456789") < pl)
		return -1;
	memcpy(opt.port, colon + 1, pl);
	opt.port[pl] = '\0';
	return 0;
}

static int
ctx_new(void)
{
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		ossl_err("SSL_CTX_new");
		return -1;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, opt.cert) != 1) {
		ossl_err(opt.cert);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, opt.key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ossl_err(opt.key);
		return -1;
	}
	if (SSL_CTX_load_verify_locations(ctx, opt.ca, NULL) != 1) {
		ossl_err(opt.ca);
		return -1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	return 0;
}

static int
templates_new(void)
{
	int n, blen;
	char *p;

	if (opt.get_path != NULL) {
		n = snprintf(req_head, sizeof(req_head), "GET %s HTTP/1.1\r\nHost: %s:%s\r\n\r\n",
		    opt.get_path, opt.host, opt.port);
		return n > 0 && (size_t)n < sizeof(req_head) ? 0 : -1;
	}
	blen = snprintf(req_body, sizeof(req_body), "{\"digest\":{\"alg\":\"sha256\","
	    "\"value\":\"%064d\"},\"document_name\":\"sealbench.bin\"}", 0);
	if (blen <= 0 || (size_t)blen >= sizeof(req_body))
		return -1;
	n = snprintf(req_head, sizeof(req_head), "POST /v1/seals/%s/sign HTTP/1.1\r\n"
	    "Host: %s:%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
	    opt.seal, opt.host, opt.port, blen);
	if (n <= 0 || (size_t)n + (size_t)blen >= REQ_MAX)
		return -1;
	p = strstr(req_body, "\"value\":\"");
	hex_off = (size_t)n + (size_t)(p - req_body) + 9;
	return 0;
}

/* ---- connections ------------------------------------------------------------ */

static void
conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->st = C_IDLE;
}

/* A blocking connect and handshake (resuming if we can); then non-blocking. */
static int
conn_open(struct conn *c, int quiet)
{
	int one = 1, fl;

	conn_close(c);
	if ((c->fd = socket(addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c->fd, addr->ai_addr, addr->ai_addrlen) != 0) {
		if (!quiet && atomic_exchange(&said, 1) == 0)
			fprintf(stderr, "sealbench: connect %s:%s: %s\n", opt.host, opt.port,
			    strerror(errno));
		conn_close(c);
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		ossl_err("SSL_new");
		conn_close(c);
		return -1;
	}
	{
		struct in6_addr a6;
		X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
		int ok = inet_pton(AF_INET, opt.host, &a6) == 1 ||
		    inet_pton(AF_INET6, opt.host, &a6) == 1 ?
		    X509_VERIFY_PARAM_set1_ip_asc(vp, opt.host) :
		    SSL_set1_host(c->ssl, opt.host) && SSL_set_tlsext_host_name(c->ssl, opt.host);

		if (!ok) {
			ossl_err("server name");
			conn_close(c);
			return -1;
		}
	}
	if (c->sess != NULL)
		SSL_set_session(c->ssl, c->sess);
	if (SSL_connect(c->ssl) != 1) {
		if (!quiet && atomic_exchange(&said, 1) == 0)
			ossl_err("TLS handshake");
		conn_close(c);
		return -1;
	}
	if ((fl = fcntl(c->fd, F_GETFL)) < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		conn_close(c);
		return -1;
	}
	return 0;
}

static void
conn_start(struct conn *c, double due)
{
	static const char hx[] = "0123456789abcdef";
	uint8_t dg[32];
	size_t hl = strlen(req_head), bl = strlen(req_body);

	memcpy(c->req, req_head, hl);
	memcpy(c->req + hl, req_body, bl);
	c->wlen = hl + bl;
	if (opt.get_path == NULL) {
		if (RAND_bytes(dg, sizeof(dg)) != 1)
			memset(dg, 0x5a, sizeof(dg));
		for (size_t i = 0; i < sizeof(dg); i++) {
			c->req[hex_off + 2 * i] = hx[dg[i] >> 4];
			c->req[hex_off + 2 * i + 1] = hx[dg[i] & 15];
		}
	}
	c->woff = 0;
	c->rlen = c->hdr_len = c->body_len = c->scanned = 0;
	c->close_after = 0;
	c->t_due = due;
	c->st = C_WRITING;
	c->want = POLLOUT;
}

/* ---- the response reader ------------------------------------------------------ */

/* A header's value, trimmed of spaces and tabs, into v (at most vmax-1 bytes). */
static int
header_value(const char *p, const char *eol, char *v, size_t vmax)
{
	size_t n;

	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	while (eol > p && (eol[-1] == ' ' || eol[-1] == '\t'))
		eol--;
	n = (size_t)(eol - p);
	if (n >= vmax)
		return -1;
	memcpy(v, p, n);
	v[n] = '\0';
	return 0;
}

/* The status line and headers in c->rbuf[0, hdr_len): status, or -1. */
static int
parse_head(struct conn *c)
{
	const char *p = c->rbuf, *end = c->rbuf + c->hdr_len - 2, *eol;
	int status, have_cl = 0;
	char v[64];

	if (c->hdr_len < 14 || memcmp(p, "HTTP/1.1 ", 9) != 0 ||
	    strspn(p + 9, "0123456789") < 3 || p[12] != ' ')
		return -1;
	status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (status < 100 || status >= STATUS_MAX)
		return -1;
	if ((p = memmem(p, (size_t)(end - p) + 2, "\r\n", 2)) == NULL)
		return -1;
	p += 2;
	while (p < end) {
		const char *colon;

		eol = memmem(p, (size_t)(end - p + 2), "\r\n", 2);
		if (eol == NULL || (colon = memchr(p, ':', (size_t)(eol - p))) == NULL)
			return -1;
		if (header_value(colon + 1, eol, v, sizeof(v)) != 0) {
			v[0] = '\0';	/* long values: none of the ones we read */
		}
		if ((size_t)(colon - p) == 14 && strncasecmp(p, "content-length", 14) == 0) {
			char *e;
			unsigned long n;

			errno = 0;
			n = strtoul(v, &e, 10);
			if (v[0] < '0' || v[0] > '9' || *e != '\0' || errno != 0 || n > BODY_MAX ||
			    (have_cl && n != c->body_len))
				return -1;
			c->body_len = n;
			have_cl = 1;
		} else if ((size_t)(colon - p) == 17 &&
		    strncasecmp(p, "transfer-encoding", 17) == 0) {
			return -1;
		} else if ((size_t)(colon - p) == 10 && strncasecmp(p, "connection", 10) == 0 &&
		    strcasestr(v, "close") != NULL) {
			c->close_after = 1;
		}
		p = eol + 2;
	}
	return have_cl ? status : -1;
}

/* 1: a whole response is in (status in *status); 0: need more; -1: broken. */
static int
parse(struct conn *c, int *status)
{
	if (c->hdr_len == 0) {
		size_t from = c->scanned > 3 ? c->scanned - 3 : 0;
		const char *e = memmem(c->rbuf + from, c->rlen - from, "\r\n\r\n", 4);

		c->scanned = c->rlen;
		if (e == NULL)
			return c->rlen > HDR_MAX ? -1 : 0;
		c->hdr_len = (size_t)(e - c->rbuf) + 4;
		if (c->hdr_len > HDR_MAX || (c->status = parse_head(c)) < 0)
			return -1;
	}
	if (c->rlen < c->hdr_len + c->body_len)
		return 0;
	*status = c->status;
	return c->rlen == c->hdr_len + c->body_len ? 1 : -1;
}

/* ---- the loop ---------------------------------------------------------------- */

static void
record(struct worker *w, struct conn *c, int status, double t)
{
	double lat = t - c->t_due;

	if (t < t_measure)
		return;
	w->status[status]++;
	/*
	 * Signing: only a 200 with a CMS is a success, and latencies are of
	 * successes only (quick refusals would flatter them). --get measures
	 * the plumbing: every whole response counts, whatever its status.
	 */
	if (opt.get_path == NULL) {
		if (status != 200)
			return;
		if (memmem(c->rbuf + c->hdr_len, c->body_len, "\"cms\"", 5) == NULL) {
			w->bad200++;
			return;
		}
	}
	w->ok++;
	if (w->nlat == w->latcap && w->latcap < LAT_MAX_PER_THREAD) {
		size_t ncap = w->latcap ? w->latcap * 2 : 65536;
		uint32_t *n = realloc(w->lat, ncap * sizeof(*n));

		if (n != NULL) {
			w->lat = n;
			w->latcap = ncap;
		}
	}
	if (w->nlat < w->latcap)
		w->lat[w->nlat++] = lat < 0 ? 0 : lat * 1e6 > 4e9 ? 4000000000u :
		    (uint32_t)(lat * 1e6);
}

/* Something broke on c: count it (inside the window) and make c anew. */
static void
conn_fail(struct worker *w, struct conn *c, int timeout)
{
	if (now_s() >= t_measure) {
		if (timeout)
			w->timeouts++;
		else
			w->transport++;
		w->reconnects++;
	}
	conn_close(c);
	while (!atomic_load(&stop) && now_s() < t_end && conn_open(c, 1) != 0) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
}

static int
grow(struct conn *c)
{
	size_t ncap = c->rcap * 2;
	char *n;

	if (c->rcap >= HDR_MAX + BODY_MAX)
		return -1;
	if (ncap > HDR_MAX + BODY_MAX)
		ncap = HDR_MAX + BODY_MAX;
	if ((n = realloc(c->rbuf, ncap)) == NULL)
		return -1;
	c->rbuf = n;
	c->rcap = ncap;
	return 0;
}

/* Move c along as far as it goes without blocking. */
static void
conn_step(struct worker *w, struct conn *c)
{
	while (c->st == C_WRITING) {
		int n = SSL_write(c->ssl, c->req + c->woff, (int)(c->wlen - c->woff));

		if (n <= 0) {
			int e = SSL_get_error(c->ssl, n);

			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
				c->want = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
				return;
			}
			conn_fail(w, c, 0);
			return;
		}
		c->woff += (size_t)n;
		if (c->woff == c->wlen) {
			c->st = C_READING;
			c->want = POLLIN;
		}
	}
	while (c->st == C_READING) {
		int n, status = 0, rc;

		if (c->rlen == c->rcap && grow(c) != 0) {
			conn_fail(w, c, 0);
			return;
		}
		n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(c->rcap - c->rlen));
		if (n <= 0) {
			int e = SSL_get_error(c->ssl, n);

			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
				c->want = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
				return;
			}
			conn_fail(w, c, 0);
			return;
		}
		c->rlen += (size_t)n;
		if ((rc = parse(c, &status)) == 0)
			continue;
		if (rc < 0) {
			conn_fail(w, c, 0);
			return;
		}
		record(w, c, status, now_s());
		if (c->sess == NULL)
			c->sess = SSL_get1_session(c->ssl);
		c->st = C_IDLE;
		if (c->close_after && conn_open(c, 1) != 0)
			conn_fail(w, c, 0);
	}
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct pollfd *pf = calloc((size_t)w->nconn, sizeof(*pf));
	int *idx = calloc((size_t)w->nconn, sizeof(*idx));

	for (int i = 0; i < w->nconn; i++) {
		struct conn *c = &w->conns[i];

		c->fd = -1;
		c->rcap = RBUF_START;
		if ((c->rbuf = malloc(c->rcap)) == NULL || conn_open(c, 0) != 0)
			w->setup_failed = 1;
	}
	if (pf == NULL || idx == NULL)
		w->setup_failed = 1;
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&ready);	/* main has checked setup and set the clock */
	if (w->setup_failed || atomic_load(&stop))
		goto out;
	w->next_due = now_s();
	while (!atomic_load(&stop)) {
		double t = now_s();
		int np = 0, ms = POLL_MS_MAX, idle = 0;

		if (t >= t_end)
			break;
		for (int i = 0; i < w->nconn; i++) {
			struct conn *c = &w->conns[i];

			if (c->st == C_IDLE && c->fd >= 0) {
				if (opt.rate <= 0) {
					conn_start(c, t);
				} else if (w->next_due <= t) {
					if (t - w->next_due > 0.001 && w->next_due >= t_measure)
						w->late++;
					conn_start(c, w->next_due);
					w->next_due += w->interval;
				}
				if (c->st == C_WRITING)
					conn_step(w, c);
			}
			if (c->st != C_IDLE && t - c->t_due > opt.timeout) {
				conn_fail(w, c, 1);
				continue;
			}
			if (c->st == C_IDLE)
				idle = 1;
			else {
				pf[np].fd = c->fd;
				pf[np].events = c->want;
				idx[np++] = i;
			}
		}
		/* Behind with every connection busy: wait for one to finish, don't spin. */
		if (opt.rate > 0 && idle) {
			double wait = w->next_due - now_s();

			ms = wait <= 0 ? 0 : wait * 1000 < POLL_MS_MAX ? (int)ceil(wait * 1000) :
			    POLL_MS_MAX;
		}
		if (poll(pf, (nfds_t)np, ms) < 0 && errno != EINTR)
			break;
		for (int k = 0; k < np; k++)
			if (pf[k].revents != 0)
				conn_step(w, &w->conns[idx[k]]);
	}
out:
	for (int i = 0; i < w->nconn; i++) {
		conn_close(&w->conns[i]);
		SSL_SESSION_free(w->conns[i].sess);
		free(w->conns[i].rbuf);
	}
	free(pf);
	free(idx);
	return NULL;
}

/* ---- results ------------------------------------------------------------------ */

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const uint32_t *v, size_t n, double p)
{
	size_t i = (size_t)ceil(p * (double)n);

	if (n == 0)
		return 0;
	return (double)v[i == 0 ? 0 : i - 1] / 1000.0;
}

static int
report(struct worker *w, double seconds, double cpu)
{
	unsigned long ok = 0, bad200 = 0, transport = 0, timeouts = 0, late = 0, total = 0;
	unsigned long status[STATUS_MAX] = { 0 };
	size_t n = 0, k = 0;
	uint32_t *all;

	for (int i = 0; i < opt.threads; i++) {
		ok += w[i].ok;
		bad200 += w[i].bad200;
		transport += w[i].transport;
		timeouts += w[i].timeouts;
		late += w[i].late;
		n += w[i].nlat;
		for (int s = 0; s < STATUS_MAX; s++)
			status[s] += w[i].status[s];
	}
	if ((all = malloc((n ? n : 1) * sizeof(*all))) == NULL)
		return 1;
	for (int i = 0; i < opt.threads; i++) {
		if (w[i].nlat)
			memcpy(all + k, w[i].lat, w[i].nlat * sizeof(*all));
		k += w[i].nlat;
	}
	qsort(all, n, sizeof(*all), cmp_u32);
	for (int s = 0; s < STATUS_MAX; s++)
		total += status[s];
	printf("requests/s: %.0f\n", (double)ok / seconds);
	printf("latency ms: p50 %.2f p90 %.2f p99 %.2f max %.2f\n", pct(all, n, 0.50),
	    pct(all, n, 0.90), pct(all, n, 0.99), n ? (double)all[n - 1] / 1000.0 : 0.0);
	for (int s = 0; s < STATUS_MAX; s++)
		if (status[s] != 0)
			printf("status %d: %lu\n", s, status[s]);
	printf("errors: %lu (transport %lu, timeouts %lu, 200 without cms %lu)\n",
	    total - ok + transport + timeouts, transport, timeouts, bad200);
	if (opt.rate > 0)
		printf("late sends: %lu (sent > 1 ms after due: no free connection, or a slow wake-up)\n",
		    late);
	printf("client cpu: %.1f us/request (%.0f%% of one core)\n",
	    total ? cpu / (double)total * 1e6 : 0.0, cpu / seconds * 100);
	free(all);
	return total - ok + transport + timeouts == 0 && ok > 0 ? 0 : 3;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
usage(void)
{
	fprintf(stderr, "usage: sealbench -u https://HOST:PORT --cert C --key K --ca CA "
	    "(--seal ID | --get PATH)\n"
	    "         [-c CONNS] [-t THREADS] [-d SECONDS] [-w WARMUP] [-r RATE] "
	    "[--timeout SECONDS]\n");
	exit(1);
}

static double
num(const char *s, double lo, double hi)
{
	char *e;
	double v;

	errno = 0;
	v = strtod(s, &e);
	if (e == s || *e != '\0' || errno != 0 || !(v >= lo && v <= hi)) {
		fprintf(stderr, "sealbench: %s: not a number in [%g, %g]\n", s, lo, hi);
		exit(1);
	}
	return v;
}

static void
parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "ca", required_argument, NULL, 'A' },
		{ "seal", required_argument, NULL, 'S' },
		{ "get", required_argument, NULL, 'G' },
		{ "timeout", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:t:d:w:r:u:", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': opt.conns = (int)num(optarg, 1, CONNS_MAX); break;
		case 't': opt.threads = (int)num(optarg, 1, THREADS_MAX); break;
		case 'd': opt.seconds = num(optarg, 0.1, 3600); break;
		case 'w': opt.warmup = num(optarg, 0, 600); break;
		case 'r': opt.rate = num(optarg, 1, 1e7); break;
		case 'u': opt.url = optarg; break;
		case 'C': opt.cert = optarg; break;
		case 'K': opt.key = optarg; break;
		case 'A': opt.ca = optarg; break;
		case 'S': opt.seal = optarg; break;
		case 'G': opt.get_path = optarg; break;
		case 'T': opt.timeout = num(optarg, 0.1, 600); break;
		default: usage();
		}
	}
	if (optind != argc || opt.url == NULL || opt.cert == NULL || opt.key == NULL ||
	    opt.ca == NULL || (opt.seal == NULL) == (opt.get_path == NULL))
		usage();
	if (opt.seal != NULL && (strlen(opt.seal) > 128 ||
	    strspn(opt.seal, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
	    strlen(opt.seal))) {
		fprintf(stderr, "sealbench: --seal: not a seal id\n");
		exit(1);
	}
	if (opt.get_path != NULL && (opt.get_path[0] != '/' || strlen(opt.get_path) > 256 ||
	    strpbrk(opt.get_path, " \r\n") != NULL)) {
		fprintf(stderr, "sealbench: --get: not a path\n");
		exit(1);
	}
	if (parse_url(opt.url) != 0) {
		fprintf(stderr, "sealbench: -u: want https://HOST:PORT\n");
		exit(1);
	}
	if (opt.threads > opt.conns)
		opt.threads = opt.conns;
}

int
main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct worker *w;
	int rc, failed = 0;
	double cpu0, t0;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = getaddrinfo(opt.host, opt.port, &hints, &addr)) != 0) {
		fprintf(stderr, "sealbench: %s: %s\n", opt.host, gai_strerror(rc));
		return 1;
	}
	if (ctx_new() != 0 || templates_new() != 0)
		return 1;
	if ((w = calloc((size_t)opt.threads, sizeof(*w))) == NULL)
		return 1;
	pthread_barrier_init(&ready, NULL, (unsigned)opt.threads + 1);
	for (int i = 0, c0 = 0; i < opt.threads; i++) {
		int nc = opt.conns / opt.threads + (i < opt.conns % opt.threads);

		w[i].id = i;
		w[i].nconn = nc;
		w[i].conns = calloc((size_t)nc, sizeof(*w[i].conns));
		w[i].interval = opt.rate > 0 ? (double)opt.threads / opt.rate : 0;
		c0 += nc;
		if (w[i].conns == NULL || pthread_create(&w[i].th, NULL, worker_run, &w[i]) != 0) {
			fprintf(stderr, "sealbench: cannot start thread %d\n", i);
			return 1;
		}
	}
	t0 = now_s();
	pthread_barrier_wait(&ready);
	for (int i = 0; i < opt.threads; i++)
		failed |= w[i].setup_failed;
	if (failed) {
		fprintf(stderr, "sealbench: could not make all %d connections\n", opt.conns);
		atomic_store(&stop, 1);
	} else {
		printf("sealbench: %s %s, %d connections (made in %.2f s), %d threads, %s, "
		    "%g s after %g s warm-up\n", opt.get_path ? "GET" : "POST",
		    opt.get_path ? opt.get_path : "/v1/seals/ID/sign", opt.conns, now_s() - t0,
		    opt.threads, opt.rate > 0 ? "open loop" : "closed loop", opt.seconds,
		    opt.warmup);
		fflush(stdout);
	}
	t_measure = now_s() + opt.warmup;
	t_end = t_measure + opt.seconds;
	pthread_barrier_wait(&ready);
	if (!failed) {
		if (opt.rate > 0)
			printf("offered rate: %.0f requests/s\n", opt.rate);
		while (now_s() < t_measure) {
			struct timespec ts = { 0, 5 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	cpu0 = cpu_s();
	for (int i = 0; i < opt.threads; i++)
		pthread_join(w[i].th, NULL);
	rc = failed ? 1 : report(w, opt.seconds, cpu_s() - cpu0);
	for (int i = 0; i < opt.threads; i++) {
		free(w[i].conns);
		free(w[i].lat);
	}
	free(w);
	SSL_CTX_free(ctx);
	freeaddrinfo(addr);
	return rc;
}
