/*
 * server.h - the state of portald's process, which its connections
 * (conn.c), the event loop that reads them (loop.c) and the workers that
 * answer the slow requests (workers.c) share.
 *
 * The main thread owns every connection while it is waiting for a
 * request.  It reads without blocking until a whole frame is in.  A quick
 * request (dispatch_quick: the status look-up every sign-in makes) it
 * answers itself; any other it hands to a worker through the work lane;
 * the worker answers (dispatch may hash a password, which takes a while)
 * and gives the connection back through the done queue and an eventfd.
 * So a client that sends slowly, or never, costs a slot and nothing else.
 *
 * A quick request that finds the store lock held (its holder may be a
 * worker the scheduler has preempted, or a long read such as a count of
 * every user) goes to a lane of its own, with a thread of its own that
 * waits for the lock: the loop never waits, and a look-up never queues
 * behind the password checks that may keep every worker busy.
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
/* Callers other than root and portald's own account (peer_privileged):
 * 32 each, a screen locker's needs many times over, and 128 between them
 * all, so that no local account, nor any number of them together, can
 * take the room of sshd's, login's and su's sign-ins: root always has
 * MAX_CONNS - MAX_CONNS_OTHERS (384, the burst above) to itself. */
#define MAX_CONNS_PER_UID  32
#define MAX_CONNS_OTHERS   128

enum conn_state { CONN_READING, CONN_WORKING };

struct conn {
	int fd;
	unsigned slot;
	enum conn_state state;
	struct peer peer;
	bool privileged;         /* peer_privileged(peer.uid) when accepted */
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

/* Connections handed to threads, and what wakes them. */
struct lane {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct queue q;
	bool stopping;               /* answer what is queued, then end */
};

#define LANE_INIT { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER }

struct worker {
	pthread_t tid;
	struct server *srv;
	struct lane *lane;           /* where it takes its connections from */
	struct proto_buf *resp;
	struct proto_msg *msg;
	struct storage_conn *sc;     /* its own session with the storage */
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
	unsigned nothers;            /* of them, callers that are not privileged */
	unsigned top;                /* slots at or past this one are all free */
	unsigned long refused;
	long long refused_logged;
	struct proto_buf *reply;     /* the main thread's own answers */
	struct proto_msg *msg;       /* the main thread's request being answered */
	struct storage_conn *sc;     /* the main thread's session (GDBM only: NULL on
				      * PostgreSQL, whose look-ups the look-up thread makes) */

	struct lane work;            /* to the workers */
	struct lane lookups;         /* to the look-up thread (the last worker) */

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

#endif
