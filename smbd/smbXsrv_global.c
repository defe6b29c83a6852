/*
 * The smbXsrv *_global databases (smbXsrv_global.h).
 *
 * Writes are best effort for the status view (a failed store is logged,
 * the client's request still succeeds) except id reservation, which must
 * succeed for an id to be used: two processes must never hand out the
 * same session id or persistent file id.
 */
#include "smbd/smbXsrv_global.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "dbwrap/dbwrap.h"
#include "lib/param/loadparm.h"
#include "lib/util/debug.h"
#include "smbd/smbd_cluster.h"
#include "smbd/vfs/impersonate.h"

static const char *const db_names[SMBXSRV_DB_COUNT] = {
	[SMBXSRV_DB_CLIENT] = "smbXsrv_client_global",
	[SMBXSRV_DB_SESSION] = "smbXsrv_session_global",
	[SMBXSRV_DB_TCON] = "smbXsrv_tcon_global",
	[SMBXSRV_DB_OPEN] = "smbXsrv_open_global",
};

const char *smbXsrv_global_db_name(enum smbXsrv_global_db which)
{
	return which < SMBXSRV_DB_COUNT ? db_names[which] : NULL;
}

struct smbXsrv_global_dbs *smbXsrv_global_dbs_open(
	TALLOC_CTX *mem_ctx, struct messaging_context *msg,
	const struct smb_conf *conf)
{
	struct smbXsrv_global_dbs *dbs =
		talloc_zero(mem_ctx, struct smbXsrv_global_dbs);
	int i;

	if (dbs == NULL) {
		return NULL;
	}
	for (i = 0; i < SMBXSRV_DB_COUNT; i++) {
		dbs->db[i] = smbd_db_open(dbs, msg, conf, db_names[i]);
		if (dbs->db[i] == NULL) {
			talloc_free(dbs);
			return NULL;
		}
	}
	return dbs;
}

struct server_id smbd_client_server_id(const struct smbd_client *client)
{
	struct server_id id = {.pid = (uint32_t)getpid()};

	if (client->msg != NULL) {
		id = messaging_server_id(client->msg);
	}
	return id;
}

static struct db_context *client_db(struct smbd_client *client,
				    enum smbXsrv_global_db which)
{
	if (client->globals == NULL) {
		client->globals = smbXsrv_global_dbs_open(
			client, client->msg, client->conf);
		if (client->globals == NULL) {
			return NULL;
		}
	}
	return client->globals->db[which];
}

/*
 * Is the record's owner a live process other than us?  A record with a
 * dead owner is garbage that a reaping parent has not removed yet.
 */
struct owner_probe {
	struct server_id owner;
	bool decoded;
};

static bool owner_alive(struct smbd_client *client,
			const struct server_id *owner)
{
	struct server_id self = smbd_client_server_id(client);

	if (owner->node == self.node && owner->pid == self.pid) {
		return true;
	}
	if (client->msg != NULL) {
		return server_id_is_alive(client->msg, owner);
	}
	return owner->node != self.node || kill((pid_t)owner->pid, 0) == 0;
}

/* Every record starts (after its 4-byte header) with fields this module
 * controls; for reservation it is enough to know the owner. */
static bool record_owner(enum smbXsrv_global_db which, struct db_data value,
			 struct server_id *owner)
{
	TALLOC_CTX *frame = talloc_new(NULL);
	bool ok = false;

	switch (which) {
	case SMBXSRV_DB_SESSION: {
		struct smbXsrv_session_global g;
		ok = NT_STATUS_IS_OK(smbXsrv_session_global_decode(
			frame, value.dptr, value.dsize, &g));
		*owner = g.owner;
		break;
	}
	case SMBXSRV_DB_OPEN: {
		struct smbXsrv_open_global g;
		ok = NT_STATUS_IS_OK(smbXsrv_open_global_decode(
			frame, value.dptr, value.dsize, &g));
		*owner = g.owner;
		break;
	}
	case SMBXSRV_DB_TCON: {
		struct smbXsrv_tcon_global g;
		ok = NT_STATUS_IS_OK(smbXsrv_tcon_global_decode(
			frame, value.dptr, value.dsize, &g));
		*owner = g.owner;
		break;
	}
	case SMBXSRV_DB_CLIENT: {
		struct smbXsrv_client_global g;
		ok = NT_STATUS_IS_OK(smbXsrv_client_global_decode(
			frame, value.dptr, value.dsize, &g));
		*owner = g.owner;
		break;
	}
	default:
		break;
	}
	talloc_free(frame);
	return ok;
}

