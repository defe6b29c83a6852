/*
 * Fuzz clusterd's replicated databases as a state machine
 * (clusterd/cluster_db.c, cluster_db_sync.c, cluster_db_persist.c, and
 * cross-node messaging in clusterd/cluster_msgfwd.c): what another node
 * multicasts through CPG, in any order and with any content, applied to
 * this node's replicas.  The parsers alone are fuzz_cluster_db's; here
 * the messages go through cluster_db_deliver() and cluster_db_confchg():
 * sync rounds, snapshots kept and applied (replace_db), queued updates,
 * compare-and-swap updates and persistent COMMITs.
 *
 * This node is node 1 (pid getpid()), the peer node 2; 3 nodes are
 * configured, so {1, 2} holds a majority and {1} does not.  CPG is
 * simulated: what we send comes back to us in order (as CPG delivers a
 * member's own messages), after each step.  The input is a sequence of
 * steps, the first byte of each picks it:
 *   0  a raw CPG message from node 2 (u16 length, bytes)
 *   1  SYNC_STATE from node 2 for the current view (synced bit, applied)
 *   2  SYNC_DATA from node 2 for the current view (db, kind, records
 *      whose VALUE has a fuzzed seq, deleted flag and value)
 *   3  SYNC_DONE from node 2 for the current view
 *   4  UPDATE from node 2 (STORE, DELETE or COMMIT of a fuzzed TXN)
 *   5  a view change: {1, 2} with node 2's pid changed, or {1}
 *   6  a cross-node message from node 2 (REC_CLUSTERD_MSG, perhaps
 *      claiming another source node) for a process of ours, held while
 *      our replicas are out of sync (cluster_msgfwd.c, included too)
 *   7  a local process's forward request (MSG_CLUSTERD_FORWARD), with
 *      the datagram's sender and the claimed source from the input
 *   8  VACUUM from node 2 (perhaps claiming node 1): tombstones to
 *      remove, each a key and the seq it must still have
 * A clusterd_fatal() ends the input (the real daemon exits).  After the
 * input every record of every replica must be a valid VALUE (a reader
 * parses it with cldb_value_pull()): whatever the peer sent, this node
 * must not store what its own readers reject.
 */
#include <errno.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The source under test, included: the invariant walks its registry of
 * replicas (struct cluster_dbs), and the SYNC_* steps name the view with
 * its view_digest() (cluster_db_sync.c). */
#include "clusterd/cluster_db.c"
#include "clusterd/cluster_db_sync.c"
#include "clusterd/cluster_msgfwd.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- stubs of clusterd.c and cluster_cpg.c ----------------------------- */

struct sent_msg {
	struct sent_msg *next;
	uint8_t *buf;
	size_t len;
};

static struct sent_msg *sent_head, **sent_tail = &sent_head;
static bool fatal_called;

NTSTATUS clusterd_cpg_send(struct clusterd *cd, uint8_t *buf, size_t len)
{
	struct sent_msg *m = talloc_zero(NULL, struct sent_msg);

	if (m == NULL) {
		abort();
	}
	m->buf = talloc_move(m, &buf);
	m->len = len;
	*sent_tail = m;
	sent_tail = &m->next;
	return NT_STATUS_OK;
}

void clusterd_fatal(struct clusterd *cd, const char *why)
{
	if (getenv("FUZZ_VERBOSE") != NULL) {
		fprintf(stderr, "clusterd_fatal: %s\n", why);
	}
	fatal_called = true;
}

size_t clusterd_cpg_backlog(struct clusterd *cd, size_t *bytes)
{
	*bytes = 0;
	return 0;
}

/* ---- the simulated node ------------------------------------------------ */

#define PEER 2u

struct node {
	struct clusterd *cd;
	uint32_t peer_pid;
	bool peer_member;
};

/* As cluster_cpg.c's cpg_deliver() hands a CPG message on. */
static void deliver(struct clusterd *cd, uint32_t nodeid, uint32_t pid,
		    uint8_t *buf, size_t len)
{
	if (clmsg_type(buf, len) == REC_CLUSTERD_MSG) {
		cluster_msgfwd_deliver(cd, nodeid, pid, buf, len);
		return;
	}
	cluster_db_deliver(cd, nodeid, pid, buf, len);
	cluster_msgfwd_release(cd);
}

/* Our own messages come back to us, in the order sent. */
static void loopback(struct node *n)
{
	while (sent_head != NULL && !fatal_called) {
		struct sent_msg *m = sent_head;

		sent_head = m->next;
		if (sent_head == NULL) {
			sent_tail = &sent_head;
		}
		deliver(n->cd, 1, (uint32_t)getpid(), m->buf, m->len);
		talloc_free(m);
	}
}

