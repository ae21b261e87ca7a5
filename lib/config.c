/*
 * config — the YAML configuration loader.
 *
 * The file is read as a stream of libyaml events (not the document API) so
 * that anchors and aliases can be refused where they appear, before anything
 * is expanded, and so that every error has the line of the event that caused
 * it. What the file may contain is the table keys[] below: one row per key,
 * naming its full dotted path, type, bounds, default and place in struct
 * config. A new key is a new row (and, for a new section, a row for the
 * section); cross-key rules go in check_relations().
 *
 * The first error ends the load: there is no recovery and no partial config.
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

#include "config.h"
#include "err.h"

#define ECHO_MAX 40			/* bytes of a value quoted in a message */
#define ECHO_BUF (ECHO_MAX * 4 + 4)	/* each byte may become \xNN; "..." */
#define KEY_PATH_MAX 64			/* longer than any key in the table */
#define SUN_PATH_MAX 107		/* sockaddr_un.sun_path less its NUL */

enum ktype {
	K_SECTION,	/* a mapping of further keys */
	K_STRING,	/* text of lo..hi bytes without control characters */
	K_PATH,		/* an absolute path of at most hi bytes */
	K_ID,		/* appliance id: [a-z0-9][a-z0-9-]{0,CONFIG_ID_MAX-1} */
	K_UINT,		/* a plain decimal integer in lo..hi */
	K_BOOL,		/* true or false, unquoted; stored as unsigned 0/1 */
};

struct key {
	const char *name;	/* full dotted path: "quorum.threshold" */
	enum ktype type;
	int required;
	const char *def_str;	/* default of a string key, or NULL */
	unsigned def_uint;	/* default of an integer key */
	long long lo, hi;	/* integers: bounds; strings: length in bytes */
	size_t off;		/* where the value goes in struct config */
};

#define OFF(field) offsetof(struct config, field)

