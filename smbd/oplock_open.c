/*
 * Oplocks and leases, the CREATE side (oplock_break.h): the request and
 * its lease context, the lease key check, the breaks an open causes and
 * its wait, the grant and the reply, the rename of a leased file.  The
 * process side is oplock_break.c; lock order in oplock_private.h.
 */
#include "smbd/oplock_private.h"

#include <string.h>
#include <time.h>

#include "dbwrap/dbwrap.h"
#include "lib/param/loadparm.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "lib/util/marshall.h"
#include "messaging/messaging.h"
#include "smbd/brlock.h"
#include "smbd/share_mode.h"
#include "smbd/share_mode_db.h"
#include "smbd/smbd_cluster.h"
#include "smbd/streams.h"

/* ---- CREATE ---- */

NTSTATUS smbd_oplock_want_parse(struct smbd_request *req, uint8_t level,
				const uint8_t *rqls, uint32_t rqls_len,
				struct smbd_oplock_want *want)
{
	const struct smb_conf *conf = req->conn->client->conf;
	NTSTATUS status;

	memset(want, 0, sizeof(*want));
	switch (level) {
	case SMB2_OPLOCK_LEVEL_II:
	case SMB2_OPLOCK_LEVEL_EXCLUSIVE:
	case SMB2_OPLOCK_LEVEL_BATCH:
	case SMB2_OPLOCK_LEVEL_LEASE:
		want->level = level;
		break;
	default:
		/* unknown levels ask for nothing (as Samba maps them) */
		want->level = SMB2_OPLOCK_LEVEL_NONE;
		break;
	}
	if (rqls != NULL) {
		status = smb2_lease_pull(rqls, rqls_len, &want->lease);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		want->have_lease = true;
		if (!smb2_lease_key_valid(want->lease.key)) {
			want->have_lease = false;
			want->level = SMB2_OPLOCK_LEVEL_NONE;
		}
		if (req->conn->dialect < SMB2_DIALECT_REVISION_300 &&
		    want->lease.version != 1) {
			want->have_lease = false;
		}
		if (req->conn->dialect < SMB2_DIALECT_REVISION_210 ||
		    (conf != NULL && !conf->global.smb2_leases)) {
			want->have_lease = false;
		}
	}
	if (want->level != SMB2_OPLOCK_LEVEL_LEASE) {
		want->have_lease = false;
	} else if (!want->have_lease) {
		want->level = SMB2_OPLOCK_LEVEL_NONE;
	}
	return NT_STATUS_OK;
}

static bool str_equal(const char *a, const char *b, bool ci)
{
	if (a == NULL || b == NULL) {
		return a == b;
	}
	return ci ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

NTSTATUS smbd_lease_check_key(struct smbd_client *client,
			      const struct smbd_oplock_want *want,
			      const char *share_path, const char *relpath,
			      const char *stream)
{
	struct smbd_oplock_ctx *ctx;
	struct lease_record *r = NULL;
	TALLOC_CTX *frame;
	NTSTATUS status;
	uint32_t i;

	if (!want->have_lease) {
		return NT_STATUS_OK;
	}
	ctx = smbd_oplock_ctx_get(client);
	if (ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	frame = talloc_new(ctx);
	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = oplock_lease_fetch(ctx, frame, client->client_guid, want->lease.key,
			     &r);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(frame);
		return NT_STATUS_OK; /* a new lease key */
	}
	status = NT_STATUS_OK;
	for (i = 0; i < r->num_files; i++) {
		const struct lease_file *f = &r->files[i];
		struct db_context *db = share_mode_db(client);
		struct lease_use u = { .guid = client->client_guid,
				       .key = want->lease.key };

		if (str_equal(f->share_path, share_path, false) &&
		    str_equal(f->relpath, relpath, true) &&
		    str_equal(f->stream_name, stream, true)) {
			status = NT_STATUS_OK;
			break;
		}
		/* another file, unless no open holds the lease there any
		 * more (a dead process's leftovers; no record: no open) */
		if (db != NULL) {
			(void)dbwrap_parse_record(
				db, db_data_make(f->file_key, 16),
				oplock_lease_use_parser, &u);
		}
		if (db == NULL || u.found) {
			status = NT_STATUS_INVALID_PARAMETER;
		}
	}
	talloc_free(frame);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_DEBUG("lease key in use for another file than '%s'\n",
			  relpath);
	}
	return status;
}

