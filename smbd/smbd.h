/*
 * Core objects of an smbd child process and the contract between the
 * transport/dispatch layer and the per-command files (smb2_<command>.c).
 *
 * Ownership (talloc):
 *   smbd_client                   one per child process (one SMB client)
 *     +- smbd_connection          one TCP connection (a channel)
 *     |    +- smbd_compound       one received frame, until its reply is sent
 *     |         +- smbd_request   one SMB2 command of that frame
 *     +- smbd_session             authenticated (or in-progress) session
 *          +- smbd_tcon           tree connect
 *               +- smbd_open      open file or directory
 *
 * Each of session, tcon and open will also have a *_global record in a
 * dbwrap database (see docs/architecture.md); today the ids are allocated
 * per process and the records live only here.
 *
 * A command handler is
 *     NTSTATUS smbd_smb2_<cmd>(struct smbd_request *req);
 * It reads req->in_body (req->in_body_len bytes, the fixed part already
 * checked against the command's StructureSize), and either
 *   - returns a final status, having built its reply body with
 *     smbd_request_reply() when the status carries a body (success,
 *     STATUS_BUFFER_OVERFLOW, STATUS_MORE_PROCESSING_REQUIRED...); an error
 *     with no body gets the standard 9-byte error response, or
 *   - starts asynchronous work (a tevent_req hung off req) and returns
 *     NT_STATUS_PENDING; the callback later calls smbd_request_done().
 */
#ifndef SMBD_SMBD_H
#define SMBD_SMBD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <talloc.h>
#include <tevent.h>

#include "lib/util/ntstatus.h"
#include "smbd/dosmode.h"
#include "smbd/smb2_wire.h"

struct smb_conf;
struct smb_conf_share;
struct userdb;
struct vfs_pool;
struct vfs_creds;
struct vfs_share;
struct gensec_server;

struct smbd_client;
struct smbd_connection;
struct smbd_session;
struct smbd_tcon;
struct smbd_open;
struct smbd_request;
struct smbd_compound;
struct tcon_registry;
struct nt_token;
struct messaging_context;
struct smbXsrv_global_dbs;
struct smbd_oplock_ctx;
struct smbd_open_oplock;
struct smbd_brl_open;
struct db_context;

/* The server-wide settings smbd acts on, derived once from smb.conf
 * (smbd_settings.c) so the protocol code does not parse configuration. */
struct smbd_settings {
	uint16_t min_protocol; /* SMB2_DIALECT_REVISION_* */
	uint16_t max_protocol;
	bool signing_required; /* server signing = mandatory */
	uint32_t max_read_size;
	uint32_t max_write_size;
	uint32_t max_trans_size;
	uint32_t max_credits;
	const char *netbios_name;
	const char *workgroup;
	const char *dns_domain;
	int map_to_guest; /* enum auth_map_to_guest */
	const char *guest_account;
	bool allow_anonymous;
	uint32_t max_open_files;
	bool encryption_offered; /* server smb encrypt != off */
	bool encryption_required; /* server smb encrypt = required */
	uint16_t *ports; /* smb ports */
	size_t num_ports;
	char **interfaces; /* NULL-terminated, may be NULL */
	bool bind_interfaces_only;
	unsigned max_connections; /* max smbd processes; 0 = unlimited */
};

/* Everything a child needs from the parent; no globals. */
struct smbd_child_context {
	struct tevent_context *ev;
	const struct smb_conf *conf;
	const struct smbd_settings *settings;
	uint8_t server_guid[16];
	time_t start_time;
	const char *config_path;
	/* re-initialised for this child (messaging/messaging.h) */
	struct messaging_context *msg;
};

