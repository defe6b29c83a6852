/*
 * clusterd's side of cross-node messaging (docs/cluster.md "Cross-node
 * messaging"):
 *
 *  - the view file: at every CPG configuration change this node is part
 *    of, <dir of the control socket>/clusterd.view is replaced (write to
 *    a temporary file, rename) with this node's id, clusterd's own
 *    messaging id and the member node ids.  Processes read it for remote
 *    liveness and to find clusterd (cluster_client.c).  Removed at start
 *    (a previous run's view is stale) and at exit.
 *  - MSG_CLUSTERD_FORWARD from a local process: a REC_CLUSTERD_MSG for a
 *    process of another node.  Checked (the claimed source is the
 *    datagram's sender and of this node, the target node is a member,
 *    the size), then multicast through CPG.
 *  - REC_CLUSTERD_MSG delivered by CPG: checked again (the claimed source
 *    node is the CPG sender's node, the sender is the member clusterd of
 *    that node); the clusterd of the target node hands it to the local
 *    process with messaging_send_as(), the source id preserved.
 *
 * Ordering: CPG delivers every message and every replicated-database
 * UPDATE in one total order, and cluster_db.c applies an UPDATE inside
 * its delivery.  A message multicast after an UPDATE was delivered here
 * is therefore handed to its target process after that UPDATE was
 * applied on the target node: a process that sends a message after its
 * store was acknowledged can rely on the receiver seeing that store.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/cluster_msgfwd_proto.h"
#include "clusterd/clusterd.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "messaging/messaging.h"

/* Forwarded messages waiting for corosync (CPG flow control).  Beyond
 * either bound a request is dropped (logged): a flood of messages must
 * not push clusterd to its fatal CPG queue limit, which would take the
 * whole node out of the cluster. */
#define FWD_MAX_BACKLOG_MSGS 1024
#define FWD_MAX_BACKLOG_BYTES (32u * 1024 * 1024)

/*
 * While this node's replicas are not in sync (waiting for a snapshot,
 * or out of sync after losing the majority), cluster_db_sync.c holds back the
 * UPDATEs it receives and applies them when it is in sync again.  A
 * message handed out meanwhile could overtake an UPDATE that was before
 * it in the stream, so messages for local processes wait too, in order,
 * and go out once the replicas are in sync.  Bounded like the backlog;
 * a message held longer than FWD_HOLD_MAX_S is dropped when released
 * (any waiting sender gave up long ago: database requests time out
 * after 10 s).
 */
#define FWD_MAX_HELD_MSGS 1024
#define FWD_MAX_HELD_BYTES (32u * 1024 * 1024)
#define FWD_HOLD_MAX_S 10

struct cluster_msgfwd;

struct held_msg {
	struct held_msg *prev, *next;
	struct cluster_msgfwd *f;
	struct server_id src, dst;
	uint32_t msg_type;
	uint8_t *data;
	size_t len;
	time_t since;
};

struct cluster_msgfwd {
	struct clusterd *cd;
	struct held_msg *held; /* oldest first */
	size_t num_held;
	size_t held_bytes;
	char *view_path;
	char *view_tmp;
	uint64_t view_seq;
	uint64_t forwarded;  /* multicast for local processes */
	uint64_t delivered;  /* handed to local processes */
	uint64_t dropped;    /* refused or undeliverable */
};

static int msgfwd_destructor(struct cluster_msgfwd *f)
{
	unlink(f->view_path);
	unlink(f->view_tmp);
	return 0;
}

static bool view_has_node(const struct cluster_state *st, uint32_t node)
{
	for (size_t i = 0; i < st->view_len; i++) {
		if (st->view[i].nodeid == node) {
			return true;
		}
	}
	return false;
}

/* Is (node, pid) a clusterd in the current view?  (A node has one
 * clusterd in the group; while a restarted one overlaps with its
 * predecessor's leave there may be two, and either counts.) */
static bool view_has_member(const struct cluster_state *st, uint32_t node,
			    uint32_t pid)
{
	for (size_t i = 0; i < st->view_len; i++) {
		if (st->view[i].nodeid == node && st->view[i].pid == pid) {
			return true;
		}
	}
	return false;
}

