/*
 * Byte-range locks ([MS-FSA] 2.1.5.8 lock, 2.1.5.9 unlock, 2.1.4.10
 * conflict with I/O), docs/locking.md.
 *
 * Two layers:
 *
 * 1. Pure lock logic (brlock.c) on the locks of one stream, a
 *    struct brl_set: conflict rules, lock (atomic over several
 *    elements), unlock, the I/O check of READ/WRITE, removal of an
 *    open's or of dead processes' locks, and the record encoding
 *    (REC_BRLOCK, lib/util/marshall.h).  No I/O, no globals: unit-tested
 *    in smbd/tests/test_brlock.c.
 *
 * 2. The database (brlock_db.c): brlock.tdb in the lock directory,
 *    volatile, one record per stream keyed by the file's (dev, ino) and
 *    the stream name, holding the locks of every open of every smbd
 *    process.  A record is read for update with dbwrap_fetch_locked; locks
 *    of processes that died are dropped then.  Blocking locks wait with a
 *    record watch (smb2_lock.c).
 *
 * A lock belongs to an open: the smbd process that holds it (its
 * messaging server_id) and the open's persistent file id.  SMB2 has no
 * other lock context ([MS-SMB2] 2.2.26: locks are per handle; the PID of
 * the header plays no part, smbtorture smb2.lock.context).
 */
#ifndef SMBD_BRLOCK_H
#define SMBD_BRLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"
#include "messaging/messaging.h"

enum brl_type {
	BRL_SHARED = 1,
	BRL_EXCLUSIVE = 2,
};

/* Who holds a lock: one open of one process. */
struct brl_owner {
	struct server_id pid;
	uint64_t open_id; /* the open's persistent file id */
};

struct brl_lock {
	struct brl_owner owner;
	uint64_t start;
	uint64_t length; /* 0: a zero-length lock at start */
	enum brl_type type;
};

/* The locks of one stream, in the order they were granted. */
struct brl_set {
	struct brl_lock *locks; /* talloc array (or NULL when num is 0) */
	uint32_t num;
};

/* One element of a LOCK request, as brl_set_apply() takes it. */
enum brl_op {
	BRL_OP_SHARED,
	BRL_OP_EXCLUSIVE,
	BRL_OP_UNLOCK,
	/* a lock element inside an unlock request: refused with
	 * INVALID_PARAMETER when processing reaches it (smb2_lock_wire.h) */
	BRL_OP_INVALID,
};

struct brl_elem {
	uint64_t start;
	uint64_t length;
	enum brl_op op;
};

bool brl_owner_equal(const struct brl_owner *a, const struct brl_owner *b);

/*
 * [MS-FSA] 2.1.5.8: a non-empty range may end at the last byte of the
 * 64-bit space (offset 2^64-1, length 1) but not beyond it
 * (INVALID_LOCK_RANGE).
 */
bool brl_range_valid(uint64_t start, uint64_t length);

/*
 * Do two ranges overlap ([MS-FSA] 2.1.4.10)?  A zero-length range at O
 * touches a range that holds O and does not start there; two zero-length
 * ranges never overlap, and {0, 0} overlaps nothing.
 */
bool brl_ranges_overlap(uint64_t start1, uint64_t len1, uint64_t start2,
			uint64_t len2);

/*
 * Does the held lock conflict with an access by owner to [start,length)?
 * lock_intent: a lock request (exclusive = exclusive lock) or I/O
 * (exclusive = write).  [MS-FSA] 2.1.4.10: an exclusive lock lets its own
 * open read, write and stack shared locks on it; a shared lock stops
 * every writer (its own open too) and every exclusive lock.
 */
bool brl_conflicts(const struct brl_lock *held, const struct brl_owner *owner,
		   uint64_t start, uint64_t length, bool exclusive,
		   bool lock_intent);

