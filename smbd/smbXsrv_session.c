/*
 * Sessions of one client.  The id is what the client names the session
 * by; it is random so that a later session_global database shared by
 * all processes needs no coordination to keep ids unique.  It stays
 * below 2^32 like Samba's wire ids: smbtorture (smb2.session-id) keeps
 * session ids in 32-bit variables.
 */
#include "smbd/smbd.h"

#include <gnutls/crypto.h>
#include <string.h>

#include "lib/util/dlinklist.h"
#include "smbd/smbXsrv_global.h"

static int smbd_session_destructor(struct smbd_session *s)
{
	smbXsrv_session_global_remove(s);
	DLIST_REMOVE(s->client->sessions, s);
	memset(s->session_key, 0, sizeof(s->session_key));
	memset(s->signing_key, 0, sizeof(s->signing_key));
	memset(s->encryption_key, 0, sizeof(s->encryption_key));
	memset(s->decryption_key, 0, sizeof(s->decryption_key));
	return 0;
}

struct smbd_session *smbd_session_create(struct smbd_client *client)
{
	struct smbd_session *s = talloc_zero(client, struct smbd_session);
	unsigned tries;

	if (s == NULL) {
		return NULL;
	}
	s->client = client;
	s->state = SMBD_SESSION_IN_PROGRESS;
	for (tries = 0;; tries++) {
		uint32_t r;

		if (tries == 64 ||
		    gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r)) != 0) {
			talloc_free(s);
			return NULL;
		}
		/* 0 means "no session". */
		if (r == 0 || r == UINT32_MAX ||
		    smbd_session_lookup(client, r) != NULL) {
			continue;
		}
		/* unique across processes: reserved in session_global */
		if (smbXsrv_session_global_reserve(s, r)) {
			break;
		}
	}
	DLIST_ADD(client->sessions, s);
	talloc_set_destructor(s, smbd_session_destructor);
	return s;
}

struct smbd_session *smbd_session_lookup(struct smbd_client *client,
					 uint64_t id)
{
	struct smbd_session *s;

	for (s = client->sessions; s != NULL; s = s->next) {
		if (s->id == id) {
			return s;
		}
	}
	return NULL;
}
