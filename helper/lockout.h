/*
 * lockout.h - failures and the locks they bring, kept per source (where
 * a sign-in comes from: the remote host PAM gives, else the terminal or
 * the service) as well as for the member as a whole.
 *
 * From one source, each run of code_attempts failures in a row locks the
 * member out of that source for `lockout`; past max_failures each further
 * lock lasts twice the one before, up to lockout_max.  Failures from every
 * source together are counted too: each run of LOCKOUT_MEMBER_RUN in a
 * row (NIST SP 800-63B: at most 100) locks the member out of every
 * source, for `lockout` the first time, twice as long each further time,
 * up to lockout_max.  Every lock ends; `portalctl user unlock` lifts them
 * all at once.  So failures from one host do not lock the member out of
 * another, and nobody who knows only a user name can lock its member out
 * for good.
 */
#ifndef PORTAL_LOCKOUT_H
#define PORTAL_LOCKOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "config.h"
#include "proto.h"

#define LOCKOUT_SOURCES    16     /* sources kept per member */
#define LOCKOUT_MEMBER_RUN 100    /* failures in a row, all sources, that lock everywhere */
#define LOCKOUT_UNKNOWN    "unknown"   /* the source of a request that names none */

/* The failures from one source, and its lock. */
struct source_lock {
	char source[PORTAL_SOURCE_MAX + 1];
	uint32_t failures;   /* consecutive, from this source */
	uint64_t until;      /* the end of its last lock (0: never locked) */
	uint64_t last;       /* its last failure */
};

struct user_record;

/* What one failure brought. */
struct lock_event {
	bool locked;         /* a lock began */
	bool everywhere;     /* ... for the member as a whole */
	uint64_t until;
	uint32_t failures;   /* in a row, from the source or in all */
};

/* How long the lock after `failures` in a row lasts, runs being `run`
 * failures long and locks growing after `grow_after`. */
uint64_t lockout_length(const struct portal_config *cfg, uint32_t failures, uint32_t run,
			uint32_t grow_after);
/* Count one failure from source; with `member` also in the member's count
 * (a wrong code typed after a request for an address not on file is not:
 * see codereq.h).  ev says whether a lock began. */
void lockout_fail(struct user_record *u, const struct portal_config *cfg, time_t now,
		  const char *source, bool member, struct lock_event *ev);
/* A right code or password from source: its run, and the member's, end. */
void lockout_succeed(struct user_record *u, const char *source);
/* The end of the lock that keeps source out now, or 0 when none does.
 * NULL: any lock, the member's own or a source's, as an administrator
 * sees the member (the latest end). */
uint64_t lockout_end(const struct user_record *u, const struct portal_config *cfg, time_t now,
		     const char *source);
/* Every lock lifted, every count cleared. */
void lockout_clear(struct user_record *u);
/* One TAG_LOCK {TAG_SOURCE TAG_UNTIL TAG_FAILURES} for each source with
 * failures or a lock in force (TAG_UNTIL 0: none in force). */
void lockout_entries(const struct user_record *u, time_t now, struct proto_buf *out);

#endif
