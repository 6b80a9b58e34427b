/* unit_codereq.c - a member's code requests (helper/codereq.c): the limits
 * hold per address typed, the same for the address on file and any other;
 * a request for another address never touches the live code or its
 * limits; a source is limited whatever the address; the decoys kept are
 * bounded, and both kinds of request change the record alike. */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "log.h"
#include "user.h"

#define NOW ((time_t)1700000000)

static struct portal_config cfg;
static const uint8_t here[CODE_TAG_LEN] = { 1 }, there[CODE_TAG_LEN] = { 2 };

/* A tag for the n-th address not on file. */
static void address(unsigned n, uint8_t out[CODE_TAG_LEN])
{
	memset(out, 0, CODE_TAG_LEN);
	memcpy(out, &n, sizeof n);
	out[CODE_TAG_LEN - 1] = 0xaa;
}

/* A request at t: for the address on file (n < 0) or the n-th other. */
static struct code_request *ask(struct user_record *u, int n, const uint8_t *source, time_t t)
{
	struct code_request e = { .time = (uint64_t)t, .expires = (uint64_t)t + cfg.code_ttl,
				  .tries = cfg.code_attempts };

	if (n < 0)
		e.flags = CR_ON_FILE;
	else
		address((unsigned)n, e.address);
	memcpy(e.source, source, CODE_TAG_LEN);
	memset(e.handle, 0x30 + (n & 0x0f), sizeof e.handle);
	e.handle[0] = (uint8_t)u->ncodes;
	e.handle[1] = (uint8_t)(t & 0xff);
	codereq_add(u, &cfg, t, &e);
	return &u->codes[u->ncodes - 1];
}

static uint64_t wait_for(const struct user_record *u, int n, const uint8_t *source, time_t t)
{
	uint8_t a[CODE_TAG_LEN];

	address(n < 0 ? 0 : (unsigned)n, a);
	return codereq_wait(u, &cfg, t, n < 0, a, source);
}

static void per_address(void)
{
	struct user_record u;
	const struct code_request *live;

	user_init(&u, "alice", "alice@example.org", NOW);
	CHECK("first code at once", wait_for(&u, -1, here, NOW) == 0);
	ask(&u, -1, here, NOW);
	live = codereq_live(&u, NOW);
	CHECK("the address on file gives the live code", live && live->time == (uint64_t)NOW);
	CHECK("the same address again: wait the rest of resend_interval",
	      wait_for(&u, -1, here, NOW + 20) == 40);
	CHECK("another address: at once (a typo, then the right address)",
	      wait_for(&u, 1, here, NOW + 20) == 0);
	ask(&u, 1, here, NOW + 20);
	CHECK("... which leaves the live code alone", codereq_live(&u, NOW + 20) == live);
	CHECK("... and the limits of the address on file",
	      wait_for(&u, -1, here, NOW + 20) == 40);
	CHECK("that other address again: wait, as the address on file would",
	      wait_for(&u, 1, here, NOW + 30) == 50);
	for (int i = 1; i < 5; i++)
		ask(&u, -1, there, NOW + 60 * i);
	CHECK("codes_per_hour for the address on file: wait until the oldest leaves the hour",
	      wait_for(&u, -1, there, NOW + 300) == 3300);
	CHECK("... over after the hour", wait_for(&u, -1, there, NOW + 3600) == 0);
	CHECK("clock set back: the limit still holds", wait_for(&u, -1, there, NOW - 100) > 0);
	live = codereq_live(&u, NOW + 240);
	CHECK("a newer code for the address on file is the only live one",
	      live && live->time == (uint64_t)NOW + 240 && !(u.codes[0].flags & CR_LIVE));
	CHECK("... the other address's code lives on", (u.codes[1].flags & CR_LIVE) != 0);
	codereq_reset(&u);
	CHECK("reset: every code dies, resend_interval lifted, the hour still counted",
	      !codereq_live(&u, NOW + 241) && wait_for(&u, 1, here, NOW + 241) == 0 &&
	      wait_for(&u, -1, there, NOW + 241) == 3600 - 241);
}

static void per_source(void)
{
	struct user_record u;

	user_init(&u, "alice", "alice@example.org", NOW);
	for (unsigned i = 0; i < 2 * cfg.codes_per_hour; i++)
		ask(&u, (int)i, here, NOW + (time_t)i);
	CHECK("a source asking twice codes_per_hour an hour must wait, whatever the address",
	      wait_for(&u, 99, here, NOW + 100) == 3600 - 100 &&
	      wait_for(&u, -1, here, NOW + 100) == 3600 - 100);
	CHECK("... another source need not", wait_for(&u, -1, there, NOW + 100) == 0 &&
	      wait_for(&u, 99, there, NOW + 100) == 0);
}

static void bounded(void)
{
	static struct user_record u, v;
	size_t before;
	uint8_t src[CODE_TAG_LEN] = { 0 };
	bool live_kept = true;

	user_init(&u, "alice", "alice@example.org", NOW);
	ask(&u, -1, here, NOW);
	for (unsigned i = 0; i < 3 * CODEREQ_DECOYS; i++) {
		memcpy(src, &i, sizeof i);   /* a source each: none reaches its limit */
		ask(&u, (int)i, src, NOW + 1 + (time_t)i);
		live_kept &= codereq_live(&u, NOW + 1) != NULL;
	}
	CHECK("decoys kept are bounded", u.ncodes == 1 + CODEREQ_DECOYS);
	CHECK("... the live code and the requests for the address on file stay",
	      live_kept && (u.codes[0].flags & CR_ON_FILE));
	CHECK("... the oldest decoys go first",
	      u.codes[1].time == (uint64_t)NOW + 1 + 2 * CODEREQ_DECOYS);
	before = u.ncodes;
	v = u;
	ask(&u, -1, there, NOW + 500);
	ask(&v, 777, there, NOW + 500);
	CHECK("a full table: a request for the address on file and one for another change "
	      "the count of requests alike", u.ncodes == before && v.ncodes == before);
	u = v;
	v.ncodes = 5;
	u.ncodes = 5;
	ask(&u, -1, there, NOW + 502);
	ask(&v, 778, there, NOW + 502);
	CHECK("... and so does a table with room", u.ncodes == 6 && v.ncodes == 6);
	CHECK("requests no rule needs are forgotten after the hour",
	      (ask(&u, 900, here, NOW + 7200), u.ncodes == 1));
}

static void found(void)
{
	struct user_record u;
	struct code_request *e;
	uint8_t h[CODE_TAG_LEN];

	user_init(&u, "alice", "alice@example.org", NOW);
	e = ask(&u, 3, here, NOW);
	memcpy(h, e->handle, sizeof h);
	CHECK("a request is found by its handle's tag", codereq_find(&u, h) == &u.codes[0]);
	h[5] ^= 1;
	CHECK("... another handle finds nothing", codereq_find(&u, h) == NULL);
}

int main(void)
{
	log_open(true);
	config_defaults(&cfg);
	per_address();
	per_source();
	bounded();
	found();
	return check_done();
}
