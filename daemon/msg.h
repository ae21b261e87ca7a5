/*
 * msg — the typed messages between seald's net worker and its monitor, and
 * between sealadm and the monitor's admin socket. docs/PROTOCOL-ipc.md is
 * the reference.
 *
 * One struct, one encoder and one decoder per message type, side by side in
 * msg.c. A decoder checks every length against the bounds below and that it
 * consumed the whole body; the monitor treats a decode failure from its own
 * net worker as fatal for that connection (the child is broken or
 * compromised) and answers the admin socket with an error.
 *
 * The net worker sends requests carrying the client's identity as TLS
 * verified it; the monitor decides what the identity may do. Replies are
 * MSG_REPLY (a finished HTTP answer: status, content type, body) except for
 * signing, whose MSG_SIGN_RESULT the net worker assembles into JSON (one per
 * item of a batch).
 */
#ifndef SB_MSG_H
#define SB_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/ipc.h"
#include "../lib/netcfg.h"

#define MSG_ID_MAX 64		/* seal ids, principal names */
#define MSG_NAME_MAX 256	/* document names, display names */
#define MSG_SUBJECT_MAX 512	/* certificate subject, one line */
#define MSG_DIGEST_MAX 64	/* sha512 */
#define MSG_CODE_MAX 48		/* stable error codes */
#define MSG_TEXT_MAX 512	/* error messages */
#define MSG_CTYPE_MAX 64
#define MSG_CMS_MAX (256 * 1024)
#define MSG_TSQ_MAX (16 * 1024)
#define MSG_BODY_MAX (IPC_MAX_BODY - 1024)
#define MSG_SHARE_MAX 256
#define MSG_IMAGE_MAX (1024 * 1024)
#define MSG_CERT_MAX (64 * 1024)
#define MSG_ACT_FOR_MAX 32	/* persons one principal may act on behalf of */
#define MSG_ROLES_MAX 16	/* role assignments carried by one ADM_PRINCIPAL_ADD */
#define MSG_ROLE_MAX 32		/* a role name */
#define MSG_KIND_MAX 16		/* "person", "application"; a request's kind or state */

