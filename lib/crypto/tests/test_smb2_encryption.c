/*
 * Tests for SMB 3.x encryption (TRANSFORM_HEADER, AES-CCM/GCM).
 *
 * Published vectors (Microsoft Open Specifications blog):
 *  [ENC30] "Encryption in SMB 3.0: A protocol perspective" (2012-10-05):
 *	AES-128-CCM, a WRITE request sealed by the client and a WRITE
 *	response sealed by the server.
 *  [ENC311] "SMB 3.1.1 Encryption in Windows 10" (2015-09-09): the same
 *	with AES-128-GCM.
 * AES-256 has no published SMB vector; [PY] values were computed with
 * Debian's python3-cryptography (OpenSSL AESCCM/AESGCM) using the [ENC311]
 * message and nonce and the 256-bit key derived from the [ENC311] session
 * (see test_smb2_keys.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/crypto/smb2_encryption.h"
#include "lib/crypto/smb2_kdf.h"
#include "lib/crypto/tests/test_hex.h"
#include "lib/util/byteorder.h"

/* [ENC30] */
static const char *enc30_write_plain =
	"FE534D4240000100000000000900400008000000000000000400000000000000"
	"FFFE0000010000001100001400E4080000000000000000000000000000000000"
	"3100700017000000000000000000000015010000390000020100000039020000"
	"00000000000000007000000000000000536D623320656E6372797074696F6E20"
	"74657374696E67";
static const char *enc30_write_sealed =
	"FD534D4281A286535415445DAE393921E44FA42E66E69A111892584FB5ED524A"
	"744DA3EE87000000000001001100001400E4080025C8FEE16605A437832D1CD5"
	"2DA9F4645333482A175FE5384563F45FCDAFAEF38BC62BA4D5C62897996625A4"
	"4C29BE5658DE2E6117585779E7B59FFD971278D08580D7FA899E410E910EABF5"
	"AA1DB43050B33B49182637759AC15D84BFCDF5B6B238993C0F4CF4D6012023F6"
	"C627297075D84B7803912D0A9639634453595EF3E33FFE4E7AC2AB";
static const char *enc30_c2s_key = "261B72350558F2E9DCF613070383EDBF";
static const char *enc30_s2c_key = "8FE2B57EC34D2DB5B1A9727F526BBDB5";
static const char *enc30_response_sealed =
	"FD534D42A6015530A18F6D9AFFE22AFAE8E66484860000000000000011000014"
	"00E4080050000000000001001100001400E40800DBF46435C5F14169293CE079"
	"E344479BF670227E49873F458672C3098DAC467DD5809F369D67409166515787"
	"1483E01F7BECD02064EAC3E235F913668BBC2F097980D4B378F1993EFF6E60D1"
	"77309E5B";
static const char *enc30_response_plain =
	"FE534D4240000100000000000900210009000000000000000400000000000000"
	"FFFE0000010000001100001400E4080000000000000000000000000000000000"
	"11000000170000000000000000000000";

/* [ENC311] */
static const char *enc311_write_plain =
	"FE534D4240000100000000000900010008000000000000000500000000000000"
	"FFFE000001000000250000000010000000000000000000000000000000000000"
	"3100700017000000000000000000000006000000040000000100000004000000"
	"00000000000000007000000000000000536D623320656E6372797074696F6E20"
	"74657374696E67";
static const char *enc311_write_sealed =
	"FD534D42BD73D97D2BC9001BCAFAC0FDFF5FEEBCC7D6822D269CAF48904C664C"
	"00000000870000000000010025000000001000006ECDD2A7AFC7B47763057A04"
	"1B8FD4DAFFE990B70C9E09D36C084E02D14EF247F8BDE38ACF6256F8B1D3B56F"
	"77FBDEB312FEA5E92CBCC1ED8FB2EBBFAA75E49A4A394BB44576545567C24D4C"
	"014D47C9FBDFDAFD2C4F9B72F8D256452620A299F48E29E53D6B61D1C13A19E9"
	"1AF013F00D17E3ABC2FC3D36C8C1B6B93973253852DBD442E46EE8";
