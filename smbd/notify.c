/*
 * Change notification, the kernel side: one inotify instance per smbd
 * process, the watch table, and the mapping of kernel events to the
 * FILE_ACTION_* / FILE_NOTIFY_CHANGE_* of the watches (notify.h,
 * docs/notify.md).
 *
 * Kernel watches and identities
 *   inotify_add_watch() needs read permission on the directory, and the
 *   VFS rule is that file-system work for a client runs on a worker
 *   thread as the session user (vfs/impersonate.h, vfs/vfs_posix.h).  So
 *   watches are added by a thread-pool job as the session user: the
 *   directory itself through the open's fd (the open was authorized; its
 *   /proc/self/fd link is resolved by the same thread group), and for a
 *   recursive watch every subdirectory reached from it with
 *   openat(O_NOFOLLOW) one component at a time, so the walk never leaves
 *   the watched tree.  Subdirectories the user cannot read are not
 *   watched: their changes are not reported (docs/notify.md).
 *
 * Why reading pauses while a job runs
 *   A job learns the watch descriptors (wd) only when it is done, but the
 *   kernel queues events for a new wd at once.  While any job is in
 *   flight the inotify fd is not read; events stay in the kernel queue
 *   until the table knows every wd.  Before a new watch is added, what
 *   the kernel already queued is read and delivered (smbd_notify_sync),
 *   so an older change on the same directory never reaches a new watch.
 *
 * Watches sharing a directory
 *   inotify gives one wd per inode and instance.  A notify_wd is that
 *   kernel watch; each smbd_notify using it holds a notify_ref with the
 *   directory's path relative to its own root ("" for the root), so one
 *   event becomes "name" for one watch and "sub\name" for a recursive
 *   watch above it.
 */
#include "smbd/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "lib/util/byteorder.h"
#include "lib/util/charset.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "smbd/notify_inotify.h"
#include "smbd/notify_private.h"
#include "smbd/smbd.h"
#include "smbd/vfs/threadpool.h"

/* Directories one job may add for a recursive watch; beyond, the tree is
 * watched partially (docs/notify.md).  Bounded so that one client cannot
 * exhaust the kernel's per-user watch limit or block a worker for long. */
#define NOTIFY_MAX_DIRS_PER_JOB 4096
/* Changes queued per watch before it overflows to NOTIFY_ENUM_DIR. */
#define NOTIFY_MAX_CHANGES 1000
/* How long an IN_ATTRIB after a file's creation or after smbd's own
 * metadata change counts as part of that operation. */
#define NOTIFY_QUIET_MS 200
#define NOTIFY_MAX_QUIET 4096
/* How long a MOVED_FROM at the end of a read waits for its MOVED_TO. */
#define NOTIFY_MOVE_WAIT_MS 20

#define NOTIFY_INOTIFY_MASK                                                   \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY |    \
	 IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |             \
	 IN_EXCL_UNLINK)

/* What an IN_ATTRIB may mean: the kernel does not say which. */
#define NOTIFY_ATTRIB_FILTER                                                  \
	(FILE_NOTIFY_CHANGE_ATTRIBUTES | FILE_NOTIFY_CHANGE_LAST_WRITE |      \
	 FILE_NOTIFY_CHANGE_LAST_ACCESS | FILE_NOTIFY_CHANGE_CREATION |       \
	 FILE_NOTIFY_CHANGE_EA | FILE_NOTIFY_CHANGE_SECURITY)

struct notify_wd {
	struct notify_wd *prev, *next; /* in ctx->wds[] */
	int wd;
	struct notify_ref *refs; /* DLIST */
};

struct notify_ref {
	struct notify_ref *prev, *next; /* in wd->refs */
	struct notify_ref *wprev, *wnext; /* in watch->refs */
	struct notify_wd *kw;
	struct smbd_notify *watch;
	char *relpath; /* '/'-separated, "" = the watched directory */
};

/* An IN_ATTRIB on this name (relative to watch) is bookkeeping of an
 * operation already reported, until expiry. */
struct notify_quiet {
	struct notify_quiet *prev, *next;
	struct smbd_notify *watch;
	char *name;
	struct timespec expiry;
	bool created; /* reported as created: its IN_CREATE is too late */
};


/* One job adding kernel watches for one smbd_notify. */
struct notify_job {
	/* event loop side */
	struct smbd_notify_ctx *ctx;
	struct smbd_notify *watch; /* NULL once the watch is gone */
	struct notify_job *prev, *next;
	struct tevent_req *subreq;
	bool is_root; /* the job that adds the directory's own watch */
	/* worker side: only what the job owns */
	struct notify_job_data *data;
};

struct notify_job_result {
	char *relpath;
	int wd;
};

struct notify_job_data {
	int ifd;
	int dirfd;	/* dup of the open's fd, closed by the job */
	char **start;	/* relpaths to add, talloc array */
	bool recursive;
	int root_err;	/* errno of the watched directory itself */
	uint64_t dev, ino; /* of the watched directory */
	struct notify_job_result *results; /* talloc array */
	size_t num_results;
	bool truncated;
	/* a directory just created: what it already holds was made before
	 * its watch existed, so the job reports it (files here, directories
	 * are the results after the start paths) */
	bool collect;
	char **files; /* talloc array of relpaths */
	size_t num_files;
	bool files_overflow;
};

