/*
 * monitor — start-up, threads and dispatch.
 *
 * Threads: one reads frames from the net worker and queues them (bounded:
 * http.queue_max; past it the reader answers 503 busy itself); monitor.workers
 * threads answer them, so that concurrent signatures share the ledger's group
 * commit; one serves the admin socket, one connection at a time; one makes a
 * signed tree head each second the ledger grew, and probes a failing HSM.
 * The main thread listens to the parent: a new net worker's socket arrives
 * over ctl_fd (SCM_RIGHTS), and ctl_fd closing means stop.
 *
 * The threads start before the seccomp filter (mon_sandbox.c), which is
 * loaded on all of them at once; the ones that take requests (the net link
 * reader, the admin socket) wait at a gate until it is in place, so nothing
 * is served unconfined.
 *
 * Only the message types in the tables below are answered. A message our own
 * net worker should never send (unknown type, a body that does not decode)
 * means it is broken or taken over: the link is closed, the parent restarts
 * the net worker.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../../lib/secret.h"
#include "mon_int.h"
#include "mon_sandbox.h"
#include "monitor.h"

struct mon_route {
	uint16_t type;
	mon_handler fn;
};

static const struct mon_route net_routes[] = {
	{ MSG_HEALTH, mon_health },
	{ MSG_SEALS_LIST, mon_seals_list },
	{ MSG_SEAL_GET, mon_seal_get },
	{ MSG_SIGN, mon_sign },
	{ MSG_SEAL_IMAGE, mon_seal_image },
	{ MSG_PDF_SEALED, mon_pdf_sealed },
	{ MSG_VERIFY, mon_verify },
	{ MSG_TSA, mon_tsa },
	{ MSG_LEDGER_STH, mon_ledger_sth },
	{ MSG_LEDGER_ENTRIES, mon_ledger_entries },
	{ MSG_PROOF_INCLUSION, mon_proof },
	{ MSG_PROOF_CONSISTENCY, mon_proof },
	{ MSG_EVIDENCE, mon_evidence },
	{ MSG_UNITS_LIST, mon_units_list },
	{ MSG_PRINCIPALS_LIST, mon_principals_list },
	{ MSG_ROLES_LIST, mon_roles_list },
	{ MSG_REQUEST_FILE, mon_request_file },
	{ MSG_REQUESTS_LIST, mon_requests_list },
	{ MSG_REQUEST_GET, mon_request_act },
	{ MSG_REQUEST_APPROVE, mon_request_act },
	{ MSG_REQUEST_REJECT, mon_request_act },
	{ MSG_STATS, mon_stats },
	{ MSG_GRANTS_LIST, mon_grants_list },
	{ MSG_ALERT_REVOKED, mon_alert_revoked },
	{ MSG_TLS_SERVING, mon_tls_serving },
	{ MSG_ALERTS, mon_alerts_list },
	{ MSG_TOTP_ENROL, mon_totp_enrol },
	{ MSG_TOTP_CONFIRM, mon_totp_confirm },
	{ MSG_TOTP_VERIFY, mon_totp_verify },
};

/*
 * Who may run each admin command. OPEN: anyone the admin socket lets in
 * (peer credentials): status and unseal (which needs shares anyway), and the
 * account commands, which check their own sessions (a recovery from a lost
 * one-time code checks the passphrase and the quorum's shares). Every other command
 * comes inside ADM_AS with a live console session whose role is in roles;
 * it then runs as that admin ("admin:USER" in the ledger). Three-member
 * separation (DESIGN.md invariant 5): policy is the secadmin's, the auditor
 * only reads, the sysadmin enrols business systems and nothing else here
 * (mon_adm_principal_add narrows it to applications without roles).
 */
enum { OPEN = 0, SYS = 1, SEC = 2, AUD = 4 };

