/*
 * dir_ldap.c - the directory over LDAP.  See dir_ldap.h.
 */
#include "dir_ldap.h"

#include <ldap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include "log.h"
#include "secretfile.h"
#include "valid.h"

#define POOL_MAX   16      /* idle connections kept: at most one a worker */
#define PAGE_SIZE  200     /* entries asked for a page: under AD's 1,000 and most limits */
/* Debian's bundle of the system's authorities, for TLS without ldap_ca_file. */
#define SYSTEM_CA  "/etc/ssl/certs/ca-certificates.crt"

/* What a failed handshake means: libldap's own words are "Connect error". */
#define TLS_REFUSED "TLS refused: the server's certificate is not vouched for by " \
	"ldap_ca_file (or the system's authorities), or does not name the host of the URI"

struct ldap_dir {
	struct ldap_settings set;
	char *password;              /* sodium_malloc'ed; NULL without a simple bind */
	pthread_mutex_t mu;          /* guards idle and server */
	LDAP *idle[POOL_MAX];
	unsigned nidle;
	char server[LDAP_URI_MAX];
};

static bool scheme(const char *uri, const char *s)
{
	return strncasecmp(uri, s, strlen(s)) == 0;
}

/* "URI: what: the library's words (its diagnostic)" into err. */
static void say_error(LDAP *ld, int rc, const char *what, const char *uri, char *err,
		      size_t cap)
{
	char *diag = NULL;
	bool more;

	if (ld)
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	more = diag && diag[0];
	snprintf(err, cap, "%s: %s: %s%s%s%s", uri, what, ldap_err2string(rc), more ? " (" : "",
		 more ? diag : "", more ? ")" : "");
	ldap_memfree(diag);
}

/* Every wait bounded; TLS only with a certificate the authorities vouch
 * for and that names the host of the URI (libldap checks the name when
 * the certificate is demanded). */
static int set_options(const struct ldap_dir *d, LDAP *ld, bool tls)
{
	struct timeval tv = { .tv_sec = d->set.timeout };
	int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND;
	int tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2, client = 0;
	unsigned user_timeout = d->set.timeout * 1000;
	const char *ca = d->set.ca_file[0] ? d->set.ca_file : SYSTEM_CA;

	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) ||
	    ldap_set_option(ld, LDAP_OPT_TCP_USER_TIMEOUT, &user_timeout))
		return -1;
	if (!tls)
		return 0;
	/* NEWCTX last: the handle's own TLS context, made of the above. */
	return ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) ||
	       ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12) ||
	       ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, ca) ||
	       ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &client) ? -1 : 0;
}

/* ldap:// with ldap_tls required or starttls.  A server that refuses
 * StartTLS is used in the clear only with starttls, and never to send
 * a bind password. */
static int start_tls(const struct ldap_dir *d, LDAP *ld, const char *uri, char *err,
		     size_t cap)
{
	int rc = ldap_start_tls_s(ld, NULL, NULL);

	if (rc == LDAP_SUCCESS)
		return 0;
	if (rc > 0 && d->set.tls == DIR_TLS_STARTTLS && !d->password) {
		log_msg(LOG_WARNING, "directory: %s refused StartTLS (%s): used without TLS, "
			"as ldap_tls = starttls allows", uri, ldap_err2string(rc));
		return 0;
	}
	say_error(ld, rc, rc == LDAP_CONNECT_ERROR ? TLS_REFUSED : "StartTLS failed", uri, err,
		  cap);
	return -1;
}

static int bind_as(const struct ldap_dir *d, LDAP *ld, const char *uri, char *err, size_t cap)
{
	static char empty[] = "";
	struct berval cred = { 0, empty };
	int rc;

	if (d->set.sasl_external) {
		rc = ldap_sasl_bind_s(ld, NULL, "EXTERNAL", &cred, NULL, NULL, NULL);
	} else if (d->password) {
		cred.bv_val = d->password;
		cred.bv_len = strlen(d->password);
		rc = ldap_sasl_bind_s(ld, d->set.bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
				      NULL);
	} else {
		return 0;     /* anonymous */
	}
	if (rc == LDAP_SUCCESS)
		return 0;
	say_error(ld, rc, "bind refused", uri, err, cap);
	return -1;
}

