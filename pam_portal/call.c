/*
 * call.c - the exchanges with the helper that every path shares, and
 * the notices that end a sign-in without a conversation.
 */
#include "call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <security/pam_ext.h>
#include "client.h"
#include "source.h"

bool call_open(struct call *s, pam_handle_t *pamh, enum stage stage, int flags,
	       const struct portal_args *args, const char *user)
{
	memset(s, 0, sizeof *s);
	s->pamh = pamh;
	s->stage = stage;
	s->args = args;
	s->silent = flags & PAM_SILENT;
	/* Before the helper has said which language the user reads, the
	 * pam.d line decides, else the helper's own default (French). */
	s->conv.pamh = pamh;
	s->conv.lang = args->lang_set ? args->lang : LANG_FR;
	snprintf(s->user, sizeof s->user, "%s", user);
	s->x = malloc(sizeof *s->x);
	if (!s->x)
		return false;
	s->x->req.len = 0;
	s->x->frame_len = 0;
	s->x->resp.nfields = 0;
	return true;
}

/* The last answer may have carried a ticket. */
static void wipe_answer(struct exchange *x)
{
	explicit_bzero(x->frame, x->frame_len);
	x->frame_len = 0;
	x->resp.nfields = 0;
}

void call_close(struct call *s)
{
	if (s->x) {
		proto_wipe(&s->x->req);
		wipe_answer(s->x);
		free(s->x);
		s->x = NULL;
	}
}

/* The requests that can count a failure against the member, and the
 * status look-up, whose answer (locked or not) depends on the source too. */
static bool counts_failure(enum proto_type type)
{
	switch (type) {
	case REQ_STATUS:
	case REQ_AUTH:
	case REQ_SEND_CODE:
	case REQ_VERIFY_CODE:
	case REQ_CHANGE_PASSWORD:
	case REQ_CHECK_PASSWORD:
		return true;
	default:
		return false;
	}
}

void call_begin(struct call *s, enum proto_type type)
{
	char source[PORTAL_SOURCE_MAX + 1];

	proto_begin(&s->x->req, type);
	proto_put_str(&s->x->req, TAG_USER, s->user);
	/* Here, once, so that no request that counts can go without it. */
	if (counts_failure(type) && source_of(s->pamh, source))
		proto_put_str(&s->x->req, TAG_SOURCE, source);
}

void call_put_host(struct call *s)
{
	const void *host = NULL;

	if (pam_get_item(s->pamh, PAM_RHOST, &host) == PAM_SUCCESS && host &&
	    ((const char *)host)[0] != '\0')
		proto_put_str(&s->x->req, TAG_HOST, host);
}

int call_helper(struct call *s, const char *what)
{
	char err[256];
	ssize_t n;
	int r;

	wipe_answer(s->x);
	n = client_request(s->args->socket, &s->x->req, s->x->frame, &s->x->resp,
			   err, sizeof err);
	if (n < 0) {
		pam_syslog(s->pamh, LOG_ERR, "user %s: %s: cannot ask the helper: %s",
			   s->user, what, err);
		return -1;
	}
	s->x->frame_len = (size_t)n;
	r = (int)client_result(&s->x->resp);
	call_debug(s, "user %s: %s: %s", s->user, what, proto_result_name(r));
	return r;
}

int stage_refused(enum stage stage)
{
	switch (stage) {
	case STAGE_ACCOUNT:
		return PAM_PERM_DENIED;
	case STAGE_PASSWORD:
		return PAM_AUTHTOK_ERR;
	case STAGE_AUTH:
		break;
	}
	return PAM_AUTH_ERR;
}

int call_refused(const struct call *s)
{
	return stage_refused(s->stage);
}

int call_unavailable(struct call *s)
{
	if (!s->silent)
		conv_say(&s->conv, PAM_ERROR_MSG, TX_UNAVAILABLE);
	/* Account lines are often written with authinfo_unavail=ignore (the
	 * LDAP modules' habit, where the directory being down should not lock
	 * local users out): that would let a pending user with an SSH key in
	 * unverified.  A refusal is a failure under any control value. */
	return s->stage == STAGE_ACCOUNT ? PAM_PERM_DENIED : PAM_AUTHINFO_UNAVAIL;
}

int call_unexpected(struct call *s, const char *what, int r)
{
	pam_syslog(s->pamh, LOG_ERR, "user %s: %s: the helper answered \"%s\": sign-in unavailable",
		   s->user, what, proto_result_name(r));
	return call_unavailable(s);
}

int call_locked(struct call *s, uint64_t until)
{
	uint64_t now = (uint64_t)time(NULL);
	/* A lock ending as we speak still reads "1 second", not "0". */
	uint64_t left = until > now ? until - now : 1;
	char words[64];

	if (until == 0)
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: refused, locked until an "
			   "administrator unlocks the account", s->user);
	else
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: refused, locked for %llu more seconds",
			   s->user, (unsigned long long)left);
	if (!s->silent && until == 0) {
		conv_say(&s->conv, PAM_ERROR_MSG, TX_LOCKED_ADMIN);
	} else if (!s->silent) {
		i18n_duration(s->conv.lang, left, words, sizeof words);
		conv_say(&s->conv, PAM_ERROR_MSG, TX_LOCKED_FOR, words);
	}
	/* Outside auth a lock is about the account, not about a password
	 * just typed: permission denied, whatever the person does now. */
	return s->stage == STAGE_AUTH ? PAM_AUTH_ERR : PAM_PERM_DENIED;
}

