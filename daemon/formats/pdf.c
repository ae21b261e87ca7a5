/*
 * pdf — an incremental update written by hand over what qpdf reads.
 *
 * Order of work in pdf_prepare: check the options; find the last
 * "startxref" (the one thing qpdf does not tell us) and what it points at
 * (a classic table or an xref stream: the update keeps that style); read
 * the document with qpdf with recovery off, resolve every object once so
 * that damage anywhere shows as an error or a warning, and refuse it then;
 * refuse a certification that allows no change; find the page(s) and box;
 * decode the image; write the update; read the result back with qpdf; fill
 * in the /ByteRange. All qpdf strings are copied into the output at once:
 * qpdf returns them in one shared buffer.
 *
 * Objects appended, numbered from the old /Size: for each spot (one page,
 * or every page for a cross-page seal) image, soft mask, appearance form,
 * widget and a new version of the page (with a direct /Annots); the field
 * when it is not the widget itself; a new version of the catalog (or its
 * /AcroForm, or the /Fields array); last the signature dictionary, so that
 * the second byte range is only the xref and trailer.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qpdf/qpdf-c.h>
#include <zlib.h>

#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "pdf.h"
#include "png.h"

#define TAIL_SCAN 2048		/* "startxref" must be this close to the end */
#define HEAD_SCAN 1024		/* "%PDF-" must be this close to the start */
#define BR_WIDTH 48		/* characters of the /ByteRange array, padded */
#define XENT_MAX (5 * PDF_CROSS_PAGES_MAX + 8)	/* objects one update writes */
#define PARENT_DEPTH 64		/* page tree levels searched for a box */

struct xent {
	int id, gen;
	size_t off;
};

/* One appearance of the seal: a page, a rectangle, a slice of the image. */
struct spot {
	qpdf_oh page;
	double box[4];		/* llx lly urx ury of the CropBox or MediaBox */
	double rect[4];		/* the widget's /Rect */
	unsigned col0, cols;	/* the image's columns shown here */
	int id_img, id_mask, id_ap, id_widget;
};

struct pctx {
	const uint8_t *in;
	size_t len;
	const struct pdf_opts *o;
	struct pdf_err *e;
	qpdf_data q;
	size_t startxref;
	int xref_stream;
	int size;		/* the old /Size */
	int next;		/* next new object number */
	size_t contents_max, max_objects;
	unsigned npages;
	struct spot spots[PDF_CROSS_PAGES_MAX > PDF_AT_MAX ? PDF_CROSS_PAGES_MAX : PDF_AT_MAX];
	unsigned nspots;	/* 1, the page count for a cross-page seal, or nat */
	uint8_t *rgba;
	unsigned iw, ih;
	int id_field;		/* the signature field: the widget when nspots is 1 */
	int id_sig;
	char field[PDF_TEXT_MAX + 1];
	struct xent ents[XENT_MAX];
	size_t nent;
	struct buf out;
	size_t br_off;		/* offset of the /ByteRange array's '[' */
	size_t contents_off;
};

/* ---- errors ------------------------------------------------------------- */

