/*
 * secretfile.c - read a root-only secret file.  See secretfile.h.
 */
#include "secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

/* Why the file open on fd cannot hold a secret, or NULL. */
static const char *file_problem(int fd, uid_t owner)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return strerror(errno);
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (st.st_mode & (S_IRGRP | S_IROTH))
		return "group or others can read it (chmod 600)";
	if (st.st_uid != 0 && st.st_uid != owner && st.st_uid != geteuid())
		return "it must belong to root or to portald's user";
	return NULL;
}

/* Up to SECRETFILE_MAX bytes into buf (SECRETFILE_MAX + 2 bytes), NUL
 * terminated; NULL, or why not. */
static const char *read_all(int fd, char *buf, size_t *len)
{
	*len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + *len, SECRETFILE_MAX + 1 - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return strerror(errno);
		if (n == 0)
			break;
		if ((*len += (size_t)n) > SECRETFILE_MAX)
			return "too long";
	}
	buf[*len] = '\0';
	return NULL;
}

/* One line of printable characters, its line end (LF or CRLF) dropped. */
static const char *one_line(char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '\n')
		s[--len] = '\0';
	if (len > 0 && s[len - 1] == '\r')
		s[--len] = '\0';
	if (len == 0)
		return "it is empty";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "the password must be one line of printable characters";
	return NULL;
}

char *secretfile_read(const char *key, const char *path, uid_t owner, char *err,
		      size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	const char *why;
	char *secret = NULL;
	size_t len;

	if (fd < 0) {
		snprintf(err, errlen, "%s %s: %s", key, path, strerror(errno));
		return NULL;
	}
	why = file_problem(fd, owner);
	if (!why && !(secret = sodium_malloc(SECRETFILE_MAX + 2)))
		why = "out of memory";
	if (!why)
		why = read_all(fd, secret, &len);
	if (!why)
		why = one_line(secret, len);
	close(fd);
	if (why) {
		snprintf(err, errlen, "%s %s: %s", key, path, why);
		if (secret)
			sodium_free(secret);
		return NULL;
	}
	return secret;
}