static void notify_job_done(struct tevent_req *subreq);
static NTSTATUS notify_start_job(struct smbd_notify *w, const char **paths,
				 size_t num, bool is_root, bool collect);

static struct timespec notify_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

static struct timespec notify_after_ms(unsigned ms)
{
	struct timespec ts = notify_now();

	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static bool notify_expired(const struct timespec *t, const struct timespec *now)
{
	return now->tv_sec > t->tv_sec ||
	       (now->tv_sec == t->tv_sec && now->tv_nsec >= t->tv_nsec);
}

/* ---------------------------------------------------------------- */
/* the kernel watch table */

static struct notify_wd **notify_bucket(struct smbd_notify_ctx *ctx, int wd)
{
	return &ctx->wds[(unsigned)wd % NOTIFY_WD_BUCKETS];
}

static struct notify_wd *notify_wd_find(struct smbd_notify_ctx *ctx, int wd)
{
	struct notify_wd *k;

	for (k = *notify_bucket(ctx, wd); k != NULL; k = k->next) {
		if (k->wd == wd) {
			return k;
		}
	}
	return NULL;
}

/* Drop one watch's use of a kernel watch; the last one removes it from
 * the kernel (which then sends IN_IGNORED for a wd we no longer know). */
static void notify_ref_free(struct notify_ref *r, bool kernel_gone)
{
	struct notify_wd *k = r->kw;
	struct smbd_notify *w = r->watch;
	struct smbd_notify_ctx *ctx = w->ctx;

	DLIST_REMOVE(k->refs, r);
	if (r->wprev != NULL) {
		r->wprev->wnext = r->wnext;
	} else {
		w->refs = r->wnext;
	}
	if (r->wnext != NULL) {
		r->wnext->wprev = r->wprev;
	}
	talloc_free(r);
	if (k->refs == NULL) {
		if (!kernel_gone) {
			inotify_rm_watch(ctx->ifd, k->wd);
		}
		DLIST_REMOVE(*notify_bucket(ctx, k->wd), k);
		talloc_free(k);
	}
}

static struct notify_ref *notify_ref_find(struct smbd_notify *w,
					  struct notify_wd *k)
{
	struct notify_ref *r;