static const struct key keys[] = {
	{ .name = "appliance", .type = K_SECTION },
	{ .name = "appliance.id", .type = K_ID, .required = 1,
	  .lo = 1, .hi = CONFIG_ID_MAX, .off = OFF(appliance.id) },
	{ .name = "appliance.state_dir", .type = K_PATH, .required = 1,
	  .hi = PATH_MAX - 1, .off = OFF(appliance.state_dir) },

	{ .name = "hsm", .type = K_SECTION },
	{ .name = "hsm.module", .type = K_PATH, .required = 1,
	  .hi = PATH_MAX - 1, .off = OFF(hsm.module) },
	/* A PKCS#11 token label is a 32-byte field. */
	{ .name = "hsm.token", .type = K_STRING, .required = 1,
	  .lo = 1, .hi = 32, .off = OFF(hsm.token) },

	{ .name = "quorum", .type = K_SECTION },
	{ .name = "quorum.shares", .type = K_UINT, .def_uint = 3,
	  .lo = 2, .hi = CONFIG_MAX_SHARES, .off = OFF(quorum.shares) },
	{ .name = "quorum.threshold", .type = K_UINT, .def_uint = 2,
	  .lo = 2, .hi = CONFIG_MAX_SHARES, .off = OFF(quorum.threshold) },

	{ .name = "listen", .type = K_SECTION },
	{ .name = "listen.address", .type = K_STRING, .def_str = "127.0.0.1",
	  .lo = 1, .hi = 255, .off = OFF(listen.address) },
	{ .name = "listen.port", .type = K_UINT, .def_uint = 8443,
	  .lo = 1, .hi = 65535, .off = OFF(listen.port) },

	{ .name = "tls", .type = K_SECTION },
	{ .name = "tls.certificate", .type = K_PATH,
	  .hi = PATH_MAX - 1, .off = OFF(tls.certificate) },
	{ .name = "tls.key", .type = K_PATH,
	  .hi = PATH_MAX - 1, .off = OFF(tls.key) },
	{ .name = "tls.client_ca", .type = K_PATH,
	  .hi = PATH_MAX - 1, .off = OFF(tls.client_ca) },
	{ .name = "tls.crl", .type = K_PATH,
	  .hi = PATH_MAX - 1, .off = OFF(tls.crl) },

	{ .name = "admin_socket", .type = K_PATH,
	  .def_str = "/run/sealbox/admin.sock",
	  .hi = SUN_PATH_MAX, .off = OFF(admin_socket) },

	{ .name = "http", .type = K_SECTION },
	{ .name = "http.max_body", .type = K_UINT, .def_uint = 1048576,
	  .lo = 1024, .hi = 64 * 1024 * 1024, .off = OFF(http.max_body) },
	{ .name = "http.max_headers", .type = K_UINT, .def_uint = 8192,
	  .lo = 1024, .hi = 65536, .off = OFF(http.max_headers) },
	{ .name = "http.max_connections", .type = K_UINT, .def_uint = 512,
	  .lo = 1, .hi = 65536, .off = OFF(http.max_connections) },
	{ .name = "http.idle_timeout", .type = K_UINT, .def_uint = 60,
	  .lo = 1, .hi = 3600, .off = OFF(http.idle_timeout) },
	{ .name = "http.read_timeout", .type = K_UINT, .def_uint = 30,
	  .lo = 1, .hi = 600, .off = OFF(http.read_timeout) },
	{ .name = "http.queue_max", .type = K_UINT, .def_uint = 4096,
	  .lo = 1, .hi = 1000000, .off = OFF(http.queue_max) },

	{ .name = "time", .type = K_SECTION },
	{ .name = "time.require_sync", .type = K_BOOL, .def_uint = 1,
	  .off = OFF(time.require_sync) },

	{ .name = "sign", .type = K_SECTION },
	{ .name = "sign.batch_max", .type = K_UINT, .def_uint = 100,
	  .lo = 1, .hi = 1000, .off = OFF(sign.batch_max) },

	{ .name = "net", .type = K_SECTION },
	{ .name = "net.user", .type = K_STRING, .def_str = "nobody",
	  .lo = 1, .hi = 32, .off = OFF(net.user) },
	{ .name = "net.chroot", .type = K_PATH,
	  .hi = PATH_MAX - 1, .off = OFF(net.chroot) },

	{ .name = "monitor", .type = K_SECTION },
	{ .name = "monitor.workers", .type = K_UINT, .def_uint = 16,
	  .lo = 1, .hi = 64, .off = OFF(monitor.workers) },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct loader {
	yaml_parser_t parser;
	const char *name;		/* file name for messages */
	const unsigned char *data;
	size_t len;
	struct config *cfg;
	size_t line[NKEYS];		/* where each key was seen; 0: not seen */
	char *err;
	size_t errlen;
};

static int
is_string(enum ktype t)
{
	return t == K_STRING || t == K_PATH || t == K_ID;
}

static char **
str_at(struct config *cfg, const struct key *k)
{
	return (char **)(void *)((char *)cfg + k->off);
}

static unsigned *
uint_at(struct config *cfg, const struct key *k)
{
	return (unsigned *)(void *)((char *)cfg + k->off);
}

static const struct key *
key_find(const char *path, size_t *idx)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, path) == 0) {
			*idx = i;
			return &keys[i];
		}
	}
	return NULL;
}

/*
 * Copy at most max_in bytes of s into dst (size bytes), writing bytes that
 * are not printable ASCII, and backslashes, as \xNN (and, with quote, a
 * single quote as \'), then "..." if s was cut. Returns dst. A message built
 * from it stays on one line and cannot drive a terminal.
 */
