/*
 * Applying the agreed IP assignment on this node: releaseip for IPs we
 * hold but should not, then takeip for IPs we should hold but do not, then
 * ipreallocated if anything changed, then RELEASED for every IP that
 * moved away from us (its new owner waits for it before takeip, so an
 * address is never configured on two live nodes at once).
 *
 * One pass runs at a time; "should I hold IP i" is asked again before
 * each step, so a change during a pass is picked up by the pass itself,
 * and a request arriving meanwhile starts one more pass at the end.
 */
#include <stdio.h>

#include "clusterd/clusterd.h"
#include "clusterd/ip_alloc.h"
#include "lib/util/debug.h"

struct ip_takeover {
	struct clusterd *cd;
	bool *held;
	bool *tried; /* in this pass: failed steps are not retried */
	bool busy;
	bool again;
	bool changed; /* in this pass: run ipreallocated */
	size_t idx;
	bool taking;
	const char **args;
	uint64_t *released_sent; /* seq of the last RELEASED sent */
	bool *released_any;	 /* released_sent[i] is valid */
};

static void takeover_step(struct ip_takeover *t);
static void takeover_step_done(struct tevent_req *subreq);
static void takeover_reallocated_done(struct tevent_req *subreq);

NTSTATUS ip_takeover_init(struct clusterd *cd)
{
	struct ip_takeover *t = talloc_zero(cd, struct ip_takeover);

	if (t == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	t->cd = cd;
	t->held = talloc_zero_array(t, bool, cd->ips->num + 1);
	t->tried = talloc_zero_array(t, bool, cd->ips->num + 1);
	t->released_sent = talloc_zero_array(t, uint64_t, cd->ips->num + 1);
	t->released_any = talloc_zero_array(t, bool, cd->ips->num + 1);
	if (t->held == NULL || t->tried == NULL || t->released_sent == NULL ||
	    t->released_any == NULL) {
		TALLOC_FREE(t);
		return NT_STATUS_NO_MEMORY;
	}
	cd->takeover = t;
	return NT_STATUS_OK;
}

bool ip_takeover_held(const struct clusterd *cd, size_t i)
{
	return cd->takeover != NULL && i < cd->ips->num &&
	       cd->takeover->held[i];
}

const bool *ip_takeover_held_array(const struct clusterd *cd)
{
	return cd->takeover != NULL ? cd->takeover->held : NULL;
}

bool ip_takeover_busy(const struct clusterd *cd)
{
	return cd->takeover != NULL && cd->takeover->busy;
}

size_t ip_takeover_num_held(const struct clusterd *cd)
{
	size_t n = 0;

	for (size_t i = 0; cd->takeover != NULL && i < cd->ips->num; i++) {
		n += cd->takeover->held[i];
	}
	return n;
}

static bool want(const struct clusterd *cd, size_t i)
{
	return !cd->shutting_down && cd->st != NULL &&
	       cluster_state_should_hold(cd->st, i);
}

/*
 * While a membership round is open the assignment is the previous view's:
 * taking by it could grab an IP that a node of the new view holds, and
 * releasing by it would drop IPs that the round will most likely leave
 * where they are.  So nothing moves until the round commits, unless we
 * lost quorum or are shutting down (then everything goes).
 */
static bool frozen(const struct clusterd *cd)
{
	return !cd->shutting_down && cd->st != NULL && cd->st->round_open &&
	       cd->st->quorate;
}

void ip_takeover_reconcile(struct clusterd *cd)
{
	struct ip_takeover *t = cd->takeover;

	if (t == NULL) {
		return;
	}
	if (t->busy) {
		t->again = true;
		return;
	}
	t->busy = true;
	t->again = false;
	t->changed = false;
	for (size_t i = 0; i < cd->ips->num; i++) {
		t->tried[i] = false;
	}
	takeover_step(t);
}

/*
 * Tell the cluster about every moved-away IP that is gone from here: its
 * new owner waits for that.  Sent once per hand-over (seq).
 */
static void send_releases(struct ip_takeover *t)
{
	struct clusterd *cd = t->cd;

	for (size_t i = 0; cd->st != NULL && i < cd->ips->num; i++) {
		uint64_t seq = 0;
		uint8_t *buf = NULL;
		size_t len = 0;
		NTSTATUS status;

		if (t->held[i] || !cluster_state_owes_release(cd->st, i, &seq) ||
		    (t->released_any[i] && t->released_sent[i] == seq)) {
			continue;
		}
		status = cluster_state_make_released(cd->st, t, i, seq, &buf,
						     &len);
		if (NT_STATUS_IS_OK(status)) {
			status = clusterd_cpg_send(cd, buf, len);
		}
		if (!NT_STATUS_IS_OK(status)) {
			DBG_ERR("cannot send RELEASED for %s: %s\n",
				cd->ips->ips[i].addr, nt_errstr(status));
			continue; /* the next pass tries again */
		}
		t->released_sent[i] = seq;
		t->released_any[i] = true;
	}
}

static void takeover_finish(struct ip_takeover *t)
{
	struct clusterd *cd = t->cd;

	send_releases(t);
	t->busy = false;
	if (t->again) {
		ip_takeover_reconcile(cd);
		return;
	}
	clusterd_takeover_idle(cd);
}

static void takeover_step(struct ip_takeover *t)
{
	struct clusterd *cd = t->cd;
	const struct public_ip *ip = NULL;
	struct tevent_req *subreq = NULL;
	bool found = false;

	if (frozen(cd)) {
		takeover_finish(t); /* the commit calls us again */
		return;
	}
	/* releases first, then takes */
	for (size_t i = 0; i < cd->ips->num && !found; i++) {
		if (t->held[i] && !want(cd, i) && !t->tried[i]) {
			t->idx = i;
			t->taking = false;
			found = true;
		}
	}
	for (size_t i = 0; i < cd->ips->num && !found; i++) {
		if (!t->held[i] && want(cd, i) && !t->tried[i]) {
			t->idx = i;
			t->taking = true;
			found = true;
		}
	}
	if (!found) {
		if (!t->changed) {
			takeover_finish(t);
			return;
		}
		subreq = clusterd_event_send(t, cd, "ipreallocated", NULL);
		if (subreq == NULL) {
			DBG_ERR("out of memory for ipreallocated\n");
			takeover_finish(t);
			return;
		}
		tevent_req_set_callback(subreq, takeover_reallocated_done, t);
		return;
	}

	ip = &cd->ips->ips[t->idx];
	t->tried[t->idx] = true;
	TALLOC_FREE(t->args);
	t->args = talloc_zero_array(t, const char *, 4);
	if (t->args != NULL) {
		t->args[0] = ip->iface;
		t->args[1] = ip->addr;
		t->args[2] = talloc_asprintf(t->args, "%u", ip->prefix);
	}
	if (t->args == NULL || t->args[2] == NULL) {
		DBG_ERR("out of memory for %s\n", ip->addr);
		takeover_finish(t);
		return;
	}
	DBG_NOTICE("%s %s/%u on %s\n", t->taking ? "taking" : "releasing",
		   ip->addr, ip->prefix, ip->iface);
	subreq = clusterd_event_send(t, cd, t->taking ? "takeip" : "releaseip",
				     t->args);
	if (subreq == NULL) {
		DBG_ERR("out of memory for takeip/releaseip\n");
		takeover_finish(t);
		return;
	}
	tevent_req_set_callback(subreq, takeover_step_done, t);
}

static void takeover_step_done(struct tevent_req *subreq)
{
	struct ip_takeover *t = tevent_req_callback_data(subreq,
							 struct ip_takeover);
	struct clusterd *cd = t->cd;
	const struct public_ip *ip = &cd->ips->ips[t->idx];
	NTSTATUS status = clusterd_event_recv(subreq);

	TALLOC_FREE(subreq);
	t->changed = true;
	if (t->taking) {
		t->held[t->idx] = NT_STATUS_IS_OK(status);
		if (!NT_STATUS_IS_OK(status)) {
			/* Give the cluster a chance to place it elsewhere:
			 * unhealthy until the next monitor passes. */
			DBG_ERR("takeip %s failed (%s): this node turns "
				"unhealthy\n", ip->addr, nt_errstr(status));
			cd->take_failed = true;
			clusterd_announce(cd);
		}
	} else {
		/* A failed release cannot be undone: we no longer count it
		 * as ours, and the log says so. */
		if (!NT_STATUS_IS_OK(status)) {
			DBG_ERR("releaseip %s failed (%s)\n", ip->addr,
				nt_errstr(status));
		}
		t->held[t->idx] = false;
	}
	takeover_step(t);
}

static void takeover_reallocated_done(struct tevent_req *subreq)
{
	struct ip_takeover *t = tevent_req_callback_data(subreq,
							 struct ip_takeover);
	NTSTATUS status = clusterd_event_recv(subreq);

	TALLOC_FREE(subreq);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_WARNING("ipreallocated: %s\n", nt_errstr(status));
	}
	takeover_finish(t);
}
