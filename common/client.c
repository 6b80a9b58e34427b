/*
 * client.c - talk to portald, trusting it only once it is shown to be the
 * helper: anyone able to plant a socket where the module looks would
 * otherwise be able to answer "password correct".
 */
#include "client.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The socket and its directory must be under the control of root or of
 * one other account (the helper's), and of nobody else: a directory only
 * root can write may hold a socket of root's or of the helper's account
 * (a helper started as root gives its socket to the account it becomes);
 * a directory of the helper's account, only that account's socket or
 * root's. */
static int check_path(const char *path, struct stat *sock, char *err, size_t errlen)
{
	char copy[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat dir;

	if (strlen(path) >= sizeof copy) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	memcpy(copy, path, strlen(path) + 1);
	if (lstat(path, sock) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(sock->st_mode)) {
		snprintf(err, errlen, "%s: not a socket", path);
		return -1;
	}
	if (lstat(dirname(copy), &dir) < 0 || !S_ISDIR(dir.st_mode)) {
		snprintf(err, errlen, "%s: cannot check its directory", path);
		return -1;
	}
	if (dir.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: its directory is writable by others", path);
		return -1;
	}
	if (dir.st_uid != 0 && dir.st_uid != sock->st_uid && sock->st_uid != 0) {
		snprintf(err, errlen, "%s: owned by uid %u in a directory of uid %u",
			 path, (unsigned)sock->st_uid, (unsigned)dir.st_uid);
		return -1;
	}
	return 0;
}

int client_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct stat st;
	int fd;

	if (check_path(path, &st, err, errlen) < 0)
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* The path could have been swapped between lstat and connect: the
	 * kernel's word on who listens is what counts. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != 0 && cred.uid != st.st_uid)) {
		snprintf(err, errlen, "%s: the listening process is not the socket's owner", path);
		close(fd);
		return -1;
	}
	return fd;
}

ssize_t client_call(int fd, struct proto_buf *req, uint8_t *frame, struct proto_msg *resp,
		    char *err, size_t errlen)
{
	ssize_t n;
	int rc;

	if (!proto_finish(req)) {
		proto_wipe(req);
		snprintf(err, errlen, "request too large");
		return -1;
	}
	rc = proto_write_frame(fd, req, CLIENT_TIMEOUT_MS);
	proto_wipe(req);
	/* A helper at its connection cap answers RESULT_BUSY and closes before
	 * reading: the answer still waits in our receive queue. */
	if (rc < 0 && errno != EPIPE && errno != ECONNRESET) {
		snprintf(err, errlen, "send: %s", strerror(errno));
		return -1;
	}
	n = proto_read_frame(fd, frame, CLIENT_TIMEOUT_MS);
	if (n < 0) {
		snprintf(err, errlen, "receive: %s", strerror(errno));
		return -1;
	}
	if (!proto_parse(frame, (size_t)n, resp) || resp->type != PROTO_RESPONSE) {
		snprintf(err, errlen, "malformed answer from the helper");
		return -1;
	}
	return n;
}

ssize_t client_request(const char *path, struct proto_buf *req, uint8_t *frame,
		       struct proto_msg *resp, char *err, size_t errlen)
{
	int fd = client_connect(path, err, errlen);
	ssize_t rc;

	if (fd < 0) {
		proto_wipe(req);
		return -1;
	}
	rc = client_call(fd, req, frame, resp, err, errlen);
	close(fd);
	return rc;
}

enum proto_result client_result(const struct proto_msg *resp)
{
	uint32_t r;

	if (!proto_get_u32(resp, TAG_RESULT, &r))
		return RESULT_BAD_REQUEST;
	return (enum proto_result)r;
}
