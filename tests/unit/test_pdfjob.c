/*
 * test_pdfjob — the net worker's side of POST /v1/seals/{seal}/sign-pdf
 * without the network: the Sealbox-Options header (req_sign_pdf), and a
 * job's steps (pdfjob_new, _prepare, _splice) on a real document: the
 * digest sent to the monitor is the ByteRange's, the input's hash is the
 * document's, and the output's hash is of the bytes that leave.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>

#include "check.h"
#include "daemon/msg.h"
#include "daemon/net/pdfjob.h"
#include "daemon/net/pdftext.h"
#include "daemon/net/req.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/err.h"
#include "pdf_fixture.h"

static struct config cfg;

static void
sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;

	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

/* ---- the options header -------------------------------------------------- */

static void
test_options(void)
{
	struct msg_sign v;
	struct req_pdf pl;
	struct req_err e;

	CHECK_RC(req_sign_pdf("{\"document_name\":\"c.pdf\",\"page\":2,\"x\":300.5,\"y\":100,"
	    "\"width\":120,\"reason\":\"\\u91c7\\u8d2d\",\"on_behalf_of\":\"alice\","
	    "\"document_type\":\"contract\",\"otp\":\"123456\"}", "demo", &v, &pl, &e), 0);
	CHECK(pl.page == 2 && pl.x == 300.5 && pl.y == 100 && pl.w == 120 && pl.h == 0 &&
	    !pl.cross_page);
	CHECK(v.profile == MSG_PROFILE_PADES && v.pdf.page == 2 && v.pdf.x == 30050 &&
	    v.pdf.y == 10000 && v.pdf.w == 12000 && v.pdf.h == 0);
	CHECK_STR(v.pdf.reason, "采购");
	CHECK_STR(v.document_name, "c.pdf");
	CHECK_STR(v.seal, "demo");
	CHECK_STR(v.who.on_behalf_of, "alice");
	CHECK_STR(v.document_type, "contract");
	CHECK_STR(v.otp, "123456");
	/* page defaults to 1; height is kept */
	CHECK_RC(req_sign_pdf("{\"document_name\":\"c.pdf\",\"x\":0,\"y\":0,\"width\":1,"
	    "\"height\":14400}", "demo", &v, &pl, &e), 0);
	CHECK(pl.page == 1 && pl.h == 14400 && v.pdf.h == 1440000);
}

