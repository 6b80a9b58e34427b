/* unit_csv.c - the import file reader: quoting, trimming, skipped lines,
 * refused lines, and the line cap. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "csv.h"
#include "utf8.h"
#include "utf8.h"

static FILE *text(const char *s, size_t n)
{
	FILE *f = tmpfile();

	if (f) {
		fwrite(s, 1, n, f);
		rewind(f);
	}
	return f;
}

/* Parse one line (copied, the parser writes in place). */
static enum csv_status parse(const char *line, char *user, char *email)
{
	char buf[256], *u, *e;
	enum csv_status st;

	snprintf(buf, sizeof buf, "%s", line);
	st = csv_parse(buf, &u, &e);
	if (st == CSV_ROW) {
		strcpy(user, u);
		strcpy(email, e);
	}
	return st;
}

static bool row_is(const char *line, const char *user, const char *email)
{
	char u[256] = "", e[256] = "";

	return parse(line, u, e) == CSV_ROW && strcmp(u, user) == 0 && strcmp(e, email) == 0;
}

static void test_fields(void)
{
	char u[256], e[256];

	CHECK("plain row", row_is("alice,alice@example.org", "alice", "alice@example.org"));
	CHECK("spaces and tabs trimmed", row_is("  alice \t,\t alice@example.org  ",
						"alice", "alice@example.org"));
	CHECK("quoted fields", row_is("\"alice\",\"alice@example.org\"", "alice", "alice@example.org"));
	CHECK("spaces around quotes", row_is("  \"alice\"  , \"a@b.org\" ", "alice", "a@b.org"));
	CHECK("spaces inside quotes kept", row_is("\" alice \",x", " alice ", "x"));
	CHECK("doubled quote is one quote", row_is("\"a\"\"b\",x", "a\"b", "x"));
	CHECK("comma inside quotes", row_is("\"a,b\",x", "a,b", "x"));
	CHECK("empty quoted field", row_is("\"\",x", "", "x"));
	CHECK("empty fields are fields", row_is(",", "", ""));
	CHECK("unterminated quote", parse("\"alice,a@b.org", u, e) == CSV_BAD_QUOTE);
	CHECK("text after a closing quote", parse("\"al\"ice,a@b.org", u, e) == CSV_BAD_QUOTE);
	CHECK("quote inside a bare field", parse("al\"ice,a@b.org", u, e) == CSV_BAD_QUOTE);
	CHECK("one field", parse("alice", u, e) == CSV_FIELD_COUNT);
	CHECK("three fields", parse("alice,a@b.org,x", u, e) == CSV_FIELD_COUNT);
	CHECK("trailing comma is a third field", parse("alice,a@b.org,", u, e) == CSV_FIELD_COUNT);
}

static void test_utf8(void)
{
	CHECK("ASCII", utf8_valid("abc", 3));
	CHECK("two-byte é", utf8_valid("\xc3\xa9", 2));
	CHECK("four-byte emoji", utf8_valid("\xf0\x9f\x98\x80", 4));
	CHECK("overlong refused", !utf8_valid("\xc0\xaf", 2));
	CHECK("overlong three-byte refused", !utf8_valid("\xe0\x80\xaf", 3));
	CHECK("surrogate refused", !utf8_valid("\xed\xa0\x80", 3));
	CHECK("beyond U+10FFFF refused", !utf8_valid("\xf4\x90\x80\x80", 4));
	CHECK("truncated sequence refused", !utf8_valid("\xe2\x82", 2));
	CHECK("stray continuation refused", !utf8_valid("a\x80", 2));
	CHECK("Latin-1 é refused", !utf8_valid("caf\xe9", 4));
}

/* Read all of s; statuses into st[] (up to max), returns how many. */
static size_t read_all(const char *s, size_t n, enum csv_status *st, unsigned long *line,
		       size_t max, char users[][80])
{
	FILE *f = text(s, n);
	struct csv_reader r;
	size_t k = 0;

	if (!f)
		return 0;
	csv_init(&r, f);
	while (k < max) {
		st[k] = csv_next(&r);
		line[k] = r.line;
		if (st[k] == CSV_ROW && users)
			snprintf(users[k], 80, "%s", r.user);
		if (st[k] == CSV_END || st[k] == CSV_READ_ERROR)
			break;
		k++;
	}
	fclose(f);
	return k;
}

