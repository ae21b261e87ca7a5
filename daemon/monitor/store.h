/*
 * store — the monitor's policy records: org units, principals (with their
 * kind, unit and role assignments), mutually exclusive role pairs, seals,
 * grants, seal images and requests. Named databases in the
 * ledger's LMDB environment (one environment, as the design asks), each
 * record a small JSON object.
 *
 * The store keeps records; it does not decide anything: what a principal may
 * do is policy.c's business. Every change made through it is ledgered by the
 * caller. Only the monitor links this.
 */
#ifndef SB_STORE_H
#define SB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#define STORE_DBS 11		/* named databases store_open opens */
#define STORE_ID_MAX 64
#define STORE_NAME_MAX 256
#define STORE_SEALS_MAX 10000	/* store_seal_list stops there */
#define STORE_ACT_FOR_MAX 32	/* names in a principal's may_act_for */
#define STORE_ROLES_MAX 16	/* role assignments of one principal */
#define STORE_ROLE_MAX 32	/* a role name */
#define STORE_ROOT_UNIT "group"	/* the root of the unit tree, made at first start */

struct store;

/* One role assignment: role over the subtree rooted at unit. */
struct store_role {
	char role[STORE_ROLE_MAX];
	char unit[STORE_ID_MAX];
};

struct store_principal {
	char name[STORE_ID_MAX];
	char kind[16];			/* "person" or "application" */
	char unit[STORE_ID_MAX];	/* the unit it belongs to */
	/* Role assignments (which names exist and what they allow is policy.c's). */
	size_t n_roles;
	struct store_role roles[STORE_ROLES_MAX];
	uint8_t cert_sha256[32];
	char subject[512];
	char state[16];			/* "active" or "disabled" */
	/* Principal names it may act on behalf of (what that allows is policy.c's). */
	size_t n_may_act_for;
	char may_act_for[STORE_ACT_FOR_MAX][STORE_ID_MAX];
};

struct store_seal {
	char id[STORE_ID_MAX];
	char name[STORE_NAME_MAX];
	char type[STORE_ID_MAX];
	char key_type[16];
	char unit[STORE_ID_MAX];
	char state[16];			/* active, frozen, deactivated, destroyed */
	uint8_t key_id[16];		/* CKA_ID in the HSM */
	uint8_t cert_sha256[32];
	char image_sha256[65];		/* hex */
	long long created_ms;
	char *cert_pem;			/* malloc'd; store_seal_clear frees it */
};

struct store_unit {
	char id[STORE_ID_MAX];
	char name[STORE_NAME_MAX];
	char parent[STORE_ID_MAX];	/* "" for the root */
};

/*
 * Opens (creating) the named databases. At first start it also writes the
 * defaults, in the same transaction: the root unit STORE_ROOT_UNIT and the
 * exclusive role pairs of store_default_exclusions.
 */
int store_open(MDB_env *env, struct store **out);
void store_close(struct store *st);

/* SB_EEXIST when the name or the certificate is already registered. */
int store_principal_add(struct store *st, const struct store_principal *p);
int store_principal_by_cert(struct store *st, const uint8_t sha[32], struct store_principal *p);
int store_principal_get(struct store *st, const char *name, struct store_principal *p);
/* Rewrites a registered principal's record (same name and certificate:
 * SB_EINVAL otherwise; SB_ENOTFOUND when there is none). */
int store_principal_update(struct store *st, const struct store_principal *p);

/* SB_EEXIST when the id is taken. */
int store_seal_add(struct store *st, const struct store_seal *s);
int store_seal_get(struct store *st, const char *id, struct store_seal *s);
int store_seal_by_cert(struct store *st, const uint8_t sha[32], char id[STORE_ID_MAX]);
/* Calls fn for each seal in id order until it returns non-zero (returned). */
int store_seal_each(struct store *st, int (*fn)(void *arg, const struct store_seal *s), void *arg);
void store_seal_clear(struct store_seal *s);

int store_grant_add(struct store *st, const char *seal, const char *principal);
/* 0 when granted, SB_ENOTFOUND when not. */
int store_grant_has(struct store *st, const char *seal, const char *principal);

/*
 * A grant with its conditions (issue 4, "Grants"). Every limit's zero or
 * empty value means "no limit", so a grant record written before conditions
 * existed (an empty value) reads as a grant without any. Times are UTC.
 * What the conditions mean when signing is policy.c's (policy_grant_check).
 */
