/*
 * flow.h - the verification conversation of a pending user (DESIGN.md,
 * "The conversation"): e-mail address, code, continue, new password.
 */
#ifndef PAM_PORTAL_FLOW_H
#define PAM_PORTAL_FLOW_H

#include "session.h"

/* At most this many tries at a new password that the helper accepts. */
#define FLOW_PASSWORD_ROUNDS 3

/* Run the conversation for s->user, whose REQ_STATUS said ST_PENDING.
 * PAM_SUCCESS only when a password was created and after_reset=continue;
 * PAM_AUTH_ERR when it was created and after_reset=relogin, when the
 * person cancels, fails, or the conversation cannot carry the questions;
 * PAM_AUTHINFO_UNAVAIL when the helper fails. */
int flow_pending(struct session *s);

#endif
