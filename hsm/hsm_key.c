/*
 * hsm_key — key pairs, signing, certificates (the hsm module's second half;
 * locking and faults are explained at the top of hsm.c).
 *
 * Lookups, key generation, destruction and certificates use our own
 * short-lived sessions and the module's function list: libp11's key list
 * keeps entries of destroyed objects and cannot generate EC keys. Signing
 * uses the EVP_PKEY libp11 makes for a private key, cached per CKA_ID, so
 * that a signature costs one C_SignInit and one C_Sign and no enumeration.
 * The cache of a token is emptied on every reload; an entry whose object
 * handle the module no longer knows is marked stale (never freed under a
 * read lock, because a borrowed key may be using it) and looked up again.
 */
#include <string.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/ossl.h"
#include "hsm_int.h"

/* DER OIDs, as CKA_EC_PARAMS holds them (namedCurve). */
static const uint8_t hsm_oid_p256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t hsm_oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };

static const struct {
	enum hsm_key_type type;
	const char *name;
} hsm_key_names[] = {
	{ HSM_KEY_EC_P256, "ec-p256" },
	{ HSM_KEY_EC_P384, "ec-p384" },
	{ HSM_KEY_RSA_2048, "rsa-2048" },
	{ HSM_KEY_RSA_3072, "rsa-3072" },
};

const char *
hsm_key_type_name(enum hsm_key_type t)
{
	for (size_t i = 0; i < sizeof(hsm_key_names) / sizeof(hsm_key_names[0]); i++)
		if (hsm_key_names[i].type == t)
			return hsm_key_names[i].name;
	return "unknown";
}

int
hsm_key_type_parse(const char *name, enum hsm_key_type *out)
{
	for (size_t i = 0; name != NULL && i < sizeof(hsm_key_names) / sizeof(hsm_key_names[0]); i++) {
		if (strcmp(hsm_key_names[i].name, name) == 0) {
			*out = hsm_key_names[i].type;
			return 0;
		}
	}
	return SB_EINVAL;
}

static int
hsm_id_ok(const uint8_t *id, size_t id_len)
{
	return id != NULL && id_len > 0 && id_len <= HSM_ID_MAX;
}

