/*
 * ctl_daemon.c - `portalctl outbox` and `portalctl status`: what portald
 * itself is doing, rather than one user.
 */
#include <string.h>
#include "client.h"
#include "ctl.h"
#include "ctl_table.h"

static const struct i18n_text msg_empty_outbox = I18N(
	"The outbox is empty.\n");
static const struct i18n_text col_id = I18N("ID");
static const struct i18n_text col_user = I18N("USER");
/* TRANSLATORS: column heads of `portalctl outbox`: TO is the recipient. */
static const struct i18n_text col_to = I18N("TO");
static const struct i18n_text col_status = I18N("STATUS");
static const struct i18n_text col_attempts = I18N("ATTEMPTS");
static const struct i18n_text col_when = I18N("WHEN");

static const struct i18n_text label_version = I18N("portald version");
static const struct i18n_text label_uptime = I18N("uptime");
static const struct i18n_text label_socket = I18N("socket");
static const struct i18n_text label_pending = I18N("pending users");
static const struct i18n_text label_active = I18N("active users");
static const struct i18n_text label_locked = I18N("locked users");
static const struct i18n_text label_mail = I18N("mails waiting");
static const struct i18n_text label_outbox = I18N("outbox");
static const struct i18n_text msg_outbox_full = I18N(
	"The outbox is full (outbox_max): password notices and lock mails are not queued "
	"until some mail is sent; code mails still are.\n");
static const struct i18n_text word_full = I18N(
	"full (outbox_max): password notices and lock mails are not queued; code mails are");
/* days, hours, minutes, seconds of an uptime */
/* TRANSLATORS: days, abbreviated, in an uptime: "3 d 4 h 5 min". */
static const struct i18n_text unit_day = I18N("d");

static void outbox_begin(struct ctl *c, void *arg)
{
	(void)arg;
	proto_begin(&c->req, REQ_OUTBOX);
}

/* A string field of c->entry, "-" when absent. */
static void entry_str(const struct ctl *c, uint8_t tag, char *out, size_t cap)
{
	if (!proto_get_str(&c->entry, tag, out, cap))
		snprintf(out, cap, "-");
}

static int outbox_row(struct ctl *c, void *arg)
{
	char id[64], user[PORTAL_USER_MAX + 1], to[PORTAL_EMAIL_MAX + 1], status[192];
	char attempts[16] = "-", when[CTL_TIME_MAX] = "-";
	const char *cell[] = { id, user, to, status, attempts, when };
	uint32_t n;
	uint64_t t;

	entry_str(c, TAG_ID, id, sizeof id);
	entry_str(c, TAG_USER, user, sizeof user);
	entry_str(c, TAG_EMAIL, to, sizeof to);
	entry_str(c, TAG_DETAIL, status, sizeof status);
	if (proto_get_u32(&c->entry, TAG_ATTEMPTS, &n))
		snprintf(attempts, sizeof attempts, "%u", n);
	if (proto_get_u64(&c->entry, TAG_TIME, &t) && t != 0)
		ctl_time(t, when, sizeof when);
	return ctl_table_add(c, arg, cell);
}

/* The first page of the listing says whether the outbox is full; the
 * table has been printed since, but its answer is the last one read only
 * when there was a single page: ask again, it is cheap. */
static bool outbox_was_full(struct ctl *c)
{
	proto_begin(&c->req, REQ_OUTBOX);
	return ctl_call(c) >= 0 && client_result(&c->resp) == RESULT_OK &&
	       proto_find(&c->resp, TAG_DETAIL) != NULL;
}

int ctl_outbox(struct ctl *c, int argc, char **argv)
{
	const char *header[] = {
		ctl_text(c, &col_id), ctl_text(c, &col_user), ctl_text(c, &col_to),
		ctl_text(c, &col_status), ctl_text(c, &col_attempts), ctl_text(c, &col_when),
	};
	struct table t;
	int rc;

	(void)argc;
	(void)argv;
	if (ctl_connect(c) != CTL_OK)
		return CTL_FAIL;
	table_init(&t, header, sizeof header / sizeof header[0]);
	rc = ctl_pages(c, outbox_begin, outbox_row, &t);
	if (rc == CTL_OK && t.nrows > 0)
		table_print(&t, header, stdout);
	else if (rc == CTL_OK)
		ctl_say(c, stderr, &msg_empty_outbox);
	table_free(&t);
	if (rc == CTL_OK && outbox_was_full(c))
		ctl_say(c, stdout, &msg_outbox_full);
	return rc;
}

/* "3 d 4 h 5 min", "42 s": an uptime is read at a glance, not computed. */
static void uptime_text(const struct ctl *c, uint64_t s, char *out, size_t cap)
{
	uint64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;

	if (s < 60)
		snprintf(out, cap, "%llu s", (unsigned long long)s);
	else if (d > 0)
		snprintf(out, cap, "%llu %s %llu h %llu min", (unsigned long long)d,
			 ctl_text(c, &unit_day), (unsigned long long)h, (unsigned long long)m);
	else if (h > 0)
		snprintf(out, cap, "%llu h %llu min", (unsigned long long)h, (unsigned long long)m);
	else
		snprintf(out, cap, "%llu min", (unsigned long long)m);
}

static void count_text(const struct ctl *c, uint8_t tag, char *out, size_t cap)
{
	uint64_t n;

	if (proto_get_u64(&c->resp, tag, &n))
		snprintf(out, cap, "%llu", (unsigned long long)n);
	else
		snprintf(out, cap, "?");
}

int ctl_status(struct ctl *c, int argc, char **argv)
{
	char version[64], uptime[64], pending[24], active[24], locked[24], mail[24];
	bool full;
	uint64_t up;

	(void)argc;
	(void)argv;
	if (ctl_connect(c) != CTL_OK)
		return CTL_FAIL;
	proto_begin(&c->req, REQ_DAEMON_STATUS);
	if (ctl_call(c) < 0)
		return CTL_FAIL;
	if (client_result(&c->resp) != RESULT_OK) {
		ctl_refused(c, &c->resp, NULL, NULL);
		return CTL_FAIL;
	}
	if (!proto_get_str(&c->resp, TAG_VERSION, version, sizeof version) ||
	    !proto_get_u64(&c->resp, TAG_UPTIME, &up))
		return ctl_malformed(c);
	table_safe(version, version, sizeof version);
	uptime_text(c, up, uptime, sizeof uptime);
	count_text(c, TAG_COUNT_PENDING, pending, sizeof pending);
	count_text(c, TAG_COUNT_ACTIVE, active, sizeof active);
	count_text(c, TAG_COUNT_LOCKED, locked, sizeof locked);
	count_text(c, TAG_COUNT_OUTBOX, mail, sizeof mail);
	full = proto_find(&c->resp, TAG_DETAIL) != NULL;
	{
		static char dirbuf[4][320];
		const char *label[8 + 4] = {
			ctl_text(c, &label_version), ctl_text(c, &label_uptime),
			ctl_text(c, &label_socket), ctl_text(c, &label_pending),
			ctl_text(c, &label_active), ctl_text(c, &label_locked),
			ctl_text(c, &label_mail), ctl_text(c, &label_outbox),
		};
		const char *value[8 + 4] = {
			version, uptime, c->cfg.socket, pending, active, locked, mail,
			ctl_text(c, &word_full),
		};
		/* the outbox's row only when it is full, then the directory's */
		unsigned n = 7 + full;

		n += ctl_directory_health(c, label + n, value + n, dirbuf);
		table_pairs(stdout, label, value, n);
	}
	return CTL_OK;
}
