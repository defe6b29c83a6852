/* Hex strings to bytes for the known-answer tests (vectors are quoted in
 * hex exactly as their sources print them). */
#ifndef LIB_CRYPTO_TESTS_TEST_HEX_H
#define LIB_CRYPTO_TESTS_TEST_HEX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline int test_hex_nibble(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Decodes hex into a malloc'ed buffer, *len its size; aborts on bad
 * input so that a typo in a vector cannot pass silently. */
static inline uint8_t *test_hex(const char *hex, size_t *len)
{
	size_t n = strlen(hex);
	uint8_t *out;
	size_t i;

	if (n % 2 != 0) {
		abort();
	}
	out = malloc(n / 2 + 1);
	if (out == NULL) {
		abort();
	}
	for (i = 0; i < n / 2; i++) {
		int hi = test_hex_nibble(hex[2 * i]);
		int lo = test_hex_nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			abort();
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (len != NULL) {
		*len = n / 2;
	}
	return out;
}

#endif