/* 1..HSM_LABEL_MAX bytes, no control characters (labels reach logs). */
static int
hsm_key_label_ok(const char *label)
{
	size_t n = label != NULL ? strlen(label) : 0;

	if (n == 0 || n > HSM_LABEL_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
			return 0;
	return 1;
}

/* Nothing found: believe it only if the token still answers (see hsm.c). */
static int
hsm_notfound(struct hsm *h, const char *what)
{
	char why[HSM_ERR_MAX];

	if (hsm_probe(h, why, sizeof(why)) != 0) {
		hsm_fault(h->mod, why);
		return hsm_fail(h, SB_EHSM, "HSM failing: %s", why);
	}
	return hsm_fail(h, SB_ENOTFOUND, "no %s with this id on token '%s'", what,
	    h->tok->label);
}

/* The private key object with this id. */
static int
hsm_find_priv(struct hsm *h, CK_SESSION_HANDLE s, const uint8_t *id, size_t id_len,
    CK_OBJECT_HANDLE *o)
{
	size_t n;
	int rc;

	if ((rc = hsm_find(h, s, CKO_PRIVATE_KEY, id, id_len, o, 1, &n)) != 0)
		return rc;
	return n == 0 ? hsm_notfound(h, "private key") : 0;
}

/* ---- the EVP_PKEY cache -------------------------------------------------- */

/* Only under the module's write lock, or for a token nobody else sees. */
void
hsm_cache_flush(struct hsm_tok *t, const uint8_t *id, size_t id_len)
{
	struct hsm_kc **pp = &t->cache, *e;

	pthread_mutex_lock(&t->cache_lock);
	while ((e = *pp) != NULL) {
		if (id == NULL || (e->id_len == id_len && memcmp(e->id, id, id_len) == 0)) {
			*pp = e->next;
			EVP_PKEY_free(e->pkey);
			free(e);
			t->ncache--;
		} else
			pp = &e->next;
	}
	pthread_mutex_unlock(&t->cache_lock);
}

/* A new reference to the cached key, or NULL. */
static EVP_PKEY *
hsm_cache_get(struct hsm_tok *t, const uint8_t *id, size_t id_len)
{
	EVP_PKEY *pk = NULL;

	pthread_mutex_lock(&t->cache_lock);
	for (struct hsm_kc *e = t->cache; e != NULL; e = e->next) {
		if (!e->stale && e->id_len == id_len && memcmp(e->id, id, id_len) == 0) {
			EVP_PKEY_up_ref(e->pkey);
			pk = e->pkey;
			break;
		}
	}
	pthread_mutex_unlock(&t->cache_lock);
	return pk;
}

static void
hsm_cache_stale(struct hsm_tok *t, const uint8_t *id, size_t id_len)
{
	pthread_mutex_lock(&t->cache_lock);
	for (struct hsm_kc *e = t->cache; e != NULL; e = e->next)
		if (e->id_len == id_len && memcmp(e->id, id, id_len) == 0)
			e->stale = 1;
	pthread_mutex_unlock(&t->cache_lock);
}

/* libp11's EVP_PKEY for the key; under p11_lock. Caches it (owning one
 * reference) and gives the caller another. */
static int
hsm_pkey_load(struct hsm *h, const uint8_t *id, size_t id_len, EVP_PKEY **pk)
{
	struct hsm_tok *t = h->tok;
	PKCS11_KEY *keys = NULL, *k = NULL;
	unsigned nkeys = 0;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	struct hsm_kc *e;
	int rc;

	if ((rc = hsm_session(h, &s)) != 0)
		return rc;
	rc = hsm_find_priv(h, s, id, id_len, &o);
	hsm_session_close(h, s);
	if (rc != 0)
		return rc;
	if (t->ncache >= HSM_MAX_KEYS)
		return hsm_fail(h, SB_ELIMIT, "more than %d keys in use", HSM_MAX_KEYS);
	ERR_clear_error();
	/* libp11 searches and reads attributes: keep object creation out. */
	pthread_rwlock_rdlock(&h->mod->obj_lock);
	if (PKCS11_enumerate_keys(t->slot->token, &keys, &nkeys) != 0) {
		pthread_rwlock_unlock(&h->mod->obj_lock);
		return hsm_p11_err(h, "PKCS11_enumerate_keys");
	}
	/* Newest first: libp11 keeps entries of objects destroyed since. */
	for (unsigned i = nkeys; i-- > 0 && k == NULL;)
		if (keys[i].id_len == id_len && memcmp(keys[i].id, id, id_len) == 0)
			k = &keys[i];
	*pk = k != NULL ? PKCS11_get_private_key(k) : NULL;
	pthread_rwlock_unlock(&h->mod->obj_lock);
	if (k == NULL)
		return hsm_fail(h, SB_EHSM, "libp11 does not list the key the token has");
	if (*pk == NULL)
		return hsm_p11_err(h, "PKCS11_get_private_key");
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		EVP_PKEY_free(*pk);
		*pk = NULL;
		return hsm_fail(h, SB_ENOMEM, "out of memory");
	}
	memcpy(e->id, id, id_len);
	e->id_len = id_len;
	e->pkey = *pk;
	EVP_PKEY_up_ref(*pk);
	pthread_mutex_lock(&t->cache_lock);
	e->next = t->cache;
	t->cache = e;
	t->ncache++;
	pthread_mutex_unlock(&t->cache_lock);
	return 0;
}

/* Under the read lock: a new reference to the private key's EVP_PKEY. */
static int
hsm_pkey(struct hsm *h, const uint8_t *id, size_t id_len, EVP_PKEY **pk)
{
	int rc = 0;

	if ((*pk = hsm_cache_get(h->tok, id, id_len)) != NULL)
		return 0;
	pthread_mutex_lock(&h->mod->p11_lock);
	if ((*pk = hsm_cache_get(h->tok, id, id_len)) == NULL)
		rc = hsm_pkey_load(h, id, id_len, pk);
	pthread_mutex_unlock(&h->mod->p11_lock);
	return rc;
}

/* ---- generating ---------------------------------------------------------- */

#define HSM_ATTR(t, n, typ, ptr, len) \
	do { (t)[n].type = (typ); (t)[n].pValue = (void *)(ptr); \
	    (t)[n].ulValueLen = (len); (n)++; } while (0)

