/*
 * check.h - the smallest test harness: every CHECK prints one line,
 * "PASS <name>" or "FAIL <name>: <where>", which tests/run.sh counts.
 * A unit test's main() ends with `return check_done();`.
 */
#ifndef PORTAL_CHECK_H
#define PORTAL_CHECK_H

#include <stdio.h>

static int check_failed;

#define CHECK(name, cond) do {                                              \
		if (cond) {                                                 \
			printf("PASS %s\n", (name));                        \
		} else {                                                    \
			printf("FAIL %s: %s:%d: %s\n", (name), __FILE__,    \
			       __LINE__, #cond);                             \
			check_failed++;                                     \
		}                                                           \
		fflush(stdout);                                             \
	} while (0)

static inline int check_done(void)
{
	return check_failed ? 1 : 0;
}

#endif
