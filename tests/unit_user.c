/* unit_user.c - the user record: it round-trips through the store, records
 * of the format before issue 14 still load, and the state follows from it.
 * (The rules on failures and code requests: unit_lockout, unit_codereq.)
 * The groups that need a store have a new one each, in a scratch folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "fixture.h"
#include "log.h"
#include "record.h"
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
	u.nsources = 2;
	snprintf(u.sources[0].source, sizeof u.sources[0].source, "203.0.113.7");
	u.sources[0].failures = 3;
	u.sources[0].until = NOW + 900;
	u.sources[0].last = NOW - 1;
	snprintf(u.sources[1].source, sizeof u.sources[1].source, "/dev/tty1");
	u.sources[1].failures = 1;
	u.ncodes = 2;
	u.codes[0].flags = CR_ON_FILE | CR_LIVE;
	memset(u.codes[0].address, 0xa1, sizeof u.codes[0].address);
	memset(u.codes[0].handle, 0xb2, sizeof u.codes[0].handle);
	memset(u.codes[0].code, 0xc3, sizeof u.codes[0].code);
	u.codes[0].time = NOW - 10;
	u.codes[0].expires = NOW + 590;
	u.codes[0].tries = 4;
	u.codes[1].time = NOW - 5;
	memset(u.ticket_hash, 0x71, sizeof u.ticket_hash);
	u.ticket_expires = NOW + 300;
	u.ticket_tries = 2;
	u.lock_mailed = NOW - 7;
	u.notices[0] = NOW - 8;
	u.notices[1] = NOW + 900;
	u.nnotices = 2;
	CHECK("save", user_save(st, &u) == 0);
	CHECK("load", user_load(st, "alice", &v) == 0);
	CHECK("names and dates kept", strcmp(v.name, "alice") == 0 &&
	      strcmp(v.email, "alice@example.org") == 0 && v.created == (uint64_t)NOW &&
	      v.last_signin == (uint64_t)NOW - 5);
	CHECK("password hash kept", strcmp(v.pwhash, u.pwhash) == 0);
	CHECK("flags and counters kept", v.reset && !v.hard_locked && v.failures == 7 &&
	      v.locked_until == (uint64_t)NOW + 60);
	CHECK("the locks of each source kept", v.nsources == 2 &&
	      memcmp(v.sources, u.sources, sizeof u.sources) == 0);
	CHECK("code requests kept", v.ncodes == 2 && memcmp(v.codes, u.codes, sizeof u.codes) == 0);
	CHECK("ticket kept", memcmp(v.ticket_hash, u.ticket_hash, CODE_HASH_LEN) == 0 &&
	      v.ticket_expires == u.ticket_expires && v.ticket_tries == 2);
	CHECK("mail times kept", v.lock_mailed == u.lock_mailed && v.nnotices == 2 &&
	      memcmp(v.notices, u.notices, sizeof u.notices) == 0);

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
	CHECK("password and ticket hashes only under private tags, code requests too",
	      hashes == 2 && !public_secret && proto_find(&m, REC_CODE_REQUEST) &&
	      proto_find(&m, REC_CODE_REQUEST)->tag >= TAG_PRIVATE);

	u.ncodes = 0;
	user_clear_ticket(&u);
	user_save(st, &u);
	CHECK("cleared codes and ticket stay cleared", user_load(st, "alice", &v) == 0 &&
	      v.ncodes == 0 && !codereq_live(&v, NOW) && v.ticket_expires == 0 &&
	      !user_has_ticket(&v, NOW));
	CHECK("delete", user_delete(st, "alice") == 0 && user_load(st, "alice", &v) == 1);
	CHECK("delete absent", user_delete(st, "alice") == 1);
}

/* Every code request takes the same room in the record, whatever it
 * holds: one for the address on file and one for any other change the
 * record alike (codereq.h). */
