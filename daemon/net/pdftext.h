/*
 * pdftext — reading a PDF's text with poppler's pdftotext, out of the net
 * worker's reach, and the net worker out of its.
 *
 * The net worker forks a text helper before it enters its sandbox
 * (pdftext_spawn). The helper wipes the TLS material it inherited, keeps
 * its one socket (SOCK_SEQPACKET) to the worker and closes every other
 * descriptor, drops to net.user, sets no-new-privileges and a seccomp
 * filter that refuses the network, debugging and kernel-changing calls,
 * and then reads one document at a time:
 *
 *   worker → helper   u32 id; a memfd holding the PDF (SCM_RIGHTS)
 *   helper → worker   u32 id, u8 status, u32 detail; when status is
 *                     PDFTEXT_OK, a memfd holding pdftotext's output
 *
 * For each document it forks a child that runs
 * `pdftotext -q -tsv -enc UTF-8 -cropbox - -` (pdf.pdftotext) with the
 * PDF as its standard input, a new memfd as its output, nothing else open,
 * an empty environment and limits: address space pdf.text_memory_mb, CPU
 * time pdf.text_seconds, output PDFTEXT_OUT_MAX bytes, no new processes,
 * no core file; a second seccomp filter of its own refuses opening a file
 * for writing, changing one and sending signals, and it dies with the
 * helper (PR_SET_PDEATHSIG). The helper kills it after pdf.text_seconds of
 * wall-clock time. The helper never reads a byte of the document or of the output:
 * the worker parses the output (formats/pdftsv.h), in its sandbox.
 *
 * When the worker ends, the helper reads end of file and exits (and is
 * killed if the worker dies: PR_SET_PDEATHSIG). When the helper ends, every
 * waiting document is answered PDFTEXT_GONE (their text cannot be checked),
 * and the worker's event loop stops a second later: the worker exits
 * non-zero and the parent starts a new one, with a new helper.
 */
#ifndef SB_NET_PDFTEXT_H
#define SB_NET_PDFTEXT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "../../lib/config.h"

#define PDFTEXT_OUT_MAX (16u * 1024 * 1024)	/* pdftotext's output, at most */
#define PDFTEXT_PENDING_MAX 64			/* documents waiting at once */

enum pdftext_status {
	PDFTEXT_OK = 0,		/* the output is in text, text_len */
	PDFTEXT_FAILED = 1,	/* pdftotext exited with status detail */
	PDFTEXT_KILLED = 2,	/* by signal detail (a limit: CPU, memory, output) */
	PDFTEXT_TIMEOUT = 3,	/* still running after pdf.text_seconds */
	PDFTEXT_UNAVAILABLE = 4,	/* the helper could not run it (errno detail) */
	PDFTEXT_NOEXEC = 5,	/* its child could not set up or exec it (exit
				   status detail: 126 or 127) */
	PDFTEXT_GONE = 6,	/* no helper: it ended, or could not be reached
				   (the worker's own; never on the wire) */
};

struct pdftext_result {
	enum pdftext_status status;
	int detail;
	const uint8_t *text;	/* PDFTEXT_OK: the output, valid during the call */
	size_t text_len;
};

/* One sentence for a person on why there is no text ("" for PDFTEXT_OK). */
void pdftext_why(const struct pdftext_result *r, const struct config *cfg, char *out,
    size_t outlen);

/*
 * Fork the helper (before the worker's sandbox). tls is wiped in the
 * helper (pass the worker's copy); every descriptor but its socket is
 * closed there. 0 and *fd, the worker's end; or -1 (logged).
 */
struct tlsmat;
int pdftext_spawn(const struct config *cfg, struct tlsmat *tls, int *fd);

/* The worker's side: the helper's socket fd (taken) on base. */
struct pdftext;
typedef void (*pdftext_cb)(void *arg, const struct pdftext_result *r);

/* 0, SB_ENOMEM or SB_EIO. */
int pdftext_new(struct event_base *base, int fd, struct pdftext **out);
/* Accepts NULL. Pending callbacks are not called. */
void pdftext_free(struct pdftext *t);

/*
 * Send a PDF (len bytes, copied) to be read; cb(arg, result) runs once,
 * later, from the event loop (never from within this call). 0, or SB_ELIMIT
 * (PDFTEXT_PENDING_MAX waiting), SB_ENOMEM, SB_EIO: then cb never runs.
 * A helper that is gone is not an error: cb gets PDFTEXT_GONE.
 */
int pdftext_submit(struct pdftext *t, const uint8_t *pdf, size_t len, pdftext_cb cb,
    void *arg);

#endif
