/*
 * The share-mode database (smbd/share_mode_db.c) on a real locking.tdb
 * in a temporary lock directory: store and reload, the [MS-FSA]
 * 2.1.5.1.2 share check, delete-pending, an empty record disappearing,
 * entries of a dead process dropped when the record is locked (and the
 * delete they owed carried out), the parent's per-pid cleanup, traverse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>

#include "dbwrap/dbwrap.h"
#include "lib/param/loadparm.h"
#include "smbd/share_mode_db.h"

struct fixture {
	char dir[64];
	char share[96];
	struct smb_conf conf;
	struct smbd_client *client; /* a talloc object, as in smbd */
};

static int setup(void **state)
{
	struct fixture *f = talloc_zero(NULL, struct fixture);

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/smdbtest.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->share, sizeof(f->share), "%s/share", f->dir);
	assert_int_equal(mkdir(f->share, 0755), 0);
	f->conf.global.lock_directory = f->dir;
	f->client = talloc_zero(f, struct smbd_client);
	assert_non_null(f->client);
	f->client->conf = &f->conf;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	/* locks still held by a failed test go first (newest first),
	 * then the client and its database */
	talloc_free(f);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct share_mode_entry entry(uint32_t pid, uint64_t file_id,
				     uint32_t access, uint32_t share,
				     const char *stream)
{
	struct share_mode_entry e = {
		.owner = { .pid = pid },
		.file_id = file_id,
		.access_mask = access,
		.share_access = share,
		.stream_name = (char *)stream,
	};
	return e;
}

/* A pid that certainly belongs to no process: a child that exited and
 * was reaped. */
static uint32_t dead_pid(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(0);
	}
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return (uint32_t)pid;
}

/* Store entries in one locked section (a later lock would already drop
 * the entries of dead owners). */
static void add_and_store2(struct fixture *f, uint64_t dev, uint64_t ino,
			   const struct share_mode_entry *e1,
			   const struct share_mode_entry *e2)
{
	struct share_mode_lock *lck =
		share_mode_lock_get(f, f->client, dev, ino);

	assert_non_null(lck);
	assert_true(NT_STATUS_IS_OK(share_mode_lock_set_path(lck, f->share,
							     "f")));
	assert_true(NT_STATUS_IS_OK(share_mode_lock_add_entry(lck, e1)));
	if (e2 != NULL) {
		assert_true(
			NT_STATUS_IS_OK(share_mode_lock_add_entry(lck, e2)));
	}
	assert_true(NT_STATUS_IS_OK(share_mode_lock_store(lck)));
	talloc_free(lck);
}

static void add_and_store(struct fixture *f, uint64_t dev, uint64_t ino,
			  const struct share_mode_entry *e)
{
	add_and_store2(f, dev, ino, e, NULL);
}

static void test_store_reload(void **state)
{
	struct fixture *f = *state;
	struct share_mode_entry e =
		entry(getpid(), 7, SEC_FILE_READ_DATA, FILE_SHARE_READ, NULL);
	struct share_mode_lock *lck;
	uint8_t key[SHARE_MODE_KEY_SIZE];

	lck = share_mode_lock_get(f, f->client, 1, 2);
	assert_non_null(lck);
	assert_true(lck->fresh);
	assert_int_equal(lck->data->num_entries, 0);
	talloc_free(lck);

	add_and_store(f, 1, 2, &e);
	lck = share_mode_lock_get(f, f->client, 1, 2);
	assert_non_null(lck);
	assert_false(lck->fresh);
	assert_int_equal(lck->data->num_entries, 1);
	assert_int_equal(lck->data->seqnum, 1);
	assert_string_equal(lck->data->relpath, "f");
	assert_non_null(share_mode_lock_find(lck, &e.owner, 7));
	assert_null(share_mode_lock_find(lck, &e.owner, 8));

	/* the last entry gone: the record goes */
	assert_true(share_mode_lock_remove(lck, &e.owner, 7));
	assert_false(share_mode_lock_remove(lck, &e.owner, 7));
	assert_true(NT_STATUS_IS_OK(share_mode_lock_store(lck)));
	talloc_free(lck);
	share_mode_key_push(key, 1, 2);
	assert_false(dbwrap_exists(share_mode_db(f->client),
				   db_data_make(key, sizeof(key))));
}