static void request_size(void)
{
	struct user_record u;
	size_t sizes[3];

	user_init(&u, "alice", "alice@example.org", NOW);
	for (int i = 0; i < 3; i++) {
		struct code_request *e = &u.codes[u.ncodes++];

		memset(e, 0, sizeof *e);
		if (i == 1)
			e->flags = CR_ON_FILE | CR_LIVE;
		if (i == 2)
			memset(e, 0xff, sizeof *e);
		e->time = (uint64_t)NOW + (uint64_t)i;
		user_save(st, &u);
		store_get(st, "u:alice", &b);
		sizes[i] = b.len;
	}
	CHECK("each code request adds the same number of bytes",
	      sizes[1] - sizes[0] == sizes[2] - sizes[1] && sizes[1] > sizes[0]);
}

/* A record as versions before issue 14 wrote it: one live code, the
 * request times of the hour, a lock "until unlocked". */
static void old_record(void)
{
	struct user_record u;
	enum pending_reason why;

	proto_begin_body(&b);
	proto_put_str(&b, TAG_USER, "olga");
	proto_put_str(&b, TAG_EMAIL, "olga@example.org");
	proto_put_u64(&b, TAG_CREATED, NOW - 1000);
	proto_put_u64(&b, TAG_LAST_SIGNIN, 0);
	proto_put_u32(&b, TAG_FAILURES, 20);
	proto_put_u64(&b, TAG_UNTIL, NOW - 100);
	proto_put_u32(&b, REC_RESET, 0);
	proto_put_u32(&b, REC_HARD_LOCKED, 1);
	memset(u.code_hash, 0x5a, sizeof u.code_hash);
	proto_put_bytes(&b, REC_CODE_HASH, u.code_hash, CODE_HASH_LEN);
	proto_put_u64(&b, TAG_CODE_EXPIRES, NOW + 500);
	proto_put_u32(&b, REC_CODE_TRIES, 5);
	proto_put_u64(&b, REC_REQUEST, NOW - 200);
	proto_put_u64(&b, REC_REQUEST, NOW - 30);
	proto_put_u64(&b, REC_LAST_REQUEST, NOW - 30);
	store_put(st, "u:olga", &b);
	CHECK("a record of the old format loads", user_load(st, "olga", &u) == 0 &&
	      strcmp(u.email, "olga@example.org") == 0 && u.failures == 20);
	CHECK("... its request times become requests for the address on file",
	      u.ncodes == 2 && u.codes[0].time == (uint64_t)NOW - 200 &&
	      u.codes[1].time == (uint64_t)NOW - 30 && (u.codes[1].flags & CR_ON_FILE) &&
	      u.nrequests == 0 && u.last_request == 0);
	CHECK("... still counted: the resend interval and the hour hold",
	      codereq_wait(&u, &cfg, NOW, true, u.codes[0].address, u.codes[0].source) == 30);
	CHECK("... its live code, bound to no handle, is gone",
	      !codereq_live(&u, NOW) && u.code_expires == 0);
	CHECK("... its lock with no end now ends lockout_max after the lock before it",
	      user_state(&u, &cfg, NOW, NULL, &why) == STATE_LOCKED &&
	      lockout_end(&u, &cfg, NOW, NULL) == (uint64_t)NOW - 100 + cfg.lockout_max &&
	      user_state(&u, &cfg, NOW - 100 + cfg.lockout_max, NULL, &why) == STATE_PENDING);
	user_save(st, &u);
	store_get(st, "u:olga", &b);
	proto_parse_body(b.data, b.len, &m);
	CHECK("... written again in the new format only", !proto_find(&m, REC_CODE_HASH) &&
	      !proto_find(&m, TAG_CODE_EXPIRES) && !proto_find(&m, REC_REQUEST) &&
	      !proto_find(&m, REC_LAST_REQUEST) && proto_find(&m, REC_CODE_REQUEST));
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
	      user_state(&u, &cfg, NOW, NULL, &why) == STATE_PENDING && why == PENDING_NEVER);
	strcpy(u.pwhash, "$argon2id$x");
	u.last_signin = (uint64_t)cfg.cutover;
	CHECK("signed in on the cutover: active",
	      user_state(&u, &cfg, NOW, NULL, &why) == STATE_ACTIVE && why == PENDING_NONE);
	u.last_signin = (uint64_t)cfg.cutover - 1;
	CHECK("signed in before the cutover: pending, dormant",
	      user_state(&u, &cfg, NOW, NULL, &why) == STATE_PENDING && why == PENDING_DORMANT);
	u.last_signin = NOW;
	u.reset = true;
	CHECK("reset by an administrator: pending, reset",
	      user_state(&u, &cfg, NOW, NULL, &why) == STATE_PENDING && why == PENDING_RESET);
	u.reset = false;
	u.locked_until = NOW + 1;
	CHECK("the member's own lock: locked from anywhere",
	      user_state(&u, &cfg, NOW, NULL, &why) == STATE_LOCKED &&
	      user_state(&u, &cfg, NOW, "192.0.2.1", &why) == STATE_LOCKED &&
	      lockout_end(&u, &cfg, NOW, "192.0.2.1") == (uint64_t)NOW + 1);
	CHECK("lock over at its end", user_state(&u, &cfg, NOW + 1, NULL, &why) == STATE_ACTIVE);
	u.locked_until = 0;
	u.nsources = 1;
	snprintf(u.sources[0].source, sizeof u.sources[0].source, "203.0.113.7");
	u.sources[0].until = NOW + 50;
	CHECK("a source's lock keeps that source out",
	      user_state(&u, &cfg, NOW, "203.0.113.7", &why) == STATE_LOCKED);
	CHECK("... and no other",
	      user_state(&u, &cfg, NOW, "192.0.2.1", &why) == STATE_ACTIVE);
	CHECK("... an administrator sees the member locked, until the lock's end",
	      user_state(&u, &cfg, NOW, NULL, &why) == STATE_LOCKED &&
	      lockout_end(&u, &cfg, NOW, NULL) == (uint64_t)NOW + 50);
	lockout_clear(&u);
	CHECK("unlock lifts every lock",
	      user_state(&u, &cfg, NOW, "203.0.113.7", &why) == STATE_ACTIVE && u.failures == 0 &&
	      u.nsources == 0);
}

