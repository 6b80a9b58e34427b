/* unit_user.c - the user record: it round-trips through the store, and the
 * rules that follow from it (state, lockouts, code request limits).  The
 * groups that need a store have a new one each, in a scratch folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "fixture.h"
#include "log.h"
#include "user.h"

#define NOW ((time_t)1700000000)

static char dir[128];
static struct store *st;
static struct portal_config cfg;
static struct proto_buf b;
static struct proto_msg m;

static void codec(void)
{
	bool public_secret = false;
	unsigned hashes = 0;
	struct user_record u, v;

	CHECK("absent user", user_load(st, "alice", &v) == 1);
	user_init(&u, "alice", "alice@example.org", NOW);
	snprintf(u.pwhash, sizeof u.pwhash, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
	u.last_signin = NOW - 5;
	u.reset = true;
	u.failures = 7;
	u.locked_until = NOW + 60;
	u.hard_locked = true;
	memset(u.code_hash, 0xc0, sizeof u.code_hash);
	u.code_expires = NOW + 600;
	u.code_tries = 4;
	u.requests[0] = NOW - 100;
	u.requests[1] = NOW - 50;
	u.nrequests = 2;
	u.last_request = NOW - 50;
	memset(u.ticket_hash, 0x71, sizeof u.ticket_hash);
	u.ticket_expires = NOW + 300;
	u.ticket_tries = 2;
	CHECK("save", user_save(st, &u) == 0);
	CHECK("load", user_load(st, "alice", &v) == 0);
	CHECK("names and dates kept", strcmp(v.name, "alice") == 0 &&
	      strcmp(v.email, "alice@example.org") == 0 && v.created == (uint64_t)NOW &&
	      v.last_signin == (uint64_t)NOW - 5);
	CHECK("password hash kept", strcmp(v.pwhash, u.pwhash) == 0);
	CHECK("flags and counters kept", v.reset && v.hard_locked && v.failures == 7 &&
	      v.locked_until == (uint64_t)NOW + 60);
	CHECK("live code kept", memcmp(v.code_hash, u.code_hash, CODE_HASH_LEN) == 0 &&
	      v.code_expires == u.code_expires && v.code_tries == 4);
	CHECK("request times kept", v.nrequests == 2 && v.requests[0] == u.requests[0] &&
	      v.requests[1] == u.requests[1] && v.last_request == u.last_request);
	CHECK("ticket kept", memcmp(v.ticket_hash, u.ticket_hash, CODE_HASH_LEN) == 0 &&
	      v.ticket_expires == u.ticket_expires && v.ticket_tries == 2);

	/* What an administrator may see is separate from what never travels. */
	CHECK("record read raw", store_get(st, "u:alice", &b) == 0 &&
	      proto_parse_body(b.data, b.len, &m));
	for (size_t i = 0; i < m.nfields; i++) {
		bool secret = m.f[i].len == CODE_HASH_LEN ||
			      (m.f[i].len == strlen(u.pwhash) &&
			       memcmp(m.f[i].data, u.pwhash, m.f[i].len) == 0);

		hashes += secret;
		public_secret |= secret && m.f[i].tag < TAG_PRIVATE;
	}
	CHECK("password, code and ticket hashes only under private tags",
	      hashes == 3 && !public_secret);

	user_clear_code(&u);
	user_clear_ticket(&u);
	user_save(st, &u);
	CHECK("cleared code and ticket stay cleared", user_load(st, "alice", &v) == 0 &&
	      v.code_expires == 0 && !user_has_code(&v) && v.ticket_expires == 0 &&
	      !user_has_ticket(&v, NOW));
	CHECK("delete", user_delete(st, "alice") == 0 && user_load(st, "alice", &v) == 1);
	CHECK("delete absent", user_delete(st, "alice") == 1);
}

