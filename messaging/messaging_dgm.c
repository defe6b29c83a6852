/*
 * The datagram transport under messaging.c: one unix datagram socket per
 * process, <sockdir>/<pid>, plus <sockdir>/<pid>.unique holding the
 * process's random 64-bit unique (so that server_id_is_alive() can tell
 * a process from a later one that reuses its pid).
 *
 * Sending cuts a message into fragments (messaging_private.h) and sends
 * them with sendmsg() on the unconnected socket; fds ride on fragment 0
 * (SCM_RIGHTS).  A full receiver queue (EAGAIN/ENOBUFS) parks the rest of
 * the message, and every later message to the same pid, in a
 * per-destination queue that a tevent timer drains in order: messages to
 * one destination never overtake each other, and fragments of two
 * messages never interleave.
 *
 * Receiving validates every datagram (parse_frame_header(), addressing,
 * the fds that came with it) before it costs memory, and reassembles
 * multi-fragment messages keyed by (src node, pid, unique, message id).
 * Fragments of one message arrive in order (one sender, one datagram
 * queue), so anything else is dropped.  Reassembly memory is bounded and
 * a message whose sender stops half-way is dropped after a timeout.
 */
#include "messaging/messaging_private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"

/* Socket buffers: big enough for a few fragments in flight each way. */
#define MSG_DGM_SOCKBUF (512 * 1024)
/* Datagrams read per readable event, so one busy sender cannot starve
 * the rest of the event loop. */
#define MSG_DGM_READ_BATCH 64
/* Reassembly bounds: at most this many bytes and messages in progress
 * (oldest evicted first), each dropped after this long without a new
 * fragment. */
#define MSG_DGM_REASM_MAX_BYTES (4u * MESSAGING_MAX_PAYLOAD)
#define MSG_DGM_REASM_MAX_MSGS 64
#define MSG_DGM_REASM_TIMEOUT_SEC 10
/* Bytes parked in send queues before messaging_send() refuses. */
#define MSG_DGM_QUEUE_MAX_BYTES (256u * 1024 * 1024)
/* Retry delays of a blocked destination (ms): doubled while no fragment
 * gets through, back to the minimum after progress. */
#define MSG_DGM_RETRY_MIN_MS 1
#define MSG_DGM_RETRY_MAX_MS 100

/* Set on the stack by callers of the receive callback: the callee may
 * free the msg_dgm, whose destructor then marks every live guard. */
struct msg_dgm_guard {
	struct msg_dgm_guard *prev;
	bool gone;
};

struct msg_reasm {
	struct msg_reasm *prev, *next;
	struct msg_dgm *d; /* NULL once detached for delivery */
	struct msg_frame_hdr hdr;
	uint8_t *buf;
	uint32_t next_frag;
	int fds[MESSAGING_MAX_FDS];
	size_t num_fds;
	struct tevent_timer *te;
};

/* One message (or the rest of one) waiting for its destination. */
struct msg_out {
	struct msg_out *prev, *next;
	struct msg_dest_queue *q;
	struct msg_frame_hdr hdr;
	uint8_t *data;	   /* payload from byte data_ofs of the message on */
	size_t data_ofs;
	uint32_t next_frag;
	int fds[MESSAGING_MAX_FDS]; /* our duplicates, until fragment 0 */
	size_t num_fds;
};

struct msg_dest_queue {
	struct msg_dest_queue *prev, *next;
	struct msg_dgm *d;
	uint32_t pid;
	struct msg_out *msgs;
	struct tevent_timer *te;
	unsigned retry_ms;
};

struct msg_dgm {
	struct tevent_context *ev;
	char *sockdir;
	char *sock_path;
	char *unique_path;
	struct server_id self;
	pid_t owner_pid; /* only this process unlinks the socket */
	int fd;
	struct tevent_fd *fde;
	uint8_t *rbuf;
	unsigned recv_depth;
	msg_dgm_recv_fn recv_fn;
	void *recv_private;
	struct msg_dgm_guard *guards;
	uint64_t next_msg_id;

	struct msg_reasm *reasm; /* oldest first */
	size_t reasm_bytes;
	size_t reasm_count;

	struct msg_dest_queue *queues;
	size_t queued_bytes;
	size_t queued_msgs;

	uint64_t frames_rejected;
	uint64_t msgs_dropped;
};

static void msg_dgm_readable(struct tevent_context *ev, struct tevent_fd *fde,
			     uint16_t flags, void *private_data);
static void msg_dgm_retry(struct tevent_context *ev, struct tevent_timer *te,
			  struct timeval now, void *private_data);

