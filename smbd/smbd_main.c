/*
 * smbd: the SMB2/3 file server.
 *
 *   smbd [-s CONFIG] [-F] [-d LEVEL] [--debug-stdout]
 *
 * Reads CONFIG (default SYSCONFDIR/smb.conf), refuses to start on any
 * configuration error (printed as FILE:LINE: message), then becomes the
 * listening parent.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_config.h"
#include "lib/param/loadparm.h"
#include "lib/util/debug.h"
#include "smbd/smbd_parent.h"
#include "smbd/smbd_settings.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: smbd [-s CONFIG] [-F] [-d LEVEL] [--debug-stdout]\n"
		"  -s, --configfile=FILE  configuration (default %s/smb.conf)\n"
		"  -F, --foreground       do not become a daemon\n"
		"  -d, --debuglevel=N     log level (overrides \"log level\")\n"
		"      --debug-stdout     log to stdout/stderr, not \"log file\"\n"
		"  -V, --version          print the version\n",
		SMB3_SYSCONFDIR);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "configfile", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "debuglevel", required_argument, NULL, 'd' },
		{ "debug-stdout", no_argument, NULL, 'S' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct smbd_parent_options opts = {
		.config_path = SMB3_SYSCONFDIR "/smb.conf",
	};
	TALLOC_CTX *mem_ctx = talloc_new(NULL);
	struct tevent_context *ev;
	struct smb_conf *conf = NULL;
	struct smbd_settings *settings;
	char *errors = NULL;
	int debuglevel = -1;
	bool debug_stdout = false;
	NTSTATUS status;
	int c, ret;

	while ((c = getopt_long(argc, argv, "s:Fd:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			opts.config_path = optarg;
			break;
		case 'F':
			opts.foreground = true;
			break;
		case 'd':
			debuglevel = atoi(optarg);
			break;
		case 'S':
			debug_stdout = true;
			break;
		case 'V':
			printf("smbd %s\n", SMB3_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	status = smb_conf_load(mem_ctx, opts.config_path, &conf, &errors);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "%s", errors != NULL ? errors : "");
		fprintf(stderr, "smbd: not starting: configuration %s is "
				"invalid\n",
			opts.config_path);
		return 1;
	}
	settings = smbd_settings_from_conf(mem_ctx, conf);
	if (settings == NULL) {
		fprintf(stderr, "smbd: out of memory\n");
		return 1;
	}
	debug_set_level(debuglevel >= 0 ? debuglevel
					: smbd_settings_log_level(conf));
	if (!debug_stdout && smbd_settings_log_file(conf) != NULL &&
	    !debug_set_logfile(smbd_settings_log_file(conf))) {
		fprintf(stderr, "smbd: cannot open log file %s\n",
			smbd_settings_log_file(conf));
		return 1;
	}
	debug_set_prefix("smbd");

	if (!smbd_settings_make_dirs(conf)) {
		return 1;
	}
	/* "create mask" and "directory mask" alone decide the modes of new
	 * files, not whatever umask smbd was started with. */
	umask(0);

	if (!opts.foreground) {
		/* A daemon without "log file" would log into /dev/null. */
		if (!debug_stdout && smbd_settings_log_file(conf) == NULL) {
			char *path = talloc_asprintf(mem_ctx, "%s/smbd.log",
						     conf->global.state_directory);

			if (path == NULL || !debug_set_logfile(path)) {
				fprintf(stderr, "smbd: cannot open log file "
						"%s\n",
					path ? path : "");
				return 1;
			}
		}
		if (daemon(0, debug_stdout ? 1 : 0) != 0) {
			perror("daemon");
			return 1;
		}
	}
	ev = tevent_context_init(mem_ctx);
	if (ev == NULL) {
		return 1;
	}
	ret = smbd_parent_run(mem_ctx, ev, conf, settings, &opts);
	talloc_free(mem_ctx);
	return ret;
}
