/*
 * code.h - verification codes and reset tickets.
 *
 * A code is cfg.code_length decimal digits; a ticket is PORTAL_TICKET_LEN
 * random bytes.  Neither is stored: the user record keeps a keyed BLAKE2b
 * hash of (user name, NUL, secret), keyed with portal_keys.code, which lives
 * outside the database.  Binding the user name into the hash means a code
 * or ticket copied from one record to another never matches.
 */
#ifndef PORTAL_CODE_H
#define PORTAL_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "keys.h"
#include "proto.h"

#define CODE_HASH_LEN 32

/* ndigits random digits (clamped to 1..PORTAL_CODE_MAX) into out, which
 * holds at least PORTAL_CODE_MAX + 1 bytes.  Wipe it after use. */
void code_make(char *out, unsigned ndigits);
/* PORTAL_TICKET_LEN random bytes.  Wipe them after use. */
void ticket_make(uint8_t out[PORTAL_TICKET_LEN]);

/* The keyed hash of a secret (code or ticket) for a user. */
void code_hash(const struct portal_keys *k, const char *user,
	       const void *secret, size_t len, uint8_t out[CODE_HASH_LEN]);
/* Does the secret match the stored hash?  Constant time in the hash. */
bool code_matches(const struct portal_keys *k, const char *user,
		  const void *secret, size_t len, const uint8_t hash[CODE_HASH_LEN]);

#endif