/* ------------------------------------------------------------------ */
/* Frame header                                                       */
/* ------------------------------------------------------------------ */

uint32_t msg_frame_count(uint32_t total_len)
{
	if (total_len == 0) {
		return 1;
	}
	return (uint32_t)((total_len + (uint64_t)MSG_FRAME_DATA_MAX - 1) /
			  MSG_FRAME_DATA_MAX);
}

NTSTATUS parse_frame_header(const uint8_t *buf, size_t len,
			    struct msg_frame_hdr *hdr)
{
	const NTSTATUS bad = NT_STATUS_INVALID_NETWORK_RESPONSE;
	uint64_t expect_len;

	if (buf == NULL || len < MSG_FRAME_HDR_SIZE ||
	    len > MESSAGING_FRAGMENT_SIZE) {
		return bad;
	}
	if (PULL_LE32(buf, 0) != MSG_FRAME_MAGIC ||
	    PULL_LE16(buf, 4) != MSG_FRAME_VERSION ||
	    PULL_LE16(buf, 6) != MSG_FRAME_HDR_SIZE ||
	    PULL_LE16(buf, 78) != 0) {
		return bad;
	}
	hdr->msg_type = PULL_LE32(buf, 8);
	server_id_pull(buf + 12, &hdr->src);
	server_id_pull(buf + 32, &hdr->dst);
	hdr->msg_id = PULL_LE64(buf, 52);
	hdr->frag_num = PULL_LE32(buf, 60);
	hdr->frag_count = PULL_LE32(buf, 64);
	hdr->total_len = PULL_LE32(buf, 68);
	hdr->frag_len = PULL_LE32(buf, 72);
	hdr->num_fds = PULL_LE16(buf, 76);

	if (hdr->total_len > MESSAGING_MAX_PAYLOAD) {
		return bad;
	}
	if (hdr->frag_count != msg_frame_count(hdr->total_len) ||
	    hdr->frag_num >= hdr->frag_count) {
		return bad;
	}
	if (hdr->frag_num + 1 < hdr->frag_count) {
		expect_len = MSG_FRAME_DATA_MAX;
	} else {
		expect_len = hdr->total_len -
			     (uint64_t)hdr->frag_num * MSG_FRAME_DATA_MAX;
	}
	if (hdr->frag_len != expect_len ||
	    hdr->frag_len != len - MSG_FRAME_HDR_SIZE) {
		return bad;
	}
	if (hdr->num_fds > MESSAGING_MAX_FDS ||
	    (hdr->num_fds != 0 && hdr->frag_num != 0)) {
		return bad;
	}
	if (hdr->src.pid == 0 || hdr->dst.pid == 0) {
		return bad;
	}
	return NT_STATUS_OK;
}

void push_frame_header(uint8_t buf[MSG_FRAME_HDR_SIZE],
		       const struct msg_frame_hdr *hdr)
{
	PUSH_LE32(buf, 0, MSG_FRAME_MAGIC);
	PUSH_LE16(buf, 4, MSG_FRAME_VERSION);
	PUSH_LE16(buf, 6, MSG_FRAME_HDR_SIZE);
	PUSH_LE32(buf, 8, hdr->msg_type);
	server_id_push(buf + 12, &hdr->src);
	server_id_push(buf + 32, &hdr->dst);
	PUSH_LE64(buf, 52, hdr->msg_id);
	PUSH_LE32(buf, 60, hdr->frag_num);
	PUSH_LE32(buf, 64, hdr->frag_count);
	PUSH_LE32(buf, 68, hdr->total_len);
	PUSH_LE32(buf, 72, hdr->frag_len);
	PUSH_LE16(buf, 76, (uint16_t)hdr->num_fds);
	PUSH_LE16(buf, 78, 0);
}

/* ------------------------------------------------------------------ */
/* Paths and liveness                                                 */
/* ------------------------------------------------------------------ */

static bool msg_dgm_addr(const char *sockdir, uint32_t pid,
			 struct sockaddr_un *sun, socklen_t *len)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%u", sockdir,
		     (unsigned)pid);
	if (n < 0 || (size_t)n >= sizeof(sun->sun_path)) {
		return false;
	}
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return true;
}

static bool read_unique_file(const char *path, uint64_t *unique)
{
	char buf[32];
	char *end = NULL;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		return false;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return false;
	}
	buf[n] = '\0';
	errno = 0;
	*unique = strtoull(buf, &end, 16);
	return errno == 0 && end != buf;
}