NTSTATUS smbd_oplock_delay_for(struct smbd_client *client,
			       struct share_mode_lock *lck, const char *stream,
			       const struct smbd_oplock_want *want,
			       uint32_t access_mask, uint32_t disposition,
			       bool sharing_violation, bool first_attempt,
			       struct server_id *blocker)
{
	struct smbd_oplock_ctx *ctx;
	struct share_mode_data *d = lck->data;
	struct oplock_request r = {
		.oplock_level = want->level,
		.lease_state = want->lease.state,
		.access_mask = access_mask,
		.sharing_violation = sharing_violation,
		.will_overwrite = disposition == FILE_SUPERSEDE ||
				  disposition == FILE_OVERWRITE ||
				  disposition == FILE_OVERWRITE_IF,
		.first_attempt = first_attempt,
	};
	struct holder_set set;
	bool delay, have_blocker = false;
	uint32_t k;

	/* an overwrite writes (Samba adds FILE_WRITE_DATA for the
	 * truncation): an attribute-only overwrite is no stat open */
	if (r.will_overwrite) {
		r.access_mask |= SEC_FILE_WRITE_DATA;
	}

	if (d->num_entries == 0) {
		return sharing_violation ? NT_STATUS_SHARING_VIOLATION
					 : NT_STATUS_OK;
	}
	ctx = smbd_oplock_ctx_get(client);
	if (ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (!oplock_holders_of(ctx, lck, lck, stream, want, &set)) {
		return NT_STATUS_NO_MEMORY;
	}
	delay = oplock_check_breaks(&r, set.h, set.n);
	for (k = 0; k < set.n && !have_blocker; k++) {
		if (set.h[k].send_break || set.h[k].breaking) {
			*blocker = d->entries[set.idx[k]].owner;
			have_blocker = true;
		}
	}
	oplock_send_breaks(ctx, lck, &set);
	TALLOC_FREE(set.h);
	TALLOC_FREE(set.idx);
	if (delay) {
		if (!have_blocker) {
			*blocker = (struct server_id){ 0 };
		}
		return NT_STATUS_RETRY;
	}
	return sharing_violation ? NT_STATUS_SHARING_VIOLATION : NT_STATUS_OK;
}

struct oplock_wait_state {
	int dummy;
};

static void oplock_wait_done(struct tevent_req *subreq);

struct tevent_req *smbd_oplock_wait_send(TALLOC_CTX *mem_ctx,
					 struct smbd_client *client,
					 struct share_mode_lock *lck,
					 struct server_id blocker)
{
	struct smbd_oplock_ctx *ctx = smbd_oplock_ctx_get(client);
	struct oplock_wait_state *state;
	struct tevent_req *req, *subreq;
	unsigned wait_s;

	req = tevent_req_create(mem_ctx, &state, struct oplock_wait_state);
	if (req == NULL) {
		return NULL;
	}
	wait_s = (ctx != NULL ? ctx->timeout_s : SMBD_BREAK_TIMEOUT_DEFAULT) +
		 WAIT_MARGIN_S;
	subreq = dbwrap_watch_send(state, client->ev, lck->rec, blocker);
	if (tevent_req_nomem(subreq, req)) {
		return tevent_req_post(req, client->ev);
	}
	if (!tevent_req_set_endtime(subreq, client->ev,
				    tevent_timeval_current_ofs(wait_s, 0))) {
		tevent_req_oom(req);
		return tevent_req_post(req, client->ev);
	}
	tevent_req_set_callback(subreq, oplock_wait_done, req);
	return req;
}

static void oplock_wait_done(struct tevent_req *subreq)
{
	struct tevent_req *req =
		tevent_req_callback_data(subreq, struct tevent_req);
	bool died = false;
	NTSTATUS status = dbwrap_watch_recv(subreq, &died);

	TALLOC_FREE(subreq);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NO_MEMORY)) {
		tevent_req_error(req, NT_STATUS_V(status));
		return;
	}
	/* changed, holder died or timed out: in each case look again */
	tevent_req_done(req);
}

