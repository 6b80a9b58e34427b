/*
 * dispatch.c - one request in, one response out: who may ask what, and
 * what each request does to a user's record.
 *
 * Every handler answers through reply(), which restarts the response, so a
 * handler can change its mind (a storage error after a partial answer)
 * without leaving half an answer behind.  Handlers marked H_LOCKED run with
 * the store lock held; the two that hash passwords take it in short turns
 * themselves, because Argon2id takes far too long to hold up everyone.
 * Nothing is acknowledged before the write is synced.  The fsync is made
 * without the store lock (store_sync_released): the write is in place for
 * the next request already, which need not wait for the disk, nor need the
 * event loop's look-ups (dispatch_quick).
 */
#include "dispatch.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "code.h"
#include "log.h"
#include "policy.h"
#include "user.h"
#include "valid.h"
#include "version.h"

#define TICKET_TRIES 3      /* policy refusals a reset ticket survives */
#define HOST_MAX     255
#define NOTE_MAX     160

struct req {
	struct portald *d;
	const struct peer *peer;
	const struct proto_msg *msg;
	struct proto_buf *resp;
	struct portal_config cfg;        /* the settings in force, copied once */
	time_t now;
	bool privileged;
	char user[PORTAL_USER_MAX + 1];  /* "" when the request names nobody */
	enum proto_result result;
	char note[NOTE_MAX];             /* for the log: never a secret */
	bool mail_queued;                /* the sender is to be woken: see dispatch() */
};

/* Without H_SELF a request is root's (or the daemon's own uid's) alone. */
enum handler_flags {
	H_SELF = 1,      /* anyone else may send it too, for its own user name */
	H_USER = 2,      /* carries TAG_USER, checked before the handler runs */
	H_LOCKED = 4,    /* runs with the store lock held */
	H_QUIET = 8,     /* changes nothing: no log line when it succeeds */
	H_QUICK = 16,    /* a read of the database, nothing else (dispatch_quick); implies H_LOCKED */
};

struct handler {
	uint8_t type;
	const char *name;
	void (*run)(struct req *r);
	unsigned flags;
};

/* ---- answers -------------------------------------------------------------- */

static void reply(struct req *r, enum proto_result res)
{
	proto_begin(r->resp, PROTO_RESPONSE);
	proto_put_u32(r->resp, TAG_RESULT, res);
	r->result = res;
}

__attribute__((format(printf, 2, 3)))
static void note(struct req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->note, sizeof r->note, fmt, ap);
	va_end(ap);
}

/* An answer naming the field or the thing that was wrong. */
static void reply_detail(struct req *r, enum proto_result res, const char *detail)
{
	reply(r, res);
	proto_put_str(r->resp, TAG_DETAIL, detail);
	note(r, "%s", detail);
}

static void reply_locked(struct req *r, const struct user_record *u)
{
	reply(r, RESULT_LOCKED);
	proto_put_u64(r->resp, TAG_UNTIL, user_lock_end(u));
}

/* ---- fields --------------------------------------------------------------- */

/* A string field the request must carry: RESULT_BAD_REQUEST when absent,
 * RESULT_INVALID when it does not fit or `ok` refuses it. */