#define STORE_GRANT_LIST_MAX 16		/* document types, or applications, of one grant */
#define STORE_DOCTYPE_MAX 32		/* a document type: [a-z0-9_-]{1,31} */

struct store_grant {
	char seal[STORE_ID_MAX];
	char principal[STORE_ID_MAX];
	size_t n_doc_types;		/* 0: any document type */
	char doc_types[STORE_GRANT_LIST_MAX][STORE_DOCTYPE_MAX];
	uint32_t per_day, per_month;	/* uses per UTC day / calendar month; 0: unlimited */
	long long valid_from, valid_to;	/* Unix seconds; 0: open on that side */
	uint32_t hours;			/* bit h (0..23): h:00-h:59 UTC allowed; 0: any hour */
	uint8_t days;			/* bit d: 0 Monday .. 6 Sunday; 0: any day */
	unsigned approval_k;		/* 0: no approval; else K approvals... */
	char approval_group[STORE_ID_MAX];	/* ...of this group */
	char confirm[8];		/* "none" or "totp" */
	size_t n_apps;			/* 0: any application may carry it */
	char apps[STORE_GRANT_LIST_MAX][STORE_ID_MAX];
	char on_sensitive[16];		/* a sensitive word in the text: "block" or "approval" */
};

/* The grant's conditions as its record's JSON text (malloc'd; NULL: no memory). */
char *store_grant_text(const struct store_grant *g);
/* The conditions of a record (len bytes; "" is a grant without conditions)
 * into g; g's seal and principal are left as they are. SB_EINVAL when the
 * record is not one (damage). */
int store_grant_parse(const char *text, size_t len, struct store_grant *g);
/* Adds g; SB_EEXIST when (seal, principal) already has a grant. */
int store_grant_put(struct store *st, const struct store_grant *g);
/* 0 and g filled, SB_ENOTFOUND, SB_EIO (unreadable or damaged record). */
int store_grant_get(struct store *st, const char *seal, const char *principal,
    struct store_grant *g);
/* Calls fn for each grant (seal, then principal order) until it returns
 * non-zero (returned); at most STORE_SEALS_MAX of them. */
int store_grant_each(struct store *st, int (*fn)(void *arg, const struct store_grant *g),
    void *arg);

/*
 * Quotas: one counter per (grant, UTC day) and per (grant, UTC month) in
 * policy/quota. store_quota_take checks both and counts one use in the same
 * write transaction (LMDB has one writer at a time), so concurrent takes
 * never pass a limit. A limit of 0 is not checked (both 0: nothing is
 * written). Returns 0 with q the counts after the take; SB_ELIMIT when a
 * limit is reached (nothing counted; q the counts, q->over 'd' or 'm');
 * SB_EIO. store_quota_get reads the counts at now without taking.
 */
struct store_quota {
	uint32_t day, month;		/* uses counted in now's day and month */
	char over;			/* 'd' or 'm': which limit refused; 0 */
};
int store_quota_take(struct store *st, const char *seal, const char *principal,
    long long now, uint32_t per_day, uint32_t per_month, struct store_quota *q);
int store_quota_get(struct store *st, const char *seal, const char *principal,
    long long now, struct store_quota *q);

/* 0 and u filled, or SB_ENOTFOUND. */
int store_unit_get(struct store *st, const char *id, struct store_unit *u);
/* SB_EEXIST when the id is taken; the parent is the caller's to check. */
int store_unit_add(struct store *st, const struct store_unit *u);
/* Calls fn for each unit (in id order) until it returns non-zero (returned). */
int store_unit_each(struct store *st, int (*fn)(void *arg, const struct store_unit *u), void *arg);
/* Calls fn for each principal (in name order) until it returns non-zero. */
int store_principal_each(struct store *st, int (*fn)(void *arg, const struct store_principal *p),
    void *arg);
/* Calls fn for each exclusive pair until it returns non-zero. */
int store_exclusion_each(struct store *st, int (*fn)(void *arg, const char *a, const char *b),
    void *arg);
/* 0 when roles a and b are mutually exclusive (in either order), SB_ENOTFOUND
 * when not, SB_EIO when the store cannot be read. */
int store_exclusive(struct store *st, const char *a, const char *b);
/* The pairs written at first start: a NULL-terminated list of {a, b}. */
extern const char *const store_default_exclusions[][2];

