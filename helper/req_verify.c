/*
 * req_verify.c - the verification of a pending member: a code mailed to
 * the address on file, the code typed, and with the ticket it gives, the
 * new password.
 */
#include <string.h>
#include <sodium.h>
#include "code.h"
#include "handlers.h"
#include "outbox.h"
#include "policy.h"
#include "req_password.h"
#include "storage.h"
#include "valid.h"

#define TICKET_TRIES 3      /* policy refusals a reset ticket survives */

/* The address typed, folded as email_equal compares it (ASCII case), for
 * its tag. */
static void fold(const char *email, char out[PORTAL_EMAIL_MAX + 1])
{
	size_t i = 0;

	for (; email[i] && i < PORTAL_EMAIL_MAX; i++)
		out[i] = email[i] >= 'A' && email[i] <= 'Z' ? (char)(email[i] - 'A' + 'a') : email[i];
	out[i] = '\0';
}

/* The new request in e, its handle in handle, its code in code: made the
 * same way for any address. */
static void make_request(struct req *r, const struct user_record *u, bool on_file,
			 struct code_request *e, uint8_t handle[PORTAL_REQUEST_LEN], char *code)
{
	code_handle_make(handle);
	code_make(code, r->cfg.code_length);
	code_tag(r->d->keys, u->name, "handle", handle, PORTAL_REQUEST_LEN, e->handle);
	code_hash_bound(r->d->keys, u->name, handle, code, strlen(code), e->code);
	e->flags = on_file ? CR_ON_FILE : 0;
	e->time = (uint64_t)r->now;
	e->expires = (uint64_t)r->now + r->cfg.code_ttl;
	e->tries = r->cfg.code_attempts;
}

/* The request kept, its mail queued (the address on file) or withheld
 * (any other), made durable, and the answer: its life and its handle. */
static void keep_request(struct req *r, struct user_record *u, bool on_file, enum lang lang,
			 struct code_request *e)
{
	uint8_t handle[PORTAL_REQUEST_LEN];
	char code[PORTAL_CODE_MAX + 1];
	bool ok;

	make_request(r, u, on_file, e, handle, code);
	codereq_add(u, &r->cfg, r->now, e);
	ok = commit(r, u);
	if (ok) {
		mail_begin(r);
		ok = outbox_queue_code(r->d->outbox, u->name, u->email, lang, code,
				       (time_t)e->expires, on_file) == 0;
		ok = mail_done(r) && ok;
		if (!ok)
			r->txn_rc = STORAGE_ERROR;   /* the code goes with its mail */
	}
	sodium_memzero(code, sizeof code);
	if (ok) {
		r->mail_queued = true;     /* withheld or not: the same either way */
		reply(r, RESULT_OK);
		proto_put_u64(r->resp, TAG_TTL, r->cfg.code_ttl);
		proto_put_bytes(r->resp, TAG_REQUEST, handle, sizeof handle);
		note(r, on_file ? "address on file, mail queued" : "address not on file, no mail");
	} else {
		reply(r, RESULT_STORAGE);
	}
	sodium_memzero(handle, sizeof handle);
}

/* A request is kept whatever the address typed, with a code, and its mail
 * built, encrypted and written alike: for the address on file it is
 * queued, for any other it is withheld (outbox.h), with the same steps
 * and the same number of bytes written and synced (codereq.h).  The
 * answer and its timing are the same both ways, so nobody learns an
 * address by guessing it; and no mail ever goes to an address that is not
 * on file.  Only a request for the address on file touches the member's
 * live code and its limits. */
void h_send_code(struct req *r)
{
	char email[PORTAL_EMAIL_MAX + 1], folded[PORTAL_EMAIL_MAX + 1];
	enum pending_reason why;
	struct code_request e;
	struct user_record u;
	enum lang lang;
	uint64_t wait;
	bool on_file;

	if (!need_str(r, TAG_EMAIL, "email", email, sizeof email, valid_email) ||
	    !opt_lang(r, &lang) || load_user(r, &u) != 0)
		return;
	memset(&e, 0, sizeof e);
	on_file = email_equal(email, u.email);
	fold(email, folded);
	code_tag(r->d->keys, u.name, "address", folded, strlen(folded), e.address);
	code_tag(r->d->keys, u.name, "source", r->source, strlen(r->source), e.source);
	if (state_of(r, &u, &why) == STATE_LOCKED) {
		reply_locked(r, &u);
	} else if ((wait = codereq_wait(&u, &r->cfg, r->now, on_file, e.address, e.source)) > 0) {
		reply(r, RESULT_WAIT);
		proto_put_u64(r->resp, TAG_WAIT, wait);
		note(r, "wait %llu s", (unsigned long long)wait);
	} else {
		keep_request(r, &u, on_file, lang, &e);
	}
	sodium_memzero(&e, sizeof e);
	user_wipe(&u);
}

/* A wrong code costs a try of the request and counts as a failure of its
 * source, and of the member only when the code was the live one: wrong
 * codes typed after a request for another address lock out only the
 * source that types them (the answers are the same as for the live code,
 * so they tell nothing of the address). */
static void wrong_code(struct req *r, struct user_record *u, struct code_request *e)
{
	bool locked;

	e->tries--;
	locked = count_failure(r, u, e->flags & CR_ON_FILE);
	if (locked || e->tries == 0)
		e->flags &= ~(uint32_t)CR_LIVE;
	if (!commit(r, u))
		return;
	if (locked) {
		reply_locked(r, u);
		note(r, "wrong code; now locked");
		return;
	}
	reply(r, RESULT_CODE_WRONG);
	proto_put_u32(r->resp, TAG_TRIES, e->tries);
	note(r, "tries left: %u", e->tries);
}

