/*
 * ctl_directory.c - portalctl and the members' directory: `portalctl
 * directory lookup USER` (how a name is looked up: the filter sent, the
 * entries found, the addresses), the refusal of the commands that would
 * change members while the directory holds them, and the directory's
 * lines of `portalctl status`.
 */
#include <string.h>
#include "client.h"
#include "ctl.h"
#include "ctl_table.h"

/* TRANSLATORS: a message that is already in the right language. */
static const struct i18n_text msg_as_is = I18N("%s");
static const struct i18n_text msg_from_directory = I18N(
	"the members come from the directory (directory = ldap in %s): add, remove and "
	"change them there; portalctl only shows them (user list, user show, directory lookup)");
static const struct i18n_text label_user = I18N("user");
static const struct i18n_text label_directory = I18N("directory");
static const struct i18n_text label_filter = I18N("filter sent");
static const struct i18n_text label_result = I18N("result");
static const struct i18n_text label_entry = I18N("entry");
static const struct i18n_text label_email = I18N("e-mail");
static const struct i18n_text label_detail = I18N("note");
static const struct i18n_text label_since = I18N("since");
static const struct i18n_text label_cached = I18N("answers cached");
static const struct i18n_text word_local = I18N("local (the members added with portalctl)");
static const struct i18n_text res_managed = I18N("managed (exactly one entry)");
static const struct i18n_text res_not_managed = I18N(
	"not managed (no entry with this name matches the filter: the module ignores this "
	"user)");
static const struct i18n_text res_ambiguous = I18N(
	"refused: %llu entries have this name (the module refuses the user until only one has)");
static const struct i18n_text res_unavailable = I18N(
	"the directory cannot be reached (the module refuses the user)");
static const struct i18n_text health_ok = I18N("reachable (%s)");
static const struct i18n_text health_down = I18N(
	"UNREACHABLE: sign-ins of members are served from the cache, then refused");

bool ctl_members_local(struct ctl *c)
{
	char err[512];

	if (config_load(c->config_path, &c->cfg, err, sizeof err) < 0) {
		ctl_fail(c, NULL, &msg_as_is, err);
		return false;
	}
	if (c->cfg.ldap.directory == DIRECTORY_LOCAL)
		return true;
	ctl_fail(c, NULL, &msg_from_directory, c->config_path);
	return false;
}

/* The result line of a look-up. */
static void lookup_result(const struct ctl *c, enum proto_result r, char *out, size_t cap)
{
	uint64_t n = 0;

	proto_get_u64(&c->resp, TAG_COUNT, &n);
	if (r == RESULT_OK)
		snprintf(out, cap, "%s", ctl_text(c, &res_managed));
	else if (r == RESULT_NOT_FOUND)
		snprintf(out, cap, "%s", ctl_text(c, &res_not_managed));
	else if (r == RESULT_AMBIGUOUS)
		ctl_format(c, out, cap, &res_ambiguous, (unsigned long long)n);
	else
		snprintf(out, cap, "%s", ctl_text(c, &res_unavailable));
}

#define LOOKUP_ROWS (6 + 2 * 16)

/* Every field of c->resp with this tag, as rows of label. */
static void rows_of(const struct ctl *c, uint8_t tag, const struct i18n_text *label,
		    const char *lab[], const char *val[], char (*buf)[520], unsigned *n)
{
	for (size_t i = 0; i < c->resp.nfields && *n < LOOKUP_ROWS; i++) {
		const struct proto_field *f = &c->resp.f[i];
		size_t len = f->len < 519 ? f->len : 519;

		if (f->tag != tag)
			continue;
		memcpy(buf[*n], f->data, len);
		buf[*n][len] = '\0';
		table_safe(buf[*n], buf[*n], 520);
		lab[*n] = ctl_text(c, label);
		val[*n] = buf[*n];
		(*n)++;
	}
}

int ctl_directory_lookup(struct ctl *c, int argc, char **argv)
{
	static char buf[LOOKUP_ROWS][520];
	const char *lab[LOOKUP_ROWS], *val[LOOKUP_ROWS];
	enum proto_result r;
	unsigned n = 0;

	(void)argc;
	if (!ctl_check_user(c, argv[0], NULL) || ctl_connect(c) != CTL_OK)
		return CTL_FAIL;
	proto_begin(&c->req, REQ_DIRECTORY_LOOKUP);
	proto_put_str(&c->req, TAG_USER, argv[0]);
	if (ctl_call(c) < 0)
		return CTL_FAIL;
	r = client_result(&c->resp);
	if (r != RESULT_OK && r != RESULT_NOT_FOUND && r != RESULT_AMBIGUOUS &&
	    r != RESULT_UNAVAILABLE) {
		ctl_refused(c, &c->resp, argv[0], NULL);
		return CTL_FAIL;
	}
	lab[n] = ctl_text(c, &label_user);
	val[n++] = argv[0];
	lab[n] = ctl_text(c, &label_directory);
	val[n++] = c->cfg.ldap.directory == DIRECTORY_LDAP ? "ldap" : ctl_text(c, &word_local);
	rows_of(c, TAG_FILTER, &label_filter, lab, val, buf, &n);
	lookup_result(c, r, buf[n], sizeof buf[n]);
	lab[n] = ctl_text(c, &label_result);
	val[n] = buf[n];
	n++;
	rows_of(c, TAG_DN, &label_entry, lab, val, buf, &n);
	rows_of(c, TAG_EMAIL, &label_email, lab, val, buf, &n);
	rows_of(c, TAG_DETAIL, &label_detail, lab, val, buf, &n);
	table_pairs(stdout, lab, val, n);
	return r == RESULT_UNAVAILABLE ? CTL_FAIL : CTL_OK;
}

unsigned ctl_directory_health(struct ctl *c, const char *lab[], const char *val[],
			      char (*buf)[320])
{
	const struct proto_field *f = proto_find(&c->resp, TAG_ENTRY);
	uint32_t result = RESULT_OK;
	uint64_t since = 0, cached = 0;
	char host[256] = "", detail[256] = "", when[CTL_TIME_MAX];
	unsigned n = 0;

	if (!f || !proto_parse_body(f->data, f->len, &c->entry))
		return 0;
	proto_get_u32(&c->entry, TAG_RESULT, &result);
	proto_get_u64(&c->entry, TAG_TIME, &since);
	proto_get_u64(&c->entry, TAG_COUNT, &cached);
	proto_get_str(&c->entry, TAG_HOST, host, sizeof host);
	proto_get_str(&c->entry, TAG_DETAIL, detail, sizeof detail);
	table_safe(host, host, sizeof host);
	table_safe(detail, detail, sizeof detail);
	if (result == RESULT_OK)
		ctl_format(c, buf[n], 320, &health_ok, host[0] ? host : "-");
	else
		snprintf(buf[n], 320, "%s", ctl_text(c, &health_down));
	lab[n] = ctl_text(c, &label_directory);
	val[n] = buf[n];
	n++;
	if (result != RESULT_OK && detail[0]) {
		snprintf(buf[n], 320, "%s", detail);
		lab[n] = ctl_text(c, &label_detail);
		val[n] = buf[n];
		n++;
	}
	ctl_time(since, when, sizeof when);
	snprintf(buf[n], 320, "%s", since ? when : "-");
	lab[n] = ctl_text(c, &label_since);
	val[n] = buf[n];
	n++;
	snprintf(buf[n], 320, "%llu", (unsigned long long)cached);
	lab[n] = ctl_text(c, &label_cached);
	val[n] = buf[n];
	return n + 1;
}
