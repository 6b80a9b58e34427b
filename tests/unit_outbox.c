/* unit_outbox.c - the outbox against a real SMTP server on loopback
 * (tests/smtpserver.py): delivery, refusal, retry, expiry, restart.
 * Each group of checks has a scratch folder, a database, keys and an
 * outbox of its own, sending to a port that refuses until the group
 * starts the server it wants.  Every wait polls a condition with a
 * deadline; none is a fixed sleep. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "check.h"
#include "clock.h"
#include "config.h"
#include "fixture.h"
#include "log.h"
#include "outbox.h"
#include "store.h"

#define DEADLINE_MS (30000 * SLOW)
#define SERVER "tests/smtpserver.py"

/* The group's: its folder (paths below it fit in PATH_MAX), a port that
 * refuses, the database, its keys, the outbox and its settings. */
static char tmp[256];
static int refusing_fd = -1;
static unsigned refusing_port;
static struct store *st;
static struct portal_keys *keys;
static struct outbox *ob;
static struct portal_config cfg;
static struct proto_buf resp, raw;
static struct proto_msg msg, ent;

/* ---- the SMTP server -------------------------------------------------------- */

struct sink {
	pid_t pid;
	char dir[512];
	unsigned port;
};

/* Start tests/smtpserver.py on `port` (0: any free one), with an option
 * and its value (or NULL), and wait until it says which port it listens
 * on. */
static bool sink_start(struct sink *s, const char *name, unsigned port, const char *opt,
		       const char *val)
{
	char portfile[PATH_MAX + 8], portarg[16];
	long long until = clock_ms() + DEADLINE_MS;
	FILE *f;

	snprintf(s->dir, sizeof s->dir, "%s/%s", tmp, name);
	snprintf(portfile, sizeof portfile, "%s.port", s->dir);
	snprintf(portarg, sizeof portarg, "%u", port);
	s->pid = fork();
	if (s->pid == 0) {
		execl("/usr/bin/python3", "python3", SERVER, "--maildir", s->dir, "--port-file",
		      portfile, "--port", portarg, opt, val, (char *)NULL);
		_exit(127);
	}
	while (s->pid > 0 && clock_ms() < until) {
		if ((f = fopen(portfile, "r")) != NULL) {
			bool ok = fscanf(f, "%u", &s->port) == 1;

			fclose(f);
			return ok;
		}
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = 0;
			return false;
		}
		pause_ms(20);
	}
	return false;
}

static void sink_stop(struct sink *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The n-th message the sink received (from 1), "" if none. */
static const char *mail_n(const struct sink *s, int n)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof path, "%s/%06d.eml", s->dir, n);
	return slurp(path);
}

static int mails(const struct sink *s)
{
	int n = 0;

	while (mail_n(s, n + 1)[0])
		n++;
	return n;
}

/* Whether line (without its newline) is that event: its first word is
 * kind; its second `second`, its last `last`, when they are not NULL. */
static bool is_event(const char *line, const char *kind, const char *second, const char *last)
{
	const char *sp = strchr(line, ' '), *end = sp ? strchr(sp + 1, ' ') : NULL;
	const char *tail = strrchr(line, ' ');
	size_t k = strlen(kind);

	if (!sp || (size_t)(sp - line) != k || strncmp(line, kind, k) != 0)
		return false;
	if (second && (end ? (size_t)(end - sp - 1) : strlen(sp + 1)) != strlen(second))
		return false;
	if (second && strncmp(sp + 1, second, strlen(second)) != 0)
		return false;
	return !last || strcmp(tail + 1, last) == 0;
}

/* How many lines of the sink's events.log are that event (is_event). */
static int events(const struct sink *s, const char *kind, const char *second, const char *last)
{
	char path[PATH_MAX + 16], line[600];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof path, "%s/events.log", s->dir);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		n += is_event(line, kind, second, last);
	}
	fclose(f);
	return n;
}

