/*
 * flow.c - the verification conversation, as a small state machine: each
 * step asks its question, deals with the answer, and names the next step.
 *
 *   intro -> email -> code -> confirm -> password -> end
 *                 ^      |  (r: resend) |
 *                 +------+--------------+  (e: change the address)
 *
 * An empty answer or q cancels wherever a question is not optional.  What
 * the person is told after typing an address is the same whether or not
 * it is the one on file: the helper alone knows, and it only sends mail
 * to the address on file.
 */
#include "flow.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum step { STEP_INTRO, STEP_EMAIL, STEP_CODE, STEP_CONFIRM, STEP_PASSWORD, STEP_END };

static const char *const step_names[] = {
	[STEP_INTRO] = "introduction",
	[STEP_EMAIL] = "e-mail address",
	[STEP_CODE] = "verification code",
	[STEP_CONFIRM] = "confirmation",
	[STEP_PASSWORD] = "new password",
};

struct flow {
	struct call *s;
	char email[PORTAL_EMAIL_MAX + 1];     /* the last address typed */
	/* The code request of this conversation: its handle, which the code
	 * it mailed is bound to (it works nowhere else), and the address it
	 * was for; "" before any. */
	uint8_t request[PORTAL_REQUEST_LEN];
	char request_email[PORTAL_EMAIL_MAX + 1];
	uint8_t ticket[PORTAL_TICKET_LEN];    /* from a right code */
	int rc;                               /* the PAM result at STEP_END */
};

static enum step end(struct flow *f, int rc)
{
	f->rc = rc;
	return STEP_END;
}

static enum step cancel(struct flow *f, enum step where)
{
	pam_syslog(f->s->pamh, LOG_NOTICE, "user %s: verification cancelled at the %s",
		   f->s->user, step_names[where]);
	conv_say(&f->s->conv, PAM_TEXT_INFO, TX_CANCELLED);
	return end(f, call_refused(f->s));
}

/* ---- 1. why ------------------------------------------------------------ */

/* Local noon of a YYYY-MM-DD date (noon: the same day in any time zone
 * i18n_date may read it in), or -1 when it is not such a date. */
static long long date_noon(const char *s)
{
	struct tm tm = { .tm_hour = 12, .tm_isdst = -1 };
	int m, d;
	time_t t;

	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9')
			return -1;
	if (s[10] != '\0')
		return -1;
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = mktime(&tm);
	/* mktime turns 31 February into March: refuse a date that moved */
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != m - 1)
		return -1;
	return (long long)t;
}

static enum step intro(struct flow *f)
{
	struct call *s = f->s;
	long long cutover = date_noon(s->cutover);

	pam_syslog(s->pamh, LOG_NOTICE, "user %s: pending (%s): verification started",
		   s->user, s->reason == PENDING_RESET ? "reset by an administrator" :
		   s->reason == PENDING_DORMANT ? "no sign-in since the cutover" :
		   "no portal password");
	if (s->reason == PENDING_RESET) {
		conv_say(&s->conv, PAM_TEXT_INFO, TX_INTRO_RESET);
	} else if (cutover >= 0) {
		char date[64];

		i18n_date(s->conv.lang, cutover, date, sizeof date);
		conv_say(&s->conv, PAM_TEXT_INFO, TX_INTRO_SINCE, date);
	} else {
		conv_say(&s->conv, PAM_TEXT_INFO, TX_INTRO);
	}
	return STEP_EMAIL;
}

/* ---- 2-3. the address, and a code sent to it ---------------------------- */

/* A request too soon for the address typed.  A code asked for here with
 * that address still works, and may be typed.  One asked for elsewhere
 * (another conversation, an earlier attempt) works only there: its code
 * is bound to that request's handle, and a "wait" answer gives none, so
 * no stolen code can be typed here while the member's own request is in
 * flight.  Then the only way on is a new code, once the wait is over. */
static enum text_id too_soon(struct flow *f, bool again)
{
	if (strcmp(f->request_email, f->email) != 0) {
		explicit_bzero(f->request, sizeof f->request);
		f->request_email[0] = '\0';
	}
	if (again)
		return TX_WAIT_RESEND;
	return f->request_email[0] ? TX_CODE_RECENT : TX_CODE_ELSEWHERE;
}

