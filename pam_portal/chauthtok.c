/*
 * chauthtok.c - change a portal password, in the two phases libpam runs.
 *
 * The route through the stack is fixed by the preliminary phase (libpam
 * replays it for the update), so both phases must say the same about who
 * is managed: PAM_IGNORE for users out of the directory, so that pam_unix
 * below changes theirs.
 *
 *   state     PAM_PRELIM_CHECK              PAM_UPDATE_AUTHTOK
 *   active    current password, checked     new password twice (or the
 *             (PAM_OLDAUTHTOK)              one use_authtok names), stored
 *                                           with the current one
 *   pending   nothing yet                   the verification of flow.c,
 *                                           then the new password
 *   locked    refused                       refused
 *
 * With PAM_CHANGE_EXPIRED_AUTHTOK the application asks only for expired
 * passwords: a portal password does not expire, so an active user is
 * ignored (whatever expired is pam_unix's); a pending user's is expired.
 */
#include "chauthtok.h"

#include <syslog.h>
#include <security/pam_ext.h>
#include "flow.h"
#include "newpw.h"
#include "signin.h"

/* Judged as first typed, with the current password, which the helper
 * checks (and counts) as at a sign-in. */
static int check_password(struct call *s, void *ctx, const char *password)
{
	call_begin(s, REQ_CHECK_PASSWORD);
	proto_put_str(&s->x->req, TAG_PASSWORD, ctx);
	proto_put_str(&s->x->req, TAG_NEW_PASSWORD, password);
	return call_helper(s, "check new password");
}

/* Stored with the current password, which the helper checks again. */
static int change_password(struct call *s, void *ctx, const char *password)
{
	call_begin(s, REQ_CHANGE_PASSWORD);
	proto_put_str(&s->x->req, TAG_PASSWORD, ctx);
	proto_put_str(&s->x->req, TAG_NEW_PASSWORD, password);
	call_put_host(s);
	proto_put_str(&s->x->req, TAG_LANG, lang_name(s->conv.lang));
	return call_helper(s, "change password");
}

/* The item an earlier module (or our own preliminary phase) left, or NULL. */
static const char *item(struct call *s, int which)
{
	const void *v = NULL;

	return pam_get_item(s->pamh, which, &v) == PAM_SUCCESS ? v : NULL;
}

static int changed(struct call *s, int r)
{
	switch (r) {
	case -1:
		return call_unavailable(s);
	case RESULT_OK:
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: portal password changed", s->user);
		if (!s->silent)
			conv_say(&s->conv, PAM_TEXT_INFO, TX_CHANGED);
		return PAM_SUCCESS;
	case RESULT_PASSWORD:
		/* right in the preliminary phase: changed since by someone else */
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: the current password no longer "
			   "matches", s->user);
		if (!s->silent)
			conv_say(&s->conv, PAM_ERROR_MSG, TX_WRONG_CURRENT);
		return PAM_AUTH_ERR;
	case RESULT_LOCKED:
		return call_locked_answer(s, "change password");
	case RESULT_STATE:
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: no longer active, password not "
			   "changed", s->user);
		return PAM_AUTHTOK_ERR;
	default:
		return call_unexpected(s, "change password", r);
	}
}

static int update_active(struct call *s)
{
	const char *current = item(s, PAM_OLDAUTHTOK);
	struct newpw how = {
		.ask = TX_ASK_CHANGE_PASSWORD, .give_up = TX_CHANGE_GIVE_UP,
		.check = check_password, .send = change_password, .ctx = (void *)current,
	};
	int r;

	if (!current) {
		pam_syslog(s->pamh, LOG_ERR, "user %s: no current password from the "
			   "preliminary check", s->user);
		return PAM_AUTHTOK_RECOVERY_ERR;
	}
	if (s->args->use_authtok && !(how.given = item(s, PAM_AUTHTOK))) {
		pam_syslog(s->pamh, LOG_ERR, "user %s: use_authtok, but no earlier module "
			   "left a new password", s->user);
		return PAM_AUTHTOK_ERR;
	}
	switch (newpw_ask(s, &how, &r)) {
	case NEWPW_ANSWERED:
		return changed(s, r);
	case NEWPW_CANCELLED:
		pam_syslog(s->pamh, LOG_NOTICE, "user %s: password change cancelled", s->user);
		conv_say(&s->conv, PAM_TEXT_INFO, TX_CANCELLED);
		return PAM_AUTHTOK_ERR;
	case NEWPW_FAILED:
		pam_syslog(s->pamh, LOG_ERR, "user %s: the conversation failed while asking "
			   "for the new password: %s", s->user,
			   pam_strerror(s->pamh, s->conv.failed));
		return PAM_AUTHTOK_ERR;
	case NEWPW_REFUSED:
		break;
	}
	return PAM_AUTHTOK_ERR;
}

/* `again` as in pam_portal.c: the current password met RESULT_STATE. */
static int by_state(struct call *s, int flags, bool again)
{
	bool update = flags & PAM_UPDATE_AUTHTOK, state_changed;
	int rc = call_managed(s);

	if (rc != PAM_SUCCESS)
		return rc;
	if (s->state == STATE_PENDING)
		return update ? flow_pending(s) : PAM_SUCCESS;
	if (flags & PAM_CHANGE_EXPIRED_AUTHTOK) {
		call_debug(s, "user %s: a portal password does not expire, ignored", s->user);
		return PAM_IGNORE;
	}
	if (update)
		return update_active(s);
	if (again)
		return call_unexpected(s, "status (active again)", RESULT_STATE);
	rc = signin_active(s, &state_changed);
	return state_changed ? by_state(s, flags, true) : rc;
}

int chauthtok(struct call *s, int flags)
{
	if (!(flags & (PAM_PRELIM_CHECK | PAM_UPDATE_AUTHTOK))) {
		pam_syslog(s->pamh, LOG_ERR, "chauthtok called neither to check nor to update");
		return PAM_SERVICE_ERR;
	}
	return by_state(s, flags, false);
}
