/*
 * store_pg_fleet.c - what the machines on one database must agree on
 * (storage_agree): the first portald to start records its settings in
 * fleet_settings, every later one compares its own with them.  The
 * advisory lock makes two machines starting at once take turns, so that
 * both cannot record different settings.
 */
#include "store_pg.h"

#include <stdio.h>
#include <string.h>

#define FLEET_LOCK "SELECT pg_advisory_xact_lock(7011750616327386)"

/* Record the setting unless one is there, then read what is there. */
static int one_setting(struct pg_session *s, const char *host, const struct storage_setting *set,
		       char *value, size_t vcap, char *by, size_t bcap)
{
	const char *vals[3] = { set->name, set->value, host };
	int rc;
	PGresult *res = pgs_run(s, "fleet settings", "INSERT INTO fleet_settings (name, value, "
				"set_by) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING", 3,
				vals, NULL, &rc);

	PQclear(res);
	if (!res)
		return rc;
	res = pgs_run(s, "fleet settings", "SELECT value, set_by FROM fleet_settings "
		      "WHERE name = $1", 1, vals, NULL, &rc);
	if (!res)
		return rc;
	if (PQntuples(res) != 1 || !pgs_str(res, 0, 0, value, vcap) || !pgs_str(res, 0, 1, by, bcap))
		rc = STORAGE_ERROR;
	PQclear(res);
	return rc;
}

/* "name: this machine has X, the database has Y (from Z)" after what err
 * says already. */
static void differs(char *err, size_t errlen, const struct storage_setting *set,
		    const char *value, const char *by)
{
	size_t at = strlen(err);

	if (at >= errlen - 1)
		return;
	snprintf(err + at, errlen - at, "%s%s: this machine has \"%s\", the other machines "
		 "\"%s\" (recorded by %s)", at ? "; " : "", set->name, set->value, value, by);
}

int pg_agree(struct storage_conn *c, const struct storage_setting *set, size_t n, char *err,
	     size_t errlen)
{
	struct pg_session *s = pgs_session(c);
	char value[STORAGE_SETTING_MAX], by[STORAGE_HOST_MAX + 1];
	int rc = pgs_connected(s);

	if (rc == STORAGE_OK && (rc = pgs_status(pg_command(&s->pc, "BEGIN"))) == STORAGE_OK) {
		s->in_tx = true;
		rc = pgs_status(pg_command(&s->pc, FLEET_LOCK));
	}
	for (size_t i = 0; i < n && rc == STORAGE_OK; i++) {
		rc = one_setting(s, pgs_host(c), &set[i], value, sizeof value, by, sizeof by);
		if (rc == STORAGE_OK && strcmp(value, set[i].value) != 0)
			differs(err, errlen, &set[i], value, by);
	}
	if (rc == STORAGE_OK && err[0]) {
		char what[512];

		snprintf(what, sizeof what, "%s", err);
		snprintf(err, errlen, "this machine's settings differ from the other machines' "
			 "on the database: %s", what);
		c->st->ops->rollback(c);
		return STORAGE_ERROR;
	}
	if (rc == STORAGE_OK)
		rc = c->st->ops->commit(c);
	else
		c->st->ops->rollback(c);
	if (rc != STORAGE_OK && !err[0])
		snprintf(err, errlen, "the settings the machines share could not be read: %s",
			 s->pc.err[0] ? s->pc.err : "the database did not answer");
	return rc;
}
