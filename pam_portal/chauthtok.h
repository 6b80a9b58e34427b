/*
 * chauthtok.h - the password stage (pam_sm_chauthtok): passwd for an
 * active user, and the verification for a pending one.
 */
#ifndef PAM_PORTAL_CHAUTHTOK_H
#define PAM_PORTAL_CHAUTHTOK_H

#include "call.h"

/* One of the two calls libpam makes, PAM_PRELIM_CHECK then
 * PAM_UPDATE_AUTHTOK, in `flags`; the PAM result. */
int chauthtok(struct call *s, int flags);

#endif
