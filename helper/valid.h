/*
 * valid.h - what a user name, an e-mail address, a mailbox ("Name
 * <address>") and text for a mail may look like.  One definition for
 * portald (which decides), its configuration and mail (mailtext.c), and
 * portalctl (which reports bad import lines early).  All refuse control
 * characters, CR/LF, NUL and anything that could inject a mail header.
 */
#ifndef PORTAL_VALID_H
#define PORTAL_VALID_H

#include <stdbool.h>
#include <stddef.h>

/* 1..PORTAL_USER_MAX bytes of [A-Za-z0-9._-], not starting with '-' or '.'. */
bool valid_user(const char *s);
/* local@domain, at most PORTAL_EMAIL_MAX bytes, printable ASCII with no
 * spaces, quotes, angle brackets, commas or semicolons; a domain of
 * dot-separated labels of letters, digits and hyphens. */
bool valid_email(const char *s);
/* Case-insensitive comparison of two addresses, in time independent of
 * where they differ. */
bool email_equal(const char *a, const char *b);

/* Text that may go into a mail header or body: valid UTF-8 without a
 * control character (C0, DEL, the C1 controls U+0080-U+009F). */
bool valid_text(const char *s);

/* A mailbox as administrators write a From: an address alone
 *     noreply@example.org   <noreply@example.org>
 * or a display name and the address in angle brackets
 *     Example College <noreply@example.org>
 *     "Doe, Jane" <noreply@example.org>     (quoted: \" and \\ inside)
 * The name goes to name (quotes and escapes undone, the blanks before the
 * '<' dropped; "" when there is none), the address to addr, which holds
 * PORTAL_EMAIL_MAX + 1 bytes.  NULL, or what is wrong with s. */
const char *valid_mailbox(const char *s, char *name, size_t namecap, char *addr);

#endif
