/*
 * directory.h - who is managed, and the addresses on file: the answer of
 * the members' directory for one user name.
 *
 * `directory = local` (the default): the portal's own store is the
 * directory, as it always was; members are added with portalctl, and the
 * request's own read of the store (request.h, load_user) says who is one:
 * nothing here is asked.
 * `directory = ldap`: the organisation's directory says (dir_ldap.c),
 * read-only, at every request that names a user, in a worker thread,
 * never in the event loop.  Only the portal's own state (codes, failures,
 * the password, the outbox) stays in the store.
 *
 * The answer last read for each user is kept in memory (dir_cache.c) and
 * serves, for ldap_cache_ttl, only while the directory cannot be reached;
 * past that, or with nothing kept, the answer is DIR_UNAVAILABLE and the
 * sign-in fails closed: never "not managed" when unsure.
 */
#ifndef PORTAL_DIRECTORY_H
#define PORTAL_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>
#include "config.h"
#include "ldap_filter.h"
#include "proto.h"

#define DIR_ADDRS_MAX  16     /* addresses of one entry taken; the rest set aside (said) */
#define DIR_DNS_MAX    4      /* entries a look-up reads: more is ambiguous all the same */
#define DIR_DETAIL_MAX 256

enum dir_status {
	DIR_NOT_MANAGED,      /* no entry has the name: PAM_IGNORE */
	DIR_MANAGED,          /* exactly one entry: dn, addresses */
	DIR_AMBIGUOUS,        /* several entries: refused, never a guess */
	DIR_UNAVAILABLE,      /* the directory could not say, nothing cached to serve */
};

struct dir_entry {
	enum dir_status status;
	unsigned ndn;                 /* the entries found holding the name, at most DIR_DNS_MAX */
	char dn[DIR_DNS_MAX][LDAP_DN_MAX];
	unsigned naddr;
	char addr[DIR_ADDRS_MAX][PORTAL_EMAIL_MAX + 1];
	time_t read_at;               /* when the directory said it */
	bool cached;                  /* served from the cache: the directory is unreachable */
	unsigned matches;             /* entries found (DIR_AMBIGUOUS: how many) */
	char filter[LDAP_FILTER_MAX]; /* the filter sent */
	char detail[DIR_DETAIL_MAX];  /* what went wrong, or what was set aside */
};

/* How the directory has been doing (portalctl status). */
struct dir_health {
	bool remote;                  /* directory = ldap */
	bool reachable;               /* the last attempt reached it */
	time_t since;                 /* of the last change of `reachable`; 0 = never asked */
	char uri[LDAP_URI_MAX];       /* the server last reached */
	char error[DIR_DETAIL_MAX];   /* the last failure */
	uint64_t cached;              /* answers kept */
};

struct directory;

/* The directory of cfg (ldap_bind_password_file read now, as root: owner
 * is the account portald will run as).  NULL with err. */
struct directory *directory_open(const struct portal_config *cfg, uid_t owner, char *err,
				 size_t errlen);
/* What directory_open would refuse, opening nothing (portald -t). */
int directory_check(const struct portal_config *cfg, uid_t owner, char *err, size_t errlen);
void directory_close(struct directory *dir);

/* Is the directory another server (directory = ldap)?  Then requests that
 * name a user are answered by a worker, after directory_lookup. */
bool directory_remote(const struct directory *dir);

/* The answer for name (len bytes: the look-up command and the tests may
 * send any bytes).  `fresh`: ask the directory even while it is known to
 * be down (portalctl directory lookup), never the cache's word alone. */
void directory_lookup(struct directory *dir, const char *name, size_t len, bool fresh,
		      struct dir_entry *out);
/* Is addr one of the entry's addresses?  The index of the one it is, or
 * -1; every address is compared, in time independent of which. */
int dir_entry_has(const struct dir_entry *e, const char *addr);

/* Every managed member of the directory (ldap: the paged search of
 * dir_ldap.h): each() gets the name and the first address.  0, or -1
 * with why in detail. */
int directory_list(struct directory *dir, void (*each)(void *arg, const char *name,
		   const char *addr), void *arg, unsigned long *skipped, char *detail, size_t cap);

/* Ask the directory whether it answers, now (portalctl status): the
 * health below is then today's. */
void directory_probe(struct directory *dir);
void directory_health(struct directory *dir, struct dir_health *h);

/* SIGHUP: directory and ldap_* are taken once, at start; fresh keeps the
 * ones in force (said in the log when they changed). */
void directory_keep_settings(struct portal_config *fresh, const struct portal_config *now);

#endif