/* How many times the sink was offered this recipient. */
static int rcpts(const struct sink *s, const char *addr)
{
	return events(s, "rcpt", addr, NULL);
}

static int count_of(const char *s, const char *what)
{
	int n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s++;
	}
	return n;
}

static bool wait_mails(const struct sink *s, int n)
{
	long long until = clock_ms() + DEADLINE_MS;

	while (mails(s) < n && clock_ms() < until)
		pause_ms(20);
	return mails(s) >= n;
}

/* ---- the outbox as portalctl sees it ---------------------------------------- */

struct info {
	bool found;
	char id[64], status[256];
	uint32_t attempts;
	uint64_t time, expires;
};

/* The entries of a user, oldest first (every page of outbox_list). */
static int entries_of(const char *user, struct info *out, int max)
{
	char cursor[64] = "", name[PORTAL_USER_MAX + 1];
	int n = 0, rc;

	do {
		proto_begin(&resp, PROTO_RESPONSE);
		store_lock(st);
		rc = outbox_list(ob, cursor[0] ? cursor : NULL, &resp);
		store_unlock(st);
		if (rc != 0 || !proto_finish(&resp) || !proto_parse(resp.data, resp.len, &msg))
			return -1;
		cursor[0] = '\0';
		for (size_t i = 0; i < msg.nfields; i++) {
			const struct proto_field *f = &msg.f[i];

			if (f->tag == TAG_CURSOR) {
				snprintf(cursor, sizeof cursor, "%.*s", (int)f->len, (const char *)f->data);
				continue;
			}
			if (f->tag != TAG_ENTRY || !proto_parse_body(f->data, f->len, &ent) ||
			    !proto_get_str(&ent, TAG_USER, name, sizeof name) || strcmp(name, user) != 0 ||
			    n == max)
				continue;
			out[n].found = proto_get_str(&ent, TAG_ID, out[n].id, sizeof out[n].id) &&
				       proto_get_str(&ent, TAG_DETAIL, out[n].status, sizeof out[n].status) &&
				       proto_get_u32(&ent, TAG_ATTEMPTS, &out[n].attempts) &&
				       proto_get_u64(&ent, TAG_TIME, &out[n].time) &&
				       proto_get_u64(&ent, TAG_CODE_EXPIRES, &out[n].expires);
			n++;
		}
	} while (cursor[0]);
	return n;
}

static struct info newest(const char *user)
{
	struct info all[16] = { 0 };
	int n = entries_of(user, all, 16);

	return n > 0 ? all[n - 1] : all[0];
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Poll until the user's newest entry has a status starting with prefix
 * and at least `attempts` attempts. */
static struct info wait_entry(const char *user, const char *prefix, uint32_t attempts)
{
	long long until = clock_ms() + DEADLINE_MS;
	struct info in;

