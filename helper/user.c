/*
 * user.c - the managed user's record: codec, state and the counting rules
 * (failures, lockouts, code requests).  Nothing here talks to a client or
 * knows who is asking; dispatch.c decides that.
 */
#include "user.h"

#include <stdio.h>
#include <string.h>
#include "log.h"

/* Tags of the fields that never leave the helper. */
enum user_private_tag {
	P_PWHASH = TAG_PRIVATE,
	P_RESET,
	P_HARD_LOCKED,
	P_CODE_HASH,
	P_CODE_TRIES,
	P_REQUEST,          /* repeated, oldest first */
	P_LAST_REQUEST,
	P_TICKET_HASH,
	P_TICKET_EXPIRES,
	P_TICKET_TRIES,
};

void user_init(struct user_record *u, const char *name, const char *email, time_t now)
{
	memset(u, 0, sizeof *u);
	snprintf(u->name, sizeof u->name, "%s", name);
	snprintf(u->email, sizeof u->email, "%s", email);
	u->created = (uint64_t)now;
}

void user_wipe(struct user_record *u)
{
	sodium_memzero(u, sizeof *u);
}

static void user_key(const char *name, char key[STORE_KEY_MAX])
{
	snprintf(key, STORE_KEY_MAX, "%s%s", USER_PREFIX, name);
}

/* ---- codec ---------------------------------------------------------------- */

static void encode(const struct user_record *u, struct proto_buf *b)
{
	proto_begin_body(b);
	proto_put_str(b, TAG_USER, u->name);
	proto_put_str(b, TAG_EMAIL, u->email);
	proto_put_u64(b, TAG_CREATED, u->created);
	proto_put_u64(b, TAG_LAST_SIGNIN, u->last_signin);
	proto_put_u32(b, TAG_FAILURES, u->failures);
	proto_put_u64(b, TAG_UNTIL, u->locked_until);
	proto_put_u32(b, P_RESET, u->reset);
	proto_put_u32(b, P_HARD_LOCKED, u->hard_locked);
	if (u->pwhash[0])
		proto_put_str(b, P_PWHASH, u->pwhash);
	if (u->code_expires) {
		proto_put_bytes(b, P_CODE_HASH, u->code_hash, CODE_HASH_LEN);
		proto_put_u64(b, TAG_CODE_EXPIRES, u->code_expires);
		proto_put_u32(b, P_CODE_TRIES, u->code_tries);
	}
	for (unsigned i = 0; i < u->nrequests; i++)
		proto_put_u64(b, P_REQUEST, u->requests[i]);
	proto_put_u64(b, P_LAST_REQUEST, u->last_request);
	if (u->ticket_expires) {
		proto_put_bytes(b, P_TICKET_HASH, u->ticket_hash, CODE_HASH_LEN);
		proto_put_u64(b, P_TICKET_EXPIRES, u->ticket_expires);
		proto_put_u32(b, P_TICKET_TRIES, u->ticket_tries);
	}
}

/* Optional numbers: absent reads as 0, present but malformed is damage. */
static bool opt_u64(const struct proto_msg *m, uint8_t tag, uint64_t *v)
{
	*v = 0;
	return !proto_find(m, tag) || proto_get_u64(m, tag, v);
}

static bool opt_u32(const struct proto_msg *m, uint8_t tag, uint32_t *v)
{
	*v = 0;
	return !proto_find(m, tag) || proto_get_u32(m, tag, v);
}

static bool opt_bool(const struct proto_msg *m, uint8_t tag, bool *v)
{
	uint32_t n;
	bool ok = opt_u32(m, tag, &n) && n <= 1;

	*v = n == 1;
	return ok;
}

static bool decode_requests(const struct proto_msg *m, struct user_record *u)
{
	u->nrequests = 0;
	for (size_t i = 0; i < m->nfields; i++) {
		const struct proto_field *f = &m->f[i];

		if (f->tag != P_REQUEST)
			continue;
		if (f->len != 8 || u->nrequests == USER_REQUESTS_MAX)
			return false;
		u->requests[u->nrequests] = 0;
		for (unsigned j = 0; j < 8; j++)
			u->requests[u->nrequests] = u->requests[u->nrequests] << 8 | f->data[j];
		u->nrequests++;
	}
	return true;
}

