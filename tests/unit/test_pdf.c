/*
 * daemon/formats/pdf and png: preparing a PAdES incremental update.
 *
 * Documents are made here byte by byte (offsets computed, so that qpdf reads
 * them without repair) and rewritten with qpdf's own writer where a test
 * needs object streams, linearization or encryption: no file and no program
 * is needed. What pdf_prepare writes is read back with qpdf with recovery
 * off and no warning allowed, not with anything in the code under test.
 * pdfsig and rendering are in tests/integration/pdf_format.sh.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <png.h>
#include <qpdf/qpdf-c.h>

#include "check.h"
#include "daemon/formats/pdf.h"
#include "daemon/formats/png.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "pdf_fixture.h"

/* 40 x 20: left quarter transparent, rest red */
static struct {
	uint8_t *data;
	size_t len;
} seal_png;

/* ---- making documents: tests/unit/pdf_fixture.h, and qpdf ------------- */

/* Rewrite in with qpdf: object streams, linearized, or encrypted. */
static int
qrewrite(const struct buf *in, int objstm, int linearize, int encrypt,
    struct buf *out)
{
	qpdf_data q = qpdf_init();
	int rc = -1;

	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	if (qpdf_read_memory(q, "t", (const char *)in->data, in->len, NULL) == 0 &&
	    qpdf_init_write_memory(q) == 0) {
		qpdf_set_object_stream_mode(q, objstm ? qpdf_o_generate : qpdf_o_disable);
		qpdf_set_linearization(q, linearize ? QPDF_TRUE : QPDF_FALSE);
		if (encrypt)
			qpdf_set_r6_encryption_parameters2(q, "", "owner", 1, 1, 1,
			    1, 1, 1, qpdf_r3p_full, 1);
		if (qpdf_write(q) == 0) {
			buf_init(out, 16u * 1024 * 1024);
			rc = buf_append(out, qpdf_get_buffer(q), qpdf_get_buffer_length(q));
		}
	}
	qpdf_cleanup(&q);
	return rc;
}

static struct pdf_opts
opts(void)
{
	struct pdf_opts o;

	memset(&o, 0, sizeof(o));
	o.page = 1;
	o.x = 20;
	o.y = 30;
	o.w = 80;
	o.png = seal_png.data;
	o.png_len = seal_png.len;
	o.when = 1700000000;
	o.contents_max = 4096;
	return o;
}

/* pdf_prepare is refused with rc and code. */
static int
refused(const struct buf *doc, const struct pdf_opts *o, int rc, const char *code,
    struct pdf_err *e)
{
	struct pdf_prepared p;
	int got = pdf_prepare(doc->data, doc->len, o, &p, e);

	if (got != rc || strcmp(e->code, code) != 0 || e->message[0] == '\0') {
		printf("#   got %d %s (%s), wanted %d %s\n", got, e->code, e->message,
		    rc, code);
		pdf_prepared_free(&p);
		return 0;
	}
	printf("#   %d %s: %s\n", e->status, e->code, e->message);
	return p.data == NULL;
}

/* qpdf reads d with recovery off and no warning; its page count. */
static int
qpdf_clean(const uint8_t *d, size_t n, int *pages)
{
	qpdf_data q = qpdf_init();
	int ok;

	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	qpdf_set_attempt_recovery(q, QPDF_FALSE);
	ok = qpdf_read_memory(q, "out", (const char *)d, n, NULL) == 0 &&
	    qpdf_check_pdf(q) == 0 && !qpdf_more_warnings(q);
	*pages = ok ? qpdf_get_num_pages(q) : 0;
	qpdf_cleanup(&q);
	return ok;
}

static int
has(const uint8_t *d, size_t n, const char *s)
{
	return memmem(d, n, s, strlen(s)) != NULL;
}

/* ---- refusals ------------------------------------------------------------ */

