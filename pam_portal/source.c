/*
 * source.c - where a sign-in comes from.  See source.h.
 */
#include "source.h"

#include <string.h>

/* Bytes written as they are: printable ASCII but the space and the
 * escape character itself. */
static bool plain(unsigned char c)
{
	return c > ' ' && c <= '~' && c != '%';
}

/* `in` escaped into out; cut where the next byte would not fit whole. */
static void escape(const char *in, char out[PORTAL_SOURCE_MAX + 1])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (plain(*p)) {
			if (n + 1 > PORTAL_SOURCE_MAX)
				break;
			out[n++] = (char)*p;
			continue;
		}
		if (n + 3 > PORTAL_SOURCE_MAX)
			break;
		out[n++] = '%';
		out[n++] = hex[*p >> 4];
		out[n++] = hex[*p & 15];
	}
	out[n] = '\0';
}

bool source_of(pam_handle_t *pamh, char out[PORTAL_SOURCE_MAX + 1])
{
	static const int items[] = { PAM_RHOST, PAM_TTY, PAM_SERVICE };

	for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
		const void *v = NULL;

		if (pam_get_item(pamh, items[i], &v) == PAM_SUCCESS && v &&
		    ((const char *)v)[0] != '\0') {
			escape(v, out);
			return true;
		}
	}
	return false;
}
