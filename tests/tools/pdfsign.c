/*
 * pdfsign — test tool: seal a PDF with daemon/formats/pdf.c and a SOFTWARE
 * key, so that pdf.c can be checked by pdfsig and qpdf without the daemon.
 *
 *   pdfsign sign IN OUT KEY CERT [-c CHAIN] [-i PNG] [-p PAGE] [-x X] [-y Y]
 *                [-w W] [-h H] [-r REASON] [-l LOCATION] [-n NAME] [-f FIELD]
 *                [-m CONTENTS_MAX] [-X]
 *     -X: a cross-page seal, one slice per page at the right edge (-y, -w, -h)
 *   pdfsign mkpng OUT W H   a W x H PNG: left quarter transparent, rest red
 *   pdfsign mktext OUT PAGES [PAGE:X:Y:SIZE:TEXT]...
 *     PAGES A4 pages, each with "Page N" at (72, 780) size 12; each further
 *     argument draws the UTF-8 TEXT (all after the fourth colon) on page PAGE
 *     with its baseline starting at (X, Y), font size SIZE. One Type0
 *     Identity-H font (non-embedded SimSun, every glyph 1 em) with a
 *     ToUnicode CMap, so that pdftotext gives the text back
 *   pdfsign mkimage OUT PAGES
 *     PAGES A4 pages with only a grey rectangle each: no font, no text
 *
 * The CMS is OpenSSL's CMS_sign (CMS_DETACHED|CMS_BINARY|CMS_NOSMIMECAP)
 * over the ByteRange bytes: enough to test the PDF side; the appliance's
 * PAdES CMS comes from the monitor. Exit status 0 on success; on a refusal
 * pdf_prepare's status, code and message are printed on stderr, exit 1.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <png.h>

#include "daemon/formats/pdf.h"
#include "lib/buf.h"
#include "lib/err.h"

#define FILE_MAX (256u * 1024 * 1024)

static int
slurp(const char *path, uint8_t **p, size_t *n)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, got;
	uint8_t *d = NULL, *nd;

	*n = 0;
	if (f == NULL)
		return -1;
	for (;;) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > FILE_MAX || (nd = realloc(d, cap)) == NULL)
				goto bad;
			d = nd;
		}
		got = fread(d + *n, 1, cap - *n, f);
		*n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto bad;
	fclose(f);
	*p = d;
	return 0;
bad:
	free(d);
	fclose(f);
	return -1;
}

static int
spit(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
mkpng(const char *out, unsigned w, unsigned h)
{
	png_image img;
	uint8_t *px;
	unsigned x, y;
	int ok;

	if (w == 0 || h == 0 || w > 4096 || h > 4096 ||
	    (px = calloc((size_t)w * h, 4)) == NULL)
		return 1;
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			uint8_t *q = px + ((size_t)y * w + x) * 4;
			q[0] = 255;
			q[3] = x < w / 4 ? 0 : 255;
		}
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = w;
	img.height = h;
	img.format = PNG_FORMAT_RGBA;
	ok = png_image_write_to_file(&img, out, 0, px, 0, NULL);
	free(px);
	return ok ? 0 : 1;
}

/* The DER CMS over the two byte ranges. */
static int
cms_over(const struct pdf_prepared *p, EVP_PKEY *key, X509 *cert,
    STACK_OF(X509) *chain, uint8_t **der, int *der_len)
{
	BIO *in = BIO_new(BIO_s_mem());
	CMS_ContentInfo *cms = NULL;
	int ok = 0;

	*der = NULL;
	if (in != NULL && BIO_write(in, p->data, (int)p->range[1]) ==
	    (int)p->range[1] && BIO_write(in, p->data + p->range[2],
	    (int)p->range[3]) == (int)p->range[3] &&
	    (cms = CMS_sign(cert, key, chain, in,
	    CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP)) != NULL &&
	    (*der_len = i2d_CMS_ContentInfo(cms, der)) > 0)
		ok = 1;
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return ok ? 0 : -1;
}

