/*
 * The cluster as one clusterd sees it: the node table, the current CPG
 * view, the generation, the leader and the agreed public IP assignment.
 *
 * This file has no corosync calls: cluster_cpg.c feeds it the CPG events
 * in the order CPG delivers them (configuration changes and messages in
 * one total order, the same on every member), so every member that sees
 * the same stream computes the same table.  That property is what the
 * unit tests check by feeding several instances the same events.
 *
 * Rules (docs/cluster.md has the reasoning):
 *  - Round: each CPG configuration change opens a round; every member
 *    multicasts a HELLO naming the member list it saw.  A HELLO whose
 *    list differs from the current view belongs to another round and is
 *    dropped.  When a HELLO from every member is in, the round commits.
 *  - Generation: at commit, 1 + the highest generation any HELLO carried.
 *    All members saw the same HELLOs, so all agree; it grows at every
 *    membership change.  A node that has not committed yet offers the
 *    generation its last run persisted (gen_floor), so it keeps growing
 *    when the whole cluster restarts.
 *  - Leader: the lowest node id of the committed view, shown only while
 *    this node has quorum (a node without quorum has no leader).  It is
 *    chosen, not elected: the view is agreed, so the choice is too.
 *  - Assignment: at commit the previous owner of an IP is the member whose
 *    HELLO claimed it (lowest id on conflicts, possible after a
 *    partition heals); at a STATE message it is the current assignment.
 *    Candidates: members that are healthy and not stopped.  Then
 *    ip_alloc_compute().  Quorum is local: a node without quorum keeps
 *    computing but holds no IP (cluster_state_should_hold()).
 *  - Hand-over: when an IP moves away from a node that is still a member
 *    (it claimed the IP in its HELLO, or owned it before a STATE), that
 *    node "must release" it; the new owner takes the IP only once every
 *    such member has multicast RELEASED for it.  A node that leaves the
 *    view owes nothing.  A hand-over is named by (generation, number of
 *    STATE-driven recomputes since that generation's commit): every
 *    member counts the same, also one that joined in that round, so a
 *    late RELEASED of an earlier hand-over is recognised everywhere.
 */
#ifndef CLUSTERD_CLUSTER_STATE_H
#define CLUSTERD_CLUSTER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "clusterd/cluster_msg.h"
#include "clusterd/public_ips.h"
#include "lib/util/ntstatus.h"

enum cluster_node_state {
	CLUSTER_NODE_OK = 0,
	CLUSTER_NODE_UNHEALTHY = 1,
	CLUSTER_NODE_DISCONNECTED = 2,
	CLUSTER_NODE_STOPPED = 3,
};

const char *cluster_node_state_name(enum cluster_node_state s);

struct cluster_node {
	uint32_t id;
	char *addr;	 /* ring0_addr from cmap; NULL if not configured */
	bool configured; /* listed in the cmap nodelist */
	bool member;	 /* in the current CPG view */
	uint32_t pid;	 /* its clusterd's pid, while a member */
	bool healthy;	 /* as last announced in the stream */
	bool stopped;
	bool hello_seen; /* in the current round */
	/* Per public IP (arrays of ips->num): */
	bool *claimed;	       /* its HELLO of the open round claims it */
	bool *must_release;    /* it had the IP, which moved away: the new
				* owner waits for its RELEASED */
	uint64_t *release_seq; /* the hand-over it answers (cluster_msg.h) */
};

struct cluster_state {
	uint32_t my_id;
	struct cluster_node *nodes; /* sorted by id */
	size_t num_nodes;

	struct clmsg_member *view; /* current CPG view, sorted */
	size_t view_len;
	bool in_view;	/* this process is in the view (joined) */
	bool round_open; /* HELLOs outstanding */
	bool committed;	 /* a generation was agreed since we joined */
	uint64_t generation;
	uint64_t max_gen_seen; /* in the open round */

	const struct public_ip_list *ips;
	uint32_t ips_checksum;
	uint32_t *owner;  /* agreed assignment, IP_ALLOC_NONE if none */
	uint32_t *claims; /* previous owners gathered in the open round */

	bool quorate; /* local votequorum view */
	uint32_t handovers; /* STATE-driven recomputes since the commit */
	uint64_t gen_floor; /* generation persisted by an earlier run */
};

/* ips must outlive the state (the daemon keeps it for its lifetime). */
struct cluster_state *cluster_state_new(TALLOC_CTX *mem_ctx, uint32_t my_id,
					const struct public_ip_list *ips);

/* Add or update a configured node (cmap). */
NTSTATUS cluster_state_set_configured(struct cluster_state *st, uint32_t id,
				      const char *addr);

/*
 * A CPG configuration change: members is the full new member list (any
 * order).  Opens a round.  The caller then multicasts the HELLO that
 * cluster_state_make_hello() builds.
 */
NTSTATUS cluster_state_confchg(struct cluster_state *st,
			       const struct clmsg_member *members, size_t n);

/* Our HELLO for the open round; healthy/stopped are our wishes, held[i]
 * says whether IP i is configured on this node now (NULL: none). */
NTSTATUS cluster_state_make_hello(struct cluster_state *st,
				  TALLOC_CTX *mem_ctx, bool healthy,
				  bool stopped, const bool *held,
				  uint8_t **buf, size_t *len);

/*
 * A delivered message (raw bytes), from CPG sender (nodeid, pid).
 * *changed is set when the agreed table or assignment changed (the
 * caller then reconciles the IPs it holds and tells the status CLI).
 * Malformed or foreign messages are dropped with a log line and
 * NT_STATUS_INTERNAL_DB_CORRUPTION / NT_STATUS_INVALID_PARAMETER; they
 * change nothing.
 */
NTSTATUS cluster_state_deliver(struct cluster_state *st, uint32_t nodeid,
			       uint32_t pid, const uint8_t *buf, size_t len,
			       bool *changed);

void cluster_state_set_quorate(struct cluster_state *st, bool quorate);

/* Lowest member id of the committed view while quorate, else 0. */
uint32_t cluster_state_leader(const struct cluster_state *st);

enum cluster_node_state cluster_state_node_state(const struct cluster_state *st,
						 const struct cluster_node *n);

const struct cluster_node *cluster_state_find(const struct cluster_state *st,
					      uint32_t id);

/*
 * Whether this node should hold IP i now: committed, quorate, the
 * assignment names us, we are a healthy, running member, and no other
 * member still has to release it.
 */
bool cluster_state_should_hold(const struct cluster_state *st, size_t i);

/* Whether this node owes a RELEASED for IP i (then *seq is the one to
 * send, once the address is gone here). */
bool cluster_state_owes_release(const struct cluster_state *st, size_t i,
				uint64_t *seq);

/* Our RELEASED for IP i. */
NTSTATUS cluster_state_make_released(const struct cluster_state *st,
				     TALLOC_CTX *mem_ctx, size_t i,
				     uint64_t seq, uint8_t **buf,
				     size_t *len);

#endif
