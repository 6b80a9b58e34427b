/*
 * directory.c - who is managed: the store (local) or the organisation's
 * directory (ldap), with the cache and the directory's health.  See
 * directory.h.
 */
#include "directory.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "dir_cache.h"
#include "dir_ldap.h"
#include "log.h"
#include "valid.h"

/* After a failure the directory is asked again at most this often; in
 * between, answers come from the cache at once.  A server that drops
 * packets would otherwise hold every worker for ldap_timeout at each
 * sign-in (SSSD goes offline the same way). */
#define DIR_RETRY_MS 10000

struct directory {
	enum directory_kind kind;
	struct ldap_dir *ldap;          /* ldap */
	struct dir_cache *cache;
	unsigned ttl;
	pthread_mutex_t mu;             /* guards health and retry_at */
	struct dir_health health;
	long long retry_at;             /* monotonic ms; while unreachable */
};

struct directory *directory_open(const struct portal_config *cfg, uid_t owner, char *err,
				 size_t errlen)
{
	struct directory *dir = calloc(1, sizeof *dir);

	if (!dir) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&dir->mu, NULL);
	dir->kind = cfg->ldap.directory;
	dir->ttl = cfg->ldap.cache_ttl;
	dir->health.remote = dir->kind == DIRECTORY_LDAP;
	dir->health.reachable = true;
	if (dir->kind == DIRECTORY_LOCAL)
		return dir;
	dir->cache = dir_cache_new();
	if (!dir->cache)
		snprintf(err, errlen, "out of memory");
	else
		dir->ldap = ldap_dir_open(&cfg->ldap, owner, err, errlen);
	if (!dir->ldap) {
		directory_close(dir);
		return NULL;
	}
	return dir;
}

int directory_check(const struct portal_config *cfg, uid_t owner, char *err, size_t errlen)
{
	struct ldap_dir *ld;

	if (cfg->ldap.directory == DIRECTORY_LOCAL)
		return 0;
	ld = ldap_dir_open(&cfg->ldap, owner, err, errlen);
	ldap_dir_close(ld);
	return ld ? 0 : -1;
}

void directory_close(struct directory *dir)
{
	if (!dir)
		return;
	ldap_dir_close(dir->ldap);
	dir_cache_free(dir->cache);
	pthread_mutex_destroy(&dir->mu);
	free(dir);
}

bool directory_remote(const struct directory *dir)
{
	return dir && dir->kind == DIRECTORY_LDAP;
}

int dir_entry_has(const struct dir_entry *e, const char *addr)
{
	int found = -1;

	for (unsigned i = 0; i < e->naddr; i++) {
		bool same = email_equal(addr, e->addr[i]);

		found = same && found < 0 ? (int)i : found;
	}
	return found;
}

/* ---- health ---------------------------------------------------------------- */

static void reached(struct directory *dir)
{
	char uri[LDAP_URI_MAX];

	ldap_dir_server(dir->ldap, uri, sizeof uri);
	pthread_mutex_lock(&dir->mu);
	if (!dir->health.reachable || dir->health.since == 0) {
		log_msg(LOG_NOTICE, "directory: %s answers", uri);
		dir->health.reachable = true;
		dir->health.since = time(NULL);
	}
	snprintf(dir->health.uri, sizeof dir->health.uri, "%s", uri);
	pthread_mutex_unlock(&dir->mu);
}

static void unreachable(struct directory *dir, const char *why)
{
	pthread_mutex_lock(&dir->mu);
	if (dir->health.reachable || dir->health.since == 0) {
		log_msg(LOG_ERR, "directory: cannot be reached: %s; answers from the cache for "
			"up to %u s, then sign-ins of members are refused", why, dir->ttl);
		dir->health.reachable = false;
		dir->health.since = time(NULL);
	}
	snprintf(dir->health.error, sizeof dir->health.error, "%s", why);
	dir->retry_at = clock_ms() + DIR_RETRY_MS;
	pthread_mutex_unlock(&dir->mu);
}

/* Known to be down, and not yet time to ask again?  Then why, in why. */
static bool down(struct directory *dir, char *why, size_t cap)
{
	bool d;

	pthread_mutex_lock(&dir->mu);
	d = !dir->health.reachable && clock_ms() < dir->retry_at;
	if (d)
		snprintf(why, cap, "%s", dir->health.error);
	pthread_mutex_unlock(&dir->mu);
	return d;
}

void directory_probe(struct directory *dir)
{
	char why[DIR_DETAIL_MAX];

	if (dir->kind == DIRECTORY_LOCAL)
		return;
	if (ldap_dir_probe(dir->ldap, why, sizeof why) == 0)
		reached(dir);
	else
		unreachable(dir, why);
}

void directory_health(struct directory *dir, struct dir_health *h)
{
	pthread_mutex_lock(&dir->mu);
	*h = dir->health;
	pthread_mutex_unlock(&dir->mu);
	h->cached = dir->cache ? dir_cache_count(dir->cache) : 0;
}

/* ---- look-ups ----------------------------------------------------------------- */

/* The directory could not answer (why in out->detail): the answer kept
 * for the name, if it is recent enough, else none. */
static void from_cache(struct directory *dir, const char *name, size_t len,
		       struct dir_entry *out)
{
	struct dir_entry kept;

	if (len == strlen(name) && dir_cache_get(dir->cache, name, time(NULL), dir->ttl, &kept)) {
		memcpy(kept.filter, out->filter, sizeof kept.filter);
		memcpy(kept.detail, out->detail, sizeof kept.detail);
		*out = kept;
	} else {
		out->status = DIR_UNAVAILABLE;
	}
}

void directory_lookup(struct directory *dir, const char *name, size_t len, bool fresh,
		      struct dir_entry *out)
{
	memset(out, 0, sizeof *out);
	out->read_at = time(NULL);
	if (dir->kind == DIRECTORY_LOCAL) {
		/* the store says, in the request's own read (h_directory_lookup) */
		out->status = DIR_UNAVAILABLE;
		snprintf(out->detail, sizeof out->detail, "directory = local");
		return;
	}
	if (!fresh && down(dir, out->detail, sizeof out->detail)) {
		/* the filter is still what would be sent */
		ldap_user_filter_of(dir->ldap, name, len, out->filter, sizeof out->filter);
		from_cache(dir, name, len, out);
		return;
	}
	if (ldap_dir_lookup(dir->ldap, name, len, out) == 0) {
		reached(dir);
		if (len == strlen(name))
			dir_cache_put(dir->cache, name, out);
		return;
	}
	unreachable(dir, out->detail);
	from_cache(dir, name, len, out);
}

int directory_list(struct directory *dir, void (*each)(void *arg, const char *name,
		   const char *addr), void *arg, unsigned long *skipped, char *detail, size_t cap)
{
	if (dir->kind == DIRECTORY_LOCAL) {
		snprintf(detail, cap, "directory = local: portalctl user list walks the store");
		return -1;
	}
	if (ldap_dir_list(dir->ldap, each, arg, skipped, detail, cap) < 0) {
		unreachable(dir, detail);
		return -1;
	}
	reached(dir);
	return 0;
}

void directory_keep_settings(struct portal_config *fresh, const struct portal_config *now)
{
	if (memcmp(&fresh->ldap, &now->ldap, sizeof fresh->ldap) == 0)
		return;
	log_msg(LOG_WARNING, "reload: directory or ldap_* changed; still using the settings "
		"in force until portald is restarted");
	fresh->ldap = now->ldap;
}
