/*
 * NTLMv2 arithmetic ([MS-NLMP] 3.3.2, 3.4.4, 3.4.5): response keys,
 * proofs, session keys, and the message signature SPNEGO's mechListMIC
 * uses.  Pure functions over byte arrays: no allocation, no state, so
 * each is checked against the known answers of [MS-NLMP] 4.2.4.
 *
 * Internal to lib/auth.
 */
#ifndef LIB_AUTH_NTLMSSP_CRYPTO_H
#define LIB_AUTH_NTLMSSP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NTOWFv2 = HMAC_MD5(NT hash, UTF-16LE(UPPER(user) || domain)).
 * user and domain are UTF-16LE as they came off the wire (any length,
 * user is upper-cased here).  false if the crypto library fails. */
bool ntlmssp_ntowfv2(const uint8_t nt_hash[16], const uint8_t *user16,
		     size_t user16_len, const uint8_t *domain16,
		     size_t domain16_len, uint8_t response_key[16]);

/* NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge || temp), where
 * temp is the NTLMv2_CLIENT_CHALLENGE (the NT response after its first
 * 16 bytes). */
bool ntlmssp_nt_proof(const uint8_t response_key[16],
		      const uint8_t server_challenge[8], const uint8_t *temp,
		      size_t temp_len, uint8_t nt_proof[16]);

/* SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr); for NTLMv2 it is
 * also the KeyExchangeKey ([MS-NLMP] 3.4.5.1). */
bool ntlmssp_session_base_key(const uint8_t response_key[16],
			      const uint8_t nt_proof[16],
			      uint8_t session_base_key[16]);

/* One-shot RC4 of len bytes with a 16-byte key (a fresh key stream):
 * decrypts EncryptedRandomSessionKey, and serves the test client to
 * produce it. */
bool ntlmssp_rc4(const uint8_t key[16], const uint8_t *in, size_t len,
		 uint8_t *out);

/* HMAC_MD5 of the concatenation of up to three buffers (NULL/0 ones are
 * skipped); the MIC of [MS-NLMP] 3.1.5.1.2 is over three messages. */
bool ntlmssp_hmac_md5_3(const uint8_t *key, size_t key_len,
			const uint8_t *a, size_t a_len, const uint8_t *b,
			size_t b_len, const uint8_t *c, size_t c_len,
			uint8_t out[16]);

/* SIGNKEY and SEALKEY with extended session security ([MS-NLMP] 3.4.5.2,
 * 3.4.5.3).  negotiate_flags decides the sealing key strength
 * (NTLMSSP_NEGOTIATE_128 / _56). */
bool ntlmssp_sign_key(const uint8_t exported_session_key[16],
		      bool client_to_server, uint8_t sign_key[16]);
bool ntlmssp_seal_key(const uint8_t exported_session_key[16],
		      uint32_t negotiate_flags, bool client_to_server,
		      uint8_t seal_key[16]);

/*
 * The 16-byte NTLMSSP_MESSAGE_SIGNATURE with extended session security
 * ([MS-NLMP] 3.4.4.2): Version 1, HMAC_MD5(SignKey, SeqNum || msg)[0..7]
 * RC4-encrypted with SealKey when seal_key is not NULL (KEY_EXCH was
 * negotiated), SeqNum.  The RC4 stream starts fresh: right for the one
 * message SPNEGO signs per direction (the mechListMIC, sequence 0), not
 * for a long-lived signing context.
 */
bool ntlmssp_make_signature(const uint8_t sign_key[16],
			    const uint8_t *seal_key, uint32_t seq_num,
			    const uint8_t *msg, size_t msg_len,
			    uint8_t signature[16]);

/* Constant-time comparison of secrets. */
bool ntlmssp_mem_equal(const uint8_t *a, const uint8_t *b, size_t len);

#endif