static void damage(void)
{
	struct user_record u;

	proto_begin_body(&b);
	memcpy(b.data, "\x02\xff\xff", 3);
	b.len = 3;
	store_put(st, "u:broken", &b);
	CHECK("damaged record reported, not guessed", user_load(st, "broken", &u) < 0);

	user_init(&u, "carol", "c@example.org", NOW);
	user_save(st, &u);
	store_get(st, "u:carol", &b);
	store_put(st, "u:dave", &b);
	CHECK("record under another name refused", user_load(st, "dave", &u) < 0);

	proto_begin_body(&b);
	proto_put_str(&b, TAG_USER, "erin");
	proto_put_str(&b, TAG_EMAIL, "e@example.org");
	proto_put_u64(&b, TAG_CREATED, NOW);
	proto_put_u64(&b, TAG_CODE_EXPIRES, NOW + 10);
	store_put(st, "u:erin", &b);
	CHECK("code expiry without its hash refused", user_load(st, "erin", &u) < 0);
}

static void states(void)
{
	enum pending_reason why;
	struct user_record u;

	user_init(&u, "alice", "alice@example.org", NOW);
	CHECK("new user pending, never signed in",
	      user_state(&u, &cfg, NOW, &why) == STATE_PENDING && why == PENDING_NEVER);
	strcpy(u.pwhash, "$argon2id$x");
	u.last_signin = (uint64_t)cfg.cutover;
	CHECK("signed in on the cutover: active",
	      user_state(&u, &cfg, NOW, &why) == STATE_ACTIVE && why == PENDING_NONE);
	u.last_signin = (uint64_t)cfg.cutover - 1;
	CHECK("signed in before the cutover: pending, dormant",
	      user_state(&u, &cfg, NOW, &why) == STATE_PENDING && why == PENDING_DORMANT);
	u.last_signin = NOW;
	u.reset = true;
	CHECK("reset by an administrator: pending, reset",
	      user_state(&u, &cfg, NOW, &why) == STATE_PENDING && why == PENDING_RESET);
	u.reset = false;
	u.locked_until = NOW + 1;
	CHECK("locked until a time", user_state(&u, &cfg, NOW, &why) == STATE_LOCKED &&
	      user_lock_end(&u) == (uint64_t)NOW + 1);
	CHECK("lock over at its end", user_state(&u, &cfg, NOW + 1, &why) == STATE_ACTIVE);
	u.hard_locked = true;
	CHECK("hard lock has no end", user_state(&u, &cfg, NOW + 99999, &why) == STATE_LOCKED &&
	      user_lock_end(&u) == 0);
	user_unlock(&u);
	CHECK("unlock lifts both", user_state(&u, &cfg, NOW, &why) == STATE_ACTIVE && u.failures == 0);
}

static void failures(void)
{
	struct user_record u;
	bool locks[21] = { false };
	bool ok = true;

	user_init(&u, "alice", "alice@example.org", NOW);
	for (unsigned i = 1; i <= 20; i++)
		locks[i] = user_fail(&u, &cfg, NOW);
	for (unsigned i = 1; i < 20; i++)
		ok &= locks[i] == (i % cfg.code_attempts == 0);
	CHECK("a lockout after each run of code_attempts failures", ok);
	CHECK("max_failures locks until unlocked", locks[20] && u.hard_locked && u.failures == 20);

	user_unlock(&u);
	for (unsigned i = 0; i < cfg.code_attempts - 1; i++)
		user_fail(&u, &cfg, NOW);
	user_succeed(&u);
	CHECK("success ends the run", u.failures == 0 && !user_fail(&u, &cfg, NOW) &&
	      u.failures == 1);
	u.failures = cfg.code_attempts - 1;
	CHECK("lockout lasts `lockout`", user_fail(&u, &cfg, NOW) &&
	      u.locked_until == (uint64_t)NOW + cfg.lockout && !u.hard_locked);
}

