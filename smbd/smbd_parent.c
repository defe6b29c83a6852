#include "smbd/smbd_parent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <fnmatch.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build_config.h"
#include "clusterd/cluster_client.h"
#include "clusterd/ctrl_proto.h"
#include "lib/param/loadparm.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "messaging/messaging.h"
#include "smbd/brlock.h"
#include "smbd/share_mode_db.h"
#include "smbd/smbXsrv_global.h"
#include "smbd/smbd_cluster.h"
#include "smbd/smbd_settings.h"

/* How long children get to finish after SIGTERM before SIGKILL. */
#define SMBD_SHUTDOWN_GRACE_SECONDS 5

struct smbd_listener {
	struct smbd_listener *prev, *next;
	struct smbd_parent *parent;
	int fd;
	struct tevent_fd *fde;
	char *name;
};

struct smbd_child_proc {
	struct smbd_child_proc *prev, *next;
	pid_t pid;
};

struct smbd_parent {
	struct tevent_context *ev;
	const struct smb_conf *conf;
	const struct smbd_settings *settings;
	const struct smbd_parent_options *opts;
	struct smbd_listener *listeners;
	struct smbd_child_proc *children;
	unsigned num_children;
	uint8_t server_guid[16];
	time_t start_time;
	struct tevent_signal *sig_chld;
	struct tevent_signal *sig_term;
	struct tevent_signal *sig_int;
	struct tevent_signal *sig_hup;
	struct smb_conf *reloaded; /* the last SIGHUP's; NULL before */
	/* Held open for the server's lifetime: the first opener of a
	 * volatile database clears it, so records of a previous run go;
	 * and the parent removes a dead child's records from them. */
	struct smbXsrv_global_dbs *globals;
	struct db_context *share_modes; /* locking.tdb, share_mode_db.h */
	struct db_context *brlocks;	/* brlock.tdb, brlock.h */
	/* <lock directory>/msg.sock; each child re-initialises it */
	struct messaging_context *msg;
	/* messaging node number: the cluster node id with "clustering =
	 * yes" (smbd_cluster.h), else 0 */
	uint32_t node;
	/* clustering: the cluster generation of the last sweep (0: none
	 * yet) and the timer that asks clusterd for it */
	uint64_t swept_generation;
	struct tevent_timer *generation_timer;
	bool shutting_down;
	bool done;
	int exit_code;
};

static int smbd_listener_destructor(struct smbd_listener *l)
{
	TALLOC_FREE(l->fde);
	if (l->fd != -1) {
		close(l->fd);
	}
	return 0;
}

/*
 * Refuse a connection over the limit politely: answer its NEGOTIATE with
 * STATUS_INSUFFICIENT_RESOURCES (what Samba's smbd says when "max smbd
 * processes" is reached) instead of a reset the client cannot explain.
 */
static void smbd_refuse_connection(int fd)
{
	uint8_t nbt[4];
	uint8_t reply[4 + SMB2_HDR_SIZE + 9];
	struct timeval tv = { .tv_sec = 5 };
	uint32_t len;
	uint8_t hdr[SMB2_HDR_SIZE];
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, nbt, 4, MSG_WAITALL);
	if (n != 4) {
		return;
	}
	len = PULL_BE32(nbt, 0) & 0xffffff;
	memset(hdr, 0, sizeof(hdr));
	if (len >= SMB2_HDR_SIZE) {
		n = recv(fd, hdr, SMB2_HDR_SIZE, MSG_WAITALL);
		if (n != SMB2_HDR_SIZE) {
			return;
		}
	}
	memset(reply, 0, sizeof(reply));
	PUSH_BE32(reply, 0, SMB2_HDR_SIZE + 9);
	PUSH_LE32(reply, 4 + SMB2_HDR_PROTOCOL_ID, SMB2_PROTOCOL_ID);
	PUSH_LE16(reply, 4 + SMB2_HDR_STRUCTURE_SIZE, SMB2_HDR_SIZE);
	PUSH_LE32(reply, 4 + SMB2_HDR_STATUS,
		  NT_STATUS_V(NT_STATUS_INSUFFICIENT_RESOURCES));
	PUSH_LE16(reply, 4 + SMB2_HDR_OPCODE, SMB2_OP_NEGPROT);
	PUSH_LE16(reply, 4 + SMB2_HDR_CREDIT, 1);
	PUSH_LE32(reply, 4 + SMB2_HDR_FLAGS, SMB2_HDR_FLAG_REDIRECT);
	if (PULL_LE32(hdr, 0) == SMB2_PROTOCOL_ID) {
		memcpy(reply + 4 + SMB2_HDR_MESSAGE_ID,
		       hdr + SMB2_HDR_MESSAGE_ID, 8);
	}
	PUSH_LE16(reply, 4 + SMB2_HDR_SIZE, 9);
	(void)!write(fd, reply, sizeof(reply));
}

