/*
 * The share-mode database: locking.tdb through dbwrap (share_mode_db.h).
 *
 * Dead owners.  An smbd process that dies without closing (kill -9, a
 * crash) leaves its entries behind.  Whoever locks the record next asks
 * server_id_is_alive() about every owner and drops the entries of the
 * dead (as Samba does with its stale share-mode entries), and the parent
 * removes all entries of each child it reaps (share_mode_cleanup_owner).
 * When that leaves a name delete-pending with no open of it, the delete
 * the dead process owed is carried out here: the last handle of a
 * delete-pending file is gone, so Windows would delete it now.  That
 * unlink runs as root in the caller's event loop: the right to delete
 * was checked when the file was marked (the marking handle held DELETE),
 * and the file is only removed if the name still leads to the inode the
 * record is about.
 */
#include "smbd/share_mode_db.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dbwrap/dbwrap.h"
#include "lib/param/loadparm.h"
#include "lib/util/debug.h"
#include "smbd/share_mode.h"
#include "smbd/smbd_cluster.h"
#include "smbd/streams.h"
#include "smbd/vfs/vfs_posix.h"

#define SHARE_MODE_DB_NAME "locking"

/* Only these rights take part in share-mode checks ([MS-FSA]
 * 2.1.5.1.2): an open for attributes alone never conflicts. */
#define SHARE_RELEVANT_ACCESS                                                  \
	(SEC_FILE_READ_DATA | SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA |     \
	 SEC_FILE_EXECUTE | SEC_STD_DELETE)

struct db_context *share_mode_db_open(TALLOC_CTX *mem_ctx,
				      struct messaging_context *msg,
				      const struct smb_conf *conf)
{
	return smbd_db_open(mem_ctx, msg, conf, SHARE_MODE_DB_NAME);
}

/* The per-process handle hangs off the client: its lifetime is the
 * process's. */
struct db_context *share_mode_db(struct smbd_client *client)
{
	if (client->share_mode_db == NULL) {
		client->share_mode_db = share_mode_db_open(
			client, client->msg, client->conf);
		if (client->share_mode_db == NULL) {
			DBG_ERR("cannot open the share-mode database %s\n",
				SHARE_MODE_DB_NAME);
		} else {
			smbd_share_mode_init_messages(client);
		}
	}
	return client->share_mode_db;
}

struct server_id share_mode_self(struct smbd_client *client)
{
	struct server_id id = { .pid = (uint32_t)getpid() };

	if (client->msg != NULL) {
		id = messaging_server_id(client->msg);
	}
	return id;
}

static bool owner_alive(struct messaging_context *msg,
			const struct server_id *owner)
{
	if (owner->node == 0 && owner->pid == (uint32_t)getpid()) {
		return true;
	}
	/*
	 * Every lock of a record asks this of every entry, so it must be
	 * cheap: for a process on this node one kill(pid, 0) says enough.
	 * server_id_is_alive() would also tell a reused pid from the owner
	 * (unique file, socket probe: 7 system calls, the largest single
	 * cost of an open/close pair in the open/close benchmark), but a
	 * child's pid cannot be reused before the parent reaps it, and the
	 * parent removes a reaped child's entries then
	 * (share_mode_cleanup_owner).
	 */
	if (msg != NULL && owner->node == messaging_server_id(msg).node) {
		return kill((pid_t)owner->pid, 0) == 0 || errno != ESRCH;
	}
	if (msg != NULL) {
		return server_id_is_alive(msg, owner);
	}
	/* without messaging: only this node's processes are known */
	return owner->node != 0 || owner->pid == 0 ||
	       kill((pid_t)owner->pid, 0) == 0 || errno != ESRCH;
}

static bool any_entry_of(const struct share_mode_data *d, const char *name)
{
	uint32_t i;

	for (i = 0; i < d->num_entries; i++) {
		if (name == NULL ||
		    share_mode_stream_equal(d->entries[i].stream_name, name)) {
			return true;
		}
	}
	return false;
}

/*
 * Carry out the delete-pending names nobody has open any more (after
 * dead owners were dropped): a stream is removed from its base file, the
 * base file (with its streams) when no open of the file is left at all.
 * As root; see the comment at the top.
 */
/*
 * Would the kernel let uid do what the delete needs (want: W_OK on st)?
 * These deletes run as root, so the unix permission check the user's
 * own CLOSE would have met is made here: owner, group (primary and
 * supplementary, from the passwd/group databases) and other bits; no
 * POSIX ACLs (a user they would let through just keeps the file).
 */
