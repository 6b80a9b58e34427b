/*
 * ldap_filter.h - the search filter a user name becomes (RFC 4515).
 *
 * The name is a value, never filter syntax: every byte that means
 * something in a filter (`*` `(` `)` `\` NUL), and every byte outside
 * printable ASCII, is written \XX, so a name can only ever match an
 * entry holding exactly that name.
 */
#ifndef PORTAL_LDAP_FILTER_H
#define PORTAL_LDAP_FILTER_H

#include <stdbool.h>
#include <stddef.h>

/* Room for the filter of any name: the configured filter, the attribute,
 * and a name of len bytes escaped (3 bytes each at most). */
#define LDAP_FILTER_MAX 2048

/* The len bytes of name (a NUL among them is a byte like any other) as
 * an RFC 4515 assertion value; false when out (cap bytes) is too small. */
bool ldap_escape(const char *name, size_t len, char *out, size_t cap);
/* (&FILTER(ATTR=NAME)): who is managed, and has that name.  False when
 * it does not fit in cap. */
bool ldap_user_filter(const char *filter, const char *attr, const char *name, size_t len,
		      char *out, size_t cap);

#endif
