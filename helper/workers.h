/*
 * workers.h - the threads that answer what the event loop hands on: the
 * workers, and the look-up thread.
 */
#ifndef PORTAL_WORKERS_H
#define PORTAL_WORKERS_H

#include <stddef.h>
#include "server.h"

/* The CPUs portald may run on. */
unsigned cpu_count(void);
/* Touch the calling thread's stack as deep as a request ever goes, once,
 * as the thread starts: see workers.c. */
void workers_warm_stack(void);
/* n workers, and the look-up thread. */
int workers_start(struct server *s, unsigned n, char *err, size_t errlen);
/* Let the threads answer what is queued, then end them. */
void workers_stop(struct server *s);

#endif
