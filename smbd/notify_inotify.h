/*
 * Parsing what read(2) returns from an inotify fd: a sequence of
 * struct inotify_event, each followed by len bytes of NUL-padded name
 * (inotify(7)).  Kept apart from notify.c so that it can be fuzzed
 * (tests/fuzz/fuzz_notify_events.c): the buffer comes from the kernel,
 * but a short read or a kernel bug must not make us read past it.
 */
#ifndef SMBD_NOTIFY_INOTIFY_H
#define SMBD_NOTIFY_INOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

struct notify_kevent {
	int wd;
	uint32_t mask;
	uint32_t cookie;
	const char *name; /* NULL: the event is about the watched directory
			   * itself; else a NUL-terminated name without '/' */
};

/*
 * Parse buf[0..len) into a talloc array of events on mem_ctx (*out, its
 * names pointing into the array's own copies).  Returns the number of
 * complete, well-formed events; parsing stops at the first truncated
 * one.  A name that is empty after its padding, contains '/', or is "."
 * or ".." is not a name a directory can hold: such an event is skipped.
 */
size_t notify_inotify_parse(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			    size_t len, struct notify_kevent **out);

#endif
