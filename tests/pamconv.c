/*
 * pamconv.c - a PAM application for tests and the demo.
 *
 *   pamconv [-i] [-k] [-p] [-e] [-d] [-R RHOST] [-T TTY] CONFDIR SERVICE USER
 *
 * Runs pam_start_confdir(SERVICE, USER, conv, CONFDIR), pam_authenticate,
 * pam_acct_mgmt when that succeeded, and pam_end, so a module can be tried
 * through the real libpam with a service file in a scratch folder: no
 * root, nothing under /etc.
 *
 *   -k  as sshd after a public key: no pam_authenticate, pam_acct_mgmt only
 *   -p  as passwd: pam_chauthtok only
 *   -e  pam_chauthtok with PAM_CHANGE_EXPIRED_AUTHTOK; without -p, called
 *       when pam_acct_mgmt answers PAM_NEW_AUTHTOK_REQD, as login does
 *   -d  a failed pam_authenticate waits the fail delay the modules asked
 *       for (pam_fail_delay), as login and sshd do: libpam sleeps it.
 *       Without -d (and without -i) the delay is not slept, so that the
 *       tests of everything else do not wait two seconds a failure: an
 *       application may set PAM_FAIL_DELAY to a function of its own, and
 *       pamconv's writes "pamconv: fail delay N us, not slept" on stderr
 *   -R, -T  PAM_RHOST, PAM_TTY
 *
 * By default the conversation is a line protocol for test drivers: every
 * message is one line on stdout, "ECHO_ON text", "ECHO_OFF text", "INFO
 * text" or "ERROR text" (a newline inside text is written as the two
 * characters \n), and each prompt reads one answer line from stdin.  End
 * of input, or the line "!CONV_ERR", makes that prompt fail with
 * PAM_CONV_ERR, as an application that cannot ask would.  The last line
 * is "RESULT authenticate=NAME|- account=NAME|-", followed by
 * " password=NAME" when pam_chauthtok ran.
 *
 * With -i the conversation is for a person at a terminal: prompts are
 * shown as they are, echo is off for ECHO_OFF prompts.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <security/pam_appl.h>

static bool interactive;

static const struct {
	int code;
	const char *name;
} pam_names[] = {
#define N(x) { x, #x }
	N(PAM_SUCCESS), N(PAM_OPEN_ERR), N(PAM_SYMBOL_ERR), N(PAM_SERVICE_ERR),
	N(PAM_SYSTEM_ERR), N(PAM_BUF_ERR), N(PAM_PERM_DENIED), N(PAM_AUTH_ERR),
	N(PAM_CRED_INSUFFICIENT), N(PAM_AUTHINFO_UNAVAIL), N(PAM_USER_UNKNOWN),
	N(PAM_MAXTRIES), N(PAM_NEW_AUTHTOK_REQD), N(PAM_ACCT_EXPIRED),
	N(PAM_SESSION_ERR), N(PAM_CRED_UNAVAIL), N(PAM_CRED_EXPIRED), N(PAM_CRED_ERR),
	N(PAM_NO_MODULE_DATA), N(PAM_CONV_ERR), N(PAM_AUTHTOK_ERR),
	N(PAM_AUTHTOK_RECOVERY_ERR), N(PAM_AUTHTOK_LOCK_BUSY),
	N(PAM_AUTHTOK_DISABLE_AGING), N(PAM_TRY_AGAIN), N(PAM_IGNORE), N(PAM_ABORT),
	N(PAM_AUTHTOK_EXPIRED), N(PAM_MODULE_UNKNOWN), N(PAM_BAD_ITEM),
	N(PAM_CONV_AGAIN), N(PAM_INCOMPLETE),
#undef N
};

static const char *pam_name(int code)
{
	for (size_t i = 0; i < sizeof pam_names / sizeof pam_names[0]; i++)
		if (pam_names[i].code == code)
			return pam_names[i].name;
	return "PAM_UNKNOWN_RESULT";
}

/* Overwrite a buffer that held an answer; volatile so it is not elided. */
static void wipe(char *p, size_t n)
{
	volatile char *v = p;

	while (n--)
		*v++ = '\0';
}

/* One protocol line: KIND, a space, the text with newlines escaped. */
static void put_line(const char *kind, const char *text)
{
	fputs(kind, stdout);
	putchar(' ');
	for (const char *p = text ? text : ""; *p; p++) {
		if (*p == '\n')
			fputs("\\n", stdout);
		else
			putchar(*p);
	}
	putchar('\n');
	fflush(stdout);
}

/* Echo off for the duration of a secret prompt, when there is a terminal. */
static bool echo_off(struct termios *saved)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, saved) < 0)
		return false;
	t = *saved;
	t.c_lflag &= ~(tcflag_t)ECHO;
	return tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
}

/* Read one answer line into a fresh string; NULL at end of input or on
 * the line "!CONV_ERR". */
