/*
 * pam_portal.c - the PAM entry points.
 *
 * Only `auth` does anything yet.  Every entry point parses the options,
 * so a mistake on any pam.d line is caught on that line: the module then
 * returns PAM_SERVICE_ERR ("error in service module"), which every
 * control flag but an explicit `service_err=ignore` treats as a failure.
 */
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "args.h"
#include "flow.h"
#include "session.h"
#include "signin.h"

/* What the helper says of the user decides what is asked.  `again` after
 * an active user's password met R_STATE: the state changed in between
 * (an administrator reset the user, the cutover moved), so it is asked
 * once more; active a second time would be the helper contradicting
 * itself. */
static int by_state(struct session *s, bool again)
{
	bool changed;
	int rc = session_status(s);

	if (rc != PAM_SUCCESS)
		return rc;
	switch (s->state) {
	case ST_UNMANAGED:
		session_debug(s, "user %s: not managed, ignored", s->user);
		return PAM_IGNORE;
	case ST_LOCKED:
		return session_locked(s, s->until);
	case ST_PENDING:
		return flow_pending(s);
	case ST_ACTIVE:
		break;
	}
	if (again)
		return session_unexpected(s, "status (active again)", R_STATE);
	rc = signin_active(s, &changed);
	return changed ? by_state(s, true) : rc;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct portal_args args;
	struct session s;
	const char *user = NULL;
	int rc;

	if (!args_parse(pamh, argc, argv, &args))
		return PAM_SERVICE_ERR;
	rc = pam_get_user(pamh, &user, NULL);
	if (rc != PAM_SUCCESS || user == NULL) {
		pam_syslog(pamh, LOG_ERR, "cannot get the user name: %s", pam_strerror(pamh, rc));
		/* as pam_unix: the application may call again */
		return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : rc == PAM_SUCCESS ? PAM_AUTH_ERR : rc;
	}
	/* A name longer than any the helper stores cannot be managed. */
	if (user[0] == '\0' || strlen(user) > PORTAL_USER_MAX) {
		if (args.debug)
			pam_syslog(pamh, LOG_DEBUG, "user name of %zu bytes: not managed, ignored",
				   strlen(user));
		return PAM_IGNORE;
	}
	if (!session_open(&s, pamh, flags, &args, user)) {
		session_close(&s);
		pam_syslog(pamh, LOG_CRIT, "out of memory");
		return PAM_BUF_ERR;
	}
	rc = by_state(&s, false);
	session_close(&s);
	return rc;
}

/* No credentials of our own to set; succeeding, as pam_unix does, keeps
 * `auth` stacks that call setcred on every module working. */
PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct portal_args args;

	(void)flags;
	return args_parse(pamh, argc, argv, &args) ? PAM_SUCCESS : PAM_SERVICE_ERR;
}

/* Account checks and password changes for managed users come later
 * (issue 7); until then this module has no say. */
static int not_yet(pam_handle_t *pamh, int argc, const char **argv)
{
	struct portal_args args;

	return args_parse(pamh, argc, argv, &args) ? PAM_IGNORE : PAM_SERVICE_ERR;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	return not_yet(pamh, argc, argv);
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	return not_yet(pamh, argc, argv);
}

/* No session of our own: a session line for this module has no effect. */
PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	return not_yet(pamh, argc, argv);
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	return not_yet(pamh, argc, argv);
}
