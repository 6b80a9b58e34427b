/*
 * portald.c - the helper daemon: start-up, the socket, the event loop, the
 * worker threads and signals.  What a request means is dispatch.c's business.
 *
 * portald never forks into the background: a service manager (systemd
 * Type=simple) or a shell runs it as it is.  -f only sends the log to
 * stderr instead of syslog.  -t checks the configuration and the files it
 * names as the start would, and stops there (sshd -t).
 *
 * Threads: the main thread owns every connection while it is waiting for a
 * request.  It reads without blocking until a whole frame is in.  A quick
 * request (dispatch_quick: the status look-up every sign-in makes) it
 * answers itself; any other it hands to a worker through the work queue;
 * the worker answers (dispatch may hash a password, which takes a while)
 * and gives the connection back through the done queue and an eventfd.
 * So a client that sends slowly, or never, costs a slot and nothing else,
 * and the look-ups do not queue behind the password checks.
 *
 * Privileges: portald needs root only to open what root owns (the socket's
 * directory, the database, the key file, the SMTP password file).  Started
 * as root it opens them, then becomes the account of `user` (portald when
 * that system account exists) for good; started by a service manager as
 * that account, it has nothing to give up.
 */
#include "portald.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>
#include <sodium.h>
#include "log.h"

/* 200 people signing in at the same second hold a connection each while
 * their password waits for a hash slot, and the one of their status
 * look-up may not be closed yet: room for twice that. */
#define MAX_CONNS          512
#define MAX_CONNS_PER_UID  32     /* for callers other than root */
#define FRAME_TIMEOUT_MS   10000  /* a frame must be in 10 s after its first byte */
#define IDLE_TIMEOUT_MS    30000
#define WRITE_TIMEOUT_MS   5000
#define LISTEN_BACKLOG     128
#define ACCEPT_BURST       64     /* accepts per wake-up, so the rest gets a turn */
#define PAUSE_MS           1000   /* stop accepting this long when out of fds */
#define REFUSED_LOG_MS     60000  /* at most one "refused" line a minute */

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

/* The account portald runs as once root's work is done. */
struct runas {
	uid_t uid;
	gid_t gid;
	bool drop;         /* started as root: become uid/gid after opening files */
	bool root_kept;    /* started as root with no account to become */
	char name[sizeof ((struct portal_config *)0)->user];
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

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- queues --------------------------------------------------------------- */

static void queue_push(struct queue *q, struct conn *c)
{
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
}

static struct conn *queue_pop(struct queue *q)
{
	struct conn *c = q->head;