static const struct admin_route {
	uint16_t type;
	mon_handler fn;
	unsigned roles;
	const char *what;
} admin_routes[] = {
	{ ADM_STATUS, mon_adm_status, OPEN, "see the status" },
	{ ADM_UNSEAL, mon_adm_unseal, OPEN, "unseal" },
	{ ADM_SEAL_CREATE, mon_adm_seal_create, SEC, "create seals" },
	{ ADM_PRINCIPAL_ADD, mon_adm_principal_add, SYS | SEC, "register principals" },
	{ ADM_ENROL, mon_adm_enrol, SYS | SEC, "enrol business systems" },
	{ ADM_POWER, mon_adm_power, SYS, "power the appliance off or restart it" },
	{ ADM_GRANT_ADD, mon_adm_grant_add, SEC, "add grants" },
	{ ADM_UNIT_ADD, mon_adm_unit_add, SEC, "add org units" },
	{ ADM_ROLE_ASSIGN, mon_adm_role_assign, SEC, "assign roles" },
	{ ADM_ROLE_REVOKE, mon_adm_role_revoke, SEC, "revoke roles" },
	{ ADM_PRINCIPAL_DISABLE, mon_adm_principal_disable, SEC, "disable principals" },
	{ ADM_ROLE_LIST, mon_adm_role_list, SEC | AUD, "list roles" },
	{ ADM_WORD_ADD, mon_adm_word_add, SEC, "change the sensitive words" },
	{ ADM_WORD_LIST, mon_adm_word_list, SEC | AUD, "list the sensitive words" },
	{ ADM_WORD_REMOVE, mon_adm_word_remove, SEC, "change the sensitive words" },
	{ ADM_ADMIN_ADD, mon_adm_admin_add, OPEN, "add administrators" },
	{ ADM_LOGIN, mon_adm_login, OPEN, "log in" },
	{ ADM_LOGOUT, mon_adm_logout, OPEN, "log out" },
	{ ADM_PASSWD, mon_adm_passwd, OPEN, "change a passphrase" },
	{ ADM_SESSION, mon_adm_session, OPEN, "see the session" },
	{ ADM_LEDGER_VERIFY, mon_adm_ledger_verify, OPEN, "verify the ledger" },
	{ ADM_LEDGER_ENTRIES, mon_adm_ledger_entries, AUD, "browse the ledger" },
	{ ADM_ALERTS, mon_adm_alerts, SEC | AUD, "list alerts" },
	{ ADM_EVIDENCE, mon_adm_evidence, AUD, "export evidence" },
	{ ADM_BACKUP, mon_adm_backup, SYS, "back up the appliance" },
	{ ADM_NETWORK, mon_adm_network, SYS, "change the network settings" },
	{ ADM_TOTP_ENROL, mon_adm_totp_enrol, SYS | SEC | AUD, "enrol a one-time code" },
	{ ADM_TOTP_CONFIRM, mon_adm_totp_confirm, SYS | SEC | AUD, "confirm a one-time code" },
	{ ADM_TOTP_RESET, mon_adm_totp_reset, SEC, "reset an administrator's one-time code" },
	{ ADM_TOTP_RECOVER, mon_adm_totp_recover, OPEN, "recover from a lost one-time code" },
	{ ADM_REVOKE, mon_adm_revoke, SYS, "revoke client certificates" },
	{ ADM_TLS_ISSUE, mon_adm_tls_issue, SYS, "issue the TLS server certificate" },
	{ ADM_TLS_REQUEST, mon_adm_tls_request, SYS, "request a TLS server certificate" },
	{ ADM_ALERT_THRESHOLDS, mon_adm_alert_thresholds, SEC | AUD, "see the alert thresholds" },
	{ ADM_ALERT_THRESHOLDS_SET, mon_adm_alert_thresholds_set, SEC,
	  "set the alert thresholds" },
	{ ADM_PRINCIPAL_ENABLE, mon_adm_principal_enable, SEC, "enable principals" },
	{ ADM_APPROVER_GROUPS, mon_adm_approver_groups, SEC | AUD, "list the approver groups" },
	{ ADM_TLS_INSTALL, mon_adm_tls_install, SYS, "install a TLS server certificate" },
	{ ADM_TLS_RELOAD, mon_adm_tls_reload, SYS, "reload the TLS files" },
	{ ADM_RESHARE, mon_adm_reshare, SEC, "re-share the master secret" },
};