/*
 * Requests: numbered from 1 in filing order, each record JSON text whose
 * fields are mon_req.c's business, and an index of each seal's pending
 * request. store_request_last: the highest number (0 when there is none).
 * store_request_get: a malloc'd NUL-terminated copy (free()), SB_ENOTFOUND
 * when there is none. store_request_pending: the number of seal's pending
 * request, SB_ENOTFOUND when it has none. store_request_each calls fn with
 * each record, newest first, at most STORE_SEALS_MAX of them, until it
 * returns non-zero (returned); the text is LMDB's, valid only during the
 * call. Errors also SB_EIO (LMDB), SB_ENOMEM.
 */
struct store_request_write {
	uint64_t n;
	const char *text;		/* the record */
	int add;			/* SB_EEXIST when n is taken */
	const char *seal;		/* not NULL: change this seal (SB_ENOTFOUND:
					   no such seal): */
	const char *seal_state;		/* not NULL: its state to this */
	const char *seal_unit;		/* not NULL: its unit to this */
	const char *seal_cert_pem;	/* not NULL: its certificate to this (PEM), */
	const uint8_t *seal_cert_sha256;	/* ...whose SHA-256 this is (also indexed,
					   beside the old one, for verify) */
	const char *ungrant_seal;	/* not NULL: delete the grant of this seal... */
	const char *ungrant_principal;	/* ...to this principal (SB_ENOTFOUND: none) */
	const char *pending_seal;	/* not NULL: index n as this seal's pending
					   request (pending 1: SB_EEXIST when it has
					   one), or drop it (pending 0) */
	int pending;
};
int store_request_last(struct store *st, uint64_t *n);
int store_request_get(struct store *st, uint64_t n, char **text);
int store_request_pending(struct store *st, const char *seal, uint64_t *n);
/* All of w in one transaction: every part or none. */
int store_request_put(struct store *st, const struct store_request_write *w);
int store_request_each(struct store *st, int (*fn)(void *arg, const char *text, size_t len),
    void *arg);

int store_image_put(struct store *st, const char *sha_hex, const uint8_t *png, size_t len);
/* *png malloc'd (free()); SB_ENOTFOUND when there is none. */
int store_image_get(struct store *st, const char *sha_hex, uint8_t **png, size_t *len);


/*
 * TOTP records (mon_totp.c): one opaque, caller-sealed value per principal
 * name in the database STORE_TOTP_DB, which has room of its own in the
 * environment (STORE_TOTP_DBS, besides STORE_DBS) and is opened on first
 * use. store_totp_get copies the record into buf (cap bytes; SB_ELIMIT when
 * it is longer), SB_ENOTFOUND when there is none. store_totp_swap writes rec
 * in one write transaction when the current record is still old (oldlen
 * bytes; old NULL: when there is still none), else SB_ESTATE and nothing is
 * written: two callers that read the same record cannot both replace it
 * (a one-time code is accepted once). SB_EINVAL for an empty record, one
 * over STORE_TOTP_MAX or a bad name; SB_EIO (LMDB).
 */
#define STORE_TOTP_DB "policy/totp"
#define STORE_TOTP_DBS 1
#define STORE_TOTP_MAX 512
int store_totp_get(struct store *st, const char *name, uint8_t *buf, size_t cap, size_t *len);
/* The record of name gone (none there: not an error). */
int store_totp_delete(struct store *st, const char *name);
int store_totp_swap(struct store *st, const char *name, const uint8_t *old, size_t oldlen,
    const uint8_t *rec, size_t len);

/*
 * The sensitive-word library (mon_words.c; docs/policy.md, "Sensitive
 * words"): the database STORE_WORDS_DB, with room of its own in the
 * environment (STORE_WORDS_DBS, besides STORE_DBS) and opened on first use.
 * A word has a number n, shown as "w-n", given in order and never reused.
 * The store keeps what it is given: whether a word is valid and what its
 * normalised form is, is mon_words.c's. Errors also SB_EIO (LMDB, or a
 * damaged record), SB_ENOMEM.
 */
#define STORE_WORDS_DB "policy/words"
#define STORE_WORDS_DBS 1
#define STORE_WORDS_MAX 10000		/* words in the library */
#define STORE_WORD_MAX 64		/* bytes of a word (and of its normal form) */
#define STORE_WORD_CAT_MAX 64		/* a category: up to 63 bytes */

