/*
 * clusterd's configuration file (default SMB3_SYSCONFDIR/cluster.conf),
 * read by clusterd and clusterctl.  "key = value" lines, '#' or ';'
 * comments, an optional "[clusterd]" header; keys are case-insensitive
 * and may contain spaces.  Unknown keys are errors (a typo must not
 * silently leave a default in force).
 *
 *   state dir = /var/lib/smb3cluster/clusterd   persistent state (created)
 *   run dir = /run/clusterd                      pid file, control socket
 *   control socket = <run dir>/clusterd.sock
 *   public addresses = <sysconfdir>/public_addresses
 *   event script dir = <sysconfdir>/events       ctdb-scripts/ layout
 *   monitor interval = 5                         seconds between monitors
 *   vacuum interval = 10                         seconds between tombstone
 *                                                vacuums of the replicated
 *                                                databases (0: never)
 *   event timeout = 30                           seconds per script
 *   smbd port = 445                              exported to the scripts
 *   cpg group = smb3cluster
 *   log file =                                   empty: stderr
 *   log level = 2                                2: membership, IP moves
 */
#ifndef CLUSTERD_CLUSTER_CONF_H
#define CLUSTERD_CLUSTER_CONF_H

#include <talloc.h>

#include "lib/util/ntstatus.h"

struct cluster_conf {
	char *state_dir;
	char *run_dir;
	char *socket_path;
	char *public_addresses;
	char *event_script_dir;
	unsigned monitor_interval;
	unsigned vacuum_interval; /* 0: never */
	unsigned event_timeout;
	unsigned smbd_port;
	char *cpg_group;
	char *log_file;
	int log_level;
	char *messaging_dir; /* NULL: no watch wake-ups for replicated dbs */
};

/* Default path of the file when -c is not given. */
const char *cluster_conf_default_path(void);

/* Errors: NT_STATUS_INVALID_PARAMETER with "fname:line: what" in *errmsg. */
NTSTATUS cluster_conf_parse(TALLOC_CTX *mem_ctx, const char *text,
			    const char *fname, struct cluster_conf **out,
			    char **errmsg);
NTSTATUS cluster_conf_load(TALLOC_CTX *mem_ctx, const char *path,
			   struct cluster_conf **out, char **errmsg);

#endif