static void
t_not_pdf(void)
{
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b;

	buf_init(&b, 1024);
	buf_append_str(&b, "GIF89a this is not a PDF at all\n");
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_not_pdf", &e));
	CHECK(e.status == 422);
	buf_free(&b);
	/* Bytes before the header: offsets become ambiguous (fuzz_pdf found it). */
	fixture_mkpdf(&b, 1, NULL, NULL);
	memmove(b.data + 5, b.data, b.len - 5);
	memcpy(b.data, "DF-1.", 5);
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	CHECK_CONTAINS(e.message, "5 bytes before");
	buf_free(&b);
	/*
	 * A first "%PDF-" with no version: qpdf would count offsets from a
	 * later header, we from the first byte (fuzz_pdf found it).
	 */
	fixture_mkpdf(&b, 1, NULL, NULL);
	CHECK(memcmp(b.data, "%PDF-1.", 7) == 0);
	b.data[5] = '<';
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	CHECK_CONTAINS(e.message, "header has no version");
	b.data[5] = '1';
	b.data[6] = 'x';
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	CHECK_CONTAINS(e.message, "header has no version");
	buf_free(&b);
}

static void
t_truncated(void)
{
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b;

	fixture_mkpdf(&b, 2, NULL, NULL);
	b.len = b.len * 2 / 3;
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	CHECK_CONTAINS(e.message, "truncated");
	buf_free(&b);
}

static void
t_encrypted(void)
{
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b, enc;

	fixture_mkpdf(&b, 2, NULL, NULL);
	CHECK(qrewrite(&b, 0, 0, 1, &enc) == 0);
	CHECK(refused(&enc, &o, SB_EINVAL, "pdf_encrypted", &e));
	CHECK(e.status == 422);
	buf_free(&b);
	buf_free(&enc);
}

/*
 * startxref moved: into the table (our own check), and onto an object, which
 * qpdf would take for an xref stream and, with recovery on, repair.
 */
static void
t_broken_startxref(void)
{
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b;
	char *p;
	size_t obj3;

	fixture_mkpdf(&b, 2, NULL, NULL);
	p = strstr((char *)b.data, "startxref\n") + 10;
	p += strlen(p) - 8;	/* last digit of the offset: 5 bytes off */
	*p = (char)('0' + (*p - '0' + 5) % 10);
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	buf_free(&b);
	fixture_mkpdf(&b, 2, NULL, NULL);
	obj3 = (size_t)(strstr((char *)b.data, "\n3 0 obj") + 1 - (char *)b.data);
	b.len = (size_t)(strstr((char *)b.data, "startxref\n") - (char *)b.data);
	fixture_add(&b, "startxref\n%zu\n%%%%EOF\n", obj3);
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	CHECK_CONTAINS(e.message, "damaged (");
	buf_free(&b);
}

/* An xref entry pointing into the middle of another object. */
static void
t_broken_entry(void)
{
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b;
	char *p;

	fixture_mkpdf(&b, 3, NULL, NULL);
	p = strstr((char *)b.data, "xref\n0 ");
	p = strstr(p, " n \n") + 4;		/* entry of object 1 */
	p = strstr(p, " n \n") + 4 + 8;		/* last digits of object 2 */
	*p = *p == '9' ? '0' : (char)(*p + 1);
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	buf_free(&b);
}

/* A /Size too small: our new objects would shadow existing ones. */
static void
t_size_too_small(void)
{
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b;
	char *p;

	fixture_mkpdf(&b, 2, NULL, NULL);
	p = strstr((char *)b.data, "/Size 7 ");
	CHECK(p != NULL);
	p[6] = '4';
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	buf_free(&b);
}

static void
t_too_deep(void)
{
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b;
	char *deep = malloc(20002);

	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	deep[20000] = '\0';
	fixture_mkpdf(&b, 1, NULL, deep);
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	buf_free(&b);
	/* Reached from the page itself, too. */
	fixture_mkpdf(&b, 1, "/Deep 5 0 R", deep);
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	buf_free(&b);
	free(deep);
}

