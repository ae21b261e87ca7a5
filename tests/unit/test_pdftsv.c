/*
 * daemon/formats/pdftsv: pdftotext's TSV read back, and a phrase's box.
 *
 * The fixtures are real output of poppler 22.12 `pdftotext -tsv -enc UTF-8
 * -cropbox`, copied byte for byte: REAL3 from `pdfsign mktext x.pdf 3
 * '2:100:300:14:甲方（盖章）：' '3:72:500:12:Contract total 机密 amount'`,
 * IMAGE2 from `pdfsign mkimage i.pdf 2`, LINES from a one-page PDF (CropBox
 * 600 x 780) showing "Hello big world", "second line" and, apart,
 * "other block". Refusals change one thing in such output. No program is
 * run here; every refused or accepted parse is freed, so that ASan and
 * valgrind (make check) see each error path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "daemon/formats/pdftsv.h"
#include "lib/buf.h"
#include "lib/err.h"

#define HDR "level\tpage_num\tpar_num\tblock_num\tline_num\tword_num\tleft\ttop\t" \
	"width\theight\tconf\ttext\n"
#define PAGE1 "1\t1\t0\t0\t0\t0\t0.000000\t0.000000\t595.000000\t842.000000\t-1\t###PAGE###\n"
#define PAGE2 "1\t2\t0\t0\t0\t0\t0.000000\t0.000000\t595.000000\t842.000000\t-1\t###PAGE###\n"
/* A word on page 1, line 0, with the given text (a string literal). */
#define WORD1(text) "5\t1\t0\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t100\t" text "\n"

static const char REAL3[] = HDR
	"1\t1\t0\t0\t0\t0\t0.000000\t0.000000\t595.000000\t842.000000\t-1\t###PAGE###\n"
	"3\t1\t0\t0\t0\t0\t72.000000\t51.692000\t48.000000\t12.000000\t-1\t###FLOW###\n"
	"4\t1\t0\t0\t0\t0\t72.000000\t51.692000\t48.000000\t12.000000\t-1\t###LINE###\n"
	"5\t1\t0\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t100\tPage\n"
	"3\t1\t1\t0\t0\t0\t132.000000\t51.692000\t12.000000\t12.000000\t-1\t###FLOW###\n"
	"4\t1\t1\t0\t0\t0\t132.000000\t51.692000\t12.000000\t12.000000\t-1\t###LINE###\n"
	"5\t1\t1\t0\t0\t0\t132.00\t51.69\t12.00\t12.00\t100\t1\n"
	"1\t2\t0\t0\t0\t0\t132.000000\t51.692000\t595.000000\t842.000000\t-1\t###PAGE###\n"
	"3\t2\t0\t0\t0\t0\t72.000000\t51.692000\t48.000000\t12.000000\t-1\t###FLOW###\n"
	"4\t2\t0\t0\t0\t0\t72.000000\t51.692000\t48.000000\t12.000000\t-1\t###LINE###\n"
	"5\t2\t0\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t100\tPage\n"
	"3\t2\t1\t0\t0\t0\t132.000000\t51.692000\t12.000000\t12.000000\t-1\t###FLOW###\n"
	"4\t2\t1\t0\t0\t0\t132.000000\t51.692000\t12.000000\t12.000000\t-1\t###LINE###\n"
	"5\t2\t1\t0\t0\t0\t132.00\t51.69\t12.00\t12.00\t100\t2\n"
	"3\t2\t2\t0\t0\t0\t100.000000\t529.974000\t98.000000\t14.000000\t-1\t###FLOW###\n"
	"4\t2\t2\t0\t0\t0\t100.000000\t529.974000\t98.000000\t14.000000\t-1\t###LINE###\n"
	"5\t2\t2\t0\t0\t0\t100.00\t529.97\t98.00\t14.00\t100\t甲方（盖章）：\n"
	"1\t3\t0\t0\t0\t0\t100.000000\t529.974000\t595.000000\t842.000000\t-1\t###PAGE###\n"
	"3\t3\t0\t0\t0\t0\t72.000000\t51.692000\t48.000000\t12.000000\t-1\t###FLOW###\n"
	"4\t3\t0\t0\t0\t0\t72.000000\t51.692000\t48.000000\t12.000000\t-1\t###LINE###\n"
	"5\t3\t0\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t100\tPage\n"
	"3\t3\t1\t0\t0\t0\t132.000000\t51.692000\t12.000000\t12.000000\t-1\t###FLOW###\n"
	"4\t3\t1\t0\t0\t0\t132.000000\t51.692000\t12.000000\t12.000000\t-1\t###LINE###\n"
	"5\t3\t1\t0\t0\t0\t132.00\t51.69\t12.00\t12.00\t100\t3\n"
	"3\t3\t2\t0\t0\t0\t72.000000\t331.692000\t96.000000\t12.000000\t-1\t###FLOW###\n"
	"4\t3\t2\t0\t0\t0\t72.000000\t331.692000\t96.000000\t12.000000\t-1\t###LINE###\n"
	"5\t3\t2\t0\t0\t0\t72.00\t331.69\t96.00\t12.00\t100\tContract\n"
	"3\t3\t3\t0\t0\t0\t180.000000\t331.692000\t60.000000\t12.000000\t-1\t###FLOW###\n"
	"4\t3\t3\t0\t0\t0\t180.000000\t331.692000\t60.000000\t12.000000\t-1\t###LINE###\n"
	"5\t3\t3\t0\t0\t0\t180.00\t331.69\t60.00\t12.00\t100\ttotal\n"
	"3\t3\t4\t0\t0\t0\t252.000000\t331.692000\t24.000000\t12.000000\t-1\t###FLOW###\n"
	"4\t3\t4\t0\t0\t0\t252.000000\t331.692000\t24.000000\t12.000000\t-1\t###LINE###\n"
	"5\t3\t4\t0\t0\t0\t252.00\t331.69\t24.00\t12.00\t100\t机密\n"
	"3\t3\t5\t0\t0\t0\t288.000000\t331.692000\t72.000000\t12.000000\t-1\t###FLOW###\n"
	"4\t3\t5\t0\t0\t0\t288.000000\t331.692000\t72.000000\t12.000000\t-1\t###LINE###\n"
	"5\t3\t5\t0\t0\t0\t288.00\t331.69\t72.00\t12.00\t100\tamount\n";

