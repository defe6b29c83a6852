/*
 * Oplocks and leases between smbd processes: the runtime around the pure
 * decisions of oplock.c and lease_record.c (overview in oplock_break.h
 * and docs/oplocks-leases.md).
 *
 * Lock order: a share-mode record first, then a lease record (as the
 * CREATE path holds them); a lease record is never held while locking a
 * share-mode record.
 */
#include "smbd/oplock_break.h"

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
#include "smbd/streams.h"

#define LEASES_DB_NAME "leases.tdb"
#define BREAK_MSG_VERSION 1
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

static void break_request_handler(struct messaging_context *msg,
				  void *private_data, uint32_t msg_type,
				  struct server_id src, const uint8_t *data,
				  size_t len, int *fds, size_t num_fds);
static NTSTATUS send_break(struct smbd_oplock_ctx *ctx,
			   const struct share_mode_lock *lck,
			   const struct share_mode_entry *e, uint32_t break_to);

static struct smbd_oplock_ctx *oplock_ctx(struct smbd_client *client)
{
	struct smbd_oplock_ctx *ctx = client->oplocks;
	char *path;

	if (ctx != NULL) {
		return ctx;
	}
	ctx = talloc_zero(client, struct smbd_oplock_ctx);
	if (ctx == NULL) {
		return NULL;
	}
	ctx->client = client;
	ctx->timeout_s = SMBD_BREAK_TIMEOUT_DEFAULT;
	if (client->conf != NULL &&
	    client->conf->global.oplock_break_timeout > 0) {
		ctx->timeout_s = client->conf->global.oplock_break_timeout;
	}
	path = talloc_asprintf(ctx, "%s/%s",
			       client->conf->global.lock_directory,
			       LEASES_DB_NAME);
	if (path == NULL) {
		talloc_free(ctx);
		return NULL;
	}
	ctx->leases_db = db_open_tdb(ctx, client->msg, path, 0,
				     DBWRAP_FLAG_NONE);
	if (ctx->leases_db == NULL) {
		DBG_ERR("cannot open %s\n", path);
		talloc_free(ctx);
		return NULL;
	}
	if (client->msg != NULL) {
		NTSTATUS status = messaging_register(client->msg, ctx,
						     MSG_SMB_BREAK_REQUEST,
						     break_request_handler);
		ctx->registered = NT_STATUS_IS_OK(status);
	}
	client->oplocks = ctx;
	return ctx;
}

static bool level2_allowed(const struct smbd_open *op)
{
	const struct smb_conf_share *share = op->tcon->share;

	return share == NULL || share->level2_oplocks;
}

/* ---- share-mode entries as the engine sees them ---- */

static uint8_t entry_level(uint8_t oplock_type)
{
	switch (oplock_type) {
	case SHARE_MODE_OPLOCK_LEVEL_II:
		return SMB2_OPLOCK_LEVEL_II;
	case SHARE_MODE_OPLOCK_EXCLUSIVE:
		return SMB2_OPLOCK_LEVEL_EXCLUSIVE;
	case SHARE_MODE_OPLOCK_BATCH:
		return SMB2_OPLOCK_LEVEL_BATCH;
	case SHARE_MODE_OPLOCK_LEASE:
		return SMB2_OPLOCK_LEVEL_LEASE;
	default:
		return SMB2_OPLOCK_LEVEL_NONE;
	}
}

static uint8_t level_to_entry(uint8_t level)
{
	switch (level) {
	case SMB2_OPLOCK_LEVEL_II:
		return SHARE_MODE_OPLOCK_LEVEL_II;
	case SMB2_OPLOCK_LEVEL_EXCLUSIVE:
		return SHARE_MODE_OPLOCK_EXCLUSIVE;
	case SMB2_OPLOCK_LEVEL_BATCH:
		return SHARE_MODE_OPLOCK_BATCH;
	case SMB2_OPLOCK_LEVEL_LEASE:
		return SHARE_MODE_OPLOCK_LEASE;
	default:
		return SHARE_MODE_OPLOCK_NONE;
	}
}

