/* lib/config: the YAML loader, its schema and every kind of error message. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/err.h"
#include "check.h"

/* A valid file with every key set; tests below change one line of it. */
#define FULL \
	"# seald.yaml\n"					/* 1 */ \
	"appliance:\n"						/* 2 */ \
	"  id: sbx-01\n"					/* 3 */ \
	"  state_dir: /var/lib/sealbox\n"			/* 4 */ \
	"hsm:\n"						/* 5 */ \
	"  module: /usr/lib/softhsm/libsofthsm2.so\n"		/* 6 */ \
	"  token: sealbox\n"					/* 7 */ \
	"quorum:\n"						/* 8 */ \
	"  shares: 5\n"						/* 9 */ \
	"  threshold: 3\n"					/* 10 */ \
	"listen:\n"						/* 11 */ \
	"  address: 0.0.0.0\n"					/* 12 */ \
	"  port: 443\n"						/* 13 */ \
	"tls:\n"						/* 14 */ \
	"  certificate: /etc/sealbox/tls/server.pem\n"		/* 15 */ \
	"  key: /etc/sealbox/tls/server.key\n"			/* 16 */ \
	"  client_ca: /etc/sealbox/tls/clients-ca.pem\n"	/* 17 */ \
	"  crl: /etc/sealbox/tls/clients.crl\n"			/* 18 */ \
	"admin_socket: /run/sbx/admin.sock\n"			/* 19 */

/* The required keys only. */
#define MINIMAL \
	"appliance:\n"						/* 1 */ \
	"  id: a\n"						/* 2 */ \
	"  state_dir: /s\n"					/* 3 */ \
	"hsm:\n"						/* 4 */ \
	"  module: /m.so\n"					/* 5 */ \
	"  token: t\n"						/* 6 */

static char err[CONFIG_ERR_MAX];

/* Loads text named "seald.yaml"; on failure checks that no config came back. */
static int
load(const char *text, struct config **cfg)
{
	int rc;

	*cfg = (struct config *)&rc;	/* must be overwritten */
	rc = config_load_buffer("seald.yaml", text, strlen(text), cfg, err, sizeof(err));
	if (rc != 0 && *cfg != NULL)
		return 12345;
	if (strchr(err, '\n') != NULL)
		return 12346;
	return rc;
}

/* Expects text to fail with SB_ECONFIG and exactly the message want. */
#define CHECK_FAILS(text, want) do { \
	struct config *cf_; \
	CHECK_RC(load((text), &cf_), SB_ECONFIG); \
	CHECK_STR(err, (want)); \
} while (0)

static char tmpdir[64];

static const char *
tmp_path(const char *leaf)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, leaf);
	return p;
}

