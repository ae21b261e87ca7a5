/*
 * keyctl — the key ceremony, unseal and re-share. See keyctl.h for the order
 * of effects and what a crash leaves behind.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/secret.h"
#include "keyctl.h"

#define KEYCTL_PENDING "reshare-pending"

/* The PINs and secret of one combination, all in one secret allocation. */
struct keyctl_keys {
	uint8_t secret[CUSTODY_SECRET_LEN];
	char so_pin[CUSTODY_PIN_LEN + 1];
	char user_pin[CUSTODY_PIN_LEN + 1];
};

void
keyctl_shares_free(struct keyctl_shares *shares)
{
	if (shares == NULL)
		return;
	for (unsigned i = 0; i < CUSTODY_MAX_SHARES; i++)
		secret_free(&shares->text[i]);
	shares->count = 0;
}

static int keyctl_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
keyctl_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static int
keyctl_mkdir(const char *dir)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return SB_EIO;
	return 0;
}

static int
keyctl_pending_dir(const struct config *cfg, char *dir, size_t len)
{
	int n = snprintf(dir, len, "%s/%s", cfg->appliance.state_dir, KEYCTL_PENDING);

	return n < 0 || (size_t)n >= len ? SB_ELIMIT : 0;
}

/* The pending re-share record, if one was left; SB_ENOTFOUND if none. */
static int
keyctl_pending_load(const struct config *cfg, struct custody_record *rec)
{
	char dir[4096];
	int rc;

	if ((rc = keyctl_pending_dir(cfg, dir, sizeof(dir))) != 0)
		return rc;
	return custody_record_load(dir, rec);
}

static void
keyctl_pending_remove(const struct config *cfg)
{
	char dir[4096], file[4200];

	if (keyctl_pending_dir(cfg, dir, sizeof(dir)) != 0)
		return;
	snprintf(file, sizeof(file), "%s/custody.json", dir);
	(void)unlink(file);
	/* The empty directory stays: the monitor, which settles an interrupted
	 * re-share at unseal, may not rmdir (its seccomp filter), and the next
	 * re-share makes it again anyway. */
}

/* Derive both PINs from keys->secret. */
static int
keyctl_derive(const char *appliance, struct keyctl_keys *keys)
{
	int rc;

	if ((rc = custody_derive_pin(keys->secret, appliance, 1, keys->so_pin)) != 0)
		return rc;
	return custody_derive_pin(keys->secret, appliance, 0, keys->user_pin);
}

/* Split keys->secret into encoded shares for rec. */
static int
keyctl_make_shares(const struct custody_record *rec, const uint8_t *secret,
    struct keyctl_shares *out)
{
	struct custody_share *shares;
	int rc;

	memset(out, 0, sizeof(*out));
	shares = secret_alloc(sizeof(*shares) * rec->count);
	if (shares == NULL)
		return SB_ENOMEM;
	rc = custody_split(secret, rec->appliance, rec->ceremony, rec->threshold,
	    rec->count, shares);
	for (unsigned i = 0; rc == 0 && i < rec->count; i++) {
		if ((out->text[i] = secret_alloc(CUSTODY_SHARE_TEXT_MAX)) == NULL)
			rc = SB_ENOMEM;
		else
			rc = custody_share_encode(&shares[i], out->text[i],
			    CUSTODY_SHARE_TEXT_MAX);
	}
	secret_free(&shares);
	if (rc != 0) {
		keyctl_shares_free(out);
		return rc;
	}
	out->count = rec->count;
	out->threshold = rec->threshold;
	return 0;
}

/* A new secret and the record that describes it. */
static int
keyctl_new_secret(const struct config *cfg, struct keyctl_keys *keys,
    struct custody_record *rec)
{
	int rc;

	memset(rec, 0, sizeof(*rec));
	if (RAND_priv_bytes(keys->secret, sizeof(keys->secret)) != 1 ||
	    RAND_bytes(rec->ceremony, sizeof(rec->ceremony)) != 1)
		return SB_ECRYPTO;
	snprintf(rec->appliance, sizeof(rec->appliance), "%s", cfg->appliance.id);
	rec->threshold = cfg->quorum.threshold;
	rec->count = cfg->quorum.shares;
	rec->created = (long long)time(NULL);
	if ((rc = custody_check_value(keys->secret, rec->appliance, rec->check)) != 0)
		return rc;
	return keyctl_derive(rec->appliance, keys);
}

