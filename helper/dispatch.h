/*
 * dispatch.h - one request in, one response out.
 */
#ifndef PORTAL_DISPATCH_H
#define PORTAL_DISPATCH_H

#include <stdbool.h>
#include <sys/types.h>
#include "portald.h"
#include "proto.h"

struct storage_conn;

/* The caller, from SO_PEERCRED. */
struct peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char name[PORTAL_USER_MAX + 1]; /* login name of uid, "" if none */
};

/* Root, and the account portald runs as: they may do anything, and the
 * connections reserved for them are theirs alone (server.h). */
bool peer_privileged(uid_t uid);

/* Handle one parsed request; always leaves a finished PROTO_RESPONSE frame
 * in resp (wiped and rebuilt by the caller for every request).  True when
 * it queued mail (or withheld a code mail): the caller then wakes the
 * outbox's sender, once the answer is sent, so that the sender's work
 * does not compete with it (a code mail queued would otherwise answer
 * more slowly than one withheld). */
bool dispatch(struct portald *d, struct storage_conn *sc, const struct peer *peer,
	      const struct proto_msg *req, struct proto_buf *resp);
/* What dispatch_quick did. */
enum quick {
	QUICK_ANSWERED,   /* resp holds the answer */
	QUICK_NOT,        /* nothing done: not a quick request, a worker's */
	QUICK_LOCK_HELD,  /* nothing done: quick, but the store lock is held */
};

/* dispatch() for a request answered from the database alone, in
 * microseconds (no password hash, no write, no sync): the event loop
 * answers those itself (every sign-in asks REQ_STATUS), sparing the
 * hand-off to a worker and back.  It never waits for the store lock: a
 * quick request that finds it held is for a thread that may wait
 * (dispatch() answers it the same), one that password checks do not
 * keep busy (server.h).  On PostgreSQL a look-up is a round trip to the
 * database, which the event loop never waits for: every quick request
 * is the look-up thread's (sc is NULL there). */
enum quick dispatch_quick(struct portald *d, struct storage_conn *sc, const struct peer *peer,
			  const struct proto_msg *req, struct proto_buf *resp);

#endif
