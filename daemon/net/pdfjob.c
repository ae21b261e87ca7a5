/*
 * pdfjob — the net worker's steps of a PDF sealing (see pdfjob.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/objects.h>

#include "../../lib/err.h"
#include "../formats/pdf.h"
#include "../formats/pdftsv.h"
#include "../formats/png.h"
#include "pdfjob.h"
#include "pdftext.h"

struct pdfjob {
	const struct config *cfg;
	uint8_t *in;			/* the PDF as received */
	size_t in_len;
	struct msg_sign sign;
	struct req_pdf place;
	struct pdf_prepared out;	/* empty until prepared */
	int spliced;
	struct pdftsv words;		/* the text helper's answer, parsed */
	size_t nhits;			/* near_text: where it stands (0: not asked) */
	struct pdftsv_hit hits[PDF_AT_MAX + 1];	/* one more: too many is refused */
	struct pdf_at at[PDF_AT_MAX];	/* and where the seal goes */
};

static int
fail(struct req_err *e, int status, const char *code, const char *message)
{
	size_t n = strnlen(message, sizeof(e->message) - 1);

	e->status = status;
	e->code = code;
	memcpy(e->message, message, n);	/* cut, as req.c's messages are */
	e->message[n] = '\0';
	return SB_EINVAL;
}

int
pdfjob_new(const struct config *cfg, const uint8_t *pdf, size_t len, const char *opts,
    const char *seal, struct pdfjob **out, struct req_err *e)
{
	struct pdfjob *j;
	char text[REQ_TEXT_MAX];

	*out = NULL;
	if (len > cfg->pdf.max_size) {
		snprintf(text, sizeof(text), "the PDF is larger than pdf.max_size (%u bytes)",
		    cfg->pdf.max_size);
		return fail(e, 413, "too_large", text);
	}
	if (len == 0)
		return fail(e, 400, "bad_request", "the body is empty: a PDF is expected");
	if ((j = calloc(1, sizeof(*j))) == NULL || (j->in = malloc(len)) == NULL) {
		free(j);
		fail(e, 500, "internal", "out of memory in the net worker");
		return SB_ENOMEM;
	}
	j->cfg = cfg;
	memcpy(j->in, pdf, len);
	j->in_len = len;
	if (req_sign_pdf(opts, seal, &j->sign, &j->place, e) != 0) {
		pdfjob_free(j);
		return SB_EINVAL;
	}
	*out = j;
	return 0;
}

void
pdfjob_free(struct pdfjob *j)
{
	if (j == NULL)
		return;
	pdf_prepared_free(&j->out);
	pdftsv_free(&j->words);
	free(j->in);
	free(j);
}

struct msg_sign *
pdfjob_sign_msg(struct pdfjob *j)
{
	return &j->sign;
}

const uint8_t *
pdfjob_input(const struct pdfjob *j, size_t *len)
{
	*len = j->in_len;
	return j->in;
}

int
pdfjob_text(struct pdfjob *j, const struct pdftext_result *r, struct req_err *e)
{
	char why[MSG_NAME_MAX] = "", text[REQ_TEXT_MAX + MSG_NAME_MAX];
	int rc = SB_EINVAL;

	pdftsv_free(&j->words);
	if (r->status != PDFTEXT_OK)
		pdftext_why(r, j->cfg, why, sizeof(why));
	else if ((rc = pdftsv_parse(r->text, r->text_len, &j->words)) == SB_ENOMEM)
		return fail(e, 500, "internal", "out of memory in the net worker");
	else if (rc == SB_ELIMIT)
		snprintf(why, sizeof(why), "it has more than %u KiB of text or %u pages",
		    PDFTSV_TEXT_MAX / 1024, PDFTSV_PAGES_MAX);
	else if (rc != 0)
		snprintf(why, sizeof(why), "%s", "pdftotext's output could not be read");
	else if (j->words.usable == 0)
		snprintf(why, sizeof(why), "%s", "it has no text: an image or a scan, or fonts "
		    "without a character map");
	if (why[0] != '\0') {
		pdftsv_free(&j->words);
		memcpy(j->sign.text_unreadable, why, strlen(why) + 1);
		if (j->place.near_text[0] == '\0')
			return 0;
		snprintf(text, sizeof(text), "the seal cannot be placed next to a text: the "
		    "document's text cannot be read (%s)", why);
		return fail(e, 422, "pdf_text_unreadable", text);
	}
	j->sign.text = (const uint8_t *)j->words.text;
	j->sign.text_len = j->words.text_len;
	if (j->place.near_text[0] == '\0') {
		pdftsv_keep_text(&j->words);
		return 0;
	}
	rc = pdftsv_find_all(&j->words, j->place.near_text, j->place.page, j->hits,
	    j->place.near_every ? PDF_AT_MAX + 1 : 1, &j->nhits);
	pdftsv_keep_text(&j->words);	/* the hits are copied; the words can go */
	if (rc == 0 && j->nhits > PDF_AT_MAX) {
		j->nhits = 0;
		snprintf(text, sizeof(text), "near_text_every: the text occurs more than %d "
		    "times; a seal goes to at most %d places", PDF_AT_MAX, PDF_AT_MAX);
		return fail(e, 400, "pdf_bad_placement", text);
	}
	if (rc == 0)
		return 0;
	if (rc == SB_ENOMEM)
		return fail(e, 500, "internal", "out of memory in the net worker");
	if (j->place.page != 0)
		snprintf(text, sizeof(text), "near_text: the text is not on page %u (white space "
		    "is ignored, the rest must match exactly)", j->place.page);
	else
		snprintf(text, sizeof(text), "near_text: the text is not in the document (white "
		    "space is ignored, the rest must match exactly)");
	return fail(e, 422, "pdf_text_not_found", text);
}

