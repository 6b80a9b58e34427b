/*
 * mail.h - hand a batch of finished messages to the SMTP server in one
 * session (libesmtp), and say what became of each.
 *
 * Called from the outbox thread only: a slow server delays mail, never a
 * sign-in.  Each protocol step waits at most MAIL_STEP_TIMEOUT_MS; the TCP
 * connect itself is libesmtp's blocking connect(), bounded by the kernel.
 */
#ifndef PORTAL_MAIL_H
#define PORTAL_MAIL_H

#include <stddef.h>
#include "config.h"

#define MAIL_STEP_TIMEOUT_MS 30000
#define MAIL_DETAIL_MAX      128

enum mail_outcome {
	MAIL_SENT,       /* the server took responsibility for it (2xx) */
	MAIL_TEMPORARY,  /* 4xx, no answer, connection or TLS trouble: retry */
	MAIL_PERMANENT,  /* 5xx: it will never be accepted */
};

struct mail_server {
	char host[256];
	unsigned port;
	enum mail_tls tls;
	char from[256];          /* envelope sender (mail_from) */
	char user[256];          /* SMTP AUTH user, "" for none */
	const char *password;    /* with user: locked memory the caller owns */
};

struct mail_item {
	const char *to;          /* envelope recipient */
	const char *text;        /* the whole message, CRLF line ends, NUL-terminated */
	/* filled by mail_send: */
	enum mail_outcome outcome;
	char detail[MAIL_DETAIL_MAX];  /* "250 OK", the server's refusal, or why
					* nothing was said; printable ASCII */
};

/* Called during the session as soon as the server has taken items[i]
 * (its outcome already MAIL_SENT), so that the caller writes that down
 * before the rest of the session: a crash later in it must not make the
 * message go out again. */
typedef void mail_taken_fn(size_t i, void *arg);

/* Send every item in one SMTP session and fill in its outcome; taken (or
 * NULL) hears of each message the server takes, when it takes it. */
void mail_send(const struct mail_server *srv, struct mail_item *items, size_t n,
	       mail_taken_fn *taken, void *arg);

/* NULL when libesmtp can reach host, else why not (for the config check). */
const char *mail_host_problem(const char *host);

#endif
