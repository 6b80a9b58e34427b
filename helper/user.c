/*
 * user.c - the managed user's record: codec and state; the counting rules
 * are lockout.c's (failures, locks) and codereq.c's (code requests).
 * Nothing here talks to a client or knows who is asking; dispatch.c
 * decides that.
 */
#include "user.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "record.h"

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

/* A code request, nested: every field always there, so that every request
 * takes the same room (codereq.h). */
#define CR(m) RECORD_AT(struct code_request, m)

static const struct record_field code_request_fields[] = {
	{ REC_CR_FLAGS, RF_U32, CR(flags) },
	{ REC_CR_ADDRESS, RF_FIXED, CR(address) },
	{ REC_CR_SOURCE, RF_FIXED, CR(source) },
	{ REC_CR_HANDLE, RF_FIXED, CR(handle) },
	{ REC_CR_CODE, RF_FIXED, CR(code) },
	{ REC_CR_TIME, RF_U64, CR(time) },
	{ REC_CR_EXPIRES, RF_U64, CR(expires) },
	{ REC_CR_TRIES, RF_U32, CR(tries) },
};

static const struct record_layout code_request_layout =
	RECORD_LAYOUT(struct code_request, code_request_fields);

/* The failures and the lock of one source, nested. */
#define SL(m) RECORD_AT(struct source_lock, m)

static const struct record_field source_lock_fields[] = {
	{ TAG_SOURCE, RF_STR, SL(source) },
	{ TAG_FAILURES, RF_U32, SL(failures) },
	{ TAG_UNTIL, RF_U64, SL(until) },
	{ TAG_TIME, RF_U64, SL(last) },
};

static const struct record_layout source_lock_layout =
	RECORD_LAYOUT(struct source_lock, source_lock_fields);

/* The fields of a user record, in the order they are written.  The hash
 * of a ticket and its expiry come together or not at all.  The last ones
 * are only read, from records of older versions (user.h). */
enum {
	UF_NAME, UF_EMAIL, UF_CREATED, UF_LAST_SIGNIN, UF_FAILURES, UF_LOCKED_UNTIL,
	UF_RESET, UF_HARD_LOCKED, UF_PWHASH, UF_SOURCES, UF_CODES,
	UF_TICKET_HASH, UF_TICKET_EXPIRES, UF_TICKET_TRIES, UF_LOCK_MAILED, UF_NOTICES,
	UF_CODE_HASH, UF_CODE_EXPIRES, UF_CODE_TRIES, UF_REQUESTS, UF_LAST_REQUEST,
};

#define AT(m) RECORD_AT(struct user_record, m)