struct smbd_client {
	struct smbd_child_context *child;
	struct tevent_context *ev;
	const struct smb_conf *conf;
	const struct smbd_settings *settings;
	struct userdb *userdb;
	struct vfs_pool *pool;
	struct smbd_connection *connections; /* DLIST */
	struct smbd_session *sessions;	     /* DLIST */
	struct smbd_open **open_buckets;     /* by volatile id, see smbXsrv_open.c */
	uint32_t num_open_buckets;
	uint64_t next_session_id;
	uint32_t next_tree_id;
	uint64_t next_persistent_id;
	uint64_t next_volatile_id;
	uint64_t next_async_id;
	uint32_t num_opens;
	uint8_t server_guid[16];
	uint8_t client_guid[16];
	struct tcon_registry *tcon_registry; /* tcon_registry.c */
	/* this process in the messaging subsystem (messaging/messaging.h);
	 * NULL only in test harnesses without one */
	struct messaging_context *msg;
	struct smbXsrv_global_dbs *globals; /* smbXsrv_global.h */
	/* oplock breaks and leases of this process (oplock_break.c) */
	struct smbd_oplock_ctx *oplocks;
	struct db_context *share_mode_db; /* locking.tdb, share_mode_db.h */
	struct db_context *brlock_db;	  /* brlock.tdb, brlock.h */
	/* change notification of this process (notify.c), on demand */
	struct smbd_notify_ctx *notify_ctx;
	bool exiting;
};

struct smbd_connection {
	struct smbd_connection *prev, *next;
	struct smbd_client *client;
	struct smbd_transport *transport;
	char *remote_addr; /* "ip:port" for logs and status */
	char *local_addr;

	/* Negotiated state ([MS-SMB2] 3.3.1.7 Connection) */
	bool negotiated;
	bool smb1_upgrade_pending; /* answered an SMB1 negotiate with 2.??? */
	uint16_t dialect;
	uint16_t client_security_mode;
	uint16_t server_security_mode;
	uint32_t client_capabilities;
	uint32_t server_capabilities;
	uint16_t client_dialects[64];
	uint16_t num_client_dialects;
	uint16_t signing_algo;	  /* enum smb2_signing_algo */
	uint16_t cipher_id;	  /* 0 = none */
	bool signing_required;	  /* server signing = mandatory */
	uint8_t preauth_hash[64]; /* connection's preauth integrity hash */
	uint32_t max_trans_size;
	uint32_t max_read_size;
	uint32_t max_write_size;

	/* Credits and the sequence window ([MS-SMB2] 3.3.1.1) */
	uint64_t seq_low;    /* lowest message id not yet received */
	uint32_t seq_range;  /* ids seq_low .. seq_low+seq_range-1 allowed */
	uint8_t *seq_bitmap; /* used ids within the window, bit per id */
	uint32_t seq_bitmap_bits;
	uint32_t max_credits;

	struct smbd_request *pending; /* DLIST of requests gone async */
	bool terminating; /* smbd_connection_terminate() was called */
};

enum smbd_session_state {
	SMBD_SESSION_IN_PROGRESS,
	SMBD_SESSION_VALID,
	SMBD_SESSION_EXPIRED,
};

struct smbd_session {
	struct smbd_session *prev, *next;
	struct smbd_client *client;
	uint64_t id;
	enum smbd_session_state state;
	struct gensec_server *gensec; /* while IN_PROGRESS */
	uint8_t preauth_hash[64];     /* 3.1.1 session preauth hash */
	bool signing_required;
	bool guest;
	bool anonymous;
	char *account;	  /* SMB account name */
	char *domain;
	char *unix_user;
	struct vfs_creds *creds; /* whom file-system work runs as */
	struct nt_token *token;	 /* NT token of creds, nt_access.c */
	uint8_t session_key[16];
	uint8_t signing_key[16];
	uint8_t application_key[16];
	uint8_t encryption_key[32];
	uint8_t decryption_key[32];
	size_t cipher_key_len; /* 0: no encryption keys */
	bool encrypt_required;  /* SMB2_SESSION_FLAG_ENCRYPT_DATA given */
	bool has_signing_key;
	struct smbd_tcon *tcons; /* DLIST */
	time_t auth_time;
	/* Requests of this session still running (a job may use its
	 * credentials and tree connects); a LOGOFF waits for them. */
	unsigned pending;
	struct smbd_request *logoff_req;
	/* ended without a LOGOFF of its own (a PreviousSessionId, a failed
	 * re-authentication, another process's request): freed when its
	 * last pending request is answered, smbd_session_close() */
	bool closing;
};

