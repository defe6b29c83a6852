/*
 * corosync CPG (membership + totally ordered messages) and cmap (the
 * configured node list) for clusterd.
 *
 * CPG delivers configuration changes and messages in one order, the same
 * on every member; this file hands both to cluster_state.c in exactly that
 * order and sends this node's HELLO after each change.  Sending can be
 * refused with CS_ERR_TRY_AGAIN (corosync's flow control, or a
 * configuration change in progress): messages then wait in a FIFO that a
 * timer retries, so this node's messages keep their order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <corosync/cmap.h>
#include <corosync/corotypes.h>
#include <corosync/cpg.h>

#include "clusterd/clusterd.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "lib/util/marshall.h"
#include "clusterd/cluster_msg.h"

struct cpg_out {
	struct cpg_out *prev, *next;
	uint8_t *buf;
	size_t len;
};

struct clusterd_cpg {
	struct clusterd *cd;
	cpg_handle_t handle;
	bool have_handle;
	struct cpg_name group;
	struct tevent_fd *fde;
	struct tevent_timer *retry;
	struct cpg_out *out;
	size_t num_out;
	size_t out_bytes;
};

/* Messages waiting for corosync.  Far more than a few membership rounds
 * and health changes produce: reaching it means corosync stopped taking
 * messages for good, and this node can no longer agree with the others. */
#define CPG_MAX_QUEUED 4096

static void cpg_flush(struct clusterd_cpg *c);

static void cpg_retry_timer(struct tevent_context *ev, struct tevent_timer *te,
			    struct timeval now, void *private_data)
{
	struct clusterd_cpg *c = private_data;

	c->retry = NULL;
	cpg_flush(c);
}

static void cpg_flush(struct clusterd_cpg *c)
{
	while (c->out != NULL) {
		struct cpg_out *o = c->out;
		struct iovec iov = { .iov_base = o->buf, .iov_len = o->len };
		cs_error_t err = cpg_mcast_joined(c->handle, CPG_TYPE_AGREED,
						  &iov, 1);
		if (err == CS_ERR_TRY_AGAIN) {
			if (c->retry == NULL) {
				c->retry = tevent_add_timer(
					c->cd->ev, c,
					tevent_timeval_current_ofs(0, 10000),
					cpg_retry_timer, c);
			}
			return;
		}
		DLIST_REMOVE(c->out, o);
		c->out_bytes -= o->len;
		TALLOC_FREE(o);
		c->num_out--;
		if (err != CS_OK) {
			clusterd_fatal(c->cd, "cpg_mcast_joined failed");
			return;
		}
	}
}