int call_locked_answer(struct call *s, const char *what)
{
	uint64_t until;

	if (!proto_get_u64(&s->x->resp, TAG_UNTIL, &until))
		return call_unexpected(s, what, RESULT_LOCKED);
	return call_locked(s, until);
}

/* The language the helper says the user reads, unless lang= said it. */
static void take_language(struct call *s)
{
	char name[8];
	enum lang l;

	if (s->args->lang_set)
		return;
	if (proto_get_str(&s->x->resp, TAG_LANG, name, sizeof name) && lang_parse(name, &l))
		s->conv.lang = l;
	else
		call_debug(s, "user %s: no language from the helper, using %s",
			   s->user, lang_name(s->conv.lang));
}

/* What the conversation of a pending user needs.  Only the least length
 * of a password is required: the prompt states it.  Without a cutover
 * date or an organization name the words are simply shorter. */
static bool take_pending(struct call *s)
{
	uint32_t reason = PENDING_NONE;

	if (!proto_get_u32(&s->x->resp, TAG_MIN_LEN, &s->min_len) || s->min_len == 0)
		return false;
	proto_get_u32(&s->x->resp, TAG_REASON, &reason);
	s->reason = (enum pending_reason)reason;
	if (!proto_get_str(&s->x->resp, TAG_CUTOVER, s->cutover, sizeof s->cutover))
		s->cutover[0] = '\0';
	if (!proto_get_str(&s->x->resp, TAG_ORG, s->org, sizeof s->org))
		s->org[0] = '\0';
	return true;
}

int call_status(struct call *s)
{
	uint32_t state;
	int r;

	call_begin(s, REQ_STATUS);
	r = call_helper(s, "status");
	switch (r) {
	case -1:
		return call_unavailable(s);
	case RESULT_OK:
		break;
	/* A name the helper could never manage (too long, characters
	 * valid_user refuses) is not its business either. */
	case RESULT_NOT_FOUND:
	case RESULT_INVALID:
		s->state = STATE_UNMANAGED;
		return PAM_SUCCESS;
	case RESULT_DENIED:
		pam_syslog(s->pamh, LOG_ERR, "user %s: the helper refused to answer for this "
			   "user (the application does not run as root)", s->user);
		return call_unavailable(s);
	/* The members' directory cannot say, or names several people: never
	 * "not managed" when unsure (portalctl directory lookup USER shows why). */
	case RESULT_UNAVAILABLE:
		pam_syslog(s->pamh, LOG_ERR, "user %s: the directory of members cannot be "
			   "reached and nothing recent is cached: sign-in unavailable", s->user);
		return call_unavailable(s);
	case RESULT_AMBIGUOUS:
		pam_syslog(s->pamh, LOG_ERR, "user %s: several entries of the directory have "
			   "this name: refused", s->user);
		return call_unavailable(s);
	default:
		return call_unexpected(s, "status", r);
	}
	take_language(s);
	if (!proto_get_u32(&s->x->resp, TAG_STATE, &state))
		return call_unexpected(s, "status (no state)", r);
	s->state = (enum portal_state)state;
	switch (s->state) {
	case STATE_UNMANAGED:
		return PAM_SUCCESS;
	case STATE_ACTIVE:
		/* The prompt for a changed password states it. */
		if (!proto_get_u32(&s->x->resp, TAG_MIN_LEN, &s->min_len) || s->min_len == 0)
			return call_unexpected(s, "status (active, no password length)", r);
		return PAM_SUCCESS;
	case STATE_PENDING:
		if (!take_pending(s))
			return call_unexpected(s, "status (pending, no password length)", r);
		return PAM_SUCCESS;
	case STATE_LOCKED:
		/* and what the member is under the lock: TAG_REASON says why
		 * they would be pending, PENDING_NONE that they are active */
		if (!proto_get_u64(&s->x->resp, TAG_UNTIL, &s->until) || !take_pending(s))
			return call_unexpected(s, "status (locked, no end or no password length)", r);
		s->standing = s->reason == PENDING_NONE ? STATE_ACTIVE : STATE_PENDING;
		return PAM_SUCCESS;
	}
	return call_unexpected(s, "status (unknown state)", r);
}

int call_managed(struct call *s)
{
	int rc = call_status(s);

	if (rc != PAM_SUCCESS)
		return rc;
	switch (s->state) {
	case STATE_UNMANAGED:
		call_debug(s, "user %s: not managed, ignored", s->user);
		return PAM_IGNORE;
	case STATE_LOCKED:
		/* At a sign-in, nothing tells a locked member from the others
		 * before the first answer: the first question is the one of
		 * the member's state, and the helper's answer to it (REQ_AUTH,
		 * REQ_SEND_CODE, REQ_VERIFY_CODE) says the lock.  Elsewhere
		 * the member is signed in already, and is told at once. */
		if (s->stage != STAGE_AUTH)
			return call_locked(s, s->until);
		call_debug(s, "user %s: locked, asked as %s", s->user,
			   proto_state_name(s->standing));
		s->state = s->standing;
		break;
	case STATE_PENDING:
	case STATE_ACTIVE:
		break;
	}
	return PAM_SUCCESS;
}
