/*
 * lib/cfg: the table-driven YAML engine itself, through a small table of its
 * own. The rules and messages are pinned by test_config (seald.yaml) and
 * test_clientcfg (client.yaml); here is what neither of those tables uses.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cfg.h"
#include "lib/err.h"
#include "check.h"

struct demo {
	char *name;
	char *dir;
	unsigned lo, hi;
	unsigned flag;
};

static const char *
check_no_x(const char *v, size_t n)
{
	return memchr(v, 'x', n) ? "must not contain 'x'" : NULL;
}

#define OFF(f) offsetof(struct demo, f)

static const struct cfg_key keys[] = {
	{ .name = "name", .type = CFG_STRING, .def_str = "anon", .lo = 1, .hi = 8,
	  .off = OFF(name) },
	{ .name = "range", .type = CFG_SECTION },
	{ .name = "range.lo", .type = CFG_UINT, .def_uint = 1, .lo = 0, .hi = 9,
	  .off = OFF(lo), .what = "ignored for integers" },
	{ .name = "range.hi", .type = CFG_UINT, .required = 1, .lo = 0, .hi = 9,
	  .off = OFF(hi) },
	{ .name = "range.a_rather_long_key_name_number_one", .type = CFG_BOOL, .off = OFF(flag) },
	{ .name = "range.a_rather_long_key_name_number_two", .type = CFG_BOOL, .off = OFF(flag) },
	{ .name = "range.a_rather_long_key_name_number_three", .type = CFG_BOOL, .off = OFF(flag) },
	{ .name = "range.a_rather_long_key_name_number_four", .type = CFG_BOOL, .off = OFF(flag) },
	{ .name = "range.a_rather_long_key_name_number_five", .type = CFG_BOOL, .off = OFF(flag) },
	{ .name = "range.a_rather_long_key_name_number_six", .type = CFG_BOOL, .off = OFF(flag) },
	{ .name = "range.a_rather_long_key_name_number_seven", .type = CFG_BOOL, .off = OFF(flag) },
	{ .name = "range.a_rather_long_key_name_number_eight", .type = CFG_BOOL, .off = OFF(flag) },
	{ .name = "dir", .type = CFG_PATH, .hi = 64, .off = OFF(dir), .check = check_no_x },
};

static int
relations(struct cfg_ctx *ctx, const void *obj)
{
	const struct demo *d = obj;

	if (d->lo > d->hi)
		return cfg_fail(ctx, SB_ECONFIG, cfg_line(ctx, "range.lo"), "range.lo",
		    "must not be more than range.hi (%u), got %u", d->hi, d->lo);
	return 0;
}

static const struct cfg_table table = {
	.keys = keys,
	.nkeys = sizeof(keys) / sizeof(keys[0]),
	.size = sizeof(struct demo),
	.max_bytes = 64,
	.top = "things",
	.list_known = 1,
	.relations = relations,
};

static char err[CFG_ERR_MAX];

static int
load(const char *text, struct demo **d)
{
	void *obj = &obj;	/* must be overwritten */
	int rc;

	rc = cfg_parse(&table, "demo.yaml", text, strlen(text), &obj, err, sizeof(err));
	*d = obj;
	if (rc != 0 && obj != NULL)
		return 12345;
	return rc;
}

#define CHECK_FAILS(text, want) do { \
	struct demo *d_; \
	CHECK_RC(load((text), &d_), SB_ECONFIG); \
	CHECK_STR(err, (want)); \
} while (0)

static void
test_defaults_and_values(void)
{
	struct demo *d;

	CHECK_RC(load("range: {hi: 3}\n", &d), 0);
	CHECK_STR(d->name, "anon");
	CHECK(d->dir == NULL && d->lo == 1 && d->hi == 3 && d->flag == 0);
	cfg_free(&table, d);
	CHECK_RC(load("name: n\nrange: {lo: 0, hi: 0}\ndir: /d\n", &d), 0);
	CHECK_STR(d->name, "n");
	CHECK_STR(d->dir, "/d");
	cfg_free(&table, d);
	cfg_free(&table, NULL);
}