static void smbd_accept(struct tevent_context *ev, struct tevent_fd *fde,
			uint16_t flags, void *private_data)
{
	struct smbd_listener *l = private_data;
	struct smbd_parent *parent = l->parent;
	struct smbd_child_proc *cp;
	bool refuse;
	int fd;
	pid_t pid;

	fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED) {
			DBG_ERR("accept on %s: %s\n", l->name, strerror(errno));
		}
		return;
	}
	refuse = parent->settings->max_connections > 0 &&
		 parent->num_children >= parent->settings->max_connections;

	pid = fork();
	if (pid == -1) {
		DBG_ERR("fork: %s\n", strerror(errno));
		close(fd);
		return;
	}
	if (pid == 0) {
		struct smbd_child_context *child;
		int ret;

		/* The child keeps nothing of the parent's sockets or
		 * signal handlers. */
		parent->done = true;
		TALLOC_FREE(parent->sig_chld);
		TALLOC_FREE(parent->sig_term);
		TALLOC_FREE(parent->sig_int);
		TALLOC_FREE(parent->sig_hup);
		TALLOC_FREE(parent->generation_timer);
		while (parent->children != NULL) {
			struct smbd_child_proc *x = parent->children;

			DLIST_REMOVE(parent->children, x);
			talloc_free(x);
		}
		while (parent->listeners != NULL) {
			struct smbd_listener *x = parent->listeners;

			DLIST_REMOVE(parent->listeners, x);
			talloc_free(x);
		}
		if (refuse) {
			DBG_NOTICE("refusing connection: %u connections "
				   "reached the limit\n",
				   parent->num_children);
			smbd_refuse_connection(fd);
			close(fd);
			_exit(0);
		}
		if (tevent_re_initialise(ev) != 0) {
			_exit(1);
		}
		/* the child's own socket; the parent's stays the parent's */
		if (!NT_STATUS_IS_OK(messaging_reinit(parent->msg, ev))) {
			_exit(1);
		}
		/* tdb refuses a second open of a file in one process, and a
		 * handle inherited across fork must not be used: the child
		 * opens its own (smbXsrv_global.c) */
		TALLOC_FREE(parent->globals);
		TALLOC_FREE(parent->share_modes);
		TALLOC_FREE(parent->brlocks);
		child = talloc_zero(NULL, struct smbd_child_context);
		if (child == NULL) {
			_exit(1);
		}
		child->ev = ev;
		child->msg = parent->msg;
		child->conf = parent->conf;
		child->settings = parent->settings;
		child->config_path = parent->opts->config_path;
		child->start_time = parent->start_time;
		memcpy(child->server_guid, parent->server_guid, 16);
		debug_set_prefix("smbd[child]");
		ret = smbd_child_main(child, fd);
		/* _exit runs no destructor: remove our socket ourselves */
		TALLOC_FREE(parent->msg);
		_exit(ret);
	}
	close(fd);
	if (refuse) {
		return; /* not counted: it exits at once */
	}
	cp = talloc_zero(parent, struct smbd_child_proc);
	if (cp != NULL) {
		cp->pid = pid;
		DLIST_ADD(parent->children, cp);
		parent->num_children++;
	}
	DBG_DEBUG("child %d for a connection on %s\n", (int)pid, l->name);
}

