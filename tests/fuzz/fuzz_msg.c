/*
 * fuzz_msg: every typed IPC decoder (daemon/msg.c) over arbitrary bodies —
 * what the monitor reads from its net worker and from the admin socket, and
 * what the net worker and sealadm read back. Properties: no crash, no leak,
 * no read past the body; a body that decodes re-encodes and decodes to the
 * same bytes; a decoded on_behalf_of is empty or a principal name, and an
 * ADM_PRINCIPAL_ADD holds at most MSG_ACT_FOR_MAX may_act_for names and
 * MSG_ROLES_MAX role assignments.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/msg.h"
#include "lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decode m with the decoder for its type; re-encode; compare bodies. */
static void
roundtrip(struct ipc_msg *m)
{
	union {
		struct msg_ident_only io; struct msg_seal_get sg; struct msg_sign s;
		struct msg_verify v; struct msg_tsa t; struct msg_ledger_entries le;
		struct msg_proof p; struct msg_evidence e; struct msg_reply r;
		struct msg_sign_result sr; struct adm_unseal u; struct adm_seal_create sc;
		struct adm_principal_add pa; struct adm_grant_add ga; struct adm_unit_add ua;
		struct adm_role_assign ra; struct msg_request_file rf; struct adm_as as;
		struct adm_enrol en; struct adm_power pw; struct adm_backup bk; struct netcfg nc;
		struct adm_otp ot; struct adm_user au; struct adm_revoke rv;
		struct adm_tls_issue ti; struct adm_tls_install tn; struct adm_reshare rs;
		struct adm_totp_recover tr; struct adm_principal_name pn;
		struct adm_alert_thresholds at;
		struct msg_requests_list rl; struct msg_request_act rq;
	} v;
	struct ipc_msg again;
	int rc, enc = -1;

	memset(&v, 0, sizeof(v));
	switch (m->type) {
	case MSG_SEALS_LIST: case MSG_LEDGER_STH: case MSG_UNITS_LIST: case MSG_PRINCIPALS_LIST:
	case MSG_ROLES_LIST:
		if ((rc = msg_ident_only_dec(m, &v.io)) == 0)
			enc = msg_ident_only_enc(&again, m->type, m->id, &v.io);
		break;
	case MSG_SEAL_GET:
		if ((rc = msg_seal_get_dec(m, &v.sg)) == 0) enc = msg_seal_get_enc(&again, m->id, &v.sg);
		break;
	case MSG_SIGN:
		if ((rc = msg_sign_dec(m, &v.s)) == 0) {
			if (v.s.who.on_behalf_of[0] != '\0' &&
			    !msg_principal_ok(v.s.who.on_behalf_of, strlen(v.s.who.on_behalf_of)))
				abort();
			enc = msg_sign_enc(&again, m->id, &v.s);
		}
		break;
	case MSG_VERIFY:
		if ((rc = msg_verify_dec(m, &v.v)) == 0) enc = msg_verify_enc(&again, m->id, &v.v);
		break;
	case MSG_TSA:
		if ((rc = msg_tsa_dec(m, &v.t)) == 0) enc = msg_tsa_enc(&again, m->id, &v.t);
		break;
	case MSG_LEDGER_ENTRIES:
		if ((rc = msg_ledger_entries_dec(m, &v.le)) == 0)
			enc = msg_ledger_entries_enc(&again, m->id, &v.le);
		break;
	case MSG_PROOF_INCLUSION: case MSG_PROOF_CONSISTENCY:
		if ((rc = msg_proof_dec(m, &v.p)) == 0) enc = msg_proof_enc(&again, m->type, m->id, &v.p);
		break;
	case MSG_EVIDENCE:
		if ((rc = msg_evidence_dec(m, &v.e)) == 0) enc = msg_evidence_enc(&again, m->id, &v.e);
		break;
	case MSG_REPLY:
		if ((rc = msg_reply_dec(m, &v.r)) == 0) enc = msg_reply_enc(&again, m->id, &v.r);
		break;
	case MSG_SIGN_RESULT:
		if ((rc = msg_sign_result_dec(m, &v.sr)) == 0) enc = msg_sign_result_enc(&again, m->id, &v.sr);
		break;
	case ADM_POWER:
		if ((rc = adm_power_dec(m, &v.pw)) == 0) enc = adm_power_enc(&again, m->id, &v.pw);
		break;
	case ADM_RESHARE:
		if ((rc = adm_reshare_dec(m, &v.rs)) == 0) enc = adm_reshare_enc(&again, m->id, &v.rs);
		break;
	case ADM_TOTP_RECOVER:
		if ((rc = adm_totp_recover_dec(m, &v.tr)) == 0)
			enc = adm_totp_recover_enc(&again, m->id, &v.tr);
		break;
	case ADM_TLS_ISSUE:
		if ((rc = adm_tls_issue_dec(m, &v.ti)) == 0) enc = adm_tls_issue_enc(&again, m->id, &v.ti);
		break;
	case ADM_TLS_REQUEST:
		if ((rc = adm_tls_issue_dec(m, &v.ti)) == 0) enc = adm_tls_request_enc(&again, m->id, &v.ti);
		break;
	case ADM_TLS_INSTALL:
		if ((rc = adm_tls_install_dec(m, &v.tn)) == 0)
			enc = adm_tls_install_enc(&again, m->id, &v.tn);
		break;
	case ADM_REVOKE:
		if ((rc = adm_revoke_dec(m, &v.rv)) == 0) enc = adm_revoke_enc(&again, m->id, &v.rv);
		break;
	case ADM_TOTP_RESET:
		if ((rc = adm_user_dec(m, &v.au)) == 0) enc = adm_user_enc(&again, m->type, m->id, &v.au);
		break;
	case ADM_TOTP_ENROL: case ADM_TOTP_CONFIRM:
		if ((rc = adm_otp_dec(m, &v.ot)) == 0) enc = adm_otp_enc(&again, m->type, m->id, &v.ot);
		break;
	case ADM_NETWORK:
		if ((rc = adm_network_dec(m, &v.nc)) == 0) enc = adm_network_enc(&again, m->id, &v.nc);
		break;
	case ADM_BACKUP:
		if ((rc = adm_backup_dec(m, &v.bk)) == 0) enc = adm_backup_enc(&again, m->id, &v.bk);
		break;
	case ADM_ENROL:
		if ((rc = adm_enrol_dec(m, &v.en)) == 0) enc = adm_enrol_enc(&again, m->id, &v.en);
		break;
	case ADM_AS:
		if ((rc = adm_as_dec(m, &v.as)) == 0) {
			struct ipc_msg inner = { .type = v.as.type, .id = m->id };

			inner.body.data = (uint8_t *)v.as.body;
			inner.body.len = v.as.body_len;
			enc = adm_as_enc(&again, v.as.session, &inner);
		}
		break;
	case ADM_UNSEAL:
		if ((rc = adm_unseal_dec(m, &v.u)) == 0) enc = adm_unseal_enc(&again, m->id, &v.u);
		break;
	case ADM_SEAL_CREATE:
		if ((rc = adm_seal_create_dec(m, &v.sc)) == 0) enc = adm_seal_create_enc(&again, m->id, &v.sc);
		break;
	case ADM_PRINCIPAL_ADD:
		if ((rc = adm_principal_add_dec(m, &v.pa)) == 0) {
			if (v.pa.n_may_act_for > MSG_ACT_FOR_MAX || v.pa.n_roles > MSG_ROLES_MAX)
				abort();
			enc = adm_principal_add_enc(&again, m->id, &v.pa);
		}
		break;
	case ADM_GRANT_ADD:
		if ((rc = adm_grant_add_dec(m, &v.ga)) == 0) enc = adm_grant_add_enc(&again, m->id, &v.ga);
		break;
	case ADM_UNIT_ADD:
		if ((rc = adm_unit_add_dec(m, &v.ua)) == 0) enc = adm_unit_add_enc(&again, m->id, &v.ua);
		break;
	case ADM_ROLE_ASSIGN:
		if ((rc = adm_role_assign_dec(m, &v.ra)) == 0)
			enc = adm_role_assign_enc(&again, m->id, &v.ra);
		break;
	case ADM_ROLE_REVOKE:
		if ((rc = adm_role_assign_dec(m, &v.ra)) == 0)
			enc = adm_role_revoke_enc(&again, m->id, &v.ra);
		break;
	case ADM_PRINCIPAL_DISABLE:
		if ((rc = adm_principal_name_dec(m, &v.pn)) == 0)
			enc = adm_principal_name_enc(&again, m->id, &v.pn);
		break;
	case ADM_PRINCIPAL_ENABLE:
		if ((rc = adm_principal_name_dec(m, &v.pn)) == 0)
			enc = adm_principal_enable_enc(&again, m->id, &v.pn);
		break;
	case ADM_ALERT_THRESHOLDS_SET:
		if ((rc = adm_alert_thresholds_dec(m, &v.at)) == 0)
			enc = adm_alert_thresholds_enc(&again, m->id, &v.at);
		break;
	case MSG_REQUEST_FILE:
		if ((rc = msg_request_file_dec(m, &v.rf)) == 0)
			enc = msg_request_file_enc(&again, m->id, &v.rf);
		break;
	case MSG_REQUESTS_LIST:
		if ((rc = msg_requests_list_dec(m, &v.rl)) == 0)
			enc = msg_requests_list_enc(&again, m->id, &v.rl);
		break;
	case MSG_REQUEST_GET: case MSG_REQUEST_APPROVE: case MSG_REQUEST_REJECT:
		if ((rc = msg_request_act_dec(m, &v.rq)) == 0)
			enc = msg_request_act_enc(&again, m->type, m->id, &v.rq);
		break;
	default:
		return;
	}
	if (m->rpos > m->body.len)
		abort();
	if (rc != 0 && rc != SB_EINVAL)
		abort();	/* decoders answer 0 or SB_EINVAL, nothing else */
	if (enc == 0) {
		if (again.body.len != m->body.len ||
		    memcmp(again.body.data, m->body.data, m->body.len) != 0)
			abort();	/* decode is not the inverse of encode */
		ipc_msg_free(&again);
	} else if (rc == 0 && enc != SB_ELIMIT && enc != SB_EINVAL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = {
		MSG_SEALS_LIST, MSG_SEAL_GET, MSG_SIGN, MSG_VERIFY, MSG_TSA, MSG_LEDGER_STH,
		MSG_LEDGER_ENTRIES, MSG_PROOF_INCLUSION, MSG_PROOF_CONSISTENCY, MSG_EVIDENCE,
		MSG_REPLY, MSG_SIGN_RESULT, ADM_UNSEAL, ADM_SEAL_CREATE, ADM_PRINCIPAL_ADD,
		ADM_GRANT_ADD, MSG_UNITS_LIST, MSG_PRINCIPALS_LIST, MSG_ROLES_LIST, ADM_UNIT_ADD,
		ADM_ROLE_ASSIGN, MSG_REQUEST_FILE, MSG_REQUESTS_LIST, MSG_REQUEST_GET,
		MSG_REQUEST_APPROVE, MSG_REQUEST_REJECT, ADM_AS, ADM_ENROL, ADM_POWER,
		ADM_RESHARE, ADM_TOTP_RECOVER, ADM_TLS_ISSUE, ADM_TLS_INSTALL, ADM_REVOKE,
		ADM_TOTP_RESET, ADM_TOTP_ENROL, ADM_TOTP_CONFIRM, ADM_NETWORK, ADM_BACKUP,
		ADM_ROLE_REVOKE, ADM_PRINCIPAL_DISABLE, ADM_TLS_REQUEST, ADM_ALERT_THRESHOLDS_SET,
		ADM_PRINCIPAL_ENABLE,
	};
	struct ipc_msg m;

	if (size < 1)
		return 0;
	ipc_msg_init(&m, types[data[0] % (sizeof(types) / sizeof(types[0]))], 7);
	if (size > 1 && buf_append(&m.body, data + 1, size - 1) != 0) {
		ipc_msg_free(&m);
		return 0;
	}
	roundtrip(&m);
	ipc_msg_free(&m);
	return 0;
}
