/* unit_keys.c - the key file beside the database: made once, private,
 * refused when anything about it is off. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "check.h"
#include "keys.h"

static char dir[64], db[128], keyfile[160];

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
	struct portal_keys *k = keys_load(db, err, sizeof err), *again;
	struct stat st;

	CHECK("key file made on first start", k != NULL);
	CHECK("key file is 32 bytes, mode 0600", stat(keyfile, &st) == 0 &&
	      st.st_size == 32 && (st.st_mode & 07777) == 0600 && S_ISREG(st.st_mode));
	CHECK("code and outbox subkeys differ", k && memcmp(k->code, k->outbox, 32) != 0);
	again = keys_load(db, err, sizeof err);
	CHECK("second start reads the same keys", k && again &&
	      memcmp(k->code, again->code, 32) == 0 &&
	      memcmp(k->outbox, again->outbox, 32) == 0);
	keys_free(again);
	keys_free(k);
}

static void expect_refused(const char *name, const char *word)
{
	char err[512] = "";
	struct portal_keys *k = keys_load(db, err, sizeof err);

	CHECK(name, k == NULL && strstr(err, keyfile) && strstr(err, word));
	keys_free(k);
}

static void refusals(void)
{
	uint8_t key[32] = { 1 };

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
	char err[512], other[160];
	struct portal_keys *a, *b;

	a = keys_load(db, err, sizeof err);
	snprintf(other, sizeof other, "%s/other.db", dir);
	b = keys_load(other, err, sizeof err);
	CHECK("each database gets its own key", a && b && memcmp(a->code, b->code, 32) != 0);
	keys_free(a);
	keys_free(b);
	snprintf(other, sizeof other, "%s/other.db.key", dir);
	unlink(other);

	snprintf(other, sizeof other, "%s/missing/portal.db", dir);
	a = keys_load(other, err, sizeof err);
	CHECK("unwritable place reported", a == NULL && strstr(err, "cannot create"));
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/unit_keys.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(db, sizeof db, "%s/portal.db", dir);
	snprintf(keyfile, sizeof keyfile, "%s.key", db);
	first_start();
	refusals();
	other_database();
	unlink(keyfile);
	rmdir(dir);
	return check_done();
}
