/*
 * code.h - verification codes and reset tickets.
 *
 * A code is cfg.code_length decimal digits; a ticket is PORTAL_TICKET_LEN
 * random bytes.  Neither is stored: the user record keeps a keyed BLAKE2b
 * hash of (user name, NUL, secret), keyed with portal_keys.code, which lives
 * outside the database.  Binding the user name into the hash means a code
 * or ticket copied from one record to another never matches.
 *
 * A code is also bound to the handle of the request that made it
 * (PORTAL_REQUEST_LEN random bytes, given to the module that asked and
 * kept nowhere else): the record holds a short tag of the handle and the
 * hash of (handle, code).  So a code can only be typed in the conversation
 * that asked for it, and a copy of the database, even with its key, gives
 * nothing to try codes against offline: the handle is not in it.
 */
#ifndef PORTAL_CODE_H
#define PORTAL_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "keys.h"
#include "proto.h"

#define CODE_HASH_LEN 32
#define CODE_TAG_LEN  16   /* crypto_generichash_BYTES_MIN */

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

/* A request's handle: PORTAL_REQUEST_LEN random bytes.  Wipe after use. */
void code_handle_make(uint8_t out[PORTAL_REQUEST_LEN]);
/* The hash of a code bound to its request's handle, and its check. */
void code_hash_bound(const struct portal_keys *k, const char *user,
		     const uint8_t handle[PORTAL_REQUEST_LEN], const void *code, size_t len,
		     uint8_t out[CODE_HASH_LEN]);
bool code_matches_bound(const struct portal_keys *k, const char *user,
			const uint8_t handle[PORTAL_REQUEST_LEN], const void *code, size_t len,
			const uint8_t hash[CODE_HASH_LEN]);
/* A short keyed tag naming something of the user's without keeping it
 * (a request's handle, an address typed, a source): the same data gives
 * the same tag; label keeps the uses apart. */
void code_tag(const struct portal_keys *k, const char *user, const char *label,
	      const void *data, size_t len, uint8_t out[CODE_TAG_LEN]);

#endif
