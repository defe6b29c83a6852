/*
 * smbuser: manage the SMB user database (like Samba's pdbedit/smbpasswd).
 *
 *   smbuser [-s CONF | --passdb PATH] add NAME [--unix-user UNIX]
 *                                             [--password-stdin]
 *   smbuser [...] delete NAME
 *   smbuser [...] list [--json]
 *   smbuser [...] passwd NAME [--password-stdin]
 *   smbuser [...] enable NAME
 *   smbuser [...] disable NAME
 *
 * The database is --passdb PATH, else the one the configuration names
 * ("passdb backend" / "private dir" of CONF, default SMB3_SYSCONFDIR/
 * smb.conf; when that default file does not exist the built-in defaults
 * are used).  With "clustering = yes" in CONF it is the cluster's shared
 * user database (the replicated "passdb", through the local clusterd):
 * a change on one node holds on every node.  Passwords are read twice from the terminal without echo, or
 * once (one line) from stdin with --password-stdin.
 *
 * Exit codes: 0 success, 1 failure, 2 bad command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "build_config.h"
#include "lib/crypto/nt_hash.h"
#include "lib/param/loadparm.h"
#include "lib/userdb/userdb.h"
#include "smbd/smbd_userdb.h"

#define DEFAULT_CONFIG SMB3_SYSCONFDIR "/smb.conf"
/* Windows passwords are at most 256 characters; allow for UTF-8. */
#define PASSWORD_MAX 1024

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct options {
	const char *config;
	bool config_given;
	const char *passdb;
	const char *command;
	const char *name;
	const char *unix_user;
	bool password_stdin;
	bool json;
	/* the loaded configuration (NULL with --passdb) */
	const struct smb_conf *conf;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: smbuser [-s CONF | --passdb PATH] COMMAND ...\n"
		"  add NAME [--unix-user UNIX] [--password-stdin]\n"
		"  delete NAME\n"
		"  list [--json]\n"
		"  passwd NAME [--password-stdin]\n"
		"  enable NAME\n"
		"  disable NAME\n"
		"The user database is PATH, else the one CONF names\n"
		"(default " DEFAULT_CONFIG ").\n");
}

/* Read one line (without its newline) into buf; false on EOF or error. */
static bool read_line(FILE *f, char *buf, size_t size)
{
	size_t len;

	if (fgets(buf, (int)size, f) == NULL) {
		return false;
	}
	len = strlen(buf);
	if (len > 0 && buf[len - 1] != '\n' && !feof(f)) {
		return false; /* longer than the buffer */
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
		buf[--len] = '\0';
	}
	return true;
}

/* Prompt on the terminal with echo off. */
static bool prompt_tty(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	bool ok;

	if (tty == NULL) {
		fprintf(stderr, "smbuser: no terminal to ask for the password "
				"on; use --password-stdin\n");
		return false;
	}
	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) != 0) {
		fclose(tty);
		fprintf(stderr, "smbuser: cannot turn off echo: %s\n",
			strerror(errno));
		return false;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	quiet.c_lflag |= ICANON;
	(void)tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	ok = read_line(tty, buf, size);
	(void)tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputs("\n", tty);
	fclose(tty);
	return ok;
}

/* The new password into buf; false (message printed) on failure. */
static bool get_password(const struct options *o, char *buf, size_t size)
{
	char again[PASSWORD_MAX];
	bool ok;

	if (o->password_stdin) {
		if (!read_line(stdin, buf, size)) {
			fprintf(stderr, "smbuser: no password on stdin (or "
					"longer than %d bytes)\n",
				PASSWORD_MAX - 2);
			return false;
		}
		return true;
	}
	if (!prompt_tty("New SMB password: ", buf, size)) {
		return false;
	}
	if (!prompt_tty("Retype new SMB password: ", again, sizeof(again))) {
		return false;
	}
	ok = strcmp(buf, again) == 0;
	memset(again, 0, sizeof(again));
	if (!ok) {
		fprintf(stderr, "smbuser: the passwords do not match\n");
	}
	return ok;
}

static bool hash_password(const struct options *o, uint8_t hash[16])
{
	char pw[PASSWORD_MAX];
	bool ok;

	if (!get_password(o, pw, sizeof(pw))) {
		memset(pw, 0, sizeof(pw));
		return false;
	}
	ok = nt_hash_from_password(pw, hash);
	memset(pw, 0, sizeof(pw));
	if (!ok) {
		fprintf(stderr, "smbuser: the password is not valid UTF-8 or is "
				"longer than 256 characters\n");
	}
	return ok;
}

/* Where the database is; NULL (message printed) on failure. */
static const char *passdb_path(TALLOC_CTX *mem_ctx, struct options *o)
{
	struct smb_conf *conf;

	if (o->passdb != NULL) {
		return o->passdb;
	}
	conf = smb_conf_load_for_tool(mem_ctx, o->config, o->config_given,
				      "smbuser");
	o->conf = conf;
	if (conf != NULL && conf->global.clustering) {
		/* in messages: there is no file of ours to name */
		return "the replicated database " SMBD_USERDB_CLUSTER_NAME;
	}
	return conf != NULL ? conf->global.passdb_path : NULL;
}