/* Store value under key if the key is free (no record, an undecodable
 * one, or one whose owner died); false if someone alive holds it. */
static bool reserve_key(struct smbd_client *client,
			enum smbXsrv_global_db which, struct db_data key,
			struct db_data value)
{
	struct db_context *db = client_db(client, which);
	struct db_record *rec;
	struct db_data old;
	struct server_id owner;
	unsigned attempt = 0;
	NTSTATUS status;

	if (db == NULL) {
		return false;
	}
again:
	rec = dbwrap_fetch_locked(db, client, key);
	if (rec == NULL) {
		return false;
	}
	old = dbwrap_record_get_value(rec);
	if (old.dsize > 0 && record_owner(which, old, &owner) &&
	    owner_alive(client, &owner)) {
		talloc_free(rec);
		return false;
	}
	status = dbwrap_record_store(rec, value);
	talloc_free(rec);
	/* a process on another node took or changed the key meanwhile:
	 * look at its owner again */
	if (smbd_db_retry(status, &attempt, "reserving an id")) {
		goto again;
	}
	return NT_STATUS_IS_OK(status);
}

static void store_key(struct smbd_client *client,
		      enum smbXsrv_global_db which, struct db_data key,
		      struct db_data value, NTSTATUS *result)
{
	struct db_context *db = client_db(client, which);

	*result = (db == NULL) ? NT_STATUS_INTERNAL_DB_ERROR
			       : smbd_db_store(db, key.dptr, key.dsize,
					       value.dptr, value.dsize);
	if (!NT_STATUS_IS_OK(*result)) {
		DBG_WARNING("storing a record in %s: %s\n",
			    db_names[which], nt_errstr(*result));
	}
}

static void remove_key(struct smbd_client *client,
		       enum smbXsrv_global_db which, struct db_data key)
{
	struct db_context *db;

	if (client->globals == NULL) {
		return; /* nothing was ever stored */
	}
	db = client->globals->db[which];
	(void)smbd_db_delete(db, key.dptr, key.dsize);
}

/* Sessions */

static void session_global_fill(struct smbd_session *session,
				struct smbd_connection *conn,
				struct smbXsrv_session_global *g)
{
	struct smbd_client *client = session->client;

	*g = (struct smbXsrv_session_global){
		.session_id = session->id,
		.owner = smbd_client_server_id(client),
		.state = session->state == SMBD_SESSION_VALID
				 ? SMBXSRV_SESSION_GLOBAL_VALID
				 : (session->state == SMBD_SESSION_EXPIRED
					    ? SMBXSRV_SESSION_GLOBAL_EXPIRED
					    : SMBXSRV_SESSION_GLOBAL_IN_PROGRESS),
		.account = session->account,
		.domain = session->domain,
		.unix_user = session->unix_user,
		.signing_required = session->signing_required,
		.encryption_required = session->encrypt_required,
		.guest = session->guest,
		.anonymous = session->anonymous,
		.auth_time = session->auth_time != 0
				     ? ((uint64_t)session->auth_time +
					11644473600ull) * 10000000ull
				     : 0,
	};
	memcpy(g->client_guid, client->client_guid, 16);
	if (session->creds != NULL) {
		g->uid = session->creds->uid;
		g->gid = session->creds->gid;
	}
	if (conn != NULL) {
		g->remote_addr = conn->remote_addr;
		g->dialect = conn->dialect;
		g->has_signing_key = session->has_signing_key;
		g->signing_algo = conn->signing_algo;
		g->cipher_id = session->cipher_key_len > 0 ? conn->cipher_id
							   : 0;
	}
}

bool smbXsrv_session_global_reserve(struct smbd_session *session, uint64_t id)
{
	struct smbXsrv_session_global g;
	uint8_t key[8];
	uint8_t *buf;
	size_t len;
	bool ok;

	session->id = id;
	session_global_fill(session, session->client->connections, &g);
	if (!NT_STATUS_IS_OK(smbXsrv_session_global_encode(session, &g, &buf,
							   &len))) {
		return false;
	}
	smbXsrv_session_global_key(key, id);
	ok = reserve_key(session->client, SMBXSRV_DB_SESSION,
			 db_data_make(key, sizeof(key)),
			 db_data_make(buf, len));
	talloc_free(buf);
	return ok;
}

NTSTATUS smbXsrv_session_global_store(struct smbd_session *session,
				      struct smbd_connection *conn)
{
	struct smbXsrv_session_global g;
	uint8_t key[8];
	uint8_t *buf;
	size_t len;
	NTSTATUS status;

