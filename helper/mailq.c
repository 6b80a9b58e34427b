/*
 * mailq.c - the sealed, durable mail queue: records, their index, ids and
 * boxes.  See mailq.h.
 */
#include "mailq.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "record.h"

#define KEEP_DONE    (24 * 3600)   /* finished records are shown for a day */

/* The fields of an entry's record, in the order they are written; the
 * sealed message and its nonce while there is one. */
enum {
	MF_ID, MF_KIND, MF_USER, MF_TO, MF_STATUS, MF_ATTEMPTS, MF_NEXT_TRY, MF_EXPIRES,
	MF_DETAIL, MF_DONE, MF_NONCE, MF_BOX,
};

#define AT(m) RECORD_AT(struct mail_record, m)

static const struct record_field mail_fields[] = {
	[MF_ID] = { REC_MAIL_ID, RF_STR, AT(id) },
	[MF_KIND] = { REC_MAIL_KIND, RF_U32, AT(kind) },
	[MF_USER] = { REC_MAIL_USER, RF_STR, AT(user) },
	[MF_TO] = { REC_MAIL_TO, RF_STR, AT(to) },
	[MF_STATUS] = { REC_MAIL_STATUS, RF_U32, AT(status) },
	[MF_ATTEMPTS] = { REC_MAIL_ATTEMPTS, RF_U32, AT(attempts) },
	[MF_NEXT_TRY] = { REC_MAIL_NEXT_TRY, RF_U64, AT(next_try) },
	[MF_EXPIRES] = { REC_MAIL_EXPIRES, RF_U64, AT(expires) },
	[MF_DETAIL] = { REC_MAIL_DETAIL, RF_STR, AT(detail) },
	[MF_DONE] = { REC_MAIL_DONE, RF_U64, AT(done) },
	[MF_NONCE] = { REC_MAIL_NONCE, RF_FIXED, AT(nonce), .rule = RULE_IF, .when = MF_BOX },
	[MF_BOX] = { REC_MAIL_BOX, RF_BYTES, AT(box), .rule = RULE_NONZERO,
		     .len_off = offsetof(struct mail_record, boxlen) },
};

static const struct record_layout mail_layout = RECORD_LAYOUT(struct mail_record, mail_fields);

static const char *const kind_names[] = { "code", "notice", "lock" };
static const char *const status_names[] = {
	[MAILQ_QUEUED] = "queued",
	[MAILQ_SENT] = "sent",
	[MAILQ_FAILED] = "failed",
	[MAILQ_EXPIRED] = "expired",
	[MAILQ_GAVE_UP] = "gave-up",
	[MAILQ_WITHHELD] = "withheld",
};
/* What an entry of that status says when its record keeps no detail: a
 * withheld one keeps none, to be the size of a queued one (mailq_add). */
static const char *const status_notes[] = {
	[MAILQ_WITHHELD] = "the address typed is not the one on file",
};

const char *mailq_kind_name(unsigned kind)
{
	return kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : "?";
}

const char *mailq_status_name(unsigned status)
{
	return status < sizeof status_names / sizeof status_names[0] ? status_names[status] : "?";
}

/* ---- ids ------------------------------------------------------------------- */

bool mailq_id_valid(const char *id)
{
	return strlen(id) == MAILQ_ID_LEN && strspn(id, "0123456789abcdef") == MAILQ_ID_LEN;
}

/* When the entry was queued, in milliseconds: the time part of its id. */
static uint64_t id_ms(const char *id)
{
	char ms[17];

	memcpy(ms, id, 16);
	ms[16] = '\0';
	return strtoull(ms, NULL, 16);
}

time_t mailq_queued_at(const char *id)
{
	return (time_t)(id_ms(id) / 1000);
}

/* Ids sort in queue order, so the time part never goes back (two mails
 * in one millisecond, a clock set back): then it is the last one plus 1. */
void mailq_new_id(struct mailq *q, char id[MAILQ_ID_LEN + 1])
{
	struct timespec ts;
	uint64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	q->last_ms = ms > q->last_ms ? ms : q->last_ms + 1;
	snprintf(id, MAILQ_ID_LEN + 1, "%016llx%08x", (unsigned long long)q->last_ms,
		 (unsigned)randombytes_random());
}

static void key_of(const char *id, char *key)
{
	snprintf(key, STORE_KEY_MAX, "o:%s", id);
}

/* ---- records --------------------------------------------------------------- */

