/*
 * mailtext.c - the code mail, the password notice and the lock mail, as
 * whole messages.
 *
 * A message is made in three steps: the text is written from a template
 * of the person's language ({name} placeholders), wrapped at 72 columns
 * so that it reads well in any client, then put after the headers in
 * quoted-printable.  Header values are checked, not escaped: a control
 * character or invalid UTF-8 anywhere refuses the whole message.  The
 * buffers that held the text (with a live code in it) are wiped.
 */
#include "mailtext.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "proto.h"
#include "utf8.h"
#include "valid.h"

#define HEADER_LINE 78   /* RFC 5322 SHOULD */
#define QP_LINE     76   /* RFC 2045 MUST, the soft-break '=' included */
#define WRAP        72   /* body text, in characters */
#define EW_MAX      75   /* RFC 2047: one encoded word */
#define EW_FRAME    12   /* "=?UTF-8?B?" and "?=" */
#define ORG_MAX     255  /* bytes of the organization's name */

/* ---- the texts ------------------------------------------------------------ */

static const struct i18n_text code_subject = I18N(
	"{org}: your verification code");

static const struct i18n_text code_body = I18N(
	"Hello,\n"
	"\n"
	"Here is the verification code you asked for to connect your account "
	"to the new sign-in portal:\n"
	"\n"
	"{code}\n"
	"\n"
	"It is valid for {ttl} and can be used only once. Type it when you are "
	"asked for the verification code.\n"
	"\n"
	"Account: {user}\n"
	"Organization: {org}\n"
	"\n"
	"If you did not ask for this code, you can ignore this message: nobody "
	"can sign in to your account without the code. If this happens again, "
	"please tell the organization named above.\n"
	"\n"
	"This message was sent automatically; please do not reply to it.\n");

static const struct i18n_text notice_subject = I18N(
	"{org}: your password was created");

static const struct i18n_text notice_body = I18N(
	"Hello,\n"
	"\n"
	"A new password was just created for your account.\n"
	"\n"
	"Account: {user}\n"
	"Organization: {org}\n"
	"When: {when}\n"
	"Computer: {host}\n"
	"{remote_line}"
	"\n"
	"If it was you, there is nothing else to do.\n"
	"\n"
	"If it was not you, contact the organization named above at once: "
	"someone else may be able to read your e-mail and sign in to your "
	"account.\n"
	"\n"
	"This message was sent automatically; please do not reply to it.\n");

static const struct i18n_text remote_line = I18N(
	"Connecting from: {remote}\n");

static const struct i18n_text lock_subject = I18N(
	"{org}: your account was locked");

static const struct i18n_text lock_body = I18N(
	"Hello,\n"
	"\n"
	"Your account was locked after too many failed attempts to sign in "
	"(wrong passwords or wrong verification codes).\n"
	"\n"
	"Account: {user}\n"
	"Organization: {org}\n"
	"Locked until: {until}\n"
	"Attempts from: {source}\n"
	"\n"
	"The lock ends by itself. If it was you, wait until then, or ask the "
	"organization to unlock your account; you will not be told again of "
	"another lock today.\n"
	"\n"
	"If it was not you, someone may be trying to guess your password: tell "
	"the organization named above. Nobody can sign in to your account without "
	"your password, or a code sent to this address.\n"
	"\n"
	"This message was sent automatically; please do not reply to it.\n");

/* TRANSLATORS: where the failed attempts of a lock mail came from, when
 * there were too many from many places at once. */
static const struct i18n_text many_sources = I18N(
	"many places");

static const struct i18n_text when_text = I18N(
	"{date} at {time}");

/* ---- a bounded output buffer --------------------------------------------- */

struct out {
	char *p;
	size_t len, cap;
	bool full;       /* something did not fit: the result is refused */
};

static void out_init(struct out *o, char *p, size_t cap)
{
	o->p = p;
	o->len = 0;
	o->cap = cap;
	o->full = cap == 0;
	if (cap)
		p[0] = '\0';
}

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* ---- what a header may carry (valid_text: valid.c) ---------------------- */

