/*
 * Cross-node messaging and remote liveness for processes that are not
 * clusterd (smbd, smbcontrol, smbstatus, test tools): docs/cluster.md
 * "Cross-node messaging".
 *
 * Start-up of a clustered process (node = the corosync node id of this
 * node, e.g. from smbd_cluster_node_id()):
 *
 *     msg = messaging_init(mem_ctx, ev, sockdir, node);
 *     status = cluster_messaging_attach(msg, conf->global.clusterd_socket);
 *
 * After that:
 *  - messaging_send() to a server_id whose node is another node hands
 *    the message to the local clusterd (a local datagram,
 *    MSG_CLUSTERD_FORWARD), which multicasts it through CPG; the target
 *    node's clusterd gives it to the destination process with the
 *    original source id (messaging_send_as()).  Payloads up to
 *    CLUSTER_MSG_MAX_PAYLOAD bytes, no fds.  A send to a node that is not
 *    a member of the local clusterd's current view returns
 *    NT_STATUS_OBJECT_NAME_NOT_FOUND (its processes count as dead, like a
 *    local process that is gone); no running clusterd (no view file):
 *    NT_STATUS_CONNECTION_DISCONNECTED.
 *  - server_id_is_alive() of another node's process is true exactly while
 *    that node is a member of the local clusterd's current view (read
 *    from a small file clusterd rewrites at every membership change; no
 *    socket round trip: at most one stat() per millisecond).  When the
 *    view is unknown (clusterd not running) remote processes count as
 *    alive: nothing of theirs is thrown away on a guess.
 *
 * Both hooks live in the messaging context and survive
 * messaging_reinit() (a forked child keeps them); the state they use is
 * a talloc child of msg.
 */
#ifndef CLUSTERD_CLUSTER_CLIENT_H
#define CLUSTERD_CLUSTER_CLIENT_H

#include <stdint.h>

#include "lib/util/ntstatus.h"

struct messaging_context;

/* Largest payload carried between nodes (messages on one node: 16 MiB). */
#define CLUSTER_MSG_MAX_PAYLOAD (1024u * 1024)

/*
 * Route messages for other nodes through the local clusterd and answer
 * remote liveness from its view.  clusterd_socket is smb.conf's
 * "clusterd socket" (clusterd's control socket); the view file,
 * "clusterd.view", is read from the same directory.  clusterd need not
 * be running yet.  NT_STATUS_INVALID_PARAMETER for a NULL/empty path,
 * NT_STATUS_NO_MEMORY.  Calling it again replaces the earlier attachment.
 */
NTSTATUS cluster_messaging_attach(struct messaging_context *msg,
				  const char *clusterd_socket);

/*
 * This node's id as the local clusterd last wrote it into its view file
 * (no socket round trip).  NT_STATUS_CONNECTION_DISCONNECTED when there is
 * no (valid) view file: clusterd not running or not in a view yet.
 */
NTSTATUS cluster_client_node_id(const char *clusterd_socket, uint32_t *node);

#endif
