/*
 * nss_pptestfold.c - a tiny NSS module for tests/test_canonical.py:
 * libnss_pptestfold.so.2, a passwd source that, like sssd with
 * case_sensitive = false, answers a name in any case with the account of
 * its own spelling.
 *
 * Its accounts are in the environment of the process that asks, so that
 * a test can say them without a file under /etc:
 *
 *   PPTEST_FOLD=NAME:UID:HASH[,NAME:UID:HASH...]
 *
 * HASH is the crypt(3) hash pam_unix checks (pw_passwd: not "x", so no
 * shadow entry is needed).  Only getpwnam_r is answered; the test runs
 * the PAM application in a mount namespace whose /etc/nsswitch.conf reads
 * "passwd: files pptestfold" and finds the library by LD_LIBRARY_PATH.
 */
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum nss_status _nss_pptestfold_getpwnam_r(const char *name, struct passwd *pw, char *buf,
					   size_t buflen, int *errnop);

/* Copy s into the caller's buffer; NULL when it is full. */
static char *put(char **at, size_t *left, const char *s, size_t n)
{
	char *out = *at;

	if (n + 1 > *left)
		return NULL;
	memcpy(out, s, n);
	out[n] = '\0';
	*at += n + 1;
	*left -= n + 1;
	return out;
}

/* The entry "NAME:UID:HASH" at e (up to a comma) when NAME is name in any
 * case: its name, hash and uid. */
static bool match(const char *e, const char *name, const char **n, size_t *nlen,
		  const char **hash, size_t *hlen, unsigned long *uid)
{
	const char *c1 = strchr(e, ':'), *c2, *end;
	char *after;

	if (!c1 || (size_t)(c1 - e) != strlen(name) || strncasecmp(e, name, strlen(name)) != 0)
		return false;
	*uid = strtoul(c1 + 1, &after, 10);
	if (*after != ':')
		return false;
	c2 = after;
	end = strchr(c2 + 1, ',');
	if (!end)
		end = c2 + 1 + strlen(c2 + 1);
	*n = e;
	*nlen = (size_t)(c1 - e);
	*hash = c2 + 1;
	*hlen = (size_t)(end - (c2 + 1));
	return true;
}

enum nss_status _nss_pptestfold_getpwnam_r(const char *name, struct passwd *pw, char *buf,
					   size_t buflen, int *errnop)
{
	const char *list = getenv("PPTEST_FOLD"), *n, *hash;
	size_t nlen, hlen;
	unsigned long uid;

	for (const char *e = list; e && *e; e = strchr(e, ',') ? strchr(e, ',') + 1 : "") {
		if (!match(e, name, &n, &nlen, &hash, &hlen, &uid))
			continue;
		pw->pw_uid = (uid_t)uid;
		pw->pw_gid = (gid_t)uid;
		if (!(pw->pw_name = put(&buf, &buflen, n, nlen)) ||
		    !(pw->pw_passwd = put(&buf, &buflen, hash, hlen)) ||
		    !(pw->pw_gecos = put(&buf, &buflen, "", 0)) ||
		    !(pw->pw_dir = put(&buf, &buflen, "/nonexistent", 12)) ||
		    !(pw->pw_shell = put(&buf, &buflen, "/bin/sh", 7))) {
			*errnop = ERANGE;
			return NSS_STATUS_TRYAGAIN;
		}
		return NSS_STATUS_SUCCESS;
	}
	*errnop = ENOENT;
	return NSS_STATUS_NOTFOUND;
}