	while (!((in = newest(user)).found && starts(in.status, prefix) &&
		 in.attempts >= attempts) && clock_ms() < until)
		pause_ms(20);
	return in;
}

/* The record of an entry as stored: does it still carry a message (a field
 * of message size), or the given text in the clear? */
static bool record_has(const char *id, size_t *longest, const char *text)
{
	char key[STORE_KEY_MAX];
	bool clear = false;
	int rc;

	snprintf(key, sizeof key, "o:%s", id);
	store_lock(st);
	rc = store_get(st, key, &raw);
	store_unlock(st);
	*longest = 0;
	if (rc != 0 || !proto_parse_body(raw.data, raw.len, &msg))
		return false;
	for (size_t i = 0; i < msg.nfields; i++)
		if (msg.f[i].len > *longest)
			*longest = msg.f[i].len;
	clear = memmem(raw.data, raw.len, text, strlen(text)) != NULL;
	return clear;
}

static size_t longest_field(const char *id)
{
	size_t longest;

	record_has(id, &longest, "\x01\x02");
	return longest;
}

static unsigned long pending(void)
{
	unsigned long n;

	store_lock(st);
	n = outbox_pending(ob);
	store_unlock(st);
	return n;
}

/* Poll until n entries are waiting to be sent. */
static bool wait_pending(unsigned long n)
{
	long long until = clock_ms() + DEADLINE_MS;

	while (pending() != n && clock_ms() < until)
		pause_ms(20);
	return pending() == n;
}

static int queue_code_to(const char *user, const char *code, time_t expires, bool send)
{
	char to[128];
	int rc;

	snprintf(to, sizeof to, "%s@example.org", user);
	store_lock(st);
	rc = outbox_queue_code(ob, user, to, LANG_FR, code, expires, send);
	if (rc == 0)
		rc = store_sync(st);
	store_unlock(st);
	outbox_kick(ob);
	return rc;
}

static int queue_code(const char *user, const char *code, time_t expires)
{
	return queue_code_to(user, code, expires, true);
}

static int queue_notice(const char *user, enum lang lang)
{
	char to[128];
	int rc;

	snprintf(to, sizeof to, "%s@example.org", user);
	store_lock(st);
	rc = outbox_queue_notice(ob, user, to, lang, time(NULL), "client.example.net", 0);
	if (rc == 0)
		rc = store_sync(st);
	store_unlock(st);
	outbox_kick(ob);
	return rc;
}

static int reconfigure_port(unsigned port)
{
	char err[256];

	cfg.smtp_port = port;
	return outbox_reconfigure(ob, &cfg, err, sizeof err);
}

/* ---- the tests -------------------------------------------------------------- */

static void delivered(void)
{
	struct sink inbox = { 0 }, *a = &inbox;
	struct info in;
	const char *m;

	CHECK("code: an SMTP server", sink_start(a, "inbox", 0, NULL, NULL) &&
	      reconfigure_port(a->port) == 0);
	CHECK("code: queued", queue_code("alice", "482913", time(NULL) + 600) == 0);
	CHECK("code: the SMTP server received it", wait_mails(a, 1));
	m = mail_n(a, 1);
	CHECK("code: the mail holds the code", strstr(m, "\r\n482913\r\n") != NULL);
	CHECK("code: addressed to the user", strstr(m, "\r\nTo: alice@example.org\r\n") != NULL);
	CHECK("code: a French subject, encoded", strstr(m, "\r\nSubject: =?UTF-8?B?") != NULL);
	CHECK("code: libesmtp added no header of its own",
	      count_of(m, "\nDate:") == 1 && count_of(m, "\nMessage-ID:") == 1 &&
	      count_of(m, "\nMessage-Id:") == 0 && count_of(m, "\nFrom:") == 0 &&
	      starts(m, "From: ") && count_of(m, "\nTo:") == 1);
	in = wait_entry("alice", "sent", 1);
	CHECK("code: the outbox says sent", in.found && starts(in.status, "sent: 250"));
	CHECK("code: one attempt", in.attempts == 1);
	CHECK("code: the outcome time", in.time + 60 >= (uint64_t)time(NULL) &&
	      in.time <= (uint64_t)time(NULL));
	CHECK("code: the record no longer holds the message", longest_field(in.id) < 300);
	CHECK("code: nothing left to send", pending() == 0);
	CHECK("code: delivered exactly once", mails(a) == 1 && rcpts(a, "alice@example.org") == 1);

	CHECK("notice: queued", queue_notice("bob", LANG_EN) == 0);
	CHECK("notice: the SMTP server received it", wait_mails(a, 2));
	m = mail_n(a, 2);
	CHECK("notice: says where the sign-in came from",
	      strstr(m, "Connecting from: client.example.net") != NULL);
	CHECK("notice: the outbox says sent", starts(wait_entry("bob", "sent", 1).status, "sent"));
	sink_stop(a);
}

/* A code asked for with an address that is not the one on file: the entry
 * is written like a queued one, but withheld: nothing to send, nothing
 * kept that could be; and the member's own code mail still waiting is
 * left alone (a stranger typing any address must not end it). */
static void withheld(void)
{
	struct sink inbox = { 0 }, *a = &inbox;
	struct info all[4] = { 0 }, in;
	size_t longest;
	int n;

	/* Queued with the server away (the group's port refuses): it waits
	 * for a retry. */
	CHECK("withheld: setup, a code mail waiting",
	      queue_code("ida", "515151", time(NULL) + 600) == 0 && pending() == 1);
	CHECK("withheld: written", queue_code_to("ida", "626262", time(NULL) + 600, false) == 0);
	n = entries_of("ida", all, 4);
	in = all[n > 0 ? n - 1 : 0];
	CHECK("withheld: listed as withheld, and why",
	      n == 2 && starts(in.status, "withheld: the address typed is not the one on file"));
	CHECK("withheld: the member's code mail still waits",
	      n == 2 && starts(all[0].status, "queued"));
	CHECK("withheld: only that one waits to be sent", pending() == 1);
	CHECK("withheld: written at the size of a message", longest_field(in.id) > 1000);
	CHECK("withheld: but holding no message (no headers, no code in the clear)",
	      !record_has(in.id, &longest, "626262") && !record_has(in.id, &longest, "Subject:"));
	CHECK("withheld: the server comes back", sink_start(a, "inbox", 0, NULL, NULL) &&
	      reconfigure_port(a->port) == 0);
	CHECK("back: a notice goes out", queue_notice("jules", LANG_EN) == 0 &&
	      starts(wait_entry("jules", "sent", 1).status, "sent"));
	CHECK("withheld: the member's code mail went out, and nothing else for ida",
	      wait_mails(a, 2) && rcpts(a, "ida@example.org") == 1 &&
	      (strstr(mail_n(a, 1), "515151") || strstr(mail_n(a, 2), "515151")) &&
	      !strstr(mail_n(a, 1), "626262") && !strstr(mail_n(a, 2), "626262"));
	sink_stop(a);
}

static void refused(void)
{
	struct sink r = { 0 };
	struct info in;

	CHECK("550: a server that refuses everyone",
	      sink_start(&r, "refusing", 0, "--mode", "refuse 550 5.1.1 No such user here"));
	CHECK("550: reconfigured", reconfigure_port(r.port) == 0);
	CHECK("550: queued", queue_code("carol", "111222", time(NULL) + 600) == 0);
	in = wait_entry("carol", "failed", 1);
	CHECK("550: failed, with the server's words",
	      starts(in.status, "failed: 550") && strstr(in.status, "No such user") != NULL);
	CHECK("550: one attempt", in.attempts == 1);
	CHECK("550: the message is gone", in.found && longest_field(in.id) < 300);
	CHECK("550: nothing left to send", pending() == 0);
	/* Another session later: carol must not be in it. */
	CHECK("550: a later mail", queue_notice("dave", LANG_FR) == 0);
	CHECK("550: the later mail was tried", starts(wait_entry("dave", "failed", 1).status,
						      "failed"));
	CHECK("550: never tried again", rcpts(&r, "carol@example.org") == 1 &&
	      rcpts(&r, "dave@example.org") == 1);
	sink_stop(&r);
}

static void retried(void)
{
	struct info in, all[4];
	struct sink b = { 0 };
	size_t longest;
	time_t t0 = time(NULL);
	int n;

	/* The group's port, held so that connections are refused. */
	CHECK("closed port: queued", queue_code("erin", "987654", t0 + 600) == 0);
	in = wait_entry("erin", "queued", 1);
	CHECK("closed port: one attempt, still queued", in.attempts == 1 &&
	      starts(in.status, "queued: ") && strstr(in.status, "refused") != NULL);
	CHECK("closed port: the next try pushed back by about 30 s",
	      in.time >= (uint64_t)t0 + 28 && in.time <= (uint64_t)time(NULL) + 31);
	CHECK("closed port: the message is kept, encrypted",
	      !record_has(in.id, &longest, "987654") && longest > 500);
	CHECK("closed port: one mail waiting", pending() == 1);

	/* A short-lived code is tried again a quarter of its life apart at
	 * most, and given up when a retry would come after it expires. */
	CHECK("give up: queued", queue_code("frank", "222333", time(NULL) + 5) == 0);
	in = wait_entry("frank", "gave-up", 1);
	CHECK("give up: a retry would come after the code expires", starts(in.status, "gave-up"));
	CHECK("give up: tried more than once while it lived", in.attempts >= 2);
	CHECK("give up: the message is gone", in.found && longest_field(in.id) < 300);

	/* Only the newest code is worth sending.  Both are queued under one
	 * hold of the lock, so the sender cannot try the first in between. */
	store_lock(st);
	n = outbox_queue_code(ob, "gina", "gina@example.org", LANG_EN, "333444", time(NULL) + 600, true) +
	    outbox_queue_code(ob, "gina", "gina@example.org", LANG_EN, "444555", time(NULL) + 600, true) +
	    store_sync(st);
	store_unlock(st);
	outbox_kick(ob);
	CHECK("replaced: two codes", n == 0);
	/* The sender closes the older one, after the request is answered. */
	{
		long long until = clock_ms() + DEADLINE_MS;

		while ((n = entries_of("gina", all, 4)) == 2 && !starts(all[0].status, "expired") &&
		       clock_ms() < until)
			pause_ms(20);
	}
	CHECK("replaced: the older code mail closed unsent", n == 2 &&
	      starts(all[0].status, "expired: replaced") && all[0].attempts == 0);
	CHECK("replaced: the older message is gone", n == 2 && longest_field(all[0].id) < 300);

	/* The server comes back on that port (it can bind it while it is
	 * held, so nobody else can take it in between): the waiting mail goes
	 * out with the next session. */
	CHECK("back: a server on the port", sink_start(&b, "back", refusing_port, NULL, NULL));
	release_port(&refusing_fd);
	CHECK("back: another mail", queue_notice("henry", LANG_EN) == 0);
	in = wait_entry("erin", "sent", 2);
	CHECK("back: the retried mail is sent", starts(in.status, "sent"));
	CHECK("back: after more than one attempt", in.attempts >= 2);
	CHECK("back: the server got the code", wait_mails(&b, 3) && rcpts(&b, "erin@example.org") == 1);
	CHECK("back: and never the replaced one", rcpts(&b, "gina@example.org") == 1 &&
	      strstr(mail_n(&b, 1), "333444") == NULL && strstr(mail_n(&b, 2), "333444") == NULL &&
	      strstr(mail_n(&b, 3), "333444") == NULL);
	/* Each mail is written down when the server takes it, in the order of
	 * the session (the due ones first): wait for the last of them. */
	CHECK("back: nothing left to send", wait_pending(0));
	sink_stop(&b);
}

static int count_all(void)
{
	struct info all[64];
	int n = 0;
	const char *users[] = { "alice", "erin", "gina", "ida" };

	for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
		n += entries_of(users[i], all, 64);
	return n;
}

/* Entries of every kind (sent, waiting for a retry, replaced, withheld),
 * then the outbox stopped while the sender waits for erin's retry, and
 * started again. */
static void restart(void)
{
	struct sink a = { 0 };
	struct info before, after;
	char err[256] = "";
	int count, rc;
	long long t;

	CHECK("restart: setup, one mail sent", sink_start(&a, "inbox", 0, NULL, NULL) &&
	      reconfigure_port(a.port) == 0 && queue_code("alice", "121212", time(NULL) + 600) == 0 &&
	      starts(wait_entry("alice", "sent", 1).status, "sent"));
	sink_stop(&a);
	rc = reconfigure_port(refusing_port);
	store_lock(st);
	rc += outbox_queue_code(ob, "gina", "gina@example.org", LANG_EN, "333444", time(NULL) + 600,
				true) +
	      outbox_queue_code(ob, "gina", "gina@example.org", LANG_EN, "444555", time(NULL) + 600,
				false) + store_sync(st);
	store_unlock(st);
	CHECK("restart: setup, one mail waiting for a retry, one replaced, one withheld",
	      rc == 0 && queue_code("erin", "987654", time(NULL) + 600) == 0 &&
	      starts(wait_entry("erin", "queued", 1).status, "queued"));
	before = newest("erin");
	count = count_all();
	t = clock_ms();
	outbox_stop(ob);
	/* Else it would wait for the retry, about 30 s away. */
	CHECK("stop: prompt, even in the middle of a wait", clock_ms() - t < 2000 * SLOW);
	ob = outbox_start(st, keys, &cfg, geteuid(), err, sizeof err);
	CHECK("restart: started again", ob != NULL);
	if (!ob)
		return;
	after = newest("erin");
	CHECK("restart: every entry read back", count == 4 && count_all() == count);
	CHECK("restart: an entry as it was", after.found && strcmp(after.id, before.id) == 0 &&
	      strcmp(after.status, before.status) == 0 && after.attempts == before.attempts);
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) && chmod(path, mode) == 0 ? 0 : -1;
}

