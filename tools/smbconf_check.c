/*
 * smbconf-check: check an smb.conf the way smbd will read it, like
 * Samba's testparm.
 *
 *   smbconf-check [-s] [-v] [FILE]
 *
 * Every problem goes to stderr as "FILE:LINE: message" and the exit code
 * is 1; a valid file is printed in smb.conf syntax on stdout (only values
 * that differ from the defaults, every value with -v) and the exit code is
 * 0.  -s is accepted for testparm compatibility (there is no prompt to
 * suppress).  Exit code 2: bad command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <talloc.h>

#include "build_config.h"
#include "lib/param/loadparm.h"

#define DEFAULT_CONFIG SMB3_SYSCONFDIR "/smb.conf"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: smbconf-check [-s] [-v] [FILE]\n"
		"  Check FILE (default " DEFAULT_CONFIG ") and print the\n"
		"  effective configuration.\n"
		"  -s  accepted for testparm compatibility\n"
		"  -v  also print parameters that have their default value\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "suppress-prompt", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	TALLOC_CTX *mem_ctx;
	const char *path = DEFAULT_CONFIG;
	struct smb_conf *conf = NULL;
	char *errors = NULL;
	bool verbose = false;
	NTSTATUS status;
	int c;

	while ((c = getopt_long(argc, argv, "svh", options, NULL)) != -1) {
		switch (c) {
		case 's':
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		usage(stderr);
		return 2;
	}
	if (optind < argc) {
		path = argv[optind];
	}

	mem_ctx = talloc_new(NULL);
	if (mem_ctx == NULL) {
		fprintf(stderr, "smbconf-check: out of memory\n");
		return 1;
	}
	status = smb_conf_load(mem_ctx, path, &conf, &errors);
	if (!NT_STATUS_IS_OK(status)) {
		fputs(errors != NULL ? errors : "", stderr);
		fprintf(stderr, "smbconf-check: %s is not valid (%s)\n", path,
			nt_errstr(status));
		talloc_free(mem_ctx);
		return 1;
	}
	fprintf(stderr, "Loaded %s: %zu share%s, no problems found\n", path,
		conf->num_shares, conf->num_shares == 1 ? "" : "s");
	smb_conf_dump(conf, stdout, verbose);
	talloc_free(mem_ctx);
	return fflush(stdout) == 0 ? 0 : 1;
}
