/*
 * net — seald's net worker: the unprivileged process that terminates TLS,
 * parses HTTP and JSON, and turns each request into one typed message to the
 * monitor (daemon/msg.h). It holds no PKCS#11 module, no PIN and no LMDB
 * handle, and must never be given one: everything it parses is hostile.
 *
 * Files: net.c (setup, event loop, connection limits and deadlines), tls.c
 * (SSL_CTX, peer identity), route.c (requests to messages and answers back),
 * req.c (pure validation, unit-tested and fuzzed), mlink.c (the monitor
 * link), sandbox.c (chroot, setuid, no_new_privs, seccomp).
 */
#ifndef SB_NET_H
#define SB_NET_H

#include "../../lib/config.h"

/*
 * Run the net worker; called in a freshly forked child of seald.
 *
 * listen_fd: a bound, listening TCP socket (made non-blocking here).
 * monitor_fd: a SOCK_STREAM socketpair end to the monitor, speaking lib/ipc
 * frames. Both are taken (closed on return). Every other descriptor should
 * have been closed by the caller; stdio buffers flushed before the fork.
 *
 * Order: TLS material is loaded, the event loop built, then the sandbox
 * entered (sandbox.h: chroot + setuid when root, no_new_privs, seccomp), and
 * the loop runs until the monitor closes its end.
 *
 * Returns the exit status for the child: 0 when the monitor closed the link,
 * 1 on any failure (bad TLS files, sandbox, a malformed reply from the
 * monitor: logged). The caller passes it to _exit(); the parent restarts the
 * worker on a non-zero status.
 */
int net_main(const struct config *cfg, int listen_fd, int monitor_fd);

#endif
