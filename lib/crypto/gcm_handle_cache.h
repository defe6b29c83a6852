/*
 * Per-thread cache of gnutls AES-GCM handles, keyed by (algorithm, key).
 *
 * Creating a gnutls AEAD handle costs an allocation and a key expansion,
 * about 300 ns, which is more than sealing a small SMB2 message.  A session
 * uses the same three keys (signing, encryption, decryption) for its whole
 * life, so a handful of cached handles per thread serves nearly every call.
 * Internal to lib/crypto.
 */
#ifndef LIB_CRYPTO_GCM_HANDLE_CACHE_H
#define LIB_CRYPTO_GCM_HANDLE_CACHE_H

#include <gnutls/crypto.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A handle for alg (GNUTLS_CIPHER_AES_128_GCM or _256_GCM) keyed with key.
 * Borrowed: valid until the next call from the same thread; never freed by
 * the caller.  NULL if gnutls fails or key_len exceeds 32.
 */
gnutls_aead_cipher_hd_t gcm_handle_get(gnutls_cipher_algorithm_t alg,
				       const uint8_t *key, size_t key_len);

#endif
