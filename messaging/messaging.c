/*
 * The messaging context: who this process is (server_id), the handlers
 * registered per message type, dispatch of what messaging_dgm.c
 * receives, messaging_read_send/recv, re-initialisation after fork, and
 * the hooks through which clusterd carries messages to other nodes.
 *
 * Dispatch must survive whatever a handler does: deregister itself or
 * others, register new handlers, complete a tevent_req whose callback
 * frees the context's owner, or re-initialise the context.  So handlers
 * removed during dispatch are only marked (fn = NULL) and unlinked once
 * the outermost dispatch returns, handlers registered during dispatch do
 * not see the message being dispatched, and a guard on the stack tells
 * the dispatcher that the context went away under it.
 */
#include "messaging/messaging_private.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"

struct messaging_read_state;

struct messaging_handler {
	struct messaging_handler *prev, *next;
	struct messaging_context *msg;
	uint32_t msg_type;
	messaging_handler_fn fn; /* NULL: deregistered during dispatch */
	void *private_data;
	uint64_t seq;
	/* a messaging_read_send() request waiting through this entry; told
	 * when the entry goes away with the context */
	struct messaging_read_state *read_state;
};

struct messaging_guard {
	struct messaging_guard *prev;
	bool gone;
};

struct messaging_context {
	struct tevent_context *ev;
	char *sockdir;
	struct server_id id;
	struct msg_dgm *dgm;
	struct messaging_handler *handlers;
	uint64_t handler_seq;
	unsigned dispatch_depth;
	bool handlers_dirty;
	struct messaging_guard *guards;
	messaging_forward_fn fwd_fn;
	void *fwd_private;
	messaging_remote_alive_fn alive_fn;
	void *alive_private;
};

static void messaging_recv(void *private_data, const struct msg_frame_hdr *hdr,
			   const uint8_t *data, size_t len, int *fds,
			   size_t num_fds);

static uint64_t messaging_random_unique(void)
{
	uint64_t u = 0;

	/* 0 means "any process with this pid": never hand it out */
	while (u == 0) {
		if (getrandom(&u, sizeof(u), 0) != (ssize_t)sizeof(u)) {
			if (errno == EINTR) {
				continue;
			}
			/* no entropy source at all: still unique enough
			 * to tell a reused pid apart */
			u = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^
			    (uint64_t)(uintptr_t)&u;
		}
	}
	return u;
}

static void messaging_mark_guards(struct messaging_context *msg)
{
	struct messaging_guard *g;

	for (g = msg->guards; g != NULL; g = g->prev) {
		g->gone = true;
	}
	msg->guards = NULL;
}

static int messaging_handler_destructor(struct messaging_handler *h);

static void messaging_drop_handlers(struct messaging_context *msg)
{
	while (msg->handlers != NULL) {
		talloc_free(msg->handlers);
	}
	msg->handlers_dirty = false;
}

static int messaging_context_destructor(struct messaging_context *msg)
{
	messaging_mark_guards(msg);
	messaging_drop_handlers(msg);
	TALLOC_FREE(msg->dgm);
	return 0;
}

static bool messaging_open(struct messaging_context *msg,
			   struct tevent_context *ev)
{
	msg->ev = ev;
	msg->id.pid = (uint32_t)getpid();
	msg->id.task = 0;
	msg->id.unique = messaging_random_unique();
	msg->dgm = msg_dgm_create(msg, ev, msg->sockdir, msg->id,
				  messaging_recv, msg);
	return msg->dgm != NULL;
}

struct messaging_context *messaging_init(TALLOC_CTX *mem_ctx,
					 struct tevent_context *ev,
					 const char *sockdir, uint32_t node)
{
	struct messaging_context *msg;

	if (ev == NULL || sockdir == NULL || sockdir[0] == '\0') {
		return NULL;
	}
	msg = talloc_zero(mem_ctx, struct messaging_context);
	if (msg == NULL) {
		return NULL;
	}
	msg->sockdir = talloc_strdup(msg, sockdir);
	if (msg->sockdir == NULL) {
		talloc_free(msg);
		return NULL;
	}
	msg->id.node = node;
	talloc_set_destructor(msg, messaging_context_destructor);
	if (!messaging_open(msg, ev)) {
		DBG_ERR("messaging: cannot bind a socket in %s\n", sockdir);
		talloc_free(msg);
		return NULL;
	}
	DBG_DEBUG("messaging: %u:%u unique %016llx in %s\n",
		  (unsigned)msg->id.node, (unsigned)msg->id.pid,
		  (unsigned long long)msg->id.unique, sockdir);
	return msg;
}