static void settings(void)
{
	struct portal_config good = cfg;
	char err[512], pw[512], link[512];

	snprintf(pw, sizeof pw, "%s/smtp.pw", tmp);
	snprintf(link, sizeof link, "%s/smtp.link", tmp);
	snprintf(cfg.smtp_user, sizeof cfg.smtp_user, "mailer");
	snprintf(cfg.smtp_password_file, sizeof cfg.smtp_password_file, "%s", pw);
	write_file(pw, "s3cret\n", 0644);
	err[0] = '\0';
	CHECK("password file: refused when others can read it",
	      outbox_reconfigure(ob, &cfg, err, sizeof err) < 0 && strstr(err, "others") != NULL);
	write_file(pw, "s3cret\n", 0600);
	CHECK("password file: 0600 accepted", outbox_reconfigure(ob, &cfg, err, sizeof err) == 0);
	CHECK("password file: a symbolic link refused",
	      symlink(pw, link) == 0 && (snprintf(cfg.smtp_password_file,
						  sizeof cfg.smtp_password_file, "%s", link),
					 outbox_reconfigure(ob, &cfg, err, sizeof err) < 0));
	write_file(pw, "\n", 0600);
	snprintf(cfg.smtp_password_file, sizeof cfg.smtp_password_file, "%s", pw);
	CHECK("password file: an empty one refused", outbox_reconfigure(ob, &cfg, err, sizeof err) < 0);
	cfg = good;
	snprintf(cfg.smtp_host, sizeof cfg.smtp_host, "[::1]");
	CHECK("settings: an IPv6 literal refused (libesmtp cannot use one)",
	      outbox_reconfigure(ob, &cfg, err, sizeof err) < 0);
	cfg = good;
	snprintf(cfg.organization, sizeof cfg.organization, "Test\nBcc: eve@evil.example");
	CHECK("settings: an organization that would inject a header refused",
	      outbox_reconfigure(ob, &cfg, err, sizeof err) < 0);
	cfg = good;
	CHECK("settings: back to good ones", outbox_reconfigure(ob, &cfg, err, sizeof err) == 0);
}

