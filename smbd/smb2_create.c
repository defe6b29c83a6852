/*
 * CREATE ([MS-SMB2] 2.2.13, 2.2.14, 3.3.5.9; semantics [MS-FSA] 2.1.5.1).
 *
 * The event loop parses and validates the request and its create
 * contexts, then one VFS job on a worker thread (create_job.c), running as
 * the session user, does every file-system step of the open.
 *
 * Share modes ([MS-FSA] 2.1.5.1.2) are checked against the opens of
 * every process (share_mode.h) once the job has opened the file and
 * before anything on disk changes: an open that overwrites or supersedes
 * an existing file or stream stops before truncating
 * (overwrite_pending), the event loop checks and adds the open's entry
 * under the record lock, and a second job (create_overwrite_run) then
 * truncates.
 *
 * Oplocks and leases are granted or broken under the same record lock
 * (oplock_break.h).  Not yet here: durable handles.
 */
#include "smbd/smbd.h"
#include "smbd/oplock_break.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/param/loadparm.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/acl_store.h"
#include "smbd/create_job.h"
#include "smbd/dosmode.h"
#include "smbd/ea.h"
#include "smbd/fscc_info.h"
#include "smbd/ntname.h"
#include "smbd/share_mode.h"
#include "smbd/smbXsrv_global.h"
#include "smbd/streams.h"
#include "smbd/vfs/threadpool.h"
#include "smbd/vfs/vfs_casefold.h"
#include "smbd/vfs/vfs_posix.h"

#define CREATE_REQ_FIXED 56	/* StructureSize 57 includes Buffer[1] */
#define CREATE_REP_FIXED 88	/* StructureSize 89 */

/* ImpersonationLevel ([MS-SMB2] 2.2.13): Anonymous .. Delegate */
#define SMB2_IMPERSONATION_DELEGATE 3

/* CreateOptions Windows refuses with STATUS_NOT_SUPPORTED (smbtorture
 * smb2.create.gentest: not_supported_mask 0x00102080). */
#define FILE_CREATE_TREE_CONNECTION 0x00000080
#define CREATE_OPTIONS_NOT_SUPPORTED                                           \
	(FILE_CREATE_TREE_CONNECTION | FILE_OPEN_BY_FILE_ID |                  \
	 FILE_RESERVE_OPFILTER)

/* FileAttributes Windows refuses with STATUS_INVALID_PARAMETER
 * (gentest: invalid_parameter_mask 0xffff8048: VOLUME, DEVICE, bit 15 and
 * everything above 0xffff). */
#define FILE_ATTRIBUTES_INVALID 0xffff8048

/* Access bits no open can be granted ([MS-DTYP] 2.4.3: bits 9-15 and
 * 21-23 are reserved, 26-27 reserved); Windows answers ACCESS_DENIED. */
#define SEC_MASK_INVALID 0x0ce0fe00

/* Bits that change a file or its directory: refused on a read-only
 * share. */
#define SEC_MASK_WRITE                                                         \
	(SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA | SEC_FILE_WRITE_EA |      \
	 SEC_FILE_WRITE_ATTRIBUTE | SEC_DIR_DELETE_CHILD | SEC_STD_DELETE |    \
	 SEC_STD_WRITE_DAC | SEC_STD_WRITE_OWNER)

/* Create context names ([MS-SMB2] 2.2.13.2) */
#define CTX_MXAC "MxAc"
#define CTX_QFID "QFid"
#define CTX_ALSI "AlSi"
#define CTX_EXTA "ExtA"
#define CTX_SECD "SecD"
#define CTX_TWRP "TWrp"
#define CTX_DHNQ "DHnQ"
#define CTX_DHNC "DHnC"
#define CTX_DH2Q "DH2Q"
#define CTX_DH2C "DH2C"
#define CTX_RQLS "RqLs"

