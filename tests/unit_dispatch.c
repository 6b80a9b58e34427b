/* unit_dispatch.c - every request type through dispatch(), in process, on a
 * temporary database: who may ask, what each answer carries, and what each
 * request does to the user's record.  Codes are unknown to the test (they
 * go to the outbox), so where a test needs a right code it plants the hash
 * of one it chose, as the helper itself would have stored it.
 *
 * Each group of checks runs on a helper of its own (a scratch folder, a
 * database, keys, an outbox sending to a port that refuses), and makes the
 * users it needs itself (given_user, given_active): no group depends on
 * what another left, nor on the order they run in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "check.h"
#include "code.h"
#include "dispatch.h"
#include "storage.h"
#include "fixture.h"
#include "log.h"
#include "policy.h"
#include "user.h"
#include "version.h"

#define GOOD_PW  "plum-Orbit-cactus-42"
#define OTHER_PW "tundra wave lantern 7"

static struct portald d;
static struct proto_buf req, resp;
static struct proto_msg reqmsg, out, ent;
static struct peer root = { 0, 0, 1, "root" };
static struct peer alice_peer = { 1000, 1000, 2, "alice" };
static struct peer nameless = { 1001, 1001, 3, "" };
static char dir[128], db[192];
static int refusing_fd = -1;     /* holds the port the outbox sends to */
static struct storage_conn *sc;  /* the test thread's session (storage.h) */

#define SET_CFG(field, value) do {                      \
		pthread_rwlock_wrlock(&d.cfg_lock);     \
		d.cfg.field = (value);                  \
		pthread_rwlock_unlock(&d.cfg_lock);     \
	} while (0)

/* ---- plumbing ------------------------------------------------------------- */

static void begin(uint8_t type, const char *user)
{
	proto_begin(&req, type);
	if (user)
		proto_put_str(&req, TAG_USER, user);
}

/* Send the request built in req; the parsed answer is in out. */
static uint32_t call(const struct peer *p)
{
	uint32_t r;

	proto_finish(&req);
	if (!proto_parse(req.data, req.len, &reqmsg))
		return 1000;
	proto_begin(&resp, PROTO_RESPONSE);
	if (dispatch(&d, sc, p, &reqmsg, &resp))
		outbox_kick(d.outbox);
	if (proto_frame_size(resp.data) != resp.len || !proto_parse(resp.data, resp.len, &out))
		return 1001;
	return proto_get_u32(&out, TAG_RESULT, &r) ? r : 1002;
}

static uint32_t ask(const struct peer *p, uint8_t type, const char *user)
{
	begin(type, user);
	return call(p);
}

static uint64_t u64_of(uint8_t tag)
{
	uint64_t v = UINT64_MAX;

	proto_get_u64(&out, tag, &v);
	return v;
}

static uint32_t u32_of(const struct proto_msg *m, uint8_t tag)
{
	uint32_t v = UINT32_MAX;

	proto_get_u32(m, tag, &v);
	return v;
}

static bool detail_is(const char *want)
{
	char s[256];

	return proto_get_str(&out, TAG_DETAIL, s, sizeof s) && strstr(s, want) != NULL;
}

/* USER_SHOW's entry, parsed into ent. */
static bool show(const char *user)
{
	const struct proto_field *f;

	if (ask(&root, REQ_USER_SHOW, user) != RESULT_OK || !(f = proto_find(&out, TAG_ENTRY)))
		return false;
	return proto_parse_body(f->data, f->len, &ent);
}

static bool load(const char *user, struct user_record *u)
{
	int rc;

	store_lock(d.store);
	rc = user_load(d.store, user, u);
	store_unlock(d.store);
	return rc == 0;
}

static void save(const struct user_record *u)
{
	store_lock(d.store);
	user_save(d.store, u);
	store_sync(d.store);
	store_unlock(d.store);
}

/* The handle of the code request planted last, as REQ_SEND_CODE's answer
 * would have given it to the module. */
static uint8_t handle[PORTAL_REQUEST_LEN];

/* A request for the address on file with a code the test knows, made live
 * as h_send_code would make it; its handle in `handle`. */
static void plant_code(const char *user, const char *code, time_t expires, uint32_t tries)
{
	struct code_request e = { .flags = CR_ON_FILE, .time = (uint64_t)time(NULL),
				  .expires = (uint64_t)expires, .tries = tries };
	struct user_record u;

	if (!load(user, &u))
		return;
	randombytes_buf(handle, sizeof handle);
	code_tag(d.keys, user, "handle", handle, sizeof handle, e.handle);
	code_hash_bound(d.keys, user, handle, code, strlen(code), e.code);
	codereq_add(&u, &d.cfg, time(NULL), &e);
	save(&u);
}

static uint32_t verify_with(const char *user, const char *code, const uint8_t *h)
{
	begin(REQ_VERIFY_CODE, user);
	proto_put_str(&req, TAG_CODE, code);
	proto_put_bytes(&req, TAG_REQUEST, h, PORTAL_REQUEST_LEN);
	return call(&root);
}

static uint32_t verify(const char *user, const char *code)
{
	return verify_with(user, code, handle);
}

static uint32_t send_code(const struct peer *p, const char *user, const char *email)
{
	begin(REQ_SEND_CODE, user);
	proto_put_str(&req, TAG_EMAIL, email);
	return call(p);
}

