/*
 * SMB2 QUERY_INFO ([MS-SMB2] 2.2.37, 2.2.38, 3.3.5.20).
 *
 * The request is checked on the event loop; the file's metadata (and for
 * file-system classes statvfs) is fetched in one VFS job on the open's fd
 * as the session user; the chosen class is encoded back on the event
 * loop (fscc_info.c, sec_desc.c) and cut to OutputBufferLength.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lib/param/loadparm.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/acl_store.h"
#include "smbd/dosmode.h"
#include "smbd/ea.h"
#include "smbd/fscc_info.h"
#include "smbd/sec_desc.h"
#include "smbd/share_mode.h"
#include "smbd/smbd.h"
#include "smbd/streams.h"
#include "smbd/vfs/threadpool.h"
#include "smbd/vfs/vfs_posix.h"

#define GETINFO_REQ_FIXED 40
#define GETINFO_REP_FIXED 8

#define SMB2_CONTINUE_FLAG_RESTART 0x00000001

struct getinfo_job {
	struct smbd_fd *fdref; /* ref held while the job may run */
	int fd;
	int root_fd; /* dup of the share root, FILESYSTEM only */
	const struct smb_conf_share *share;
	char *name; /* last component, for hide dot files */
	bool want_fs;
	char *stream_name;   /* a named stream open: report the stream */
	bool want_streams;   /* FileStreamInformation */
	uint64_t base_eof, base_alloc; /* the file's own data ("::$DATA") */
	bool base_is_dir;
	struct smbd_stream_info *streams;
	size_t num_streams;
	NTSTATUS status;
	struct smbd_file_meta meta;
	struct statvfs fs;
	struct smbd_file_meta root_meta;
	struct acl_ctx *acl; /* SECURITY: read the descriptor as this user */
	struct nt_sd *sd;
	bool want_ea_size; /* FileEaInformation, FileAllInformation */
	uint32_t ea_size;
	bool want_eas; /* FileFullEaInformation */
	struct smbd_ea *eas;
	size_t num_eas;
};

struct getinfo_state {
	struct smbd_request *req;
	struct getinfo_job *job;
	uint64_t persistent_id, volatile_id;
	uint8_t info_type;
	uint8_t info_class;
	uint32_t output_len;
	uint32_t additional;
	uint32_t flags;	 /* SL_* for FileFullEaInformation */
	char **ea_names; /* its FILE_GET_EA_INFORMATION list, if any */
	size_t num_ea_names;
};

static void getinfo_done(struct tevent_req *subreq);

static int getinfo_job_destructor(struct getinfo_job *job)
{
	smbd_fd_unref(job->fdref);
	if (job->root_fd != -1) {
		close(job->root_fd);
	}
	return 0;
}

static void getinfo_job_run(void *private_data)
{
	struct getinfo_job *job = private_data;

	job->status = smbd_file_meta_fd(job->fd, job->name, job->share,
					&job->meta);
	if (NT_STATUS_IS_OK(job->status) && job->acl != NULL) {
		job->status = acl_query(job, job->acl, job->fd,
					job->meta.is_dir, &job->sd);
	}
	if (!NT_STATUS_IS_OK(job->status)) {
		return;
	}
	job->base_eof = job->meta.end_of_file;
	job->base_alloc = job->meta.allocation_size;
	job->base_is_dir = job->meta.is_dir;
	if (job->stream_name != NULL) {
		uint64_t size = 0;

		job->status = smbd_stream_find(job->fd, job, job->stream_name,
					       NULL, &size);
		if (!NT_STATUS_IS_OK(job->status)) {
			return;
		}
		job->meta.end_of_file = size;
		job->meta.allocation_size = smbd_stream_alloc_size(size);
		smbd_stream_meta_fixup(&job->meta);
	}
	if (job->want_streams) {
		job->status = smbd_streams_list(job->fd, job, &job->streams,
						&job->num_streams);
		if (!NT_STATUS_IS_OK(job->status)) {
			return;
		}
	}
	if (job->want_ea_size) {
		job->status = smbd_ea_size_fd(job->fd, &job->ea_size);
		if (!NT_STATUS_IS_OK(job->status)) {
			return;
		}
	}
	if (job->want_eas) {
		job->status = smbd_ea_list(job->fd, job, &job->eas,
					   &job->num_eas);
		if (!NT_STATUS_IS_OK(job->status)) {
			return;
		}
	}
	if (!job->want_fs) {
		return;
	}
	if (fstatvfs(job->fd, &job->fs) == -1) {
		job->status = map_nt_error_from_unix(errno);
		return;
	}
	job->status = smbd_file_meta_fd(job->root_fd, NULL, NULL,
					&job->root_meta);
}