static LDAP *connect_uri(const struct ldap_dir *d, const char *uri, char *err, size_t cap)
{
	bool ldaps = scheme(uri, "ldaps://"), ldapi = scheme(uri, "ldapi://");
	bool tls = ldaps || (!ldapi && d->set.tls != DIR_TLS_NONE);
	LDAP *ld = NULL;
	int rc = ldap_initialize(&ld, uri);

	if (rc != LDAP_SUCCESS) {
		say_error(NULL, rc, "not a usable URI", uri, err, cap);
		return NULL;
	}
	if (set_options(d, ld, tls) < 0) {
		snprintf(err, cap, "%s: the TLS settings were refused (is ldap_ca_file a "
			 "readable PEM file?)", uri);
		goto fail;
	}
	rc = ldap_connect(ld);
	if (rc != LDAP_SUCCESS) {
		/* ldaps://: libldap says "Can't contact" for a refused handshake too */
		say_error(ld, rc, ldaps ? "cannot connect, or " TLS_REFUSED : "cannot connect",
			  uri, err, cap);
		goto fail;
	}
	if ((tls && !ldaps && start_tls(d, ld, uri, err, cap) < 0) ||
	    bind_as(d, ld, uri, err, cap) < 0)
		goto fail;
	return ld;
fail:
	ldap_unbind_ext_s(ld, NULL, NULL);
	return NULL;
}

/* A connection: an idle one, or (fresh) a new one to the first URI that
 * answers, in the order written. */
static LDAP *take(struct ldap_dir *d, bool fresh, char *err, size_t cap)
{
	char uri[LDAP_URI_MAX];
	LDAP *ld = NULL;

	pthread_mutex_lock(&d->mu);
	if (!fresh && d->nidle > 0)
		ld = d->idle[--d->nidle];
	pthread_mutex_unlock(&d->mu);
	for (unsigned i = 0; !ld && config_ldap_uri(&d->set, i, uri); i++) {
		ld = connect_uri(d, uri, err, cap);
		if (!ld) {
			log_msg(LOG_WARNING, "directory: %s", err);
			continue;
		}
		pthread_mutex_lock(&d->mu);
		snprintf(d->server, sizeof d->server, "%s", uri);
		pthread_mutex_unlock(&d->mu);
	}
	return ld;
}

static void give_back(struct ldap_dir *d, LDAP *ld, bool usable)
{
	pthread_mutex_lock(&d->mu);
	if (usable && d->nidle < POOL_MAX) {
		d->idle[d->nidle++] = ld;
		ld = NULL;
	}
	pthread_mutex_unlock(&d->mu);
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
}

/* Results that say the connection, not the question, failed. */
static bool connection_lost(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
	       rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_TIMELIMIT_EXCEEDED;
}

/* op (an LDAP result code) on a connection.  A kept connection may have
 * been closed by the server meanwhile, or the server gone over to
 * another: once, a new connection.  Reads only, so trying again is safe. */
static int with_connection(struct ldap_dir *d, int (*op)(struct ldap_dir *, LDAP *, void *),
			   void *arg, char *err, size_t cap)
{
	char uri[LDAP_URI_MAX];

	for (int attempt = 0; attempt < 2; attempt++) {
		LDAP *ld = take(d, attempt > 0, err, cap);
		int rc;

		if (!ld)
			return -1;
		rc = op(d, ld, arg);
		if (rc == LDAP_SUCCESS) {
			give_back(d, ld, true);
			return 0;
		}
		ldap_dir_server(d, uri, sizeof uri);
		say_error(ld, rc, "search failed", uri, err, cap);
		give_back(d, ld, false);
		if (!connection_lost(rc))
			return -1;
	}
	return -1;
}

/* ---- a user's entry ------------------------------------------------------ */

struct lookup {
	const char *name;
	size_t len;
	struct dir_entry *e;
};

