/*
 * cldb_tool: drives a replicated database through the clustered dbwrap
 * backend, for tests/cluster/test_cluster_db.sh.
 *
 *   cldb_tool SOCKET DB incr KEY N       N increments of a counter with
 *                                        fetch_locked + record_store,
 *                                        retrying on NT_STATUS_RETRY;
 *                                        prints "retries R"
 *   cldb_tool SOCKET DB set KEY VALUE    store (retrying); prints the time
 *                                        of the acknowledgement (epoch s)
 *   cldb_tool SOCKET DB get KEY          prints the value or "none"
 *   cldb_tool SOCKET DB delete KEY
 *   cldb_tool SOCKET DB churn KEY D N    N times: add D, then subtract D,
 *                                        each a fetch_locked + CAS with
 *                                        retries; a change that leaves 0
 *                                        deletes the record, so the key
 *                                        dies and is re-created all the
 *                                        time; prints "retries R"
 *   cldb_tool SOCKET DB mkdel PREFIX N   N keys PREFIX-i created and
 *                                        deleted again (N tombstones)
 *   cldb_tool SOCKET DB staleset KEY VALUE FILE
 *                                        fetch_locked KEY, print "read",
 *                                        wait (at most 30 s) until FILE
 *                                        exists, then store VALUE with
 *                                        what was read (no retry): prints
 *                                        the NTSTATUS (a stale CAS must
 *                                        give NT_STATUS_RETRY)
 *   cldb_tool SOCKET DB wait KEY VALUE MS   polls until the value is
 *                                        VALUE; exit 1 after MS ms
 *   cldb_tool SOCKET DB watch MSGDIR KEY MS
 *                                        watches KEY (dbwrap_watch_send,
 *                                        messaging in MSGDIR); prints
 *                                        "ready", then "woken" and exits 0
 *                                        when woken; exit 1 after MS ms
 *   cldb_tool SOCKET DB count            records (traverse_read)
 *   cldb_tool SOCKET DB fill KEY BYTES   store a value of that size
 *                                        (a REC_TEST record with a blob)
 *   cldb_tool SOCKET DB size KEY         prints the value's size
 *   cldb_tool dump DIR                   every replica in DIR (clusterd's
 *                                        <state dir>/db) canonically: per
 *                                        database in name order "db NAME
 *                                        N", then one line per key in
 *                                        byte order "KEYHEX SEQ DELETED
 *                                        VALUEHEX" (tombstones included);
 *                                        exit 1 if a record does not parse
 *   cldb_tool SOCKET DB bench KEY SECS   increments KEY (fetch_locked +
 *                                        record_store, retrying) as fast
 *                                        as it can for SECS seconds;
 *                                        prints "updates U retries R
 *                                        p50_us A p99_us B max_us C" (the
 *                                        latency of each increment,
 *                                        retries included), for
 *                                        tests/bench/bench_cluster.sh
 *
 * A counter value is a REC_TEST marshall record holding a u64.
 * CLDB_START_AT=EPOCH (seconds, fractions allowed): incr and bench wait
 * until then, so that runs started on several nodes overlap.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <tdb.h>
#include <unistd.h>

#include "clusterd/cluster_client.h"
#include "dbwrap/dbwrap_cluster.h"
#include "dbwrap/dbwrap_cluster_proto.h"
#include "lib/util/debug.h"
#include "lib/util/marshall.h"

static NTSTATUS value_pull(struct db_data d, uint64_t *v)
{
	struct marshall_pull r;
	NTSTATUS status;

	*v = 0;
	if (d.dsize == 0) {
		return NT_STATUS_NOT_FOUND;
	}
	status = marshall_pull_init(&r, d.dptr, d.dsize, REC_TEST, 1);
	NT_STATUS_NOT_OK_RETURN(status);
	marshall_pull_u64(&r, v);
	return marshall_pull_finish(&r);
}

static NTSTATUS value_push(TALLOC_CTX *mem_ctx, uint64_t v,
			   struct db_data *d)
{
	struct marshall_push *p = marshall_push_init(mem_ctx, REC_TEST, 1);
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u64(p, v);
	status = marshall_push_finish(p, &buf, &len);
	*d = db_data_make(buf, len);
	return status;
}

/* read-modify-write with the CAS retry: add (or set when !add) */
static NTSTATUS change(struct db_context *db, struct db_data key,
		       uint64_t arg, bool add, unsigned *retries)
{
	for (unsigned attempt = 0; attempt < 100000; attempt++) {
		TALLOC_CTX *frame = talloc_new(db);
		struct db_record *rec = dbwrap_fetch_locked(db, frame, key);
		struct db_data nd;
		uint64_t v = 0;
		NTSTATUS status;

		if (rec == NULL) {
			talloc_free(frame);
			return NT_STATUS_INTERNAL_DB_ERROR;
		}
		status = value_pull(dbwrap_record_get_value(rec), &v);
		if (!NT_STATUS_IS_OK(status) &&
		    !NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
			talloc_free(frame);
			return status;
		}
		status = value_push(frame, add ? v + arg : arg, &nd);
		if (NT_STATUS_IS_OK(status)) {
			status = dbwrap_record_store(rec, nd);
		}
		talloc_free(frame);
		if (!NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
			return status;
		}
		(*retries)++;
	}
	return NT_STATUS_RETRY;
}

