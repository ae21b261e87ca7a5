/*
 * custody — the master secret S and its shares, without touching the HSM.
 *
 * S is 32 bytes from OpenSSL's RNG. It is split with Shamir's scheme
 * (libgfshare, whose random source is set to OpenSSL's RNG here and never
 * left at its default) into `count` shares with a `threshold`. The token's
 * PINs are derived from S with HKDF-SHA256 under distinct labels. S is never
 * written anywhere: what is stored (the custody record) is the ceremony id,
 * the threshold and count, and a check value derived one-way from S, so that
 * wrong shares are caught before anything is tried against the token.
 *
 * A share as people see it is text (see custody.c for the exact format): it
 * names the appliance and the share's number, is typed in groups of four
 * base32 characters, and carries a checksum. Decoding tells apart a mistyped
 * share, a share of another appliance, a share of an earlier ceremony, the
 * same share given twice and shares of two ceremonies, each with its own
 * error, before anything is combined: libgfshare itself happily combines
 * garbage.
 *
 * Everything that holds S, a PIN or a share lives in secret memory
 * (secret_alloc) and is wiped when freed.
 *
 * Threads: the functions may run in several threads at once, but one
 * custody_set must be used by one thread at a time.
 */
#ifndef SB_CUSTODY_H
#define SB_CUSTODY_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/config.h"

#define CUSTODY_SECRET_LEN 32
#define CUSTODY_CEREMONY_LEN 8		/* random id of one ceremony or re-share */
#define CUSTODY_CHECK_LEN 32
#define CUSTODY_PIN_LEN 64		/* PINs are 64 lower-case hex characters */
#define CUSTODY_SHARE_TEXT_MAX 256	/* longest share text accepted, with NUL */
#define CUSTODY_MAX_SHARES CONFIG_MAX_SHARES
#define CUSTODY_BACKUP_SALT_LEN 32
#define CUSTODY_BACKUP_KEY_LEN 32

struct custody_share {
	char appliance[CONFIG_ID_MAX + 1];
	uint8_t ceremony[CUSTODY_CEREMONY_LEN];
	uint8_t threshold;		/* M */
	uint8_t count;			/* N */
	uint8_t index;			/* 1..N */
	uint8_t y[CUSTODY_SECRET_LEN];	/* the share proper */
};

/* What the appliance keeps (in state_dir/custody.json); no secret in it. */
struct custody_record {
	char appliance[CONFIG_ID_MAX + 1];
	uint8_t ceremony[CUSTODY_CEREMONY_LEN];
	unsigned threshold;
	unsigned count;
	uint8_t check[CUSTODY_CHECK_LEN];
	long long created;		/* unix time of the ceremony or re-share */
};

/*
 * Split S into shares[0..count-1] (index 1..count). shares must be secret
 * memory with room for count entries. SB_EINVAL unless 2 <= threshold <=
 * count <= CUSTODY_MAX_SHARES and appliance is a valid id ([a-z0-9-],
 * 1..CONFIG_ID_MAX); SB_ENOMEM.
 */
int custody_split(const uint8_t secret[CUSTODY_SECRET_LEN], const char *appliance,
    const uint8_t ceremony[CUSTODY_CEREMONY_LEN], unsigned threshold,
    unsigned count, struct custody_share *shares);

/*
 * Text form of a share, NUL-terminated, into text (secret memory).
 * SB_EINVAL for an invalid share; SB_ELIMIT when len is too small
 * (CUSTODY_SHARE_TEXT_MAX always suffices).
 */
int custody_share_encode(const struct custody_share *s, char *text, size_t len);
/*
 * Parse a share typed by a person: case, spaces and group separators are
 * forgiven. SB_ESHARE_FORMAT (not a share, or longer than
 * CUSTODY_SHARE_TEXT_MAX - 1), SB_ESHARE_CHECKSUM (mistyped, including the
 * appliance id or the share number in front); SB_EINVAL for NULL. out
 * (secret memory) is zeroed on failure. The appliance is not checked here
 * (see custody_set_add).
 */
int custody_share_decode(const char *text, struct custody_share *out);

/*
 * A set of shares being gathered for one combination (unseal, re-share,
 * key operations). The set lives in secret memory.
 */
struct custody_set;

