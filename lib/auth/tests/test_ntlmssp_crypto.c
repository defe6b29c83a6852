/*
 * Known answers of [MS-NLMP] 4.2.4 (NTLMv2 authentication) and 4.2.4.4
 * (GSS_WrapEx with extended session security): User "User", domain
 * "Domain", password "Password", server challenge 0123456789abcdef,
 * client challenge aa*8, time 0, random session key 55*16.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/auth/ntlmssp_crypto.h"
#include "lib/auth/ntlmssp_wire.h"
#include "lib/crypto/nt_hash.h"

static const uint8_t user16[] = { 'U', 0, 's', 0, 'e', 0, 'r', 0 };
static const uint8_t domain16[] = { 'D', 0, 'o', 0, 'm', 0,
				    'a', 0, 'i', 0, 'n', 0 };
static const uint8_t server_challenge[8] = { 0x01, 0x23, 0x45, 0x67,
					     0x89, 0xab, 0xcd, 0xef };
static const uint8_t random_session_key[16] = {
	0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
	0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
};

/* 4.2.4.1.1 NTOWFv2() */
static const uint8_t expected_ntowfv2[16] = {
	0x0c, 0x86, 0x8a, 0x40, 0x3b, 0xfd, 0x7a, 0x93,
	0xa3, 0x00, 0x1e, 0xf2, 0x2e, 0xf0, 0x2e, 0x3f,
};
/* 4.2.4.2.2 NTLMv2 Response: NTProofStr */
static const uint8_t expected_proof[16] = {
	0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96,
	0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef, 0x6a, 0x1c,
};
/* 4.2.4.1.2 Session Base Key */
static const uint8_t expected_session_base_key[16] = {
	0x8d, 0xe4, 0x0c, 0xca, 0xdb, 0xc1, 0x4a, 0x82,
	0xf1, 0x5c, 0xb0, 0xad, 0x0d, 0xe9, 0x5c, 0xa3,
};
/* 4.2.4.2.3 Encrypted Session Key */
static const uint8_t expected_encrypted_session_key[16] = {
	0xc5, 0xda, 0xd2, 0x54, 0x4f, 0xc9, 0x79, 0x90,
	0x94, 0xce, 0x1c, 0xe9, 0x0b, 0xc9, 0xd0, 0x3e,
};
/* 4.2.4.2.1 LMv2 Response (first 16 bytes: HMAC over both challenges) */
static const uint8_t expected_lmv2[16] = {
	0x86, 0xc3, 0x50, 0x97, 0xac, 0x9c, 0xec, 0x10,
	0x25, 0x54, 0x76, 0x4a, 0x57, 0xcc, 0xcc, 0x19,
};

/* temp of 3.3.2 for the example: RespType 1, HiRespType 1, six zero
 * bytes, time 0, client challenge, four zero bytes, the server's AV
 * pairs (NbDomainName "Domain", NbComputerName "Server", EOL), four
 * zero bytes. */
static const uint8_t example_temp[] = {
	0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* time */
	0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, /* client chal */
	0x00, 0x00, 0x00, 0x00,				/* */
	0x02, 0x00, 0x0c, 0x00, 'D',  0,    'o',  0,    'm', 0, 'a', 0,
	'i',  0,    'n',  0,    0x01, 0x00, 0x0c, 0x00, 'S', 0, 'e', 0,
	'r',  0,    'v',  0,    'e',  0,    'r',  0,    0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00,
};

static void test_ntowfv2(void **state)
{
	uint8_t nt_hash[16], key[16];

	assert_true(nt_hash_from_password("Password", nt_hash));
	assert_true(ntlmssp_ntowfv2(nt_hash, user16, sizeof(user16), domain16,
				    sizeof(domain16), key));
	assert_memory_equal(key, expected_ntowfv2, 16);
}

static void test_ntowfv2_user_case_insensitive(void **state)
{
	static const uint8_t lower[] = { 'u', 0, 's', 0, 'E', 0, 'R', 0 };
	/* U+00FC (u with diaeresis) and its capital U+00DC */
	static const uint8_t small_umlaut[] = { 0xfc, 0x00, 'x', 0 };
	static const uint8_t capital_umlaut[] = { 0xdc, 0x00, 'X', 0 };
	uint8_t nt_hash[16], a[16], b[16];

	assert_true(nt_hash_from_password("Password", nt_hash));
	assert_true(ntlmssp_ntowfv2(nt_hash, lower, sizeof(lower), domain16,
				    sizeof(domain16), a));
	assert_memory_equal(a, expected_ntowfv2, 16);
	assert_true(ntlmssp_ntowfv2(nt_hash, small_umlaut,
				    sizeof(small_umlaut), NULL, 0, a));
	assert_true(ntlmssp_ntowfv2(nt_hash, capital_umlaut,
				    sizeof(capital_umlaut), NULL, 0, b));
	assert_memory_equal(a, b, 16);
	/* the domain is NOT upper-cased */
	assert_true(ntlmssp_ntowfv2(nt_hash, user16, sizeof(user16), lower,
				    sizeof(lower), a));
	assert_true(ntlmssp_ntowfv2(nt_hash, user16, sizeof(user16), user16,
				    sizeof(user16), b));
	assert_memory_not_equal(a, b, 16);
	/* odd UTF-16 lengths are refused */
	assert_false(ntlmssp_ntowfv2(nt_hash, user16, 3, NULL, 0, a));
}