static const char *enc311_c2s_key = "A2F5E80E5D59103034F32E52F698E5EC";
static const char *enc311_s2c_key = "748C50868C90F302962A5C35F5F9A8BF";
static const char *enc311_response_sealed =
	"FD534D42ACBE1CB7ED343ADF1725EF144D90D4B0E06831DD2E8EB7B400000000"
	"0000000050000000000001002500000000100000"
	"26BBBF949983A6C1C796559D0F2C510CB651D1F7B6AC8DED32A2A0B8F2D793A8"
	"15C6F6B848D69767A215841A42D400AE6DDB5F0B44173A014973321FDD7950DA"
	"6179159B82E03C9E18A050FF0EA1C967";
static const char *enc311_response_plain =
	"FE534D4240000100000000000900010001000000000000000500000000000000"
	"FFFE000001000000250000000010000000000000000000000000000000000000"
	"11000000170000000000000000000000";

/* [PY] AES-256, key = 3.1.1 ServerOut key with L = 256 */
static const char *aes256_key =
	"F8CAE3069FFCDC7662E2941207AF463614D520A1A204AAF6B9EAD136DE931111";
static const char *ccm256_tag = "433C43B0057967FAFC24B0A14969D92C";
static const char *ccm256_cipher =
	"D68769ABADF71E4EF80ECE3D0FACD40282F4877CADB59D2A01D1A2932C1B626D"
	"E988EACB8B3F1E713662351C0FD32054D49A137A8C6C05754823F3B074EB37DA"
	"7CF4B71F7A108A63DD03BC8F716D7266BBE0B65DFC62A3ED141A2F4A95D3DAE9"
	"EB477AE042D8213EFEB3504063A0B381425D443BE030E0A9F526327C742F89F0"
	"0A69DF41A17F58";
static const char *gcm256_tag = "E7734C2E087AC9C6F601E946DD8CF01C";
static const char *gcm256_cipher =
	"CD157299119D2654A3A84FC81CE4F049BAABEB95D40FE1366F974462E70BD931"
	"AF0E2EC9FD13B6392B6B67DEBDECACAFEF7B3BF4489FA99B48303EFFBF00E41F"
	"267F6B5FC13A761A04DD6F72EF5860639897D448CEC55D56B6DC94571F0288C1"
	"8120ACB217861620525F0E439D1895C945B2C6B793B168156E3D86C281441FC3"
	"D569737B8AC71D";

/* Seal plain_hex with a fixed nonce, expect sealed_hex (header + data),
 * then open it again with the same key. */
static void seal_known(uint16_t cipher, const char *key_hex, uint64_t sid,
		       const char *nonce_hex, const char *plain_hex,
		       const uint8_t *want_tf, const uint8_t *want_data)
{
	size_t key_len, len, nonce_len;
	uint8_t *key = test_hex(key_hex, &key_len);
	uint8_t *msg = test_hex(plain_hex, &len);
	uint8_t *plain = test_hex(plain_hex, NULL);
	uint8_t *nonce = test_hex(nonce_hex, &nonce_len);
	uint8_t tf[SMB2_TF_HDR_SIZE];
	struct iovec iov[2] = { { msg, 64 }, { msg + 64, len - 64 } };

	assert_int_equal(nonce_len, 16);
	assert_true(NT_STATUS_IS_OK(smb2_encrypt_with_nonce(
		cipher, key, key_len, sid, nonce, tf, iov, 2)));
	assert_memory_equal(tf, want_tf, SMB2_TF_HDR_SIZE);
	assert_memory_equal(msg, want_data, len);

	assert_true(NT_STATUS_IS_OK(
		smb2_decrypt(cipher, key, key_len, tf, msg, len)));
	assert_memory_equal(msg, plain, len);
	free(key);
	free(msg);
	free(plain);
	free(nonce);
}

