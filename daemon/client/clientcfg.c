/*
 * clientcfg — sealctl's YAML file. See clientcfg.h.
 *
 * The file is one flat mapping: the table keys[] below, read by lib/cfg's
 * loader, which is also seald's (so both files obey the same rules and say
 * what is wrong in the same words). What is sealctl's own is here: the
 * host:port rule, the size limit and relative paths.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clientcfg.h"
#include "lib/cfg.h"
#include "lib/err.h"

#define HOST_MAX 256

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

/* server: what clientcfg_split_server() takes. */
static const char *
check_server(const char *v, size_t n)
{
	char host[HOST_MAX];
	unsigned port;

	(void)n;	/* v is NUL-terminated */
	if (clientcfg_split_server(v, host, sizeof(host), &port) != 0)
		return "expected host:port (or [v6-address]:port, port 1-65535)";
	return NULL;
}

#define OFF(f) offsetof(struct clientcfg, f)

/* Paths are strings here, not CFG_PATH: a relative one is the file's neighbour. */
static const struct cfg_key keys[] = {
	{ .name = "server", .type = CFG_STRING, .lo = 1, .hi = PATH_MAX - 1,
	  .off = OFF(server), .what = "host:port", .check = check_server },
	{ .name = "cert", .type = CFG_STRING, .lo = 1, .hi = PATH_MAX - 1,
	  .off = OFF(cert), .what = "a path" },
	{ .name = "key", .type = CFG_STRING, .lo = 1, .hi = PATH_MAX - 1,
	  .off = OFF(key), .what = "a path" },
	{ .name = "ca", .type = CFG_STRING, .lo = 1, .hi = PATH_MAX - 1,
	  .off = OFF(ca), .what = "a path" },
	{ .name = "timeout", .type = CFG_UINT, .def_uint = CLIENTCFG_TIMEOUT_DEFAULT,
	  .lo = 1, .hi = 3600, .off = OFF(timeout) },
};

static const struct cfg_table table = {
	.keys = keys,
	.nkeys = sizeof(keys) / sizeof(keys[0]),
	.size = sizeof(struct clientcfg),
	.max_bytes = CLIENTCFG_MAX_BYTES,
	.top = "keys",
	.list_known = 1,
};

void
clientcfg_free(struct clientcfg *c)
{
	cfg_free(&table, c);
}

int
clientcfg_load_buffer(const char *name, const char *data, size_t len,
    struct clientcfg **out, char *err, size_t errlen)
{
	void *obj;
	int rc;

	*out = NULL;
	if ((rc = cfg_parse(&table, name, data, len, &obj, err, errlen)) == 0)
		*out = obj;
	return rc;
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
	const char *slash, *dir;
	struct clientcfg *c;
	void *obj;
	size_t dl;
	int rc;

	*out = NULL;
	if ((rc = cfg_parse_file(&table, path, &obj, err, errlen)) != 0)
		return rc;
	c = obj;
	/* Relative paths are the file's neighbours (an enrolment bundle). */
	slash = strrchr(path, '/');
	dir = slash ? path : ".";
	dl = slash ? (size_t)(slash - path) : 1;	/* "/client.yaml": dl 0, "/cert.pem" */
	if (resolve(&c->cert, dir, dl) != 0 || resolve(&c->key, dir, dl) != 0 ||
	    resolve(&c->ca, dir, dl) != 0) {
		clientcfg_free(c);
		return cfg_error(err, errlen, SB_ENOMEM, path, 0, NULL, "out of memory");
	}
	*out = c;
	return 0;
}
