/*
 * Encodings of cross-node messaging (docs/cluster.md "Cross-node
 * messaging"), pure functions shared by clusterd, the client side
 * (cluster_client.c, linked into every messaging user), the unit test and
 * the fuzz target.
 *
 * REC_CLUSTERD_MSG v1: one message for a process on another node
 *   server_id src (u32 node, u32 pid, u32 task, u64 unique)
 *   server_id dst
 *   u32 msg_type
 *   blob data (u32 length + bytes, at most CLUSTER_MSG_MAX_PAYLOAD)
 * The same record travels from a process to its clusterd (payload of a
 * local MSG_CLUSTERD_FORWARD datagram) and, re-encoded after checking,
 * from that clusterd through CPG to every member; the target node's
 * clusterd hands it on.
 *
 * REC_CLUSTERD_VIEW v1: the view file clusterd writes at every membership
 * change (<dir of the control socket>/clusterd.view):
 *   u32 this node's id
 *   server_id of this node's clusterd (pid 0: it has no messaging)
 *   u64 number of views this clusterd has written (grows by one)
 *   u32 count, count x u32 node ids of the members, strictly increasing,
 *       non-zero, this node among them
 */
#ifndef CLUSTERD_CLUSTER_MSGFWD_PROTO_H
#define CLUSTERD_CLUSTER_MSGFWD_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "clusterd/cluster_client.h"
#include "lib/util/ntstatus.h"
#include "messaging/messaging.h"

#define CLUSTER_VIEW_MAX_MEMBERS 128 /* CPG_MEMBERS_MAX */
#define CLUSTER_VIEW_FILE "clusterd.view"
/* Far above any valid file: 128 members are about 570 bytes. */
#define CLUSTER_VIEW_MAX_FILE 4096

struct clmsgfwd {
	struct server_id src;
	struct server_id dst;
	uint32_t msg_type;
	const uint8_t *data; /* pull: points into the buffer */
	size_t len;
};

/*
 * Checks (push and pull alike): src.node != dst.node, src.pid and dst.pid
 * in 1..INT32_MAX, len <= CLUSTER_MSG_MAX_PAYLOAD; pull also refuses
 * trailing bytes.  NT_STATUS_INVALID_PARAMETER (push) or
 * NT_STATUS_INTERNAL_DB_CORRUPTION (pull).
 */
NTSTATUS clmsgfwd_push(TALLOC_CTX *mem_ctx, const struct clmsgfwd *m,
		       uint8_t **buf, size_t *len);
NTSTATUS clmsgfwd_pull(const uint8_t *buf, size_t len, struct clmsgfwd *out);

struct clview {
	uint32_t my_node;
	struct server_id clusterd;
	uint64_t seq;
	uint32_t num_members;
	uint32_t members[CLUSTER_VIEW_MAX_MEMBERS];
};

NTSTATUS clview_push(TALLOC_CTX *mem_ctx, const struct clview *v,
		     uint8_t **buf, size_t *len);
NTSTATUS clview_pull(const uint8_t *buf, size_t len, struct clview *out);

/* Is node in v->members (binary search)? */
bool clview_has(const struct clview *v, uint32_t node);

#endif