static const char *last_component(const char *relpath)
{
	const char *slash = strrchr(relpath, '/');
	return slash != NULL ? slash + 1 : relpath;
}

/* The access a file class needs ([MS-FSA] 2.1.5.11 and what
 * smb2.getinfo.getinfo_access shows Windows enforcing). */
static uint32_t file_class_required_access(uint8_t info_class)
{
	switch (info_class) {
	case FSCC_FILE_BASIC_INFORMATION:
	case FSCC_FILE_ALL_INFORMATION:
	case FSCC_FILE_NETWORK_OPEN_INFORMATION:
	case FSCC_FILE_ATTRIBUTE_TAG_INFORMATION:
		return SEC_FILE_READ_ATTRIBUTE;
	case FSCC_FILE_FULL_EA_INFORMATION:
		return SEC_FILE_READ_EA;
	default:
		return 0;
	}
}

NTSTATUS smbd_smb2_getinfo(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	uint8_t info_type = b[2];
	uint8_t info_class = b[3];
	uint32_t output_len = PULL_LE32(b, 4);
	uint16_t input_ofs = PULL_LE16(b, 8);
	uint32_t input_len = PULL_LE32(b, 12);
	uint32_t additional = PULL_LE32(b, 16);
	const uint8_t *input = NULL;
	struct smbd_client *client = req->conn->client;
	struct smbd_open *op;
	struct getinfo_state *state;
	struct getinfo_job *job;
	struct tevent_req *subreq;

	if (!smbd_request_in_range(req, input_ofs, input_len,
				   GETINFO_REQ_FIXED, &input)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	op = smbd_request_lookup_open(req, b + 24);
	if (op == NULL) {
		return NT_STATUS_FILE_CLOSED;
	}
	if (output_len > req->conn->max_trans_size) {
		return NT_STATUS_INVALID_PARAMETER; /* 3.3.5.20 */
	}
	if (op->fd == NULL) {
		return NT_STATUS_INVALID_HANDLE;
	}

	switch (info_type) {
	case SMB2_0_INFO_FILE: {
		uint32_t need = file_class_required_access(info_class);
		if (need != 0 && !(op->access_mask & need)) {
			return NT_STATUS_ACCESS_DENIED;
		}
		if (info_class == FSCC_FILE_FULL_EA_INFORMATION &&
		    (op->tcon->share == NULL || !op->tcon->share->ea_support)) {
			/* "ea support = no": CREATE and SET_INFO refuse EAs,
			 * so no file has any */
			return NT_STATUS_NO_EAS_ON_FILE;
		}
		if (info_class == FSCC_FILE_NORMALIZED_NAME_INFORMATION &&
		    req->conn->dialect < SMB2_DIALECT_REVISION_311) {
			return NT_STATUS_NOT_SUPPORTED; /* [MS-SMB2] 3.3.5.20.1 */
		}
		break;
	}
	case SMB2_0_INFO_FILESYSTEM:
		break;
	case SMB2_0_INFO_SECURITY:
		if ((additional & (SECINFO_OWNER | SECINFO_GROUP |
				   SECINFO_DACL)) &&
		    !(op->access_mask & SEC_STD_READ_CONTROL)) {
			return NT_STATUS_ACCESS_DENIED;
		}
		if ((additional & SECINFO_SACL) &&
		    !(op->access_mask & SEC_FLAG_SYSTEM_SECURITY)) {
			return NT_STATUS_ACCESS_DENIED;
		}
		break;
	case SMB2_0_INFO_QUOTA:
		return NT_STATUS_NOT_SUPPORTED;
	default:
		return NT_STATUS_INVALID_PARAMETER;
	}

	state = talloc_zero(req, struct getinfo_state);
	if (state == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->req = req;
	state->persistent_id = op->persistent_id;
	state->volatile_id = op->volatile_id;
	state->info_type = info_type;
	state->info_class = info_class;
	state->output_len = output_len;
	state->additional = additional;
	state->flags = PULL_LE32(b, 20);
	if (info_type == SMB2_0_INFO_FILE &&
	    info_class == FSCC_FILE_FULL_EA_INFORMATION && input_len > 0) {
		NTSTATUS status = smbd_ea_parse_get_list(
			state, input, input_len, &state->ea_names,
			&state->num_ea_names);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
	}

	job = talloc_zero(state, struct getinfo_job);
	if (job == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	job->root_fd = -1;
	job->fdref = smbd_fd_ref(op->fd);
	job->fd = op->fd->fd;
	talloc_set_destructor(job, getinfo_job_destructor);
	job->share = op->tcon->share;
	job->name = talloc_strdup(job, last_component(op->relpath));
	if (job->name == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (info_type == SMB2_0_INFO_SECURITY) {
		NTSTATUS status = acl_ctx_new(job, req->session, NULL, 0,
					      &job->acl);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
	}
	if (smbd_open_stream(op) != NULL) {
		job->stream_name = talloc_strdup(job, smbd_open_stream(op));
		if (job->stream_name == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	job->want_streams = info_type == SMB2_0_INFO_FILE &&
			    info_class == FSCC_FILE_STREAM_INFORMATION;
	if (info_type == SMB2_0_INFO_FILE && op->tcon->share != NULL &&
	    op->tcon->share->ea_support) {
		job->want_ea_size =
			info_class == FSCC_FILE_EA_INFORMATION ||
			info_class == FSCC_FILE_ALL_INFORMATION;
		job->want_eas = info_class == FSCC_FILE_FULL_EA_INFORMATION;
	}
	if (info_type == SMB2_0_INFO_FILESYSTEM) {
		if (op->tcon->vfs == NULL) {
			return NT_STATUS_INVALID_DEVICE_REQUEST;
		}
		/* a private copy, so a tree disconnect during the job cannot
		 * close the descriptor under the worker */
		job->root_fd = fcntl(op->tcon->vfs->root_fd, F_DUPFD_CLOEXEC, 0);
		if (job->root_fd == -1) {
			return map_nt_error_from_unix(errno);
		}
		job->want_fs = true;
	}
	state->job = job;

	subreq = vfs_job_send(state, client->ev, client->pool,
			      req->session->creds, getinfo_job_run, job);
	if (subreq == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	tevent_req_set_callback(subreq, getinfo_done, state);
	return NT_STATUS_PENDING;
}

/* A stable volume serial number from the share name (FNV-1a). */
static uint32_t volume_serial(const struct smbd_tcon *tcon)
{
	const char *name = "";
	uint32_t h = 2166136261u;
	if (tcon->share != NULL && tcon->share->name != NULL) {
		name = tcon->share->name;
	}
	for (const char *p = name; *p != '\0'; p++) {
		h = (h ^ (unsigned char)*p) * 16777619u;
	}
	return h;
}

static NTSTATUS encode_fs_class(struct getinfo_state *state,
				const struct smbd_tcon *tcon, uint8_t **out,
				size_t *out_len, size_t *fixed_len)
{
	const struct getinfo_job *job = state->job;
	struct fscc_fs_info fsi = { 0 };
	uint64_t unit = job->fs.f_frsize != 0 ? job->fs.f_frsize
					      : job->fs.f_bsize;
	uint64_t scale;

	if (state->info_class == FSCC_FS_CONTROL_INFORMATION) {
		/* [MS-FSCC] 2.5.2: no quotas: thresholds and limits unset */
		uint8_t *p = talloc_zero_array(state, uint8_t, 48);
		if (p == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		PUSH_LE64(p, 24, UINT64_MAX);
		PUSH_LE64(p, 32, UINT64_MAX);
		*out = p;
		*out_len = *fixed_len = 48;
		return NT_STATUS_OK;
	}

	/* Report 512-byte sectors; an allocation unit is one f_frsize
	 * block, expressed in sectors. */
	if (unit < 512) {
		unit = 512;
	}
	scale = unit / 512;
	fsi.bytes_per_sector = 512;
	fsi.sectors_per_unit = (uint32_t)scale;
	fsi.total_units = job->fs.f_blocks * (job->fs.f_frsize ? job->fs.f_frsize : job->fs.f_bsize) / unit;
	fsi.free_units = job->fs.f_bavail * (job->fs.f_frsize ? job->fs.f_frsize : job->fs.f_bsize) / unit;
	fsi.actual_free_units = job->fs.f_bfree * (job->fs.f_frsize ? job->fs.f_frsize : job->fs.f_bsize) / unit;
	fsi.volume_creation_time = job->root_meta.creation_time;
	fsi.serial_number = volume_serial(tcon);
	fsi.label = tcon->share != NULL ? tcon->share->name : "";
	fsi.fs_name = "NTFS"; /* what Windows clients expect to see */
	/* Only what is true of a POSIX file system under this server:
	 * names are case sensitive and preserved, stored as Unicode. */
	fsi.fs_attributes = FILE_CASE_SENSITIVE_SEARCH |
			    FILE_CASE_PRESERVED_NAMES | FILE_UNICODE_ON_DISK;
	fsi.max_component_len = 255;
	fsi.device_characteristics = FILE_DEVICE_IS_MOUNTED;
	if (tcon->read_only) {
		fsi.device_characteristics |= FILE_READ_ONLY_DEVICE;
	}
	PUSH_LE64(fsi.object_id, 0, job->root_meta.device);
	PUSH_LE64(fsi.object_id, 8, job->root_meta.index_number);
	return fscc_encode_fs_info(state, state->info_class, &fsi, out,
				   out_len, fixed_len);
}

static NTSTATUS encode_file_class(struct getinfo_state *state,
				  const struct smbd_open *op, uint8_t **out,
				  size_t *out_len, size_t *fixed_len)
{
	struct fscc_file_info fi = { 0 };
	const struct getinfo_job *job = state->job;
	char *path;

	if (state->info_class == FSCC_FILE_STREAM_INFORMATION) {
		/* the file's streams, also through a stream open; a
		 * directory has no unnamed stream ([MS-FSCC] 2.4.44) */
		NTSTATUS status = smbd_streams_encode_info(
			state, !job->base_is_dir, job->base_eof, job->base_alloc,
			job->streams, job->num_streams, out, out_len);

		*fixed_len = 32;
		if (NT_STATUS_IS_OK(status) && *out == NULL) {
			*out = talloc_zero_array(state, uint8_t, 1);
			if (*out == NULL) {
				return NT_STATUS_NO_MEMORY;
			}
		}
		return status;
	}
	if (job->stream_name != NULL) {
		/* FileNameInformation of a stream open is "file:stream" */
		path = talloc_asprintf(state, "%s:%s", op->relpath,
				       job->stream_name);
	} else {
		path = talloc_strdup(state, op->relpath);
	}
	if (path == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (char *p = path; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\\';
		}
	}
	fi.meta = &state->job->meta;
	fi.path = path;
	fi.access_mask = op->access_mask;
	fi.position = op->position;
	fi.mode = op->mode;
	/* the file's mark, which an open in another process may have set
	 * (one record lock; only the classes that report it ask) */
	fi.delete_pending =
		(state->info_class == FSCC_FILE_STANDARD_INFORMATION ||
		 state->info_class == FSCC_FILE_ALL_INFORMATION)
			? smbd_share_mode_delete_pending(op)
			: op->delete_pending;
	fi.ea_size = job->ea_size;
	return fscc_encode_file_info(state, state->info_class, &fi, out,
				     out_len, fixed_len);
}

static NTSTATUS reply_blob(struct smbd_request *req, const uint8_t *data,
			   size_t len)
{
	uint8_t *out = smbd_request_reply(req, GETINFO_REP_FIXED,
					  len > 0 ? len : 1);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, 9);
	PUSH_LE16(out, 2, SMB2_HDR_SIZE + GETINFO_REP_FIXED);
	PUSH_LE32(out, 4, (uint32_t)len);
	if (len > 0) {
		memcpy(out + GETINFO_REP_FIXED, data, len);
	}
	return NT_STATUS_OK;
}

/*
 * FileFullEaInformation ([MS-FSCC] 2.4.15, [MS-SMB2] 2.2.37): with an EA
 * list, those EAs (a missing one as an entry with no value), else the
 * file's EAs in name order.  SL_RETURN_SINGLE_ENTRY returns one EA per
 * call, continuing after the previous one unless SL_RESTART_SCAN;
 * SL_INDEX_SPECIFIED (AdditionalInformation as a 1-based index) is
 * ignored, as Samba does.  Only whole entries are returned: some fit ->
 * STATUS_BUFFER_OVERFLOW, none -> STATUS_BUFFER_TOO_SMALL.
 */
static NTSTATUS reply_full_ea(struct getinfo_state *state,
			      struct smbd_open *op)
{
	const struct getinfo_job *job = state->job;
	bool single = (state->flags & SMBD_SL_RETURN_SINGLE_ENTRY) != 0;
	struct smbd_ea *sel = job->eas;
	size_t count = job->num_eas, start = 0, used = 0, len = 0, i, j;
	uint32_t *cursor = NULL;
	uint8_t *data = NULL;
	NTSTATUS status;

	if (state->num_ea_names > 0) {
		sel = talloc_zero_array(state, struct smbd_ea,
					state->num_ea_names);
		if (sel == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		for (i = 0; i < state->num_ea_names; i++) {
			sel[i].name = state->ea_names[i];
			smbd_ea_name_upper(sel[i].name);
			for (j = 0; j < job->num_eas; j++) {
				if (strcasecmp(job->eas[j].name,
					       sel[i].name) == 0) {
					sel[i] = job->eas[j];
				}
			}
		}
		count = single ? 1 : state->num_ea_names;
	} else {
		if (count == 0) {
			return NT_STATUS_NO_EAS_ON_FILE;
		}
		cursor = smbd_open_ea_cursor(op);
		if (cursor == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		if (single && !(state->flags & SMBD_SL_RESTART_SCAN)) {
			start = *cursor;
		}
		if (start >= count) {
			return NT_STATUS_NO_MORE_EAS;
		}
		count = single ? 1 : count - start;
	}
	status = smbd_ea_encode_full_list(state, sel + start, count,
					  state->output_len, &data, &len,
					  &used);
	if (!NT_STATUS_IS_OK(status) &&
	    !NT_STATUS_EQUAL(status, NT_STATUS_BUFFER_OVERFLOW)) {
		return status;
	}
	if (cursor != NULL) {
		*cursor = (uint32_t)(start + used);
	}
	{
		/* OK or BUFFER_OVERFLOW: both carry the entries */
		NTSTATUS st = reply_blob(state->req, data, len);
		if (!NT_STATUS_IS_OK(st)) {
			return st;
		}
	}
	return status;
}

static NTSTATUS getinfo_reply(struct getinfo_state *state,
			      struct smbd_open *op)
{
	struct smbd_request *req = state->req;
	uint8_t *data = NULL;
	size_t len = 0, fixed = 0;
	NTSTATUS status;

	switch (state->info_type) {
	case SMB2_0_INFO_FILE:
		if (state->info_class == FSCC_FILE_FULL_EA_INFORMATION) {
			return reply_full_ea(state, op);
		}
		status = encode_file_class(state, op, &data, &len, &fixed);
		break;
	case SMB2_0_INFO_FILESYSTEM:
		status = encode_fs_class(state, op->tcon, &data, &len, &fixed);
		break;
	case SMB2_0_INFO_SECURITY: {
		/* the stored descriptor, else the unix mode's (acl_store.h) */
		status = nt_sd_encode(state, state->job->sd, state->additional,
				      &data, &len);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		if (len > state->output_len) {
			/* [MS-SMB2] 3.3.5.20.3: the size the client needs */
			uint8_t need[4];
			PUSH_LE32(need, 0, (uint32_t)len);
			if (!smbd_request_error_data(req, need, sizeof(need))) {
				return NT_STATUS_NO_MEMORY;
			}
			return NT_STATUS_BUFFER_TOO_SMALL;
		}
		return reply_blob(req, data, len);
	}
	default:
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (state->output_len < fixed) {
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	}
	if (len > state->output_len) {
		/* Variable-length classes: as much as fits, and say so
		 * ([MS-SMB2] 3.3.5.20.1). */
		status = reply_blob(req, data, state->output_len);
		return NT_STATUS_IS_OK(status) ? NT_STATUS_BUFFER_OVERFLOW
					       : status;
	}
	return reply_blob(req, data, len);
}

static void getinfo_done(struct tevent_req *subreq)
{
	struct getinfo_state *state =
		tevent_req_callback_data(subreq, struct getinfo_state);
	struct smbd_request *req = state->req;
	struct smbd_open *op;
	NTSTATUS status;
	int err;

	err = vfs_job_recv(subreq);
	TALLOC_FREE(subreq);
	if (err != 0) {
		smbd_request_done(req, map_nt_error_from_unix(err));
		return;
	}
	if (!NT_STATUS_IS_OK(state->job->status)) {
		smbd_request_done(req, state->job->status);
		return;
	}
	/* The open may have been closed while the job ran. */
	op = smbd_open_lookup(req->conn->client, state->persistent_id,
			      state->volatile_id);
	if (op == NULL) {
		smbd_request_done(req, NT_STATUS_FILE_CLOSED);
		return;
	}
	/* a write time the open holds back or keeps (dosmode.h "write
	 * time of one open"); ChangeTime follows it (dosmode.h) */
	state->job->meta.last_write_time = smbd_write_time_report(
		&op->write_time, state->job->meta.last_write_time);
	state->job->meta.change_time = state->job->meta.last_write_time;
	status = getinfo_reply(state, op);
	TALLOC_FREE(state->job);
	smbd_request_done(req, status);
}
