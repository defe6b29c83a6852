/*
 * clmsg_tool: drives cross-node messaging on a test cluster
 * (tests/cluster/test_cluster_messaging.sh).  Every mode initialises
 * messaging in MSGDIR with this node's cluster id (from clusterd's view
 * file next to SOCK, clusterd's control socket) and attaches it with
 * cluster_messaging_attach(), exactly as a clustered smbd process does.
 *
 *   clmsg_tool SOCK MSGDIR serve SECS
 *       print "ready NODE:PID:UNIQUE", answer MSG_PING with MSG_PONG (same
 *       payload) and CHECK requests (below) for SECS seconds
 *   clmsg_tool SOCK MSGDIR ping DEST COUNT SIZE TIMEOUT_MS
 *       send COUNT pings of SIZE bytes (numbered) back to back, then wait
 *       for every pong: they must come in order with the same bytes
 *   clmsg_tool SOCK MSGDIR alive DEST          print "alive" or "dead"
 *   clmsg_tool SOCK MSGDIR order DEST DB N [before]
 *       N times: store a counter i under key "order" of replicated
 *       database DB (acknowledged), then ask DEST (a server on another
 *       node) to read that key from its own replica; it must see i.
 *       With "before" the message is sent before the store: then some
 *       receivers must see the previous value (exit 0 if at least one
 *       did), which shows the check can fail.
 *   clmsg_tool SOCK MSGDIR forge DEST
 *       a forward request whose datagram sender differs from the source
 *       it claims must not be carried (no answer), an honest one must
 *       (the control)
 *
 * DEST is NODE:PID:UNIQUE (decimal).  Exit 0 success, 1 check failed,
 * 2 usage/set-up, 3 the send itself failed (status printed).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/cluster_client.h"
#include "clusterd/cluster_msgfwd_proto.h"
#include "dbwrap/dbwrap_cluster.h"
#include "lib/util/debug.h"
#include "messaging/messaging.h"

#define MSG_CHECK (MSG_TEST_BASE + 10)	     /* db, key, u64 expected */
#define MSG_CHECK_REPLY (MSG_TEST_BASE + 11) /* u64 want, u64 got, u8 found */

struct tool {
	TALLOC_CTX *mem;
	struct tevent_context *ev;
	struct messaging_context *msg;
	const char *sock;
	char *dbsock;
	struct db_context *db; /* serve/order: the replicated database */
	char *dbname;
	/* ping */
	uint32_t next_pong;
	uint32_t count;
	size_t size;
	bool bad;
	bool all_in; /* every pong came, or a bad one */
	/* order */
	bool have_reply;
	uint64_t reply_want, reply_got;
	bool reply_found;
};

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static bool parse_dest(const char *s, struct server_id *id)
{
	unsigned long long n, p, u;
	int used = 0;

	if (sscanf(s, "%llu:%llu:%llu%n", &n, &p, &u, &used) != 3 ||
	    (size_t)used != strlen(s) || n > UINT32_MAX || p == 0 ||
	    p > INT32_MAX) {
		return false;
	}
	*id = (struct server_id){ .node = (uint32_t)n, .pid = (uint32_t)p,
				  .unique = u };
	return true;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--) {
		v = (v << 8) | p[i];
	}
	return v;
}

static bool open_db(struct tool *t, const char *name)
{
	if (t->db != NULL) {
		return strcmp(t->dbname, name) == 0;
	}
	t->db = db_open_cluster(t->mem, t->msg, t->dbsock, name, 10000);
	t->dbname = talloc_strdup(t->mem, name);
	return t->db != NULL && t->dbname != NULL;
}

/* ---- serve ----------------------------------------------------------- */

static void serve_ping(struct messaging_context *msg, void *private_data,
		       uint32_t msg_type, struct server_id src,
		       const uint8_t *data, size_t len, int *fds,
		       size_t num_fds)
{
	NTSTATUS status = messaging_send(msg, src, MSG_PONG, data, len, NULL,
					 0);

	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "pong to %u:%u: %s\n", (unsigned)src.node,
			(unsigned)src.pid, nt_errstr(status));
	}
}

/* CHECK: "db\0" then u64 expected; the key is "order". */
static void serve_check(struct messaging_context *msg, void *private_data,
			uint32_t msg_type, struct server_id src,
			const uint8_t *data, size_t len, int *fds,
			size_t num_fds)
{
	struct tool *t = private_data;
	const uint8_t *nul = memchr(data, '\0', len);
	uint8_t reply[17] = { 0 };
	struct db_data v = { 0 };
	NTSTATUS status;

	if (nul == NULL || (size_t)(data + len - nul) != 9 ||
	    !open_db(t, (const char *)data)) {
		fprintf(stderr, "bad CHECK from %u:%u\n", (unsigned)src.node,
			(unsigned)src.pid);
		return;
	}
	memcpy(reply, nul + 1, 8);
	status = dbwrap_fetch(t->db, t->mem, db_data_string("order"), &v);
	if (NT_STATUS_IS_OK(status) && v.dsize == 8) {
		put_u64(reply + 8, get_u64(v.dptr));
		reply[16] = 1;
	}
	talloc_free(v.dptr);
	status = messaging_send(msg, src, MSG_CHECK_REPLY, reply,
				sizeof(reply), NULL, 0);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "check reply: %s\n", nt_errstr(status));
	}
}