static int
fail(struct pctx *c, int status, const char *code, int rc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
fail(struct pctx *c, int status, const char *code, int rc, const char *fmt, ...)
{
	va_list ap;

	if (c->e != NULL && c->e->code[0] == '\0') {
		c->e->status = status;
		snprintf(c->e->code, sizeof(c->e->code), "%s", code);
		va_start(ap, fmt);
		vsnprintf(c->e->message, sizeof(c->e->message), fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int
fail_mem(struct pctx *c, int rc)
{
	if (rc == SB_ELIMIT)
		return fail(c, 500, "pdf_internal", rc,
		    "the sealed document would be larger than its output limit");
	return fail(c, 500, "pdf_internal", SB_ENOMEM,
	    "out of memory while writing the sealed document");
}

/* 0 when qpdf has no error pending; else pdf_damaged with qpdf's detail. */
static int
qcheck(struct pctx *c, const char *what)
{
	qpdf_error err;
	char detail[160];

	if (!qpdf_has_error(c->q))
		return 0;
	err = qpdf_get_error(c->q);
	if (qpdf_get_error_code(c->q, err) == qpdf_e_password)
		return fail(c, 422, "pdf_encrypted", SB_EINVAL,
		    "the document is encrypted (password protected); "
		    "seal the unencrypted document");
	snprintf(detail, sizeof(detail), "%s",
	    qpdf_get_error_message_detail(c->q, err));
	return fail(c, 422, "pdf_damaged", SB_EINVAL,
	    "the document is damaged (%s: %s); repair or re-save it first",
	    what, detail);
}

/* pdf_damaged when qpdf warned about anything so far. */
static int
qwarnings(struct pctx *c)
{
	qpdf_error w;
	char detail[160];

	if (!qpdf_more_warnings(c->q))
		return 0;
	w = qpdf_next_warning(c->q);
	snprintf(detail, sizeof(detail), "%s",
	    qpdf_get_error_message_detail(c->q, w));
	return fail(c, 422, "pdf_damaged", SB_EINVAL,
	    "the document is damaged (%s); repair or re-save it first", detail);
}

/* ---- options ------------------------------------------------------------ */

/* 1 when s is well-formed UTF-8 (no overlong forms, surrogates or > U+10FFFF). */
static int
utf8_next(const unsigned char **sp, unsigned long *cp)
{
	const unsigned char *s = *sp;
	unsigned long v, min;
	int n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		*sp = s + 1;
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) { n = 1; v = s[0] & 0x1f; min = 0x80; }
	else if ((s[0] & 0xf0) == 0xe0) { n = 2; v = s[0] & 0x0f; min = 0x800; }
	else if ((s[0] & 0xf8) == 0xf0) { n = 3; v = s[0] & 0x07; min = 0x10000; }
	else
		return 0;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	*sp = s + n + 1;
	return 1;
}

static int
check_text(struct pctx *c, const char *what, const char *s)
{
	const unsigned char *p;
	unsigned long cp;

	if (s == NULL)
		return 0;
	if (strlen(s) > PDF_TEXT_MAX)
		return fail(c, 400, "pdf_bad_option", SB_ELIMIT,
		    "the %s is longer than %d bytes", what, PDF_TEXT_MAX);
	for (p = (const unsigned char *)s; *p != '\0';) {
		if (!utf8_next(&p, &cp) || cp < 0x20 || cp == 0x7f)
			return fail(c, 400, "pdf_bad_option", SB_EINVAL,
			    "the %s is not UTF-8 text without control characters",
			    what);
	}
	return 0;
}

static int
check_opts(struct pctx *c)
{
	const struct pdf_opts *o = c->o;
	int rc;

	c->contents_max = o->contents_max ? o->contents_max : PDF_CONTENTS_DEFAULT;
	c->max_objects = o->max_objects ? o->max_objects : PDF_OBJECTS_DEFAULT;
	if (c->contents_max > PDF_CONTENTS_MAX || c->max_objects > INT_MAX / 2)
		return fail(c, 400, "pdf_bad_option", SB_ELIMIT,
		    "contents_max is over %d bytes or max_objects over %d",
		    PDF_CONTENTS_MAX, INT_MAX / 2);
	if ((rc = check_text(c, "reason", o->reason)) != 0 ||
	    (rc = check_text(c, "location", o->location)) != 0 ||
	    (rc = check_text(c, "signer name", o->name)) != 0 ||
	    (rc = check_text(c, "field name", o->field_name)) != 0)
		return rc;
	if (o->field_name != NULL && (o->field_name[0] == '\0' ||
	    strchr(o->field_name, '.') != NULL))
		return fail(c, 400, "pdf_bad_option", SB_EINVAL,
		    "the field name is empty or contains a period");
	if (!isfinite(o->x) || !isfinite(o->y) || !isfinite(o->w) ||
	    !isfinite(o->h) || o->w <= 0 || o->h < 0 || o->x < 0 || o->y < 0)
		return fail(c, 400, "pdf_bad_placement", SB_EINVAL,
		    "the seal's rectangle needs x >= 0, y >= 0, width > 0 "
		    "and height >= 0 (0: from the image)");
	if (o->page == 0)
		return fail(c, 400, "pdf_bad_page", SB_EINVAL,
		    "page numbers start at 1");
	return 0;
}

/* ---- the end of the file ------------------------------------------------ */

static const uint8_t *
find_last(const uint8_t *p, size_t n, const char *s)
{
	size_t sl = strlen(s), i;

	if (n < sl)
		return NULL;
	for (i = n - sl + 1; i-- > 0;)
		if (memcmp(p + i, s, sl) == 0)
			return p + i;
	return NULL;
}

static const uint8_t *
find_first(const uint8_t *p, size_t n, const char *s)
{
	size_t sl = strlen(s), i;

	for (i = 0; n >= sl && i <= n - sl; i++)
		if (memcmp(p + i, s, sl) == 0)
			return p + i;
	return NULL;
}

/* p (n bytes) starts "%PDF-" digits '.' digits, as qpdf reads a header. */
static int
header_version(const uint8_t *p, size_t n)
{
	size_t i = 5;

#define DIGIT(ch) ((ch) >= '0' && (ch) <= '9')
	if (n <= 5 || memcmp(p, "%PDF-", 5) != 0 || !DIGIT(p[i]))
		return 0;
	while (i < n && DIGIT(p[i]))
		i++;
	return i + 1 < n && p[i] == '.' && DIGIT(p[i + 1]);
#undef DIGIT
}

static int
is_ws(uint8_t ch)
{
	return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t' ||
	    ch == '\f' || ch == '\0';
}

/* "%PDF-" near the start, "startxref N" near the end, and what N points at. */
static int
find_tail(struct pctx *c)
{
	const uint8_t *tail, *p, *end = c->in + c->len;
	size_t scan, v = 0;
	int digits = 0;

	scan = c->len < HEAD_SCAN ? c->len : HEAD_SCAN;
	if ((p = find_first(c->in, scan, "%PDF-")) == NULL)
		return fail(c, 422, "pdf_not_pdf", SB_EINVAL,
		    "the document is not a PDF (no %%PDF- header)");
	/* Readers disagree on offsets in a file with bytes before its header. */
	if (p != c->in)
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged (%zu bytes before its %%PDF- "
		    "header)", (size_t)(p - c->in));
	/*
	 * qpdf takes the first "%PDF-" followed by a version (digits, '.',
	 * digits) as the header and counts every offset from it: one with no
	 * version at the start would let it count from a later one, and the
	 * offsets we append would mean other bytes to it than to us.
	 */
	if (!header_version(c->in, scan))
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged (its %%PDF- header has no version "
		    "such as 1.7)");
	scan = c->len < TAIL_SCAN ? c->len : TAIL_SCAN;
	tail = c->in + c->len - scan;
	if ((p = find_last(tail, scan, "startxref")) == NULL ||
	    find_last(p, (size_t)(end - p), "%%EOF") == NULL)
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged or truncated "
		    "(no startxref and %%%%EOF at its end)");
	/*
	 * Strictly "startxref" EOL digits EOL "%%EOF", then only white space:
	 * a reader that skips a "startxref" it cannot parse (qpdf does, for
	 * "12.0") would take an earlier one, and describe other objects than
	 * the ones we checked and append to.
	 */
	if (p > c->in && !is_ws(p[-1]))
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged (its last startxref is not on a line of its own)");
	for (p += 9; p < end && is_ws(*p); p++)
		;
	for (; p < end && *p >= '0' && *p <= '9' && digits < 12; p++, digits++)
		v = v * 10 + (size_t)(*p - '0');
	if (digits == 0 || digits == 12 || v >= c->len)
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged (startxref points outside it)");
	for (; p < end && is_ws(*p); p++)
		;
	if (end - p < 5 || memcmp(p, "%%EOF", 5) != 0)
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged (its startxref offset is not followed by %%%%EOF)");
	for (p += 5; p < end && is_ws(*p); p++)
		;
	if (p != end)
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged (%zu bytes after its last %%%%EOF)", (size_t)(end - p));
	c->startxref = v;
	for (p = c->in + v; p < end && is_ws(*p); p++)
		;
	if (end - p >= 4 && memcmp(p, "xref", 4) == 0)
		c->xref_stream = 0;
	else if (p < end && *p >= '1' && *p <= '9')
		c->xref_stream = 1;
	else
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged (startxref points at neither a "
		    "table nor a stream)");
	return 0;
}

/* ---- reading with qpdf ------------------------------------------------------ */

/*
 * d's value for key, or null when d is not a dictionary: qpdf warns when
 * asked for a key of anything else, and a warning refuses the document.
 */
static qpdf_oh
dget(struct pctx *c, qpdf_oh d, const char *key)
{
	if (!qpdf_oh_is_dictionary(c->q, d))
		return qpdf_oh_new_null(c->q);
	return qpdf_oh_get_key(c->q, d, key);
}

static int
q_open(struct pctx *c)
{
	int rc;

	if ((c->q = qpdf_init()) == NULL)
		return fail_mem(c, SB_ENOMEM);
	qpdf_silence_errors(c->q);
	qpdf_set_suppress_warnings(c->q, QPDF_TRUE);
	qpdf_set_attempt_recovery(c->q, QPDF_FALSE);
	qpdf_read_memory(c->q, "document", (const char *)c->in, c->len, NULL);
	if ((rc = qcheck(c, "reading the cross-reference table")) != 0)
		return rc;
	if (qpdf_is_encrypted(c->q))
		return fail(c, 422, "pdf_encrypted", SB_EINVAL,
		    "the document is encrypted; seal the unencrypted document");
	return qwarnings(c);
}

/* The old /Size, within max_objects. */
static int
q_size(struct pctx *c)
{
	qpdf_oh t, s;
	long long v;

	t = qpdf_get_trailer(c->q);
	s = dget(c, t, "/Size");
	if (!qpdf_oh_is_integer(c->q, s) ||
	    !qpdf_oh_is_dictionary(c->q, dget(c, t, "/Root")))
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged (its trailer lacks /Size or /Root)");
	v = qpdf_oh_get_int_value(c->q, s);
	if (v < 1 || (unsigned long long)v > c->max_objects)
		return fail(c, 422, "pdf_too_many_objects", SB_ELIMIT,
		    "the document has more objects than the %zu accepted "
		    "(its /Size is %lld)", c->max_objects, v);
	c->size = (int)v;
	c->next = c->size;
	return 0;
}

/*
 * Parse every object (generation 0) once, so that a damaged or too deeply
 * nested object anywhere is an error or a warning now, not a surprise to
 * the next reader of what we append.
 */
static int
q_resolve_all(struct pctx *c)
{
	qpdf_oh oh;
	int id, rc;

	for (id = 1; id < c->size; id++) {
		oh = qpdf_get_object_by_id(c->q, id, 0);
		(void)qpdf_oh_get_type_code(c->q, oh);
		qpdf_oh_release(c->q, oh);
		if ((rc = qcheck(c, "reading an object")) != 0)
			return rc;
		if (qpdf_more_warnings(c->q))
			return qwarnings(c);
	}
	return 0;
}

/*
 * A certification signature (/Perms /DocMDP) with /P 1 allows no change at
 * all: a seal appended to it would break the certification.
 */
static int
q_docmdp(struct pctx *c)
{
	qpdf_oh sig, ref, item, p;
	int i, n;

	sig = dget(c, dget(c, qpdf_get_root(c->q), "/Perms"), "/DocMDP");
	ref = dget(c, sig, "/Reference");
	n = qpdf_oh_is_array(c->q, ref) ? qpdf_oh_get_array_n_items(c->q, ref) : 0;
	for (i = 0; i < n; i++) {
		item = qpdf_oh_get_array_item(c->q, ref, i);
		if (!qpdf_oh_is_name_and_equals(c->q, dget(c, item,
		    "/TransformMethod"), "/DocMDP"))
			continue;
		p = dget(c, dget(c, item, "/TransformParams"), "/P");
		if (qpdf_oh_is_integer(c->q, p) && qpdf_oh_get_int_value(c->q, p) == 1)
			return fail(c, 422, "pdf_certified", SB_EINVAL,
			    "the document is certified with no changes allowed "
			    "(DocMDP /P 1); a seal would break its certification");
	}
	return 0;
}

/* An array of 4 numbers from key, looked up through /Parent. */
static int
inherited_box(struct pctx *c, qpdf_oh page, const char *key, double box[4])
{
	qpdf_oh node = page, a;
	double t;
	int d, i;

	for (d = 0; d < PARENT_DEPTH && qpdf_oh_is_dictionary(c->q, node); d++) {
		a = dget(c, node, key);
		if (qpdf_oh_is_array(c->q, a)) {
			if (qpdf_oh_get_array_n_items(c->q, a) != 4)
				return 0;
			for (i = 0; i < 4; i++) {
				qpdf_oh n = qpdf_oh_get_array_item(c->q, a, i);
				if (!qpdf_oh_is_number(c->q, n))
					return 0;
				box[i] = qpdf_oh_get_numeric_value(c->q, n);
				if (!isfinite(box[i]))
					return 0;
			}
			if (box[0] > box[2]) { t = box[0]; box[0] = box[2]; box[2] = t; }
			if (box[1] > box[3]) { t = box[1]; box[1] = box[3]; box[3] = t; }
			return box[2] > box[0] && box[3] > box[1];
		}
		node = dget(c, node, "/Parent");
	}
	return 0;
}

/* The page's /Rotate (looked up through /Parent) in 0..359; 0 when absent
 * or not an integer. */
static long
inherited_rotate(struct pctx *c, qpdf_oh page)
{
	qpdf_oh node = page, r;
	long long v;
	int d;

	for (d = 0; d < PARENT_DEPTH && qpdf_oh_is_dictionary(c->q, node); d++) {
		r = dget(c, node, "/Rotate");
		if (qpdf_oh_is_integer(c->q, r)) {
			v = qpdf_oh_get_int_value(c->q, r) % 360;
			return (long)(v < 0 ? v + 360 : v);
		}
		node = dget(c, node, "/Parent");
	}
	return 0;
}

/* Page idx (0-based) and its box into s. */
static int
q_spot(struct pctx *c, struct spot *s, unsigned idx)
{
	int rc;

	s->page = qpdf_get_page_n(c->q, idx);
	if ((rc = qcheck(c, "reading a page")) != 0)
		return rc;
	if (!qpdf_oh_is_indirect(c->q, s->page) ||
	    !qpdf_oh_is_dictionary(c->q, s->page))
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged (page %u is not a dictionary)",
		    idx + 1);
	if (!inherited_box(c, s->page, "/CropBox", s->box) &&
	    !inherited_box(c, s->page, "/MediaBox", s->box))
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged (page %u has no valid MediaBox)",
		    idx + 1);
	return 0;
}