static int
hsm_keygen_locked(struct hsm *h, enum hsm_key_type type, const char *label,
    const uint8_t id[HSM_ID_LEN])
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BYTE e65537[] = { 0x01, 0x00, 0x01 };
	CK_ULONG bits = type == HSM_KEY_RSA_3072 ? 3072 : 2048, np = 0, nk = 0;
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pub[10], priv[12];
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int rc;

	HSM_ATTR(pub, np, CKA_TOKEN, &yes, sizeof(yes));
	HSM_ATTR(pub, np, CKA_PRIVATE, &no, sizeof(no));
	HSM_ATTR(pub, np, CKA_VERIFY, &yes, sizeof(yes));
	HSM_ATTR(pub, np, CKA_ENCRYPT, &no, sizeof(no));
	HSM_ATTR(pub, np, CKA_WRAP, &no, sizeof(no));
	HSM_ATTR(pub, np, CKA_LABEL, label, strlen(label));
	HSM_ATTR(pub, np, CKA_ID, id, HSM_ID_LEN);
	if (type == HSM_KEY_EC_P256)
		HSM_ATTR(pub, np, CKA_EC_PARAMS, hsm_oid_p256, sizeof(hsm_oid_p256));
	else if (type == HSM_KEY_EC_P384)
		HSM_ATTR(pub, np, CKA_EC_PARAMS, hsm_oid_p384, sizeof(hsm_oid_p384));
	else {
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		HSM_ATTR(pub, np, CKA_MODULUS_BITS, &bits, sizeof(bits));
		HSM_ATTR(pub, np, CKA_PUBLIC_EXPONENT, e65537, sizeof(e65537));
	}
	/* Invariant 1: made inside, sensitive, never extractable; signs only. */
	HSM_ATTR(priv, nk, CKA_TOKEN, &yes, sizeof(yes));
	HSM_ATTR(priv, nk, CKA_PRIVATE, &yes, sizeof(yes));
	HSM_ATTR(priv, nk, CKA_SENSITIVE, &yes, sizeof(yes));
	HSM_ATTR(priv, nk, CKA_EXTRACTABLE, &no, sizeof(no));
	HSM_ATTR(priv, nk, CKA_SIGN, &yes, sizeof(yes));
	HSM_ATTR(priv, nk, CKA_DECRYPT, &no, sizeof(no));
	HSM_ATTR(priv, nk, CKA_UNWRAP, &no, sizeof(no));
	HSM_ATTR(priv, nk, CKA_DERIVE, &no, sizeof(no));
	HSM_ATTR(priv, nk, CKA_LABEL, label, strlen(label));
	HSM_ATTR(priv, nk, CKA_ID, id, HSM_ID_LEN);
	if ((rc = hsm_session(h, &s)) != 0)
		return rc;
	/* SoftHSM 2.6.1 (file store) is not safe for creating objects while
	 * another thread searches them (upstream #573/#576): exclusive. */
	pthread_rwlock_wrlock(&h->mod->obj_lock);
	rv = h->mod->fl->C_GenerateKeyPair(s, &mech, pub, np, priv, nk, &hpub, &hpriv);
	pthread_rwlock_unlock(&h->mod->obj_lock);
	hsm_session_close(h, s);
	return rv == CKR_OK ? 0 : hsm_ckr(h, "C_GenerateKeyPair", rv);
}

int
hsm_keygen(struct hsm *h, enum hsm_key_type type, const char *label,
    uint8_t id[HSM_ID_LEN])
{
	int rc;

	if (h == NULL || id == NULL || !hsm_key_label_ok(label))
		return hsm_fail(h, SB_EINVAL, "bad key label (1..%d printable bytes)",
		    HSM_LABEL_MAX);
	if (type != HSM_KEY_EC_P256 && type != HSM_KEY_EC_P384 &&
	    type != HSM_KEY_RSA_2048 && type != HSM_KEY_RSA_3072)
		return hsm_fail(h, SB_EINVAL, "unknown key type %d", (int)type);
	if (RAND_bytes(id, HSM_ID_LEN) != 1)
		return hsm_fail(h, SB_ECRYPTO, "no random bytes for the key id");
	if ((rc = hsm_enter(h, 1)) != 0)
		return rc;
	rc = hsm_keygen_locked(h, type, label, id);
	hsm_leave(h);
	if (rc == 0)
		log_info("hsm: generated %s key '%s'", hsm_key_type_name(type), label);
	return rc;
}

/* ---- describing ---------------------------------------------------------- */

static enum hsm_key_type
hsm_key_type_of(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
	uint8_t buf[HSM_ATTR_SMALL];
	CK_KEY_TYPE kt;
	size_t len, i = 0;

	if (hsm_attr(h, s, o, CKA_KEY_TYPE, &kt, sizeof(kt), &len) != 0)
		return HSM_KEY_UNKNOWN;
	if (kt == CKK_EC && hsm_attr(h, s, o, CKA_EC_PARAMS, buf, sizeof(buf), &len) == 0) {
		if (len == sizeof(hsm_oid_p256) && memcmp(buf, hsm_oid_p256, len) == 0)
			return HSM_KEY_EC_P256;
		if (len == sizeof(hsm_oid_p384) && memcmp(buf, hsm_oid_p384, len) == 0)
			return HSM_KEY_EC_P384;
	} else if (kt == CKK_RSA && hsm_attr(h, s, o, CKA_MODULUS, buf, sizeof(buf), &len) == 0) {
		while (i < len && buf[i] == 0)
			i++;
		if (len - i == 256 && (buf[i] & 0x80))
			return HSM_KEY_RSA_2048;
		if (len - i == 384 && (buf[i] & 0x80))
			return HSM_KEY_RSA_3072;
	}
	return HSM_KEY_UNKNOWN;
}