static void
t_too_many_objects(void)
{
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b;

	fixture_mkpdf(&b, 3, NULL, NULL);
	o.max_objects = 5;
	CHECK(refused(&b, &o, SB_ELIMIT, "pdf_too_many_objects", &e));
	CHECK_CONTAINS(e.message, "/Size is 9");
	buf_free(&b);
}

static void
t_bad_page(void)
{
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b;

	fixture_mkpdf(&b, 3, NULL, NULL);
	o.page = 4;
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_page", &e));
	CHECK_CONTAINS(e.message, "has 3 pages");
	CHECK(e.status == 400);
	o.page = 0;
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_page", &e));
	buf_free(&b);
}

static void
t_bad_placement(void)
{
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b;

	fixture_mkpdf(&b, 1, NULL, NULL);
	o.x = 250;		/* 250 + 80 > 300 */
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_placement", &e));
	CHECK_CONTAINS(e.message, "300.00 x 400.00");
	o = opts();
	o.w = 0;
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_placement", &e));
	o = opts();
	o.y = -1;
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_placement", &e));
	o = opts();
	o.h = 380;		/* 30 + 380 > 400 */
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_placement", &e));
	buf_free(&b);
}

static void
t_bad_image(void)
{
	static const uint8_t junk[] = "\x89PNG\r\n\x1a\n but then nothing good";
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b;

	fixture_mkpdf(&b, 1, NULL, NULL);
	o.png = junk;
	o.png_len = sizeof(junk);
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_image", &e));
	o.png = NULL;
	o.png_len = 0;
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_image", &e));
	buf_free(&b);
}

static void
t_bad_options(void)
{
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b;

	fixture_mkpdf(&b, 1, NULL, NULL);
	o.reason = "bad \xc3\x28 utf-8";
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_option", &e));
	o = opts();
	o.field_name = "a.b";
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_option", &e));
	o = opts();
	o.contents_max = PDF_CONTENTS_MAX + 1;
	CHECK(refused(&b, &o, SB_ELIMIT, "pdf_bad_option", &e));
	buf_free(&b);
}

/* A certification signature allowing no change: refused, /P 2 is fine. */
static void
t_certified(void)
{
	static const char *const p1[] = {
		"<< /Type /Sig /Reference [ << /TransformMethod /DocMDP "
		"/TransformParams << /P 1 /V /1.2 >> >> ] >>", NULL
	};
	static const char *const p2[] = {
		"<< /Type /Sig /Reference [ << /TransformMethod /DocMDP "
		"/TransformParams << /P 2 /V /1.2 >> >> ] >>", NULL
	};
	struct pdf_opts o = opts();
	struct pdf_prepared p;
	struct pdf_err e;
	struct buf b;

	fixture_mkpdf2(&b, 1, "/Perms << /DocMDP 5 0 R >>", NULL, p1);
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_certified", &e));
	buf_free(&b);
	fixture_mkpdf2(&b, 1, "/Perms << /DocMDP 5 0 R >>", NULL, p2);
	CHECK_RC(pdf_prepare(b.data, b.len, &o, &p, &e), 0);
	pdf_prepared_free(&p);
	buf_free(&b);
}

/* ---- what is written ---------------------------------------------------- */

/* p's /ByteRange covers everything but "<000...>" and says so in the file. */
static int
range_ok(const struct pdf_prepared *p)
{
	char want[80];
	size_t i;

	if (p->range[0] != 0 || p->range[1] != p->contents_off - 1 ||
	    p->data[p->range[1]] != '<' || p->range[2] !=
	    p->contents_off + p->contents_hex + 1 || p->data[p->range[2] - 1] != '>' ||
	    p->range[2] + p->range[3] != p->len)
		return 0;
	for (i = 0; i < p->contents_hex; i++)
		if (p->data[p->contents_off + i] != '0')
			return 0;
	snprintf(want, sizeof(want), "/ByteRange[0 %zu %zu %zu]", p->range[1],
	    p->range[2], p->range[3]);
	return has(p->data, p->len, want);
}