/* Write "<hex unique>\n" under a temporary name and rename it into
 * place, so a reader never sees half a number. */
static bool write_unique_file(const char *sockdir, const char *path,
			      uint32_t pid, uint64_t unique)
{
	char tmp[PATH_MAX];
	char buf[32];
	int len, fd;
	bool ok;

	if (snprintf(tmp, sizeof(tmp), "%s/.%u.unique.tmp", sockdir,
		     (unsigned)pid) >= (int)sizeof(tmp)) {
		return false;
	}
	len = snprintf(buf, sizeof(buf), "%016llx\n",
		       (unsigned long long)unique);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd == -1) {
		return false;
	}
	ok = write(fd, buf, len) == len;
	if (close(fd) != 0) {
		ok = false;
	}
	if (ok && rename(tmp, path) != 0) {
		ok = false;
	}
	if (!ok) {
		unlink(tmp);
	}
	return ok;
}

/* Remove what a dead process left behind.  Only when no process has that
 * pid: a process that is starting may be about to bind there. */
void msg_dgm_remove_stale(const char *sockdir, uint32_t pid)
{
	char path[PATH_MAX];

	if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) {
		return;
	}
	snprintf(path, sizeof(path), "%s/%u.unique", sockdir, (unsigned)pid);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%u", sockdir, (unsigned)pid);
	if (unlink(path) == 0) {
		DBG_INFO("removed the stale messaging socket %s\n", path);
	}
}

bool msg_dgm_pid_alive(const char *sockdir, uint32_t pid, uint64_t unique)
{
	struct sockaddr_un sun;
	socklen_t sunlen;
	char path[PATH_MAX];
	uint64_t found;
	int fd, ret, err;

	if (pid == 0 || pid > (uint32_t)INT32_MAX) {
		return false;
	}
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH) {
		return false;
	}
	if (unique == 0) {
		return true;
	}
	/* A process with this pid exists: is it the one with this unique? */
	snprintf(path, sizeof(path), "%s/%u.unique", sockdir, (unsigned)pid);
	if (!read_unique_file(path, &found) || found != unique) {
		return false;
	}
	/* ... and still bound (not a stale file of a process killed before
	 * the pid was reused by one that does no messaging)?  connect() on
	 * a datagram socket sends nothing. */
	if (!msg_dgm_addr(sockdir, pid, &sun, &sunlen)) {
		return false;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return true; /* cannot tell: do not declare it dead */
	}
	ret = connect(fd, (struct sockaddr *)&sun, sunlen);
	err = errno;
	close(fd);
	return ret == 0 || (err != ECONNREFUSED && err != ENOENT);
}

/* ------------------------------------------------------------------ */
/* Setup and teardown                                                 */
/* ------------------------------------------------------------------ */

static int msg_dgm_destructor(struct msg_dgm *d)
{
	struct msg_dgm_guard *g;

	for (g = d->guards; g != NULL; g = g->prev) {
		g->gone = true;
	}
	/* children (reassemblies, queues) close their fds themselves; they
	 * must not touch d's counters any more */
	while (d->reasm != NULL) {
		struct msg_reasm *r = d->reasm;

		DLIST_REMOVE(d->reasm, r);
		r->d = NULL;
		talloc_free(r);
	}
	while (d->queues != NULL) {
		struct msg_dest_queue *q = d->queues;

		DLIST_REMOVE(d->queues, q);
		q->d = NULL;
		talloc_free(q);
	}
	TALLOC_FREE(d->fde);
	if (d->fd != -1) {
		close(d->fd);
		d->fd = -1;
	}
	/* A forked child that inherited the socket closes it only: the
	 * parent still receives on that name. */
	if (getpid() == d->owner_pid) {
		unlink(d->unique_path);
		unlink(d->sock_path);
	}
	return 0;
}