int mailq_get(struct mailq *q, const char *id, struct mail_record *r)
{
	struct proto_msg *m = &q->msg;
	char key[STORE_KEY_MAX];
	int rc;

	key_of(id, key);
	rc = store_get(q->st, key, &q->raw);
	if (rc != 0)
		return rc;
	if (!proto_parse_body(q->raw.data, q->raw.len, m) || !record_decode(&mail_layout, m, r) ||
	    strcmp(r->id, id) != 0 || r->kind > MAILQ_LOCK || r->status > MAILQ_WITHHELD) {
		memset(r, 0, sizeof *r);
		log_msg(LOG_ERR, "outbox %s: the record cannot be read", id);
		return -1;
	}
	/* A box of a size no message has, or without its nonce, holds none. */
	if (r->box && (r->boxlen <= crypto_secretbox_MACBYTES ||
		       r->boxlen > crypto_secretbox_MACBYTES + MAILQ_PLAIN_MAX ||
		       !proto_find(m, REC_MAIL_NONCE))) {
		r->box = NULL;
		r->boxlen = 0;
	}
	return 0;
}

static int record_save(struct mailq *q, const struct mail_record *r)
{
	struct proto_buf *b = &q->rec;
	char key[STORE_KEY_MAX];

	record_encode(&mail_layout, r, b);
	key_of(r->id, key);
	return b->overflow ? -1 : store_put(q->st, key, b);
}

/* The entry is over: its message goes (it may hold a code). */
static void finish(struct mail_record *r, enum mail_status status, const char *detail,
		   time_t now)
{
	r->status = status;
	r->done = (uint64_t)now;
	r->box = NULL;
	r->boxlen = 0;
	if (detail)
		snprintf(r->detail, sizeof r->detail, "%s", detail);
}

/* ---- the index ------------------------------------------------------------- */

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct mail_entry *)a)->id, ((const struct mail_entry *)b)->id);
}

static struct mail_entry *index_find(struct mailq *q, const char *id)
{
	struct mail_entry key;

	if (q->count == 0)
		return NULL;
	snprintf(key.id, sizeof key.id, "%s", id);
	return bsearch(&key, q->index, q->count, sizeof *q->index, by_id);
}

static void entry_set(struct mail_entry *e, const struct mail_record *r)
{
	e->kind = (uint8_t)r->kind;
	e->status = (uint8_t)r->status;
	e->when = (time_t)(r->status == MAILQ_QUEUED ? r->next_try : r->done);
	e->expires = (time_t)r->expires;
	e->held = r->attempts == 0;
}

static int index_append(struct mailq *q, const struct mail_record *r)
{
	struct mail_entry *e;

	if (q->count == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct mail_entry *p = realloc(q->index, cap * sizeof *p);

		if (!p)
			return -1;
		q->index = p;
		q->cap = cap;
	}
	e = &q->index[q->count++];
	memset(e, 0, sizeof *e);
	snprintf(e->id, sizeof e->id, "%s", r->id);
	snprintf(e->user, sizeof e->user, "%s", r->user);
	entry_set(e, r);
	return 0;
}

/* Add in order (new ids come last, so this rarely moves anything). */
static int index_add(struct mailq *q, const struct mail_record *r)
{
	struct mail_entry e;
	size_t at;

	if (index_append(q, r) != 0)
		return -1;
	at = q->count - 1;
	e = q->index[at];
	while (at > 0 && strcmp(q->index[at - 1].id, e.id) > 0) {
		q->index[at] = q->index[at - 1];
		at--;
	}
	q->index[at] = e;
	return 0;
}

static void index_update(struct mailq *q, const struct mail_record *r)
{
	struct mail_entry *e = index_find(q, r->id);

	if (e)
		entry_set(e, r);
}

int mailq_load(struct mailq *q, struct store *st, const uint8_t *key, char *err,
	       size_t errlen)
{
	char k[STORE_KEY_MAX], after[STORE_KEY_MAX] = "";
	struct mail_record r;
	int rc;

	q->st = st;
	q->key = key;
	store_lock(st);
	while ((rc = store_next(st, "o:", after, k, sizeof k)) == 0) {
		snprintf(after, sizeof after, "%s", k);
		if (!mailq_id_valid(k + 2) || mailq_get(q, k + 2, &r) != 0) {
			log_msg(LOG_WARNING, "outbox: record %s ignored", k);
			continue;
		}
		if (index_append(q, &r) != 0) {
			rc = -1;
			break;
		}
	}
	proto_wipe(&q->raw);
	store_unlock(st);
	if (rc < 0) {
		snprintf(err, errlen, "the outbox could not be read from the database");
		return -1;
	}
	if (q->count) {
		qsort(q->index, q->count, sizeof *q->index, by_id);
		q->last_ms = id_ms(q->index[q->count - 1].id);
	}
	return 0;
}