int
keyctl_ceremony(const struct config *cfg, struct keyctl_shares *out,
    char *err, size_t errlen)
{
	struct custody_record rec;
	struct keyctl_keys *keys;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = custody_record_load(cfg->appliance.state_dir, &rec);
	if (rc == 0)
		return keyctl_fail(err, errlen, SB_EEXIST,
		    "appliance %s was already provisioned (custody record exists)",
		    cfg->appliance.id);
	if (rc != SB_ENOTFOUND)
		return keyctl_fail(err, errlen, rc, "cannot read the custody record in %s",
		    cfg->appliance.state_dir);
	if (keyctl_mkdir(cfg->appliance.state_dir) != 0)
		return keyctl_fail(err, errlen, SB_EIO, "cannot create state directory %s",
		    cfg->appliance.state_dir);
	if ((keys = secret_alloc(sizeof(*keys))) == NULL)
		return SB_ENOMEM;
	if ((rc = keyctl_new_secret(cfg, keys, &rec)) != 0) {
		snprintf(err, errlen, "cannot make the master secret: %s", sb_strerror(rc));
		goto out;
	}
	rc = hsm_token_init(cfg->hsm.module, cfg->hsm.token, keys->so_pin, keys->user_pin);
	if (rc != 0) {
		snprintf(err, errlen, "cannot initialise token '%s': %s", cfg->hsm.token,
		    rc == SB_EEXIST ? "a token with this label already exists" :
		    sb_strerror(rc));
		goto out;
	}
	if ((rc = keyctl_make_shares(&rec, keys->secret, out)) != 0) {
		snprintf(err, errlen, "cannot make shares: %s", sb_strerror(rc));
		goto out;
	}
	if ((rc = custody_record_save(cfg->appliance.state_dir, &rec)) != 0) {
		snprintf(err, errlen, "token initialised but the custody record could not "
		    "be written in %s: %s", cfg->appliance.state_dir, sb_strerror(rc));
		keyctl_shares_free(out);
		goto out;
	}
	log_info("key ceremony done for %s: %u shares, threshold %u", rec.appliance,
	    rec.count, rec.threshold);
out:
	secret_free(&keys);
	return rc;
}

int
keyctl_set_new(const struct config *cfg, struct custody_set **set, char *err,
    size_t errlen)
{
	struct custody_record rec, pending;
	int rc;

	*set = NULL;
	rc = custody_record_load(cfg->appliance.state_dir, &rec);
	if (rc == SB_ENOTFOUND)
		return keyctl_fail(err, errlen, SB_ESTATE, "appliance %s has not been "
		    "provisioned: run the key ceremony first", cfg->appliance.id);
	if (rc != 0)
		return keyctl_fail(err, errlen, rc, "cannot read the custody record in %s",
		    cfg->appliance.state_dir);
	/* An interrupted re-share: shares of either ceremony may be the valid ones. */
	rc = keyctl_pending_load(cfg, &pending);
	*set = custody_set_new(cfg->appliance.id, rc == 0 ? NULL : &rec);
	return *set == NULL ? SB_ENOMEM : 0;
}

/*
 * Combine the set into keys->secret and say which record it belongs to:
 * *pending is 1 when it is the pending re-share's.
 */
static int
keyctl_combine(const struct config *cfg, const struct custody_set *set,
    struct keyctl_keys *keys, int *pending, char *err, size_t errlen)
{
	struct custody_record rec, pend;
	uint8_t ceremony[CUSTODY_CEREMONY_LEN], check[CUSTODY_CHECK_LEN];
	unsigned m, n;
	int rc;

	*pending = 0;
	if ((rc = custody_record_load(cfg->appliance.state_dir, &rec)) != 0)
		return keyctl_fail(err, errlen, rc, "cannot read the custody record in %s",
		    cfg->appliance.state_dir);
	if ((rc = custody_set_info(set, ceremony, &m, &n)) != 0 ||
	    custody_set_count(set) < m || m == 0)
		return keyctl_fail(err, errlen, SB_ESHARE_TOOFEW,
		    "%s", sb_strerror(SB_ESHARE_TOOFEW));
	if (memcmp(ceremony, rec.ceremony, sizeof(ceremony)) != 0) {
		if (keyctl_pending_load(cfg, &pend) != 0 ||
		    memcmp(ceremony, pend.ceremony, sizeof(ceremony)) != 0)
			return keyctl_fail(err, errlen, SB_ESHARE_STALE, "%s",
			    sb_strerror(SB_ESHARE_STALE));
		rec = pend;
		*pending = 1;
	}
	if ((rc = custody_set_combine(set, keys->secret)) != 0)
		return keyctl_fail(err, errlen, rc, "%s", sb_strerror(rc));
	rc = custody_check_value(keys->secret, rec.appliance, check);
	if (rc == 0 && CRYPTO_memcmp(check, rec.check, sizeof(check)) != 0)
		rc = SB_ESHARE_WRONG;
	OPENSSL_cleanse(check, sizeof(check));
	if (rc != 0)
		return keyctl_fail(err, errlen, rc, "%s", sb_strerror(rc));
	return keyctl_derive(rec.appliance, keys);
}

