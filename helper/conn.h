/*
 * conn.h - the connections, on the main thread: accepting them within the
 * limits, reading requests without blocking, answering the quick ones on
 * the spot and handing the others to a worker or the look-up thread.
 */
#ifndef PORTAL_CONN_H
#define PORTAL_CONN_H

#include "proto.h"
#include "server.h"

/* A response frame carrying only a result. */
void build_result(struct proto_buf *b, enum proto_result r);
/* One send of a short answer that never waits; false when it did not fit. */
bool conn_send_short(struct conn *c, const struct proto_buf *resp);
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

#endif
