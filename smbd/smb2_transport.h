/*
 * Direct TCP transport for SMB2 ([MS-SMB2] 2.1): every message is
 * preceded by a 4-byte header, a zero byte and a 24-bit big-endian
 * length.  The transport reads whole frames and hands them up; it queues
 * replies and writes them with writev as the socket allows.  It knows
 * nothing of SMB2 beyond the framing.
 */
#ifndef SMBD_SMB2_TRANSPORT_H
#define SMBD_SMB2_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <talloc.h>
#include <tevent.h>

struct smbd_transport;

/* frame is a talloc buffer now owned by the callee. */
typedef void (*smbd_transport_frame_fn)(void *private_data, uint8_t *frame,
					size_t len);
/* The connection is unusable (EOF, error, protocol violation); err is an
 * errno value, 0 for an orderly EOF. */
typedef void (*smbd_transport_error_fn)(void *private_data, int err);

struct smbd_transport *smbd_transport_create(TALLOC_CTX *mem_ctx,
					     struct tevent_context *ev, int fd,
					     size_t max_frame,
					     smbd_transport_frame_fn frame_fn,
					     smbd_transport_error_fn error_fn,
					     void *private_data);

/*
 * Queue one frame made of count iovecs (the 4-byte length header is added
 * here).  owner is stolen by the transport and freed once the bytes are
 * on the wire: it must own every buffer the iovecs point to.  Returns 0 or
 * an errno value.
 */
int smbd_transport_send(struct smbd_transport *t, TALLOC_CTX *owner,
			const struct iovec *iov, int count);

/*
 * A payload waiting in pipes (filled by splice from a file on a worker
 * thread), sent after a frame's iovecs by splice from the pipes to the
 * socket: the file's page-cache pages go to the socket without a copy in
 * this process.  Only for replies that are neither signed nor encrypted
 * (those need the bytes in memory).  A pipe holds one page per slot and
 * at most fs.pipe-max-size without CAP_SYS_RESOURCE, so a large payload
 * takes several.  The pipes are closed when the payload is freed.
 */
struct smbd_pipe {
	int rfd, wfd;
	size_t slots_bytes; /* F_GETPIPE_SZ: slots * page size */
	size_t len;	    /* bytes in this pipe that belong to the frame */
};

struct smbd_pipe_payload {
	unsigned count;
	struct smbd_pipe *pipes;
	size_t len; /* the sum of pipes[].len */
};

/* Pipes that together hold capacity bytes of file data from any offset,
 * or NULL (no memory or descriptors, more than a few pipes needed, or the
 * process's budget of open pipes spent: the caller copies instead). */
struct smbd_pipe_payload *smbd_pipe_payload_create(TALLOC_CTX *mem_ctx,
						   size_t capacity);

/* Splice up to len bytes of fd from offset into p's pipes (blocking on
 * the file, so on a worker thread), each pipe up to what its slots hold;
 * *nread is what went in (less than len at the end of the file, or when
 * an error came after some bytes); returns 0 or the errno of a failure
 * before any byte.  Sets pipes[].len, not p->len. */
int smbd_pipe_payload_fill(struct smbd_pipe_payload *p, int fd,
			   uint64_t offset, size_t len, size_t *nread);

/* As smbd_transport_send(), then tail->len bytes from tail's pipes in
 * order; tail must be owned by owner. */
int smbd_transport_send_pipe(struct smbd_transport *t, TALLOC_CTX *owner,
			     const struct iovec *iov, int count,
			     struct smbd_pipe_payload *tail);

/*
 * Frames whose tail need not pass through this process's memory: once
 * the first peek_len bytes of a frame of at least min_frame bytes are
 * in, classify() may send the rest of the frame into pipes, spliced from
 * the socket (page references, no copy), and payload_fn() then gets
 * those first bytes (a talloc buffer it now owns) and the pipes (which
 * hold exactly frame length - peek_len bytes).  When pipes cannot be
 * had, or cannot take the bytes, the frame is read into memory as usual
 * and goes to the frame callback.
 */
typedef bool (*smbd_transport_classify_fn)(void *private_data,
					   const uint8_t *prefix,
					   size_t prefix_len, size_t frame_len);
typedef void (*smbd_transport_payload_fn)(void *private_data,
					  uint8_t *prefix, size_t prefix_len,
					  struct smbd_pipe_payload *payload);
void smbd_transport_set_splice_in(struct smbd_transport *t, size_t peek_len,
				  size_t min_frame,
				  smbd_transport_classify_fn classify,
				  smbd_transport_payload_fn payload_fn);

/* Read len bytes out of p's pipes into buf (a copy: for a consumer that
 * needs the bytes after all); 0 or an errno value. */
int smbd_pipe_payload_read(struct smbd_pipe_payload *p, uint8_t *buf,
			   size_t len);

/* Stop reading new frames (e.g. while shutting down); replies still go. */
void smbd_transport_stop_reading(struct smbd_transport *t);

int smbd_transport_fd(const struct smbd_transport *t);

#endif