static bool printable_ascii(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* ---- header encoding ---------------------------------------------------- */

static void fold(struct out *o, size_t *col)
{
	put_str(o, "\r\n ");
	*col = 1;
}

/* s as RFC 2047 "B" encoded words from column *col: each word as long as
 * the line allows, never splitting a character, folded between words. */
static void put_encoded(struct out *o, size_t *col, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);

	while (left > 0) {
		size_t line = *col < HEADER_LINE ? HEADER_LINE - *col : 0;
		size_t width = line < EW_MAX ? line : EW_MAX;
		size_t room = width > EW_FRAME ? (width - EW_FRAME) / 4 * 3 : 0;
		size_t take = 0;
		char b64[EW_MAX];

		while (take < left) {
			uint32_t cp;
			size_t n = utf8_next(p + take, left - take, &cp);

			if (n == 0 || take + n > room)
				break;
			take += n;
		}
		if (take == 0) {        /* not even one character fits here */
			if (*col == 1) {
				o->full = true;
				return;
			}
			fold(o, col);
			continue;
		}
		sodium_bin2base64(b64, sizeof b64, p, take, sodium_base64_VARIANT_ORIGINAL);
		put_str(o, "=?UTF-8?B?");
		put_str(o, b64);
		put_str(o, "?=");
		*col += EW_FRAME + strlen(b64);
		p += take;
		left -= take;
		if (left > 0)
			fold(o, col);
	}
}

static bool valid_name(const char *name)
{
	if (!*name)
		return false;
	for (; *name; name++)
		if (*name <= ' ' || *name > '~' || *name == ':')
			return false;
	return true;
}

/* "Name: value" CRLF into o, the value raw when it is printable ASCII and
 * fits on the line, encoded words otherwise. */
static void put_header(struct out *o, const char *name, const char *value)
{
	size_t col = strlen(name) + 2;

	if (!valid_name(name) || !valid_text(value)) {
		o->full = true;
		return;
	}
	put_str(o, name);
	put_str(o, ": ");
	if (printable_ascii(value) && col + strlen(value) <= HEADER_LINE)
		put_str(o, value);
	else
		put_encoded(o, &col, value);
	put_str(o, "\r\n");
}

ssize_t mailtext_header(const char *name, const char *value, char *out, size_t cap)
{
	struct out o;

	out_init(&o, out, cap);
	put_header(&o, name, value);
	return o.full ? -1 : (ssize_t)o.len;
}

/* RFC 5322 atext, and the space between words of a phrase. */
static bool phrase_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr(" !#$%&'*+-/=?^_`{|}~", c));
}

/* From: the display name (RFC 5322 3.2.5 phrase: its words as they are
 * when they are atoms, else one quoted string, else, when it is not ASCII
 * or too long for the line, RFC 2047 encoded words), then the address. */
static void put_from(struct out *o, const char *name, const char *addr)
{
	size_t col = 6;

	put_str(o, "From: ");
	if (name[0] && printable_ascii(name)) {
		char phrase[2 * ORG_MAX + 3];
		struct out q;
		bool plain = true;

		for (const char *c = name; *c; c++)
			plain = plain && phrase_char(*c);
		out_init(&q, phrase, sizeof phrase);
		if (!plain)
			put_str(&q, "\"");
		for (const char *c = name; *c; c++) {
			if (!plain && (*c == '"' || *c == '\\'))
				put_str(&q, "\\");
			put(&q, c, 1);
		}
		if (!plain)
			put_str(&q, "\"");
		if (!q.full && col + q.len <= HEADER_LINE) {
			put_str(o, phrase);
			col += q.len;
		} else {
			put_encoded(o, &col, name);
		}
	} else if (name[0]) {
		put_encoded(o, &col, name);
	}
	if (name[0]) {
		if (col + strlen(addr) + 3 > HEADER_LINE)
			fold(o, &col);
		else
			put_str(o, " ");
	}
	put_str(o, "<");
	put_str(o, addr);
	put_str(o, ">\r\n");
}