static bool get_ticket(const char *user, uint8_t t[PORTAL_TICKET_LEN])
{
	plant_code(user, "424242", time(NULL) + 600, d.cfg.code_attempts);
	return verify(user, "424242") == RESULT_OK && proto_get_fixed(&out, TAG_TICKET, t, PORTAL_TICKET_LEN);
}

static uint32_t set_password(const struct peer *p, const char *user, const uint8_t *t,
			     size_t tlen, const char *pw)
{
	begin(REQ_SET_PASSWORD, user);
	proto_put_bytes(&req, TAG_TICKET, t, tlen);
	proto_put_str(&req, TAG_PASSWORD, pw);
	return call(p);
}

static uint32_t auth(const struct peer *p, const char *user, const char *pw)
{
	begin(REQ_AUTH, user);
	proto_put_str(&req, TAG_PASSWORD, pw);
	return call(p);
}

static unsigned long pending_mail(void)
{
	unsigned long n;

	store_lock(d.store);
	n = outbox_pending(d.outbox);
	store_unlock(d.store);
	return n;
}

static uint32_t add(const char *user, const char *email)
{
	begin(REQ_USER_ADD, user);
	proto_put_str(&req, TAG_EMAIL, email);
	return call(&root);
}

/* What a group starts from: it fails the group's setup check, by name,
 * when it cannot be had. */
static bool given(bool ok, const char *what)
{
	char name[160];

	if (!ok) {
		snprintf(name, sizeof name, "setup: %s", what);
		CHECK(name, false);
	}
	return ok;
}

/* A pending user, address user@example.org. */
static bool given_user(const char *user)
{
	char email[PORTAL_EMAIL_MAX + 1];

	snprintf(email, sizeof email, "%s@example.org", user);
	return given(add(user, email) == RESULT_OK, user);
}

/* An active user whose password is pw: verified and created as the
 * conversation would. */
static bool given_active(const char *user, const char *pw)
{
	uint8_t t[PORTAL_TICKET_LEN];

	return given_user(user) &&
	       given(get_ticket(user, t) && set_password(&root, user, t, sizeof t, pw) == RESULT_OK,
		     "an active user");
}

/* ---- who may ask ---------------------------------------------------------- */

static void access_rules(void)
{
	struct peer self = { geteuid(), 0, 4, "portald" };

	CHECK("unknown request type refused", ask(&root, 99, NULL) == RESULT_BAD_REQUEST);
	CHECK("missing user named", ask(&root, REQ_STATUS, NULL) == RESULT_BAD_REQUEST &&
	      detail_is("user"));
	CHECK("bad user name named", ask(&root, REQ_STATUS, "bad user!") == RESULT_INVALID &&
	      detail_is("user"));
	CHECK("root adds a user", add("bob", "b@example.org") == RESULT_OK);
	begin(REQ_USER_ADD, "eve");
	proto_put_str(&req, TAG_EMAIL, "e@example.org");
	CHECK("user may not add users", call(&alice_peer) == RESULT_DENIED);
	CHECK("user may not list", ask(&alice_peer, REQ_USER_LIST, NULL) == RESULT_DENIED);
	CHECK("user may not import", ask(&alice_peer, REQ_IMPORT, NULL) == RESULT_DENIED);
	CHECK("user may not read the outbox", ask(&alice_peer, REQ_OUTBOX, NULL) == RESULT_DENIED);
	CHECK("user may not read the daemon status",
	      ask(&alice_peer, REQ_DAEMON_STATUS, NULL) == RESULT_DENIED);
	CHECK("user may not unlock herself", ask(&alice_peer, REQ_USER_UNLOCK, "alice") == RESULT_DENIED);
	CHECK("user may not ask for another user", ask(&alice_peer, REQ_STATUS, "bob") == RESULT_DENIED);
	CHECK("user may not send codes for another user",
	      send_code(&alice_peer, "bob", "b@example.org") == RESULT_DENIED);
	CHECK("user may not ask for a code, even her own",
	      send_code(&alice_peer, "alice", "a@example.org") == RESULT_DENIED);
	begin(REQ_VERIFY_CODE, "alice");
	proto_put_str(&req, TAG_CODE, "123456");
	CHECK("user may not try codes, even her own", call(&alice_peer) == RESULT_DENIED);
	CHECK("user may not set a password with a ticket",
	      set_password(&alice_peer, "alice", (const uint8_t *)"t", 1, "x") == RESULT_DENIED);
	CHECK("caller without a login name refused", ask(&nameless, REQ_STATUS, "alice") == RESULT_DENIED);
	CHECK("user may ask for herself (unmanaged: state only)",
	      ask(&alice_peer, REQ_STATUS, "alice") == RESULT_OK &&
	      u32_of(&out, TAG_STATE) == STATE_UNMANAGED && out.nfields == 2);
	CHECK("the daemon's own uid is privileged", ask(&self, REQ_USER_LIST, NULL) == RESULT_OK);
}

/* ---- administration ------------------------------------------------------- */