static void
test_options_refused(void)
{
	static const struct {
		const char *opts;
		int status;
		const char *code, *text;
	} bad[] = {
		{ NULL, 400, "bad_request", "Sealbox-Options header is missing" },
		{ "{nope", 400, "bad_json", "not valid JSON" },
		{ "[1]", 400, "bad_json", "must be a JSON object" },
		{ "{\"x\":1,\"y\":1,\"width\":9}", 400, "bad_request", "document_name: missing" },
		{ "{\"document_name\":\"a\",\"x\":1,\"y\":1}", 400, "bad_request", "x, y, width: required" },
		{ "{\"document_name\":\"a\",\"x\":1,\"y\":1,\"width\":0}", 400, "bad_request", "width: a number" },
		{ "{\"document_name\":\"a\",\"x\":-1,\"y\":1,\"width\":9}", 400, "bad_request", "x: a number" },
		{ "{\"document_name\":\"a\",\"x\":1,\"y\":14401,\"width\":9}", 400, "bad_request", "y: a number" },
		{ "{\"document_name\":\"a\",\"x\":\"1\",\"y\":1,\"width\":9}", 400, "bad_request", "x: a number" },
		{ "{\"document_name\":\"a\",\"page\":0,\"x\":1,\"y\":1,\"width\":9}", 400, "bad_request", "page: an integer" },
		{ "{\"document_name\":\"a\",\"page\":1.5,\"x\":1,\"y\":1,\"width\":9}", 400, "bad_request", "page: an integer" },
		{ "{\"document_name\":\"a\",\"cross_page\":1,\"y\":1,\"width\":9}", 400, "bad_request", "cross_page: true or false" },
		{ "{\"document_name\":\"a\",\"x\":1,\"y\":1,\"width\":9,\"reason\":\"a\\nb\"}", 400, "bad_request", "reason:" },
		{ "{\"document_name\":\"a\",\"x\":1,\"y\":1,\"width\":9,\"reason\":\"\"}", 400, "bad_request", "reason:" },
		{ "{\"document_name\":\"a\",\"x\":1,\"y\":1,\"width\":9,\"otp\":\"12ab56\"}", 400, "bad_request", "otp: 6-8 digits" },
		{ "{\"document_name\":\"a\",\"x\":1,\"y\":1,\"width\":9,\"colour\":\"red\"}", 400, "bad_request", "unknown field" },
		{ "{\"document_name\":\"a\",\"document_name\":\"b\",\"x\":1,\"y\":1,\"width\":9}", 400, "bad_json", "" },
	};
	struct msg_sign v;
	struct req_pdf pl;
	struct req_err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		if (req_sign_pdf(bad[i].opts, "demo", &v, &pl, &e) != SB_EINVAL ||
		    e.status != bad[i].status || strcmp(e.code, bad[i].code) != 0 ||
		    strstr(e.message, bad[i].text) == NULL) {
			printf("#   options %zu (%s): %d %s %s\n", i, bad[i].opts ? bad[i].opts : "NULL",
			    e.status, e.code ? e.code : "-", e.message);
			CHECK(0);
		}
	}
	CHECK_RC(req_sign_pdf("{\"document_name\":\"a\",\"x\":1,\"y\":1,\"width\":9}", "bad seal",
	    &v, &pl, &e), SB_EINVAL);
}

/* ---- a job ------------------------------------------------------------------ */

static void
test_job_refusals(void)
{
	static const char opts[] = "{\"document_name\":\"a.pdf\",\"x\":10,\"y\":10,\"width\":50}";
	struct pdfjob *j = NULL;
	struct req_err e;
	struct buf pdf;
	uint8_t *png = NULL;
	size_t png_len = 0;

	fixture_mkpdf(&pdf, 2, NULL, NULL);
	CHECK(fixture_mkpng(40, 20, &png, &png_len) == 0);
	/* over pdf.max_size */
	cfg.pdf.max_size = (unsigned)pdf.len - 1;
	CHECK_RC(pdfjob_new(&cfg, pdf.data, pdf.len, opts, "demo", &j, &e), SB_EINVAL);
	CHECK(e.status == 413 && strcmp(e.code, "too_large") == 0 && j == NULL);
	cfg.pdf.max_size = 1u << 24;
	CHECK_RC(pdfjob_new(&cfg, pdf.data, 0, opts, "demo", &j, &e), SB_EINVAL);
	CHECK(e.status == 400);
	/* a cross-page seal: no x, page 0 in the message; one page is not enough */
	CHECK_RC(pdfjob_new(&cfg, pdf.data, pdf.len, "{\"document_name\":\"a.pdf\","
	    "\"cross_page\":true,\"y\":10,\"width\":50}", "demo", &j, &e), 0);
	CHECK_RC(pdfjob_prepare(j, png, png_len, &e), 0);
	CHECK(pdfjob_sign_msg(j)->pdf.page == 0 && pdfjob_sign_msg(j)->digest_len == 32);
	pdfjob_free(j);
	buf_free(&pdf);
	fixture_mkpdf(&pdf, 1, NULL, NULL);
	CHECK_RC(pdfjob_new(&cfg, pdf.data, pdf.len, "{\"document_name\":\"a.pdf\","
	    "\"cross_page\":true,\"y\":10,\"width\":50}", "demo", &j, &e), 0);
	CHECK_RC(pdfjob_prepare(j, png, png_len, &e), SB_EINVAL);
	CHECK(e.status == 400);
	pdfjob_free(j);
	buf_free(&pdf);
	fixture_mkpdf(&pdf, 2, NULL, NULL);
	/* a page past the end: pdf.c's 400 with the count */
	CHECK_RC(pdfjob_new(&cfg, pdf.data, pdf.len, "{\"document_name\":\"a.pdf\",\"page\":3,"
	    "\"x\":10,\"y\":10,\"width\":50}", "demo", &j, &e), 0);
	CHECK_RC(pdfjob_prepare(j, png, png_len, &e), SB_EINVAL);
	CHECK(e.status == 400 && strcmp(e.code, "pdf_bad_page") == 0);
	CHECK_CONTAINS(e.message, "2 page");
	pdfjob_free(j);
	/* not a PDF: 422 */
	CHECK_RC(pdfjob_new(&cfg, (const uint8_t *)"hello", 5, opts, "demo", &j, &e), 0);
	CHECK_RC(pdfjob_prepare(j, png, png_len, &e), SB_EINVAL);
	CHECK(e.status == 422 && strcmp(e.code, "pdf_not_pdf") == 0);
	pdfjob_free(j);
	free(png);
	buf_free(&pdf);
}

