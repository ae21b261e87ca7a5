/*
 * ossl — turning OpenSSL's error queue into our error codes.
 *
 * ossl_fail() is called where an OpenSSL call has just failed: it logs the
 * first queued error once, prefixed with the module and what we were doing,
 * clears the queue (so the next failure starts clean), and returns
 * SB_ENOMEM for an allocation failure, SB_ECRYPTO otherwise.
 */
#ifndef SB_OSSL_H
#define SB_OSSL_H

int ossl_fail(const char *module, const char *what);

#endif