	if (c) {
		q->head = c->next;
		if (!q->head)
			q->tail = NULL;
	}
	return c;
}

/* ---- answers ------------------------------------------------------------- */

static void build_result(struct proto_buf *b, enum proto_result r)
{
	proto_begin(b, PROTO_RESPONSE);
	proto_put_u32(b, F_RESULT, r);
	proto_finish(b);
}

/* Main thread: one try, never waiting; the caller then closes.  Used when
 * the connection is refused or its stream can no longer be trusted. */
static void answer_now(struct server *s, int fd, enum proto_result r)
{
	build_result(s->reply, r);
	(void)!send(fd, s->reply->data, s->reply->len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* The answer is sent: both the request and the answer may have carried a
 * password, a code or a reset ticket. */
static void conn_answered(struct conn *c, struct proto_buf *resp)
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

static void conn_close(struct server *s, struct conn *c)
{
	close(c->fd);
	if (c->frame) {
		sodium_memzero(c->frame, c->size);
		free(c->frame);
	}
	s->slot[c->slot] = NULL;
	s->nconns--;
	while (s->top > 0 && !s->slot[s->top - 1])
		s->top--;
	free(c);
}

/* Wait for the next request on c. */
static int conn_watch(struct server *s, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	c->state = CONN_READING;
	c->deadline = now_ms() + IDLE_TIMEOUT_MS;
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Too many connections, from everyone or from this caller: say so and
 * close.  Logged at most once a minute so a flood does not flood the log. */
static void refuse_busy(struct server *s, int fd, uid_t uid)
{
	long long now = now_ms();

	answer_now(s, fd, R_BUSY);
	close(fd);
	s->refused++;
	if (now - s->refused_logged >= REFUSED_LOG_MS || s->refused_logged == 0) {
		log_msg(LOG_WARNING, "too many connections (last from uid %u): refused %lu "
			"(limits: %d in all, %d per user)", (unsigned)uid, s->refused,
			MAX_CONNS, MAX_CONNS_PER_UID);
		s->refused = 0;
		s->refused_logged = now;
	}
}

static void conn_read(struct server *s, struct conn *c);

static void conn_open(struct server *s, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	struct conn *c;
	unsigned i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		log_msg(LOG_ERR, "SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	/* Root (sshd, login) keeps room even when one user opens many. */
	if (s->nconns >= MAX_CONNS ||
	    (cr.uid != 0 && conns_of_uid(s, cr.uid) >= MAX_CONNS_PER_UID)) {
		refuse_busy(s, fd, cr.uid);
		return;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		answer_now(s, fd, R_INTERNAL);
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
	s->slot[i] = c;
	s->nconns++;
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
	s->paused_until = now_ms() + PAUSE_MS;
}

static void resume_listener(struct server *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->lfd };

	epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->lfd, &ev);
	s->paused_until = 0;
}

static void accept_some(struct server *s)
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

/* A whole frame is in: a worker takes it from here. */
static void conn_submit(struct server *s, struct conn *c)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	c->state = CONN_WORKING;
	pthread_mutex_lock(&s->work_mu);
	queue_push(&s->work, c);
	pthread_cond_signal(&s->work_cv);
	pthread_mutex_unlock(&s->work_mu);
}

/* Main thread: a quick request answered on the spot (dispatch_quick);
 * false when it is a worker's to answer.  The answer is a few hundred
 * bytes into a socket whose buffer is empty unless the client leaves its
 * answers unread, so one send that never waits; a client it does not fit
 * is closed rather than allowed to stall the loop.  The connection stays
 * watched for its next request. */
static bool answer_here(struct server *s, struct conn *c)
{
	ssize_t w;
	bool sent;

	/* A malformed one is answered and logged by a worker, as any other. */
	if (!proto_parse(c->frame, c->size, s->msg) ||
	    !dispatch_quick(s->d, &c->peer, s->msg, s->reply))
		return false;
	w = send(c->fd, s->reply->data, s->reply->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	sent = w >= 0 && (size_t)w == s->reply->len;
	conn_answered(c, s->reply);
	if (sent)
		c->deadline = now_ms() + IDLE_TIMEOUT_MS;
	else
		conn_close(s, c);
	return true;
}

/* A whole request is in.  A caller other than root is named first, and
 * naming may wait on NSS (LDAP, say): a worker does that, once. */
static void conn_ready(struct server *s, struct conn *c)
{
	if ((c->peer.uid != 0 && !c->named) || !answer_here(s, c))
		conn_submit(s, c);
}

/* The header is in: check it and make room for the frame.  False when the
 * connection was closed. */
static bool conn_sized(struct server *s, struct conn *c)
{
	size_t size = proto_frame_size(c->head);

	if (size == 0) {
		log_msg(LOG_NOTICE, "bad frame header from uid %u pid %ld",
			(unsigned)c->peer.uid, (long)c->peer.pid);
		answer_now(s, c->fd, R_BAD_REQUEST);
		conn_close(s, c);
		return false;
	}
	c->frame = malloc(size);
	if (!c->frame) {
		log_msg(LOG_ERR, "out of memory for a %zu-byte request", size);
		answer_now(s, c->fd, R_INTERNAL);
		conn_close(s, c);
		return false;
	}
	memcpy(c->frame, c->head, PROTO_HEADER);
	c->size = size;
	return true;
}

/* Read what is there, never more than the current frame: a pipelined next
 * request stays in the socket until this one is answered. */
static void conn_read(struct server *s, struct conn *c)
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
			c->deadline = now_ms() + FRAME_TIMEOUT_MS;
		c->got += (size_t)r;
		if (!c->size && c->got == PROTO_HEADER && !conn_sized(s, c))
			return;
	}
}

/* Close connections past their deadline; return epoll_wait's timeout. */
static int expire(struct server *s)
{
	long long now = now_ms();
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
static void take_back(struct server *s)
{
	uint64_t n;
	struct conn *c;

	(void)!read(s->wakefd, &n, sizeof n);
	pthread_mutex_lock(&s->done_mu);
	while ((c = queue_pop(&s->done))) {
		pthread_mutex_unlock(&s->done_mu);
		if (!c->keep || s->stopping || conn_watch(s, c) < 0)
			conn_close(s, c);
		pthread_mutex_lock(&s->done_mu);
	}
	pthread_mutex_unlock(&s->done_mu);
}

/* ---- workers ------------------------------------------------------------- */

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

/* Answer c. */
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
		build_result(resp, R_BAD_REQUEST);
		c->keep = false;     /* the stream can no longer be trusted */
	} else {
		mail = dispatch(w->srv->d, &c->peer, w->msg, resp);
	}
	if (proto_write_frame(c->fd, resp, WRITE_TIMEOUT_MS) < 0)
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

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *s = w->srv;

	for (;;) {
		struct conn *c;

		pthread_mutex_lock(&s->work_mu);
		while (!s->work.head && !s->stopping)
			pthread_cond_wait(&s->work_cv, &s->work_mu);
		c = queue_pop(&s->work);
		pthread_mutex_unlock(&s->work_mu);
		if (!c)
			return NULL;     /* stopping, and nothing left to answer */
		serve(w, c);
		give_back(s, c);
	}
}

static unsigned cpu_count(void)
{
	cpu_set_t set;
	long n;

	/* The CPUs we may run on, which a cgroup or taskset may have narrowed. */
	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

static int workers_start(struct server *s, unsigned n, char *err, size_t errlen)
{
	int e;

	s->workers = calloc(n, sizeof *s->workers);
	if (!s->workers) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->nworkers = n;
	for (unsigned i = 0; i < n; i++) {
		struct worker *w = &s->workers[i];

		w->srv = s;
		w->resp = malloc(sizeof *w->resp);
		w->msg = malloc(sizeof *w->msg);
		if (!w->resp || !w->msg) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		w->resp->len = 0;
		e = pthread_create(&w->tid, NULL, worker_main, w);
		if (e) {
			snprintf(err, errlen, "pthread_create: %s", strerror(e));
			return -1;
		}
		s->nstarted++;
	}
	return 0;
}

/* Let the workers answer what is queued, then end them. */
static void workers_stop(struct server *s)
{
	pthread_mutex_lock(&s->work_mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->work_cv);
	pthread_mutex_unlock(&s->work_mu);
	for (unsigned i = 0; i < s->nstarted; i++)
		pthread_join(s->workers[i].tid, NULL);
	for (unsigned i = 0; i < s->nworkers; i++) {
		free(s->workers[i].resp);
		free(s->workers[i].msg);
	}
	free(s->workers);
	s->workers = NULL;
	s->nstarted = s->nworkers = 0;
}

/* ---- the listening socket -------------------------------------------------- */

/* A socket directory that is there must be a directory.  Clients refuse a
 * socket in a directory others can write, so say so here already. */
static int socket_dir_check(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	const char *why = stat(dir, &st) < 0 ? strerror(errno) :
			  !S_ISDIR(st.st_mode) ? "not a directory" : NULL;

	if (why) {
		snprintf(err, errlen, "socket directory %s: %s", dir, why);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		log_msg(LOG_WARNING, "socket directory %s is writable by others: clients "
			"will not trust the socket", dir);
	return 0;
}

/* The socket's directory: made (0755, so that every user can reach the
 * socket) when only its last component is missing. */
static int socket_dir(const char *path, const struct runas *as, char *err, size_t errlen)
{
	char copy[sizeof ((struct sockaddr_un *)0)->sun_path];
	const char *dir;

	snprintf(copy, sizeof copy, "%s", path);
	dir = dirname(copy);
	if (mkdir(dir, 0755) == 0) {
		/* mkdir applied our umask (077). */
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		/* Ours to give: the account we become removes its socket on stop. */
		if (fd < 0 || fchmod(fd, 0755) < 0 || (as->drop && fchown(fd, as->uid, as->gid) < 0)) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		log_msg(LOG_INFO, "made the socket directory %s", dir);
		return 0;
	}
	if (errno != EEXIST) {
		snprintf(err, errlen, "socket directory %s: %s", dir, strerror(errno));
		return -1;
	}
	return socket_dir_check(dir, err, errlen);
}

/* What is at the socket's path: 0 nothing, 1 a socket, -1 (with err)
 * something portald must not replace. */
static int socket_path(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket; not replacing it", path);
		return -1;
	}
	return 1;
}

/* A socket left by a portald that died is removed; one that answers means
 * portald is running already; anything else at the path is not ours. */
static int clear_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	int fd, r, e = socket_path(sa->sun_path, err, errlen);

	if (e <= 0)
		return e;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	r = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN) {
		snprintf(err, errlen, "portald is already running on %s", sa->sun_path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "%s: %s", sa->sun_path, strerror(e));
		return -1;
	}
	if (unlink(sa->sun_path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "removing stale %s: %s", sa->sun_path, strerror(errno));
		return -1;
	}
	log_msg(LOG_INFO, "removed the stale socket %s", sa->sun_path);
	return 0;
}

