#include "lib/crypto/smb2_kdf.h"

#include <gnutls/crypto.h>
#include <nettle/hmac.h>
#include <string.h>

#include "lib/util/byteorder.h"

void smb2_kdf(const uint8_t *ki, size_t ki_len, const uint8_t *label,
	      size_t label_len, const uint8_t *context, size_t context_len,
	      uint8_t *out, size_t out_len)
{
	static const uint8_t separator = 0;
	struct hmac_sha256_ctx keyed;
	struct hmac_sha256_ctx ctx;
	uint8_t block[SHA256_DIGEST_SIZE];
	uint8_t counter[4];
	uint8_t bits[4];
	uint32_t i = 1;
	size_t done = 0;

	/* [L]_32: the output length in bits; SMB asks for 128 or 256. */
	PUSH_BE32(bits, 0, (uint32_t)(out_len * 8));
	hmac_sha256_set_key(&keyed, ki_len, ki);
	while (done < out_len) {
		size_t n = out_len - done;

		if (n > sizeof(block)) {
			n = sizeof(block);
		}
		ctx = keyed;
		PUSH_BE32(counter, 0, i);
		hmac_sha256_update(&ctx, sizeof(counter), counter);
		hmac_sha256_update(&ctx, label_len, label);
		hmac_sha256_update(&ctx, 1, &separator);
		hmac_sha256_update(&ctx, context_len, context);
		hmac_sha256_update(&ctx, sizeof(bits), bits);
		hmac_sha256_digest(&ctx, sizeof(block), block);
		memcpy(out + done, block, n);
		done += n;
		i++;
	}
	gnutls_memset(&keyed, 0, sizeof(keyed));
	gnutls_memset(&ctx, 0, sizeof(ctx));
	gnutls_memset(block, 0, sizeof(block));
}

/* Labels and contexts of [MS-SMB2] 3.3.5.5.3; sizeof() keeps the NUL. */
#define KDF_STR(s) (const uint8_t *)(s), sizeof(s)

static void derive_30(const uint8_t session_key[16],
		      struct smb2_session_keys *out)
{
	smb2_kdf(session_key, 16, KDF_STR("SMB2AESCMAC"), KDF_STR("SmbSign"),
		 out->signing, 16);
	smb2_kdf(session_key, 16, KDF_STR("SMB2APP"), KDF_STR("SmbRpc"),
		 out->application, 16);
	/* 3.0.x knows only AES-128-CCM. */
	out->cipher_key_len = 16;
	smb2_kdf(session_key, 16, KDF_STR("SMB2AESCCM"), KDF_STR("ServerOut"),
		 out->encryption, 16);
	smb2_kdf(session_key, 16, KDF_STR("SMB2AESCCM"), KDF_STR("ServerIn "),
		 out->decryption, 16);
}

static void derive_311(const uint8_t session_key[16],
		       const uint8_t preauth_hash[64], uint16_t cipher_id,
		       struct smb2_session_keys *out)
{
	smb2_kdf(session_key, 16, KDF_STR("SMBSigningKey"), preauth_hash, 64,
		 out->signing, 16);
	smb2_kdf(session_key, 16, KDF_STR("SMBAppKey"), preauth_hash, 64,
		 out->application, 16);
	switch (cipher_id) {
	case SMB2_ENCRYPTION_AES128_CCM:
	case SMB2_ENCRYPTION_AES128_GCM:
		out->cipher_key_len = 16;
		break;
	case SMB2_ENCRYPTION_AES256_CCM:
	case SMB2_ENCRYPTION_AES256_GCM:
		out->cipher_key_len = 32;
		break;
	default:
		out->cipher_key_len = 0;
		return;
	}
	/* L is part of the KDF input, so a 256-bit key is not a 128-bit
	 * key extended: derive with the real length. */
	smb2_kdf(session_key, 16, KDF_STR("SMBS2CCipherKey"), preauth_hash, 64,
		 out->encryption, out->cipher_key_len);
	smb2_kdf(session_key, 16, KDF_STR("SMBC2SCipherKey"), preauth_hash, 64,
		 out->decryption, out->cipher_key_len);
}

void smb2_derive_session_keys(uint16_t dialect, const uint8_t session_key[16],
			      const uint8_t preauth_hash[64],
			      uint16_t cipher_id,
			      struct smb2_session_keys *out)
{
	memset(out, 0, sizeof(*out));
	switch (dialect) {
	case 0x0202:
	case 0x0210:
		/* [MS-SMB2] 3.3.5.5.3: 2.x signs with the session key
		 * itself, and applications get it unchanged too. */
		memcpy(out->signing, session_key, 16);
		memcpy(out->application, session_key, 16);
		break;
	case 0x0300:
	case 0x0302:
		derive_30(session_key, out);
		break;
	case 0x0311:
		if (preauth_hash != NULL) {
			derive_311(session_key, preauth_hash, cipher_id, out);
		}
		break;
	default:
		break;
	}
}
