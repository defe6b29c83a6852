/*
 * The cluster state machine (see cluster_state.h for the rules).
 */
#include <stdlib.h>
#include <string.h>

#include "clusterd/cluster_state.h"
#include "clusterd/ip_alloc.h"
#include "lib/util/debug.h"
#include "lib/util/marshall.h"

const char *cluster_node_state_name(enum cluster_node_state s)
{
	switch (s) {
	case CLUSTER_NODE_OK:
		return "ok";
	case CLUSTER_NODE_UNHEALTHY:
		return "unhealthy";
	case CLUSTER_NODE_DISCONNECTED:
		return "disconnected";
	case CLUSTER_NODE_STOPPED:
		return "stopped";
	}
	return "unknown";
}

struct cluster_state *cluster_state_new(TALLOC_CTX *mem_ctx, uint32_t my_id,
					const struct public_ip_list *ips)
{
	struct cluster_state *st = talloc_zero(mem_ctx, struct cluster_state);

	if (st == NULL) {
		return NULL;
	}
	st->my_id = my_id;
	st->ips = ips;
	st->ips_checksum = public_ips_checksum(ips);
	st->owner = talloc_zero_array(st, uint32_t, ips->num + 1);
	st->claims = talloc_zero_array(st, uint32_t, ips->num + 1);
	if (st->owner == NULL || st->claims == NULL) {
		TALLOC_FREE(st);
	}
	return st;
}

static struct cluster_node *find_node(struct cluster_state *st, uint32_t id)
{
	for (size_t i = 0; i < st->num_nodes; i++) {
		if (st->nodes[i].id == id) {
			return &st->nodes[i];
		}
	}
	return NULL;
}

const struct cluster_node *cluster_state_find(const struct cluster_state *st,
					      uint32_t id)
{
	return find_node((struct cluster_state *)st, id);
}

/* Find or add, keeping the table sorted by id. */
static struct cluster_node *get_node(struct cluster_state *st, uint32_t id)
{
	struct cluster_node *n = find_node(st, id);
	bool *claimed = NULL, *must_release = NULL;
	uint64_t *release_seq = NULL;
	size_t pos = 0;

	if (n != NULL) {
		return n;
	}
	/* per-IP arrays owned by st, not by the array that realloc moves */
	claimed = talloc_zero_array(st, bool, st->ips->num + 1);
	must_release = talloc_zero_array(st, bool, st->ips->num + 1);
	release_seq = talloc_zero_array(st, uint64_t, st->ips->num + 1);
	n = talloc_realloc(st, st->nodes, struct cluster_node,
			   st->num_nodes + 1);
	if (claimed == NULL || must_release == NULL || release_seq == NULL ||
	    n == NULL) {
		if (n != NULL) {
			st->nodes = n;
		}
		TALLOC_FREE(claimed);
		TALLOC_FREE(must_release);
		TALLOC_FREE(release_seq);
		return NULL;
	}
	st->nodes = n;
	while (pos < st->num_nodes && st->nodes[pos].id < id) {
		pos++;
	}
	memmove(&st->nodes[pos + 1], &st->nodes[pos],
		(st->num_nodes - pos) * sizeof(st->nodes[0]));
	n = &st->nodes[pos];
	memset(n, 0, sizeof(*n));
	n->id = id;
	n->claimed = claimed;
	n->must_release = must_release;
	n->release_seq = release_seq;
	st->num_nodes++;
	return n;
}

