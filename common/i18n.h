/*
 * i18n.h - the two languages every message exists in.
 *
 * A message is written in the code in English, I18N("..."), which is its
 * gettext msgid; its French is in po/fr.po, a translator's file, which the
 * build turns into the table i18n() looks it up in (tools/po2c.py, see
 * catalog.h).  `make pot` brings po/ up to date with the code, and
 * tests/test_i18n_po.py checks that every message has its French and that
 * both carry the same placeholders.
 */
#ifndef PORTAL_I18N_H
#define PORTAL_I18N_H

#include <stdbool.h>

enum lang { LANG_FR = 0, LANG_EN = 1, LANG_COUNT };

struct i18n_text {
	const char *en;   /* the English, and the msgid of its translations */
};

/* A message; xgettext finds them by this name (make pot). */
#define I18N(en_) { .en = (en_) }

/* The message in language l: its translation from po/, or the English
 * when there is none (the tests make sure there always is). */
const char *i18n(enum lang l, const struct i18n_text *t);

/* "fr" or "en"; anything else is refused. */
bool lang_parse(const char *s, enum lang *l);
/* The language of whoever runs a command (portalctl, portald -h, -t):
 * French when LC_ALL, LC_MESSAGES or LANG, the first one set, starts with
 * "fr"; English otherwise. */
enum lang lang_of_environment(void);
/* What portald's and portalctl's command lines say of a bad option (its
 * one argument: the option as typed). */
extern const struct i18n_text i18n_unknown_option, i18n_missing_value;
const char *lang_name(enum lang l);

/* Format a calendar date for people: "30 October 2023" / "30 octobre 2023". */
void i18n_date(enum lang l, long long unix_time, char *out, unsigned cap);
/* A duration in whole minutes or seconds, in words: "15 minutes", "45 secondes". */
void i18n_duration(enum lang l, unsigned long long seconds, char *out, unsigned cap);

#endif
