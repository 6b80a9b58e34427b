/*
 * storage.h - where portald keeps its state, as one interface with two
 * backends: GDBM (one machine, the default) and PostgreSQL (many machines
 * on one database).  docs/DESIGN.md, "Storage", says why it is shaped so.
 *
 * The rules (codes, counting, states, the outbox's retries) stay above
 * this interface, written once (user.c, mailq.c, req_*.c); a backend only
 * keeps records and keeps them consistent:
 *
 *   - A change to a member is one transaction on that member:
 *     storage_member_begin locks the member (GDBM: the store lock; PG:
 *     BEGIN and SELECT ... FOR UPDATE) and reads the record and the
 *     clock; the caller applies the rules, writes, and commits.  Two
 *     members never wait for each other on PostgreSQL.
 *   - Nothing slow happens inside a transaction: no Argon2id, no SMTP.
 *     Hash first, then begin, check the record is still the one the
 *     verdict was made on, write, commit (today's compare-and-set).
 *   - Plain reads (a status look-up, a list) take no lock.
 *   - The clock that decides (code expiry, locks, resend waits) is the
 *     backend's: the database's now() on PostgreSQL, so that a machine
 *     whose clock is off cannot extend a code or shorten a lock.
 *   - The outbox is shared: a sender claims due mail for a lease (SKIP
 *     LOCKED: senders never wait for each other), commits, sends, then
 *     writes the outcome fenced by its claim: a sender whose lease ran
 *     out and whose mail another took cannot overwrite that one's claim.
 *     Delivery stays at least once.
 *
 * Every call returns an enum storage_status.  A storage_conn is used by
 * one thread at a time (libpq connections are not shared between
 * threads): one per worker, one for the sender.
 */
#ifndef PORTAL_STORAGE_H
#define PORTAL_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "config.h"
#include "mailq.h"
#include "user.h"

#define STORAGE_HOST_MAX 255           /* a machine's name (host_name) */
/* The largest sealed message: what mailq_open opens, and its MAC. */
#define STORAGE_BOX_MAX (MAILQ_PLAIN_MAX + crypto_secretbox_MACBYTES)

enum storage_status {
	STORAGE_OK = 0,
	STORAGE_ABSENT = 1,       /* no such member or mail */
	STORAGE_EXISTS = 2,       /* an insert found the member there */
	STORAGE_FENCED = 3,       /* the claim is no longer ours: nothing written */
	STORAGE_BUSY = 4,         /* nowait, and the lock is held: nothing done */
	STORAGE_ERROR = -1,       /* refused (a constraint, no room, damaged data): logged */
	STORAGE_RETRY = -2,       /* the transaction was rolled back and may run again
				   * (serialization failure, deadlock) */
	STORAGE_RECONNECT = -3,   /* the connection was lost or the server is going
				   * away (57P01, 57P03): run again once, reconnected */
	STORAGE_UNAVAILABLE = -4, /* the database cannot be reached, or did not answer
				   * within postgresql_timeout: fail closed */
};

/* A mail as the storage keeps it: the queue's record and who did what. */
struct storage_mail {
	struct mail_record rec;       /* rec.box points into box, or is NULL */
	uint8_t box[STORAGE_BOX_MAX];
	char queued_by[STORAGE_HOST_MAX + 1];
	char claimed_by[STORAGE_HOST_MAX + 1];   /* "" when not claimed */
	char sent_by[STORAGE_HOST_MAX + 1];      /* who wrote the outcome */
	uint64_t claim;               /* the claim's token: the fence */
	uint64_t lease_until;         /* 0 when not claimed */
};

struct storage;          /* a backend, opened once by portald */
struct storage_conn;     /* one thread's session with it */

/* ---- opening ----------------------------------------------------------- */

/* The backend cfg->store names, checked: for PostgreSQL the conninfo is
 * parsed, the password file read (owner: the account portald runs as),
 * and a first connection made, which must find the schema this program
 * can use.  GDBM: `store` is the opened store (storage does not own it).
 * NULL with err saying plainly what is wrong. */