static void
test_known_keys_listed(void)
{
	CHECK_FAILS("nme: n\n", "demo.yaml:1: nme: unknown key (known: name, range, dir)");
	/* Only the keys of the section, cut with "..." where they do not fit. */
	CHECK_FAILS("range:\n  mid: 2\n",
	    "demo.yaml:2: range.mid: unknown key (known: lo, hi, "
	    "a_rather_long_key_name_number_one, a_rather_long_key_name_number_two, "
	    "a_rather_long_key_name_number_three, a_rather_long_key_name_number_four, "
	    "a_rather_long_key_name_number_five, a_rather_long_key_name_number_six...)");
}

static void
test_table_words(void)
{
	CHECK_FAILS("- a\n", "demo.yaml:1: expected a mapping of things at the top level, "
	    "got a sequence");
	/* what names strings only; an integer stays "an integer". */
	CHECK_FAILS("range: {lo: [1]}\n", "demo.yaml:1: range.lo: expected an integer, "
	    "got a sequence");
	CHECK_FAILS("range: {hi: 1}\n" "dir: /a/x\n",
	    "demo.yaml:2: dir: must not contain 'x', got '/a/x'");
	/* A path is checked absolute before the key's own rule. */
	CHECK_FAILS("dir: x\n", "demo.yaml:1: dir: must be an absolute path, got 'x'");
	CHECK_FAILS("range: {hi: 1}\nname: 123456789\n",
	    "demo.yaml:2: name: must be 1 to 8 bytes long, got 9 bytes: '123456789'");
}

static void
test_relations_and_limits(void)
{
	CHECK_FAILS("range:\n  hi: 2\n  lo: 3\n",
	    "demo.yaml:3: range.lo: must not be more than range.hi (2), got 3");
	CHECK_FAILS("dir: /d\n", "demo.yaml: range.hi: missing required key");
	CHECK_FAILS("# 0123456789012345678901234567890123456789012345678901234567890123\n",
	    "demo.yaml: file is larger than 64 bytes");
}

static void
test_error_outside_a_load(void)
{
	void *obj = &obj;
	char small[8];

	errno = EACCES;
	CHECK_RC(cfg_error(err, sizeof(err), SB_ENOMEM, "a\nb", 0, NULL, "out of %s",
	    "memory"), SB_ENOMEM);
	CHECK(errno == EACCES);
	CHECK_STR(err, "a\\x0ab: out of memory");
	CHECK_RC(cfg_error(err, sizeof(err), SB_ECONFIG, "f", 7, "k", "bad"), SB_ECONFIG);
	CHECK_STR(err, "f:7: k: bad");
	CHECK_RC(cfg_error(small, sizeof(small), SB_ECONFIG, "file.yaml", 7, "k", "bad"),
	    SB_ECONFIG);
	CHECK_STR(small, "file.ya");
	CHECK_RC(cfg_error(NULL, 0, SB_EIO, "f", 0, NULL, "x"), SB_EIO);
	errno = 0;
	CHECK_RC(cfg_parse_file(&table, "/nonexistent/demo.yaml", &obj, err, sizeof(err)),
	    SB_EIO);
	CHECK(errno == ENOENT && obj == NULL);
	CHECK_STR(err, "/nonexistent/demo.yaml: cannot open: No such file or directory");
}

int
main(void)
{
	RUN(test_defaults_and_values, "a table's defaults fill what the file leaves out");
	RUN(test_known_keys_listed, "with list_known an unknown key's message lists its "
	    "section's keys, cut to fit");
	RUN(test_table_words, "the table names the top level and string values; a key's "
	    "check runs after the path rule and before the length");
	RUN(test_relations_and_limits, "the relations hook, required keys and max_bytes");
	RUN(test_error_outside_a_load, "cfg_error formats like a load, keeps errno and "
	    "respects the buffer; a missing file leaves ENOENT");
	return check_done();
}
