/*
 * cldb_ptool: drives a persistent replicated database (transactions)
 * through the clustered dbwrap backend, for
 * tests/cluster/test_cluster_persistent.sh.  Values are decimal numbers
 * (text).  Every command attaches with DBWRAP_FLAG_PERSISTENT, waiting
 * up to 20 s while the local clusterd is not in sync.
 *
 *   cldb_ptool SOCKET DB init KEY=V...    one transaction storing them
 *   cldb_ptool SOCKET DB move FROM TO N   N transactions, each reads FROM
 *                                         and TO and moves 1 from FROM to
 *                                         TO (both records changed, sum
 *                                         kept), redone on NT_STATUS_RETRY;
 *                                         prints "commits N retries R"
 *   cldb_ptool SOCKET DB incr KEY N       N one-record transactions
 *                                         (fetch_locked + store), retried;
 *                                         prints "retries R"
 *   cldb_ptool SOCKET DB get KEY          the value or "none"
 *   cldb_ptool SOCKET DB sum              "records N sum S" (traverse_read)
 *   cldb_ptool SOCKET DB wait KEY V MS    polls until KEY is V; exit 1
 *                                         after MS ms
 *   cldb_ptool SOCKET DB cancel KEY       stores KEY in a transaction and
 *                                         cancels it: exit 1 if the value
 *                                         changed (inside: read-your-own-
 *                                         writes must see it)
 *   cldb_ptool SOCKET DB big N BYTES      one transaction of N records of
 *                                         BYTES each; prints the commit's
 *                                         NT status name
 *   cldb_ptool SOCKET DB kind             attaches DB as volatile: prints
 *                                         the status (a persistent DB
 *                                         must give OBJECT_NAME_COLLISION)
 *
 * CLDB_START_AT=EPOCH (fractions allowed): move and incr wait until then,
 * so that runs on several nodes overlap.  CLDB_ATTACH_WAIT=MS: how long
 * to wait for an attach while clusterd is not in sync (default 20000);
 * a failed attach prints "cannot attach DB: STATUS" on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dbwrap/dbwrap_cluster.h"
#include "lib/util/debug.h"

/* Bounded: a run that keeps losing this often proves a livelock. */
#define MAX_RETRIES 10000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void start_at(void)
{
	const char *at = getenv("CLDB_START_AT");
	struct timespec now;
	double wait;

	if (at == NULL) {
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	wait = strtod(at, NULL) - (now.tv_sec + now.tv_nsec / 1e9);
	if (wait > 0 && wait < 60) {
		usleep((useconds_t)(wait * 1e6));
	}
}

static struct db_context *attach(TALLOC_CTX *mem, const char *sock,
				 const char *name, enum dbwrap_flags flags,
				 NTSTATUS *pstatus)
{
	const char *w = getenv("CLDB_ATTACH_WAIT");
	int64_t end = now_ms() + (w != NULL ? atol(w) : 20000);
	struct db_context *db = NULL;
	NTSTATUS status;

	for (;;) {
		status = db_open_cluster_flags(mem, NULL, sock, name, flags,
					       10000, &db);
		if (!NT_STATUS_EQUAL(status, NT_STATUS_INVALID_DEVICE_STATE) ||
		    now_ms() > end) {
			break;
		}
		usleep(200 * 1000);
	}
	*pstatus = status;
	return db;
}

/* The value of key (0 and *found false when missing or not a number). */
static uint64_t get_num(struct db_context *db, const char *key, bool *found)
{
	TALLOC_CTX *frame = talloc_new(db);
	struct db_data v = {0};
	uint64_t n = 0;
	NTSTATUS status;

	status = dbwrap_fetch(db, frame, db_data_string(key), &v);
	*found = NT_STATUS_IS_OK(status) && v.dsize > 0 && v.dsize < 32;
	if (*found) {
		char buf[32];
		memcpy(buf, v.dptr, v.dsize);
		buf[v.dsize] = '\0';
		n = strtoull(buf, NULL, 10);
	}
	talloc_free(frame);
	return n;
}

static NTSTATUS put_num(struct db_context *db, const char *key, uint64_t n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, n);
	return dbwrap_store(db, db_data_string(key), db_data_string(buf));
}

