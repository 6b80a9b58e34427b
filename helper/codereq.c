/*
 * codereq.c - a member's code requests and their limits.  See codereq.h.
 */
#include "codereq.h"

#include <string.h>
#include <sodium.h>
#include "user.h"

#define HOUR 3600

/* Was t within the hour before now?  A time ahead of the clock (the clock
 * was set back) counts as recent: the limit must not vanish with it. */
static bool within_hour(uint64_t t, time_t now)
{
	return t + HOUR > (uint64_t)now;
}

/* Is e a request for that address?  The address on file is known by the
 * flag (records of older versions have no tag for it), any other by its
 * tag. */
static bool for_address(const struct code_request *e, bool on_file,
			const uint8_t address[CODE_TAG_LEN])
{
	if (on_file || (e->flags & CR_ON_FILE))
		return on_file && (e->flags & CR_ON_FILE);
	return memcmp(e->address, address, CODE_TAG_LEN) == 0;
}

/* The earliest time from which `count` requests of an hour leave it
 * below `limit`: now, or when the oldest of them leaves the hour. */
static uint64_t hour_wait(unsigned count, unsigned limit, uint64_t oldest, time_t now)
{
	return count >= limit ? oldest + HOUR - (uint64_t)now : 0;
}

uint64_t codereq_wait(const struct user_record *u, const struct portal_config *cfg, time_t now,
		      bool on_file, const uint8_t address[CODE_TAG_LEN],
		      const uint8_t source[CODE_TAG_LEN])
{
	uint64_t t = (uint64_t)now, wait = 0, oldest_a = UINT64_MAX, oldest_s = UINT64_MAX, w;
	unsigned per_address = 0, per_source = 0;

	for (unsigned i = 0; i < u->ncodes; i++) {
		const struct code_request *e = &u->codes[i];
		bool recent = within_hour(e->time, now);

		if (for_address(e, on_file, address)) {
			if (!(e->flags & CR_NO_RESEND) && e->time + cfg->resend_interval > t &&
			    e->time + cfg->resend_interval - t > wait)
				wait = e->time + cfg->resend_interval - t;
			per_address += recent;
			if (recent && e->time < oldest_a)
				oldest_a = e->time;
		}
		if (recent && memcmp(e->source, source, CODE_TAG_LEN) == 0) {
			per_source++;
			if (e->time < oldest_s)
				oldest_s = e->time;
		}
	}
	w = hour_wait(per_address, cfg->codes_per_hour, oldest_a, now);
	wait = w > wait ? w : wait;
	w = hour_wait(per_source, 2 * cfg->codes_per_hour, oldest_s, now);
	return w > wait ? w : wait;
}

static void drop(struct user_record *u, unsigned i)
{
	sodium_memzero(&u->codes[i], sizeof u->codes[i]);
	memmove(&u->codes[i], &u->codes[i + 1], (u->ncodes - i - 1) * sizeof u->codes[0]);
	u->ncodes--;
	sodium_memzero(&u->codes[u->ncodes], sizeof u->codes[0]);
}

/* A request no rule needs any more: past the hour and the resend
 * interval, and its code no longer live.  Whatever the address was. */
static void forget_old(struct user_record *u, const struct portal_config *cfg, time_t now)
{
	uint64_t keep = cfg->resend_interval > HOUR ? cfg->resend_interval : HOUR;

	for (unsigned i = 0; i < u->ncodes;) {
		const struct code_request *e = &u->codes[i];
		bool live = (e->flags & CR_LIVE) && e->tries > 0 && e->expires > (uint64_t)now;

		if (!live && e->time + keep <= (uint64_t)now)
			drop(u, i);
		else
			i++;
	}
}

/* The oldest request (a decoy, with decoys_only), that is not a live code
 * when there is a choice; -1 when none. */
static int oldest(const struct user_record *u, bool decoys_only)
{
	int pick = -1;

	for (unsigned i = 0; i < u->ncodes; i++) {
		const struct code_request *e = &u->codes[i], *p;

		if (decoys_only && (e->flags & CR_ON_FILE))
			continue;
		p = pick < 0 ? NULL : &u->codes[pick];
		if (!p || ((p->flags & CR_LIVE) && !(e->flags & CR_LIVE)) ||
		    (((p->flags & CR_LIVE) == (e->flags & CR_LIVE)) && e->time < p->time))
			pick = (int)i;
	}
	return pick;
}

void codereq_add(struct user_record *u, const struct portal_config *cfg, time_t now,
		 const struct code_request *e)
{
	unsigned decoys = 0;
	int pick = -1;

	forget_old(u, cfg, now);
	for (unsigned i = 0; i < u->ncodes; i++) {
		if (for_address(&u->codes[i], e->flags & CR_ON_FILE, e->address))
			u->codes[i].flags &= ~(uint32_t)CR_LIVE;
		decoys += !(u->codes[i].flags & CR_ON_FILE);
	}
	/* Decided by what is kept, not by what comes: the same whether the
	 * new one is for the address on file or not. */
	if (decoys >= CODEREQ_DECOYS)
		pick = oldest(u, true);
	else if (u->ncodes == CODEREQ_MAX)
		pick = oldest(u, false);
	if (pick >= 0)
		drop(u, (unsigned)pick);
	u->codes[u->ncodes] = *e;
	u->codes[u->ncodes].flags |= CR_LIVE;
	u->ncodes++;
}

struct code_request *codereq_find(struct user_record *u, const uint8_t handle[CODE_TAG_LEN])
{
	for (unsigned i = 0; i < u->ncodes; i++)
		if (memcmp(u->codes[i].handle, handle, CODE_TAG_LEN) == 0)
			return &u->codes[i];
	return NULL;
}

const struct code_request *codereq_live(const struct user_record *u, time_t now)
{
	for (unsigned i = 0; i < u->ncodes; i++) {
		const struct code_request *e = &u->codes[i];

		if ((e->flags & (CR_ON_FILE | CR_LIVE)) == (CR_ON_FILE | CR_LIVE) && e->tries > 0 &&
		    e->expires > (uint64_t)now)
			return e;
	}
	return NULL;
}

void codereq_reset(struct user_record *u)
{
	for (unsigned i = 0; i < u->ncodes; i++) {
		u->codes[i].flags &= ~(uint32_t)CR_LIVE;
		u->codes[i].flags |= CR_NO_RESEND;
	}
}

/* One request for the address on file at t, if there is room. */
static void old_request(struct user_record *u, uint64_t t, bool no_resend)
{
	struct code_request *e;

	if (u->ncodes == CODEREQ_MAX)
		return;
	e = &u->codes[u->ncodes++];
	memset(e, 0, sizeof *e);
	e->flags = CR_ON_FILE | (no_resend ? CR_NO_RESEND : 0);
	e->time = t;
}

void codereq_from_old(struct user_record *u)
{
	bool last_seen = u->last_request == 0;

	for (unsigned i = 0; i < u->nrequests; i++) {
		/* A reset set last_request to 0 and kept the hour's requests. */
		old_request(u, u->requests[i], u->last_request == 0);
		last_seen = last_seen || u->requests[i] == u->last_request;
	}
	if (!last_seen)
		old_request(u, u->last_request, false);
	sodium_memzero(u->requests, sizeof u->requests);
	u->nrequests = 0;
	u->last_request = 0;
	sodium_memzero(u->code_hash, sizeof u->code_hash);
	u->code_expires = 0;
	u->code_tries = 0;
}