static void
test_job_steps(void)
{
	static const char opts[] = "{\"document_name\":\"a.pdf\",\"page\":2,\"x\":10,\"y\":20,"
	    "\"width\":50,\"reason\":\"test\"}";
	static const uint8_t cms[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
	struct msg_sign_result r = { .status = 200, .seq = 77, .cms = cms,
	    .cms_len = sizeof(cms) };
	struct msg_pdf_sealed s;
	struct pdfjob *j = NULL;
	struct msg_sign *v;
	struct req_err e;
	struct buf pdf;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *png = NULL, want[32];
	const uint8_t *out;
	unsigned int dl = 0;
	size_t png_len = 0, len = 0, a, b, c;
	char *br;

	fixture_mkpdf(&pdf, 2, NULL, NULL);
	CHECK(md != NULL && fixture_mkpng(40, 20, &png, &png_len) == 0);
	CHECK_RC(pdfjob_new(&cfg, pdf.data, pdf.len, opts, "demo", &j, &e), 0);
	CHECK(pdfjob_output(j, &len) == NULL);	/* nothing leaves before the splice */
	CHECK_RC(pdfjob_prepare(j, png, png_len, &e), 0);
	v = pdfjob_sign_msg(j);
	sha256(pdf.data, pdf.len, want);
	CHECK(memcmp(v->pdf.input_sha256, want, 32) == 0);
	CHECK(v->md_nid == NID_sha256 && v->digest_len == 32 && v->profile == MSG_PROFILE_PADES);
	/* s's who is the caller's; the splice fills the rest */
	memset(&s, 0, sizeof(s));
	CHECK_RC(pdfjob_splice(j, &r, &s, &e), 0);
	CHECK((out = pdfjob_output(j, &len)) != NULL && len > pdf.len);
	CHECK(memcmp(out, pdf.data, pdf.len) == 0);	/* an incremental update */
	sha256(out, len, want);
	CHECK(s.seq == 77 && s.output_len == len && memcmp(s.output_sha256, want, 32) == 0);
	/* The digest sent is the ByteRange's, read back from the output itself. */
	CHECK((br = memmem(out + pdf.len, len - pdf.len, "/ByteRange", 10)) != NULL);
	CHECK(sscanf(strchr(br, '[') + 1, "%*u %zu %zu %zu", &a, &b, &c) == 3);
	CHECK(b + c == len && a < b && out[a] == '<' && out[b - 1] == '>');
	CHECK(EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, out, a) == 1 && EVP_DigestUpdate(md, out + b, c) == 1 &&
	    EVP_DigestFinal_ex(md, want, &dl) == 1);
	CHECK(memcmp(v->digest, want, 32) == 0);
	CHECK(memcmp(out + a + 1, "3003020107", 10) == 0 && out[a + 11] == '0');
	/* A CMS too large for the room reserved: 500, nothing sent. */
	r.cms_len = (b - a) / 2 + 1;
	{
		uint8_t *big = calloc(1, r.cms_len);

		r.cms = big;
		CHECK_RC(pdfjob_splice(j, &r, &s, &e), SB_EINVAL);
		free(big);
	}
	CHECK(e.status == 500);
	EVP_MD_CTX_free(md);
	pdfjob_free(j);
	free(png);
	buf_free(&pdf);
}

