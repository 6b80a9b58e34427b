/*
 * verdict.c - auth's finding on the PAM handle (pam_set_data), for the
 * account stage of the same handle.  See verdict.h.
 */
#include "verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERDICT_KEY "pam_portal:verdict"

struct verdict {
	char user[PORTAL_USER_MAX + 1];
	enum portal_state state;
};

static void verdict_free(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

void verdict_forget(pam_handle_t *pamh)
{
	pam_set_data(pamh, VERDICT_KEY, NULL, NULL);
}

void verdict_keep(pam_handle_t *pamh, const char *user, enum portal_state state)
{
	struct verdict *v;

	if ((state != STATE_UNMANAGED && state != STATE_ACTIVE) || strlen(user) > PORTAL_USER_MAX)
		return;
	v = malloc(sizeof *v);
	if (!v)
		return;     /* then account asks the helper: slower, not wrong */
	snprintf(v->user, sizeof v->user, "%s", user);
	v->state = state;
	if (pam_set_data(pamh, VERDICT_KEY, v, verdict_free) != PAM_SUCCESS)
		free(v);
}

bool verdict_find(pam_handle_t *pamh, const char *user, enum portal_state *state)
{
	const void *data = NULL;
	const struct verdict *v;

	if (pam_get_data(pamh, VERDICT_KEY, &data) != PAM_SUCCESS || data == NULL)
		return false;
	v = data;
	/* Another module may have changed PAM_USER since. */
	if (strcmp(v->user, user) != 0)
		return false;
	*state = v->state;
	return true;
}
