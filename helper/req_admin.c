/*
 * req_admin.c - the administration requests, root's (portalctl's): the
 * members one by one and listed, the outbox, the helper's own status.
 */
#include <string.h>
#include <sodium.h>
#include "handlers.h"
#include "outbox.h"
#include "req_directory.h"
#include "store.h"
#include "valid.h"
#include "version.h"

/* ---- members -------------------------------------------------------------- */

void h_user_add(struct req *r)
{
	char email[PORTAL_EMAIL_MAX + 1];
	struct user_record u;
	int rc;

	if (!need_str(r, TAG_EMAIL, "email", email, sizeof email, valid_email))
		return;
	rc = load_user(r, &u);
	if (rc == 0)
		reply(r, RESULT_EXISTS);
	if (rc != 1) {
		user_wipe(&u);
		return;
	}
	/* Another machine may add the same member meanwhile: the insert
	 * finds it there (RESULT_EXISTS). */
	user_init(&u, r->user, email, r->now);
	if (insert_user(r, &u))
		reply(r, RESULT_OK);
	user_wipe(&u);
}

void h_user_del(struct req *r)
{
	struct user_record u;

	if (load_user(r, &u) == 0 && delete_user(r))
		reply(r, RESULT_OK);
	user_wipe(&u);
}

/* Append one TAG_ENTRY; false when it would not leave room for `reserve`
 * more bytes. */
static bool put_entry(struct req *r, const struct user_record *u, size_t reserve)
{
	struct proto_buf entry;

	user_entry(u, &r->cfg, r->now, &entry);
	member_fields(r, &entry);
	if (r->resp->len + 3 + entry.len + reserve > PROTO_MAX_FRAME)
		return false;
	proto_put_nested(r->resp, TAG_ENTRY, &entry);
	return true;
}

void h_user_show(struct req *r)
{
	struct user_record u;

	if (read_user(r, &u) != 0)
		return;
	reply(r, RESULT_OK);
	put_entry(r, &u, 0);
	user_wipe(&u);
}

/* The filter of `user list --state`: absent, or a managed state. */
static bool state_filter(struct req *r, uint32_t *filter)
{
	*filter = STATE_UNMANAGED;
	if (proto_find(r->msg, TAG_STATE) &&
	    (!proto_get_u32(r->msg, TAG_STATE, filter) || *filter == STATE_UNMANAGED ||
	     *filter > STATE_LOCKED)) {
		reply_detail(r, RESULT_INVALID, "state");
		return false;
	}
	return true;
}

/* One step of a walk over the users: 0 with the record, 1 at the end,
 * -1 after answering. */
static int next_user(struct req *r, const char *after, char key[STORE_KEY_MAX],
		     struct user_record *u)
{
	int rc = store_next(r->d->store, USER_PREFIX, after, key, STORE_KEY_MAX);

	if (rc < 0) {
		reply_detail(r, RESULT_INTERNAL, "the list of users could not be read");
		return -1;
	}
	if (rc == 1)
		return 1;
	if (user_load(r->d->store, key + strlen(USER_PREFIX), u) != 0) {
		reply_detail(r, RESULT_INTERNAL, "a user's record could not be read");
		return -1;
	}
	return 0;
}

/* Cursors are keys handed out by `user list` ("u:<user>"). */
static bool user_cursor_ok(const char *s)
{
	size_t n = strlen(USER_PREFIX);

	return strncmp(s, USER_PREFIX, n) == 0 && valid_user(s + n);
}

/* Where a page starts: "" or the key that ended the previous page, which
 * must still exist (GDBM can only go on from a key that is there).  False
 * after answering. */
static bool list_cursor(struct req *r, char cursor[STORE_KEY_MAX])
{
	struct user_record u;
	int rc;

	if (!opt_str(r, TAG_CURSOR, "cursor", cursor, STORE_KEY_MAX, user_cursor_ok))
		return false;
	if (!cursor[0])
		return true;
	rc = user_load(r->d->store, cursor + strlen(USER_PREFIX), &u);
	if (rc == 0) {
		user_wipe(&u);
		return true;
	}
	reply_detail(r, RESULT_INVALID, "cursor: the list changed meanwhile; start again");
	return false;
}

