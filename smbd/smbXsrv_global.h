/*
 * The smbXsrv *_global databases: one record per client, session, tree
 * connect and open of every smbd process, in dbwrap databases in the lock
 * directory (record encodings: smbXsrv_records.h).  The smbd process that
 * owns an object keeps its record up to date; the parent removes the
 * records of a child that died (smbXsrv_global_cleanup_owner) and the
 * status CLI (tools/smbstatus) reads them.
 *
 * Ids stay unique across processes because each is reserved in its
 * database under the record lock: a session id or persistent file id
 * whose record exists (with an owner that is alive) is never handed out
 * again.
 */
#ifndef SMBD_SMBXSRV_GLOBAL_H
#define SMBD_SMBXSRV_GLOBAL_H

#include "smbd/smbd.h"
#include "smbd/smbXsrv_records.h"

struct db_context;

enum smbXsrv_global_db {
	SMBXSRV_DB_CLIENT = 0,
	SMBXSRV_DB_SESSION,
	SMBXSRV_DB_TCON,
	SMBXSRV_DB_OPEN,
	SMBXSRV_DB_COUNT
};

/* Name of each database (smbd_db_open(): "<name>.tdb" in the lock
 * directory, or the replicated database of that name). */
const char *smbXsrv_global_db_name(enum smbXsrv_global_db which);

struct smbXsrv_global_dbs {
	struct db_context *db[SMBXSRV_DB_COUNT];
};

/* Open (create) the four databases (smbd_db_open()); msg may be NULL. */
struct smb_conf;
struct smbXsrv_global_dbs *smbXsrv_global_dbs_open(
	TALLOC_CTX *mem_ctx, struct messaging_context *msg,
	const struct smb_conf *conf);

/* The process that owns the objects of client (its messaging id). */
struct server_id smbd_client_server_id(const struct smbd_client *client);

/* Reserve a fresh random id; false if the databases cannot be used. */
bool smbXsrv_session_global_reserve(struct smbd_session *session,
				    uint64_t id);
NTSTATUS smbXsrv_session_global_store(struct smbd_session *session,
				      struct smbd_connection *conn);
void smbXsrv_session_global_remove(struct smbd_session *session);

NTSTATUS smbXsrv_tcon_global_store(struct smbd_tcon *tcon);
void smbXsrv_tcon_global_remove(struct smbd_tcon *tcon);

/* Reserve id for op and store op's record (its fields are set: the
 * reservation is the open's one write); false if a live process holds
 * id or the database cannot be used. */
bool smbXsrv_open_global_reserve(struct smbd_open *op, uint64_t id);
void smbXsrv_open_global_remove(struct smbd_open *op);

NTSTATUS smbXsrv_client_global_store(struct smbd_connection *conn);
void smbXsrv_client_global_remove(struct smbd_client *client);

/*
 * Remove every record whose owner is on this node with this pid (the
 * parent calls it for each child it reaps).  Returns how many went.
 */
int smbXsrv_global_cleanup_owner(struct smbXsrv_global_dbs *dbs,
				 uint32_t node, pid_t pid);
/* The same for every record whose owner gone() says is gone
 * (smbd_cluster.h smbd_owner_gone_fn). */
int smbXsrv_global_cleanup(struct smbXsrv_global_dbs *dbs,
			   bool (*gone)(const struct server_id *owner,
					void *private_data),
			   void *private_data);

#endif