static bool uid_may_write(uint32_t uid, const struct stat *st)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	gid_t groups[256];
	int ngroups = 256, i;

	if (uid == 0) {
		return true;
	}
	if (uid == UINT32_MAX) {
		return false; /* who marked it is unknown */
	}
	if (st->st_uid == uid) {
		return (st->st_mode & S_IWUSR) != 0;
	}
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL) {
		return (st->st_mode & S_IWOTH) != 0;
	}
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ngroups) < 0) {
		ngroups = 0;
	}
	for (i = 0; i < ngroups; i++) {
		if (groups[i] == st->st_gid) {
			return (st->st_mode & S_IWGRP) != 0;
		}
	}
	if (pw.pw_gid == st->st_gid) {
		return (st->st_mode & S_IWGRP) != 0;
	}
	return (st->st_mode & S_IWOTH) != 0;
}

/* May uid unlink the file st (whose directory is dir)?  Write and
 * search on the directory, and with the sticky bit, own one of them. */
static bool uid_may_unlink(uint32_t uid, const struct stat *dir,
			   const struct stat *st)
{
	if (uid == 0) {
		return true;
	}
	if (!uid_may_write(uid, dir)) {
		return false;
	}
	if ((dir->st_mode & S_ISVTX) && dir->st_uid != uid &&
	    st->st_uid != uid) {
		return false;
	}
	return true;
}

static bool delete_orphaned(uint64_t dev, uint64_t ino,
			    struct share_mode_data *d)
{
	bool deleted = false;
	struct vfs_share *share = NULL;
	struct vfs_stat vst;
	bool is_dir;
	uint32_t i;
	NTSTATUS status;
	int fd = -1;

	if (d->num_deletes == 0 || d->share_path == NULL ||
	    d->relpath == NULL || d->relpath[0] == '\0') {
		return false;
	}
	status = vfs_share_open(d, d->share_path, false, &share);
	if (!NT_STATUS_IS_OK(status)) {
		goto fail;
	}
	status = vfs_openat(share, d->relpath, O_PATH | O_NOFOLLOW, 0, &fd);
	if (NT_STATUS_IS_OK(status)) {
		status = vfs_fstat(fd, &vst);
	}
	if (!NT_STATUS_IS_OK(status)) {
		goto fail;
	}
	/* the record's key is the device as smbd_file_meta reports it
	 * (major << 32 | minor, dosmode.c) */
	if ((((uint64_t)major(vst.st.st_dev) << 32) |
	     (uint64_t)minor(vst.st.st_dev)) != dev ||
	    (uint64_t)vst.st.st_ino != ino) {
		/* renamed over or replaced meanwhile: not ours to delete */
		status = NT_STATUS_OBJECT_NAME_NOT_FOUND;
		goto fail;
	}
	is_dir = S_ISDIR(vst.st.st_mode);
	for (i = 0; i < d->num_deletes;) {
		const char *name = d->deletes[i].name;

		if (name[0] == '\0' || any_entry_of(d, name)) {
			i++;
			continue;
		}
		if (fd != -1 && !is_dir &&
		    uid_may_write(d->deletes[i].uid, &vst.st)) {
			int rfd = -1;
			/* xattr calls need a real fd, not O_PATH */
			if (NT_STATUS_IS_OK(vfs_openat(share, d->relpath,
						       O_RDONLY | O_NOFOLLOW,
						       0, &rfd))) {
				(void)smbd_stream_delete(rfd, name);
				close(rfd);
			}
		}
		(void)share_mode_data_set_delete(d, name, false, 0);
	}
	if (share_mode_data_delete_pending(d, NULL) && d->num_entries == 0) {
		uint32_t uid = UINT32_MAX;
		const char *last;
		struct stat dst;
		int dirfd = -1;

		for (i = 0; i < d->num_deletes; i++) {
			if (d->deletes[i].name[0] == '\0') {
				uid = d->deletes[i].uid;
			}
		}
		status = vfs_open_parent(share, d->relpath, &dirfd, &last);
		if (NT_STATUS_IS_OK(status)) {
			if (fstat(dirfd, &dst) != 0 ||
			    !uid_may_unlink(uid, &dst, &vst.st)) {
				status = NT_STATUS_ACCESS_DENIED;
			}
			close(dirfd);
		}
		if (NT_STATUS_IS_OK(status)) {
			status = vfs_unlinkat(share, d->relpath, is_dir);
		}
		deleted = NT_STATUS_IS_OK(status);
		DBG_NOTICE("'%s/%s': delete-on-close after its owner died: "
			   "%s\n", d->share_path, d->relpath,
			   nt_errstr(status));
		(void)share_mode_data_set_delete(d, NULL, false, 0);
	}
	close(fd);
	talloc_free(share);
	return deleted;
fail:
	DBG_NOTICE("'%s/%s': delete-on-close after its owner died: %s\n",
		   d->share_path, d->relpath, nt_errstr(status));
	if (fd != -1) {
		close(fd);
	}
	talloc_free(share);
	/* nothing left to delete: forget the names, or the record would
	 * stay forever */
	if (d->num_entries == 0) {
		TALLOC_FREE(d->deletes);
		d->num_deletes = 0;
	}
	return false;
}

