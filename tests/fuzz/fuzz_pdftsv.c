/*
 * fuzz_pdftsv — pdftotext's TSV reader and the phrase finder, over
 * arbitrary bytes.
 *
 * The input is parsed whole. Besides the sanitizers, the harness aborts when
 * a property breaks: only documented codes come back; a parsed document's
 * text is a C string of text_len bytes; every word lies inside it, ends at a
 * separator, holds no '\n' and is on a page 1..npages, pages and offsets in
 * order; every page has a positive size. Then a fixed phrase is looked for
 * (found only on a real page) and the first word is looked for: a word of
 * 1..PDFTSV_NEEDLE_MAX bytes that is not all white space must be found at
 * its own place (its page, left edge, top and bottom).
 *
 * The seed corpus (tests/fuzz/corpus/pdftsv/) is real output of poppler's
 * `pdftotext -tsv -enc UTF-8 -cropbox` (seal-party.tsv: pages 1 and 2 of
 * mktext-3pages.tsv with page 2's "Page 2" rows left out).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/formats/pdftsv.h"
#include "lib/err.h"
#include "lib/utf8.h"

static void
must(int cond)
{
	if (!cond)
		abort();
}

/* pdftsv_find's white space (pdftsv.c is_space). */
static int
blank(const char *s, size_t n)
{
	uint32_t c;
	size_t k;

	for (size_t i = 0; i < n; i += k) {
		if ((k = utf8_next((const uint8_t *)s + i, n - i, &c)) == 0)
			return 0;
		if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xa0 ||
		    c == 0x3000 || (c >= 0x2000 && c <= 0x200b)))
			return 0;
	}
	return 1;
}

static void
check_doc(const struct pdftsv *d)
{
	must(d->text != NULL && strlen(d->text) == d->text_len);
	must(d->text_len <= PDFTSV_TEXT_MAX && d->usable <= d->text_len);
	must(d->npages <= PDFTSV_PAGES_MAX);
	must(d->nwords == 0 || d->npages > 0);
	for (uint32_t p = 0; p < d->npages; p++)
		must(d->page_w[p] > 0 && d->page_h[p] > 0);
	for (size_t i = 0; i < d->nwords; i++) {
		const struct pdftsv_word *w = &d->words[i];
		char after;

		must(w->len > 0 && w->off + w->len <= d->text_len);
		must(memchr(d->text + w->off, '\n', w->len) == NULL);
		after = d->text[w->off + w->len];
		must(after == '\0' || after == ' ' || after == '\n');
		must(w->page >= 1 && w->page <= d->npages);
		must(w->x1 >= w->x0 && w->y1 >= w->y0);
		if (i > 0) {
			must(w->page >= d->words[i - 1].page);
			must(w->off > d->words[i - 1].off + d->words[i - 1].len);
		} else
			must(w->off == 0);
	}
	if (d->nwords > 0)
		must(d->words[d->nwords - 1].off + d->words[d->nwords - 1].len == d->text_len);
	else
		must(d->text_len == 0);
}

static void
check_hit(const struct pdftsv *d, const struct pdftsv_hit *h)
{
	must(h->page >= 1 && h->page <= d->npages);
	must(h->x0 <= h->x1 && h->y0 <= h->y1);
	must(h->page_w == d->page_w[h->page - 1] && h->page_h == d->page_h[h->page - 1]);
}

static void
check_find(const struct pdftsv *d)
{
	static char needle[PDFTSV_NEEDLE_MAX + 1];
	const struct pdftsv_word *w;
	struct pdftsv_hit hit;
	int rc;

	rc = pdftsv_find(d, "甲方", 0, &hit);
	must(rc == 0 || rc == SB_ENOTFOUND);
	if (rc == 0) {
		check_hit(d, &hit);
		must(pdftsv_find(d, "甲 方", hit.page, &hit) == 0);
	}
	must(pdftsv_find(d, "甲方", d->npages + 1, &hit) == SB_ENOTFOUND);
	if (d->nwords == 0)
		return;
	w = &d->words[0];
	if (w->len > PDFTSV_NEEDLE_MAX)
		return;
	memcpy(needle, d->text + w->off, w->len);
	needle[w->len] = '\0';
	rc = pdftsv_find(d, needle, 0, &hit);
	if (blank(needle, w->len)) {
		must(rc == SB_EINVAL);
		return;
	}
	must(rc == 0);
	check_hit(d, &hit);
	/* the earliest match in reading order is the word itself */
	must(hit.page == w->page && hit.x0 == w->x0 && hit.y0 == w->y0 && hit.y1 == w->y1);
	must(pdftsv_find(d, needle, w->page, &hit) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pdftsv d;
	int rc = pdftsv_parse(data, size, &d);

	must(rc == 0 || rc == SB_EINVAL || rc == SB_ELIMIT || rc == SB_ENOMEM);
	if (rc == 0) {
		check_doc(&d);
		check_find(&d);
	}
	pdftsv_free(&d);
	must(d.text == NULL && d.words == NULL && d.page_w == NULL && d.page_h == NULL);
	return 0;
}