static const char *
escape(char *dst, size_t size, const char *s, size_t len, size_t max_in, int quote)
{
	size_t i, o = 0;

	for (i = 0; i < len && i < max_in; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[5];
		size_t n;

		if (c >= 0x20 && c < 0x7f && c != '\\' && !(quote && c == '\'')) {
			tmp[0] = (char)c;
			n = 1;
		} else if (c == '\\' || c == '\'') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			n = 2;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			n = 4;
		}
		if (o + n + 4 > size)	/* keep room for "..." and the NUL */
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

/* A value as shown in a message: escaped and cut at ECHO_MAX bytes. */
static const char *
echo(char dst[ECHO_BUF], const char *s, size_t len)
{
	return escape(dst, ECHO_BUF, s, len, ECHO_MAX, 1);
}

/*
 * Put "NAME:LINE: KEY: message" in the caller's buffer (LINE left out when 0,
 * KEY when NULL) and return rc.
 */
static int
fail(struct loader *ld, int rc, size_t line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
fail(struct loader *ld, int rc, size_t line, const char *key, const char *fmt, ...)
{
	char msg[CONFIG_ERR_MAX], name[CONFIG_ERR_MAX], where[CONFIG_ERR_MAX + 32];
	va_list ap;

	if (ld->err == NULL || ld->errlen == 0)
		return rc;
	escape(name, sizeof(name), ld->name, strlen(ld->name), SIZE_MAX, 0);
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

/* Line of a byte offset in the input, for reader errors that carry no mark. */
static size_t
line_at_offset(const struct loader *ld, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off && i < ld->len; i++)
		if (ld->data[i] == '\n')
			line++;
	return line;
}

/* The next event; on a YAML error, a message with libyaml's line. */
static int
next_event(struct loader *ld, yaml_event_t *ev)
{
	yaml_parser_t *p = &ld->parser;

	memset(ev, 0, sizeof(*ev));
	if (yaml_parser_parse(p, ev))
		return 0;
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return fail(ld, SB_ENOMEM, 0, NULL, "out of memory");
	case YAML_READER_ERROR:
		return fail(ld, SB_ECONFIG, line_at_offset(ld, p->problem_offset),
		    NULL, "not a valid YAML file: %s",
		    p->problem ? p->problem : "unreadable input");
	default:
		if (p->context != NULL)
			return fail(ld, SB_ECONFIG, p->problem_mark.line + 1, NULL,
			    "YAML syntax error: %s (%s on line %zu)",
			    p->problem ? p->problem : "unknown problem",
			    p->context, p->context_mark.line + 1);
		return fail(ld, SB_ECONFIG, p->problem_mark.line + 1, NULL,
		    "YAML syntax error: %s",
		    p->problem ? p->problem : "unknown problem");
	}
}

/* A plain scalar that YAML reads as null: nothing, "~" or "null". */
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

/* What a node is, for "expected X, got Y". */
static const char *
describe(const yaml_event_t *ev, char buf[ECHO_BUF + 32])
{
	char e[ECHO_BUF];

	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a sequence";
	case YAML_SCALAR_EVENT:
		if (is_null(ev))
			return "an empty value";
		snprintf(buf, ECHO_BUF + 32, "'%s'",
		    echo(e, (const char *)ev->data.scalar.value, ev->data.scalar.length));
		return buf;
	default:
		return "something else";
	}
}

/*
 * Refuse anchors, aliases and tags on a node: an alias can make a small file
 * expand without bound, and none of the three has a use in this file.
 */
static int
check_plain_node(struct loader *ld, const yaml_event_t *ev, const char *key)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return fail(ld, SB_ECONFIG, line_of(ev), key,
		    "aliases (*name) are not allowed");
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (anchor != NULL)
		return fail(ld, SB_ECONFIG, line_of(ev), key,
		    "anchors (&name) are not allowed");
	if (tag != NULL)
		return fail(ld, SB_ECONFIG, line_of(ev), key,
		    "tags (!name) are not allowed");
	return 0;
}

/* A plain decimal integer: no sign but '-', no leading zero, no quotes. */
static int
set_uint(struct loader *ld, const struct key *k, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length, i = 0;
	char buf[ECHO_BUF + 32], e[ECHO_BUF];
	long long x = 0;
	int neg = 0, big = 0;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE && !is_null(ev))
		return fail(ld, SB_ECONFIG, line_of(ev), k->name,
		    "expected an integer, got the string '%s' "
		    "(write integers without quotes)", echo(e, v, n));
	if (n > 0 && v[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n || (v[i] == '0' && n - i > 1))
		goto not_int;
	for (; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			goto not_int;
		if (x > 1000000000000LL)
			big = 1;	/* far out of any range; stop growing */
		else
			x = x * 10 + (v[i] - '0');
	}
	if (neg)
		x = -x;
	if (big || x < k->lo || x > k->hi)
		return fail(ld, SB_ECONFIG, line_of(ev), k->name,
		    "must be between %lld and %lld, got %s", k->lo, k->hi, echo(e, v, n));
	*uint_at(ld->cfg, k) = (unsigned)x;
	return 0;
not_int:
	return fail(ld, SB_ECONFIG, line_of(ev), k->name,
	    "expected an integer, got %s", describe(ev, buf));
}

