/*
 * locker.c - a screen locker's password check, for the end-to-end tests.
 *
 *   locker SERVICE
 *
 * Checks the password of the user running it, never of anyone else, the
 * way swaylock, i3lock or xscreensaver do: the password is typed into the
 * unlock dialog first (here: one line on stdin), then pam_start(SERVICE,
 * own user name), pam_authenticate with a conversation that answers every
 * prompt with that password and shows every message, and
 * pam_setcred(PAM_REFRESH_CRED) once it is right.  It runs as the user,
 * not as root: pam_unix checks through unix_chkpwd, pam_portal through
 * portald, which lets a caller other than root ask about its own user
 * name only.
 *
 * Output, one line each: "PROMPT text", "INFO text", "ERROR text", then
 * "unlocked" (exit 0) or "still locked: reason" (exit 1).  Exit 2 when it
 * cannot even start.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <security/pam_appl.h>

/* Overwrite a buffer that held the password; volatile so it stays. */
static void wipe(char *p, size_t n)
{
	volatile char *v = p;

	while (n--)
		*v++ = '\0';
}

static void show(const char *kind, const char *text)
{
	printf("%s %s\n", kind, text ? text : "");
	fflush(stdout);
}

static int conversation(int num_msg, const struct pam_message **msg,
			struct pam_response **resp, void *password)
{
	struct pam_response *r;

	*resp = NULL;
	if (num_msg <= 0 || num_msg > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)num_msg, sizeof *r);
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < num_msg; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			show("PROMPT", msg[i]->msg);
			r[i].resp = strdup(password);
			if (!r[i].resp) {
				for (int j = 0; j < i; j++) {
					wipe(r[j].resp, strlen(r[j].resp));
					free(r[j].resp);
				}
				free(r);
				return PAM_BUF_ERR;
			}
			break;
		case PAM_ERROR_MSG:
			show("ERROR", msg[i]->msg);
			break;
		default:
			show("INFO", msg[i]->msg);
			break;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

int main(int argc, char **argv)
{
	struct passwd *pw = getpwuid(getuid());
	struct pam_conv conv = { conversation, NULL };
	pam_handle_t *pamh = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: locker SERVICE (the password on stdin)\n");
		return 2;
	}
	if (!pw) {
		fprintf(stderr, "locker: uid %u has no name\n", (unsigned)getuid());
		return 2;
	}
	n = getline(&line, &cap, stdin);
	if (n < 0) {
		fprintf(stderr, "locker: no password on stdin\n");
		free(line);
		return 2;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = '\0';
	conv.appdata_ptr = line;
	rc = pam_start(argv[1], pw->pw_name, &conv, &pamh);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(pamh, 0);
	if (rc == PAM_SUCCESS)
		rc = pam_setcred(pamh, PAM_REFRESH_CRED);
	if (rc == PAM_SUCCESS)
		puts("unlocked");
	else
		printf("still locked: %s\n", pam_strerror(pamh, rc));
	pam_end(pamh, rc);
	wipe(line, cap);
	free(line);
	return rc == PAM_SUCCESS ? 0 : 1;
}
