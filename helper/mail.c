/*
 * mail.c - one SMTP session for a batch of messages, through libesmtp.
 *
 * libesmtp keeps a status per message (MAIL FROM, RCPT TO and DATA
 * replies); a message that never got that far has status code 0 and is
 * judged from what happened to the session as a whole (connection refused,
 * TLS refused, ...), which is always worth another try.
 *
 * TLS, per smtp_tls:
 *   none      plain SMTP;
 *   starttls  TLS whenever the server offers it, its certificate not
 *             checked (opportunistic: a local MTA's self-signed certificate
 *             must not stop the mail);
 *   required  TLS with a certificate that verifies against the system's
 *             CAs and names smtp_server, or nothing is sent.
 * TLS is version 1.2: see tls_context for why not 1.3.
 * The AUTH password goes out in the clear only with smtp_tls = none (the
 * administrator's explicit choice); otherwise only over verified TLS.
 *
 * Every session gets an SSL_CTX of ours: libesmtp 1.1.0's own is shared by
 * all sessions yet freed with the first one (a use after free, and a
 * crash, at the second STARTTLS), while one handed over with
 * smtp_starttls_set_ctx is reference-counted.
 */
#include "mail.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <openssl/ssl.h>       /* before libesmtp.h: declares smtp_starttls_set_ctx */
#include <auth-client.h>
#include <libesmtp.h>

/* What the session as a whole went through, for messages without a
 * status of their own and for the AUTH decision. */
struct session {
	const struct mail_server *srv;
	bool tls_up, tls_unverified;
	const char *problem;   /* a reason not to trust the session's outcome */
	/* the batch, for SMTP_EV_MESSAGESENT */
	struct mail_item *items;
	const smtp_message_t *msg;
	const smtp_recipient_t *rcpt;
	size_t n;
	mail_taken_fn *taken;
	void *arg;
};

static void judge(struct mail_item *it, smtp_message_t m, smtp_recipient_t r,
		  const struct session *ss, const char *session_error);

/* The end of a message's DATA: if the server took it, say so now. */
static void message_done(struct session *ss, smtp_message_t m)
{
	for (size_t i = 0; i < ss->n; i++) {
		if (ss->msg[i] != m)
			continue;
		judge(&ss->items[i], m, ss->rcpt[i], ss, "");
		if (ss->items[i].outcome == MAIL_SENT && ss->taken)
			ss->taken(i, ss->arg);
		return;
	}
}

static pthread_once_t auth_once = PTHREAD_ONCE_INIT;

/* libesmtp loads its SASL plugins once per process. */
static void auth_init(void)
{
	auth_client_init();
}

/* A certificate that does not verify is acceptable for opportunistic
 * TLS only.  libesmtp passes the "go on" flag as an int * and stops when
 * it is left at 0. */
static void bad_certificate(struct session *ss, int *ok, const char *why)
{
	if (ss->srv->tls == MAIL_TLS_STARTTLS) {
		*ok = 1;
		ss->tls_unverified = true;
	} else {
		ss->problem = why;
	}
}

static void on_event(smtp_session_t s, int event, void *arg, ...)
{
	struct session *ss = arg;
	va_list ap;

	(void)s;
	va_start(ap, arg);
	switch (event) {
	case SMTP_EV_STARTTLS_OK:
		ss->tls_up = true;
		break;
	case SMTP_EV_MESSAGESENT:                /* smtp_message_t */
		message_done(ss, va_arg(ap, smtp_message_t));
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		ss->problem = "the server does not offer STARTTLS";
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE:   /* long result, int *ok, SSL * */
		(void)va_arg(ap, long);
		bad_certificate(ss, va_arg(ap, int *), "the server's TLS certificate is not trusted");
		break;
	case SMTP_EV_NO_PEER_CERTIFICATE:        /* int *ok */
		bad_certificate(ss, va_arg(ap, int *), "the server sent no TLS certificate");
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:     /* int *ok, name, SSL * */
		bad_certificate(ss, va_arg(ap, int *),
				"the server's TLS certificate is for another name");
		break;
	case SMTP_EV_WEAK_CIPHER:                /* refused: ok left at 0 */
		ss->problem = "the TLS cipher offered is too weak";
		break;
	case SMTP_EV_NO_CLIENT_CERTIFICATE:
	case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
	case SMTP_EV_UNUSABLE_CA_LIST:
		ss->problem = "unusable TLS files under $HOME/.authenticate";
		break;
	default:
		break;
	}
	va_end(ap);
}

