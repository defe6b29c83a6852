#include "lib/auth/ntlmssp_crypto.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "lib/auth/ntlmssp_wire.h"
#include "lib/util/byteorder.h"

/*
 * Upper-casing the user name for NTOWFv2.  Windows uses its own
 * case table; Unicode simple upper-case mappings of the BMP agree with
 * it for the names people use.  The C.UTF-8 locale object is created
 * once and never changed (read-only shared state); without it only
 * ASCII is mapped.
 */
static locale_t upper_locale = (locale_t)0;
static pthread_once_t upper_locale_once = PTHREAD_ONCE_INIT;

static void upper_locale_init(void)
{
	upper_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static uint16_t utf16_unit_upper(uint16_t c)
{
	if (c < 0x80) {
		return (c >= 'a' && c <= 'z') ? (uint16_t)(c - 0x20) : c;
	}
	/* Surrogate halves are left alone: astral letters have no case
	 * mapping Windows applies here. */
	if (c >= 0xd800 && c <= 0xdfff) {
		return c;
	}
	pthread_once(&upper_locale_once, upper_locale_init);
	if (upper_locale == (locale_t)0) {
		return c;
	}
	wint_t u = towupper_l((wint_t)c, upper_locale);
	return u <= 0xffff ? (uint16_t)u : c;
}

bool ntlmssp_hmac_md5_3(const uint8_t *key, size_t key_len,
			const uint8_t *a, size_t a_len, const uint8_t *b,
			size_t b_len, const uint8_t *c, size_t c_len,
			uint8_t out[16])
{
	gnutls_hmac_hd_t h;

	if (gnutls_hmac_init(&h, GNUTLS_MAC_MD5, key, key_len) != 0) {
		return false;
	}
	if ((a_len > 0 && gnutls_hmac(h, a, a_len) != 0) ||
	    (b_len > 0 && gnutls_hmac(h, b, b_len) != 0) ||
	    (c_len > 0 && gnutls_hmac(h, c, c_len) != 0)) {
		gnutls_hmac_deinit(h, NULL);
		return false;
	}
	gnutls_hmac_deinit(h, out);
	return true;
}

bool ntlmssp_ntowfv2(const uint8_t nt_hash[16], const uint8_t *user16,
		     size_t user16_len, const uint8_t *domain16,
		     size_t domain16_len, uint8_t response_key[16])
{
	uint8_t *upper;
	size_t i;
	bool ok;

	if (user16_len % 2 != 0 || domain16_len % 2 != 0) {
		return false;
	}
	upper = malloc(user16_len + 1);
	if (upper == NULL) {
		return false;
	}
	for (i = 0; i < user16_len; i += 2) {
		PUSH_LE16(upper, i, utf16_unit_upper(PULL_LE16(user16, i)));
	}
	ok = ntlmssp_hmac_md5_3(nt_hash, 16, upper, user16_len, domain16,
				domain16_len, NULL, 0, response_key);
	free(upper);
	return ok;
}

bool ntlmssp_nt_proof(const uint8_t response_key[16],
		      const uint8_t server_challenge[8], const uint8_t *temp,
		      size_t temp_len, uint8_t nt_proof[16])
{
	return ntlmssp_hmac_md5_3(response_key, 16, server_challenge, 8, temp,
				  temp_len, NULL, 0, nt_proof);
}

bool ntlmssp_session_base_key(const uint8_t response_key[16],
			      const uint8_t nt_proof[16],
			      uint8_t session_base_key[16])
{
	return ntlmssp_hmac_md5_3(response_key, 16, nt_proof, 16, NULL, 0,
				  NULL, 0, session_base_key);
}

bool ntlmssp_rc4(const uint8_t key[16], const uint8_t *in, size_t len,
		 uint8_t *out)
{
	gnutls_cipher_hd_t h;
	gnutls_datum_t k = { .data = (unsigned char *)key, .size = 16 };
	int rc;

	if (gnutls_cipher_init(&h, GNUTLS_CIPHER_ARCFOUR_128, &k, NULL) !=
	    0) {
		return false;
	}
	rc = gnutls_cipher_encrypt2(h, in, len, out, len);
	gnutls_cipher_deinit(h);
	return rc == 0;
}

/* The magic constants are hashed with their terminating NUL
 * ([MS-NLMP] 3.4.5.2). */
static bool md5_key_with_magic(const uint8_t *key, size_t key_len,
			       const char *magic, uint8_t out[16])
{
	gnutls_hash_hd_t h;

	if (gnutls_hash_init(&h, GNUTLS_DIG_MD5) != 0) {
		return false;
	}
	if (gnutls_hash(h, key, key_len) != 0 ||
	    gnutls_hash(h, magic, strlen(magic) + 1) != 0) {
		gnutls_hash_deinit(h, NULL);
		return false;
	}
	gnutls_hash_deinit(h, out);
	return true;
}

bool ntlmssp_sign_key(const uint8_t exported_session_key[16],
		      bool client_to_server, uint8_t sign_key[16])
{
	return md5_key_with_magic(
		exported_session_key, 16,
		client_to_server
			? "session key to client-to-server signing key magic constant"
			: "session key to server-to-client signing key magic constant",
		sign_key);
}

bool ntlmssp_seal_key(const uint8_t exported_session_key[16],
		      uint32_t negotiate_flags, bool client_to_server,
		      uint8_t seal_key[16])
{
	size_t key_len = 5; /* 40-bit */

	if (negotiate_flags & NTLMSSP_NEGOTIATE_128) {
		key_len = 16;
	} else if (negotiate_flags & NTLMSSP_NEGOTIATE_56) {
		key_len = 7;
	}
	return md5_key_with_magic(
		exported_session_key, key_len,
		client_to_server
			? "session key to client-to-server sealing key magic constant"
			: "session key to server-to-client sealing key magic constant",
		seal_key);
}

bool ntlmssp_make_signature(const uint8_t sign_key[16],
			    const uint8_t *seal_key, uint32_t seq_num,
			    const uint8_t *msg, size_t msg_len,
			    uint8_t signature[16])
{
	uint8_t seq[4];
	uint8_t digest[16];

	PUSH_LE32(seq, 0, seq_num);
	if (!ntlmssp_hmac_md5_3(sign_key, 16, seq, 4, msg, msg_len, NULL, 0,
				digest)) {
		return false;
	}
	PUSH_LE32(signature, 0, 1);
	if (seal_key != NULL) {
		if (!ntlmssp_rc4(seal_key, digest, 8, signature + 4)) {
			return false;
		}
	} else {
		memcpy(signature + 4, digest, 8);
	}
	PUSH_LE32(signature, 12, seq_num);
	return true;
}

bool ntlmssp_mem_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return gnutls_memcmp(a, b, len) == 0;
}
