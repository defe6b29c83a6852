/*
 * Sync rounds of the replicated databases in clusterd (docs/cluster.md
 * "Snapshot on join", "Quorum loss and partitions"): which messages
 * delivered by CPG this node applies, holds back or drops, the
 * SYNC_STATE every member multicasts at a view change, the choice of the
 * source, and the snapshot (SYNC_DATA, SYNC_DONE) it sends and the others
 * take.  cluster_db.c owns the registry, the client socket and applying
 * an UPDATE; this file decides when its replicas are the cluster's.
 *
 * A clusterd whose replicas are not the cluster's (it just started, or
 * its view lost the majority: a partition) gets them as a snapshot taken
 * at one point of the stream (cluster_db_confchg and below) and serves
 * nobody until then.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusterd/cluster_db_persist.h"
#include "clusterd/cluster_db_private.h"
#include "clusterd/cluster_msg.h"
#include "clusterd/clusterd.h"
#include "dbwrap/dbwrap_cluster_proto.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "lib/util/marshall.h"

/* ------------------------------------------------------------------ */
/* Snapshot on join                                                   */
/* ------------------------------------------------------------------ */

/* An UPDATE delivered while our snapshot is on its way: applied after. */
struct queued_update {
	struct queued_update *prev, *next;
	uint32_t nodeid, pid;
	uint8_t *buf;
	size_t len;
};

/* A member of the current view and what its SYNC_STATE said. */
struct round_member {
	uint32_t nodeid, pid;
	bool have, synced;
	uint64_t applied;
	uint64_t persisted; /* the sum of its persistent database seqs */
};

/* One SYNC_DATA of the snapshot we take (m points into buf). */
struct snap_part {
	struct snap_part *prev, *next;
	uint8_t *buf;
	struct cldb_sync m;
};

/*
 * Our persistent position for a sync round (round_complete, newer()):
 * every commit raised exactly one database seq by one, so the sum counts
 * the transactions our persistent replicas hold.  A replica that cannot
 * be read counts 0 (logged): it must not win.
 */
static uint64_t persisted_sum(struct cluster_dbs *s)
{
	uint64_t sum = 0;

	for (struct cluster_db *d = s->dbs; d != NULL; d = d->next) {
		uint64_t seq = 0;
		NTSTATUS status;

		if (!d->persistent) {
			continue;
		}
		status = cluster_db_persist_dbseq(d->db, &seq);
		if (!NT_STATUS_IS_OK(status)) {
			DBG_ERR("persistent database %s: no seq: %s\n",
				d->name, nt_errstr(status));
			continue;
		}
		sum += seq;
	}
	return sum;
}

/* FNV-1a over the sorted member list: names the view in SYNC_STATE. */
static uint64_t view_digest(const struct cluster_state *st)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < st->view_len; i++) {
		uint32_t w[2] = {st->view[i].nodeid, st->view[i].pid};
		const uint8_t *b = (const uint8_t *)w;
		for (size_t j = 0; j < sizeof(w); j++) {
			h = (h ^ b[j]) * 1099511628211ULL;
		}
	}
	return h;
}

/*
 * Whether the view holds more than half of the configured nodes (cmap's
 * nodelist, the same file on every node).  Computed from the view alone,
 * so every member of a view decides alike at the same point of the
 * stream; votequorum's answer arrives on its own channel, at another
 * moment on each node.  It counts nodes whose clusterd is a member, so it
 * can be stricter than votequorum (a node whose corosync runs without
 * clusterd does not count), never looser.
 */
static bool view_has_majority(const struct cluster_state *st)
{
	size_t conf = 0, in = 0;

	for (size_t i = 0; i < st->num_nodes; i++) {
		if (!st->nodes[i].configured) {
			continue;
		}
		conf++;
		for (size_t j = 0; j < st->view_len; j++) {
			if (st->view[j].nodeid == st->nodes[i].id) {
				in++;
				break;
			}
		}
	}
	return conf > 0 && 2 * in > conf;
}