static const char IMAGE2[] = HDR
	"1\t1\t0\t0\t0\t0\t0.000000\t0.000000\t595.000000\t842.000000\t-1\t###PAGE###\n"
	"1\t2\t0\t0\t0\t0\t0.000000\t0.000000\t595.000000\t842.000000\t-1\t###PAGE###\n";

static const char LINES[] = HDR
	"1\t1\t0\t0\t0\t0\t0.000000\t0.000000\t600.000000\t780.000000\t-1\t###PAGE###\n"
	"3\t1\t0\t0\t0\t0\t72.000000\t71.384000\t78.684000\t25.100000\t-1\t###FLOW###\n"
	"4\t1\t0\t0\t0\t0\t72.000000\t71.384000\t78.684000\t11.100000\t-1\t###LINE###\n"
	"5\t1\t0\t0\t0\t0\t72.00\t71.38\t27.34\t11.10\t100\tHello\n"
	"5\t1\t0\t0\t0\t1\t102.67\t71.38\t16.01\t11.10\t100\tbig\n"
	"5\t1\t0\t0\t0\t2\t122.02\t71.38\t28.67\t11.10\t100\tworld\n"
	"4\t1\t0\t0\t1\t0\t72.000000\t85.384000\t60.696000\t11.100000\t-1\t###LINE###\n"
	"5\t1\t0\t0\t1\t0\t72.00\t85.38\t38.69\t11.10\t100\tsecond\n"
	"5\t1\t0\t0\t1\t1\t114.02\t85.38\t18.67\t11.10\t100\tline\n"
	"3\t1\t1\t0\t0\t0\t300.000000\t671.384000\t58.692000\t11.100000\t-1\t###FLOW###\n"
	"4\t1\t1\t0\t0\t0\t300.000000\t671.384000\t58.692000\t11.100000\t-1\t###LINE###\n"
	"5\t1\t1\t0\t0\t0\t300.00\t671.38\t27.35\t11.10\t100\tother\n"
	"5\t1\t1\t0\t0\t1\t330.68\t671.38\t28.01\t11.10\t100\tblock\n";

static int
parse(const char *s, struct pdftsv *d)
{
	return pdftsv_parse((const uint8_t *)s, strlen(s), d);
}

/* What parsing s returns; the result is freed, and must be all zero then. */
static int
parse_rc(const char *s)
{
	struct pdftsv d;
	int rc = parse(s, &d);

	pdftsv_free(&d);
	if (d.text != NULL || d.words != NULL || d.page_w != NULL || d.page_h != NULL ||
	    d.nwords != 0 || d.npages != 0)
		return 1000;	/* not an sb_err: the CHECK_RC prints it */
	return rc;
}

/* The text of word i of d, in a static buffer. */
static const char *
word_text(const struct pdftsv *d, size_t i)
{
	static char w[512];

	if (i >= d->nwords || d->words[i].len >= sizeof(w))
		return NULL;
	memcpy(w, d->text + d->words[i].off, d->words[i].len);
	w[d->words[i].len] = '\0';
	return w;
}

/* ---- parsing ----------------------------------------------------------- */

