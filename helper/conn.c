/*
 * conn.c - the connections, on the main thread: accepting them within
 * the limits, reading requests without blocking, answering the quick ones
 * on the spot and handing the others to a worker (or, a quick one that
 * finds the store lock held, to the look-up thread).  See server.h.
 */
#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "clock.h"
#include "log.h"

#define FRAME_TIMEOUT_MS   10000  /* a frame must be in 10 s after its first byte */
#define IDLE_TIMEOUT_MS    30000
#define ACCEPT_BURST       64     /* accepts per wake-up, so the rest gets a turn */
#define PAUSE_MS           1000   /* stop accepting this long when out of fds */
#define REFUSED_LOG_MS     60000  /* at most one "refused" line a minute */

/* ---- answers ------------------------------------------------------------- */

void build_result(struct proto_buf *b, enum proto_result r)
{
	proto_begin(b, PROTO_RESPONSE);
	proto_put_u32(b, TAG_RESULT, r);
	proto_finish(b);
}

/* Main thread: one try, never waiting; the caller then closes.  Used when
 * the connection is refused or its stream can no longer be trusted. */
static void answer_now(struct server *s, int fd, enum proto_result r)
{
	build_result(s->reply, r);
	(void)!send(fd, s->reply->data, s->reply->len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* A short answer (a status look-up's: a few hundred bytes) into a socket
 * whose buffer is empty unless the client leaves its answers unread, so
 * one send that never waits; false when it did not fit, and the caller
 * closes rather than let such a client stall the thread that answers. */
bool conn_send_short(struct conn *c, const struct proto_buf *resp)
{
	ssize_t w = send(c->fd, resp->data, resp->len, MSG_DONTWAIT | MSG_NOSIGNAL);

	return w >= 0 && (size_t)w == resp->len;
}

/* The answer is sent: both the request and the answer may have carried a
 * password, a code or a reset ticket. */
void conn_answered(struct conn *c, struct proto_buf *resp)
{
	proto_wipe(resp);
	sodium_memzero(c->frame, c->size);
	free(c->frame);
	c->frame = NULL;
	c->size = 0;
	c->got = 0;
}

/* ---- connections (main thread) ------------------------------------------- */

static unsigned conns_of_uid(const struct server *s, uid_t uid)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->top; i++)
		if (s->slot[i] && s->slot[i]->peer.uid == uid)
			n++;
	return n;
}

void conn_close(struct server *s, struct conn *c)
{
	close(c->fd);
	if (c->frame) {
		sodium_memzero(c->frame, c->size);
		free(c->frame);
	}
	s->slot[c->slot] = NULL;
	s->nconns--;
	if (!c->privileged)
		s->nothers--;
	while (s->top > 0 && !s->slot[s->top - 1])
		s->top--;
	free(c);
}

/* Wait for the next request on c. */
static int conn_watch(struct server *s, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	c->state = CONN_READING;
	c->deadline = clock_ms() + IDLE_TIMEOUT_MS;
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Too many connections, from everyone or from this caller: say so and
 * close.  Logged at most once a minute so a flood does not flood the log. */
static void refuse_busy(struct server *s, int fd, uid_t uid)
{
	long long now = clock_ms();

	answer_now(s, fd, RESULT_BUSY);
	close(fd);
	s->refused++;
	if (now - s->refused_logged >= REFUSED_LOG_MS || s->refused_logged == 0) {
		log_msg(LOG_WARNING, "too many connections (last from uid %u): refused %lu "
			"(limits: %d in all, %d per user and %d in all for users other than "
			"root and portald's own)", (unsigned)uid, s->refused,
			MAX_CONNS, MAX_CONNS_PER_UID, MAX_CONNS_OTHERS);
		s->refused = 0;
		s->refused_logged = now;
	}
}

/* Room for one more connection of uid?  Root's sign-ins (sshd, login,
 * su) keep theirs whatever the others hold: they are capped per uid and
 * all together well below the whole (server.h). */
static bool room_for(const struct server *s, uid_t uid, bool privileged)
{
	if (s->nconns >= MAX_CONNS)
		return false;
	return privileged ||
	       (s->nothers < MAX_CONNS_OTHERS && conns_of_uid(s, uid) < MAX_CONNS_PER_UID);
}

static void conn_open(struct server *s, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	struct conn *c;
	bool privileged;
	unsigned i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		log_msg(LOG_ERR, "SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	privileged = peer_privileged(cr.uid);
	if (!room_for(s, cr.uid, privileged)) {
		refuse_busy(s, fd, cr.uid);
		return;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		answer_now(s, fd, RESULT_INTERNAL);
		close(fd);
		return;
	}
	for (i = 0; s->slot[i]; i++)
		;
	c->fd = fd;
	c->slot = i;
	c->peer.uid = cr.uid;
	c->peer.gid = cr.gid;
	c->peer.pid = cr.pid;
	c->privileged = privileged;
	s->slot[i] = c;
	s->nconns++;
	if (!privileged)
		s->nothers++;
	if (i >= s->top)
		s->top = i + 1;
	if (conn_watch(s, c) < 0) {
		log_msg(LOG_ERR, "epoll_ctl: %s", strerror(errno));
		conn_close(s, c);
		return;
	}
	/* A client writes its request as soon as it is connected: it is
	 * usually there already, a trip through epoll_wait saved. */
	conn_read(s, c);
}

/* Out of file descriptors: the listener would wake us for nothing until
 * one is free, so stop watching it for a moment. */
static void pause_listener(struct server *s)
{
	struct epoll_event ev = { .events = 0, .data.ptr = &s->lfd };

	log_msg(LOG_WARNING, "accept: %s; not accepting for a second", strerror(errno));
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->lfd, &ev);
	s->paused_until = clock_ms() + PAUSE_MS;
}

static void resume_listener(struct server *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->lfd };

	epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->lfd, &ev);
	s->paused_until = 0;
}

