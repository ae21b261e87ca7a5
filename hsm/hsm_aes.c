/*
 * hsm_aes — AES-256-GCM under a secret key that never leaves the token (see
 * hsm_aes.h). Every call holds the connection's read lock (hsm_enter) for
 * its few PKCS#11 calls on a session of its own.
 */
#include <string.h>

#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/secret.h"
#include "hsm_aes.h"
#include "hsm_int.h"

#define AES_ATTR(t, n, typ, ptr, len) \
	do { (t)[n].type = (typ); (t)[n].pValue = (void *)(ptr); \
	    (t)[n].ulValueLen = (len); (n)++; } while (0)

static int
aes_args_ok(const uint8_t *id, size_t id_len)
{
	return id != NULL && id_len >= 1 && id_len <= HSM_ID_MAX;
}

/* The secret key with this id; SB_ENOTFOUND when there is none. */
static int
aes_find(struct hsm *h, CK_SESSION_HANDLE s, const uint8_t *id, size_t id_len,
    CK_OBJECT_HANDLE *o)
{
	CK_OBJECT_HANDLE objs[2];
	size_t n;
	int rc;

	if ((rc = hsm_find(h, s, CKO_SECRET_KEY, id, id_len, objs, 2, &n)) != 0)
		return rc;
	if (n == 0)
		return hsm_fail(h, SB_ENOTFOUND, "no secret key with this id on the token");
	*o = objs[0];
	return 0;
}

static int
aes_generate(struct hsm *h, CK_SESSION_HANDLE s, const uint8_t *id, size_t id_len,
    const char *label)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG bytes = 32, n = 0;
	CK_KEY_TYPE kt = CKK_AES;
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_MECHANISM mech = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ATTRIBUTE t[16];
	CK_OBJECT_HANDLE o;
	CK_RV rv;

	AES_ATTR(t, n, CKA_CLASS, &cls, sizeof(cls));
	AES_ATTR(t, n, CKA_KEY_TYPE, &kt, sizeof(kt));
	AES_ATTR(t, n, CKA_VALUE_LEN, &bytes, sizeof(bytes));
	AES_ATTR(t, n, CKA_TOKEN, &yes, sizeof(yes));
	AES_ATTR(t, n, CKA_PRIVATE, &yes, sizeof(yes));
	AES_ATTR(t, n, CKA_SENSITIVE, &yes, sizeof(yes));
	AES_ATTR(t, n, CKA_EXTRACTABLE, &no, sizeof(no));
	AES_ATTR(t, n, CKA_ENCRYPT, &yes, sizeof(yes));
	AES_ATTR(t, n, CKA_DECRYPT, &yes, sizeof(yes));
	AES_ATTR(t, n, CKA_WRAP, &no, sizeof(no));
	AES_ATTR(t, n, CKA_UNWRAP, &no, sizeof(no));
	AES_ATTR(t, n, CKA_DERIVE, &no, sizeof(no));
	AES_ATTR(t, n, CKA_SIGN, &no, sizeof(no));
	AES_ATTR(t, n, CKA_LABEL, label, strlen(label));
	AES_ATTR(t, n, CKA_ID, id, id_len);
	pthread_rwlock_wrlock(&h->mod->obj_lock);	/* see hsm_keygen_locked */
	rv = h->mod->fl->C_GenerateKey(s, &mech, t, n, &o);
	pthread_rwlock_unlock(&h->mod->obj_lock);
	return rv == CKR_OK ? 0 : hsm_ckr(h, "C_GenerateKey", rv);
}

int
hsm_aes_key_ensure(struct hsm *h, const uint8_t *id, size_t id_len, const char *label,
    int *made)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	size_t ll = label ? strlen(label) : 0;
	int rc;

	if (made != NULL)
		*made = 0;
	if (h == NULL || !aes_args_ok(id, id_len) || ll == 0 || ll > HSM_LABEL_MAX)
		return hsm_fail(h, SB_EINVAL, "bad secret key id or label");
	if ((rc = hsm_enter(h, 1)) != 0)
		return rc;
	if ((rc = hsm_session(h, &s)) == 0) {
		rc = aes_find(h, s, id, id_len, &o);
		if (rc == SB_ENOTFOUND && (rc = aes_generate(h, s, id, id_len, label)) == 0 &&
		    made != NULL)
			*made = 1;
		hsm_session_close(h, s);
	}
	hsm_leave(h);
	if (rc == 0 && made != NULL && *made)
		log_info("hsm: generated AES-256 secret key '%s'", label);
	return rc;
}

/*
 * SoftHSM 2.6 answers a GCM tag mismatch with CKR_GENERAL_ERROR, which
 * hsm_ckr takes for a broken token (and reconnects). When the session still
 * answers, the token is fine and it was the data: 1 then.
 */
static int
aes_session_ok(struct hsm *h, CK_SESSION_HANDLE s)
{
	CK_SESSION_INFO si;

	return h->mod->fl->C_GetSessionInfo(s, &si) == CKR_OK;
}