/* Does the entry hold exactly this name?  The directory's matching rule
 * may ignore case ("Alice" finds alice's entry): the portal does not, or
 * one person would have two records and two counts of failures. */
static bool has_name(LDAP *ld, LDAPMessage *entry, const char *attr, const char *name,
		     size_t len)
{
	struct berval **v = ldap_get_values_len(ld, entry, attr);
	bool same = false;

	for (size_t i = 0; v && v[i]; i++)
		same |= v[i]->bv_len == len && memcmp(v[i]->bv_val, name, len) == 0;
	ldap_value_free_len(v);
	return same;
}

/* Each value of the mail attribute that is an address the portal can
 * mail is an address on file; the others are set aside, and said. */
static void take_addresses(LDAP *ld, LDAPMessage *entry, const char *attr, struct dir_entry *e)
{
	struct berval **v = ldap_get_values_len(ld, entry, attr);
	unsigned aside = 0;

	for (size_t i = 0; v && v[i]; i++) {
		char *a = e->addr[e->naddr];
		bool ok = e->naddr < DIR_ADDRS_MAX && v[i]->bv_len <= PORTAL_EMAIL_MAX &&
			  !memchr(v[i]->bv_val, '\0', v[i]->bv_len);

		if (ok) {
			memcpy(a, v[i]->bv_val, v[i]->bv_len);
			a[v[i]->bv_len] = '\0';
			ok = valid_email(a);
		}
		if (ok)
			e->naddr++;
		else
			aside++;
	}
	ldap_value_free_len(v);
	if (aside)
		snprintf(e->detail, sizeof e->detail, "%u value(s) of %s set aside: not an "
			 "address the portal can mail, or more than %d", aside, attr, DIR_ADDRS_MAX);
}

static void take_dn(LDAP *ld, LDAPMessage *entry, char out[LDAP_DN_MAX])
{
	char *dn = ldap_get_dn(ld, entry);

	snprintf(out, LDAP_DN_MAX, "%s", dn ? dn : "?");
	ldap_memfree(dn);
}

/* The entries found: exactly one holding the name is a member. */
static void take_entries(struct ldap_dir *d, LDAP *ld, LDAPMessage *res, struct lookup *q,
			 bool more)
{
	struct dir_entry *e = q->e;

	for (LDAPMessage *m = ldap_first_entry(ld, res); m; m = ldap_next_entry(ld, m)) {
		if (!has_name(ld, m, d->set.user_attribute, q->name, q->len))
			continue;
		if (e->ndn < DIR_DNS_MAX)
			take_dn(ld, m, e->dn[e->ndn++]);
		if (++e->matches == 1)
			take_addresses(ld, m, d->set.mail_attribute, e);
	}
	/* More than the search read: several, whatever those held. */
	if (more || e->matches > 1) {
		e->status = DIR_AMBIGUOUS;
		e->naddr = 0;
		snprintf(e->detail, sizeof e->detail, "%s%u entries have this name",
			 more ? "at least " : "", e->matches > DIR_DNS_MAX ? e->matches : e->ndn);
	} else {
		e->status = e->matches ? DIR_MANAGED : DIR_NOT_MANAGED;
	}
}

static int lookup_op(struct ldap_dir *d, LDAP *ld, void *arg)
{
	struct lookup *q = arg;
	char *attrs[] = { d->set.user_attribute, d->set.mail_attribute, NULL };
	struct timeval tv = { .tv_sec = d->set.timeout };
	LDAPMessage *res = NULL;
	int rc = ldap_search_ext_s(ld, d->set.base, LDAP_SCOPE_SUBTREE, q->e->filter, attrs, 0,
				   NULL, NULL, &tv, DIR_DNS_MAX, &res);

	if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED) {
		take_entries(d, ld, res, q, rc == LDAP_SIZELIMIT_EXCEEDED);
		rc = LDAP_SUCCESS;
	}
	ldap_msgfree(res);
	return rc;
}

