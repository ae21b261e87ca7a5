/*
 * ledger_sth — signed tree heads. See ledger.h and docs/ledger.md.
 *
 * The signed message is fixed binary, not JSON, so that no two encoders can
 * disagree about what was signed:
 *
 *   "sealbox-sth-v1" (14 bytes) || tree_size BE64 || timestamp_ms BE64 || root[32]
 *
 * Stored in LEDGER_DB_STH under tree_size BE64 as
 *
 *   timestamp_ms BE64 || root[32] || sig_len BE16 || sig
 *
 * The signer is a callback (the HSM's audit key in the monitor); it runs with
 * no ledger lock held, so a slow HSM delays nobody's append.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "lib/err.h"
#include "lib/log.h"
#include "ledger_int.h"

#define STH_VAL_MIN (8 + MERKLE_HASH_LEN + 2)

_Static_assert(sizeof(LEDGER_STH_LABEL) - 1 == 14, "the label is 14 bytes");
_Static_assert(LEDGER_SIG_MAX <= 0xffff, "sig_len is stored in 16 bits");

void
ledger_sth_message(const struct ledger_sth *sth, uint8_t msg[LEDGER_STH_MSG_LEN])
{
	memcpy(msg, LEDGER_STH_LABEL, 14);
	ledger_be64_put(msg + 14, sth->tree_size);
	ledger_be64_put(msg + 22, sth->timestamp);
	memcpy(msg + 30, sth->root, MERKLE_HASH_LEN);
}

static size_t
sth_encode(const struct ledger_sth *sth, uint8_t *p)
{
	ledger_be64_put(p, sth->timestamp);
	memcpy(p + 8, sth->root, MERKLE_HASH_LEN);
	p[40] = (uint8_t)(sth->sig_len >> 8);
	p[41] = (uint8_t)sth->sig_len;
	memcpy(p + STH_VAL_MIN, sth->sig, sth->sig_len);
	return STH_VAL_MIN + sth->sig_len;
}

int
ledger_sth_decode(const MDB_val *k, const MDB_val *v, struct ledger_sth *out)
{
	const uint8_t *p = v->mv_data;
	size_t sig_len;

	if (k->mv_size != 8 || v->mv_size < STH_VAL_MIN)
		return SB_EIO;
	sig_len = (size_t)p[40] << 8 | p[41];
	if (sig_len == 0 || sig_len > LEDGER_SIG_MAX || v->mv_size != STH_VAL_MIN + sig_len)
		return SB_EIO;
	memset(out, 0, sizeof(*out));
	out->tree_size = ledger_be64_get(k->mv_data);
	out->timestamp = ledger_be64_get(p);
	memcpy(out->root, p + 8, MERKLE_HASH_LEN);
	out->sig_len = sig_len;
	memcpy(out->sig, p + STH_VAL_MIN, sig_len);
	return 0;
}

static int
sth_store(struct ledger *l, const struct ledger_sth *sth)
{
	uint8_t kb[8], vb[STH_VAL_MIN + LEDGER_SIG_MAX];
	MDB_val k = { sizeof(kb), kb }, v;
	MDB_txn *txn;
	int rc;

	ledger_be64_put(kb, sth->tree_size);
	v.mv_size = sth_encode(sth, vb);
	v.mv_data = vb;
	pthread_rwlock_rdlock(&l->env_lock);
	if ((rc = mdb_txn_begin(l->env, NULL, 0, &txn)) == 0) {
		if ((rc = mdb_put(txn, l->sth, &k, &v, 0)) == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&l->env_lock);
	if (rc != 0) {
		log_err("ledger: cannot store the tree head for %llu entries: %s",
		    (unsigned long long)sth->tree_size, mdb_strerror(rc));
		return ledger_mdb_err(rc);
	}
	return 0;
}

int
ledger_sth_make(struct ledger *l, ledger_sign_fn sign, void *arg, struct ledger_sth *out)
{
	struct merkle_edge edge;
	struct ledger_sth sth;
	uint8_t msg[LEDGER_STH_MSG_LEN];
	int broken, rc;

	if (l == NULL || sign == NULL || out == NULL)
		return SB_EINVAL;
	pthread_mutex_lock(&l->mu);
	edge = l->edge;
	broken = l->broken;
	pthread_mutex_unlock(&l->mu);
	if (broken)
		return SB_ESTATE;	/* never sign a tree we could not load */
	memset(&sth, 0, sizeof(sth));
	sth.tree_size = edge.size;
	sth.timestamp = ledger_now_ms();
	if ((rc = merkle_edge_root(&edge, sth.root)) != 0)
		return rc;
	ledger_sth_message(&sth, msg);
	sth.sig_len = sizeof(sth.sig);
	if ((rc = sign(arg, msg, sizeof(msg), sth.sig, &sth.sig_len)) != 0)
		return rc;
	if (sth.sig_len == 0 || sth.sig_len > LEDGER_SIG_MAX)
		return SB_ECRYPTO;
	if ((rc = sth_store(l, &sth)) != 0)
		return rc;
	*out = sth;
	return 0;
}

