/*
 * net — seald's net worker: the unprivileged process that terminates TLS,
 * parses HTTP and JSON, and turns each request into one typed message to the
 * monitor (daemon/msg.h). It holds no PKCS#11 module, no PIN and no LMDB
 * handle, and must never be given one: everything it parses is hostile.
 *
 * Files: net.c (setup, event loop, connection limits and deadlines, TLS
 * reloads), tls.c (SSL_CTX, peer identity), tlsmat.c (the TLS files' bytes,
 * read by the parent), route.c (requests to messages and answers back),
 * req.c (pure validation, unit-tested and fuzzed), mlink.c (the monitor
 * link), sandbox.c (chroot, setuid, no_new_privs, seccomp).
 */
#ifndef SB_NET_H
#define SB_NET_H

#include "../../lib/config.h"
#include "tlsmat.h"

/*
 * Run the net worker; called in a freshly forked child of seald.
 *
 * tls: the TLS files' bytes as the parent last read and checked them (the
 * child's copy: wiped and freed here once the context is built).
 * listen_fd: a bound, listening TCP socket (made non-blocking here).
 * monitor_fd: a SOCK_STREAM socketpair end to the monitor, speaking lib/ipc
 * frames. reload_fd: a SOCK_STREAM socketpair end on which the parent sends
 * new TLS material (tlsmat.h frames) after SIGHUP. All three are taken
 * (closed on return). Every other descriptor should have been closed by the
 * caller; stdio buffers flushed before the fork.
 *
 * Order: the TLS context is built, the event loop built, then the sandbox
 * entered (sandbox.h: chroot + setuid when root, no_new_privs, seccomp), and
 * the loop runs until the monitor closes its end.
 *
 * A reload builds a new context inside the sandbox and swaps it in: new
 * connections get it; connections already open keep theirs, and their
 * client certificate is verified again against the new material at their
 * next request (403 certificate_revoked, or unknown_principal, and the
 * connection closed, when it no longer passes). In-flight requests are
 * untouched. New material that does not build is logged and dropped: the
 * worker keeps serving with what it has.
 *
 * Returns the exit status for the child: 0 when the monitor closed the link,
 * 1 on any failure (bad TLS material, sandbox, a malformed reply from the
 * monitor or frame from the parent: logged). The caller passes it to
 * _exit(); the parent restarts the worker on a non-zero status.
 */
int net_main(const struct config *cfg, struct tlsmat *tls, int listen_fd, int monitor_fd,
    int reload_fd);

/*
 * Check TLS material as a reload would apply it: in the sandbox (as the
 * net worker: sandbox.h), build the context and throw it away. Called in a
 * throwaway child of the parent before it keeps or sends new material;
 * returns that child's exit status, 0 when the material is good (else 1,
 * with the reason logged: the file, OpenSSL's words).
 */
int net_check_tls(const struct config *cfg, const struct tlsmat *tls);

#endif