void conns_accept(struct server *s)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			conn_open(s, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			pause_listener(s);
		else if (errno != EAGAIN)
			log_msg(LOG_ERR, "accept: %s", strerror(errno));
		return;
	}
}

/* A whole frame is in: the thread of that lane takes it from here. */
static void conn_submit(struct server *s, struct conn *c, struct lane *l)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	c->state = CONN_WORKING;
	pthread_mutex_lock(&l->mu);
	queue_push(&l->q, c);
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

/* Main thread: a quick request answered on the spot (dispatch_quick),
 * the connection still watched for its next request; or the lane whose
 * thread is to answer it. */
static struct lane *answer_here(struct server *s, struct conn *c)
{
	enum quick q;
	bool sent;

	/* A malformed one is answered and logged by a worker, as any other. */
	if (!proto_parse(c->frame, c->size, s->msg))
		return &s->work;
	q = dispatch_quick(s->d, s->sc, &c->peer, s->msg, s->reply);
	if (q != QUICK_ANSWERED)
		return q == QUICK_LOCK_HELD ? &s->lookups : &s->work;
	sent = conn_send_short(c, s->reply);
	conn_answered(c, s->reply);
	if (sent)
		c->deadline = clock_ms() + IDLE_TIMEOUT_MS;
	else
		conn_close(s, c);
	return NULL;
}

/* A whole request is in.  A caller other than root is named first, and
 * naming may wait on NSS (LDAP, say): a worker does that, once. */
static void conn_ready(struct server *s, struct conn *c)
{
	struct lane *l = c->peer.uid != 0 && !c->named ? &s->work : answer_here(s, c);

	if (l)
		conn_submit(s, c, l);
}

/* The header is in: check it and make room for the frame.  False when the
 * connection was closed. */
static bool conn_sized(struct server *s, struct conn *c)
{
	size_t size = proto_frame_size(c->head);

	if (size == 0) {
		log_msg(LOG_NOTICE, "bad frame header from uid %u pid %ld",
			(unsigned)c->peer.uid, (long)c->peer.pid);
		answer_now(s, c->fd, RESULT_BAD_REQUEST);
		conn_close(s, c);
		return false;
	}
	c->frame = malloc(size);
	if (!c->frame) {
		log_msg(LOG_ERR, "out of memory for a %zu-byte request", size);
		answer_now(s, c->fd, RESULT_INTERNAL);
		conn_close(s, c);
		return false;
	}
	memcpy(c->frame, c->head, PROTO_HEADER);
	c->size = size;
	return true;
}

/* Read what is there, never more than the current frame: a pipelined next
 * request stays in the socket until this one is answered. */
void conn_read(struct server *s, struct conn *c)
{
	for (;;) {
		uint8_t *dst = c->size ? c->frame : c->head;
		size_t want = (c->size ? c->size : PROTO_HEADER) - c->got;
		ssize_t r;

		if (c->size && want == 0) {
			conn_ready(s, c);
			return;
		}
		r = read(c->fd, dst + c->got, want);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			conn_close(s, c);
			return;
		}
		if (c->got == 0 && !c->size)
			c->deadline = clock_ms() + FRAME_TIMEOUT_MS;
		c->got += (size_t)r;
		if (!c->size && c->got == PROTO_HEADER && !conn_sized(s, c))
			return;
	}
}

/* Close connections past their deadline; return epoll_wait's timeout. */
int conns_expire(struct server *s)
{
	long long now = clock_ms();
	long long next = s->paused_until;

	if (next && next <= now) {
		resume_listener(s);
		next = 0;
	}
	for (unsigned i = 0; i < s->top; i++) {
		struct conn *c = s->slot[i];

		if (!c || c->state != CONN_READING)
			continue;
		if (c->deadline <= now) {
			if (c->got)
				log_msg(LOG_NOTICE, "request from uid %u pid %ld not complete in %d s; "
					"closing", (unsigned)c->peer.uid, (long)c->peer.pid,
					FRAME_TIMEOUT_MS / 1000);
			conn_close(s, c);
			continue;
		}
		if (!next || c->deadline < next)
			next = c->deadline;
	}
	return next ? (int)(next - now) : -1;
}

/* Connections the workers are done with: watch them again or close them
 * (all of them once stopping). */
void conns_take_back(struct server *s)
{
	uint64_t n;
	struct conn *c;

	(void)!read(s->wakefd, &n, sizeof n);
	pthread_mutex_lock(&s->done_mu);
	while ((c = queue_pop(&s->done))) {
		pthread_mutex_unlock(&s->done_mu);
		if (!c->keep || s->work.stopping || conn_watch(s, c) < 0)
			conn_close(s, c);
		pthread_mutex_lock(&s->done_mu);
	}
	pthread_mutex_unlock(&s->done_mu);
}