static bool need_str(struct req *r, uint8_t tag, const char *name, char *out, size_t cap,
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

/* An optional string field: "" when absent. */
static bool opt_str(struct req *r, uint8_t tag, const char *name, char *out, size_t cap,
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

/* The language of a mail: TAG_LANG if given, else the configured one. */
static bool opt_lang(struct req *r, enum lang *l)
{
	char s[4];

	*l = r->cfg.language;
	if (!opt_str(r, TAG_LANG, "lang", s, sizeof s, lang_ok))
		return false;
	if (s[0])
		lang_parse(s, l);
	return true;
}

/* The remote host goes into the notice mail: printable ASCII only. */
static bool host_ok(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/* Cursors are keys handed out by `user list` ("u:<user>"). */
static bool user_cursor_ok(const char *s)
{
	size_t n = strlen(USER_PREFIX);

	return strncmp(s, USER_PREFIX, n) == 0 && valid_user(s + n);
}

/* A secret field (code, password, ticket): the bytes stay in the request
 * frame, which the server wipes. */
static const struct proto_field *need_secret(struct req *r, uint8_t tag, const char *name)
{
	const struct proto_field *f = proto_find(r->msg, tag);

	if (!f)
		reply_detail(r, RESULT_BAD_REQUEST, name);
	return f;
}

/* ---- records -------------------------------------------------------------- */

/* 0 loaded; 1 not managed (answered RESULT_NOT_FOUND); -1 unreadable (RESULT_INTERNAL). */
static int load_user(struct req *r, struct user_record *u)
{
	int rc = user_load(r->d->store, r->user, u);

	if (rc == 1)
		reply(r, RESULT_NOT_FOUND);
	else if (rc < 0)
		reply_detail(r, RESULT_INTERNAL, "the user's record could not be read");
	return rc;
}

/* Make the record durable; false after answering RESULT_STORAGE. */
static bool commit(struct req *r, const struct user_record *u)
{
	if (user_save(r->d->store, u) == 0 && store_sync_released(r->d->store) == 0)
		return true;
	reply(r, RESULT_STORAGE);
	return false;
}

static enum portal_state state_of(const struct req *r, const struct user_record *u,
				  enum pending_reason *why)
{
	return user_state(u, &r->cfg, r->now, why);
}

/* ---- sign-in -------------------------------------------------------------- */

static void h_status(struct req *r)
{
	struct user_record u;
	enum pending_reason why;
	enum portal_state st;
	int rc = load_user(r, &u);

	if (rc == 1) {
		reply(r, RESULT_OK);
		proto_put_u32(r->resp, TAG_STATE, STATE_UNMANAGED);
	}
	if (rc != 0)
		return;
	st = state_of(r, &u, &why);
	reply(r, RESULT_OK);
	proto_put_u32(r->resp, TAG_STATE, st);
	proto_put_u32(r->resp, TAG_REASON, why);
	proto_put_str(r->resp, TAG_CUTOVER, r->cfg.cutover_str);
	proto_put_str(r->resp, TAG_ORG, r->cfg.organization);
	proto_put_str(r->resp, TAG_LANG, lang_name(r->cfg.language));
	proto_put_u64(r->resp, TAG_TTL, r->cfg.code_ttl);
	proto_put_u32(r->resp, TAG_MIN_LEN, r->cfg.password_min_length);
	if (st == STATE_LOCKED)
		proto_put_u64(r->resp, TAG_UNTIL, user_lock_end(&u));
	proto_put_u64(r->resp, TAG_LAST_SIGNIN, u.last_signin);
	user_wipe(&u);
}

/* A code is made and stored whether or not the address typed is the one on
 * file, and its mail built, encrypted and written alike: for the address on
 * file it is queued, for any other it is withheld (outbox.h), with the
 * same steps and the same number of bytes written and synced.  The answer,
 * its timing and what later requests see are the same both ways, so
 * nobody learns an address by guessing it; and no mail ever goes to an
 * address that is not on file. */
static void h_send_code(struct req *r)
{
	char email[PORTAL_EMAIL_MAX + 1], code[PORTAL_CODE_MAX + 1];
	struct outbox *ob = r->d->outbox;
	enum pending_reason why;
	struct user_record u;
	enum lang lang;
	uint64_t wait;
	bool on_file, ok;

	if (!need_str(r, TAG_EMAIL, "email", email, sizeof email, valid_email) ||
	    !opt_lang(r, &lang) || load_user(r, &u) != 0)
		return;
	if (state_of(r, &u, &why) == STATE_LOCKED) {
		reply_locked(r, &u);
		goto out;
	}
	wait = user_code_wait(&u, &r->cfg, r->now);
	if (wait > 0) {
		reply(r, RESULT_WAIT);
		proto_put_u64(r->resp, TAG_WAIT, wait);
		note(r, "wait %llu s", (unsigned long long)wait);
		goto out;
	}
	user_code_requested(&u, r->now);
	code_make(code, r->cfg.code_length);
	code_hash(r->d->keys, u.name, code, strlen(code), u.code_hash);
	u.code_expires = (uint64_t)r->now + r->cfg.code_ttl;
	u.code_tries = r->cfg.code_attempts;
	on_file = email_equal(email, u.email);
	ok = user_save(r->d->store, &u) == 0 &&
	     outbox_queue_code(ob, u.name, u.email, lang, code, (time_t)u.code_expires,
			       on_file) == 0 &&
	     store_sync_released(r->d->store) == 0;
	sodium_memzero(code, sizeof code);
	if (!ok) {
		reply(r, RESULT_STORAGE);
		goto out;
	}
	r->mail_queued = true;     /* withheld or not: the same either way */
	reply(r, RESULT_OK);
	proto_put_u64(r->resp, TAG_TTL, r->cfg.code_ttl);
	note(r, on_file ? "address on file, mail queued" : "address not on file, no mail");
out:
	user_wipe(&u);
}

/* A wrong code costs a try of the code and counts as a failure. */
static void wrong_code(struct req *r, struct user_record *u)
{
	bool locked;

	u->code_tries--;
	locked = user_fail(u, &r->cfg, r->now);
	if (locked || u->code_tries == 0)
		user_clear_code(u);
	if (!commit(r, u))
		return;
	if (locked) {
		reply_locked(r, u);
		note(r, "wrong code, failures in a row: %u; now locked", u->failures);
		return;
	}
	reply(r, RESULT_CODE_WRONG);
	proto_put_u32(r->resp, TAG_TRIES, u->code_tries);
	note(r, "tries left: %u", u->code_tries);
}

/* The right code: it is spent, and a single-use ticket lets the module set
 * the password. */
static void right_code(struct req *r, struct user_record *u)
{
	uint8_t ticket[PORTAL_TICKET_LEN];

	user_clear_code(u);
	user_succeed(u);
	ticket_make(ticket);
	code_hash(r->d->keys, u->name, ticket, sizeof ticket, u->ticket_hash);
	u->ticket_expires = (uint64_t)r->now + r->cfg.code_ttl;
	u->ticket_tries = TICKET_TRIES;
	if (commit(r, u)) {
		reply(r, RESULT_OK);
		proto_put_bytes(r->resp, TAG_TICKET, ticket, sizeof ticket);
	}
	sodium_memzero(ticket, sizeof ticket);
}

static void h_verify_code(struct req *r)
{
	const struct proto_field *code = need_secret(r, TAG_CODE, "code");
	enum pending_reason why;
	struct user_record u;

	if (!code || load_user(r, &u) != 0)
		return;
	if (state_of(r, &u, &why) == STATE_LOCKED) {
		reply_locked(r, &u);
	} else if (!user_has_code(&u)) {
		reply(r, RESULT_CODE_DEAD);
	} else if ((uint64_t)r->now >= u.code_expires) {
		user_clear_code(&u);
		if (commit(r, &u))
			reply(r, RESULT_CODE_EXPIRED);
	} else if (!code_matches(r->d->keys, u.name, code->data, code->len, u.code_hash)) {
		wrong_code(r, &u);
	} else {
		right_code(r, &u);
	}
	user_wipe(&u);
}

/* Is the ticket the live one?  Wrong size simply does not match. */
static bool ticket_ok(const struct req *r, const struct user_record *u, const struct proto_field *t)
{
	return user_has_ticket(u, r->now) && t->len == PORTAL_TICKET_LEN &&
	       code_matches(r->d->keys, u->name, t->data, t->len, u->ticket_hash);
}

/* Read the record and check the ticket, under the lock.  False after
 * answering. */
static bool load_with_ticket(struct req *r, struct user_record *u, const struct proto_field *t)
{
	if (load_user(r, u) != 0)
		return false;
	if (!ticket_ok(r, u, t)) {
		reply(r, RESULT_TICKET);
		user_wipe(u);
		return false;
	}
	return true;
}

/* The policy's word on a new password for user (PW_OK: its hash is in
 * hash), or POLICY_ERROR after answering.  The slow part of setting a
 * password: the store lock is not held. */
static int judge_password(struct req *r, const struct proto_field *pw, const char *user,
			  const char *email, char hash[crypto_pwhash_STRBYTES])
{
	int reason = policy_check((const char *)pw->data, pw->len, user, email,
				  r->cfg.password_min_length);

	if (reason == POLICY_ERROR ||
	    (reason == PW_OK && policy_hash(&r->d->hash_slots, (const char *)pw->data,
					    pw->len, hash) != 0)) {
		reply_detail(r, RESULT_INTERNAL, "the password could not be checked or hashed");
		return POLICY_ERROR;
	}
	return reason;
}

static void refuse_password(struct req *r, struct user_record *u, int reason)
{
	if (--u->ticket_tries == 0)
		user_clear_ticket(u);
	if (!commit(r, u))
		return;
	reply(r, RESULT_POLICY);
	proto_put_u32(r->resp, TAG_REASON, (uint32_t)reason);
	note(r, "%s; tries left on the ticket: %u", policy_reason_name(reason), u->ticket_tries);
}

static void accept_password(struct req *r, struct user_record *u, const char *hash,
			    enum lang lang, const char *host)
{
	struct store *st = r->d->store;

	snprintf(u->pwhash, sizeof u->pwhash, "%s", hash);
	u->last_signin = (uint64_t)r->now;
	u->reset = false;
	user_succeed(u);
	user_clear_ticket(u);
	if (user_save(st, u) != 0 ||
	    outbox_queue_notice(r->d->outbox, u->name, u->email, lang, r->now, host) != 0 ||
	    store_sync_released(st) != 0) {
		reply(r, RESULT_STORAGE);
		return;
	}
	r->mail_queued = true;
	reply(r, RESULT_OK);
	note(r, "password created");
}

static void h_set_password(struct req *r)
{
	const struct proto_field *ticket, *pw;
	char host[HOST_MAX + 1], hash[crypto_pwhash_STRBYTES] = "";
	struct store *st = r->d->store;
	struct user_record u;
	enum lang lang;
	int reason;

	if (!(ticket = need_secret(r, TAG_TICKET, "ticket")) ||
	    !(pw = need_secret(r, TAG_PASSWORD, "password")) ||
	    !opt_str(r, TAG_HOST, "host", host, sizeof host, host_ok) || !opt_lang(r, &lang))
		return;

	store_lock(st);
	if (!load_with_ticket(r, &u, ticket)) {
		store_unlock(st);
		return;
	}
	store_unlock(st);
	reason = judge_password(r, pw, u.name, u.email, hash);
	user_wipe(&u);
	if (reason == POLICY_ERROR)
		return;

	/* The ticket may have been used or spent meanwhile: look again. */
	store_lock(st);
	if (load_with_ticket(r, &u, ticket)) {
		if (reason != PW_OK)
			refuse_password(r, &u, reason);
		else
			accept_password(r, &u, hash, lang, host);
		user_wipe(&u);
	}
	store_unlock(st);
	sodium_memzero(hash, sizeof hash);
}

/* State check for a password sign-in; false after answering. */
static bool may_sign_in(struct req *r, const struct user_record *u)
{
	enum pending_reason why;
	enum portal_state st = state_of(r, u, &why);

	if (st == STATE_LOCKED) {
		reply_locked(r, u);
		return false;
	}
	if (st != STATE_ACTIVE) {
		reply(r, RESULT_STATE);
		proto_put_u32(r->resp, TAG_STATE, st);
		proto_put_u32(r->resp, TAG_REASON, why);
		return false;
	}
	return true;
}

/* A password to check against a hash: no longer than any the policy
 * takes.  False after answering. */
static bool password_fits(struct req *r, const struct proto_field *pw)
{
	if (pw->len <= PORTAL_PASSWORD_MAX)
		return true;
	reply_detail(r, RESULT_INVALID, "password");
	return false;
}

/* The record of an active user, read under the lock: the hash the password
 * is checked against, and (email not NULL) the address the policy looks
 * for in a new one.  False after answering. */
static bool active_hash(struct req *r, char hash[crypto_pwhash_STRBYTES],
			char email[PORTAL_EMAIL_MAX + 1])
{
	struct user_record u;
	bool ok;

	store_lock(r->d->store);
	ok = load_user(r, &u) == 0 && may_sign_in(r, &u);
	if (ok) {
		snprintf(hash, crypto_pwhash_STRBYTES, "%s", u.pwhash);
		if (email)
			snprintf(email, PORTAL_EMAIL_MAX + 1, "%s", u.email);
	}
	user_wipe(&u);
	store_unlock(r->d->store);
	return ok;
}

/* Store lock held: the record, once a password has been checked against
 * hash without the lock.  Meanwhile the user may have been locked, reset
 * or given a new password: the verdict only stands for the hash it was
 * made on.  False after answering. */
static bool verdict_stands(struct req *r, struct user_record *u, const char *hash)
{
	if (load_user(r, u) != 0 || !may_sign_in(r, u))
		return false;
	if (strcmp(u->pwhash, hash) == 0)
		return true;
	reply(r, RESULT_PASSWORD);
	note(r, "the password changed during the check");
	return false;
}

static void auth_result(struct req *r, struct user_record *u, bool right, const char *rehash)
{
	bool locked;

	if (right) {
		u->last_signin = (uint64_t)r->now;
		user_succeed(u);
		if (rehash[0])
			snprintf(u->pwhash, sizeof u->pwhash, "%s", rehash);
		if (commit(r, u))
			reply(r, RESULT_OK);
		return;
	}
	locked = user_fail(u, &r->cfg, r->now);
	if (!commit(r, u))
		return;
	if (locked) {
		reply_locked(r, u);
		note(r, "wrong password, failures in a row: %u; now locked", u->failures);
	} else {
		reply(r, RESULT_PASSWORD);
		note(r, "failures in a row: %u", u->failures);
	}
}

static void h_auth(struct req *r)
{
	const struct proto_field *pw = need_secret(r, TAG_PASSWORD, "password");
	char hash[crypto_pwhash_STRBYTES], rehash[crypto_pwhash_STRBYTES] = "";
	struct store *st = r->d->store;
	struct user_record u;
	bool right;

	if (!pw || !password_fits(r, pw) || !active_hash(r, hash, NULL))
		return;
	right = policy_verify(&r->d->hash_slots, hash, (const char *)pw->data, pw->len);
	if (right && policy_needs_rehash(hash) &&
	    policy_hash(&r->d->hash_slots, (const char *)pw->data, pw->len, rehash) != 0)
		rehash[0] = '\0';

	store_lock(st);
	if (verdict_stands(r, &u, hash))
		auth_result(r, &u, right, rehash);
	user_wipe(&u);
	store_unlock(st);
	sodium_memzero(hash, sizeof hash);
	sodium_memzero(rehash, sizeof rehash);
}

/* ---- password change ------------------------------------------------------ */

/* The current password was right but the new one is refused: the run of
 * failures still ends, as after a sign-in. */
static void change_refused(struct req *r, struct user_record *u, int reason)
{
	user_succeed(u);
	if (!commit(r, u))
		return;
	reply(r, RESULT_POLICY);
	proto_put_u32(r->resp, TAG_REASON, (uint32_t)reason);
	note(r, "new password refused: %s", policy_reason_name(reason));
}

/* The current password is checked and counted exactly as by h_auth: a
 * password change must not be a way to guess passwords without the lock.
 * Without a new password that check is the whole request (the module's
 * preliminary check, before it asks for the new one).  The new password
 * meets the policy of a first one, and the same notice mail follows. */
static void h_change_password(struct req *r)
{
	const struct proto_field *pw = need_secret(r, TAG_PASSWORD, "password");
	const struct proto_field *npw = proto_find(r->msg, TAG_NEW_PASSWORD);
	char hash[crypto_pwhash_STRBYTES], newhash[crypto_pwhash_STRBYTES] = "";
	char host[HOST_MAX + 1], email[PORTAL_EMAIL_MAX + 1];
	struct store *st = r->d->store;
	int reason = PW_OK;
	enum lang lang;
	struct user_record u;
	bool right;

	if (!pw || !opt_str(r, TAG_HOST, "host", host, sizeof host, host_ok) ||
	    !opt_lang(r, &lang) || !password_fits(r, pw) || !active_hash(r, hash, email))
		return;
	right = policy_verify(&r->d->hash_slots, hash, (const char *)pw->data, pw->len);
	if (right && npw &&
	    (reason = judge_password(r, npw, r->user, email, newhash)) == POLICY_ERROR)
		goto out;

	store_lock(st);
	if (verdict_stands(r, &u, hash)) {
		if (!right || !npw) {
			auth_result(r, &u, right, "");
		} else if (reason != PW_OK) {
			change_refused(r, &u, reason);
		} else {
			accept_password(r, &u, newhash, lang, host);
			if (r->result == RESULT_OK)
				note(r, "password changed");
		}
	}
	user_wipe(&u);
	store_unlock(st);
out:
	sodium_memzero(hash, sizeof hash);
	sodium_memzero(newhash, sizeof newhash);
	sodium_memzero(email, sizeof email);
}

/* ---- administration ------------------------------------------------------- */

static void h_user_add(struct req *r)
{
	char email[PORTAL_EMAIL_MAX + 1];
	struct user_record u;
	int rc;

	if (!need_str(r, TAG_EMAIL, "email", email, sizeof email, valid_email))
		return;
	rc = user_load(r->d->store, r->user, &u);
	if (rc == 0)
		reply(r, RESULT_EXISTS);
	else if (rc < 0)
		reply_detail(r, RESULT_INTERNAL, "the user's record could not be read");
	if (rc != 1) {
		user_wipe(&u);
		return;
	}
	user_init(&u, r->user, email, r->now);
	if (commit(r, &u))
		reply(r, RESULT_OK);
}

static void h_user_del(struct req *r)
{
	int rc = user_delete(r->d->store, r->user);

	if (rc == 1)
		reply(r, RESULT_NOT_FOUND);
	else if (rc < 0 || store_sync_released(r->d->store) != 0)
		reply(r, RESULT_STORAGE);
	else
		reply(r, RESULT_OK);
}

/* Append one TAG_ENTRY; false when it would not leave room for `reserve`
 * more bytes. */
static bool put_entry(struct req *r, const struct user_record *u, size_t reserve)
{
	struct proto_buf entry;

	user_entry(u, &r->cfg, r->now, &entry);
	if (r->resp->len + 3 + entry.len + reserve > PROTO_MAX_FRAME)
		return false;
	proto_put_nested(r->resp, TAG_ENTRY, &entry);
	return true;
}

static void h_user_show(struct req *r)
{
	struct user_record u;

	if (load_user(r, &u) != 0)
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

static void h_user_list(struct req *r)
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
		bool shown = filter == STATE_UNMANAGED || state_of(r, &u, &why) == filter;

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

static void h_user_reset(struct req *r)
{
	struct user_record u;

	if (load_user(r, &u) != 0)
		return;
	u.reset = true;
	sodium_memzero(u.pwhash, sizeof u.pwhash);
	/* The user starts over: the first code must not wait on one asked
	 * for before the reset (codes_per_hour still counts them). */
	u.last_request = 0;
	user_clear_code(&u);
	user_clear_ticket(&u);
	if (commit(r, &u))
		reply(r, RESULT_OK);
	user_wipe(&u);
}

static void h_user_unlock(struct req *r)
{
	struct user_record u;

	if (load_user(r, &u) != 0)
		return;
	user_unlock(&u);
	if (commit(r, &u))
		reply(r, RESULT_OK);
	user_wipe(&u);
}

/* ---- import --------------------------------------------------------------- */

struct refusal {
	uint64_t line;
	enum proto_result result;
	const char *detail;
};

enum import_outcome { IMPORT_ADDED, IMPORT_UNCHANGED, IMPORT_REFUSED, IMPORT_STORAGE };

static enum import_outcome import_line(struct req *r, const struct proto_msg *e,
				       struct refusal *why)
{
	char name[PORTAL_USER_MAX + 1], email[PORTAL_EMAIL_MAX + 1];
	struct user_record u;
	int rc;

	why->result = RESULT_INVALID;
	if (!proto_get_str(e, TAG_USER, name, sizeof name) || !valid_user(name)) {
		why->detail = "not a valid user name";
		return IMPORT_REFUSED;
	}
	if (!proto_get_str(e, TAG_EMAIL, email, sizeof email) || !valid_email(email)) {
		why->detail = "not a valid e-mail address";
		return IMPORT_REFUSED;
	}
	/* Most lines are new users: one look-up that adds them, and a read
	 * only for those already there. */
	user_init(&u, name, email, r->now);
	rc = user_insert(r->d->store, &u);
	if (rc <= 0)
		return rc == 0 ? IMPORT_ADDED : IMPORT_STORAGE;
	rc = user_load(r->d->store, name, &u);
	if (rc == 0) {
		bool same = email_equal(email, u.email);

		user_wipe(&u);
		why->result = RESULT_EXISTS;
		why->detail = "already managed with another address";
		return same ? IMPORT_UNCHANGED : IMPORT_REFUSED;
	}
	why->result = RESULT_INTERNAL;
	why->detail = "the existing record could not be read";
	return IMPORT_REFUSED;
}

/* Every entry must be a body with a line number, or nothing is done. */
static size_t import_entries(struct req *r, const struct proto_field *out[PROTO_IMPORT_BATCH])
{
	size_t n = 0;

	for (size_t i = 0; i < r->msg->nfields; i++) {
		if (r->msg->f[i].tag != TAG_ENTRY)
			continue;
		if (n == PROTO_IMPORT_BATCH) {
			reply_detail(r, RESULT_BAD_REQUEST, "too many lines in one request");
			return SIZE_MAX;
		}
		out[n++] = &r->msg->f[i];
	}
	return n;
}

/* An answer refusing every line of a batch: per line a nested entry of
 * TAG_LINE (u64), TAG_RESULT (u32) and TAG_DETAIL (the longest detail above),
 * each field with its 3-byte tag and length; then TAG_RESULT and TAG_COUNT. */
#define IMPORT_DETAIL_MAX (sizeof "the existing record could not be read" - 1)
_Static_assert(PROTO_IMPORT_BATCH * (3 + (3 + 8) + (3 + 4) + (3 + IMPORT_DETAIL_MAX)) +
	       (3 + 4) + (3 + 8) <= PROTO_MAX_BODY,
	       "an import answer refusing a whole batch must fit in one message");

static void import_answer(struct req *r, uint64_t added, const struct refusal *refused,
			  size_t nrefused)
{
	reply(r, nrefused ? RESULT_PARTIAL : RESULT_OK);
	proto_put_u64(r->resp, TAG_COUNT, added);
	for (size_t i = 0; i < nrefused; i++) {
		struct proto_buf entry;

		proto_begin_body(&entry);
		proto_put_u64(&entry, TAG_LINE, refused[i].line);
		proto_put_u32(&entry, TAG_RESULT, refused[i].result);
		proto_put_str(&entry, TAG_DETAIL, refused[i].detail);
		proto_put_nested(r->resp, TAG_ENTRY, &entry);
	}
	note(r, "%llu added, %zu refused", (unsigned long long)added, nrefused);
}

static void h_import(struct req *r)
{
	struct refusal refused[PROTO_IMPORT_BATCH];
	struct proto_msg e;
	const struct proto_field *entries[PROTO_IMPORT_BATCH];
	size_t n = import_entries(r, entries), nrefused = 0;
	uint64_t added = 0;

	if (n == SIZE_MAX)
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t line;

		if (!proto_parse_body(entries[i]->data, entries[i]->len, &e) ||
		    !proto_get_u64(&e, TAG_LINE, &line)) {
			reply_detail(r, RESULT_BAD_REQUEST, "entry");
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct refusal *why = &refused[nrefused];

		proto_parse_body(entries[i]->data, entries[i]->len, &e);
		proto_get_u64(&e, TAG_LINE, &why->line);
		switch (import_line(r, &e, why)) {
		case IMPORT_ADDED: added++; break;
		case IMPORT_UNCHANGED: break;
		case IMPORT_REFUSED: nrefused++; break;
		case IMPORT_STORAGE: reply(r, RESULT_STORAGE); return;
		}
	}
	/* One sync for the batch, without the lock: sign-ins go on meanwhile,
	 * and portalctl's next batch is written while this one is flushed. */
	if (added && store_sync_released(r->d->store) != 0) {
		reply(r, RESULT_STORAGE);
		return;
	}
	import_answer(r, added, refused, nrefused);
}

/* ---- the helper itself ---------------------------------------------------- */

static void h_outbox(struct req *r)
{
	char cursor[STORE_KEY_MAX];

	if (!opt_str(r, TAG_CURSOR, "cursor", cursor, sizeof cursor, outbox_id_valid))
		return;
	reply(r, RESULT_OK);
	if (outbox_list(r->d->outbox, cursor[0] ? cursor : NULL, r->resp) != 0)
		reply_detail(r, RESULT_INTERNAL, "the outbox could not be read");
}

static void h_daemon_status(struct req *r)
{
	uint64_t count[STATE_LOCKED + 1] = { 0 };
	char after[STORE_KEY_MAX] = "", key[STORE_KEY_MAX];
	enum pending_reason why;
	struct user_record u;
	int rc;

	while ((rc = next_user(r, after, key, &u)) == 0) {
		count[state_of(r, &u, &why)]++;
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
}

/* ---- the table ------------------------------------------------------------ */

static const struct handler handlers[] = {
	{ REQ_STATUS, "status", h_status, H_SELF | H_USER | H_LOCKED | H_QUIET | H_QUICK },
	{ REQ_SEND_CODE, "send-code", h_send_code, H_USER | H_LOCKED },
	{ REQ_VERIFY_CODE, "verify-code", h_verify_code, H_USER | H_LOCKED },
	{ REQ_SET_PASSWORD, "set-password", h_set_password, H_USER },
	{ REQ_AUTH, "auth", h_auth, H_SELF | H_USER },
	{ REQ_CHANGE_PASSWORD, "change-password", h_change_password, H_SELF | H_USER },
	{ REQ_USER_ADD, "user-add", h_user_add, H_USER | H_LOCKED },
	{ REQ_USER_DEL, "user-del", h_user_del, H_USER | H_LOCKED },
	{ REQ_USER_SHOW, "user-show", h_user_show, H_USER | H_LOCKED | H_QUIET },
	{ REQ_USER_LIST, "user-list", h_user_list, H_LOCKED | H_QUIET },
	{ REQ_USER_RESET, "user-reset", h_user_reset, H_USER | H_LOCKED },
	{ REQ_USER_UNLOCK, "user-unlock", h_user_unlock, H_USER | H_LOCKED },
	{ REQ_IMPORT, "import", h_import, H_LOCKED },
	{ REQ_OUTBOX, "outbox", h_outbox, H_LOCKED | H_QUIET },
	{ REQ_DAEMON_STATUS, "daemon-status", h_daemon_status, H_LOCKED | H_QUIET },
};

static const struct handler *find_handler(uint8_t type)
{
	for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
		if (handlers[i].type == type)
			return &handlers[i];
	return NULL;
}

/* Who may send this request, for whom?  False after answering.  A caller
 * other than root gets what a screen locker running as the user needs (its
 * own state, its own password checked) and nothing else: the verification
 * conversation is for sshd, login and su, which run as root. */
static bool allowed(struct req *r, const struct handler *h)
{
	if (!(h->flags & H_SELF) && !r->privileged) {
		reply(r, RESULT_DENIED);
		return false;
	}
	if (!(h->flags & H_USER))
		return true;
	if (!need_str(r, TAG_USER, "user", r->user, sizeof r->user, valid_user)) {
		r->user[0] = '\0';   /* not a name to log */
		return false;
	}
	/* Anyone else acts for their own login name only. */
	if (!r->privileged && strcmp(r->user, r->peer->name) != 0) {
		reply(r, RESULT_DENIED);
		return false;
	}
	return true;
}

static void log_outcome(const struct req *r, const struct handler *h)
{
	int prio = LOG_NOTICE;

	if (r->result == RESULT_OK && h && (h->flags & H_QUIET))
		return;
	if (r->result == RESULT_OK)
		prio = LOG_INFO;
	else if (r->result == RESULT_INTERNAL || r->result == RESULT_STORAGE)
		prio = LOG_ERR;
	if (h)
		log_msg(prio, "%s for %s by uid %u (pid %ld): %s%s%s", h->name,
			r->user[0] ? r->user : "-", (unsigned)r->peer->uid, (long)r->peer->pid,
			proto_result_name(r->result), r->note[0] ? ": " : "", r->note);
	else
		log_msg(prio, "unknown request type %u by uid %u (pid %ld)", r->msg->type,
			(unsigned)r->peer->uid, (long)r->peer->pid);
}

/* A copy of the configuration in force. */
static void portald_config(struct portald *d, struct portal_config *out)
{
	pthread_rwlock_rdlock(&d->cfg_lock);
	*out = d->cfg;
	pthread_rwlock_unlock(&d->cfg_lock);
}

static void req_begin(struct req *r, struct portald *d, const struct peer *peer,
		      const struct proto_msg *req, struct proto_buf *resp)
{
	memset(r, 0, sizeof *r);
	r->d = d;
	r->peer = peer;
	r->msg = req;
	r->resp = resp;
	r->now = time(NULL);
	r->privileged = peer->uid == 0 || peer->uid == geteuid();
	portald_config(d, &r->cfg);
	/* What the client sees if a handler failed to answer. */
	reply(r, RESULT_INTERNAL);
}

static void req_end(struct req *r, const struct handler *h)
{
	if (!proto_finish(r->resp)) {
		reply_detail(r, RESULT_INTERNAL, "the answer did not fit in a message");
		proto_finish(r->resp);
	}
	log_outcome(r, h);
}

bool dispatch(struct portald *d, const struct peer *peer,
	      const struct proto_msg *req, struct proto_buf *resp)
{
	const struct handler *h = find_handler(req->type);
	struct req r;

	req_begin(&r, d, peer, req, resp);
	if (!h) {
		reply_detail(&r, RESULT_BAD_REQUEST, "unknown request");
	} else if (allowed(&r, h)) {
		if (h->flags & H_LOCKED)
			store_lock(d->store);
		h->run(&r);
		if (h->flags & H_LOCKED)
			store_unlock(d->store);
	}
	req_end(&r, h);
	return r.mail_queued;
}

enum quick dispatch_quick(struct portald *d, const struct peer *peer,
			  const struct proto_msg *req, struct proto_buf *resp)
{
	const struct handler *h = find_handler(req->type);
	struct req r;

	if (!h || !(h->flags & H_QUICK))
		return QUICK_NOT;
	/* Writers hold the lock for microseconds (their fsync is made
	 * without it), but a holder may be preempted, or be a long read (an
	 * import batch, a count of every user): the loop does not wait. */
	if (!store_trylock(d->store))
		return QUICK_LOCK_HELD;
	req_begin(&r, d, peer, req, resp);
	if (allowed(&r, h))
		h->run(&r);
	store_unlock(d->store);
	req_end(&r, h);
	return QUICK_ANSWERED;
}
