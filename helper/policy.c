/*
 * policy.c - the password policy and the Argon2id hashes.
 *
 * Order of the checks: what the bytes are (UTF-8, length), then what they
 * say (the user's name or address, then the dictionary), so the reason
 * given to the person is the first thing they can fix.
 */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <pwquality.h>
#include "log.h"
#include "utf8.h"

/* cracklib keeps its work in static buffers: one check at a time. */
static pthread_mutex_t dict_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- characters ----------------------------------------------------------- */

/* Code points in pw, or -1 when it is not printable UTF-8. */
static long count_chars(const char *pw, size_t len)
{
	const unsigned char *s = (const unsigned char *)pw;
	long chars = 0;

	for (size_t i = 0; i < len; chars++) {
		uint32_t cp;
		size_t step = utf8_next(s + i, len - i, &cp);

		if (step == 0 || utf8_is_control(cp))
			return -1;
		i += step;
	}
	return chars;
}

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 'a' - 'A') : c;
}

/* Does hay (n bytes) contain needle (m bytes), ignoring ASCII case? */
static bool contains_nocase(const char *hay, size_t n, const char *needle, size_t m)
{
	for (size_t i = 0; m > 0 && i + m <= n; i++) {
		size_t j = 0;

		while (j < m && ascii_lower((unsigned char)hay[i + j]) ==
				ascii_lower((unsigned char)needle[j]))
			j++;
		if (j == m)
			return true;
	}
	return false;
}

static bool has_user(const char *pw, size_t len, const char *user)
{
	size_t m = strlen(user);

	return m >= POLICY_NAME_MIN && contains_nocase(pw, len, user, m);
}

static bool has_email(const char *pw, size_t len, const char *email)
{
	const char *at = strchr(email, '@');
	size_t local = at ? (size_t)(at - email) : 0;

	if (email[0] && contains_nocase(pw, len, email, strlen(email)))
		return true;
	return local >= POLICY_NAME_MIN && contains_nocase(pw, len, email, local);
}

/* ---- dictionary ----------------------------------------------------------- */

static bool dict_readable(void)
{
	static const char *const parts[] = { POLICY_DICT ".pwd", POLICY_DICT ".pwi" };

	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		int fd = open(parts[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			log_msg(LOG_ERR, "password dictionary %s: %s (install cracklib-runtime); "
				"refusing new passwords until it is there", parts[i], strerror(errno));
			return false;
		}
		close(fd);
	}
	return true;
}

/* Only the dictionary: libpwquality's own rules are composition rules we
 * do not want, and /etc/security/pwquality.conf is the system's policy for
 * other passwords, not ours, so it is never read. */
static pwquality_settings_t *dict_settings(void)
{
	static const struct { int setting, value; } off[] = {
		{ PWQ_SETTING_DIFF_OK, 0 },
		{ PWQ_SETTING_MIN_LENGTH, 0 },   /* raised to the library's floor */
		{ PWQ_SETTING_DIG_CREDIT, 0 },
		{ PWQ_SETTING_UP_CREDIT, 0 },
		{ PWQ_SETTING_LOW_CREDIT, 0 },
		{ PWQ_SETTING_OTH_CREDIT, 0 },
		{ PWQ_SETTING_MIN_CLASS, 0 },
		{ PWQ_SETTING_MAX_REPEAT, 0 },
		{ PWQ_SETTING_MAX_CLASS_REPEAT, 0 },
		{ PWQ_SETTING_MAX_SEQUENCE, 0 },
		{ PWQ_SETTING_GECOS_CHECK, 0 },
		{ PWQ_SETTING_USER_CHECK, 0 },
		{ PWQ_SETTING_DICT_CHECK, 1 },
	};
	pwquality_settings_t *pwq = pwquality_default_settings();
	bool ok = pwq != NULL;

	for (size_t i = 0; ok && i < sizeof off / sizeof off[0]; i++)
		ok = pwquality_set_int_value(pwq, off[i].setting, off[i].value) == 0;
	ok = ok && pwquality_set_str_value(pwq, PWQ_SETTING_BAD_WORDS, "") == 0 &&
	     pwquality_set_str_value(pwq, PWQ_SETTING_DICT_PATH, POLICY_DICT) == 0;
	if (!ok) {
		log_msg(LOG_ERR, "libpwquality settings could not be made");
		pwquality_free_settings(pwq);
		return NULL;
	}
	return pwq;
}

