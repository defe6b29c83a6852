/*
 * Change notification: the watch state behind SMB2 CHANGE_NOTIFY
 * ([MS-SMB2] 3.3.5.19, [MS-FSA] 2.1.5.11) and the one entry point that
 * reports a change (docs/notify.md).
 *
 * Where changes come from
 *   - Linux inotify, one instance per smbd process (notify.c).  The kernel
 *     reports every name change (create, delete, rename) and every data
 *     change (write, truncate) made by ANY process on this machine: other
 *     smbd children (other clients) and local programs alike.
 *   - smbd_notify_post(): what smbd itself does and the kernel cannot tell
 *     precisely (attributes, times, security, EAs set through SET_INFO).
 *     Today it reaches the watches of this process only; fanning it out
 *     to the other smbd processes (MSG_SMB_NOTIFY_EVENT) is the cluster's
 *     step, and this function stays the single place to do it.
 * A change made through smbd is reported once: names and sizes only by
 * the kernel, metadata smbd sets only by smbd_notify_post(), which also
 * swallows the kernel's vague IN_ATTRIB for the same file.
 *
 * Ownership (talloc)
 *   smbd_client -> smbd_notify_ctx (inotify fd, kernel watch table)
 *   smbd_open   -> smbd_notify     (one per directory open that was ever
 *                                   watched; freed with the open, which
 *                                   removes its kernel watches)
 */
#ifndef SMBD_NOTIFY_H
#define SMBD_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>
#include <tevent.h>

#include "lib/util/ntstatus.h"

struct smbd_client;
struct smbd_open;
struct smbd_tcon;
struct smbd_notify_ctx;
struct notify_ref;
struct notify_req;

/* FILE_NOTIFY_CHANGE_* ([MS-SMB2] 2.2.35) */
#define FILE_NOTIFY_CHANGE_FILE_NAME 0x00000001
#define FILE_NOTIFY_CHANGE_DIR_NAME 0x00000002
#define FILE_NOTIFY_CHANGE_NAME 0x00000003
#define FILE_NOTIFY_CHANGE_ATTRIBUTES 0x00000004
#define FILE_NOTIFY_CHANGE_SIZE 0x00000008
#define FILE_NOTIFY_CHANGE_LAST_WRITE 0x00000010
#define FILE_NOTIFY_CHANGE_LAST_ACCESS 0x00000020
#define FILE_NOTIFY_CHANGE_CREATION 0x00000040
#define FILE_NOTIFY_CHANGE_EA 0x00000080
#define FILE_NOTIFY_CHANGE_SECURITY 0x00000100
#define FILE_NOTIFY_CHANGE_STREAM_NAME 0x00000200
#define FILE_NOTIFY_CHANGE_STREAM_SIZE 0x00000400
#define FILE_NOTIFY_CHANGE_STREAM_WRITE 0x00000800
#define FILE_NOTIFY_CHANGE_VALID 0x00000fff

/* FILE_ACTION_* ([MS-FSCC] 2.7.1) */
#define FILE_ACTION_ADDED 0x00000001
#define FILE_ACTION_REMOVED 0x00000002
#define FILE_ACTION_MODIFIED 0x00000003
#define FILE_ACTION_RENAMED_OLD_NAME 0x00000004
#define FILE_ACTION_RENAMED_NEW_NAME 0x00000005
#define FILE_ACTION_ADDED_STREAM 0x00000006
#define FILE_ACTION_REMOVED_STREAM 0x00000007
#define FILE_ACTION_MODIFIED_STREAM 0x00000008

/* One queued change: name relative to the watched directory, UTF-8,
 * '/'-separated (the wire form uses '\\'). */
struct notify_change {
	uint32_t action;
	char *name;
};

/*
 * The watch of one directory open ([MS-SMB2] 3.3.1.10 Open's notify
 * state): fixed by the first CHANGE_NOTIFY on the handle (later requests
 * do not change filter, recursion or buffer size, as on Windows), kept
 * until the handle is closed, collecting changes between requests.
 */