struct create_contexts {
	bool query_maximal_access;
	bool query_on_disk_id;
	bool have_alloc_size;
	uint64_t alloc_size;
	bool ea_list;
	const uint8_t *exta; /* "ExtA": FILE_FULL_EA_INFORMATION, unparsed */
	uint32_t exta_len;
	bool timewarp;
	bool durable_reconnect;
	const uint8_t *secd; /* "SecD": a security descriptor, unparsed */
	uint32_t secd_len;
	const uint8_t *rqls; /* "RqLs": lease request (oplock_break.h) */
	uint32_t rqls_len;
	bool have_rqls;
};

struct create_state {
	struct smbd_request *req;
	struct create_job *job;
	struct create_contexts ctx;
	uint32_t create_options;
	uint32_t disposition;
	uint32_t share_access;
	uint8_t requested_oplock;
	struct smbd_oplock_want want; /* oplock or lease asked for */
	bool first_attempt;	      /* no break waited for yet */
	struct tevent_req *wait;      /* waiting for a break */
	/* between the share-mode check and the end of an overwrite: the
	 * open (not yet handed to the client) and its fd for the job */
	struct smbd_open *op;
	struct smbd_fd *fdref;
	struct tevent_req *subreq;
};

static void create_done(struct tevent_req *subreq);
static void create_enter(struct create_state *state, struct smbd_open *op);
static void create_overwrite_done(struct tevent_req *subreq);

/* [MS-SMB2] 2.2.13.1.1 / [MS-DTYP] 2.4.3: the generic rights of files. */
static uint32_t map_generic_access(uint32_t access)
{
	if (access & SEC_GENERIC_READ) {
		access |= SEC_RIGHTS_FILE_READ;
	}
	if (access & SEC_GENERIC_WRITE) {
		access |= SEC_RIGHTS_FILE_WRITE;
	}
	if (access & SEC_GENERIC_EXECUTE) {
		access |= SEC_RIGHTS_FILE_EXECUTE;
	}
	if (access & SEC_GENERIC_ALL) {
		access |= SEC_FILE_ALL;
	}
	return access & ~(SEC_GENERIC_READ | SEC_GENERIC_WRITE |
			  SEC_GENERIC_EXECUTE | SEC_GENERIC_ALL);
}

static bool ctx_name_is(const uint8_t *name, uint16_t len, const char *want)
{
	return len == 4 && memcmp(name, want, 4) == 0;
}

/*
 * Walk the SMB2_CREATE_CONTEXT chain ([MS-SMB2] 2.2.13.2): every Next,
 * name and data range must lie inside its own context, which lies inside
 * the CreateContexts buffer.  Contexts we do not act on are still
 * checked, as Windows does (smb2.create.blob: a name shorter than 4 bytes
 * is INVALID_PARAMETER).
 */
static NTSTATUS parse_create_contexts(const uint8_t *buf, uint32_t len,
				      struct create_contexts *out)
{
	uint32_t ofs = 0;