NTSTATUS clusterd_cpg_send(struct clusterd *cd, uint8_t *buf, size_t len)
{
	struct clusterd_cpg *c = cd->cpg;
	struct cpg_out *o = NULL;

	if (c == NULL || !c->have_handle) {
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	if (c->num_out >= CPG_MAX_QUEUED) {
		clusterd_fatal(cd, "corosync takes no more messages");
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	}
	o = talloc_zero(c, struct cpg_out);
	if (o == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	o->buf = talloc_move(o, &buf);
	o->len = len;
	DLIST_ADD_END(c->out, o);
	c->num_out++;
	c->out_bytes += len;
	if (c->retry == NULL) {
		cpg_flush(c);
	}
	return NT_STATUS_OK;
}

size_t clusterd_cpg_backlog(struct clusterd *cd, size_t *bytes)
{
	struct clusterd_cpg *c = cd->cpg;

	*bytes = c != NULL ? c->out_bytes : 0;
	return c != NULL ? c->num_out : 0;
}

static struct clusterd_cpg *cpg_from_handle(cpg_handle_t handle)
{
	void *ctx = NULL;

	if (cpg_context_get(handle, &ctx) != CS_OK) {
		return NULL;
	}
	return ctx;
}

static void cpg_deliver(cpg_handle_t handle, const struct cpg_name *group,
			uint32_t nodeid, uint32_t pid, void *msg, size_t len)
{
	struct clusterd_cpg *c = cpg_from_handle(handle);
	bool changed = false;

	if (c == NULL || c->cd->st == NULL) {
		return;
	}
	switch (clmsg_type(msg, len)) {
	case REC_CLUSTERD_DB_SYNC_STATE:
	case REC_CLUSTERD_DB_UPDATE:
	case REC_CLUSTERD_DB_VACUUM:
	case REC_CLUSTERD_DB_SYNC_REQ:
	case REC_CLUSTERD_DB_SYNC_DATA:
	case REC_CLUSTERD_DB_SYNC_DONE:
		cluster_db_deliver(c->cd, nodeid, pid, msg, len);
		cluster_msgfwd_release(c->cd);
		return;
	case REC_CLUSTERD_MSG:
		cluster_msgfwd_deliver(c->cd, nodeid, pid, msg, len);
		return;
	default:
		break;
	}
	/* Errors are logged by the state machine; the message is dropped. */
	cluster_state_deliver(c->cd->st, nodeid, pid, msg, len, &changed);
	if (changed) {
		clusterd_state_changed(c->cd);
	}
}

static void cpg_confchg(cpg_handle_t handle, const struct cpg_name *group,
			const struct cpg_address *members, size_t n_members,
			const struct cpg_address *left, size_t n_left,
			const struct cpg_address *joined, size_t n_joined)
{
	struct clusterd_cpg *c = cpg_from_handle(handle);
	struct clusterd *cd = NULL;
	struct clmsg_member m[CLMSG_MAX_MEMBERS];
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	if (c == NULL || c->cd->st == NULL) {
		return;
	}
	cd = c->cd;
	if (n_members > CLMSG_MAX_MEMBERS) {
		clusterd_fatal(cd, "more CPG members than supported");
		return;
	}
	for (size_t i = 0; i < n_left; i++) {
		DBG_NOTICE("node %u (pid %u) left the group (reason %u)\n",
			   left[i].nodeid, left[i].pid, left[i].reason);
	}
	for (size_t i = 0; i < n_joined; i++) {
		DBG_NOTICE("node %u (pid %u) joined the group\n",
			   joined[i].nodeid, joined[i].pid);
	}
	for (size_t i = 0; i < n_members; i++) {
		m[i].nodeid = members[i].nodeid;
		m[i].pid = members[i].pid;
	}
	/* A node that appears may be new to the configuration too. */
	if (n_joined > 0) {
		clusterd_cmap_load_nodes(cd);
	}
	status = cluster_state_confchg(cd->st, m, n_members);
	if (!NT_STATUS_IS_OK(status)) {
		clusterd_fatal(cd, "cannot record the CPG view");
		return;
	}
	/* the view file (remote liveness) follows the view at once */
	cluster_msgfwd_confchg(cd);
	if (!cd->st->in_view) {
		return; /* we left */
	}
	{
		struct clmsg_member jm[CLMSG_MAX_MEMBERS];
		size_t nj = n_joined < CLMSG_MAX_MEMBERS ? n_joined
							 : CLMSG_MAX_MEMBERS;
		for (size_t i = 0; i < nj; i++) {
			jm[i].nodeid = joined[i].nodeid;
			jm[i].pid = joined[i].pid;
		}
		cluster_db_confchg(cd, m, n_members, jm, nj);
		cluster_msgfwd_release(cd);
	}
	status = cluster_state_make_hello(cd->st, cd,
					  cd->want_healthy && !cd->take_failed,
					  cd->want_stopped,
					  ip_takeover_held_array(cd), &buf,
					  &len);
	if (NT_STATUS_IS_OK(status)) {
		status = clusterd_cpg_send(cd, buf, len);
	}
	if (!NT_STATUS_IS_OK(status)) {
		clusterd_fatal(cd, "cannot send HELLO");
		return;
	}
	/* Quorum and view changed together: the table shows the new view. */
	clusterd_state_changed(cd);
}

static void cpg_fd_handler(struct tevent_context *ev, struct tevent_fd *fde,
			   uint16_t flags, void *private_data)
{
	struct clusterd_cpg *c = private_data;
	cs_error_t err = cpg_dispatch(c->handle, CS_DISPATCH_ALL);

	if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
		TALLOC_FREE(c->fde);
		clusterd_fatal(c->cd, "lost the connection to corosync (CPG)");
	}
}

static int cpg_destructor(struct clusterd_cpg *c)
{
	if (c->have_handle) {
		TALLOC_FREE(c->fde);
		cpg_leave(c->handle, &c->group);
		cpg_finalize(c->handle);
		c->have_handle = false;
	}
	return 0;
}

void clusterd_cpg_stop(struct clusterd *cd)
{
	TALLOC_FREE(cd->cpg);
}

NTSTATUS clusterd_cmap_load_nodes(struct clusterd *cd)
{
	cmap_handle_t h;
	cmap_iter_handle_t it;
	char key[CMAP_KEYNAME_MAXLEN + 1];
	size_t vlen;
	cmap_value_types_t type;
	cs_error_t err;

	if (cd->st == NULL) {
		return NT_STATUS_INVALID_DEVICE_STATE;
	}
	err = cmap_initialize(&h);
	if (err != CS_OK) {
		DBG_ERR("cmap_initialize: error %d\n", err);
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	err = cmap_iter_init(h, "nodelist.node.", &it);
	if (err != CS_OK) {
		cmap_finalize(h);
		return NT_STATUS_NOT_FOUND;
	}
	while (cmap_iter_next(h, it, key, &vlen, &type) == CS_OK) {
		unsigned idx;
		int consumed = 0;
		char sub[64], addrkey[CMAP_KEYNAME_MAXLEN + 1];
		uint32_t nodeid = 0;
		char *addr = NULL;

		/* only "nodelist.node.<i>.nodeid" */
		if (sscanf(key, "nodelist.node.%u.%63s%n", &idx, sub,
			   &consumed) != 2 ||
		    (size_t)consumed != strlen(key) ||
		    strcmp(sub, "nodeid") != 0) {
			continue;
		}
		if (cmap_get_uint32(h, key, &nodeid) != CS_OK || nodeid == 0) {
			DBG_WARNING("cmap: %s is not a node id\n", key);
			continue;
		}
		snprintf(addrkey, sizeof(addrkey), "nodelist.node.%u.ring0_addr",
			 idx);
		if (cmap_get_string(h, addrkey, &addr) != CS_OK) {
			addr = NULL;
		}
		cluster_state_set_configured(cd->st, nodeid, addr);
		free(addr); /* cmap allocates with malloc */
	}
	cmap_iter_finalize(h, it);
	cmap_finalize(h);
	return NT_STATUS_OK;
}

NTSTATUS clusterd_cpg_start(struct clusterd *cd)
{
	struct clusterd_cpg *c = NULL;
	cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = cpg_deliver,
		.cpg_confchg_fn = cpg_confchg,
	};
	unsigned int my_id = 0;
	int fd = -1;
	cs_error_t err;

	c = talloc_zero(cd, struct clusterd_cpg);
	if (c == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	c->cd = cd;
	err = cpg_model_initialize(&c->handle, CPG_MODEL_V1,
				   (cpg_model_data_t *)&model, c);
	if (err != CS_OK) {
		DBG_ERR("cannot connect to corosync (cpg_model_initialize: "
			"error %d): is corosync running?\n", err);
		TALLOC_FREE(c);
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	c->have_handle = true;
	talloc_set_destructor(c, cpg_destructor);
	cd->cpg = c;

	if (cpg_local_get(c->handle, &my_id) != CS_OK || my_id == 0) {
		DBG_ERR("cpg_local_get failed\n");
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	cd->st = cluster_state_new(cd, my_id, cd->ips);
	if (cd->st == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (!NT_STATUS_IS_OK(clusterd_cmap_load_nodes(cd))) {
		DBG_WARNING("no node list in cmap: nodes are known only "
			    "while they are members\n");
	}

	c->group.length = strlen(cd->conf->cpg_group);
	memcpy(c->group.value, cd->conf->cpg_group, c->group.length);
	for (int tries = 0;; tries++) {
		err = cpg_join(c->handle, &c->group);
		if (err != CS_ERR_TRY_AGAIN || tries > 100) {
			break;
		}
		usleep(50000); /* start-up only: corosync is forming a ring */
	}
	if (err != CS_OK) {
		DBG_ERR("cpg_join(%s): error %d\n", cd->conf->cpg_group, err);
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	if (cpg_fd_get(c->handle, &fd) != CS_OK) {
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	c->fde = tevent_add_fd(cd->ev, c, fd, TEVENT_FD_READ, cpg_fd_handler,
			       c);
	if (c->fde == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	DBG_NOTICE("node %u joined CPG group %s\n", my_id,
		   cd->conf->cpg_group);
	return NT_STATUS_OK;
}
