/*
 * Known-answer tests for the SMB 3.x KDF, session key derivation and the
 * 3.1.1 preauth integrity hash.
 *
 * Published vectors (Microsoft Open Specifications blog):
 *  [ENC30] "Encryption in SMB 3.0: A protocol perspective" (2012-10-05)
 *  [ENC311] "SMB 3.1.1 Encryption in Windows 10" (2015-09-09)
 *  [PREAUTH] "SMB 3.1.1 Pre-authentication integrity in Windows 10"
 *	(2015-08-11)
 *  [ANATOMY] "SMB 2 and SMB 3 security in Windows 10: the anatomy of
 *	signing and cryptographic keys" (2017-05-26)
 * Vectors marked [PY] have no published source; they were computed
 * independently with Debian's python3 (hmac/hashlib), the same way as
 * the published ones above, which that script reproduces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/crypto/smb2_kdf.h"
#include "lib/crypto/smb2_preauth.h"
#include "lib/crypto/tests/test_hex.h"

static void assert_hex(const uint8_t *got, const char *want_hex)
{
	size_t len;
	uint8_t *want = test_hex(want_hex, &len);

	assert_memory_equal(got, want, len);
	free(want);
}

static void test_smb30_keys_enc30(void **state)
{
	/* [ENC30]: SessionKey, SigningKey, ApplicationKey, and the client's
	 * EncryptionKey (= ServerIn) / DecryptionKey (= ServerOut). */
	uint8_t *sk = test_hex("B4546771B515F766A86735532DD6C4F0", NULL);
	struct smb2_session_keys keys;
	uint16_t dialects[] = { 0x0300, 0x0302 };
	size_t i;

	for (i = 0; i < 2; i++) {
		/* 3.0.x always uses AES-128-CCM, whatever cipher_id says */
		smb2_derive_session_keys(dialects[i], sk, NULL, 0, &keys);
		assert_hex(keys.signing, "F773CD23C18FD1E08EE510CADA7CF852");
		assert_hex(keys.application,
			   "77432F808CE99156B5BC6A3676D730D1");
		assert_hex(keys.decryption,
			   "261B72350558F2E9DCF613070383EDBF");
		assert_hex(keys.encryption,
			   "8FE2B57EC34D2DB5B1A9727F526BBDB5");
		assert_int_equal(keys.cipher_key_len, 16);
	}
	free(sk);
}

static void test_smb30_signing_key_anatomy(void **state)
{
	/* [ANATOMY], dialect 3.0 */
	uint8_t *sk = test_hex("7CD451825D0450D235424E44BA6E78CC", NULL);
	struct smb2_session_keys keys;

	smb2_derive_session_keys(0x0300, sk, NULL, 0, &keys);
	assert_hex(keys.signing, "0B7E9C5CAC36C0F6EA9AB275298CEDCE");
	free(sk);
}

static const char *enc311_session_key = "419FDDF34C1E001909D362AE7FB6AF79";
static const char *enc311_preauth =
	"B23F3CBFD69487D9832B79B1594A367CDD950909B774C3A4C412B4FCEA9EDDDB"
	"A7DB256BA2EA30E977F11F9B113247578E0E915C6D2A513B8F2FCA5707DC8770";

static void test_smb311_keys_aes128(void **state)
{
	uint8_t *sk = test_hex(enc311_session_key, NULL);
	uint8_t *hash = test_hex(enc311_preauth, NULL);
	struct smb2_session_keys keys;
	uint16_t ciphers[] = { 1, 2 };
	size_t i;

	for (i = 0; i < 2; i++) {
		smb2_derive_session_keys(0x0311, sk, hash, ciphers[i], &keys);
		assert_int_equal(keys.cipher_key_len, 16);
		/* [ENC311]: client EncryptionKey = ServerIn, client
		 * DecryptionKey = ServerOut */
		assert_hex(keys.decryption,
			   "A2F5E80E5D59103034F32E52F698E5EC");
		assert_hex(keys.encryption,
			   "748C50868C90F302962A5C35F5F9A8BF");
		/* [PY] */
		assert_hex(keys.signing, "8765949DFEAEE105CE9118B45BE988F0");
		assert_hex(keys.application,
			   "099D610789FBE82055B313601C3E8CC4");
	}
	free(sk);
	free(hash);
}

static void test_smb311_keys_aes256(void **state)
{
	uint8_t *sk = test_hex(enc311_session_key, NULL);
	uint8_t *hash = test_hex(enc311_preauth, NULL);
	struct smb2_session_keys keys;
	uint16_t ciphers[] = { 3, 4 };
	size_t i;

	for (i = 0; i < 2; i++) {
		smb2_derive_session_keys(0x0311, sk, hash, ciphers[i], &keys);
		assert_int_equal(keys.cipher_key_len, 32);
		/* [PY]: L = 256 changes every byte, not just the length */
		assert_hex(keys.encryption,
			   "F8CAE3069FFCDC7662E2941207AF463614D520A1A204AAF6"
			   "B9EAD136DE931111");
		assert_hex(keys.decryption,
			   "CB61EB110446FBCAEB6A83BEEDB92779130B833A706E5B34"
			   "95879D52195B90ED");
		assert_hex(keys.signing, "8765949DFEAEE105CE9118B45BE988F0");
	}
	free(sk);
	free(hash);
}