/* A new view: forget the previous round and what it brought. */
static void sync_reset(struct cluster_dbs *s)
{
	while (s->queue != NULL) {
		struct queued_update *q = s->queue;
		DLIST_REMOVE(s->queue, q);
		talloc_free(q);
	}
	while (s->parts != NULL) {
		struct snap_part *p = s->parts;
		DLIST_REMOVE(s->parts, p);
		talloc_free(p);
	}
	TALLOC_FREE(s->round);
	s->round_len = s->round_missing = 0;
	s->receiving = false;
	s->since_view = 0;
}

/*
 * Every view change opens a sync round (docs/cluster.md "Quorum loss and
 * partitions").  A node in sync stays so only if the new view holds a
 * majority: a minority may be the cut-off side of a partition, whose
 * stream the majority never sees.  Then every member multicasts
 * SYNC_STATE {in sync?, updates applied}; when all of them are delivered
 * (round_complete), every member knows the same facts at the same point
 * of the stream and chooses the same source for those not in sync.
 */
void cluster_db_confchg(struct clusterd *cd, const struct clmsg_member *members,
			size_t n_members, const struct clmsg_member *joined,
			size_t n_joined)
{
	struct cluster_dbs *s = cd->dbs;
	struct cldb_sync_state m = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	if (s == NULL) {
		return;
	}
	s->view = view_digest(cd->st);
	s->majority = view_has_majority(cd->st);
	if (s->synced && !s->majority) {
		DBG_WARNING("replicated databases: the view (%zu members) "
			   "holds no majority: not in sync; reads see the "
			   "replicas as they are until a snapshot replaces "
			   "them\n", cd->st->view_len);
		s->synced = false;
		cluster_db_fail_pending(s);
	}
	sync_reset(s);
	s->round = talloc_zero_array(s, struct round_member,
				     cd->st->view_len);
	if (s->round == NULL) {
		clusterd_fatal(cd, "no memory for a sync round");
		return;
	}
	for (size_t i = 0; i < cd->st->view_len; i++) {
		s->round[i].nodeid = cd->st->view[i].nodeid;
		s->round[i].pid = cd->st->view[i].pid;
	}
	s->round_len = s->round_missing = cd->st->view_len;

	m.nodeid = cd->st->my_id;
	m.view = s->view;
	m.synced = s->synced;
	m.applied = s->applied;
	m.persisted = persisted_sum(s);
	status = cldb_sync_state_push(s, &m, &buf, &len);
	if (NT_STATUS_IS_OK(status)) {
		status = clusterd_cpg_send(cd, buf, len);
	}
	if (!NT_STATUS_IS_OK(status)) {
		clusterd_fatal(cd, "cannot send the replicas' sync state");
	}
}

struct snap_state {
	struct cluster_dbs *s;
	struct cldb_sync m;
	size_t bytes;
	NTSTATUS status;
};

static NTSTATUS snap_flush(struct snap_state *st)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	status = cldb_sync_push(st->s, REC_CLUSTERD_DB_SYNC_DATA, &st->m, &buf,
				&len);
	if (NT_STATUS_IS_OK(status)) {
		status = clusterd_cpg_send(st->s->cd, buf, len);
	}
	TALLOC_FREE(st->m.recs);
	st->m.num_recs = 0;
	st->bytes = 0;
	return status;
}

static int snap_fn(struct db_record *rec, void *private_data)
{
	struct snap_state *st = private_data;
	struct db_data k = dbwrap_record_get_key(rec);
	struct db_data v = dbwrap_record_get_value(rec);
	struct cldb_sync_rec *r;

	if (st->bytes > 0 && st->bytes + k.dsize + v.dsize > CLDB_SYNC_CHUNK) {
		st->status = snap_flush(st);
		if (!NT_STATUS_IS_OK(st->status)) {
			return 1;
		}
	}
	/* tombstones too: they carry the seq a CAS compares against */
	r = talloc_realloc(st->s, st->m.recs, struct cldb_sync_rec,
			   st->m.num_recs + 1);
	if (r == NULL) {
		st->status = NT_STATUS_NO_MEMORY;
		return 1;
	}
	st->m.recs = r;
	r[st->m.num_recs].key.dptr = talloc_memdup(r, k.dptr, k.dsize);
	r[st->m.num_recs].stored.dptr = talloc_memdup(r, v.dptr, v.dsize);
	if (r[st->m.num_recs].key.dptr == NULL ||
	    r[st->m.num_recs].stored.dptr == NULL) {
		st->status = NT_STATUS_NO_MEMORY;
		return 1;
	}
	r[st->m.num_recs].key.dsize = k.dsize;
	r[st->m.num_recs].stored.dsize = v.dsize;
	st->m.num_recs++;
	st->bytes += k.dsize + v.dsize;
	return 0;
}