static int listener_open(struct server *s, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (socket_dir(path, &s->as, err, errlen) < 0 || clear_stale(&sa, err, errlen) < 0)
		return -1;

	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->lfd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(s->lfd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		return -1;
	}
	s->sock_made = true;
	/* Anyone may connect; what they may do is decided per request from
	 * SO_PEERCRED.  The socket belongs to the account portald runs as,
	 * which clients accept (and root, which listens, is their peer). */
	if (chmod(path, 0666) < 0 || listen(s->lfd, LISTEN_BACKLOG) < 0 ||
	    (s->as.drop && fchownat(AT_FDCWD, path, s->as.uid, s->as.gid, AT_SYMLINK_NOFOLLOW) < 0)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- signals --------------------------------------------------------------- */

static int signals_block(struct server *s, char *err, size_t errlen)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigset_t set;
	int e;

	sigaction(SIGPIPE, &ign, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Before any thread exists, so every thread inherits the mask and
	 * the signals only arrive through the signalfd. */
	e = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (e) {
		snprintf(err, errlen, "pthread_sigmask: %s", strerror(e));
		return -1;
	}
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sigfd < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* A setting only a restart can change: keep the one in force. */
static void keep_setting(const char *key, char *fresh, const char *now, size_t size)
{
	if (strcmp(fresh, now) == 0)
		return;
	log_msg(LOG_WARNING, "reload: %s changed to %s; still using %s until portald is "
		"restarted", key, fresh[0] ? fresh : "(default)", now[0] ? now : "(default)");
	snprintf(fresh, size, "%s", now);
}

/* SIGHUP: read the file again.  A broken file changes nothing; the socket,
 * the database and the account are taken once, so changing them needs a
 * restart. */
static void reload(struct server *s)
{
	struct portald *d = s->d;
	struct portal_config fresh;
	char err[512];

	config_defaults(&fresh);
	if (config_load(s->config_path, &fresh, err, sizeof err) < 0) {
		log_msg(LOG_ERR, "reload: %s; keeping the configuration in force", err);
		return;
	}
	keep_setting("socket", fresh.socket, d->cfg.socket, sizeof fresh.socket);
	keep_setting("database", fresh.database, d->cfg.database, sizeof fresh.database);
	keep_setting("user", fresh.user, d->cfg.user, sizeof fresh.user);
	pthread_rwlock_wrlock(&d->cfg_lock);
	d->cfg = fresh;
	pthread_rwlock_unlock(&d->cfg_lock);
	if (outbox_reconfigure(d->outbox, &fresh, err, sizeof err) < 0)
		log_msg(LOG_ERR, "reload: mail settings not applied: %s", err);
	log_msg(LOG_INFO, "configuration reloaded from %s", s->config_path);
}

/* Read pending signals; true when one asks us to stop. */
static bool on_signals(struct server *s)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			reload(s);
		} else {
			log_msg(LOG_INFO, "SIG%s from pid %ld: stopping",
				sigabbrev_np((int)si.ssi_signo), (long)si.ssi_pid);
			stop = true;
		}
	}
	return stop;
}

