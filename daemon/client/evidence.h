/*
 * evidence — offline verification of an evidence bundle (GET
 * /v1/evidence/{seq}, docs/API.md "The evidence bundle").
 *
 * Anyone holding a bundle and the appliance's trust anchor can check, with
 * no server and no configuration, that one signature was made by a seal
 * certified by that anchor, over the document digest the ledger recorded,
 * and that its ledger entry is in a tree head the appliance's audit key
 * signed. The checks are exactly those listed at the end of docs/API.md:
 *
 *   EVIDENCE_CERTS      every certificate in the bundle chains to the anchor
 *                       (verified at the time the entry records; any
 *                       certificate in the anchor file is a trust anchor,
 *                       the bundle's "ca" is an untrusted intermediate)
 *   EVIDENCE_STH        the tree head's signature verifies with the audit
 *                       certificate's key over "sealbox-sth-v1" || tree_size
 *                       || timestamp || root_hash
 *   EVIDENCE_LEAF       leaf_hash is SHA-256(0x00 || entry), entry being
 *                       the stored bytes (the bundle carries them base64)
 *   EVIDENCE_INCLUSION  the inclusion proof leads from SHA-256(0x00 ||
 *                       entry) to the tree head's root (RFC 9162)
 *   EVIDENCE_SIG_DIGEST SHA-256 of the CMS is the entry's signature_digest,
 *                       and the entry's own copy of the CMS, if it has one,
 *                       is the bundle's
 *   EVIDENCE_CMS        the CMS verifies over the entry's document_digest,
 *                       signed by the bundle's seal certificate
 *   EVIDENCE_TIMESTAMP  its signature-time-stamp token is signed by the
 *                       bundle's TSA certificate and is over this signature
 *
 * preceded by EVIDENCE_FORMAT: the bundle is what docs/API.md describes
 * (version 1, exactly the documented keys, canonical base64, the decoded
 * entry a canonical ledger entry of a successful signature at the bundle's
 * seq, the proof's tree size the tree head's). When it fails nothing else is
 * checked.
 *
 * It must never call a bundle good that fails any check: all_ok is 1 only if
 * every check ran and passed. Input is untrusted: bounded by
 * EVIDENCE_MAX_BYTES and parsed by jansson and OpenSSL.
 */
#ifndef SB_CLIENT_EVIDENCE_H
#define SB_CLIENT_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#define EVIDENCE_MAX_BYTES (4 * 1024 * 1024)
#define EVIDENCE_DETAIL_MAX 256

enum evidence_check {
	EVIDENCE_FORMAT,
	EVIDENCE_CERTS,
	EVIDENCE_STH,
	EVIDENCE_LEAF,
	EVIDENCE_INCLUSION,
	EVIDENCE_SIG_DIGEST,
	EVIDENCE_CMS,
	EVIDENCE_TIMESTAMP,
	EVIDENCE_NCHECKS
};

struct evidence_result {
	int ran[EVIDENCE_NCHECKS];	/* 1: the check was made */
	int ok[EVIDENCE_NCHECKS];	/* 1: it passed */
	char detail[EVIDENCE_NCHECKS][EVIDENCE_DETAIL_MAX];	/* why not; "" if ok */
	int all_ok;
	/* What the bundle says, once EVIDENCE_FORMAT passed. */
	uint64_t seq;
	uint64_t tree_size;
	uint64_t sth_timestamp;		/* unix ms */
	uint64_t entry_time;		/* unix ms */
	char seal[129];
	char document_name[256];	/* cut if longer */
	char document_digest[16 + 1 + 128 + 1];	/* "sha256:<hex>" */
};

/* "bundle", "certificates", "tree head signature", ... for printing. */
const char *evidence_check_name(enum evidence_check c);

/*
 * Checks the bundle in json (len bytes) against anchors (at least one
 * certificate). Returns 0 when the checks ran; out says how each came out.
 * SB_EINVAL (NULL argument, no anchor), SB_ENOMEM otherwise.
 */
int evidence_verify(const char *json, size_t len, STACK_OF(X509) *anchors,
    struct evidence_result *out);

/* Every certificate of a PEM file (1..64 of them) into a new stack; err
 * names the file and what is wrong. SB_EIO, SB_EINVAL, SB_ENOMEM. */
int evidence_load_pem_certs(const char *path, STACK_OF(X509) **out, char *err,
    size_t errlen);

#endif
