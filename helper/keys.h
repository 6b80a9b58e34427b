/*
 * keys.h - the helper's secret keys, kept in a file of their own (key_file:
 * by default DATABASE.key beside the database; mode 0600, made at the
 * first start), never inside the database: a copy of the database alone
 * reveals no queued mail, and lets nobody check a guess at a code.
 * Subkeys are derived with crypto_kdf and kept in locked memory.
 *
 * The database holds a check value of its key ("m:key-check", made from a
 * subkey of its own, which tells nothing of the others): a key file that
 * is not the database's is refused at start, rather than every live code,
 * ticket and queued mail silently made unreadable.
 */
#ifndef PORTAL_KEYS_H
#define PORTAL_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct store;

struct portal_keys {
	uint8_t code[32];    /* keyed hash of codes and reset tickets */
	uint8_t outbox[32];  /* secretbox key of queued mail */
	uint8_t check[32];   /* what the database keeps to know its key */
};

/* Load (or create) the key file at key_path, owned by the effective uid.
 * Returns a sodium_malloc'ed, mlock'ed struct, or NULL with err set. */
struct portal_keys *keys_load(const char *key_path, char *err, size_t errlen);
/* The same for a portald started as root that will run as `owner`: the
 * file must belong to owner (or root, and is then given to owner). */
struct portal_keys *keys_load_owned(const char *key_path, uid_t owner, gid_t group,
				    char *err, size_t errlen);
/* What keys_load_owned would find wrong with the key file, without making
 * or changing it: 0 it is fine, 1 there is none yet (the first start
 * makes it), -1 with err saying why portald would refuse it. */
int keys_check(const char *key_path, uid_t owner, char *err, size_t errlen);
/* Are these the keys of the database in st?  A database that has no check
 * value yet (new, or of an older version) is given theirs.  0, or -1 with
 * err (takes the store lock). */
int keys_match(const struct portal_keys *k, struct store *st, const char *key_path,
	       char *err, size_t errlen);
void keys_free(struct portal_keys *k);

#endif