/* The server's only AUTH attempt was mailer's, with the right password. */
static bool signed_in_once(const struct sink *s)
{
	return events(s, "auth", NULL, NULL) == 1 && events(s, "auth", "ok", "mailer") == 1;
}

/* AUTH: the password goes to a server that asks for it, and never in the
 * clear when TLS was asked for but not offered. */
static void auth(void)
{
	struct portal_config good = cfg;
	struct sink s = { 0 };
	char err[512], pw[512];
	struct info in;

	CHECK("AUTH: a server that requires it", sink_start(&s, "auth", 0, "--auth", "mailer:s3cret"));
	snprintf(pw, sizeof pw, "%s/auth.pw", tmp);
	write_file(pw, "s3cret\n", 0600);
	cfg.smtp_port = s.port;
	cfg.smtp_tls = MAIL_TLS_NONE;
	snprintf(cfg.smtp_user, sizeof cfg.smtp_user, "mailer");
	snprintf(cfg.smtp_password_file, sizeof cfg.smtp_password_file, "%s", pw);
	CHECK("AUTH: configured", outbox_reconfigure(ob, &cfg, err, sizeof err) == 0);
	CHECK("AUTH: queued", queue_notice("ivan", LANG_EN) == 0);
	in = wait_entry("ivan", "sent", 1);
	CHECK("AUTH: signed in with the password from the file, then sent",
	      starts(in.status, "sent") && signed_in_once(&s));

	cfg.smtp_tls = MAIL_TLS_STARTTLS;
	CHECK("AUTH: STARTTLS asked for", outbox_reconfigure(ob, &cfg, err, sizeof err) == 0);
	CHECK("AUTH: queued again", queue_notice("judy", LANG_EN) == 0);
	in = wait_entry("judy", "queued", 1);
	CHECK("AUTH: the server offers no TLS: no password, the mail waits",
	      in.attempts == 1 && strstr(in.status, "TLS") != NULL);
	CHECK("AUTH: the server never saw the password again", signed_in_once(&s));
	cfg = good;
	CHECK("AUTH: back to the plain server", outbox_reconfigure(ob, &cfg, err, sizeof err) == 0);
	sink_stop(&s);
}

