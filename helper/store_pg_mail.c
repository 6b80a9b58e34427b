/*
 * store_pg_mail.c - the shared outbox on PostgreSQL: queued inside a
 * member's transaction, claimed by any machine's sender for a lease,
 * finished under the claim's fence.  See storage.h.
 *
 * A claim is an UPDATE of the due rows picked FOR UPDATE SKIP LOCKED, so
 * two senders never wait for each other nor take the same mail, and it
 * commits at once: the SMTP session runs with no transaction open.  The
 * claim's token is random; the outcome is written only WHERE the token is
 * still the one the sender got, so a sender whose lease ran out (a long
 * session, a stopped machine) and whose mail another machine has claimed
 * since writes nothing.  Delivery is at least once: a sender killed
 * between the server's acceptance and its write leaves the mail to be
 * sent again after the lease.
 */
#include "store_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "log.h"

/* The columns of a mail, of the table named p ("" or "o."). */
#define MAIL_COLUMNS(p, box) \
	p "id, " p "kind, " p "member, " p "recipient, " p "status, " p "attempts, " \
	EPOCH(p "next_try") ", " EPOCH(p "expires") ", " p "detail, " EPOCH(p "finished_at") \
	", " box ", " p "queued_by, coalesce(" p "claimed_by, ''), coalesce(" p "claim_token, 0), " \
	EPOCH(p "lease_until") ", coalesce(" p "finished_by, '')"
#define WITHOUT_BOX "NULL, NULL"

enum { OC_ID, OC_KIND, OC_MEMBER, OC_TO, OC_STATUS, OC_ATTEMPTS, OC_NEXT_TRY, OC_EXPIRES,
       OC_DETAIL, OC_DONE, OC_NONCE, OC_BOX, OC_QUEUED_BY, OC_CLAIMED_BY, OC_CLAIM,
       OC_LEASE, OC_FINISHED_BY };

/* The number of a kind or status name (`name` of mailq_*_name), or -1. */
static int number_of(const char *(*name)(unsigned), const char *v)
{
	for (unsigned i = 0; i < 8; i++)
		if (strcmp(name(i), v) == 0)
			return (int)i;
	return -1;
}

/* The box and its nonce, when the row has them. */
static bool row_box(const PGresult *res, int row, struct storage_mail *m)
{
	struct mail_record *r = &m->rec;
	long len;

	if (PQgetisnull(res, row, OC_BOX))
		return true;
	len = pgs_bytes(res, row, OC_BOX, m->box, sizeof m->box);
	if (len <= (long)crypto_secretbox_MACBYTES ||
	    pgs_bytes(res, row, OC_NONCE, r->nonce, sizeof r->nonce) != (long)sizeof r->nonce)
		return false;
	r->box = m->box;
	r->boxlen = (size_t)len;
	return true;
}

/* A row of MAIL_COLUMNS into m; false when it is not a mail of ours. */
static bool row_to_mail(const PGresult *res, int row, struct storage_mail *m)
{
	struct mail_record *r = &m->rec;
	int kind = number_of(mailq_kind_name, PQgetvalue(res, row, OC_KIND));
	int status = number_of(mailq_status_name, PQgetvalue(res, row, OC_STATUS));

	memset(r, 0, sizeof *r);
	if (kind < 0 || status < 0 ||
	    !pgs_str(res, row, OC_ID, r->id, sizeof r->id) ||
	    !pgs_str(res, row, OC_MEMBER, r->user, sizeof r->user) ||
	    !pgs_str(res, row, OC_TO, r->to, sizeof r->to) ||
	    !pgs_str(res, row, OC_DETAIL, r->detail, sizeof r->detail) ||
	    !pgs_str(res, row, OC_QUEUED_BY, m->queued_by, sizeof m->queued_by) ||
	    !pgs_str(res, row, OC_CLAIMED_BY, m->claimed_by, sizeof m->claimed_by) ||
	    !pgs_str(res, row, OC_FINISHED_BY, m->sent_by, sizeof m->sent_by))
		return false;
	r->kind = (uint32_t)kind;
	r->status = (uint32_t)status;
	r->attempts = (uint32_t)pgs_u64(res, row, OC_ATTEMPTS);
	r->next_try = pgs_u64(res, row, OC_NEXT_TRY);
	r->expires = pgs_u64(res, row, OC_EXPIRES);
	r->done = pgs_u64(res, row, OC_DONE);
	m->claim = pgs_u64(res, row, OC_CLAIM);
	m->lease_until = pgs_u64(res, row, OC_LEASE);
	return row_box(res, row, m);
}

