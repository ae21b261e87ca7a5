/*
 * tls — the net worker's TLS server context and the client identity it
 * verified.
 *
 * TLS 1.2 and 1.3 only; for 1.2 only ECDHE key exchange with AEAD ciphers.
 * A client certificate is mandatory and must chain to tls.client_ca (and not
 * be revoked by tls.crl when one is configured): otherwise the handshake
 * fails. Sessions are resumable (cache and tickets), and a resumed session
 * carries the identity of the handshake that made it, so the identity is
 * checked again on every request (tls_peer_cert) and the monitor checks the
 * principal's status every time.
 *
 * Nothing here opens a file: contexts are built from bytes the parent read
 * (tlsmat.h), once before the worker drops privileges and again, inside the
 * sandbox, on every reload. Each context has its own session cache and
 * ticket keys, so no session made under one context resumes under another.
 * This module decides nothing about what an identity may do.
 */
#ifndef SB_NET_TLS_H
#define SB_NET_TLS_H

#include <openssl/ssl.h>

#include "../../lib/config.h"
#include "../msg.h"
#include "tlsmat.h"

/*
 * A new server context from the files' bytes m (certificate chain, key,
 * client CA bundle and, when cfg->tls.crl is set, the CRL); cfg gives the
 * paths for messages. Returns 0 and *out, or SB_ECONFIG (a key is missing
 * from the configuration, or a file is wrong: not PEM, a key that does not
 * match the certificate, no CA certificate, a CRL that does not parse or
 * that no CA of the bundle signed; logged with the path and OpenSSL's
 * reason), or SB_ENOMEM. An expired CRL is accepted with a warning: it
 * refuses every client (fail closed).
 */
int tls_ctx_new(const struct config *cfg, const struct tlsmat *m, SSL_CTX **out);

/*
 * Verify cert (with the untrusted chain the client sent, may be NULL) again
 * as a handshake on ctx would: ctx's CA bundle, its CRL, depth and purpose,
 * at the current time. For a connection made before a reload, against the
 * material in force now. Returns 0, or SB_EPERM with *revoked 1 when the CRL
 * revokes cert (0 for any other failure) and why (n bytes) saying so for the
 * client, naming the certificate's serial.
 */
int tls_recheck(SSL_CTX *ctx, X509 *cert, STACK_OF(X509) *chain, int *revoked, char *why,
    size_t n);

/*
 * The certificate the client of ssl proved it holds, checked now: *cert is
 * set (owned by ssl) and 0 returned, or SB_EPERM when the connection has no
 * certificate that verified, or one outside its validity period now (a
 * session resumed after the certificate expired); *why then says which, for
 * the client. Call it for every request.
 */
int tls_peer_cert(SSL *ssl, X509 **cert, const char **why);

/*
 * The identity of a checked certificate into who: cert_sha256 = SHA-256 of
 * its DER, subject as an RFC 2253 line; on_behalf_of left empty. 0 or
 * SB_ECRYPTO. The result may be kept for as long as the connection lives:
 * its peer certificate cannot change (no renegotiation, no post-handshake
 * authentication).
 */
int tls_cert_ident(X509 *cert, struct msg_ident *who);

/*
 * A hook called from inside a handshake whose client certificate the CRL
 * revokes, with that certificate (owned by OpenSSL: copy what you keep); the
 * handshake fails all the same. One hook per process (the net worker sets
 * it once, for the revoked_certificate alert); NULL: none.
 */
typedef void (*tls_revoked_fn)(void *arg, X509 *cert);
void tls_set_revoked_hook(tls_revoked_fn fn, void *arg);

/* Log OpenSSL's error queue (and empty it), prefixed with what. */
void tls_log_errors(const char *what);

#endif
