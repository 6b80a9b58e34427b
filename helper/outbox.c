/*
 * outbox.c - the mail portald sends: the mail settings of a configuration
 * (checked before they are taken), the messages built from them into the
 * queue, and the sender's start and stop.  See outbox.h.
 *
 * ob->mu guards what a message built now says (the From, its name, the
 * organization); lock order is the store lock, then ob->mu.
 */
#include "outbox.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "log.h"
#include "mail.h"
#include "mailq.h"
#include "mailtext.h"
#include "secretfile.h"
#include "sender.h"

#define NOTICE_TTL   (24 * 3600)   /* a notice or lock mail is worth sending for a day */

/* What a message says of its sender. */
struct head {
	char from[256];           /* mail_from's address */
	char from_name[128];      /* mail_from's display name, or "" */
	char organization[256];
};

/* The mail settings of one configuration, checked. */
struct settings {
	struct mail_server srv;   /* srv.from: mail_from's address */
	struct head head;
	char *password;           /* sodium_malloc'ed; srv.password points here */
};

struct outbox {
	struct mailq q;           /* guarded by the store lock */
	struct sender *sender;
	uid_t owner;              /* the account portald runs as */
	pthread_mutex_t mu;       /* guards head and max */
	struct head head;
	unsigned long max;        /* outbox_max */
	char *compose;            /* the message being queued, guarded by the store
				   * lock: MAILQ_PLAIN_MAX, sodium_malloc'ed once
				   * (locked in memory, never swapped out), wiped
				   * after each message */
};

/* ---- settings ------------------------------------------------------------- */

static void settings_free(struct settings *s)
{
	if (s->password)
		sodium_free(s->password);
	s->password = NULL;
	s->srv.password = NULL;
}

/* Settings from a configuration, checked: a mail that cannot be built or
 * a server libesmtp cannot reach is refused now, not at the first code. */
static int settings_make(struct settings *s, const struct portal_config *cfg, uid_t owner,
			 char *err, size_t errlen)
{
	struct mail_head h = {
		.from = cfg->mail_from, .organization = cfg->organization,
		.to = cfg->mail_from, .lang = cfg->language, .date = time(NULL),
		.from_name = cfg->mail_from_name,
	};
	char probe[MAIL_TEXT_MAX];
	const char *why = mail_host_problem(cfg->smtp_host);
	bool built;

	memset(s, 0, sizeof *s);
	if (why) {
		snprintf(err, errlen, "smtp_server %s: %s", cfg->smtp_host, why);
		return -1;
	}
	built = cfg->organization[0] && mailtext_code(&h, "user", "000000", 600,
						      probe, sizeof probe) >= 0;
	sodium_memzero(probe, sizeof probe);
	if (!built) {
		snprintf(err, errlen, "organization and mail_from must make a valid From "
			 "header (a name without control characters, in UTF-8)");
		return -1;
	}
	snprintf(s->srv.host, sizeof s->srv.host, "%s", cfg->smtp_host);
	s->srv.port = cfg->smtp_port;
	s->srv.tls = cfg->smtp_tls;
	snprintf(s->srv.from, sizeof s->srv.from, "%s", cfg->mail_from);
	snprintf(s->srv.user, sizeof s->srv.user, "%s", cfg->smtp_user);
	snprintf(s->head.from, sizeof s->head.from, "%s", cfg->mail_from);
	snprintf(s->head.from_name, sizeof s->head.from_name, "%s", cfg->mail_from_name);
	snprintf(s->head.organization, sizeof s->head.organization, "%s", cfg->organization);
	if (cfg->smtp_user[0]) {
		s->password = secretfile_read("smtp_password_file", cfg->smtp_password_file,
					      owner, err, errlen);
		if (!s->password)
			return -1;
		s->srv.password = s->password;
	}
	return 0;
}

int outbox_reconfigure(struct outbox *ob, const struct portal_config *cfg,
		       char *err, size_t errlen)
{
	struct settings fresh;

	if (settings_make(&fresh, cfg, ob->owner, err, errlen) < 0)
		return -1;
	pthread_mutex_lock(&ob->mu);
	ob->head = fresh.head;
	ob->max = cfg->outbox_max;
	pthread_mutex_unlock(&ob->mu);
	/* The password is the sender's from now on. */
	sender_reconfigure(ob->sender, &fresh.srv, fresh.password);
	return 0;
}

int outbox_check(const struct portal_config *cfg, uid_t owner, char *err, size_t errlen)
{
	struct settings s;
	int rc = settings_make(&s, cfg, owner, err, errlen);

	settings_free(&s);
	return rc;
}

/* ---- queueing (store lock held by the caller) ------------------------------ */

/* A message being queued: its head, its id, and its binding line
 * ("<id>\n<to>\n") already in ob->compose, the text to follow. */
struct draft {
	char id[MAILQ_ID_LEN + 1];
	struct head head;
	struct mail_head h;
	int bind;
};

/* The From and organization in force, for a message built now. */
static void draft_head(struct outbox *ob, struct draft *d, const char *to, enum lang lang)
{
	pthread_mutex_lock(&ob->mu);
	d->head = ob->head;
	pthread_mutex_unlock(&ob->mu);
	d->h = (struct mail_head){
		.from = d->head.from, .from_name = d->head.from_name,
		.organization = d->head.organization, .to = to, .lang = lang, .date = time(NULL),
	};
}

static bool draft_begin(struct outbox *ob, struct draft *d, const char *to, enum lang lang)
{
	draft_head(ob, d, to, lang);
	mailq_new_id(&ob->q, d->id);
	d->bind = snprintf(ob->compose, MAILQ_BIND_MAX, "%s\n%s\n", d->id, to);
	return d->bind > 0 && d->bind < MAILQ_BIND_MAX;
}

