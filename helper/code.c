/*
 * code.c - verification codes and reset tickets: made from libsodium's
 * generator, kept only as keyed hashes, compared in constant time.
 */
#include "code.h"

#include <string.h>
#include <sodium.h>

void code_make(char *out, unsigned ndigits)
{
	if (ndigits < 1)
		ndigits = 1;
	if (ndigits > PORTAL_CODE_MAX)
		ndigits = PORTAL_CODE_MAX;
	/* One uniform digit at a time: no modulo bias, and leading zeros are
	 * as likely as any other digit. */
	for (unsigned i = 0; i < ndigits; i++)
		out[i] = (char)('0' + randombytes_uniform(10));
	out[ndigits] = '\0';
}

void ticket_make(uint8_t out[PORTAL_TICKET_LEN])
{
	randombytes_buf(out, PORTAL_TICKET_LEN);
}

void code_hash(const struct portal_keys *k, const char *user,
	       const void *secret, size_t len, uint8_t out[CODE_HASH_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, k->code, sizeof k->code, CODE_HASH_LEN);
	/* The NUL ends the name: "ab"+"1..." and "a"+"b1..." hash apart. */
	crypto_generichash_update(&st, (const unsigned char *)user, strlen(user) + 1);
	crypto_generichash_update(&st, secret, len);
	crypto_generichash_final(&st, out, CODE_HASH_LEN);
	sodium_memzero(&st, sizeof st);
}

bool code_matches(const struct portal_keys *k, const char *user,
		  const void *secret, size_t len, const uint8_t hash[CODE_HASH_LEN])
{
	uint8_t h[CODE_HASH_LEN];
	bool same;

	code_hash(k, user, secret, len, h);
	same = sodium_memcmp(h, hash, CODE_HASH_LEN) == 0;
	sodium_memzero(h, sizeof h);
	return same;
}