static const struct admin_route *
admin_route(uint16_t type)
{
	for (size_t i = 0; i < sizeof(admin_routes) / sizeof(admin_routes[0]); i++)
		if (admin_routes[i].type == type)
			return &admin_routes[i];
	return NULL;
}

static unsigned
role_bit(const char *role)
{
	if (strcmp(role, "sysadmin") == 0)
		return SYS;
	if (strcmp(role, "secadmin") == 0)
		return SEC;
	return strcmp(role, "auditor") == 0 ? AUD : 0;
}

/*
 * One admin-socket message through the gate above into its handler: the
 * handler's return, or a refusal made into reply. A role's refusal is
 * ledgered (best effort: a sealed appliance refuses all the same).
 */
static int
admin_dispatch(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	const struct admin_route *r;
	struct ipc_msg inner;
	struct adm_as as;
	char user[MSG_ADMIN_USER_MAX], role[MSG_ROLE_MAX];
	uint8_t leaf[32];
	uint64_t seq;
	int rc, must_change = 0;

	mon->admin_role[0] = '\0';
	if (m->type != ADM_AS) {
		if ((r = admin_route(m->type)) == NULL)
			return mon_reply_err(reply, m->id, 400, "bad_request", "unknown command");
		if (r->roles != OPEN)
			return mon_reply_err(reply, m->id, 401, "login_required", "an administrator "
			    "must log in to %s: sealadm login, then --session-fd", r->what);
		return r->fn(mon, m, reply);
	}
	rc = adm_as_dec(m, &as);
	if (rc == 0 && mon_session_who(mon, as.session, user, role, &must_change) != 0)
		rc = SB_ENOTFOUND;
	if (rc == 0)
		memcpy(mon->admin_session, as.session, sizeof(mon->admin_session));
	secret_wipe(as.session, sizeof(as.session));
	if (rc == SB_ENOTFOUND)
		return mon_reply_err(reply, m->id, 401, "session_expired",
		    "not logged in, or the session ended (idle or logged out): log in again");
	if (rc != 0 || (r = admin_route(as.type)) == NULL)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed or unknown command");
	if (must_change && r->roles != OPEN)
		return mon_reply_must_change(reply, m->id);
	if (r->roles != OPEN && (r->roles & role_bit(role)) == 0) {
		log_warn("monitor: admin %s (%s) may not %s", user, role, r->what);
		char actor[sizeof(mon->admin_actor)];

		snprintf(actor, sizeof(actor), "admin:%s", user);
		(void)mon_ledger(mon, json_pack("{s:s,s:s,s:s,s:i,s:s}", "action", "admin.refused",
		    "actor", actor, "role", role, "command", (int)as.type, "result",
		    "forbidden_role"), &seq, leaf);
		return mon_reply_err(reply, m->id, 403, "forbidden_role", "the %s may not %s", role,
		    r->what);
	}
	snprintf(mon->admin_actor, sizeof(mon->admin_actor), "admin:%s", user);
	snprintf(mon->admin_role, sizeof(mon->admin_role), "%s", role);
	ipc_msg_init_secret(&inner, as.type, m->id);	/* a share, for one */
	if (buf_append(&inner.body, as.body, as.body_len) != 0)
		rc = SB_ENOMEM;
	else
		rc = r->fn(mon, &inner, reply);
	ipc_msg_free(&inner);
	return rc;
}

static mon_handler
route(const struct mon_route *t, size_t n, uint16_t type)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].type == type)
			return t[i].fn;
	return NULL;
}

/* ---- the gate: nothing is served before the sandbox is in place ----------- */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int open;
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };

