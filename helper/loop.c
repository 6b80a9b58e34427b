/*
 * loop.c - the event loop of the main thread: new connections, requests
 * coming in, connections the workers give back, and signals (SIGHUP
 * reloads the configuration, SIGTERM and SIGINT stop portald).
 */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "conn.h"
#include "log.h"
#include "workers.h"

int signals_block(struct server *s, char *err, size_t errlen)
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
 * the database, its key and the account are taken once, so changing them
 * needs a restart. */
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
	keep_setting("key_file", fresh.key_file, d->cfg.key_file, sizeof fresh.key_file);
	keep_setting("user", fresh.user, d->cfg.user, sizeof fresh.user);
	directory_keep_settings(&fresh, &d->cfg);
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
/* An event source other than a connection is told apart by the address of
 * its own fd field in s. */
static int loop_add(struct server *s, int *fdp)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = fdp };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, *fdp, &ev);
}

int loop_open(struct server *s, char *err, size_t errlen)
{
	s->reply = malloc(sizeof *s->reply);
	s->msg = malloc(sizeof *s->msg);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!s->reply || !s->msg || s->epfd < 0 || s->wakefd < 0 ||
	    loop_add(s, &s->lfd) < 0 || loop_add(s, &s->sigfd) < 0 || loop_add(s, &s->wakefd) < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int loop_run(struct server *s)
{
	struct epoll_event ev[64];

	workers_warm_stack();     /* the loop answers look-ups itself */
	for (;;) {
		int n = epoll_wait(s->epfd, ev, 64, conns_expire(s));
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
				conns_take_back(s);
			else if (src == &s->sigfd) {
				if (on_signals(s))
					return 0;
			} else
				conn_read(s, src);
		}
		if (incoming)
			conns_accept(s);
	}
}
