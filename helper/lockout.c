/*
 * lockout.c - failures per source and per member, and how long the locks
 * they bring last.  See lockout.h.
 */
#include "lockout.h"

#include <stdio.h>
#include <string.h>
#include "user.h"

uint64_t lockout_length(const struct portal_config *cfg, uint32_t failures, uint32_t run,
			uint32_t grow_after)
{
	uint64_t len = cfg->lockout, cap = cfg->lockout_max > cfg->lockout ? cfg->lockout_max :
					  cfg->lockout;
	uint32_t doublings;

	if (failures <= grow_after || run == 0)
		return len;
	doublings = (failures - grow_after + run - 1) / run;
	/* lockout is at most a week (2^20 s): 40 doublings are past any cap */
	while (doublings-- > 0 && len < cap)
		len *= 2;
	return len < cap ? len : cap;
}

static struct source_lock *find(struct user_record *u, const char *source)
{
	for (unsigned i = 0; i < u->nsources; i++)
		if (strcmp(u->sources[i].source, source) == 0)
			return &u->sources[i];
	return NULL;
}

static void drop(struct user_record *u, unsigned i)
{
	memmove(&u->sources[i], &u->sources[i + 1], (u->nsources - i - 1) * sizeof u->sources[0]);
	u->nsources--;
	memset(&u->sources[u->nsources], 0, sizeof u->sources[0]);
}

/* Room for one more source: the table is bounded, so that a guesser who
 * hops between hosts cannot grow the record without end.  The one to go
 * is the one locked for the shortest time: one that no lock keeps out,
 * failing least recently, else the lock that ends first.  The member-wide
 * count still holds every failure of the one dropped. */
static struct source_lock *add(struct user_record *u, const char *source, time_t now)
{
	struct source_lock *s;

	if (u->nsources == LOCKOUT_SOURCES) {
		unsigned pick = 0;

		for (unsigned i = 1; i < u->nsources; i++) {
			const struct source_lock *a = &u->sources[i], *b = &u->sources[pick];
			bool a_free = a->until <= (uint64_t)now, b_free = b->until <= (uint64_t)now;

			if (a_free != b_free ? a_free :
			    a_free ? a->last < b->last : a->until < b->until)
				pick = i;
		}
		drop(u, pick);
	}
	s = &u->sources[u->nsources++];
	memset(s, 0, sizeof *s);
	snprintf(s->source, sizeof s->source, "%s", source);
	return s;
}

void lockout_fail(struct user_record *u, const struct portal_config *cfg, time_t now,
		  const char *source, bool member, struct lock_event *ev)
{
	struct source_lock *s = find(u, source);

	memset(ev, 0, sizeof *ev);
	if (!s)
		s = add(u, source, now);
	if (s->failures < UINT32_MAX)
		s->failures++;
	s->last = (uint64_t)now;
	if (cfg->code_attempts && s->failures % cfg->code_attempts == 0) {
		s->until = (uint64_t)now + lockout_length(cfg, s->failures, cfg->code_attempts,
							   cfg->max_failures);
		*ev = (struct lock_event){ true, false, s->until, s->failures };
	}
	if (!member)
		return;
	if (u->failures < UINT32_MAX)
		u->failures++;
	if (u->failures % LOCKOUT_MEMBER_RUN == 0) {
		u->locked_until = (uint64_t)now + lockout_length(cfg, u->failures,
								  LOCKOUT_MEMBER_RUN,
								  LOCKOUT_MEMBER_RUN);
		if (u->locked_until >= ev->until)
			*ev = (struct lock_event){ true, true, u->locked_until, u->failures };
	}
}

void lockout_succeed(struct user_record *u, const char *source)
{
	for (unsigned i = 0; i < u->nsources; i++)
		if (strcmp(u->sources[i].source, source) == 0)
			drop(u, i);
	u->failures = 0;
	u->hard_locked = false;
}

/* The member's own lock.  A record written before locks always ended may
 * hold a lock "until unlocked" (hard_locked): it now ends lockout_max
 * after the end of the timed lock that came before it (none: it is over),
 * the closest to "lockout_max after it began" such a record can tell. */
static uint64_t member_end(const struct user_record *u, const struct portal_config *cfg)
{
	uint64_t end = u->locked_until;

	if (u->hard_locked && u->locked_until)
		end = u->locked_until + (cfg->lockout_max > cfg->lockout ? cfg->lockout_max :
					 cfg->lockout);
	return end;
}

uint64_t lockout_end(const struct user_record *u, const struct portal_config *cfg, time_t now,
		     const char *source)
{
	uint64_t end = member_end(u, cfg);

	for (unsigned i = 0; i < u->nsources; i++)
		if ((!source || strcmp(u->sources[i].source, source) == 0) &&
		    u->sources[i].until > end)
			end = u->sources[i].until;
	return end > (uint64_t)now ? end : 0;
}

void lockout_clear(struct user_record *u)
{
	memset(u->sources, 0, sizeof u->sources);
	u->nsources = 0;
	u->failures = 0;
	u->locked_until = 0;
	u->hard_locked = false;
}

void lockout_entries(const struct user_record *u, time_t now, struct proto_buf *out)
{
	struct proto_buf e;

	for (unsigned i = 0; i < u->nsources; i++) {
		const struct source_lock *s = &u->sources[i];

		proto_begin_body(&e);
		proto_put_str(&e, TAG_SOURCE, s->source);
		proto_put_u64(&e, TAG_UNTIL, s->until > (uint64_t)now ? s->until : 0);
		proto_put_u32(&e, TAG_FAILURES, s->failures);
		proto_put_nested(out, TAG_LOCK, &e);
	}
}
