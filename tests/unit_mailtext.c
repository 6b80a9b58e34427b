/* unit_mailtext.c - the code mail and the notice: headers, encodings, both
 * languages, and no way to inject a header. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "check.h"
#include "mailtext.h"

#define DATE 1700000000   /* Tue, 14 Nov 2023 22:13:20 UTC */

static char msg[MAIL_TEXT_MAX];

/* ---- reading a message back (the test's own decoders) -------------------- */

/* Every line ends in CRLF and is at most max characters long. */
static bool lines_ok(const char *s, size_t max)
{
	while (*s) {
		const char *end = strstr(s, "\r\n");

		if (!end || memchr(s, '\n', (size_t)(end - s)) || (size_t)(end - s) > max)
			return false;
		s = end + 2;
	}
	return true;
}

/* The header block, unfolded, one "Name: value\n" per field. */
static void headers_of(const char *m, char *out, size_t cap)
{
	const char *end = strstr(m, "\r\n\r\n");
	size_t n = 0;

	for (const char *p = m; end && p < end && n + 2 < cap; p++) {
		if (p[0] == '\r' && p[1] == '\n') {
			p++;
			if (p[1] == ' ' || p[1] == '\t')
				continue;       /* folded: the line goes on */
			out[n++] = '\n';
		} else {
			out[n++] = *p;
		}
	}
	out[n++] = '\n';
	out[n] = '\0';
}

/* The value of a header (unfolded), "" when absent; *count how many. */
static const char *header(const char *heads, const char *name, int *count)
{
	static char value[2048];
	size_t len = strlen(name);

	*count = 0;
	value[0] = '\0';
	for (const char *p = heads; *p; p = strchr(p, '\n') + 1) {
		if (strncasecmp(p, name, len) == 0 && p[len] == ':') {
			const char *v = p + len + 1, *e = strchr(v, '\n');

			while (*v == ' ')
				v++;
			snprintf(value, sizeof value, "%.*s", (int)(e - v), v);
			(*count)++;
		}
	}
	return value;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Quoted-printable decoding: soft breaks removed, CRLF made LF. */
static size_t qp_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
		} else if (s[i] == '=' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
			out[o++] = '\n';
			i++;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return o;
}

static const char *body_of(const char *m)
{
	static char text[MAIL_TEXT_MAX];
	const char *b = strstr(m, "\r\n\r\n");

	if (!b)
		return "";
	b += 4;
	qp_decode(b, strlen(b), text);
	return text;
}

/* Decode the RFC 2047 "B" words of a header value (what lies between
 * them is dropped, as RFC 2047 says of the space between two words). */
