/*
 * Oplocks and leases between smbd processes, the process side: break
 * requests over messaging, the holder (notifications, timers),
 * acknowledgements, level II contention and the breaks before a rename.
 * The CREATE side is oplock_open.c; both work on the pure decisions of
 * oplock.c and lease_record.c (overview in oplock_break.h and
 * docs/oplocks-leases.md; lock order in oplock_private.h).
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

#define LEASES_DB_NAME "leases"
#define BREAK_MSG_VERSION 1

static void break_request_handler(struct messaging_context *msg,
				  void *private_data, uint32_t msg_type,
				  struct server_id src, const uint8_t *data,
				  size_t len, int *fds, size_t num_fds);
static NTSTATUS send_break(struct smbd_oplock_ctx *ctx,
			   const struct share_mode_lock *lck,
			   const struct share_mode_entry *e, uint32_t break_to);

struct smbd_oplock_ctx *smbd_oplock_ctx_get(struct smbd_client *client)
{
	struct smbd_oplock_ctx *ctx = client->oplocks;

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
	ctx->leases_db = smbd_db_open(ctx, client->msg, client->conf,
				      LEASES_DB_NAME);
	if (ctx->leases_db == NULL) {
		DBG_ERR("cannot open the lease database %s\n",
			LEASES_DB_NAME);
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

uint8_t oplock_entry_level(uint8_t oplock_type)
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

uint8_t oplock_level_to_entry(uint8_t level)
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
NTSTATUS oplock_lease_fetch(struct smbd_oplock_ctx *ctx, TALLOC_CTX *mem_ctx,
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

NTSTATUS oplock_lease_store(struct db_record *rec, const struct lease_record *r)
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
struct db_record *oplock_lease_lock(struct smbd_oplock_ctx *ctx,
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

bool oplock_holders_of(struct smbd_oplock_ctx *ctx, TALLOC_CTX *mem_ctx,
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
		h[k].oplock_level = oplock_entry_level(e->oplock_type);
		h[k].access_mask = e->access_mask;
		if (h[k].oplock_level != SMB2_OPLOCK_LEVEL_LEASE) {
			continue;
		}
		h[k].same_lease =
			want != NULL && want->have_lease &&
			memcmp(e->client_guid, ctx->client->client_guid, 16) ==
				0 &&
			memcmp(e->lease_key, want->lease.key, 16) == 0;
		if (NT_STATUS_IS_OK(oplock_lease_fetch(ctx, h, e->client_guid,
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
void oplock_send_breaks(struct smbd_oplock_ctx *ctx,
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
	NTSTATUS status = NT_STATUS_OK;
	unsigned attempt = 0;

again:
	lck = share_mode_lock_get(o, client, o->dev, o->ino);
	if (lck == NULL) {
		return;
	}
	e = share_mode_lock_find(lck, &self, op->persistent_id);
	if (e != NULL) {
		e->oplock_type = oplock_level_to_entry(level);
		lck->modified = true;
		status = share_mode_lock_store(lck);
	}
	TALLOC_FREE(lck);
	if (smbd_db_retry(status, &attempt, "setting an oplock level")) {
		goto again;
	}
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
	uint16_t epoch = 0;
	unsigned attempt = 0;
	NTSTATUS status;

	if (frame == NULL) {
		return;
	}
again:
	/* the share-mode lock orders this against opens of the file */
	lck = share_mode_lock_get(frame, client, l->dev, l->ino);
	rec = oplock_lease_lock(ctx, frame, client->client_guid, l->key, &r);
	status = NT_STATUS_OK;
	n = (struct lease_break_notice){ 0 };
	if (rec != NULL && r != NULL) {
		lease_record_break(r, break_to, &n);
		epoch = r->epoch; /* r goes with rec */
		status = oplock_lease_store(rec, r);
		if (!NT_STATUS_IS_OK(status)) {
			n.send = false;
		}
	}
	TALLOC_FREE(rec);
	TALLOC_FREE(lck);
	if (smbd_db_retry(status, &attempt, "breaking a lease")) {
		goto again;
	}
	if (n.send) {
		(void)smbd_send_lease_break(client, l->key, &n);
		if (n.ack_required) {
			lease_arm_timer(l, epoch);
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

struct smbd_lease *oplock_lease_find(struct smbd_oplock_ctx *ctx,
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
		/* the record's epoch: n.epoch is 0 for a v1 lease */
		lease_arm_timer(l, l->pending_epoch);
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
	uint16_t epoch = 0;
	unsigned attempt = 0;
	NTSTATUS status;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = oplock_lease_fetch(ctx, frame, client->client_guid, key, &r);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND) ||
	    (NT_STATUS_IS_OK(status) && r->num_files == 0)) {
		status = NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(frame);
		return status;
	}
	share_mode_key_pull(r->files[0].file_key, &dev, &ino);
again:
	lck = share_mode_lock_get(frame, client, dev, ino);
	rec = oplock_lease_lock(ctx, frame, client->client_guid, key, &r);
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
	epoch = r->epoch; /* r goes with rec */
	if (NT_STATUS_IS_OK(status)) {
		status = oplock_lease_store(rec, r);
	}
	TALLOC_FREE(rec);
	if (smbd_db_retry(status, &attempt, "acknowledging a lease break")) {
		/* the lease record changed on another node (this client
		 * is connected there too): acknowledge against the new one */
		TALLOC_FREE(lck);
		next = (struct lease_break_notice){ 0 };
		goto again;
	}
	if (NT_STATUS_IS_OK(status) && lck != NULL) {
		/* the state the waiting opens look at changed: wake them.
		 * The store may lose to another node's change of the
		 * record, which wakes them as well. */
		lck->modified = true;
	}
	TALLOC_FREE(lck);
	talloc_free(frame);
	if (!NT_STATUS_IS_OK(status)) {
		return smbd_db_retry_status(status);
	}
	l = oplock_lease_find(ctx, key, 0, 0, NULL, true);
	if (l != NULL) {
		TALLOC_FREE(l->timeout);
		if (l->refs == 0) {
			/* kept only for its timer; no open of ours to tell */
			oplock_lease_put(l);
			l = NULL;
		}
	}
	if (next.send && l != NULL) {
		/* after the acknowledgement's response has gone out */
		l->pending = next;
		l->pending_epoch = epoch;
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

void oplock_lease_put(struct smbd_lease *l)
{
	/* a lease whose last open here closed while its break was out
	 * stays until the break is settled: another process of the same
	 * client may still hold the lease, and the timer must fire */
	if (l->refs > 0 || l->timeout != NULL) {
		return;
	}
	DLIST_REMOVE(l->ctx->leases, l);
	talloc_free(l);
}

static void lease_timeout_fn(struct tevent_context *ev,
			     struct tevent_timer *te, struct timeval now,
			     void *private_data)
{
	struct smbd_lease *l = private_data;
	struct smbd_oplock_ctx *ctx = l->ctx;
	uint8_t key[16];

	l->timeout = NULL;
	memcpy(key, l->key, 16);
	DBG_NOTICE("lease break not acknowledged in time: dropping it\n");
	(void)lease_downgrade(ctx, key, SMB2_LEASE_NONE, true,
			      l->timeout_epoch);
	/* l may be gone now; one kept only for this timer goes now */
	l = oplock_lease_find(ctx, key, 0, 0, NULL, true);
	if (l != NULL) {
		oplock_lease_put(l);
	}
}

NTSTATUS smbd_lease_ack(struct smbd_client *client, const uint8_t key[16],
			uint32_t state)
{
	struct smbd_oplock_ctx *ctx = smbd_oplock_ctx_get(client);

	if (ctx == NULL) {
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	return lease_downgrade(ctx, key, state, false, 0);
}

bool oplock_entries_use_lease(const struct share_mode_data *d,
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

void oplock_lease_use_parser(struct db_data key, struct db_data data,
			     void *private_data)
{
	struct lease_use *u = private_data;
	struct share_mode_data *d = NULL;

	if (NT_STATUS_IS_OK(share_mode_record_pull(NULL, data.dptr, data.dsize,
						   &d))) {
		u->found = oplock_entries_use_lease(d, u->guid, u->key);
		talloc_free(d);
	}
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
	if (oplock_holders_of(ctx, lck, lck, smbd_open_stream(op), &want, &set) &&
	    oplock_contend_level2(set.h, set.n) > 0) {
		oplock_send_breaks(ctx, lck, &set);
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
	struct smbd_oplock_ctx *ctx = smbd_oplock_ctx_get(state->client);
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
	if (!oplock_holders_of(ctx, lck, lck, smbd_open_stream(op), &own, &set)) {
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
	oplock_send_breaks(ctx, lck, &set);
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
