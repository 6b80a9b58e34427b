/*
 * policy.c - the password policy and the Argon2id hashes.
 *
 * Order of the checks: what the bytes are (UTF-8, length), then what they
 * say (the user's name or address, then the dictionary, then the strength
 * estimate), so the reason given to the person is the first thing they
 * can fix.  Each check reads the form of the password it is meant for
 * (unicode.h): the length and the dictionary its NFC form, the name and
 * address the folded one, the estimate the skeleton.
 */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pwquality.h>
#include <zxcvbn.h>
#include "log.h"
#include "unicode.h"
#include "utf8.h"

/* cracklib keeps its work in static buffers: one check at a time. */
static pthread_mutex_t dict_mu = PTHREAD_MUTEX_INITIALIZER;

/* The user's name and address as the password is searched for them. */
struct policy_names {
	char user[4 * PORTAL_USER_MAX + 1];
	char email[4 * PORTAL_EMAIL_MAX + 1];
	char local[4 * PORTAL_EMAIL_MAX + 1];   /* the address up to its '@' */
};

/* The forms of one password (unicode.h), wiped after each check. */
struct policy_forms {
	char nfc[POLICY_FORM_MAX];
	char skeleton[POLICY_FORM_MAX];
	char folded[POLICY_FORM_MAX];
	char narrow[POLICY_FORM_MAX];           /* strength_check's */
	size_t nfc_len, skeleton_len, folded_len;
};

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

/* Does the folded password contain the folded name (at least
 * POLICY_NAME_MIN bytes of it)?  Both folded alike, so neither case, nor
 * width, nor an invisible character or an accent in between hides it. */
static bool has_name(const char *folded, size_t n, const char *name, size_t m)
{
	return m >= POLICY_NAME_MIN && memmem(folded, n, name, m) != NULL;
}

/* PW_HAS_USER, PW_HAS_EMAIL or PW_OK for the folded password; names
 * holds the folded user name, address and the address's local part. */
static int personal_check(const char *folded, size_t n, const struct policy_names *names)
{
	if (has_name(folded, n, names->user, strlen(names->user)))
		return PW_HAS_USER;
	if (has_name(folded, n, names->email, strlen(names->email)) ||
	    has_name(folded, n, names->local, strlen(names->local)))
		return PW_HAS_EMAIL;
	return PW_OK;
}

/* The user's name and address, folded as a password is.  They are plain
 * ASCII (valid.h), so folding only lowers their case; it is the same
 * fold all the same, so that the two sides never disagree. */
static void fold_names(const char *user, const char *email, struct policy_names *out)
{
	char *at;

	if (ustr_form(user, strlen(user), USTR_FOLDED, out->user, sizeof out->user) < 0)
		out->user[0] = '\0';
	if (ustr_form(email, strlen(email), USTR_FOLDED, out->email, sizeof out->email) < 0)
		out->email[0] = '\0';
	snprintf(out->local, sizeof out->local, "%s", out->email);
	at = strchr(out->local, '@');
	if (at)
		*at = '\0';
	else
		out->local[0] = '\0';
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

/* Is this verdict of cracklib's (FascistCheck's words, in English: portald
 * never calls setlocale) its dictionary's: "it is based on a dictionary
 * word", "... on a (reversed) dictionary word"?  Its other verdicts judge
 * the shape ("too simplistic/systematic": a few neighbouring letters such
 * as "de", "no", "st"; "not enough DIFFERENT characters") by rules that
 * refuse long sentences people really use; zxcvbn judges shapes, sequences
 * and repeats better (strength_check), so those are left to it. */
static bool dictionary_verdict(const char *aux)
{
	return aux && strstr(aux, "dictionary word") != NULL;
}

/* PW_OK, PW_COMMON, or POLICY_ERROR, for len bytes at pw (an NFC form:
 * at most POLICY_FORM_MAX - 1). */
static int dict_check(const char *pw, size_t len)
{
	char copy[POLICY_FORM_MAX];
	pwquality_settings_t *pwq;
	void *aux = NULL;
	int rc = POLICY_ERROR, r;

	if (len >= sizeof copy || !dict_readable())
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
	} else if (r == PWQ_ERROR_CRACKLIB_CHECK && !dictionary_verdict(aux)) {
		rc = PW_OK;
	} else {
		/* The dictionary's verdict, or one of libpwquality's rules we
		 * cannot switch off (a palindrome): common either way. */
		rc = PW_COMMON;
	}
	pwquality_free_settings(pwq);
	return rc;
}