/* A self-signed certificate for the TLS server (openssl's command). */
static bool make_certificate(const char *cert, const char *key)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execlp("openssl", "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
		       "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
		       "/CN=sink.test", "-keyout", key, "-out", cert, (char *)NULL);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

/* The messages the server took, and whether every one came over TLS. */
static int taken(const struct sink *s, bool *all_tls)
{
	int n = events(s, "data", NULL, NULL);

	*all_tls = events(s, "data", NULL, "tls") == n;
	return n;
}

/* One session after another, each of them must take its mail at the first
 * attempt.  Over TLS 1.3 the server's session tickets, sent after the
 * handshake, made libesmtp wait for a reply to an EHLO it had not sent
 * (mail.c, tls_context): one session in four or five stalled, so twenty
 * in a row all pass by chance less than once in a hundred. */
static void tls_sessions(const struct sink *s)
{
	bool all_tls;
	int before = taken(s, &all_tls), first_try = 0;
	char user[32];
	struct info in;

	for (int i = 0; i < 20; i++) {
		snprintf(user, sizeof user, "tls%02d", i);
		if (queue_notice(user, LANG_EN) != 0)
			break;
		in = wait_entry(user, "sent", 1);
		first_try += starts(in.status, "sent") && in.attempts == 1;
	}
	CHECK("TLS: 20 sessions in a row, each mail sent at its first attempt", first_try == 20);
	CHECK("TLS: ... each over TLS", taken(s, &all_tls) == before + 20 && all_tls);
}

