/*
 * req_signin.c - the requests of a sign-in: the status look-up every
 * sign-in starts with, a password checked, a password changed.
 *
 * A password is checked against a hash read under the store lock, without
 * the lock (the check takes tens of milliseconds), and the verdict written
 * under it again only if the hash is still the one it was made on.
 */
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "handlers.h"
#include "policy.h"
#include "req_password.h"
#include "store.h"

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
	int rc = load_user(r, &u);

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

void h_auth(struct req *r)
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
	count_success(r, u);
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
void h_change_password(struct req *r)
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
