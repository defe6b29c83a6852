/*
 * Tests for SMB2 signing: known answers, iovec layouts, tampering, bad
 * input.
 *
 * The message and key are the SMB2 WRITE request and the SigningKey of
 * [ENC30] (Microsoft Open Specifications blog, "Encryption in SMB 3.0: A
 * protocol perspective", 2012-10-05).  No published vector signs a message
 * with each algorithm, so the expected signatures [PY] were computed
 * independently with Debian's python3: hmac/hashlib for HMAC-SHA256, and
 * python3-cryptography (OpenSSL) CMAC and AESGCM(nonce, b"", message) for
 * AES-CMAC and AES-GMAC, over the message with its Signature field zeroed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/crypto/smb2_signing.h"
#include "lib/crypto/tests/test_hex.h"

static const char *write_request_hex =
	"FE534D4240000100000000000900400008000000000000000400000000000000"
	"FFFE0000010000001100001400E4080000000000000000000000000000000000"
	"3100700017000000000000000000000015010000390000020100000039020000"
	"00000000000000007000000000000000536D623320656E6372797074696F6E20"
	"74657374696E67";
static const char *signing_key_hex = "F773CD23C18FD1E08EE510CADA7CF852";

struct signing_case {
	enum smb2_signing_algo algo;
	const char *signature_hex;
};

static const struct signing_case client_cases[] = {
	{ SMB2_SIGNING_HMAC_SHA256, "15486E7B0233C420AB1FF9EC29A0406C" },
	{ SMB2_SIGNING_AES_CMAC, "A7C3978D77323E357F43B9747B7504ED" },
	{ SMB2_SIGNING_AES_GMAC, "BF8B383744B03CE09DECC5BBF99B064F" },
};

struct fixture {
	uint8_t *msg;
	size_t len;
	uint8_t *key;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->msg = test_hex(write_request_hex, &f->len);
	f->key = test_hex(signing_key_hex, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->msg);
	free(f->key);
	free(f);
	return 0;
}

static void sign_and_expect(struct fixture *f, enum smb2_signing_algo algo,
			    const char *want_hex)
{
	struct iovec iov = { f->msg, f->len };
	uint8_t *want = test_hex(want_hex, NULL);

	/* whatever sits in the field before must not matter */
	memset(f->msg + 48, 0xA5, 16);
	assert_true(NT_STATUS_IS_OK(smb2_signing_sign(algo, f->key, &iov, 1)));
	assert_memory_equal(f->msg + 48, want, 16);
	assert_true(
		NT_STATUS_IS_OK(smb2_signing_check(algo, f->key, &iov, 1)));
	free(want);
}

static void test_known_answers(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(client_cases) / sizeof(client_cases[0]); i++) {
		sign_and_expect(f, client_cases[i].algo,
				client_cases[i].signature_hex);
	}
}

static void test_gmac_nonce_bits(void **state)
{
	struct fixture *f = *state;

	/* SMB2_FLAGS_SERVER_TO_REDIR: the role bit of the nonce is set,
	 * and the flag itself is signed */
	f->msg[16] |= 0x01;
	sign_and_expect(f, SMB2_SIGNING_AES_GMAC,
			"1F58756ECC4208FDA36A780F193724A2");
	f->msg[16] &= (uint8_t)~0x01;

	/* Command SMB2_CANCEL sets the cancel bit */
	f->msg[12] = 0x0C;
	sign_and_expect(f, SMB2_SIGNING_AES_GMAC,
			"EC936E407D4A989BF22DE8EFDC7E5103");
	f->msg[12] = 0x09;
}