struct lease_parse {
	TALLOC_CTX *mem_ctx;
	struct lease_record *r;
	NTSTATUS status;
};

static void lease_parser(struct db_data key, struct db_data data,
			 void *private_data)
{
	struct lease_parse *p = private_data;

	p->status = lease_record_pull(p->mem_ctx, data.dptr, data.dsize,
				      &p->r);
}

/* The lease record of (guid, key), read without a lock. */
static NTSTATUS lease_fetch(struct smbd_oplock_ctx *ctx, TALLOC_CTX *mem_ctx,
			    const uint8_t guid[16], const uint8_t key[16],
			    struct lease_record **r)
{
	uint8_t k[LEASE_DB_KEY_SIZE];
	struct lease_parse p = { .mem_ctx = mem_ctx };
	NTSTATUS status;

	lease_db_key(k, guid, key);
	status = dbwrap_parse_record(ctx->leases_db, db_data_make(k, sizeof(k)),
				     lease_parser, &p);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	*r = p.r;
	return p.status;
}

static NTSTATUS lease_store(struct db_record *rec, const struct lease_record *r)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	if (r->num_files == 0) {
		return dbwrap_record_delete(rec);
	}
	status = lease_record_push(rec, r, &buf, &len);
	if (NT_STATUS_IS_OK(status)) {
		status = dbwrap_record_store(rec, db_data_make(buf, len));
	}
	TALLOC_FREE(buf);
	return status;
}

/* Lock the lease record of (guid, key) and decode it (*r NULL if there
 * is none). */
static struct db_record *lease_lock(struct smbd_oplock_ctx *ctx,
				    TALLOC_CTX *mem_ctx, const uint8_t guid[16],
				    const uint8_t key[16],
				    struct lease_record **r)
{
	uint8_t k[LEASE_DB_KEY_SIZE];
	struct db_record *rec;
	struct db_data v;

	*r = NULL;
	lease_db_key(k, guid, key);
	rec = dbwrap_fetch_locked(ctx->leases_db, mem_ctx,
				  db_data_make(k, sizeof(k)));
	if (rec == NULL) {
		return NULL;
	}
	v = dbwrap_record_get_value(rec);
	if (v.dsize > 0 &&
	    !NT_STATUS_IS_OK(lease_record_pull(rec, v.dptr, v.dsize, r))) {
		DBG_WARNING("undecodable lease record dropped\n");
		*r = NULL;
	}
	return rec;
}

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

static bool holders_of(struct smbd_oplock_ctx *ctx, TALLOC_CTX *mem_ctx,
		       struct share_mode_lock *lck, const char *stream,
		       const struct smbd_oplock_want *want,
		       struct holder_set *set)
{
	struct share_mode_data *d = lck->data;
	struct oplock_holder *h;
	uint32_t i, k;

	set->n = 0;
	set->h = h = talloc_zero_array(mem_ctx, struct oplock_holder,
				       d->num_entries > 0 ? d->num_entries
							  : 1);
	set->idx = talloc_zero_array(mem_ctx, uint32_t,
				     d->num_entries > 0 ? d->num_entries : 1);
	if (h == NULL || set->idx == NULL) {
		return false;
	}
	for (i = 0; i < d->num_entries; i++) {
		const struct share_mode_entry *e = &d->entries[i];
		struct lease_record *r = NULL;

		if (!share_mode_stream_equal(e->stream_name, stream)) {
			continue;
		}
		k = set->n++;
		set->idx[k] = i;
		h[k].oplock_level = entry_level(e->oplock_type);
		h[k].access_mask = e->access_mask;
		if (h[k].oplock_level != SMB2_OPLOCK_LEVEL_LEASE) {
			continue;
		}
		h[k].same_lease =
			want != NULL && want->have_lease &&
			memcmp(e->client_guid, ctx->client->client_guid, 16) ==
				0 &&
			memcmp(e->lease_key, want->lease.key, 16) == 0;
		if (NT_STATUS_IS_OK(lease_fetch(ctx, h, e->client_guid,
						e->lease_key, &r))) {
			h[k].state = r->current_state;
			h[k].breaking = r->breaking;
		} else {
			/* the lease is gone (its holder closed or died) */
			h[k].stale = true;
		}
	}
	return true;
}