/* After a login that settled an interrupted re-share, make the record agree. */
static enum keyctl_settled
keyctl_settle(const struct config *cfg, int pending)
{
	struct custody_record pend;

	if (keyctl_pending_load(cfg, &pend) != 0)
		return KEYCTL_SETTLED_NONE;
	if (pending) {
		if (custody_record_save(cfg->appliance.state_dir, &pend) != 0) {
			log_err("cannot finish the interrupted re-share: custody record "
			    "not written");
			return KEYCTL_SETTLED_NONE;
		}
		log_warn("an interrupted re-share was finished: the new shares are in force");
	} else
		log_warn("an interrupted re-share was discarded: the old shares stay in force");
	keyctl_pending_remove(cfg);
	return pending ? KEYCTL_SETTLED_FINISHED : KEYCTL_SETTLED_DISCARDED;
}

int
keyctl_unseal(const struct config *cfg, const struct custody_set *set,
    struct hsm **out, enum keyctl_settled *settled, char *err, size_t errlen)
{
	enum keyctl_settled done;

	struct keyctl_keys *keys;
	struct hsm *h = NULL;
	int rc, pending;

	*out = NULL;
	if ((keys = secret_alloc(sizeof(*keys))) == NULL)
		return SB_ENOMEM;
	if ((rc = keyctl_combine(cfg, set, keys, &pending, err, errlen)) != 0)
		goto out;
	if ((rc = hsm_open(cfg->hsm.module, cfg->hsm.token, &h)) != 0) {
		snprintf(err, errlen, "cannot open token '%s': %s", cfg->hsm.token,
		    sb_strerror(rc));
		goto out;
	}
	if ((rc = hsm_login(h, keys->user_pin)) != 0) {
		snprintf(err, errlen, "the token refused the PIN derived from these shares: %s",
		    sb_strerror(rc));
		hsm_close(h);
		goto out;
	}
	done = keyctl_settle(cfg, pending);
	if (settled != NULL)
		*settled = done;
	*out = h;
out:
	secret_free(&keys);
	return rc;
}

int
keyctl_repin(const struct config *cfg, const struct custody_set *set, struct hsm *h,
    char *err, size_t errlen)
{
	struct keyctl_keys *keys = secret_alloc(sizeof(*keys));
	int rc, pending;

	if (keys == NULL)
		return SB_ENOMEM;
	if ((rc = keyctl_combine(cfg, set, keys, &pending, err, errlen)) == 0 && pending)
		rc = keyctl_fail(err, errlen, SB_ESTATE, "a re-share is still pending: unseal "
		    "to settle it");
	if (rc == 0 && (rc = hsm_pin_replace(h, keys->user_pin)) != 0)
		snprintf(err, errlen, "the HSM layer did not take the new PIN: %s", hsm_error(h));
	secret_free(&keys);
	return rc;
}

