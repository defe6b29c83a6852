/*
 * The two wire formats of change notification, kept free of server state
 * so that they can be fuzzed together (tests/fuzz/fuzz_notify_events.c):
 * the inotify read buffer (notify_inotify.h) and the
 * FILE_NOTIFY_INFORMATION chain of a CHANGE_NOTIFY reply (notify.h).
 */
#include "smbd/notify_inotify.h"

#include <stdint.h>
#include <string.h>
#include <sys/inotify.h>

#include "lib/util/byteorder.h"
#include "lib/util/charset.h"
#include "smbd/notify.h"

/* struct inotify_event: wd, mask, cookie, len (4 bytes each), name[len] */
#define KEV_FIXED 16

static uint32_t kev_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v)); /* host order, as the kernel wrote it */
	return v;
}

size_t notify_inotify_parse(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			    size_t len, struct notify_kevent **out)
{
	struct notify_kevent *ev;
	size_t ofs = 0, n = 0, max;

	/* every event takes at least KEV_FIXED bytes */
	max = len / KEV_FIXED;
	ev = talloc_zero_array(mem_ctx, struct notify_kevent,
			       max > 0 ? max : 1);
	*out = ev;
	if (ev == NULL) {
		return 0;
	}
	while (len - ofs >= KEV_FIXED) {
		const uint8_t *p = buf + ofs;
		uint32_t name_len = kev_u32(p + 12);
		struct notify_kevent *e = &ev[n];
		size_t nlen;

		if (name_len > len - ofs - KEV_FIXED) {
			break; /* truncated */
		}
		ofs += KEV_FIXED + name_len;
		e->wd = (int)kev_u32(p);
		e->mask = kev_u32(p + 4);
		e->cookie = kev_u32(p + 8);
		e->name = NULL;
		if (name_len > 0) {
			const char *s = (const char *)(p + KEV_FIXED);
			char *copy;

			nlen = strnlen(s, name_len);
			if (nlen == 0 || memchr(s, '/', nlen) != NULL ||
			    (nlen == 1 && s[0] == '.') ||
			    (nlen == 2 && s[0] == '.' && s[1] == '.')) {
				continue;
			}
			copy = talloc_strndup(ev, s, nlen);
			if (copy == NULL) {
				break;
			}
			e->name = copy;
		}
		n++;
	}
	return n;
}

/* ---------------------------------------------------------------- */
/* FILE_NOTIFY_INFORMATION ([MS-FSCC] 2.7.1) */

#define NOTIFY_ENTRY_FIXED 12

size_t smbd_notify_entry_size(const char *name)
{
	ssize_t n = utf8_utf16le_len(name);

	if (n <= 0 || (size_t)n > UINT32_MAX - NOTIFY_ENTRY_FIXED - 3) {
		return 0;
	}
	return ((size_t)n + NOTIFY_ENTRY_FIXED + 3) & ~(size_t)3;
}

size_t smbd_notify_marshall(const struct notify_change *changes, size_t num,
			    uint8_t *buf, size_t len)
{
	size_t ofs = 0, i;

	for (i = 0; i < num; i++) {
		size_t entry = smbd_notify_entry_size(changes[i].name);
		ssize_t n;
		uint8_t *p;
		char *q;

		if (entry == 0 || ofs + NOTIFY_ENTRY_FIXED > len) {
			return 0;
		}
		p = buf + ofs;
		n = utf8_to_utf16le_buf(changes[i].name, p + NOTIFY_ENTRY_FIXED,
					len - ofs - NOTIFY_ENTRY_FIXED);
		if (n <= 0) {
			return 0;
		}
		/* path separators on the wire are '\\' (UTF-16 code unit
		 * 0x002F becomes 0x005C; no other unit has those bytes) */
		for (q = (char *)p + NOTIFY_ENTRY_FIXED;
		     q < (char *)p + NOTIFY_ENTRY_FIXED + n; q += 2) {
			if (q[0] == '/' && q[1] == 0) {
				q[0] = '\\';
			}
		}
		PUSH_LE32(p, 4, changes[i].action);
		PUSH_LE32(p, 8, (uint32_t)n);
		if (i + 1 < num) {
			/* entries start on 4-byte boundaries */
			if (ofs + entry > len) {
				return 0;
			}
			memset(p + NOTIFY_ENTRY_FIXED + n, 0,
			       entry - NOTIFY_ENTRY_FIXED - (size_t)n);
			PUSH_LE32(p, 0, (uint32_t)entry);
			ofs += entry;
		} else {
			/* the last entry ends with its name: OutputBufferLength
			 * counts no padding after it (as Samba sends it) */
			PUSH_LE32(p, 0, 0);
			ofs += NOTIFY_ENTRY_FIXED + (size_t)n;
		}
	}
	return ofs;
}