static int
write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	if (len > 0 && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static void
test_full_file(void)
{
	struct config *c;

	CHECK_RC(load(FULL, &c), 0);
	CHECK_STR(err, "");
	CHECK_STR(c->path, "seald.yaml");
	CHECK_STR(c->appliance.id, "sbx-01");
	CHECK_STR(c->appliance.state_dir, "/var/lib/sealbox");
	CHECK_STR(c->hsm.module, "/usr/lib/softhsm/libsofthsm2.so");
	CHECK_STR(c->hsm.token, "sealbox");
	CHECK(c->quorum.shares == 5 && c->quorum.threshold == 3);
	CHECK_STR(c->listen.address, "0.0.0.0");
	CHECK(c->listen.port == 443);
	CHECK_STR(c->tls.certificate, "/etc/sealbox/tls/server.pem");
	CHECK_STR(c->tls.key, "/etc/sealbox/tls/server.key");
	CHECK_STR(c->tls.client_ca, "/etc/sealbox/tls/clients-ca.pem");
	CHECK_STR(c->tls.crl, "/etc/sealbox/tls/clients.crl");
	CHECK_STR(c->admin_socket, "/run/sbx/admin.sock");
	config_free(c);
}

static void
test_minimal_defaults(void)
{
	struct config *c;

	CHECK_RC(load(MINIMAL, &c), 0);
	CHECK_STR(c->appliance.id, "a");
	CHECK(c->quorum.shares == 3 && c->quorum.threshold == 2);
	CHECK_STR(c->listen.address, "127.0.0.1");
	CHECK(c->listen.port == 8443);
	CHECK(c->tls.certificate == NULL && c->tls.key == NULL);
	CHECK(c->tls.client_ca == NULL && c->tls.crl == NULL);
	CHECK_STR(c->admin_socket, "/run/sealbox/admin.sock");
	config_free(c);
}

static void
test_flow_style_and_quotes(void)
{
	struct config *c;

	CHECK_RC(load("{appliance: {id: \"x-1\", state_dir: '/s'},\n"
	    " hsm: {module: /m.so, token: \"my token\"}, quorum: {shares: 16, threshold: 16},\n"
	    " listen: {port: 65535}}\n", &c), 0);
	CHECK_STR(c->appliance.id, "x-1");
	CHECK_STR(c->hsm.token, "my token");
	CHECK(c->quorum.shares == 16 && c->quorum.threshold == 16);
	CHECK(c->listen.port == 65535);
	config_free(c);
}

static void
test_bom_and_crlf(void)
{
	struct config *c;

	CHECK_RC(load("\xef\xbb\xbf" "appliance:\r\n  id: a\r\n  state_dir: /s\r\n"
	    "hsm: {module: /m, token: t}\r\n", &c), 0);
	CHECK_STR(c->appliance.id, "a");
	CHECK_STR(c->appliance.state_dir, "/s");
	config_free(c);
	CHECK_FAILS("\xef\xbb\xbf" "a:\r\n  b: 1\r\nc: 2\r\n", "seald.yaml:1: a: unknown key");
	/* UTF-16 is not accepted. */
	CHECK_FAILS("\xff\xfe" "a\0:\0 \0" "1\0",
	    "seald.yaml:1: not a valid YAML file: invalid leading UTF-8 octet");
}

static void
test_unknown_top_key(void)
{
	CHECK_FAILS(MINIMAL "colour: red\n", "seald.yaml:7: colour: unknown key");
	/* A dotted key does not reach into a section. */
	CHECK_FAILS(MINIMAL "quorum.shares: 3\n", "seald.yaml:7: quorum.shares: unknown key");
}

static void
test_unknown_nested_key(void)
{
	CHECK_FAILS("appliance:\n  id: a\n  colour: red\n",
	    "seald.yaml:3: appliance.colour: unknown key");
	/* A known leaf name in the wrong section is still unknown there. */
	CHECK_FAILS("hsm:\n  port: 1\n", "seald.yaml:2: hsm.port: unknown key");
	/* A known key cannot be nested under a leaf. */
	CHECK_FAILS("quorum:\n  shares:\n    threshold: 2\n",
	    "seald.yaml:3: quorum.shares: expected an integer, got a mapping");
}

static void
test_daemon_keys(void)
{
	struct config *c;

	CHECK_RC(load(MINIMAL, &c), 0);
	CHECK(c->http.max_body == 1048576 && c->http.max_headers == 8192);
	CHECK(c->http.max_connections == 512 && c->http.idle_timeout == 60);
	CHECK(c->http.read_timeout == 30 && c->http.queue_max == 4096);
	CHECK(c->time.require_sync == 1);	/* production default: refuse on an unsynced clock */
	CHECK(c->sign.batch_max == 100 && c->monitor.workers == 16);
	CHECK_STR(c->net.user, "nobody");
	CHECK(c->net.chroot == NULL);
	config_free(c);
	CHECK_RC(load(MINIMAL "time:\n  require_sync: false\nnet:\n  user: sbx\n"
	    "  chroot: /var/empty\nhttp:\n  max_body: 2048\n", &c), 0);
	CHECK(c->time.require_sync == 0 && c->http.max_body == 2048);
	CHECK_STR(c->net.user, "sbx");
	CHECK_STR(c->net.chroot, "/var/empty");
	config_free(c);
}

static void
test_bool_values(void)
{
	CHECK_FAILS(MINIMAL "time:\n  require_sync: yes\n",
	    "seald.yaml:8: time.require_sync: expected true or false, got 'yes'");
	CHECK_FAILS(MINIMAL "time:\n  require_sync: \"true\"\n",
	    "seald.yaml:8: time.require_sync: expected true or false, got the string 'true' (write booleans without quotes)");
	CHECK_FAILS(MINIMAL "time:\n  require_sync: [true]\n",
	    "seald.yaml:8: time.require_sync: expected true or false, got a sequence");
	CHECK_FAILS(MINIMAL "http:\n  max_body: 100\n",
	    "seald.yaml:8: http.max_body: must be between 1024 and 67108864, got 100");
}

static void
test_string_for_int(void)
{
	CHECK_FAILS(MINIMAL "quorum:\n  threshold: two\n",
	    "seald.yaml:8: quorum.threshold: expected an integer, got 'two'");
	CHECK_FAILS(MINIMAL "listen:\n  port: 2.5\n",
	    "seald.yaml:8: listen.port: expected an integer, got '2.5'");
	CHECK_FAILS(MINIMAL "listen:\n  port: 0x10\n",
	    "seald.yaml:8: listen.port: expected an integer, got '0x10'");
	CHECK_FAILS(MINIMAL "listen:\n  port: 010\n",
	    "seald.yaml:8: listen.port: expected an integer, got '010'");
	CHECK_FAILS(MINIMAL "listen:\n  port: +80\n",
	    "seald.yaml:8: listen.port: expected an integer, got '+80'");
	CHECK_FAILS(MINIMAL "listen:\n  port:\n",
	    "seald.yaml:8: listen.port: expected an integer, got an empty value");
	/* Quoted numbers are strings in YAML, and refused. */
	CHECK_FAILS(MINIMAL "listen:\n  port: \"8443\"\n",
	    "seald.yaml:8: listen.port: expected an integer, got the string '8443' "
	    "(write integers without quotes)");
}

static void
test_mapping_for_string(void)
{
	CHECK_FAILS("hsm:\n  token:\n    label: x\n",
	    "seald.yaml:3: hsm.token: expected a string, got a mapping");
	CHECK_FAILS("hsm:\n  module: [/a.so, /b.so]\n",
	    "seald.yaml:2: hsm.module: expected a path, got a sequence");
	CHECK_FAILS("admin_socket: {a: 1}\n",
	    "seald.yaml:1: admin_socket: expected a path, got a mapping");
	CHECK_FAILS("hsm:\n  token: ~\n",
	    "seald.yaml:2: hsm.token: expected a string, got an empty value");
}

static void
test_sequence_for_section(void)
{
	CHECK_FAILS("listen:\n  - 127.0.0.1\n  - 8443\n",
	    "seald.yaml:2: listen: expected a mapping (a section of keys), got a sequence");
	CHECK_FAILS("tls: none\n",
	    "seald.yaml:1: tls: expected a mapping (a section of keys), got 'none'");
	CHECK_FAILS("tls:\nhsm: {}\n",
	    "seald.yaml:1: tls: expected a mapping (a section of keys), got an empty value");
}

static void
test_top_level_not_mapping(void)
{
	CHECK_FAILS("- appliance\n- hsm\n",
	    "seald.yaml:1: expected a mapping of sections at the top level, got a sequence");
	CHECK_FAILS("hello\n",
	    "seald.yaml:1: expected a mapping of sections at the top level, got 'hello'");
}

static void
test_out_of_range(void)
{
	CHECK_FAILS(MINIMAL "listen:\n  port: 70000\n",
	    "seald.yaml:8: listen.port: must be between 1 and 65535, got 70000");
	CHECK_FAILS(MINIMAL "listen:\n  port: 0\n",
	    "seald.yaml:8: listen.port: must be between 1 and 65535, got 0");
	CHECK_FAILS(MINIMAL "listen:\n  port: -1\n",
	    "seald.yaml:8: listen.port: must be between 1 and 65535, got -1");
	CHECK_FAILS(MINIMAL "listen:\n  port: 99999999999999999999999\n",
	    "seald.yaml:8: listen.port: must be between 1 and 65535, got 99999999999999999999999");
	CHECK_FAILS(MINIMAL "quorum:\n  shares: 17\n",
	    "seald.yaml:8: quorum.shares: must be between 2 and 16, got 17");
	CHECK_FAILS(MINIMAL "quorum:\n  threshold: 1\n",
	    "seald.yaml:8: quorum.threshold: must be between 2 and 16, got 1");
}

static void
test_threshold_above_shares(void)
{
	CHECK_FAILS(MINIMAL "quorum:\n  shares: 3\n  threshold: 4\n",
	    "seald.yaml:9: quorum.threshold: must not be more than quorum.shares (3), got 4");
	/* Against the default share count. */
	CHECK_FAILS(MINIMAL "quorum:\n  threshold: 5\n",
	    "seald.yaml:8: quorum.threshold: must not be more than quorum.shares (3), got 5");
	/* The default threshold fits the smallest share count. */
	{
		struct config *c;

		CHECK_RC(load(MINIMAL "quorum:\n  shares: 2\n", &c), 0);
		CHECK(c->quorum.shares == 2 && c->quorum.threshold == 2);
		config_free(c);
	}
}

static void
test_bad_appliance_id(void)
{
	CHECK_FAILS("appliance:\n  id: Sbx_01\n",
	    "seald.yaml:2: appliance.id: must be 1 to 16 characters a-z, 0-9 and '-', "
	    "not starting with '-', got 'Sbx_01'");
	CHECK_FAILS("appliance:\n  id: -sbx\n",
	    "seald.yaml:2: appliance.id: must be 1 to 16 characters a-z, 0-9 and '-', "
	    "not starting with '-', got '-sbx'");
	CHECK_FAILS("appliance:\n  id: abcdefghijklmnopq\n",
	    "seald.yaml:2: appliance.id: must be 1 to 16 characters a-z, 0-9 and '-', "
	    "not starting with '-', got 'abcdefghijklmnopq'");
	CHECK_FAILS("appliance:\n  id: ''\n", "seald.yaml:2: appliance.id: must not be empty");
	{
		struct config *c;

		CHECK_RC(load("appliance:\n  id: abcdefghijklmnop\n  state_dir: /s\n"
		    "hsm: {module: /m, token: t}\n", &c), 0);
		CHECK_STR(c->appliance.id, "abcdefghijklmnop");
		config_free(c);
	}
}

static void
test_string_bounds(void)
{
	struct config *c;

	CHECK_FAILS("hsm:\n  token: 123456789012345678901234567890123\n",
	    "seald.yaml:2: hsm.token: must be 1 to 32 bytes long, got 33 bytes: "
	    "'123456789012345678901234567890123'");
	CHECK_RC(load("appliance: {id: a, state_dir: /s}\n"
	    "hsm: {module: /m, token: 12345678901234567890123456789012}\n", &c), 0);
	CHECK_STR(c->hsm.token, "12345678901234567890123456789012");
	config_free(c);
	/* A Unix socket path has to fit in sun_path: 107 bytes and a NUL. */
	CHECK_RC(load(MINIMAL "admin_socket: /run/0123456789012345678901234567890123456789"
	    "01234567890123456789012345678901234567890123456789012345678901\n", &c), 0);
	CHECK(strlen(c->admin_socket) == 107);
	config_free(c);
	CHECK_FAILS("admin_socket: /run/0123456789012345678901234567890123456789"
	    "012345678901234567890123456789012345678901234567890123456789012\n",
	    "seald.yaml:1: admin_socket: must be 1 to 107 bytes long, got 108 bytes: "
	    "'/run/01234567890123456789012345678901234...'");
}

static void
test_paths_absolute(void)
{
	CHECK_FAILS("appliance:\n  state_dir: var/lib/sealbox\n",
	    "seald.yaml:2: appliance.state_dir: must be an absolute path, got 'var/lib/sealbox'");
	CHECK_FAILS("hsm:\n  module: libsofthsm2.so\n",
	    "seald.yaml:2: hsm.module: must be an absolute path, got 'libsofthsm2.so'");
	CHECK_FAILS("admin_socket: ''\n", "seald.yaml:1: admin_socket: must not be empty");
	CHECK_FAILS("tls:\n  crl:\n",
	    "seald.yaml:2: tls.crl: expected a path, got an empty value");
}

static void
test_missing_key_in_section(void)
{
	CHECK_FAILS("appliance:\n  id: a\n  state_dir: /s\nhsm:\n  module: /m.so\n",
	    "seald.yaml:4: hsm.token: missing required key");
}

static void
test_missing_key_and_section(void)
{
	CHECK_FAILS("appliance:\n  id: a\n  state_dir: /s\n",
	    "seald.yaml: hsm.module: missing required key");
}

static void
test_duplicate_key(void)
{
	CHECK_FAILS("hsm:\n  token: a\n  module: /m\n  token: b\n",
	    "seald.yaml:4: hsm.token: duplicate key (first on line 2)");
	CHECK_FAILS(MINIMAL "hsm:\n  token: b\n",
	    "seald.yaml:7: hsm: duplicate key (first on line 4)");
}

static void
test_syntax_error(void)
{
	CHECK_FAILS("appliance:\n  id: a\n state_dir: /s\n",
	    "seald.yaml:3: YAML syntax error: did not find expected key "
	    "(while parsing a block mapping on line 1)");
	CHECK_FAILS("hsm:\n  token: \"abc\n",
	    "seald.yaml:3: YAML syntax error: found unexpected end of stream "
	    "(while scanning a quoted scalar on line 2)");
	CHECK_FAILS("hsm:\n\ttoken: a\n",
	    "seald.yaml:2: YAML syntax error: found character that cannot start any token "
	    "(while scanning for the next token on line 2)");
}

static void
test_alias_refused(void)
{
	CHECK_FAILS("appliance:\n  id: &x a\n  state_dir: /s\nhsm:\n  token: *x\n",
	    "seald.yaml:2: appliance.id: anchors (&name) are not allowed");
	CHECK_FAILS("hsm:\n  token: *x\n",
	    "seald.yaml:2: hsm.token: aliases (*name) are not allowed");
	CHECK_FAILS("hsm: &h\n  token: a\n",
	    "seald.yaml:1: hsm: anchors (&name) are not allowed");
	/* The classic "billion laughs" stops at the first anchor. */
	CHECK_FAILS("a: &a [x, x]\nb: &b [*a, *a]\n",
	    "seald.yaml:1: a: unknown key");
	CHECK_FAILS("&a [x, *a]\n",
	    "seald.yaml:1: anchors (&name) are not allowed");
}

static void
test_tags_refused(void)
{
	CHECK_FAILS("listen:\n  port: !!int 80\n",
	    "seald.yaml:2: listen.port: tags (!name) are not allowed");
}

static void
test_one_document(void)
{
	CHECK_FAILS(MINIMAL "---\nhsm: {}\n",
	    "seald.yaml:7: only one YAML document is allowed");
}

static void
test_empty_file(void)
{
	struct config *c;
	const char *p = tmp_path("empty.yaml");
	char want[256];

	CHECK_FAILS("", "seald.yaml: appliance.id: missing required key");
	CHECK_FAILS("# nothing but a comment\n", "seald.yaml: appliance.id: missing required key");
	CHECK_FAILS("---\n", "seald.yaml: appliance.id: missing required key");
	CHECK_FAILS("{}\n", "seald.yaml: appliance.id: missing required key");
	CHECK(write_file(p, "", 0) == 0);
	CHECK_RC(config_load(p, &c, err, sizeof(err)), SB_ECONFIG);
	CHECK(c == NULL);
	snprintf(want, sizeof(want), "%s: appliance.id: missing required key", p);
	CHECK_STR(err, want);
	unlink(p);
}

static void
test_oversize_file(void)
{
	struct config *c;
	const char *p = tmp_path("big.yaml");
	size_t n = CONFIG_MAX_BYTES + 1;
	char *big = malloc(n), want[256];

	CHECK(big != NULL);
	memset(big, '#', n);
	big[n - 1] = '\n';
	c = (struct config *)big;
	CHECK_RC(config_load_buffer("seald.yaml", big, n, &c, err, sizeof(err)), SB_ECONFIG);
	CHECK(c == NULL);
	CHECK_STR(err, "seald.yaml: file is larger than 1048576 bytes");
	if (write_file(p, big, n) != 0) {
		free(big);
		CHECK(!"cannot write the big file");
	}
	free(big);
	CHECK_RC(config_load(p, &c, err, sizeof(err)), SB_ECONFIG);
	CHECK(c == NULL);
	snprintf(want, sizeof(want), "%s: file is larger than 1048576 bytes", p);
	CHECK_STR(err, want);
	/* Exactly the limit is read, then judged as YAML. */
	CHECK(truncate(p, CONFIG_MAX_BYTES) == 0);
	CHECK_RC(config_load(p, &c, err, sizeof(err)), SB_ECONFIG);
	snprintf(want, sizeof(want), "%s: appliance.id: missing required key", p);
	CHECK_STR(err, want);
	unlink(p);
}

static void
test_missing_file(void)
{
	struct config *c;
	const char *p = tmp_path("no-such.yaml");
	char want[256];

	CHECK_RC(config_load(p, &c, err, sizeof(err)), SB_EIO);
	CHECK(c == NULL);
	snprintf(want, sizeof(want), "%s: cannot open: %s", p, strerror(ENOENT));
	CHECK_STR(err, want);
}

static void
test_unreadable_file(void)
{
	struct config *c;
	const char *p = tmp_path("secret.yaml");
	char want[256];

	/* A directory opens but cannot be read. */
	CHECK_RC(config_load(tmpdir, &c, err, sizeof(err)), SB_EIO);
	CHECK(c == NULL);
	snprintf(want, sizeof(want), "%s: cannot read: %s", tmpdir, strerror(EISDIR));
	CHECK_STR(err, want);
	if (geteuid() == 0)
		return;		/* root reads a mode-000 file */
	CHECK(write_file(p, MINIMAL, strlen(MINIMAL)) == 0);
	CHECK(chmod(p, 0) == 0);
	CHECK_RC(config_load(p, &c, err, sizeof(err)), SB_EIO);
	snprintf(want, sizeof(want), "%s: cannot open: %s", p, strerror(EACCES));
	CHECK_STR(err, want);
	unlink(p);
}

static void
test_load_file(void)
{
	struct config *c;
	const char *p = tmp_path("seald.yaml");
	char want[256];

	CHECK(write_file(p, FULL, strlen(FULL)) == 0);
	CHECK_RC(config_load(p, &c, err, sizeof(err)), 0);
	CHECK_STR(c->path, p);
	CHECK(c->listen.port == 443);
	config_free(c);
	CHECK(write_file(p, FULL "x: 1\n", strlen(FULL) + 5) == 0);
	CHECK_RC(config_load(p, &c, err, sizeof(err)), SB_ECONFIG);
	snprintf(want, sizeof(want), "%s:20: x: unknown key", p);
	CHECK_STR(err, want);
	unlink(p);
}

/* Run from the top of the tree, as tests/run.sh does. */
static void
test_shipped_example(void)
{
	struct config *c;

	CHECK_RC(config_load("provisioning/seald.yaml.example", &c, err, sizeof(err)), 0);
	CHECK_STR(c->appliance.id, "sbx-01");
	CHECK(c->quorum.shares == 3 && c->quorum.threshold == 2);
	CHECK_STR(c->tls.crl, "/etc/sealbox/tls/clients.crl");
	config_free(c);
}

static void
test_values_echoed_safely(void)
{
	/* Cut at 40 bytes. */
	CHECK_FAILS("quorum:\n  shares: aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeee\n",
	    "seald.yaml:2: quorum.shares: expected an integer, got "
	    "'aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd...'");
	/* Control characters, quotes and non-ASCII bytes escaped. */
	CHECK_FAILS("hsm:\n  token: \"a\\x1b[2Jb\\nc\"\n",
	    "seald.yaml:2: hsm.token: must not contain control characters, got "
	    "'a\\x1b[2Jb\\x0ac'");
	CHECK_FAILS("quorum:\n  shares: \"it's \xc3\xa9\"\n",
	    "seald.yaml:2: quorum.shares: expected an integer, got the string "
	    "'it\\'s \\xc3\\xa9' (write integers without quotes)");
	CHECK_FAILS("hsm:\n  \"a\\x01b\": 1\n", "seald.yaml:2: hsm.a\\x01b: unknown key");
	/* A NUL byte inside a quoted value. */
	CHECK_FAILS("hsm:\n  token: \"a\\0b\"\n",
	    "seald.yaml:2: hsm.token: must not contain control characters, got 'a\\x00b'");
}

static void
test_not_utf8(void)
{
	CHECK_FAILS("hsm:\n  token: a\xff\n",
	    "seald.yaml:2: not a valid YAML file: invalid leading UTF-8 octet");
}

static void
test_message_one_line(void)
{
	struct config *c;

	/* The name is escaped too, so the message stays on one line. */
	CHECK_RC(config_load_buffer("bad\nname", "x: 1\n", 5, &c, err, sizeof(err)), SB_ECONFIG);
	CHECK_STR(err, "bad\\x0aname:1: x: unknown key");
	/* A short buffer is cut, not overrun; no buffer at all is fine. */
	memset(err, 'Z', sizeof(err));
	CHECK_RC(config_load_buffer("seald.yaml", "x: 1\n", 5, &c, err, 8), SB_ECONFIG);
	CHECK_STR(err, "seald.y");
	CHECK(err[8] == 'Z');
	CHECK_RC(config_load_buffer("seald.yaml", "x: 1\n", 5, &c, NULL, 0), SB_ECONFIG);
	CHECK(c == NULL);
	CHECK_RC(config_load_buffer(NULL, "x: 1\n", 5, &c, err, sizeof(err)), SB_ECONFIG);
	CHECK_STR(err, "(config):1: x: unknown key");
}

static void
test_free_null(void)
{
	config_free(NULL);
}

/* console.network_match reaches a networkd file: globs and spaces only. */
static void
test_network_match(void)
{
	struct config *c;
	static const char *const bad[] = { "'en*\\nDNS=1.1.1.1'", "'[Match]'", "'en* #x'",
		"'en=1'", "' en*'", "'en* '", "'en!'", "'e\"n'" };
	char text[256];

	CHECK_RC(load(MINIMAL "console:\n  network_match: 'eno1 en*:? e_x.y-z'\n", &c), 0);
	CHECK_STR(c->console.network_match, "eno1 en*:? e_x.y-z");
	CHECK_STR(c->console.network_root, "/");
	CHECK_STR(c->console.network_command,
	    "systemctl restart systemd-networkd systemd-timesyncd");
	config_free(c);
	CHECK_RC(load(MINIMAL, &c), 0);
	CHECK_STR(c->console.network_match, "en* eth*");
	config_free(c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), MINIMAL "console:\n  network_match: %s\n", bad[i]);
		CHECK_RC(load(text, &c), SB_ECONFIG);
		CHECK(strstr(err, "console.network_match") != NULL);
	}
	CHECK_RC(load(MINIMAL "console:\n  network_root: relative/dir\n", &c), SB_ECONFIG);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "%s/sbx-config-XXXXXX", t && strlen(t) < 40 ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_full_file, "a file with every key loads into every field");
	RUN(test_minimal_defaults, "a file with only the required keys gets the documented defaults");
	RUN(test_flow_style_and_quotes, "flow mappings and quoted strings are accepted; bounds are inclusive");
	RUN(test_bom_and_crlf, "a UTF-8 byte-order mark and CRLF line ends are accepted; UTF-16 is not");
	RUN(test_unknown_top_key, "an unknown top-level key is an error at its line");
	RUN(test_unknown_nested_key, "an unknown key in a section is named with its full dotted path");
	RUN(test_daemon_keys, "the daemon's keys have their documented defaults and can be set");
	RUN(test_bool_values, "a boolean is plain true or false, nothing else");
	RUN(test_string_for_int, "a non-integer where an integer is expected is a type error (2.5, 0x10, 010, quoted)");
	RUN(test_mapping_for_string, "a mapping, sequence or null where a string is expected is a type error");
	RUN(test_sequence_for_section, "a section that is not a mapping is a type error");
	RUN(test_top_level_not_mapping, "the top level must be a mapping");
	RUN(test_out_of_range, "integers outside their bounds are refused with the bounds in the message");
	RUN(test_threshold_above_shares, "quorum.threshold may not exceed quorum.shares, given or default");
	RUN(test_bad_appliance_id, "appliance.id must match [a-z0-9][a-z0-9-]{0,15}");
	RUN(test_network_match, "console.network_match: interface globs and inner spaces only");
	RUN(test_string_bounds, "hsm.token is 1..32 bytes; admin_socket fits in sun_path");
	RUN(test_paths_absolute, "paths must be absolute and not empty");
	RUN(test_missing_key_in_section, "a missing required key is reported at the line of its section");
	RUN(test_missing_key_and_section, "a missing required key whose section is absent has no line");
	RUN(test_duplicate_key, "a duplicate key or section is an error naming the first line");
	RUN(test_syntax_error, "a YAML syntax error carries libyaml's line and problem");
	RUN(test_alias_refused, "anchors and aliases are refused where they appear");
	RUN(test_tags_refused, "explicit tags are refused");
	RUN(test_one_document, "a second YAML document is refused");
	RUN(test_empty_file, "an empty or comment-only file fails with a missing key");
	RUN(test_oversize_file, "a file over CONFIG_MAX_BYTES is refused; exactly the limit is read");
	RUN(test_missing_file, "a missing file is SB_EIO naming the file and strerror");
	RUN(test_unreadable_file, "an unreadable file is SB_EIO naming the file and strerror");
	RUN(test_load_file, "config_load reads a file and names it in messages");
	RUN(test_shipped_example, "provisioning/seald.yaml.example loads");
	RUN(test_values_echoed_safely, "echoed values are cut at 40 bytes and non-printable bytes escaped");
	RUN(test_not_utf8, "input that is not UTF-8 is refused with a line");
	RUN(test_message_one_line, "the message is one line and respects the caller's buffer size");
	RUN(test_free_null, "config_free accepts NULL");
	rc = check_done();
	rmdir(tmpdir);
	return rc;
}
