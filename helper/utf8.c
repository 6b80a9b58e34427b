/*
 * utf8.c - strict UTF-8 decoding.
 */
#include "utf8.h"

size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	/* The least code point each length may carry: below it is overlong. */
	static const uint32_t least[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		*cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		*cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		*cp = s[0] & 0x07;
	} else {
		return 0;   /* a continuation byte, or 0xf8.. */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if (*cp < least[len] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

size_t utf8_width(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;   /* not a continuation byte */
	return n;
}

bool utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t cp;

	for (size_t i = 0, step; i < len; i += step)
		if ((step = utf8_next(s + i, len - i, &cp)) == 0)
			return false;
	return true;
}
