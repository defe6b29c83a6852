/*
 * Fuzz the REC_SHARE_MODE decoder (smbd/share_mode_record.c): locking.tdb
 * is shared by every smbd process (and later replicated between nodes),
 * so a damaged record must be refused, never read out of bounds.  A
 * record that decodes must encode back to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smbd/share_mode_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct share_mode_data *d = NULL;
	uint8_t *again = NULL;
	size_t again_len = 0;

	if (NT_STATUS_IS_OK(share_mode_record_pull(mem, data, size, &d))) {
		if (!NT_STATUS_IS_OK(share_mode_record_push(mem, d, &again,
							    &again_len)) ||
		    again_len != size || memcmp(again, data, size) != 0) {
			/* bools are 0/1 only, so decode-encode is exact */
			abort();
		}
	}
	talloc_free(mem);
	return 0;
}
