/*
 * clusterd: one per node.  Joins the corosync CPG group, agrees with the
 * other clusterds on membership, generation and the public IP assignment
 * (cluster_state.c), applies its share of the assignment with event
 * scripts (ip_takeover.c), watches its own health with the "monitor"
 * event, and answers clusterctl on its control socket.
 *
 *   clusterd [-c cluster.conf] [-F] [-d level]
 *
 * -F stays in the foreground (logging to stderr unless "log file" is
 * set); without it clusterd detaches after reading its configuration.
 *
 * This file: start-up, the monitor loop, announcing our state, shutdown.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clusterd/clusterd.h"
#include "lib/util/debug.h"
#include "messaging/messaging.h"

#define CONNECT_WAIT 30 /* seconds to wait for corosync at start */

/* ---- announcing our own state ---------------------------------------- */

void clusterd_announce(struct clusterd *cd)
{
	struct clmsg_state s = {
		.nodeid = cd->st != NULL ? cd->st->my_id : 0,
		.healthy = cd->want_healthy && !cd->take_failed &&
			   !cd->shutting_down,
		.stopped = cd->want_stopped || cd->shutting_down,
	};
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	if (cd->st == NULL || !cd->st->in_view || cd->cpg == NULL) {
		return; /* the next HELLO carries it */
	}
	status = clmsg_state_push(cd, &s, &buf, &len);
	if (NT_STATUS_IS_OK(status)) {
		status = clusterd_cpg_send(cd, buf, len);
	}
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("cannot announce our state: %s\n", nt_errstr(status));
	}
}

/* <state dir>/generation: one decimal number, written on every new
 * generation (tmp + rename), read at start. */
static void generation_save(struct clusterd *cd)
{
	char *path = NULL, *tmp = NULL;
	FILE *f = NULL;
	bool ok;

	if (cd->st == NULL || !cd->st->committed ||
	    cd->st->generation == cd->gen_saved) {
		return;
	}
	path = talloc_asprintf(cd, "%s/generation", cd->conf->state_dir);
	tmp = talloc_asprintf(cd, "%s/generation.tmp", cd->conf->state_dir);
	if (path == NULL || tmp == NULL) {
		goto out;
	}
	f = fopen(tmp, "w");
	if (f == NULL) {
		DBG_ERR("%s: %s\n", tmp, strerror(errno));
		goto out;
	}
	ok = fprintf(f, "%llu\n", (unsigned long long)cd->st->generation) > 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		DBG_ERR("cannot write %s: %s\n", path, strerror(errno));
		goto out;
	}
	cd->gen_saved = cd->st->generation;
out:
	TALLOC_FREE(path);
	TALLOC_FREE(tmp);
}

static void generation_load(struct clusterd *cd)
{
	char *path = talloc_asprintf(cd, "%s/generation", cd->conf->state_dir);
	unsigned long long g = 0;
	FILE *f = path != NULL ? fopen(path, "r") : NULL;

	if (f != NULL) {
		if (fscanf(f, "%llu", &g) == 1) {
			cd->st->gen_floor = g;
			cd->gen_saved = g;
		}
		fclose(f);
	}
	TALLOC_FREE(path);
}

void clusterd_state_changed(struct clusterd *cd)
{
	generation_save(cd);
	ip_takeover_reconcile(cd);
}

/* ---- monitor ----------------------------------------------------------- */

/*
 * The "startup" event runs once (retried every monitor interval until it
 * passes); then "monitor" runs every interval (every second while it
 * fails).  A node is unhealthy until its first monitor passes, so it
 * takes no IP before its services work.
 */
struct clusterd_monitor {
	struct clusterd *cd;
	struct tevent_timer *timer;
	bool started_up;
	bool running;
};

static void monitor_timer(struct tevent_context *ev, struct tevent_timer *te,
			  struct timeval now, void *private_data);
static void monitor_done(struct tevent_req *subreq);

static void monitor_schedule(struct clusterd_monitor *m, unsigned secs)
{
	TALLOC_FREE(m->timer);
	m->timer = tevent_add_timer(m->cd->ev, m,
				    tevent_timeval_current_ofs(secs, 0),
				    monitor_timer, m);
	if (m->timer == NULL) {
		clusterd_fatal(m->cd, "out of memory for the monitor timer");
	}
}

static void monitor_timer(struct tevent_context *ev, struct tevent_timer *te,
			  struct timeval now, void *private_data)
{
	struct clusterd_monitor *m = private_data;
	struct tevent_req *subreq = NULL;

	m->timer = NULL;
	if (m->running || m->cd->shutting_down) {
		return;
	}
	subreq = clusterd_event_send(m, m->cd,
				     m->started_up ? "monitor" : "startup",
				     NULL);
	if (subreq == NULL) {
		monitor_schedule(m, m->cd->conf->monitor_interval);
		return;
	}
	m->running = true;
	tevent_req_set_callback(subreq, monitor_done, m);
}