/* ---- the text helper's answer ------------------------------------------------ */

#define TSV_HDR "level\tpage_num\tpar_num\tblock_num\tline_num\tword_num\tleft\ttop\t" \
	"width\theight\tconf\ttext\n"
/* The fixture's pages are 300 x 400 points. */
#define TSV_PAGE(n) "1\t" #n "\t0\t0\t0\t0\t0.000000\t0.000000\t300.000000\t400.000000\t-1\t###PAGE###\n"

static const char tsv_words[] = TSV_HDR TSV_PAGE(1) TSV_PAGE(2)
    "5\t2\t2\t0\t0\t0\t100.00\t100.00\t98.00\t14.00\t100\t甲方（盖章）：\n";
static const char tsv_blank[] = TSV_HDR TSV_PAGE(1) TSV_PAGE(2);

/* A job on a 2-page PDF with opts, given the helper's answer r: in *out. */
static void
text_job(const char *opts, const struct pdftext_result *r, int want_rc, struct req_err *e,
    struct pdfjob **out)
{
	struct buf pdf;

	*out = NULL;
	fixture_mkpdf(&pdf, 2, NULL, NULL);
	CHECK_RC(pdfjob_new(&cfg, pdf.data, pdf.len, opts, "demo", out, e), 0);
	buf_free(&pdf);
	if (*out == NULL)
		abort();
	CHECK_RC(pdfjob_text(*out, r, e), want_rc);
}