int
keyctl_reshare(const struct config *cfg, const struct custody_set *set,
    keyctl_deliver_fn deliver, void *arg, struct keyctl_shares *out,
    char *err, size_t errlen)
{
	struct keyctl_keys *old = NULL, *new = NULL;
	struct custody_record rec;
	struct hsm *h = NULL;
	char pdir[4096];
	int rc, pending, changed = 0;

	memset(out, 0, sizeof(*out));
	old = secret_alloc(sizeof(*old));
	new = secret_alloc(sizeof(*new));
	if (old == NULL || new == NULL) {
		rc = SB_ENOMEM;
		goto out;
	}
	if ((rc = keyctl_combine(cfg, set, old, &pending, err, errlen)) != 0)
		goto out;
	if ((rc = keyctl_new_secret(cfg, new, &rec)) != 0 ||
	    (rc = keyctl_make_shares(&rec, new->secret, out)) != 0) {
		snprintf(err, errlen, "cannot make the new secret: %s", sb_strerror(rc));
		goto out;
	}
	if (deliver != NULL && (rc = deliver(out, arg)) != 0) {
		snprintf(err, errlen, "the new shares could not be delivered; nothing changed");
		goto out;
	}
	if ((rc = keyctl_pending_dir(cfg, pdir, sizeof(pdir))) != 0 ||
	    (rc = keyctl_mkdir(pdir)) != 0 ||
	    (rc = custody_record_save(pdir, &rec)) != 0) {
		snprintf(err, errlen, "cannot write the pending custody record in %s; "
		    "nothing changed", cfg->appliance.state_dir);
		goto out;
	}
	if ((rc = hsm_open(cfg->hsm.module, cfg->hsm.token, &h)) != 0 ||
	    (rc = hsm_change_pins(h, old->so_pin, new->so_pin, old->user_pin,
	    new->user_pin)) != 0) {
		/* The change may have happened in part (SO PIN changed, user PIN
		 * not put back) or whole (a failure after it): keep the pending
		 * record and the new shares; the next unseal that logs in, with
		 * either set, settles which one is in force. */
		snprintf(err, errlen, "the token's PINs could not be changed (%s); the "
		    "next unseal, with the old shares or the new ones, settles which "
		    "are in force", sb_strerror(rc));
		changed = 1;
		goto out;
	}
	changed = 1;
	if ((rc = custody_record_save(cfg->appliance.state_dir, &rec)) != 0) {
		snprintf(err, errlen, "the PINs were changed but the custody record was "
		    "not; the next unseal with the new shares finishes the re-share");
		goto out;
	}
	keyctl_pending_remove(cfg);
	log_info("re-share done for %s: %u new shares, threshold %u; old shares revoked",
	    rec.appliance, rec.count, rec.threshold);
out:
	hsm_close(h);
	secret_free(&old);
	secret_free(&new);
	/* On failure the new shares are kept only when they are the ones in force. */
	if (rc != 0 && !changed)
		keyctl_shares_free(out);
	return rc;
}

/* S from the set's shares, which must be at least M shares of the ceremony
 * in rec and combine to its check value: 0 with S in *secret (secret
 * memory, the caller frees), or the error said in err. */
static int
keyctl_quorum_secret(const struct custody_record *rec, const struct custody_set *set,
    uint8_t **secret, char *err, size_t errlen)
{
	uint8_t ceremony[CUSTODY_CEREMONY_LEN], check[CUSTODY_CHECK_LEN];
	unsigned m, n;
	int rc;

	*secret = NULL;
	if ((rc = custody_set_info(set, ceremony, &m, &n)) != 0 ||
	    custody_set_count(set) < m || m == 0)
		return keyctl_fail(err, errlen, SB_ESHARE_TOOFEW,
		    "%s", sb_strerror(SB_ESHARE_TOOFEW));
	if (memcmp(ceremony, rec->ceremony, sizeof(ceremony)) != 0)
		return keyctl_fail(err, errlen, SB_ESHARE_STALE, "%s",
		    sb_strerror(SB_ESHARE_STALE));
	if ((*secret = secret_alloc(CUSTODY_SECRET_LEN)) == NULL)
		return SB_ENOMEM;
	if ((rc = custody_set_combine(set, *secret)) == 0)
		rc = custody_check_value(*secret, rec->appliance, check);
	if (rc == 0 && CRYPTO_memcmp(check, rec->check, sizeof(check)) != 0)
		rc = SB_ESHARE_WRONG;
	OPENSSL_cleanse(check, sizeof(check));
	if (rc != 0) {
		secret_free(secret);
		return keyctl_fail(err, errlen, rc, "%s", sb_strerror(rc));
	}
	return 0;
}

int
keyctl_check_quorum(const struct custody_record *rec, const struct custody_set *set,
    char *err, size_t errlen)
{
	uint8_t *secret;
	int rc = keyctl_quorum_secret(rec, set, &secret, err, errlen);

	secret_free(&secret);
	return rc;
}

int
keyctl_backup_key(const struct custody_record *rec, const struct custody_set *set,
    const uint8_t salt[CUSTODY_BACKUP_SALT_LEN], uint8_t key[CUSTODY_BACKUP_KEY_LEN],
    char *err, size_t errlen)
{
	uint8_t *secret;
	int rc;

	if ((rc = keyctl_quorum_secret(rec, set, &secret, err, errlen)) != 0)
		return rc;
	rc = custody_backup_key(secret, rec->appliance, salt, key);
	secret_free(&secret);
	if (rc != 0) {
		secret_wipe(key, CUSTODY_BACKUP_KEY_LEN);
		return keyctl_fail(err, errlen, rc, "%s", sb_strerror(rc));
	}
	return 0;
}