static void
t_parse_real(void)
{
	struct pdftsv d;

	CHECK_RC(parse(REAL3, &d), 0);
	CHECK_STR(d.text, "Page\n1\nPage\n2\n甲方（盖章）：\nPage\n3\nContract\ntotal\n"
	    "机密\namount");
	CHECK(d.text_len == strlen(d.text));
	CHECK(d.npages == 3);
	for (int i = 0; i < 3; i++)
		CHECK(d.page_w[i] == 595.0 && d.page_h[i] == 842.0);
	CHECK(d.nwords == 11);
	CHECK_STR(word_text(&d, 4), "甲方（盖章）：");
	CHECK(d.words[4].page == 2);
	CHECK(d.words[4].x0 == 100.0 && d.words[4].x1 == 100.0 + 98.0);
	CHECK(d.words[4].y0 == 529.97 && d.words[4].y1 == 529.97 + 14.0);
	CHECK(d.words[10].page == 3);
	CHECK_STR(word_text(&d, 10), "amount");
	CHECK(d.words[10].off + d.words[10].len == d.text_len);
	pdftsv_free(&d);
}

static void
t_parse_lines(void)
{
	struct pdftsv d;

	CHECK_RC(parse(LINES, &d), 0);
	CHECK_STR(d.text, "Hello big world\nsecond line\nother block");
	CHECK(d.npages == 1 && d.page_w[0] == 600.0 && d.page_h[0] == 780.0);
	CHECK(d.nwords == 7);
	CHECK_STR(word_text(&d, 1), "big");
	CHECK(d.words[1].off == 6 && d.words[1].len == 3);
	CHECK(d.words[1].x0 == 102.67 && d.words[1].x1 == 102.67 + 16.01);
	CHECK(d.words[1].y0 == 71.38 && d.words[1].y1 == 71.38 + 11.10);
	CHECK_STR(word_text(&d, 5), "other");
	CHECK(d.words[5].off == 28);
	/* letters only: HellobigworldsecondlineotherBlock */
	CHECK(d.usable == 33);
	pdftsv_free(&d);
}

static void
t_parse_usable(void)
{
	struct pdftsv d;

	/* usable: a b c 1 2 3 é 甲 方 (9); not: U+FFFD, U+E000 and U+F0000
	 * (private use), U+3000, U+200B, U+FEFF, '-', '.', '(' */
	CHECK_RC(parse(HDR PAGE1 WORD1("abc") WORD1("123") WORD1("\xc3\xa9") WORD1("甲方")
	    WORD1("\xef\xbf\xbd") WORD1("\xee\x80\x80") WORD1("\xf3\xb0\x80\x80")
	    WORD1("\xe3\x80\x80") WORD1("\xe2\x80\x8b") WORD1("\xef\xbb\xbf") WORD1("-.("),
	    &d), 0);
	CHECK(d.usable == 9);
	CHECK(d.nwords == 11);
	pdftsv_free(&d);
	/* A document of replacement characters only has no usable text. */
	CHECK_RC(parse(HDR PAGE1 WORD1("\xef\xbf\xbd\xef\xbf\xbd"), &d), 0);
	CHECK(d.usable == 0 && d.text_len == 6);
	pdftsv_free(&d);
}

static void
t_parse_image(void)
{
	struct pdftsv d;

	CHECK_RC(parse(IMAGE2, &d), 0);
	CHECK(d.npages == 2 && d.page_w[1] == 595.0 && d.page_h[1] == 842.0);
	CHECK(d.nwords == 0 && d.usable == 0);
	CHECK_STR(d.text, "");
	CHECK(d.text_len == 0);
	pdftsv_free(&d);
	pdftsv_free(&d);	/* free zeroes: a second free is harmless */
	pdftsv_free(NULL);
}

static void
t_parse_no_final_newline(void)
{
	struct pdftsv d;
	char s[sizeof(LINES)];

	memcpy(s, LINES, sizeof(LINES));
	s[strlen(s) - 1] = '\0';
	CHECK_RC(parse(s, &d), 0);
	CHECK(d.nwords == 7);
	CHECK_STR(word_text(&d, 6), "block");
	pdftsv_free(&d);
}

/* ---- refusals ---------------------------------------------------------- */

static void
t_refuse_header(void)
{
	CHECK_RC(parse_rc(""), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1), 0);	/* (reference: a header and a page are read) */
	CHECK_RC(parse_rc(HDR), SB_EINVAL);	/* no page at all: pdftotext writes each */
	CHECK_RC(parse_rc(PAGE1), SB_EINVAL);	/* no header */
	CHECK_RC(parse_rc(HDR + 1), SB_EINVAL);	/* "evel\t..." */
	CHECK_RC(parse_rc("level\tpage_num\tpar_num\tblock_num\tline_num\tword_num\tleft\t"
	    "top\twidth\theight\tconf\n" PAGE1), SB_EINVAL);	/* no text column */
	CHECK_RC(parse_rc("level\tpage_num\tpar_num\tblock_num\tline_num\tword_num\tleft\t"
	    "top\twidth\theight\tconf\ttext\r\n" PAGE1), SB_EINVAL);
	CHECK_RC(parse_rc("level\tpage_num\tpar_num\tblock_num\tline_num\tword_num\tleft\t"
	    "top\twidth\theight\tconf\ttext"), SB_EINVAL);	/* no newline at all */
	CHECK_RC(parse_rc("LEVEL\tpage_num\tpar_num\tblock_num\tline_num\tword_num\tleft\t"
	    "top\twidth\theight\tconf\ttext\n" PAGE1), SB_EINVAL);
	/* two headers */
	CHECK_RC(parse_rc(HDR HDR PAGE1), SB_EINVAL);
}