/* The configuration's user database: with "clustering = yes" the one all
 * nodes share (through the local clusterd, waiting up to 30 s for it to
 * be in sync), else the file (--passdb, or the configuration's). */
static NTSTATUS open_userdb(TALLOC_CTX *mem_ctx, const struct options *o,
			    const char *path, bool create, struct userdb **db)
{
	if (o->conf != NULL) {
		return smbd_userdb_open(mem_ctx, o->conf,
					o->conf->global.passdb_path, create,
					30, db);
	}
	return userdb_open(mem_ctx, path, create, db);
}

static int report(NTSTATUS status, const char *what, const char *name,
		  const char *path)
{
	if (NT_STATUS_IS_OK(status)) {
		return EXIT_OK;
	}
	if (NT_STATUS_EQUAL(status, NT_STATUS_NO_SUCH_USER)) {
		fprintf(stderr, "smbuser: %s: no such user \"%s\"\n", what, name);
	} else if (NT_STATUS_EQUAL(status, NT_STATUS_USER_EXISTS)) {
		fprintf(stderr, "smbuser: %s: user \"%s\" already exists\n",
			what, name);
	} else if (NT_STATUS_EQUAL(status, NT_STATUS_ACCESS_DENIED)) {
		fprintf(stderr, "smbuser: %s: permission denied on %s (run as "
				"root?)\n",
			what, path);
	} else {
		fprintf(stderr, "smbuser: %s \"%s\" in %s failed: %s\n", what,
			name != NULL ? name : "", path, nt_errstr(status));
	}
	return EXIT_FAIL;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}

static int cmd_list(TALLOC_CTX *mem_ctx, const struct options *o,
		    const char *path)
{
	struct userdb *db = NULL;
	struct userdb_entry **entries = NULL;
	size_t n = 0, i;
	NTSTATUS status = open_userdb(mem_ctx, o, path, false, &db);

	if (NT_STATUS_IS_OK(status)) {
		status = userdb_list(db, mem_ctx, &entries, &n);
	} else if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND)) {
		status = NT_STATUS_OK; /* no database yet: no users */
	}
	if (!NT_STATUS_IS_OK(status)) {
		return report(status, "list", NULL, path);
	}
	if (o->json) {
		printf("[");
		for (i = 0; i < n; i++) {
			printf("%s\n  {\"name\": ", i > 0 ? "," : "");
			json_string(stdout, entries[i]->account);
			printf(", \"unix_user\": ");
			json_string(stdout, entries[i]->unix_user);
			printf(", \"disabled\": %s}",
			       entries[i]->disabled ? "true" : "false");
		}
		printf("%s]\n", n > 0 ? "\n" : "");
	} else {
		for (i = 0; i < n; i++) {
			printf("%-24s %-24s %s\n", entries[i]->account,
			       entries[i]->unix_user,
			       entries[i]->disabled ? "disabled" : "enabled");
		}
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int cmd_add(TALLOC_CTX *mem_ctx, const struct options *o,
		   const char *path)
{
	const char *unix_user = o->unix_user != NULL ? o->unix_user : o->name;
	const char *problem;
	struct userdb *db = NULL;
	uint8_t hash[16];
	NTSTATUS status;

	problem = userdb_check_name(o->name);
	if (problem != NULL) {
		fprintf(stderr, "smbuser: invalid account name \"%s\": %s\n",
			o->name, problem);
		return EXIT_FAIL;
	}
	status = open_userdb(mem_ctx, o, path, true, &db);
	if (!NT_STATUS_IS_OK(status)) {
		return report(status, "open", NULL, path);
	}
	/* Refuse before asking for a password that would be thrown away. */
	{
		struct userdb_entry *e = NULL;

		status = userdb_get(db, mem_ctx, o->name, &e);
		if (NT_STATUS_IS_OK(status)) {
			return report(NT_STATUS_USER_EXISTS, "add", o->name,
				      path);
		}
	}
	if (getpwnam(unix_user) == NULL) {
		fprintf(stderr,
			"smbuser: unix user \"%s\" does not exist; create it "
			"first (useradd %s) or map the account to an existing "
			"one with --unix-user\n",
			unix_user, unix_user);
		return EXIT_FAIL;
	}
	if (!hash_password(o, hash)) {
		return EXIT_FAIL;
	}
	status = userdb_add(db, o->name, unix_user, hash);
	memset(hash, 0, sizeof(hash));
	if (NT_STATUS_IS_OK(status)) {
		printf("Added user %s (unix user %s).\n", o->name, unix_user);
	}
	return report(status, "add", o->name, path);
}

static int cmd_change(TALLOC_CTX *mem_ctx, const struct options *o,
		      const char *path)
{
	struct userdb *db = NULL;
	NTSTATUS status = open_userdb(mem_ctx, o, path, false, &db);

	if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND)) {
		return report(NT_STATUS_NO_SUCH_USER, o->command, o->name, path);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return report(status, "open", NULL, path);
	}
	if (strcmp(o->command, "delete") == 0) {
		status = userdb_delete(db, o->name);
	} else if (strcmp(o->command, "enable") == 0) {
		status = userdb_set_disabled(db, o->name, false);
	} else if (strcmp(o->command, "disable") == 0) {
		status = userdb_set_disabled(db, o->name, true);
	} else { /* passwd */
		struct userdb_entry *e = NULL;
		uint8_t hash[16];

		status = userdb_get(db, mem_ctx, o->name, &e);
		if (!NT_STATUS_IS_OK(status)) {
			return report(status, o->command, o->name, path);
		}
		if (!hash_password(o, hash)) {
			return EXIT_FAIL;
		}
		status = userdb_set_nt_hash(db, o->name, hash);
		memset(hash, 0, sizeof(hash));
	}
	return report(status, o->command, o->name, path);
}

