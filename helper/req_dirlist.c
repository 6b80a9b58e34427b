/*
 * req_dirlist.c - `portalctl user list` with directory = ldap: the
 * directory's members with their portal state.
 *
 * A paged search (RFC 2696) must go on over the connection that began it,
 * and portalctl asks for its pages in requests of their own, each of
 * which any worker may answer.  So the first request reads every page of
 * the search at once, on one connection, into a list kept here (names
 * and first addresses: some 100 bytes a member); the following ones are
 * served from it by the cursor "d:ID:OFFSET", which ends with the list.
 * A list not asked for in LIST_IDLE seconds goes; so does the oldest one
 * when LIST_KEPT are kept.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "log.h"
#include "req_directory.h"
#include "store.h"

#define LIST_KEPT 4
#define LIST_IDLE 300

struct members {
	uint64_t id;                 /* 0: free */
	time_t used;
	char *text;                  /* "name\0addr\0" after one another */
	size_t len, cap;
	size_t *at;                  /* where each member starts in text */
	size_t n, ncap;
	bool broken;                 /* out of memory while reading */
};

static pthread_mutex_t lists_mu = PTHREAD_MUTEX_INITIALIZER;
static struct members lists[LIST_KEPT];

static void members_free(struct members *m)
{
	free(m->text);
	free(m->at);
	memset(m, 0, sizeof *m);
}

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 256;
	void *more;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	more = realloc(*p, n * size);
	if (!more)
		return false;
	*p = more;
	*cap = n;
	return true;
}

static void add_member(void *arg, const char *name, const char *addr)
{
	struct members *m = arg;
	size_t ln = strlen(name) + 1, la = strlen(addr) + 1;

	if (m->broken || !grow((void **)&m->text, &m->cap, m->len + ln + la, 1) ||
	    !grow((void **)&m->at, &m->ncap, m->n + 1, sizeof *m->at)) {
		m->broken = true;
		return;
	}
	m->at[m->n++] = m->len;
	memcpy(m->text + m->len, name, ln);
	memcpy(m->text + m->len + ln, addr, la);
	m->len += ln + la;
}

/* lists_mu held: a slot for a new list, the idle and the oldest going first. */
static struct members *free_slot(time_t now)
{
	struct members *oldest = &lists[0];

	for (int i = 0; i < LIST_KEPT; i++) {
		if (lists[i].id && now - lists[i].used > LIST_IDLE)
			members_free(&lists[i]);
		if (!lists[i].id)
			return &lists[i];
		if (lists[i].used < oldest->used)
			oldest = &lists[i];
	}
	members_free(oldest);
	return oldest;
}

/* lists_mu held: the directory's members, read now.  NULL after answering. */
static struct members *read_members(struct req *r)
{
	struct members *m = free_slot(r->now);
	unsigned long skipped = 0;
	char why[DIR_DETAIL_MAX];

	if (directory_list(r->d->dir, add_member, m, &skipped, why, sizeof why) < 0) {
		members_free(m);
		reply_detail(r, RESULT_UNAVAILABLE, why);
		return NULL;
	}
	if (m->broken) {
		members_free(m);
		reply_detail(r, RESULT_INTERNAL, "out of memory reading the directory's members");
		return NULL;
	}
	if (skipped)
		log_msg(LOG_NOTICE, "user list: entries of the directory without a user name "
			"portald could manage, not listed: %lu", skipped);
	do
		randombytes_buf(&m->id, sizeof m->id);
	while (m->id == 0);
	m->used = r->now;
	return m;
}

/* "d:ID:OFFSET", ID in hex. */
static bool cursor_parse(const char *s, uint64_t *id, size_t *offset)
{
	unsigned long long i, o;
	int end = 0;

	if (sscanf(s, "d:%16llx:%llu%n", &i, &o, &end) != 2 || s[end] != '\0' || i == 0)
		return false;
	*id = i;
	*offset = (size_t)o;
	return true;
}

/* lists_mu held: the list the cursor names, NULL after answering. */
static struct members *find_members(struct req *r, const char *cursor, size_t *offset)
{
	uint64_t id;

	if (!cursor_parse(cursor, &id, offset)) {
		reply_detail(r, RESULT_INVALID, "cursor");
		return NULL;
	}
	for (int i = 0; i < LIST_KEPT; i++)
		if (lists[i].id == id && *offset <= lists[i].n) {
			lists[i].used = r->now;
			return &lists[i];
		}
	reply_detail(r, RESULT_INVALID, "cursor: the list is no longer kept; start again");
	return NULL;
}

/* The member at i as user list shows it: portal state from the store
 * (none yet: pending, never signed in), the address from the directory.
 * Store lock held.  False when it did not fit (room kept for the cursor). */
static bool put_member(struct req *r, const struct members *m, size_t i, uint32_t state)
{
	const char *name = m->text + m->at[i], *addr = name + strlen(name) + 1;
	struct proto_buf entry;
	enum pending_reason why;
	struct user_record u;
	bool fits = true;

	if (user_load(r->d->store, name, &u) != 0)
		user_init(&u, name, "", r->now);
	snprintf(u.email, sizeof u.email, "%s", addr);
	if (state == STATE_UNMANAGED || user_state(&u, &r->cfg, r->now, NULL, &why) == state) {
		user_entry(&u, &r->cfg, r->now, &entry);
		fits = r->resp->len + 3 + entry.len + 64 <= PROTO_MAX_FRAME;
		if (fits)
			proto_put_nested(r->resp, TAG_ENTRY, &entry);
	}
	user_wipe(&u);
	return fits;
}

static void serve_page(struct req *r, struct members *m, size_t from, uint32_t state)
{
	char cursor[64];
	size_t i = from;

	reply(r, RESULT_OK);
	store_lock(r->d->store);
	for (; i < m->n && i - from < PROTO_PAGE; i++)
		if (!put_member(r, m, i, state))
			break;
	store_unlock(r->d->store);
	if (i < m->n) {
		snprintf(cursor, sizeof cursor, "d:%016llx:%zu", (unsigned long long)m->id, i);
		proto_put_str(r->resp, TAG_CURSOR, cursor);
	} else {
		members_free(m);
	}
}

void h_directory_list(struct req *r)
{
	char cursor[64];
	uint32_t state = STATE_UNMANAGED;
	struct members *m;
	size_t from = 0;

	if (proto_find(r->msg, TAG_STATE) &&
	    (!proto_get_u32(r->msg, TAG_STATE, &state) || state == STATE_UNMANAGED ||
	     state > STATE_LOCKED)) {
		reply_detail(r, RESULT_INVALID, "state");
		return;
	}
	if (proto_find(r->msg, TAG_CURSOR) &&
	    !proto_get_str(r->msg, TAG_CURSOR, cursor, sizeof cursor)) {
		reply_detail(r, RESULT_INVALID, "cursor");
		return;
	}
	pthread_mutex_lock(&lists_mu);
	m = proto_find(r->msg, TAG_CURSOR) ? find_members(r, cursor, &from) : read_members(r);
	if (m)
		serve_page(r, m, from, state);
	pthread_mutex_unlock(&lists_mu);
}
