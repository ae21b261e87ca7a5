/*
 * pdfjob — one POST /v1/seals/{seal}/sign-pdf in the net worker, without
 * the network: the steps route.c runs between the monitor's answers.
 *
 *   pdfjob_new      the options (Sealbox-Options) checked, the PDF copied
 *   (text helper)   pdftotext's words (net/pdftext.h)
 *   pdfjob_text     the text for the monitor's sensitive-word check (or why
 *                   there is none), and where near_text puts the seal
 *   (monitor)       MSG_SEAL_IMAGE: the seal's PNG, if the caller may seal
 *   pdfjob_prepare  the sealed copy with an empty /Contents (formats/pdf.c),
 *                   and the PAdES MSG_SIGN over its ByteRange
 *   (monitor)       MSG_SIGN: the CMS, ledgered
 *   pdfjob_splice   the CMS written in; MSG_PDF_SEALED with the output's hash
 *   (monitor)       MSG_PDF_SEALED ledgered: the PDF may leave
 *   pdfjob_output   the sealed PDF
 *
 * Everything here reads untrusted bytes; a refusal fills a struct req_err
 * (status, stable code, message) as daemon/net/req.h does. No I/O: the unit
 * tests and the fuzzer drive it directly.
 */
#ifndef SB_NET_PDFJOB_H
#define SB_NET_PDFJOB_H

#include <stddef.h>
#include <stdint.h>

#include "../../lib/config.h"
#include "../msg.h"
#include "req.h"

struct pdfjob;

/*
 * A job for the PDF (len bytes, copied) with the options header (NULL when
 * absent) for seal. The identity in v->who is the caller's to fill (as for
 * req_sign). 0, SB_EINVAL with e filled (400 bad_request or bad_json; 413
 * too_large over pdf.max_size), or SB_ENOMEM.
 */
int pdfjob_new(const struct config *cfg, const uint8_t *pdf, size_t len, const char *opts,
    const char *seal, struct pdfjob **out, struct req_err *e);
/* Accepts NULL. */
void pdfjob_free(struct pdfjob *j);

/* The sign message being built; its who is the caller's to fill. */
struct msg_sign *pdfjob_sign_msg(struct pdfjob *j);

/* The PDF as received, for the text helper. */
const uint8_t *pdfjob_input(const struct pdfjob *j, size_t *len);

/*
 * The text helper's answer (net/pdftext.h). Its words become the sign
 * message's text; a failure, a malformed output, a document with no
 * usable character or too much text leave the text out and say why
 * (msg_sign.text_unreadable). With near_text: the page and the point
 * right of its first occurrence. 0, or SB_EINVAL with e filled (422
 * pdf_text_unreadable when near_text was asked and there is no text,
 * 422 pdf_text_not_found), or SB_ENOMEM.
 */
struct pdftext_result;
int pdfjob_text(struct pdfjob *j, const struct pdftext_result *r, struct req_err *e);

/*
 * With the seal's PNG: the sealed copy with its placeholder, and the sign
 * message's digest (SHA-256 of the ByteRange) and input hash. 0, or
 * SB_EINVAL with e filled (422 pdf_* for the document, 400 pdf_* for
 * options that do not fit it), or SB_ENOMEM.
 */
int pdfjob_prepare(struct pdfjob *j, const uint8_t *png, size_t png_len, struct req_err *e);

/*
 * The CMS of a successful sign result written in; s gets the output's
 * SHA-256, length and r's sequence number (its who is the caller's). 0, or
 * SB_EINVAL with e filled (500: the CMS does not fit the placeholder).
 */
int pdfjob_splice(struct pdfjob *j, const struct msg_sign_result *r, struct msg_pdf_sealed *s,
    struct req_err *e);

/* The sealed PDF once spliced; NULL before. */
const uint8_t *pdfjob_output(const struct pdfjob *j, size_t *len);

#endif
