/*
 * ceremony — new master-secret shares handed to their holders at the
 * console, one at a time (sealprov firstboot, sealadm's re-share): the screen
 * cleared between holders, each share printed straight to the terminal and
 * wiped, and typed back to check the holder's copy.
 */
#ifndef SB_CLIENT_CEREMONY_H
#define SB_CLIENT_CEREMONY_H

#include <stddef.h>

#include "../../hsm/keyctl.h"

/* Scroll the last screen away (any terminal), then clear the screen and a
 * terminal emulator's scrollback (VT100 ED; ignored where unknown). */
void ceremony_blank(void);

/* Ask until a non-empty text line comes: 0, or -1 at end of input. */
int ceremony_ask(const char *prompt, char *buf, size_t cap, int hidden);

/* Wait for Enter (any line, wiped): 0, or -1 at end of input. */
int ceremony_wait_enter(const char *prompt);

/*
 * Share i of sh to its holder alone: name (and role, or NULL) asked to step
 * up, the share shown once written down, then typed back until it matches.
 * 0, or -1 at end of input.
 */
int ceremony_hand_over(const struct keyctl_shares *sh, unsigned i, const char *name,
    const char *role, const char *appliance);

/* Each share to DIR/<appliance>-share-<i>.txt, mode 0600, never over a
 * file (DIR made 0700 if missing), synced; one line said for each, and
 * *written (if not NULL) counts those done. 0, or SB_EIO said why. */
int ceremony_write_shares(const struct keyctl_shares *sh, const char *dir,
    const char *appliance, unsigned *written);

#endif
