/*
 * store.c - the helper's GDBM database behind one mutex.
 *
 * GDBM writes every change through to the file when gdbm_store or
 * gdbm_delete returns, so a killed process loses nothing the kernel has;
 * store_sync (fsync) makes it survive a power cut as well, and callers
 * acknowledge nothing before it.  Values may hold secrets (hashes of live
 * codes, encrypted mail): each copy GDBM hands us is wiped before it is
 * freed.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <gdbm.h>
#include <sodium.h>
#include "log.h"

#define STORE_MODE 0600
#define STORE_SPARE (64 * 1024)   /* free space kept beyond one update's worst */

struct store {
	GDBM_FILE db;
	pthread_mutex_t mu;
	unsigned recoveries;   /* the file may have been replaced: see store_sync_released */
};

static void free_datum(datum *d)
{
	if (d->dptr) {
		sodium_memzero(d->dptr, (size_t)d->dsize);
		free(d->dptr);
	}
	d->dptr = NULL;
	d->dsize = 0;
}

static datum key_datum(const char *key)
{
	datum k = { (char *)key, (int)strlen(key) };

	return k;
}

__attribute__((format(printf, 2, 3)))
static void recover_report(void *data, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	(void)data;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_msg(LOG_WARNING, "database recovery: %s", line);
}

/* A failed write can leave the file inconsistent; GDBM then refuses every
 * call until it is recovered.  Do that at once (keeping a backup of the
 * damaged file) so the next request finds a working database. */
static void recover_if_needed(struct store *s)
{
	gdbm_recovery r;

	if (!gdbm_needs_recovery(s->db))
		return;
	memset(&r, 0, sizeof r);
	r.errfun = recover_report;
	s->recoveries++;
	log_msg(LOG_CRIT, "database needs recovery: %s; recovering",
		gdbm_db_strerror(s->db));
	if (gdbm_recover(s->db, &r, GDBM_RCVR_ERRFUN | GDBM_RCVR_BACKUP) == 0)
		log_msg(LOG_CRIT, "database recovered: %zu keys kept, %zu lost; "
			"the damaged file was saved as %s", r.recovered_keys,
			r.failed_keys, r.backup_name ? r.backup_name : "(none)");
	else
		log_msg(LOG_CRIT, "database recovery failed: %s",
			gdbm_db_strerror(s->db));
	free(r.backup_name);
}

/* Log a failed call and give GDBM its chance to recover. */
static int store_fail(struct store *s, const char *what, const char *key)
{
	log_msg(LOG_ERR, "database %s %s: %s", what, key ? key : "", gdbm_db_strerror(s->db));
	recover_if_needed(s);
	return -1;
}

int store_open_private(const char *path, const char *what, int flags, char *err,
		       size_t errlen)
{
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, STORE_MODE), e = errno;

	if (fd < 0)
		snprintf(err, errlen, "%s: cannot open %s: %s%s", path, what, strerror(e),
			 e == ELOOP ? " (a symbolic link: refused)" : "");
	errno = e;
	return fd;
}

bool store_private_ok(int fd, const char *path, const char *what, uid_t owner,
		      struct stat *st, char *err, size_t errlen)
{
	if (fstat(fd, st) < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st->st_mode))
		snprintf(err, errlen, "%s: %s is not a regular file", path, what);
	else if (st->st_uid != owner && st->st_uid != geteuid())
		snprintf(err, errlen, "%s: %s must be owned by uid %u, not %u",
			 path, what, (unsigned)owner, (unsigned)st->st_uid);
	else if (st->st_mode & (S_IRWXG | S_IRWXO))
		snprintf(err, errlen, "%s: %s is open to group or others (mode %04o); it must "
			 "be 0600, and what it holds may have leaked", path, what,
			 (unsigned)(st->st_mode & 07777));
	else
		return true;
	return false;
}

/* The database file, made when it is not there; given to owner when it is
 * root's.  -1 with err. */
static int open_file(const char *path, uid_t owner, gid_t group, char *err, size_t errlen)
{
	int fd = store_open_private(path, "the database", O_RDWR | O_CREAT, err, errlen);
	struct stat st;

	if (fd < 0)
		return -1;
	if (!store_private_ok(fd, path, "the database", owner, &st, err, errlen)) {
		/* err says why */
	} else if (st.st_uid != owner && fchown(fd, owner, group) < 0) {
		snprintf(err, errlen, "%s: cannot give the database to uid %u: %s", path,
			 (unsigned)owner, strerror(errno));
	} else {
		return fd;
	}
	close(fd);
	return -1;
}

