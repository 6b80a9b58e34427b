/* unit_unicode.c - the forms of a password (helper/unicode.c): NFC, the
 * skeleton the strength estimate reads, the folded form names are looked
 * for in. */
#include <string.h>
#include "check.h"
#include "unicode.h"

/* Does the form of in equal want? */
static int form_is(const char *in, enum ustr_form form, const char *want)
{
	char out[256];
	ssize_t n = ustr_form(in, strlen(in), form, out, sizeof out);

	return n == (ssize_t)strlen(want) && strcmp(out, want) == 0;
}

static void nfc(void)
{
	CHECK("NFC: e + combining acute becomes é",
	      form_is("caf" "e\xcc\x81", USTR_NFC, "caf\xc3\xa9"));
	CHECK("NFC: already composed text is left as it is",
	      form_is("caf\xc3\xa9 cr\xc3\xa8me", USTR_NFC, "caf\xc3\xa9 cr\xc3\xa8me"));
	CHECK("NFC: ASCII is left as it is", form_is("Plain ASCII 42!", USTR_NFC, "Plain ASCII 42!"));
	CHECK("NFC: two marks in canonical order (dot below before circumflex)",
	      form_is("e\xcc\x82\xcc\xa3", USTR_NFC, "\xe1\xbb\x87"));
	CHECK("NFC keeps case, width and invisible characters (they are the password)",
	      form_is("A\xef\xbd\x82\xe2\x80\x8b" "c", USTR_NFC, "A\xef\xbd\x82\xe2\x80\x8b" "c"));
	CHECK("NFC: the empty string", form_is("", USTR_NFC, ""));
}

static void skeleton(void)
{
	CHECK("skeleton: full-width letters become the usual ones, case kept",
	      form_is("\xef\xbc\xb0\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93", USTR_SKELETON, "Pass"));
	CHECK("skeleton: zero-width space, joiner and soft hyphen removed",
	      form_is("pa\xe2\x80\x8bss\xe2\x80\x8dwo\xc2\xadrd", USTR_SKELETON, "password"));
	CHECK("skeleton: accents removed, composed or not",
	      form_is("cr\xc3\xaapes sal" "e\xcc\x81" "es", USTR_SKELETON, "crepes salees"));
	CHECK("skeleton: a ligature becomes its letters",
	      form_is("\xef\xac\x81ne", USTR_SKELETON, "fine"));
	CHECK("skeleton: a variation selector removed",
	      form_is("a\xef\xb8\x8f" "b", USTR_SKELETON, "ab"));
}

static void folded(void)
{
	CHECK("folded: case folded",
	      form_is("ALICE Smith", USTR_FOLDED, "alice smith"));
	CHECK("folded: full-width capitals folded to ASCII lower case",
	      form_is("\xef\xbc\xa1\xef\xbc\xac\xef\xbc\xa9\xef\xbc\xa3\xef\xbc\xa5", USTR_FOLDED,
		      "alice"));
	CHECK("folded: sharp s folds to ss", form_is("Stra\xc3\x9f" "e", USTR_FOLDED, "strasse"));
	CHECK("folded: invisible characters and marks removed",
	      form_is("A\xe2\x81\xa0l\xcc\xb2i\xe2\x80\x8c" "CE", USTR_FOLDED, "alice"));
}

static void limits(void)
{
	char small[4];

	CHECK("not UTF-8: refused", ustr_form("ab\xff", 3, USTR_NFC, small, sizeof small) == -1);
	CHECK("a form that does not fit: refused, not cut",
	      ustr_form("abcd", 4, USTR_NFC, small, sizeof small) == -1);
	CHECK("a form that just fits", ustr_form("abc", 3, USTR_NFC, small, sizeof small) == 3 &&
	      strcmp(small, "abc") == 0);
	CHECK("the length is given, not read to a NUL",
	      ustr_form("abcdef", 2, USTR_NFC, small, sizeof small) == 2 && strcmp(small, "ab") == 0);
}

int main(void)
{
	nfc();
	skeleton();
	folded();
	limits();
	return check_done();
}
