/*
 * server.h - portald's process: its connections, the event loop that
 * reads them and the workers that answer the slow requests.
 *
 * The main thread owns every connection while it is waiting for a
 * request.  It reads without blocking until a whole frame is in.  A quick
 * request (dispatch_quick: the status look-up every sign-in makes) it
 * answers itself; any other it hands to a worker through the work queue;
 * the worker answers (dispatch may hash a password, which takes a while)
 * and gives the connection back through the done queue and an eventfd.
 * So a client that sends slowly, or never, costs a slot and nothing else,
 * and the look-ups do not queue behind the password checks.
 */
#ifndef PORTAL_SERVER_H
#define PORTAL_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dispatch.h"
#include "portald.h"
#include "privileges.h"
#include "proto.h"

/* 200 people signing in at the same second hold a connection each while
 * their password waits for a hash slot, and the one of their status
 * look-up may not be closed yet: room for twice that. */
#define MAX_CONNS          512
#define MAX_CONNS_PER_UID  32     /* for callers other than root */

enum conn_state { CONN_READING, CONN_WORKING };

struct conn {
	int fd;
	unsigned slot;
	enum conn_state state;
	struct peer peer;
	bool named;              /* peer.name looked up (by a worker: NSS may block) */
	uint8_t head[PROTO_HEADER];
	uint8_t *frame;          /* allocated once the header gave the size */
	size_t size;             /* frame size, 0 while the header is incomplete */
	size_t got;              /* bytes of head, then of frame, read so far */
	long long deadline;      /* monotonic ms: idle limit, or frame limit once begun */
	bool keep;               /* worker's verdict: serve more, or close */
	struct conn *next;       /* queue link */
};

struct queue {
	struct conn *head, *tail;
};

struct worker {
	pthread_t tid;
	struct server *srv;
	struct proto_buf *resp;
	struct proto_msg *msg;
};

struct server {
	struct portald *d;
	const char *config_path;
	struct runas as;
	int epfd, lfd, sigfd, wakefd;
	bool sock_made;
	long long paused_until;      /* listener paused while short of fds; 0 = not */
	struct conn *slot[MAX_CONNS];
	unsigned nconns;
	unsigned top;                /* slots at or past this one are all free */
	unsigned long refused;
	long long refused_logged;
	struct proto_buf *reply;     /* the main thread's own answers */
	struct proto_msg *msg;       /* the main thread's request being answered */

	pthread_mutex_t work_mu;
	pthread_cond_t work_cv;
	struct queue work;
	bool stopping;

	pthread_mutex_t done_mu;
	struct queue done;

	struct worker *workers;
	unsigned nworkers, nstarted;
};

static inline void queue_push(struct queue *q, struct conn *c)
{
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
}

static inline struct conn *queue_pop(struct queue *q)
{
	struct conn *c = q->head;

	if (c) {
		q->head = c->next;
		if (!q->head)
			q->tail = NULL;
	}
	return c;
}

/* ---- conn.c: the connections, on the main thread ------------------------ */

/* A response frame carrying only a result. */
void build_result(struct proto_buf *b, enum proto_result r);
/* The answer is sent: wipe the request and the answer. */
void conn_answered(struct conn *c, struct proto_buf *resp);
void conn_close(struct server *s, struct conn *c);
/* Accept what the listener has (a burst at most). */
void conns_accept(struct server *s);
/* Read what c has sent; a whole request is answered or handed on. */
void conn_read(struct server *s, struct conn *c);
/* Close connections past their deadline; epoll_wait's timeout. */
int conns_expire(struct server *s);
/* Take back the connections the workers are done with. */
void conns_take_back(struct server *s);

/* ---- workers.c: the pool --------------------------------------------------- */

/* The CPUs portald may run on. */
unsigned cpu_count(void);
int workers_start(struct server *s, unsigned n, char *err, size_t errlen);
/* Let the workers answer what is queued, then end them. */
void workers_stop(struct server *s);

/* ---- loop.c: the event loop and signals ------------------------------------ */

/* Block the signals portald takes through its signalfd (before any thread). */
int signals_block(struct server *s, char *err, size_t errlen);
/* The epoll set (listener, signals, workers' wake-ups) and the main
 * thread's buffers. */
int loop_open(struct server *s, char *err, size_t errlen);
/* Serve until a signal says stop (0) or epoll fails (-1). */
int loop_run(struct server *s);

#endif