enum msg_type {
	/* net worker -> monitor */
	MSG_HEALTH = 1,
	MSG_SEALS_LIST,
	MSG_SEAL_GET,
	MSG_SIGN,
	MSG_VERIFY,
	MSG_TSA,
	MSG_LEDGER_STH,
	MSG_LEDGER_ENTRIES,
	MSG_PROOF_INCLUSION,
	MSG_PROOF_CONSISTENCY,
	MSG_EVIDENCE,
	MSG_UNITS_LIST,			/* ident only */
	MSG_PRINCIPALS_LIST,		/* ident only */
	MSG_ROLES_LIST,			/* ident only */
	MSG_REQUEST_FILE,
	MSG_REQUESTS_LIST,
	MSG_REQUEST_GET,		/* struct msg_request_act */
	MSG_REQUEST_APPROVE,		/* struct msg_request_act */
	MSG_REQUEST_REJECT,		/* struct msg_request_act */
	MSG_TOTP_ENROL,			/* struct msg_totp; otp "" unless replacing */
	MSG_TOTP_CONFIRM,		/* struct msg_totp */
	MSG_TOTP_VERIFY,		/* struct msg_totp */
	/* PDF sealing: numbered apart so that rows added above never move them */
	MSG_SEAL_IMAGE = 40,		/* struct msg_seal_get: the seal's PNG, to sign with */
	MSG_PDF_SEALED = 41,		/* struct msg_pdf_sealed */
	MSG_STATS = 42,			/* ident only: GET /v1/stats */
	MSG_GRANTS_LIST = 43,		/* struct msg_grants_list: GET /v1/grants */
	MSG_ALERT_REVOKED = 44,		/* struct msg_ident_only: a revoked certificate
					   was presented (the net worker answered 403) */
	MSG_ALERTS = 45,		/* struct msg_alerts: GET /v1/alerts */
	MSG_TLS_SERVING = 46,		/* struct msg_ident_only: the server certificate
					   the net worker presents (at start and after
					   each reload): its SHA-256 and subject */
	/* monitor -> net worker, and monitor -> sealadm */
	MSG_REPLY = 100,
	MSG_SIGN_RESULT,
	/* sealadm -> monitor (admin socket) */
	ADM_STATUS = 200,
	ADM_UNSEAL,
	ADM_SEAL_CREATE,
	ADM_PRINCIPAL_ADD,
	ADM_GRANT_ADD,
	ADM_UNIT_ADD,
	ADM_ROLE_ASSIGN,
	ADM_ROLE_LIST,			/* empty body */
	/* The sensitive-word library (mon_words.c): numbered apart, as above. */
	ADM_WORD_ADD = 230,		/* struct adm_word_add */
	ADM_WORD_LIST = 231,		/* empty body */
	ADM_WORD_REMOVE = 232,		/* struct adm_word_remove */
	/* Console admin accounts and sessions (mon_console.c): numbered apart. */
	ADM_ADMIN_ADD = 240,		/* struct adm_admin_add; secret */
	ADM_LOGIN = 241,		/* struct adm_login; secret */
	ADM_LOGOUT = 242,		/* struct adm_session */
	ADM_PASSWD = 243,		/* struct adm_passwd; secret */
	ADM_SESSION = 244,		/* struct adm_session: who am I; refreshes it */
	ADM_LEDGER_VERIFY = 245,	/* struct adm_session: an auditor's session */
	ADM_AS = 246,			/* struct adm_as: another command, as a
					   logged-in admin (monitor.c's gate) */
	ADM_ENROL = 247,		/* struct adm_enrol: a business system's
					   certificate request, issued and registered */
	ADM_POWER = 248,		/* struct adm_power: ledger a power-off or
					   reboot that sealadm then runs */
	ADM_LEDGER_ENTRIES = 249,	/* struct msg_ledger_entries (who unused):
					   the console auditor browses the ledger */
	ADM_ALERTS = 250,		/* struct msg_alerts (who unused) */
	ADM_EVIDENCE = 251,		/* struct msg_evidence (who unused) */
	ADM_BACKUP = 252,		/* struct adm_backup; secret; the file to
					   write rides on the frame (ipc_send_fd) */
	ADM_NETWORK = 253,		/* struct netcfg: ledger the network
					   settings that sealadm then writes */
	ADM_TOTP_ENROL = 254,		/* struct adm_otp; secret */
	ADM_TOTP_CONFIRM = 255,		/* struct adm_otp; secret */
	ADM_TOTP_RESET = 256,		/* struct adm_user: a secadmin removes another
					   admin's one-time code */
	ADM_REVOKE = 257,		/* struct adm_revoke: revoke a client
					   certificate; a fresh CRL */
	ADM_TLS_ISSUE = 258,		/* struct adm_tls_issue: the appliance CA
					   issues seald's TLS server certificate */
	ADM_TLS_INSTALL = 259,		/* struct adm_tls_install: ledger the
					   server certificate sealadm installs */
	ADM_TLS_RELOAD = 260,		/* empty body: seald re-reads its TLS files */
	ADM_RESHARE = 261,		/* struct adm_reshare; secret: ledger a
					   re-share the console is making */
	ADM_TOTP_RECOVER = 262,		/* struct adm_totp_recover; secret: an
					   admin who lost their authenticator */
	ADM_ROLE_REVOKE = 263,		/* struct adm_role_assign: a role taken
					   away (unit "": the principal's) */
	ADM_PRINCIPAL_DISABLE = 264,	/* struct adm_principal_name */
	ADM_TLS_REQUEST = 265,		/* struct adm_tls_issue (days 0): ledger
					   a request made for an outside CA */
	ADM_ALERT_THRESHOLDS = 266,	/* empty body: the alert thresholds in force */
	ADM_ALERT_THRESHOLDS_SET = 267,	/* struct adm_alert_thresholds: the
					   secadmin's, ledgered, in force at once */
	ADM_PRINCIPAL_ENABLE = 268,	/* struct adm_principal_name: a disabled
					   principal active again */
	ADM_APPROVER_GROUPS = 269,	/* empty body: the approver groups (units
					   with approvers, or named by grants) */
};

/* Who is asking, as the net worker's TLS layer verified it. */
struct msg_ident {
	uint8_t cert_sha256[32];	/* SHA-256 of the client certificate's DER */
	char subject[MSG_SUBJECT_MAX];	/* RFC 2253 one-line subject, for logs */
	char on_behalf_of[MSG_ID_MAX];	/* person named by an application; "" if none,
					 * else a principal name (msg_principal_ok) */
};

/* MSG_HEALTH carries no body. MSG_SEALS_LIST and MSG_LEDGER_STH carry only an ident. */
struct msg_ident_only {
	struct msg_ident who;
};

struct msg_seal_get {
	struct msg_ident who;
	char seal[MSG_ID_MAX];
};

/* Signature profiles of MSG_SIGN. */
enum msg_profile {
	MSG_PROFILE_CADES = 0,		/* detached CAdES-B-T with signing-time */
	MSG_PROFILE_PADES = 1,		/* PAdES-B-T: no signing-time; digest of the ByteRange */
};

#define MSG_DOCTYPE_MAX 32	/* a grant's document type: [a-z0-9_-]{1,31} */
#define MSG_OTP_MAX 16		/* a one-time code: 6-8 digits */

/* Where a PDF seal goes (MSG_PROFILE_PADES only); points are 1/100 pt. */
struct msg_pdf {
	uint8_t input_sha256[32];	/* the document as received */
	uint32_t page;			/* 1-based; 0 for a cross-page seal */
	uint32_t x, y, w, h;		/* centipoints from the page's lower left */
	char reason[MSG_NAME_MAX];	/* /Reason; "" for none */
};

