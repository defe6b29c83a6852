#include "smbd/smb2_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

static void smbd_transport_read(struct smbd_transport *t)
{
	ssize_t n;

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

	n = read(t->fd, t->frame + t->frame_got, t->frame_len - t->frame_got);
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
