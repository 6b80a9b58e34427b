/*
 * source.h - where a sign-in comes from, for the helper's locks.
 *
 * The helper keeps failures per source as well as per member, so that
 * failures from one remote host do not lock the member out of another.
 * The source is what PAM says: the remote host (PAM_RHOST), else the
 * terminal (PAM_TTY), else the service (PAM_SERVICE), the first that is
 * set and not empty.
 */
#ifndef PAM_PORTAL_SOURCE_H
#define PAM_PORTAL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <security/pam_modules.h>
#include "proto.h"

/* The source of this sign-in into out, as printable ASCII without spaces
 * (what the application set may be any bytes): every other byte, and
 * `%`, written %XX, so that two sources never read the same; cut at
 * PORTAL_SOURCE_MAX bytes, never inside an escape.  False when PAM has
 * none at all. */
bool source_of(pam_handle_t *pamh, char out[PORTAL_SOURCE_MAX + 1]);

#endif
