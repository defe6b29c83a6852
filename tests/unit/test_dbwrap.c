/*
 * dbwrap: the tdb backend through the public API (store, fetch, parse in
 * place, delete, traverse, transactions, volatile vs persistent), record
 * locking between processes, and record watches between processes
 * (woken by another process's store, blocker killed with SIGKILL,
 * timeout, no lost wake-up).
 *
 * Every database lives in a fresh directory under $TMPDIR.  Children are
 * forked processes that report through their exit code (never cmocka
 * asserts) and are bounded by alarm(); the parent never waits longer
 * than WAIT_SECS for anything.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <fcntl.h>
#include <tdb.h>

#include "dbwrap/dbwrap.h"
#include "dbwrap/dbwrap_private.h"
#include "lib/util/marshall.h"
#include "messaging/messaging.h"

#define WAIT_SECS 20
#define NUM_LOCKERS 4
#define INCREMENTS 1000

struct fixture {
	TALLOC_CTX *mem;
	struct tevent_context *ev;
	char *dir;
	char *sockdir;
};

static int setup(void **pstate)
{
	struct fixture *f = talloc_zero(NULL, struct fixture);
	const char *tmp = getenv("TMPDIR");

	assert_non_null(f);
	f->mem = f;
	f->dir = talloc_asprintf(f, "%s/test_dbwrap.XXXXXX",
				 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	f->sockdir = talloc_asprintf(f, "%s/msg", f->dir);
	f->ev = tevent_context_init(f);
	assert_non_null(f->ev);
	*pstate = f;
	alarm(120); /* a hung test fails instead of blocking CI */
	return 0;
}

static int teardown(void **pstate)
{
	struct fixture *f = *pstate;
	char *cmd = talloc_asprintf(f, "rm -rf '%s'", f->dir);

	alarm(0);
	if (cmd != NULL && system(cmd) != 0) {
		fprintf(stderr, "could not remove %s\n", f->dir);
	}
	talloc_free(f);
	return 0;
}

static char *db_path(struct fixture *f, const char *name)
{
	char *p = talloc_asprintf(f, "%s/%s", f->dir, name);

	assert_non_null(p);
	return p;
}

/* ---- values: a counter in the one record encoding -------------------- */

static struct db_data counter_value(TALLOC_CTX *mem_ctx, uint32_t n)
{
	struct marshall_push *p = marshall_push_init(mem_ctx, REC_TEST, 1);
	struct db_data d = {0};

	marshall_push_u32(p, n);
	if (!NT_STATUS_IS_OK(marshall_push_finish(p, &d.dptr, &d.dsize))) {
		d.dptr = NULL;
		d.dsize = 0;
	}
	return d;
}

/* false for a malformed value; an absent record counts as 0 */
static bool counter_parse(struct db_data d, uint32_t *n)
{
	struct marshall_pull r;

	*n = 0;
	if (d.dsize == 0) {
		return true;
	}
	if (!NT_STATUS_IS_OK(marshall_pull_init(&r, d.dptr, d.dsize, REC_TEST,
						1))) {
		return false;
	}
	marshall_pull_u32(&r, n);
	return NT_STATUS_IS_OK(marshall_pull_finish(&r));
}

static uint32_t fetch_counter(struct db_context *db, const char *key)
{
	struct db_data v;
	uint32_t n;
	NTSTATUS st = dbwrap_fetch(db, db, db_data_string(key), &v);

	if (NT_STATUS_EQUAL(st, NT_STATUS_NOT_FOUND)) {
		return 0;
	}
	assert_true(NT_STATUS_IS_OK(st));
	assert_true(counter_parse(v, &n));
	talloc_free(v.dptr);
	return n;
}

static void store_counter(struct db_context *db, const char *key, uint32_t n)
{
	struct db_data v = counter_value(db, n);
	NTSTATUS st;

	assert_non_null(v.dptr);
	st = dbwrap_store(db, db_data_string(key), v);
	assert_true(NT_STATUS_IS_OK(st));
	talloc_free(v.dptr);
}

/* ---- event loop and children helpers ---------------------------------- */

static void tick(struct tevent_context *ev, struct tevent_timer *te,
		 struct timeval now, void *private_data)
{
	*(bool *)private_data = true;
}

/* Run ev until req finishes; false after secs. */
static bool wait_req(struct tevent_context *ev, struct tevent_req *req,
		     int secs)
{
	time_t end = time(NULL) + secs;

	while (tevent_req_is_in_progress(req)) {
		bool fired = false;
		struct tevent_timer *te;

		if (time(NULL) > end) {
			return false;
		}
		/* a tick so that loop_once returns even when idle */
		te = tevent_add_timer(ev, ev,
				      tevent_timeval_current_ofs(0, 50000),
				      tick, &fired);
		if (te == NULL || tevent_loop_once(ev) != 0) {
			return false;
		}
		if (!fired) {
			talloc_free(te);
		}
	}
	return true;
}

/* Run ev for msecs regardless. */
static void run_for(struct tevent_context *ev, int msecs)
{
	bool fired = false;

	tevent_add_timer(ev, ev, tevent_timeval_current_ofs(msecs / 1000,
							    (msecs % 1000) *
								    1000),
			 tick, &fired);
	while (!fired) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
}