/* add delta (wrapping, so it can subtract); a result of 0 deletes */
static NTSTATUS add_or_delete(struct db_context *db, struct db_data key,
			      uint64_t delta, unsigned *retries)
{
	for (unsigned attempt = 0; attempt < 100000; attempt++) {
		TALLOC_CTX *frame = talloc_new(db);
		struct db_record *rec = dbwrap_fetch_locked(db, frame, key);
		struct db_data nd;
		uint64_t v = 0;
		NTSTATUS status;

		if (rec == NULL) {
			talloc_free(frame);
			return NT_STATUS_INTERNAL_DB_ERROR;
		}
		status = value_pull(dbwrap_record_get_value(rec), &v);
		if (!NT_STATUS_IS_OK(status) &&
		    !NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
			talloc_free(frame);
			return status;
		}
		if (v + delta == 0) {
			status = dbwrap_record_delete(rec);
		} else {
			status = value_push(frame, v + delta, &nd);
			if (NT_STATUS_IS_OK(status)) {
				status = dbwrap_record_store(rec, nd);
			}
		}
		talloc_free(frame);
		if (!NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
			return status;
		}
		(*retries)++;
	}
	return NT_STATUS_RETRY;
}

static int get(struct db_context *db, struct db_data key, bool *found,
	       uint64_t *v)
{
	struct db_data d;
	NTSTATUS status = dbwrap_fetch(db, db, key, &d);

	*found = false;
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		return 0;
	}
	if (!NT_STATUS_IS_OK(status) ||
	    !NT_STATUS_IS_OK(value_pull(d, v))) {
		return -1;
	}
	*found = true;
	talloc_free(d.dptr);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* CLDB_START_AT: start with the processes of the other nodes */