static void test_enc30_ccm_seal(void **state)
{
	size_t len;
	uint8_t *sealed = test_hex(enc30_write_sealed, &len);

	/* the Windows client put non-zero bytes in the unused 5 bytes of the
	 * Nonce field; they are authenticated all the same */
	seal_known(SMB2_ENCRYPTION_AES128_CCM, enc30_c2s_key, 0x8e40014000011,
		   "66E69A111892584FB5ED524A744DA3EE", enc30_write_plain,
		   sealed, sealed + SMB2_TF_HDR_SIZE);
	free(sealed);
}

static void test_enc311_gcm_seal(void **state)
{
	size_t len;
	uint8_t *sealed = test_hex(enc311_write_sealed, &len);

	seal_known(SMB2_ENCRYPTION_AES128_GCM, enc311_c2s_key, 0x100000000025,
		   "C7D6822D269CAF48904C664C00000000", enc311_write_plain,
		   sealed, sealed + SMB2_TF_HDR_SIZE);
	free(sealed);
}

static void open_known(uint16_t cipher, const char *key_hex,
		       const char *sealed_hex, const char *plain_hex)
{
	size_t key_len, len, plain_len;
	uint8_t *key = test_hex(key_hex, &key_len);
	uint8_t *sealed = test_hex(sealed_hex, &len);
	uint8_t *plain = test_hex(plain_hex, &plain_len);

	assert_int_equal(len - SMB2_TF_HDR_SIZE, plain_len);
	assert_true(NT_STATUS_IS_OK(smb2_decrypt(cipher, key, key_len, sealed,
						 sealed + SMB2_TF_HDR_SIZE,
						 plain_len)));
	assert_memory_equal(sealed + SMB2_TF_HDR_SIZE, plain, plain_len);
	free(key);
	free(sealed);
	free(plain);
}

static void test_enc30_ccm_open(void **state)
{
	open_known(SMB2_ENCRYPTION_AES128_CCM, enc30_s2c_key,
		   enc30_response_sealed, enc30_response_plain);
}

static void test_enc311_gcm_open(void **state)
{
	open_known(SMB2_ENCRYPTION_AES128_GCM, enc311_s2c_key,
		   enc311_response_sealed, enc311_response_plain);
}

static void test_aes256(void **state)
{
	struct {
		uint16_t cipher;
		const char *nonce;
		const char *tag;
		const char *data;
	} cases[] = {
		{ SMB2_ENCRYPTION_AES256_CCM,
		  "C7D6822D269CAF48904C660000000000", ccm256_tag,
		  ccm256_cipher },
		{ SMB2_ENCRYPTION_AES256_GCM,
		  "C7D6822D269CAF48904C664C00000000", gcm256_tag,
		  gcm256_cipher },
	};
	size_t i;

	for (i = 0; i < 2; i++) {
		uint8_t tf[SMB2_TF_HDR_SIZE] = { 0 };
		uint8_t *nonce = test_hex(cases[i].nonce, NULL);
		uint8_t *tag = test_hex(cases[i].tag, NULL);
		uint8_t *data = test_hex(cases[i].data, NULL);

		PUSH_LE32(tf, 0, 0x424d53fd);
		memcpy(tf + 4, tag, 16);
		memcpy(tf + 20, nonce, 16);
		PUSH_LE32(tf, 36, 0x87);
		PUSH_LE16(tf, 42, 1);
		PUSH_LE64(tf, 44, 0x100000000025);
		seal_known(cases[i].cipher, aes256_key, 0x100000000025,
			   cases[i].nonce, enc311_write_plain, tf, data);
		free(nonce);
		free(tag);
		free(data);
	}
}

