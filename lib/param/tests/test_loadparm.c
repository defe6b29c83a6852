/* Unit tests for the smb.conf parser (lib/param). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/param/loadparm.h"

static struct smb_conf *load_ok(TALLOC_CTX *ctx, const char *text)
{
	struct smb_conf *conf = NULL;
	char *errors = NULL;
	NTSTATUS status = smb_conf_load_string(ctx, "t.conf", text, &conf,
					       &errors);

	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "unexpected errors:\n%s", errors ? errors : "");
	}
	assert_true(NT_STATUS_IS_OK(status));
	assert_null(errors);
	assert_non_null(conf);
	return conf;
}

/* Load text that must fail; returns the error text. */
static char *load_bad(TALLOC_CTX *ctx, const char *text)
{
	struct smb_conf *conf = (struct smb_conf *)1;
	char *errors = NULL;
	NTSTATUS status = smb_conf_load_string(ctx, "t.conf", text, &conf,
					       &errors);

	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INVALID_PARAMETER));
	assert_null(conf);
	assert_non_null(errors);
	return errors;
}

static void assert_error(const char *errors, const char *expect)
{
	if (strstr(errors, expect) == NULL) {
		fprintf(stderr, "expected \"%s\" in:\n%s", expect, errors);
		fail();
	}
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		n += *s == '\n';
	}
	return n;
}

static void test_defaults(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct smb_conf *conf = load_ok(ctx, "");
	const struct smb_conf_global *g = &conf->global;
	const struct smb_conf_share *d = &conf->share_defaults;

	assert_string_equal(g->workgroup, "WORKGROUP");
	assert_true(strlen(g->netbios_name) >= 1);
	assert_true(strlen(g->netbios_name) <= 15);
	assert_int_equal(g->num_smb_ports, 1);
	assert_int_equal(g->smb_ports[0], 445);
	assert_int_equal(g->server_min_protocol, 0x0202);
	assert_int_equal(g->server_max_protocol, 0x0311);
	assert_int_equal(g->server_signing, SMB_CONF_SIGNING_DEFAULT);
	assert_int_equal(g->map_to_guest, SMB_CONF_MAP_TO_GUEST_NEVER);
	assert_string_equal(g->guest_account, "nobody");
	assert_int_equal(g->smb2_max_read, 1024 * 1024);
	assert_int_equal(g->smb2_max_write, 1024 * 1024);
	assert_int_equal(g->smb2_max_trans, 8 * 1024 * 1024);
	assert_null(g->interfaces);
	assert_false(g->bind_interfaces_only);
	assert_string_equal(g->private_dir,
			    talloc_asprintf(ctx, "%s/private",
					    g->state_directory));
	assert_string_equal(g->passdb_path,
			    talloc_asprintf(ctx, "%s/private/passdb.tdb",
					    g->state_directory));
	assert_true(d->read_only);
	assert_true(d->browseable);
	assert_true(d->available);
	assert_false(d->guest_ok);
	assert_int_equal(d->create_mask, 0744);
	assert_int_equal(d->directory_mask, 0755);
	assert_true(d->follow_symlinks);
	assert_false(d->wide_links);
	assert_null(d->path);
	assert_int_equal(conf->num_shares, 0);
	talloc_free(ctx);
}