static void entry(void)
{
	struct user_record u;
	uint32_t v32;
	uint64_t v64;
	char s[64];

	user_init(&u, "alice", "alice@example.org", NOW - 10);
	u.ncodes = 1;
	u.codes[0] = (struct code_request){ .flags = CR_ON_FILE | CR_LIVE, .time = NOW - 1,
					    .expires = NOW + 100, .tries = 2 };
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
	u.locked_until = NOW + 30;
	u.nsources = 1;
	snprintf(u.sources[0].source, sizeof u.sources[0].source, "203.0.113.7");
	u.sources[0].failures = 5;
	u.sources[0].until = NOW + 900;
	user_entry(&u, &cfg, NOW, &b);
	proto_parse_body(b.data, b.len, &m);
	CHECK("locked entry has the end of the last lock", proto_get_u64(&m, TAG_UNTIL, &v64) &&
	      v64 == (uint64_t)NOW + 900 && proto_get_u32(&m, TAG_STATE, &v32) &&
	      v32 == STATE_LOCKED);
	{
		const struct proto_field *f = proto_find(&m, TAG_LOCK);
		struct proto_msg lock;

		CHECK("entry shows each source's lock", f && proto_parse_body(f->data, f->len, &lock) &&
		      proto_get_str(&lock, TAG_SOURCE, s, sizeof s) && strcmp(s, "203.0.113.7") == 0 &&
		      proto_get_u64(&lock, TAG_UNTIL, &v64) && v64 == (uint64_t)NOW + 900 &&
		      proto_get_u32(&lock, TAG_FAILURES, &v32) && v32 == 5);
	}
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
	run_group("request size", group_start, request_size, group_end);
	run_group("old record", group_start, old_record, group_end);
	run_group("damage", group_start, damage, group_end);
	states();
	entry();
	return check_done();
}
