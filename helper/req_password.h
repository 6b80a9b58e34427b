/*
 * req_password.h - a new password, whichever way it comes: set with a
 * reset ticket (REQ_SET_PASSWORD) or changed by an active member
 * (REQ_CHANGE_PASSWORD).  Both judge it by the same policy and take it
 * the same way.
 */
#ifndef PORTAL_REQ_PASSWORD_H
#define PORTAL_REQ_PASSWORD_H

#include <sodium.h>
#include "request.h"

/* The policy's word on a new password for user (PW_OK: its hash is in
 * hash, unless hash is NULL: the early judgement of REQ_CHECK_PASSWORD,
 * which stores nothing), or POLICY_ERROR after answering.  The slow part
 * of setting a password: the store lock is not held. */
int judge_password(struct req *r, const struct proto_field *pw, const char *user,
		   const char *email, char hash[crypto_pwhash_STRBYTES]);
/* RESULT_POLICY, and why (TAG_REASON, an enum policy_reason). */
void reply_policy(struct req *r, int reason);
/* Store lock held: the new password's hash in the record, the member
 * active, and the notice mail queued; answered. */
void accept_password(struct req *r, struct user_record *u, const char *hash,
		     enum lang lang, const char *host);

#endif
