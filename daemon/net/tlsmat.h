/*
 * tlsmat — the TLS material as bytes: the server certificate chain, the
 * server key, the client CA bundle and the CRL named by tls.*.
 *
 * The net worker cannot read them itself once it serves: it is chrooted
 * and under seccomp. So the parent reads the files (at start and on
 * SIGHUP), a worker it forks inherits the bytes, and a worker already
 * running gets them over its reload socket. Nothing here parses a
 * certificate or a key (tls.c does, inside the sandbox); this module only
 * reads, frames and bounds bytes.
 *
 * The key's bytes live in secret memory (lib/secret.h); every buffer is
 * wiped when freed.
 *
 * Frame, parent to worker, one per reload: the 4 bytes "SBTM", four
 * big-endian 32-bit lengths (certificate, key, client CA, CRL), then the
 * four files' bytes in that order. Every length is at most TLSMAT_FILE_MAX;
 * only the CRL's may be 0 (tls.crl not set).
 */
#ifndef SB_NET_TLSMAT_H
#define SB_NET_TLSMAT_H

#include <stddef.h>
#include <stdint.h>

#include "../../lib/config.h"

#define TLSMAT_FILE_MAX (16u << 20)	/* bytes per file: a CRL of ~400k entries */
#define TLSMAT_HDR_LEN 20

enum tlsmat_part {
	TLSMAT_CERT,	/* tls.certificate: PEM, the leaf first */
	TLSMAT_KEY,	/* tls.key: PEM, not encrypted */
	TLSMAT_CA,	/* tls.client_ca: PEM */
	TLSMAT_CRL,	/* tls.crl: PEM or DER; empty when not configured */
	TLSMAT_PARTS
};

struct tlsmat {
	uint8_t *part[TLSMAT_PARTS];	/* the key's in secret memory */
	size_t len[TLSMAT_PARTS];
};

/* A frame being received: zero it before the first tlsmat_rx_read. */
struct tlsmat_rx {
	uint8_t hdr[TLSMAT_HDR_LEN];
	size_t hdr_got;
	struct tlsmat *m;	/* allocated once the header is in */
	int part;		/* the part being filled */
	size_t got;		/* bytes of it so far */
};

/* The config key naming a part ("tls.crl"), for messages. */
const char *tlsmat_key_name(enum tlsmat_part p);
/* The path a part was read from (cfg's), or NULL for an absent CRL. */
const char *tlsmat_path(const struct config *cfg, enum tlsmat_part p);

/*
 * Read the files named by cfg->tls into a new *out. 0, or SB_ECONFIG
 * (tls.certificate, tls.key or tls.client_ca not set), SB_EIO (a file cannot
 * be opened or read, is not a regular file, is empty, is larger than
 * TLSMAT_FILE_MAX or changed size while read) or SB_ENOMEM. Every failure is
 * logged with the config key and the path.
 */
int tlsmat_read(const struct config *cfg, struct tlsmat **out);

/* Wipes and frees; accepts NULL. */
void tlsmat_free(struct tlsmat *m);

/*
 * Write m as one frame to fd (blocking; a send timeout on fd bounds it).
 * 0, or SB_EIO with errno set (a short frame may have been written: the
 * receiver's stream is then unusable).
 */
int tlsmat_send(int fd, const struct tlsmat *m);

/*
 * Read what fd (non-blocking) has of a frame into rx. Returns 1 with *out
 * set (the caller frees it; rx is ready for the next frame), 0 when more
 * bytes are needed, SB_EIO at end of stream or on a read error, SB_EINVAL
 * for a header that breaks the rules above, SB_ENOMEM. After a negative
 * return call tlsmat_rx_reset before dropping rx.
 */
int tlsmat_rx_read(struct tlsmat_rx *rx, int fd, struct tlsmat **out);
/* Free a partly received frame and zero rx. */
void tlsmat_rx_reset(struct tlsmat_rx *rx);

/* The frame header for lengths len[], and back: 0 or SB_EINVAL. */
void tlsmat_hdr_enc(const size_t len[TLSMAT_PARTS], uint8_t hdr[TLSMAT_HDR_LEN]);
int tlsmat_hdr_dec(const uint8_t hdr[TLSMAT_HDR_LEN], size_t len[TLSMAT_PARTS]);

#endif
