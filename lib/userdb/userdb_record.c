/* Encoding of user records; the layout is documented in userdb_record.h. */
#include "lib/userdb/userdb_record.h"

#include <string.h>

#include "lib/util/byteorder.h"

NTSTATUS userdb_record_encode(TALLOC_CTX *mem_ctx,
			      const struct userdb_entry *e, uint8_t **buf,
			      size_t *len)
{
	size_t alen = e->account != NULL ? strlen(e->account) : 0;
	size_t ulen = e->unix_user != NULL ? strlen(e->unix_user) : 0;
	size_t total;
	uint8_t *p;

	if (alen == 0 || alen > USERDB_NAME_MAX || ulen == 0 ||
	    ulen > USERDB_NAME_MAX) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	total = USERDB_RECORD_FIXED_SIZE + alen + ulen;
	p = talloc_zero_array(mem_ctx, uint8_t, total);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	p[0] = USERDB_RECORD_VERSION;
	PUSH_LE32(p, 4, e->disabled ? USERDB_FLAG_DISABLED : 0);
	PUSH_LE64(p, 8, (uint64_t)(int64_t)e->pwd_last_set);
	memcpy(p + 16, e->nt_hash, 16);
	PUSH_LE16(p, 32, (uint16_t)alen);
	PUSH_LE16(p, 34, (uint16_t)ulen);
	memcpy(p + USERDB_RECORD_FIXED_SIZE, e->account, alen);
	memcpy(p + USERDB_RECORD_FIXED_SIZE + alen, e->unix_user, ulen);
	*buf = p;
	*len = total;
	return NT_STATUS_OK;
}

NTSTATUS userdb_record_decode(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			      size_t len, struct userdb_entry **out)
{
	struct userdb_entry *e;
	uint32_t flags;
	size_t alen, ulen;

	if (len < USERDB_RECORD_FIXED_SIZE ||
	    buf[0] != USERDB_RECORD_VERSION) {
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	flags = PULL_LE32(buf, 4);
	alen = PULL_LE16(buf, 32);
	ulen = PULL_LE16(buf, 34);
	if (buf[1] != 0 || buf[2] != 0 || buf[3] != 0 ||
	    (flags & ~(uint32_t)USERDB_FLAG_DISABLED) != 0 || alen == 0 ||
	    alen > USERDB_NAME_MAX || ulen == 0 || ulen > USERDB_NAME_MAX ||
	    len != USERDB_RECORD_FIXED_SIZE + alen + ulen) {
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	if (memchr(buf + USERDB_RECORD_FIXED_SIZE, 0, alen + ulen) != NULL) {
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	e = talloc_zero(mem_ctx, struct userdb_entry);
	if (e == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	e->disabled = (flags & USERDB_FLAG_DISABLED) != 0;
	e->pwd_last_set = (time_t)(int64_t)PULL_LE64(buf, 8);
	memcpy(e->nt_hash, buf + 16, 16);
	e->account = talloc_strndup(e, (const char *)buf +
					       USERDB_RECORD_FIXED_SIZE,
				    alen);
	e->unix_user = talloc_strndup(
		e, (const char *)buf + USERDB_RECORD_FIXED_SIZE + alen, ulen);
	if (e->account == NULL || e->unix_user == NULL) {
		talloc_free(e);
		return NT_STATUS_NO_MEMORY;
	}
	*out = e;
	return NT_STATUS_OK;
}
