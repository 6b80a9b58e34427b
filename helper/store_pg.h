/*
 * store_pg.h - what the two files of the PostgreSQL backend share:
 * store_pg.c (sessions, members, opening) and store_pg_mail.c (the
 * outbox).  Nothing outside the backend includes it: the rest of portald
 * sees storage.h.
 */
#ifndef PORTAL_STORE_PG_H
#define PORTAL_STORE_PG_H

#include "pg.h"
#include "storage.h"

struct pg_storage {
	struct storage base;
	struct pg_server srv;
	char host[STORAGE_HOST_MAX + 1];    /* host_name: who queued, claimed, sent */
};

struct pg_session {
	struct storage_conn base;
	struct pg_conn pc;
	bool in_tx;
};

/* A column as seconds since the epoch, 0 for NULL; a parameter back
 * (0 is NULL); the database's clock. */
#define EPOCH(col) "coalesce(floor(extract(epoch FROM " col "))::bigint, 0)"
#define STAMP(par) "to_timestamp(nullif(" par "::bigint, 0))"
#define NOW_SECS   "floor(extract(epoch FROM now()))::bigint"

struct pg_session *pgs_session(struct storage_conn *c);
const char *pgs_host(struct storage_conn *c);
int pgs_status(enum pg_outcome o);
/* Connect first if the session lost its connection (bounded by
 * connect_timeout): a session reconnects by itself this way. */
int pgs_connected(struct pg_session *s);
/* Run a statement; on failure log it (a refusal at LOG_ERR; the rest is
 * said once, through the reachability notes), end the transaction, and
 * return NULL with *rc. */
PGresult *pgs_run(struct pg_session *s, const char *what, const char *sql, int n,
	      const char *const *vals, const int *lens, int *rc);

uint64_t pgs_u64(const PGresult *res, int row, int col);
/* A bytea column in text form ("\x" and hex) into out[0..cap): its
 * length, 0 for NULL, -1 when it does not fit or is not hex. */
long pgs_bytes(const PGresult *res, int row, int col, uint8_t *out, size_t cap);
bool pgs_str(const PGresult *res, int row, int col, char *out, size_t cap);

/* The outbox (store_pg_mail.c). */
int pg_mail_queue(struct storage_conn *c, struct storage_mail *m);
int pg_mail_claim(struct storage_conn *c, unsigned lease, struct storage_mail *out,
		  size_t max, size_t *n);
int pg_mail_finish(struct storage_conn *c, const struct storage_mail *m);
int pg_mail_purge(struct storage_conn *c, time_t before, unsigned long *n);
int pg_mail_list(struct storage_conn *c, const char *cursor, struct storage_mail *out,
		 size_t max, size_t *n);
int pg_mail_pending(struct storage_conn *c, unsigned long *n);

/* What the machines agree on (store_pg_fleet.c). */
int pg_agree(struct storage_conn *c, const struct storage_setting *set, size_t n, char *err,
	     size_t errlen);

#endif
