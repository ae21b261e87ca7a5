/*
 * console_reshare — the secadmin re-shares the master secret at the console
 * (an administrator leaves, a share is lost or may have been seen): sealadm
 * custody reshare and the secadmin's menu item.
 *
 * M current share holders give their shares. sealadm makes the new master
 * secret and shares itself (keyctl_reshare, as sealprov reshare does: a
 * PKCS#11 application logs in as SO only while none of its sessions is
 * logged in, and seald's monitor is), in this order:
 *  1. the present shares are combined and checked against the custody
 *     record (too few, mistyped or replaced shares stop here: nothing made);
 *  2. each new share goes to its holder alone at the console, typed back to
 *     check their copy (or, for scripts, to new files: --share-dir), the
 *     admin's session kept alive between holders;
 *  3. the monitor ledgers the re-share (ADM_RESHARE), checking the present
 *     shares again itself and the new count and threshold against its
 *     configuration;
 *  4. only then do the token's PINs change and the custody record follow.
 * When 2 or 3 fails nothing changes, and the holders are told to keep their
 * old shares (files written are removed). A failure in 4 is ledgered
 * ("failed: ..."), and the holders are told which shares to keep. seald signs
 * on throughout: its session stays logged in, and once the PINs changed M
 * of the new shares go to the monitor ("done"), which takes the new PIN to
 * hold for reconnecting to the token. From then on the old shares unlock
 * nothing; unseal and backups need the new ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../daemon/client/admsock.h"
#include "../daemon/client/ceremony.h"
#include "../daemon/msg.h"
#include "../hsm/custody.h"
#include "../hsm/keyctl.h"
#include "../lib/config.h"
#include "../lib/err.h"
#include "../lib/secret.h"
#include "sealadm.h"

struct reshare {
	const char *sock, *session;
	const struct config *cfg;
	const char *share_dir;		/* NULL: hand the shares over at the console */
	const struct adm_backup *old;	/* the quorum's current shares */
	int ledgered;			/* step 3 done */
	int refused;			/* the monitor said why (printed) */
	unsigned written;		/* share files written (--share-dir) */
	/* The new shares', for the ledger (set by deliver). */
	unsigned count, threshold;
	char ceremony[MSG_CEREMONY_MAX];
};

/* seald's answer j to a re-share command, as a refusal on stderr. */
static void
say_refusal(json_t *j)
{
	if (!console_refusal(j))
		fprintf(stderr, "sealadm: seald did not answer\n");
}

/* ADM_RESHARE with result, for the new shares r describes: 0 when ledgered. */
static int
ledger_reshare(struct reshare *r, const char *result)
{
	struct adm_reshare *v = secret_alloc(sizeof(*v));
	struct ipc_msg m;
	json_t *j = NULL;
	int rc = -1;

	if (v == NULL)
		return -1;
	if (strcmp(result, "ok") == 0 || strcmp(result, "done") == 0)
		v->shares = *r->old;
	v->count = r->count;
	v->threshold = r->threshold;
	snprintf(v->ceremony, sizeof(v->ceremony), "%s", r->ceremony);
	snprintf(v->result, sizeof(v->result), "%s", result);
	if (adm_reshare_enc(&m, 1, v) == 0) {
		if (admsock_call(r->sock, r->session, &m, &j) == 200)
			rc = 0;
		else
			say_refusal(j);
		ipc_msg_free(&m);
	}
	json_decref(j);
	secret_free(&v);
	return rc;
}

/* Refresh the admin's session (ADM_SESSION), so that a long hand-over does
 * not outlast it: 1 when it is a secadmin's, 0 when another role's, -1
 * when there is none (said why). */
static int
keep_session(const char *sock, const char *session)
{
	struct adm_session v;
	struct ipc_msg m;
	json_t *j = NULL;
	const char *role;
	int rc = -1;

	snprintf(v.session, sizeof(v.session), "%s", session);
	if (session[0] != '\0' && adm_session_enc(&m, ADM_SESSION, 1, &v) == 0) {
		if (admsock_call(sock, session, &m, &j) == 200 &&
		    (role = json_string_value(json_object_get(j, "role"))) != NULL)
			rc = strcmp(role, "secadmin") == 0;
		else
			say_refusal(j);
		ipc_msg_free(&m);
	} else
		fprintf(stderr, "sealadm: login_required: the secadmin re-shares, logged in "
		    "(--session-fd)\n");
	json_decref(j);
	secret_wipe(&v, sizeof(v));
	return rc;
}

/* keyctl_reshare's deliver, just before the PINs change: the new shares to
 * their holders (or files), then the entry. */
