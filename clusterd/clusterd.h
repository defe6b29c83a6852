/*
 * clusterd: the daemon's shared context.  One per process, created in
 * clusterd.c and passed to every part (no globals).
 *
 * Reading order: clusterd.c (start-up, monitor loop, shutdown) ->
 * cluster_cpg.c (corosync CPG and cmap) and cluster_quorum.c
 * (votequorum) feed cluster_state.c -> ip_takeover.c applies the agreed
 * assignment with eventscript.c -> ctrl_server.c answers clusterctl.
 */
#ifndef CLUSTERD_CLUSTERD_H
#define CLUSTERD_CLUSTERD_H

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>
#include <tevent.h>

#include "clusterd/cluster_conf.h"
#include "clusterd/cluster_state.h"
#include "clusterd/public_ips.h"
#include "lib/util/ntstatus.h"

struct clusterd_cpg;
struct clusterd_quorum;
struct ip_takeover;
struct ctrl_server;
struct clusterd_monitor;
struct cluster_dbs;
struct messaging_context;
struct clmsg_member;
struct cluster_msgfwd;

struct clusterd {
	struct tevent_context *ev;
	struct cluster_conf *conf;
	struct public_ip_list *ips;
	struct cluster_state *st; /* NULL until CPG told us our node id */
	struct clusterd_cpg *cpg;
	struct clusterd_quorum *quorum;
	struct ip_takeover *takeover;
	struct ctrl_server *ctrl;
	struct tevent_queue *eventq; /* event scripts run one at a time */
	struct clusterd_monitor *mon;
	struct cluster_dbs *dbs; /* replicated databases (cluster_db.c) */
	struct messaging_context *msg; /* NULL without "messaging dir" */
	struct cluster_msgfwd *msgfwd; /* cross-node messaging, view file */

	/* What this node announces about itself (STATE, HELLO). */
	bool want_healthy; /* last monitor passed (false until the first) */
	bool want_stopped; /* clusterctl stop */
	bool take_failed;  /* a takeip failed: unhealthy until a monitor passes */

	uint64_t gen_saved; /* generation last written to the state dir */
	bool shutting_down; /* release everything, then leave */
	bool shutdown_event_started;
	int exit_code;
	bool done; /* leave the tevent loop */
};

/* The agreed table or assignment changed, or quorum did: apply it. */
void clusterd_state_changed(struct clusterd *cd);

/* Announce want_healthy/want_stopped through CPG (STATE). */
void clusterd_announce(struct clusterd *cd);

/* corosync went away or another fatal error: give up IPs and exit 1. */
void clusterd_fatal(struct clusterd *cd, const char *why);

/* ip_takeover.c finished a pass and has nothing more to do. */
void clusterd_takeover_idle(struct clusterd *cd);

/* --- cluster_cpg.c --- */
/* Connect, read our node id, create cd->st, join conf->cpg_group. */
NTSTATUS clusterd_cpg_start(struct clusterd *cd);
/* Queue a message for multicast in the group (kept in order, retried
 * while corosync says "try again"). */
NTSTATUS clusterd_cpg_send(struct clusterd *cd, uint8_t *buf, size_t len);
/* Reload the node list from cmap into cd->st. */
NTSTATUS clusterd_cmap_load_nodes(struct clusterd *cd);
void clusterd_cpg_stop(struct clusterd *cd);

/* Messages and bytes queued for corosync (flow control). */
size_t clusterd_cpg_backlog(struct clusterd *cd, size_t *bytes);

/* --- cluster_msgfwd.c (cross-node messaging) --- */
/* After messaging_init, before the first CPG dispatch. */
NTSTATUS cluster_msgfwd_start(struct clusterd *cd);
/* A CPG configuration change: rewrite (or remove) the view file. */
void cluster_msgfwd_confchg(struct clusterd *cd);
/* A REC_CLUSTERD_MSG delivered by CPG from (nodeid, pid). */
void cluster_msgfwd_deliver(struct clusterd *cd, uint32_t nodeid,
			    uint32_t pid, const uint8_t *buf, size_t len);
/* After every CPG event: hand on the messages held while this node's
 * replicas were out of sync, once they are in sync again. */
void cluster_msgfwd_release(struct clusterd *cd);

/* --- cluster_quorum.c --- */
NTSTATUS clusterd_quorum_start(struct clusterd *cd);

/* --- ip_takeover.c --- */
NTSTATUS ip_takeover_init(struct clusterd *cd);
/* Bring the held IPs in line with cluster_state_should_hold() (nothing
 * while shutting down).  Runs releaseip/takeip/ipreallocated through the
 * event queue; a call while a pass runs starts another pass after it. */
void ip_takeover_reconcile(struct clusterd *cd);
bool ip_takeover_held(const struct clusterd *cd, size_t i);
/* held[i] for every public IP (for HELLO), or NULL before init. */
const bool *ip_takeover_held_array(const struct clusterd *cd);
bool ip_takeover_busy(const struct clusterd *cd);
size_t ip_takeover_num_held(const struct clusterd *cd);

/* --- ctrl_server.c --- */
NTSTATUS ctrl_server_start(struct clusterd *cd);

/* --- cluster_db.c, cluster_db_sync.c (deliver, confchg) --- */
/* The registry of replicated databases and their client socket
 * (<run dir>/clusterd-db.sock).  Before the first CPG dispatch. */
NTSTATUS cluster_db_start(struct clusterd *cd);
/* A REC_CLUSTERD_DB_UPDATE or _SYNC_* delivered by CPG (every node). */
void cluster_db_deliver(struct clusterd *cd, uint32_t nodeid, uint32_t pid,
			const uint8_t *buf, size_t len);
/* A CPG view change (snapshot on join: an unsynced node asks again). */
void cluster_db_confchg(struct clusterd *cd,
			const struct clmsg_member *members, size_t n_members,
			const struct clmsg_member *joined, size_t n_joined);
size_t cluster_db_count(struct clusterd *cd);
/* Database i: its name and number of records (a walk of the replica). */
/* Whether this node's replicas are the cluster's (status). */
bool cluster_db_in_sync(struct clusterd *cd);
bool cluster_db_info(struct clusterd *cd, size_t i, const char **name,
		     uint64_t *records);

/* --- eventscript.c --- */
/*
 * Run every script of conf->event_script_dir for one event, in name
 * order: "NN.name" files that are executable (CTDB convention: chmod -x
 * disables one), each as "script EVENT ARGS..." with a timeout of
 * conf->event_timeout seconds (then its process group is killed).  Stops
 * at the first failure.  Queued behind other events (cd->eventq).
 * _recv: NT_STATUS_OK, NT_STATUS_UNSUCCESSFUL (a script failed),
 * NT_STATUS_IO_TIMEOUT (a script was killed).
 */
struct tevent_req *clusterd_event_send(TALLOC_CTX *mem_ctx,
				       struct clusterd *cd,
				       const char *event,
				       const char *const *args);
NTSTATUS clusterd_event_recv(struct tevent_req *req);

#endif