static void administration(void)
{
	CHECK("add a user", add("alice", "alice@example.org") == RESULT_OK);
	CHECK("add again: exists", add("alice", "alice@example.org") == RESULT_EXISTS);
	CHECK("add with a bad address", add("carl", "carl@") == RESULT_INVALID && detail_is("email"));
	begin(REQ_USER_ADD, "carl");
	CHECK("add without an address", call(&root) == RESULT_BAD_REQUEST && detail_is("email"));
	CHECK("show a new user", show("alice") && u32_of(&ent, TAG_STATE) == STATE_PENDING &&
	      u32_of(&ent, TAG_REASON) == PENDING_NEVER && u32_of(&ent, TAG_HAS_PASSWORD) == 0 &&
	      u32_of(&ent, TAG_FAILURES) == 0 && proto_find(&ent, TAG_CREATED));
	CHECK("show an unknown user", ask(&root, REQ_USER_SHOW, "nobody") == RESULT_NOT_FOUND);
	CHECK("status of a new user", ask(&alice_peer, REQ_STATUS, "alice") == RESULT_OK &&
	      u32_of(&out, TAG_STATE) == STATE_PENDING && u32_of(&out, TAG_REASON) == PENDING_NEVER &&
	      proto_find(&out, TAG_CUTOVER) && proto_find(&out, TAG_ORG) && proto_find(&out, TAG_LANG) &&
	      u64_of(TAG_TTL) == d.cfg.code_ttl && u32_of(&out, TAG_MIN_LEN) == 15 &&
	      u64_of(TAG_LAST_SIGNIN) == 0 && !proto_find(&out, TAG_UNTIL));
}

/* ---- codes ---------------------------------------------------------------- */

static void sending(void)
{
	unsigned long mail;
	struct user_record before, after;
	const struct code_request *a = NULL, *b = NULL;
	uint64_t expires = 1;
	uint8_t got[PORTAL_REQUEST_LEN];

	if (!given_user("alice"))
		return;
	mail = pending_mail();
	CHECK("code to an address not on file: same answer, with a handle",
	      send_code(&root, "alice", "mallory@example.org") == RESULT_OK &&
	      u64_of(TAG_TTL) == d.cfg.code_ttl &&
	      proto_get_fixed(&out, TAG_REQUEST, got, sizeof got));
	CHECK("... and no mail", pending_mail() == mail);
	CHECK("... and no live code", show("alice") &&
	      proto_get_u64(&ent, TAG_CODE_EXPIRES, &expires) && expires == 0);
	CHECK("code to the address on file (any case)",
	      send_code(&root, "alice", "Alice@Example.ORG") == RESULT_OK);
	CHECK("... is mailed", pending_mail() == mail + 1);
	CHECK("... and is the live code", show("alice") &&
	      proto_get_u64(&ent, TAG_CODE_EXPIRES, &expires) && expires > (uint64_t)time(NULL));
	load("alice", &before);
	CHECK("an address not on file again leaves the live code alone",
	      send_code(&root, "alice", "eve@example.org") == RESULT_OK && load("alice", &after) &&
	      (a = codereq_live(&before, time(NULL))) && (b = codereq_live(&after, time(NULL))) &&
	      memcmp(a->code, b->code, CODE_HASH_LEN) == 0);
	CHECK("the address on file again: a new code replaces the old one",
	      send_code(&root, "alice", "alice@example.org") == RESULT_OK && load("alice", &after) &&
	      (b = codereq_live(&after, time(NULL))) && a &&
	      memcmp(a->code, b->code, CODE_HASH_LEN) != 0 && b->tries == d.cfg.code_attempts);
	CHECK("asking for codes counts no failure", after.failures == 0);

	SET_CFG(resend_interval, 60);
	CHECK("resend inside the interval: wait",
	      send_code(&root, "alice", "alice@example.org") == RESULT_WAIT &&
	      u64_of(TAG_WAIT) > 0 && u64_of(TAG_WAIT) <= 60 && !proto_find(&out, TAG_REQUEST));
	CHECK("... for an address not on file asked again too",
	      send_code(&root, "alice", "eve@example.org") == RESULT_WAIT &&
	      u64_of(TAG_WAIT) > 0 && u64_of(TAG_WAIT) <= 60);
	CHECK("... but not for another address",
	      send_code(&root, "alice", "alicia@example.org") == RESULT_OK);
	SET_CFG(resend_interval, 0);
	SET_CFG(codes_per_hour, 3);
	CHECK("third code in the hour allowed", send_code(&root, "alice", "alice@example.org") == RESULT_OK);
	CHECK("fourth code in the hour: wait for the oldest to age",
	      send_code(&root, "alice", "alice@example.org") == RESULT_WAIT &&
	      u64_of(TAG_WAIT) > 3500 && u64_of(TAG_WAIT) <= 3600);
	CHECK("... and this source has asked twice codes_per_hour: it waits for any address",
	      send_code(&root, "alice", "x@example.org") == RESULT_WAIT);
	begin(REQ_SEND_CODE, "alice");
	proto_put_str(&req, TAG_EMAIL, "x@example.org");
	proto_put_str(&req, TAG_SOURCE, "192.0.2.10");
	CHECK("... the hour of another address, from another source, is its own",
	      call(&root) == RESULT_OK);
	SET_CFG(codes_per_hour, 100);

	CHECK("code for an unmanaged user", send_code(&root, "nobody", "n@example.org") == RESULT_NOT_FOUND);
	CHECK("code with a bad address", send_code(&root, "alice", "not an address") == RESULT_INVALID &&
	      detail_is("email"));
	begin(REQ_SEND_CODE, "alice");
	proto_put_str(&req, TAG_EMAIL, "alice@example.org");
	proto_put_str(&req, TAG_LANG, "de");
	CHECK("code with an unknown language", call(&root) == RESULT_INVALID && detail_is("lang"));
	begin(REQ_SEND_CODE, "alice");
	proto_put_str(&req, TAG_EMAIL, "alice@example.org");
	proto_put_str(&req, TAG_SOURCE, "bad\nsource");
	CHECK("a source with a newline refused", call(&root) == RESULT_INVALID && detail_is("source"));
}

