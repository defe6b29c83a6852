/*
 * One framed exchange on a non-blocking stream socket, as clusterd's two
 * unix-socket servers (the control socket, ctrl_server.c, and the
 * database socket, cluster_db.c) speak it: a request frame (u32
 * little-endian length, then that many bytes) read in as many pieces as
 * the socket gives, then an answer (a finished frame) written the same
 * way.  The caller owns the socket and the tevent_fd; these functions
 * only move bytes and say what happened.
 */
#ifndef CLUSTERD_FRAME_IO_H
#define CLUSTERD_FRAME_IO_H

#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

struct frame_io {
	/* the request being read */
	uint8_t hdr[4];
	size_t hdr_got;
	uint8_t *body; /* talloc'd once the length is known */
	uint32_t body_len;
	size_t body_got;
	/* the answer being written (talloc'd by the caller) */
	uint8_t *out;
	size_t out_len;
	size_t out_sent;
};

enum frame_io_step {
	FRAME_IO_MORE,	  /* nothing complete yet: wait for the socket */
	FRAME_IO_DONE,	  /* recv: body/body_len hold a request; send: all out */
	FRAME_IO_CLOSED,  /* the peer went away or the socket failed */
	FRAME_IO_BAD,	  /* recv: a length of 0 or over max */
	FRAME_IO_NO_MEMORY,
};

/* Read what the socket has of the request; the body is allocated on
 * mem_ctx.  After DONE, frame_io_reset_in() before the next request. */
enum frame_io_step frame_io_recv(struct frame_io *io, TALLOC_CTX *mem_ctx,
				 int fd, uint32_t max);
void frame_io_reset_in(struct frame_io *io);

/* Write what the socket takes of io->out; at DONE io->out is freed. */
enum frame_io_step frame_io_send(struct frame_io *io, int fd);

#endif
