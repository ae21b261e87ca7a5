/*
 * cfg — the table-driven YAML loader. See cfg.h.
 *
 * The file is read as a stream of libyaml events (not the document API) so
 * that anchors and aliases can be refused where they appear, before anything
 * is expanded, and so that every error has the line of the event that caused
 * it. What the file may contain is the caller's table: one row per key,
 * naming its full dotted path, type, bounds, default and place in the
 * caller's struct.
 *
 * The first error ends the load: there is no recovery and no partial result.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "cfg.h"
#include "err.h"

#define ECHO_MAX 40			/* bytes of a value quoted in a message */
#define ECHO_BUF (ECHO_MAX * 4 + 4)	/* each byte may become \xNN; "..." */
#define KEY_PATH_MAX 64			/* longer than any key in a table */
#define KNOWN_MAX 256			/* the "(known: ...)" list of keys */

struct cfg_ctx {
	yaml_parser_t parser;
	const struct cfg_table *t;
	const char *name;		/* file name for messages */
	const unsigned char *data;
	size_t len;
	void *obj;			/* the caller's struct, t->size bytes */
	size_t *line;			/* [t->nkeys]: where each key was seen; 0: not */
	char *err;
	size_t errlen;
};

static int
is_string(enum cfg_type t)
{
	return t == CFG_STRING || t == CFG_PATH;
}

static char **
str_at(void *obj, const struct cfg_key *k)
{
	return (char **)(void *)((char *)obj + k->off);
}

static unsigned *
uint_at(void *obj, const struct cfg_key *k)
{
	return (unsigned *)(void *)((char *)obj + k->off);
}

static const struct cfg_key *
key_find(const struct cfg_table *t, const char *path, size_t *idx)
{
	for (size_t i = 0; i < t->nkeys; i++) {
		if (strcmp(t->keys[i].name, path) == 0) {
			*idx = i;
			return &t->keys[i];
		}
	}
	return NULL;
}