	for (r = k->refs; r != NULL; r = r->next) {
		if (r->watch == w) {
			return r;
		}
	}
	return NULL;
}

static bool notify_ref_add(struct smbd_notify *w, int wd, const char *relpath)
{
	struct smbd_notify_ctx *ctx = w->ctx;
	struct notify_wd *k = notify_wd_find(ctx, wd);
	struct notify_ref *r;

	if (k == NULL) {
		k = talloc_zero(ctx, struct notify_wd);
		if (k == NULL) {
			return false;
		}
		k->wd = wd;
		DLIST_ADD(*notify_bucket(ctx, wd), k);
	} else if (notify_ref_find(w, k) != NULL) {
		return true; /* the same directory reached twice */
	}
	r = talloc_zero(k, struct notify_ref);
	if (r == NULL || (r->relpath = talloc_strdup(r, relpath)) == NULL) {
		talloc_free(r);
		if (k->refs == NULL) {
			inotify_rm_watch(ctx->ifd, wd);
			DLIST_REMOVE(*notify_bucket(ctx, wd), k);
			talloc_free(k);
		}
		return false;
	}
	r->kw = k;
	r->watch = w;
	DLIST_ADD(k->refs, r);
	r->wnext = w->refs;
	if (w->refs != NULL) {
		w->refs->wprev = r;
	}
	w->refs = r;
	return true;
}

/* relpath equals dir or lies beneath it; *rest gets what follows. */
bool notify_path_under(const char *relpath, const char *dir,
		       const char **rest)
{
	size_t n = strlen(dir);

	if (n == 0) {
		*rest = relpath;
		return true;
	}
	if (strncmp(relpath, dir, n) != 0 ||
	    (relpath[n] != '\0' && relpath[n] != '/')) {
		return false;
	}
	*rest = relpath[n] == '/' ? relpath + n + 1 : relpath + n;
	return true;
}

/* A directory of w moved from old to new (both relative to w's root):
 * its refs and those beneath follow. */
static void notify_refs_rename(struct smbd_notify *w, const char *old,
			       const char *new)
{
	struct notify_ref *r;

	for (r = w->refs; r != NULL; r = r->wnext) {
		const char *rest;
		char *p;

		if (!notify_path_under(r->relpath, old, &rest)) {
			continue;
		}
		p = rest[0] == '\0' ? talloc_strdup(r, new)
				    : talloc_asprintf(r, "%s/%s", new, rest);
		if (p != NULL) {
			talloc_free(r->relpath);
			r->relpath = p;
		}
	}
}

/* A directory of w left its tree: stop watching it and what it holds. */
static void notify_refs_drop(struct smbd_notify *w, const char *dir)
{
	struct notify_ref *r, *next;

	for (r = w->refs; r != NULL; r = next) {
		const char *rest;

		next = r->wnext;
		if (r->relpath[0] != '\0' &&
		    notify_path_under(r->relpath, dir, &rest)) {
			notify_ref_free(r, false);
		}
	}
}

/* ---------------------------------------------------------------- */
/* queueing changes on a watch */

static void notify_overflow(struct smbd_notify *w)
{
	TALLOC_FREE(w->changes);
	w->num_changes = 0;
	w->changes_bytes = 0;
	w->overflow = true;
}

void notify_queue(struct smbd_notify *w, uint32_t action, uint32_t filter,
		  const char *name)
{
	struct notify_change *c;
	size_t size;

	if ((w->filter & filter) == 0 || w->overflow) {
		return;
	}
	/* identical consecutive records say nothing new (a write of many
	 * blocks, a close after writes) */
	if (w->num_changes > 0) {
		c = &w->changes[w->num_changes - 1];
		if (c->action == action && strcmp(c->name, name) == 0) {
			return;
		}
	}
	size = smbd_notify_entry_size(name);
	if (size == 0) {
		DBG_NOTICE("name not representable: '%s'\n", name);
		return;
	}
	/* The client said how much it can take; more than that (or a
	 * runaway queue) is answered with ENUM_DIR: "re-read the
	 * directory" ([MS-SMB2] 3.3.4.4). */
	if (w->num_changes + 1 > NOTIFY_MAX_CHANGES ||
	    w->changes_bytes + size > w->max_buffer) {
		notify_overflow(w);
		return;
	}
	if (w->changes == NULL ||
	    w->num_changes == talloc_array_length(w->changes)) {
		size_t n = w->num_changes == 0 ? 8 : w->num_changes * 2;
		struct notify_change *a = talloc_realloc(
			w, w->changes, struct notify_change, n);

		if (a == NULL) {
			notify_overflow(w);
			return;
		}
		w->changes = a;
	}
	c = &w->changes[w->num_changes];
	c->action = action;
	c->name = talloc_strdup(w->changes, name);
	if (c->name == NULL) {
		notify_overflow(w);
		return;
	}
	w->num_changes++;
	w->changes_bytes += size;
}

void smbd_notify_clear(struct smbd_notify *w)
{
	TALLOC_FREE(w->changes);
	w->num_changes = 0;
	w->changes_bytes = 0;
	w->overflow = false;
}

void notify_quiet_add(struct smbd_notify_ctx *ctx, struct smbd_notify *w,
		      const char *name, bool created)
{
	struct notify_quiet *q = talloc_zero(ctx, struct notify_quiet);

	if (q == NULL || (q->name = talloc_strdup(q, name)) == NULL) {
		talloc_free(q);
		return;
	}
	q->watch = w;
	q->created = created;
	q->expiry = notify_after_ms(NOTIFY_QUIET_MS);
	DLIST_ADD(ctx->quiet, q);
	ctx->num_quiet++;
	if (ctx->num_quiet > NOTIFY_MAX_QUIET) {
		/* a burst of creations: forget the oldest (their IN_ATTRIB
		 * may then be reported) rather than grow without bound */
		struct notify_quiet *last = q;

		while (last->next != NULL) {
			last = last->next;
		}
		DLIST_REMOVE(ctx->quiet, last);
		talloc_free(last);
		ctx->num_quiet--;
	}
}

/*
 * The list is newest first and every entry lives equally long, so the
 * first expired entry and all after it are stale: they go here.  An
 * IN_ATTRIB usually follows its creation in the same read, so the match
 * is found near the head.
 */
static bool notify_quiet_match(struct smbd_notify_ctx *ctx,
			       struct smbd_notify *w, const char *name,
			       bool created)
{
	struct timespec now = notify_now();
	struct notify_quiet *q, *next;

	for (q = ctx->quiet; q != NULL; q = next) {
		next = q->next;
		if (notify_expired(&q->expiry, &now)) {
			while (q != NULL) {
				next = q->next;
				DLIST_REMOVE(ctx->quiet, q);
				talloc_free(q);
				ctx->num_quiet--;
				q = next;
			}
			return false;
		}
		if (q->watch == w && (q->created || !created) &&
		    strcmp(q->name, name) == 0) {
			return true;
		}
	}
	return false;
}

static void notify_quiet_forget(struct smbd_notify_ctx *ctx,
				struct smbd_notify *w)
{
	struct notify_quiet *q, *next;

	for (q = ctx->quiet; q != NULL; q = next) {
		next = q->next;
		if (q->watch == w) {
			DLIST_REMOVE(ctx->quiet, q);
			talloc_free(q);
			ctx->num_quiet--;
		}
	}
}

/* ---------------------------------------------------------------- */
/* from kernel events to changes */

static char *notify_join(TALLOC_CTX *mem_ctx, const char *dir,
			 const char *name)
{
	if (dir[0] == '\0') {
		return talloc_strdup(mem_ctx, name);
	}
	return talloc_asprintf(mem_ctx, "%s/%s", dir, name);
}

static void notify_add_subdir(struct smbd_notify *w, const char *relpath,
			      bool created)
{
	const char *paths[1] = { relpath };
	NTSTATUS status;

	if (!w->recursive) {
		return;
	}
	status = notify_start_job(w, paths, 1, false, created);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("cannot watch '%s': %s\n", relpath,
			   nt_errstr(status));
	}
}

