/*
 * fixture.h - what unit tests set up around the unit they test:
 *
 *   run_group                    a group of checks between its own start
 *                                and end: with scratch_make/scratch_remove,
 *                                a folder of its own under $TMPDIR (its
 *                                database, keys, mail), so that no group
 *                                depends on another's leftovers nor on the
 *                                order they run in;
 *   refused_port                 a loopback port held by a socket bound but
 *                                never listening: connections to it are
 *                                refused and nobody else can take it while
 *                                it is held (tests/ports.py says more);
 *   SLOW, pause_ms               time: bounds grow with the slow builds
 *                                (sanitizers, valgrind), every wait is on
 *                                the monotonic clock (clock_ms, the
 *                                product's common/clock.h), and a pause is
 *                                a polling interval, never a guess.
 */
#ifndef PORTAL_FIXTURE_H
#define PORTAL_FIXTURE_H

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "clock.h"

#if defined(__SANITIZE_ADDRESS__)
#define FIXTURE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIXTURE_SANITIZED 1
#endif
#endif

/* How many times slower than the normal build this one runs: sanitized
 * code several times (Argon2id above all), valgrind (VALGRIND set, as
 * tests/portaltest.py reads it) more.  The Python tests use the same. */
static inline int slow_factor(void)
{
#ifdef FIXTURE_SANITIZED
	return 4;
#else
	return getenv("VALGRIND") && getenv("VALGRIND")[0] ? 4 : 1;
#endif
}
#define SLOW slow_factor()

static inline void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---- scratch folders --------------------------------------------------------- */

/* Make dir (cap bytes) a new folder $TMPDIR/NAME.XXXXXX; false if it
 * cannot be made. */
static inline bool scratch_make(char *dir, size_t cap, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(dir, cap, "%s/%s.XXXXXX", tmp && tmp[0] ? tmp : "/tmp", name);

	return n > 0 && (size_t)n < cap && mkdtemp(dir) != NULL;
}

static inline int scratch_remove_one(const char *path, const struct stat *sb, int flag,
				     struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove the folder and everything in it (symbolic links not followed);
 * dir is "" after. */
static inline void scratch_remove(char *dir)
{
	if (dir[0])
		nftw(dir, scratch_remove_one, 16, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
}

/* Run checks between start and end (end runs whatever start did; it must
 * undo what start got done).  A start that fails is one FAIL line, named
 * after the group, and its checks are not run. */
static inline void run_group(const char *name, bool (*start)(void), void (*checks)(void),
			     void (*end)(void))
{
	char what[160];

	if (start()) {
		checks();
	} else {
		snprintf(what, sizeof what, "%s: its setup (a scratch folder, a database...)", name);
		CHECK(what, false);
	}
	end();
}

/* ---- ports ---------------------------------------------------------------- */

/* A loopback port where connections are refused: the descriptor holding it
 * (close it to give the port up), its number in *port; -1 on failure.
 * SO_REUSEADDR lets a server that binds with it too (tests/smtpserver.py)
 * listen on the port while it is still held: start the server, then close. */
static inline int refused_port(unsigned *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* Give up a port refused_port held (*fd -1 after, or already). */
static inline void release_port(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

#endif