NTSTATUS messaging_reinit(struct messaging_context *msg,
			  struct tevent_context *ev)
{
	/* The inherited transport is the parent's: freeing it in the child
	 * closes the fd and drops the parent's queued messages and partial
	 * reassemblies here, but leaves its socket file alone (its owner
	 * pid is the parent's). */
	messaging_mark_guards(msg);
	messaging_drop_handlers(msg);
	/* a dispatch running now (reinit from a handler) is abandoned */
	msg->dispatch_depth = 0;
	TALLOC_FREE(msg->dgm);
	if (!messaging_open(msg, ev)) {
		DBG_ERR("messaging: cannot re-initialise in pid %d\n",
			(int)getpid());
		return NT_STATUS_INTERNAL_ERROR;
	}
	return NT_STATUS_OK;
}

struct server_id messaging_server_id(const struct messaging_context *msg)
{
	return msg->id;
}

struct tevent_context *messaging_tevent_context(struct messaging_context *msg)
{
	return msg->ev;
}

void messaging_get_stats(struct messaging_context *msg,
			 struct msg_dgm_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (msg->dgm != NULL) {
		msg_dgm_get_stats(msg->dgm, st);
	}
}

/* ------------------------------------------------------------------ */
/* Handlers                                                           */
/* ------------------------------------------------------------------ */

static struct messaging_handler *
messaging_add_handler(struct messaging_context *msg, void *private_data,
		      uint32_t msg_type, messaging_handler_fn fn)
{
	struct messaging_handler *h;

	h = talloc_zero(msg, struct messaging_handler);
	if (h == NULL) {
		return NULL;
	}
	h->msg = msg;
	h->msg_type = msg_type;
	h->fn = fn;
	h->private_data = private_data;
	h->seq = ++msg->handler_seq;
	DLIST_ADD_END(msg->handlers, h);
	talloc_set_destructor(h, messaging_handler_destructor);
	return h;
}

