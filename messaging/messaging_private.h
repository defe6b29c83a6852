/*
 * Inside messaging/: the frame format (a pure parser, also the fuzz
 * target's entry point) and the datagram transport that messaging.c
 * builds on.  Not for callers outside messaging/ and its tests.
 *
 * Frame (one unix datagram, at most MESSAGING_FRAGMENT_SIZE bytes with
 * its header), all integers little-endian:
 *
 *   off size field
 *     0   4  magic  "SMSG" (0x47534d53)
 *     4   2  version (1)
 *     6   2  header size (80)
 *     8   4  msg_type
 *    12  20  src server_id (node, pid, task, unique)
 *    32  20  dst server_id
 *    52   8  message id (per sender, increasing)
 *    60   4  fragment number (0-based)
 *    64   4  fragment count
 *    68   4  total payload length of the message
 *    72   4  payload length in this fragment
 *    76   2  number of fds (SCM_RIGHTS; fragment 0 only)
 *    78   2  reserved, 0
 *    80      payload
 *
 * Every fragment but the last carries exactly MSG_FRAME_DATA_MAX payload
 * bytes, so the receiver places fragment n at n * MSG_FRAME_DATA_MAX and
 * the count follows from the total length: there is exactly one valid
 * way to cut a message, and the parser rejects every other.
 */
#ifndef MESSAGING_MESSAGING_PRIVATE_H
#define MESSAGING_MESSAGING_PRIVATE_H

#include "messaging/messaging.h"

#define MSG_FRAME_MAGIC 0x47534d53u /* "SMSG" read as LE32 */
#define MSG_FRAME_VERSION 1
#define MSG_FRAME_HDR_SIZE 80u
#define MSG_FRAME_DATA_MAX (MESSAGING_FRAGMENT_SIZE - MSG_FRAME_HDR_SIZE)

struct msg_frame_hdr {
	uint32_t msg_type;
	struct server_id src;
	struct server_id dst;
	uint64_t msg_id;
	uint32_t frag_num;
	uint32_t frag_count;
	uint32_t total_len;
	uint32_t frag_len;
	uint32_t num_fds;
};

/* Number of fragments a message of total_len payload bytes is cut into
 * (an empty message is one fragment). */
uint32_t msg_frame_count(uint32_t total_len);

/*
 * Parse and validate the header of one received datagram of len bytes.
 * Checks magic, version, header size, reserved bits, that the fragment's
 * payload length matches the datagram and the one valid cut of the
 * message, fragment number < count, total <= MESSAGING_MAX_PAYLOAD, and
 * fds <= MESSAGING_MAX_FDS and only on fragment 0.  Pure: no state, no
 * allocation.  NT_STATUS_INVALID_NETWORK_RESPONSE on any violation.
 */
NTSTATUS parse_frame_header(const uint8_t *buf, size_t len,
			    struct msg_frame_hdr *hdr);
void push_frame_header(uint8_t buf[MSG_FRAME_HDR_SIZE],
		       const struct msg_frame_hdr *hdr);

/*
 * The datagram transport (messaging_dgm.c): one bound socket, fragmenting
 * sender with per-destination queues, validating reassembling receiver.
 */
struct msg_dgm;

/* A whole message arrived.  fds (num_fds of them) now belong to the
 * callee.  The callee may free the msg_dgm. */
typedef void (*msg_dgm_recv_fn)(void *private_data,
				const struct msg_frame_hdr *hdr,
				const uint8_t *data, size_t len, int *fds,
				size_t num_fds);

/* Bind <sockdir>/<self.pid>, write <sockdir>/<self.pid>.unique. */
struct msg_dgm *msg_dgm_create(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
			       const char *sockdir, struct server_id self,
			       msg_dgm_recv_fn fn, void *private_data);

NTSTATUS msg_dgm_send(struct msg_dgm *d, const struct server_id *src,
		      const struct server_id *dst, uint32_t msg_type,
		      const uint8_t *data, size_t len, const int *fds,
		      size_t num_fds);

/* Remove <sockdir>/<pid> and its unique file if no process has pid. */
void msg_dgm_remove_stale(const char *sockdir, uint32_t pid);

/* Local liveness of pid (and unique when non-zero) through sockdir. */
bool msg_dgm_pid_alive(const char *sockdir, uint32_t pid, uint64_t unique);

/* Counters for tests and diagnostics. */
struct msg_dgm_stats {
	uint64_t frames_rejected;   /* failed validation or addressing */
	uint64_t msgs_dropped;      /* reassembly evicted or timed out */
	size_t reasm_pending;       /* messages being reassembled */
	size_t queued_msgs;         /* messages waiting in send queues */
};
void msg_dgm_get_stats(const struct msg_dgm *d, struct msg_dgm_stats *st);
/* The same for a context's transport (zeroes when it has none). */
void messaging_get_stats(struct messaging_context *msg,
			 struct msg_dgm_stats *st);

#endif