static void put_date(struct out *o, time_t t)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char line[64];
	struct tm tm;
	long off;

	/* Written out: strftime's names would follow the locale. */
	if (!localtime_r(&t, &tm)) {
		o->full = true;
		return;
	}
	off = tm.tm_gmtoff / 60;
	snprintf(line, sizeof line, "Date: %s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld\r\n",
		 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
		 (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
	put_str(o, line);
}

/* This machine's name when it can stand in a Message-ID (and be shown in
 * the notice); else the domain of the From address. */
static void local_host(char *out, size_t cap, const char *from)
{
	char host[256] = "";
	bool ok = gethostname(host, sizeof host - 1) == 0 && host[0];

	host[sizeof host - 1] = '\0';
	for (const char *c = host; ok && *c; c++)
		ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		     (*c >= '0' && *c <= '9') || *c == '.' || *c == '-';
	snprintf(out, cap, "%s", ok ? host : strrchr(from, '@') + 1);
}

static void put_message_id(struct out *o, const char *host)
{
	unsigned char rnd[16];
	char hex[2 * sizeof rnd + 1];

	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
	put_str(o, "Message-ID: <");
	put_str(o, hex);
	put_str(o, "@");
	put_str(o, host);
	put_str(o, ">\r\n");
}

/* ---- body ------------------------------------------------------------------ */

struct var {
	const char *name;
	const char *value;
};

/* In a text to be wrapped, the spaces of a value ("10 minutes", a name)
 * are this byte until the lines are made, so that a value is never cut.
 * Values hold no control character: the byte cannot come from them. */
#define GLUE '\x01'

/* The template with every {name} replaced by its value; glue: with the
 * values' spaces glued. */
static void expand(struct out *o, const char *t, const struct var *vars, size_t nvars,
		   bool glue)
{
	while (*t) {
		const char *open = strchr(t, '{');
		bool done = false;

		if (!open) {
			put_str(o, t);
			return;
		}
		put(o, t, (size_t)(open - t));
		for (size_t i = 0; i < nvars && !done; i++) {
			size_t n = strlen(vars[i].name);

			if (strncmp(open + 1, vars[i].name, n) == 0 && open[1 + n] == '}') {
				size_t at = o->len;

				put_str(o, vars[i].value);
				for (; glue && !o->full && at < o->len; at++)
					if (o->p[at] == ' ')
						o->p[at] = GLUE;
				t = open + n + 2;
				done = true;
			}
		}
		if (!done) {
			put(o, "{", 1);
			t = open + 1;
		}
	}
}

/* Break lines longer than WRAP characters at their last space that keeps
 * them within it (a word longer than a line stays whole), then unglue. */
static void wrap(struct out *o, const char *text)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);

		while (utf8_width(text, len) > WRAP) {
			const char *cut = NULL;

			for (const char *c = text; c < text + len; c++)
				if (*c == ' ' && utf8_width(text, (size_t)(c - text)) <= WRAP)
					cut = c;
			if (!cut)
				break;
			put(o, text, (size_t)(cut - text));
			put(o, "\n", 1);
			len -= (size_t)(cut + 1 - text);
			text = cut + 1;
		}
		put(o, text, len);
		put(o, "\n", 1);
		text += len + (nl != NULL);
	}
	for (size_t i = 0; !o->full && i < o->len; i++)
		if (o->p[i] == GLUE)
			o->p[i] = ' ';
}

ssize_t mailtext_qp(const char *text, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	struct out o;
	size_t i = 0;

	out_init(&o, out, cap);
	while (i < n) {
		size_t end = i, col = 0;

		while (end < n && text[end] != '\n')
			end++;
		for (; i < end; i++) {
			unsigned char c = (unsigned char)text[i];
			bool last = i + 1 == end;
			bool literal = (c > ' ' && c <= '~' && c != '=') ||
				       ((c == ' ' || c == '\t') && !last);
			char tok[3] = { (char)c, hex[c >> 4], hex[c & 15] };
			size_t len = literal ? 1 : 3;

			/* Leave room for the soft break unless this ends the line. */
			if (col + len > (last ? QP_LINE : QP_LINE - 1)) {
				put_str(&o, "=\r\n");
				col = 0;
			}
			if (literal) {
				put(&o, tok, 1);
			} else {
				tok[0] = '=';
				put(&o, tok, 3);
			}
			col += len;
		}
		if (end < n) {
			put_str(&o, "\r\n");
			i = end + 1;
		}
	}
	return o.full ? -1 : (ssize_t)o.len;
}

/* ---- messages --------------------------------------------------------------- */

static bool head_ok(const struct mail_head *h)
{
	return valid_email(h->from) && valid_email(h->to) && valid_text(h->organization) &&
	       strlen(h->organization) <= ORG_MAX &&
	       (!h->from_name || (valid_text(h->from_name) && strlen(h->from_name) <= ORG_MAX));
}

/* From's display name: mail_from's, else the organization. */
static const char *display_name(const struct mail_head *h)
{
	return h->from_name && h->from_name[0] ? h->from_name : h->organization;
}

/* The whole message: headers, then the text of the template (every value
 * in vars already checked) in quoted-printable. */
