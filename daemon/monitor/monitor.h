/*
 * monitor — seald's privileged process: the only one that opens LMDB and
 * loads the PKCS#11 module.
 *
 * It answers a fixed table of message types from the net worker (and of
 * admin commands from the admin socket) and checks what each means: a known
 * identity, a seal that exists and is active, a grant, a digest of the right
 * length, a trusted clock. It signs only after all of that, and returns a
 * signature only after its ledger entry is durably committed. It never
 * parses HTTP, JSON from the network, TLS, or documents.
 */
#ifndef SB_MONITOR_H
#define SB_MONITOR_H

#include "../../lib/config.h"

/*
 * Runs the monitor until the parent tells it to stop (ctl_fd closes).
 * net_fd: the stream socket to the current net worker; ctl_fd: a unix socket
 * to the parent, over which a new net_fd arrives (SCM_RIGHTS) when the net
 * worker was restarted; admin_fd: the listening admin socket.
 * Returns the process exit status: 0, or 1 when it cannot start (the ledger
 * failed verification, the state directory is unusable): the message is
 * logged.
 */
int monitor_main(const struct config *cfg, int net_fd, int ctl_fd, int admin_fd);

#endif
