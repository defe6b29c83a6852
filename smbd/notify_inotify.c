/*
 * inotify read buffer parser (notify_inotify.h).
 */
#include "smbd/notify_inotify.h"

#include <string.h>
#include <sys/inotify.h>

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