NTSTATUS smbd_oplock_wait_recv(struct tevent_req *req)
{
	enum tevent_req_state state;
	uint64_t err;

	if (tevent_req_is_error(req, &state, &err)) {
		return state == TEVENT_REQ_USER_ERROR ? NT_STATUS((uint32_t)err)
						      : NT_STATUS_NO_MEMORY;
	}
	return NT_STATUS_OK;
}

static int open_oplock_destructor(struct smbd_open_oplock *o)
{
	struct smbd_lease *l = o->lease;
	struct smbd_oplock_ctx *ctx;
	struct lease_record *r = NULL;
	struct db_record *rec;
	uint8_t fk[16];
	unsigned attempt = 0;
	NTSTATUS status;
	int i;

	if (l == NULL) {
		return 0;
	}
	/* one open fewer on the file; when no open of any process holds
	 * the lease on it any more, the lease no longer covers it */
	ctx = l->ctx;
again:
	status = NT_STATUS_OK;
	rec = oplock_lease_lock(ctx, ctx, ctx->client->client_guid, l->key, &r);
	if (rec != NULL && r != NULL) {
		share_mode_key_push(fk, l->dev, l->ino);
		i = lease_record_find_file(r, fk, l->stream);
		if (i >= 0) {
			if (r->files[i].opens > 0) {
				r->files[i].opens--;
			}
			if (r->files[i].opens == 0) {
				lease_record_remove_file(r, (uint32_t)i);
			}
			status = oplock_lease_store(rec, r);
		}
	}
	TALLOC_FREE(rec);
	if (smbd_db_retry(status, &attempt, "closing a leased open")) {
		goto again;
	}
	l->refs--;
	oplock_lease_put(l);
	return 0;
}

static struct smbd_lease *lease_get(struct smbd_oplock_ctx *ctx,
				    const uint8_t key[16], uint64_t dev,
				    uint64_t ino, const char *stream)
{
	struct smbd_lease *l = oplock_lease_find(ctx, key, dev, ino, stream, false);

	if (l != NULL) {
		l->refs++;
		return l;
	}
	l = talloc_zero(ctx, struct smbd_lease);
	if (l == NULL) {
		return NULL;
	}
	l->ctx = ctx;
	memcpy(l->key, key, 16);
	l->dev = dev;
	l->ino = ino;
	if (stream != NULL) {
		l->stream = talloc_strdup(l, stream);
		if (l->stream == NULL) {
			talloc_free(l);
			return NULL;
		}
	}
	l->refs = 1;
	DLIST_ADD(ctx->leases, l);
	return l;
}

/*
 * Drop the files of a lease record that no open holds the lease on any
 * more: what a process killed with its opens leaves behind (its
 * share-mode entries are cleaned, its lease counts are not).  The file
 * of lck is judged by lck's entries (locked), others by a plain read.
 */
