/*
 * The spliced payload of the transport (smb2_transport.h): a file range
 * is spliced into pipes (smbd_pipe_payload_fill, the worker's part) and
 * sent after a frame's iovecs by smbd_transport_send_pipe; the peer of a
 * socketpair must read the 4-byte length, the iovec bytes and then
 * exactly the file's bytes.  Ranges several pipes long, starting inside
 * a page, and ending past the end of the file; the budget of open pipes.
 * The receiving side (smbd_transport_set_splice_in): a classified
 * frame's tail arrives in pipes, an unclassified one in memory, and a
 * tail the pipes cannot hold (many small socket writes) falls back to
 * memory intact; the stream stays in step for the next frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <talloc.h>
#include <tevent.h>

#include "lib/util/byteorder.h"
#include "smbd/smb2_transport.h"

#define FILE_LEN (5 * 1024 * 1024 + 4321)

struct fixture {
	TALLOC_CTX *mem;
	struct tevent_context *ev;
	uint8_t *data; /* the file's content */
	int file_fd;
	char path[64];
	int sv[2]; /* sv[0]: transport, sv[1]: the peer */
	int err;   /* from the error callback, -1 if none */
	/* received (splice-in tests) */
	uint8_t *got_frame;
	size_t got_len;
	uint8_t *got_prefix;
	size_t got_prefix_len;
	struct smbd_pipe_payload *got_payload;
	int frames, payloads;
};

static void frame_fn(void *private_data, uint8_t *frame, size_t len)
{
	(void)private_data;
	(void)len;
	talloc_free(frame);
}

static void error_fn(void *private_data, int err)
{
	struct fixture *f = private_data;

	f->err = err;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	size_t i;
	uint32_t x = 12345;
	int fl;

	assert_non_null(f);
	f->err = -1;
	f->mem = talloc_new(NULL);
	f->ev = tevent_context_init(f->mem);
	assert_non_null(f->ev);
	f->data = talloc_size(f->mem, FILE_LEN);
	assert_non_null(f->data);
	for (i = 0; i < FILE_LEN; i++) {
		x = x * 1103515245 + 12345;
		f->data[i] = (uint8_t)(x >> 16);
	}
	snprintf(f->path, sizeof(f->path), "/tmp/test_transport_pipe.XXXXXX");
	f->file_fd = mkstemp(f->path);
	assert_true(f->file_fd >= 0);
	assert_int_equal(write(f->file_fd, f->data, FILE_LEN), FILE_LEN);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv), 0);
	fl = fcntl(f->sv[0], F_GETFL);
	assert_int_equal(fcntl(f->sv[0], F_SETFL, fl | O_NONBLOCK), 0);
	fl = fcntl(f->sv[1], F_GETFL);
	assert_int_equal(fcntl(f->sv[1], F_SETFL, fl | O_NONBLOCK), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	talloc_free(f->mem); /* the transport closes sv[0] */
	close(f->sv[1]);
	close(f->file_fd);
	unlink(f->path);
	free(f);
	return 0;
}

/* Fill a payload from the file at offset, send it after a 7-byte iovec,
 * and check what the peer reads. */