NTSTATUS messaging_register(struct messaging_context *msg, void *private_data,
			    uint32_t msg_type, messaging_handler_fn fn)
{
	if (fn == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (messaging_add_handler(msg, private_data, msg_type, fn) == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	return NT_STATUS_OK;
}

/* Unlink now, or mark for the end of the running dispatch. */
static void messaging_remove_handler(struct messaging_handler *h)
{
	struct messaging_context *msg = h->msg;

	h->fn = NULL;
	h->read_state = NULL;
	if (msg->dispatch_depth > 0) {
		msg->handlers_dirty = true;
		return;
	}
	talloc_free(h);
}

void messaging_deregister(struct messaging_context *msg, uint32_t msg_type,
			  void *private_data)
{
	struct messaging_handler *h, *next;

	for (h = msg->handlers; h != NULL; h = next) {
		next = h->next;
		if (h->fn != NULL && h->msg_type == msg_type &&
		    h->private_data == private_data) {
			messaging_remove_handler(h);
		}
	}
}

static void messaging_purge_handlers(struct messaging_context *msg)
{
	struct messaging_handler *h, *next;

	msg->handlers_dirty = false;
	for (h = msg->handlers; h != NULL; h = next) {
		next = h->next;
		if (h->fn == NULL) {
			talloc_free(h);
		}
	}
}

static void close_all(int *fds, size_t num_fds)
{
	size_t i;

	for (i = 0; i < num_fds; i++) {
		if (fds[i] != -1) {
			close(fds[i]);
		}
	}
}

/* A whole message from the transport: run its handlers. */
static void messaging_recv(void *private_data, const struct msg_frame_hdr *hdr,
			   const uint8_t *data, size_t len, int *fds,
			   size_t num_fds)
{
	struct messaging_context *msg = private_data;
	struct messaging_guard g = { .prev = msg->guards };
	uint64_t seq_limit = msg->handler_seq;
	struct messaging_handler *h;
	bool fds_given = false;

	msg->guards = &g;
	msg->dispatch_depth++;
	/* Entries are not unlinked while dispatch_depth > 0, so h->next
	 * stays valid across a handler call. */
	for (h = msg->handlers; h != NULL; h = h->next) {
		bool give;

		if (h->fn == NULL || h->msg_type != hdr->msg_type ||
		    h->seq > seq_limit) {
			continue;
		}
		give = !fds_given;
		fds_given = true;
		h->fn(msg, h->private_data, hdr->msg_type, hdr->src, data, len,
		      give ? fds : NULL, give ? num_fds : 0);
		if (g.gone) {
			/* the context (or its transport) went away; the
			 * fds went to the first handler */
			return;
		}
	}
	msg->guards = g.prev;
	msg->dispatch_depth--;
	if (!fds_given) {
		DBG_DEBUG("messaging: no handler for type %u from pid %u\n",
			  (unsigned)hdr->msg_type, (unsigned)hdr->src.pid);
		close_all(fds, num_fds);
	}
	if (msg->dispatch_depth == 0 && msg->handlers_dirty) {
		messaging_purge_handlers(msg);
	}
}

/* ------------------------------------------------------------------ */
/* Sending                                                            */
/* ------------------------------------------------------------------ */

static NTSTATUS messaging_send_from(struct messaging_context *msg,
				    struct server_id src, struct server_id dst,
				    uint32_t msg_type, const uint8_t *data,
				    size_t len, const int *fds, size_t num_fds)
{
	if (len > MESSAGING_MAX_PAYLOAD || num_fds > MESSAGING_MAX_FDS ||
	    (len > 0 && data == NULL) || (num_fds > 0 && fds == NULL)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (dst.node != msg->id.node) {
		if (num_fds > 0) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		if (msg->fwd_fn == NULL) {
			return NT_STATUS_NOT_SUPPORTED;
		}
		return msg->fwd_fn(msg->fwd_private, dst, src, msg_type, data,
				   len);
	}
	if (msg->dgm == NULL) {
		return NT_STATUS_INTERNAL_ERROR;
	}
	return msg_dgm_send(msg->dgm, &src, &dst, msg_type, data, len, fds,
			    num_fds);
}

NTSTATUS messaging_send(struct messaging_context *msg, struct server_id dst,
			uint32_t msg_type, const uint8_t *data, size_t len,
			const int *fds, size_t num_fds)
{
	return messaging_send_from(msg, msg->id, dst, msg_type, data, len, fds,
				   num_fds);
}

NTSTATUS messaging_send_as(struct messaging_context *msg, struct server_id src,
			   struct server_id dst, uint32_t msg_type,
			   const uint8_t *data, size_t len)
{
	/* clusterd delivers here what came from elsewhere: sending it on
	 * to another node again could loop between forwarders */
	if (dst.node != msg->id.node) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	return messaging_send_from(msg, src, dst, msg_type, data, len, NULL,
				   0);
}

void messaging_cleanup(struct messaging_context *msg, pid_t pid)
{
	if (pid <= 0 || (uint32_t)pid == msg->id.pid) {
		return;
	}
	msg_dgm_remove_stale(msg->sockdir, (uint32_t)pid);
}

size_t messaging_queued(struct messaging_context *msg)
{
	struct msg_dgm_stats st;

	messaging_get_stats(msg, &st);
	return st.queued_msgs;
}

void messaging_set_remote_forwarder(struct messaging_context *msg,
				    messaging_forward_fn fn,
				    void *private_data)
{
	msg->fwd_fn = fn;
	msg->fwd_private = private_data;
}

void messaging_set_remote_alive_fn(struct messaging_context *msg,
				   messaging_remote_alive_fn fn,
				   void *private_data)
{
	msg->alive_fn = fn;
	msg->alive_private = private_data;
}

bool server_id_is_alive(struct messaging_context *msg,
			const struct server_id *id)
{
	if (id->node != msg->id.node) {
		if (msg->alive_fn == NULL) {
			return true;
		}
		return msg->alive_fn(msg->alive_private, id);
	}
	if (id->pid == msg->id.pid &&
	    (id->unique == 0 || id->unique == msg->id.unique)) {
		return true;
	}
	return msg_dgm_pid_alive(msg->sockdir, id->pid, id->unique);
}

/* ------------------------------------------------------------------ */
/* messaging_read_send/recv                                           */
/* ------------------------------------------------------------------ */

struct messaging_read_state {
	struct messaging_handler *h;
	struct messaging_rec *rec;
};

static int messaging_handler_destructor(struct messaging_handler *h)
{
	if (h->read_state != NULL) {
		/* the context went away under a waiting request: it
		 * stays pending, and must not touch the entry again */
		h->read_state->h = NULL;
	}
	DLIST_REMOVE(h->msg->handlers, h);
	return 0;
}

static int messaging_rec_destructor(struct messaging_rec *rec)
{
	/* a rec nobody received: its fds have no other owner */
	close_all(rec->fds, rec->num_fds);
	return 0;
}

static void messaging_read_cleanup(struct tevent_req *req,
				   enum tevent_req_state req_state)
{
	struct messaging_read_state *state =
		tevent_req_data(req, struct messaging_read_state);

	if (state->h != NULL) {
		messaging_remove_handler(state->h);
		state->h = NULL;
	}
}

static void messaging_read_handler(struct messaging_context *msg,
				   void *private_data, uint32_t msg_type,
				   struct server_id src, const uint8_t *data,
				   size_t len, int *fds, size_t num_fds)
{
	struct tevent_req *req = private_data;
	struct messaging_read_state *state =
		tevent_req_data(req, struct messaging_read_state);
	struct messaging_rec *rec;

	rec = talloc_zero(state, struct messaging_rec);
	if (rec == NULL) {
		close_all(fds, num_fds);
		tevent_req_oom(req);
		return;
	}
	rec->msg_type = msg_type;
	rec->src = src;
	rec->len = len;
	rec->data = talloc_memdup(rec, len > 0 ? data : (const uint8_t *)"",
				  len > 0 ? len : 1);
	rec->fds = talloc_array(rec, int, num_fds > 0 ? num_fds : 1);
	if (rec->data == NULL || rec->fds == NULL) {
		close_all(fds, num_fds);
		talloc_free(rec);
		tevent_req_oom(req);
		return;
	}
	if (num_fds > 0) {
		memcpy(rec->fds, fds, num_fds * sizeof(int));
	}
	rec->num_fds = num_fds;
	talloc_set_destructor(rec, messaging_rec_destructor);
	state->rec = rec;
	/* one-shot: the cleanup function deregisters (deferred, we are
	 * inside dispatch) */
	tevent_req_done(req);
}

struct tevent_req *messaging_read_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       struct messaging_context *msg,
				       uint32_t msg_type)
{
	struct tevent_req *req;
	struct messaging_read_state *state;

	req = tevent_req_create(mem_ctx, &state, struct messaging_read_state);
	if (req == NULL) {
		return NULL;
	}
	state->h = messaging_add_handler(msg, req, msg_type,
					 messaging_read_handler);
	if (tevent_req_nomem(state->h, req)) {
		return tevent_req_post(req, ev);
	}
	state->h->read_state = state;
	tevent_req_set_cleanup_fn(req, messaging_read_cleanup);
	return req;
}

NTSTATUS messaging_read_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
			     struct messaging_rec **rec)
{
	struct messaging_read_state *state =
		tevent_req_data(req, struct messaging_read_state);
	enum tevent_req_state req_state;
	uint64_t err;
	NTSTATUS status = NT_STATUS_OK;

	if (tevent_req_is_error(req, &req_state, &err)) {
		status = req_state == TEVENT_REQ_USER_ERROR
				 ? NT_STATUS((uint32_t)err)
			 : req_state == TEVENT_REQ_NO_MEMORY
				 ? NT_STATUS_NO_MEMORY
			 : req_state == TEVENT_REQ_TIMED_OUT
				 ? NT_STATUS_IO_TIMEOUT
				 : NT_STATUS_INTERNAL_ERROR;
	} else if (state->rec == NULL) {
		status = NT_STATUS_INTERNAL_ERROR;
	} else {
		/* the caller owns the fds from here on */
		talloc_set_destructor(state->rec, NULL);
		*rec = talloc_move(mem_ctx, &state->rec);
	}
	tevent_req_received(req);
	return status;
}