/* ---- strength ----------------------------------------------------------- */

/* zxcvbn's dictionaries are English (passwords, words, names).  These are
 * the French counterparts of the first entries of its password list, the
 * words found at the top of every published list of French passwords,
 * which it would otherwise read as random letters. */
static const char *const common_fr[] = {
	"azerty", "motdepasse", "jetaime", "soleil", "bonjour", "doudou", "loulou",
	"chouchou", "marseille", "coucou",
};

/* The skeleton as zxcvbn reads text: a byte a character.  It was written
 * for ASCII and takes every other byte for a character of its own, so a
 * word in another script would count each letter two or three times and
 * a repeated one would pass unseen.  Each character beyond ASCII becomes
 * one byte above 0x7f, a function of its code point: repeats and runs
 * stay what they are (two characters 128 code points apart read alike,
 * which only ever lowers the estimate). */
static void narrow(const char *s, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t step = utf8_next((const unsigned char *)s + i, len - i, &cp);

		if (step == 0)
			break;    /* cannot happen: the skeleton is UTF-8 */
		out[n++] = (char)(cp < 0x80 ? cp : 0x80 | (cp & 0x7f));
		i += step;
	}
	out[n] = '\0';
}

/* PW_OK, or PW_GUESSABLE when zxcvbn's estimate of the guesses needed to
 * find the skeleton (its log2, which zxcvbn calls entropy) is below
 * POLICY_GUESSES_LOG2.  The member's name and address count as words an
 * attacker tries first. */
static int strength_check(struct policy_forms *f, const struct policy_names *names)
{
	enum { N_FR = sizeof common_fr / sizeof common_fr[0] };
	const char *words[N_FR + 4];
	size_t n = 0;
	double bits;

	for (size_t i = 0; i < N_FR; i++)
		words[n++] = common_fr[i];
	words[n++] = names->user;
	words[n++] = names->local;
	words[n++] = names->email;
	words[n] = NULL;
	narrow(f->skeleton, f->skeleton_len, f->narrow);
	bits = ZxcvbnMatch(f->narrow, words, NULL);
	return bits >= POLICY_GUESSES_LOG2 ? PW_OK : PW_GUESSABLE;
}

/* ---- policy --------------------------------------------------------------- */

/* The forms of the len bytes of printable UTF-8 at pw: PW_OK, PW_TOO_LONG
 * when one does not fit (only a password of hundreds of ligatures, each
 * many letters), or POLICY_ERROR. */
static int make_forms(const char *pw, size_t len, struct policy_forms *f)
{
	ssize_t n = ustr_form(pw, len, USTR_NFC, f->nfc, sizeof f->nfc);

	if (n < 0) {
		/* NFC is at most three times as long as its text: memory */
		log_msg(LOG_ERR, "password check: the password could not be normalised");
		return POLICY_ERROR;
	}
	f->nfc_len = (size_t)n;
	n = ustr_form(f->nfc, f->nfc_len, USTR_SKELETON, f->skeleton, sizeof f->skeleton);
	if (n < 0)
		return PW_TOO_LONG;
	f->skeleton_len = (size_t)n;
	n = ustr_form(f->nfc, f->nfc_len, USTR_FOLDED, f->folded, sizeof f->folded);
	if (n < 0)
		return PW_TOO_LONG;
	f->folded_len = (size_t)n;
	return PW_OK;
}