struct msg_sign {
	struct msg_ident who;
	char seal[MSG_ID_MAX];
	uint16_t md_nid;		/* NID_sha256, NID_sha384, NID_sha512 */
	uint8_t digest[MSG_DIGEST_MAX];
	size_t digest_len;		/* must match md_nid: checked by the monitor */
	char document_name[MSG_NAME_MAX];
	char document_type[MSG_DOCTYPE_MAX];	/* "" when the caller named none */
	char otp[MSG_OTP_MAX];		/* one-time code for confirm: totp; "" if none */
	char approval[MSG_ID_MAX];	/* id of an approved `use` request; "" if none */
	uint8_t profile;		/* enum msg_profile */
	struct msg_pdf pdf;		/* meaningful for MSG_PROFILE_PADES */
	/* The document itself when it is text/plain (for the sensitive-word
	 * check): NULL when the request carried none (a digest, a PDF); else
	 * text_len (0..MSG_SIGN_TEXT_MAX) bytes, pointing into the message when
	 * decoded, and into the net worker's own copy (req_sign_text_free) when
	 * encoded. Encoded after every other field, and only when present. */
	const uint8_t *text;
	size_t text_len;
	/* A PDF whose text could not be read (no text, a scan, pdftotext
	 * failed): text NULL and why names the reason for a person; "" when
	 * the text was read or not asked for. Encoded as the text is. */
	char text_unreadable[MSG_NAME_MAX];
};

#define MSG_SIGN_TEXT_MAX (256 * 1024)	/* a text/plain document: 413 past it */
#define MSG_SIGN_PDF_TEXT_MAX (1024 * 1024)	/* a PDF's text (formats/pdftsv.h) */

/*
 * After a PAdES MSG_SIGN: the sealed PDF the net worker made with the CMS of
 * ledger entry seq, by its SHA-256, to be ledgered before the PDF leaves.
 */
struct msg_pdf_sealed {
	struct msg_ident who;
	uint64_t seq;			/* the sign entry */
	uint8_t output_sha256[32];
	uint64_t output_len;
};

struct msg_verify {
	struct msg_ident who;
	uint16_t md_nid;
	uint8_t digest[MSG_DIGEST_MAX];
	size_t digest_len;
	const uint8_t *cms;		/* points into the message */
	size_t cms_len;
};

struct msg_tsa {
	struct msg_ident who;
	const uint8_t *query;		/* DER TimeStampReq; points into the message */
	size_t query_len;
};

/*
 * GET /v1/ledger/entries: entries from seq start on, at most count of them
 * that match every filter given (docs/ledger.md, "Filters"): "" and 0 /
 * UINT64_MAX for a filter not given. to_ms is exclusive.
 */
struct msg_ledger_entries {
	struct msg_ident who;
	uint64_t start;
	uint32_t count;
	char seal[MSG_ID_MAX];		/* "" or a seal id */
	char principal[MSG_ID_MAX];	/* "" or a principal name: actor or on_behalf_of */
	uint64_t from_ms;		/* entry time >= from_ms (unix ms); 0: no bound */
	uint64_t to_ms;			/* entry time < to_ms; UINT64_MAX: no bound */
	char unit[MSG_ID_MAX];		/* "" or a unit: entries of seals in its subtree */
	char document_name[MSG_NAME_MAX];	/* "" or text the document name contains */
};

/* Inclusion: a = seq, b = tree size (0: current). Consistency: a = first, b = second. */
struct msg_proof {
	struct msg_ident who;
	uint64_t a, b;
};

struct msg_evidence {
	struct msg_ident who;
	uint64_t seq;
};

/* POST /v1/requests: file a request (docs/policy.md, "Requests"). */
struct msg_request_file {
	struct msg_ident who;
	char kind[MSG_KIND_MAX];	/* freeze, unfreeze, deactivate, destroy,
					   transfer, revoke, use */
	char seal[MSG_ID_MAX];
	char reason[MSG_NAME_MAX];	/* 1..255 bytes of UTF-8 without controls */
	char unit[MSG_ID_MAX];		/* kind transfer only: the unit the seal goes
					   to; else "" */
	char principal[MSG_ID_MAX];	/* kind revoke only: whose grant on the seal
					   goes; else "" */
	/* kind use only (else md_nid 0, digest_len 0, document_name ""): the
	 * document to be sealed, by its digest (checked against md_nid by the
	 * monitor) and its name (1..255 bytes of UTF-8). */
	uint16_t md_nid;
	uint8_t digest[MSG_DIGEST_MAX];
	size_t digest_len;
	char document_name[MSG_NAME_MAX];
};