static int
deliver(const struct keyctl_shares *sh, void *arg)
{
	struct reshare *r = arg;
	struct custody_share *cs = secret_alloc(sizeof(*cs));
	char name[32];
	int rc;

	if (cs == NULL || custody_share_decode(sh->text[0], cs) != 0) {
		secret_free(&cs);
		return SB_EINVAL;
	}
	r->count = sh->count;
	r->threshold = sh->threshold;
	for (size_t i = 0; i < sizeof(cs->ceremony); i++)
		snprintf(r->ceremony + 2 * i, 3, "%02x", cs->ceremony[i]);
	secret_free(&cs);
	if (r->share_dir != NULL) {
		rc = ceremony_write_shares(sh, r->share_dir, r->cfg->appliance.id, &r->written);
		if (rc != 0)
			return rc;
	} else {
		for (unsigned i = 0; i < sh->count; i++) {
			snprintf(name, sizeof(name), "Share holder %u", i + 1);
			if (ceremony_hand_over(sh, i, name, NULL, r->cfg->appliance.id) != 0)
				return SB_EIO;
			(void)keep_session(r->sock, r->session);
		}
		ceremony_blank();
		printf("All %u new shares confirmed.\n", sh->count);
	}
	if (ledger_reshare(r, "ok") != 0) {
		r->refused = 1;
		return SB_EPERM;
	}
	r->ledgered = 1;
	return 0;
}

/* The share files written (--share-dir) removed: nothing changed. */
static void
drop_written(const struct reshare *r)
{
	char path[4096];

	for (unsigned i = 0; i < r->written; i++) {
		snprintf(path, sizeof(path), "%s/%s-share-%u.txt", r->share_dir,
		    r->cfg->appliance.id, i + 1);
		(void)unlink(path);
	}
}

int
console_reshare(const char *sock, const char *session, const struct config *cfg,
    const struct opts *o)
{
	struct reshare r = { .sock = sock, .session = session, .cfg = cfg,
	    .share_dir = o->share_dir };
	struct adm_backup *old = secret_alloc(sizeof(*old));
	struct custody_set *set = NULL;
	struct keyctl_shares sh;
	char err[512], detail[256];
	int rc = 1;

	memset(&sh, 0, sizeof(sh));
	if (old == NULL)
		return 1;
	r.old = old;
	/* Before anyone types a share: the monitor decides (ADM_RESHARE), this
	 * only spares a holder the ceremony it would refuse. */
	if ((rc = keep_session(sock, session)) != 1) {
		if (rc == 0)
			fprintf(stderr, "sealadm: forbidden_role: the secadmin re-shares the master "
			    "secret\n");
		rc = 1;
		goto out;
	}
	rc = 1;
	if (console_gather_shares(o, cfg->quorum.threshold, "re-share", old) != 0)
		goto out;
	if (keyctl_set_new(cfg, &set, err, sizeof(err)) != 0) {
		fprintf(stderr, "sealadm: %s\n", err);
		goto out;
	}
	for (unsigned i = 0; i < old->n; i++) {
		detail[0] = '\0';
		if (custody_set_add(set, old->share[i], NULL, NULL, detail, sizeof(detail)) != 0) {
			fprintf(stderr, "sealadm: share %u: %s; nothing changed\n", i + 1, detail);
			goto out;
		}
	}
	if (keyctl_reshare(cfg, set, deliver, &r, &sh, err, sizeof(err)) != 0) {
		if (!r.refused)
			fprintf(stderr, "sealadm: re-share failed: %s\n", err);
		if (sh.count == 0) {
			/* keyctl hands the new shares back only when they may be in force. */
			drop_written(&r);
			if (r.count > 0)
				fprintf(stderr, "sealadm: nothing changed: the holders keep their old "
				    "shares and destroy the new ones%s\n", r.written ?
				    " (the files written are removed)" : "");
		} else
			fprintf(stderr, "sealadm: keep BOTH the old and the new shares: the next "
			    "unseal, with either set, settles which are in force\n");
		if (r.ledgered) {
			char result[MSG_RESULT_MAX];

			snprintf(result, sizeof(result), "failed: %.110s", err);
			/* One line of ASCII, as the message allows. */
			for (char *p = result; *p; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
					*p = '?';
			if (ledger_reshare(&r, result) != 0)
				fprintf(stderr, "sealadm: the failure could not be ledgered\n");
		}
		goto out;
	}
	printf("re-share done: the %u new shares (any %u) unlock the appliance; the old ones "
	    "unlock nothing\n", sh.count, sh.threshold);
	/* seald holds the old PIN for reconnecting: M new shares give it the new one. */
	for (unsigned i = 0; i < sh.threshold && i < MSG_BACKUP_SHARES_MAX; i++) {
		snprintf(old->share[i], sizeof(old->share[i]), "%s", sh.text[i]);
		old->n = i + 1;
	}
	if (ledger_reshare(&r, "done") != 0)
		fprintf(stderr, "sealadm: seald still holds the old PIN for reconnecting to the "
		    "token: restart seald and unseal it with the new shares when convenient\n");
	rc = 0;
out:
	keyctl_shares_free(&sh);
	custody_set_free(set);
	secret_free(&old);
	return rc;
}