int store_check(const char *path, uid_t owner, char *err, size_t errlen)
{
	int fd = store_open_private(path, "the database", O_RDONLY | O_NONBLOCK, err, errlen);
	struct stat st;
	bool ok;

	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	ok = store_private_ok(fd, path, "the database", owner, &st, err, errlen);
	close(fd);
	return ok ? 0 : -1;
}

int store_open(struct store **out, const char *path, char *err, size_t errlen)
{
	return store_open_owned(out, path, geteuid(), getegid(), err, errlen);
}

int store_open_owned(struct store **out, const char *path, uid_t owner, gid_t group,
		     char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof *s);
	int fd;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	fd = open_file(path, owner, group, err, errlen);
	if (fd < 0) {
		free(s);
		return -1;
	}
	/* GDBM_CLOERROR: the descriptor is GDBM's from here, closed on failure.
	 * GDBM_NOMMAP: with a memory map GDBM remaps the whole file each time
	 * it grows by a block, and a large import spends its time in page
	 * faults; plain reads and writes do not. */
	s->db = gdbm_fd_open(fd, path, 0, GDBM_WRCREAT | GDBM_CLOEXEC | GDBM_CLOERROR |
			     GDBM_NOMMAP, NULL);
	if (!s->db) {
		int e = gdbm_errno;

		if (gdbm_check_syserr(e))
			snprintf(err, errlen, "%s: %s: %s", path, gdbm_strerror(e),
				 strerror(errno));
		else
			snprintf(err, errlen, "%s: %s", path, gdbm_strerror(e));
		free(s);
		return -1;
	}
	recover_if_needed(s);
	pthread_mutex_init(&s->mu, NULL);
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (gdbm_close(s->db) != 0)
		log_msg(LOG_ERR, "database close: %s", gdbm_strerror(gdbm_errno));
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void store_lock(struct store *s)
{
	pthread_mutex_lock(&s->mu);
}

bool store_trylock(struct store *s)
{
	return pthread_mutex_trylock(&s->mu) == 0;
}

void store_unlock(struct store *s)
{
	pthread_mutex_unlock(&s->mu);
}

int store_get(struct store *s, const char *key, struct proto_buf *out)
{
	datum v = gdbm_fetch(s->db, key_datum(key));

	proto_begin_body(out);
	if (!v.dptr)
		return gdbm_last_errno(s->db) == GDBM_ITEM_NOT_FOUND ? 1
			: store_fail(s, "read", key);
	if (v.dsize < 0 || (size_t)v.dsize > PROTO_MAX_FRAME) {
		log_msg(LOG_ERR, "database read %s: record of %d bytes is too large", key, v.dsize);
		free_datum(&v);
		return -1;
	}
	memcpy(out->data, v.dptr, (size_t)v.dsize);
	out->len = (size_t)v.dsize;
	free_datum(&v);
	return 0;
}

/* A write that runs out of disk space half way leaves the file as GDBM
 * had begun to change it (a bucket split written, the directory not):
 * GDBM then refuses even reads until a recovery, which needs room for a
 * copy of the whole file and may drop keys.  So a change is refused
 * before GDBM starts it unless the file system has room for the worst
 * one update can take: the record, a bucket split, the directory
 * doubling, and a margin.  True (with errno ENOSPC, after logging) when
 * there is not; the caller answers RESULT_STORAGE and nothing was touched. */
static bool no_room(struct store *s, const char *what, const char *key, size_t len)
{
	int depth = 0, block = 0;
	unsigned long long need, have;
	struct statvfs fs;

	if (gdbm_setopt(s->db, GDBM_GETDIRDEPTH, &depth, sizeof depth) != 0 ||
	    gdbm_setopt(s->db, GDBM_GETBLOCKSIZE, &block, sizeof block) != 0 ||
	    depth < 0 || depth > 40 || block < 0 ||
	    fstatvfs(gdbm_fdesc(s->db), &fs) != 0)
		return false;     /* cannot tell: let GDBM try */
	need = 2 * (sizeof(off_t) << depth) + 4ULL * (unsigned)block + len + STORE_SPARE;
	have = (unsigned long long)fs.f_bavail * fs.f_frsize;
	if (have >= need)
		return false;
	log_msg(LOG_ERR, "database %s %s: refused: %llu bytes free where the database is, "
		"%llu needed", what, key, have, need);
	errno = ENOSPC;
	return true;
}

