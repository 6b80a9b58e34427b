/*
 * valid.h - what a user name and an e-mail address may look like.
 * One definition for portald (which decides) and portalctl (which reports
 * bad import lines early).  Both refuse control characters, CR/LF, NUL
 * and anything that could inject a mail header.
 */
#ifndef PORTAL_VALID_H
#define PORTAL_VALID_H

#include <stdbool.h>

/* 1..PORTAL_USER_MAX bytes of [A-Za-z0-9._-], not starting with '-' or '.'. */
bool valid_user(const char *s);
/* local@domain, at most PORTAL_EMAIL_MAX bytes, printable ASCII with no
 * spaces, quotes, angle brackets, commas or semicolons; a domain of
 * dot-separated labels of letters, digits and hyphens. */
bool valid_email(const char *s);
/* Case-insensitive comparison of two addresses, in time independent of
 * where they differ. */
bool email_equal(const char *a, const char *b);

#endif