static int wait_child(pid_t pid)
{
	time_t end = time(NULL) + WAIT_SECS;
	int status;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0) {
		if (time(NULL) > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(10000);
	}
	if (r != pid) {
		return -1;
	}
	if (WIFEXITED(status)) {
		return WEXITSTATUS(status);
	}
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static bool read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n <= 0) {
			if (n == -1 && errno == EINTR) {
				continue;
			}
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool write_full(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len;
}

/* In a child: its own event context and messaging (never the parent's:
 * freeing those would unlink the parent's socket). */
static struct messaging_context *child_messaging(struct fixture *f,
						 TALLOC_CTX *mem,
						 struct tevent_context **pev)
{
	*pev = tevent_context_init(mem);
	if (*pev == NULL) {
		_exit(90);
	}
	struct messaging_context *msg =
		messaging_init(mem, *pev, f->sockdir, 0);
	if (msg == NULL) {
		_exit(91);
	}
	return msg;
}

/* ---- single process: the API ------------------------------------------- */

struct parse_seen {
	bool called;
	size_t len;
	uint8_t first;
};

static void parse_fn(struct db_data key, struct db_data data,
		     void *private_data)
{
	struct parse_seen *s = private_data;

	s->called = true;
	s->len = data.dsize;
	s->first = data.dsize > 0 ? data.dptr[0] : 0;
}

static void test_store_fetch_parse_delete(void **pstate)
{
	struct fixture *f = *pstate;
	struct db_context *db =
		db_open_tdb(f, NULL, db_path(f, "a.tdb"), 0, DBWRAP_FLAG_NONE);
	struct parse_seen seen = {0};
	struct db_record *rec;
	struct db_data v;
	uint8_t big[70000];
	NTSTATUS st;

	assert_non_null(db);
	assert_string_equal(dbwrap_name(db), db_path(f, "a.tdb"));
	assert_false(dbwrap_exists(db, db_data_string("k1")));
	st = dbwrap_fetch(db, f, db_data_string("k1"), &v);
	assert_true(NT_STATUS_EQUAL(st, NT_STATUS_NOT_FOUND));
	st = dbwrap_parse_record(db, db_data_string("k1"), parse_fn, &seen);
	assert_true(NT_STATUS_EQUAL(st, NT_STATUS_NOT_FOUND));
	assert_false(seen.called);

	store_counter(db, "k1", 7);
	assert_true(dbwrap_exists(db, db_data_string("k1")));
	assert_int_equal(fetch_counter(db, "k1"), 7);
	st = dbwrap_parse_record(db, db_data_string("k1"), parse_fn, &seen);
	assert_true(NT_STATUS_IS_OK(st));
	assert_true(seen.called);
	assert_int_equal(seen.len, 8); /* header 4 + u32 */
	assert_int_equal(seen.first, REC_TEST);

	/* a large value round-trips byte for byte */
	for (size_t i = 0; i < sizeof(big); i++) {
		big[i] = (uint8_t)(i * 7 + 3);
	}
	st = dbwrap_store(db, db_data_string("big"),
			  db_data_make(big, sizeof(big)));
	assert_true(NT_STATUS_IS_OK(st));
	st = dbwrap_fetch(db, f, db_data_string("big"), &v);
	assert_true(NT_STATUS_IS_OK(st));
	assert_int_equal(v.dsize, sizeof(big));
	assert_memory_equal(v.dptr, big, sizeof(big));

	/* through a locked record: value before and after */
	rec = dbwrap_fetch_locked(db, f, db_data_string("k2"));
	assert_non_null(rec);
	assert_int_equal(dbwrap_record_get_value(rec).dsize, 0);
	assert_int_equal(dbwrap_record_get_key(rec).dsize, 2);
	assert_ptr_equal(dbwrap_record_get_db(rec), db);
	v = counter_value(rec, 42);
	assert_true(NT_STATUS_IS_OK(dbwrap_record_store(rec, v)));
	assert_int_equal(dbwrap_record_get_value(rec).dsize, v.dsize);
	talloc_free(rec);
	assert_int_equal(fetch_counter(db, "k2"), 42);

	rec = dbwrap_fetch_locked(db, f, db_data_string("k2"));
	assert_non_null(rec);
	assert_int_not_equal(dbwrap_record_get_value(rec).dsize, 0);
	assert_true(NT_STATUS_IS_OK(dbwrap_record_delete(rec)));
	assert_int_equal(dbwrap_record_get_value(rec).dsize, 0);
	talloc_free(rec);
	assert_false(dbwrap_exists(db, db_data_string("k2")));

	assert_true(NT_STATUS_IS_OK(dbwrap_delete(db, db_data_string("k1"))));
	assert_false(dbwrap_exists(db, db_data_string("k1")));
	/* deleting what is not there is no error */
	assert_true(NT_STATUS_IS_OK(dbwrap_delete(db, db_data_string("k1"))));

	/* bad arguments */
	assert_true(NT_STATUS_EQUAL(dbwrap_store(db, db_data_make(NULL, 0), v),
				    NT_STATUS_INVALID_PARAMETER));
	assert_null(dbwrap_fetch_locked(db, f, db_data_make("", 0)));
	assert_true(NT_STATUS_EQUAL(dbwrap_transaction_start(db),
				    NT_STATUS_NOT_SUPPORTED));
	talloc_free(db);
}

struct trav_state {
	int seen;
	int deleted;
	int stop_after;
	NTSTATUS store_status;
};

static int trav_delete_even(struct db_record *rec, void *private_data)
{
	struct trav_state *s = private_data;
	uint32_t n;

	s->seen++;
	assert_true(counter_parse(dbwrap_record_get_value(rec), &n));
	if (n % 2 == 0) {
		assert_true(NT_STATUS_IS_OK(dbwrap_record_delete(rec)));
		s->deleted++;
	}
	return 0;
}

static int trav_count(struct db_record *rec, void *private_data)
{
	struct trav_state *s = private_data;

	s->seen++;
	/* read-only records refuse changes */
	s->store_status = dbwrap_record_delete(rec);
	return (s->stop_after != 0 && s->seen >= s->stop_after) ? 1 : 0;
}

static void test_traverse(void **pstate)
{
	struct fixture *f = *pstate;
	struct db_context *db =
		db_open_tdb(f, NULL, db_path(f, "t.tdb"), 0, DBWRAP_FLAG_NONE);
	struct trav_state s = {0};
	char key[32];
	int count = -1;
	uint32_t i;

	assert_non_null(db);
	assert_true(NT_STATUS_IS_OK(dbwrap_traverse_read(db, trav_count, &s,
							 &count)));
	assert_int_equal(count, 0);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "rec%u", i);
		store_counter(db, key, i);
	}
	assert_true(NT_STATUS_IS_OK(dbwrap_traverse_read(db, trav_count, &s,
							 &count)));
	assert_int_equal(count, 100);
	assert_int_equal(s.seen, 100);
	assert_true(NT_STATUS_EQUAL(s.store_status,
				    NT_STATUS_MEDIA_WRITE_PROTECTED));

	/* delete during a traverse: every record visited once */
	memset(&s, 0, sizeof(s));
	assert_true(NT_STATUS_IS_OK(dbwrap_traverse(db, trav_delete_even, &s,
						    &count)));
	assert_int_equal(count, 100);
	assert_int_equal(s.seen, 100);
	assert_int_equal(s.deleted, 50);

	memset(&s, 0, sizeof(s));
	assert_true(NT_STATUS_IS_OK(dbwrap_traverse_read(db, trav_count, &s,
							 &count)));
	assert_int_equal(count, 50);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "rec%u", i);
		assert_int_equal(dbwrap_exists(db, db_data_string(key)),
				 i % 2 == 1);
	}

	/* fn stops the walk */
	memset(&s, 0, sizeof(s));
	s.stop_after = 3;
	assert_true(NT_STATUS_IS_OK(dbwrap_traverse_read(db, trav_count, &s,
							 &count)));
	assert_int_equal(count, 3);
	talloc_free(db);
}