struct deadline {
	bool expired;
	struct tevent_timer *te;
};

static void deadline_fn(struct tevent_context *ev, struct tevent_timer *te,
			struct timeval now, void *private_data)
{
	struct deadline *d = private_data;

	d->expired = true;
	d->te = NULL; /* tevent frees a timer that fired */
}

/* Run the event loop until *done or ms milliseconds passed.  Returns
 * whether *done. */
static bool run_until(struct tool *t, const bool *done, int ms)
{
	struct deadline d = { 0 };

	d.te = tevent_add_timer(
		t->ev, t->mem,
		tevent_timeval_current_ofs(ms / 1000, (ms % 1000) * 1000),
		deadline_fn, &d);
	if (d.te == NULL) {
		return false;
	}
	while (!*done && !d.expired) {
		if (tevent_loop_once(t->ev) != 0) {
			break;
		}
	}
	TALLOC_FREE(d.te);
	return *done;
}

static int serve(struct tool *t, int secs)
{
	struct server_id me = messaging_server_id(t->msg);
	bool never = false;

	if (!NT_STATUS_IS_OK(messaging_register(t->msg, t, MSG_PING,
						serve_ping)) ||
	    !NT_STATUS_IS_OK(messaging_register(t->msg, t, MSG_CHECK,
						serve_check))) {
		return 2;
	}
	printf("ready %u:%u:%" PRIu64 "\n", (unsigned)me.node,
	       (unsigned)me.pid, me.unique);
	fflush(stdout);
	run_until(t, &never, secs * 1000);
	return 0;
}

/* ---- ping ------------------------------------------------------------ */

static void fill(uint8_t *buf, size_t size, uint32_t seq)
{
	for (size_t i = 0; i < size; i++) {
		buf[i] = (uint8_t)(seq * 31 + i);
	}
	if (size >= 4) {
		buf[0] = (uint8_t)seq;
		buf[1] = (uint8_t)(seq >> 8);
		buf[2] = (uint8_t)(seq >> 16);
		buf[3] = (uint8_t)(seq >> 24);
	}
}

static void got_pong(struct messaging_context *msg, void *private_data,
		     uint32_t msg_type, struct server_id src,
		     const uint8_t *data, size_t len, int *fds, size_t num_fds)
{
	struct tool *t = private_data;
	uint8_t *want = talloc_size(t->mem, t->size > 0 ? t->size : 1);

	if (want == NULL) {
		t->bad = true;
		return;
	}
	fill(want, t->size, t->next_pong);
	if (len != t->size || (len > 0 && memcmp(data, want, len) != 0)) {
		fprintf(stderr, "pong %u: wrong or out of order (%zu bytes)\n",
			(unsigned)t->next_pong, len);
		t->bad = true;
	}
	talloc_free(want);
	t->next_pong++;
	t->all_in = t->bad || t->next_pong >= t->count;
}

static int ping(struct tool *t, struct server_id dst, uint32_t count,
		size_t size, int timeout_ms)
{
	uint8_t *buf = talloc_size(t->mem, size > 0 ? size : 1);
	int64_t start = now_ms();

	if (buf == NULL || count == 0 ||
	    !NT_STATUS_IS_OK(messaging_register(t->msg, t, MSG_PONG,
						got_pong))) {
		return 2;
	}
	t->count = count;
	t->size = size;
	for (uint32_t i = 0; i < count; i++) {
		NTSTATUS status;

		fill(buf, size, i);
		status = messaging_send(t->msg, dst, MSG_PING, buf, size, NULL,
					0);
		if (!NT_STATUS_IS_OK(status)) {
			printf("send: %s\n", nt_errstr(status));
			return 3;
		}
	}
	run_until(t, &t->all_in, timeout_ms);
	if (t->bad || t->next_pong < count) {
		printf("ping: %u of %u pongs in %d ms%s\n",
		       (unsigned)t->next_pong, (unsigned)count, timeout_ms,
		       t->bad ? ", wrong content or order" : "");
		return 1;
	}
	printf("ok %u pongs of %zu bytes in %" PRId64 " ms\n",
	       (unsigned)count, size, now_ms() - start);
	return 0;
}