/* The rows of res into out[0..*n), at most max. */
static int rows_to_mails(const PGresult *res, struct storage_mail *out, size_t max, size_t *n)
{
	*n = 0;
	for (int i = 0; i < PQntuples(res) && *n < max; i++) {
		if (!row_to_mail(res, i, &out[*n])) {
			log_msg(LOG_ERR, "outbox %s: the row cannot be read", PQgetvalue(res, i, 0));
			continue;
		}
		(*n)++;
	}
	return STORAGE_OK;
}

/* Rows changed by the statement res reports. */
static int changed(PGresult *res)
{
	int n = res ? atoi(PQcmdTuples(res)) : 0;

	PQclear(res);
	return n;
}

/* ---- queueing, in the member's transaction ------------------------------------- */

/* A code mail of the member still waiting ends: only the newest works. */
static int supersede(struct pg_session *s, const char *member, const char *host)
{
	const char *vals[2] = { member, host };
	int rc;
	PGresult *res = pgs_run(s, "supersede",
				"UPDATE outbox SET status = 'expired', finished_at = now(), "
				"finished_by = $2, detail = 'replaced by a newer code', "
				"nonce = NULL, sealed_message = NULL "
				"WHERE member = $1 AND kind = 'code' AND status = 'queued'",
				2, vals, NULL, &rc);

	changed(res);
	return rc;
}

int pg_mail_queue(struct storage_conn *c, struct storage_mail *m)
{
	struct pg_session *s = pgs_session(c);
	const struct mail_record *r = &m->rec;
	char expires[24];
	const char *vals[9] = {
		r->id, mailq_kind_name(r->kind), r->user, r->to, mailq_status_name(r->status),
		expires, r->box ? (const char *)r->nonce : NULL, (const char *)r->box,
		m->queued_by,
	};
	int lens[9] = { -1, -1, -1, -1, -1, -1, (int)sizeof r->nonce, (int)r->boxlen, -1 }, rc;

	snprintf(m->queued_by, sizeof m->queued_by, "%s", pgs_host(c));
	snprintf(expires, sizeof expires, "%llu", (unsigned long long)r->expires);
	if (r->kind == MAILQ_CODE && r->status == MAILQ_QUEUED &&
	    (rc = supersede(s, r->user, m->queued_by)) != STORAGE_OK)
		return rc;
	changed(pgs_run(s, "queue",
			"INSERT INTO outbox (id, kind, member, recipient, status, next_try, "
			"expires, finished_at, nonce, sealed_message, queued_by, finished_by) "
			"VALUES ($1, $2, $3, $4, $5::text, now(), " STAMP("$6") ", CASE WHEN "
			"$5::text = 'queued' THEN NULL ELSE now() END, $7, $8, $9::text, "
			"CASE WHEN $5::text = 'queued' THEN NULL ELSE $9::text END)",
			9, vals, lens, &rc));
	return rc;
}

/* ---- the sender's side: each statement commits on its own ---------------------------- */

int pg_mail_claim(struct storage_conn *c, unsigned lease, struct storage_mail *out,
		  size_t max, size_t *n)
{
	struct pg_session *s = pgs_session(c);
	char token[24], secs[16], limit[16];
	const char *vals[4] = { pgs_host(c), token, secs, limit };
	uint64_t t;
	int rc = pgs_connected(s);
	PGresult *res;

	*n = 0;
	if (rc != STORAGE_OK)
		return rc;
	/* A positive bigint, never 0 (the "not claimed" of the columns). */
	do {
		randombytes_buf(&t, sizeof t);
		t &= INT64_MAX;
	} while (t == 0);
	snprintf(token, sizeof token, "%llu", (unsigned long long)t);
	snprintf(secs, sizeof secs, "%u", lease);
	snprintf(limit, sizeof limit, "%zu", max);
	res = pgs_run(s, "claim",
		      "UPDATE outbox o SET claimed_by = $1, claim_token = $2::bigint, "
		      "lease_until = now() + make_interval(secs => $3::integer) "
		      "FROM (SELECT id FROM outbox WHERE status = 'queued' AND next_try <= now() "
		      "AND (lease_until IS NULL OR lease_until <= now()) ORDER BY id "
		      "LIMIT $4::integer FOR UPDATE SKIP LOCKED) due WHERE o.id = due.id "
		      "RETURNING " MAIL_COLUMNS("o.", "o.nonce, o.sealed_message"), 4, vals, NULL, &rc);
	if (!res)
		return rc;
	rc = rows_to_mails(res, out, max, n);
	PQclear(res);
	return rc;
}