struct msg_dgm *msg_dgm_create(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
			       const char *sockdir, struct server_id self,
			       msg_dgm_recv_fn fn, void *private_data)
{
	struct msg_dgm *d;
	struct sockaddr_un sun;
	socklen_t sunlen;
	int bufsize = MSG_DGM_SOCKBUF;

	if (!msg_dgm_addr(sockdir, self.pid, &sun, &sunlen)) {
		DBG_ERR("messaging socket directory name too long: %s\n",
			sockdir);
		return NULL;
	}
	if (mkdir(sockdir, 0755) == -1 && errno != EEXIST) {
		DBG_ERR("cannot create %s: %s\n", sockdir, strerror(errno));
		return NULL;
	}
	d = talloc_zero(mem_ctx, struct msg_dgm);
	if (d == NULL) {
		return NULL;
	}
	d->fd = -1;
	d->ev = ev;
	d->self = self;
	d->owner_pid = getpid();
	d->recv_fn = fn;
	d->recv_private = private_data;
	d->next_msg_id = 1;
	d->sockdir = talloc_strdup(d, sockdir);
	d->sock_path = talloc_strdup(d, sun.sun_path);
	d->unique_path = talloc_asprintf(d, "%s.unique", sun.sun_path);
	d->rbuf = talloc_size(d, MESSAGING_FRAGMENT_SIZE);
	if (d->sockdir == NULL || d->sock_path == NULL ||
	    d->unique_path == NULL || d->rbuf == NULL) {
		talloc_free(d);
		return NULL;
	}

	d->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd == -1) {
		DBG_ERR("socket: %s\n", strerror(errno));
		talloc_free(d);
		return NULL;
	}
	/* The destructor unlinks from here on (also a leftover of a dead
	 * process that had our pid, removed just below). */
	talloc_set_destructor(d, msg_dgm_destructor);
	unlink(d->sock_path);
	if (bind(d->fd, (struct sockaddr *)&sun, sunlen) == -1) {
		DBG_ERR("bind %s: %s\n", d->sock_path, strerror(errno));
		talloc_free(d);
		return NULL;
	}
	/* Only processes of our own user may send (smbd sets umask 0). */
	if (chmod(d->sock_path, 0600) == -1) {
		DBG_ERR("chmod %s: %s\n", d->sock_path, strerror(errno));
		talloc_free(d);
		return NULL;
	}
	setsockopt(d->fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	if (!write_unique_file(sockdir, d->unique_path, self.pid,
			       self.unique)) {
		DBG_ERR("cannot write %s: %s\n", d->unique_path,
			strerror(errno));
		talloc_free(d);
		return NULL;
	}
	d->fde = tevent_add_fd(ev, d, d->fd, TEVENT_FD_READ, msg_dgm_readable,
			       d);
	if (d->fde == NULL) {
		talloc_free(d);
		return NULL;
	}
	return d;
}

void msg_dgm_get_stats(const struct msg_dgm *d, struct msg_dgm_stats *st)
{
	st->frames_rejected = d->frames_rejected;
	st->msgs_dropped = d->msgs_dropped;
	st->reasm_pending = d->reasm_count;
	st->queued_msgs = d->queued_msgs;
}

/* ------------------------------------------------------------------ */
/* Sending                                                            */
/* ------------------------------------------------------------------ */

static void close_fds(int *fds, size_t num_fds)
{
	size_t i;

	for (i = 0; i < num_fds; i++) {
		if (fds[i] != -1) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
}

/* Send fragment frag_num of the message hdr describes; payload points at
 * that fragment's bytes.  Returns 0 or an errno. */
static int msg_dgm_send_frag(struct msg_dgm *d, const struct sockaddr_un *sun,
			     socklen_t sunlen, struct msg_frame_hdr *hdr,
			     uint32_t frag_num, const uint8_t *payload,
			     const int *fds, size_t num_fds)
{
	uint8_t hbuf[MSG_FRAME_HDR_SIZE];
	struct iovec iov[2];
	struct msghdr mh = { 0 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * MESSAGING_MAX_FDS)];
	} cbuf;
	ssize_t n;

	hdr->frag_num = frag_num;
	if (frag_num + 1 < hdr->frag_count) {
		hdr->frag_len = MSG_FRAME_DATA_MAX;
	} else {
		hdr->frag_len = hdr->total_len - frag_num * MSG_FRAME_DATA_MAX;
	}
	hdr->num_fds = frag_num == 0 ? (uint32_t)num_fds : 0;
	push_frame_header(hbuf, hdr);

	iov[0].iov_base = hbuf;
	iov[0].iov_len = sizeof(hbuf);
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = hdr->frag_len;
	mh.msg_name = (void *)sun;
	mh.msg_namelen = sunlen;
	mh.msg_iov = iov;
	mh.msg_iovlen = hdr->frag_len > 0 ? 2 : 1;
	if (hdr->num_fds > 0) {
		struct cmsghdr *cm;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * num_fds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * num_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * num_fds);
	}
	do {
		n = sendmsg(d->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		return errno;
	}
	return 0;
}

static bool is_busy_errno(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS;
}

static bool is_gone_errno(int err)
{
	return err == ENOENT || err == ECONNREFUSED;
}

