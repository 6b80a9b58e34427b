/*
 * keys.c - the master key file (key_file, beside the database unless the
 * configuration puts it elsewhere), the subkeys derived from it, and the
 * check that it is the database's.
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
#include "record.h"
#include "store.h"

#define KEY_MODE     0600
#define KDF_CONTEXT  "portald_"   /* crypto_kdf_CONTEXTBYTES characters */
#define CHECK_KEY    "m:key-check"
#define CHECK_TEXT   "the key of this portald database"

enum subkey_id { SUBKEY_CODE = 1, SUBKEY_OUTBOX = 2, SUBKEY_CHECK = 3 };

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

struct portal_keys *keys_load(const char *key_path, char *err, size_t errlen)
{
	return keys_load_owned(key_path, geteuid(), getegid(), err, errlen);
}

/* The subkeys of a master key, and the check value the database keeps. */
static void derive(struct portal_keys *k, const uint8_t master[crypto_kdf_KEYBYTES])
{
	uint8_t sub[crypto_generichash_KEYBYTES];

	crypto_kdf_derive_from_key(k->code, sizeof k->code, SUBKEY_CODE, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->outbox, sizeof k->outbox, SUBKEY_OUTBOX, KDF_CONTEXT,
				   master);
	crypto_kdf_derive_from_key(sub, sizeof sub, SUBKEY_CHECK, KDF_CONTEXT, master);
	crypto_generichash(k->check, sizeof k->check, (const uint8_t *)CHECK_TEXT,
			   strlen(CHECK_TEXT), sub, sizeof sub);
	sodium_memzero(sub, sizeof sub);
}

struct portal_keys *keys_load_owned(const char *key_path, uid_t owner, gid_t group,
				    char *err, size_t errlen)
{
	const char *path = key_path;
	uint8_t master[crypto_kdf_KEYBYTES];
	struct portal_keys *k = NULL;
	int made;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium could not be initialised");
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
		derive(k, master);
		sodium_mprotect_readonly(k);
	}
	sodium_memzero(master, sizeof master);
	return k;
}

int keys_check(const char *key_path, uid_t owner, char *err, size_t errlen)
{
	const char *path = key_path;
	struct stat st;
	bool ok;
	int fd;

	fd = open_key(path, err, errlen);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	ok = key_file_ok(fd, path, owner, &st, err, errlen);
	close(fd);
	return ok ? 0 : -1;
}

/* The check value the database holds: 0 read, 1 none yet, -1 error. */
static int read_check(struct store *st, uint8_t out[32])
{
	struct proto_buf b;
	struct proto_msg m;
	int rc = store_get(st, CHECK_KEY, &b);

	if (rc == 0 && (!proto_parse_body(b.data, b.len, &m) ||
			!proto_get_fixed(&m, REC_KEY_CHECK, out, 32)))
		rc = -1;
	return rc;
}

int keys_match(const struct portal_keys *k, struct store *st, const char *key_path,
	       char *err, size_t errlen)
{
	uint8_t held[32];
	struct proto_buf b;
	int rc;

	store_lock(st);
	rc = read_check(st, held);
	if (rc == 1) {
		proto_begin_body(&b);
		proto_put_bytes(&b, REC_KEY_CHECK, k->check, sizeof k->check);
		rc = store_put(st, CHECK_KEY, &b) == 0 && store_sync(st) == 0 ? 0 : -1;
		if (rc < 0)
			snprintf(err, errlen, "the database: cannot write the check of its key: %s",
				 strerror(errno));
	} else if (rc < 0) {
		snprintf(err, errlen, "the database: the check of its key cannot be read");
	} else if (sodium_memcmp(held, k->check, sizeof held) != 0) {
		snprintf(err, errlen, "%s is not the key of this database (made with another "
			 "key): put back the key file kept with it, or move the database away "
			 "to start afresh", key_path);
		rc = -1;
	}
	store_unlock(st);
	return rc;
}

void keys_free(struct portal_keys *k)
{
	/* sodium_free makes the pages writable again and wipes them. */
	if (k)
		sodium_free(k);
}
