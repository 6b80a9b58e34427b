/*
 * text.h - every message pam_portal.so shows to a person, in French and
 * English.  Messages are named by an id so that the whole table can be
 * walked: tests/unit_text.c checks that each one exists in both languages
 * and that both carry the conversions the code passes to it.
 */
#ifndef PAM_PORTAL_TEXT_H
#define PAM_PORTAL_TEXT_H

#include <stdbool.h>
#include "i18n.h"

enum text_id {
	/* notices outside the verification conversation */
	TX_UNAVAILABLE,
	TX_LOCKED_FOR,          /* %s: how long, in words */
	TX_LOCKED_ADMIN,
	TX_ASK_PASSWORD,
	/* 1. why the verification is needed */
	TX_INTRO_SINCE,         /* %s: the cutover date, in words */
	TX_INTRO,
	TX_INTRO_RESET,
	/* 2-3. the e-mail address and the code it is sent */
	TX_ASK_EMAIL_ORG,       /* %s: the organization */
	TX_ASK_EMAIL,
	TX_NOT_EMAIL,
	TX_CODE_SENT,           /* %s: how long the code lives */
	TX_CODE_RESENT,         /* %s: how long the code lives */
	TX_CODE_RECENT,         /* %s: how long before a new code */
	TX_CODE_ELSEWHERE,      /* %s: how long before a new code */
	TX_WAIT_RESEND,         /* %s: how long before a new code */
	/* 4. the code */
	TX_ASK_CODE,
	TX_ASK_CODE_NONE,       /* no code asked for in this conversation yet */
	TX_CODE_FORM,
	TX_CODE_WRONG_ONE,
	TX_CODE_WRONG_MANY,     /* %u: tries left, at least 2 */
	TX_CODE_EXPIRED,
	TX_CODE_DEAD,
	/* 5. verified */
	TX_VERIFIED,
	TX_ASK_CONTINUE,
	/* 6. the new password */
	TX_ASK_NEW_PASSWORD,    /* %u: the least number of characters */
	TX_ASK_PASSWORD_AGAIN,
	TX_PASSWORD_MISMATCH,
	TX_PW_TOO_SHORT,        /* %u: the least number of characters */
	TX_PW_TOO_LONG,
	TX_PW_BAD_UTF8,
	TX_PW_COMMON,
	TX_PW_HAS_USER,
	TX_PW_HAS_EMAIL,
	TX_PW_GUESSABLE,
	TX_PW_GIVE_UP,          /* %u: how many rounds were tried */
	TX_TICKET,
	/* 7. and the end */
	TX_CREATED_RELOGIN,
	TX_CREATED,
	TX_CANCELLED,
	/* account stage: a pending user signed in another way (an SSH key) */
	TX_MUST_VERIFY,
	/* password stage: an active user changes their password */
	TX_ASK_CURRENT_PASSWORD,
	TX_WRONG_CURRENT,
	TX_ASK_CHANGE_PASSWORD, /* %u: the least number of characters */
	TX_CHANGE_GIVE_UP,      /* %u: how many rounds were tried */
	TX_CHANGED,
	TX_COUNT
};

struct text {
	struct i18n_text t;
	const char *args;  /* printf conversions both languages carry, in order: "", "s", "u" */
	bool prompt;       /* a question: ends with ": " (English) or " : " (French) */
};

extern const struct text text_table[TX_COUNT];

static inline const char *text(enum lang l, enum text_id id)
{
	return i18n(l, &text_table[id].t);
}

#endif
