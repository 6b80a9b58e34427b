/*
 * codereq.h - a member's code requests: each REQ_SEND_CODE answered OK,
 * whether or not the address typed was the one on file, and the rules
 * that follow from them.
 *
 * A request is kept as a record of fixed size, so that one for the address
 * on file and one for any other address change the member's record by the
 * same number of bytes, written alike (the file grows alike, the fsync
 * takes alike: tests/test_enumeration.py).  It holds tags, never the thing
 * itself: of the address typed, of the source, of the request's handle
 * (code.h), and the hash of its code bound to that handle.
 *
 * - A request for the address on file makes the live code: it replaces
 *   the one before, and its mail is sent.  One for any other address (a
 *   *decoy*) makes a code too, never mailed, that no code typed matches;
 *   it never touches the live code, its limits, nor the member's count of
 *   failures (a wrong code typed against it counts for its source only).
 * - The limits are per address typed, as they would be for the address
 *   on file: at least resend_interval between two requests for one
 *   address, at most codes_per_hour in an hour, so that asking twice for
 *   an address answers "wait" whether or not it is on file, and a typo
 *   followed by the right address mails a code at once.  A source may ask
 *   for at most twice codes_per_hour codes an hour, whatever the address.
 * - A code is live until a newer request for its address, its use, its
 *   last try or code_ttl; a request is forgotten an hour after it was
 *   made once its code is no longer live.  At most CODEREQ_DECOYS decoys
 *   are kept: one more drops the oldest (and a request for the address on
 *   file drops one too then, so both change the record alike).
 */
#ifndef PORTAL_CODEREQ_H
#define PORTAL_CODEREQ_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "code.h"
#include "config.h"

#define CODEREQ_DECOYS   32                      /* decoys kept per member */
#define CODEREQ_ON_FILE  (100 + 1)               /* codes_per_hour at most, and a live one */
#define CODEREQ_MAX      (CODEREQ_ON_FILE + CODEREQ_DECOYS)

enum codereq_flags {
	CR_ON_FILE = 1,     /* the address typed was the one on file */
	CR_LIVE = 2,        /* its code may still be typed */
	CR_NO_RESEND = 4,   /* resend_interval no longer counts it (portalctl user reset) */
};

struct code_request {
	uint32_t flags;
	uint8_t address[CODE_TAG_LEN];    /* tag of the address typed (folded to lower case) */
	uint8_t source[CODE_TAG_LEN];     /* tag of where it came from */
	uint8_t handle[CODE_TAG_LEN];     /* tag of its handle */
	uint8_t code[CODE_HASH_LEN];      /* its code, bound to the handle */
	uint64_t time, expires;
	uint32_t tries;                   /* wrong codes it still takes */
};

struct user_record;

/* Seconds before a code may be asked for with this address (on_file: the
 * one on file; else its tag) from this source; 0 = now. */
uint64_t codereq_wait(const struct user_record *u, const struct portal_config *cfg, time_t now,
		      bool on_file, const uint8_t address[CODE_TAG_LEN],
		      const uint8_t source[CODE_TAG_LEN]);
/* Keep a new request (e->flags says whether on file; it is made live). */
void codereq_add(struct user_record *u, const struct portal_config *cfg, time_t now,
		 const struct code_request *e);
/* The request of a handle's tag, or NULL. */
struct code_request *codereq_find(struct user_record *u, const uint8_t handle[CODE_TAG_LEN]);
/* The live code mailed to the address on file, or NULL. */
const struct code_request *codereq_live(const struct user_record *u, time_t now);
/* An administrator's reset: every code dies, resend_interval is lifted
 * (codes_per_hour still counts the requests). */
void codereq_reset(struct user_record *u);
/* A record of a version before requests were kept this way: its request
 * times become requests for the address on file, for the hourly limit;
 * its live code, bound to no handle, cannot be typed and goes. */
void codereq_from_old(struct user_record *u);

#endif
