/*
 * store_gdbm.c - the storage interface (storage.h) on this machine's GDBM
 * file: today's store lock is every member's transaction, the fsync made
 * without it (store_sync_released) its commit; the outbox is the sealed
 * queue of mailq.c, which this backend loads and owns.
 *
 * GDBM writes in place: a transaction's writes are in the file as soon as
 * they are made, and a rollback only lets the lock go.  The rules write a
 * member once, at the end of what they decide, as they always have.
 * Claims live in memory: on one machine a claim's holder is this process,
 * and a restart ends every claim with it.
 */
#include "store_gdbm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "log.h"

struct gdbm_session *gs(struct storage_conn *c)
{
	return (struct gdbm_session *)c;
}

struct gdbm_storage *gst(struct storage_conn *c)
{
	return (struct gdbm_storage *)c->st;
}

static int status_of(int rc)
{
	return rc < 0 ? STORAGE_ERROR : rc == 1 ? STORAGE_ABSENT : STORAGE_OK;
}

/* ---- members ------------------------------------------------------------------ */

static void lock(struct storage_conn *c)
{
	if (!gs(c)->locked)
		store_lock(gst(c)->st);
	gs(c)->locked = true;
}

/* Let the lock go, the writes made durable first: STORAGE_OK or ERROR. */
static int unlock(struct storage_conn *c, bool sync)
{
	struct gdbm_session *s = gs(c);
	int rc = STORAGE_OK;

	if (!s->locked)
		return STORAGE_OK;
	if (sync && s->dirty && store_sync_released(gst(c)->st) != 0)
		rc = STORAGE_ERROR;
	s->dirty = false;
	s->locked = false;
	store_unlock(gst(c)->st);
	return rc;
}

static int g_begin(struct storage_conn *c, const char *name, struct user_record *u,
		   time_t *now)
{
	int rc;

	lock(c);
	rc = status_of(user_load(gst(c)->st, name, u));
	if (now)
		*now = time(NULL);
	if (rc < 0)
		unlock(c, false);
	return rc;
}

static int g_write(struct storage_conn *c, const struct user_record *u)
{
	gs(c)->dirty = true;
	return user_save(gst(c)->st, u) == 0 ? STORAGE_OK : STORAGE_ERROR;
}

/* One change on its own, or inside the open transaction. */
static int alone_or_in(struct storage_conn *c, int rc, bool alone)
{
	gs(c)->dirty = gs(c)->dirty || rc == 0;
	if (alone) {
		int done = unlock(c, true);

		if (rc == 0 && done != STORAGE_OK)
			return done;
	}
	return rc;
}

static int g_insert(struct storage_conn *c, const struct user_record *u)
{
	bool alone = !gs(c)->locked;
	int rc;

	lock(c);
	rc = user_insert(gst(c)->st, u);
	rc = alone_or_in(c, rc, alone);
	return rc < 0 ? STORAGE_ERROR : rc == 1 ? STORAGE_EXISTS : STORAGE_OK;
}

static int g_delete(struct storage_conn *c, const char *name)
{
	bool alone = !gs(c)->locked;
	int rc;

	lock(c);
	rc = user_delete(gst(c)->st, name);
	return status_of(alone_or_in(c, rc, alone));
}

static int g_commit(struct storage_conn *c)
{
	return unlock(c, true);
}

static void g_rollback(struct storage_conn *c)
{
	unlock(c, false);
}

static int g_read(struct storage_conn *c, const char *name, struct user_record *u,
		  time_t *now)
{
	int rc;

	if (!c->nowait)
		store_lock(gst(c)->st);
	else if (!store_trylock(gst(c)->st))
		return STORAGE_BUSY;
	rc = status_of(user_load(gst(c)->st, name, u));
	store_unlock(gst(c)->st);
	if (now)
		*now = time(NULL);
	return rc;
}

/* GDBM's own order: the key after "u:<after>". */
static int g_next(struct storage_conn *c, const char *after, struct user_record *u)
{
	char from[STORE_KEY_MAX], key[STORE_KEY_MAX];
	int rc;

	snprintf(from, sizeof from, "%s%s", after[0] ? USER_PREFIX : "", after);
	store_lock(gst(c)->st);
	rc = store_next(gst(c)->st, USER_PREFIX, from, key, sizeof key);
	if (rc == 0)
		rc = user_load(gst(c)->st, key + strlen(USER_PREFIX), u);
	store_unlock(gst(c)->st);
	return status_of(rc);
}

static int g_now(struct storage_conn *c, time_t *now)
{
	(void)c;
	*now = time(NULL);
	return STORAGE_OK;
}

/* ---- sessions and opening ----------------------------------------------------------- */

static struct storage_conn *g_connect(struct storage *st, char *err, size_t errlen)
{
	struct gdbm_session *s = calloc(1, sizeof *s);

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base.st = st;
	return &s->base;
}

static void g_disconnect(struct storage_conn *c)
{
	unlock(c, false);
	free(c);
}

static int g_reconnect(struct storage_conn *c)
{
	(void)c;
	return STORAGE_OK;
}

static bool g_reachable(struct storage *st, char *why, size_t cap)
{
	(void)st;
	(void)why;
	(void)cap;
	return true;
}

static void g_close(struct storage *st)
{
	struct gdbm_storage *g = (struct gdbm_storage *)st;

	mailq_free(&g->q);
	free(g);
}

static const struct storage_ops gdbm_ops = {
	.name = "gdbm",
	.connect = g_connect, .disconnect = g_disconnect, .reconnect = g_reconnect,
	.member_begin = g_begin, .member_write = g_write, .member_insert = g_insert,
	.member_delete = g_delete, .commit = g_commit, .rollback = g_rollback,
	.member_read = g_read, .member_next = g_next, .now = g_now,
	.mail_queue = gdbm_mail_queue, .mail_claim = gdbm_mail_claim,
	.mail_finish = gdbm_mail_finish, .mail_purge = gdbm_mail_purge,
	.mail_list = gdbm_mail_list, .mail_pending = gdbm_mail_pending,
	.reachable = g_reachable, .close = g_close,
};

struct storage *storage_gdbm_open(const struct portal_config *cfg, struct store *st,
				  char *err, size_t errlen)
{
	struct gdbm_storage *g = calloc(1, sizeof *g);

	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->base.ops = &gdbm_ops;
	g->base.timeout_ms = cfg->postgresql_timeout * 1000;
	g->st = st;
	snprintf(g->host, sizeof g->host, "%s", cfg->host_name);
	/* The queue's boxes are opened above the interface: no key here. */
	if (mailq_load(&g->q, st, NULL, err, errlen) < 0) {
		free(g);
		return NULL;
	}
	return &g->base;
}