static void lease_drop_stale_files(struct smbd_oplock_ctx *ctx,
				   struct lease_record *r,
				   struct share_mode_lock *lck,
				   const uint8_t guid[16],
				   const uint8_t key[16])
{
	struct db_context *db = share_mode_db(ctx->client);
	uint8_t fk[16];
	uint32_t i = 0;

	share_mode_key_push(fk, lck->dev, lck->ino);
	while (i < r->num_files) {
		struct lease_use u = { .guid = guid, .key = key };

		if (memcmp(r->files[i].file_key, fk, 16) == 0) {
			u.found = oplock_entries_use_lease(lck->data, guid, key);
		} else if (db == NULL ||
			   !NT_STATUS_IS_OK(dbwrap_parse_record(
				   db,
				   db_data_make(r->files[i].file_key, 16),
				   oplock_lease_use_parser, &u))) {
			u.found = db == NULL; /* keep it if we cannot tell */
		}
		if (u.found) {
			i++;
			continue;
		}
		lease_record_remove_file(r, i);
	}
}

/* The lease part of the grant: create the record or join/upgrade it. */
static NTSTATUS grant_lease(struct smbd_oplock_ctx *ctx,
			    struct smbd_open_oplock *o,
			    struct share_mode_lock *lck,
			    const struct smbd_oplock_want *want,
			    uint32_t granted)
{
	struct smbd_client *client = ctx->client;
	struct smbd_open *op = o->op;
	struct lease_record *r = NULL;
	struct db_record *rec;
	uint8_t fk[16];
	NTSTATUS status;
	int i;

	rec = oplock_lease_lock(ctx, o, client->client_guid, want->lease.key, &r);
	if (rec == NULL) {
		return NT_STATUS_INTERNAL_DB_ERROR;
	}
	share_mode_key_push(fk, lck->dev, lck->ino);
	if (r != NULL) {
		lease_drop_stale_files(ctx, r, lck, client->client_guid,
				       want->lease.key);
		if (r->num_files == 0) {
			/* nothing left of it: a new lease */
			TALLOC_FREE(r);
		}
	}
	if (r == NULL) {
		r = talloc_zero(rec, struct lease_record);
		if (r == NULL) {
			TALLOC_FREE(rec);
			return NT_STATUS_NO_MEMORY;
		}
		r->version = want->lease.version;
		/* a v2 client names the epoch it knows; a grant is a
		 * change ([MS-SMB2] 3.3.5.9.11) */
		r->epoch = want->lease.epoch;
		if (granted != 0) {
			r->epoch++;
		}
		r->current_state = granted;
		r->has_parent = (want->lease.flags &
				 SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET) != 0;
		memcpy(r->parent_key, want->lease.parent_key, 16);
	} else {
		(void)lease_record_upgrade(r, want->lease.state, granted);
	}
	i = lease_record_find_file(r, fk, smbd_open_stream(op));
	if (i < 0) {
		status = lease_record_add_file(r, fk,
					       op->tcon->share != NULL
						       ? op->tcon->share->path
						       : NULL,
					       op->relpath, smbd_open_stream(op));
		if (!NT_STATUS_IS_OK(status)) {
			TALLOC_FREE(rec);
			return status;
		}
		i = (int)r->num_files - 1;
	}
	r->files[i].opens++;
	status = oplock_lease_store(rec, r);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(rec);
		return status;
	}
	o->lease = lease_get(ctx, want->lease.key, lck->dev, lck->ino,
			     smbd_open_stream(op));
	if (o->lease == NULL) {
		TALLOC_FREE(rec);
		return NT_STATUS_NO_MEMORY;
	}
	o->reply = want->lease;
	o->reply.version = r->version;
	o->reply.state = r->current_state;
	o->reply.epoch = r->epoch;
	o->reply.duration = 0;
	o->reply.flags = want->lease.flags &
			 SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
	if (r->breaking) {
		o->reply.flags |= SMB2_LEASE_FLAG_BREAK_IN_PROGRESS;
	}
	TALLOC_FREE(rec);
	return NT_STATUS_OK;
}