/* Send the breaks marked in set: one per lease, however many opens
 * share it. */
static void send_breaks(struct smbd_oplock_ctx *ctx,
			const struct share_mode_lock *lck,
			const struct holder_set *set)
{
	const struct share_mode_data *d = lck->data;
	uint32_t k, j;

	for (k = 0; k < set->n; k++) {
		const struct share_mode_entry *e = &d->entries[set->idx[k]];
		bool dup = false;

		if (!set->h[k].send_break) {
			continue;
		}
		for (j = 0; j < k && set->h[k].oplock_level ==
					     SMB2_OPLOCK_LEVEL_LEASE;
		     j++) {
			const struct share_mode_entry *x =
				&d->entries[set->idx[j]];

			if (set->h[j].send_break &&
			    set->h[j].oplock_level == SMB2_OPLOCK_LEVEL_LEASE &&
			    memcmp(x->client_guid, e->client_guid, 16) == 0 &&
			    memcmp(x->lease_key, e->lease_key, 16) == 0) {
				dup = true;
				break;
			}
		}
		if (!dup) {
			(void)send_break(ctx, lck, e, set->h[k].break_to);
		}
	}
}

/* ---- break requests between processes ---- */

static NTSTATUS send_break(struct smbd_oplock_ctx *ctx,
			   const struct share_mode_lock *lck,
			   const struct share_mode_entry *e, uint32_t break_to)
{
	struct marshall_push *p;
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	if (ctx->client->msg == NULL) {
		return NT_STATUS_NOT_SUPPORTED;
	}
	p = marshall_push_init(ctx, REC_MSG_BREAK, BREAK_MSG_VERSION);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u64(p, lck->dev);
	marshall_push_u64(p, lck->ino);
	marshall_push_u64(p, e->file_id);
	marshall_push_u32(p, break_to);
	status = marshall_push_finish(p, &buf, &len);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = messaging_send(ctx->client->msg, e->owner,
				MSG_SMB_BREAK_REQUEST, buf, len, NULL, 0);
	talloc_free(buf);
	DBG_DEBUG("break of fid %llu to %u: %s\n",
		  (unsigned long long)e->file_id, break_to, nt_errstr(status));
	return status;
}

struct find_open {
	uint64_t file_id, dev, ino;
	struct smbd_open *op;
};

static void find_open_fn(struct smbd_open *op, void *private_data)
{
	struct find_open *f = private_data;

	if (f->op == NULL && op->persistent_id == f->file_id &&
	    op->oplock != NULL && op->oplock->dev == f->dev &&
	    op->oplock->ino == f->ino) {
		f->op = op;
	}
}

/* The share-mode entry of op: set its oplock type and store, which
 * wakes the opens waiting for it. */
static void set_entry_oplock(struct smbd_open *op, uint8_t level)
{
	struct smbd_client *client = op->tcon->session->client;
	struct smbd_open_oplock *o = op->oplock;
	struct share_mode_lock *lck;
	struct share_mode_entry *e;
	struct server_id self = share_mode_self(client);

	lck = share_mode_lock_get(o, client, o->dev, o->ino);
	if (lck == NULL) {
		return;
	}
	e = share_mode_lock_find(lck, &self, op->persistent_id);
	if (e != NULL) {
		e->oplock_type = level_to_entry(level);
		lck->modified = true;
		(void)share_mode_lock_store(lck);
	}
	TALLOC_FREE(lck);
}

static void oplock_timeout_fn(struct tevent_context *ev,
			      struct tevent_timer *te, struct timeval now,
			      void *private_data)
{
	struct smbd_open_oplock *o = private_data;
	uint8_t level;

	o->timeout = NULL;
	DBG_NOTICE("oplock break on '%s' not acknowledged in time: "
		   "dropping the oplock\n",
		   o->op->relpath);
	(void)smbd_oplock_ack(o->op, SMB2_OPLOCK_LEVEL_NONE, &level);
}

