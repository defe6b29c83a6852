/*
 * Internals shared by oplock_break.c (the process side: break requests,
 * holders, acknowledgements, timers, contention, rename breaks) and
 * oplock_open.c (the CREATE side: request, key check, breaks and wait,
 * grant, reply).  Not for other files: oplock_break.h is the interface.
 *
 * Lock order: a share-mode record first, then a lease record (as the
 * CREATE path holds them); a lease record is never held while locking a
 * share-mode record.
 */
#ifndef SMBD_OPLOCK_PRIVATE_H
#define SMBD_OPLOCK_PRIVATE_H

#include "dbwrap/dbwrap.h"
#include "smbd/oplock_break.h"
#include "smbd/share_mode_db.h"

/* A waiting open gives up waiting this long after the holder's own
 * timeout should have fired, and looks again. */
#define WAIT_MARGIN_S 5

struct smbd_lease;

struct smbd_oplock_ctx {
	struct smbd_client *client;
	struct db_context *leases_db;
	struct smbd_lease *leases; /* DLIST */
	unsigned timeout_s;
	bool registered;
};

/* One lease of this process on one file: what its opens share. */
struct smbd_lease {
	struct smbd_lease *prev, *next;
	struct smbd_oplock_ctx *ctx;
	uint8_t key[16];
	uint64_t dev, ino;
	char *stream;
	unsigned refs;
	struct tevent_timer *timeout;
	uint16_t timeout_epoch;
	struct tevent_immediate *im; /* a follow-up break after an ack */
	struct lease_break_notice pending;
	uint16_t pending_epoch; /* the record's epoch at that break */
};

struct smbd_open_oplock {
	struct smbd_open *op;
	uint64_t dev, ino;
	uint8_t level; /* granted SMB2_OPLOCK_LEVEL_*, LEASE for a lease */
	bool breaking;
	uint8_t breaking_to;
	struct tevent_timer *timeout;
	struct smbd_lease *lease;
	/* the lease as the CREATE reply tells it */
	struct smb2_lease reply;
};

/*
 * The opens of the same stream (a named stream is a file of its own for
 * oplocks and leases, as on Windows; the share-mode record holds the
 * base file's and its streams' opens) as oplock_check_breaks() and
 * oplock_grant() see them, leases with their state from leases.tdb.
 * idx[k] is the record entry of h[k].
 */
struct holder_set {
	struct oplock_holder *h;
	uint32_t *idx;
	uint32_t n;
};

/* The share-mode entries of (guid, key) on a file. */
struct lease_use {
	const uint8_t *guid, *key;
	bool found;
};

/* This process's context, created on first use (leases.tdb opened,
 * MSG_SMB_BREAK_REQUEST registered). */
struct smbd_oplock_ctx *smbd_oplock_ctx_get(struct smbd_client *client);

/* SHARE_MODE_OPLOCK_* <-> SMB2_OPLOCK_LEVEL_* */
uint8_t oplock_entry_level(uint8_t oplock_type);
uint8_t oplock_level_to_entry(uint8_t level);

/* leases.tdb: read without a lock; store (deleted when no file is left);
 * lock and decode (*r NULL when there is none). */
NTSTATUS oplock_lease_fetch(struct smbd_oplock_ctx *ctx, TALLOC_CTX *mem_ctx,
			    const uint8_t guid[16], const uint8_t key[16],
			    struct lease_record **r);
NTSTATUS oplock_lease_store(struct db_record *rec, const struct lease_record *r);
struct db_record *oplock_lease_lock(struct smbd_oplock_ctx *ctx,
				    TALLOC_CTX *mem_ctx, const uint8_t guid[16],
				    const uint8_t key[16],
				    struct lease_record **r);

bool oplock_holders_of(struct smbd_oplock_ctx *ctx, TALLOC_CTX *mem_ctx,
		       struct share_mode_lock *lck, const char *stream,
		       const struct smbd_oplock_want *want,
		       struct holder_set *set);
void oplock_send_breaks(struct smbd_oplock_ctx *ctx,
			const struct share_mode_lock *lck,
			const struct holder_set *set);

/* This process's lease object of key on (dev, ino, stream), or of key on
 * any file with any_file. */
struct smbd_lease *oplock_lease_find(struct smbd_oplock_ctx *ctx,
				     const uint8_t key[16], uint64_t dev,
				     uint64_t ino, const char *stream,
				     bool any_file);

/* Free l when no open uses it and no break timer runs. */
void oplock_lease_put(struct smbd_lease *l);

bool oplock_entries_use_lease(const struct share_mode_data *d,
			      const uint8_t guid[16], const uint8_t key[16]);
void oplock_lease_use_parser(struct db_data key, struct db_data data,
			     void *private_data);

#endif
