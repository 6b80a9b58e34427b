/*
 * outbox.c - the durable, encrypted mail queue and the thread that empties
 * it.  See outbox.h for the life of an entry.
 *
 * Every entry is a record "o:<id>" in the database, the id being 16 hex
 * digits of the queue time in milliseconds and 8 random ones, so that ids
 * sort in queue order.  A queued record carries the whole message in a
 * crypto_secretbox; the plaintext starts with "<id>\n<to>\n", binding the
 * message to its record: a box moved into another record (to send
 * someone's code elsewhere) no longer matches and is not sent.
 *
 * An index of the entries is kept in memory, sorted by id: in GDBM's hash
 * order a walk over the "o:" keys is a walk over every user as well.  The
 * index changes only with the records it mirrors, so like them it is
 * guarded by the store lock.  ob->mu guards the settings and the sender's
 * wake-up flags; lock order is the store lock, then ob->mu.  The sender
 * holds neither lock while it waits on the SMTP server.
 *
 * Delivery is at least once: "sent" is written down and synced as soon
 * as the server takes a message, in the middle of the session (mail.c's
 * taken callback, which takes the store lock for that moment), so only a
 * message the server took in the instant before portald died, before that
 * write, goes out again.
 */
#include "outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "clock.h"
#include "log.h"
#include "mail.h"
#include "mailtext.h"

#define BATCH_MAX    50
#define KEEP_DONE    (24 * 3600)   /* finished records are shown for a day */
#define NOTICE_TTL   (24 * 3600)   /* a notice is worth sending for a day */
#define RETRY_FIRST  30
#define RETRY_MAX    600
#define IDLE_WAKE    60            /* look again at least this often */
#define KICK_DELAY_MS 50           /* from a kick to the pass: see wait_for_work */
#define ID_LEN       24
#define BIND_MAX     (ID_LEN + PORTAL_EMAIL_MAX + 3)   /* "<id>\n<to>\n" and a NUL */
#define PASSWORD_FILE_MAX 1024

/* Record fields; daemon-core owns F_PRIVATE .. F_PRIVATE+49. */
enum {
	OB_ID = F_PRIVATE + 50,
	OB_KIND,
	OB_USER,
	OB_TO,
	OB_STATUS,
	OB_ATTEMPTS,
	OB_NEXT_TRY,
	OB_EXPIRES,
	OB_DETAIL,
	OB_DONE,
	OB_NONCE,
	OB_BOX,
};

enum ob_kind { KIND_CODE, KIND_NOTICE };
enum ob_status { OB_QUEUED, OB_SENT, OB_FAILED, OB_EXPIRED, OB_GAVE_UP, OB_WITHHELD };

static const char *const kind_names[] = { "code", "notice" };
static const char *const status_names[] = {
	[OB_QUEUED] = "queued",
	[OB_SENT] = "sent",
	[OB_FAILED] = "failed",
	[OB_EXPIRED] = "expired",
	[OB_GAVE_UP] = "gave-up",
	[OB_WITHHELD] = "withheld",
};
/* What an entry of that status says when its record keeps no detail: a
 * withheld one keeps none, to be the size of a queued one (store_new). */
static const char *const status_notes[] = {
	[OB_WITHHELD] = "the address typed is not the one on file",
};

struct record {
	char id[ID_LEN + 1];
	uint32_t kind, status, attempts;
	char user[PORTAL_USER_MAX + 1];
	char to[PORTAL_EMAIL_MAX + 1];
	char detail[MAIL_DETAIL_MAX];
	uint64_t next_try, expires, done;
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	const uint8_t *box;     /* NULL once the message is gone */
	size_t boxlen;
};

/* What the sender needs without reading the record. */
struct entry {
	char id[ID_LEN + 1];
	char user[PORTAL_USER_MAX + 1];
	uint8_t kind, status;
	time_t when;            /* queued: next try; finished: when it finished */
	time_t expires;
};

struct settings {
	struct mail_server srv;   /* srv.from: mail_from's address */
	char from_name[128];      /* mail_from's display name, or "" */
	char organization[256];
	char *password;           /* sodium_malloc'ed; srv.password points here */
};

struct outbox {
	struct store *st;
	const struct portal_keys *keys;
	pthread_t thread;

	pthread_mutex_t mu;     /* guards set, stop, kicked */
	pthread_cond_t wake;
	bool stop, kicked;
	struct settings set;
	uid_t owner;            /* the account portald runs as */

	/* guarded by the store lock */
	char *compose;          /* the message being queued: BIND_MAX + MAIL_TEXT_MAX,
				 * sodium_malloc'ed once (locked in memory, never
				 * swapped out), wiped after each message */
	struct entry *index;    /* sorted by id */
	size_t count, cap;
	uint64_t last_ms;       /* time part of the newest id */
	struct proto_buf raw;   /* a record as read */
	struct proto_buf rec;   /* a record being written, an entry being listed */
	struct proto_msg msg;
};