static void test_transactions(void **pstate)
{
	struct fixture *f = *pstate;
	char *path = db_path(f, "p.tdb");
	struct db_context *db =
		db_open_tdb(f, NULL, path, 0, DBWRAP_FLAG_PERSISTENT);
	struct trav_state s = {0};
	struct db_record *rec;
	struct db_data v;
	int count;

	assert_non_null(db);
	/* commit/cancel without a transaction */
	assert_true(NT_STATUS_EQUAL(dbwrap_transaction_commit(db),
				    NT_STATUS_INVALID_DEVICE_STATE));
	assert_true(NT_STATUS_EQUAL(dbwrap_transaction_cancel(db),
				    NT_STATUS_INVALID_DEVICE_STATE));

	/* cancel: nothing stays */
	assert_true(NT_STATUS_IS_OK(dbwrap_transaction_start(db)));
	assert_true(NT_STATUS_EQUAL(dbwrap_transaction_start(db),
				    NT_STATUS_INVALID_DEVICE_STATE));
	store_counter(db, "a", 1);
	store_counter(db, "b", 2);
	assert_int_equal(fetch_counter(db, "a"), 1); /* seen inside */
	assert_true(NT_STATUS_IS_OK(dbwrap_transaction_cancel(db)));
	assert_false(dbwrap_exists(db, db_data_string("a")));
	assert_false(dbwrap_exists(db, db_data_string("b")));

	/* commit: both */
	assert_true(NT_STATUS_IS_OK(dbwrap_transaction_start(db)));
	store_counter(db, "a", 1);
	store_counter(db, "b", 2);
	assert_true(NT_STATUS_IS_OK(dbwrap_transaction_commit(db)));
	assert_int_equal(fetch_counter(db, "a"), 1);
	assert_int_equal(fetch_counter(db, "b"), 2);

	/* a lone locked record: its own transaction, committed by the
	 * store; a second change through it is refused (no longer locked) */
	rec = dbwrap_fetch_locked(db, f, db_data_string("a"));
	assert_non_null(rec);
	assert_true(NT_STATUS_EQUAL(dbwrap_transaction_start(db),
				    NT_STATUS_INVALID_DEVICE_STATE));
	assert_true(NT_STATUS_EQUAL(dbwrap_transaction_commit(db),
				    NT_STATUS_INVALID_DEVICE_STATE));
	v = counter_value(rec, 10);
	assert_true(NT_STATUS_IS_OK(dbwrap_record_store(rec, v)));
	assert_true(NT_STATUS_EQUAL(dbwrap_record_store(rec, v),
				    NT_STATUS_INVALID_DEVICE_STATE));
	talloc_free(rec);
	assert_int_equal(fetch_counter(db, "a"), 10);

	/* locked and freed without a change: the transaction is gone */
	rec = dbwrap_fetch_locked(db, f, db_data_string("b"));
	assert_non_null(rec);
	talloc_free(rec);
	assert_true(NT_STATUS_IS_OK(dbwrap_transaction_start(db)));
	assert_true(NT_STATUS_IS_OK(dbwrap_transaction_cancel(db)));

	/* a traverse that deletes is one transaction */
	assert_true(NT_STATUS_IS_OK(dbwrap_traverse(db, trav_delete_even, &s,
						    &count)));
	assert_int_equal(count, 2);
	assert_int_equal(fetch_counter(db, "a"), 0); /* 10: even, deleted */
	assert_int_equal(fetch_counter(db, "b"), 0); /* 2: even, deleted */

	/* persistent: survives closing; volatile: cleared by the first
	 * opener */
	store_counter(db, "keep", 5);
	talloc_free(db);
	db = db_open_tdb(f, NULL, path, 0, DBWRAP_FLAG_PERSISTENT);
	assert_non_null(db);
	assert_int_equal(fetch_counter(db, "keep"), 5);
	talloc_free(db);

	db = db_open_tdb(f, NULL, db_path(f, "v.tdb"), 0, DBWRAP_FLAG_NONE);
	assert_non_null(db);
	store_counter(db, "gone", 5);
	talloc_free(db);
	db = db_open_tdb(f, NULL, db_path(f, "v.tdb"), 0, DBWRAP_FLAG_NONE);
	assert_non_null(db);
	assert_false(dbwrap_exists(db, db_data_string("gone")));
	talloc_free(db);
}

