/*
 * cluster.conf parser (see cluster_conf.h).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <strings.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build_config.h"
#include "clusterd/cluster_conf.h"

#define CONF_FILE_MAX (256 * 1024)

const char *cluster_conf_default_path(void)
{
	return SMB3_SYSCONFDIR "/cluster.conf";
}

enum conf_type { CONF_STR, CONF_UINT, CONF_INT };

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t offset;
	unsigned long min, max;
};

/* Policy as data: one row per key. */
static const struct conf_key conf_keys[] = {
	{ "state dir", CONF_STR, offsetof(struct cluster_conf, state_dir) },
	{ "run dir", CONF_STR, offsetof(struct cluster_conf, run_dir) },
	{ "control socket", CONF_STR, offsetof(struct cluster_conf, socket_path) },
	{ "messaging dir", CONF_STR, offsetof(struct cluster_conf, messaging_dir) },
	{ "public addresses", CONF_STR, offsetof(struct cluster_conf, public_addresses) },
	{ "event script dir", CONF_STR, offsetof(struct cluster_conf, event_script_dir) },
	{ "monitor interval", CONF_UINT, offsetof(struct cluster_conf, monitor_interval), 1, 3600 },
	{ "vacuum interval", CONF_UINT, offsetof(struct cluster_conf, vacuum_interval), 0, 3600 },
	{ "event timeout", CONF_UINT, offsetof(struct cluster_conf, event_timeout), 1, 3600 },
	{ "smbd port", CONF_UINT, offsetof(struct cluster_conf, smbd_port), 1, 65535 },
	{ "cpg group", CONF_STR, offsetof(struct cluster_conf, cpg_group) },
	{ "log file", CONF_STR, offsetof(struct cluster_conf, log_file) },
	{ "log level", CONF_INT, offsetof(struct cluster_conf, log_level), 0, 10 },
};

/* Lower-case, collapse runs of blanks to one space, trim. */
static void normalise_key(char *s)
{
	char *w = s;
	bool space = false;

	for (char *r = s; *r != '\0'; r++) {
		if (isspace((unsigned char)*r)) {
			space = (w != s);
			continue;
		}
		if (space) {
			*w++ = ' ';
			space = false;
		}
		*w++ = tolower((unsigned char)*r);
	}
	*w = '\0';
}

static char *trim(char *s)
{
	char *e = NULL;

	while (isspace((unsigned char)*s)) {
		s++;
	}
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1])) {
		*--e = '\0';
	}
	return s;
}

