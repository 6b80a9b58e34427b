/*
 * store_pg.c - the storage interface (storage.h) on PostgreSQL: a member
 * is a row of `members`, locked by its transaction; the outbox is a table
 * every machine's sender claims from.  schema.c holds the tables;
 * docs/DESIGN.md, "Storage", maps each field to its column.
 *
 * Times are timestamptz columns, moved as whole seconds since the epoch
 * (0 is NULL); the decisions take now() from the database, read with
 * the row it decides on.
 */
#include "store_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "log.h"
#include "schema.h"
#include "secretfile.h"

static const struct storage_ops storage_pg_ops;

struct pg_session *pgs_session(struct storage_conn *c)
{
	return (struct pg_session *)c;
}

const char *pgs_host(struct storage_conn *c)
{
	return ((struct pg_storage *)c->st)->host;
}

int pgs_status(enum pg_outcome o)
{
	switch (o) {
	case PG_OK: return STORAGE_OK;
	case PG_RETRY: return STORAGE_RETRY;
	case PG_RECONNECT: return STORAGE_RECONNECT;
	case PG_UNAVAILABLE: return STORAGE_UNAVAILABLE;
	case PG_FAILED: break;
	}
	return STORAGE_ERROR;
}

PGresult *pgs_run(struct pg_session *s, const char *what, const char *sql, int n,
	      const char *const *vals, const int *lens, int *rc)
{
	enum pg_outcome out;
	PGresult *res = pg_exec(&s->pc, sql, n, vals, lens, &out);

	*rc = pgs_status(out);
	if (res)
		return res;
	if (out == PG_FAILED)
		log_msg(LOG_ERR, "database %s: %s", what, s->pc.err);
	if (s->in_tx && s->pc.conn)
		pg_command(&s->pc, "ROLLBACK");
	s->in_tx = false;
	return NULL;
}

/* ---- text to fields ---------------------------------------------------------- */

uint64_t pgs_u64(const PGresult *res, int row, int col)
{
	return strtoull(PQgetvalue(res, row, col), NULL, 10);
}

long pgs_bytes(const PGresult *res, int row, int col, uint8_t *out, size_t cap)
{
	const char *v = PQgetvalue(res, row, col);
	size_t hex = strlen(v), len;

	if (PQgetisnull(res, row, col))
		return 0;
	if (hex < 2 || v[0] != '\\' || v[1] != 'x' || (hex - 2) % 2 || (hex - 2) / 2 > cap)
		return -1;
	if (sodium_hex2bin(out, cap, v + 2, hex - 2, NULL, &len, NULL) != 0)
		return -1;
	return (long)len;
}

bool pgs_str(const PGresult *res, int row, int col, char *out, size_t cap)
{
	const char *v = PQgetvalue(res, row, col);

	if (strlen(v) >= cap)
		return false;
	memcpy(out, v, strlen(v) + 1);
	return true;
}

/* "t1,t2,..." into the record's list of code requests. */
static bool requests_at(const PGresult *res, int row, int col, struct user_record *u)
{
	const char *p = PQgetvalue(res, row, col);

	while (*p) {
		char *end;

		if (u->nrequests == USER_REQUESTS_MAX)
			return false;
		u->requests[u->nrequests++] = strtoull(p, &end, 10);
		if (*end && *end != ',')
			return false;
		p = *end ? end + 1 : end;
	}
	return true;
}

/* ---- members ------------------------------------------------------------------- */

#define MEMBER_COLUMNS \
	"name, email, " EPOCH("created") ", " EPOCH("last_signin") ", reset_by_admin, " \
	"failures, " EPOCH("locked_until") ", locked_until_unlock, " \
	"coalesce(password_hash, ''), " \
	"coalesce((SELECT string_agg(floor(extract(epoch FROM r))::bigint::text, ',' " \
	"ORDER BY i) FROM unnest(code_requests) WITH ORDINALITY AS q(r, i)), ''), " \
	EPOCH("last_code_request") ", code_hash, " EPOCH("code_expires") ", " \
	"coalesce(code_tries_left, 0), ticket_hash, " EPOCH("ticket_expires") ", " \
	"coalesce(ticket_tries_left, 0), " NOW_SECS

