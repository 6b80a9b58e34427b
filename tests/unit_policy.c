/* unit_policy.c - the password policy (characters, length, name, address,
 * dictionary, strength) and the Argon2id hashes of NFC forms. */
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "check.h"
#include "log.h"
#include "policy.h"

#define MIN 15

static int check(const char *pw)
{
	return policy_check(pw, strlen(pw), "alice", "alice.smith@example.org", MIN);
}

static int check_len(const char *pw, size_t len)
{
	return policy_check(pw, len, "alice", "alice.smith@example.org", MIN);
}

static void accepted(void)
{
	CHECK("a long passphrase is accepted", check("correct horse battery staple") == PW_OK);
	CHECK("no composition rule: lower case and spaces only",
	      check("plum orbit cactus tundra") == PW_OK);
	CHECK("exactly the minimum length", check("plum-Orbit-cac7") == PW_OK);
	/* 15 characters in 27 bytes (Cyrillic) */
	CHECK("non-ASCII UTF-8 accepted and counted in characters",
	      check("\xd0\xbf\xd0\xbe\xd0\xbb\xd0\xb5, \xd0\xbc\xd0\xbe\xd1\x80\xd0\xb5 "
		    "\xd0\xbb\xd0\xb5\xd1\x81\xd0\xb0") == PW_OK);
}

static void lengths(void)
{
	char big[PORTAL_PASSWORD_MAX + 8];

	CHECK("short password refused", check("plum-Orbit-ca7") == PW_TOO_SHORT);
	/* 14 two-byte characters are 28 bytes, still too short */
	CHECK("length counted in characters, not bytes",
	      check("\xc3\xa9\xc3\xa0\xc3\xa8\xc3\xaa\xc3\xa7\xc3\xb4\xc3\xae"
		    "\xc3\xa9\xc3\xa0\xc3\xa8\xc3\xaa\xc3\xa7\xc3\xb4\xc3\xae") == PW_TOO_SHORT);
	for (int i = 0; i < 64; i++)
		big[i] = "plum-Orbit-cactus-42 tundra_Wave "[i % 33];
	CHECK("64 characters accepted", check_len(big, 64) == PW_OK);
	for (int i = 0; i < 257; i++)
		big[i] = (char)('a' + i % 26);
	CHECK("257 characters refused as too long", check_len(big, 257) == PW_TOO_LONG);
	memset(big, 'a', sizeof big);
	CHECK("more than PORTAL_PASSWORD_MAX bytes refused as too long",
	      check_len(big, PORTAL_PASSWORD_MAX + 1) == PW_TOO_LONG);
}

static void encodings(void)
{
	CHECK("invalid byte refused", check("plum-Orbit-cactus\xff-42") == PW_BAD_UTF8);
	CHECK("truncated sequence refused", check("plum-Orbit-cactus-42\xc3") == PW_BAD_UTF8);
	CHECK("overlong slash refused", check("plum-Orbit-cactus\xc0\xaf" "42") == PW_BAD_UTF8);
	CHECK("overlong three-byte form refused",
	      check("plum-Orbit-cactus\xe0\x80\xaf" "42") == PW_BAD_UTF8);
	CHECK("UTF-16 surrogate refused", check("plum-Orbit-cactus\xed\xa0\x80" "42") == PW_BAD_UTF8);
	CHECK("beyond U+10FFFF refused", check("plum-Orbit-cactus\xf4\x90\x80\x80") == PW_BAD_UTF8);
	CHECK("stray continuation byte refused", check("plum-Orbit-cactus\x80" "42") == PW_BAD_UTF8);
	CHECK("control character refused", check("plum-Orbit\x01-cactus-42") == PW_BAD_UTF8);
	CHECK("C1 control refused", check("plum-Orbit\xc2\x85-cactus-42") == PW_BAD_UTF8);
	CHECK("NUL inside refused", check_len("plum-Orbit\0-cactus-42", 21) == PW_BAD_UTF8);
	CHECK("four-byte character accepted",
	      check("plum-Orbit-cactus-\xf0\x9f\x8c\xb5-42") == PW_OK);
}