/* PW_OK, PW_COMMON, or POLICY_ERROR. */
static int dict_check(const char *pw, size_t len)
{
	char copy[PORTAL_PASSWORD_MAX + 1];
	pwquality_settings_t *pwq;
	void *aux = NULL;
	int rc = POLICY_ERROR, r;

	if (!dict_readable())
		return POLICY_ERROR;
	pwq = dict_settings();
	if (!pwq)
		return POLICY_ERROR;
	memcpy(copy, pw, len);
	copy[len] = '\0';
	pthread_mutex_lock(&dict_mu);
	r = pwquality_check(pwq, copy, NULL, NULL, &aux);
	pthread_mutex_unlock(&dict_mu);
	sodium_memzero(copy, sizeof copy);
	if (r >= 0) {
		rc = PW_OK;
	} else if (r == PWQ_ERROR_CRACKLIB_CHECK && aux &&
		   strncmp(aux, "error loading", 13) == 0) {
		/* cracklib says its dictionary is unusable: a refusal would
		 * blame the password for the machine's fault. */
		log_msg(LOG_ERR, "password dictionary %s: %s", POLICY_DICT, (const char *)aux);
	} else if (r == PWQ_ERROR_MEM_ALLOC) {
		log_msg(LOG_ERR, "password check: out of memory");
	} else {
		/* The dictionary's verdict, or one of libpwquality's rules we
		 * cannot switch off (a palindrome): common either way. */
		rc = PW_COMMON;
	}
	pwquality_free_settings(pwq);
	return rc;
}

/* ---- policy --------------------------------------------------------------- */

int policy_check(const char *pw, size_t len, const char *user, const char *email,
		 unsigned min_chars)
{
	long chars;

	if (len > PORTAL_PASSWORD_MAX)
		return PW_TOO_LONG;
	chars = count_chars(pw, len);
	if (chars < 0)
		return PW_BAD_UTF8;
	if (chars > POLICY_CHARS_MAX)
		return PW_TOO_LONG;
	if ((unsigned long)chars < min_chars)
		return PW_TOO_SHORT;
	if (has_user(pw, len, user))
		return PW_HAS_USER;
	if (has_email(pw, len, email))
		return PW_HAS_EMAIL;
	return dict_check(pw, len);
}

const char *policy_reason_name(int reason)
{
	static const char *const names[] = {
		[PW_OK] = "acceptable",
		[PW_TOO_SHORT] = "too short",
		[PW_TOO_LONG] = "too long",
		[PW_BAD_UTF8] = "not printable UTF-8",
		[PW_COMMON] = "common",
		[PW_HAS_USER] = "contains the user name",
		[PW_HAS_EMAIL] = "contains the e-mail address",
	};

	if (reason >= 0 && (size_t)reason < sizeof names / sizeof names[0])
		return names[reason];
	return "check failed";
}

/* ---- Argon2id ------------------------------------------------------------- */

static void slot_take(sem_t *slots)
{
	while (sem_wait(slots) < 0 && errno == EINTR)
		;
}

int policy_hash(sem_t *slots, const char *pw, size_t len, char out[crypto_pwhash_STRBYTES])
{
	int rc;

	slot_take(slots);
	rc = crypto_pwhash_str(out, pw, len, POLICY_OPSLIMIT, POLICY_MEMLIMIT);
	sem_post(slots);
	if (rc != 0)
		log_msg(LOG_ERR, "password hash failed (out of memory?)");
	return rc == 0 ? 0 : -1;
}

bool policy_verify(sem_t *slots, const char *hash, const char *pw, size_t len)
{
	int rc;

	slot_take(slots);
	rc = crypto_pwhash_str_verify(hash, pw, len);
	sem_post(slots);
	return rc == 0;
}

bool policy_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, POLICY_OPSLIMIT, POLICY_MEMLIMIT) != 0;
}
