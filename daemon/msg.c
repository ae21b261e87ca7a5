/* msg — one encoder and one decoder per message type, side by side. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../lib/err.h"
#include "msg.h"

/* Encoders chain puts with this: the first failure sticks. */
#define PUT(x) do { if (rc == 0) rc = (x); } while (0)
/* Decoders: any failure is SB_EINVAL. */
#define GET(x) do { if ((x) != 0) return SB_EINVAL; } while (0)

int
msg_principal_ok(const char *s, size_t n)
{
	if (n < 1 || n > MSG_ID_MAX - 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '@'))
			return 0;
	}
	return 1;
}

/* on_behalf_of is "" or a principal name: it is looked up and ledgered as is. */
static int
behalf_ok(const char *s)
{
	return s[0] == '\0' || msg_principal_ok(s, strlen(s));
}

static int
ident_put(struct ipc_msg *m, const struct msg_ident *w)
{
	int rc = 0;

	PUT(ipc_put_bytes(m, w->cert_sha256, sizeof(w->cert_sha256)));
	PUT(ipc_put_str(m, w->subject));
	PUT(behalf_ok(w->on_behalf_of) ? ipc_put_str(m, w->on_behalf_of) : SB_EINVAL);
	return rc;
}

static int
ident_get(struct ipc_msg *m, struct msg_ident *w)
{
	GET(ipc_get_fixed(m, w->cert_sha256, sizeof(w->cert_sha256)));
	GET(ipc_get_str(m, w->subject, sizeof(w->subject)));
	GET(ipc_get_str(m, w->on_behalf_of, sizeof(w->on_behalf_of)));
	if (!behalf_ok(w->on_behalf_of))
		return SB_EINVAL;
	return 0;
}

static int
digest_get(struct ipc_msg *m, uint8_t *d, size_t *len)
{
	const uint8_t *p;

	GET(ipc_get_bytes(m, &p, len, MSG_DIGEST_MAX));
	memcpy(d, p, *len);
	return 0;
}

static int
enc_done(struct ipc_msg *m, int rc)
{
	if (rc != 0)
		ipc_msg_free(m);
	return rc;
}

int
msg_ident_only_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct msg_ident_only *v)
{
	ipc_msg_init(m, type, id);
	return enc_done(m, ident_put(m, &v->who));
}

int
msg_ident_only_dec(struct ipc_msg *m, struct msg_ident_only *v)
{
	GET(ident_get(m, &v->who));
	return ipc_get_end(m);
}

int
msg_seal_get_enc(struct ipc_msg *m, uint32_t id, const struct msg_seal_get *v)
{
	int rc;

	ipc_msg_init(m, MSG_SEAL_GET, id);
	rc = ident_put(m, &v->who);
	PUT(ipc_put_str(m, v->seal));
	return enc_done(m, rc);
}

int
msg_seal_get_dec(struct ipc_msg *m, struct msg_seal_get *v)
{
	GET(ident_get(m, &v->who));
	GET(ipc_get_str(m, v->seal, sizeof(v->seal)));
	return ipc_get_end(m);
}

int
msg_seal_image_enc(struct ipc_msg *m, uint32_t id, const struct msg_seal_get *v)
{
	int rc;

	ipc_msg_init(m, MSG_SEAL_IMAGE, id);
	rc = ident_put(m, &v->who);
	PUT(ipc_put_str(m, v->seal));
	return enc_done(m, rc);
}

int
msg_pdf_sealed_enc(struct ipc_msg *m, uint32_t id, const struct msg_pdf_sealed *v)
{
	int rc;

	ipc_msg_init(m, MSG_PDF_SEALED, id);
	rc = ident_put(m, &v->who);
	PUT(ipc_put_u64(m, v->seq));
	PUT(ipc_put_bytes(m, v->output_sha256, sizeof(v->output_sha256)));
	PUT(ipc_put_u64(m, v->output_len));
	return enc_done(m, rc);
}

int
msg_pdf_sealed_dec(struct ipc_msg *m, struct msg_pdf_sealed *v)
{
	GET(ident_get(m, &v->who));
	GET(ipc_get_u64(m, &v->seq));
	GET(ipc_get_fixed(m, v->output_sha256, sizeof(v->output_sha256)));
	GET(ipc_get_u64(m, &v->output_len));
	return ipc_get_end(m);
}

/* The longest text a sign message carries: a PDF's is longer. */
static size_t
sign_text_max(const struct msg_sign *v)
{
	return v->profile == MSG_PROFILE_PADES ? MSG_SIGN_PDF_TEXT_MAX : MSG_SIGN_TEXT_MAX;
}

int
msg_sign_enc(struct ipc_msg *m, uint32_t id, const struct msg_sign *v)
{
	int rc;

	ipc_msg_init(m, MSG_SIGN, id);
	rc = ident_put(m, &v->who);
	PUT(ipc_put_str(m, v->seal));
	PUT(ipc_put_u16(m, v->md_nid));
	PUT(v->digest_len > MSG_DIGEST_MAX ? SB_EINVAL : ipc_put_bytes(m, v->digest, v->digest_len));
	PUT(ipc_put_str(m, v->document_name));
	PUT(ipc_put_str(m, v->document_type));
	PUT(ipc_put_str(m, v->otp));
	PUT(ipc_put_str(m, v->approval));
	PUT(ipc_put_u8(m, v->profile));
	if (v->profile == MSG_PROFILE_PADES) {
		PUT(ipc_put_bytes(m, v->pdf.input_sha256, sizeof(v->pdf.input_sha256)));
		PUT(ipc_put_u32(m, v->pdf.page));
		PUT(ipc_put_u32(m, v->pdf.x));
		PUT(ipc_put_u32(m, v->pdf.y));
		PUT(ipc_put_u32(m, v->pdf.w));
		PUT(ipc_put_u32(m, v->pdf.h));
		PUT(ipc_put_str(m, v->pdf.reason));
	}
	if (v->text != NULL) {		/* present: a marker, then the text */
		PUT(ipc_put_u8(m, 1));
		PUT(v->text_len > sign_text_max(v) ? SB_ELIMIT :
		    ipc_put_bytes(m, v->text, v->text_len));
	} else if (v->text_unreadable[0] != '\0') {	/* or why there is none */
		PUT(ipc_put_u8(m, 2));
		PUT(ipc_put_str(m, v->text_unreadable));
	}
	return enc_done(m, rc);
}

