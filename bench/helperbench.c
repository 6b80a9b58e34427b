/*
 * helperbench.c - load portald through its socket with the product's own
 * client code (client.c, proto.c), as pam_portal.so talks to it.
 *
 *   helperbench status SOCKET USERFILE CLIENTS SECONDS [keep]
 *   helperbench send-code SOCKET CSVFILE COUNT CLIENTS
 *
 * status: CLIENTS threads ask REQ_STATUS for the users of USERFILE (one a
 * line) in turn for SECONDS.  Each request opens a connection of its own,
 * as the module does for every step; with `keep` each client keeps one
 * connection for all its requests.
 *
 * send-code: REQ_SEND_CODE for the first COUNT lines `user,email` of
 * CSVFILE (the address on file, so every request queues a mail), spread
 * over CLIENTS threads.
 *
 * Output: "requests N seconds S", "client_min N client_max N" (requests
 * answered by the least and the most served client), "errors N", then one
 * line per request, "lat LATENCY_US".  bench/bench.py makes the tables.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "client.h"
#include "clock.h"

#define CLIENTS_MAX 256
#define USERS_MAX   1000000
#define LAT_MAX     (4 * 1000 * 1000)   /* latencies kept per client */

struct job {
	const char *socket;
	char **users, **emails;
	size_t nusers;
	enum { JOB_STATUS, JOB_SEND_CODE } kind;
	bool keep;
	long long until_ns;        /* status: stop then */
	size_t step, count;        /* send-code: client i takes lines i, i+step, ... < count */
};

struct client {
	pthread_t tid;
	const struct job *job;
	unsigned index;
	unsigned *lat;             /* µs, one per answered request */
	size_t n;
	unsigned long errors;
	char why[256];             /* the first error, for stderr */
	/* the module's buffers: too large for a thread's stack */
	struct proto_buf req;
	uint8_t frame[PROTO_MAX_FRAME];
	struct proto_msg resp;
};

static void build(struct client *c, size_t i)
{
	const struct job *j = c->job;

	if (j->kind == JOB_STATUS) {
		proto_begin(&c->req, REQ_STATUS);
		proto_put_str(&c->req, TAG_USER, j->users[i % j->nusers]);
	} else {
		proto_begin(&c->req, REQ_SEND_CODE);
		proto_put_str(&c->req, TAG_USER, j->users[i]);
		proto_put_str(&c->req, TAG_EMAIL, j->emails[i]);
	}
}

/* One request: a connection of its own, or the kept one (-1: none yet). */
static bool ask(struct client *c, int *fd)
{
	char err[256] = "";
	ssize_t rc = -1;

	if (!c->job->keep) {
		rc = client_request(c->job->socket, &c->req, c->frame, &c->resp, err, sizeof err);
	} else if (*fd >= 0 || (*fd = client_connect(c->job->socket, err, sizeof err)) >= 0) {
		rc = client_call(*fd, &c->req, c->frame, &c->resp, err, sizeof err);
		if (rc < 0) {
			close(*fd);
			*fd = -1;
		}
	}
	if (rc >= 0 && client_result(&c->resp) == RESULT_OK)
		return true;
	if (!c->why[0])
		snprintf(c->why, sizeof c->why, "%s", rc < 0 ? err :
			 proto_result_name(client_result(&c->resp)));
	return false;
}

static void *run(void *arg)
{
	struct client *c = arg;
	const struct job *j = c->job;
	int fd = -1;
	/* status: clients start far apart in the list of users */
	size_t i = j->kind == JOB_STATUS ? (size_t)c->index * 7919 : c->index;

	for (;;) {
		long long t0 = clock_ns();

		if (j->kind == JOB_STATUS ? t0 >= j->until_ns : i >= j->count)
			break;
		build(c, i);
		if (!ask(c, &fd))
			c->errors++;
		else if (c->n < LAT_MAX)
			c->lat[c->n++] = (unsigned)((clock_ns() - t0) / 1000);
		i += j->kind == JOB_STATUS ? 1 : j->step;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* USERFILE lines are "user" or "user,email". */
static size_t read_users(const char *path, struct job *j)
{
	FILE *f = fopen(path, "re");
	char line[512];
	size_t n = 0;

	j->users = calloc(USERS_MAX, sizeof *j->users);
	j->emails = calloc(USERS_MAX, sizeof *j->emails);
	if (!f || !j->users || !j->emails) {
		perror(path);
		exit(2);
	}
	while (n < USERS_MAX && fgets(line, sizeof line, f)) {
		char *comma;

		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		comma = strchr(line, ',');
		if (comma)
			*comma++ = '\0';
		j->users[n] = strdup(line);
		j->emails[n] = strdup(comma ? comma : "");
		if (!j->users[n] || !j->emails[n])
			exit(2);
		n++;
	}
	fclose(f);
	return n;
}

static int usage(void)
{
	fprintf(stderr, "usage: helperbench status SOCKET USERFILE CLIENTS SECONDS [keep]\n"
		"       helperbench send-code SOCKET CSVFILE COUNT CLIENTS\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct client clients[CLIENTS_MAX];
	struct job j = { 0 };
	unsigned nclients;
	size_t total = 0, lo = (size_t)-1, hi = 0;
	unsigned long errors = 0;
	long long t0, t1;

	if (argc < 6)
		return usage();
	j.socket = argv[2];
	j.nusers = read_users(argv[3], &j);
	if (strcmp(argv[1], "status") == 0) {
		j.kind = JOB_STATUS;
		nclients = (unsigned)atoi(argv[4]);
		j.keep = argc > 6 && strcmp(argv[6], "keep") == 0;
	} else if (strcmp(argv[1], "send-code") == 0) {
		j.kind = JOB_SEND_CODE;
		j.count = (size_t)atol(argv[4]);
		nclients = (unsigned)atoi(argv[5]);
		if (j.count > j.nusers)
			j.count = j.nusers;
	} else {
		return usage();
	}
	if (nclients == 0 || nclients > CLIENTS_MAX || j.nusers == 0)
		return usage();
	j.step = nclients;
	t0 = clock_ns();
	j.until_ns = t0 + (long long)(atof(argv[5]) * 1e9);
	for (unsigned i = 0; i < nclients; i++) {
		struct client *c = &clients[i];

		c->job = &j;
		c->index = i;
		c->lat = malloc(LAT_MAX * sizeof *c->lat);
		if (!c->lat || pthread_create(&c->tid, NULL, run, c) != 0) {
			perror("client");
			return 1;
		}
	}
	for (unsigned i = 0; i < nclients; i++)
		pthread_join(clients[i].tid, NULL);
	t1 = clock_ns();
	for (unsigned i = 0; i < nclients; i++) {
		total += clients[i].n;
		errors += clients[i].errors;
		if (clients[i].why[0])
			fprintf(stderr, "helperbench: client %u: %lu errors, the first: %s\n", i,
				clients[i].errors, clients[i].why);
		lo = clients[i].n < lo ? clients[i].n : lo;
		hi = clients[i].n > hi ? clients[i].n : hi;
	}
	printf("requests %zu seconds %.3f\nclient_min %zu client_max %zu\nerrors %lu\n",
	       total, (double)(t1 - t0) / 1e9, lo, hi, errors);
	for (unsigned i = 0; i < nclients; i++)
		for (size_t k = 0; k < clients[i].n; k++)
			printf("lat %u\n", clients[i].lat[k]);
	return errors ? 1 : 0;
}
