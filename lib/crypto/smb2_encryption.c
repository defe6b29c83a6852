/*
 * SMB 3.x message sealing.  AES-GCM goes through gnutls (its iovec AEAD
 * interface works in place and uses AES-NI/PCLMUL); AES-CCM through
 * nettle's incremental CCM, because gnutls' iovec path for CCM copies the
 * whole message into a temporary buffer and back.
 */
#include "lib/crypto/smb2_encryption.h"

#include <gnutls/crypto.h>
#include <nettle/aes.h>
#include <nettle/ccm.h>
#include <nettle/memops.h>
#include <stdbool.h>
#include <string.h>

#include "lib/crypto/gcm_handle_cache.h"
#include "lib/crypto/smb2_kdf.h"
#include "lib/util/byteorder.h"

#define TF_AAD_OFS SMB2_TF_NONCE
#define TF_AAD_LEN (SMB2_TF_HDR_SIZE - SMB2_TF_NONCE) /* 32 */
#define TAG_LEN 16
#define CCM_NONCE_LEN 11
#define GCM_NONCE_LEN 12
#define SMB2_MIN_MSG 64 /* one SMB2 header */

struct seal_cipher {
	bool gcm;
	size_t key_len;
	size_t nonce_len;
	gnutls_cipher_algorithm_t gnutls_alg; /* GCM only */
};

static bool seal_cipher_lookup(uint16_t cipher_id, const uint8_t *key,
			       size_t key_len, struct seal_cipher *c)
{
	switch (cipher_id) {
	case SMB2_ENCRYPTION_AES128_CCM:
		*c = (struct seal_cipher){ false, 16, CCM_NONCE_LEN, 0 };
		break;
	case SMB2_ENCRYPTION_AES128_GCM:
		*c = (struct seal_cipher){ true, 16, GCM_NONCE_LEN,
					   GNUTLS_CIPHER_AES_128_GCM };
		break;
	case SMB2_ENCRYPTION_AES256_CCM:
		*c = (struct seal_cipher){ false, 32, CCM_NONCE_LEN, 0 };
		break;
	case SMB2_ENCRYPTION_AES256_GCM:
		*c = (struct seal_cipher){ true, 32, GCM_NONCE_LEN,
					   GNUTLS_CIPHER_AES_256_GCM };
		break;
	default:
		return false;
	}
	return key != NULL && key_len == c->key_len;
}

/* nettle's generic CCM over AES-128 or AES-256, key schedule on the stack */
struct ccm_state {
	union {
		struct aes128_ctx aes128;
		struct aes256_ctx aes256;
	} aes;
	nettle_cipher_func *encrypt_block;
	struct ccm_ctx ccm;
};

static void ccm_state_init(struct ccm_state *s, const uint8_t *key,
			   size_t key_len, const uint8_t *nonce,
			   const uint8_t *aad, size_t msg_len)
{
	if (key_len == 32) {
		aes256_set_encrypt_key(&s->aes.aes256, key);
		s->encrypt_block = (nettle_cipher_func *)aes256_encrypt;
	} else {
		aes128_set_encrypt_key(&s->aes.aes128, key);
		s->encrypt_block = (nettle_cipher_func *)aes128_encrypt;
	}
	ccm_set_nonce(&s->ccm, &s->aes, s->encrypt_block, CCM_NONCE_LEN, nonce,
		      TF_AAD_LEN, msg_len, TAG_LEN);
	ccm_update(&s->ccm, &s->aes, s->encrypt_block, TF_AAD_LEN, aad);
}

/*
 * nettle's ccm_encrypt wants every call but the last to be a whole number
 * of AES blocks, and iovecs can split a block anywhere.  Bytes of a block
 * that straddles iovecs are gathered (with where they came from), sealed
 * together and scattered back; everything else is sealed in place.
 */
