/*
 * clock.h - time for deadlines: the monotonic clock in milliseconds (which
 * a change of the date moves neither way), and the deadline of a timed
 * wait (pthread_cond_timedwait, pthread_mutex_timedlock), which takes an
 * absolute time on a given clock.
 */
#ifndef PORTAL_CLOCK_H
#define PORTAL_CLOCK_H

#include <time.h>

/* Nanoseconds on the monotonic clock (what the benchmarks time with). */
static inline long long clock_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Milliseconds on the monotonic clock. */
static inline long long clock_ms(void)
{
	return clock_ns() / 1000000;
}

/* The time on `clock` ms milliseconds from now. */
static inline struct timespec clock_after(clockid_t clock, long long ms)
{
	struct timespec t;

	clock_gettime(clock, &t);
	t.tv_sec += (time_t)(ms / 1000);
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

#endif
