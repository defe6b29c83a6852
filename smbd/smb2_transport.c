#include "smbd/smb2_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <string.h>
#include <unistd.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"

struct smbd_send_entry {
	struct smbd_send_entry *next;
	TALLOC_CTX *owner;
	uint8_t nbt_hdr[4];
	struct iovec *iov; /* iov[0] is nbt_hdr */
	int count;
	int first; /* first iovec not yet fully written */
	struct smbd_pipe_payload *tail; /* NULL, or spliced after iov */
	unsigned tail_pipe;		/* the pipe being sent */
	size_t tail_left;		/* of that pipe */
};

struct smbd_transport {
	struct tevent_context *ev;
	int fd;
	struct tevent_fd *fde;
	size_t max_frame;
	smbd_transport_frame_fn frame_fn;
	smbd_transport_error_fn error_fn;
	void *private_data;
	bool reading;
	bool failed;

	/* receive state: first the 4-byte header, then the frame */
	uint8_t hdr[4];
	size_t hdr_got;
	uint8_t *frame;
	size_t frame_len;
	size_t frame_got;

	/* smbd_transport_set_splice_in() */
	size_t peek_len;
	size_t min_frame;
	smbd_transport_classify_fn classify;
	smbd_transport_payload_fn payload_fn;
	/* the current frame's tail goes into these pipes: in[in_pipe]
	 * next, in_left bytes still in the socket */
	struct smbd_pipe_payload *in;
	unsigned in_pipe;
	size_t in_left;

	struct smbd_send_entry *send_head;
	struct smbd_send_entry *send_tail;
};

static void smbd_transport_handler(struct tevent_context *ev,
				   struct tevent_fd *fde, uint16_t flags,
				   void *private_data);

static int smbd_transport_destructor(struct smbd_transport *t)
{
	TALLOC_FREE(t->fde);
	if (t->fd != -1) {
		close(t->fd);
		t->fd = -1;
	}
	return 0;
}

struct smbd_transport *smbd_transport_create(TALLOC_CTX *mem_ctx,
					     struct tevent_context *ev, int fd,
					     size_t max_frame,
					     smbd_transport_frame_fn frame_fn,
					     smbd_transport_error_fn error_fn,
					     void *private_data)
{
	struct smbd_transport *t = talloc_zero(mem_ctx, struct smbd_transport);

	if (t == NULL) {
		return NULL;
	}
	t->ev = ev;
	t->fd = fd;
	t->max_frame = max_frame;
	t->frame_fn = frame_fn;
	t->error_fn = error_fn;
	t->private_data = private_data;
	t->reading = true;
	talloc_set_destructor(t, smbd_transport_destructor);
	t->fde = tevent_add_fd(ev, t, fd, TEVENT_FD_READ,
			       smbd_transport_handler, t);
	if (t->fde == NULL) {
		talloc_free(t);
		return NULL;
	}
	return t;
}

int smbd_transport_fd(const struct smbd_transport *t)
{
	return t->fd;
}

static void smbd_transport_update_flags(struct smbd_transport *t)
{
	uint16_t flags = 0;

	if (t->failed) {
		tevent_fd_set_flags(t->fde, 0);
		return;
	}
	if (t->reading) {
		flags |= TEVENT_FD_READ;
	}
	if (t->send_head != NULL) {
		flags |= TEVENT_FD_WRITE;
	}
	tevent_fd_set_flags(t->fde, flags);
}

static void smbd_transport_fail(struct smbd_transport *t, int err)
{
	if (t->failed) {
		return;
	}
	t->failed = true;
	smbd_transport_update_flags(t);
	t->error_fn(t->private_data, err);
}

void smbd_transport_stop_reading(struct smbd_transport *t)
{
	t->reading = false;
	smbd_transport_update_flags(t);
}

