/*
 * libFuzzer target: smb.conf text (lib/param smb_conf_load_string()),
 * then what smbd derives from it (smbd_settings_from_conf()) and the
 * testparm-style dump (smb_conf_dump()).
 *
 * The dump must be a configuration itself: loading it again has to
 * succeed and dump to the same text (a configuration that smbconf-check
 * prints but smbd then refuses, or reads differently, is a bug).
 *
 * "include = FILE" reads files.  To touch nothing outside its own
 * directory, the loads run in a fresh temp directory (the working
 * directory is switched there around each load only, so that libFuzzer's
 * relative paths keep working) holding two small include files
 * (inc.conf, and loop.conf which includes itself), and
 * skips inputs that could name a file elsewhere: any input containing
 * both "include" (ignoring case, backslashes and line breaks, which
 * continuation lines could hide it with) and a '/'.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/param/loadparm.h"
#include "lib/util/debug.h"
#include "smbd/smbd_settings.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *tmpdir;
static int tmpdir_fd = -1;
static int orig_cwd_fd = -1;

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(name);
		abort();
	}
}

static void cleanup(void)
{
	unlinkat(tmpdir_fd, "inc.conf", 0);
	unlinkat(tmpdir_fd, "loop.conf", 0);
	rmdir(tmpdir);
}

static void enter_tmpdir(void)
{
	if (fchdir(tmpdir_fd) != 0) {
		perror("fuzz_loadparm: fchdir");
		abort();
	}
}

static void leave_tmpdir(void)
{
	if (fchdir(orig_cwd_fd) != 0) {
		perror("fuzz_loadparm: fchdir");
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	debug_level = -1;
	if (asprintf(&tmpdir, "%s/fuzz_loadparm.XXXXXX",
		     tmp != NULL ? tmp : "/tmp") < 0 ||
	    mkdtemp(tmpdir) == NULL) {
		perror("fuzz_loadparm: temp directory");
		abort();
	}
	tmpdir_fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	orig_cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmpdir_fd == -1 || orig_cwd_fd == -1) {
		perror("fuzz_loadparm: open");
		abort();
	}
	atexit(cleanup);
	enter_tmpdir();
	write_file("inc.conf", "[inc]\npath = /srv/inc\nread only = no\n");
	write_file("loop.conf", "include = loop.conf\n");
	leave_tmpdir();
	return 0;
}

static bool may_name_outside_file(const uint8_t *data, size_t size)
{
	char *flat = malloc(size + 1);
	size_t i, n = 0;
	bool has_slash = false;
	bool found;

	if (flat == NULL) {
		abort();
	}
	for (i = 0; i < size; i++) {
		uint8_t c = data[i];

		if (c == '/') {
			has_slash = true;
		}
		if (c == '\\' || c == '\r' || c == '\n') {
			continue;
		}
		flat[n++] = (char)tolower(c);
	}
	flat[n] = '\0';
	/* strstr stops at a NUL; the parser sees the text up to it too */
	found = has_slash && strstr(flat, "include") != NULL;
	free(flat);
	return found;
}

static char *dump_to_string(const struct smb_conf *conf, bool defaults)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL) {
		abort();
	}
	smb_conf_dump(conf, f, defaults);
	if (fclose(f) != 0) {
		abort();
	}
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx;
	struct smb_conf *conf = NULL, *again = NULL;
	struct smbd_settings *settings;
	char *text, *errors = NULL, *dump, *dump2;
	NTSTATUS status;

	if (may_name_outside_file(data, size)) {
		return 0;
	}
	ctx = talloc_new(NULL);
	text = talloc_strndup(ctx, (const char *)data, size);
	if (text == NULL) {
		abort();
	}
	enter_tmpdir();
	status = smb_conf_load_string(ctx, "fuzz.conf", text, &conf, &errors);
	leave_tmpdir();
	if (!NT_STATUS_IS_OK(status)) {
		if (conf != NULL) {
			fprintf(stderr, "failed load returned a conf\n");
			abort();
		}
		talloc_free(ctx);
		return 0;
	}
	settings = smbd_settings_from_conf(ctx, conf);
	if (settings == NULL) {
		abort();
	}
	(void)smb_conf_find_share(conf, "inc");
	(void)smbd_settings_passdb_path(conf);

	free(dump_to_string(conf, true));
	dump = dump_to_string(conf, false);
	status = smb_conf_load_string(ctx, "dump.conf", dump, &again, &errors);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr,
			"fuzz_loadparm: the dump of an accepted configuration "
			"does not load:\n%s--- dump:\n%s--- errors:\n%s",
			text, dump, errors ? errors : "");
		abort();
	}
	dump2 = dump_to_string(again, false);
	if (strcmp(dump, dump2) != 0) {
		fprintf(stderr,
			"fuzz_loadparm: dump, load, dump changes the "
			"configuration:\n--- first:\n%s--- second:\n%s",
			dump, dump2);
		abort();
	}
	free(dump);
	free(dump2);
	talloc_free(ctx);
	return 0;
}
