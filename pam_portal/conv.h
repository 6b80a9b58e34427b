/*
 * conv.h - the PAM conversation, in the words of text.h.
 *
 * A question either gets an answer (possibly empty: the person pressed
 * Enter) or fails: the application's conversation function returned an
 * error or no answer at all.  The two are kept apart because an empty
 * answer means "cancel" while a failure means the application cannot
 * carry this conversation (sshd in password mode refuses every question
 * that echoes), and the module must then fail closed and say why in the log.
 */
#ifndef PAM_PORTAL_CONV_H
#define PAM_PORTAL_CONV_H

#include <stdbool.h>
#include <security/pam_modules.h>
#include "text.h"

/* Once the conversation has failed it stays failed: every later call
 * returns the same result at once, so a run of messages can be checked
 * once at its end. */
struct conv {
	pam_handle_t *pamh;
	enum lang lang;
	int failed;      /* PAM_SUCCESS, or the first failure */
};

/* Show a message (PAM_TEXT_INFO or PAM_ERROR_MSG) with the conversions
 * text_table[id].args lists; the conversation's PAM result. */
int conv_say(struct conv *c, int style, enum text_id id, ...);

/* Ask a question; echo off for secrets.  On PAM_SUCCESS *answer is a
 * malloc'd string, stripped of surrounding blanks when echoed (what people
 * type in the open); a secret is kept exactly as typed.  Any other result
 * is the conversation's failure and *answer is NULL. */
int conv_ask(struct conv *c, bool echo, char **answer, enum text_id id, ...);

/* Wipe and free an answer (it may be a code or a password); NULL is fine. */
void conv_drop(char **answer);

/* The command an echoed answer stands for: 'r', 'e' or 'q' (typed in
 * either case), or 0 when it is something else. */
int conv_command(const char *answer);

#endif
