/*
 * cfg — the strict, table-driven YAML loader behind every configuration file
 * of ours: seald.yaml (lib/config.c) and sealctl's client.yaml
 * (daemon/client/clientcfg.c). Each of those is a table of keys (a
 * struct cfg_table) and thin wrappers; this module is the one engine that
 * reads a file against such a table into a struct, so that both files obey
 * the same rules and say what is wrong in the same words.
 *
 * The rules: one UTF-8 YAML document (a byte-order mark is allowed) whose
 * top level is a mapping; sections are mappings; only the table's keys, each
 * at most once; strings are non-empty scalars without control characters;
 * paths are absolute; integers are plain decimal scalars (3; never '3'
 * quoted, 3.0, 0x3 or 03); booleans are plain true or false; anchors,
 * aliases and tags are refused where they appear. The first error ends the
 * load, and nothing is returned but the message: no partial struct.
 *
 * Messages are one line, "FILE:LINE: KEY: what is wrong": LINE is 1-based
 * and left out when there is none, KEY is the full dotted key and left out
 * when the error concerns none. Values quoted in a message are cut at 40
 * bytes; FILE, keys and values have bytes other than printable ASCII escaped
 * as \xNN, so a message cannot span lines or drive a terminal.
 *
 * This module never reads the environment and never logs: the caller decides
 * what to do with the message. It is internal to the project (lib/ and its
 * users); a table is static data written by us, not input.
 */
#ifndef SB_CFG_H
#define SB_CFG_H

#include <stddef.h>

#define CFG_ERR_MAX 512		/* a message buffer this large is never cut */

enum cfg_type {
	CFG_SECTION,	/* a mapping of further keys, named "section.key" */
	CFG_STRING,	/* text of lo..hi bytes (lo 0 reads as 1); stored as char * */
	CFG_PATH,	/* a CFG_STRING that must start with '/' */
	CFG_UINT,	/* a plain decimal integer in lo..hi; stored as unsigned */
	CFG_BOOL,	/* true or false, unquoted; stored as unsigned 0/1 */
};

struct cfg_key {
	const char *name;	/* full dotted path: "quorum.threshold";
				   under 64 bytes */
	enum cfg_type type;
	int required;		/* absent is an error (not for sections) */
	const char *def_str;	/* default of a string key, or NULL (absent) */
	unsigned def_uint;	/* default of an integer or boolean key */
	long long lo, hi;	/* integers: bounds; strings: length in bytes */
	size_t off;		/* offsetof the field in the table's struct */
	/*
	 * Strings only, both optional. what names the value in "expected WHAT,
	 * got a mapping" (default "a string" or "a path"). check is the key's
	 * own rule, applied after the control-character and absolute-path
	 * checks and before the length: it returns NULL when v is good, else
	 * what is wrong ("must be ...", or "expected ..."), which the message
	 * follows with ", got 'VALUE'". v is n bytes and NUL-terminated, with
	 * no NUL inside (control characters have been refused).
	 */
	const char *what;
	const char *(*check)(const char *v, size_t n);
};

struct cfg_ctx;		/* a load in progress; see relations below */

struct cfg_table {
	const struct cfg_key *keys;
	size_t nkeys;
	size_t size;		/* sizeof the struct that keys[].off point into */
	size_t max_bytes;	/* a larger file is refused */
	const char *top;	/* the top level in "expected a mapping of TOP at
				   the top level": "sections" or "keys" */
	int list_known;		/* an unknown key's message lists the keys known
				   in its section: "unknown key (known: a, b)" */
	/*
	 * Rules that tie keys together, run on the filled struct (defaults in
	 * place); NULL when there are none. Returns 0, or what cfg_fail()
	 * returns.
	 */
	int (*relations)(struct cfg_ctx *ctx, const void *obj);
};

/*
 * Parses len bytes at data (no NUL needed; NULL reads as empty) against t.
 * name is the file's name in messages ("(config)" when NULL). On success
 * *out is a new struct of t->size bytes: every key the file gave, the
 * defaults of the others (a string key without default is NULL), each
 * string owned by it (free with cfg_free). On failure *out is NULL, err
 * (errlen bytes; CFG_ERR_MAX is enough; NULL is allowed) holds the message,
 * and the call returns
 *   SB_ECONFIG  the content is wrong: bad YAML, unknown or duplicate key,
 *               wrong type, out of range, missing required key, a relation
 *               broken, larger than t->max_bytes;
 *   SB_ENOMEM   out of memory.
 */
int cfg_parse(const struct cfg_table *t, const char *name, const char *data,
    size_t len, void **out, char *err, size_t errlen);
/*
 * Same, from the file at path (not NULL), which is also the name in
 * messages. Adds
 *   SB_EIO      the file cannot be opened or read; the message carries
 *               strerror, and errno is left as the failing call set it (so
 *               that a caller can tell ENOENT).
 * A regular file larger than t->max_bytes is refused before it is read.
 */
int cfg_parse_file(const struct cfg_table *t, const char *path, void **out,
    char *err, size_t errlen);
/* Frees the table's string fields of obj, then obj. Accepts NULL. */
void cfg_free(const struct cfg_table *t, void *obj);

/*
 * For a table's relations hook: the line where key (a full dotted name of
 * the table) was in the file, 0 if it was not.
 */
size_t cfg_line(const struct cfg_ctx *ctx, const char *key);
/*
 * For a table's relations hook: puts "FILE:LINE: KEY: message" in the
 * loader's error buffer (LINE left out when 0, KEY when NULL) and returns
 * rc.
 */
int cfg_fail(struct cfg_ctx *ctx, int rc, size_t line, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/*
 * The same message format outside a load, for a caller's own errors about
 * the file (say, out of memory after cfg_parse_file): "NAME:LINE: KEY: ..."
 * in err (errlen bytes; NULL allowed). Returns rc; leaves errno alone.
 */
int cfg_error(char *err, size_t errlen, int rc, const char *name, size_t line,
    const char *key, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

#endif
