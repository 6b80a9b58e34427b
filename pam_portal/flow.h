/*
 * flow.h - the verification conversation of a pending user (DESIGN.md,
 * "The conversation"): e-mail address, code, continue, new password.
 */
#ifndef PAM_PORTAL_FLOW_H
#define PAM_PORTAL_FLOW_H

#include "newpw.h"
#include "call.h"

/* Run the conversation for s->user, whose REQ_STATUS said STATE_PENDING.
 * PAM_SUCCESS only when a password was created, and in auth only with
 * after_reset=continue; PAM_AUTH_ERR when it was created in auth with
 * after_reset=relogin; call_refused() when the person cancels, fails,
 * or the conversation cannot carry the questions; call_unavailable()
 * when the helper fails, call_locked() when the user is locked. */
int flow_pending(struct call *s);

#endif
