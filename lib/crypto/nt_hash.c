#include "lib/crypto/nt_hash.h"

#include <nettle/md4.h>
#include <string.h>
#include <sys/types.h>

#include "lib/util/charset.h"

bool nt_hash_from_password(const char *password, uint8_t nt_hash[16])
{
	/* Windows caps passwords at 256 UTF-16 units. */
	uint8_t utf16[256 * 2];
	ssize_t len = utf8_to_utf16le_buf(password, utf16, sizeof(utf16));
	struct md4_ctx ctx;

	if (len < 0) {
		return false;
	}
	md4_init(&ctx);
	md4_update(&ctx, (size_t)len, utf16);
	md4_digest(&ctx, MD4_DIGEST_SIZE, nt_hash);
	memset(utf16, 0, sizeof(utf16));
	return true;
}
