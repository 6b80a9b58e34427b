/* unit_config.c - every key parses, every mistake is named by file, line and key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "config.h"

static char path[] = "/tmp/unit_config_XXXXXX";

static int load(const char *text, struct portal_config *c, char *err, size_t errlen)
{
	FILE *f = fopen(path, "we");

	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	return config_load(path, c, err, errlen);
}

/* The error must name this file, the line and the key. */
static int names(const char *err, unsigned line, const char *key)
{
	char want[256];

	snprintf(want, sizeof want, "%s:%u: %s:", path, line, key);
	return strstr(err, want) != NULL;
}

static void defaults(void)
{
	struct portal_config c;
	char err[512];

	CHECK("minimal file loads", load("cutover = 2023-10-30\n", &c, err, sizeof err) == 0);
	CHECK("default socket", strcmp(c.socket, "/run/portald/portald.sock") == 0);
	CHECK("default database", strcmp(c.database, "/var/lib/portald/portal.db") == 0);
	CHECK("default language fr", c.language == LANG_FR);
	CHECK("default code_length 6", c.code_length == 6);
	CHECK("default code_ttl 10m", c.code_ttl == 600);
	CHECK("default code_attempts 5", c.code_attempts == 5);
	CHECK("default resend_interval 60s", c.resend_interval == 60);
	CHECK("default codes_per_hour 5", c.codes_per_hour == 5);
	CHECK("default lockout 15m", c.lockout == 900);
	CHECK("default password_min_length 15", c.password_min_length == 15);
	CHECK("default max_failures 20", c.max_failures == 20);
	CHECK("default smtp_server localhost:25", strcmp(c.smtp_host, "localhost") == 0 && c.smtp_port == 25);
	CHECK("default smtp_tls starttls", c.smtp_tls == MAIL_TLS_STARTTLS);
	CHECK("cutover kept as written", strcmp(c.cutover_str, "2023-10-30") == 0);
}

static void every_key(void)
{
	struct portal_config c;
	char err[512];
	int rc = load("# a comment\n"
		      "socket = /tmp/p/portald.sock\n"
		      "database=/tmp/p/portal.db\n"
		      "  cutover = 2024-02-29  \n"
		      "organization = Ordre des Collèges\n"
		      "language = en\n"
		      "code_length = 8\n"
		      "code_ttl = 2h\n"
		      "code_attempts = 3\n"
		      "resend_interval = 90\n"
		      "codes_per_hour = 10\n"
		      "lockout = 30m\n"
		      "password_min_length = 12\n"
		      "max_failures = 9\n"
		      "smtp_server = mail.example.org:587\n"
		      "smtp_tls = required\n"
		      "smtp_user = portal\n"
		      "smtp_password_file = /etc/portald/smtp.pw\n"
		      "mail_from = portal@example.org\n", &c, err, sizeof err);

	CHECK("every key parses", rc == 0);
	CHECK("socket", strcmp(c.socket, "/tmp/p/portald.sock") == 0);
	CHECK("organization with accents", strcmp(c.organization, "Ordre des Collèges") == 0);
	CHECK("language en", c.language == LANG_EN);
	CHECK("leap day", strcmp(c.cutover_str, "2024-02-29") == 0);
	CHECK("hours", c.code_ttl == 7200);
	CHECK("bare seconds", c.resend_interval == 90);
	CHECK("minutes", c.lockout == 1800);
	CHECK("host and port", strcmp(c.smtp_host, "mail.example.org") == 0 && c.smtp_port == 587);
	CHECK("tls required", c.smtp_tls == MAIL_TLS_REQUIRED);
	CHECK("smtp user", strcmp(c.smtp_user, "portal") == 0);
}

struct bad { const char *text; unsigned line; const char *key; };

