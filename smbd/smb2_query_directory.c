/*
 * SMB2 QUERY_DIRECTORY ([MS-SMB2] 2.2.33, 2.2.34, 3.3.5.18; [MS-FSA]
 * 2.1.5.6).
 *
 * Enumeration state per directory open (struct smbd_dir_state, hung off
 * open->dir):
 *   - a snapshot of the entry names (".", "..", then the rest in readdir
 *     order), taken in a VFS job on the first query, on RESTART_SCANS and
 *     on REOPEN: one compact buffer of names plus an offset array, about
 *     (name length + 5) bytes per entry;
 *   - a cursor into it and the search pattern ([MS-FSA] 2.1.5.6: the
 *     pattern is fixed by the first query and replaced only on restart).
 * Metadata is not snapshotted: each entry is stat'ed (smbd_file_meta_at)
 * in the job that returns it, so a listing never shows a file deleted
 * since the scan began (smb2.dir.find), and each entry is stat'ed once
 * per enumeration: O(n) overall, no rescans between calls.
 *
 * The job, not the open, owns the snapshot while it runs: it is moved into
 * the job and back on completion.  Queries on one handle are serialised
 * through a tevent_queue (compound_find_unrelated sends two at once).
 * The dir state is not a talloc child of the open, so that a CLOSE while
 * queries are queued (compound_find_close) lets them finish: the open's
 * destructor (via a small anchor) only marks the state orphaned, and the
 * last request out frees it.
 *
 * A file of the directory that this client has open with a write time
 * held back or kept (dosmode.h "write time of one open") is listed with
 * that time, as its handle reports it (Samba does the same through its
 * share-mode record).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/param/loadparm.h"
#include "lib/util/byteorder.h"
#include "lib/util/charset.h"
#include "lib/util/debug.h"
#include "smbd/dosmode.h"
#include "smbd/ea.h"
#include "smbd/fscc_info.h"
#include "smbd/ntname.h"
#include "smbd/smbd.h"
#include "smbd/vfs/threadpool.h"

#define QDIR_REQ_FIXED 32
#define QDIR_REP_FIXED 8

/* The entry names of one scan. */
struct qdir_snap {
	char *names;	   /* NUL-terminated names back to back */
	size_t names_len;
	uint32_t *offsets; /* start of entry i in names */
	uint32_t count;
	uint32_t offsets_cap;
	uint32_t cursor;   /* next entry to consider */
	char *pattern;
};

struct smbd_dir_state {
	struct tevent_queue *queue; /* one query at a time */
	struct qdir_snap *snap;	    /* NULL while a job holds it */
	bool scanned;		    /* a query has run since open/REOPEN */
	bool orphaned;		    /* the open is gone */
	struct qdir_anchor *anchor; /* NULL once orphaned */
};

/* Child of the open; tells the dir state when the open goes away. */
struct qdir_anchor {
	struct smbd_dir_state *dir;
};

/* An entry's write time as an open of this client reports it. */
struct qdir_write_time {
	char *name;
	uint64_t write_time;
};

struct qdir_job {
	struct smbd_fd *fdref;
	int fd;
	bool at_share_root;
	const struct smb_conf_share *share;
	struct qdir_snap *snap; /* owned by the job while it runs */
	bool rescan;
	char *new_pattern; /* set with rescan */
	uint8_t info_class;
	bool want_ea_size; /* the class has EaSize and "ea support" is on */
	bool single;
	uint32_t max_len;
	uint8_t *out;
	uint32_t out_len;
	uint32_t num_entries;
	bool first_did_not_fit;
	struct qdir_write_time *write_times;
	size_t num_write_times;
	NTSTATUS status;
};

struct qdir_state {
	struct smbd_request *req;
	struct smbd_dir_state *dir;
	struct tevent_req *wait_subreq; /* our place in dir->queue */
	struct qdir_job *job;
	uint8_t flags;
	bool first_query;
};

static void qdir_queue_ready(struct tevent_req *subreq);
static void qdir_job_done(struct tevent_req *subreq);

/* ---- dir state lifetime ---- */

static void dir_state_maybe_free(struct smbd_dir_state *dir)
{
	if (dir != NULL && dir->orphaned &&
	    tevent_queue_length(dir->queue) == 0) {
		talloc_free(dir);
	}
}

