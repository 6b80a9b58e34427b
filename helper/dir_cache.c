/*
 * dir_cache.c - the directory's answers kept in memory.  See dir_cache.h.
 *
 * A chained hash table, and a list in the order answers were read, for
 * eviction.  Names come from whoever signs in: the table's hash
 * (SipHash, crypto_shorthash) is keyed at random, so that nobody can
 * choose names that all fall in one chain.
 */
#include "dir_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define BUCKETS 65536    /* a power of two */

struct item {
	struct item *next;            /* in its bucket */
	struct item *newer, *older;   /* in the order read */
	char name[PORTAL_USER_MAX + 1];
	enum dir_status status;
	time_t read_at;
	unsigned naddr;
	char *dn;                     /* then the addresses, one after another, each NUL-ended */
};

struct dir_cache {
	pthread_mutex_t mu;
	struct item *bucket[BUCKETS];
	struct item *newest, *oldest;
	uint64_t count;
	uint8_t seed[crypto_shorthash_KEYBYTES];
};

struct dir_cache *dir_cache_new(void)
{
	struct dir_cache *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	randombytes_buf(c->seed, sizeof c->seed);
	return c;
}

static void item_free(struct item *it)
{
	if (!it)
		return;
	free(it->dn);
	free(it);
}

void dir_cache_free(struct dir_cache *c)
{
	struct item *it, *next;

	if (!c)
		return;
	for (it = c->newest; it; it = next) {
		next = it->older;
		item_free(it);
	}
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static struct item **slot(struct dir_cache *c, const char *name)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;
	struct item **p;

	crypto_shorthash(h, (const uint8_t *)name, strlen(name), c->seed);
	memcpy(&v, h, sizeof v);
	for (p = &c->bucket[v & (BUCKETS - 1)]; *p; p = &(*p)->next)
		if (strcmp((*p)->name, name) == 0)
			break;
	return p;
}

/* Take it out of the table and of the list (p: its place in its bucket). */
static void unlink_item(struct dir_cache *c, struct item **p)
{
	struct item *it = *p;

	*p = it->next;
	if (it->newer)
		it->newer->older = it->older;
	else
		c->newest = it->older;
	if (it->older)
		it->older->newer = it->newer;
	else
		c->oldest = it->newer;
	c->count--;
	item_free(it);
}

/* The entry's DN and addresses in one block. */
static char *pack(const struct dir_entry *e)
{
	const char *dn = e->ndn ? e->dn[0] : "";
	size_t n = strlen(dn) + 1, at;
	char *b;

	for (unsigned i = 0; i < e->naddr; i++)
		n += strlen(e->addr[i]) + 1;
	b = malloc(n);
	if (!b)
		return NULL;
	at = strlen(dn) + 1;
	memcpy(b, dn, at);
	for (unsigned i = 0; i < e->naddr; i++) {
		memcpy(b + at, e->addr[i], strlen(e->addr[i]) + 1);
		at += strlen(e->addr[i]) + 1;
	}
	return b;
}

void dir_cache_put(struct dir_cache *c, const char *name, const struct dir_entry *e)
{
	struct item *it = NULL, **p;

	if (e->status == DIR_UNAVAILABLE || strlen(name) > PORTAL_USER_MAX)
		return;
	it = calloc(1, sizeof *it);
	if (it && !(it->dn = pack(e))) {
		free(it);
		it = NULL;
	}
	pthread_mutex_lock(&c->mu);
	p = slot(c, name);
	if (*p)
		unlink_item(c, p);
	if (it && c->count >= DIR_CACHE_MAX)
		unlink_item(c, slot(c, c->oldest->name));
	if (it) {
		strcpy(it->name, name);
		it->status = e->status;
		it->read_at = e->read_at;
		it->naddr = e->naddr;
		p = slot(c, name);
		*p = it;
		it->older = c->newest;
		if (c->newest)
			c->newest->newer = it;
		else
			c->oldest = it;
		c->newest = it;
		c->count++;
	}
	pthread_mutex_unlock(&c->mu);
}

static void unpack(const struct item *it, struct dir_entry *out)
{
	const char *p = it->dn;

	memset(out, 0, sizeof *out);
	out->status = it->status;
	out->read_at = it->read_at;
	out->cached = true;
	out->matches = it->status == DIR_MANAGED;
	out->ndn = p[0] != '\0';
	snprintf(out->dn[0], sizeof out->dn[0], "%s", p);
	p += strlen(p) + 1;
	for (unsigned i = 0; i < it->naddr && i < DIR_ADDRS_MAX; i++) {
		snprintf(out->addr[i], sizeof out->addr[i], "%s", p);
		p += strlen(p) + 1;
		out->naddr++;
	}
}

bool dir_cache_get(struct dir_cache *c, const char *name, time_t now, unsigned ttl,
		   struct dir_entry *out)
{
	struct item **p;
	bool hit = false;

	if (strlen(name) > PORTAL_USER_MAX)
		return false;
	pthread_mutex_lock(&c->mu);
	p = slot(c, name);
	if (*p && now >= (*p)->read_at && now - (*p)->read_at <= (time_t)ttl) {
		unpack(*p, out);
		hit = true;
	} else if (*p) {
		unlink_item(c, p);
	}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

uint64_t dir_cache_count(struct dir_cache *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->mu);
	n = c->count;
	pthread_mutex_unlock(&c->mu);
	return n;
}
