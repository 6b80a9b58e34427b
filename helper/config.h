/*
 * config.h - portald.conf: `key = value` lines, `#` comments.
 * Read by portald (all keys) and portalctl (the socket).  Parsed once into
 * struct portal_config; every error names the file, the line and the key.
 */
#ifndef PORTAL_CONFIG_H
#define PORTAL_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include "config_ldap.h"
#include "i18n.h"
#include "paths.h"

#define PORTAL_DEFAULT_DB     "/var/lib/portald/portal.db"
#define PORTAL_KEY_SUFFIX     ".key"     /* the key file beside the database, by default */
#define PORTAL_DEFAULT_USER   "portald"

enum mail_tls { MAIL_TLS_NONE, MAIL_TLS_STARTTLS, MAIL_TLS_REQUIRED };
enum store_kind { STORE_GDBM, STORE_POSTGRESQL };

struct portal_config {
	char socket[108];             /* sizeof sun_path */
	char database[PATH_MAX];
	char key_file[PATH_MAX];      /* the keys; "" in a file = DATABASE.key, filled by config_load */
	time_t cutover;               /* local midnight of the cutover date */
	char cutover_str[11];         /* YYYY-MM-DD as written */
	char organization[128];
	enum lang language;
	unsigned code_length;         /* 6..10 */
	unsigned code_ttl;            /* seconds */
	unsigned code_attempts;
	unsigned resend_interval;     /* seconds */
	unsigned codes_per_hour;
	unsigned lockout;             /* seconds */
	unsigned lockout_max;         /* seconds, >= lockout: the longest a growing lock lasts */
	unsigned password_min_length; /* characters, >= 8 */
	unsigned max_failures;        /* failures in a row from a source before locks grow */
	unsigned outbox_max;          /* mails waiting at most before notices are not queued */
	char smtp_host[256];
	unsigned smtp_port;
	enum mail_tls smtp_tls;
	char smtp_user[256];
	char smtp_password_file[PATH_MAX];
	char mail_from[256];          /* mail_from's address: the envelope sender */
	char mail_from_name[128];     /* mail_from's display name; "" for organization */
	char user[65];                /* account to run as once root's work is done; "" = portald if it exists */
	struct ldap_settings ldap;    /* directory and ldap_*: where members come from */
	/* Where the state lives (storage.h): this machine's GDBM file, or
	 * one PostgreSQL database that many machines share. */
	enum store_kind store;
	char postgresql[1024];        /* libpq conninfo: key=value or URI */
	char postgresql_password_file[PATH_MAX];
	unsigned postgresql_timeout;  /* seconds: the longest wait on the database */
	char host_name[256];          /* this machine, in the shared outbox and logs */
};

/* Defaults of DESIGN.md (cutover unset). */
void config_defaults(struct portal_config *c);
/* Load a file over the defaults.  On error returns -1 and writes
 * "FILE:LINE: KEY: what is wrong" into err. */
int config_load(const char *path, struct portal_config *c, char *err, size_t errlen);
/* Parse a duration "90", "90s", "15m", "2h" into seconds. */
bool config_duration(const char *s, unsigned *seconds);

#endif
