/*
 * clientcfg — sealctl's YAML file. See clientcfg.h.
 *
 * Read as a stream of libyaml events, like lib/config.c, so that anchors
 * and aliases are refused where they appear and every message has the line
 * of the event that caused it. The file is one flat mapping, so the loader
 * is a table of keys and one loop; the first error ends the load.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "clientcfg.h"
#include "lib/err.h"

#define ECHO_MAX 40		/* bytes of a value quoted in a message */
#define ECHO_BUF (ECHO_MAX * 4 + 4)
#define HOST_MAX 256

enum ktype { K_SERVER, K_PATH, K_UINT };

struct key {
	const char *name;
	enum ktype type;
	long long lo, hi;	/* integers: bounds */
	size_t off;
};

#define OFF(f) offsetof(struct clientcfg, f)

static const struct key keys[] = {
	{ "server", K_SERVER, 0, 0, OFF(server) },
	{ "cert", K_PATH, 0, 0, OFF(cert) },
	{ "key", K_PATH, 0, 0, OFF(key) },
	{ "ca", K_PATH, 0, 0, OFF(ca) },
	{ "timeout", K_UINT, 1, 3600, OFF(timeout) },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct loader {
	yaml_parser_t parser;
	const char *name;
	struct clientcfg *cfg;
	size_t line[NKEYS];
	char *err;
	size_t errlen;
};

/* Printable ASCII stays; anything else (and \ and ') becomes \xNN; cut at max_in. */
static const char *
escape(char *dst, size_t size, const char *s, size_t len, size_t max_in)
{
	size_t i, o = 0;

	for (i = 0; i < len && i < max_in; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[5];
		size_t n = 1;

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
			tmp[0] = (char)c;
		else
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		if (o + n + 4 > size)
			break;
		memcpy(dst + o, tmp, n);
		o += n;
	}
	if (i < len && o + 4 <= size) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

static int
fail(struct loader *ld, int rc, size_t line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
fail(struct loader *ld, int rc, size_t line, const char *key, const char *fmt, ...)
{
	char msg[CLIENTCFG_ERR_MAX], name[CLIENTCFG_ERR_MAX], where[CLIENTCFG_ERR_MAX + 32];
	va_list ap;

	if (ld->err == NULL || ld->errlen == 0)
		return rc;
	escape(name, sizeof(name), ld->name, strlen(ld->name), SIZE_MAX);
	if (line > 0)
		snprintf(where, sizeof(where), "%s:%zu", name, line);
	else
		snprintf(where, sizeof(where), "%s", name);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key != NULL)
		snprintf(ld->err, ld->errlen, "%s: %s: %s", where, key, msg);
	else
		snprintf(ld->err, ld->errlen, "%s: %s", where, msg);
	return rc;
}

static size_t
line_of(const yaml_event_t *ev)
{
	return ev->start_mark.line + 1;
}

static int
next_event(struct loader *ld, yaml_event_t *ev)
{
	yaml_parser_t *p = &ld->parser;

	memset(ev, 0, sizeof(*ev));
	if (yaml_parser_parse(p, ev))
		return 0;
	if (p->error == YAML_MEMORY_ERROR)
		return fail(ld, SB_ENOMEM, 0, NULL, "out of memory");
	if (p->error == YAML_READER_ERROR)
		return fail(ld, SB_ECONFIG, 0, NULL, "not a valid YAML file: %s",
		    p->problem ? p->problem : "unreadable input");
	return fail(ld, SB_ECONFIG, p->problem_mark.line + 1, NULL,
	    "YAML syntax error: %s", p->problem ? p->problem : "unknown problem");
}

static int
is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;

	if (ev->type != YAML_SCALAR_EVENT ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return n == 0 || (n == 1 && v[0] == '~') ||
	    (n == 4 && (memcmp(v, "null", 4) == 0 || memcmp(v, "Null", 4) == 0 ||
	    memcmp(v, "NULL", 4) == 0));
}

static const char *
describe(const yaml_event_t *ev, char buf[ECHO_BUF + 8])
{
	char e[ECHO_BUF];

	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a sequence";
	case YAML_ALIAS_EVENT:
		return "an alias";
	case YAML_SCALAR_EVENT:
		if (is_null(ev))
			return "an empty value";
		snprintf(buf, ECHO_BUF + 8, "'%s'", escape(e, sizeof(e),
		    (const char *)ev->data.scalar.value, ev->data.scalar.length, ECHO_MAX));
		return buf;
	default:
		return "something else";
	}
}

/* Anchors, aliases and tags have no use in this file; an alias can bloat it. */
static int
check_plain(struct loader *ld, const yaml_event_t *ev, const char *key)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	if (ev->type == YAML_ALIAS_EVENT)
		return fail(ld, SB_ECONFIG, line_of(ev), key, "aliases are not allowed");
	if (ev->type == YAML_SCALAR_EVENT) {
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
	} else if (ev->type == YAML_MAPPING_START_EVENT) {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	}
	if (anchor != NULL)
		return fail(ld, SB_ECONFIG, line_of(ev), key, "anchors are not allowed");
	if (tag != NULL)
		return fail(ld, SB_ECONFIG, line_of(ev), key, "tags are not allowed");
	return 0;
}

