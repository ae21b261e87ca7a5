/*
 * fuzz_share — the share text parser and the share set, over arbitrary bytes.
 *
 * The input, cut at CUSTODY_SHARE_TEXT_MAX * 4 bytes and NUL-terminated, is
 * decoded whole (so the length bound is exercised too), then split into
 * lines that are added one by one to two sets of appliance "sbx-01": one
 * with a custody record, one without; then both are combined. Besides the
 * sanitizers, the harness aborts when a property breaks: only documented
 * codes come back, a decoded share re-encodes to a text that decodes to the
 * same share, a refused share leaves the set as it was, and shares that pass
 * the record's check value give exactly the record's secret.
 *
 * The seed corpus (tests/fuzz/corpus/share/) holds shares of FUZZ_SECRET
 * under FUZZ_CEREMONY, so that combining with the record is reachable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hsm/custody.h"
#include "lib/err.h"
#include "lib/log.h"

#define FUZZ_ID "sbx-01"
#define FUZZ_INPUT_MAX (CUSTODY_SHARE_TEXT_MAX * 4)

static const uint8_t FUZZ_CEREMONY[CUSTODY_CEREMONY_LEN] = {
	0x5e, 0xa1, 0xb0, 0x0c, 0x01, 0x02, 0x03, 0x04,
};
static uint8_t FUZZ_SECRET[CUSTODY_SECRET_LEN];
static struct custody_record rec;

static void
must(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_CRIT);
	for (unsigned i = 0; i < CUSTODY_SECRET_LEN; i++)
		FUZZ_SECRET[i] = (uint8_t)(0xa5 ^ (i * 7));
	memcpy(rec.appliance, FUZZ_ID, sizeof(FUZZ_ID));
	memcpy(rec.ceremony, FUZZ_CEREMONY, sizeof(FUZZ_CEREMONY));
	rec.threshold = 2;
	rec.count = 3;
	rec.created = 1700000000;
	must(custody_check_value(FUZZ_SECRET, FUZZ_ID, rec.check) == 0);
	return 0;
}

static void
check_decode(const char *text)
{
	static struct custody_share s, again;
	static char enc[CUSTODY_SHARE_TEXT_MAX];
	int rc = custody_share_decode(text, &s);

	must(rc == 0 || rc == SB_ESHARE_FORMAT || rc == SB_ESHARE_CHECKSUM);
	if (rc != 0)
		return;
	must(strlen(text) < CUSTODY_SHARE_TEXT_MAX);
	must(custody_share_encode(&s, enc, sizeof(enc)) == 0);
	must(custody_share_decode(enc, &again) == 0);
	must(memcmp(&s, &again, sizeof(s)) == 0);
}

static void
add_line(struct custody_set *set, const char *line)
{
	char detail[200];
	unsigned before = custody_set_count(set), have = 99, need = 99;
	int rc = custody_set_add(set, line, &have, &need, detail, sizeof(detail));

	must(rc == 0 || rc == SB_ESHARE_FORMAT || rc == SB_ESHARE_CHECKSUM ||
	    rc == SB_ESHARE_FOREIGN || rc == SB_ESHARE_STALE || rc == SB_ESHARE_MIXED ||
	    rc == SB_ESHARE_DUP);
	must(memchr(detail, '\0', sizeof(detail)) != NULL);
	must(custody_set_count(set) == before + (rc == 0));
	must(have == custody_set_count(set) && have <= CUSTODY_MAX_SHARES);
	must(need <= CUSTODY_MAX_SHARES);
}

static void
check_combine(struct custody_set *set, int with_record)
{
	uint8_t secret[CUSTODY_SECRET_LEN];
	unsigned m = 0, n = 0;
	int rc = custody_set_combine(set, secret);

	must(custody_set_info(set, NULL, &m, &n) == 0);
	if (custody_set_count(set) < m || custody_set_count(set) == 0) {
		must(rc == SB_ESHARE_TOOFEW);
		return;
	}
	if (with_record) {
		must(rc == 0 || rc == SB_ESHARE_WRONG);
		if (rc == 0)
			must(memcmp(secret, FUZZ_SECRET, sizeof(secret)) == 0);
	} else
		must(rc == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[FUZZ_INPUT_MAX + 1];
	struct custody_set *with, *without;
	char *line, *next;

	if (size > FUZZ_INPUT_MAX)
		size = FUZZ_INPUT_MAX;
	memcpy(text, data, size);
	text[size] = '\0';
	check_decode(text);

	with = custody_set_new(FUZZ_ID, &rec);
	without = custody_set_new(FUZZ_ID, NULL);
	must(with != NULL && without != NULL);
	for (line = text; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		add_line(with, line);
		add_line(without, line);
	}
	check_combine(with, 1);
	check_combine(without, 0);
	custody_set_free(with);
	custody_set_free(without);
	return 0;
}