static int qdir_anchor_destructor(struct qdir_anchor *anchor)
{
	struct smbd_dir_state *dir = anchor->dir;

	if (dir == NULL) {
		return 0; /* the dir state went first (client teardown) */
	}
	dir->orphaned = true;
	dir->anchor = NULL;
	dir_state_maybe_free(dir);
	return 0;
}

/* When the whole client goes, the dir state may be freed before the
 * open: unhook the anchor so that it does not touch freed memory. */
static int dir_state_destructor(struct smbd_dir_state *dir)
{
	if (dir->anchor != NULL) {
		dir->anchor->dir = NULL;
		dir->anchor = NULL;
	}
	return 0;
}

static struct smbd_dir_state *dir_state_get(struct smbd_client *client,
					    struct smbd_open *op)
{
	struct smbd_dir_state *dir;
	struct qdir_anchor *anchor;

	if (op->dir != NULL) {
		return op->dir;
	}
	/* No talloc parent on purpose: it is freed by whichever of the
	 * open (anchor) and the queued requests goes last, in any order,
	 * even during the teardown of the whole client. */
	dir = talloc_zero(NULL, struct smbd_dir_state);
	if (dir == NULL) {
		return NULL;
	}
	dir->queue = tevent_queue_create(dir, "query_directory");
	anchor = talloc_zero(op, struct qdir_anchor);
	if (dir->queue == NULL || anchor == NULL) {
		talloc_free(anchor);
		talloc_free(dir);
		return NULL;
	}
	anchor->dir = dir;
	dir->anchor = anchor;
	talloc_set_destructor(anchor, qdir_anchor_destructor);
	talloc_set_destructor(dir, dir_state_destructor);
	op->dir = dir;
	return dir;
}

static int qdir_state_destructor(struct qdir_state *state)
{
	/* leave the queue before deciding whether the dir state is done */
	TALLOC_FREE(state->wait_subreq);
	dir_state_maybe_free(state->dir);
	return 0;
}

/*
 * Complete the request and give up our place in the queue now, not when
 * req is freed: the next query may be a member of the same compound,
 * whose reply waits for it.
 */
static void qdir_finish(struct qdir_state *state, NTSTATUS status)
{
	struct smbd_dir_state *dir = state->dir;

	TALLOC_FREE(state->wait_subreq);
	talloc_set_destructor(state, NULL);
	state->dir = NULL;
	dir_state_maybe_free(dir);
	smbd_request_done(state->req, status);
}

/* ---- worker side ---- */

static bool snap_add(struct qdir_snap *snap, const char *name)
{
	size_t len = strlen(name) + 1;

	if (snap->names_len + len > UINT32_MAX) {
		return false;
	}
	if (snap->count == snap->offsets_cap) {
		uint32_t cap = snap->offsets_cap == 0 ? 64
						      : snap->offsets_cap * 2;
		uint32_t *o;
		if (cap < snap->offsets_cap) {
			return false;
		}
		o = talloc_realloc(snap, snap->offsets, uint32_t, cap);
		if (o == NULL) {
			return false;
		}
		snap->offsets = o;
		snap->offsets_cap = cap;
	}
	if (snap->names == NULL ||
	    talloc_get_size(snap->names) < snap->names_len + len) {
		size_t cap = (snap->names_len + len) * 2;
		char *n = talloc_realloc(snap, snap->names, char, cap);
		if (n == NULL) {
			return false;
		}
		snap->names = n;
	}
	memcpy(snap->names + snap->names_len, name, len);
	snap->offsets[snap->count++] = (uint32_t)snap->names_len;
	snap->names_len += len;
	return true;
}

/* Read all names of the directory; "." and ".." first. */
static NTSTATUS snap_scan(TALLOC_CTX *mem_ctx, int dirfd,
			  struct qdir_snap **out)
{
	struct qdir_snap *snap = talloc_zero(mem_ctx, struct qdir_snap);
	struct dirent *de;
	DIR *d;
	int fd;

