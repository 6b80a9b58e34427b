/*
 * signin.c - the password of an active user: to sign in (auth), or as the
 * current password before a change (the password stage's preliminary
 * check).  Both are checked and counted alike by the helper.
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

/* What differs between the two uses. */
static const struct kind {
	int item;                 /* where an earlier module leaves it */
	enum text_id prompt;
	enum proto_type request;  /* without TAG_NEW_PASSWORD: a check only */
	const char *what;         /* for the log */
} kinds[] = {
	[STAGE_AUTH] = { PAM_AUTHTOK, TX_ASK_PASSWORD, REQ_AUTH, "password" },
	[STAGE_PASSWORD] = { PAM_OLDAUTHTOK, TX_ASK_CURRENT_PASSWORD, REQ_CHANGE_PASSWORD,
			     "current password" },
};

/* Ask the helper about one password; the result, or -1. */
static int check(struct call *s, const struct kind *k, const char *password,
		 const char *from)
{
	/* Longer than any password the helper could have stored. */
	if (strlen(password) > PORTAL_PASSWORD_MAX) {
		call_debug(s, "user %s: %s%s longer than any password", s->user, k->what, from);
		return RESULT_PASSWORD;
	}
	call_begin(s, k->request);
	proto_put_str(&s->x->req, TAG_PASSWORD, password);
	return call_helper(s, k->what);
}

static int outcome(struct call *s, const struct kind *k, int r, bool *state_changed)
{
	switch (r) {
	case -1:
		return call_unavailable(s);
	case RESULT_OK:
		pam_syslog(s->pamh, LOG_INFO, "user %s: %s", s->user,
			   s->stage == STAGE_AUTH ? "signed in with the portal password" :
			   "current password checked");
		return PAM_SUCCESS;
	case RESULT_PASSWORD:
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: wrong %s", s->user, k->what);
		/* At sign-in the application says it, as for pam_unix; passwd
		 * only says "Authentication token manipulation error". */
		if (s->stage == STAGE_PASSWORD && !s->silent)
			conv_say(&s->conv, PAM_ERROR_MSG, TX_WRONG_CURRENT);
		/* pam_unix's answer to a wrong current password too */
		return PAM_AUTH_ERR;
	case RESULT_LOCKED:
		return call_locked_answer(s, k->what);
	case RESULT_STATE:
		call_debug(s, "user %s: no longer active, asking the state again", s->user);
		*state_changed = true;
		return call_refused(s);
	default:
		return call_unexpected(s, k->what, r);
	}
}

/* The password left by an earlier module, or NULL. */
static const char *earlier_password(struct call *s, const struct kind *k)
{
	const void *item = NULL;

	if (pam_get_item(s->pamh, k->item, &item) != PAM_SUCCESS)
		return NULL;
	return item;
}

/* The same secret, without stopping at the first byte that differs. */
static bool same_secret(const char *a, const char *b)
{
	size_t n = strlen(a);
	volatile unsigned char d = 0;

	if (strlen(b) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int signin_active(struct call *s, bool *state_changed)
{
	const struct kind *k = &kinds[s->stage == STAGE_PASSWORD ? STAGE_PASSWORD : STAGE_AUTH];
	const char *earlier = NULL;
	char *typed = NULL;
	bool again;
	int r;

	*state_changed = false;
	if (s->args->first_pass != FIRST_PASS_NO) {
		earlier = earlier_password(s, k);
		if (earlier) {
			r = check(s, k, earlier, " from an earlier module");
			if (r != RESULT_PASSWORD || s->args->first_pass == FIRST_PASS_USE)
				return outcome(s, k, r, state_changed);
		} else if (s->args->first_pass == FIRST_PASS_USE) {
			pam_syslog(s->pamh, LOG_ERR, "user %s: use_first_pass, but no earlier "
				   "module left a %s", s->user, k->what);
			return s->stage == STAGE_AUTH ? PAM_AUTH_ERR : PAM_AUTHTOK_RECOVERY_ERR;
		}
	}
	if (conv_ask(&s->conv, false, &typed, k->prompt) != PAM_SUCCESS) {
		pam_syslog(s->pamh, LOG_ERR, "user %s: the conversation failed while asking "
			   "for the %s: %s", s->user, k->what, pam_strerror(s->pamh, s->conv.failed));
		return call_refused(s);
	}
	/* try_first_pass: the earlier module's password, wrong here, typed
	 * again at this prompt (the person sees a second "Password:") is one
	 * guess: it was checked and counted once, and is not sent again.
	 * Compared before the item is replaced, which frees `earlier`. */
	again = earlier && same_secret(typed, earlier);
	/* Left for the modules stacked after this one (use_first_pass,
	 * keyrings), as pam_unix does; a failure in auth takes it back
	 * (pam_portal.c).  In the password stage the update phase takes the
	 * current password from there. */
	pam_set_item(s->pamh, k->item, typed);
	if (again)
		call_debug(s, "user %s: the %s typed is the earlier module's: checked already",
			   s->user, k->what);
	r = again ? RESULT_PASSWORD : check(s, k, typed, "");
	conv_drop(&typed);
	return outcome(s, k, r, state_changed);
}