static void
gate_wait(void)
{
	pthread_mutex_lock(&gate.lock);
	while (!gate.open)
		pthread_cond_wait(&gate.cv, &gate.lock);
	pthread_mutex_unlock(&gate.lock);
}

static void
gate_open(void)
{
	pthread_mutex_lock(&gate.lock);
	gate.open = 1;
	pthread_cond_broadcast(&gate.cv);
	pthread_mutex_unlock(&gate.lock);
}

/* ---- the work queue ------------------------------------------------------ */

struct job {
	struct ipc_msg msg;
	mon_handler fn;
	unsigned gen;		/* link generation it arrived on */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct job **ring;
	size_t cap, head, len;
	unsigned gen;		/* bumped when the net link is replaced; written
				   under both net_lock and lock */
	pthread_cond_t relink;
} q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, 0,
	PTHREAD_COND_INITIALIZER };

static int
q_push(struct job *j)
{
	pthread_mutex_lock(&q.lock);
	if (q.len == q.cap) {
		pthread_mutex_unlock(&q.lock);
		return SB_ELIMIT;
	}
	q.ring[(q.head + q.len++) % q.cap] = j;
	pthread_cond_signal(&q.more);
	pthread_mutex_unlock(&q.lock);
	return 0;
}

static struct job *
q_pop(struct mon *mon)
{
	struct job *j = NULL;

	pthread_mutex_lock(&q.lock);
	while (q.len == 0 && !mon->stop)
		pthread_cond_wait(&q.more, &q.lock);
	if (q.len > 0) {
		j = q.ring[q.head];
		q.head = (q.head + 1) % q.cap;
		q.len--;
	}
	pthread_mutex_unlock(&q.lock);
	return j;
}

/* Send a reply to the net worker, unless the link it answers is gone. */
static void
net_send(struct mon *mon, unsigned gen, struct ipc_msg *reply)
{
	pthread_mutex_lock(&mon->net_lock);
	if (gen == q.gen && mon->net_fd >= 0 && ipc_send(mon->net_fd, reply) != 0)
		log_warn("monitor: cannot answer the net worker: %s", strerror(errno));
	pthread_mutex_unlock(&mon->net_lock);
}

/* Close the link to a misbehaving net worker; the parent restarts it. */
static void
net_drop(struct mon *mon, const char *why)
{
	log_err("monitor: dropping the net worker link: %s", why);
	pthread_mutex_lock(&mon->net_lock);
	if (mon->net_fd >= 0)
		shutdown(mon->net_fd, SHUT_RDWR);
	pthread_mutex_unlock(&mon->net_lock);
}

static void *
worker_main(void *arg)
{
	struct mon *mon = arg;
	struct ipc_msg reply;
	struct job *j;
	int rc;

	while ((j = q_pop(mon)) != NULL) {
		memset(&reply, 0, sizeof(reply));
		rc = j->fn(mon, &j->msg, &reply);
		if (rc == SB_EINVAL)
			net_drop(mon, "a message did not decode");
		else if (rc != 0 || reply.body.data == NULL) {
			ipc_msg_free(&reply);
			memset(&reply, 0, sizeof(reply));
			if (msg_reply_error(&reply, j->msg.id, 500, "internal",
			    "the monitor could not answer; see its log") == 0)
				net_send(mon, j->gen, &reply);
			log_err("monitor: handler for type %u failed: %s", j->msg.type,
			    sb_strerror(rc));
		} else
			net_send(mon, j->gen, &reply);
		ipc_msg_free(&reply);
		ipc_msg_free(&j->msg);
		free(j);
	}
	return NULL;
}

/* ---- the net worker link ------------------------------------------------- */

static void
reader_wait_relink(struct mon *mon, unsigned gen)
{
	pthread_mutex_lock(&q.lock);
	while (q.gen == gen && !mon->stop)
		pthread_cond_wait(&q.relink, &q.lock);
	pthread_mutex_unlock(&q.lock);
}