/* One event on a watched directory, for one watch using it. */
static void notify_event_ref(struct smbd_notify_ctx *ctx,
			     struct notify_ref *r,
			     const struct notify_kevent *e, const char *name)
{
	struct smbd_notify *w = r->watch;
	bool is_dir = (e->mask & IN_ISDIR) != 0;
	uint32_t name_filter = is_dir ? FILE_NOTIFY_CHANGE_DIR_NAME
				      : FILE_NOTIFY_CHANGE_FILE_NAME;
	TALLOC_CTX *frame = talloc_new(NULL);
	char *rel;

	if (name == NULL) {
		/* An event on a watched directory itself: only the removal of
		 * the watch's own directory matters (its other changes are
		 * not reported, as on Windows; a subdirectory's removal was
		 * reported by its parent). */
		if ((e->mask & IN_DELETE_SELF) && r->relpath[0] == '\0') {
			w->deleted = true;
		}
		talloc_free(frame);
		return;
	}
	rel = notify_join(frame, r->relpath, name);
	if (rel == NULL) {
		talloc_free(frame);
		return;
	}
	if (e->mask & IN_CREATE) {
		if (notify_quiet_match(ctx, w, rel, true)) {
			/* reported already by the job that watched the new
			 * directory it is in */
			talloc_free(frame);
			return;
		}
		notify_queue(w, FILE_ACTION_ADDED, name_filter, rel);
		/* the creator's initial attributes and ACL are part of the
		 * creation */
		notify_quiet_add(ctx, w, rel, false);
		if (is_dir) {
			notify_add_subdir(w, rel, true);
		}
	} else if (e->mask & IN_DELETE) {
		notify_queue(w, FILE_ACTION_REMOVED, name_filter, rel);
	} else if (e->mask & IN_MODIFY) {
		notify_queue(w, FILE_ACTION_MODIFIED,
			     FILE_NOTIFY_CHANGE_SIZE |
				     FILE_NOTIFY_CHANGE_LAST_WRITE,
			     rel);
	} else if (e->mask & IN_ATTRIB) {
		if (!notify_quiet_match(ctx, w, rel, false)) {
			notify_queue(w, FILE_ACTION_MODIFIED,
				     NOTIFY_ATTRIB_FILTER, rel);
		}
	}
	talloc_free(frame);
}

/*
 * The rename of a name: from (MOVED_FROM, or NULL when it came from
 * outside every watched directory) and to (MOVED_TO, or NULL when it
 * left them).  Per watch: OLD_NAME/NEW_NAME within one directory,
 * REMOVED/ADDED across directories ([MS-FSCC] 2.7.1: ADDED and REMOVED
 * are what a rename that changes the directory gives), and for a file an
 * extra MODIFIED of the new name with ATTRIBUTES|CREATION, which Windows
 * sends and clients (and smbtorture) expect.
 */
static void notify_rename(struct smbd_notify_ctx *ctx,
			  const struct notify_kevent *from,
			  const char *from_name,
			  const struct notify_kevent *to, const char *to_name)
{
	struct notify_wd *kf = from ? notify_wd_find(ctx, from->wd) : NULL;
	struct notify_wd *kt = to ? notify_wd_find(ctx, to->wd) : NULL;
	uint32_t mask = from ? from->mask : to->mask;
	bool is_dir = (mask & IN_ISDIR) != 0;
	uint32_t name_filter = is_dir ? FILE_NOTIFY_CHANGE_DIR_NAME
				      : FILE_NOTIFY_CHANGE_FILE_NAME;
	struct smbd_notify *w, *wnext;

	for (w = ctx->watches; w != NULL; w = wnext) {
		struct notify_ref *rf = kf ? notify_ref_find(w, kf) : NULL;
		struct notify_ref *rt = kt ? notify_ref_find(w, kt) : NULL;
		TALLOC_CTX *frame;
		char *old = NULL, *new = NULL;

		wnext = w->next;
		if (rf == NULL && rt == NULL) {
			continue;
		}
		frame = talloc_new(NULL);
		if (rf != NULL) {
			old = notify_join(frame, rf->relpath, from_name);
		}
		if (rt != NULL) {
			new = notify_join(frame, rt->relpath, to_name);
		}
		if (old != NULL && new != NULL && rf->kw == rt->kw) {
			notify_queue(w, FILE_ACTION_RENAMED_OLD_NAME,
				     name_filter, old);
			notify_queue(w, FILE_ACTION_RENAMED_NEW_NAME,
				     name_filter, new);
		} else {
			if (old != NULL) {
				notify_queue(w, FILE_ACTION_REMOVED,
					     name_filter, old);
			}
			if (new != NULL) {
				notify_queue(w, FILE_ACTION_ADDED, name_filter,
					     new);
			}
		}
		if (new != NULL && !is_dir) {
			notify_queue(w, FILE_ACTION_MODIFIED,
				     FILE_NOTIFY_CHANGE_ATTRIBUTES |
					     FILE_NOTIFY_CHANGE_CREATION,
				     new);
		}
		if (is_dir) {
			if (old != NULL && new != NULL) {
				notify_refs_rename(w, old, new);
			} else if (old != NULL) {
				notify_refs_drop(w, old);
			} else if (new != NULL) {
				notify_add_subdir(w, new, false);
			}
		}
		talloc_free(frame);
	}
}

