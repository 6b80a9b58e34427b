/*
 * sender.c - the thread that empties the mail queue: it picks a batch,
 * sends it with no lock held, writes down what became of each message,
 * and sleeps until the next one falls due or it is kicked.  See sender.h.
 */
#include "sender.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "clock.h"
#include "log.h"

#define BATCH_MAX     50
#define RETRY_FIRST   30
#define RETRY_MAX     600
#define IDLE_WAKE     60            /* look again at least this often */
#define KICK_DELAY_MS 50            /* from a kick to the pass: see wait_for_work */

struct sender {
	struct mailq *q;
	pthread_t thread;
	pthread_mutex_t mu;     /* guards srv, password, stop, kicked */
	pthread_cond_t wake;
	bool stop, kicked;
	struct mail_server srv;
	char *password;         /* sodium_malloc'ed or NULL; srv.password points here */
};

/* The messages of one batch, decrypted into `text`: BATCH_MAX slots of
 * TEXT_SLOT bytes, sodium_malloc'ed once (locked in memory; a mapping
 * made and unmade for each message would cost every thread of portald a
 * TLB flush), wiped after each session. */
#define TEXT_SLOT (MAILQ_PLAIN_MAX + 1)
struct batch {
	struct mailq *q;
	struct mail_record rec[BATCH_MAX];
	char *text;
	struct mail_item item[BATCH_MAX];
	bool written[BATCH_MAX];    /* its outcome is in the database */
	size_t n;
};

/* ---- picking a batch (store lock held) --------------------------------------- */

/* Open the box of a queued record into the batch; a box that does not
 * open, or that was made for another record, closes the entry (then
 * returns true). */
static bool take(struct batch *b, struct mail_record *r, time_t now)
{
	char *plain = b->text + b->n * TEXT_SLOT;
	int bind = mailq_open(b->q, r, plain, now);

	if (bind < 0)
		return true;
	b->rec[b->n] = *r;
	b->rec[b->n].box = NULL;
	b->item[b->n] = (struct mail_item){ .to = b->rec[b->n].to, .text = plain + bind };
	b->n++;
	return false;
}

/* One entry of the index on a pass of collect (due: those whose time has
 * come; else the others, once the batch has one): closed when it was
 * replaced, expired or its message is gone, taken into the batch, or left
 * for later, which *wake learns of.  True when a record changed. */
static bool consider(struct batch *b, struct mail_entry *e, bool due, time_t now, time_t *wake)
{
	struct mail_record r;

	if (e->status != MAILQ_QUEUED)
		return false;
	/* Whenever it was due: its code no longer works. */
	if (e->replaced) {
		if (!mailq_get_entry(b->q, e, &r, now))
			return false;
		mailq_close(b->q, &r, MAILQ_EXPIRED, "replaced by a newer code", now, LOG_INFO);
		return true;
	}
	if (due ? e->when > now : e->when <= now)
		return false;
	if (due && e->expires <= now) {
		if (!mailq_get_entry(b->q, e, &r, now))
			return false;
		mailq_close(b->q, &r, MAILQ_EXPIRED, "it expired before it could be sent", now,
			    LOG_WARNING);
		return true;
	}
	/* One held until a time of its own (a notice that must wait its
	 * turn, outbox.h) waits for it; one waiting for a retry goes with the
	 * session opened anyway. */
	if (b->n == BATCH_MAX || (!due && (b->n == 0 || e->held))) {
		*wake = e->when < *wake ? e->when : *wake;
		return false;
	}
	if (!mailq_get_entry(b->q, e, &r, now))
		return false;
	if (!r.box) {
		mailq_close(b->q, &r, MAILQ_FAILED, "the queued message is missing", now, LOG_ERR);
		return true;
	}
	return take(b, &r, now);
}

/* Forget finished entries a day old, close expired ones, and fill the
 * batch: the due entries first, then, since a session is opened anyway,
 * the others still waiting.  Returns when to look again. */
static time_t collect(struct batch *b, time_t now)
{
	struct mailq *q = b->q;
	time_t wake = now + IDLE_WAKE;
	bool changed = mailq_forget(q, now);

	b->n = 0;
	memset(b->written, 0, sizeof b->written);
	for (int due = 1; due >= 0; due--)
		for (size_t i = 0; i < q->count; i++)
			changed = consider(b, &q->index[i], due, now, &wake) || changed;
	/* An entry that expires unsent is closed when it does. */
	for (size_t i = 0; i < q->count; i++)
		if (q->index[i].status == MAILQ_QUEUED && q->index[i].expires < wake)
			wake = q->index[i].expires;
	proto_wipe(&q->raw);
	if (changed && store_sync_released(q->st) != 0)
		log_msg(LOG_ERR, "outbox: the database could not be synced");
	return wake;
}