static void
reader_one(struct mon *mon, struct job *j)
{
	struct ipc_msg reply;

	if ((j->fn = route(net_routes, sizeof(net_routes) / sizeof(net_routes[0]),
	    j->msg.type)) == NULL) {
		net_drop(mon, "a message of an unknown type");
		ipc_msg_free(&j->msg);
		free(j);
		return;
	}
	if (q_push(j) != 0) {
		memset(&reply, 0, sizeof(reply));
		if (msg_reply_error(&reply, j->msg.id, 503, "busy",
		    "too many requests are waiting; retry later") == 0)
			net_send(mon, j->gen, &reply);
		ipc_msg_free(&reply);
		ipc_msg_free(&j->msg);
		free(j);
	}
}

static void *
reader_main(void *arg)
{
	struct mon *mon = arg;

	gate_wait();
	while (!mon->stop) {
		struct job *j = calloc(1, sizeof(*j));
		unsigned gen;
		int fd, rc;

		if (j == NULL) {
			sleep(1);
			continue;
		}
		/* The descriptor and its generation change together under
		 * net_lock (relink), so read them together. */
		pthread_mutex_lock(&mon->net_lock);
		fd = mon->net_fd;
		gen = q.gen;
		pthread_mutex_unlock(&mon->net_lock);
		rc = fd >= 0 ? ipc_recv(fd, &j->msg) : SB_ENOTFOUND;
		if (rc != 0) {
			free(j);
			if (rc == SB_EINVAL)
				net_drop(mon, "a malformed frame");
			reader_wait_relink(mon, gen);
			continue;
		}
		j->gen = gen;
		reader_one(mon, j);
	}
	return NULL;
}