static void wait_start(void)
{
	const char *at = getenv("CLDB_START_AT");
	double t, now;
	struct timeval tv;

	if (at == NULL) {
		return;
	}
	t = strtod(at, NULL);
	gettimeofday(&tv, NULL);
	now = tv.tv_sec + tv.tv_usec / 1e6;
	if (t > now && t - now < 30) {
		usleep((useconds_t)((t - now) * 1e6));
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * One writer's loop: every increment is timed on its own (a
 * fetch_locked + store, plus the fetches and stores of any CAS retry),
 * so the percentiles are those a caller in smbd would see.
 */
static int bench(struct db_context *db, struct db_data key, long secs)
{
	uint32_t *lat = NULL;
	size_t n = 0, cap = 0;
	unsigned retries = 0;
	int64_t end;
	NTSTATUS status;

	if (secs <= 0 || secs > 3600) {
		fprintf(stderr, "bench: seconds out of range\n");
		return 2;
	}
	wait_start();
	end = now_us() + secs * 1000000;
	for (int64_t t0 = now_us(); t0 < end; t0 = now_us()) {
		int64_t d;
		status = change(db, key, 1, true, &retries);
		if (!NT_STATUS_IS_OK(status)) {
			fprintf(stderr, "bench: update %zu: %s\n", n,
				nt_errstr(status));
			return 1;
		}
		if (n == cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			lat = talloc_realloc(db, lat, uint32_t, cap);
			if (lat == NULL) {
				return 1;
			}
		}
		d = now_us() - t0;
		lat[n++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
	}
	if (n == 0) {
		fprintf(stderr, "bench: no update in %ld s\n", secs);
		return 1;
	}
	qsort(lat, n, sizeof(*lat), cmp_u32);
	printf("updates %zu retries %u p50_us %u p99_us %u max_us %u\n", n,
	       retries, lat[n / 2], lat[(n * 99) / 100], lat[n - 1]);
	talloc_free(lat);
	return 0;
}

static int count_fn(struct db_record *rec, void *private_data)
{
	return 0;
}

/* 0: not yet; 1: woken; 2: failed */
static void watch_done(struct tevent_req *req)
{
	int *done = tevent_req_callback_data_void(req);
	bool died = false;
	NTSTATUS status = dbwrap_watch_recv(req, &died);

	printf("%s\n", NT_STATUS_IS_OK(status) ? "woken" : nt_errstr(status));
	fflush(stdout);
	*done = NT_STATUS_IS_OK(status) ? 1 : 2;
	TALLOC_FREE(req);
}

static int watch(TALLOC_CTX *mem, const char *sock, const char *name,
		 const char *msgdir, struct db_data key, int ms)
{
	struct tevent_context *ev = tevent_context_init(mem);
	struct messaging_context *msg;
	struct db_context *db;
	struct db_record *rec;
	struct tevent_req *req;
	struct server_id none = {0};
	int done = 0;
	uint32_t node = 0;

	/* clusterd wakes watchers with its node's cluster id: a watcher
	 * must carry the same (the view file next to the sockets has it) */
	if (!NT_STATUS_IS_OK(cluster_client_node_id(sock, &node))) {
		fprintf(stderr, "no node id from clusterd's view file\n");
		return 2;
	}
	msg = ev != NULL ? messaging_init(mem, ev, msgdir, node) : NULL;
	db = msg != NULL ? db_open_cluster(mem, msg, sock, name, 0) : NULL;
	rec = db != NULL ? dbwrap_fetch_locked(db, mem, key) : NULL;
	if (rec == NULL) {
		fprintf(stderr, "cannot set up the watch\n");
		return 2;
	}
	req = dbwrap_watch_send(mem, ev, rec, none);
	if (req == NULL ||
	    !tevent_req_set_endtime(req, ev,
				    tevent_timeval_current_ofs(ms / 1000,
							       (ms % 1000) *
								       1000))) {
		return 2;
	}
	tevent_req_set_callback(req, watch_done, &done);
	TALLOC_FREE(rec);
	printf("ready\n");
	fflush(stdout);
	while (done == 0) {
		if (tevent_loop_once(ev) != 0) {
			return 2;
		}
	}
	return done == 1 ? 0 : 1;
}

/* ---- dump: the replicas of a node, canonically, to compare nodes ---- */

struct dump_rec {
	uint8_t *key;
	size_t klen;
	char *line;
};

struct dump_state {
	struct dump_rec *recs;
	size_t n;
	bool bad;
};

static char *hex(TALLOC_CTX *mem, const uint8_t *p, size_t n)
{
	char *s = talloc_array(mem, char, 2 * n + 2);

	if (s == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	}
	/* an empty blob still gives a word, so every line has 4 fields */
	if (n == 0) {
		strcpy(s, "-");
	}
	return s;
}

static int dump_fn(struct tdb_context *tdb, TDB_DATA k, TDB_DATA d,
		   void *private_data)
{
	struct dump_state *st = private_data;
	struct dump_rec *r;
	struct cldb_value v;
	NTSTATUS status;
	char *kh, *vh;

	r = talloc_realloc(st, st->recs, struct dump_rec, st->n + 1);
	if (r == NULL) {
		st->bad = true;
		return -1;
	}
	st->recs = r;
	r = &st->recs[st->n];
	r->key = talloc_memdup(st->recs, k.dptr, k.dsize);
	r->klen = k.dsize;
	kh = hex(st->recs, k.dptr, k.dsize);
	status = cldb_value_pull(d.dptr, d.dsize, &v);
	if (NT_STATUS_IS_OK(status)) {
		vh = hex(st->recs, v.value.dptr, v.value.dsize);
		r->line = talloc_asprintf(st->recs, "%s %" PRIu64 " %d %s", kh,
					  v.seq, v.deleted ? 1 : 0, vh);
	} else {
		/* shown, so that a diff points at it, and the dump fails */
		vh = hex(st->recs, d.dptr, d.dsize);
		r->line = talloc_asprintf(st->recs, "%s unparsed %s %s", kh,
					  nt_errstr(status), vh);
		st->bad = true;
	}
	if ((k.dsize > 0 && r->key == NULL) || r->line == NULL) {
		st->bad = true;
		return -1;
	}
	st->n++;
	return 0;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct dump_rec *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = n > 0 ? memcmp(x->key, y->key, n) : 0;

	if (c != 0) {
		return c;
	}
	return x->klen < y->klen ? -1 : x->klen > y->klen;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The tdb is opened as the backend and clusterd open it (same flags,
 * so the mutex area is used alike) but without TDB_CLEAR_IF_FIRST and
 * without O_CREAT: a dump never creates, empties or changes a replica.
 * tdb_traverse_read locks each chain while reading it, so every record
 * is read whole even while clusterd applies updates; a dump that must be
 * compared is taken when no updates are in flight.
 */
static int dump_db(TALLOC_CTX *mem, const char *dir, const char *name)
{
	struct dump_state *st = talloc_zero(mem, struct dump_state);
	char *path = talloc_asprintf(mem, "%s/%s.tdb", dir, name);
	int flags = TDB_INCOMPATIBLE_HASH;
	struct tdb_context *tdb;
	int n;

	if (st == NULL || path == NULL) {
		return 1;
	}
	if (tdb_runtime_check_for_robust_mutexes()) {
		flags |= TDB_MUTEX_LOCKING;
	}
	tdb = tdb_open(path, 0, flags, O_RDWR, 0);
	if (tdb == NULL) {
		fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	n = tdb_traverse_read(tdb, dump_fn, st);
	tdb_close(tdb);
	if (n < 0 || st->bad) {
		fprintf(stderr, "%s: traverse failed or bad records\n", path);
	}
	if (st->n > 1) {
		qsort(st->recs, st->n, sizeof(st->recs[0]), rec_cmp);
	}
	printf("db %s %zu\n", name, st->n);
	for (size_t i = 0; i < st->n; i++) {
		printf("%s\n", st->recs[i].line);
	}
	return n < 0 || st->bad ? 1 : 0;
}

static int dump(TALLOC_CTX *mem, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "cannot read %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char *name;

		/* <name>.tdb; the .tdb.lock and .tdb.watch side files are
		 * node-local and not compared */
		if (len <= 4 || strcmp(e->d_name + len - 4, ".tdb") != 0) {
			continue;
		}
		name = talloc_strndup(mem, e->d_name, len - 4);
		if (name == NULL || !cldb_name_ok(name)) {
			continue;
		}
		names = talloc_realloc(mem, names, char *, n + 1);
		if (names == NULL) {
			closedir(d);
			return 1;
		}
		names[n++] = name;
	}
	closedir(d);
	if (n > 1) {
		qsort(names, n, sizeof(names[0]), name_cmp);
	}
	for (size_t i = 0; i < n; i++) {
		rc |= dump_db(mem, dir, names[i]);
	}
	return rc;
}

static int run(TALLOC_CTX *mem, int argc, char **argv)
{
	struct db_context *db;
	struct db_data key;
	unsigned retries = 0;
	NTSTATUS status;
	bool found;
	uint64_t v;

	if (argc == 3 && strcmp(argv[1], "dump") == 0) {
		return dump(mem, argv[2]);
	}
	if (argc < 4) {
		fprintf(stderr, "usage: see the comment in cldb_tool.c\n");
		return 2;
	}
	debug_set_prefix("cldb_tool");
	if (strcmp(argv[3], "watch") == 0) {
		if (argc != 7) {
			return 2;
		}
		key = db_data_string(argv[5]);
		return watch(mem, argv[1], argv[2], argv[4], key,
			     atoi(argv[6]));
	}
	db = db_open_cluster(mem, NULL, argv[1], argv[2], 10000);
	if (db == NULL) {
		fprintf(stderr, "cannot attach %s\n", argv[2]);
		return 1;
	}
	if (strcmp(argv[3], "count") == 0) {
		int n = 0;
		status = dbwrap_traverse_read(db, count_fn, NULL, &n);
		printf("%d\n", n);
		return NT_STATUS_IS_OK(status) ? 0 : 1;
	}
	if (argc < 5) {
		return 2;
	}
	key = db_data_string(argv[4]);
	if (strcmp(argv[3], "incr") == 0 && argc == 6) {
		long n = atol(argv[5]);
		wait_start();
		for (long i = 0; i < n; i++) {
			status = change(db, key, 1, true, &retries);
			if (!NT_STATUS_IS_OK(status)) {
				fprintf(stderr, "increment %ld: %s\n", i,
					nt_errstr(status));
				return 1;
			}
		}
		printf("retries %u\n", retries);
		return 0;
	}
	if (strcmp(argv[3], "churn") == 0 && argc == 7) {
		uint64_t d = strtoull(argv[5], NULL, 10);
		long n = atol(argv[6]);
		wait_start();
		for (long i = 0; i < 2 * n; i++) {
			status = add_or_delete(db, key, i % 2 == 0 ? d : -d,
					       &retries);
			if (!NT_STATUS_IS_OK(status)) {
				fprintf(stderr, "churn %ld: %s\n", i,
					nt_errstr(status));
				return 1;
			}
		}
		printf("retries %u\n", retries);
		return 0;
	}
	if (strcmp(argv[3], "staleset") == 0 && argc == 7) {
		struct db_record *rec = dbwrap_fetch_locked(db, mem, key);
		struct db_data nd;
		int64_t end = now_ms() + 30000;
		if (rec == NULL) {
			fprintf(stderr, "staleset: fetch_locked failed\n");
			return 1;
		}
		printf("read\n");
		fflush(stdout);
		while (access(argv[6], F_OK) != 0 && now_ms() < end) {
			usleep(10000);
		}
		status = value_push(mem, strtoull(argv[5], NULL, 10), &nd);
		if (NT_STATUS_IS_OK(status)) {
			status = dbwrap_record_store(rec, nd);
		}
		printf("%s\n", nt_errstr(status));
		return 0;
	}
	if (strcmp(argv[3], "mkdel") == 0 && argc == 6) {
		long n = atol(argv[5]);
		for (long i = 0; i < n; i++) {
			char *k = talloc_asprintf(mem, "%s-%ld", argv[4], i);
			struct db_data kd = db_data_string(k);
			status = k == NULL ? NT_STATUS_NO_MEMORY
					   : change(db, kd, i + 1, false,
						    &retries);
			if (NT_STATUS_IS_OK(status)) {
				status = dbwrap_delete(db, kd);
			}
			if (!NT_STATUS_IS_OK(status)) {
				fprintf(stderr, "mkdel %ld: %s\n", i,
					nt_errstr(status));
				return 1;
			}
			talloc_free(k);
		}
		return 0;
	}
	if (strcmp(argv[3], "bench") == 0 && argc == 6) {
		return bench(db, key, atol(argv[5]));
	}
	if (strcmp(argv[3], "set") == 0 && argc == 6) {
		struct timeval tv;
		status = change(db, key, strtoull(argv[5], NULL, 10), false,
				&retries);
		gettimeofday(&tv, NULL);
		if (!NT_STATUS_IS_OK(status)) {
			fprintf(stderr, "set: %s\n", nt_errstr(status));
			return 1;
		}
		printf("%ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
		return 0;
	}
	if (strcmp(argv[3], "fill") == 0 && argc == 6) {
		size_t n = strtoul(argv[5], NULL, 10);
		uint8_t *b = talloc_zero_size(mem, n + 1);
		struct marshall_push *p = marshall_push_init(mem, REC_TEST, 1);
		uint8_t *buf = NULL;
		size_t len = 0;
		if (b == NULL || p == NULL) {
			return 1;
		}
		marshall_push_blob(p, b, n);
		status = marshall_push_finish(p, &buf, &len);
		if (NT_STATUS_IS_OK(status)) {
			status = dbwrap_store(db, key, db_data_make(buf, len));
		}
		if (!NT_STATUS_IS_OK(status)) {
			fprintf(stderr, "fill: %s\n", nt_errstr(status));
			return 1;
		}
		return 0;
	}
	if (strcmp(argv[3], "size") == 0 && argc == 5) {
		struct db_data d;
		status = dbwrap_fetch(db, mem, key, &d);
		if (!NT_STATUS_IS_OK(status)) {
			fprintf(stderr, "size: %s\n", nt_errstr(status));
			return 1;
		}
		printf("%zu\n", d.dsize);
		return 0;
	}
	if (strcmp(argv[3], "delete") == 0 && argc == 5) {
		status = dbwrap_delete(db, key);
		if (!NT_STATUS_IS_OK(status)) {
			fprintf(stderr, "delete: %s\n", nt_errstr(status));
			return 1;
		}
		return 0;
	}
	if (strcmp(argv[3], "get") == 0 && argc == 5) {
		if (get(db, key, &found, &v) != 0) {
			fprintf(stderr, "get failed\n");
			return 1;
		}
		if (found) {
			printf("%" PRIu64 "\n", v);
		} else {
			printf("none\n");
		}
		return 0;
	}
	if (strcmp(argv[3], "wait") == 0 && argc == 7) {
		uint64_t want = strtoull(argv[5], NULL, 10);
		int64_t start = now_ms(), end = start + atoi(argv[6]);
		do {
			if (get(db, key, &found, &v) == 0 && found &&
			    v == want) {
				printf("%" PRId64 " ms\n", now_ms() - start);
				return 0;
			}
			usleep(1000);
		} while (now_ms() < end);
		printf("not there after %s ms (%s %" PRIu64 ")\n", argv[6],
		       found ? "have" : "have none", v);
		return 1;
	}
	fprintf(stderr, "bad arguments\n");
	return 2;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	int rc = run(mem, argc, argv);

	/* everything on mem: a leak checker sees a clean exit */
	talloc_free(mem);
	return rc;
}
