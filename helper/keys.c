/*
 * keys.c - the master key file beside the database, and the subkeys
 * derived from it.
 *
 * The file holds 32 random bytes and nothing else.  It is made once, with
 * O_EXCL so two starts cannot race to different keys, and synced with its
 * directory before use: a code hashed or a mail sealed with a key that a
 * crash then loses could never be checked or sent.  A file that anyone but
 * its owner could read is refused rather than silently fixed, because the
 * key may already have leaked; the administrator must decide.
 *
 * The file belongs to the account portald runs as.  Started as root, portald
 * opens it before it becomes that account: a file root made (or an older
 * root-run portald made) is given to the account, so that it keeps working
 * when the service manager starts portald as that account directly.
 */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "store.h"

#define KEY_SUFFIX   ".key"
#define KEY_MODE     0600
#define KDF_CONTEXT  "portald_"   /* crypto_kdf_CONTEXTBYTES characters */

enum subkey_id { SUBKEY_CODE = 1, SUBKEY_OUTBOX = 2 };

static int key_path(const char *db_path, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%s", db_path, KEY_SUFFIX);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int sync_dir(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc;

	snprintf(copy, sizeof copy, "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Hand the open key file to the account portald runs as.  Only root can,
 * and only root needs to: any other caller is that account already. */
static int give_key(int fd, const char *path, uid_t owner, gid_t group, char *err,
		    size_t errlen)
{
	if (owner == geteuid() || fchown(fd, owner, group) == 0)
		return 0;
	snprintf(err, errlen, "%s: cannot give the key file to uid %u: %s", path,
		 (unsigned)owner, strerror(errno));
	return -1;
}

/* 0 made, 1 already there, -1 error. */
static int create_key(const char *path, uid_t owner, gid_t group,
		      uint8_t master[crypto_kdf_KEYBYTES], char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, KEY_MODE);

	if (fd < 0 && errno == EEXIST)
		return 1;
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create the key file: %s", path, strerror(errno));
		return -1;
	}
	crypto_kdf_keygen(master);
	if (give_key(fd, path, owner, group, err, errlen) < 0) {
		/* err says why */
	} else if (write_all(fd, master, crypto_kdf_KEYBYTES) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "%s: cannot write the key file: %s", path, strerror(errno));
	} else {
		close(fd);
		if (sync_dir(path) == 0)
			return 0;
		snprintf(err, errlen, "%s: cannot sync the key file's directory: %s",
			 path, strerror(errno));
		return -1;
	}
	close(fd);
	unlink(path);
	return -1;
}

/* The key file, as the database is: see store_open_private.  O_NONBLOCK:
 * a FIFO planted there must not hang the start. */
static int open_key(const char *path, char *err, size_t errlen)
{
	return store_open_private(path, "the key file", O_RDONLY | O_NONBLOCK, err, errlen);
}

/* The key file open on fd is private as the database is, and holds a key.
 * st is filled. */
static bool key_file_ok(int fd, const char *path, uid_t owner, struct stat *st, char *err,
			size_t errlen)
{
	if (!store_private_ok(fd, path, "the key file", owner, st, err, errlen))
		return false;
	if (st->st_size == crypto_kdf_KEYBYTES)
		return true;
	snprintf(err, errlen, "%s: the key file holds %lld bytes, not %d "
		 "(an interrupted first start? removing it loses queued mail and live codes)",
		 path, (long long)st->st_size, crypto_kdf_KEYBYTES);
	return false;
}

static int read_key(const char *path, uid_t owner, gid_t group,
		    uint8_t master[crypto_kdf_KEYBYTES], char *err, size_t errlen)
{
	int fd = open_key(path, err, errlen);
	struct stat st;
	ssize_t got;

	if (fd < 0)
		return -1;
	if (!key_file_ok(fd, path, owner, &st, err, errlen)) {
		/* err says why */
	} else if (st.st_uid == owner || give_key(fd, path, owner, group, err, errlen) == 0) {
		do
			got = read(fd, master, crypto_kdf_KEYBYTES);
		while (got < 0 && errno == EINTR);
		close(fd);
		if (got == crypto_kdf_KEYBYTES)
			return 0;
		snprintf(err, errlen, "%s: cannot read the key file: %s", path,
			 got < 0 ? strerror(errno) : "short read");
		return -1;
	}
	close(fd);
	return -1;
}

struct portal_keys *keys_load(const char *db_path, char *err, size_t errlen)
{
	return keys_load_owned(db_path, geteuid(), getegid(), err, errlen);
}

struct portal_keys *keys_load_owned(const char *db_path, uid_t owner, gid_t group,
				    char *err, size_t errlen)
{
	char path[PATH_MAX];
	uint8_t master[crypto_kdf_KEYBYTES];
	struct portal_keys *k = NULL;
	int made;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium could not be initialised");
		return NULL;
	}
	if (key_path(db_path, path, sizeof path) < 0) {
		snprintf(err, errlen, "%s: path too long for the key file", db_path);
		return NULL;
	}
	made = create_key(path, owner, group, master, err, errlen);
	if (made == 1)
		made = read_key(path, owner, group, master, err, errlen);
	if (made == 0) {
		k = sodium_malloc(sizeof *k);
		if (!k)
			snprintf(err, errlen, "no locked memory for the keys");
	}
	if (k) {
		crypto_kdf_derive_from_key(k->code, sizeof k->code, SUBKEY_CODE, KDF_CONTEXT, master);
		crypto_kdf_derive_from_key(k->outbox, sizeof k->outbox, SUBKEY_OUTBOX,
					   KDF_CONTEXT, master);
		sodium_mprotect_readonly(k);
	}
	sodium_memzero(master, sizeof master);
	return k;
}

int keys_check(const char *db_path, uid_t owner, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	bool ok;
	int fd;

	if (key_path(db_path, path, sizeof path) < 0) {
		snprintf(err, errlen, "%s: path too long for the key file", db_path);
		return -1;
	}
	fd = open_key(path, err, errlen);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	ok = key_file_ok(fd, path, owner, &st, err, errlen);
	close(fd);
	return ok ? 0 : -1;
}

void keys_free(struct portal_keys *k)
{
	/* sodium_free makes the pages writable again and wipes them. */
	if (k)
		sodium_free(k);
}
