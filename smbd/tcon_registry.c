/*
 * "max connections": the tree connects of every smbd process, per share,
 * in connections.tdb (lock directory) through dbwrap.
 *
 * One record per share, keyed by the lower-cased share name, holding the
 * list of tree connects (REC_CONNECTIONS v1: u32 count, then per entry
 * the owner's server_id and the tree id).  Counting and adding happen
 * under the record's lock, so two processes cannot both take the last
 * slot.  Entries of processes that died without cleaning up are dropped
 * whenever the record is changed.
 */
#include "smbd/tcon_registry.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "dbwrap/dbwrap.h"
#include "lib/param/loadparm.h"
#include "lib/util/debug.h"
#include "lib/util/marshall.h"
#include "messaging/messaging.h"
#include "smbd/smbd_cluster.h"

#define CONNECTIONS_VERSION 1
#define ENTRY_WIRE_SIZE (SERVER_ID_WIRE_SIZE + 4)

struct tcon_registry {
	struct db_context *db;
};

struct conn_entry {
	struct server_id owner;
	uint32_t tid;
};

static struct tcon_registry *registry_get(struct smbd_client *client)
{
	struct tcon_registry *r = client->tcon_registry;

	if (r != NULL) {
		return r;
	}
	r = talloc_zero(client, struct tcon_registry);
	if (r == NULL) {
		return NULL;
	}
	/* volatile: tree connects do not outlive their processes */
	r->db = smbd_db_open(r, client->msg, client->conf, "connections");
	if (r->db == NULL) {
		talloc_free(r);
		return NULL;
	}
	client->tcon_registry = r;
	return r;
}

static struct server_id own_id(struct smbd_client *client)
{
	struct server_id id = {.pid = (uint32_t)getpid()};

	if (client->msg != NULL) {
		id = messaging_server_id(client->msg);
	}
	return id;
}

static bool owner_alive(struct smbd_client *client, const struct server_id *id)
{
	if (client->msg != NULL) {
		return server_id_is_alive(client->msg, id);
	}
	return id->pid != 0 &&
	       !(kill((pid_t)id->pid, 0) == -1 && errno == ESRCH);
}

/* "Share" and "SHARE" are one share. */
static char *share_key(TALLOC_CTX *mem_ctx, const char *share)
{
	char *key = talloc_strdup(mem_ctx, share);
	char *p;

	for (p = key; p != NULL && *p != '\0'; p++) {
		*p = (char)tolower((unsigned char)*p);
	}
	return key;
}

static NTSTATUS entries_pull(TALLOC_CTX *mem_ctx, struct db_data data,
			     struct conn_entry **pe, uint32_t *pnum)
{
	struct marshall_pull r;
	struct conn_entry *e;
	uint8_t idbuf[SERVER_ID_WIRE_SIZE];
	uint32_t i, n;
	NTSTATUS status;

	*pe = NULL;
	*pnum = 0;
	if (data.dsize == 0) {
		/* no record: an empty list with the spare slot */
		*pe = talloc_array(mem_ctx, struct conn_entry, 1);
		return *pe != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	}
	status = marshall_pull_init(&r, data.dptr, data.dsize,
				    REC_CONNECTIONS, CONNECTIONS_VERSION);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (!marshall_pull_count(&r, &n, ENTRY_WIRE_SIZE)) {
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	/* one spare slot for the caller's append */
	e = talloc_array(mem_ctx, struct conn_entry, n + 1);
	if (e == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < n; i++) {
		marshall_pull_bytes(&r, idbuf, sizeof(idbuf));
		marshall_pull_u32(&r, &e[i].tid);
		server_id_pull(idbuf, &e[i].owner);
	}
	status = marshall_pull_finish(&r);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(e);
		return status;
	}
	*pe = e;
	*pnum = n;
	return NT_STATUS_OK;
}

