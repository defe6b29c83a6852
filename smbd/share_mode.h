/*
 * Share modes, delete-on-close and rename of open files between all
 * smbd processes ([MS-FSA] 2.1.5.1.2 "Algorithm to Check Sharing Access
 * to an Existing Stream or Directory", 2.1.5.4 "Server Requests Closing
 * an Open", 2.1.5.14.3 FileDispositionInformation).
 *
 * The glue between an smbd_open and its entry in the share-mode database
 * (share_mode_db.h; docs/share-modes.md):
 *   CREATE  opens the file without changing it, then
 *           smbd_share_mode_enter() checks the new open against every
 *           open of the file and adds its entry, under one record lock;
 *           only then may an overwrite truncate.
 *   CLOSE   smbd_share_mode_close_begin() decides whether this close
 *           deletes the file (or stream); the entry stays in the record
 *           until the delete is done (smbd_share_mode_close_end), so that
 *           new opens meanwhile see DELETE_PENDING.
 *   Freeing an open any other way (tree disconnect, logoff, connection
 *   loss) removes its entry and carries out a delete it was the last
 *   handle of.
 */
#ifndef SMBD_SHARE_MODE_H
#define SMBD_SHARE_MODE_H

#include "smbd/smbd.h"

/* The open's link to its entry (talloc child of the open; owned by a
 * closing request between close_begin and close_end). */
struct smbd_share_entry;

/*
 * op is complete (relpath, stream, is_dir, access_mask, share_access,
 * create_options, persistent_id) and its file is the base file (dev,
 * ino).  Lock the record, check op against the other opens and the
 * delete-pending names, and add op's entry.  NT_STATUS_OK (op's entry is
 * in the record and op->share_entry set), SHARING_VIOLATION,
 * DELETE_PENDING, or a database error.
 */
NTSTATUS smbd_share_mode_enter(struct smbd_open *op, uint64_t dev,
			       uint64_t ino);

/*
 * The same in steps, for a caller that does more under the record lock
 * (oplock/lease breaks and grant, oplock_break.h):
 *     lck = smbd_share_mode_lock_open(state, op, dev, ino);
 *     status = smbd_share_mode_check_open(lck, op);
 *     ... breaks; on a wait: watch lck->rec, free lck, start again ...
 *     smbd_share_mode_entry_init(op, &e);
 *     ... grant: set e.oplock_type, e.client_guid, e.lease_key ...
 *     status = smbd_share_mode_add_open(lck, op, &e);  // add + store
 *     TALLOC_FREE(lck);
 * check_open: OK, SHARING_VIOLATION, DELETE_PENDING, or
 * OBJECT_NAME_NOT_FOUND when a dead owner's pending delete just removed
 * the file.
 */
struct share_mode_entry;
struct share_mode_lock;
struct share_mode_lock *smbd_share_mode_lock_open(TALLOC_CTX *mem_ctx,
						  struct smbd_open *op,
						  uint64_t dev, uint64_t ino);
NTSTATUS smbd_share_mode_check_open(struct share_mode_lock *lck,
				    const struct smbd_open *op);
void smbd_share_mode_entry_init(const struct smbd_open *op,
				struct share_mode_entry *e);
NTSTATUS smbd_share_mode_add_open(struct share_mode_lock *lck,
				  struct smbd_open *op,
				  const struct share_mode_entry *e);

/*
 * CLOSE of op.  Marks op's name delete-pending if op was opened with
 * FILE_DELETE_ON_CLOSE, and says what this close must delete:
 * *delete_stream (op's named stream, no other open of it left),
 * *delete_file (the base file: no open of the file left at all).  When
 * either is true, *relpath is the base file's current path (a rename in
 * another process moves it) and *keep the entry, which the caller frees
 * with smbd_share_mode_close_end() once the delete is done; otherwise
 * op's entry is gone already and *keep is NULL.
 */
NTSTATUS smbd_share_mode_close_begin(struct smbd_open *op,
				     TALLOC_CTX *mem_ctx,
				     struct smbd_share_entry **keep,
				     bool *delete_file, bool *delete_stream,
				     char **relpath);
void smbd_share_mode_close_end(struct smbd_share_entry *keep);

/* FileDispositionInformation: mark (or unmark) op's name delete-pending
 * for every open of it, in every process. */
NTSTATUS smbd_share_mode_set_delete(struct smbd_open *op, bool on);
/* Is op's name (or its base file) delete-pending? */
bool smbd_share_mode_delete_pending(const struct smbd_open *op);

/*
 * May op (a file or directory) be renamed to newrel?  ACCESS_DENIED when
 * op is a directory with an open file below it; SHARING_VIOLATION when
 * the directory newrel goes into is open with DELETE access (Windows;
 * smbtorture smb2.rename, Samba bug 15861).  Any process's opens count.
 */
NTSTATUS smbd_share_mode_rename_check(struct smbd_open *op,
				      const char *newrel);
/* op was renamed to newrel: the record follows, and the other processes
 * with opens of the file are told (MSG_SMB_FILE_RENAMED) so their opens
 * carry the new name. */
void smbd_share_mode_renamed(struct smbd_open *op, const char *newrel);
/* Receive MSG_SMB_FILE_RENAMED in this process (share_mode_db() calls it
 * when it opens the database). */
void smbd_share_mode_init_messages(struct smbd_client *client);

#endif