static void test_value_types(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct smb_conf *conf = load_ok(
		ctx, "[global]\n"
		     "  netbios name = node1\n"
		     "  workgroup = example\n"
		     "  smb ports = 4455, 1139\n"
		     "  interfaces = eth0 10.0.0.1/24;\"eth1\"\n"
		     "  bind interfaces only = True\n"
		     "  log level = 3 auth:5 passdb:2\n"
		     "  server signing = mandatory\n"
		     "  server min protocol = SMB2\n"
		     "  server max protocol = SMB3_02\n"
		     "  map to guest = bad user\n"
		     "  smb2 max read = 1048576\n"
		     "  restrict anonymous = 2\n"
		     "  server smb encrypt = desired\n"
		     "  passdb backend = tdbsam:/var/tmp/x.tdb\n"
		     "  server role = standalone server\n"
		     "  socket options = TCP_NODELAY\n"
		     "[data]\n"
		     "  path = /srv/data\n"
		     "  create mask = 0600\n"
		     "  directory mask = 700\n"
		     "  browseable = off\n"
		     "  available = 0\n"
		     "  guest ok = 1\n"
		     "  valid users = alice, \"bob smith\" @staff\n"
		     "  strict locking = yes\n"
		     "  csc policy = documents\n"
		     "  smb encrypt = required\n"
		     "  max connections = 10\n");
	const struct smb_conf_global *g = &conf->global;
	const struct smb_conf_share *s = smb_conf_find_share(conf, "DATA");

	assert_string_equal(g->netbios_name, "NODE1");
	assert_string_equal(g->workgroup, "EXAMPLE");
	assert_int_equal(g->num_smb_ports, 2);
	assert_int_equal(g->smb_ports[0], 4455);
	assert_int_equal(g->smb_ports[1], 1139);
	assert_string_equal(g->interfaces[0], "eth0");
	assert_string_equal(g->interfaces[1], "10.0.0.1/24");
	assert_string_equal(g->interfaces[2], "eth1");
	assert_null(g->interfaces[3]);
	assert_true(g->bind_interfaces_only);
	assert_int_equal(g->log_level, 3);
	assert_int_equal(g->server_signing, SMB_CONF_SIGNING_REQUIRED);
	assert_int_equal(g->server_min_protocol, 0x0210);
	assert_int_equal(g->server_max_protocol, 0x0302);
	assert_int_equal(g->map_to_guest, SMB_CONF_MAP_TO_GUEST_BAD_USER);
	assert_int_equal(g->smb2_max_read, 1048576);
	assert_int_equal(g->restrict_anonymous, 2);
	assert_int_equal(g->server_smb_encrypt, SMB_CONF_ENCRYPT_DESIRED);
	assert_string_equal(g->passdb_path, "/var/tmp/x.tdb");
	assert_string_equal(g->socket_options, "TCP_NODELAY");

	assert_non_null(s);
	assert_string_equal(s->name, "data");
	assert_int_equal(s->kind, SMB_CONF_SHARE_ORDINARY);
	assert_string_equal(s->path, "/srv/data");
	assert_int_equal(s->create_mask, 0600);
	assert_int_equal(s->directory_mask, 0700);
	assert_false(s->browseable);
	assert_false(s->available);
	assert_true(s->guest_ok);
	assert_string_equal(s->valid_users[0], "alice");
	assert_string_equal(s->valid_users[1], "bob smith");
	assert_string_equal(s->valid_users[2], "@staff");
	assert_null(s->valid_users[3]);
	assert_int_equal(s->strict_locking, SMB_CONF_STRICT_LOCKING_YES);
	assert_int_equal(s->csc_policy, SMB_CONF_CSC_DOCUMENTS);
	assert_int_equal(s->smb_encrypt, SMB_CONF_ENCRYPT_REQUIRED);
	assert_int_equal(s->max_connections, 10);
	assert_null(smb_conf_find_share(conf, "nope"));
	talloc_free(ctx);
}

static void test_booleans(void **state)
{
	static const struct {
		const char *text;
		bool value;
	} cases[] = {
		{ "yes", true },  { "no", false },   { "true", true },
		{ "false", false }, { "1", true },  { "0", false },
		{ "on", true },	  { "off", false },  { "YES", true },
		{ "Off", false },
	};
	TALLOC_CTX *ctx = talloc_new(NULL);
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = talloc_asprintf(ctx, "[s]\nguest ok = %s\n",
					     cases[i].text);
		struct smb_conf *conf = load_ok(ctx, text);

		assert_int_equal(conf->shares[0]->guest_ok, cases[i].value);
	}
	talloc_free(ctx);
}

static void test_synonyms_and_names(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct smb_conf *conf = load_ok(ctx, "[a]\n writeable = yes\n"
					     "[b]\n writable = yes\n"
					     "[c]\n readonly = no\n"
					     "[d]\n READ_ONLY = no\n"
					     "[e]\n Read Only = yes\n"
					     " browsable = no\n"
					     " public = yes\n"
					     " directory = /x\n"
					     " create mode = 0640\n"
					     "[f]\n write ok = no\n");

	assert_int_equal(conf->num_shares, 6);
	assert_false(conf->shares[0]->read_only);
	assert_false(conf->shares[1]->read_only);
	assert_false(conf->shares[2]->read_only);
	assert_false(conf->shares[3]->read_only);
	assert_true(conf->shares[4]->read_only);
	assert_false(conf->shares[4]->browseable);
	assert_true(conf->shares[4]->guest_ok);
	assert_string_equal(conf->shares[4]->path, "/x");
	assert_int_equal(conf->shares[4]->create_mask, 0640);
	assert_true(conf->shares[5]->read_only);
	talloc_free(ctx);
}

