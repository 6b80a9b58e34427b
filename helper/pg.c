/*
 * pg.c - connections to PostgreSQL with every wait bounded, and failures
 * sorted into what the caller can do.  See pg.h.
 */
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

/* What portald sets on a connection unless the conninfo sets it. */
static const char *const bound_keys[] = { "connect_timeout", "tcp_user_timeout" };

const char *pg_conninfo_problem(const char *conninfo, char *why)
{
	char *msg = NULL;
	PQconninfoOption *o = PQconninfoParse(conninfo, &msg);

	if (o) {
		PQconninfoFree(o);
		return NULL;
	}
	/* libpq's message ends with a newline; NULL msg: out of memory. */
	snprintf(why, PG_ERR_MAX, "%s", msg ? msg : "cannot be parsed (out of memory)");
	why[strcspn(why, "\n")] = '\0';
	PQfreemem(msg);
	return why;
}

/* ---- how to connect ------------------------------------------------------ */

/* The options the conninfo set, then ours, then the end. */
static int add(struct pg_server *s, size_t *n, const char *key, const char *value)
{
	s->keys[*n] = strdup(key);
	s->values[*n] = strdup(value);
	if (!s->keys[*n] || !s->values[*n])
		return -1;
	(*n)++;
	return 0;
}

static bool conninfo_sets(const PQconninfoOption *o, const char *key)
{
	for (; o->keyword; o++)
		if (o->val && o->val[0] && strcmp(o->keyword, key) == 0)
			return true;
	return false;
}

/* The bounds portald adds, as text: T seconds (connect_timeout takes
 * whole seconds, at least 2 as libpq counts them), T ms for the rest. */
static int add_bounds(struct pg_server *s, size_t *n, const PQconninfoOption *o,
		      unsigned timeout_s)
{
	char v[2][24];

	snprintf(v[0], sizeof v[0], "%u", timeout_s < 2 ? 2 : timeout_s);
	snprintf(v[1], sizeof v[1], "%u", timeout_s * 1000);
	for (size_t i = 0; i < 2; i++)
		if (!conninfo_sets(o, bound_keys[i]) && add(s, n, bound_keys[i], v[i]) < 0)
			return -1;
	return 0;
}

/* The password file's password, else the conninfo's own, in locked
 * memory (never in the strings anything might print), last. */
static int add_password(struct pg_server *s, size_t *n, const PQconninfoOption *o,
			const char *password)
{
	size_t len;

	for (; !password && o->keyword; o++)
		if (o->val && o->val[0] && strcmp(o->keyword, "password") == 0)
			password = o->val;
	if (!password)
		return 0;
	len = strlen(password) + 1;
	s->password = sodium_malloc(len);
	if (!s->password)
		return -1;
	memcpy(s->password, password, len);
	s->keys[*n] = "password";     /* not strdup'ed: see pg_server_free */
	s->values[(*n)++] = s->password;
	return 0;
}

int pg_server_init(struct pg_server *s, const char *conninfo, const char *password,
		   const char *appname, unsigned timeout_s, char *err, size_t errlen)
{
	char why[PG_ERR_MAX], *msg = NULL;
	PQconninfoOption *o = PQconninfoParse(conninfo, &msg), *p;
	size_t n = 0, cap = 4;
	int rc = -1;

	memset(s, 0, sizeof *s);
	pthread_mutex_init(&s->mu, NULL);
	if (!o) {
		snprintf(err, errlen, "postgresql: %s", pg_conninfo_problem(conninfo, why));
		PQfreemem(msg);
		return -1;
	}
	for (p = o; p->keyword; p++)
		cap++;
	s->keys = calloc(cap, sizeof *s->keys);
	s->values = calloc(cap, sizeof *s->values);
	if (!s->keys || !s->values)
		goto out;
	for (p = o; p->keyword; p++)
		if (p->val && p->val[0] && strcmp(p->keyword, "password") != 0 &&
		    add(s, &n, p->keyword, p->val) < 0)
			goto out;
	if (add_bounds(s, &n, o, timeout_s) < 0 ||
	    (!conninfo_sets(o, "application_name") && add(s, &n, "application_name", appname) < 0))
		goto out;
	if (add_password(s, &n, o, password) < 0)
		goto out;
	s->timeout_ms = timeout_s * 1000;
	snprintf(s->setup, sizeof s->setup, "SET statement_timeout = %u; SET lock_timeout = %u; "
		 "SET idle_in_transaction_session_timeout = %u; SET TIME ZONE 'UTC'",
		 s->timeout_ms, s->timeout_ms, 4 * s->timeout_ms);
	rc = 0;
out:
	for (p = o; p->keyword; p++)
		if (p->val && strcmp(p->keyword, "password") == 0)
			sodium_memzero(p->val, strlen(p->val));
	PQconninfoFree(o);
	if (rc < 0) {
		snprintf(err, errlen, "postgresql: out of memory");
		pg_server_free(s);
	}
	return rc;
}