static void personal(void)
{
	CHECK("user name inside refused", check("my-ALICE-is-tundra-wave") == PW_HAS_USER);
	CHECK("short user names are not searched for",
	      policy_check("al-tundra-wave-orbit", 20, "al", "x@example.org", MIN) == PW_OK);
	CHECK("whole address inside refused",
	      policy_check("xx-ALICE.smith@example.org", 26, "bob", "alice.smith@example.org",
			   MIN) == PW_HAS_EMAIL);
	CHECK("local part of the address inside refused",
	      policy_check("tundra-Alice.Smith-wave", 23, "bob", "alice.smith@example.org",
			   MIN) == PW_HAS_EMAIL);
	CHECK("short local part is not searched for",
	      policy_check("ab-tundra-wave-orbit", 20, "bob", "ab@example.org", MIN) == PW_OK);
}

/* The bypasses of issue 14: the name written so that a byte search misses
 * it, but a person reads it. */
static void folded_names(void)
{
	CHECK("the user name with a zero-width space inside refused",
	      check("tundra-ali\xe2\x80\x8b" "ce-wave-orbit") == PW_HAS_USER);
	CHECK("the user name in full-width letters refused",
	      check("tundra-\xef\xbd\x81\xef\xbd\x8c\xef\xbd\x89\xef\xbd\x83\xef\xbd\x85"
		    "-wave-orbit") == PW_HAS_USER);
	CHECK("the user name in full-width capitals refused",
	      check("tundra-\xef\xbc\xa1\xef\xbc\xac\xef\xbc\xa9\xef\xbc\xa3\xef\xbc\xa5"
		    "-wave-orbit") == PW_HAS_USER);
	CHECK("the user name with a soft hyphen and a word joiner refused",
	      check("tundra-al\xc2\xadi\xe2\x81\xa0" "ce-wave-orbit") == PW_HAS_USER);
	CHECK("the user name with combining marks laid on it refused",
	      check("tundra-a\xcc\xb2l\xcc\xb2i\xcc\xb2" "c\xcc\xb2" "e\xcc\xb2-wave") == PW_HAS_USER);
	CHECK("the address's local part with a zero-width joiner refused",
	      policy_check("tundra-smi\xe2\x80\x8dth.jo-wave-orbit", 29, "bob", "smith.jo@example.org",
			   MIN) == PW_HAS_EMAIL);
	CHECK("the whole address in full-width refused",
	      policy_check("tundra \xef\xbd\x82\xef\xbd\x8f\xef\xbc\xa0x.org wave", 25, "zed",
			   "bo@x.org", MIN) == PW_HAS_EMAIL);
}

/* Composed and decomposed are one password: counted, judged and hashed as
 * its NFC form. */
static void normalised(void)
{
	/* "été à la mer é": 14 characters, 18 code points decomposed */
	const char *nfd14 = "e\xcc\x81te\xcc\x81 a\xcc\x80 la mer e\xcc\x81";
	/* "Noël chez Zoé à Sète", decomposed */
	const char *nfd20 = "Noe\xcc\x88l chez Zoe\xcc\x81 a\xcc\x80 Se\xcc\x80te";

	CHECK("length counted on the NFC form: 14 characters decomposed into 18 are too short",
	      check(nfd14) == PW_TOO_SHORT);
	CHECK("a decomposed passphrase is judged as its composed form: taken",
	      check(nfd20) == PW_OK);
}