enum { MC_NAME, MC_EMAIL, MC_CREATED, MC_LAST_SIGNIN, MC_RESET, MC_FAILURES, MC_LOCKED,
       MC_HARD, MC_PWHASH, MC_REQUESTS, MC_LAST_REQUEST, MC_CODE_HASH, MC_CODE_EXPIRES,
       MC_CODE_TRIES, MC_TICKET_HASH, MC_TICKET_EXPIRES, MC_TICKET_TRIES, MC_NOW };

/* A row of MEMBER_COLUMNS into u; false when it cannot be a record of
 * ours (a field too long, a hash of the wrong size). */
static bool row_to_user(const PGresult *res, int row, struct user_record *u)
{
	memset(u, 0, sizeof *u);
	if (!pgs_str(res, row, MC_NAME, u->name, sizeof u->name) ||
	    !pgs_str(res, row, MC_EMAIL, u->email, sizeof u->email) ||
	    !pgs_str(res, row, MC_PWHASH, u->pwhash, sizeof u->pwhash) ||
	    !requests_at(res, row, MC_REQUESTS, u))
		return false;
	u->created = pgs_u64(res, row, MC_CREATED);
	u->last_signin = pgs_u64(res, row, MC_LAST_SIGNIN);
	u->reset = PQgetvalue(res, row, MC_RESET)[0] == 't';
	u->failures = (uint32_t)pgs_u64(res, row, MC_FAILURES);
	u->locked_until = pgs_u64(res, row, MC_LOCKED);
	u->hard_locked = PQgetvalue(res, row, MC_HARD)[0] == 't';
	u->last_request = pgs_u64(res, row, MC_LAST_REQUEST);
	u->code_expires = pgs_u64(res, row, MC_CODE_EXPIRES);
	u->code_tries = (uint32_t)pgs_u64(res, row, MC_CODE_TRIES);
	u->ticket_expires = pgs_u64(res, row, MC_TICKET_EXPIRES);
	u->ticket_tries = (uint32_t)pgs_u64(res, row, MC_TICKET_TRIES);
	/* The schema's CHECKs keep a hash with its expiry. */
	return pgs_bytes(res, row, MC_CODE_HASH, u->code_hash, sizeof u->code_hash) ==
	       (u->code_expires ? CODE_HASH_LEN : 0) &&
	       pgs_bytes(res, row, MC_TICKET_HASH, u->ticket_hash, sizeof u->ticket_hash) ==
	       (u->ticket_expires ? CODE_HASH_LEN : 0);
}

/* One member's row: STORAGE_OK with u, STORAGE_ABSENT, or an error. */
static int read_member(struct pg_session *s, const char *sql, const char *name,
		       struct user_record *u, time_t *now)
{
	const char *vals[1] = { name };
	int rc;
	PGresult *res = pgs_run(s, "read", sql, 1, vals, NULL, &rc);

	if (!res)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return STORAGE_ABSENT;
	}
	if (!row_to_user(res, 0, u)) {
		log_msg(LOG_ERR, "database: the record of %s is damaged", name);
		user_wipe(u);
		rc = STORAGE_ERROR;
	} else if (now) {
		*now = (time_t)pgs_u64(res, 0, MC_NOW);
	}
	PQclear(res);
	return rc;
}

static int pg_now(struct storage_conn *c, time_t *now)
{
	struct pg_session *s = pgs_session(c);
	int rc;
	PGresult *res = pgs_run(s, "clock", "SELECT " NOW_SECS, 0, NULL, NULL, &rc);

	if (res)
		*now = (time_t)pgs_u64(res, 0, 0);
	PQclear(res);
	return rc;
}

int pgs_connected(struct pg_session *s)
{
	if (s->pc.conn && PQstatus(s->pc.conn) == CONNECTION_OK)
		return STORAGE_OK;
	return pgs_status(pg_connect(&s->pc)) == STORAGE_OK ? STORAGE_OK : STORAGE_UNAVAILABLE;
}