struct store_word {
	uint64_t n;			/* w-n */
	char word[STORE_WORD_MAX + 1];	/* as the secadmin gave it */
	char norm[STORE_WORD_MAX + 1];	/* what is matched */
	char category[STORE_WORD_CAT_MAX];	/* "" for none */
	long long created_ms;
};
/* The number the next word gets (1 for the first) and how many there are. */
int store_word_next(struct store *st, uint64_t *next, size_t *count);
/* Adds w in one write transaction: SB_ESTATE when w->n is not the next
 * number (another add came first), SB_EEXIST when a word has w->norm,
 * SB_ELIMIT when STORE_WORDS_MAX words exist, SB_EINVAL for an empty norm. */
int store_word_add(struct store *st, const struct store_word *w);
/* 0 and *w, or SB_ENOTFOUND. */
int store_word_get(struct store *st, uint64_t n, struct store_word *w);
/* The number of the word whose normal form is norm; SB_ENOTFOUND. */
int store_word_find(struct store *st, const char *norm, uint64_t *n);
/* SB_ENOTFOUND when there is no word n. */
int store_word_remove(struct store *st, uint64_t n);
/* Calls fn for each word in number order until it returns non-zero
 * (returned); at most STORE_WORDS_MAX of them. */
int store_word_each(struct store *st, int (*fn)(void *arg, const struct store_word *w),
    void *arg);

/*
 * Console admin accounts (mon_console.c; docs/admin-guide.md): the database
 * STORE_ADMIN_DB, with room of its own in the environment (STORE_ADMIN_DBS,
 * besides STORE_DBS) and opened on first use. One record per username: its
 * role, its argon2id encoded hash (never a passphrase), its failed-login
 * count and the time its lockout ends. The store keeps what it is given:
 * whether a name, role or hash is valid is mon_console.c's. Errors also
 * SB_EIO (LMDB, or a record that does not parse).
 */
#define STORE_ADMIN_DB "admin/accounts"
#define STORE_ADMIN_DBS 1
#define STORE_ADMINS_MAX 32		/* accounts */
#define STORE_ADMIN_HASH_MAX 256	/* an encoded hash, with its NUL */

struct store_admin {
	char user[33];			/* [a-z][a-z0-9_-]{0,31} */
	char role[32];			/* sysadmin, secadmin, auditor */
	char hash[STORE_ADMIN_HASH_MAX];	/* "$argon2id$v=19$m=...,t=...,p=...$salt$hash" */
	uint32_t failures;		/* failed logins since the last success or lockout */
	long long locked_until;		/* Unix seconds; 0: not locked */
	long long created;		/* Unix seconds */
	int must_change;		/* the passphrase must be replaced before
					   anything else (chosen by another admin) */
};

/* SB_ENOTFOUND when there is no account user. */
int store_admin_get(struct store *st, const char *user, struct store_admin *a);
/* How many accounts there are. */
int store_admin_count(struct store *st, size_t *n);
/* Add a new account: SB_EEXIST when user has one, SB_ELIMIT past
 * STORE_ADMINS_MAX, SB_EPERM when only_if_none and any account exists (the
 * check and the write are one transaction), SB_EINVAL for an empty user or
 * hash. */
int store_admin_add(struct store *st, const struct store_admin *a, int only_if_none);
/* Replace an existing account's record: SB_ENOTFOUND when there is none. */
int store_admin_put(struct store *st, const struct store_admin *a);

/*
 * The secadmin's policy settings: the database STORE_SETTINGS_DB, with room
 * of its own in the environment (STORE_SETTINGS_DBS, besides STORE_DBS),
 * opened on first use. One record so far: "alert_thresholds" ->
 * {"burst_max","burst_window","refusals_max","refusals_window"}.
 */
#define STORE_SETTINGS_DB "policy/settings"
#define STORE_SETTINGS_DBS 1

struct store_alert_thresholds {
	uint32_t burst_max, burst_window, refusals_max, refusals_window;
};

/* SB_ENOTFOUND when no secadmin has set them; SB_EIO for a damaged record. */
int store_alert_thresholds_get(struct store *st, struct store_alert_thresholds *t);
int store_alert_thresholds_put(struct store *st, const struct store_alert_thresholds *t);

#endif