static void verifying(void)
{
	time_t now = time(NULL);
	uint8_t t[PORTAL_TICKET_LEN];

	if (!given_user("alice"))
		return;
	plant_code("alice", "123456", now + 600, 5);
	CHECK("wrong code", verify("alice", "000000") == RESULT_CODE_WRONG && u32_of(&out, TAG_TRIES) == 4);
	CHECK("code too short is wrong", verify("alice", "12345") == RESULT_CODE_WRONG &&
	      u32_of(&out, TAG_TRIES) == 3);
	CHECK("code with letters is wrong", verify("alice", "12345a") == RESULT_CODE_WRONG &&
	      u32_of(&out, TAG_TRIES) == 2);
	CHECK("wrong codes are failures", show("alice") && u32_of(&ent, TAG_FAILURES) == 3);
	CHECK("right code gives a ticket", verify("alice", "123456") == RESULT_OK &&
	      proto_get_fixed(&out, TAG_TICKET, t, sizeof t));
	CHECK("right code ends the run of failures", show("alice") && u32_of(&ent, TAG_FAILURES) == 0);
	CHECK("a code works once", verify("alice", "123456") == RESULT_CODE_DEAD);
	begin(REQ_VERIFY_CODE, "alice");
	CHECK("verify without a code", call(&root) == RESULT_BAD_REQUEST && detail_is("code"));

	plant_code("alice", "123456", now - 1, 5);
	CHECK("expired code", verify("alice", "123456") == RESULT_CODE_EXPIRED);
	CHECK("expired code is gone", verify("alice", "123456") == RESULT_CODE_DEAD);

	plant_code("alice", "123456", now + 600, 1);
	CHECK("last try used: the code dies", verify("alice", "999999") == RESULT_CODE_WRONG &&
	      u32_of(&out, TAG_TRIES) == 0);
	CHECK("dead code refuses even the right code", verify("alice", "123456") == RESULT_CODE_DEAD);

	plant_code("alice", "123456", now + 600, 5);
	{
		uint8_t other[PORTAL_REQUEST_LEN];

		randombytes_buf(other, sizeof other);
		CHECK("the right code with another request's handle: dead",
		      verify_with("alice", "123456", other) == RESULT_CODE_DEAD);
	}
	begin(REQ_VERIFY_CODE, "alice");
	proto_put_str(&req, TAG_CODE, "123456");
	CHECK("verify without a handle", call(&root) == RESULT_BAD_REQUEST && detail_is("request"));
	begin(REQ_VERIFY_CODE, "alice");
	proto_put_str(&req, TAG_CODE, "123456");
	proto_put_bytes(&req, TAG_REQUEST, handle, 3);
	CHECK("verify with a handle of the wrong size", call(&root) == RESULT_INVALID &&
	      detail_is("request"));
	CHECK("... neither cost the live code a try", verify("alice", "123456") == RESULT_OK);
}

/* A request for an address not on file: its code never matches, wrong
 * codes typed against it are the source's failures and nobody else's,
 * and it never touches the live code. */
static void decoys(void)
{
	uint8_t decoy[PORTAL_REQUEST_LEN];
	uint32_t r = RESULT_OK;

	if (!given_user("alice"))
		return;
	plant_code("alice", "123456", time(NULL) + 600, 5);
	CHECK("a request for another address", send_code(&root, "alice", "mallory@example.org") ==
	      RESULT_OK && proto_get_fixed(&out, TAG_REQUEST, decoy, sizeof decoy));
	CHECK("... even the live code typed against it is wrong",
	      verify_with("alice", "123456", decoy) == RESULT_CODE_WRONG &&
	      u32_of(&out, TAG_TRIES) == d.cfg.code_attempts - 1);
	for (unsigned i = 1; i < d.cfg.code_attempts; i++)
		r = verify_with("alice", "000000", decoy);
	CHECK("... its wrong codes lock out their source, as the live code's would",
	      r == RESULT_LOCKED && u64_of(TAG_UNTIL) > (uint64_t)time(NULL));
	CHECK("... and count nothing for the member", show("alice") &&
	      u32_of(&ent, TAG_FAILURES) == 0 && proto_find(&ent, TAG_LOCK));
	begin(REQ_VERIFY_CODE, "alice");
	proto_put_str(&req, TAG_CODE, "123456");
	proto_put_bytes(&req, TAG_REQUEST, handle, sizeof handle);
	proto_put_str(&req, TAG_SOURCE, "192.0.2.10");
	CHECK("the member, from elsewhere, verifies with the live code", call(&root) == RESULT_OK);
}