static void test_check(void **state)
{
	struct fixture *f = *state;
	struct share_mode_entry e = entry(getpid(), 1,
					  SEC_FILE_READ_DATA |
						  SEC_FILE_WRITE_DATA,
					  FILE_SHARE_READ, NULL);
	struct share_mode_lock *lck;

	add_and_store(f, 3, 4, &e);
	lck = share_mode_lock_get(f, f->client, 3, 4);
	assert_non_null(lck);
	/* writing is not shared */
	assert_true(NT_STATUS_EQUAL(
		share_mode_lock_check(lck, NULL, SEC_FILE_WRITE_DATA,
				      FILE_SHARE_READ | FILE_SHARE_WRITE),
		NT_STATUS_SHARING_VIOLATION));
	/* reading is, but the new open must share writing: e writes */
	assert_true(NT_STATUS_EQUAL(
		share_mode_lock_check(lck, NULL, SEC_FILE_READ_DATA,
				      FILE_SHARE_READ),
		NT_STATUS_SHARING_VIOLATION));
	assert_true(NT_STATUS_IS_OK(
		share_mode_lock_check(lck, NULL, SEC_FILE_READ_DATA,
				      FILE_SHARE_READ | FILE_SHARE_WRITE)));
	/* attributes only never conflict */
	assert_true(NT_STATUS_IS_OK(share_mode_lock_check(
		lck, NULL, SEC_FILE_READ_ATTRIBUTE, 0)));
	/* another stream is another file for share modes */
	assert_true(NT_STATUS_IS_OK(share_mode_lock_check(
		lck, "s:$DATA", SEC_FILE_WRITE_DATA, 0)));
	/* delete-pending refuses everything, streams too */
	assert_true(NT_STATUS_IS_OK(
		share_mode_data_set_delete(lck->data, NULL, true, 0)));
	assert_true(NT_STATUS_EQUAL(
		share_mode_lock_check(lck, NULL, SEC_FILE_READ_ATTRIBUTE, 7),
		NT_STATUS_DELETE_PENDING));
	assert_true(NT_STATUS_EQUAL(
		share_mode_lock_check(lck, "s:$DATA", SEC_FILE_READ_DATA, 7),
		NT_STATUS_DELETE_PENDING));
	lck->modified = false;
	talloc_free(lck);
}

/* Deleting the file deletes its streams: a stream open that does not
 * share delete refuses DELETE on the base file (smb2.streams.delete),
 * not on another stream. */
static void test_stream_refuses_base_delete(void **state)
{
	struct fixture *f = *state;
	struct share_mode_entry st =
		entry(getpid(), 2, SEC_FILE_READ_DATA,
		      FILE_SHARE_READ | FILE_SHARE_WRITE, "t:$DATA");
	struct share_mode_lock *lck;

	add_and_store(f, 3, 5, &st);
	lck = share_mode_lock_get(f, f->client, 3, 5);
	assert_non_null(lck);
	assert_true(NT_STATUS_EQUAL(
		share_mode_lock_check(lck, NULL, SEC_STD_DELETE, 7),
		NT_STATUS_SHARING_VIOLATION));
	assert_true(NT_STATUS_IS_OK(
		share_mode_lock_check(lck, NULL, SEC_FILE_WRITE_DATA, 7)));
	assert_true(NT_STATUS_IS_OK(
		share_mode_lock_check(lck, "u:$DATA", SEC_STD_DELETE, 7)));
	talloc_free(lck);
}

static void test_dead_owner_dropped(void **state)
{
	struct fixture *f = *state;
	uint32_t dead = dead_pid();
	struct share_mode_entry e1 =
		entry(dead, 1, SEC_FILE_WRITE_DATA, 0, NULL);
	struct share_mode_entry e2 =
		entry(getpid(), 2, SEC_FILE_READ_DATA, 7, NULL);
	struct share_mode_lock *lck;

	add_and_store2(f, 5, 6, &e1, &e2);
	lck = share_mode_lock_get(f, f->client, 5, 6);
	assert_non_null(lck);
	assert_int_equal(lck->data->num_entries, 1);
	assert_int_equal(lck->data->entries[0].file_id, 2);
	assert_true(lck->modified);
	assert_false(lck->file_deleted);
	/* the dead writer no longer blocks */
	assert_true(NT_STATUS_IS_OK(
		share_mode_lock_check(lck, NULL, SEC_FILE_WRITE_DATA, 7)));
	talloc_free(lck);
}

static void test_dead_owner_delete_carried_out(void **state)
{
	struct fixture *f = *state;
	char path[160];
	struct stat st;
	struct share_mode_entry e;
	struct share_mode_lock *lck;
	uint64_t dev;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/f", f->share);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(stat(path, &st), 0);
	dev = ((uint64_t)major(st.st_dev) << 32) | minor(st.st_dev);

	e = entry(dead_pid(), 9, SEC_STD_DELETE, 7, NULL);
	lck = share_mode_lock_get(f, f->client, dev, st.st_ino);
	assert_non_null(lck);
	assert_true(NT_STATUS_IS_OK(share_mode_lock_set_path(lck, f->share,
							     "f")));
	assert_true(NT_STATUS_IS_OK(share_mode_lock_add_entry(lck, &e)));
	assert_true(NT_STATUS_IS_OK(
		share_mode_data_set_delete(lck->data, "", true, 0)));
	assert_true(NT_STATUS_IS_OK(share_mode_lock_store(lck)));
	talloc_free(lck);
	assert_int_equal(access(path, F_OK), 0);

	/* the next locker finds the owner dead and the file pending */
	lck = share_mode_lock_get(f, f->client, dev, st.st_ino);
	assert_non_null(lck);
	assert_true(lck->file_deleted);
	assert_int_equal(lck->data->num_entries, 0);
	assert_int_equal(lck->data->num_deletes, 0);
	talloc_free(lck);
	assert_int_equal(access(path, F_OK), -1);
}

