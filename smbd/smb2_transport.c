#include "smbd/smb2_transport.h"

#include <errno.h>
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
		t->send_head = e->next;
		if (t->send_head == NULL) {
			t->send_tail = NULL;
		}
		talloc_free(e);
	}
	return 0;
}

int smbd_transport_send(struct smbd_transport *t, TALLOC_CTX *owner,
			const struct iovec *iov, int count)
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
