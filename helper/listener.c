/*
 * listener.c - the listening socket and its directory.  See listener.h.
 */
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "log.h"

/* A socket directory that is there must be a directory.  Clients refuse a
 * socket in a directory others can write, so say so here already. */
static int socket_dir_check(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	const char *why = stat(dir, &st) < 0 ? strerror(errno) :
			  !S_ISDIR(st.st_mode) ? "not a directory" : NULL;

	if (why) {
		snprintf(err, errlen, "socket directory %s: %s", dir, why);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		log_msg(LOG_WARNING, "socket directory %s is writable by others: clients "
			"will not trust the socket", dir);
	return 0;
}

/* The socket's directory: made (0755, so that every user can reach the
 * socket) when only its last component is missing. */
static int socket_dir(const char *path, const struct runas *as, char *err, size_t errlen)
{
	char copy[sizeof ((struct sockaddr_un *)0)->sun_path];
	const char *dir;

	snprintf(copy, sizeof copy, "%s", path);
	dir = dirname(copy);
	if (mkdir(dir, 0755) == 0) {
		/* mkdir applied our umask (077). */
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		/* Ours to give: the account we become removes its socket on stop. */
		if (fd < 0 || fchmod(fd, 0755) < 0 || (as->drop && fchown(fd, as->uid, as->gid) < 0)) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		log_msg(LOG_INFO, "made the socket directory %s", dir);
		return 0;
	}
	if (errno != EEXIST) {
		snprintf(err, errlen, "socket directory %s: %s", dir, strerror(errno));
		return -1;
	}
	return socket_dir_check(dir, err, errlen);
}

/* What is at the socket's path: 0 nothing, 1 a socket, -1 (with err)
 * something portald must not replace. */
static int socket_path(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket; not replacing it", path);
		return -1;
	}
	return 1;
}

/* A socket left by a portald that died is removed; one that answers means
 * portald is running already; anything else at the path is not ours. */
static int clear_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	int fd, r, e = socket_path(sa->sun_path, err, errlen);

	if (e <= 0)
		return e;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	r = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN) {
		snprintf(err, errlen, "portald is already running on %s", sa->sun_path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "%s: %s", sa->sun_path, strerror(e));
		return -1;
	}
	if (unlink(sa->sun_path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "removing stale %s: %s", sa->sun_path, strerror(errno));
		return -1;
	}
	log_msg(LOG_INFO, "removed the stale socket %s", sa->sun_path);
	return 0;
}

int listener_open(const char *path, const struct runas *as, bool *made, char *err,
		  size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (socket_dir(path, as, err, errlen) < 0 || clear_stale(&sa, err, errlen) < 0)
		return -1;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		goto fail;
	}
	*made = true;
	if (chmod(path, 0666) < 0 || listen(fd, LISTEN_BACKLOG) < 0 ||
	    (as->drop && fchownat(AT_FDCWD, path, as->uid, as->gid, AT_SYMLINK_NOFOLLOW) < 0)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* The socket's directory there, and one portald can make the socket in,
 * or only its last component missing (listener_open makes that one);
 * nothing but a socket at its path. */
int listener_check(const char *path, char *err, size_t errlen)
{
	char copy[sizeof ((struct sockaddr_un *)0)->sun_path], parent[sizeof copy];
	const char *dir, *why;
	struct stat st;

	snprintf(copy, sizeof copy, "%s", path);
	dir = dirname(copy);
	if (stat(dir, &st) == 0 || errno != ENOENT) {
		if (socket_dir_check(dir, err, errlen) < 0)
			return -1;
		why = folder_problem(dir);
	} else {
		snprintf(parent, sizeof parent, "%s", dir);
		why = (stat(dirname(parent), &st) < 0 || !S_ISDIR(st.st_mode)) ? strerror(ENOENT) :
		      NULL;
	}
	if (why) {
		snprintf(err, errlen, "socket directory %s: %s", dir, why);
		return -1;
	}
	return socket_path(path, err, errlen) < 0 ? -1 : 0;
}
