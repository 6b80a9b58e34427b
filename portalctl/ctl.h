/*
 * ctl.h - what the parts of portalctl share: the session with portald, the
 * language of its messages, and how results and times are shown.
 *
 * portalctl.c reads the command line and owns the session; ctl_user.c,
 * ctl_import.c and ctl_daemon.c each hold the commands of their name.
 * A command returns the process exit status (CTL_OK, CTL_FAIL, CTL_USAGE).
 */
#ifndef PORTAL_CTL_H
#define PORTAL_CTL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "config.h"
#include "i18n.h"
#include "proto.h"

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

#define CTL_TIME_MAX 32   /* room for "YYYY-MM-DD HH:MM" */

struct ctl {
	enum lang lang;
	const char *config_path;
	struct portal_config cfg;
	int fd;                          /* -1 until connected */
	struct proto_buf req;
	uint8_t frame[PROTO_MAX_FRAME];  /* the last response */
	struct proto_msg resp;           /* parsed from frame */
	struct proto_msg entry;          /* one TAG_ENTRY of resp, parsed */
};

static inline const char *ctl_text(const struct ctl *c, const struct i18n_text *t)
{
	return i18n(c->lang, t);
}

/*
 * Messages.  A text's two formats take the same arguments (they are picked
 * at run time, so the compiler cannot check them: tests/test_i18n_po.py
 * checks that po/fr.po keeps the English one's conversions, in order).
 */
/* Formatted text in the session's language on out. */
void ctl_say(const struct ctl *c, FILE *out, const struct i18n_text *t, ...);
/* The same into a buffer. */
void ctl_format(const struct ctl *c, char *out, size_t cap, const struct i18n_text *t, ...);
/* "WHERE: text" on stderr, WHERE being "portalctl" when NULL (or a file
 * and line).  Returns CTL_FAIL. */
int ctl_fail(const struct ctl *c, const char *where, const struct i18n_text *t, ...);
/* A usage mistake, then a hint to --help.  Returns CTL_USAGE. */
int ctl_usage(const struct ctl *c, const struct i18n_text *t, ...);

/* An answer from portald that lacks what it must carry.  Returns CTL_FAIL. */
int ctl_malformed(const struct ctl *c);

/* Check a user name, or the address of a user whose name passed, before
 * they are sent, saying what is wrong on stderr; `where` (may be NULL)
 * starts the line instead of "portalctl". */
bool ctl_check_user(const struct ctl *c, const char *user, const char *where);
bool ctl_check_email(const struct ctl *c, const char *user, const char *email,
		     const char *where);

/* Load the configuration and connect to portald once; every request of the
 * command then goes over that connection.  CTL_OK, or CTL_FAIL said. */
int ctl_connect(struct ctl *c);
/* Send c->req (built with proto_begin) and read the answer into c->resp.
 * -1 when portald could not be reached (said). */
int ctl_call(struct ctl *c);
/* Say on stderr why portald refused, from m's TAG_RESULT and TAG_DETAIL (m is
 * a response or one of its entries).  `user` (may be NULL) names the
 * subject; `where` (may be NULL) starts the line instead of "portalctl". */
void ctl_refused(const struct ctl *c, const struct proto_msg *m, const char *user,
		 const char *where);
/* Parse a TAG_ENTRY field of c->resp into c->entry; false when malformed. */
bool ctl_entry(struct ctl *c, const struct proto_field *f);
/* Page through a list request: calls `row` for every TAG_ENTRY, sending
 * TAG_CURSOR back until portald gives none.  `begin` builds the request
 * (without the cursor).  CTL_OK, or CTL_FAIL said. */
int ctl_pages(struct ctl *c, void (*begin)(struct ctl *c, void *arg),
	      int (*row)(struct ctl *c, void *arg), void *arg);

struct table;
/* table_add, saying when memory ran out.  CTL_OK or CTL_FAIL. */
int ctl_table_add(const struct ctl *c, struct table *t, const char *const cell[]);

/* Local time "YYYY-MM-DD HH:MM". */
void ctl_time(uint64_t t, char *out, size_t cap);

/* The commands. */
int ctl_user_add(struct ctl *c, int argc, char **argv);
int ctl_user_del(struct ctl *c, int argc, char **argv);
int ctl_user_show(struct ctl *c, int argc, char **argv);
int ctl_user_list(struct ctl *c, int argc, char **argv);
int ctl_user_reset(struct ctl *c, int argc, char **argv);
int ctl_user_unlock(struct ctl *c, int argc, char **argv);
int ctl_import(struct ctl *c, int argc, char **argv);
int ctl_outbox(struct ctl *c, int argc, char **argv);
int ctl_status(struct ctl *c, int argc, char **argv);
int ctl_directory_lookup(struct ctl *c, int argc, char **argv);

/* The configuration read: true when portalctl holds the members
 * (directory = local); else said, the directory being their source. */
bool ctl_members_local(struct ctl *c);
/* The directory's rows of `portalctl status`, from the TAG_ENTRY of its
 * answer in c->resp, into lab and val (at most 4; buf holds their text):
 * how many, 0 for directory = local. */
unsigned ctl_directory_health(struct ctl *c, const char *lab[], const char *val[],
			      char (*buf)[320]);
int ctl_db_schema(struct ctl *c, int argc, char **argv);
int ctl_db_init(struct ctl *c, int argc, char **argv);

#endif
