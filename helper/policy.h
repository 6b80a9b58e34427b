/*
 * policy.h - what a new password must be, and its Argon2id hash.
 *
 * No composition rules (NIST SP 800-63B): a long enough string of any
 * printable UTF-8, refused only when it carries the user's name or
 * address (however written: unicode.h), is common (cracklib's dictionary,
 * through libpwquality as pam_pwquality uses it), or is easy to guess
 * (zxcvbn's estimate: common words, names, keyboard rows, sequences,
 * repeats, dates).  What is hashed is the password's NFC form.  Hashing
 * and checking take a slot of the caller's semaphore, which bounds the
 * memory Argon2id may take at once; callers must not hold the store lock
 * meanwhile.
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
/* Bytes of a password's forms: NFC is at most three times as long as its
 * text (UAX #15), a compatibility form seldom more. */
#define POLICY_FORM_MAX     (4 * PORTAL_PASSWORD_MAX + 1)
/* Fewer guesses than 10^10 (2^33.2) by zxcvbn's estimate is too easy to
 * guess: zxcvbn's own line for a password safe against an offline attack
 * on a slow hash (its score 4), which a copy of the database is
 * (Argon2id with OWASP's parameters: thousands of guesses a second on
 * one machine at most, so 10^10 takes it a month for each password). */
#define POLICY_GUESSES_LOG2 33.22
#define POLICY_ERROR        (-1)

/* An enum policy_reason (PW_OK when acceptable) for the len bytes at pw,
 * or POLICY_ERROR when the check itself could not run (no dictionary: the
 * caller refuses, fail closed; the cause is logged). */
int policy_check(const char *pw, size_t len, const char *user, const char *email,
		 unsigned min_chars);

/* A few words for logs: "too short", "common", ... */
const char *policy_reason_name(int reason);

/* Argon2id string of the password's NFC form into out; 0 or -1 (out of
 * memory, or not UTF-8). */
int policy_hash(sem_t *slots, const char *pw, size_t len, char out[crypto_pwhash_STRBYTES]);
/* Does the password match the stored string?  Constant time.  Its NFC form
 * is tried, then, when that differs, the bytes as typed: a hash made
 * before passwords were normalised.  *stale (when not NULL) says that only
 * those matched: the caller stores policy_hash() of the password instead,
 * after which either form signs in. */
bool policy_verify(sem_t *slots, const char *hash, const char *pw, size_t len, bool *stale);
/* Was the string made with other parameters than ours? */
bool policy_needs_rehash(const char *hash);

#endif
