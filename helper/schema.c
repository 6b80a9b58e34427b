/*
 * schema.c - pam_portal's tables in PostgreSQL, and their versions.  See
 * schema.h; docs/DESIGN.md, "Storage", maps each field of a record to its
 * column.
 *
 * Named for what they hold, so that a DBA can read them: no code and no
 * mail is ever in the clear (a code or ticket is a keyed hash whose key
 * stays on the machines, a queued mail a sealed box under the outbox key).
 * The invariants the rules rely on are constraints: one live code and one
 * ticket per member (columns of the member's row), a code's hash, expiry
 * and tries set together (a CHECK), one waiting code mail per member (a
 * partial unique index: a retried request cannot leave two).
 */
#include "schema.h"

#include <stdlib.h>
#include <string.h>

static const char version_table[] =
	"CREATE TABLE IF NOT EXISTS schema_version (\n"
	"    version         integer PRIMARY KEY,\n"
	"    -- the oldest schema version a program may know and still use the database\n"
	"    compatible_from integer NOT NULL,\n"
	"    applied_at      timestamptz NOT NULL DEFAULT now(),\n"
	"    applied_by      text NOT NULL DEFAULT current_user\n"
	");\n";

struct migration {
	int version, compatible_from;
	const char *sql;
};

static const struct migration migrations[] = {
	{ 1, 1,
	"-- The members: who is managed, their state, password, failures, and\n"
	"-- their live code and reset ticket (at most one each: columns of the row,\n"
	"-- so that the row lock of a member's transaction covers them).  A code or\n"
	"-- ticket is kept as its keyed hash (BLAKE2b under the key file's key,\n"
	"-- bound to the member), never in the clear.\n"
	"CREATE TABLE members (\n"
	"    name              text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),\n"
	"    email             text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),\n"
	"    created           timestamptz NOT NULL,\n"
	"    -- Argon2id (crypto_pwhash_str); NULL: no portal password yet\n"
	"    password_hash     text CHECK (password_hash LIKE '$argon2%'),\n"
	"    last_signin       timestamptz,\n"
	"    reset_by_admin    boolean NOT NULL DEFAULT false,\n"
	"    -- wrong codes and passwords in a row, and the lock they made\n"
	"    failures          integer NOT NULL DEFAULT 0 CHECK (failures >= 0),\n"
	"    locked_until      timestamptz,\n"
	"    locked_until_unlock boolean NOT NULL DEFAULT false,\n"
	"    -- the codes asked for in the last hour, oldest first, and the last one\n"
	"    code_requests     timestamptz[] NOT NULL DEFAULT '{}',\n"
	"    last_code_request timestamptz,\n"
	"    code_hash         bytea CHECK (length(code_hash) = 32),\n"
	"    code_expires      timestamptz,\n"
	"    code_tries_left   integer CHECK (code_tries_left >= 0),\n"
	"    ticket_hash       bytea CHECK (length(ticket_hash) = 32),\n"
	"    ticket_expires    timestamptz,\n"
	"    ticket_tries_left integer CHECK (ticket_tries_left >= 0),\n"
	"    changed_at        timestamptz NOT NULL DEFAULT now(),\n"
	"    changed_by        text NOT NULL DEFAULT '',\n"
	"    -- a code's fields, and a ticket's, are there together or not at all\n"
	"    CONSTRAINT code_fields_together CHECK ((code_hash IS NULL) = (code_expires IS NULL)\n"
	"        AND (code_expires IS NULL) = (code_tries_left IS NULL)),\n"
	"    CONSTRAINT ticket_fields_together CHECK ((ticket_hash IS NULL) = (ticket_expires IS NULL)\n"
	"        AND (ticket_expires IS NULL) = (ticket_tries_left IS NULL))\n"
	");\n"
	"\n"
	"-- Failures and locks per source (the remote host, else the terminal or\n"
	"-- service), beside the member-wide count of members.failures.\n"
	"CREATE TABLE member_locks (\n"
	"    member       text NOT NULL REFERENCES members (name) ON DELETE CASCADE,\n"
	"    source       text NOT NULL CHECK (length(source) BETWEEN 1 AND 255),\n"
	"    failures     integer NOT NULL DEFAULT 0 CHECK (failures >= 0),\n"
	"    locked_until timestamptz,\n"
	"    PRIMARY KEY (member, source)\n"
	");\n"
	"\n"
	"-- The mail every machine's portald sends: one shared queue.  A queued\n"
	"-- message is sealed (crypto_secretbox under the outbox key); once sent,\n"
	"-- replaced or expired only the outcome is kept, for a day.\n"
	"CREATE TABLE outbox (\n"
	"    id             text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{24}$'),\n"
	"    kind           text NOT NULL CHECK (kind IN ('code', 'notice')),\n"
	"    member         text NOT NULL,\n"
	"    recipient      text NOT NULL,\n"
	"    status         text NOT NULL CHECK (status IN ('queued', 'sent', 'failed',\n"
	"                                                    'expired', 'gave-up', 'withheld')),\n"
	"    attempts       integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
	"    next_try       timestamptz NOT NULL,\n"
	"    expires        timestamptz NOT NULL,\n"
	"    detail         text NOT NULL DEFAULT '',\n"
	"    finished_at    timestamptz,\n"
	"    nonce          bytea CHECK (length(nonce) = 24),\n"
	"    sealed_message bytea,\n"
	"    queued_by      text NOT NULL,\n"
	"    queued_at      timestamptz NOT NULL DEFAULT now(),\n"
	"    -- a sender's claim: its machine, its token (the fence) and lease\n"
	"    claimed_by     text,\n"
	"    claim_token    bigint,\n"
	"    lease_until    timestamptz,\n"
	"    finished_by    text,\n"
	"    CHECK ((nonce IS NULL) = (sealed_message IS NULL)),\n"
	"    CHECK ((claim_token IS NULL) = (claimed_by IS NULL)\n"
	"           AND (claim_token IS NULL) = (lease_until IS NULL)),\n"
	"    CHECK ((status = 'queued') = (finished_at IS NULL))\n"
	");\n"
	"-- One waiting code mail per member.\n"
	"CREATE UNIQUE INDEX outbox_one_waiting_code ON outbox (member)\n"
	"    WHERE kind = 'code' AND status = 'queued';\n"
	"CREATE INDEX outbox_due ON outbox (next_try) WHERE status = 'queued';\n"
	"CREATE INDEX outbox_finished ON outbox (finished_at) WHERE status <> 'queued';\n"
	"\n"
	"-- What a reporting role may be given (GRANT SELECT ON member_report):\n"
	"-- the members without their hashes.\n"
	"CREATE VIEW member_report AS\n"
	"    SELECT name, email, created, password_hash IS NOT NULL AS has_password,\n"
	"           last_signin, reset_by_admin, failures, locked_until,\n"
	"           locked_until_unlock, code_expires, changed_at, changed_by\n"
	"    FROM members;\n" },
	{ 2, 1,
	"-- What the machines of a fleet must agree on, recorded by the first\n"
	"-- portald to start: the policy settings (cutover, code and lockout\n"
	"-- settings, password length) and a fingerprint of the key file (a keyed\n"
	"-- hash of a fixed text, which tells nothing of the key).  A portald whose\n"
	"-- own differ is refused at start, saying which.  To change the policy of\n"
	"-- the whole fleet: stop every portald, DELETE FROM fleet_settings, start\n"
	"-- them with the new settings.\n"
	"CREATE TABLE fleet_settings (\n"
	"    name   text PRIMARY KEY,\n"
	"    value  text NOT NULL,\n"
	"    set_by text NOT NULL,\n"
	"    set_at timestamptz NOT NULL DEFAULT now()\n"
	");\n" },
};
#define NMIGRATIONS (sizeof migrations / sizeof migrations[0])