/* The messages of one batch, decrypted into `text`: BATCH_MAX slots of
 * TEXT_SLOT bytes, sodium_malloc'ed once (locked in memory; a mapping
 * made and unmade for each message would cost every thread of portald a
 * TLB flush), wiped after each session. */
#define TEXT_SLOT (BIND_MAX + MAIL_TEXT_MAX + 1)
struct batch {
	struct outbox *ob;
	struct record rec[BATCH_MAX];
	char *text;
	struct mail_item item[BATCH_MAX];
	bool written[BATCH_MAX];    /* its outcome is in the database */
	size_t n;
};

/* ---- records --------------------------------------------------------------- */

bool outbox_id_valid(const char *id)
{
	return strlen(id) == ID_LEN && strspn(id, "0123456789abcdef") == ID_LEN;
}

/* When the entry was queued, in milliseconds: the time part of its id. */
static uint64_t id_ms(const char *id)
{
	char ms[17];

	memcpy(ms, id, 16);
	ms[16] = '\0';
	return strtoull(ms, NULL, 16);
}

static void key_of(const char *id, char *key)
{
	snprintf(key, STORE_KEY_MAX, "o:%s", id);
}

/* 0 loaded, 1 absent, -1 unreadable.  r->box points into ob->raw. */
static int record_load(struct outbox *ob, const char *id, struct record *r)
{
	struct proto_msg *m = &ob->msg;
	const struct proto_field *box;
	char key[STORE_KEY_MAX];
	int rc;

	key_of(id, key);
	rc = store_get(ob->st, key, &ob->raw);
	if (rc != 0)
		return rc;
	memset(r, 0, sizeof *r);
	if (!proto_parse_body(ob->raw.data, ob->raw.len, m) ||
	    !proto_get_str(m, OB_ID, r->id, sizeof r->id) || strcmp(r->id, id) != 0 ||
	    !proto_get_u32(m, OB_KIND, &r->kind) || r->kind > KIND_NOTICE ||
	    !proto_get_str(m, OB_USER, r->user, sizeof r->user) ||
	    !proto_get_str(m, OB_TO, r->to, sizeof r->to) ||
	    !proto_get_u32(m, OB_STATUS, &r->status) || r->status > OB_WITHHELD ||
	    !proto_get_u32(m, OB_ATTEMPTS, &r->attempts) ||
	    !proto_get_u64(m, OB_NEXT_TRY, &r->next_try) ||
	    !proto_get_u64(m, OB_EXPIRES, &r->expires) ||
	    !proto_get_u64(m, OB_DONE, &r->done) ||
	    !proto_get_str(m, OB_DETAIL, r->detail, sizeof r->detail)) {
		log_msg(LOG_ERR, "outbox %s: the record cannot be read", id);
		return -1;
	}
	box = proto_find(m, OB_BOX);
	if (box && (box->len <= crypto_secretbox_MACBYTES ||
		    box->len > crypto_secretbox_MACBYTES + BIND_MAX + MAIL_TEXT_MAX))
		box = NULL;
	if (box && proto_get_fixed(m, OB_NONCE, r->nonce, sizeof r->nonce)) {
		r->box = box->data;
		r->boxlen = box->len;
	}
	return 0;
}

static int record_save(struct outbox *ob, const struct record *r)
{
	struct proto_buf *b = &ob->rec;
	char key[STORE_KEY_MAX];

	proto_begin_body(b);
	proto_put_str(b, OB_ID, r->id);
	proto_put_u32(b, OB_KIND, r->kind);
	proto_put_str(b, OB_USER, r->user);
	proto_put_str(b, OB_TO, r->to);
	proto_put_u32(b, OB_STATUS, r->status);
	proto_put_u32(b, OB_ATTEMPTS, r->attempts);
	proto_put_u64(b, OB_NEXT_TRY, r->next_try);
	proto_put_u64(b, OB_EXPIRES, r->expires);
	proto_put_str(b, OB_DETAIL, r->detail);
	proto_put_u64(b, OB_DONE, r->done);
	if (r->box) {
		proto_put_bytes(b, OB_NONCE, r->nonce, sizeof r->nonce);
		proto_put_bytes(b, OB_BOX, r->box, r->boxlen);
	}
	key_of(r->id, key);
	return b->overflow ? -1 : store_put(ob->st, key, b);
}

/* The entry is over: its message goes (it may hold a code). */
static void finish(struct record *r, enum ob_status status, const char *detail, time_t now)
{
	r->status = status;
	r->done = (uint64_t)now;
	r->box = NULL;
	r->boxlen = 0;
	if (detail)
		snprintf(r->detail, sizeof r->detail, "%s", detail);
}