/* ---- the loop -------------------------------------------------------------- */

/* An event source other than a connection is told apart by the address of
 * its own fd field in s. */
static int loop_add(struct server *s, int *fdp)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = fdp };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, *fdp, &ev);
}

/* Serve until a signal says stop (0) or epoll fails (-1). */
static int loop_run(struct server *s)
{
	struct epoll_event ev[64];

	for (;;) {
		int n = epoll_wait(s->epfd, ev, 64, expire(s));
		bool incoming = false;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_CRIT, "epoll_wait: %s", strerror(errno));
			return -1;
		}
		/* New connections last: the ones that ended meanwhile are closed
		 * first, so they are not counted against the cap. */
		for (int i = 0; i < n; i++) {
			void *src = ev[i].data.ptr;

			if (src == &s->lfd)
				incoming = true;
			else if (src == &s->wakefd)
				take_back(s);
			else if (src == &s->sigfd) {
				if (on_signals(s))
					return 0;
			} else
				conn_read(s, src);
		}
		if (incoming)
			accept_some(s);
	}
}

/* ---- privileges ---------------------------------------------------------------- */

/* Whom to become.  `user` set: that account, which must exist; started by
 * anyone but root, portald must already be it.  `user` unset: portald
 * when that system account exists, else root stays root (and says so). */
