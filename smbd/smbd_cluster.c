/*
 * smbd in a cluster: node id, clusterd status, shared databases
 * (smbd_cluster.h).
 *
 * The talk to clusterd is synchronous with a deadline on every step:
 * these calls run at start (before the process serves anybody) and in
 * the parent's periodic generation check, where a clusterd that hangs
 * costs at most the timeout.
 */
#include "smbd/smbd_cluster.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/ctrl_client.h"
#include "clusterd/ctrl_proto.h"
#include "dbwrap/dbwrap.h"
#include "dbwrap/dbwrap_cluster.h"
#include "lib/param/loadparm.h"
#include "lib/util/debug.h"
#include "lib/util/marshall.h"

#define CLUSTER_POLL_MS 250

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

NTSTATUS smbd_cluster_status(TALLOC_CTX *mem_ctx, const char *socket_path,
			     int timeout_ms, struct ctrl_status **st)
{
	TALLOC_CTX *frame = talloc_new(mem_ctx);
	uint8_t *body = NULL;
	size_t len = 0;
	NTSTATUS status;

	*st = NULL;
	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = ctrl_transact(frame, socket_path, CTRL_OP_STATUS, timeout_ms,
			       &body, &len);
	if (!NT_STATUS_IS_OK(status)) {
		goto out;
	}
	if (ctrl_body_type(body, len) != REC_CLUSTERD_CTRL_STATUS) {
		NTSTATUS result = NT_STATUS_INVALID_NETWORK_RESPONSE;

		/* an error answer: clusterd's own status */
		if (NT_STATUS_IS_OK(ctrl_result_pull(body, len, &result)) &&
		    NT_STATUS_IS_OK(result)) {
			result = NT_STATUS_INVALID_NETWORK_RESPONSE;
		}
		status = result;
		goto out;
	}
	status = ctrl_status_pull(mem_ctx, body, len, st);
out:
	talloc_free(frame);
	return status;
}

NTSTATUS smbd_cluster_node_id(const struct smb_conf *conf, int wait_s,
			      uint32_t *node)
{
	int64_t deadline = now_ms() + (int64_t)wait_s * 1000;
	int64_t next_log = 0;
	NTSTATUS status;

	*node = 0;
	if (!conf->global.clustering) {
		return NT_STATUS_OK;
	}
	for (;;) {
		struct ctrl_status *st = NULL;
		const char *why;

		status = smbd_cluster_status(NULL, conf->global.clusterd_socket,
					     2000, &st);
		if (NT_STATUS_IS_OK(status) && st->committed &&
		    st->my_id != 0) {
			*node = st->my_id;
			talloc_free(st);
			return NT_STATUS_OK;
		}
		why = NT_STATUS_IS_OK(status) ? "no agreed membership yet"
					      : nt_errstr(status);
		talloc_free(st);
		if (now_ms() >= deadline) {
			DBG_ERR("clustering = yes, but clusterd at %s gave no "
				"node id within %d s (%s): is clusterd "
				"running and part of a cluster?\n",
				conf->global.clusterd_socket, wait_s, why);
			return NT_STATUS_IO_TIMEOUT;
		}
		if (now_ms() >= next_log) {
			DBG_NOTICE("waiting for clusterd at %s: %s\n",
				   conf->global.clusterd_socket, why);
			next_log = now_ms() + 5000;
		}
		sleep_ms(CLUSTER_POLL_MS);
	}
}

char *smbd_cluster_db_socket(TALLOC_CTX *mem_ctx, const struct smb_conf *conf)
{
	const char *ctrl = conf->global.clusterd_socket;
	const char *slash = ctrl != NULL ? strrchr(ctrl, '/') : NULL;

	if (slash == NULL) {
		return talloc_strdup(mem_ctx, DB_CLUSTER_SOCKET_NAME);
	}
	return talloc_asprintf(mem_ctx, "%.*s/%s", (int)(slash - ctrl), ctrl,
			       DB_CLUSTER_SOCKET_NAME);
}

bool smbd_db_is_clustered(const struct smb_conf *conf)
{
	return conf->global.clustering;
}

/* Worth waiting for: clusterd not in sync (or without quorum) yet
 * (INVALID_DEVICE_STATE), not (yet) listening (a connect error), slow.
 * Not: a bad name, no memory, no permission on the socket. */
static bool open_retryable(NTSTATUS status)
{
	return !NT_STATUS_EQUAL(status, NT_STATUS_INVALID_PARAMETER) &&
	       !NT_STATUS_EQUAL(status, NT_STATUS_NO_MEMORY) &&
	       !NT_STATUS_EQUAL(status, NT_STATUS_ACCESS_DENIED);
}