static void
t_refuse_fields(void)
{
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("x")), 0);	/* reference */
	/* 11 fields: the text is missing */
	CHECK_RC(parse_rc(HDR PAGE1 "5\t1\t0\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t100\n"),
	    SB_EINVAL);
	/* 13 fields: a tab in the text, or one more column */
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("a\tb")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("x\t")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR "1\t1\t0\t0\t0\t0\t0.000000\t0.000000\t595.000000\t842.000000\t"
	    "-1\t###PAGE###\textra\n"), SB_EINVAL);
	/* 11 fields on a page row */
	CHECK_RC(parse_rc(HDR "1\t1\t0\t0\t0\t0\t0.000000\t595.000000\t842.000000\t-1\t"
	    "###PAGE###\n"), SB_EINVAL);
	/* an empty line, anywhere */
	CHECK_RC(parse_rc(HDR PAGE1 "\n" WORD1("x")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("x") "\n"), SB_EINVAL);
	/* an empty word */
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("")), SB_EINVAL);
}

static void
t_refuse_numbers(void)
{
	static const char *const bad[] = {
		"", "-", ".", "72.0x", "x72", " 72.00", "72.00 ", "+72.00", "7.2e1", "1e5",
		"nan", "inf", "-inf", "0x48", "72,00", "1.2.3", "1000001.00", "-1000001.00",
		"123456789012345678901234567890123.0",
	};
	char s[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* as left, top, width, height */
		snprintf(s, sizeof(s), HDR PAGE1 "5\t1\t0\t0\t0\t0\t%s\t51.69\t48.00\t12.00\t100\tx\n",
		    bad[i]);
		CHECK_RC(parse_rc(s), SB_EINVAL);
		snprintf(s, sizeof(s), HDR PAGE1 "5\t1\t0\t0\t0\t0\t72.00\t%s\t48.00\t12.00\t100\tx\n",
		    bad[i]);
		CHECK_RC(parse_rc(s), SB_EINVAL);
		snprintf(s, sizeof(s), HDR PAGE1 "5\t1\t0\t0\t0\t0\t72.00\t51.69\t%s\t12.00\t100\tx\n",
		    bad[i]);
		CHECK_RC(parse_rc(s), SB_EINVAL);
		snprintf(s, sizeof(s), HDR "1\t1\t0\t0\t0\t0\t0.000000\t0.000000\t595.000000\t%s\t"
		    "-1\t###PAGE###\n", bad[i]);
		CHECK_RC(parse_rc(s), SB_EINVAL);
	}
	/* negative left/top are numbers (text off the crop box), sizes are not */
	CHECK_RC(parse_rc(HDR PAGE1 "5\t1\t0\t0\t0\t0\t-3.50\t-1.00\t48.00\t12.00\t100\tx\n"), 0);
	CHECK_RC(parse_rc(HDR PAGE1 "5\t1\t0\t0\t0\t0\t72.00\t51.69\t-48.00\t12.00\t100\tx\n"),
	    SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 "5\t1\t0\t0\t0\t0\t72.00\t51.69\t48.00\t-12.00\t100\tx\n"),
	    SB_EINVAL);
	CHECK_RC(parse_rc(HDR "1\t1\t0\t0\t0\t0\t0.000000\t0.000000\t0.000000\t842.000000\t-1\t"
	    "###PAGE###\n"), SB_EINVAL);
	CHECK_RC(parse_rc(HDR "1\t1\t0\t0\t0\t0\t0.000000\t0.000000\t595.000000\t-842.000000\t-1\t"
	    "###PAGE###\n"), SB_EINVAL);
	/* integers: level 0..5, digits only */
	CHECK_RC(parse_rc(HDR PAGE1 "6\t1\t0\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t100\tx\n"),
	    SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 "0\t1\t0\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t100\tx\n"),
	    SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 "5\t1\t-1\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t100\tx\n"),
	    SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 "5\t1\t0\t0\t0\t\t72.00\t51.69\t48.00\t12.00\t100\tx\n"),
	    SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 "5\t1\t0\t0\t99999999999\t0\t72.00\t51.69\t48.00\t12.00\t"
	    "100\tx\n"), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 "5\t1.0\t0\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t100\tx\n"),
	    SB_EINVAL);
}