/* The dead owner's user could not have deleted the file (its directory
 * is root's and not writable by others): the cleanup, which runs as
 * root, keeps it too. */
static void test_dead_owner_delete_needs_permission(void **state)
{
	struct fixture *f = *state;
	char path[160];
	struct stat st;
	struct share_mode_entry e;
	struct share_mode_lock *lck;
	uint64_t dev;
	FILE *fp;

	assert_int_equal(chmod(f->share, 0755), 0);
	snprintf(path, sizeof(path), "%s/f", f->share);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(stat(path, &st), 0);
	dev = ((uint64_t)major(st.st_dev) << 32) | minor(st.st_dev);

	e = entry(dead_pid(), 9, SEC_STD_DELETE, 7, NULL);
	lck = share_mode_lock_get(f, f->client, dev, st.st_ino);
	assert_non_null(lck);
	assert_true(NT_STATUS_IS_OK(share_mode_lock_set_path(lck, f->share,
							     "f")));
	assert_true(NT_STATUS_IS_OK(share_mode_lock_add_entry(lck, &e)));
	assert_true(NT_STATUS_IS_OK(
		share_mode_data_set_delete(lck->data, "", true, 65534)));
	assert_true(NT_STATUS_IS_OK(share_mode_lock_store(lck)));
	talloc_free(lck);

	lck = share_mode_lock_get(f, f->client, dev, st.st_ino);
	assert_non_null(lck);
	assert_false(lck->file_deleted);
	assert_int_equal(lck->data->num_entries, 0);
	talloc_free(lck);
	assert_int_equal(access(path, F_OK), 0);

	/* with the directory writable for everyone, the same goes */
	assert_int_equal(chmod(f->share, 0777), 0);
	e = entry(dead_pid(), 10, SEC_STD_DELETE, 7, NULL);
	lck = share_mode_lock_get(f, f->client, dev, st.st_ino);
	assert_non_null(lck);
	assert_true(NT_STATUS_IS_OK(share_mode_lock_set_path(lck, f->share,
							     "f")));
	assert_true(NT_STATUS_IS_OK(share_mode_lock_add_entry(lck, &e)));
	assert_true(NT_STATUS_IS_OK(
		share_mode_data_set_delete(lck->data, "", true, 65534)));
	assert_true(NT_STATUS_IS_OK(share_mode_lock_store(lck)));
	talloc_free(lck);
	lck = share_mode_lock_get(f, f->client, dev, st.st_ino);
	assert_non_null(lck);
	assert_true(lck->file_deleted);
	talloc_free(lck);
	assert_int_equal(access(path, F_OK), -1);
}

static int count_fn(uint64_t dev, uint64_t ino,
		    const struct share_mode_data *d, void *private_data)
{
	int *n = private_data;

	(*n) += (int)d->num_entries;
	return 0;
}

static void test_cleanup_owner_and_forall(void **state)
{
	struct fixture *f = *state;
	pid_t child = fork();
	uint32_t victim = (uint32_t)child; /* alive until the end */
	struct share_mode_entry a = entry(victim, 1, SEC_FILE_READ_DATA, 7,
					  NULL);
	struct share_mode_entry b = entry(victim, 2, SEC_FILE_READ_DATA, 7,
					  "s:$DATA");
	struct share_mode_entry c = entry(getpid(), 3, SEC_FILE_READ_DATA, 7,
					  NULL);
	int n = 0;

	assert_true(child >= 0);
	if (child == 0) {
		alarm(60); /* bounded even if the test fails half way */
		pause();
		_exit(0);
	}
	add_and_store2(f, 10, 1, &a, &c);
	add_and_store(f, 11, 1, &b);
	assert_true(NT_STATUS_IS_OK(share_mode_forall(f->client, count_fn,
						      &n)));
	assert_int_equal(n, 3);
	assert_int_equal(share_mode_cleanup_owner(share_mode_db(f->client),
						  0, (pid_t)victim),
			 2);
	n = 0;
	assert_true(NT_STATUS_IS_OK(share_mode_forall(f->client, count_fn,
						      &n)));
	assert_int_equal(n, 1);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_reload, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_refuses_base_delete,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_owner_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_dead_owner_delete_carried_out, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_dead_owner_delete_needs_permission, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_owner_and_forall,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
