/*
 * ctl_import.c - `portalctl import FILE`: add users from a CSV file.
 *
 * The file streams through csv.c line by line; each good line becomes one
 * entry {F_LINE F_USER F_EMAIL} of a REQ_IMPORT batch, all batches over one
 * connection.  A line is whole or refused: a refused line is said as
 * "FILE:LINE: why" and never sent, and portald answers for each line it
 * refuses, by number, so one bad line never stops the others.
 */
#include <errno.h>
#include <string.h>
#include "client.h"
#include "csv.h"
#include "ctl.h"

static const struct i18n_text msg_open = { "%s : %s", "%s: %s" };
static const struct i18n_text msg_read = {
	"erreur de lecture après la ligne %lu : %s",
	"read error after line %lu: %s",
};
static const struct i18n_text msg_stopped = {
	"import interrompu : rien n'a été importé à partir de la ligne %lu",
	"import stopped: nothing from line %lu on was imported",
};
static const struct i18n_text msg_summary = {
	"%lu ajoutés, %lu inchangés, %lu refusés\n",
	"%lu added, %lu unchanged, %lu refused\n",
};
static const struct i18n_text csv_reasons[] = {
	[CSV_TOO_LONG] = { "ligne de plus de 1024 octets", "line longer than 1024 bytes" },
	[CSV_NUL] = { "octet NUL dans la ligne", "NUL byte in the line" },
	[CSV_BAD_UTF8] = { "la ligne n'est pas en UTF-8 valide", "the line is not valid UTF-8" },
	[CSV_BAD_QUOTE] = {
		"guillemet non fermé ou mal placé",
		"unclosed or misplaced double quote" },
	[CSV_FIELD_COUNT] = {
		"2 champs attendus : utilisateur,courriel",
		"expected 2 fields: user,email" },
};

/* What was sent in the batch in flight, to name the users portald refuses. */
struct sent {
	unsigned long line;
	char user[PORTAL_USER_MAX + 1];
};

struct import {
	const char *name;                        /* for messages */
	struct sent batch[PROTO_IMPORT_BATCH];   /* ascending line numbers */
	size_t n;
	struct proto_buf entry;
	/* lines sent in answered batches; those portald neither added nor
	 * refused were already there, unchanged */
	unsigned long sent, added, refused_here, refused_there;
};

static const char *user_of(const struct import *im, unsigned long line)
{
	size_t lo = 0, hi = im->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (im->batch[mid].line == line)
			return im->batch[mid].user;
		if (im->batch[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Send the batch in flight and say which of its lines portald refused.
 * -1 when the whole batch failed (said). */
static int flush(struct ctl *c, struct import *im)
{
	enum proto_result r;
	uint64_t added;

	if (im->n == 0)
		return 0;
	if (ctl_call(c) < 0)
		goto stopped;
	r = client_result(&c->resp);
	if (r != R_OK && r != R_PARTIAL) {
		ctl_refused(c, &c->resp, NULL, NULL);
		goto stopped;
	}
	if (!proto_get_u64(&c->resp, F_COUNT, &added) || added > im->n) {
		ctl_malformed(c);
		goto stopped;
	}
	im->added += added;
	for (size_t i = 0; i < c->resp.nfields; i++) {
		char where[PATH_MAX + 32];
		uint64_t line = 0;

		if (c->resp.f[i].tag != F_ENTRY)
			continue;
		if (!ctl_entry(c, &c->resp.f[i]))
			goto stopped;
		proto_get_u64(&c->entry, F_LINE, &line);
		snprintf(where, sizeof where, "%s:%llu", im->name, (unsigned long long)line);
		ctl_refused(c, &c->entry, user_of(im, line), where);
		im->refused_there++;
	}
	im->sent += im->n;
	im->n = 0;
	return 0;
stopped:
	ctl_fail(c, NULL, &msg_stopped, im->batch[0].line);
	return -1;
}

/* Add a good line to the batch in flight, sending the batch first when it
 * is full by count or by size. */
static int queue(struct ctl *c, struct import *im, unsigned long line, const char *user,
		 const char *email)
{
	proto_begin_body(&im->entry);
	proto_put_u64(&im->entry, F_LINE, line);
	proto_put_str(&im->entry, F_USER, user);
	proto_put_str(&im->entry, F_EMAIL, email);
	if (im->n == PROTO_IMPORT_BATCH ||
	    (im->n > 0 && c->req.len + 3 + im->entry.len > PROTO_HEADER + PROTO_MAX_BODY)) {
		if (flush(c, im) < 0)
			return -1;
	}
	if (im->n == 0)
		proto_begin(&c->req, REQ_IMPORT);
	proto_put_nested(&c->req, F_ENTRY, &im->entry);
	im->batch[im->n].line = line;
	memcpy(im->batch[im->n].user, user, strlen(user) + 1);
	im->n++;
	return 0;
}

/* Read every line, refusing bad ones here and queueing the others.
 * -1 when the import had to stop (said). */
static int import_lines(struct ctl *c, struct import *im, struct csv_reader *r)
{
	char where[PATH_MAX + 32];

	for (;;) {
		enum csv_status st = csv_next(r);

		if (st == CSV_END)
			return flush(c, im);
		if (st == CSV_SKIP)
			continue;
		if (st == CSV_READ_ERROR) {
			ctl_fail(c, im->name, &msg_read, r->line, strerror(errno));
			flush(c, im);
			return -1;
		}
		snprintf(where, sizeof where, "%s:%lu", im->name, r->line);
		if (st != CSV_ROW) {
			ctl_fail(c, where, &csv_reasons[st]);
			im->refused_here++;
		} else if (!ctl_check_user(c, r->user, where) ||
			   !ctl_check_email(c, r->user, r->email, where)) {
			im->refused_here++;
		} else if (queue(c, im, r->line, r->user, r->email) < 0) {
			return -1;
		}
	}
}

int ctl_import(struct ctl *c, int argc, char **argv)
{
	static struct import im;   /* a batch is too big for a stack */
	struct csv_reader r;
	unsigned long unchanged, refused = 0;
	bool from_stdin = strcmp(argv[0], "-") == 0;
	FILE *in;
	int rc;

	(void)argc;
	im.name = from_stdin ? "<stdin>" : argv[0];
	in = from_stdin ? stdin : fopen(argv[0], "re");
	if (!in)
		return ctl_fail(c, NULL, &msg_open, argv[0], strerror(errno));
	rc = ctl_connect(c);
	if (rc == CTL_OK) {
		csv_init(&r, in);
		rc = import_lines(c, &im, &r) < 0 ? CTL_FAIL : CTL_OK;
		refused = im.refused_here + im.refused_there;
		unchanged = im.sent > im.added + im.refused_there ?
			    im.sent - im.added - im.refused_there : 0;
		ctl_say(c, stdout, &msg_summary, im.added, unchanged, refused);
	}
	if (!from_stdin)
		fclose(in);
	return rc == CTL_OK && refused ? CTL_FAIL : rc;
}
