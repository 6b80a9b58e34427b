/*
 * client.h - the client side of the helper's socket (pam_portal.so and
 * portalctl).  A client trusts the helper only after checking it: the path
 * is a socket (not followed if a symlink) in a directory owned by root or by
 * the socket's owner and writable by nobody else, and the peer's SO_PEERCRED
 * uid is the socket's owner (or root).
 */
#ifndef PORTAL_CLIENT_H
#define PORTAL_CLIENT_H

#include <stddef.h>
#include <sys/types.h>
#include "proto.h"

#define CLIENT_TIMEOUT_MS 15000

/* Connected close-on-exec fd, or -1 with a reason in err. */
int client_connect(const char *path, char *err, size_t errlen);
/* Send a built request (finishes it) and read the response into frame
 * (PROTO_MAX_FRAME bytes) parsed as resp.  The request buffer is wiped.
 * The length of the answer in frame (what to wipe once it is read), or -1
 * with a reason in err. */
ssize_t client_call(int fd, struct proto_buf *req, uint8_t *frame,
		struct proto_msg *resp, char *err, size_t errlen);
/* connect + call + close. */
ssize_t client_request(const char *path, struct proto_buf *req, uint8_t *frame,
		       struct proto_msg *resp, char *err, size_t errlen);
/* TAG_RESULT of a response, RESULT_BAD_REQUEST if missing. */
enum proto_result client_result(const struct proto_msg *resp);

#endif