static void notify_event(struct smbd_notify_ctx *ctx,
			 const struct notify_kevent *e, const char *name)
{
	struct notify_wd *k;
	struct notify_ref *r, *next;

	if (e->mask & IN_Q_OVERFLOW) {
		struct smbd_notify *w;

		DBG_NOTICE("inotify queue overflow\n");
		for (w = ctx->watches; w != NULL; w = w->next) {
			notify_overflow(w);
		}
		return;
	}
	k = notify_wd_find(ctx, e->wd);
	if (k == NULL) {
		return; /* removed by us, or added by a job orphaned */
	}
	if (e->mask & IN_IGNORED) {
		/* the kernel dropped the watch (directory deleted); freeing
		 * the last ref frees k as well */
		bool last;

		do {
			last = k->refs->next == NULL;
			notify_ref_free(k->refs, true);
		} while (!last);
		return;
	}
	if (e->mask & (IN_MOVED_FROM | IN_MOVED_TO)) {
		notify_rename(ctx, (e->mask & IN_MOVED_FROM) ? e : NULL,
			      (e->mask & IN_MOVED_FROM) ? name : NULL,
			      (e->mask & IN_MOVED_TO) ? e : NULL,
			      (e->mask & IN_MOVED_TO) ? name : NULL);
		return;
	}
	for (r = k->refs; r != NULL; r = next) {
		next = r->next;
		notify_event_ref(ctx, r, e, name);
	}
}

static void notify_flush_held(struct smbd_notify_ctx *ctx)
{
	struct notify_kevent e = ctx->held;
	char *name = ctx->held_name;

	if (!ctx->have_held) {
		return;
	}
	ctx->have_held = false;
	ctx->held_name = NULL;
	TALLOC_FREE(ctx->held_timer);
	/* no MOVED_TO followed: it left the watched directories */
	notify_event(ctx, &e, name);
	talloc_free(name);
}

static void notify_held_timeout(struct tevent_context *ev,
				struct tevent_timer *te, struct timeval now,
				void *private_data)
{
	struct smbd_notify_ctx *ctx = private_data;
	struct smbd_notify *w, *next;

	ctx->held_timer = NULL;
	notify_read(ctx);
	notify_flush_held(ctx);
	for (w = ctx->watches; w != NULL; w = next) {
		next = w->next;
		smbd_notify_watch_changed(w);
	}
}

/* Dispatch one parsed read; a rename's halves are paired by cookie. */
static void notify_dispatch(struct smbd_notify_ctx *ctx,
			    const struct notify_kevent *ev, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct notify_kevent *e = &ev[i];

		if (ctx->have_held) {
			if ((e->mask & IN_MOVED_TO) &&
			    e->cookie == ctx->held.cookie) {
				struct notify_kevent from = ctx->held;
				char *from_name = ctx->held_name;

				ctx->have_held = false;
				ctx->held_name = NULL;
				TALLOC_FREE(ctx->held_timer);
				notify_rename(ctx, &from, from_name, e,
					      e->name);
				talloc_free(from_name);
				continue;
			}
			notify_flush_held(ctx);
		}
		if (e->mask & IN_MOVED_FROM) {
			if (i + 1 < n && (ev[i + 1].mask & IN_MOVED_TO) &&
			    ev[i + 1].cookie == e->cookie) {
				notify_rename(ctx, e, e->name, &ev[i + 1],
					      ev[i + 1].name);
				i++;
				continue;
			}
			if (i + 1 == n) {
				/* the MOVED_TO may be a read away */
				ctx->held = *e;
				ctx->held.name = NULL;
				ctx->held_name = talloc_strdup(ctx, e->name);
				ctx->have_held = true;
				ctx->held_timer = tevent_add_timer(
					ctx->client->ev, ctx,
					tevent_timeval_current_ofs(
						0, NOTIFY_MOVE_WAIT_MS * 1000),
					notify_held_timeout, ctx);
				continue;
			}
		}
		notify_event(ctx, e, e->name);
	}
}

/* Read and dispatch everything the kernel has queued, unless a job is
 * adding watches (see the file comment). */
void notify_read(struct smbd_notify_ctx *ctx)
{
	/* aligned for struct inotify_event; a few hundred events a read */
	uint8_t buf[16384] __attribute__((aligned(8)));

	if (ctx->jobs > 0 || ctx->reading) {
		return;
	}
	ctx->reading = true;
	for (;;) {
		TALLOC_CTX *frame;
		struct notify_kevent *ev;
		size_t n;
		ssize_t len = read(ctx->ifd, buf, sizeof(buf));

		if (len <= 0) {
			if (len < 0 && errno == EINTR) {
				continue;
			}
			break;
		}
		frame = talloc_new(NULL);
		n = notify_inotify_parse(frame, buf, (size_t)len, &ev);
		notify_dispatch(ctx, ev, n);
		talloc_free(frame);
		if (ctx->jobs > 0) {
			/* a new subdirectory is being watched: what follows
			 * in the kernel queue may name its wd already */
			break;
		}
	}
	ctx->reading = false;
}