static void test_nt_proof_and_keys(void **state)
{
	uint8_t proof[16], sbk[16], esk[16], back[16], lm[16];
	uint8_t both[16];

	assert_true(ntlmssp_nt_proof(expected_ntowfv2, server_challenge,
				     example_temp, sizeof(example_temp),
				     proof));
	assert_memory_equal(proof, expected_proof, 16);
	assert_true(ntlmssp_session_base_key(expected_ntowfv2, proof, sbk));
	assert_memory_equal(sbk, expected_session_base_key, 16);
	/* KEY_EXCH: RC4(KeyExchangeKey, RandomSessionKey), and back */
	assert_true(ntlmssp_rc4(sbk, random_session_key, 16, esk));
	assert_memory_equal(esk, expected_encrypted_session_key, 16);
	assert_true(ntlmssp_rc4(sbk, esk, 16, back));
	assert_memory_equal(back, random_session_key, 16);
	/* LMv2 = HMAC_MD5(ResponseKeyLM, ServerChallenge || ClientChallenge) */
	memcpy(both, server_challenge, 8);
	memset(both + 8, 0xaa, 8);
	assert_true(ntlmssp_hmac_md5_3(expected_ntowfv2, 16, both, 8,
				       both + 8, 8, NULL, 0, lm));
	assert_memory_equal(lm, expected_lmv2, 16);
}

/* 4.2.4.4: keys for the client-to-server direction, the HMAC checksum
 * and its RC4 encryption after the 18 sealed bytes of "Plaintext". */
static void test_sign_seal_keys_and_checksum(void **state)
{
	static const uint8_t expected_seal_key[16] = {
		0x59, 0xf6, 0x00, 0x97, 0x3c, 0xc4, 0x96, 0x0a,
		0x25, 0x48, 0x0a, 0x7c, 0x19, 0x6e, 0x4c, 0x58,
	};
	static const uint8_t expected_sign_key[16] = {
		0x47, 0x88, 0xdc, 0x86, 0x1b, 0x47, 0x82, 0xf3,
		0x5d, 0x43, 0xfd, 0x98, 0xfe, 0x1a, 0x2d, 0x39,
	};
	static const uint8_t plaintext[18] = { 'P', 0, 'l', 0, 'a', 0,
					       'i', 0, 'n', 0, 't', 0,
					       'e', 0, 'x', 0, 't', 0 };
	static const uint8_t expected_sealed[18] = {
		0x54, 0xe5, 0x01, 0x65, 0xbf, 0x19, 0x36, 0xdc, 0x99,
		0x60, 0x20, 0xc1, 0x81, 0x1b, 0x0f, 0x06, 0xfb, 0x5f,
	};
	static const uint8_t expected_checksum[8] = { 0x70, 0x35, 0x28, 0x51,
						      0xf2, 0x56, 0x43, 0x09 };
	static const uint8_t expected_sealed_checksum[8] = {
		0x7f, 0xb3, 0x8e, 0xc5, 0xc5, 0x5d, 0x49, 0x76
	};
	uint32_t flags = NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_56 |
			 NTLMSSP_NEGOTIATE_KEY_EXCH |
			 NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY;
	uint8_t seal_key[16], sign_key[16], other[16], sig[16];
	uint8_t stream_in[26], stream_out[26];

	assert_true(ntlmssp_seal_key(random_session_key, flags, true,
				     seal_key));
	assert_memory_equal(seal_key, expected_seal_key, 16);
	assert_true(ntlmssp_sign_key(random_session_key, true, sign_key));
	assert_memory_equal(sign_key, expected_sign_key, 16);
	assert_true(ntlmssp_sign_key(random_session_key, false, other));
	assert_memory_not_equal(other, sign_key, 16);

	/* unsealed checksum: no KEY_EXCH */
	assert_true(ntlmssp_make_signature(sign_key, NULL, 0, plaintext,
					   sizeof(plaintext), sig));
	assert_int_equal(sig[0], 1);
	assert_memory_equal(sig + 4, expected_checksum, 8);
	assert_memory_equal(sig + 12, "\0\0\0\0", 4);

	/* one RC4 stream: first the message, then the checksum */
	memcpy(stream_in, plaintext, 18);
	memcpy(stream_in + 18, expected_checksum, 8);
	assert_true(ntlmssp_rc4(seal_key, stream_in, 26, stream_out));
	assert_memory_equal(stream_out, expected_sealed, 18);
	assert_memory_equal(stream_out + 18, expected_sealed_checksum, 8);

	/* signing only (the mechListMIC case): the checksum is the first
	 * thing the stream encrypts */
	assert_true(ntlmssp_make_signature(sign_key, seal_key, 0, plaintext,
					   sizeof(plaintext), sig));
	assert_true(ntlmssp_rc4(seal_key, expected_checksum, 8, stream_out));
	assert_memory_equal(sig + 4, stream_out, 8);
}

static void test_weak_seal_keys_differ(void **state)
{
	uint8_t k128[16], k56[16], k40[16];

	assert_true(ntlmssp_seal_key(random_session_key, NTLMSSP_NEGOTIATE_128,
				     true, k128));
	assert_true(ntlmssp_seal_key(random_session_key, NTLMSSP_NEGOTIATE_56,
				     true, k56));
	assert_true(ntlmssp_seal_key(random_session_key, 0, true, k40));
	assert_memory_not_equal(k128, k56, 16);
	assert_memory_not_equal(k56, k40, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ntowfv2),
		cmocka_unit_test(test_ntowfv2_user_case_insensitive),
		cmocka_unit_test(test_nt_proof_and_keys),
		cmocka_unit_test(test_sign_seal_keys_and_checksum),
		cmocka_unit_test(test_weak_seal_keys_differ),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
