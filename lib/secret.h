/*
 * secret — memory for PINs, shares, master secrets and passphrases.
 *
 * secret_alloc() returns zeroed memory that is locked into RAM where the
 * system allows it (mlock) and excluded from core dumps (MADV_DONTDUMP);
 * secret_free() wipes it before giving it back. It is the only way a secret
 * is released: never free() a secret buffer, never copy one into ordinary
 * memory that outlives the call.
 *
 * secret_harden_process() makes the calling process non-dumpable and sets its
 * core-file limit to 0; processes that hold secrets call it first.
 */
#ifndef SB_SECRET_H
#define SB_SECRET_H

#include <stddef.h>

/* Zeroed, locked memory of n bytes (n > 0), or NULL when out of memory. */
void *secret_alloc(size_t n);
/* Wipes and frees; accepts NULL. Sets *pp to NULL. */
void secret_free(void *pp);
/* Wipes n bytes in place with a write the compiler cannot drop. */
void secret_wipe(void *p, size_t n);
/* Duplicate a NUL-terminated string into secret memory. */
char *secret_strdup(const char *s);
/* PR_SET_DUMPABLE 0 and RLIMIT_CORE 0. Returns 0 or SB_EIO. */
int secret_harden_process(void);

#endif