/* GET /v1/requests: "" for a filter not given. */
struct msg_requests_list {
	struct msg_ident who;
	char state[MSG_KIND_MAX];
	char kind[MSG_KIND_MAX];
};

/* GET, approve, reject one request: "r-N" is request N (>= 1). reason: ""
 * except for a rejection, where it is 1..255 bytes of UTF-8. */
struct msg_request_act {
	struct msg_ident who;
	uint64_t request;
	char reason[MSG_NAME_MAX];
};

/* POST /v1/principals/me/totp[/confirm|/verify]: the caller's own TOTP
 * (docs/policy.md, "Intent confirmation (TOTP)"). otp: "" (enrol only) or
 * 6-8 ASCII digits: the decoder refuses anything else. */
struct msg_totp {
	struct msg_ident who;
	char otp[MSG_OTP_MAX];
};

struct msg_reply {
	uint16_t status;		/* HTTP status */
	char content_type[MSG_CTYPE_MAX];
	const uint8_t *body;		/* points into the message (decode) or caller memory (encode) */
	size_t body_len;
};

struct msg_sign_result {
	uint16_t status;		/* HTTP status: 200 on success */
	char code[MSG_CODE_MAX];	/* "" on success, else the stable error code */
	char message[MSG_TEXT_MAX];
	uint64_t seq;			/* ledger sequence number (also of a refusal) */
	uint8_t leaf[32];		/* ledger leaf hash */
	const uint8_t *cms;		/* DER CMS SignedData on success */
	size_t cms_len;
};

struct adm_unseal {
	char share[MSG_SHARE_MAX];	/* secret: the message is made with ipc_msg_init_secret */
};

struct adm_seal_create {
	char id[MSG_ID_MAX];		/* "" lets the monitor choose one */
	char name[MSG_NAME_MAX];
	char type[MSG_ID_MAX];		/* official, contract, finance, ... */
	char key_type[16];		/* ec-p256, ec-p384, rsa-2048, rsa-3072 */
	char unit[MSG_ID_MAX];
	const uint8_t *image;		/* PNG */
	size_t image_len;
};

struct adm_principal_add {
	char name[MSG_ID_MAX];
	const uint8_t *cert_pem;
	size_t cert_len;
	/* The persons (principal names) it may act on behalf of. */
	uint16_t n_may_act_for;		/* 0..MSG_ACT_FOR_MAX */
	char may_act_for[MSG_ACT_FOR_MAX][MSG_ID_MAX];
	char kind[MSG_KIND_MAX];	/* "person", "application"; "": person */
	char unit[MSG_ID_MAX];		/* "": the root unit */
	/* Role assignments: roles[i] over the subtree of role_units[i] ("": unit). */
	uint16_t n_roles;		/* 0..MSG_ROLES_MAX; 0: requester in unit */
	char roles[MSG_ROLES_MAX][MSG_ROLE_MAX];
	char role_units[MSG_ROLES_MAX][MSG_ID_MAX];
};

#define MSG_GRANT_LIST_MAX 16	/* document types, or applications, of one grant */

/* A grant and its conditions (docs/policy.md, "Grants and quotas"). Every
 * zero or empty condition is "no limit". */
struct adm_grant_add {
	char seal[MSG_ID_MAX];
	char principal[MSG_ID_MAX];
	uint16_t n_doc_types;		/* 0..MSG_GRANT_LIST_MAX; 0: any type */
	char doc_types[MSG_GRANT_LIST_MAX][MSG_DOCTYPE_MAX];
	uint32_t per_day, per_month;	/* uses per UTC day / month; 0: unlimited */
	uint64_t valid_from, valid_to;	/* Unix seconds; 0: open */
	uint32_t hours;			/* bit h (0..23): hour h UTC allowed; 0: any */
	uint8_t days;			/* bit d: 0 Monday .. 6 Sunday; 0: any */
	uint8_t approval_k;		/* 0: no approval; else K of approval_group */
	char approval_group[MSG_ID_MAX];
	char confirm[MSG_KIND_MAX];	/* "none" (or "") or "totp" */
	uint16_t n_apps;		/* 0..MSG_GRANT_LIST_MAX; 0: any application */
	char apps[MSG_GRANT_LIST_MAX][MSG_ID_MAX];
	char on_sensitive[MSG_KIND_MAX];	/* "block" (or "") or "approval" */
};

/* MSG_GRANTS_LIST: the grants the caller may see, of one seal ("": all). */
struct msg_grants_list {
	struct msg_ident who;
	char seal[MSG_ID_MAX];
};

/* MSG_ALERTS: alert entries of the ledger from seq start on, at most count
 * of them, of one kind ("": any) with from_ms <= time < to_ms. */