static void monitor_done(struct tevent_req *subreq)
{
	struct clusterd_monitor *m = tevent_req_callback_data(
		subreq, struct clusterd_monitor);
	struct clusterd *cd = m->cd;
	NTSTATUS status = clusterd_event_recv(subreq);
	bool ok = NT_STATUS_IS_OK(status);
	bool was = cd->want_healthy && !cd->take_failed;

	TALLOC_FREE(subreq);
	m->running = false;
	if (cd->shutting_down) {
		return;
	}
	if (!m->started_up) {
		if (!ok) {
			DBG_ERR("startup event failed (%s); retrying in %u s\n",
				nt_errstr(status), cd->conf->monitor_interval);
			monitor_schedule(m, cd->conf->monitor_interval);
			return;
		}
		m->started_up = true;
		monitor_schedule(m, 0); /* first monitor at once */
		return;
	}
	cd->want_healthy = ok;
	if (ok) {
		cd->take_failed = false;
	}
	if (was != ok) {
		DBG_NOTICE("monitor %s: this node is now %s\n",
			   ok ? "passed" : "failed",
			   ok ? "healthy" : "unhealthy");
		clusterd_announce(cd);
	}
	/* A failing node is looked at again after a second: it comes back
	 * (and takes IPs) as soon as its services do, not a full interval
	 * later.  Going unhealthy needs only one failure anyway. */
	monitor_schedule(m, ok ? cd->conf->monitor_interval : 1);
}

static NTSTATUS monitor_start(struct clusterd *cd)
{
	struct clusterd_monitor *m = talloc_zero(cd, struct clusterd_monitor);

	if (m == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	m->cd = cd;
	cd->mon = m;
	monitor_schedule(m, 0);
	return NT_STATUS_OK;
}

/* ---- shutdown ------------------------------------------------------------ */

/*
 * SIGTERM, or corosync gone: tell the others we stop (they move our IPs
 * at once instead of waiting for our leave), release every IP we hold,
 * run the "shutdown" event, then leave the loop.  A timer bounds it all.
 */
static void shutdown_event_done(struct tevent_req *subreq)
{
	struct clusterd *cd = tevent_req_callback_data(subreq,
						       struct clusterd);
	NTSTATUS status = clusterd_event_recv(subreq);

	TALLOC_FREE(subreq);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_WARNING("shutdown event: %s\n", nt_errstr(status));
	}
	cd->done = true;
}

void clusterd_takeover_idle(struct clusterd *cd)
{
	static const char *const no_args[] = { NULL };
	struct tevent_req *subreq = NULL;

	if (!cd->shutting_down || ip_takeover_num_held(cd) > 0 ||
	    cd->shutdown_event_started) {
		return;
	}
	cd->shutdown_event_started = true;
	if (cd->mon != NULL) {
		/* no more monitors; a running one is cancelled */
		TALLOC_FREE(cd->mon);
	}
	subreq = clusterd_event_send(cd, cd, "shutdown", no_args);
	if (subreq == NULL) {
		cd->done = true;
		return;
	}
	tevent_req_set_callback(subreq, shutdown_event_done, cd);
}

static void shutdown_deadline(struct tevent_context *ev,
			      struct tevent_timer *te, struct timeval now,
			      void *private_data)
{
	struct clusterd *cd = private_data;

	DBG_ERR("shutdown did not finish in time, exiting anyway\n");
	cd->done = true;
}

static void begin_shutdown(struct clusterd *cd)
{
	unsigned limit;

	if (cd->shutting_down) {
		return;
	}
	cd->shutting_down = true;
	clusterd_announce(cd); /* "stopped": the others take our IPs now */
	/* every release and the shutdown event may use a full timeout */
	limit = cd->conf->event_timeout * (ip_takeover_num_held(cd) + 2) + 5;
	tevent_add_timer(cd->ev, cd, tevent_timeval_current_ofs(limit, 0),
			 shutdown_deadline, cd);
	if (ip_takeover_busy(cd)) {
		ip_takeover_reconcile(cd); /* one more pass releases all */
	} else if (ip_takeover_num_held(cd) > 0) {
		ip_takeover_reconcile(cd);
	} else {
		clusterd_takeover_idle(cd);
	}
}

void clusterd_fatal(struct clusterd *cd, const char *why)
{
	DBG_ERR("%s: releasing public IPs and exiting\n", why);
	cd->exit_code = 1;
	if (cd->st != NULL) {
		cluster_state_set_quorate(cd->st, false);
	}
	begin_shutdown(cd);
}

static void sig_term(struct tevent_context *ev, struct tevent_signal *se,
		     int signum, int count, void *siginfo, void *private_data)
{
	struct clusterd *cd = private_data;

	DBG_NOTICE("signal %d: shutting down\n", signum);
	begin_shutdown(cd);
}

