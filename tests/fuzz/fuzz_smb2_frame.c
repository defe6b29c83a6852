/*
 * libFuzzer target: a whole smbd connection fed with SMB2 frames.
 *
 * Each input is a sequence of records, each the 4-byte direct-TCP header
 * of [MS-SMB2] 2.1 (one byte, then a 24-bit big-endian length) followed by
 * that many bytes of frame.  A record shorter than its length uses what is
 * left.  Every frame goes to smbd_connection_frame() exactly as the
 * transport would deliver it, then the event loop runs until the frame's
 * work (VFS jobs on the thread pool) is done.
 *
 * On the wire the first header byte is zero.  Here it carries flags that
 * tell the harness to patch the frame, so that the fuzzer can get past
 * what it cannot guess (all off = the frame is delivered untouched):
 *   0x01  MessageIds: give every request of the compound the next message
 *         ids in sequence (charge = CreditCharge, at least 1);
 *   0x02  SessionIds 1..16 name the 1st..16th live session (oldest first);
 *   0x04  a FileId with PersistentId 0 names the open with that
 *         VolatileId (the harness fills in the persistent id).
 * Randomness is made deterministic too (gnutls_rnd below): session ids,
 * persistent ids and challenges repeat from run to run, so a crash
 * reproduces.
 *
 * The server: smb.conf with a [share] (read-write, guest ok) and a [ro]
 * share on a directory under a fresh mkdtemp() directory, "map to guest =
 * Bad User" with guest account "nobody", so that an anonymous or
 * unknown-user NTLMSSP logon gets a session whose file-system work runs
 * as nobody beneath the share.  The share directory is emptied after each
 * input.  Must run as root (worker threads switch to nobody).
 *
 * smbd_child_main() owns the construction of a client and connection;
 * fuzz_conn_setup() repeats it, minus the socket options and signals.
 *
 *   FUZZ_DEBUG=5 ./fuzz_smb2_frame crash-file     shows smbd's log
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/param/loadparm.h"
#include "lib/userdb/userdb.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "smbd/smb2_credits.h"
#include "smbd/smb2_server.h"
#include "smbd/smb2_transport.h"
#include "smbd/smbd.h"
#include "smbd/smbd_settings.h"
#include "smbd/vfs/threadpool.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FRAME_FIX_MID 0x01
#define FUZZ_FRAME_MAP_SESSION 0x02
#define FUZZ_FRAME_MAP_FILEID 0x04

/* Per frame: how many event-loop turns and how long to wait for the
 * frame's jobs before giving up on them (they are then cancelled by
 * freeing the client). */
#define FUZZ_MAX_LOOP_TURNS 10000
#define FUZZ_SETTLE_TIMEOUT_US 1000000

/* The server, built once per process. */
struct fuzz_server {
	char *tmpdir;
	char *share_dir;
	struct tevent_context *ev;
	struct smb_conf *conf;
	struct smbd_settings *settings;
	struct smbd_child_context *child;
	struct userdb *userdb;
};

static struct fuzz_server *server;

/*
 * Deterministic stand-in for gnutls_rnd(): the fuzz binary's definition
 * wins over libgnutls' for every caller linked into it.  Each call
 * returns the next value of a counter (reset for every input) spread over
 * the buffer; never zero, so "draw until non-zero" loops end.
 */
static uint64_t fuzz_rnd_counter;

int gnutls_rnd(gnutls_rnd_level_t level, void *data, size_t len)
{
	uint8_t *p = data;
	uint64_t v = ++fuzz_rnd_counter;
	size_t i;

	for (i = 0; i < len; i++) {
		p[i] = (uint8_t)(v >> (8 * (i % 8)));
	}
	return 0;
}

static void fuzz_die(const char *what)
{
	fprintf(stderr, "fuzz_smb2_frame: %s: %s\n", what, strerror(errno));
	abort();
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	if (ftw->level == 0) {
		return 0; /* keep the top directory itself */
	}
	if (remove(path) != 0 && errno != ENOENT) {
		fprintf(stderr, "fuzz_smb2_frame: cannot remove %s: %s\n", path,
			strerror(errno));
	}
	return 0;
}

