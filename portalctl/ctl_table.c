/*
 * ctl_table.c - column-aligned tables for portalctl.  See ctl_table.h.
 */
#include "ctl_table.h"

#include <stdlib.h>
#include <string.h>
#include "utf8.h"

size_t table_width(const char *s)
{
	return utf8_width(s, strlen(s));
}

void table_safe(const char *s, char *out, size_t cap)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	out[i] = '\0';
}

void table_init(struct table *t, const char *const header[], unsigned ncols)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols < TABLE_MAX_COLS ? ncols : TABLE_MAX_COLS;
	for (unsigned i = 0; i < t->ncols; i++)
		t->width[i] = table_width(header[i]);
}

/* Room for `more` bytes past `used` in *buf of *cap bytes, doubling. */
static bool reserve(void **buf, size_t *cap, size_t used, size_t more)
{
	size_t n = *cap ? *cap : 4096;
	void *p;

	if (used + more <= *cap)
		return true;
	while (n < used + more)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return false;
	*buf = p;
	*cap = n;
	return true;
}

bool table_add(struct table *t, const char *const cell[])
{
	size_t need = 0;

	for (unsigned i = 0; i < t->ncols; i++)
		need += strlen(cell[i]) + 1;
	if (!reserve((void **)&t->cells, &t->cap, t->len, need) ||
	    !reserve((void **)&t->row, &t->rowcap, t->nrows * sizeof *t->row, sizeof *t->row))
		return false;
	t->row[t->nrows++] = t->len;
	for (unsigned i = 0; i < t->ncols; i++) {
		char *dst = t->cells + t->len;
		size_t n = strlen(cell[i]), w;

		table_safe(cell[i], dst, n + 1);
		t->len += n + 1;
		w = table_width(dst);
		if (w > t->width[i])
			t->width[i] = w;
	}
	return true;
}

static int by_first_cell(const void *a, const void *b, void *cells)
{
	return strcmp((const char *)cells + *(const size_t *)a,
		      (const char *)cells + *(const size_t *)b);
}

void table_sort(struct table *t)
{
	if (t->nrows > 1)
		qsort_r(t->row, t->nrows, sizeof *t->row, by_first_cell, t->cells);
}

static void print_row(const struct table *t, const char *const cell[], FILE *out)
{
	for (unsigned i = 0; i < t->ncols; i++) {
		fputs(cell[i], out);
		if (i + 1 < t->ncols)
			fprintf(out, "%*s", (int)(t->width[i] - table_width(cell[i]) + 2), "");
	}
	fputc('\n', out);
}

void table_print(const struct table *t, const char *const header[], FILE *out)
{
	const char *cell[TABLE_MAX_COLS];

	print_row(t, header, out);
	for (size_t r = 0; r < t->nrows; r++) {
		const char *p = t->cells + t->row[r];

		for (unsigned i = 0; i < t->ncols; i++) {
			cell[i] = p;
			p += strlen(p) + 1;
		}
		print_row(t, cell, out);
	}
}

void table_free(struct table *t)
{
	free(t->cells);
	free(t->row);
	memset(t, 0, sizeof *t);
}

void table_pairs(FILE *out, const char *const label[], const char *const value[], unsigned n)
{
	size_t w = 0;

	for (unsigned i = 0; i < n; i++)
		if (table_width(label[i]) > w)
			w = table_width(label[i]);
	for (unsigned i = 0; i < n; i++)
		fprintf(out, "%s:%*s%s\n", label[i], (int)(w - table_width(label[i]) + 1), "",
			value[i]);
}