void h_user_list(struct req *r)
{
	char cursor[STORE_KEY_MAX], key[STORE_KEY_MAX];
	unsigned entries = 0;
	enum pending_reason why;
	uint32_t filter;
	struct user_record u;
	int rc = 0;

	if (!state_filter(r, &filter) || !list_cursor(r, cursor))
		return;
	reply(r, RESULT_OK);
	while (entries < PROTO_PAGE && (rc = next_user(r, cursor, key, &u)) == 0) {
		bool shown = filter == STATE_UNMANAGED ||
			     user_state(&u, &r->cfg, r->now, NULL, &why) == filter;

		/* Room for this entry and the cursor that follows the page. */
		if (shown && !put_entry(r, &u, 3 + STORE_KEY_MAX)) {
			user_wipe(&u);
			proto_put_str(r->resp, TAG_CURSOR, cursor);
			return;
		}
		user_wipe(&u);
		entries += shown;
		memcpy(cursor, key, sizeof key);
	}
	if (rc == 0)
		proto_put_str(r->resp, TAG_CURSOR, cursor);
}

void h_user_reset(struct req *r)
{
	struct user_record u;

	if (load_user(r, &u) != 0)
		return;
	u.reset = true;
	sodium_memzero(u.pwhash, sizeof u.pwhash);
	/* The user starts over: the first code must not wait on one asked
	 * for before the reset (codes_per_hour still counts them). */
	codereq_reset(&u);
	user_clear_ticket(&u);
	if (commit(r, &u))
		reply(r, RESULT_OK);
	user_wipe(&u);
}

void h_user_unlock(struct req *r)
{
	struct user_record u;

	if (load_user(r, &u) != 0)
		return;
	lockout_clear(&u);
	if (commit(r, &u))
		reply(r, RESULT_OK);
	user_wipe(&u);
}

/* ---- the helper itself ---------------------------------------------------- */

/* What `portalctl status` and `portalctl outbox` say of a full outbox. */
#define OUTBOX_FULL "full (outbox_max): password notices and lock mails are not queued " \
		    "until some mail is sent; code mails still are"

void h_outbox(struct req *r)
{
	char cursor[STORE_KEY_MAX];

	if (!opt_str(r, TAG_CURSOR, "cursor", cursor, sizeof cursor, outbox_id_valid))
		return;
	reply(r, RESULT_OK);
	if (!cursor[0] && outbox_full(r->d->outbox))
		proto_put_str(r->resp, TAG_DETAIL, OUTBOX_FULL);
	if (outbox_list(r->d->outbox, cursor[0] ? cursor : NULL, r->resp) != 0)
		reply_detail(r, RESULT_INTERNAL, "the outbox could not be read");
}

void h_daemon_status(struct req *r)
{
	uint64_t count[STATE_LOCKED + 1] = { 0 };
	char after[STORE_KEY_MAX] = "", key[STORE_KEY_MAX];
	enum pending_reason why;
	struct user_record u;
	int rc;

	while ((rc = next_user(r, after, key, &u)) == 0) {
		count[user_state(&u, &r->cfg, r->now, NULL, &why)]++;
		user_wipe(&u);
		memcpy(after, key, sizeof key);
	}
	if (rc < 0)
		return;
	reply(r, RESULT_OK);
	proto_put_str(r->resp, TAG_VERSION, PORTAL_VERSION);
	proto_put_u64(r->resp, TAG_UPTIME, (uint64_t)(r->now - r->d->started));
	proto_put_u64(r->resp, TAG_COUNT_PENDING, count[STATE_PENDING]);
	proto_put_u64(r->resp, TAG_COUNT_ACTIVE, count[STATE_ACTIVE]);
	proto_put_u64(r->resp, TAG_COUNT_LOCKED, count[STATE_LOCKED]);
	proto_put_u64(r->resp, TAG_COUNT_OUTBOX, outbox_pending(r->d->outbox));
	directory_status_fields(r);
	if (outbox_full(r->d->outbox))
		proto_put_str(r->resp, TAG_DETAIL, OUTBOX_FULL);
}
