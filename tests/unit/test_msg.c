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
	CHECK(fd.digest_len == 0 && fd.md_nid == 0 && fd.document_name[0] == '\0');
	CHECK(fd.unit[0] == '\0');
	{
		struct msg_request_file t = { .kind = "transfer", .seal = "s1", .reason = "x",
		    .unit = "sub-2" }, td;

		CHECK_RC(msg_request_file_enc(&m, 3, &t), 0);
		CHECK_RC(msg_request_file_dec(&m, &td), 0);
		ipc_msg_free(&m);
		CHECK_STR(td.unit, "sub-2");
		CHECK(td.principal[0] == '\0');
		snprintf(t.kind, sizeof(t.kind), "revoke");
		t.unit[0] = '\0';
		snprintf(t.principal, sizeof(t.principal), "erp@hq");
		CHECK_RC(msg_request_file_enc(&m, 3, &t), 0);
		CHECK_RC(msg_request_file_dec(&m, &td), 0);
		ipc_msg_free(&m);
		CHECK_STR(td.principal, "erp@hq");
	}
	/* A use request carries the document's digest and name. */
	snprintf(f.kind, sizeof(f.kind), "use");
	f.md_nid = NID_sha256;
	f.digest_len = 32;
	memset(f.digest, 0xab, 32);
	memset(f.document_name, 'n', sizeof(f.document_name) - 1);
	CHECK_RC(msg_request_file_enc(&m, 3, &f), 0);
	CHECK_RC(msg_request_file_dec(&m, &fd), 0);
	ipc_msg_free(&m);
	CHECK_STR(fd.kind, "use");
	CHECK(fd.md_nid == NID_sha256 && fd.digest_len == 32 && memcmp(fd.digest, f.digest, 32) == 0);
	CHECK(strlen(fd.document_name) == 255);
	/* A digest longer than any algorithm's is refused by the encoder. */
	f.digest_len = MSG_DIGEST_MAX + 1;
	CHECK_RC(msg_request_file_enc(&m, 3, &f), SB_EINVAL);
	f.digest_len = 32;
	/* One byte more is refused. */
	CHECK_RC(msg_request_file_enc(&m, 3, &f), 0);
	CHECK_RC(ipc_put_u8(&m, 0), 0);
	CHECK_RC(msg_request_file_dec(&m, &fd), SB_EINVAL);
	ipc_msg_free(&m);
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
	/* No text: it is encoded only when present (test_sign_text adds one). */
}

/* A text/plain document's text rides after every other field, only when
 * present: marker 1, then the bytes (at most MSG_SIGN_TEXT_MAX). */
static void
test_sign_text(void)
{
	static uint8_t big[MSG_SIGN_TEXT_MAX + 1];
	struct msg_sign v = { .md_nid = NID_sha256, .digest_len = 32 }, w;
	const char *t = "采购合同\n机 密";
	struct ipc_msg m;

	snprintf(v.seal, sizeof(v.seal), "demo-seal");
	snprintf(v.document_name, sizeof(v.document_name), "c.txt");
	v.text = (const uint8_t *)t;
	v.text_len = strlen(t);
	CHECK_RC(msg_sign_enc(&m, 9, &v), 0);
	CHECK_RC(msg_sign_dec(&m, &w), 0);
	CHECK(w.text != NULL && w.text_len == strlen(t) && memcmp(w.text, t, w.text_len) == 0);
	ipc_msg_free(&m);
	/* An empty text is still a text (it is checked, and matches nothing). */
	v.text_len = 0;
	CHECK_RC(msg_sign_enc(&m, 9, &v), 0);
	CHECK_RC(msg_sign_dec(&m, &w), 0);
	CHECK(w.text != NULL && w.text_len == 0);
	ipc_msg_free(&m);
	/* No text: nothing encoded, NULL decoded; also after a PDF block. */
	v.text = NULL;
	v.profile = MSG_PROFILE_PADES;
	CHECK_RC(msg_sign_enc(&m, 9, &v), 0);
	CHECK_RC(msg_sign_dec(&m, &w), 0);
	CHECK(w.text == NULL && w.text_len == 0 && w.profile == MSG_PROFILE_PADES);
	ipc_msg_free(&m);
	/* The bound, on both sides. */
	v.profile = MSG_PROFILE_CADES;
	v.text = big;
	v.text_len = MSG_SIGN_TEXT_MAX;
	CHECK_RC(msg_sign_enc(&m, 9, &v), 0);
	CHECK_RC(msg_sign_dec(&m, &w), 0);
	CHECK(w.text_len == MSG_SIGN_TEXT_MAX);
	ipc_msg_free(&m);
	v.text_len = MSG_SIGN_TEXT_MAX + 1;
	CHECK_RC(msg_sign_enc(&m, 9, &v), SB_ELIMIT);
	sign_with_behalf(&m, "");
	CHECK_RC(ipc_put_u8(&m, 1), 0);
	CHECK_RC(ipc_put_bytes(&m, big, MSG_SIGN_TEXT_MAX + 1), 0);
	CHECK_RC(msg_sign_dec(&m, &w), SB_EINVAL);
	ipc_msg_free(&m);
	/* By hand: a marker other than 1, a marker without its text, a trailing byte. */
	sign_with_behalf(&m, "");
	CHECK_RC(ipc_put_u8(&m, 1), 0);
	CHECK_RC(ipc_put_bytes(&m, "abc", 3), 0);
	CHECK_RC(msg_sign_dec(&m, &w), 0);
	CHECK(w.text_len == 3 && memcmp(w.text, "abc", 3) == 0);
	ipc_msg_free(&m);
	sign_with_behalf(&m, "");
	CHECK_RC(ipc_put_u8(&m, 3), 0);
	CHECK_RC(ipc_put_bytes(&m, "abc", 3), 0);
	CHECK_RC(msg_sign_dec(&m, &w), SB_EINVAL);
	ipc_msg_free(&m);
	/* Marker 2: why a PDF's text could not be read; a text line, not empty. */
	v.text = NULL;
	v.profile = MSG_PROFILE_PADES;
	snprintf(v.text_unreadable, sizeof(v.text_unreadable), "it has no text");
	CHECK_RC(msg_sign_enc(&m, 9, &v), 0);
	CHECK_RC(msg_sign_dec(&m, &w), 0);
	CHECK(w.text == NULL && strcmp(w.text_unreadable, "it has no text") == 0);
	ipc_msg_free(&m);
	v.text_unreadable[0] = '\0';
	v.profile = MSG_PROFILE_CADES;
	sign_with_behalf(&m, "");
	CHECK_RC(ipc_put_u8(&m, 2), 0);
	CHECK_RC(ipc_put_str(&m, ""), 0);
	CHECK_RC(msg_sign_dec(&m, &w), SB_EINVAL);
	ipc_msg_free(&m);
	sign_with_behalf(&m, "");
	CHECK_RC(ipc_put_u8(&m, 2), 0);
	CHECK_RC(ipc_put_str(&m, "a\nb"), 0);
	CHECK_RC(msg_sign_dec(&m, &w), SB_EINVAL);
	ipc_msg_free(&m);
	sign_with_behalf(&m, "");
	CHECK_RC(ipc_put_u8(&m, 1), 0);
	CHECK_RC(msg_sign_dec(&m, &w), SB_EINVAL);
	ipc_msg_free(&m);
	sign_with_behalf(&m, "");
	CHECK_RC(ipc_put_u8(&m, 1), 0);
	CHECK_RC(ipc_put_bytes(&m, "abc", 3), 0);
	CHECK_RC(ipc_put_u8(&m, 0), 0);
	CHECK_RC(msg_sign_dec(&m, &w), SB_EINVAL);
	ipc_msg_free(&m);
}