static void
t_prepare_table(void)
{
	struct pdf_opts o = opts();
	struct pdf_prepared p;
	struct pdf_err e;
	struct buf b;
	int pages;

	fixture_mkpdf(&b, 3, "/CropBox [10 20 290 390]", NULL);
	o.reason = "Approved (final) \\ ok";
	o.location = "Beijing 北京";
	CHECK_RC(pdf_prepare(b.data, b.len, &o, &p, &e), 0);
	CHECK(p.orig_len == b.len && memcmp(p.data, b.data, b.len) == 0);
	CHECK(p.page_count == 3 && p.contents_hex == 8192);
	CHECK(range_ok(&p));
	CHECK(qpdf_clean(p.data, p.len, &pages) && pages == 3);
	CHECK(has(p.data + b.len, p.len - b.len, "\nxref\n"));
	CHECK(has(p.data, p.len, "/Prev "));
	CHECK(has(p.data, p.len, "/Reason(Approved \\(final\\) \\\\ ok)"));
	CHECK(has(p.data, p.len, "/Location<FEFF004200650069006A0069006E0067002053174EAC>"));
	/* CropBox origin 10,20: the rectangle is 30,50 .. 110,70 (aspect 2:1). */
	CHECK(has(p.data, p.len, "/Rect[30.0000 50.0000 110.0000 90.0000]"));
	CHECK(has(p.data, p.len, "/T(Seal1)"));
	CHECK(has(p.data, p.len, "/SigFlags 3"));
	CHECK(has(p.data, p.len, "/SubFilter/ETSI.CAdES.detached"));
	CHECK(has(p.data, p.len, "/M(D:20231114221320+00'00')"));
	pdf_prepared_free(&p);
	buf_free(&b);
}

/* Object streams and an xref stream in: an xref stream out; linearized too. */
static void
t_prepare_xref_stream(void)
{
	struct pdf_opts o = opts();
	struct pdf_prepared p;
	struct pdf_err e;
	struct buf b, s;
	int pages, lin;

	fixture_mkpdf(&b, 2, NULL, NULL);
	for (lin = 0; lin < 2; lin++) {
		CHECK(qrewrite(&b, 1, lin, 0, &s) == 0);
		o.page = 2;
		CHECK_RC(pdf_prepare(s.data, s.len, &o, &p, &e), 0);
		CHECK(range_ok(&p));
		CHECK(has(p.data + s.len, p.len - s.len, "/Type/XRef"));
		CHECK(!has(p.data + s.len, p.len - s.len, "\nxref\n"));
		CHECK(qpdf_clean(p.data, p.len, &pages) && pages == 2);
		pdf_prepared_free(&p);
		buf_free(&s);
	}
	buf_free(&b);
}

/* Signing the output again keeps the first field and adds a second. */
static void
t_prepare_twice(void)
{
	struct pdf_opts o = opts();
	struct pdf_prepared p1, p2, p3;
	struct pdf_err e;
	struct buf b;
	int pages;

	fixture_mkpdf(&b, 2, "/Annots [ ]", NULL);
	CHECK_RC(pdf_prepare(b.data, b.len, &o, &p1, &e), 0);
	o.page = 2;
	CHECK_RC(pdf_prepare(p1.data, p1.len, &o, &p2, &e), 0);
	CHECK(memcmp(p2.data, p1.data, p1.len) == 0);
	CHECK(has(p2.data + p1.len, p2.len - p1.len, "/T(Seal2)"));
	CHECK(has(p2.data + p1.len, p2.len - p1.len, "/Fields[10 0 R 15 0 R]"));
	CHECK(qpdf_clean(p2.data, p2.len, &pages) && pages == 2);
	o.field_name = "Seal2";
	CHECK(refused(&(struct buf){ .data = p2.data, .len = p2.len }, &o, SB_EINVAL,
	    "pdf_field_exists", &e));
	o.field_name = "Finance";
	CHECK_RC(pdf_prepare(p2.data, p2.len, &o, &p3, &e), 0);
	CHECK(has(p3.data + p2.len, p3.len - p2.len, "/T(Finance)"));
	pdf_prepared_free(&p1);
	pdf_prepared_free(&p2);
	pdf_prepared_free(&p3);
	buf_free(&b);
}

