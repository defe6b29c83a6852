/*
 * Framed requests and answers on a non-blocking stream socket
 * (frame_io.h).
 */
#include "clusterd/frame_io.h"

#include <errno.h>
#include <sys/socket.h>

#include "clusterd/ctrl_proto.h"

enum frame_io_step frame_io_recv(struct frame_io *io, TALLOC_CTX *mem_ctx,
				 int fd, uint32_t max)
{
	bool in_hdr = io->hdr_got < sizeof(io->hdr);
	ssize_t n;

	n = in_hdr ? recv(fd, io->hdr + io->hdr_got,
			  sizeof(io->hdr) - io->hdr_got, 0)
		   : recv(fd, io->body + io->body_got,
			  io->body_len - io->body_got, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return FRAME_IO_MORE;
	}
	if (n <= 0) {
		return FRAME_IO_CLOSED;
	}
	if (in_hdr) {
		io->hdr_got += (size_t)n;
		if (io->hdr_got < sizeof(io->hdr)) {
			return FRAME_IO_MORE;
		}
		/* the same u32 LE length as every clusterd frame */
		io->body_len = ctrl_frame_len(io->hdr, max);
		if (io->body_len == 0) {
			return FRAME_IO_BAD;
		}
		io->body = talloc_size(mem_ctx, io->body_len);
		if (io->body == NULL) {
			return FRAME_IO_NO_MEMORY;
		}
		return FRAME_IO_MORE;
	}
	io->body_got += (size_t)n;
	return io->body_got == io->body_len ? FRAME_IO_DONE : FRAME_IO_MORE;
}

void frame_io_reset_in(struct frame_io *io)
{
	TALLOC_FREE(io->body);
	io->hdr_got = 0;
	io->body_len = 0;
	io->body_got = 0;
}

enum frame_io_step frame_io_send(struct frame_io *io, int fd)
{
	ssize_t n = send(fd, io->out + io->out_sent, io->out_len - io->out_sent,
			 MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return FRAME_IO_MORE;
	}
	if (n <= 0) {
		return FRAME_IO_CLOSED;
	}
	io->out_sent += (size_t)n;
	if (io->out_sent < io->out_len) {
		return FRAME_IO_MORE;
	}
	TALLOC_FREE(io->out);
	io->out_len = 0;
	io->out_sent = 0;
	return FRAME_IO_DONE;
}