static int
q_page(struct pctx *c)
{
	unsigned i;
	long rot;
	int n, rc;

	n = qpdf_get_num_pages(c->q);
	if ((rc = qcheck(c, "reading the page tree")) != 0)
		return rc;
	if (n <= 0)
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged (it has no pages)");
	c->npages = (unsigned)n;
	if (c->o->nat > 0) {
		if (c->o->nat > PDF_AT_MAX || c->o->at == NULL)
			return fail(c, 400, "pdf_bad_placement", SB_EINVAL,
			    "a seal goes to at most %d places", PDF_AT_MAX);
		for (i = 0; i < c->o->nat; i++) {
			if (c->o->at[i].page < 1 || c->o->at[i].page > c->npages)
				return fail(c, 400, "pdf_bad_page", SB_EINVAL,
				    "page %u does not exist: the document has %u page%s",
				    c->o->at[i].page, c->npages, c->npages == 1 ? "" : "s");
			if ((rc = q_spot(c, &c->spots[i], c->o->at[i].page - 1)) != 0)
				return rc;
			/* Places come from the text's coordinates, which are the
			 * displayed (rotated) page's; ours are not (yet). */
			if ((rot = inherited_rotate(c, c->spots[i].page)) != 0)
				return fail(c, 400, "pdf_bad_placement", SB_EINVAL,
				    "page %u is shown rotated (/Rotate %ld): a seal cannot "
				    "be placed next to its text yet", c->o->at[i].page, rot);
		}
		c->nspots = c->o->nat;
		return 0;
	}
	if (!c->o->cross_page) {
		if (c->o->page > c->npages)
			return fail(c, 400, "pdf_bad_page", SB_EINVAL,
			    "page %u does not exist: the document has %u page%s",
			    c->o->page, c->npages, c->npages == 1 ? "" : "s");
		c->nspots = 1;
		return q_spot(c, &c->spots[0], c->o->page - 1);
	}
	if (c->npages < 2 || c->npages > PDF_CROSS_PAGES_MAX)
		return fail(c, 400, "pdf_bad_page", SB_EINVAL,
		    "a cross-page seal needs 2 to %d pages: the document has %u",
		    PDF_CROSS_PAGES_MAX, c->npages);
	c->nspots = c->npages;
	for (i = 0; i < c->nspots; i++)
		if ((rc = q_spot(c, &c->spots[i], i)) != 0)
			return rc;
	return 0;
}

/* ---- placement and image ------------------------------------------------- */

/*
 * Each spot's rectangle. A cross-page seal puts slice i of n (columns
 * iw*i/n up to iw*(i+1)/n) on page i+1, against the box's right edge;
 * places (o->at) get the whole image each.
 */
