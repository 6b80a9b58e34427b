/*
 * config.c - parse portald.conf into struct portal_config.
 *
 * One table names every key with its parser, so a key cannot be known to
 * the documentation and forgotten here.  Errors are precise ("FILE:LINE:
 * KEY: what is wrong") because an administrator fixing a sign-in outage
 * must not have to guess.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "proto.h"
#include "valid.h"

#define LINE_MAX_LEN 1024
#define WHY_MAX 256

struct key {
	const char *name;
	/* NULL on success, else what is wrong with the value */
	const char *(*parse)(struct portal_config *c, const char *v, const struct key *k,
			     char *why);
	size_t off;        /* where in the struct (strings and numbers) */
	size_t size;       /* string capacity */
	unsigned lo, hi;   /* bounds for numbers and durations */
};

#define STR(f)   offsetof(struct portal_config, f), sizeof(((struct portal_config *)0)->f)
#define NUM(f)   offsetof(struct portal_config, f), 0

static unsigned *num_at(struct portal_config *c, const struct key *k)
{
	return (unsigned *)((char *)c + k->off);
}

static bool has_control(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return true;
	return false;
}

static const char *parse_text(struct portal_config *c, const char *v, const struct key *k,
				char *why)
{
	(void)why;
	if (strlen(v) >= k->size)
		return "too long";
	if (has_control(v))
		return "control characters are not allowed";
	memcpy((char *)c + k->off, v, strlen(v) + 1);
	return NULL;
}

static const char *parse_path(struct portal_config *c, const char *v, const struct key *k,
				char *why)
{
	if (v[0] != '/')
		return "must be an absolute path";
	return parse_text(c, v, k, why);
}

static bool parse_unsigned(const char *v, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)v[0]))
		return false;
	errno = 0;
	*out = strtoul(v, &end, 10);
	return errno == 0 && *end == '\0';
}

/* n, within the key's bounds, into its place; else why not (unit: what
 * follows each bound, "" or "s"). */
static const char *set_number(struct portal_config *c, const struct key *k, unsigned long n,
			      const char *unit, char *why)
{
	if (n < k->lo || n > k->hi) {
		snprintf(why, WHY_MAX, "must be between %u%s and %u%s", k->lo, unit, k->hi, unit);
		return why;
	}
	*num_at(c, k) = (unsigned)n;
	return NULL;
}

static const char *parse_number(struct portal_config *c, const char *v, const struct key *k,
				char *why)
{
	unsigned long n;

	if (!parse_unsigned(v, &n))
		return "must be a whole number";
	return set_number(c, k, n, "", why);
}

bool config_duration(const char *s, unsigned *seconds)
{
	char num[16];
	size_t n = strlen(s);
	unsigned long v, unit = 1;

	if (n == 0 || n >= sizeof num)
		return false;
	switch (s[n - 1]) {
	case 's': n--; break;
	case 'm': unit = 60; n--; break;
	case 'h': unit = 3600; n--; break;
	default: break;
	}
	memcpy(num, s, n);
	num[n] = '\0';
	if (!parse_unsigned(num, &v) || v > 7UL * 24 * 3600 / unit)
		return false;
	*seconds = (unsigned)(v * unit);
	return true;
}

static const char *parse_duration(struct portal_config *c, const char *v, const struct key *k,
				char *why)
{
	unsigned s;

	if (!config_duration(v, &s))
		return "must be a duration such as 90s, 10m or 2h";
	return set_number(c, k, s, "s", why);
}

static const char *parse_cutover(struct portal_config *c, const char *v, const struct key *k,
				char *why)
{
	struct tm tm = { 0 };
	const char *end;
	int y, m, d;

	(void)why;
	(void)k;
	if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d", &y, &m, &d) != 3 || v[4] != '-' || v[7] != '-')
		return "must be a date YYYY-MM-DD";
	end = strptime(v, "%Y-%m-%d", &tm);
	if (!end || *end || tm.tm_mon + 1 != m || tm.tm_mday != d || y < 1970)
		return "is not a valid date";
	tm.tm_isdst = -1;
	c->cutover = mktime(&tm);
	/* mktime normalises 31 April into 1 May: refuse rather than guess */
	if (c->cutover == (time_t)-1 || tm.tm_mday != d)
		return "is not a valid date";
	memcpy(c->cutover_str, v, 11);
	return NULL;
}

static const char *parse_language(struct portal_config *c, const char *v, const struct key *k,
				char *why)
{
	(void)why;
	(void)k;
	return lang_parse(v, &c->language) ? NULL : "must be fr or en";
}