	if (snap == NULL || !snap_add(snap, ".") || !snap_add(snap, "..")) {
		talloc_free(snap);
		return NT_STATUS_NO_MEMORY;
	}
	/* A fresh descriptor: its own read position, and a readable one
	 * even when the open holds an O_PATH fd. */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		NTSTATUS status = map_nt_error_from_unix(errno);
		talloc_free(snap);
		return status;
	}
	d = fdopendir(fd);
	if (d == NULL) {
		NTSTATUS status = map_nt_error_from_unix(errno);
		close(fd);
		talloc_free(snap);
		return status;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0) {
			continue;
		}
		if (!snap_add(snap, de->d_name)) {
			closedir(d);
			talloc_free(snap);
			return NT_STATUS_NO_MEMORY;
		}
	}
	closedir(d);
	*out = snap;
	return NT_STATUS_OK;
}

static void qdir_job_run(void *private_data)
{
	struct qdir_job *job = private_data;
	struct qdir_snap *snap;
	uint32_t ofs = 0, last_ofs = 0;
	bool have_last = false;

	if (job->rescan || job->snap == NULL) {
		struct qdir_snap *fresh = NULL;
		job->status = snap_scan(job, job->fd, &fresh);
		if (!NT_STATUS_IS_OK(job->status)) {
			return;
		}
		if (job->snap != NULL) {
			fresh->pattern = talloc_steal(fresh, job->snap->pattern);
			talloc_free(job->snap);
		}
		if (job->new_pattern != NULL) {
			talloc_free(fresh->pattern);
			fresh->pattern = talloc_steal(fresh, job->new_pattern);
			job->new_pattern = NULL;
		}
		job->snap = fresh;
	}
	snap = job->snap;

	job->out = talloc_size(job, job->max_len > 0 ? job->max_len : 1);
	if (job->out == NULL) {
		job->status = NT_STATUS_NO_MEMORY;
		return;
	}

	for (; snap->cursor < snap->count; snap->cursor++) {
		const char *name = snap->names + snap->offsets[snap->cursor];
		const char *stat_name = name;
		struct smbd_file_meta meta;
		char short_buf[16];
		char *short_name = NULL;
		uint32_t entry_ofs = (ofs + 7) & ~7u;
		size_t n;
		NTSTATUS status;

		if (!fscc_name_matches(snap->pattern, name)) {
			continue;
		}
		if (utf8_utf16le_len(name) <= 0) {
			DBG_INFO("skipping entry with an invalid name\n");
			continue;
		}
		if (job->at_share_root && strcmp(name, "..") == 0) {
			stat_name = "."; /* nothing above the share shows */
		}
		status = smbd_file_meta_at(job->fd, stat_name, job->share,
					   &meta);
		if (!NT_STATUS_IS_OK(status)) {
			/* removed since the scan, or unreadable: skip */
			continue;
		}
		for (size_t i = 0; i < job->num_write_times; i++) {
			if (strcmp(job->write_times[i].name, name) == 0) {
				/* ChangeTime follows it (dosmode.h) */
				meta.last_write_time = meta.change_time =
					job->write_times[i].write_time;
				break;
			}
		}
		if (job->info_class == FSCC_FILE_BOTH_DIRECTORY_INFORMATION ||
		    job->info_class ==
			    FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION) {
			short_name = fscc_short_name(NULL, name);
			if (short_name != NULL) {
				strncpy(short_buf, short_name,
					sizeof(short_buf) - 1);
				short_buf[sizeof(short_buf) - 1] = '\0';
				talloc_free(short_name);
				short_name = short_buf;
			}
		}
		n = 0;
		if (entry_ofs < job->max_len) {
			n = fscc_encode_dir_entry(job->info_class, &meta, name,
						  short_name,
						  job->out + entry_ofs,
						  job->max_len - entry_ofs);
		}
		if (n == 0) {
			if (job->num_entries == 0) {
				job->first_did_not_fit = true;
			}
			break; /* this entry is returned by the next call */
		}
		if (job->want_ea_size) {
			uint32_t ea_size = 0;

			/* one listxattr per entry; unreadable: 0 */
			if (NT_STATUS_IS_OK(smbd_ea_size_at(job->fd, stat_name,
							    &ea_size))) {
				fscc_dir_entry_set_ea_size(
					job->info_class, job->out + entry_ofs,
					ea_size);
			}
		}
		/* pad the previous entry and link it to this one */
		if (have_last) {
			memset(job->out + ofs, 0, entry_ofs - ofs);
			PUSH_LE32(job->out, last_ofs, entry_ofs - last_ofs);
		}
		last_ofs = entry_ofs;
		have_last = true;
		ofs = entry_ofs + (uint32_t)n;
		job->num_entries++;
		if (job->single) {
			snap->cursor++;
			break;
		}
	}
	job->out_len = ofs;
	job->status = NT_STATUS_OK;
}