static void notify_fd_handler(struct tevent_context *ev,
			      struct tevent_fd *fde, uint16_t flags,
			      void *private_data)
{
	struct smbd_notify_ctx *ctx = private_data;
	struct smbd_notify *w, *next;

	notify_read(ctx);
	for (w = ctx->watches; w != NULL; w = next) {
		next = w->next;
		smbd_notify_watch_changed(w);
	}
}

void smbd_notify_sync(struct smbd_notify_ctx *ctx)
{
	if (ctx != NULL) {
		notify_read(ctx);
	}
}

bool smbd_notify_ready(struct smbd_notify *w)
{
	return w->jobs == 0 && w->ctx->jobs == 0;
}

/* ---------------------------------------------------------------- */
/* the per-process context */

static int notify_ctx_destructor(struct smbd_notify_ctx *ctx)
{
	if (ctx->client != NULL && ctx->client->notify_ctx == ctx) {
		ctx->client->notify_ctx = NULL;
	}
	TALLOC_FREE(ctx->fde);
	if (ctx->ifd != -1) {
		close(ctx->ifd);
	}
	return 0;
}

static struct smbd_notify_ctx *notify_ctx_get(struct smbd_client *client)
{
	struct smbd_notify_ctx *ctx = client->notify_ctx;

	if (ctx != NULL) {
		return ctx;
	}
	ctx = talloc_zero(client, struct smbd_notify_ctx);
	if (ctx == NULL) {
		return NULL;
	}
	ctx->client = client;
	ctx->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ctx->ifd == -1) {
		/* EMFILE: fs.inotify.max_user_instances (docs/notify.md) */
		DBG_ERR("inotify_init1: %s\n", strerror(errno));
		talloc_free(ctx);
		return NULL;
	}
	talloc_set_destructor(ctx, notify_ctx_destructor);
	ctx->fde = tevent_add_fd(client->ev, ctx, ctx->ifd, TEVENT_FD_READ,
				 notify_fd_handler, ctx);
	if (ctx->fde == NULL) {
		talloc_free(ctx);
		return NULL;
	}
	client->notify_ctx = ctx;
	return ctx;
}

/* ---------------------------------------------------------------- */
/* jobs adding kernel watches (worker side first) */

static int notify_open_below(int dirfd, const char *relpath)
{
	char *copy, *save = NULL, *comp;
	int fd = dup(dirfd);

	if (fd == -1 || relpath[0] == '\0') {
		return fd;
	}
	copy = strdup(relpath);
	if (copy == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	for (comp = strtok_r(copy, "/", &save); comp != NULL;
	     comp = strtok_r(NULL, "/", &save)) {
		int next;

		if (strcmp(comp, "..") == 0 || strcmp(comp, ".") == 0) {
			next = -1;
			errno = EINVAL;
		} else {
			next = openat(fd, comp,
				      O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					      O_CLOEXEC);
		}
		close(fd);
		fd = next;
		if (fd == -1) {
			break;
		}
	}
	free(copy);
	return fd;
}

static int notify_add_fd_watch(int ifd, int fd)
{
	char link[64];

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	return inotify_add_watch(ifd, link, NOTIFY_INOTIFY_MASK);
}

static bool notify_job_result(struct notify_job_data *d, const char *relpath,
			      int wd)
{
	struct notify_job_result *r;

	if (d->results == NULL ||
	    d->num_results == talloc_array_length(d->results)) {
		size_t n = d->num_results == 0 ? 16 : d->num_results * 2;

		r = talloc_realloc(d, d->results, struct notify_job_result, n);
		if (r == NULL) {
			return false;
		}
		d->results = r;
	}
	r = &d->results[d->num_results];
	r->wd = wd;
	r->relpath = talloc_strdup(d->results, relpath);
	if (r->relpath == NULL) {
		return false;
	}
	d->num_results++;
	return true;
}

/* Worker: remember a non-directory entry of a new directory. */
static void notify_job_file(struct notify_job_data *d, const char *base,
			    const char *name)
{
	char *p;

	if (!d->collect || d->files_overflow) {
		return;
	}
	if (d->num_files >= NOTIFY_MAX_CHANGES) {
		d->files_overflow = true;
		return;
	}
	if (d->files == NULL || d->num_files == talloc_array_length(d->files)) {
		size_t n = d->num_files == 0 ? 16 : d->num_files * 2;
		char **a = talloc_realloc(d, d->files, char *, n);

		if (a == NULL) {
			d->files_overflow = true;
			return;
		}
		d->files = a;
	}
	p = base[0] != '\0' ? talloc_asprintf(d->files, "%s/%s", base, name)
			    : talloc_strdup(d->files, name);
	if (p == NULL) {
		d->files_overflow = true;
		return;
	}
	d->files[d->num_files++] = p;
}

static void notify_job_run(void *private_data)
{
	struct notify_job_data *d = private_data;
	size_t i, next;

	struct stat st;

	if (fstat(d->dirfd, &st) == 0) {
		/* the file id of the share-mode database (dosmode.c) */
		d->dev = ((uint64_t)major(st.st_dev) << 32) | minor(st.st_dev);
		d->ino = st.st_ino;
	}
	/* breadth first over the start paths and (recursive) what lies
	 * below them; the results array doubles as the work list */
	for (i = 0; i < talloc_array_length(d->start); i++) {
		int fd = notify_open_below(d->dirfd, d->start[i]);
		int wd;

		if (fd == -1) {
			if (d->start[i][0] == '\0') {
				d->root_err = errno;
			}
			continue;
		}
		wd = notify_add_fd_watch(d->ifd, fd);
		close(fd);
		if (wd == -1) {
			if (d->start[i][0] == '\0') {
				d->root_err = errno;
			}
			continue;
		}
		if (!notify_job_result(d, d->start[i], wd)) {
			d->truncated = true;
			return;
		}
	}
	if (!d->recursive) {
		return;
	}
	for (next = 0; next < d->num_results; next++) {
		int fd = notify_open_below(d->dirfd, d->results[next].relpath);
		DIR *dir;
		struct dirent *de;

		if (fd == -1) {
			continue;
		}
		dir = fdopendir(fd);
		if (dir == NULL) {
			close(fd);
			continue;
		}
		while ((de = readdir(dir)) != NULL) {
			const char *base = d->results[next].relpath;
			char path[PATH_MAX];
			int sub, wd;

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0) {
				continue;
			}
			if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
				notify_job_file(d, base, de->d_name);
				continue;
			}
			if (d->num_results >= NOTIFY_MAX_DIRS_PER_JOB) {
				d->truncated = true;
				break;
			}
			if (snprintf(path, sizeof(path), "%s%s%s", base,
				     base[0] != '\0' ? "/" : "",
				     de->d_name) >= (int)sizeof(path)) {
				continue;
			}
			sub = openat(dirfd(dir), de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					     O_CLOEXEC);
			if (sub == -1) {
				if (errno == ENOTDIR || errno == ELOOP) {
					notify_job_file(d, base, de->d_name);
				}
				continue; /* not a directory, or no access */
			}
			wd = notify_add_fd_watch(d->ifd, sub);
			close(sub);
			if (wd == -1) {
				continue;
			}
			if (!notify_job_result(d, path, wd)) {
				d->truncated = true;
				break;
			}
		}
		closedir(dir);
		if (d->truncated) {
			break;
		}
	}
}

