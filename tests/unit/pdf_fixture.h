/*
 * pdf_fixture — test documents made in memory: a PDF of n pages written
 * byte by byte (offsets computed, so that qpdf reads it without repair) and
 * an RGBA PNG. For the unit tests of daemon/formats/pdf.c and of the net
 * worker's sign-pdf job.
 */
#ifndef SB_TEST_PDF_FIXTURE_H
#define SB_TEST_PDF_FIXTURE_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "lib/buf.h"

static void fixture_add(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fixture_add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[4096];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_append_str(b, tmp);
}

/*
 * A PDF of n pages (at most 30; 300 x 400 pt, MediaBox inherited from the
 * page tree), classic xref. cat, page1: more entries for the catalog and for
 * page 1's dictionary. extra: NULL or a NULL-terminated list of more object
 * bodies, numbered from 2n+3. The xref has every object's offset.
 */
static void
fixture_mkpdf2(struct buf *b, int n, const char *cat, const char *page1,
    const char *const *extra)
{
	size_t off[64], x;
	int i, k, nobj = 2 + 2 * n;

	buf_init(b, 16u * 1024 * 1024);
	fixture_add(b, "%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n");
	off[1] = b->len;
	fixture_add(b, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R %s >>\nendobj\n",
	    cat ? cat : "");
	off[2] = b->len;
	fixture_add(b, "2 0 obj\n<< /Type /Pages /Count %d /MediaBox [0 0 300 400] /Kids [", n);
	for (i = 0; i < n; i++)
		fixture_add(b, " %d 0 R", 3 + 2 * i);
	fixture_add(b, " ] >>\nendobj\n");
	for (i = 0; i < n; i++) {
		off[3 + 2 * i] = b->len;
		fixture_add(b, "%d 0 obj\n<< /Type /Page /Parent 2 0 R /Contents %d 0 R %s >>\n"
		    "endobj\n", 3 + 2 * i, 4 + 2 * i, i == 0 && page1 ? page1 : "");
		off[4 + 2 * i] = b->len;
		fixture_add(b, "%d 0 obj\n<< /Length 8 >>\nstream\n0 0 m S\n\nendstream\n"
		    "endobj\n", 4 + 2 * i);
	}
	for (k = 0; extra != NULL && extra[k] != NULL; k++) {
		off[++nobj] = b->len;
		fixture_add(b, "%d 0 obj\n", nobj);
		buf_append_str(b, extra[k]);
		fixture_add(b, "\nendobj\n");
	}
	x = b->len;
	fixture_add(b, "xref\n0 %d\n0000000000 65535 f \n", nobj + 1);
	for (i = 1; i <= nobj; i++)
		fixture_add(b, "%010zu 00000 n \n", off[i]);
	fixture_add(b, "trailer\n<< /Size %d /Root 1 0 R /ID [<00112233445566778899aabbccddeeff>"
	    "<00112233445566778899aabbccddeeff>] >>\nstartxref\n%zu\n%%%%EOF\n",
	    nobj + 1, x);
}

/* fixture_mkpdf2 without catalog entries and with at most one more object. */
static void
fixture_mkpdf(struct buf *b, int n, const char *page1, const char *extra)
{
	const char *ex[2] = { extra, NULL };

	fixture_mkpdf2(b, n, NULL, page1, ex);
}

/* A w x h RGBA PNG, left quarter transparent, the rest red; 0 or -1. */
static int
fixture_mkpng(unsigned w, unsigned h, uint8_t **out, size_t *len)
{
	png_image img;
	uint8_t *px = calloc((size_t)w * h, 4);
	png_alloc_size_t n = 0;
	unsigned x, y;

	*out = NULL;
	if (px == NULL)
		return -1;
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			px[(y * w + x) * 4] = 255;
			px[(y * w + x) * 4 + 3] = x < w / 4 ? 0 : 255;
		}
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = w;
	img.height = h;
	img.format = PNG_FORMAT_RGBA;
	if (png_image_write_to_memory(&img, NULL, &n, 0, px, 0, NULL) == 0 ||
	    (*out = malloc(n)) == NULL ||
	    png_image_write_to_memory(&img, *out, &n, 0, px, 0, NULL) == 0) {
		free(px);
		free(*out);
		*out = NULL;
		return -1;
	}
	*len = n;
	free(px);
	return 0;
}

#endif
