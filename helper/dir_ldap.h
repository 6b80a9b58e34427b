/*
 * dir_ldap.h - the organisation's directory over LDAP (OpenLDAP's
 * libldap): connections with failover, TLS and a bind; a user's entry;
 * the managed members page by page.  Read-only: nothing is written.
 *
 * Every wait is bounded by ldap_timeout (connect, TLS, bind, each search),
 * and a worker thread makes it, never the event loop.  Connections are
 * kept between requests, one per thread at a time (a libldap handle is
 * not shared while in use); one that failed is closed and the request
 * tried once more on a new one, which may be the next URI.
 */
#ifndef PORTAL_DIR_LDAP_H
#define PORTAL_DIR_LDAP_H

#include <stddef.h>
#include <sys/types.h>
#include "directory.h"

struct ldap_dir;

/* Settings taken, the bind password read (root-only file).  NULL with err. */
struct ldap_dir *ldap_dir_open(const struct ldap_settings *l, uid_t owner, char *err,
			       size_t errlen);
void ldap_dir_close(struct ldap_dir *ld);

/* The entry of name (len bytes), into e (filter, status, DNs, addresses,
 * read_at).  0 when the directory answered; -1 when it could not be
 * reached or refused (e->detail says why). */
int ldap_dir_lookup(struct ldap_dir *ld, const char *name, size_t len, struct dir_entry *e);
/* Every managed member, in pages of the paged-results control (RFC 2696)
 * on one connection: each() gets the user name and the first address
 * ("" when none).  Names portald could never manage are skipped, and
 * counted in *skipped.  0, or -1 with why in detail. */
int ldap_dir_list(struct ldap_dir *ld, void (*each)(void *arg, const char *name,
		  const char *addr), void *arg, unsigned long *skipped, char *detail,
		  size_t cap);
/* The filter a look-up of name sends, into out ("" when it does not fit). */
void ldap_user_filter_of(const struct ldap_dir *ld, const char *name, size_t len, char *out,
			 size_t cap);
/* Can the directory be asked (the base entry read)?  0, or -1 with why. */
int ldap_dir_probe(struct ldap_dir *ld, char *detail, size_t cap);
/* The URI of the server last reached, "" before any. */
void ldap_dir_server(struct ldap_dir *ld, char *out, size_t cap);

#endif
