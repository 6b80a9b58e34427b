/*
 * req_password.c - a new password judged and taken.  See req_password.h.
 */
#include "req_password.h"

#include <stdio.h>
#include "outbox.h"
#include "policy.h"
#include "storage.h"

int judge_password(struct req *r, const struct proto_field *pw, const char *user,
		   const char *email, char hash[crypto_pwhash_STRBYTES])
{
	int reason = policy_check((const char *)pw->data, pw->len, user, email,
				  r->cfg.password_min_length);

	if (reason == POLICY_ERROR ||
	    (reason == PW_OK && hash && policy_hash(&r->d->hash_slots, (const char *)pw->data,
						    pw->len, hash) != 0)) {
		reply_detail(r, RESULT_INTERNAL, "the password could not be checked or hashed");
		return POLICY_ERROR;
	}
	return reason;
}

void reply_policy(struct req *r, int reason)
{
	reply(r, RESULT_POLICY);
	proto_put_u32(r->resp, TAG_REASON, (uint32_t)reason);
}

void accept_password(struct req *r, struct user_record *u, const char *hash,
		     enum lang lang, const char *host)
{
	snprintf(u->pwhash, sizeof u->pwhash, "%s", hash);
	u->last_signin = (uint64_t)r->now;
	u->reset = false;
	count_success(r, u);
	user_clear_ticket(u);
	if (!queue_notice(r, u, lang, host)) {
		reply(r, RESULT_STORAGE);
		r->txn_rc = STORAGE_ERROR;
		return;
	}
	if (!commit(r, u))
		return;
	reply(r, RESULT_OK);
	note(r, "password created");
}