/*
 * Called where the round completes: our replicas hold exactly the
 * updates before that point of the stream, the members we send to queue
 * those after it.  Our messages go out in order behind it.  One snapshot
 * for every member not in sync (target node and pid 0, nonce = the view).
 */
static NTSTATUS send_snapshot(struct cluster_dbs *s)
{
	struct snap_state st = {.s = s, .m = {.nonce = s->view}};
	uint8_t *buf = NULL;
	size_t len = 0, n = 0;
	NTSTATUS status;

	for (struct cluster_db *d = s->dbs; d != NULL; d = d->next) {
		st.m.db = d->name;
		st.m.flags = d->persistent ? CLDB_SYNC_PERSISTENT : 0;
		st.status = NT_STATUS_OK;
		status = dbwrap_traverse_read(d->db, snap_fn, &st, NULL);
		if (NT_STATUS_IS_OK(status)) {
			status = st.status;
		}
		if (NT_STATUS_IS_OK(status)) {
			/* also when empty: the receivers then have the db */
			status = snap_flush(&st);
		}
		NT_STATUS_NOT_OK_RETURN(status);
		n++;
	}
	st.m.db = NULL;
	st.m.flags = 0;
	status = cldb_sync_push(s, REC_CLUSTERD_DB_SYNC_DONE, &st.m, &buf,
				&len);
	if (NT_STATUS_IS_OK(status)) {
		status = clusterd_cpg_send(s->cd, buf, len);
	}
	if (NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("replicated databases: snapshot of %zu sent "
			   "(applied %llu)\n", n,
			   (unsigned long long)s->applied);
	}
	return status;
}

/* Whether a DATA/DONE is part of the snapshot we are taking. */
static bool sync_for_us(struct cluster_dbs *s, const struct cldb_sync *m,
			uint32_t nodeid, uint32_t pid)
{
	return !s->synced && s->receiving && nodeid == s->from_node &&
	       pid == s->from_pid && m->nonce == s->view && m->nodeid == 0 &&
	       m->pid == 0;
}

struct replace_state {
	const struct cldb_sync_rec **recs; /* the snapshot's, sorted by key */
	size_t n;
	struct db_data *gone; /* our keys the snapshot lacks */
	size_t n_gone;
	bool nomem;
};

static int key_cmp(struct db_data a, struct db_data b)
{
	size_t n = a.dsize < b.dsize ? a.dsize : b.dsize;
	int c = n > 0 ? memcmp(a.dptr, b.dptr, n) : 0;

	if (c != 0) {
		return c;
	}
	return a.dsize < b.dsize ? -1 : a.dsize > b.dsize;
}

static int rec_ptr_cmp(const void *a, const void *b)
{
	const struct cldb_sync_rec *const *x = a, *const *y = b;
	return key_cmp((*x)->key, (*y)->key);
}

static const struct cldb_sync_rec *snap_find(const struct replace_state *rs,
					     struct db_data key)
{
	size_t lo = 0, hi = rs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(key, rs->recs[mid]->key);
		if (c == 0) {
			return rs->recs[mid];
		}
		if (c < 0) {
			hi = mid;
		} else {
			lo = mid + 1;
		}
	}
	return NULL;
}

static int gone_fn(struct db_record *rec, void *private_data)
{
	struct replace_state *rs = private_data;
	struct db_data k = dbwrap_record_get_key(rec);
	struct db_data *g;

	if (snap_find(rs, k) != NULL) {
		return 0;
	}
	g = talloc_realloc(rs->recs, rs->gone, struct db_data, rs->n_gone + 1);
	if (g == NULL) {
		rs->nomem = true;
		return 1;
	}
	rs->gone = g;
	g[rs->n_gone].dptr = talloc_memdup(g, k.dptr, k.dsize);
	g[rs->n_gone].dsize = k.dsize;
	if (k.dsize > 0 && g[rs->n_gone].dptr == NULL) {
		rs->nomem = true;
		return 1;
	}
	rs->n_gone++;
	return 0;
}

