/*
 * ldap_filter.c - a user name in a search filter.  See ldap_filter.h.
 */
#include "ldap_filter.h"

#include <stdio.h>
#include <string.h>

bool ldap_escape(const char *name, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		bool plain = c > 0x20 && c < 0x7f && !strchr("*()\\", c);

		if (o + (plain ? 1 : 3) >= cap)
			return false;
		if (plain) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	if (o >= cap)
		return false;
	out[o] = '\0';
	return true;
}

bool ldap_user_filter(const char *filter, const char *attr, const char *name, size_t len,
		      char *out, size_t cap)
{
	char value[LDAP_FILTER_MAX];
	int n;

	if (!ldap_escape(name, len, value, sizeof value))
		return false;
	n = snprintf(out, cap, "(&%s(%s=%s))", filter, attr, value);
	return n > 0 && (size_t)n < cap;
}
