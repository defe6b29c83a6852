/*
 * clusterd's control socket: a unix stream socket (mode 0600: the CLI
 * runs as root) answering one request per connection with one response
 * (ctrl_proto.h).  Connections are non-blocking on tevent and closed
 * after 10 s without completing a request, so a stuck client costs
 * nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clusterd/clusterd.h"
#include "clusterd/ctrl_proto.h"
#include "clusterd/frame_io.h"
#include "clusterd/ip_alloc.h"
#include "lib/util/debug.h"

#define CTRL_CLIENT_TIMEOUT 10
#define CTRL_MAX_CLIENTS 64

struct ctrl_server {
	struct clusterd *cd;
	int fd;
	char *path;
	struct tevent_fd *fde;
	unsigned num_clients;
};

struct ctrl_conn {
	struct ctrl_server *srv;
	int fd;
	struct tevent_fd *fde;
	struct tevent_timer *timer;
	struct frame_io io;
};

static int ctrl_conn_destructor(struct ctrl_conn *c)
{
	TALLOC_FREE(c->fde);
	if (c->fd != -1) {
		close(c->fd);
	}
	c->srv->num_clients--;
	return 0;
}

static int ctrl_server_destructor(struct ctrl_server *s)
{
	TALLOC_FREE(s->fde);
	if (s->fd != -1) {
		close(s->fd);
		unlink(s->path);
	}
	return 0;
}

/* The status answer, built from the agreed state and what we hold. */
static NTSTATUS build_status(struct clusterd *cd, TALLOC_CTX *mem_ctx,
			     uint8_t **buf, size_t *len)
{
	struct cluster_state *st = cd->st;
	struct ctrl_status s = {
		.my_id = st->my_id,
		.quorate = st->quorate,
		.committed = st->committed,
		.generation = st->generation,
		.leader = cluster_state_leader(st),
		.num_nodes = st->num_nodes,
		.num_ips = cd->ips->num,
	};
	TALLOC_CTX *frame = talloc_new(mem_ctx);
	NTSTATUS status;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	s.nodes = talloc_zero_array(frame, struct ctrl_status_node,
				    st->num_nodes + 1);
	s.ips = talloc_zero_array(frame, struct ctrl_status_ip,
				  cd->ips->num + 1);
	if (s.nodes == NULL || s.ips == NULL) {
		TALLOC_FREE(frame);
		return NT_STATUS_NO_MEMORY;
	}
	for (size_t i = 0; i < st->num_nodes; i++) {
		s.nodes[i].id = st->nodes[i].id;
		s.nodes[i].addr = st->nodes[i].addr != NULL ? st->nodes[i].addr
							    : "";
		s.nodes[i].state = cluster_state_node_state(st, &st->nodes[i]);
	}
	for (size_t i = 0; i < cd->ips->num; i++) {
		const struct public_ip *ip = &cd->ips->ips[i];
		s.ips[i].addr = ip->addr;
		s.ips[i].prefix = ip->prefix;
		s.ips[i].iface = ip->iface;
		/* Before the first agreed round there is no assignment. */
		s.ips[i].owner = st->committed ? st->owner[i] : IP_ALLOC_NONE;
		s.ips[i].held = ip_takeover_held(cd, i);
	}
	s.dbs_in_sync = cluster_db_in_sync(cd);
	s.num_dbs = cluster_db_count(cd);
	s.dbs = talloc_zero_array(frame, struct ctrl_status_db,
				  s.num_dbs + 1);
	if (s.dbs == NULL) {
		TALLOC_FREE(frame);
		return NT_STATUS_NO_MEMORY;
	}
	for (size_t i = 0; i < s.num_dbs; i++) {
		const char *name = NULL;
		if (!cluster_db_info(cd, i, &name, &s.dbs[i].records)) {
			s.num_dbs = i;
			break;
		}
		s.dbs[i].name = (char *)name;
	}
	status = ctrl_status_push(mem_ctx, &s, buf, len);
	TALLOC_FREE(frame);
	return status;
}

static void ctrl_conn_handler(struct tevent_context *ev, struct tevent_fd *fde,
			      uint16_t flags, void *private_data);

static void ctrl_conn_timeout(struct tevent_context *ev, struct tevent_timer *te,
			      struct timeval now, void *private_data)
{
	struct ctrl_conn *c = private_data;

	c->timer = NULL;
	DBG_INFO("control client timed out\n");
	TALLOC_FREE(c);
}

