/*
 * Messaging: one subsystem for every process on every node
 * (docs/architecture.md "Messaging", ../shared ARCHITECTURE "Messaging").
 *
 * A process is named by a struct server_id {node, pid, task, unique}.
 * Local delivery: every process that calls messaging_init() binds one unix
 * datagram socket <sockdir>/<pid>; a message is one or more datagrams
 * (fragments of at most MESSAGING_FRAGMENT_SIZE bytes, reassembled by the
 * receiver) and may carry file descriptors (SCM_RIGHTS, first fragment).
 * Remote delivery (dst.node != own node) goes through the hook set with
 * messaging_set_remote_forwarder() (clusterd); fds never cross nodes.
 *
 * Every frame has one explicit little-endian header (layout in
 * messaging_private.h, parsed by parse_frame_header()):
 * magic, version, msg_type, src and dst server_id, message id, fragment
 * number/count, total length.  A message whose dst.unique does not match
 * the receiver's unique (pid reused) is dropped; dst.unique == 0 means
 * "whichever process has this pid".
 *
 * Usage:
 *     struct messaging_context *msg = messaging_init(mem_ctx, ev, sockdir, 0);
 *     messaging_register(msg, state, MSG_SMB_BREAK_REQUEST, break_handler);
 *     status = messaging_send(msg, dst, MSG_SMB_BREAK_REQUEST, buf, len,
 *                             NULL, 0);
 * Handlers run from the tevent loop; fds handed to a handler are owned by
 * the handler (close them or keep them); messages nobody handles are
 * dropped and their fds closed.
 */
#ifndef MESSAGING_MESSAGING_H
#define MESSAGING_MESSAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <talloc.h>
#include <tevent.h>

#include "lib/util/ntstatus.h"

struct server_id {
	uint32_t node;	 /* cluster node number; 0 when not clustered */
	uint32_t pid;	 /* process id on that node */
	uint32_t task;	 /* sub-task of a process, 0 today */
	uint64_t unique; /* random per process start; 0 = any */
};

#define SERVER_ID_WIRE_SIZE 20 /* node u32, pid u32, task u32, unique u64 */
#define MESSAGING_MAX_PAYLOAD (16u * 1024 * 1024)
#define MESSAGING_FRAGMENT_SIZE (60u * 1024)
#define MESSAGING_MAX_FDS 16

/* Message types: one list for the whole product, never renumbered. */
enum messaging_type {
	MSG_PING = 1,		/* test/diagnostic: reply with MSG_PONG */
	MSG_PONG = 2,
	MSG_SHUTDOWN = 3,	/* ask a process to exit */
	MSG_DBWRAP_MODIFIED = 10, /* dbwrap watch wake-up (dbwrap_watch.c) */
	MSG_SMB_BREAK_REQUEST = 20, /* oplock/lease break to the holder */
	MSG_SMB_BREAK_RESPONSE = 21,
	MSG_SMB_KILL_CLIENT = 22,   /* drop this client (ClientGuid) */
	MSG_SMB_PASS_CONNECTION = 23, /* multichannel: socket fd + negotiate */
	MSG_SMB_NOTIFY_EVENT = 24,  /* change notify from another process */
	MSG_SMB_CLOSE_FILE = 25,    /* force close (status CLI/admin) */
	MSG_SMB_FILE_RENAMED = 26,  /* an open file got a new name (share_mode.c) */
	MSG_SMB_CLOSE_SESSION = 27, /* log off a session: PreviousSessionId
				     * (smbXsrv_session_close.c) */
	MSG_CLUSTERD_FORWARD = 40, /* to the local clusterd: carry a
				    * REC_CLUSTERD_MSG to another node */
	MSG_TEST_BASE = 1000,	    /* 1000..1999 free for unit tests */
};

struct messaging_context;

/*
 * Bind this process's socket in sockdir (created 0755 if missing) and
 * register it with ev.  node is this node's number (0 single node).
 * Returns NULL on failure (logged).  The context's talloc destructor
 * closes and unlinks the socket.
 */
struct messaging_context *messaging_init(TALLOC_CTX *mem_ctx,
					 struct tevent_context *ev,
					 const char *sockdir, uint32_t node);

/*
 * After fork(): the child gets its own pid, unique and socket; the
 * parent's socket is closed in the child (not unlinked) and all
 * registrations are dropped.
 */
NTSTATUS messaging_reinit(struct messaging_context *msg,
			  struct tevent_context *ev);

struct server_id messaging_server_id(const struct messaging_context *msg);
struct tevent_context *messaging_tevent_context(struct messaging_context *msg);