static void errors(void)
{
	static const struct bad bad[] = {
		{ "cutover = 2023-10-30\nfrobnicate = 1\n", 2, "frobnicate" },
		{ "cutover = 2023-10-30\ncode_ttl = 10x\n", 2, "code_ttl" },
		{ "cutover = 2023-10-30\ncode_ttl = -5m\n", 2, "code_ttl" },
		{ "cutover = 2023-10-30\ncode_length = 5\n", 2, "code_length" },
		{ "cutover = 2023-10-30\ncode_length = 11\n", 2, "code_length" },
		{ "cutover = 2023-02-30\n", 1, "cutover" },
		{ "cutover = 30/10/2023\n", 1, "cutover" },
		{ "cutover = 2023-10-30\nlanguage = de\n", 2, "language" },
		{ "cutover = 2023-10-30\nsmtp_tls = maybe\n", 2, "smtp_tls" },
		{ "cutover = 2023-10-30\npassword_min_length = 7\n", 2, "password_min_length" },
		{ "cutover = 2023-10-30\nsmtp_server = host:0\n", 2, "smtp_server" },
		{ "cutover = 2023-10-30\nsmtp_server = host:smtp\n", 2, "smtp_server" },
		{ "cutover = 2023-10-30\nsmtp_server = [::1]:25\n", 2, "smtp_server" },
		{ "cutover = 2023-10-30\nsmtp_server = ::1\n", 2, "smtp_server" },
		{ "cutover = 2023-10-30\nsocket = relative/path\n", 2, "socket" },
		{ "cutover = 2023-10-30\nmail_from = not an address\n", 2, "mail_from" },
		{ "cutover = 2023-10-30\ncutover = 2024-01-01\n", 2, "cutover" },
		{ "cutover = 2023-10-30\ncodes_per_hour =\n", 2, "codes_per_hour" },
		{ "cutover = 2023-10-30\n\n# c\nmax_failures = lots\n", 4, "max_failures" },
	};
	struct portal_config c;
	char err[512], name[96];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = load(bad[i].text, &c, err, sizeof err);

		snprintf(name, sizeof name, "error names line %u key %s", bad[i].line, bad[i].key);
		CHECK(name, rc == -1 && names(err, bad[i].line, bad[i].key));
	}
	CHECK("missing cutover", load("language = fr\n", &c, err, sizeof err) == -1 &&
	      strstr(err, "cutover: missing") != NULL);
	CHECK("line without =", load("cutover = 2023-10-30\njunk\n", &c, err, sizeof err) == -1 &&
	      strstr(err, ":2:") != NULL);
	CHECK("smtp_user needs a password file",
	      load("cutover = 2023-10-30\nsmtp_user = u\n", &c, err, sizeof err) == -1 &&
	      strstr(err, "smtp_password_file") != NULL);
	CHECK("missing file names the file", config_load("/nonexistent/portald.conf", &c, err, sizeof err) == -1 &&
	      strstr(err, "/nonexistent/portald.conf") != NULL);

	char longline[2100];
	memset(longline, 'x', sizeof longline);
	memcpy(longline, "organization = ", 15);
	longline[sizeof longline - 2] = '\n';
	longline[sizeof longline - 1] = '\0';
	CHECK("over-long line refused", load(longline, &c, err, sizeof err) == -1 && strstr(err, "longer") != NULL);

	FILE *f = fopen(path, "we");
	fwrite("cutover = 2023-10-30\norganization = a\0b\n", 1, 41, f);
	fclose(f);
	CHECK("NUL byte refused", config_load(path, &c, err, sizeof err) == -1 && strstr(err, ":2:") != NULL);
}

