/*
 * privileges.h - what portald may do, and as whom.
 *
 * portald needs root only to open what root owns (the socket's directory,
 * the database, the key file, the SMTP password file).  Started as root it
 * opens them, then becomes the account of `user` (portald when that
 * system account exists) for good; started by a service manager as that
 * account, it has nothing to give up.
 */
#ifndef PORTAL_PRIVILEGES_H
#define PORTAL_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "config.h"

/* The account portald runs as once root's work is done. */
struct runas {
	uid_t uid;
	gid_t gid;
	bool drop;         /* started as root: become uid/gid after opening files */
	bool root_kept;    /* started as root with no account to become */
	char name[sizeof ((struct portal_config *)0)->user];
};

/* No core dumps, no new privileges for anything portald would run, a
 * umask of 077, libsodium ready.  Before any thread. */
int privileges_harden(char *err, size_t errlen);
/* Whom to become.  `user` set: that account, which must exist; started by
 * anyone but root, portald must already be it.  `user` unset: portald
 * when that system account exists, else root stays root (and says so). */
int runas_resolve(const struct portal_config *cfg, struct runas *as, char *err, size_t errlen);
/* Become the account for good (nothing to do when not started as root). */
int runas_drop(const struct runas *as, char *err, size_t errlen);
/* Can portald, as it is now, make files in dir?  NULL, or why not. */
const char *folder_problem(const char *dir);

#endif