/* ---- what became of it (store lock held) --------------------------------------- */

/* The wait after a record's attempts-th failure: RETRY_FIRST, doubling
 * up to RETRY_MAX, but never more than a quarter of the record's life
 * (from its queueing, the time part of its id, to its expiry), so that a
 * code that lives a short time is still tried a few times before it dies
 * rather than given up after one failure. */
static time_t backoff(const struct mail_record *r)
{
	time_t wait = RETRY_FIRST, queued = mailq_queued_at(r->id), quarter;
	uint32_t attempts = r->attempts;

	quarter = (time_t)r->expires > queued ? ((time_t)r->expires - queued) / 4 : 0;
	while (attempts-- > 1 && wait < RETRY_MAX)
		wait *= 2;
	if (wait > RETRY_MAX)
		wait = RETRY_MAX;
	if (wait > quarter)
		wait = quarter;
	return wait > 0 ? wait : 1;
}

/* Write down what became of the batch's i-th message.  Returns when it is
 * to be tried again, or 0. */
static time_t record_outcome(struct batch *b, size_t i, time_t now)
{
	const struct mail_item *it = &b->item[i];
	struct mail_record r;

	/* Re-read: the entry may have been replaced meanwhile. */
	if (b->written[i] || mailq_get(b->q, b->rec[i].id, &r) != 0)
		return 0;
	b->written[i] = true;
	r.attempts++;
	if (it->outcome == MAIL_SENT) {
		mailq_close(b->q, &r, MAILQ_SENT, it->detail, now, LOG_INFO);
	} else if (it->outcome == MAIL_PERMANENT) {
		mailq_close(b->q, &r, MAILQ_FAILED, it->detail, now, LOG_ERR);
	} else if (r.status != MAILQ_QUEUED) {
		return 0;       /* closed meanwhile: stays closed */
	} else if ((uint64_t)(now + backoff(&r)) >= r.expires) {
		mailq_close(b->q, &r, MAILQ_GAVE_UP, it->detail, now, LOG_ERR);
	} else {
		r.next_try = (uint64_t)(now + backoff(&r));
		snprintf(r.detail, sizeof r.detail, "%s", it->detail);
		if (mailq_put(b->q, &r) != 0)
			log_msg(LOG_ERR, "outbox %s: the attempt could not be written", r.id);
		log_msg(LOG_WARNING, "outbox %s: %s for %s to %s not sent (attempt %u, "
			"next in %lld s): %s", r.id, mailq_kind_name(r.kind), r.user, r.to,
			r.attempts, (long long)backoff(&r), it->detail);
		return (time_t)r.next_try;
	}
	return 0;
}

/* mail_send's word that the server took a message, in the middle of the
 * session: written down and synced at once.  From then on that message is
 * never sent again, whatever happens to the rest of the session or to
 * portald. */
static void taken(size_t i, void *arg)
{
	struct batch *b = arg;

	store_lock(b->q->st);
	record_outcome(b, i, time(NULL));
	proto_wipe(&b->q->raw);
	if (store_sync_released(b->q->st) != 0)
		log_msg(LOG_ERR, "outbox: the database could not be synced");
	store_unlock(b->q->st);
}

/* Write down what became of the rest of the batch.  Returns when the
 * first of those to be tried again falls due. */
static time_t record_outcomes(struct batch *b, time_t now)
{
	time_t wake = now + IDLE_WAKE;

	for (size_t i = 0; i < b->n; i++) {
		time_t next = record_outcome(b, i, now);

		if (next && next < wake)
			wake = next;
	}
	proto_wipe(&b->q->raw);
	if (store_sync_released(b->q->st) != 0)
		log_msg(LOG_ERR, "outbox: the database could not be synced");
	return wake;
}

/* ---- the thread ------------------------------------------------------------------ */

/* The settings in force, the password copied into memory of our own. */
static bool snapshot(struct sender *s, struct mail_server *srv, char **password)
{
	bool ok = true;

	pthread_mutex_lock(&s->mu);
	*srv = s->srv;
	*password = NULL;
	if (s->password) {
		size_t n = strlen(s->password) + 1;

		*password = sodium_malloc(n);
		ok = *password != NULL;
		if (ok)
			memcpy(*password, s->password, n);
	}
	srv->password = *password;
	pthread_mutex_unlock(&s->mu);
	return ok;
}

/* One round: pick, send with no lock held, write down.  Returns when to
 * look again. */
