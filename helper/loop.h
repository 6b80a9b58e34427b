/*
 * loop.h - the event loop of the main thread, and the signals it takes.
 */
#ifndef PORTAL_LOOP_H
#define PORTAL_LOOP_H

#include <stddef.h>
#include "server.h"

/* Block the signals portald takes through its signalfd (before any thread). */
int signals_block(struct server *s, char *err, size_t errlen);
/* The epoll set (listener, signals, workers' wake-ups) and the main
 * thread's buffers. */
int loop_open(struct server *s, char *err, size_t errlen);
/* Serve until a signal says stop (0) or epoll fails (-1). */
int loop_run(struct server *s);

#endif