static void empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true;

	if (d == NULL) {
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = false;
			break;
		}
	}
	closedir(d);
	if (!empty) {
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
}

static char *tmp_path(const char *name)
{
	char *p = talloc_asprintf(server, "%s/%s", server->tmpdir, name);

	if (p == NULL) {
		fuzz_die("talloc");
	}
	return p;
}

static void make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) != 0 || chmod(path, mode) != 0) {
		fuzz_die(path);
	}
}

/* Remove the temp directory at exit (libFuzzer exits with exit()). */
static void fuzz_server_cleanup(void)
{
	if (server != NULL && server->tmpdir != NULL) {
		empty_dir(server->tmpdir);
		rmdir(server->tmpdir);
	}
}

static void fuzz_server_init(void)
{
	const char *tmp = getenv("TMPDIR");
	const char *debug = getenv("FUZZ_DEBUG");
	char *conf_text;
	char *errors = NULL;
	struct userdb *db;
	uint8_t hash[16];
	NTSTATUS status;

	if (debug != NULL) {
		debug_set_level(atoi(debug));
	} else {
		debug_level = -1; /* not even errors: the fuzzer makes many */
	}
	server = talloc_zero(NULL, struct fuzz_server);
	if (server == NULL) {
		fuzz_die("talloc");
	}
	server->tmpdir = talloc_asprintf(server, "%s/fuzz_smb2_frame.XXXXXX",
					 tmp != NULL ? tmp : "/tmp");
	if (server->tmpdir == NULL || mkdtemp(server->tmpdir) == NULL) {
		fuzz_die("mkdtemp");
	}
	atexit(fuzz_server_cleanup);
	server->share_dir = tmp_path("share");
	/* nobody must be able to create files in the share */
	make_dir(server->share_dir, 0777);
	make_dir(tmp_path("private"), 0700);
	make_dir(tmp_path("state"), 0755);

	conf_text = talloc_asprintf(
		server,
		"[global]\n"
		"netbios name = FUZZ\n"
		"workgroup = WORKGROUP\n"
		"map to guest = Bad User\n"
		"guest account = nobody\n"
		"server min protocol = SMB2_02\n"
		"private dir = %s/private\n"
		"state directory = %s/state\n"
		"lock directory = %s/state\n"
		"pid directory = %s/state\n"
		"[share]\n"
		"path = %s\n"
		"read only = no\n"
		"guest ok = yes\n"
		"[ro]\n"
		"path = %s\n"
		"read only = yes\n"
		"guest ok = yes\n",
		server->tmpdir, server->tmpdir, server->tmpdir, server->tmpdir,
		server->share_dir, server->share_dir);
	status = smb_conf_load_string(server, "fuzz.conf", conf_text,
				      &server->conf, &errors);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "fuzz_smb2_frame: smb.conf: %s\n%s",
			nt_errstr(status), errors ? errors : "");
		abort();
	}
	server->settings = smbd_settings_from_conf(server, server->conf);
	server->ev = tevent_context_init(server);
	if (server->settings == NULL || server->ev == NULL) {
		fuzz_die("settings/tevent");
	}

	/* One real account, so that a known name reaches the NTLMv2 check
	 * (its password is not guessable: that path ends in failure). */
	status = userdb_open(server, smbd_settings_passdb_path(server->conf),
			     true, &db);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "fuzz_smb2_frame: userdb: %s\n",
			nt_errstr(status));
		abort();
	}
	memset(hash, 0x42, sizeof(hash));
	status = userdb_add(db, "fuzzuser", "nobody", hash);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "fuzz_smb2_frame: userdb_add: %s\n",
			nt_errstr(status));
		abort();
	}
	server->userdb = db;

	server->child = talloc_zero(server, struct smbd_child_context);
	if (server->child == NULL) {
		fuzz_die("talloc");
	}
	server->child->ev = server->ev;
	server->child->conf = server->conf;
	server->child->settings = server->settings;
	memset(server->child->server_guid, 0x5a, 16);
	server->child->start_time = 1700000000;
	server->child->config_path = "fuzz.conf";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_server_init();
	return 0;
}

