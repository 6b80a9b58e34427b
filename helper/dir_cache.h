/*
 * dir_cache.h - the answers last read from the directory, one a user
 * name, kept in memory to serve while the directory cannot be reached.
 *
 * In memory, not in the store: the store may be shared by several machines
 * (PostgreSQL) while whether the directory can be reached is each
 * machine's own; a status look-up stays a read (no write to keep the
 * cache); and a cache lost with a restart only fails closed.  Bounded:
 * past DIR_CACHE_MAX names, the one read longest ago goes.
 */
#ifndef PORTAL_DIR_CACHE_H
#define PORTAL_DIR_CACHE_H

#include <stdint.h>
#include <time.h>
#include "directory.h"

#define DIR_CACHE_MAX 200000

struct dir_cache;

struct dir_cache *dir_cache_new(void);
void dir_cache_free(struct dir_cache *c);
/* Keep e, read at e->read_at, as the answer for name (DIR_UNAVAILABLE is
 * never kept).  Out of memory: the old answer goes, nothing is kept. */
void dir_cache_put(struct dir_cache *c, const char *name, const struct dir_entry *e);
/* The answer kept for name if read no longer than ttl seconds before now:
 * true with it in out (cached set).  An older one is dropped: a member
 * removed from the directory is not managed for longer than that. */
bool dir_cache_get(struct dir_cache *c, const char *name, time_t now, unsigned ttl,
		   struct dir_entry *out);
uint64_t dir_cache_count(struct dir_cache *c);

#endif