static void test_global_share_defaults(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct smb_conf *conf = load_ok(ctx, "workgroup = before\n"
					     "[first]\n path = /a\n"
					     "[global]\n read only = no\n"
					     " valid users = x\n"
					     "[second]\n path = /b\n"
					     "[homes]\n"
					     "[printers]\n"
					     "[IPC$]\n");

	assert_string_equal(conf->global.workgroup, "BEFORE");
	assert_true(conf->shares[0]->read_only);
	assert_null(conf->shares[0]->valid_users);
	assert_false(conf->shares[1]->read_only);
	assert_string_equal(conf->shares[1]->valid_users[0], "x");
	/* Copies, not shared pointers. */
	assert_ptr_not_equal(conf->shares[1]->valid_users,
			     conf->share_defaults.valid_users);
	assert_int_equal(conf->shares[2]->kind, SMB_CONF_SHARE_HOMES);
	assert_int_equal(conf->shares[3]->kind, SMB_CONF_SHARE_PRINTERS);
	assert_non_null(smb_conf_find_share(conf, "ipc$"));
	talloc_free(ctx);
}

static void test_continuation_and_comments(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct smb_conf *conf = load_ok(ctx, "# comment \\\n"
					     "; another\n"
					     "[s]\n"
					     "   valid users = a, \\\n"
					     "      b, \\\n"
					     "      c\n"
					     "\tcomment = no # trailing kept\r\n");
	char *errors;

	assert_string_equal(conf->shares[0]->valid_users[0], "a");
	assert_string_equal(conf->shares[0]->valid_users[1], "b");
	assert_string_equal(conf->shares[0]->valid_users[2], "c");
	assert_string_equal(conf->shares[0]->comment, "no # trailing kept");

	/* A problem after a continued line is counted on the right line,
	 * and one inside a continued line names where it starts. */
	errors = load_bad(ctx, "[s]\n"
			       "valid users = a, \\\n"
			       "  b\n"
			       "bogus = 1\n"
			       "guest ok = \\\n"
			       "  maybe\n");
	assert_error(errors, "t.conf:4: unknown parameter \"bogus\"\n");
	assert_error(errors, "t.conf:5: invalid boolean value \"maybe\"");
	talloc_free(ctx);
}

static void test_errors(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char *errors = load_bad(ctx,
				"[global]\n"		       /* 1 */
				"unknown thing = 1\n"	       /* 2 */
				"[share]\n"		       /* 3 */
				"path = /x\n"		       /* 4 */
				"guest ok = perhaps\n"	       /* 5 */
				"workgroup = W\n"	       /* 6 */
				"[Share]\n"		       /* 7 */
				"create mask = 0999\n"	       /* 8 */
				"[bad\n"		       /* 9 */
				"no equals sign\n"	       /* 10 */
				"[]\n"			       /* 11 */
				"[global]\n"		       /* 12 */
				"max connections = -1\n"       /* 13 */
				"map to guest = sometimes\n"   /* 14 */
				"server min protocol = NT1\n"  /* 15 */
				"passdb backend = ldapsam\n"   /* 16 */
				"server role = member server\n" /* 17 */
				"smb ports = 0\n"	       /* 18 */
				"deadtime = ten\n"	       /* 19 */
				"valid users = \"open\n"       /* 20 */
				"netbios name = "
				"MUCHTOOLONGNAME12\n"	       /* 21 */
				"[a/b]\n"		       /* 22 */
				"path = relative\n"	       /* 23 */
				" = value\n");		       /* 24 */

	assert_error(errors, "t.conf:2: unknown parameter \"unknown thing\"\n");
	assert_error(errors, "t.conf:5: invalid boolean value \"perhaps\" for "
			     "\"guest ok\"");
	assert_error(errors, "t.conf:6: global parameter \"workgroup\" is not "
			     "allowed in share section [share]\n");
	assert_error(errors, "t.conf:7: duplicate share [Share] (first "
			     "defined at t.conf:3)\n");
	assert_error(errors, "t.conf:8: invalid octal mode \"0999\"");
	assert_error(errors, "t.conf:9: missing ']' in section header\n");
	assert_error(errors, "t.conf:10: expected \"name = value\"");
	assert_error(errors, "t.conf:11: empty section name\n");
	assert_error(errors, "t.conf:13: value -1 for \"max connections\" is "
			     "out of range");
	assert_error(errors, "t.conf:14: invalid value \"sometimes\" for "
			     "\"map to guest\"");
	assert_error(errors, "t.conf:15: server min protocol = NT1: SMB1 is "
			     "not supported");
	assert_error(errors, "t.conf:16: passdb backend: passdb backend "
			     "\"ldapsam\" is not supported");
	assert_error(errors, "t.conf:17: invalid value \"member server\" for "
			     "\"server role\"");
	assert_error(errors, "t.conf:18: invalid port \"0\"");
	assert_error(errors, "t.conf:19: invalid number \"ten\" for "
			     "\"deadtime\"");
	assert_error(errors, "t.conf:20: valid users: unterminated quote");
	assert_error(errors, "t.conf:22: invalid share name [a/b]");
	assert_error(errors, "t.conf:23: path: \"relative\" is not an "
			     "absolute path");
	assert_error(errors, "t.conf:21: netbios name: \"MUCHTOOLONGNAME12\" "
			     "must be 1 to 15 characters long");
	assert_error(errors, "t.conf:24: missing parameter name");
	/* Every problem, each on its own line: nothing stops at the first. */
	assert_int_equal(count_lines(errors), 20);
	talloc_free(ctx);
}

