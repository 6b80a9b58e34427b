/*
 * fleet.h - what the machines on one database must share, checked as a
 * portald starts: the key file (codes are keyed hashes, the outbox is
 * sealed with it) and the policy settings (cutover, code and lockout
 * settings, password length).  A machine whose key or settings differ
 * from the others' is refused, with what differs (storage_agree).
 */
#ifndef PORTAL_FLEET_H
#define PORTAL_FLEET_H

#include <stddef.h>
#include "config.h"
#include "keys.h"
#include "storage.h"

/* 0 when this machine agrees with the others on the database (GDBM:
 * always), else -1 with err saying what differs, or why it could not be
 * read. */
int fleet_check(struct storage *st, const struct portal_config *cfg,
		const struct portal_keys *k, char *err, size_t errlen);

#endif