/* An indirect /Annots: a new page with its own direct array (the old one may
 * be shared with other pages, which must not show the widget). */
static void
t_prepare_indirect(void)
{
	struct pdf_opts o = opts();
	struct pdf_prepared p;
	struct pdf_err e;
	struct buf b;
	int pages;

	fixture_mkpdf(&b, 1, "/Annots 5 0 R", "[ ]");
	CHECK_RC(pdf_prepare(b.data, b.len, &o, &p, &e), 0);
	CHECK(has(p.data + b.len, p.len - b.len, "\n3 0 obj"));
	CHECK(has(p.data + b.len, p.len - b.len, "/Annots[9 0 R]"));
	CHECK(!has(p.data + b.len, p.len - b.len, "\n5 0 obj"));
	CHECK(qpdf_clean(p.data, p.len, &pages) && pages == 1);
	pdf_prepared_free(&p);
	buf_free(&b);
}

/* References past /Size would point at our new objects once appended: an
 * object we do not rewrite that would read differently is refused. */
static void
t_dangling_refs(void)
{
	static const char *const objs[] = { "<< /Type /Foo /X [ 1 0 R << /Y 8 0 R >> ] >>", NULL };
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b;

	o.page = 2;	/* page 1 keeps its dangling /Stamp 9 0 R */
	fixture_mkpdf(&b, 2, "/Resources << /XObject << /Stamp 9 0 R >> >>", NULL);
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	CHECK_CONTAINS(e.message, "object 3 refers to objects it does not have");
	buf_free(&b);
	o.page = 1;
	fixture_mkpdf2(&b, 1, "/Foo 5 0 R", NULL, objs);	/* nested, in an array */
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	CHECK_CONTAINS(e.message, "object 5 refers");
	buf_free(&b);
}

/* The last startxref must be plain: digits, %%EOF, nothing after. */
static void
t_strict_tail(void)
{
	struct pdf_opts o = opts();
	struct pdf_err e;
	struct buf b;
	char *p;

	fixture_mkpdf(&b, 1, NULL, NULL);
	fixture_add(&b, "startxref\n12.0\n%%%%EOF\n");	/* a decoy qpdf would skip */
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	buf_free(&b);
	fixture_mkpdf(&b, 1, NULL, NULL);
	fixture_add(&b, "junk after the end\n");
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_damaged", &e));
	CHECK_CONTAINS(e.message, "after its last %%EOF");
	buf_free(&b);
	/* A second "%PDF-" near the start is fine. */
	fixture_mkpdf(&b, 1, NULL, NULL);
	p = strstr((char *)b.data, "%\xe2\xe3");
	CHECK(p != NULL);
	memcpy(p, "%PDF-", 5);
	{
		struct pdf_prepared pp;

		CHECK_RC(pdf_prepare(b.data, b.len, &o, &pp, &e), 0);
		pdf_prepared_free(&pp);
	}
	buf_free(&b);
}

