/* The monitor's shared state; only daemon/monitor/ includes this. */
#ifndef SB_MON_INT_H
#define SB_MON_INT_H

#include <pthread.h>
#include <stdint.h>

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
	char admin_actor[64];		/* who is on the admin socket: "admin:uid=N" */
};

/* Handlers: fill reply (an ipc message to send back) from request m. */
typedef int (*mon_handler)(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);

int mon_health(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_seals_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_seal_get(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_sign(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_seal_image(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_pdf_sealed(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_verify(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_tsa(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_ledger_sth(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_ledger_entries(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
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
int mon_adm_grant_add(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_unit_add(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_role_assign(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);
int mon_adm_role_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply);

/* Helpers (mon_util.c). */
int mon_reply_json(struct ipc_msg *reply, uint32_t id, uint16_t status, json_t *body);
int mon_reply_err(struct ipc_msg *reply, uint32_t id, uint16_t status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
char *mon_b64(const uint8_t *p, size_t n);		/* malloc'd */
void mon_hex(const uint8_t *p, size_t n, char *out);	/* out: 2n+1 */
char *mon_pem(X509 *cert);				/* malloc'd */
/* Ledger an entry (fields of the caller plus "actor"; consumed, NULL gives
 * SB_EINVAL); on failure records the ledger fault. */
int mon_ledger(struct mon *mon, json_t *entry, uint64_t *seq, uint8_t leaf[32]);
/*
 * Ledger e (consumed), then apply(arg): a change takes effect only once its
 * entry is durable. When apply fails, a copy of e with "result":
 * "failed:..." and "of_seq" is ledgered too. SB_ENOMEM when e is NULL.
 */
int mon_ledgered_change(struct mon *mon, json_t *e, int (*apply)(void *), void *arg);
/* Record or clear a fault ("" clears). */
void mon_fault(struct mon *mon, char *slot, const char *reason);
/* 1 when unsealed. */
int mon_is_ready(struct mon *mon);
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
#define MON_STATS_SCAN_MAX 50000	/* ledger entries GET /v1/stats reads for uses */
/*
 * The entries of v's page that p may see (docs/ledger.md, "Filters"): a new
 * array of ledger_entry_json objects in *arr, at most v->count; *next the
 * sequence number to go on from; *more 0 when the scan reached the end of
 * the ledger. Reads at most MON_SCAN_MAX entries. 0, or SB_EIO / SB_ENOMEM.
 */
int mon_entries_page(struct mon *mon, const struct store_principal *p,
    const struct msg_ledger_entries *v, json_t **arr, uint64_t *next, int *more);
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
 * on the seal, else actor's own. Nothing is counted. 0 to go on (r->g the
 * grant, r->need_otp); SB_EPERM with r's refusal (not_granted,
 * grant_not_yet_valid, grant_expired, application_not_allowed,
 * document_type_not_allowed, outside_hours, approval_required,
 * otp_required); another SB_* when the store cannot be read.
 */
int policy_grant_check(struct mon *mon, const struct store_principal *actor,
    const struct msg_sign *v, long long now, struct policy_grant_result *r);
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

#endif
