/*
 * i18n.c - messages in the language asked for, language names, dates and
 * durations in words.  Written out rather than taken from the C locale: a
 * PAM module must not call setlocale() in its host process, and the fr_FR
 * locale may not even be installed on the machine.
 */
#include "i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "catalog.h"

static int pair_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct i18n_pair *)elem)->id);
}

const char *i18n(enum lang l, const struct i18n_text *t)
{
	const struct i18n_catalog *c = l < LANG_COUNT ? &i18n_catalogs[l] : NULL;
	const struct i18n_pair *p = NULL;

	if (c && c->pairs)
		p = bsearch(t->en, c->pairs, c->n, sizeof *c->pairs, pair_cmp);
	return p ? p->str : t->en;
}

bool lang_parse(const char *s, enum lang *l)
{
	if (strcmp(s, "fr") == 0)
		*l = LANG_FR;
	else if (strcmp(s, "en") == 0)
		*l = LANG_EN;
	else
		return false;
	return true;
}

const struct i18n_text i18n_unknown_option = I18N(
	"unknown option: %s");
const struct i18n_text i18n_missing_value = I18N(
	"option %s needs a value");

/* In the order POSIX gives the variables precedence.  The C library's
 * locale is not used: the fr_FR locale need not be installed for the
 * administrator to want French. */
enum lang lang_of_environment(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };

	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return strncmp(v, "fr", 2) == 0 ? LANG_FR : LANG_EN;
	}
	return LANG_EN;
}

const char *lang_name(enum lang l)
{
	return l == LANG_EN ? "en" : "fr";
}

static const struct i18n_text months[12] = {
	I18N("January"), I18N("February"), I18N("March"),
	I18N("April"), I18N("May"), I18N("June"),
	I18N("July"), I18N("August"), I18N("September"),
	I18N("October"), I18N("November"), I18N("December"),
};

void i18n_date(enum lang l, long long unix_time, char *out, unsigned cap)
{
	time_t t = (time_t)unix_time;
	struct tm tm;

	if (!localtime_r(&t, &tm)) {
		snprintf(out, cap, "?");
		return;
	}
	/* "1er" is how a French date names the first day of a month */
	snprintf(out, cap, "%d%s %s %d", tm.tm_mday,
		 l == LANG_FR && tm.tm_mday == 1 ? "er" : "",
		 i18n(l, &months[tm.tm_mon]), tm.tm_year + 1900);
}

static const struct i18n_text unit_names[][2] = {
	{ I18N("second"), I18N("seconds") },
	{ I18N("minute"), I18N("minutes") },
	{ I18N("hour"), I18N("hours") },
};

void i18n_duration(enum lang l, unsigned long long s, char *out, unsigned cap)
{
	unsigned long long n;
	int unit;

	/* Precise seconds while they matter; whole minutes (rounded up, so a
	 * wait is never understated) or hours beyond. */
	if (s < 120 && s % 60 != 0) {
		n = s;
		unit = 0;
	} else if (s >= 3600 && s % 3600 == 0) {
		n = s / 3600;
		unit = 2;
	} else {
		n = (s + 59) / 60;
		unit = 1;
	}
	snprintf(out, cap, "%llu %s", n, i18n(l, &unit_names[unit][n > 1]));
}
