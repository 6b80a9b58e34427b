/*
 * conv.c - talk to the person through the application's conversation.
 */
#include "conv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <security/pam_ext.h>

/* Long enough for the longest message with an organization name and a
 * date in it; vsnprintf cuts anything longer rather than overflow. */
#define MESSAGE_MAX 1024

/* One message of the given style (answer NULL but for a prompt), unless
 * the conversation has failed already.  The formats come from text_table,
 * never from the person or the helper: tests/unit_text.c checks each one
 * against its `args`. */
static int prompt(struct conv *c, int style, char **answer, enum text_id id, va_list ap)
{
	char msg[MESSAGE_MAX];

	if (c->failed != PAM_SUCCESS)
		return c->failed;
	vsnprintf(msg, sizeof msg, text(c->lang, id), ap);
	c->failed = pam_prompt(c->pamh, style, answer, "%s", msg);
	return c->failed;
}

int conv_say(struct conv *c, int style, enum text_id id, ...)
{
	va_list ap;
	int rc;

	va_start(ap, id);
	rc = prompt(c, style, NULL, id, ap);
	va_end(ap);
	return rc;
}

/* ASCII only: the application's locale must not change what is blank. */
static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/* Strip blanks at both ends in place: an address or a code pasted with a
 * trailing space or a CR is still what the person meant. */
static void trim(char *s)
{
	size_t n = strlen(s), end = n, start = 0;

	while (end > 0 && is_blank(s[end - 1]))
		end--;
	while (start < end && is_blank(s[start]))
		start++;
	memmove(s, s + start, end - start);
	/* the tail may still hold a copy of a code: zero it, terminating */
	explicit_bzero(s + (end - start), n - (end - start));
}

int conv_ask(struct conv *c, bool echo, char **answer, enum text_id id, ...)
{
	va_list ap;

	*answer = NULL;
	va_start(ap, id);
	prompt(c, echo ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF, answer, id, ap);
	va_end(ap);
	if (c->failed != PAM_SUCCESS) {
		conv_drop(answer);
		return c->failed;
	}
	/* Success without an answer (no response array, or a NULL string in
	 * it) is not an empty line: the application did not ask the person. */
	if (*answer == NULL) {
		c->failed = PAM_CONV_ERR;
		return c->failed;
	}
	if (echo)
		trim(*answer);
	return PAM_SUCCESS;
}

void conv_drop(char **answer)
{
	if (*answer) {
		explicit_bzero(*answer, strlen(*answer));
		free(*answer);
		*answer = NULL;
	}
}

int conv_command(const char *answer)
{
	/* ASCII case folding by hand: tolower() follows the locale */
	int ch = answer[0] >= 'A' && answer[0] <= 'Z' ? answer[0] - 'A' + 'a' : answer[0];

	if (answer[0] == '\0' || answer[1] != '\0')
		return 0;
	return ch == 'r' || ch == 'e' || ch == 'q' ? ch : 0;
}
