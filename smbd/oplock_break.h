/*
 * Oplocks and leases between smbd processes (docs/oplocks-leases.md).
 *
 * State:
 *   - the share-mode record (share_mode_db.h) says per open which
 *     oplock it holds (none, level II, exclusive, batch) or which lease
 *     (client guid + lease key);
 *   - leases.tdb (lease_record.h) holds each lease's state, epoch and
 *     break progress;
 *   - struct smbd_open_oplock (per open, this file) holds an oplock's
 *     break in progress and its timer; struct smbd_lease (per process
 *     and lease key) a lease's timer and version.
 *
 * A CREATE:
 *   1. smbd_oplock_want_parse()      RqLs context and OplockLevel
 *   2. smbd_lease_check_key()        a lease key names one file
 *   3. smbd_oplock_delay_for()       under the share-mode lock: send
 *                                    MSG_SMB_BREAK_REQUEST to holders;
 *                                    NT_STATUS_RETRY = wait:
 *      smbd_oplock_wait_send()       watch the record (blocker = holder),
 *                                    give up after the break timeout
 *                                    plus a margin; then try again
 *   4. smbd_oplock_grant()           under the lock, before the entry is
 *                                    added: what the open gets
 *   5. smbd_oplock_reply_*()         OplockLevel and the RqLs response
 *
 * The holder's process receives MSG_SMB_BREAK_REQUEST, sends the SMB2
 * break notification on its connection and starts the break timer; the
 * acknowledgement (smb2_break.c) or the timer lowers the oplock in the
 * share-mode entry, or the lease in leases.tdb (then touches the
 * share-mode record), and either change wakes the waiting open.
 */
#ifndef SMBD_OPLOCK_BREAK_H
#define SMBD_OPLOCK_BREAK_H

#include "smbd/lease_record.h"
#include "smbd/oplock.h"
#include "smbd/smbd.h"

struct share_mode_lock;
struct share_mode_entry;
struct server_id;
struct lease_break_notice;

/* What a CREATE asked for. */
struct smbd_oplock_want {
	uint8_t level; /* SMB2_OPLOCK_LEVEL_*, LEASE only with a lease */
	bool have_lease;
	struct smb2_lease lease;
};

/*
 * The requested OplockLevel and the "RqLs" context data (NULL if none)
 * ([MS-SMB2] 3.3.5.9.8, 3.3.5.9.11): a malformed lease context is
 * INVALID_PARAMETER; a lease key of zeros or a lease without the LEASE
 * level is ignored; v2 contexts are ignored before SMB 3.0, every lease
 * before SMB 2.1 and with "smb2 leases = no".
 */
NTSTATUS smbd_oplock_want_parse(struct smbd_request *req, uint8_t level,
				const uint8_t *rqls, uint32_t rqls_len,
				struct smbd_oplock_want *want);

/* A lease key already used by this client for another file (or stream)
 * refuses the open with INVALID_PARAMETER ([MS-SMB2] 3.3.5.9.8). */
NTSTATUS smbd_lease_check_key(struct smbd_client *client,
			      const struct smbd_oplock_want *want,
			      const char *share_path, const char *relpath,
			      const char *stream);

/*
 * Break phase, with lck locked (share_mode_db.h), for an open of stream
 * (NULL: the file itself; a stream's oplocks and leases are its own).
 * sharing_violation
 * says whether the share-mode check refused the open.  Returns
 *   NT_STATUS_OK                   go on (no violation),
 *   NT_STATUS_SHARING_VIOLATION    the violation stands,
 *   NT_STATUS_RETRY                breaks are on their way: wait
 *                                  (smbd_oplock_wait_send with *blocker),
 *                                  then lock again and call this again
 *                                  with first_attempt false.
 */
NTSTATUS smbd_oplock_delay_for(struct smbd_client *client,
			       struct share_mode_lock *lck, const char *stream,
			       const struct smbd_oplock_want *want,
			       uint32_t access_mask, uint32_t disposition,
			       bool sharing_violation, bool first_attempt,
			       struct server_id *blocker);

/*
 * The CREATE's share-mode step (share_mode.h) with oplocks and leases:
 * under one record lock, check share modes, break what stands in the
 * way, grant op's oplock or lease and add op's entry.  NT_STATUS_RETRY
 * when the open must wait for a break: *wait (on mem_ctx) completes when
 * it is worth calling this again with first_attempt false.
 */
NTSTATUS smbd_oplock_enter(struct smbd_open *op, uint64_t dev, uint64_t ino,
			   const struct smbd_oplock_want *want,
			   bool will_overwrite, bool created,
			   bool first_attempt, TALLOC_CTX *mem_ctx,
			   struct tevent_req **wait);

/* Wait for lck's record to change or blocker to die; registers the watch
 * while lck is still locked (free lck afterwards).  Completes OK also
 * when the wait times out (the caller simply tries again). */
struct tevent_req *smbd_oplock_wait_send(TALLOC_CTX *mem_ctx,
					 struct smbd_client *client,
					 struct share_mode_lock *lck,
					 struct server_id blocker);
NTSTATUS smbd_oplock_wait_recv(struct tevent_req *req);

/*
 * Grant phase, with lck locked and op's entry e not yet added: decides
 * what op gets, creates or upgrades the lease record, sets
 * e->oplock_type, e->client_guid, e->lease_key and op->oplock.
 */
NTSTATUS smbd_oplock_grant(struct smbd_open *op, struct share_mode_lock *lck,
			   const struct smbd_oplock_want *want,
			   struct share_mode_entry *e, bool was_overwritten,
			   bool created);

/* OplockLevel of the CREATE reply. */
uint8_t smbd_oplock_reply_level(const struct smbd_open *op);
/* The RqLs response context data for op (buf holds 52 bytes); 0 when
 * the reply carries none. */
size_t smbd_oplock_reply_lease(const struct smbd_open *op, uint8_t *buf);

/* A write, truncation or byte-range lock through op: every other level
 * II oplock and R lease of the file goes to none ([MS-FSA] 2.1.4.12). */
void smbd_oplock_contend_level2(struct smbd_open *op);

/* op's file was renamed to newrel: the leases on it follow, so that
 * their keys open the file by its new name. */
void smbd_oplock_renamed(struct smbd_open *op, const char *newrel);

/* Before renaming op's file: break the H of every other lease on it
 * and complete once none holds H any more. */
struct tevent_req *smbd_oplock_rename_breaks_send(TALLOC_CTX *mem_ctx,
						  struct smbd_open *op);
NTSTATUS smbd_oplock_rename_breaks_recv(struct tevent_req *req);

/* smb2_break.c: acknowledgements and notifications */
bool smbd_oplock_is_breaking(const struct smbd_open *op);
NTSTATUS smbd_oplock_ack(struct smbd_open *op, uint8_t level,
			 uint8_t *new_level);
NTSTATUS smbd_lease_ack(struct smbd_client *client, const uint8_t key[16],
			uint32_t state);
NTSTATUS smbd_send_oplock_break(struct smbd_open *op, uint8_t level);
NTSTATUS smbd_send_lease_break(struct smbd_client *client,
			       const uint8_t key[16],
			       const struct lease_break_notice *n);

#endif
