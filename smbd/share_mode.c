/*
 * Share modes of smbd opens on the share-mode database (share_mode.h).
 */
#include "smbd/share_mode.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dbwrap/dbwrap.h"
#include "lib/param/loadparm.h"
#include "lib/util/debug.h"
#include "lib/util/marshall.h"
#include "smbd/share_mode_db.h"
#include "smbd/smbd_cluster.h"
#include "smbd/streams.h"
#include "smbd/vfs/impersonate.h"
#include "smbd/vfs/threadpool.h"
#include "smbd/vfs/vfs_posix.h"

struct smbd_share_entry {
	struct smbd_client *client;
	struct smbd_open *op; /* NULL once a CLOSE took the entry over */
	uint64_t dev, ino;
	uint64_t file_id;
	struct server_id owner;
	char *stream; /* NULL: the base file */
	bool removed; /* nothing left to do in the destructor */
};

static const char *share_path_of(const struct smbd_open *op)
{
	const struct smb_conf_share *s = op->tcon->share;

	return s != NULL && s->path != NULL ? s->path : "";
}

static uint32_t uid_of(const struct smbd_open *op)
{
	const struct smbd_session *session = op->tcon->session;

	return session->creds != NULL ? (uint32_t)session->creds->uid
				      : UINT32_MAX;
}

static bool other_entry_of(const struct share_mode_data *d,
			   const struct smbd_share_entry *e, bool any_name);
static int smbd_share_entry_destructor(struct smbd_share_entry *e);

/*
 * The delete owed by an open that went away without CLOSE (tree
 * disconnect, logoff) as the last handle of a delete-pending name: run
 * as its session's user in a job, like a CLOSE, with a copy of its entry
 * kept in the record meanwhile (new opens see DELETE_PENDING).  If the
 * process ends first, the kept entry's destructor (or, after a crash,
 * the dead-owner cleanup) does it as root.
 */
struct orphan_delete {
	struct smbd_share_entry *keep;
	struct vfs_share *share;
	char *relpath;
	char *stream; /* delete this stream of relpath (NULL: none) */
	bool delete_file;
	uint64_t dev, ino; /* what relpath must still lead to */
	NTSTATUS status;
};

/* Worker thread, as the user. */
static void orphan_delete_run(void *private_data)
{
	struct orphan_delete *od = private_data;
	struct vfs_stat st;
	int pfd = -1, fd = -1;

	od->status = vfs_openat(od->share, od->relpath, O_PATH | O_NOFOLLOW,
				0, &pfd);
	if (NT_STATUS_IS_OK(od->status)) {
		od->status = vfs_fstat(pfd, &st);
		close(pfd);
	}
	if (!NT_STATUS_IS_OK(od->status)) {
		return;
	}
	if ((((uint64_t)major(st.st.st_dev) << 32) |
	     (uint64_t)minor(st.st.st_dev)) != od->dev ||
	    (uint64_t)st.st.st_ino != od->ino) {
		od->status = NT_STATUS_OBJECT_NAME_NOT_FOUND; /* replaced */
		return;
	}
	if (od->stream != NULL) {
		od->status = vfs_openat(od->share, od->relpath,
					(S_ISDIR(st.st.st_mode) ? O_DIRECTORY
								: 0) |
						O_RDONLY | O_NOFOLLOW |
						O_NONBLOCK,
					0, &fd);
		if (NT_STATUS_IS_OK(od->status)) {
			od->status = smbd_stream_delete(fd, od->stream);
			close(fd);
		}
	}
	if (od->delete_file) {
		od->status = vfs_unlinkat(od->share, od->relpath,
					  S_ISDIR(st.st.st_mode));
	}
}

