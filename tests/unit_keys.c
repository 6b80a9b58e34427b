/* unit_keys.c - the key file (beside the database, or where key_file
 * says): made once, private, refused when anything about it is off or when
 * it is not the database's.  Each group of checks starts in
 * a scratch folder of its own, with no key file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "check.h"
#include "fixture.h"
#include "keys.h"
#include "store.h"

static char dir[128], db[192], keyfile[256];

static int write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, p, n);
	fchmod(fd, mode);
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

static void first_start(void)
{
	char err[512] = "";
	struct portal_keys *k = keys_load(keyfile, err, sizeof err), *again;
	struct stat st;

	CHECK("key file made on first start", k != NULL);
	CHECK("key file is 32 bytes, mode 0600", stat(keyfile, &st) == 0 &&
	      st.st_size == 32 && (st.st_mode & 07777) == 0600 && S_ISREG(st.st_mode));
	CHECK("code and outbox subkeys differ", k && memcmp(k->code, k->outbox, 32) != 0);
	again = keys_load(keyfile, err, sizeof err);
	CHECK("second start reads the same keys", k && again &&
	      memcmp(k->code, again->code, 32) == 0 &&
	      memcmp(k->outbox, again->outbox, 32) == 0);
	keys_free(again);
	keys_free(k);
}

static void expect_refused(const char *name, const char *word)
{
	char err[512] = "";
	struct portal_keys *k = keys_load(keyfile, err, sizeof err);

	CHECK(name, k == NULL && strstr(err, keyfile) && strstr(err, word));
	keys_free(k);
}

static void refusals(void)
{
	uint8_t key[32] = { 1 };
	char err[512] = "";

	keys_free(keys_load(keyfile, err, sizeof err));
	CHECK("refusals: a key file to begin with", access(keyfile, F_OK) == 0);
	chmod(keyfile, 0640);
	expect_refused("group-readable key file refused", "group or others");
	chmod(keyfile, 0604);
	expect_refused("world-readable key file refused", "group or others");
	unlink(keyfile);

	write_file(keyfile, key, 31, 0600);
	expect_refused("short key file refused", "31 bytes");
	unlink(keyfile);

	if (symlink("/etc/hostname", keyfile) == 0)
		expect_refused("symbolic link refused", "symbolic link");
	unlink(keyfile);

	mkdir(keyfile, 0700);
	expect_refused("directory refused", "not a regular file");
	rmdir(keyfile);
}

static void other_database(void)
{
	char err[512], other[256];
	struct portal_keys *a, *b;

	a = keys_load(keyfile, err, sizeof err);
	snprintf(other, sizeof other, "%s/other.db.key", dir);
	b = keys_load(other, err, sizeof err);
	CHECK("each database gets its own key", a && b && memcmp(a->code, b->code, 32) != 0);
	keys_free(a);
	keys_free(b);

	snprintf(other, sizeof other, "%s/missing/portal.key", dir);
	a = keys_load(other, err, sizeof err);
	CHECK("unwritable place reported", a == NULL && strstr(err, "cannot create"));
}

/* The database knows its key: the right one is taken, another refused,
 * and one of an older version (no check yet) is given the key in use. */
static void its_key(void)
{
	char err[512] = "", other[256];
	struct portal_keys *a = keys_load(keyfile, err, sizeof err), *b;
	struct store *st = NULL;

	snprintf(other, sizeof other, "%s/elsewhere.key", dir);
	b = keys_load(other, err, sizeof err);
	if (!a || !b || store_open(&st, db, err, sizeof err) < 0) {
		CHECK("its key: setup", false);
		keys_free(a);
		keys_free(b);
		return;
	}
	CHECK("a database without a check takes the key in use",
	      keys_match(a, st, keyfile, err, sizeof err) == 0);
	CHECK("... and then knows it", keys_match(a, st, keyfile, err, sizeof err) == 0);
	CHECK("another key is refused, and said so",
	      keys_match(b, st, other, err, sizeof err) < 0 && strstr(err, other) &&
	      strstr(err, "not the key of this database"));
	CHECK("the check tells nothing of the keys", memcmp(a->check, a->code, 32) != 0 &&
	      memcmp(a->check, a->outbox, 32) != 0);
	store_close(st);
	keys_free(a);
	keys_free(b);
}

static bool group_start(void)
{
	if (!scratch_make(dir, sizeof dir, "unit_keys"))
		return false;
	snprintf(db, sizeof db, "%s/portal.db", dir);
	snprintf(keyfile, sizeof keyfile, "%s.key", db);
	return true;
}

static void group_end(void)
{
	scratch_remove(dir);
}

int main(void)
{
	run_group("first start", group_start, first_start, group_end);
	run_group("refusals", group_start, refusals, group_end);
	run_group("other database", group_start, other_database, group_end);
	run_group("its key", group_start, its_key, group_end);
	return check_done();
}