/* Write as much of the queue as the socket takes; 0 or errno. */
static int smbd_transport_flush(struct smbd_transport *t)
{
	while (t->send_head != NULL) {
		struct smbd_send_entry *e = t->send_head;
		int n = e->count - e->first;
		ssize_t written;

		if (n > IOV_MAX) {
			n = IOV_MAX;
		}
		written = writev(t->fd, &e->iov[e->first], n);
		if (written < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR) {
				return 0;
			}
			return errno;
		}
		while (written > 0 && e->first < e->count) {
			struct iovec *v = &e->iov[e->first];

			if ((size_t)written >= v->iov_len) {
				written -= v->iov_len;
				v->iov_len = 0;
				e->first++;
			} else {
				v->iov_base = (uint8_t *)v->iov_base + written;
				v->iov_len -= written;
				written = 0;
			}
		}
		while (e->first < e->count && e->iov[e->first].iov_len == 0) {
			e->first++;
		}
		if (e->first < e->count) {
			return 0; /* socket full */
		}
		while (e->tail != NULL && e->tail_pipe < e->tail->count) {
			ssize_t s;

			if (e->tail_left == 0) {
				e->tail_pipe++;
				if (e->tail_pipe < e->tail->count) {
					e->tail_left =
						e->tail->pipes[e->tail_pipe].len;
				}
				continue;
			}
			s = splice(e->tail->pipes[e->tail_pipe].rfd, NULL,
				   t->fd, NULL, e->tail_left,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (s < 0) {
				if (errno == EAGAIN || errno == EINTR) {
					return 0;
				}
				return errno;
			}
			if (s == 0) {
				return EPIPE; /* the pipe held less: cannot be */
			}
			e->tail_left -= (size_t)s;
		}
		t->send_head = e->next;
		if (t->send_head == NULL) {
			t->send_tail = NULL;
		}
		talloc_free(e);
	}
	return 0;
}

#define SMBD_PIPE_PAYLOAD_MAX_PIPES 16
/* Pipes open at once in this process (one connection): a client with
 * many large reads outstanding must not use up the descriptors that
 * opens need; beyond the budget reads are copied (pread) instead. */
#define SMBD_PIPE_BUDGET 48
static unsigned smbd_pipes_open;

static int smbd_pipe_payload_destructor(struct smbd_pipe_payload *p)
{
	unsigned i;

	for (i = 0; i < p->count; i++) {
		close(p->pipes[i].rfd);
		close(p->pipes[i].wfd);
	}
	smbd_pipes_open -= p->count;
	p->count = 0;
	return 0;
}

struct smbd_pipe_payload *smbd_pipe_payload_create(TALLOC_CTX *mem_ctx,
						   size_t capacity)
{
	struct smbd_pipe_payload *p;
	long page = sysconf(_SC_PAGESIZE);
	size_t room = 0;

	if (page <= 0 || capacity > INT_MAX / 2) {
		return NULL;
	}
	p = talloc_zero(mem_ctx, struct smbd_pipe_payload);
	if (p == NULL) {
		return NULL;
	}
	p->pipes = talloc_zero_array(p, struct smbd_pipe,
				     SMBD_PIPE_PAYLOAD_MAX_PIPES);
	if (p->pipes == NULL) {
		talloc_free(p);
		return NULL;
	}
	talloc_set_destructor(p, smbd_pipe_payload_destructor);
	while (room < capacity) {
		struct smbd_pipe *pp;
		int fds[2];
		int want, got;

		if (p->count == SMBD_PIPE_PAYLOAD_MAX_PIPES ||
		    smbd_pipes_open >= SMBD_PIPE_BUDGET ||
		    pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
			talloc_free(p);
			return NULL;
		}
		smbd_pipes_open++;
		pp = &p->pipes[p->count++];
		pp->rfd = fds[0];
		pp->wfd = fds[1];
		/* a range that does not start on a page boundary spans one
		 * page more; beyond fs.pipe-max-size the kernel says EPERM
		 * (no CAP_SYS_RESOURCE) and the pipe keeps its size */
		want = (int)(capacity - room + 2 * (size_t)page);
		if (fcntl(pp->wfd, F_SETPIPE_SZ, want) < 0) {
			(void)fcntl(pp->wfd, F_SETPIPE_SZ, 1024 * 1024);
		}
		got = fcntl(pp->wfd, F_GETPIPE_SZ);
		if (got < 2 * page) {
			talloc_free(p);
			return NULL;
		}
		pp->slots_bytes = (size_t)got;
		room += (size_t)got - (size_t)page;
	}
	return p;
}

