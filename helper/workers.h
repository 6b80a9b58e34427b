/*
 * workers.h - the threads that answer what the event loop hands on.
 */
#ifndef PORTAL_WORKERS_H
#define PORTAL_WORKERS_H

#include <stddef.h>
#include "server.h"

/* The CPUs portald may run on. */
unsigned cpu_count(void);
int workers_start(struct server *s, unsigned n, char *err, size_t errlen);
/* Let the workers answer what is queued, then end them. */
void workers_stop(struct server *s);

#endif