void ldap_user_filter_of(const struct ldap_dir *d, const char *name, size_t len, char *out,
			 size_t cap)
{
	if (!ldap_user_filter(d->set.filter, d->set.user_attribute, name, len, out, cap))
		out[0] = '\0';
}

int ldap_dir_lookup(struct ldap_dir *d, const char *name, size_t len, struct dir_entry *e)
{
	struct lookup q = { name, len, e };

	ldap_user_filter_of(d, name, len, e->filter, sizeof e->filter);
	if (!e->filter[0]) {
		snprintf(e->detail, sizeof e->detail, "the filter does not fit in %d bytes",
			 LDAP_FILTER_MAX);
		return -1;
	}
	return with_connection(d, lookup_op, &q, e->detail, sizeof e->detail);
}

/* ---- the members, page by page --------------------------------------------- */

struct listing {
	void (*each)(void *arg, const char *name, const char *addr);
	void *arg;
	unsigned long *skipped;
};

/* The first value of attr that ok() takes, into out; false when none. */
static bool first_value(LDAP *ld, LDAPMessage *m, const char *attr, bool (*ok)(const char *),
			char *out, size_t cap)
{
	struct berval **v = ldap_get_values_len(ld, m, attr);
	bool found = false;

	for (size_t i = 0; v && v[i] && !found; i++) {
		if (v[i]->bv_len >= cap || memchr(v[i]->bv_val, '\0', v[i]->bv_len))
			continue;
		memcpy(out, v[i]->bv_val, v[i]->bv_len);
		out[v[i]->bv_len] = '\0';
		found = ok(out);
	}
	ldap_value_free_len(v);
	return found;
}

static void list_entries(struct ldap_dir *d, LDAP *ld, LDAPMessage *res, struct listing *q)
{
	char name[PORTAL_USER_MAX + 1], addr[PORTAL_EMAIL_MAX + 1];

	for (LDAPMessage *m = ldap_first_entry(ld, res); m; m = ldap_next_entry(ld, m)) {
		if (!first_value(ld, m, d->set.user_attribute, valid_user, name, sizeof name)) {
			(*q->skipped)++;
			continue;
		}
		if (!first_value(ld, m, d->set.mail_attribute, valid_email, addr, sizeof addr))
			addr[0] = '\0';
		q->each(q->arg, name, addr);
	}
}

/* One page from cookie; the next cookie replaces it (empty: the last page). */
static int list_page(struct ldap_dir *d, LDAP *ld, struct listing *q, struct berval *cookie)
{
	char *attrs[] = { d->set.user_attribute, d->set.mail_attribute, NULL };
	struct timeval tv = { .tv_sec = d->set.timeout };
	LDAPControl *page = NULL, *sent[2] = { NULL, NULL }, **back = NULL, *resp;
	LDAPMessage *res = NULL;
	struct berval next = { 0, NULL };
	ber_int_t estimate;
	int rc, code = LDAP_SUCCESS;

	/* Critical: a server that cannot page must refuse, not stop at its
	 * size limit with a list that looks whole. */
	rc = ldap_create_page_control(ld, PAGE_SIZE, cookie, 1, &page);
	if (rc != LDAP_SUCCESS)
		return rc;
	sent[0] = page;
	rc = ldap_search_ext_s(ld, d->set.base, LDAP_SCOPE_SUBTREE, d->set.filter, attrs, 0,
			       sent, NULL, &tv, 0, &res);
	ldap_control_free(page);
	if (rc == LDAP_SUCCESS) {
		list_entries(d, ld, res, q);
		rc = ldap_parse_result(ld, res, &code, NULL, NULL, NULL, &back, 0);
	}
	resp = rc == LDAP_SUCCESS ? ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, back, NULL) : NULL;
	if (resp)
		rc = ldap_parse_pageresponse_control(ld, resp, &estimate, &next);
	ldap_controls_free(back);
	ldap_msgfree(res);
	ber_memfree(cookie->bv_val);
	*cookie = next;       /* none: no control, the last page */
	return rc == LDAP_SUCCESS ? code : rc;
}

