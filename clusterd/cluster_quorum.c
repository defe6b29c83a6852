/*
 * votequorum for clusterd: this node's quorum, tracked through the
 * votequorum fd on tevent.  Quorum is a local view (a node cut off its
 * peers loses it on its own); cluster_state uses it to decide whether
 * this node may hold public IPs and whether it names a leader.
 */
#include <stdint.h>

#include <corosync/corotypes.h>
#include <corosync/votequorum.h>

#include "clusterd/clusterd.h"
#include "lib/util/debug.h"

struct clusterd_quorum {
	struct clusterd *cd;
	votequorum_handle_t handle;
	bool have_handle;
	struct tevent_fd *fde;
};

static void quorum_notify(votequorum_handle_t handle, uint64_t context,
			  uint32_t quorate, uint32_t n,
			  votequorum_node_t nodes[])
{
	struct clusterd_quorum *q = (struct clusterd_quorum *)(uintptr_t)context;
	struct clusterd *cd = q->cd;

	if (cd->st == NULL || cd->st->quorate == (quorate != 0)) {
		return;
	}
	DBG_NOTICE("quorum %s (%u nodes in votequorum's view)\n",
		   quorate ? "gained" : "lost", n);
	cluster_state_set_quorate(cd->st, quorate != 0);
	clusterd_state_changed(cd);
}

static void quorum_fd_handler(struct tevent_context *ev, struct tevent_fd *fde,
			      uint16_t flags, void *private_data)
{
	struct clusterd_quorum *q = private_data;
	cs_error_t err = votequorum_dispatch(q->handle, CS_DISPATCH_ALL);

	if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
		TALLOC_FREE(q->fde);
		if (q->cd->st != NULL) {
			cluster_state_set_quorate(q->cd->st, false);
		}
		clusterd_fatal(q->cd, "lost the connection to corosync "
				      "(votequorum)");
	}
}

static int quorum_destructor(struct clusterd_quorum *q)
{
	if (q->have_handle) {
		TALLOC_FREE(q->fde);
		votequorum_trackstop(q->handle);
		votequorum_finalize(q->handle);
		q->have_handle = false;
	}
	return 0;
}

NTSTATUS clusterd_quorum_start(struct clusterd *cd)
{
	struct clusterd_quorum *q = NULL;
	votequorum_callbacks_t cb = {
		.votequorum_quorum_notify_fn = quorum_notify,
	};
	struct votequorum_info info;
	int fd = -1;
	cs_error_t err;

	q = talloc_zero(cd, struct clusterd_quorum);
	if (q == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	q->cd = cd;
	err = votequorum_initialize(&q->handle, &cb);
	if (err != CS_OK) {
		DBG_ERR("votequorum_initialize: error %d (is the votequorum "
			"provider configured in corosync.conf?)\n", err);
		TALLOC_FREE(q);
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	q->have_handle = true;
	talloc_set_destructor(q, quorum_destructor);
	cd->quorum = q;

	/* The state now; CS_TRACK_CURRENT below repeats it through the
	 * callback, so a change between the two calls is not lost. */
	if (votequorum_getinfo(q->handle, cd->st->my_id, &info) == CS_OK) {
		cluster_state_set_quorate(cd->st,
			(info.flags & VOTEQUORUM_INFO_QUORATE) != 0);
	}
	err = votequorum_trackstart(q->handle, (uint64_t)(uintptr_t)q,
				    CS_TRACK_CURRENT | CS_TRACK_CHANGES);
	if (err != CS_OK || votequorum_fd_get(q->handle, &fd) != CS_OK) {
		DBG_ERR("votequorum_trackstart: error %d\n", err);
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	q->fde = tevent_add_fd(cd->ev, q, fd, TEVENT_FD_READ,
			       quorum_fd_handler, q);
	if (q->fde == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	DBG_NOTICE("quorum at start: %s\n",
		   cd->st->quorate ? "quorate" : "not quorate");
	return NT_STATUS_OK;
}
