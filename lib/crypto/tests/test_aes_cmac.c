/*
 * AES-128-CMAC: the RFC 4493 section 4 examples on both code paths (AES-NI
 * where the CPU has it, nettle otherwise), fed whole and split at every
 * position, and the two paths against each other on many lengths and
 * chunkings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/crypto/aes_cmac.h"
#include "lib/crypto/tests/test_hex.h"

static const char *rfc4493_key = "2B7E151628AED2A6ABF7158809CF4F3C";
static const char *rfc4493_msg =
	"6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51"
	"30C81C46A35CE411E5FBC1191A0A52EFF69F2445DF4F9B17AD2B417BE66C3710";
static const struct {
	size_t len;
	const char *tag;
} rfc4493_examples[] = {
	{ 0, "BB1D6929E95937287FA37D129B756746" },
	{ 16, "070A16B46B4D4144F79BDD9DD04A287C" },
	{ 40, "DFA66747DE9AE63030CA32611497C827" },
	{ 64, "51F0BEBF7E3B9D92FC49741779363CFE" },
};

static void check_rfc4493(bool aesni)
{
	uint8_t *key = test_hex(rfc4493_key, NULL);
	uint8_t *msg = test_hex(rfc4493_msg, NULL);
	size_t i, split;

	aes_cmac_test_use_aesni(aesni);
	for (i = 0; i < 4; i++) {
		size_t len = rfc4493_examples[i].len;
		uint8_t *want = test_hex(rfc4493_examples[i].tag, NULL);

		for (split = 0; split <= len; split++) {
			struct aes_cmac_ctx ctx;
			uint8_t tag[16];

			aes_cmac_init(&ctx, key);
			aes_cmac_update(&ctx, msg, split);
			aes_cmac_update(&ctx, msg + split, len - split);
			aes_cmac_digest(&ctx, tag);
			assert_memory_equal(tag, want, 16);
		}
		free(want);
	}
	aes_cmac_test_use_aesni(true);
	free(key);
	free(msg);
}

static void test_rfc4493_nettle(void **state)
{
	check_rfc4493(false);
}

static void test_rfc4493_default(void **state)
{
	check_rfc4493(true);
}

static void cmac_chunked(bool aesni, const uint8_t *key, const uint8_t *msg,
			 size_t len, unsigned seed, uint8_t tag[16])
{
	struct aes_cmac_ctx ctx;
	size_t done = 0;

	aes_cmac_test_use_aesni(aesni);
	aes_cmac_init(&ctx, key);
	while (done < len) {
		size_t n = (seed = seed * 1103515245u + 12345u) % 40;

		if (n > len - done) {
			n = len - done;
		}
		aes_cmac_update(&ctx, msg + done, n);
		done += n;
	}
	aes_cmac_digest(&ctx, tag);
	aes_cmac_test_use_aesni(true);
}

static void test_paths_agree(void **state)
{
	uint8_t key[16];
	uint8_t msg[300];
	size_t len, i;

	for (i = 0; i < sizeof(msg); i++) {
		msg[i] = (uint8_t)(i * 7 + 3);
	}
	for (i = 0; i < sizeof(key); i++) {
		key[i] = (uint8_t)(i * 13 + 1);
	}
	for (len = 0; len <= sizeof(msg); len++) {
		uint8_t a[16], b[16];

		cmac_chunked(false, key, msg, len, (unsigned)len, a);
		cmac_chunked(true, key, msg, len, (unsigned)len * 3 + 1, b);
		assert_memory_equal(a, b, 16);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4493_nettle),
		cmocka_unit_test(test_rfc4493_default),
		cmocka_unit_test(test_paths_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