static const uint16_t all_ciphers[] = {
	SMB2_ENCRYPTION_AES128_CCM, SMB2_ENCRYPTION_AES128_GCM,
	SMB2_ENCRYPTION_AES256_CCM, SMB2_ENCRYPTION_AES256_GCM
};

static size_t key_len_of(uint16_t cipher)
{
	return cipher >= SMB2_ENCRYPTION_AES256_CCM ? 32 : 16;
}

static size_t nonce_len_of(uint16_t cipher)
{
	return (cipher == SMB2_ENCRYPTION_AES128_GCM ||
		cipher == SMB2_ENCRYPTION_AES256_GCM)
		       ? 12
		       : 11;
}

static void fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		p[i] = (uint8_t)(i * 131 + seed + (i >> 8));
	}
}

/* Random nonces, a message of 100000 bytes cut at awkward places
 * (1, 15, 17, 33 bytes, then the rest: no iovec is block aligned). */
static void test_round_trip_random_nonce(void **state)
{
	const size_t len = 100000;
	uint8_t *orig = malloc(len);
	uint8_t *msg = malloc(len);
	uint8_t key[32];
	size_t i;

	fill_pattern(orig, len, 7);
	fill_pattern(key, sizeof(key), 99);
	for (i = 0; i < 4; i++) {
		uint16_t cipher = all_ciphers[i];
		size_t nlen = nonce_len_of(cipher);
		uint8_t tf[SMB2_TF_HDR_SIZE], tf2[SMB2_TF_HDR_SIZE];
		uint8_t zero[16] = { 0 };
		struct iovec iov[6] = {
			{ msg, 64 },	     { msg + 64, 1 },
			{ msg + 65, 15 },    { msg + 80, 17 },
			{ msg + 97, 33 },    { msg + 130, len - 130 },
		};

		memcpy(msg, orig, len);
		assert_true(NT_STATUS_IS_OK(smb2_encrypt(
			cipher, key, key_len_of(cipher), 0x1122334455667788,
			tf, iov, 6)));
		assert_int_equal(PULL_LE32(tf, 0), 0x424d53fd);
		assert_int_equal(PULL_LE32(tf, 36), len);
		assert_int_equal(PULL_LE16(tf, 40), 0);
		assert_int_equal(PULL_LE16(tf, 42), 1);
		assert_true(PULL_LE64(tf, 44) == 0x1122334455667788);
		/* reserved tail of the Nonce field stays zero */
		assert_memory_equal(tf + 20 + nlen, zero, 16 - nlen);
		assert_memory_not_equal(msg, orig, len);

		assert_true(NT_STATUS_IS_OK(smb2_decrypt(
			cipher, key, key_len_of(cipher), tf, msg, len)));
		assert_memory_equal(msg, orig, len);

		/* a second message gets another nonce */
		assert_true(NT_STATUS_IS_OK(smb2_encrypt(
			cipher, key, key_len_of(cipher), 1, tf2, iov, 6)));
		assert_memory_not_equal(tf + 20, tf2 + 20, nlen);
	}
	free(orig);
	free(msg);
}

/* One byte per iovec must seal exactly like one contiguous buffer. */
static void test_scattered_equals_contiguous(void **state)
{
	const size_t len = 200;
	uint8_t a[200], b[200];
	uint8_t tfa[SMB2_TF_HDR_SIZE], tfb[SMB2_TF_HDR_SIZE];
	uint8_t key[32], nonce[16];
	struct iovec one = { a, len };
	struct iovec bytes[200];
	size_t i, c;

	fill_pattern(key, sizeof(key), 3);
	fill_pattern(nonce, sizeof(nonce), 5);
	for (i = 0; i < len; i++) {
		bytes[i] = (struct iovec){ b + i, 1 };
	}
	for (c = 0; c < 4; c++) {
		uint16_t cipher = all_ciphers[c];

		fill_pattern(a, len, 11);
		memcpy(b, a, len);
		assert_true(NT_STATUS_IS_OK(smb2_encrypt_with_nonce(
			cipher, key, key_len_of(cipher), 5, nonce, tfa, &one,
			1)));
		assert_true(NT_STATUS_IS_OK(smb2_encrypt_with_nonce(
			cipher, key, key_len_of(cipher), 5, nonce, tfb, bytes,
			(int)len)));
		assert_memory_equal(tfa, tfb, SMB2_TF_HDR_SIZE);
		assert_memory_equal(a, b, len);
	}
}

