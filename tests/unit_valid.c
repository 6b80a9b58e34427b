/* unit_valid.c - user names and addresses: what portald accepts, and the
 * address comparison that decides whether a code is mailed. */
#include <string.h>
#include "check.h"
#include "proto.h"
#include "valid.h"

static void users(void)
{
	char longest[PORTAL_USER_MAX + 2];

	CHECK("plain user name", valid_user("alice"));
	CHECK("one letter", valid_user("a"));
	CHECK("dots, dashes, underscores, digits", valid_user("a.b-c_d9"));
	memset(longest, 'x', PORTAL_USER_MAX);
	longest[PORTAL_USER_MAX] = '\0';
	CHECK("user name of the maximum length", valid_user(longest));
	longest[PORTAL_USER_MAX] = 'x';
	longest[PORTAL_USER_MAX + 1] = '\0';
	CHECK("user name one byte too long refused", !valid_user(longest));
	CHECK("empty user name refused", !valid_user(""));
	CHECK("leading dash refused (option injection)", !valid_user("-rf"));
	CHECK("leading dot refused", !valid_user(".hidden"));
	CHECK("space refused", !valid_user("al ice"));
	CHECK("newline refused", !valid_user("alice\nroot"));
	CHECK("slash refused", !valid_user("a/b"));
	CHECK("at sign refused", !valid_user("a@b"));
	CHECK("non-ASCII refused", !valid_user("h\xc3\xa9l\xc3\xa8ne"));
}

static void addresses(void)
{
	char big[PORTAL_EMAIL_MAX + 8];

	CHECK("plain address", valid_email("alice@example.org"));
	CHECK("dotted local part with plus tag", valid_email("a.b+tag@sub.example.org"));
	CHECK("apostrophe in local part", valid_email("o'brien@example.org"));
	CHECK("single-label domain", valid_email("root@localhost"));
	CHECK("hyphen inside a label", valid_email("x@my-host.example"));
	CHECK("empty refused", !valid_email(""));
	CHECK("no at sign refused", !valid_email("alice"));
	CHECK("empty local part refused", !valid_email("@example.org"));
	CHECK("empty domain refused", !valid_email("alice@"));
	CHECK("two at signs refused", !valid_email("a@b@example.org"));
	CHECK("double dot in local part refused", !valid_email("a..b@example.org"));
	CHECK("leading dot in local part refused", !valid_email(".a@example.org"));
	CHECK("trailing dot in local part refused", !valid_email("a.@example.org"));
	CHECK("space refused", !valid_email("a b@example.org"));
	CHECK("double quote refused", !valid_email("\"a\"@example.org"));
	CHECK("angle brackets refused", !valid_email("<a@example.org>"));
	CHECK("comma refused", !valid_email("a,b@example.org"));
	CHECK("semicolon refused", !valid_email("a;b@example.org"));
	CHECK("header injection refused", !valid_email("a@example.org\r\nBcc: b@evil.example"));
	CHECK("tab refused", !valid_email("a\t@example.org"));
	CHECK("double dot in domain refused", !valid_email("a@example..org"));
	CHECK("label starting with hyphen refused", !valid_email("a@-example.org"));
	CHECK("label ending with hyphen refused", !valid_email("a@example-.org"));
	CHECK("trailing dot in domain refused", !valid_email("a@example.org."));
	CHECK("underscore in domain refused", !valid_email("a@ex_ample.org"));
	CHECK("address literal refused", !valid_email("a@[127.0.0.1]"));

	/* 64-byte local part, domain filling the rest to exactly 254 bytes */
	memset(big, 'l', 64);
	big[64] = '@';
	for (size_t i = 65; i < PORTAL_EMAIL_MAX; i++)
		big[i] = (i - 65) % 50 == 49 ? '.' : 'd';
	big[PORTAL_EMAIL_MAX] = '\0';
	CHECK("address of exactly 254 bytes", valid_email(big));
	big[PORTAL_EMAIL_MAX] = 'd';
	big[PORTAL_EMAIL_MAX + 1] = '\0';
	CHECK("address of 255 bytes refused", !valid_email(big));
	memset(big, 'l', 65);
	strcpy(big + 65, "@example.org");
	CHECK("local part of 65 bytes refused", !valid_email(big));
	memset(big, 'd', 64);
	strcpy(big, "a@");
	memset(big + 2, 'd', 64);
	strcpy(big + 66, ".org");
	CHECK("domain label of 64 bytes refused", !valid_email(big));
}

static void equality(void)
{
	CHECK("same address equal", email_equal("alice@example.org", "alice@example.org"));
	CHECK("case ignored", email_equal("Alice@Example.ORG", "alice@example.org"));
	CHECK("other address differs", !email_equal("alice@example.org", "alicf@example.org"));
	CHECK("prefix differs", !email_equal("alice@example.org", "alice@example.org.uk"));
	CHECK("longer first argument differs", !email_equal("alice@example.org.uk", "alice@example.org"));
	CHECK("empty against address differs", !email_equal("", "alice@example.org"));
	CHECK("case folding only for letters", !email_equal("a@b.org", "a`b.org") &&
	      !email_equal("a[b.org", "a{b.org"));
}

int main(void)
{
	users();
	addresses();
	equality();
	return check_done();
}