void mailq_free(struct mailq *q)
{
	free(q->index);
	q->index = NULL;
	q->count = q->cap = 0;
}

/* ---- entries --------------------------------------------------------------- */

/* A new entry is queued, or withheld (send false): the two are made by the
 * same steps into records of the same size.  A record of another size fits
 * the database's free space differently, so that the file grows more often
 * for one than for the other, and the fsync that follows shows it.  A
 * withheld box is sealed with a key drawn for it and forgotten at once: it
 * holds no message anyone can open.  It keeps no detail either (the
 * listing says why from its status), and is over as soon as written. */
int mailq_add(struct mailq *q, const char *id, enum mail_kind kind, const char *user,
	      const char *to, time_t expires, time_t not_before, const char *plain, size_t len,
	      bool send)
{
	time_t now = time(NULL);
	struct mail_record r = {
		.kind = kind, .status = send ? MAILQ_QUEUED : MAILQ_WITHHELD,
		.next_try = (uint64_t)(not_before > now ? not_before : now),
		.done = send ? 0 : (uint64_t)now,
		.expires = (uint64_t)expires, .boxlen = len + crypto_secretbox_MACBYTES,
	};
	uint8_t drawn[sizeof r.nonce + crypto_secretbox_KEYBYTES];
	uint8_t *box = malloc(r.boxlen);
	int rc = -1;

	snprintf(r.id, sizeof r.id, "%s", id);
	snprintf(r.user, sizeof r.user, "%s", user);
	snprintf(r.to, sizeof r.to, "%s", to);
	if (box) {
		randombytes_buf(drawn, sizeof drawn);
		memcpy(r.nonce, drawn, sizeof r.nonce);
		crypto_secretbox_easy(box, (const uint8_t *)plain, len, r.nonce,
				      send ? q->key : drawn + sizeof r.nonce);
		sodium_memzero(drawn, sizeof drawn);
		r.box = box;
		rc = mailq_insert(q, &r);
		free(box);
	}
	if (rc < 0)
		log_msg(LOG_ERR, "outbox %s: the %s for %s could not be queued", id,
			kind_names[kind], user);
	return rc;
}

int mailq_insert(struct mailq *q, const struct mail_record *r)
{
	return record_save(q, r) == 0 && index_add(q, r) == 0 ? 0 : -1;
}

int mailq_supersede(struct mailq *q, const char *user, enum mail_kind kind)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < q->count; i++) {
		struct mail_entry *e = &q->index[i];
		struct mail_record r;

		if (e->kind != kind || e->status != MAILQ_QUEUED || strcmp(e->user, user) != 0)
			continue;
		if (mailq_get(q, e->id, &r) != 0)
			continue;
		finish(&r, MAILQ_EXPIRED, kind == MAILQ_CODE ? "replaced by a newer code" :
		       "replaced by a newer one", now);
		if (record_save(q, &r) != 0)
			return -1;
		entry_set(e, &r);
		log_msg(LOG_INFO, "outbox %s: %s mail for %s to %s replaced by a newer one",
			r.id, kind_names[kind], r.user, r.to);
	}
	return 0;
}

void mailq_replace(struct mailq *q, const char *user, bool mark)
{
	for (size_t i = 0; i < q->count; i++) {
		struct mail_entry *e = &q->index[i];
		bool his = e->kind == MAILQ_CODE && e->status == MAILQ_QUEUED &&
			   strcmp(e->user, user) == 0;

		e->replaced = e->replaced || (his && mark);
	}
}

bool mailq_full(struct mailq *q, unsigned long outbox_max)
{
	unsigned long waiting = mailq_pending(q);
	bool full = waiting >= outbox_max;

	if (full && !q->full)
		log_msg(LOG_ERR, "outbox: full, %lu mails waiting (outbox_max %lu): password "
			"notices and lock mails are not queued until some are sent; code mails "
			"still are", waiting, outbox_max);
	else if (!full && q->full)
		log_msg(LOG_NOTICE, "outbox: %lu mails waiting, under outbox_max (%lu) again",
			waiting, outbox_max);
	q->full = full;
	return full;
}

bool mailq_get_entry(struct mailq *q, struct mail_entry *e, struct mail_record *r, time_t now)
{
	if (mailq_get(q, e->id, r) == 0)
		return true;
	e->status = MAILQ_FAILED;
	e->when = now;
	return false;
}

