/*
 * A child process: serves one TCP connection of one client until it
 * ends.  (With multichannel, further connections of the same client will
 * be passed here over messaging.)
 */
#include "smbd/smbd.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <fcntl.h>
#include <malloc.h>

#include "lib/param/loadparm.h"
#include "lib/userdb/userdb.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "messaging/messaging.h"
#include "smbd/smb2_credits.h"
#include "smbd/smb2_server.h"
#include "smbd/smb2_transport.h"
#include "smbd/smbXsrv_global.h"
#include "smbd/smbXsrv_session_close.h"
#include "smbd/smbd_settings.h"
#include "smbd/smbd_userdb.h"
#include "smbd/vfs/threadpool.h"

/* The largest frame: an 8 MiB WRITE plus headers and a compound. */
#define SMBD_FRAME_SLACK (128 * 1024)

static char *sockaddr_string(TALLOC_CTX *mem_ctx, int fd, bool peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	int ret = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		       : getsockname(fd, (struct sockaddr *)&ss, &len);

	if (ret == 0 && ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		return talloc_asprintf(mem_ctx, "%s:%d", host, port);
	}
	if (ret == 0 && ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		return talloc_asprintf(mem_ctx, "[%s]:%d", host, port);
	}
	return talloc_strdup(mem_ctx, "unknown");
}

static void smbd_connection_error(void *private_data, int err)
{
	struct smbd_connection *conn = private_data;

	smbd_connection_terminate(conn, err == 0 ? "client closed the "
						   "connection"
						 : strerror(err));
}

static void smbd_connection_terminate_now(struct tevent_context *ev,
					  struct tevent_immediate *im,
					  void *private_data)
{
	struct smbd_connection *conn = private_data;
	struct smbd_client *client = conn->client;

	DLIST_REMOVE(client->connections, conn);
	talloc_free(conn);
	if (client->connections == NULL) {
		client->exiting = true;
	}
}

void smbd_connection_terminate(struct smbd_connection *conn,
			       const char *reason)
{
	struct tevent_immediate *im;

	if (conn->terminating) {
		return; /* already on its way out */
	}
	conn->terminating = true;
	DBG_INFO("%s: disconnecting: %s\n", conn->remote_addr, reason);
	smbd_transport_stop_reading(conn->transport);
	/* A child of conn: should conn go first, the event goes with it. */
	im = tevent_create_immediate(conn);
	if (im == NULL) {
		conn->client->exiting = true;
		return;
	}
	tevent_schedule_immediate(im, conn->client->ev,
				  smbd_connection_terminate_now, conn);
}

static void smbd_child_sigterm(struct tevent_context *ev,
			       struct tevent_signal *se, int signum,
			       int count, void *siginfo, void *private_data)
{
	struct smbd_client *client = private_data;

	DBG_INFO("terminating on signal %d\n", signum);
	client->exiting = true;
}

/* MSG_SHUTDOWN (smbcontrol, the parent): leave as on SIGTERM. */
static void smbd_child_msg_shutdown(struct messaging_context *msg,
				    void *private_data, uint32_t msg_type,
				    struct server_id src, const uint8_t *data,
				    size_t len, int *fds, size_t num_fds)
{
	struct smbd_client *client = private_data;

	DBG_INFO("terminating on MSG_SHUTDOWN from pid %u\n",
		 (unsigned)src.pid);
	client->exiting = true;
}

static void smbd_child_msg_ping(struct messaging_context *msg,
				void *private_data, uint32_t msg_type,
				struct server_id src, const uint8_t *data,
				size_t len, int *fds, size_t num_fds)
{
	messaging_send(msg, src, MSG_PONG, data, len, NULL, 0);
}

/*
 * Tear down in dependency order: first the thread pool (freeing it waits
 * for jobs that are running), then the sessions with their trees and
 * opens, and only then the rest (file descriptor records, buckets).
 */
static int smbd_client_destructor(struct smbd_client *client)
{
	if (client->msg != NULL) {
		messaging_deregister(client->msg, MSG_SHUTDOWN, client);
		messaging_deregister(client->msg, MSG_PING, client);
	}
	TALLOC_FREE(client->pool);
	while (client->connections != NULL) {
		struct smbd_connection *conn = client->connections;

		DLIST_REMOVE(client->connections, conn);
		talloc_free(conn);
	}
	while (client->sessions != NULL) {
		talloc_free(client->sessions);
	}
	smbXsrv_client_global_remove(client);
	return 0;
}