/* ---- the index ------------------------------------------------------------- */

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->id, ((const struct entry *)b)->id);
}

static struct entry *index_find(struct outbox *ob, const char *id)
{
	struct entry key;

	if (ob->count == 0)
		return NULL;
	snprintf(key.id, sizeof key.id, "%s", id);
	return bsearch(&key, ob->index, ob->count, sizeof *ob->index, by_id);
}

static void entry_set(struct entry *e, const struct record *r)
{
	e->kind = (uint8_t)r->kind;
	e->status = (uint8_t)r->status;
	e->when = (time_t)(r->status == OB_QUEUED ? r->next_try : r->done);
	e->expires = (time_t)r->expires;
}

static int index_append(struct outbox *ob, const struct record *r)
{
	struct entry *e;

	if (ob->count == ob->cap) {
		size_t cap = ob->cap ? ob->cap * 2 : 64;
		struct entry *p = realloc(ob->index, cap * sizeof *p);

		if (!p)
			return -1;
		ob->index = p;
		ob->cap = cap;
	}
	e = &ob->index[ob->count++];
	snprintf(e->id, sizeof e->id, "%s", r->id);
	snprintf(e->user, sizeof e->user, "%s", r->user);
	entry_set(e, r);
	return 0;
}

/* Add in order (new ids come last, so this rarely moves anything). */
static int index_add(struct outbox *ob, const struct record *r)
{
	struct entry e;
	size_t at;

	if (index_append(ob, r) != 0)
		return -1;
	at = ob->count - 1;
	e = ob->index[at];
	while (at > 0 && strcmp(ob->index[at - 1].id, e.id) > 0) {
		ob->index[at] = ob->index[at - 1];
		at--;
	}
	ob->index[at] = e;
	return 0;
}

static void index_update(struct outbox *ob, const struct record *r)
{
	struct entry *e = index_find(ob, r->id);

	if (e)
		entry_set(e, r);
}

/* Read every entry once, at start. */
static int index_load(struct outbox *ob, char *err, size_t errlen)
{
	char key[STORE_KEY_MAX], after[STORE_KEY_MAX] = "";
	struct record r;
	int rc;

	store_lock(ob->st);
	while ((rc = store_next(ob->st, "o:", after, key, sizeof key)) == 0) {
		snprintf(after, sizeof after, "%s", key);
		if (!outbox_id_valid(key + 2) || record_load(ob, key + 2, &r) != 0) {
			log_msg(LOG_WARNING, "outbox: record %s ignored", key);
			continue;
		}
		if (index_append(ob, &r) != 0) {
			rc = -1;
			break;
		}
	}
	proto_wipe(&ob->raw);
	store_unlock(ob->st);
	if (rc < 0) {
		snprintf(err, errlen, "the outbox could not be read from the database");
		return -1;
	}
	if (ob->count) {
		qsort(ob->index, ob->count, sizeof *ob->index, by_id);
		ob->last_ms = id_ms(ob->index[ob->count - 1].id);
	}
	return 0;
}

/* ---- settings ------------------------------------------------------------- */

static void settings_free(struct settings *s)
{
	if (s->password)
		sodium_free(s->password);
	s->password = NULL;
	s->srv.password = NULL;
}

/* The SMTP password: the first line of a regular file that only its
 * owner can read: root, or the account portald runs as (`owner`, which is
 * the effective uid once portald has become it). */