/* SB_ELIMIT when the object's CKA_ID is longer than HSM_ID_MAX. */
static int
hsm_key_describe(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    struct hsm_key_info *info)
{
	char label[HSM_ATTR_SMALL];
	CK_OBJECT_HANDLE cert;
	size_t len, n = 0;
	int rc;

	memset(info, 0, sizeof(*info));
	if ((rc = hsm_attr(h, s, o, CKA_ID, info->id, HSM_ID_MAX, &info->id_len)) != 0 &&
	    rc != SB_ENOTFOUND)
		return rc;
	rc = hsm_attr(h, s, o, CKA_LABEL, label, sizeof(label), &len);
	if (rc != 0 && rc != SB_ENOTFOUND && rc != SB_ELIMIT)
		return rc;
	if (rc == 0) {
		len = len > HSM_LABEL_MAX ? HSM_LABEL_MAX : len;
		memcpy(info->label, label, len);
		info->label[len] = '\0';
	}
	info->type = hsm_key_type_of(h, s, o);
	if (info->id_len > 0 && (rc = hsm_find(h, s, CKO_CERTIFICATE, info->id,
	    info->id_len, &cert, 1, &n)) != 0)
		return rc;
	info->has_cert = info->id_len > 0 && n > 0;
	return 0;
}

static int
hsm_key_list_locked(struct hsm *h, CK_SESSION_HANDLE s, struct hsm_key_info **keys,
    size_t *n)
{
	char why[HSM_ERR_MAX];
	CK_OBJECT_HANDLE *objs;
	size_t found = 0, k = 0;
	int rc;

	if ((objs = calloc(HSM_MAX_KEYS + 1, sizeof(*objs))) == NULL)
		return hsm_fail(h, SB_ENOMEM, "out of memory");
	rc = hsm_find(h, s, CKO_PRIVATE_KEY, NULL, 0, objs, HSM_MAX_KEYS + 1, &found);
	if (rc == 0 && found > HSM_MAX_KEYS)
		rc = hsm_fail(h, SB_ELIMIT, "the token holds more than %d keys", HSM_MAX_KEYS);
	if (rc == 0 && found == 0 && hsm_probe(h, why, sizeof(why)) != 0) {
		hsm_fault(h->mod, why);	/* SoftHSM finds nothing when failing */
		rc = hsm_fail(h, SB_EHSM, "HSM failing: %s", why);
	}
	if (rc == 0 && (*keys = calloc(found > 0 ? found : 1, sizeof(**keys))) == NULL)
		rc = hsm_fail(h, SB_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < found; i++) {
		rc = hsm_key_describe(h, s, objs[i], &(*keys)[k]);
		if (rc == SB_ELIMIT) {
			log_warn("hsm: token '%s': skipping a key whose CKA_ID is longer than %d",
			    h->tok->label, HSM_ID_MAX);
			rc = 0;
		} else if (rc == 0)
			k++;
	}
	free(objs);
	if (rc != 0) {
		free(*keys);
		*keys = NULL;
		return rc;
	}
	*n = k;
	return 0;
}

int
hsm_key_list(struct hsm *h, struct hsm_key_info **keys, size_t *n)
{
	CK_SESSION_HANDLE s;
	int rc;

	if (keys != NULL)
		*keys = NULL;
	if (n != NULL)
		*n = 0;
	if (h == NULL || keys == NULL || n == NULL)
		return hsm_fail(h, SB_EINVAL, "no handle or no output");
	if ((rc = hsm_enter(h, 1)) != 0)
		return rc;
	if ((rc = hsm_session(h, &s)) == 0) {
		rc = hsm_key_list_locked(h, s, keys, n);
		hsm_session_close(h, s);
	}
	hsm_leave(h);
	return rc;
}

int
hsm_key_find(struct hsm *h, const uint8_t *id, size_t id_len, struct hsm_key_info *info)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	int rc;

	if (h == NULL || !hsm_id_ok(id, id_len) || info == NULL)
		return hsm_fail(h, SB_EINVAL, "bad key id (1..%d bytes) or no output", HSM_ID_MAX);
	if ((rc = hsm_enter(h, 1)) != 0)
		return rc;
	if ((rc = hsm_session(h, &s)) == 0) {
		if ((rc = hsm_find_priv(h, s, id, id_len, &o)) == 0)
			rc = hsm_key_describe(h, s, o, info);
		hsm_session_close(h, s);
	}
	hsm_leave(h);
	return rc;
}

/* ---- public keys --------------------------------------------------------- */

static int
hsm_pub_fromdata(struct hsm *h, const char *alg, OSSL_PARAM_BLD *bld, EVP_PKEY **pub)
{
	OSSL_PARAM *p = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	int ok;

	ok = p != NULL && c != NULL && EVP_PKEY_fromdata_init(c) > 0 &&
	    EVP_PKEY_fromdata(c, pub, EVP_PKEY_PUBLIC_KEY, p) > 0;
	EVP_PKEY_CTX_free(c);
	OSSL_PARAM_free(p);
	ERR_clear_error();
	return ok ? 0 : hsm_fail(h, SB_ECRYPTO, "the token's %s public key is not valid", alg);
}