/*
 * A child that ended abnormally (killed, crashed) could not remove its
 * session, tree connect and open records; nobody else would.
 */
static void smbd_cleanup_child_records(struct smbd_parent *parent, pid_t pid)
{
	int removed;

	if (parent->globals == NULL) {
		return;
	}
	removed = smbXsrv_global_cleanup_owner(parent->globals, parent->node,
					       pid);
	if (removed > 0) {
		DBG_NOTICE("removed %d records of dead child %d\n", removed,
			   (int)pid);
	}
	/* its share-mode entries (and a delete it owed as the last
	 * handle of a delete-pending file) */
	removed = share_mode_cleanup_owner(parent->share_modes, parent->node,
					   pid);
	if (removed > 0) {
		DBG_NOTICE("removed %d share-mode entries of dead child %d\n",
			   removed, (int)pid);
	}
	/* its byte-range locks (a LOCK waiting behind one retries) */
	removed = brl_cleanup_owner(parent->brlocks, parent->node, pid);
	if (removed > 0) {
		DBG_NOTICE("removed %d byte-range locks of dead child %d\n",
			   removed, (int)pid);
	}
}

/*
 * The sweep (clustering): records of processes of this node that no
 * longer exist.  The parent removes a child's records when it reaps it,
 * but not when it could not (the cluster had no quorum then, so clusterd
 * refused the change) nor those of an earlier smbd on this node (the
 * replicated databases outlive it, unlike a local tdb that the first
 * opener clears).  Other nodes' processes are not ours to judge: their
 * own parents sweep, and server_id_is_alive() treats the processes of a
 * node that left as dead wherever a record is looked at.
 */
static bool smbd_parent_owner_gone(const struct server_id *owner,
				   void *private_data)
{
	struct smbd_parent *parent = private_data;

	if (owner->node != parent->node) {
		return false;
	}
	/* the unique id tells a recycled pid from the owner */
	return !server_id_is_alive(parent->msg, owner);
}

static void smbd_parent_sweep(struct smbd_parent *parent, const char *why)
{
	int a, b, c;

	a = smbXsrv_global_cleanup(parent->globals, smbd_parent_owner_gone,
				   parent);
	b = share_mode_cleanup(parent->share_modes, smbd_parent_owner_gone,
			       parent);
	c = brl_cleanup(parent->brlocks, smbd_parent_owner_gone, parent);
	if (a + b + c > 0) {
		/* something was left behind abnormally: worth a warning */
		DBG_WARNING("sweep (%s): removed %d records, %d share-mode "
			    "entries and %d byte-range locks of processes of "
			    "node %u that are gone\n",
			    why, a, b, c, (unsigned)parent->node);
	}
}

#define SMBD_GENERATION_POLL_S 3

/* Every few seconds: has the cluster's membership changed (a new
 * generation)?  Then sweep: changes refused while this node had no
 * quorum are made now.  One status request with a short deadline: a
 * wedged clusterd costs the accept loop at most that. */
static void smbd_generation_poll(struct tevent_context *ev,
				 struct tevent_timer *te, struct timeval now,
				 void *private_data)
{
	struct smbd_parent *parent = private_data;
	struct ctrl_status *st = NULL;
	NTSTATUS status;

	parent->generation_timer = NULL;
	status = smbd_cluster_status(parent, parent->conf->global.clusterd_socket,
				     1000, &st);
	if (NT_STATUS_IS_OK(status) && st->committed && st->quorate &&
	    st->generation != parent->swept_generation) {
		char why[48];

		snprintf(why, sizeof(why), "generation %llu",
			 (unsigned long long)st->generation);
		smbd_parent_sweep(parent, why);
		parent->swept_generation = st->generation;
	}
	talloc_free(st);
	if (!parent->shutting_down) {
		parent->generation_timer = tevent_add_timer(
			ev, parent,
			tevent_timeval_current_ofs(SMBD_GENERATION_POLL_S, 0),
			smbd_generation_poll, parent);
	}
}