static int cmd_init(struct db_context *db, int n, char **kv)
{
	NTSTATUS status = dbwrap_transaction_start(db);

	for (int i = 0; NT_STATUS_IS_OK(status) && i < n; i++) {
		char *eq = strchr(kv[i], '=');
		if (eq == NULL) {
			dbwrap_transaction_cancel(db);
			return 2;
		}
		*eq = '\0';
		status = put_num(db, kv[i], strtoull(eq + 1, NULL, 10));
	}
	if (NT_STATUS_IS_OK(status)) {
		status = dbwrap_transaction_commit(db);
	} else {
		dbwrap_transaction_cancel(db);
	}
	printf("%s\n", nt_errstr(status));
	return NT_STATUS_IS_OK(status) ? 0 : 1;
}

/* One transaction: FROM -= 1, TO += 1 (FROM at 0 stays: moves back). */
static NTSTATUS move_once(struct db_context *db, const char *from,
			  const char *to)
{
	bool ff, ft;
	uint64_t a, b;
	NTSTATUS status = dbwrap_transaction_start(db);

	NT_STATUS_NOT_OK_RETURN(status);
	a = get_num(db, from, &ff);
	b = get_num(db, to, &ft);
	if (!ff || !ft || a == 0) {
		dbwrap_transaction_cancel(db);
		return NT_STATUS_NOT_FOUND;
	}
	status = put_num(db, from, a - 1);
	if (NT_STATUS_IS_OK(status)) {
		status = put_num(db, to, b + 1);
	}
	if (!NT_STATUS_IS_OK(status)) {
		dbwrap_transaction_cancel(db);
		return status;
	}
	return dbwrap_transaction_commit(db);
}

static int cmd_move(struct db_context *db, const char *from, const char *to,
		    long n)
{
	unsigned long retries = 0;
	long done = 0;

	start_at();
	while (done < n) {
		NTSTATUS status = move_once(db, from, to);
		if (NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
			if (++retries > MAX_RETRIES) {
				fprintf(stderr, "too many retries\n");
				return 1;
			}
			continue;
		}
		if (!NT_STATUS_IS_OK(status)) {
			fprintf(stderr, "move: %s\n", nt_errstr(status));
			return 1;
		}
		done++;
	}
	printf("commits %ld retries %lu\n", done, retries);
	return 0;
}

static int cmd_incr(struct db_context *db, const char *key, long n)
{
	unsigned long retries = 0;
	long done = 0;

	start_at();
	while (done < n) {
		/* fetch_locked on a persistent db: its own transaction,
		 * committed by the store */
		struct db_record *rec = dbwrap_fetch_locked(
			db, db, db_data_string(key));
		struct db_data v;
		uint64_t cur = 0;
		char buf[32];
		NTSTATUS status;

		if (rec == NULL) {
			fprintf(stderr, "fetch_locked failed\n");
			return 1;
		}
		v = dbwrap_record_get_value(rec);
		if (v.dsize > 0 && v.dsize < sizeof(buf)) {
			memcpy(buf, v.dptr, v.dsize);
			buf[v.dsize] = '\0';
			cur = strtoull(buf, NULL, 10);
		}
		snprintf(buf, sizeof(buf), "%" PRIu64, cur + 1);
		status = dbwrap_record_store(rec, db_data_string(buf));
		talloc_free(rec);
		if (NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
			if (++retries > MAX_RETRIES) {
				fprintf(stderr, "too many retries\n");
				return 1;
			}
			continue;
		}
		if (!NT_STATUS_IS_OK(status)) {
			fprintf(stderr, "incr: %s\n", nt_errstr(status));
			return 1;
		}
		done++;
	}
	printf("retries %lu\n", retries);
	return 0;
}

struct sum_state {
	uint64_t sum;
	int records;
};

static int sum_fn(struct db_record *rec, void *private_data)
{
	struct sum_state *s = private_data;
	struct db_data v = dbwrap_record_get_value(rec);
	char buf[32];

	s->records++;
	if (v.dsize > 0 && v.dsize < sizeof(buf)) {
		memcpy(buf, v.dptr, v.dsize);
		buf[v.dsize] = '\0';
		s->sum += strtoull(buf, NULL, 10);
	}
	return 0;
}

