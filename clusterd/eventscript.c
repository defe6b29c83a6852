/*
 * Event scripts, CTDB style (see clusterd_event_send in clusterd.h).
 *
 * Each script runs in its own process group with stdin from /dev/null and
 * stdout/stderr on clusterd's log (the "log file", else its stderr), so
 * what a script prints lands next to clusterd's own lines.  Its exit is noticed through
 * a pidfd on tevent, so no SIGCHLD handler is needed and a script that
 * leaves a background child (arping) does not hold us up.  Over the
 * timeout the whole group gets SIGKILL.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/clusterd.h"
#include "lib/util/debug.h"

#define EVENT_MAX_SCRIPTS 100

struct event_state {
	struct tevent_context *ev;
	struct clusterd *cd;
	const char *event;
	const char *const *args;
	char **scripts; /* sorted names */
	size_t num_scripts;
	size_t next;
	pid_t pid;
	int pidfd;
	struct tevent_fd *fde;
	struct tevent_timer *timer;
	bool timed_out;
	struct timespec started;
};

/* NTSTATUS through tevent's error slot, as dbwrap_watch.c does. */
static bool req_nterror(struct tevent_req *req, NTSTATUS status)
{
	if (NT_STATUS_IS_OK(status)) {
		return false;
	}
	return tevent_req_error(req, NT_STATUS_V(status));
}

static void event_queued(struct tevent_req *subreq);
static void event_run_next(struct tevent_req *req);
static void event_child_exited(struct tevent_context *ev,
			       struct tevent_fd *fde, uint16_t flags,
			       void *private_data);
static void event_timeout(struct tevent_context *ev, struct tevent_timer *te,
			  struct timeval now, void *private_data);

/* A name CTDB would run: two digits, a dot, a plain name. */
static bool script_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len < 4 || len > 64 || n[0] < '0' || n[0] > '9' || n[1] < '0' ||
	    n[1] > '9' || n[2] != '.') {
		return false;
	}
	for (size_t i = 3; i < len; i++) {
		char c = n[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.')) {
			return false;
		}
	}
	return true;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static NTSTATUS list_scripts(struct event_state *state, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de = NULL;

	if (d == NULL) {
		DBG_WARNING("event script dir %s: %s\n", dir, strerror(errno));
		return NT_STATUS_OK; /* no scripts: every event succeeds */
	}
	state->scripts = talloc_array(state, char *, EVENT_MAX_SCRIPTS);
	if (state->scripts == NULL) {
		closedir(d);
		return NT_STATUS_NO_MEMORY;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (!script_name_ok(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, 0) != 0 ||
		    !S_ISREG(st.st_mode) || (st.st_mode & S_IXUSR) == 0) {
			continue;
		}
		if (state->num_scripts == EVENT_MAX_SCRIPTS) {
			DBG_WARNING("more than %d event scripts in %s\n",
				    EVENT_MAX_SCRIPTS, dir);
			break;
		}
		state->scripts[state->num_scripts] =
			talloc_strdup(state->scripts, de->d_name);
		if (state->scripts[state->num_scripts] == NULL) {
			closedir(d);
			return NT_STATUS_NO_MEMORY;
		}
		state->num_scripts++;
	}
	closedir(d);
	qsort(state->scripts, state->num_scripts, sizeof(char *), name_cmp);
	return NT_STATUS_OK;
}

static int event_state_destructor(struct event_state *state)
{
	/* Freed while a script runs (shutdown, cancel): no orphans. */
	if (state->pid > 0) {
		kill(-state->pid, SIGKILL);
		kill(state->pid, SIGKILL);
		waitpid(state->pid, NULL, 0);
		state->pid = 0;
	}
	if (state->pidfd != -1) {
		close(state->pidfd);
		state->pidfd = -1;
	}
	return 0;
}

struct tevent_req *clusterd_event_send(TALLOC_CTX *mem_ctx,
				       struct clusterd *cd,
				       const char *event,
				       const char *const *args)
{
	struct tevent_req *req = NULL, *subreq = NULL;
	struct event_state *state = NULL;

	req = tevent_req_create(mem_ctx, &state, struct event_state);
	if (req == NULL) {
		return NULL;
	}
	state->ev = cd->ev;
	state->cd = cd;
	state->event = event;
	state->args = args;
	state->pidfd = -1;
	talloc_set_destructor(state, event_state_destructor);

	subreq = tevent_queue_wait_send(state, cd->ev, cd->eventq);
	if (tevent_req_nomem(subreq, req)) {
		return tevent_req_post(req, cd->ev);
	}
	tevent_req_set_callback(subreq, event_queued, req);
	return req;
}

static void event_queued(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(subreq,
							  struct tevent_req);
	struct event_state *state = tevent_req_data(req, struct event_state);
	NTSTATUS status;

	/* Keep subreq until we are done: it holds our place in the queue. */
	if (!tevent_queue_wait_recv(subreq)) {
		req_nterror(req, NT_STATUS_NO_MEMORY);
		return;
	}
	talloc_steal(state, subreq);
	status = list_scripts(state, state->cd->conf->event_script_dir);
	if (req_nterror(req, status)) {
		return;
	}
	event_run_next(req);
}

static void set_env(const struct clusterd *cd)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%u", cd->st != NULL ? cd->st->my_id : 0);
	setenv("CLUSTERD_NODE_ID", buf, 1);
	snprintf(buf, sizeof(buf), "%u", cd->conf->smbd_port);
	setenv("CLUSTERD_SMBD_PORT", buf, 1);
	setenv("CLUSTERD_PUBLIC_ADDRESSES", cd->conf->public_addresses, 1);
	setenv("CLUSTERD_STATE_DIR", cd->conf->state_dir, 1);
	setenv("CLUSTERD_RUN_DIR", cd->conf->run_dir, 1);
	setenv("CLUSTERD_EVENT_SCRIPT_DIR", cd->conf->event_script_dir, 1);
}

