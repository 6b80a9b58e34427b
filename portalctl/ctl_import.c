/*
 * ctl_import.c - `portalctl import FILE`: add users from a CSV file.
 *
 * The file streams through csv.c line by line; each good line becomes one
 * entry {TAG_LINE TAG_USER TAG_EMAIL} of a REQ_IMPORT batch, the batches
 * over two connections in turn (see struct lane).  A line is whole or
 * refused: a refused line is said as "FILE:LINE: why" and never sent, and
 * portald answers for each line it refuses, by number, so one bad line
 * never stops the others.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "client.h"
#include "csv.h"
#include "ctl.h"

static const struct i18n_text msg_open = I18N("%s: %s");
static const struct i18n_text msg_read = I18N(
	"read error after line %lu: %s");
static const struct i18n_text msg_stopped = I18N(
	"import stopped: nothing from line %lu on was imported");
static const struct i18n_text msg_lines_lost = I18N(
	"import stopped: lines %lu to %lu were not imported, nor anything after line %lu");
static const struct i18n_text msg_lost = I18N(
	"the connection to portald was lost: %s");
static const struct i18n_text msg_summary = I18N(
	"%lu added, %lu unchanged, %lu refused\n");
static const struct i18n_text csv_reasons[] = {
	[CSV_TOO_LONG] = I18N("line longer than 1024 bytes"),
	[CSV_NUL] = I18N("NUL byte in the line"),
	[CSV_BAD_UTF8] = I18N("the line is not valid UTF-8"),
	[CSV_BAD_QUOTE] = I18N(
		"unclosed or misplaced double quote"),
	[CSV_FIELD_COUNT] = I18N(
		"expected 2 fields: user,email"),
};

/* What was sent in a batch, to name the users portald refuses. */
struct sent {
	unsigned long line;
	char user[PORTAL_USER_MAX + 1];
};

/* Two connections take turns: while portald makes one batch durable (an
 * fsync of a few milliseconds, without its store lock), it adds the next
 * one, sent on the other.  Each batch is acknowledged on its own, only once
 * it is on disk, and answers are read in the order the batches were sent. */
#define LANES 2

struct lane {
	int fd;
	bool in_flight;                          /* sent, answer not read yet */
	struct proto_buf req;
	struct sent batch[PROTO_IMPORT_BATCH];   /* ascending line numbers */
	size_t n;
};

struct import {
	const char *name;                        /* for messages */
	struct lane lane[LANES];
	unsigned cur;                            /* the lane being filled */
	struct proto_buf entry;
	/* lines sent in answered batches; those portald neither added nor
	 * refused were already there, unchanged */
	unsigned long sent, added, refused_here, refused_there;
};