static void
t_refuse_order(void)
{
	/* a word (or a flow, a line) before any page row */
	CHECK_RC(parse_rc(HDR WORD1("x") PAGE1), SB_EINVAL);
	CHECK_RC(parse_rc(HDR "5\t0\t0\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t100\tx\n" PAGE1),
	    SB_EINVAL);
	CHECK_RC(parse_rc(HDR "3\t1\t0\t0\t0\t0\t72.000000\t51.692000\t48.000000\t12.000000\t-1\t"
	    "###FLOW###\n" PAGE1), SB_EINVAL);
	/* pages out of order, repeated, skipped, or starting at 0 */
	CHECK_RC(parse_rc(HDR PAGE2 PAGE1), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 PAGE1), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 "1\t3\t0\t0\t0\t0\t0.000000\t0.000000\t595.000000\t842.000000\t"
	    "-1\t###PAGE###\n"), SB_EINVAL);
	CHECK_RC(parse_rc(HDR "1\t0\t0\t0\t0\t0\t0.000000\t0.000000\t595.000000\t842.000000\t-1\t"
	    "###PAGE###\n"), SB_EINVAL);
	/* a word on a page other than the last page row's */
	CHECK_RC(parse_rc(HDR PAGE1 PAGE2 WORD1("x")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 "5\t2\t0\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t100\tx\n"),
	    SB_EINVAL);
	/* a flow or line row of another page */
	CHECK_RC(parse_rc(HDR PAGE1 "4\t2\t0\t0\t0\t0\t72.000000\t51.692000\t48.000000\t12.000000\t"
	    "-1\t###LINE###\n"), SB_EINVAL);
}

static void
t_refuse_text(void)
{
	/* not UTF-8: a stray byte, an overlong '/', a surrogate, a cut character,
	 * a stray continuation, past U+10FFFF */
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("a\xff")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("\xc0\xaf")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("\xed\xa0\x80")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("甲\xe6\x96")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("\x80" "a")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("\xf4\x90\x80\x80")), SB_EINVAL);
	/* control characters: C0, DEL, CR (a CRLF line), NUL */
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("a\x01z")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("a\x1fz")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("a\x7fz")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("x\r")), SB_EINVAL);
	/* C1 controls (NEL) and the Unicode line and paragraph separators */
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("a\xc2\x85z")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("a\xe2\x80\xa8z")), SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("a\xe2\x80\xa9z")), SB_EINVAL);
	/* a page, flow or line row's text is pdftotext's marker; conf is -1 or 0..100 */
	CHECK_RC(parse_rc(HDR "1\t1\t0\t0\t0\t0\t0.0\t0.0\t595.0\t842.0\t-1\t###PAGE\n"),
	    SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 "3\t1\t0\t0\t0\t0\t0.0\t0.0\t5.0\t8.0\t-1\t###LINE###\n"),
	    SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 "4\t1\t0\t0\t0\t0\t0.0\t0.0\t5.0\t8.0\t-1\t###LINE###\n"), 0);
	CHECK_RC(parse_rc(HDR PAGE1 "5\t1\t0\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t101\tx\n"),
	    SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 "5\t1\t0\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t-2\tx\n"),
	    SB_EINVAL);
	CHECK_RC(parse_rc(HDR PAGE1 "2\t1\t0\t0\t0\t0\t0.0\t0.0\t5.0\t8.0\t-1\t###FLOW###\n"),
	    SB_EINVAL);
	{
		static const char nul[] = HDR PAGE1 WORD1("a\0z");
		struct pdftsv d;

		CHECK_RC(pdftsv_parse((const uint8_t *)nul, sizeof(nul) - 1, &d), SB_EINVAL);
		pdftsv_free(&d);
	}
	/* a bad word after good ones: the whole output is refused */
	CHECK_RC(parse_rc(HDR PAGE1 WORD1("good") WORD1("words") PAGE2
	    "5\t2\t0\t0\t0\t0\t72.00\t51.69\t48.00\t12.00\t100\tbad\xff\n"), SB_EINVAL);
}

/* Words of 16 bytes on one line, then extra (may be ""): text_len is
 * 17 * n - 1 + (extra ? 1 + strlen(extra) : 0). */
static int
big(size_t n, const char *extra, struct buf *b)
{
	char row[128];
	int rc;

	buf_init(b, 64u * 1024 * 1024);
	rc = buf_append(b, HDR PAGE1, strlen(HDR PAGE1));
	for (size_t i = 0; rc == 0 && i < n; i++) {
		snprintf(row, sizeof(row), "5\t1\t0\t0\t0\t%zu\t1.00\t2.00\t3.00\t4.00\t100\tw%015zu\n",
		    i, i);
		rc = buf_append(b, row, strlen(row));
	}
	if (rc == 0 && extra[0] != '\0') {
		snprintf(row, sizeof(row), "5\t1\t0\t0\t0\t0\t1.00\t2.00\t3.00\t4.00\t100\t%s\n", extra);
		rc = buf_append(b, row, strlen(row));
	}
	return rc;
}

static void
t_parse_long(void)
{
	struct pdftsv d;
	struct pdftsv_hit hit;
	struct buf b;
	int rc;

	/* 1000 words, 17 KB of text: an ordinary contract has more */
	CHECK(big(1000, "", &b) == 0);
	rc = pdftsv_parse(b.data, b.len, &d);
	buf_free(&b);
	if (rc != 0)
		pdftsv_free(&d);
	CHECK_RC(rc, 0);
	CHECK(d.nwords == 1000 && d.text_len == 17 * 1000 - 1);
	CHECK_RC(pdftsv_find(&d, "w000000000000999", 0, &hit), 0);
	pdftsv_free(&d);
}

