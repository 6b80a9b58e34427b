/*
 * signin.c - the password of an active user.
 *
 * use_first_pass and try_first_pass are handled here rather than by
 * pam_get_authtok(): in Linux-PAM 1.5.2 that function takes a password
 * left by an earlier module whatever the options say, never asks again
 * when it is wrong (so try_first_pass would mean nothing), and answers a
 * failed conversation with "Password change aborted." and
 * PAM_AUTHTOK_ERR, words meant for the password stack.
 */
#include "signin.h"

#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>

/* Ask the helper about one password; the result, or -1. */
static int check(struct session *s, const char *password, const char *what)
{
	/* Longer than any password the helper could have stored. */
	if (strlen(password) > PORTAL_PASSWORD_MAX) {
		session_debug(s, "user %s: %s longer than any password", s->user, what);
		return R_PASSWORD;
	}
	session_begin(s, REQ_AUTH);
	proto_put_str(&s->x->req, F_PASSWORD, password);
	return session_call(s, what);
}

static int outcome(struct session *s, int r, bool *state_changed)
{
	switch (r) {
	case -1:
		return session_unavailable(s);
	case R_OK:
		pam_syslog(s->pamh, LOG_INFO, "user %s: signed in with the portal password", s->user);
		return PAM_SUCCESS;
	case R_PASSWORD:
		/* Said by the application, as for pam_unix: no words of ours. */
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: wrong password", s->user);
		return PAM_AUTH_ERR;
	case R_LOCKED:
		return session_locked_answer(s, "password");
	case R_STATE:
		session_debug(s, "user %s: no longer active, asking the state again", s->user);
		*state_changed = true;
		return PAM_AUTH_ERR;
	default:
		return session_unexpected(s, "password", r);
	}
}

/* The password left by an earlier module, or NULL. */
static const char *earlier_password(struct session *s)
{
	const void *item = NULL;

	if (pam_get_item(s->pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS)
		return NULL;
	return item;
}

int signin_active(struct session *s, bool *state_changed)
{
	char *typed = NULL;
	int r;

	*state_changed = false;
	if (s->args->first_pass != FIRST_PASS_NO) {
		const char *earlier = earlier_password(s);

		if (earlier) {
			r = check(s, earlier, "password from an earlier module");
			if (r != R_PASSWORD || s->args->first_pass == FIRST_PASS_USE)
				return outcome(s, r, state_changed);
		} else if (s->args->first_pass == FIRST_PASS_USE) {
			pam_syslog(s->pamh, LOG_ERR, "user %s: use_first_pass, but no earlier "
				   "module left a password", s->user);
			return PAM_AUTH_ERR;
		}
	}
	if (conv_ask(&s->conv, false, &typed, TX_ASK_PASSWORD) != PAM_SUCCESS) {
		pam_syslog(s->pamh, LOG_ERR, "user %s: the conversation failed while asking "
			   "for the password: %s", s->user, pam_strerror(s->pamh, s->conv.failed));
		return PAM_AUTH_ERR;
	}
	/* Left for the modules stacked after this one (use_first_pass,
	 * keyrings), whatever the outcome, as pam_unix does. */
	pam_set_item(s->pamh, PAM_AUTHTOK, typed);
	r = check(s, typed, "password");
	conv_drop(&typed);
	return outcome(s, r, state_changed);
}