static time_t pass(struct sender *s, struct batch *b)
{
	struct mail_server srv;
	char *password;
	time_t wake, retry;

	store_lock(s->q->st);
	wake = collect(b, time(NULL));
	store_unlock(s->q->st);
	if (b->n == 0)
		return wake;
	if (snapshot(s, &srv, &password)) {
		mail_send(&srv, b->item, b->n, taken, b);
	} else {
		for (size_t i = 0; i < b->n; i++) {
			b->item[i].outcome = MAIL_TEMPORARY;
			snprintf(b->item[i].detail, sizeof b->item[i].detail, "out of memory");
		}
	}
	if (password)
		sodium_free(password);
	sodium_memzero(b->text, b->n * TEXT_SLOT);
	for (size_t i = 0; i < b->n; i++)
		b->item[i].text = NULL;
	store_lock(s->q->st);
	retry = record_outcomes(b, time(NULL));
	store_unlock(s->q->st);
	/* What fell due during the session is due now. */
	return retry < wake ? retry : wake;
}

/* Wait on s->wake (s->mu held) until the monotonic time `until`, the
 * stop, or, with `kick`, a kick.  The monotonic clock: a change of the
 * date neither wakes us early nor makes us sleep for ever. */
static void wait_until(struct sender *s, const struct timespec *until, bool kick)
{
	int rc = 0;

	while (!s->stop && !(kick && s->kicked) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&s->wake, &s->mu, until);
}

/* Sleep until `wake` (unix time), a kick or the stop; false to stop.  A
 * kick is followed by KICK_DELAY_MS more: the answer to the request that
 * queued the mail is out by then, so the sender's work (a session, often
 * a TLS handshake) does not compete with it.  That answer must take the
 * same time whether the code mail was queued or withheld (dispatch.c's
 * h_send_code).  Mail queued meanwhile goes in the same session. */
static bool wait_for_work(struct sender *s, time_t wake)
{
	struct timespec until;
	bool go;

	pthread_mutex_lock(&s->mu);
	if (!s->stop && !s->kicked && wake > time(NULL)) {
		time_t secs = wake - time(NULL);

		until = clock_after(CLOCK_MONOTONIC, 1000LL * (secs < IDLE_WAKE ? secs : IDLE_WAKE));
		wait_until(s, &until, true);
	}
	if (s->kicked) {
		until = clock_after(CLOCK_MONOTONIC, KICK_DELAY_MS);
		wait_until(s, &until, false);
	}
	s->kicked = false;
	go = !s->stop;
	pthread_mutex_unlock(&s->mu);
	return go;
}

static void *run(void *arg)
{
	struct sender *s = arg;
	struct batch *b = calloc(1, sizeof *b);
	time_t wake = 0;        /* at once: mail may be left from before a restart */

	if (b)
		b->text = sodium_malloc(BATCH_MAX * TEXT_SLOT);
	if (!b || !b->text) {
		log_msg(LOG_CRIT, "outbox: out of memory: no mail will be sent");
		free(b);
		return NULL;
	}
	b->q = s->q;
	while (wait_for_work(s, wake))
		wake = pass(s, b);
	sodium_free(b->text);
	free(b);
	return NULL;
}

/* ---- start and stop ---------------------------------------------------------- */

/* The server to send with, and its password (NULL: none), which is the
 * sender's from now on; the old one is wiped and freed.  s->mu held. */
static void set_server(struct sender *s, const struct mail_server *srv, char *password)
{
	if (s->password)
		sodium_free(s->password);
	if (srv)
		s->srv = *srv;
	s->password = password;
	s->srv.password = password;
}

static void sender_free(struct sender *s)
{
	set_server(s, NULL, NULL);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

struct sender *sender_start(struct mailq *q, const struct mail_server *srv, char *password,
			    char *err, size_t errlen)
{
	struct sender *s = calloc(1, sizeof *s);
	pthread_condattr_t ca;
	int e;

	if (!s) {
		snprintf(err, errlen, "outbox: out of memory");
		if (password)
			sodium_free(password);
		return NULL;
	}
	s->q = q;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	set_server(s, srv, password);
	e = pthread_create(&s->thread, NULL, run, s);
	if (e) {
		snprintf(err, errlen, "outbox: the mail thread could not start: %s", strerror(e));
		sender_free(s);
		return NULL;
	}
	return s;
}

void sender_stop(struct sender *s)
{
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	sender_free(s);
}

void sender_reconfigure(struct sender *s, const struct mail_server *srv, char *password)
{
	pthread_mutex_lock(&s->mu);
	set_server(s, srv, password);
	s->kicked = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
}

void sender_kick(struct sender *s)
{
	pthread_mutex_lock(&s->mu);
	s->kicked = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
}
