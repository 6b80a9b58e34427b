/*
 * portald.c - the helper daemon's start and stop: the command line, the
 * configuration, the files it opens as root before it becomes its own
 * account, and what -t checks of them.  The process once started is
 * server.h's business; what a request means is dispatch.c's.
 *
 * portald never forks into the background: a service manager (systemd
 * Type=simple) or a shell runs it as it is.  -f only sends the log to
 * stderr instead of syslog.  -t checks the configuration and the files it
 * names as the start would, and stops there (sshd -t).
 */
#include "server.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "conn.h"
#include "fleet.h"
#include "listener.h"
#include "log.h"
#include "loop.h"
#include "storage.h"
#include "version.h"
#include "workers.h"

/* ---- start and stop ---------------------------------------------------------- */

/* A file portald makes at its first start needs a folder to make it in,
 * where portald, as it is now, can. */
static int folder_for(const char *file, const char *what, char *err, size_t errlen)
{
	char copy[PATH_MAX];
	const char *dir, *why;

	snprintf(copy, sizeof copy, "%s", file);
	dir = dirname(copy);
	if ((why = folder_problem(dir)) == NULL)
		return 0;
	snprintf(err, errlen, "%s folder %s: %s", what, dir, why);
	return -1;
}

/* The database and its key as keys_load_owned and store_open_owned will
 * find them, before they open (or make) them: what is missing is made.
 * A database without its key is refused: a new key would make its live
 * codes, tickets and queued mail unreadable, silently; the administrator
 * must put the key back, or start afresh knowingly. */
static int files_check(const struct portal_config *cfg, const struct runas *as, char *err,
		       size_t errlen)
{
	int db = store_check(cfg->database, as->uid, err, errlen), key;

	if (db < 0 || (key = keys_check(cfg->key_file, as->uid, err, errlen)) < 0)
		return -1;
	if (db == 0 && key == 1) {
		snprintf(err, errlen, "%.150s: no key file, but the database %.150s made with "
			 "it is there: put the key file back (key_file), or move the database "
			 "away to start afresh", cfg->key_file, cfg->database);
		return -1;
	}
	if ((db == 1 && folder_for(cfg->database, "database", err, errlen) < 0) ||
	    (key == 1 && folder_for(cfg->key_file, "key file", err, errlen) < 0))
		return -1;
	return 0;
}

static int server_start(struct server *s, char *err, size_t errlen)
{
	struct portald *d = s->d;
	unsigned ncpu = cpu_count();
	int e;

	if (privileges_harden(err, errlen) < 0 || signals_block(s, err, errlen) < 0 ||
	    runas_resolve(&d->cfg, &s->as, err, errlen) < 0)
		return -1;
	/* The socket first: a second portald stops here, before it touches
	 * the database.  Early clients wait in the backlog. */
	s->lfd = listener_open(d->cfg.socket, &s->as, &s->sock_made, err, errlen);
	if (s->lfd < 0)
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
	d->keys = keys_load_owned(d->cfg.key_file, s->as.uid, s->as.gid, err, errlen);
	if (!d->keys ||
	    store_open_owned(&d->store, d->cfg.database, s->as.uid, s->as.gid, err, errlen) < 0 ||
	    keys_match(d->keys, d->store, d->cfg.key_file, err, errlen) < 0)
		return -1;
	/* Reads the database's password file (root's); on PostgreSQL, the
	 * key and the policy must be the other machines'. */
	d->storage = storage_open(&d->cfg, d->store, s->as.uid, err, errlen);
	if (!d->storage || fleet_check(d->storage, &d->cfg, d->keys, err, errlen) < 0)
		return -1;
	/* Reads the directory's bind password (before any thread: libldap
	 * sets itself up in one). */
	d->dir = directory_open(&d->cfg, s->as.uid, err, errlen);
	if (!d->dir)
		return -1;
	/* Reads the SMTP password file: the last thing root is needed for. */
	d->outbox = outbox_start(d->store, d->keys, &d->cfg, s->as.uid, err, errlen);
	if (!d->outbox || runas_drop(&s->as, err, errlen) < 0)
		return -1;
	d->started = time(NULL);

	/* The event loop's own session answers status look-ups from the
	 * GDBM file; on PostgreSQL, a look-up is a round trip, which is the
	 * look-up thread's (dispatch_quick). */
	if (d->cfg.store == STORE_GDBM && !(s->sc = storage_connect(d->storage, err, errlen)))
		return -1;
	if (loop_open(s, err, errlen) < 0)
		return -1;
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
		conns_take_back(s);
	}
	if (d->outbox)
		outbox_stop(d->outbox);
	storage_disconnect(s->sc);
	storage_close(d->storage);
	directory_close(d->dir);
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
	       listener_check(cfg->socket, err, errlen) < 0 ||
	       files_check(cfg, &s->as, err, errlen) < 0 ||
	       directory_check(cfg, s->as.uid, err, errlen) < 0 ||
	       storage_check(cfg, s->as.uid, err, errlen) < 0 ||
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
				   .work = LANE_INIT, .lookups = LANE_INIT,
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
	log_msg(LOG_INFO, "portald %s listening on %s (%u workers, store %s%s%s)",
		PORTAL_VERSION, d.cfg.socket, s.nworkers, storage_name(d.storage),
		d.cfg.store == STORE_POSTGRESQL ? ", machine " : "",
		d.cfg.store == STORE_POSTGRESQL ? d.cfg.host_name : "");
	rc = loop_run(&s);
	server_stop(&s);
	log_msg(LOG_INFO, "stopped");
	return rc == 0 ? 0 : 1;
}
