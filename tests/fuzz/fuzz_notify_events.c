/*
 * libFuzzer target: the inotify read-buffer parser and the
 * FILE_NOTIFY_INFORMATION marshaller of change notification
 * (smbd/notify_inotify.h, smbd/notify.h).
 *
 * The input is taken as what read(2) returned from an inotify fd.  Besides
 * memory errors it checks, and aborts (a finding) when one breaks:
 *   - the parser returns at most one event per 16 bytes, and every name
 *     it returns is non-empty, has no '/', and is not "." or "..";
 *   - the names, marshalled as a reply ([MS-FSCC] 2.7.1), make a chain
 *     whose every NextEntryOffset is 4-aligned and stays inside the
 *     buffer, whose last entry ends exactly at the returned length, and
 *     which reads back as the same actions and names;
 *   - a buffer one byte too small is refused (0), never overrun.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/byteorder.h"
#include "lib/util/charset.h"
#include "smbd/notify.h"
#include "smbd/notify_inotify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_notify_events: %s:%d: %s\n",     \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct notify_kevent *ev = NULL;
	struct notify_change *changes;
	size_t n, i, num = 0, total = 0, used, ofs;
	uint8_t *buf;

	n = notify_inotify_parse(ctx, data, size, &ev);
	CHECK(n <= size / 16);
	changes = talloc_zero_array(ctx, struct notify_change, n + 1);
	CHECK(changes != NULL);
	for (i = 0; i < n; i++) {
		const char *name = ev[i].name;
		size_t esize;

		if (name == NULL) {
			continue;
		}
		CHECK(name[0] != '\0');
		CHECK(strchr(name, '/') == NULL);
		CHECK(strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
		esize = smbd_notify_entry_size(name);
		if (esize == 0) {
			continue; /* not UTF-8: never queued */
		}
		CHECK(esize % 4 == 0);
		changes[num].action = ev[i].mask;
		changes[num].name = talloc_strdup(changes, name);
		CHECK(changes[num].name != NULL);
		total += esize;
		num++;
	}
	if (num == 0) {
		talloc_free(ctx);
		return 0;
	}
	buf = talloc_zero_size(ctx, total);
	CHECK(buf != NULL);
	used = smbd_notify_marshall(changes, num, buf, total);
	CHECK(used > 0 && used <= total);
	/* read the chain back */
	for (ofs = 0, i = 0;; i++) {
		uint32_t next, len;
		char *back;

		CHECK(i < num);
		CHECK(ofs + 12 <= used);
		next = PULL_LE32(buf, ofs);
		len = PULL_LE32(buf, ofs + 8);
		CHECK(PULL_LE32(buf, ofs + 4) == changes[i].action);
		CHECK(ofs + 12 + len <= used);
		back = utf16le_to_utf8(ctx, buf + ofs + 12, len);
		CHECK(back != NULL);
		CHECK(strcmp(back, changes[i].name) == 0);
		if (next == 0) {
			CHECK(ofs + 12 + len == used);
			break;
		}
		CHECK(next % 4 == 0 && next >= 12 + len);
		ofs += next;
	}
	CHECK(i + 1 == num);
	/* one byte short: refused */
	CHECK(smbd_notify_marshall(changes, num, buf, used - 1) == 0);
	talloc_free(ctx);
	return 0;
}