/* What a key's value is, for "expected X, got Y". */
static const char *
what_of(const struct cfg_key *k)
{
	if (k->what != NULL && is_string(k->type))
		return k->what;
	switch (k->type) {
	case CFG_UINT:
		return "an integer";
	case CFG_BOOL:
		return "true or false";
	case CFG_PATH:
		return "a path";
	default:
		return "a string";
	}
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

/* "NAME:LINE: KEY: message" into err; errno is left as it was. */
static int
vfail(char *err, size_t errlen, int rc, const char *name, size_t line,
    const char *key, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

static int
vfail(char *err, size_t errlen, int rc, const char *name, size_t line,
    const char *key, const char *fmt, va_list ap)
{
	char msg[CFG_ERR_MAX], shown[CFG_ERR_MAX], where[CFG_ERR_MAX + 32];
	int saved = errno;

	if (err == NULL || errlen == 0)
		return rc;
	escape(shown, sizeof(shown), name, strlen(name), SIZE_MAX, 0);
	if (line > 0)
		snprintf(where, sizeof(where), "%s:%zu", shown, line);
	else
		snprintf(where, sizeof(where), "%s", shown);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (key != NULL)
		snprintf(err, errlen, "%s: %s: %s", where, key, msg);
	else
		snprintf(err, errlen, "%s: %s", where, msg);
	errno = saved;
	return rc;
}

int
cfg_error(char *err, size_t errlen, int rc, const char *name, size_t line,
    const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc = vfail(err, errlen, rc, name, line, key, fmt, ap);
	va_end(ap);
	return rc;
}

int
cfg_fail(struct cfg_ctx *ld, int rc, size_t line, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc = vfail(ld->err, ld->errlen, rc, ld->name, line, key, fmt, ap);
	va_end(ap);
	return rc;
}

static size_t
line_of(const yaml_event_t *ev)
{
	return ev->start_mark.line + 1;
}

/* Line of a byte offset in the input, for reader errors that carry no mark. */
static size_t
line_at_offset(const struct cfg_ctx *ld, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off && i < ld->len; i++)
		if (ld->data[i] == '\n')
			line++;
	return line;
}

/* The next event; on a YAML error, a message with libyaml's line. */
static int
next_event(struct cfg_ctx *ld, yaml_event_t *ev)
{
	yaml_parser_t *p = &ld->parser;

	memset(ev, 0, sizeof(*ev));
	if (yaml_parser_parse(p, ev))
		return 0;
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return cfg_fail(ld, SB_ENOMEM, 0, NULL, "out of memory");
	case YAML_READER_ERROR:
		return cfg_fail(ld, SB_ECONFIG, line_at_offset(ld, p->problem_offset),
		    NULL, "not a valid YAML file: %s",
		    p->problem ? p->problem : "unreadable input");
	default:
		if (p->context != NULL)
			return cfg_fail(ld, SB_ECONFIG, p->problem_mark.line + 1, NULL,
			    "YAML syntax error: %s (%s on line %zu)",
			    p->problem ? p->problem : "unknown problem",
			    p->context, p->context_mark.line + 1);
		return cfg_fail(ld, SB_ECONFIG, p->problem_mark.line + 1, NULL,
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
 * expand without bound, and none of the three has a use in our files.
 */
static int
check_plain_node(struct cfg_ctx *ld, const yaml_event_t *ev, const char *key)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return cfg_fail(ld, SB_ECONFIG, line_of(ev), key,
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
		return cfg_fail(ld, SB_ECONFIG, line_of(ev), key,
		    "anchors (&name) are not allowed");
	if (tag != NULL)
		return cfg_fail(ld, SB_ECONFIG, line_of(ev), key,
		    "tags (!name) are not allowed");
	return 0;
}

/* A plain decimal integer: no sign but '-', no leading zero, no quotes. */
static int
set_uint(struct cfg_ctx *ld, const struct cfg_key *k, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length, i = 0;
	char buf[ECHO_BUF + 32], e[ECHO_BUF];
	long long x = 0;
	int neg = 0, big = 0;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE && !is_null(ev))
		return cfg_fail(ld, SB_ECONFIG, line_of(ev), k->name,
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
		return cfg_fail(ld, SB_ECONFIG, line_of(ev), k->name,
		    "must be between %lld and %lld, got %s", k->lo, k->hi, echo(e, v, n));
	*uint_at(ld->obj, k) = (unsigned)x;
	return 0;
not_int:
	return cfg_fail(ld, SB_ECONFIG, line_of(ev), k->name,
	    "expected an integer, got %s", describe(ev, buf));
}

/* true or false, plain (unquoted). */
static int
set_bool(struct cfg_ctx *ld, const struct cfg_key *k, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	char buf[ECHO_BUF + 32], e[ECHO_BUF];

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE && !is_null(ev))
		return cfg_fail(ld, SB_ECONFIG, line_of(ev), k->name,
		    "expected true or false, got the string '%s' "
		    "(write booleans without quotes)", echo(e, v, n));
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (n == 4 && memcmp(v, "true", 4) == 0) {
			*uint_at(ld->obj, k) = 1;
			return 0;
		}
		if (n == 5 && memcmp(v, "false", 5) == 0) {
			*uint_at(ld->obj, k) = 0;
			return 0;
		}
	}
	return cfg_fail(ld, SB_ECONFIG, line_of(ev), k->name,
	    "expected true or false, got %s", describe(ev, buf));
}

static int
set_string(struct cfg_ctx *ld, const struct cfg_key *k, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value, *why;
	size_t n = ev->data.scalar.length;
	char e[ECHO_BUF], **dst;

	if (is_null(ev))
		return cfg_fail(ld, SB_ECONFIG, line_of(ev), k->name,
		    "expected %s, got an empty value", what_of(k));
	if (n == 0)
		return cfg_fail(ld, SB_ECONFIG, line_of(ev), k->name, "must not be empty");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return cfg_fail(ld, SB_ECONFIG, line_of(ev), k->name,
			    "must not contain control characters, got '%s'",
			    echo(e, v, n));
	if (k->type == CFG_PATH && v[0] != '/')
		return cfg_fail(ld, SB_ECONFIG, line_of(ev), k->name,
		    "must be an absolute path, got '%s'", echo(e, v, n));
	if (k->check != NULL && (why = k->check(v, n)) != NULL)
		return cfg_fail(ld, SB_ECONFIG, line_of(ev), k->name, "%s, got '%s'",
		    why, echo(e, v, n));
	if ((long long)n < k->lo || (long long)n > k->hi)
		return cfg_fail(ld, SB_ECONFIG, line_of(ev), k->name,
		    "must be %lld to %lld bytes long, got %zu bytes: '%s'",
		    k->lo > 0 ? k->lo : 1, k->hi, n, echo(e, v, n));
	dst = str_at(ld->obj, k);
	free(*dst);
	if ((*dst = strndup(v, n)) == NULL)
		return cfg_fail(ld, SB_ENOMEM, 0, NULL, "out of memory");
	return 0;
}

static int load_mapping(struct cfg_ctx *ld, const struct cfg_key *section);

/* The value of key k, whose own event has been read. */
static int
load_value(struct cfg_ctx *ld, const struct cfg_key *k)
{
	yaml_event_t ev;
	char buf[ECHO_BUF + 32];
	int rc;

	if ((rc = next_event(ld, &ev)) != 0)
		return rc;
	if ((rc = check_plain_node(ld, &ev, k->name)) != 0)
		goto out;
	if (k->type == CFG_SECTION) {
		if (ev.type != YAML_MAPPING_START_EVENT)
			rc = cfg_fail(ld, SB_ECONFIG, line_of(&ev), k->name,
			    "expected a mapping (a section of keys), got %s",
			    describe(&ev, buf));
		else
			rc = load_mapping(ld, k);
	} else if (ev.type != YAML_SCALAR_EVENT) {
		rc = cfg_fail(ld, SB_ECONFIG, line_of(&ev), k->name, "expected %s, got %s",
		    what_of(k), describe(&ev, buf));
	} else if (k->type == CFG_UINT) {
		rc = set_uint(ld, k, &ev);
	} else if (k->type == CFG_BOOL) {
		rc = set_bool(ld, k, &ev);
	} else {
		rc = set_string(ld, k, &ev);
	}
out:
	yaml_event_delete(&ev);
	return rc;
}

/*
 * The names of the keys directly under prefix (NULL: the top level), as
 * "a, b, c" in buf, cut with "..." if they do not fit.
 */
static const char *
known_keys(const struct cfg_table *t, const char *prefix, char *buf, size_t size)
{
	size_t plen = prefix ? strlen(prefix) : 0, o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->nkeys; i++) {
		const char *leaf = t->keys[i].name;
		size_t n;

		if (prefix != NULL) {
			if (strncmp(leaf, prefix, plen) != 0 || leaf[plen] != '.')
				continue;
			leaf += plen + 1;
		}
		if (strchr(leaf, '.') != NULL)
			continue;
		n = strlen(leaf) + (o ? 2 : 0);
		if (o + n + 4 > size) {		/* keep room for "..." and the NUL */
			memcpy(buf + o, "...", 4);
			break;
		}
		snprintf(buf + o, size - o, "%s%s", o ? ", " : "", leaf);
		o += n;
	}
	return buf;
}

