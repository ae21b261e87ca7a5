/*
 * admsock — the client side of seald's admin socket (docs/PROTOCOL-ipc.md),
 * for the programs run at the appliance's console: sealadm and sealprov
 * firstboot. Each call is its own connection.
 */
#ifndef SB_CLIENT_ADMSOCK_H
#define SB_CLIENT_ADMSOCK_H

#include <jansson.h>

#include "lib/ipc.h"

/* A connected admin socket, or -1 (the reason printed, unless quiet). */
int admsock_connect(const char *path, int quiet);

/* m sent on the admin socket at sock, inside ADM_AS when session is not "";
 * the answer into *in (free it). 0, or -1 with the reason printed. */
int admsock_roundtrip(const char *sock, const char *session, const struct ipc_msg *m,
    struct ipc_msg *in);

/* The same, decoded: the reply's HTTP-like status with its JSON in *j (the
 * caller decrefs it), or -1 (said why; *j NULL). */
int admsock_call(const char *sock, const char *session, const struct ipc_msg *m, json_t **j);

/* admsock_call handing seald the open descriptor passfd along with m (for
 * ADM_BACKUP, the file to write); this process keeps its own copy. */
int admsock_call_fd(const char *sock, const char *session, const struct ipc_msg *m,
    int passfd, json_t **j);

#endif