static void lockout(void)
{
	time_t now = time(NULL);
	uint32_t r = RESULT_OK;

	if (!given_user("alice"))
		return;
	plant_code("alice", "123456", now + 600, 5);
	for (int i = 0; i < 4; i++)
		r = verify("alice", "000000");
	CHECK("four wrong codes: still trying", r == RESULT_CODE_WRONG);
	CHECK("fifth wrong code locks", verify("alice", "000000") == RESULT_LOCKED &&
	      u64_of(TAG_UNTIL) >= (uint64_t)now + d.cfg.lockout &&
	      u64_of(TAG_UNTIL) <= (uint64_t)time(NULL) + d.cfg.lockout);
	CHECK("locked status says until when", ask(&root, REQ_STATUS, "alice") == RESULT_OK &&
	      u32_of(&out, TAG_STATE) == STATE_LOCKED && u64_of(TAG_UNTIL) > (uint64_t)now);
	CHECK("locked: no code sent", send_code(&root, "alice", "alice@example.org") == RESULT_LOCKED);
	CHECK("locked: the right code is refused too", verify("alice", "123456") == RESULT_LOCKED);
	CHECK("unlock", ask(&root, REQ_USER_UNLOCK, "alice") == RESULT_OK &&
	      ask(&root, REQ_STATUS, "alice") == RESULT_OK && u32_of(&out, TAG_STATE) == STATE_PENDING);
	CHECK("the code died with the lock", verify("alice", "123456") == RESULT_CODE_DEAD);
	CHECK("unlock of an unknown user", ask(&root, REQ_USER_UNLOCK, "nobody") == RESULT_NOT_FOUND);
}

/* ---- passwords ------------------------------------------------------------ */

static void creating(void)
{
	uint8_t t[PORTAL_TICKET_LEN], other[PORTAL_TICKET_LEN];
	unsigned long mail;

	if (!given_user("alice"))
		return;
	CHECK("ticket for alice", get_ticket("alice", t));
	randombytes_buf(other, sizeof other);
	CHECK("unknown ticket refused",
	      set_password(&root, "alice", other, sizeof other, GOOD_PW) == RESULT_TICKET);
	CHECK("short ticket refused",
	      set_password(&root, "alice", t, sizeof t - 1, GOOD_PW) == RESULT_TICKET);
	CHECK("too short: said so", set_password(&root, "alice", t, sizeof t, "short") ==
	      RESULT_POLICY && u32_of(&out, TAG_REASON) == PW_TOO_SHORT);
	CHECK("user name inside: said so",
	      set_password(&root, "alice", t, sizeof t, "my name is alice, hi") ==
	      RESULT_POLICY && u32_of(&out, TAG_REASON) == PW_HAS_USER);
	CHECK("easy to guess: said so", set_password(&root, "alice", t, sizeof t,
						     "password12345678") == RESULT_POLICY &&
	      u32_of(&out, TAG_REASON) == PW_GUESSABLE);
	CHECK("three refusals spend the ticket",
	      set_password(&root, "alice", t, sizeof t, GOOD_PW) == RESULT_TICKET);

	CHECK("new ticket", get_ticket("alice", t));
	begin(REQ_SET_PASSWORD, "alice");
	proto_put_bytes(&req, TAG_TICKET, t, sizeof t);
	proto_put_str(&req, TAG_PASSWORD, GOOD_PW);
	proto_put_str(&req, TAG_HOST, "bad\nhost");
	CHECK("host with a newline refused", call(&root) == RESULT_INVALID && detail_is("host"));
	begin(REQ_SET_PASSWORD, "alice");
	proto_put_str(&req, TAG_PASSWORD, GOOD_PW);
	CHECK("no ticket", call(&root) == RESULT_BAD_REQUEST && detail_is("ticket"));

	mail = pending_mail();
	begin(REQ_SET_PASSWORD, "alice");
	proto_put_bytes(&req, TAG_TICKET, t, sizeof t);
	proto_put_str(&req, TAG_PASSWORD, GOOD_PW);
	proto_put_str(&req, TAG_HOST, "ssh.example.org");
	proto_put_str(&req, TAG_LANG, "en");
	CHECK("password created", call(&root) == RESULT_OK);
	CHECK("... with a notice to the address on file", pending_mail() == mail + 1);
	CHECK("... the user is active", ask(&root, REQ_STATUS, "alice") == RESULT_OK &&
	      u32_of(&out, TAG_STATE) == STATE_ACTIVE &&
	      u64_of(TAG_LAST_SIGNIN) + 60 >= (uint64_t)time(NULL));
	CHECK("... and has a password", show("alice") && u32_of(&ent, TAG_HAS_PASSWORD) == 1);
	CHECK("the ticket works once",
	      set_password(&root, "alice", t, sizeof t, OTHER_PW) == RESULT_TICKET);
}

