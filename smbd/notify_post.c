/*
 * Change notification, smbd's side (notify.h): the changes smbd makes
 * itself and reports precisely, and the watch that notices a watched
 * directory becoming delete pending in any process.
 */
#include "smbd/notify.h"

#include <string.h>

#include "dbwrap/dbwrap.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "smbd/notify_private.h"
#include "smbd/share_mode_db.h"
#include "smbd/smbd.h"

/* The watches of this process that see relpath on tcon's share, with the
 * name relative to each; fn is called for each. */
static void notify_foreach_watching(
	struct smbd_notify_ctx *ctx, struct smbd_tcon *tcon,
	const char *relpath,
	void (*fn)(struct smbd_notify *w, const char *name, void *priv),
	void *priv)
{
	struct smbd_notify *w, *next;

	for (w = ctx->watches; w != NULL; w = next) {
		const char *rest;

		next = w->next;
		if (w->op == NULL || w->op->relpath == NULL ||
		    w->op->tcon->share != tcon->share ||
		    !notify_path_under(relpath, w->op->relpath, &rest) ||
		    rest[0] == '\0') {
			continue;
		}
		if (!w->recursive && strchr(rest, '/') != NULL) {
			continue;
		}
		fn(w, rest, priv);
	}
}

static void notify_post_quiet(struct smbd_notify *w, const char *name,
			      void *priv)
{
	notify_quiet_add(w->ctx, w, name, false);
}

struct notify_post_args {
	const char *stream;
	uint32_t action;
	uint32_t filter;
};

static void notify_post_queue(struct smbd_notify *w, const char *name,
			      void *priv)
{
	struct notify_post_args *a = priv;
	char *full = NULL;

	if (a->stream != NULL) {
		full = talloc_asprintf(NULL, "%s:%s", name, a->stream);
		if (full == NULL) {
			return;
		}
		name = full;
	}
	notify_queue(w, a->action, a->filter, name);
	talloc_free(full);
}

void smbd_notify_post(struct smbd_tcon *tcon, const char *relpath,
		      const char *stream, uint32_t action, uint32_t filter)
{
	struct smbd_notify_ctx *ctx = tcon->session->client->notify_ctx;
	struct notify_post_args a = {
		.stream = stream, .action = action, .filter = filter
	};
	struct smbd_notify *w, *next;

	if (ctx == NULL || relpath == NULL) {
		return; /* nothing in this process watches */
	}
	/* The operation is complete: its IN_ATTRIB is already queued in
	 * the kernel.  Mark it as smbd's own first, then read what the
	 * kernel has, so earlier changes keep their order before this
	 * one. */
	notify_foreach_watching(ctx, tcon, relpath, notify_post_quiet, NULL);
	notify_read(ctx);
	if (action != 0) {
		notify_foreach_watching(ctx, tcon, relpath, notify_post_queue,
					&a);
	}
	for (w = ctx->watches; w != NULL; w = next) {
		next = w->next;
		smbd_notify_watch_changed(w);
	}
}

void smbd_notify_delete_pending(struct smbd_tcon *tcon, const char *relpath)
{
	struct smbd_notify_ctx *ctx = tcon->session->client->notify_ctx;
	struct smbd_notify *w, *next;

	if (ctx == NULL || relpath == NULL) {
		return;
	}
	for (w = ctx->watches; w != NULL; w = next) {
		next = w->next;
		if (w->op != NULL && w->op->relpath != NULL &&
		    w->op->tcon->share == tcon->share &&
		    strcmp(w->op->relpath, relpath) == 0) {
			w->deleted = true;
			smbd_notify_watch_changed(w);
		}
	}
}

/* ---------------------------------------------------------------- */
/* the watched directory becoming delete pending in any process */

static void notify_delete_watch_done(struct tevent_req *subreq);

/*
 * [MS-FSA] 2.1.5.4: a directory marked for deletion ends the watches on
 * it (STATUS_DELETE_PENDING; Samba does the same).  The mark lives in
 * the share-mode record of the directory, which any process may change:
 * while a request waits, the record is watched (dbwrap record watch) and
 * looked at again whenever it changes.
 */
void smbd_notify_watch_delete(struct smbd_notify *w)
{
	struct smbd_client *client = w->ctx->client;
	struct share_mode_lock *lck;

	if (w->delete_watch != NULL || w->deleted || !w->have_id) {
		DBG_DEBUG("'%s': watching=%d deleted=%d have_id=%d\n",
			  w->op->relpath, w->delete_watch != NULL, w->deleted,
			  w->have_id);
		return;
	}
	lck = share_mode_lock_get(w, client, w->dev, w->ino);
	if (lck == NULL) {
		DBG_DEBUG("no share-mode record lock for '%s'\n",
			  w->op->relpath);
		return;
	}
	if (share_mode_data_delete_pending(lck->data, NULL)) {
		w->deleted = true;
	} else if (lck->rec != NULL) {
		w->delete_watch = dbwrap_watch_send(w, client->ev, lck->rec,
						    (struct server_id){ 0 });
		if (w->delete_watch != NULL) {
			tevent_req_set_callback(w->delete_watch,
						notify_delete_watch_done, w);
		}
		DBG_DEBUG("watching the share-mode record of '%s': %s\n",
			  w->op->relpath,
			  w->delete_watch != NULL ? "ok" : "failed");
	}
	talloc_free(lck);
}

static void notify_delete_watch_done(struct tevent_req *subreq)
{
	struct smbd_notify *w = tevent_req_callback_data(subreq,
							 struct smbd_notify);
	bool died = false;

	(void)dbwrap_watch_recv(subreq, &died);
	TALLOC_FREE(w->delete_watch);
	if (w->reqs != NULL) {
		smbd_notify_watch_delete(w);
	}
	smbd_notify_watch_changed(w);
}