static int
place(struct pctx *c)
{
	const struct pdf_opts *o = c->o;
	double h = o->h, w, x, y, pw, ph;
	struct spot *s;
	unsigned i, n = c->nspots, pg;

	if (h == 0)
		h = o->w * (double)c->ih / (double)c->iw;
	if (o->cross_page && o->nat == 0 && c->iw < n)
		return fail(c, 400, "pdf_bad_image", SB_EINVAL,
		    "the seal image is %u pixels wide: too narrow to cut into "
		    "%u slices", c->iw, n);
	for (i = 0; i < n; i++) {
		s = &c->spots[i];
		if (o->nat > 0) {
			s->col0 = 0;
			s->cols = c->iw;
		} else {
			s->col0 = (unsigned)((unsigned long long)c->iw * i / n);
			s->cols = (unsigned)((unsigned long long)c->iw * (i + 1) / n) - s->col0;
		}
		pw = s->box[2] - s->box[0];
		ph = s->box[3] - s->box[1];
		w = o->w * (double)s->cols / (double)c->iw;
		x = o->nat > 0 ? o->at[i].x : o->cross_page ? pw - w : o->x;
		y = o->nat > 0 ? o->at[i].y : o->y;
		pg = o->nat > 0 ? o->at[i].page : o->cross_page ? i + 1 : o->page;
		if (!(x >= 0) || !(y >= 0) || x + w > pw + 1e-6 || y + h > ph + 1e-6 ||
		    h < 0.01 || w < 0.01)
			return fail(c, 400, "pdf_bad_placement", SB_EINVAL,
			    "the seal's rectangle (x %.2f, y %.2f, %.2f x %.2f pt) "
			    "is not inside page %u (%.2f x %.2f pt)", x, y, w, h,
			    pg, pw, ph);
		s->rect[0] = s->box[0] + x;
		s->rect[1] = s->box[1] + y;
		s->rect[2] = s->rect[0] + w;
		s->rect[3] = s->rect[1] + h;
	}
	return 0;
}

static int
decode_image(struct pctx *c)
{
	int rc;

	rc = png_decode_rgba(c->o->png, c->o->png_len, PDF_IMAGE_SIDE_MAX,
	    &c->rgba, &c->iw, &c->ih);
	if (rc == SB_ENOMEM)
		return fail_mem(c, rc);
	if (rc == SB_ELIMIT)
		return fail(c, 400, "pdf_bad_image", rc,
		    "the seal image is larger than %d x %d pixels",
		    PDF_IMAGE_SIDE_MAX, PDF_IMAGE_SIDE_MAX);
	if (rc != 0)
		return fail(c, 400, "pdf_bad_image", SB_EINVAL,
		    "the seal image is not a valid PNG");
	return 0;
}

/* ---- writing ---------------------------------------------------------------- */


static int
put(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
put(struct pctx *c, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return fail_mem(c, SB_ENOMEM);
	if ((size_t)n < sizeof(small))
		rc = buf_append(&c->out, small, (size_t)n);
	else {
		if ((big = malloc((size_t)n + 1)) == NULL)
			return fail_mem(c, SB_ENOMEM);
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		rc = buf_append(&c->out, big, (size_t)n);
		free(big);
	}
	return rc ? fail_mem(c, rc) : 0;
}

static int
put_raw(struct pctx *c, const void *p, size_t n)
{
	int rc = buf_append(&c->out, p, n);

	return rc ? fail_mem(c, rc) : 0;
}

/* qpdf's text for oh (indirect objects as "N G R"), copied at once. */
static int
put_unparsed(struct pctx *c, qpdf_oh oh)
{
	const char *s = qpdf_oh_unparse(c->q, oh);
	int rc;

	if ((rc = qcheck(c, "writing an object")) != 0)
		return rc;
	return put_raw(c, s, strlen(s));
}

/* Start object id (generation gen) and remember its offset for the xref. */
static int
obj_begin(struct pctx *c, int id, int gen)
{
	size_t i;

	if (c->nent == XENT_MAX)
		return fail(c, 500, "pdf_internal", SB_ELIMIT,
		    "too many objects in one update");
	if (id <= 0 || gen < 0 || gen > 65535)
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged (object %d %d is out of range)",
		    id, gen);
	for (i = 0; i < c->nent; i++)
		if (c->ents[i].id == id)
			return fail(c, 422, "pdf_damaged", SB_EINVAL,
			    "the document is damaged (object %d is shared by "
			    "two pages' annotations or by them and the form)", id);
	c->ents[c->nent].id = id;
	c->ents[c->nent].gen = gen;
	c->ents[c->nent].off = c->out.len;
	c->nent++;
	return put(c, "%d %d obj\n", id, gen);
}

/* A PDF text string: ASCII as a literal, anything else UTF-16BE in hex. */
static int
put_text(struct pctx *c, const char *s)
{
	const unsigned char *p;
	unsigned long cp, hi;
	int rc = 0, ascii = 1;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p >= 0x80)
			ascii = 0;
	if (ascii) {
		rc = put_raw(c, "(", 1);
		for (p = (const unsigned char *)s; rc == 0 && *p != '\0'; p++)
			rc = strchr("()\\", *p) ? put(c, "\\%c", *p) :
			    put_raw(c, p, 1);
		return rc ? rc : put_raw(c, ")", 1);
	}
	rc = put_raw(c, "<FEFF", 5);
	for (p = (const unsigned char *)s; rc == 0 && *p != '\0';) {
		if (!utf8_next(&p, &cp))
			return fail(c, 400, "pdf_bad_option", SB_EINVAL,
			    "a text option is not UTF-8");
		if (cp < 0x10000)
			rc = put(c, "%04lX", cp);
		else {
			hi = cp - 0x10000;
			rc = put(c, "%04lX%04lX", 0xd800 + (hi >> 10),
			    0xdc00 + (hi & 0x3ff));
		}
	}
	return rc ? rc : put_raw(c, ">", 1);
}

/* Compress n bytes and write them as a stream body with its /Length. */
static int
put_stream(struct pctx *c, const char *dict, const uint8_t *p, size_t n)
{
	uLongf zlen = compressBound((uLong)n);
	uint8_t *z;
	int rc;

	if ((z = malloc(zlen)) == NULL)
		return fail_mem(c, SB_ENOMEM);
	if (compress2(z, &zlen, p, (uLong)n, 6) != Z_OK) {
		free(z);
		return fail(c, 500, "pdf_internal", SB_ENOMEM,
		    "compressing the seal image failed");
	}
	if ((rc = put(c, "<<%s/Filter/FlateDecode/Length %lu>>\nstream\n",
	    dict, (unsigned long)zlen)) == 0 &&
	    (rc = put_raw(c, z, zlen)) == 0)
		rc = put(c, "\nendstream\nendobj\n");
	free(z);
	return rc;
}

/* The image as two objects: RGB and, as its /SMask, the alpha channel. */
/* The spot's slice of the image as two objects: RGB, and its alpha as /SMask. */
static int
put_image(struct pctx *c, const struct spot *s)
{
	size_t x, y, i, n = (size_t)s->cols * c->ih;
	const uint8_t *src;
	uint8_t *rgb, *alpha;
	char dict[160];
	int rc;

	if ((rgb = malloc(n * 3)) == NULL || (alpha = malloc(n)) == NULL) {
		free(rgb);
		return fail_mem(c, SB_ENOMEM);
	}
	for (y = 0, i = 0; y < c->ih; y++)
		for (x = 0; x < s->cols; x++, i++) {
			src = c->rgba + (y * c->iw + s->col0 + x) * 4;
			memcpy(rgb + i * 3, src, 3);
			alpha[i] = src[3];
		}
	snprintf(dict, sizeof(dict), "/Type/XObject/Subtype/Image/Width %u"
	    "/Height %u/ColorSpace/DeviceRGB/BitsPerComponent 8/SMask %d 0 R",
	    s->cols, c->ih, s->id_mask);
	if ((rc = obj_begin(c, s->id_img, 0)) == 0 &&
	    (rc = put_stream(c, dict, rgb, n * 3)) == 0) {
		snprintf(dict, sizeof(dict), "/Type/XObject/Subtype/Image"
		    "/Width %u/Height %u/ColorSpace/DeviceGray"
		    "/BitsPerComponent 8", s->cols, c->ih);
		if ((rc = obj_begin(c, s->id_mask, 0)) == 0)
			rc = put_stream(c, dict, alpha, n);
	}
	free(rgb);
	free(alpha);
	return rc;
}

