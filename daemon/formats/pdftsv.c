/*
 * pdftsv — pdftotext's TSV output read back (see pdftsv.h).
 *
 * What poppler 22 writes: a header line, then one line per item with the
 * fields level, page_num, par_num, block_num, line_num, word_num, left,
 * top, width, height, conf, text. Level 1 is a page (its width and height
 * are the page's; text "###PAGE###"), 3 a flow, 4 a line, 5 a word. Only
 * pages and words are used; flows and lines are checked and skipped.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/utf8.h"
#include "pdftsv.h"

#define FIELDS 12
#define COORD_MAX 1e6		/* points; pages are at most 14400 in PDF */

static const char header[] = "level\tpage_num\tpar_num\tblock_num\tline_num\tword_num\t"
    "left\ttop\twidth\theight\tconf\ttext";

struct field {
	const char *p;
	size_t n;
};

/* Split the line p (n bytes, no '\n') at tabs into exactly FIELDS fields. */
static int
split(const char *p, size_t n, struct field *f)
{
	size_t k = 0, start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '\t')
			continue;
		if (k == FIELDS)
			return SB_EINVAL;
		f[k].p = p + start;
		f[k].n = i - start;
		k++;
		start = i + 1;
	}
	return k == FIELDS ? 0 : SB_EINVAL;
}

