/*
 * test_clientcfg — sealctl's client config loader (daemon/client/clientcfg.c):
 * as strict as the appliance's own, with "FILE:LINE: KEY: what" messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "daemon/client/clientcfg.h"

static char err[CLIENTCFG_ERR_MAX];
static char tmpdir[64];

static int
load(const char *text, struct clientcfg **c)
{
	int rc;

	*c = (struct clientcfg *)&rc;	/* must be overwritten */
	rc = clientcfg_load_buffer("client.yaml", text, strlen(text), c, err, sizeof(err));
	if (rc != 0 && *c != NULL)
		return 12345;
	if (strchr(err, '\n') != NULL)
		return 12346;
	return rc;
}

#define CHECK_FAILS(text, want) do { \
	struct clientcfg *cf_; \
	CHECK_RC(load((text), &cf_), SB_ECONFIG); \
	CHECK_STR(err, (want)); \
} while (0)

static void
test_full(void)
{
	struct clientcfg *c;

	CHECK_RC(load("# the ERP's settings\n"
	    "server: sealbox.example.org:8443\n"
	    "cert: /etc/erp/sealbox/client.pem\n"
	    "key: /etc/erp/sealbox/client.key\n"
	    "ca: /etc/erp/sealbox/ca.pem\n"
	    "timeout: 5\n", &c), 0);
	CHECK_STR(err, "");
	CHECK_STR(c->server, "sealbox.example.org:8443");
	CHECK_STR(c->cert, "/etc/erp/sealbox/client.pem");
	CHECK_STR(c->key, "/etc/erp/sealbox/client.key");
	CHECK_STR(c->ca, "/etc/erp/sealbox/ca.pem");
	CHECK(c->timeout == 5);
	clientcfg_free(c);
}

static void
test_empty_and_defaults(void)
{
	struct clientcfg *c;

	CHECK_RC(load("", &c), 0);
	CHECK(c->server == NULL && c->cert == NULL && c->key == NULL && c->ca == NULL);
	CHECK(c->timeout == CLIENTCFG_TIMEOUT_DEFAULT);
	clientcfg_free(c);
	CHECK_RC(load("# nothing\n", &c), 0);
	clientcfg_free(c);
	CHECK_RC(load("server: '[::1]:8443'\n", &c), 0);
	CHECK_STR(c->server, "[::1]:8443");
	clientcfg_free(c);
	clientcfg_free(NULL);
}

static void
test_unknown_key(void)
{
	CHECK_FAILS("server: h:1\nsever: h:2\n",
	    "client.yaml:2: sever: unknown key (known: server, cert, key, ca, timeout)");
	CHECK_FAILS("tls:\n  cert: /a\n",
	    "client.yaml:1: tls: unknown key (known: server, cert, key, ca, timeout)");
	CHECK_FAILS("server.port: 1\n",
	    "client.yaml:1: server.port: unknown key (known: server, cert, key, ca, timeout)");
}

static void
test_wrong_types(void)
{
	CHECK_FAILS("timeout: soon\n", "client.yaml:1: timeout: expected an integer, got 'soon'");
	CHECK_FAILS("timeout: '30'\n", "client.yaml:1: timeout: expected an integer, got the "
	    "string '30' (write integers without quotes)");
	CHECK_FAILS("timeout: 030\n", "client.yaml:1: timeout: expected an integer, got '030'");
	CHECK_FAILS("timeout: 0\n", "client.yaml:1: timeout: must be between 1 and 3600, got 0");
	CHECK_FAILS("timeout: 3601\n",
	    "client.yaml:1: timeout: must be between 1 and 3600, got 3601");
	CHECK_FAILS("\ncert: [a, b]\n", "client.yaml:2: cert: expected a path, got a sequence");
	CHECK_FAILS("key:\n  file: /k\n", "client.yaml:2: key: expected a path, got a mapping");
	CHECK_FAILS("ca:\n", "client.yaml:1: ca: expected a path, got an empty value");
	CHECK_FAILS("server: example.org\n", "client.yaml:1: server: expected host:port "
	    "(or [v6-address]:port, port 1-65535), got 'example.org'");
	CHECK_FAILS("server: ::1:8443\n", "client.yaml:1: server: expected host:port "
	    "(or [v6-address]:port, port 1-65535), got '::1:8443'");
	CHECK_FAILS("server: h:70000\n", "client.yaml:1: server: expected host:port "
	    "(or [v6-address]:port, port 1-65535), got 'h:70000'");
	CHECK_FAILS("cert: \"/a\\tb\"\n",
	    "client.yaml:1: cert: must not contain control characters, got '/a\\x09b'");
	CHECK_FAILS("- server\n",
	    "client.yaml:1: expected a mapping of keys at the top level, got a sequence");
}