static void send_range(struct fixture *f, uint64_t offset, size_t len,
		       size_t expect)
{
	static const uint8_t head[7] = { 'h', 'e', 'a', 'd', 'e', 'r', '!' };
	struct smbd_transport *t;
	struct smbd_pipe_payload *p;
	TALLOC_CTX *owner = talloc_new(f->mem);
	struct iovec iov = { .iov_base = (void *)head, .iov_len = 7 };
	size_t total = 4 + 7 + expect, got = 0, nread = 0;
	uint8_t *buf = talloc_size(f->mem, total);
	int loops = 0;

	assert_non_null(buf);
	t = smbd_transport_create(f->mem, f->ev, f->sv[0], 1 << 20, frame_fn,
				  error_fn, f);
	assert_non_null(t);
	p = smbd_pipe_payload_create(owner, len);
	assert_non_null(p);
	assert_int_equal(
		smbd_pipe_payload_fill(p, f->file_fd, offset, len, &nread), 0);
	assert_int_equal(nread, expect);
	p->len = nread;
	assert_int_equal(smbd_transport_send_pipe(t, owner, &iov, 1, p), 0);

	while (got < total) {
		ssize_t n = read(f->sv[1], buf + got, total - got);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		assert_true(n < 0 && errno == EAGAIN);
		assert_int_equal(tevent_loop_once(f->ev), 0);
		assert_true(++loops < 100000);
	}
	/* nothing more than the frame */
	assert_int_equal(read(f->sv[1], buf, 1), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(f->err, -1);
	assert_int_equal(PULL_BE32(buf, 0), 7 + expect);
	assert_memory_equal(buf + 4, head, 7);
	assert_memory_equal(buf + 11, f->data + offset, expect);
	/* owner (and the pipes) went with the written entry; the
	 * transport, freed with f->mem, closes sv[0] */
}

static void test_aligned_several_pipes(void **state)
{
	send_range(*state, 0, 4 * 1024 * 1024, 4 * 1024 * 1024);
}

static void test_unaligned(void **state)
{
	send_range(*state, 4097, 3 * 1024 * 1024 + 5, 3 * 1024 * 1024 + 5);
}

static void test_past_end_of_file(void **state)
{
	uint64_t offset = FILE_LEN - 70000;

	send_range(*state, offset, 1024 * 1024, 70000);
}

static void test_at_end_of_file(void **state)
{
	struct fixture *f = *state;
	struct smbd_pipe_payload *p = smbd_pipe_payload_create(f->mem, 65536);
	size_t nread = 1;

	assert_non_null(p);
	assert_int_equal(smbd_pipe_payload_fill(p, f->file_fd, FILE_LEN,
						65536, &nread),
			 0);
	assert_int_equal(nread, 0);
}

static void test_not_a_file(void **state)
{
	struct fixture *f = *state;
	struct smbd_pipe_payload *p = smbd_pipe_payload_create(f->mem, 65536);
	size_t nread = 1;
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY);

	assert_non_null(p);
	assert_true(fd >= 0);
	assert_int_not_equal(smbd_pipe_payload_fill(p, fd, 0, 65536, &nread),
			     0);
	assert_int_equal(nread, 0);
	close(fd);
}

/* Payloads beyond the process's pipe budget are refused, and freeing
 * one gives its pipes back. */
static void test_budget(void **state)
{
	struct fixture *f = *state;
	TALLOC_CTX *tmp = talloc_new(f->mem);
	struct smbd_pipe_payload *p, *first = NULL;
	int made = 0;

	while ((p = smbd_pipe_payload_create(tmp, 65536)) != NULL) {
		if (first == NULL) {
			first = p;
		}
		assert_true(++made < 1000);
	}
	assert_true(made > 4);
	talloc_free(first);
	assert_non_null(smbd_pipe_payload_create(tmp, 65536));
	assert_null(smbd_pipe_payload_create(tmp, 65536));
	talloc_free(tmp);
	assert_non_null(smbd_pipe_payload_create(f->mem, 65536));
}

#define PEEK 112

/* frames starting with 'S' have their tail spliced */
static bool classify_s(void *private_data, const uint8_t *prefix,
		       size_t prefix_len, size_t frame_len)
{
	(void)private_data;
	(void)frame_len;
	assert_int_equal(prefix_len, PEEK);
	return prefix[0] == 'S';
}

static void record_frame(void *private_data, uint8_t *frame, size_t len)
{
	struct fixture *f = private_data;

	f->got_frame = talloc_steal(f->mem, frame);
	f->got_len = len;
	f->frames++;
}

static void record_payload(void *private_data, uint8_t *prefix,
			   size_t prefix_len, struct smbd_pipe_payload *payload)
{
	struct fixture *f = private_data;

	f->got_prefix = talloc_steal(f->mem, prefix);
	f->got_prefix_len = prefix_len;
	f->got_payload = payload; /* a child of prefix */
	f->payloads++;
}

