/*
 * user.h - a managed user's record ("u:<user>" in the store) and the rules
 * that follow from it alone: state, and through lockout.h and codereq.h,
 * failures and locks, code requests and their limits.
 *
 * The record is a proto field body (record.h).  What may be shown to an
 * administrator uses the public tags; what never leaves the helper
 * (password hash, hashes of the live code and ticket, request times) the
 * private ones of record.h.
 */
#ifndef PORTAL_USER_H
#define PORTAL_USER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sodium.h>
#include "code.h"
#include "codereq.h"
#include "config.h"
#include "lockout.h"
#include "proto.h"
#include "store.h"

#define USER_PREFIX       "u:"
#define USER_REQUESTS_MAX 100   /* the largest codes_per_hour config.c accepts */
#define USER_NOTICES_HOUR 3     /* password notices sent in an hour, at most */
#define USER_NOTICES_MAX  (USER_NOTICES_HOUR + 1)   /* and one held */

struct user_record {
	char name[PORTAL_USER_MAX + 1];
	char email[PORTAL_EMAIL_MAX + 1];
	uint64_t created;
	char pwhash[crypto_pwhash_STRBYTES];  /* "" = no portal password */
	uint64_t last_signin;                 /* 0 = never */
	bool reset;                           /* an administrator reset the user */
	/* Failures and locks (lockout.h): the member's own, from every
	 * source, and those of each source. */
	uint32_t failures;                    /* consecutive, codes and passwords */
	uint64_t locked_until;                /* the member's own lock */
	bool hard_locked;                     /* only in records of older versions */
	struct source_lock sources[LOCKOUT_SOURCES];
	unsigned nsources;
	/* Code requests (codereq.h), oldest first. */
	struct code_request codes[CODEREQ_MAX];
	unsigned ncodes;
	/* The reset ticket: none when ticket_expires is 0. */
	uint8_t ticket_hash[CODE_HASH_LEN];
	uint64_t ticket_expires;
	uint32_t ticket_tries;
	/* Mail the member can cause, rate-limited (outbox.h). */
	uint64_t lock_mailed;                 /* the last lock mail queued */
	uint64_t notices[USER_NOTICES_MAX];   /* when each notice of the hour goes */
	unsigned nnotices;
	/* Read from records of older versions only, and carried over into
	 * codes (codereq_from_old): the live code, the requests of the
	 * hour, the last one. */
	uint8_t code_hash[CODE_HASH_LEN];
	uint64_t code_expires;
	uint32_t code_tries;
	uint64_t requests[USER_REQUESTS_MAX];
	unsigned nrequests;
	uint64_t last_request;
};

/* A new user: pending, no password. */
void user_init(struct user_record *u, const char *name, const char *email, time_t now);
/* Wipe a record (it holds hashes). */
void user_wipe(struct user_record *u);

/* 0 loaded, 1 not managed, -1 storage error or damaged record (logged).
 * Store lock held. */
int user_load(struct store *s, const char *name, struct user_record *u);
/* 0 or -1; not durable before store_sync.  Store lock held. */
int user_save(struct store *s, const struct user_record *u);
/* As user_save for a user not managed yet: 0 saved, 1 managed already
 * (nothing written), -1 error.  Store lock held. */
int user_insert(struct store *s, const struct user_record *u);
/* 0 deleted, 1 not managed, -1 error.  Store lock held. */
int user_delete(struct store *s, const char *name);

/* State at `now` under cfg, for a request from source (NULL: as an
 * administrator sees the member: locked by the member's own lock or any
 * source's, user_entry's TAG_LOCKs saying which); *why says why a user is
 * pending (PENDING_NONE otherwise). */
enum portal_state user_state(const struct user_record *u, const struct portal_config *cfg,
			     time_t now, const char *source, enum pending_reason *why);

bool user_has_ticket(const struct user_record *u, time_t now);
void user_clear_ticket(struct user_record *u);

/* The administrator's view: TAG_USER TAG_EMAIL TAG_STATE TAG_REASON TAG_CREATED
 * TAG_LAST_SIGNIN TAG_FAILURES [TAG_UNTIL if locked] TAG_HAS_PASSWORD TAG_CODE_EXPIRES
 * TAG_LOCK*, as a bare body in out. */
void user_entry(const struct user_record *u, const struct portal_config *cfg, time_t now,
		struct proto_buf *out);

#endif
