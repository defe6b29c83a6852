/*
 * The user database of a configuration (smbd_userdb.h).
 *
 * In a cluster the accounts must be the same on every node (a user added
 * on one node logs on through any public address), so they live in a
 * persistent replicated database: changes are transactions that every
 * node applies in the same order, and the replicas survive restarts of
 * clusterd and of the whole cluster (docs/cluster.md "Persistent
 * databases and transactions").
 */
#include "smbd/smbd_userdb.h"

#include <time.h>
#include <unistd.h>

#include "dbwrap/dbwrap_cluster.h"
#include "lib/param/loadparm.h"
#include "lib/util/debug.h"
#include "smbd/smbd_cluster.h"

/* Worth waiting for: clusterd not in sync (or without quorum) yet, or
 * not (yet) listening. */
static bool attach_retryable(NTSTATUS status)
{
	return NT_STATUS_EQUAL(status, NT_STATUS_INVALID_DEVICE_STATE) ||
	       NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND) ||
	       NT_STATUS_EQUAL(status, NT_STATUS_CONNECTION_DISCONNECTED) ||
	       NT_STATUS_EQUAL(status, NT_STATUS_IO_TIMEOUT);
}

NTSTATUS smbd_userdb_open(TALLOC_CTX *mem_ctx, const struct smb_conf *conf,
			  const char *path, bool create, int wait_s,
			  struct userdb **out)
{
	struct db_context *db = NULL;
	time_t deadline = time(NULL) + (wait_s > 0 ? wait_s : 0);
	char *sock;
	NTSTATUS status;

	*out = NULL;
	if (!conf->global.clustering) {
		return userdb_open(mem_ctx, path, create, out);
	}
	sock = smbd_cluster_db_socket(mem_ctx, conf);
	if (sock == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (;;) {
		status = db_open_cluster_flags(mem_ctx, NULL, sock,
					       SMBD_USERDB_CLUSTER_NAME,
					       DBWRAP_FLAG_PERSISTENT, 0, &db);
		if (NT_STATUS_IS_OK(status) || !attach_retryable(status) ||
		    time(NULL) >= deadline) {
			break;
		}
		usleep(250 * 1000);
	}
	talloc_free(sock);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("cannot attach the replicated user database %s: %s\n",
			SMBD_USERDB_CLUSTER_NAME, nt_errstr(status));
		return status;
	}
	status = userdb_open_db(mem_ctx, db, out);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(db);
	}
	return status;
}
