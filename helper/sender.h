/*
 * sender.h - the thread that empties the mail queue.
 *
 * It sends the due entries of the queue through mail.c, one SMTP session
 * for a batch, and writes down what became of each.  Temporary failures
 * (4xx, connection trouble) are retried with backoff until the entry
 * expires, permanent ones (5xx) are not.
 *
 * Delivery is at least once: "sent" is written down and synced as soon as
 * the server takes a message, in the middle of the session (mail.c's taken
 * callback, which takes the store lock for that moment), so only a message
 * the server took in the instant before portald died, before that write,
 * goes out again.  The sender holds neither the store lock nor its own
 * while it waits on the SMTP server, nor the store lock while it waits on
 * the disk (store_sync_released, as the dispatcher's writes do): a sign-in
 * never waits for the sender's fsync.
 */
#ifndef PORTAL_SENDER_H
#define PORTAL_SENDER_H

#include <stddef.h>
#include "mail.h"
#include "mailq.h"

struct sender;

/* Start the thread on q with the server srv; password (NULL, or
 * sodium_malloc'ed) becomes the sender's.  NULL with err. */
struct sender *sender_start(struct mailq *q, const struct mail_server *srv, char *password,
			    char *err, size_t errlen);
/* Stop the thread (a session in progress ends first) and free it all. */
void sender_stop(struct sender *s);
/* Another server (SIGHUP); password as for sender_start.  Looks again at
 * once: a server that was wrong may be right now. */
void sender_reconfigure(struct sender *s, const struct mail_server *srv, char *password);
/* Wake the sender: something was queued and synced. */
void sender_kick(struct sender *s);

#endif