struct smbd_tcon {
	struct smbd_tcon *prev, *next;
	struct smbd_session *session;
	uint32_t id;
	bool is_ipc;
	bool read_only;
	const struct smb_conf_share *share;
	struct vfs_share *vfs; /* share root, NULL for IPC$ */
	uint32_t maximal_access;
	/* Requests on this tree still running (a job may use vfs); a
	 * TREE_DISCONNECT cancels them and waits. */
	unsigned pending;
	struct smbd_request *disconnect_req;
	char *registry_key; /* counted for "max connections" */
};

/*
 * A file descriptor shared by an open and every I/O job in flight on it:
 * closing an open while a worker thread still reads from the fd must not
 * let the number be reused under it.  The fd is closed when the last
 * reference goes.
 */
struct smbd_fd {
	int fd;
	unsigned refs;
	/* data was written through it: its close may flush for long and
	 * goes to the client's pool (vfs_close_detached()), while there is
	 * one: the client's teardown frees the pool before the opens */
	bool written;
	struct smbd_client *client;
};
struct smbd_fd *smbd_fd_new(struct smbd_client *client, int fd);
struct smbd_fd *smbd_fd_ref(struct smbd_fd *f);
void smbd_fd_unref(struct smbd_fd *f);

struct smbd_dir_state; /* QUERY_DIRECTORY enumeration, smb2_query_directory.c */
struct smbd_notify;    /* CHANGE_NOTIFY watch, notify.h */
struct smbd_notify_ctx;

struct smbd_open {
	struct smbd_open *prev, *next; /* in client->open_buckets[] */
	struct smbd_tcon *tcon;
	uint64_t persistent_id;
	uint64_t volatile_id;
	struct smbd_fd *fd;
	char *relpath; /* beneath the share root, '/'-separated, "" = root */
	bool is_dir;
	uint32_t access_mask; /* granted */
	uint32_t share_access;
	uint32_t create_options;
	uint32_t create_disposition;
	bool delete_on_close;
	/* Set through FileDispositionInformation: the file is marked for
	 * deletion now, new opens fail with DELETE_PENDING ([MS-FSA]
	 * 2.1.5.14.3); FILE_DELETE_ON_CLOSE alone does not do that. */
	bool delete_pending;
	uint64_t position; /* FilePositionInformation */
	uint32_t mode;	   /* FileModeInformation */
	struct smbd_dir_state *dir;
	struct smbd_notify *notify; /* set by the first CHANGE_NOTIFY */
	uint8_t create_guid[16];
	char *stream_name;  /* a named stream of relpath, or NULL (streams.c) */
	uint32_t ea_index;  /* next EA of single-entry queries (ea.c) */
	/* the open's entry in the share-mode database (share_mode.h) */
	struct smbd_share_entry *share_entry;
	/* How writes, FLUSH, SET_INFO and CLOSE move the write time this
	 * open reports (smbd/dosmode.h "write time of one open"); the
	 * timer runs the delayed update after the first write
	 * (smb2_write.c) and is NULL when none is pending. */
	struct smbd_write_time write_time;
	struct tevent_timer *write_time_timer;
	/* the oplock or lease this open holds (oplock_break.c); NULL
	 * when none was granted */
	struct smbd_open_oplock *oplock;
	/* byte-range lock state (brlock.h), created on first use */
	struct smbd_brl_open *brl;
};

struct smbd_request {
	struct smbd_request *prev, *next; /* in connection->pending */
	struct smbd_connection *conn;
	struct smbd_compound *compound;
	unsigned index; /* position within the compound */

	/* the request as received: a slice of the frame */
	uint8_t *in_hdr; /* 64 bytes */
	uint8_t *in_body;
	size_t in_body_len; /* up to NextCommand or the end of the frame */
	size_t in_len;	    /* header + body, what the signature covers */
	/* a lone unsigned WRITE's data, left in pipes by the transport
	 * (smbd_connection_classify()); then in_body holds the fixed part
	 * only */
	struct smbd_pipe_payload *in_payload;
	uint16_t opcode;
	uint32_t flags;
	uint64_t mid;
	uint64_t in_session_id;
	uint32_t in_tree_id;
	uint16_t credit_charge;
	uint16_t credits_requested;
	bool related;

	/* resolved by dispatch according to the command's policy */
	struct smbd_session *session;
	struct smbd_tcon *tcon;
	bool was_signed;
	bool was_encrypted; /* arrived in a transform (0xFD) message */