static void smbd_reap_children(struct smbd_parent *parent)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		struct smbd_child_proc *cp;

		if (pid <= 0) {
			break;
		}
		if (WIFSIGNALED(status) ||
		    (WIFEXITED(status) && WEXITSTATUS(status) != 0)) {
			smbd_cleanup_child_records(parent, pid);
		}
		/* a child killed by a signal left its socket behind */
		if (parent->msg != NULL) {
			messaging_cleanup(parent->msg, pid);
		}
		if (WIFSIGNALED(status)) {
			DBG_WARNING("child %d died of signal %d\n", (int)pid,
				    WTERMSIG(status));
		} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
			DBG_NOTICE("child %d exited with %d\n", (int)pid,
				   WEXITSTATUS(status));
		}
		for (cp = parent->children; cp != NULL; cp = cp->next) {
			if (cp->pid == pid) {
				DLIST_REMOVE(parent->children, cp);
				talloc_free(cp);
				parent->num_children--;
				break;
			}
		}
	}
	if (parent->shutting_down && parent->children == NULL) {
		parent->done = true;
	}
}

static void smbd_sigchld(struct tevent_context *ev, struct tevent_signal *se,
			 int signum, int count, void *siginfo,
			 void *private_data)
{
	smbd_reap_children(private_data);
}

static void smbd_shutdown_timeout(struct tevent_context *ev,
				  struct tevent_timer *te, struct timeval now,
				  void *private_data)
{
	struct smbd_parent *parent = private_data;
	struct smbd_child_proc *cp;

	for (cp = parent->children; cp != NULL; cp = cp->next) {
		DBG_WARNING("child %d did not exit: killing it\n", (int)cp->pid);
		kill(cp->pid, SIGKILL);
	}
	parent->done = true;
}

/* SIGTERM, SIGINT and MSG_SHUTDOWN (why says which). */
static void smbd_parent_shutdown(struct smbd_parent *parent, const char *why)
{
	struct tevent_context *ev = parent->ev;
	struct smbd_child_proc *cp;

	if (parent->shutting_down) {
		return;
	}
	DBG_NOTICE("shutting down on %s (%u children)\n", why,
		   parent->num_children);
	parent->shutting_down = true;
	while (parent->listeners != NULL) {
		struct smbd_listener *l = parent->listeners;

		DLIST_REMOVE(parent->listeners, l);
		talloc_free(l);
	}
	for (cp = parent->children; cp != NULL; cp = cp->next) {
		kill(cp->pid, SIGTERM);
	}
	if (parent->children == NULL) {
		parent->done = true;
		return;
	}
	tevent_add_timer(ev, parent,
			 tevent_timeval_current_ofs(SMBD_SHUTDOWN_GRACE_SECONDS,
						    0),
			 smbd_shutdown_timeout, parent);
}