/* The peer sends one frame (4-byte length, then marker and f->data) in
 * writes of chunk bytes while the loop runs, until a callback saw it. */
static void send_frame(struct fixture *f, char marker, size_t len,
		       size_t chunk)
{
	uint8_t *msg = talloc_size(f->mem, 4 + len);
	size_t sent = 0;
	int before = f->frames + f->payloads;
	int loops = 0;

	assert_non_null(msg);
	PUSH_BE32(msg, 0, (uint32_t)len);
	memcpy(msg + 4, f->data, len);
	msg[4] = (uint8_t)marker;
	while (sent < 4 + len || f->frames + f->payloads == before) {
		if (sent < 4 + len) {
			size_t n = 4 + len - sent;
			ssize_t w;

			w = write(f->sv[1], msg + sent, n < chunk ? n : chunk);
			if (w > 0) {
				sent += (size_t)w;
				continue;
			}
			assert_true(w < 0 && errno == EAGAIN);
		}
		assert_int_equal(tevent_loop_once(f->ev), 0);
		assert_true(++loops < 1000000);
	}
	assert_int_equal(f->frames + f->payloads, before + 1);
	assert_int_equal(f->err, -1);
	talloc_free(msg);
}

static struct smbd_transport *splice_in_transport(struct fixture *f)
{
	struct smbd_transport *t;

	t = smbd_transport_create(f->mem, f->ev, f->sv[0], 2 << 20,
				  record_frame, error_fn, f);
	assert_non_null(t);
	smbd_transport_set_splice_in(t, PEEK, PEEK + 65536, classify_s,
				     record_payload);
	return t;
}

static void check_memory_frame(struct fixture *f, char marker, size_t len)
{
	assert_int_equal(f->got_len, len);
	assert_int_equal(f->got_frame[0], (uint8_t)marker);
	assert_memory_equal(f->got_frame + 1, f->data + 1, len - 1);
}

static void test_splice_in(void **state)
{
	struct fixture *f = *state;
	size_t len = PEEK + (1 << 20);
	uint8_t *tail;

	(void)splice_in_transport(f); /* freed with f->mem */
	send_frame(f, 'S', len, 65536);
	assert_int_equal(f->payloads, 1);
	assert_int_equal(f->got_prefix_len, PEEK);
	assert_int_equal(f->got_prefix[0], 'S');
	assert_memory_equal(f->got_prefix + 1, f->data + 1, PEEK - 1);
	assert_int_equal(f->got_payload->len, len - PEEK);
	tail = talloc_size(f->mem, len - PEEK);
	assert_int_equal(smbd_pipe_payload_read(f->got_payload, tail,
						len - PEEK),
			 0);
	assert_memory_equal(tail, f->data + PEEK, len - PEEK);

	/* in step: an unclassified frame and a short one after it */
	send_frame(f, 'N', len, 65536);
	assert_int_equal(f->frames, 1);
	check_memory_frame(f, 'N', len);
	send_frame(f, 'S', 300, 65536); /* below min_frame */
	assert_int_equal(f->frames, 2);
	check_memory_frame(f, 'S', 300);
}

/* Many small writes: each is its own piece in a pipe's slot, so the
 * pipes fill long before the tail is in; the frame still arrives whole,
 * in memory, and the next one too. */
static void test_splice_in_fallback(void **state)
{
	struct fixture *f = *state;
	size_t len = PEEK + 300 * 1024;

	(void)splice_in_transport(f); /* freed with f->mem */
	send_frame(f, 'S', len, 200);
	assert_int_equal(f->payloads, 0);
	assert_int_equal(f->frames, 1);
	check_memory_frame(f, 'S', len);
	send_frame(f, 'S', len, 65536);
	assert_int_equal(f->payloads, 1);
	assert_int_equal(f->got_payload->len, len - PEEK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_aligned_several_pipes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unaligned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_past_end_of_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_at_end_of_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_a_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_splice_in, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_splice_in_fallback, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