struct storage *storage_open(const struct portal_config *cfg, struct store *gdbm,
			     uid_t owner, char *err, size_t errlen);
void storage_close(struct storage *st);
/* What storage_open would refuse, found without keeping anything open
 * (portald -t): 0, or -1 with err.  GDBM's file is store_check's. */
int storage_check(const struct portal_config *cfg, uid_t owner, char *err, size_t errlen);
/* "gdbm" or "postgresql". */
const char *storage_name(const struct storage *st);

/* A session for the calling thread.  NULL with err (the database is
 * down: the session reconnects by itself later, see storage_conn_ok). */
struct storage_conn *storage_connect(struct storage *st, char *err, size_t errlen);
void storage_disconnect(struct storage_conn *c);

/* Is the database reachable, as last seen by any session?  why (may be
 * NULL) says since when and why not, for `portalctl status`. */
bool storage_reachable(struct storage *st, char *why, size_t cap);

/* What the machines of a fleet must share (the policy settings, a
 * fingerprint of the key file): the first machine to start records them,
 * every later one must have the same.  STORAGE_OK; STORAGE_ERROR with err
 * naming each that differs, this machine's value and the one recorded
 * (and by which machine); or the database's trouble, said in err.  GDBM:
 * one machine, nothing to agree with. */
#define STORAGE_SETTING_MAX 128
struct storage_setting {
	const char *name;
	char value[STORAGE_SETTING_MAX];
};
int storage_agree(struct storage_conn *c, const struct storage_setting *set, size_t n,
		  char *err, size_t errlen);

/* ---- a member's transaction -------------------------------------------- */

/* Begin a transaction on the member `name`, locking it, and read it:
 * STORAGE_OK with u filled, STORAGE_ABSENT (the transaction is open all
 * the same, for storage_member_insert).  *now is the backend's clock. */
int storage_member_begin(struct storage_conn *c, const char *name, struct user_record *u,
			 time_t *now);
/* Write the member, inside the transaction. */
int storage_member_write(struct storage_conn *c, const struct user_record *u);
/* Add a member that is not there: STORAGE_OK, or STORAGE_EXISTS (nothing
 * written).  Inside a transaction (begin on the same name first), or on
 * its own: then durable when it returns. */
int storage_member_insert(struct storage_conn *c, const struct user_record *u);
/* Remove the member, its code, ticket and locks; STORAGE_ABSENT. */
int storage_member_delete(struct storage_conn *c, const char *name);
/* Make the transaction durable (GDBM: fsync without the store lock), or
 * drop it.  After any error the transaction is over (rolled back). */
int storage_commit(struct storage_conn *c);
void storage_rollback(struct storage_conn *c);

/* Run fn as a transaction, commit, and run it again when the backend says
 * so: up to STORAGE_RETRIES times after STORAGE_RETRY, once after
 * STORAGE_RECONNECT (reconnected first), never past postgresql_timeout.
 * fn begins the transaction itself and must do nothing it cannot do twice
 * (it may answer the client: reply() starts the answer again).  fn
 * returns STORAGE_OK to commit, STORAGE_ABSENT etc. to end without
 * writing (rolled back), or an error.  Returns what the last run gave. */
#define STORAGE_RETRIES 3
int storage_txn(struct storage_conn *c, int (*fn)(struct storage_conn *c, void *arg),
		void *arg);

/* ---- plain reads: no lock ------------------------------------------------ */

/* The member as committed: STORAGE_OK or STORAGE_ABSENT; *now as above. */
int storage_member_read(struct storage_conn *c, const char *name, struct user_record *u,
			time_t *now);
/* The member after `after` ("" for the first) in name order (GDBM: in
 * its own order, which a list must not rely on): STORAGE_OK, or
 * STORAGE_ABSENT at the end. */
int storage_member_next(struct storage_conn *c, const char *after, struct user_record *u);
/* The backend's clock now. */
int storage_now(struct storage_conn *c, time_t *now);

/* ---- the outbox ---------------------------------------------------------- */

