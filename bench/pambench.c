/*
 * pambench.c - time whole sign-ins through libpam, as sshd makes them.
 *
 *   pambench [-f | -c] [-s K] CONFDIR SERVICE USERFILE COUNT [ANSWER...]
 *
 * A sign-in is pam_start_confdir, pam_authenticate, pam_acct_mgmt when
 * that succeeded, and pam_end, timed from the first call to the return of
 * the last.  libpam loads the modules of the stack in pam_start and unloads
 * them in pam_end, so every sign-in loads them afresh, as in the child sshd
 * forks for each connection.  With -f each sign-in does run in a child
 * forked for it (the fork itself not counted): slower, since the child
 * first copies the pages it touches, and closer to sshd.
 *
 * USERFILE holds one user name a line; sign-in i is for line i (mod the
 * number of lines), so a step that may only happen once per user (a code
 * is mailed) gets a user of its own.  Every prompt is answered with the
 * next ANSWER; a prompt past the last fails, as a person who gives up.
 * With -s K the time from the K-th answer (from 1) to the next message of
 * the module is timed as well: the step the helper does for that answer.
 * With -c the COUNT sign-ins start at once, each in a child (all children
 * wait on a pipe, then go together), as many people connecting in the same
 * second.
 *
 * A failed pam_authenticate is not followed by the fail delay the
 * modules ask libpam for (2 s: the module's and pam_unix's): a sleep, not
 * work, that would hide what a failure costs; pambench sets PAM_FAIL_DELAY
 * to a function that sleeps nothing, as an application may.
 *
 * Output, one line a sign-in: "total_us step_us AUTH ACCOUNT" (step_us is
 * -1 without -s; AUTH and ACCOUNT are pam_strerror codes, ACCOUNT -1 when
 * not called).  bench/bench.py makes the tables.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_appl.h>
#include "clock.h"

#define USERS_MAX 100000
#define NAME_MAX_LEN 64

struct script {
	char **answers;
	int nanswers;
	int next;            /* answers given so far */
	int step;            /* time the step after this answer (0: none) */
	long long step_from; /* when that answer was given, ns */
	long long step_ns;   /* -1 until measured */
};

static int conversation(int num_msg, const struct pam_message **msg,
			struct pam_response **resp, void *data)
{
	struct script *s = data;
	struct pam_response *r;

	if (s->step_from && s->step_ns < 0)
		s->step_ns = clock_ns() - s->step_from;
	r = calloc((size_t)num_msg, sizeof *r);
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < num_msg; i++) {
		int style = msg[i]->msg_style;

		if (style != PAM_PROMPT_ECHO_ON && style != PAM_PROMPT_ECHO_OFF)
			continue;
		if (s->next == s->nanswers) {
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_CONV_ERR;
		}
		r[i].resp = strdup(s->answers[s->next++]);
		if (!r[i].resp) {
			free(r);
			return PAM_BUF_ERR;
		}
	}
	if (s->step && s->next == s->step && !s->step_from)
		s->step_from = clock_ns();
	*resp = r;
	return PAM_SUCCESS;
}

/* PAM_FAIL_DELAY: libpam calls it instead of sleeping. */
static void no_delay(int status, unsigned usec, void *data)
{
	(void)status;
	(void)usec;
	(void)data;
}

/* One sign-in in this (child) process; writes its line to fd. */
static void sign_in(const char *confdir, const char *service, const char *user,
		    struct script *s, int fd)
{
	struct pam_conv conv = { conversation, s };
	pam_handle_t *pamh = NULL;
	int auth, account = -1;
	long long t0 = clock_ns(), total;
	char line[128];
	int n;

	auth = pam_start_confdir(service, user, &conv, confdir, &pamh);
	if (auth == PAM_SUCCESS) {
		pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)no_delay);
		auth = pam_authenticate(pamh, 0);
		if (auth == PAM_SUCCESS)
			account = pam_acct_mgmt(pamh, 0);
		pam_end(pamh, auth);
	}
	total = clock_ns() - t0;
	n = snprintf(line, sizeof line, "%lld %lld %d %d\n", total / 1000,
		     s->step_ns < 0 ? -1 : s->step_ns / 1000, auth, account);
	/* One write of less than PIPE_BUF: lines of children never mix. */
	if (write(fd, line, (size_t)n) != n)
		_exit(1);
}

