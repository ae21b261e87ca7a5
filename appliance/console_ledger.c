/*
 * console_ledger — the auditor exports a range of the ledger: every entry
 * from one sequence number on, one JSON object a line ({"seq", "leaf_input",
 * "entry"}, as GET /v1/ledger/entries gives them, keys sorted, ASCII only),
 * to a new file (sealadm ledger export --out) or to the console between
 * two marker lines, for the serial line's log. leaf_input is the entry's
 * stored bytes: their SHA-256 under RFC 9162's leaf prefix is its leaf hash,
 * so each line can be matched against an evidence bundle or a proof.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../daemon/client/admsock.h"
#include "../daemon/msg.h"
#include "sealadm.h"

#define PAGE 1000

int
console_ledger_export(const char *sock, const char *session, uint64_t start, uint64_t count,
    FILE *out, uint64_t *written)
{
	static const struct audit_filter none = { "", "", "", "", 0, 0 };
	uint64_t next = start;
	json_t *j = NULL, *e, *item;
	struct ipc_msg m;
	size_t i;
	int st;

	*written = 0;
	while (*written < count) {
		uint64_t want = count - *written;

		if (audit_entries_msg(&m, next, (uint32_t)(want < PAGE ? want : PAGE), &none) != 0)
			return -1;
		st = admsock_call(sock, session, &m, &j);
		ipc_msg_free(&m);
		if (st != 200) {
			if (st > 0 && (e = json_object_get(j, "error")) != NULL)
				fprintf(stderr, "sealadm: %s: %s\n",
				    json_string_value(json_object_get(e, "code")) ?
				    json_string_value(json_object_get(e, "code")) : "?",
				    json_string_value(json_object_get(e, "message")) ?
				    json_string_value(json_object_get(e, "message")) : "");
			json_decref(j);
			return -1;
		}
		json_array_foreach(json_object_get(j, "entries"), i, item) {
			char *line;

			if (*written >= count)
				break;
			if ((line = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS |
			    JSON_ENSURE_ASCII)) == NULL || fprintf(out, "%s\n", line) < 0) {
				free(line);
				json_decref(j);
				fprintf(stderr, "sealadm: cannot write the export: %s\n",
				    strerror(errno));
				return -1;
			}
			free(line);
			(*written)++;
		}
		if (!json_is_true(json_object_get(j, "more")) || json_array_size(json_object_get(j,
		    "entries")) == 0) {
			json_decref(j);
			break;
		}
		{
			uint64_t n = (uint64_t)json_integer_value(json_object_get(j, "next"));

			json_decref(j);
			j = NULL;
			if (n <= next) {	/* a reply that does not move on */
				fprintf(stderr, "sealadm: seald's page did not move past entry %llu\n",
				    (unsigned long long)next);
				return -1;
			}
			next = n;
		}
	}
	return 0;
}

int
cmd_ledger_export(const struct opts *o)
{
	unsigned long long start = 0, count = 0;
	uint64_t written = 0;
	char *end;
	FILE *out = stdout;
	int fd, rc;

	if (o->start != NULL) {
		errno = 0;
		start = strtoull(o->start, &end, 10);
		if (*o->start < '0' || *o->start > '9' || *end != '\0' || errno == ERANGE) {
			fprintf(stderr, "sealadm: --start: a ledger sequence number, from 0\n");
			return 2;
		}
	}
	if (o->count == NULL || (count = strtoull(o->count, &end, 10), *o->count < '0' ||
	    *o->count > '9' || *end != '\0' || count < 1 || count > LEDGER_EXPORT_MAX)) {
		fprintf(stderr, "sealadm: ledger export needs --count N, 1 to %d entries\n",
		    LEDGER_EXPORT_MAX);
		return 2;
	}
	if (o->out != NULL) {
		if ((fd = open(o->out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		    0600)) < 0 || (out = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, "sealadm: %s: %s%s\n", o->out, strerror(errno),
			    errno == EEXIST ? " (an export is never written over a file)" : "");
			return 1;
		}
	}
	rc = console_ledger_export(o->socket, o->session, start, count, out, &written);
	if (out != stdout && (fclose(out) != 0 || rc != 0)) {
		if (rc == 0)
			fprintf(stderr, "sealadm: %s: %s\n", o->out, strerror(errno));
		(void)unlink(o->out);
		return 1;
	}
	if (rc != 0)
		return 1;
	if (out != stdout)
		printf("exported %llu entries, from %llu, to %s\n", (unsigned long long)written,
		    start, o->out);
	return 0;
}