static void test_interfaces(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct smb_conf *conf = load_ok(
		ctx, "interfaces = lo eth* 192.168.1.1/24 10.0.0.1/255.0.0.0 "
		     "fe80::1/64 ::1 br-1.10\n");
	char *errors;

	assert_string_equal(conf->global.interfaces[6], "br-1.10");
	errors = load_bad(ctx, "interfaces = 10.0.0.1/33\n"
			       "interfaces = bad/name\n"
			       "interfaces = way_too_long_interface_name\n"
			       "interfaces = a$b\n");
	assert_error(errors, "t.conf:1: interfaces: bad prefix in "
			     "\"10.0.0.1/33\"\n");
	assert_error(errors, "t.conf:2: interfaces: \"bad/name\" is neither");
	assert_error(errors, "t.conf:3: interfaces: ");
	assert_error(errors, "t.conf:4: interfaces: ");
	assert_int_equal(count_lines(errors), 4);
	talloc_free(ctx);
}

static void test_protocol_range(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char *errors = load_bad(ctx, "server max protocol = SMB2_10\n"
				     "\n"
				     "server min protocol = SMB3\n");

	assert_error(errors, "t.conf:3: server min protocol SMB3_11 is above "
			     "server max protocol SMB2_10\n");
	talloc_free(ctx);
}

static char *tmpdir;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_include(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char *main_path = talloc_asprintf(ctx, "%s/smb.conf", tmpdir);
	char *inc_path = talloc_asprintf(ctx, "%s/shares.conf", tmpdir);
	char *loop_path = talloc_asprintf(ctx, "%s/loop.conf", tmpdir);
	struct smb_conf *conf = NULL;
	char *errors = NULL;
	NTSTATUS status;

	write_file(main_path, "[global]\n workgroup = MAIN\n"
			      " include = shares.conf\n"
			      "[after]\n path = /after\n");
	write_file(inc_path, "[inc]\n path = /inc\n"
			     "  bogus = 1\n");
	status = smb_conf_load(ctx, main_path, &conf, &errors);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INVALID_PARAMETER));
	assert_error(errors, talloc_asprintf(ctx, "%s:3: unknown parameter "
						  "\"bogus\"\n",
					     inc_path));

	write_file(inc_path, "[inc]\n path = /inc\n");
	status = smb_conf_load(ctx, main_path, &conf, &errors);
	assert_true(NT_STATUS_IS_OK(status));
	assert_int_equal(conf->num_shares, 2);
	assert_string_equal(conf->shares[0]->name, "inc");
	assert_string_equal(conf->shares[1]->path, "/after");
	assert_string_equal(conf->source_path, main_path);

	/* A file including itself stops at the depth limit. */
	write_file(loop_path, "include = loop.conf\n");
	status = smb_conf_load(ctx, loop_path, &conf, &errors);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INVALID_PARAMETER));
	assert_error(errors, "includes nested deeper than 16");
	assert_int_equal(count_lines(errors), 1);

	write_file(main_path, "include = /nonexistent/x.conf\n");
	status = smb_conf_load(ctx, main_path, &conf, &errors);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INVALID_PARAMETER));
	assert_error(errors, ":1: cannot read include file "
			     "\"/nonexistent/x.conf\": No such file");

	unlink(main_path);
	unlink(inc_path);
	unlink(loop_path);
	talloc_free(ctx);
}