static void oplock_break_holder(struct smbd_open *op, uint32_t break_to)
{
	struct smbd_client *client = op->tcon->session->client;
	struct smbd_oplock_ctx *ctx = client->oplocks;
	struct smbd_open_oplock *o = op->oplock;
	uint32_t from = oplock_level_to_lease_state(o->level);
	uint8_t to_level;

	if (o->breaking) {
		return; /* one break at a time; the ack settles it */
	}
	if (!level2_allowed(op)) {
		break_to &= ~SMB2_LEASE_READ;
	}
	break_to &= SMB2_LEASE_READ;
	if (from == SMB2_LEASE_NONE || from == break_to) {
		return;
	}
	to_level = break_to ? SMB2_OPLOCK_LEVEL_II : SMB2_OPLOCK_LEVEL_NONE;
	if (!NT_STATUS_IS_OK(smbd_send_oplock_break(op, to_level))) {
		DBG_NOTICE("cannot send an oplock break\n");
	}
	if (from == SMB2_LEASE_READ) {
		/* level II to none needs no acknowledgement */
		o->level = SMB2_OPLOCK_LEVEL_NONE;
		set_entry_oplock(op, SMB2_OPLOCK_LEVEL_NONE);
		return;
	}
	o->breaking = true;
	o->breaking_to = to_level;
	o->timeout = tevent_add_timer(client->ev, o,
				      tevent_timeval_current_ofs(
					      ctx->timeout_s, 0),
				      oplock_timeout_fn, o);
}

static void lease_timeout_fn(struct tevent_context *ev,
			     struct tevent_timer *te, struct timeval now,
			     void *private_data);

static void lease_arm_timer(struct smbd_lease *l, uint16_t epoch)
{
	TALLOC_FREE(l->timeout);
	l->timeout_epoch = epoch;
	l->timeout = tevent_add_timer(l->ctx->client->ev, l,
				      tevent_timeval_current_ofs(
					      l->ctx->timeout_s, 0),
				      lease_timeout_fn, l);
}

static void lease_break_holder(struct smbd_open *op, uint32_t break_to)
{
	struct smbd_client *client = op->tcon->session->client;
	struct smbd_oplock_ctx *ctx = client->oplocks;
	struct smbd_lease *l = op->oplock->lease;
	TALLOC_CTX *frame = talloc_new(op);
	struct share_mode_lock *lck;
	struct lease_record *r = NULL;
	struct lease_break_notice n = { 0 };
	struct db_record *rec;

	if (frame == NULL) {
		return;
	}
	/* the share-mode lock orders this against opens of the file */
	lck = share_mode_lock_get(frame, client, l->dev, l->ino);
	rec = lease_lock(ctx, frame, client->client_guid, l->key, &r);
	if (rec != NULL && r != NULL) {
		lease_record_break(r, break_to, &n);
		if (!NT_STATUS_IS_OK(lease_store(rec, r))) {
			n.send = false;
		}
	}
	TALLOC_FREE(rec);
	TALLOC_FREE(lck);
	if (n.send) {
		(void)smbd_send_lease_break(client, l->key, &n);
		if (n.ack_required) {
			lease_arm_timer(l, r->epoch);
		}
	}
	talloc_free(frame);
}

static void break_request_handler(struct messaging_context *msg,
				  void *private_data, uint32_t msg_type,
				  struct server_id src, const uint8_t *data,
				  size_t len, int *fds, size_t num_fds)
{
	struct smbd_oplock_ctx *ctx = private_data;
	struct marshall_pull pr;
	struct find_open f = { 0 };
	uint32_t break_to = 0;

	if (!NT_STATUS_IS_OK(marshall_pull_init(&pr, data, len, REC_MSG_BREAK,
						BREAK_MSG_VERSION))) {
		return;
	}
	marshall_pull_u64(&pr, &f.dev);
	marshall_pull_u64(&pr, &f.ino);
	marshall_pull_u64(&pr, &f.file_id);
	marshall_pull_u32(&pr, &break_to);
	if (!NT_STATUS_IS_OK(marshall_pull_finish(&pr))) {
		DBG_WARNING("malformed break request\n");
		return;
	}
	smbd_open_foreach(ctx->client, find_open_fn, &f);
	if (f.op == NULL) {
		/* closed meanwhile: its entry is gone or going */
		return;
	}
	if (f.op->oplock->level == SMB2_OPLOCK_LEVEL_LEASE) {
		lease_break_holder(f.op, break_to);
	} else {
		oplock_break_holder(f.op, break_to);
	}
}

