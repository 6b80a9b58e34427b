/*
 * ctl.c - portalctl's session with portald and the ways it speaks to the
 * administrator: errors, refusals, times.  See ctl.h.
 */
#include "ctl.h"

#include <string.h>
#include "client.h"
#include "ctl_table.h"
#include "valid.h"

#define CURSOR_MAX 256

/* TRANSLATORS: a message that is already in the right language. */
static const struct i18n_text msg_as_is = I18N("%s");
static const struct i18n_text msg_unreachable = I18N(
	"cannot reach portald at %s: %s");
static const struct i18n_text msg_malformed = I18N(
	"portald sent an answer portalctl cannot read");
static const struct i18n_text msg_try_help = I18N(
	"Try 'portalctl --help'.\n");
static const struct i18n_text msg_bad_user = I18N(
	"'%s' is not a valid user name (letters, digits, '.', '_' and '-', at most 64, "
	"not starting with '.' or '-')");
static const struct i18n_text msg_bad_email = I18N(
	"%s: '%s' is not a valid e-mail address");
static const struct i18n_text msg_no_memory = I18N(
	"out of memory");
static const struct i18n_text msg_unexpected = I18N(
	"unexpected answer from portald: %s");

/* What each refusal means to the administrator.  `about_user` refusals are
 * said about the user the command named. */
static const struct {
	enum proto_result result;
	bool about_user;
	struct i18n_text text;
} refusals[] = {
	{ RESULT_BAD_REQUEST, false, I18N(
		"portald did not understand the request (are portalctl and portald the same version?)") },
	{ RESULT_DENIED, false, I18N(
		"permission denied: run portalctl as root") },
	{ RESULT_INVALID, true, I18N(
		"value refused by portald") },
	{ RESULT_NOT_FOUND, true, I18N(
		"no such managed user") },
	{ RESULT_EXISTS, true, I18N(
		"already a managed user") },
	{ RESULT_LOCKED, true, I18N(
		"the user is locked") },
	{ RESULT_STATE, true, I18N(
		"not possible in the user's present state") },
	{ RESULT_STORAGE, false, I18N(
		"portald could not write to its database; try again later") },
	{ RESULT_BUSY, false, I18N(
		"portald is busy; try again in a moment") },
	{ RESULT_INTERNAL, false, I18N(
		"portald hit an internal error; see its log") },
	{ RESULT_UNAVAILABLE, false, I18N(
		"the directory cannot be reached, and portald has no recent answer for this") },
	{ RESULT_AMBIGUOUS, true, I18N(
		"several entries of the directory have this user name: refused") },
};

void ctl_say(const struct ctl *c, FILE *out, const struct i18n_text *t, ...)
{
	va_list ap;

	va_start(ap, t);
	vfprintf(out, ctl_text(c, t), ap);
	va_end(ap);
}

void ctl_format(const struct ctl *c, char *out, size_t cap, const struct i18n_text *t, ...)
{
	va_list ap;

	va_start(ap, t);
	vsnprintf(out, cap, ctl_text(c, t), ap);
	va_end(ap);
}

static void vfail(const struct ctl *c, const char *where, const struct i18n_text *t,
		  va_list ap)
{
	fprintf(stderr, "%s: ", where ? where : "portalctl");
	vfprintf(stderr, ctl_text(c, t), ap);
	fputc('\n', stderr);
}

int ctl_fail(const struct ctl *c, const char *where, const struct i18n_text *t, ...)
{
	va_list ap;

	va_start(ap, t);
	vfail(c, where, t, ap);
	va_end(ap);
	return CTL_FAIL;
}

int ctl_usage(const struct ctl *c, const struct i18n_text *t, ...)
{
	va_list ap;

	va_start(ap, t);
	vfail(c, NULL, t, ap);
	va_end(ap);
	fputs(ctl_text(c, &msg_try_help), stderr);
	return CTL_USAGE;
}

int ctl_malformed(const struct ctl *c)
{
	return ctl_fail(c, NULL, &msg_malformed);
}

bool ctl_check_user(const struct ctl *c, const char *user, const char *where)
{
	char safe[PORTAL_USER_MAX * 4];

	if (valid_user(user))
		return true;
	table_safe(user, safe, sizeof safe);
	ctl_fail(c, where, &msg_bad_user, safe);
	return false;
}