struct smbd_client *smbd_client_create(struct smbd_child_context *child)
{
	struct smbd_client *client;
	NTSTATUS status;

	client = talloc_zero(child, struct smbd_client);
	if (client == NULL) {
		return NULL;
	}
	client->child = child;
	client->ev = child->ev;
	client->conf = child->conf;
	client->settings = child->settings;
	client->msg = child->msg;
	memcpy(client->server_guid, child->server_guid, 16);
	talloc_set_destructor(client, smbd_client_destructor);

	/* clustered: the replicated "passdb"; the parent waited for
	 * clusterd at start, so this waits only through a resync */
	status = smbd_userdb_open(client, child->conf,
				  smbd_settings_passdb_path(child->conf),
				  false, 10, &client->userdb);
	if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND)) {
		/* No user was ever added: only guests can log on. */
		client->userdb = NULL;
	} else if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("cannot open the user database %s: %s\n",
			smbd_settings_passdb_path(child->conf),
			nt_errstr(status));
		talloc_free(client);
		return NULL;
	}
	client->pool = vfs_pool_create(client, client->ev, 16);
	if (client->pool == NULL) {
		talloc_free(client);
		return NULL;
	}
	smbd_session_close_init_messages(client);
	return client;
}

struct smbd_connection *smbd_connection_create(struct smbd_client *client,
					       int sock)
{
	const struct smbd_settings *set = client->settings;
	struct smbd_connection *conn;
	int one = 1;
	int flags;

	flags = fcntl(sock, F_GETFL);
	if (flags == -1 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) == -1) {
		return NULL;
	}
	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(sock, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));

	conn = talloc_zero(client, struct smbd_connection);
	if (conn == NULL) {
		return NULL;
	}
	conn->client = client;
	conn->remote_addr = sockaddr_string(conn, sock, true);
	conn->local_addr = sockaddr_string(conn, sock, false);
	if (!smbd_credits_init(conn, set->max_credits)) {
		talloc_free(conn);
		return NULL;
	}
	conn->transport = smbd_transport_create(
		conn, client->ev, sock,
		(set->max_write_size > set->max_trans_size
			 ? set->max_write_size
			 : set->max_trans_size) +
			SMBD_FRAME_SLACK,
		smbd_connection_frame, smbd_connection_error, conn);
	if (conn->transport == NULL) {
		talloc_free(conn);
		return NULL;
	}
	/* large unsigned WRITEs: their data goes socket -> pipe -> file */
	smbd_transport_set_splice_in(
		conn->transport, SMBD_SPLICE_WRITE_PREFIX,
		SMBD_SPLICE_WRITE_PREFIX + SMBD_SPLICE_WRITE_MIN,
		smbd_connection_classify, smbd_connection_frame_payload);
	DLIST_ADD(client->connections, conn);
	DBG_INFO("connection from %s to %s\n", conn->remote_addr,
		 conn->local_addr);
	return conn;
}

int smbd_child_main(struct smbd_child_context *child, int sock)
{
	struct smbd_client *client;

	/*
	 * READ and WRITE buffers are up to 8 MiB each.  glibc serves such
	 * sizes with mmap/munmap by default, so every request would map,
	 * fault in and zero fresh pages; keeping them on the heap lets the
	 * next request reuse warm memory.
	 */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);

	client = smbd_client_create(child);
	if (client == NULL) {
		return 1;
	}
	if (client->msg != NULL &&
	    (!NT_STATUS_IS_OK(messaging_register(client->msg, client,
						 MSG_SHUTDOWN,
						 smbd_child_msg_shutdown)) ||
	     !NT_STATUS_IS_OK(messaging_register(client->msg, client,
						 MSG_PING,
						 smbd_child_msg_ping)))) {
		talloc_free(client);
		return 1;
	}
	if (tevent_add_signal(client->ev, client, SIGTERM, 0,
			      smbd_child_sigterm, client) == NULL ||
	    smbd_connection_create(client, sock) == NULL) {
		talloc_free(client);
		return 1;
	}
	while (!client->exiting) {
		if (tevent_loop_once(client->ev) != 0) {
			DBG_ERR("event loop failed: %s\n", strerror(errno));
			break;
		}
	}
	talloc_free(client);
	return 0;
}
