/*
 * One request to clusterd's control socket (ctrl_client.h).
 */
#include "clusterd/ctrl_client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/ctrl_proto.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Move len bytes (reading or writing) before deadline. */
static NTSTATUS io_all(int fd, uint8_t *buf, size_t len, bool writing,
		       int64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = {.fd = fd,
				   .events = writing ? POLLOUT : POLLIN};
		int64_t left = deadline - now_ms();
		ssize_t n;
		int rc;

		if (left <= 0) {
			return NT_STATUS_IO_TIMEOUT;
		}
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR) {
			continue;
		}
		if (rc < 0) {
			return map_nt_error_from_unix(errno);
		}
		if (rc == 0) {
			return NT_STATUS_IO_TIMEOUT;
		}
		n = writing ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
			    : recv(fd, buf + done, len - done, MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			continue;
		}
		return n == 0 ? NT_STATUS_CONNECTION_DISCONNECTED
			      : map_nt_error_from_unix(errno);
	}
	return NT_STATUS_OK;
}

NTSTATUS ctrl_transact(TALLOC_CTX *mem_ctx, const char *path, uint32_t op,
		       int timeout_ms, uint8_t **body, size_t *body_len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int64_t deadline = now_ms() + timeout_ms;
	uint8_t hdr[CTRL_FRAME_HDR];
	uint8_t *req = NULL, *answer = NULL;
	size_t req_len = 0;
	uint32_t len;
	NTSTATUS status;
	int fd;

	*body = NULL;
	*body_len = 0;
	if (path == NULL || strlen(path) >= sizeof(sun.sun_path)) {
		return NT_STATUS_NAME_TOO_LONG;
	}
	memcpy(sun.sun_path, path, strlen(path));
	/* a blocking connect on a unix socket returns at once (or fails
	 * with EAGAIN when the backlog is full) */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return map_nt_error_from_unix(errno);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		status = (errno == ENOENT || errno == ECONNREFUSED)
				 ? NT_STATUS_OBJECT_NAME_NOT_FOUND
				 : map_nt_error_from_unix(errno);
		close(fd);
		return status;
	}
	status = ctrl_request_push(mem_ctx, op, &req, &req_len);
	if (NT_STATUS_IS_OK(status)) {
		status = io_all(fd, req, req_len, true, deadline);
	}
	TALLOC_FREE(req);
	if (NT_STATUS_IS_OK(status)) {
		status = io_all(fd, hdr, sizeof(hdr), false, deadline);
	}
	if (!NT_STATUS_IS_OK(status)) {
		close(fd);
		return status;
	}
	len = ctrl_frame_len(hdr, CTRL_MAX_RESPONSE);
	if (len == 0) {
		close(fd);
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	answer = talloc_size(mem_ctx, len);
	if (answer == NULL) {
		close(fd);
		return NT_STATUS_NO_MEMORY;
	}
	status = io_all(fd, answer, len, false, deadline);
	close(fd);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(answer);
		return status;
	}
	*body = answer;
	*body_len = len;
	return NT_STATUS_OK;
}