/* STARTTLS: taken whenever offered, even with a certificate that does not
 * verify; with smtp_tls = required, only with one that does. */
static void tls(void)
{
	struct portal_config good = cfg;
	char cert[300], key[300], pair[620], err[512];
	struct sink s = { 0 }, plain = { 0 };
	struct info in;
	bool all_tls;
	int lines;

	snprintf(cert, sizeof cert, "%s/cert.pem", tmp);
	snprintf(key, sizeof key, "%s/key.pem", tmp);
	snprintf(pair, sizeof pair, "%s:%s", cert, key);
	CHECK("TLS: a self-signed certificate (openssl req)", make_certificate(cert, key));
	CHECK("TLS: a server offering STARTTLS", sink_start(&s, "tls", 0, "--tls", pair));
	cfg.smtp_port = s.port;
	cfg.smtp_tls = MAIL_TLS_STARTTLS;
	CHECK("TLS: starttls", outbox_reconfigure(ob, &cfg, err, sizeof err) == 0);
	CHECK("TLS: queued", queue_notice("kate", LANG_FR) == 0);
	in = wait_entry("kate", "sent", 1);
	lines = taken(&s, &all_tls);
	CHECK("TLS: starttls: sent over TLS, certificate unchecked",
	      starts(in.status, "sent") && in.attempts == 1 && lines == 1 && mails(&s) == 1 &&
	      all_tls);
	tls_sessions(&s);
	lines = taken(&s, &all_tls);

	cfg.smtp_tls = MAIL_TLS_REQUIRED;
	CHECK("TLS: required", outbox_reconfigure(ob, &cfg, err, sizeof err) == 0);
	CHECK("TLS: queued again", queue_notice("liam", LANG_FR) == 0);
	in = wait_entry("liam", "queued", 1);
	CHECK("TLS: required: a certificate that does not verify stops the mail",
	      in.attempts == 1 && strstr(in.status, "certificate is not trusted") != NULL &&
	      taken(&s, &all_tls) == lines);

	CHECK("TLS: a server without STARTTLS", sink_start(&plain, "notls", 0, NULL, NULL));
	cfg.smtp_port = plain.port;
	CHECK("TLS: required, there", outbox_reconfigure(ob, &cfg, err, sizeof err) == 0);
	CHECK("TLS: queued a third time", queue_notice("mona", LANG_FR) == 0);
	in = wait_entry("mona", "queued", 1);
	CHECK("TLS: required: no STARTTLS, no mail",
	      in.attempts == 1 && strstr(in.status, "does not offer STARTTLS") != NULL &&
	      mails(&plain) == 0);
	cfg = good;
	CHECK("TLS: back to the plain server", outbox_reconfigure(ob, &cfg, err, sizeof err) == 0);
	sink_stop(&s);
	sink_stop(&plain);
}