/* libesmtp's SASL plugins ask for the user and password here. */
static int auth_interact(auth_client_request_t req, char **result, int fields, void *arg)
{
	struct session *ss = arg;

	if (ss->srv->tls != MAIL_TLS_NONE && (!ss->tls_up || ss->tls_unverified)) {
		ss->problem = "the SMTP password is sent only over TLS with a verified certificate";
		return 0;
	}
	for (int i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = (char *)ss->srv->user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = (char *)ss->srv->password;
		else
			return 0;
	}
	return 1;
}

/* "550 no such user": printable ASCII, blanks squeezed, at most 120
 * characters, so that nothing a server says can forge a log line. */
static void keep_reply(char *out, size_t cap, int code, const char *text)
{
	size_t n = (size_t)snprintf(out, cap, "%03d ", code), limit = cap < 121 ? cap - 1 : 120;

	for (; text && *text && n < limit; text++) {
		char c = *text >= ' ' && *text <= '~' ? *text : ' ';

		if (c != ' ' || out[n - 1] != ' ')
			out[n++] = c;
	}
	while (n > 3 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static void judge(struct mail_item *it, smtp_message_t m, smtp_recipient_t r,
		  const struct session *ss, const char *session_error)
{
	const smtp_status_t *st[] = {
		smtp_reverse_path_status(m), smtp_recipient_status(r),
		smtp_message_transfer_status(m),
	};

	if (st[1] && st[2] && st[1]->code / 100 == 2 && st[2]->code / 100 == 2) {
		it->outcome = MAIL_SENT;
		keep_reply(it->detail, sizeof it->detail, st[2]->code, st[2]->text);
		return;
	}
	it->outcome = MAIL_TEMPORARY;
	if (ss->problem) {      /* refused by us, whatever the server said */
		snprintf(it->detail, sizeof it->detail, "%s", ss->problem);
		return;
	}
	for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) {
		if (st[i] && st[i]->code >= 400) {
			if (st[i]->code >= 500)
				it->outcome = MAIL_PERMANENT;
			keep_reply(it->detail, sizeof it->detail, st[i]->code, st[i]->text);
			return;
		}
	}
	snprintf(it->detail, sizeof it->detail, "%s", session_error);
}

static void all_temporary(struct mail_item *items, size_t n, const char *why)
{
	for (size_t i = 0; i < n; i++) {
		items[i].outcome = MAIL_TEMPORARY;
		snprintf(items[i].detail, sizeof items[i].detail, "%s", why);
	}
}

const char *mail_host_problem(const char *host)
{
	/* smtp_set_server splits "host:port" at the first colon. */
	if (strchr(host, ':'))
		return "libesmtp cannot use an IPv6 address literal: give a host name";
	return host[0] ? NULL : "no host";
}

/* TLS 1.2, the server checked against the system's CAs.
 *
 * Not 1.3: a TLS 1.3 server sends its session tickets after the handshake,
 * and libesmtp 1.1 cannot take data it did not ask for.  Its loop sees the
 * socket readable before it has sent the EHLO that follows STARTTLS, reads
 * first (OpenSSL consumes the tickets and finds no SMTP reply) and waits
 * for that reply without ever flushing the EHLO: the session hangs until
 * the step timeout and the mail is put off.  Whether the tickets win that
 * race depends on how fast the server is, so a local MTA (smtp_server's
 * default) lost it often.  TLS 1.2 hands its ticket over inside the
 * handshake, and nothing comes unasked after it. */
static SSL_CTX *tls_context(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx && (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
		    !SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) ||
		    !SSL_CTX_set_default_verify_paths(ctx))) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* Session-wide settings: server, TLS, timeouts, AUTH. */