void pg_server_free(struct pg_server *s)
{
	for (size_t i = 0; s->keys && s->keys[i]; i++) {
		if (s->values[i] == s->password)
			continue;
		free((void *)s->keys[i]);
		free((void *)s->values[i]);
	}
	free(s->keys);
	free(s->values);
	if (s->password)
		sodium_free(s->password);
	s->keys = s->values = NULL;
	s->password = NULL;
	pthread_mutex_destroy(&s->mu);
}

/* ---- reachability ---------------------------------------------------------- */

/* Note what the last attempt found; the change, not each attempt, is told. */
static void note_state(struct pg_server *s, bool up, const char *why)
{
	bool changed;

	pthread_mutex_lock(&s->mu);
	changed = s->down == up;
	if (changed && !up) {
		s->down_since = time(NULL);
		snprintf(s->down_why, sizeof s->down_why, "%s", why);
	}
	s->down = !up;
	pthread_mutex_unlock(&s->mu);
	if (changed && s->on_change)
		s->on_change(up, why);
}

bool pg_reachable(struct pg_server *s, char *why, size_t cap)
{
	bool up;

	pthread_mutex_lock(&s->mu);
	up = !s->down;
	if (!up && why) {
		struct tm tm;
		char when[32];

		localtime_r(&s->down_since, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(why, cap, "since %s: %s", when, s->down_why);
	}
	pthread_mutex_unlock(&s->mu);
	return up;
}

/* ---- connections ------------------------------------------------------------- */

/* libpq's message on one line, without its trailing newline. */
static void set_err(struct pg_conn *c, const char *what, const char *msg)
{
	snprintf(c->err, sizeof c->err, "%s%s%s", what, what[0] ? ": " : "",
		 msg && msg[0] ? msg : "no reason given");
	for (size_t n = strlen(c->err); n > 0 && (c->err[n - 1] == '\n' || c->err[n - 1] == ' ');)
		c->err[--n] = '\0';
	for (char *p = c->err; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = ' ';
}

/* A refusal that trying again does not cure: authentication, no such
 * database or role (SQLSTATE class 28, 3D000), as libpq reports them
 * at connection time (by message: there is no SQLSTATE then). */
static bool refused_for_good(const char *msg)
{
	static const char *const words[] = {
		"password authentication failed", "authentication failed", "does not exist",
		"no password supplied", "no pg_hba.conf entry", "certificate",
	};

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strstr(msg, words[i]))
			return true;
	return false;
}

int pg_connect(struct pg_conn *c)
{
	PGresult *res;
	bool ok;

	pg_close(c);
	c->sqlstate[0] = '\0';
	c->conn = PQconnectdbParams(c->srv->keys, c->srv->values, 0);
	if (!c->conn || PQstatus(c->conn) != CONNECTION_OK) {
		bool good = c->conn && refused_for_good(PQerrorMessage(c->conn));

		set_err(c, "cannot connect", c->conn ? PQerrorMessage(c->conn) : "out of memory");
		pg_close(c);
		note_state(c->srv, false, c->err);
		return good ? PG_FAILED : PG_UNAVAILABLE;
	}
	res = PQexec(c->conn, c->srv->setup);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		set_err(c, "cannot set the time-outs", PQerrorMessage(c->conn));
	PQclear(res);
	if (!ok) {
		pg_close(c);
		note_state(c->srv, false, c->err);
		return PG_UNAVAILABLE;
	}
	note_state(c->srv, true, "");
	return PG_OK;
}

void pg_close(struct pg_conn *c)
{
	if (c->conn)
		PQfinish(c->conn);
	c->conn = NULL;
	c->nprepared = 0;
}

/* What a failed result means for the caller. */
static enum pg_outcome outcome_of(struct pg_conn *c, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
	if (PQstatus(c->conn) != CONNECTION_OK) {
		note_state(c->srv, false, c->err);
		return PG_RECONNECT;
	}
	if (!state)
		return PG_FAILED;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return PG_RETRY;
	if (strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
	    strcmp(state, "57P03") == 0 || strncmp(state, "08", 2) == 0)
		return PG_RECONNECT;
	/* statement_timeout, lock_timeout, idle in transaction: a stuck
	 * machine or a database too slow to answer in time. */
	if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0 ||
	    strcmp(state, "25P03") == 0)
		return PG_UNAVAILABLE;
	return PG_FAILED;
}