/* A hash and its expiry come together or not at all. */
static bool decode_secret(const struct proto_msg *m, uint8_t hash_tag, uint8_t hash[CODE_HASH_LEN],
			  uint64_t expires)
{
	if (!expires)
		return !proto_find(m, hash_tag);
	return proto_get_fixed(m, hash_tag, hash, CODE_HASH_LEN);
}

static bool decode(const struct proto_msg *m, struct user_record *u)
{
	memset(u, 0, sizeof *u);
	if (!proto_get_str(m, TAG_USER, u->name, sizeof u->name) ||
	    !proto_get_str(m, TAG_EMAIL, u->email, sizeof u->email) ||
	    !proto_get_u64(m, TAG_CREATED, &u->created))
		return false;
	if (proto_find(m, P_PWHASH) && !proto_get_str(m, P_PWHASH, u->pwhash, sizeof u->pwhash))
		return false;
	return opt_u64(m, TAG_LAST_SIGNIN, &u->last_signin) &&
	       opt_u32(m, TAG_FAILURES, &u->failures) &&
	       opt_u64(m, TAG_UNTIL, &u->locked_until) &&
	       opt_bool(m, P_RESET, &u->reset) &&
	       opt_bool(m, P_HARD_LOCKED, &u->hard_locked) &&
	       opt_u64(m, TAG_CODE_EXPIRES, &u->code_expires) &&
	       opt_u32(m, P_CODE_TRIES, &u->code_tries) &&
	       decode_secret(m, P_CODE_HASH, u->code_hash, u->code_expires) &&
	       decode_requests(m, u) &&
	       opt_u64(m, P_LAST_REQUEST, &u->last_request) &&
	       opt_u64(m, P_TICKET_EXPIRES, &u->ticket_expires) &&
	       opt_u32(m, P_TICKET_TRIES, &u->ticket_tries) &&
	       decode_secret(m, P_TICKET_HASH, u->ticket_hash, u->ticket_expires);
}

int user_load(struct store *s, const char *name, struct user_record *u)
{
	struct proto_msg m;
	struct proto_buf b;
	char key[STORE_KEY_MAX];
	bool ok;
	int rc;

	user_key(name, key);
	rc = store_get(s, key, &b);
	if (rc != 0)
		return rc;
	ok = proto_parse_body(b.data, b.len, &m) && decode(&m, u) && strcmp(u->name, name) == 0;
	proto_wipe(&b);
	if (!ok) {
		log_msg(LOG_ERR, "database record %s is damaged", key);
		user_wipe(u);
		return -1;
	}
	return 0;
}

/* Encode u and write it with store_put or store_insert. */
static int write_record(struct store *s, const struct user_record *u,
			int (*put)(struct store *, const char *, const struct proto_buf *))
{
	struct proto_buf b;
	char key[STORE_KEY_MAX];
	int rc;

	user_key(u->name, key);
	encode(u, &b);
	rc = put(s, key, &b);
	proto_wipe(&b);
	return rc;
}

int user_save(struct store *s, const struct user_record *u)
{
	return write_record(s, u, store_put);
}

int user_insert(struct store *s, const struct user_record *u)
{
	return write_record(s, u, store_insert);
}

int user_delete(struct store *s, const char *name)
{
	char key[STORE_KEY_MAX];

	user_key(name, key);
	return store_del(s, key);
}

/* ---- rules ---------------------------------------------------------------- */

enum portal_state user_state(const struct user_record *u, const struct portal_config *cfg,
			     time_t now, enum pending_reason *why)
{
	*why = PENDING_NONE;
	if (u->hard_locked || (uint64_t)now < u->locked_until)
		return STATE_LOCKED;
	if (u->reset)
		*why = PENDING_RESET;
	else if (!u->pwhash[0])
		*why = PENDING_NEVER;
	else if (cfg->cutover > 0 /* 0: unset */ && u->last_signin < (uint64_t)cfg->cutover)
		*why = PENDING_DORMANT;
	return *why == PENDING_NONE ? STATE_ACTIVE : STATE_PENDING;
}