/* ---- two and more processes: locking ------------------------------------ */

/*
 * Children are forked before the parent opens a database: a process that
 * inherits an open tdb cannot open the same file again (tdb refuses a
 * second open of a file in one process).  They wait on a pipe until the
 * parent has what it needs in place; the parent keeps the database open
 * meanwhile, so a volatile database is not cleared by their opens.
 */
struct gate {
	int fds[2];
};

static void gate_init(struct gate *g)
{
	assert_int_equal(pipe(g->fds), 0);
}

/* in the child: block until the parent opens the gate */
static void gate_wait(struct gate *g)
{
	char c;

	close(g->fds[1]);
	if (!read_full(g->fds[0], &c, 1)) {
		_exit(80);
	}
}

static void gate_open(struct gate *g, int n)
{
	close(g->fds[0]);
	while (n-- > 0) {
		assert_true(write_full(g->fds[1], "g", 1));
	}
	close(g->fds[1]);
}

static int locker_child(const char *path, enum dbwrap_flags flags,
			int increments)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct db_context *db;
	int i;

	alarm(60);
	db = db_open_tdb(mem, NULL, path, 0, flags);
	if (db == NULL) {
		return 10;
	}
	for (i = 0; i < increments; i++) {
		struct db_record *rec =
			dbwrap_fetch_locked(db, mem, db_data_string("ctr"));
		struct db_data v;
		uint32_t n;

		if (rec == NULL) {
			return 11;
		}
		if (!counter_parse(dbwrap_record_get_value(rec), &n)) {
			return 12;
		}
		if (i % 50 == 0) {
			/* widen the window another process would need */
			usleep(200);
		}
		v = counter_value(rec, n + 1);
		if (!NT_STATUS_IS_OK(dbwrap_record_store(rec, v))) {
			return 13;
		}
		talloc_free(rec);
	}
	talloc_free(mem);
	return 0;
}

static void run_lockers(struct fixture *f, const char *path,
			enum dbwrap_flags flags, int increments)
{
	struct db_context *db;
	pid_t pids[NUM_LOCKERS];
	struct gate g;
	int i;

	gate_init(&g);
	for (i = 0; i < NUM_LOCKERS; i++) {
		pids[i] = fork();
		assert_int_not_equal(pids[i], -1);
		if (pids[i] == 0) {
			gate_wait(&g);
			_exit(locker_child(path, flags, increments));
		}
	}
	db = db_open_tdb(f, NULL, path, 0, flags);
	assert_non_null(db);
	gate_open(&g, NUM_LOCKERS);
	for (i = 0; i < NUM_LOCKERS; i++) {
		assert_int_equal(wait_child(pids[i]), 0);
	}
	/* exact: no increment lost to an unlocked read-modify-write */
	assert_int_equal(fetch_counter(db, "ctr"), NUM_LOCKERS * increments);
	talloc_free(db);
}

static void test_fetch_locked_exclusion(void **pstate)
{
	struct fixture *f = *pstate;

	run_lockers(f, db_path(f, "lock.tdb"), DBWRAP_FLAG_NONE, INCREMENTS);
}

/* Persistent: each increment is a transaction of its own (fsync'ed),
 * hence fewer of them. */
static void test_fetch_locked_exclusion_persistent(void **pstate)
{
	struct fixture *f = *pstate;

	run_lockers(f, db_path(f, "plock.tdb"), DBWRAP_FLAG_PERSISTENT, 100);
}

/*
 * A process killed with SIGKILL while it holds a record lock (robust
 * mutex or fcntl lock): the next locker gets the record, and the value
 * the dead process had stored before dying is there.
 */
static void test_lock_holder_killed(void **pstate)
{
	struct fixture *f = *pstate;
	char *path = db_path(f, "kill.tdb");
	struct db_context *db;
	struct gate g;
	int report[2];
	pid_t holder, checker;
	char c;

	gate_init(&g);
	assert_int_equal(pipe(report), 0);
	holder = fork();
	assert_int_not_equal(holder, -1);
	if (holder == 0) {
		TALLOC_CTX *mem = talloc_new(NULL);
		struct db_context *cdb;
		struct db_record *rec;

		alarm(60);
		close(report[0]);
		gate_wait(&g);
		cdb = db_open_tdb(mem, NULL, path, 0, DBWRAP_FLAG_NONE);
		if (cdb == NULL) {
			_exit(50);
		}
		rec = dbwrap_fetch_locked(cdb, mem, db_data_string("k"));
		if (rec == NULL ||
		    !NT_STATUS_IS_OK(dbwrap_record_store(
			    rec, counter_value(mem, 7)))) {
			_exit(51);
		}
		/* locked: tell the parent, then wait for the kill */
		if (!write_full(report[1], "l", 1)) {
			_exit(52);
		}
		for (;;) {
			pause();
		}
	}
	checker = fork();
	assert_int_not_equal(checker, -1);
	if (checker == 0) {
		TALLOC_CTX *mem = talloc_new(NULL);
		struct db_context *cdb;
		struct db_record *rec;
		uint32_t n;

		alarm(60);
		close(report[1]);
		gate_wait(&g);
		/* wait until the holder has the lock */
		if (!read_full(report[0], &c, 1)) {
			_exit(60);
		}
		cdb = db_open_tdb(mem, NULL, path, 0, DBWRAP_FLAG_NONE);
		if (cdb == NULL) {
			_exit(61);
		}
		/* blocks until the holder dies */
		rec = dbwrap_fetch_locked(cdb, mem, db_data_string("k"));
		if (rec == NULL) {
			_exit(62);
		}
		if (!counter_parse(dbwrap_record_get_value(rec), &n) ||
		    n != 7) {
			_exit(63);
		}
		if (!NT_STATUS_IS_OK(dbwrap_record_store(
			    rec, counter_value(mem, 8)))) {
			_exit(64);
		}
		_exit(0);
	}
	close(report[1]);
	close(report[0]);
	db = db_open_tdb(f, NULL, path, 0, DBWRAP_FLAG_NONE);
	assert_non_null(db);
	gate_open(&g, 2);
	/* the checker is blocked on the lock */
	usleep(300000);
	assert_int_equal(waitpid(checker, NULL, WNOHANG), 0);
	assert_int_equal(kill(holder, SIGKILL), 0);
	assert_int_equal(wait_child(holder), 128 + SIGKILL);
	assert_int_equal(wait_child(checker), 0);
	assert_int_equal(fetch_counter(db, "k"), 8);
	talloc_free(db);
}