static void
t_refuse_big(void)
{
	/* PDFTSV_TEXT_MAX + 1 = 2^20 + 1 = 17 * 61681 */
	const size_t n = (PDFTSV_TEXT_MAX + 1) / 17;
	struct pdftsv d;
	struct pdftsv_hit hit;
	struct buf b;
	int rc;

	CHECK((PDFTSV_TEXT_MAX + 1) % 17 == 0);
	CHECK(big(n, "", &b) == 0);
	rc = pdftsv_parse(b.data, b.len, &d);
	buf_free(&b);
	if (rc != 0)
		pdftsv_free(&d);
	CHECK_RC(rc, 0);
	CHECK(d.text_len == PDFTSV_TEXT_MAX && strlen(d.text) == PDFTSV_TEXT_MAX);
	CHECK(d.nwords == n);
	CHECK_RC(pdftsv_find(&d, "w000000000061680", 0, &hit), 0);
	CHECK_RC(pdftsv_find(&d, "w000000000061681", 0, &hit), SB_ENOTFOUND);
	pdftsv_free(&d);
	/* one byte more */
	CHECK(big(n, "a", &b) == 0);
	rc = pdftsv_parse(b.data, b.len, &d);
	pdftsv_free(&d);
	buf_free(&b);
	CHECK_RC(rc, SB_ELIMIT);
	/* one word over the limit by itself */
	buf_init(&b, 4u * 1024 * 1024);
	CHECK(buf_append(&b, HDR PAGE1 "5\t1\t0\t0\t0\t0\t1.00\t2.00\t3.00\t4.00\t100\t",
	    strlen(HDR PAGE1 "5\t1\t0\t0\t0\t0\t1.00\t2.00\t3.00\t4.00\t100\t")) == 0);
	for (size_t i = 0; i <= PDFTSV_TEXT_MAX; i += 64)
		CHECK(buf_append(&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    64) == 0);
	rc = pdftsv_parse(b.data, b.len, &d);
	pdftsv_free(&d);
	buf_free(&b);
	CHECK_RC(rc, SB_ELIMIT);
}

/* ---- finding ----------------------------------------------------------- */

static void
t_find_in_word(void)
{
	struct pdftsv d;
	struct pdftsv_hit hit;

	CHECK_RC(parse(REAL3, &d), 0);
	memset(&hit, 0, sizeof(hit));
	CHECK_RC(pdftsv_find(&d, "甲方（盖章）", 0, &hit), 0);
	/* 6 of the word's 7 characters, each 98 / 7 = 14 wide */
	CHECK(hit.page == 2);
	CHECK(hit.x0 == 100.0 && hit.x1 == 184.0);
	CHECK(hit.y0 == 529.97 && hit.y1 == 529.97 + 14.0);
	CHECK(hit.page_w == 595.0 && hit.page_h == 842.0);
	/* the middle of the word: characters 3 and 4 */
	CHECK_RC(pdftsv_find(&d, "盖章", 0, &hit), 0);
	CHECK(hit.page == 2 && hit.x0 == 142.0 && hit.x1 == 170.0);
	/* the whole word */
	CHECK_RC(pdftsv_find(&d, "甲方（盖章）：", 2, &hit), 0);
	CHECK(hit.x0 == 100.0 && hit.x1 == 198.0);
	pdftsv_free(&d);
}

static void
t_find_across(void)
{
	struct pdftsv d;
	struct pdftsv_hit hit;

	CHECK_RC(parse(REAL3, &d), 0);
	/* two words (two flows): the union of their boxes */
	CHECK_RC(pdftsv_find(&d, "Contract total", 0, &hit), 0);
	CHECK(hit.page == 3 && hit.x0 == 72.0 && hit.x1 == 240.0);
	CHECK(hit.y0 == 331.69 && hit.y1 == 331.69 + 12.0);
	/* white space is ignored in the needle, ASCII or not */
	CHECK_RC(pdftsv_find(&d, "Contracttotal", 0, &hit), 0);
	CHECK(hit.page == 3 && hit.x0 == 72.0 && hit.x1 == 240.0);
	CHECK_RC(pdftsv_find(&d, " \tContract\n total \xe3\x80\x80", 0, &hit), 0);
	CHECK(hit.page == 3 && hit.x0 == 72.0 && hit.x1 == 240.0);
	CHECK_RC(pdftsv_find(&d, "Contract\xe3\x80\x80total", 0, &hit), 0);
	CHECK(hit.x1 == 240.0);
	/* part of one word and part of the next */
	CHECK_RC(pdftsv_find(&d, "tal 机", 0, &hit), 0);
	CHECK(hit.page == 3 && hit.x0 == 180.0 + 24.0 && hit.x1 == 264.0);
	/* the rest must match exactly */
	CHECK_RC(pdftsv_find(&d, "contract total", 0, &hit), SB_ENOTFOUND);
	CHECK_RC(pdftsv_find(&d, "Contract-total", 0, &hit), SB_ENOTFOUND);
	pdftsv_free(&d);

	/* across lines: the union in y too */
	CHECK_RC(parse(LINES, &d), 0);
	CHECK_RC(pdftsv_find(&d, "world second", 0, &hit), 0);
	CHECK(hit.page == 1 && hit.x0 == 72.0 && hit.x1 == 122.02 + 28.67);
	CHECK(hit.y0 == 71.38 && hit.y1 == 85.38 + 11.10);
	CHECK(hit.page_w == 600.0 && hit.page_h == 780.0);
	CHECK_RC(pdftsv_find(&d, "bigworld", 0, &hit), 0);
	CHECK(hit.x0 == 102.67 && hit.x1 == 122.02 + 28.67 && hit.y1 == 71.38 + 11.10);
	pdftsv_free(&d);
}

