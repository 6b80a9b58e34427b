/*
 * config_ldap.c - the directory's keys of portald.conf.  See config_ldap.h.
 */
#include "config_ldap.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "config.h"

#define WHY_MAX 256

void config_ldap_defaults(struct ldap_settings *l)
{
	memset(l, 0, sizeof *l);
	l->directory = DIRECTORY_LOCAL;
	l->tls = DIR_TLS_REQUIRED;
	snprintf(l->filter, sizeof l->filter, "(objectClass=*)");
	snprintf(l->user_attribute, sizeof l->user_attribute, "uid");
	snprintf(l->mail_attribute, sizeof l->mail_attribute, "mail");
	l->timeout = 5;
	l->cache_ttl = 3600;
}

static bool printable(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return false;
	return true;
}

static const char *copy(char *out, size_t cap, const char *v)
{
	if (strlen(v) >= cap)
		return "too long";
	if (!printable(v))
		return "control characters are not allowed";
	memcpy(out, v, strlen(v) + 1);
	return NULL;
}

static bool uri_scheme_ok(const char *u, size_t n)
{
	static const char *const schemes[] = { "ldap://", "ldaps://", "ldapi://" };

	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
		if (n >= strlen(schemes[i]) && strncasecmp(u, schemes[i], strlen(schemes[i])) == 0)
			return true;
	return false;
}

/* Space-separated URIs, each ldap://, ldaps:// or ldapi://. */
static const char *set_uri(struct ldap_settings *l, const char *v, char *why)
{
	unsigned count = 0;

	for (const char *p = v; *p;) {
		size_t n = strcspn(p, " \t");

		if (n == 0) {
			p++;
			continue;
		}
		if (++count > LDAP_URIS_MAX) {
			snprintf(why, WHY_MAX, "names more than %d URIs", LDAP_URIS_MAX);
			return why;
		}
		if (!uri_scheme_ok(p, n)) {
			snprintf(why, WHY_MAX, "'%.*s' is not an ldap://, ldaps:// or ldapi:// URI",
				 (int)(n > 100 ? 100 : n), p);
			return why;
		}
		p += n;
	}
	return copy(l->uri, sizeof l->uri, v);
}

/* A DN as the directory writes it: attribute=value pairs. */
static const char *set_dn(char *out, size_t cap, const char *v)
{
	if (!strchr(v, '='))
		return "must be a distinguished name such as dc=example,dc=org";
	return copy(out, cap, v);
}

/* An LDAP filter (RFC 4515) in parentheses.  Parentheses inside a value
 * are written \28 and \29, so every one here is structure: they must
 * balance.  The directory judges the rest, and says so at the first
 * look-up (portalctl directory lookup shows it). */
static const char *set_filter(struct ldap_settings *l, const char *v)
{
	int depth = 0;
	size_t n = strlen(v);

	if (n < 3 || v[0] != '(' || v[n - 1] != ')')
		return "must be an LDAP filter in parentheses, such as (objectClass=person)";
	for (size_t i = 0; i < n; i++) {
		depth += v[i] == '(' ? 1 : v[i] == ')' ? -1 : 0;
		if (depth < 0 || (depth == 0 && i + 1 < n))
			return "has unbalanced parentheses (write \\28 and \\29 inside a value)";
	}
	if (depth != 0)
		return "has unbalanced parentheses (write \\28 and \\29 inside a value)";
	return copy(l->filter, sizeof l->filter, v);
}

/* An attribute name (a letter, then letters, digits and hyphens) or an OID. */
static const char *set_attribute(char *out, size_t cap, const char *v)
{
	bool name = isalpha((unsigned char)v[0]), ok = true;

	for (const char *p = v; *p; p++)
		ok &= name ? (isalnum((unsigned char)*p) || *p == '-')
			   : (isdigit((unsigned char)*p) || *p == '.');
	if (!ok)
		return "must be an attribute name such as uid, mail or sAMAccountName";
	return copy(out, cap, v);
}

static const char *set_seconds(unsigned *out, const char *v, unsigned lo, unsigned hi,
			       char *why)
{
	unsigned s;

	if (!config_duration(v, &s))
		return "must be a duration such as 90s, 10m or 2h";
	if (s < lo || s > hi) {
		snprintf(why, WHY_MAX, "must be between %us and %us", lo, hi);
		return why;
	}
	*out = s;
	return NULL;
}

static const char *set_word(int *out, const char *v, const char *const words[], int n,
			    const char *wrong)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v, words[i]) == 0) {
			*out = i;
			return NULL;
		}
	return wrong;
}

