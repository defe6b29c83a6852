/*
 * The smbd parent: listens, forks one child per accepted connection,
 * reaps children and shuts down on SIGTERM ([seed 000]).  It never
 * parses SMB itself, so nothing a client sends can crash it.
 */
#ifndef SMBD_SMBD_PARENT_H
#define SMBD_SMBD_PARENT_H

#include "smbd/smbd.h"

struct smbd_parent_options {
	const char *config_path;
	bool foreground;
};

/* Runs until SIGTERM/SIGINT; returns the process exit code. */
int smbd_parent_run(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
		    const struct smb_conf *conf,
		    const struct smbd_settings *settings,
		    const struct smbd_parent_options *opts);

#endif
