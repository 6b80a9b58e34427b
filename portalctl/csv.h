/*
 * csv.h - reader for the `portalctl import` file: one `user,email` pair a
 * line, as a spreadsheet or a shell script would write it.
 *
 * Blank lines, lines starting with '#' and a first row naming the columns
 * (user,email) are skipped.  Fields are trimmed of spaces and tabs and may
 * be double-quoted ("" inside quotes is one quote).  Lines are read with a
 * fixed cap, so a file without newlines cannot make the reader grow: an
 * over-long line is consumed and reported, never split into two rows.
 * Whether the fields are a good user name and address is not decided here
 * (valid.h).
 */
#ifndef PORTAL_CSV_H
#define PORTAL_CSV_H

#include <stdbool.h>
#include <stdio.h>

#define CSV_LINE_MAX 1024   /* bytes of a line, its end of line excluded */

enum csv_status {
	CSV_ROW,          /* user and email are set */
	CSV_SKIP,         /* blank line, comment or header row */
	CSV_END,          /* no more input */
	CSV_READ_ERROR,   /* errno says why */
	/* the line is refused: */
	CSV_TOO_LONG,
	CSV_NUL,
	CSV_BAD_UTF8,
	CSV_BAD_QUOTE,    /* unterminated quote, or text next to a quoted field */
	CSV_FIELD_COUNT,  /* not exactly two fields */
};

struct csv_reader {
	FILE *in;
	unsigned long line;           /* number of the line just read, from 1 */
	bool seen_row;                /* a header is only looked for before this */
	char buf[CSV_LINE_MAX + 2];   /* one byte over the cap tells "too long" */
	char *user, *email;           /* into buf, valid until the next call */
};

void csv_init(struct csv_reader *r, FILE *in);
/* Read and parse the next line. */
enum csv_status csv_next(struct csv_reader *r);
/* Split a NUL-terminated line (modified in place) into exactly two fields. */
enum csv_status csv_parse(char *line, char **user, char **email);

#endif