/*
 * Contention through watches, the way blocking byte-range locks use
 * them: NUM_LOCKERS processes take turns owning a token record (its
 * value names the owner); a process that finds it taken watches it with
 * the owner as blocker and tries again when woken.  A lost wake-up
 * leaves a waiter asleep until its 10 s bound: the child fails.
 */
static int token_child(struct fixture *f, const char *path, int rounds)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev;
	struct messaging_context *msg = child_messaging(f, mem, &ev);
	struct db_context *db = db_open_tdb(mem, msg, path, 0,
					    DBWRAP_FLAG_NONE);
	uint32_t me = (uint32_t)getpid();
	int taken = 0, waits = 0;

	if (db == NULL) {
		return 70;
	}
	while (taken < rounds) {
		struct db_record *rec =
			dbwrap_fetch_locked(db, mem, db_data_string("token"));
		struct server_id owner = {0};
		struct tevent_req *req;
		bool died;
		uint32_t n;

		if (rec == NULL ||
		    !counter_parse(dbwrap_record_get_value(rec), &n)) {
			return 71;
		}
		if (n == 0) {
			if (!NT_STATUS_IS_OK(dbwrap_record_store(
				    rec, counter_value(rec, me)))) {
				return 72;
			}
			talloc_free(rec);
			taken++;
			usleep(200); /* hold it a little */
			rec = dbwrap_fetch_locked(db, mem,
						  db_data_string("token"));
			if (rec == NULL ||
			    !counter_parse(dbwrap_record_get_value(rec), &n) ||
			    n != me) {
				return 73; /* someone took it from us */
			}
			if (!NT_STATUS_IS_OK(dbwrap_record_delete(rec))) {
				return 74;
			}
			talloc_free(rec);
			continue;
		}
		owner.pid = n;
		req = dbwrap_watch_send(mem, ev, rec, owner);
		talloc_free(rec);
		if (req == NULL) {
			return 75;
		}
		if (!wait_req(ev, req, 10)) {
			return 76; /* lost wake-up */
		}
		if (!NT_STATUS_IS_OK(dbwrap_watch_recv(req, &died)) || died) {
			return 77;
		}
		talloc_free(req);
		waits++;
	}
	talloc_free(mem);
	/* exit status 0; the waits show there was contention at all */
	return waits > 0 ? 0 : 78;
}

static void test_watch_contention(void **pstate)
{
	struct fixture *f = *pstate;
	char *path = db_path(f, "token.tdb");
	struct db_context *db;
	pid_t pids[NUM_LOCKERS];
	struct gate g;
	int i, waited_somewhere = 0, ret;

	gate_init(&g);
	for (i = 0; i < NUM_LOCKERS; i++) {
		pids[i] = fork();
		assert_int_not_equal(pids[i], -1);
		if (pids[i] == 0) {
			alarm(60);
			gate_wait(&g);
			_exit(token_child(f, path, 100));
		}
	}
	db = db_open_tdb(f, NULL, path, 0, DBWRAP_FLAG_NONE);
	assert_non_null(db);
	gate_open(&g, NUM_LOCKERS);
	for (i = 0; i < NUM_LOCKERS; i++) {
		ret = wait_child(pids[i]);
		if (ret == 78) {
			continue; /* never had to wait: allowed for some */
		}
		assert_int_equal(ret, 0);
		waited_somewhere++;
	}
	assert_true(waited_somewhere > 0);
	assert_false(dbwrap_exists(db, db_data_string("token")));
	talloc_free(db);
}

/*
 * While a process holds a record, fetch_locked of another record of the
 * same database fails at once when it would wait (chain locks do not
 * follow key order: waiting could deadlock), and succeeds when free.
 */
static unsigned chain_of(const char *key, unsigned hash_size)
{
	TDB_DATA k = {.dptr = (uint8_t *)key, .dsize = strlen(key)};

	return tdb_jenkins_hash(&k) % hash_size;
}