static char *read_password(const char *path, uid_t owner, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	const char *why = NULL;
	struct stat st;
	char *pw = NULL;
	size_t len = 0;

	if (fd < 0) {
		snprintf(err, errlen, "smtp_password_file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_mode & (S_IRGRP | S_IROTH))
		why = "group or others can read it (chmod 600)";
	else if (st.st_uid != 0 && st.st_uid != owner && st.st_uid != geteuid())
		why = "it must belong to root or to portald's user";
	else if (!(pw = sodium_malloc(PASSWORD_FILE_MAX + 2)))
		why = "out of memory";
	while (!why) {
		ssize_t n = read(fd, pw + len, PASSWORD_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			why = strerror(errno);
		else if (n == 0)
			break;
		else if ((len += (size_t)n) > PASSWORD_FILE_MAX)
			why = "too long";
	}
	close(fd);
	if (!why) {
		pw[len] = '\0';
		if (len > 0 && pw[len - 1] == '\n')
			pw[--len] = '\0';
		if (len > 0 && pw[len - 1] == '\r')
			pw[--len] = '\0';
		if (len == 0)
			why = "it is empty";
		for (size_t i = 0; i < len && !why; i++)
			if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
				why = "the password must be one line of printable characters";
	}
	if (why) {
		snprintf(err, errlen, "smtp_password_file %s: %s", path, why);
		if (pw)
			sodium_free(pw);
		return NULL;
	}
	return pw;
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
	snprintf(s->from_name, sizeof s->from_name, "%s", cfg->mail_from_name);
	snprintf(s->srv.user, sizeof s->srv.user, "%s", cfg->smtp_user);
	snprintf(s->organization, sizeof s->organization, "%s", cfg->organization);
	if (cfg->smtp_user[0]) {
		s->password = read_password(cfg->smtp_password_file, owner, err, errlen);
		if (!s->password)
			return -1;
		s->srv.password = s->password;
	}
	return 0;
}

int outbox_reconfigure(struct outbox *ob, const struct portal_config *cfg,
		       char *err, size_t errlen)
{
	struct settings fresh, old;

	if (settings_make(&fresh, cfg, ob->owner, err, errlen) < 0)
		return -1;
	pthread_mutex_lock(&ob->mu);
	old = ob->set;
	ob->set = fresh;
	/* A server that was wrong may be right now. */
	ob->kicked = true;
	pthread_cond_signal(&ob->wake);
	pthread_mutex_unlock(&ob->mu);
	settings_free(&old);
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

/* Ids sort in queue order, so the time part never goes back (two mails
 * in one millisecond, a clock set back): then it is the last one plus 1. */
static void new_id(struct outbox *ob, char *id)
{
	struct timespec ts;
	uint64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	ob->last_ms = ms > ob->last_ms ? ms : ob->last_ms + 1;
	snprintf(id, ID_LEN + 1, "%016llx%08x", (unsigned long long)ob->last_ms,
		 (unsigned)randombytes_random());
}

/* Write a new entry whose plaintext (binding line and message) is
 * plain[0..len): queued, or withheld (send false).  The two are made by
 * the same steps into records of the same size: a record of another size
 * fits the database's free space differently, so that the file grows more
 * often for one than for the other, and the fsync that follows shows it.
 * A withheld box is sealed with a key drawn for it and forgotten at once:
 * it holds no message anyone can open.  It keeps no detail either (the
 * listing says why from its status), and is over as soon as written. */
static int store_new(struct outbox *ob, const char *id, enum ob_kind kind, const char *user,
		     const char *to, time_t expires, const char *plain, size_t len, bool send)
{
	time_t now = time(NULL);
	struct record r = {
		.kind = kind, .status = send ? OB_QUEUED : OB_WITHHELD,
		.next_try = (uint64_t)now, .done = send ? 0 : (uint64_t)now,
		.expires = (uint64_t)expires, .boxlen = len + crypto_secretbox_MACBYTES,
	};
	uint8_t drawn[sizeof r.nonce + crypto_secretbox_KEYBYTES];
	uint8_t *box = malloc(r.boxlen);
	int rc = -1;

	snprintf(r.id, sizeof r.id, "%s", id);
	snprintf(r.user, sizeof r.user, "%s", user);
	snprintf(r.to, sizeof r.to, "%s", to);
	if (box) {
		randombytes_buf(drawn, sizeof drawn);
		memcpy(r.nonce, drawn, sizeof r.nonce);
		crypto_secretbox_easy(box, (const uint8_t *)plain, len, r.nonce,
				      send ? ob->keys->outbox : drawn + sizeof r.nonce);
		sodium_memzero(drawn, sizeof drawn);
		r.box = box;
		rc = record_save(ob, &r) == 0 && index_add(ob, &r) == 0 ? 0 : -1;
		free(box);
	}
	if (rc < 0)
		log_msg(LOG_ERR, "outbox %s: the %s for %s could not be queued", id,
			kind_names[kind], user);
	return rc;
}

/* Only the newest code works: a code mail still waiting for an older one
 * would only mislead, so it is closed. */
static int supersede(struct outbox *ob, const char *user)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < ob->count; i++) {
		struct entry *e = &ob->index[i];
		struct record r;

		if (e->kind != KIND_CODE || e->status != OB_QUEUED || strcmp(e->user, user) != 0)
			continue;
		if (record_load(ob, e->id, &r) != 0)
			continue;
		finish(&r, OB_EXPIRED, "replaced by a newer code", now);
		if (record_save(ob, &r) != 0)
			return -1;
		entry_set(e, &r);
		log_msg(LOG_INFO, "outbox %s: code mail for %s to %s replaced by a newer code",
			r.id, r.user, r.to);
	}
	return 0;
}

/* A message being queued: its head, its id, and its binding line
 * ("<id>\n<to>\n") already in ob->compose, the text to follow. */
struct draft {
	char id[ID_LEN + 1];
	char from[sizeof ((struct settings *)0)->srv.from];
	char from_name[sizeof ((struct settings *)0)->from_name];
	char org[sizeof ((struct settings *)0)->organization];
	struct mail_head h;
	int bind;
};

/* The From and organization in force, for a message built now. */
static void draft_head(struct outbox *ob, struct draft *d, const char *to, enum lang lang)
{
	pthread_mutex_lock(&ob->mu);
	memcpy(d->from, ob->set.srv.from, sizeof d->from);
	memcpy(d->from_name, ob->set.from_name, sizeof d->from_name);
	memcpy(d->org, ob->set.organization, sizeof d->org);
	pthread_mutex_unlock(&ob->mu);
	d->h = (struct mail_head){
		.from = d->from, .from_name = d->from_name, .organization = d->org,
		.to = to, .lang = lang, .date = time(NULL),
	};
}

static bool draft_begin(struct outbox *ob, struct draft *d, const char *to, enum lang lang)
{
	draft_head(ob, d, to, lang);
	new_id(ob, d->id);
	d->bind = snprintf(ob->compose, BIND_MAX, "%s\n%s\n", d->id, to);
	return d->bind > 0 && d->bind < BIND_MAX;
}

/* Store the draft, whose text is len bytes after the binding line (-1:
 * it could not be written), then wipe it: it may hold a code.  A new code
 * mail ends any older one still waiting. */
static int draft_store(struct outbox *ob, struct draft *d, ssize_t len, enum ob_kind kind,
		       const char *user, const char *to, time_t expires, bool send)
{
	int rc = -1;

	if (len < 0)
		log_msg(LOG_ERR, "outbox: the %s mail for %s could not be written",
			kind_names[kind], user);
	else if (kind != KIND_CODE || supersede(ob, user) == 0)
		rc = store_new(ob, d->id, kind, user, to, expires, ob->compose,
			       (size_t)(d->bind + len), send);
	sodium_memzero(ob->compose, BIND_MAX + MAIL_TEXT_MAX);
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
	return draft_store(ob, &d, len, KIND_CODE, user, to, expires, send);
}

int outbox_queue_notice(struct outbox *ob, const char *user, const char *to,
			enum lang lang, time_t when, const char *host)
{
	struct draft d;
	ssize_t len = -1;

	if (draft_begin(ob, &d, to, lang))
		len = mailtext_notice(&d.h, user, when, host, ob->compose + d.bind, MAIL_TEXT_MAX);
	return draft_store(ob, &d, len, KIND_NOTICE, user, to, d.h.date + NOTICE_TTL, true);
}

void outbox_kick(struct outbox *ob)
{
	pthread_mutex_lock(&ob->mu);
	ob->kicked = true;
	pthread_cond_signal(&ob->wake);
	pthread_mutex_unlock(&ob->mu);
}

/* ---- the sender ------------------------------------------------------------ */

static void close_entry(struct outbox *ob, struct record *r, enum ob_status status,
			const char *why, time_t now, int prio)
{
	finish(r, status, why, now);
	if (record_save(ob, r) != 0)
		log_msg(LOG_ERR, "outbox %s: the outcome could not be written", r->id);
	index_update(ob, r);
	log_msg(prio, "outbox %s: %s for %s to %s %s: %s", r->id, kind_names[r->kind], r->user,
		r->to, status_names[status], why);
}

/* Open the box of a queued record into the batch; a box that does not
 * open, or that was made for another record, closes the entry (then
 * returns true). */
static bool take(struct outbox *ob, struct batch *b, struct record *r, time_t now)
{
	size_t len = r->boxlen - crypto_secretbox_MACBYTES;
	char head[BIND_MAX + 1];
	int bind = snprintf(head, sizeof head, "%s\n%s\n", r->id, r->to);
	char *plain = b->text + b->n * TEXT_SLOT;

	/* record_load keeps no box longer than a slot holds. */
	if (len >= TEXT_SLOT ||
	    crypto_secretbox_open_easy((uint8_t *)plain, r->box, r->boxlen,
				       r->nonce, ob->keys->outbox) != 0) {
		close_entry(ob, r, OB_FAILED, "the queued message could not be decrypted",
			    now, LOG_ERR);
	} else if (len < (size_t)bind || memcmp(plain, head, (size_t)bind) != 0) {
		close_entry(ob, r, OB_FAILED, "the queued message does not belong to this entry",
			    now, LOG_ERR);
	} else {
		plain[len] = '\0';
		b->rec[b->n] = *r;
		b->rec[b->n].box = NULL;
		b->item[b->n] = (struct mail_item){ .to = b->rec[b->n].to, .text = plain + bind };
		b->n++;
		return false;
	}
	sodium_memzero(plain, TEXT_SLOT);
	return true;
}

/* The record of a queued entry.  One that cannot be read (and was logged)
 * leaves the queue, and the database with the finished ones. */
static bool load_queued(struct outbox *ob, struct entry *e, struct record *r, time_t now)
{
	if (record_load(ob, e->id, r) == 0)
		return true;
	e->status = OB_FAILED;
	e->when = now;
	return false;
}

/* Store lock held.  Forget finished entries a day old, close expired
 * ones, and fill the batch: the due entries first, then, since a session
 * is opened anyway, the others still waiting.  Returns when to look
 * again. */
static time_t collect(struct outbox *ob, struct batch *b, time_t now)
{
	time_t wake = now + IDLE_WAKE;
	bool changed = false;

	b->n = 0;
	memset(b->written, 0, sizeof b->written);
	for (size_t i = 0; i < ob->count;) {
		struct entry *e = &ob->index[i];
		char key[STORE_KEY_MAX];

		if (e->status == OB_QUEUED || e->when + KEEP_DONE > now) {
			i++;
			continue;
		}
		key_of(e->id, key);
		if (store_del(ob->st, key) < 0) {
			i++;
			continue;
		}
		memmove(e, e + 1, (ob->count - i - 1) * sizeof *e);
		ob->count--;
		changed = true;
	}
	for (int due = 1; due >= 0; due--) {
		for (size_t i = 0; i < ob->count; i++) {
			struct entry *e = &ob->index[i];
			struct record r;

			if (e->status != OB_QUEUED || (due ? e->when > now : e->when <= now))
				continue;
			if (due && e->expires <= now) {
				if (load_queued(ob, e, &r, now)) {
					close_entry(ob, &r, OB_EXPIRED, "it expired before it could "
						    "be sent", now, LOG_WARNING);
					changed = true;
				}
				continue;
			}
			if (b->n == BATCH_MAX || (!due && b->n == 0)) {
				wake = e->when < wake ? e->when : wake;
				continue;
			}
			if (!load_queued(ob, e, &r, now))
				continue;
			if (!r.box) {
				close_entry(ob, &r, OB_FAILED, "the queued message is missing",
					    now, LOG_ERR);
				changed = true;
				continue;
			}
			changed = take(ob, b, &r, now) || changed;
		}
	}
	/* An entry that expires unsent is closed when it does. */
	for (size_t i = 0; i < ob->count; i++)
		if (ob->index[i].status == OB_QUEUED && ob->index[i].expires < wake)
			wake = ob->index[i].expires;
	proto_wipe(&ob->raw);
	if (changed && store_sync(ob->st) != 0)
		log_msg(LOG_ERR, "outbox: the database could not be synced");
	return wake;
}

/* The wait after a record's attempts-th failure: RETRY_FIRST, doubling
 * up to RETRY_MAX, but never more than a quarter of the record's life
 * (from its queueing, the time part of its id, to its expiry), so that a
 * code that lives a short time is still tried a few times before it dies
 * rather than given up after one failure. */
static time_t backoff(const struct record *r)
{
	time_t wait = RETRY_FIRST, queued = (time_t)(id_ms(r->id) / 1000), quarter;
	uint32_t attempts = r->attempts;

	quarter = (time_t)r->expires > queued ? ((time_t)r->expires - queued) / 4 : 0;
	while (attempts-- > 1 && wait < RETRY_MAX)
		wait *= 2;
	if (wait > RETRY_MAX)
		wait = RETRY_MAX;
	if (wait > quarter)
		wait = quarter;
	return wait > 0 ? wait : 1;
}

/* Store lock held: write down what became of the batch's i-th message.
 * Returns when it is to be tried again, or 0. */
static time_t record_outcome(struct outbox *ob, struct batch *b, size_t i, time_t now)
{
	const struct mail_item *it = &b->item[i];
	struct record r;

	/* Re-read: the entry may have been replaced meanwhile. */
	if (b->written[i] || record_load(ob, b->rec[i].id, &r) != 0)
		return 0;
	b->written[i] = true;
	r.attempts++;
	if (it->outcome == MAIL_SENT) {
		close_entry(ob, &r, OB_SENT, it->detail, now, LOG_INFO);
	} else if (it->outcome == MAIL_PERMANENT) {
		close_entry(ob, &r, OB_FAILED, it->detail, now, LOG_ERR);
	} else if (r.status != OB_QUEUED) {
		return 0;       /* closed meanwhile: stays closed */
	} else if ((uint64_t)(now + backoff(&r)) >= r.expires) {
		close_entry(ob, &r, OB_GAVE_UP, it->detail, now, LOG_ERR);
	} else {
		r.next_try = (uint64_t)(now + backoff(&r));
		snprintf(r.detail, sizeof r.detail, "%s", it->detail);
		if (record_save(ob, &r) != 0)
			log_msg(LOG_ERR, "outbox %s: the attempt could not be written", r.id);
		index_update(ob, &r);
		log_msg(LOG_WARNING, "outbox %s: %s for %s to %s not sent (attempt %u, "
			"next in %lld s): %s", r.id, kind_names[r.kind], r.user, r.to,
			r.attempts, (long long)backoff(&r), it->detail);
		return (time_t)r.next_try;
	}
	return 0;
}

/* mail_send's word that the server took a message, in the middle of the
 * session: written down and synced at once.  From then on that message is
 * never sent again, whatever happens to the rest of the session or to
 * portald. */
static void taken(size_t i, void *arg)
{
	struct batch *b = arg;
	struct outbox *ob = b->ob;

	store_lock(ob->st);
	record_outcome(ob, b, i, time(NULL));
	proto_wipe(&ob->raw);
	if (store_sync(ob->st) != 0)
		log_msg(LOG_ERR, "outbox: the database could not be synced");
	store_unlock(ob->st);
}

/* Store lock held: write down what became of the rest of the batch.
 * Returns when the first of those to be tried again falls due. */
static time_t record_outcomes(struct outbox *ob, struct batch *b, time_t now)
{
	time_t wake = now + IDLE_WAKE;

	for (size_t i = 0; i < b->n; i++) {
		time_t next = record_outcome(ob, b, i, now);

		if (next && next < wake)
			wake = next;
	}
	proto_wipe(&ob->raw);
	if (store_sync(ob->st) != 0)
		log_msg(LOG_ERR, "outbox: the database could not be synced");
	return wake;
}

/* The settings in force, the password copied into memory of our own. */
static bool snapshot(struct outbox *ob, struct mail_server *srv, char **password)
{
	bool ok = true;

	pthread_mutex_lock(&ob->mu);
	*srv = ob->set.srv;
	*password = NULL;
	if (ob->set.password) {
		size_t n = strlen(ob->set.password) + 1;

		*password = sodium_malloc(n);
		ok = *password != NULL;
		if (ok)
			memcpy(*password, ob->set.password, n);
	}
	srv->password = *password;
	pthread_mutex_unlock(&ob->mu);
	return ok;
}

/* One round: pick, send with no lock held, write down.  Returns when to
 * look again. */
static time_t pass(struct outbox *ob, struct batch *b)
{
	struct mail_server srv;
	char *password;
	time_t wake, retry;

	store_lock(ob->st);
	wake = collect(ob, b, time(NULL));
	store_unlock(ob->st);
	if (b->n == 0)
		return wake;
	if (snapshot(ob, &srv, &password)) {
		mail_send(&srv, b->item, b->n, taken, b);
	} else {
		for (size_t i = 0; i < b->n; i++) {
			b->item[i].outcome = MAIL_TEMPORARY;
			snprintf(b->item[i].detail, sizeof b->item[i].detail, "out of memory");
		}
	}
	if (password)
		sodium_free(password);
	sodium_memzero(b->text, b->n * TEXT_SLOT);
	for (size_t i = 0; i < b->n; i++)
		b->item[i].text = NULL;
	store_lock(ob->st);
	retry = record_outcomes(ob, b, time(NULL));
	store_unlock(ob->st);
	/* What fell due during the session is due now. */
	return retry < wake ? retry : wake;
}

/* Wait on ob->wake (ob->mu held) until the monotonic time `until`, the
 * stop, or, with `kick`, a kick.  The monotonic clock: a change of the
 * date neither wakes us early nor makes us sleep for ever. */
static void wait_until(struct outbox *ob, const struct timespec *until, bool kick)
{
	int rc = 0;

	while (!ob->stop && !(kick && ob->kicked) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&ob->wake, &ob->mu, until);
}

/* Sleep until `wake` (unix time), a kick or the stop; false to stop.  A
 * kick is followed by KICK_DELAY_MS more: the answer to the request that
 * queued the mail is out by then, so the sender's work (a session, often
 * a TLS handshake) does not compete with it.  That answer must take the
 * same time whether the code mail was queued or withheld (dispatch.c's
 * h_send_code).  Mail queued meanwhile goes in the same session. */
static bool wait_for_work(struct outbox *ob, time_t wake)
{
	struct timespec until;
	bool go;

	pthread_mutex_lock(&ob->mu);
	if (!ob->stop && !ob->kicked && wake > time(NULL)) {
		time_t secs = wake - time(NULL);

		until = clock_after(CLOCK_MONOTONIC, 1000LL * (secs < IDLE_WAKE ? secs : IDLE_WAKE));
		wait_until(ob, &until, true);
	}
	if (ob->kicked) {
		until = clock_after(CLOCK_MONOTONIC, KICK_DELAY_MS);
		wait_until(ob, &until, false);
	}
	ob->kicked = false;
	go = !ob->stop;
	pthread_mutex_unlock(&ob->mu);
	return go;
}

static void *sender(void *arg)
{
	struct outbox *ob = arg;
	struct batch *b = calloc(1, sizeof *b);
	time_t wake = 0;        /* at once: mail may be left from before a restart */

	if (b)
		b->text = sodium_malloc(BATCH_MAX * TEXT_SLOT);
	if (!b || !b->text) {
		log_msg(LOG_CRIT, "outbox: out of memory: no mail will be sent");
		free(b);
		return NULL;
	}
	b->ob = ob;
	while (wait_for_work(ob, wake))
		wake = pass(ob, b);
	sodium_free(b->text);
	free(b);
	return NULL;
}

/* ---- start and stop ---------------------------------------------------------- */

static void outbox_free(struct outbox *ob)
{
	if (ob->compose)
		sodium_free(ob->compose);
	settings_free(&ob->set);
	free(ob->index);
	pthread_cond_destroy(&ob->wake);
	pthread_mutex_destroy(&ob->mu);
	free(ob);
}

struct outbox *outbox_start(struct store *st, const struct portal_keys *k,
			    const struct portal_config *cfg, uid_t owner, char *err, size_t errlen)
{
	struct outbox *ob = calloc(1, sizeof *ob);
	pthread_condattr_t ca;
	int e;

	if (!ob) {
		snprintf(err, errlen, "outbox: out of memory");
		return NULL;
	}
	ob->st = st;
	ob->keys = k;
	ob->owner = owner;
	pthread_mutex_init(&ob->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ob->wake, &ca);
	pthread_condattr_destroy(&ca);
	ob->compose = sodium_malloc(BIND_MAX + MAIL_TEXT_MAX);
	if (!ob->compose) {
		snprintf(err, errlen, "outbox: out of memory");
		outbox_free(ob);
		return NULL;
	}
	if (settings_make(&ob->set, cfg, owner, err, errlen) < 0 ||
	    index_load(ob, err, errlen) < 0) {
		outbox_free(ob);
		return NULL;
	}
	e = pthread_create(&ob->thread, NULL, sender, ob);
	if (e) {
		snprintf(err, errlen, "outbox: the mail thread could not start: %s", strerror(e));
		outbox_free(ob);
		return NULL;
	}
	return ob;
}

void outbox_stop(struct outbox *ob)
{
	pthread_mutex_lock(&ob->mu);
	ob->stop = true;
	pthread_cond_broadcast(&ob->wake);
	pthread_mutex_unlock(&ob->mu);
	pthread_join(ob->thread, NULL);
	outbox_free(ob);
}

/* ---- what portalctl sees (store lock held) ---------------------------------- */

/* One F_ENTRY for a record, built in ob->rec. */
static void list_entry(struct outbox *ob, const struct record *r)
{
	struct proto_buf *e = &ob->rec;
	const char *why = r->detail[0] ? r->detail : status_notes[r->status];
	char status[MAIL_DETAIL_MAX + 16];

	snprintf(status, sizeof status, "%s%s%s", status_names[r->status],
		 why ? ": " : "", why ? why : "");
	proto_begin_body(e);
	proto_put_str(e, F_ID, r->id);
	proto_put_str(e, F_USER, r->user);
	proto_put_str(e, F_EMAIL, r->to);
	proto_put_str(e, F_DETAIL, status);
	proto_put_u32(e, F_ATTEMPTS, r->attempts);
	proto_put_u64(e, F_TIME, r->status == OB_QUEUED ? r->next_try : r->done);
	proto_put_u64(e, F_CODE_EXPIRES, r->expires);
}

int outbox_list(struct outbox *ob, const char *cursor, struct proto_buf *resp)
{
	/* Room left for the cursor that may have to follow. */
	const size_t reserve = 3 + ID_LEN;
	size_t i = 0, listed = 0;
	const char *last = NULL;

	while (i < ob->count && cursor && strcmp(ob->index[i].id, cursor) <= 0)
		i++;
	for (; i < ob->count && listed < PROTO_PAGE; i++) {
		struct record r;

		if (record_load(ob, ob->index[i].id, &r) != 0)
			continue;
		list_entry(ob, &r);
		if (resp->len + 3 + ob->rec.len + reserve > PROTO_HEADER + PROTO_MAX_BODY)
			break;
		proto_put_nested(resp, F_ENTRY, &ob->rec);
		last = ob->index[i].id;
		listed++;
	}
	proto_wipe(&ob->raw);
	if (i < ob->count && last)
		proto_put_str(resp, F_CURSOR, last);
	return resp->overflow ? -1 : 0;
}

unsigned long outbox_pending(struct outbox *ob)
{
	unsigned long n = 0;

	for (size_t i = 0; i < ob->count; i++)
		n += ob->index[i].status == OB_QUEUED;
	return n;
}
