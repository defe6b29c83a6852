#include "lib/crypto/smb2_preauth.h"

#include <nettle/sha2.h>

void smb2_preauth_update(uint8_t hash[64], const struct iovec *vec, int count)
{
	struct sha512_ctx ctx;
	int i;

	sha512_init(&ctx);
	sha512_update(&ctx, SHA512_DIGEST_SIZE, hash);
	for (i = 0; i < count; i++) {
		if (vec[i].iov_len > 0) {
			sha512_update(&ctx, vec[i].iov_len, vec[i].iov_base);
		}
	}
	sha512_digest(&ctx, SHA512_DIGEST_SIZE, hash);
}