static int qdir_job_destructor(struct qdir_job *job)
{
	smbd_fd_unref(job->fdref);
	return 0;
}

/* ---- event loop side ---- */

struct collect_write_times {
	const struct smbd_open *dir;
	size_t dir_len;
	struct qdir_job *job;
};

static void collect_write_time(struct smbd_open *op, void *private_data)
{
	struct collect_write_times *c = private_data;
	struct qdir_write_time *wt;
	const char *name = op->relpath;

	if (op->is_dir || op->write_time.shown == 0 || op->relpath == NULL ||
	    op->tcon->share != c->dir->tcon->share) {
		return;
	}
	if (c->dir_len > 0) {
		if (strncmp(name, c->dir->relpath, c->dir_len) != 0 ||
		    name[c->dir_len] != '/') {
			return;
		}
		name += c->dir_len + 1;
	}
	if (strchr(name, '/') != NULL) {
		return; /* deeper down */
	}
	wt = talloc_realloc(c->job, c->job->write_times,
			    struct qdir_write_time, c->job->num_write_times + 1);
	if (wt == NULL) {
		return; /* then the file's own time shows */
	}
	c->job->write_times = wt;
	wt[c->job->num_write_times] = (struct qdir_write_time){
		.name = talloc_strdup(wt, name),
		.write_time = op->write_time.shown,
	};
	if (wt[c->job->num_write_times].name != NULL) {
		c->job->num_write_times++;
	}
}

