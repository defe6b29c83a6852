/*
 * libFuzzer target: messaging frames (messaging/messaging_private.h).
 * Any local process that can reach a messaging socket can send any bytes
 * and any fds, so frames are hostile input.
 *
 * 1. The whole input is one datagram for the pure parser
 *    parse_frame_header(): what it accepts must be consistent (lengths,
 *    fragment numbers, the one valid cut of the message) and must encode
 *    back to the same 80 header bytes.
 * 2. The input is also a stream of datagrams sent to a real messaging
 *    context's socket and received through its event loop: records of
 *    [flags u8][len u16 LE][len bytes].  Flag 0x01 writes this process's
 *    server_id into the frame's destination (offset 32) so that frames get
 *    past the addressing check into reassembly and dispatch.  A handler
 *    for every type the seeds use checks what it is handed.  The context
 *    is created afresh for every input so that runs are independent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "messaging/messaging.h"
#include "messaging/messaging_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_messaging_frame: %s:%d: %s\n",   \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

static char sockdir[64];
static int raw_fd = -1;

static void check_parser(const uint8_t *data, size_t size)
{
	struct msg_frame_hdr hdr;
	uint8_t again[MSG_FRAME_HDR_SIZE];

	if (!NT_STATUS_IS_OK(parse_frame_header(data, size, &hdr))) {
		return;
	}
	CHECK(size >= MSG_FRAME_HDR_SIZE && size <= MESSAGING_FRAGMENT_SIZE);
	CHECK(hdr.frag_len == size - MSG_FRAME_HDR_SIZE);
	CHECK(hdr.total_len <= MESSAGING_MAX_PAYLOAD);
	CHECK(hdr.frag_count == msg_frame_count(hdr.total_len));
	CHECK(hdr.frag_num < hdr.frag_count);
	CHECK((uint64_t)hdr.frag_num * MSG_FRAME_DATA_MAX + hdr.frag_len <=
	      hdr.total_len);
	CHECK(hdr.num_fds <= MESSAGING_MAX_FDS);
	CHECK(hdr.num_fds == 0 || hdr.frag_num == 0);
	push_frame_header(again, &hdr);
	CHECK(memcmp(again, data, MSG_FRAME_HDR_SIZE) == 0);
}

static void handler(struct messaging_context *msg, void *private_data,
		    uint32_t msg_type, struct server_id src,
		    const uint8_t *data, size_t len, int *fds, size_t num_fds)
{
	size_t *delivered = private_data;
	volatile uint8_t sink = 0;
	size_t i;

	CHECK(len <= MESSAGING_MAX_PAYLOAD);
	CHECK(num_fds == 0); /* the harness sends none */
	for (i = 0; i < len; i += 4096) {
		sink ^= data[i]; /* every byte handed over is readable */
	}
	if (len > 0) {
		sink ^= data[len - 1];
	}
	(void)sink;
	(*delivered)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev;
	struct messaging_context *msg;
	struct server_id self;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uint8_t *dgram;
	size_t delivered = 0, ofs = 0;
	uint32_t t;

	debug_level = -1;
	check_parser(data, size);

	if (sockdir[0] == '\0') {
		const char *tmp = getenv("TMPDIR");

		snprintf(sockdir, sizeof(sockdir), "%s/fuzzmsg.XXXXXX",
			 tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
		CHECK(mkdtemp(sockdir) != NULL);
		raw_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		CHECK(raw_fd != -1);
	}
	ev = tevent_context_init(mem);
	CHECK(ev != NULL);
	msg = messaging_init(mem, ev, sockdir, 0);
	CHECK(msg != NULL);
	self = messaging_server_id(msg);
	for (t = 0; t < 4; t++) {
		messaging_register(msg, &delivered, MSG_TEST_BASE + t, handler);
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%u", sockdir,
		 (unsigned)self.pid);
	dgram = talloc_size(mem, MESSAGING_FRAGMENT_SIZE + 0x10000);
	CHECK(dgram != NULL);

	while (ofs + 3 <= size) {
		uint8_t flags = data[ofs];
		size_t len = PULL_LE16(data, ofs + 1);

		ofs += 3;
		if (len > size - ofs) {
			len = size - ofs;
		}
		memcpy(dgram, data + ofs, len);
		ofs += len;
		if ((flags & 0x01) && len >= MSG_FRAME_HDR_SIZE) {
			server_id_push(dgram + 32, &self);
		}
		if (sendto(raw_fd, dgram, len, MSG_DONTWAIT,
			   (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			break;
		}
		/* receive it now: the socket queue is only ~10 deep */
		tevent_loop_once(ev);
	}
	talloc_free(mem);
	return 0;
}
