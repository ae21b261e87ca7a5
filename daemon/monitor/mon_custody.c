/*
 * mon_custody — the console's re-share of the master secret, ledgered.
 *
 * sealadm changes the token's PINs itself (keyctl_reshare, in its own
 * process: a PKCS#11 application can log in as SO only while no other
 * session of it is logged in, and the monitor's is). Just before it does,
 * it asks the monitor to ledger the re-share (ADM_RESHARE, result "ok"),
 * with the present shares of the quorum, which the monitor checks against
 * the custody record itself (sealadm checked them too; a refusal here is
 * ledgered), and the new count and threshold, which must be those of the
 * configuration. When the change then fails, sealadm ledgers that too
 * ("failed:..."), accepted once, for the ceremony just ledgered "ok" only:
 * no one can mark someone else's re-share failed. When it is in force,
 * sealadm says so ("done") with M of the new shares, and the monitor takes
 * the new PIN to hold for reconnecting to the token (reshare_done).
 */
#include <stdio.h>
#include <string.h>

#include "../../hsm/keyctl.h"
#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../../lib/secret.h"
#include "mon_int.h"

/* The ceremony last ledgered "ok" (admin thread only): its "failed:" may follow. */
static char last_ok[MSG_CEREMONY_MAX];

static int
reshare_ledger(struct mon *mon, const struct adm_reshare *v, const char *result,
    const char *previous, const char *why, uint64_t *seq)
{
	uint8_t leaf[32];
	json_t *e = json_pack("{s:s,s:s,s:s,s:i,s:i,s:s,s:s*,s:s*}", "action", "custody.reshare",
	    "actor", mon->admin_actor, "result", result, "shares", (int)v->count, "threshold",
	    (int)v->threshold, "ceremony", v->ceremony, "previous_ceremony", previous,
	    "reason", why);

	return e == NULL ? SB_ENOMEM : mon_ledger(mon, e, seq, leaf);
}

/*
 * "done": the re-share just ledgered is in force. With M of the new shares
 * (checked against the custody record now in force), the HSM layer takes
 * the new user PIN to hold for reconnecting: the old one, held since the
 * unseal, would be refused at the next reconnect. Ledgered as done.
 */
static int
reshare_done(struct mon *mon, const struct adm_reshare *v, uint32_t id, struct ipc_msg *reply)
{
	struct custody_record rec;
	struct custody_set *set = NULL;
	char why[256] = "", cer[2 * CUSTODY_CEREMONY_LEN + 1];
	uint64_t seq = 0;
	int rc;

	if (last_ok[0] == '\0' || strcmp(v->ceremony, last_ok) != 0)
		return mon_reply_err(reply, id, 409, "no_reshare", "no re-share of ceremony %s "
		    "was ledgered here to be done", v->ceremony);
	if ((rc = mon_share_set(mon, &v->shares, &rec, &set, why, sizeof(why))) == 0) {
		mon_hex(rec.ceremony, sizeof(rec.ceremony), cer);
		if (strcmp(cer, v->ceremony) != 0) {
			snprintf(why, sizeof(why), "the custody record in force is of ceremony %s, "
			    "not %s", cer, v->ceremony);
			rc = SB_ESTATE;
		} else if (mon_is_ready(mon))
			rc = keyctl_repin(mon->cfg, set, mon->hsm, why, sizeof(why));
	}
	custody_set_free(set);
	if (rc == SB_ENOMEM)
		return rc;
	if (rc != 0) {
		log_err("monitor: after the re-share by %s the new PIN was not taken: %s; an "
		    "HSM reconnect needs seald restarted and unsealed with the new shares",
		    mon->admin_actor, why);
		return mon_reply_err(reply, id, 409, "not_taken", "%s", why);
	}
	last_ok[0] = '\0';
	if ((rc = reshare_ledger(mon, v, "done", NULL, NULL, &seq)) != 0)
		return mon_reply_err(reply, id, 503, "ledger_unavailable", "%s", sb_strerror(rc));
	return mon_reply_json(reply, id, 200, json_pack("{s:I}", "seq", (json_int_t)seq));
}