static int pg_member_begin(struct storage_conn *c, const char *name, struct user_record *u,
			   time_t *now)
{
	struct pg_session *s = pgs_session(c);
	int rc = pgs_connected(s);

	if (rc != STORAGE_OK)
		return rc;
	rc = pgs_status(pg_command(&s->pc, "BEGIN"));
	if (rc != STORAGE_OK)
		return rc;
	s->in_tx = true;
	/* READ COMMITTED: after waiting for the lock, the row read is the
	 * one the other transaction committed. */
	rc = read_member(s, "SELECT " MEMBER_COLUMNS " FROM members WHERE name = $1 FOR UPDATE",
			 name, u, now);
	if (rc == STORAGE_ABSENT && now)
		rc = pg_now(c, now) == STORAGE_OK ? STORAGE_ABSENT : STORAGE_UNAVAILABLE;
	return rc;
}

static int pg_member_read(struct storage_conn *c, const char *name, struct user_record *u,
			  time_t *now)
{
	struct pg_session *s = pgs_session(c);
	int rc = pgs_connected(s);

	return rc != STORAGE_OK ? rc : read_member(s, "SELECT " MEMBER_COLUMNS " FROM members "
						   "WHERE name = $1", name, u, now);
}

static int pg_member_next(struct storage_conn *c, const char *after, struct user_record *u)
{
	struct pg_session *s = pgs_session(c);
	int rc = pgs_connected(s);

	return rc != STORAGE_OK ? rc : read_member(s, "SELECT " MEMBER_COLUMNS " FROM members "
						   "WHERE name > $1 ORDER BY name LIMIT 1",
						   after, u, NULL);
}

/* The parameters of a member's row, in the order of MEMBER_SET. */
enum { MP_NAME, MP_EMAIL, MP_CREATED, MP_PWHASH, MP_LAST_SIGNIN, MP_RESET, MP_FAILURES,
       MP_LOCKED, MP_HARD, MP_REQUESTS, MP_LAST_REQUEST, MP_CODE_HASH, MP_CODE_EXPIRES,
       MP_CODE_TRIES, MP_TICKET_HASH, MP_TICKET_EXPIRES, MP_TICKET_TRIES, MP_HOST, MP_N };

struct member_params {
	char num[MP_N][24];
	char requests[USER_REQUESTS_MAX * 21 + 1];
	const char *vals[MP_N];
	int lens[MP_N];
};

static void num_param(struct member_params *p, int i, uint64_t v)
{
	snprintf(p->num[i], sizeof p->num[i], "%llu", (unsigned long long)v);
	p->vals[i] = p->num[i];
}

static void member_params(struct member_params *p, const struct user_record *u,
			  const char *host)
{
	size_t at = 0;

	for (int i = 0; i < MP_N; i++)
		p->lens[i] = -1;
	p->vals[MP_NAME] = u->name;
	p->vals[MP_EMAIL] = u->email;
	p->vals[MP_PWHASH] = u->pwhash[0] ? u->pwhash : NULL;
	p->vals[MP_RESET] = u->reset ? "t" : "f";
	p->vals[MP_HARD] = u->hard_locked ? "t" : "f";
	p->vals[MP_HOST] = host;
	num_param(p, MP_CREATED, u->created);
	num_param(p, MP_LAST_SIGNIN, u->last_signin);
	num_param(p, MP_FAILURES, u->failures);
	num_param(p, MP_LOCKED, u->locked_until);
	num_param(p, MP_LAST_REQUEST, u->last_request);
	p->requests[0] = '\0';
	for (unsigned i = 0; i < u->nrequests; i++)
		at += (size_t)snprintf(p->requests + at, sizeof p->requests - at, "%s%llu",
				       i ? "," : "", (unsigned long long)u->requests[i]);
	p->vals[MP_REQUESTS] = p->requests;
	/* A code and a ticket are there whole or not at all. */
	num_param(p, MP_CODE_EXPIRES, u->code_expires);
	num_param(p, MP_CODE_TRIES, u->code_tries);
	p->vals[MP_CODE_HASH] = u->code_expires ? (const char *)u->code_hash : NULL;
	p->lens[MP_CODE_HASH] = CODE_HASH_LEN;
	if (!u->code_expires)
		p->vals[MP_CODE_TRIES] = NULL;
	num_param(p, MP_TICKET_EXPIRES, u->ticket_expires);
	num_param(p, MP_TICKET_TRIES, u->ticket_tries);
	p->vals[MP_TICKET_HASH] = u->ticket_expires ? (const char *)u->ticket_hash : NULL;
	p->lens[MP_TICKET_HASH] = CODE_HASH_LEN;
	if (!u->ticket_expires)
		p->vals[MP_TICKET_TRIES] = NULL;
}

