/*
 * request.c - the steps every handler takes: answers, fields, records.
 * See request.h.
 */
#include "request.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "outbox.h"
#include "req_directory.h"
#include "storage.h"
#include "store.h"

#define LOCK_MAIL_SPACING (24 * 3600)   /* one lock mail a day at most, per member */

/* ---- answers -------------------------------------------------------------- */

void reply(struct req *r, enum proto_result res)
{
	proto_begin(r->resp, PROTO_RESPONSE);
	proto_put_u32(r->resp, TAG_RESULT, res);
	r->result = res;
}

__attribute__((format(printf, 2, 3)))
void note(struct req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->note, sizeof r->note, fmt, ap);
	va_end(ap);
}

void reply_detail(struct req *r, enum proto_result res, const char *detail)
{
	reply(r, res);
	proto_put_str(r->resp, TAG_DETAIL, detail);
	note(r, "%s", detail);
}

void reply_locked(struct req *r, const struct user_record *u)
{
	uint64_t until = lockout_end(u, &r->cfg, r->now, r->source);

	reply(r, RESULT_LOCKED);
	/* A lock ending as we answer still ends: never 0, "no end". */
	proto_put_u64(r->resp, TAG_UNTIL, until ? until : (uint64_t)r->now + 1);
}

/* ---- fields --------------------------------------------------------------- */

bool need_str(struct req *r, uint8_t tag, const char *name, char *out, size_t cap,
	      bool (*ok)(const char *))
{
	if (!proto_find(r->msg, tag)) {
		reply_detail(r, RESULT_BAD_REQUEST, name);
		return false;
	}
	if (!proto_get_str(r->msg, tag, out, cap) || !ok(out)) {
		reply_detail(r, RESULT_INVALID, name);
		return false;
	}
	return true;
}

bool opt_str(struct req *r, uint8_t tag, const char *name, char *out, size_t cap,
	     bool (*ok)(const char *))
{
	out[0] = '\0';
	return !proto_find(r->msg, tag) || need_str(r, tag, name, out, cap, ok);
}

static bool lang_ok(const char *s)
{
	enum lang l;

	return lang_parse(s, &l);
}

bool opt_lang(struct req *r, enum lang *l)
{
	char s[4];

	*l = r->cfg.language;
	if (!opt_str(r, TAG_LANG, "lang", s, sizeof s, lang_ok))
		return false;
	if (s[0])
		lang_parse(s, l);
	return true;
}

bool host_ok(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

const struct proto_field *need_secret(struct req *r, uint8_t tag, const char *name)
{
	const struct proto_field *f = proto_find(r->msg, tag);

	if (!f)
		reply_detail(r, RESULT_BAD_REQUEST, name);
	return f;
}

/* ---- records -------------------------------------------------------------- */

/* What a storage call left: 0 done, 1 absent, -1 after answering. */
static int loaded(struct req *r, int rc, const time_t *now)
{
	if (rc == STORAGE_OK || rc == STORAGE_ABSENT)
		r->now = *now;
	if (rc == STORAGE_ABSENT)
		reply(r, RESULT_NOT_FOUND);
	else if (rc != STORAGE_OK)
		reply_detail(r, RESULT_INTERNAL, "the user's record could not be read");
	if (rc == STORAGE_BUSY)
		r->busy = true;
	else if (rc < 0)
		r->txn_rc = rc;     /* storage_txn may run it again, reconnected */
	return rc == STORAGE_OK ? 0 : rc == STORAGE_ABSENT ? 1 : -1;
}

int load_user(struct req *r, struct user_record *u)
{
	time_t now = 0;
	int rc;

	if (r->dir && (rc = member_known(r)) != 0)
		return rc;
	rc = loaded(r, storage_member_begin(r->sc, r->user, u, &now), &now);
	return r->dir ? member_load(r, u, rc) : rc;
}

int read_user(struct req *r, struct user_record *u)
{
	time_t now = 0;
	int rc;

	if (r->dir && (rc = member_known(r)) != 0)
		return rc;
	rc = loaded(r, storage_member_read(r->sc, r->user, u, &now), &now);
	return r->dir ? member_load(r, u, rc) : rc;
}

/* A write's outcome: the transaction is to be committed, or was ended. */
static bool written(struct req *r, int rc)
{
	r->wrote = true;
	r->txn_rc = rc;
	if (rc == STORAGE_OK)
		return true;
	if (rc == STORAGE_EXISTS) {
		reply(r, RESULT_EXISTS);
		r->txn_rc = STORAGE_ABSENT;
	} else {
		reply(r, RESULT_STORAGE);
	}
	return false;
}

bool commit(struct req *r, const struct user_record *u)
{
	/* A member of the directory's first record. */
	if (r->dir_new) {
		r->dir_new = false;
		return written(r, storage_member_insert(r->sc, u));
	}
	return written(r, storage_member_write(r->sc, u));
}

bool insert_user(struct req *r, const struct user_record *u)
{
	return written(r, storage_member_insert(r->sc, u));
}

bool delete_user(struct req *r)
{
	return written(r, storage_member_delete(r->sc, r->user));
}

void mail_begin(struct req *r)
{
	if (r->cfg.store == STORE_POSTGRESQL)
		store_lock(r->d->store);
}

bool mail_done(struct req *r)
{
	bool ok = true;

	if (r->cfg.store == STORE_POSTGRESQL) {
		ok = store_sync_released(r->d->store) == 0;
		store_unlock(r->d->store);
	}
	return ok;
}

enum portal_state state_of(const struct req *r, const struct user_record *u,
			   enum pending_reason *why)
{
	return user_state(u, &r->cfg, r->now, r->source, why);
}

/* Printable ASCII, as a host name, an address, a terminal or a service is. */
static bool source_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < ' ' || *s > '~')
			return false;
	return true;
}