/* Store the draft, whose text is len bytes after the binding line (-1:
 * it could not be written), then wipe it: it may hold a code.  A new code
 * mail sent ends any older one still waiting (mailq_replace: marked in
 * both cases, so that both take alike), a new notice the one before it. */
static int draft_store(struct outbox *ob, struct draft *d, ssize_t len, enum mail_kind kind,
		       const char *user, const char *to, time_t expires, time_t not_before,
		       bool send)
{
	int rc = -1;

	if (len < 0)
		log_msg(LOG_ERR, "outbox: the %s mail for %s could not be written",
			mailq_kind_name(kind), user);
	else if (kind == MAILQ_CODE)
		mailq_replace(&ob->q, user, send);
	if (len >= 0 && (kind != MAILQ_NOTICE || mailq_supersede(&ob->q, user, kind) == 0))
		rc = mailq_add(&ob->q, d->id, kind, user, to, expires, not_before, ob->compose,
			       (size_t)(d->bind + len), send);
	sodium_memzero(ob->compose, MAILQ_PLAIN_MAX);
	return rc;
}

int outbox_queue_code(struct outbox *ob, const char *user, const char *to,
		      enum lang lang, const char *code, time_t expires, bool send)
{
	struct draft d;
	ssize_t len = -1;

	if (draft_begin(ob, &d, to, lang) && expires > d.h.date)
		len = mailtext_code(&d.h, user, code, (unsigned long long)(expires - d.h.date),
				    ob->compose + d.bind, MAIL_TEXT_MAX);
	return draft_store(ob, &d, len, MAILQ_CODE, user, to, expires, 0, send);
}

/* Room for a mail other than a code: outbox_max waiting is the most.  A
 * code mail is always queued (at most one a member asking for a code
 * waits: mailq_replace); what gives way when the mail server is gone for
 * long is the notices and lock mails. */
static bool room(struct outbox *ob)
{
	unsigned long max;

	pthread_mutex_lock(&ob->mu);
	max = ob->max;
	pthread_mutex_unlock(&ob->mu);
	return !mailq_full(&ob->q, max);
}

int outbox_queue_notice(struct outbox *ob, const char *user, const char *to,
			enum lang lang, time_t when, const char *host, time_t not_before)
{
	struct draft d;
	ssize_t len = -1;

	if (!room(ob))
		return 1;
	if (draft_begin(ob, &d, to, lang))
		len = mailtext_notice(&d.h, user, when, host, ob->compose + d.bind, MAIL_TEXT_MAX);
	return draft_store(ob, &d, len, MAILQ_NOTICE, user, to,
			   (not_before > d.h.date ? not_before : d.h.date) + NOTICE_TTL,
			   not_before, true);
}

int outbox_queue_lock(struct outbox *ob, const char *user, const char *to, enum lang lang,
		      time_t until, const char *source)
{
	struct draft d;
	ssize_t len = -1;

	if (!room(ob))
		return 1;
	if (draft_begin(ob, &d, to, lang))
		len = mailtext_lock(&d.h, user, until, source, ob->compose + d.bind, MAIL_TEXT_MAX);
	return draft_store(ob, &d, len, MAILQ_LOCK, user, to, d.h.date + NOTICE_TTL, 0, true);
}

bool outbox_full(struct outbox *ob)
{
	return !room(ob);
}

void outbox_kick(struct outbox *ob)
{
	sender_kick(ob->sender);
}

/* ---- what portalctl sees (store lock held) ---------------------------------- */

bool outbox_id_valid(const char *id)
{
	return mailq_id_valid(id);
}

int outbox_list(struct outbox *ob, const char *cursor, struct proto_buf *resp)
{
	return mailq_list(&ob->q, cursor, resp);
}

unsigned long outbox_pending(struct outbox *ob)
{
	return mailq_pending(&ob->q);
}

/* ---- start and stop ---------------------------------------------------------- */

static void outbox_free(struct outbox *ob)
{
	if (ob->compose)
		sodium_free(ob->compose);
	mailq_free(&ob->q);
	pthread_mutex_destroy(&ob->mu);
	free(ob);
}

struct outbox *outbox_start(struct store *st, const struct portal_keys *k,
			    const struct portal_config *cfg, uid_t owner, char *err, size_t errlen)
{
	struct outbox *ob = calloc(1, sizeof *ob);
	struct settings set;

	if (!ob) {
		snprintf(err, errlen, "outbox: out of memory");
		return NULL;
	}
	ob->owner = owner;
	pthread_mutex_init(&ob->mu, NULL);
	ob->compose = sodium_malloc(MAILQ_PLAIN_MAX);
	if (!ob->compose) {
		snprintf(err, errlen, "outbox: out of memory");
		outbox_free(ob);
		return NULL;
	}
	if (settings_make(&set, cfg, owner, err, errlen) < 0) {
		settings_free(&set);
		outbox_free(ob);
		return NULL;
	}
	ob->head = set.head;
	ob->max = cfg->outbox_max;
	if (mailq_load(&ob->q, st, k->outbox, err, errlen) < 0) {
		settings_free(&set);
		outbox_free(ob);
		return NULL;
	}
	/* The password is the sender's from now on. */
	ob->sender = sender_start(&ob->q, &set.srv, set.password, err, errlen);
	if (!ob->sender) {
		outbox_free(ob);
		return NULL;
	}
	return ob;
}

void outbox_stop(struct outbox *ob)
{
	sender_stop(ob->sender);
	outbox_free(ob);
}
