/* unit_lockout.c - failures per source and per member (helper/lockout.c):
 * a run of code_attempts from one source locks that source out, and no
 * other; past max_failures each lock grows, up to lockout_max; a hundred
 * in a row from all sources lock the member out everywhere, for a time;
 * every lock ends; a success ends its source's run; the table of sources
 * is bounded. */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "log.h"
#include "user.h"

#define NOW ((time_t)1700000000)

static struct portal_config cfg;

/* n failures from source at now; the last event. */
static struct lock_event fail_n(struct user_record *u, const char *source, unsigned n,
				bool member, time_t now)
{
	struct lock_event ev = { 0 };

	for (unsigned i = 0; i < n; i++)
		lockout_fail(u, &cfg, now, source, member, &ev);
	return ev;
}

static void per_source(void)
{
	struct user_record u;
	struct lock_event ev;
	bool ok = true;

	user_init(&u, "alice", "alice@example.org", NOW);
	for (unsigned i = 1; i < cfg.code_attempts; i++) {
		lockout_fail(&u, &cfg, NOW, "203.0.113.7", true, &ev);
		ok &= !ev.locked;
	}
	CHECK("no lock before code_attempts failures", ok && !lockout_end(&u, &cfg, NOW, "203.0.113.7"));
	lockout_fail(&u, &cfg, NOW, "203.0.113.7", true, &ev);
	CHECK("code_attempts failures: that source is locked out for `lockout`",
	      ev.locked && !ev.everywhere && ev.until == (uint64_t)NOW + cfg.lockout &&
	      lockout_end(&u, &cfg, NOW, "203.0.113.7") == (uint64_t)NOW + cfg.lockout);
	CHECK("... another source is not", lockout_end(&u, &cfg, NOW, "192.0.2.1") == 0);
	CHECK("... the member's own lock is not in force", u.locked_until == 0);
	CHECK("... the failures count for the member too", u.failures == cfg.code_attempts);
	CHECK("the lock ends", lockout_end(&u, &cfg, NOW + cfg.lockout, "203.0.113.7") == 0);
	lockout_succeed(&u, "192.0.2.1");
	CHECK("a success elsewhere ends the member's run, not the guesser's",
	      u.failures == 0 && u.nsources == 1 && u.sources[0].failures == cfg.code_attempts);
	lockout_succeed(&u, "203.0.113.7");
	CHECK("a success from the source ends its run", u.nsources == 0);
	fail_n(&u, "203.0.113.7", 3, false, NOW);
	CHECK("not counted for the member when told so (a decoy's wrong codes)",
	      u.failures == 0 && u.sources[0].failures == 3);
}

static void growing(void)
{
	struct user_record u;
	struct lock_event ev;
	uint64_t want = cfg.lockout, len[12];
	bool ok = true;
	time_t t = NOW;

	user_init(&u, "alice", "alice@example.org", NOW);
	/* 5 a run, locks grow after 20: 15m 15m 15m 15m 30m 1h 2h ... 24h. */
	for (unsigned run = 1; run <= 12; run++) {
		ev = fail_n(&u, "203.0.113.7", cfg.code_attempts, true, t);
		len[run - 1] = ev.until - (uint64_t)t;
		t = (time_t)ev.until;   /* the next run after the lock */
	}
	for (unsigned run = 1; run <= 12; run++) {
		if (run * cfg.code_attempts > cfg.max_failures && want < cfg.lockout_max)
			want = want * 2 < cfg.lockout_max ? want * 2 : cfg.lockout_max;
		ok &= len[run - 1] == want;
	}
	CHECK("locks last `lockout` up to max_failures, then double each time", ok &&
	      len[3] == cfg.lockout && len[4] == 2 * (uint64_t)cfg.lockout &&
	      len[5] == 4 * (uint64_t)cfg.lockout);
	CHECK("... up to lockout_max, and no longer", len[11] == cfg.lockout_max &&
	      len[10] == cfg.lockout_max);
	CHECK("... and every one of them ends",
	      lockout_end(&u, &cfg, (time_t)ev.until, "203.0.113.7") == 0);
	CHECK("lockout_length: a run past max_failures that is not a multiple",
	      lockout_length(&cfg, 21, 5, 20) == 2 * (uint64_t)cfg.lockout &&
	      lockout_length(&cfg, 20, 5, 20) == cfg.lockout);
	CHECK("lockout_length: a thousand runs stay at lockout_max",
	      lockout_length(&cfg, 5000, 5, 20) == cfg.lockout_max);
}

static void everywhere(void)
{
	struct user_record u;
	struct lock_event ev = { 0 };
	char source[32];

	user_init(&u, "alice", "alice@example.org", NOW);
	/* 25 hosts, 4 failures each: no host reaches a lock of its own. */
	for (unsigned i = 0; i < 25; i++) {
		snprintf(source, sizeof source, "198.51.100.%u", i);
		ev = fail_n(&u, source, cfg.code_attempts - 1, true, NOW);
	}
	CHECK("100 failures in a row from many sources lock the member everywhere",
	      ev.locked && ev.everywhere && u.failures == LOCKOUT_MEMBER_RUN &&
	      lockout_end(&u, &cfg, NOW, "192.0.2.1") == (uint64_t)NOW + cfg.lockout &&
	      lockout_end(&u, &cfg, NOW, NULL) == (uint64_t)NOW + cfg.lockout);
	CHECK("... for a time: it ends", lockout_end(&u, &cfg, NOW + cfg.lockout, NULL) == 0);
	CHECK("the table of sources is bounded", u.nsources == LOCKOUT_SOURCES);
	for (unsigned i = 0; i < 25; i++) {
		snprintf(source, sizeof source, "198.51.100.%u", i);
		ev = fail_n(&u, source, cfg.code_attempts - 1, true, NOW + cfg.lockout);
	}
	CHECK("the next hundred: locked everywhere for twice as long",
	      ev.everywhere && ev.until == (uint64_t)NOW + 3 * (uint64_t)cfg.lockout);
	lockout_clear(&u);
	CHECK("unlock clears it all", u.failures == 0 && u.nsources == 0 && u.locked_until == 0 &&
	      lockout_end(&u, &cfg, NOW, "198.51.100.1") == 0);
}

/* The source dropped for a new one is the least locked: a guesser who
 * hops between hosts cannot drop the lock of a host that is locked while
 * free ones remain. */
static void bounded(void)
{
	struct user_record u;
	char source[32];

	user_init(&u, "alice", "alice@example.org", NOW);
	fail_n(&u, "203.0.113.7", cfg.code_attempts, false, NOW);
	for (unsigned i = 0; i < 40; i++) {
		snprintf(source, sizeof source, "198.51.100.%u", i);
		fail_n(&u, source, 1, false, NOW + (time_t)i);
	}
	CHECK("a locked source outlives forty that are not",
	      u.nsources == LOCKOUT_SOURCES && lockout_end(&u, &cfg, NOW + 50, "203.0.113.7") != 0);
	CHECK("... the most recent ones are kept",
	      strcmp(u.sources[LOCKOUT_SOURCES - 1].source, "198.51.100.39") == 0);
}

int main(void)
{
	log_open(true);
	config_defaults(&cfg);
	per_source();
	growing();
	everywhere();
	bounded();
	return check_done();
}