NTSTATUS smbd_oplock_grant(struct smbd_open *op, struct share_mode_lock *lck,
			   const struct smbd_oplock_want *want,
			   struct share_mode_entry *e, bool was_overwritten,
			   bool created)
{
	struct smbd_client *client = op->tcon->session->client;
	struct smbd_oplock_ctx *ctx = smbd_oplock_ctx_get(client);
	const struct smb_conf_share *share = op->tcon->share;
	struct oplock_request r = {
		.oplock_level = want->level,
		.lease_state = want->lease.state,
		.access_mask = op->access_mask,
		.is_dir = op->is_dir,
		.level2_allowed = share == NULL || share->level2_oplocks,
		.oplocks_allowed = share == NULL || share->oplocks,
		.was_overwritten = was_overwritten,
		/* cached reads would miss other opens' locks */
		.has_brlocks = !op->is_dir && smbd_brl_file_has_locks(op),
	};
	struct smbd_open_oplock *o;
	struct holder_set set;
	uint32_t granted;
	uint8_t level = SMB2_OPLOCK_LEVEL_NONE;
	NTSTATUS status;

	if (ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (op->create_disposition == FILE_SUPERSEDE ||
	    op->create_disposition == FILE_OVERWRITE ||
	    op->create_disposition == FILE_OVERWRITE_IF) {
		r.access_mask |= SEC_FILE_WRITE_DATA;
	}
	if (!created && oplock_is_stat_open(r.access_mask) &&
	    !want->have_lease) {
		/* a stat open of an existing file gets no oplock (a lease
		 * it may get), as in Samba; one that creates the file does */
		r.oplock_level = SMB2_OPLOCK_LEVEL_NONE;
	}
	TALLOC_FREE(op->oplock);
	o = talloc_zero(op, struct smbd_open_oplock);
	if (o == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	o->op = op;
	o->dev = lck->dev;
	o->ino = lck->ino;
	if (!oplock_holders_of(ctx, o, lck, smbd_open_stream(op), want, &set)) {
		talloc_free(o);
		return NT_STATUS_NO_MEMORY;
	}
	granted = oplock_grant(&r, set.h, set.n, &level);
	TALLOC_FREE(set.h);
	TALLOC_FREE(set.idx);
	if (op->is_dir) {
		/* no directory leases (SMB2_CAP_DIRECTORY_LEASING is not
		 * offered) and no oplocks on directories: the request is
		 * ignored, as Samba does with directory leases off */
		level = SMB2_OPLOCK_LEVEL_NONE;
		granted = 0;
	}
	if (level == SMB2_OPLOCK_LEVEL_LEASE) {
		status = grant_lease(ctx, o, lck, want, granted);
		if (!NT_STATUS_IS_OK(status)) {
			talloc_free(o);
			return status;
		}
		memcpy(e->client_guid, client->client_guid, 16);
		memcpy(e->lease_key, want->lease.key, 16);
	}
	o->level = level;
	e->oplock_type = oplock_level_to_entry(level);
	talloc_set_destructor(o, open_oplock_destructor);
	op->oplock = o;
	DBG_DEBUG("'%s': oplock %u granted (lease state %u)\n", op->relpath,
		  level, granted);
	return NT_STATUS_OK;
}

uint8_t smbd_oplock_reply_level(const struct smbd_open *op)
{
	return op->oplock != NULL ? op->oplock->level : SMB2_OPLOCK_LEVEL_NONE;
}

size_t smbd_oplock_reply_lease(const struct smbd_open *op, uint8_t *buf)
{
	if (op->oplock == NULL || op->oplock->lease == NULL) {
		return 0;
	}
	return smb2_lease_push(&op->oplock->reply, buf);
}

/* ---- the CREATE's share-mode step with oplocks ---- */

NTSTATUS smbd_oplock_enter(struct smbd_open *op, uint64_t dev, uint64_t ino,
			   const struct smbd_oplock_want *want,
			   bool will_overwrite, bool created,
			   bool first_attempt, TALLOC_CTX *mem_ctx,
			   struct tevent_req **wait)
{
	struct smbd_client *client = op->tcon->session->client;
	struct share_mode_entry entry;
	struct share_mode_lock *lck;
	struct server_id blocker = { 0 };
	unsigned attempt = 0;
	NTSTATUS status;

again:
	*wait = NULL;
	blocker = (struct server_id){ 0 };
	lck = smbd_share_mode_lock_open(op, op, dev, ino);
	if (lck == NULL) {
		return NT_STATUS_INTERNAL_DB_ERROR;
	}
	status = smbd_share_mode_check_open(lck, op);
	if (NT_STATUS_IS_OK(status) ||
	    NT_STATUS_EQUAL(status, NT_STATUS_SHARING_VIOLATION)) {
		/* oplocks and leases in the way are broken first; a
		 * sharing violation may go away with a cached handle */
		status = smbd_oplock_delay_for(
			client, lck, smbd_open_stream(op), want,
			op->access_mask, op->create_disposition,
			!NT_STATUS_IS_OK(status), first_attempt, &blocker);
	}
	if (NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
		/* the watch is registered while the record is locked, so
		 * no acknowledgement can slip through unseen */
		*wait = smbd_oplock_wait_send(mem_ctx, client, lck, blocker);
		if (*wait == NULL) {
			status = NT_STATUS_NO_MEMORY;
		}
	}
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(lck);
		return status;
	}
	smbd_share_mode_entry_init(op, &entry);
	status = smbd_oplock_grant(op, lck, want, &entry, will_overwrite,
				   created);
	if (NT_STATUS_IS_OK(status)) {
		status = smbd_share_mode_add_open(lck, op, &entry);
	}
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(op->oplock);
	}
	talloc_free(lck); /* stores a dead-owner cleanup, if any */
	/* NT_STATUS_RETRY here is the store's (clustered backend): another
	 * node changed the record since we looked, so the share-mode check
	 * and the break decisions are made again on the new record */
	if (smbd_db_retry(status, &attempt, "opening")) {
		goto again;
	}
	return smbd_db_retry_status(status);
}