int
msg_sign_dec(struct ipc_msg *m, struct msg_sign *v)
{
	memset(v, 0, sizeof(*v));
	GET(ident_get(m, &v->who));
	GET(ipc_get_str(m, v->seal, sizeof(v->seal)));
	GET(ipc_get_u16(m, &v->md_nid));
	GET(digest_get(m, v->digest, &v->digest_len));
	GET(ipc_get_str(m, v->document_name, sizeof(v->document_name)));
	GET(ipc_get_str(m, v->document_type, sizeof(v->document_type)));
	GET(ipc_get_str(m, v->otp, sizeof(v->otp)));
	GET(ipc_get_str(m, v->approval, sizeof(v->approval)));
	GET(ipc_get_u8(m, &v->profile));
	if (v->profile > MSG_PROFILE_PADES)
		return SB_EINVAL;
	if (v->profile == MSG_PROFILE_PADES) {
		GET(ipc_get_fixed(m, v->pdf.input_sha256, sizeof(v->pdf.input_sha256)));
		GET(ipc_get_u32(m, &v->pdf.page));
		GET(ipc_get_u32(m, &v->pdf.x));
		GET(ipc_get_u32(m, &v->pdf.y));
		GET(ipc_get_u32(m, &v->pdf.w));
		GET(ipc_get_u32(m, &v->pdf.h));
		GET(ipc_get_str(m, v->pdf.reason, sizeof(v->pdf.reason)));
	}
	if (m->rpos < m->body.len) {	/* the text, when present */
		uint8_t present;

		GET(ipc_get_u8(m, &present));
		if (present == 2) {
			GET(ipc_get_str(m, v->text_unreadable, sizeof(v->text_unreadable)));
			if (v->text_unreadable[0] == '\0' || !msg_text_line_ok(v->text_unreadable,
			    strlen(v->text_unreadable)))
				return SB_EINVAL;
		} else if (present == 1) {
			GET(ipc_get_bytes(m, &v->text, &v->text_len, sign_text_max(v)));
		} else {
			return SB_EINVAL;
		}
	}
	return ipc_get_end(m);
}

int
msg_verify_enc(struct ipc_msg *m, uint32_t id, const struct msg_verify *v)
{
	int rc;

	ipc_msg_init(m, MSG_VERIFY, id);
	rc = ident_put(m, &v->who);
	PUT(ipc_put_u16(m, v->md_nid));
	PUT(v->digest_len > MSG_DIGEST_MAX ? SB_EINVAL : ipc_put_bytes(m, v->digest, v->digest_len));
	PUT(v->cms_len > MSG_CMS_MAX ? SB_ELIMIT : ipc_put_bytes(m, v->cms, v->cms_len));
	return enc_done(m, rc);
}

int
msg_verify_dec(struct ipc_msg *m, struct msg_verify *v)
{
	GET(ident_get(m, &v->who));
	GET(ipc_get_u16(m, &v->md_nid));
	GET(digest_get(m, v->digest, &v->digest_len));
	GET(ipc_get_bytes(m, &v->cms, &v->cms_len, MSG_CMS_MAX));
	return ipc_get_end(m);
}

int
msg_tsa_enc(struct ipc_msg *m, uint32_t id, const struct msg_tsa *v)
{
	int rc;

	ipc_msg_init(m, MSG_TSA, id);
	rc = ident_put(m, &v->who);
	PUT(v->query_len > MSG_TSQ_MAX ? SB_ELIMIT : ipc_put_bytes(m, v->query, v->query_len));
	return enc_done(m, rc);
}

int
msg_tsa_dec(struct ipc_msg *m, struct msg_tsa *v)
{
	GET(ident_get(m, &v->who));
	GET(ipc_get_bytes(m, &v->query, &v->query_len, MSG_TSQ_MAX));
	return ipc_get_end(m);
}

/*
 * The filters of a ledger listing: "" or a seal id ([A-Za-z0-9._-], as the
 * net worker checks it), "" or a principal name, from_ms < to_ms. Both
 * sides hold them to it, so the monitor never sees another.
 */