/* REQ_SEND_CODE for the last address; `again` when the person typed r. */
static enum step send_code(struct flow *f, bool again)
{
	struct call *s = f->s;
	char words[64];
	uint64_t secs;
	int r;

	call_begin(s, REQ_SEND_CODE);
	proto_put_str(&s->x->req, TAG_EMAIL, f->email);
	proto_put_str(&s->x->req, TAG_LANG, lang_name(s->conv.lang));
	r = call_helper(s, again ? "new code" : "code");
	switch (r) {
	case -1:
		return end(f, call_unavailable(s));
	case RESULT_OK:
		if (!proto_get_u64(&s->x->resp, TAG_TTL, &secs) ||
		    !proto_get_fixed(&s->x->resp, TAG_REQUEST, f->request, sizeof f->request))
			return end(f, call_unexpected(s, "code (no lifetime or handle)", r));
		memcpy(f->request_email, f->email, sizeof f->email);
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: %s asked for (mailed if the address "
			   "is the one on file)", s->user, again ? "a new code" : "a code");
		i18n_duration(s->conv.lang, secs, words, sizeof words);
		conv_say(&s->conv, PAM_TEXT_INFO, again ? TX_CODE_RESENT : TX_CODE_SENT, words);
		return STEP_CODE;
	case RESULT_WAIT:
		if (!proto_get_u64(&s->x->resp, TAG_WAIT, &secs))
			return end(f, call_unexpected(s, "code (no wait)", r));
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: code asked for too soon, %llu s to wait",
			   s->user, (unsigned long long)secs);
		/* "0 seconds" would read as nonsense: a wait is at least one */
		i18n_duration(s->conv.lang, secs ? secs : 1, words, sizeof words);
		conv_say(&s->conv, PAM_ERROR_MSG, too_soon(f, again), words);
		return STEP_CODE;
	case RESULT_INVALID:
		conv_say(&s->conv, PAM_ERROR_MSG, TX_NOT_EMAIL);
		return STEP_EMAIL;
	case RESULT_LOCKED:
		return end(f, call_locked_answer(s, "code"));
	default:
		return end(f, call_unexpected(s, "code", r));
	}
}

static enum step ask_email(struct flow *f)
{
	struct call *s = f->s;
	char *answer;

	if (s->org[0] != '\0')
		conv_ask(&s->conv, true, &answer, TX_ASK_EMAIL_ORG, s->org);
	else
		conv_ask(&s->conv, true, &answer, TX_ASK_EMAIL);
	if (!answer)
		return STEP_EMAIL;  /* the conversation failed: the loop ends it */
	if (answer[0] == '\0' || conv_command(answer) == 'q') {
		conv_drop(&answer);
		return cancel(f, STEP_EMAIL);
	}
	if (strlen(answer) >= sizeof f->email) {
		conv_drop(&answer);
		conv_say(&s->conv, PAM_ERROR_MSG, TX_NOT_EMAIL);
		return STEP_EMAIL;
	}
	strcpy(f->email, answer);
	conv_drop(&answer);
	return send_code(f, false);
}

/* ---- 4. the code -------------------------------------------------------- */

/* The digits of a code as typed, allowing the spaces people put in to
 * read it in groups.  False when it cannot be a code: it is refused here,
 * without spending one of the code's tries. */
static bool code_digits(const char *typed, char out[PORTAL_CODE_MAX + 1])
{
	size_t n = 0;

	for (; *typed; typed++) {
		if (*typed == ' ')
			continue;
		if (*typed < '0' || *typed > '9' || n == PORTAL_CODE_MAX)
			return false;
		out[n++] = *typed;
	}
	out[n] = '\0';
	return n > 0;
}

static enum step verify(struct flow *f, const char *code)
{
	struct call *s = f->s;
	uint32_t tries;
	int r;

