/*
 * account.h - the account stage (pam_sm_acct_mgmt): is this managed user
 * in good standing, whichever way they authenticated?
 */
#ifndef PAM_PORTAL_ACCOUNT_H
#define PAM_PORTAL_ACCOUNT_H

#include "call.h"

/* PAM_IGNORE (not managed), PAM_SUCCESS (active), PAM_NEW_AUTHTOK_REQD
 * (pending), PAM_PERM_DENIED (locked, or the helper cannot answer). */
int account(struct call *s, int flags);

#endif
