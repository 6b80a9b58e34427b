/*
 * pam_portal.c - the PAM entry points.
 *
 * Every entry point parses the options, so a mistake on any pam.d line is
 * caught on that line: the module then returns PAM_SERVICE_ERR ("error in
 * service module"), which every control flag but an explicit
 * `service_err=ignore` treats as a failure.
 *
 * auth, account and password each start from the helper's word on the
 * user: sshd may run them in different processes.  The one exception is
 * verdict.h: when account follows auth in the same process, an outcome
 * that auth has just established is not asked again.
 */
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "account.h"
#include "args.h"
#include "chauthtok.h"
#include "flow.h"
#include "call.h"
#include "signin.h"
#include "verdict.h"

/* What the helper says of the user decides what is asked.  `again` after
 * an active user's password met RESULT_STATE: the state changed in between
 * (an administrator reset the user, the cutover moved), so it is asked
 * once more; active a second time would be the helper contradicting
 * itself. */
static int by_state(struct call *s, bool again)
{
	bool changed;
	int rc = call_managed(s);

	if (rc != PAM_SUCCESS)
		return rc;
	if (s->state == STATE_PENDING)
		return flow_pending(s);
	if (again)
		return call_unexpected(s, "status (active again)", RESULT_STATE);
	rc = signin_active(s, &changed);
	return changed ? by_state(s, true) : rc;
}

static int authenticate(struct call *s, int flags)
{
	int rc;

	(void)flags;
	verdict_forget(s->pamh);
	rc = by_state(s, false);
	if ((rc == PAM_IGNORE && s->state == STATE_UNMANAGED) ||
	    (rc == PAM_SUCCESS && s->state == STATE_ACTIVE))
		verdict_keep(s->pamh, s->user, s->state);
	return rc;
}

/* The options, the user, a call for one stage: then `run`. */
static int with_call(pam_handle_t *pamh, enum stage stage, int flags, int argc,
		     const char **argv, int (*run)(struct call *, int))
{
	struct portal_args args;
	struct call s;
	const char *user = NULL;
	int rc;

	if (!args_parse(pamh, argc, argv, &args))
		return PAM_SERVICE_ERR;
	rc = pam_get_user(pamh, &user, NULL);
	if (rc != PAM_SUCCESS || user == NULL) {
		pam_syslog(pamh, LOG_ERR, "cannot get the user name: %s", pam_strerror(pamh, rc));
		/* as pam_unix: the application may call again */
		return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE :
		       rc == PAM_SUCCESS ? stage_refused(stage) : rc;
	}
	/* A name longer than any the helper stores cannot be managed. */
	if (user[0] == '\0' || strlen(user) > PORTAL_USER_MAX) {
		if (args.debug)
			pam_syslog(pamh, LOG_DEBUG, "user name of %zu bytes: not managed, ignored",
				   strlen(user));
		return PAM_IGNORE;
	}
	if (!call_open(&s, pamh, stage, flags, &args, user)) {
		call_close(&s);
		pam_syslog(pamh, LOG_CRIT, "out of memory");
		return PAM_BUF_ERR;
	}
	rc = run(&s, flags);
	call_close(&s);
	return rc;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return with_call(pamh, STAGE_AUTH, flags, argc, argv, authenticate);
}

/* No credentials of our own to set; succeeding, as pam_unix does, keeps
 * `auth` stacks that call setcred on every module working. */
PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct portal_args args;

	(void)flags;
	return args_parse(pamh, argc, argv, &args) ? PAM_SUCCESS : PAM_SERVICE_ERR;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return with_call(pamh, STAGE_ACCOUNT, flags, argc, argv, account);
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return with_call(pamh, STAGE_PASSWORD, flags, argc, argv, chauthtok);
}

/* No session of our own: a session line for this module has no effect. */
static int no_session(pam_handle_t *pamh, int argc, const char **argv)
{
	struct portal_args args;

	return args_parse(pamh, argc, argv, &args) ? PAM_IGNORE : PAM_SERVICE_ERR;
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	return no_session(pamh, argc, argv);
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	return no_session(pamh, argc, argv);
}