	call_begin(s, REQ_VERIFY_CODE);
	proto_put_str(&s->x->req, TAG_CODE, code);
	proto_put_bytes(&s->x->req, TAG_REQUEST, f->request, sizeof f->request);
	r = call_helper(s, "verify code");
	switch (r) {
	case -1:
		return end(f, call_unavailable(s));
	case RESULT_OK:
		if (!proto_get_fixed(&s->x->resp, TAG_TICKET, f->ticket, sizeof f->ticket))
			return end(f, call_unexpected(s, "verify code (no ticket)", r));
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: code verified", s->user);
		return STEP_CONFIRM;
	case RESULT_CODE_WRONG:
		if (!proto_get_u32(&s->x->resp, TAG_TRIES, &tries))
			return end(f, call_unexpected(s, "verify code (no tries)", r));
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: wrong code, tries left: %u",
			   s->user, (unsigned)tries);
		if (tries == 0)
			conv_say(&s->conv, PAM_ERROR_MSG, TX_CODE_DEAD);
		else if (tries == 1)
			conv_say(&s->conv, PAM_ERROR_MSG, TX_CODE_WRONG_ONE);
		else
			conv_say(&s->conv, PAM_ERROR_MSG, TX_CODE_WRONG_MANY, (unsigned)tries);
		return STEP_CODE;
	case RESULT_CODE_EXPIRED:
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: code expired", s->user);
		conv_say(&s->conv, PAM_ERROR_MSG, TX_CODE_EXPIRED);
		return STEP_CODE;
	case RESULT_CODE_DEAD:
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: no live code", s->user);
		conv_say(&s->conv, PAM_ERROR_MSG, TX_CODE_DEAD);
		return STEP_CODE;
	case RESULT_INVALID:
		conv_say(&s->conv, PAM_ERROR_MSG, TX_CODE_FORM);
		return STEP_CODE;
	case RESULT_LOCKED:
		return end(f, call_locked_answer(s, "verify code"));
	default:
		return end(f, call_unexpected(s, "verify code", r));
	}
}

static enum step ask_code(struct flow *f)
{
	struct call *s = f->s;
	char code[PORTAL_CODE_MAX + 1];
	char *answer;
	enum step next;

	conv_ask(&s->conv, true, &answer, f->request_email[0] ? TX_ASK_CODE : TX_ASK_CODE_NONE);
	if (!answer)
		return STEP_CODE;
	switch (answer[0] == '\0' ? 'q' : conv_command(answer)) {
	case 'q':
		conv_drop(&answer);
		return cancel(f, STEP_CODE);
	case 'e':
		conv_drop(&answer);
		return STEP_EMAIL;
	case 'r':
		conv_drop(&answer);
		return send_code(f, true);
	}
	if (!code_digits(answer, code)) {
		conv_drop(&answer);
		conv_say(&s->conv, PAM_ERROR_MSG, TX_CODE_FORM);
		return STEP_CODE;
	}
	conv_drop(&answer);
	if (!f->request_email[0]) {
		/* A code from elsewhere: it works only there. */
		explicit_bzero(code, sizeof code);
		conv_say(&s->conv, PAM_ERROR_MSG, TX_CODE_DEAD);
		return STEP_CODE;
	}
	next = verify(f, code);
	explicit_bzero(code, sizeof code);
	return next;
}

/* ---- 5. verified: continue, or change the address ----------------------- */

static enum step confirm(struct flow *f)
{
	struct call *s = f->s;

	conv_say(&s->conv, PAM_TEXT_INFO, TX_VERIFIED);
	/* Anything but Enter, e or q asks again: the prompt lists them. */
	while (s->conv.failed == PAM_SUCCESS) {
		char *answer;
		int cmd;

		conv_ask(&s->conv, true, &answer, TX_ASK_CONTINUE);
		if (!answer)
			break;
		cmd = answer[0] == '\0' ? '\n' : conv_command(answer);
		conv_drop(&answer);
		switch (cmd) {
		case '\n':
			return STEP_PASSWORD;
		case 'e':
			/* The ticket is not used: it expires in the helper. */
			explicit_bzero(f->ticket, sizeof f->ticket);
			return STEP_EMAIL;
		case 'q':
			return cancel(f, STEP_CONFIRM);
		}
	}
	return STEP_CONFIRM;
}

/* ---- 6. the new password ------------------------------------------------ */

