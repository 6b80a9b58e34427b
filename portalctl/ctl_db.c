/*
 * ctl_db.c - `portalctl db schema` and `portalctl db init`: the
 * PostgreSQL schema printed, or made and upgraded, straight on the
 * database the configuration names (portald need not run: the schema is
 * made before the first portald starts on it).
 */
#include <stdio.h>
#include <unistd.h>
#include <sodium.h>
#include "ctl.h"
#include "pg.h"
#include "schema.h"
#include "secretfile.h"

static const struct i18n_text msg_db_error = I18N(
	"%s");
static const struct i18n_text msg_not_pg = I18N(
	"%s: store is not postgresql: the database is this machine's GDBM file, whose "
	"format portald keeps itself");
static const struct i18n_text msg_schema_made = I18N(
	"The schema was made: version %d.\n");
static const struct i18n_text msg_schema_upgraded = I18N(
	"The schema was upgraded from version %d to version %d.\n");
static const struct i18n_text msg_schema_current = I18N(
	"The schema is up to date: version %d; nothing was changed.\n");

int ctl_db_schema(struct ctl *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	schema_print(stdout);
	return CTL_OK;
}

/* A connection to the configured database, as portald makes it. */
static int db_connect(struct ctl *c, struct pg_server *srv, struct pg_conn *pc)
{
	char err[PG_ERR_MAX], *password = NULL;
	int rc;

	if (config_load(c->config_path, &c->cfg, err, sizeof err) < 0)
		return ctl_fail(c, NULL, &msg_db_error, err);
	if (c->cfg.store != STORE_POSTGRESQL)
		return ctl_fail(c, NULL, &msg_not_pg, c->config_path);
	if (c->cfg.postgresql_password_file[0] &&
	    !(password = secretfile_read("postgresql_password_file",
					 c->cfg.postgresql_password_file, geteuid(), err,
					 sizeof err)))
		return ctl_fail(c, NULL, &msg_db_error, err);
	rc = pg_server_init(srv, c->cfg.postgresql, password, "portalctl",
			    c->cfg.postgresql_timeout, err, sizeof err);
	if (password)
		sodium_free(password);
	if (rc < 0)
		return ctl_fail(c, NULL, &msg_db_error, err);
	pc->srv = srv;
	if (pg_connect(pc) != PG_OK) {
		ctl_fail(c, NULL, &msg_db_error, pc->err);
		pg_server_free(srv);
		return CTL_FAIL;
	}
	return CTL_OK;
}

int ctl_db_init(struct ctl *c, int argc, char **argv)
{
	struct pg_server srv;
	struct pg_conn pc = { 0 };
	char err[PG_ERR_MAX];
	int from, to, rc;

	(void)argc;
	(void)argv;
	if (db_connect(c, &srv, &pc) != CTL_OK)
		return CTL_FAIL;
	rc = schema_init(&pc, &from, &to, err, sizeof err);
	pg_close(&pc);
	pg_server_free(&srv);
	if (rc < 0)
		return ctl_fail(c, NULL, &msg_db_error, err);
	if (from == to)
		ctl_say(c, stdout, &msg_schema_current, to);
	else if (from == 0)
		ctl_say(c, stdout, &msg_schema_made, to);
	else
		ctl_say(c, stdout, &msg_schema_upgraded, from, to);
	return CTL_OK;
}