static int is_all_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != 0) {
			return 0;
		}
	}
	return 1;
}

/* Every bit of the data, the tag and the authenticated header fields
 * matters; a failed open leaves no plaintext behind. */
static void test_tampering_detected(void **state)
{
	const size_t len = 96;
	uint8_t sealed[96], work[96];
	uint8_t tf[SMB2_TF_HDR_SIZE], bad_tf[SMB2_TF_HDR_SIZE];
	uint8_t key[32];
	struct iovec iov = { sealed, len };
	size_t c, i, bit;

	fill_pattern(key, sizeof(key), 1);
	for (c = 0; c < 4; c++) {
		uint16_t cipher = all_ciphers[c];
		size_t klen = key_len_of(cipher);

		fill_pattern(sealed, len, 2);
		assert_true(NT_STATUS_IS_OK(smb2_encrypt(cipher, key, klen, 9,
							 tf, &iov, 1)));
		for (i = 0; i < len; i++) {
			for (bit = 0; bit < 8; bit++) {
				memcpy(work, sealed, len);
				work[i] ^= (uint8_t)(1u << bit);
				assert_true(NT_STATUS_EQUAL(
					smb2_decrypt(cipher, key, klen, tf,
						     work, len),
					NT_STATUS_ACCESS_DENIED));
				assert_true(is_all_zero(work, len));
			}
		}
		/* Signature, Nonce, Reserved and SessionId bytes: the
		 * header stays well formed, the tag no longer matches */
		for (i = 4; i < SMB2_TF_HDR_SIZE; i++) {
			if (i >= 36 && i < 40) {
				continue; /* OriginalMessageSize */
			}
			if (i == 42 || i == 43) {
				continue; /* Flags */
			}
			memcpy(bad_tf, tf, sizeof(tf));
			bad_tf[i] ^= 0x10;
			memcpy(work, sealed, len);
			assert_true(NT_STATUS_EQUAL(
				smb2_decrypt(cipher, key, klen, bad_tf, work,
					     len),
				NT_STATUS_ACCESS_DENIED));
		}
		key[0] ^= 1;
		memcpy(work, sealed, len);
		assert_true(NT_STATUS_EQUAL(
			smb2_decrypt(cipher, key, klen, tf, work, len),
			NT_STATUS_ACCESS_DENIED));
		key[0] ^= 1;

		memcpy(work, sealed, len);
		assert_true(NT_STATUS_IS_OK(
			smb2_decrypt(cipher, key, klen, tf, work, len)));
	}
}

