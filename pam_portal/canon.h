/*
 * canon.h - the account a user name stands for.
 *
 * NSS may know one account by several spellings: sssd with
 * case_sensitive = false answers `ALICE` with the account `alice`, and
 * fully qualified names add `alice@REALM`.  The account signed in is the
 * one NSS resolves, and every module after this one (pam_unix first) asks
 * NSS too: so the helper must be asked about that account, under the name
 * NSS gives it (pw_name), or a second spelling would find no member and
 * let the member past the portal to an old password.
 */
#ifndef PAM_PORTAL_CANON_H
#define PAM_PORTAL_CANON_H

#include <stddef.h>

enum canon {
	CANON_FOUND,      /* out holds pw_name */
	CANON_UNKNOWN,    /* NSS knows no such account: the name as typed stands */
	CANON_TOO_LONG,   /* pw_name does not fit in out: no member has it */
	CANON_ERROR,      /* NSS could not answer; *err is the errno */
};

/* The name NSS gives the account `name` names, into out (cap bytes). */
enum canon canon_user(const char *name, char *out, size_t cap, int *err);

#endif