/* Options may come before or after the command; returns EXIT_OK or
 * EXIT_USAGE. */
static int parse_args(int argc, char **argv, struct options *o)
{
	const char *positional[2] = { NULL, NULL };
	size_t npos = 0;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(EXIT_OK);
		} else if (strcmp(a, "-s") == 0 || strcmp(a, "--config") == 0) {
			if (++i == argc) {
				return EXIT_USAGE;
			}
			o->config = argv[i];
			o->config_given = true;
		} else if (strcmp(a, "--passdb") == 0) {
			if (++i == argc) {
				return EXIT_USAGE;
			}
			o->passdb = argv[i];
		} else if (strcmp(a, "--unix-user") == 0) {
			if (++i == argc) {
				return EXIT_USAGE;
			}
			o->unix_user = argv[i];
		} else if (strcmp(a, "--password-stdin") == 0) {
			o->password_stdin = true;
		} else if (strcmp(a, "--json") == 0) {
			o->json = true;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "smbuser: unknown option %s\n", a);
			return EXIT_USAGE;
		} else if (npos < 2) {
			positional[npos++] = a;
		} else {
			fprintf(stderr, "smbuser: unexpected argument %s\n", a);
			return EXIT_USAGE;
		}
	}
	if (npos == 0) {
		return EXIT_USAGE;
	}
	o->command = positional[0];
	o->name = positional[1];
	if (o->config_given && o->passdb != NULL) {
		fprintf(stderr, "smbuser: use -s or --passdb, not both\n");
		return EXIT_USAGE;
	}
	if (strcmp(o->command, "list") == 0) {
		if (o->name != NULL) {
			fprintf(stderr, "smbuser: list takes no name\n");
			return EXIT_USAGE;
		}
	} else if (strcmp(o->command, "add") == 0 ||
		   strcmp(o->command, "delete") == 0 ||
		   strcmp(o->command, "passwd") == 0 ||
		   strcmp(o->command, "enable") == 0 ||
		   strcmp(o->command, "disable") == 0) {
		if (o->name == NULL) {
			fprintf(stderr, "smbuser: %s needs a user name\n",
				o->command);
			return EXIT_USAGE;
		}
	} else {
		fprintf(stderr, "smbuser: unknown command \"%s\"\n", o->command);
		return EXIT_USAGE;
	}
	if (o->json && strcmp(o->command, "list") != 0) {
		fprintf(stderr, "smbuser: --json is for list only\n");
		return EXIT_USAGE;
	}
	if (o->unix_user != NULL && strcmp(o->command, "add") != 0) {
		fprintf(stderr, "smbuser: --unix-user is for add only\n");
		return EXIT_USAGE;
	}
	if (o->password_stdin && strcmp(o->command, "add") != 0 &&
	    strcmp(o->command, "passwd") != 0) {
		fprintf(stderr,
			"smbuser: --password-stdin is for add and passwd\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct options o = { .config = DEFAULT_CONFIG };
	TALLOC_CTX *mem_ctx;
	const char *path;
	int rc = parse_args(argc, argv, &o);

	if (rc != EXIT_OK) {
		usage(stderr);
		return rc;
	}
	mem_ctx = talloc_new(NULL);
	if (mem_ctx == NULL) {
		fprintf(stderr, "smbuser: out of memory\n");
		return EXIT_FAIL;
	}
	path = passdb_path(mem_ctx, &o);
	if (path == NULL) {
		rc = EXIT_FAIL;
	} else if (strcmp(o.command, "list") == 0) {
		rc = cmd_list(mem_ctx, &o, path);
	} else if (strcmp(o.command, "add") == 0) {
		rc = cmd_add(mem_ctx, &o, path);
	} else {
		rc = cmd_change(mem_ctx, &o, path);
	}
	talloc_free(mem_ctx);
	return rc;
}
