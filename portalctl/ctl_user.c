/*
 * ctl_user.c - `portalctl user ...`: add, del, show, list, reset, unlock.
 */
#include <string.h>
#include "client.h"
#include "ctl.h"
#include "ctl_table.h"

static const struct i18n_text msg_added = I18N(
	"User %s added (%s); they will verify this address at their next sign-in.\n");
static const struct i18n_text msg_deleted = I18N(
	"User %s removed from the portal.\n");
static const struct i18n_text msg_reset = I18N(
	"User %s reset: at their next sign-in they will verify their e-mail address and "
	"create a new password.\n");
static const struct i18n_text msg_unlocked = I18N(
	"User %s unlocked.\n");
static const struct i18n_text msg_no_users = I18N(
	"No managed users.\n");
static const struct i18n_text msg_no_users_in = I18N(
	"No managed users in state %s.\n");
static const struct i18n_text msg_bad_state = I18N(
	"unknown state: %s (pending, active or locked)");
static const struct i18n_text msg_list_usage = I18N(
	"usage: portalctl user list [--state pending|active|locked]");

/* user show */
static const struct i18n_text label_user = I18N("user");
static const struct i18n_text label_email = I18N("e-mail");
static const struct i18n_text label_state = I18N("state");
static const struct i18n_text label_created = I18N("created");
static const struct i18n_text label_last = I18N("last sign-in");
static const struct i18n_text label_failures = I18N("consecutive failures");
static const struct i18n_text label_code = I18N("live code expires at");
static const struct i18n_text label_password = I18N("password set");
static const struct i18n_text label_entry = I18N("directory entry");
static const struct i18n_text label_cached = I18N("from the cache, read at");
static const struct i18n_text word_never = I18N("never");
static const struct i18n_text word_none = I18N("none");
static const struct i18n_text word_unknown = I18N("unknown");
static const struct i18n_text word_yes = I18N("yes");
static const struct i18n_text word_no = I18N("no");
static const struct i18n_text why_pending[] = {
	[PENDING_NONE] = { .en = "" },   /* nothing to add, in any language */
	[PENDING_NEVER] = I18N(" (never signed in)"),
	[PENDING_DORMANT] = I18N(" (dormant since the cutover)"),
	[PENDING_RESET] = I18N(" (reset by an administrator)"),
};
static const struct i18n_text locked_until = I18N(" (until %s)");
static const struct i18n_text label_locked_from = I18N("locked from");
static const struct i18n_text label_failures_from = I18N("failures from");
static const struct i18n_text lock_until = I18N("%s until %s (%u failures in a row)");
static const struct i18n_text lock_none = I18N("%s (%u failures in a row)");
static const struct i18n_text locked_for_good = I18N(
	" (until unlocked: portalctl user unlock)");

/* user list */
static const struct i18n_text col_user = I18N("USER");
static const struct i18n_text col_email = I18N("EMAIL");
static const struct i18n_text col_state = I18N("STATE");
static const struct i18n_text col_last = I18N("LAST SIGN-IN");

/* Send a request about one user; on success say `done` about them. */
static int user_request(struct ctl *c, uint8_t type, const char *user, const char *email,
			const struct i18n_text *done)
{
	if (!ctl_check_user(c, user, NULL) || (email && !ctl_check_email(c, user, email, NULL)))
		return CTL_FAIL;
	if (ctl_connect(c) != CTL_OK)
		return CTL_FAIL;
	proto_begin(&c->req, type);
	proto_put_str(&c->req, TAG_USER, user);
	if (email)
		proto_put_str(&c->req, TAG_EMAIL, email);
	if (ctl_call(c) < 0)
		return CTL_FAIL;
	if (client_result(&c->resp) != RESULT_OK) {
		ctl_refused(c, &c->resp, user, NULL);
		return CTL_FAIL;
	}
	if (done)
		ctl_say(c, stdout, done, user, email);
	return CTL_OK;
}

int ctl_user_add(struct ctl *c, int argc, char **argv)
{
	(void)argc;
	if (!ctl_members_local(c))
		return CTL_FAIL;
	return user_request(c, REQ_USER_ADD, argv[0], argv[1], &msg_added);
}

int ctl_user_del(struct ctl *c, int argc, char **argv)
{
	(void)argc;
	if (!ctl_members_local(c))
		return CTL_FAIL;
	return user_request(c, REQ_USER_DEL, argv[0], NULL, &msg_deleted);
}

int ctl_user_reset(struct ctl *c, int argc, char **argv)
{
	(void)argc;
	return user_request(c, REQ_USER_RESET, argv[0], NULL, &msg_reset);
}

int ctl_user_unlock(struct ctl *c, int argc, char **argv)
{
	(void)argc;
	return user_request(c, REQ_USER_UNLOCK, argv[0], NULL, &msg_unlocked);
}

