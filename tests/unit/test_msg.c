/* daemon/msg: the typed messages whose shape changed with on_behalf_of. */
#include <stdio.h>
#include <string.h>

#include <openssl/obj_mac.h>

#include "daemon/msg.h"
#include "check.h"

static void
test_principal_name_rule(void)
{
	char n[MSG_ID_MAX + 1];

	CHECK(msg_principal_ok("a", 1));
	CHECK(msg_principal_ok("alice.w_1-x@example.org", 23));
	CHECK(!msg_principal_ok("", 0));
	CHECK(!msg_principal_ok("a b", 3));
	CHECK(!msg_principal_ok("a/b", 3));
	CHECK(!msg_principal_ok("a\0b", 3));
	CHECK(!msg_principal_ok("\xc3\xa9", 2));
	memset(n, 'p', sizeof(n));
	CHECK(msg_principal_ok(n, MSG_ID_MAX - 1));
	CHECK(!msg_principal_ok(n, MSG_ID_MAX));
}

static void
fill_add(struct adm_principal_add *v, size_t n)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "erp");
	v->cert_pem = (const uint8_t *)"PEM";
	v->cert_len = 3;
	for (size_t i = 0; i < n && i < MSG_ACT_FOR_MAX; i++)
		snprintf(v->may_act_for[i], sizeof(v->may_act_for[i]), "person-%zu", i);
	v->n_may_act_for = (uint16_t)n;
}

static void
test_principal_add_round_trip(void)
{
	struct adm_principal_add v, d;
	struct ipc_msg m;

	for (size_t n = 0; n <= MSG_ACT_FOR_MAX; n += MSG_ACT_FOR_MAX / 2) {
		fill_add(&v, n);
		CHECK_RC(adm_principal_add_enc(&m, 9, &v), 0);
		memset(&d, 0x55, sizeof(d));
		CHECK_RC(adm_principal_add_dec(&m, &d), 0);
		ipc_msg_free(&m);
		CHECK_STR(d.name, "erp");
		CHECK(d.cert_len == 3 && d.n_may_act_for == n);
		for (size_t i = 0; i < n; i++)
			CHECK_STR(d.may_act_for[i], v.may_act_for[i]);
	}
}