static const char *user_of(const struct lane *l, unsigned long line)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->batch[mid].line == line)
			return l->batch[mid].user;
		if (l->batch[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Send a lane's batch without waiting for the answer.  -1 when it could
 * not be sent (said). */
static int lane_send(struct ctl *c, struct lane *l)
{
	proto_finish(&l->req);
	if (proto_write_frame(l->fd, &l->req, CLIENT_TIMEOUT_MS) < 0) {
		ctl_fail(c, NULL, &msg_lost, strerror(errno));
		return -1;
	}
	l->in_flight = true;
	return 0;
}

/* Read the answer to a lane's batch and say which of its lines portald
 * refused.  -1 when the whole batch failed (said). */
static int lane_answer(struct ctl *c, struct import *im, struct lane *l)
{
	enum proto_result r;
	uint64_t added;
	ssize_t len = proto_read_frame(l->fd, c->frame, CLIENT_TIMEOUT_MS);

	l->in_flight = false;
	if (len < 0) {
		ctl_fail(c, NULL, &msg_lost, strerror(errno));
		return -1;
	}
	if (!proto_parse(c->frame, (size_t)len, &c->resp) || c->resp.type != PROTO_RESPONSE)
		return ctl_malformed(c), -1;
	r = client_result(&c->resp);
	if (r != RESULT_OK && r != RESULT_PARTIAL) {
		ctl_refused(c, &c->resp, NULL, NULL);
		return -1;
	}
	if (!proto_get_u64(&c->resp, TAG_COUNT, &added) || added > l->n)
		return ctl_malformed(c), -1;
	im->added += added;
	for (size_t i = 0; i < c->resp.nfields; i++) {
		char where[PATH_MAX + 32];
		uint64_t line = 0;

		if (c->resp.f[i].tag != TAG_ENTRY)
			continue;
		if (!ctl_entry(c, &c->resp.f[i]))
			return -1;
		proto_get_u64(&c->entry, TAG_LINE, &line);
		snprintf(where, sizeof where, "%s:%llu", im->name, (unsigned long long)line);
		ctl_refused(c, &c->entry, user_of(l, line), where);
		im->refused_there++;
	}
	im->sent += l->n;
	l->n = 0;
	return 0;
}

/* A batch failed: read what became of the other lane's batch, if one is
 * in flight (sent before or after the failed one), then say which lines
 * were not imported.  Returns -1. */
static int stopped(struct ctl *c, struct import *im, struct lane *failed)
{
	struct lane *other = &im->lane[(failed - im->lane + 1) % LANES];
	unsigned long first = failed->batch[0].line, last = failed->batch[failed->n - 1].line;

	failed->n = 0;
	if (other->in_flight) {
		unsigned long other_first = other->batch[0].line;
		unsigned long other_last = other->batch[other->n - 1].line;

		if (lane_answer(c, im, other) == 0 && other_first > first)
			return ctl_fail(c, NULL, &msg_lines_lost, first, last, other_last), -1;
		if (other_first < first)
			first = other_first;   /* the older batch failed as well */
	}
	return ctl_fail(c, NULL, &msg_stopped, first), -1;
}

/* Send the batch being filled, then turn to the other lane, reading the
 * answer to the batch still in flight there.  -1 when the import had to
 * stop (said). */
static int flush(struct ctl *c, struct import *im)
{
	struct lane *l = &im->lane[im->cur];

	if (l->n == 0)
		return 0;
	if (lane_send(c, l) < 0)
		return stopped(c, im, l);
	im->cur = (im->cur + 1) % LANES;
	l = &im->lane[im->cur];
	if (l->in_flight && lane_answer(c, im, l) < 0)
		return stopped(c, im, l);
	return 0;
}

/* Read the answers still to come, oldest first. */
static int drain(struct ctl *c, struct import *im)
{
	for (unsigned i = 1; i <= LANES; i++) {
		struct lane *l = &im->lane[(im->cur + i) % LANES];

		if (l->in_flight && lane_answer(c, im, l) < 0)
			return stopped(c, im, l);
	}
	return 0;
}

/* Add a good line to the batch being filled, sending it first when it is
 * full by count or by size. */
static int queue(struct ctl *c, struct import *im, unsigned long line, const char *user,
		 const char *email)
{
	struct lane *l = &im->lane[im->cur];

	proto_begin_body(&im->entry);
	proto_put_u64(&im->entry, TAG_LINE, line);
	proto_put_str(&im->entry, TAG_USER, user);
	proto_put_str(&im->entry, TAG_EMAIL, email);
	if (l->n == PROTO_IMPORT_BATCH ||
	    (l->n > 0 && l->req.len + 3 + im->entry.len > PROTO_HEADER + PROTO_MAX_BODY)) {
		if (flush(c, im) < 0)
			return -1;
		l = &im->lane[im->cur];
	}
	if (l->n == 0)
		proto_begin(&l->req, REQ_IMPORT);
	proto_put_nested(&l->req, TAG_ENTRY, &im->entry);
	l->batch[l->n].line = line;
	memcpy(l->batch[l->n].user, user, strlen(user) + 1);
	l->n++;
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
			return flush(c, im) < 0 ? -1 : drain(c, im);
		if (st == CSV_SKIP)
			continue;
		if (st == CSV_READ_ERROR) {
			ctl_fail(c, im->name, &msg_read, r->line, strerror(errno));
			if (flush(c, im) == 0)
				drain(c, im);
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
	if (!ctl_members_local(c))
		return CTL_FAIL;
	im.name = from_stdin ? "<stdin>" : argv[0];
	in = from_stdin ? stdin : fopen(argv[0], "re");
	if (!in)
		return ctl_fail(c, NULL, &msg_open, argv[0], strerror(errno));
	rc = ctl_connect(c);
	if (rc == CTL_OK) {
		char err[256];

		/* Without a second connection both lanes share the first: the
		 * answers still come in order, only without the overlap. */
		im.lane[0].fd = c->fd;
		im.lane[1].fd = client_connect(c->cfg.socket, err, sizeof err);
		if (im.lane[1].fd < 0)
			im.lane[1].fd = c->fd;
		csv_init(&r, in);
		rc = import_lines(c, &im, &r) < 0 ? CTL_FAIL : CTL_OK;
		if (im.lane[1].fd != c->fd)
			close(im.lane[1].fd);
		refused = im.refused_here + im.refused_there;
		unchanged = im.sent > im.added + im.refused_there ?
			    im.sent - im.added - im.refused_there : 0;
		ctl_say(c, stdout, &msg_summary, im.added, unchanged, refused);
	}
	if (!from_stdin)
		fclose(in);
	return rc == CTL_OK && refused ? CTL_FAIL : rc;
}
