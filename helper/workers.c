/*
 * workers.c - the threads that answer what the event loop hands on: the
 * workers, the requests that may take a while (a password hash) or wait
 * on NSS (naming a caller other than root); and the look-up thread, the
 * status look-ups that found the store lock held.  See server.h.
 */
#include "workers.h"

#include <errno.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conn.h"
#include "log.h"
#include "storage.h"

#define WRITE_TIMEOUT_MS 5000

/* The caller's login name, "" when the uid has none (or a name too long
 * to be a managed user). */
static void peer_name(struct peer *p)
{
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t cap = hint > 0 ? (size_t)hint : 1024;
	struct passwd pw, *res = NULL;
	char *buf = NULL;
	int e = 0;

	p->name[0] = '\0';
	do {
		char *more = realloc(buf, cap);

		if (!more)
			break;
		buf = more;
		e = getpwuid_r(p->uid, &pw, buf, cap, &res);
		cap *= 2;
	} while (e == ERANGE && cap <= 1 << 20);
	if (res && strlen(res->pw_name) <= PORTAL_USER_MAX)
		strcpy(p->name, res->pw_name);
	free(buf);
}

/* Answer c.  A worker's answer may be long (a page of users) and waits a
 * while for the client to take it; the look-up thread's is short, and
 * sent as the event loop sends its own, so that no client can stall the
 * thread every look-up may need. */
static void serve(struct worker *w, struct conn *c)
{
	struct proto_buf *resp = w->resp;
	bool mail = false;

	/* Root (sshd, login, portalctl) may act for anyone, so its name is
	 * never compared: no NSS look-up, which costs every sign-in several
	 * system calls and a read of /etc/passwd. */
	if (!c->named && c->peer.uid != 0) {
		peer_name(&c->peer);
		c->named = true;
	}
	c->keep = true;
	if (!proto_parse(c->frame, c->size, w->msg)) {
		log_msg(LOG_NOTICE, "malformed request from uid %u pid %ld",
			(unsigned)c->peer.uid, (long)c->peer.pid);
		build_result(resp, RESULT_BAD_REQUEST);
		c->keep = false;     /* the stream can no longer be trusted */
	} else {
		mail = dispatch(w->srv->d, w->sc, &c->peer, w->msg, resp);
	}
	if (w->lane == &w->srv->lookups ? !conn_send_short(c, resp)
	    : proto_write_frame(c->fd, resp, WRITE_TIMEOUT_MS) < 0)
		c->keep = false;
	conn_answered(c, resp);
	if (mail)
		outbox_kick(w->srv->d->outbox);
}

/* Hand a connection back to the main thread. */
static void give_back(struct server *s, struct conn *c)
{
	uint64_t one = 1;

	pthread_mutex_lock(&s->done_mu);
	queue_push(&s->done, c);
	pthread_mutex_unlock(&s->done_mu);
	(void)!write(s->wakefd, &one, sizeof one);
}

/* Deeper than any request goes (a member's record, parsed with its lists,
 * and a message buffer or two: under 200 KiB). */
#define STACK_WARM (256 * 1024)

/* A page of stack touched for the first time is a page fault, and a page
 * fault can wait for the process's address-space lock: a password hash
 * holds it for reading while libsodium fills its 19 MiB (MAP_POPULATE, tens
 * of milliseconds on a busy machine) and for writing to unmap them, and a
 * fault queues behind the writer waiting.  A status look-up that went deeper into
 * its thread's stack than any before would wait for a hash after all: so
 * every thread that answers requests touches that much stack at once, as
 * it starts, when nothing is hashing. */
void workers_warm_stack(void)
{
	char pad[STACK_WARM];

	explicit_bzero(pad, sizeof pad);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct lane *l = w->lane;

	workers_warm_stack();
	for (;;) {
		struct conn *c;

		pthread_mutex_lock(&l->mu);
		while (!l->q.head && !l->stopping)
			pthread_cond_wait(&l->cv, &l->mu);
		c = queue_pop(&l->q);
		pthread_mutex_unlock(&l->mu);
		if (!c)
			return NULL;     /* stopping, and nothing left to answer */
		serve(w, c);
		give_back(w->srv, c);
	}
}

unsigned cpu_count(void)
{
	cpu_set_t set;
	long n;

	/* The CPUs we may run on, which a cgroup or taskset may have narrowed. */
	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* n workers, then the look-up thread. */
int workers_start(struct server *s, unsigned n, char *err, size_t errlen)
{
	int e;

	s->workers = calloc(n + 1, sizeof *s->workers);
	if (!s->workers) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->nworkers = n;
	for (unsigned i = 0; i <= n; i++) {
		struct worker *w = &s->workers[i];

		w->srv = s;
		w->lane = i < n ? &s->work : &s->lookups;
		w->resp = malloc(sizeof *w->resp);
		w->msg = malloc(sizeof *w->msg);
		if (!w->resp || !w->msg) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		w->resp->len = 0;
		/* One session a thread (libpq connections are not shared
		 * between threads).  One made while the database is down
		 * connects at its first request. */
		w->sc = storage_connect(s->d->storage, err, errlen);
		if (!w->sc)
			return -1;
		if (err[0])
			log_msg(LOG_WARNING, "database: %s", err);
		err[0] = '\0';
		e = pthread_create(&w->tid, NULL, worker_main, w);
		if (e) {
			snprintf(err, errlen, "pthread_create: %s", strerror(e));
			return -1;
		}
		s->nstarted++;
	}
	return 0;
}

static void lane_stop(struct lane *l)
{
	pthread_mutex_lock(&l->mu);
	l->stopping = true;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

/* Let the threads answer what is queued, then end them. */
void workers_stop(struct server *s)
{
	lane_stop(&s->work);
	lane_stop(&s->lookups);
	for (unsigned i = 0; i < s->nstarted; i++)
		pthread_join(s->workers[i].tid, NULL);
	for (unsigned i = 0; s->workers && i <= s->nworkers; i++) {
		free(s->workers[i].resp);
		free(s->workers[i].msg);
		storage_disconnect(s->workers[i].sc);
	}
	free(s->workers);
	s->workers = NULL;
	s->nstarted = s->nworkers = 0;
}
