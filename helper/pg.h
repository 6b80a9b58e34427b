/*
 * pg.h - portald's connections to PostgreSQL: how to connect (the
 * administrator's conninfo, the password from a root-only file, every
 * wait bounded), one statement run and its failure sorted into what the
 * caller can do about it, and whether the database is reachable.
 *
 * Every wait is bounded by postgresql_timeout (T): connect_timeout T,
 * tcp_user_timeout T, statement_timeout T, lock_timeout T (a row held by
 * a stuck machine), and idle_in_transaction_session_timeout 4 T (a
 * portald that stopped in the middle of a transaction lets its rows go).
 * A conninfo that sets one of these itself keeps its own.
 *
 * Used by portald (store_pg.c) and by portalctl (`db init`), so it logs
 * nothing itself: errors go into the caller's buffer.
 */
#ifndef PORTAL_PG_H
#define PORTAL_PG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <libpq-fe.h>

#define PG_ERR_MAX 512

/* How to reach the database: the same for every connection. */
struct pg_server {
	const char **keys, **values;  /* for PQconnectdbParams, NULL-terminated */
	char *password;               /* sodium_malloc'ed, or NULL */
	unsigned timeout_ms;
	char setup[256];              /* the SET statements run on each new connection */
	/* Reachability, as last seen by any connection (log once per change). */
	pthread_mutex_t mu;
	bool down;
	time_t down_since;
	char down_why[PG_ERR_MAX];
	/* Told when that changes (portald logs it: once, not once a request). */
	void (*on_change)(bool up, const char *why);
};

#define PG_PREPARED_MAX 32

struct pg_conn {
	struct pg_server *srv;
	PGconn *conn;                 /* NULL until connected */
	/* The statements prepared on this connection, by the address of
	 * their text: a look-up is parsed and planned once, not each time. */
	const char *prepared[PG_PREPARED_MAX];
	unsigned nprepared;
	char err[PG_ERR_MAX];         /* what the last failure said */
	char sqlstate[6];             /* of the last failure, "" if none */
};

/* What a failed statement leaves the caller to do. */
enum pg_outcome {
	PG_OK = 0,
	PG_FAILED = -1,       /* refused for good (a constraint, bad data): err says */
	PG_RETRY = -2,        /* 40001 serialization failure, 40P01 deadlock */
	PG_RECONNECT = -3,    /* 57P01, 57P03, the connection lost: again, reconnected */
	PG_UNAVAILABLE = -4,  /* no connection, a time-out (57014, 55P03), the server
			       * cannot be reached */
};

/* What is wrong with a conninfo (key=value or URI), in why (PG_ERR_MAX),
 * or NULL: libpq's own parser.  config.c calls it for `postgresql`. */
const char *pg_conninfo_problem(const char *conninfo, char *why);

/* Parse the conninfo and add the bounds, the password (NULL: none, or
 * the conninfo's own, or ~/.pgpass, or peer or certificate
 * authentication) and the application name.  -1 with err. */
int pg_server_init(struct pg_server *s, const char *conninfo, const char *password,
		   const char *appname, unsigned timeout_s, char *err, size_t errlen);
void pg_server_free(struct pg_server *s);

/* Connect (again) and set the bounds: PG_OK, PG_FAILED (refused: a wrong
 * password, no such database) or PG_UNAVAILABLE, err said. */
int pg_connect(struct pg_conn *c);
void pg_close(struct pg_conn *c);

/* Run one statement with text parameters (NULL = SQL NULL); bytea ones
 * are given with their length in lens (lens NULL: all text).  Returns the
 * result of a command or query that succeeded (PQclear it), else NULL
 * with *out saying what to do and c->err why.  sql must live as long as
 * the connection (a string literal): it is prepared on the connection
 * the first time, and known by its address after that. */
PGresult *pg_exec(struct pg_conn *c, const char *sql, int n, const char *const *vals,
		  const int *lens, enum pg_outcome *out);
/* A statement without parameters or result rows (BEGIN, COMMIT...). */
enum pg_outcome pg_command(struct pg_conn *c, const char *sql);

/* Was the database reachable at the last attempt?  why says why not. */
bool pg_reachable(struct pg_server *s, char *why, size_t cap);

#endif