/* A time field of c->entry: local time, or `zero` when 0 or absent. */
static void entry_time(const struct ctl *c, uint8_t tag, const struct i18n_text *zero,
		       char *out, size_t cap)
{
	uint64_t t = 0;

	if (proto_get_u64(&c->entry, tag, &t) && t != 0)
		ctl_time(t, out, cap);
	else
		snprintf(out, cap, "%s", ctl_text(c, zero));
}

/* "pending (never signed in)", "locked (until 2024-05-01 10:15)", "active" */
static void entry_state(const struct ctl *c, char *out, size_t cap)
{
	uint32_t state = STATE_UNMANAGED, reason = PENDING_NONE;
	uint64_t until;
	char when[CTL_TIME_MAX];
	size_t n;

	proto_get_u32(&c->entry, TAG_STATE, &state);
	n = (size_t)snprintf(out, cap, "%s", proto_state_name(state));
	if (n >= cap)
		return;
	if (state == STATE_PENDING && proto_get_u32(&c->entry, TAG_REASON, &reason) &&
	    reason < sizeof why_pending / sizeof why_pending[0]) {
		snprintf(out + n, cap - n, "%s", ctl_text(c, &why_pending[reason]));
	} else if (state == STATE_LOCKED && proto_get_u64(&c->entry, TAG_UNTIL, &until)) {
		if (until == 0) {
			snprintf(out + n, cap - n, "%s", ctl_text(c, &locked_for_good));
		} else {
			ctl_time(until, when, sizeof when);
			ctl_format(c, out + n, cap - n, &locked_until, when);
		}
	}
}

/* The rows of user show, each a label and its value. */
#define SHOW_FIXED 8
#define SHOW_ROWS  (SHOW_FIXED + 16)   /* portald keeps 16 sources a member */
#define SHOW_DIR   18   /* directory = ldap: the entry, 16 more addresses, when read */
struct show {
	const char *label[SHOW_ROWS + SHOW_DIR], *value[SHOW_ROWS + SHOW_DIR];
	char locks[SHOW_ROWS - SHOW_FIXED][PORTAL_SOURCE_MAX + 96];
	char dir[SHOW_DIR][520];
	unsigned n;
};

/* One row for each source of c->entry's TAG_LOCKs: where failures came
 * from, how many in a row, and the lock in force from there. */
static void lock_rows(const struct ctl *c, struct show *sh)
{
	char source[PORTAL_SOURCE_MAX + 1], when[CTL_TIME_MAX];
	struct proto_msg lock;

	for (size_t i = 0; i < c->entry.nfields && sh->n < SHOW_ROWS; i++) {
		const struct proto_field *f = &c->entry.f[i];
		char *cell = sh->locks[sh->n - SHOW_FIXED];
		uint64_t until = 0;
		uint32_t n = 0;

		if (f->tag != TAG_LOCK || !proto_parse_body(f->data, f->len, &lock) ||
		    !proto_get_str(&lock, TAG_SOURCE, source, sizeof source))
			continue;
		table_safe(source, source, sizeof source);
		proto_get_u64(&lock, TAG_UNTIL, &until);
		proto_get_u32(&lock, TAG_FAILURES, &n);
		if (until) {
			ctl_time(until, when, sizeof when);
			ctl_format(c, cell, sizeof sh->locks[0], &lock_until, source, when, n);
		} else {
			ctl_format(c, cell, sizeof sh->locks[0], &lock_none, source, n);
		}
		sh->label[sh->n] = ctl_text(c, until ? &label_locked_from : &label_failures_from);
		sh->value[sh->n++] = cell;
	}
}

/* The directory's rows of user show (directory = ldap), after the others:
 * the entry, the other addresses, and when an answer served from the
 * cache was read. */
static void directory_rows(const struct ctl *c, struct show *sh)
{
	unsigned d = 0, nmail = 0;
	uint64_t t;

	for (size_t i = 0; i < c->entry.nfields && d + 1 < SHOW_DIR; i++) {
		const struct proto_field *f = &c->entry.f[i];
		size_t len = f->len < sizeof sh->dir[0] - 1 ? f->len : sizeof sh->dir[0] - 1;

		if (f->tag != TAG_DN && (f->tag != TAG_EMAIL || nmail++ == 0))
			continue;
		memcpy(sh->dir[d], f->data, len);
		sh->dir[d][len] = '\0';
		table_safe(sh->dir[d], sh->dir[d], sizeof sh->dir[d]);
		sh->label[sh->n] = ctl_text(c, f->tag == TAG_DN ? &label_entry : &label_email);
		sh->value[sh->n++] = sh->dir[d++];
	}
	if (proto_get_u64(&c->entry, TAG_TIME, &t)) {
		ctl_time(t, sh->dir[d], sizeof sh->dir[d]);
		sh->label[sh->n] = ctl_text(c, &label_cached);
		sh->value[sh->n++] = sh->dir[d];
	}
}