static bool session_setup(smtp_session_t s, struct session *ss, SSL_CTX **ctx,
			  auth_context_t *auth)
{
	static const enum starttls_option tls[] = {
		[MAIL_TLS_NONE] = Starttls_DISABLED,
		[MAIL_TLS_STARTTLS] = Starttls_ENABLED,
		[MAIL_TLS_REQUIRED] = Starttls_REQUIRED,
	};
	static const int steps[] = {
		Timeout_GREETING, Timeout_ENVELOPE, Timeout_DATA, Timeout_TRANSFER, Timeout_DATA2,
	};
	const struct mail_server *srv = ss->srv;
	char hostport[sizeof srv->host + 8];

	snprintf(hostport, sizeof hostport, "%s:%u", srv->host, srv->port);
	if (!smtp_set_server(s, hostport) || !smtp_starttls_enable(s, tls[srv->tls]) ||
	    !smtp_set_eventcb(s, on_event, ss))
		return false;
	if (srv->tls != MAIL_TLS_NONE &&
	    (!(*ctx = tls_context()) || !smtp_starttls_set_ctx(s, *ctx)))
		return false;
	/* Without the OVERRIDE flag libesmtp raises each timeout to RFC 5321's
	 * minutes-long minimum. */
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (!smtp_set_timeout(s, steps[i] | Timeout_OVERRIDE_RFC2822_MINIMUM,
				      MAIL_STEP_TIMEOUT_MS))
			return false;
	if (!srv->user[0])
		return true;
	pthread_once(&auth_once, auth_init);
	*auth = auth_create_context();
	return *auth && auth_set_mechanism_flags(*auth, AUTH_PLUGIN_PLAIN, 0) &&
	       auth_set_interact_cb(*auth, auth_interact, ss) && smtp_auth_set_context(s, *auth);
}

void mail_send(const struct mail_server *srv, struct mail_item *items, size_t n,
	       mail_taken_fn *taken, void *arg)
{
	smtp_message_t msg[n ? n : 1];
	smtp_recipient_t rcpt[n ? n : 1];
	struct session ss = {
		.srv = srv, .items = items, .msg = msg, .rcpt = rcpt, .n = n,
		.taken = taken, .arg = arg,
	};
	auth_context_t auth = NULL;
	SSL_CTX *ctx = NULL;
	smtp_session_t s;
	const char *why = mail_host_problem(srv->host);
	char err[MAIL_DETAIL_MAX] = "the server ended the session before taking the message";

	if (n == 0)
		return;
	if (why) {
		all_temporary(items, n, why);
		return;
	}
	s = smtp_create_session();
	if (!s || !session_setup(s, &ss, &ctx, &auth)) {
		all_temporary(items, n, "the SMTP session could not be set up");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		msg[i] = smtp_add_message(s);
		rcpt[i] = msg[i] ? smtp_add_recipient(msg[i], items[i].to) : NULL;
		/* The text is handed over as is: libesmtp adds no header we
		 * already have, and does the dot-stuffing. */
		if (!rcpt[i] || !smtp_set_reverse_path(msg[i], srv->from) ||
		    !smtp_set_message_str(msg[i], (void *)items[i].text)) {
			all_temporary(items, n, "the SMTP session could not be set up");
			goto out;
		}
	}
	if (!smtp_start_session(s)) {
		char why_not[MAIL_DETAIL_MAX - 32];

		smtp_strerror(smtp_errno(), why_not, sizeof why_not);
		snprintf(err, sizeof err, "no SMTP session: %s", why_not);
	}
	for (size_t i = 0; i < n; i++)
		judge(&items[i], msg[i], rcpt[i], &ss, err);
out:
	if (s)
		smtp_destroy_session(s);
	if (auth)
		auth_destroy_context(auth);
	SSL_CTX_free(ctx);
}
