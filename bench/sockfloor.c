/*
 * sockfloor.c - the floor under the latencies of portald's tables: one
 * request and its answer over a Unix stream socket with nothing behind
 * them.
 *
 *   sockfloor DIR SECONDS [keep]
 *
 * A thread of this program serves a socket in DIR the way portald's event
 * loop does (epoll, accept4, one read, one send); the main thread sends it
 * a request of a status look-up's size and reads the answer, for SECONDS,
 * with a connection per request as the module makes, or one kept
 * connection with `keep`.  Nothing is looked up, checked or parsed: what
 * remains is what the kernel and the machine's scheduler cost.
 *
 * Output as helperbench's: "requests N seconds S", "client_min N
 * client_max N", "errors N", then "lat LATENCY_US" lines.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"

#define REQUEST_LEN 21     /* a REQ_STATUS frame for a 10-letter name */
#define ANSWER_LEN  120    /* about what portald answers to it */
#define LAT_MAX     (4 * 1000 * 1000)

static struct sockaddr_un addr = { .sun_family = AF_UNIX };
static int listener;

/* Answer what is there on fd: 0, or -1 at the end of the connection or
 * on an error (the caller closes it). */
static int answer(int fd)
{
	char buf[256] = { 0 };
	ssize_t r = read(fd, buf, sizeof buf);

	if (r <= 0)
		return r == 0 || errno != EAGAIN ? -1 : 0;
	return send(fd, buf, ANSWER_LEN, MSG_DONTWAIT | MSG_NOSIGNAL) == ANSWER_LEN ? 0 : -1;
}

static void *serve(void *arg)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = listener };

	(void)arg;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) < 0) {
		perror("sockfloor: epoll");
		exit(1);
	}
	for (;;) {
		struct epoll_event got[64];
		int n = epoll_wait(ep, got, 64, -1);

		for (int i = 0; i < n; i++) {
			int fd = got[i].data.fd, c;

			if (fd != listener) {
				if (answer(fd) < 0)
					close(fd);
				continue;
			}
			while ((c = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				struct epoll_event cev = { .events = EPOLLIN, .data.fd = c };

				if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) < 0 || answer(c) < 0)
					close(c);
			}
		}
	}
	return NULL;
}

static int dial(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* One request and its whole answer. */
static int ask(int fd)
{
	char buf[ANSWER_LEN] = "PP";
	size_t got = 0;

	if (send(fd, buf, REQUEST_LEN, MSG_NOSIGNAL) != REQUEST_LEN)
		return -1;
	while (got < ANSWER_LEN) {
		ssize_t r = recv(fd, buf + got, ANSWER_LEN - got, 0);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned *lat = malloc(LAT_MAX * sizeof *lat);
	unsigned long errors = 0;
	size_t n = 0;
	int keep = argc == 4 && strcmp(argv[3], "keep") == 0, fd = -1;
	long long start, until;
	pthread_t tid;

	if ((argc != 3 && !keep) || !lat ||
	    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/floor.sock", argv[1]) >=
	    (int)sizeof addr.sun_path) {
		fprintf(stderr, "usage: sockfloor DIR SECONDS [keep]\n");
		return 2;
	}
	unlink(addr.sun_path);
	listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 ||
	    listen(listener, 128) < 0 || pthread_create(&tid, NULL, serve, NULL) != 0) {
		perror("sockfloor: listen");
		return 1;
	}
	start = clock_ns();
	until = start + atoll(argv[2]) * 1000000000LL;
	while (n < LAT_MAX) {
		long long t = clock_ns();

		if (t >= until)
			break;
		if (fd < 0)
			fd = dial();
		if (fd < 0 || ask(fd) < 0) {
			errors++;
			if (fd >= 0)
				close(fd);
			fd = -1;
			continue;
		}
		if (!keep) {
			close(fd);
			fd = -1;
		}
		lat[n++] = (unsigned)((clock_ns() - t) / 1000);
	}
	printf("requests %zu seconds %.3f\nclient_min %zu client_max %zu\nerrors %lu\n", n,
	       (double)(clock_ns() - start) / 1e9, n, n, errors);
	for (size_t i = 0; i < n; i++)
		printf("lat %u\n", lat[i]);
	unlink(addr.sun_path);
	return 0;
}