static int runas_resolve(const struct portal_config *cfg, struct runas *as,
			 char *err, size_t errlen)
{
	const char *name = cfg->user[0] ? cfg->user : PORTAL_DEFAULT_USER;
	struct passwd pw, *res = NULL;
	char buf[4096];
	int e = getpwnam_r(name, &pw, buf, sizeof buf, &res);

	snprintf(as->name, sizeof as->name, "%s", name);
	as->uid = geteuid();
	as->gid = getegid();
	if (as->uid != 0) {
		if (cfg->user[0] && (!res || res->pw_uid != as->uid)) {
			snprintf(err, errlen, "user = %s, but portald was started as uid %u: "
				 "start it as root or as %s", name, (unsigned)as->uid, name);
			return -1;
		}
		return 0;
	}
	if (!res && cfg->user[0]) {
		snprintf(err, errlen, "user = %s: %s", name,
			 e ? strerror(e) : "no such account (useradd --system it, or set "
			 "user = root to keep running as root)");
		return -1;
	}
	as->root_kept = !res;
	if (res && res->pw_uid != 0) {
		as->uid = res->pw_uid;
		as->gid = res->pw_gid;
		as->drop = true;
	}
	return 0;
}

/* Become the account for good: groups, then gid, then uid, and check that
 * root cannot be had back.  A change of uid resets the dumpable flag to
 * the system's default, so core dumps are turned off again. */
