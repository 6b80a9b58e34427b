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

/* The keyed hash of the user's name, then label and its NUL when there is
 * one, then the parts; outlen bytes.  The NULs end the name and the label:
 * "ab"+"1..." and "a"+"b1..." hash apart. */
static void keyed(const struct portal_keys *k, const char *user, const char *label,
		  const void *a, size_t alen, const void *b, size_t blen,
		  uint8_t *out, size_t outlen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, k->code, sizeof k->code, outlen);
	crypto_generichash_update(&st, (const unsigned char *)user, strlen(user) + 1);
	if (label)
		crypto_generichash_update(&st, (const unsigned char *)label, strlen(label) + 1);
	crypto_generichash_update(&st, a, alen);
	if (b)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, outlen);
	sodium_memzero(&st, sizeof st);
}

void code_hash(const struct portal_keys *k, const char *user,
	       const void *secret, size_t len, uint8_t out[CODE_HASH_LEN])
{
	keyed(k, user, NULL, secret, len, NULL, 0, out, CODE_HASH_LEN);
}

void code_handle_make(uint8_t out[PORTAL_REQUEST_LEN])
{
	randombytes_buf(out, PORTAL_REQUEST_LEN);
}

void code_hash_bound(const struct portal_keys *k, const char *user,
		     const uint8_t handle[PORTAL_REQUEST_LEN], const void *code, size_t len,
		     uint8_t out[CODE_HASH_LEN])
{
	keyed(k, user, "code", handle, PORTAL_REQUEST_LEN, code, len, out, CODE_HASH_LEN);
}

bool code_matches_bound(const struct portal_keys *k, const char *user,
			const uint8_t handle[PORTAL_REQUEST_LEN], const void *code, size_t len,
			const uint8_t hash[CODE_HASH_LEN])
{
	uint8_t h[CODE_HASH_LEN];
	bool same;

	code_hash_bound(k, user, handle, code, len, h);
	same = sodium_memcmp(h, hash, CODE_HASH_LEN) == 0;
	sodium_memzero(h, sizeof h);
	return same;
}

void code_tag(const struct portal_keys *k, const char *user, const char *label,
	      const void *data, size_t len, uint8_t out[CODE_TAG_LEN])
{
	keyed(k, user, label, data, len, NULL, 0, out, CODE_TAG_LEN);
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