static bool words_decode(const char *v, char *out, size_t cap, size_t *longest)
{
	size_t n = 0;

	*longest = 0;
	while ((v = strstr(v, "=?UTF-8?B?")) != NULL) {
		const char *end = strstr(v + 10, "?=");
		size_t got;

		if (!end)
			return false;
		if ((size_t)(end + 2 - v) > *longest)
			*longest = (size_t)(end + 2 - v);
		if (sodium_base642bin((unsigned char *)out + n, cap - n - 1, v + 10,
				      (size_t)(end - v - 10), NULL, &got, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0)
			return false;
		n += got;
		v = end + 2;
	}
	out[n] = '\0';
	return n > 0;
}

/* A line of its own holding exactly s. */
static bool has_line(const char *text, const char *s)
{
	size_t n = strlen(s);

	for (const char *p = text; (p = strstr(p, s)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* Characters in the longest line of a decoded text. */
static size_t text_width(const char *text)
{
	size_t widest = 0, w = 0;

	for (const char *c = text; *c; c++) {
		if (*c == '\n')
			w = 0;
		else
			w += ((unsigned char)*c & 0xc0) != 0x80;
		widest = w > widest ? w : widest;
	}
	return widest;
}

static bool ascii_only(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* ---- the tests ------------------------------------------------------------ */

/* No display name of their own: the organization is From's. */
static const struct mail_head en = {
	"portal@test.example", "Test College", "alice@example.org", LANG_EN, DATE, NULL,
};
static const struct mail_head fr = {
	"portail@test.example", "Collège Test", "benoit@example.org", LANG_FR, DATE, NULL,
};

static void every_header(const char *tag, const char *m)
{
	static const char *const names[] = {
		"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
		"Content-Transfer-Encoding", "Auto-Submitted",
	};
	char heads[4096], name[160];
	int count;

	headers_of(m, heads, sizeof heads);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		header(heads, names[i], &count);
		snprintf(name, sizeof name, "%s: %s once", tag, names[i]);
		CHECK(name, count == 1);
	}
	snprintf(name, sizeof name, "%s: MIME-Version 1.0", tag);
	CHECK(name, strcmp(header(heads, "MIME-Version", &count), "1.0") == 0);
	snprintf(name, sizeof name, "%s: text/plain UTF-8", tag);
	CHECK(name, strcmp(header(heads, "Content-Type", &count),
			   "text/plain; charset=UTF-8") == 0);
	snprintf(name, sizeof name, "%s: quoted-printable", tag);
	CHECK(name, strcmp(header(heads, "Content-Transfer-Encoding", &count),
			   "quoted-printable") == 0);
	snprintf(name, sizeof name, "%s: Auto-Submitted", tag);
	CHECK(name, strcmp(header(heads, "Auto-Submitted", &count), "auto-generated") == 0);
	snprintf(name, sizeof name, "%s: CRLF lines of at most 78 characters", tag);
	CHECK(name, lines_ok(m, 78));
	snprintf(name, sizeof name, "%s: the whole message is ASCII", tag);
	CHECK(name, ascii_only(m, strlen(m)));
}

static void code_mail_english(void)
{
	char heads[4096];
	int count;
	ssize_t n = mailtext_code(&en, "alice", "482913", 600, msg, sizeof msg);
	const char *body;

	CHECK("en code mail: built", n > 0 && (size_t)n == strlen(msg));
	every_header("en code mail", msg);
	headers_of(msg, heads, sizeof heads);
	CHECK("en code mail: From is the organization and mail_from",
	      strcmp(header(heads, "From", &count), "\"Test College\" <portal@test.example>") == 0 ||
	      strcmp(header(heads, "From", &count), "Test College <portal@test.example>") == 0);
	CHECK("en code mail: To", strcmp(header(heads, "To", &count), "alice@example.org") == 0);
	CHECK("en code mail: an ASCII subject stays plain",
	      strcmp(header(heads, "Subject", &count), "Test College: your verification code") == 0);
	body = body_of(msg);
	CHECK("en code mail: the code on a line of its own", has_line(body, "482913"));
	CHECK("en code mail: how long it is valid", strstr(body, "valid for 10 minutes") != NULL);
	CHECK("en code mail: what to do if you did not ask",
	      strstr(body, "If you did not ask for this code") != NULL);
	CHECK("en code mail: nobody can sign in without it",
	      strstr(body, "can sign in to your account without the code") != NULL);
	CHECK("en code mail: the account", has_line(body, "Account: alice"));
	CHECK("en code mail: the organization", has_line(body, "Organization: Test College"));
	CHECK("en code mail: no French", strstr(body, "demandé") == NULL);
}

static void code_mail_french(void)
{
	char heads[4096], decoded[512];
	size_t longest;
	int count;
	ssize_t n = mailtext_code(&fr, "benoit", "0071234", 600, msg, sizeof msg);
	const char *body, *subject, *from;

	CHECK("fr code mail: built", n > 0);
	every_header("fr code mail", msg);
	headers_of(msg, heads, sizeof heads);
	subject = header(heads, "Subject", &count);
	CHECK("fr code mail: the subject is RFC 2047 encoded",
	      strncmp(subject, "=?UTF-8?B?", 10) == 0);
	CHECK("fr code mail: the subject decodes to French",
	      words_decode(subject, decoded, sizeof decoded, &longest) &&
	      strcmp(decoded, "Collège Test : votre code de vérification") == 0);
	CHECK("fr code mail: encoded words of at most 75 characters", longest <= 75);
	from = header(heads, "From", &count);
	CHECK("fr code mail: the organization in From, encoded",
	      words_decode(from, decoded, sizeof decoded, &longest) &&
	      strcmp(decoded, "Collège Test") == 0 &&
	      strstr(from, "<portail@test.example>") != NULL);
	body = body_of(msg);
	CHECK("fr code mail: the code on a line of its own", has_line(body, "0071234"));
	CHECK("fr code mail: how long it is valid",
	      strstr(body, "valide pendant 10 minutes") != NULL);
	CHECK("fr code mail: what to do if you did not ask",
	      strstr(body, "Si vous n'avez pas demandé ce code") != NULL);
	CHECK("fr code mail: courriel, not e-mail",
	      strstr(body, "courriel") != NULL && strstr(body, "e-mail") == NULL);
	CHECK("fr code mail: the account", has_line(body, "Compte : benoit"));
	CHECK("fr code mail: the organization with its accent",
	      has_line(body, "Organisation : Collège Test"));
	CHECK("fr code mail: the text is wrapped at 72 characters", text_width(body) <= 72 &&
	      text_width(body) > 60);
}

static void validity_words(void)
{
	struct mail_head h = en;

	mailtext_code(&h, "alice", "123456", 45, msg, sizeof msg);
	CHECK("validity: 45 seconds in English", strstr(body_of(msg), "valid for 45 seconds"));
	h = fr;
	mailtext_code(&h, "alice", "123456", 3600, msg, sizeof msg);
	CHECK("validity: an hour in French", strstr(body_of(msg), "valide pendant 1 heure"));
}

static void date_and_id(void)
{
	char heads[4096], id1[256];
	int count;

	setenv("TZ", "UTC0", 1);
	tzset();
	mailtext_code(&en, "alice", "123456", 600, msg, sizeof msg);
	headers_of(msg, heads, sizeof heads);
	CHECK("Date: RFC 5322, the time of queueing",
	      strcmp(header(heads, "Date", &count), "Tue, 14 Nov 2023 22:13:20 +0000") == 0);
	snprintf(id1, sizeof id1, "%s", header(heads, "Message-ID", &count));
	CHECK("Message-ID: <32 hex digits@host>",
	      id1[0] == '<' && strspn(id1 + 1, "0123456789abcdef") == 32 && id1[33] == '@' &&
	      id1[strlen(id1) - 1] == '>' && strlen(id1) > 36);
	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
	tzset();
	mailtext_code(&en, "alice", "123456", 600, msg, sizeof msg);
	headers_of(msg, heads, sizeof heads);
	CHECK("Date: local time with its offset",
	      strcmp(header(heads, "Date", &count), "Tue, 14 Nov 2023 17:13:20 -0500") == 0);
	CHECK("Message-ID: a new one for every message",
	      strcmp(header(heads, "Message-ID", &count), id1) != 0);
}

static void notice(void)
{
	char host[256] = "", line[300];
	const char *body;
	ssize_t n;

	gethostname(host, sizeof host - 1);
	n = mailtext_notice(&en, "alice", DATE, "client.example.net", msg, sizeof msg);
	CHECK("en notice: built", n > 0);
	every_header("en notice", msg);
	body = body_of(msg);
	CHECK("en notice: says a password was created", strstr(body, "password was just created"));
	CHECK("en notice: when", strstr(body, "When: 14 November 2023 at 17:13 (EST)") != NULL);
	snprintf(line, sizeof line, "Computer: %s", host);
	CHECK("en notice: on which machine", has_line(body, line));
	CHECK("en notice: from which remote host",
	      has_line(body, "Connecting from: client.example.net"));
	CHECK("en notice: what to do if it was not them",
	      strstr(body, "If it was not you, contact the organization") != NULL);
	CHECK("en notice: no code-like line", !strstr(body, "verification code"));

	n = mailtext_notice(&fr, "benoit", DATE, NULL, msg, sizeof msg);
	CHECK("fr notice: built", n > 0);
	every_header("fr notice", msg);
	body = body_of(msg);
	CHECK("fr notice: in French", strstr(body, "Un nouveau mot de passe vient d'être créé"));
	CHECK("fr notice: when, in French",
	      strstr(body, "Date : 14 novembre 2023 à 17 h 13 (EST)") != NULL);
	CHECK("fr notice: no remote line when the host is not known",
	      !strstr(body, "Connexion depuis"));
	CHECK("fr notice: what to do if it was not them",
	      strstr(body, "Si ce n'est pas vous, communiquez sans tarder") != NULL);
}

static void lock_mail(void)
{
	const char *body;
	ssize_t n;

	n = mailtext_lock(&en, "alice", DATE, "203.0.113.7", msg, sizeof msg);
	CHECK("en lock mail: built", n > 0);
	every_header("en lock mail", msg);
	body = body_of(msg);
	CHECK("en lock mail: says the account was locked", strstr(body, "Your account was locked"));
	CHECK("en lock mail: until when", has_line(body, "Locked until: 14 November 2023 at 17:13 (EST)"));
	CHECK("en lock mail: from where", has_line(body, "Attempts from: 203.0.113.7"));
	CHECK("en lock mail: that it ends, and what to do if it was not them",
	      strstr(body, "The lock ends by itself") && strstr(body, "If it was not you"));
	CHECK("en lock mail: no code-like line", !strstr(body, "verification code you"));

	n = mailtext_lock(&fr, "benoit", DATE, NULL, msg, sizeof msg);
	CHECK("fr lock mail: built", n > 0);
	every_header("fr lock mail", msg);
	body = body_of(msg);
	CHECK("fr lock mail: in French", strstr(body, "Votre compte a été verrouillé"));
	CHECK("fr lock mail: from many places", has_line(body, "Tentatives depuis : de nombreux endroits"));
	CHECK("refused: LF in the source",
	      mailtext_lock(&en, "alice", DATE, "host\r\nX: y", msg, sizeof msg) < 0);
}

static void injection(void)
{
	struct mail_head h = en;

	h.to = "alice@example.org\r\nBcc: eve@evil.example";
	CHECK("refused: CRLF in To", mailtext_code(&h, "alice", "123456", 600, msg, sizeof msg) < 0);
	h = en;
	h.organization = "Test\nBcc: eve@evil.example";
	CHECK("refused: LF in the organization",
	      mailtext_code(&h, "alice", "123456", 600, msg, sizeof msg) < 0);
	h.organization = "Test\rCollege";
	CHECK("refused: CR in the organization",
	      mailtext_notice(&h, "alice", DATE, NULL, msg, sizeof msg) < 0);
	h.organization = "Test\x01";
	CHECK("refused: a control character", mailtext_code(&h, "a", "1", 600, msg, sizeof msg) < 0);
	h.organization = "Test\xc2\x85" "College";
	CHECK("refused: a C1 control character (NEL)",
	      mailtext_code(&h, "a", "123456", 600, msg, sizeof msg) < 0);
	h.organization = "Coll\xe8ge";
	CHECK("refused: invalid UTF-8", mailtext_code(&h, "a", "123456", 600, msg, sizeof msg) < 0);
	h = en;
	h.from = "portal@test.example\nX: y";
	CHECK("refused: LF in From", mailtext_code(&h, "a", "123456", 600, msg, sizeof msg) < 0);
	CHECK("refused: LF in the user name",
	      mailtext_code(&en, "alice\nX: y", "123456", 600, msg, sizeof msg) < 0);
	CHECK("refused: a code that is not digits",
	      mailtext_code(&en, "alice", "12 456", 600, msg, sizeof msg) < 0);
	CHECK("refused: LF in the remote host",
	      mailtext_notice(&en, "alice", DATE, "host\r\nX: y", msg, sizeof msg) < 0);
	CHECK("refused: CR in a header value",
	      mailtext_header("Subject", "Hello\r\nBcc: eve@evil.example", msg, sizeof msg) < 0);
	CHECK("refused: a bad header name", mailtext_header("Sub ject", "x", msg, sizeof msg) < 0);
	CHECK("refused: too small a buffer",
	      mailtext_code(&en, "alice", "123456", 600, msg, 500) < 0);
	CHECK("accepted: the same values, clean",
	      mailtext_code(&en, "alice", "123456", 600, msg, sizeof msg) > 0);
}

static void long_headers(void)
{
	char value[400], out[2048], heads[4096], decoded[512];
	struct mail_head h = en;
	size_t longest;
	int count;

	value[0] = '\0';
	for (int i = 0; i < 12; i++)
		strcat(value, "Réinitialisation ");
	CHECK("long subject: encoded", mailtext_header("Subject", value, out, sizeof out) > 0);
	CHECK("long subject: folded lines of at most 78", lines_ok(out, 78) && strstr(out, "\r\n "));
	CHECK("long subject: words of at most 75, decoding to the value",
	      words_decode(out, decoded, sizeof decoded, &longest) && longest <= 75 &&
	      strcmp(decoded, value) == 0);

	h.organization = "The Very Long Name of an Organization That Goes On and On, "
			 "Incorporated \"Quoted\"";
	CHECK("long ASCII organization: built", mailtext_code(&h, "a", "123456", 600, msg,
							    sizeof msg) > 0);
	CHECK("long ASCII organization: lines of at most 78", lines_ok(msg, 78));
	CHECK("long ASCII organization: never cut in the text",
	      strstr(body_of(msg), "The Very Long Name of an Organization That "
		     "Goes On and On, Incorporated \"Quoted\"\n"));
	headers_of(msg, heads, sizeof heads);
	CHECK("long ASCII organization: still one From with the address",
	      strstr(header(heads, "From", &count), "<portal@test.example>") && count == 1);
	h.organization = "Ordre \"des\" tests";
	mailtext_code(&h, "a", "123456", 600, msg, sizeof msg);
	headers_of(msg, heads, sizeof heads);
	CHECK("ASCII organization with quotes: a quoted phrase",
	      strcmp(header(heads, "From", &count),
		     "\"Ordre \\\"des\\\" tests\" <portal@test.example>") == 0);
}

/* The From of mail_from with a display name: a phrase RFC 5322 reads,
 * the organization still named in the text, the address alone inside the
 * angle brackets. */
static void display_names(void)
{
	static const struct { const char *name, *from; } cases[] = {
		{ "Example College", "Example College <portal@test.example>" },
		{ "Doe, Jane", "\"Doe, Jane\" <portal@test.example>" },
		{ "Say \"hi\" \\ o/", "\"Say \\\"hi\\\" \\\\ o/\" <portal@test.example>" },
		{ "", "Test College <portal@test.example>" },
	};
	char heads[4096], decoded[512], name[160];
	struct mail_head h = en;
	size_t longest;
	const char *from;
	int count;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		h.from_name = cases[i].name;
		snprintf(name, sizeof name, "From with the name '%s': %s", cases[i].name,
			 cases[i].from);
		CHECK(name, mailtext_code(&h, "alice", "123456", 600, msg, sizeof msg) > 0 &&
		      (headers_of(msg, heads, sizeof heads),
		       strcmp(header(heads, "From", &count), cases[i].from) == 0 && count == 1));
	}
	h.from_name = "Example College";
	mailtext_code(&h, "alice", "123456", 600, msg, sizeof msg);
	CHECK("From with a name: the organization is still the one named in the text",
	      has_line(body_of(msg), "Organization: Test College"));

	h.from_name = "Coll\u00e8ge Exemple";
	CHECK("non-ASCII name: built", mailtext_notice(&h, "alice", DATE, NULL, msg, sizeof msg) > 0);
	every_header("non-ASCII name", msg);
	headers_of(msg, heads, sizeof heads);
	from = header(heads, "From", &count);
	CHECK("non-ASCII name: RFC 2047 encoded words, then the address",
	      strncmp(from, "=?UTF-8?B?", 10) == 0 &&
	      words_decode(from, decoded, sizeof decoded, &longest) &&
	      strcmp(decoded, "Coll\u00e8ge Exemple") == 0 && longest <= 75 &&
	      strcmp(strstr(from, "?= <"), "?= <portal@test.example>") == 0);

	h.from_name = "Example\r\nBcc: eve@evil.example";
	CHECK("refused: CRLF in the display name",
	      mailtext_code(&h, "alice", "123456", 600, msg, sizeof msg) < 0);
	h.from_name = "Coll\xe8ge";
	CHECK("refused: a display name that is not UTF-8",
	      mailtext_code(&h, "alice", "123456", 600, msg, sizeof msg) < 0);
}

static void qp_round_trip(void)
{
	static const char *const cases[] = {
		"plain text\n",
		"a = b\n",
		"trailing space \nand tab\t\n",
		"é à ç Œ € 😀\n",
		"=3D looks encoded\n",
		".leading dot\n",
	};
	char in[3000], enc[12000], dec[3000];
	bool all = true, short_lines = true;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ssize_t n = mailtext_qp(cases[i], strlen(cases[i]), enc, sizeof enc);

		all = all && n > 0 && qp_decode(enc, (size_t)n, dec) == strlen(cases[i]) &&
		      strcmp(dec, cases[i]) == 0;
		short_lines = short_lines && lines_ok(enc, 76);
	}
	CHECK("QP: the usual cases round-trip", all);
	CHECK("QP: lines of at most 76", short_lines);
	mailtext_qp("x \n", 3, enc, sizeof enc);
	CHECK("QP: a space ending a line is encoded", strcmp(enc, "x=20\r\n") == 0);
	mailtext_qp("a=b\n", 4, enc, sizeof enc);
	CHECK("QP: '=' is encoded", strcmp(enc, "a=3Db\r\n") == 0);

	for (int round = 0; round < 200; round++) {
		size_t n = 1 + randombytes_uniform(sizeof in - 2);
		ssize_t e;

		randombytes_buf(in, n);
		for (size_t i = 0; i < n; i++)     /* long lines, spaces, '=' and high bytes */
			if (in[i] == '\r' || in[i] == '\0' || randombytes_uniform(8) == 0)
				in[i] = " =\t\n"[randombytes_uniform(4)];
		in[n - 1] = '\n';
		in[n] = '\0';
		e = mailtext_qp(in, n, enc, sizeof enc);
		all = e > 0 && qp_decode(enc, (size_t)e, dec) == n && memcmp(dec, in, n) == 0;
		short_lines = lines_ok(enc, 76) && ascii_only(enc, (size_t)e);
		if (!all || !short_lines)
			break;
	}
	CHECK("QP: random text round-trips", all);
	CHECK("QP: random text gives ASCII lines of at most 76", short_lines);
}

int main(void)
{
	if (sodium_init() < 0)
		return 2;
	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
	tzset();
	code_mail_english();
	code_mail_french();
	validity_words();
	date_and_id();
	notice();
	lock_mail();
	injection();
	long_headers();
	display_names();
	qp_round_trip();
	return check_done();
}