static int runas_drop(const struct runas *as, char *err, size_t errlen)
{
	if (as->drop &&
	    (setgroups(1, &as->gid) < 0 || setresgid(as->gid, as->gid, as->gid) < 0 ||
	     setresuid(as->uid, as->uid, as->uid) < 0)) {
		snprintf(err, errlen, "becoming %s (uid %u): %s", as->name, (unsigned)as->uid,
			 strerror(errno));
		return -1;
	}
	if (as->drop && setuid(0) == 0) {
		snprintf(err, errlen, "becoming %s: root could be had back", as->name);
		return -1;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		snprintf(err, errlen, "disabling core dumps: %s", strerror(errno));
		return -1;
	}
	if (as->drop)
		log_msg(LOG_INFO, "running as %s (uid %u)", as->name, (unsigned)as->uid);
	else if (as->root_kept)
		log_msg(LOG_WARNING, "running as root: there is no system account %s to run as "
			"(useradd --system --home-dir /var/lib/portald --shell /usr/sbin/nologin %s), "
			"and no user = in the configuration", as->name, as->name);
	return 0;
}

/* ---- start and stop ---------------------------------------------------------- */

/* Can portald, as it is now, make files in dir?  NULL, or why not. */
static const char *folder_problem(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return strerror(errno);
	if (!S_ISDIR(st.st_mode))
		return "not a directory";
	return faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0 ? strerror(errno) : NULL;
}

/* The database and its key as keys_load_owned and store_open_owned will
 * find them, before they open (or make) them: what is missing is made, in
 * a folder that must be there and that portald, as it is now, can make
 * files in.  A database without its key is worth a word: a new key makes
 * its live codes and queued mail unreadable. */
static int files_check(const struct portal_config *cfg, const struct runas *as, char *err,
		       size_t errlen)
{
	int db = store_check(cfg->database, as->uid, err, errlen), key;
	char copy[sizeof cfg->database];
	const char *dir, *why;

	if (db < 0 || (key = keys_check(cfg->database, as->uid, err, errlen)) < 0)
		return -1;
	snprintf(copy, sizeof copy, "%s", cfg->database);
	dir = dirname(copy);
	if ((db == 1 || key == 1) && (why = folder_problem(dir)) != NULL) {
		snprintf(err, errlen, "database folder %s: %s", dir, why);
		return -1;
	}
	if (db == 0 && key == 1)
		log_msg(LOG_WARNING, "%s has no key file beside it: with a new key, the live "
			"codes and queued mail in the database cannot be read", cfg->database);
	return 0;
}

static int harden(char *err, size_t errlen)
{
	const struct rlimit none = { 0, 0 };

	/* A core file would hold codes, passwords and the keys. */
	if (setrlimit(RLIMIT_CORE, &none) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		snprintf(err, errlen, "disabling core dumps: %s", strerror(errno));
		return -1;
	}
	/* portald runs no program; should anything make it, nothing it runs
	 * gains privileges.  Before any thread: the flag is per thread. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		return -1;
	}
	umask(077);
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium could not be initialised");
		return -1;
	}
	return 0;
}

static int server_start(struct server *s, char *err, size_t errlen)
{
	struct portald *d = s->d;
	unsigned ncpu = cpu_count();
	int e;

	if (harden(err, errlen) < 0 || signals_block(s, err, errlen) < 0 ||
	    runas_resolve(&d->cfg, &s->as, err, errlen) < 0)
		return -1;
	/* The socket first: a second portald stops here, before it touches
	 * the database.  Early clients wait in the backlog. */
	if (listener_open(s, d->cfg.socket, err, errlen) < 0)
		return -1;
	if (sem_init(&d->hash_slots, 0, ncpu) < 0) {
		snprintf(err, errlen, "sem_init: %s", strerror(errno));
		return -1;
	}
	e = pthread_rwlock_init(&d->cfg_lock, NULL);
	if (e) {
		snprintf(err, errlen, "pthread_rwlock_init: %s", strerror(e));
		return -1;
	}
	if (files_check(&d->cfg, &s->as, err, errlen) < 0)
		return -1;
	d->keys = keys_load_owned(d->cfg.database, s->as.uid, s->as.gid, err, errlen);
	if (!d->keys ||
	    store_open_owned(&d->store, d->cfg.database, s->as.uid, s->as.gid, err, errlen) < 0)
		return -1;
	/* Reads the SMTP password file: the last thing root is needed for. */
	d->outbox = outbox_start(d->store, d->keys, &d->cfg, s->as.uid, err, errlen);
	if (!d->outbox || runas_drop(&s->as, err, errlen) < 0)
		return -1;
	d->started = time(NULL);

	s->reply = malloc(sizeof *s->reply);
	s->msg = malloc(sizeof *s->msg);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!s->reply || !s->msg || s->epfd < 0 || s->wakefd < 0 ||
	    loop_add(s, &s->lfd) < 0 || loop_add(s, &s->sigfd) < 0 || loop_add(s, &s->wakefd) < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		return -1;
	}
	return workers_start(s, ncpu * 2 > 4 ? ncpu * 2 : 4, err, errlen);
}