static void test_second_lock_never_waits(void **pstate)
{
	struct fixture *f = *pstate;
	char *path = db_path(f, "two.tdb");
	const unsigned hash_size = 131;
	char a[16] = "a", b[16];
	struct db_context *db;
	struct db_record *ra, *rb, *ra2;
	struct timespec t0, t1;
	struct gate g;
	int report[2], i;
	pid_t pid;
	char c;

	/* two keys on different chains */
	for (i = 0;; i++) {
		snprintf(b, sizeof(b), "b%d", i);
		if (chain_of(a, hash_size) != chain_of(b, hash_size)) {
			break;
		}
	}
	gate_init(&g);
	assert_int_equal(pipe(report), 0);
	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0) {
		TALLOC_CTX *mem = talloc_new(NULL);
		struct db_context *cdb;

		alarm(60);
		close(report[0]);
		gate_wait(&g);
		cdb = db_open_tdb(mem, NULL, path, hash_size,
				  DBWRAP_FLAG_NONE);
		if (cdb == NULL ||
		    dbwrap_fetch_locked(cdb, mem, db_data_string(b)) == NULL) {
			_exit(50);
		}
		if (!write_full(report[1], "l", 1)) {
			_exit(51);
		}
		for (;;) {
			pause();
		}
	}
	close(report[1]);
	db = db_open_tdb(f, NULL, path, hash_size, DBWRAP_FLAG_NONE);
	assert_non_null(db);
	gate_open(&g, 1);
	assert_true(read_full(report[0], &c, 1));
	close(report[0]);

	ra = dbwrap_fetch_locked(db, f, db_data_string(a));
	assert_non_null(ra);
	/* our own chain again: fine */
	ra2 = dbwrap_fetch_locked(db, f, db_data_string(a));
	assert_non_null(ra2);
	talloc_free(ra2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rb = dbwrap_fetch_locked(db, f, db_data_string(b));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_null(rb);
	assert_true(t1.tv_sec - t0.tv_sec < 2);

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(wait_child(pid), 128 + SIGKILL);
	rb = dbwrap_fetch_locked(db, f, db_data_string(b));
	assert_non_null(rb);
	talloc_free(rb);
	talloc_free(ra);
	/* with nothing held, waiting is allowed again */
	rb = dbwrap_fetch_locked(db, f, db_data_string(b));
	assert_non_null(rb);
	talloc_free(rb);
	talloc_free(db);
}

/* ---- watches ------------------------------------------------------------ */

static struct server_id no_blocker(void)
{
	struct server_id id = {0};

	return id;
}

static struct tevent_req *watch_key(struct fixture *f, struct db_context *db,
				    const char *key, struct server_id blocker)
{
	struct db_record *rec = dbwrap_fetch_locked(db, f, db_data_string(key));
	struct tevent_req *req;

	assert_non_null(rec);
	req = dbwrap_watch_send(f, f->ev, rec, blocker);
	assert_non_null(req);
	talloc_free(rec);
	return req;
}

/* child: open the database with messaging and store key = n */
static int storer_child(struct fixture *f, const char *path, const char *key,
			uint32_t n)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev;
	struct messaging_context *msg = child_messaging(f, mem, &ev);
	struct db_context *db = db_open_tdb(mem, msg, path, 0,
					    DBWRAP_FLAG_NONE);
	struct db_data v;

	if (db == NULL) {
		return 20;
	}
	v = counter_value(mem, n);
	if (!NT_STATUS_IS_OK(dbwrap_store(db, db_data_string(key), v))) {
		return 21;
	}
	/* the wake-up is queued or sent: let a queued one go out */
	run_for(ev, 100);
	talloc_free(db);
	talloc_free(mem);
	return 0;
}

static void test_watch_woken_by_other_process(void **pstate)
{
	struct fixture *f = *pstate;
	char *path = db_path(f, "w.tdb");
	struct messaging_context *msg;
	struct db_context *db;
	struct tevent_req *req;
	bool died = true;
	struct gate g;
	pid_t pid;

	gate_init(&g);
	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0) {
		alarm(60);
		gate_wait(&g);
		_exit(storer_child(f, path, "w", 2));
	}
	msg = messaging_init(f, f->ev, f->sockdir, 0);
	assert_non_null(msg);
	db = db_open_tdb(f, msg, path, 0, DBWRAP_FLAG_NONE);
	assert_non_null(db);
	store_counter(db, "w", 1);

	req = watch_key(f, db, "w", no_blocker());
	assert_true(dbwrap_exists(db->watchers, db_data_string("w")));
	/* nobody changed it: the watch waits */
	run_for(f->ev, 300);
	assert_true(tevent_req_is_in_progress(req));

	gate_open(&g, 1);
	assert_true(wait_req(f->ev, req, WAIT_SECS));
	assert_true(NT_STATUS_IS_OK(dbwrap_watch_recv(req, &died)));
	assert_false(died);
	assert_int_equal(fetch_counter(db, "w"), 2);
	/* the storer took the watcher list */
	assert_false(dbwrap_exists(db->watchers, db_data_string("w")));
	assert_int_equal(wait_child(pid), 0);
	talloc_free(req);
	talloc_free(db);
	talloc_free(msg);
}

/* child: report its server_id, then wait to be killed */
static int blocker_child(struct fixture *f, int report_fd)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev;
	struct messaging_context *msg = child_messaging(f, mem, &ev);
	struct server_id id = messaging_server_id(msg);
	uint8_t buf[SERVER_ID_WIRE_SIZE];

	server_id_push(buf, &id);
	if (!write_full(report_fd, buf, sizeof(buf))) {
		return 30;
	}
	for (;;) {
		pause();
	}
	return 31;
}