/* gdbm_store with GDBM_REPLACE or GDBM_INSERT: 0 stored, 1 not (the key
 * is there and flag is GDBM_INSERT), -1 error. */
static int put(struct store *s, const char *key, const struct proto_buf *body, int flag)
{
	datum v = { (char *)body->data, (int)body->len };
	int rc;

	if (body->overflow || body->len > PROTO_MAX_FRAME) {
		log_msg(LOG_ERR, "database write %s: record too large", key);
		return -1;
	}
	if (no_room(s, "write", key, body->len))
		return -1;
	rc = gdbm_store(s->db, key_datum(key), v, flag);
	return rc < 0 ? store_fail(s, "write", key) : rc;
}

int store_put(struct store *s, const char *key, const struct proto_buf *body)
{
	return put(s, key, body, GDBM_REPLACE);
}

int store_insert(struct store *s, const char *key, const struct proto_buf *body)
{
	return put(s, key, body, GDBM_INSERT);
}

int store_del(struct store *s, const char *key)
{
	if (no_room(s, "delete", key, 0))
		return -1;
	if (gdbm_delete(s->db, key_datum(key)) == 0)
		return 0;
	if (gdbm_last_errno(s->db) == GDBM_ITEM_NOT_FOUND)
		return 1;
	return store_fail(s, "delete", key);
}

int store_sync(struct store *s)
{
	if (gdbm_sync(s->db) != 0)
		return store_fail(s, "sync", NULL);
	return 0;
}

/* Without a memory map (store_open), every write is in the kernel once
 * gdbm_store returns, so an fsync of the file makes it durable, and it
 * needs no GDBM state.  The descriptor is a duplicate: a recovery may
 * replace GDBM's meanwhile.  A duplicate shares the file's error state,
 * so an error seen here is reported here and not left for a later sync. */
int store_sync_released(struct store *s)
{
	unsigned recoveries = s->recoveries;
	int fd = dup(gdbm_fdesc(s->db)), rc, e;

	if (fd < 0)
		return store_sync(s);
	pthread_mutex_unlock(&s->mu);
	rc = fsync(fd);
	e = errno;
	close(fd);
	pthread_mutex_lock(&s->mu);
	if (rc != 0) {
		log_msg(LOG_ERR, "database sync: %s", strerror(e));
		return -1;
	}
	/* Writes that a recovery copied into a new file: sync that one. */
	return s->recoveries == recoveries ? 0 : store_sync(s);
}

/* Copy a key found by a walk; -1 if it cannot be a key of ours. */
static int copy_key(const datum *k, char *key, size_t keycap, const char *prefix)
{
	if ((size_t)k->dsize >= keycap || memchr(k->dptr, '\0', (size_t)k->dsize)) {
		log_msg(LOG_ERR, "database walk: a key under %s is too long or holds a NUL",
			prefix);
		return -1;
	}
	memcpy(key, k->dptr, (size_t)k->dsize);
	key[k->dsize] = '\0';
	return 0;
}

int store_next(struct store *s, const char *prefix, const char *after,
	       char *key, size_t keycap)
{
	size_t plen = strlen(prefix);
	datum k;

	if (after && after[0]) {
		/* GDBM says "not found" both at the end and for a key that is
		 * gone: tell them apart first. */
		if (!gdbm_exists(s->db, key_datum(after))) {
			gdbm_error e = gdbm_last_errno(s->db);

			if (e != GDBM_NO_ERROR && e != GDBM_ITEM_NOT_FOUND)
				return store_fail(s, "walk", after);
			return -1;
		}
		k = gdbm_nextkey(s->db, key_datum(after));
	} else {
		k = gdbm_firstkey(s->db);
	}
	/* Keys come in hash order: skip those of other kinds. */
	while (k.dptr) {
		datum next;

		if ((size_t)k.dsize >= plen && memcmp(k.dptr, prefix, plen) == 0) {
			int rc = copy_key(&k, key, keycap, prefix);

			free_datum(&k);
			return rc;
		}
		next = gdbm_nextkey(s->db, k);
		free_datum(&k);
		k = next;
	}
	if (gdbm_last_errno(s->db) == GDBM_ITEM_NOT_FOUND)
		return 1;
	return store_fail(s, "walk", prefix);
}
