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

int
main(void)
{
	RUN(test_principal_name_rule, "principal names are [A-Za-z0-9._@-]{1,63}");
	RUN(test_principal_add_round_trip, "ADM_PRINCIPAL_ADD carries 0..32 may_act_for names through encode/decode");
	RUN(test_principal_add_roles, "ADM_PRINCIPAL_ADD carries kind, unit and 0..16 role assignments; a count past 16 or a body without them is refused");
	RUN(test_unit_and_role_messages, "ADM_UNIT_ADD and ADM_ROLE_ASSIGN round-trip; a role name over 31 or a short body is refused");
	RUN(test_principal_add_bounds, "ADM_PRINCIPAL_ADD: too many names, a short list, a name over 63 or no list are refused");
	RUN(test_request_messages, "requests' messages round-trip; a reason over 255 bytes, a trailing byte or a short body is refused");
	RUN(test_ident_on_behalf_of_rule, "ident: on_behalf_of is empty or a principal name, else encode and decode refuse it");
	return check_done();
}