/* true or false, plain (unquoted). */
static int
set_bool(struct loader *ld, const struct key *k, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	char buf[ECHO_BUF + 32], e[ECHO_BUF];

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE && !is_null(ev))
		return fail(ld, SB_ECONFIG, line_of(ev), k->name,
		    "expected true or false, got the string '%s' "
		    "(write booleans without quotes)", echo(e, v, n));
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (n == 4 && memcmp(v, "true", 4) == 0) {
			*uint_at(ld->cfg, k) = 1;
			return 0;
		}
		if (n == 5 && memcmp(v, "false", 5) == 0) {
			*uint_at(ld->cfg, k) = 0;
			return 0;
		}
	}
	return fail(ld, SB_ECONFIG, line_of(ev), k->name,
	    "expected true or false, got %s", describe(ev, buf));
}

static int
valid_id(const char *v, size_t n)
{
	if (n < 1 || n > CONFIG_ID_MAX || v[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') ||
		    v[i] == '-'))
			return 0;
	return 1;
}

static int
set_string(struct loader *ld, const struct key *k, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	char e[ECHO_BUF], **dst;

	if (is_null(ev))
		return fail(ld, SB_ECONFIG, line_of(ev), k->name,
		    "expected %s, got an empty value",
		    k->type == K_PATH ? "a path" : "a string");
	if (n == 0)
		return fail(ld, SB_ECONFIG, line_of(ev), k->name, "must not be empty");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return fail(ld, SB_ECONFIG, line_of(ev), k->name,
			    "must not contain control characters, got '%s'",
			    echo(e, v, n));
	switch (k->type) {
	case K_ID:
		if (!valid_id(v, n))
			return fail(ld, SB_ECONFIG, line_of(ev), k->name,
			    "must be 1 to %d characters a-z, 0-9 and '-', "
			    "not starting with '-', got '%s'", CONFIG_ID_MAX,
			    echo(e, v, n));
		break;
	case K_PATH:
		if (v[0] != '/')
			return fail(ld, SB_ECONFIG, line_of(ev), k->name,
			    "must be an absolute path, got '%s'", echo(e, v, n));
		/* FALLTHROUGH */
	default:
		if ((long long)n < k->lo || (long long)n > k->hi)
			return fail(ld, SB_ECONFIG, line_of(ev), k->name,
			    "must be %lld to %lld bytes long, got %zu bytes: '%s'",
			    k->lo > 0 ? k->lo : 1, k->hi, n, echo(e, v, n));
		break;
	}
	dst = str_at(ld->cfg, k);
	free(*dst);
	if ((*dst = strndup(v, n)) == NULL)
		return fail(ld, SB_ENOMEM, 0, NULL, "out of memory");
	return 0;
}

static int load_mapping(struct loader *ld, const struct key *section);

/* The value of key k, whose own event has been read. */
static int
load_value(struct loader *ld, const struct key *k)
{
	yaml_event_t ev;
	char buf[ECHO_BUF + 32];
	int rc;

	if ((rc = next_event(ld, &ev)) != 0)
		return rc;
	if ((rc = check_plain_node(ld, &ev, k->name)) != 0)
		goto out;
	if (k->type == K_SECTION) {
		if (ev.type != YAML_MAPPING_START_EVENT)
			rc = fail(ld, SB_ECONFIG, line_of(&ev), k->name,
			    "expected a mapping (a section of keys), got %s",
			    describe(&ev, buf));
		else
			rc = load_mapping(ld, k);
	} else if (ev.type != YAML_SCALAR_EVENT) {
		rc = fail(ld, SB_ECONFIG, line_of(&ev), k->name, "expected %s, got %s",
		    k->type == K_UINT ? "an integer" : k->type == K_BOOL ? "true or false" :
		    k->type == K_PATH ? "a path" : "a string", describe(&ev, buf));
	} else if (k->type == K_UINT) {
		rc = set_uint(ld, k, &ev);
	} else if (k->type == K_BOOL) {
		rc = set_bool(ld, k, &ev);
	} else {
		rc = set_string(ld, k, &ev);
	}
out:
	yaml_event_delete(&ev);
	return rc;
}