static void strength(void)
{
	static const char *const refused[] = {
		/* issue 14, finding 6 */
		"passwordpassword", "qwertyuiopasdfg", "iloveyouiloveyou", "Password!Password!",
		/* the same tricks in French, and on other keyboards */
		"motdepassemotdepasse", "azertyuiopqsdfgh", "jetaimejetaimejetaime",
		"MotDePasse!MotDePasse!", "qwertzuiopasdfgh",
		/* hidden from a byte-wise estimate, not from one on the skeleton */
		"p\xc3\xa4ssw\xc3\xb6rdp\xc3\xa4ssw\xc3\xb6rd",
		"\xef\xbd\x90\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93\xef\xbd\x97\xef\xbd\x8f"
		"\xef\xbd\x92\xef\xbd\x84\xef\xbd\x90\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93"
		"\xef\xbd\x97\xef\xbd\x8f\xef\xbd\x92\xef\xbd\x84",
		"pass\xe2\x80\x8bwordpassword",
		/* a word, a year, again */
		"summer2024summer2024", "Marseille13008!",
	};
	static const char *const taken[] = {
		"correct horse battery staple", "cheval bleu fourchette nuage",
		"orange river piano cloud", "Les sanglots longs des violons",
		"J'aime les cr\xc3\xaapes au beurre sal\xc3\xa9",
		"ma fille L\xc3\xa9" "a est n\xc3\xa9" "e en 2012",
		"tenebreux lilas ; quatre-vingt-dix \xc3\xa9t\xc3\xa9s",
	};

	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		char name[96];

		snprintf(name, sizeof name, "easy to guess, refused: #%zu", i);
		CHECK(name, check(refused[i]) == PW_GUESSABLE || check(refused[i]) == PW_COMMON);
	}
	CHECK("the four of issue 14 are refused as easy to guess, not only as common",
	      check("passwordpassword") == PW_GUESSABLE && check("qwertyuiopasdfg") == PW_GUESSABLE &&
	      check("iloveyouiloveyou") == PW_GUESSABLE && check("Password!Password!") == PW_GUESSABLE);
	for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
		char name[96];

		snprintf(name, sizeof name, "a passphrase people use is taken: %s", taken[i]);
		CHECK(name, check(taken[i]) == PW_OK);
	}
}

static void common(void)
{
	/* cracklib still helps: its dictionary has words zxcvbn's lists lack */
	CHECK("an uncommon dictionary word with digits refused as common (cracklib's dictionary)",
	      check("impenetrably123") == PW_COMMON);
	CHECK("a common word with digits refused", check("password12345678") == PW_GUESSABLE);
	CHECK("run of digits refused", check("123456789012345") == PW_GUESSABLE);
	CHECK("keyboard word refused", check("iloveyou12345678") == PW_GUESSABLE);
	CHECK("one repeated letter refused (a palindrome for libpwquality)",
	      check("aaaaaaaaaaaaaaaaaaa") == PW_COMMON);
	/* cracklib calls it "too simplistic/systematic" for a few pairs of
	 * neighbouring letters (de, no, on, st...): its shape rules are left
	 * to zxcvbn, only its dictionary counts. */
	CHECK("a line of a poem cracklib calls systematic is taken",
	      check("Les sanglots longs des violons de l'automne") == PW_OK);
	CHECK("the alphabet is refused all the same (zxcvbn: a sequence)",
	      check("abcdefghijklmnopqrstuvwxyz") == PW_GUESSABLE);
}

/* The longest forms fit: a password of 1023 bytes whose NFC form is twice
 * as long (U+0958, a Devanagari letter that NFC decomposes in two). */
static void long_forms(void)
{
	char pw[PORTAL_PASSWORD_MAX];

	for (size_t i = 0; i + 3 <= sizeof pw; i += 3)
		memcpy(pw + i, "\xe0\xa5\x98", 3);
	CHECK("a 1023-byte password whose NFC form is 2046 bytes: judged (too long: 682 "
	      "code points), no overflow", check_len(pw, sizeof pw - 1) == PW_TOO_LONG);
	CHECK("128 such characters (384 bytes, 256 code points as NFC) are judged on their "
	      "merits (one letter repeated)", check_len(pw, 3 * 128) != PW_OK &&
	      check_len(pw, 3 * 128) != PW_TOO_LONG && check_len(pw, 3 * 128) != POLICY_ERROR);
}

