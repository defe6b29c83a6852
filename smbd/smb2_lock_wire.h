/*
 * The SMB2 LOCK request on the wire ([MS-SMB2] 2.2.26, 2.2.26.1) and the
 * lock sequence replay check of 3.3.5.14.  Pure functions: the fuzz
 * target tests/fuzz/fuzz_smb2_lock.c and smbd/tests/test_brlock.c drive
 * them without a server.
 */
#ifndef SMBD_SMB2_LOCK_WIRE_H
#define SMBD_SMB2_LOCK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"
#include "smbd/brlock.h"

#define SMB2_LOCK_REQ_FIXED 24 /* up to Locks[]; StructureSize 48 has one */
#define SMB2_LOCK_ELEMENT_SIZE 24

#define SMB2_LOCKFLAG_SHARED_LOCK 0x01
#define SMB2_LOCKFLAG_EXCLUSIVE_LOCK 0x02
#define SMB2_LOCKFLAG_UNLOCK 0x04
#define SMB2_LOCKFLAG_FAIL_IMMEDIATELY 0x10

struct smb2_lock_req {
	uint16_t count;
	uint32_t sequence; /* LockSequenceNumber (low 4 bits), Index */
	const uint8_t *file_id; /* 16 bytes inside the body */
	struct brl_elem *elems; /* count elements, talloc'd */
	bool is_unlock;	  /* the first element unlocks */
	bool blocking;	  /* one lock without FAIL_IMMEDIATELY */
	/*
	 * INVALID_PARAMETER for a flag combination refused before anything
	 * is done; the caller reports it after looking up FileId, because
	 * Windows answers FILE_CLOSED first (smbtorture
	 * smb2.lock.valid-request).
	 */
	NTSTATUS flags_status;
};

/*
 * Parse a LOCK request body (the StructureSize already checked by
 * dispatch).  INVALID_PARAMETER when LockCount is 0 or the elements do
 * not fit in body_len.
 *
 * Flag rules, as Windows applies them (smbtorture smb2.lock.valid-request
 * and multiple-unlock; [MS-SMB2] 3.3.5.14.1/2):
 *  - the first element decides: UNLOCK makes an unlock request; SHARED
 *    or EXCLUSIVE, with or without FAIL_IMMEDIATELY, a lock request;
 *    anything else is refused;
 *  - a lock request of more than one element needs FAIL_IMMEDIATELY on
 *    every element (only a single lock may block) and no UNLOCK;
 *  - in an unlock request a later lock element (or unknown flags) is
 *    not refused up front: unlocking proceeds in order and stops there
 *    with INVALID_PARAMETER (brl_elem BRL_OP_INVALID).
 */
NTSTATUS smb2_lock_parse(TALLOC_CTX *mem_ctx, const uint8_t *body,
			 size_t body_len, struct smb2_lock_req *req);

/*
 * Lock sequence replay detection ([MS-SMB2] 3.3.5.14): Open holds 64
 * entries (LockSequenceIndex 1..64), 0xFF meaning none.
 *
 * smb2_lock_sequence_check: true when the request replays the last one
 * that succeeded in its entry (answer success, do nothing); otherwise the
 * entry is invalidated and *idx is the entry to record on success with
 * smb2_lock_sequence_done (-1: the index is out of range, nothing to
 * record).
 */
#define SMB2_LOCK_SEQUENCE_ENTRIES 64
void smb2_lock_sequence_init(uint8_t array[SMB2_LOCK_SEQUENCE_ENTRIES]);
bool smb2_lock_sequence_check(uint8_t array[SMB2_LOCK_SEQUENCE_ENTRIES],
			      uint32_t sequence, int *idx);
void smb2_lock_sequence_done(uint8_t array[SMB2_LOCK_SEQUENCE_ENTRIES],
			     int idx, uint32_t sequence);

#endif