static void orphan_delete_done(struct tevent_req *subreq)
{
	struct orphan_delete *od =
		tevent_req_callback_data(subreq, struct orphan_delete);
	int err = vfs_job_recv(subreq);

	TALLOC_FREE(subreq);
	if (err != 0 || !NT_STATUS_IS_OK(od->status)) {
		DBG_NOTICE("'%s': delete-on-close of a handle closed by "
			   "disconnect: %s\n", od->relpath,
			   err != 0 ? strerror(err) : nt_errstr(od->status));
	}
	smbd_share_mode_close_end(od->keep);
	od->keep = NULL;
	talloc_free(od);
}

/* lck is e's record, locked; true if the delete job was started (e's
 * entry stays, taken over by the job). */
static bool orphan_delete_start(struct smbd_share_entry *e,
				struct share_mode_lock *lck)
{
	struct smbd_open *op = e->op;
	struct smbd_client *client = e->client;
	const struct share_mode_data *d = lck->data;
	const struct vfs_creds *creds = op->tcon->session->creds;
	bool del_stream = e->stream != NULL &&
			  share_mode_data_delete_pending(d, e->stream) &&
			  !other_entry_of(d, e, false);
	bool del_file = share_mode_data_delete_pending(d, NULL) &&
			!other_entry_of(d, e, true);
	struct orphan_delete *od;
	struct tevent_req *subreq;

	if ((!del_stream && !del_file) || client->pool == NULL ||
	    creds == NULL || d->share_path == NULL || d->relpath == NULL ||
	    d->relpath[0] == '\0') {
		return false;
	}
	od = talloc_zero(client, struct orphan_delete);
	if (od == NULL) {
		return false;
	}
	od->keep = talloc_zero(od, struct smbd_share_entry);
	od->relpath = talloc_strdup(od, d->relpath);
	if (od->keep == NULL || od->relpath == NULL ||
	    !NT_STATUS_IS_OK(vfs_share_open(od, d->share_path, false,
					    &od->share))) {
		talloc_free(od);
		return false;
	}
	*od->keep = (struct smbd_share_entry){
		.client = client,
		.dev = e->dev,
		.ino = e->ino,
		.file_id = e->file_id,
		.owner = e->owner,
		.removed = true, /* until the job runs */
	};
	if (e->stream != NULL) {
		od->keep->stream = talloc_strdup(od->keep, e->stream);
		od->stream = del_stream ? od->keep->stream : NULL;
		if (od->keep->stream == NULL) {
			talloc_free(od);
			return false;
		}
	}
	od->delete_file = del_file;
	od->dev = e->dev;
	od->ino = e->ino;
	subreq = vfs_job_send(od, client->ev, client->pool, creds,
			      orphan_delete_run, od);
	if (subreq == NULL) {
		talloc_free(od);
		return false;
	}
	tevent_req_set_callback(subreq, orphan_delete_done, od);
	od->keep->removed = false;
	talloc_set_destructor(od->keep, smbd_share_entry_destructor);
	return true;
}

/*
 * An open goes away without CLOSE (tree disconnect, logoff, the
 * connection ends, or the CREATE failed after the entry was added):
 * remove its entry and mark its delete-on-close; a delete it was the
 * last handle for runs as its user (orphan_delete_start) or, when the
 * process is ending, here as root, as for a dead owner.
 */
static int smbd_share_entry_destructor(struct smbd_share_entry *e)
{
	struct share_mode_lock *lck;
	unsigned attempt = 0;
	bool job = false;
	NTSTATUS status;

	if (e->removed) {
		return 0;
	}
again:
	lck = share_mode_lock_get(e, e->client, e->dev, e->ino);
	if (lck == NULL) {
		DBG_ERR("cannot remove the share-mode entry of %llx:%llx\n",
			(unsigned long long)e->dev,
			(unsigned long long)e->ino);
		return 0;
	}
	if (e->op != NULL && e->op->delete_on_close) {
		(void)share_mode_data_set_delete(lck->data, e->stream, true,
						 uid_of(e->op));
		lck->modified = true;
	}
	/* the job is started once: a later round (another node changed the
	 * record) only stores the mark again, the entry stays for the job */
	if (!job && e->op != NULL && orphan_delete_start(e, lck)) {
		job = true;
	}
	if (!job) {
		(void)share_mode_lock_remove(lck, &e->owner, e->file_id);
		share_mode_lock_delete_orphaned(lck);
	}
	status = lck->modified ? share_mode_lock_store(lck) : NT_STATUS_OK;
	talloc_free(lck);
	if (smbd_db_retry(status, &attempt, "removing a share-mode entry")) {
		goto again;
	}
	return 0;
}