/* Drop entries of dead owners; true if any went.  *deleted: the file
 * they left delete-pending is gone now. */
static bool drop_dead(struct messaging_context *msg, uint64_t dev,
		      uint64_t ino, struct share_mode_data *d, bool *deleted)
{
	bool dropped = false;
	uint32_t i = 0;

	while (i < d->num_entries) {
		if (owner_alive(msg, &d->entries[i].owner)) {
			i++;
			continue;
		}
		DBG_NOTICE("'%s': dropping the open of dead process %u\n",
			   d->relpath != NULL ? d->relpath : "?",
			   (unsigned)d->entries[i].owner.pid);
		share_mode_data_remove_entry(d, i);
		dropped = true;
	}
	if (dropped) {
		*deleted = delete_orphaned(dev, ino, d);
	}
	return dropped;
}

void share_mode_lock_delete_orphaned(struct share_mode_lock *lck)
{
	struct share_mode_data *d = lck->data;
	uint32_t before = d->num_deletes;
	uint32_t i;
	bool orphan = false;

	for (i = 0; i < d->num_deletes; i++) {
		const char *name = d->deletes[i].name;

		if (name[0] == '\0' ? d->num_entries == 0
				     : !any_entry_of(d, name)) {
			orphan = true;
		}
	}
	if (!orphan) {
		return;
	}
	if (delete_orphaned(lck->dev, lck->ino, d)) {
		lck->file_deleted = true;
	}
	if (d->num_deletes != before) {
		lck->modified = true;
	}
}

static int share_mode_lock_destructor(struct share_mode_lock *lck)
{
	if (lck->modified && lck->rec != NULL) {
		NTSTATUS status = share_mode_lock_store(lck);
		/* Only a dead-owner cleanup (or a wake-up) is stored here
		 * (callers store their own changes, in a retry loop):
		 * losing it to another node's change of the record
		 * (NT_STATUS_RETRY) loses nothing, the next locker cleans
		 * up again and the other change woke the watchers. */
		if (NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
			DBG_DEBUG("share modes changed on another node\n");
		} else if (!NT_STATUS_IS_OK(status)) {
			DBG_ERR("storing share modes: %s\n", nt_errstr(status));
		}
	}
	TALLOC_FREE(lck->rec);
	return 0;
}

struct share_mode_lock *share_mode_lock_get(TALLOC_CTX *mem_ctx,
					    struct smbd_client *client,
					    uint64_t dev, uint64_t ino)
{
	struct db_context *db = share_mode_db(client);
	struct share_mode_lock *lck;
	uint8_t key[SHARE_MODE_KEY_SIZE];
	struct db_data value;
	NTSTATUS status;

	if (db == NULL) {
		return NULL;
	}
	lck = talloc_zero(mem_ctx, struct share_mode_lock);
	if (lck == NULL) {
		return NULL;
	}
	lck->client = client;
	lck->dev = dev;
	lck->ino = ino;
	share_mode_key_push(key, dev, ino);
	lck->rec = dbwrap_fetch_locked(db, lck, db_data_make(key, sizeof(key)));
	if (lck->rec == NULL) {
		talloc_free(lck);
		return NULL;
	}
	talloc_set_destructor(lck, share_mode_lock_destructor);
	value = dbwrap_record_get_value(lck->rec);
	if (value.dsize != 0) {
		status = share_mode_record_pull(lck, value.dptr, value.dsize,
						&lck->data);
		if (!NT_STATUS_IS_OK(status)) {
			DBG_ERR("share-mode record of %llx:%llx: %s; "
				"starting afresh\n", (unsigned long long)dev,
				(unsigned long long)ino, nt_errstr(status));
			lck->data = NULL;
			lck->modified = true;
		}
	}
	if (lck->data == NULL) {
		lck->data = talloc_zero(lck, struct share_mode_data);
		if (lck->data == NULL) {
			talloc_free(lck);
			return NULL;
		}
		lck->fresh = value.dsize == 0;
		return lck;
	}
	if (drop_dead(client->msg, dev, ino, lck->data, &lck->file_deleted)) {
		lck->modified = true;
	}
	return lck;
}