static void
test_yaml_rules(void)
{
	CHECK_FAILS("server: h:1\nserver: h:2\n",
	    "client.yaml:2: server: duplicate key (first on line 1)");
	CHECK_FAILS("ca: &a /ca.pem\ncert: *a\n",
	    "client.yaml:1: ca: anchors (&name) are not allowed");
	CHECK_FAILS("cert: *a\n", "client.yaml:1: cert: aliases (*name) are not allowed");
	CHECK_FAILS("cert: !!str /c\n", "client.yaml:1: cert: tags (!name) are not allowed");
	CHECK_FAILS("server: h:1\n---\nserver: h:2\n",
	    "client.yaml:2: only one YAML document is allowed");
	{
		struct clientcfg *c;

		CHECK_RC(load("server: h:1\ncert: 'unterminated\n", &c), SB_ECONFIG);
		CHECK_CONTAINS(err, "client.yaml:3: YAML syntax error: ");
	}
}

/* These once differed from seald.yaml's loader; now both are lib/cfg's. */
static void
test_same_rules_as_seald(void)
{
	CHECK_FAILS("timeout: -5\n", "client.yaml:1: timeout: must be between 1 and 3600, got -5");
	CHECK_FAILS("timeout: 99999999999999999999\n",
	    "client.yaml:1: timeout: must be between 1 and 3600, got 99999999999999999999");
	CHECK_FAILS("cert: ''\n", "client.yaml:1: cert: must not be empty");
	CHECK_FAILS("server: \"h\\\\x'y\"\n", "client.yaml:1: server: expected host:port "
	    "(or [v6-address]:port, port 1-65535), got 'h\\\\x\\'y'");
	CHECK_FAILS("server: h:1\ncert: a\xff\n",
	    "client.yaml:2: not a valid YAML file: invalid leading UTF-8 octet");
	CHECK_FAILS("server: \"h:1\n",
	    "client.yaml:2: YAML syntax error: found unexpected end of stream "
	    "(while scanning a quoted scalar on line 1)");
	CHECK_FAILS("server: [h:1]\n", "client.yaml:1: server: expected host:port, got a sequence");
	CHECK_FAILS("timeout: true\n", "client.yaml:1: timeout: expected an integer, got 'true'");
}

static void
test_too_large(void)
{
	size_t n = CLIENTCFG_MAX_BYTES + 1;
	char *big = malloc(n + 1);
	struct clientcfg *c;

	CHECK(big != NULL);
	memset(big, '#', n);
	big[n] = '\0';
	CHECK_RC(clientcfg_load_buffer("client.yaml", big, n, &c, err, sizeof(err)), SB_ECONFIG);
	free(big);
	CHECK(c == NULL);
	CHECK_STR(err, "client.yaml: file is larger than 65536 bytes");
}