static int
entries_filters_ok(const struct msg_ledger_entries *v)
{
	size_t n = strnlen(v->seal, sizeof(v->seal));

	if (n == sizeof(v->seal))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v->seal[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	n = strnlen(v->principal, sizeof(v->principal));
	if (n == sizeof(v->principal) || (n > 0 && !msg_principal_ok(v->principal, n)))
		return 0;
	n = strnlen(v->unit, sizeof(v->unit));
	if (n == sizeof(v->unit) || strspn(v->unit, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return 0;
	n = strnlen(v->document_name, sizeof(v->document_name));
	if (n == sizeof(v->document_name) || (n > 0 && !msg_text_line_ok(v->document_name, n)))
		return 0;
	return v->from_ms < v->to_ms;
}

int
msg_ledger_entries_enc(struct ipc_msg *m, uint32_t id, const struct msg_ledger_entries *v)
{
	int rc;

	ipc_msg_init(m, MSG_LEDGER_ENTRIES, id);
	rc = ident_put(m, &v->who);
	PUT(ipc_put_u64(m, v->start));
	PUT(ipc_put_u32(m, v->count));
	PUT(entries_filters_ok(v) ? 0 : SB_EINVAL);
	PUT(ipc_put_str(m, v->seal));
	PUT(ipc_put_str(m, v->principal));
	PUT(ipc_put_u64(m, v->from_ms));
	PUT(ipc_put_u64(m, v->to_ms));
	PUT(ipc_put_str(m, v->unit));
	PUT(ipc_put_str(m, v->document_name));
	return enc_done(m, rc);
}

int
msg_ledger_entries_dec(struct ipc_msg *m, struct msg_ledger_entries *v)
{
	GET(ident_get(m, &v->who));
	GET(ipc_get_u64(m, &v->start));
	GET(ipc_get_u32(m, &v->count));
	GET(ipc_get_str(m, v->seal, sizeof(v->seal)));
	GET(ipc_get_str(m, v->principal, sizeof(v->principal)));
	GET(ipc_get_u64(m, &v->from_ms));
	GET(ipc_get_u64(m, &v->to_ms));
	GET(ipc_get_str(m, v->unit, sizeof(v->unit)));
	GET(ipc_get_str(m, v->document_name, sizeof(v->document_name)));
	if (!entries_filters_ok(v))
		return SB_EINVAL;
	return ipc_get_end(m);
}

int
msg_proof_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct msg_proof *v)
{
	int rc;

	ipc_msg_init(m, type, id);
	rc = ident_put(m, &v->who);
	PUT(ipc_put_u64(m, v->a));
	PUT(ipc_put_u64(m, v->b));
	return enc_done(m, rc);
}

int
msg_proof_dec(struct ipc_msg *m, struct msg_proof *v)
{
	GET(ident_get(m, &v->who));
	GET(ipc_get_u64(m, &v->a));
	GET(ipc_get_u64(m, &v->b));
	return ipc_get_end(m);
}

int
msg_evidence_enc(struct ipc_msg *m, uint32_t id, const struct msg_evidence *v)
{
	int rc;

	ipc_msg_init(m, MSG_EVIDENCE, id);
	rc = ident_put(m, &v->who);
	PUT(ipc_put_u64(m, v->seq));
	return enc_done(m, rc);
}

int
msg_evidence_dec(struct ipc_msg *m, struct msg_evidence *v)
{
	GET(ident_get(m, &v->who));
	GET(ipc_get_u64(m, &v->seq));
	return ipc_get_end(m);
}

int
msg_request_file_enc(struct ipc_msg *m, uint32_t id, const struct msg_request_file *v)
{
	int rc;

	ipc_msg_init(m, MSG_REQUEST_FILE, id);
	rc = ident_put(m, &v->who);
	PUT(ipc_put_str(m, v->kind));
	PUT(ipc_put_str(m, v->seal));
	PUT(ipc_put_str(m, v->reason));
	PUT(ipc_put_u16(m, v->md_nid));
	PUT(v->digest_len > MSG_DIGEST_MAX ? SB_EINVAL : ipc_put_bytes(m, v->digest, v->digest_len));
	PUT(ipc_put_str(m, v->document_name));
	PUT(ipc_put_str(m, v->unit));
	PUT(ipc_put_str(m, v->principal));
	return enc_done(m, rc);
}

int
msg_request_file_dec(struct ipc_msg *m, struct msg_request_file *v)
{
	memset(v, 0, sizeof(*v));
	GET(ident_get(m, &v->who));
	GET(ipc_get_str(m, v->kind, sizeof(v->kind)));
	GET(ipc_get_str(m, v->seal, sizeof(v->seal)));
	GET(ipc_get_str(m, v->reason, sizeof(v->reason)));
	GET(ipc_get_u16(m, &v->md_nid));
	GET(digest_get(m, v->digest, &v->digest_len));
	GET(ipc_get_str(m, v->document_name, sizeof(v->document_name)));
	GET(ipc_get_str(m, v->unit, sizeof(v->unit)));
	GET(ipc_get_str(m, v->principal, sizeof(v->principal)));
	return ipc_get_end(m);
}

int
msg_requests_list_enc(struct ipc_msg *m, uint32_t id, const struct msg_requests_list *v)
{
	int rc;

	ipc_msg_init(m, MSG_REQUESTS_LIST, id);
	rc = ident_put(m, &v->who);
	PUT(ipc_put_str(m, v->state));
	PUT(ipc_put_str(m, v->kind));
	return enc_done(m, rc);
}

int
msg_requests_list_dec(struct ipc_msg *m, struct msg_requests_list *v)
{
	GET(ident_get(m, &v->who));
	GET(ipc_get_str(m, v->state, sizeof(v->state)));
	GET(ipc_get_str(m, v->kind, sizeof(v->kind)));
	return ipc_get_end(m);
}

int
msg_request_act_enc(struct ipc_msg *m, uint16_t type, uint32_t id,
    const struct msg_request_act *v)
{
	int rc;

	ipc_msg_init(m, type, id);
	rc = ident_put(m, &v->who);
	PUT(ipc_put_u64(m, v->request));
	PUT(ipc_put_str(m, v->reason));
	return enc_done(m, rc);
}

int
msg_request_act_dec(struct ipc_msg *m, struct msg_request_act *v)
{
	GET(ident_get(m, &v->who));
	GET(ipc_get_u64(m, &v->request));
	GET(ipc_get_str(m, v->reason, sizeof(v->reason)));
	return ipc_get_end(m);
}

/* "" or 6..8 ASCII digits. */
int
msg_otp_ok(const char *s)
{
	size_t n = strlen(s);

	return n == 0 || (n >= 6 && n <= 8 && strspn(s, "0123456789") == n);
}

int
msg_totp_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct msg_totp *v)
{
	int rc;

	ipc_msg_init_secret(m, type, id);
	rc = msg_otp_ok(v->otp) ? ident_put(m, &v->who) : SB_EINVAL;
	PUT(ipc_put_str(m, v->otp));
	return enc_done(m, rc);
}

int
msg_totp_dec(struct ipc_msg *m, struct msg_totp *v)
{
	GET(ident_get(m, &v->who));
	GET(ipc_get_str(m, v->otp, sizeof(v->otp)));
	if (!msg_otp_ok(v->otp))
		return SB_EINVAL;
	return ipc_get_end(m);
}

int
msg_reply_enc(struct ipc_msg *m, uint32_t id, const struct msg_reply *v)
{
	int rc = 0;

	ipc_msg_init(m, MSG_REPLY, id);
	PUT(ipc_put_u16(m, v->status));
	PUT(ipc_put_str(m, v->content_type));
	PUT(v->body_len > MSG_BODY_MAX ? SB_ELIMIT : ipc_put_bytes(m, v->body, v->body_len));
	return enc_done(m, rc);
}

int
msg_reply_dec(struct ipc_msg *m, struct msg_reply *v)
{
	GET(ipc_get_u16(m, &v->status));
	GET(ipc_get_str(m, v->content_type, sizeof(v->content_type)));
	GET(ipc_get_bytes(m, &v->body, &v->body_len, MSG_BODY_MAX));
	if (v->status < 100 || v->status > 599)
		return SB_EINVAL;
	return ipc_get_end(m);
}

int
msg_sign_result_enc(struct ipc_msg *m, uint32_t id, const struct msg_sign_result *v)
{
	int rc = 0;

	ipc_msg_init(m, MSG_SIGN_RESULT, id);
	PUT(ipc_put_u16(m, v->status));
	PUT(ipc_put_str(m, v->code));
	PUT(ipc_put_str(m, v->message));
	PUT(ipc_put_u64(m, v->seq));
	PUT(ipc_put_bytes(m, v->leaf, sizeof(v->leaf)));
	PUT(v->cms_len > MSG_CMS_MAX ? SB_ELIMIT : ipc_put_bytes(m, v->cms, v->cms_len));
	return enc_done(m, rc);
}

int
msg_sign_result_dec(struct ipc_msg *m, struct msg_sign_result *v)
{
	GET(ipc_get_u16(m, &v->status));
	GET(ipc_get_str(m, v->code, sizeof(v->code)));
	GET(ipc_get_str(m, v->message, sizeof(v->message)));
	GET(ipc_get_u64(m, &v->seq));
	GET(ipc_get_fixed(m, v->leaf, sizeof(v->leaf)));
	GET(ipc_get_bytes(m, &v->cms, &v->cms_len, MSG_CMS_MAX));
	if (v->status < 100 || v->status > 599)
		return SB_EINVAL;
	return ipc_get_end(m);
}

int
adm_unseal_enc(struct ipc_msg *m, uint32_t id, const struct adm_unseal *v)
{
	ipc_msg_init_secret(m, ADM_UNSEAL, id);
	return enc_done(m, ipc_put_str(m, v->share));
}

int
adm_unseal_dec(struct ipc_msg *m, struct adm_unseal *v)
{
	GET(ipc_get_str(m, v->share, sizeof(v->share)));
	return ipc_get_end(m);
}

int
adm_seal_create_enc(struct ipc_msg *m, uint32_t id, const struct adm_seal_create *v)
{
	int rc = 0;

	ipc_msg_init(m, ADM_SEAL_CREATE, id);
	PUT(ipc_put_str(m, v->id));
	PUT(ipc_put_str(m, v->name));
	PUT(ipc_put_str(m, v->type));
	PUT(ipc_put_str(m, v->key_type));
	PUT(ipc_put_str(m, v->unit));
	PUT(v->image_len > MSG_IMAGE_MAX ? SB_ELIMIT : ipc_put_bytes(m, v->image, v->image_len));
	return enc_done(m, rc);
}

int
adm_seal_create_dec(struct ipc_msg *m, struct adm_seal_create *v)
{
	GET(ipc_get_str(m, v->id, sizeof(v->id)));
	GET(ipc_get_str(m, v->name, sizeof(v->name)));
	GET(ipc_get_str(m, v->type, sizeof(v->type)));
	GET(ipc_get_str(m, v->key_type, sizeof(v->key_type)));
	GET(ipc_get_str(m, v->unit, sizeof(v->unit)));
	GET(ipc_get_bytes(m, &v->image, &v->image_len, MSG_IMAGE_MAX));
	return ipc_get_end(m);
}

int
adm_principal_add_enc(struct ipc_msg *m, uint32_t id, const struct adm_principal_add *v)
{
	int rc = 0;

	ipc_msg_init(m, ADM_PRINCIPAL_ADD, id);
	PUT(ipc_put_str(m, v->name));
	PUT(v->cert_len > MSG_CERT_MAX ? SB_ELIMIT : ipc_put_bytes(m, v->cert_pem, v->cert_len));
	PUT(v->n_may_act_for > MSG_ACT_FOR_MAX ? SB_ELIMIT : ipc_put_u16(m, v->n_may_act_for));
	for (size_t i = 0; rc == 0 && i < v->n_may_act_for; i++)
		PUT(ipc_put_str(m, v->may_act_for[i]));
	PUT(ipc_put_str(m, v->kind));
	PUT(ipc_put_str(m, v->unit));
	PUT(v->n_roles > MSG_ROLES_MAX ? SB_ELIMIT : ipc_put_u16(m, v->n_roles));
	for (size_t i = 0; rc == 0 && i < v->n_roles; i++) {
		PUT(ipc_put_str(m, v->roles[i]));
		PUT(ipc_put_str(m, v->role_units[i]));
	}
	return enc_done(m, rc);
}

int
adm_principal_add_dec(struct ipc_msg *m, struct adm_principal_add *v)
{
	GET(ipc_get_str(m, v->name, sizeof(v->name)));
	GET(ipc_get_bytes(m, &v->cert_pem, &v->cert_len, MSG_CERT_MAX));
	GET(ipc_get_u16(m, &v->n_may_act_for));
	if (v->n_may_act_for > MSG_ACT_FOR_MAX)
		return SB_EINVAL;
	for (size_t i = 0; i < v->n_may_act_for; i++)
		GET(ipc_get_str(m, v->may_act_for[i], sizeof(v->may_act_for[i])));
	GET(ipc_get_str(m, v->kind, sizeof(v->kind)));
	GET(ipc_get_str(m, v->unit, sizeof(v->unit)));
	GET(ipc_get_u16(m, &v->n_roles));
	if (v->n_roles > MSG_ROLES_MAX)
		return SB_EINVAL;
	for (size_t i = 0; i < v->n_roles; i++) {
		GET(ipc_get_str(m, v->roles[i], sizeof(v->roles[i])));
		GET(ipc_get_str(m, v->role_units[i], sizeof(v->role_units[i])));
	}
	return ipc_get_end(m);
}

int
adm_grant_add_enc(struct ipc_msg *m, uint32_t id, const struct adm_grant_add *v)
{
	int rc = 0;

	ipc_msg_init(m, ADM_GRANT_ADD, id);
	PUT(ipc_put_str(m, v->seal));
	PUT(ipc_put_str(m, v->principal));
	PUT(v->n_doc_types > MSG_GRANT_LIST_MAX ? SB_ELIMIT : ipc_put_u16(m, v->n_doc_types));
	for (size_t i = 0; rc == 0 && i < v->n_doc_types; i++)
		PUT(ipc_put_str(m, v->doc_types[i]));
	PUT(ipc_put_u32(m, v->per_day));
	PUT(ipc_put_u32(m, v->per_month));
	PUT(ipc_put_u64(m, v->valid_from));
	PUT(ipc_put_u64(m, v->valid_to));
	PUT(ipc_put_u32(m, v->hours));
	PUT(ipc_put_u8(m, v->days));
	PUT(ipc_put_u8(m, v->approval_k));
	PUT(ipc_put_str(m, v->approval_group));
	PUT(ipc_put_str(m, v->confirm));
	PUT(v->n_apps > MSG_GRANT_LIST_MAX ? SB_ELIMIT : ipc_put_u16(m, v->n_apps));
	for (size_t i = 0; rc == 0 && i < v->n_apps; i++)
		PUT(ipc_put_str(m, v->apps[i]));
	PUT(ipc_put_str(m, v->on_sensitive));
	return enc_done(m, rc);
}

int
adm_grant_add_dec(struct ipc_msg *m, struct adm_grant_add *v)
{
	memset(v, 0, sizeof(*v));
	GET(ipc_get_str(m, v->seal, sizeof(v->seal)));
	GET(ipc_get_str(m, v->principal, sizeof(v->principal)));
	GET(ipc_get_u16(m, &v->n_doc_types));
	if (v->n_doc_types > MSG_GRANT_LIST_MAX)
		return SB_EINVAL;
	for (size_t i = 0; i < v->n_doc_types; i++)
		GET(ipc_get_str(m, v->doc_types[i], sizeof(v->doc_types[i])));
	GET(ipc_get_u32(m, &v->per_day));
	GET(ipc_get_u32(m, &v->per_month));
	GET(ipc_get_u64(m, &v->valid_from));
	GET(ipc_get_u64(m, &v->valid_to));
	GET(ipc_get_u32(m, &v->hours));
	GET(ipc_get_u8(m, &v->days));
	GET(ipc_get_u8(m, &v->approval_k));
	GET(ipc_get_str(m, v->approval_group, sizeof(v->approval_group)));
	GET(ipc_get_str(m, v->confirm, sizeof(v->confirm)));
	GET(ipc_get_u16(m, &v->n_apps));
	if (v->n_apps > MSG_GRANT_LIST_MAX)
		return SB_EINVAL;
	for (size_t i = 0; i < v->n_apps; i++)
		GET(ipc_get_str(m, v->apps[i], sizeof(v->apps[i])));
	GET(ipc_get_str(m, v->on_sensitive, sizeof(v->on_sensitive)));
	return ipc_get_end(m);
}

int
msg_grants_list_enc(struct ipc_msg *m, uint32_t id, const struct msg_grants_list *v)
{
	int rc;

	ipc_msg_init(m, MSG_GRANTS_LIST, id);
	rc = ident_put(m, &v->who);
	PUT(ipc_put_str(m, v->seal));
	return enc_done(m, rc);
}

int
msg_grants_list_dec(struct ipc_msg *m, struct msg_grants_list *v)
{
	GET(ident_get(m, &v->who));
	GET(ipc_get_str(m, v->seal, sizeof(v->seal)));
	return ipc_get_end(m);
}

static int
alerts_ok(const struct msg_alerts *v)
{
	size_t n = strnlen(v->kind, sizeof(v->kind));

	if (n == sizeof(v->kind) || v->count < 1 || v->count > 1000)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((v->kind[i] >= 'a' && v->kind[i] <= 'z') || v->kind[i] == '_'))
			return 0;
	return v->from_ms < v->to_ms;
}