_Static_assert(NMIGRATIONS == SCHEMA_VERSION, "one migration a schema version, in order");

void schema_print(FILE *out)
{
	fprintf(out, "-- pam_portal: the PostgreSQL schema, version %d (portalctl db schema).\n"
		"-- `portalctl db init` makes it, or adds what a newer version adds, in\n"
		"-- one transaction.\n\n%s", SCHEMA_VERSION, version_table);
	for (size_t i = 0; i < NMIGRATIONS; i++)
		fprintf(out, "\n-- ---- version %d ----\n%s\nINSERT INTO schema_version "
			"(version, compatible_from) VALUES (%d, %d);\n", migrations[i].version,
			migrations[i].sql, migrations[i].version, migrations[i].compatible_from);
}

/* The database's schema version and the oldest a program may know:
 * 0 0 when there is no schema.  PG_OK or what went wrong. */
static enum pg_outcome read_version(struct pg_conn *c, int *version, int *compatible)
{
	enum pg_outcome out;
	PGresult *res = pg_exec(c, "SELECT to_regclass('schema_version') IS NOT NULL", 0, NULL,
				NULL, &out);
	bool there = res && strcmp(PQgetvalue(res, 0, 0), "t") == 0;

	PQclear(res);
	*version = *compatible = 0;
	if (out != PG_OK || !there)
		return out;
	res = pg_exec(c, "SELECT coalesce(max(version), 0), coalesce(max(compatible_from), 0) "
		      "FROM schema_version", 0, NULL, NULL, &out);
	if (res) {
		*version = atoi(PQgetvalue(res, 0, 0));
		*compatible = atoi(PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return out;
}

/* Record that migration m was applied, in the open transaction. */
static enum pg_outcome note_version(struct pg_conn *c, const struct migration *m)
{
	char v[2][16];
	const char *vals[2] = { v[0], v[1] };
	enum pg_outcome out;

	snprintf(v[0], sizeof v[0], "%d", m->version);
	snprintf(v[1], sizeof v[1], "%d", m->compatible_from);
	PQclear(pg_exec(c, "INSERT INTO schema_version (version, compatible_from) "
			"VALUES ($1, $2)", 2, vals, NULL, &out));
	return out;
}

/* Apply the migrations after `from`, in the open transaction. */
static int migrate(struct pg_conn *c, int from, char *err, size_t errlen)
{
	for (size_t i = 0; i < NMIGRATIONS; i++) {
		const struct migration *m = &migrations[i];

		if (m->version <= from)
			continue;
		if (pg_command(c, m->sql) != PG_OK || note_version(c, m) != PG_OK) {
			snprintf(err, errlen, "schema version %d could not be applied: %s",
				 m->version, c->err);
			return -1;
		}
	}
	return 0;
}

int schema_init(struct pg_conn *c, int *from, int *to, char *err, size_t errlen)
{
	int compatible;

	*from = *to = 0;
	/* The advisory lock makes two `db init` at once take turns: the
	 * second finds the work done. */
	if (pg_command(c, "BEGIN") != PG_OK ||
	    pg_command(c, "SELECT pg_advisory_xact_lock(7011750616327385)") != PG_OK ||
	    read_version(c, from, &compatible) != PG_OK) {
		snprintf(err, errlen, "the schema version could not be read: %s", c->err);
		pg_command(c, "ROLLBACK");
		return -1;
	}
	if (*from > SCHEMA_VERSION) {
		snprintf(err, errlen, "the database's schema is version %d, newer than this "
			 "program's (%d): upgrade pam_portal on this machine; nothing was changed",
			 *from, SCHEMA_VERSION);
		pg_command(c, "ROLLBACK");
		return -1;
	}
	if (*from == 0 && pg_command(c, version_table) != PG_OK) {
		snprintf(err, errlen, "the schema could not be made: %s", c->err);
		pg_command(c, "ROLLBACK");
		return -1;
	}
	if (migrate(c, *from, err, errlen) < 0) {
		pg_command(c, "ROLLBACK");
		return -1;
	}
	if (pg_command(c, "COMMIT") != PG_OK) {
		snprintf(err, errlen, "the schema could not be committed: %s", c->err);
		return -1;
	}
	*to = SCHEMA_VERSION;
	return 0;
}

int schema_check(struct pg_conn *c, char *err, size_t errlen)
{
	int version, compatible;

	if (read_version(c, &version, &compatible) != PG_OK) {
		snprintf(err, errlen, "the schema version could not be read: %s", c->err);
		return -1;
	}
	if (version == 0)
		snprintf(err, errlen, "the database has no pam_portal schema: run `portalctl db "
			 "init` once (it makes the tables)");
	else if (compatible > SCHEMA_VERSION)
		snprintf(err, errlen, "the database's schema is version %d, which programs that "
			 "know version %d or later can use; this one knows version %d: upgrade "
			 "pam_portal on this machine", version, compatible, SCHEMA_VERSION);
	else if (version < SCHEMA_VERSION)
		snprintf(err, errlen, "the database's schema is version %d, this program needs "
			 "version %d: run `portalctl db init` (it only adds)", version,
			 SCHEMA_VERSION);
	else
		return 0;
	return -1;
}
