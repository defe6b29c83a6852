/*
 * Fuzz the leases.tdb record decoder and the RqLs lease context parser
 * (smbd/lease_record.c): leases.tdb is shared by every smbd process and
 * the lease context comes from the network.  A record that decodes must
 * encode back to the same bytes, and the lease transitions must keep the
 * state within R|H|W whatever the record says.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smbd/lease_record.h"
#include "smbd/oplock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct lease_record *r = NULL;
	struct lease_break_notice n;
	struct smb2_lease l;
	uint8_t buf[SMB2_LEASE_V2_SIZE];
	uint8_t *again = NULL;
	size_t again_len = 0;

	if (NT_STATUS_IS_OK(smb2_lease_pull(data, size, &l))) {
		/* only 32 and 52 bytes parse, and push gives that size */
		if (smb2_lease_push(&l, buf) != size) {
			abort();
		}
	}
	if (NT_STATUS_IS_OK(lease_record_pull(mem, data, size, &r))) {
		if (!NT_STATUS_IS_OK(lease_record_push(mem, r, &again,
						       &again_len)) ||
		    again_len != size || memcmp(again, data, size) != 0) {
			abort();
		}
		lease_record_break(r, size & SMB2_LEASE_MASK, &n);
		(void)lease_record_ack(r, (size >> 3) & SMB2_LEASE_MASK, &n);
		if ((r->current_state & ~SMB2_LEASE_MASK) != 0 ||
		    (n.send && (n.to & ~n.from) != 0)) {
			abort();
		}
	}
	talloc_free(mem);
	return 0;
}
