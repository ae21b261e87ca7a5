/*
 * admsock — the client side of seald's admin socket (admsock.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "admsock.h"
#include "daemon/msg.h"

int
admsock_connect(const char *path, int quiet)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		if (!quiet)
			fprintf(stderr, "%s: cannot reach seald: socket path too long\n",
			    program_invocation_short_name);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (!quiet)
			fprintf(stderr, "%s: cannot reach seald at %s: %s\n",
			    program_invocation_short_name, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int
roundtrip(const char *sock, const char *session, const struct ipc_msg *m, int passfd,
    struct ipc_msg *in)
{
	struct ipc_msg as;
	const struct ipc_msg *out = m;
	int fd, rc = -1;

	if (session[0] != '\0') {
		if (adm_as_enc(&as, session, m) != 0) {
			fprintf(stderr, "%s: the session token or the command does not fit\n",
			    program_invocation_short_name);
			return -1;
		}
		out = &as;
	}
	if ((fd = admsock_connect(sock, 0)) >= 0) {
		if (ipc_send_fd(fd, out, passfd) != 0 || ipc_recv(fd, in) != 0)
			fprintf(stderr, "%s: seald closed the admin connection\n",
			    program_invocation_short_name);
		else
			rc = 0;
		close(fd);
	}
	if (out == &as)
		ipc_msg_free(&as);
	return rc;
}

int
admsock_roundtrip(const char *sock, const char *session, const struct ipc_msg *m,
    struct ipc_msg *in)
{
	return roundtrip(sock, session, m, -1, in);
}

int
admsock_call(const char *sock, const char *session, const struct ipc_msg *m, json_t **j)
{
	return admsock_call_fd(sock, session, m, -1, j);
}

int
admsock_call_fd(const char *sock, const char *session, const struct ipc_msg *m, int passfd,
    json_t **j)
{
	struct msg_reply r;
	struct ipc_msg in;
	int status = -1;

	*j = NULL;
	if (roundtrip(sock, session, m, passfd, &in) != 0)
		return -1;
	if (in.type == MSG_REPLY && msg_reply_dec(&in, &r) == 0 &&
	    (*j = json_loadb((const char *)r.body, r.body_len, 0, NULL)) != NULL)
		status = r.status;
	else
		fprintf(stderr, "%s: malformed reply from seald\n", program_invocation_short_name);
	ipc_msg_free(&in);
	return status;
}
