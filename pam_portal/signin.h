/*
 * signin.h - an active user's password, checked by the helper: at sign-in
 * (auth), or the current password before a change (password stage).
 */
#ifndef PAM_PORTAL_SIGNIN_H
#define PAM_PORTAL_SIGNIN_H

#include <stdbool.h>
#include "call.h"

/* Get the password (from an earlier module per use_first_pass /
 * try_first_pass, PAM_AUTHTOK at sign-in and PAM_OLDAUTHTOK in the
 * password stage, or by asking, left in that item) and have the helper
 * check it.  The PAM result; *state_changed is set instead when the helper
 * says the user is no longer active (reset, or the cutover moved, since
 * REQ_STATUS): the caller then asks for the state again. */
int signin_active(struct call *s, bool *state_changed);

#endif
