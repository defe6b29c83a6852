/*
 * SMB2 signing over scattered messages.  The three MACs see the message as
 * the same byte stream: header[0..48), 16 zero bytes for the Signature
 * field, header[64..), then the remaining iovecs.  HMAC-SHA256 uses a
 * nettle context and AES-CMAC aes_cmac.c, both on the stack; AES-GMAC uses
 * gnutls' GCM
 * (with a cached key schedule), which authenticates about twice as fast as
 * nettle's on CPUs with carry-less multiply.
 */
#include "lib/crypto/smb2_signing.h"

#include <gnutls/crypto.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crypto/aes_cmac.h"
#include "lib/crypto/gcm_handle_cache.h"
#include "lib/util/byteorder.h"

#define SMB2_HDR_LEN 64
#define SIG_OFS 48
#define SIG_LEN 16
#define HDR_FLAGS_OFS 16
#define HDR_COMMAND_OFS 12
#define HDR_MESSAGE_ID_OFS 24
#define FLAG_SERVER_TO_REDIR 0x00000001
#define COMMAND_CANCEL 0x000C

static const uint8_t zero_signature[SIG_LEN];

/* iovecs kept on the stack for GMAC; more than this (rare: one message is
 * normally header, body and one payload buffer) costs an allocation. */
#define GMAC_STACK_IOVS 16

typedef void (*mac_update_fn)(void *ctx, size_t len, const uint8_t *data);

static void mac_message(void *ctx, mac_update_fn update,
			const struct iovec *vec, int count)
{
	const uint8_t *hdr = vec[0].iov_base;
	int i;

	update(ctx, SIG_OFS, hdr);
	update(ctx, SIG_LEN, zero_signature);
	update(ctx, vec[0].iov_len - SIG_OFS - SIG_LEN, hdr + SIG_OFS + SIG_LEN);
	for (i = 1; i < count; i++) {
		if (vec[i].iov_len > 0) {
			update(ctx, vec[i].iov_len, vec[i].iov_base);
		}
	}
}

static void feed_hmac_sha256(void *ctx, size_t len, const uint8_t *data)
{
	hmac_sha256_update(ctx, len, data);
}

static void feed_cmac_aes128(void *ctx, size_t len, const uint8_t *data)
{
	aes_cmac_update(ctx, data, len);
}

/* [MS-SMB2] 3.1.4.1: HMAC-SHA256 truncated to 16 bytes (2.0.2, 2.1). */
static void sign_hmac_sha256(const uint8_t key[16], const struct iovec *vec,
			     int count, uint8_t sig[SIG_LEN])
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_set_key(&ctx, 16, key);
	mac_message(&ctx, feed_hmac_sha256, vec, count);
	hmac_sha256_digest(&ctx, SIG_LEN, sig);
	gnutls_memset(&ctx, 0, sizeof(ctx));
}

/* [MS-SMB2] 3.1.4.1: AES-128-CMAC, RFC 4493 (3.x). */
static void sign_aes_cmac(const uint8_t key[16], const struct iovec *vec,
			  int count, uint8_t sig[SIG_LEN])
{
	struct aes_cmac_ctx ctx;

	aes_cmac_init(&ctx, key);
	mac_message(&ctx, feed_cmac_aes128, vec, count);
	aes_cmac_digest(&ctx, sig);
}

/*
 * [MS-SMB2] 3.1.4.1: AES-128-GMAC (RFC 4543), i.e. GCM with the whole
 * message as associated data and nothing to encrypt.  Nonce: MessageId,
 * then a 32-bit little-endian word with bit 0 = sent by the server and
 * bit 1 = SMB2 CANCEL.
 */
