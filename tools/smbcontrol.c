/*
 * smbcontrol: send a control message to an smbd process, as Samba's
 * tool of the same name does.
 *
 *   smbcontrol [-s CONFIG] [-t SECONDS] DEST ping|shutdown
 *
 * DEST is a process id or "smbd" (the parent, from its pid file); with
 * "clustering = yes" also NODE:PID, a process of another node (Samba's
 * "node:pid" form).  The
 * messages go through messaging/ in <lock directory>/msg.sock, where this
 * tool binds its own socket for the answer.  "ping" prints
 * "PONG from pid N" when the answer comes; "shutdown" asks the process to
 * exit (the parent stops the whole server, a child drops its client).
 * Exit status 0 on success, 1 when the process does not exist or does
 * not answer in time, 2 on usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <tevent.h>
#include <time.h>

#include "build_config.h"
#include "lib/param/loadparm.h"
#include "lib/util/debug.h"
#include "clusterd/cluster_client.h"
#include "messaging/messaging.h"
#include "smbd/smbd_cluster.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: smbcontrol [-s CONFIG] [-t SECONDS] DEST ping|shutdown\n"
		"  DEST                   a process id, or \"smbd\" (the parent)\n"
		"  -s, --configfile=FILE  configuration (default %s/smb.conf)\n"
		"  -t, --timeout=SECONDS  how long to wait for an answer (10)\n",
		SMB3_SYSCONFDIR);
}

/* The parent's pid from <pid directory>/smbd.pid. */
static bool read_smbd_pid(const struct smb_conf *conf, uint32_t *pid)
{
	char path[4096];
	unsigned long v;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/smbd.pid",
		 conf->global.pid_directory);
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "smbcontrol: cannot read %s: %s\n", path,
			strerror(errno));
		return false;
	}
	n = fscanf(f, "%lu", &v);
	fclose(f);
	if (n != 1 || v == 0 || v > INT32_MAX) {
		fprintf(stderr, "smbcontrol: no pid in %s\n", path);
		return false;
	}
	*pid = (uint32_t)v;
	return true;
}

static bool parse_dest(const struct smb_conf *conf, const char *s,
		       uint32_t *node, uint32_t *pid)
{
	char *end = NULL;
	unsigned long v;

	if (strcmp(s, "smbd") == 0) {
		return read_smbd_pid(conf, pid);
	}
	if (conf->global.clustering && strchr(s, ':') != NULL) {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno != 0 || end == s || *end != ':' || v == 0 ||
		    v > UINT32_MAX) {
			fprintf(stderr, "smbcontrol: bad node in '%s'\n", s);
			return false;
		}
		*node = (uint32_t)v;
		s = end + 1;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 ||
	    v > INT32_MAX) {
		fprintf(stderr, "smbcontrol: bad destination '%s'\n", s);
		return false;
	}
	*pid = (uint32_t)v;
	return true;
}

