/*
 * mailq.h - the sealed, durable queue of outgoing mail: its records in the
 * database and their index in memory.
 *
 * Every entry is a record "o:<id>" in the database, the id being 16 hex
 * digits of the queue time in milliseconds and 8 random ones, so that ids
 * sort in queue order.  A queued record carries the whole message in a
 * crypto_secretbox under the outbox key; the plaintext starts with
 * "<id>\n<to>\n", binding the message to its record: a box moved into
 * another record (to send someone's code elsewhere) no longer opens as
 * that record's and is not sent.  Once the mail is handed over or given
 * up, the box goes and only a small, non-secret record of the outcome is
 * kept until it ages out.
 *
 * The index is kept sorted by id: in GDBM's hash order a walk over the
 * "o:" keys is a walk over every user as well.  It changes only with the
 * records it mirrors, so like them it is guarded by the store lock: every
 * call below but mailq_load needs it held.
 */
#ifndef PORTAL_MAILQ_H
#define PORTAL_MAILQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sodium.h>
#include "mail.h"
#include "mailtext.h"
#include "proto.h"
#include "store.h"

#define MAILQ_ID_LEN   24
#define MAILQ_BIND_MAX (MAILQ_ID_LEN + PORTAL_EMAIL_MAX + 3)  /* "<id>\n<to>\n" and a NUL */
/* The most a sealed message opens into: its binding line and its text. */
#define MAILQ_PLAIN_MAX (MAILQ_BIND_MAX + MAIL_TEXT_MAX)

enum mail_kind { MAILQ_CODE, MAILQ_NOTICE, MAILQ_LOCK };
enum mail_status {
	MAILQ_QUEUED, MAILQ_SENT, MAILQ_FAILED, MAILQ_EXPIRED, MAILQ_GAVE_UP, MAILQ_WITHHELD,
};

/* An entry as its record holds it. */
struct mail_record {
	char id[MAILQ_ID_LEN + 1];
	uint32_t kind, status, attempts;
	char user[PORTAL_USER_MAX + 1];
	char to[PORTAL_EMAIL_MAX + 1];
	char detail[MAIL_DETAIL_MAX];
	uint64_t next_try, expires, done;
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	const uint8_t *box;     /* NULL once the message is gone */
	size_t boxlen;
};

/* An entry of the index: what the sender needs without reading the record. */
struct mail_entry {
	char id[MAILQ_ID_LEN + 1];
	char user[PORTAL_USER_MAX + 1];
	uint8_t kind, status;
	time_t when;            /* queued: next try; finished: when it finished */
	time_t expires;
	bool replaced;          /* a code mail with a newer one of its user queued
				 * since: the sender closes it (mailq_replace) */
	bool held;              /* never tried yet: not to go before `when` */
};

struct mailq {
	struct store *st;
	const uint8_t *key;     /* the outbox key: crypto_secretbox_KEYBYTES */
	struct mail_entry *index;   /* sorted by id */
	size_t count, cap;
	uint64_t last_ms;       /* time part of the newest id */
	bool full;              /* the last look found outbox_max mails waiting */
	struct proto_buf raw;   /* a record as read: mail_record.box points into it */
	struct proto_buf rec;   /* a record being written, an entry being listed */
	struct proto_msg msg;
};

/* Read every entry into the index, once, at start (takes the store lock). */
int mailq_load(struct mailq *q, struct store *st, const uint8_t *key, char *err,
	       size_t errlen);
void mailq_free(struct mailq *q);

/* Is id the form of a mail's id (and so of an outbox cursor)? */
bool mailq_id_valid(const char *id);
/* A new id, later than every one before it. */
void mailq_new_id(struct mailq *q, char id[MAILQ_ID_LEN + 1]);
/* When the entry was queued: the time part of its id. */
time_t mailq_queued_at(const char *id);

/* Seal plain[0..len) (its binding line, then the message) into a new
 * entry: queued (not to be sent before not_before), or withheld when send
 * is false.  0 or -1 (logged). */
int mailq_add(struct mailq *q, const char *id, enum mail_kind kind, const char *user,
	      const char *to, time_t expires, time_t not_before, const char *plain, size_t len,
	      bool send);
/* Close the mails of that kind of user still waiting, at once. */
int mailq_supersede(struct mailq *q, const char *user, enum mail_kind kind);
/* The code mails of user still waiting, with mark: marked replaced, for
 * the sender to close (only the newest code works).  Without mark the same
 * walk is made, changing nothing: a request for an address not on file
 * must take the time one for the address on file takes, and write no more
 * (the sender's closing is done after the answer, by another thread). */
void mailq_replace(struct mailq *q, const char *user, bool mark);
/* Are outbox_max mails or more waiting?  Logged when that changes. */
bool mailq_full(struct mailq *q, unsigned long outbox_max);
/* Write a new entry whose box is sealed already (r->box, or none), and
 * index it; 0 or -1.  The storage interface's GDBM backend queues so. */
int mailq_insert(struct mailq *q, const struct mail_record *r);

/* 0 loaded, 1 absent, -1 unreadable (logged).  r->box points into q->raw,
 * which the caller wipes (proto_wipe) once done. */
int mailq_get(struct mailq *q, const char *id, struct mail_record *r);
/* The record of an entry of the index.  One that cannot be read (and was
 * logged) leaves the queue, and the database with the finished ones. */
bool mailq_get_entry(struct mailq *q, struct mail_entry *e, struct mail_record *r, time_t now);
/* Write r back, and its index entry; 0 or -1. */
int mailq_put(struct mailq *q, const struct mail_record *r);
/* The entry is over: its message goes; written, logged at prio. */
void mailq_close(struct mailq *q, struct mail_record *r, enum mail_status status,
		 const char *why, time_t now, int prio);
/* Open a queued record's box into plain (MAILQ_PLAIN_MAX + 1 bytes): the
 * length of the binding line that starts it, the message following it
 * NUL-terminated.  -1 when the box does not open or was made for another
 * record: the entry is then closed. */
int mailq_open(struct mailq *q, struct mail_record *r, char *plain, time_t now);
/* Forget the entries finished a day ago; true when any went. */
bool mailq_forget(struct mailq *q, time_t now);

/* Fill a REQ_OUTBOX response page from cursor (NULL, or mailq_id_valid). */
int mailq_list(struct mailq *q, const char *cursor, struct proto_buf *resp);
/* Entries still waiting to be sent. */
unsigned long mailq_pending(const struct mailq *q);

/* "code", "notice" or "lock". */
const char *mailq_kind_name(unsigned kind);
/* "queued", "sent", "failed", "expired", "gave-up" or "withheld" ("?"
 * for another number). */
const char *mailq_status_name(unsigned status);

#endif