int
msg_alerts_enc(struct ipc_msg *m, uint32_t id, const struct msg_alerts *v)
{
	int rc;

	ipc_msg_init(m, MSG_ALERTS, id);
	rc = ident_put(m, &v->who);
	PUT(alerts_ok(v) ? 0 : SB_EINVAL);
	PUT(ipc_put_u64(m, v->start));
	PUT(ipc_put_u32(m, v->count));
	PUT(ipc_put_str(m, v->kind));
	PUT(ipc_put_u64(m, v->from_ms));
	PUT(ipc_put_u64(m, v->to_ms));
	return enc_done(m, rc);
}

int
msg_alerts_dec(struct ipc_msg *m, struct msg_alerts *v)
{
	GET(ident_get(m, &v->who));
	GET(ipc_get_u64(m, &v->start));
	GET(ipc_get_u32(m, &v->count));
	GET(ipc_get_str(m, v->kind, sizeof(v->kind)));
	GET(ipc_get_u64(m, &v->from_ms));
	GET(ipc_get_u64(m, &v->to_ms));
	if (!alerts_ok(v))
		return SB_EINVAL;
	return ipc_get_end(m);
}

int
adm_unit_add_enc(struct ipc_msg *m, uint32_t id, const struct adm_unit_add *v)
{
	int rc = 0;

	ipc_msg_init(m, ADM_UNIT_ADD, id);
	PUT(ipc_put_str(m, v->id));
	PUT(ipc_put_str(m, v->name));
	PUT(ipc_put_str(m, v->parent));
	return enc_done(m, rc);
}