/*
 * appliance: this appliance's id; shares of another are refused.
 * rec: the custody record when there is one (NULL before the first
 * ceremony); shares whose ceremony differs from it are refused as stale.
 * The record is copied. NULL when appliance is not a valid id, rec is
 * invalid or of another appliance (logged), or out of memory.
 */
struct custody_set *custody_set_new(const char *appliance, const struct custody_record *rec);
/* Accepts NULL. */
void custody_set_free(struct custody_set *set);
/*
 * Decode and add one share. Errors, in this order of precedence, each
 * leaving the set unchanged: SB_ESHARE_FORMAT, SB_ESHARE_CHECKSUM,
 * SB_ESHARE_FOREIGN, SB_ESHARE_STALE, SB_ESHARE_MIXED (differs in ceremony,
 * threshold or count from shares already added, or in threshold or count
 * from the record), SB_ESHARE_DUP (this share number was already added,
 * also the very same share again); SB_EINVAL when set or text is NULL.
 * have and need (each may be NULL) receive the number of shares held and
 * the threshold (0 while it is unknown), also on failure. If detail is not
 * NULL it receives a one-line description of the share or of the problem,
 * naming the share's appliance and number but never its secret part
 * (truncated to detail_len; 256 bytes is always enough).
 */
int custody_set_add(struct custody_set *set, const char *text,
    unsigned *have, unsigned *need, char *detail, size_t detail_len);
/* As custody_set_add, for a share already decoded. */
int custody_set_add_share(struct custody_set *set, const struct custody_share *s,
    unsigned *have, unsigned *need, char *detail, size_t detail_len);
unsigned custody_set_count(const struct custody_set *set);
/*
 * Combine into secret (caller's secret memory), using every share held.
 * SB_ESHARE_TOOFEW when fewer than the threshold. When the set was made with
 * a record, the result is checked against the record's check value:
 * SB_ESHARE_WRONG on mismatch, and secret is wiped. Without a record nothing
 * can tell a wrong result: the caller must check it (e.g. by logging in).
 */
int custody_set_combine(const struct custody_set *set, uint8_t secret[CUSTODY_SECRET_LEN]);
/* The ceremony id, threshold and count the set's shares carry (0 if empty). */
int custody_set_info(const struct custody_set *set, uint8_t ceremony[CUSTODY_CEREMONY_LEN],
    unsigned *threshold, unsigned *count);

/*
 * so: 1 for the SO PIN, 0 for the user PIN. pin gets CUSTODY_PIN_LEN hex
 * chars + NUL. HKDF-SHA256(S, salt = appliance, info = "sealbox v1 so-pin"
 * or "sealbox v1 user-pin"). SB_EINVAL, SB_ECRYPTO.
 */
int custody_derive_pin(const uint8_t secret[CUSTODY_SECRET_LEN], const char *appliance,
    int so, char pin[CUSTODY_PIN_LEN + 1]);
/* The one-way check value stored in the record (info "sealbox v1 check"). */
int custody_check_value(const uint8_t secret[CUSTODY_SECRET_LEN], const char *appliance,
    uint8_t check[CUSTODY_CHECK_LEN]);

/*
 * A backup's key: HKDF-SHA256 of S, salt the appliance id, info "sealbox v1
 * backup " and the backup's own random salt in hex; so each backup file has
 * a key of its own, and only a quorum can make it.
 */
int custody_backup_key(const uint8_t secret[CUSTODY_SECRET_LEN], const char *appliance,
    const uint8_t salt[CUSTODY_BACKUP_SALT_LEN], uint8_t key[CUSTODY_BACKUP_KEY_LEN]);

/*
 * Read state_dir/custody.json. SB_ENOTFOUND when the appliance was never
 * provisioned (no file); SB_ECONFIG when the file is wrong in any way (a
 * line naming the file and the fault is logged); SB_EIO; SB_ELIMIT when the
 * path is too long. rec is zeroed on failure.
 */
int custody_record_load(const char *state_dir, struct custody_record *rec);
/*
 * Written to a temporary file (mode 0600), fsync'd, renamed over the old
 * one, and the directory fsync'd. SB_EINVAL for an invalid record, SB_EIO
 * (logged; the old record is then untouched).
 */
int custody_record_save(const char *state_dir, const struct custody_record *rec);

#endif