typedef void (*messaging_handler_fn)(struct messaging_context *msg,
				     void *private_data, uint32_t msg_type,
				     struct server_id src,
				     const uint8_t *data, size_t len,
				     int *fds, size_t num_fds);

/* Several handlers may be registered for one type; each gets a copy
 * (only the first registered gets the fds, others see num_fds 0). */
NTSTATUS messaging_register(struct messaging_context *msg, void *private_data,
			    uint32_t msg_type, messaging_handler_fn fn);
void messaging_deregister(struct messaging_context *msg, uint32_t msg_type,
			  void *private_data);

/*
 * Send a message.  Returns NT_STATUS_OK once the whole message is queued
 * in the kernel or in this process's send queue (a full receiver queue is
 * retried from the event loop, in order); NT_STATUS_OBJECT_NAME_NOT_FOUND
 * when the destination process does not exist (its stale socket is
 * removed); NT_STATUS_INVALID_PARAMETER for a payload over
 * MESSAGING_MAX_PAYLOAD or more than MESSAGING_MAX_FDS fds;
 * NT_STATUS_NOT_SUPPORTED for another node when no forwarder is set.
 * fds are duplicated: the caller keeps its own.
 */
NTSTATUS messaging_send(struct messaging_context *msg, struct server_id dst,
			uint32_t msg_type, const uint8_t *data, size_t len,
			const int *fds, size_t num_fds);

/*
 * Messages of this process still waiting in its send queues (the
 * receiver's queue was full).  A short-lived sender (smbcontrol) runs its
 * event loop until this is 0 before it exits.  (Added to the issue-4
 * contract by the messaging implementation.)
 */
size_t messaging_queued(struct messaging_context *msg);

/*
 * Remove what a dead process of this node left in the socket directory
 * (its socket and unique file), e.g. once the smbd parent has reaped a
 * child killed by SIGKILL.  Does nothing while a process with that pid
 * exists.  (Added to the issue-4 contract by the messaging
 * implementation.)
 */
void messaging_cleanup(struct messaging_context *msg, pid_t pid);

/* One received message, for messaging_read_send(). */
struct messaging_rec {
	uint32_t msg_type;
	struct server_id src;
	uint8_t *data; /* talloc child of the rec */
	size_t len;
	int *fds;      /* owned by the rec's receiver: close them */
	size_t num_fds;
};

/* Wait for the next message of msg_type. */
struct tevent_req *messaging_read_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       struct messaging_context *msg,
				       uint32_t msg_type);
NTSTATUS messaging_read_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
			     struct messaging_rec **rec);

/*
 * Remote delivery hook for clusterd: called for a message whose dst.node
 * is not this node (fds refused before this is called).  A clustered
 * process sets it, and the remote alive fn below, with
 * cluster_messaging_attach() (clusterd/cluster_client.h).  Both survive
 * messaging_reinit().
 */
typedef NTSTATUS (*messaging_forward_fn)(void *private_data,
					 struct server_id dst,
					 struct server_id src, uint32_t msg_type,
					 const uint8_t *data, size_t len);
void messaging_set_remote_forwarder(struct messaging_context *msg,
				    messaging_forward_fn fn,
				    void *private_data);
/*
 * Liveness of processes on other nodes for server_id_is_alive(), from
 * clusterd's view of the cluster.  Without it remote ids count as alive.
 * (Added to the issue-4 contract by the messaging implementation.)
 */
typedef bool (*messaging_remote_alive_fn)(void *private_data,
					  const struct server_id *id);
void messaging_set_remote_alive_fn(struct messaging_context *msg,
				   messaging_remote_alive_fn fn,
				   void *private_data);
/* clusterd hands a message that came from another node to a local process. */
NTSTATUS messaging_send_as(struct messaging_context *msg, struct server_id src,
			   struct server_id dst, uint32_t msg_type,
			   const uint8_t *data, size_t len);

/* server_id helpers */
bool server_id_equal(const struct server_id *a, const struct server_id *b);
/* Is this process (on this node) alive?  For other nodes the answer comes
 * from clusterd; without one, remote ids count as alive. */
bool server_id_is_alive(struct messaging_context *msg,
			const struct server_id *id);
/* "node:pid" or "node:pid.task"; talloc'd */
char *server_id_str(TALLOC_CTX *mem_ctx, const struct server_id *id);
void server_id_push(uint8_t buf[SERVER_ID_WIRE_SIZE],
		    const struct server_id *id);
void server_id_pull(const uint8_t buf[SERVER_ID_WIRE_SIZE],
		    struct server_id *id);

#endif