bool ctl_check_email(const struct ctl *c, const char *user, const char *email,
		     const char *where)
{
	char safe[PORTAL_EMAIL_MAX * 2];

	if (valid_email(email))
		return true;
	table_safe(email, safe, sizeof safe);
	ctl_fail(c, where, &msg_bad_email, user, safe);
	return false;
}

/* client.c starts most reasons with the socket path, which the message
 * already names. */
static const char *without_path(const char *err, const char *path)
{
	size_t n = strlen(path);

	if (strncmp(err, path, n) == 0 && strncmp(err + n, ": ", 2) == 0)
		return err + n + 2;
	return err;
}

int ctl_connect(struct ctl *c)
{
	char err[512];

	if (config_load(c->config_path, &c->cfg, err, sizeof err) < 0)
		return ctl_fail(c, NULL, &msg_as_is, err);
	c->fd = client_connect(c->cfg.socket, err, sizeof err);
	if (c->fd < 0)
		return ctl_fail(c, NULL, &msg_unreachable, c->cfg.socket,
				without_path(err, c->cfg.socket));
	return CTL_OK;
}

int ctl_call(struct ctl *c)
{
	char err[512];

	if (client_call(c->fd, &c->req, c->frame, &c->resp, err, sizeof err) < 0) {
		ctl_fail(c, NULL, &msg_unreachable, c->cfg.socket,
			 without_path(err, c->cfg.socket));
		return -1;
	}
	return 0;
}

void ctl_refused(const struct ctl *c, const struct proto_msg *m, const char *user,
		 const char *where)
{
	enum proto_result r = client_result(m);
	char detail[256];
	size_t i;

	fprintf(stderr, "%s: ", where ? where : "portalctl");
	for (i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
		if (refusals[i].result == r)
			break;
	if (i == sizeof refusals / sizeof refusals[0]) {
		ctl_say(c, stderr, &msg_unexpected, proto_result_name(r));
	} else {
		if (refusals[i].about_user && user)
			fprintf(stderr, "%s: ", user);
		fputs(ctl_text(c, &refusals[i].text), stderr);
	}
	if (proto_get_str(m, TAG_DETAIL, detail, sizeof detail)) {
		table_safe(detail, detail, sizeof detail);
		fprintf(stderr, " (%s)", detail);
	}
	fputc('\n', stderr);
}

bool ctl_entry(struct ctl *c, const struct proto_field *f)
{
	if (f->tag != TAG_ENTRY || !proto_parse_body(f->data, f->len, &c->entry)) {
		ctl_malformed(c);
		return false;
	}
	return true;
}

int ctl_pages(struct ctl *c, void (*begin)(struct ctl *c, void *arg),
	      int (*row)(struct ctl *c, void *arg), void *arg)
{
	char cursor[CURSOR_MAX] = "", next[CURSOR_MAX];

	for (;;) {
		begin(c, arg);
		if (cursor[0])
			proto_put_str(&c->req, TAG_CURSOR, cursor);
		if (ctl_call(c) < 0)
			return CTL_FAIL;
		if (client_result(&c->resp) != RESULT_OK) {
			ctl_refused(c, &c->resp, NULL, NULL);
			return CTL_FAIL;
		}
		for (size_t i = 0; i < c->resp.nfields; i++) {
			if (c->resp.f[i].tag != TAG_ENTRY)
				continue;
			if (!ctl_entry(c, &c->resp.f[i]) || row(c, arg) != CTL_OK)
				return CTL_FAIL;
		}
		if (!proto_get_str(&c->resp, TAG_CURSOR, next, sizeof next))
			return CTL_OK;
		/* a cursor that does not move would page forever */
		if (strcmp(next, cursor) == 0)
			return ctl_malformed(c);
		memcpy(cursor, next, sizeof cursor);
	}
}

int ctl_table_add(const struct ctl *c, struct table *t, const char *const cell[])
{
	return table_add(t, cell) ? CTL_OK : ctl_fail(c, NULL, &msg_no_memory);
}

void ctl_time(uint64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || strftime(out, cap, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(out, cap, "?");
}