static const char *parse_tls(struct portal_config *c, const char *v, const struct key *k,
				char *why)
{
	(void)why;
	(void)k;
	if (strcmp(v, "none") == 0)
		c->smtp_tls = MAIL_TLS_NONE;
	else if (strcmp(v, "starttls") == 0)
		c->smtp_tls = MAIL_TLS_STARTTLS;
	else if (strcmp(v, "required") == 0)
		c->smtp_tls = MAIL_TLS_REQUIRED;
	else
		return "must be none, starttls or required";
	return NULL;
}

static const char *parse_server(struct portal_config *c, const char *v, const struct key *k,
				char *why)
{
	const char *colon = strrchr(v, ':');
	size_t hostlen = colon ? (size_t)(colon - v) : strlen(v);
	unsigned long port = 25;

	(void)why;
	(void)k;
	/* libesmtp splits "host:port" at the first colon, so it cannot take
	 * an IPv6 literal; a host name resolving to one works. */
	if (v[0] == '[' || strchr(v, ':') != colon)
		return "cannot be an IPv6 address: give a host name (host:port)";
	if (colon && !parse_unsigned(colon + 1, &port))
		return "has a bad port: must be host:port";
	if (port == 0 || port > 65535)
		return "has a port out of range (1-65535)";
	if (hostlen == 0 || hostlen >= sizeof c->smtp_host)
		return "must be host:port";
	for (size_t i = 0; i < hostlen; i++)
		if (!isalnum((unsigned char)v[i]) && !strchr(".-", v[i]))
			return "has a bad host name";
	memcpy(c->smtp_host, v, hostlen);
	c->smtp_host[hostlen] = '\0';
	c->smtp_port = (unsigned)port;
	return NULL;
}

/* An address, or a display name and an address: see valid_mailbox. */
static const char *parse_from(struct portal_config *c, const char *v, const struct key *k,
				char *why)
{
	char name[sizeof c->mail_from_name], addr[PORTAL_EMAIL_MAX + 1];
	const char *wrong = valid_mailbox(v, name, sizeof name, addr);

	(void)k;
	if (wrong) {
		snprintf(why, WHY_MAX, "%s; accepted: noreply@example.org, "
			 "Example College <noreply@example.org> or "
			 "\"Doe, Jane\" <noreply@example.org>", wrong);
		return why;
	}
	snprintf(c->mail_from, sizeof c->mail_from, "%s", addr);
	snprintf(c->mail_from_name, sizeof c->mail_from_name, "%s", name);
	return NULL;
}

static const char *parse_user(struct portal_config *c, const char *v, const struct key *k,
			      char *why)
{
	if (!valid_user(v))
		return "must be a user name (letters, digits, '.', '_', '-')";
	return parse_text(c, v, k, why);
}

/* directory and ldap_*: config_ldap.c judges them. */
static const char *parse_ldap(struct portal_config *c, const char *v, const struct key *k,
			      char *why)
{
	return config_ldap_set(&c->ldap, k->name, v, why);
}

#define LDAP_KEY(name) { name, parse_ldap, 0, 0, 0, 0 }
/* ---- where the state lives (issue 15) -------------------------------------- */

static const char *parse_store(struct portal_config *c, const char *v, const struct key *k,
			       char *why)
{
	(void)why;
	(void)k;
	if (strcmp(v, "gdbm") == 0)
		c->store = STORE_GDBM;
	else if (strcmp(v, "postgresql") == 0)
		c->store = STORE_POSTGRESQL;
	else
		return "must be gdbm or postgresql";
	return NULL;
}

/* libpq's own parser (pg.c), where the program links it: a conninfo is
 * checked as libpq will read it.  A build without libpq (the fuzzer of
 * this file) only checks the text. */
__attribute__((weak)) const char *pg_conninfo_problem(const char *conninfo, char *why);

static const char *parse_conninfo(struct portal_config *c, const char *v, const struct key *k,
				  char *why)
{
	const char *bad = parse_text(c, v, k, why);

	if (!bad && pg_conninfo_problem)
		bad = pg_conninfo_problem(v, why);
	return bad;
}

/* A host name as the outbox and the logs show it: letters, digits, '.',
 * '-' and '_'. */
static const char *parse_host_name(struct portal_config *c, const char *v, const struct key *k,
				   char *why)
{
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_", *p))
			return "must be a host name (letters, digits, '.', '-', '_')";
	return parse_text(c, v, k, why);
}