/* Store the list, or delete the record when it is empty. */
static NTSTATUS entries_store(struct db_record *rec,
			      const struct conn_entry *e, uint32_t num)
{
	struct marshall_push *p;
	uint8_t idbuf[SERVER_ID_WIRE_SIZE];
	struct db_data value;
	NTSTATUS status;
	uint32_t i;

	if (num == 0) {
		return dbwrap_record_delete(rec);
	}
	p = marshall_push_init(rec, REC_CONNECTIONS, CONNECTIONS_VERSION);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, num);
	for (i = 0; i < num; i++) {
		server_id_push(idbuf, &e[i].owner);
		marshall_push_bytes(p, idbuf, sizeof(idbuf));
		marshall_push_u32(p, e[i].tid);
	}
	status = marshall_push_finish(p, &value.dptr, &value.dsize);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = dbwrap_record_store(rec, value);
	talloc_free(value.dptr);
	return status;
}

NTSTATUS smbd_tcon_registry_add(struct smbd_tcon *tcon, const char *share,
				int max)
{
	struct smbd_client *client = tcon->session->client;
	struct tcon_registry *r;
	struct db_record *rec;
	struct conn_entry *e;
	uint32_t num, i, live;
	char *key;
	unsigned attempt = 0;
	NTSTATUS status;

	if (max <= 0) {
		return NT_STATUS_OK;
	}
	r = registry_get(client);
	if (r == NULL) {
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	key = share_key(tcon, share);
	if (key == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
again:
	rec = dbwrap_fetch_locked(r->db, key, db_data_string(key));
	if (rec == NULL) {
		talloc_free(key);
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	status = entries_pull(rec, dbwrap_record_get_value(rec), &e, &num);
	if (!NT_STATUS_IS_OK(status)) {
		/* an unreadable list counts nobody; it is rewritten below */
		DBG_ERR("connections.tdb: share '%s': %s; list reset\n", key,
			nt_errstr(status));
		e = talloc_array(rec, struct conn_entry, 1);
		num = 0;
		if (e == NULL) {
			talloc_free(rec);
			talloc_free(key);
			return NT_STATUS_NO_MEMORY;
		}
	}
	/* drop the tree connects of processes that died */
	for (i = live = 0; i < num; i++) {
		if (owner_alive(client, &e[i].owner)) {
			e[live++] = e[i];
		}
	}
	if (live >= (uint32_t)max) {
		if (live != num) {
			/* a cleanup only: losing it to another node's
			 * change of the list loses nothing */
			(void)entries_store(rec, e, live);
		}
		talloc_free(rec);
		talloc_free(key);
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	}
	/* live < max <= INT_MAX, and the array has a spare slot */
	e[live].owner = own_id(client);
	e[live].tid = tcon->id;
	status = entries_store(rec, e, live + 1);
	TALLOC_FREE(rec);
	/* a tree connect on another node changed the list: count again */
	if (smbd_db_retry(status, &attempt, "counting tree connects")) {
		goto again;
	}
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(key);
		return smbd_db_retry_status(status);
	}
	tcon->registry_key = key;
	return NT_STATUS_OK;
}

void smbd_tcon_registry_remove(struct smbd_tcon *tcon)
{
	struct smbd_client *client = tcon->session->client;
	struct tcon_registry *r = client->tcon_registry;
	struct server_id me;
	struct db_record *rec;
	struct conn_entry *e;
	uint32_t num, i, keep;
	unsigned attempt = 0;
	NTSTATUS status;

	if (tcon->registry_key == NULL || r == NULL) {
		return;
	}
	me = own_id(client);
again:
	rec = dbwrap_fetch_locked(r->db, tcon, db_data_string(tcon->registry_key));
	if (rec == NULL) {
		TALLOC_FREE(tcon->registry_key);
		return;
	}
	status = entries_pull(rec, dbwrap_record_get_value(rec), &e, &num);
	if (NT_STATUS_IS_OK(status)) {
		for (i = keep = 0; i < num; i++) {
			if (e[i].tid == tcon->id &&
			    server_id_equal(&e[i].owner, &me)) {
				continue;
			}
			e[keep++] = e[i];
		}
		if (keep != num) {
			status = entries_store(rec, e, keep);
		}
	}
	if (smbd_db_retry(status, &attempt, "removing a tree connect")) {
		talloc_free(rec);
		goto again;
	}
	if (!NT_STATUS_IS_OK(status)) {
		DBG_WARNING("connections.tdb: removing tree 0x%x: %s\n",
			    tcon->id, nt_errstr(status));
	}
	talloc_free(rec);
	TALLOC_FREE(tcon->registry_key);
}