/* One single-part GCM operation; enc 1 to encrypt, 0 to decrypt. */
static int
aes_gcm(struct hsm *h, int enc, const uint8_t *id, size_t id_len, const uint8_t *iv,
    const uint8_t *aad, size_t alen, const uint8_t *in, size_t len, uint8_t *out,
    CK_ULONG *outlen)
{
	CK_GCM_PARAMS gp;
	CK_MECHANISM mech = { CKM_AES_GCM, &gp, sizeof(gp) };
	CK_FUNCTION_LIST_PTR fl = h->mod->fl;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	CK_RV rv;
	int rc;

	memset(&gp, 0, sizeof(gp));
	gp.pIv = (CK_BYTE_PTR)iv;
	gp.ulIvLen = HSM_AES_IV_LEN;
	gp.ulIvBits = HSM_AES_IV_LEN * 8;
	gp.pAAD = (CK_BYTE_PTR)aad;
	gp.ulAADLen = alen;
	gp.ulTagBits = HSM_AES_TAG_LEN * 8;
	if ((rc = hsm_enter(h, 1)) != 0)
		return rc;
	if ((rc = hsm_session(h, &s)) != 0) {
		hsm_leave(h);
		return rc;
	}
	if ((rc = aes_find(h, s, id, id_len, &o)) == 0) {
		rv = enc ? fl->C_EncryptInit(s, &mech, o) : fl->C_DecryptInit(s, &mech, o);
		if (rv == CKR_OK)
			rv = enc ? fl->C_Encrypt(s, (CK_BYTE_PTR)in, len, out, outlen) :
			    fl->C_Decrypt(s, (CK_BYTE_PTR)in, len, out, outlen);
		if (rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE ||
		    (!enc && rv == CKR_FUNCTION_FAILED) || (!enc && rv == CKR_GENERAL_ERROR &&
		    aes_session_ok(h, s)))
			rc = hsm_fail(h, SB_ECRYPTO, "AES-GCM: the sealed data do not "
			    "authenticate (%s)", hsm_ckr_name(rv));
		else if (rv != CKR_OK)
			rc = hsm_ckr(h, enc ? "C_Encrypt" : "C_Decrypt", rv);
	}
	hsm_session_close(h, s);
	hsm_leave(h);
	return rc;
}

int
hsm_aes_gcm_seal(struct hsm *h, const uint8_t *id, size_t id_len,
    const uint8_t iv[HSM_AES_IV_LEN], const uint8_t *aad, size_t alen,
    const uint8_t *in, size_t len, uint8_t *out, size_t *outlen)
{
	CK_ULONG n;
	int rc;

	if (h == NULL || !aes_args_ok(id, id_len) || iv == NULL || (aad == NULL && alen) ||
	    in == NULL || out == NULL || outlen == NULL)
		return hsm_fail(h, SB_EINVAL, "AES-GCM: bad argument");
	if (len > HSM_AES_DATA_MAX || alen > HSM_AES_AAD_MAX ||
	    *outlen < len + HSM_AES_TAG_LEN)
		return hsm_fail(h, SB_ELIMIT, "AES-GCM: data, aad or room out of bounds");
	n = (CK_ULONG)*outlen;
	if ((rc = aes_gcm(h, 1, id, id_len, iv, aad, alen, in, len, out, &n)) != 0)
		return rc;
	if (n != len + HSM_AES_TAG_LEN)
		return hsm_fail(h, SB_EHSM, "AES-GCM: the token returned %lu bytes, not %zu",
		    (unsigned long)n, len + HSM_AES_TAG_LEN);
	*outlen = (size_t)n;
	return 0;
}

int
hsm_aes_gcm_open(struct hsm *h, const uint8_t *id, size_t id_len,
    const uint8_t iv[HSM_AES_IV_LEN], const uint8_t *aad, size_t alen,
    const uint8_t *in, size_t len, uint8_t *out, size_t *outlen)
{
	uint8_t *tmp;
	CK_ULONG n;
	int rc;

	if (h == NULL || !aes_args_ok(id, id_len) || iv == NULL || (aad == NULL && alen) ||
	    in == NULL || out == NULL || outlen == NULL)
		return hsm_fail(h, SB_EINVAL, "AES-GCM: bad argument");
	if (len < HSM_AES_TAG_LEN)
		return hsm_fail(h, SB_ECRYPTO, "AES-GCM: sealed data shorter than a tag");
	if (len > HSM_AES_DATA_MAX + HSM_AES_TAG_LEN || alen > HSM_AES_AAD_MAX ||
	    *outlen < len - HSM_AES_TAG_LEN)
		return hsm_fail(h, SB_ELIMIT, "AES-GCM: data, aad or room out of bounds");
	/* Room for what a module may claim before it strips the tag; secret. */
	if ((tmp = secret_alloc(len)) == NULL)
		return SB_ENOMEM;
	n = (CK_ULONG)len;
	rc = aes_gcm(h, 0, id, id_len, iv, aad, alen, in, len, tmp, &n);
	if (rc == 0 && n != len - HSM_AES_TAG_LEN)
		rc = hsm_fail(h, SB_ECRYPTO, "AES-GCM: the token returned %lu bytes, not %zu",
		    (unsigned long)n, len - HSM_AES_TAG_LEN);
	if (rc == 0) {
		memcpy(out, tmp, n);
		*outlen = (size_t)n;
	} else
		secret_wipe(out, *outlen);
	secret_free(&tmp);
	return rc;
}