	/* reply */
	NTSTATUS status;
	uint8_t out_hdr[SMB2_HDR_SIZE];
	uint8_t *out_body;
	size_t out_body_len;
	struct iovec out_data; /* optional payload after out_body (READ) */
	/* or that payload waiting in a pipe (READ of a lone reply that is
	 * neither signed nor encrypted: smbd_request_reply_plain()) */
	struct smbd_pipe_payload *out_pipe;
	uint16_t credits_granted;
	bool done;

	/* asynchronous state */
	bool async; /* an interim response went out */
	struct tevent_timer *interim_timer;
	uint64_t async_id;
	/* called by CANCEL; the handler then completes req with
	 * NT_STATUS_CANCELLED (or normally, if too late) */
	void (*cancel_fn)(struct smbd_request *req);
	void *handler_state;
	/* SESSION_SETUP: once the reply is built, fold it into this
	 * preauth integrity hash (3.1.1); NEGOTIATE likewise for the
	 * connection's hash ([MS-SMB2] 3.3.5.4, 3.3.5.5). */
	uint8_t *preauth_hash_reply;
};

/* Allocate the reply body: fixed_len bytes of fixed part followed by
 * dyn_len bytes of dynamic part, zeroed, owned by req.  Returns the buffer
 * (req->out_body) or NULL. */
uint8_t *smbd_request_reply(struct smbd_request *req, size_t fixed_len,
			    size_t dyn_len);

/* Grow the dynamic part already allocated to new_dyn_len; returns the
 * (possibly moved) body or NULL. */
uint8_t *smbd_request_reply_resize(struct smbd_request *req, size_t fixed_len,
				   size_t new_dyn_len);

/* An error reply that carries ErrorData ([MS-SMB2] 2.2.2), e.g. the
 * required size with STATUS_BUFFER_TOO_SMALL; the caller then returns that
 * status.  false on allocation failure. */
bool smbd_request_error_data(struct smbd_request *req, const void *data,
			     uint32_t len);

/* Finish a request that returned NT_STATUS_PENDING. */
void smbd_request_done(struct smbd_request *req, NTSTATUS status);

/* Send the interim STATUS_PENDING response now ([MS-SMB2] 3.3.4.2) because
 * the request may take long (CHANGE_NOTIFY, blocking locks, breaks). */
void smbd_request_go_async(struct smbd_request *req);

/* The reply to req goes out alone (no compound), unsigned and
 * unencrypted: its payload may then be spliced (smb2_transport.h). */
bool smbd_request_reply_plain(const struct smbd_request *req);

/*
 * Checked access to the request's variable part.  offset is counted from
 * the start of the SMB2 header, as every *Offset field in [MS-SMB2] is.
 * A zero length is always valid (and yields ptr == NULL).  Otherwise the
 * range must lie inside this request's body, after the fixed part.
 */
bool smbd_request_in_range(const struct smbd_request *req, uint32_t offset,
			   uint32_t length, size_t fixed_len,
			   const uint8_t **ptr);

/* The file named by FileId in a request: handles the related-compound
 * FileId (all 0xFF) and checks that the open belongs to req's tcon and
 * session.  NULL -> the caller answers NT_STATUS_FILE_CLOSED. */
struct smbd_open *smbd_request_lookup_open(struct smbd_request *req,
					   const uint8_t *file_id16);

/* The write time of op's file was set on disk (SET_INFO, CLOSE): every
 * other open of the file in this process reports the file's time again
 * (smb2_write.c; dosmode.h "write time of one open"). */
void smbd_open_write_time_changed(struct smbd_open *op);

/* The open a READ or WRITE names, checked as both do: FILE_CLOSED if
 * unknown, INVALID_DEVICE_REQUEST for a directory, ACCESS_DENIED unless
 * the open holds one of the access bits. */
struct smbd_open *smbd_request_data_open(struct smbd_request *req,
					 const uint8_t *file_id16,
					 uint32_t access, NTSTATUS *status);

/* Remember the open that a CREATE produced, for related requests that
 * follow in the same compound. */
void smbd_compound_set_open(struct smbd_request *req, struct smbd_open *op);

