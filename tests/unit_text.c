/* unit_text.c - every message of pam_portal.so exists in French and
 * English, both carry exactly the printf conversions the code passes
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
static bool ending_right(const struct text *t)
{
	if (t->prompt)
		return ends_with(t->t.fr, " : ") && ends_with(t->t.en, ": ") &&
		       !ends_with(t->t.en, " : ");
	return ends_with(t->t.fr, ".") && ends_with(t->t.en, ".");
}

int main(void)
{
	char name[64], fr[16], en[16];
	bool all_fr_differ = true;

	for (int id = 0; id < TX_COUNT; id++) {
		const struct text *t = &text_table[id];
		bool both = t->t.fr && t->t.en && t->t.fr[0] && t->t.en[0] && t->args;

		snprintf(name, sizeof name, "message %d is written in both languages", id);
		CHECK(name, both);
		if (!both)
			continue;
		snprintf(name, sizeof name, "message %d uses only %%s and %%u", id);
		CHECK(name, conversions(t->t.fr, fr, sizeof fr) && conversions(t->t.en, en, sizeof en));
		snprintf(name, sizeof name, "message %d: French conversions are \"%s\"", id, t->args);
		CHECK(name, strcmp(fr, t->args) == 0);
		snprintf(name, sizeof name, "message %d: English conversions are \"%s\"", id, t->args);
		CHECK(name, strcmp(en, t->args) == 0);
		snprintf(name, sizeof name, "message %d ends as a %s should", id,
			 t->prompt ? "prompt" : "sentence");
		CHECK(name, ending_right(t));
		if (strcmp(t->t.fr, t->t.en) == 0)
			all_fr_differ = false;
	}
	CHECK("no message is left untranslated (French differs from English)", all_fr_differ);
	CHECK("text() picks French", text(LANG_FR, TX_CANCELLED) == text_table[TX_CANCELLED].t.fr);
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
