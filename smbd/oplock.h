/*
 * Oplocks and leases: the decisions ([MS-SMB2] 3.3.5.9, [MS-FSA] 2.1.5.17
 * "Server Requests an Oplock", 2.1.4.12 "Algorithm to Check for an Oplock
 * Break").  Pure functions over a neutral view of the opens of one file,
 * so that they can be unit tested and do not depend on how the share-mode
 * record stores its entries (smbd/share_mode_db.h).
 *
 * Everything is expressed in lease-state bits (R, H, W).  An oplock is a
 * lease with a fixed shape: level II = R, exclusive = RW, batch = RWH.
 *
 * An open goes through two phases (docs/oplocks-leases.md):
 *   1. break phase, before the file is touched: oplock_check_breaks()
 *      says which holders must be broken and to what, and whether the
 *      new open must wait for a break acknowledgement (or the holder's
 *      close) before it may go on;
 *   2. grant phase, when the open is added to the share-mode record:
 *      oplock_grant() says what the new open gets.
 */
#ifndef SMBD_OPLOCK_H
#define SMBD_OPLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* OplockLevel ([MS-SMB2] 2.2.13, 2.2.14) */
#define SMB2_OPLOCK_LEVEL_NONE 0x00
#define SMB2_OPLOCK_LEVEL_II 0x01
#define SMB2_OPLOCK_LEVEL_EXCLUSIVE 0x08
#define SMB2_OPLOCK_LEVEL_BATCH 0x09
#define SMB2_OPLOCK_LEVEL_LEASE 0xFF

/* LeaseState ([MS-SMB2] 2.2.13.2.8) */
#define SMB2_LEASE_NONE 0x00
#define SMB2_LEASE_READ 0x01
#define SMB2_LEASE_HANDLE 0x02
#define SMB2_LEASE_WRITE 0x04
#define SMB2_LEASE_MASK 0x07

/* Lease context Flags ([MS-SMB2] 2.2.13.2.8, 2.2.13.2.10) */
#define SMB2_LEASE_FLAG_BREAK_IN_PROGRESS 0x00000002
#define SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET 0x00000004

/* Lease break notification Flags ([MS-SMB2] 2.2.23.2) */
#define SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED 0x00000001

/* Windows waits 35 s for a break acknowledgement ([MS-SMB2] 3.3.2.1
 * Oplock Break Acknowledgment Timer); smb.conf "smb2 break timeout"
 * (seconds) overrides it, mostly for tests. */
#define SMBD_BREAK_TIMEOUT_DEFAULT 35

uint32_t oplock_level_to_lease_state(uint8_t level);
/* RWH -> batch, RW -> exclusive, R/RH -> level II, else none */
uint8_t oplock_lease_state_to_level(uint32_t state);

/* An open that only reads or writes attributes: it neither breaks
 * oplocks nor is refused one ("stat open", [MS-FSA] 2.1.5.1.2). */
bool oplock_is_stat_open(uint32_t access_mask);
/* The same for lease holders, which also ignore READ_CONTROL opens. */
bool oplock_is_lease_stat_open(uint32_t access_mask);

/* One existing open of the file, as the engine sees it. */
struct oplock_holder {
	uint8_t oplock_level;	/* SMB2_OPLOCK_LEVEL_*, LEASE for a lease */
	uint32_t state;		/* lease: current state; oplock: derived */
	bool breaking;		/* lease: a break is in progress */
	uint32_t access_mask;
	bool same_lease;	/* the very lease the new open asks for */
	bool stale;		/* its process is gone */
	/* out of oplock_check_breaks() */
	bool send_break;
	uint32_t break_to;	/* lease bits; for an oplock R or NONE */
};

/* The open being made. */
struct oplock_request {
	uint8_t oplock_level;	/* requested SMB2_OPLOCK_LEVEL_* */
	uint32_t lease_state;	/* requested, when oplock_level is LEASE */
	uint32_t access_mask;	/* granted access of the new open */
	bool sharing_violation; /* share modes refuse it as things stand */
	bool will_overwrite;	/* SUPERSEDE, OVERWRITE, OVERWRITE_IF */
	bool first_attempt;	/* not a retry after waiting for a break */
	bool is_dir;
	bool level2_allowed;	/* "level2 oplocks" */
	bool oplocks_allowed;	/* "oplocks" */
	bool has_brlocks;	/* the file has byte-range locks */
	bool was_overwritten;	/* the open truncated the file */
};

/*
 * Break phase.  Marks in h[] which holders get a break and to what;
 * returns true when the new open must wait for them (a W holder to be
 * broken, or an H holder on a sharing violation, or a lease still
 * breaking).  A stat open breaks nothing.
 */
bool oplock_check_breaks(const struct oplock_request *r,
			 struct oplock_holder *h, size_t n);

/*
 * Grant phase: what the new open gets, given the other opens (h[] holds
 * the other entries of the file, the new open itself excluded; a holder
 * with same_lease set is the lease the new open shares).  Returns the
 * lease bits granted and sets *level to the OplockLevel of the reply
 * (LEASE when a lease was requested).
 */
uint32_t oplock_grant(const struct oplock_request *r,
		      const struct oplock_holder *h, size_t n, uint8_t *level);

/*
 * Level II / R contention ([MS-FSA] 2.1.4.12 for writes, truncation and
 * byte-range locks): every other holder with R (except those sharing the
 * writer's lease) is broken to none without acknowledgement.  Returns the
 * number of holders marked in h[] (send_break, break_to = NONE).
 */
size_t oplock_contend_level2(struct oplock_holder *h, size_t n);

#endif
