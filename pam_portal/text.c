/*
 * text.c - the words of pam_portal.so, in English; their French is in
 * po/fr.po and follows the original web flow ("code de vérification",
 * "Envoyer un nouveau code", "Modifier l'adresse", "Continuer", "Annuler")
 * and the transcripts of DESIGN.md.  After a change here, `make pot` and
 * translate (README.md, "Languages and translations").
 * Every conversion a message carries is listed in `args`; the code passes
 * exactly those, and tests/unit_text.c checks both languages agree.
 */
#include "text.h"

/* xgettext knows these two (make pot): their first argument is a msgid. */
#define MSG(en_, args_)    { I18N(en_), (args_), false }
#define PROMPT(en_, args_) { I18N(en_), (args_), true }

const struct text text_table[TX_COUNT] = {
	[TX_UNAVAILABLE] = MSG(
		"The sign-in service is unavailable at the moment. Please try again later.", ""),
	[TX_LOCKED_FOR] = MSG(
		"Your account is locked after too many failed attempts. Try again in %s.", "s"),
	[TX_LOCKED_ADMIN] = MSG(
		"Your account is locked after too many failed attempts. "
		"It stays locked until an administrator unlocks it.", ""),
	[TX_ASK_PASSWORD] = PROMPT(
		"Password: ", ""),

	[TX_INTRO_SINCE] = MSG(
		"Your account must be connected to the new portal: "
		"you have not signed in since %s.", "s"),
	[TX_INTRO] = MSG(
		"Your account must be connected to the new portal before you can sign in.", ""),
	[TX_INTRO_RESET] = MSG(
		"Your account must be connected to the portal again: "
		"an administrator has asked for your password to be created anew.", ""),

	[TX_ASK_EMAIL_ORG] = PROMPT(
		"Preferred e-mail address (the one you gave %s; q to cancel): ", "s"),
	[TX_ASK_EMAIL] = PROMPT(
		"Preferred e-mail address (q to cancel): ", ""),
	[TX_NOT_EMAIL] = MSG(
		"That is not an e-mail address. Type it in the form name@example.org.", ""),
	[TX_CODE_SENT] = MSG(
		"If this is the address on file, a verification code has been sent to it. "
		"It is valid for %s.", "s"),
	[TX_CODE_RESENT] = MSG(
		"If this is the address on file, a new verification code has been sent to it. "
		"It replaces the previous one and is valid for %s.", "s"),
	[TX_CODE_RECENT] = MSG(
		"A verification code was already sent for this account recently. You can type it "
		"below, or ask for a new code in %s.", "s"),
	[TX_CODE_ELSEWHERE] = MSG(
		"A verification code was already sent for this account a moment ago, in another "
		"conversation: that code works only there. Type r in %s to get a new code here.",
		"s"),
	[TX_WAIT_RESEND] = MSG(
		"Please wait %s more before asking for a new code.", "s"),

	[TX_ASK_CODE] = PROMPT(
		"Verification code (r: send a new code, e: change the address, q: cancel): ", ""),
	[TX_ASK_CODE_NONE] = PROMPT(
		"Verification code (none asked for here yet; r: send a new code, "
		"e: change the address, q: cancel): ", ""),
	[TX_CODE_FORM] = MSG(
		"That is not a verification code. Type the digits from the e-mail, or r, e or q.", ""),
	[TX_CODE_WRONG_ONE] = MSG(
		"That code is not right. You have one try left.", ""),
	[TX_CODE_WRONG_MANY] = MSG(
		"That code is not right. You have %u tries left.", "u"),
	[TX_CODE_EXPIRED] = MSG(
		"This code has expired. Type r to get a new one.", ""),
	[TX_CODE_DEAD] = MSG(
		"This code no longer works. Type r to get a new one.", ""),

	[TX_VERIFIED] = MSG(
		"The e-mail address is verified.", ""),
	[TX_ASK_CONTINUE] = PROMPT(
		"Press Enter to continue (e: change the address, q: cancel): ", ""),

	[TX_ASK_NEW_PASSWORD] = PROMPT(
		"Create your new password (at least %u characters): ", "u"),
	[TX_ASK_PASSWORD_AGAIN] = PROMPT(
		"Type it again: ", ""),
	[TX_PASSWORD_MISMATCH] = MSG(
		"The two passwords are not the same.", ""),
	[TX_PW_TOO_SHORT] = MSG(
		"This password is too short: it must have at least %u characters.", "u"),
	[TX_PW_TOO_LONG] = MSG(
		"This password is too long.", ""),
	[TX_PW_BAD_UTF8] = MSG(
		"This password contains characters that are not valid text (UTF-8).", ""),
	[TX_PW_COMMON] = MSG(
		"This password is too common or too easy to guess.", ""),
	[TX_PW_HAS_USER] = MSG(
		"This password contains your user name.", ""),
	[TX_PW_HAS_EMAIL] = MSG(
		"This password contains your e-mail address.", ""),
	[TX_PW_GUESSABLE] = MSG(
		"This password would be too easy to guess: it is made of common words, names, "
		"dates, keys next to each other on the keyboard or repeated parts. "
		"Try a few words that have nothing to do with each other, or a sentence "
		"only you would write.", ""),
	[TX_PW_GIVE_UP] = MSG(
		"Your password was not created after %u tries. Nothing was changed.", "u"),
	[TX_TICKET] = MSG(
		"The verification has expired and nothing was changed. Please start again.", ""),

	[TX_CREATED_RELOGIN] = MSG(
		"Your password has been created. Sign in again with your new password.", ""),
	[TX_CREATED] = MSG(
		"Your password has been created.", ""),
	[TX_CANCELLED] = MSG(
		"Cancelled: nothing was changed.", ""),

	[TX_MUST_VERIFY] = MSG(
		"Your account must be connected to the new portal: you must first verify your "
		"e-mail address and create your password.", ""),

	[TX_ASK_CURRENT_PASSWORD] = PROMPT(
		"Current password: ", ""),
	[TX_WRONG_CURRENT] = MSG(
		"That is not your current password. Nothing was changed.", ""),
	[TX_ASK_CHANGE_PASSWORD] = PROMPT(
		"New password (at least %u characters): ", "u"),
	[TX_CHANGE_GIVE_UP] = MSG(
		"Your password was not changed: none of the %u tries was accepted.", "u"),
	[TX_CHANGED] = MSG(
		"Your password has been changed.", ""),
};