static void test_missing_file(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct smb_conf *conf = NULL;
	char *errors = NULL;
	NTSTATUS status = smb_conf_load(ctx, "/nonexistent/smb.conf", &conf,
					&errors);

	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND));
	assert_null(conf);
	assert_error(errors, "/nonexistent/smb.conf:0: cannot read");
	talloc_free(ctx);
}

static char *dump_to_string(TALLOC_CTX *ctx, const struct smb_conf *conf,
			    bool verbose)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char *copy;

	assert_non_null(f);
	smb_conf_dump(conf, f, verbose);
	fclose(f);
	copy = talloc_strdup(ctx, buf);
	free(buf);
	return copy;
}

static void test_case_sensitive(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct smb_conf *conf = load_ok(
		ctx, "[a]\n path = /a\n"
		     "[b]\n path = /b\n case sensitive = yes\n"
		     "[c]\n path = /c\n case sensitive = no\n"
		     "[d]\n path = /d\n casesignames = True\n"
		     "[e]\n path = /e\n Case_Sensitive = AUTO\n");
	char *errors;

	assert_int_equal(smb_conf_find_share(conf, "a")->case_sensitive,
			 SMB_CONF_CASE_SENSITIVE_AUTO);
	assert_int_equal(smb_conf_find_share(conf, "b")->case_sensitive,
			 SMB_CONF_CASE_SENSITIVE_YES);
	assert_int_equal(smb_conf_find_share(conf, "c")->case_sensitive,
			 SMB_CONF_CASE_SENSITIVE_NO);
	assert_int_equal(smb_conf_find_share(conf, "d")->case_sensitive,
			 SMB_CONF_CASE_SENSITIVE_YES);
	assert_int_equal(smb_conf_find_share(conf, "e")->case_sensitive,
			 SMB_CONF_CASE_SENSITIVE_AUTO);
	errors = load_bad(ctx, "[a]\n path = /a\n case sensitive = maybe\n");
	assert_error(errors, "case sensitive");
	talloc_free(ctx);
}

static void test_hide_files(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct smb_conf *conf = load_ok(
		ctx, "[a]\n path = /a\n"
		     "[b]\n path = /b\n hide files = /hidefile/*.tmp/\n"
		     "[c]\n path = /c\n hide files = /x/\n hide files =\n");

	(void)state;
	assert_null(smb_conf_find_share(conf, "a")->hide_files);
	assert_string_equal(smb_conf_find_share(conf, "b")->hide_files,
			    "/hidefile/*.tmp/");
	assert_null(smb_conf_find_share(conf, "c")->hide_files);
	talloc_free(ctx);
}

static void test_dump(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	const char *text = "[global]\n workgroup = dom\n"
			   " smb ports = 4455 445\n"
			   " read only = no\n"
			   " state directory = /tmp/st\n"
			   "[data]\n path = /srv/data\n"
			   " valid users = \"a b\", c\n"
			   " read only = no\n"
			   " browseable = no\n";
	struct smb_conf *conf = load_ok(ctx, text);
	struct smb_conf *again;
	char *dump = dump_to_string(ctx, conf, false);
	char *verbose = dump_to_string(ctx, conf, true);

	assert_string_equal(dump, "# Global parameters\n"
				  "[global]\n"
				  "\tworkgroup = DOM\n"
				  "\tsmb ports = 4455 445\n"
				  "\tstate directory = /tmp/st\n"
				  "\tread only = No\n"
				  "\n[data]\n"
				  "\tpath = /srv/data\n"
				  "\tbrowseable = No\n"
				  "\tvalid users = \"a b\", c\n");
	/* The verbose dump has every parameter and loads back to the same
	 * configuration. */
	assert_non_null(strstr(verbose, "\tguest account = nobody\n"));
	assert_non_null(strstr(verbose, "\tprivate dir = /tmp/st/private\n"));
	again = load_ok(ctx, verbose);
	assert_string_equal(dump_to_string(ctx, again, true), verbose);
	assert_string_equal(dump_to_string(ctx, again, false), dump);
	talloc_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_value_types),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_synonyms_and_names),
		cmocka_unit_test(test_global_share_defaults),
		cmocka_unit_test(test_continuation_and_comments),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_interfaces),
		cmocka_unit_test(test_protocol_range),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_case_sensitive),
		cmocka_unit_test(test_hide_files),
	};
	char template[] = "/tmp/loadparm_test.XXXXXX";
	int rc;

	tmpdir = mkdtemp(template);
	if (tmpdir == NULL) {
		perror("mkdtemp");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(tmpdir);
	return rc;
}