/* The row's values from the parameters $1..$18, for an INSERT. */
#define MEMBER_VALUES \
	"$1::text, $2::text, " STAMP("$3") ", $4::text, " STAMP("$5") ", $6::boolean, " \
	"$7::integer, " STAMP("$8") ", $9::boolean, " \
	"ARRAY(SELECT to_timestamp(x::bigint) FROM unnest(string_to_array($10::text, ',')) " \
	"WITH ORDINALITY AS q(x, i) ORDER BY i), " STAMP("$11") ", $12::bytea, " \
	STAMP("$13") ", $14::integer, $15::bytea, " STAMP("$16") ", $17::integer, now(), " \
	"$18::text"
#define MEMBER_NAMES \
	"name, email, created, password_hash, last_signin, reset_by_admin, failures, " \
	"locked_until, locked_until_unlock, code_requests, last_code_request, code_hash, " \
	"code_expires, code_tries_left, ticket_hash, ticket_expires, ticket_tries_left, " \
	"changed_at, changed_by"

static int write_member(struct storage_conn *c, const char *what, const char *sql,
			const struct user_record *u, int *rows)
{
	struct pg_session *s = pgs_session(c);
	struct member_params p;
	int rc;
	PGresult *res;

	member_params(&p, u, pgs_host(c));
	res = pgs_run(s, what, sql, MP_N, p.vals, p.lens, &rc);
	if (res)
		*rows = atoi(PQcmdTuples(res));
	PQclear(res);
	return rc;
}

static int pg_member_write(struct storage_conn *c, const struct user_record *u)
{
	int rows = 0, rc = write_member(c, "write", "UPDATE members SET (" MEMBER_NAMES ") = "
					"(SELECT " MEMBER_VALUES ") WHERE name = $1", u, &rows);

	return rc == STORAGE_OK && rows == 0 ? STORAGE_ABSENT : rc;
}

static int pg_member_insert(struct storage_conn *c, const struct user_record *u)
{
	int rows = 0, rc = pgs_connected(pgs_session(c));

	if (rc == STORAGE_OK)
		rc = write_member(c, "insert", "INSERT INTO members (" MEMBER_NAMES ") VALUES ("
				  MEMBER_VALUES ") ON CONFLICT (name) DO NOTHING", u, &rows);
	return rc == STORAGE_OK && rows == 0 ? STORAGE_EXISTS : rc;
}

static int pg_member_delete(struct storage_conn *c, const char *name)
{
	struct pg_session *s = pgs_session(c);
	const char *vals[1] = { name };
	int rc = pgs_connected(s), rows = 0;
	PGresult *res = rc == STORAGE_OK ? pgs_run(s, "delete", "DELETE FROM members WHERE name = $1",
						1, vals, NULL, &rc) : NULL;

	if (res)
		rows = atoi(PQcmdTuples(res));
	PQclear(res);
	return rc == STORAGE_OK && rows == 0 ? STORAGE_ABSENT : rc;
}

static int pg_commit(struct storage_conn *c)
{
	struct pg_session *s = pgs_session(c);
	enum pg_outcome out;

	if (!s->in_tx)
		return STORAGE_OK;
	out = pg_command(&s->pc, "COMMIT");
	s->in_tx = false;
	/* A COMMIT whose answer was lost may have landed: running the
	 * transaction again could count a failure twice.  Unavailable, not
	 * acknowledged, never retried. */
	if (out == PG_RECONNECT)
		return STORAGE_UNAVAILABLE;
	if (out == PG_FAILED)
		log_msg(LOG_ERR, "database commit: %s", s->pc.err);
	return pgs_status(out);
}

static void pg_rollback(struct storage_conn *c)
{
	struct pg_session *s = pgs_session(c);

	if (s->in_tx && s->pc.conn)
		pg_command(&s->pc, "ROLLBACK");
	s->in_tx = false;
}