static void ctrl_conn_answer(struct ctrl_conn *c)
{
	struct clusterd *cd = c->srv->cd;
	uint32_t op = 0;
	NTSTATUS status;

	status = ctrl_request_pull(c->io.body, c->io.body_len, &op);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_WARNING("bad control request: %s\n", nt_errstr(status));
		status = ctrl_result_push(c, NT_STATUS_INVALID_PARAMETER,
					  &c->io.out, &c->io.out_len);
	} else if (op == CTRL_OP_STATUS) {
		status = build_status(cd, c, &c->io.out, &c->io.out_len);
	} else {
		bool stop = (op == CTRL_OP_STOP);
		if (cd->want_stopped != stop) {
			DBG_NOTICE("clusterctl: %s\n",
				   stop ? "stop" : "continue");
			cd->want_stopped = stop;
			clusterd_announce(cd);
		}
		status = ctrl_result_push(c, NT_STATUS_OK, &c->io.out,
					  &c->io.out_len);
	}
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("cannot build control response: %s\n",
			nt_errstr(status));
		TALLOC_FREE(c);
		return;
	}
	tevent_fd_set_flags(c->fde, TEVENT_FD_WRITE);
}

static void ctrl_conn_handler(struct tevent_context *ev, struct tevent_fd *fde,
			      uint16_t flags, void *private_data)
{
	struct ctrl_conn *c = private_data;

	if (c->io.out != NULL) {
		if ((flags & TEVENT_FD_WRITE) != 0 &&
		    frame_io_send(&c->io, c->fd) != FRAME_IO_MORE) {
			TALLOC_FREE(c); /* one request per connection */
		}
		return;
	}
	if ((flags & TEVENT_FD_READ) == 0) {
		return;
	}
	switch (frame_io_recv(&c->io, c, c->fd, CTRL_MAX_REQUEST)) {
	case FRAME_IO_MORE:
		return;
	case FRAME_IO_DONE:
		ctrl_conn_answer(c);
		return;
	case FRAME_IO_BAD:
		DBG_WARNING("control request with a bad length\n");
		TALLOC_FREE(c);
		return;
	default: /* closed early, error, no memory */
		TALLOC_FREE(c);
		return;
	}
}

static void ctrl_accept(struct tevent_context *ev, struct tevent_fd *fde,
			uint16_t flags, void *private_data)
{
	struct ctrl_server *s = private_data;
	struct ctrl_conn *c = NULL;
	int fd;

	fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		return;
	}
	if (s->num_clients >= CTRL_MAX_CLIENTS) {
		close(fd);
		return;
	}
	c = talloc_zero(s, struct ctrl_conn);
	if (c == NULL) {
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	s->num_clients++;
	talloc_set_destructor(c, ctrl_conn_destructor);
	c->fde = tevent_add_fd(ev, c, fd, TEVENT_FD_READ, ctrl_conn_handler, c);
	c->timer = tevent_add_timer(ev, c,
				    tevent_timeval_current_ofs(
					    CTRL_CLIENT_TIMEOUT, 0),
				    ctrl_conn_timeout, c);
	if (c->fde == NULL || c->timer == NULL) {
		TALLOC_FREE(c);
	}
}

NTSTATUS ctrl_server_start(struct clusterd *cd)
{
	struct ctrl_server *s = NULL;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = cd->conf->socket_path;
	int probe;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		DBG_ERR("control socket path too long: %s\n", path);
		return NT_STATUS_NAME_TOO_LONG;
	}
	memcpy(sun.sun_path, path, strlen(path));

	/* Another clusterd answering there? Then we must not start. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe != -1) {
		int r = connect(probe, (struct sockaddr *)&sun, sizeof(sun));
		close(probe);
		if (r == 0) {
			DBG_ERR("another clusterd is running (%s answers)\n",
				path);
			return NT_STATUS_OBJECT_NAME_COLLISION;
		}
	}
	unlink(path);

	s = talloc_zero(cd, struct ctrl_server);
	if (s == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	s->cd = cd;
	s->path = talloc_strdup(s, path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->path == NULL || s->fd == -1) {
		TALLOC_FREE(s);
		return NT_STATUS_NO_MEMORY;
	}
	talloc_set_destructor(s, ctrl_server_destructor);
	{
		mode_t old = umask(0077);
		int r = bind(s->fd, (struct sockaddr *)&sun, sizeof(sun));
		umask(old);
		if (r != 0 || listen(s->fd, 16) != 0) {
			NTSTATUS status = map_nt_error_from_unix(errno);
			DBG_ERR("control socket %s: %s\n", path,
				strerror(errno));
			close(s->fd);
			s->fd = -1;
			TALLOC_FREE(s);
			return status;
		}
	}
	s->fde = tevent_add_fd(cd->ev, s, s->fd, TEVENT_FD_READ, ctrl_accept, s);
	if (s->fde == NULL) {
		TALLOC_FREE(s);
		return NT_STATUS_NO_MEMORY;
	}
	cd->ctrl = s;
	return NT_STATUS_OK;
}