int
clientcfg_split_server(const char *server, char *host, size_t hostlen, unsigned *port)
{
	const char *colon, *h = server, *p;
	size_t hl;
	unsigned long v = 0;

	if (server == NULL || *server == '\0')
		return SB_EINVAL;
	if (server[0] == '[') {
		const char *end = strchr(server, ']');

		if (end == NULL || end[1] != ':')
			return SB_EINVAL;
		h = server + 1;
		hl = (size_t)(end - h);
		p = end + 2;
	} else {
		if ((colon = strrchr(server, ':')) == NULL || memchr(server, ':',
		    (size_t)(colon - server)) != NULL)
			return SB_EINVAL;	/* a bare v6 address needs brackets */
		hl = (size_t)(colon - server);
		p = colon + 1;
	}
	if (hl == 0 || hl >= hostlen || hl >= HOST_MAX || *p == '\0' || strlen(p) > 5)
		return SB_EINVAL;
	for (size_t i = 0; i < hl; i++)
		if ((unsigned char)h[i] <= 0x20 || h[i] == 0x7f || h[i] == '/' ||
		    h[i] == '[' || h[i] == ']')
			return SB_EINVAL;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return SB_EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return SB_EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (unsigned)v;
	return 0;
}

static int
set_uint(struct loader *ld, const struct key *k, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	char buf[ECHO_BUF + 8];
	long long x = 0;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || n == 0 || n > 10 ||
	    (n > 1 && v[0] == '0'))
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			goto bad;
		x = x * 10 + (v[i] - '0');
	}
	if (x < k->lo || x > k->hi)
		return fail(ld, SB_ECONFIG, line_of(ev), k->name,
		    "must be between %lld and %lld, got %s", k->lo, k->hi, describe(ev, buf));
	*(unsigned *)(void *)((char *)ld->cfg + k->off) = (unsigned)x;
	return 0;
bad:
	return fail(ld, SB_ECONFIG, line_of(ev), k->name,
	    "expected an integer, got %s", describe(ev, buf));
}

