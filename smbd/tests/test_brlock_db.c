/*
 * The byte-range lock database (smbd/brlock_db.c) with a real brlock.tdb
 * in a temporary lock directory: conflicts between two opens, the
 * READ/WRITE check, release when an open is freed (its talloc
 * destructor), waiters told when their open goes, and the locks of a
 * process killed with SIGKILL (a forked child) ignored by I/O and dropped
 * by the next update, or removed by brl_cleanup_owner (what the smbd
 * parent does for a child it reaps).  No messaging context: liveness by
 * kill(pid, 0).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dbwrap/dbwrap.h"
#include "lib/param/loadparm.h"
#include "smbd/brlock.h"
#include "smbd/smbd.h"

struct fixture {
	TALLOC_CTX *mem;
	char dir[64];
	char file[96];
	struct smb_conf *conf;
	struct smb_conf_share *share;
};

/* One process's view: a client with a session and a tree. */
static struct smbd_tcon *make_tcon(struct fixture *f)
{
	struct smbd_client *client = talloc_zero(f->mem, struct smbd_client);
	struct smbd_session *session = talloc_zero(client, struct smbd_session);
	struct smbd_tcon *tcon = talloc_zero(session, struct smbd_tcon);

	assert_non_null(tcon);
	client->conf = f->conf;
	session->client = client;
	tcon->session = session;
	tcon->share = f->share;
	return tcon;
}

static struct smbd_open *make_open(struct smbd_tcon *tcon, const char *path,
				   uint64_t persistent_id)
{
	struct smbd_open *op = talloc_zero(tcon, struct smbd_open);

	assert_non_null(op);
	op->tcon = tcon;
	op->persistent_id = persistent_id;
	op->fd = talloc_zero(op, struct smbd_fd);
	op->fd->fd = open(path, O_RDWR);
	assert_true(op->fd->fd >= 0);
	op->fd->refs = 1;
	return op;
}

static int fd_close(struct smbd_open *op)
{
	close(op->fd->fd);
	return 0;
}

static NTSTATUS lock(struct smbd_open *op, uint64_t start, uint64_t len,
		     enum brl_op type, struct server_id *blocker)
{
	struct brl_elem e = { .start = start, .length = len, .op = type };
	struct db_record *rec = NULL;
	NTSTATUS status;

	status = smbd_brl_apply(op, op, &e, 1, type == BRL_OP_UNLOCK,
				blocker != NULL ? &rec : NULL, blocker);
	if (rec != NULL) {
		/* what a blocking LOCK would watch: still locked */
		assert_int_equal(NT_STATUS_V(status),
				 NT_STATUS_V(NT_STATUS_LOCK_NOT_GRANTED));
		talloc_free(rec);
	}
	return status;
}

#define ST_EQ(a, b) assert_int_equal(NT_STATUS_V(a), NT_STATUS_V(b))

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	f->mem = talloc_new(NULL);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_brlock_db.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->file, sizeof(f->file), "%s/data", f->dir);
	fd = open(f->file, O_CREAT | O_RDWR, 0600);
	assert_true(fd >= 0);
	close(fd);
	f->conf = talloc_zero(f->mem, struct smb_conf);
	f->conf->global.lock_directory = talloc_strdup(f->conf, f->dir);
	f->share = talloc_zero(f->mem, struct smb_conf_share);
	f->share->strict_locking = SMB_CONF_STRICT_LOCKING_AUTO;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	talloc_free(f->mem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	(void)system(cmd);
	free(f);
	return 0;
}

static bool record_exists(struct smbd_client *client, const char *file)
{
	struct stat st;
	uint8_t *key;
	size_t len;
	bool ret;

	assert_int_equal(stat(file, &st), 0);
	key = brl_key_make(NULL, brl_file_dev(st.st_dev), st.st_ino, NULL,
			   &len);
	ret = dbwrap_exists(client->brlock_db, db_data_make(key, len));
	talloc_free(key);
	return ret;
}

static void test_two_opens_and_release(void **state)
{
	struct fixture *f = *state;
	struct smbd_tcon *tcon = make_tcon(f);
	struct smbd_open *op1 = make_open(tcon, f->file, 1);
	struct smbd_open *op2 = make_open(tcon, f->file, 2);
	struct server_id blocker = { 0 };

	talloc_set_destructor(op1, fd_close);
	ST_EQ(lock(op1, 0, 10, BRL_OP_EXCLUSIVE, NULL), NT_STATUS_OK);
	ST_EQ(lock(op2, 5, 1, BRL_OP_SHARED, &blocker),
	      NT_STATUS_LOCK_NOT_GRANTED);
	assert_int_equal(blocker.pid, (uint32_t)getpid());
	ST_EQ(smbd_brl_check_io(op2, 9, 1, false),
	      NT_STATUS_FILE_LOCK_CONFLICT);
	ST_EQ(smbd_brl_check_io(op2, 10, 100, true), NT_STATUS_OK);
	ST_EQ(smbd_brl_check_io(op1, 0, 10, true), NT_STATUS_OK);
	assert_true(smbd_brl_file_has_locks(op2));

	/* 'strict locking = no': I/O ignores the locks */
	f->share->strict_locking = SMB_CONF_STRICT_LOCKING_NO;
	ST_EQ(smbd_brl_check_io(op2, 9, 1, true), NT_STATUS_OK);
	f->share->strict_locking = SMB_CONF_STRICT_LOCKING_AUTO;

	/* freeing the open (close, logoff, disconnect) drops its locks */
	talloc_free(op1);
	ST_EQ(lock(op2, 5, 1, BRL_OP_SHARED, &blocker), NT_STATUS_OK);
	ST_EQ(lock(op2, 5, 1, BRL_OP_UNLOCK, NULL), NT_STATUS_OK);
	ST_EQ(lock(op2, 5, 1, BRL_OP_UNLOCK, NULL),
	      NT_STATUS_RANGE_NOT_LOCKED);
	/* no locks, no record */
	assert_false(record_exists(tcon->session->client, f->file));
	assert_false(smbd_brl_file_has_locks(op2));
	close(op2->fd->fd);
	talloc_free(tcon);
}

