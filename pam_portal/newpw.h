/*
 * newpw.h - a new password, typed twice, until the helper takes it.
 *
 * The same questions and the same policy for a first password (set with
 * the reset ticket at the end of the verification, flow.c) and for a
 * changed one (set with the current password, chauthtok.c); only the
 * request that stores it and a few words differ.
 */
#ifndef PAM_PORTAL_NEWPW_H
#define PAM_PORTAL_NEWPW_H

#include "call.h"

/* At most this many tries at a new password that the helper accepts. */
#define NEWPW_ROUNDS 3

/* Send the request that stores `password`: the helper's result (its
 * answer in s->x->resp), or -1 when it could not be asked. */
typedef int (*newpw_send)(struct call *s, void *ctx, const char *password);

struct newpw {
	enum text_id ask;      /* the first prompt; %u: the least length */
	enum text_id give_up;  /* after NEWPW_ROUNDS refusals; %u: the rounds */
	newpw_send send;
	void *ctx;
	const char *given;     /* use_authtok: the only password, never asked */
};

enum newpw_end {
	NEWPW_ANSWERED,   /* the helper's last result is in *result (RESULT_OK: stored) */
	NEWPW_CANCELLED,  /* an empty answer */
	NEWPW_REFUSED,    /* no password the helper took; the person was told why */
	NEWPW_FAILED,     /* the conversation failed (s->conv.failed) */
};

/* Ask (or take how->given), check that both match, send, and on RESULT_POLICY
 * say why and ask again.  On RESULT_OK the new password is left in PAM_AUTHTOK
 * for the modules stacked after this one, as after any password prompt. */
enum newpw_end newpw_ask(struct call *s, const struct newpw *how, int *result);

#endif