static void limits(void)
{
	struct user_record u;
	time_t t = NOW;
	bool bounded = true;

	user_init(&u, "alice", "alice@example.org", NOW);
	CHECK("first code at once", user_code_wait(&u, &cfg, t) == 0);
	user_code_requested(&u, t);
	CHECK("resend interval: wait the rest of it", user_code_wait(&u, &cfg, t + 20) == 40);
	CHECK("resend interval over", user_code_wait(&u, &cfg, t + 60) == 0);
	for (int i = 1; i < 5; i++)
		user_code_requested(&u, t + 60 * i);
	CHECK("hourly cap: wait until the oldest leaves the hour",
	      user_code_wait(&u, &cfg, t + 300) == 3300);
	CHECK("hourly cap over after an hour", user_code_wait(&u, &cfg, t + 3600) == 0);
	CHECK("the longer of the two waits wins",
	      user_code_wait(&u, &cfg, t + 250) == 3350);
	CHECK("clock set back: the limit still holds", user_code_wait(&u, &cfg, t - 100) > 0);
	for (int i = 0; i < 1000; i++) {
		user_code_requested(&u, t + 4000 + 40 * i);
		bounded &= u.nrequests <= 90;
	}
	CHECK("request list keeps only the last hour", bounded && u.nrequests == 90);
	for (int i = 0; i < 1000; i++)
		user_code_requested(&u, t + 50000 + 10 * i);
	CHECK("request list never grows past USER_REQUESTS_MAX",
	      u.nrequests == USER_REQUESTS_MAX &&
	      u.requests[USER_REQUESTS_MAX - 1] == (uint64_t)t + 50000 + 10 * 999);
}

static void entry(void)
{
	struct user_record u;
	uint32_t v32;
	uint64_t v64;
	char s[64];

	user_init(&u, "alice", "alice@example.org", NOW - 10);
	u.code_expires = NOW + 100;
	u.code_tries = 2;
	user_entry(&u, &cfg, NOW, &b);
	CHECK("entry parses", proto_parse_body(b.data, b.len, &m));
	CHECK("entry names the user", proto_get_str(&m, TAG_USER, s, sizeof s) &&
	      strcmp(s, "alice") == 0 && proto_get_str(&m, TAG_EMAIL, s, sizeof s));
	CHECK("entry state and reason", proto_get_u32(&m, TAG_STATE, &v32) && v32 == STATE_PENDING &&
	      proto_get_u32(&m, TAG_REASON, &v32) && v32 == PENDING_NEVER);
	CHECK("entry without lock has no TAG_UNTIL", proto_find(&m, TAG_UNTIL) == NULL);
	CHECK("entry shows the live code's expiry",
	      proto_get_u64(&m, TAG_CODE_EXPIRES, &v64) && v64 == (uint64_t)NOW + 100);
	CHECK("entry has no password", proto_get_u32(&m, TAG_HAS_PASSWORD, &v32) && v32 == 0);
	user_entry(&u, &cfg, NOW + 100, &b);
	proto_parse_body(b.data, b.len, &m);
	CHECK("expired code shows as none", proto_get_u64(&m, TAG_CODE_EXPIRES, &v64) && v64 == 0);
	u.hard_locked = true;
	user_entry(&u, &cfg, NOW, &b);
	proto_parse_body(b.data, b.len, &m);
	CHECK("locked entry has TAG_UNTIL 0", proto_get_u64(&m, TAG_UNTIL, &v64) && v64 == 0 &&
	      proto_get_u32(&m, TAG_STATE, &v32) && v32 == STATE_LOCKED);
	for (size_t i = 0; i < m.nfields; i++)
		if (m.f[i].tag >= TAG_PRIVATE)
			CHECK("entry carries no private field", false);
}

static bool group_start(void)
{
	char db[192], err[256];

	if (!scratch_make(dir, sizeof dir, "unit_user"))
		return false;
	snprintf(db, sizeof db, "%s/portal.db", dir);
	if (store_open(&st, db, err, sizeof err) < 0)
		return fprintf(stderr, "store_open: %s\n", err), false;
	store_lock(st);
	return true;
}

static void group_end(void)
{
	if (st) {
		store_unlock(st);
		store_close(st);
	}
	st = NULL;
	scratch_remove(dir);
}

int main(void)
{
	log_open(true);
	config_defaults(&cfg);
	cfg.cutover = NOW - 86400;
	run_group("codec", group_start, codec, group_end);
	run_group("damage", group_start, damage, group_end);
	states();
	failures();
	limits();
	entry();
	return check_done();
}