static void
test_word_messages(void)
{
	struct adm_word_add a = { .word = "机 密", .category = "政治" }, ad;
	struct adm_word_remove r = { .id = "w-12" }, rd;
	struct ipc_msg m;

	CHECK_RC(adm_word_add_enc(&m, 1, &a), 0);
	CHECK(m.type == ADM_WORD_ADD && ADM_WORD_ADD == 230);
	CHECK_RC(adm_word_add_dec(&m, &ad), 0);
	ipc_msg_free(&m);
	CHECK_STR(ad.word, "机 密");
	CHECK_STR(ad.category, "政治");
	CHECK_RC(adm_word_remove_enc(&m, 1, &r), 0);
	CHECK(m.type == ADM_WORD_REMOVE && ADM_WORD_REMOVE == 232 && ADM_WORD_LIST == 231);
	CHECK_RC(adm_word_remove_dec(&m, &rd), 0);
	ipc_msg_free(&m);
	CHECK_STR(rd.id, "w-12");
	/* A short body or a trailing byte is refused. */
	ipc_msg_init(&m, ADM_WORD_ADD, 1);
	CHECK_RC(ipc_put_str(&m, "x"), 0);
	CHECK_RC(adm_word_add_dec(&m, &ad), SB_EINVAL);
	ipc_msg_free(&m);
	CHECK_RC(adm_word_remove_enc(&m, 1, &r), 0);
	CHECK_RC(ipc_put_u8(&m, 0), 0);
	CHECK_RC(adm_word_remove_dec(&m, &rd), SB_EINVAL);
	ipc_msg_free(&m);
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
	(void)ipc_put_str(m, "");	/* unit */
	(void)ipc_put_str(m, "");	/* document_name */
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
	/* unit and document name: a unit id and a line of UTF-8 text */
	snprintf(v.unit, sizeof(v.unit), "sub-1");
	snprintf(v.document_name, sizeof(v.document_name), "采购 合同");
	CHECK_RC(msg_ledger_entries_enc(&m, 3, &v), 0);
	CHECK_RC(msg_ledger_entries_dec(&m, &d), 0);
	ipc_msg_free(&m);
	CHECK_STR(d.unit, "sub-1");
	CHECK_STR(d.document_name, "采购 合同");
	snprintf(v.unit, sizeof(v.unit), "a/b");
	CHECK_RC(msg_ledger_entries_enc(&m, 3, &v), SB_EINVAL);
	ipc_msg_free(&m);
	v.unit[0] = '\0';
	snprintf(v.document_name, sizeof(v.document_name), "a\nb");
	CHECK_RC(msg_ledger_entries_enc(&m, 3, &v), SB_EINVAL);
	ipc_msg_free(&m);
	v.document_name[0] = '\0';
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
	m.body.len -= 8;	/* without the last two strings */
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
	snprintf(v.on_sensitive, sizeof(v.on_sensitive), "approval");
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
test_alerts_messages(void)
{
	struct msg_alerts v = { .start = 9, .count = 1000, .kind = "burst", .from_ms = 1,
	    .to_ms = UINT64_MAX }, d;
	struct msg_ident_only r = { 0 }, rd;
	struct ipc_msg m;

	snprintf(v.who.subject, sizeof(v.who.subject), "CN=sec");
	CHECK_RC(msg_alerts_enc(&m, 5, &v), 0);
	CHECK(m.type == MSG_ALERTS && MSG_ALERTS == 45 && MSG_ALERT_REVOKED == 44);
	CHECK_RC(msg_alerts_dec(&m, &d), 0);
	ipc_msg_free(&m);
	CHECK(d.start == 9 && d.count == 1000 && d.from_ms == 1 && d.to_ms == UINT64_MAX);
	CHECK_STR(d.kind, "burst");
	CHECK_STR(d.who.subject, "CN=sec");
	/* The encoder refuses what the decoder would: a bad kind, count, or window. */
	snprintf(v.kind, sizeof(v.kind), "Burst");
	CHECK_RC(msg_alerts_enc(&m, 5, &v), SB_EINVAL);
	snprintf(v.kind, sizeof(v.kind), "burst");
	v.count = 0;
	CHECK_RC(msg_alerts_enc(&m, 5, &v), SB_EINVAL);
	v.count = 1;
	v.from_ms = v.to_ms = 7;
	CHECK_RC(msg_alerts_enc(&m, 5, &v), SB_EINVAL);
	/* The revoked-certificate report is an ident-only message. */
	r.who.cert_sha256[31] = 0x5a;
	CHECK_RC(msg_ident_only_enc(&m, MSG_ALERT_REVOKED, 6, &r), 0);
	CHECK_RC(msg_ident_only_dec(&m, &rd), 0);
	ipc_msg_free(&m);
	CHECK(rd.who.cert_sha256[31] == 0x5a);
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

static void
test_console_messages(void)
{
	static const char tok[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct adm_admin_add a = { .user = "sam", .role = "secadmin", .pass = "机密 passphrase" }, ad;
	struct adm_login l = { .user = "sam", .pass = "a long passphrase" }, ld;
	struct adm_passwd p = { .old_pass = "old passphrase", .new_pass = "new passphrase" }, pd;
	struct adm_session s, sd;
	struct ipc_msg m;

	CHECK(ADM_ADMIN_ADD == 240 && ADM_LOGIN == 241 && ADM_LOGOUT == 242 &&
	    ADM_PASSWD == 243 && ADM_SESSION == 244 && ADM_LEDGER_VERIFY == 245);
	CHECK_RC(adm_admin_add_enc(&m, 7, &a), 0);
	CHECK(m.type == ADM_ADMIN_ADD && m.body.secret);
	CHECK_RC(adm_admin_add_dec(&m, &ad), 0);
	ipc_msg_free(&m);
	CHECK_STR(ad.session, "");
	CHECK_STR(ad.user, "sam");
	CHECK_STR(ad.role, "secadmin");
	CHECK_STR(ad.pass, "机密 passphrase");
	CHECK(ad.must_change == 0);
	memcpy(a.session, tok, sizeof(tok));
	a.must_change = 1;
	CHECK_RC(adm_admin_add_enc(&m, 7, &a), 0);
	CHECK_RC(adm_admin_add_dec(&m, &ad), 0);
	ipc_msg_free(&m);
	CHECK_STR(ad.session, tok);
	CHECK(ad.must_change == 1);
	/* must_change is 0 or 1, on both sides */
	a.must_change = 2;
	CHECK_RC(adm_admin_add_enc(&m, 7, &a), SB_EINVAL);
	ipc_msg_free(&m);
	a.must_change = 0;
	CHECK(ADM_LEDGER_ENTRIES == 249 && ADM_ALERTS == 250 && ADM_EVIDENCE == 251);
	CHECK(ADM_BACKUP == 252 && ADM_NETWORK == 253);
	CHECK(ADM_TOTP_ENROL == 254 && ADM_TOTP_CONFIRM == 255 && ADM_TOTP_RESET == 256);
	{
		struct adm_user u = { "sam" }, ud;

		CHECK_RC(adm_user_enc(&m, ADM_TOTP_RESET, 2, &u), 0);
		CHECK_RC(adm_user_dec(&m, &ud), 0);
		CHECK_STR(ud.user, "sam");
		ipc_msg_free(&m);
		snprintf(u.user, sizeof(u.user), "Sam");
		CHECK_RC(adm_user_enc(&m, ADM_TOTP_RESET, 2, &u), SB_EINVAL);
		ipc_msg_init(&m, ADM_TOTP_RESET, 1);
		CHECK_RC(ipc_put_str(&m, "admin:sam"), 0);
		CHECK_RC(adm_user_dec(&m, &ud), SB_EINVAL);
		ipc_msg_free(&m);
	}
	CHECK_RC(adm_login_enc(&m, 1, &l), 0);
	CHECK(m.type == ADM_LOGIN && m.body.secret);
	CHECK_RC(adm_login_dec(&m, &ld), 0);
	ipc_msg_free(&m);
	CHECK_STR(ld.user, "sam");
	CHECK_STR(ld.pass, "a long passphrase");
	CHECK_STR(ld.otp, "");
	/* A one-time code at login: "" or 6-8 digits, on both sides. */
	snprintf(l.otp, sizeof(l.otp), "12345678");
	CHECK_RC(adm_login_enc(&m, 1, &l), 0);
	CHECK_RC(adm_login_dec(&m, &ld), 0);
	ipc_msg_free(&m);
	CHECK_STR(ld.otp, "12345678");
	snprintf(l.otp, sizeof(l.otp), "12a456");
	CHECK_RC(adm_login_enc(&m, 1, &l), SB_EINVAL);
	ipc_msg_init(&m, ADM_LOGIN, 1);
	CHECK_RC(ipc_put_str(&m, "sam"), 0);
	CHECK_RC(ipc_put_str(&m, "a long passphrase"), 0);
	CHECK_RC(ipc_put_str(&m, "12345"), 0);
	CHECK_RC(adm_login_dec(&m, &ld), SB_EINVAL);
	ipc_msg_free(&m);
	l.otp[0] = '\0';
	{
		struct adm_otp o = { "654321" }, od;

		CHECK_RC(adm_otp_enc(&m, ADM_TOTP_CONFIRM, 3, &o), 0);
		CHECK(m.type == ADM_TOTP_CONFIRM && m.body.secret);
		CHECK_RC(adm_otp_dec(&m, &od), 0);
		CHECK_STR(od.otp, "654321");
		ipc_msg_free(&m);
		CHECK_RC(adm_otp_enc(&m, ADM_LOGIN, 3, &o), SB_EINVAL);	/* not a TOTP type */
		snprintf(o.otp, sizeof(o.otp), "1234567890");
		CHECK_RC(adm_otp_enc(&m, ADM_TOTP_ENROL, 3, &o), SB_EINVAL);
	}
	memcpy(p.session, tok, sizeof(tok));
	CHECK_RC(adm_passwd_enc(&m, 1, &p), 0);
	CHECK(m.type == ADM_PASSWD && m.body.secret);
	CHECK_RC(adm_passwd_dec(&m, &pd), 0);
	ipc_msg_free(&m);
	CHECK_STR(pd.session, tok);
	CHECK_STR(pd.old_pass, "old passphrase");
	CHECK_STR(pd.new_pass, "new passphrase");
	memcpy(s.session, tok, sizeof(tok));
	CHECK_RC(adm_session_enc(&m, ADM_LOGOUT, 1, &s), 0);
	CHECK(m.type == ADM_LOGOUT);
	CHECK_RC(adm_session_dec(&m, &sd), 0);
	ipc_msg_free(&m);
	CHECK_STR(sd.session, tok);
	/* A session is "" or 64 lower-case hex digits: else neither side takes it. */
	s.session[0] = 'A';
	CHECK_RC(adm_session_enc(&m, ADM_SESSION, 1, &s), SB_EINVAL);
	ipc_msg_init(&m, ADM_SESSION, 1);
	CHECK_RC(ipc_put_str(&m, "abc"), 0);
	CHECK_RC(adm_session_dec(&m, &sd), SB_EINVAL);
	ipc_msg_free(&m);
	/* A passphrase past 256 bytes, a trailing byte, a short body: refused. */
	ipc_msg_init(&m, ADM_LOGIN, 1);
	CHECK_RC(ipc_put_str(&m, "sam"), 0);
	{
		char big[258];

		memset(big, 'x', 257);
		big[257] = '\0';
		CHECK_RC(ipc_put_str(&m, big), 0);
	}
	CHECK_RC(adm_login_dec(&m, &ld), SB_EINVAL);
	ipc_msg_free(&m);
	CHECK_RC(adm_login_enc(&m, 1, &l), 0);
	CHECK_RC(ipc_put_u8(&m, 0), 0);
	CHECK_RC(adm_login_dec(&m, &ld), SB_EINVAL);
	ipc_msg_free(&m);
	ipc_msg_init(&m, ADM_PASSWD, 1);
	CHECK_RC(ipc_put_str(&m, tok), 0);
	CHECK_RC(ipc_put_str(&m, "old passphrase"), 0);
	CHECK_RC(adm_passwd_dec(&m, &pd), SB_EINVAL);
	ipc_msg_free(&m);
}

static void
test_adm_enrol(void)
{
	static const char csr[] = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n";
	struct adm_enrol v = { .days = 30 }, d;
	struct ipc_msg m;

	snprintf(v.name, sizeof(v.name), "erp");
	snprintf(v.unit, sizeof(v.unit), "sub-1");
	v.csr_pem = (const uint8_t *)csr;
	v.csr_len = sizeof(csr) - 1;
	CHECK_RC(adm_enrol_enc(&m, 3, &v), 0);
	CHECK(m.type == ADM_ENROL && m.id == 3);
	CHECK_RC(adm_enrol_dec(&m, &d), 0);
	CHECK_STR(d.name, "erp");
	CHECK_STR(d.unit, "sub-1");
	CHECK(d.days == 30 && d.csr_len == v.csr_len && memcmp(d.csr_pem, csr, d.csr_len) == 0);
	ipc_msg_free(&m);
	/* Past 825 days, a request over 64 KiB, a trailing byte: refused. */
	v.days = MSG_ENROL_DAYS_MAX + 1;
	CHECK_RC(adm_enrol_enc(&m, 3, &v), SB_EINVAL);
	v.days = 0;
	v.csr_len = MSG_CERT_MAX + 1;
	CHECK_RC(adm_enrol_enc(&m, 3, &v), SB_ELIMIT);
	v.csr_len = sizeof(csr) - 1;
	CHECK_RC(adm_enrol_enc(&m, 3, &v), 0);
	CHECK_RC(ipc_put_u8(&m, 0), 0);
	CHECK_RC(adm_enrol_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
	{
		struct adm_power pw = { "reboot" }, pd;

		CHECK_RC(adm_power_enc(&m, 2, &pw), 0);
		CHECK_RC(adm_power_dec(&m, &pd), 0);
		CHECK_STR(pd.action, "reboot");
		ipc_msg_free(&m);
		snprintf(pw.action, sizeof(pw.action), "halt");
		CHECK_RC(adm_power_enc(&m, 2, &pw), SB_EINVAL);
		ipc_msg_init(&m, ADM_POWER, 1);
		CHECK_RC(ipc_put_str(&m, "halt"), 0);
		CHECK_RC(adm_power_dec(&m, &pd), SB_EINVAL);
		ipc_msg_free(&m);
	}
	{
		struct adm_revoke rv = { "06:92:ac", "the laptop was stolen" }, rd;

		CHECK_RC(adm_revoke_enc(&m, 2, &rv), 0);
		CHECK_RC(adm_revoke_dec(&m, &rd), 0);
		CHECK_STR(rd.serial, "06:92:ac");
		CHECK_STR(rd.reason, "the laptop was stolen");
		ipc_msg_free(&m);
		/* No reason, a reason of two lines, no serial: refused both ways. */
		rv.reason[0] = '\0';
		CHECK_RC(adm_revoke_enc(&m, 2, &rv), SB_EINVAL);
		snprintf(rv.reason, sizeof(rv.reason), "two\nlines");
		CHECK_RC(adm_revoke_enc(&m, 2, &rv), SB_EINVAL);
		ipc_msg_init(&m, ADM_REVOKE, 1);
		CHECK_RC(ipc_put_str(&m, ""), 0);
		CHECK_RC(ipc_put_str(&m, "why"), 0);
		CHECK_RC(adm_revoke_dec(&m, &rd), SB_EINVAL);
		ipc_msg_free(&m);
	}
	{
		static const char req[] = "-----BEGIN CERTIFICATE REQUEST-----\n";
		struct adm_tls_issue ti = { .days = 90, .csr_pem = (const uint8_t *)req,
			.csr_len = sizeof(req) - 1 }, td;
		struct adm_tls_install tn = { (const uint8_t *)req, sizeof(req) - 1 }, tm;

		snprintf(ti.san, sizeof(ti.san), "DNS:sealbox.test,IP:192.0.2.10");
		CHECK_RC(adm_tls_issue_enc(&m, 2, &ti), 0);
		CHECK_RC(adm_tls_issue_dec(&m, &td), 0);
		CHECK_STR(td.san, "DNS:sealbox.test,IP:192.0.2.10");
		CHECK(td.days == 90 && td.csr_len == ti.csr_len &&
		    memcmp(td.csr_pem, req, td.csr_len) == 0);
		ipc_msg_free(&m);
		/* Past 825 days, no names, a request over 64 KiB: refused. */
		ti.days = MSG_TLS_DAYS_MAX + 1;
		CHECK_RC(adm_tls_issue_enc(&m, 2, &ti), SB_EINVAL);
		ti.days = 0;
		ti.san[0] = '\0';
		CHECK_RC(adm_tls_issue_enc(&m, 2, &ti), SB_EINVAL);
		snprintf(ti.san, sizeof(ti.san), "DNS:x");
		ti.csr_len = MSG_CERT_MAX + 1;
		CHECK_RC(adm_tls_issue_enc(&m, 2, &ti), SB_ELIMIT);
		CHECK_RC(adm_tls_install_enc(&m, 3, &tn), 0);
		CHECK_RC(adm_tls_install_dec(&m, &tm), 0);
		CHECK(tm.chain_len == tn.chain_len && memcmp(tm.chain_pem, req, tm.chain_len) == 0);
		CHECK_RC(ipc_put_u8(&m, 0), 0);
		CHECK_RC(adm_tls_install_dec(&m, &tm), SB_EINVAL);
		ipc_msg_free(&m);
		CHECK(MSG_TLS_SERVING == 46 && ADM_REVOKE == 257 && ADM_TLS_ISSUE == 258 &&
		    ADM_TLS_INSTALL == 259 && ADM_TLS_RELOAD == 260);
	}
	{
		static struct adm_reshare rv, rd;

		memset(&rv, 0, sizeof(rv));
		rv.shares.n = 2;
		snprintf(rv.shares.share[0], sizeof(rv.shares.share[0]), "sbx 1/3 AAAA");
		snprintf(rv.shares.share[1], sizeof(rv.shares.share[1]), "sbx 3/3 BBBB");
		rv.count = 3;
		rv.threshold = 2;
		snprintf(rv.ceremony, sizeof(rv.ceremony), "0123456789abcdef");
		snprintf(rv.result, sizeof(rv.result), "ok");
		CHECK_RC(adm_reshare_enc(&m, 4, &rv), 0);
		CHECK(m.body.secret);
		CHECK_RC(adm_reshare_dec(&m, &rd), 0);
		CHECK(rd.shares.n == 2 && rd.count == 3 && rd.threshold == 2);
		CHECK_STR(rd.shares.share[1], "sbx 3/3 BBBB");
		CHECK_STR(rd.ceremony, "0123456789abcdef");
		ipc_msg_free(&m);
		/* "failed:" needs no shares; "ok" and "done" do; the ceremony is 16
		 * lower-case hex digits; the threshold at most the count. */
		rv.shares.n = 0;
		snprintf(rv.result, sizeof(rv.result), "failed: the PINs could not be changed");
		CHECK_RC(adm_reshare_enc(&m, 4, &rv), 0);
		ipc_msg_free(&m);
		snprintf(rv.result, sizeof(rv.result), "done");
		CHECK_RC(adm_reshare_enc(&m, 4, &rv), SB_EINVAL);
		rv.shares.n = 2;
		CHECK_RC(adm_reshare_enc(&m, 4, &rv), 0);
		ipc_msg_free(&m);
		snprintf(rv.ceremony, sizeof(rv.ceremony), "0123456789ABCDEF");
		CHECK_RC(adm_reshare_enc(&m, 4, &rv), SB_EINVAL);
		snprintf(rv.ceremony, sizeof(rv.ceremony), "0123456789abcdef");
		rv.threshold = 4;
		CHECK_RC(adm_reshare_enc(&m, 4, &rv), SB_EINVAL);
		rv.threshold = 2;
		snprintf(rv.result, sizeof(rv.result), "maybe");
		CHECK_RC(adm_reshare_enc(&m, 4, &rv), SB_EINVAL);
		CHECK(ADM_RESHARE == 261);
	}
	{
		static struct adm_totp_recover tv, td;

		memset(&tv, 0, sizeof(tv));
		snprintf(tv.user, sizeof(tv.user), "secadm");
		snprintf(tv.pass, sizeof(tv.pass), "a passphrase");
		snprintf(tv.new_pass, sizeof(tv.new_pass), "another passphrase");
		tv.shares.n = 2;
		snprintf(tv.shares.share[0], sizeof(tv.shares.share[0]), "sbx 1/3 AAAA");
		snprintf(tv.shares.share[1], sizeof(tv.shares.share[1]), "sbx 2/3 BBBB");
		CHECK_RC(adm_totp_recover_enc(&m, 5, &tv), 0);
		CHECK(m.body.secret && m.type == ADM_TOTP_RECOVER);
		CHECK_RC(adm_totp_recover_dec(&m, &td), 0);
		CHECK_STR(td.user, "secadm");
		CHECK_STR(td.pass, "a passphrase");
		CHECK_STR(td.new_pass, "another passphrase");
		CHECK(td.shares.n == 2);
		CHECK_STR(td.shares.share[1], "sbx 2/3 BBBB");
		ipc_msg_free(&m);
		/* No share, or more than the message carries: not encoded. */
		tv.shares.n = 0;
		CHECK_RC(adm_totp_recover_enc(&m, 5, &tv), SB_EINVAL);
		tv.shares.n = MSG_BACKUP_SHARES_MAX + 1;
		CHECK_RC(adm_totp_recover_enc(&m, 5, &tv), SB_EINVAL);
		CHECK(ADM_TOTP_RECOVER == 262);
	}
	{
		struct adm_alert_thresholds ta = { 7, 0, 3, 600 }, tb;
		struct adm_principal_name pa = { "hq" }, pb;

		CHECK(ADM_ALERT_THRESHOLDS == 266 && ADM_ALERT_THRESHOLDS_SET == 267 &&
		    ADM_PRINCIPAL_ENABLE == 268 && ADM_APPROVER_GROUPS == 269);
		CHECK_RC(adm_principal_enable_enc(&m, 5, &pa), 0);	/* disable's body */
		CHECK(m.type == ADM_PRINCIPAL_ENABLE);
		CHECK_RC(adm_principal_name_dec(&m, &pb), 0);
		CHECK_STR(pb.principal, "hq");
		ipc_msg_free(&m);
		CHECK_RC(adm_alert_thresholds_enc(&m, 5, &ta), 0);
		CHECK(m.type == ADM_ALERT_THRESHOLDS_SET);
		CHECK_RC(adm_alert_thresholds_dec(&m, &tb), 0);
		CHECK(memcmp(&ta, &tb, sizeof(ta)) == 0);
		ipc_msg_free(&m);
		memset(&ta, 0, sizeof(ta));	/* nothing to set: refused both ways */
		CHECK_RC(adm_alert_thresholds_enc(&m, 5, &ta), SB_EINVAL);
		ipc_msg_free(&m);
		ipc_msg_init(&m, ADM_ALERT_THRESHOLDS_SET, 1);
		for (int i = 0; i < 4; i++)
			CHECK_RC(ipc_put_u32(&m, 0), 0);
		CHECK_RC(adm_alert_thresholds_dec(&m, &tb), SB_EINVAL);
		ipc_msg_free(&m);
		ipc_msg_init(&m, ADM_ALERT_THRESHOLDS_SET, 1);	/* three numbers only */
		for (int i = 0; i < 3; i++)
			CHECK_RC(ipc_put_u32(&m, 5), 0);
		CHECK_RC(adm_alert_thresholds_dec(&m, &tb), SB_EINVAL);
		ipc_msg_free(&m);
	}
	{
		struct netcfg nc, nd;

		memset(&nc, 0, sizeof(nc));
		snprintf(nc.address, sizeof(nc.address), "192.0.2.10/24");
		snprintf(nc.gateway, sizeof(nc.gateway), "192.0.2.1");
		nc.ndns = 1;
		snprintf(nc.dns[0], sizeof(nc.dns[0]), "192.0.2.53");
		nc.nntp = 2;
		snprintf(nc.ntp[0], sizeof(nc.ntp[0]), "ntp.example.org");
		snprintf(nc.ntp[1], sizeof(nc.ntp[1]), "192.0.2.123");
		nc.nsyslog = 2;
		snprintf(nc.syslog[0], sizeof(nc.syslog[0]), "udp:192.0.2.5:514");
		snprintf(nc.syslog[1], sizeof(nc.syslog[1]), "tcp:[2001:db8::5]:601");
		CHECK_RC(adm_network_enc(&m, 5, &nc), 0);
		CHECK_RC(adm_network_dec(&m, &nd), 0);
		CHECK(memcmp(&nc, &nd, sizeof(nc)) == 0);
		ipc_msg_free(&m);
		nc.nsyslog = NETCFG_SYSLOG_MAX + 1;
		CHECK_RC(adm_network_enc(&m, 5, &nc), SB_EINVAL);
		ipc_msg_free(&m);
		nc.nsyslog = 0;
		CHECK_RC(adm_network_enc(&m, 5, &nc), 0);	/* a third count past the max */
		m.body.len--;
		CHECK_RC(ipc_put_u8(&m, NETCFG_SYSLOG_MAX + 1), 0);
		CHECK_RC(adm_network_dec(&m, &nd), SB_EINVAL);
		ipc_msg_free(&m);
		nc.nntp = NETCFG_NTP_MAX + 1;
		CHECK_RC(adm_network_enc(&m, 5, &nc), SB_EINVAL);
		ipc_msg_init(&m, ADM_NETWORK, 1);
		CHECK_RC(ipc_put_str(&m, "dhcp"), 0);
		CHECK_RC(ipc_put_str(&m, ""), 0);
		CHECK_RC(ipc_put_u8(&m, NETCFG_DNS_MAX + 1), 0);
		CHECK_RC(adm_network_dec(&m, &nd), SB_EINVAL);
		ipc_msg_free(&m);
	}
	{
		static struct adm_backup bk, bd;

		bk.n = 2;
		snprintf(bk.share[0], sizeof(bk.share[0]), "sbx-01 1/3 AAAA");
		snprintf(bk.share[1], sizeof(bk.share[1]), "sbx-01 3/3 BBBB");
		CHECK_RC(adm_backup_enc(&m, 4, &bk), 0);
		CHECK(m.body.secret);	/* shares: wiped when freed */
		CHECK_RC(adm_backup_dec(&m, &bd), 0);
		CHECK(bd.n == 2);
		CHECK_STR(bd.share[1], "sbx-01 3/3 BBBB");
		ipc_msg_free(&m);
		CHECK_RC(adm_backup_enc(&m, 4, &bk), 0);
		CHECK_RC(ipc_put_u8(&m, 0), 0);
		CHECK_RC(adm_backup_dec(&m, &bd), SB_EINVAL);	/* a byte too many */
		ipc_msg_free(&m);
		bk.n = 0;
		CHECK_RC(adm_backup_enc(&m, 4, &bk), SB_EINVAL);
		bk.n = MSG_BACKUP_SHARES_MAX + 1;
		CHECK_RC(adm_backup_enc(&m, 4, &bk), SB_EINVAL);
		ipc_msg_init(&m, ADM_BACKUP, 1);
		CHECK_RC(ipc_put_u8(&m, MSG_BACKUP_SHARES_MAX + 1), 0);
		CHECK_RC(adm_backup_dec(&m, &bd), SB_EINVAL);
		ipc_msg_free(&m);
	}
	ipc_msg_init(&m, ADM_ENROL, 1);
	CHECK_RC(ipc_put_str(&m, "erp"), 0);
	CHECK_RC(ipc_put_str(&m, ""), 0);
	CHECK_RC(ipc_put_u32(&m, 826), 0);
	CHECK_RC(ipc_put_bytes(&m, csr, sizeof(csr) - 1), 0);
	CHECK_RC(adm_enrol_dec(&m, &d), SB_EINVAL);
	ipc_msg_free(&m);
}

static void
test_adm_as(void)
{
	static const char tok[MSG_SESSION_MAX] =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct adm_word_add w = { 0 }, wd;
	struct ipc_msg inner, m, back;
	struct adm_as v;

	snprintf(w.word, sizeof(w.word), "%s", "机密");
	CHECK_RC(adm_word_add_enc(&inner, 9, &w), 0);
	CHECK_RC(adm_as_enc(&m, tok, &inner), 0);
	CHECK(m.type == ADM_AS && m.id == 9 && m.body.secret);
	CHECK_RC(adm_as_dec(&m, &v), 0);
	CHECK_STR(v.session, tok);
	CHECK(v.type == ADM_WORD_ADD && v.body_len == inner.body.len &&
	    memcmp(v.body, inner.body.data, v.body_len) == 0);
	/* The inner command decodes from the carried body as sent. */
	ipc_msg_init(&back, v.type, m.id);
	CHECK_RC(buf_append(&back.body, v.body, v.body_len), 0);
	CHECK_RC(adm_word_add_dec(&back, &wd), 0);
	CHECK_STR(wd.word, "机密");
	ipc_msg_free(&back);
	ipc_msg_free(&m);
	/* No session, a bad token, ADM_AS inside ADM_AS, a non-admin type: refused. */
	CHECK_RC(adm_as_enc(&m, "", &inner), SB_EINVAL);
	CHECK_RC(adm_as_enc(&m, "0123", &inner), SB_EINVAL);
	inner.type = ADM_AS;
	CHECK_RC(adm_as_enc(&m, tok, &inner), SB_EINVAL);
	inner.type = MSG_SIGN;
	CHECK_RC(adm_as_enc(&m, tok, &inner), SB_EINVAL);
	ipc_msg_free(&inner);
	ipc_msg_init(&m, ADM_AS, 1);
	CHECK_RC(ipc_put_str(&m, tok), 0);
	CHECK_RC(ipc_put_u16(&m, ADM_AS), 0);
	CHECK_RC(ipc_put_bytes(&m, "", 0), 0);
	CHECK_RC(adm_as_dec(&m, &v), SB_EINVAL);
	ipc_msg_free(&m);
	ipc_msg_init(&m, ADM_AS, 1);
	CHECK_RC(ipc_put_str(&m, tok), 0);
	CHECK_RC(ipc_put_u16(&m, ADM_GRANT_ADD), 0);
	CHECK_RC(ipc_put_bytes(&m, "x", 1), 0);
	CHECK_RC(ipc_put_u8(&m, 0), 0);
	CHECK_RC(adm_as_dec(&m, &v), SB_EINVAL);
	ipc_msg_free(&m);
}

int
main(void)
{
	RUN(test_principal_name_rule, "principal names are [A-Za-z0-9._@-]{1,63}");
	RUN(test_grant_add_conditions, "ADM_GRANT_ADD carries every grant condition through encode/decode; 17 list entries, a 32-byte type, the old short body or a trailing byte are refused");
	RUN(test_grants_list, "MSG_GRANTS_LIST carries the identity and the seal");
	RUN(test_alerts_messages, "MSG_ALERTS round-trips and refuses a bad kind, count or window; MSG_ALERT_REVOKED is ident only");
	RUN(test_principal_add_round_trip, "ADM_PRINCIPAL_ADD carries 0..32 may_act_for names through encode/decode");
	RUN(test_sign_profiles, "MSG_SIGN carries document type, one-time code and, for PAdES only, the PDF block; an unknown profile or a cut block is refused");
	RUN(test_sign_text, "MSG_SIGN carries a text/plain document's text after every other field, only when present, up to 256 KiB, or why a PDF's text is unreadable (a text line); a bad marker, a missing text, one too long, an empty or multi-line reason or a trailing byte are refused");
	RUN(test_console_messages, "ADM_ADMIN_ADD..ADM_LEDGER_VERIFY (240..245) round-trip, secret where a passphrase rides; a bad session, a passphrase over 256, a trailing byte or a short body are refused");
	RUN(test_adm_enrol, "ADM_ENROL (247) carries name, unit, days and the request; over 825 days, a request over 64 KiB or a trailing byte are refused; ADM_POWER (248) is poweroff or reboot only");
	RUN(test_adm_as, "ADM_AS (246) carries a session and another admin command's body; no session, a bad token, ADM_AS inside ADM_AS, a non-admin type or a trailing byte are refused");
	RUN(test_word_messages, "ADM_WORD_ADD (230) and ADM_WORD_REMOVE (232) round-trip with Chinese text; a short body or a trailing byte are refused");
	RUN(test_principal_add_roles, "ADM_PRINCIPAL_ADD carries kind, unit and 0..16 role assignments; a count past 16 or a body without them is refused");
	RUN(test_unit_and_role_messages, "ADM_UNIT_ADD and ADM_ROLE_ASSIGN round-trip; a role name over 31 or a short body is refused");
	RUN(test_principal_add_bounds, "ADM_PRINCIPAL_ADD: too many names, a short list, a name over 63 or no list are refused");
	RUN(test_request_messages, "requests' messages round-trip; a reason over 255 bytes, a trailing byte or a short body is refused");
	RUN(test_ident_on_behalf_of_rule, "ident: on_behalf_of is empty or a principal name, else encode and decode refuse it");
	RUN(test_ledger_entries_filters, "MSG_LEDGER_ENTRIES carries seal, principal, time window, unit and document name; bad ones, an empty window, a trailing or a missing byte are refused");
	RUN(test_stats_message, "MSG_STATS is an ident-only message that round-trips");
	RUN(test_totp_messages, "MSG_TOTP_* carry the identity and a code of 6-8 digits or none; other codes, a trailing byte or a short body are refused");
	return check_done();
}