static int
hsm_pub_ec(struct hsm *h, const uint8_t *curve, size_t clen, const uint8_t *pt,
    size_t ptlen, EVP_PKEY **pub)
{
	const unsigned char *p = curve;
	ASN1_OBJECT *oid = d2i_ASN1_OBJECT(NULL, &p, (long)clen);
	ASN1_OCTET_STRING *os;
	OSSL_PARAM_BLD *bld;
	int nid = oid != NULL ? OBJ_obj2nid(oid) : NID_undef, rc;

	ASN1_OBJECT_free(oid);
	if (nid == NID_undef || p != curve + clen)
		return hsm_fail(h, SB_EUNSUPPORTED, "EC key on a curve given by parameters");
	/* CKA_EC_POINT is a DER OCTET STRING holding the point. */
	p = pt;
	if ((os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)ptlen)) == NULL || p != pt + ptlen) {
		ASN1_OCTET_STRING_free(os);
		ERR_clear_error();
		return hsm_fail(h, SB_ECRYPTO, "the token's EC point is not DER");
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, OBJ_nid2sn(nid), 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os)))
		rc = hsm_fail(h, SB_ENOMEM, "out of memory");
	else
		rc = hsm_pub_fromdata(h, "EC", bld, pub);
	OSSL_PARAM_BLD_free(bld);
	ASN1_OCTET_STRING_free(os);
	return rc;
}

static int
hsm_pub_rsa(struct hsm *h, const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen,
    EVP_PKEY **pub)
{
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	int rc;

	if (bn == NULL || be == NULL || bld == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		rc = hsm_fail(h, SB_ENOMEM, "out of memory");
	else
		rc = hsm_pub_fromdata(h, "RSA", bld, pub);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return rc;
}

/* The public half of private key object o, as a plain OpenSSL key that
 * outlives any reconnect. */
static int
hsm_pub_of(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, const uint8_t *id,
    size_t id_len, EVP_PKEY **pub)
{
	uint8_t a[HSM_ATTR_SMALL], b[HSM_ATTR_SMALL];
	CK_OBJECT_HANDLE po;
	CK_KEY_TYPE kt;
	size_t alen, blen, n;
	int rc;

	if ((rc = hsm_attr(h, s, o, CKA_KEY_TYPE, &kt, sizeof(kt), &alen)) != 0)
		return rc;
	if (kt == CKK_RSA) {
		if ((rc = hsm_attr(h, s, o, CKA_MODULUS, a, sizeof(a), &alen)) != 0 ||
		    (rc = hsm_attr(h, s, o, CKA_PUBLIC_EXPONENT, b, sizeof(b), &blen)) != 0)
			return rc;
		return hsm_pub_rsa(h, a, alen, b, blen, pub);
	}
	if (kt != CKK_EC)
		return hsm_fail(h, SB_EUNSUPPORTED, "key type 0x%lx", (unsigned long)kt);
	/* An EC private key does not carry its point: the public object does. */
	if ((rc = hsm_find(h, s, CKO_PUBLIC_KEY, id, id_len, &po, 1, &n)) != 0)
		return rc;
	if (n == 0)
		return hsm_notfound(h, "public key");
	if ((rc = hsm_attr(h, s, po, CKA_EC_PARAMS, a, sizeof(a), &alen)) != 0 ||
	    (rc = hsm_attr(h, s, po, CKA_EC_POINT, b, sizeof(b), &blen)) != 0)
		return rc;
	return hsm_pub_ec(h, a, alen, b, blen, pub);
}

int
hsm_key_public(struct hsm *h, const uint8_t *id, size_t id_len, EVP_PKEY **pub)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	int rc;

	if (pub != NULL)
		*pub = NULL;
	if (h == NULL || !hsm_id_ok(id, id_len) || pub == NULL)
		return hsm_fail(h, SB_EINVAL, "bad key id (1..%d bytes) or no output", HSM_ID_MAX);
	if ((rc = hsm_enter(h, 1)) != 0)
		return rc;
	if ((rc = hsm_session(h, &s)) == 0) {
		if ((rc = hsm_find_priv(h, s, id, id_len, &o)) == 0)
			rc = hsm_pub_of(h, s, o, id, id_len, pub);
		hsm_session_close(h, s);
	}
	hsm_leave(h);
	return rc;
}

/* ---- signing ------------------------------------------------------------- */

/* After EVP_PKEY_sign failed: HSM_RETRY when the key's handle went stale
 * while the token is fine, else our code. */