/* ---- start-up ------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f, "usage: clusterd [-c cluster.conf] [-F] [-d level]\n"
		   "  -c FILE   configuration (default %s)\n"
		   "  -F        stay in the foreground\n"
		   "  -d LEVEL  log level (overrides the file)\n",
		cluster_conf_default_path());
}

static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
				return -1;
			}
			*p = '/';
		}
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf_path = cluster_conf_default_path();
	bool foreground = false;
	int level = -1;
	struct clusterd *cd = NULL;
	char *err = NULL;
	NTSTATUS status;
	int opt;

	while ((opt = getopt(argc, argv, "c:Fd:h")) != -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			break;
		case 'F':
			foreground = true;
			break;
		case 'd':
			level = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	cd = talloc_zero(NULL, struct clusterd);
	if (cd == NULL) {
		return 1;
	}
	status = cluster_conf_load(cd, conf_path, &cd->conf, &err);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "clusterd: %s\n", err != NULL ? err : nt_errstr(status));
		return 2;
	}
	debug_set_prefix("clusterd");
	debug_set_level(level >= 0 ? level : cd->conf->log_level);
	if (cd->conf->log_file != NULL && cd->conf->log_file[0] != '\0' &&
	    !debug_set_logfile(cd->conf->log_file)) {
		fprintf(stderr, "clusterd: cannot open log file %s\n",
			cd->conf->log_file);
		return 2;
	}
	status = public_ips_load(cd, cd->conf->public_addresses, &cd->ips, &err);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("%s\n", err != NULL ? err : nt_errstr(status));
		return 2;
	}
	if (mkdir_p(cd->conf->run_dir) != 0 || mkdir_p(cd->conf->state_dir) != 0) {
		DBG_ERR("cannot create %s or %s: %s\n", cd->conf->run_dir,
			cd->conf->state_dir, strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	/* Detach before connecting to corosync: CPG knows us by our pid. */
	if (!foreground && daemon(0, cd->conf->log_file != NULL &&
				      cd->conf->log_file[0] != '\0' ? 0 : 1) != 0) {
		DBG_ERR("daemon: %s\n", strerror(errno));
		return 1;
	}

	cd->ev = tevent_context_init(cd);
	cd->eventq = cd->ev != NULL ? tevent_queue_create(cd, "events") : NULL;
	if (cd->eventq == NULL) {
		DBG_ERR("out of memory\n");
		return 1;
	}

	/*
	 * corosync may still be starting (started together by a service
	 * manager): try for CONNECT_WAIT seconds.  SIGTERM keeps its default
	 * action meanwhile, as nothing is held yet.
	 */
	for (int waited = 0;; waited++) {
		status = clusterd_cpg_start(cd);
		if (NT_STATUS_IS_OK(status) ||
		    !NT_STATUS_EQUAL(status, NT_STATUS_CONNECTION_DISCONNECTED) ||
		    waited >= CONNECT_WAIT) {
			break;
		}
		if (waited == 0) {
			DBG_WARNING("corosync does not answer yet; waiting up "
				    "to %d s\n", CONNECT_WAIT);
		}
		clusterd_cpg_stop(cd);
		TALLOC_FREE(cd->st);
		sleep(1);
	}
	if (tevent_add_signal(cd->ev, cd, SIGTERM, 0, sig_term, cd) == NULL ||
	    tevent_add_signal(cd->ev, cd, SIGINT, 0, sig_term, cd) == NULL) {
		DBG_ERR("cannot set up signal handlers\n");
		return 1;
	}
	if (NT_STATUS_IS_OK(status)) {
		generation_load(cd); /* before the first dispatch sends HELLO */
		status = clusterd_quorum_start(cd);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = ip_takeover_init(cd);
	}
	if (NT_STATUS_IS_OK(status) && cd->conf->messaging_dir != NULL &&
	    cd->conf->messaging_dir[0] != '\0') {
		/* To wake local watchers of replicated records and to hand
		 * on messages from other nodes: with this node's cluster
		 * (corosync) id, as clustered smbd processes use. */
		cd->msg = messaging_init(cd, cd->ev, cd->conf->messaging_dir,
					 cd->st->my_id);
		if (cd->msg == NULL) {
			status = NT_STATUS_UNSUCCESSFUL;
		}
	}
	if (NT_STATUS_IS_OK(status)) {
		status = cluster_msgfwd_start(cd);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = cluster_db_start(cd);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = ctrl_server_start(cd);
	}
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("start-up failed: %s\n", nt_errstr(status));
		TALLOC_FREE(cd);
		return 1;
	}
	DBG_NOTICE("clusterd started: node %u, %zu public addresses, "
		   "control socket %s\n", cd->st->my_id, cd->ips->num,
		   cd->conf->socket_path);
	status = monitor_start(cd);
	if (!NT_STATUS_IS_OK(status)) {
		return 1;
	}

	while (!cd->done) {
		if (tevent_loop_once(cd->ev) != 0) {
			DBG_ERR("tevent_loop_once: %s\n", strerror(errno));
			cd->exit_code = 1;
			break;
		}
	}
	DBG_NOTICE("clusterd exits (%d)\n", cd->exit_code);
	{
		int rc = cd->exit_code;
		/* leave the group before the control socket disappears */
		clusterd_cpg_stop(cd);
		TALLOC_FREE(cd);
		return rc;
	}
}
