/*
 * The user database of a configuration (lib/userdb/userdb.h): a local tdb,
 * or in a cluster ("clustering = yes") the persistent replicated database
 * "passdb" that every node shares (docs/cluster.md "Users in a cluster").
 * smbd's children and the smbuser tool open it through here.
 */
#ifndef SMBD_SMBD_USERDB_H
#define SMBD_SMBD_USERDB_H

#include <stdbool.h>
#include <talloc.h>

#include "lib/userdb/userdb.h"
#include "lib/util/ntstatus.h"

struct smb_conf;

/* The replicated database's name (one per cluster). */
#define SMBD_USERDB_CLUSTER_NAME "passdb"

/*
 * Without clustering: userdb_open(mem_ctx, path, create, out).  With it:
 * the persistent replicated "passdb" through the local clusterd
 * (path and create are not used: the database exists once attached),
 * waiting up to wait_s seconds while clusterd is not running or not in
 * sync.  *out on mem_ctx.
 */
NTSTATUS smbd_userdb_open(TALLOC_CTX *mem_ctx, const struct smb_conf *conf,
			  const char *path, bool create, int wait_s,
			  struct userdb **out);

#endif