static void
t_digest_and_splice(void)
{
	struct pdf_opts o = opts();
	struct pdf_prepared p;
	struct pdf_err e;
	struct buf b;
	uint8_t d1[EVP_MAX_MD_SIZE], d2[EVP_MAX_MD_SIZE], cms[4097];
	unsigned n1, n2;
	EVP_MD_CTX *ctx;

	fixture_mkpdf(&b, 1, NULL, NULL);
	CHECK_RC(pdf_prepare(b.data, b.len, &o, &p, &e), 0);
	CHECK_RC(pdf_range_digest(&p, EVP_sha256(), d1, &n1), 0);
	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, p.data, p.contents_off - 1);
	EVP_DigestUpdate(ctx, p.data + p.contents_off + p.contents_hex + 1,
	    p.len - (p.contents_off + p.contents_hex + 1));
	EVP_DigestFinal_ex(ctx, d2, &n2);
	EVP_MD_CTX_free(ctx);
	CHECK(n1 == 32 && n2 == 32 && memcmp(d1, d2, 32) == 0);
	memset(cms, 0xab, sizeof(cms));
	CHECK_RC(pdf_splice(&p, cms, sizeof(cms)), SB_ELIMIT);
	CHECK(p.data[p.contents_off] == '0');
	CHECK_RC(pdf_splice(&p, cms, 4096), 0);
	CHECK(memcmp(p.data + p.contents_off, "abab", 4) == 0);
	CHECK(p.data[p.contents_off + 8191] == 'b' && p.data[p.contents_off + 8192] == '>');
	/* The digest does not cover /Contents. */
	CHECK_RC(pdf_range_digest(&p, EVP_sha256(), d2, &n2), 0);
	CHECK(memcmp(d1, d2, 32) == 0);
	pdf_prepared_free(&p);
	pdf_prepared_free(&p);
	buf_free(&b);
}

/* Indirect /AcroForm and /Fields with a field: both rewritten, field kept. */
static void
t_prepare_indirect_form(void)
{
	static const char *const objs[] = {
		"<< /Fields 6 0 R /DA (/Helv 0 Tf 0 g) /SigFlags 1 >>",
		"[ 7 0 R ]",
		"<< /FT /Tx /T (Seal7) /V (x) >>",
		NULL
	};
	struct pdf_opts o = opts();
	struct pdf_prepared p;
	struct pdf_err e;
	struct buf b;
	int pages;

	fixture_mkpdf2(&b, 1, "/AcroForm 5 0 R", NULL, objs);
	CHECK_RC(pdf_prepare(b.data, b.len, &o, &p, &e), 0);
	CHECK(has(p.data + b.len, p.len - b.len, "6 0 obj\n[7 0 R 11 0 R]"));
	CHECK(has(p.data + b.len, p.len - b.len,
	    "5 0 obj\n<</DA (/Helv 0 Tf 0 g) /Fields 6 0 R/SigFlags 3>>"));
	CHECK(!has(p.data + b.len, p.len - b.len, "\n1 0 obj"));
	CHECK(has(p.data + b.len, p.len - b.len, "/T(Seal8)"));
	CHECK(qpdf_clean(p.data, p.len, &pages) && pages == 1);
	pdf_prepared_free(&p);
	buf_free(&b);
}

/* A cross-page seal: one field, one widget and one slice per page. */
static void
t_cross_page(void)
{
	struct pdf_opts o = opts();
	struct pdf_prepared p;
	struct pdf_err e;
	struct buf b, one;
	int pages;

	fixture_mkpdf(&b, 4, NULL, NULL);
	o.cross_page = 1;
	o.page = 99;		/* ignored */
	o.y = 100;
	CHECK_RC(pdf_prepare(b.data, b.len, &o, &p, &e), 0);
	CHECK(range_ok(&p));
	CHECK(qpdf_clean(p.data, p.len, &pages) && pages == 4);
	/* 40 px in 4 slices of 10 px, each 20 pt wide at the right edge. */
	CHECK(has(p.data, p.len, "/Width 10/Height 20"));
	CHECK(has(p.data, p.len, "/Rect[280.0000 100.0000 300.0000 140.0000]"));
	CHECK(has(p.data, p.len, "/T(Seal1)/V 28 0 R/Kids[14 0 R 18 0 R 22 0 R 26 0 R]"));
	CHECK(has(p.data, p.len, "/Fields[27 0 R]"));
	pdf_prepared_free(&p);
	fixture_mkpdf(&one, 1, NULL, NULL);
	CHECK(refused(&one, &o, SB_EINVAL, "pdf_bad_page", &e));
	CHECK_CONTAINS(e.message, "has 1");
	buf_free(&one);
	o.y = 390;
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_placement", &e));
	buf_free(&b);
}

