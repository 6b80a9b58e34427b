/*
 * valid.c - what a user name and an e-mail address may look like.
 *
 * Both end up in mail headers, log lines and terminal prompts, so the rules
 * are a strict subset of what the standards allow: an address is a
 * dot-atom (RFC 5322 3.2.3) at a host name made of letter-digit-hyphen
 * labels.  Quoted local parts, address literals and comments are refused;
 * nobody's preferred address needs them, and each is a way to smuggle a
 * header or a second recipient.
 */
#include "valid.h"

#include <stddef.h>
#include <string.h>
#include "proto.h"

#define EMAIL_LOCAL_MAX 64   /* RFC 5321 4.5.3.1.1 */
#define EMAIL_LABEL_MAX 63   /* RFC 1035 2.3.4 */

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool valid_user(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PORTAL_USER_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

/* atext of RFC 5322: printable ASCII but specials, quotes and spaces. */
static bool is_atext(char c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* One or more runs of atext joined by single dots. */
static bool valid_local(const char *s, size_t n)
{
	if (n == 0 || n > EMAIL_LOCAL_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' : !is_atext(s[i]))
			return false;
	}
	return true;
}

/* Labels of letters, digits and inner hyphens, joined by single dots.  A
 * single label ("localhost") is allowed: test rigs and small sites use it. */
static bool valid_domain(const char *s)
{
	size_t label = 0;

	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0 || s[-1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!is_alpha(*s) && !is_digit(*s) && !(*s == '-' && label > 0))
			return false;
		if (++label > EMAIL_LABEL_MAX)
			return false;
	}
	return label > 0 && s[-1] != '-';
}

bool valid_email(const char *s)
{
	const char *at = strchr(s, '@');

	if (!at || strlen(s) > PORTAL_EMAIL_MAX)
		return false;
	return valid_local(s, (size_t)(at - s)) && valid_domain(at + 1);
}

/* ASCII lower case without a branch on the byte. */
static unsigned char fold(unsigned char c)
{
	unsigned char upper = (unsigned char)((unsigned)(c - 'A') < 26u);

	return (unsigned char)(c | (upper << 5));
}

bool email_equal(const char *a, const char *b)
{
	size_t la = strnlen(a, PORTAL_EMAIL_MAX + 1);
	size_t lb = strnlen(b, PORTAL_EMAIL_MAX + 1);
	unsigned char diff = (unsigned char)(la != lb || la > PORTAL_EMAIL_MAX);

	/* Always the same number of rounds, whatever the strings: the time
	 * says nothing about the address on file. */
	for (size_t i = 0; i <= PORTAL_EMAIL_MAX; i++) {
		unsigned char ca = i < la ? (unsigned char)a[i] : 0;
		unsigned char cb = i < lb ? (unsigned char)b[i] : 0;

		diff |= (unsigned char)(fold(ca) ^ fold(cb));
	}
	return diff == 0;
}