struct smbd_notify {
	struct smbd_notify *prev, *next; /* in ctx->watches */
	struct smbd_notify_ctx *ctx;
	struct smbd_open *op;
	uint32_t filter;
	bool recursive;
	uint32_t max_buffer; /* OutputBufferLength of the first request */

	unsigned jobs; /* kernel watches still being added */
	NTSTATUS setup_status; /* of the watch on the directory itself */
	struct notify_ref *refs; /* kernel watches serving this watch */

	struct notify_change *changes; /* talloc array, num_changes used */
	size_t num_changes;
	size_t changes_bytes; /* their FILE_NOTIFY_INFORMATION size */
	bool overflow;	      /* dropped: the next reply is ENUM_DIR */
	bool deleted;	      /* the directory itself is delete pending */
	uint64_t dev, ino;    /* of the directory, once the job ran */
	bool have_id;
	struct tevent_req *delete_watch; /* smbd_notify_watch_delete() */

	struct notify_req *reqs; /* waiting CHANGE_NOTIFY requests, FIFO */
};

/* Start watching op (a directory) for filter; the kernel watches are
 * added by a job as the session user.  Result in *out, owned by op. */
NTSTATUS smbd_notify_watch(struct smbd_open *op, uint32_t filter,
			   bool recursive, uint32_t max_buffer,
			   struct smbd_notify **out);

/* True when the watch may answer a request: its kernel watches are in
 * place and no event read is held back (notify.c explains). */
bool smbd_notify_ready(struct smbd_notify *w);

/* Read what the kernel has queued so that w's changes are up to date. */
void smbd_notify_sync(struct smbd_notify_ctx *ctx);

/* Forget w's queued changes (after they were sent). */
void smbd_notify_clear(struct smbd_notify *w);

/* Bytes of one FILE_NOTIFY_INFORMATION entry for name, padded to 4;
 * 0 if the name cannot be converted (never queued). */
size_t smbd_notify_entry_size(const char *name);

/*
 * Write the changes as a chain of FILE_NOTIFY_INFORMATION entries
 * ([MS-FSCC] 2.7.1) into buf (capacity len).  Returns the bytes used,
 * or 0 when they do not fit or a name cannot be converted.
 */
size_t smbd_notify_marshall(const struct notify_change *changes, size_t num,
			    uint8_t *buf, size_t len);

/* While requests wait: notice the directory becoming delete pending,
 * in this process or another (w->deleted, then watch_changed). */
void smbd_notify_watch_delete(struct smbd_notify *w);

/* smb2_notify.c: w has news (changes, readiness, deletion): answer the
 * first waiting request if there is something to say. */
void smbd_notify_watch_changed(struct smbd_notify *w);

/* smb2_notify.c: complete every waiting request of w with status (the
 * open is going away). */
void smbd_notify_watch_flush(struct smbd_notify *w, NTSTATUS status);

/*
 * The single entry point for changes smbd makes itself (see above).
 * relpath is share-relative ('/'-separated) on tcon's share; action a
 * FILE_ACTION_* or 0, filter the FILE_NOTIFY_CHANGE_* bits the change
 * touches.  action 0 reports nothing and only marks the kernel's IN_ATTRIB
 * for relpath as smbd's own metadata bookkeeping (creating a file writes
 * its DOS attributes and ACL into xattrs).  stream: a named stream of
 * relpath (reported as "file:stream"), or NULL.
 */
void smbd_notify_post(struct smbd_tcon *tcon, const char *relpath,
		      const char *stream, uint32_t action, uint32_t filter);

/* The file relpath on tcon's share became delete pending (disposition
 * set, or delete-on-close passed to another handle): watches on it
 * answer with STATUS_DELETE_PENDING, as Windows does. */
void smbd_notify_delete_pending(struct smbd_tcon *tcon, const char *relpath);

#endif
