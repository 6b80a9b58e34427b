/*
 * csv.c - read the import file line by line, with a cap on the line length
 * and nothing kept between lines, so a million-line file streams through a
 * fixed buffer.  See csv.h for what is accepted.
 */
#include "csv.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>
#include "utf8.h"

void csv_init(struct csv_reader *r, FILE *in)
{
	memset(r, 0, sizeof *r);
	r->in = in;
}

/* One line into r->buf, without its "\n" or "\r\n".  Bytes past the cap are
 * read and dropped, so the next call starts on the next line; *over says
 * that happened. */
static enum csv_status read_line(struct csv_reader *r, size_t *len, bool *over)
{
	size_t n = 0;
	int ch;

	*over = false;
	while ((ch = getc_unlocked(r->in)) != EOF && ch != '\n') {
		if (n < sizeof r->buf - 1)
			r->buf[n++] = (char)ch;
		else
			*over = true;
	}
	if (ch == EOF) {
		if (ferror(r->in))
			return CSV_READ_ERROR;
		if (n == 0)
			return CSV_END;
	}
	r->line++;
	if (n > 0 && r->buf[n - 1] == '\r' && !*over)
		n--;
	r->buf[n] = '\0';
	*len = n;
	return CSV_ROW;
}

static bool blank_or_comment(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i == len || p[i] == '#';
}

/* Parse the field at *p into *out (NUL-terminated in place) and move *p past
 * the separator.  Returns the separator (',' or '\0'), or -1 for a quoting
 * mistake. */
static int parse_field(char **p, char **out)
{
	char *s = *p + strspn(*p, " \t");
	char *end, *w;
	int sep;

	if (*s == '"') {
		*out = w = ++s;
		for (;;) {
			if (*s == '\0')
				return -1;
			if (*s == '"' && s[1] != '"')
				break;
			if (*s == '"')   /* "" inside quotes is one quote */
				s++;
			*w++ = *s++;
		}
		s++;
		*w = '\0';       /* w is behind s: the rest of the line is intact */
		end = s + strspn(s, " \t");
		if (*end != ',' && *end != '\0')
			return -1;
	} else {
		*out = s;
		end = s + strcspn(s, ",");
		if (memchr(s, '"', (size_t)(end - s)))
			return -1;
		w = end;
		while (w > s && (w[-1] == ' ' || w[-1] == '\t'))
			w--;
	}
	sep = *end;
	*w = '\0';
	*p = sep ? end + 1 : end;
	return sep;
}

enum csv_status csv_parse(char *line, char **user, char **email)
{
	char *p = line, *field[2] = { NULL, NULL };
	unsigned n = 0;
	int sep;

	do {
		char *f;

		sep = parse_field(&p, &f);
		if (sep < 0)
			return CSV_BAD_QUOTE;
		if (n < 2)
			field[n] = f;
		n++;
	} while (sep == ',');
	if (n != 2)
		return CSV_FIELD_COUNT;
	*user = field[0];
	*email = field[1];
	return CSV_ROW;
}

/* The first row may name the columns, as spreadsheets export them. */
static bool is_header(const char *user, const char *email)
{
	return (strcasecmp(user, "user") == 0 || strcasecmp(user, "username") == 0) &&
	       (strcasecmp(email, "email") == 0 || strcasecmp(email, "e-mail") == 0);
}

enum csv_status csv_next(struct csv_reader *r)
{
	char *p = r->buf;
	enum csv_status st;
	size_t len = 0;
	bool over;

	st = read_line(r, &len, &over);
	if (st != CSV_ROW)
		return st;
	/* a byte-order mark, as some spreadsheets write one */
	if (r->line == 1 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		p += 3;
		len -= 3;
	}
	if (blank_or_comment(p, len))
		return CSV_SKIP;
	if (over || len > CSV_LINE_MAX)
		st = CSV_TOO_LONG;
	else if (memchr(p, '\0', len))
		st = CSV_NUL;
	else if (!utf8_valid(p, len))
		st = CSV_BAD_UTF8;
	else
		st = csv_parse(p, &r->user, &r->email);
	if (st == CSV_ROW && !r->seen_row && is_header(r->user, r->email))
		st = CSV_SKIP;
	r->seen_row = true;
	return st;
}