NTSTATUS cluster_state_set_configured(struct cluster_state *st, uint32_t id,
				      const char *addr)
{
	struct cluster_node *n = NULL;

	if (id == 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	n = get_node(st, id);
	if (n == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	n->configured = true;
	if (addr != NULL) {
		TALLOC_FREE(n->addr);
		n->addr = talloc_strdup(st->nodes, addr);
	}
	return NT_STATUS_OK;
}

NTSTATUS cluster_state_confchg(struct cluster_state *st,
			       const struct clmsg_member *members, size_t n)
{
	struct clmsg_member *view = NULL;

	if (n > CLMSG_MAX_MEMBERS) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	view = talloc_array(st, struct clmsg_member, n + 1);
	if (view == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	memcpy(view, members, n * sizeof(*view));
	clmsg_sort_members(view, n);
	TALLOC_FREE(st->view);
	st->view = view;
	st->view_len = n;

	for (size_t i = 0; i < st->num_nodes; i++) {
		st->nodes[i].member = false;
		st->nodes[i].hello_seen = false;
		st->nodes[i].pid = 0;
		memset(st->nodes[i].claimed, 0, st->ips->num * sizeof(bool));
	}
	st->in_view = false;
	for (size_t i = 0; i < n; i++) {
		struct cluster_node *node = get_node(st, view[i].nodeid);
		if (node == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		if (node->member) {
			/* Two clusterds of one node (a restart racing the
			 * old one's leave): the table keeps one entry, and
			 * the round completes with either's HELLO. */
			DBG_WARNING("node %u has more than one clusterd in "
				    "the group\n", node->id);
		}
		node->member = true;
		node->pid = view[i].pid;
		if (view[i].nodeid == st->my_id) {
			st->in_view = true;
		}
	}
	for (size_t i = 0; i < st->ips->num; i++) {
		st->claims[i] = IP_ALLOC_NONE;
	}
	st->max_gen_seen = st->generation;
	st->round_open = true;
	return NT_STATUS_OK;
}

NTSTATUS cluster_state_make_hello(struct cluster_state *st,
				  TALLOC_CTX *mem_ctx, bool healthy,
				  bool stopped, const bool *held,
				  uint8_t **buf, size_t *len)
{
	struct clmsg_hello h = {
		.nodeid = st->my_id,
		.generation = st->committed ? st->generation : st->gen_floor,
		.healthy = healthy,
		.stopped = stopped,
		.ips_checksum = st->ips_checksum,
		.num_members = st->view_len,
		.members = st->view,
	};
	TALLOC_CTX *frame = talloc_new(mem_ctx);
	NTSTATUS status;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	h.claims = talloc_zero_array(frame, char *, st->ips->num + 1);
	if (h.claims == NULL) {
		TALLOC_FREE(frame);
		return NT_STATUS_NO_MEMORY;
	}
	/* Claim what is really configured here, not what the last view
	 * assigned us: a node that just gained quorum has taken nothing. */
	for (size_t i = 0; held != NULL && i < st->ips->num; i++) {
		if (held[i]) {
			h.claims[h.num_claims++] = st->ips->ips[i].addr;
		}
	}
	status = clmsg_hello_push(mem_ctx, &h, buf, len);
	TALLOC_FREE(frame);
	return status;
}

static size_t candidates(const struct cluster_state *st, uint32_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < st->num_nodes; i++) {
		const struct cluster_node *node = &st->nodes[i];
		if (node->member && node->healthy && !node->stopped) {
			out[n++] = node->id;
		}
	}
	return n;
}

static void recompute(struct cluster_state *st, const uint32_t *prev)
{
	uint32_t *cand = talloc_array(st, uint32_t, st->num_nodes + 1);
	size_t n, moved;

	if (cand == NULL) {
		/* Keep the old assignment; the next event retries. */
		DBG_ERR("out of memory computing the IP assignment\n");
		return;
	}
	n = candidates(st, cand);
	moved = ip_alloc_compute(st->ips->num, prev, cand, n, st->owner);
	DBG_INFO("assignment over %zu candidates, %zu IPs changed owner\n",
		 n, moved);
	TALLOC_FREE(cand);
}

/*
 * Recompute from the agreed assignment (a STATE changed the candidates).
 * A member that owned a moved IP must release it before the new owner
 * takes it; a member that gets back an IP it was releasing owes nothing.
 */
static void recompute_handover(struct cluster_state *st)
{
	uint32_t *before = talloc_memdup(st, st->owner,
					 (st->ips->num + 1) * sizeof(uint32_t));

	if (before == NULL) {
		DBG_ERR("out of memory computing the IP assignment\n");
		return;
	}
	recompute(st, before);
	st->handovers++;
	for (size_t i = 0; i < st->ips->num; i++) {
		struct cluster_node *old = NULL, *new = NULL;
		if (st->owner[i] == before[i]) {
			continue;
		}
		old = find_node(st, before[i]);
		if (old != NULL && old->member && !old->must_release[i]) {
			old->must_release[i] = true;
			old->release_seq[i] = (st->generation << 32) |
					      st->handovers;
		}
		new = find_node(st, st->owner[i]);
		if (new != NULL) {
			new->must_release[i] = false;
		}
	}
	TALLOC_FREE(before);
}

static bool view_equal(const struct cluster_state *st,
		       const struct clmsg_hello *h)
{
	if (h->num_members != st->view_len) {
		return false;
	}
	for (size_t i = 0; i < st->view_len; i++) {
		if (h->members[i].nodeid != st->view[i].nodeid ||
		    h->members[i].pid != st->view[i].pid) {
			return false;
		}
	}
	return true;
}

static bool view_has(const struct cluster_state *st, uint32_t nodeid,
		     uint32_t pid)
{
	for (size_t i = 0; i < st->view_len; i++) {
		if (st->view[i].nodeid == nodeid && st->view[i].pid == pid) {
			return true;
		}
	}
	return false;
}

static NTSTATUS deliver_hello(struct cluster_state *st, uint32_t nodeid,
			      uint32_t pid, const uint8_t *buf, size_t len,
			      bool *changed)
{
	struct clmsg_hello *h = NULL;
	struct cluster_node *node = NULL;
	NTSTATUS status;
	bool complete = true;

	status = clmsg_hello_pull(st, buf, len, &h);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("malformed HELLO from node %u pid %u: %s\n", nodeid,
			pid, nt_errstr(status));
		return status;
	}
	if (h->nodeid != nodeid) {
		DBG_ERR("HELLO from node %u claims to be node %u\n", nodeid,
			h->nodeid);
		TALLOC_FREE(h);
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!st->round_open || !view_equal(st, h)) {
		/* Sent for another view: its sender sends one for ours. */
		DBG_INFO("HELLO from node %u for another view dropped\n",
			 nodeid);
		TALLOC_FREE(h);
		return NT_STATUS_OK;
	}
	if (h->ips_checksum != st->ips_checksum) {
		DBG_ERR("node %u has a different public_addresses list "
			"(checksum %08x, ours %08x): the assignment will "
			"conflict\n", nodeid, h->ips_checksum,
			st->ips_checksum);
	}
	node = find_node(st, nodeid);
	if (node == NULL || !view_has(st, nodeid, pid)) {
		TALLOC_FREE(h);
		return NT_STATUS_INVALID_PARAMETER;
	}
	node->healthy = h->healthy;
	node->stopped = h->stopped;
	node->hello_seen = true;
	if (h->generation > st->max_gen_seen) {
		st->max_gen_seen = h->generation;
	}
	for (uint32_t i = 0; i < h->num_claims; i++) {
		int idx = public_ips_find(st->ips, h->claims[i]);
		if (idx < 0) {
			continue; /* logged through the checksum */
		}
		node->claimed[idx] = true;
		if (st->claims[idx] == IP_ALLOC_NONE ||
		    nodeid < st->claims[idx]) {
			st->claims[idx] = nodeid;
		}
	}
	TALLOC_FREE(h);

	for (size_t i = 0; i < st->num_nodes; i++) {
		if (st->nodes[i].member && !st->nodes[i].hello_seen) {
			complete = false;
		}
	}
	if (!complete) {
		return NT_STATUS_OK;
	}
	st->round_open = false;
	if (!st->in_view) {
		/* We left (or were never in): nothing to agree on. */
		return NT_STATUS_OK;
	}
	st->generation = st->max_gen_seen + 1;
	st->committed = true;
	st->handovers = 0;
	recompute(st, st->claims);
	/* Every member that has an IP it no longer owns releases it first;
	 * what departed members owed is forgotten with them. */
	for (size_t n = 0; n < st->num_nodes; n++) {
		struct cluster_node *x = &st->nodes[n];
		for (size_t i = 0; i < st->ips->num; i++) {
			bool owe = x->member && x->claimed[i] &&
				   st->owner[i] != x->id;
			x->release_seq[i] = owe ? st->generation << 32 : 0;
			x->must_release[i] = owe;
		}
	}
	DBG_NOTICE("generation %llu: %zu members, leader %u\n",
		   (unsigned long long)st->generation, st->view_len,
		   cluster_state_leader(st));
	*changed = true;
	return NT_STATUS_OK;
}

static NTSTATUS deliver_state(struct cluster_state *st, uint32_t nodeid,
			      uint32_t pid, const uint8_t *buf, size_t len,
			      bool *changed)
{
	struct clmsg_state s;
	struct cluster_node *node = NULL;
	NTSTATUS status;

	status = clmsg_state_pull(buf, len, &s);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("malformed STATE from node %u: %s\n", nodeid,
			nt_errstr(status));
		return status;
	}
	if (s.nodeid != nodeid) {
		DBG_ERR("STATE from node %u claims to be node %u\n", nodeid,
			s.nodeid);
		return NT_STATUS_INVALID_PARAMETER;
	}
	node = find_node(st, nodeid);
	if (node == NULL || !view_has(st, nodeid, pid)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (node->healthy == s.healthy && node->stopped == s.stopped) {
		return NT_STATUS_OK;
	}
	DBG_NOTICE("node %u is now %s%s\n", nodeid,
		   s.healthy ? "healthy" : "unhealthy",
		   s.stopped ? " (stopped)" : "");
	node->healthy = s.healthy;
	node->stopped = s.stopped;
	if (st->committed && !st->round_open) {
		recompute_handover(st);
	}
	/* During a round the commit uses the new health. */
	*changed = true;
	return NT_STATUS_OK;
}

static NTSTATUS deliver_released(struct cluster_state *st, uint32_t nodeid,
				 uint32_t pid, const uint8_t *buf, size_t len,
				 bool *changed)
{
	struct clmsg_released r;
	struct cluster_node *node = NULL;
	NTSTATUS status;
	int idx;

	status = clmsg_released_pull(st, buf, len, &r);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("malformed RELEASED from node %u: %s\n", nodeid,
			nt_errstr(status));
		return status;
	}
	idx = public_ips_find(st->ips, r.addr);
	TALLOC_FREE(r.addr);
	if (r.nodeid != nodeid) {
		DBG_ERR("RELEASED from node %u claims to be node %u\n",
			nodeid, r.nodeid);
		return NT_STATUS_INVALID_PARAMETER;
	}
	node = find_node(st, nodeid);
	if (node == NULL || !view_has(st, nodeid, pid) || idx < 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!node->must_release[idx] || node->release_seq[idx] != r.seq) {
		return NT_STATUS_OK; /* answers an earlier hand-over */
	}
	node->must_release[idx] = false;
	DBG_INFO("node %u released %s\n", nodeid, st->ips->ips[idx].addr);
	*changed = true;
	return NT_STATUS_OK;
}

NTSTATUS cluster_state_deliver(struct cluster_state *st, uint32_t nodeid,
			       uint32_t pid, const uint8_t *buf, size_t len,
			       bool *changed)
{
	*changed = false;
	switch (clmsg_type(buf, len)) {
	case REC_CLUSTERD_HELLO:
		return deliver_hello(st, nodeid, pid, buf, len, changed);
	case REC_CLUSTERD_STATE:
		return deliver_state(st, nodeid, pid, buf, len, changed);
	case REC_CLUSTERD_RELEASED:
		return deliver_released(st, nodeid, pid, buf, len, changed);
	default:
		DBG_ERR("unknown message (type %u, %zu bytes) from node %u\n",
			clmsg_type(buf, len), len, nodeid);
		return NT_STATUS_INVALID_PARAMETER;
	}
}

void cluster_state_set_quorate(struct cluster_state *st, bool quorate)
{
	st->quorate = quorate;
}

uint32_t cluster_state_leader(const struct cluster_state *st)
{
	if (!st->committed || !st->quorate || st->view_len == 0) {
		return 0;
	}
	return st->view[0].nodeid; /* view is sorted */
}

enum cluster_node_state cluster_state_node_state(const struct cluster_state *st,
						 const struct cluster_node *n)
{
	if (!n->member) {
		return CLUSTER_NODE_DISCONNECTED;
	}
	if (n->stopped) {
		return CLUSTER_NODE_STOPPED;
	}
	return n->healthy ? CLUSTER_NODE_OK : CLUSTER_NODE_UNHEALTHY;
}

bool cluster_state_should_hold(const struct cluster_state *st, size_t i)
{
	const struct cluster_node *me = NULL;

	if (i >= st->ips->num || !st->committed || !st->quorate ||
	    !st->in_view || st->owner[i] != st->my_id) {
		return false;
	}
	me = cluster_state_find(st, st->my_id);
	if (me == NULL || !me->member || !me->healthy || me->stopped) {
		return false;
	}
	for (size_t n = 0; n < st->num_nodes; n++) {
		const struct cluster_node *x = &st->nodes[n];
		if (x->id != st->my_id && x->member && x->must_release[i]) {
			return false; /* still configured over there */
		}
	}
	return true;
}

bool cluster_state_owes_release(const struct cluster_state *st, size_t i,
				uint64_t *seq)
{
	const struct cluster_node *me = cluster_state_find(st, st->my_id);

	if (me == NULL || i >= st->ips->num || !me->must_release[i]) {
		return false;
	}
	*seq = me->release_seq[i];
	return true;
}

NTSTATUS cluster_state_make_released(const struct cluster_state *st,
				     TALLOC_CTX *mem_ctx, size_t i,
				     uint64_t seq, uint8_t **buf, size_t *len)
{
	struct clmsg_released r = {
		.nodeid = st->my_id,
		.seq = seq,
	};

	if (i >= st->ips->num) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	r.addr = st->ips->ips[i].addr;
	return clmsg_released_push(mem_ctx, &r, buf, len);
}