/* One "key: value" pair of a mapping whose key event is kev. */
static int
load_pair(struct loader *ld, const struct key *section, const yaml_event_t *kev)
{
	const char *prefix = section ? section->name : NULL;
	char path[KEY_PATH_MAX], shown[KEY_PATH_MAX + ECHO_BUF], e[ECHO_BUF];
	const struct key *k = NULL;
	const char *name;
	size_t n, idx = 0;
	int rc, len;

	if ((rc = check_plain_node(ld, kev, prefix)) != 0)
		return rc;
	if (kev->type != YAML_SCALAR_EVENT)
		return fail(ld, SB_ECONFIG, line_of(kev), prefix,
		    "keys must be names, got %s",
		    kev->type == YAML_MAPPING_START_EVENT ? "a mapping" : "a sequence");
	name = (const char *)kev->data.scalar.value;
	n = kev->data.scalar.length;
	/* A dot inside a key would let "quorum.shares: 3" match at the top. */
	if (memchr(name, '.', n) == NULL && memchr(name, '\0', n) == NULL) {
		len = snprintf(path, sizeof(path), "%s%s%.*s", prefix ? prefix : "",
		    prefix ? "." : "", (int)(n < sizeof(path) ? n : sizeof(path)), name);
		if (len > 0 && (size_t)len < sizeof(path))
			k = key_find(path, &idx);
	}
	if (k == NULL) {
		snprintf(shown, sizeof(shown), "%s%s%s", prefix ? prefix : "",
		    prefix ? "." : "", n ? escape(e, sizeof(e), name, n, ECHO_MAX, 0) : "''");
		return fail(ld, SB_ECONFIG, line_of(kev), shown, "unknown key");
	}
	if (ld->line[idx] != 0)
		return fail(ld, SB_ECONFIG, line_of(kev), k->name,
		    "duplicate key (first on line %zu)", ld->line[idx]);
	ld->line[idx] = line_of(kev);
	return load_value(ld, k);
}

/* The pairs of a mapping whose start event has been read, up to its end. */
static int
load_mapping(struct loader *ld, const struct key *section)
{
	yaml_event_t ev;
	int rc;

	for (;;) {
		if ((rc = next_event(ld, &ev)) != 0)
			return rc;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		rc = load_pair(ld, section, &ev);
		yaml_event_delete(&ev);
		if (rc != 0)
			return rc;
	}
}

/* Line of the section holding key k, if it was in the file; else 0. */
static size_t
section_line(const struct loader *ld, const struct key *k)
{
	const char *dot = strrchr(k->name, '.');
	char parent[KEY_PATH_MAX];
	size_t idx;

	if (dot == NULL || (size_t)(dot - k->name) >= sizeof(parent))
		return 0;
	memcpy(parent, k->name, (size_t)(dot - k->name));
	parent[dot - k->name] = '\0';
	return key_find(parent, &idx) ? ld->line[idx] : 0;
}

/* Defaults for what the file left out; an error for a missing required key. */
static int
fill_defaults(struct loader *ld)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		if (ld->line[i] != 0 || k->type == K_SECTION)
			continue;
		if (k->required)
			return fail(ld, SB_ECONFIG, section_line(ld, k), k->name,
			    "missing required key");
		if (k->type == K_UINT || k->type == K_BOOL)
			*uint_at(ld->cfg, k) = k->def_uint;
		else if (k->def_str != NULL &&
		    (*str_at(ld->cfg, k) = strdup(k->def_str)) == NULL)
			return fail(ld, SB_ENOMEM, 0, NULL, "out of memory");
	}
	return 0;
}

static size_t
line_of_key(const struct loader *ld, const char *name)
{
	size_t idx;

	return key_find(name, &idx) ? ld->line[idx] : 0;
}

/* Rules that tie keys together. */
static int
check_relations(struct loader *ld)
{
	const struct config *c = ld->cfg;

	if (c->quorum.threshold > c->quorum.shares) {
		size_t line = line_of_key(ld, "quorum.threshold");

		return fail(ld, SB_ECONFIG,
		    line ? line : line_of_key(ld, "quorum.shares"), "quorum.threshold",
		    "must not be more than quorum.shares (%u), got %u",
		    c->quorum.shares, c->quorum.threshold);
	}
	return 0;
}