	session_global_fill(session, conn, &g);
	status = smbXsrv_session_global_encode(session, &g, &buf, &len);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	smbXsrv_session_global_key(key, session->id);
	store_key(session->client, SMBXSRV_DB_SESSION,
		  db_data_make(key, sizeof(key)), db_data_make(buf, len),
		  &status);
	talloc_free(buf);
	return status;
}

void smbXsrv_session_global_remove(struct smbd_session *session)
{
	uint8_t key[8];

	smbXsrv_session_global_key(key, session->id);
	remove_key(session->client, SMBXSRV_DB_SESSION,
		   db_data_make(key, sizeof(key)));
}

/* Tree connects */

NTSTATUS smbXsrv_tcon_global_store(struct smbd_tcon *tcon)
{
	struct smbd_client *client = tcon->session->client;
	struct smbXsrv_tcon_global g = {
		.session_id = tcon->session->id,
		.tcon_id = tcon->id,
		.owner = smbd_client_server_id(client),
		.share_name = tcon->share != NULL ? tcon->share->name : NULL,
		.share_path = (tcon->share != NULL && !tcon->is_ipc)
				      ? tcon->share->path
				      : "",
		.connect_time = smbd_nt_time_now(),
		.encryption_required = tcon->session->encrypt_required,
	};
	uint8_t key[SMBXSRV_TCON_KEY_SIZE];
	uint8_t *buf;
	size_t len;
	NTSTATUS status;

	status = smbXsrv_tcon_global_encode(tcon, &g, &buf, &len);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	smbXsrv_tcon_global_key(key, tcon->session->id, tcon->id);
	store_key(client, SMBXSRV_DB_TCON, db_data_make(key, sizeof(key)),
		  db_data_make(buf, len), &status);
	talloc_free(buf);
	return status;
}

void smbXsrv_tcon_global_remove(struct smbd_tcon *tcon)
{
	uint8_t key[SMBXSRV_TCON_KEY_SIZE];

	smbXsrv_tcon_global_key(key, tcon->session->id, tcon->id);
	remove_key(tcon->session->client, SMBXSRV_DB_TCON,
		   db_data_make(key, sizeof(key)));
}

/* Opens */

static void open_global_fill(struct smbd_open *op,
			     struct smbXsrv_open_global *g)
{
	struct smbd_tcon *tcon = op->tcon;
	struct smbd_client *client = tcon->session->client;

	*g = (struct smbXsrv_open_global){
		.persistent_id = op->persistent_id,
		.volatile_id = op->volatile_id,
		.owner = smbd_client_server_id(client),
		.session_id = tcon->session->id,
		.tcon_id = tcon->id,
		.share_name = tcon->share != NULL ? tcon->share->name : NULL,
		.share_path = (tcon->share != NULL && !tcon->is_ipc)
				      ? tcon->share->path
				      : "",
		.relpath = op->relpath,
		.stream = op->stream_name,
		.is_dir = op->is_dir,
		.access_mask = op->access_mask,
		.share_access = op->share_access,
		.open_time = smbd_nt_time_now(),
	};
	memcpy(g->client_guid, client->client_guid, 16);
	memcpy(g->create_guid, op->create_guid, 16);
}

bool smbXsrv_open_global_reserve(struct smbd_open *op, uint64_t id)
{
	struct smbXsrv_open_global g;
	uint8_t key[8];
	uint8_t *buf;
	size_t len;
	bool ok;

	op->persistent_id = id;
	open_global_fill(op, &g);
	if (!NT_STATUS_IS_OK(smbXsrv_open_global_encode(op, &g, &buf,
							&len))) {
		return false;
	}
	smbXsrv_open_global_key(key, id);
	ok = reserve_key(op->tcon->session->client, SMBXSRV_DB_OPEN,
			 db_data_make(key, sizeof(key)),
			 db_data_make(buf, len));
	talloc_free(buf);
	return ok;
}

void smbXsrv_open_global_remove(struct smbd_open *op)
{
	uint8_t key[8];

	smbXsrv_open_global_key(key, op->persistent_id);
	remove_key(op->tcon->session->client, SMBXSRV_DB_OPEN,
		   db_data_make(key, sizeof(key)));
}

/* Clients */

static bool guid_is_zero(const uint8_t guid[16])
{
	static const uint8_t zero[16];
	return memcmp(guid, zero, 16) == 0;
}

