/*
 * The file-system side of CREATE: one job on a worker thread, running as
 * the session user, does every step of an open (look up, create or open,
 * overwrite, attributes, metadata for the reply); smb2_create.c parses the
 * request, checks share modes and oplocks on the event loop and builds the
 * reply.
 */
#ifndef SMBD_CREATE_JOB_H
#define SMBD_CREATE_JOB_H

#include "smbd/smbd.h"

struct acl_ctx;
struct smbd_ea;

/*
 * The worker side.  struct create_job is the job's private_data: it owns
 * everything the worker touches (threadpool.h), and a destructor closes
 * an fd that no open took over (an orphaned job, or an error after the
 * open succeeded).
 *
 * Shared-object note: share and conf point into the tcon; a TREE_DISCONNECT
 * while this job runs would free them under the worker.  The tcon must
 * outlive its jobs (see the report to the lead).
 */
struct create_job {
	/* in */
	const struct vfs_share *share;
	const struct smb_conf_share *conf;
	char *relpath;
	bool trailing_sep;
	uint32_t disposition;
	uint32_t options;
	uint32_t attributes;
	uint32_t access; /* generic bits mapped; may hold MAXIMUM_ALLOWED */
	struct acl_ctx *acl; /* NT ACL checks and storage (acl_store.h) */
	bool read_only_share;
	uint32_t share_maximal_access;
	bool have_alloc_size;
	uint64_t alloc_size;
	/* "file::$DATA": the unnamed stream, so never a directory */
	bool data_stream_only;
	char *stream_name; /* a named stream of relpath, or NULL */
	/* "case sensitive" auto/no: the first run of the job only resolves
	 * relpath case-insensitively (vfs_casefold.h); when the spelling on
	 * disk differs, it stops with path_changed and a second run opens
	 * the name as it is on disk */
	bool casefold;
	bool path_changed;
	/* "ExtA": EAs for a file this open creates, overwrites or
	 * supersedes ([MS-SMB2] 2.2.13.2.1) */
	struct smbd_ea *eas;
	size_t num_eas;
	/* out */
	NTSTATUS status;
	int fd;
	/* an existing file or stream is to be overwritten: opened, not yet
	 * truncated (see the top of the file); accmode of the fd */
	bool overwrite_pending;
	int accmode;
	int ovw_fd; /* the open's fd, for create_overwrite_run (not owned) */
	uint32_t action;
	uint32_t granted;
	uint32_t maximal_access;
	struct smbd_file_meta meta;
	char *stream_stored; /* the stream's name as stored */
};

/* A job with no fd yet; its destructor closes an fd no open took. */
struct create_job *create_job_new(TALLOC_CTX *mem_ctx);

/* Worker thread (threadpool.h job function), private_data the job: the
 * open itself; job->status says how it went. */
void create_job_run(void *private_data);

/* Worker thread: the overwrite an open announced (overwrite_pending),
 * once share modes and oplocks let it happen. */
void create_overwrite_run(void *private_data);

#endif
