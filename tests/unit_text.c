/* unit_text.c - every message of pam_portal.so exists in French and
 * English (the French from po/fr.po, through the generated catalogue),
 * both carry exactly the printf conversions the code passes
 * (text_table[].args), and every question ends the way prompts end. */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "../pam_portal/text.h"

/* The conversions of a format, in order, as letters ("s", "u");
 * false on anything but %s, %u and %%: a width, a flag or %n in a
 * message would be a mistake. */
static bool conversions(const char *fmt, char *out, size_t cap)
{
	size_t n = 0;

	for (const char *p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == '%')
			continue;
		if ((*p != 's' && *p != 'u') || n + 1 >= cap)
			return false;
		out[n++] = *p;
	}
	out[n] = '\0';
	return true;
}

static bool ends_with(const char *s, const char *end)
{
	size_t a = strlen(s), b = strlen(end);

	return a >= b && strcmp(s + a - b, end) == 0;
}

/* A French prompt ends " : " and an English one ": " with no space
 * before the colon; a message that is not a question ends its sentence. */
static bool ending_right(const struct text *t, const char *fr, const char *en)
{
	if (t->prompt)
		return ends_with(fr, " : ") && ends_with(en, ": ") && !ends_with(en, " : ");
	return ends_with(fr, ".") && ends_with(en, ".");
}

int main(void)
{
	char name[64], fr[16], en[16];
	bool all_fr_differ = true;

	for (int id = 0; id < TX_COUNT; id++) {
		const struct text *t = &text_table[id];
		const char *f = text(LANG_FR, (enum text_id)id), *e = text(LANG_EN, (enum text_id)id);
		bool both = f && e && f[0] && e[0] && t->args;

		snprintf(name, sizeof name, "message %d is written in both languages", id);
		CHECK(name, both);
		if (!both)
			continue;
		snprintf(name, sizeof name, "message %d uses only %%s and %%u", id);
		CHECK(name, conversions(f, fr, sizeof fr) && conversions(e, en, sizeof en));
		snprintf(name, sizeof name, "message %d: French conversions are \"%s\"", id, t->args);
		CHECK(name, strcmp(fr, t->args) == 0);
		snprintf(name, sizeof name, "message %d: English conversions are \"%s\"", id, t->args);
		CHECK(name, strcmp(en, t->args) == 0);
		snprintf(name, sizeof name, "message %d ends as a %s should", id,
			 t->prompt ? "prompt" : "sentence");
		CHECK(name, ending_right(t, f, e));
		if (strcmp(f, e) == 0)
			all_fr_differ = false;
	}
	CHECK("no message is left untranslated (French differs from English)", all_fr_differ);
	CHECK("text() picks French (from po/fr.po)",
	      strcmp(text(LANG_FR, TX_CANCELLED), "Annulé : rien n'a été modifié.") == 0);
	CHECK("text() picks English", text(LANG_EN, TX_CANCELLED) == text_table[TX_CANCELLED].t.en);
	CHECK("the reference wording: \"code de vérification\"",
	      strstr(text(LANG_FR, TX_ASK_CODE), "Code de vérification") != NULL);
	CHECK("the reference wording: \"envoyer un nouveau code\"",
	      strstr(text(LANG_FR, TX_ASK_CODE), "envoyer un nouveau code") != NULL);
	CHECK("the reference wording: \"modifier l'adresse\"",
	      strstr(text(LANG_FR, TX_ASK_CONTINUE), "modifier l'adresse") != NULL);
	CHECK("the reference wording: \"annuler\"",
	      strstr(text(LANG_FR, TX_ASK_CONTINUE), "annuler") != NULL);
	return check_done();
}
