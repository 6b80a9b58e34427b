/*
 * utf8.h - strict UTF-8 decoding, one definition for every part that
 * takes text from people: passwords (policy.c) and import files (csv.c).
 * Overlong forms, surrogates and code points beyond U+10FFFF are refused,
 * as RFC 3629 says.
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

#endif
