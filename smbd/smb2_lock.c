/*
 * LOCK ([MS-SMB2] 2.2.26, 2.2.27, 3.3.5.14).
 *
 * NOT IMPLEMENTED YET: byte-range locks must be visible to every process
 * and node serving the file, so they arrive with the cross-process
 * locking database (the next issue).  Until then the request is fully
 * validated and then refused with STATUS_NOT_SUPPORTED, rather than
 * granting locks nobody enforces.
 */
#include "smbd/smbd.h"

#include "lib/util/byteorder.h"

#define LOCK_REQ_FIXED 24 /* up to Locks[]; StructureSize 48 includes one */
#define LOCK_ELEMENT_SIZE 24

#define SMB2_LOCKFLAG_SHARED_LOCK 0x01
#define SMB2_LOCKFLAG_EXCLUSIVE_LOCK 0x02
#define SMB2_LOCKFLAG_UNLOCK 0x04
#define SMB2_LOCKFLAG_FAIL_IMMEDIATELY 0x10

/*
 * [MS-SMB2] 3.3.5.14: the flag combinations a lock element may carry;
 * an unlock stands alone, a lock is shared or exclusive, optionally
 * failing immediately.  In a request of several elements every element
 * is an unlock, or every element is a lock that fails immediately (only
 * a single lock may block).
 */
static NTSTATUS check_lock_elements(const uint8_t *locks, uint16_t count)
{
	bool first_is_unlock = false;
	uint16_t i;

	for (i = 0; i < count; i++) {
		const uint8_t *e = locks + (size_t)i * LOCK_ELEMENT_SIZE;
		uint64_t offset = PULL_LE64(e, 0);
		uint64_t length = PULL_LE64(e, 8);
		uint32_t flags = PULL_LE32(e, 16);
		bool unlock;

		switch (flags) {
		case SMB2_LOCKFLAG_UNLOCK:
			unlock = true;
			break;
		case SMB2_LOCKFLAG_SHARED_LOCK:
		case SMB2_LOCKFLAG_EXCLUSIVE_LOCK:
			if (count > 1) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			unlock = false;
			break;
		case SMB2_LOCKFLAG_SHARED_LOCK | SMB2_LOCKFLAG_FAIL_IMMEDIATELY:
		case SMB2_LOCKFLAG_EXCLUSIVE_LOCK |
			SMB2_LOCKFLAG_FAIL_IMMEDIATELY:
			unlock = false;
			break;
		default:
			return NT_STATUS_INVALID_PARAMETER;
		}
		if (i == 0) {
			first_is_unlock = unlock;
		} else if (unlock != first_is_unlock) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		/* [MS-FSA] 2.1.5.7: a range may not wrap past 2^64 - 1 */
		if (length != 0 && offset + length - 1 < offset) {
			return NT_STATUS_INVALID_LOCK_RANGE;
		}
	}
	return NT_STATUS_OK;
}

NTSTATUS smbd_smb2_lock(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	uint16_t count = PULL_LE16(b, 2);
	struct smbd_open *op;
	NTSTATUS status;

	if (count == 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if ((size_t)count * LOCK_ELEMENT_SIZE >
	    req->in_body_len - LOCK_REQ_FIXED) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	op = smbd_request_lookup_open(req, b + 8);
	if (op == NULL) {
		return NT_STATUS_FILE_CLOSED;
	}
	status = check_lock_elements(b + LOCK_REQ_FIXED, count);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	/* Byte-range locking: the next issue (see the file comment). */
	return NT_STATUS_NOT_SUPPORTED;
}