/* How many times s occurs in d (n bytes). */
static int
count_of(const uint8_t *d, size_t n, const char *s)
{
	size_t sl = strlen(s);
	int k = 0;

	for (size_t i = 0; i + sl <= n; i++)
		if (memcmp(d + i, s, sl) == 0)
			k++;
	return k;
}

/* Places (near_text_every): the whole image at each, one image object for
 * all, a widget each, a page written once with all of its widgets. */
static void
t_places(void)
{
	struct pdf_at at[PDF_AT_MAX + 1] = { { 1, 20, 30 }, { 1, 150, 200 }, { 3, 10, 10 } };
	struct pdf_opts o = opts();
	struct pdf_prepared p;
	struct pdf_err e;
	struct buf b;
	int pages;

	fixture_mkpdf(&b, 3, NULL, NULL);
	o.at = at;
	o.nat = 3;
	o.page = 2;		/* ignored */
	CHECK_RC(pdf_prepare(b.data, b.len, &o, &p, &e), 0);
	CHECK(range_ok(&p));
	CHECK(qpdf_clean(p.data, p.len, &pages) && pages == 3);
	CHECK(has(p.data, p.len, "/Rect[20.0000 30.0000 100.0000 70.0000]"));
	CHECK(has(p.data, p.len, "/Rect[150.0000 200.0000 230.0000 240.0000]"));
	CHECK(has(p.data, p.len, "/Rect[10.0000 10.0000 90.0000 50.0000]"));
	CHECK(count_of(p.data, p.len, "/Subtype/Image/Width 40/Height 20/ColorSpace/DeviceRGB") == 1);
	CHECK(count_of(p.data, p.len, "/Subtype/Widget") == 3);
	CHECK(count_of(p.data, p.len, "/Annots[") == 2);	/* pages 1 and 3, once each */
	CHECK(has(p.data, p.len, "/Kids["));
	pdf_prepared_free(&p);
	/* One place is one widget that is the field, as without places. */
	o.nat = 1;
	CHECK_RC(pdf_prepare(b.data, b.len, &o, &p, &e), 0);
	CHECK(qpdf_clean(p.data, p.len, &pages) && !has(p.data, p.len, "/Kids["));
	pdf_prepared_free(&p);
	/* A page past the end, a place off its page, too many places. */
	o.nat = 3;
	at[2].page = 9;
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_page", &e));
	CHECK_CONTAINS(e.message, "page 9 does not exist");
	at[2].page = 3;
	at[1].x = 250;
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_placement", &e));
	CHECK_CONTAINS(e.message, "not inside page 1");
	at[1].x = 150;
	o.nat = PDF_AT_MAX + 1;
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_placement", &e));
	CHECK_CONTAINS(e.message, "at most 64 places");
	buf_free(&b);
	/* A rotated page: the text's coordinates are not the page's. */
	fixture_mkpdf2(&b, 2, NULL, "/Rotate -270", NULL);
	o.nat = 1;
	at[0].page = 2;
	CHECK_RC(pdf_prepare(b.data, b.len, &o, &p, &e), 0);	/* page 2 is not */
	pdf_prepared_free(&p);
	at[0].page = 1;
	CHECK(refused(&b, &o, SB_EINVAL, "pdf_bad_placement", &e));
	CHECK_CONTAINS(e.message, "page 1 is shown rotated (/Rotate 90)");
	buf_free(&b);
}

/* ---- png ------------------------------------------------------------------ */