static void test_malformed_header_rejected(void **state)
{
	const size_t len = 80;
	uint8_t msg[80], work[80];
	uint8_t tf[SMB2_TF_HDR_SIZE], bad[SMB2_TF_HDR_SIZE];
	uint8_t key[32];
	struct iovec iov = { msg, len };
	const uint16_t c = SMB2_ENCRYPTION_AES128_GCM;

	fill_pattern(key, sizeof(key), 4);
	fill_pattern(msg, len, 6);
	assert_true(NT_STATUS_IS_OK(smb2_encrypt(c, key, 16, 1, tf, &iov, 1)));

#define EXPECT_INVALID(expr)                                                   \
	do {                                                                   \
		memcpy(work, msg, len);                                        \
		assert_true(NT_STATUS_EQUAL((expr),                            \
					    NT_STATUS_INVALID_PARAMETER));     \
	} while (0)

	memcpy(bad, tf, sizeof(bad));
	bad[0] = 0xFE; /* a plain SMB2 header, not a transform */
	EXPECT_INVALID(smb2_decrypt(c, key, 16, bad, work, len));

	memcpy(bad, tf, sizeof(bad));
	PUSH_LE16(bad, 42, 0);
	EXPECT_INVALID(smb2_decrypt(c, key, 16, bad, work, len));
	PUSH_LE16(bad, 42, 2);
	EXPECT_INVALID(smb2_decrypt(c, key, 16, bad, work, len));

	memcpy(bad, tf, sizeof(bad));
	PUSH_LE32(bad, 36, len + 1);
	EXPECT_INVALID(smb2_decrypt(c, key, 16, bad, work, len));
	PUSH_LE32(bad, 36, len - 1);
	EXPECT_INVALID(smb2_decrypt(c, key, 16, bad, work, len));
	EXPECT_INVALID(smb2_decrypt(c, key, 16, tf, work, len - 1));

	memcpy(bad, tf, sizeof(bad));
	PUSH_LE32(bad, 36, 63);
	EXPECT_INVALID(smb2_decrypt(c, key, 16, bad, work, 63));
	PUSH_LE32(bad, 36, 0);
	EXPECT_INVALID(smb2_decrypt(c, key, 16, bad, work, 0));

	EXPECT_INVALID(smb2_decrypt(c, key, 32, tf, work, len));
	EXPECT_INVALID(smb2_decrypt(SMB2_ENCRYPTION_AES256_GCM, key, 16, tf,
				    work, len));
	EXPECT_INVALID(smb2_decrypt(0, key, 16, tf, work, len));
	EXPECT_INVALID(smb2_decrypt(5, key, 16, tf, work, len));
	EXPECT_INVALID(smb2_decrypt(c, NULL, 16, tf, work, len));
	EXPECT_INVALID(smb2_decrypt(c, key, 16, tf, NULL, len));

	/* the untouched header still opens */
	memcpy(work, msg, len);
	assert_true(NT_STATUS_IS_OK(smb2_decrypt(c, key, 16, tf, work, len)));
}

static void test_encrypt_bad_input(void **state)
{
	uint8_t msg[64] = { 0 };
	uint8_t tf[SMB2_TF_HDR_SIZE];
	uint8_t key[32] = { 0 };
	struct iovec short_msg = { msg, 63 };
	struct iovec ok = { msg, 64 };
	struct iovec null_base = { NULL, 64 };

	assert_true(NT_STATUS_EQUAL(
		smb2_encrypt(SMB2_ENCRYPTION_AES128_CCM, key, 16, 1, tf,
			     &short_msg, 1),
		NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_EQUAL(
		smb2_encrypt(SMB2_ENCRYPTION_AES128_CCM, key, 32, 1, tf, &ok,
			     1),
		NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_EQUAL(smb2_encrypt(0, key, 16, 1, tf, &ok, 1),
				    NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_EQUAL(
		smb2_encrypt(SMB2_ENCRYPTION_AES128_GCM, key, 16, 1, tf, &ok,
			     0),
		NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_EQUAL(
		smb2_encrypt(SMB2_ENCRYPTION_AES128_GCM, key, 16, 1, tf,
			     &null_base, 1),
		NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_IS_OK(smb2_encrypt(SMB2_ENCRYPTION_AES128_GCM,
						 key, 16, 1, tf, &ok, 1)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enc30_ccm_seal),
		cmocka_unit_test(test_enc30_ccm_open),
		cmocka_unit_test(test_enc311_gcm_seal),
		cmocka_unit_test(test_enc311_gcm_open),
		cmocka_unit_test(test_aes256),
		cmocka_unit_test(test_round_trip_random_nonce),
		cmocka_unit_test(test_scattered_equals_contiguous),
		cmocka_unit_test(test_tampering_detected),
		cmocka_unit_test(test_malformed_header_rejected),
		cmocka_unit_test(test_encrypt_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