/* Undo whatever server_start got done, in reverse order.  In-flight
 * requests are answered; connections waiting for one are closed. */
static void server_stop(struct server *s)
{
	struct portald *d = s->d;

	/* Unlink while still bound: nobody else can have replaced it yet. */
	if (s->sock_made)
		unlink(d->cfg.socket);
	if (s->lfd >= 0)
		close(s->lfd);
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (s->slot[i] && s->slot[i]->state == CONN_READING)
			conn_close(s, s->slot[i]);
	if (s->workers) {
		workers_stop(s);
		take_back(s);
	}
	if (d->outbox)
		outbox_stop(d->outbox);
	if (d->store)
		store_close(d->store);
	if (d->keys)
		keys_free(d->keys);
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (s->slot[i])
			conn_close(s, s->slot[i]);
	free(s->reply);
	free(s->msg);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->wakefd >= 0)
		close(s->wakefd);
	if (s->sigfd >= 0)
		close(s->sigfd);
}

/* ---- portald -t ------------------------------------------------------------- */

/* The socket as listener_open will find it: its directory there, and one
 * portald can make the socket in, or only its last component missing
 * (listener_open makes that one); nothing but a socket at its path.  A
 * portald already running there is no mistake here. */
static int socket_check(const char *path, char *err, size_t errlen)
{
	char copy[sizeof ((struct sockaddr_un *)0)->sun_path], parent[sizeof copy];
	const char *dir, *why;
	struct stat st;

	snprintf(copy, sizeof copy, "%s", path);
	dir = dirname(copy);
	if (stat(dir, &st) == 0 || errno != ENOENT) {
		if (socket_dir_check(dir, err, errlen) < 0)
			return -1;
		why = folder_problem(dir);
	} else {
		snprintf(parent, sizeof parent, "%s", dir);
		why = (stat(dirname(parent), &st) < 0 || !S_ISDIR(st.st_mode)) ? strerror(ENOENT) :
		      NULL;
	}
	if (why) {
		snprintf(err, errlen, "socket directory %s: %s", dir, why);
		return -1;
	}
	return socket_path(path, err, errlen) < 0 ? -1 : 0;
}

/* What the start would find wrong, found without starting: no socket, no
 * thread, nothing made or changed.  0 when portald could start. */
static int test_start(struct server *s, char *err, size_t errlen)
{
	const struct portal_config *cfg = &s->d->cfg;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium could not be initialised");
		return -1;
	}
	return runas_resolve(cfg, &s->as, err, errlen) < 0 ||
	       socket_check(cfg->socket, err, errlen) < 0 ||
	       files_check(cfg, &s->as, err, errlen) < 0 ||
	       outbox_check(cfg, s->as.uid, err, errlen) < 0 ? -1 : 0;
}

