/*
 * catalog.h - the translations of the messages, one table a language,
 * generated at build time from po/LL.po by tools/po2c.py (into
 * $(BUILD)/gen/catalog.c): pairs of English msgid and translation, sorted
 * by msgid as strcmp orders them, for i18n() to search.  English has no
 * table: its text is the msgid.
 */
#ifndef PORTAL_CATALOG_H
#define PORTAL_CATALOG_H

#include <stddef.h>
#include "i18n.h"

struct i18n_pair {
	const char *id;    /* msgid: the English */
	const char *str;   /* msgstr */
};

struct i18n_catalog {
	const struct i18n_pair *pairs;  /* NULL for English */
	size_t n;
};

extern const struct i18n_catalog i18n_catalogs[LANG_COUNT];

#endif