struct ccm_scatter {
	uint8_t block[AES_BLOCK_SIZE];
	uint8_t *origin[AES_BLOCK_SIZE];
	size_t used;
};

static void ccm_scatter_flush(struct ccm_state *s, struct ccm_scatter *sc)
{
	size_t i;

	ccm_encrypt(&s->ccm, &s->aes, s->encrypt_block, sc->used, sc->block,
		    sc->block);
	for (i = 0; i < sc->used; i++) {
		*sc->origin[i] = sc->block[i];
	}
	sc->used = 0;
}

static void ccm_encrypt_iov(struct ccm_state *s, struct iovec *vec, int count)
{
	struct ccm_scatter sc = { .used = 0 };
	int i;

	for (i = 0; i < count; i++) {
		uint8_t *p = vec[i].iov_base;
		size_t n = vec[i].iov_len;
		size_t whole;

		while (sc.used > 0 && n > 0) {
			sc.origin[sc.used] = p;
			sc.block[sc.used++] = *p++;
			n--;
			if (sc.used == AES_BLOCK_SIZE) {
				ccm_scatter_flush(s, &sc);
			}
		}
		whole = n - n % AES_BLOCK_SIZE;
		if (whole > 0) {
			ccm_encrypt(&s->ccm, &s->aes, s->encrypt_block, whole,
				    p, p);
			p += whole;
			n -= whole;
		}
		while (n > 0) {
			sc.origin[sc.used] = p;
			sc.block[sc.used++] = *p++;
			n--;
		}
	}
	if (sc.used > 0) {
		ccm_scatter_flush(s, &sc);
	}
	gnutls_memset(&sc, 0, sizeof(sc));
}

NTSTATUS smb2_encrypt_with_nonce(uint16_t cipher_id, const uint8_t *key,
				 size_t key_len, uint64_t session_id,
				 const uint8_t nonce_field[16], uint8_t tf[52],
				 struct iovec *vec, int count)
{
	struct seal_cipher c;
	size_t total = 0;
	int i;

	if (!seal_cipher_lookup(cipher_id, key, key_len, &c) || tf == NULL ||
	    nonce_field == NULL || vec == NULL || count < 1) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	for (i = 0; i < count; i++) {
		if (vec[i].iov_base == NULL && vec[i].iov_len != 0) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		if (vec[i].iov_len > UINT32_MAX - total) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		total += vec[i].iov_len;
	}
	if (total < SMB2_MIN_MSG) {
		return NT_STATUS_INVALID_PARAMETER;
	}

	memset(tf, 0, SMB2_TF_HDR_SIZE);
	PUSH_LE32(tf, SMB2_TF_PROTOCOL_ID, 0x424d53fd);
	memcpy(tf + SMB2_TF_NONCE, nonce_field, 16);
	PUSH_LE32(tf, SMB2_TF_ORIG_MSG_SIZE, (uint32_t)total);
	PUSH_LE16(tf, SMB2_TF_FLAGS, SMB2_TF_FLAGS_ENCRYPTED);
	PUSH_LE64(tf, SMB2_TF_SESSION_ID, session_id);

	if (c.gcm) {
		gnutls_aead_cipher_hd_t hd;
		giovec_t aad = { .iov_base = tf + TF_AAD_OFS,
				 .iov_len = TF_AAD_LEN };
		size_t tag_len = TAG_LEN;

		hd = gcm_handle_get(c.gnutls_alg, key, key_len);
		if (hd == NULL) {
			return NT_STATUS_INTERNAL_ERROR;
		}
		if (gnutls_aead_cipher_encryptv2(hd, tf + SMB2_TF_NONCE,
						 c.nonce_len, &aad, 1, vec,
						 count, tf + SMB2_TF_SIGNATURE,
						 &tag_len) < 0 ||
		    tag_len != TAG_LEN) {
			return NT_STATUS_INTERNAL_ERROR;
		}
	} else {
		struct ccm_state s;

		ccm_state_init(&s, key, key_len, tf + SMB2_TF_NONCE,
			       tf + TF_AAD_OFS, total);
		ccm_encrypt_iov(&s, vec, count);
		ccm_digest(&s.ccm, &s.aes, s.encrypt_block, TAG_LEN,
			   tf + SMB2_TF_SIGNATURE);
		gnutls_memset(&s, 0, sizeof(s));
	}
	return NT_STATUS_OK;
}

