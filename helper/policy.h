/*
 * policy.h - what a new password must be, and its Argon2id hash.
 *
 * No composition rules (NIST SP 800-63B): a long enough string of any
 * printable UTF-8, refused only when it is common (cracklib's dictionary,
 * through libpwquality as pam_pwquality uses it) or carries the user's name
 * or address.  Hashing and checking take a slot of the caller's semaphore,
 * which bounds the memory Argon2id may take at once; callers must not hold
 * the store lock meanwhile.
 */
#ifndef PORTAL_POLICY_H
#define PORTAL_POLICY_H

#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <sodium.h>
#include "proto.h"

/* OWASP's minimum for Argon2id: 2 passes over 19 MiB. */
#define POLICY_OPSLIMIT     2ULL
#define POLICY_MEMLIMIT     (19ULL * 1024 * 1024)
#define POLICY_CHARS_MAX    256   /* code points; bytes are PORTAL_PASSWORD_MAX */
#define POLICY_NAME_MIN     3     /* shorter names and local parts are not searched for */
#define POLICY_DICT         "/var/cache/cracklib/cracklib_dict"
#define POLICY_ERROR        (-1)

/* An enum policy_reason (PW_OK when acceptable) for the len bytes at pw,
 * or POLICY_ERROR when the check itself could not run (no dictionary: the
 * caller refuses, fail closed; the cause is logged). */
int policy_check(const char *pw, size_t len, const char *user, const char *email,
		 unsigned min_chars);

/* A few words for logs: "too short", "common", ... */
const char *policy_reason_name(int reason);

/* Argon2id string of the password into out; 0 or -1 (out of memory). */
int policy_hash(sem_t *slots, const char *pw, size_t len, char out[crypto_pwhash_STRBYTES]);
/* Does the password match the stored string?  Constant time. */
bool policy_verify(sem_t *slots, const char *hash, const char *pw, size_t len);
/* Was the string made with other parameters than ours? */
bool policy_needs_rehash(const char *hash);

#endif