int pg_mail_finish(struct storage_conn *c, const struct storage_mail *m)
{
	struct pg_session *s = pgs_session(c);
	const struct mail_record *r = &m->rec;
	char token[24], attempts[16], next[24];
	const char *vals[7] = { r->id, token, mailq_status_name(r->status), attempts, next,
				r->detail, pgs_host(c) };
	int rc = pgs_connected(s), rows;

	if (rc != STORAGE_OK)
		return rc;
	snprintf(token, sizeof token, "%llu", (unsigned long long)m->claim);
	snprintf(attempts, sizeof attempts, "%u", r->attempts);
	snprintf(next, sizeof next, "%llu", (unsigned long long)r->next_try);
	/* A mail closed meanwhile (replaced by a newer code) stays closed
	 * unless this is its final word: it was sent after all. */
	rows = changed(pgs_run(s, "finish",
			       "UPDATE outbox SET status = $3::text, attempts = $4::integer, "
			       "next_try = coalesce(" STAMP("$5") ", next_try), detail = $6, "
			       "finished_at = CASE WHEN $3::text = 'queued' THEN NULL ELSE now() END, "
			       "finished_by = CASE WHEN $3::text = 'queued' THEN NULL ELSE $7 END, "
			       "nonce = CASE WHEN $3::text = 'queued' THEN nonce END, "
			       "sealed_message = CASE WHEN $3::text = 'queued' THEN sealed_message END, "
			       "claimed_by = NULL, claim_token = NULL, lease_until = NULL "
			       "WHERE id = $1 AND claim_token = $2::bigint "
			       "AND ($3::text <> 'queued' OR status = 'queued')", 7, vals, NULL, &rc));
	return rc == STORAGE_OK && rows == 0 ? STORAGE_FENCED : rc;
}

int pg_mail_purge(struct storage_conn *c, time_t before, unsigned long *n)
{
	struct pg_session *s = pgs_session(c);
	char when[24];
	const char *vals[1] = { when };
	int rc = pgs_connected(s);

	*n = 0;
	if (rc != STORAGE_OK)
		return rc;
	snprintf(when, sizeof when, "%lld", (long long)before);
	*n = (unsigned long)changed(pgs_run(s, "purge", "DELETE FROM outbox WHERE status <> "
					    "'queued' AND finished_at < to_timestamp($1::bigint)",
					    1, vals, NULL, &rc));
	return rc;
}

int pg_mail_list(struct storage_conn *c, const char *cursor, struct storage_mail *out,
		 size_t max, size_t *n)
{
	struct pg_session *s = pgs_session(c);
	char limit[16];
	const char *vals[2] = { cursor, limit };
	int rc = pgs_connected(s);
	PGresult *res;

	*n = 0;
	if (rc != STORAGE_OK)
		return rc;
	snprintf(limit, sizeof limit, "%zu", max);
	res = pgs_run(s, "list", "SELECT " MAIL_COLUMNS("", WITHOUT_BOX) " FROM outbox WHERE id > $1 "
		      "ORDER BY id LIMIT $2::integer", 2, vals, NULL, &rc);
	if (!res)
		return rc;
	rc = rows_to_mails(res, out, max, n);
	PQclear(res);
	return rc;
}

int pg_mail_pending(struct storage_conn *c, unsigned long *n)
{
	struct pg_session *s = pgs_session(c);
	int rc = pgs_connected(s);
	PGresult *res;

	*n = 0;
	if (rc != STORAGE_OK)
		return rc;
	res = pgs_run(s, "count", "SELECT count(*) FROM outbox WHERE status = 'queued'", 0, NULL,
		      NULL, &rc);
	if (res)
		*n = (unsigned long)pgs_u64(res, 0, 0);
	PQclear(res);
	return rc;
}