static NTSTATUS sign_aes_gmac(const uint8_t key[16], const struct iovec *vec,
			      int count, uint8_t sig[SIG_LEN])
{
	const uint8_t *hdr = vec[0].iov_base;
	uint32_t flags = PULL_LE32(hdr, HDR_FLAGS_OFS);
	uint32_t nonce_bits = 0;
	uint8_t nonce[12];
	struct iovec stack_iov[GMAC_STACK_IOVS + 2];
	struct iovec *aad = stack_iov;
	size_t tag_len = SIG_LEN;
	gnutls_aead_cipher_hd_t hd;
	int naad = 0;
	int i;
	int ret;

	if (flags & FLAG_SERVER_TO_REDIR) {
		nonce_bits |= 1;
	}
	if (PULL_LE16(hdr, HDR_COMMAND_OFS) == COMMAND_CANCEL) {
		nonce_bits |= 2;
	}
	PUSH_LE64(nonce, 0, PULL_LE64(hdr, HDR_MESSAGE_ID_OFS));
	PUSH_LE32(nonce, 8, nonce_bits);

	hd = gcm_handle_get(GNUTLS_CIPHER_AES_128_GCM, key, 16);
	if (hd == NULL) {
		return NT_STATUS_INTERNAL_ERROR;
	}
	if (count > GMAC_STACK_IOVS) {
		aad = malloc(sizeof(*aad) * ((size_t)count + 2));
		if (aad == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	aad[naad++] = (struct iovec){ .iov_base = (void *)hdr,
				      .iov_len = SIG_OFS };
	aad[naad++] = (struct iovec){ .iov_base = (void *)zero_signature,
				      .iov_len = SIG_LEN };
	if (vec[0].iov_len > SMB2_HDR_LEN) {
		aad[naad++] = (struct iovec){
			.iov_base = (void *)(hdr + SMB2_HDR_LEN),
			.iov_len = vec[0].iov_len - SMB2_HDR_LEN
		};
	}
	for (i = 1; i < count; i++) {
		if (vec[i].iov_len > 0) {
			aad[naad++] = vec[i];
		}
	}
	ret = gnutls_aead_cipher_encryptv2(hd, nonce, sizeof(nonce), aad, naad,
					   NULL, 0, sig, &tag_len);
	if (aad != stack_iov) {
		free(aad);
	}
	if (ret < 0 || tag_len != SIG_LEN) {
		return NT_STATUS_INTERNAL_ERROR;
	}
	return NT_STATUS_OK;
}

static NTSTATUS compute_signature(enum smb2_signing_algo algo,
				  const uint8_t key[16],
				  const struct iovec *vec, int count,
				  uint8_t sig[SIG_LEN])
{
	int i;

	if (key == NULL || vec == NULL || count < 1 ||
	    vec[0].iov_base == NULL || vec[0].iov_len < SMB2_HDR_LEN) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	for (i = 1; i < count; i++) {
		if (vec[i].iov_base == NULL && vec[i].iov_len != 0) {
			return NT_STATUS_INVALID_PARAMETER;
		}
	}
	switch (algo) {
	case SMB2_SIGNING_HMAC_SHA256:
		sign_hmac_sha256(key, vec, count, sig);
		return NT_STATUS_OK;
	case SMB2_SIGNING_AES_CMAC:
		sign_aes_cmac(key, vec, count, sig);
		return NT_STATUS_OK;
	case SMB2_SIGNING_AES_GMAC:
		return sign_aes_gmac(key, vec, count, sig);
	}
	return NT_STATUS_INVALID_PARAMETER;
}

NTSTATUS smb2_signing_sign(enum smb2_signing_algo algo, const uint8_t key[16],
			   struct iovec *vec, int count)
{
	uint8_t sig[SIG_LEN];
	NTSTATUS status;

	status = compute_signature(algo, key, vec, count, sig);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	memcpy((uint8_t *)vec[0].iov_base + SIG_OFS, sig, SIG_LEN);
	return NT_STATUS_OK;
}

NTSTATUS smb2_signing_check(enum smb2_signing_algo algo, const uint8_t key[16],
			    const struct iovec *vec, int count)
{
	uint8_t sig[SIG_LEN];
	NTSTATUS status;

	status = compute_signature(algo, key, vec, count, sig);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (!memeql_sec(sig, (const uint8_t *)vec[0].iov_base + SIG_OFS,
			SIG_LEN)) {
		return NT_STATUS_ACCESS_DENIED;
	}
	return NT_STATUS_OK;
}
