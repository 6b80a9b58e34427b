/*
 * args.h - the options on the pam.d line, parsed once into a struct that
 * every entry point shares.
 *
 *   socket=PATH                 the helper's socket [PORTAL_DEFAULT_SOCKET]
 *   lang=fr|en                  the language, over the helper's `language`
 *   after_reset=relogin|continue  what follows a created password [relogin]
 *   use_first_pass              an active user's password comes from an
 *                               earlier module, never from a prompt (on a
 *                               password line: the current password)
 *   try_first_pass              try the earlier module's password first;
 *                               ask if there is none or it is wrong
 *   use_authtok                 password line: the new password is the one
 *                               an earlier module asked for (pam_pwquality)
 *   nodelay                     auth: no fail delay of the module's own
 *                               (ARGS_FAIL_DELAY_US otherwise, as pam_unix)
 *   debug                       LOG_DEBUG lines
 */
#ifndef PAM_PORTAL_ARGS_H
#define PAM_PORTAL_ARGS_H

#include <stdbool.h>
#include <security/pam_modules.h>
#include "i18n.h"

/* The delay libpam adds to a failed pam_authenticate, asked for every
 * user (pam_fail_delay): 2 s, pam_unix's, so that a failure takes the same
 * time whoever the name is, member or not (libpam sleeps the largest delay
 * any module asked for, times a random 0.5 to 1.5). */
#define ARGS_FAIL_DELAY_US 2000000u

enum after_reset { AFTER_RESET_RELOGIN, AFTER_RESET_CONTINUE };

enum first_pass {
	FIRST_PASS_NO,   /* always ask */
	FIRST_PASS_TRY,
	FIRST_PASS_USE,
};

struct portal_args {
	char socket[108];        /* sizeof sun_path */
	bool lang_set;
	enum lang lang;
	enum after_reset after_reset;
	enum first_pass first_pass;
	bool use_authtok;
	bool nodelay;
	bool debug;
};

/* Fill a from the module arguments.  Any unknown or malformed argument is
 * logged and makes it return false: the caller fails closed. */
bool args_parse(pam_handle_t *pamh, int argc, const char **argv, struct portal_args *a);

#endif