static int
get_uint(const struct field *f, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (f->n == 0 || f->n > 10)
		return SB_EINVAL;
	for (size_t i = 0; i < f->n; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return SB_EINVAL;
		v = v * 10 + (uint64_t)(f->p[i] - '0');
	}
	if (v > max)
		return SB_EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* A decimal number as printf("%f") writes it: [-]digits[.digits]. */
static int
get_num(const struct field *f, double *out)
{
	char tmp[32];
	char *end;
	double v;
	size_t i = 0;

	if (f->n == 0 || f->n >= sizeof(tmp))
		return SB_EINVAL;
	if (f->p[0] == '-')
		i++;
	if (i == f->n)
		return SB_EINVAL;
	for (; i < f->n; i++)
		if ((f->p[i] < '0' || f->p[i] > '9') && f->p[i] != '.')
			return SB_EINVAL;
	memcpy(tmp, f->p, f->n);
	tmp[f->n] = '\0';
	v = strtod(tmp, &end);
	if (*end != '\0' || !isfinite(v) || v < -COORD_MAX || v > COORD_MAX)
		return SB_EINVAL;
	*out = v;
	return 0;
}

/* conf: -1 for pages, flows and lines, 0..100 for words. */
static int
get_conf(const struct field *f)
{
	uint32_t v;

	if (f->n == 2 && memcmp(f->p, "-1", 2) == 0)
		return 0;
	return get_uint(f, 100, &v);
}

/* The text of a page, flow or line row: pdftotext's fixed marker. */
static int
marker(const struct field *f, uint32_t level)
{
	const char *m = level == 1 ? "###PAGE###" : level == 3 ? "###FLOW###" :
	    level == 4 ? "###LINE###" : NULL;

	return m != NULL && f->n == strlen(m) && memcmp(f->p, m, f->n) == 0;
}

/* Letters, digits, ideographs: what makes a text worth checking. */
static int
usable_cp(uint32_t c)
{
	if (c < 0x80)
		return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
	if (c == 0xfffd || (c >= 0xe000 && c <= 0xf8ff) || c >= 0xf0000)
		return 0;	/* replacement and private use: glyphs without meaning */
	/* Not: spaces and punctuation (general, CJK, full-width), the BOM. */
	return c > 0xbf && c != 0xd7 && c != 0xf7 && !(c >= 0x2000 && c <= 0x206f) &&
	    !(c >= 0x3000 && c <= 0x303f) && !(c >= 0xff00 && c <= 0xff0f) &&
	    !(c >= 0xff1a && c <= 0xff20) && !(c >= 0xff3b && c <= 0xff40) &&
	    !(c >= 0xff5b && c <= 0xff65) && c != 0xfeff;
}

static int
add_page(struct pdftsv *d, uint32_t page, double w, double h, size_t *cap)
{
	double *pw, *ph;

	if (page != d->npages + 1 || page > PDFTSV_PAGES_MAX)
		return page > PDFTSV_PAGES_MAX ? SB_ELIMIT : SB_EINVAL;
	if (w <= 0 || h <= 0)
		return SB_EINVAL;
	if (page > *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((pw = realloc(d->page_w, *cap * sizeof(*pw))) == NULL)
			return SB_ENOMEM;
		d->page_w = pw;
		if ((ph = realloc(d->page_h, *cap * sizeof(*ph))) == NULL)
			return SB_ENOMEM;
		d->page_h = ph;
	}
	d->page_w[page - 1] = w;
	d->page_h[page - 1] = h;
	d->npages = page;
	return 0;
}

/* One word: its text appended to tb (after sep), its box to d->words. */
static int
add_word(struct pdftsv *d, struct buf *tb, char sep, uint32_t page, const struct field *f,
    double l, double t, double w, double h, size_t *cap)
{
	struct pdftsv_word *nw;
	uint32_t c;
	size_t k;

	if (page == 0 || page != d->npages || f[11].n == 0 || w < 0 || h < 0)
		return SB_EINVAL;
	for (size_t i = 0; i < f[11].n; i += k) {
		if ((k = utf8_next((const uint8_t *)f[11].p + i, f[11].n - i, &c)) == 0 ||
		    c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 || c == 0x2029)
			return SB_EINVAL;	/* control characters, line separators */
		d->usable += usable_cp(c);
	}
	if (tb->len + 1 + f[11].n > PDFTSV_TEXT_MAX)
		return SB_ELIMIT;
	if (d->nwords == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		if ((nw = realloc(d->words, *cap * sizeof(*nw))) == NULL)
			return SB_ENOMEM;
		d->words = nw;
	}
	if (tb->len > 0 && buf_append(tb, &sep, 1) != 0)
		return SB_ENOMEM;
	nw = &d->words[d->nwords++];
	nw->page = page;
	nw->x0 = l;
	nw->y0 = t;
	nw->x1 = l + w;
	nw->y1 = t + h;
	nw->off = tb->len;
	nw->len = f[11].n;
	return buf_append(tb, f[11].p, f[11].n) != 0 ? SB_ENOMEM : 0;
}

int
pdftsv_parse(const uint8_t *tsv, size_t n, struct pdftsv *d)
{
	const char *p = (const char *)tsv, *end = p + n, *nl;
	struct field f[FIELDS];
	struct buf tb;
	uint32_t level, page, line[4], last[4] = { 0 };
	double l, t, w, h;
	size_t cap = 0, pcap = 0;
	int rc = 0, first = 1;

	memset(d, 0, sizeof(*d));
	buf_init(&tb, PDFTSV_TEXT_MAX + 1);	/* the bound; it grows as needed */
	if ((nl = memchr(p, '\n', n)) == NULL || (size_t)(nl - p) != sizeof(header) - 1 ||
	    memcmp(p, header, sizeof(header) - 1) != 0)
		rc = SB_EINVAL;
	for (p = nl != NULL ? nl + 1 : end; rc == 0 && p < end; p = nl < end ? nl + 1 : end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;	/* the last line may have no newline */
		if ((rc = split(p, (size_t)(nl - p), f)) != 0 ||
		    (rc = get_uint(&f[0], 5, &level)) != 0 ||
		    (rc = get_uint(&f[1], PDFTSV_PAGES_MAX + 1, &page)) != 0 ||
		    (rc = get_num(&f[6], &l)) != 0 || (rc = get_num(&f[7], &t)) != 0 ||
		    (rc = get_num(&f[8], &w)) != 0 || (rc = get_num(&f[9], &h)) != 0)
			break;
		for (int i = 0; rc == 0 && i < 4; i++)
			rc = get_uint(&f[2 + i], UINT32_MAX, &line[i]);
		if (rc == 0)
			rc = get_conf(&f[10]);
		if (rc != 0)
			break;
		if (level != 5 && !marker(&f[11], level))
			rc = SB_EINVAL;
		else if (level == 1) {
			rc = add_page(d, page, w, h, &pcap);
		} else if (level == 5) {
			/* A new line when any of page, paragraph, block or line changes. */
			char sep = first || page != last[0] || line[0] != last[1] ||
			    line[1] != last[2] || line[2] != last[3] ? '\n' : ' ';

			rc = add_word(d, &tb, sep, page, f, l, t, w, h, &cap);
			last[0] = page;
			last[1] = line[0];
			last[2] = line[1];
			last[3] = line[2];
			first = 0;
		} else if (level == 2 || page == 0 || page != d->npages) {
			rc = SB_EINVAL;	/* flows and lines: of the page last begun */
		}
	}
	if (rc == 0 && d->npages == 0)
		rc = SB_EINVAL;		/* pdftotext writes every page's row */
	if (rc == 0 && buf_append(&tb, "", 1) != 0)
		rc = SB_ENOMEM;
	if (rc != 0) {
		buf_free(&tb);
		return rc;
	}
	d->text = (char *)tb.data;
	d->text_len = tb.len - 1;
	return 0;
}

void
pdftsv_free(struct pdftsv *d)
{
	if (d == NULL)
		return;
	free(d->text);
	free(d->words);
	free(d->page_w);
	free(d->page_h);
	memset(d, 0, sizeof(*d));
}

void
pdftsv_keep_text(struct pdftsv *d)
{
	free(d->words);
	free(d->page_w);
	free(d->page_h);
	d->words = NULL;
	d->page_w = d->page_h = NULL;
	d->nwords = 0;
	d->npages = 0;
}

static int
is_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xa0 || c == 0x3000 ||
	    (c >= 0x2000 && c <= 0x200b);
}

