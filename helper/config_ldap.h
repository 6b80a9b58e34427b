/*
 * config_ldap.h - the keys of portald.conf that say where members come
 * from: `directory = local | ldap` and the ldap_* settings of the
 * organisation's directory (OpenLDAP, 389-ds, FreeIPA, Active Directory).
 *
 * config.c owns the file and its table of keys; the values of these keys
 * are judged here, and so is what they must say together (config_ldap_check),
 * so that the directory's rules sit in one place.
 */
#ifndef PORTAL_CONFIG_LDAP_H
#define PORTAL_CONFIG_LDAP_H

#include <limits.h>
#include <stdbool.h>

enum directory_kind { DIRECTORY_LOCAL, DIRECTORY_LDAP };
/* ldap_tls: what ldap:// URIs must do (ldaps:// is TLS anyway, ldapi://
 * a local socket that needs none). */
enum dir_tls { DIR_TLS_REQUIRED, DIR_TLS_STARTTLS, DIR_TLS_NONE };

#define LDAP_URIS_MAX  8      /* failover list */
#define LDAP_URI_MAX   512
#define LDAP_DN_MAX    512
#define LDAP_ATTR_MAX  64

struct ldap_settings {
	enum directory_kind directory;
	char uri[LDAP_URI_MAX];          /* space-separated, as written */
	enum dir_tls tls;
	char ca_file[PATH_MAX];          /* "" = the system's authorities */
	char bind_dn[LDAP_DN_MAX];       /* "" = anonymous, or SASL */
	char bind_password_file[PATH_MAX];
	bool sasl_external;
	char base[LDAP_DN_MAX];
	char filter[LDAP_DN_MAX];        /* who is managed */
	char user_attribute[LDAP_ATTR_MAX];
	char mail_attribute[LDAP_ATTR_MAX];
	unsigned timeout;                /* seconds, every network wait */
	unsigned cache_ttl;              /* seconds an answer serves when unreachable */
};

void config_ldap_defaults(struct ldap_settings *l);
/* The value v of key (one of the names config.c hands over: directory,
 * ldap_*): NULL when taken, else what is wrong with it (why may hold the
 * text, 256 bytes). */
const char *config_ldap_set(struct ldap_settings *l, const char *key, const char *v,
			    char *why);
/* What the keys say together: NULL, or what is wrong, with *key the key
 * to blame (a key not given is blamed on `directory`). */
const char *config_ldap_check(const struct ldap_settings *l, const char **key, char *why);

/* The URIs one by one: the n-th (from 0) into out; false past the last. */
bool config_ldap_uri(const struct ldap_settings *l, unsigned n, char out[LDAP_URI_MAX]);

#endif
