/*
 * i18n.h - the two languages every message exists in.
 *
 * Each unit keeps its own table of struct i18n_text; a message is never
 * written in one language only (tests/unit_i18n checks every table).
 */
#ifndef PORTAL_I18N_H
#define PORTAL_I18N_H

#include <stdbool.h>

enum lang { LANG_FR = 0, LANG_EN = 1 };

struct i18n_text {
	const char *fr;
	const char *en;
};

static inline const char *i18n(enum lang l, const struct i18n_text *t)
{
	return l == LANG_EN ? t->en : t->fr;
}

/* "fr" or "en"; anything else is refused. */
bool lang_parse(const char *s, enum lang *l);
const char *lang_name(enum lang l);

/* Format a calendar date for people: "30 October 2023" / "30 octobre 2023". */
void i18n_date(enum lang l, long long unix_time, char *out, unsigned cap);
/* A duration in whole minutes or seconds, in words: "15 minutes", "45 secondes". */
void i18n_duration(enum lang l, unsigned long long seconds, char *out, unsigned cap);

#endif