/* One "key: value" pair of a mapping whose key event is kev. */
static int
load_pair(struct cfg_ctx *ld, const struct cfg_key *section, const yaml_event_t *kev)
{
	const char *prefix = section ? section->name : NULL;
	char path[KEY_PATH_MAX], shown[KEY_PATH_MAX + ECHO_BUF], e[ECHO_BUF];
	char known[KNOWN_MAX];
	const struct cfg_key *k = NULL;
	const char *name;
	size_t n, idx = 0;
	int rc, len;

	if ((rc = check_plain_node(ld, kev, prefix)) != 0)
		return rc;
	if (kev->type != YAML_SCALAR_EVENT)
		return cfg_fail(ld, SB_ECONFIG, line_of(kev), prefix,
		    "keys must be names, got %s",
		    kev->type == YAML_MAPPING_START_EVENT ? "a mapping" : "a sequence");
	name = (const char *)kev->data.scalar.value;
	n = kev->data.scalar.length;
	/* A dot inside a key would let "quorum.shares: 3" match at the top. */
	if (memchr(name, '.', n) == NULL && memchr(name, '\0', n) == NULL) {
		len = snprintf(path, sizeof(path), "%s%s%.*s", prefix ? prefix : "",
		    prefix ? "." : "", (int)(n < sizeof(path) ? n : sizeof(path)), name);
		if (len > 0 && (size_t)len < sizeof(path))
			k = key_find(ld->t, path, &idx);
	}
	if (k == NULL) {
		snprintf(shown, sizeof(shown), "%s%s%s", prefix ? prefix : "",
		    prefix ? "." : "", n ? escape(e, sizeof(e), name, n, ECHO_MAX, 0) : "''");
		if (ld->t->list_known)
			return cfg_fail(ld, SB_ECONFIG, line_of(kev), shown,
			    "unknown key (known: %s)",
			    known_keys(ld->t, prefix, known, sizeof(known)));
		return cfg_fail(ld, SB_ECONFIG, line_of(kev), shown, "unknown key");
	}
	if (ld->line[idx] != 0)
		return cfg_fail(ld, SB_ECONFIG, line_of(kev), k->name,
		    "duplicate key (first on line %zu)", ld->line[idx]);
	ld->line[idx] = line_of(kev);
	return load_value(ld, k);
}