/* The appearance: a form the size of the rectangle drawing the image. */
/* The appearance: a form the size of the rectangle drawing the image. */
static int
put_appearance(struct pctx *c, const struct spot *s)
{
	double w = s->rect[2] - s->rect[0], h = s->rect[3] - s->rect[1];
	char content[128];
	int n, rc;

	n = snprintf(content, sizeof(content),
	    "q %.4f 0 0 %.4f 0 0 cm /Im0 Do Q\n", w, h);
	if (n < 0 || (size_t)n >= sizeof(content))
		return fail(c, 400, "pdf_bad_placement", SB_EINVAL,
		    "the seal's size is out of range");
	if ((rc = obj_begin(c, s->id_ap, 0)) != 0)
		return rc;
	if ((rc = put(c, "<</Type/XObject/Subtype/Form/BBox[0 0 %.4f %.4f]"
	    "/Resources<</XObject<</Im0 %d 0 R>>>>/Length %d>>\nstream\n",
	    w, h, s->id_img, n)) != 0)
		return rc;
	return put(c, "%s\nendstream\nendobj\n", content);
}

/*
 * The widget annotation. With one spot it is the signature field too (/FT,
 * /T, /V); with several it is a kid of the field (put_field).
 */
static int
put_widget(struct pctx *c, const struct spot *s)
{
	int rc;

	if ((rc = obj_begin(c, s->id_widget, 0)) != 0 ||
	    (rc = put(c, "<</Type/Annot/Subtype/Widget")) != 0)
		return rc;
	if (c->nspots == 1 && ((rc = put(c, "/FT/Sig/T")) != 0 ||
	    (rc = put_text(c, c->field)) != 0 ||
	    (rc = put(c, "/V %d 0 R", c->id_sig)) != 0))
		return rc;
	if (c->nspots > 1 && (rc = put(c, "/Parent %d 0 R/FT/Sig/V %d 0 R",
	    c->id_field, c->id_sig)) != 0)
		return rc;
	return put(c, "/P %d %d R/Rect[%.4f %.4f %.4f %.4f]/F 132"
	    "/AP<</N %d 0 R>>>>\nendobj\n",
	    qpdf_oh_get_object_id(c->q, s->page),
	    qpdf_oh_get_generation(c->q, s->page),
	    s->rect[0], s->rect[1], s->rect[2], s->rect[3], s->id_ap);
}

/* A cross-page seal's field: one signature, one widget per page as /Kids. */
static int
put_field(struct pctx *c)
{
	unsigned i;
	int rc;

	if ((rc = obj_begin(c, c->id_field, 0)) != 0 ||
	    (rc = put(c, "<</FT/Sig/T")) != 0 || (rc = put_text(c, c->field)) != 0 ||
	    (rc = put(c, "/V %d 0 R/Kids[", c->id_sig)) != 0)
		return rc;
	for (i = 0; i < c->nspots; i++)
		if ((rc = put(c, "%s%d 0 R", i ? " " : "", c->spots[i].id_widget)) != 0)
			return rc;
	return put(c, "]>>\nendobj\n");
}

/* The keys of dictionary d, copied (the iterator is qpdf's, its strings
 * shared, and it cannot nest); free them with keys_free. */
static int
dict_keys(struct pctx *c, qpdf_oh d, char ***out, size_t *n)
{
	char **keys = NULL, **nk;

	*n = 0;
	qpdf_oh_begin_dict_key_iter(c->q, d);
	while (qpdf_oh_dict_more_keys(c->q)) {
		if ((nk = realloc(keys, (*n + 1) * sizeof(*keys))) == NULL ||
		    (nk[*n] = strdup(qpdf_oh_dict_next_key(c->q))) == NULL) {
			*out = nk ? nk : keys;
			return fail_mem(c, SB_ENOMEM);
		}
		keys = nk;
		(*n)++;
	}
	*out = keys;
	return 0;
}

