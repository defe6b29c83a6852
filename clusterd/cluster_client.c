/*
 * The process side of cross-node messaging (cluster_client.h): the
 * messaging hooks that send a message for another node to the local
 * clusterd, and answer the liveness of another node's process from the
 * view file clusterd writes.
 *
 * Built into libmessaging (messaging/meson.build) so that everything
 * that links messaging (smbd, smbcontrol, smbstatus, tests) has it; it
 * uses nothing but messaging and lib/util.
 *
 * The view cache: server_id_is_alive() runs for every share-mode entry
 * and lock owner smbd looks at, so a check must cost no round trip.
 * clusterd replaces the file with rename() at each membership change, so
 * a stat() tells whether it changed (inode, size, mtime); it is re-read
 * only then, and a burst of checks within one millisecond shares one
 * stat().  A forwarded send always stats (it costs a send anyway).
 */
#include "clusterd/cluster_client.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/cluster_msgfwd_proto.h"
#include "lib/util/debug.h"
#include "messaging/messaging.h"

#define VIEW_RECHECK_NS 1000000 /* 1 ms */

struct cluster_client {
	struct messaging_context *msg;
	char *view_path;

	/* the view as last read; valid == false: unknown */
	bool valid;
	struct clview view;
	bool have_stat;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct timespec last_check; /* CLOCK_MONOTONIC */
	bool warned_node;
};

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

static bool read_view(const char *path, struct clview *v)
{
	uint8_t buf[CLUSTER_VIEW_MAX_FILE];
	size_t got = 0;
	struct stat sb;
	/* O_NONBLOCK: a FIFO in its place must not block every process
	 * that checks liveness (open and read would wait for a writer) */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd == -1) {
		return false;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd); /* clusterd writes a regular file, nothing else */
		return false;
	}
	while (got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);

		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (got == sizeof(buf)) {
		return false; /* larger than any valid view */
	}
	return NT_STATUS_IS_OK(clview_pull(buf, got, v));
}

/* Bring the cached view up to date; force: stat even within the window. */
static void view_refresh(struct cluster_client *c, bool force)
{
	struct timespec now;
	struct stat sb;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!force && c->have_stat &&
	    ts_ns(&now) - ts_ns(&c->last_check) < VIEW_RECHECK_NS) {
		return;
	}
	c->last_check = now;
	if (stat(c->view_path, &sb) != 0) {
		c->have_stat = false;
		c->valid = false;
		return;
	}
	if (c->have_stat && sb.st_dev == c->dev && sb.st_ino == c->ino &&
	    sb.st_size == c->size && sb.st_mtim.tv_sec == c->mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == c->mtime.tv_nsec) {
		return;
	}
	/* Changed (or first look): read it.  A file that is being replaced
	 * is never half-written (rename), so a parse error means a bad
	 * file: the view is unknown until the next change. */
	c->valid = read_view(c->view_path, &c->view);
	c->have_stat = true;
	c->dev = sb.st_dev;
	c->ino = sb.st_ino;
	c->size = sb.st_size;
	c->mtime = sb.st_mtim;
}

static bool cluster_client_alive(void *private_data, const struct server_id *id)
{
	struct cluster_client *c = private_data;

	view_refresh(c, false);
	if (!c->valid) {
		/* clusterd not running: we cannot know, so nothing of a
		 * remote process is declared dead on a guess */
		return true;
	}
	/*
	 * A node's processes live while the node is in the agreed view.
	 * Processes of a live node that died are that node's smbd parent's
	 * to clean up (it reaps them); here they stay "alive".
	 */
	return clview_has(&c->view, id->node);
}

static NTSTATUS cluster_client_forward(void *private_data,
				       struct server_id dst,
				       struct server_id src, uint32_t msg_type,
				       const uint8_t *data, size_t len)
{
	struct cluster_client *c = private_data;
	struct clmsgfwd m = {
		.src = src,
		.dst = dst,
		.msg_type = msg_type,
		.data = data,
		.len = len,
	};
	struct server_id self = messaging_server_id(c->msg);
	uint8_t *buf = NULL;
	size_t buflen = 0;
	NTSTATUS status;

	if (len > CLUSTER_MSG_MAX_PAYLOAD) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (dst.pid == 0 || dst.pid > (uint32_t)INT32_MAX) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	view_refresh(c, true);
	if (!c->valid || c->view.clusterd.pid == 0) {
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	if (c->view.my_node != self.node) {
		/* messaging_init() got another node number than clusterd
		 * has: a start-up error of the caller */
		if (!c->warned_node) {
			DBG_ERR("messaging node %u is not this node's cluster "
				"id %u: cannot reach other nodes\n",
				(unsigned)self.node,
				(unsigned)c->view.my_node);
			c->warned_node = true;
		}
		return NT_STATUS_INVALID_DEVICE_STATE;
	}
	if (!clview_has(&c->view, dst.node)) {
		/* not a member: its processes are dead (as for a local
		 * process that is gone) */
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	status = clmsgfwd_push(c, &m, &buf, &buflen);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = messaging_send(c->msg, c->view.clusterd,
				MSG_CLUSTERD_FORWARD, buf, buflen, NULL, 0);
	talloc_free(buf);
	if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND)) {
		/* our clusterd is gone, not the destination */
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	return status;
}

static char *view_path_for(TALLOC_CTX *mem_ctx, const char *clusterd_socket)
{
	const char *slash = strrchr(clusterd_socket, '/');

	if (slash == NULL) {
		return talloc_strdup(mem_ctx, CLUSTER_VIEW_FILE);
	}
	return talloc_asprintf(mem_ctx, "%.*s/%s",
			       (int)(slash - clusterd_socket), clusterd_socket,
			       CLUSTER_VIEW_FILE);
}

NTSTATUS cluster_messaging_attach(struct messaging_context *msg,
				  const char *clusterd_socket)
{
	struct cluster_client *c;

	if (msg == NULL || clusterd_socket == NULL ||
	    clusterd_socket[0] == '\0') {
		return NT_STATUS_INVALID_PARAMETER;
	}
	c = talloc_zero(msg, struct cluster_client);
	if (c == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	c->msg = msg;
	c->view_path = view_path_for(c, clusterd_socket);
	if (c->view_path == NULL) {
		talloc_free(c);
		return NT_STATUS_NO_MEMORY;
	}
	view_refresh(c, true);
	messaging_set_remote_forwarder(msg, cluster_client_forward, c);
	messaging_set_remote_alive_fn(msg, cluster_client_alive, c);
	return NT_STATUS_OK;
}

NTSTATUS cluster_client_node_id(const char *clusterd_socket, uint32_t *node)
{
	char *path;
	struct clview v;
	bool ok;

	if (clusterd_socket == NULL || clusterd_socket[0] == '\0') {
		return NT_STATUS_INVALID_PARAMETER;
	}
	path = view_path_for(NULL, clusterd_socket);
	if (path == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	ok = read_view(path, &v);
	talloc_free(path);
	if (!ok) {
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	*node = v.my_node;
	return NT_STATUS_OK;
}