static void test_smb311_no_cipher(void **state)
{
	uint8_t *sk = test_hex(enc311_session_key, NULL);
	uint8_t *hash = test_hex(enc311_preauth, NULL);
	uint8_t zero[32] = { 0 };
	struct smb2_session_keys keys;

	smb2_derive_session_keys(0x0311, sk, hash, 0, &keys);
	assert_int_equal(keys.cipher_key_len, 0);
	assert_memory_equal(keys.encryption, zero, 32);
	assert_memory_equal(keys.decryption, zero, 32);
	assert_hex(keys.signing, "8765949DFEAEE105CE9118B45BE988F0");

	/* 3.1.1 without a preauth hash cannot derive anything */
	smb2_derive_session_keys(0x0311, sk, NULL, 2, &keys);
	assert_int_equal(keys.cipher_key_len, 0);
	assert_memory_equal(keys.signing, zero, 16);
	free(sk);
	free(hash);
}

static void test_smb2x_keys(void **state)
{
	uint8_t *sk = test_hex("00112233445566778899AABBCCDDEEFF", NULL);
	uint8_t zero[32] = { 0 };
	struct smb2_session_keys keys;
	uint16_t dialects[] = { 0x0202, 0x0210 };
	size_t i;

	for (i = 0; i < 2; i++) {
		smb2_derive_session_keys(dialects[i], sk, NULL, 1, &keys);
		assert_memory_equal(keys.signing, sk, 16);
		assert_memory_equal(keys.application, sk, 16);
		assert_int_equal(keys.cipher_key_len, 0);
		assert_memory_equal(keys.encryption, zero, 32);
	}
	smb2_derive_session_keys(0x0301, sk, NULL, 1, &keys);
	assert_memory_equal(keys.signing, zero, 16);
	free(sk);
}

static void test_kdf_multi_block(void **state)
{
	/* [PY]: 40 bytes need two PRF blocks (counter 1 and 2) */
	uint8_t ki[16];
	uint8_t out[40];

	memset(ki, 1, sizeof(ki));
	smb2_kdf(ki, sizeof(ki), (const uint8_t *)"label", 6,
		 (const uint8_t *)"ctx", 3, out, sizeof(out));
	assert_hex(out, "639343B754862C834EDC25352C7992EF39ED410696CB1F76"
			"E6A3086B2F8BD7659B8A4A2DE4B809DB");
}

/* [PREAUTH]: the five messages of the exchange and the hash after each */
static const char *preauth_msgs[] = {
	/* NEGOTIATE request */
	"FE534D4240000100000000000000800000000000000000000100000000000000"
	"FFFE000000000000000000000000000000000000000000000000000000000000"
	"24000500000000003F000000ECD86F326276024F9F7752B89BB33F3A70000000"
	"020000000202100200030203110300000100260000000000010020000100FA49"
	"E6578F1F3A9F4CD3E9CC14A67AA884B3D05844E0E5A118225C15887F32FF0000"
	"0200060000000000020002000100",
	/* NEGOTIATE response */
	"FE534D4240000100000000000000010001000000000000000100000000000000"
	"FFFE000000000000000000000000000000000000000000000000000000000000"
	"410001001103020039CBCAF329714942BDCE5D60F09AB3FB2F00000000008000"
	"0000800000008000D8DAE5ADCBAED00109094AB095AED00180004001C0010000"
	"6082013C06062B0601050502A08201303082012CA01A3018060A2B0601040182"
	"3702021E060A2B06010401823702020AA282010C048201084E45474F45585453"
	"010000000000000060000000700000007C7CC0FD06D6362D02DDE1CF343BFE29"
	"2900F49750B4AA97934D9C4296B26E51FD370471B235E15A50DAE15BD5489C87"
	"0000000000000000600000000100000000000000000000005C33530DEAF90D4D"
	"B2EC4AE3786EC3084E45474F4558545303000000010000004000000098000000"
	"7C7CC0FD06D6362D02DDE1CF343BFE295C33530DEAF90D4DB2EC4AE3786EC308"
	"40000000580000003056A05430523027802530233121301F0603550403131854"
	"6F6B656E205369676E696E67205075626C6963204B6579302780253023312130"
	"1F06035504031318546F6B656E205369676E696E67205075626C6963204B6579"
	"010026000000000001002000010060A3C3B95C3C7CCD51EC536648D9B3AC74C4"
	"83CA5B65385A251117BEB30712E50000020004000000000001000200",
	/* SESSION_SETUP request 1 */
	"FE534D4240000100000000000100800000000000000000000200000000000000"
	"FFFE000000000000000000000000000000000000000000000000000000000000"
	"19000001010000000000000058004A000000000000000000604806062B060105"
	"0502A03E303CA00E300C060A2B06010401823702020AA22A04284E544C4D5353"
	"500001000000978208E200000000000000000000000000000000060380250000"
	"000F",
	/* SESSION_SETUP response 1 (MORE_PROCESSING_REQUIRED) */
	"FE534D4240000100160000C00100010001000000000000000200000000000000"
	"FFFE000000000000190000000010000000000000000000000000000000000000"
	"090000004800B300A181B03081ADA0030A0101A10C060A2B0601040182370202"
	"0AA281970481944E544C4D53535000020000000C000C003800000015828AE20D"
	"1D8BA31179D008000000000000000050005000440000000A0092270000000F53"
	"005500540033003100310002000C0053005500540033003100310001000C0053"
	"005500540033003100310004000C0053005500540033003100310003000C0053"
	"005500540033003100310007000800A1A1F5ADCBAED00100000000",
	/* SESSION_SETUP request 2 */
	"FE534D4240000100000000000100800000000000000000000300000000000000"
	"FFFE000000000000190000000010000000000000000000000000000000000000"
	"1900000101000000000000005800CF010000000000000000A18201CB308201C7"
	"A0030A0101A28201AA048201A64E544C4D535350000300000018001800900000"
	"00EE00EE00A80000000C000C00580000001A001A0064000000120012007E0000"
	"001000100096010000158288E2060380250000000FECAC77A5F385A8BF9C38C7"
	"06EEEDDCD3530055005400330031003100610064006D0069006E006900730074"
	"007200610074006F007200440052004900560045005200330031003100000000"
	"00000000000000000000000000000000000000000063078EB639FE03E20A231C"
	"3AE3BF23080101000000000000A1A1F5ADCBAED001BC4AD05F223CC90F000000"
	"0002000C0053005500540033003100310001000C005300550054003300310031"
	"0004000C0053005500540033003100310003000C005300550054003300310031"
	"0007000800A1A1F5ADCBAED00106000400020000000800300030000000000000"
	"000000000000300000B61FEFCAA857EA57BF1EDCEBF8974B8E0EBA5A6DFD9D07"
	"A31D11B548F8C9D0CC0A00100000000000000000000000000000000000090016"
	"0063006900660073002F005300550054003300310031000000000000000000"
	"000000003B9BDFF38F5EE8F9663F11A0F4C03A78A31204100100000063775A9A"
	"5FD97F0600000000",
};

