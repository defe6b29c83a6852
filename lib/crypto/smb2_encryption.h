/*
 * SMB 3.x encryption: the SMB2 TRANSFORM_HEADER ([MS-SMB2] 2.2.41) and
 * AES-CCM / AES-GCM sealing of a whole SMB2 message ([MS-SMB2] 3.1.4.3
 * encrypt, 3.3.5.2.1 decrypt on the server).
 *
 * Keys: pass Session.EncryptionKey (struct smb2_session_keys.encryption,
 * ServerOut) to smb2_encrypt and Session.DecryptionKey (.decryption,
 * ServerIn) to smb2_decrypt, with key_len = cipher_key_len.
 *
 * Both work in place and copy no payload; no allocation happens on the
 * common path (AES-GCM key schedules are cached per thread, AES-CCM runs
 * on the stack).  Safe to call from several threads at once.
 *
 * Sending:
 *	uint8_t tf[SMB2_TF_HDR_SIZE];
 *	status = smb2_encrypt(conn->cipher_id, keys.encryption,
 *			      keys.cipher_key_len, session_id, tf, iov, n);
 *	writev(fd, [nbt header, tf, iov...])
 *
 * Receiving (buf/len: the bytes after the 52-byte header; the caller has
 * checked that the PDU is longer than the header and looked up the
 * session by PULL_LE64(tf, SMB2_TF_SESSION_ID)):
 *	status = smb2_decrypt(conn->cipher_id, keys.decryption,
 *			      keys.cipher_key_len, tf, buf, len);
 *	if ok: buf now holds the plain SMB2 message (or compound chain)
 */
#ifndef LIB_CRYPTO_SMB2_ENCRYPTION_H
#define LIB_CRYPTO_SMB2_ENCRYPTION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lib/util/ntstatus.h"

#define SMB2_TF_HDR_SIZE 52
#define SMB2_TF_PROTOCOL_ID 0	   /* 0xFD 'S' 'M' 'B' */
#define SMB2_TF_SIGNATURE 4	   /* 16 bytes: the AEAD tag */
#define SMB2_TF_NONCE 20	   /* 16 bytes: 11 (CCM) or 12 (GCM) used */
#define SMB2_TF_ORIG_MSG_SIZE 36   /* uint32 */
#define SMB2_TF_FLAGS 42	   /* uint16: Flags (3.1.1) / EncryptionAlgorithm */
#define SMB2_TF_SESSION_ID 44	   /* uint64 */
#define SMB2_TF_FLAGS_ENCRYPTED 0x0001

/*
 * Encrypt the SMB2 message vec[0..count-1] (in place) and fill the 52-byte
 * transform header tf: ProtocolId, Signature (the AEAD tag), a fresh
 * random Nonce (11 bytes for CCM, 12 for GCM, the rest of the 16-byte field
 * zero), OriginalMessageSize, Flags = 0x0001 and SessionId.  The AEAD's
 * associated data is tf[20..52).
 *
 * cipher_id is 1..4 (SMB2_ENCRYPTION_*); key_len must be 16 for the
 * AES-128 ciphers and 32 for AES-256.  The message must be 64 bytes
 * (one SMB2 header) to 4 GiB - 1.  Returns NT_STATUS_INVALID_PARAMETER for
 * bad arguments, NT_STATUS_INTERNAL_ERROR if the crypto library fails (the
 * message is then in an undefined state and must not be sent).
 *
 * Random 96-bit GCM nonces stay safe for 2^32 messages per key
 * (SP800-38D 8.3); a caller that may exceed that should rekey or use
 * smb2_encrypt_with_nonce with a counter.
 */
NTSTATUS smb2_encrypt(uint16_t cipher_id, const uint8_t *key, size_t key_len,
		      uint64_t session_id, uint8_t tf[52], struct iovec *vec,
		      int count);

/*
 * As smb2_encrypt, with the caller's nonce: nonce_field is copied into the
 * header's 16-byte Nonce field as is (the cipher uses its first 11 or 12
 * bytes; the rest is still covered by the tag).  The caller guarantees it
 * never repeats for the key.  Used by known-answer tests and by callers
 * that keep a per-session nonce counter.
 */
NTSTATUS smb2_encrypt_with_nonce(uint16_t cipher_id, const uint8_t *key,
				 size_t key_len, uint64_t session_id,
				 const uint8_t nonce_field[16], uint8_t tf[52],
				 struct iovec *vec, int count);

/*
 * Decrypt in place.  buf holds the len bytes that follow the transform
 * header.  Checks ProtocolId, Flags == 0x0001, OriginalMessageSize == len
 * and len >= 64 (NT_STATUS_INVALID_PARAMETER if not, or for bad
 * cipher/key arguments), then the tag: NT_STATUS_ACCESS_DENIED if it does
 * not authenticate, and buf is then wiped (no unauthenticated plaintext
 * escapes).  The SessionId is the caller's to check.
 */
NTSTATUS smb2_decrypt(uint16_t cipher_id, const uint8_t *key, size_t key_len,
		      const uint8_t tf[52], uint8_t *buf, size_t len);

#endif
