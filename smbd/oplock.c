/*
 * Oplock and lease decisions (oplock.h): which holders a new open breaks,
 * whether it waits, and what it is granted.  The rules are those of
 * [MS-SMB2] 3.3.5.9 and [MS-FSA] 2.1.5.17 / 2.1.4.12 as Windows and
 * Samba apply them (smbtorture smb2.oplock and smb2.lease).
 */
#include "smbd/oplock.h"

#include "smbd/smb2_wire.h"

uint32_t oplock_level_to_lease_state(uint8_t level)
{
	switch (level) {
	case SMB2_OPLOCK_LEVEL_II:
		return SMB2_LEASE_READ;
	case SMB2_OPLOCK_LEVEL_EXCLUSIVE:
		return SMB2_LEASE_READ | SMB2_LEASE_WRITE;
	case SMB2_OPLOCK_LEVEL_BATCH:
		return SMB2_LEASE_READ | SMB2_LEASE_WRITE | SMB2_LEASE_HANDLE;
	default:
		return SMB2_LEASE_NONE;
	}
}

uint8_t oplock_lease_state_to_level(uint32_t state)
{
	if ((state & (SMB2_LEASE_READ | SMB2_LEASE_WRITE)) ==
	    (SMB2_LEASE_READ | SMB2_LEASE_WRITE)) {
		return (state & SMB2_LEASE_HANDLE) ? SMB2_OPLOCK_LEVEL_BATCH
						   : SMB2_OPLOCK_LEVEL_EXCLUSIVE;
	}
	if (state & SMB2_LEASE_READ) {
		return SMB2_OPLOCK_LEVEL_II;
	}
	return SMB2_OPLOCK_LEVEL_NONE;
}

static bool only_bits(uint32_t access_mask, uint32_t bits)
{
	return (access_mask & bits) != 0 && (access_mask & ~bits) == 0;
}

bool oplock_is_stat_open(uint32_t access_mask)
{
	return only_bits(access_mask, SEC_STD_SYNCHRONIZE |
					      SEC_FILE_READ_ATTRIBUTE |
					      SEC_FILE_WRITE_ATTRIBUTE);
}

bool oplock_is_lease_stat_open(uint32_t access_mask)
{
	return only_bits(access_mask,
			 SEC_STD_SYNCHRONIZE | SEC_FILE_READ_ATTRIBUTE |
				 SEC_FILE_WRITE_ATTRIBUTE |
				 SEC_STD_READ_CONTROL);
}

static uint32_t holder_state(const struct oplock_holder *h)
{
	if (h->oplock_level == SMB2_OPLOCK_LEVEL_LEASE) {
		return h->state;
	}
	return oplock_level_to_lease_state(h->oplock_level);
}

/*
 * What must go depends on why the open conflicts: a sharing violation
 * can only be resolved by the holder closing its cached handle, so H is
 * broken (and waited for); otherwise two writers cannot cache, so W is
 * broken.  An overwrite invalidates cached data (R) as well; the holder
 * then goes straight to none where it breaks at all.
 */
bool oplock_check_breaks(const struct oplock_request *r,
			 struct oplock_holder *h, size_t n)
{
	uint32_t delay_mask = r->sharing_violation ? SMB2_LEASE_HANDLE
						   : SMB2_LEASE_WRITE;
	bool delay = false;
	size_t i;

	for (i = 0; i < n; i++) {
		h[i].send_break = false;
		h[i].break_to = 0;
	}
	if (oplock_is_stat_open(r->access_mask)) {
		return false;
	}
	for (i = 0; i < n; i++) {
		struct oplock_holder *e = &h[i];
		bool is_lease = e->oplock_level == SMB2_OPLOCK_LEVEL_LEASE;
		uint32_t cur = holder_state(e);
		uint32_t break_to;

		if (is_lease && e->same_lease) {
			continue; /* one's own lease never breaks */
		}
		if (is_lease && oplock_is_lease_stat_open(r->access_mask)) {
			continue;
		}
		break_to = cur & ~delay_mask;
		if (r->will_overwrite && !(delay_mask & SMB2_LEASE_HANDLE)) {
			break_to &= ~(SMB2_LEASE_HANDLE | SMB2_LEASE_READ);
		}
		if ((cur & ~break_to) == 0) {
			/* nothing to take away; a lease still breaking
			 * (to whatever) must finish first */
			if (e->breaking) {
				delay = true;
			}
			continue;
		}
		if (e->stale) {
			continue;
		}
		if (r->will_overwrite && !(delay_mask & SMB2_LEASE_HANDLE)) {
			break_to &= ~(SMB2_LEASE_READ | SMB2_LEASE_WRITE);
		}
		if (!is_lease) {
			/* an oplock breaks to level II or none */
			break_to &= ~(SMB2_LEASE_HANDLE | SMB2_LEASE_WRITE);
		}
		if (cur & delay_mask) {
			delay = true;
		}
		if (e->breaking && !r->first_attempt) {
			delay = true;
		}
		e->send_break = true;
		e->break_to = break_to;
	}
	return delay;
}

