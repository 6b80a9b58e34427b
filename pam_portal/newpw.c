/*
 * newpw.c - the new password: two prompts with echo off, the helper's
 * policy said in the person's words after the first, at most NEWPW_ROUNDS
 * rounds.
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
	[PW_GUESSABLE] = { TX_PW_GUESSABLE, "easy to guess" },
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

/* One password to the helper, by `send` (how->check or how->send).  True
 * when it was refused (too long to send, or by the policy) and the person
 * told why: another round may follow.  False with the helper's result in
 * *result otherwise. */
static bool refused(struct call *s, newpw_send send, void *ctx, const char *password,
		    int *result)
{
	if (strlen(password) > PORTAL_PASSWORD_MAX) {
		conv_say(&s->conv, PAM_ERROR_MSG, TX_PW_TOO_LONG);
		return true;
	}
	*result = send(s, ctx, password);
	return *result == RESULT_POLICY && say_policy(s);
}

/* A password prompt, echo off; NEWPW_ANSWERED with a password in *answer. */
static enum newpw_end ask(struct call *s, char **answer, enum text_id id, unsigned min_len)
{
	conv_ask(&s->conv, false, answer, id, min_len);
	if (!*answer)
		return NEWPW_FAILED;
	if ((*answer)[0] == '\0') {
		conv_drop(answer);
		return NEWPW_CANCELLED;
	}
	return NEWPW_ANSWERED;
}

/* One round: typed, judged, typed again, stored.  NEWPW_ANSWERED with
 * *again when it was refused or mistyped (the person told why), else with
 * the helper's last result in *result. */
static enum newpw_end round_of(struct call *s, const struct newpw *how, int *result, bool *again)
{
	char *first, *second = NULL;
	enum newpw_end end = ask(s, &first, how->ask, (unsigned)s->min_len);

	*again = false;
	if (end != NEWPW_ANSWERED)
		return end;
	*again = refused(s, how->check, how->ctx, first, result);
	if (*again || *result != RESULT_OK)
		goto out;
	end = ask(s, &second, TX_ASK_PASSWORD_AGAIN, 0);
	if (end != NEWPW_ANSWERED)
		goto out;
	if (strcmp(first, second) != 0) {
		conv_say(&s->conv, PAM_ERROR_MSG, TX_PASSWORD_MISMATCH);
		*again = true;
	} else {
		*again = refused(s, how->send, how->ctx, first, result);
		if (*result == RESULT_OK)
			pam_set_item(s->pamh, PAM_AUTHTOK, first);
	}
out:
	conv_drop(&first);
	conv_drop(&second);
	return end;
}

enum newpw_end newpw_ask(struct call *s, const struct newpw *how, int *result)
{
	/* Never typed here, so never judged early: it is PAM_AUTHTOK already. */
	if (how->given)
		return refused(s, how->send, how->ctx, how->given, result) ? NEWPW_REFUSED
									    : NEWPW_ANSWERED;
	for (unsigned round = 0; round < NEWPW_ROUNDS; round++) {
		bool again;
		enum newpw_end end = round_of(s, how, result, &again);

		if (end != NEWPW_ANSWERED || !again)
			return end;
	}
	pam_syslog(s->pamh, LOG_NOTICE, "user %s: no acceptable password after %u rounds",
		   s->user, NEWPW_ROUNDS);
	conv_say(&s->conv, PAM_ERROR_MSG, how->give_up, (unsigned)NEWPW_ROUNDS);
	return NEWPW_REFUSED;
}