static void
test_missing_file(void)
{
	struct clientcfg *c;
	char path[128];

	snprintf(path, sizeof(path), "%s/nope.yaml", tmpdir);
	errno = 0;
	CHECK_RC(clientcfg_load(path, &c, err, sizeof(err)), SB_EIO);
	CHECK(errno == ENOENT);
	CHECK(c == NULL);
	CHECK_CONTAINS(err, "nope.yaml: cannot open: No such file or directory");
}

static void
test_file_relative_paths(void)
{
	struct clientcfg *c;
	char path[128], want[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/client.yaml", tmpdir);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("server: 127.0.0.1:8443\ncert: client.pem\nkey: keys/client.key\n"
	    "ca: /etc/ca.pem\n", f);
	CHECK(fclose(f) == 0);
	CHECK_RC(clientcfg_load(path, &c, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/client.pem", tmpdir);
	CHECK_STR(c->cert, want);
	snprintf(want, sizeof(want), "%s/keys/client.key", tmpdir);
	CHECK_STR(c->key, want);
	CHECK_STR(c->ca, "/etc/ca.pem");
	clientcfg_free(c);
	/* The loader's message names the real file and line. */
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("server: 127.0.0.1:8443\n\ncolour: red\n", f);
	CHECK(fclose(f) == 0);
	CHECK_RC(clientcfg_load(path, &c, err, sizeof(err)), SB_ECONFIG);
	snprintf(want, sizeof(want), "%s:3: colour: unknown key", path);
	CHECK_CONTAINS(err, want);
	unlink(path);
}

static void
test_split_server(void)
{
	char host[256];
	unsigned port;

	CHECK_RC(clientcfg_split_server("a.example:443", host, sizeof(host), &port), 0);
	CHECK_STR(host, "a.example");
	CHECK(port == 443);
	CHECK_RC(clientcfg_split_server("[fe80::1]:8443", host, sizeof(host), &port), 0);
	CHECK_STR(host, "fe80::1");
	CHECK(port == 8443);
	CHECK_RC(clientcfg_split_server("h:0", host, sizeof(host), &port), SB_EINVAL);
	CHECK_RC(clientcfg_split_server(":80", host, sizeof(host), &port), SB_EINVAL);
	CHECK_RC(clientcfg_split_server("h:", host, sizeof(host), &port), SB_EINVAL);
	CHECK_RC(clientcfg_split_server("h:8x", host, sizeof(host), &port), SB_EINVAL);
	CHECK_RC(clientcfg_split_server("h:000080", host, sizeof(host), &port), SB_EINVAL);
	CHECK_RC(clientcfg_split_server("[::1]8443", host, sizeof(host), &port), SB_EINVAL);
	CHECK_RC(clientcfg_split_server("a b:1", host, sizeof(host), &port), SB_EINVAL);
	CHECK_RC(clientcfg_split_server("a/b:1", host, sizeof(host), &port), SB_EINVAL);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/sbx-clientcfg-XXXXXX", t ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("not ok - test setup: mkdtemp\n");
		return 1;
	}
	RUN(test_full, "a file with every key loads");
	RUN(test_empty_and_defaults, "an empty file is no error; timeout defaults to 30");
	RUN(test_unknown_key, "an unknown key is an error naming the file, line and key");
	RUN(test_wrong_types, "wrong types and out-of-range values are errors with line "
	    "numbers");
	RUN(test_yaml_rules, "duplicate keys, anchors, tags, two documents and syntax "
	    "errors are refused");
	RUN(test_same_rules_as_seald, "signs, overflow, empty strings, escaping, bad UTF-8 and "
	    "syntax errors read as in seald.yaml (one loader, lib/cfg)");
	RUN(test_too_large, "a file over 64 KiB is refused");
	RUN(test_missing_file, "a missing file is SB_EIO with ENOENT and the path in the "
	    "message");
	RUN(test_file_relative_paths, "relative paths are taken from the file's directory");
	RUN(test_split_server, "host:port and [v6]:port are split; bad forms are refused");
	rmdir(tmpdir);
	return check_done();
}