/* ---- a group of checks: its own folder, database, keys and outbox ------------ */

static bool group_start(void)
{
	char err[512] = "", db[300];

	if (!scratch_make(tmp, sizeof tmp, "unit_outbox") ||
	    (refusing_fd = refused_port(&refusing_port)) < 0)
		return false;
	snprintf(db, sizeof db, "%s/portal.db", tmp);
	keys = sodium_malloc(sizeof *keys);
	if (!keys)
		return false;
	randombytes_buf(keys, sizeof *keys);
	if (store_open(&st, db, err, sizeof err) < 0)
		return fprintf(stderr, "store_open: %s\n", err), false;
	config_defaults(&cfg);
	snprintf(cfg.smtp_host, sizeof cfg.smtp_host, "127.0.0.1");
	cfg.smtp_port = refusing_port;
	cfg.smtp_tls = MAIL_TLS_NONE;
	snprintf(cfg.mail_from, sizeof cfg.mail_from, "portail@test.example");
	snprintf(cfg.organization, sizeof cfg.organization, "Collège Test");
	ob = outbox_start(st, keys, &cfg, geteuid(), err, sizeof err);
	if (!ob)
		fprintf(stderr, "outbox_start: %s\n", err);
	return ob != NULL;
}

static void group_end(void)
{
	if (ob)
		outbox_stop(ob);
	if (st)
		store_close(st);
	ob = NULL;
	st = NULL;
	sodium_free(keys);
	keys = NULL;
	release_port(&refusing_fd);
	scratch_remove(tmp);
}

int main(void)
{
	if (sodium_init() < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	log_open(true);
	if (access(SERVER, R_OK) != 0) {
		CHECK("setup: " SERVER " (run from the top of the tree)", false);
		return check_done();
	}
	run_group("delivered", group_start, delivered, group_end);
	run_group("withheld", group_start, withheld, group_end);
	run_group("refused", group_start, refused, group_end);
	run_group("retried", group_start, retried, group_end);
	run_group("restart", group_start, restart, group_end);
	run_group("settings", group_start, settings, group_end);
	run_group("auth", group_start, auth, group_end);
	run_group("tls", group_start, tls, group_end);
	return check_done();
}