static void
test_principal_add_bounds(void)
{
	struct adm_principal_add v, d;
	struct ipc_msg m;

	fill_add(&v, MSG_ACT_FOR_MAX + 1);
	CHECK_RC(adm_principal_add_enc(&m, 9, &v), SB_ELIMIT);
	/* By hand: a count past the bound, with the names it announces. */
	ipc_msg_init(&m, ADM_PRINCIPAL_ADD, 9);
	CHECK_RC(ipc_put_str(&m, "erp"), 0);
	CHECK_RC(ipc_put_bytes(&m, "PEM", 3), 0);
	CHECK_RC(ipc_put_u16(&m, MSG_ACT_FOR_MAX + 1), 0);
	for (int i = 0; i <= MSG_ACT_FOR_MAX; i++)
		CHECK_RC(ipc_put_str(&m, "p"), 0);
	CHECK_RC(adm_principal_add_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	/* A count that announces more names than follow, and a name over 63. */
	ipc_msg_init(&m, ADM_PRINCIPAL_ADD, 9);
	CHECK_RC(ipc_put_str(&m, "erp"), 0);
	CHECK_RC(ipc_put_bytes(&m, "PEM", 3), 0);
	CHECK_RC(ipc_put_u16(&m, 2), 0);
	CHECK_RC(ipc_put_str(&m, "p"), 0);
	CHECK_RC(adm_principal_add_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	ipc_msg_init(&m, ADM_PRINCIPAL_ADD, 9);
	CHECK_RC(ipc_put_str(&m, "erp"), 0);
	CHECK_RC(ipc_put_bytes(&m, "PEM", 3), 0);
	CHECK_RC(ipc_put_u16(&m, 1), 0);
	CHECK_RC(ipc_put_bytes(&m, "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp", 64), 0);
	CHECK_RC(adm_principal_add_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	/* The list is not optional: a body without it is refused. */
	ipc_msg_init(&m, ADM_PRINCIPAL_ADD, 9);
	CHECK_RC(ipc_put_str(&m, "erp"), 0);
	CHECK_RC(ipc_put_bytes(&m, "PEM", 3), 0);
	CHECK_RC(adm_principal_add_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
}

static void
test_principal_add_roles(void)
{
	struct adm_principal_add v, d;
	struct ipc_msg m;

	fill_add(&v, 1);
	snprintf(v.kind, sizeof(v.kind), "application");
	snprintf(v.unit, sizeof(v.unit), "sub-1");
	for (size_t i = 0; i < MSG_ROLES_MAX; i++) {
		snprintf(v.roles[i], sizeof(v.roles[i]), "role-%zu", i);
		if (i % 2 == 0)
			snprintf(v.role_units[i], sizeof(v.role_units[i]), "unit-%zu", i);
	}
	v.n_roles = MSG_ROLES_MAX;
	CHECK_RC(adm_principal_add_enc(&m, 9, &v), 0);
	memset(&d, 0x55, sizeof(d));
	CHECK_RC(adm_principal_add_dec(&m, &d), 0);
	ipc_msg_free(&m);
	CHECK_STR(d.kind, "application");
	CHECK_STR(d.unit, "sub-1");
	CHECK(d.n_roles == MSG_ROLES_MAX);
	for (size_t i = 0; i < MSG_ROLES_MAX; i++) {
		CHECK_STR(d.roles[i], v.roles[i]);
		CHECK_STR(d.role_units[i], v.role_units[i]);
	}
	v.n_roles = MSG_ROLES_MAX + 1;
	CHECK_RC(adm_principal_add_enc(&m, 9, &v), SB_ELIMIT);
	/* By hand: a role count past the bound; then a body that stops before the roles. */
	ipc_msg_init(&m, ADM_PRINCIPAL_ADD, 9);
	CHECK_RC(ipc_put_str(&m, "erp"), 0);
	CHECK_RC(ipc_put_bytes(&m, "PEM", 3), 0);
	CHECK_RC(ipc_put_u16(&m, 0), 0);
	CHECK_RC(ipc_put_str(&m, "person"), 0);
	CHECK_RC(ipc_put_str(&m, ""), 0);
	CHECK_RC(ipc_put_u16(&m, MSG_ROLES_MAX + 1), 0);
	for (int i = 0; i <= MSG_ROLES_MAX; i++) {
		CHECK_RC(ipc_put_str(&m, "requester"), 0);
		CHECK_RC(ipc_put_str(&m, ""), 0);
	}
	CHECK_RC(adm_principal_add_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	ipc_msg_init(&m, ADM_PRINCIPAL_ADD, 9);
	CHECK_RC(ipc_put_str(&m, "erp"), 0);
	CHECK_RC(ipc_put_bytes(&m, "PEM", 3), 0);
	CHECK_RC(ipc_put_u16(&m, 0), 0);
	CHECK_RC(adm_principal_add_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
}

static void
test_unit_and_role_messages(void)
{
	struct adm_unit_add u = { "sub-1", "Subsidiary One", "group" }, ud;
	struct adm_role_assign r = { "alice", "approver", "" }, rd;
	struct ipc_msg m;

	CHECK_RC(adm_unit_add_enc(&m, 3, &u), 0);
	CHECK_RC(adm_unit_add_dec(&m, &ud), 0);
	ipc_msg_free(&m);
	CHECK_STR(ud.id, "sub-1");
	CHECK_STR(ud.name, "Subsidiary One");
	CHECK_STR(ud.parent, "group");
	CHECK_RC(adm_role_assign_enc(&m, 3, &r), 0);
	CHECK_RC(adm_role_assign_dec(&m, &rd), 0);
	ipc_msg_free(&m);
	CHECK_STR(rd.principal, "alice");
	CHECK_STR(rd.role, "approver");
	CHECK_STR(rd.unit, "");
	/* A role name over 31 bytes, and a body cut short. */
	ipc_msg_init(&m, ADM_ROLE_ASSIGN, 3);
	CHECK_RC(ipc_put_str(&m, "alice"), 0);
	CHECK_RC(ipc_put_str(&m, "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"), 0);
	CHECK_RC(ipc_put_str(&m, ""), 0);
	CHECK_RC(adm_role_assign_dec(&m, &rd), SB_EINVAL);
	ipc_msg_free(&m);
	ipc_msg_init(&m, ADM_UNIT_ADD, 3);
	CHECK_RC(ipc_put_str(&m, "sub-1"), 0);
	CHECK_RC(adm_unit_add_dec(&m, &ud), SB_EINVAL);
	ipc_msg_free(&m);
}

/* The requests' messages: each field through encode/decode; a reason
 * over 255 bytes, a trailing byte and a short body refused. */
static void
test_request_messages(void)
{
	struct msg_request_file f = { .kind = "deactivate", .seal = "s1" }, fd;
	struct msg_requests_list l = { .state = "pending", .kind = "freeze" }, ld;
	struct msg_request_act a = { .request = 42, .reason = "still in use" }, ad;
	struct ipc_msg m;
	char big[300];

	memset(f.who.cert_sha256, 7, sizeof(f.who.cert_sha256));
	memset(f.reason, 'r', sizeof(f.reason) - 1);
	CHECK_RC(msg_request_file_enc(&m, 3, &f), 0);
	CHECK_RC(msg_request_file_dec(&m, &fd), 0);
	ipc_msg_free(&m);
	CHECK(memcmp(fd.who.cert_sha256, f.who.cert_sha256, 32) == 0);
	CHECK_STR(fd.kind, "deactivate");
	CHECK_STR(fd.seal, "s1");
	CHECK(strlen(fd.reason) == 255);
	CHECK_RC(msg_requests_list_enc(&m, 3, &l), 0);
	CHECK_RC(msg_requests_list_dec(&m, &ld), 0);
	ipc_msg_free(&m);
	CHECK_STR(ld.state, "pending");
	CHECK_STR(ld.kind, "freeze");
	CHECK_RC(msg_request_act_enc(&m, MSG_REQUEST_REJECT, 3, &a), 0);
	CHECK(m.type == MSG_REQUEST_REJECT);
	CHECK_RC(msg_request_act_dec(&m, &ad), 0);
	CHECK(ad.request == 42);
	CHECK_STR(ad.reason, "still in use");
	/* One byte more is refused. */
	CHECK_RC(ipc_put_u8(&m, 0), 0);
	m.rpos = 0;
	CHECK_RC(msg_request_act_dec(&m, &ad), SB_EINVAL);
	ipc_msg_free(&m);
	/* A reason of 256 bytes, written by hand. */
	memset(big, 'x', 256);
	big[256] = '\0';
	ipc_msg_init(&m, MSG_REQUEST_FILE, 3);
	CHECK_RC(ipc_put_bytes(&m, f.who.cert_sha256, 32), 0);
	CHECK_RC(ipc_put_str(&m, ""), 0);
	CHECK_RC(ipc_put_str(&m, ""), 0);
	CHECK_RC(ipc_put_str(&m, "freeze"), 0);
	CHECK_RC(ipc_put_str(&m, "s1"), 0);
	CHECK_RC(ipc_put_str(&m, big), 0);
	CHECK_RC(msg_request_file_dec(&m, &fd), SB_EINVAL);
	ipc_msg_free(&m);
	/* A list message cut short. */
	ipc_msg_init(&m, MSG_REQUESTS_LIST, 3);
	CHECK_RC(ipc_put_bytes(&m, f.who.cert_sha256, 32), 0);
	CHECK_RC(ipc_put_str(&m, ""), 0);
	CHECK_RC(ipc_put_str(&m, ""), 0);
	CHECK_RC(ipc_put_str(&m, "pending"), 0);
	CHECK_RC(msg_requests_list_dec(&m, &ld), SB_EINVAL);
	ipc_msg_free(&m);
}

/* A sign message whose ident's on_behalf_of is written by hand. */
static void
sign_with_behalf(struct ipc_msg *m, const char *behalf)
{
	uint8_t sha[32] = { 0 };

	ipc_msg_init(m, MSG_SIGN, 5);
	(void)ipc_put_bytes(m, sha, sizeof(sha));
	(void)ipc_put_str(m, "CN=erp");
	(void)ipc_put_str(m, behalf);
	(void)ipc_put_str(m, "demo-seal");
	(void)ipc_put_u16(m, NID_sha256);
	(void)ipc_put_bytes(m, sha, sizeof(sha));
	(void)ipc_put_str(m, "doc.pdf");
	(void)ipc_put_str(m, "");		/* document_type */
	(void)ipc_put_str(m, "");		/* otp */
	(void)ipc_put_str(m, "");		/* approval */
	(void)ipc_put_u8(m, MSG_PROFILE_CADES);
}

static void
test_sign_profiles(void)
{
	struct msg_sign v = { .md_nid = NID_sha256, .digest_len = 32,
	    .profile = MSG_PROFILE_PADES }, w;
	struct ipc_msg m;

	snprintf(v.seal, sizeof(v.seal), "demo-seal");
	snprintf(v.document_name, sizeof(v.document_name), "contract.pdf");
	snprintf(v.document_type, sizeof(v.document_type), "contract");
	snprintf(v.otp, sizeof(v.otp), "123456");
	v.pdf.page = 3;
	v.pdf.x = 7200;
	v.pdf.y = 1;
	v.pdf.w = 0xffffffffu;
	v.pdf.h = 12345;
	v.pdf.input_sha256[31] = 0xaa;
	snprintf(v.pdf.reason, sizeof(v.pdf.reason), "采购合同");
	CHECK_RC(msg_sign_enc(&m, 9, &v), 0);
	CHECK_RC(msg_sign_dec(&m, &w), 0);
	CHECK(w.profile == MSG_PROFILE_PADES && w.pdf.page == 3 && w.pdf.x == 7200 &&
	    w.pdf.y == 1 && w.pdf.w == 0xffffffffu && w.pdf.h == 12345);
	CHECK(w.pdf.input_sha256[31] == 0xaa);
	CHECK_STR(w.pdf.reason, "采购合同");
	CHECK_STR(w.document_type, "contract");
	CHECK_STR(w.otp, "123456");
	ipc_msg_free(&m);
	/* A CAdES message carries no PDF block; an unknown profile is refused. */
	v.profile = MSG_PROFILE_CADES;
	CHECK_RC(msg_sign_enc(&m, 9, &v), 0);
	CHECK_RC(msg_sign_dec(&m, &w), 0);
	CHECK(w.profile == MSG_PROFILE_CADES && w.pdf.page == 0 && w.pdf.reason[0] == '\0');
	ipc_msg_free(&m);
	v.profile = 2;
	CHECK_RC(msg_sign_enc(&m, 9, &v), 0);
	CHECK_RC(msg_sign_dec(&m, &w), SB_EINVAL);
	ipc_msg_free(&m);
	/* A PAdES message cut before its reason. */
	v.profile = MSG_PROFILE_PADES;
	CHECK_RC(msg_sign_enc(&m, 9, &v), 0);
	m.body.len -= 4 + strlen(v.pdf.reason);
	CHECK_RC(msg_sign_dec(&m, &w), SB_EINVAL);
	ipc_msg_free(&m);
}

static void
test_ident_on_behalf_of_rule(void)
{
	static const char *const bad[] = { "a b", "a/b", "alice\n", "\xc3\xa9mile", "'; --" };
	struct msg_sign v;
	struct ipc_msg m;

	sign_with_behalf(&m, "");
	CHECK_RC(msg_sign_dec(&m, &v), 0);
	ipc_msg_free(&m);
	CHECK_STR(v.who.on_behalf_of, "");
	sign_with_behalf(&m, "alice@example.org");
	CHECK_RC(msg_sign_dec(&m, &v), 0);
	ipc_msg_free(&m);
	CHECK_STR(v.who.on_behalf_of, "alice@example.org");
	/* The monitor never sees another name: a net worker that sends one is broken. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sign_with_behalf(&m, bad[i]);
		CHECK_RC(msg_sign_dec(&m, &v), SB_EINVAL);
		ipc_msg_free(&m);
		memset(&v, 0, sizeof(v));
		snprintf(v.who.on_behalf_of, sizeof(v.who.on_behalf_of), "%s", bad[i]);
		CHECK_RC(msg_sign_enc(&m, 5, &v), SB_EINVAL);
	}
}

/* A ledger listing written by hand: start 0, count 1, then the filters. */
static void
entries_by_hand(struct ipc_msg *m, const char *seal, const char *principal, uint64_t from,
    uint64_t to)
{
	uint8_t sha[32] = { 0 };

	ipc_msg_init(m, MSG_LEDGER_ENTRIES, 6);
	(void)ipc_put_bytes(m, sha, sizeof(sha));
	(void)ipc_put_str(m, "CN=aud");
	(void)ipc_put_str(m, "");
	(void)ipc_put_u64(m, 0);
	(void)ipc_put_u32(m, 1);
	(void)ipc_put_str(m, seal);
	(void)ipc_put_str(m, principal);
	(void)ipc_put_u64(m, from);
	(void)ipc_put_u64(m, to);
}

static void
test_ledger_entries_filters(void)
{
	struct msg_ledger_entries v = { .start = 5, .count = 1000, .seal = "s-1.a_B",
		.principal = "alice@sub1", .from_ms = 1, .to_ms = UINT64_MAX }, d;
	struct ipc_msg m;
	char big[MSG_ID_MAX + 1];

	CHECK_RC(msg_ledger_entries_enc(&m, 3, &v), 0);
	CHECK_RC(msg_ledger_entries_dec(&m, &d), 0);
	ipc_msg_free(&m);
	CHECK(d.start == 5 && d.count == 1000 && d.from_ms == 1 && d.to_ms == UINT64_MAX);
	CHECK_STR(d.seal, "s-1.a_B");
	CHECK_STR(d.principal, "alice@sub1");
	/* No filters: "" and the whole time line. */
	memset(&v, 0, sizeof(v));
	v.count = 1;
	v.to_ms = UINT64_MAX;
	CHECK_RC(msg_ledger_entries_enc(&m, 3, &v), 0);
	CHECK_RC(msg_ledger_entries_dec(&m, &d), 0);
	CHECK(d.seal[0] == '\0' && d.principal[0] == '\0' && d.from_ms == 0);
	/* One byte more is refused. */
	CHECK_RC(ipc_put_u8(&m, 0), 0);
	m.rpos = 0;
	CHECK_RC(msg_ledger_entries_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	/* The encoder refuses what the decoder would. */
	v.to_ms = 0;
	CHECK_RC(msg_ledger_entries_enc(&m, 3, &v), SB_EINVAL);
	ipc_msg_free(&m);
	v.to_ms = UINT64_MAX;
	snprintf(v.seal, sizeof(v.seal), "a/b");
	CHECK_RC(msg_ledger_entries_enc(&m, 3, &v), SB_EINVAL);
	ipc_msg_free(&m);
	/* Hand-made: a seal or principal of other characters, too long, an empty
	 * window, a cut body. */
	entries_by_hand(&m, "a b", "", 0, UINT64_MAX);
	CHECK_RC(msg_ledger_entries_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	entries_by_hand(&m, "", "a/b", 0, UINT64_MAX);
	CHECK_RC(msg_ledger_entries_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	memset(big, 'x', MSG_ID_MAX);
	big[MSG_ID_MAX] = '\0';
	entries_by_hand(&m, big, "", 0, UINT64_MAX);
	CHECK_RC(msg_ledger_entries_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	entries_by_hand(&m, "", "", 7, 7);
	CHECK_RC(msg_ledger_entries_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	entries_by_hand(&m, "s1", "erp", 0, 9);
	CHECK_RC(msg_ledger_entries_dec(&m, &d), 0);
	m.body.len -= 8;	/* without to_ms */
	m.rpos = 0;
	CHECK_RC(msg_ledger_entries_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
}

static void
test_stats_message(void)
{
	struct msg_ident_only v, d;
	struct ipc_msg m;

	memset(&v, 0, sizeof(v));
	memset(v.who.cert_sha256, 9, sizeof(v.who.cert_sha256));
	snprintf(v.who.subject, sizeof(v.who.subject), "CN=hq");
	CHECK_RC(msg_ident_only_enc(&m, MSG_STATS, 4, &v), 0);
	CHECK(m.type == MSG_STATS);
	CHECK_RC(msg_ident_only_dec(&m, &d), 0);
	ipc_msg_free(&m);
	CHECK(memcmp(d.who.cert_sha256, v.who.cert_sha256, 32) == 0);
	CHECK_STR(d.who.subject, "CN=hq");
}

static void
test_grant_add_conditions(void)
{
	struct adm_grant_add v, d;
	struct ipc_msg m;

	memset(&v, 0, sizeof(v));
	snprintf(v.seal, sizeof(v.seal), "s1");
	snprintf(v.principal, sizeof(v.principal), "alice");
	v.n_doc_types = MSG_GRANT_LIST_MAX;
	for (size_t i = 0; i < v.n_doc_types; i++)
		snprintf(v.doc_types[i], sizeof(v.doc_types[i]), "type-%zu", i);
	v.per_day = 5;
	v.per_month = 0xfffffffeu;
	v.valid_from = 1767225600;
	v.valid_to = UINT64_MAX;
	v.hours = 0x3fe00;
	v.days = 0x1f;
	v.approval_k = 255;
	snprintf(v.approval_group, sizeof(v.approval_group), "board");
	snprintf(v.confirm, sizeof(v.confirm), "totp");
	v.n_apps = 2;
	snprintf(v.apps[0], sizeof(v.apps[0]), "erp");
	snprintf(v.apps[1], sizeof(v.apps[1]), "oa@hq");
	CHECK_RC(adm_grant_add_enc(&m, 4, &v), 0);
	memset(&d, 0x55, sizeof(d));
	CHECK_RC(adm_grant_add_dec(&m, &d), 0);
	ipc_msg_free(&m);
	CHECK(memcmp(&v, &d, sizeof(v)) == 0);
	/* A grant without conditions is all zeros after its names. */
	memset(&v, 0, sizeof(v));
	snprintf(v.seal, sizeof(v.seal), "s1");
	snprintf(v.principal, sizeof(v.principal), "bob");
	CHECK_RC(adm_grant_add_enc(&m, 4, &v), 0);
	CHECK_RC(adm_grant_add_dec(&m, &d), 0);
	ipc_msg_free(&m);
	CHECK(memcmp(&v, &d, sizeof(v)) == 0);
	/* Bounds: one list entry too many is refused by both sides... */
	v.n_apps = MSG_GRANT_LIST_MAX + 1;
	CHECK_RC(adm_grant_add_enc(&m, 4, &v), SB_ELIMIT);
	ipc_msg_free(&m);
	v.n_apps = 0;
	ipc_msg_init(&m, ADM_GRANT_ADD, 4);
	CHECK_RC(ipc_put_str(&m, "s1"), 0);
	CHECK_RC(ipc_put_str(&m, "bob"), 0);
	CHECK_RC(ipc_put_u16(&m, MSG_GRANT_LIST_MAX + 1), 0);
	for (int i = 0; i <= MSG_GRANT_LIST_MAX; i++)
		CHECK_RC(ipc_put_str(&m, "x"), 0);
	CHECK_RC(adm_grant_add_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	/* ...a document type over 31 bytes, the old two-field body and a
	 * trailing byte are refused. */
	ipc_msg_init(&m, ADM_GRANT_ADD, 4);
	CHECK_RC(ipc_put_str(&m, "s1"), 0);
	CHECK_RC(ipc_put_str(&m, "bob"), 0);
	CHECK_RC(ipc_put_u16(&m, 1), 0);
	CHECK_RC(ipc_put_str(&m, "abcdefghijklmnopqrstuvwxyz012345"), 0);	/* 32 */
	CHECK_RC(adm_grant_add_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	ipc_msg_init(&m, ADM_GRANT_ADD, 4);
	CHECK_RC(ipc_put_str(&m, "s1"), 0);
	CHECK_RC(ipc_put_str(&m, "bob"), 0);
	CHECK_RC(adm_grant_add_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	v.n_doc_types = 0;
	CHECK_RC(adm_grant_add_enc(&m, 4, &v), 0);
	CHECK_RC(ipc_put_u8(&m, 0), 0);
	CHECK_RC(adm_grant_add_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
}

static void
test_grants_list(void)
{
	struct msg_grants_list v = { .seal = "s1" }, d;
	struct ipc_msg m;

	v.who.cert_sha256[0] = 7;
	snprintf(v.who.subject, sizeof(v.who.subject), "CN=aud");
	CHECK_RC(msg_grants_list_enc(&m, 5, &v), 0);
	CHECK(m.type == MSG_GRANTS_LIST);
	CHECK_RC(msg_grants_list_dec(&m, &d), 0);
	ipc_msg_free(&m);
	CHECK_STR(d.seal, "s1");
	CHECK_STR(d.who.subject, "CN=aud");
	CHECK(d.who.cert_sha256[0] == 7);
}

static void
test_totp_messages(void)
{
	struct msg_totp v = { .otp = "12345678" }, d;
	static const uint16_t types[] = { MSG_TOTP_ENROL, MSG_TOTP_CONFIRM, MSG_TOTP_VERIFY };
	static const char *const bad[] = { "12345", "123456789", "12a456", " 123456", "-12345" };
	struct ipc_msg m;

	memset(v.who.cert_sha256, 9, sizeof(v.who.cert_sha256));
	snprintf(v.who.subject, sizeof(v.who.subject), "CN=alice");
	for (size_t i = 0; i < 3; i++) {
		CHECK_RC(msg_totp_enc(&m, types[i], 5, &v), 0);
		CHECK(m.type == types[i] && m.id == 5);
		memset(&d, 0x55, sizeof(d));
		CHECK_RC(msg_totp_dec(&m, &d), 0);
		ipc_msg_free(&m);
		CHECK(memcmp(d.who.cert_sha256, v.who.cert_sha256, 32) == 0);
		CHECK_STR(d.who.subject, "CN=alice");
		CHECK_STR(d.otp, "12345678");
	}
	/* Enrolment without a code. */
	v.otp[0] = '\0';
	CHECK_RC(msg_totp_enc(&m, MSG_TOTP_ENROL, 5, &v), 0);
	CHECK_RC(msg_totp_dec(&m, &d), 0);
	CHECK_STR(d.otp, "");
	/* One byte more is refused. */
	CHECK_RC(ipc_put_u8(&m, 0), 0);
	m.rpos = 0;
	CHECK_RC(msg_totp_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	/* Anything but 6-8 digits: the encoder refuses it, and so does the decoder. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(v.otp, sizeof(v.otp), "%s", bad[i]);
		CHECK_RC(msg_totp_enc(&m, MSG_TOTP_VERIFY, 5, &v), SB_EINVAL);
		ipc_msg_init(&m, MSG_TOTP_VERIFY, 5);
		CHECK_RC(ipc_put_bytes(&m, v.who.cert_sha256, 32), 0);
		CHECK_RC(ipc_put_str(&m, "CN=alice"), 0);
		CHECK_RC(ipc_put_str(&m, ""), 0);
		CHECK_RC(ipc_put_str(&m, bad[i]), 0);
		CHECK_RC(msg_totp_dec(&m, &d), SB_EINVAL);
		ipc_msg_free(&m);
	}
	/* A code over MSG_OTP_MAX - 1 bytes, and a body cut short. */
	ipc_msg_init(&m, MSG_TOTP_VERIFY, 5);
	CHECK_RC(ipc_put_bytes(&m, v.who.cert_sha256, 32), 0);
	CHECK_RC(ipc_put_str(&m, "CN=alice"), 0);
	CHECK_RC(ipc_put_str(&m, ""), 0);
	CHECK_RC(ipc_put_str(&m, "1234567890123456"), 0);
	CHECK_RC(msg_totp_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	ipc_msg_init(&m, MSG_TOTP_VERIFY, 5);
	CHECK_RC(ipc_put_bytes(&m, v.who.cert_sha256, 32), 0);
	CHECK_RC(ipc_put_str(&m, "CN=alice"), 0);
	CHECK_RC(ipc_put_str(&m, ""), 0);
	CHECK_RC(msg_totp_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
}

int
main(void)
{
	RUN(test_principal_name_rule, "principal names are [A-Za-z0-9._@-]{1,63}");
	RUN(test_grant_add_conditions, "ADM_GRANT_ADD carries every grant condition through encode/decode; 17 list entries, a 32-byte type, the old short body or a trailing byte are refused");
	RUN(test_grants_list, "MSG_GRANTS_LIST carries the identity and the seal");
	RUN(test_principal_add_round_trip, "ADM_PRINCIPAL_ADD carries 0..32 may_act_for names through encode/decode");
	RUN(test_sign_profiles, "MSG_SIGN carries document type, one-time code and, for PAdES only, the PDF block; an unknown profile or a cut block is refused");
	RUN(test_principal_add_roles, "ADM_PRINCIPAL_ADD carries kind, unit and 0..16 role assignments; a count past 16 or a body without them is refused");
	RUN(test_unit_and_role_messages, "ADM_UNIT_ADD and ADM_ROLE_ASSIGN round-trip; a role name over 31 or a short body is refused");
	RUN(test_principal_add_bounds, "ADM_PRINCIPAL_ADD: too many names, a short list, a name over 63 or no list are refused");
	RUN(test_request_messages, "requests' messages round-trip; a reason over 255 bytes, a trailing byte or a short body is refused");
	RUN(test_ident_on_behalf_of_rule, "ident: on_behalf_of is empty or a principal name, else encode and decode refuse it");
	RUN(test_ledger_entries_filters, "MSG_LEDGER_ENTRIES carries seal, principal and time window; bad ones, an empty window, a trailing or a missing byte are refused");
	RUN(test_stats_message, "MSG_STATS is an ident-only message that round-trips");
	RUN(test_totp_messages, "MSG_TOTP_* carry the identity and a code of 6-8 digits or none; other codes, a trailing byte or a short body are refused");
	return check_done();
}