/* The code points of s (n bytes) without white space: *out (count *cnt). */
static int
decode(const char *s, size_t n, uint32_t *out, size_t max, size_t *cnt)
{
	uint32_t c;
	size_t k;

	*cnt = 0;
	for (size_t i = 0; i < n; i += k) {
		if ((k = utf8_next((const uint8_t *)s + i, n - i, &c)) == 0)
			return SB_EINVAL;
		if (is_space(c))
			continue;
		if (*cnt == max)
			return SB_ELIMIT;
		out[(*cnt)++] = c;
	}
	return 0;
}

/* One character of a page: its code point and its share of its word's box. */
struct pch {
	uint32_t c;
	double x0, x1;
	const struct pdftsv_word *w;
};

static int
page_chars(const struct pdftsv *d, size_t first, size_t last, struct pch **out, size_t *cnt)
{
	struct pch *v = NULL, *nv;
	const size_t cpmax = PDFTSV_NEEDLE_MAX * 64;	/* a word longer is no phrase's */
	uint32_t *cp = malloc(cpmax * sizeof(*cp));
	size_t cap = 0, n = 0, k;

	if (cp == NULL)
		return SB_ENOMEM;

	for (size_t i = first; i < last; i++) {
		const struct pdftsv_word *w = &d->words[i];
		size_t nc = 0;
		int rc;

		if ((rc = decode(d->text + w->off, w->len, cp, cpmax, &nc)) != 0)
			nc = 0;
		if (n + nc > cap) {
			cap = (n + nc) * 2;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				free(v);
				free(cp);
				return SB_ENOMEM;
			}
			v = nv;
		}
		for (k = 0; k < nc; k++) {
			v[n].c = cp[k];
			v[n].x0 = w->x0 + (w->x1 - w->x0) * (double)k / (double)nc;
			v[n].x1 = w->x0 + (w->x1 - w->x0) * (double)(k + 1) / (double)nc;
			v[n].w = w;
			n++;
		}
	}
	free(cp);
	*out = v;
	*cnt = n;
	return 0;
}

/* The needle's code points without white space: 0 and *nn > 0, or SB_EINVAL. */
static int
needle_decode(const char *needle, uint32_t nd[PDFTSV_NEEDLE_MAX], size_t *nn)
{
	size_t len = strlen(needle);

	if (len == 0 || len > PDFTSV_NEEDLE_MAX ||
	    decode(needle, len, nd, PDFTSV_NEEDLE_MAX, nn) != 0 || *nn == 0)
		return SB_EINVAL;
	return 0;
}

int
pdftsv_needle_ok(const char *needle)
{
	uint32_t nd[PDFTSV_NEEDLE_MAX];
	size_t nn;

	return needle_decode(needle, nd, &nn) == 0;
}

int
pdftsv_find_all(const struct pdftsv *d, const char *needle, uint32_t page,
    struct pdftsv_hit *hits, size_t max, size_t *nhits)
{
	uint32_t nd[PDFTSV_NEEDLE_MAX];
	size_t nn, i = 0;
	int rc;

	*nhits = 0;
	if (needle_decode(needle, nd, &nn) != 0)
		return SB_EINVAL;
	while (i < d->nwords && *nhits < max) {
		uint32_t pg = d->words[i].page;
		size_t j = i, cnt = 0, st = 0;
		struct pch *ch;

		while (j < d->nwords && d->words[j].page == pg)
			j++;
		if (page != 0 && pg != page) {
			i = j;
			continue;
		}
		if ((rc = page_chars(d, i, j, &ch, &cnt)) != 0)
			return rc;
		while (st + nn <= cnt && *nhits < max) {
			struct pdftsv_hit *hit = &hits[*nhits];
			size_t m = 0;

			while (m < nn && ch[st + m].c == nd[m])
				m++;
			if (m < nn) {
				st++;
				continue;
			}
			hit->page = pg;
			hit->x0 = ch[st].x0;
			hit->x1 = ch[st].x1;
			hit->y0 = ch[st].w->y0;
			hit->y1 = ch[st].w->y1;
			for (m = 1; m < nn; m++) {
				hit->x0 = fmin(hit->x0, ch[st + m].x0);
				hit->x1 = fmax(hit->x1, ch[st + m].x1);
				hit->y0 = fmin(hit->y0, ch[st + m].w->y0);
				hit->y1 = fmax(hit->y1, ch[st + m].w->y1);
			}
			hit->page_w = d->page_w[pg - 1];
			hit->page_h = d->page_h[pg - 1];
			(*nhits)++;
			st += nn;	/* occurrences do not overlap */
		}
		free(ch);
		i = j;
	}
	return *nhits > 0 ? 0 : SB_ENOTFOUND;
}

int
pdftsv_find(const struct pdftsv *d, const char *needle, uint32_t page, struct pdftsv_hit *hit)
{
	size_t n;

	return pdftsv_find_all(d, needle, page, hit, 1, &n);
}