static void test_lines(void)
{
	static const char file[] =
		"\xef\xbb\xbf" "User , E-mail\r\n"      /* 1 BOM and header */
		"\n"                                    /* 2 blank */
		"   \t \n"                              /* 3 blank */
		"# a comment, with commas\n"            /* 4 */
		"  # an indented comment\n"             /* 5 */
		"alice,alice@example.org\r\n"           /* 6 */
		"user,email\n"                          /* 7 header only counts first */
		"bob,b\0b@example.org\n"                /* 8 NUL */
		"caf\xe9,x@example.org\n"               /* 9 Latin-1 */
		"carol,carol@example.org";              /* 10 no final newline */
	enum csv_status st[16];
	unsigned long line[16];
	char users[16][80];
	size_t n = read_all(file, sizeof file - 1, st, line, 16, users);

	CHECK("ten lines read", n == 10 && st[n] == CSV_END);
	CHECK("BOM and header skipped", st[0] == CSV_SKIP && line[0] == 1);
	CHECK("blank lines skipped", st[1] == CSV_SKIP && st[2] == CSV_SKIP);
	CHECK("comments skipped", st[3] == CSV_SKIP && st[4] == CSV_SKIP);
	CHECK("CRLF row", st[5] == CSV_ROW && line[5] == 6 && strcmp(users[5], "alice") == 0);
	CHECK("header words after data are a row", st[6] == CSV_ROW && line[6] == 7);
	CHECK("NUL byte refused", st[7] == CSV_NUL && line[7] == 8);
	CHECK("invalid UTF-8 refused", st[8] == CSV_BAD_UTF8 && line[8] == 9);
	CHECK("last line without newline", st[9] == CSV_ROW && line[9] == 10 &&
	      strcmp(users[9], "carol") == 0);

	n = read_all("", 0, st, line, 16, NULL);
	CHECK("empty file", n == 0 && st[0] == CSV_END);
	n = read_all("x,y\n", 4, st, line, 16, NULL);
	CHECK("first row not a header is kept", n == 1 && st[0] == CSV_ROW);
	n = read_all("bad\nuser,email\n", 15, st, line, 16, NULL);
	CHECK("a header after a refused line is data", n == 2 && st[0] == CSV_FIELD_COUNT &&
	      st[1] == CSV_ROW);
	n = read_all("# list\nuser,email\n", 18, st, line, 16, NULL);
	CHECK("header after a comment skipped", n == 2 && st[1] == CSV_SKIP);
}

/* A line of `len` bytes "u,aaaa..." then "\r\n" or "\n", then "next,x\n". */
static size_t long_line(char *buf, size_t len, bool crlf)
{
	size_t n = 0;

	buf[n++] = 'u';
	buf[n++] = ',';
	while (n < len)
		buf[n++] = 'a';
	if (crlf)
		buf[n++] = '\r';
	n += (size_t)sprintf(buf + n, "\nnext,x\n");
	return n;
}

static void test_long_lines(void)
{
	static char buf[200000];
	enum csv_status st[4];
	unsigned long line[4];
	char users[4][80];
	size_t n;

	n = read_all(buf, long_line(buf, CSV_LINE_MAX, false), st, line, 4, users);
	CHECK("1024 bytes accepted", n == 2 && st[0] == CSV_ROW);
	n = read_all(buf, long_line(buf, CSV_LINE_MAX, true), st, line, 4, users);
	CHECK("1024 bytes and CRLF accepted", n == 2 && st[0] == CSV_ROW);
	n = read_all(buf, long_line(buf, CSV_LINE_MAX + 1, false), st, line, 4, users);
	CHECK("1025 bytes refused", n == 2 && st[0] == CSV_TOO_LONG);
	CHECK("the line after a long one is whole", st[1] == CSV_ROW && line[1] == 2 &&
	      strcmp(users[1], "next") == 0);
	n = read_all(buf, long_line(buf, CSV_LINE_MAX + 1, true), st, line, 4, users);
	CHECK("1025 bytes and CRLF refused", n == 2 && st[0] == CSV_TOO_LONG);
	n = read_all(buf, long_line(buf, sizeof buf - 16, false), st, line, 4, users);
	CHECK("a huge line is refused, not split", n == 2 && st[0] == CSV_TOO_LONG &&
	      st[1] == CSV_ROW && line[1] == 2 && strcmp(users[1], "next") == 0);
}

static void test_stream(void)
{
	FILE *f = tmpfile();
	struct csv_reader r;
	unsigned long rows = 0;
	enum csv_status st;

	if (!f) {
		CHECK("tmpfile", false);
		return;
	}
	for (unsigned i = 0; i < 200000; i++)
		fprintf(f, "user%u,user%u@example.org\n", i, i);
	rewind(f);
	csv_init(&r, f);
	while ((st = csv_next(&r)) == CSV_ROW)
		rows++;
	CHECK("200000 lines stream through", st == CSV_END && rows == 200000 && r.line == 200000);
	fclose(f);
}

static void test_read_error(void)
{
	FILE *f = fopen(".", "r");   /* a directory opens, but reading it fails */
	struct csv_reader r;

	if (!f) {
		CHECK("open a directory", false);
		return;
	}
	csv_init(&r, f);
	CHECK("read error reported", csv_next(&r) == CSV_READ_ERROR);
	fclose(f);
}

int main(void)
{
	test_fields();
	test_utf8();
	test_lines();
	test_long_lines();
	test_stream();
	test_read_error();
	return check_done();
}
