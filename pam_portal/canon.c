/*
 * canon.c - the account a user name stands for, as NSS says.  See canon.h.
 */
#include "canon.h"

#include <errno.h>
#include <stdbool.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* getpwnam_r's buffer: glibc's suggestion to start with, doubled while
 * NSS says it is too small, up to a size no real entry comes near. */
#define BUF_START 1024
#define BUF_MAX   (1024 * 1024)

/* getpwnam_r's "not found": 0 with no entry, or one of the errors its
 * manual page lists for it (what some NSS modules return). */
static bool not_found(int rc)
{
	return rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM;
}

enum canon canon_user(const char *name, char *out, size_t cap, int *err)
{
	long suggested = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = suggested > 0 && suggested < BUF_MAX ? (size_t)suggested : BUF_START;
	struct passwd pw, *found = NULL;
	enum canon result;
	char *buf;
	int rc;

	for (;;) {
		buf = malloc(size);
		if (!buf) {
			*err = ENOMEM;
			return CANON_ERROR;
		}
		rc = getpwnam_r(name, &pw, buf, size, &found);
		if (rc != ERANGE || size >= BUF_MAX)
			break;
		free(buf);
		size *= 2;
	}
	if (found) {
		result = strlen(found->pw_name) < cap ? CANON_FOUND : CANON_TOO_LONG;
		if (result == CANON_FOUND)
			strcpy(out, found->pw_name);
	} else if (not_found(rc)) {
		result = CANON_UNKNOWN;
	} else {
		*err = rc;
		result = CANON_ERROR;
	}
	/* The entry may hold a password hash (pw_passwd, from files). */
	explicit_bzero(buf, size);
	free(buf);
	return result;
}