/*
 * The most locks one stream may hold.  Every lock request is checked
 * against every lock of the stream and every READ/WRITE decodes the
 * record, so an unbounded list would let one client make the file slow
 * for all (a single LOCK may carry 65535 elements).  Windows' own limit
 * is memory; smbtorture needs a few hundred.
 */
#define BRL_MAX_LOCKS_PER_STREAM 10000

/*
 * Apply the elements of one LOCK request of owner to set.
 *
 * Locks (is_unlock false): every element is granted or none is: on the
 * first failure the elements granted so far are taken back (Windows,
 * smbtorture smb2.lock.multiple-unlock).  INVALID_LOCK_RANGE for a range
 * past 2^64-1, LOCK_NOT_GRANTED on a conflict; *blocker (may be NULL)
 * then gets the lock in the way.
 *
 * Unlocks: element by element ([MS-FSA] 2.1.5.9: the exclusive lock of
 * exactly that range first, else the oldest shared one), stopping at the
 * first that fails (RANGE_NOT_LOCKED, or INVALID_PARAMETER for
 * BRL_OP_INVALID); those done stay done ([MS-SMB2] 3.3.5.14.1).
 *
 * *changed (may be NULL) tells whether set differs afterwards.  The
 * locks array is reallocated on mem_ctx.  A lock request that would
 * take the stream past BRL_MAX_LOCKS_PER_STREAM is refused whole with
 * INSUFFICIENT_RESOURCES.
 */
NTSTATUS brl_set_apply(TALLOC_CTX *mem_ctx, struct brl_set *set,
		       const struct brl_owner *owner,
		       const struct brl_elem *elems, uint32_t num_elems,
		       bool is_unlock, struct brl_lock *blocker,
		       bool *changed);

/*
 * READ (write false) or WRITE of [start, start+length) by owner:
 * NT_STATUS_FILE_LOCK_CONFLICT if a lock is in the way ([MS-FSA]
 * 2.1.4.10 without lock intent), else OK.  An empty access never
 * conflicts.
 */
NTSTATUS brl_set_check_io(const struct brl_set *set,
			  const struct brl_owner *owner, uint64_t start,
			  uint64_t length, bool write);

/* Drop every lock of owner (the open closes); returns how many. */
uint32_t brl_set_remove_owner(struct brl_set *set,
			      const struct brl_owner *owner);

/* Drop the locks of processes for which alive() says false; returns
 * how many.  alive() is asked once per lock. */
uint32_t brl_set_remove_dead(struct brl_set *set,
			     bool (*alive)(const struct server_id *pid,
					   void *private_data),
			     void *private_data);

/*
 * REC_BRLOCK version 1: u32 count, then per lock the owner (node, pid,
 * task u32, unique u64, open id u64), start u64, length u64, type u8.
 * Decoding refuses unknown types, invalid ranges and a count that does
 * not fit (NT_STATUS_INTERNAL_DB_CORRUPTION); an empty buffer is an
 * empty set.
 */
NTSTATUS brl_set_encode(TALLOC_CTX *mem_ctx, const struct brl_set *set,
			uint8_t **out, size_t *out_len);
NTSTATUS brl_set_decode(TALLOC_CTX *mem_ctx, const uint8_t *buf, size_t len,
			struct brl_set *set);

/*
 * The record key of a stream: the file's dev and ino as two little-endian
 * u64 (dev as major << 32 | minor, brl_file_dev(), the file id that
 * locking.tdb and the rest of smbd use, so that the two databases key a
 * file alike), then for a named stream ':' and the stream name.  brl_key_make
 * returns it talloc'd (NULL on allocation failure); brl_key_parse splits
 * one (false if it is not a brlock key), *stream NULL for the file's own
 * data (a talloc copy otherwise).
 */
#define BRL_KEY_FILE_ID_SIZE 16
uint64_t brl_file_dev(dev_t dev);
uint8_t *brl_key_make(TALLOC_CTX *mem_ctx, uint64_t dev, uint64_t ino,
		      const char *stream, size_t *key_len);