struct same_state {
	struct db_data want;
	bool same;
};

static void same_parser(struct db_data key, struct db_data data,
			void *private_data)
{
	struct same_state *ss = private_data;

	ss->same = data.dsize == ss->want.dsize &&
		   (data.dsize == 0 ||
		    memcmp(data.dptr, ss->want.dptr, data.dsize) == 0);
}

static bool part_of(const struct snap_part *p, const struct cluster_db *d)
{
	bool persistent = (p->m.flags & CLDB_SYNC_PERSISTENT) != 0;
	return persistent == d->persistent && strcmp(p->m.db, d->name) == 0;
}

/*
 * Make replica d equal to the snapshot's records of it, in one tdb
 * transaction: a local reader sees the old contents or the new ones,
 * never a mix (tdb's commit holds the all-record lock while it writes).
 * Only records that differ are written, so only their watchers wake
 * (after the commit).
 */
static NTSTATUS replace_db(struct cluster_dbs *s, struct cluster_db *d)
{
	TALLOC_CTX *frame = talloc_new(s);
	struct replace_state rs = {0};
	NTSTATUS status;
	size_t i;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (struct snap_part *p = s->parts; p != NULL; p = p->next) {
		if (part_of(p, d)) {
			rs.n += p->m.num_recs;
		}
	}
	rs.recs = talloc_array(frame, const struct cldb_sync_rec *,
			       rs.n + 1);
	if (rs.recs == NULL) {
		talloc_free(frame);
		return NT_STATUS_NO_MEMORY;
	}
	i = 0;
	for (struct snap_part *p = s->parts; p != NULL; p = p->next) {
		if (!part_of(p, d)) {
			continue;
		}
		for (uint32_t j = 0; j < p->m.num_recs; j++) {
			rs.recs[i++] = &p->m.recs[j];
		}
	}
	qsort(rs.recs, rs.n, sizeof(rs.recs[0]), rec_ptr_cmp);

	status = dbwrap_transaction_start_volatile(d->db);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(frame);
		return status;
	}
	for (i = 0; NT_STATUS_IS_OK(status) && i < rs.n; i++) {
		struct same_state ss = {.want = rs.recs[i]->stored};
		NTSTATUS st2 = dbwrap_parse_record(d->db, rs.recs[i]->key,
						   same_parser, &ss);
		if (NT_STATUS_IS_OK(st2) && ss.same) {
			continue;
		}
		status = dbwrap_store(d->db, rs.recs[i]->key,
				      rs.recs[i]->stored);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = dbwrap_traverse_read(d->db, gone_fn, &rs, NULL);
		if (rs.nomem) {
			status = NT_STATUS_NO_MEMORY;
		}
	}
	for (i = 0; NT_STATUS_IS_OK(status) && i < rs.n_gone; i++) {
		status = dbwrap_delete(d->db, rs.gone[i]);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = dbwrap_transaction_commit(d->db);
	} else {
		dbwrap_transaction_cancel(d->db);
	}
	talloc_free(frame);
	return status;
}

/* Our source's SYNC_DONE: take its snapshot, then the queued updates. */
static void apply_snapshot(struct cluster_dbs *s, uint32_t nodeid)
{
	struct cluster_db *d = NULL;
	NTSTATUS status = NT_STATUS_OK;
	size_t n = 0;

	/* Databases we lack come into being; ours the source lacks are
	 * emptied (its snapshot has at least one DATA per database). */
	for (struct snap_part *p = s->parts;
	     p != NULL && NT_STATUS_IS_OK(status); p = p->next) {
		status = cluster_db_get_kind(
			s, p->m.db, (p->m.flags & CLDB_SYNC_PERSISTENT) != 0,
			&d);
	}
	for (d = s->dbs; d != NULL && NT_STATUS_IS_OK(status); d = d->next) {
		status = replace_db(s, d);
		n++;
	}
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("cannot store a snapshot: %s\n", nt_errstr(status));
		clusterd_fatal(s->cd, "cannot store a snapshot");
		return;
	}
	while (s->parts != NULL) {
		struct snap_part *p = s->parts;
		DLIST_REMOVE(s->parts, p);
		talloc_free(p);
	}
	s->synced = true;
	s->receiving = false;
	s->applied = s->from_applied;
	while (s->queue != NULL) {
		struct queued_update *q = s->queue;
		DLIST_REMOVE(s->queue, q);
		s->applied++;
		cluster_db_deliver_update(s, q->nodeid, q->pid, q->buf, q->len);
		talloc_free(q);
	}
	DBG_WARNING("replicated databases: in sync (snapshot of %zu from node "
		   "%u, applied %llu)\n", n, nodeid,
		   (unsigned long long)s->applied);
}