	memset(out, 0, sizeof(*out));
	while (len > 0) {
		const uint8_t *c = buf + ofs;
		uint32_t avail = len - ofs;
		uint32_t next, size, data_len;
		uint16_t name_ofs, name_len, data_ofs;
		const uint8_t *name, *data;

		if (avail < 16) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		next = PULL_LE32(c, 0);
		name_ofs = PULL_LE16(c, 4);
		name_len = PULL_LE16(c, 6);
		data_ofs = PULL_LE16(c, 10);
		data_len = PULL_LE32(c, 12);
		if (next != 0) {
			if (next % 8 != 0 || next < 16 || next > avail) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			size = next;
		} else {
			size = avail;
		}
		if (name_len < 4 || name_ofs < 16 || name_ofs > size ||
		    name_len > size - name_ofs) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		if (data_len != 0 &&
		    (data_ofs < 16 || data_ofs > size ||
		     data_len > size - data_ofs)) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		name = c + name_ofs;
		data = data_len != 0 ? c + data_ofs : NULL;

		if (ctx_name_is(name, name_len, CTX_MXAC)) {
			/* optional Timestamp (8 bytes) */
			if (data_len != 0 && data_len != 8) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			out->query_maximal_access = true;
		} else if (ctx_name_is(name, name_len, CTX_QFID)) {
			out->query_on_disk_id = true;
		} else if (ctx_name_is(name, name_len, CTX_ALSI)) {
			if (data_len != 8) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			out->have_alloc_size = true;
			out->alloc_size = PULL_LE64(data, 0);
		} else if (ctx_name_is(name, name_len, CTX_EXTA)) {
			out->ea_list = true;
			out->exta = data;
			out->exta_len = data_len;
		} else if (ctx_name_is(name, name_len, CTX_TWRP)) {
			if (data_len != 8) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			out->timewarp = true;
		} else if (ctx_name_is(name, name_len, CTX_SECD)) {
			out->secd = data;
			out->secd_len = data_len;
		} else if (ctx_name_is(name, name_len, CTX_RQLS)) {
			out->have_rqls = true;
			out->rqls = data;
			out->rqls_len = data_len;
		} else if (ctx_name_is(name, name_len, CTX_DHNC) ||
			   ctx_name_is(name, name_len, CTX_DH2C)) {
			out->durable_reconnect = true;
		}
		/* SecD, DHnQ, DH2Q, RqLs, AAPL, unknown tags: accepted and
		 * not acted on; no durable handle or lease is granted, which
		 * the reply shows by carrying no such context. */
		if (next == 0) {
			break;
		}
		ofs += next;
	}
	return NT_STATUS_OK;
}

/* The fixed-part checks of [MS-SMB2] 3.3.5.9 and [MS-FSA] 2.1.5.1 that
 * need no file system, in the order Windows applies them. */
