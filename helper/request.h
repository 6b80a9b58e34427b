/*
 * request.h - one request being answered, as every handler sees it: what
 * came in, the answer being built, and the small steps every handler
 * takes (an answer, a field read and checked, a member's record read or
 * made durable).
 *
 * Every handler answers through reply(), which restarts the response, so a
 * handler can change its mind (a storage error after a partial answer)
 * without leaving half an answer behind.  Nothing is acknowledged before
 * the write is synced (commit).
 */
#ifndef PORTAL_REQUEST_H
#define PORTAL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "dispatch.h"
#include "i18n.h"
#include "proto.h"
#include "user.h"

struct dir_entry;

#define HOST_MAX     255
#define NOTE_MAX     160

struct req {
	struct portald *d;
	const struct peer *peer;
	const struct proto_msg *msg;
	struct proto_buf *resp;
	struct portal_config cfg;        /* the settings in force, copied once */
	time_t now;
	bool privileged;
	char user[PORTAL_USER_MAX + 1];  /* "" when the request names nobody */
	char source[PORTAL_SOURCE_MAX + 1];  /* where it comes from (lockout.h), for H_USER */
	enum proto_result result;
	char note[NOTE_MAX];             /* for the log: never a secret */
	bool mail_queued;                /* the sender is to be woken: see dispatch() */
	/* The member's transaction (storage.h), one a request. */
	struct storage_conn *sc;         /* this thread's session */
	int txn_rc;                      /* what storage_txn is to do: STORAGE_OK commit,
					  * STORAGE_ABSENT nothing written, else trouble */
	bool wrote;                      /* a write was made: a failed commit is RESULT_STORAGE */
	bool busy;                       /* a quick read found the store lock held */
	/* directory = ldap: the directory's answer for user, asked before the
	 * handler ran (req_directory.h); NULL: the store says who is managed */
	const struct dir_entry *dir;
	bool dir_new;                    /* a member the store has no record of yet */
};

/* ---- answers ---------------------------------------------------------- */

/* Start the answer again, with this result. */
void reply(struct req *r, enum proto_result res);
/* What the log line of this request says after its result. */
__attribute__((format(printf, 2, 3)))
void note(struct req *r, const char *fmt, ...);
/* An answer naming the field or the thing that was wrong. */
void reply_detail(struct req *r, enum proto_result res, const char *detail);
/* RESULT_LOCKED, and when the lock that keeps the request's source out
 * ends. */
void reply_locked(struct req *r, const struct user_record *u);

/* ---- fields ----------------------------------------------------------- */

/* A string field the request must carry: RESULT_BAD_REQUEST when absent,
 * RESULT_INVALID when it does not fit or `ok` refuses it. */
bool need_str(struct req *r, uint8_t tag, const char *name, char *out, size_t cap,
	      bool (*ok)(const char *));
/* An optional string field: "" when absent. */
bool opt_str(struct req *r, uint8_t tag, const char *name, char *out, size_t cap,
	     bool (*ok)(const char *));
/* The language of a mail: TAG_LANG if given, else the configured one. */
bool opt_lang(struct req *r, enum lang *l);
/* TAG_HOST goes into the notice mail: printable ASCII only. */
bool host_ok(const char *s);
/* A secret field (code, password, ticket): the bytes stay in the request
 * frame, which the server wipes.  NULL after answering. */
const struct proto_field *need_secret(struct req *r, uint8_t tag, const char *name);

/* ---- records ---------------------------------------------------------- */

/* Begin the member's transaction on the user the request names (r->user),
 * locking it, and read it, r->now from the backend's clock: 0 loaded; 1
 * not managed (answered RESULT_NOT_FOUND; the transaction is open all the
 * same, for insert_user); -1 unreadable (RESULT_INTERNAL, or unavailable:
 * see dispatch.c).  The transaction ends when the handler returns:
 * committed if it wrote (commit, insert_user, delete_user), else rolled
 * back.  With the directory's answer (r->dir): as member_load says. */
int load_user(struct req *r, struct user_record *u);
/* The same as a plain read, which takes no lock and opens nothing: what a
 * verdict made without a transaction (a password hashed) starts from.
 * With the directory's answer, as load_user. */
int read_user(struct req *r, struct user_record *u);
/* Inside the transaction: write the record (made durable by the commit
 * that follows the handler, before the answer goes); false after
 * answering RESULT_STORAGE. */
bool commit(struct req *r, const struct user_record *u);
/* Inside the transaction: add the member load_user found absent (false
 * after answering RESULT_EXISTS or RESULT_STORAGE), or remove it. */
bool insert_user(struct req *r, const struct user_record *u);
bool delete_user(struct req *r);
/* Around a mail queued inside the transaction: the queue is still this
 * machine's own (the sealed queue of the GDBM file, outbox.h), under the
 * store lock, which on GDBM the transaction holds and on PostgreSQL is
 * taken for the queueing alone and the queue synced before it is let go.
 * mail_done: false when the sync failed. */
void mail_begin(struct req *r);
bool mail_done(struct req *r);
/* The member's state now, under the settings in force, for the request's
 * source: locked when the member's own lock or the source's is in force. */
enum portal_state state_of(const struct req *r, const struct user_record *u,
			   enum pending_reason *why);
/* Where the request comes from: TAG_SOURCE from root's sign-ins (absent:
 * LOCKOUT_UNKNOWN); for any other caller its uid, whatever it says, so
 * that it cannot spread its guesses over sources of its own making.
 * False after answering. */
bool read_source(struct req *r);

/* ---- failures ----------------------------------------------------------- */

/* Store lock held: one wrong code or password, from the request's source
 * (member: counted for the member too, lockout.h).  A lock it brings is
 * logged at warning level and told to the member by mail, at most once a
 * day (LOCK_MAIL_SPACING).  True when the source is now locked out. */
bool count_failure(struct req *r, struct user_record *u, bool member);
/* A right code or password: the run of the source, and the member's, end. */
void count_success(struct req *r, struct user_record *u);

/* Store lock held: the notice that the member's password was created or
 * changed, from host, queued (not written down before the caller syncs);
 * USER_NOTICES_HOUR an hour at most, the last change always told.  Not
 * queued when the outbox is full (outbox.h), which is not an error.
 * False on a storage error. */
bool queue_notice(struct req *r, struct user_record *u, enum lang lang, const char *host);

#endif