static const struct key keys[] = {
	{ "socket", parse_path, STR(socket), 0, 0 },
	{ "database", parse_path, STR(database), 0, 0 },
	{ "key_file", parse_path, STR(key_file), 0, 0 },
	{ "cutover", parse_cutover, 0, 0, 0, 0 },
	{ "organization", parse_text, STR(organization), 0, 0 },
	{ "language", parse_language, 0, 0, 0, 0 },
	{ "code_length", parse_number, NUM(code_length), 6, 10 },
	{ "code_ttl", parse_duration, NUM(code_ttl), 1, 24 * 3600 },
	{ "code_attempts", parse_number, NUM(code_attempts), 1, 100 },
	{ "resend_interval", parse_duration, NUM(resend_interval), 0, 24 * 3600 },
	{ "codes_per_hour", parse_number, NUM(codes_per_hour), 1, 100 },
	{ "lockout", parse_duration, NUM(lockout), 1, 7 * 24 * 3600 },
	{ "lockout_max", parse_duration, NUM(lockout_max), 1, 7 * 24 * 3600 },
	{ "password_min_length", parse_number, NUM(password_min_length), 8, 256 },
	{ "max_failures", parse_number, NUM(max_failures), 1, 10000 },
	{ "outbox_max", parse_number, NUM(outbox_max), 1, 1000000 },
	{ "smtp_server", parse_server, 0, 0, 0, 0 },
	{ "smtp_tls", parse_tls, 0, 0, 0, 0 },
	{ "smtp_user", parse_text, STR(smtp_user), 0, 0 },
	{ "smtp_password_file", parse_path, STR(smtp_password_file), 0, 0 },
	{ "mail_from", parse_from, 0, 0, 0, 0 },
	{ "user", parse_user, STR(user), 0, 0 },
	LDAP_KEY("directory"), LDAP_KEY("ldap_uri"), LDAP_KEY("ldap_tls"),
	LDAP_KEY("ldap_ca_file"), LDAP_KEY("ldap_bind_dn"), LDAP_KEY("ldap_bind_password_file"),
	LDAP_KEY("ldap_sasl"), LDAP_KEY("ldap_base"), LDAP_KEY("ldap_filter"),
	LDAP_KEY("ldap_user_attribute"), LDAP_KEY("ldap_mail_attribute"),
	LDAP_KEY("ldap_timeout"), LDAP_KEY("ldap_cache_ttl"),
	{ "store", parse_store, 0, 0, 0, 0 },
	{ "postgresql", parse_conninfo, STR(postgresql), 0, 0 },
	{ "postgresql_password_file", parse_path, STR(postgresql_password_file), 0, 0 },
	{ "postgresql_timeout", parse_duration, NUM(postgresql_timeout), 1, 60 },
	{ "host_name", parse_host_name, STR(host_name), 0, 0 },
};
#define NKEYS (sizeof keys / sizeof keys[0])

void config_defaults(struct portal_config *c)
{
	char host[64] = "localhost";

	memset(c, 0, sizeof *c);
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	snprintf(c->socket, sizeof c->socket, "%s", PORTAL_DEFAULT_SOCKET);
	snprintf(c->database, sizeof c->database, "%s", PORTAL_DEFAULT_DB);
	snprintf(c->key_file, sizeof c->key_file, "%s", PORTAL_DEFAULT_DB PORTAL_KEY_SUFFIX);
	snprintf(c->organization, sizeof c->organization, "%s", host);
	c->language = LANG_FR;
	c->code_length = 6;
	c->code_ttl = 10 * 60;
	c->code_attempts = 5;
	c->resend_interval = 60;
	c->codes_per_hour = 5;
	c->lockout = 15 * 60;
	c->lockout_max = 24 * 3600;
	c->password_min_length = 15;
	c->max_failures = 20;
	c->outbox_max = 10000;
	snprintf(c->smtp_host, sizeof c->smtp_host, "localhost");
	c->smtp_port = 25;
	c->smtp_tls = MAIL_TLS_STARTTLS;
	snprintf(c->mail_from, sizeof c->mail_from, "noreply@%s", host);
	if (!valid_email(c->mail_from))
		snprintf(c->mail_from, sizeof c->mail_from, "noreply@localhost");
	config_ldap_defaults(&c->ldap);
	c->store = STORE_GDBM;
	c->postgresql_timeout = 5;
	snprintf(c->host_name, sizeof c->host_name, "%s", host);
}