/*
 * Which of two members not in sync holds the newer replicas.  First the
 * persistent transactions they hold: the only position that survives a
 * restart (a restarted clusterd has applied nothing yet, and its
 * volatile replicas are empty), and along the one history it never goes
 * back, so the member with more holds every commit the other has.  Only
 * between equal persistent positions the updates applied decide (they
 * count volatile changes too, which a member that stayed up but lost sync
 * may have many of while missing commits the majority made later).
 */
static bool newer(const struct round_member *a, const struct round_member *b)
{
	if (a->persisted != b->persisted) {
		return a->persisted > b->persisted;
	}
	return a->applied > b->applied;
}

/*
 * Every member's SYNC_STATE of this view is in: every member sees the
 * same ones here, at the same point of the stream, and decides alike.
 * The source is the lowest member in sync.  If no member is in sync and
 * the view holds a majority, the newest member is (newer(): the most
 * persistent transactions, then the most updates applied): every earlier
 * majority view shared a node with this one, and the member that stayed
 * in sync longest holds the newest contents any of them can offer (ties:
 * lowest node id).  A minority without a member in sync waits for the
 * next view.
 */
static void round_complete(struct cluster_dbs *s)
{
	struct clusterd *cd = s->cd;
	const struct round_member *src = NULL;
	size_t unsynced = 0;
	bool elected = false;

	for (size_t i = 0; i < s->round_len; i++) {
		const struct round_member *r = &s->round[i];
		if (!r->synced) {
			unsynced++;
		} else if (src == NULL) {
			src = r; /* sorted by node id */
		}
	}
	if (unsynced == 0) {
		return;
	}
	if (src == NULL) {
		if (!s->majority) {
			DBG_NOTICE("replicated databases: no member in sync, "
				   "no majority: waiting for another view\n");
			return;
		}
		for (size_t i = 0; i < s->round_len; i++) {
			if (src == NULL || newer(&s->round[i], src)) {
				src = &s->round[i];
			}
		}
		elected = true;
	}
	if (src->nodeid == cd->st->my_id && src->pid == (uint32_t)getpid()) {
		if (elected) {
			DBG_WARNING("replicated databases: no member in sync; "
				   "ours (applied %llu) are the newest in this "
				   "majority: in sync\n",
				   (unsigned long long)s->applied);
			s->synced = true;
			unsynced--;
		}
		if (unsynced > 0) {
			NTSTATUS status = send_snapshot(s);
			if (!NT_STATUS_IS_OK(status)) {
				/* they wait for the next view change */
				DBG_ERR("cannot send a snapshot: %s\n",
					nt_errstr(status));
			}
		}
		return;
	}
	if (s->synced) {
		return;
	}
	/* The source's position at the snapshot: its statement's, plus
	 * every update delivered since the view began if it applied them. */
	s->receiving = true;
	s->from_node = src->nodeid;
	s->from_pid = src->pid;
	s->from_applied = src->applied + (src->synced ? s->since_view : 0);
	DBG_NOTICE("replicated databases: taking a snapshot from node %u%s\n",
		   src->nodeid, elected ? " (no member was in sync)" : "");
}