int
adm_unit_add_dec(struct ipc_msg *m, struct adm_unit_add *v)
{
	GET(ipc_get_str(m, v->id, sizeof(v->id)));
	GET(ipc_get_str(m, v->name, sizeof(v->name)));
	GET(ipc_get_str(m, v->parent, sizeof(v->parent)));
	return ipc_get_end(m);
}

static int
role_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct adm_role_assign *v)
{
	int rc = 0;

	ipc_msg_init(m, type, id);
	PUT(ipc_put_str(m, v->principal));
	PUT(ipc_put_str(m, v->role));
	PUT(ipc_put_str(m, v->unit));
	return enc_done(m, rc);
}

int
adm_role_assign_enc(struct ipc_msg *m, uint32_t id, const struct adm_role_assign *v)
{
	return role_enc(m, ADM_ROLE_ASSIGN, id, v);
}

int
adm_role_revoke_enc(struct ipc_msg *m, uint32_t id, const struct adm_role_assign *v)
{
	return role_enc(m, ADM_ROLE_REVOKE, id, v);
}

static int
principal_name_enc(struct ipc_msg *m, uint16_t type, uint32_t id,
    const struct adm_principal_name *v)
{
	int rc = v->principal[0] == '\0' ? SB_EINVAL : 0;

	ipc_msg_init(m, type, id);
	PUT(ipc_put_str(m, v->principal));
	return enc_done(m, rc);
}

int
adm_principal_name_enc(struct ipc_msg *m, uint32_t id, const struct adm_principal_name *v)
{
	return principal_name_enc(m, ADM_PRINCIPAL_DISABLE, id, v);
}

int
adm_principal_enable_enc(struct ipc_msg *m, uint32_t id, const struct adm_principal_name *v)
{
	return principal_name_enc(m, ADM_PRINCIPAL_ENABLE, id, v);
}

int
adm_principal_name_dec(struct ipc_msg *m, struct adm_principal_name *v)
{
	GET(ipc_get_str(m, v->principal, sizeof(v->principal)));
	if (v->principal[0] == '\0')
		return SB_EINVAL;
	return ipc_get_end(m);
}

int
adm_role_assign_dec(struct ipc_msg *m, struct adm_role_assign *v)
{
	GET(ipc_get_str(m, v->principal, sizeof(v->principal)));
	GET(ipc_get_str(m, v->role, sizeof(v->role)));
	GET(ipc_get_str(m, v->unit, sizeof(v->unit)));
	return ipc_get_end(m);
}

int
adm_word_add_enc(struct ipc_msg *m, uint32_t id, const struct adm_word_add *v)
{
	int rc = 0;

	ipc_msg_init(m, ADM_WORD_ADD, id);
	PUT(ipc_put_str(m, v->word));
	PUT(ipc_put_str(m, v->category));
	return enc_done(m, rc);
}

int
adm_word_add_dec(struct ipc_msg *m, struct adm_word_add *v)
{
	GET(ipc_get_str(m, v->word, sizeof(v->word)));
	GET(ipc_get_str(m, v->category, sizeof(v->category)));
	return ipc_get_end(m);
}

int
adm_word_remove_enc(struct ipc_msg *m, uint32_t id, const struct adm_word_remove *v)
{
	int rc = 0;

	ipc_msg_init(m, ADM_WORD_REMOVE, id);
	PUT(ipc_put_str(m, v->id));
	return enc_done(m, rc);
}

int
adm_word_remove_dec(struct ipc_msg *m, struct adm_word_remove *v)
{
	GET(ipc_get_str(m, v->id, sizeof(v->id)));
	return ipc_get_end(m);
}

int
msg_reply_error(struct ipc_msg *m, uint32_t id, uint16_t status, const char *code,
    const char *text)
{
	json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", text);
	struct msg_reply r = { .status = status, .content_type = "application/json" };
	char *body;
	int rc;

	if (j == NULL)
		return SB_ENOMEM;
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (body == NULL)
		return SB_ENOMEM;
	r.body = (const uint8_t *)body;
	r.body_len = strlen(body);
	rc = msg_reply_enc(m, id, &r);
	free(body);
	return rc;
}

/* ---- console admin accounts and sessions (mon_console.c) ----------------- */

int
msg_admin_user_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > MSG_ADMIN_USER_MAX - 1 || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

