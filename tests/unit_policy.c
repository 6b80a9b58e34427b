/* unit_policy.c - the password policy (characters, length, name, address,
 * dictionary) and the Argon2id hashes. */
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

static void common(void)
{
	CHECK("dictionary word with digits refused", check("password12345678") == PW_COMMON);
	CHECK("run of digits refused", check("123456789012345") == PW_COMMON);
	CHECK("keyboard word refused", check("iloveyou12345678") == PW_COMMON);
	CHECK("one repeated letter refused", check("aaaaaaaaaaaaaaaaaaa") == PW_COMMON);
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
	CHECK("right password verifies", policy_verify(&slots, h, pw, strlen(pw)));
	CHECK("wrong password does not", !policy_verify(&slots, h, "correct horse battery stapl", 27));
	CHECK("prefix of the password does not", !policy_verify(&slots, h, pw, strlen(pw) - 1));
	CHECK("garbage hash never verifies", !policy_verify(&slots, "$argon2id$junk", pw, strlen(pw)));
	CHECK("our hash needs no rehash", !policy_needs_rehash(h));
	CHECK("a hash with other parameters needs one",
	      crypto_pwhash_str(old, pw, strlen(pw), 3, 8 * 1024 * 1024) == 0 &&
	      policy_needs_rehash(old));
	sem_getvalue(&slots, &value);
	CHECK("hash slot given back", value == 1);
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
	hashes();
	CHECK("reasons have names for the log", strcmp(policy_reason_name(PW_COMMON), "common") == 0 &&
	      strcmp(policy_reason_name(POLICY_ERROR), "check failed") == 0 &&
	      strcmp(policy_reason_name(99), "check failed") == 0);
	return check_done();
}