static void signing_in(void)
{
	uint32_t r = RESULT_OK;

	if (!given_active("alice", GOOD_PW) || !given_user("bob"))
		return;
	CHECK("right password", auth(&alice_peer, "alice", GOOD_PW) == RESULT_OK);
	CHECK("wrong password", auth(&alice_peer, "alice", OTHER_PW) == RESULT_PASSWORD);
	CHECK("wrong password is a failure", show("alice") && u32_of(&ent, TAG_FAILURES) == 1);
	CHECK("right password ends the run", auth(&alice_peer, "alice", GOOD_PW) == RESULT_OK &&
	      show("alice") && u32_of(&ent, TAG_FAILURES) == 0);
	CHECK("pending user cannot sign in with a password",
	      auth(&root, "bob", GOOD_PW) == RESULT_STATE && u32_of(&out, TAG_STATE) == STATE_PENDING &&
	      u32_of(&out, TAG_REASON) == PENDING_NEVER);
	CHECK("unmanaged user", auth(&root, "nobody", GOOD_PW) == RESULT_NOT_FOUND);
	begin(REQ_AUTH, "alice");
	CHECK("no password", call(&root) == RESULT_BAD_REQUEST && detail_is("password"));

	for (int i = 0; i < 4; i++)
		r = auth(&root, "alice", OTHER_PW);
	CHECK("four wrong passwords", r == RESULT_PASSWORD);
	CHECK("fifth locks", auth(&root, "alice", OTHER_PW) == RESULT_LOCKED && u64_of(TAG_UNTIL) > 0);
	CHECK("locked: right password refused", auth(&root, "alice", GOOD_PW) == RESULT_LOCKED);
	ask(&root, REQ_USER_UNLOCK, "alice");

	SET_CFG(max_failures, 3);
	for (int i = 0; i < 4; i++)
		auth(&root, "alice", OTHER_PW);
	CHECK("past max_failures: a lock twice as long, with an end",
	      auth(&root, "alice", OTHER_PW) == RESULT_LOCKED &&
	      u64_of(TAG_UNTIL) >= (uint64_t)time(NULL) + 2 * d.cfg.lockout - 2 &&
	      u64_of(TAG_UNTIL) <= (uint64_t)time(NULL) + 2 * d.cfg.lockout);
	CHECK("status shows the lock and its end", ask(&root, REQ_STATUS, "alice") == RESULT_OK &&
	      u32_of(&out, TAG_STATE) == STATE_LOCKED && u64_of(TAG_UNTIL) > (uint64_t)time(NULL));
	begin(REQ_AUTH, "alice");
	proto_put_str(&req, TAG_PASSWORD, GOOD_PW);
	proto_put_str(&req, TAG_SOURCE, "192.0.2.10");
	CHECK("another source signs in meanwhile", call(&root) == RESULT_OK);
	CHECK("show lists the source's lock", show("alice") && proto_find(&ent, TAG_LOCK));
	SET_CFG(max_failures, 20);
	ask(&root, REQ_USER_UNLOCK, "alice");
	CHECK("unlocked: signs in", auth(&root, "alice", GOOD_PW) == RESULT_OK &&
	      show("alice") && !proto_find(&ent, TAG_LOCK));
}

static void dormant_and_rehash(void)
{
	time_t cutover = d.cfg.cutover;
	struct user_record u;

	if (!given_active("alice", GOOD_PW))
		return;
	SET_CFG(cutover, time(NULL) + 100);
	CHECK("moved cutover: dormant", ask(&root, REQ_STATUS, "alice") == RESULT_OK &&
	      u32_of(&out, TAG_STATE) == STATE_PENDING && u32_of(&out, TAG_REASON) == PENDING_DORMANT);
	CHECK("dormant: password refused", auth(&root, "alice", GOOD_PW) == RESULT_STATE);
	SET_CFG(cutover, cutover);

	if (load("alice", &u) &&
	    crypto_pwhash_str(u.pwhash, GOOD_PW, strlen(GOOD_PW), 3, 8 * 1024 * 1024) == 0)
		save(&u);
	CHECK("old hash parameters still verify", auth(&root, "alice", GOOD_PW) == RESULT_OK);
	CHECK("... and the hash is renewed", load("alice", &u) && !policy_needs_rehash(u.pwhash) &&
	      crypto_pwhash_str_verify(u.pwhash, GOOD_PW, strlen(GOOD_PW)) == 0);
}

static void resetting(void)
{
	if (!given_active("alice", GOOD_PW))
		return;
	plant_code("alice", "123456", time(NULL) + 600, 5);
	CHECK("reset", ask(&root, REQ_USER_RESET, "alice") == RESULT_OK);
	CHECK("reset user is pending", ask(&root, REQ_STATUS, "alice") == RESULT_OK &&
	      u32_of(&out, TAG_STATE) == STATE_PENDING && u32_of(&out, TAG_REASON) == PENDING_RESET);
	CHECK("reset removes the password", show("alice") && u32_of(&ent, TAG_HAS_PASSWORD) == 0 &&
	      auth(&root, "alice", GOOD_PW) == RESULT_STATE);
	CHECK("reset kills the live code", verify("alice", "123456") == RESULT_CODE_DEAD);
	CHECK("reset of an unknown user", ask(&root, REQ_USER_RESET, "nobody") == RESULT_NOT_FOUND);

	SET_CFG(codes_per_hour, 100);
	SET_CFG(resend_interval, 60);
	send_code(&root, "alice", "alice@example.org");
	CHECK("after a reset the first code is not held back by resend_interval",
	      ask(&root, REQ_USER_RESET, "alice") == RESULT_OK &&
	      send_code(&root, "alice", "alice@example.org") == RESULT_OK);
	SET_CFG(resend_interval, 0);
}

/* ---- import and list ------------------------------------------------------ */

static void line(uint64_t n, const char *user, const char *email)
{
	struct proto_buf e;

	proto_begin_body(&e);
	proto_put_u64(&e, TAG_LINE, n);
	if (user)
		proto_put_str(&e, TAG_USER, user);
	if (email)
		proto_put_str(&e, TAG_EMAIL, email);
	proto_put_nested(&req, TAG_ENTRY, &e);
}

