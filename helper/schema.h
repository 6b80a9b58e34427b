/*
 * schema.h - the PostgreSQL schema of pam_portal: its SQL, its version,
 * and the two things done with it: made or upgraded (`portalctl db
 * init`), and checked by portald at start.
 *
 * The schema is a list of migrations, each adding tables, columns or
 * indexes and never changing what is there, so that the machines of a
 * fleet can be upgraded one at a time.  Each is written down in the
 * table schema_version with `compatible_from`: the oldest schema version
 * a program may know and still use the database after it.  An adding
 * migration keeps that as it was; one that changed what data means would
 * raise it, and the programs that do not know it refuse the database
 * rather than misread it.
 */
#ifndef PORTAL_SCHEMA_H
#define PORTAL_SCHEMA_H

#include <stddef.h>
#include <stdio.h>
#include "pg.h"

/* The newest schema version this program knows. */
#define SCHEMA_VERSION 2

/* The whole SQL, as `portalctl db schema` prints it: what `db init` runs
 * on an empty database. */
void schema_print(FILE *out);

/* Create the schema, or bring it up to SCHEMA_VERSION, in one
 * transaction (two machines running it at once take turns): 0 with
 * *from and *to the versions before and after (equal: nothing to do),
 * -1 with err, nothing changed (a schema newer than this program's is
 * refused, saying both versions). */
int schema_init(struct pg_conn *c, int *from, int *to, char *err, size_t errlen);

/* Can this program use the database?  0 yes; -1 with err saying why not
 * and what to run: no schema, one older than this program needs, or one
 * newer than it can use. */
int schema_check(struct pg_conn *c, char *err, size_t errlen);

#endif
