/*
 * req_import.c - the import of members, a batch of lines at a time: each
 * line added, found already there, or refused with its reason.
 */
#include <stdint.h>
#include "handlers.h"
#include "store.h"
#include "valid.h"

struct refusal {
	uint64_t line;
	enum proto_result result;
	const char *detail;
};

enum import_outcome { IMPORT_ADDED, IMPORT_UNCHANGED, IMPORT_REFUSED, IMPORT_STORAGE };

static enum import_outcome import_line(struct req *r, const struct proto_msg *e,
				       struct refusal *why)
{
	char name[PORTAL_USER_MAX + 1], email[PORTAL_EMAIL_MAX + 1];
	struct user_record u;
	int rc;

	why->result = RESULT_INVALID;
	if (!proto_get_str(e, TAG_USER, name, sizeof name) || !valid_user(name)) {
		why->detail = "not a valid user name";
		return IMPORT_REFUSED;
	}
	if (!proto_get_str(e, TAG_EMAIL, email, sizeof email) || !valid_email(email)) {
		why->detail = "not a valid e-mail address";
		return IMPORT_REFUSED;
	}
	/* Most lines are new users: one look-up that adds them, and a read
	 * only for those already there. */
	user_init(&u, name, email, r->now);
	rc = user_insert(r->d->store, &u);
	if (rc <= 0)
		return rc == 0 ? IMPORT_ADDED : IMPORT_STORAGE;
	rc = user_load(r->d->store, name, &u);
	if (rc == 0) {
		bool same = email_equal(email, u.email);

		user_wipe(&u);
		why->result = RESULT_EXISTS;
		why->detail = "already managed with another address";
		return same ? IMPORT_UNCHANGED : IMPORT_REFUSED;
	}
	why->result = RESULT_INTERNAL;
	why->detail = "the existing record could not be read";
	return IMPORT_REFUSED;
}

/* Every entry must be a body with a line number, or nothing is done. */
static size_t import_entries(struct req *r, const struct proto_field *out[PROTO_IMPORT_BATCH])
{
	size_t n = 0;

	for (size_t i = 0; i < r->msg->nfields; i++) {
		if (r->msg->f[i].tag != TAG_ENTRY)
			continue;
		if (n == PROTO_IMPORT_BATCH) {
			reply_detail(r, RESULT_BAD_REQUEST, "too many lines in one request");
			return SIZE_MAX;
		}
		out[n++] = &r->msg->f[i];
	}
	return n;
}

/* An answer refusing every line of a batch: per line a nested entry of
 * TAG_LINE (u64), TAG_RESULT (u32) and TAG_DETAIL (the longest detail above),
 * each field with its 3-byte tag and length; then TAG_RESULT and TAG_COUNT. */
#define IMPORT_DETAIL_MAX (sizeof "the existing record could not be read" - 1)
_Static_assert(PROTO_IMPORT_BATCH * (3 + (3 + 8) + (3 + 4) + (3 + IMPORT_DETAIL_MAX)) +
	       (3 + 4) + (3 + 8) <= PROTO_MAX_BODY,
	       "an import answer refusing a whole batch must fit in one message");

static void import_answer(struct req *r, uint64_t added, const struct refusal *refused,
			  size_t nrefused)
{
	reply(r, nrefused ? RESULT_PARTIAL : RESULT_OK);
	proto_put_u64(r->resp, TAG_COUNT, added);
	for (size_t i = 0; i < nrefused; i++) {
		struct proto_buf entry;

		proto_begin_body(&entry);
		proto_put_u64(&entry, TAG_LINE, refused[i].line);
		proto_put_u32(&entry, TAG_RESULT, refused[i].result);
		proto_put_str(&entry, TAG_DETAIL, refused[i].detail);
		proto_put_nested(r->resp, TAG_ENTRY, &entry);
	}
	note(r, "%llu added, %zu refused", (unsigned long long)added, nrefused);
}

void h_import(struct req *r)
{
	struct refusal refused[PROTO_IMPORT_BATCH];
	struct proto_msg e;
	const struct proto_field *entries[PROTO_IMPORT_BATCH];
	size_t n = import_entries(r, entries), nrefused = 0;
	uint64_t added = 0;

	if (n == SIZE_MAX)
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t line;

		if (!proto_parse_body(entries[i]->data, entries[i]->len, &e) ||
		    !proto_get_u64(&e, TAG_LINE, &line)) {
			reply_detail(r, RESULT_BAD_REQUEST, "entry");
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct refusal *why = &refused[nrefused];

		proto_parse_body(entries[i]->data, entries[i]->len, &e);
		proto_get_u64(&e, TAG_LINE, &why->line);
		switch (import_line(r, &e, why)) {
		case IMPORT_ADDED: added++; break;
		case IMPORT_UNCHANGED: break;
		case IMPORT_REFUSED: nrefused++; break;
		case IMPORT_STORAGE: reply(r, RESULT_STORAGE); return;
		}
	}
	/* One sync for the batch, without the lock: sign-ins go on meanwhile,
	 * and portalctl's next batch is written while this one is flushed. */
	if (added && store_sync_released(r->d->store) != 0) {
		reply(r, RESULT_STORAGE);
		return;
	}
	import_answer(r, added, refused, nrefused);
}