static int read_users(const char *path, char ***out)
{
	FILE *f = fopen(path, "re");
	char buf[NAME_MAX_LEN + 2];
	char **users = calloc(USERS_MAX, sizeof *users);
	int n = 0;

	if (!f || !users) {
		perror(path);
		exit(2);
	}
	while (n < USERS_MAX && fgets(buf, sizeof buf, f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (buf[0] && !(users[n++] = strdup(buf)))
			exit(2);
	}
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "pambench: %s: no users\n", path);
		exit(2);
	}
	*out = users;
	return n;
}

/* Copy the line a finished child left in the pipe to stdout. */
static void relay_line(int fd)
{
	char buf[256];
	ssize_t r = read(fd, buf, sizeof buf);

	if (r <= 0 || fwrite(buf, 1, (size_t)r, stdout) != (size_t)r)
		exit(1);
}

/* Copy the children's lines to stdout until they all closed the pipe. */
static void relay(int fd)
{
	char buf[4096];
	ssize_t r;

	while ((r = read(fd, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0 && fwrite(buf, 1, (size_t)r, stdout) != (size_t)r)
			exit(1);
}

/* What the command line asks for. */
struct run {
	const char *confdir, *service;
	char **users;
	int nusers, count;
	bool together, forked;
	struct script s;
};

/* 0, or the exit status of a bad command line. */
static int parse(int argc, char **argv, struct run *r)
{
	int opt;

	r->s.step_ns = -1;
	while ((opt = getopt(argc, argv, "cfs:")) != -1) {
		if (opt == 'c')
			r->together = r->forked = true;
		else if (opt == 'f')
			r->forked = true;
		else if (opt == 's')
			r->s.step = atoi(optarg);
		else
			return 2;
	}
	if (argc - optind < 4) {
		fprintf(stderr, "usage: pambench [-f | -c] [-s K] CONFDIR SERVICE USERFILE COUNT "
			"[ANSWER...]\n");
		return 2;
	}
	r->confdir = argv[optind];
	r->service = argv[optind + 1];
	r->nusers = read_users(argv[optind + 2], &r->users);
	r->count = atoi(argv[optind + 3]);
	r->s.answers = argv + optind + 4;
	r->s.nanswers = argc - optind - 4;
	return 0;
}

/* Sign-in i, in a child: with -c, once every child is there. */
static void child(const struct run *r, int i, const int out[2], const int go[2])
{
	struct script s = r->s;
	char c;

	close(out[0]);
	close(go[1]);
	if (r->together && read(go[0], &c, 1) < 0)
		_exit(1);
	sign_in(r->confdir, r->service, r->users[i % r->nusers], &s, out[1]);
	_exit(0);
}

/* Every sign-in in a child of its own (-f one after the other, -c all at
 * once), their lines relayed in order.  The sign-ins that did not finish,
 * or -1. */
static int run_forked(const struct run *r)
{
	int out[2], go[2], status, failed = 0;

	if (pipe(out) < 0 || pipe(go) < 0) {
		perror("pipe");
		return -1;
	}
	fflush(stdout);
	for (int i = 0; i < r->count; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return -1;
		}
		if (pid == 0)
			child(r, i, out, go);
		/* One at a time: its line is read before the next starts, so the
		 * pipe never fills. */
		if (r->together)
			continue;
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
		else
			relay_line(out[0]);
	}
	close(out[1]);
	close(go[0]);
	close(go[1]);   /* -c: the children's read returns, all at once */
	relay(out[0]);
	while (wait(&status) >= 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	return failed;
}

int main(int argc, char **argv)
{
	struct run r = { 0 };
	int failed, rc = parse(argc, argv, &r);

	if (rc)
		return rc;
	if (!r.forked) {
		for (int i = 0; i < r.count; i++) {
			struct script again = r.s;

			sign_in(r.confdir, r.service, r.users[i % r.nusers], &again, STDOUT_FILENO);
		}
		return 0;
	}
	failed = run_forked(&r);
	if (failed > 0)
		fprintf(stderr, "pambench: %d sign-ins did not finish\n", failed);
	return failed == 0 ? 0 : 1;
}
