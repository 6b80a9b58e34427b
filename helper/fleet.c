/*
 * fleet.c - the settings a fleet shares, as storage_agree takes them.
 * See fleet.h.
 */
#include "fleet.h"

#include <stdio.h>
#include <string.h>
#include <sodium.h>

/* The key file's fingerprint: a keyed hash of a fixed text under each
 * key, which tells nothing of the keys but differs with either. */
static void key_fingerprint(const struct portal_keys *k, char *out, size_t cap)
{
	static const char text[] = "pam_portal: the machines share this key";
	uint8_t h[2][8];

	crypto_generichash(h[0], sizeof h[0], (const uint8_t *)text, sizeof text - 1, k->code,
			   sizeof k->code);
	crypto_generichash(h[1], sizeof h[1], (const uint8_t *)text, sizeof text - 1, k->outbox,
			   sizeof k->outbox);
	sodium_bin2hex(out, cap, h[0], sizeof h);
}

static void number(struct storage_setting *s, const char *name, unsigned v)
{
	s->name = name;
	snprintf(s->value, sizeof s->value, "%u", v);
}

/* The settings that decide what a member may do, and the key: the same
 * member must meet the same rules whichever machine they sign in on. */
static size_t fleet_settings(const struct portal_config *cfg, const struct portal_keys *k,
			     struct storage_setting *set)
{
	size_t n = 0;

	set[n].name = "key_file";
	key_fingerprint(k, set[n++].value, sizeof set[0].value);
	set[n].name = "cutover";
	snprintf(set[n++].value, sizeof set[0].value, "%s", cfg->cutover_str);
	number(&set[n++], "code_length", cfg->code_length);
	number(&set[n++], "code_ttl", cfg->code_ttl);
	number(&set[n++], "code_attempts", cfg->code_attempts);
	number(&set[n++], "resend_interval", cfg->resend_interval);
	number(&set[n++], "codes_per_hour", cfg->codes_per_hour);
	number(&set[n++], "lockout", cfg->lockout);
	number(&set[n++], "max_failures", cfg->max_failures);
	number(&set[n++], "password_min_length", cfg->password_min_length);
	return n;
}

int fleet_check(struct storage *st, const struct portal_config *cfg,
		const struct portal_keys *k, char *err, size_t errlen)
{
	struct storage_setting set[16];
	size_t n = fleet_settings(cfg, k, set);
	struct storage_conn *c = storage_connect(st, err, errlen);
	char why[512];
	int rc;

	if (!c)
		return -1;
	rc = storage_agree(c, set, n, why, sizeof why);
	storage_disconnect(c);
	sodium_memzero(set, sizeof set);
	if (rc == STORAGE_OK)
		return 0;
	snprintf(err, errlen, "postgresql: %s", why);
	return -1;
}