static int
load_signer(const char *keyf, const char *certf, const char *chainf,
    EVP_PKEY **key, X509 **cert, STACK_OF(X509) **chain)
{
	FILE *f;
	X509 *x;

	*key = NULL;
	*cert = NULL;
	*chain = sk_X509_new_null();
	if ((f = fopen(keyf, "r")) != NULL) {
		*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if ((f = fopen(certf, "r")) != NULL) {
		*cert = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (chainf != NULL && (f = fopen(chainf, "r")) != NULL) {
		while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
			sk_X509_push(*chain, x);
		ERR_clear_error();
		fclose(f);
	}
	return *key && *cert && *chain ? 0 : -1;
}

static int
parse_opts(int argc, char **argv, struct pdf_opts *o, const char **png,
    const char **chain)
{
	int ch;

	while ((ch = getopt(argc, argv, "c:i:p:x:y:w:h:r:l:n:f:m:X")) != -1) {
		switch (ch) {
		case 'c': *chain = optarg; break;
		case 'i': *png = optarg; break;
		case 'p': o->page = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'x': o->x = strtod(optarg, NULL); break;
		case 'y': o->y = strtod(optarg, NULL); break;
		case 'w': o->w = strtod(optarg, NULL); break;
		case 'h': o->h = strtod(optarg, NULL); break;
		case 'r': o->reason = optarg; break;
		case 'l': o->location = optarg; break;
		case 'n': o->name = optarg; break;
		case 'f': o->field_name = optarg; break;
		case 'm': o->contents_max = strtoul(optarg, NULL, 10); break;
		case 'X': o->cross_page = 1; break;
		default: return -1;
		}
	}
	return 0;
}

static int
sign(int argc, char **argv)
{
	struct pdf_opts o = { .page = 1, .x = 36, .y = 36, .w = 100 };
	const char *png = NULL, *chainf = NULL;
	struct pdf_prepared p;
	struct pdf_err e;
	uint8_t *in = NULL, *img = NULL, *der = NULL;
	size_t in_len, img_len = 0;
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *chain;
	int der_len = 0, rc = 1;

	if (argc < 6 || parse_opts(argc - 5, argv + 5, &o, &png, &chainf) != 0)
		return 2;
	if (slurp(argv[2], &in, &in_len) != 0 ||
	    (png && slurp(png, &img, &img_len) != 0) ||
	    load_signer(argv[4], argv[5], chainf, &key, &cert, &chain) != 0) {
		fprintf(stderr, "pdfsign: cannot read an input file\n");
		return 1;
	}
	o.png = img;
	o.png_len = img_len;
	o.when = time(NULL);
	if (pdf_prepare(in, in_len, &o, &p, &e) != 0)
		fprintf(stderr, "pdfsign: %d %s: %s\n", e.status, e.code, e.message);
	else if (cms_over(&p, key, cert, chain, &der, &der_len) != 0)
		fprintf(stderr, "pdfsign: CMS_sign failed\n");
	else if (pdf_splice(&p, der, (size_t)der_len) != 0)
		fprintf(stderr, "pdfsign: the CMS (%d bytes) does not fit\n", der_len);
	else if (spit(argv[3], p.data, p.len) != 0)
		fprintf(stderr, "pdfsign: cannot write %s\n", argv[3]);
	else
		rc = 0;
	pdf_prepared_free(&p);
	OPENSSL_free(der);
	free(in);
	free(img);
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

/*
 * mktext / mkimage: small PDFs written by hand, so that the tests control
 * exactly where text is (or that there is none). All text uses one Type0
 * font, Identity-H, a non-embedded CIDFontType2 whose glyphs are all 1 em
 * wide (/DW 1000), so a reader can place every glyph without the font; the
 * ToUnicode CMap gives each CID back its code point.
 */
#define PAGES_MAX	1000
#define CID_MAX		4096		/* distinct code points per document */
#define DOC_MAX		(64u * 1024 * 1024)
#define STREAM_MAX	(4u * 1024 * 1024)
#define COORD_MAX	14400.0		/* the largest page side PDF allows */
#define BFCHAR_BLOCK	100		/* entries per beginbfchar, as CMaps require */

struct mk_item {
	unsigned page;
	double x, y, size;
	const char *text;		/* UTF-8, points into argv */
};

struct mk_cids {
	uint32_t cp[CID_MAX];		/* sorted; the CID of cp[i] is i + 1 */
	size_t n;
};

struct mk_doc {
	const struct mk_item *items;
	size_t nitems;
	struct mk_cids cids;
};

/* A PDF being written; the first error sticks and is checked at the end. */
struct pw {
	struct buf b;
	size_t *off;			/* byte offset of each object; [0] unused */
	unsigned nobj;			/* objects + 1 */
	int err;
};

/* The next code point of a NUL-terminated UTF-8 string: 1, 0 at its end,
 * -1 on a malformed, overlong or surrogate sequence. */
static int
utf8_next(const unsigned char **sp, uint32_t *cp)
{
	const unsigned char *s = *sp;
	uint32_t c, min;
	unsigned i, n;

	if (s[0] == '\0')
		return 0;
	if (s[0] < 0x80) {
		c = s[0];
		n = 0;
		min = 0;
	} else if ((s[0] & 0xe0) == 0xc0) {
		c = s[0] & 0x1f;
		n = 1;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		c = s[0] & 0x0f;
		n = 2;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		c = s[0] & 0x07;
		n = 3;
		min = 0x10000;
	} else
		return -1;
	/* A NUL is not a continuation byte, so this never reads past it. */
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	*sp = s + n + 1;
	return 1;
}

static int
cp_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Adds the code points of text to the (not yet sorted) set. */
static int
cids_add(struct mk_cids *m, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t c;
	size_t i;
	int r;

	while ((r = utf8_next(&s, &c)) == 1) {
		for (i = 0; i < m->n && m->cp[i] != c; i++)
			;
		if (i < m->n)
			continue;
		if (m->n == CID_MAX)
			return -1;
		m->cp[m->n++] = c;
	}
	return r;
}

static unsigned
cids_find(const struct mk_cids *m, uint32_t c)
{
	const uint32_t *p = bsearch(&c, m->cp, m->n, sizeof(*m->cp), cp_cmp);

	return p == NULL ? 0 : (unsigned)(p - m->cp) + 1;
}

static int
parse_num(const char *s, double lo, double hi, double *v)
{
	char *end;

	*v = strtod(s, &end);
	/* A NaN fails both comparisons, so it is refused too. */
	return end != s && *end == '\0' && *v >= lo && *v <= hi ? 0 : -1;
}

static int
parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *v)
{
	unsigned long l;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	l = strtoul(s, &end, 10);
	if (*end != '\0' || l < lo || l > hi)
		return -1;
	*v = (unsigned)l;
	return 0;
}

/* PAGE:X:Y:SIZE:TEXT; TEXT is all after the fourth colon. */
static int
parse_item(const char *arg, unsigned pages, struct mk_item *it)
{
	char f[4][32];
	const char *p = arg, *c;
	size_t i;

	for (i = 0; i < 4; i++) {
		if ((c = strchr(p, ':')) == NULL ||
		    (size_t)(c - p) >= sizeof(f[i]))
			return -1;
		memcpy(f[i], p, (size_t)(c - p));
		f[i][c - p] = '\0';
		p = c + 1;
	}
	it->text = p;
	if (parse_uint(f[0], 1, pages, &it->page) != 0 ||
	    parse_num(f[1], -COORD_MAX, COORD_MAX, &it->x) != 0 ||
	    parse_num(f[2], -COORD_MAX, COORD_MAX, &it->y) != 0 ||
	    parse_num(f[3], 0.1, 1000, &it->size) != 0 || *p == '\0')
		return -1;
	return 0;
}

/* One line of text as 2-byte CIDs, baseline starting at (x, y). */
static int
show_text(struct buf *c, const struct mk_cids *m, double x, double y,
    double size, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t cp;
	unsigned cid;
	int r;

	if (buf_printf(c, "BT\n/F1 %.3f Tf\n1 0 0 1 %.3f %.3f Tm\n<",
	    size, x, y) != 0)
		return -1;
	while ((r = utf8_next(&s, &cp)) == 1)
		if ((cid = cids_find(m, cp)) == 0 ||
		    buf_printf(c, "%04X", cid) != 0)
			return -1;
	if (r != 0 || buf_append_str(c, "> Tj\nET\n") != 0)
		return -1;
	return 0;
}

/* The content of page (1-based): a grey box without d, else its text. */
static int
page_content(struct buf *c, unsigned page, const struct mk_doc *d)
{
	char label[32];
	size_t i;

	if (d == NULL)
		return buf_append_str(c, "0.5 g\n50 50 495 742 re\nf\n") == 0 ?
		    0 : -1;
	snprintf(label, sizeof(label), "Page %u", page);
	if (show_text(c, &d->cids, 72, 780, 12, label) != 0)
		return -1;
	for (i = 0; i < d->nitems; i++)
		if (d->items[i].page == page &&
		    show_text(c, &d->cids, d->items[i].x, d->items[i].y,
		    d->items[i].size, d->items[i].text) != 0)
			return -1;
	return 0;
}

/* UTF-16BE of each CID's code point, surrogate pairs above U+FFFF. */
static int
tounicode(struct buf *c, const struct mk_cids *m)
{
	uint32_t v;
	size_t i, k;

	if (buf_append_str(c, "/CIDInit /ProcSet findresource begin\n"
	    "12 dict begin\nbegincmap\n"
	    "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) "
	    "/Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n"
	    "/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\n"
	    "endcodespacerange\n") != 0)
		return -1;
	for (i = 0; i < m->n; i += BFCHAR_BLOCK) {
		if (buf_printf(c, "%zu beginbfchar\n", m->n - i < BFCHAR_BLOCK ?
		    m->n - i : BFCHAR_BLOCK) != 0)
			return -1;
		for (k = i; k < m->n && k < i + BFCHAR_BLOCK; k++) {
			v = m->cp[k];
			if ((v < 0x10000 ? buf_printf(c, "<%04zX> <%04X>\n",
			    k + 1, (unsigned)v) : buf_printf(c,
			    "<%04zX> <%04X%04X>\n", k + 1,
			    (unsigned)(0xd800 + ((v - 0x10000) >> 10)),
			    (unsigned)(0xdc00 + ((v - 0x10000) & 0x3ff)))) != 0)
				return -1;
		}
		if (buf_append_str(c, "endbfchar\n") != 0)
			return -1;
	}
	return buf_append_str(c, "endcmap\nCMapName currentdict /CMap "
	    "defineresource pop\nend\nend\n") == 0 ? 0 : -1;
}

static void pw_printf(struct pw *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
pw_printf(struct pw *w, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (w->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    buf_append(&w->b, line, (size_t)n) != 0)
		w->err = 1;
}

static void
pw_obj(struct pw *w, unsigned num)
{
	if (num == 0 || num >= w->nobj || w->off[num] != 0) {
		w->err = 1;
		return;
	}
	w->off[num] = w->b.len;
	pw_printf(w, "%u 0 obj\n", num);
}

static void
pw_stream(struct pw *w, unsigned num, const struct buf *data)
{
	pw_obj(w, num);
	pw_printf(w, "<< /Length %zu >>\nstream\n", data->len);
	if (!w->err && data->len > 0 &&
	    buf_append(&w->b, data->data, data->len) != 0)
		w->err = 1;
	pw_printf(w, "\nendstream\nendobj\n");
}

/* Objects 3 to 6: the Type0 font, its CIDFont, descriptor and ToUnicode. */
static void
pw_font(struct pw *w, const struct mk_cids *m)
{
	struct buf c;

	pw_obj(w, 3);
	pw_printf(w, "<< /Type /Font /Subtype /Type0 /BaseFont /SimSun "
	    "/Encoding /Identity-H /DescendantFonts [4 0 R] "
	    "/ToUnicode 6 0 R >>\nendobj\n");
	pw_obj(w, 4);
	pw_printf(w, "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun "
	    "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) "
	    "/Supplement 0 >> /FontDescriptor 5 0 R /DW 1000 >>\nendobj\n");
	pw_obj(w, 5);
	pw_printf(w, "<< /Type /FontDescriptor /FontName /SimSun /Flags 6 "
	    "/FontBBox [0 -141 1000 859] /ItalicAngle 0 /Ascent 859 "
	    "/Descent -141 /CapHeight 859 /StemV 80 >>\nendobj\n");
	buf_init(&c, STREAM_MAX);
	if (tounicode(&c, m) != 0)
		w->err = 1;
	pw_stream(w, 6, &c);
	buf_free(&c);
}

static void
pw_trailer(struct pw *w)
{
	size_t xref = w->b.len;
	unsigned i;

	pw_printf(w, "xref\n0 %u\n0000000000 65535 f \n", w->nobj);
	for (i = 1; i < w->nobj; i++) {
		if (w->off[i] == 0)
			w->err = 1;
		pw_printf(w, "%010zu 00000 n \n", w->off[i]);
	}
	pw_printf(w, "trailer\n<< /Size %u /Root 1 0 R >>\nstartxref\n%zu\n"
	    "%%%%EOF\n", w->nobj, xref);
}

/* Writes pages A4 pages to out: with d its text, without a grey box each. */
static int
write_doc(const char *out, unsigned pages, const struct mk_doc *d)
{
	struct pw w;
	struct buf c;
	unsigned first = d != NULL ? 7 : 3, i, num;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	w.nobj = first + 2 * pages;
	if ((w.off = calloc(w.nobj, sizeof(*w.off))) == NULL)
		return -1;
	buf_init(&w.b, DOC_MAX);
	pw_printf(&w, "%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n");
	pw_obj(&w, 1);
	pw_printf(&w, "<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	pw_obj(&w, 2);
	pw_printf(&w, "<< /Type /Pages /Count %u /Kids [", pages);
	for (i = 0; i < pages; i++)
		pw_printf(&w, " %u 0 R", first + 2 * i);
	pw_printf(&w, " ] >>\nendobj\n");
	if (d != NULL)
		pw_font(&w, &d->cids);
	for (i = 0; i < pages; i++) {
		num = first + 2 * i;
		pw_obj(&w, num);
		pw_printf(&w, "<< /Type /Page /Parent 2 0 R "
		    "/MediaBox [0 0 595 842] /Resources << %s>> "
		    "/Contents %u 0 R >>\nendobj\n",
		    d != NULL ? "/Font << /F1 3 0 R >> " : "", num + 1);
		buf_init(&c, STREAM_MAX);
		if (page_content(&c, i + 1, d) != 0)
			w.err = 1;
		pw_stream(&w, num + 1, &c);
		buf_free(&c);
	}
	pw_trailer(&w);
	if (!w.err && spit(out, w.b.data, w.b.len) == 0)
		rc = 0;
	buf_free(&w.b);
	free(w.off);
	return rc;
}

static int
mktext(int argc, char **argv)
{
	struct mk_item *items;
	struct mk_doc *d;
	char label[32];
	unsigned pages, i;
	size_t n = (size_t)argc - 4, k;
	int rc = 2;

	if (parse_uint(argv[3], 1, PAGES_MAX, &pages) != 0) {
		fprintf(stderr, "pdfsign: PAGES must be 1 to %u\n", PAGES_MAX);
		return 2;
	}
	items = calloc(n ? n : 1, sizeof(*items));
	d = calloc(1, sizeof(*d));
	if (items == NULL || d == NULL) {
		fprintf(stderr, "pdfsign: out of memory\n");
		rc = 1;
		goto done;
	}
	for (i = 1; i <= pages; i++) {
		snprintf(label, sizeof(label), "Page %u", i);
		if (cids_add(&d->cids, label) != 0) {
			fprintf(stderr, "pdfsign: more than %u characters\n",
			    CID_MAX);
			goto done;
		}
	}
	for (k = 0; k < n; k++) {
		if (parse_item(argv[4 + k], pages, &items[k]) != 0) {
			fprintf(stderr, "pdfsign: bad PAGE:X:Y:SIZE:TEXT: %s\n",
			    argv[4 + k]);
			goto done;
		}
		if (cids_add(&d->cids, items[k].text) != 0) {
			fprintf(stderr, "pdfsign: bad UTF-8 or more than %u "
			    "characters: %s\n", CID_MAX, argv[4 + k]);
			goto done;
		}
	}
	qsort(d->cids.cp, d->cids.n, sizeof(*d->cids.cp), cp_cmp);
	d->items = items;
	d->nitems = n;
	if ((rc = write_doc(argv[2], pages, d) != 0 ? 1 : 0) != 0)
		fprintf(stderr, "pdfsign: cannot write %s\n", argv[2]);
done:
	free(items);
	free(d);
	return rc;
}

static int
mkimage(const char *out, const char *npages)
{
	unsigned pages;

	if (parse_uint(npages, 1, PAGES_MAX, &pages) != 0) {
		fprintf(stderr, "pdfsign: PAGES must be 1 to %u\n", PAGES_MAX);
		return 2;
	}
	if (write_doc(out, pages, NULL) != 0) {
		fprintf(stderr, "pdfsign: cannot write %s\n", out);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "mkpng") == 0)
		return mkpng(argv[2], (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]));
	if (argc >= 6 && strcmp(argv[1], "sign") == 0)
		return sign(argc, argv);
	if (argc >= 4 && strcmp(argv[1], "mktext") == 0)
		return mktext(argc, argv);
	if (argc == 4 && strcmp(argv[1], "mkimage") == 0)
		return mkimage(argv[2], argv[3]);
	fprintf(stderr, "usage: pdfsign sign IN OUT KEY CERT [-c CHAIN] [-i PNG] "
	    "[-p PAGE] [-x X] [-y Y] [-w W] [-h H] [-r REASON] [-l LOCATION] "
	    "[-n NAME] [-f FIELD] [-m CONTENTS_MAX] [-X]\n"
	    "       pdfsign mkpng OUT W H\n"
	    "       pdfsign mktext OUT PAGES [PAGE:X:Y:SIZE:TEXT ...]\n"
	    "       pdfsign mkimage OUT PAGES\n");
	return 2;
}