static void trim(char **s)
{
	char *e;

	while (isspace((unsigned char)**s))
		(*s)++;
	e = *s + strlen(*s);
	while (e > *s && isspace((unsigned char)e[-1]))
		*--e = '\0';
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Where the keys are: key_file if given, else beside the database. */
static int key_file_of(struct portal_config *c, const unsigned seen[NKEYS], const char *path,
		       char *err, size_t errlen)
{
	int n;

	for (size_t i = 0; i < NKEYS; i++)
		if (seen[i] && strcmp(keys[i].name, "key_file") == 0)
			return 0;
	n = snprintf(c->key_file, sizeof c->key_file, "%s%s", c->database, PORTAL_KEY_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof c->key_file)
		return fail(err, errlen, "%s: database: too long a path for the key file beside "
			    "it: set key_file", path);
	return 0;
}

/* Handle one non-blank, non-comment line. */
static int config_line(struct portal_config *c, char *line, const char *path, unsigned lineno,
		       unsigned seen[NKEYS], char *err, size_t errlen)
{
	char *eq = strchr(line, '='), *name = line, *value;
	char whybuf[WHY_MAX];
	const char *why;

	if (!eq)
		return fail(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
	*eq = '\0';
	value = eq + 1;
	trim(&name);
	trim(&value);
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(name, keys[i].name) != 0)
			continue;
		if (seen[i])
			return fail(err, errlen, "%s:%u: %s: given twice", path, lineno, name);
		seen[i] = lineno;
		if (value[0] == '\0')
			return fail(err, errlen, "%s:%u: %s: no value", path, lineno, name);
		why = keys[i].parse(c, value, &keys[i], whybuf);
		if (why)
			return fail(err, errlen, "%s:%u: %s: '%s' %s", path, lineno, name, value, why);
		return 0;
	}
	return fail(err, errlen, "%s:%u: %s: unknown key", path, lineno, name);
}

/* What the directory's keys say together; the line named is the one of
 * the key to blame, or of `directory` for a key that was not given. */
static int ldap_check(const struct portal_config *c, const char *path,
		      const unsigned seen[NKEYS], char *err, size_t errlen)
{
	char whybuf[WHY_MAX];
	const char *key = "directory", *why = config_ldap_check(&c->ldap, &key, whybuf);
	unsigned line = 0, dirline = 0;

	if (!why)
		return 0;
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, key) == 0)
			line = seen[i];
		if (strcmp(keys[i].name, "directory") == 0)
			dirline = seen[i];
	}
	return fail(err, errlen, "%s:%u: %s: %s", path, line ? line : dirline, key, why);
}

int config_load(const char *path, struct portal_config *c, char *err, size_t errlen)
{
	unsigned seen[NKEYS] = { 0 };
	unsigned lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	FILE *f;

	config_defaults(c);
	f = fopen(path, "re");
	if (!f)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		char *p = line;

		lineno++;
		if (n > LINE_MAX_LEN)
			rc = fail(err, errlen, "%s:%u: line longer than %d bytes", path, lineno, LINE_MAX_LEN);
		else if (memchr(line, '\0', (size_t)n))
			rc = fail(err, errlen, "%s:%u: NUL byte in line", path, lineno);
		if (rc)
			break;
		trim(&p);
		if (*p == '\0' || *p == '#')
			continue;
		rc = config_line(c, p, path, lineno, seen, err, errlen);
	}
	if (rc == 0 && ferror(f))
		rc = fail(err, errlen, "%s: read error", path);
	free(line);
	fclose(f);
	if (rc == 0 && c->cutover_str[0] == '\0')
		rc = fail(err, errlen, "%s: cutover: missing (the cutover date, YYYY-MM-DD)", path);
	if (rc == 0 && c->smtp_user[0] && !c->smtp_password_file[0])
		rc = fail(err, errlen, "%s: smtp_password_file: needed when smtp_user is set", path);
	if (rc == 0)
		rc = ldap_check(c, path, seen, err, errlen);
	if (rc == 0 && c->store == STORE_POSTGRESQL && !c->postgresql[0])
		rc = fail(err, errlen, "%s: postgresql: needed when store = postgresql (the "
			  "database's conninfo, e.g. host=db.example.org dbname=portal)", path);
	if (rc == 0 && c->lockout_max < c->lockout)
		rc = fail(err, errlen, "%s: lockout_max: %us is shorter than lockout (%us): a "
			  "lock that grows cannot be shorter than the first", path, c->lockout_max,
			  c->lockout);
	if (rc == 0)
		rc = key_file_of(c, seen, path, err, errlen);
	return rc;
}