uint64_t user_lock_end(const struct user_record *u)
{
	return u->hard_locked ? 0 : u->locked_until;
}

bool user_fail(struct user_record *u, const struct portal_config *cfg, time_t now)
{
	if (u->failures < UINT32_MAX)
		u->failures++;
	if (u->failures >= cfg->max_failures) {
		u->hard_locked = true;
		return true;
	}
	/* A lockout after each run of code_attempts failures in a row. */
	if (cfg->code_attempts && u->failures % cfg->code_attempts == 0) {
		u->locked_until = (uint64_t)now + cfg->lockout;
		return true;
	}
	return false;
}

void user_succeed(struct user_record *u)
{
	u->failures = 0;
}

void user_unlock(struct user_record *u)
{
	u->failures = 0;
	u->locked_until = 0;
	u->hard_locked = false;
}

bool user_has_code(const struct user_record *u)
{
	return u->code_expires != 0 && u->code_tries > 0;
}

void user_clear_code(struct user_record *u)
{
	sodium_memzero(u->code_hash, sizeof u->code_hash);
	u->code_expires = 0;
	u->code_tries = 0;
}

bool user_has_ticket(const struct user_record *u, time_t now)
{
	return u->ticket_expires != 0 && (uint64_t)now < u->ticket_expires && u->ticket_tries > 0;
}

void user_clear_ticket(struct user_record *u)
{
	sodium_memzero(u->ticket_hash, sizeof u->ticket_hash);
	u->ticket_expires = 0;
	u->ticket_tries = 0;
}

/* Was t within the hour before now?  A time ahead of the clock (the clock
 * was set back) counts as recent: the limit must not vanish with it. */
static bool within_hour(uint64_t t, time_t now)
{
	return t + USER_HOUR > (uint64_t)now;
}

uint64_t user_code_wait(const struct user_record *u, const struct portal_config *cfg, time_t now)
{
	uint64_t t = (uint64_t)now, wait = 0;
	unsigned recent = 0;
	uint64_t oldest = 0;

	if (u->last_request && u->last_request + cfg->resend_interval > t)
		wait = u->last_request + cfg->resend_interval - t;
	for (unsigned i = 0; i < u->nrequests; i++) {
		if (!within_hour(u->requests[i], now))
			continue;
		if (recent++ == 0)
			oldest = u->requests[i];
	}
	/* Full hour: wait until the oldest request leaves it. */
	if (recent >= cfg->codes_per_hour && oldest + USER_HOUR - t > wait)
		wait = oldest + USER_HOUR - t;
	return wait;
}

void user_code_requested(struct user_record *u, time_t now)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < u->nrequests; i++)
		if (within_hour(u->requests[i], now))
			u->requests[kept++] = u->requests[i];
	if (kept == USER_REQUESTS_MAX) {
		memmove(u->requests, u->requests + 1, (kept - 1) * sizeof u->requests[0]);
		kept--;
	}
	u->requests[kept++] = (uint64_t)now;
	u->nrequests = kept;
	u->last_request = (uint64_t)now;
}

void user_entry(const struct user_record *u, const struct portal_config *cfg, time_t now,
		struct proto_buf *out)
{
	enum pending_reason why;
	enum portal_state st = user_state(u, cfg, now, &why);
	bool live = user_has_code(u) && (uint64_t)now < u->code_expires;

	proto_begin_body(out);
	proto_put_str(out, TAG_USER, u->name);
	proto_put_str(out, TAG_EMAIL, u->email);
	proto_put_u32(out, TAG_STATE, st);
	proto_put_u32(out, TAG_REASON, why);
	proto_put_u64(out, TAG_CREATED, u->created);
	proto_put_u64(out, TAG_LAST_SIGNIN, u->last_signin);
	proto_put_u32(out, TAG_FAILURES, u->failures);
	if (st == STATE_LOCKED)
		proto_put_u64(out, TAG_UNTIL, user_lock_end(u));
	proto_put_u32(out, TAG_HAS_PASSWORD, u->pwhash[0] != '\0');
	proto_put_u64(out, TAG_CODE_EXPIRES, live ? u->code_expires : 0);
}