static NTSTATUS check_create_parameters(uint32_t impersonation,
					uint32_t disposition, uint32_t options,
					uint32_t attributes, uint32_t access)
{
	if (impersonation > SMB2_IMPERSONATION_DELEGATE) {
		return NT_STATUS_BAD_IMPERSONATION_LEVEL;
	}
	if (options & ~FILE_CREATE_OPTIONS_VALID) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (options & CREATE_OPTIONS_NOT_SUPPORTED) {
		return NT_STATUS_NOT_SUPPORTED;
	}
	if (disposition > FILE_OVERWRITE_IF) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if ((options & FILE_DIRECTORY_FILE) &&
	    (options & FILE_NON_DIRECTORY_FILE)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* [MS-FSA] 2.1.5.1: a directory cannot be superseded or
	 * overwritten. */
	if ((options & FILE_DIRECTORY_FILE) &&
	    (disposition == FILE_SUPERSEDE || disposition == FILE_OVERWRITE ||
	     disposition == FILE_OVERWRITE_IF)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (access & SEC_MASK_INVALID) {
		return NT_STATUS_ACCESS_DENIED;
	}
	if (access == 0) {
		/* [MS-FSA] 2.1.5.1: an open must ask for something
		 * (smb2.create.gentest) */
		return NT_STATUS_ACCESS_DENIED;
	}
	if (access & SEC_FLAG_SYSTEM_SECURITY) {
		/* SACL access needs SeSecurityPrivilege, which no SMB user
		 * holds here. */
		return NT_STATUS_PRIVILEGE_NOT_HELD;
	}
	/* after the access checks: gentest expects ACCESS_DENIED for an
	 * invalid access mask together with FILE_ATTRIBUTE_VOLUME */
	if (attributes & FILE_ATTRIBUTES_INVALID) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	return NT_STATUS_OK;
}

static NTSTATUS create_send_job(struct create_state *state)
{
	struct smbd_request *req = state->req;
	struct smbd_client *client = req->conn->client;
	struct tevent_req *subreq;

	subreq = vfs_job_send(state, client->ev, client->pool,
			      req->session->creds, create_job_run, state->job);
	if (subreq == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	tevent_req_set_callback(subreq, create_done, state);
	return NT_STATUS_PENDING;
}

NTSTATUS smbd_smb2_create(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	struct smbd_tcon *tcon = req->tcon;
	struct smbd_client *client = req->conn->client;
	uint32_t impersonation = PULL_LE32(b, 4);
	uint32_t access = PULL_LE32(b, 24);
	uint32_t attributes = PULL_LE32(b, 28);
	uint32_t share_access = PULL_LE32(b, 32);
	uint32_t disposition = PULL_LE32(b, 36);
	uint32_t options = PULL_LE32(b, 40);
	uint16_t name_ofs = PULL_LE16(b, 44);
	uint16_t name_len = PULL_LE16(b, 46);
	uint32_t ctx_ofs = PULL_LE32(b, 48);
	uint32_t ctx_len = PULL_LE32(b, 52);
	const uint8_t *name = NULL, *ctx = NULL;
	struct create_state *state;
	struct create_job *job;
	struct ntname_stream stream = { 0 };
	bool trailing_sep = false;
	char *relpath = NULL;
	NTSTATUS status;

	if (!smbd_request_in_range(req, name_ofs, name_len, CREATE_REQ_FIXED,
				   &name) ||
	    !smbd_request_in_range(req, ctx_ofs, ctx_len, CREATE_REQ_FIXED,
				   &ctx)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	state = talloc_zero(req, struct create_state);
	if (state == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->req = req;
	state->requested_oplock = b[3];
	state->create_options = options;
	state->disposition = disposition;
	state->share_access = share_access;

	status = parse_create_contexts(ctx, ctx_len, &state->ctx);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (state->ctx.have_rqls) {
		static const uint8_t empty;

		status = smbd_oplock_want_parse(
			req, state->requested_oplock,
			state->ctx.rqls != NULL ? state->ctx.rqls : &empty,
			state->ctx.rqls_len, &state->want);
	} else {
		status = smbd_oplock_want_parse(req, state->requested_oplock,
						NULL, 0, &state->want);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	state->first_attempt = true;
	status = check_create_parameters(impersonation, disposition, options,
					 attributes, access);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (tcon->is_ipc || tcon->vfs == NULL) {
		/* No named pipe is served yet. */
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	status = ntname_to_relpath_stream(state, name, name_len, &relpath,
					  &trailing_sep, &stream);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (stream.present && (options & FILE_DIRECTORY_FILE)) {
		/* a data stream is never a directory (smb2.streams.dir) */
		return NT_STATUS_NOT_A_DIRECTORY;
	}
	if (trailing_sep && (options & FILE_NON_DIRECTORY_FILE)) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	/* a lease key names one file ([MS-SMB2] 3.3.5.9.8) */
	status = smbd_lease_check_key(client, &state->want,
				      tcon->share != NULL ? tcon->share->path
							  : NULL,
				      relpath, stream.name);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (state->ctx.durable_reconnect || state->ctx.timewarp) {
		/* no durable handle or snapshot exists to reconnect to */
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (state->ctx.ea_list &&
	    (tcon->share == NULL || !tcon->share->ea_support)) {
		/* "ea support = no": tell the client rather than drop its
		 * EAs silently (as Samba) */
		return NT_STATUS_EAS_NOT_SUPPORTED;
	}

	access = map_generic_access(access);
	if (tcon->read_only && !(access & SEC_FLAG_MAXIMUM_ALLOWED) &&
	    (access & SEC_MASK_WRITE)) {
		return NT_STATUS_ACCESS_DENIED;
	}
	if (client->settings->max_open_files != 0 &&
	    client->num_opens >= client->settings->max_open_files) {
		return NT_STATUS_TOO_MANY_OPENED_FILES;
	}

	job = create_job_new(state);
	if (job == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = acl_ctx_new(job, req->session, state->ctx.secd,
			     state->ctx.secd_len, &job->acl);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	state->job = job;
	job->share = tcon->vfs;
	job->conf = tcon->share;
	job->relpath = talloc_steal(job, relpath);
	job->trailing_sep = trailing_sep;
	job->disposition = disposition;
	job->options = options;
	job->attributes = attributes;
	job->access = access;
	job->read_only_share = tcon->read_only;
	job->share_maximal_access = tcon->maximal_access;
	job->have_alloc_size = state->ctx.have_alloc_size;
	job->alloc_size = state->ctx.alloc_size;
	job->data_stream_only = stream.present;
	job->stream_name = talloc_steal(job, stream.name);
	if (state->ctx.ea_list) {
		status = smbd_ea_parse_full_list(job, state->ctx.exta,
						 state->ctx.exta_len, &job->eas,
						 &job->num_eas);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
	}

	job->casefold = tcon->share == NULL ||
			tcon->share->case_sensitive != SMB_CONF_CASE_SENSITIVE_YES;

	return create_send_job(state);
}

static size_t put_context(uint8_t *p, const char *tag, const uint8_t *data,
			  uint32_t data_len, bool last)
{
	size_t size = 24 + data_len;

	size = (size + 7) & ~(size_t)7;
	PUSH_LE32(p, 0, last ? 0 : (uint32_t)size);
	PUSH_LE16(p, 4, 16); /* NameOffset */
	PUSH_LE16(p, 6, 4);  /* NameLength */
	PUSH_LE16(p, 10, 24); /* DataOffset */
	PUSH_LE32(p, 12, data_len);
	memcpy(p + 16, tag, 4);
	memcpy(p + 24, data, data_len);
	return size;
}

/* The create contexts of the reply, 8-aligned chain ([MS-SMB2] 2.2.14.2). */
static NTSTATUS build_reply(struct create_state *state, struct smbd_open *op)
{
	struct smbd_request *req = state->req;
	const struct create_job *job = state->job;
	const struct smbd_file_meta *m = &job->meta;
	uint8_t mxac[8], qfid[32], rqls[SMB2_LEASE_V2_SIZE];
	size_t ctx_len = 0, ofs, rqls_len = 0;
	uint8_t *out;

	if (state->ctx.query_maximal_access) {
		ctx_len += 32;
	}
	if (state->ctx.query_on_disk_id) {
		ctx_len += 56;
	}
	if (state->ctx.have_rqls) {
		/* only a granted lease is answered ([MS-SMB2] 3.3.5.9.8) */
		rqls_len = smbd_oplock_reply_lease(op, rqls);
		if (rqls_len > 0) {
			ctx_len += (24 + rqls_len + 7) & ~(size_t)7;
		}
	}
	out = smbd_request_reply(req, CREATE_REP_FIXED,
				 ctx_len > 0 ? ctx_len : 1);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, 89);
	out[2] = smbd_oplock_reply_level(op);
	out[3] = 0; /* Flags */
	PUSH_LE32(out, 4, job->action);
	PUSH_LE64(out, 8, m->creation_time);
	PUSH_LE64(out, 16, m->last_access_time);
	PUSH_LE64(out, 24, m->last_write_time);
	PUSH_LE64(out, 32, m->change_time);
	PUSH_LE64(out, 40, m->allocation_size);
	PUSH_LE64(out, 48, m->end_of_file);
	PUSH_LE32(out, 56, m->attributes);
	PUSH_LE64(out, 64, op->persistent_id);
	PUSH_LE64(out, 72, op->volatile_id);
	if (ctx_len == 0) {
		return NT_STATUS_OK;
	}
	PUSH_LE32(out, 80, SMB2_HDR_SIZE + CREATE_REP_FIXED);
	PUSH_LE32(out, 84, (uint32_t)ctx_len);

	ofs = CREATE_REP_FIXED;
	if (state->ctx.query_maximal_access) {
		PUSH_LE32(mxac, 0, 0); /* QueryStatus */
		PUSH_LE32(mxac, 4, job->maximal_access);
		ofs += put_context(out + ofs, CTX_MXAC, mxac, sizeof(mxac),
				   !state->ctx.query_on_disk_id &&
					   rqls_len == 0);
	}
	if (state->ctx.query_on_disk_id) {
		/* DiskFileId (16): inode; VolumeId (8): device; Reserved */
		memset(qfid, 0, sizeof(qfid));
		PUSH_LE64(qfid, 0, m->index_number);
		PUSH_LE64(qfid, 16, m->device);
		ofs += put_context(out + ofs, CTX_QFID, qfid, sizeof(qfid),
				   rqls_len == 0);
	}
	if (rqls_len > 0) {
		ofs += put_context(out + ofs, CTX_RQLS, rqls,
				   (uint32_t)rqls_len, true);
	}
	return NT_STATUS_OK;
}

/* A request freed while its overwrite job runs: wait for the job, then
 * the open it was making goes (its share-mode entry with it). */
static int create_state_destructor(struct create_state *state)
{
	TALLOC_FREE(state->wait);
	TALLOC_FREE(state->subreq);
	smbd_fd_unref(state->fdref);
	state->fdref = NULL;
	if (state->op != NULL) {
		state->op->delete_on_close = false;
		TALLOC_FREE(state->op);
	}
	return 0;
}

static void create_finish(struct create_state *state, struct smbd_open *op)
{
	struct smbd_request *req = state->req;
	NTSTATUS status;

	status = build_reply(state, op);
	if (!NT_STATUS_IS_OK(status)) {
		op->delete_on_close = false;
		talloc_free(op);
		smbd_request_done(req, status);
		return;
	}
	smbd_compound_set_open(req, op);
	DBG_DEBUG("create '%s' -> action %u, fid 0x%llx\n", op->relpath,
		  state->job->action, (unsigned long long)op->volatile_id);
	smbd_request_done(req, NT_STATUS_OK);
}

static void create_done(struct tevent_req *subreq)
{
	struct create_state *state =
		tevent_req_callback_data(subreq, struct create_state);
	struct smbd_request *req = state->req;
	struct create_job *job = state->job;
	struct smbd_client *client = req->conn->client;
	struct smbd_open *op;
	NTSTATUS status;
	int err;

	err = vfs_job_recv(subreq);
	TALLOC_FREE(subreq);
	if (err != 0) {
		smbd_request_done(req, map_nt_error_from_unix(err));
		return;
	}
	if (NT_STATUS_IS_OK(job->status) && job->path_changed) {
		/* the name exists in another case: now open that one */
		job->path_changed = false;
		status = create_send_job(state);
		if (!NT_STATUS_EQUAL(status, NT_STATUS_PENDING)) {
			smbd_request_done(req, status);
		}
		return;
	}
	if (!NT_STATUS_IS_OK(job->status)) {
		DBG_DEBUG("create '%s': %s\n", job->relpath,
			  nt_errstr(job->status));
		smbd_request_done(req, job->status);
		return;
	}
	/* On failure below, the job's destructor closes the fd; a file
	 * this request created stays (as after a lost reply). */
	op = smbd_open_create(req->tcon);
	if (op == NULL) {
		smbd_request_done(req, NT_STATUS_NO_MEMORY);
		return;
	}
	op->relpath = talloc_strdup(op, job->relpath);
	op->fd = op->relpath != NULL ? smbd_fd_new(client, job->fd) : NULL;
	if (op->fd == NULL) {
		talloc_free(op);
		smbd_request_done(req, NT_STATUS_NO_MEMORY);
		return;
	}
	job->fd = -1; /* op->fd owns it now */
	op->is_dir = job->meta.is_dir;
	if (job->stream_name != NULL) {
		status = smbd_open_set_stream(op, job->stream_stored);
		if (!NT_STATUS_IS_OK(status)) {
			talloc_free(op);
			smbd_request_done(req, status);
			return;
		}
	}
	op->access_mask = job->granted;
	op->share_access = state->share_access;
	op->create_options = state->create_options;
	op->create_disposition = state->disposition;
	op->delete_on_close = (state->create_options & FILE_DELETE_ON_CLOSE) != 0;
	if (!smbd_open_register(op)) {
		op->delete_on_close = false;
		talloc_free(op);
		smbd_request_done(req, NT_STATUS_INSUFFICIENT_RESOURCES);
		return;
	}
	create_enter(state, op);
}

/* A break this open waited for is done (or timed out): look again. */
static void create_wait_done(struct tevent_req *subreq)
{
	struct create_state *state =
		tevent_req_callback_data(subreq, struct create_state);
	struct smbd_open *op = state->op;
	NTSTATUS status = smbd_oplock_wait_recv(subreq);

	TALLOC_FREE(subreq);
	state->wait = NULL;
	state->op = NULL;
	state->req->cancel_fn = NULL;
	if (!NT_STATUS_IS_OK(status)) {
		op->delete_on_close = false;
		talloc_free(op);
		smbd_request_done(state->req, status);
		return;
	}
	create_enter(state, op);
}

/* CANCEL of an open waiting for a break ([MS-SMB2] 3.3.5.16). */
static void create_wait_cancel(struct smbd_request *req)
{
	struct create_state *state = req->handler_state;
	struct smbd_open *op = state->op;

	TALLOC_FREE(state->wait);
	state->op = NULL;
	req->cancel_fn = NULL;
	if (op != NULL) {
		op->delete_on_close = false;
		talloc_free(op);
	}
	smbd_request_done(req, NT_STATUS_CANCELLED);
}

/*
 * Share modes, oplocks and leases against the opens of every process,
 * before an overwrite changes anything; a refused open's fd closes with
 * op.  An oplock or lease in the way is broken first and the open may
 * wait for its holder (oplock_break.h): op, with no share-mode entry
 * yet, waits in state->op.
 */
static void create_enter(struct create_state *state, struct smbd_open *op)
{
	struct smbd_request *req = state->req;
	struct create_job *job = state->job;
	struct smbd_client *client = req->conn->client;
	struct tevent_req *wait = NULL;
	NTSTATUS status;

	status = smbd_oplock_enter(op, job->meta.device,
				   job->meta.index_number, &state->want,
				   job->overwrite_pending,
				   job->action == FILE_WAS_CREATED,
				   state->first_attempt, state, &wait);
	if (NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
		state->first_attempt = false;
		state->op = op;
		state->wait = wait;
		talloc_set_destructor(state, create_state_destructor);
		tevent_req_set_callback(wait, create_wait_done, state);
		req->handler_state = state;
		req->cancel_fn = create_wait_cancel;
		return;
	}
	if (!NT_STATUS_IS_OK(status)) {
		DBG_DEBUG("create '%s': share modes: %s\n", job->relpath,
			  nt_errstr(status));
		op->delete_on_close = false;
		talloc_free(op);
		smbd_request_done(req, status);
		return;
	}
	if (job->overwrite_pending) {
		state->op = op;
		state->fdref = smbd_fd_ref(op->fd);
		job->ovw_fd = state->fdref->fd;
		talloc_set_destructor(state, create_state_destructor);
		/* waited for if the request goes away: the job uses the
		 * open's fd, which state's reference keeps open */
		state->subreq = vfs_job_send_ex(
			state, client->ev, client->pool, req->session->creds,
			create_overwrite_run, job, NULL,
			VFS_JOB_WAIT_ON_CANCEL);
		if (state->subreq == NULL) {
			smbd_request_done(req, NT_STATUS_NO_MEMORY);
			return;
		}
		tevent_req_set_callback(state->subreq, create_overwrite_done,
					state);
		return;
	}
	create_finish(state, op);
}

static void create_overwrite_done(struct tevent_req *subreq)
{
	struct create_state *state =
		tevent_req_callback_data(subreq, struct create_state);
	struct smbd_request *req = state->req;
	struct smbd_open *op = state->op;
	int err;

	err = vfs_job_recv(subreq);
	state->subreq = NULL;
	TALLOC_FREE(subreq);
	smbd_fd_unref(state->fdref);
	state->fdref = NULL;
	state->op = NULL;
	if (err != 0 || !NT_STATUS_IS_OK(state->job->status)) {
		NTSTATUS status = err != 0 ? map_nt_error_from_unix(err)
					   : state->job->status;
		op->delete_on_close = false;
		talloc_free(op);
		smbd_request_done(req, status);
		return;
	}
	create_finish(state, op);
}
