#include "smbd/tcon_registry.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tdb.h>
#include <unistd.h>

#include "lib/param/loadparm.h"
#include "lib/util/debug.h"

struct tcon_registry {
	struct tdb_context *tdb;
};

static int tcon_registry_destructor(struct tcon_registry *r)
{
	if (r->tdb != NULL) {
		tdb_close(r->tdb);
	}
	return 0;
}

static struct tcon_registry *registry_get(struct smbd_client *client)
{
	struct tcon_registry *r = client->tcon_registry;
	char *path;

	if (r != NULL) {
		return r;
	}
	r = talloc_zero(client, struct tcon_registry);
	path = talloc_asprintf(r, "%s/connections.tdb",
			       client->conf->global.lock_directory);
	if (r == NULL || path == NULL) {
		talloc_free(r);
		return NULL;
	}
	r->tdb = tdb_open(path, 0, TDB_DEFAULT, O_RDWR | O_CREAT, 0644);
	if (r->tdb == NULL) {
		DBG_ERR("cannot open %s: %s\n", path, strerror(errno));
		talloc_free(r);
		return NULL;
	}
	talloc_set_destructor(r, tcon_registry_destructor);
	client->tcon_registry = r;
	return r;
}

/* Key: "<share lower-cased>/<pid>/<tree id>". */
static char *registry_key(TALLOC_CTX *mem_ctx, const char *share, pid_t pid,
			  uint32_t tid)
{
	char *key = talloc_asprintf(mem_ctx, "%s/%d/%u", share, (int)pid, tid);
	char *p;

	for (p = key; p != NULL && *p != '/'; p++) {
		*p = (char)tolower((unsigned char)*p);
	}
	return key;
}

struct count_state {
	const char *prefix;
	size_t prefix_len;
	int count;
};

static int count_one(struct tdb_context *tdb, TDB_DATA key, TDB_DATA data,
		     void *private_data)
{
	struct count_state *c = private_data;
	char buf[256];
	const char *pid_part;
	long pid;

	if (key.dsize >= sizeof(buf)) {
		return 0;
	}
	memcpy(buf, key.dptr, key.dsize);
	buf[key.dsize] = '\0';
	if (strncmp(buf, c->prefix, c->prefix_len) != 0) {
		return 0;
	}
	pid_part = buf + c->prefix_len;
	pid = strtol(pid_part, NULL, 10);
	if (pid <= 0 || (kill((pid_t)pid, 0) == -1 && errno == ESRCH)) {
		/* a process that died without cleaning up */
		tdb_delete(tdb, key);
		return 0;
	}
	c->count++;
	return 0;
}

NTSTATUS smbd_tcon_registry_add(struct smbd_tcon *tcon, const char *share,
				int max)
{
	struct smbd_client *client = tcon->session->client;
	struct tcon_registry *r;
	struct count_state c = { 0 };
	char *key, *prefix;
	TDB_DATA k, v = { .dptr = (uint8_t *)"", .dsize = 0 };
	NTSTATUS status = NT_STATUS_OK;

	if (max <= 0) {
		return NT_STATUS_OK;
	}
	r = registry_get(client);
	if (r == NULL) {
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	key = registry_key(tcon, share, getpid(), tcon->id);
	prefix = key != NULL ? talloc_strdup(tcon, key) : NULL;
	if (prefix == NULL) {
		talloc_free(key);
		return NT_STATUS_NO_MEMORY;
	}
	*strchr(prefix, '/') = '\0';
	prefix = talloc_asprintf_append(prefix, "/");
	c.prefix = prefix;
	c.prefix_len = strlen(prefix);

	/* count and add atomically across processes */
	if (tdb_transaction_start(r->tdb) != 0) {
		talloc_free(key);
		talloc_free(prefix);
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	tdb_traverse(r->tdb, count_one, &c);
	if (c.count >= max) {
		status = NT_STATUS_INSUFFICIENT_RESOURCES;
	} else {
		k.dptr = (uint8_t *)key;
		k.dsize = strlen(key);
		if (tdb_store(r->tdb, k, v, TDB_REPLACE) != 0) {
			status = NT_STATUS_INTERNAL_DB_CORRUPTION;
		}
	}
	if (NT_STATUS_IS_OK(status)) {
		if (tdb_transaction_commit(r->tdb) != 0) {
			status = NT_STATUS_INTERNAL_DB_CORRUPTION;
		}
	} else {
		tdb_transaction_cancel(r->tdb);
	}
	if (NT_STATUS_IS_OK(status)) {
		tcon->registry_key = talloc_steal(tcon, key);
	} else {
		talloc_free(key);
	}
	talloc_free(prefix);
	return status;
}

void smbd_tcon_registry_remove(struct smbd_tcon *tcon)
{
	struct smbd_client *client = tcon->session->client;
	struct tcon_registry *r = client->tcon_registry;
	TDB_DATA k;

	if (tcon->registry_key == NULL || r == NULL) {
		return;
	}
	k.dptr = (uint8_t *)tcon->registry_key;
	k.dsize = strlen(tcon->registry_key);
	tdb_delete(r->tdb, k);
	TALLOC_FREE(tcon->registry_key);
}