static void
t_find_page(void)
{
	struct pdftsv d;
	struct pdftsv_hit hit;

	CHECK_RC(parse(REAL3, &d), 0);
	/* the first in reading order, or the one on the page asked for */
	CHECK_RC(pdftsv_find(&d, "Page", 0, &hit), 0);
	CHECK(hit.page == 1);
	CHECK_RC(pdftsv_find(&d, "Page", 3, &hit), 0);
	CHECK(hit.page == 3 && hit.x0 == 72.0);
	CHECK_RC(pdftsv_find(&d, "Contract total", 3, &hit), 0);
	CHECK(hit.page == 3);
	CHECK_RC(pdftsv_find(&d, "Contract total", 1, &hit), SB_ENOTFOUND);
	CHECK_RC(pdftsv_find(&d, "Contract total", 2, &hit), SB_ENOTFOUND);
	CHECK_RC(pdftsv_find(&d, "Contract total", 4, &hit), SB_ENOTFOUND);
	CHECK_RC(pdftsv_find(&d, "甲方", 2, &hit), 0);
	CHECK_RC(pdftsv_find(&d, "甲方", 3, &hit), SB_ENOTFOUND);
	/* a phrase is not found across a page break */
	CHECK_RC(pdftsv_find(&d, "Page 1 Page", 0, &hit), SB_ENOTFOUND);
	CHECK_RC(pdftsv_find(&d, "Page1", 0, &hit), 0);
	pdftsv_free(&d);
}

static void
t_find_absent(void)
{
	struct pdftsv d;
	struct pdftsv_hit hit;
	char n[PDFTSV_NEEDLE_MAX + 1];

	CHECK_RC(parse(REAL3, &d), 0);
	CHECK_RC(pdftsv_find(&d, "乙方", 0, &hit), SB_ENOTFOUND);
	CHECK_RC(pdftsv_find(&d, "amounts", 0, &hit), SB_ENOTFOUND);
	CHECK_RC(pdftsv_find(&d, "###PAGE###", 0, &hit), SB_ENOTFOUND);
	/* 255 bytes is a needle (not found), as is 85 ideographs */
	memset(n, 'a', PDFTSV_NEEDLE_MAX);
	n[PDFTSV_NEEDLE_MAX] = '\0';
	CHECK_RC(pdftsv_find(&d, n, 0, &hit), SB_ENOTFOUND);
	n[0] = '\0';
	for (int i = 0; i < PDFTSV_NEEDLE_MAX / 3; i++)
		strcat(n, "甲");
	CHECK_RC(pdftsv_find(&d, n, 0, &hit), SB_ENOTFOUND);
	pdftsv_free(&d);

	CHECK_RC(parse(IMAGE2, &d), 0);
	CHECK_RC(pdftsv_find(&d, "Page", 0, &hit), SB_ENOTFOUND);
	CHECK_RC(pdftsv_find(&d, "Page", 1, &hit), SB_ENOTFOUND);
	pdftsv_free(&d);
}