static void view_write(struct cluster_msgfwd *f)
{
	struct clusterd *cd = f->cd;
	struct cluster_state *st = cd->st;
	struct clview v = {
		.my_node = st->my_id,
		.seq = f->view_seq + 1,
	};
	uint8_t *buf = NULL;
	size_t len = 0, done = 0;
	NTSTATUS status;
	int fd;

	if (cd->msg != NULL) {
		v.clusterd = messaging_server_id(cd->msg);
	} else {
		v.clusterd.node = st->my_id; /* pid 0: no forwarding */
	}
	/* st->view is sorted by (nodeid, pid): ids come in order */
	for (size_t i = 0; i < st->view_len; i++) {
		uint32_t id = st->view[i].nodeid;

		if (v.num_members > 0 && v.members[v.num_members - 1] == id) {
			continue;
		}
		if (v.num_members >= CLUSTER_VIEW_MAX_MEMBERS) {
			break;
		}
		v.members[v.num_members++] = id;
	}
	status = clview_push(f, &v, &buf, &len);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("cannot encode the view: %s\n", nt_errstr(status));
		unlink(f->view_path); /* better unknown than wrong */
		return;
	}
	fd = open(f->view_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0644);
	while (fd != -1 && done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		done += (size_t)n;
	}
	if (fd == -1 || done != len || close(fd) != 0 ||
	    rename(f->view_tmp, f->view_path) != 0) {
		DBG_ERR("cannot write %s: %s\n", f->view_path,
			strerror(errno));
		if (fd != -1 && done != len) {
			close(fd);
		}
		unlink(f->view_path);
		talloc_free(buf);
		return;
	}
	talloc_free(buf);
	f->view_seq = v.seq;
	DBG_INFO("view %llu written: %u members\n",
		 (unsigned long long)v.seq, (unsigned)v.num_members);
}

void cluster_msgfwd_confchg(struct clusterd *cd)
{
	struct cluster_msgfwd *f = cd->msgfwd;

	if (f == NULL || cd->st == NULL) {
		return;
	}
	if (!cd->st->in_view) {
		unlink(f->view_path);
		return;
	}
	view_write(f);
}

/* MSG_CLUSTERD_FORWARD from a process of this node. */
static void msgfwd_request(struct messaging_context *msg, void *private_data,
			   uint32_t msg_type, struct server_id src,
			   const uint8_t *data, size_t len, int *fds,
			   size_t num_fds)
{
	struct cluster_msgfwd *f = private_data;
	struct clusterd *cd = f->cd;
	struct cluster_state *st = cd->st;
	struct clmsgfwd m;
	uint8_t *buf = NULL;
	size_t buflen = 0, backlog_bytes = 0, backlog;
	TALLOC_CTX *frame = NULL;
	NTSTATUS status;

	for (size_t i = 0; i < num_fds; i++) {
		close(fds[i]); /* never across nodes */
	}
	status = clmsgfwd_pull(data, len, &m);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_WARNING("malformed forward request from pid %u\n",
			    (unsigned)src.pid);
		f->dropped++;
		return;
	}
	/* The datagram's sender is the source it claims, of this node.
	 * (Nothing authenticates a local datagram beyond the socket
	 * directory's permissions; this keeps the claim consistent.) */
	if (!server_id_equal(&m.src, &src) || st == NULL ||
	    m.src.node != st->my_id || num_fds != 0) {
		DBG_WARNING("forward request from %u:%u claims source %u:%u: "
			    "dropped\n",
			    (unsigned)src.node, (unsigned)src.pid,
			    (unsigned)m.src.node, (unsigned)m.src.pid);
		f->dropped++;
		return;
	}
	if (!st->in_view || cd->shutting_down ||
	    !view_has_node(st, m.dst.node)) {
		/* The sender checked the view file; the view changed since
		 * (or we are leaving).  Its send already returned OK. */
		DBG_INFO("message %u for node %u (not a member): dropped\n",
			 (unsigned)m.msg_type, (unsigned)m.dst.node);
		f->dropped++;
		return;
	}
	backlog = clusterd_cpg_backlog(cd, &backlog_bytes);
	if (backlog >= FWD_MAX_BACKLOG_MSGS ||
	    backlog_bytes + len > FWD_MAX_BACKLOG_BYTES) {
		DBG_WARNING("CPG backlog %zu messages, %zu bytes: dropping a "
			    "message for node %u\n",
			    backlog, backlog_bytes, (unsigned)m.dst.node);
		f->dropped++;
		return;
	}
	/* on a temporary parent: clusterd_cpg_send() takes the buffer over
	 * when it queues it, and leaves it to us when it fails */
	frame = talloc_new(f);
	status = frame != NULL ? clmsgfwd_push(frame, &m, &buf, &buflen)
			       : NT_STATUS_NO_MEMORY;
	if (NT_STATUS_IS_OK(status)) {
		status = clusterd_cpg_send(cd, buf, buflen);
	}
	talloc_free(frame);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_WARNING("cannot forward a message to node %u: %s\n",
			    (unsigned)m.dst.node, nt_errstr(status));
		f->dropped++;
		return;
	}
	f->forwarded++;
}

static void msgfwd_hand_on(struct cluster_msgfwd *f,
			   const struct server_id *src,
			   const struct server_id *dst, uint32_t msg_type,
			   const uint8_t *data, size_t len)
{
	NTSTATUS status = messaging_send_as(f->cd->msg, *src, *dst, msg_type,
					    data, len);

	if (!NT_STATUS_IS_OK(status)) {
		/* The target process is gone: as a local send to a dead
		 * process, the message is lost; nobody waits for it. */
		DBG_INFO("message %u from %u:%u to pid %u: %s\n",
			 (unsigned)msg_type, (unsigned)src->node,
			 (unsigned)src->pid, (unsigned)dst->pid,
			 nt_errstr(status));
		f->dropped++;
		return;
	}
	f->delivered++;
}

static int held_msg_destructor(struct held_msg *h);

