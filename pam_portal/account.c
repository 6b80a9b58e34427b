/*
 * account.c - the account stage.
 *
 * It matters when `auth` did not run this module: sshd with a public key
 * skips the PAM auth stage altogether, so a pending user would be let in
 * without ever verifying the address.  PAM_NEW_AUTHTOK_REQD makes sshd
 * (and login, su) have the password changed first: the password stage
 * (chauthtok.c) then runs the verification.  After a verification in auth
 * with after_reset=continue the user is active by now: no second round.
 *
 * An active user gets PAM_SUCCESS rather than PAM_IGNORE: the module knows
 * the user and finds the account in order, which is what pam_unix says of
 * an account it knows.  Under `required` it decides nothing alone (pam_unix
 * still checks /etc/shadow ageing after it), and a stack where every
 * module ignored the user would fail.
 */
#include "account.h"

#include <syslog.h>
#include <security/pam_ext.h>
#include "verdict.h"

int account(struct call *s, int flags)
{
	enum portal_state known;
	int rc;

	(void)flags;  /* PAM_SILENT is in s */
	if (verdict_find(s->pamh, s->user, &known)) {
		call_debug(s, "user %s: %s, as auth found just now", s->user,
			   known == STATE_ACTIVE ? "active" : "not managed, ignored");
		return known == STATE_ACTIVE ? PAM_SUCCESS : PAM_IGNORE;
	}
	rc = call_managed(s);
	if (rc != PAM_SUCCESS)
		return rc;
	if (s->state == STATE_ACTIVE) {
		call_debug(s, "user %s: active", s->user);
		return PAM_SUCCESS;
	}
	pam_syslog(s->pamh, LOG_NOTICE, "user %s: pending, signed in without the portal: "
		   "verification required before the session", s->user);
	if (!s->silent)
		conv_say(&s->conv, PAM_TEXT_INFO, TX_MUST_VERIFY);
	return PAM_NEW_AUTHTOK_REQD;
}