/* Command handlers (one file each) */
NTSTATUS smbd_smb2_negotiate(struct smbd_request *req);
NTSTATUS smbd_smb2_session_setup(struct smbd_request *req);
NTSTATUS smbd_smb2_logoff(struct smbd_request *req);
NTSTATUS smbd_smb2_tree_connect(struct smbd_request *req);
NTSTATUS smbd_smb2_tree_disconnect(struct smbd_request *req);
NTSTATUS smbd_smb2_create(struct smbd_request *req);
NTSTATUS smbd_smb2_close(struct smbd_request *req);
NTSTATUS smbd_smb2_flush(struct smbd_request *req);
NTSTATUS smbd_smb2_read(struct smbd_request *req);
NTSTATUS smbd_smb2_write(struct smbd_request *req);
NTSTATUS smbd_smb2_lock(struct smbd_request *req);
NTSTATUS smbd_smb2_ioctl(struct smbd_request *req);
NTSTATUS smbd_smb2_echo(struct smbd_request *req);
NTSTATUS smbd_smb2_query_directory(struct smbd_request *req);
NTSTATUS smbd_smb2_notify(struct smbd_request *req);
NTSTATUS smbd_smb2_getinfo(struct smbd_request *req);
NTSTATUS smbd_smb2_setinfo(struct smbd_request *req);
NTSTATUS smbd_smb2_oplock_break(struct smbd_request *req);

void smbd_negotiate_apply(struct smbd_connection *conn, uint16_t dialect);
uint64_t smbd_nt_time_now(void);

/* Cancel every request still running on session (tcon NULL) or on one
 * of its tree connects (tcon given). */
void smbd_cancel_pending(struct smbd_connection *conn,
			 struct smbd_session *session, struct smbd_tcon *tcon);
/* Called when the last pending request of a tree connect or session
 * finished, to complete a waiting TREE_DISCONNECT or LOGOFF. */
void smbd_tree_disconnect_finish(struct smbd_request *req);
void smbd_logoff_finish(struct smbd_request *req);
/* End session as a LOGOFF would, with no request to answer: no new
 * request finds it, its pending requests are cancelled (a CHANGE_NOTIFY
 * gets NOTIFY_CLEANUP) and it is freed after them (smb2_sesssetup.c). */
void smbd_session_close(struct smbd_session *session);
void smbd_session_close_finish(struct smbd_session *session);

/* SMB1 "SMB 2.???" / "SMB 2.002" negotiate upgrade ([MS-SMB2] 3.3.5.3) */
NTSTATUS smbd_smb1_negotiate(struct smbd_connection *conn, const uint8_t *buf,
			     size_t len);

/* Objects (smbXsrv_*.c) */
struct smbd_session *smbd_session_create(struct smbd_client *client);
struct smbd_session *smbd_session_lookup(struct smbd_client *client,
					 uint64_t id);
struct smbd_tcon *smbd_tcon_create(struct smbd_session *session);
struct smbd_tcon *smbd_tcon_lookup(struct smbd_session *session, uint32_t id);
/* An open of tcon, not yet known to anyone: the caller sets its fields
 * (path, access, share access...), then smbd_open_register() gives it
 * its persistent id (reserved with the open's record) and makes
 * smbd_open_lookup() find it; false if no id could be reserved.
 * talloc_free() undoes either. */
struct smbd_open *smbd_open_create(struct smbd_tcon *tcon);
bool smbd_open_register(struct smbd_open *op);
struct smbd_open *smbd_open_lookup(struct smbd_client *client,
				   uint64_t persistent_id,
				   uint64_t volatile_id);
/* Call fn for every open of the client (e.g. to fix up paths after a
 * directory rename); fn must not free opens. */
void smbd_open_foreach(struct smbd_client *client,
		       void (*fn)(struct smbd_open *op, void *private_data),
		       void *private_data);

/* A child's client (user database, thread pool) and a connection on an
 * accepted socket; smbd_child_main() uses them, and so do test harnesses
 * that drive a client without a parent.  Freeing the client tears down
 * everything in a safe order. */
struct smbd_client *smbd_client_create(struct smbd_child_context *child);
struct smbd_connection *smbd_connection_create(struct smbd_client *client,
					       int sock);

/* Child entry point: serve one accepted TCP connection until it ends. */
int smbd_child_main(struct smbd_child_context *child, int sock);

#endif