/* Judged as first typed, with the ticket the right code gave (which it
 * leaves live). */
static int check_password(struct call *s, void *ctx, const char *password)
{
	struct flow *f = ctx;

	call_begin(s, REQ_CHECK_PASSWORD);
	proto_put_bytes(&s->x->req, TAG_TICKET, f->ticket, sizeof f->ticket);
	proto_put_str(&s->x->req, TAG_NEW_PASSWORD, password);
	return call_helper(s, "check new password");
}

/* Stored with the ticket the right code gave. */
static int set_password(struct call *s, void *ctx, const char *password)
{
	struct flow *f = ctx;

	call_begin(s, REQ_SET_PASSWORD);
	proto_put_bytes(&s->x->req, TAG_TICKET, f->ticket, sizeof f->ticket);
	proto_put_str(&s->x->req, TAG_PASSWORD, password);
	call_put_host(s);
	proto_put_str(&s->x->req, TAG_LANG, lang_name(s->conv.lang));
	return call_helper(s, "set password");
}

/* In auth, after_reset says whether the person signs in again; in the
 * password stage (passwd, or sshd after a key sign-in) the password was
 * what was asked for. */
static enum step created(struct flow *f)
{
	struct call *s = f->s;
	bool relogin = s->stage == STAGE_AUTH && s->args->after_reset == AFTER_RESET_RELOGIN;

	pam_syslog(s->pamh, LOG_NOTICE, "user %s: portal password created (%s)", s->user,
		   s->stage == STAGE_PASSWORD ? "password change" :
		   relogin ? "to sign in again" : "signed in");
	conv_say(&s->conv, PAM_TEXT_INFO, relogin ? TX_CREATED_RELOGIN : TX_CREATED);
	/* Even if that message could not be shown: the password exists. */
	return end(f, relogin ? PAM_AUTH_ERR : PAM_SUCCESS);
}

static enum step new_password(struct flow *f)
{
	struct call *s = f->s;
	const struct newpw how = {
		.ask = TX_ASK_NEW_PASSWORD, .give_up = TX_PW_GIVE_UP,
		.check = check_password, .send = set_password, .ctx = f,
	};
	int r;

	switch (newpw_ask(s, &how, &r)) {
	case NEWPW_FAILED:
		return STEP_PASSWORD;  /* the loop ends it */
	case NEWPW_CANCELLED:
		return cancel(f, STEP_PASSWORD);
	case NEWPW_REFUSED:
		return end(f, call_refused(s));
	case NEWPW_ANSWERED:
		break;
	}
	switch (r) {
	case -1:
		return end(f, call_unavailable(s));
	case RESULT_OK:
		return created(f);
	case RESULT_TICKET:
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: reset ticket refused", s->user);
		conv_say(&s->conv, PAM_ERROR_MSG, TX_TICKET);
		return end(f, call_refused(s));
	case RESULT_LOCKED:
		return end(f, call_locked_answer(s, "set password"));
	default:
		return end(f, call_unexpected(s, "set password", r));
	}
}

/* ---- the machine -------------------------------------------------------- */

static enum step (*const steps[])(struct flow *) = {
	[STEP_INTRO] = intro,
	[STEP_EMAIL] = ask_email,
	[STEP_CODE] = ask_code,
	[STEP_CONFIRM] = confirm,
	[STEP_PASSWORD] = new_password,
};

int flow_pending(struct call *s)
{
	struct flow f = { .s = s, .rc = call_refused(s) };
	enum step step = STEP_INTRO;
	int rc;

	while (step != STEP_END) {
		enum step at = step;

		step = steps[at](&f);
		/* A failed conversation is not an empty answer: the
		 * application cannot carry these questions at all. */
		if (step != STEP_END && s->conv.failed != PAM_SUCCESS) {
			pam_syslog(s->pamh, LOG_ERR, "user %s: the conversation cannot carry the "
				   "verification (it needs keyboard-interactive): %s at step \"%s\"",
				   s->user, pam_strerror(s->pamh, s->conv.failed), step_names[at]);
			f.rc = call_refused(s);
			break;
		}
	}
	rc = f.rc;
	explicit_bzero(&f, sizeof f);
	return rc;
}