/* ---- the command line -------------------------------------------------------- */

static const struct i18n_text msg_help = I18N(
	"Usage: portald [-c FILE] [-f] [-t]\n"
	"The helper of pam_portal: it keeps the members, their codes and\n"
	"passwords, and sends the mail, behind a UNIX socket.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   configuration file (default %s)\n"
	"  -f, --foreground    log to standard error instead of syslog\n"
	"  -t, --test          check the configuration and the files it names,\n"
	"                      then exit: 0 if portald could start, 1 and why not\n"
	"  -h, --help          show this help\n"
	"  -V, --version       show the version\n"
	"\n"
	"Exit status: 0 after a clean stop, 1 on an error, 2 on bad usage.\n");
static const struct i18n_text msg_unexpected = I18N(
	"unexpected argument: %s");
static const struct i18n_text msg_try_help_portald = I18N(
	"Try 'portald --help'.\n");

/* A message in language l on out; its formats take the same arguments in
 * both languages (tests/test_i18n_po.py). */
static void say(FILE *out, enum lang l, const struct i18n_text *t, ...)
{
	va_list ap;

	va_start(ap, t);
	vfprintf(out, i18n(l, t), ap);
	va_end(ap);
}

/* A usage mistake: "portald: what", a hint to --help, exit status 2. */
static int usage_error(enum lang l, const struct i18n_text *t, const char *arg)
{
	fputs("portald: ", stderr);
	say(stderr, l, t, arg);
	fputc('\n', stderr);
	say(stderr, l, &msg_try_help_portald);
	return 2;
}

struct options {
	const char *config_path;
	bool foreground, test;
};

/* -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "test", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	enum lang l = lang_of_environment();
	int opt;

	opterr = 0;   /* our own messages, in the right language */
	while ((opt = getopt_long(argc, argv, ":c:fthV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->config_path = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 't':
			o->test = true;
			break;
		case 'h':
			say(stdout, l, &msg_help, PORTAL_DEFAULT_CONFIG);
			return 0;
		case 'V':
			printf("portald %s\n", PORTAL_VERSION);
			return 0;
		case ':':
			return usage_error(l, &i18n_missing_value, argv[optind - 1]);
		default:
			return usage_error(l, &i18n_unknown_option, argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_error(l, &msg_unexpected, argv[optind]);
	return -1;
}

int main(int argc, char **argv)
{
	static struct portald d;
	static struct server s = { .d = &d, .epfd = -1, .lfd = -1, .sigfd = -1, .wakefd = -1,
				   .work_mu = PTHREAD_MUTEX_INITIALIZER,
				   .work_cv = PTHREAD_COND_INITIALIZER,
				   .done_mu = PTHREAD_MUTEX_INITIALIZER };
	struct options o = { .config_path = PORTAL_DEFAULT_CONFIG };
	char err[512];
	int rc = parse_options(argc, argv, &o);

	if (rc >= 0)
		return rc;
	s.config_path = o.config_path;
	config_defaults(&d.cfg);
	if (config_load(s.config_path, &d.cfg, err, sizeof err) < 0) {
		fprintf(stderr, "portald: %s\n", err);
		return 1;
	}
	if (o.test) {
		log_open(true);
		if (test_start(&s, err, sizeof err) == 0)
			return 0;
		fprintf(stderr, "portald: %s\n", err);
		return 1;
	}
	log_open(o.foreground);
	if (server_start(&s, err, sizeof err) < 0) {
		log_msg(LOG_ERR, "not started: %s", err);
		server_stop(&s);
		return 1;
	}
	log_msg(LOG_INFO, "portald %s listening on %s (%u workers)", PORTAL_VERSION,
		d.cfg.socket, s.nworkers);
	rc = loop_run(&s);
	server_stop(&s);
	log_msg(LOG_INFO, "stopped");
	return rc == 0 ? 0 : 1;
}