NTSTATUS smbXsrv_client_global_store(struct smbd_connection *conn)
{
	struct smbd_client *client = conn->client;
	struct smbXsrv_client_global g = {
		.owner = smbd_client_server_id(client),
		.dialect = conn->dialect,
		.connect_time = smbd_nt_time_now(),
		.remote_addr = conn->remote_addr,
		.local_addr = conn->local_addr,
		.num_channels = 1,
	};
	uint8_t *buf;
	size_t len;
	NTSTATUS status;

	/* SMB 2.0.2 clients send no ClientGuid: nothing to find them by. */
	if (guid_is_zero(client->client_guid)) {
		return NT_STATUS_OK;
	}
	memcpy(g.client_guid, client->client_guid, 16);
	status = smbXsrv_client_global_encode(client, &g, &buf, &len);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	/* The first live process to negotiate for a ClientGuid owns it
	 * (multichannel will pass later connections to that owner). */
	if (!reserve_key(client, SMBXSRV_DB_CLIENT,
			 db_data_make(client->client_guid, 16),
			 db_data_make(buf, len))) {
		DBG_INFO("client guid already served by another process\n");
	}
	talloc_free(buf);
	return NT_STATUS_OK;
}

struct client_remove_state {
	struct server_id self;
	bool ours;
};

static void client_owner_parser(struct db_data key, struct db_data data,
				void *private_data)
{
	struct client_remove_state *state = private_data;
	struct server_id owner;

	state->ours = record_owner(SMBXSRV_DB_CLIENT, data, &owner) &&
		      owner.node == state->self.node &&
		      owner.pid == state->self.pid;
}

void smbXsrv_client_global_remove(struct smbd_client *client)
{
	struct client_remove_state state = {
		.self = smbd_client_server_id(client),
	};
	struct db_record *rec;
	unsigned attempt = 0;
	NTSTATUS status;

	if (client->globals == NULL || guid_is_zero(client->client_guid)) {
		return;
	}
again:
	rec = dbwrap_fetch_locked(client->globals->db[SMBXSRV_DB_CLIENT],
				  client, db_data_make(client->client_guid, 16));
	if (rec == NULL) {
		return;
	}
	state.ours = false;
	client_owner_parser(dbwrap_record_get_key(rec),
			    dbwrap_record_get_value(rec), &state);
	status = state.ours ? dbwrap_record_delete(rec) : NT_STATUS_OK;
	talloc_free(rec);
	if (smbd_db_retry(status, &attempt, "removing a client record")) {
		goto again;
	}
}

/* Cleanup after a dead process */

struct cleanup_state {
	enum smbXsrv_global_db which;
	smbd_owner_gone_fn gone;
	void *private_data;
	int removed;
	bool again; /* a delete lost to another node's change */
};

static void cleanup_delete(struct cleanup_state *state, struct db_record *rec)
{
	NTSTATUS status = dbwrap_record_delete(rec);

	if (NT_STATUS_IS_OK(status)) {
		state->removed++;
	} else if (NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
		state->again = true; /* the next walk reads it anew */
	}
}

static int cleanup_fn(struct db_record *rec, void *private_data)
{
	struct cleanup_state *state = private_data;
	struct server_id owner;

	if (!record_owner(state->which, dbwrap_record_get_value(rec),
			  &owner)) {
		/* undecodable: nobody can use it, it would only hide ids */
		cleanup_delete(state, rec);
		return 0;
	}
	if (state->gone(&owner, state->private_data)) {
		cleanup_delete(state, rec);
	}
	return 0;
}

int smbXsrv_global_cleanup(struct smbXsrv_global_dbs *dbs,
			   smbd_owner_gone_fn gone, void *private_data)
{
	struct cleanup_state state = {.gone = gone,
				      .private_data = private_data};
	int i, walks;

	for (i = 0; i < SMBXSRV_DB_COUNT; i++) {
		state.which = i;
		walks = 0;
		do {
			state.again = false;
			(void)dbwrap_traverse(dbs->db[i], cleanup_fn, &state,
					      NULL);
		} while (state.again && ++walks < SMBD_CLEANUP_MAX_WALKS);
	}
	return state.removed;
}

struct owner_match {
	uint32_t node, pid;
};

static bool is_that_process(const struct server_id *id, void *private_data)
{
	const struct owner_match *m = private_data;

	return id->node == m->node && id->pid == m->pid;
}

int smbXsrv_global_cleanup_owner(struct smbXsrv_global_dbs *dbs,
				 uint32_t node, pid_t pid)
{
	struct owner_match m = {.node = node, .pid = (uint32_t)pid};

	return smbXsrv_global_cleanup(dbs, is_that_process, &m);
}