uint32_t oplock_grant(const struct oplock_request *r,
		      const struct oplock_holder *h, size_t n, uint8_t *level)
{
	bool want_lease = r->oplock_level == SMB2_OPLOCK_LEVEL_LEASE;
	uint32_t granted = want_lease
				   ? (r->lease_state & SMB2_LEASE_MASK)
				   : oplock_level_to_lease_state(r->oplock_level);
	bool got_handle_lease = false, got_oplock = false;
	bool disallow_write = false;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct oplock_holder *e = &h[i];
		bool is_lease = e->oplock_level == SMB2_OPLOCK_LEVEL_LEASE;

		if (e->stale) {
			continue;
		}
		if (holder_state(e) & SMB2_LEASE_HANDLE) {
			got_handle_lease = true;
		}
		if (!is_lease && e->oplock_level != SMB2_OPLOCK_LEVEL_NONE) {
			got_oplock = true;
		}
		/* W needs to be alone: any other oplock or lease (even one
		 * broken to none) or any open beyond attributes forbids it */
		if ((e->oplock_level != SMB2_OPLOCK_LEVEL_NONE ||
		     !oplock_is_stat_open(e->access_mask)) &&
		    !(is_lease && e->same_lease)) {
			disallow_write = true;
		}
	}

	if (!r->oplocks_allowed) {
		granted = SMB2_LEASE_NONE;
	}
	if (r->is_dir) {
		/* Windows ignores W on directories ([MS-FSA] 2.1.5.18 says
		 * INVALID_PARAMETER, Windows 2022 does not) */
		granted &= ~SMB2_LEASE_WRITE;
	}
	if (want_lease) {
		/* R or RW with or without H; W or WH alone are not leases
		 * anybody can have */
		if ((granted & (SMB2_LEASE_READ | SMB2_LEASE_WRITE)) == 0 ||
		    granted == SMB2_LEASE_WRITE ||
		    granted == (SMB2_LEASE_WRITE | SMB2_LEASE_HANDLE)) {
			granted = SMB2_LEASE_NONE;
		}
	}
	if (!r->was_overwritten && r->has_brlocks) {
		granted &= ~(SMB2_LEASE_READ | SMB2_LEASE_HANDLE);
	}
	if (disallow_write) {
		granted &= ~SMB2_LEASE_WRITE;
	}
	if ((granted & SMB2_LEASE_READ) && !(granted & SMB2_LEASE_WRITE) &&
	    !r->level2_allowed) {
		granted = SMB2_LEASE_NONE;
	}
	if (want_lease) {
		if (got_oplock) {
			granted &= ~SMB2_LEASE_HANDLE;
		}
		*level = SMB2_OPLOCK_LEVEL_LEASE;
		return granted;
	}
	if (got_handle_lease) {
		granted = SMB2_LEASE_NONE;
	}
	*level = oplock_lease_state_to_level(granted);
	return oplock_level_to_lease_state(*level);
}

size_t oplock_contend_level2(struct oplock_holder *h, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++) {
		struct oplock_holder *e = &h[i];
		bool is_lease = e->oplock_level == SMB2_OPLOCK_LEVEL_LEASE;

		e->send_break = false;
		e->break_to = SMB2_LEASE_NONE;
		if (e->stale || !(holder_state(e) & SMB2_LEASE_READ)) {
			continue;
		}
		if (is_lease && e->same_lease) {
			continue; /* the writer's own lease */
		}
		if (!is_lease && e->oplock_level != SMB2_OPLOCK_LEVEL_II) {
			continue; /* a W holder is alone: it is the writer */
		}
		e->send_break = true;
		count++;
	}
	return count;
}