static void test_watch_blocker_killed(void **pstate)
{
	struct fixture *f = *pstate;
	struct messaging_context *msg;
	struct db_context *db;
	struct tevent_req *req;
	struct server_id blocker;
	uint8_t buf[SERVER_ID_WIRE_SIZE];
	bool died = false;
	int report[2];
	pid_t pid;

	assert_int_equal(pipe(report), 0);
	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0) {
		alarm(60);
		close(report[0]);
		_exit(blocker_child(f, report[1]));
	}
	close(report[1]);
	assert_true(read_full(report[0], buf, sizeof(buf)));
	close(report[0]);
	server_id_pull(buf, &blocker);
	assert_int_equal(blocker.pid, (uint32_t)pid);

	msg = messaging_init(f, f->ev, f->sockdir, 0);
	assert_non_null(msg);
	db = db_open_tdb(f, msg, db_path(f, "b.tdb"), 0, DBWRAP_FLAG_NONE);
	assert_non_null(db);

	req = watch_key(f, db, "held", blocker);
	/* the blocker lives: the watch waits */
	run_for(f->ev, 300);
	assert_true(tevent_req_is_in_progress(req));

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_true(wait_req(f->ev, req, WAIT_SECS));
	assert_true(NT_STATUS_IS_OK(dbwrap_watch_recv(req, &died)));
	assert_true(died);
	/* finishing removed our entry from the watcher list */
	assert_false(dbwrap_exists(db->watchers, db_data_string("held")));
	assert_int_equal(wait_child(pid), 128 + SIGKILL);
	talloc_free(req);

	/* a blocker dead before the watch starts: done at once */
	req = watch_key(f, db, "held", blocker);
	assert_true(wait_req(f->ev, req, 2));
	assert_true(NT_STATUS_IS_OK(dbwrap_watch_recv(req, &died)));
	assert_true(died);
	talloc_free(req);
	talloc_free(db);
	talloc_free(msg);
}

static void test_watch_timeout(void **pstate)
{
	struct fixture *f = *pstate;
	struct messaging_context *msg = messaging_init(f, f->ev, f->sockdir, 0);
	struct db_context *db;
	struct tevent_req *req;
	struct timespec t0, t1;
	bool died = true;
	long ms;

	assert_non_null(msg);
	db = db_open_tdb(f, msg, db_path(f, "to.tdb"), 0, DBWRAP_FLAG_NONE);
	assert_non_null(db);
	req = watch_key(f, db, "k", no_blocker());
	assert_true(tevent_req_set_endtime(
		req, f->ev, tevent_timeval_current_ofs(0, 300000)));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(wait_req(f->ev, req, WAIT_SECS));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 250);
	assert_true(NT_STATUS_EQUAL(dbwrap_watch_recv(req, &died),
				    NT_STATUS_IO_TIMEOUT));
	assert_false(died);
	assert_false(dbwrap_exists(db->watchers, db_data_string("k")));
	talloc_free(req);

	/* freeing a watch removes its entry too */
	req = watch_key(f, db, "k", no_blocker());
	assert_true(dbwrap_exists(db->watchers, db_data_string("k")));
	talloc_free(req);
	assert_false(dbwrap_exists(db->watchers, db_data_string("k")));

	/* a watch needs messaging and a locked record */
	{
		struct db_context *nomsg = db_open_tdb(
			f, NULL, db_path(f, "nomsg.tdb"), 0, DBWRAP_FLAG_NONE);
		struct db_record *rec = dbwrap_fetch_locked(
			nomsg, f, db_data_string("k"));
		NTSTATUS st;

		assert_non_null(rec);
		req = dbwrap_watch_send(f, f->ev, rec, no_blocker());
		assert_non_null(req);
		assert_true(wait_req(f->ev, req, 2));
		st = dbwrap_watch_recv(req, &died);
		assert_true(NT_STATUS_EQUAL(st, NT_STATUS_NOT_SUPPORTED));
		talloc_free(req);
		talloc_free(rec);
		talloc_free(nomsg);
	}
	talloc_free(db);
	talloc_free(msg);
}

/*
 * No lost wake-up: the change happens after watch_send but before the
 * watcher's event loop runs at all (by this process, and by another
 * process while this one is blocked in read()).
 */
static void test_watch_no_lost_wakeup(void **pstate)
{
	struct fixture *f = *pstate;
	char *path = db_path(f, "nl.tdb");
	struct messaging_context *msg;
	struct db_context *db;
	struct tevent_req *req;
	bool died = true;
	struct gate g;
	int done[2];
	char c;
	pid_t pid;

	gate_init(&g);
	assert_int_equal(pipe(done), 0);
	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0) {
		int ret;

		alarm(60);
		close(done[0]);
		gate_wait(&g);
		ret = storer_child(f, path, "k", 3);
		if (!write_full(done[1], "d", 1)) {
			ret = 40;
		}
		_exit(ret);
	}
	close(done[1]);
	msg = messaging_init(f, f->ev, f->sockdir, 0);
	assert_non_null(msg);
	db = db_open_tdb(f, msg, path, 0, DBWRAP_FLAG_NONE);
	assert_non_null(db);

	/* same process */
	req = watch_key(f, db, "k", no_blocker());
	store_counter(db, "k", 1);
	assert_true(wait_req(f->ev, req, WAIT_SECS));
	assert_true(NT_STATUS_IS_OK(dbwrap_watch_recv(req, &died)));
	assert_false(died);
	talloc_free(req);

	/* another process, while we do not run the loop */
	req = watch_key(f, db, "k", no_blocker());
	gate_open(&g, 1);
	assert_true(read_full(done[0], &c, 1)); /* blocking: loop idle */
	close(done[0]);
	assert_int_equal(wait_child(pid), 0);
	assert_true(wait_req(f->ev, req, WAIT_SECS));
	assert_true(NT_STATUS_IS_OK(dbwrap_watch_recv(req, &died)));
	assert_false(died);
	assert_int_equal(fetch_counter(db, "k"), 3);
	talloc_free(req);
	talloc_free(db);
	talloc_free(msg);
}