/*
 * The databases that stay on this node with clustering.  Every other
 * database smbd opens is replicated (locking, leases, brlock: other
 * nodes' opens must see them; smbXsrv_client/session/tcon_global: ids
 * reserved cluster-wide, smbstatus of every node, a client's previous
 * session on another node; connections: max connections counts the
 * whole cluster).
 *
 * smbXsrv_open_global: one record per open, created at id reservation,
 * completed when the CREATE succeeds, deleted at close: three CPG round
 * trips per open/close pair if replicated, and no other node reads it:
 * cross-node opens meet in the share-mode record (locking), smbstatus
 * lists every node's opens from the share-mode entries, the cleanups of
 * dead processes only touch this node's processes' records, and the
 * persistent ids carry the node id (SMBD_PERSISTENT_ID_NODE_BITS), so a
 * reservation on one node cannot clash with another's.  It is replicated
 * by default all the same, as the design wants every smbXsrv global
 * record on every node (a survivor will find a dead node's opens there
 * once durable handles are built); "cluster replicate open records = no"
 * keeps it node-local for the speed.
 */
bool smbd_db_node_local(const struct smb_conf *conf, const char *name)
{
	return !conf->global.cluster_replicate_open_records &&
	       strcmp(name, "smbXsrv_open_global") == 0;
}

struct db_context *smbd_db_open(TALLOC_CTX *mem_ctx,
				struct messaging_context *msg,
				const struct smb_conf *conf, const char *name)
{
	struct db_context *db = NULL;
	int64_t deadline;
	char *path;
	NTSTATUS status;

	if (!conf->global.clustering || smbd_db_node_local(conf, name)) {
		path = talloc_asprintf(mem_ctx, "%s/%s.tdb",
				       conf->global.lock_directory, name);
		if (path == NULL) {
			return NULL;
		}
		db = db_open_tdb(mem_ctx, msg, path, 0, DBWRAP_FLAG_NONE);
		talloc_free(path);
		return db;
	}
	path = smbd_cluster_db_socket(mem_ctx, conf);
	if (path == NULL) {
		return NULL;
	}
	deadline = now_ms() + (int64_t)SMBD_CLUSTER_WAIT_S * 1000;
	for (;;) {
		status = db_open_cluster_ex(mem_ctx, msg, path, name, 0, &db);
		if (NT_STATUS_IS_OK(status) || !open_retryable(status) ||
		    now_ms() >= deadline) {
			break;
		}
		sleep_ms(CLUSTER_POLL_MS * 4);
	}
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("cannot attach replicated database %s through %s: "
			"%s\n", name, path, nt_errstr(status));
	}
	talloc_free(path);
	return db;
}

bool smbd_db_retry(NTSTATUS status, unsigned *attempt, const char *what)
{
	if (!NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
		return false;
	}
	if (*attempt + 1 >= SMBD_DB_MAX_RETRIES) {
		DBG_ERR("%s: the record was changed by other nodes %u times in "
			"a row, giving up\n", what, *attempt + 1);
		return false;
	}
	(*attempt)++;
	DBG_INFO("%s: changed on another node meanwhile, again (%u)\n",
		 what, *attempt);
	return true;
}

NTSTATUS smbd_db_retry_status(NTSTATUS status)
{
	/* NT_STATUS_RETRY means "wait and open again" to some callers
	 * (oplock breaks): a lost race must not look like that */
	return NT_STATUS_EQUAL(status, NT_STATUS_RETRY)
		       ? NT_STATUS_INTERNAL_DB_ERROR
		       : status;
}

NTSTATUS smbd_db_store(struct db_context *db, const uint8_t *key,
		       size_t keylen, const uint8_t *value, size_t valuelen)
{
	unsigned attempt = 0;
	NTSTATUS status;

	do {
		status = dbwrap_store(db, db_data_make(key, keylen),
				      db_data_make(value, valuelen));
	} while (smbd_db_retry(status, &attempt, dbwrap_name(db)));
	return smbd_db_retry_status(status);
}

NTSTATUS smbd_db_delete(struct db_context *db, const uint8_t *key,
			size_t keylen)
{
	unsigned attempt = 0;
	NTSTATUS status;

	do {
		status = dbwrap_delete(db, db_data_make(key, keylen));
	} while (smbd_db_retry(status, &attempt, dbwrap_name(db)));
	return smbd_db_retry_status(status);
}
