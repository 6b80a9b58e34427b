/*
 * unicode.c - a password's forms, by utf8proc.  See unicode.h.
 *
 * utf8proc_map() would do it in one call, but it reallocates its result,
 * which leaves copies of the text in freed memory: here the code points
 * go to a buffer of the exact size utf8proc asks for, which is composed
 * and encoded back to UTF-8 in place, copied out and wiped.
 */
#include "unicode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <utf8proc.h>

/* UTF8PROC_STABLE: only what the Unicode stability policy promises never
 * to change, so a hash made now matches the same text in any later
 * version of the tables. */
static const utf8proc_option_t options[] = {
	[USTR_NFC] = UTF8PROC_STABLE | UTF8PROC_COMPOSE,
	[USTR_SKELETON] = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
			  UTF8PROC_IGNORE | UTF8PROC_STRIPMARK,
	[USTR_FOLDED] = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
			UTF8PROC_IGNORE | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD,
};

ssize_t ustr_form(const char *in, size_t len, enum ustr_form form, char *out, size_t cap)
{
	const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)in;
	utf8proc_option_t opt = options[form];
	utf8proc_ssize_t need, got;
	utf8proc_int32_t *cps;
	ssize_t rc = -1;

	if (len > PTRDIFF_MAX / 4 || cap == 0)
		return -1;
	/* First the number of code points the decomposition takes. */
	need = utf8proc_decompose(s, (utf8proc_ssize_t)len, NULL, 0, opt);
	if (need < 0)
		return -1;
	cps = calloc((size_t)need + 1, sizeof *cps);
	if (!cps)
		return -1;
	got = utf8proc_decompose(s, (utf8proc_ssize_t)len, cps, need, opt);
	if (got == need)
		got = utf8proc_reencode(cps, got, opt);   /* composed, then UTF-8 */
	else
		got = -1;
	if (got >= 0 && (size_t)got < cap) {
		memcpy(out, cps, (size_t)got);
		out[got] = '\0';
		rc = got;
	}
	sodium_memzero(cps, ((size_t)need + 1) * sizeof *cps);
	free(cps);
	return rc;
}