/* What a result says: PG_OK, or why not (c->err, c->sqlstate). */
static enum pg_outcome result_of(struct pg_conn *c, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return PG_OK;
	set_err(c, "", res ? PQresultErrorMessage(res) : PQerrorMessage(c->conn));
	return outcome_of(c, res);
}

static bool connected(struct pg_conn *c, enum pg_outcome *out)
{
	if (c->conn)
		return true;
	set_err(c, "not connected", c->err[0] ? c->err : NULL);
	*out = PG_UNAVAILABLE;
	return false;
}

/* The name sql is prepared under on this connection ("p<index>"),
 * preparing it the first time; "" when the table is full (then run
 * unprepared), NULL when preparing failed (*out says why). */
static const char *prepared(struct pg_conn *c, const char *sql, int n, char name[8],
			    enum pg_outcome *out)
{
	PGresult *res;
	unsigned i;

	for (i = 0; i < c->nprepared; i++)
		if (c->prepared[i] == sql)
			break;
	if (i == PG_PREPARED_MAX)
		return "";
	snprintf(name, 8, "p%u", i);
	if (i < c->nprepared)
		return name;
	res = PQprepare(c->conn, name, sql, n, NULL);
	*out = result_of(c, res);
	PQclear(res);
	if (*out != PG_OK)
		return NULL;
	c->prepared[c->nprepared++] = sql;
	return name;
}

PGresult *pg_exec(struct pg_conn *c, const char *sql, int n, const char *const *vals,
		  const int *lens, enum pg_outcome *out)
{
	int formats[n > 0 ? n : 1];
	const char *name;
	char buf[8];
	PGresult *res;

	if (!connected(c, out) || !(name = prepared(c, sql, n, buf, out)))
		return NULL;
	for (int i = 0; i < n; i++)
		formats[i] = lens && lens[i] >= 0 ? 1 : 0;
	if (name[0])
		res = PQexecPrepared(c->conn, name, n, vals, lens, formats, 0);
	else
		res = PQexecParams(c->conn, sql, n, NULL, vals, lens, formats, 0);
	*out = result_of(c, res);
	if (*out == PG_OK)
		return res;
	PQclear(res);
	return NULL;
}

/* The simple protocol: sql may hold several statements (a migration). */
enum pg_outcome pg_command(struct pg_conn *c, const char *sql)
{
	enum pg_outcome out;
	PGresult *res;

	if (!connected(c, &out))
		return out;
	res = PQexec(c->conn, sql);
	out = result_of(c, res);
	PQclear(res);
	return out;
}