static void msgfwd_hold(struct cluster_msgfwd *f, const struct clmsgfwd *m)
{
	struct held_msg *h;

	while (f->held != NULL &&
	       (f->num_held >= FWD_MAX_HELD_MSGS ||
		f->held_bytes + m->len > FWD_MAX_HELD_BYTES)) {
		DBG_WARNING("%zu messages held while out of sync: dropping "
			    "the oldest\n", f->num_held);
		f->dropped++;
		talloc_free(f->held);
	}
	h = talloc_zero(f, struct held_msg);
	if (h == NULL ||
	    (m->len > 0 &&
	     (h->data = talloc_memdup(h, m->data, m->len)) == NULL)) {
		DBG_ERR("no memory to hold a message\n");
		talloc_free(h);
		f->dropped++;
		return;
	}
	h->f = f;
	h->src = m->src;
	h->dst = m->dst;
	h->msg_type = m->msg_type;
	h->len = m->len;
	h->since = time(NULL);
	DLIST_ADD_END(f->held, h);
	f->num_held++;
	f->held_bytes += h->len;
	talloc_set_destructor(h, held_msg_destructor);
}

static int held_msg_destructor(struct held_msg *h)
{
	struct cluster_msgfwd *f = h->f;

	DLIST_REMOVE(f->held, h);
	f->num_held--;
	f->held_bytes -= h->len;
	return 0;
}

void cluster_msgfwd_deliver(struct clusterd *cd, uint32_t nodeid,
			    uint32_t pid, const uint8_t *buf, size_t len)
{
	struct cluster_msgfwd *f = cd->msgfwd;
	struct cluster_state *st = cd->st;
	struct clmsgfwd m;
	NTSTATUS status;

	if (f == NULL || st == NULL) {
		return;
	}
	status = clmsgfwd_pull(buf, len, &m);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_WARNING("malformed message from node %u: dropped\n",
			    (unsigned)nodeid);
		f->dropped++;
		return;
	}
	if (m.src.node != nodeid || !view_has_member(st, nodeid, pid)) {
		DBG_WARNING("message from node %u (pid %u) claims source node "
			    "%u or its sender is not a member: dropped\n",
			    (unsigned)nodeid, (unsigned)pid,
			    (unsigned)m.src.node);
		f->dropped++;
		return;
	}
	if (m.dst.node != st->my_id) {
		return; /* multicast: for another node */
	}
	if (cd->msg == NULL) {
		f->dropped++;
		return;
	}
	if (f->held != NULL || !cluster_db_in_sync(cd)) {
		msgfwd_hold(f, &m);
		return;
	}
	msgfwd_hand_on(f, &m.src, &m.dst, m.msg_type, m.data, m.len);
}

void cluster_msgfwd_release(struct clusterd *cd)
{
	struct cluster_msgfwd *f = cd->msgfwd;
	time_t now = time(NULL);

	if (f == NULL || f->held == NULL || !cluster_db_in_sync(cd)) {
		return;
	}
	DBG_NOTICE("in sync: handing on %zu held messages\n", f->num_held);
	while (f->held != NULL) {
		struct held_msg *h = f->held;

		if (now - h->since > FWD_HOLD_MAX_S) {
			DBG_INFO("message %u for pid %u held %lld s: dropped\n",
				 (unsigned)h->msg_type, (unsigned)h->dst.pid,
				 (long long)(now - h->since));
			f->dropped++;
		} else {
			msgfwd_hand_on(f, &h->src, &h->dst, h->msg_type,
				       h->data, h->len);
		}
		talloc_free(h); /* destructor unlinks and counts */
	}
}

NTSTATUS cluster_msgfwd_start(struct clusterd *cd)
{
	struct cluster_msgfwd *f = talloc_zero(cd, struct cluster_msgfwd);
	const char *sock = cd->conf->socket_path;
	const char *slash = strrchr(sock, '/');
	int dirlen = slash != NULL ? (int)(slash - sock) : 1;
	const char *dir = slash != NULL ? sock : ".";
	NTSTATUS status;

	if (f == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	f->cd = cd;
	f->view_path = talloc_asprintf(f, "%.*s/%s", dirlen, dir,
				       CLUSTER_VIEW_FILE);
	f->view_tmp = talloc_asprintf(f, "%.*s/%s.tmp", dirlen, dir,
				      CLUSTER_VIEW_FILE);
	if (f->view_path == NULL || f->view_tmp == NULL) {
		talloc_free(f);
		return NT_STATUS_NO_MEMORY;
	}
	/* a view left by an earlier run is stale: unknown until our first
	 * configuration change */
	unlink(f->view_path);
	unlink(f->view_tmp);
	talloc_set_destructor(f, msgfwd_destructor);
	if (cd->msg != NULL) {
		status = messaging_register(cd->msg, f, MSG_CLUSTERD_FORWARD,
					    msgfwd_request);
		if (!NT_STATUS_IS_OK(status)) {
			talloc_free(f);
			return status;
		}
	}
	cd->msgfwd = f;
	return NT_STATUS_OK;
}
