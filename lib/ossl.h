/*
 * ossl — turning OpenSSL's error queue into our error codes.
 *
 * ossl_fail() is called where an OpenSSL call has just failed: it logs the
 * first queued error once, prefixed with the module and what we were doing,
 * clears the queue (so the next failure starts clean), and returns
 * SB_ENOMEM for an allocation failure, SB_ECRYPTO otherwise.
 * ossl_sha2() maps a digest nid to the one table of digests we accept.
 */
#ifndef SB_OSSL_H
#define SB_OSSL_H

#include <openssl/evp.h>

int ossl_fail(const char *module, const char *what);

/* The SHA-2 digest for NID_sha256, NID_sha384 or NID_sha512 (the only
 * digests the appliance signs with); NULL for any other nid. */
const EVP_MD *ossl_sha2(int md_nid);

#endif