static void event_run_next(struct tevent_req *req)
{
	struct event_state *state = tevent_req_data(req, struct event_state);
	const char *dir = state->cd->conf->event_script_dir;
	const char *name = NULL;
	char *path = NULL;
	const char *argv[16];
	size_t argc = 0;
	pid_t pid;

	if (state->next == state->num_scripts) {
		tevent_req_done(req);
		return;
	}
	name = state->scripts[state->next];
	path = talloc_asprintf(state, "%s/%s", dir, name);
	if (tevent_req_nomem(path, req)) {
		return;
	}
	argv[argc++] = path;
	argv[argc++] = state->event;
	for (size_t i = 0; state->args != NULL && state->args[i] != NULL &&
			   argc < 15; i++) {
		argv[argc++] = state->args[i];
	}
	argv[argc] = NULL;

	clock_gettime(CLOCK_MONOTONIC, &state->started);
	pid = fork();
	if (pid == -1) {
		DBG_ERR("fork for %s: %s\n", name, strerror(errno));
		req_nterror(req, map_nt_error_from_unix(errno));
		return;
	}
	if (pid == 0) {
		sigset_t none;
		int devnull = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (devnull != -1) {
			dup2(devnull, 0);
		}
		/* what a script says goes where clusterd logs */
		if (state->cd->conf->log_file != NULL &&
		    state->cd->conf->log_file[0] != '\0') {
			int log = open(state->cd->conf->log_file,
				       O_WRONLY | O_APPEND | O_CREAT, 0644);
			if (log != -1) {
				dup2(log, 2);
			}
		}
		dup2(2, 1);
		/* nothing of clusterd (corosync IPC, sockets) leaks */
		syscall(SYS_close_range, 3, ~0U, 0);
		set_env(state->cd);
		execv(path, (char *const *)argv);
		fprintf(stderr, "clusterd: exec %s: %s\n", path,
			strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* both sides, so no race with kill(-pid) */
	state->pid = pid;
	state->timed_out = false;
	state->pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (state->pidfd == -1) {
		DBG_ERR("pidfd_open: %s\n", strerror(errno));
		req_nterror(req, map_nt_error_from_unix(errno));
		return;
	}
	state->fde = tevent_add_fd(state->ev, state, state->pidfd,
				   TEVENT_FD_READ, event_child_exited, req);
	state->timer = tevent_add_timer(
		state->ev, state,
		tevent_timeval_current_ofs(state->cd->conf->event_timeout, 0),
		event_timeout, req);
	if (tevent_req_nomem(state->fde, req) ||
	    tevent_req_nomem(state->timer, req)) {
		return;
	}
	DBG_INFO("event %s: running %s\n", state->event, name);
}

static void event_timeout(struct tevent_context *ev, struct tevent_timer *te,
			  struct timeval now, void *private_data)
{
	struct tevent_req *req = private_data;
	struct event_state *state = tevent_req_data(req, struct event_state);

	state->timer = NULL;
	state->timed_out = true;
	DBG_ERR("event %s: %s timed out after %u s, killing it\n",
		state->event, state->scripts[state->next],
		state->cd->conf->event_timeout);
	kill(-state->pid, SIGKILL);
	kill(state->pid, SIGKILL);
	/* the pidfd turns readable when it is gone */
}

static void event_child_exited(struct tevent_context *ev,
			       struct tevent_fd *fde, uint16_t flags,
			       void *private_data)
{
	struct tevent_req *req = private_data;
	struct event_state *state = tevent_req_data(req, struct event_state);
	const char *name = state->scripts[state->next];
	struct timespec now;
	double secs;
	int wstatus = 0;
	pid_t r;

	r = waitpid(state->pid, &wstatus, WNOHANG);
	if (r == 0) {
		return; /* not yet: spurious wake-up */
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (now.tv_sec - state->started.tv_sec) +
	       (now.tv_nsec - state->started.tv_nsec) / 1e9;
	state->pid = 0;
	TALLOC_FREE(state->fde);
	TALLOC_FREE(state->timer);
	close(state->pidfd);
	state->pidfd = -1;

	if (r == -1) {
		DBG_ERR("waitpid: %s\n", strerror(errno));
		req_nterror(req, NT_STATUS_INTERNAL_ERROR);
		return;
	}
	if (state->timed_out) {
		req_nterror(req, NT_STATUS_IO_TIMEOUT);
		return;
	}
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		DBG_INFO("event %s: %s ok (%.2f s)\n", state->event, name,
			 secs);
		state->next++;
		event_run_next(req);
		return;
	}
	if (WIFEXITED(wstatus)) {
		DBG_ERR("event %s: %s failed with exit code %d (%.2f s)\n",
			state->event, name, WEXITSTATUS(wstatus), secs);
	} else {
		DBG_ERR("event %s: %s killed by signal %d (%.2f s)\n",
			state->event, name,
			WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : -1, secs);
	}
	req_nterror(req, NT_STATUS_UNSUCCESSFUL);
}

NTSTATUS clusterd_event_recv(struct tevent_req *req)
{
	enum tevent_req_state req_state;
	uint64_t err;
	NTSTATUS status = NT_STATUS_OK;

	if (tevent_req_is_error(req, &req_state, &err)) {
		status = req_state == TEVENT_REQ_USER_ERROR ?
				 NT_STATUS((uint32_t)err) :
				 NT_STATUS_NO_MEMORY;
	}
	tevent_req_received(req);
	return status;
}
