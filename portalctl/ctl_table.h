/*
 * ctl_table.h - the tables portalctl prints (user list, outbox): columns
 * as wide as their widest cell, two spaces apart, no trailing blanks.
 * Rows are kept until printed because a column's width is only known once
 * every row has been seen.
 */
#ifndef PORTAL_CTL_TABLE_H
#define PORTAL_CTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 8

struct table {
	unsigned ncols;
	size_t width[TABLE_MAX_COLS];   /* in characters, not bytes */
	char *cells;                    /* rows of ncols NUL-terminated cells */
	size_t len, cap;                /* bytes */
	size_t *row;                    /* where each row starts in cells */
	size_t nrows, rowcap;           /* rows; bytes of row */
};

void table_init(struct table *t, const char *const header[], unsigned ncols);
/* Copy a row (control bytes shown as '?').  False when out of memory. */
bool table_add(struct table *t, const char *const cell[]);
/* Order the rows by their first cell (byte order: user names are ASCII). */
void table_sort(struct table *t);
/* The header then every row. */
void table_print(const struct table *t, const char *const header[], FILE *out);
void table_free(struct table *t);
/* "label: value" lines, the values lined up (user show, status). */
void table_pairs(FILE *out, const char *const label[], const char *const value[], unsigned n);
/* Copy s into out (cap bytes, cut if need be) with control bytes shown as
 * '?': strings from portald or the command line go to a terminal. */
void table_safe(const char *s, char *out, size_t cap);
/* Characters in a UTF-8 string (what a terminal column count needs). */
size_t table_width(const char *s);

#endif