/* ---- order ------------------------------------------------------------ */

static void got_check(struct messaging_context *msg, void *private_data,
		      uint32_t msg_type, struct server_id src,
		      const uint8_t *data, size_t len, int *fds, size_t num_fds)
{
	struct tool *t = private_data;

	if (len != 17) {
		t->bad = true;
		return;
	}
	t->reply_want = get_u64(data);
	t->reply_got = get_u64(data + 8);
	t->reply_found = data[16] != 0;
	t->have_reply = true;
}

static NTSTATUS store_counter(struct tool *t, uint64_t v)
{
	uint8_t b[8];
	NTSTATUS status;

	put_u64(b, v);
	for (int i = 0; i < 1000; i++) {
		status = dbwrap_store(t->db, db_data_string("order"),
				      db_data_make(b, 8));
		if (!NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
			break;
		}
	}
	return status;
}

static int order(struct tool *t, struct server_id dst, const char *dbname,
		 uint32_t n, bool before)
{
	size_t nlen = strlen(dbname) + 1;
	uint8_t *req = talloc_size(t->mem, nlen + 8);
	uint32_t stale = 0, fresh = 0;
	int64_t start = now_ms();
	NTSTATUS status;

	if (req == NULL || !open_db(t, dbname) ||
	    !NT_STATUS_IS_OK(messaging_register(t->msg, t, MSG_CHECK_REPLY,
						got_check))) {
		fprintf(stderr, "order: cannot set up (database %s)\n",
			dbname);
		return 2;
	}
	memcpy(req, dbname, nlen);
	/* a start value of this run, so the previous value is known */
	status = store_counter(t, 0);
	if (!NT_STATUS_IS_OK(status)) {
		printf("store: %s\n", nt_errstr(status));
		return 2;
	}
	for (uint32_t i = 1; i <= n; i++) {
		put_u64(req + nlen, i);
		t->have_reply = false;
		if (!before) {
			status = store_counter(t, i);
			if (!NT_STATUS_IS_OK(status)) {
				printf("store %u: %s\n", (unsigned)i,
				       nt_errstr(status));
				return 2;
			}
		}
		status = messaging_send(t->msg, dst, MSG_CHECK, req, nlen + 8,
					NULL, 0);
		if (!NT_STATUS_IS_OK(status)) {
			printf("send: %s\n", nt_errstr(status));
			return 3;
		}
		if (before) {
			/* let clusterd take the message first (it reads
			 * its messaging and db sockets in any order) */
			usleep(3000);
			status = store_counter(t, i);
			if (!NT_STATUS_IS_OK(status)) {
				printf("store %u: %s\n", (unsigned)i,
				       nt_errstr(status));
				return 2;
			}
		}
		if (!run_until(t, &t->have_reply, 5000) || t->bad ||
		    t->reply_want != i) {
			printf("order: no (valid) answer to check %u\n",
			       (unsigned)i);
			return 1;
		}
		if (t->reply_found && t->reply_got == i) {
			fresh++;
		} else {
			stale++;
		}
	}
	printf("order: %u checks, %u saw the store, %u did not, %" PRId64
	       " ms\n",
	       (unsigned)n, (unsigned)fresh, (unsigned)stale,
	       now_ms() - start);
	/* before: the check must be able to see a stale replica */
	return before ? (stale > 0 ? 0 : 1) : (stale == 0 ? 0 : 1);
}

/* ---- forge -------------------------------------------------------------- */

/*
 * Hand the local clusterd a forward request directly, once with a
 * datagram whose sender is not the source the record claims (clusterd
 * must drop it: the receiver would otherwise answer us), then an honest
 * one (it must arrive: the control).
 */
static int forge(struct tool *t, struct server_id dst, const char *view_path)
{
	struct server_id me = messaging_server_id(t->msg);
	struct server_id fake = me;
	uint8_t raw[CLUSTER_VIEW_MAX_FILE];
	struct clview v;
	struct clmsgfwd m = {
		.src = me,
		.dst = dst,
		.msg_type = MSG_PING,
		.data = (const uint8_t *)"forged",
		.len = 6,
	};
	uint8_t *buf = NULL;
	size_t len = 0;
	FILE *fp = fopen(view_path, "r");
	size_t got = fp != NULL ? fread(raw, 1, sizeof(raw), fp) : 0;
	NTSTATUS status;

	if (fp != NULL) {
		fclose(fp);
	}
	if (!NT_STATUS_IS_OK(clview_pull(raw, got, &v)) ||
	    !NT_STATUS_IS_OK(clmsgfwd_push(t->mem, &m, &buf, &len)) ||
	    !NT_STATUS_IS_OK(messaging_register(t->msg, t, MSG_PONG,
						got_pong))) {
		fprintf(stderr, "forge: cannot set up\n");
		return 2;
	}
	t->count = 1;
	t->size = 6;
	fake.unique ^= 1; /* another process's id, same pid */
	status = messaging_send_as(t->msg, fake, v.clusterd,
				   MSG_CLUSTERD_FORWARD, buf, len);
	if (!NT_STATUS_IS_OK(status)) {
		printf("forge: send: %s\n", nt_errstr(status));
		return 3;
	}
	if (run_until(t, &t->all_in, 1500)) {
		printf("forge: a forward request with a forged sender was "
		       "carried\n");
		return 1;
	}
	status = messaging_send(t->msg, v.clusterd, MSG_CLUSTERD_FORWARD,
				buf, len, NULL, 0);
	if (!NT_STATUS_IS_OK(status) || !run_until(t, &t->all_in, 5000)) {
		printf("forge: the honest request was not answered (%s)\n",
		       nt_errstr(status));
		return 1;
	}
	printf("forge: forged sender dropped, honest request answered\n");
	return 0;
}

