/*
 * smb.conf reader: lines, sections, includes, and error collection.
 * What each parameter means and how its value is parsed lives in the
 * table (param_table.c, param_values.c).
 *
 * Every problem is collected rather than returned at the first one, so
 * that smbconf-check shows an administrator all of them at once; loading
 * fails if there was any.
 */
#include "lib/param/loadparm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/param/param_table.h"
#include "lib/util/debug.h"

/* No smb.conf is this large; a bigger file is a mistake (or /dev/zero). */
#define SMB_CONF_MAX_FILE_SIZE (16 * 1024 * 1024)

struct parse_state {
	struct smb_conf *conf;
	char *errors;
	unsigned num_errors;
	bool no_memory;
	/* The section parameters go to: NULL while in [global]. */
	struct smb_conf_share *share;
	/* A duplicate share's parameters are still checked, into here. */
	struct smb_conf_share *scratch;
	unsigned include_depth;
	/* Where the protocol range was last set, for the min <= max check. */
	const char *protocol_file;
	unsigned protocol_line;
};

static void add_error(struct parse_state *st, const char *file, unsigned line,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add_error(struct parse_state *st, const char *file, unsigned line,
		      const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = talloc_vasprintf(st->conf, fmt, ap);
	va_end(ap);
	if (msg == NULL) {
		st->no_memory = true;
		return;
	}
	st->errors = talloc_asprintf_append(st->errors, "%s:%u: %s\n", file,
					    line, msg);
	if (st->errors == NULL) {
		st->no_memory = true;
	}
	st->num_errors++;
	talloc_free(msg);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\r') {
		s++;
	}
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\r' || end[-1] == '\n')) {
		*--end = '\0';
	}
	return s;
}

/* Characters Windows does not allow in a share name ([MS-FSCC] 2.1.6
 * forbids them in names; the share name shows up as a path part). */
static const char *share_name_problem(const char *name)
{
	size_t i, len = strlen(name);

	if (len > SMB_CONF_SHARE_NAME_MAX) {
		return "longer than 80 characters";
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || strchr("\\/:*?\"<>|", c)) {
			return "contains a character not allowed in share "
			       "names (\\ / : * ? \" < > | or a control "
			       "character)";
		}
	}
	return NULL;
}

static struct smb_conf_share *find_share(const struct smb_conf *conf,
					 const char *name)
{
	size_t i;

	for (i = 0; i < conf->num_shares; i++) {
		if (strcasecmp(conf->shares[i]->name, name) == 0) {
			return conf->shares[i];
		}
	}
	return NULL;
}

/* A new share starts as a copy of the share defaults set so far. */
static struct smb_conf_share *new_share(struct parse_state *st,
					const char *name, const char *file,
					unsigned line)
{
	struct smb_conf *conf = st->conf;
	struct smb_conf_share *s = talloc(conf, struct smb_conf_share);

	if (s == NULL) {
		return NULL;
	}
	*s = conf->share_defaults;
	if (!param_share_copy_strings(s, s)) {
		talloc_free(s);
		return NULL;
	}
	s->name = talloc_strdup(s, name);
	s->source_file = talloc_strdup(s, file);
	s->source_line = line;
	if (s->name == NULL || s->source_file == NULL) {
		talloc_free(s);
		return NULL;
	}
	if (strcasecmp(name, "homes") == 0) {
		s->kind = SMB_CONF_SHARE_HOMES;
	} else if (strcasecmp(name, "printers") == 0) {
		s->kind = SMB_CONF_SHARE_PRINTERS;
	} else {
		s->kind = SMB_CONF_SHARE_ORDINARY;
	}
	return s;
}