static void drop_sent(void)
{
	while (sent_head != NULL) {
		struct sent_msg *m = sent_head;
		sent_head = m->next;
		talloc_free(m);
	}
	sent_tail = &sent_head;
}

static void view_change(struct node *n)
{
	struct clmsg_member m[2] = {{1, (uint32_t)getpid()},
				    {PEER, n->peer_pid}};
	size_t num = n->peer_member ? 2 : 1;

	if (!NT_STATUS_IS_OK(cluster_state_confchg(n->cd->st, m, num))) {
		abort();
	}
	cluster_msgfwd_confchg(n->cd);
	cluster_db_confchg(n->cd, m, num, NULL, 0);
	cluster_msgfwd_release(n->cd);
}

/* ---- reading the input ------------------------------------------------- */

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t in_u8(struct input *in)
{
	uint8_t v = 0;

	if (in->left > 0) {
		v = *in->p++;
		in->left--;
	}
	return v;
}

static uint64_t in_u64(struct input *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v |= (uint64_t)in_u8(in) << (8 * i);
	}
	return v;
}

/* Up to max bytes, the length from the input. */
static struct db_data in_blob(struct input *in, size_t max)
{
	size_t n = in_u8(in);

	if (n > max) {
		n = max;
	}
	if (n > in->left) {
		n = in->left;
	}
	struct db_data d = {.dptr = (uint8_t *)in->p, .dsize = n};
	in->p += n;
	in->left -= n;
	return d;
}

static const char *const db_names[] = {"locking", "passdb", "x"};

static const char *in_db(struct input *in)
{
	return db_names[in_u8(in) % 3];
}

/* A key of 1..255 bytes (keys are never empty). */
static struct db_data in_key(struct input *in)
{
	static uint8_t one = 'k';
	struct db_data k = in_blob(in, 255);

	if (k.dsize == 0) {
		k = (struct db_data){.dptr = &one, .dsize = 1};
	}
	return k;
}

/* ---- the steps --------------------------------------------------------- */

static void deliver_from_peer(struct node *n, uint8_t *buf, size_t len)
{
	deliver(n->cd, PEER, n->peer_pid, buf, len);
}

static void step_raw(struct node *n, struct input *in, TALLOC_CTX *mem)
{
	size_t len = in_u8(in) | ((size_t)in_u8(in) << 8);
	uint8_t *buf;

	if (len > in->left) {
		len = in->left;
	}
	buf = talloc_memdup(mem, in->p, len);
	in->p += len;
	in->left -= len;
	deliver_from_peer(n, buf, len);
}

static void step_state(struct node *n, struct input *in, TALLOC_CTX *mem)
{
	struct cldb_sync_state m = {
		.nodeid = PEER,
		.view = view_digest(n->cd->st),
	};
	uint8_t *buf = NULL;
	size_t len = 0;

	m.synced = in_u8(in) & 1;
	m.applied = in_u64(in);
	if (NT_STATUS_IS_OK(cldb_sync_state_push(mem, &m, &buf, &len))) {
		deliver_from_peer(n, buf, len);
	}
}

static void step_data(struct node *n, struct input *in, TALLOC_CTX *mem)
{
	struct cldb_sync m = {
		.nonce = view_digest(n->cd->st),
	};
	uint8_t *buf = NULL;
	size_t len = 0;

	m.db = (char *)in_db(in);
	m.flags = in_u8(in) & CLDB_SYNC_PERSISTENT;
	m.num_recs = in_u8(in) % 8;
	m.recs = talloc_zero_array(mem, struct cldb_sync_rec, m.num_recs + 1);
	for (uint32_t i = 0; i < m.num_recs; i++) {
		struct cldb_value v = {0};
		uint8_t flags = in_u8(in);

		/* the reserved key too: snapshots carry the database seq */
		m.recs[i].key = (flags & 2) ? db_data_make((const uint8_t *)
				CLDB_DBSEQ_KEY, CLDB_DBSEQ_KEY_LEN)
					    : in_key(in);
		v.seq = in_u64(in);
		v.deleted = flags & 1;
		if (!v.deleted) {
			v.value = in_blob(in, 255);
		}
		if (!NT_STATUS_IS_OK(cldb_value_push(mem, &v,
						      &m.recs[i].stored.dptr,
						      &m.recs[i].stored.dsize))) {
			abort();
		}
	}
	if (NT_STATUS_IS_OK(cldb_sync_push(mem, REC_CLUSTERD_DB_SYNC_DATA, &m,
					   &buf, &len))) {
		deliver_from_peer(n, buf, len);
	}
}