static const struct record_field user_fields[] = {
	[UF_NAME] = { TAG_USER, RF_STR, AT(name) },
	[UF_EMAIL] = { TAG_EMAIL, RF_STR, AT(email) },
	[UF_CREATED] = { TAG_CREATED, RF_U64, AT(created) },
	[UF_LAST_SIGNIN] = { TAG_LAST_SIGNIN, RF_U64, AT(last_signin), .rule = RULE_OPTIONAL },
	[UF_FAILURES] = { TAG_FAILURES, RF_U32, AT(failures), .rule = RULE_OPTIONAL },
	[UF_LOCKED_UNTIL] = { TAG_UNTIL, RF_U64, AT(locked_until), .rule = RULE_OPTIONAL },
	[UF_RESET] = { REC_RESET, RF_BOOL, AT(reset), .rule = RULE_OPTIONAL },
	[UF_HARD_LOCKED] = { REC_HARD_LOCKED, RF_BOOL, AT(hard_locked), .rule = RULE_NONZERO },
	[UF_PWHASH] = { REC_PWHASH, RF_STR, AT(pwhash), .rule = RULE_NONZERO },
	[UF_SOURCES] = { REC_SOURCE_LOCK, RF_LIST, AT(sources), .rule = RULE_OPTIONAL,
			 .len_off = offsetof(struct user_record, nsources),
			 .sub = &source_lock_layout },
	[UF_CODES] = { REC_CODE_REQUEST, RF_LIST, AT(codes), .rule = RULE_OPTIONAL,
		       .len_off = offsetof(struct user_record, ncodes),
		       .sub = &code_request_layout },
	[UF_TICKET_HASH] = { REC_TICKET_HASH, RF_FIXED, AT(ticket_hash),
	                     .rule = RULE_WITH, .when = UF_TICKET_EXPIRES },
	[UF_TICKET_EXPIRES] = { REC_TICKET_EXPIRES, RF_U64, AT(ticket_expires),
	                        .rule = RULE_NONZERO },
	[UF_TICKET_TRIES] = { REC_TICKET_TRIES, RF_U32, AT(ticket_tries),
	                      .rule = RULE_IF, .when = UF_TICKET_EXPIRES },
	[UF_LOCK_MAILED] = { REC_LOCK_MAILED, RF_U64, AT(lock_mailed), .rule = RULE_NONZERO },
	[UF_NOTICES] = { REC_NOTICE_TIME, RF_U64_LIST, AT(notices), .rule = RULE_OPTIONAL,
			 .len_off = offsetof(struct user_record, nnotices) },
	[UF_CODE_HASH] = { REC_CODE_HASH, RF_FIXED, AT(code_hash),
	                   .rule = RULE_WITH, .when = UF_CODE_EXPIRES },
	[UF_CODE_EXPIRES] = { TAG_CODE_EXPIRES, RF_U64, AT(code_expires), .rule = RULE_NONZERO },
	[UF_CODE_TRIES] = { REC_CODE_TRIES, RF_U32, AT(code_tries),
	                    .rule = RULE_IF, .when = UF_CODE_EXPIRES },
	[UF_REQUESTS] = { REC_REQUEST, RF_U64_LIST, AT(requests), .rule = RULE_OPTIONAL,
			  .len_off = offsetof(struct user_record, nrequests) },
	[UF_LAST_REQUEST] = { REC_LAST_REQUEST, RF_U64, AT(last_request), .rule = RULE_NONZERO },
};

static const struct record_layout user_layout = RECORD_LAYOUT(struct user_record, user_fields);

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
	ok = proto_parse_body(b.data, b.len, &m) && record_decode(&user_layout, &m, u) &&
	     strcmp(u->name, name) == 0;
	proto_wipe(&b);
	if (ok && (u->code_expires || u->nrequests || u->last_request))
		codereq_from_old(u);
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
	record_encode(&user_layout, u, &b);
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
			     time_t now, const char *source, enum pending_reason *why)
{
	*why = PENDING_NONE;
	if (lockout_end(u, cfg, now, source))
		return STATE_LOCKED;
	if (u->reset)
		*why = PENDING_RESET;
	else if (!u->pwhash[0])
		*why = PENDING_NEVER;
	else if (cfg->cutover > 0 /* 0: unset */ && u->last_signin < (uint64_t)cfg->cutover)
		*why = PENDING_DORMANT;
	return *why == PENDING_NONE ? STATE_ACTIVE : STATE_PENDING;
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

void user_entry(const struct user_record *u, const struct portal_config *cfg, time_t now,
		struct proto_buf *out)
{
	enum pending_reason why;
	enum portal_state st = user_state(u, cfg, now, NULL, &why);
	const struct code_request *live = codereq_live(u, now);

	proto_begin_body(out);
	proto_put_str(out, TAG_USER, u->name);
	proto_put_str(out, TAG_EMAIL, u->email);
	proto_put_u32(out, TAG_STATE, st);
	proto_put_u32(out, TAG_REASON, why);
	proto_put_u64(out, TAG_CREATED, u->created);
	proto_put_u64(out, TAG_LAST_SIGNIN, u->last_signin);
	proto_put_u32(out, TAG_FAILURES, u->failures);
	if (st == STATE_LOCKED)
		proto_put_u64(out, TAG_UNTIL, lockout_end(u, cfg, now, NULL));
	proto_put_u32(out, TAG_HAS_PASSWORD, u->pwhash[0] != '\0');
	proto_put_u64(out, TAG_CODE_EXPIRES, live ? live->expires : 0);
	lockout_entries(u, now, out);
}