/* A new net worker's socket from the parent; 0 on end of stream. */
static int
ctl_recv_fd(int ctl_fd, int *fd)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
		.msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t r;

	do
		r = recvmsg(ctl_fd, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return 0;
	c = CMSG_FIRSTHDR(&mh);
	if (c == NULL || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 1;
}

static void
relink(struct mon *mon, int fd)
{
	/* One critical section: a worker holding an answer for the old link
	 * must never see the new descriptor with the old generation (the new
	 * net worker numbers its requests afresh, so the answer would reach
	 * another client). Lock order: net_lock, then q.lock. */
	pthread_mutex_lock(&mon->net_lock);
	if (mon->net_fd >= 0)
		close(mon->net_fd);
	mon->net_fd = fd;
	pthread_mutex_lock(&q.lock);
	q.gen++;
	pthread_cond_broadcast(&q.relink);
	pthread_mutex_unlock(&q.lock);
	pthread_mutex_unlock(&mon->net_lock);
	log_info("monitor: linked to a new net worker");
}

/* ---- admin socket -------------------------------------------------------- */

static int
admin_peer_ok(struct mon *mon, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return 0;
	if (cred.uid != 0 && cred.uid != geteuid()) {
		log_warn("monitor: admin socket: refused uid %u", (unsigned)cred.uid);
		return 0;
	}
	snprintf(mon->admin_actor, sizeof(mon->admin_actor), "admin:uid=%u", (unsigned)cred.uid);
	return 1;
}

static void
admin_serve(struct mon *mon, int fd)
{
	struct timeval tv = { 30, 0 };
	struct ipc_msg m, reply;
	char peer[sizeof(mon->admin_actor)];
	int rc;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(peer, sizeof(peer), "%s", mon->admin_actor);
	while (ipc_recv_fd(fd, &m, &mon->admin_passfd) == 0) {
		memset(&reply, 0, sizeof(reply));
		rc = admin_dispatch(mon, &m, &reply);
		if (mon->admin_passfd >= 0) {	/* sent along, and not wanted */
			close(mon->admin_passfd);
			mon->admin_passfd = -1;
		}
		if (rc != 0 || reply.body.data == NULL) {
			ipc_msg_free(&reply);
			memset(&reply, 0, sizeof(reply));
			msg_reply_error(&reply, m.id, 500, "internal",
			    "the command failed; see the appliance log");
		}
		snprintf(mon->admin_actor, sizeof(mon->admin_actor), "%s", peer);
		mon->admin_role[0] = '\0';
		secret_wipe(mon->admin_session, sizeof(mon->admin_session));
		rc = ipc_send(fd, &reply);
		ipc_msg_free(&reply);
		ipc_msg_free(&m);
		if (rc != 0)
			break;
	}
}

struct admin_arg {
	struct mon *mon;
	int fd;
};

static void *
admin_loop(void *arg)
{
	struct admin_arg *a = arg;

	gate_wait();
	while (!a->mon->stop) {
		int c = accept4(a->fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				usleep(100000);
			continue;
		}
		if (admin_peer_ok(a->mon, c))
			admin_serve(a->mon, c);
		close(c);
	}
	return NULL;
}

/* ---- tree heads, HSM probe ----------------------------------------------- */

/*
 * While the HSM is marked failing, probe it (hsm_check reconnects once the
 * token is back), so that health turns ready by itself, and the first
 * signature after an outage does not pay for the reconnect.
 */
static void
probe_hsm(struct mon *mon)
{
	const char *why;
	int failing, rc;

	pthread_mutex_lock(&mon->lock);
	failing = mon->hsm_fault[0] != '\0';
	pthread_mutex_unlock(&mon->lock);
	if (!failing)
		return;
	if ((rc = hsm_check(mon->hsm)) == 0)
		why = "";
	else if ((why = hsm_error(mon->hsm))[0] == '\0')
		why = sb_strerror(rc);
	mon_fault(mon, mon->hsm_fault, why);
}

static void *
sth_main(void *arg)
{
	struct mon *mon = arg;
	struct ledger_sth sth;

	while (!mon->stop) {
		sleep(1);
		if (!mon_is_ready(mon))
			continue;
		probe_hsm(mon);
		mon_crl_tick(mon);
		if (ledger_sth_latest(mon->ledger, &sth) == 0 &&
		    sth.tree_size == ledger_size(mon->ledger))
			continue;
		if (ledger_size(mon->ledger) > 0 &&
		    ledger_sth_make(mon->ledger, mon_sth_sign, mon, &sth) != 0)
			log_warn("monitor: no tree head this second (HSM or ledger failing)");
	}
	return NULL;
}

/* ---- start-up ------------------------------------------------------------ */

/* The audit key's public half from state_dir/audit.pem, if it was made. */
static int
load_audit_pub(struct mon *mon)
{
	char path[4096];
	X509 *c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/audit.pem", mon->cfg->appliance.state_dir);
	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 0 : SB_EIO;
	c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (c == NULL)
		return SB_EINVAL;
	mon->audit_pub = X509_get_pubkey(c);
	X509_free(c);
	return mon->audit_pub ? 0 : SB_EINVAL;
}

/* Open the ledger and the policy store, and check the ledger (invariant 3). */
static int
mon_open(struct mon *mon)
{
	/* The map is reserved once, large (address space, not disk: the file
	 * grows as it is written), and never resized while seald runs: LMDB
	 * forbids a resize while any transaction is open, and the policy store
	 * opens its own. A full map fails closed (503 ledger_unavailable). */
	struct ledger_opts lo = { .extra_dbs = STORE_DBS + STORE_TOTP_DBS + STORE_WORDS_DBS +
		STORE_ADMIN_DBS + STORE_SETTINGS_DBS,
		.map_size = MON_MAP_SIZE, .map_size_max = 0 };
	char dir[4096], msg[512] = "";
	uint64_t bad = 0;
	int rc;

	snprintf(dir, sizeof(dir), "%s/ledger", mon->cfg->appliance.state_dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_err("monitor: cannot create %s: %s", dir, strerror(errno));
		return SB_EIO;
	}
	if ((rc = ledger_open(dir, &lo, &mon->ledger)) != 0) {
		log_err("monitor: cannot open the ledger in %s: %s", dir, sb_strerror(rc));
		return rc;
	}
	if ((rc = load_audit_pub(mon)) != 0) {
		log_err("monitor: %s/audit.pem is unreadable: %s", mon->cfg->appliance.state_dir,
		    sb_strerror(rc));
		return rc;
	}
	if (mon->audit_pub == NULL && ledger_size(mon->ledger) > 0) {
		log_err("monitor: the ledger has entries but %s/audit.pem is missing: refusing "
		    "to start", mon->cfg->appliance.state_dir);
		return SB_ESTATE;
	}
	if ((rc = ledger_verify(mon->ledger, mon->audit_pub, &bad, msg, sizeof(msg))) != 0) {
		log_err("monitor: the ledger failed verification at sequence number %llu: %s; "
		    "refusing to start", (unsigned long long)bad, msg);
		return rc;
	}
	if ((rc = store_open(ledger_env(mon->ledger), &mon->store)) != 0)
		return rc;
	if ((rc = mon_alert_thresholds_load(mon)) != 0) {
		log_err("monitor: the alert thresholds in the policy store cannot be read: %s; "
		    "refusing to start", sb_strerror(rc));
		return rc;
	}
	log_info("monitor: ledger verified: %llu entries", (unsigned long long)ledger_size(mon->ledger));
	return 0;
}

static int
mon_threads(struct mon *mon, int admin_fd, pthread_t *tids, size_t *n)
{
	static struct admin_arg aa;

	*n = 0;
	for (unsigned i = 0; i < mon->cfg->monitor.workers; i++)
		if (pthread_create(&tids[(*n)++], NULL, worker_main, mon) != 0)
			return SB_ENOMEM;
	if (pthread_create(&tids[(*n)++], NULL, reader_main, mon) != 0 ||
	    pthread_create(&tids[(*n)++], NULL, sth_main, mon) != 0)
		return SB_ENOMEM;
	aa.mon = mon;
	aa.fd = admin_fd;
	if (pthread_create(&tids[(*n)++], NULL, admin_loop, &aa) != 0)
		return SB_ENOMEM;
	return 0;
}

int
monitor_main(const struct config *cfg, int net_fd, int ctl_fd, int admin_fd)
{
	static struct mon mon;
	pthread_t tids[64 + 4];
	size_t nt = 0;
	int fd, r;

	if (secret_harden_process() != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		log_warn("monitor: cannot fully harden the process: %s", strerror(errno));
	mon.cfg = cfg;
	mon.net_fd = net_fd;
	mon.admin_passfd = -1;
	mon.parent = getppid();
	pthread_mutex_init(&mon.lock, NULL);
	pthread_mutex_init(&mon.net_lock, NULL);
	q.cap = cfg->http.queue_max;
	/* No capability, in any thread: they are per thread, so before the
	 * first (the ledger's committer starts in mon_open), which inherit the
	 * empty sets. */
	if (mon_caps_drop() != 0)
		return 1;
	if ((q.ring = calloc(q.cap, sizeof(*q.ring))) == NULL || mon_open(&mon) != 0)
		return 1;
	if (mon_threads(&mon, admin_fd, tids, &nt) != 0) {
		log_err("monitor: cannot start its threads");
		return 1;
	}
	/* Every thread is up (the gate holds the serving ones): confine them
	 * all, then serve. A monitor that cannot be confined does not serve. */
	if (mon_sandbox_enter(cfg, mon.module_fault, sizeof(mon.module_fault)) != 0)
		return 1;
	gate_open();
	log_info("monitor: started, sealed, sandboxed; %u workers", cfg->monitor.workers);
	while ((r = ctl_recv_fd(ctl_fd, &fd)) != 0) {
		if (r > 0)
			relink(&mon, fd);
	}
	/* The parent is gone or asked us to stop. Every answered signature is
	 * already durable (invariant 2); work still queued was never answered, so
	 * leaving it is safe, and closing the ledger under running workers is not. */
	log_info("monitor: stopping");
	mon.stop = 1;
	return 0;
}