static void step_done(struct node *n, struct input *in, TALLOC_CTX *mem)
{
	struct cldb_sync m = {
		.nonce = view_digest(n->cd->st),
	};
	uint8_t *buf = NULL;
	size_t len = 0;

	if (NT_STATUS_IS_OK(cldb_sync_push(mem, REC_CLUSTERD_DB_SYNC_DONE, &m,
					   &buf, &len))) {
		deliver_from_peer(n, buf, len);
	}
}

static void step_update(struct node *n, struct input *in, TALLOC_CTX *mem)
{
	struct cldb_update u = {.nodeid = PEER};
	uint8_t *buf = NULL;
	size_t len = 0;
	uint8_t what = in_u8(in);

	u.reqid = in_u8(in);
	u.req.db = (char *)in_db(in);
	u.req.seq = in_u64(in);
	switch (what % 3) {
	case 0:
		u.req.op = CLDB_OP_STORE;
		u.req.key = in_key(in);
		u.req.value = in_blob(in, 255);
		break;
	case 1:
		u.req.op = CLDB_OP_DELETE;
		u.req.key = in_key(in);
		break;
	default: {
		struct cldb_txn t = {.num_recs = in_u8(in) % 8};

		u.req.op = CLDB_OP_COMMIT;
		t.recs = talloc_zero_array(mem, struct cldb_txn_rec,
					   t.num_recs + 1);
		for (uint32_t i = 0; i < t.num_recs; i++) {
			t.recs[i].op = (in_u8(in) & 1) ? CLDB_OP_DELETE
						       : CLDB_OP_STORE;
			t.recs[i].key = in_key(in);
			if (t.recs[i].op == CLDB_OP_STORE) {
				t.recs[i].value = in_blob(in, 255);
			}
		}
		if (!NT_STATUS_IS_OK(cldb_txn_push(mem, &t, &u.req.value.dptr,
						   &u.req.value.dsize))) {
			return;
		}
		break;
	}
	}
	if (NT_STATUS_IS_OK(cldb_update_push(mem, &u, &buf, &len))) {
		deliver_from_peer(n, buf, len);
	}
}

/* A pid of this node: ours (clusterd's own messaging id), a missing
 * process, or 0 / a negative pid (refused by the checks). */
static uint32_t in_pid(struct input *in)
{
	switch (in_u8(in) % 4) {
	case 0: return (uint32_t)getpid();
	case 1: return 0x7ffffff0u;
	case 2: return 0;
	default: return 0x80000000u;
	}
}

static void step_remote_msg(struct node *n, struct input *in,
			    TALLOC_CTX *mem)
{
	uint8_t b = in_u8(in);
	struct clmsgfwd m = {
		.src = {.node = (b & 1) ? 1 : PEER, .pid = 77},
		.dst = {.node = (b & 2) ? 3 : 1},
		.msg_type = in_u8(in),
	};
	struct db_data d = in_blob(in, 255);
	uint8_t *buf = NULL;
	size_t len = 0;

	m.dst.pid = in_pid(in);
	m.data = d.dptr;
	m.len = d.dsize;
	if (NT_STATUS_IS_OK(clmsgfwd_push(mem, &m, &buf, &len))) {
		deliver_from_peer(n, buf, len);
	}
}

static void step_local_forward(struct node *n, struct input *in,
			       TALLOC_CTX *mem)
{
	uint8_t b = in_u8(in);
	struct server_id me = messaging_server_id(n->cd->msg);
	struct server_id sender = me;
	struct clmsgfwd m = {
		.src = me,
		.dst = {.node = (b & 1) ? PEER : 3, .pid = 99},
		.msg_type = in_u8(in),
	};
	struct db_data d = in_blob(in, 255);
	uint8_t *buf = NULL;
	size_t len = 0;

	if (b & 2) {
		m.src.pid = 12345; /* claims another process */
	}
	if (b & 4) {
		sender.node = PEER; /* a sender of another node */
	}
	m.data = d.dptr;
	m.len = d.dsize;
	if (NT_STATUS_IS_OK(clmsgfwd_push(mem, &m, &buf, &len))) {
		msgfwd_request(n->cd->msg, n->cd->msgfwd, MSG_CLUSTERD_FORWARD,
			       sender, buf, len, NULL, 0);
	}
}

