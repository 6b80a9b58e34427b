/* unit_i18n.c - dates and durations read naturally in both languages. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "i18n.h"

static long long local_noon(int y, int m, int d)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12, .tm_isdst = -1 };

	return (long long)mktime(&tm);
}

int main(void)
{
	char s[64];
	enum lang l;

	CHECK("parse fr", lang_parse("fr", &l) && l == LANG_FR);
	CHECK("parse en", lang_parse("en", &l) && l == LANG_EN);
	CHECK("parse refuses FR", !lang_parse("FR", &l));
	CHECK("names", strcmp(lang_name(LANG_EN), "en") == 0 && strcmp(lang_name(LANG_FR), "fr") == 0);

	i18n_date(LANG_EN, local_noon(2023, 10, 30), s, sizeof s);
	CHECK("English date", strcmp(s, "30 October 2023") == 0);
	i18n_date(LANG_FR, local_noon(2023, 10, 30), s, sizeof s);
	CHECK("French date", strcmp(s, "30 octobre 2023") == 0);
	i18n_date(LANG_FR, local_noon(2024, 8, 1), s, sizeof s);
	CHECK("French first of the month", strcmp(s, "1er août 2024") == 0);

	i18n_duration(LANG_EN, 600, s, sizeof s);
	CHECK("10 minutes", strcmp(s, "10 minutes") == 0);
	i18n_duration(LANG_FR, 60, s, sizeof s);
	CHECK("1 minute", strcmp(s, "1 minute") == 0);
	i18n_duration(LANG_FR, 45, s, sizeof s);
	CHECK("45 secondes", strcmp(s, "45 secondes") == 0);
	i18n_duration(LANG_EN, 1, s, sizeof s);
	CHECK("1 second", strcmp(s, "1 second") == 0);
	i18n_duration(LANG_EN, 121, s, sizeof s);
	CHECK("a wait is rounded up", strcmp(s, "3 minutes") == 0);
	i18n_duration(LANG_EN, 3600, s, sizeof s);
	CHECK("an hour is said in hours", strcmp(s, "1 hour") == 0);
	i18n_duration(LANG_FR, 7200, s, sizeof s);
	CHECK("2 heures", strcmp(s, "2 heures") == 0);
	return check_done();
}