static int list_op(struct ldap_dir *d, LDAP *ld, void *arg)
{
	struct berval cookie = { 0, NULL };
	int rc;

	do
		rc = list_page(d, ld, arg, &cookie);
	while (rc == LDAP_SUCCESS && cookie.bv_len > 0);
	ber_memfree(cookie.bv_val);
	return rc;
}

int ldap_dir_list(struct ldap_dir *d, void (*each)(void *arg, const char *name,
		  const char *addr), void *arg, unsigned long *skipped, char *detail, size_t cap)
{
	struct listing q = { each, arg, skipped };

	*skipped = 0;
	return with_connection(d, list_op, &q, detail, cap);
}

/* ---- the directory itself ---------------------------------------------------- */

void ldap_dir_server(struct ldap_dir *d, char *out, size_t cap)
{
	pthread_mutex_lock(&d->mu);
	snprintf(out, cap, "%s", d->server);
	pthread_mutex_unlock(&d->mu);
}

/* libldap sets itself up at its first call, not safely in several threads
 * at once, and with TLS settings checked then: once here, in one thread,
 * a handle made and dropped.  Its own files (ldap.conf, ~/.ldaprc) are
 * not read: portald.conf says all. */
static int library_ready(const struct ldap_dir *d, char *err, size_t errlen)
{
	char uri[LDAP_URI_MAX];
	bool tls = false;
	LDAP *ld = NULL;
	int rc;

	setenv("LDAPNOINIT", "1", 1);
	for (unsigned i = 0; config_ldap_uri(&d->set, i, uri); i++)
		tls |= scheme(uri, "ldaps://") ||
		       (scheme(uri, "ldap://") && d->set.tls != DIR_TLS_NONE);
	config_ldap_uri(&d->set, 0, uri);
	rc = ldap_initialize(&ld, uri);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "ldap_uri %s: %s", uri, ldap_err2string(rc));
		return -1;
	}
	rc = set_options(d, ld, tls);
	ldap_unbind_ext_s(ld, NULL, NULL);
	if (rc < 0) {
		snprintf(err, errlen, "ldap_ca_file %s: the TLS library refused it (not a "
			 "readable file of PEM certificates?)",
			 d->set.ca_file[0] ? d->set.ca_file : SYSTEM_CA);
		return -1;
	}
	return 0;
}

struct ldap_dir *ldap_dir_open(const struct ldap_settings *l, uid_t owner, char *err,
			       size_t errlen)
{
	struct ldap_dir *d = calloc(1, sizeof *d);

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->set = *l;
	pthread_mutex_init(&d->mu, NULL);
	if (l->bind_dn[0]) {
		d->password = secretfile_read("ldap_bind_password_file", l->bind_password_file,
					      owner, err, errlen);
		if (!d->password) {
			ldap_dir_close(d);
			return NULL;
		}
	}
	if (library_ready(d, err, errlen) < 0) {
		ldap_dir_close(d);
		return NULL;
	}
	return d;
}

void ldap_dir_close(struct ldap_dir *d)
{
	if (!d)
		return;
	while (d->nidle > 0)
		ldap_unbind_ext_s(d->idle[--d->nidle], NULL, NULL);
	if (d->password)
		sodium_free(d->password);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

/* ---- is it there? ------------------------------------------------------------ */

/* The base entry read, nothing of it asked: the cheapest question that
 * needs the server, the bind and the base. */
static int probe_op(struct ldap_dir *d, LDAP *ld, void *arg)
{
	char *none[] = { LDAP_NO_ATTRS, NULL };
	struct timeval tv = { .tv_sec = d->set.timeout };
	LDAPMessage *res = NULL;
	int rc = ldap_search_ext_s(ld, d->set.base, LDAP_SCOPE_BASE, "(objectClass=*)", none, 0,
				   NULL, NULL, &tv, 1, &res);

	(void)arg;
	ldap_msgfree(res);
	return rc;
}

int ldap_dir_probe(struct ldap_dir *d, char *detail, size_t cap)
{
	return with_connection(d, probe_op, NULL, detail, cap);
}