static void smbd_sigterm(struct tevent_context *ev, struct tevent_signal *se,
			 int signum, int count, void *siginfo,
			 void *private_data)
{
	smbd_parent_shutdown(private_data,
			     signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void smbd_parent_msg_shutdown(struct messaging_context *msg,
				     void *private_data, uint32_t msg_type,
				     struct server_id src, const uint8_t *data,
				     size_t len, int *fds, size_t num_fds)
{
	smbd_parent_shutdown(private_data, "MSG_SHUTDOWN");
}

static void smbd_parent_msg_ping(struct messaging_context *msg,
				 void *private_data, uint32_t msg_type,
				 struct server_id src, const uint8_t *data,
				 size_t len, int *fds, size_t num_fds)
{
	messaging_send(msg, src, MSG_PONG, data, len, NULL, 0);
}

/* <lock directory>/msg.sock: every smbd process's socket lives there. */
static bool smbd_parent_messaging(struct smbd_parent *parent)
{
	char *sockdir = talloc_asprintf(parent, "%s/msg.sock",
					parent->conf->global.lock_directory);

	if (sockdir == NULL) {
		return false;
	}
	/* clustered: our messaging node number is the cluster node id, so
	 * the ids in the shared records say which node a process is on */
	if (!NT_STATUS_IS_OK(smbd_cluster_node_id(
		    parent->conf, SMBD_CLUSTER_WAIT_S, &parent->node))) {
		return false; /* logged */
	}
	if (parent->conf->global.clustering) {
		DBG_NOTICE("clustering: this is node %u\n",
			   (unsigned)parent->node);
		/* the node id is in every persistent file id's top bits
		 * (smbd_cluster.h): a larger one would make ids of two
		 * nodes clash */
		if (parent->node > SMBD_CLUSTER_MAX_NODE_ID) {
			DBG_ERR("cluster node id %u is above %u: smbd needs "
				"smaller corosync node ids\n",
				(unsigned)parent->node,
				(unsigned)SMBD_CLUSTER_MAX_NODE_ID);
			return false;
		}
	}
	parent->msg = messaging_init(parent, parent->ev, sockdir,
				     parent->node);
	if (parent->msg == NULL) {
		return false;
	}
	if (parent->conf->global.clustering) {
		/* messages to other nodes' processes (lease breaks, closing
		 * a previous session) go through clusterd, and their
		 * liveness is their node's membership; children inherit
		 * both */
		NTSTATUS status = cluster_messaging_attach(
			parent->msg, parent->conf->global.clusterd_socket);

		if (!NT_STATUS_IS_OK(status)) {
			DBG_ERR("cannot attach to clusterd's messaging: %s\n",
				nt_errstr(status));
			return false;
		}
	}
	return NT_STATUS_IS_OK(messaging_register(parent->msg, parent,
						  MSG_SHUTDOWN,
						  smbd_parent_msg_shutdown)) &&
	       NT_STATUS_IS_OK(messaging_register(parent->msg, parent,
						  MSG_PING,
						  smbd_parent_msg_ping));
}

/*
 * SIGHUP: read the configuration again; connections accepted from now on
 * use it.  Listening addresses and ports stay as they were (a restart
 * changes them).  A broken file is logged and the old one kept.
 */
static void smbd_sighup(struct tevent_context *ev, struct tevent_signal *se,
			int signum, int count, void *siginfo, void *private_data)
{
	struct smbd_parent *parent = private_data;
	struct smb_conf *conf = NULL;
	struct smbd_settings *settings;
	char *errors = NULL;
	NTSTATUS status;

	status = smb_conf_load(parent, parent->opts->config_path, &conf,
			       &errors);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("SIGHUP: %s is invalid, keeping the running "
			"configuration:\n%s",
			parent->opts->config_path, errors ? errors : "");
		talloc_free(errors);
		return;
	}
	settings = smbd_settings_from_conf(conf, conf);
	if (settings == NULL) {
		talloc_free(conf);
		return;
	}
	/* the ports and addresses in use stay */
	settings->ports = parent->settings->ports;
	settings->num_ports = parent->settings->num_ports;
	settings->interfaces = parent->settings->interfaces;
	parent->conf = conf;
	parent->settings = settings;
	/* The configuration loaded at start stays (its ports and addresses
	 * are still in use); a previous reload's can go. */
	TALLOC_FREE(parent->reloaded);
	parent->reloaded = conf;
	debug_set_level(conf->global.log_level);
	DBG_NOTICE("SIGHUP: configuration %s reloaded\n",
		   parent->opts->config_path);
}

static bool smbd_listen_one(struct smbd_parent *parent,
			    const struct sockaddr *sa, socklen_t salen,
			    const char *name)
{
	struct smbd_listener *l;
	int one = 1;
	int fd;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd == -1) {
		DBG_ERR("socket for %s: %s\n", name, strerror(errno));
		return false;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (bind(fd, sa, salen) == -1 || listen(fd, 128) == -1) {
		DBG_ERR("cannot listen on %s: %s\n", name, strerror(errno));
		close(fd);
		return false;
	}
	l = talloc_zero(parent, struct smbd_listener);
	if (l == NULL) {
		close(fd);
		return false;
	}
	l->parent = parent;
	l->fd = fd;
	l->name = talloc_strdup(l, name);
	talloc_set_destructor(l, smbd_listener_destructor);
	l->fde = tevent_add_fd(parent->ev, l, fd, TEVENT_FD_READ, smbd_accept,
			       l);
	if (l->fde == NULL) {
		talloc_free(l);
		return false;
	}
	DLIST_ADD(parent->listeners, l);
	DBG_NOTICE("listening on %s\n", name);
	return true;
}

/* Listen on one address (numeric) and port. */
static bool smbd_listen_addr(struct smbd_parent *parent, const char *addr,
			     uint16_t port)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char portstr[8];
	char name[INET6_ADDRSTRLEN + 16];
	bool ok;
	int ret;

	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
	ret = getaddrinfo(addr, portstr, &hints, &res);
	if (ret != 0 || res == NULL) {
		DBG_ERR("bad listen address '%s': %s\n", addr,
			gai_strerror(ret));
		return false;
	}
	snprintf(name, sizeof(name), res->ai_family == AF_INET6 ? "[%s]:%u"
								: "%s:%u",
		 addr, (unsigned)port);
	ok = smbd_listen_one(parent, res->ai_addr, res->ai_addrlen, name);
	freeaddrinfo(res);
	return ok;
}