/* A watch on a persistent record: the wake-up follows the commit. */
static void test_watch_persistent(void **pstate)
{
	struct fixture *f = *pstate;
	struct messaging_context *msg = messaging_init(f, f->ev, f->sockdir, 0);
	struct db_context *db;
	struct tevent_req *req;
	bool died = true;

	assert_non_null(msg);
	db = db_open_tdb(f, msg, db_path(f, "pw.tdb"), 0,
			 DBWRAP_FLAG_PERSISTENT);
	assert_non_null(db);
	req = watch_key(f, db, "k", no_blocker());
	assert_true(NT_STATUS_IS_OK(dbwrap_transaction_start(db)));
	store_counter(db, "k", 1);
	/* not before the commit */
	run_for(f->ev, 200);
	assert_true(tevent_req_is_in_progress(req));
	assert_true(NT_STATUS_IS_OK(dbwrap_transaction_commit(db)));
	assert_true(wait_req(f->ev, req, WAIT_SECS));
	assert_true(NT_STATUS_IS_OK(dbwrap_watch_recv(req, &died)));
	talloc_free(req);

	/* cancelled changes wake nobody */
	req = watch_key(f, db, "k", no_blocker());
	assert_true(NT_STATUS_IS_OK(dbwrap_transaction_start(db)));
	store_counter(db, "k", 2);
	assert_true(NT_STATUS_IS_OK(dbwrap_transaction_cancel(db)));
	run_for(f->ev, 200);
	assert_true(tevent_req_is_in_progress(req));
	talloc_free(req);
	talloc_free(db);
	talloc_free(msg);
}

/*
 * Several watchers of one key are all woken by one store; a stale entry
 * (a watch freed without removing its entry) wakes nobody; freeing the
 * database fails the watches still running.
 */
static void test_watch_many_stale_and_gone(void **pstate)
{
	struct fixture *f = *pstate;
	struct messaging_context *msg = messaging_init(f, f->ev, f->sockdir, 0);
	struct db_context *db;
	struct tevent_req *a, *b, *c;
	struct db_record *rec;
	bool died = true;

	assert_non_null(msg);
	db = db_open_tdb(f, msg, db_path(f, "many.tdb"), 0, DBWRAP_FLAG_NONE);
	assert_non_null(db);
	a = watch_key(f, db, "k", no_blocker());
	b = watch_key(f, db, "k", no_blocker());
	c = watch_key(f, db, "other", no_blocker());
	store_counter(db, "k", 1);
	assert_true(wait_req(f->ev, a, WAIT_SECS));
	assert_true(wait_req(f->ev, b, WAIT_SECS));
	assert_true(NT_STATUS_IS_OK(dbwrap_watch_recv(a, &died)));
	assert_false(died);
	assert_true(NT_STATUS_IS_OK(dbwrap_watch_recv(b, &died)));
	/* another key's watcher sleeps on */
	run_for(f->ev, 100);
	assert_true(tevent_req_is_in_progress(c));
	talloc_free(a);
	talloc_free(b);

	/* a stale entry: put back by hand the list a storer would read */
	rec = dbwrap_fetch_locked(db, f, db_data_string("k"));
	assert_non_null(rec);
	a = dbwrap_watch_send(f, f->ev, rec, no_blocker());
	assert_non_null(a);
	{
		struct db_data list;

		assert_true(NT_STATUS_IS_OK(dbwrap_fetch(
			db->watchers, f, db_data_string("k"), &list)));
		talloc_free(a); /* removes its entry... */
		/* ...which we restore: now it is stale */
		assert_true(NT_STATUS_IS_OK(
			dbwrap_store(db->watchers, db_data_string("k"), list)));
	}
	talloc_free(rec);
	b = watch_key(f, db, "k", no_blocker());
	store_counter(db, "k", 2); /* wakes b, and the stale one: nobody */
	assert_true(wait_req(f->ev, b, WAIT_SECS));
	assert_true(NT_STATUS_IS_OK(dbwrap_watch_recv(b, &died)));
	talloc_free(b);

	/* the database goes away under a running watch */
	talloc_free(db);
	assert_true(wait_req(f->ev, c, WAIT_SECS));
	assert_true(NT_STATUS_EQUAL(dbwrap_watch_recv(c, &died),
				    NT_STATUS_INVALID_DEVICE_STATE));
	talloc_free(c);
	talloc_free(msg);
}

/*
 * A blocker on another node: its death is learnt by polling
 * server_id_is_alive(), which asks clusterd's liveness hook.
 */
static bool remote_alive(void *private_data, const struct server_id *id)
{
	int *calls = private_data;

	(*calls)++;
	return *calls < 2; /* alive at the start, dead at the first poll */
}

static void test_watch_remote_blocker(void **pstate)
{
	struct fixture *f = *pstate;
	struct messaging_context *msg = messaging_init(f, f->ev, f->sockdir, 0);
	struct server_id remote = {.node = 7, .pid = 4242, .unique = 99};
	struct db_context *db;
	struct tevent_req *req;
	bool died = false;
	int calls = 0;

	assert_non_null(msg);
	messaging_set_remote_alive_fn(msg, remote_alive, &calls);
	db = db_open_tdb(f, msg, db_path(f, "rb.tdb"), 0, DBWRAP_FLAG_NONE);
	assert_non_null(db);
	req = watch_key(f, db, "k", remote);
	assert_int_equal(calls, 1);
	assert_true(tevent_req_is_in_progress(req));
	assert_true(wait_req(f->ev, req, WAIT_SECS));
	assert_true(NT_STATUS_IS_OK(dbwrap_watch_recv(req, &died)));
	assert_true(died);
	assert_int_equal(calls, 2);
	talloc_free(req);
	talloc_free(db);
	talloc_free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_fetch_parse_delete,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_traverse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fetch_locked_exclusion,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_fetch_locked_exclusion_persistent, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_lock_holder_killed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_second_lock_never_waits,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_woken_by_other_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_blocker_killed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch_no_lost_wakeup,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_persistent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch_many_stale_and_gone,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_contention, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch_remote_blocker,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