static int
hsm_sign_err(struct hsm *h)
{
	char text[HSM_ERR_MAX], why[HSM_ERR_MAX];
	CK_RV rv = hsm_p11_rv(text, sizeof(text));

	if (rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID) {
		if (hsm_probe(h, why, sizeof(why)) == 0)
			return HSM_RETRY;
		hsm_fmt(text, sizeof(text), "signing: %s (%s)", hsm_ckr_name(rv), why);
		hsm_fault(h->mod, text);
		return hsm_fail(h, SB_EHSM, "HSM failing: %s", text);
	}
	if (rv != 0)
		return hsm_ckr(h, "signing", rv);
	if (hsm_probe(h, why, sizeof(why)) != 0) {
		hsm_fault(h->mod, why);
		return hsm_fail(h, SB_EHSM, "HSM failing: %s", why);
	}
	return hsm_fail(h, SB_ECRYPTO, "signing failed: %s", text[0] ? text : "no detail");
}

static int
hsm_sign_pkey(struct hsm *h, EVP_PKEY *pk, const EVP_MD *md, const uint8_t *dgst,
    size_t dlen, uint8_t *sig, size_t *siglen)
{
	EVP_PKEY_CTX *c;
	size_t need = 0, out = *siglen;
	int rc = 0;

	ERR_clear_error();
	/* libp11's keys are "foreign" legacy keys: OpenSSL 3.0 signs them
	 * through their RSA_METHOD / EC_KEY_METHOD, i.e. C_Sign with
	 * CKM_RSA_PKCS over the DigestInfo, or CKM_ECDSA then DER. */
	if ((c = EVP_PKEY_CTX_new(pk, NULL)) == NULL || EVP_PKEY_sign_init(c) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(c, md) <= 0 ||
	    (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0) ||
	    EVP_PKEY_sign(c, NULL, &need, dgst, dlen) <= 0) {
		ERR_clear_error();
		rc = hsm_fail(h, SB_ECRYPTO, "cannot set up signing with this key and digest");
	} else if (need > *siglen)
		rc = hsm_fail(h, SB_ELIMIT, "signature needs %zu bytes, room for %zu", need, *siglen);
	else if (EVP_PKEY_sign(c, sig, &out, dgst, dlen) <= 0)
		rc = hsm_sign_err(h);
	else
		*siglen = out;
	EVP_PKEY_CTX_free(c);
	return rc;
}

int
hsm_sign(struct hsm *h, const uint8_t *id, size_t id_len, int md_nid,
    const uint8_t *dgst, size_t dlen, uint8_t *sig, size_t *siglen)
{
	const EVP_MD *md = ossl_sha2(md_nid);
	EVP_PKEY *pk;
	int rc;

	if (h == NULL || !hsm_id_ok(id, id_len) || dgst == NULL || sig == NULL || siglen == NULL)
		return hsm_fail(h, SB_EINVAL, "bad key id, digest or signature buffer");
	if (md == NULL || (size_t)EVP_MD_get_size(md) != dlen)
		return hsm_fail(h, SB_EINVAL, "digest of %zu bytes does not match the digest "
		    "algorithm (SHA-256/384/512 only)", dlen);
	if ((rc = hsm_enter(h, 1)) != 0)
		return rc;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = hsm_pkey(h, id, id_len, &pk)) != 0)
			break;
		rc = hsm_sign_pkey(h, pk, md, dgst, dlen, sig, siglen);
		EVP_PKEY_free(pk);
		if (rc != HSM_RETRY)
			break;
		/* The key was replaced or destroyed behind our back: look again. */
		hsm_cache_stale(h->tok, id, id_len);
	}
	if (rc == HSM_RETRY)
		rc = hsm_fail(h, SB_EHSM, "the key's handle keeps going stale");
	hsm_leave(h);
	return rc;
}

int
hsm_key_borrow(struct hsm *h, const uint8_t *id, size_t id_len, EVP_PKEY **priv)
{
	EVP_PKEY *pk;
	int rc;

	if (priv != NULL)
		*priv = NULL;
	if (h == NULL || !hsm_id_ok(id, id_len) || priv == NULL)
		return hsm_fail(h, SB_EINVAL, "bad key id (1..%d bytes) or no output", HSM_ID_MAX);
	if ((rc = hsm_enter(h, 1)) != 0)
		return rc;
	if ((rc = hsm_pkey(h, id, id_len, &pk)) != 0) {
		hsm_leave(h);
		return rc;
	}
	/* The cache keeps its own reference until a write lock frees it, and
	 * no write lock can be taken while we hold this read lock. */
	EVP_PKEY_free(pk);
	*priv = pk;
	return 0;		/* the read lock stays held until hsm_key_release */
}

void
hsm_key_release(struct hsm *h)
{
	if (h == NULL)
		return;
	if (hsm_held(h->mod) == 0) {
		log_err("hsm: hsm_key_release without a borrowed key");
		return;
	}
	hsm_leave(h);
}