/* ---- sessions ------------------------------------------------------------------ */

static struct storage_conn *pg_session_connect(struct storage *st, char *err, size_t errlen)
{
	struct pg_session *s = calloc(1, sizeof *s);

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base.st = st;
	s->pc.srv = &((struct pg_storage *)st)->srv;
	/* A session made while the database is down connects later. */
	if (pg_connect(&s->pc) != PG_OK)
		snprintf(err, errlen, "%s", s->pc.err);
	return &s->base;
}

static void pg_session_close(struct storage_conn *c)
{
	struct pg_session *s = pgs_session(c);

	pg_rollback(c);
	pg_close(&s->pc);
	free(s);
}

static int pg_session_reconnect(struct storage_conn *c)
{
	struct pg_session *s = pgs_session(c);

	s->in_tx = false;
	return pgs_status(pg_connect(&s->pc));
}

static bool pg_is_reachable(struct storage *st, char *why, size_t cap)
{
	return pg_reachable(&((struct pg_storage *)st)->srv, why, cap);
}

/* ---- opening ----------------------------------------------------------------------- */

/* The database gone or back: said once, when it changes. */
static void reachability_changed(bool up, const char *why)
{
	if (up)
		log_msg(LOG_NOTICE, "database reachable again");
	else
		log_msg(LOG_ERR, "database unreachable: %s; managed members are answered "
			"unavailable until it is back", why);
}

static void pg_storage_close(struct storage *st)
{
	struct pg_storage *p = (struct pg_storage *)st;

	pg_server_free(&p->srv);
	free(p);
}

/* The first connection: it must reach the database and find a schema
 * this program can use. */
static int first_contact(struct pg_storage *p, char *err, size_t errlen)
{
	struct pg_conn pc = { .srv = &p->srv };
	int rc = -1;

	if (pg_connect(&pc) != PG_OK)
		snprintf(err, errlen, "postgresql: the database cannot be reached: %s", pc.err);
	else if (schema_check(&pc, err, errlen) == 0)
		rc = 0;
	pg_close(&pc);
	return rc;
}

struct storage *storage_pg_open(const struct portal_config *cfg, uid_t owner, char *err,
				size_t errlen)
{
	struct pg_storage *p = calloc(1, sizeof *p);
	char *password = NULL, app[64];
	int rc;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->base.ops = &storage_pg_ops;
	p->base.timeout_ms = cfg->postgresql_timeout * 1000;
	snprintf(p->host, sizeof p->host, "%s", cfg->host_name);
	if (cfg->postgresql_password_file[0]) {
		password = secretfile_read("postgresql_password_file",
					   cfg->postgresql_password_file, owner, err, errlen);
		if (!password) {
			free(p);
			return NULL;
		}
	}
	snprintf(app, sizeof app, "portald@%.48s", cfg->host_name);
	rc = pg_server_init(&p->srv, cfg->postgresql, password, app, cfg->postgresql_timeout,
			    err, errlen);
	if (password)
		sodium_free(password);
	if (rc < 0) {
		free(p);
		return NULL;
	}
	if (first_contact(p, err, errlen) < 0) {
		pg_storage_close(&p->base);
		return NULL;
	}
	p->srv.on_change = reachability_changed;
	return &p->base;
}

static const struct storage_ops storage_pg_ops = {
	.name = "postgresql",
	.connect = pg_session_connect,
	.disconnect = pg_session_close,
	.reconnect = pg_session_reconnect,
	.member_begin = pg_member_begin,
	.member_write = pg_member_write,
	.member_insert = pg_member_insert,
	.member_delete = pg_member_delete,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.member_read = pg_member_read,
	.member_next = pg_member_next,
	.now = pg_now,
	.mail_queue = pg_mail_queue,
	.mail_claim = pg_mail_claim,
	.mail_finish = pg_mail_finish,
	.mail_purge = pg_mail_purge,
	.mail_list = pg_mail_list,
	.mail_pending = pg_mail_pending,
	.reachable = pg_is_reachable,
	.agree = pg_agree,
	.close = pg_storage_close,
};
