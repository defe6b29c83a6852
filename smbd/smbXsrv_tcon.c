/* Tree connects of one session. */
#include "smbd/smbd.h"

#include "lib/util/dlinklist.h"
#include "smbd/smbXsrv_global.h"
#include "smbd/tcon_registry.h"

static int smbd_tcon_destructor(struct smbd_tcon *t)
{
	smbd_tcon_registry_remove(t);
	smbXsrv_tcon_global_remove(t);
	DLIST_REMOVE(t->session->tcons, t);
	return 0;
}

struct smbd_tcon *smbd_tcon_create(struct smbd_session *session)
{
	struct smbd_client *client = session->client;
	struct smbd_tcon *t = talloc_zero(session, struct smbd_tcon);

	if (t == NULL) {
		return NULL;
	}
	t->session = session;
	/* 0 and 0xFFFFFFFF are reserved ([MS-SMB2] 2.2.1.2). */
	do {
		client->next_tree_id++;
		if (client->next_tree_id == 0 ||
		    client->next_tree_id == UINT32_MAX) {
			client->next_tree_id = 1;
		}
	} while (smbd_tcon_lookup(session, client->next_tree_id) != NULL);
	t->id = client->next_tree_id;
	DLIST_ADD(session->tcons, t);
	talloc_set_destructor(t, smbd_tcon_destructor);
	return t;
}

struct smbd_tcon *smbd_tcon_lookup(struct smbd_session *session, uint32_t id)
{
	struct smbd_tcon *t;

	if (session == NULL) {
		return NULL;
	}
	for (t = session->tcons; t != NULL; t = t->next) {
		if (t->id == id) {
			return t;
		}
	}
	return NULL;
}