/* ---- destroying ---------------------------------------------------------- */

static int
hsm_destroy_class(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
    const uint8_t *id, size_t id_len)
{
	CK_OBJECT_HANDLE objs[HSM_MAX_OBJS];
	size_t n;
	CK_RV rv;
	int rc;

	if ((rc = hsm_find(h, s, cls, id, id_len, objs, HSM_MAX_OBJS, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		pthread_rwlock_wrlock(&h->mod->obj_lock);
		rv = h->mod->fl->C_DestroyObject(s, objs[i]);
		pthread_rwlock_unlock(&h->mod->obj_lock);
		if (rv != CKR_OK)
			return hsm_ckr(h, "C_DestroyObject", rv);
	}
	return 0;
}

int
hsm_key_destroy(struct hsm *h, const uint8_t *id, size_t id_len)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	int rc;

	if (h == NULL || !hsm_id_ok(id, id_len))
		return hsm_fail(h, SB_EINVAL, "bad key id (1..%d bytes)", HSM_ID_MAX);
	/* Exclusive: a signer or a borrower may be using the cached key. */
	if ((rc = hsm_enter_excl(h, 1)) != 0)
		return rc;
	if ((rc = hsm_session(h, &s)) == 0) {
		if ((rc = hsm_find_priv(h, s, id, id_len, &o)) == 0) {
			hsm_cache_flush(h->tok, id, id_len);
			rc = hsm_destroy_class(h, s, CKO_PRIVATE_KEY, id, id_len);
			if (rc == 0)
				rc = hsm_destroy_class(h, s, CKO_PUBLIC_KEY, id, id_len);
			if (rc == 0)
				rc = hsm_destroy_class(h, s, CKO_CERTIFICATE, id, id_len);
		}
		hsm_session_close(h, s);
	}
	hsm_leave_excl(h);
	if (rc == 0)
		log_info("hsm: destroyed a key on token '%s'", h->tok->label);
	return rc;
}

/* ---- certificates -------------------------------------------------------- */

/* DER of the certificate and of the names PKCS#11 wants beside it. */
struct hsm_der {
	unsigned char *cert, *subject, *issuer, *serial;
	int cert_len, subject_len, issuer_len, serial_len;
};

static void
hsm_der_free(struct hsm_der *d)
{
	OPENSSL_free(d->cert);
	OPENSSL_free(d->subject);
	OPENSSL_free(d->issuer);
	OPENSSL_free(d->serial);
}

static int
hsm_der(X509 *cert, struct hsm_der *d)
{
	memset(d, 0, sizeof(*d));
	d->cert_len = i2d_X509(cert, &d->cert);
	d->subject_len = i2d_X509_NAME(X509_get_subject_name(cert), &d->subject);
	d->issuer_len = i2d_X509_NAME(X509_get_issuer_name(cert), &d->issuer);
	d->serial_len = i2d_ASN1_INTEGER(X509_get_serialNumber(cert), &d->serial);
	if (d->cert_len <= 0 || d->subject_len <= 0 || d->issuer_len <= 0 ||
	    d->serial_len <= 0 || d->cert_len > HSM_CERT_MAX) {
		hsm_der_free(d);
		ERR_clear_error();
		return SB_EINVAL;
	}
	return 0;
}

static int
hsm_cert_create(struct hsm *h, CK_SESSION_HANDLE s, const uint8_t *id, size_t id_len,
    const char *label, const struct hsm_der *d)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[10];
	CK_OBJECT_HANDLE o;
	CK_ULONG nt = 0;
	CK_RV rv;

	HSM_ATTR(t, nt, CKA_CLASS, &cls, sizeof(cls));
	HSM_ATTR(t, nt, CKA_CERTIFICATE_TYPE, &ct, sizeof(ct));
	HSM_ATTR(t, nt, CKA_TOKEN, &yes, sizeof(yes));
	HSM_ATTR(t, nt, CKA_PRIVATE, &no, sizeof(no));
	HSM_ATTR(t, nt, CKA_LABEL, label, strlen(label));
	HSM_ATTR(t, nt, CKA_ID, id, id_len);
	HSM_ATTR(t, nt, CKA_SUBJECT, d->subject, (CK_ULONG)d->subject_len);
	HSM_ATTR(t, nt, CKA_ISSUER, d->issuer, (CK_ULONG)d->issuer_len);
	HSM_ATTR(t, nt, CKA_SERIAL_NUMBER, d->serial, (CK_ULONG)d->serial_len);
	HSM_ATTR(t, nt, CKA_VALUE, d->cert, (CK_ULONG)d->cert_len);
	pthread_rwlock_wrlock(&h->mod->obj_lock);
	rv = h->mod->fl->C_CreateObject(s, t, nt, &o);
	pthread_rwlock_unlock(&h->mod->obj_lock);
	return rv == CKR_OK ? 0 : hsm_ckr(h, "C_CreateObject(certificate)", rv);
}