NTSTATUS smbd_smb2_query_directory(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	uint8_t info_class = b[2];
	uint8_t flags = b[3];
	uint16_t name_ofs = PULL_LE16(b, 24);
	uint16_t name_len = PULL_LE16(b, 26);
	uint32_t output_len = PULL_LE32(b, 28);
	const uint8_t *name = NULL;
	struct smbd_client *client = req->conn->client;
	struct smbd_open *op;
	struct qdir_state *state;
	struct qdir_job *job;
	char *pattern = NULL;
	NTSTATUS status;

	if (!smbd_request_in_range(req, name_ofs, name_len, QDIR_REQ_FIXED,
				   &name)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	op = smbd_request_lookup_open(req, b + 8);
	if (op == NULL) {
		return NT_STATUS_FILE_CLOSED;
	}
	if (!op->is_dir) {
		return NT_STATUS_INVALID_PARAMETER; /* 3.3.5.18 */
	}
	if (output_len > req->conn->max_trans_size) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!fscc_dir_class_supported(info_class)) {
		return NT_STATUS_INVALID_INFO_CLASS;
	}
	if (!(op->access_mask & SEC_FILE_READ_DATA)) {
		/* FILE_LIST_DIRECTORY ([MS-FSA] 2.1.5.6) */
		return NT_STATUS_ACCESS_DENIED;
	}
	if (op->fd == NULL) {
		return NT_STATUS_INVALID_HANDLE;
	}

	state = talloc_zero(req, struct qdir_state);
	if (state == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->req = req;
	state->flags = flags;

	if (name_len == 0) {
		/* [MS-FSA] 2.1.5.6: empty means "*" */
		pattern = talloc_strdup(state, "*");
		status = pattern != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	} else {
		status = ntname_component_from_utf16(state, name, name_len,
						     NTNAME_ALLOW_WILDCARDS,
						     &pattern);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}

	state->dir = dir_state_get(client, op);
	if (state->dir == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	talloc_set_destructor(state, qdir_state_destructor);

	job = talloc_zero(state, struct qdir_job);
	if (job == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	job->fdref = smbd_fd_ref(op->fd);
	job->fd = op->fd->fd;
	talloc_set_destructor(job, qdir_job_destructor);
	job->at_share_root = op->relpath[0] == '\0';
	job->share = op->tcon->share;
	job->info_class = info_class;
	job->want_ea_size = job->share != NULL && job->share->ea_support &&
			    fscc_dir_class_has_ea_size(info_class);
	job->single = (flags & SMB2_RETURN_SINGLE_ENTRY) != 0;
	job->max_len = output_len;
	job->new_pattern = talloc_steal(job, pattern);
	/* SMB2_INDEX_SPECIFIED: FileIndex is ignored, as NTFS does. */
	state->job = job;
	{
		struct collect_write_times c = {
			.dir = op, .dir_len = strlen(op->relpath), .job = job
		};
		smbd_open_foreach(client, collect_write_time, &c);
	}

	state->wait_subreq = tevent_queue_wait_send(state, client->ev,
						    state->dir->queue);
	if (state->wait_subreq == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	tevent_req_set_callback(state->wait_subreq, qdir_queue_ready, state);
	return NT_STATUS_PENDING;
}

static void qdir_queue_ready(struct tevent_req *subreq)
{
	struct qdir_state *state =
		tevent_req_callback_data(subreq, struct qdir_state);
	struct smbd_request *req = state->req;
	struct smbd_dir_state *dir = state->dir;
	struct qdir_job *job = state->job;
	struct smbd_client *client = req->conn->client;
	struct tevent_req *jobreq;

	/* keep wait_subreq (our queue entry) until we are done */
	if (!tevent_queue_wait_recv(subreq)) {
		qdir_finish(state, NT_STATUS_INTERNAL_ERROR);
		return;
	}
	if (dir->orphaned && dir->snap == NULL) {
		/* closed before our turn: nothing left to enumerate */
		qdir_finish(state, NT_STATUS_FILE_CLOSED);
		return;
	}
	if (state->flags & SMB2_REOPEN) {
		dir->scanned = false;
	}
	state->first_query = !dir->scanned;
	job->rescan = state->first_query ||
		      (state->flags & (SMB2_RESTART_SCANS | SMB2_REOPEN));
	if (!job->rescan) {
		/* the pattern of the first query stays ([MS-FSA] 2.1.5.6) */
		TALLOC_FREE(job->new_pattern);
	}
	job->snap = talloc_steal(job, dir->snap);
	dir->snap = NULL;
	dir->scanned = true;

	jobreq = vfs_job_send(state, client->ev, client->pool,
			      req->session->creds, qdir_job_run, job);
	if (jobreq == NULL) {
		qdir_finish(state, NT_STATUS_NO_MEMORY);
		return;
	}
	tevent_req_set_callback(jobreq, qdir_job_done, state);
}

static void qdir_job_done(struct tevent_req *subreq)
{
	struct qdir_state *state =
		tevent_req_callback_data(subreq, struct qdir_state);
	struct smbd_request *req = state->req;
	struct smbd_dir_state *dir = state->dir;
	struct qdir_job *job = state->job;
	NTSTATUS status;
	uint8_t *out;
	int err;

	err = vfs_job_recv(subreq);
	TALLOC_FREE(subreq);
	if (err != 0) {
		qdir_finish(state, map_nt_error_from_unix(err));
		return;
	}
	if (job->snap != NULL && !dir->orphaned) {
		dir->snap = talloc_steal(dir, job->snap);
	}
	job->snap = NULL;
	if (!NT_STATUS_IS_OK(job->status)) {
		dir->scanned = false;
		qdir_finish(state, job->status);
		return;
	}
	if (job->num_entries == 0) {
		if (job->first_did_not_fit) {
			status = NT_STATUS_INFO_LENGTH_MISMATCH;
		} else if (state->first_query) {
			status = NT_STATUS_NO_SUCH_FILE;
		} else {
			status = NT_STATUS_NO_MORE_FILES;
		}
		qdir_finish(state, status);
		return;
	}
	out = smbd_request_reply(req, QDIR_REP_FIXED, job->out_len);
	if (out == NULL) {
		qdir_finish(state, NT_STATUS_NO_MEMORY);
		return;
	}
	PUSH_LE16(out, 0, 9);
	PUSH_LE16(out, 2, SMB2_HDR_SIZE + QDIR_REP_FIXED);
	PUSH_LE32(out, 4, job->out_len);
	memcpy(out + QDIR_REP_FIXED, job->out, job->out_len);
	TALLOC_FREE(state->job);
	qdir_finish(state, NT_STATUS_OK);
}