static int
sth_read(struct ledger *l, const uint64_t *size, struct ledger_sth *out)
{
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb }, v;
	MDB_cursor *cur;
	MDB_txn *txn;
	int rc;

	if ((rc = ledger_rd_begin(l, &txn)) != 0)
		return rc;
	if (size != NULL) {
		ledger_be64_put(kb, *size);
		rc = mdb_get(txn, l->sth, &k, &v);
	} else if ((rc = mdb_cursor_open(txn, l->sth, &cur)) == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
		mdb_cursor_close(cur);
	}
	rc = rc == 0 ? ledger_sth_decode(&k, &v, out) : ledger_mdb_err(rc);
	ledger_rd_end(l, txn);
	return rc;
}

int
ledger_sth_latest(struct ledger *l, struct ledger_sth *out)
{
	if (l == NULL || out == NULL)
		return SB_EINVAL;
	return sth_read(l, NULL, out);
}

int
ledger_sth_get(struct ledger *l, uint64_t tree_size, struct ledger_sth *out)
{
	if (l == NULL || out == NULL)
		return SB_EINVAL;
	return sth_read(l, &tree_size, out);
}

int
ledger_sth_verify(const struct ledger_sth *sth, EVP_PKEY *pub)
{
	uint8_t msg[LEDGER_STH_MSG_LEN];
	EVP_MD_CTX *ctx;
	int ok;

	if (sth == NULL || pub == NULL)
		return SB_EINVAL;
	if (sth->sig_len == 0 || sth->sig_len > LEDGER_SIG_MAX)
		return SB_ECRYPTO;
	ledger_sth_message(sth, msg);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return SB_ENOMEM;
	ok = EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, pub, NULL) == 1 &&
	    EVP_DigestVerify(ctx, sth->sig, sth->sig_len, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();	/* a bad signature is an answer, not an error to keep */
	return ok ? 0 : SB_ECRYPTO;
}

int
ledger_sth_to_json(const struct ledger_sth *sth, json_t **out)
{
	json_t *o;

	if (sth == NULL || out == NULL || sth->sig_len > LEDGER_SIG_MAX ||
	    sth->tree_size > INT64_MAX || sth->timestamp > INT64_MAX)
		return SB_EINVAL;
	*out = NULL;
	if ((o = json_object()) == NULL)
		return SB_ENOMEM;
	if (json_object_set_new(o, "tree_size", json_integer((json_int_t)sth->tree_size)) ||
	    json_object_set_new(o, "timestamp", json_integer((json_int_t)sth->timestamp)) ||
	    json_object_set_new(o, "root_hash", ledger_b64_json(sth->root, MERKLE_HASH_LEN)) ||
	    json_object_set_new(o, "signature", ledger_b64_json(sth->sig, sth->sig_len))) {
		json_decref(o);
		return SB_ENOMEM;
	}
	*out = o;
	return 0;
}

static int
json_u64(const json_t *j, const char *key, uint64_t *v)
{
	json_t *x = json_object_get(j, key);

	if (!json_is_integer(x) || json_integer_value(x) < 0)
		return SB_EINVAL;
	*v = (uint64_t)json_integer_value(x);
	return 0;
}

int
ledger_sth_from_json(const json_t *j, struct ledger_sth *out)
{
	struct ledger_sth sth;
	const char *root, *sig;
	size_t n;
	int rc;

	if (out == NULL || !json_is_object(j) || json_object_size(j) != 4)
		return SB_EINVAL;
	memset(&sth, 0, sizeof(sth));
	root = json_string_value(json_object_get(j, "root_hash"));
	sig = json_string_value(json_object_get(j, "signature"));
	if (json_u64(j, "tree_size", &sth.tree_size) != 0 ||
	    json_u64(j, "timestamp", &sth.timestamp) != 0 || root == NULL || sig == NULL)
		return SB_EINVAL;
	if ((rc = ledger_b64_decode(root, sth.root, MERKLE_HASH_LEN, &n)) != 0)
		return rc;
	if (n != MERKLE_HASH_LEN)
		return SB_EINVAL;
	if ((rc = ledger_b64_decode(sig, sth.sig, LEDGER_SIG_MAX, &sth.sig_len)) != 0)
		return rc;
	*out = sth;
	return 0;
}
