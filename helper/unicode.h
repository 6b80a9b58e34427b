/*
 * unicode.h - the forms of a password the policy works on, made with
 * utf8proc (Unicode normalisation, case folding and the character
 * properties, tables of the Unicode version it was built with).
 *
 * A keyboard may send "é" as one code point (composed, NFC) or as "e"
 * and a combining accent (decomposed, NFD), and the two look the same:
 * what is hashed is the NFC form, so either signs in.  What is judged is
 * what a person reads, not the code points that spell it: full-width
 * letters, invisible characters and accents laid on letters do not hide
 * a name or a common password.
 */
#ifndef PORTAL_UNICODE_H
#define PORTAL_UNICODE_H

#include <stddef.h>
#include <sys/types.h>

enum ustr_form {
	/* Canonical composition (NFC): what is hashed and counted. */
	USTR_NFC,
	/* The compatibility composition (NFKC: full-width letters become
	 * the usual ones, ligatures their letters), without the code points
	 * Unicode says to show as nothing (Default_Ignorable_Code_Point: the
	 * zero-width space and joiners, soft hyphen, variation selectors...)
	 * nor the marks laid on letters (accents); case kept.  What the
	 * strength estimate reads: it knows words, and case, in ASCII. */
	USTR_SKELETON,
	/* The skeleton case-folded: what a name or an address is looked
	 * for in. */
	USTR_FOLDED,
};

/* The form of the len bytes of UTF-8 at in (not NUL-terminated: a
 * message's field), NUL-terminated in out (cap bytes): its length in
 * bytes, or -1 when in is not UTF-8, the form does not fit in cap, or
 * memory is short.  Whatever else held the text is wiped: it may be a
 * password. */
ssize_t ustr_form(const char *in, size_t len, enum ustr_form form, char *out, size_t cap);

#endif