/* The same message cut into many shapes must give the same signature. */
static void test_iovec_layouts(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(client_cases) / sizeof(client_cases[0]); i++) {
		enum smb2_signing_algo algo = client_cases[i].algo;
		uint8_t *want = test_hex(client_cases[i].signature_hex, NULL);
		struct iovec two[2] = { { f->msg, 64 },
					{ f->msg + 64, f->len - 64 } };
		struct iovec with_empty[4] = { { f->msg, 70 },
					       { NULL, 0 },
					       { f->msg + 70, 1 },
					       { f->msg + 71, f->len - 71 } };
		/* 64-byte header then one iovec per byte: beyond the GMAC
		 * stack array, and not block aligned anywhere */
		int nbytes = (int)(f->len - 64);
		struct iovec *many = calloc((size_t)nbytes + 1, sizeof(*many));
		int j;

		many[0] = (struct iovec){ f->msg, 64 };
		for (j = 0; j < nbytes; j++) {
			many[j + 1] = (struct iovec){ f->msg + 64 + j, 1 };
		}

		memset(f->msg + 48, 0, 16);
		assert_true(NT_STATUS_IS_OK(
			smb2_signing_sign(algo, f->key, two, 2)));
		assert_memory_equal(f->msg + 48, want, 16);

		memset(f->msg + 48, 0, 16);
		assert_true(NT_STATUS_IS_OK(
			smb2_signing_sign(algo, f->key, with_empty, 4)));
		assert_memory_equal(f->msg + 48, want, 16);

		memset(f->msg + 48, 0, 16);
		assert_true(NT_STATUS_IS_OK(
			smb2_signing_sign(algo, f->key, many, nbytes + 1)));
		assert_memory_equal(f->msg + 48, want, 16);
		assert_true(NT_STATUS_IS_OK(
			smb2_signing_check(algo, f->key, many, nbytes + 1)));
		assert_true(NT_STATUS_IS_OK(
			smb2_signing_check(algo, f->key, two, 2)));
		free(many);
		free(want);
	}
}

static void test_every_flipped_bit_fails(void **state)
{
	struct fixture *f = *state;
	struct iovec iov = { f->msg, f->len };
	uint8_t *copy = malloc(f->len);
	size_t i, bit, c;

	for (c = 0; c < sizeof(client_cases) / sizeof(client_cases[0]); c++) {
		enum smb2_signing_algo algo = client_cases[c].algo;

		assert_true(NT_STATUS_IS_OK(
			smb2_signing_sign(algo, f->key, &iov, 1)));
		memcpy(copy, f->msg, f->len);
		for (i = 0; i < f->len; i++) {
			for (bit = 0; bit < 8; bit++) {
				f->msg[i] ^= (uint8_t)(1u << bit);
				assert_true(NT_STATUS_EQUAL(
					smb2_signing_check(algo, f->key, &iov,
							   1),
					NT_STATUS_ACCESS_DENIED));
				f->msg[i] ^= (uint8_t)(1u << bit);
			}
		}
		/* check never writes to the message */
		assert_true(NT_STATUS_IS_OK(
			smb2_signing_check(algo, f->key, &iov, 1)));
		assert_memory_equal(copy, f->msg, f->len);

		f->key[0] ^= 1;
		assert_true(NT_STATUS_EQUAL(
			smb2_signing_check(algo, f->key, &iov, 1),
			NT_STATUS_ACCESS_DENIED));
		f->key[0] ^= 1;
	}
	free(copy);
}

static void test_bad_input(void **state)
{
	struct fixture *f = *state;
	struct iovec short_hdr[2] = { { f->msg, 63 },
				      { f->msg + 63, f->len - 63 } };
	struct iovec iov = { f->msg, f->len };
	struct iovec null_body[2] = { { f->msg, 64 }, { NULL, 5 } };

	assert_true(NT_STATUS_EQUAL(
		smb2_signing_sign(SMB2_SIGNING_AES_CMAC, f->key, short_hdr, 2),
		NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_EQUAL(
		smb2_signing_check(SMB2_SIGNING_AES_CMAC, f->key, short_hdr, 2),
		NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_EQUAL(
		smb2_signing_sign(SMB2_SIGNING_AES_CMAC, f->key, &iov, 0),
		NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_EQUAL(
		smb2_signing_sign(SMB2_SIGNING_AES_CMAC, NULL, &iov, 1),
		NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_EQUAL(
		smb2_signing_check((enum smb2_signing_algo)3, f->key, &iov, 1),
		NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_EQUAL(
		smb2_signing_check(SMB2_SIGNING_AES_GMAC, f->key, null_body, 2),
		NT_STATUS_INVALID_PARAMETER));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_known_answers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gmac_nonce_bits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_iovec_layouts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_every_flipped_bit_fails,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