static void handle_section(struct parse_state *st, char *line,
			   const char *file, unsigned lineno)
{
	struct smb_conf *conf = st->conf;
	char *close = strchr(line, ']');
	struct smb_conf_share *s, *dup;
	struct smb_conf_share **grown;
	const char *problem;
	char *name, *rest;

	/* Until the header is understood, parameters go nowhere real. */
	TALLOC_FREE(st->scratch);
	st->share = NULL;
	if (close == NULL) {
		add_error(st, file, lineno, "missing ']' in section header");
		goto into_scratch;
	}
	*close = '\0';
	rest = trim(close + 1);
	if (rest[0] != '\0' && rest[0] != '#' && rest[0] != ';') {
		add_error(st, file, lineno,
			  "unexpected text \"%s\" after section header", rest);
	}
	name = trim(line + 1);
	if (name[0] == '\0') {
		add_error(st, file, lineno, "empty section name");
		goto into_scratch;
	}
	if (strcasecmp(name, "global") == 0) {
		return; /* [global] may appear more than once, as in Samba */
	}
	problem = share_name_problem(name);
	if (problem != NULL) {
		add_error(st, file, lineno, "invalid share name [%s]: %s",
			  name, problem);
		goto into_scratch;
	}
	dup = find_share(conf, name);
	if (dup != NULL) {
		add_error(st, file, lineno,
			  "duplicate share [%s] (first defined at %s:%u)", name,
			  dup->source_file, dup->source_line);
		goto into_scratch;
	}
	s = new_share(st, name, file, lineno);
	if (s == NULL) {
		st->no_memory = true;
		return;
	}
	grown = talloc_realloc(conf, conf->shares, struct smb_conf_share *,
			       conf->num_shares + 1);
	if (grown == NULL) {
		talloc_free(s);
		st->no_memory = true;
		return;
	}
	conf->shares = grown;
	conf->shares[conf->num_shares++] = s;
	st->share = s;
	return;

into_scratch:
	/* Keep checking the section's parameters so their errors show too,
	 * but into a share nobody will see. */
	st->scratch = new_share(st, "(invalid)", file, lineno);
	if (st->scratch == NULL) {
		st->no_memory = true;
	}
	st->share = st->scratch;
}

static void parse_text(struct parse_state *st, const char *file, char *text,
		       const char *dir);

static void handle_include(struct parse_state *st, const char *value,
			   const char *file, unsigned lineno, const char *dir);

static void handle_parameter(struct parse_state *st, char *line,
			     const char *file, unsigned lineno,
			     const char *dir)
{
	char *eq = strchr(line, '=');
	const struct param_def *p;
	char *name, *value, *err;
	TALLOC_CTX *tmp;
	void *base;
	TALLOC_CTX *owner;

	if (eq == NULL) {
		add_error(st, file, lineno,
			  "expected \"name = value\" or a [section] header, "
			  "got \"%s\"",
			  line);
		return;
	}
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	if (name[0] == '\0') {
		add_error(st, file, lineno, "missing parameter name before '='");
		return;
	}
	if (strcasecmp(name, "include") == 0) {
		handle_include(st, value, file, lineno, dir);
		return;
	}
	p = param_find(name);
	if (p == NULL) {
		add_error(st, file, lineno, "unknown parameter \"%s\"", name);
		return;
	}
	if (p->scope == P_GLOBAL && st->share != NULL) {
		add_error(st, file, lineno,
			  "global parameter \"%s\" is not allowed in share "
			  "section [%s]",
			  name, st->share->name);
		return;
	}
	if (p->scope == P_GLOBAL) {
		base = &st->conf->global;
		owner = st->conf;
	} else if (st->share != NULL) {
		base = st->share;
		owner = st->share;
	} else {
		base = &st->conf->share_defaults;
		owner = st->conf;
	}
	tmp = talloc_new(st->conf);
	if (tmp == NULL) {
		st->no_memory = true;
		return;
	}
	err = param_set_value(tmp, p, base, owner, value);
	if (err != NULL) {
		add_error(st, file, lineno, "%s", err);
	} else if (p->type == P_PROTOCOL) {
		st->protocol_file = talloc_strdup(st->conf, file);
		st->protocol_line = lineno;
	}
	talloc_free(tmp);
}

static char *read_file(TALLOC_CTX *mem_ctx, const char *path, int *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	char *buf;
	size_t got = 0;

	if (fd == -1) {
		*err = errno;
		return NULL;
	}
	if (fstat(fd, &sb) != 0) {
		*err = errno;
		close(fd);
		return NULL;
	}
	if (S_ISDIR(sb.st_mode)) {
		*err = EISDIR;
		close(fd);
		return NULL;
	}
	if (sb.st_size > SMB_CONF_MAX_FILE_SIZE) {
		*err = EFBIG;
		close(fd);
		return NULL;
	}
	buf = talloc_array(mem_ctx, char, (size_t)sb.st_size + 1);
	if (buf == NULL) {
		*err = ENOMEM;
		close(fd);
		return NULL;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			*err = errno;
			talloc_free(buf);
			close(fd);
			return NULL;
		}
		if (n == 0) {
			break; /* shrank under us: use what is there */
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	if (strlen(buf) != got) {
		*err = EILSEQ; /* an embedded NUL: not a text file */
		talloc_free(buf);
		return NULL;
	}
	return buf;
}

static char *dir_of(TALLOC_CTX *mem_ctx, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		return talloc_strdup(mem_ctx, ".");
	}
	if (slash == path) {
		return talloc_strdup(mem_ctx, "/");
	}
	return talloc_strndup(mem_ctx, path, (size_t)(slash - path));
}