NTSTATUS cluster_conf_parse(TALLOC_CTX *mem_ctx, const char *text,
			    const char *fname, struct cluster_conf **out,
			    char **errmsg)
{
	struct cluster_conf *c = NULL;
	char *copy = NULL, *line = NULL, *next = NULL;
	unsigned lineno = 0;

	*out = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	c = talloc_zero(mem_ctx, struct cluster_conf);
	copy = talloc_strdup(c, text);
	if (c == NULL || copy == NULL) {
		TALLOC_FREE(c);
		return NT_STATUS_NO_MEMORY;
	}
	c->monitor_interval = 5;
	c->vacuum_interval = 10; /* docs/cluster.md "Vacuuming tombstones" */
	c->event_timeout = 30;
	c->smbd_port = 445;
	c->log_level = 2; /* membership, quorum and IP moves */

#define FAIL(...)                                                              \
	do {                                                                   \
		if (errmsg != NULL) {                                          \
			*errmsg = talloc_asprintf(mem_ctx, "%s:%u: ", fname,   \
						  lineno);                     \
			*errmsg = talloc_asprintf_append(*errmsg, __VA_ARGS__); \
		}                                                              \
		TALLOC_FREE(c);                                                \
		return NT_STATUS_INVALID_PARAMETER;                            \
	} while (0)

	for (line = copy; line != NULL; line = next) {
		char *eq = NULL, *key = NULL, *val = NULL;
		const struct conf_key *k = NULL;

		lineno++;
		next = strchr(line, '\n');
		if (next != NULL) {
			*next++ = '\0';
		}
		line = trim(line);
		if (line[0] == '\0' || line[0] == '#' || line[0] == ';') {
			continue;
		}
		if (line[0] == '[') {
			if (strcasecmp(line, "[clusterd]") != 0) {
				FAIL("unknown section %s", line);
			}
			continue;
		}
		eq = strchr(line, '=');
		if (eq == NULL) {
			FAIL("expected \"key = value\"");
		}
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		normalise_key(key);
		for (size_t i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++) {
			if (strcmp(conf_keys[i].name, key) == 0) {
				k = &conf_keys[i];
			}
		}
		if (k == NULL) {
			FAIL("unknown key \"%s\"", key);
		}
		if (k->type == CONF_STR) {
			char **dst = (char **)((char *)c + k->offset);
			TALLOC_FREE(*dst);
			*dst = talloc_strdup(c, val);
			if (*dst == NULL) {
				TALLOC_FREE(c);
				return NT_STATUS_NO_MEMORY;
			}
		} else {
			char *end = NULL;
			unsigned long v;
			errno = 0;
			v = strtoul(val, &end, 10);
			if (val[0] == '\0' || !isdigit((unsigned char)val[0]) ||
			    errno != 0 || *end != '\0' || v < k->min ||
			    v > k->max) {
				FAIL("%s: \"%s\" is not a number in %lu..%lu",
				     k->name, val, k->min, k->max);
			}
			if (k->type == CONF_UINT) {
				*(unsigned *)((char *)c + k->offset) = v;
			} else {
				*(int *)((char *)c + k->offset) = (int)v;
			}
		}
	}
#undef FAIL
	TALLOC_FREE(copy);

	/* Defaults that depend on other keys. */
	if (c->state_dir == NULL || c->state_dir[0] == '\0') {
		c->state_dir = talloc_strdup(c, SMB3_STATEDIR "/clusterd");
	}
	if (c->run_dir == NULL || c->run_dir[0] == '\0') {
		c->run_dir = talloc_strdup(c, "/run/clusterd");
	}
	if (c->socket_path == NULL || c->socket_path[0] == '\0') {
		c->socket_path = talloc_asprintf(c, "%s/clusterd.sock",
						 c->run_dir);
	}
	if (c->public_addresses == NULL || c->public_addresses[0] == '\0') {
		c->public_addresses = talloc_strdup(c, SMB3_SYSCONFDIR
						    "/public_addresses");
	}
	if (c->event_script_dir == NULL || c->event_script_dir[0] == '\0') {
		c->event_script_dir = talloc_strdup(c, SMB3_SYSCONFDIR
						    "/events");
	}
	if (c->cpg_group == NULL || c->cpg_group[0] == '\0') {
		c->cpg_group = talloc_strdup(c, "smb3cluster");
	}
	if (c->state_dir == NULL || c->run_dir == NULL ||
	    c->socket_path == NULL || c->public_addresses == NULL ||
	    c->event_script_dir == NULL || c->cpg_group == NULL) {
		TALLOC_FREE(c);
		return NT_STATUS_NO_MEMORY;
	}
	if (strlen(c->cpg_group) >= 128) {
		lineno = 0;
		if (errmsg != NULL) {
			*errmsg = talloc_asprintf(mem_ctx,
				"%s: cpg group longer than 127 bytes", fname);
		}
		TALLOC_FREE(c);
		return NT_STATUS_INVALID_PARAMETER;
	}
	*out = c;
	return NT_STATUS_OK;
}

NTSTATUS cluster_conf_load(TALLOC_CTX *mem_ctx, const char *path,
			   struct cluster_conf **out, char **errmsg)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n = 0;
	int fd;
	NTSTATUS status;

	*out = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		int err = errno;
		if (errmsg != NULL) {
			*errmsg = talloc_asprintf(mem_ctx, "%s: %s", path,
						  strerror(err));
		}
		return map_nt_error_from_unix(err);
	}
	buf = talloc_size(mem_ctx, CONF_FILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return NT_STATUS_NO_MEMORY;
	}
	while ((n = read(fd, buf + len, CONF_FILE_MAX + 1 - len)) > 0) {
		len += n;
		if (len > CONF_FILE_MAX) {
			break;
		}
	}
	close(fd);
	if (n < 0 || len > CONF_FILE_MAX || memchr(buf, 0, len) != NULL) {
		if (errmsg != NULL) {
			*errmsg = talloc_asprintf(mem_ctx, "%s: %s", path,
				n < 0 ? "read error" : "too large or contains NUL bytes");
		}
		TALLOC_FREE(buf);
		return NT_STATUS_INVALID_PARAMETER;
	}
	buf[len] = '\0';
	status = cluster_conf_parse(mem_ctx, buf, path, out, errmsg);
	TALLOC_FREE(buf);
	return status;
}