static const char *preauth_hashes[] = {
	"DD94EFC5321BB618A2E208BA8920D2F422992526947A409B5037DE1E0FE8C736"
	"2B8C47122594CDE0CE26AA9DFC8BCDBDE0621957672623351A7540F1E54A0426",
	"324BFA92A4F3A190E466EBEA08D9C110DC88BFED758D9846ECC6F541CC1D02AE"
	"3C94A79F36011E997E13F841B91B50957AD07B19C8E2539C0B23FDAE09D2C513",
	"AC0B0F2B9986257700365E416D142A6EDC96DF03594A19E52A15F6BD0D041CD5"
	"D432F8ED42C55E33197A50C9EC00F1462B50C592211B1471A04B56088FDFD5F9",
	"2729E3440DFDDD839E37193F6E8F20C20CEFB3469E453A70CD980EEC06B88357"
	"40A73760085633364C8989895ECE81BF102DEEB14D4B7D48AFA76901A7A38387",
	"0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB79"
	"28622DDDAD522D9751640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01",
};

static void test_preauth_chain_and_signing_key(void **state)
{
	uint8_t hash[64] = { 0 };
	uint8_t split_hash[64] = { 0 };
	uint8_t *sk = test_hex("270E1BA896585EEB7AF3472D3B4C75A7", NULL);
	struct smb2_session_keys keys;
	size_t i;

	for (i = 0; i < 5; i++) {
		size_t len;
		uint8_t *msg = test_hex(preauth_msgs[i], &len);
		struct iovec whole = { msg, len };
		/* the same bytes cut into header, one byte, rest */
		struct iovec parts[3] = { { msg, 64 },
					  { msg + 64, 1 },
					  { msg + 65, len - 65 } };

		smb2_preauth_update(hash, &whole, 1);
		smb2_preauth_update(split_hash, parts, 3);
		assert_hex(hash, preauth_hashes[i]);
		assert_memory_equal(hash, split_hash, 64);
		free(msg);
	}
	/* [PREAUTH]: the session's signing key from the final hash */
	smb2_derive_session_keys(0x0311, sk, hash, 0, &keys);
	assert_hex(keys.signing, "73FE7A9A77BEF0BDE49C650D8CCB5F76");
	free(sk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smb30_keys_enc30),
		cmocka_unit_test(test_smb30_signing_key_anatomy),
		cmocka_unit_test(test_smb311_keys_aes128),
		cmocka_unit_test(test_smb311_keys_aes256),
		cmocka_unit_test(test_smb311_no_cipher),
		cmocka_unit_test(test_smb2x_keys),
		cmocka_unit_test(test_kdf_multi_block),
		cmocka_unit_test(test_preauth_chain_and_signing_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
