/*
 * mailtext.h - the mails portald sends, built as whole RFC 5322 messages:
 * the verification code, the "your password was created" notice and the
 * "your account was locked" mail, in French and English.
 *
 * A message is text/plain UTF-8 in quoted-printable, with CRLF line ends
 * and no line over 78 characters (an address longer than a line excepted).
 * Header values that are not plain ASCII are RFC 2047 encoded words.  A
 * value holding a control character (CR, LF, ...) or invalid UTF-8 is
 * refused, never cleaned up: no input can add a header.
 */
#ifndef PORTAL_MAILTEXT_H
#define PORTAL_MAILTEXT_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include "i18n.h"

#define MAIL_TEXT_MAX 8192  /* room for any message built here, NUL included */

/* What every message carries in its headers. */
struct mail_head {
	const char *from;          /* mail_from's address */
	const char *organization;  /* named in the text; From's display name
				    * unless from_name is given */
	const char *to;            /* the recipient's address */
	enum lang lang;
	time_t date;               /* the Date header: when the mail was queued */
	const char *from_name;     /* mail_from's display name; NULL or "" for none */
};

/* The code mail: the code on a line of its own, how long it is valid
 * (valid_for seconds, in words), the account, and what to do when the
 * person did not ask for it.  The message goes to out (NUL-terminated);
 * returns its length, or -1 when a value is refused or it does not fit. */
ssize_t mailtext_code(const struct mail_head *h, const char *user, const char *code,
		      unsigned long long valid_for, char *out, size_t cap);

/* The notice sent after a password was created: when, on which machine
 * (this one, and remote when not NULL or ""), and to contact the
 * organization at once if it was not them.  Same return as above. */
ssize_t mailtext_notice(const struct mail_head *h, const char *user, time_t when,
			const char *remote, char *out, size_t cap);

/* The mail after the member was locked out by failures: until when, from
 * where (NULL: from many places, the member as a whole), and what to do.
 * Same return as above. */
ssize_t mailtext_lock(const struct mail_head *h, const char *user, time_t until,
		      const char *source, char *out, size_t cap);

/* ---- building blocks (used above; exposed for the unit tests) ---------- */

/* One header field "Name: value" CRLF, folded; the value as encoded words
 * when it is not printable ASCII or does not fit on the line.  Returns
 * the length written to out (NUL-terminated), -1 when the value is refused
 * or out is too small. */
ssize_t mailtext_header(const char *name, const char *value, char *out, size_t cap);

/* Quoted-printable (RFC 2045) of n bytes of text whose lines end in LF:
 * CRLF line ends, encoded lines of at most 76 characters with soft breaks,
 * '=', control bytes, non-ASCII bytes and a space or tab ending a line
 * encoded.  Returns the length written (NUL-terminated) or -1. */
ssize_t mailtext_qp(const char *text, size_t n, char *out, size_t cap);

#endif
