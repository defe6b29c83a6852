/*
 * SMB2 LOCK request parsing and lock sequence replay detection
 * (smb2_lock_wire.h).
 */
#include "smbd/smb2_lock_wire.h"

#include <string.h>

#include "lib/util/byteorder.h"

#define LOCK_SEQ_INVALID 0xFF

/* How element i is processed; false if it makes the request invalid at
 * once. */
static bool lock_elem_op(uint32_t flags, bool is_unlock, bool multi,
			 enum brl_op *op)
{
	switch (flags) {
	case SMB2_LOCKFLAG_UNLOCK:
		*op = BRL_OP_UNLOCK;
		return is_unlock;
	case SMB2_LOCKFLAG_SHARED_LOCK:
	case SMB2_LOCKFLAG_EXCLUSIVE_LOCK:
		if (is_unlock) {
			*op = BRL_OP_INVALID;
			return true;
		}
		*op = flags == SMB2_LOCKFLAG_SHARED_LOCK ? BRL_OP_SHARED
							 : BRL_OP_EXCLUSIVE;
		/* [MS-SMB2] 3.3.5.14.2: only a lone lock may wait */
		return !multi;
	case SMB2_LOCKFLAG_SHARED_LOCK | SMB2_LOCKFLAG_FAIL_IMMEDIATELY:
		*op = is_unlock ? BRL_OP_INVALID : BRL_OP_SHARED;
		return true;
	case SMB2_LOCKFLAG_EXCLUSIVE_LOCK | SMB2_LOCKFLAG_FAIL_IMMEDIATELY:
		*op = is_unlock ? BRL_OP_INVALID : BRL_OP_EXCLUSIVE;
		return true;
	default:
		/* unknown bits, none, or UNLOCK with anything else */
		*op = BRL_OP_INVALID;
		return is_unlock;
	}
}

NTSTATUS smb2_lock_parse(TALLOC_CTX *mem_ctx, const uint8_t *body,
			 size_t body_len, struct smb2_lock_req *req)
{
	const uint8_t *locks;
	uint32_t first_flags;
	uint16_t i;

	*req = (struct smb2_lock_req){ .flags_status = NT_STATUS_OK };
	if (body_len < SMB2_LOCK_REQ_FIXED) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	req->count = PULL_LE16(body, 2);
	req->sequence = PULL_LE32(body, 4);
	req->file_id = body + 8;
	if (req->count == 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if ((size_t)req->count * SMB2_LOCK_ELEMENT_SIZE >
	    body_len - SMB2_LOCK_REQ_FIXED) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	req->elems = talloc_array(mem_ctx, struct brl_elem, req->count);
	if (req->elems == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	locks = body + SMB2_LOCK_REQ_FIXED;
	first_flags = PULL_LE32(locks, 16);

	switch (first_flags) {
	case SMB2_LOCKFLAG_UNLOCK:
		req->is_unlock = true;
		break;
	case SMB2_LOCKFLAG_SHARED_LOCK:
	case SMB2_LOCKFLAG_EXCLUSIVE_LOCK:
		req->blocking = req->count == 1;
		break;
	case SMB2_LOCKFLAG_SHARED_LOCK | SMB2_LOCKFLAG_FAIL_IMMEDIATELY:
	case SMB2_LOCKFLAG_EXCLUSIVE_LOCK | SMB2_LOCKFLAG_FAIL_IMMEDIATELY:
		break;
	default:
		req->flags_status = NT_STATUS_INVALID_PARAMETER;
		break;
	}

	for (i = 0; i < req->count; i++) {
		const uint8_t *e = locks + (size_t)i * SMB2_LOCK_ELEMENT_SIZE;
		struct brl_elem *el = &req->elems[i];

		el->start = PULL_LE64(e, 0);
		el->length = PULL_LE64(e, 8);
		/* Reserved (e + 20) is ignored, as Windows does */
		if (!lock_elem_op(PULL_LE32(e, 16), req->is_unlock,
				  req->count > 1, &el->op)) {
			req->flags_status = NT_STATUS_INVALID_PARAMETER;
		}
	}
	if (!NT_STATUS_IS_OK(req->flags_status)) {
		req->blocking = false;
	}
	return NT_STATUS_OK;
}

void smb2_lock_sequence_init(uint8_t array[SMB2_LOCK_SEQUENCE_ENTRIES])
{
	memset(array, LOCK_SEQ_INVALID, SMB2_LOCK_SEQUENCE_ENTRIES);
}

bool smb2_lock_sequence_check(uint8_t array[SMB2_LOCK_SEQUENCE_ENTRIES],
			      uint32_t sequence, int *idx)
{
	uint32_t number = sequence & 0xF;
	uint32_t index = sequence >> 4;

	*idx = -1;
	if (index == 0 || index > SMB2_LOCK_SEQUENCE_ENTRIES) {
		return false;
	}
	if (array[index - 1] == number) {
		return true;
	}
	/* not a replay: forget the entry until this request succeeds */
	array[index - 1] = LOCK_SEQ_INVALID;
	*idx = (int)index - 1;
	return false;
}

void smb2_lock_sequence_done(uint8_t array[SMB2_LOCK_SEQUENCE_ENTRIES],
			     int idx, uint32_t sequence)
{
	if (idx >= 0 && idx < SMB2_LOCK_SEQUENCE_ENTRIES) {
		array[idx] = (uint8_t)(sequence & 0xF);
	}
}