void smbd_share_mode_entry_init(const struct smbd_open *op,
				struct share_mode_entry *e)
{
	struct smbd_client *client = op->tcon->session->client;

	*e = (struct share_mode_entry){
		.owner = share_mode_self(client),
		.file_id = op->persistent_id,
		.session_id = op->tcon->session->id,
		.tree_id = op->tcon->id,
		.access_mask = op->access_mask,
		.share_access = op->share_access,
		.create_options = op->create_options,
		/* points into op: share_mode_lock_add_entry copies it */
		.stream_name = (char *)smbd_open_stream(op),
		.is_directory = op->is_dir,
		.oplock_type = SHARE_MODE_OPLOCK_NONE,
		.open_time = smbd_nt_time_now(),
		.uid = uid_of(op),
	};
}

struct share_mode_lock *smbd_share_mode_lock_open(TALLOC_CTX *mem_ctx,
						  struct smbd_open *op,
						  uint64_t dev, uint64_t ino)
{
	return share_mode_lock_get(mem_ctx, op->tcon->session->client, dev,
				   ino);
}

NTSTATUS smbd_share_mode_check_open(struct share_mode_lock *lck,
				    const struct smbd_open *op)
{
	NTSTATUS status;

	if (lck->file_deleted) {
		/* a dead process's delete-on-close just removed it: as if
		 * this open had come after the delete */
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (lck->fresh && op->fd != NULL) {
		struct stat st;

		/* no record: nobody has the file open, or the last handle
		 * of a delete-pending file deleted it after this open's job
		 * found it (the record goes with the delete) */
		if (fstat(op->fd->fd, &st) == 0 && st.st_nlink == 0) {
			return NT_STATUS_OBJECT_NAME_NOT_FOUND;
		}
	}
	status = share_mode_lock_check(lck, smbd_open_stream(op),
				       op->access_mask, op->share_access);
	return status;
}

NTSTATUS smbd_share_mode_add_open(struct share_mode_lock *lck,
				  struct smbd_open *op,
				  const struct share_mode_entry *entry)
{
	const char *stream = smbd_open_stream(op);
	struct smbd_share_entry *e;
	NTSTATUS status;

	e = talloc_zero(op, struct smbd_share_entry);
	if (e == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	e->client = lck->client;
	e->dev = lck->dev;
	e->ino = lck->ino;
	e->file_id = entry->file_id;
	e->owner = entry->owner;
	if (stream != NULL) {
		e->stream = talloc_strdup(e, stream);
		if (e->stream == NULL) {
			talloc_free(e);
			return NT_STATUS_NO_MEMORY;
		}
	}
	/* the path the record shows (status CLI, delete after a rename in
	 * another process): the name of this open, the latest one wins */
	status = share_mode_lock_set_path(lck, share_path_of(op), op->relpath);
	if (NT_STATUS_IS_OK(status)) {
		status = share_mode_lock_add_entry(lck, entry);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = share_mode_lock_store(lck);
	}
	if (!NT_STATUS_IS_OK(status)) {
		/* nothing half done may reach the database: drop the lock's
		 * copy of the entry again */
		(void)share_mode_lock_remove(lck, &e->owner, e->file_id);
		lck->modified = false;
		talloc_free(e);
		return status;
	}
	e->op = op;
	talloc_set_destructor(e, smbd_share_entry_destructor);
	op->share_entry = e;
	return NT_STATUS_OK;
}

NTSTATUS smbd_share_mode_enter(struct smbd_open *op, uint64_t dev,
			       uint64_t ino)
{
	struct share_mode_entry entry;
	struct share_mode_lock *lck;
	unsigned attempt = 0;
	NTSTATUS status;

again:
	lck = smbd_share_mode_lock_open(op, op, dev, ino);
	if (lck == NULL) {
		return NT_STATUS_INTERNAL_DB_ERROR;
	}
	status = smbd_share_mode_check_open(lck, op);
	if (NT_STATUS_IS_OK(status)) {
		smbd_share_mode_entry_init(op, &entry);
		status = smbd_share_mode_add_open(lck, op, &entry);
	}
	talloc_free(lck); /* stores a dead-owner cleanup, if any */
	if (smbd_db_retry(status, &attempt, "adding a share-mode entry")) {
		/* another node changed the record: check again */
		goto again;
	}
	return smbd_db_retry_status(status);
}

static bool other_entry_of(const struct share_mode_data *d,
			   const struct smbd_share_entry *e, bool any_name)
{
	uint32_t i;

	for (i = 0; i < d->num_entries; i++) {
		const struct share_mode_entry *x = &d->entries[i];

		if (x->file_id == e->file_id &&
		    server_id_equal(&x->owner, &e->owner)) {
			continue;
		}
		if (any_name ||
		    share_mode_stream_equal(x->stream_name, e->stream)) {
			return true;
		}
	}
	return false;
}

NTSTATUS smbd_share_mode_close_begin(struct smbd_open *op,
				     TALLOC_CTX *mem_ctx,
				     struct smbd_share_entry **keep,
				     bool *delete_file, bool *delete_stream,
				     char **relpath)
{
	struct smbd_share_entry *e = op->share_entry;
	struct share_mode_lock *lck;
	const struct share_mode_data *d;
	NTSTATUS status = NT_STATUS_OK, st2;
	unsigned attempt = 0;

	*keep = NULL;
	*relpath = NULL;
	if (e == NULL) {
		*delete_file = false;
		*delete_stream = false;
		return NT_STATUS_OK;
	}
again:
	*delete_file = false;
	*delete_stream = false;
	lck = share_mode_lock_get(mem_ctx, e->client, e->dev, e->ino);
	if (lck == NULL) {
		return NT_STATUS_INTERNAL_DB_ERROR;
	}
	d = lck->data;
	if (op->delete_on_close) {
		/* [MS-FSA] 2.1.5.4: closing a FILE_DELETE_ON_CLOSE handle
		 * makes the file delete-pending */
		status = share_mode_data_set_delete(lck->data, e->stream, true,
						    uid_of(op));
		lck->modified = true;
	}
	if (e->stream != NULL && share_mode_data_delete_pending(d, e->stream) &&
	    !other_entry_of(d, e, false)) {
		*delete_stream = true;
	}
	if (share_mode_data_delete_pending(d, NULL) &&
	    !other_entry_of(d, e, true)) {
		*delete_file = true;
	}
	if (!*delete_file && !*delete_stream) {
		(void)share_mode_lock_remove(lck, &e->owner, e->file_id);
	}
	/* stored before e changes hands: a lost race (another node changed
	 * the record) decides again from the new record */
	st2 = lck->modified ? share_mode_lock_store(lck) : NT_STATUS_OK;
	if (smbd_db_retry(st2, &attempt, "closing a share-mode entry")) {
		talloc_free(lck);
		goto again;
	}
	if (!NT_STATUS_IS_OK(st2)) {
		DBG_ERR("storing share modes: %s\n", nt_errstr(st2));
	}
	if (*delete_file || *delete_stream) {
		*relpath = talloc_strdup(mem_ctx, d->relpath != NULL &&
							  d->relpath[0] != '\0'
						  ? d->relpath
						  : op->relpath);
		if (*relpath == NULL) {
			status = NT_STATUS_NO_MEMORY;
		}
		/* the entry stays: new opens see DELETE_PENDING until the
		 * delete is done */
		e->op = NULL;
		talloc_steal(mem_ctx, e);
		op->share_entry = NULL;
		*keep = e;
	} else {
		e->removed = true;
		op->share_entry = NULL;
		TALLOC_FREE(e);
	}
	talloc_free(lck);
	return status;
}

void smbd_share_mode_close_end(struct smbd_share_entry *e)
{
	struct share_mode_lock *lck;
	unsigned attempt = 0;
	NTSTATUS status;

	if (e == NULL) {
		return;
	}
again:
	lck = share_mode_lock_get(e, e->client, e->dev, e->ino);
	if (lck != NULL) {
		struct share_mode_data *d = lck->data;

		(void)share_mode_lock_remove(lck, &e->owner, e->file_id);
		/* done (or failed and logged): the names this close was to
		 * delete are not pending any more */
		if (e->stream != NULL && !other_entry_of(d, e, false)) {
			(void)share_mode_data_set_delete(d, e->stream, false, 0);
		}
		if (d->num_entries == 0) {
			TALLOC_FREE(d->deletes);
			d->num_deletes = 0;
		}
		status = share_mode_lock_store(lck);
		talloc_free(lck);
		if (smbd_db_retry(status, &attempt, "ending a close")) {
			goto again;
		}
	}
	e->removed = true;
	talloc_free(e);
}

NTSTATUS smbd_share_mode_set_delete(struct smbd_open *op, bool on)
{
	struct smbd_share_entry *e = op->share_entry;
	struct share_mode_lock *lck;
	unsigned attempt = 0;
	NTSTATUS status;

	if (e == NULL) {
		return NT_STATUS_OK;
	}
again:
	lck = share_mode_lock_get(op, e->client, e->dev, e->ino);
	if (lck == NULL) {
		return NT_STATUS_INTERNAL_DB_ERROR;
	}
	status = share_mode_data_set_delete(lck->data, e->stream, on,
					    uid_of(op));
	if (NT_STATUS_IS_OK(status)) {
		status = share_mode_lock_store(lck);
	}
	lck->modified = false;
	talloc_free(lck);
	if (smbd_db_retry(status, &attempt, "setting delete-on-close")) {
		goto again;
	}
	return smbd_db_retry_status(status);
}

struct pending_probe {
	const char *stream;
	bool decoded;
	bool pending;
};

static void pending_parser(struct db_data key, struct db_data data,
			   void *private_data)
{
	struct pending_probe *p = private_data;
	struct share_mode_data *d = NULL;

	if (!NT_STATUS_IS_OK(share_mode_record_pull(NULL, data.dptr,
						    data.dsize, &d))) {
		return;
	}
	p->decoded = true;
	p->pending = share_mode_data_delete_pending(d, p->stream) ||
		     share_mode_data_delete_pending(d, NULL);
	talloc_free(d);
}

bool smbd_share_mode_delete_pending(const struct smbd_open *op)
{
	struct smbd_share_entry *e = op->share_entry;
	struct pending_probe p = { 0 };
	uint8_t key[SHARE_MODE_KEY_SIZE];
	struct db_context *db;

	if (e == NULL) {
		return op->delete_pending;
	}
	db = share_mode_db(e->client);
	if (db == NULL) {
		return op->delete_pending;
	}
	/* a read without the record lock: a query needs no more */
	p.stream = e->stream;
	share_mode_key_push(key, e->dev, e->ino);
	(void)dbwrap_parse_record(db, db_data_make(key, sizeof(key)),
				  pending_parser, &p);
	return p.decoded ? p.pending : op->delete_pending;
}

struct rename_search {
	const char *share_path;
	const char *relpath; /* of the open being renamed */
	size_t len;
	const char *parent; /* of the rename target */
	size_t parent_len;
	bool casefold;
	bool is_dir;
	NTSTATUS status;
};

static int rename_search_one(uint64_t dev, uint64_t ino,
			     const struct share_mode_data *d,
			     void *private_data)
{
	struct rename_search *s = private_data;
	uint32_t i;

	if (d->num_entries == 0 || d->share_path == NULL ||
	    d->relpath == NULL || strcmp(d->share_path, s->share_path) != 0) {
		return 0;
	}
	if (s->is_dir &&
	    (s->len == 0 || (strncmp(d->relpath, s->relpath, s->len) == 0 &&
			     d->relpath[s->len] == '/'))) {
		/* Windows refuses to rename a directory while something
		 * below it is open */
		s->status = NT_STATUS_ACCESS_DENIED;
		return 1;
	}
	if (s->parent == NULL || strlen(d->relpath) != s->parent_len ||
	    (s->casefold ? strncasecmp(d->relpath, s->parent, s->parent_len)
			 : strncmp(d->relpath, s->parent, s->parent_len)) != 0) {
		return 0;
	}
	for (i = 0; i < d->num_entries; i++) {
		const struct share_mode_entry *x = &d->entries[i];

		if (x->is_directory && x->stream_name == NULL &&
		    (x->access_mask & SEC_STD_DELETE)) {
			s->status = NT_STATUS_SHARING_VIOLATION;
			/* keep looking: an open below wins */
		}
	}
	return 0;
}

/*
 * The directory checked for DELETE opens is the one the name goes INTO
 * (Windows; Samba 4.17 checks the target's parent too, though only
 * among its own process's opens, and since bug 15861 breaks H leases on
 * it first and fails with SHARING_VIOLATION while an open with DELETE
 * access remains).  A rename out of a directory open with DELETE is
 * allowed.  The target's case is the client's: on a case-insensitive
 * share it is compared without case.
 */
NTSTATUS smbd_share_mode_rename_check(struct smbd_open *op,
				      const char *newrel)
{
	struct rename_search s = {
		.share_path = share_path_of(op),
		.relpath = op->relpath,
		.len = strlen(op->relpath),
		.is_dir = op->is_dir,
		.status = NT_STATUS_OK,
	};
	const char *slash = strrchr(newrel, '/');
	NTSTATUS status;

	s.casefold = op->tcon->share == NULL ||
		     op->tcon->share->case_sensitive !=
			     SMB_CONF_CASE_SENSITIVE_YES;
	if (newrel[0] != '\0') {
		s.parent = newrel;
		s.parent_len = slash != NULL ? (size_t)(slash - newrel) : 0;
	}
	status = share_mode_forall(op->tcon->session->client,
				   rename_search_one, &s);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	return s.status;
}

/*
 * MSG_SMB_FILE_RENAMED: the other processes with opens of a renamed file
 * learn its new name (for name queries and renames through their own
 * handles).  Payload REC_MSG_FILE_RENAMED version 1: u64 dev, u64 ino,
 * string share path, string new relpath.
 */
#define FILE_RENAMED_VERSION 1

struct renamed_update {
	uint64_t dev, ino;
	const char *share_path;
	const char *newrel;
};

static void renamed_update_one(struct smbd_open *op, void *private_data)
{
	struct renamed_update *u = private_data;
	struct smbd_share_entry *e = op->share_entry;
	char *p;

	if (e == NULL || e->dev != u->dev || e->ino != u->ino ||
	    strcmp(share_path_of(op), u->share_path) != 0) {
		return;
	}
	p = talloc_strdup(op, u->newrel);
	if (p == NULL) {
		return;
	}
	talloc_free(op->relpath);
	op->relpath = p;
}

static void renamed_handler(struct messaging_context *msg,
			    void *private_data, uint32_t msg_type,
			    struct server_id src, const uint8_t *data,
			    size_t len, int *fds, size_t num_fds)
{
	struct smbd_client *client = talloc_get_type_abort(
		talloc_parent(private_data), struct smbd_client);
	TALLOC_CTX *frame = talloc_new(NULL);
	struct renamed_update u = { 0 };
	struct marshall_pull r;
	char *share_path = NULL, *newrel = NULL;
	size_t i;
	bool ok;

	for (i = 0; i < num_fds; i++) {
		close(fds[i]);
	}
	if (frame == NULL ||
	    !NT_STATUS_IS_OK(marshall_pull_init(&r, data, len,
						REC_MSG_FILE_RENAMED,
						FILE_RENAMED_VERSION))) {
		talloc_free(frame);
		return;
	}
	ok = marshall_pull_u64(&r, &u.dev) && marshall_pull_u64(&r, &u.ino) &&
	     marshall_pull_string(&r, frame, &share_path) &&
	     marshall_pull_string(&r, frame, &newrel);
	if (ok && NT_STATUS_IS_OK(marshall_pull_finish(&r)) &&
	    share_path != NULL && newrel != NULL) {
		u.share_path = share_path;
		u.newrel = newrel;
		smbd_open_foreach(client, renamed_update_one, &u);
	}
	talloc_free(frame);
}

struct renamed_registration {
	struct messaging_context *msg;
};

static int renamed_registration_destructor(struct renamed_registration *r)
{
	messaging_deregister(r->msg, MSG_SMB_FILE_RENAMED, r);
	return 0;
}

void smbd_share_mode_init_messages(struct smbd_client *client)
{
	struct renamed_registration *r;

	if (client->msg == NULL) {
		return;
	}
	/* a talloc child of the client: the handler finds the client as
	 * its parent, and the registration goes with the client */
	r = talloc_zero(client, struct renamed_registration);
	if (r == NULL) {
		return;
	}
	r->msg = client->msg;
	if (!NT_STATUS_IS_OK(messaging_register(client->msg, r,
						MSG_SMB_FILE_RENAMED,
						renamed_handler))) {
		talloc_free(r);
		return;
	}
	talloc_set_destructor(r, renamed_registration_destructor);
}

static void renamed_tell_others(struct share_mode_lock *lck,
				const struct smbd_share_entry *e)
{
	const struct share_mode_data *d = lck->data;
	struct marshall_push *p;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint32_t i, j;

	if (e->client->msg == NULL) {
		return;
	}
	p = marshall_push_init(lck, REC_MSG_FILE_RENAMED,
			       FILE_RENAMED_VERSION);
	if (p == NULL) {
		return;
	}
	marshall_push_u64(p, lck->dev);
	marshall_push_u64(p, lck->ino);
	marshall_push_string(p, d->share_path);
	marshall_push_string(p, d->relpath);
	if (!NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len))) {
		return;
	}
	for (i = 0; i < d->num_entries; i++) {
		const struct server_id *o = &d->entries[i].owner;

		if (server_id_equal(o, &e->owner)) {
			continue;
		}
		for (j = 0; j < i; j++) {
			if (server_id_equal(&d->entries[j].owner, o)) {
				break;
			}
		}
		if (j < i) {
			continue; /* told already */
		}
		(void)messaging_send(e->client->msg, *o, MSG_SMB_FILE_RENAMED,
				     buf, len, NULL, 0);
	}
	talloc_free(buf);
}

void smbd_share_mode_renamed(struct smbd_open *op, const char *newrel)
{
	struct smbd_share_entry *e = op->share_entry;
	struct share_mode_lock *lck;
	unsigned attempt = 0;
	NTSTATUS status;

	if (e == NULL) {
		return;
	}
again:
	lck = share_mode_lock_get(op, e->client, e->dev, e->ino);
	if (lck == NULL) {
		return;
	}
	if (!NT_STATUS_IS_OK(share_mode_lock_set_path(lck, share_path_of(op),
						      newrel))) {
		lck->modified = false;
		talloc_free(lck);
		return;
	}
	status = share_mode_lock_store(lck);
	if (smbd_db_retry(status, &attempt, "renaming a share-mode record")) {
		talloc_free(lck);
		goto again;
	}
	renamed_tell_others(lck, e);
	talloc_free(lck);
}