static int
set_string(struct loader *ld, const struct key *k, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	char e[ECHO_BUF], host[HOST_MAX], **dst;
	unsigned port;

	if (is_null(ev) || n == 0)
		return fail(ld, SB_ECONFIG, line_of(ev), k->name, "expected %s, got an empty value",
		    k->type == K_PATH ? "a path" : "host:port");
	if (n > PATH_MAX - 1)
		return fail(ld, SB_ECONFIG, line_of(ev), k->name,
		    "must be at most %d bytes long", PATH_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return fail(ld, SB_ECONFIG, line_of(ev), k->name,
			    "must not contain control characters, got '%s'",
			    escape(e, sizeof(e), v, n, ECHO_MAX));
	if (k->type == K_SERVER && clientcfg_split_server(v, host, sizeof(host), &port) != 0)
		return fail(ld, SB_ECONFIG, line_of(ev), k->name,
		    "expected host:port (or [v6-address]:port, port 1-65535), got '%s'",
		    escape(e, sizeof(e), v, n, ECHO_MAX));
	dst = (char **)(void *)((char *)ld->cfg + k->off);
	free(*dst);
	if ((*dst = strndup(v, n)) == NULL)
		return fail(ld, SB_ENOMEM, 0, NULL, "out of memory");
	return 0;
}

/* One "key: value" pair whose key event is kev. */
static int
load_pair(struct loader *ld, const yaml_event_t *kev)
{
	char e[ECHO_BUF], buf[ECHO_BUF + 8];
	const struct key *k = NULL;
	yaml_event_t ev;
	size_t i = 0, n;
	int rc;

	if ((rc = check_plain(ld, kev, NULL)) != 0)
		return rc;
	if (kev->type != YAML_SCALAR_EVENT)
		return fail(ld, SB_ECONFIG, line_of(kev), NULL, "keys must be names, got %s",
		    describe(kev, buf));
	n = kev->data.scalar.length;
	for (i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == n &&
		    memcmp(keys[i].name, kev->data.scalar.value, n) == 0) {
			k = &keys[i];
			break;
		}
	if (k == NULL)
		return fail(ld, SB_ECONFIG, line_of(kev), n ? escape(e, sizeof(e),
		    (const char *)kev->data.scalar.value, n, ECHO_MAX) : "''",
		    "unknown key (known: server, cert, key, ca, timeout)");
	if (ld->line[i] != 0)
		return fail(ld, SB_ECONFIG, line_of(kev), k->name,
		    "duplicate key (first on line %zu)", ld->line[i]);
	ld->line[i] = line_of(kev);
	if ((rc = next_event(ld, &ev)) != 0)
		return rc;
	if ((rc = check_plain(ld, &ev, k->name)) == 0) {
		if (ev.type != YAML_SCALAR_EVENT)
			rc = fail(ld, SB_ECONFIG, line_of(&ev), k->name, "expected %s, got %s",
			    k->type == K_UINT ? "an integer" : k->type == K_PATH ? "a path" :
			    "host:port", describe(&ev, buf));
		else if (k->type == K_UINT)
			rc = set_uint(ld, k, &ev);
		else
			rc = set_string(ld, k, &ev);
	}
	yaml_event_delete(&ev);
	return rc;
}

static int
load_stream(struct loader *ld)
{
	char buf[ECHO_BUF + 8];
	yaml_event_t ev;
	int rc;

	if ((rc = next_event(ld, &ev)) != 0)		/* STREAM-START */
		return rc;
	yaml_event_delete(&ev);
	if ((rc = next_event(ld, &ev)) != 0)
		return rc;
	if (ev.type == YAML_STREAM_END_EVENT) {		/* empty file */
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev);				/* DOCUMENT-START */
	if ((rc = next_event(ld, &ev)) != 0)
		return rc;
	if ((rc = check_plain(ld, &ev, NULL)) == 0 && ev.type != YAML_MAPPING_START_EVENT &&
	    !is_null(&ev))
		rc = fail(ld, SB_ECONFIG, line_of(&ev), NULL,
		    "expected a mapping of keys at the top level, got %s", describe(&ev, buf));
	if (rc == 0 && ev.type == YAML_MAPPING_START_EVENT) {
		for (;;) {
			yaml_event_t kev;

			if ((rc = next_event(ld, &kev)) != 0)
				break;
			if (kev.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&kev);
				break;
			}
			rc = load_pair(ld, &kev);
			yaml_event_delete(&kev);
			if (rc != 0)
				break;
		}
	}
	yaml_event_delete(&ev);
	if (rc != 0)
		return rc;
	if ((rc = next_event(ld, &ev)) != 0)		/* DOCUMENT-END */
		return rc;
	yaml_event_delete(&ev);
	if ((rc = next_event(ld, &ev)) != 0)
		return rc;
	if (ev.type != YAML_STREAM_END_EVENT)
		rc = fail(ld, SB_ECONFIG, line_of(&ev), NULL, "only one YAML document is allowed");
	yaml_event_delete(&ev);
	return rc;
}

