/* The monitor's shared state; only daemon/monitor/ includes this. */
#ifndef SB_MON_INT_H
#define SB_MON_INT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/x509.h>
#include <jansson.h>

#include "../../hsm/custody.h"
#include "../../hsm/hsm.h"
#include "../../lib/config.h"
#include "../../lib/ipc.h"
#include "../formats/cms.h"
#include "../formats/tsa.h"
#include "../ledger/ledger.h"
#include "../msg.h"
#include "store.h"

#define MON_LABEL_CA "sealbox-ca"
#define MON_LABEL_TSA "sealbox-tsa"
#define MON_LABEL_AUDIT "sealbox-audit"
#define MON_TSA_POLICY "1.3.6.1.4.1.4146.1.1"	/* see docs/formats.md */
#define MON_REASON_MAX 256
#define MON_PAGE_BYTES (2u * 1024 * 1024)	/* most JSON in one entries page */
#define MON_MAP_SIZE ((size_t)64 << 30)	/* LMDB map: 64 GiB of address space */

enum mon_state { MON_SEALED, MON_READY };

/* A key of the appliance itself (CA, TSA, audit): its id and certificate. */
struct mon_key {
	uint8_t id[HSM_ID_MAX];
	size_t id_len;
	X509 *cert;
};

struct mon {
	const struct config *cfg;
	pthread_mutex_t lock;		/* state, unseal, faults below */
	enum mon_state state;
	struct custody_set *unseal;	/* shares entered so far (secret memory) */
	char hsm_fault[MON_REASON_MAX];	/* "" when the last HSM use worked */
	char ledger_fault[MON_REASON_MAX];
	char module_fault[MON_REASON_MAX];	/* set at start: the module did not load */
	char tls_serving[65];		/* hex SHA-256 of the server certificate the
					   net worker last said it presents; "" */
	/* Set once at unseal, read-only afterwards. */
	struct hsm *hsm;
	struct mon_key ca, tsa_key, audit;
	STACK_OF(X509) *chain;		/* the CA certificate, sent with signatures */
	X509_STORE *trust;		/* the CA, for /v1/verify */
	struct tsa *tsa;
	/* Open from start. */
	struct ledger *ledger;
	struct store *store;
	EVP_PKEY *audit_pub;		/* from state_dir/audit.pem; NULL if not made yet */
	/* The link to the net worker. */
	pthread_mutex_t net_lock;	/* serialises writes; guards net_fd */
	int net_fd;
	int stop;
	pid_t parent;			/* seald's parent, asked to reload (SIGHUP) */
	char admin_actor[64];		/* who is on the admin socket: "admin:uid=N",
					   or "admin:USER" under a session */
	char admin_role[MSG_ROLE_MAX];	/* that USER's role; "" without a session */
	char admin_session[MSG_SESSION_MAX];	/* the session the command runs
					   under ("" without one); wiped after it */
	int admin_passfd;		/* a descriptor that came with the admin
					   command being served, or -1; a handler
					   that keeps it sets this to -1 */
};

/* Handlers: fill reply (an ipc message to send back) from request m. */
typedef int (*mon_handler)(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);

