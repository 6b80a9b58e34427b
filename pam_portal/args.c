/*
 * args.c - parse the pam.d options.  A mistake on the pam.d line is the
 * administrator's, and guessing what was meant could open a door (a
 * misspelt `use_first_pass`, a socket path cut short), so every argument
 * must be understood or the module refuses to work.
 */
#include "args.h"

#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>
#include "paths.h"

/* The value of `name=value` when arg is that option, else NULL. */
static const char *value_of(const char *arg, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(arg, name, n) == 0 && arg[n] == '=')
		return arg + n + 1;
	return NULL;
}

static bool set_socket(struct portal_args *a, const char *path)
{
	/* A relative path would depend on the application's directory. */
	if (path[0] != '/' || strlen(path) >= sizeof a->socket)
		return false;
	strcpy(a->socket, path);
	return true;
}

static bool set_after_reset(struct portal_args *a, const char *v)
{
	if (strcmp(v, "relogin") == 0)
		a->after_reset = AFTER_RESET_RELOGIN;
	else if (strcmp(v, "continue") == 0)
		a->after_reset = AFTER_RESET_CONTINUE;
	else
		return false;
	return true;
}

/* One argument; false when it is not understood. */
static bool parse_one(struct portal_args *a, const char *arg)
{
	const char *v;

	if ((v = value_of(arg, "socket")))
		return set_socket(a, v);
	if ((v = value_of(arg, "lang"))) {
		a->lang_set = lang_parse(v, &a->lang);
		return a->lang_set;
	}
	if ((v = value_of(arg, "after_reset")))
		return set_after_reset(a, v);
	/* use_first_pass is the stricter of the two and wins whatever the
	 * order, as with pam_unix. */
	if (strcmp(arg, "use_first_pass") == 0) {
		a->first_pass = FIRST_PASS_USE;
		return true;
	}
	if (strcmp(arg, "try_first_pass") == 0) {
		if (a->first_pass == FIRST_PASS_NO)
			a->first_pass = FIRST_PASS_TRY;
		return true;
	}
	if (strcmp(arg, "use_authtok") == 0) {
		a->use_authtok = true;
		return true;
	}
	if (strcmp(arg, "nodelay") == 0) {
		a->nodelay = true;
		return true;
	}
	if (strcmp(arg, "debug") == 0) {
		a->debug = true;
		return true;
	}
	return false;
}

bool args_parse(pam_handle_t *pamh, int argc, const char **argv, struct portal_args *a)
{
	bool ok = true;

	memset(a, 0, sizeof *a);
	strcpy(a->socket, PORTAL_DEFAULT_SOCKET);
	a->lang = LANG_FR;
	a->after_reset = AFTER_RESET_RELOGIN;
	a->first_pass = FIRST_PASS_NO;

	/* Every mistake is logged, not only the first, so that one reading
	 * of the log is enough to fix the line. */
	for (int i = 0; i < argc; i++) {
		if (!parse_one(a, argv[i])) {
			pam_syslog(pamh, LOG_ERR, "unknown or malformed option \"%s\": "
				   "refusing to work until the pam.d line is fixed", argv[i]);
			ok = false;
		}
	}
	return ok;
}
