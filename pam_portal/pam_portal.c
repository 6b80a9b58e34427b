/*
 * pam_portal.c - the PAM entry points.
 *
 * Every entry point parses the options, so a mistake on any pam.d line is
 * caught on that line: the module then returns PAM_SERVICE_ERR ("error in
 * service module"), which every control flag but an explicit
 * `service_err=ignore` treats as a failure.
 *
 * auth, account and password each start from the helper's word on the
 * user, the account NSS resolves the name to (canon.h): sshd may run them
 * in different processes.  The one exception is
 * verdict.h: when account follows auth in the same process, an outcome
 * that auth has just established is not asked again.
 */
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "account.h"
#include "args.h"
#include "canon.h"
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

/* The helper is asked about the account NSS resolves the name to, under
 * the name NSS gives it (canon.h); a name NSS does not know, as typed.
 * PAM_USER stays as the application set it (sshd refuses a user name
 * changed under it).  PAM_SUCCESS, PAM_IGNORE (no member can have that
 * name), or the failure the person has been told. */
static int canonical(struct call *s)
{
	char name[PORTAL_USER_MAX + 1];
	int err = 0;

	switch (canon_user(s->user, name, sizeof name, &err)) {
	case CANON_FOUND:
		if (strcmp(name, s->user) != 0) {
			call_debug(s, "user %s: the account %s to NSS", s->user, name);
			strcpy(s->user, name);
		}
		return PAM_SUCCESS;
	case CANON_UNKNOWN:
		return PAM_SUCCESS;
	case CANON_TOO_LONG:
		call_debug(s, "user %s: NSS names the account with more than %d bytes: "
			   "not managed, ignored", s->user, PORTAL_USER_MAX);
		return PAM_IGNORE;
	case CANON_ERROR:
		break;
	}
	/* Unsure who this is: never "not managed" (fail closed). */
	pam_syslog(s->pamh, LOG_ERR, "user %s: NSS could not look the name up: %s",
		   s->user, strerror(err));
	return call_unavailable(s);
}

/* The user, a call for one stage under its canonical name: then `run`. */
static int named_call(pam_handle_t *pamh, enum stage stage, int flags,
		      const struct portal_args *args, int (*run)(struct call *, int))
{
	struct call s;
	const char *user = NULL;
	int rc = pam_get_user(pamh, &user, NULL);

	if (rc != PAM_SUCCESS || user == NULL) {
		pam_syslog(pamh, LOG_ERR, "cannot get the user name: %s", pam_strerror(pamh, rc));
		/* as pam_unix: the application may call again */
		return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE :
		       rc == PAM_SUCCESS ? stage_refused(stage) : rc;
	}
	/* A name longer than any the helper stores cannot be managed. */
	if (user[0] == '\0' || strlen(user) > PORTAL_USER_MAX) {
		if (args->debug)
			pam_syslog(pamh, LOG_DEBUG, "user name of %zu bytes: not managed, ignored",
				   strlen(user));
		return PAM_IGNORE;
	}
	if (!call_open(&s, pamh, stage, flags, args, user)) {
		call_close(&s);
		pam_syslog(pamh, LOG_CRIT, "out of memory");
		return PAM_BUF_ERR;
	}
	rc = canonical(&s);
	if (rc == PAM_SUCCESS)
		rc = run(&s, flags);
	call_close(&s);
	return rc;
}

/* The options, then the call.  In auth, whatever the path: the fail
 * delay, asked for every user before anything is known of them (as
 * pam_unix asks it before it checks), so that a failure takes libpam's
 * delay whether the name is a member's or not; and after any failure,
 * no password left in PAM_AUTHTOK for the modules after this one (under
 * `sufficient`, pam_unix with try_first_pass would take a wrong portal
 * password and check it against the old /etc/shadow one; a password just
 * created under after_reset=relogin is to be typed again). */
static int with_call(pam_handle_t *pamh, enum stage stage, int flags, int argc,
		     const char **argv, int (*run)(struct call *, int))
{
	struct portal_args args;
	int rc;

	if (!args_parse(pamh, argc, argv, &args))
		return PAM_SERVICE_ERR;
	if (stage == STAGE_AUTH && !args.nodelay)
		pam_fail_delay(pamh, ARGS_FAIL_DELAY_US);
	rc = named_call(pamh, stage, flags, &args, run);
	if (stage == STAGE_AUTH && rc != PAM_SUCCESS && rc != PAM_IGNORE && rc != PAM_INCOMPLETE)
		pam_set_item(pamh, PAM_AUTHTOK, NULL);
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