#define MSG_ALERT_KIND_MAX 24	/* "revoked_certificate" and the other kinds */
struct msg_alerts {
	struct msg_ident who;
	uint64_t start;
	uint32_t count;			/* 1..1000 */
	char kind[MSG_ALERT_KIND_MAX];	/* "" or [a-z_]{1,23} */
	uint64_t from_ms;		/* 0: no bound */
	uint64_t to_ms;			/* UINT64_MAX: no bound; from_ms < to_ms */
};

struct adm_unit_add {
	char id[MSG_ID_MAX];
	char name[MSG_NAME_MAX];
	char parent[MSG_ID_MAX];	/* an existing unit */
};

struct adm_role_assign {
	char principal[MSG_ID_MAX];
	char role[MSG_ROLE_MAX];
	char unit[MSG_ID_MAX];		/* "": the principal's unit */
};

/*
 * ADM_ALERT_THRESHOLDS_SET: the thresholds of the counted alerts
 * (docs/policy.md, "Alerts"); 0 keeps the one in force. At least one is not
 * 0. The monitor checks the ranges (CFG_ALERT_*_HI, as the configuration's).
 */
struct adm_alert_thresholds {
	uint32_t burst_max, burst_window, refusals_max, refusals_window;
};

/* ADM_PRINCIPAL_DISABLE: the principal whose requests are refused from now. */
struct adm_principal_name {
	char principal[MSG_ID_MAX];
};

/* The sensitive-word library (docs/policy.md, "Sensitive words"). The
 * buffers are wider than the rules (a word is 1..64 bytes of UTF-8) so that
 * the monitor, not the codec, refuses a bad word with a clear message. */
struct adm_word_add {
	char word[MSG_NAME_MAX];
	char category[MSG_NAME_MAX];	/* "" for none */
};

struct adm_word_remove {
	char id[MSG_ID_MAX];		/* "w-N" */
};

/*
 * Console admin accounts (docs/admin-guide.md). A username is
 * [a-z][a-z0-9_-]{0,31}; a role sysadmin, secadmin or auditor; a passphrase
 * 12..256 bytes of UTF-8 without control characters; a session 64 lower-case
 * hex digits. The codecs hold to the buffer sizes (and a session to its
 * form); the monitor checks the rest with the msg_admin_* helpers below so
 * that it can say what is wrong. The messages with a passphrase are made
 * with ipc_msg_init_secret; wipe the structs after use (secret_alloc them).
 */
#define MSG_ADMIN_USER_MAX 33		/* 32 + NUL */
#define MSG_PASS_MIN 12
#define MSG_PASS_MAX 256		/* bytes, without the NUL */
#define MSG_SESSION_MAX 65		/* 64 hex + NUL */

struct adm_admin_add {
	char session[MSG_SESSION_MAX];	/* "": no session (bootstrap only) */
	char user[MSG_ADMIN_USER_MAX];
	char role[MSG_ROLE_MAX];
	char pass[MSG_PASS_MAX + 1];
	uint8_t must_change;		/* 1: the passphrase was chosen for them;
					   they replace it before anything else */
};

struct adm_login {
	char user[MSG_ADMIN_USER_MAX];
	char pass[MSG_PASS_MAX + 1];
	char otp[MSG_OTP_MAX];		/* the admin's one-time code; "" if none */
};

struct adm_user {
	char user[MSG_ADMIN_USER_MAX];
};

/* ADM_TOTP_ENROL and ADM_TOTP_CONFIRM: the logged-in admin's own code
 * ("" or 6-8 digits; enrol takes one to replace a confirmed secret). */
struct adm_otp {
	char otp[MSG_OTP_MAX];
};

struct adm_session {
	char session[MSG_SESSION_MAX];
};

/* ADM_ENROL: issue a client certificate from the appliance CA for the
 * request's key, and register it as the application principal name. */
#define MSG_ENROL_DAYS_MAX 825
struct adm_enrol {
	char name[MSG_ID_MAX];
	char unit[MSG_ID_MAX];		/* "": the root unit */
	uint32_t days;			/* 1..MSG_ENROL_DAYS_MAX; 0: 365 */
	const uint8_t *csr_pem;		/* a PKCS#10 request, PEM (points into m) */
	size_t csr_len;			/* at most MSG_CERT_MAX */
};

/* ADM_POWER: "poweroff" or "reboot". */
struct adm_power {
	char action[16];
};

/* ADM_TLS_ISSUE: a TLS server certificate for the request's key, with
 * these names (ca_san_valid: DNS:name and IP:address items). */
#define MSG_SAN_MAX 1024
#define MSG_TLS_DAYS_MAX 825
struct adm_tls_issue {
	char san[MSG_SAN_MAX];
	uint32_t days;			/* 1..MSG_TLS_DAYS_MAX; 0: 825 */
	const uint8_t *csr_pem;		/* a PKCS#10 request, PEM (points into m) */
	size_t csr_len;			/* at most MSG_CERT_MAX */
};

/* ADM_TLS_INSTALL: the certificate file sealadm is about to put in place
 * (PEM: the server certificate first, then its CA certificates). */
