/*
 * handlers.h - what each request does: one handler a request type, the
 * handlers of a family in a file of their own.  dispatch.c's table says
 * who may send each, and which run with the store lock held (H_LOCKED,
 * marked "lock held" below); the others take it themselves, in short
 * turns, because hashing a password takes far too long to hold up
 * everyone.  Each answers through request.h's reply().
 */
#ifndef PORTAL_HANDLERS_H
#define PORTAL_HANDLERS_H

#include "request.h"

/* ---- a sign-in (req_signin.c) ------------------------------------------ */

/* REQ_STATUS, lock held: the member's state, and what the module needs to
 * talk to the member; for a locked member, TAG_REASON says what they are
 * under the lock (why pending, or PENDING_NONE: active). */
void h_status(struct req *r);
/* REQ_AUTH: an active member's password checked, a failure counted. */
void h_auth(struct req *r);
/* REQ_CHANGE_PASSWORD: the current password checked as by h_auth, then
 * the new one judged and taken. */
void h_change_password(struct req *r);
/* REQ_CHECK_PASSWORD: a new password judged as soon as it is first typed,
 * for an active member as by h_change_password (the current password
 * checked and counted) but nothing stored; for a pending one, with the
 * reset ticket, by check_by_ticket. */
void h_check_password(struct req *r);

/* ---- a pending member's verification (req_verify.c) -------------------- */

/* REQ_SEND_CODE, lock held: a code made, and mailed if the address is the
 * one on file. */
void h_send_code(struct req *r);
/* REQ_VERIFY_CODE, lock held: a wrong code costs a try and counts as a
 * failure; the right one gives a single-use reset ticket. */
void h_verify_code(struct req *r);
/* REQ_SET_PASSWORD: with the ticket, the new password judged and taken. */
void h_set_password(struct req *r);
/* REQ_CHECK_PASSWORD's half for a pending member (h_check_password hands
 * it the ticket and the new password): judged, the ticket left live. */
void check_by_ticket(struct req *r, const struct proto_field *ticket,
		     const struct proto_field *pw);

/* ---- administration, root's (req_admin.c, req_import.c) ---------------- */

/* REQ_USER_ADD, REQ_USER_DEL, REQ_USER_SHOW, lock held. */
void h_user_add(struct req *r);
void h_user_del(struct req *r);
void h_user_show(struct req *r);
/* REQ_USER_LIST, lock held: a page of members from TAG_CURSOR, of one
 * state or all. */
void h_user_list(struct req *r);
/* REQ_USER_RESET, lock held: the member starts over, pending, with no
 * password, code or ticket. */
void h_user_reset(struct req *r);
/* REQ_USER_UNLOCK, lock held. */
void h_user_unlock(struct req *r);
/* REQ_OUTBOX, lock held: a page of the outbox from TAG_CURSOR. */
void h_outbox(struct req *r);
/* REQ_DAEMON_STATUS, lock held: the version, the uptime, the count of
 * members in each state and of mail waiting. */
void h_daemon_status(struct req *r);
/* REQ_IMPORT, lock held: a batch of members, each line added, already
 * there, or refused with its reason; one sync for the batch. */
void h_import(struct req *r);

#endif