/* One client with one connection, as smbd_child_main() builds them. */
struct fuzz_conn {
	struct smbd_client *client;
	struct smbd_connection *conn;
	int peer_fd; /* the "client" end of the socketpair */
	bool conn_gone;
	uint64_t next_mid;
};

static int conn_sentinel_destructor(bool **flag)
{
	**flag = true;
	return 0;
}

static void fuzz_conn_error(void *private_data, int err)
{
	struct smbd_connection *conn = private_data;

	smbd_connection_terminate(conn, "transport error");
}

/*
 * The teardown order of smbd_child.c's client destructor (static there,
 * so repeated here): the pool first (waits for running jobs), then the
 * connections, then the sessions with their trees and opens, and only
 * then the rest.
 */
static int fuzz_client_destructor(struct smbd_client *client)
{
	TALLOC_FREE(client->pool);
	while (client->connections != NULL) {
		struct smbd_connection *conn = client->connections;

		DLIST_REMOVE(client->connections, conn);
		talloc_free(conn);
	}
	while (client->sessions != NULL) {
		talloc_free(client->sessions);
	}
	return 0;
}

static void fuzz_conn_setup(struct fuzz_conn *fc)
{
	const struct smbd_settings *set = server->settings;
	struct smbd_client *client;
	struct smbd_connection *conn;
	bool **sentinel;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) != 0) {
		fuzz_die("socketpair");
	}
	client = talloc_zero(NULL, struct smbd_client);
	if (client == NULL) {
		fuzz_die("talloc");
	}
	client->child = server->child;
	client->ev = server->ev;
	client->conf = server->conf;
	client->settings = set;
	client->userdb = server->userdb;
	memcpy(client->server_guid, server->child->server_guid, 16);
	talloc_set_destructor(client, fuzz_client_destructor);
	/* a pool per client, as in smbd_child_main(): its teardown is part
	 * of what is tested */
	client->pool = vfs_pool_create(client, client->ev, 4);
	if (client->pool == NULL) {
		fuzz_die("vfs_pool_create");
	}

	conn = talloc_zero(client, struct smbd_connection);
	if (conn == NULL) {
		fuzz_die("talloc");
	}
	conn->client = client;
	conn->remote_addr = talloc_strdup(conn, "fuzz-client:1");
	conn->local_addr = talloc_strdup(conn, "fuzz-server:445");
	if (!smbd_credits_init(conn, set->max_credits)) {
		fuzz_die("smbd_credits_init");
	}
	conn->transport = smbd_transport_create(
		conn, client->ev, sv[0],
		(set->max_write_size > set->max_trans_size
			 ? set->max_write_size
			 : set->max_trans_size) +
			128 * 1024,
		smbd_connection_frame, fuzz_conn_error, conn);
	if (conn->transport == NULL) {
		fuzz_die("smbd_transport_create");
	}
	DLIST_ADD(client->connections, conn);

	/* Tells us when smbd_connection_terminate() has freed conn. */
	fc->conn_gone = false;
	sentinel = talloc(conn, bool *);
	if (sentinel == NULL) {
		fuzz_die("talloc");
	}
	*sentinel = &fc->conn_gone;
	talloc_set_destructor(sentinel, conn_sentinel_destructor);

	fc->client = client;
	fc->conn = conn;
	fc->peer_fd = sv[1];
	fc->next_mid = 0;
}

