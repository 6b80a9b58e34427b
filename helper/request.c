/*
 * request.c - the steps every handler takes: answers, fields, records.
 * See request.h.
 */
#include "request.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "req_directory.h"
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

int load_user(struct req *r, struct user_record *u)
{
	int rc;

	if (r->dir)
		return member_load(r, u);
	rc = user_load(r->d->store, r->user, u);

	if (rc == 1)
		reply(r, RESULT_NOT_FOUND);
	else if (rc < 0)
		reply_detail(r, RESULT_INTERNAL, "the user's record could not be read");
	return rc;
}

bool commit(struct req *r, const struct user_record *u)
{
	if (user_save(r->d->store, u) == 0 && store_sync_released(r->d->store) == 0)
		return true;
	reply(r, RESULT_STORAGE);
	return false;
}

enum portal_state state_of(const struct req *r, const struct user_record *u,
			   enum pending_reason *why)
{
	return user_state(u, &r->cfg, r->now, why);
}