int
msg_admin_role_ok(const char *s)
{
	return strcmp(s, "sysadmin") == 0 || strcmp(s, "secadmin") == 0 ||
	    strcmp(s, "auditor") == 0;
}

int
msg_text_line_ok(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;

	while (i < n) {
		uint32_t c = p[i];
		size_t len, k;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			c &= 0x07;
		} else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (p[i + k] & 0x3f);
		}
		if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
		    (c >= 0xd800 && c <= 0xdfff) || (c >= 0x80 && c <= 0x9f))
			return 0;
		i += len;
	}
	return 1;
}

int
msg_passphrase_check(const char *s, const char **why)
{
	size_t n = strnlen(s, MSG_PASS_MAX + 1);

	if (n < MSG_PASS_MIN || n > MSG_PASS_MAX) {
		*why = "a passphrase is 12 to 256 bytes long";
		return SB_EINVAL;
	}
	if (!msg_text_line_ok(s, n)) {
		*why = "a passphrase is UTF-8 text without control characters";
		return SB_EINVAL;
	}
	return 0;
}

/* "" or 64 lower-case hex digits. */
static int
session_ok(const char *s)
{
	size_t n = strlen(s);

	if (n != 0 && n != MSG_SESSION_MAX - 1)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
adm_admin_add_enc(struct ipc_msg *m, uint32_t id, const struct adm_admin_add *v)
{
	int rc = session_ok(v->session) ? 0 : SB_EINVAL;

	ipc_msg_init_secret(m, ADM_ADMIN_ADD, id);
	PUT(ipc_put_str(m, v->session));
	PUT(ipc_put_str(m, v->user));
	PUT(ipc_put_str(m, v->role));
	PUT(ipc_put_str(m, v->pass));
	PUT(v->must_change > 1 ? SB_EINVAL : ipc_put_u8(m, v->must_change));
	return enc_done(m, rc);
}

int
adm_admin_add_dec(struct ipc_msg *m, struct adm_admin_add *v)
{
	GET(ipc_get_str(m, v->session, sizeof(v->session)));
	GET(ipc_get_str(m, v->user, sizeof(v->user)));
	GET(ipc_get_str(m, v->role, sizeof(v->role)));
	GET(ipc_get_str(m, v->pass, sizeof(v->pass)));
	GET(ipc_get_u8(m, &v->must_change));
	if (!session_ok(v->session) || v->must_change > 1)
		return SB_EINVAL;
	return ipc_get_end(m);
}

int
adm_login_enc(struct ipc_msg *m, uint32_t id, const struct adm_login *v)
{
	int rc = 0;

	ipc_msg_init_secret(m, ADM_LOGIN, id);
	PUT(msg_otp_ok(v->otp) ? 0 : SB_EINVAL);
	PUT(ipc_put_str(m, v->user));
	PUT(ipc_put_str(m, v->pass));
	PUT(ipc_put_str(m, v->otp));
	return enc_done(m, rc);
}

int
adm_login_dec(struct ipc_msg *m, struct adm_login *v)
{
	GET(ipc_get_str(m, v->user, sizeof(v->user)));
	GET(ipc_get_str(m, v->pass, sizeof(v->pass)));
	GET(ipc_get_str(m, v->otp, sizeof(v->otp)));
	if (!msg_otp_ok(v->otp))
		return SB_EINVAL;
	return ipc_get_end(m);
}

int
adm_user_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct adm_user *v)
{
	int rc = msg_admin_user_ok(v->user) ? 0 : SB_EINVAL;

	ipc_msg_init(m, type, id);
	PUT(ipc_put_str(m, v->user));
	return enc_done(m, rc);
}

int
adm_user_dec(struct ipc_msg *m, struct adm_user *v)
{
	GET(ipc_get_str(m, v->user, sizeof(v->user)));
	if (!msg_admin_user_ok(v->user))
		return SB_EINVAL;
	return ipc_get_end(m);
}

int
adm_otp_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct adm_otp *v)
{
	int rc = msg_otp_ok(v->otp) && (type == ADM_TOTP_ENROL || type == ADM_TOTP_CONFIRM) ?
	    0 : SB_EINVAL;

	ipc_msg_init_secret(m, type, id);
	PUT(ipc_put_str(m, v->otp));
	return enc_done(m, rc);
}

int
adm_otp_dec(struct ipc_msg *m, struct adm_otp *v)
{
	GET(ipc_get_str(m, v->otp, sizeof(v->otp)));
	if (!msg_otp_ok(v->otp))
		return SB_EINVAL;
	return ipc_get_end(m);
}

int
adm_session_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct adm_session *v)
{
	int rc = session_ok(v->session) ? 0 : SB_EINVAL;

	ipc_msg_init(m, type, id);
	PUT(ipc_put_str(m, v->session));
	return enc_done(m, rc);
}

int
adm_session_dec(struct ipc_msg *m, struct adm_session *v)
{
	GET(ipc_get_str(m, v->session, sizeof(v->session)));
	if (!session_ok(v->session))
		return SB_EINVAL;
	return ipc_get_end(m);
}

static int
power_action_ok(const char *s)
{
	return strcmp(s, "poweroff") == 0 || strcmp(s, "reboot") == 0;
}

int
adm_power_enc(struct ipc_msg *m, uint32_t id, const struct adm_power *v)
{
	int rc = power_action_ok(v->action) ? 0 : SB_EINVAL;

	ipc_msg_init(m, ADM_POWER, id);
	PUT(ipc_put_str(m, v->action));
	return enc_done(m, rc);
}

int
adm_power_dec(struct ipc_msg *m, struct adm_power *v)
{
	GET(ipc_get_str(m, v->action, sizeof(v->action)));
	if (!power_action_ok(v->action))
		return SB_EINVAL;
	return ipc_get_end(m);
}

static int
reshare_ok(const struct adm_reshare *v)
{
	size_t n = strlen(v->ceremony);
	int ok = strncmp(v->result, "failed:", 7) == 0 ||
	    ((strcmp(v->result, "ok") == 0 || strcmp(v->result, "done") == 0) &&
	    v->shares.n >= 1);

	return ok && v->shares.n <= MSG_BACKUP_SHARES_MAX && v->count >= 1 && v->count <= 255 &&
	    v->threshold >= 1 && v->threshold <= v->count && n == MSG_CEREMONY_MAX - 1 &&
	    strspn(v->ceremony, "0123456789abcdef") == n &&
	    msg_text_line_ok(v->result, strlen(v->result));
}