/* ---- main ---------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr,
		"usage: clmsg_tool SOCK MSGDIR serve SECS\n"
		"       clmsg_tool SOCK MSGDIR ping NODE:PID:UNIQUE COUNT SIZE "
		"TIMEOUT_MS\n"
		"       clmsg_tool SOCK MSGDIR alive NODE:PID:UNIQUE\n"
		"       clmsg_tool SOCK MSGDIR order NODE:PID:UNIQUE DB N "
		"[before]\n"
		"       clmsg_tool SOCK MSGDIR forge NODE:PID:UNIQUE\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct tool t = { 0 };
	struct server_id dst = { 0 };
	uint32_t node = 0;
	const char *slash;
	NTSTATUS status;
	int rc;

	if (argc < 5) {
		return usage();
	}
	signal(SIGPIPE, SIG_IGN);
	debug_set_prefix("clmsg_tool");
	t.mem = talloc_new(NULL);
	t.sock = argv[1];
	slash = strrchr(t.sock, '/');
	t.dbsock = talloc_asprintf(t.mem, "%.*s/%s",
				   slash != NULL ? (int)(slash - t.sock) : 1,
				   slash != NULL ? t.sock : ".",
				   DB_CLUSTER_SOCKET_NAME);
	t.ev = tevent_context_init(t.mem);
	status = cluster_client_node_id(t.sock, &node);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "no node id next to %s: %s\n", t.sock,
			nt_errstr(status));
		return 2;
	}
	t.msg = t.ev != NULL ? messaging_init(t.mem, t.ev, argv[2], node)
			     : NULL;
	if (t.msg == NULL || t.dbsock == NULL ||
	    !NT_STATUS_IS_OK(cluster_messaging_attach(t.msg, t.sock))) {
		fprintf(stderr, "cannot set up messaging in %s\n", argv[2]);
		return 2;
	}
	if (strcmp(argv[3], "serve") == 0 && argc == 5) {
		rc = serve(&t, atoi(argv[4]));
	} else if (strcmp(argv[3], "alive") == 0 && argc == 5) {
		if (!parse_dest(argv[4], &dst)) {
			return usage();
		}
		printf("%s\n", server_id_is_alive(t.msg, &dst) ? "alive"
							       : "dead");
		rc = 0;
	} else if (strcmp(argv[3], "ping") == 0 && argc == 8) {
		if (!parse_dest(argv[4], &dst)) {
			return usage();
		}
		rc = ping(&t, dst, (uint32_t)strtoul(argv[5], NULL, 10),
			  strtoul(argv[6], NULL, 10), atoi(argv[7]));
	} else if (strcmp(argv[3], "order") == 0 &&
		   (argc == 7 || (argc == 8 && strcmp(argv[7], "before") == 0))) {
		if (!parse_dest(argv[4], &dst)) {
			return usage();
		}
		rc = order(&t, dst, argv[5],
			   (uint32_t)strtoul(argv[6], NULL, 10), argc == 8);
	} else if (strcmp(argv[3], "forge") == 0 && argc == 5) {
		char *view = talloc_asprintf(
			t.mem, "%.*s/%s",
			slash != NULL ? (int)(slash - t.sock) : 1,
			slash != NULL ? t.sock : ".", CLUSTER_VIEW_FILE);

		if (view == NULL || !parse_dest(argv[4], &dst)) {
			return usage();
		}
		rc = forge(&t, dst, view);
	} else {
		return usage();
	}
	/* let queued messages leave before the socket goes */
	for (int i = 0; i < 1000 && messaging_queued(t.msg) > 0; i++) {
		bool never = false;

		run_until(&t, &never, 10);
	}
	TALLOC_FREE(t.db);
	talloc_free(t.mem);
	return rc;
}