int mon_health(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_seals_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_seal_get(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_sign(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_seal_image(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_pdf_sealed(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* A PAdES seal of actor ledgered as seq: its MSG_PDF_SEALED may follow, once. */
void mon_pdf_expect(const struct msg_sign *v, const char *actor, uint64_t seq);
int mon_verify(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_tsa(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_ledger_sth(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_ledger_entries(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* The console's auditor as a principal: the auditor role over the whole
 * unit tree, for the ledger's and the alerts' scope. */
void mon_console_auditor(struct store_principal *p);
/* ADM_LEDGER_ENTRIES and ADM_ALERTS: as the HTTP reads, for the console. */
int mon_adm_ledger_entries(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_alerts(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* ADM_EVIDENCE: a signature's evidence bundle, as GET /v1/evidence/{seq}. */
int mon_adm_evidence(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* ADM_NETWORK: check and ledger the sysadmin's network settings. */
int mon_adm_network(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* The shares of v into a set for this appliance's custody record (into
 * rec): 0, or why (SB_ECONFIG/SB_ENOTFOUND: no record; else a bad share). */
int mon_share_set(struct mon *mon, const struct adm_backup *v, struct custody_record *rec,
    struct custody_set **set, char *why, size_t len);
/* ADM_RESHARE (mon_custody.c): ledger the console's re-share. */
int mon_adm_reshare(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* ADM_BACKUP (mon_backup.c): the appliance into the file handed over. */
int mon_adm_backup(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* ADM_REVOKE (mon_crl.c): revoke a client certificate; a fresh CRL. */
int mon_adm_revoke(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* A crl_expiring alert with detail, ledgered (mon_alert.c). */
void mon_alert_crl(struct mon *mon, const char *detail);
/* Once a second while unsealed: renew tls.crl when it is due (mon_crl.c). */
void mon_crl_tick(struct mon *mon);
int mon_proof(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_evidence(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_units_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_principals_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_roles_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_request_file(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_requests_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_request_act(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);

int mon_adm_status(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_unseal(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_seal_create(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_principal_add(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_enrol(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_power(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_grant_add(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_unit_add(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_role_assign(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* ADM_ROLE_REVOKE, ADM_PRINCIPAL_DISABLE: less power, at once (a secadmin). */
int mon_adm_role_revoke(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_principal_disable(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* ADM_PRINCIPAL_ENABLE: a disabled principal active again (roles and grants
 * as they were), ledgered principal.enable first. */
int mon_adm_principal_enable(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* ADM_APPROVER_GROUPS: each unit that approvers are assigned over or that a
 * grant's approval names, with its approvers and the grants that need it. */
int mon_adm_approver_groups(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_role_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);

/* The key of a PEM certificate request, if the request is well-formed,
 * self-signed and its key EC P-256/P-384 or RSA 2048-8192: 0, or SB_EINVAL
 * with why (mon_admin.c). */
int mon_csr_key(const uint8_t *pem, size_t pem_len, EVP_PKEY **out, char *why, size_t len);
/* ADM_TLS_ISSUE, ADM_TLS_INSTALL, ADM_TLS_RELOAD (mon_tls.c). */
int mon_adm_tls_issue(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* ADM_TLS_REQUEST: ledger a key and request sealadm made for an outside CA. */
int mon_adm_tls_request(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_tls_install(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_tls_reload(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_tls_serving(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* t as 2026-11-22T19:47:32Z into out[21]; "?" when it does not convert. */
void mon_asn1_time(const ASN1_TIME *t, char out[21]);
/* Ask seald's parent to re-read the TLS files (SIGHUP); 0 or SB_EIO, logged. */
int mon_reload_parent(struct mon *mon);

/* Helpers (mon_util.c). */
int mon_reply_json(struct ipc_msg *reply, uint32_t id, uint16_t status, json_t *body);
int mon_reply_err(struct ipc_msg *reply, uint32_t id, uint16_t status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
char *mon_b64(const uint8_t *p, size_t n);		/* malloc'd */
void mon_hex(const uint8_t *p, size_t n, char *out);	/* out: 2n+1 */
char *mon_pem(X509 *cert);				/* malloc'd */
#define MON_SEAL_CERT_DAYS 3650		/* a seal certificate's validity */
/* Ledger an entry (fields of the caller plus "actor"; consumed, NULL gives
 * SB_EINVAL); on failure records the ledger fault. */
int mon_ledger(struct mon *mon, json_t *entry, uint64_t *seq, uint8_t leaf[32]);
/*
 * Ledger e (consumed), then apply(arg): a change takes effect only once its
 * entry is durable. When apply fails, a copy of e with "result":
 * "failed:..." and "of_seq" is ledgered too. SB_ENOMEM when e is NULL.
 */
int mon_ledgered_change(struct mon *mon, json_t *e, int (*apply)(void *), void *arg);
/* The same; *change_seq the change's entry once it is ledgered (even when
 * apply then fails). */
int mon_ledgered_change_seq(struct mon *mon, json_t *e, int (*apply)(void *), void *arg,
    uint64_t *change_seq);
/* Record or clear a fault ("" clears). */
void mon_fault(struct mon *mon, char *slot, const char *reason);
/* 1 when unsealed. */
int mon_is_ready(struct mon *mon);
/* Monotonic seconds, never 0. */
long long mon_mono_now(void);
/* As mon_require_ready, for what the appliance CA signs: the reply says so. */
int mon_require_ca(struct mon *mon, uint32_t id, struct ipc_msg *reply);
/* 0 when unsealed; else fills reply with 503 "sealed" and returns SB_ESTATE. */
int mon_require_ready(struct mon *mon, uint32_t id, struct ipc_msg *reply);
/* Sign msg (SHA-256 of it) with the audit key: the ledger's tree-head signer. */
int mon_sth_sign(void *arg, const uint8_t *msg, size_t len, uint8_t *sig, size_t *siglen);
/*
 * The signer for seal s and digest algorithm md_nid (cades_new over the
 * seal's certificate, the key, mon->chain), made once and cached: keyed by
 * seal id, certificate digest and md_nid, so a new certificate makes a new
 * one. The caller holds a reference until mon_signer_put. Errors: SB_EINVAL
 * (the certificate does not parse, or is not the key's), and cades_new's
 * (SB_EHSM etc.: nothing is cached then).
 */
struct mon_signer;
int mon_signer_get(struct mon *mon, const struct store_seal *s, int md_nid,
    struct mon_signer **out);
const struct cades *mon_signer_cades(const struct mon_signer *g);
/* Accepts NULL. */
void mon_signer_put(struct mon_signer *g);
/* The principal registered for an identity; SB_ENOTFOUND if none. */
int mon_principal(struct mon *mon, const struct msg_ident *who, struct store_principal *p);
/* The active principal for who, allowed by policy_may_call to send a
 * message of this type; or a 403 unknown_principal, 403 forbidden_role (or
 * 503) reply in reply and a non-zero return: the handler then returns 0.
 * Every handler of a request that carries an identity starts here. */
int mon_who(struct mon *mon, const struct msg_ident *who, uint16_t type, uint32_t id,
    struct ipc_msg *reply, struct store_principal *p);

/* Policy (policy.c): the one place that decides what a principal may do. */
/*
 * May p call the endpoint that sends a message of this type? 0 when one of
 * its roles is allowed; SB_EPERM with why (the roles it needs) when not, and
 * for every type without a row in policy.c's table.
 */
int policy_may_call(struct mon *mon, const struct store_principal *p, uint16_t type,
    char *why, size_t len);
/* 1 when role is one of the roles policy.c knows. */
int policy_role_ok(const char *role);
/* 0 when no two of p's roles are an exclusive pair; SB_EPERM with the pair in
 * a and b (len bytes each); another SB_* when the store cannot be read. */
int policy_roles_conflict(struct mon *mon, const struct store_principal *p, char *a, char *b,
    size_t len);
int policy_may_sign(struct mon *mon, const struct store_principal *p, const struct store_seal *s);
/* 1 when unit is root or in its subtree. */
int policy_unit_below(struct mon *mon, const char *unit, const char *root);
/* 1 when p is active and holds role over a unit whose subtree holds unit. */
int policy_holds(struct mon *mon, const struct store_principal *p, const char *role,
    const char *unit);
/* 1 when p sees every request (secadmin, auditor, business-auditor). */
int policy_sees_all_requests(const struct store_principal *p);
/* May p see unit (and what belongs to it)? 0 when it may, SB_EPERM when not. */
int policy_may_see_unit(struct mon *mon, const struct store_principal *p, const char *unit);
/* {"roles": [names], "exclusive": [[a, b], ...]}: new reference, or NULL with
 * *rc the error (the store cannot be read, SB_ENOMEM). */
json_t *policy_roles_json(struct mon *mon, int *rc);
int policy_may_see(struct mon *mon, const struct store_principal *p, const struct store_seal *s);
/*
 * May actor act on behalf of person (a principal name)? 0 when it may;
 * SB_EPERM when it may not; SB_ENOTFOUND when it would, but no active
 * principal has that name; another SB_* when the policy store cannot be read.
 */
int policy_may_act_for(struct mon *mon, const struct store_principal *actor, const char *person);

/* Unseal completion (mon_admin.c): load the appliance's keys; SB_* and why. */
int mon_open_appliance(struct mon *mon, struct hsm *h, char *why, size_t len);
void mon_close_appliance(struct mon *mon);

/* Ledger filters and statistics (mon_stats.c). */
#define MON_SCAN_MAX 10000		/* ledger entries one filtered listing reads */

/*
 * A filtered listing's walk: the committed entries from *cur up to size in
 * sequence order, at most MON_SCAN_MAX of them, each ({"seq", "leaf_input",
 * "entry"}) handed to fn. fn answers MON_SCAN_NEXT (taken: *cur moves past
 * it), MON_SCAN_LAST (taken, and stop), MON_SCAN_STOP (stop before it: *cur
 * stays at it) or a negative sb_err (returned). 0, or SB_EIO / SB_ENOMEM /
 * fn's error.
 */
enum { MON_SCAN_NEXT = 0, MON_SCAN_LAST = 1, MON_SCAN_STOP = 2 };
int mon_ledger_scan(struct mon *mon, uint64_t *cur, uint64_t size,
    int (*fn)(void *arg, json_t *item), void *arg);
#define MON_STATS_SCAN_MAX 50000	/* ledger entries GET /v1/stats reads for uses */
/*
 * The entries of v's page that p may see (docs/ledger.md, "Filters"): a new
 * array of ledger_entry_json objects in *arr, at most v->count; *next the
 * sequence number to go on from; *more 0 when the scan reached the end of
 * the ledger. Reads at most MON_SCAN_MAX entries. 0, or SB_EIO / SB_ENOMEM.
 */
int mon_entries_page(struct mon *mon, const struct store_principal *p,
    const struct msg_ledger_entries *v, json_t **arr, uint64_t *next, int *more);
/* 1 when p may see the ledger entry (its JSON object) under the scope of
 * ledger entries: an inclusion proof or an evidence bundle by sequence
 * number shows what the listing would. */
int mon_entry_visible(struct mon *mon, const struct store_principal *p, const json_t *entry);
int mon_stats(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);

/* Grants with conditions and quotas (policy.c, mon_grant.c; docs/policy.md,
 * "Grants and quotas"). Times are UTC. */
struct policy_grant_result {
	struct store_grant g;		/* the grant that applies; g.principal holds it */
	int need_otp;			/* confirm: totp: the code in the request must be
					   checked (that check is the TOTP code's) */
	uint16_t status;		/* a refusal: its HTTP status, code, message */
	char code[MSG_CODE_MAX];
	char message[MSG_TEXT_MAX];
};
/*
 * The conditions of the grant under which actor signs v at now (Unix
 * seconds): the person's grant when v is on behalf of one who holds a grant
 * on the seal, else actor's own. need_approval: this use needs an approved
 * `use` request even when the grant does not ask for one for every use (a
 * sensitive word matched under on_sensitive: approval). Nothing is counted.
 * 0 to go on (r->g the
 * grant, r->need_otp); SB_EPERM with r's refusal (not_granted,
 * grant_not_yet_valid, grant_expired, application_not_allowed,
 * document_type_not_allowed, outside_hours, approval_required,
 * approval_not_needed, otp_required; the approval itself is the caller's
 * to check with mon_request_use); another SB_* when the store cannot be read.
 */
/* A refusal of the sign path's policy into r (status, code, message);
 * SB_EPERM. */
int policy_refuse(struct policy_grant_result *r, uint16_t status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int policy_grant_check(struct mon *mon, const struct store_principal *actor,
    const struct msg_sign *v, long long now, int need_approval, struct policy_grant_result *r);
/*
 * The approved `use` request v->approval (mon_req.c; docs/policy.md,
 * "Requests"), for actor sealing v under grant r->g: checked (filed by
 * r->g.principal, on v's seal, approved, not expired, for v's document) and
 * used up: executed and ledgered, under the requests' lock, so that one
 * approval seals once. 0; SB_EPERM with r's refusal (approval_unknown,
 * approval_not_approved, approval_used, approval_other_seal,
 * document_mismatch); another SB_* when the store or the ledger fails.
 */
int mon_request_use(struct mon *mon, const char *actor, const struct msg_sign *v,
    struct policy_grant_result *r);
/* v's approval, used by a sealing that then failed for why: back to
 * approved (ledgered request.release); kept used if that cannot be
 * ledgered. */
void mon_request_unuse(struct mon *mon, const char *actor, const struct msg_sign *v,
    const char *why);
/*
 * Take one use of r->g's quota (store_quota_take: checked and counted in one
 * transaction). 0; SB_EPERM with r's refusal 429 quota_exceeded (the limit,
 * the count and when it resets); another SB_* when the store fails.
 */
int policy_quota_take(struct mon *mon, struct policy_grant_result *r, long long now);
/* Text forms (mon_grant.c): hours "09-18[,..]" or "any", days "mon-fri[,..]"
 * or "any", a time as RFC 3339 UTC; and a grant as GET /v1/grants shows it. */
void mon_grant_hours(uint32_t mask, char *out, size_t len);
void mon_grant_days(uint8_t mask, char *out, size_t len);
void mon_grant_time(long long t, char *out, size_t len);
json_t *mon_grant_json(const struct store_grant *g);
int mon_grants_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);

/*
 * Intent confirmation with TOTP (mon_totp.c; docs/policy.md, "Intent
 * confirmation (TOTP)"). The handlers answer MSG_TOTP_ENROL, _CONFIRM and
 * _VERIFY for the calling person.
 */
int mon_totp_enrol(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_totp_confirm(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_totp_verify(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);

#define MON_TOTP_SECRET_LEN 20		/* RFC 4226's recommended 160 bits */
#define MON_TOTP_INVALID SB_EPERM	/* 403 otp_invalid */
#define MON_TOTP_REPLAYED SB_EEXIST	/* 403 otp_replayed */
#define MON_TOTP_NOT_ENROLLED SB_ENOTFOUND	/* 403 otp_not_enrolled */

/*
 * For the sign path: 0 when otp is principal's valid code now (a window of
 * one 30 s step either side) and its time step is later than the last one
 * accepted; the step is then recorded in the same atomic write, so a code is
 * accepted once, also under concurrency. Else MON_TOTP_INVALID,
 * MON_TOTP_REPLAYED or MON_TOTP_NOT_ENROLLED (none, or not confirmed yet):
 * answer 403 with mon_totp_code(rc) and why; any other SB_* (SB_ESTATE:
 * sealed; SB_EHSM, SB_EIO, SB_ECRYPTO: a record that does not open) is a
 * fault: 503 with why. Nothing is ledgered here: the caller's entry is.
 */
int mon_totp_check(struct mon *mon, const char *principal, const char *otp, char *why,
    size_t whylen);
/* "otp_invalid", "otp_replayed", "otp_not_enrolled"; "totp_unavailable" else. */
const char *mon_totp_code(int rc);
/*
 * A console admin's TOTP (principal "admin:USER"): the state of the record,
 * 0 none, 1 enrolled but not confirmed, 2 confirmed; SB_ESTATE when there
 * is one and the appliance is sealed (it cannot be opened); another SB_*
 * for a record that cannot be read.
 */
int mon_totp_state(struct mon *mon, const char *principal);
/* ADM_TOTP_ENROL, ADM_TOTP_CONFIRM: for the admin logged in. */
int mon_adm_totp_enrol(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_totp_confirm(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* ADM_TOTP_RESET: a secadmin removes another admin's one-time code. */
int mon_adm_totp_reset(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* ADM_TOTP_RECOVER: an admin who lost their authenticator removes their own
 * code with their passphrase and the quorum's shares (mon_console.c). */
int mon_adm_totp_recover(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* Both records of the admin principal who ("admin:USER"): the confirmed
 * secret and one waiting for confirmation. 0, or the store's error. */
int mon_totp_admin_remove(struct mon *mon, const char *who);
/* A wrong one-time code from user's session (replacing a confirmed one):
 * counted as a failed login; when it locks the account, every session of
 * user ends. */
void mon_console_otp_failed(struct mon *mon, const char *user);
/* Every session of user but the one the current command runs under ends
 * (after a change of the second factor, as after a passphrase change). */
void mon_console_end_others(struct mon *mon, const char *user);

/*
 * The sensitive-word library (mon_words.c; docs/policy.md, "Sensitive
 * words"). mon_words_normalise: the normal form of n bytes of UTF-8 into out
 * (cap bytes with its NUL; *len without): whitespace, controls and invisible
 * format characters dropped, ASCII and full-width ASCII folded to lower-case
 * ASCII. SB_EINVAL when in is not strict UTF-8, SB_ELIMIT when out is too
 * small. mon_words_check: 0 when word and category may go into the library
 * (word: 1..STORE_WORD_MAX bytes of UTF-8 without controls, not only
 * whitespace; category: "" or up to STORE_WORD_CAT_MAX - 1 bytes likewise),
 * with norm its normal form; else SB_EINVAL and why.
 */
int mon_words_normalise(const uint8_t *in, size_t n, char *out, size_t cap, size_t *len);
int mon_words_check(const char *word, const char *category, char norm[STORE_WORD_MAX + 1],
    char *why, size_t whylen);
/* A matcher (Aho-Corasick) over n normal forms, word i being w-ids[i] in
 * category cats[i] (cats NULL: none). SB_EINVAL (an empty or over-long form),
 * SB_ELIMIT (over STORE_WORDS_MAX), SB_ENOMEM. Free with mon_words_free
 * (accepts NULL). */
struct mon_words_set;
int mon_words_build(const char *const *norms, const char *const *cats, const uint64_t *ids,
    size_t n, struct mon_words_set **out);
void mon_words_free(struct mon_words_set *ws);
/* Normalises text (n bytes) on the fly and looks for any word in it: 1 and
 * *word (an index; mon_words_id gives its number) at the first match, 0 for
 * none, SB_EINVAL when the text is not strict UTF-8. */
int mon_words_scan(const struct mon_words_set *ws, const uint8_t *text, size_t n, size_t *word);
uint64_t mon_words_id(const struct mon_words_set *ws, size_t word);
/* Drop the monitor's cached matcher (after a change to the library). */
void mon_words_invalidate(void);
/*
 * For sign_check: v's text (when it has one: a digest is not checked)
 * against the library. 0 to go on; else a refusal was answered (1) — 403
 * sensitive_word, or 403 approval_required when the grant that applies says
 * on_sensitive: approval; the entry carries "sensitive_word": "w-N", never
 * the text — or a negative SB_* (the reply could not be made).
 */
int mon_sign_check_words(struct mon *mon, const struct msg_sign *v, const char *actor,
    uint32_t id, struct ipc_msg *reply, int *need_approval);
int mon_adm_word_add(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_word_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_word_remove(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* mon_net.c: refuse a sign request as sign_check does, the members of extra
 * (consumed; NULL for none) added to the ledgered refusal. 1, or the
 * encoder's error. */
int mon_sign_refuse_extra(struct mon *mon, const struct msg_sign *v, const char *actor,
    uint32_t id, struct ipc_msg *reply, uint16_t status, const char *code, const char *text,
    json_t *extra);

/*
 * Console admin accounts, logins and sessions (mon_console.c;
 * docs/admin-guide.md). Sessions live in monitor memory only: a restart
 * logs everyone out.
 */
int mon_adm_admin_add(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_login(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_logout(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_passwd(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_session(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_ledger_verify(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/* The admin behind a live console session (refreshed): 0 with user, role
 * and whether the passphrase must be changed first, or SB_ENOTFOUND
 * (unknown, expired, ""). */
int mon_session_who(struct mon *mon, const char *token, char user[MSG_ADMIN_USER_MAX],
    char role[MSG_ROLE_MAX], int *must_change);
/* 403 passphrase_change_required: the answer to such a session. */
int mon_reply_must_change(struct ipc_msg *reply, uint32_t id);
/* The lockout rule alone, for a login attempt at now: 1 (and *left, the
 * seconds to wait) while a is locked, else 0. */
int mon_console_locked(const struct store_admin *a, long long now, long long *left);
/* A failed login of a at now: counted; at max failures the account locks for
 * lockout seconds and the count starts again. 1 when this failure locked it. */
int mon_console_failed(struct store_admin *a, long long now, unsigned max, unsigned lockout);

/* A TOTP record opened (secret memory: secret_alloc it). */
struct mon_totp_rec {
	int active;			/* 0: enrolled, waiting for its first code */
	uint64_t last;			/* time step of the last code accepted; 0: none */
	uint8_t secret[MON_TOTP_SECRET_LEN];
};
/* Make sure the token holds the TOTP sealing key (made on first use). */
int mon_totp_key(struct hsm *h);
/* Seal r for principal into out (*len: room, at least 61; then the length). */
int mon_totp_seal(struct hsm *h, const char *principal, const struct mon_totp_rec *r,
    uint8_t *out, size_t *len);
/* Open a sealed record; SB_ECRYPTO when it is malformed, altered, of another
 * principal or of another key (r is wiped then). */
int mon_totp_open(struct hsm *h, const char *principal, const uint8_t *in, size_t len,
    struct mon_totp_rec *r);
/* The replay rule alone: 0 and *counter when otp is valid at now and later
 * than r->last; MON_TOTP_INVALID, MON_TOTP_REPLAYED. */
int mon_totp_accept(const struct mon_totp_rec *r, const char *otp, time_t now,
    uint64_t *counter);

/*
 * Alerts (mon_alert.c; docs/policy.md, "Alerts"). The sign path calls
 * mon_alert_refusal once per ledgered refusal (seq: its entry) and
 * mon_alert_sealed once per sealing (seq: its entry); either may ledger an
 * alert entry before returning. Nothing is returned: an alert that cannot be
 * ledgered is logged, and the request is answered as it would have been.
 */
void mon_alert_refusal(struct mon *mon, const struct msg_sign *v, const char *actor,
    uint16_t status, const char *code, const char *text, uint64_t seq);
void mon_alert_sealed(struct mon *mon, const struct msg_sign *v, const char *actor,
    uint64_t seq);
/* MSG_ALERT_REVOKED from the net worker, and GET /v1/alerts (MSG_ALERTS). */
int mon_alert_revoked(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_alerts_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
/*
 * The thresholds of the counted alerts: the configuration's (alerts.*)
 * until a secadmin sets their own, which are kept in the policy store and
 * hold across restarts. _load reads them at start (0 when none are set;
 * an error for a damaged record: the monitor does not start). ADM_ALERT_
 * THRESHOLDS shows them; ADM_ALERT_THRESHOLDS_SET ledgers a change
 * (alerts.thresholds, before and after), saves it, and puts it in force.
 */
int mon_alert_thresholds_load(struct mon *mon);
int mon_adm_alert_thresholds(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_alert_thresholds_set(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);

#endif