int
adm_reshare_enc(struct ipc_msg *m, uint32_t id, const struct adm_reshare *v)
{
	int rc = reshare_ok(v) ? 0 : SB_EINVAL;

	ipc_msg_init_secret(m, ADM_RESHARE, id);
	PUT(ipc_put_u8(m, (uint8_t)v->shares.n));
	for (unsigned i = 0; rc == 0 && i < v->shares.n; i++)
		PUT(ipc_put_str(m, v->shares.share[i]));
	PUT(ipc_put_u32(m, v->count));
	PUT(ipc_put_u32(m, v->threshold));
	PUT(ipc_put_str(m, v->ceremony));
	PUT(ipc_put_str(m, v->result));
	return enc_done(m, rc);
}

int
adm_reshare_dec(struct ipc_msg *m, struct adm_reshare *v)
{
	uint8_t n;

	GET(ipc_get_u8(m, &n));
	if (n > MSG_BACKUP_SHARES_MAX)
		return SB_EINVAL;
	v->shares.n = n;
	for (unsigned i = 0; i < n; i++)
		GET(ipc_get_str(m, v->shares.share[i], sizeof(v->shares.share[i])));
	GET(ipc_get_u32(m, &v->count));
	GET(ipc_get_u32(m, &v->threshold));
	GET(ipc_get_str(m, v->ceremony, sizeof(v->ceremony)));
	GET(ipc_get_str(m, v->result, sizeof(v->result)));
	if (!reshare_ok(v))
		return SB_EINVAL;
	return ipc_get_end(m);
}

int
adm_totp_recover_enc(struct ipc_msg *m, uint32_t id, const struct adm_totp_recover *v)
{
	int rc = v->shares.n < 1 || v->shares.n > MSG_BACKUP_SHARES_MAX ? SB_EINVAL : 0;

	ipc_msg_init_secret(m, ADM_TOTP_RECOVER, id);
	PUT(ipc_put_str(m, v->user));
	PUT(ipc_put_str(m, v->pass));
	PUT(ipc_put_str(m, v->new_pass));
	PUT(ipc_put_u8(m, (uint8_t)v->shares.n));
	for (unsigned i = 0; rc == 0 && i < v->shares.n; i++)
		PUT(ipc_put_str(m, v->shares.share[i]));
	return enc_done(m, rc);
}

int
adm_totp_recover_dec(struct ipc_msg *m, struct adm_totp_recover *v)
{
	uint8_t n;

	GET(ipc_get_str(m, v->user, sizeof(v->user)));
	GET(ipc_get_str(m, v->pass, sizeof(v->pass)));
	GET(ipc_get_str(m, v->new_pass, sizeof(v->new_pass)));
	GET(ipc_get_u8(m, &n));
	if (n < 1 || n > MSG_BACKUP_SHARES_MAX)
		return SB_EINVAL;
	v->shares.n = n;
	for (unsigned i = 0; i < n; i++)
		GET(ipc_get_str(m, v->shares.share[i], sizeof(v->shares.share[i])));
	return ipc_get_end(m);
}

static int
tls_csr_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct adm_tls_issue *v)
{
	int rc = v->days > MSG_TLS_DAYS_MAX || v->san[0] == '\0' ? SB_EINVAL : 0;

	ipc_msg_init(m, type, id);
	PUT(ipc_put_str(m, v->san));
	PUT(ipc_put_u32(m, v->days));
	PUT(v->csr_len > MSG_CERT_MAX ? SB_ELIMIT : ipc_put_bytes(m, v->csr_pem, v->csr_len));
	return enc_done(m, rc);
}

int
adm_tls_issue_enc(struct ipc_msg *m, uint32_t id, const struct adm_tls_issue *v)
{
	return tls_csr_enc(m, ADM_TLS_ISSUE, id, v);
}

int
adm_tls_request_enc(struct ipc_msg *m, uint32_t id, const struct adm_tls_issue *v)
{
	return tls_csr_enc(m, ADM_TLS_REQUEST, id, v);
}

int
adm_tls_issue_dec(struct ipc_msg *m, struct adm_tls_issue *v)
{
	GET(ipc_get_str(m, v->san, sizeof(v->san)));
	GET(ipc_get_u32(m, &v->days));
	if (v->days > MSG_TLS_DAYS_MAX || v->san[0] == '\0')
		return SB_EINVAL;
	GET(ipc_get_bytes(m, &v->csr_pem, &v->csr_len, MSG_CERT_MAX));
	return ipc_get_end(m);
}

int
adm_tls_install_enc(struct ipc_msg *m, uint32_t id, const struct adm_tls_install *v)
{
	int rc = 0;

	ipc_msg_init(m, ADM_TLS_INSTALL, id);
	PUT(v->chain_len > MSG_CERT_MAX ? SB_ELIMIT :
	    ipc_put_bytes(m, v->chain_pem, v->chain_len));
	return enc_done(m, rc);
}

int
adm_tls_install_dec(struct ipc_msg *m, struct adm_tls_install *v)
{
	GET(ipc_get_bytes(m, &v->chain_pem, &v->chain_len, MSG_CERT_MAX));
	return ipc_get_end(m);
}

static int
revoke_ok(const struct adm_revoke *v)
{
	return v->serial[0] != '\0' && v->reason[0] != '\0' &&
	    msg_text_line_ok(v->serial, strlen(v->serial)) &&
	    msg_text_line_ok(v->reason, strlen(v->reason));
}

int
adm_revoke_enc(struct ipc_msg *m, uint32_t id, const struct adm_revoke *v)
{
	int rc = revoke_ok(v) ? 0 : SB_EINVAL;

	ipc_msg_init(m, ADM_REVOKE, id);
	PUT(ipc_put_str(m, v->serial));
	PUT(ipc_put_str(m, v->reason));
	return enc_done(m, rc);
}

int
adm_revoke_dec(struct ipc_msg *m, struct adm_revoke *v)
{
	GET(ipc_get_str(m, v->serial, sizeof(v->serial)));
	GET(ipc_get_str(m, v->reason, sizeof(v->reason)));
	if (!revoke_ok(v))
		return SB_EINVAL;
	return ipc_get_end(m);
}

int
adm_alert_thresholds_enc(struct ipc_msg *m, uint32_t id, const struct adm_alert_thresholds *v)
{
	int rc = (v->burst_max | v->burst_window | v->refusals_max | v->refusals_window) == 0 ?
	    SB_EINVAL : 0;

	ipc_msg_init(m, ADM_ALERT_THRESHOLDS_SET, id);
	PUT(ipc_put_u32(m, v->burst_max));
	PUT(ipc_put_u32(m, v->burst_window));
	PUT(ipc_put_u32(m, v->refusals_max));
	PUT(ipc_put_u32(m, v->refusals_window));
	return enc_done(m, rc);
}

int
adm_alert_thresholds_dec(struct ipc_msg *m, struct adm_alert_thresholds *v)
{
	memset(v, 0, sizeof(*v));
	GET(ipc_get_u32(m, &v->burst_max));
	GET(ipc_get_u32(m, &v->burst_window));
	GET(ipc_get_u32(m, &v->refusals_max));
	GET(ipc_get_u32(m, &v->refusals_window));
	if ((v->burst_max | v->burst_window | v->refusals_max | v->refusals_window) == 0)
		return SB_EINVAL;
	return ipc_get_end(m);
}

