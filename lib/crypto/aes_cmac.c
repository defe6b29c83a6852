#include "lib/crypto/aes_cmac.h"

#include <gnutls/crypto.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AESNI_CMAC 1
#include <immintrin.h>
#endif

static bool aesni_allowed = true;

void aes_cmac_test_use_aesni(bool on)
{
	aesni_allowed = on;
}

/* RFC 4493 2.3: doubling in GF(2^128), big-endian bit order */
static void cmac_double(const uint8_t in[16], uint8_t out[16])
{
	uint8_t carry = in[0] >> 7;
	int i;

	for (i = 0; i < 15; i++) {
		out[i] = (uint8_t)(in[i] << 1 | in[i + 1] >> 7);
	}
	out[15] = (uint8_t)(in[15] << 1) ^ (uint8_t)(carry ? 0x87 : 0);
}

#ifdef HAVE_AESNI_CMAC

#define AESNI __attribute__((target("aes,sse2")))

static AESNI __m128i expand_round(__m128i key, __m128i assist)
{
	assist = _mm_shuffle_epi32(assist, 0xff);
	key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
	key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
	key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
	return _mm_xor_si128(key, assist);
}

static AESNI void aesni_expand_key(const uint8_t key[16], __m128i rk[11])
{
	rk[0] = _mm_loadu_si128((const __m128i *)key);
#define EXPAND(i, rcon)                                                        \
	rk[i] = expand_round(rk[i - 1],                                        \
			     _mm_aeskeygenassist_si128(rk[i - 1], rcon))
	EXPAND(1, 0x01);
	EXPAND(2, 0x02);
	EXPAND(3, 0x04);
	EXPAND(4, 0x08);
	EXPAND(5, 0x10);
	EXPAND(6, 0x20);
	EXPAND(7, 0x40);
	EXPAND(8, 0x80);
	EXPAND(9, 0x1b);
	EXPAND(10, 0x36);
#undef EXPAND
}

static inline AESNI __m128i aesni_encrypt(const __m128i rk[11], __m128i x)
{
	int r;

	x = _mm_xor_si128(x, rk[0]);
	for (r = 1; r < 10; r++) {
		x = _mm_aesenc_si128(x, rk[r]);
	}
	return _mm_aesenclast_si128(x, rk[10]);
}

static AESNI void aesni_load_keys(const struct aes_cmac_ctx *ctx,
				  __m128i rk[11])
{
	int r;

	for (r = 0; r < 11; r++) {
		rk[r] = _mm_loadu_si128(
			(const __m128i *)ctx->u.ni.round_keys[r]);
	}
}

static AESNI void aesni_init(struct aes_cmac_ctx *ctx, const uint8_t key[16])
{
	__m128i rk[11];
	uint8_t l[16];
	int r;

	aesni_expand_key(key, rk);
	for (r = 0; r < 11; r++) {
		_mm_storeu_si128((__m128i *)ctx->u.ni.round_keys[r], rk[r]);
	}
	/* RFC 4493 2.3: L = AES(K, 0), K1 = 2L, K2 = 4L */
	_mm_storeu_si128((__m128i *)l,
			 aesni_encrypt(rk, _mm_setzero_si128()));
	cmac_double(l, ctx->u.ni.k1);
	cmac_double(ctx->u.ni.k1, ctx->u.ni.k2);
	memset(ctx->u.ni.chain, 0, 16);
	ctx->u.ni.pending_len = 0;
	gnutls_memset(l, 0, sizeof(l));
	gnutls_memset(rk, 0, sizeof(rk));
}

/* The last block is held back: only at digest time is it known to be the
 * last, and it then gets K1 or K2 mixed in. */
static AESNI void aesni_update(struct aes_cmac_ctx *ctx, const uint8_t *data,
			       size_t len)
{
	__m128i rk[11];
	__m128i x;
	size_t fill;

	if (ctx->u.ni.pending_len + len <= 16) {
		memcpy(ctx->u.ni.pending + ctx->u.ni.pending_len, data, len);
		ctx->u.ni.pending_len += len;
		return;
	}
	aesni_load_keys(ctx, rk);
	x = _mm_loadu_si128((const __m128i *)ctx->u.ni.chain);
	if (ctx->u.ni.pending_len > 0) {
		fill = 16 - ctx->u.ni.pending_len;
		memcpy(ctx->u.ni.pending + ctx->u.ni.pending_len, data, fill);
		data += fill;
		len -= fill;
		x = aesni_encrypt(
			rk, _mm_xor_si128(x, _mm_loadu_si128((
						const __m128i *)ctx->u.ni
							     .pending)));
		ctx->u.ni.pending_len = 0;
	}
	while (len > 16) {
		x = aesni_encrypt(
			rk, _mm_xor_si128(x, _mm_loadu_si128(
						     (const __m128i *)data)));
		data += 16;
		len -= 16;
	}
	memcpy(ctx->u.ni.pending, data, len);
	ctx->u.ni.pending_len = len;
	_mm_storeu_si128((__m128i *)ctx->u.ni.chain, x);
	gnutls_memset(rk, 0, sizeof(rk));
}

static AESNI void aesni_digest(struct aes_cmac_ctx *ctx, uint8_t tag[16])
{
	__m128i rk[11];
	uint8_t last[16];
	size_t n = ctx->u.ni.pending_len;
	int i;

	if (n == 16) {
		for (i = 0; i < 16; i++) {
			last[i] = ctx->u.ni.pending[i] ^ ctx->u.ni.k1[i];
		}
	} else {
		memset(last, 0, sizeof(last));
		memcpy(last, ctx->u.ni.pending, n);
		last[n] = 0x80;
		for (i = 0; i < 16; i++) {
			last[i] ^= ctx->u.ni.k2[i];
		}
	}
	aesni_load_keys(ctx, rk);
	_mm_storeu_si128(
		(__m128i *)tag,
		aesni_encrypt(rk, _mm_xor_si128(
					  _mm_loadu_si128(
						  (const __m128i *)ctx->u.ni
							  .chain),
					  _mm_loadu_si128(
						  (const __m128i *)last))));
	gnutls_memset(rk, 0, sizeof(rk));
	gnutls_memset(last, 0, sizeof(last));
}

static bool cpu_has_aesni(void)
{
	return __builtin_cpu_supports("aes") != 0;
}

#else

static bool cpu_has_aesni(void)
{
	return false;
}

#endif

void aes_cmac_init(struct aes_cmac_ctx *ctx, const uint8_t key[16])
{
	ctx->aesni = aesni_allowed && cpu_has_aesni();
#ifdef HAVE_AESNI_CMAC
	if (ctx->aesni) {
		aesni_init(ctx, key);
		return;
	}
#endif
	cmac_aes128_set_key(&ctx->u.nettle, key);
}

void aes_cmac_update(struct aes_cmac_ctx *ctx, const uint8_t *data,
		     size_t len)
{
	if (len == 0) {
		return;
	}
#ifdef HAVE_AESNI_CMAC
	if (ctx->aesni) {
		aesni_update(ctx, data, len);
		return;
	}
#endif
	cmac_aes128_update(&ctx->u.nettle, len, data);
}

void aes_cmac_digest(struct aes_cmac_ctx *ctx, uint8_t tag[16])
{
#ifdef HAVE_AESNI_CMAC
	if (ctx->aesni) {
		aesni_digest(ctx, tag);
		gnutls_memset(ctx, 0, sizeof(*ctx));
		return;
	}
#endif
	cmac_aes128_digest(&ctx->u.nettle, 16, tag);
	gnutls_memset(ctx, 0, sizeof(*ctx));
}