/* The refused lines of an import answer, in order, into lines[]. */
static size_t refused_lines(uint64_t lines[], uint32_t results[], size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < out.nfields && n < cap; i++) {
		if (out.f[i].tag != TAG_ENTRY || !proto_parse_body(out.f[i].data, out.f[i].len, &ent))
			continue;
		proto_get_u64(&ent, TAG_LINE, &lines[n]);
		results[n++] = u32_of(&ent, TAG_RESULT);
	}
	return n;
}

/* An import of n users u000, u001... in one request; its result. */
static uint32_t import_bulk(int n)
{
	char name[16];

	begin(REQ_IMPORT, NULL);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof name, "u%03d", i);
		line((uint64_t)i + 1, name, "bulk@example.org");
	}
	return call(&root);
}

static void importing(void)
{
	uint64_t lines[8];
	uint32_t results[8];

	if (!given_user("alice"))
		return;
	begin(REQ_IMPORT, NULL);
	line(1, "carol", "carol@example.org");
	line(2, "bad user!", "x@example.org");
	line(3, "dan", "not-an-address");
	line(4, "alice", "ALICE@example.org");
	line(5, "alice", "other@example.org");
	line(6, "carol", "carol@example.org");
	line(7, "erin", "erin@example.org");
	CHECK("import with bad lines: partial", call(&root) == RESULT_PARTIAL && u64_of(TAG_COUNT) == 2);
	CHECK("refused lines by number", refused_lines(lines, results, 8) == 3 &&
	      lines[0] == 2 && results[0] == RESULT_INVALID && lines[1] == 3 &&
	      results[1] == RESULT_INVALID && lines[2] == 5 && results[2] == RESULT_EXISTS);
	CHECK("good lines imported", show("carol") && show("erin") &&
	      u32_of(&ent, TAG_STATE) == STATE_PENDING);

	begin(REQ_IMPORT, NULL);
	line(1, "frank", "frank@example.org");
	proto_put_nested(&req, TAG_ENTRY, &(struct proto_buf){ .len = 0 });
	CHECK("an entry without a line number refuses the request",
	      call(&root) == RESULT_BAD_REQUEST && ask(&root, REQ_USER_SHOW, "frank") == RESULT_NOT_FOUND);

	begin(REQ_IMPORT, NULL);
	for (int i = 0; i <= PROTO_IMPORT_BATCH; i++)
		line((uint64_t)i + 1, "x", "x@example.org");
	CHECK("more than a batch refused", call(&root) == RESULT_BAD_REQUEST);

	CHECK("a batch of 450 users", import_bulk(450) == RESULT_OK && u64_of(TAG_COUNT) == 450);
	CHECK("an empty import", ask(&root, REQ_IMPORT, NULL) == RESULT_OK && u64_of(TAG_COUNT) == 0);
}

/* Walk every page of `user list`; the number of users seen, -1 on an error
 * or a user seen twice. */
static char seen[600][PORTAL_USER_MAX + 1];

static long list_all(int state, unsigned *pages)
{
	char cursor[STORE_KEY_MAX] = "";
	long n = 0;

	*pages = 0;
	do {
		begin(REQ_USER_LIST, NULL);
		if (state)
			proto_put_u32(&req, TAG_STATE, (uint32_t)state);
		if (cursor[0])
			proto_put_str(&req, TAG_CURSOR, cursor);
		if (call(&root) != RESULT_OK)
			return -1;
		(*pages)++;
		for (size_t i = 0; i < out.nfields; i++) {
			if (out.f[i].tag != TAG_ENTRY)
				continue;
			if (n == 600 || !proto_parse_body(out.f[i].data, out.f[i].len, &ent) ||
			    !proto_get_str(&ent, TAG_USER, seen[n], sizeof seen[n]))
				return -1;
			for (long j = 0; j < n; j++)
				if (strcmp(seen[j], seen[n]) == 0)
					return -1;
			n++;
		}
		if (!proto_get_str(&out, TAG_CURSOR, cursor, sizeof cursor))
			cursor[0] = '\0';
	} while (cursor[0]);
	return n;
}

static void listing(void)
{
	unsigned pages;
	struct user_record u;

	if (!given_user("alice") || !given_user("bob") || !given_user("carol") ||
	    !given_user("erin") || !given(import_bulk(450) == RESULT_OK, "450 users imported"))
		return;
	CHECK("list pages through every user once", list_all(0, &pages) == 454 && pages >= 3);
	if (load("u007", &u)) {
		u.locked_until = (uint64_t)time(NULL) + 600;
		save(&u);
	}
	CHECK("list by state", list_all(STATE_LOCKED, &pages) == 1 && strcmp(seen[0], "u007") == 0);
	begin(REQ_USER_LIST, NULL);
	proto_put_u32(&req, TAG_STATE, STATE_UNMANAGED);
	CHECK("list by a state no user has", call(&root) == RESULT_INVALID && detail_is("state"));
	begin(REQ_USER_LIST, NULL);
	proto_put_str(&req, TAG_CURSOR, "u:vanished");
	CHECK("list from a vanished cursor", call(&root) == RESULT_INVALID && detail_is("cursor"));
	begin(REQ_USER_LIST, NULL);
	proto_put_str(&req, TAG_CURSOR, "o:1");
	CHECK("list from a key that is not a user's", call(&root) == RESULT_INVALID &&
	      detail_is("cursor"));
}

