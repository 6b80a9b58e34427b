/* unit_ldap.c - a user name in a directory search filter (RFC 4515),
 * the directory's settings, and the cache of its answers. */
#include <string.h>
#include "check.h"
#include "config_ldap.h"
#include "dir_cache.h"
#include "ldap_filter.h"

static bool escaped(const char *name, size_t len, const char *want)
{
	char out[LDAP_FILTER_MAX];

	return ldap_escape(name, len, out, sizeof out) && strcmp(out, want) == 0;
}

static void escaping(void)
{
	char out[LDAP_FILTER_MAX], tiny[4];

	CHECK("a plain name stays as it is", escaped("alice.b-c_9", 11, "alice.b-c_9"));
	CHECK("* is \\2a: a name is never a wildcard", escaped("*", 1, "\\2a"));
	CHECK("( and ) are \\28 \\29: a name never closes the filter",
	      escaped("a)(uid=*", 8, "a\\29\\28uid=\\2a"));
	CHECK("\\ is \\5c", escaped("a\\b", 3, "a\\5cb"));
	CHECK("NUL is \\00, and the name goes on past it", escaped("a\0b", 3, "a\\00b"));
	CHECK("bytes outside printable ASCII are escaped", escaped("\xc3\xa9 \x7f", 4,
								   "\\c3\\a9\\20\\7f"));
	CHECK("an escape that does not fit is refused", !ldap_escape("**", 2, tiny, sizeof tiny));
	CHECK("the user's filter: the configured one and the name",
	      ldap_user_filter("(memberOf=cn=portal,dc=x)", "uid", "al*", 3, out, sizeof out) &&
	      strcmp(out, "(&(memberOf=cn=portal,dc=x)(uid=al\\2a))") == 0);
}

static const char *set(struct ldap_settings *l, const char *k, const char *v)
{
	static char why[256];

	return config_ldap_set(l, k, v, why);
}

static void settings(void)
{
	struct ldap_settings l;
	const char *key = "";
	char why[256], uri[LDAP_URI_MAX];

	config_ldap_defaults(&l);
	CHECK("default: directory = local", l.directory == DIRECTORY_LOCAL);
	CHECK("default: TLS required, uid, mail, 5 s, 1 h",
	      l.tls == DIR_TLS_REQUIRED && strcmp(l.user_attribute, "uid") == 0 &&
	      strcmp(l.mail_attribute, "mail") == 0 && l.timeout == 5 && l.cache_ttl == 3600);
	CHECK("local needs nothing more", config_ldap_check(&l, &key, why) == NULL);
	CHECK("directory = ldap taken", set(&l, "directory", "ldap") == NULL);
	CHECK("ldap without a URI: ldap_uri to blame",
	      config_ldap_check(&l, &key, why) && strcmp(key, "ldap_uri") == 0);
	CHECK("a URI of another scheme refused", set(&l, "ldap_uri", "http://x") != NULL);
	CHECK("several URIs taken",
	      set(&l, "ldap_uri", "ldaps://a.example ldap://b.example:389") == NULL);
	CHECK("the second URI, one by one", config_ldap_uri(&l, 1, uri) &&
	      strcmp(uri, "ldap://b.example:389") == 0 && !config_ldap_uri(&l, 2, uri));
	CHECK("no base: ldap_base to blame",
	      config_ldap_check(&l, &key, why) && strcmp(key, "ldap_base") == 0);
	CHECK("a base taken", set(&l, "ldap_base", "dc=example,dc=org") == NULL);
	CHECK("then it is whole", config_ldap_check(&l, &key, why) == NULL);
	CHECK("SASL EXTERNAL over ldap:// refused", set(&l, "ldap_sasl", "external") == NULL &&
	      config_ldap_check(&l, &key, why) && strcmp(key, "ldap_sasl") == 0);
	l.sasl_external = false;
	CHECK("a bind DN without its password file refused",
	      set(&l, "ldap_bind_dn", "cn=reader,dc=example,dc=org") == NULL &&
	      config_ldap_check(&l, &key, why) && strcmp(key, "ldap_bind_password_file") == 0);
	CHECK("a password in the clear over ldap:// refused",
	      set(&l, "ldap_bind_password_file", "/etc/portald/ldap-password") == NULL &&
	      set(&l, "ldap_tls", "none") == NULL &&
	      config_ldap_check(&l, &key, why) && strcmp(key, "ldap_tls") == 0);
	CHECK("a filter must be in parentheses", set(&l, "ldap_filter", "uid=x") != NULL);
	CHECK("a filter must balance", set(&l, "ldap_filter", "(a=b))(") != NULL &&
	      set(&l, "ldap_filter", "(&(a=b)") != NULL);
	CHECK("a filter taken", set(&l, "ldap_filter", "(&(objectClass=person)(a=\\28b\\29))")
	      == NULL);
	CHECK("an attribute name checked", set(&l, "ldap_user_attribute", "sAMAccountName") ==
	      NULL && set(&l, "ldap_mail_attribute", "ma il") != NULL);
	CHECK("ldap_timeout bounded", set(&l, "ldap_timeout", "0") != NULL &&
	      set(&l, "ldap_timeout", "2s") == NULL && l.timeout == 2);
	CHECK("ldap_cache_ttl takes 0 (no cache) and hours",
	      set(&l, "ldap_cache_ttl", "0") == NULL && set(&l, "ldap_cache_ttl", "8h") == NULL &&
	      l.cache_ttl == 8 * 3600);
}

static void cache(void)
{
	struct dir_cache *c = dir_cache_new();
	struct dir_entry e = { .status = DIR_MANAGED, .ndn = 1, .naddr = 2, .read_at = 1000 },
			 got;

	strcpy(e.dn[0], "uid=bob,dc=example,dc=org");
	strcpy(e.addr[0], "bob@example.org");
	strcpy(e.addr[1], "bob.work@example.org");
	dir_cache_put(c, "bob", &e);
	CHECK("cache: an answer kept serves within its time",
	      dir_cache_get(c, "bob", 1000 + 60, 60, &got) && got.cached &&
	      got.status == DIR_MANAGED && got.naddr == 2 &&
	      strcmp(got.addr[1], "bob.work@example.org") == 0 &&
	      strcmp(got.dn[0], "uid=bob,dc=example,dc=org") == 0);
	CHECK("cache: past its time it serves no more", !dir_cache_get(c, "bob", 1061, 60, &got));
	CHECK("cache: and it is gone", dir_cache_count(c) == 0 &&
	      !dir_cache_get(c, "bob", 1000, 60, &got));
	e.status = DIR_UNAVAILABLE;
	dir_cache_put(c, "bob", &e);
	CHECK("cache: 'unavailable' is never kept", dir_cache_count(c) == 0);
	e.status = DIR_NOT_MANAGED;
	e.naddr = 0;
	dir_cache_put(c, "carol", &e);
	CHECK("cache: 'not managed' is kept too",
	      dir_cache_get(c, "carol", 1000, 60, &got) && got.status == DIR_NOT_MANAGED);
	CHECK("cache: a clock set back serves nothing", !dir_cache_get(c, "carol", 999, 60, &got));
	dir_cache_free(c);
}

int main(void)
{
	escaping();
	settings();
	cache();
	return check_done();
}