void
clientcfg_free(struct clientcfg *c)
{
	if (c == NULL)
		return;
	free(c->server);
	free(c->cert);
	free(c->key);
	free(c->ca);
	free(c);
}

int
clientcfg_load_buffer(const char *name, const char *data, size_t len,
    struct clientcfg **out, char *err, size_t errlen)
{
	struct loader ld;
	int rc;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(&ld, 0, sizeof(ld));
	ld.name = name ? name : "(config)";
	ld.err = err;
	ld.errlen = errlen;
	if (data == NULL)
		len = 0;
	if (len > CLIENTCFG_MAX_BYTES)
		return fail(&ld, SB_ECONFIG, 0, NULL, "file is larger than %d bytes",
		    CLIENTCFG_MAX_BYTES);
	if ((ld.cfg = calloc(1, sizeof(*ld.cfg))) == NULL)
		return fail(&ld, SB_ENOMEM, 0, NULL, "out of memory");
	ld.cfg->timeout = CLIENTCFG_TIMEOUT_DEFAULT;
	if (!yaml_parser_initialize(&ld.parser)) {
		clientcfg_free(ld.cfg);
		return fail(&ld, SB_ENOMEM, 0, NULL, "out of memory");
	}
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		len -= 3;
	}
	yaml_parser_set_encoding(&ld.parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)(data ? data : ""), len);
	rc = load_stream(&ld);
	yaml_parser_delete(&ld.parser);
	if (rc != 0) {
		clientcfg_free(ld.cfg);
		return rc;
	}
	*out = ld.cfg;
	return 0;
}

/* *p relative to dir: replaced by "dir/p". */
static int
resolve(char **p, const char *dir, size_t dirlen)
{
	char *abs;

	if (*p == NULL || (*p)[0] == '/')
		return 0;
	if (asprintf(&abs, "%.*s/%s", (int)dirlen, dir, *p) < 0)
		return SB_ENOMEM;
	free(*p);
	*p = abs;
	return 0;
}

int
clientcfg_load(const char *path, struct clientcfg **out, char *err, size_t errlen)
{
	struct loader ld;	/* only for fail() */
	char data[CLIENTCFG_MAX_BYTES + 1];
	const char *slash;
	size_t len = 0;
	ssize_t n;
	int fd, rc, saved;

	*out = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.name = path;
	ld.err = err;
	ld.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		saved = errno;
		rc = fail(&ld, SB_EIO, 0, NULL, "cannot open: %s", strerror(errno));
		errno = saved;
		return rc;
	}
	while (len < sizeof(data)) {
		n = read(fd, data + len, sizeof(data) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fail(&ld, SB_EIO, 0, NULL, "cannot read: %s", strerror(errno));
			close(fd);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if ((rc = clientcfg_load_buffer(path, data, len, out, err, errlen)) != 0)
		return rc;
	/* Relative paths are the file's neighbours (an enrolment bundle). */
	slash = strrchr(path, '/');
	{
		const char *dir = slash ? path : ".";
		size_t dl = slash ? (size_t)(slash - path) : 1;

		if (slash == path)
			dl = 0;		/* "/client.yaml": "/" + "/cert.pem" */
		if (resolve(&(*out)->cert, dir, dl) != 0 || resolve(&(*out)->key, dir, dl) != 0 ||
		    resolve(&(*out)->ca, dir, dl) != 0) {
			clientcfg_free(*out);
			*out = NULL;
			return fail(&ld, SB_ENOMEM, 0, NULL, "out of memory");
		}
	}
	return 0;
}