/* What the forms say, in the order the person is told. */
static int judge_forms(struct policy_forms *f, const char *user, const char *email,
		       unsigned min_chars)
{
	struct policy_names names;
	size_t chars = utf8_width(f->nfc, f->nfc_len);
	int rc;

	if (chars > POLICY_CHARS_MAX)
		return PW_TOO_LONG;
	if (chars < min_chars)
		return PW_TOO_SHORT;
	fold_names(user, email, &names);
	rc = personal_check(f->folded, f->folded_len, &names);
	if (rc == PW_OK)
		rc = dict_check(f->nfc, f->nfc_len);
	if (rc == PW_OK)
		rc = strength_check(f, &names);
	sodium_memzero(&names, sizeof names);
	return rc;
}

int policy_check(const char *pw, size_t len, const char *user, const char *email,
		 unsigned min_chars)
{
	struct policy_forms *f;
	int rc;

	if (len > PORTAL_PASSWORD_MAX)
		return PW_TOO_LONG;
	if (count_chars(pw, len) < 0)
		return PW_BAD_UTF8;
	/* Some 16 KiB: off the stack of a worker */
	f = malloc(sizeof *f);
	if (!f) {
		log_msg(LOG_ERR, "password check: out of memory");
		return POLICY_ERROR;
	}
	rc = make_forms(pw, len, f);
	if (rc == PW_OK)
		rc = judge_forms(f, user, email, min_chars);
	sodium_memzero(f, sizeof *f);
	free(f);
	return rc;
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
		[PW_GUESSABLE] = "easy to guess",
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

/* The NFC form of the len bytes at pw into out (POLICY_FORM_MAX bytes):
 * its length, or -1 when pw is not UTF-8 (or memory is short). */
static ssize_t nfc_of(const char *pw, size_t len, char *out)
{
	return len <= PORTAL_PASSWORD_MAX ? ustr_form(pw, len, USTR_NFC, out, POLICY_FORM_MAX)
					  : -1;
}

int policy_hash(sem_t *slots, const char *pw, size_t len, char out[crypto_pwhash_STRBYTES])
{
	char nfc[POLICY_FORM_MAX];
	ssize_t n = nfc_of(pw, len, nfc);
	int rc = -1;

	if (n >= 0) {
		slot_take(slots);
		rc = crypto_pwhash_str(out, nfc, (size_t)n, POLICY_OPSLIMIT, POLICY_MEMLIMIT);
		sem_post(slots);
	}
	sodium_memzero(nfc, sizeof nfc);
	if (rc != 0)
		log_msg(LOG_ERR, "password hash failed (not UTF-8, or out of memory)");
	return rc == 0 ? 0 : -1;
}

bool policy_verify(sem_t *slots, const char *hash, const char *pw, size_t len, bool *stale)
{
	char nfc[POLICY_FORM_MAX];
	ssize_t n = nfc_of(pw, len, nfc);
	bool right = false, stale_hash = false;
	bool differs = n < 0 || (size_t)n != len || memcmp(nfc, pw, len) != 0;

	slot_take(slots);
	if (n >= 0)
		right = crypto_pwhash_str_verify(hash, nfc, (size_t)n) == 0;
	/* A hash made before passwords were normalised is of the bytes as
	 * they were typed then: decomposed, for one.  Tried only when those
	 * differ from the NFC form, so an ASCII password costs one check; and
	 * the caller counts one failure for the two. */
	if (!right && differs)
		right = stale_hash = crypto_pwhash_str_verify(hash, pw, len) == 0;
	sem_post(slots);
	sodium_memzero(nfc, sizeof nfc);
	if (stale)
		*stale = stale_hash;
	return right;
}

bool policy_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, POLICY_OPSLIMIT, POLICY_MEMLIMIT) != 0;
}