struct adm_tls_install {
	const uint8_t *chain_pem;	/* points into m */
	size_t chain_len;		/* at most MSG_CERT_MAX */
};

/* ADM_REVOKE: a client certificate's serial (hex, as openssl x509 -serial
 * prints it; colons between octets allowed) and why (one line, ledgered). */
#define MSG_SERIAL_MAX 64
struct adm_revoke {
	char serial[MSG_SERIAL_MAX];
	char reason[MSG_NAME_MAX];
};

/* ADM_BACKUP: the quorum's shares, which open the backup key. */
#define MSG_BACKUP_SHARES_MAX 16
struct adm_backup {
	unsigned n;
	char share[MSG_BACKUP_SHARES_MAX][MSG_SHARE_MAX];	/* secret */
};

/*
 * ADM_RESHARE: the console re-shares the master secret (sealadm, which
 * changes the token's PINs itself). result "ok": before the change, with
 * the quorum's current shares, which the monitor checks, and the new
 * shares' count, threshold and ceremony id (16 hex digits); "failed:..."
 * afterwards, when the change did not complete (no shares needed); "done"
 * once it did, with M of the new shares, from which the monitor takes the
 * new PIN to hold for reconnecting.
 */
#define MSG_CEREMONY_MAX 17
#define MSG_RESULT_MAX 128
struct adm_reshare {
	struct adm_backup shares;	/* secret; n may be 0 with a failure */
	uint32_t count, threshold;
	char ceremony[MSG_CEREMONY_MAX];
	char result[MSG_RESULT_MAX];
};

/*
 * ADM_TOTP_RECOVER: an admin who lost their authenticator removes their own
 * one-time code with their passphrase and the quorum's shares (no session:
 * they cannot log in), and replaces the passphrase in the same step, so that
 * whoever has the authenticator and the old passphrase is out. The monitor
 * checks all three.
 */
struct adm_totp_recover {
	char user[MSG_ADMIN_USER_MAX];
	char pass[MSG_PASS_MAX + 1];
	char new_pass[MSG_PASS_MAX + 1];
	struct adm_backup shares;	/* 1..MSG_BACKUP_SHARES_MAX */
};

/* ADM_AS: the command `type` with its encoded body, sent under a console
 * session. The monitor runs it as that admin, if the admin's role may. */
struct adm_as {
	char session[MSG_SESSION_MAX];	/* a session token, never "" */
	uint16_t type;			/* an ADM_* type other than ADM_AS */
	const uint8_t *body;		/* the command's own body (points into m) */
	size_t body_len;
};

struct adm_passwd {
	char session[MSG_SESSION_MAX];
	char old_pass[MSG_PASS_MAX + 1];
	char new_pass[MSG_PASS_MAX + 1];
};

/*
 * Encoders initialise m (type and id given) and fill its body; the caller
 * frees it with ipc_msg_free. Decoders read a received message whose type was
 * already checked; pointer fields point into m, which must outlive them.
 * All return 0, SB_EINVAL (decode: malformed or over a bound), SB_ELIMIT or
 * SB_ENOMEM (encode).
 */
int msg_ident_only_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct msg_ident_only *v);
int msg_ident_only_dec(struct ipc_msg *m, struct msg_ident_only *v);
int msg_seal_get_enc(struct ipc_msg *m, uint32_t id, const struct msg_seal_get *v);
int msg_seal_get_dec(struct ipc_msg *m, struct msg_seal_get *v);
/* MSG_SEAL_IMAGE: the body of MSG_SEAL_GET; decoded with msg_seal_get_dec. */
int msg_seal_image_enc(struct ipc_msg *m, uint32_t id, const struct msg_seal_get *v);
int msg_pdf_sealed_enc(struct ipc_msg *m, uint32_t id, const struct msg_pdf_sealed *v);
int msg_pdf_sealed_dec(struct ipc_msg *m, struct msg_pdf_sealed *v);
int msg_sign_enc(struct ipc_msg *m, uint32_t id, const struct msg_sign *v);
int msg_sign_dec(struct ipc_msg *m, struct msg_sign *v);
int msg_verify_enc(struct ipc_msg *m, uint32_t id, const struct msg_verify *v);
int msg_verify_dec(struct ipc_msg *m, struct msg_verify *v);
int msg_tsa_enc(struct ipc_msg *m, uint32_t id, const struct msg_tsa *v);
int msg_tsa_dec(struct ipc_msg *m, struct msg_tsa *v);
int msg_ledger_entries_enc(struct ipc_msg *m, uint32_t id, const struct msg_ledger_entries *v);
int msg_ledger_entries_dec(struct ipc_msg *m, struct msg_ledger_entries *v);
/* type: MSG_PROOF_INCLUSION or MSG_PROOF_CONSISTENCY */
int msg_proof_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct msg_proof *v);
int msg_proof_dec(struct ipc_msg *m, struct msg_proof *v);
int msg_evidence_enc(struct ipc_msg *m, uint32_t id, const struct msg_evidence *v);
int msg_evidence_dec(struct ipc_msg *m, struct msg_evidence *v);
int msg_request_file_enc(struct ipc_msg *m, uint32_t id, const struct msg_request_file *v);
int msg_request_file_dec(struct ipc_msg *m, struct msg_request_file *v);
int msg_requests_list_enc(struct ipc_msg *m, uint32_t id, const struct msg_requests_list *v);
int msg_requests_list_dec(struct ipc_msg *m, struct msg_requests_list *v);
/* type: MSG_REQUEST_GET, MSG_REQUEST_APPROVE or MSG_REQUEST_REJECT */
int msg_request_act_enc(struct ipc_msg *m, uint16_t type, uint32_t id,
    const struct msg_request_act *v);
