/*
 * keys.h - the helper's secret keys, kept in a file beside the database
 * (DATABASE.key, mode 0600, made on first start), never inside it: a copy
 * of the database alone reveals no code and no queued mail.
 * Subkeys are derived with crypto_kdf and kept in locked memory.
 */
#ifndef PORTAL_KEYS_H
#define PORTAL_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct portal_keys {
	uint8_t code[32];    /* keyed hash of codes and reset tickets */
	uint8_t outbox[32];  /* secretbox key of queued mail */
};

/* Load (or create) the key file for the database at db_path, owned by the
 * effective uid.  Returns a sodium_malloc'ed, mlock'ed struct, or NULL
 * with err set. */
struct portal_keys *keys_load(const char *db_path, char *err, size_t errlen);
/* The same for a portald started as root that will run as `owner`: the
 * file must belong to owner (or root, and is then given to owner). */
struct portal_keys *keys_load_owned(const char *db_path, uid_t owner, gid_t group,
				    char *err, size_t errlen);
/* What keys_load_owned would find wrong with the key file, without making
 * or changing it: 0 it is fine, 1 there is none yet (the first start
 * makes it), -1 with err saying why portald would refuse it. */
int keys_check(const char *db_path, uid_t owner, char *err, size_t errlen);
void keys_free(struct portal_keys *k);

#endif