static void step_vacuum(struct node *n, struct input *in, TALLOC_CTX *mem)
{
	uint8_t b = in_u8(in);
	struct cldb_vacuum v = {
		.nodeid = (b & 1) ? 1 : PEER,
		.num_recs = (b >> 1) % 8,
	};
	uint8_t *buf = NULL;
	size_t len = 0;

	v.db = (char *)in_db(in);
	v.recs = talloc_zero_array(mem, struct cldb_vacuum_rec,
				   v.num_recs + 1);
	for (uint32_t i = 0; i < v.num_recs; i++) {
		v.recs[i].key = in_key(in);
		/* mostly small seqs: the ones tombstones really have */
		v.recs[i].seq = (in_u8(in) & 1) ? in_u64(in) : in_u8(in);
	}
	if (NT_STATUS_IS_OK(cldb_vacuum_push(mem, &v, &buf, &len))) {
		deliver_from_peer(n, buf, len);
	}
}

static void step_view(struct node *n, struct input *in)
{
	uint8_t b = in_u8(in);

	n->peer_member = (b & 1) == 0;
	if (b & 2) {
		n->peer_pid++; /* node 2's clusterd restarted */
	}
	view_change(n);
}

/* ---- the invariant ----------------------------------------------------- */

static int check_fn(struct db_record *rec, void *private_data)
{
	struct db_data v = dbwrap_record_get_value(rec);
	struct cldb_value cv;

	if (getenv("FUZZ_VERBOSE") != NULL) {
		fprintf(stderr, "record of %zu bytes\n", v.dsize);
	}
	if (!NT_STATUS_IS_OK(cldb_value_pull(v.dptr, v.dsize, &cv))) {
		fprintf(stderr, "a replica holds a record its readers "
				"reject\n");
		abort();
	}
	return 0;
}

static void check_replicas(struct cluster_dbs *s)
{
	for (struct cluster_db *d = s->dbs; d != NULL; d = d->next) {
		dbwrap_traverse_read(d->db, check_fn, NULL, NULL);
	}
}

static int rm_fn(const char *path, const struct stat *sb, int flag,
		 struct FTW *ftw)
{
	remove(path);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct input in = {.p = data, .left = size};
	struct node n = {.peer_pid = 20, .peer_member = true};
	const char *tmp = getenv("TMPDIR");
	char dir[4096];

	debug_set_level(getenv("FUZZ_VERBOSE") != NULL ? 10 : -1);
	snprintf(dir, sizeof(dir), "%s/fuzz_cldb.XXXXXX",
		 tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		abort();
	}
	fatal_called = false;
	n.cd = talloc_zero(mem, struct clusterd);
	n.cd->ev = tevent_context_init(n.cd);
	n.cd->conf = talloc_zero(n.cd, struct cluster_conf);
	n.cd->conf->state_dir = talloc_asprintf(n.cd, "%s/state", dir);
	n.cd->conf->run_dir = talloc_strdup(n.cd, dir);
	/* the view file goes next to the control socket */
	n.cd->conf->socket_path = talloc_asprintf(n.cd, "%s/clusterd.sock",
						  dir);
	n.cd->msg = messaging_init(n.cd, n.cd->ev, dir, 1);
	n.cd->st = cluster_state_new(n.cd, 1,
				     talloc_zero(n.cd, struct public_ip_list));
	if (n.cd->ev == NULL || n.cd->st == NULL ||
	    mkdir(n.cd->conf->state_dir, 0700) != 0) {
		abort();
	}
	for (uint32_t id = 1; id <= 3; id++) {
		if (!NT_STATUS_IS_OK(cluster_state_set_configured(
			    n.cd->st, id, "10.0.0.1"))) {
			abort();
		}
	}
	cluster_state_set_quorate(n.cd->st, true);
	if (n.cd->msg == NULL || !NT_STATUS_IS_OK(cluster_db_start(n.cd)) ||
	    !NT_STATUS_IS_OK(cluster_msgfwd_start(n.cd))) {
		abort();
	}
	view_change(&n);
	loopback(&n);

	while (in.left > 0 && !fatal_called) {
		TALLOC_CTX *step = talloc_new(mem);

		switch (in_u8(&in) % 9) {
		case 0: step_raw(&n, &in, step); break;
		case 1: step_state(&n, &in, step); break;
		case 2: step_data(&n, &in, step); break;
		case 3: step_done(&n, &in, step); break;
		case 4: step_update(&n, &in, step); break;
		case 5: step_view(&n, &in); break;
		case 6: step_remote_msg(&n, &in, step); break;
		case 7: step_local_forward(&n, &in, step); break;
		default: step_vacuum(&n, &in, step); break;
		}
		loopback(&n);
		talloc_free(step);
	}
	drop_sent();
	check_replicas(n.cd->dbs);
	TALLOC_FREE(n.cd->dbs);
	talloc_free(mem);
	nftw(dir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