static const char *set_path(char *out, size_t cap, const char *v)
{
	if (v[0] != '/')
		return "must be an absolute path";
	return copy(out, cap, v);
}

const char *config_ldap_set(struct ldap_settings *l, const char *key, const char *v,
			    char *why)
{
	static const char *const kinds[] = { "local", "ldap" };
	static const char *const tls[] = { "required", "starttls", "none" };
	int word = 0;
	const char *wrong;

	if (strcmp(key, "directory") == 0) {
		wrong = set_word(&word, v, kinds, 2, "must be local or ldap");
		l->directory = (enum directory_kind)word;
		return wrong;
	}
	if (strcmp(key, "ldap_tls") == 0) {
		wrong = set_word(&word, v, tls, 3, "must be required, starttls or none");
		l->tls = (enum dir_tls)word;
		return wrong;
	}
	if (strcmp(key, "ldap_sasl") == 0) {
		l->sasl_external = strcmp(v, "external") == 0;
		return l->sasl_external ? NULL : "must be external (SASL EXTERNAL over ldapi://)";
	}
	if (strcmp(key, "ldap_uri") == 0)
		return set_uri(l, v, why);
	if (strcmp(key, "ldap_ca_file") == 0)
		return set_path(l->ca_file, sizeof l->ca_file, v);
	if (strcmp(key, "ldap_bind_password_file") == 0)
		return set_path(l->bind_password_file, sizeof l->bind_password_file, v);
	if (strcmp(key, "ldap_bind_dn") == 0)
		return set_dn(l->bind_dn, sizeof l->bind_dn, v);
	if (strcmp(key, "ldap_base") == 0)
		return set_dn(l->base, sizeof l->base, v);
	if (strcmp(key, "ldap_filter") == 0)
		return set_filter(l, v);
	if (strcmp(key, "ldap_user_attribute") == 0)
		return set_attribute(l->user_attribute, sizeof l->user_attribute, v);
	if (strcmp(key, "ldap_mail_attribute") == 0)
		return set_attribute(l->mail_attribute, sizeof l->mail_attribute, v);
	if (strcmp(key, "ldap_timeout") == 0)
		return set_seconds(&l->timeout, v, 1, 300, why);
	if (strcmp(key, "ldap_cache_ttl") == 0)
		return set_seconds(&l->cache_ttl, v, 0, 7 * 24 * 3600, why);
	return "unknown key";
}

bool config_ldap_uri(const struct ldap_settings *l, unsigned n, char out[LDAP_URI_MAX])
{
	const char *p = l->uri;

	for (;;) {
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len == 0)
			return false;
		if (n-- == 0) {
			memcpy(out, p, len);
			out[len] = '\0';
			return true;
		}
		p += len;
	}
}

/* Does any URI have this scheme ("ldap://")? */
static bool any_uri(const struct ldap_settings *l, const char *scheme, bool want)
{
	char u[LDAP_URI_MAX];

	for (unsigned i = 0; config_ldap_uri(l, i, u); i++)
		if ((strncasecmp(u, scheme, strlen(scheme)) == 0) == want)
			return true;
	return false;
}

const char *config_ldap_check(const struct ldap_settings *l, const char **key, char *why)
{
	char first[LDAP_URI_MAX];

	(void)why;
	if (l->directory != DIRECTORY_LDAP)
		return NULL;
	*key = "ldap_uri";
	if (!config_ldap_uri(l, 0, first))
		return "missing: directory = ldap needs the directory's URIs";
	*key = "ldap_base";
	if (!l->base[0])
		return "missing: directory = ldap needs the search base (dc=example,dc=org)";
	*key = "ldap_sasl";
	if (l->sasl_external && l->bind_dn[0])
		return "external cannot go with ldap_bind_dn: choose one way to bind";
	if (l->sasl_external && any_uri(l, "ldapi://", false))
		return "external is for ldapi:// URIs only (the server knows the local account)";
	*key = "ldap_bind_password_file";
	if (l->bind_dn[0] && !l->bind_password_file[0])
		return "missing: needed when ldap_bind_dn is set";
	*key = "ldap_bind_dn";
	if (l->bind_password_file[0] && !l->bind_dn[0])
		return "missing: needed when ldap_bind_password_file is set";
	*key = "ldap_tls";
	if (l->tls == DIR_TLS_NONE && l->bind_dn[0] && any_uri(l, "ldap://", true))
		return "none would send the bind password in the clear over ldap://";
	return NULL;
}