static void
keys_free(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/* Every entry of dictionary d but skip1 and skip2, as "/Key value ". */
static int
put_entries(struct pctx *c, qpdf_oh d, const char *skip1, const char *skip2)
{
	char **keys = NULL;
	size_t n = 0, i;
	qpdf_oh h;
	int rc = dict_keys(c, d, &keys, &n);

	for (i = 0; rc == 0 && i < n; i++) {
		if ((skip1 && strcmp(keys[i], skip1) == 0) ||
		    (skip2 && strcmp(keys[i], skip2) == 0))
			continue;
		h = qpdf_oh_new_name(c->q, keys[i]);
		if ((rc = put_unparsed(c, h)) == 0 && (rc = put_raw(c, " ", 1)) == 0 &&
		    (rc = put_unparsed(c, qpdf_oh_get_key(c->q, d, keys[i]))) == 0)
			rc = put_raw(c, " ", 1);
	}
	keys_free(keys, n);
	return rc;
}

/* The items of array a, each followed by a space. */
static int
put_items(struct pctx *c, qpdf_oh a)
{
	int i, n = qpdf_oh_get_array_n_items(c->q, a), rc = 0;

	for (i = 0; rc == 0 && i < n; i++)
		if ((rc = put_unparsed(c, qpdf_oh_get_array_item(c->q, a, i))) == 0)
			rc = put_raw(c, " ", 1);
	return rc;
}

/* A new version of the indirect array a with object id appended. */
static int
put_array_plus(struct pctx *c, qpdf_oh a, int id)
{
	int rc;

	if ((rc = obj_begin(c, qpdf_oh_get_object_id(c->q, a),
	    qpdf_oh_get_generation(c->q, a))) != 0 ||
	    (rc = put_raw(c, "[", 1)) != 0 || (rc = put_items(c, a)) != 0)
		return rc;
	return put(c, "%d 0 R]\nendobj\n", id);
}

/* Spot i's page and spot j's are the same object. */
static int
same_page(struct pctx *c, unsigned i, unsigned j)
{
	return qpdf_oh_get_object_id(c->q, c->spots[i].page) ==
	    qpdf_oh_get_object_id(c->q, c->spots[j].page) &&
	    qpdf_oh_get_generation(c->q, c->spots[i].page) ==
	    qpdf_oh_get_generation(c->q, c->spots[j].page);
}

/*
 * Spot i's widget into its page's /Annots: a new version of the page, with
 * the widgets of every later spot on the same page; nothing when an
 * earlier spot wrote the page already.
 */
static int
put_annots(struct pctx *c, unsigned i)
{
	const struct spot *s = &c->spots[i];
	qpdf_oh a = dget(c, s->page, "/Annots");
	unsigned j;
	int rc;

	for (j = 0; j < i; j++)
		if (same_page(c, i, j))
			return 0;

	/*
	 * Always a new page with its own direct /Annots (the old items and the
	 * widget): an indirect /Annots array may be shared with other pages,
	 * which would then show the widget too.
	 */
	if ((rc = obj_begin(c, qpdf_oh_get_object_id(c->q, s->page),
	    qpdf_oh_get_generation(c->q, s->page))) != 0 ||
	    (rc = put_raw(c, "<<", 2)) != 0 ||
	    (rc = put_entries(c, s->page, "/Annots", NULL)) != 0 ||
	    (rc = put_raw(c, "/Annots[", 8)) != 0)
		return rc;
	if (qpdf_oh_is_array(c->q, a) && (rc = put_items(c, a)) != 0)
		return rc;
	for (j = i + 1; j < c->nspots; j++)
		if (same_page(c, i, j) && (rc = put(c, "%d 0 R ", c->spots[j].id_widget)) != 0)
			return rc;
	return put(c, "%d 0 R]>>\nendobj\n", s->id_widget);
}

/* The inside of an /AcroForm dictionary: its entries, /Fields, /SigFlags 3. */
static int
put_acroform_body(struct pctx *c, qpdf_oh af, qpdf_oh fields, int fields_new)
{
	int rc;

	if (qpdf_oh_is_dictionary(c->q, af) &&
	    (rc = put_entries(c, af, "/Fields", "/SigFlags")) != 0)
		return rc;
	if (fields_new) {
		if ((rc = put_raw(c, "/Fields ", 8)) != 0 ||
		    (rc = put_unparsed(c, fields)) != 0)
			return rc;
		return put(c, "/SigFlags 3");
	}
	if ((rc = put_raw(c, "/Fields[", 8)) != 0)
		return rc;
	if (qpdf_oh_is_array(c->q, fields) && (rc = put_items(c, fields)) != 0)
		return rc;
	return put(c, "%d 0 R]/SigFlags 3", c->id_field);
}

/* The field into /AcroForm /Fields: the array, the form or the catalog anew. */
static int
put_acroform(struct pctx *c)
{
	qpdf_oh root = qpdf_get_root(c->q), af, fields;
	int rc, fields_new;

	af = dget(c, root, "/AcroForm");
	fields = dget(c, af, "/Fields");
	fields_new = qpdf_oh_is_dictionary(c->q, af) &&
	    qpdf_oh_is_indirect(c->q, fields) && qpdf_oh_is_array(c->q, fields);
	if (fields_new && (rc = put_array_plus(c, fields, c->id_field)) != 0)
		return rc;
	if (qpdf_oh_is_indirect(c->q, af) && qpdf_oh_is_dictionary(c->q, af)) {
		if ((rc = obj_begin(c, qpdf_oh_get_object_id(c->q, af),
		    qpdf_oh_get_generation(c->q, af))) != 0 ||
		    (rc = put_raw(c, "<<", 2)) != 0 ||
		    (rc = put_acroform_body(c, af, fields, fields_new)) != 0)
			return rc;
		return put(c, ">>\nendobj\n");
	}
	if (!qpdf_oh_is_indirect(c->q, root))
		return fail(c, 422, "pdf_damaged", SB_EINVAL,
		    "the document is damaged (its catalog is not an object)");
	if ((rc = obj_begin(c, qpdf_oh_get_object_id(c->q, root),
	    qpdf_oh_get_generation(c->q, root))) != 0 ||
	    (rc = put_raw(c, "<<", 2)) != 0 ||
	    (rc = put_entries(c, root, "/AcroForm", NULL)) != 0 ||
	    (rc = put_raw(c, "/AcroForm<<", 11)) != 0 ||
	    (rc = put_acroform_body(c, af, fields, fields_new)) != 0)
		return rc;
	return put(c, ">>>>\nendobj\n");
}

/* The n of a top-level field named "Seal<n>", else 0. */
static unsigned long
seal_number(const char *t)
{
	char *end;
	unsigned long n;

	if (strncmp(t, "Seal", 4) != 0 || t[4] < '1' || t[4] > '9')
		return 0;
	n = strtoul(t + 4, &end, 10);
	return *end == '\0' && n < 1000000000 ? n : 0;
}

/* The field's /T: the caller's (not yet used) or the next free "Seal<n>". */
static int
choose_field(struct pctx *c)
{
	qpdf_oh af, fields, f, t;
	unsigned long max = 0, n;
	int i, count, same;

	af = dget(c, qpdf_get_root(c->q), "/AcroForm");
	fields = dget(c, af, "/Fields");
	count = qpdf_oh_is_array(c->q, fields) ?
	    qpdf_oh_get_array_n_items(c->q, fields) : 0;
	for (i = 0; i < count; i++) {
		f = qpdf_oh_get_array_item(c->q, fields, i);
		t = dget(c, f, "/T");
		if (!qpdf_oh_is_string(c->q, t))
			continue;
		/* qpdf's string is shared: use it before the next call. */
		const char *s = qpdf_oh_get_utf8_value(c->q, t);
		same = c->o->field_name && strcmp(s, c->o->field_name) == 0;
		if ((n = seal_number(s)) > max)
			max = n;
		if (same)
			return fail(c, 400, "pdf_field_exists", SB_EINVAL,
			    "the document already has a field named \"%s\"",
			    c->o->field_name);
	}
	if (c->o->field_name != NULL)
		snprintf(c->field, sizeof(c->field), "%s", c->o->field_name);
	else
		snprintf(c->field, sizeof(c->field), "Seal%lu", max + 1);
	return 0;
}

static int
put_zeros(struct pctx *c, size_t n)
{
	char z[1024];
	size_t k;
	int rc = 0;

	memset(z, '0', sizeof(z));
	for (; rc == 0 && n > 0; n -= k) {
		k = n < sizeof(z) ? n : sizeof(z);
		rc = put_raw(c, z, k);
	}
	return rc;
}

/* The signature dictionary, /ByteRange a blank of BR_WIDTH, /Contents '0's. */
static int
put_sig(struct pctx *c)
{
	const struct pdf_opts *o = c->o;
	struct tm tm;
	int rc;

	if (gmtime_r(&o->when, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return fail(c, 400, "pdf_bad_option", SB_EINVAL,
		    "the signing time is outside the years 0 to 9999");
	if ((rc = obj_begin(c, c->id_sig, 0)) != 0 ||
	    (rc = put(c, "<</Type/Sig/Filter/Adobe.PPKLite"
	    "/SubFilter/ETSI.CAdES.detached/M(D:%04d%02d%02d%02d%02d%02d"
	    "+00'00')", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec)) != 0)
		return rc;
	if (o->reason && ((rc = put(c, "/Reason")) || (rc = put_text(c, o->reason))))
		return rc;
	if (o->location && ((rc = put(c, "/Location")) ||
	    (rc = put_text(c, o->location))))
		return rc;
	if (o->name && ((rc = put(c, "/Name")) || (rc = put_text(c, o->name))))
		return rc;
	if ((rc = put(c, "\n/ByteRange")) != 0)
		return rc;
	c->br_off = c->out.len;
	if ((rc = put(c, "%-*s\n/Contents<", BR_WIDTH, "[0 0 0 0]")) != 0)
		return rc;
	c->contents_off = c->out.len;
	if ((rc = put_zeros(c, 2 * c->contents_max)) != 0)
		return rc;
	return put(c, ">>>\nendobj\n");
}

/* /Size is the caller's; then /Root, /Info and /ID carried, /Prev. */
static int
put_trailer_keys(struct pctx *c)
{
	qpdf_oh t = qpdf_get_trailer(c->q), v;
	int rc;

	if ((rc = put(c, "/Root ")) != 0 ||
	    (rc = put_unparsed(c, dget(c, t, "/Root"))) != 0)
		return rc;
	v = dget(c, t, "/Info");
	if (qpdf_oh_is_indirect(c->q, v) && ((rc = put(c, "/Info ")) != 0 ||
	    (rc = put_unparsed(c, v)) != 0))
		return rc;
	v = dget(c, t, "/ID");
	if (qpdf_oh_is_array(c->q, v) && ((rc = put(c, "/ID ")) != 0 ||
	    (rc = put_unparsed(c, v)) != 0))
		return rc;
	return put(c, "/Prev %zu", c->startxref);
}

static void
sort_ents(struct pctx *c)
{
	struct xent t;
	size_t i, j;

	for (i = 1; i < c->nent; i++)
		for (j = i; j > 0 && c->ents[j - 1].id > c->ents[j].id; j--) {
			t = c->ents[j];
			c->ents[j] = c->ents[j - 1];
			c->ents[j - 1] = t;
		}
}

/* End of the run of consecutive object numbers starting at entry i. */
static size_t
run_end(const struct pctx *c, size_t i)
{
	size_t j;

	for (j = i + 1; j < c->nent && c->ents[j].id == c->ents[j - 1].id + 1; j++)
		;
	return j;
}

static int
put_xref_table(struct pctx *c)
{
	size_t xoff = c->out.len, i, j, k;
	int rc;

	sort_ents(c);
	if ((rc = put(c, "xref\n")) != 0)
		return rc;
	for (i = 0; i < c->nent; i = j) {
		j = run_end(c, i);
		if ((rc = put(c, "%d %zu\n", c->ents[i].id, j - i)) != 0)
			return rc;
		for (k = i; k < j; k++)
			if ((rc = put(c, "%010zu %05d n\r\n", c->ents[k].off,
			    c->ents[k].gen)) != 0)
				return rc;
	}
	if ((rc = put(c, "trailer\n<</Size %d", c->next)) != 0 ||
	    (rc = put_trailer_keys(c)) != 0)
		return rc;
	return put(c, ">>\nstartxref\n%zu\n%%%%EOF\n", xoff);
}

/* An uncompressed xref stream, /W [1 4 2], listing itself too. */
static int
put_xref_stream(struct pctx *c)
{
	uint8_t rows[XENT_MAX * 7], *r;
	size_t xoff, i, j;
	int rc, xid = c->next++;

	xoff = c->out.len;
	if ((rc = obj_begin(c, xid, 0)) != 0)
		return rc;
	sort_ents(c);
	for (i = 0, r = rows; i < c->nent; i++, r += 7) {
		r[0] = 1;
		r[1] = (uint8_t)(c->ents[i].off >> 24);
		r[2] = (uint8_t)(c->ents[i].off >> 16);
		r[3] = (uint8_t)(c->ents[i].off >> 8);
		r[4] = (uint8_t)c->ents[i].off;
		r[5] = (uint8_t)(c->ents[i].gen >> 8);
		r[6] = (uint8_t)c->ents[i].gen;
	}
	if ((rc = put(c, "<</Type/XRef/Size %d/W[1 4 2]/Index[", c->next)) != 0)
		return rc;
	for (i = 0; i < c->nent; i = j) {
		j = run_end(c, i);
		if ((rc = put(c, "%s%d %zu", i ? " " : "", c->ents[i].id, j - i)) != 0)
			return rc;
	}
	if ((rc = put(c, "]")) != 0 || (rc = put_trailer_keys(c)) != 0 ||
	    (rc = put(c, "/Length %zu>>\nstream\n", c->nent * 7)) != 0 ||
	    (rc = put_raw(c, rows, c->nent * 7)) != 0)
		return rc;
	return put(c, "\nendstream\nendobj\nstartxref\n%zu\n%%%%EOF\n", xoff);
}

/* Object numbers: four per spot (places: one image, form and mask for all,
 * a widget each), the field when separate, the signature. */
static void
number_objects(struct pctx *c)
{
	struct spot *s;
	unsigned i;

	for (i = 0; i < c->nspots; i++) {
		s = &c->spots[i];
		if (i > 0 && c->o->nat > 0) {	/* places share the image and its form */
			s->id_img = c->spots[0].id_img;
			s->id_mask = c->spots[0].id_mask;
			s->id_ap = c->spots[0].id_ap;
		} else {
			s->id_img = c->next++;
			s->id_mask = c->next++;
			s->id_ap = c->next++;
		}
		s->id_widget = c->next++;
	}
	c->id_field = c->nspots == 1 ? c->spots[0].id_widget : c->next++;
	c->id_sig = c->next++;
}

/*
 * The numbers we give out must be free: qpdf warns when /Size is not one
 * more than the highest object number, but check it here all the same.
 */
static int
check_free_ids(struct pctx *c)
{
	int id;

	for (id = c->size; id < c->next; id++)
		if (qpdf_oh_get_type_code(c->q,
		    qpdf_get_object_by_id(c->q, id, 0)) != ot_null)
			return fail(c, 422, "pdf_damaged", SB_EINVAL,
			    "the document is damaged (object %d exists beyond "
			    "its /Size %d)", id, c->size);
	return qcheck(c, "reading an object");
}

/* Spot i: its image and form (unless shared with spot 0), its widget, and
 * its page (once, with every widget on it). */
static int
put_spot(struct pctx *c, unsigned i)
{
	const struct spot *s = &c->spots[i];
	int rc;

	if ((i == 0 || c->o->nat == 0) &&
	    ((rc = put_image(c, s)) != 0 || (rc = put_appearance(c, s)) != 0))
		return rc;
	if ((rc = put_widget(c, s)) != 0)
		return rc;
	return put_annots(c, i);
}

static int
build(struct pctx *c)
{
	uint8_t last = c->in[c->len - 1];
	size_t extra;
	unsigned i;
	int rc;

	number_objects(c);
	if ((rc = check_free_ids(c)) != 0)
		return rc;
	/* Room for the copy, the image (at worst stored), text and the xref. */
	extra = (size_t)c->iw * c->ih * 5 + 2 * c->contents_max + 1024 * 1024 +
	    (size_t)c->nspots * 4096;
	buf_init(&c->out, 3 * c->len + extra);
	if ((rc = put_raw(c, c->in, c->len)) != 0 ||
	    (last != '\n' && last != '\r' && (rc = put_raw(c, "\n", 1)) != 0))
		return rc;
	for (i = 0; i < c->nspots; i++)
		if ((rc = put_spot(c, i)) != 0)
			return rc;
	if ((c->nspots > 1 && (rc = put_field(c)) != 0) ||
	    (rc = put_acroform(c)) != 0 || (rc = put_sig(c)) != 0)
		return rc;
	rc = c->xref_stream ? put_xref_stream(c) : put_xref_table(c);
	if (rc != 0)
		return rc;
	if (c->out.len > UINT32_MAX)
		return fail(c, 400, "pdf_bad_option", SB_ELIMIT,
		    "the sealed document would be 4 GiB or larger");
	/* Unparsing may have met damage only now (e.g. a nested object). */
	return qwarnings(c);
}

/*
 * Read what we made back with qpdf, recovery off: the xref chain and every
 * object we wrote must resolve with no error and no warning. A failure is
 * our bug (or a reader disagreement we did not foresee): never hand out a
 * file that does not read back.
 */
/* Object id's text in session q: a stream's dictionary (its data is the
 * original bytes), else the object; nested references as "N G R". */
static const char *
obj_text(qpdf_data q, int id)
{
	qpdf_oh oh = qpdf_get_object_by_id(q, id, 0), d = 0;
	const char *t;

	if (qpdf_oh_is_stream(q, oh))
		t = qpdf_oh_unparse_resolved(q, d = qpdf_oh_get_dict(q, oh));
	else
		t = qpdf_oh_unparse_resolved(q, oh);
	if (d != 0)
		qpdf_oh_release(q, d);
	qpdf_oh_release(q, oh);
	return t;
}

/* 1 when we wrote a new version of object id. */
static int
rewritten(const struct pctx *c, int id)
{
	for (size_t i = 0; i < c->nent; i++)
		if (c->ents[i].id == id)
			return 1;
	return 0;
}

/*
 * Every original object we did not rewrite reads the same after the update
 * as before. qpdf shows a reference to an object that does not exist as
 * nothing at all (the key is left out), so a document can hold references
 * to the numbers our new objects take, and see them come alive: this is
 * where that shows, whatever the reference's place.
 */
static int
same_objects(struct pctx *c, qpdf_data q)
{
	const char *a, *b;
	int id;

	for (id = 1; id < c->size; id++) {
		if (rewritten(c, id))
			continue;
		a = obj_text(c->q, id);
		b = obj_text(q, id);
		if (a == NULL || b == NULL || strcmp(a, b) != 0)
			return fail(c, 422, "pdf_damaged", SB_EINVAL, "the document is damaged "
			    "(object %d refers to objects it does not have)", id);
	}
	return 0;
}

static int
self_check(struct pctx *c)
{
	qpdf_data q = qpdf_init();
	size_t i;
	int ok, rc;

	if (q == NULL)
		return fail_mem(c, SB_ENOMEM);
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	qpdf_set_attempt_recovery(q, QPDF_FALSE);
	qpdf_read_memory(q, "sealed", (const char *)c->out.data, c->out.len, NULL);
	ok = !qpdf_has_error(q) && qpdf_get_num_pages(q) == (int)c->npages;
	for (i = 0; ok && i < c->nent; i++)
		ok = qpdf_oh_get_type_code(q, qpdf_get_object_by_id(q,
		    c->ents[i].id, c->ents[i].gen)) > ot_null;
	ok = ok && !qpdf_has_error(q) && !qpdf_more_warnings(q);
	rc = ok ? same_objects(c, q) : 0;
	ok = ok && rc == 0 && !qpdf_has_error(q) && !qpdf_has_error(c->q);
	qpdf_cleanup(&q);
	if (rc != 0)
		return rc;
	if (!ok)
		return fail(c, 500, "pdf_internal", SB_EINVAL,
		    "the sealed document did not read back cleanly");
	return 0;
}

static int
fill_range(struct pctx *c, struct pdf_prepared *p)
{
	char br[BR_WIDTH + 1];
	int n;

	p->range[0] = 0;
	p->range[1] = c->contents_off - 1;
	p->range[2] = c->contents_off + 2 * c->contents_max + 1;
	p->range[3] = c->out.len - p->range[2];
	n = snprintf(br, sizeof(br), "[0 %zu %zu %zu]", p->range[1], p->range[2],
	    p->range[3]);
	if (n < 0 || n > BR_WIDTH)
		return fail(c, 500, "pdf_internal", SB_ELIMIT,
		    "the byte range does not fit its placeholder");
	memcpy(c->out.data + c->br_off, br, (size_t)n);
	p->data = c->out.data;
	p->len = c->out.len;
	p->orig_len = c->len;
	p->contents_off = c->contents_off;
	p->contents_hex = 2 * c->contents_max;
	p->page_count = c->npages;
	c->out.data = NULL;
	return 0;
}

int
pdf_prepare(const uint8_t *in, size_t len, const struct pdf_opts *o,
    struct pdf_prepared *out, struct pdf_err *e)
{
	struct pctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.in = in;
	c.len = len;
	c.o = o;
	c.e = e;
	if (e != NULL)
		memset(e, 0, sizeof(*e));
	if (out == NULL)
		return fail(&c, 500, "pdf_internal", SB_EINVAL, "no output");
	memset(out, 0, sizeof(*out));
	if (o == NULL)
		return fail(&c, 400, "pdf_bad_option", SB_EINVAL, "no options");
	if (in == NULL || len == 0)
		return fail(&c, 422, "pdf_not_pdf", SB_EINVAL,
		    "the document is empty");
	if ((rc = check_opts(&c)) == 0 && (rc = find_tail(&c)) == 0 &&
	    (rc = q_open(&c)) == 0 && (rc = q_size(&c)) == 0 &&
	    (rc = q_resolve_all(&c)) == 0 && (rc = q_docmdp(&c)) == 0 &&
	    (rc = q_page(&c)) == 0 &&
	    (rc = decode_image(&c)) == 0 && (rc = place(&c)) == 0 &&
	    (rc = choose_field(&c)) == 0 && (rc = build(&c)) == 0 &&
	    (rc = self_check(&c)) == 0)
		rc = fill_range(&c, out);
	if (c.q != NULL)
		qpdf_cleanup(&c.q);
	free(c.rgba);
	buf_free(&c.out);
	return rc;
}

int
pdf_range_digest(const struct pdf_prepared *p, const EVP_MD *md, uint8_t *out,
    unsigned *out_len)
{
	EVP_MD_CTX *ctx;
	int ok;

	if (p == NULL || p->data == NULL || md == NULL || out == NULL ||
	    out_len == NULL || p->range[1] > p->len ||
	    p->range[2] > p->len || p->range[3] > p->len - p->range[2])
		return SB_EINVAL;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return SB_ENOMEM;
	ok = EVP_DigestInit_ex(ctx, md, NULL) &&
	    EVP_DigestUpdate(ctx, p->data, p->range[1]) &&
	    EVP_DigestUpdate(ctx, p->data + p->range[2], p->range[3]) &&
	    EVP_DigestFinal_ex(ctx, out, out_len);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : SB_ECRYPTO;
}

int
pdf_splice(struct pdf_prepared *p, const uint8_t *cms, size_t cms_len)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t *d;
	size_t i;

	if (p == NULL || p->data == NULL || cms == NULL || cms_len == 0 ||
	    p->contents_off + p->contents_hex > p->len)
		return SB_EINVAL;
	if (cms_len > p->contents_hex / 2)
		return SB_ELIMIT;
	d = p->data + p->contents_off;
	memset(d, '0', p->contents_hex);
	for (i = 0; i < cms_len; i++) {
		d[2 * i] = (uint8_t)hex[cms[i] >> 4];
		d[2 * i + 1] = (uint8_t)hex[cms[i] & 15];
	}
	return 0;
}

void
pdf_prepared_free(struct pdf_prepared *p)
{
	if (p == NULL)
		return;
	free(p->data);
	memset(p, 0, sizeof(*p));
}
