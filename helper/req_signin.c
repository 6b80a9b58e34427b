/*
 * req_signin.c - the requests of a sign-in: the status look-up every
 * sign-in starts with, a password checked, a password changed, and a new
 * password judged before it is asked again.
 *
 * A password is checked against a hash read with a plain read, with no
 * transaction open (the check takes tens of milliseconds), and the
 * verdict written in the member's transaction only if the hash is still
 * the one it was made on (storage.h).
 */
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "handlers.h"
#include "policy.h"
#include "req_password.h"

/* Why a locked member would be pending once the lock is lifted, or
 * PENDING_NONE when they would be active. */
static enum pending_reason reason_under_lock(const struct req *r, const struct user_record *u)
{
	struct user_record lifted = *u;
	enum pending_reason why;

	lockout_clear(&lifted);
	state_of(r, &lifted, &why);
	user_wipe(&lifted);
	return why;
}

/* A locked member's TAG_REASON is the reason under the lock: the module
 * asks a locked member the first question of that state, and learns of
 * the lock from the answer to it, so that nothing tells a locked member
 * from the others before the first answer. */
void h_status(struct req *r)
{
	struct user_record u;
	enum pending_reason why;
	enum portal_state st;
	int rc = read_user(r, &u);

	if (rc == 1) {
		reply(r, RESULT_OK);
		proto_put_u32(r->resp, TAG_STATE, STATE_UNMANAGED);
	}
	if (rc != 0)
		return;
	st = state_of(r, &u, &why);
	if (st == STATE_LOCKED)
		why = reason_under_lock(r, &u);
	reply(r, RESULT_OK);
	proto_put_u32(r->resp, TAG_STATE, st);
	proto_put_u32(r->resp, TAG_REASON, why);
	proto_put_str(r->resp, TAG_CUTOVER, r->cfg.cutover_str);
	proto_put_str(r->resp, TAG_ORG, r->cfg.organization);
	proto_put_str(r->resp, TAG_LANG, lang_name(r->cfg.language));
	proto_put_u64(r->resp, TAG_TTL, r->cfg.code_ttl);
	proto_put_u32(r->resp, TAG_MIN_LEN, r->cfg.password_min_length);
	if (st == STATE_LOCKED)
		proto_put_u64(r->resp, TAG_UNTIL, lockout_end(&u, &r->cfg, r->now, r->source));
	proto_put_u64(r->resp, TAG_LAST_SIGNIN, u.last_signin);
	user_wipe(&u);
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

/* The record of an active user, a plain read: the hash the password
 * is checked against, and (email not NULL) the address the policy looks
 * for in a new one.  False after answering. */
static bool active_hash(struct req *r, char hash[crypto_pwhash_STRBYTES],
			char email[PORTAL_EMAIL_MAX + 1])
{
	struct user_record u;
	bool ok;

	ok = read_user(r, &u) == 0 && may_sign_in(r, &u);
	if (ok) {
		snprintf(hash, crypto_pwhash_STRBYTES, "%s", u.pwhash);
		if (email)
			snprintf(email, PORTAL_EMAIL_MAX + 1, "%s", u.email);
	}
	user_wipe(&u);
	return ok;
}

/* The record in the member's transaction, once a password has been
 * checked against hash with none open.  Meanwhile the user may have been locked, reset
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
		count_success(r, u);
		if (rehash[0])
			snprintf(u->pwhash, sizeof u->pwhash, "%s", rehash);
		if (commit(r, u))
			reply(r, RESULT_OK);
		return;
	}
	locked = count_failure(r, u, true);
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

/* The current password, checked against hash without the lock: right or
 * not, and when right, in rehash a new hash to store ("" when the stored
 * one stands): the stored one was made with other parameters, or of the
 * bytes as typed before passwords were normalised. */
static bool current_right(struct req *r, const char *hash, const struct proto_field *pw,
			  char rehash[crypto_pwhash_STRBYTES])
{
	bool stale = false;
	bool right = policy_verify(&r->d->hash_slots, hash, (const char *)pw->data, pw->len,
				   &stale);

	rehash[0] = '\0';
	if (right && (stale || policy_needs_rehash(hash)) &&
	    policy_hash(&r->d->hash_slots, (const char *)pw->data, pw->len, rehash) != 0)
		rehash[0] = '\0';
	return right;
}

void h_auth(struct req *r)
{
	const struct proto_field *pw = need_secret(r, TAG_PASSWORD, "password");
	char hash[crypto_pwhash_STRBYTES], rehash[crypto_pwhash_STRBYTES] = "";
	struct user_record u;
	bool right;

	if (!pw || !password_fits(r, pw) || !active_hash(r, hash, NULL))
		return;
	right = current_right(r, hash, pw, rehash);

	if (verdict_stands(r, &u, hash))
		auth_result(r, &u, right, rehash);
	user_wipe(&u);
	sodium_memzero(hash, sizeof hash);
	sodium_memzero(rehash, sizeof rehash);
}

/* ---- password change ------------------------------------------------------ */

/* The current password was right but the new one is refused: the run of
 * failures still ends, as after a sign-in. */
static void change_refused(struct req *r, struct user_record *u, int reason, const char *rehash)
{
	count_success(r, u);
	if (rehash[0])
		snprintf(u->pwhash, sizeof u->pwhash, "%s", rehash);
	if (!commit(r, u))
		return;
	reply_policy(r, reason);
	note(r, "new password refused: %s", policy_reason_name(reason));
}

/* A password change, or check, from what is worked out without the lock
 * to the verdict written under it. */
struct change {
	const struct proto_field *npw;  /* NULL: the current password alone */
	bool take;                      /* store it (REQ_CHANGE_PASSWORD), or only judge it */
	bool right;                     /* the current password */
	int reason;                     /* the policy's word on npw */
	char hash[crypto_pwhash_STRBYTES];      /* the current one's, as read */
	char rehash[crypto_pwhash_STRBYTES];    /* see current_right */
	char newhash[crypto_pwhash_STRBYTES];   /* npw's, when taken */
	char host[HOST_MAX + 1];
	char email[PORTAL_EMAIL_MAX + 1];
	enum lang lang;
};

/* In the member's transaction: what the request does with the verdict.  A check ends
 * as a sign-in would, saying whether the new password would be taken. */
static void change_verdict(struct req *r, struct user_record *u, const struct change *c)
{
	if (!c->right || !c->npw) {
		auth_result(r, u, c->right, c->rehash);
	} else if (c->reason != PW_OK) {
		change_refused(r, u, c->reason, c->rehash);
	} else if (!c->take) {
		auth_result(r, u, true, c->rehash);
		if (r->result == RESULT_OK)
			note(r, "the new password would be taken");
	} else {
		accept_password(r, u, c->newhash, c->lang, c->host);
		if (r->result == RESULT_OK)
			note(r, "password changed");
	}
}

/* The current password is checked and counted exactly as by h_auth: a
 * password change must not be a way to guess passwords without the lock.
 * Without a new password that check is the whole request (the module's
 * preliminary check, before it asks for the new one).  The new password
 * meets the policy of a first one, and the same notice mail follows; or,
 * for REQ_CHECK_PASSWORD, it is only judged. */
static void change_password(struct req *r, struct change *c)
{
	const struct proto_field *pw = need_secret(r, TAG_PASSWORD, "password");
	struct user_record u;

	c->reason = PW_OK;
	if (!pw || !opt_str(r, TAG_HOST, "host", c->host, sizeof c->host, host_ok) ||
	    !opt_lang(r, &c->lang) || !password_fits(r, pw) || !active_hash(r, c->hash, c->email))
		return;
	c->right = current_right(r, c->hash, pw, c->rehash);
	if (c->right && c->npw &&
	    (c->reason = judge_password(r, c->npw, r->user, c->email,
					c->take ? c->newhash : NULL)) == POLICY_ERROR)
		return;

	if (verdict_stands(r, &u, c->hash))
		change_verdict(r, &u, c);
	user_wipe(&u);
}

void h_change_password(struct req *r)
{
	struct change c = { .npw = proto_find(r->msg, TAG_NEW_PASSWORD), .take = true };

	change_password(r, &c);
	sodium_memzero(&c, sizeof c);
}

/* ---- a new password judged when first typed -------------------------------- */

/* Never an oracle for strangers: the policy's word on a password says
 * whether it holds the member's address, so it is given only to whoever
 * shows the current password (counted as a sign-in is) or, root alone as
 * for REQ_SET_PASSWORD, the live reset ticket. */
void h_check_password(struct req *r)
{
	const struct proto_field *npw = need_secret(r, TAG_NEW_PASSWORD, "new password");
	const struct proto_field *ticket = proto_find(r->msg, TAG_TICKET);
	bool current = proto_find(r->msg, TAG_PASSWORD) != NULL;

	if (!npw)
		return;
	if (ticket && current) {
		reply_detail(r, RESULT_BAD_REQUEST, "a ticket or a password, not both");
	} else if (ticket && !r->privileged) {
		reply(r, RESULT_DENIED);
	} else if (ticket) {
		check_by_ticket(r, ticket, npw);
	} else {
		struct change c = { .npw = npw, .take = false };

		change_password(r, &c);   /* answers when TAG_PASSWORD is missing */
		sodium_memzero(&c, sizeof c);
	}
}
