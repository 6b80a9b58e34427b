/*
 * request.c - the steps every handler takes: answers, fields, records.
 * See request.h.
 */
#include "request.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "storage.h"
#include "store.h"

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
	reply(r, RESULT_LOCKED);
	proto_put_u64(r->resp, TAG_UNTIL, user_lock_end(u));
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

	return loaded(r, storage_member_begin(r->sc, r->user, u, &now), &now);
}

int read_user(struct req *r, struct user_record *u)
{
	time_t now = 0;

	return loaded(r, storage_member_read(r->sc, r->user, u, &now), &now);
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
	return user_state(u, &r->cfg, r->now, why);
}