int msg_request_act_dec(struct ipc_msg *m, struct msg_request_act *v);
/* type: MSG_TOTP_ENROL, MSG_TOTP_CONFIRM or MSG_TOTP_VERIFY; made with
 * ipc_msg_init_secret (the code is short-lived, but still a credential). */
int msg_totp_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct msg_totp *v);
int msg_totp_dec(struct ipc_msg *m, struct msg_totp *v);
int msg_reply_enc(struct ipc_msg *m, uint32_t id, const struct msg_reply *v);
int msg_reply_dec(struct ipc_msg *m, struct msg_reply *v);
int msg_sign_result_enc(struct ipc_msg *m, uint32_t id, const struct msg_sign_result *v);
int msg_sign_result_dec(struct ipc_msg *m, struct msg_sign_result *v);
int adm_unseal_enc(struct ipc_msg *m, uint32_t id, const struct adm_unseal *v);
int adm_unseal_dec(struct ipc_msg *m, struct adm_unseal *v);
int adm_seal_create_enc(struct ipc_msg *m, uint32_t id, const struct adm_seal_create *v);
int adm_seal_create_dec(struct ipc_msg *m, struct adm_seal_create *v);
int adm_principal_add_enc(struct ipc_msg *m, uint32_t id, const struct adm_principal_add *v);
int adm_principal_add_dec(struct ipc_msg *m, struct adm_principal_add *v);
int adm_grant_add_enc(struct ipc_msg *m, uint32_t id, const struct adm_grant_add *v);
int adm_grant_add_dec(struct ipc_msg *m, struct adm_grant_add *v);
int msg_grants_list_enc(struct ipc_msg *m, uint32_t id, const struct msg_grants_list *v);
int msg_grants_list_dec(struct ipc_msg *m, struct msg_grants_list *v);
int msg_alerts_enc(struct ipc_msg *m, uint32_t id, const struct msg_alerts *v);
int msg_alerts_dec(struct ipc_msg *m, struct msg_alerts *v);
int adm_unit_add_enc(struct ipc_msg *m, uint32_t id, const struct adm_unit_add *v);
int adm_unit_add_dec(struct ipc_msg *m, struct adm_unit_add *v);
int adm_role_assign_enc(struct ipc_msg *m, uint32_t id, const struct adm_role_assign *v);
int adm_role_assign_dec(struct ipc_msg *m, struct adm_role_assign *v);
/* ADM_ROLE_REVOKE: the same body as ADM_ROLE_ASSIGN (adm_role_assign_dec). */
int adm_role_revoke_enc(struct ipc_msg *m, uint32_t id, const struct adm_role_assign *v);
int adm_principal_name_enc(struct ipc_msg *m, uint32_t id, const struct adm_principal_name *v);
/* ADM_PRINCIPAL_ENABLE: the same body as ADM_PRINCIPAL_DISABLE. */
int adm_principal_enable_enc(struct ipc_msg *m, uint32_t id, const struct adm_principal_name *v);
int adm_principal_name_dec(struct ipc_msg *m, struct adm_principal_name *v);
int adm_word_add_enc(struct ipc_msg *m, uint32_t id, const struct adm_word_add *v);
int adm_word_add_dec(struct ipc_msg *m, struct adm_word_add *v);
int adm_word_remove_enc(struct ipc_msg *m, uint32_t id, const struct adm_word_remove *v);
int adm_word_remove_dec(struct ipc_msg *m, struct adm_word_remove *v);
int adm_admin_add_enc(struct ipc_msg *m, uint32_t id, const struct adm_admin_add *v);
int adm_admin_add_dec(struct ipc_msg *m, struct adm_admin_add *v);
int adm_login_enc(struct ipc_msg *m, uint32_t id, const struct adm_login *v);
int adm_login_dec(struct ipc_msg *m, struct adm_login *v);
/* type: ADM_LOGOUT, ADM_SESSION or ADM_LEDGER_VERIFY; session "" or 64 hex. */
int adm_session_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct adm_session *v);
int adm_session_dec(struct ipc_msg *m, struct adm_session *v);
int adm_power_enc(struct ipc_msg *m, uint32_t id, const struct adm_power *v);
int adm_power_dec(struct ipc_msg *m, struct adm_power *v);
int adm_reshare_enc(struct ipc_msg *m, uint32_t id, const struct adm_reshare *v);
int adm_reshare_dec(struct ipc_msg *m, struct adm_reshare *v);
int adm_totp_recover_enc(struct ipc_msg *m, uint32_t id, const struct adm_totp_recover *v);
int adm_totp_recover_dec(struct ipc_msg *m, struct adm_totp_recover *v);
int adm_tls_issue_enc(struct ipc_msg *m, uint32_t id, const struct adm_tls_issue *v);
int adm_tls_issue_dec(struct ipc_msg *m, struct adm_tls_issue *v);
/* ADM_TLS_REQUEST: the body of ADM_TLS_ISSUE (adm_tls_issue_dec). */
int adm_tls_request_enc(struct ipc_msg *m, uint32_t id, const struct adm_tls_issue *v);
int adm_tls_install_enc(struct ipc_msg *m, uint32_t id, const struct adm_tls_install *v);
int adm_tls_install_dec(struct ipc_msg *m, struct adm_tls_install *v);
/* A serial of 1 to 63 bytes (the monitor checks its digits) and a reason
 * of one line (msg_text_line_ok), not empty. */