/*
 * "interfaces" entries are addresses, address/prefix, or interface names
 * (every address of that interface), as in Samba.
 */
static bool smbd_listen_interface(struct smbd_parent *parent,
				  const char *entry, uint16_t port)
{
	char *addr = talloc_strdup(parent, entry);
	char *slash;
	struct ifaddrs *ifa_list, *ifa;
	bool any = false;

	if (addr == NULL) {
		return false;
	}
	slash = strchr(addr, '/');
	if (slash != NULL) {
		*slash = '\0';
	}
	if (strchr(addr, ':') != NULL || strspn(addr, "0123456789.") ==
						 strlen(addr)) {
		bool ok = smbd_listen_addr(parent, addr, port);

		talloc_free(addr);
		return ok;
	}
	if (getifaddrs(&ifa_list) != 0) {
		talloc_free(addr);
		return false;
	}
	for (ifa = ifa_list; ifa != NULL; ifa = ifa->ifa_next) {
		char host[INET6_ADDRSTRLEN];

		/* interface names may be globs ("eth*"), as in Samba */
		if (ifa->ifa_addr == NULL ||
		    fnmatch(addr, ifa->ifa_name, 0) != 0) {
			continue;
		}
		if (ifa->ifa_addr->sa_family == AF_INET) {
			inet_ntop(AF_INET,
				  &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr,
				  host, sizeof(host));
		} else if (ifa->ifa_addr->sa_family == AF_INET6) {
			struct sockaddr_in6 *in6 =
				(struct sockaddr_in6 *)ifa->ifa_addr;

			if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)) {
				continue;
			}
			inet_ntop(AF_INET6, &in6->sin6_addr, host,
				  sizeof(host));
		} else {
			continue;
		}
		any |= smbd_listen_addr(parent, host, port);
	}
	freeifaddrs(ifa_list);
	if (!any) {
		DBG_ERR("interface '%s' has no usable address\n", addr);
	}
	talloc_free(addr);
	return any;
}