int smbd_pipe_payload_fill(struct smbd_pipe_payload *p, int fd,
			   uint64_t offset, size_t len, size_t *nread)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t done = 0;
	unsigned i = 0;

	*nread = 0;
	/* one page per slot: a pipe takes bytes up to slots_bytes counted
	 * from the page of its first byte, so a splice never finds it
	 * full; 0 is the end of the file */
	while (done < len && i < p->count) {
		struct smbd_pipe *pp = &p->pipes[i];
		uint64_t pos = offset + done;
		uint64_t start = pos - pp->len; /* of this pipe's bytes */
		size_t fit = pp->slots_bytes - (size_t)(start % (uint64_t)page);
		size_t want = len - done;
		loff_t off = (loff_t)pos;
		ssize_t n;

		if (pp->len >= fit) {
			i++;
			continue;
		}
		if (want > fit - pp->len) {
			want = fit - pp->len;
		}
		n = splice(fd, &off, pp->wfd, NULL, want, SPLICE_F_MOVE);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == EAGAIN && pp->len > 0) {
				i++; /* fuller than counted: the next one */
				continue;
			}
			*nread = done;
			return done == 0 ? errno : 0;
		}
		if (n == 0) {
			break;
		}
		pp->len += (size_t)n;
		done += (size_t)n;
	}
	*nread = done;
	return 0;
}

static int smbd_transport_queue(struct smbd_transport *t, TALLOC_CTX *owner,
				const struct iovec *iov, int count,
				struct smbd_pipe_payload *tail)
{
	struct smbd_send_entry *e;
	size_t total = 0;
	int i, ret;

	if (t->failed) {
		talloc_free(owner);
		return EPIPE;
	}
	e = talloc_zero(t, struct smbd_send_entry);
	if (e == NULL) {
		talloc_free(owner);
		return ENOMEM;
	}
	e->owner = talloc_steal(e, owner);
	e->iov = talloc_array(e, struct iovec, count + 1);
	if (e->iov == NULL) {
		talloc_free(e);
		return ENOMEM;
	}
	for (i = 0; i < count; i++) {
		e->iov[i + 1] = iov[i];
		total += iov[i].iov_len;
	}
	if (tail != NULL && tail->count > 0) {
		e->tail = tail;
		e->tail_pipe = 0;
		e->tail_left = tail->pipes[0].len;
		total += tail->len;
	}
	if (total > 0xffffff) {
		DBG_ERR("reply of %zu bytes exceeds the 24-bit frame length\n",
			total);
		talloc_free(e);
		return EMSGSIZE;
	}
	PUSH_BE32(e->nbt_hdr, 0, (uint32_t)total);
	e->iov[0].iov_base = e->nbt_hdr;
	e->iov[0].iov_len = 4;
	e->count = count + 1;

	if (t->send_tail != NULL) {
		t->send_tail->next = e;
	} else {
		t->send_head = e;
	}
	t->send_tail = e;

	/* Write at once when nothing was queued: saves a loop iteration. */
	if (t->send_head == e) {
		ret = smbd_transport_flush(t);
		if (ret != 0) {
			smbd_transport_fail(t, ret);
			return ret;
		}
	}
	smbd_transport_update_flags(t);
	return 0;
}

int smbd_transport_send(struct smbd_transport *t, TALLOC_CTX *owner,
			const struct iovec *iov, int count)
{
	return smbd_transport_queue(t, owner, iov, count, NULL);
}