static void handle_include(struct parse_state *st, const char *value,
			   const char *file, unsigned lineno, const char *dir)
{
	TALLOC_CTX *tmp;
	char *path, *text;
	int err = 0;

	if (value[0] == '\0') {
		add_error(st, file, lineno, "include needs a file name");
		return;
	}
	if (st->include_depth >= SMB_CONF_MAX_INCLUDE_DEPTH) {
		add_error(st, file, lineno,
			  "include \"%s\": includes nested deeper than %d "
			  "(a loop?)",
			  value, SMB_CONF_MAX_INCLUDE_DEPTH);
		return;
	}
	tmp = talloc_new(st->conf);
	if (tmp == NULL) {
		st->no_memory = true;
		return;
	}
	if (value[0] == '/' || dir == NULL) {
		path = talloc_strdup(tmp, value);
	} else {
		path = talloc_asprintf(tmp, "%s/%s", dir, value);
	}
	if (path == NULL) {
		st->no_memory = true;
		talloc_free(tmp);
		return;
	}
	text = read_file(tmp, path, &err);
	if (text == NULL) {
		add_error(st, file, lineno, "cannot read include file \"%s\": %s",
			  path, strerror(err));
		talloc_free(tmp);
		return;
	}
	st->include_depth++;
	parse_text(st, path, text, dir_of(tmp, path));
	st->include_depth--;
	talloc_free(tmp);
}

/*
 * One pass over the text.  A line ending in '\' is joined with the next
 * (the backslash dropped); a message about a joined line names the line
 * where it started.
 */
static void parse_text(struct parse_state *st, const char *file, char *text,
		       const char *dir)
{
	char *p = text;
	unsigned lineno = 0;
	char *logical = NULL;
	unsigned logical_start = 0;
	TALLOC_CTX *tmp = talloc_new(st->conf);

	if (tmp == NULL) {
		st->no_memory = true;
		return;
	}
	while (*p != '\0' && !st->no_memory) {
		char *nl = strchr(p, '\n');
		char *line = p;
		size_t len;

		if (nl != NULL) {
			*nl = '\0';
			p = nl + 1;
		} else {
			p += strlen(p);
		}
		lineno++;
		len = strlen(line);
		while (len > 0 && (line[len - 1] == '\r' ||
				   line[len - 1] == ' ' ||
				   line[len - 1] == '\t')) {
			line[--len] = '\0';
		}
		if (logical == NULL) {
			char *start = trim(line);

			/* A comment line ends here even if it ends in '\'. */
			if (start[0] == '#' || start[0] == ';' ||
			    start[0] == '\0') {
				continue;
			}
			logical = talloc_strdup(tmp, "");
			logical_start = lineno;
		}
		if (len > 0 && line[len - 1] == '\\') {
			line[len - 1] = '\0';
			logical = talloc_strdup_append(logical, line);
			if (logical == NULL) {
				st->no_memory = true;
			}
			if (*p != '\0') {
				continue; /* joined with the next line */
			}
		} else {
			logical = talloc_strdup_append(logical, line);
			if (logical == NULL) {
				st->no_memory = true;
				break;
			}
		}
		line = trim(logical);
		if (line[0] == '[') {
			handle_section(st, line, file, logical_start);
		} else if (line[0] != '\0') {
			handle_parameter(st, line, file, logical_start, dir);
		}
		TALLOC_FREE(logical);
	}
	talloc_free(tmp);
}

static struct smb_conf *smb_conf_new(TALLOC_CTX *mem_ctx, const char *name)
{
	struct smb_conf *conf = talloc_zero(mem_ctx, struct smb_conf);

	if (conf == NULL) {
		return NULL;
	}
	conf->source_path = talloc_strdup(conf, name);
	param_global_defaults(conf);
	param_share_defaults(conf, &conf->share_defaults);
	conf->share_defaults.name = talloc_strdup(conf, "global");
	if (conf->source_path == NULL || conf->global.netbios_name == NULL ||
	    conf->global.workgroup == NULL ||
	    conf->global.server_string == NULL ||
	    conf->global.smb_ports == NULL ||
	    conf->global.guest_account == NULL ||
	    conf->global.state_directory == NULL ||
	    conf->global.passdb_backend == NULL ||
	    conf->global.security == NULL ||
	    conf->share_defaults.comment == NULL ||
	    conf->share_defaults.name == NULL) {
		talloc_free(conf);
		return NULL;
	}
	return conf;
}

