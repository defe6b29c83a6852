/*
 * AES-128-CMAC (RFC 4493), incremental, for SMB 3.x signing.  Internal to
 * lib/crypto.
 *
 * On x86-64 CPUs with AES-NI the MAC runs on an inlined AES-NI block
 * function; nettle's CMAC costs a library call per 16-byte block, which
 * roughly halves the throughput of this inherently serial chain.  Other
 * CPUs use nettle.  The context lives on the caller's stack; nothing is
 * allocated.
 */
#ifndef LIB_CRYPTO_AES_CMAC_H
#define LIB_CRYPTO_AES_CMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/cmac.h>

struct aes_cmac_ctx {
	bool aesni;
	union {
		struct cmac_aes128_ctx nettle;
		struct {
			uint8_t round_keys[11][16];
			uint8_t k1[16];
			uint8_t k2[16];
			uint8_t chain[16];   /* X of RFC 4493 */
			uint8_t pending[16]; /* last, possibly partial block */
			size_t pending_len;
		} ni;
	} u;
};

void aes_cmac_init(struct aes_cmac_ctx *ctx, const uint8_t key[16]);
void aes_cmac_update(struct aes_cmac_ctx *ctx, const uint8_t *data,
		     size_t len);
/* Writes the 16-byte tag and wipes the context. */
void aes_cmac_digest(struct aes_cmac_ctx *ctx, uint8_t tag[16]);

/* Tests only: force the portable nettle path (false) or, where the CPU
 * has it, the AES-NI path (true), for contexts initialised afterwards. */
void aes_cmac_test_use_aesni(bool on);

#endif
