/*
 * signin.h - an active user signs in with their portal password.
 */
#ifndef PAM_PORTAL_SIGNIN_H
#define PAM_PORTAL_SIGNIN_H

#include <stdbool.h>
#include "session.h"

/* Get the password (from an earlier module per use_first_pass /
 * try_first_pass, or by asking) and have the helper check it.  The PAM
 * result; *state_changed is set instead when the helper says the user is
 * no longer active (reset, or the cutover moved, since REQ_STATUS): the
 * caller then asks for the state again. */
int signin_active(struct session *s, bool *state_changed);

#endif