int
adm_network_enc(struct ipc_msg *m, uint32_t id, const struct netcfg *v)
{
	int rc = v->ndns > NETCFG_DNS_MAX || v->nntp > NETCFG_NTP_MAX ||
	    v->nsyslog > NETCFG_SYSLOG_MAX ? SB_EINVAL : 0;

	ipc_msg_init(m, ADM_NETWORK, id);
	PUT(ipc_put_str(m, v->address));
	PUT(ipc_put_str(m, v->gateway));
	PUT(ipc_put_u8(m, (uint8_t)v->ndns));
	for (unsigned i = 0; rc == 0 && i < v->ndns; i++)
		PUT(ipc_put_str(m, v->dns[i]));
	PUT(ipc_put_u8(m, (uint8_t)v->nntp));
	for (unsigned i = 0; rc == 0 && i < v->nntp; i++)
		PUT(ipc_put_str(m, v->ntp[i]));
	PUT(ipc_put_u8(m, (uint8_t)v->nsyslog));
	for (unsigned i = 0; rc == 0 && i < v->nsyslog; i++)
		PUT(ipc_put_str(m, v->syslog[i]));
	return enc_done(m, rc);
}

int
adm_network_dec(struct ipc_msg *m, struct netcfg *v)
{
	uint8_t n;

	memset(v, 0, sizeof(*v));
	GET(ipc_get_str(m, v->address, sizeof(v->address)));
	GET(ipc_get_str(m, v->gateway, sizeof(v->gateway)));
	GET(ipc_get_u8(m, &n));
	if (n > NETCFG_DNS_MAX)
		return SB_EINVAL;
	v->ndns = n;
	for (unsigned i = 0; i < v->ndns; i++)
		GET(ipc_get_str(m, v->dns[i], sizeof(v->dns[i])));
	GET(ipc_get_u8(m, &n));
	if (n > NETCFG_NTP_MAX)
		return SB_EINVAL;
	v->nntp = n;
	for (unsigned i = 0; i < v->nntp; i++)
		GET(ipc_get_str(m, v->ntp[i], sizeof(v->ntp[i])));
	GET(ipc_get_u8(m, &n));
	if (n > NETCFG_SYSLOG_MAX)
		return SB_EINVAL;
	v->nsyslog = n;
	for (unsigned i = 0; i < v->nsyslog; i++)
		GET(ipc_get_str(m, v->syslog[i], sizeof(v->syslog[i])));
	return ipc_get_end(m);
}

int
adm_backup_enc(struct ipc_msg *m, uint32_t id, const struct adm_backup *v)
{
	int rc = v->n < 1 || v->n > MSG_BACKUP_SHARES_MAX ? SB_EINVAL : 0;

	ipc_msg_init_secret(m, ADM_BACKUP, id);
	PUT(ipc_put_u8(m, (uint8_t)v->n));
	for (unsigned i = 0; rc == 0 && i < v->n; i++)
		PUT(ipc_put_str(m, v->share[i]));
	return enc_done(m, rc);
}

int
adm_backup_dec(struct ipc_msg *m, struct adm_backup *v)
{
	uint8_t n;

	GET(ipc_get_u8(m, &n));
	if (n < 1 || n > MSG_BACKUP_SHARES_MAX)
		return SB_EINVAL;
	v->n = n;
	for (unsigned i = 0; i < v->n; i++)
		GET(ipc_get_str(m, v->share[i], sizeof(v->share[i])));
	return ipc_get_end(m);
}

int
adm_enrol_enc(struct ipc_msg *m, uint32_t id, const struct adm_enrol *v)
{
	int rc = v->days > MSG_ENROL_DAYS_MAX ? SB_EINVAL : 0;

	ipc_msg_init(m, ADM_ENROL, id);
	PUT(ipc_put_str(m, v->name));
	PUT(ipc_put_str(m, v->unit));
	PUT(ipc_put_u32(m, v->days));
	PUT(v->csr_len > MSG_CERT_MAX ? SB_ELIMIT : ipc_put_bytes(m, v->csr_pem, v->csr_len));
	return enc_done(m, rc);
}

int
adm_enrol_dec(struct ipc_msg *m, struct adm_enrol *v)
{
	GET(ipc_get_str(m, v->name, sizeof(v->name)));
	GET(ipc_get_str(m, v->unit, sizeof(v->unit)));
	GET(ipc_get_u32(m, &v->days));
	if (v->days > MSG_ENROL_DAYS_MAX)
		return SB_EINVAL;
	GET(ipc_get_bytes(m, &v->csr_pem, &v->csr_len, MSG_CERT_MAX));
	return ipc_get_end(m);
}

int
adm_as_enc(struct ipc_msg *m, const char *session, const struct ipc_msg *inner)
{
	int rc = session[0] != '\0' && session_ok(session) && inner->type != ADM_AS &&
	    inner->type >= ADM_STATUS ? 0 : SB_EINVAL;

	/* The session is a bearer token and the command may carry a share. */
	ipc_msg_init_secret(m, ADM_AS, inner->id);
	PUT(ipc_put_str(m, session));
	PUT(ipc_put_u16(m, inner->type));
	PUT(ipc_put_bytes(m, inner->body.data, inner->body.len));
	return enc_done(m, rc);
}

int
adm_as_dec(struct ipc_msg *m, struct adm_as *v)
{
	GET(ipc_get_str(m, v->session, sizeof(v->session)));
	if (v->session[0] == '\0' || !session_ok(v->session))
		return SB_EINVAL;
	GET(ipc_get_u16(m, &v->type));
	if (v->type == ADM_AS || v->type < ADM_STATUS)
		return SB_EINVAL;
	GET(ipc_get_bytes(m, &v->body, &v->body_len, IPC_MAX_BODY));
	return ipc_get_end(m);
}

int
adm_passwd_enc(struct ipc_msg *m, uint32_t id, const struct adm_passwd *v)
{
	int rc = session_ok(v->session) ? 0 : SB_EINVAL;

	ipc_msg_init_secret(m, ADM_PASSWD, id);
	PUT(ipc_put_str(m, v->session));
	PUT(ipc_put_str(m, v->old_pass));
	PUT(ipc_put_str(m, v->new_pass));
	return enc_done(m, rc);
}

int
adm_passwd_dec(struct ipc_msg *m, struct adm_passwd *v)
{
	GET(ipc_get_str(m, v->session, sizeof(v->session)));
	GET(ipc_get_str(m, v->old_pass, sizeof(v->old_pass)));
	GET(ipc_get_str(m, v->new_pass, sizeof(v->new_pass)));
	if (!session_ok(v->session))
		return SB_EINVAL;
	return ipc_get_end(m);
}