/* ---- acknowledgements ---- */

bool smbd_oplock_is_breaking(const struct smbd_open *op)
{
	return op->oplock != NULL && op->oplock->breaking;
}

NTSTATUS smbd_oplock_ack(struct smbd_open *op, uint8_t level,
			 uint8_t *new_level)
{
	struct smbd_open_oplock *o = op->oplock;

	if (o == NULL || !o->breaking) {
		return NT_STATUS_INVALID_OPLOCK_PROTOCOL;
	}
	/* a break to none stays none whatever the client says; to level
	 * II the client may also give it up ([MS-SMB2] 3.3.5.22.1) */
	if (o->breaking_to == SMB2_OPLOCK_LEVEL_NONE ||
	    level == SMB2_OPLOCK_LEVEL_NONE) {
		*new_level = SMB2_OPLOCK_LEVEL_NONE;
	} else {
		*new_level = SMB2_OPLOCK_LEVEL_II;
	}
	o->breaking = false;
	TALLOC_FREE(o->timeout);
	o->level = *new_level;
	set_entry_oplock(op, *new_level);
	return NT_STATUS_OK;
}

static struct smbd_lease *lease_find(struct smbd_oplock_ctx *ctx,
				     const uint8_t key[16], uint64_t dev,
				     uint64_t ino, const char *stream,
				     bool any_file)
{
	struct smbd_lease *l;

	for (l = ctx->leases; l != NULL; l = l->next) {
		if (memcmp(l->key, key, 16) != 0) {
			continue;
		}
		if (any_file ||
		    (l->dev == dev && l->ino == ino &&
		     ((l->stream == NULL && stream == NULL) ||
		      (l->stream != NULL && stream != NULL &&
		       strcasecmp(l->stream, stream) == 0)))) {
			return l;
		}
	}
	return NULL;
}

static void lease_followup(struct tevent_context *ev,
			   struct tevent_immediate *im, void *private_data)
{
	struct smbd_lease *l = private_data;
	struct lease_break_notice n = l->pending;

	(void)smbd_send_lease_break(l->ctx->client, l->key, &n);
	if (n.ack_required) {
		lease_arm_timer(l, n.epoch);
	}
}

/* Lower (or acknowledge) the lease (client guid, key) to state: the
 * acknowledgement or, with from_timeout, its stand-in. */
static NTSTATUS lease_downgrade(struct smbd_oplock_ctx *ctx,
				const uint8_t key[16], uint32_t state,
				bool from_timeout, uint16_t timeout_epoch)
{
	struct smbd_client *client = ctx->client;
	TALLOC_CTX *frame = talloc_new(ctx);
	struct lease_record *r = NULL;
	struct share_mode_lock *lck = NULL;
	struct lease_break_notice next = { 0 };
	struct db_record *rec;
	struct smbd_lease *l;
	uint64_t dev = 0, ino = 0;
	NTSTATUS status;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = lease_fetch(ctx, frame, client->client_guid, key, &r);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND) ||
	    (NT_STATUS_IS_OK(status) && r->num_files == 0)) {
		status = NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(frame);
		return status;
	}
	share_mode_key_pull(r->files[0].file_key, &dev, &ino);
	lck = share_mode_lock_get(frame, client, dev, ino);
	rec = lease_lock(ctx, frame, client->client_guid, key, &r);
	if (rec == NULL || r == NULL) {
		talloc_free(frame);
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (from_timeout && (!r->breaking || r->epoch != timeout_epoch)) {
		/* acknowledged (or broken again) meanwhile */
		talloc_free(frame);
		return NT_STATUS_OK;
	}
	status = lease_record_ack(r, state, &next);
	if (NT_STATUS_IS_OK(status)) {
		status = lease_store(rec, r);
	}
	TALLOC_FREE(rec);
	if (NT_STATUS_IS_OK(status) && lck != NULL) {
		/* the state the waiting opens look at changed: wake them */
		lck->modified = true;
	}
	TALLOC_FREE(lck);
	talloc_free(frame);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	l = lease_find(ctx, key, 0, 0, NULL, true);
	if (l != NULL) {
		TALLOC_FREE(l->timeout);
	}
	if (next.send && l != NULL) {
		/* after the acknowledgement's response has gone out */
		l->pending = next;
		if (l->im == NULL) {
			l->im = tevent_create_immediate(l);
		}
		if (l->im != NULL) {
			tevent_schedule_immediate(l->im, client->ev,
						  lease_followup, l);
		}
	}
	return NT_STATUS_OK;
}

