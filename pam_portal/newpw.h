/*
 * newpw.h - a new password, typed twice, until the helper takes it.
 *
 * The same questions and the same policy for a first password (set with
 * the reset ticket at the end of the verification, flow.c) and for a
 * changed one (set with the current password, chauthtok.c); only the
 * requests that judge and store it and a few words differ.  The helper
 * judges the password as soon as it is first typed (as pam_pwquality
 * does), so nobody types a refused password twice; it judges it again
 * when it stores it, and that word is the one that counts.
 */
#ifndef PAM_PORTAL_NEWPW_H
#define PAM_PORTAL_NEWPW_H

#include "call.h"

/* At most this many tries at a new password that the helper accepts. */
#define NEWPW_ROUNDS 3

/* Send the request that judges or stores `password`: the helper's result
 * (its answer in s->x->resp), or -1 when it could not be asked. */
typedef int (*newpw_send)(struct call *s, void *ctx, const char *password);

struct newpw {
	enum text_id ask;      /* the first prompt; %u: the least length */
	enum text_id give_up;  /* after NEWPW_ROUNDS refusals; %u: the rounds */
	newpw_send check;      /* REQ_CHECK_PASSWORD: judged, nothing stored */
	newpw_send send;       /* the request that stores it */
	void *ctx;
	const char *given;     /* use_authtok: the only password, never asked */
};

enum newpw_end {
	NEWPW_ANSWERED,   /* the helper's last result is in *result (RESULT_OK: stored) */
	NEWPW_CANCELLED,  /* an empty answer */
	NEWPW_REFUSED,    /* no password the helper took; the person was told why */
	NEWPW_FAILED,     /* the conversation failed (s->conv.failed) */
};

/* Ask (or take how->given), have it judged, ask again and check that both
 * match, send; on RESULT_POLICY from either request say why and start
 * again.  A result of the judging request other than RESULT_OK and
 * RESULT_POLICY ends it as the storing one's would (NEWPW_ANSWERED).  On RESULT_OK the new password is left in PAM_AUTHTOK
 * for the modules stacked after this one, as after any password prompt. */
enum newpw_end newpw_ask(struct call *s, const struct newpw *how, int *result);

#endif
