/* unit_code.c - codes and tickets: their shape, their randomness, and the
 * keyed hashes that stand in for them in the database. */
#include <string.h>
#include <sodium.h>
#include "check.h"
#include "code.h"

#define SAMPLES 5000

static bool all_digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static void shapes(void)
{
	char c[PORTAL_CODE_MAX + 1];

	code_make(c, 6);
	CHECK("six-digit code", all_digits(c, 6));
	code_make(c, 10);
	CHECK("ten-digit code", all_digits(c, 10));
	code_make(c, 42);
	CHECK("length clamped to PORTAL_CODE_MAX", all_digits(c, PORTAL_CODE_MAX));
	code_make(c, 0);
	CHECK("length at least one digit", all_digits(c, 1));
}

/* Every digit shows up in every position: catches a stuck or biased digit
 * (the chance that a fair generator misses one is below 1e-200). */
static void spread(void)
{
	unsigned seen[6][10] = { { 0 } };
	char c[PORTAL_CODE_MAX + 1];
	bool all = true, distinct = false;
	char first[PORTAL_CODE_MAX + 1];

	code_make(first, 6);
	for (int i = 0; i < SAMPLES; i++) {
		code_make(c, 6);
		for (int p = 0; p < 6; p++)
			seen[p][c[p] - '0']++;
		distinct |= strcmp(c, first) != 0;
	}
	for (int p = 0; p < 6; p++)
		for (int d = 0; d < 10; d++)
			all &= seen[p][d] > SAMPLES / 10 / 2;
	CHECK("every digit common in every position", all);
	CHECK("codes differ from one another", distinct);
}

static void hashes(void)
{
	struct portal_keys k1, k2;
	uint8_t h1[CODE_HASH_LEN], h2[CODE_HASH_LEN];
	uint8_t t1[PORTAL_TICKET_LEN], t2[PORTAL_TICKET_LEN];

	randombytes_buf(&k1, sizeof k1);
	randombytes_buf(&k2, sizeof k2);
	code_hash(&k1, "alice", "123456", 6, h1);
	code_hash(&k1, "alice", "123456", 6, h2);
	CHECK("hash is deterministic", memcmp(h1, h2, sizeof h1) == 0);
	CHECK("right code matches", code_matches(&k1, "alice", "123456", 6, h1));
	CHECK("wrong code does not match", !code_matches(&k1, "alice", "123457", 6, h1));
	CHECK("shorter code does not match", !code_matches(&k1, "alice", "12345", 5, h1));
	CHECK("code with a letter does not match", !code_matches(&k1, "alice", "12345a", 6, h1));
	CHECK("same code for another user does not match",
	      !code_matches(&k1, "bob", "123456", 6, h1));
	CHECK("same code under another key does not match",
	      !code_matches(&k2, "alice", "123456", 6, h1));
	code_hash(&k1, "ab", "1", 1, h1);
	code_hash(&k1, "a", "b1", 2, h2);
	CHECK("user/code boundary is part of the hash", memcmp(h1, h2, sizeof h1) != 0);
	CHECK("hash is not the code itself", memcmp(h1, "1", 1) != 0 || h1[1] != 0);

	ticket_make(t1);
	ticket_make(t2);
	CHECK("tickets differ", memcmp(t1, t2, sizeof t1) != 0);
	code_hash(&k1, "alice", t1, sizeof t1, h1);
	CHECK("ticket matches its hash", code_matches(&k1, "alice", t1, sizeof t1, h1));
	CHECK("other ticket does not", !code_matches(&k1, "alice", t2, sizeof t2, h1));
	CHECK("truncated ticket does not", !code_matches(&k1, "alice", t1, sizeof t1 - 1, h1));
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	shapes();
	spread();
	hashes();
	return check_done();
}
