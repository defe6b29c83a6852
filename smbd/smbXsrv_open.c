/*
 * Opens of one client, found by FileId.  A hash on the volatile id keeps
 * lookups constant-time with thousands of open files (smb2.maxfid).
 */
#include "smbd/smbd.h"

#include <gnutls/crypto.h>
#include <unistd.h>

#include "lib/util/dlinklist.h"
#include "smbd/smbXsrv_global.h"
#include "smbd/smbd_cluster.h"
#include "smbd/vfs/vfs_async.h"

#define SMBD_OPEN_BUCKETS 1024

struct smbd_fd *smbd_fd_new(struct smbd_client *client, int fd)
{
	struct smbd_fd *f = talloc_zero(client, struct smbd_fd);

	if (f == NULL) {
		return NULL;
	}
	f->fd = fd;
	f->refs = 1;
	f->client = client; /* the parent: outlives f */
	return f;
}

struct smbd_fd *smbd_fd_ref(struct smbd_fd *f)
{
	f->refs++;
	return f;
}

void smbd_fd_unref(struct smbd_fd *f)
{
	if (f == NULL) {
		return;
	}
	if (--f->refs == 0) {
		if (f->fd != -1 && f->written && f->client->pool != NULL) {
			/* the CLOSE reply need not wait for a flush; a file
			 * never written closes faster than a pool job */
			vfs_close_detached(f->client->ev, f->client->pool,
					   f->fd);
		} else if (f->fd != -1) {
			close(f->fd);
		}
		talloc_free(f);
	}
}

static struct smbd_open **smbd_open_bucket(struct smbd_client *client,
					   uint64_t volatile_id)
{
	return &client->open_buckets[volatile_id % client->num_open_buckets];
}

static int smbd_open_destructor(struct smbd_open *op)
{
	struct smbd_client *client = op->tcon->session->client;

	if (op->persistent_id != 0) { /* smbd_open_register() done */
		smbXsrv_open_global_remove(op);
		DLIST_REMOVE(*smbd_open_bucket(client, op->volatile_id), op);
		client->num_opens--;
	}
	smbd_fd_unref(op->fd);
	op->fd = NULL;
	return 0;
}

struct smbd_open *smbd_open_create(struct smbd_tcon *tcon)
{
	struct smbd_client *client = tcon->session->client;
	struct smbd_open *op;

	if (client->open_buckets == NULL) {
		client->open_buckets = talloc_zero_array(
			client, struct smbd_open *, SMBD_OPEN_BUCKETS);
		if (client->open_buckets == NULL) {
			return NULL;
		}
		client->num_open_buckets = SMBD_OPEN_BUCKETS;
		if (gnutls_rnd(GNUTLS_RND_NONCE, &client->next_persistent_id,
			       sizeof(client->next_persistent_id)) != 0) {
			return NULL;
		}
	}
	op = talloc_zero(tcon, struct smbd_open);
	if (op == NULL) {
		return NULL;
	}
	op->tcon = tcon;
	op->volatile_id = ++client->next_volatile_id;
	if (gnutls_rnd(GNUTLS_RND_NONCE, op->create_guid,
		       sizeof(op->create_guid)) != 0) {
		talloc_free(op);
		return NULL;
	}
	talloc_set_destructor(op, smbd_open_destructor);
	return op;
}

bool smbd_open_register(struct smbd_open *op)
{
	struct smbd_client *client = op->tcon->session->client;
	uint64_t node_bits;
	unsigned tries;

	/* The persistent id names the open to every process of the
	 * cluster: the node id in the top bits (0 without clustering)
	 * keeps it unique between nodes, the reservation in open_global
	 * (replicated, or node-local: smbd_db_node_local()) between the
	 * processes of this node.  The ids of one process are consecutive from a
	 * random start, so a clash with another process is rare and costs
	 * one more try.  The reservation stores the open's whole record
	 * (its fields are set by now): one write per open, and the delete
	 * at close. */
	node_bits = (uint64_t)smbd_client_server_id(client).node
		    << (64 - SMBD_PERSISTENT_ID_NODE_BITS);
	for (tries = 0;; tries++) {
		uint64_t id = node_bits | (++client->next_persistent_id &
					   SMBD_PERSISTENT_ID_LOCAL_MASK);

		if (id == 0 || id == UINT64_MAX) {
			continue;
		}
		if (smbXsrv_open_global_reserve(op, id)) {
			break;
		}
		op->persistent_id = 0; /* not ours: nothing to remove */
		if (tries == 16) {
			return false;
		}
		client->next_persistent_id += 0x100000000ULL;
	}
	DLIST_ADD(*smbd_open_bucket(client, op->volatile_id), op);
	client->num_opens++;
	return true;
}

struct smbd_open *smbd_open_lookup(struct smbd_client *client,
				   uint64_t persistent_id, uint64_t volatile_id)
{
	struct smbd_open *op;

	if (client->open_buckets == NULL) {
		return NULL;
	}
	for (op = *smbd_open_bucket(client, volatile_id); op != NULL;
	     op = op->next) {
		if (op->volatile_id == volatile_id &&
		    op->persistent_id == persistent_id) {
			return op;
		}
	}
	return NULL;
}

void smbd_open_foreach(struct smbd_client *client,
		       void (*fn)(struct smbd_open *op, void *private_data),
		       void *private_data)
{
	uint32_t i;

	for (i = 0; i < client->num_open_buckets; i++) {
		struct smbd_open *op;

		for (op = client->open_buckets[i]; op != NULL; op = op->next) {
			fn(op, private_data);
		}
	}
}
