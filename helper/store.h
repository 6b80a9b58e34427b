/*
 * store.h - the helper's GDBM database, as a small key/value layer.
 *
 * Keys are short strings with a prefix naming the record kind:
 *   "u:<user>"   a managed user          (user.c)
 *   "o:<id>"     an outbox entry         (outbox.c)
 *   "m:<name>"   metadata (schema version)
 * Values are proto field bodies (proto_begin_body/proto_parse_body), so
 * records and wire messages share one codec.
 *
 * GDBM is not thread-safe: every call below except store_open/close needs
 * store_lock held.  Writes are not durable until store_sync (fsync) returns
 * 0; nothing is acknowledged to a client before that.
 */
#ifndef PORTAL_STORE_H
#define PORTAL_STORE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "proto.h"

#define STORE_KEY_MAX 128

struct store;

/* Open or create (mode 0600) the database, owned by the effective uid;
 * recovers it when GDBM says it must.  A symbolic link, a file that is not
 * regular, one open to group or others or owned by anyone else is refused.
 * -1 with a message in err on failure. */
int store_open(struct store **s, const char *path, char *err, size_t errlen);
/* The same for a portald started as root that will run as `owner`: the
 * file may belong to owner, or to root and is then given to owner. */
int store_open_owned(struct store **s, const char *path, uid_t owner, gid_t group,
		     char *err, size_t errlen);
/* The files portald keeps beside its database (the database, its key):
 * opened without following a symbolic link (whoever could plant one would
 * choose what portald reads and overwrites), with flags (O_CREAT makes
 * it 0600).  -1 with err naming the file as `what`, errno kept. */
int store_open_private(const char *path, const char *what, int flags, char *err,
		       size_t errlen);
/* Such a file open on fd must be a regular file of the account portald
 * runs as (`owner`) or, while it is still root, of root (it is then given
 * to owner), open to nobody else.  st is filled; false with err. */
bool store_private_ok(int fd, const char *path, const char *what, uid_t owner,
		      struct stat *st, char *err, size_t errlen);
/* What store_open_owned would find wrong with the database file, without
 * making or changing it: 0 it is fine, 1 there is none yet (made at the
 * first start, or the folder is missing: errno ENOENT either way), -1
 * with err saying why portald would refuse it. */
int store_check(const char *path, uid_t owner, char *err, size_t errlen);
void store_close(struct store *s);

void store_lock(struct store *s);
/* store_lock if it is free: false, and not locked, when it is held. */
bool store_trylock(struct store *s);
void store_unlock(struct store *s);

/* 0 found (body copied into out as a bare body), 1 absent, -1 error. */
int store_get(struct store *s, const char *key, struct proto_buf *out);
/* 0 stored, -1 error (ENOSPC and friends: the caller answers RESULT_STORAGE). */
int store_put(struct store *s, const char *key, const struct proto_buf *body);
/* As store_put, but only when the key is not there yet: 0 stored, 1 there
 * already (nothing written), -1 error.  One look-up instead of a get and
 * a put: an import adds its users with it. */
int store_insert(struct store *s, const char *key, const struct proto_buf *body);
/* 0 deleted, 1 absent, -1 error. */
int store_del(struct store *s, const char *key);
/* Flush to disk; 0 or -1. */
int store_sync(struct store *s);
/* The same, letting go of the store lock during the flush itself (a few
 * milliseconds for a large batch), so that other requests are served
 * meanwhile and a flush covers their writes too.  Called with the lock
 * held, returns with it held; what was read under it may have changed. */
int store_sync_released(struct store *s);
/* Walk keys starting with prefix, in GDBM order.  `after` is the last key
 * returned (NULL or "" to start).  0 with the next key in key, 1 at the end,
 * -1 on error (also when `after` vanished meanwhile). */
int store_next(struct store *s, const char *prefix, const char *after,
	       char *key, size_t keycap);

#endif
