/*
 * Messages between clusterds, multicast through CPG (totally ordered, and
 * delivered to the sender too).  Encoded with lib/util/marshall.h; every
 * field of a received message is checked before use.
 *
 * HELLO (REC_CLUSTERD_HELLO v1): sent by every member after each CPG
 * configuration change.  Carries the member list the sender saw (so a
 * HELLO meant for another view is recognised and dropped), the sender's
 * last agreed generation, its health, and the public IPs it holds (the
 * "previous owner" input of the assignment, which a node that just joined
 * cannot know otherwise).
 *
 * STATE (REC_CLUSTERD_STATE v1): a node's health or administrative stop
 * changed.  Applied by every node at the same point of the stream, so all
 * recompute the same assignment.
 */
#ifndef CLUSTERD_CLUSTER_MSG_H
#define CLUSTERD_CLUSTER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

#define CLMSG_MAX_MEMBERS 128 /* CPG_MEMBERS_MAX */
#define CLMSG_MAX_CLAIMS 1024 /* PUBLIC_IPS_MAX */

struct clmsg_member {
	uint32_t nodeid;
	uint32_t pid;
};

struct clmsg_hello {
	uint32_t nodeid;
	uint64_t generation; /* 0: never had one */
	bool healthy;
	bool stopped;
	uint32_t ips_checksum;
	uint32_t num_members;
	struct clmsg_member *members; /* sorted by (nodeid, pid) */
	uint32_t num_claims;
	char **claims; /* addresses, canonical text */
};

struct clmsg_state {
	uint32_t nodeid;
	bool healthy;
	bool stopped;
};

/*
 * RELEASED (REC_CLUSTERD_RELEASED v1): the sender no longer has the
 * address configured.  An IP that moves away from a live member is taken
 * by its new owner only after this arrives (no address on two nodes);
 * seq names the hand-over it answers, so a late RELEASED of an earlier
 * one is ignored.
 */
struct clmsg_released {
	uint32_t nodeid;
	uint64_t seq; /* generation << 32 | hand-over count since its commit */
	char *addr;
};

/* The record type of buf (first u16), 0 when too short. */
uint16_t clmsg_type(const uint8_t *buf, size_t len);

NTSTATUS clmsg_hello_push(TALLOC_CTX *mem_ctx, const struct clmsg_hello *h,
			  uint8_t **buf, size_t *len);
/* Result on mem_ctx; refuses unsorted/duplicate members, counts over the
 * limits, NULL claims, trailing bytes. */
NTSTATUS clmsg_hello_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			  size_t len, struct clmsg_hello **out);

NTSTATUS clmsg_state_push(TALLOC_CTX *mem_ctx, const struct clmsg_state *s,
			  uint8_t **buf, size_t *len);
NTSTATUS clmsg_state_pull(const uint8_t *buf, size_t len,
			  struct clmsg_state *out);

NTSTATUS clmsg_released_push(TALLOC_CTX *mem_ctx,
			     const struct clmsg_released *r, uint8_t **buf,
			     size_t *len);
/* addr on mem_ctx. */
NTSTATUS clmsg_released_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			     size_t len, struct clmsg_released *out);

/* Order members by (nodeid, pid), as HELLO requires. */
void clmsg_sort_members(struct clmsg_member *m, size_t n);

#endif
