/*
 * Asynchronous wrappers for the hot paths, so that the SMB2 READ, WRITE
 * and FLUSH handlers need no job function of their own.  Each runs one
 * call on the pool (threadpool.h) as creds and completes on the event
 * loop.
 *
 *	subreq = vfs_pread_send(state, ev, pool, session->creds, fd,
 *				state->buf, len, offset);
 *	tevent_req_set_callback(subreq, smb2_read_done, req);
 *	...
 *	status = vfs_pread_recv(subreq, &nread);
 *	TALLOC_FREE(subreq);
 *
 * pread/pwrite: buf is the caller's and must stay valid until the request
 * completes or is freed.  Freeing the request while the worker is inside
 * the syscall blocks the event loop until that syscall returns (the
 * kernel is using buf: VFS_JOB_WAIT_ON_CANCEL), so buf may be freed right
 * after the request.  They loop until len bytes are done, end of file
 * (pread) or an error; a later error after some progress is reported as
 * the short count.
 *
 * fd must stay open until the request completes or is freed.
 */
#ifndef SMBD_VFS_VFS_ASYNC_H
#define SMBD_VFS_VFS_ASYNC_H

#include <stddef.h>
#include <stdint.h>
#include <talloc.h>
#include <tevent.h>

#include "lib/util/ntstatus.h"

struct vfs_pool;
struct vfs_creds;

struct tevent_req *vfs_pread_send(TALLOC_CTX *mem_ctx,
				  struct tevent_context *ev,
				  struct vfs_pool *pool,
				  const struct vfs_creds *creds, int fd,
				  void *buf, size_t len, uint64_t offset);
/* *nread < len only at end of file. */
NTSTATUS vfs_pread_recv(struct tevent_req *req, size_t *nread);

struct tevent_req *vfs_pwrite_send(TALLOC_CTX *mem_ctx,
				   struct tevent_context *ev,
				   struct vfs_pool *pool,
				   const struct vfs_creds *creds, int fd,
				   const void *buf, size_t len,
				   uint64_t offset);
NTSTATUS vfs_pwrite_recv(struct tevent_req *req, size_t *nwritten);

/* fsync, or fdatasync when data_only. */
struct tevent_req *vfs_fsync_send(TALLOC_CTX *mem_ctx,
				  struct tevent_context *ev,
				  struct vfs_pool *pool,
				  const struct vfs_creds *creds, int fd,
				  bool data_only);
NTSTATUS vfs_fsync_recv(struct tevent_req *req);

/*
 * Generic: run fn(private_data) as creds and return its NTSTATUS, e.g. a
 * closure around vfs_openat() or vfs_renameat().  private_data follows
 * the rules of vfs_job_send() (a talloc pointer that outlives the
 * request; orphaned if the request is freed while fn runs).
 */
struct tevent_req *vfs_call_send(TALLOC_CTX *mem_ctx,
				 struct tevent_context *ev,
				 struct vfs_pool *pool,
				 const struct vfs_creds *creds,
				 NTSTATUS (*fn)(void *private_data),
				 void *private_data);
NTSTATUS vfs_call_recv(struct tevent_req *req);

/*
 * Close fd on a worker with nobody waiting for it.  close(2) of a file
 * with dirty pages can take long: ext4 starts the writeback of a file
 * that was truncated to zero and rewritten on its last close
 * ("auto_da_alloc", ~0.4 s for 1 GiB here), network file systems flush.
 * No SMB reply depends on the descriptor itself being gone (locks and
 * share modes live in databases).  The call owns fd from here on: it is
 * closed exactly once, synchronously when the pool cannot take the job
 * or is freed before the job ran.
 */
void vfs_close_detached(struct tevent_context *ev, struct vfs_pool *pool,
			int fd);

#endif
