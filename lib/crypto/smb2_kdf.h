/*
 * SMB 3.x key derivation ([MS-SMB2] 3.1.4.2) and the per-session keys
 * derived from Session.SessionKey ([MS-SMB2] 3.3.5.5.3 server side,
 * 3.2.5.3.1 client side).
 */
#ifndef LIB_CRYPTO_SMB2_KDF_H
#define LIB_CRYPTO_SMB2_KDF_H

#include <stddef.h>
#include <stdint.h>

/*
 * SP800-108 KDF in counter mode with HMAC-SHA256 as PRF, r = 32 and
 * L = out_len * 8:  K(i) = HMAC(ki, [i]_32 || label || 0x00 || context ||
 * [L]_32).  label and context are used as given; the 0x00 between them is
 * SP800-108's separator, so the caller still includes the trailing NUL that
 * [MS-SMB2] puts in its labels ("SMB2AESCMAC\0", 12 bytes).  out_len may be
 * any size; 16 and 32 are what SMB uses.
 */
void smb2_kdf(const uint8_t *ki, size_t ki_len, const uint8_t *label,
	      size_t label_len, const uint8_t *context, size_t context_len,
	      uint8_t *out, size_t out_len);

/* SMB2 encryption cipher ids ([MS-SMB2] 2.2.3.1.2). */
#define SMB2_ENCRYPTION_AES128_CCM 0x0001
#define SMB2_ENCRYPTION_AES128_GCM 0x0002
#define SMB2_ENCRYPTION_AES256_CCM 0x0003
#define SMB2_ENCRYPTION_AES256_GCM 0x0004

struct smb2_session_keys {
	uint8_t signing[16];
	uint8_t application[16];
	uint8_t encryption[32]; /* ServerOut: server-to-client traffic */
	uint8_t decryption[32]; /* ServerIn: client-to-server traffic */
	size_t cipher_key_len;	/* bytes of encryption/decryption in use */
};

/*
 * Derive the session's signing, application and (for 3.x) cipher keys,
 * from the server's point of view.
 *
 * dialect: 0x0202, 0x0210, 0x0300, 0x0302 or 0x0311.
 * preauth_hash: the session's 64-byte preauth integrity hash, used (and
 *   required) only for 0x0311; NULL otherwise.
 * cipher_id: the connection's SMB2 encryption cipher (1..4), or 0.
 *
 *  - 2.0.2 / 2.1: signing = application = session_key, no cipher keys
 *    (cipher_key_len 0, the key arrays zeroed).
 *  - 3.0 / 3.0.2: labels "SMB2AESCMAC" / "SMB2APP" / "SMB2AESCCM" with
 *    constant contexts; the cipher is always AES-128-CCM, so 16-byte
 *    cipher keys whatever cipher_id says.
 *  - 3.1.1: labels "SMBSigningKey", "SMBAppKey", "SMBS2CCipherKey",
 *    "SMBC2SCipherKey" with preauth_hash as context; 32-byte cipher keys
 *    for AES-256-CCM/GCM, 16-byte for AES-128-*, none for cipher_id 0.
 *
 * An unknown dialect (or 3.1.1 with preauth_hash NULL) yields all-zero
 * keys with cipher_key_len 0; callers negotiate only the dialects above.
 * The caller should wipe *out when done with it.
 */
void smb2_derive_session_keys(uint16_t dialect, const uint8_t session_key[16],
			      const uint8_t preauth_hash[64],
			      uint16_t cipher_id,
			      struct smb2_session_keys *out);

#endif