static void
t_png(void)
{
	uint8_t *rgba;
	unsigned w, h;

	CHECK_RC(png_decode_rgba(seal_png.data, seal_png.len, 0, &rgba, &w, &h), 0);
	CHECK(w == 40 && h == 20);
	CHECK(rgba[0] == 255 && rgba[3] == 0);			/* transparent */
	CHECK(rgba[(5 * 40 + 30) * 4] == 255 && rgba[(5 * 40 + 30) * 4 + 1] == 0 &&
	    rgba[(5 * 40 + 30) * 4 + 3] == 255);		/* opaque red */
	free(rgba);
	CHECK_RC(png_decode_rgba(seal_png.data, seal_png.len, 39, &rgba, &w, &h),
	    SB_ELIMIT);
	CHECK(rgba == NULL);
	CHECK_RC(png_decode_rgba(seal_png.data, seal_png.len / 2, 0, &rgba, &w, &h),
	    SB_EINVAL);
	CHECK_RC(png_decode_rgba((const uint8_t *)"%PDF-1.7", 8, 0, &rgba, &w, &h),
	    SB_EINVAL);
}

int
main(void)
{
	if (fixture_mkpng(40, 20, &seal_png.data, &seal_png.len) != 0) {
		printf("not ok - a test PNG can be made\n");
		return 1;
	}
	RUN(t_not_pdf, "a non-PDF is pdf_not_pdf (422); bytes before %PDF- or a header with no version are pdf_damaged");
	RUN(t_truncated, "a truncated PDF is pdf_damaged");
	RUN(t_encrypted, "an encrypted PDF (empty user password) is pdf_encrypted");
	RUN(t_broken_startxref, "a wrong startxref, which qpdf would repair, is pdf_damaged");
	RUN(t_broken_entry, "an xref entry pointing into another object is pdf_damaged");
	RUN(t_size_too_small, "a /Size below the highest object number is pdf_damaged "
	    "(new objects would shadow old ones)");
	RUN(t_too_deep, "10000 nested arrays (alone or under the page) are pdf_damaged, not a crash");
	RUN(t_too_many_objects, "a /Size over max_objects is pdf_too_many_objects (SB_ELIMIT)");
	RUN(t_bad_page, "a page out of range is pdf_bad_page, saying how many pages there are");
	RUN(t_bad_placement, "a rectangle off the page or of zero/negative size is pdf_bad_placement");
	RUN(t_bad_image, "a corrupt or missing PNG is pdf_bad_image");
	RUN(t_certified, "a document certified with DocMDP /P 1 is pdf_certified; /P 2 may be sealed");
	RUN(t_bad_options, "bad UTF-8, a dotted field name, an oversized contents_max are pdf_bad_option");
	RUN(t_prepare_table, "a classic-xref PDF gets an xref-table update qpdf reads cleanly, "
	    "ByteRange around the placeholder, text strings escaped, Rect from the CropBox");
	RUN(t_prepare_xref_stream, "object-stream and linearized PDFs get an xref-stream update");
	RUN(t_prepare_twice, "a prepared PDF prepares again: fields kept, Seal2 next, names unique");
	RUN(t_prepare_indirect, "an indirect /Annots: the page is written anew with a direct "
	    "array, the old array (maybe shared) is left alone");
	RUN(t_dangling_refs, "a reference past /Size, which would point at a new object, in "
	    "an object not rewritten: pdf_damaged, nested or not");
	RUN(t_strict_tail, "the last startxref must be digits then %%EOF then only white "
	    "space; a second %PDF- near the start is fine");
	RUN(t_prepare_indirect_form, "indirect /AcroForm and /Fields are rewritten (SigFlags 3), "
	    "the catalog is not; the next name follows the existing Seal7");
	RUN(t_places, "places: the whole image at each, one image for all, a widget each, "
	    "each page written once; a bad page, a place off its page, too many, a rotated page "
	    "are refused");
	RUN(t_cross_page, "a cross-page seal: a slice and a widget per page at the right edge, "
	    "one field with /Kids; a 1-page document or a slice off the page is refused");
	RUN(t_digest_and_splice, "the range digest is SHA-256 of both ranges; a CMS too large "
	    "is SB_ELIMIT and changes nothing; one that fits is spliced as hex");
	RUN(t_png, "png_decode_rgba decodes RGBA with alpha and refuses big, cut or foreign data");
	free(seal_png.data);
	return check_done();
}
