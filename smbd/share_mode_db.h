/*
 * The share-mode database (locking.tdb in the lock directory, volatile):
 * one REC_SHARE_MODE record per file that some smbd process has open
 * (encoding: share_mode_record.h), so that share modes, delete-on-close
 * and rename/delete of open files hold between processes.
 *
 * A file is named by its base file's device and inode (a stream's opens
 * are entries of its base file).  Every change happens under the record
 * lock:
 *
 *     struct share_mode_lock *lck =
 *             share_mode_lock_get(mem_ctx, client, dev, ino);
 *     if (lck == NULL) ...                         // NT_STATUS_NO_MEMORY
 *     for (i = 0; i < lck->data->num_entries; i++)  // look, decide
 *             ... lck->data->entries[i] ...
 *     share_mode_lock_add_entry(lck, &e);          // or change fields
 *     status = share_mode_lock_store(lck);        // encode + store;
 *                                                 // deleted if empty
 *     TALLOC_FREE(lck);                           // unlock
 *
 * share_mode_lock_get() drops the entries of dead owners before the
 * caller sees the record (and if that leaves a delete-pending file with
 * no opens, deletes the file: share_mode_db.c "dead owners").  A lock
 * that was changed and not stored is stored when it is freed, so a
 * cleanup is never lost.
 *
 * For the oplock/lease break logic: iterate lck->data->entries, set an
 * entry's oplock_type / client_guid / lease_key / flags, store; to wait
 * for a holder, watch the locked record before freeing it:
 *     subreq = dbwrap_watch_send(state, ev, lck->rec, holder_owner);
 *     TALLOC_FREE(lck);
 * Holding two share-mode locks at once is not allowed (dbwrap only
 * permits it in key order).
 */
#ifndef SMBD_SHARE_MODE_DB_H
#define SMBD_SHARE_MODE_DB_H

#include "smbd/share_mode_record.h"
#include "smbd/smbd.h"

struct db_context;
struct db_record;

struct share_mode_lock {
	struct smbd_client *client;
	struct db_record *rec; /* the locked record (dbwrap) */
	uint64_t dev, ino;
	/* The decoded record; a fresh empty one (share_path and relpath
	 * NULL, no entries) when the file has none.  Owned by the lock. */
	struct share_mode_data *data;
	bool fresh;	/* there was no record */
	bool modified;	/* changed since locked; stored at free if not */
	/* the dead-owner cleanup deleted the file (it was delete-pending
	 * and its last open died): a new open must not go on */
	bool file_deleted;
};

/* The database of this process, opened on first use; NULL if it cannot
 * be opened (logged). */
struct db_context *share_mode_db(struct smbd_client *client);

/* This process as an entry owner: its messaging id, or {0, pid, 0, 0}
 * without messaging. */
struct server_id share_mode_self(struct smbd_client *client);

/* Lock and decode the record of (dev, ino).  A record that cannot be
 * decoded is logged and treated as empty (it is overwritten at the next
 * store).  NULL when the database cannot be used. */
struct share_mode_lock *share_mode_lock_get(TALLOC_CTX *mem_ctx,
					    struct smbd_client *client,
					    uint64_t dev, uint64_t ino);

/* Encode and store (seqnum + 1), or delete the record when it has no
 * entries and no delete-pending names. */
NTSTATUS share_mode_lock_store(struct share_mode_lock *lck);

/* Helpers over lck->data; each marks the lock modified. */
NTSTATUS share_mode_lock_add_entry(struct share_mode_lock *lck,
				   const struct share_mode_entry *e);
/* The entry of (owner, file_id), or NULL. */
struct share_mode_entry *share_mode_lock_find(struct share_mode_lock *lck,
					      const struct server_id *owner,
					      uint64_t file_id);
/* Remove it; false if it was not there. */
bool share_mode_lock_remove(struct share_mode_lock *lck,
			    const struct server_id *owner, uint64_t file_id);
/* Set the paths (on creation and after a rename). */
NTSTATUS share_mode_lock_set_path(struct share_mode_lock *lck,
				  const char *share_path, const char *relpath);

/* Carry out the delete-pending names nobody has open any more (as
 * root, like the dead-owner cleanup: share_mode_db.c); for an open that
 * goes away without a CLOSE that could run the delete as its user. */
void share_mode_lock_delete_orphaned(struct share_mode_lock *lck);

/*
 * [MS-FSA] 2.1.5.1.2 share access check of a new open of stream (NULL:
 * the base file) against the entries of lck:
 * NT_STATUS_OK, SHARING_VIOLATION or DELETE_PENDING.
 */
NTSTATUS share_mode_lock_check(const struct share_mode_lock *lck,
			       const char *stream, uint32_t access,
			       uint32_t share_access);

/* Walk every record read-only (status CLI, rename checks).  fn returns
 * non-zero to stop.  Entries of dead owners are still in what fn sees. */
typedef int (*share_mode_forall_fn)(uint64_t dev, uint64_t ino,
				    const struct share_mode_data *d,
				    void *private_data);
NTSTATUS share_mode_forall(struct smbd_client *client,
			   share_mode_forall_fn fn, void *private_data);

/*
 * Remove every entry of (node, pid) from db (the parent, when it reaps a
 * child; db opened with share_mode_db_open()).  Files left delete-pending
 * with no opens are deleted.  Returns the number of entries removed.
 */
struct db_context *share_mode_db_open(TALLOC_CTX *mem_ctx,
				      struct messaging_context *msg,
				      const struct smb_conf *conf);
int share_mode_cleanup_owner(struct db_context *db, uint32_t node, pid_t pid);
/* The same for every entry whose owner gone() says is gone
 * (smbd_cluster.h smbd_owner_gone_fn). */
int share_mode_cleanup(struct db_context *db,
		       bool (*gone)(const struct server_id *owner,
				    void *private_data),
		       void *private_data);

#endif
