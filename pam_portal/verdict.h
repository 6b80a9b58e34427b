/*
 * verdict.h - what the auth stage found, kept on the PAM handle for the
 * account stage.
 *
 * login, su and sshd's password sign-in run auth and account in one
 * process, one after the other: asking the helper a second time would
 * cost every sign-in a round trip and tell nothing new.  Only two
 * outcomes are kept, with the user name they are about: "not managed",
 * and "active, password checked just now".  A pending user's auth may
 * itself change the state, and a failure proves nothing, so then nothing
 * is kept and account asks as before; so does an account stage run in
 * another process (sshd after a key, or after keyboard-interactive).
 */
#ifndef PAM_PORTAL_VERDICT_H
#define PAM_PORTAL_VERDICT_H

#include <stdbool.h>
#include <security/pam_modules.h>
#include "proto.h"

/* Keep STATE_UNMANAGED or STATE_ACTIVE for user; anything else is not kept. */
void verdict_keep(pam_handle_t *pamh, const char *user, enum portal_state state);
/* Forget what an earlier auth on this handle found. */
void verdict_forget(pam_handle_t *pamh);
/* What auth found for this very user, if it kept anything. */
bool verdict_find(pam_handle_t *pamh, const char *user, enum portal_state *state);

#endif
