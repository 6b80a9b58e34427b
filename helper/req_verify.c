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

/* A code is made and stored whether or not the address typed is the one on
 * file, and its mail built, encrypted and written alike: for the address on
 * file it is queued, for any other it is withheld (outbox.h), with the
 * same steps and the same number of bytes written and synced.  The answer,
 * its timing and what later requests see are the same both ways, so
 * nobody learns an address by guessing it; and no mail ever goes to an
 * address that is not on file. */
void h_send_code(struct req *r)
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
	ok = commit(r, &u);
	if (ok) {
		mail_begin(r);
		ok = outbox_queue_code(ob, u.name, u.email, lang, code, (time_t)u.code_expires,
				       on_file) == 0;
		ok = mail_done(r) && ok;
	}
	sodium_memzero(code, sizeof code);
	if (!ok) {
		reply(r, RESULT_STORAGE);
		r->txn_rc = STORAGE_ERROR;   /* the code goes with its mail */
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

void h_verify_code(struct req *r)
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