/* mail_from: an address, or a display name and an address. */
static void mail_from(void)
{
	static const struct { const char *value, *addr, *name; } good[] = {
		{ "noreply@example.org", "noreply@example.org", "" },
		{ "<noreply@example.org>", "noreply@example.org", "" },
		{ "Example College <noreply@example.org>", "noreply@example.org", "Example College" },
		{ "Example College<noreply@example.org>", "noreply@example.org", "Example College" },
		{ "\"Doe, Jane\" <jane@example.org>", "jane@example.org", "Doe, Jane" },
		{ "\"Doe, Jane\"<jane@example.org>", "jane@example.org", "Doe, Jane" },
		{ "\"Say \\\"hi\\\" \\\\ o/\" <a@example.org>", "a@example.org", "Say \"hi\" \\ o/" },
		{ "\"\" <a@example.org>", "a@example.org", "" },
		{ "Coll\u00e8ge Exemple <noreply@example.org>", "noreply@example.org",
		  "Coll\u00e8ge Exemple" },
		{ "Doe, Jane <jane@example.org>", "jane@example.org", "Doe, Jane" },
	};
	static const struct { const char *value, *why; } bad[] = {
		{ "Example College", "is not an e-mail address" },
		{ "Example College noreply@example.org", "is not an e-mail address" },
		{ "Example College <noreply@example.org", "'<' without its '>'" },
		{ "Example College <noreply@example.org> x", "after the '>'" },
		{ "Example College <>", "no valid e-mail address" },
		{ "Example College <not an address>", "no valid e-mail address" },
		{ "Example <a@example.org, b@example.org>", "no valid e-mail address" },
		{ "\"Doe, Jane <jane@example.org>", "quote that is not closed" },
		{ "Jane \"JD\" Doe <jane@example.org>", "put the whole name in double quotes" },
		{ "\"Doe\" jane@example.org", "no address in '<' and '>'" },
		{ "Coll\xe8ge <a@example.org>", "not UTF-8 text" },
		{ "Test\xc2\x85" "College <a@example.org>", "without control characters" },
	};
	const char *forms = "; accepted: noreply@example.org, Example College "
			    "<noreply@example.org> or \"Doe, Jane\" <noreply@example.org>";
	char text[512], err[1024], name[160], longname[200];
	struct portal_config c;

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(text, sizeof text, "cutover = 2023-10-30\nmail_from = %s\n", good[i].value);
		snprintf(name, sizeof name, "mail_from accepted: %s", good[i].value);
		CHECK(name, load(text, &c, err, sizeof err) == 0 &&
		      strcmp(c.mail_from, good[i].addr) == 0 &&
		      strcmp(c.mail_from_name, good[i].name) == 0);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "cutover = 2023-10-30\nmail_from = %s\n", bad[i].value);
		snprintf(name, sizeof name, "mail_from refused, saying why and the forms: %s",
			 bad[i].value);
		CHECK(name, load(text, &c, err, sizeof err) == -1 && names(err, 2, "mail_from") &&
		      strstr(err, bad[i].why) != NULL && strstr(err, forms) != NULL);
	}
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	snprintf(text, sizeof text, "cutover = 2023-10-30\nmail_from = %s <a@example.org>\n",
		 longname);
	CHECK("mail_from: a name too long refused",
	      load(text, &c, err, sizeof err) == -1 && strstr(err, "too long") != NULL);
	CHECK("mail_from: no name by default (the organization stands in)",
	      load("cutover = 2023-10-30\n", &c, err, sizeof err) == 0 &&
	      c.mail_from_name[0] == '\0' && strncmp(c.mail_from, "noreply@", 8) == 0);
}

static void durations(void)
{
	unsigned s;

	CHECK("duration 0", config_duration("0", &s) && s == 0);
	CHECK("duration 45s", config_duration("45s", &s) && s == 45);
	CHECK("duration 10m", config_duration("10m", &s) && s == 600);
	CHECK("duration 2h", config_duration("2h", &s) && s == 7200);
	CHECK("duration empty refused", !config_duration("", &s));
	CHECK("duration unit only refused", !config_duration("m", &s));
	CHECK("duration huge refused", !config_duration("99999999999h", &s));
	CHECK("duration 1d refused", !config_duration("1d", &s));
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	defaults();
	every_key();
	errors();
	mail_from();
	durations();
	unlink(path);
	return check_done();
}