/* The whole stream: at most one document, whose top is a mapping. */
static int
load_stream(struct loader *ld)
{
	yaml_event_t ev;
	char buf[ECHO_BUF + 32];
	int rc, more = 1;

	if ((rc = next_event(ld, &ev)) != 0)	/* STREAM-START */
		return rc;
	yaml_event_delete(&ev);
	if ((rc = next_event(ld, &ev)) != 0)
		return rc;
	if (ev.type == YAML_STREAM_END_EVENT)	/* nothing but comments */
		more = 0;
	yaml_event_delete(&ev);
	if (more) {				/* DOCUMENT-START read */
		if ((rc = next_event(ld, &ev)) != 0)
			return rc;
		if ((rc = check_plain_node(ld, &ev, NULL)) != 0)
			;
		else if (ev.type == YAML_MAPPING_START_EVENT)
			rc = load_mapping(ld, NULL);
		else if (!is_null(&ev))
			rc = fail(ld, SB_ECONFIG, line_of(&ev), NULL,
			    "expected a mapping of sections at the top level, got %s",
			    describe(&ev, buf));
		yaml_event_delete(&ev);
		if (rc != 0)
			return rc;
		if ((rc = next_event(ld, &ev)) != 0)	/* DOCUMENT-END */
			return rc;
		yaml_event_delete(&ev);
		if ((rc = next_event(ld, &ev)) != 0)
			return rc;
		if (ev.type != YAML_STREAM_END_EVENT)
			rc = fail(ld, SB_ECONFIG, line_of(&ev), NULL,
			    "only one YAML document is allowed");
		yaml_event_delete(&ev);
		if (rc != 0)
			return rc;
	}
	if ((rc = fill_defaults(ld)) != 0)
		return rc;
	return check_relations(ld);
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++)
		if (is_string(keys[i].type))
			free(*str_at(cfg, &keys[i]));
	free(cfg->path);
	free(cfg);
}

int
config_load_buffer(const char *name, const char *data, size_t len,
    struct config **out, char *err, size_t errlen)
{
	struct loader ld;
	int rc;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(&ld, 0, sizeof(ld));
	ld.name = name ? name : "(config)";
	ld.data = (const unsigned char *)(data ? data : "");
	ld.len = data ? len : 0;
	ld.err = err;
	ld.errlen = errlen;
	if (ld.len > CONFIG_MAX_BYTES)
		return fail(&ld, SB_ECONFIG, 0, NULL,
		    "file is larger than %d bytes", CONFIG_MAX_BYTES);
	if ((ld.cfg = calloc(1, sizeof(*ld.cfg))) == NULL ||
	    (ld.cfg->path = strdup(ld.name)) == NULL) {
		config_free(ld.cfg);
		return fail(&ld, SB_ENOMEM, 0, NULL, "out of memory");
	}
	if (!yaml_parser_initialize(&ld.parser)) {
		config_free(ld.cfg);
		return fail(&ld, SB_ENOMEM, 0, NULL, "out of memory");
	}
	/*
	 * UTF-8 only, so that byte offsets and lines agree in every message.
	 * With the encoding fixed libyaml counts a byte-order mark as a column,
	 * which shifts the first line's indentation: drop it here.
	 */
	if (ld.len >= 3 && memcmp(ld.data, "\xef\xbb\xbf", 3) == 0) {
		ld.data += 3;
		ld.len -= 3;
	}
	yaml_parser_set_encoding(&ld.parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&ld.parser, ld.data, ld.len);
	rc = load_stream(&ld);
	yaml_parser_delete(&ld.parser);
	if (rc != 0) {
		config_free(ld.cfg);
		return rc;
	}
	*out = ld.cfg;
	return 0;
}

int
config_load(const char *path, struct config **out, char *err, size_t errlen)
{
	struct loader ld;	/* only for fail() */
	struct stat st;
	char *data;
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL)
		path = CONFIG_DEFAULT_PATH;
	memset(&ld, 0, sizeof(ld));
	ld.name = path;
	ld.err = err;
	ld.errlen = errlen;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return fail(&ld, SB_EIO, 0, NULL, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = fail(&ld, SB_EIO, 0, NULL, "cannot read: %s", strerror(errno));
		close(fd);
		return rc;
	}
	if (S_ISREG(st.st_mode) && st.st_size > CONFIG_MAX_BYTES) {
		close(fd);
		return fail(&ld, SB_ECONFIG, 0, NULL,
		    "file is larger than %d bytes", CONFIG_MAX_BYTES);
	}
	/* Read one byte past the limit to tell a full file from a larger one. */
	if ((data = malloc(CONFIG_MAX_BYTES + 1)) == NULL) {
		close(fd);
		return fail(&ld, SB_ENOMEM, 0, NULL, "out of memory");
	}
	while (len < CONFIG_MAX_BYTES + 1) {
		n = read(fd, data + len, CONFIG_MAX_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fail(&ld, SB_EIO, 0, NULL, "cannot read: %s", strerror(errno));
			free(data);
			close(fd);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rc = config_load_buffer(path, data, len, out, err, errlen);
	free(data);
	return rc;
}
