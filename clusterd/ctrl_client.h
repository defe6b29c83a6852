/*
 * The client side of clusterd's control socket (ctrl_proto.h): one
 * request, one answer frame.  Used by clusterctl and by smbd (its node id
 * and the cluster generation, smbd/smbd_cluster.c).
 */
#ifndef CLUSTERD_CTRL_CLIENT_H
#define CLUSTERD_CTRL_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

/*
 * Send request op to the control socket at path and read the answer
 * frame's body (talloc'd on mem_ctx) within timeout_ms in all: clusterd
 * answers at once or is stuck, and neither a CLI nor smbd may hang.
 * NT_STATUS_OBJECT_NAME_NOT_FOUND when nothing listens at path (clusterd
 * is not running), NT_STATUS_NAME_TOO_LONG for a path that does not fit
 * a unix socket address, NT_STATUS_IO_TIMEOUT, NT_STATUS_INVALID_NETWORK_
 * RESPONSE for a frame length of 0 or over CTRL_MAX_RESPONSE, else the
 * socket error.  The body is not parsed.
 */
NTSTATUS ctrl_transact(TALLOC_CTX *mem_ctx, const char *path, uint32_t op,
		       int timeout_ms, uint8_t **body, size_t *body_len);

#endif