/* ---- the daemon ----------------------------------------------------------- */

static void daemon_status(void)
{
	char version[32];
	struct user_record u;

	if (!given_active("alice", GOOD_PW) || !given_user("bob") || !given_user("carol") ||
	    !given(load("carol", &u), "carol's record"))
		return;
	u.locked_until = (uint64_t)time(NULL) + 600;
	save(&u);
	CHECK("daemon status", ask(&root, REQ_DAEMON_STATUS, NULL) == RESULT_OK);
	CHECK("daemon version", proto_get_str(&out, TAG_VERSION, version, sizeof version) &&
	      strcmp(version, PORTAL_VERSION) == 0);
	CHECK("daemon uptime", u64_of(TAG_UPTIME) >= 5 && u64_of(TAG_UPTIME) < 3600);
	CHECK("counts by state", u64_of(TAG_COUNT_LOCKED) == 1 && u64_of(TAG_COUNT_ACTIVE) == 1 &&
	      u64_of(TAG_COUNT_PENDING) == 1);
	/* alice's notice, waiting: the outbox sends to a port that refuses. */
	CHECK("outbox count", u64_of(TAG_COUNT_OUTBOX) == pending_mail() && pending_mail() == 1);
	CHECK("outbox listing", ask(&root, REQ_OUTBOX, NULL) == RESULT_OK);
	begin(REQ_OUTBOX, NULL);
	proto_put_str(&req, TAG_CURSOR, "../not-an-id");
	CHECK("outbox: a malformed cursor is the caller's mistake", call(&root) == RESULT_INVALID);
}

static void deleting(void)
{
	if (!given_user("carol"))
		return;
	CHECK("delete", ask(&root, REQ_USER_DEL, "carol") == RESULT_OK);
	CHECK("delete again", ask(&root, REQ_USER_DEL, "carol") == RESULT_NOT_FOUND);
	CHECK("deleted user is unmanaged", ask(&root, REQ_STATUS, "carol") == RESULT_OK &&
	      u32_of(&out, TAG_STATE) == STATE_UNMANAGED);
}

/* ---- a helper in process, for each group -------------------------------------- */

static bool start(void)
{
	char err[512] = "";
	unsigned port;

	memset(&d, 0, sizeof d);
	pthread_rwlock_init(&d.cfg_lock, NULL);
	sem_init(&d.hash_slots, 0, 2);
	if (!scratch_make(dir, sizeof dir, "unit_dispatch") ||
	    (refusing_fd = refused_port(&port)) < 0)
		return false;
	snprintf(db, sizeof db, "%s/portal.db", dir);
	config_defaults(&d.cfg);
	snprintf(d.cfg.database, sizeof d.cfg.database, "%s", db);
	snprintf(d.cfg.cutover_str, sizeof d.cfg.cutover_str, "2023-10-30");
	d.cfg.cutover = time(NULL) - 86400;
	d.cfg.resend_interval = 0;
	d.cfg.codes_per_hour = 100;
	/* The sender's attempts fail at once: every queued mail stays pending. */
	snprintf(d.cfg.smtp_host, sizeof d.cfg.smtp_host, "127.0.0.1");
	d.cfg.smtp_port = port;
	d.cfg.smtp_tls = MAIL_TLS_NONE;
	d.started = time(NULL) - 5;
	snprintf(d.cfg.key_file, sizeof d.cfg.key_file, "%s.key", db);
	d.keys = keys_load(d.cfg.key_file, err, sizeof err);
	if (!d.keys || store_open(&d.store, db, err, sizeof err) < 0 ||
	    !(d.storage = storage_open(&d.cfg, d.store, geteuid(), err, sizeof err)) ||
	    !(sc = storage_connect(d.storage, err, sizeof err)))
		return fprintf(stderr, "%s\n", err), false;
	d.outbox = outbox_start(d.store, d.keys, &d.cfg, geteuid(), err, sizeof err);
	if (!d.outbox)
		return fprintf(stderr, "%s\n", err), false;
	return true;
}

static void stop(void)
{
	if (d.outbox)
		outbox_stop(d.outbox);
	storage_disconnect(sc);
	sc = NULL;
	storage_close(d.storage);
	if (d.store)
		store_close(d.store);
	keys_free(d.keys);
	sem_destroy(&d.hash_slots);
	pthread_rwlock_destroy(&d.cfg_lock);
	release_port(&refusing_fd);
	scratch_remove(dir);
}

int main(void)
{
	log_open(true);
	if (sodium_init() < 0)
		return 1;
	run_group("access rules", start, access_rules, stop);
	run_group("administration", start, administration, stop);
	run_group("sending", start, sending, stop);
	run_group("verifying", start, verifying, stop);
	run_group("decoys", start, decoys, stop);
	run_group("lockout", start, lockout, stop);
	run_group("creating", start, creating, stop);
	run_group("signing in", start, signing_in, stop);
	run_group("dormant and rehash", start, dormant_and_rehash, stop);
	run_group("resetting", start, resetting, stop);
	run_group("importing", start, importing, stop);
	run_group("listing", start, listing, stop);
	run_group("daemon status", start, daemon_status, stop);
	run_group("deleting", start, deleting, stop);
	return check_done();
}