bool read_source(struct req *r)
{
	if (!r->privileged) {
		snprintf(r->source, sizeof r->source, "uid %u", (unsigned)r->peer->uid);
		return true;
	}
	if (!opt_str(r, TAG_SOURCE, "source", r->source, sizeof r->source, source_ok))
		return false;
	if (!r->source[0])
		snprintf(r->source, sizeof r->source, "%s", LOCKOUT_UNKNOWN);
	return true;
}

/* ---- failures --------------------------------------------------------------- */

/* The member is told of a lock by mail, once a day at most: whoever
 * brings the locks cannot flood the mailbox with them.  A time ahead of
 * the clock (set back) counts as recent. */
static void lock_mail(struct req *r, struct user_record *u, const struct lock_event *ev)
{
	enum lang lang = r->cfg.language;
	bool queued;

	if (u->lock_mailed && u->lock_mailed + LOCK_MAIL_SPACING > (uint64_t)r->now)
		return;
	mail_begin(r);
	queued = outbox_queue_lock(r->d->outbox, u->name, u->email, lang, (time_t)ev->until,
				   ev->everywhere ? NULL : r->source) == 0;
	if (!mail_done(r) || !queued)
		return;   /* logged; the lock holds all the same */
	u->lock_mailed = (uint64_t)r->now;
	r->mail_queued = true;
}

bool count_failure(struct req *r, struct user_record *u, bool member)
{
	struct lock_event ev;

	lockout_fail(u, &r->cfg, r->now, r->source, member, &ev);
	if (ev.locked) {
		log_msg(LOG_WARNING, "user %s locked %s%s for %llu s after %u failures in a row",
			u->name, ev.everywhere ? "from every source" : "from ",
			ev.everywhere ? "" : r->source,
			(unsigned long long)(ev.until - (uint64_t)r->now), ev.failures);
		lock_mail(r, u, &ev);
	}
	return lockout_end(u, &r->cfg, r->now, r->source) != 0;
}

void count_success(struct req *r, struct user_record *u)
{
	lockout_succeed(u, r->source);
}

/* When the next notice may go: now, while fewer than USER_NOTICES_HOUR
 * went in the last hour; else when the oldest of them leaves the hour.
 * One held till then (the last time, ahead of the clock) is replaced by
 * the new one, at its time.  *replace says so.  Times far ahead of the
 * clock (set back) are dropped. */
static uint64_t notice_time(struct user_record *u, time_t now, bool *replace)
{
	uint64_t t = (uint64_t)now;
	unsigned kept = 0;

	for (unsigned i = 0; i < u->nnotices; i++)
		if (u->notices[i] + 3600 > t && u->notices[i] <= t + 3600)
			u->notices[kept++] = u->notices[i];
	u->nnotices = kept;
	*replace = kept > 0 && u->notices[kept - 1] > t;
	if (*replace)
		return u->notices[kept - 1];
	return kept < USER_NOTICES_HOUR ? t : u->notices[kept - USER_NOTICES_HOUR] + 3600;
}

/* A member who changes a password in a loop gets USER_NOTICES_HOUR
 * notices an hour at most; past that one waits, each new one taking its
 * place, so that the last change is told and the outbox holds one. */
bool queue_notice(struct req *r, struct user_record *u, enum lang lang, const char *host)
{
	bool replace;
	uint64_t at = notice_time(u, r->now, &replace);
	int rc;

	mail_begin(r);
	rc = outbox_queue_notice(r->d->outbox, u->name, u->email, lang, r->now, host,
				 at > (uint64_t)r->now ? (time_t)at : 0);
	if (!mail_done(r))
		rc = -1;
	if (rc == 0) {
		if (!replace && u->nnotices < USER_NOTICES_MAX)
			u->notices[u->nnotices++] = at;
		r->mail_queued = true;
	}
	return rc >= 0;
}