static int msg_out_destructor(struct msg_out *m)
{
	close_fds(m->fds, m->num_fds);
	if (m->q != NULL) {
		struct msg_dgm *d = m->q->d;

		DLIST_REMOVE(m->q->msgs, m);
		if (d != NULL) {
			d->queued_bytes -= talloc_get_size(m->data);
			d->queued_msgs--;
		}
	}
	return 0;
}

static int msg_dest_queue_destructor(struct msg_dest_queue *q)
{
	if (q->d != NULL) {
		DLIST_REMOVE(q->d->queues, q);
	}
	/* free the messages while q->d still names the counters */
	while (q->msgs != NULL) {
		talloc_free(q->msgs);
	}
	return 0;
}

static struct msg_dest_queue *msg_dgm_find_queue(struct msg_dgm *d,
						 uint32_t pid)
{
	struct msg_dest_queue *q;

	for (q = d->queues; q != NULL; q = q->next) {
		if (q->pid == pid) {
			return q;
		}
	}
	return NULL;
}

static bool msg_dgm_schedule(struct msg_dest_queue *q)
{
	TALLOC_FREE(q->te);
	q->te = tevent_add_timer(q->d->ev, q,
				 tevent_timeval_current_ofs(
					 0, q->retry_ms * 1000),
				 msg_dgm_retry, q);
	return q->te != NULL;
}

/*
 * Park a message from fragment first_frag on at the tail of the queue of
 * its destination (created if needed).  fds are duplicated when fragment
 * 0 is still to go: the caller keeps its own.
 */