/* Queue m (m->rec.id new, status queued or withheld), by this machine;
 * a code mail first ends the member's code mail still waiting (one
 * waiting code mail per member: a unique constraint on PostgreSQL, so a
 * retried request cannot leave two).  Inside the member's transaction. */
int storage_mail_queue(struct storage_conn *c, struct storage_mail *m);
/* Claim up to max due mails (queued, next try come, no live lease) for
 * lease seconds, committed: out[0..*n).  Each carries its box. */
int storage_mail_claim(struct storage_conn *c, unsigned lease, struct storage_mail *out,
		       size_t max, size_t *n);
/* Write what became of a claimed mail (m->rec's status, attempts,
 * next_try, detail, done), its box dropped unless still queued, and let
 * the claim go; committed.  STORAGE_FENCED when the claim is no longer
 * m->claim (the lease ran out and another machine took the mail). */
int storage_mail_finish(struct storage_conn *c, const struct storage_mail *m);
/* Forget the mails finished before `before`; *n how many went. */
int storage_mail_purge(struct storage_conn *c, time_t before, unsigned long *n);
/* The mails after cursor ("" for the first) in id order, at most max,
 * without their boxes (for `portalctl outbox`). */
int storage_mail_list(struct storage_conn *c, const char *cursor, struct storage_mail *out,
		      size_t max, size_t *n);
/* Mails still waiting to be sent. */
int storage_mail_pending(struct storage_conn *c, unsigned long *n);

/* ---- the backends ----------------------------------------------------------- */

/* What a backend implements (storage.c dispatches; store_pg.c and
 * store_gdbm.c fill it). */
struct storage_ops {
	const char *name;
	struct storage_conn *(*connect)(struct storage *st, char *err, size_t errlen);
	void (*disconnect)(struct storage_conn *c);
	int (*reconnect)(struct storage_conn *c);
	int (*member_begin)(struct storage_conn *c, const char *name, struct user_record *u,
			    time_t *now);
	int (*member_write)(struct storage_conn *c, const struct user_record *u);
	int (*member_insert)(struct storage_conn *c, const struct user_record *u);
	int (*member_delete)(struct storage_conn *c, const char *name);
	int (*commit)(struct storage_conn *c);
	void (*rollback)(struct storage_conn *c);
	int (*member_read)(struct storage_conn *c, const char *name, struct user_record *u,
			   time_t *now);
	int (*member_next)(struct storage_conn *c, const char *after, struct user_record *u);
	int (*now)(struct storage_conn *c, time_t *now);
	int (*mail_queue)(struct storage_conn *c, struct storage_mail *m);
	int (*mail_claim)(struct storage_conn *c, unsigned lease, struct storage_mail *out,
			  size_t max, size_t *n);
	int (*mail_finish)(struct storage_conn *c, const struct storage_mail *m);
	int (*mail_purge)(struct storage_conn *c, time_t before, unsigned long *n);
	int (*mail_list)(struct storage_conn *c, const char *cursor, struct storage_mail *out,
			 size_t max, size_t *n);
	int (*mail_pending)(struct storage_conn *c, unsigned long *n);
	bool (*reachable)(struct storage *st, char *why, size_t cap);
	int (*agree)(struct storage_conn *c, const struct storage_setting *set, size_t n,
		     char *err, size_t errlen);
	void (*close)(struct storage *st);
};

/* What every backend's structs start with, so storage.c can dispatch. */
struct storage {
	const struct storage_ops *ops;
	unsigned timeout_ms;          /* postgresql_timeout: the bound of storage_txn */
};

struct storage_conn {
	struct storage *st;
	/* Reads that would wait for a lock (GDBM's store lock) answer
	 * STORAGE_BUSY instead: the event loop's, which never waits. */
	bool nowait;
};

/* Each backend's own opening, for storage_open: store_pg.c, store_gdbm.c. */
struct storage *storage_pg_open(const struct portal_config *cfg, uid_t owner, char *err,
				size_t errlen);
struct storage *storage_gdbm_open(const struct portal_config *cfg, struct store *gdbm,
				  char *err, size_t errlen);

#endif
