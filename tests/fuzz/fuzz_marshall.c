/*
 * Fuzz the marshall pull side: a record of every field kind read with
 * whatever lengths the input claims.  Nothing may read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/util/marshall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct marshall_pull r;
	uint32_t count, i;

	if (NT_STATUS_IS_OK(marshall_pull_init(&r, data, size, REC_TEST, 2)) &&
	    marshall_pull_count(&r, &count, 9)) {
		for (i = 0; i < count; i++) {
			uint64_t u64;
			uint8_t u8;
			const uint8_t *blob;
			size_t blob_len;
			char *s;
			bool b;

			if (!marshall_pull_u64(&r, &u64) ||
			    !marshall_pull_u8(&r, &u8) ||
			    !marshall_pull_blob(&r, &blob, &blob_len) ||
			    !marshall_pull_string(&r, mem, &s) ||
			    !marshall_pull_bool(&r, &b)) {
				break;
			}
			if (blob_len > 0) {
				volatile uint8_t last = blob[blob_len - 1];
				(void)last;
			}
		}
		(void)marshall_pull_finish(&r);
	}
	talloc_free(mem);
	return 0;
}
