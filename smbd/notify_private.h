/*
 * Between the two halves of change notification: notify.c (the kernel
 * side, the watch table, queueing) and notify_post.c (what smbd reports
 * itself, and the delete-pending watch).  Not for other files.
 */
#ifndef SMBD_NOTIFY_PRIVATE_H
#define SMBD_NOTIFY_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <tevent.h>

#include "smbd/notify.h"
#include "smbd/notify_inotify.h"

#define NOTIFY_WD_BUCKETS 256

struct notify_wd;
struct notify_job;
struct notify_quiet;

struct smbd_notify_ctx {
	struct smbd_client *client;
	int ifd;
	struct tevent_fd *fde;
	unsigned jobs; /* watch jobs in flight: reading is paused */
	bool reading;
	struct notify_wd *wds[NOTIFY_WD_BUCKETS];
	struct smbd_notify *watches; /* DLIST */
	struct notify_job *job_list; /* DLIST */
	struct notify_quiet *quiet;  /* DLIST, newest first */
	size_t num_quiet;
	/* a MOVED_FROM that ended a read, waiting for its MOVED_TO */
	struct notify_kevent held;
	char *held_name;
	bool have_held;
	struct tevent_timer *held_timer;
};

/* Read and dispatch what the kernel has queued (not while a job adds
 * watches). */
void notify_read(struct smbd_notify_ctx *ctx);

/* Queue a change on w if its filter takes it (name relative to w's
 * directory, '/'-separated); overflows to ENUM_DIR. */
void notify_queue(struct smbd_notify *w, uint32_t action, uint32_t filter,
		  const char *name);

/* For NOTIFY_QUIET_MS, an IN_ATTRIB on name (and with created, an
 * IN_CREATE) belongs to a change already reported. */
void notify_quiet_add(struct smbd_notify_ctx *ctx, struct smbd_notify *w,
		      const char *name, bool created);

/* relpath equals dir or lies beneath it; *rest gets what follows. */
bool notify_path_under(const char *relpath, const char *dir,
		       const char **rest);

#endif
