/*
 * fuzz_pdf: pdf_prepare (daemon/formats/pdf.c) over arbitrary documents —
 * what the net worker does with a client's PDF. Properties: no crash, no
 * leak, no hang; a refusal always has a code and a message; an accepted
 * document keeps the original bytes as a prefix, its /ByteRange covers all
 * but the '0' placeholder, a CMS splices in, and qpdf reads the result with
 * recovery off and no warning (what we append is as well-formed as what we
 * were given). A refusal as pdf_internal is a bug too: it is what
 * pdf_prepare's own read-back check reports.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <png.h>
#include <qpdf/qpdf-c.h>

#include "daemon/formats/pdf.h"
#include "lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX (1024 * 1024)

static uint8_t *seal;		/* an 8 x 4 RGBA PNG */
static size_t seal_len;

static void
make_seal(void)
{
	uint8_t px[8 * 4 * 4];
	png_image img;
	png_alloc_size_t n = 0;

	memset(px, 0xc0, sizeof(px));
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = 8;
	img.height = 4;
	img.format = PNG_FORMAT_RGBA;
	png_image_write_to_memory(&img, NULL, &n, 0, px, 0, NULL);
	if ((seal = malloc(n)) == NULL ||
	    !png_image_write_to_memory(&img, seal, &n, 0, px, 0, NULL))
		abort();
	seal_len = n;
}

static void
check_output(struct pdf_prepared *p, const uint8_t *data, size_t size)
{
	uint8_t md[EVP_MAX_MD_SIZE], cms[64];
	unsigned md_len;
	qpdf_data q;
	size_t i;

	if (p->orig_len != size || memcmp(p->data, data, size) != 0 ||
	    p->range[1] + 1 != p->contents_off || p->data[p->range[1]] != '<' ||
	    p->range[2] != p->contents_off + p->contents_hex + 1 ||
	    p->range[2] + p->range[3] != p->len)
		abort();
	for (i = 0; i < p->contents_hex; i++)
		if (p->data[p->contents_off + i] != '0')
			abort();
	if (pdf_range_digest(p, EVP_sha256(), md, &md_len) != 0)
		abort();
	memset(cms, 0x30, sizeof(cms));
	if (pdf_splice(p, cms, sizeof(cms)) != 0)
		abort();
	q = qpdf_init();
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	qpdf_set_attempt_recovery(q, QPDF_FALSE);
	qpdf_read_memory(q, "out", (const char *)p->data, p->len, NULL);
	if (qpdf_has_error(q) || qpdf_more_warnings(q) || qpdf_get_num_pages(q) < 1 ||
	    qpdf_has_error(q))
		abort();
	qpdf_cleanup(&q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pdf_at at[2] = { { 1, 1, 1 }, { 1, 2, 2 } };	/* one page, twice */
	struct pdf_opts o;
	struct pdf_prepared p;
	struct pdf_err e;
	int rc;

	if (size > INPUT_MAX)
		return 0;
	if (seal == NULL)
		make_seal();
	memset(&o, 0, sizeof(o));
	o.page = 1 + (size % 3);
	o.cross_page = size % 4 == 0;
	if (size % 4 == 1) {
		o.at = at;
		o.nat = 2;
	}
	o.x = 1;
	o.y = 1;
	o.w = 4;
	o.png = seal;
	o.png_len = seal_len;
	o.reason = "fuzz";
	o.when = 1700000000;
	o.contents_max = 256;
	o.max_objects = 5000;
	rc = pdf_prepare(data, size, &o, &p, &e);
	if (rc != 0) {
		/* pdf_internal: our own bug (the self check failed, say). */
		if (e.code[0] == '\0' || e.message[0] == '\0' || p.data != NULL ||
		    strcmp(e.code, "pdf_internal") == 0)
			abort();
		return 0;
	}
	check_output(&p, data, size);
	pdf_prepared_free(&p);
	return 0;
}