/* Under the read lock and mgmt_lock: create the new object first, then
 * destroy the old ones, so that a crash leaves at least one certificate. */
static int
hsm_cert_store_locked(struct hsm *h, CK_SESSION_HANDLE s, const uint8_t *id,
    size_t id_len, const char *label, X509 *cert, const struct hsm_der *d)
{
	CK_OBJECT_HANDLE o, old[HSM_MAX_OBJS];
	EVP_PKEY *pub = NULL;
	size_t nold;
	CK_RV rv;
	int rc;

	if ((rc = hsm_find_priv(h, s, id, id_len, &o)) != 0 ||
	    (rc = hsm_pub_of(h, s, o, id, id_len, &pub)) != 0)
		return rc;
	rc = EVP_PKEY_eq(pub, X509_get0_pubkey(cert)) == 1 ? 0 :
	    hsm_fail(h, SB_EINVAL, "the certificate is not for this key");
	EVP_PKEY_free(pub);
	ERR_clear_error();
	if (rc != 0 ||
	    (rc = hsm_find(h, s, CKO_CERTIFICATE, id, id_len, old, HSM_MAX_OBJS, &nold)) != 0 ||
	    (rc = hsm_cert_create(h, s, id, id_len, label, d)) != 0)
		return rc;
	for (size_t i = 0; i < nold; i++) {
		pthread_rwlock_wrlock(&h->mod->obj_lock);
		rv = h->mod->fl->C_DestroyObject(s, old[i]);
		pthread_rwlock_unlock(&h->mod->obj_lock);
		if (rv != CKR_OK)
			return hsm_ckr(h, "C_DestroyObject(old certificate)", rv);
	}
	return 0;
}

int
hsm_cert_store(struct hsm *h, const uint8_t *id, size_t id_len, const char *label,
    X509 *cert)
{
	CK_SESSION_HANDLE s;
	struct hsm_der d;
	int rc;

	if (h == NULL || !hsm_id_ok(id, id_len) || !hsm_key_label_ok(label) || cert == NULL)
		return hsm_fail(h, SB_EINVAL, "bad key id, label or certificate");
	if (hsm_der(cert, &d) != 0)
		return hsm_fail(h, SB_EINVAL, "certificate cannot be encoded or is over %d bytes",
		    HSM_CERT_MAX);
	if ((rc = hsm_enter(h, 1)) == 0) {
		pthread_mutex_lock(&h->mod->mgmt_lock);
		if ((rc = hsm_session(h, &s)) == 0) {
			rc = hsm_cert_store_locked(h, s, id, id_len, label, cert, &d);
			hsm_session_close(h, s);
		}
		pthread_mutex_unlock(&h->mod->mgmt_lock);
		hsm_leave(h);
	}
	hsm_der_free(&d);
	return rc;
}

static int
hsm_cert_read(struct hsm *h, CK_SESSION_HANDLE s, const uint8_t *id, size_t id_len,
    X509 **cert)
{
	CK_OBJECT_HANDLE o;
	const unsigned char *p;
	unsigned char *der;
	size_t n, len;
	int rc;

	if ((rc = hsm_find(h, s, CKO_CERTIFICATE, id, id_len, &o, 1, &n)) != 0)
		return rc;
	if (n == 0)
		return hsm_notfound(h, "certificate");
	if ((der = malloc(HSM_CERT_MAX)) == NULL)
		return hsm_fail(h, SB_ENOMEM, "out of memory");
	if ((rc = hsm_attr(h, s, o, CKA_VALUE, der, HSM_CERT_MAX, &len)) == 0) {
		p = der;
		if ((*cert = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
			X509_free(*cert);
			*cert = NULL;
			ERR_clear_error();
			rc = hsm_fail(h, SB_ECRYPTO, "the token's certificate is not valid DER");
		}
	}
	free(der);
	return rc;
}

int
hsm_cert_get(struct hsm *h, const uint8_t *id, size_t id_len, X509 **cert)
{
	CK_SESSION_HANDLE s;
	int rc;

	if (cert != NULL)
		*cert = NULL;
	if (h == NULL || !hsm_id_ok(id, id_len) || cert == NULL)
		return hsm_fail(h, SB_EINVAL, "bad key id (1..%d bytes) or no output", HSM_ID_MAX);
	if ((rc = hsm_enter(h, 1)) != 0)
		return rc;
	if ((rc = hsm_session(h, &s)) == 0) {
		rc = hsm_cert_read(h, s, id, id_len, cert);
		hsm_session_close(h, s);
	}
	hsm_leave(h);
	return rc;
}