static char *read_answer(bool echo)
{
	struct termios saved;
	bool restored = interactive && !echo && echo_off(&saved);
	char *line = NULL, *answer = NULL;
	size_t cap = 0;
	ssize_t n;

	n = getline(&line, &cap, stdin);
	if (restored) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		putchar('\n');
		fflush(stdout);
	}
	if (n >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (interactive || strcmp(line, "!CONV_ERR") != 0)
			answer = strdup(line);
	}
	if (line)
		wipe(line, cap);
	free(line);
	return answer;
}

static void show(int style, const char *text)
{
	if (!interactive) {
		put_line(style == PAM_PROMPT_ECHO_ON ? "ECHO_ON" :
			 style == PAM_PROMPT_ECHO_OFF ? "ECHO_OFF" :
			 style == PAM_ERROR_MSG ? "ERROR" : "INFO", text);
		return;
	}
	if (style == PAM_PROMPT_ECHO_ON || style == PAM_PROMPT_ECHO_OFF) {
		fputs(text ? text : "", stdout);
	} else {
		fputs(text ? text : "", style == PAM_ERROR_MSG ? stderr : stdout);
		fputc('\n', style == PAM_ERROR_MSG ? stderr : stdout);
	}
	fflush(stdout);
	fflush(stderr);
}

static void free_responses(struct pam_response *r, int n)
{
	for (int i = 0; i < n; i++) {
		if (r[i].resp) {
			wipe(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
}

static int conversation(int num_msg, const struct pam_message **msg,
			struct pam_response **resp, void *appdata)
{
	struct pam_response *r;

	(void)appdata;
	*resp = NULL;
	if (num_msg <= 0 || num_msg > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)num_msg, sizeof *r);
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < num_msg; i++) {
		int style = msg[i]->msg_style;

		show(style, msg[i]->msg);
		if (style != PAM_PROMPT_ECHO_ON && style != PAM_PROMPT_ECHO_OFF)
			continue;
		r[i].resp = read_answer(style == PAM_PROMPT_ECHO_ON);
		if (!r[i].resp) {
			free_responses(r, num_msg);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int usage(void)
{
	fprintf(stderr, "usage: pamconv [-i] [-k] [-p] [-e] [-d] [-R RHOST] [-T TTY] "
		"CONFDIR SERVICE USER\n");
	return 2;
}

/* PAM_FAIL_DELAY without -d: libpam calls it instead of sleeping, after
 * every pam_authenticate, with the delay it would have slept. */
static void no_sleep(int status, unsigned usec, void *appdata)
{
	(void)appdata;
	if (status != PAM_SUCCESS)
		fprintf(stderr, "pamconv: fail delay %u us, not slept (%s)\n", usec,
			pam_name(status));
}

int main(int argc, char **argv)
{
	struct pam_conv conv = { conversation, NULL };
	const char *rhost = NULL, *tty = NULL, *authenticate = "-", *account = "-",
		   *password = NULL;
	bool key = false, passwd = false, expired = false, delay = false;
	pam_handle_t *pamh = NULL;
	int opt, rc = PAM_SUCCESS;

	while ((opt = getopt(argc, argv, "ikpedR:T:")) != -1) {
		switch (opt) {
		case 'i':
			interactive = true;
			break;
		case 'k':
			key = true;
			break;
		case 'p':
			passwd = true;
			break;
		case 'e':
			expired = true;
			break;
		case 'd':
			delay = true;
			break;
		case 'R':
			rhost = optarg;
			break;
		case 'T':
			tty = optarg;
			break;
		default:
			return usage();
		}
	}
	if (argc - optind != 3)
		return usage();
	rc = pam_start_confdir(argv[optind + 1], argv[optind + 2], &conv, argv[optind], &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pamconv: pam_start_confdir: %s\n", pam_name(rc));
		return 1;
	}
	if (rhost)
		pam_set_item(pamh, PAM_RHOST, rhost);
	if (tty)
		pam_set_item(pamh, PAM_TTY, tty);
	if (!delay && !interactive)
		pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)no_sleep);
	if (!key && !passwd) {
		rc = pam_authenticate(pamh, 0);
		authenticate = pam_name(rc);
	}
	if (rc == PAM_SUCCESS && !passwd) {
		rc = pam_acct_mgmt(pamh, 0);
		account = pam_name(rc);
	}
	if (passwd || (expired && rc == PAM_NEW_AUTHTOK_REQD)) {
		rc = pam_chauthtok(pamh, expired ? PAM_CHANGE_EXPIRED_AUTHTOK : 0);
		password = pam_name(rc);
	}
	pam_end(pamh, rc);
	printf("%s authenticate=%s account=%s%s%s\n", interactive ? "Result:" : "RESULT",
	       authenticate, account, password ? " password=" : "", password ? password : "");
	return 0;
}