static void
test_job_text(void)
{
	static const char plain[] = "{\"document_name\":\"a.pdf\",\"x\":10,\"y\":20,\"width\":50}";
	static const char near[] = "{\"document_name\":\"a.pdf\",\"near_text\":\"甲方（盖章）\","
	    "\"width\":60}";
	struct pdftext_result r = { .status = PDFTEXT_OK, .text = (const uint8_t *)tsv_words,
	    .text_len = sizeof(tsv_words) - 1 };
	struct pdfjob *j;
	struct msg_sign *v;
	struct req_err e;
	uint8_t *png = NULL;
	size_t png_len = 0;

	CHECK(fixture_mkpng(40, 20, &png, &png_len) == 0);
	/* Words: the text goes to the monitor, nothing unreadable. */
	text_job(plain, &r, 0, &e, &j);
	v = pdfjob_sign_msg(j);
	CHECK(v->text != NULL && v->text_len == strlen("甲方（盖章）：") &&
	    memcmp(v->text, "甲方（盖章）：", v->text_len) == 0 && v->text_unreadable[0] == '\0');
	pdfjob_free(j);
	/* No usable character, a malformed output, a failed helper: why, no text. */
	r.text = (const uint8_t *)tsv_blank;
	r.text_len = sizeof(tsv_blank) - 1;
	text_job(plain, &r, 0, &e, &j);
	v = pdfjob_sign_msg(j);
	CHECK(v->text == NULL);
	CHECK_CONTAINS(v->text_unreadable, "it has no text");
	pdfjob_free(j);
	r.text = (const uint8_t *)"level\tnope\n";
	r.text_len = 12;
	text_job(plain, &r, 0, &e, &j);
	CHECK_CONTAINS(pdfjob_sign_msg(j)->text_unreadable, "output could not be read");
	pdfjob_free(j);
	r = (struct pdftext_result){ .status = PDFTEXT_TIMEOUT };
	cfg.pdf.text_seconds = 7;
	text_job(plain, &r, 0, &e, &j);
	CHECK_CONTAINS(pdfjob_sign_msg(j)->text_unreadable, "longer than pdf.text_seconds (7 s)");
	pdfjob_free(j);
	r = (struct pdftext_result){ .status = PDFTEXT_GONE };
	text_job(plain, &r, 0, &e, &j);
	CHECK_CONTAINS(pdfjob_sign_msg(j)->text_unreadable, "not running");
	pdfjob_free(j);
	/* near_text without readable text: 422 pdf_text_unreadable. */
	text_job(near, &r, SB_EINVAL, &e, &j);
	CHECK(e.status == 422 && strcmp(e.code, "pdf_text_unreadable") == 0);
	pdfjob_free(j);
	/* near_text found: page 2, right of the phrase (100 + 6/7 of 98 = 184),
	 * centred on its line (400 - 107 = 293) for a 60 x 30 seal: y 278. */
	r = (struct pdftext_result){ .status = PDFTEXT_OK, .text = (const uint8_t *)tsv_words,
	    .text_len = sizeof(tsv_words) - 1 };
	text_job(near, &r, 0, &e, &j);
	CHECK_RC(pdfjob_prepare(j, png, png_len, &e), 0);
	v = pdfjob_sign_msg(j);
	CHECK(v->pdf.page == 2 && v->pdf.x == 18400 && v->pdf.y == 27800);
	pdfjob_free(j);
	/* ... moved inside the page when it would stand out of it */
	text_job("{\"document_name\":\"a.pdf\",\"near_text\":\"甲方\",\"width\":200}", &r, 0,
	    &e, &j);
	CHECK_RC(pdfjob_prepare(j, png, png_len, &e), 0);
	CHECK(pdfjob_sign_msg(j)->pdf.x == 10000);	/* 128 + 200 > 300: 100 */
	pdfjob_free(j);
	/* not there, or not on the page asked */
	text_job("{\"document_name\":\"a.pdf\",\"near_text\":\"乙方\",\"width\":60}", &r,
	    SB_EINVAL, &e, &j);
	CHECK(e.status == 422 && strcmp(e.code, "pdf_text_not_found") == 0);
	CHECK_CONTAINS(e.message, "not in the document");
	pdfjob_free(j);
	text_job("{\"document_name\":\"a.pdf\",\"near_text\":\"甲方\",\"page\":1,"
	    "\"width\":60}", &r, SB_EINVAL, &e, &j);
	CHECK(e.status == 422 && strcmp(e.code, "pdf_text_not_found") == 0);
	CHECK_CONTAINS(e.message, "not on page 1");
	pdfjob_free(j);
	free(png);
}

int
main(void)
{
	cfg.pdf.max_size = 1u << 24;
	cfg.pdf.max_objects = 1000;
	RUN(test_options, "Sealbox-Options: placement in points, centipoints in the message, "
	    "reason, on_behalf_of, document_type and otp; page defaults to 1");
	RUN(test_options_refused, "Sealbox-Options: a missing header, bad JSON, a missing "
	    "or out-of-range placement, a bad reason or code, an unknown field: 400 naming it");
	RUN(test_job_refusals, "a job: over pdf.max_size 413, empty 400, a cross-page seal "
	    "on two pages but not on one, a page past the end 400 with the count, not a PDF 422");
	RUN(test_job_steps, "a job: the input's hash, the ByteRange's digest, the CMS spliced, "
	    "the output's hash of the bytes that leave; a CMS that does not fit is refused");
	RUN(test_job_text, "the text helper's answer: words to the monitor; no text, bad output, "
	    "a timeout or no helper say why; near_text places right of the phrase, inside "
	    "the page, or 422 pdf_text_unreadable / pdf_text_not_found");
	return check_done();
}