static int cmd_cancel(struct db_context *db, const char *key)
{
	bool found, inside_found;
	uint64_t before = get_num(db, key, &found), inside, after;
	NTSTATUS status = dbwrap_transaction_start(db);

	if (NT_STATUS_IS_OK(status)) {
		status = put_num(db, key, before + 1000);
	}
	inside = get_num(db, key, &inside_found);
	if (NT_STATUS_IS_OK(status)) {
		status = dbwrap_transaction_cancel(db);
	}
	after = get_num(db, key, &found);
	printf("before %" PRIu64 " inside %" PRIu64 " after %" PRIu64 " %s\n",
	       before, inside, after, nt_errstr(status));
	return NT_STATUS_IS_OK(status) && inside == before + 1000 &&
			       after == before
		       ? 0
		       : 1;
}

static int cmd_big(struct db_context *db, long n, size_t bytes)
{
	char *val = talloc_zero_size(db, bytes + 1);
	NTSTATUS status = dbwrap_transaction_start(db);

	if (val == NULL) {
		return 1;
	}
	memset(val, '7', bytes);
	for (long i = 0; NT_STATUS_IS_OK(status) && i < n; i++) {
		char key[32];
		snprintf(key, sizeof(key), "big-%ld", i);
		status = dbwrap_store(db, db_data_string(key),
				      db_data_make(val, bytes));
	}
	if (NT_STATUS_IS_OK(status)) {
		status = dbwrap_transaction_commit(db);
	} else {
		dbwrap_transaction_cancel(db);
	}
	printf("%s\n", nt_errstr(status));
	return 0;
}

static int run(TALLOC_CTX *mem, int argc, char **argv)
{
	struct db_context *db;
	NTSTATUS status;
	const char *cmd;

	if (argc < 4) {
		fprintf(stderr, "usage: see the comment in cldb_ptool.c\n");
		return 2;
	}
	debug_set_prefix("cldb_ptool");
	cmd = argv[3];
	if (strcmp(cmd, "kind") == 0) {
		db = attach(mem, argv[1], argv[2], DBWRAP_FLAG_NONE, &status);
		printf("%s\n", nt_errstr(status));
		return 0;
	}
	db = attach(mem, argv[1], argv[2], DBWRAP_FLAG_PERSISTENT, &status);
	if (db == NULL) {
		fprintf(stderr, "cannot attach %s: %s\n", argv[2],
			nt_errstr(status));
		return 1;
	}
	if (strcmp(cmd, "init") == 0) {
		return cmd_init(db, argc - 4, argv + 4);
	}
	if (strcmp(cmd, "move") == 0 && argc == 7) {
		return cmd_move(db, argv[4], argv[5], atol(argv[6]));
	}
	if (strcmp(cmd, "incr") == 0 && argc == 6) {
		return cmd_incr(db, argv[4], atol(argv[5]));
	}
	if (strcmp(cmd, "get") == 0 && argc == 5) {
		bool found;
		uint64_t v = get_num(db, argv[4], &found);
		if (found) {
			printf("%" PRIu64 "\n", v);
		} else {
			printf("none\n");
		}
		return 0;
	}
	if (strcmp(cmd, "sum") == 0 && argc == 4) {
		struct sum_state s = {0};
		status = dbwrap_traverse_read(db, sum_fn, &s, NULL);
		printf("records %d sum %" PRIu64 "\n", s.records, s.sum);
		return NT_STATUS_IS_OK(status) ? 0 : 1;
	}
	if (strcmp(cmd, "wait") == 0 && argc == 7) {
		uint64_t want = strtoull(argv[5], NULL, 10);
		int64_t start = now_ms(), end = start + atoi(argv[6]);
		do {
			bool found;
			if (get_num(db, argv[4], &found) == want && found) {
				printf("%" PRId64 " ms\n", now_ms() - start);
				return 0;
			}
			usleep(1000);
		} while (now_ms() < end);
		printf("not there after %s ms\n", argv[6]);
		return 1;
	}
	if (strcmp(cmd, "cancel") == 0 && argc == 5) {
		return cmd_cancel(db, argv[4]);
	}
	if (strcmp(cmd, "big") == 0 && argc == 6) {
		return cmd_big(db, atol(argv[4]), strtoul(argv[5], NULL, 10));
	}
	fprintf(stderr, "usage: see the comment in cldb_ptool.c\n");
	return 2;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	int rc = run(mem, argc, argv);

	talloc_free(mem);
	return rc;
}
