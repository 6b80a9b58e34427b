/*
 * utf8.h - strict UTF-8 decoding, one definition for every part that
 * takes text from people: passwords (policy.c), import files (csv.c),
 * names and text for a mail (valid.c, mailtext.c).  Overlong forms,
 * surrogates and code points beyond U+10FFFF are refused, as RFC 3629
 * says.
 */
#ifndef PORTAL_UTF8_H
#define PORTAL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode the sequence at s (n > 0 bytes left) into *cp: its length, or 0
 * when it is malformed or truncated. */
size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp);
/* Are the len bytes at s well-formed UTF-8? */
bool utf8_valid(const char *s, size_t len);
/* Characters (code points, not bytes) in the len bytes of well-formed
 * UTF-8 at s: what a terminal column or a line of mail counts. */
size_t utf8_width(const char *s, size_t len);

/* C0 and C1 controls and DEL: a terminal, a log or a mail header would
 * act on them. */
static inline bool utf8_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

#endif
