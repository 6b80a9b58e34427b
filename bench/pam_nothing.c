/*
 * pam_nothing.c - a PAM module that loads and does nothing: every entry
 * point answers PAM_IGNORE.  bench/bench.py stacks it before pam_permit to
 * show what a second module costs a sign-in by being loaded and unloaded
 * alone (libpam dlopens each module of the stack at pam_start and
 * dlcloses it at pam_end), the floor under any module's figure.
 */
#include <security/pam_modules.h>

#define NOTHING(name)                                                        \
	PAM_EXTERN int name(pam_handle_t *pamh, int flags, int argc,          \
			    const char **argv)                                \
	{                                                                     \
		(void)pamh;                                                   \
		(void)flags;                                                  \
		(void)argc;                                                   \
		(void)argv;                                                   \
		return PAM_IGNORE;                                            \
	}

NOTHING(pam_sm_authenticate)
NOTHING(pam_sm_setcred)
NOTHING(pam_sm_acct_mgmt)