int mailq_put(struct mailq *q, const struct mail_record *r)
{
	int rc = record_save(q, r);

	index_update(q, r);
	return rc;
}

void mailq_close(struct mailq *q, struct mail_record *r, enum mail_status status,
		 const char *why, time_t now, int prio)
{
	finish(r, status, why, now);
	if (record_save(q, r) != 0)
		log_msg(LOG_ERR, "outbox %s: the outcome could not be written", r->id);
	index_update(q, r);
	log_msg(prio, "outbox %s: %s for %s to %s %s: %s", r->id, kind_names[r->kind], r->user,
		r->to, status_names[status], why);
}

int mailq_open(struct mailq *q, struct mail_record *r, char *plain, time_t now)
{
	size_t len = r->boxlen - crypto_secretbox_MACBYTES;
	char head[MAILQ_BIND_MAX + 1];
	int bind = snprintf(head, sizeof head, "%s\n%s\n", r->id, r->to);

	/* mailq_get keeps no box longer than plain holds. */
	if (len > MAILQ_PLAIN_MAX ||
	    crypto_secretbox_open_easy((uint8_t *)plain, r->box, r->boxlen, r->nonce, q->key) != 0) {
		mailq_close(q, r, MAILQ_FAILED, "the queued message could not be decrypted", now,
			    LOG_ERR);
	} else if (len < (size_t)bind || memcmp(plain, head, (size_t)bind) != 0) {
		mailq_close(q, r, MAILQ_FAILED, "the queued message does not belong to this entry",
			    now, LOG_ERR);
	} else {
		plain[len] = '\0';
		return bind;
	}
	sodium_memzero(plain, MAILQ_PLAIN_MAX + 1);
	return -1;
}

bool mailq_forget(struct mailq *q, time_t now)
{
	bool changed = false;

	for (size_t i = 0; i < q->count;) {
		struct mail_entry *e = &q->index[i];
		char key[STORE_KEY_MAX];

		if (e->status == MAILQ_QUEUED || e->when + KEEP_DONE > now) {
			i++;
			continue;
		}
		key_of(e->id, key);
		if (store_del(q->st, key) < 0) {
			i++;
			continue;
		}
		memmove(e, e + 1, (q->count - i - 1) * sizeof *e);
		q->count--;
		changed = true;
	}
	return changed;
}

/* ---- what portalctl sees ----------------------------------------------------- */

/* One TAG_ENTRY for a record, built in q->rec. */
static void list_entry(struct mailq *q, const struct mail_record *r)
{
	struct proto_buf *e = &q->rec;
	const char *why = r->detail[0] ? r->detail : status_notes[r->status];
	char status[MAIL_DETAIL_MAX + 16];

	snprintf(status, sizeof status, "%s%s%s", status_names[r->status],
		 why ? ": " : "", why ? why : "");
	proto_begin_body(e);
	proto_put_str(e, TAG_ID, r->id);
	proto_put_str(e, TAG_USER, r->user);
	proto_put_str(e, TAG_EMAIL, r->to);
	proto_put_str(e, TAG_DETAIL, status);
	proto_put_u32(e, TAG_ATTEMPTS, r->attempts);
	proto_put_u64(e, TAG_TIME, r->status == MAILQ_QUEUED ? r->next_try : r->done);
	proto_put_u64(e, TAG_CODE_EXPIRES, r->expires);
}

int mailq_list(struct mailq *q, const char *cursor, struct proto_buf *resp)
{
	/* Room left for the cursor that may have to follow. */
	const size_t reserve = 3 + MAILQ_ID_LEN;
	size_t i = 0, listed = 0;
	const char *last = NULL;

	while (i < q->count && cursor && strcmp(q->index[i].id, cursor) <= 0)
		i++;
	for (; i < q->count && listed < PROTO_PAGE; i++) {
		struct mail_record r;

		if (mailq_get(q, q->index[i].id, &r) != 0)
			continue;
		list_entry(q, &r);
		if (resp->len + 3 + q->rec.len + reserve > PROTO_HEADER + PROTO_MAX_BODY)
			break;
		proto_put_nested(resp, TAG_ENTRY, &q->rec);
		last = q->index[i].id;
		listed++;
	}
	proto_wipe(&q->raw);
	if (i < q->count && last)
		proto_put_str(resp, TAG_CURSOR, last);
	return resp->overflow ? -1 : 0;
}

unsigned long mailq_pending(const struct mailq *q)
{
	unsigned long n = 0;

	for (size_t i = 0; i < q->count; i++)
		n += q->index[i].status == MAILQ_QUEUED;
	return n;
}