int
mon_adm_reshare(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_reshare *v = secret_alloc(sizeof(*v));
	struct custody_record rec;
	struct custody_set *set = NULL;
	char why[256], prev[2 * CUSTODY_CEREMONY_LEN + 1];
	uint64_t seq = 0;
	int rc;

	if (v == NULL)
		return SB_ENOMEM;
	if (adm_reshare_dec(m, v) != 0) {
		rc = mon_reply_err(reply, m->id, 400, "bad_request", "malformed re-share (the "
		    "shares of the quorum, the new count, threshold and ceremony, a result)");
		goto out;
	}
	if (strcmp(v->result, "done") == 0) {
		rc = reshare_done(mon, v, m->id, reply);
		goto out;
	}
	if (strcmp(v->result, "ok") != 0) {
		/* The change did not complete: said as it was, for the re-share just
		 * ledgered, once. */
		if (last_ok[0] == '\0' || strcmp(v->ceremony, last_ok) != 0) {
			rc = mon_reply_err(reply, m->id, 409, "no_reshare", "no re-share of "
			    "ceremony %s was ledgered here to fail", v->ceremony);
			goto out;
		}
		last_ok[0] = '\0';
		if ((rc = reshare_ledger(mon, v, v->result, NULL, NULL, &seq)) != 0)
			rc = mon_reply_err(reply, m->id, 503, "ledger_unavailable", "%s",
			    sb_strerror(rc));
		else
			rc = mon_reply_json(reply, m->id, 200, json_pack("{s:I}", "seq",
			    (json_int_t)seq));
		goto out;
	}
	why[0] = '\0';
	if ((rc = mon_share_set(mon, &v->shares, &rec, &set, why, sizeof(why))) == 0)
		rc = keyctl_check_quorum(&rec, set, why, sizeof(why));
	custody_set_free(set);
	if (rc == SB_ECONFIG || rc == SB_ENOTFOUND) {
		rc = mon_reply_err(reply, m->id, 409, "not_provisioned", "%s", why);
		goto out;
	}
	if (rc == SB_ENOMEM)
		goto out;
	if (rc != 0) {
		log_warn("monitor: re-share by %s refused: %s", mon->admin_actor, why);
		(void)reshare_ledger(mon, v, "refused:bad_share", NULL, why, &seq);
		rc = mon_reply_err(reply, m->id, 403, "bad_share", "%s", why);
		goto out;
	}
	if (v->count != mon->cfg->quorum.shares || v->threshold != mon->cfg->quorum.threshold) {
		rc = mon_reply_err(reply, m->id, 409, "wrong_quorum", "the new shares are %u, any "
		    "%u; the configuration says %u, any %u (quorum.shares, quorum.threshold)",
		    v->count, v->threshold, mon->cfg->quorum.shares, mon->cfg->quorum.threshold);
		goto out;
	}
	mon_hex(rec.ceremony, sizeof(rec.ceremony), prev);
	if (strcmp(prev, v->ceremony) == 0) {
		rc = mon_reply_err(reply, m->id, 400, "bad_request", "the new ceremony is the "
		    "present one");
		goto out;
	}
	if ((rc = reshare_ledger(mon, v, "ok", prev, NULL, &seq)) != 0) {
		rc = mon_reply_err(reply, m->id, 503, "ledger_unavailable", "%s; nothing may "
		    "change", sb_strerror(rc));
		goto out;
	}
	snprintf(last_ok, sizeof(last_ok), "%s", v->ceremony);
	log_info("monitor: re-share by %s ledgered (%u shares, threshold %u)", mon->admin_actor,
	    v->count, v->threshold);
	rc = mon_reply_json(reply, m->id, 200, json_pack("{s:I}", "seq", (json_int_t)seq));
out:
	secret_free(&v);
	return rc;
}