static void deliver_state(struct cluster_dbs *s, uint32_t nodeid,
			  uint32_t pid, const uint8_t *buf, size_t len)
{
	struct cldb_sync_state m;
	NTSTATUS status = cldb_sync_state_pull(buf, len, &m);

	if (!NT_STATUS_IS_OK(status) || m.nodeid != nodeid) {
		DBG_ERR("bad sync state from node %u: %s\n", nodeid,
			nt_errstr(status));
		return;
	}
	if (m.view != s->view) {
		return; /* sent for another view */
	}
	for (size_t i = 0; i < s->round_len; i++) {
		struct round_member *r = &s->round[i];
		if (r->nodeid != nodeid || r->pid != pid || r->have) {
			continue;
		}
		r->have = true;
		r->synced = m.synced;
		r->applied = m.applied;
		r->persisted = m.persisted;
		if (--s->round_missing == 0) {
			round_complete(s);
		}
		return;
	}
}

static void deliver_sync(struct cluster_dbs *s, uint16_t type,
			 uint32_t nodeid, uint32_t pid, const uint8_t *buf,
			 size_t len)
{
	struct clusterd *cd = s->cd;
	struct snap_part *p;
	NTSTATUS status;

	if (type == REC_CLUSTERD_DB_SYNC_STATE) {
		deliver_state(s, nodeid, pid, buf, len);
		return;
	}
	if (type != REC_CLUSTERD_DB_SYNC_DATA &&
	    type != REC_CLUSTERD_DB_SYNC_DONE) {
		/* SYNC_REQ: a clusterd of an earlier version */
		DBG_ERR("unexpected database message type %u from node %u\n",
			type, nodeid);
		return;
	}
	if (!s->receiving) {
		return; /* not for us: cheap before parsing */
	}
	p = talloc_zero(s, struct snap_part);
	if (p == NULL || (p->buf = talloc_memdup(p, buf, len)) == NULL) {
		clusterd_fatal(cd, "no memory for a database sync message");
		return;
	}
	status = cldb_sync_pull(p, type, p->buf, len, &p->m);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("bad database sync message (type %u) from node %u: "
			"%s\n", type, nodeid, nt_errstr(status));
		talloc_free(p);
		return;
	}
	if (!sync_for_us(s, &p->m, nodeid, pid)) {
		talloc_free(p);
		return;
	}
	if (type == REC_CLUSTERD_DB_SYNC_DONE) {
		talloc_free(p);
		apply_snapshot(s, nodeid);
		return;
	}
	/* Kept until DONE: the replica is replaced at once, not record by
	 * record while local processes read it. */
	DLIST_ADD_END(s->parts, p);
}

/*
 * Every database message CPG delivers: an UPDATE or VACUUM is applied
 * while we are in sync, queued while our snapshot is on its way, dropped
 * otherwise; the SYNC_* messages go to the round.
 */
void cluster_db_deliver(struct clusterd *cd, uint32_t nodeid, uint32_t pid,
			const uint8_t *buf, size_t len)
{
	struct cluster_dbs *s = cd->dbs;
	uint16_t type = clmsg_type(buf, len);
	struct queued_update *q;

	if (s == NULL) {
		/* Not started: we would miss this update.  Cannot happen
		 * (we start before joining the group); refuse loudly. */
		clusterd_fatal(cd, "database message before the db registry");
		return;
	}
	if (type != REC_CLUSTERD_DB_UPDATE && type != REC_CLUSTERD_DB_VACUUM) {
		deliver_sync(s, type, nodeid, pid, buf, len);
		return;
	}
	/* A VACUUM changes replicas like an UPDATE: counted, and queued
	 * while a snapshot is on its way, so every replica sees it at the
	 * same point of the stream. */
	s->since_view++;
	if (s->synced) {
		s->applied++; /* every UPDATE, whatever its outcome */
		cluster_db_deliver_update(s, nodeid, pid, buf, len);
		return;
	}
	if (!s->receiving) {
		/* Before our source's snapshot point (it contains the
		 * update), or no source in this view (nobody applies it). */
		return;
	}
	q = talloc_zero(s, struct queued_update);
	if (q == NULL || (q->buf = talloc_memdup(q, buf, len)) == NULL) {
		clusterd_fatal(cd, "no memory to queue an update during sync");
		return;
	}
	q->nodeid = nodeid;
	q->pid = pid;
	q->len = len;
	DLIST_ADD_END(s->queue, q);
}