int smbd_transport_send_pipe(struct smbd_transport *t, TALLOC_CTX *owner,
			     const struct iovec *iov, int count,
			     struct smbd_pipe_payload *tail)
{
	return smbd_transport_queue(t, owner, iov, count, tail);
}

void smbd_transport_set_splice_in(struct smbd_transport *t, size_t peek_len,
				  size_t min_frame,
				  smbd_transport_classify_fn classify,
				  smbd_transport_payload_fn payload_fn)
{
	t->peek_len = peek_len;
	t->min_frame = min_frame > peek_len ? min_frame : peek_len + 1;
	t->classify = classify;
	t->payload_fn = payload_fn;
}

int smbd_pipe_payload_read(struct smbd_pipe_payload *p, uint8_t *buf,
			   size_t len)
{
	size_t done = 0;
	unsigned i;

	for (i = 0; i < p->count; i++) {
		size_t left = p->pipes[i].len;

		while (left > 0) {
			ssize_t n;

			if (done + left > len) {
				return EOVERFLOW;
			}
			n = read(p->pipes[i].rfd, buf + done, left);
			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n <= 0) {
				/* the pipe holds what was counted into it */
				return n < 0 ? errno : EPIPE;
			}
			done += (size_t)n;
			left -= (size_t)n;
		}
		p->pipes[i].len = 0;
	}
	return done == len ? 0 : EPIPE;
}

/*
 * The pipes could not take the whole tail (they count one page per
 * slot, and bytes from the socket need not fill their pages): move what
 * they hold into the frame buffer, which the reader allocated whole,
 * and read the rest the usual way.
 */
static int smbd_transport_splice_in_fallback(struct smbd_transport *t)
{
	struct smbd_pipe_payload *in = t->in;
	size_t held = t->frame_len - t->frame_got - t->in_left;
	int ret;

	t->in = NULL;
	ret = smbd_pipe_payload_read(in, t->frame + t->frame_got, held);
	talloc_free(in);
	if (ret != 0) {
		return ret;
	}
	t->frame_got += held;
	t->in_left = 0;
	return 0;
}

/*
 * Move socket bytes of the current frame's tail into the pipes.  true:
 * the frame went up (or the transport failed), and t may be gone; false:
 * waiting for more bytes, or falling back to the frame buffer.
 */
static bool smbd_transport_splice_in(struct smbd_transport *t)
{
	struct smbd_pipe_payload *in;
	uint8_t *prefix;
	size_t prefix_len;

	while (t->in_left > 0) {
		struct smbd_pipe *pp = &t->in->pipes[t->in_pipe];
		ssize_t n;
		int avail = 0;

		n = splice(t->fd, NULL, pp->wfd, NULL, t->in_left,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			pp->len += (size_t)n;
			t->in->len += (size_t)n;
			t->in_left -= (size_t)n;
			continue;
		}
		if (n == 0) {
			smbd_transport_fail(t, 0);
			return true;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN) {
			smbd_transport_fail(t, errno);
			return true;
		}
		/* the socket is empty, or this pipe is full */
		if (ioctl(t->fd, FIONREAD, &avail) != 0) {
			smbd_transport_fail(t, errno);
			return true;
		}
		if (avail == 0) {
			return false; /* wait for more */
		}
		if (t->in_pipe + 1 < t->in->count) {
			t->in_pipe++;
			continue;
		}
		if (smbd_transport_splice_in_fallback(t) != 0) {
			smbd_transport_fail(t, EIO);
			return true;
		}
		return false; /* the frame buffer takes the rest */
	}

	in = t->in;
	prefix = t->frame;
	prefix_len = t->frame_got;
	t->in = NULL;
	t->frame = NULL;
	t->frame_len = 0;
	t->frame_got = 0;
	/* keep the prefix only: the buffer was allocated whole for the
	 * fallback */
	prefix = talloc_realloc(t, prefix, uint8_t, prefix_len);
	if (prefix == NULL) {
		talloc_free(in);
		smbd_transport_fail(t, ENOMEM);
		return true;
	}
	talloc_steal(prefix, in);
	t->payload_fn(t->private_data, prefix, prefix_len, in);
	return true;
}