static int do_ping(TALLOC_CTX *mem, struct tevent_context *ev,
		   struct messaging_context *msg, struct server_id dst,
		   int timeout)
{
	struct tevent_req *req;
	struct messaging_rec *rec = NULL;
	NTSTATUS status;

	/* waiting before sending: the answer cannot slip past */
	req = messaging_read_send(mem, ev, msg, MSG_PONG);
	if (req == NULL ||
	    !tevent_req_set_endtime(req, ev,
				    tevent_timeval_current_ofs(timeout, 0))) {
		return 1;
	}
	status = messaging_send(msg, dst, MSG_PING, (const uint8_t *)"ping",
				4, NULL, 0);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "smbcontrol: cannot send to pid %u: %s\n",
			(unsigned)dst.pid, nt_errstr(status));
		return 1;
	}
	for (;;) {
		if (!tevent_req_poll(req, ev)) {
			return 1;
		}
		status = messaging_read_recv(req, mem, &rec);
		TALLOC_FREE(req);
		if (!NT_STATUS_IS_OK(status)) {
			fprintf(stderr, "smbcontrol: no answer from pid %u: "
					"%s\n",
				(unsigned)dst.pid, nt_errstr(status));
			return 1;
		}
		if (rec->src.pid == dst.pid && rec->src.node == dst.node) {
			break;
		}
		/* someone else's pong: keep waiting (same deadline) */
		req = messaging_read_send(mem, ev, msg, MSG_PONG);
		if (req == NULL ||
		    !tevent_req_set_endtime(
			    req, ev, tevent_timeval_current_ofs(timeout, 0))) {
			return 1;
		}
	}
	if (rec->src.node != messaging_server_id(msg).node) {
		printf("PONG from pid %u on node %u\n", (unsigned)rec->src.pid,
		       (unsigned)rec->src.node);
		return 0;
	}
	printf("PONG from pid %u\n", (unsigned)rec->src.pid);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "configfile", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = SMB3_SYSCONFDIR "/smb.conf";
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smb_conf *conf = NULL;
	struct tevent_context *ev;
	struct messaging_context *msg;
	struct server_id dst = { 0 };
	uint32_t node = 0;
	char *errors = NULL;
	char *sockdir;
	const char *cmd;
	int timeout = 10;
	NTSTATUS status;
	int c, ret;

	while ((c = getopt_long(argc, argv, "s:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			config_path = optarg;
			break;
		case 't':
			timeout = atoi(optarg);
			if (timeout <= 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind + 1];
	if (strcmp(cmd, "ping") != 0 && strcmp(cmd, "shutdown") != 0) {
		fprintf(stderr, "smbcontrol: unknown message '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	debug_set_level(0);
	status = smb_conf_load(mem, config_path, &conf, &errors);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "%s", errors != NULL ? errors : "");
		fprintf(stderr, "smbcontrol: cannot load %s\n", config_path);
		return 1;
	}
	/* clustered: our messaging node number is the cluster node id, and
	 * a bare pid is one of this node */
	if (!NT_STATUS_IS_OK(smbd_cluster_node_id(conf, 10,
						  &node))) {
		fprintf(stderr, "smbcontrol: clustering = yes, but clusterd "
				"at %s gives no node id\n",
			conf->global.clusterd_socket);
		return 1;
	}
	dst.node = node;
	if (!parse_dest(conf, argv[optind], &dst.node, &dst.pid)) {
		return 1;
	}
	ev = tevent_context_init(mem);
	sockdir = talloc_asprintf(mem, "%s/msg.sock",
				  conf->global.lock_directory);
	if (ev == NULL || sockdir == NULL) {
		return 1;
	}
	msg = messaging_init(mem, ev, sockdir, node);
	if (msg == NULL) {
		fprintf(stderr, "smbcontrol: cannot use %s\n", sockdir);
		return 1;
	}
	if (conf->global.clustering) {
		/* NODE:PID of another node: through the local clusterd */
		status = cluster_messaging_attach(
			msg, conf->global.clusterd_socket);
		if (!NT_STATUS_IS_OK(status)) {
			fprintf(stderr, "smbcontrol: %s\n", nt_errstr(status));
			return 1;
		}
	}
	if (strcmp(cmd, "ping") == 0) {
		ret = do_ping(mem, ev, msg, dst, timeout);
	} else {
		time_t deadline = time(NULL) + timeout;

		status = messaging_send(msg, dst, MSG_SHUTDOWN, NULL, 0, NULL,
					0);
		ret = NT_STATUS_IS_OK(status) ? 0 : 1;
		/* a full receiver queue: the message waits in ours (its
		 * retry timer wakes the loop) */
		while (ret == 0 && messaging_queued(msg) > 0) {
			if (time(NULL) > deadline ||
			    tevent_loop_once(ev) != 0) {
				fprintf(stderr, "smbcontrol: pid %u does not "
						"read its messages\n",
					(unsigned)dst.pid);
				ret = 1;
			}
		}
		if (ret != 0) {
			fprintf(stderr, "smbcontrol: cannot send to pid %u: "
					"%s\n",
				(unsigned)dst.pid, nt_errstr(status));
		}
	}
	talloc_free(mem); /* removes our socket */
	return ret;
}
