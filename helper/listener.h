/*
 * listener.h - the socket portald listens on.
 *
 * Anyone may connect; what they may do is decided per request from
 * SO_PEERCRED.  The socket belongs to the account portald runs as, which
 * clients accept (and root, which listens, is their peer).
 */
#ifndef PORTAL_LISTENER_H
#define PORTAL_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include "privileges.h"

#define LISTEN_BACKLOG 128

/* Make the socket at path, its directory too when only its last component
 * is missing; a socket left by a portald that died is replaced, one that
 * answers is not.  The listening fd (non-blocking, close-on-exec), or -1
 * with err.  *made is set once the socket file exists: the caller removes
 * it on stop. */
int listener_open(const char *path, const struct runas *as, bool *made, char *err,
		  size_t errlen);
/* What listener_open would find wrong (portald -t), without making or
 * changing anything: 0 or -1 with err.  A portald already running there is
 * no mistake here. */
int listener_check(const char *path, char *err, size_t errlen);

#endif
