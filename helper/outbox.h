/*
 * outbox.h - the mail portald sends: what the rest of portald asks of it.
 *
 * A queued mail is a whole RFC 5322 message built at queue time (the
 * configuration's From and organization in force then), stored in the
 * sealed queue (mailq.h) and sent by a background thread (sender.h).
 * After a hand-off or expiry the message body is wiped and only a small,
 * non-secret record of the outcome is kept (shown by `portalctl outbox`)
 * until it ages out.
 */
#ifndef PORTAL_OUTBOX_H
#define PORTAL_OUTBOX_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>
#include "config.h"
#include "i18n.h"
#include "keys.h"
#include "proto.h"
#include "store.h"

struct outbox;

/* owner: the account portald runs as; the SMTP password file must belong
 * to it or to root. */
struct outbox *outbox_start(struct store *st, const struct portal_keys *k,
			    const struct portal_config *cfg, uid_t owner, char *err, size_t errlen);
void outbox_stop(struct outbox *ob);
/* New settings after SIGHUP (SMTP server, TLS, AUTH, From, organization). */
int outbox_reconfigure(struct outbox *ob, const struct portal_config *cfg,
		       char *err, size_t errlen);
/* What outbox_start would refuse in the mail settings (the server, the
 * From, the SMTP password file), without starting anything: 0, or -1
 * with err. */
int outbox_check(const struct portal_config *cfg, uid_t owner, char *err, size_t errlen);

/* Queue the code mail, which ends any older code mail of the user still
 * waiting (always queued, outbox_max or not).  With send false (the address typed is not the one on file)
 * the entry is withheld instead: every step is the same, the same number
 * of bytes is written, but nothing is kept that could be sent, and the
 * entry is listed as "withheld".  Store lock held; the caller syncs, then
 * kicks.  0 or -1 (storage error). */
int outbox_queue_code(struct outbox *ob, const char *user, const char *to,
		      enum lang lang, const char *code, time_t expires, bool send);
/* Queue the "your password was created" notice (valid for a day), not to
 * be sent before not_before; it replaces a notice of the user still
 * waiting.  0 queued, 1 not queued: outbox_max mails are waiting
 * (logged once), -1 storage error.  Store lock held, as below. */
int outbox_queue_notice(struct outbox *ob, const char *user, const char *to,
			enum lang lang, time_t when, const char *host, time_t not_before);
/* Queue the "your account was locked" mail: until when, from where (NULL:
 * many places).  The same return. */
int outbox_queue_lock(struct outbox *ob, const char *user, const char *to, enum lang lang,
		      time_t until, const char *source);
/* Are outbox_max mails waiting, so that notices and lock mails are not
 * queued?  Store lock held. */
bool outbox_full(struct outbox *ob);
/* Wake the sender: something was queued and synced. */
void outbox_kick(struct outbox *ob);

/* Is id the form of a mail's id (and so of an outbox cursor)? */
bool outbox_id_valid(const char *id);

/* Fill a REQ_OUTBOX response page: TAG_ENTRY {TAG_ID TAG_USER TAG_EMAIL TAG_STATE-like
 * TAG_DETAIL status, TAG_ATTEMPTS, TAG_TIME next try or outcome time,
 * TAG_CODE_EXPIRES} ... and TAG_CURSOR when more; cursor is NULL or
 * outbox_id_valid().  Store lock held. */
int outbox_list(struct outbox *ob, const char *cursor, struct proto_buf *resp);
/* Entries still waiting to be sent.  Store lock held. */
unsigned long outbox_pending(struct outbox *ob);

#endif