/* Read and drop whatever the server wrote, so its socket never fills. */
static void drain_peer(struct fuzz_conn *fc)
{
	uint8_t buf[65536];

	while (recv(fc->peer_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
	}
}

static bool conn_alive(const struct fuzz_conn *fc)
{
	return !fc->conn_gone && !fc->client->exiting;
}

/* A request still waiting for a job (not one that went async on purpose,
 * such as a CHANGE_NOTIFY, which may wait forever). */
static bool conn_busy(const struct fuzz_conn *fc)
{
	const struct smbd_request *r;

	if (!conn_alive(fc)) {
		return false;
	}
	for (r = fc->conn->pending; r != NULL; r = r->next) {
		if (!r->async) {
			return true;
		}
	}
	return false;
}

static void settle_timeout(struct tevent_context *ev, struct tevent_timer *te,
			   struct timeval now, void *private_data)
{
	*(bool *)private_data = true;
}

static void marker_fn(struct tevent_context *ev, struct tevent_immediate *im,
		      void *private_data)
{
	*(bool *)private_data = true;
}

/* Run the loop until the frame's work is done, then once more through
 * every immediate already scheduled (e.g. a connection teardown). */
static void fuzz_settle(struct fuzz_conn *fc)
{
	TALLOC_CTX *frame = talloc_new(NULL);
	struct tevent_immediate *im;
	bool timed_out = false;
	bool marker = false;
	unsigned turns = 0;

	if (tevent_add_timer(server->ev, frame,
			     tevent_timeval_current_ofs(
				     0, FUZZ_SETTLE_TIMEOUT_US),
			     settle_timeout, &timed_out) == NULL) {
		fuzz_die("tevent_add_timer");
	}
	while (conn_busy(fc) && !timed_out && turns++ < FUZZ_MAX_LOOP_TURNS) {
		drain_peer(fc);
		if (tevent_loop_once(server->ev) != 0) {
			fuzz_die("tevent_loop_once");
		}
	}
	im = tevent_create_immediate(frame);
	if (im == NULL) {
		fuzz_die("tevent_create_immediate");
	}
	tevent_schedule_immediate(im, server->ev, marker_fn, &marker);
	while (!marker) {
		if (tevent_loop_once(server->ev) != 0) {
			fuzz_die("tevent_loop_once");
		}
	}
	talloc_free(frame);
	drain_peer(fc);
}

/* Position of the FileId within a request body, or -1. */
static int file_id_offset(uint16_t opcode)
{
	switch (opcode) {
	case SMB2_OP_CLOSE:
	case SMB2_OP_FLUSH:
	case SMB2_OP_LOCK:
	case SMB2_OP_IOCTL:
	case SMB2_OP_QUERY_DIRECTORY:
	case SMB2_OP_NOTIFY:
	case SMB2_OP_BREAK:
		return 8;
	case SMB2_OP_READ:
	case SMB2_OP_WRITE:
	case SMB2_OP_SETINFO:
		return 16;
	case SMB2_OP_GETINFO:
		return 24;
	default:
		return -1;
	}
}

struct find_volatile {
	uint64_t volatile_id;
	const struct smbd_open *found;
};

static void find_volatile_fn(struct smbd_open *op, void *private_data)
{
	struct find_volatile *f = private_data;

	if (op->volatile_id == f->volatile_id) {
		f->found = op;
	}
}

static void map_session_id(struct fuzz_conn *fc, uint8_t *hdr)
{
	uint64_t v = PULL_LE64(hdr, SMB2_HDR_SESSION_ID);
	const struct smbd_session *s;
	uint64_t count = 0, i;

	if (v == 0 || v > 16) {
		return;
	}
	for (s = fc->client->sessions; s != NULL; s = s->next) {
		count++;
	}
	if (v > count) {
		return;
	}
	/* sessions are added at the head: the oldest is the last */
	for (s = fc->client->sessions, i = 0; i < count - v; i++) {
		s = s->next;
	}
	PUSH_LE64(hdr, SMB2_HDR_SESSION_ID, s->id);
}

static void map_file_id(struct fuzz_conn *fc, uint8_t *hdr, size_t len)
{
	int ofs = file_id_offset(PULL_LE16(hdr, SMB2_HDR_OPCODE));
	struct find_volatile f = { 0 };
	uint8_t *fid;

	if (ofs < 0 || len < SMB2_HDR_SIZE + (size_t)ofs + 16) {
		return;
	}
	fid = hdr + SMB2_HDR_SIZE + ofs;
	if (PULL_LE64(fid, 0) != 0) {
		return;
	}
	f.volatile_id = PULL_LE64(fid, 8);
	smbd_open_foreach(fc->client, find_volatile_fn, &f);
	if (f.found != NULL) {
		PUSH_LE64(fid, 0, f.found->persistent_id);
	}
}

/* Apply the record's patch flags to every header of the compound. */
static void patch_frame(struct fuzz_conn *fc, uint8_t flags, uint8_t *frame,
			size_t len)
{
	size_t ofs = 0;

	if (len < 4 || PULL_LE32(frame, 0) != SMB2_PROTOCOL_ID) {
		return;
	}
	while (len - ofs >= SMB2_HDR_SIZE) {
		uint8_t *hdr = frame + ofs;
		uint32_t next = PULL_LE32(hdr, SMB2_HDR_NEXT_COMMAND);
		size_t this_len = (next != 0 && next <= len - ofs) ? next
								   : len - ofs;

		if (PULL_LE32(hdr, 0) != SMB2_PROTOCOL_ID) {
			return;
		}
		if ((flags & FUZZ_FRAME_FIX_MID) &&
		    PULL_LE16(hdr, SMB2_HDR_OPCODE) != SMB2_OP_CANCEL) {
			uint16_t charge = PULL_LE16(hdr, SMB2_HDR_CREDIT_CHARGE);

			PUSH_LE64(hdr, SMB2_HDR_MESSAGE_ID, fc->next_mid);
			fc->next_mid += charge == 0 ? 1 : charge;
		}
		if (flags & FUZZ_FRAME_MAP_SESSION) {
			map_session_id(fc, hdr);
		}
		if (flags & FUZZ_FRAME_MAP_FILEID) {
			map_file_id(fc, hdr, this_len);
		}
		if (next == 0 || next > len - ofs || next < SMB2_HDR_SIZE) {
			return;
		}
		ofs += next;
	}
}

/*
 * As the transport: a frame smbd_connection_classify() takes goes up as
 * its first SMBD_SPLICE_WRITE_PREFIX bytes plus pipes holding the rest
 * (smbd_transport_set_splice_in()), any other one whole.
 */
static void deliver_frame(struct fuzz_conn *fc, uint8_t *frame, size_t len)
{
	size_t tail = len - SMBD_SPLICE_WRITE_PREFIX;
	struct smbd_pipe_payload *p;
	uint8_t *prefix;
	size_t done = 0;
	unsigned i;

	if (len <= SMBD_SPLICE_WRITE_PREFIX ||
	    !smbd_connection_classify(fc->conn, frame,
				      SMBD_SPLICE_WRITE_PREFIX, len) ||
	    (p = smbd_pipe_payload_create(NULL, tail)) == NULL) {
		smbd_connection_frame(fc->conn, frame, len);
		return;
	}
	for (i = 0; i < p->count && done < tail; i++) {
		while (done < tail) {
			ssize_t n = write(p->pipes[i].wfd,
					  frame + SMBD_SPLICE_WRITE_PREFIX + done,
					  tail - done);

			if (n <= 0) {
				break; /* this pipe is full */
			}
			p->pipes[i].len += (size_t)n;
			done += (size_t)n;
		}
	}
	if (done < tail) {
		fuzz_die("pipes took less than their capacity");
	}
	p->len = tail;
	prefix = talloc_realloc(NULL, frame, uint8_t,
				SMBD_SPLICE_WRITE_PREFIX);
	if (prefix == NULL) {
		fuzz_die("talloc");
	}
	talloc_steal(prefix, p);
	smbd_connection_frame_payload(fc->conn, prefix,
				      SMBD_SPLICE_WRITE_PREFIX, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_conn fc;
	size_t ofs = 0;

	fuzz_rnd_counter = 0;
	fuzz_conn_setup(&fc);

	while (size - ofs >= 4 && conn_alive(&fc)) {
		uint8_t flags = data[ofs];
		size_t len = ((size_t)data[ofs + 1] << 16) |
			     ((size_t)data[ofs + 2] << 8) | data[ofs + 3];
		uint8_t *frame;

		ofs += 4;
		if (len > size - ofs) {
			len = size - ofs;
		}
		/* The transport hands over a talloc buffer of exactly the
		 * frame's size: keep that, so ASan sees every overread. */
		frame = talloc_size(NULL, len);
		if (frame == NULL) {
			fuzz_die("talloc");
		}
		memcpy(frame, data + ofs, len);
		ofs += len;
		patch_frame(&fc, flags, frame, len);
		deliver_frame(&fc, frame, len);
		fuzz_settle(&fc);
	}

	talloc_free(fc.client);
	close(fc.peer_fd);
	empty_dir(server->share_dir);
	return 0;
}
