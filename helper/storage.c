/*
 * storage.c - the storage interface: the backend the configuration names,
 * each call handed to it, and the one retry loop every transaction runs
 * in.  See storage.h.
 */
#include "storage.h"

#include <stdio.h>
#include "clock.h"

struct storage *storage_open(const struct portal_config *cfg, struct store *gdbm,
			     uid_t owner, char *err, size_t errlen)
{
	if (cfg->store == STORE_POSTGRESQL)
		return storage_pg_open(cfg, owner, err, errlen);
	return storage_gdbm_open(cfg, gdbm, err, errlen);
}

int storage_check(const struct portal_config *cfg, uid_t owner, char *err, size_t errlen)
{
	struct storage *st;

	if (cfg->store != STORE_POSTGRESQL)
		return 0;
	st = storage_pg_open(cfg, owner, err, errlen);
	storage_close(st);
	return st ? 0 : -1;
}

void storage_close(struct storage *st)
{
	if (st)
		st->ops->close(st);
}

const char *storage_name(const struct storage *st)
{
	return st->ops->name;
}

struct storage_conn *storage_connect(struct storage *st, char *err, size_t errlen)
{
	err[0] = '\0';
	return st->ops->connect(st, err, errlen);
}

void storage_disconnect(struct storage_conn *c)
{
	if (c)
		c->st->ops->disconnect(c);
}

bool storage_reachable(struct storage *st, char *why, size_t cap)
{
	return st->ops->reachable(st, why, cap);
}

int storage_agree(struct storage_conn *c, const struct storage_setting *set, size_t n,
		  char *err, size_t errlen)
{
	err[0] = '\0';
	return c->st->ops->agree ? c->st->ops->agree(c, set, n, err, errlen) : STORAGE_OK;
}

int storage_member_begin(struct storage_conn *c, const char *name, struct user_record *u,
			 time_t *now)
{
	return c->st->ops->member_begin(c, name, u, now);
}

int storage_member_write(struct storage_conn *c, const struct user_record *u)
{
	return c->st->ops->member_write(c, u);
}

int storage_member_insert(struct storage_conn *c, const struct user_record *u)
{
	return c->st->ops->member_insert(c, u);
}

int storage_member_delete(struct storage_conn *c, const char *name)
{
	return c->st->ops->member_delete(c, name);
}

int storage_commit(struct storage_conn *c)
{
	return c->st->ops->commit(c);
}

void storage_rollback(struct storage_conn *c)
{
	c->st->ops->rollback(c);
}

int storage_member_read(struct storage_conn *c, const char *name, struct user_record *u,
			time_t *now)
{
	return c->st->ops->member_read(c, name, u, now);
}

int storage_member_next(struct storage_conn *c, const char *after, struct user_record *u)
{
	return c->st->ops->member_next(c, after, u);
}

int storage_now(struct storage_conn *c, time_t *now)
{
	return c->st->ops->now(c, now);
}

int storage_mail_queue(struct storage_conn *c, struct storage_mail *m)
{
	return c->st->ops->mail_queue(c, m);
}

int storage_mail_claim(struct storage_conn *c, unsigned lease, struct storage_mail *out,
		       size_t max, size_t *n)
{
	return c->st->ops->mail_claim(c, lease, out, max, n);
}

int storage_mail_finish(struct storage_conn *c, const struct storage_mail *m)
{
	return c->st->ops->mail_finish(c, m);
}

int storage_mail_purge(struct storage_conn *c, time_t before, unsigned long *n)
{
	return c->st->ops->mail_purge(c, before, n);
}

int storage_mail_list(struct storage_conn *c, const char *cursor, struct storage_mail *out,
		      size_t max, size_t *n)
{
	return c->st->ops->mail_list(c, cursor, out, max, n);
}

int storage_mail_pending(struct storage_conn *c, unsigned long *n)
{
	return c->st->ops->mail_pending(c, n);
}

/* ---- the retry loop ---------------------------------------------------------- */

/* One run of fn, committed when it says so; ended either way. */
static int attempt(struct storage_conn *c, int (*fn)(struct storage_conn *c, void *arg),
		   void *arg)
{
	int rc = fn(c, arg);

	if (rc == STORAGE_OK)
		return storage_commit(c);
	storage_rollback(c);
	return rc;
}

/* Retry a serialization failure or a deadlock a few times (the other
 * transaction has ended by then), a lost connection or a server going
 * away once, after reconnecting (libpq tries every host of the conninfo:
 * after a failover, the new primary).  A COMMIT whose answer was lost is
 * never run again: the backend answers it unavailable (storage.h). */
int storage_txn(struct storage_conn *c, int (*fn)(struct storage_conn *c, void *arg),
		void *arg)
{
	long long deadline = clock_ms() + c->st->timeout_ms;
	unsigned retries = 0;
	bool reconnected = false;
	int rc;

	for (;;) {
		rc = attempt(c, fn, arg);
		if (rc >= 0 || clock_ms() >= deadline)
			break;
		if (rc == STORAGE_RETRY && retries < STORAGE_RETRIES) {
			retries++;
			continue;
		}
		if (rc == STORAGE_RECONNECT && !reconnected) {
			reconnected = true;
			if (c->st->ops->reconnect(c) == STORAGE_OK)
				continue;
		}
		break;
	}
	/* What is left to try again is for a later request: unavailable now. */
	return rc == STORAGE_RETRY || rc == STORAGE_RECONNECT ? STORAGE_UNAVAILABLE : rc;
}
