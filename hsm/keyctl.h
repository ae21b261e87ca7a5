/*
 * keyctl — key custody applied to the token: the ceremony, unseal and
 * re-share.
 *
 * This is where the master secret S meets the HSM. S exists only inside these
 * calls, in secret memory, and is wiped before they return; so are the PINs
 * derived from it. The shares handed out are text in secret memory too; what
 * the caller does with them (show once, write to an admin's file) is its
 * business, but it must free them with keyctl_shares_free().
 *
 * Order of effects, and what a crash in between leaves:
 *  - ceremony: token initialised with PINs from S, then the custody record
 *    written. A crash before the record leaves a token no share can open;
 *    the ceremony is run again on a fresh token.
 *  - re-share: new shares are made and delivered (written by the caller)
 *    first; then the new record is written aside as pending
 *    (state_dir/reshare-pending/custody.json); then the token's PINs change;
 *    then the pending record replaces the current one. While a pending record
 *    exists, shares of either ceremony are accepted, and the first unseal
 *    that logs in settles which one the token has and finishes or discards
 *    the re-share. So a crash at any point leaves one set of shares that
 *    works.
 */
#ifndef SB_KEYCTL_H
#define SB_KEYCTL_H

#include <stddef.h>

#include "../lib/config.h"
#include "custody.h"
#include "hsm.h"

struct keyctl_shares {
	unsigned count;
	unsigned threshold;
	char *text[CUSTODY_MAX_SHARES];	/* secret memory, NUL-terminated */
};

/* Wipes and frees every share text; accepts NULL. */
void keyctl_shares_free(struct keyctl_shares *shares);

/*
 * The key ceremony: make S, initialise the token named in cfg with PINs
 * derived from S, split S into cfg->quorum.shares shares of threshold
 * cfg->quorum.threshold, write the custody record. SB_EEXIST when the
 * appliance already has a custody record or the token already exists.
 */
int keyctl_ceremony(const struct config *cfg, struct keyctl_shares *out,
    char *err, size_t errlen);

/* A share set for this appliance, checked against its custody record. */
int keyctl_set_new(const struct config *cfg, struct custody_set **set,
    char *err, size_t errlen);

/* What an unseal did with an interrupted re-share it found pending. */
enum keyctl_settled { KEYCTL_SETTLED_NONE, KEYCTL_SETTLED_FINISHED, KEYCTL_SETTLED_DISCARDED };

/*
 * Unseal: combine the set's shares, derive the user PIN, open the token and
 * log in. On success *out is a logged-in handle, and *settled (when not
 * NULL) says whether an interrupted re-share was settled on the way.
 */
int keyctl_unseal(const struct config *cfg, const struct custody_set *set,
    struct hsm **out, enum keyctl_settled *settled, char *err, size_t errlen);

/*
 * Called by keyctl_reshare with the new shares before the token's PINs
 * change; a non-zero return stops the re-share with nothing changed.
 */
typedef int (*keyctl_deliver_fn)(const struct keyctl_shares *shares, void *arg);

/*
 * Re-share: with the set's M current shares, make a new S', change the
 * token's PINs to those of S', and hand out new shares (through deliver,
 * before the change takes effect, and in *out). Old shares no longer unlock
 * anything.
 */
int keyctl_reshare(const struct config *cfg, const struct custody_set *set,
    keyctl_deliver_fn deliver, void *arg, struct keyctl_shares *out,
    char *err, size_t errlen);

/* After a re-share made by another process: the user PIN that the set's
 * shares (of the custody record in force) derive becomes the one h holds
 * for reconnecting (hsm_pin_replace). 0, or the error said in err. */
int keyctl_repin(const struct config *cfg, const struct custody_set *set, struct hsm *h,
    char *err, size_t errlen);

/* 0 when the set holds at least M shares of the ceremony in rec that
 * combine to its check value (the quorum is present); else the error said
 * in err. S is wiped before returning. */
int keyctl_check_quorum(const struct custody_record *rec, const struct custody_set *set,
    char *err, size_t errlen);

/*
 * A backup's key (custody_backup_key) from the set's shares, which must be
 * at least M shares of the ceremony in rec and combine to its check value
 * (rec: this appliance's custody record when a backup is made; the one in
 * the backup's header when it is restored). S is wiped before returning.
 */
int keyctl_backup_key(const struct custody_record *rec, const struct custody_set *set,
    const uint8_t salt[CUSTODY_BACKUP_SALT_LEN], uint8_t key[CUSTODY_BACKUP_KEY_LEN],
    char *err, size_t errlen);

#endif