bool brl_key_parse(TALLOC_CTX *mem_ctx, const uint8_t *key, size_t key_len,
		   uint64_t *dev, uint64_t *ino, char **stream);

/* ------------------------------------------------------------------
 * The database (brlock_db.c), event loop only.
 */
struct smbd_open;
struct smbd_client;
struct db_record;

/*
 * The byte-range lock database (smbd_db_open() "brlock": brlock.tdb in
 * the lock directory, or replicated), for processes without an
 * smbd_client (the smbd parent); NULL on failure (logged).  Children open
 * theirs on first use.
 */
struct smb_conf;
struct db_context *brl_db_open(TALLOC_CTX *mem_ctx,
			       struct messaging_context *msg,
			       const struct smb_conf *conf);

/*
 * Remove every lock of process (node, pid): the parent calls it for a
 * child that died without cleaning up (kill -9, crash), so that its locks
 * do not wait for the next update of each record and a recycled pid can
 * never revive them.  Stores wake the watchers (blocked LOCKs retry).
 * Returns the number of locks removed.
 */
int brl_cleanup_owner(struct db_context *db, uint32_t node, pid_t pid);
/* The same for every lock whose owner gone() says is gone
 * (smbd_cluster.h smbd_owner_gone_fn). */
int brl_cleanup(struct db_context *db,
		bool (*gone)(const struct server_id *owner, void *private_data),
		void *private_data);

/* The process's lock owner id for op. */
struct brl_owner smbd_brl_owner(const struct smbd_open *op);

/*
 * Apply a LOCK request's elements to op's stream in brlock.tdb (see
 * brl_set_apply).  When the result is LOCK_NOT_GRANTED and rec is not
 * NULL, *rec is the record, still locked, to watch (dbwrap_watch_send)
 * and then free; *blocker gets the owner in the way.  Otherwise the
 * record is released before returning.
 */
NTSTATUS smbd_brl_apply(TALLOC_CTX *mem_ctx, struct smbd_open *op,
			const struct brl_elem *elems, uint32_t num_elems,
			bool is_unlock, struct db_record **rec,
			struct server_id *blocker);

/* READ/WRITE: FILE_LOCK_CONFLICT if another open's lock (or, for a
 * write, any shared lock) covers the range. */
NTSTATUS smbd_brl_check_io(struct smbd_open *op, uint64_t offset,
			   uint64_t length, bool write);

/* Does op's stream have byte-range locks of any (live) open?  CREATE
 * grants no level II oplock then ([MS-FSA] 2.1.5.1.2.1, Samba's
 * smb2.oplock.brl*). */
bool smbd_brl_file_has_locks(struct smbd_open *op);

/*
 * The brlock state of an open: its file key, whether it holds locks, the
 * lock sequence array of [MS-SMB2] 3.3.5.14 and the blocking LOCK
 * requests waiting on it.  Created on first use as a talloc child of the
 * open; its destructor (the open is freed: CLOSE, tree disconnect,
 * logoff, connection loss) releases the open's locks in the database and
 * completes waiting requests with RANGE_NOT_LOCKED.
 */
struct smbd_brl_open;
struct smbd_brl_open *smbd_brl_open_get(struct smbd_open *op);

/* The lock sequence entries (LockSequenceIndex 1..64) of the open. */
uint8_t *smbd_brl_open_lock_sequence(struct smbd_brl_open *b);

/*
 * A blocking LOCK request waiting on op registers here, so that the
 * open's end completes it (fn is called once, with the open going
 * away).  The registration is a talloc object on mem_ctx: free it to
 * unregister.
 */
void *smbd_brl_open_add_waiter(TALLOC_CTX *mem_ctx, struct smbd_brl_open *b,
			       void (*fn)(void *private_data),
			       void *private_data);

#endif
