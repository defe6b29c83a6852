/*
 * libFuzzer target: security descriptors from SET_INFO
 * (smbd/sec_desc.h sec_desc_to_unix_change()).  Input: 4 bytes
 * SecurityInformation (little-endian), then the self-relative
 * descriptor.  An accepted change must stay inside what it promises
 * (only the 0777 bits of a mode).  Also encodes a descriptor from
 * fuzzed unix ids and feeds it back: our own output must parse.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/sec_desc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_sec_desc: %s:%d: %s\n",          \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sec_desc_change change = { 0 };
	uint32_t secinfo;
	TALLOC_CTX *ctx;
	uint8_t *sd = NULL;
	size_t sd_len = 0;
	NTSTATUS status;

	if (size < 4) {
		return 0;
	}
	debug_level = -1;
	secinfo = PULL_LE32(data, 0);
	status = sec_desc_to_unix_change(data + 4, size - 4, secinfo, 1000,
					 1000, 0644, &change);
	if (NT_STATUS_IS_OK(status) && change.set_mode) {
		CHECK((change.mode & ~0777) == 0);
	}

	/* the other direction, with ids and mode taken from the input */
	if (size >= 14) {
		uid_t uid = PULL_LE32(data, 4);
		gid_t gid = PULL_LE32(data, 8);
		mode_t mode = PULL_LE16(data, 12);

		ctx = talloc_new(NULL);
		status = sec_desc_from_unix(ctx, uid, gid, mode & 07777,
					    data[0] & 1, secinfo, &sd, &sd_len);
		if (NT_STATUS_IS_OK(status)) {
			CHECK(sd != NULL && talloc_get_size(sd) >= sd_len);
			status = sec_desc_to_unix_change(sd, sd_len, secinfo,
							 uid, gid, mode & 0777,
							 &change);
			CHECK(!NT_STATUS_EQUAL(status,
					       NT_STATUS_INVALID_SECURITY_DESCR));
		}
		talloc_free(ctx);
	}
	return 0;
}