static void hashes(void)
{
	char h[crypto_pwhash_STRBYTES], old[crypto_pwhash_STRBYTES];
	const char *pw = "correct horse battery staple";
	sem_t slots;
	int value = -1;

	sem_init(&slots, 0, 1);
	CHECK("hash made", policy_hash(&slots, pw, strlen(pw), h) == 0);
	CHECK("hash is Argon2id with our parameters",
	      strncmp(h, "$argon2id$", 10) == 0 && strstr(h, "m=19456,t=2,"));
	CHECK("right password verifies", policy_verify(&slots, h, pw, strlen(pw), NULL));
	CHECK("wrong password does not",
	      !policy_verify(&slots, h, "correct horse battery stapl", 27, NULL));
	CHECK("prefix of the password does not", !policy_verify(&slots, h, pw, strlen(pw) - 1, NULL));
	CHECK("garbage hash never verifies",
	      !policy_verify(&slots, "$argon2id$junk", pw, strlen(pw), NULL));
	CHECK("our hash needs no rehash", !policy_needs_rehash(h));
	CHECK("a hash with other parameters needs one",
	      crypto_pwhash_str(old, pw, strlen(pw), 3, 8 * 1024 * 1024) == 0 &&
	      policy_needs_rehash(old));
	sem_getvalue(&slots, &value);
	CHECK("hash slot given back", value == 1);
	sem_destroy(&slots);
}

/* What is hashed is the NFC form; a hash made before that, of decomposed
 * bytes, still verifies when they are typed again, and says it is stale. */
static void nfc_hashes(void)
{
	const char *nfc = "cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e du dimanche";
	const char *nfd = "cre\xcc\x80me bru\xcc\x82le\xcc\x81" "e du dimanche";
	const char *wrong = "cre\xcc\x80me bru\xcc\x82le\xcc\x81" "e du lundi";
	char h[crypto_pwhash_STRBYTES], old[crypto_pwhash_STRBYTES];
	bool stale = true;
	sem_t slots;

	sem_init(&slots, 0, 1);
	CHECK("NFC: the hash of the decomposed form is made",
	      policy_hash(&slots, nfd, strlen(nfd), h) == 0);
	CHECK("NFC: the composed form verifies against it, not stale",
	      policy_verify(&slots, h, nfc, strlen(nfc), &stale) && !stale);
	CHECK("NFC: so does the decomposed one",
	      policy_verify(&slots, h, nfd, strlen(nfd), &stale) && !stale);
	CHECK("NFC: the hash is the NFC form's (crypto_pwhash_str_verify of the NFC bytes)",
	      crypto_pwhash_str_verify(h, nfc, strlen(nfc)) == 0);
	/* a hash of the decomposed bytes themselves, as before the change */
	CHECK("old hash of decomposed bytes made",
	      crypto_pwhash_str(old, nfd, strlen(nfd), POLICY_OPSLIMIT, POLICY_MEMLIMIT) == 0);
	stale = false;
	CHECK("old decomposed hash: the same bytes still verify, and it is said stale",
	      policy_verify(&slots, old, nfd, strlen(nfd), &stale) && stale);
	CHECK("old decomposed hash: a wrong password does not verify, not stale",
	      !policy_verify(&slots, old, wrong, strlen(wrong), &stale) && !stale);
	CHECK("bytes that are not UTF-8 never verify against an NFC hash",
	      !policy_verify(&slots, h, "cr\xffme", 6, &stale) && !stale);
	CHECK("not UTF-8: no hash is made", policy_hash(&slots, "cr\xffme", 6, h) == -1);
	sem_destroy(&slots);
}

int main(void)
{
	log_open(true);
	if (sodium_init() < 0)
		return 1;
	accepted();
	lengths();
	encodings();
	personal();
	common();
	long_forms();
	folded_names();
	normalised();
	strength();
	hashes();
	nfc_hashes();
	CHECK("reasons have names for the log", strcmp(policy_reason_name(PW_COMMON), "common") == 0 &&
	      strcmp(policy_reason_name(PW_GUESSABLE), "easy to guess") == 0 &&
	      strcmp(policy_reason_name(POLICY_ERROR), "check failed") == 0 &&
	      strcmp(policy_reason_name(99), "check failed") == 0);
	return check_done();
}