static void lease_timeout_fn(struct tevent_context *ev,
			     struct tevent_timer *te, struct timeval now,
			     void *private_data)
{
	struct smbd_lease *l = private_data;

	l->timeout = NULL;
	DBG_NOTICE("lease break not acknowledged in time: dropping it\n");
	(void)lease_downgrade(l->ctx, l->key, SMB2_LEASE_NONE, true,
			      l->timeout_epoch);
}

NTSTATUS smbd_lease_ack(struct smbd_client *client, const uint8_t key[16],
			uint32_t state)
{
	struct smbd_oplock_ctx *ctx = oplock_ctx(client);

	if (ctx == NULL) {
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	return lease_downgrade(ctx, key, state, false, 0);
}

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

struct lease_use {
	const uint8_t *guid, *key;
	bool found;
};

static bool entries_use_lease(const struct share_mode_data *d,
			      const uint8_t guid[16], const uint8_t key[16])
{
	uint32_t i;

	for (i = 0; i < d->num_entries; i++) {
		const struct share_mode_entry *e = &d->entries[i];

		if (e->oplock_type == SHARE_MODE_OPLOCK_LEASE &&
		    memcmp(e->client_guid, guid, 16) == 0 &&
		    memcmp(e->lease_key, key, 16) == 0) {
			return true;
		}
	}
	return false;
}

static void lease_use_parser(struct db_data key, struct db_data data,
			     void *private_data)
{
	struct lease_use *u = private_data;
	struct share_mode_data *d = NULL;

	if (NT_STATUS_IS_OK(share_mode_record_pull(NULL, data.dptr, data.dsize,
						   &d))) {
		u->found = entries_use_lease(d, u->guid, u->key);
		talloc_free(d);
	}
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
	ctx = oplock_ctx(client);
	if (ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	frame = talloc_new(ctx);
	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = lease_fetch(ctx, frame, client->client_guid, want->lease.key,
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
				lease_use_parser, &u);
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
	ctx = oplock_ctx(client);
	if (ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (!holders_of(ctx, lck, lck, stream, want, &set)) {
		return NT_STATUS_NO_MEMORY;
	}
	delay = oplock_check_breaks(&r, set.h, set.n);
	for (k = 0; k < set.n && !have_blocker; k++) {
		if (set.h[k].send_break || set.h[k].breaking) {
			*blocker = d->entries[set.idx[k]].owner;
			have_blocker = true;
		}
	}
	send_breaks(ctx, lck, &set);
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
	struct smbd_oplock_ctx *ctx = oplock_ctx(client);
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
	int i;

	if (l == NULL) {
		return 0;
	}
	/* one open fewer on the file; when no open of any process holds
	 * the lease on it any more, the lease no longer covers it */
	ctx = l->ctx;
	rec = lease_lock(ctx, ctx, ctx->client->client_guid, l->key, &r);
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
			(void)lease_store(rec, r);
		}
	}
	TALLOC_FREE(rec);
	if (--l->refs == 0) {
		DLIST_REMOVE(ctx->leases, l);
		talloc_free(l);
	}
	return 0;
}

static struct smbd_lease *lease_get(struct smbd_oplock_ctx *ctx,
				    const uint8_t key[16], uint64_t dev,
				    uint64_t ino, const char *stream)
{
	struct smbd_lease *l = lease_find(ctx, key, dev, ino, stream, false);

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
			u.found = entries_use_lease(lck->data, guid, key);
		} else if (db == NULL ||
			   !NT_STATUS_IS_OK(dbwrap_parse_record(
				   db,
				   db_data_make(r->files[i].file_key, 16),
				   lease_use_parser, &u))) {
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

	rec = lease_lock(ctx, o, client->client_guid, want->lease.key, &r);
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
	status = lease_store(rec, r);
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
	struct smbd_oplock_ctx *ctx = oplock_ctx(client);
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
	if (!holders_of(ctx, o, lck, smbd_open_stream(op), want, &set)) {
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
	e->oplock_type = level_to_entry(level);
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

/* ---- level II contention ---- */

struct any_read {
	bool found;
};

static void any_read_parser(struct db_data key, struct db_data data,
			    void *private_data)
{
	struct any_read *a = private_data;
	struct share_mode_data *d = NULL;
	uint32_t i;

	if (!NT_STATUS_IS_OK(share_mode_record_pull(NULL, data.dptr,
						    data.dsize, &d))) {
		a->found = true; /* let the locked path sort it out */
		return;
	}
	for (i = 0; i < d->num_entries; i++) {
		uint8_t t = d->entries[i].oplock_type;

		if (t == SHARE_MODE_OPLOCK_LEVEL_II ||
		    t == SHARE_MODE_OPLOCK_LEASE) {
			a->found = true;
		}
	}
	talloc_free(d);
}

void smbd_oplock_contend_level2(struct smbd_open *op)
{
	struct smbd_client *client = op->tcon->session->client;
	struct smbd_open_oplock *o = op->oplock;
	struct smbd_oplock_ctx *ctx = client->oplocks;
	struct smbd_oplock_want want = { 0 };
	struct share_mode_lock *lck;
	struct holder_set set;
	struct any_read a = { false };
	struct db_context *db;
	uint8_t key[SHARE_MODE_KEY_SIZE];

	if (o == NULL || ctx == NULL || o->level == SMB2_OPLOCK_LEVEL_BATCH ||
	    o->level == SMB2_OPLOCK_LEVEL_EXCLUSIVE) {
		return; /* a W oplock holder is alone with the file */
	}
	db = share_mode_db(client);
	if (db == NULL) {
		return;
	}
	/* most writes meet no level II holder: look before locking */
	share_mode_key_push(key, o->dev, o->ino);
	if (!NT_STATUS_IS_OK(dbwrap_parse_record(
		    db, db_data_make(key, sizeof(key)), any_read_parser, &a)) ||
	    !a.found) {
		return;
	}
	lck = share_mode_lock_get(o, client, o->dev, o->ino);
	if (lck == NULL) {
		return;
	}
	if (o->lease != NULL) {
		want.have_lease = true;
		want.level = SMB2_OPLOCK_LEVEL_LEASE;
		memcpy(want.lease.key, o->lease->key, 16);
	}
	if (holders_of(ctx, lck, lck, smbd_open_stream(op), &want, &set) &&
	    oplock_contend_level2(set.h, set.n) > 0) {
		send_breaks(ctx, lck, &set);
	}
	TALLOC_FREE(lck);
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
	NTSTATUS status;

	*wait = NULL;
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
	return status;
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
		 * that the key can open the file under its new name */
		rec = lease_lock(ctx, lck, e->client_guid, e->lease_key, &r);
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
		if (changed) {
			(void)lease_store(rec, r);
		}
		TALLOC_FREE(rec);
	}
	TALLOC_FREE(lck);
}

/*
 * Before a rename: the other leases with H on the file are broken to
 * lose H and the rename waits for them ([MS-SMB2] 3.3.5.21.1 via
 * [MS-FSA] 2.1.5.14.11; smbtorture smb2.lease.rename_wait, v2_rename).
 * The renamer's own lease keeps its H.  Oplocks are left alone, as
 * Samba does.
 */
struct handle_breaks_state {
	/* the open by its ids: it may be closed while the rename waits */
	uint64_t persistent_id, volatile_id;
	struct smbd_client *client;
};

static void handle_breaks_step(struct tevent_req *req);
static void handle_breaks_waited(struct tevent_req *subreq);

struct tevent_req *smbd_oplock_rename_breaks_send(TALLOC_CTX *mem_ctx,
						  struct smbd_open *op)
{
	struct smbd_client *client = op->tcon->session->client;
	struct handle_breaks_state *state;
	struct tevent_req *req;

	req = tevent_req_create(mem_ctx, &state, struct handle_breaks_state);
	if (req == NULL) {
		return NULL;
	}
	state->persistent_id = op->persistent_id;
	state->volatile_id = op->volatile_id;
	state->client = client;
	handle_breaks_step(req);
	if (!tevent_req_is_in_progress(req)) {
		return tevent_req_post(req, client->ev);
	}
	return req;
}

static void handle_breaks_step(struct tevent_req *req)
{
	struct handle_breaks_state *state =
		tevent_req_data(req, struct handle_breaks_state);
	struct smbd_open *op = smbd_open_lookup(
		state->client, state->persistent_id, state->volatile_id);
	struct smbd_open_oplock *o = op != NULL ? op->oplock : NULL;
	struct smbd_oplock_ctx *ctx = oplock_ctx(state->client);
	struct smbd_oplock_want own = { 0 };
	struct share_mode_lock *lck;
	struct holder_set set;
	struct server_id blocker = { 0 };
	struct tevent_req *subreq;
	bool delay = false;
	uint32_t k;

	if (o == NULL || ctx == NULL) {
		tevent_req_done(req);
		return;
	}
	lck = share_mode_lock_get(state, state->client, o->dev, o->ino);
	if (lck == NULL) {
		tevent_req_done(req);
		return;
	}
	if (o->lease != NULL) {
		own.have_lease = true;
		own.level = SMB2_OPLOCK_LEVEL_LEASE;
		memcpy(own.lease.key, o->lease->key, 16);
	}
	if (!holders_of(ctx, lck, lck, smbd_open_stream(op), &own, &set)) {
		TALLOC_FREE(lck);
		tevent_req_error(req, NT_STATUS_V(NT_STATUS_NO_MEMORY));
		return;
	}
	for (k = 0; k < set.n; k++) {
		struct oplock_holder *h = &set.h[k];

		if (h->oplock_level != SMB2_OPLOCK_LEVEL_LEASE ||
		    h->same_lease || h->stale ||
		    !(h->state & SMB2_LEASE_HANDLE)) {
			continue;
		}
		h->send_break = true;
		h->break_to = h->state & ~SMB2_LEASE_HANDLE;
		if (!delay) {
			blocker = lck->data->entries[set.idx[k]].owner;
		}
		delay = true;
	}
	if (!delay) {
		TALLOC_FREE(lck);
		tevent_req_done(req);
		return;
	}
	send_breaks(ctx, lck, &set);
	subreq = smbd_oplock_wait_send(state, state->client, lck, blocker);
	TALLOC_FREE(lck);
	if (subreq == NULL) {
		tevent_req_error(req, NT_STATUS_V(NT_STATUS_NO_MEMORY));
		return;
	}
	tevent_req_set_callback(subreq, handle_breaks_waited, req);
}

static void handle_breaks_waited(struct tevent_req *subreq)
{
	struct tevent_req *req =
		tevent_req_callback_data(subreq, struct tevent_req);
	NTSTATUS status = smbd_oplock_wait_recv(subreq);

	TALLOC_FREE(subreq);
	if (!NT_STATUS_IS_OK(status)) {
		tevent_req_error(req, NT_STATUS_V(status));
		return;
	}
	handle_breaks_step(req);
}

NTSTATUS smbd_oplock_rename_breaks_recv(struct tevent_req *req)
{
	return smbd_oplock_wait_recv(req);
}
