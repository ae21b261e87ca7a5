/*
 * hsm_aes — a secret key of the appliance inside the token, for sealing small
 * records at rest with AES-256-GCM (today: the TOTP secrets of
 * daemon/monitor/mon_totp.c).
 *
 * The key is made in the token (C_GenerateKey, CKM_AES_KEY_GEN, 32 bytes)
 * with CKA_TOKEN, CKA_PRIVATE and CKA_SENSITIVE true, CKA_EXTRACTABLE false,
 * and may encrypt and decrypt only (no wrap, unwrap, derive or sign). Nothing
 * here reads its value: encryption and decryption run in the token
 * (CKM_AES_GCM through the module's own function list), so the key is usable
 * only while the token is logged in, i.e. while the appliance is unsealed,
 * and survives a re-share (which changes the PINs, not the token's objects).
 *
 * It is found by its CKA_ID and class CKO_SECRET_KEY: hsm_key_list (private
 * keys) never shows it. The calls need the token logged in and return what
 * hsm.h's calls return (SB_EHSM, SB_EHSM_NOLOGIN, SB_ENOMEM, SB_EINVAL for a
 * bad argument); hsm_error() says what failed.
 *
 * Threads: as hsm.h. hsm_aes_key_ensure is not atomic between threads (two
 * callers that both find no key both make one): call it from one thread, or
 * under the caller's own lock.
 */
#ifndef SB_HSM_AES_H
#define SB_HSM_AES_H

#include <stddef.h>
#include <stdint.h>

#include "hsm.h"

#define HSM_AES_IV_LEN 12	/* GCM nonce: 96 bits, chosen by the caller */
#define HSM_AES_TAG_LEN 16	/* GCM tag: 128 bits, after the ciphertext */
#define HSM_AES_DATA_MAX 4096	/* the most bytes sealed in one call */
#define HSM_AES_AAD_MAX 1024

/*
 * 0 when a secret AES key with this CKA_ID (1..HSM_ID_MAX bytes) is on the
 * token, after generating it (label: as for hsm_keygen) if there was none;
 * *made is set to 1 when it was generated now (made may be NULL).
 */
int hsm_aes_key_ensure(struct hsm *h, const uint8_t *id, size_t id_len, const char *label,
    int *made);

/*
 * AES-256-GCM encryption in the token under the key with this id: out gets
 * the ciphertext (len bytes) followed by the 16-byte tag; *outlen holds the
 * room in out on entry (SB_ELIMIT when less than len + HSM_AES_TAG_LEN) and
 * the length on return. iv must never repeat under one key: give 12 random
 * bytes. SB_ENOTFOUND when there is no such key; SB_ELIMIT when len is over
 * HSM_AES_DATA_MAX or aad_len over HSM_AES_AAD_MAX.
 */
int hsm_aes_gcm_seal(struct hsm *h, const uint8_t *id, size_t id_len,
    const uint8_t iv[HSM_AES_IV_LEN], const uint8_t *aad, size_t aad_len,
    const uint8_t *in, size_t len, uint8_t *out, size_t *outlen);

/*
 * The inverse: in is ciphertext and tag (len >= HSM_AES_TAG_LEN); out (the
 * caller's secret memory) gets len - HSM_AES_TAG_LEN bytes, *outlen as for
 * sealing. SB_ECRYPTO when the tag does not match (the data, the iv or the
 * aad were changed, or another key sealed them): out is wiped then.
 */
int hsm_aes_gcm_open(struct hsm *h, const uint8_t *id, size_t id_len,
    const uint8_t iv[HSM_AES_IV_LEN], const uint8_t *aad, size_t aad_len,
    const uint8_t *in, size_t len, uint8_t *out, size_t *outlen);

#endif