/* Problems only visible once the whole file is read. */
static void check_whole(struct parse_state *st)
{
	struct smb_conf_global *g = &st->conf->global;

	if (g->server_min_protocol > g->server_max_protocol) {
		add_error(st,
			  st->protocol_file != NULL ? st->protocol_file
						    : st->conf->source_path,
			  st->protocol_line,
			  "server min protocol %s is above server max "
			  "protocol %s",
			  smb_conf_protocol_name(g->server_min_protocol),
			  smb_conf_protocol_name(g->server_max_protocol));
	}
	if (!param_resolve_derived(st->conf)) {
		st->no_memory = true;
	}
}

static NTSTATUS finish(struct parse_state *st, TALLOC_CTX *mem_ctx,
		       struct smb_conf **out, char **errors)
{
	NTSTATUS status = NT_STATUS_OK;

	TALLOC_FREE(st->scratch);
	if (st->no_memory) {
		status = NT_STATUS_NO_MEMORY;
	} else if (st->num_errors > 0) {
		status = NT_STATUS_INVALID_PARAMETER;
	}
	if (errors != NULL) {
		*errors = NULL;
		if (st->num_errors > 0 && st->errors != NULL) {
			*errors = talloc_steal(mem_ctx, st->errors);
		} else if (st->no_memory) {
			*errors = talloc_asprintf(mem_ctx,
						  "%s:0: out of memory\n",
						  st->conf->source_path);
		}
	}
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(st->conf);
		*out = NULL;
		return status;
	}
	TALLOC_FREE(st->errors);
	*out = st->conf;
	return NT_STATUS_OK;
}

NTSTATUS smb_conf_load_string(TALLOC_CTX *mem_ctx, const char *name,
			      const char *text, struct smb_conf **out,
			      char **errors)
{
	struct parse_state st = { 0 };
	char *copy;

	*out = NULL;
	if (errors != NULL) {
		*errors = NULL;
	}
	st.conf = smb_conf_new(mem_ctx, name);
	if (st.conf == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	st.errors = talloc_strdup(st.conf, "");
	copy = talloc_strdup(st.conf, text);
	if (st.errors == NULL || copy == NULL) {
		talloc_free(st.conf);
		return NT_STATUS_NO_MEMORY;
	}
	parse_text(&st, name, copy, NULL);
	talloc_free(copy);
	check_whole(&st);
	return finish(&st, mem_ctx, out, errors);
}

NTSTATUS smb_conf_load(TALLOC_CTX *mem_ctx, const char *path,
		       struct smb_conf **out, char **errors)
{
	struct parse_state st = { 0 };
	char *text, *dir;
	int err = 0;

	*out = NULL;
	if (errors != NULL) {
		*errors = NULL;
	}
	st.conf = smb_conf_new(mem_ctx, path);
	if (st.conf == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	st.errors = talloc_strdup(st.conf, "");
	dir = dir_of(st.conf, path);
	if (st.errors == NULL || dir == NULL) {
		talloc_free(st.conf);
		return NT_STATUS_NO_MEMORY;
	}
	text = read_file(st.conf, path, &err);
	if (text == NULL) {
		if (errors != NULL) {
			*errors = talloc_asprintf(mem_ctx,
						  "%s:0: cannot read "
						  "configuration file: %s\n",
						  path, strerror(err));
		}
		talloc_free(st.conf);
		return err == ENOENT ? NT_STATUS_OBJECT_NAME_NOT_FOUND
		       : err == ENOMEM ? NT_STATUS_NO_MEMORY
				       : NT_STATUS_INVALID_PARAMETER;
	}
	parse_text(&st, path, text, dir);
	talloc_free(text);
	talloc_free(dir);
	check_whole(&st);
	return finish(&st, mem_ctx, out, errors);
}

const struct smb_conf_share *smb_conf_find_share(const struct smb_conf *conf,
						 const char *name)
{
	if (conf == NULL || name == NULL) {
		return NULL;
	}
	return find_share(conf, name);
}

struct smb_conf *smb_conf_load_for_tool(TALLOC_CTX *mem_ctx, const char *path,
					bool path_given, const char *tool)
{
	struct smb_conf *conf = NULL;
	char *errors = NULL;
	NTSTATUS status;

	status = smb_conf_load(mem_ctx, path, &conf, &errors);
	if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND) &&
	    !path_given) {
		TALLOC_FREE(errors);
		status = smb_conf_load_string(mem_ctx, "(built-in defaults)",
					      "", &conf, &errors);
	}
	if (!NT_STATUS_IS_OK(status)) {
		fputs(errors != NULL ? errors : "", stderr);
		fprintf(stderr, "%s: cannot use configuration %s (%s)\n", tool,
			path, nt_errstr(status));
		talloc_free(errors);
		return NULL;
	}
	return conf;
}
