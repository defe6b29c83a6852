#include "lib/crypto/gcm_handle_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/memops.h>

/* Signing, encryption and decryption key of one session, plus one spare
 * for a second session or channel on the same thread. */
#define GCM_CACHE_SLOTS 4

struct gcm_cache_slot {
	gnutls_aead_cipher_hd_t hd;
	gnutls_cipher_algorithm_t alg;
	size_t key_len;
	uint8_t key[32];
};

struct gcm_cache {
	struct gcm_cache_slot slots[GCM_CACHE_SLOTS];
	unsigned next_victim;
};

static pthread_key_t gcm_cache_key;
static pthread_once_t gcm_cache_once = PTHREAD_ONCE_INIT;
static bool gcm_cache_key_ok;

static void gcm_slot_clear(struct gcm_cache_slot *slot)
{
	if (slot->hd != NULL) {
		gnutls_aead_cipher_deinit(slot->hd);
	}
	gnutls_memset(slot, 0, sizeof(*slot));
}

static void gcm_cache_destroy(void *ptr)
{
	struct gcm_cache *cache = ptr;
	unsigned i;

	for (i = 0; i < GCM_CACHE_SLOTS; i++) {
		gcm_slot_clear(&cache->slots[i]);
	}
	free(cache);
}

static void gcm_cache_key_create(void)
{
	gcm_cache_key_ok =
		(pthread_key_create(&gcm_cache_key, gcm_cache_destroy) == 0);
}

static struct gcm_cache *gcm_cache_this_thread(void)
{
	struct gcm_cache *cache;

	pthread_once(&gcm_cache_once, gcm_cache_key_create);
	if (!gcm_cache_key_ok) {
		return NULL;
	}
	cache = pthread_getspecific(gcm_cache_key);
	if (cache != NULL) {
		return cache;
	}
	cache = calloc(1, sizeof(*cache));
	if (cache == NULL) {
		return NULL;
	}
	if (pthread_setspecific(gcm_cache_key, cache) != 0) {
		free(cache);
		return NULL;
	}
	return cache;
}

gnutls_aead_cipher_hd_t gcm_handle_get(gnutls_cipher_algorithm_t alg,
				       const uint8_t *key, size_t key_len)
{
	struct gcm_cache *cache;
	struct gcm_cache_slot *slot;
	gnutls_datum_t datum = { .data = (uint8_t *)key,
				 .size = (unsigned)key_len };
	unsigned i;

	if (key_len > sizeof(slot->key)) {
		return NULL;
	}
	cache = gcm_cache_this_thread();
	if (cache == NULL) {
		return NULL;
	}
	for (i = 0; i < GCM_CACHE_SLOTS; i++) {
		slot = &cache->slots[i];
		/* memeql_sec: do not reveal through timing how much of a
		 * cached key matches the one asked for */
		if (slot->hd != NULL && slot->alg == alg &&
		    slot->key_len == key_len &&
		    memeql_sec(slot->key, key, key_len)) {
			return slot->hd;
		}
	}

	slot = &cache->slots[cache->next_victim];
	cache->next_victim = (cache->next_victim + 1) % GCM_CACHE_SLOTS;
	gcm_slot_clear(slot);
	if (gnutls_aead_cipher_init(&slot->hd, alg, &datum) < 0) {
		slot->hd = NULL;
		return NULL;
	}
	slot->alg = alg;
	slot->key_len = key_len;
	memcpy(slot->key, key, key_len);
	return slot->hd;
}