static bool smbd_open_listeners(struct smbd_parent *parent)
{
	const struct smbd_settings *set = parent->settings;
	size_t p, i;
	bool any = false;

	for (p = 0; p < set->num_ports; p++) {
		uint16_t port = set->ports[p];

		if (set->bind_interfaces_only && set->interfaces != NULL) {
			for (i = 0; set->interfaces[i] != NULL; i++) {
				any |= smbd_listen_interface(
					parent, set->interfaces[i], port);
			}
		} else {
			any |= smbd_listen_addr(parent, "0.0.0.0", port);
			any |= smbd_listen_addr(parent, "::", port);
		}
	}
	return any;
}

int smbd_parent_run(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
		    const struct smb_conf *conf,
		    const struct smbd_settings *settings,
		    const struct smbd_parent_options *opts)
{
	struct smbd_parent *parent = talloc_zero(mem_ctx, struct smbd_parent);

	if (parent == NULL) {
		return 1;
	}
	parent->ev = ev;
	parent->conf = conf;
	parent->settings = settings;
	parent->opts = opts;
	parent->start_time = time(NULL);
	if (gnutls_rnd(GNUTLS_RND_NONCE, parent->server_guid,
		       sizeof(parent->server_guid)) != 0) {
		return 1;
	}
	parent->sig_chld =
		tevent_add_signal(ev, parent, SIGCHLD, 0, smbd_sigchld, parent);
	parent->sig_term =
		tevent_add_signal(ev, parent, SIGTERM, 0, smbd_sigterm, parent);
	parent->sig_int =
		tevent_add_signal(ev, parent, SIGINT, 0, smbd_sigterm, parent);
	parent->sig_hup =
		tevent_add_signal(ev, parent, SIGHUP, 0, smbd_sighup, parent);
	if (parent->sig_chld == NULL || parent->sig_term == NULL ||
	    parent->sig_int == NULL || parent->sig_hup == NULL) {
		DBG_ERR("cannot install signal handlers\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!smbd_parent_messaging(parent)) {
		DBG_ERR("cannot set up messaging in %s/msg.sock\n",
			parent->conf->global.lock_directory);
		return 1;
	}
	parent->globals = smbXsrv_global_dbs_open(parent, parent->msg,
						  parent->conf);
	if (parent->globals == NULL) {
		DBG_ERR("cannot open the smbXsrv databases in %s\n",
			parent->conf->global.lock_directory);
		return 1;
	}
	parent->share_modes = share_mode_db_open(parent, parent->msg,
						 parent->conf);
	if (parent->share_modes == NULL) {
		DBG_ERR("cannot open the share-mode database in %s\n",
			parent->conf->global.lock_directory);
		return 1;
	}
	parent->brlocks = brl_db_open(parent, parent->msg, parent->conf);
	if (parent->brlocks == NULL) {
		return 1; /* logged */
	}
	if (parent->conf->global.clustering) {
		/* before the first client: an earlier smbd of this node may
		 * have left records (the first poll sweeps at once) */
		smbd_generation_poll(ev, NULL, tevent_timeval_zero(), parent);
	}
	if (!smbd_open_listeners(parent)) {
		DBG_ERR("no listening socket could be opened\n");
		return 1;
	}
	/* Only a server that listens claims the pid file: a second smbd
	 * that cannot bind must not remove the running one's. */
	smbd_settings_write_pidfile(parent->conf);
	DBG_NOTICE("smbd %s ready\n", SMB3_VERSION);
	while (!parent->done) {
		if (tevent_loop_once(ev) != 0) {
			DBG_ERR("event loop failed: %s\n", strerror(errno));
			break;
		}
	}
	smbd_settings_remove_pidfile(parent->conf);
	DBG_NOTICE("smbd stopped\n");
	return parent->exit_code;
}