static void
t_find_bad_needle(void)
{
	struct pdftsv d;
	struct pdftsv_hit hit;
	char n[PDFTSV_NEEDLE_MAX + 2];

	CHECK_RC(parse(REAL3, &d), 0);
	CHECK_RC(pdftsv_find(&d, "", 0, &hit), SB_EINVAL);
	CHECK_RC(pdftsv_find(&d, " ", 0, &hit), SB_EINVAL);
	CHECK_RC(pdftsv_find(&d, " \t\r\n", 0, &hit), SB_EINVAL);
	CHECK_RC(pdftsv_find(&d, "\xe3\x80\x80\xc2\xa0\xe2\x80\x8b", 0, &hit), SB_EINVAL);
	/* 256 bytes, even with a match inside */
	memset(n, ' ', PDFTSV_NEEDLE_MAX + 1);
	memcpy(n, "Page", 4);
	n[PDFTSV_NEEDLE_MAX + 1] = '\0';
	CHECK_RC(pdftsv_find(&d, n, 0, &hit), SB_EINVAL);
	n[PDFTSV_NEEDLE_MAX] = '\0';
	CHECK_RC(pdftsv_find(&d, n, 0, &hit), 0);	/* 255: "Page" and blanks */
	/* not UTF-8 */
	CHECK_RC(pdftsv_find(&d, "\xff", 0, &hit), SB_EINVAL);
	CHECK_RC(pdftsv_find(&d, "甲\xe6\x96", 0, &hit), SB_EINVAL);
	CHECK_RC(pdftsv_find(&d, "\xed\xa0\x80", 0, &hit), SB_EINVAL);
	CHECK_RC(pdftsv_find(&d, "Page\xc0\xaf", 0, &hit), SB_EINVAL);
	pdftsv_free(&d);
	/* also with no words to look in */
	CHECK_RC(parse(IMAGE2, &d), 0);
	CHECK_RC(pdftsv_find(&d, "", 0, &hit), SB_EINVAL);
	CHECK_RC(pdftsv_find(&d, "\xff", 0, &hit), SB_EINVAL);
	pdftsv_free(&d);
}

static void
t_free_paths(void)
{
	struct pdftsv d;

	/* refused after pages and words were allocated: free releases them */
	CHECK_RC(parse(HDR PAGE1 WORD1("a") WORD1("b") PAGE2 "bad\n", &d), SB_EINVAL);
	pdftsv_free(&d);
	CHECK(d.text == NULL && d.words == NULL && d.page_w == NULL && d.npages == 0);
	/* refused by add_page after it grew the page arrays */
	CHECK_RC(parse(HDR PAGE1 "1\t2\t0\t0\t0\t0\t0.000000\t0.000000\t0.000000\t842.000000\t-1\t"
	    "###PAGE###\n", &d), SB_EINVAL);
	pdftsv_free(&d);
	/* parse zeroes d first: a struct full of garbage is no problem */
	memset(&d, 0xa5, sizeof(d));
	CHECK_RC(parse("", &d), SB_EINVAL);
	pdftsv_free(&d);
	memset(&d, 0xa5, sizeof(d));
	CHECK_RC(parse(LINES, &d), 0);
	pdftsv_free(&d);
}

int
main(void)
{
	RUN(t_parse_real, "real 3-page output: words joined with '\\n' between lines, "
	    "page sizes, npages, word boxes and offsets");
	RUN(t_parse_lines, "words of one line are joined with ' ', a new line or flow "
	    "starts with '\\n'; CropBox page size; usable counts letters");
	RUN(t_parse_usable, "usable counts letters, digits and ideographs, not U+FFFD, "
	    "private use, U+3000, U+200B, U+FEFF or ASCII punctuation");
	RUN(t_parse_image, "an image-only output (page rows, no words) parses: usable 0, "
	    "text \"\"; free twice and free(NULL) are harmless");
	RUN(t_parse_no_final_newline, "the last line may lack its newline");
	RUN(t_refuse_header, "empty input, a missing, cut, CRLF, differently spelt or "
	    "repeated header is SB_EINVAL");
	RUN(t_refuse_fields, "11 or 13 fields, a tab in a word, an empty line or an empty "
	    "word is SB_EINVAL");
	RUN(t_refuse_numbers, "a coordinate that is not [-]digits[.digits] in +-1e6, a "
	    "negative size, a zero page size, a bad integer field is SB_EINVAL");
	RUN(t_refuse_order, "a word or flow before any page row, pages out of order, "
	    "repeated or skipped, a word of another page is SB_EINVAL");
	RUN(t_refuse_text, "invalid UTF-8, a control character (C0, C1, DEL, CR, NUL) or a line separator in a "
	    "word is SB_EINVAL, even after good words");
	RUN(t_parse_long, "an output with 17 KB of text (1000 words) parses: the text "
	    "buffer may grow to PDFTSV_TEXT_MAX");
	RUN(t_refuse_big, "text of exactly PDFTSV_TEXT_MAX bytes parses (and is searched); "
	    "one byte more, or one huge word, is SB_ELIMIT");
	RUN(t_find_in_word, "a phrase inside a word gets its characters' share of the box: "
	    "甲方（盖章） in 甲方（盖章）： at 100..198 is 100..184 on page 2 of 595x842");
	RUN(t_find_across, "white space in the needle and between words is ignored; a "
	    "phrase across words or lines gets the union of the boxes");
	RUN(t_find_page, "a page restricts the search (Contract total only on page 3), "
	    "page 0 gives the first in reading order, no match across pages");
	RUN(t_find_absent, "an absent phrase (also a 255-byte one, also in an image-only "
	    "output) is SB_ENOTFOUND");
	RUN(t_find_bad_needle, "an empty or blank needle, one over PDFTSV_NEEDLE_MAX bytes "
	    "or not UTF-8 is SB_EINVAL");
	RUN(t_free_paths, "pdftsv_free after each refusal frees what parsing had made "
	    "and zeroes the struct");
	return check_done();
}