/* The pairs of a mapping whose start event has been read, up to its end. */
static int
load_mapping(struct cfg_ctx *ld, const struct cfg_key *section)
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

size_t
cfg_line(const struct cfg_ctx *ld, const char *key)
{
	size_t idx;

	return key_find(ld->t, key, &idx) ? ld->line[idx] : 0;
}

/* Line of the section holding key k, if it was in the file; else 0. */
static size_t
section_line(const struct cfg_ctx *ld, const struct cfg_key *k)
{
	const char *dot = strrchr(k->name, '.');
	char parent[KEY_PATH_MAX];

	if (dot == NULL || (size_t)(dot - k->name) >= sizeof(parent))
		return 0;
	memcpy(parent, k->name, (size_t)(dot - k->name));
	parent[dot - k->name] = '\0';
	return cfg_line(ld, parent);
}

/* Defaults for what the file left out; an error for a missing required key. */
static int
fill_defaults(struct cfg_ctx *ld)
{
	for (size_t i = 0; i < ld->t->nkeys; i++) {
		const struct cfg_key *k = &ld->t->keys[i];

		if (ld->line[i] != 0 || k->type == CFG_SECTION)
			continue;
		if (k->required)
			return cfg_fail(ld, SB_ECONFIG, section_line(ld, k), k->name,
			    "missing required key");
		if (k->type == CFG_UINT || k->type == CFG_BOOL)
			*uint_at(ld->obj, k) = k->def_uint;
		else if (k->def_str != NULL &&
		    (*str_at(ld->obj, k) = strdup(k->def_str)) == NULL)
			return cfg_fail(ld, SB_ENOMEM, 0, NULL, "out of memory");
	}
	return 0;
}