/* After the first peek_len bytes: does the tail go into pipes?  true:
 * it does (and t may be gone, see above); false: read it into memory. */
static bool smbd_transport_peeked(struct smbd_transport *t)
{
	size_t tail = t->frame_len - t->frame_got;

	if (!t->classify(t->private_data, t->frame, t->frame_got,
			 t->frame_len)) {
		return false;
	}
	t->in = smbd_pipe_payload_create(t, tail);
	if (t->in == NULL) {
		return false; /* no pipes now */
	}
	t->in_pipe = 0;
	t->in_left = tail;
	(void)smbd_transport_splice_in(t);
	return true;
}

static void smbd_transport_read(struct smbd_transport *t)
{
	ssize_t n;
	size_t want;

	if (t->in != NULL) {
		(void)smbd_transport_splice_in(t);
		return;
	}

	if (t->frame == NULL) {
		n = read(t->fd, t->hdr + t->hdr_got, 4 - t->hdr_got);
		if (n == 0) {
			smbd_transport_fail(t, 0);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				return;
			}
			smbd_transport_fail(t, errno);
			return;
		}
		t->hdr_got += n;
		if (t->hdr_got < 4) {
			return;
		}
		t->hdr_got = 0;
		if (t->hdr[0] == 0x85) {
			/* NetBIOS keep-alive: no payload that matters. */
			return;
		}
		if (t->hdr[0] != 0) {
			DBG_NOTICE("unexpected NetBIOS message type 0x%02x\n",
				   t->hdr[0]);
			smbd_transport_fail(t, EPROTO);
			return;
		}
		t->frame_len = PULL_BE32(t->hdr, 0) & 0xffffff;
		if (t->frame_len == 0) {
			return;
		}
		if (t->frame_len > t->max_frame) {
			DBG_NOTICE("frame of %zu bytes exceeds the limit %zu\n",
				   t->frame_len, t->max_frame);
			smbd_transport_fail(t, EMSGSIZE);
			return;
		}
		t->frame = talloc_size(t, t->frame_len);
		if (t->frame == NULL) {
			smbd_transport_fail(t, ENOMEM);
			return;
		}
		t->frame_got = 0;
	}

	want = t->frame_len - t->frame_got;
	if (t->classify != NULL && t->frame_len >= t->min_frame &&
	    t->frame_got < t->peek_len) {
		want = t->peek_len - t->frame_got;
	}
	n = read(t->fd, t->frame + t->frame_got, want);
	if (n == 0) {
		smbd_transport_fail(t, 0);
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR) {
			return;
		}
		smbd_transport_fail(t, errno);
		return;
	}
	t->frame_got += n;
	if (t->classify != NULL && t->frame_len >= t->min_frame &&
	    t->frame_got == t->peek_len && smbd_transport_peeked(t)) {
		return;
	}
	if (t->frame_got == t->frame_len) {
		uint8_t *frame = t->frame;
		size_t len = t->frame_len;

		t->frame = NULL;
		t->frame_len = 0;
		t->frame_got = 0;
		t->frame_fn(t->private_data, frame, len);
	}
}

static void smbd_transport_handler(struct tevent_context *ev,
				   struct tevent_fd *fde, uint16_t flags,
				   void *private_data)
{
	struct smbd_transport *t = private_data;

	if (flags & TEVENT_FD_WRITE) {
		int ret = smbd_transport_flush(t);

		if (ret != 0) {
			smbd_transport_fail(t, ret);
			return;
		}
		smbd_transport_update_flags(t);
	}
	if ((flags & TEVENT_FD_READ) && t->reading && !t->failed) {
		smbd_transport_read(t);
	}
}