/*
 * near_text: the seal's box, w wide, right of each occurrence found and
 * centred on its height, moved inside the page if it would stand out of
 * it. The message names the first.
 */
static void
place_near(struct pdfjob *j, const uint8_t *png, size_t png_len)
{
	unsigned iw, ih;
	double w = j->place.w, h = j->place.h, x, y;

	if (h <= 0 && png_size(png, png_len, &iw, &ih) == 0)
		h = w * ih / iw;
	for (size_t i = 0; i < j->nhits; i++) {
		const struct pdftsv_hit *k = &j->hits[i];

		x = k->x1;
		y = k->page_h - (k->y0 + k->y1) / 2 - h / 2;
		if (x + w > k->page_w)
			x = k->page_w - w;
		if (y + h > k->page_h)
			y = k->page_h - h;
		j->at[i].page = k->page;
		j->at[i].x = x < 0 ? 0 : x;
		j->at[i].y = y < 0 ? 0 : y;
	}
	j->place.page = j->at[0].page;
	j->place.x = j->at[0].x;
	j->place.y = j->at[0].y;
	j->sign.pdf.page = j->at[0].page;
	j->sign.pdf.x = req_centi(j->at[0].x);
	j->sign.pdf.y = req_centi(j->at[0].y);
}

/* pdf.c's refusal as ours: its code is copied into static storage by name. */
static int
pdf_fail(const struct pdf_err *pe, struct req_err *e)
{
	static const char *const codes[] = { "pdf_not_pdf", "pdf_encrypted", "pdf_damaged",
	    "pdf_too_many_objects", "pdf_certified", "pdf_bad_page", "pdf_bad_placement",
	    "pdf_bad_image", "pdf_bad_option", "pdf_field_exists", NULL };
	const char *code = "pdf_internal";

	for (size_t i = 0; codes[i] != NULL; i++)
		if (strcmp(codes[i], pe->code) == 0)
			code = codes[i];
	/* The image is the seal's, not the caller's: its configuration is wrong. */
	if (strcmp(code, "pdf_bad_image") == 0)
		return fail(e, 409, "bad_seal_image", "the seal's appearance image cannot be "
		    "used (not a PNG, or over 2048 x 2048 pixels); an administrator must replace it");
	return fail(e, pe->status >= 400 && pe->status < 600 ? pe->status : 500, code,
	    pe->message[0] != '\0' ? pe->message : "the PDF could not be prepared");
}

int
pdfjob_prepare(struct pdfjob *j, const uint8_t *png, size_t png_len, struct req_err *e)
{
	struct pdf_opts o;
	struct pdf_err pe = { 0 };
	unsigned int dlen = 0;
	int rc;

	if (j->nhits > 0)
		place_near(j, png, png_len);
	o = (struct pdf_opts){
		.page = j->place.page, .x = j->place.x, .y = j->place.y,
		.cross_page = j->place.cross_page,
		.w = j->place.w, .h = j->place.h, .png = png, .png_len = png_len,
		.reason = j->sign.pdf.reason[0] != '\0' ? j->sign.pdf.reason : NULL,
		.location = j->cfg->pdf.location, .when = time(NULL),
		.max_objects = j->cfg->pdf.max_objects,
		.at = j->nhits > 0 ? j->at : NULL, .nat = (unsigned)j->nhits,
	};

	if ((rc = pdf_prepare(j->in, j->in_len, &o, &j->out, &pe)) != 0)
		return rc == SB_ENOMEM ? fail(e, 500, "internal", "out of memory in the net "
		    "worker") : pdf_fail(&pe, e);
	if (EVP_Digest(j->in, j->in_len, j->sign.pdf.input_sha256, &dlen, EVP_sha256(),
	    NULL) != 1 || pdf_range_digest(&j->out, EVP_sha256(), j->sign.digest, &dlen) != 0 ||
	    dlen != 32)
		return fail(e, 500, "internal", "hashing the PDF failed");
	j->sign.md_nid = NID_sha256;
	j->sign.digest_len = 32;
	return 0;
}

int
pdfjob_splice(struct pdfjob *j, const struct msg_sign_result *r, struct msg_pdf_sealed *s,
    struct req_err *e)
{
	unsigned int dlen = 0;

	if (r->status != 200 || r->cms == NULL || j->out.data == NULL)
		return fail(e, 500, "internal", "no signature to write into the PDF");
	if (pdf_splice(&j->out, r->cms, r->cms_len) != 0)
		return fail(e, 500, "internal", "the signature does not fit the room reserved "
		    "for it in the PDF");
	if (EVP_Digest(j->out.data, j->out.len, s->output_sha256, &dlen, EVP_sha256(),
	    NULL) != 1 || dlen != 32)
		return fail(e, 500, "internal", "hashing the sealed PDF failed");
	s->seq = r->seq;
	s->output_len = j->out.len;
	j->spliced = 1;
	return 0;
}

const uint8_t *
pdfjob_output(const struct pdfjob *j, size_t *len)
{
	if (!j->spliced)
		return NULL;
	*len = j->out.len;
	return j->out.data;
}
