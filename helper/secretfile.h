/*
 * secretfile.h - a secret the configuration names by file (SMTP AUTH's
 * password today): the first line of a regular file that only its owner
 * can read, root or the account portald runs as, read into locked memory.
 * The file is opened without following a symbolic link, with a cap on
 * what is read.
 */
#ifndef PORTAL_SECRETFILE_H
#define PORTAL_SECRETFILE_H

#include <stddef.h>
#include <sys/types.h>

#define SECRETFILE_MAX 1024   /* bytes of the secret */

/* The secret of the file at path, NUL-terminated, its line end dropped:
 * sodium_malloc'ed, for sodium_free.  `owner` is the account portald runs
 * as (which the effective uid is once portald has become it).  NULL with
 * "KEY PATH: what is wrong" in err, KEY naming the setting. */
char *secretfile_read(const char *key, const char *path, uid_t owner, char *err,
		      size_t errlen);

#endif
