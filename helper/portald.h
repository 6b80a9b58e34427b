/*
 * portald.h - what every part of the helper shares: its store, keys,
 * outbox and configuration.
 *
 * portald.c starts and stops the process; the event loop (loop.c) and its
 * connections (conn.c) take requests in, the workers (workers.c) answer
 * the slow ones; dispatch.c turns one request into one response, and is
 * the only place where policy (who may do what) is decided; what each
 * request does is its handler's (handlers.h, req_*.c).
 */
#ifndef PORTAL_PORTALD_H
#define PORTAL_PORTALD_H

#include <pthread.h>
#include <semaphore.h>
#include <time.h>
#include "config.h"
#include "directory.h"
#include "keys.h"
#include "outbox.h"
#include "store.h"

struct storage;

struct portald {
	/* The members live in storage (storage.h): this GDBM file, or the
	 * PostgreSQL database the machines share.  store is the GDBM file
	 * either way: beside it the key file, and in it the outbox until
	 * the shared outbox is served (sender.c). */
	struct store *store;
	struct storage *storage;
	struct portal_keys *keys;
	struct outbox *outbox;
	struct directory *dir;       /* who is managed: the store, or the directory */
	pthread_rwlock_t cfg_lock;   /* guards cfg: SIGHUP swaps it */
	struct portal_config cfg;
	time_t started;
	sem_t hash_slots;            /* bounds concurrent Argon2id (memory) */
};

#endif
