/*
 * pdf — PAdES sealing of a PDF by incremental update, as a library.
 *
 * The net worker (sandboxed: no files, no exec, memory only) prepares a
 * sealed copy of an untrusted PDF with pdf_prepare: the original bytes
 * unchanged, then one appended update holding the seal's image, a signature
 * field (widget) on the requested page and a signature dictionary whose
 * /Contents is a run of '0' hex digits. It hashes the two byte ranges with
 * pdf_range_digest, has the monitor sign the digest (a DER CMS,
 * /SubFilter /ETSI.CAdES.detached) and writes it in with pdf_splice.
 * Earlier signatures stay valid because nothing before the update changes.
 * docs/pdf.md describes the update object by object, the limits and the
 * error codes.
 *
 * The document is read with qpdf (never parsed here by hand, but for the
 * "startxref" at its end, which qpdf does not expose). qpdf cannot write an
 * incremental update, so the update is written here, from objects qpdf
 * unparses. A document qpdf had to repair, or warned about, is refused: what
 * we append must describe the same objects every reader sees.
 *
 * This module never does file IO, never runs a program, never reads the
 * environment and never prints (qpdf is silenced).
 *
 * Threads: calls on different documents may run at once (each call has its
 * own qpdf object); a struct pdf_prepared belongs to one thread at a time.
 */
#ifndef SB_FORMATS_PDF_H
#define SB_FORMATS_PDF_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#define PDF_CONTENTS_DEFAULT 32768	/* CMS bytes reserved when contents_max is 0 */
#define PDF_CONTENTS_MAX (512 * 1024)	/* largest contents_max accepted */
#define PDF_OBJECTS_DEFAULT 100000	/* max_objects when 0 */
#define PDF_TEXT_MAX 512		/* longest reason, location, name, field_name (bytes) */
#define PDF_IMAGE_SIDE_MAX 2048		/* widest and tallest seal image (pixels) */
#define PDF_CROSS_PAGES_MAX 64		/* most pages a cross-page seal spans */
#define PDF_AT_MAX 64			/* most places of one seal (pdf_opts.at) */

/* One place of the whole image: page (1-based) and lower-left corner. */
struct pdf_at {
	unsigned page;
	double x, y;
};

struct pdf_opts {
	unsigned page;		/* 1-based page number */
	double x, y, w, h;	/* the seal's rectangle in points, from the lower-left
				   corner of the page's CropBox (MediaBox if none);
				   h 0 = from w and the image's aspect ratio */
	int cross_page;		/* non-zero: a cross-page seal (骑缝章): the image cut
				   into one vertical slice per page (2 to
				   PDF_CROSS_PAGES_MAX pages), slice i on page i
				   against the box's right edge at height y, each
				   w/n wide; page and x are ignored. One signature
				   field, one widget per page (/Kids) */
	const struct pdf_at *at;	/* nat > 0: the whole image, w x h, at each of
				   these places (1 to PDF_AT_MAX; several may share
				   a page); page, x, y and cross_page are ignored.
				   One signature field; with several places, one
				   widget each (/Kids), sharing one image */
	unsigned nat;
	const uint8_t *png;	/* the seal's appearance, a PNG; transparency kept */
	size_t png_len;
	const char *field_name;	/* /T of the signature field, not yet used by a
				   top-level field; NULL = "Seal<n>", n one more
				   than the largest such n in use (1 if none) */
	const char *reason;	/* UTF-8; NULL = left out */
	const char *location;	/* UTF-8; NULL = left out */
	const char *name;	/* UTF-8; NULL = left out */
	time_t when;		/* /M, written in UTC */
	size_t contents_max;	/* bytes reserved for the DER CMS; 0 = PDF_CONTENTS_DEFAULT */
	size_t max_objects;	/* refuse a document whose /Size is larger; 0 = PDF_OBJECTS_DEFAULT */
};

struct pdf_prepared {
	uint8_t *data;		/* original bytes + the update; owned, see pdf_prepared_free */
	size_t len;
	size_t orig_len;	/* the original's length (the update starts here) */
	size_t range[4];	/* the /ByteRange written in the file: 0, a, b, c */
	size_t contents_off;	/* offset of the first hex digit inside /Contents <...> */
	size_t contents_hex;	/* hex digits reserved: 2 * contents_max */
	unsigned page_count;	/* pages in the document */
};

/*
 * Why pdf_prepare refused: status is the HTTP status to answer with (422
 * for a document we will not seal, 400 for options that do not fit it, 500
 * for our own failure), code a stable snake_case name, message one sentence
 * for a person. Codes: pdf_not_pdf, pdf_encrypted, pdf_damaged,
 * pdf_too_many_objects, pdf_certified (422); pdf_bad_page,
 * pdf_bad_placement, pdf_bad_image, pdf_bad_option, pdf_field_exists (400);
 * pdf_internal (500). docs/pdf.md says when each is given.
 */
struct pdf_err {
	int status;
	char code[48];
	char message[256];
};

/*
 * Prepare a sealed copy of the PDF in (len bytes; the caller bounds len,
 * which must stay below 4 GiB) as described above. On success *out holds
 * the new document (free it with pdf_prepared_free) with /Contents all '0'
 * and the /ByteRange already written; it has been read back with qpdf
 * (recovery off, no warning) before it is returned. e may be NULL; on
 * failure it says why and *out is empty. in must not change during the
 * call; it is not kept.
 * Errors: SB_EINVAL (a document or option refused: see e), SB_ELIMIT (more
 * objects than max_objects, an image or text over its limit, contents_max
 * over PDF_CONTENTS_MAX), SB_ENOMEM.
 */
int pdf_prepare(const uint8_t *in, size_t len, const struct pdf_opts *o,
    struct pdf_prepared *out, struct pdf_err *e);

/*
 * The digest with md of the bytes p->range covers (everything but the
 * /Contents hex string and its angle brackets). out must hold
 * EVP_MAX_MD_SIZE bytes; *out_len gets the length.
 * Errors: SB_EINVAL (p not prepared), SB_ECRYPTO.
 */
int pdf_range_digest(const struct pdf_prepared *p, const EVP_MD *md,
    uint8_t *out, unsigned *out_len);

/*
 * Write the DER CMS (cms_len bytes) into /Contents as hex; the rest of the
 * placeholder stays '0' (DER readers stop at the end of the outer SEQUENCE).
 * May be called again to replace it.
 * Errors: SB_EINVAL (p not prepared, cms NULL or empty), SB_ELIMIT (more
 * than contents_hex / 2 bytes); p is unchanged on error.
 */
int pdf_splice(struct pdf_prepared *p, const uint8_t *cms, size_t cms_len);

/* Free p's data and empty it; p NULL or already empty is fine. */
void pdf_prepared_free(struct pdf_prepared *p);

#endif