/* The whole stream: at most one document, whose top is a mapping. */
static int
load_stream(struct cfg_ctx *ld)
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
			rc = cfg_fail(ld, SB_ECONFIG, line_of(&ev), NULL,
			    "expected a mapping of %s at the top level, got %s",
			    ld->t->top ? ld->t->top : "keys", describe(&ev, buf));
		yaml_event_delete(&ev);
		if (rc != 0)
			return rc;
		if ((rc = next_event(ld, &ev)) != 0)	/* DOCUMENT-END */
			return rc;
		yaml_event_delete(&ev);
		if ((rc = next_event(ld, &ev)) != 0)
			return rc;
		if (ev.type != YAML_STREAM_END_EVENT)
			rc = cfg_fail(ld, SB_ECONFIG, line_of(&ev), NULL,
			    "only one YAML document is allowed");
		yaml_event_delete(&ev);
		if (rc != 0)
			return rc;
	}
	if ((rc = fill_defaults(ld)) != 0)
		return rc;
	return ld->t->relations ? ld->t->relations(ld, ld->obj) : 0;
}

void
cfg_free(const struct cfg_table *t, void *obj)
{
	if (obj == NULL)
		return;
	for (size_t i = 0; i < t->nkeys; i++)
		if (is_string(t->keys[i].type))
			free(*str_at(obj, &t->keys[i]));
	free(obj);
}

int
cfg_parse(const struct cfg_table *t, const char *name, const char *data,
    size_t len, void **out, char *err, size_t errlen)
{
	struct cfg_ctx ld;
	int rc;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(&ld, 0, sizeof(ld));
	ld.t = t;
	ld.name = name ? name : "(config)";
	ld.data = (const unsigned char *)(data ? data : "");
	ld.len = data ? len : 0;
	ld.err = err;
	ld.errlen = errlen;
	if (ld.len > t->max_bytes)
		return cfg_fail(&ld, SB_ECONFIG, 0, NULL,
		    "file is larger than %zu bytes", t->max_bytes);
	if ((ld.obj = calloc(1, t->size)) == NULL ||
	    (ld.line = calloc(t->nkeys + 1, sizeof(*ld.line))) == NULL) {
		free(ld.obj);
		return cfg_fail(&ld, SB_ENOMEM, 0, NULL, "out of memory");
	}
	if (!yaml_parser_initialize(&ld.parser)) {
		free(ld.line);
		free(ld.obj);
		return cfg_fail(&ld, SB_ENOMEM, 0, NULL, "out of memory");
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
	free(ld.line);
	if (rc != 0) {
		cfg_free(t, ld.obj);
		return rc;
	}
	*out = ld.obj;
	return 0;
}

/* Closes fd keeping errno, then returns rc: for the error paths below. */
static int
close_keep_errno(int fd, int rc)
{
	int saved = errno;

	close(fd);
	errno = saved;
	return rc;
}

int
cfg_parse_file(const struct cfg_table *t, const char *path, void **out,
    char *err, size_t errlen)
{
	struct stat st;
	char *data;
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return cfg_error(err, errlen, SB_EIO, path, 0, NULL,
		    "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0)
		return close_keep_errno(fd, cfg_error(err, errlen, SB_EIO, path, 0,
		    NULL, "cannot read: %s", strerror(errno)));
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > t->max_bytes)
		return close_keep_errno(fd, cfg_error(err, errlen, SB_ECONFIG, path,
		    0, NULL, "file is larger than %zu bytes", t->max_bytes));
	/* Read one byte past the limit to tell a full file from a larger one. */
	if ((data = malloc(t->max_bytes + 1)) == NULL)
		return close_keep_errno(fd, cfg_error(err, errlen, SB_ENOMEM, path,
		    0, NULL, "out of memory"));
	while (len < t->max_bytes + 1) {
		n = read(fd, data + len, t->max_bytes + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = cfg_error(err, errlen, SB_EIO, path, 0, NULL,
			    "cannot read: %s", strerror(errno));
			free(data);
			return close_keep_errno(fd, rc);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rc = cfg_parse(t, path, data, len, out, err, errlen);
	free(data);
	return rc;
}