int ctl_user_show(struct ctl *c, int argc, char **argv)
{
	char user[PORTAL_USER_MAX + 1], email[PORTAL_EMAIL_MAX + 1], state[128];
	char created[CTL_TIME_MAX], last[CTL_TIME_MAX], code[CTL_TIME_MAX], failures[16];
	const struct proto_field *f;
	uint32_t n = 0, has_password = 0;
	static struct show sh;

	(void)argc;
	if (user_request(c, REQ_USER_SHOW, argv[0], NULL, NULL) != CTL_OK)
		return CTL_FAIL;
	f = proto_find(&c->resp, TAG_ENTRY);
	if (!f)
		return ctl_malformed(c);
	if (!ctl_entry(c, f))
		return CTL_FAIL;
	if (!proto_get_str(&c->entry, TAG_USER, user, sizeof user) ||
	    !proto_get_str(&c->entry, TAG_EMAIL, email, sizeof email))
		return ctl_malformed(c);
	entry_state(c, state, sizeof state);
	entry_time(c, TAG_CREATED, &word_unknown, created, sizeof created);
	entry_time(c, TAG_LAST_SIGNIN, &word_never, last, sizeof last);
	entry_time(c, TAG_CODE_EXPIRES, &word_none, code, sizeof code);
	proto_get_u32(&c->entry, TAG_FAILURES, &n);
	snprintf(failures, sizeof failures, "%u", n);
	proto_get_u32(&c->entry, TAG_HAS_PASSWORD, &has_password);
	table_safe(user, user, sizeof user);
	table_safe(email, email, sizeof email);
	sh = (struct show){
		.label = {
			ctl_text(c, &label_user), ctl_text(c, &label_email),
			ctl_text(c, &label_state), ctl_text(c, &label_created),
			ctl_text(c, &label_last), ctl_text(c, &label_failures),
			ctl_text(c, &label_code), ctl_text(c, &label_password),
		},
		.value = {
			user, email, state, created, last, failures, code,
			ctl_text(c, has_password ? &word_yes : &word_no),
		},
		.n = SHOW_FIXED,
	};
	lock_rows(c, &sh);
	directory_rows(c, &sh);
	table_pairs(stdout, sh.label, sh.value, sh.n);
	return CTL_OK;
}

struct list {
	bool filter;
	enum portal_state state;
	struct table table;
};

static void list_begin(struct ctl *c, void *arg)
{
	const struct list *l = arg;

	proto_begin(&c->req, REQ_USER_LIST);
	if (l->filter)
		proto_put_u32(&c->req, TAG_STATE, l->state);
}

static int list_row(struct ctl *c, void *arg)
{
	struct list *l = arg;
	char user[PORTAL_USER_MAX + 1], email[PORTAL_EMAIL_MAX + 1], last[CTL_TIME_MAX];
	uint32_t state = STATE_UNMANAGED;
	const char *cell[4] = { user, email, NULL, last };

	if (!proto_get_str(&c->entry, TAG_USER, user, sizeof user) ||
	    !proto_get_str(&c->entry, TAG_EMAIL, email, sizeof email))
		return ctl_malformed(c);
	proto_get_u32(&c->entry, TAG_STATE, &state);
	cell[2] = proto_state_name(state);
	entry_time(c, TAG_LAST_SIGNIN, &word_never, last, sizeof last);
	return ctl_table_add(c, &l->table, cell);
}

/* [--state STATE | --state=STATE] */
static int list_options(struct ctl *c, int argc, char **argv, struct list *l)
{
	const char *value;

	if (argc == 0)
		return CTL_OK;
	if (argc == 2 && strcmp(argv[0], "--state") == 0)
		value = argv[1];
	else if (argc == 1 && strncmp(argv[0], "--state=", 8) == 0)
		value = argv[0] + 8;
	else
		return ctl_usage(c, &msg_list_usage);
	if (!proto_state_parse(value, &l->state))
		return ctl_usage(c, &msg_bad_state, value);
	l->filter = true;
	return CTL_OK;
}

int ctl_user_list(struct ctl *c, int argc, char **argv)
{
	const char *header[] = {
		ctl_text(c, &col_user), ctl_text(c, &col_email),
		ctl_text(c, &col_state), ctl_text(c, &col_last),
	};
	struct list l = { .filter = false };
	int rc = list_options(c, argc, argv, &l);

	if (rc != CTL_OK)
		return rc;
	if (ctl_connect(c) != CTL_OK)
		return CTL_FAIL;
	table_init(&l.table, header, 4);
	rc = ctl_pages(c, list_begin, list_row, &l);
	/* portald walks its database in hash order; people read names sorted */
	table_sort(&l.table);
	if (rc == CTL_OK && l.table.nrows > 0)
		table_print(&l.table, header, stdout);
	else if (rc == CTL_OK && l.filter)
		ctl_say(c, stderr, &msg_no_users_in, proto_state_name(l.state));
	else if (rc == CTL_OK)
		ctl_say(c, stderr, &msg_no_users);
	table_free(&l.table);
	return rc;
}