/* ---- rename ---- */

void smbd_oplock_renamed(struct smbd_open *op, const char *newrel)
{
	struct smbd_client *client = op->tcon->session->client;
	struct smbd_open_oplock *o = op->oplock;
	struct smbd_oplock_ctx *ctx = client->oplocks;
	struct share_mode_lock *lck;
	uint8_t fk[16];
	uint32_t i, j;
	unsigned attempt;
	NTSTATUS status;

	if (o == NULL || ctx == NULL) {
		return;
	}
	lck = share_mode_lock_get(o, client, o->dev, o->ino);
	if (lck == NULL) {
		return;
	}
	share_mode_key_push(fk, o->dev, o->ino);
	for (i = 0; i < lck->data->num_entries; i++) {
		const struct share_mode_entry *e = &lck->data->entries[i];
		struct lease_record *r = NULL;
		struct db_record *rec;
		bool changed = false;

		if (e->oplock_type != SHARE_MODE_OPLOCK_LEASE) {
			continue;
		}
		/* a lease names its file: the name follows the rename so
		 * that the key can open the file under its new name (the
		 * client's record may be changed on another node meanwhile:
		 * then again on the new one) */
		attempt = 0;
	again:
		changed = false;
		rec = oplock_lease_lock(ctx, lck, e->client_guid, e->lease_key, &r);
		for (j = 0; r != NULL && j < r->num_files; j++) {
			struct lease_file *f = &r->files[j];

			if (memcmp(f->file_key, fk, 16) != 0 ||
			    strcmp(f->relpath, newrel) == 0) {
				continue;
			}
			talloc_free(f->relpath);
			f->relpath = talloc_strdup(r, newrel);
			changed = f->relpath != NULL;
		}
		status = changed ? oplock_lease_store(rec, r) : NT_STATUS_OK;
		TALLOC_FREE(rec);
		if (smbd_db_retry(status, &attempt, "renaming a lease's file")) {
			goto again;
		}
	}
	TALLOC_FREE(lck);
}
