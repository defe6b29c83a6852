/*
 * The control protocol between clusterctl and clusterd: a unix stream
 * socket (cluster.conf "control socket"), one request and one response
 * per connection.
 *
 * Frame: u32 little-endian length, then that many bytes holding one
 * marshall record.  Requests are REC_CLUSTERD_CTRL_REQ v1 {u32 op};
 * responses are REC_CLUSTERD_CTRL_STATUS v2 (op STATUS; v2 appends the
 * replicated databases, v1 is still read) or
 * REC_CLUSTERD_CTRL_RESULT v1 {u32 NTSTATUS} (every other op, and any
 * error).  Both sides check every byte: lengths over the limits, unknown
 * ops, bad enum values, trailing bytes are refused.
 */
#ifndef CLUSTERD_CTRL_PROTO_H
#define CLUSTERD_CTRL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

#define CTRL_FRAME_HDR 4
#define CTRL_MAX_REQUEST 256		/* a request is a few bytes */
#define CTRL_MAX_RESPONSE (4 * 1024 * 1024)
#define CTRL_MAX_NODES 1024
#define CTRL_MAX_IPS 1024
#define CTRL_MAX_DBS 1024

enum ctrl_op {
	CTRL_OP_STATUS = 1,
	CTRL_OP_STOP = 2,     /* administratively stop this node: no IPs */
	CTRL_OP_CONTINUE = 3, /* undo STOP */
};

struct ctrl_status_node {
	uint32_t id;
	char *addr; /* may be "" */
	uint8_t state; /* enum cluster_node_state */
};

struct ctrl_status_ip {
	char *addr;
	uint32_t prefix;
	char *iface;
	uint32_t owner; /* 0: unassigned */
	bool held;	/* the answering node has it configured now */
};

/* A replicated database (status v2). */
struct ctrl_status_db {
	char *name;
	uint64_t records; /* live records (tombstones not counted) */
};

struct ctrl_status {
	uint32_t my_id;
	bool quorate;
	bool committed;
	uint64_t generation;
	uint32_t leader; /* 0: none */
	uint32_t num_nodes;
	struct ctrl_status_node *nodes;
	uint32_t num_ips;
	struct ctrl_status_ip *ips;
	uint32_t num_dbs; /* 0 from a v1 sender */
	struct ctrl_status_db *dbs;
	bool dbs_in_sync; /* v3: this node's replicas are the cluster's
			   * (true from an older sender) */
};

/* The length in a frame header, or 0 if it is over max (or 0). */
uint32_t ctrl_frame_len(const uint8_t hdr[CTRL_FRAME_HDR], uint32_t max);

/* Each push returns a complete frame (header included) on mem_ctx. */
NTSTATUS ctrl_request_push(TALLOC_CTX *mem_ctx, uint32_t op, uint8_t **buf,
			   size_t *len);
NTSTATUS ctrl_status_push(TALLOC_CTX *mem_ctx, const struct ctrl_status *s,
			  uint8_t **buf, size_t *len);
NTSTATUS ctrl_result_push(TALLOC_CTX *mem_ctx, NTSTATUS result,
			  uint8_t **buf, size_t *len);

/* Each pull takes the bytes after the frame header. */
NTSTATUS ctrl_request_pull(const uint8_t *buf, size_t len, uint32_t *op);
NTSTATUS ctrl_status_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf, size_t len,
			  struct ctrl_status **out);
NTSTATUS ctrl_result_pull(const uint8_t *buf, size_t len, NTSTATUS *result);

/* The record type of a response body (to pick the pull), 0 if short. */
uint16_t ctrl_body_type(const uint8_t *buf, size_t len);

#endif
