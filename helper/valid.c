/*
 * valid.c - what a user name, an e-mail address, a mailbox and text for a
 * mail may look like.
 *
 * All end up in mail headers, log lines and terminal prompts, so the rules
 * are a strict subset of what the standards allow: an address is a
 * dot-atom (RFC 5322 3.2.3) at a host name made of letter-digit-hyphen
 * labels.  Quoted local parts, address literals and comments are refused;
 * nobody's preferred address needs them, and each is a way to smuggle a
 * header or a second recipient.  A mailbox's display name is only read
 * here: mailtext.c writes it again as RFC 5322 wants it (atoms, a quoted
 * string or RFC 2047 encoded words), whatever form it was given in.
 */
#include "valid.h"

#include <stdint.h>
#include <string.h>
#include "proto.h"
#include "utf8.h"

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

bool valid_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);

	while (left > 0) {
		uint32_t cp;
		size_t n = utf8_next(p, left, &cp);

		if (n == 0 || utf8_is_control(cp))
			return false;
		p += n;
		left -= n;
	}
	return true;
}

/* "<address>" at lt, and nothing but blanks after it. */
static const char *mailbox_address(const char *lt, char *addr)
{
	const char *gt = strchr(lt, '>');
	size_t n;

	if (!gt)
		return "has a '<' without its '>'";
	if (gt[1 + strspn(gt + 1, " \t")] != '\0')
		return "has something after the '>'";
	n = (size_t)(gt - lt - 1);
	if (n > PORTAL_EMAIL_MAX)
		return "has an address that is too long";
	memcpy(addr, lt + 1, n);
	addr[n] = '\0';
	return valid_email(addr) ? NULL : "has no valid e-mail address between '<' and '>'";
}

/* The quoted name at s (its opening quote), unescaped; *after points past
 * the closing quote. */
static const char *quoted_name(const char *s, char *name, size_t cap, const char **after)
{
	size_t n = 0;

	for (s++; *s != '"'; s++) {
		if (*s == '\\' && s[1])
			s++;
		if (*s == '\0')
			return "has a quote that is not closed";
		if (n + 1 >= cap)
			return "has a name that is too long";
		name[n++] = *s;
	}
	name[n] = '\0';
	*after = s + 1;
	return NULL;
}

/* The unquoted name from s to lt (the '<'). */
static const char *plain_name(const char *s, const char *lt, char *name, size_t cap)
{
	size_t n = (size_t)(lt - s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (memchr(s, '"', n) || memchr(s, '>', n))
		return "has a '\"' or a '>' in the name: put the whole name in double quotes";
	if (n >= cap)
		return "has a name that is too long";
	memcpy(name, s, n);
	name[n] = '\0';
	return NULL;
}

const char *valid_mailbox(const char *s, char *name, size_t namecap, char *addr)
{
	const char *lt = NULL, *why;

	name[0] = '\0';
	if (s[0] == '"') {
		why = quoted_name(s, name, namecap, &lt);
		if (!why) {
			lt += strspn(lt, " \t");
			if (*lt != '<')
				why = "has no address in '<' and '>' after the quoted name";
		}
	} else if ((lt = strchr(s, '<')) != NULL) {
		why = plain_name(s, lt, name, namecap);
	} else if (strlen(s) > PORTAL_EMAIL_MAX || !valid_email(s)) {
		return "is not an e-mail address";
	} else {
		memcpy(addr, s, strlen(s) + 1);
		return NULL;
	}
	if (!why)
		why = mailbox_address(lt, addr);
	if (!why && !valid_text(name))
		why = "has a name that is not UTF-8 text without control characters";
	return why;
}
