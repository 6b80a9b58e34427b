/*
 * store_gdbm_mail.c - the outbox of the storage interface on GDBM: the
 * sealed queue of mailq.c under the store lock, with claims kept in
 * memory (one machine: a claim's holder is a thread of this process).
 * The same contract as PostgreSQL's (storage.h): a claim has a lease and
 * a token, and an outcome is written only under the token still held.
 */
#include "store_gdbm.h"

#include <stdio.h>
#include <string.h>
#include "log.h"

#define KEEP_DONE (24 * 3600)   /* mailq_forget keeps a finished entry this long */

/* The claim on id, or NULL. */
static struct claim *claim_of(struct gdbm_storage *g, const char *id)
{
	for (size_t i = 0; i < CLAIMS_MAX; i++)
		if (strcmp(g->claims[i].id, id) == 0)
			return &g->claims[i];
	return NULL;
}

/* Is the entry claimed by a lease that still runs? */
static bool claimed(struct gdbm_storage *g, const char *id, time_t now)
{
	const struct claim *k = claim_of(g, id);

	return k && k->until > now;
}

/* A slot for a new claim on id (its old, run-out claim, or a free one). */
static struct claim *claim_slot(struct gdbm_storage *g, const char *id, time_t now)
{
	struct claim *k = claim_of(g, id);

	for (size_t i = 0; !k && i < CLAIMS_MAX; i++)
		if (!g->claims[i].id[0] || g->claims[i].until <= now)
			k = &g->claims[i];
	return k;
}

int gdbm_mail_queue(struct storage_conn *c, struct storage_mail *m)
{
	struct gdbm_storage *g = gst(c);
	bool alone = !gs(c)->locked;
	int rc = 0;

	if (alone)
		store_lock(g->st);
	snprintf(m->queued_by, sizeof m->queued_by, "%s", g->host);
	/* Only a code mail sent ends the older ones: a withheld one, asked
	 * with an address not on file, never touches the member's (issue 14). */
	if (m->rec.kind == MAILQ_CODE && m->rec.status == MAILQ_QUEUED)
		rc = mailq_supersede(&g->q, m->rec.user, MAILQ_CODE);
	if (rc == 0)
		rc = mailq_insert(&g->q, &m->rec);
	gs(c)->dirty = true;
	if (alone && store_sync_released(g->st) != 0)
		rc = -1;
	if (alone)
		store_unlock(g->st);
	return rc == 0 ? STORAGE_OK : STORAGE_ERROR;
}

/* The record of an index entry into m, its box copied. */
static bool take(struct gdbm_storage *g, const char *id, struct storage_mail *m, bool box)
{
	struct mail_record *r = &m->rec;

	memset(m, 0, sizeof *m);
	if (mailq_get(&g->q, id, r) != 0)
		return false;
	if (box && r->box && r->boxlen <= sizeof m->box) {
		memcpy(m->box, r->box, r->boxlen);
		r->box = m->box;
	} else {
		r->box = NULL;
		r->boxlen = 0;
	}
	snprintf(m->queued_by, sizeof m->queued_by, "%s", g->host);
	if (r->status != MAILQ_QUEUED)
		snprintf(m->sent_by, sizeof m->sent_by, "%s", g->host);
	return true;
}

int gdbm_mail_claim(struct storage_conn *c, unsigned lease, struct storage_mail *out,
		    size_t max, size_t *n)
{
	struct gdbm_storage *g = gst(c);
	time_t now = time(NULL);

	*n = 0;
	store_lock(g->st);
	for (size_t i = 0; i < g->q.count && *n < max; i++) {
		const struct mail_entry *e = &g->q.index[i];
		struct claim *k;

		if (e->status != MAILQ_QUEUED || e->when > now || claimed(g, e->id, now) ||
		    !(k = claim_slot(g, e->id, now)) || !take(g, e->id, &out[*n], true))
			continue;
		snprintf(k->id, sizeof k->id, "%s", e->id);
		randombytes_buf(&k->token, sizeof k->token);
		k->token |= 1;          /* never 0, the "not claimed" */
		k->until = now + (time_t)lease;
		out[*n].claim = k->token;
		out[*n].lease_until = (uint64_t)k->until;
		snprintf(out[*n].claimed_by, sizeof out[*n].claimed_by, "%s", g->host);
		(*n)++;
	}
	proto_wipe(&g->q.raw);
	store_unlock(g->st);
	return STORAGE_OK;
}

/* Under the lock: write m's outcome over the entry, unless the claim is
 * gone or (a retry) the entry was closed meanwhile. */
static int finish(struct gdbm_storage *g, const struct storage_mail *m)
{
	struct claim *k = claim_of(g, m->rec.id);
	struct mail_record r;

	if (!k || k->token != m->claim)
		return STORAGE_FENCED;
	memset(k, 0, sizeof *k);
	if (mailq_get(&g->q, m->rec.id, &r) != 0)
		return STORAGE_ERROR;
	if (m->rec.status == MAILQ_QUEUED && r.status != MAILQ_QUEUED)
		return STORAGE_FENCED;
	r.status = m->rec.status;
	r.attempts = m->rec.attempts;
	r.next_try = m->rec.next_try ? m->rec.next_try : r.next_try;
	snprintf(r.detail, sizeof r.detail, "%s", m->rec.detail);
	if (r.status != MAILQ_QUEUED) {
		r.done = (uint64_t)time(NULL);
		r.box = NULL;
		r.boxlen = 0;
	}
	if (mailq_put(&g->q, &r) != 0 || store_sync_released(g->st) != 0)
		return STORAGE_ERROR;
	return STORAGE_OK;
}

int gdbm_mail_finish(struct storage_conn *c, const struct storage_mail *m)
{
	struct gdbm_storage *g = gst(c);
	int rc;

	store_lock(g->st);
	rc = finish(g, m);
	proto_wipe(&g->q.raw);
	store_unlock(g->st);
	return rc;
}

int gdbm_mail_purge(struct storage_conn *c, time_t before, unsigned long *n)
{
	struct gdbm_storage *g = gst(c);
	size_t was;
	int rc = STORAGE_OK;

	store_lock(g->st);
	was = g->q.count;
	if (mailq_forget(&g->q, before + KEEP_DONE) && store_sync_released(g->st) != 0)
		rc = STORAGE_ERROR;
	*n = (unsigned long)(was - g->q.count);
	store_unlock(g->st);
	return rc;
}

int gdbm_mail_list(struct storage_conn *c, const char *cursor, struct storage_mail *out,
		   size_t max, size_t *n)
{
	struct gdbm_storage *g = gst(c);

	*n = 0;
	store_lock(g->st);
	for (size_t i = 0; i < g->q.count && *n < max; i++)
		if (strcmp(g->q.index[i].id, cursor) > 0 && take(g, g->q.index[i].id, &out[*n], false))
			(*n)++;
	proto_wipe(&g->q.raw);
	store_unlock(g->st);
	return STORAGE_OK;
}

int gdbm_mail_pending(struct storage_conn *c, unsigned long *n)
{
	struct gdbm_storage *g = gst(c);

	store_lock(g->st);
	*n = mailq_pending(&g->q);
	store_unlock(g->st);
	return STORAGE_OK;
}