int adm_revoke_enc(struct ipc_msg *m, uint32_t id, const struct adm_revoke *v);
int adm_revoke_dec(struct ipc_msg *m, struct adm_revoke *v);
/* A valid console username ([a-z][a-z0-9_-]{0,31}), else SB_EINVAL. */
int adm_user_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct adm_user *v);
int adm_user_dec(struct ipc_msg *m, struct adm_user *v);
/* 1 for "" or a one-time code of 6 to 8 digits. */
int msg_otp_ok(const char *s);
int adm_otp_enc(struct ipc_msg *m, uint16_t type, uint32_t id, const struct adm_otp *v);
int adm_otp_dec(struct ipc_msg *m, struct adm_otp *v);
/* Any settings that fit (the monitor checks them with netcfg_check). */
int adm_alert_thresholds_enc(struct ipc_msg *m, uint32_t id,
    const struct adm_alert_thresholds *v);
int adm_alert_thresholds_dec(struct ipc_msg *m, struct adm_alert_thresholds *v);
int adm_network_enc(struct ipc_msg *m, uint32_t id, const struct netcfg *v);
int adm_network_dec(struct ipc_msg *m, struct netcfg *v);
/* 1..MSG_BACKUP_SHARES_MAX shares, else SB_EINVAL. */
int adm_backup_enc(struct ipc_msg *m, uint32_t id, const struct adm_backup *v);
int adm_backup_dec(struct ipc_msg *m, struct adm_backup *v);
int adm_enrol_enc(struct ipc_msg *m, uint32_t id, const struct adm_enrol *v);
int adm_enrol_dec(struct ipc_msg *m, struct adm_enrol *v);
/* adm_as_enc wraps the encoded command inner (its type and body; inner keeps
 * its own id) into m, with inner's id. */
int adm_as_enc(struct ipc_msg *m, const char *session, const struct ipc_msg *inner);
int adm_as_dec(struct ipc_msg *m, struct adm_as *v);
int adm_passwd_enc(struct ipc_msg *m, uint32_t id, const struct adm_passwd *v);
int adm_passwd_dec(struct ipc_msg *m, struct adm_passwd *v);

/* 1 when s is an admin username: [a-z][a-z0-9_-]{0,31}. */
int msg_admin_user_ok(const char *s);
/* 1 when s is sysadmin, secadmin or auditor. */
int msg_admin_role_ok(const char *s);
/* 1 when s (n bytes) is strict UTF-8 (no overlong forms, surrogates or
 * values past U+10FFFF) without control characters (C0, DEL, C1). */
int msg_text_line_ok(const char *s, size_t n);
/* 0 when s is a passphrase (MSG_PASS_MIN..MSG_PASS_MAX bytes, a text line);
 * else SB_EINVAL and *why (a static sentence). */
int msg_passphrase_check(const char *s, const char **why);

/*
 * 1 when s (n bytes) is a principal name: [A-Za-z0-9._@-]{1,63}. The ident
 * codec holds on_behalf_of to it ("" aside), so the monitor never sees
 * another; the net worker checks it first to answer 400.
 */
int msg_principal_ok(const char *s, size_t n);

/* A MSG_REPLY whose body is {"error":{"code":code,"message":text}}. */
int msg_reply_error(struct ipc_msg *m, uint32_t id, uint16_t status, const char *code,
    const char *text);

#endif