/* The right code: it is spent, and a single-use ticket lets the module set
 * the password. */
static void right_code(struct req *r, struct user_record *u, struct code_request *e)
{
	uint8_t ticket[PORTAL_TICKET_LEN];

	e->flags &= ~(uint32_t)CR_LIVE;
	count_success(r, u);
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

/* The code typed, against the request of the handle.  A request for an
 * address not on file is checked the same way, and never matches. */
static void try_code(struct req *r, struct user_record *u, const uint8_t *handle,
		     const struct proto_field *code)
{
	uint8_t tag[CODE_TAG_LEN];
	struct code_request *e;
	bool right;

	code_tag(r->d->keys, u->name, "handle", handle, PORTAL_REQUEST_LEN, tag);
	e = codereq_find(u, tag);
	if (!e || !(e->flags & CR_LIVE) || e->tries == 0) {
		reply(r, RESULT_CODE_DEAD);
	} else if ((uint64_t)r->now >= e->expires) {
		e->flags &= ~(uint32_t)CR_LIVE;
		if (commit(r, u))
			reply(r, RESULT_CODE_EXPIRED);
	} else {
		right = code_matches_bound(r->d->keys, u->name, handle, code->data, code->len,
					   e->code);
		if (right && (e->flags & CR_ON_FILE))
			right_code(r, u, e);
		else
			wrong_code(r, u, e);
	}
}

void h_verify_code(struct req *r)
{
	const struct proto_field *code = need_secret(r, TAG_CODE, "code"), *handle;
	enum pending_reason why;
	struct user_record u;

	if (!code || !(handle = need_secret(r, TAG_REQUEST, "request")))
		return;
	if (handle->len != PORTAL_REQUEST_LEN) {
		reply_detail(r, RESULT_INVALID, "request");
		return;
	}
	if (load_user(r, &u) != 0)
		return;
	if (state_of(r, &u, &why) == STATE_LOCKED)
		reply_locked(r, &u);
	else
		try_code(r, &u, handle->data, code);
	user_wipe(&u);
}

/* Is the ticket the live one?  Wrong size simply does not match. */
static bool ticket_ok(const struct req *r, const struct user_record *u, const struct proto_field *t)
{
	return user_has_ticket(u, r->now) && t->len == PORTAL_TICKET_LEN &&
	       code_matches(r->d->keys, u->name, t->data, t->len, u->ticket_hash);
}

/* Read the record (in the member's transaction, or with a plain read)
 * and check the ticket.  False after answering. */
static bool load_with_ticket(struct req *r, struct user_record *u, const struct proto_field *t,
			     bool txn)
{
	if ((txn ? load_user(r, u) : read_user(r, u)) != 0)
		return false;
	if (!ticket_ok(r, u, t)) {
		reply(r, RESULT_TICKET);
		user_wipe(u);
		return false;
	}
	return true;
}

/* The policy's word on the new password pw (its hash in hash, unless NULL)
 * once the ticket is found live, the record read with no transaction
 * open and the password judged so; POLICY_ERROR after answering. */
static int judge_with_ticket(struct req *r, const struct proto_field *ticket,
			     const struct proto_field *pw, char *hash)
{
	struct user_record u;
	int reason;

	if (!load_with_ticket(r, &u, ticket, false))
		return POLICY_ERROR;
	reason = judge_password(r, pw, u.name, u.email, hash);
	user_wipe(&u);
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

void h_set_password(struct req *r)
{
	const struct proto_field *ticket, *pw;
	char host[HOST_MAX + 1], hash[crypto_pwhash_STRBYTES] = "";
	struct user_record u;
	enum lang lang;
	int reason;

	if (!(ticket = need_secret(r, TAG_TICKET, "ticket")) ||
	    !(pw = need_secret(r, TAG_PASSWORD, "password")) ||
	    !opt_str(r, TAG_HOST, "host", host, sizeof host, host_ok) || !opt_lang(r, &lang))
		return;

	reason = judge_with_ticket(r, ticket, pw, hash);
	if (reason == POLICY_ERROR)
		return;

	/* The ticket may have been used or spent meanwhile, on this machine
	 * or another: look again, the member locked.  The second of two
	 * machines presenting it waits for the row, and finds it spent. */
	if (load_with_ticket(r, &u, ticket, true)) {
		if (reason != PW_OK)
			refuse_password(r, &u, reason);
		else
			accept_password(r, &u, hash, lang, host);
		user_wipe(&u);
	}
	sodium_memzero(hash, sizeof hash);
}

/* REQ_CHECK_PASSWORD with a reset ticket (h_check_password): the policy's
 * word on the new password, and nothing else.  The ticket stays as it was,
 * live and with its tries: the word that counts is REQ_SET_PASSWORD's,
 * which judges the password again. */
void check_by_ticket(struct req *r, const struct proto_field *ticket,
		     const struct proto_field *pw)
{
	int reason = judge_with_ticket(r, ticket, pw, NULL);

	if (reason == PW_OK) {
		reply(r, RESULT_OK);
		note(r, "the new password would be taken");
	} else if (reason != POLICY_ERROR) {
		reply_policy(r, reason);
		note(r, "new password refused: %s", policy_reason_name(reason));
	}
}