static void told(void *private_data)
{
	int *n = private_data;

	(*n)++;
}

static void test_waiters_told_when_open_goes(void **state)
{
	struct fixture *f = *state;
	struct smbd_tcon *tcon = make_tcon(f);
	struct smbd_open *op = make_open(tcon, f->file, 7);
	struct smbd_brl_open *b = smbd_brl_open_get(op);
	int n = 0;
	void *w1, *w2;

	talloc_set_destructor(op, fd_close);
	assert_non_null(b);
	w1 = smbd_brl_open_add_waiter(tcon, b, told, &n);
	w2 = smbd_brl_open_add_waiter(tcon, b, told, &n);
	assert_non_null(w1);
	assert_non_null(w2);
	talloc_free(w2); /* unregistered: not told */
	talloc_free(op);
	assert_int_equal(n, 1);
	talloc_free(w1); /* after the open: must not touch it */
	talloc_free(tcon);
}

static pid_t locking_child(struct fixture *f, uint64_t start);

static void test_killed_holder(void **state)
{
	struct fixture *f = *state;
	struct smbd_tcon *tcon = make_tcon(f);
	struct smbd_open *op = make_open(tcon, f->file, 1);
	struct server_id blocker = { 0 };
	/* another smbd (its own client and database handle) holds
	 * [100, 110) through an open with the same persistent id */
	pid_t child = locking_child(f, 100);

	/* the same persistent id in another process is another owner */
	ST_EQ(lock(op, 105, 1, BRL_OP_SHARED, &blocker),
	      NT_STATUS_LOCK_NOT_GRANTED);
	assert_int_equal(blocker.pid, (uint32_t)child);
	ST_EQ(smbd_brl_check_io(op, 100, 1, false),
	      NT_STATUS_FILE_LOCK_CONFLICT);
	ST_EQ(lock(op, 100, 10, BRL_OP_UNLOCK, NULL),
	      NT_STATUS_RANGE_NOT_LOCKED);

	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, NULL, 0), child);

	/* I/O ignores the dead owner's lock before any cleanup */
	ST_EQ(smbd_brl_check_io(op, 100, 1, true), NT_STATUS_OK);
	assert_false(smbd_brl_file_has_locks(op));
	/* the next update drops it */
	ST_EQ(lock(op, 100, 10, BRL_OP_EXCLUSIVE, &blocker), NT_STATUS_OK);
	ST_EQ(lock(op, 100, 10, BRL_OP_UNLOCK, NULL), NT_STATUS_OK);
	assert_false(record_exists(tcon->session->client, f->file));
	close(op->fd->fd);
	talloc_free(tcon);
}

/* Freeing a client as a whole (its database handle may go before its
 * opens) must not touch the freed handle. */
static void test_client_freed_whole(void **state)
{
	struct fixture *f = *state;
	struct smbd_tcon *tcon = make_tcon(f);
	struct smbd_open *op = make_open(tcon, f->file, 1);

	talloc_set_destructor(op, fd_close);
	ST_EQ(lock(op, 0, 1, BRL_OP_EXCLUSIVE, NULL), NT_STATUS_OK);
	talloc_free(tcon->session->client);
}

/* A child that locks [start, start+10) and waits to be killed. */
static pid_t locking_child(struct fixture *f, uint64_t start)
{
	int ready[2];
	pid_t child;
	char c;

	assert_int_equal(pipe(ready), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct fixture cf = *f;
		struct smbd_open *cop;

		cf.mem = talloc_new(NULL);
		cop = make_open(make_tcon(&cf), f->file, 1);
		if (!NT_STATUS_IS_OK(lock(cop, start, 10, BRL_OP_EXCLUSIVE,
					  NULL))) {
			_exit(1);
		}
		(void)write(ready[1], "x", 1);
		for (;;) {
			pause();
		}
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return child;
}

/* What the smbd parent does for a child it reaps after a kill -9. */
static void test_cleanup_owner(void **state)
{
	struct fixture *f = *state;
	struct db_context *db;
	struct stat st;
	uint8_t *key;
	size_t len;
	pid_t a, b;

	a = locking_child(f, 0);
	b = locking_child(f, 100);
	db = brl_db_open(f->mem, NULL, f->conf);
	assert_non_null(db);
	assert_int_equal(stat(f->file, &st), 0);
	key = brl_key_make(f->mem, brl_file_dev(st.st_dev), st.st_ino,
			   NULL, &len);
	kill(a, SIGKILL);
	assert_int_equal(waitpid(a, NULL, 0), a);
	assert_int_equal(brl_cleanup_owner(db, 0, a), 1);
	assert_int_equal(brl_cleanup_owner(db, 0, a), 0);
	assert_int_equal(brl_cleanup_owner(db, 1, b), 0); /* other node */
	assert_true(dbwrap_exists(db, db_data_make(key, len)));
	kill(b, SIGKILL);
	assert_int_equal(waitpid(b, NULL, 0), b);
	assert_int_equal(brl_cleanup_owner(db, 0, b), 1);
	/* the last lock gone, the record too */
	assert_false(dbwrap_exists(db, db_data_make(key, len)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_opens_and_release,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_waiters_told_when_open_goes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_holder, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_owner, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_freed_whole,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
