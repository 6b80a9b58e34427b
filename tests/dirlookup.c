/*
 * dirlookup.c - a user name looked up as portald looks it up
 * (helper/directory.h), for the names no request can carry: tests/test_ldap.py
 * sends the bytes a filter gives a meaning (* ( ) \ and NUL) straight to
 * the directory, to show that none of them widens the search.
 *
 *   dirlookup CONFIG HEXNAME
 *
 * prints "status S", "filter F", then "dn D" and "mail A" lines and
 * "detail X"; exit status 0, or 2 on bad usage or configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "directory.h"
#include "log.h"

static const char *const names[] = {
	[DIR_NOT_MANAGED] = "not-managed", [DIR_MANAGED] = "managed",
	[DIR_AMBIGUOUS] = "ambiguous", [DIR_UNAVAILABLE] = "unavailable",
};

static size_t unhex(const char *hex, char *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (hex[0] && hex[1] && n < cap && sscanf(hex, "%2x", &v) == 1) {
		out[n++] = (char)v;
		hex += 2;
	}
	return n;
}

int main(int argc, char **argv)
{
	static struct portal_config cfg;
	static struct dir_entry e;
	char err[512], name[256];
	struct directory *dir;
	size_t len;

	if (argc != 3)
		return 2;
	log_open(true);
	if (config_load(argv[1], &cfg, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	len = unhex(argv[2], name, sizeof name - 1);
	name[len] = '\0';
	dir = directory_open(&cfg, getuid(), err, sizeof err);
	if (!dir) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	directory_lookup(dir, name, len, true, &e);
	printf("status %s\nfilter %s\n", names[e.status], e.filter);
	for (unsigned i = 0; i < e.ndn; i++)
		printf("dn %s\n", e.dn[i]);
	for (unsigned i = 0; i < e.naddr; i++)
		printf("mail %s\n", e.addr[i]);
	printf("detail %s\n", e.detail);
	directory_close(dir);
	return 0;
}
