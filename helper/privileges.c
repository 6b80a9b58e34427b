/*
 * privileges.c - becoming the account portald runs as, and giving up what
 * it never needs.  See privileges.h.
 */
#include "privileges.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "log.h"

int privileges_harden(char *err, size_t errlen)
{
	const struct rlimit none = { 0, 0 };

	/* A core file would hold codes, passwords and the keys. */
	if (setrlimit(RLIMIT_CORE, &none) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		snprintf(err, errlen, "disabling core dumps: %s", strerror(errno));
		return -1;
	}
	/* portald runs no program; should anything make it, nothing it runs
	 * gains privileges.  Before any thread: the flag is per thread. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		return -1;
	}
	umask(077);
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium could not be initialised");
		return -1;
	}
	return 0;
}

int runas_resolve(const struct portal_config *cfg, struct runas *as, char *err, size_t errlen)
{
	const char *name = cfg->user[0] ? cfg->user : PORTAL_DEFAULT_USER;
	struct passwd pw, *res = NULL;
	char buf[4096];
	int e = getpwnam_r(name, &pw, buf, sizeof buf, &res);

	snprintf(as->name, sizeof as->name, "%s", name);
	as->uid = geteuid();
	as->gid = getegid();
	if (as->uid != 0) {
		if (cfg->user[0] && (!res || res->pw_uid != as->uid)) {
			snprintf(err, errlen, "user = %s, but portald was started as uid %u: "
				 "start it as root or as %s", name, (unsigned)as->uid, name);
			return -1;
		}
		return 0;
	}
	if (!res && cfg->user[0]) {
		snprintf(err, errlen, "user = %s: %s", name,
			 e ? strerror(e) : "no such account (useradd --system it, or set "
			 "user = root to keep running as root)");
		return -1;
	}
	as->root_kept = !res;
	if (res && res->pw_uid != 0) {
		as->uid = res->pw_uid;
		as->gid = res->pw_gid;
		as->drop = true;
	}
	return 0;
}

/* Become the account for good: groups, then gid, then uid, and check that
 * root cannot be had back.  A change of uid resets the dumpable flag to
 * the system's default, so core dumps are turned off again. */
int runas_drop(const struct runas *as, char *err, size_t errlen)
{
	if (as->drop &&
	    (setgroups(1, &as->gid) < 0 || setresgid(as->gid, as->gid, as->gid) < 0 ||
	     setresuid(as->uid, as->uid, as->uid) < 0)) {
		snprintf(err, errlen, "becoming %s (uid %u): %s", as->name, (unsigned)as->uid,
			 strerror(errno));
		return -1;
	}
	if (as->drop && setuid(0) == 0) {
		snprintf(err, errlen, "becoming %s: root could be had back", as->name);
		return -1;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		snprintf(err, errlen, "disabling core dumps: %s", strerror(errno));
		return -1;
	}
	if (as->drop)
		log_msg(LOG_INFO, "running as %s (uid %u)", as->name, (unsigned)as->uid);
	else if (as->root_kept)
		log_msg(LOG_WARNING, "running as root: there is no system account %s to run as "
			"(useradd --system --home-dir /var/lib/portald --shell /usr/sbin/nologin %s), "
			"and no user = in the configuration", as->name, as->name);
	return 0;
}

const char *folder_problem(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return strerror(errno);
	if (!S_ISDIR(st.st_mode))
		return "not a directory";
	return faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0 ? strerror(errno) : NULL;
}
