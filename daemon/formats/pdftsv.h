/*
 * pdftsv — the words of a PDF as poppler's `pdftotext -tsv -enc UTF-8
 * -cropbox` prints them, read back strictly: the document's text (for the
 * sensitive-word check) and where a phrase stands on a page (to place a
 * seal next to it).
 *
 * The output is untrusted: it is made by a program reading the caller's
 * PDF. Every line must have the 12 fields pdftotext writes, numbers must be
 * numbers in range, text must be UTF-8; anything else refuses the whole
 * output (SB_EINVAL), which the caller reports as text it cannot read.
 *
 * Coordinates are pdftotext's: points from the top left corner of the
 * page's CropBox (MediaBox if none), y growing downwards.
 */
#ifndef SB_FORMATS_PDFTSV_H
#define SB_FORMATS_PDFTSV_H

#include <stddef.h>
#include <stdint.h>

#define PDFTSV_TEXT_MAX (1024 * 1024)	/* the joined text: SB_ELIMIT past it */
#define PDFTSV_PAGES_MAX 100000
#define PDFTSV_NEEDLE_MAX 255		/* bytes of a phrase to find */

struct pdftsv_word {
	uint32_t page;			/* 1-based */
	double x0, y0, x1, y1;		/* its box */
	size_t off, len;		/* its text in the document's text */
};

struct pdftsv {
	char *text;			/* words by line: ' ' between words, '\n'
					   between lines; NUL-terminated */
	size_t text_len;
	size_t usable;			/* characters that are letters, digits or
					   ideographs (not U+FFFD, not private use) */
	struct pdftsv_word *words;
	size_t nwords;
	double *page_w, *page_h;	/* per page, index page - 1 */
	uint32_t npages;
};

/* Where a phrase was found: the union of its characters' boxes. */
struct pdftsv_hit {
	uint32_t page;
	double x0, y0, x1, y1;
	double page_w, page_h;
};

/*
 * Parse tsv (n bytes) into *d (free it with pdftsv_free, also on error).
 * Errors: SB_EINVAL (not pdftotext's TSV), SB_ELIMIT (text over
 * PDFTSV_TEXT_MAX, pages over PDFTSV_PAGES_MAX), SB_ENOMEM.
 */
int pdftsv_parse(const uint8_t *tsv, size_t n, struct pdftsv *d);
void pdftsv_free(struct pdftsv *d);
/* Free all but the text (words and pages: finding is no longer possible). */
void pdftsv_keep_text(struct pdftsv *d);

/*
 * The first occurrence of needle (UTF-8; white space in it and in the
 * text is ignored) in reading order, on page (0: any page). A word's box is
 * shared evenly by its characters, so a phrase inside a longer word (as
 * Chinese text is, without spaces) gets its own part of the box.
 * 0 and *hit; SB_ENOTFOUND; SB_EINVAL (needle empty, blank, over
 * PDFTSV_NEEDLE_MAX bytes or not UTF-8).
 */
int pdftsv_find(const struct pdftsv *d, const char *needle, uint32_t page,
    struct pdftsv_hit *hit);

/* 1 when needle is a phrase pdftsv_find takes: UTF-8, 1..PDFTSV_NEEDLE_MAX
 * bytes, something besides white space (as the search skips it). */
int pdftsv_needle_ok(const char *needle);

/*
 * As pdftsv_find, every occurrence (they do not overlap) in reading order,
 * at most max of them: 0 with *nhits (1..max) in hits; SB_ENOTFOUND (none);
 * SB_EINVAL as above; SB_ENOMEM.
 */
int pdftsv_find_all(const struct pdftsv *d, const char *needle, uint32_t page,
    struct pdftsv_hit *hits, size_t max, size_t *nhits);

#endif