NTSTATUS smb2_encrypt(uint16_t cipher_id, const uint8_t *key, size_t key_len,
		      uint64_t session_id, uint8_t tf[52], struct iovec *vec,
		      int count)
{
	struct seal_cipher c;
	uint8_t nonce_field[16] = { 0 };

	if (!seal_cipher_lookup(cipher_id, key, key_len, &c)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* [MS-SMB2] 2.2.41: the rest of the Nonce field is reserved, zero */
	if (gnutls_rnd(GNUTLS_RND_NONCE, nonce_field, c.nonce_len) != 0) {
		return NT_STATUS_INTERNAL_ERROR;
	}
	return smb2_encrypt_with_nonce(cipher_id, key, key_len, session_id,
				       nonce_field, tf, vec, count);
}

NTSTATUS smb2_decrypt(uint16_t cipher_id, const uint8_t *key, size_t key_len,
		      const uint8_t tf[52], uint8_t *buf, size_t len)
{
	struct seal_cipher c;
	bool authentic;

	if (!seal_cipher_lookup(cipher_id, key, key_len, &c) || tf == NULL ||
	    buf == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* [MS-SMB2] 3.3.5.2.1.1: a header we cannot use means disconnect */
	if (PULL_LE32(tf, SMB2_TF_PROTOCOL_ID) != 0x424d53fd ||
	    PULL_LE16(tf, SMB2_TF_FLAGS) != SMB2_TF_FLAGS_ENCRYPTED ||
	    len < SMB2_MIN_MSG || len > UINT32_MAX ||
	    PULL_LE32(tf, SMB2_TF_ORIG_MSG_SIZE) != len) {
		return NT_STATUS_INVALID_PARAMETER;
	}

	if (c.gcm) {
		gnutls_aead_cipher_hd_t hd;
		giovec_t aad = { .iov_base = (void *)(tf + TF_AAD_OFS),
				 .iov_len = TF_AAD_LEN };
		giovec_t data = { .iov_base = buf, .iov_len = len };
		int ret;

		hd = gcm_handle_get(c.gnutls_alg, key, key_len);
		if (hd == NULL) {
			return NT_STATUS_INTERNAL_ERROR;
		}
		ret = gnutls_aead_cipher_decryptv2(
			hd, tf + SMB2_TF_NONCE, c.nonce_len, &aad, 1, &data, 1,
			(void *)(tf + SMB2_TF_SIGNATURE), TAG_LEN);
		if (ret < 0 && ret != GNUTLS_E_DECRYPTION_FAILED) {
			gnutls_memset(buf, 0, len);
			return NT_STATUS_INTERNAL_ERROR;
		}
		authentic = (ret >= 0);
	} else {
		struct ccm_state s;
		uint8_t tag[TAG_LEN];

		ccm_state_init(&s, key, key_len, tf + SMB2_TF_NONCE,
			       tf + TF_AAD_OFS, len);
		ccm_decrypt(&s.ccm, &s.aes, s.encrypt_block, len, buf, buf);
		ccm_digest(&s.ccm, &s.aes, s.encrypt_block, TAG_LEN, tag);
		authentic = memeql_sec(tag, tf + SMB2_TF_SIGNATURE, TAG_LEN);
		gnutls_memset(&s, 0, sizeof(s));
	}
	if (!authentic) {
		gnutls_memset(buf, 0, len);
		return NT_STATUS_ACCESS_DENIED;
	}
	return NT_STATUS_OK;
}