static NTSTATUS msg_dgm_enqueue(struct msg_dgm *d,
				const struct msg_frame_hdr *hdr,
				uint32_t first_frag, const uint8_t *data,
				const int *fds, size_t num_fds)
{
	struct msg_dest_queue *q;
	struct msg_out *m;
	size_t ofs = (size_t)first_frag * MSG_FRAME_DATA_MAX;
	size_t rest = hdr->total_len - ofs;
	size_t i;

	if (d->queued_bytes + rest > MSG_DGM_QUEUE_MAX_BYTES) {
		DBG_WARNING("send queues full (%zu bytes): dropping a message "
			    "to pid %u\n",
			    d->queued_bytes, (unsigned)hdr->dst.pid);
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	}
	q = msg_dgm_find_queue(d, hdr->dst.pid);
	if (q == NULL) {
		q = talloc_zero(d, struct msg_dest_queue);
		if (q == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		q->d = d;
		q->pid = hdr->dst.pid;
		q->retry_ms = MSG_DGM_RETRY_MIN_MS;
		DLIST_ADD_END(d->queues, q);
		talloc_set_destructor(q, msg_dest_queue_destructor);
		if (!msg_dgm_schedule(q)) {
			talloc_free(q);
			return NT_STATUS_NO_MEMORY;
		}
	}
	m = talloc_zero(q, struct msg_out);
	if (m == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	m->hdr = *hdr;
	m->data_ofs = ofs;
	m->next_frag = first_frag;
	/* (an empty message still gets a buffer: NULL means no memory) */
	m->data = talloc_size(m, rest == 0 ? 1 : rest);
	if (m->data == NULL) {
		talloc_free(m);
		return NT_STATUS_NO_MEMORY;
	}
	if (rest > 0) {
		memcpy(m->data, data + ofs, rest);
	}
	for (i = 0; i < MESSAGING_MAX_FDS; i++) {
		m->fds[i] = -1;
	}
	if (first_frag == 0) {
		for (i = 0; i < num_fds; i++) {
			m->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
			if (m->fds[i] == -1) {
				NTSTATUS status = map_nt_error_from_unix(errno);

				m->num_fds = i;
				talloc_free(m);
				return status;
			}
		}
		m->num_fds = num_fds;
	}
	m->q = q;
	DLIST_ADD_END(q->msgs, m);
	d->queued_bytes += talloc_get_size(m->data);
	d->queued_msgs++;
	talloc_set_destructor(m, msg_out_destructor);
	return NT_STATUS_OK;
}

/* Drain the queue of one destination, in order, as far as it accepts. */
static void msg_dgm_retry(struct tevent_context *ev, struct tevent_timer *te,
			  struct timeval now, void *private_data)
{
	struct msg_dest_queue *q = private_data;
	struct msg_dgm *d = q->d;
	struct sockaddr_un sun;
	socklen_t sunlen;
	bool progress = false;

	q->te = NULL;
	if (!msg_dgm_addr(d->sockdir, q->pid, &sun, &sunlen)) {
		talloc_free(q);
		return;
	}
	while (q->msgs != NULL) {
		struct msg_out *m = q->msgs;
		int err = 0;

		while (m->next_frag < m->hdr.frag_count) {
			size_t ofs = (size_t)m->next_frag * MSG_FRAME_DATA_MAX;

			err = msg_dgm_send_frag(d, &sun, sunlen, &m->hdr,
						m->next_frag,
						m->data + (ofs - m->data_ofs),
						m->fds, m->num_fds);
			if (err != 0) {
				break;
			}
			if (m->next_frag == 0) {
				close_fds(m->fds, m->num_fds);
				m->num_fds = 0;
			}
			m->next_frag++;
			progress = true;
		}
		if (err == 0) {
			talloc_free(m);
			continue;
		}
		if (is_busy_errno(err)) {
			if (progress) {
				q->retry_ms = MSG_DGM_RETRY_MIN_MS;
			} else if (q->retry_ms < MSG_DGM_RETRY_MAX_MS) {
				q->retry_ms *= 2;
			}
			if (!msg_dgm_schedule(q)) {
				/* nothing would ever retry */
				DBG_ERR("cannot schedule the send queue of "
					"pid %u: dropping it\n",
					(unsigned)q->pid);
				talloc_free(q);
			}
			return;
		}
		if (is_gone_errno(err)) {
			/* The destination died with messages for it
			 * queued: nobody is left to read them. */
			DBG_INFO("pid %u is gone: dropping the messages "
				 "queued for it\n",
				 (unsigned)q->pid);
			if (err == ECONNREFUSED) {
				msg_dgm_remove_stale(d->sockdir, q->pid);
			}
			talloc_free(q);
			return;
		}
		DBG_WARNING("sending a queued message to pid %u: %s\n",
			    (unsigned)q->pid, strerror(err));
		talloc_free(m);
	}
	talloc_free(q);
}

NTSTATUS msg_dgm_send(struct msg_dgm *d, const struct server_id *src,
		      const struct server_id *dst, uint32_t msg_type,
		      const uint8_t *data, size_t len, const int *fds,
		      size_t num_fds)
{
	struct msg_frame_hdr hdr = {
		.msg_type = msg_type,
		.src = *src,
		.dst = *dst,
		.total_len = (uint32_t)len,
		.frag_count = msg_frame_count((uint32_t)len),
	};
	struct sockaddr_un sun;
	socklen_t sunlen;
	uint32_t f;

	if (len > MESSAGING_MAX_PAYLOAD || num_fds > MESSAGING_MAX_FDS ||
	    (len > 0 && data == NULL) || dst->pid == 0 ||
	    dst->pid > (uint32_t)INT32_MAX) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!msg_dgm_addr(d->sockdir, dst->pid, &sun, &sunlen)) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	hdr.msg_id = d->next_msg_id++;

	/* Messages already waiting for this destination go first. */
	if (msg_dgm_find_queue(d, dst->pid) != NULL) {
		return msg_dgm_enqueue(d, &hdr, 0, data, fds, num_fds);
	}
	for (f = 0; f < hdr.frag_count; f++) {
		size_t ofs = (size_t)f * MSG_FRAME_DATA_MAX;
		int err = msg_dgm_send_frag(d, &sun, sunlen, &hdr, f,
					    data == NULL ? NULL : data + ofs,
					    fds, num_fds);

		if (err == 0) {
			continue;
		}
		if (is_busy_errno(err)) {
			return msg_dgm_enqueue(d, &hdr, f, data, fds, num_fds);
		}
		if (is_gone_errno(err)) {
			if (err == ECONNREFUSED) {
				msg_dgm_remove_stale(d->sockdir, dst->pid);
			}
			return NT_STATUS_OBJECT_NAME_NOT_FOUND;
		}
		DBG_WARNING("sendmsg to %s: %s\n", sun.sun_path,
			    strerror(err));
		return map_nt_error_from_unix(err);
	}
	return NT_STATUS_OK;
}

/* ------------------------------------------------------------------ */
/* Receiving                                                          */
/* ------------------------------------------------------------------ */

static int msg_reasm_destructor(struct msg_reasm *r)
{
	close_fds(r->fds, r->num_fds);
	if (r->d != NULL) {
		DLIST_REMOVE(r->d->reasm, r);
		r->d->reasm_bytes -= r->hdr.total_len;
		r->d->reasm_count--;
	}
	return 0;
}

static void msg_reasm_timeout(struct tevent_context *ev,
			      struct tevent_timer *te, struct timeval now,
			      void *private_data)
{
	struct msg_reasm *r = private_data;

	DBG_NOTICE("dropping an incomplete message %llu from pid %u "
		   "(%u of %u fragments after %d s)\n",
		   (unsigned long long)r->hdr.msg_id, (unsigned)r->hdr.src.pid,
		   (unsigned)r->next_frag, (unsigned)r->hdr.frag_count,
		   MSG_DGM_REASM_TIMEOUT_SEC);
	r->te = NULL;
	r->d->msgs_dropped++;
	talloc_free(r);
}

static bool msg_reasm_arm(struct msg_reasm *r)
{
	TALLOC_FREE(r->te);
	r->te = tevent_add_timer(r->d->ev, r,
				 tevent_timeval_current_ofs(
					 MSG_DGM_REASM_TIMEOUT_SEC, 0),
				 msg_reasm_timeout, r);
	return r->te != NULL;
}

static bool same_message(const struct msg_frame_hdr *a,
			 const struct msg_frame_hdr *b)
{
	return a->msg_id == b->msg_id && a->src.node == b->src.node &&
	       a->src.pid == b->src.pid && a->src.unique == b->src.unique;
}

/*
 * Hand a whole message to messaging.c.  Returns false when the callee
 * freed d (the caller must not touch it any more).
 */
static bool msg_dgm_deliver(struct msg_dgm *d, const struct msg_frame_hdr *hdr,
			    const uint8_t *data, size_t len, int *fds,
			    size_t num_fds)
{
	struct msg_dgm_guard g = { .prev = d->guards };

	d->guards = &g;
	d->recv_depth++;
	d->recv_fn(d->recv_private, hdr, data, len, fds, num_fds);
	if (g.gone) {
		return false;
	}
	d->recv_depth--;
	d->guards = g.prev;
	return true;
}

/*
 * One validated fragment with the fds that came with it (owned here).
 * Returns false when d was freed by a handler.
 */
static bool msg_dgm_fragment(struct msg_dgm *d, const struct msg_frame_hdr *hdr,
			     const uint8_t *payload, int *fds, size_t num_fds)
{
	struct msg_reasm *r;

	if (hdr->frag_count == 1) {
		return msg_dgm_deliver(d, hdr, payload, hdr->frag_len, fds,
				       num_fds);
	}
	for (r = d->reasm; r != NULL; r = r->next) {
		if (same_message(&r->hdr, hdr)) {
			break;
		}
	}
	if (hdr->frag_num == 0) {
		size_t i;

		if (r != NULL) {
			/* a sender that restarted its ids: the old one is
			 * never going to complete */
			d->msgs_dropped++;
			talloc_free(r);
		}
		while (d->reasm != NULL &&
		       (d->reasm_count >= MSG_DGM_REASM_MAX_MSGS ||
			d->reasm_bytes + hdr->total_len >
				MSG_DGM_REASM_MAX_BYTES)) {
			DBG_NOTICE("reassembly full: dropping the oldest "
				   "message from pid %u\n",
				   (unsigned)d->reasm->hdr.src.pid);
			d->msgs_dropped++;
			talloc_free(d->reasm);
		}
		r = talloc_zero(d, struct msg_reasm);
		if (r == NULL) {
			goto drop;
		}
		r->hdr = *hdr;
		r->buf = talloc_size(r, hdr->total_len);
		if (r->buf == NULL) {
			talloc_free(r);
			goto drop;
		}
		r->d = d;
		DLIST_ADD_END(d->reasm, r);
		d->reasm_bytes += hdr->total_len;
		d->reasm_count++;
		talloc_set_destructor(r, msg_reasm_destructor);
		for (i = 0; i < num_fds; i++) {
			r->fds[i] = fds[i];
		}
		r->num_fds = num_fds;
		num_fds = 0;
		if (!msg_reasm_arm(r)) {
			talloc_free(r);
			return true;
		}
	} else {
		if (r == NULL) {
			/* its start was dropped or never came */
			goto drop;
		}
		if (hdr->frag_num != r->next_frag ||
		    hdr->msg_type != r->hdr.msg_type ||
		    hdr->total_len != r->hdr.total_len ||
		    !server_id_equal(&hdr->dst, &r->hdr.dst) ||
		    hdr->src.task != r->hdr.src.task) {
			DBG_NOTICE("inconsistent fragment %u of message %llu "
				   "from pid %u: dropping the message\n",
				   (unsigned)hdr->frag_num,
				   (unsigned long long)hdr->msg_id,
				   (unsigned)hdr->src.pid);
			d->frames_rejected++;
			d->msgs_dropped++;
			talloc_free(r);
			return true;
		}
		if (!msg_reasm_arm(r)) {
			d->msgs_dropped++;
			talloc_free(r);
			return true;
		}
	}
	memcpy(r->buf + (size_t)hdr->frag_num * MSG_FRAME_DATA_MAX, payload,
	       hdr->frag_len);
	r->next_frag++;
	if (r->next_frag == r->hdr.frag_count) {
		bool alive;

		/* Detach before delivery: the callee may free d and with
		 * it everything d owns. */
		DLIST_REMOVE(d->reasm, r);
		d->reasm_bytes -= r->hdr.total_len;
		d->reasm_count--;
		r->d = NULL;
		TALLOC_FREE(r->te);
		talloc_steal(NULL, r);
		num_fds = r->num_fds;
		r->num_fds = 0;
		alive = msg_dgm_deliver(d, &r->hdr, r->buf, r->hdr.total_len,
					r->fds, num_fds);
		talloc_free(r);
		return alive;
	}
	return true;
drop:
	d->msgs_dropped++;
	close_fds(fds, num_fds);
	return true;
}

/*
 * Read one datagram.  Returns false when there is nothing more to read
 * now or d was freed by a handler.
 */
static bool msg_dgm_read_one(struct msg_dgm *d, uint8_t *buf)
{
	struct msghdr mh = { 0 };
	struct iovec iov = { .iov_base = buf,
			     .iov_len = MESSAGING_FRAGMENT_SIZE };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * MESSAGING_MAX_FDS)];
	} cbuf;
	struct cmsghdr *cm;
	struct msg_frame_hdr hdr;
	int fds[MESSAGING_MAX_FDS];
	size_t num_fds = 0;
	bool ok = true;
	ssize_t n;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	do {
		n = recvmsg(d->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			DBG_WARNING("recvmsg on %s: %s\n", d->sock_path,
				    strerror(errno));
		}
		return false;
	}
	/* Collect every fd the kernel installed, whatever else is wrong,
	 * so that a rejected frame leaks none. */
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t i, cnt;

		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < cnt; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(int));
			if (num_fds < MESSAGING_MAX_FDS) {
				fds[num_fds++] = fd;
			} else {
				close(fd);
				ok = false;
			}
		}
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
		ok = false;
	}
	if (ok && !NT_STATUS_IS_OK(parse_frame_header(buf, (size_t)n, &hdr))) {
		ok = false;
	}
	if (ok && hdr.num_fds != num_fds) {
		ok = false;
	}
	/* Addressed to this process?  (unique 0: whoever has the pid) */
	if (ok && (hdr.dst.node != d->self.node ||
		   hdr.dst.pid != d->self.pid ||
		   (hdr.dst.unique != 0 && hdr.dst.unique != d->self.unique))) {
		DBG_INFO("dropping a message for %u:%u/%llx (we are "
			 "%u:%u/%llx)\n",
			 (unsigned)hdr.dst.node, (unsigned)hdr.dst.pid,
			 (unsigned long long)hdr.dst.unique,
			 (unsigned)d->self.node, (unsigned)d->self.pid,
			 (unsigned long long)d->self.unique);
		ok = false;
	}
	if (!ok) {
		d->frames_rejected++;
		close_fds(fds, num_fds);
		return true; /* read on: the next one may be fine */
	}
	return msg_dgm_fragment(d, &hdr, buf + MSG_FRAME_HDR_SIZE, fds,
				num_fds);
}

static void msg_dgm_readable(struct tevent_context *ev, struct tevent_fd *fde,
			     uint16_t flags, void *private_data)
{
	struct msg_dgm *d = private_data;
	TALLOC_CTX *tmp = NULL;
	uint8_t *buf = d->rbuf;
	int i;

	/* A handler that runs a nested event loop brings us back here
	 * while the outer message still points into rbuf. */
	if (d->recv_depth > 0) {
		tmp = talloc_size(NULL, MESSAGING_FRAGMENT_SIZE);
		if (tmp == NULL) {
			return;
		}
		buf = tmp;
	}
	for (i = 0; i < MSG_DGM_READ_BATCH; i++) {
		struct msg_dgm_guard g = { .prev = d->guards };
		bool more;

		d->guards = &g;
		more = msg_dgm_read_one(d, buf);
		if (g.gone) {
			break;
		}
		d->guards = g.prev;
		if (!more) {
			break;
		}
	}
	talloc_free(tmp);
}
