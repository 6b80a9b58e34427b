/*
 * unit_log.c - portald's stderr log: line format, control characters
 * defused, long messages cut, and whole lines from concurrent threads.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"
#include "log.h"

#define THREADS 8
#define LINES   200

static int capture_fd;

/* Point stderr at a fresh memory file (appending, as a log file is
 * opened); capture_take returns what was logged since. */
static void capture_start(void)
{
	capture_fd = memfd_create("log", MFD_CLOEXEC);
	fcntl(capture_fd, F_SETFL, O_APPEND);
	dup2(capture_fd, STDERR_FILENO);
}

static char *capture_take(void)
{
	off_t n = lseek(capture_fd, 0, SEEK_END);
	char *s = calloc(1, (size_t)n + 1);

	if (pread(capture_fd, s, (size_t)n, 0) != n)
		s[0] = '\0';
	close(capture_fd);
	return s;
}

static void *logger(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < LINES; i++)
		log_msg(LOG_INFO, "thread %ld line %d %s", id, i,
			"padding to make a line long enough to be written in pieces if it were");
	return NULL;
}

/* Every line is exactly one message, nothing torn or merged. */
static bool lines_whole(const char *s, const char *prefix, int want)
{
	int n = 0;

	for (const char *p = s; *p; n++) {
		const char *nl = strchr(p, '\n');

		if (!nl || strncmp(p, prefix, strlen(prefix)) != 0 ||
		    !strstr(p, " were\n") || strstr(p, " were\n") != nl - 5)
			return false;
		p = nl + 1;
	}
	return n == want;
}

int main(void)
{
	char prefix[64], want[256], big[3000];
	pthread_t t[THREADS];
	char *out;
	int saved = dup(STDERR_FILENO);

	snprintf(prefix, sizeof prefix, "portald[%ld]: ", (long)getpid());
	log_open(true);

	capture_start();
	log_msg(LOG_WARNING, "user %s from %s", "bob\nportald[1]: fake", "host\x1b[2J");
	out = capture_take();
	snprintf(want, sizeof want, "%swarning: user bob?portald[1]: fake from host?[2J\n", prefix);
	CHECK("a line is portald[pid]: level: message, control characters replaced",
	      strcmp(out, want) == 0);
	free(out);

	capture_start();
	log_msg(LOG_AUTHPRIV | LOG_ERR, "%d failures", 3);
	out = capture_take();
	snprintf(want, sizeof want, "%serror: 3 failures\n", prefix);
	CHECK("the facility bits do not change the level shown", strcmp(out, want) == 0);
	free(out);

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	capture_start();
	log_msg(LOG_INFO, "%s", big);
	out = capture_take();
	CHECK("a long message is cut, still one line",
	      strncmp(out, prefix, strlen(prefix)) == 0 && strlen(out) < sizeof big &&
	      strchr(out, '\n') == out + strlen(out) - 1);
	free(out);

	capture_start();
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, logger, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	out = capture_take();
	CHECK("lines from concurrent threads come out whole", lines_whole(out, prefix, THREADS * LINES));
	free(out);

	dup2(saved, STDERR_FILENO);
	close(saved);
	return check_done();
}