NTSTATUS share_mode_lock_store(struct share_mode_lock *lck)
{
	struct share_mode_data *d = lck->data;
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	lck->modified = false;
	if (d->num_entries == 0 && d->num_deletes == 0) {
		if (lck->fresh) {
			return NT_STATUS_OK;
		}
		status = dbwrap_record_delete(lck->rec);
		if (NT_STATUS_IS_OK(status)) {
			lck->fresh = true;
		}
		return status;
	}
	d->seqnum++;
	if (d->share_path == NULL) {
		d->share_path = talloc_strdup(d, "");
	}
	if (d->relpath == NULL) {
		d->relpath = talloc_strdup(d, "");
	}
	if (d->share_path == NULL || d->relpath == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = share_mode_record_push(lck, d, &buf, &len);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = dbwrap_record_store(lck->rec, db_data_make(buf, len));
	talloc_free(buf);
	if (NT_STATUS_IS_OK(status)) {
		lck->fresh = false;
	}
	return status;
}

NTSTATUS share_mode_lock_add_entry(struct share_mode_lock *lck,
				   const struct share_mode_entry *e)
{
	lck->modified = true;
	return share_mode_data_add_entry(lck->data, e);
}

static int find_index(const struct share_mode_lock *lck,
		      const struct server_id *owner, uint64_t file_id)
{
	uint32_t i;

	for (i = 0; i < lck->data->num_entries; i++) {
		const struct share_mode_entry *e = &lck->data->entries[i];

		if (e->file_id == file_id &&
		    server_id_equal(&e->owner, owner)) {
			return (int)i;
		}
	}
	return -1;
}

struct share_mode_entry *share_mode_lock_find(struct share_mode_lock *lck,
					      const struct server_id *owner,
					      uint64_t file_id)
{
	int i = find_index(lck, owner, file_id);

	return i >= 0 ? &lck->data->entries[i] : NULL;
}

bool share_mode_lock_remove(struct share_mode_lock *lck,
			    const struct server_id *owner, uint64_t file_id)
{
	int i = find_index(lck, owner, file_id);

	if (i < 0) {
		return false;
	}
	share_mode_data_remove_entry(lck->data, (uint32_t)i);
	lck->modified = true;
	return true;
}

NTSTATUS share_mode_lock_set_path(struct share_mode_lock *lck,
				  const char *share_path, const char *relpath)
{
	struct share_mode_data *d = lck->data;
	char *sp = talloc_strdup(d, share_path != NULL ? share_path : "");
	char *rp = talloc_strdup(d, relpath != NULL ? relpath : "");

	if (sp == NULL || rp == NULL) {
		talloc_free(sp);
		talloc_free(rp);
		return NT_STATUS_NO_MEMORY;
	}
	talloc_free(d->share_path);
	talloc_free(d->relpath);
	d->share_path = sp;
	d->relpath = rp;
	lck->modified = true;
	return NT_STATUS_OK;
}

static bool access_conflicts(uint32_t access, uint32_t other_share)
{
	if ((access & (SEC_FILE_READ_DATA | SEC_FILE_EXECUTE)) &&
	    !(other_share & FILE_SHARE_READ)) {
		return true;
	}
	if ((access & (SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA)) &&
	    !(other_share & FILE_SHARE_WRITE)) {
		return true;
	}
	if ((access & SEC_STD_DELETE) && !(other_share & FILE_SHARE_DELETE)) {
		return true;
	}
	return false;
}

NTSTATUS share_mode_lock_check(const struct share_mode_lock *lck,
			       const char *stream, uint32_t access,
			       uint32_t share_access)
{
	const struct share_mode_data *d = lck->data;
	uint32_t i;

	/* [MS-FSA] 2.1.5.1.2: a delete-pending file (or stream) takes no
	 * new opens; the streams of a delete-pending file neither */
	if (share_mode_data_delete_pending(d, stream) ||
	    share_mode_data_delete_pending(d, NULL)) {
		return NT_STATUS_DELETE_PENDING;
	}
	if (!(access & SHARE_RELEVANT_ACCESS)) {
		return NT_STATUS_OK;
	}
	for (i = 0; i < d->num_entries; i++) {
		const struct share_mode_entry *e = &d->entries[i];

		if (!(e->access_mask & SHARE_RELEVANT_ACCESS)) {
			continue;
		}
		if (stream == NULL && e->stream_name != NULL &&
		    (access & SEC_STD_DELETE) &&
		    !(e->share_access & FILE_SHARE_DELETE)) {
			/* deleting the file deletes its streams: a stream
			 * open that does not share delete refuses DELETE
			 * on the base file (smb2.streams.delete; Samba's
			 * open_streams_for_delete) */
			return NT_STATUS_SHARING_VIOLATION;
		}
		if (!share_mode_stream_equal(e->stream_name, stream)) {
			continue;
		}
		if (access_conflicts(access, e->share_access) ||
		    access_conflicts(e->access_mask, share_access)) {
			return NT_STATUS_SHARING_VIOLATION;
		}
	}
	return NT_STATUS_OK;
}

struct forall_state {
	share_mode_forall_fn fn;
	void *private_data;
};

static int forall_one(struct db_record *rec, void *private_data)
{
	struct forall_state *s = private_data;
	struct db_data key = dbwrap_record_get_key(rec);
	struct db_data value = dbwrap_record_get_value(rec);
	struct share_mode_data *d = NULL;
	uint64_t dev, ino;
	int ret;

	if (key.dsize != SHARE_MODE_KEY_SIZE ||
	    !NT_STATUS_IS_OK(share_mode_record_pull(NULL, value.dptr,
						    value.dsize, &d))) {
		return 0;
	}
	share_mode_key_pull(key.dptr, &dev, &ino);
	ret = s->fn(dev, ino, d, s->private_data);
	talloc_free(d);
	return ret;
}

NTSTATUS share_mode_forall(struct smbd_client *client,
			   share_mode_forall_fn fn, void *private_data)
{
	struct db_context *db = share_mode_db(client);
	struct forall_state s = { .fn = fn, .private_data = private_data };

	if (db == NULL) {
		return NT_STATUS_INTERNAL_DB_ERROR;
	}
	return dbwrap_traverse_read(db, forall_one, &s, NULL);
}

struct cleanup_state {
	smbd_owner_gone_fn gone;
	void *private_data;
	int removed;
	bool again; /* a store lost to another node's change */
};

static int cleanup_one(struct db_record *rec, void *private_data)
{
	struct cleanup_state *s = private_data;
	struct db_data key = dbwrap_record_get_key(rec);
	struct db_data value = dbwrap_record_get_value(rec);
	struct share_mode_data *d = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t dev, ino;
	uint32_t i = 0;
	bool dropped = false;

	if (key.dsize != SHARE_MODE_KEY_SIZE ||
	    !NT_STATUS_IS_OK(share_mode_record_pull(NULL, value.dptr,
						    value.dsize, &d))) {
		return 0;
	}
	share_mode_key_pull(key.dptr, &dev, &ino);
	int n = 0;

	while (i < d->num_entries) {
		if (s->gone(&d->entries[i].owner, s->private_data)) {
			share_mode_data_remove_entry(d, i);
			n++;
			dropped = true;
		} else {
			i++;
		}
	}
	if (dropped) {
		NTSTATUS status = NT_STATUS_OK;

		(void)delete_orphaned(dev, ino, d);
		if (d->num_entries == 0 && d->num_deletes == 0) {
			status = dbwrap_record_delete(rec);
		} else {
			d->seqnum++;
			if (NT_STATUS_IS_OK(share_mode_record_push(
				    d, d, &buf, &len))) {
				status = dbwrap_record_store(
					rec, db_data_make(buf, len));
			}
		}
		if (NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
			s->again = true; /* the next walk reads it anew */
		} else {
			s->removed += n;
		}
	}
	talloc_free(d);
	return 0;
}

int share_mode_cleanup(struct db_context *db, smbd_owner_gone_fn gone,
		       void *private_data)
{
	struct cleanup_state s = { .gone = gone,
				   .private_data = private_data };
	int walks = 0;

	if (db == NULL) {
		return 0;
	}
	do {
		s.again = false;
		(void)dbwrap_traverse(db, cleanup_one, &s, NULL);
	} while (s.again && ++walks < SMBD_CLEANUP_MAX_WALKS);
	return s.removed;
}

struct owner_match {
	uint32_t node, pid;
};

static bool is_that_process(const struct server_id *id, void *private_data)
{
	const struct owner_match *m = private_data;

	return id->node == m->node && id->pid == m->pid;
}

int share_mode_cleanup_owner(struct db_context *db, uint32_t node, pid_t pid)
{
	struct owner_match m = { .node = node, .pid = (uint32_t)pid };

	return share_mode_cleanup(db, is_that_process, &m);
}
