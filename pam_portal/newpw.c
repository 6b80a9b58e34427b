/*
 * newpw.c - the new password: two prompts with echo off, the helper's
 * policy said in the person's words, at most NEWPW_ROUNDS rounds.
 */
#include "newpw.h"

#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>

/* What the person is told, and what the log says, for each policy_reason. */
static const struct {
	enum text_id text;
	const char *log;
} policy[] = {
	[PW_TOO_SHORT] = { TX_PW_TOO_SHORT, "too short" },
	[PW_TOO_LONG] = { TX_PW_TOO_LONG, "too long" },
	[PW_BAD_UTF8] = { TX_PW_BAD_UTF8, "not UTF-8" },
	[PW_COMMON] = { TX_PW_COMMON, "too common" },
	[PW_HAS_USER] = { TX_PW_HAS_USER, "contains the user name" },
	[PW_HAS_EMAIL] = { TX_PW_HAS_EMAIL, "contains the e-mail address" },
};

/* RESULT_POLICY in s->x->resp: say why.  False when the reason is not one we
 * know (the caller then treats the answer as nonsense). */
static bool say_policy(struct call *s)
{
	uint32_t why;

	if (!proto_get_u32(&s->x->resp, TAG_REASON, &why) || why == PW_OK ||
	    why >= sizeof policy / sizeof policy[0])
		return false;
	pam_syslog(s->pamh, LOG_NOTICE, "user %s: new password refused: %s",
		   s->user, policy[why].log);
	if (why == PW_TOO_SHORT)
		conv_say(&s->conv, PAM_ERROR_MSG, TX_PW_TOO_SHORT, (unsigned)s->min_len);
	else
		conv_say(&s->conv, PAM_ERROR_MSG, policy[why].text);
	return true;
}

/* One password to the helper.  True when it was refused (too long to
 * send, or by the policy) and the person told why: another round may
 * follow.  False with the helper's result in *result otherwise. */
static bool refused(struct call *s, const struct newpw *how, const char *password,
		    int *result)
{
	if (strlen(password) > PORTAL_PASSWORD_MAX) {
		conv_say(&s->conv, PAM_ERROR_MSG, TX_PW_TOO_LONG);
		return true;
	}
	*result = how->send(s, how->ctx, password);
	if (*result == RESULT_OK)
		pam_set_item(s->pamh, PAM_AUTHTOK, password);
	return *result == RESULT_POLICY && say_policy(s);
}

/* The password twice; NEWPW_ANSWERED with both when they are there. */
static enum newpw_end ask_twice(struct call *s, const struct newpw *how,
				char **first, char **second)
{
	*second = NULL;
	conv_ask(&s->conv, false, first, how->ask, (unsigned)s->min_len);
	if (*first && (*first)[0] != '\0')
		conv_ask(&s->conv, false, second, TX_ASK_PASSWORD_AGAIN);
	if (!*first || ((*first)[0] != '\0' && !*second)) {
		conv_drop(first);
		return NEWPW_FAILED;
	}
	if ((*first)[0] == '\0' || (*second)[0] == '\0') {
		conv_drop(first);
		conv_drop(second);
		return NEWPW_CANCELLED;
	}
	return NEWPW_ANSWERED;
}

enum newpw_end newpw_ask(struct call *s, const struct newpw *how, int *result)
{
	if (how->given)
		return refused(s, how, how->given, result) ? NEWPW_REFUSED : NEWPW_ANSWERED;
	for (unsigned round = 0; round < NEWPW_ROUNDS; round++) {
		char *first, *second;
		enum newpw_end end = ask_twice(s, how, &first, &second);
		bool again = true;

		if (end != NEWPW_ANSWERED)
			return end;
		if (strcmp(first, second) != 0)
			conv_say(&s->conv, PAM_ERROR_MSG, TX_PASSWORD_MISMATCH);
		else
			again = refused(s, how, first, result);
		conv_drop(&first);
		conv_drop(&second);
		if (!again)
			return NEWPW_ANSWERED;
	}
	pam_syslog(s->pamh, LOG_NOTICE, "user %s: no acceptable password after %u rounds",
		   s->user, NEWPW_ROUNDS);
	conv_say(&s->conv, PAM_ERROR_MSG, how->give_up, (unsigned)NEWPW_ROUNDS);
	return NEWPW_REFUSED;
}