static ssize_t build(const struct mail_head *h, const char *host,
		     const struct i18n_text *subject, const struct i18n_text *body,
		     const struct var *vars, size_t nvars, char *out, size_t cap)
{
	char subj[512], plain[MAIL_TEXT_MAX], wrapped[MAIL_TEXT_MAX];
	struct out s, p, w, o;
	ssize_t qp = -1;

	out_init(&s, subj, sizeof subj);
	out_init(&p, plain, sizeof plain);
	out_init(&w, wrapped, sizeof wrapped);
	out_init(&o, out, cap);
	expand(&s, i18n(h->lang, subject), vars, nvars, false);
	expand(&p, i18n(h->lang, body), vars, nvars, true);
	wrap(&w, plain);

	put_from(&o, display_name(h), h->from);
	put_str(&o, "To: ");
	put_str(&o, h->to);
	put_str(&o, "\r\n");
	put_header(&o, "Subject", subj);
	put_date(&o, h->date);
	put_message_id(&o, host);
	put_str(&o, "MIME-Version: 1.0\r\n"
		  "Content-Type: text/plain; charset=UTF-8\r\n"
		  "Content-Transfer-Encoding: quoted-printable\r\n");
	put_str(&o, h->lang == LANG_EN ? "Content-Language: en\r\n" : "Content-Language: fr\r\n");
	put_str(&o, "Auto-Submitted: auto-generated\r\n\r\n");
	if (!s.full && !p.full && !w.full && !o.full)
		qp = mailtext_qp(wrapped, w.len, out + o.len, cap - o.len);

	sodium_memzero(plain, sizeof plain);
	sodium_memzero(wrapped, sizeof wrapped);
	if (qp < 0) {
		sodium_memzero(out, cap);
		return -1;
	}
	return (ssize_t)o.len + qp;
}

static bool all_ok(const struct var *vars, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!valid_text(vars[i].value))
			return false;
	return true;
}

ssize_t mailtext_code(const struct mail_head *h, const char *user, const char *code,
		      unsigned long long valid_for, char *out, size_t cap)
{
	char ttl[64], host[256];
	size_t len = strlen(code);
	const struct var vars[] = {
		{ "org", h->organization }, { "user", user }, { "code", code }, { "ttl", ttl },
	};

	if (!head_ok(h) || len == 0 || len > PORTAL_CODE_MAX || strspn(code, "0123456789") != len ||
	    !all_ok(vars, 2))
		return -1;
	i18n_duration(h->lang, valid_for, ttl, sizeof ttl);
	local_host(host, sizeof host, h->from);
	return build(h, host, &code_subject, &code_body, vars, sizeof vars / sizeof vars[0],
		     out, cap);
}

/* "30 octobre 2023 à 14 h 05 (EDT)" / "30 October 2023 at 14:05 (EDT)" */
static void when_words(enum lang l, time_t when, char *out, size_t cap)
{
	char date[64], time_of_day[48];
	struct tm tm;
	const struct var vars[] = { { "date", date }, { "time", time_of_day } };
	struct out o;

	i18n_date(l, (long long)when, date, sizeof date);
	if (!localtime_r(&when, &tm))
		snprintf(time_of_day, sizeof time_of_day, "?");
	else if (l == LANG_FR)   /* the Québec style, "14 h 05" */
		snprintf(time_of_day, sizeof time_of_day, "%d h %02d (%s)", tm.tm_hour,
			 tm.tm_min, tm.tm_zone);
	else
		snprintf(time_of_day, sizeof time_of_day, "%02d:%02d (%s)", tm.tm_hour,
			 tm.tm_min, tm.tm_zone);
	out_init(&o, out, cap);
	expand(&o, i18n(l, &when_text), vars, 2, false);
}

ssize_t mailtext_notice(const struct mail_head *h, const char *user, time_t when,
			const char *remote, char *out, size_t cap)
{
	char host[256], at[160], rline[256 + 64] = "";
	const struct var vars[] = {
		{ "org", h->organization }, { "user", user }, { "when", at },
		{ "host", host }, { "remote_line", rline },
	};
	const struct var rvar = { "remote", remote ? remote : "" };
	struct out r;

	if (!head_ok(h) || !all_ok(vars, 2) || !all_ok(&rvar, 1) || strlen(rvar.value) > 255)
		return -1;
	local_host(host, sizeof host, h->from);
	when_words(h->lang, when, at, sizeof at);
	if (rvar.value[0]) {
		out_init(&r, rline, sizeof rline);
		expand(&r, i18n(h->lang, &remote_line), &rvar, 1, false);
	}
	return build(h, host, &notice_subject, &notice_body, vars, sizeof vars / sizeof vars[0],
		     out, cap);
}

ssize_t mailtext_lock(const struct mail_head *h, const char *user, time_t until,
		      const char *source, char *out, size_t cap)
{
	char host[256], at[160];
	const struct var vars[] = {
		{ "org", h->organization }, { "user", user }, { "until", at },
		{ "source", source ? source : i18n(h->lang, &many_sources) },
	};

	if (!head_ok(h) || !all_ok(vars, 2) || !all_ok(&vars[3], 1) ||
	    strlen(vars[3].value) > PORTAL_SOURCE_MAX)
		return -1;
	local_host(host, sizeof host, h->from);
	when_words(h->lang, until, at, sizeof at);
	return build(h, host, &lock_subject, &lock_body, vars, sizeof vars / sizeof vars[0],
		     out, cap);
}