static int notify_job_destructor(struct notify_job *job)
{
	struct smbd_notify_ctx *ctx = job->ctx;

	TALLOC_FREE(job->subreq);
	DLIST_REMOVE(ctx->job_list, job);
	if (job->data != NULL && job->data->dirfd != -1) {
		close(job->data->dirfd);
		job->data->dirfd = -1;
	}
	if (job->watch != NULL) {
		job->watch->jobs--;
	}
	if (--ctx->jobs == 0 && ctx->fde != NULL) {
		TEVENT_FD_READABLE(ctx->fde);
	}
	return 0;
}

static int notify_job_data_destructor(struct notify_job_data *d)
{
	if (d->dirfd != -1) {
		close(d->dirfd);
	}
	return 0;
}

/* Start a job adding watches for paths (relative to w's root). */
static NTSTATUS notify_start_job(struct smbd_notify *w, const char **paths,
				 size_t num, bool is_root, bool collect)
{
	struct smbd_notify_ctx *ctx = w->ctx;
	struct smbd_open *op = w->op;
	struct notify_job *job;
	struct notify_job_data *d;
	size_t i;

	if (op->fd == NULL || op->fd->fd == -1) {
		return NT_STATUS_INVALID_HANDLE;
	}
	/* the job is the ctx's, not the watch's: its completion must
	 * always come back to resume reading (a watch closed meanwhile
	 * only loses the results) */
	job = talloc_zero(ctx, struct notify_job);
	if (job == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	d = talloc_zero(job, struct notify_job_data);
	if (d == NULL) {
		talloc_free(job);
		return NT_STATUS_NO_MEMORY;
	}
	d->ifd = ctx->ifd;
	d->recursive = w->recursive;
	d->collect = collect;
	d->dirfd = fcntl(op->fd->fd, F_DUPFD_CLOEXEC, 0);
	talloc_set_destructor(d, notify_job_data_destructor);
	d->start = talloc_array(d, char *, num);
	if (d->dirfd == -1 || d->start == NULL) {
		talloc_free(job);
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < num; i++) {
		d->start[i] = talloc_strdup(d->start, paths[i]);
		if (d->start[i] == NULL) {
			talloc_free(job);
			return NT_STATUS_NO_MEMORY;
		}
	}
	job->ctx = ctx;
	job->watch = w;
	job->data = d;
	job->is_root = is_root;
	/* events queued until now belong to the watches that exist now
	 * (a subdirectory's job starts while those events are dispatched) */
	if (is_root) {
		notify_read(ctx);
	}
	job->subreq = vfs_job_send(job, ctx->client->ev, ctx->client->pool,
				   op->tcon->session->creds, notify_job_run,
				   d);
	if (job->subreq == NULL) {
		talloc_free(job);
		return NT_STATUS_NO_MEMORY;
	}
	tevent_req_set_callback(job->subreq, notify_job_done, job);
	ctx->jobs++;
	w->jobs++;
	DLIST_ADD(ctx->job_list, job);
	TEVENT_FD_NOT_READABLE(ctx->fde);
	talloc_set_destructor(job, notify_job_destructor);
	return NT_STATUS_OK;
}

/*
 * A directory created in a watched tree may have been filled before its
 * own watch was in place (mkdir -p, a copy of a tree): what the job
 * found below it is reported as added, and the IN_CREATE of those names
 * that the kernel queued meanwhile is not reported a second time.
 */
static void notify_job_report_found(struct smbd_notify *w,
				    struct notify_job_data *d)
{
	size_t i, starts = talloc_array_length(d->start);

	for (i = 0; i < d->num_results; i++) {
		size_t j;
		bool is_start = false;

		for (j = 0; j < starts; j++) {
			if (strcmp(d->results[i].relpath, d->start[j]) == 0) {
				is_start = true;
			}
		}
		if (is_start) {
			continue; /* its own creation was reported */
		}
		notify_queue(w, FILE_ACTION_ADDED, FILE_NOTIFY_CHANGE_DIR_NAME,
			     d->results[i].relpath);
		notify_quiet_add(w->ctx, w, d->results[i].relpath, true);
	}
	for (i = 0; i < d->num_files; i++) {
		notify_queue(w, FILE_ACTION_ADDED,
			     FILE_NOTIFY_CHANGE_FILE_NAME, d->files[i]);
		notify_quiet_add(w->ctx, w, d->files[i], true);
	}
	if (d->files_overflow) {
		notify_overflow(w);
	}
}

static void notify_job_done(struct tevent_req *subreq)
{
	struct notify_job *job = tevent_req_callback_data(subreq,
							  struct notify_job);
	struct smbd_notify_ctx *ctx = job->ctx;
	struct notify_job_data *d = job->data;
	struct smbd_notify *w = job->watch;
	struct smbd_notify *x, *next;
	int err = vfs_job_recv(subreq);
	size_t i;

	TALLOC_FREE(subreq);
	job->subreq = NULL;
	if (err != 0) {
		d->root_err = err;
		d->num_results = 0;
	}
	for (i = 0; i < d->num_results; i++) {
		if (w == NULL || !notify_ref_add(w, d->results[i].wd,
						 d->results[i].relpath)) {
			if (notify_wd_find(ctx, d->results[i].wd) == NULL) {
				inotify_rm_watch(ctx->ifd, d->results[i].wd);
			}
		}
	}
	if (w != NULL && job->is_root && d->ino != 0) {
		w->dev = d->dev;
		w->ino = d->ino;
		w->have_id = true;
	}
	if (w != NULL && job->is_root && d->root_err != 0) {
		/* ENOSPC is the kernel's watch limit, not a full disk */
		w->setup_status = d->root_err == ENOSPC
					  ? NT_STATUS_INSUFFICIENT_RESOURCES
					  : map_nt_error_from_unix(d->root_err);
		DBG_NOTICE("watch of '%s': %s\n", w->op->relpath,
			   strerror(d->root_err));
	}
	if (d->truncated) {
		DBG_NOTICE("recursive watch truncated at %u directories\n",
			   (unsigned)d->num_results);
	}
	if (w != NULL && d->collect) {
		notify_job_report_found(w, d);
	}
	/* the destructor resumes reading once no job is left */
	talloc_free(job);
	if (ctx->jobs == 0) {
		notify_read(ctx);
		for (x = ctx->watches; x != NULL; x = next) {
			next = x->next;
			smbd_notify_watch_changed(x);
		}
	}
}

/* ---------------------------------------------------------------- */
/* watches of opens */

static int notify_watch_destructor(struct smbd_notify *w)
{
	struct smbd_notify_ctx *ctx = w->ctx;
	struct notify_job *job;
	struct smbd_notify *x;

	smbd_notify_watch_flush(w, NT_STATUS_NOTIFY_CLEANUP);
	while (w->refs != NULL) {
		notify_ref_free(w->refs, false);
	}
	notify_quiet_forget(ctx, w);
	/* jobs in flight lose their watch, not their ctx */
	for (job = ctx->job_list; job != NULL; job = job->next) {
		if (job->watch == w) {
			job->watch = NULL;
		}
	}
	for (x = ctx->watches; x != NULL; x = x->next) {
		if (x == w) {
			DLIST_REMOVE(ctx->watches, w);
			break;
		}
	}
	if (w->op != NULL && w->op->notify == w) {
		w->op->notify = NULL;
	}
	return 0;
}

NTSTATUS smbd_notify_watch(struct smbd_open *op, uint32_t filter,
			   bool recursive, uint32_t max_buffer,
			   struct smbd_notify **out)
{
	struct smbd_client *client = op->tcon->session->client;
	struct smbd_notify_ctx *ctx = notify_ctx_get(client);
	const char *root = "";
	struct smbd_notify *w;
	NTSTATUS status;

	if (ctx == NULL) {
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	}
	w = talloc_zero(op, struct smbd_notify);
	if (w == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	w->ctx = ctx;
	w->op = op;
	w->filter = filter;
	w->recursive = recursive;
	w->max_buffer = max_buffer;
	w->setup_status = NT_STATUS_OK;
	DLIST_ADD(ctx->watches, w);
	talloc_set_destructor(w, notify_watch_destructor);
	status = notify_start_job(w, &root, 1, true, false);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(w);
		return status;
	}
	op->notify = w;
	*out = w;
	return NT_STATUS_OK;
}
